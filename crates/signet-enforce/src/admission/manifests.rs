//! `signet admission manifests`: the `ValidatingWebhookConfiguration` and
//! `MutatingWebhookConfiguration` that register the webhook.
//!
//! Both match every covered kind on CREATE and UPDATE (including the
//! `pods/ephemeralcontainers` subresource), with `matchPolicy: Equivalent`
//! (other API versions of the same kinds are converted and sent too),
//! `sideEffects: None`, `admissionReviewVersions: [v1]`, the given
//! `timeoutSeconds`, a `failurePolicy` matching the webhook's fail-open or
//! fail-closed mode, and a `namespaceSelector` that leaves out
//! `kube-system` and the webhook's own namespace (so the webhook can always
//! be restarted). The mutating one has `reinvocationPolicy: IfNeeded`.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::admission::FailureMode;
use crate::admission::images::COVERED;

/// What the configurations say.
#[derive(Debug, Clone)]
pub struct ManifestOptions {
    /// The configurations' and the Service's name.
    pub name: String,
    /// The webhook's namespace (left out of the check).
    pub namespace: String,
    /// The Service's port.
    pub port: u16,
    /// Call this `https://` URL instead of the Service.
    pub url: Option<String>,
    /// PEM of the CA (or self-signed certificate) the serving certificate
    /// chains to.
    pub ca_bundle_pem: Vec<u8>,
    /// Fail-open (`Ignore`) or fail-closed (`Fail`).
    pub failure_mode: FailureMode,
    /// `timeoutSeconds`, 1 to 30.
    pub timeout_seconds: u64,
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Both configurations as one YAML stream.
pub fn render(options: &ManifestOptions) -> Result<String, String> {
    if !is_dns_label(&options.name) {
        return Err(format!("--name {:?}: not a DNS label", options.name));
    }
    if !is_dns_label(&options.namespace) {
        return Err(format!(
            "--namespace {:?}: not a DNS label",
            options.namespace
        ));
    }
    if !(1..=30).contains(&options.timeout_seconds) {
        return Err(format!(
            "--timeout-seconds {}: the API server accepts 1 to 30",
            options.timeout_seconds
        ));
    }
    if let Some(url) = &options.url
        && (!url.starts_with("https://") || url.contains(['\n', '"', '#', ' ']))
    {
        return Err(format!("--url {url:?}: must be an https:// URL"));
    }
    let pem = String::from_utf8_lossy(&options.ca_bundle_pem);
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err("the CA bundle holds no PEM certificate".into());
    }
    let ca_bundle = B64.encode(&options.ca_bundle_pem);
    let failure_policy = match options.failure_mode {
        FailureMode::Closed => "Fail",
        FailureMode::Open => "Ignore",
    };
    let mut out = String::new();
    for (kind, path, verb) in [
        ("ValidatingWebhookConfiguration", "/validate", "validate"),
        ("MutatingWebhookConfiguration", "/mutate", "mutate"),
    ] {
        let _ = writeln!(out, "---");
        let _ = writeln!(out, "apiVersion: admissionregistration.k8s.io/v1");
        let _ = writeln!(out, "kind: {kind}");
        let _ = writeln!(out, "metadata:\n  name: {}", options.name);
        let _ = writeln!(out, "webhooks:");
        let _ = writeln!(
            out,
            "  - name: {verb}.{}.{}.svc",
            options.name, options.namespace
        );
        let _ = writeln!(out, "    admissionReviewVersions: [\"v1\"]");
        let _ = writeln!(out, "    sideEffects: None");
        let _ = writeln!(out, "    matchPolicy: Equivalent");
        let _ = writeln!(
            out,
            "    # {}: an image that cannot be verified in time is {}.",
            options.failure_mode.name(),
            match options.failure_mode {
                FailureMode::Closed => "refused",
                FailureMode::Open => "admitted with a warning",
            }
        );
        let _ = writeln!(out, "    failurePolicy: {failure_policy}");
        let _ = writeln!(out, "    timeoutSeconds: {}", options.timeout_seconds);
        if kind.starts_with("Mutating") {
            let _ = writeln!(out, "    reinvocationPolicy: IfNeeded");
        }
        let _ = writeln!(out, "    clientConfig:");
        match &options.url {
            Some(url) => {
                let base = url.trim_end_matches('/');
                let _ = writeln!(out, "      url: \"{base}{path}\"");
            }
            None => {
                let _ = writeln!(out, "      service:");
                let _ = writeln!(out, "        name: {}", options.name);
                let _ = writeln!(out, "        namespace: {}", options.namespace);
                let _ = writeln!(out, "        path: {path}");
                let _ = writeln!(out, "        port: {}", options.port);
            }
        }
        let _ = writeln!(out, "      caBundle: {ca_bundle}");
        let _ = writeln!(out, "    namespaceSelector:");
        let _ = writeln!(out, "      matchExpressions:");
        let _ = writeln!(out, "        - key: kubernetes.io/metadata.name");
        let _ = writeln!(out, "          operator: NotIn");
        let _ = writeln!(
            out,
            "          values: [\"kube-system\", \"{}\"]",
            options.namespace
        );
        let _ = writeln!(out, "    rules:");
        let mut groups: Vec<(&str, &str)> = Vec::new();
        for (group, version, _, _) in COVERED {
            if !groups.contains(&(group, version)) {
                groups.push((group, version));
            }
        }
        for (group, version) in groups {
            let resources: Vec<String> = COVERED
                .iter()
                .filter(|(g, v, _, _)| *g == group && *v == version)
                .map(|(_, _, r, _)| format!("\"{r}\""))
                .collect();
            let _ = writeln!(out, "      - apiGroups: [\"{group}\"]");
            let _ = writeln!(out, "        apiVersions: [\"{version}\"]");
            let _ = writeln!(out, "        operations: [\"CREATE\", \"UPDATE\"]");
            let _ = writeln!(out, "        resources: [{}]", resources.join(", "));
            let _ = writeln!(out, "        scope: \"Namespaced\"");
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> ManifestOptions {
        ManifestOptions {
            name: "signet-admission".into(),
            namespace: "signet-system".into(),
            port: 443,
            url: None,
            ca_bundle_pem: b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
                .to_vec(),
            failure_mode: FailureMode::Closed,
            timeout_seconds: 10,
        }
    }

    #[test]
    fn both_configurations_with_every_rule() {
        let yaml = render(&options()).unwrap();
        for needle in [
            "kind: ValidatingWebhookConfiguration",
            "kind: MutatingWebhookConfiguration",
            "matchPolicy: Equivalent",
            "sideEffects: None",
            "failurePolicy: Fail",
            "timeoutSeconds: 10",
            "reinvocationPolicy: IfNeeded",
            "\"pods/ephemeralcontainers\"",
            "\"deployments\", \"replicasets\", \"statefulsets\", \"daemonsets\"",
            "\"jobs\", \"cronjobs\"",
            "\"replicationcontrollers\", \"podtemplates\"",
            "values: [\"kube-system\", \"signet-system\"]",
            "path: /validate",
            "path: /mutate",
        ] {
            assert!(yaml.contains(needle), "missing {needle}:\n{yaml}");
        }
        assert_eq!(yaml.matches("reinvocationPolicy").count(), 1);
        let open = render(&ManifestOptions {
            failure_mode: FailureMode::Open,
            url: Some("https://hook.example:8443".into()),
            ..options()
        })
        .unwrap();
        assert!(open.contains("failurePolicy: Ignore"));
        assert!(open.contains("url: \"https://hook.example:8443/mutate\""));
    }

    #[test]
    fn bad_options_are_refused() {
        assert!(
            render(&ManifestOptions {
                timeout_seconds: 31,
                ..options()
            })
            .is_err()
        );
        assert!(
            render(&ManifestOptions {
                name: "Bad_Name".into(),
                ..options()
            })
            .is_err()
        );
        assert!(
            render(&ManifestOptions {
                ca_bundle_pem: b"x".to_vec(),
                ..options()
            })
            .is_err()
        );
        assert!(
            render(&ManifestOptions {
                url: Some("http://x".into()),
                ..options()
            })
            .is_err()
        );
    }
}
