//! Where images live in each covered kind, as JSON Pointer paths.
//!
//! | kind | pod spec at |
//! |---|---|
//! | Pod | `/spec` |
//! | Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, ReplicationController | `/spec/template/spec` |
//! | CronJob | `/spec/jobTemplate/spec/template/spec` |
//! | PodTemplate | `/template/spec` |
//! | EphemeralContainers (`pods/ephemeralcontainers` before 1.22) | `/ephemeralContainers` at the top |
//!
//! In each pod spec: `containers`, `initContainers`, `ephemeralContainers`.

use std::collections::BTreeSet;

use crate::admission::review::{Container, PodSpec, WorkloadObject};

/// The kinds the webhook covers, with their resources (for the webhook
/// configuration's rules).
pub const COVERED: &[(&str, &str, &str, &str)] = &[
    // (group, version, resource, kind)
    ("", "v1", "pods", "Pod"),
    ("", "v1", "pods/ephemeralcontainers", "Pod"),
    ("", "v1", "replicationcontrollers", "ReplicationController"),
    ("", "v1", "podtemplates", "PodTemplate"),
    ("apps", "v1", "deployments", "Deployment"),
    ("apps", "v1", "replicasets", "ReplicaSet"),
    ("apps", "v1", "statefulsets", "StatefulSet"),
    ("apps", "v1", "daemonsets", "DaemonSet"),
    ("batch", "v1", "jobs", "Job"),
    ("batch", "v1", "cronjobs", "CronJob"),
];

/// One container's image and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUse {
    /// JSON Pointer to the `image` field (`/spec/containers/0/image`).
    pub path: String,
    /// The image as written.
    pub image: String,
    /// The container's name, for messages.
    pub container: String,
}

fn from_list(prefix: &str, field: &str, list: Option<&Vec<Container>>, out: &mut Vec<ImageUse>) {
    for (i, c) in list.into_iter().flatten().enumerate() {
        if let Some(image) = c.image.as_deref().filter(|i| !i.is_empty()) {
            out.push(ImageUse {
                path: format!("{prefix}/{field}/{i}/image"),
                image: image.to_owned(),
                container: c.name.clone().unwrap_or_default(),
            });
        }
    }
}

fn from_pod_spec(prefix: &str, spec: Option<&PodSpec>, out: &mut Vec<ImageUse>) {
    let Some(spec) = spec else { return };
    from_list(prefix, "containers", spec.containers.as_ref(), out);
    from_list(prefix, "initContainers", spec.init_containers.as_ref(), out);
    from_list(
        prefix,
        "ephemeralContainers",
        spec.ephemeral_containers.as_ref(),
        out,
    );
}

/// Every image of `object`, a `kind`; `None` for a kind not covered.
pub fn image_uses(kind: &str, object: &WorkloadObject) -> Option<Vec<ImageUse>> {
    let mut out = Vec::new();
    let spec = object.spec.as_ref();
    match kind {
        "Pod" => {
            if let Some(s) = spec {
                from_list("/spec", "containers", s.containers.as_ref(), &mut out);
                from_list(
                    "/spec",
                    "initContainers",
                    s.init_containers.as_ref(),
                    &mut out,
                );
                from_list(
                    "/spec",
                    "ephemeralContainers",
                    s.ephemeral_containers.as_ref(),
                    &mut out,
                );
            }
        }
        "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "DaemonSet"
        | "Job"
        | "ReplicationController" => {
            let template = spec.and_then(|s| s.template.as_ref());
            from_pod_spec(
                "/spec/template/spec",
                template.and_then(|t| t.spec.as_ref()),
                &mut out,
            );
        }
        "CronJob" => {
            let template = spec
                .and_then(|s| s.job_template.as_ref())
                .and_then(|j| j.spec.as_ref())
                .and_then(|j| j.template.as_ref());
            from_pod_spec(
                "/spec/jobTemplate/spec/template/spec",
                template.and_then(|t| t.spec.as_ref()),
                &mut out,
            );
        }
        "PodTemplate" => {
            from_pod_spec(
                "/template/spec",
                object.template.as_ref().and_then(|t| t.spec.as_ref()),
                &mut out,
            );
        }
        "EphemeralContainers" => {
            from_list(
                "",
                "ephemeralContainers",
                object.ephemeral_containers.as_ref(),
                &mut out,
            );
        }
        _ => return None,
    }
    Some(out)
}

/// The images of `new` that need checking: all of them on CREATE; on
/// UPDATE only those that `old` does not already run (an image that is
/// already there was admitted when it came).
pub fn changed(new: Vec<ImageUse>, old: Option<&[ImageUse]>) -> Vec<ImageUse> {
    let Some(old) = old else { return new };
    let before: BTreeSet<&str> = old.iter().map(|u| u.image.as_str()).collect();
    new.into_iter()
        .filter(|u| !before.contains(u.image.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(json: serde_json::Value) -> WorkloadObject {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn every_kind_and_list() {
        let pod = object(serde_json::json!({"spec": {
            "containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y"}],
            "initContainers": [{"name": "i", "image": "x:1"}],
            "ephemeralContainers": [{"name": "e", "image": "dbg"}]}}));
        let uses = image_uses("Pod", &pod).unwrap();
        let paths: Vec<&str> = uses.iter().map(|u| u.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/spec/containers/0/image",
                "/spec/containers/1/image",
                "/spec/initContainers/0/image",
                "/spec/ephemeralContainers/0/image"
            ]
        );
        let deploy = object(
            serde_json::json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}}),
        );
        assert_eq!(
            image_uses("StatefulSet", &deploy).unwrap()[0].path,
            "/spec/template/spec/containers/0/image"
        );
        let cron = object(
            serde_json::json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"initContainers": [{"name": "a", "image": "x"}]}}}}}}),
        );
        assert_eq!(
            image_uses("CronJob", &cron).unwrap()[0].path,
            "/spec/jobTemplate/spec/template/spec/initContainers/0/image"
        );
        let template = object(
            serde_json::json!({"template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}),
        );
        assert_eq!(
            image_uses("PodTemplate", &template).unwrap()[0].path,
            "/template/spec/containers/0/image"
        );
        assert!(image_uses("ConfigMap", &template).is_none());
    }

    #[test]
    fn updates_check_only_new_images() {
        let old =
            object(serde_json::json!({"spec": {"containers": [{"name": "a", "image": "x:1"}]}}));
        let new = object(
            serde_json::json!({"spec": {"containers": [{"name": "a", "image": "x:1"}],
            "ephemeralContainers": [{"name": "dbg", "image": "busybox"}]}}),
        );
        let old = image_uses("Pod", &old).unwrap();
        let new = image_uses("Pod", &new).unwrap();
        let changed = changed(new, Some(&old));
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].image, "busybox");
    }
}
