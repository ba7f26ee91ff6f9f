//! `admission.k8s.io/v1` `AdmissionReview`: the parts the webhook reads, and
//! its response.
//!
//! Objects are read into partial types that keep only container names and
//! images (serde skips everything else without building it), so a large
//! object costs its parse, not a JSON tree in memory.

use serde::{Deserialize, Serialize};

/// The review the API server sends.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionReview {
    /// `admission.k8s.io/v1` (or `v1beta1`, same shape).
    pub api_version: String,
    /// `AdmissionReview`.
    pub kind: String,
    /// The request.
    pub request: Option<AdmissionRequest>,
}

/// Group, version and kind.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GroupVersionKind {
    /// API group (empty for the core group).
    #[serde(default)]
    pub group: String,
    /// API version.
    #[serde(default)]
    pub version: String,
    /// Kind.
    #[serde(default)]
    pub kind: String,
}

/// Group, version and resource.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GroupVersionResource {
    /// API group.
    #[serde(default)]
    pub group: String,
    /// API version.
    #[serde(default)]
    pub version: String,
    /// Resource (`pods`, `deployments`).
    #[serde(default)]
    pub resource: String,
}

/// One admission request.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest {
    /// Echoed in the response.
    pub uid: String,
    /// The object's kind.
    pub kind: GroupVersionKind,
    /// The resource.
    #[serde(default)]
    pub resource: GroupVersionResource,
    /// `ephemeralcontainers` for `pods/ephemeralcontainers`.
    #[serde(default)]
    pub sub_resource: Option<String>,
    /// The object's name (may be empty on CREATE with `generateName`).
    #[serde(default)]
    pub name: Option<String>,
    /// The namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: String,
    /// The object after the operation.
    #[serde(default)]
    pub object: Option<WorkloadObject>,
    /// The object before (UPDATE).
    #[serde(default)]
    pub old_object: Option<WorkloadObject>,
    /// Whether this is a dry run (`kubectl --dry-run=server`).
    #[serde(default)]
    pub dry_run: Option<bool>,
}

/// A container: name and image.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Container {
    /// The container's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The image reference.
    #[serde(default)]
    pub image: Option<String>,
}

/// The three container lists of a pod spec.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    /// `containers`.
    #[serde(default)]
    pub containers: Option<Vec<Container>>,
    /// `initContainers`.
    #[serde(default)]
    pub init_containers: Option<Vec<Container>>,
    /// `ephemeralContainers`.
    #[serde(default)]
    pub ephemeral_containers: Option<Vec<Container>>,
}

/// A pod template: `{metadata, spec}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PodTemplateSpec {
    /// The pod spec.
    #[serde(default)]
    pub spec: Option<PodSpec>,
}

/// A job template (CronJob): `{metadata, spec: {template}}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JobTemplateSpec {
    /// The job spec.
    #[serde(default)]
    pub spec: Option<JobSpec>,
}

/// A job spec, down to its pod template.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JobSpec {
    /// The pod template.
    #[serde(default)]
    pub template: Option<PodTemplateSpec>,
}

/// The `spec` of any covered kind: a pod spec's lists (Pod), a pod template
/// (workloads), or a job template (CronJob).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectSpec {
    /// Pod: `containers`.
    #[serde(default)]
    pub containers: Option<Vec<Container>>,
    /// Pod: `initContainers`.
    #[serde(default)]
    pub init_containers: Option<Vec<Container>>,
    /// Pod: `ephemeralContainers`.
    #[serde(default)]
    pub ephemeral_containers: Option<Vec<Container>>,
    /// Workloads: `template`.
    #[serde(default)]
    pub template: Option<PodTemplateSpec>,
    /// CronJob: `jobTemplate`.
    #[serde(default)]
    pub job_template: Option<JobTemplateSpec>,
}

/// Any covered object, partially.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadObject {
    /// `spec` (every kind but PodTemplate).
    #[serde(default)]
    pub spec: Option<ObjectSpec>,
    /// `template` (PodTemplate).
    #[serde(default)]
    pub template: Option<PodTemplateSpec>,
    /// `ephemeralContainers` (the `EphemeralContainers` kind of
    /// `pods/ephemeralcontainers` before Kubernetes 1.22).
    #[serde(default)]
    pub ephemeral_containers: Option<Vec<Container>>,
}

/// The response review.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionReviewResponse {
    /// The request's `apiVersion`.
    pub api_version: String,
    /// `AdmissionReview`.
    pub kind: &'static str,
    /// The response.
    pub response: AdmissionResponse,
}

/// The webhook's answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionResponse {
    /// The request's uid.
    pub uid: String,
    /// Whether the request is admitted.
    pub allowed: bool,
    /// Why not (or why with reservations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Warnings shown to the client (kubectl prints them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// `JSONPatch` when `patch` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<&'static str>,
    /// Base64 of the JSON Patch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
}

/// A `metav1.Status`, as much as admission uses.
#[derive(Debug, Serialize)]
pub struct Status {
    /// HTTP-like code (403 refused, 503 could not decide).
    pub code: u16,
    /// The reason, one line per image.
    pub message: String,
}
