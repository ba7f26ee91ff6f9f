//! `signet admission`: a Kubernetes validating and mutating admission
//! webhook (`admission.k8s.io/v1`).
//!
//! Request flow (`POST /validate` and `POST /mutate`):
//!
//! 1. The body is read up to [`MAX_REVIEW_BYTES`] and parsed into partial
//!    types ([`review`]); malformed input is a 400, which the API server
//!    treats by the webhook's `failurePolicy`.
//! 2. The object's images are found by kind ([`images`]): Pods and every
//!    workload kind, init and ephemeral containers. On UPDATE only images
//!    the old object does not run are checked (ephemeral containers arrive
//!    as an UPDATE of `pods/ephemeralcontainers`).
//! 3. Each distinct image is decided once, concurrently, through the
//!    shared [`Decider`] (same keys and singleflight as the gate), within a
//!    latency budget below the request's timeout.
//! 4. Validating: refused images deny the request (code 403, one line per
//!    image naming image, scope and failed check); warn-mode failures
//!    become `warnings`; images that could not be decided in time deny
//!    (fail closed, code 503) or pass with a warning (fail open), and the
//!    message says which happened.
//! 5. Mutating: the same decision, plus a JSON Patch replacing each checked
//!    `repo:tag` by `repo:tag@<verified digest>`, so the digest that runs is
//!    the digest that was verified. Images that already carry a digest are
//!    left alone, which makes the patch idempotent.

pub mod images;
pub mod manifests;
pub mod review;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::StreamExt;
use futures_util::stream;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use signet_core::Digest;
use signet_oci::Reference;
use signet_policy::{FailedCheck, Outcome};

use crate::decider::Decider;
use crate::error::EnforceError;
use crate::metrics::Metrics;
use crate::serve::{self, Body, ServeLimits, Server};

use self::images::{ImageUse, changed, image_uses};
use self::review::{AdmissionResponse, AdmissionReview, AdmissionReviewResponse, Status};

/// The largest review accepted (an object and its old version, each up to
/// the API server's 3 MiB request limit, plus the envelope).
pub const MAX_REVIEW_BYTES: usize = 8 << 20;
/// Images in one object, at most.
pub const MAX_IMAGES: usize = 256;
/// Distinct images decided at once for one request.
const IMAGE_CONCURRENCY: usize = 16;
/// The longest warning (the API server truncates past 256 characters).
const MAX_WARNING_CHARS: usize = 120;
/// The longest denial message.
const MAX_MESSAGE_CHARS: usize = 2048;

/// What happens to an image that could not be decided within the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureMode {
    /// Refuse the request (the default, `failurePolicy: Fail`).
    Closed,
    /// Admit it with a warning (`failurePolicy: Ignore`).
    Open,
}

impl FailureMode {
    /// `fail-closed` or `fail-open`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Closed => "fail-closed",
            Self::Open => "fail-open",
        }
    }
}

/// Settings of a webhook.
#[derive(Debug, Clone)]
pub struct AdmissionConfig {
    /// What an undecided image does.
    pub failure_mode: FailureMode,
    /// The webhook's `timeoutSeconds`, used when the request names none
    /// (the API server appends `?timeout=10s`).
    pub timeout: Duration,
    /// Connection and shutdown limits.
    pub limits: ServeLimits,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        Self {
            failure_mode: FailureMode::Closed,
            timeout: Duration::from_secs(10),
            limits: ServeLimits::default(),
        }
    }
}

/// The latency budget for a request whose timeout is `timeout`: 80 % of
/// it, and at least 500 ms short of it, never below 100 ms.
pub fn budget(timeout: Duration) -> Duration {
    let fifth = timeout / 5;
    let margin = fifth.max(Duration::from_millis(500));
    timeout
        .saturating_sub(margin)
        .max(Duration::from_millis(100))
}

/// The webhook.
pub struct Webhook {
    decider: Decider,
    config: AdmissionConfig,
    metrics: Metrics,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Which endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/validate`.
    Validate,
    /// `/mutate`.
    Mutate,
}

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            Self::Validate => "validate",
            Self::Mutate => "mutate",
        }
    }
}

/// What became of one distinct image.
#[derive(Debug, Clone)]
enum ImageVerdict {
    /// Admitted; the digest verified, and a warning in warn mode.
    Admit {
        digest: Option<Digest>,
        warning: Option<String>,
    },
    /// Refused by the policy.
    Deny(String),
    /// Not decided (registry trouble, timeout).
    Undecided(String),
}

impl Webhook {
    /// A webhook deciding with `decider`.
    pub fn new(decider: Decider, config: AdmissionConfig) -> Arc<Self> {
        Arc::new(Self {
            decider,
            config,
            metrics: Metrics::new(),
        })
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The decider.
    pub fn decider(&self) -> &Decider {
        &self.decider
    }

    /// Serves the webhook on `listener` until shut down.
    pub fn serve(
        self: &Arc<Self>,
        listener: tokio::net::TcpListener,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> Result<Server, EnforceError> {
        let webhook = Arc::clone(self);
        serve::spawn(
            listener,
            tls,
            self.config.limits.clone(),
            move |req, peer| {
                let webhook = Arc::clone(&webhook);
                async move { webhook.handle(req, peer).await }
            },
        )
    }

    /// Answers one HTTP request.
    pub async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        _peer: SocketAddr,
    ) -> Response<Body> {
        let endpoint = match (req.method(), req.uri().path()) {
            (&Method::POST, "/validate") => Endpoint::Validate,
            (&Method::POST, "/mutate") => Endpoint::Mutate,
            (&Method::GET, "/healthz" | "/readyz") => return plain(StatusCode::OK, "ok\n"),
            (&Method::GET, "/metrics") => return self.render_metrics(),
            (_, "/validate" | "/mutate") => {
                return plain(StatusCode::METHOD_NOT_ALLOWED, "POST an AdmissionReview\n");
            }
            _ => return plain(StatusCode::NOT_FOUND, "not found\n"),
        };
        let timeout = req
            .uri()
            .query()
            .and_then(|q| {
                q.split('&')
                    .find_map(|p| p.strip_prefix("timeout="))
                    .and_then(parse_go_duration)
            })
            .unwrap_or(self.config.timeout);
        let body = match Limited::new(req.into_body(), MAX_REVIEW_BYTES)
            .collect()
            .await
        {
            Ok(c) => c.to_bytes(),
            Err(e) => {
                return plain(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("admission review: {e} (limit {MAX_REVIEW_BYTES} bytes)\n"),
                );
            }
        };
        match self.review(endpoint, &body, timeout).await {
            Ok(json) => {
                let mut response = Response::new(serve::full(json));
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                response
            }
            Err(message) => plain(StatusCode::BAD_REQUEST, &format!("{message}\n")),
        }
    }

    /// Decides one review (the body of a POST) and returns the response
    /// review as JSON; `Err` for a body that is not an admission review.
    pub async fn review(
        &self,
        endpoint: Endpoint,
        body: &[u8],
        timeout: Duration,
    ) -> Result<Vec<u8>, String> {
        let start = Instant::now();
        let review: AdmissionReview =
            serde_json::from_slice(body).map_err(|e| format!("not an AdmissionReview: {e}"))?;
        if review.kind != "AdmissionReview"
            || !matches!(
                review.api_version.as_str(),
                "admission.k8s.io/v1" | "admission.k8s.io/v1beta1"
            )
        {
            return Err(format!(
                "expected an admission.k8s.io/v1 AdmissionReview, got {} {}",
                review.api_version, review.kind
            ));
        }
        let request = review
            .request
            .ok_or_else(|| "the AdmissionReview has no request".to_owned())?;
        let response = self.decide(endpoint, request, budget(timeout)).await;
        let result = if !response.allowed {
            "denied"
        } else if !response.warnings.is_empty() {
            "warned"
        } else {
            "allowed"
        };
        self.metrics.inc(
            "signet_admission_reviews_total",
            "Admission reviews answered, by endpoint and result.",
            &[("endpoint", endpoint.name()), ("result", result)],
        );
        self.metrics.observe(
            "signet_admission_review_duration_seconds",
            "Time to decide an admission review, by endpoint.",
            &[("endpoint", endpoint.name())],
            start.elapsed(),
        );
        serde_json::to_vec(&AdmissionReviewResponse {
            api_version: review.api_version,
            kind: "AdmissionReview",
            response,
        })
        .map_err(|e| format!("cannot write the response: {e}"))
    }

    async fn decide(
        &self,
        endpoint: Endpoint,
        request: review::AdmissionRequest,
        budget: Duration,
    ) -> AdmissionResponse {
        let allow = |uid: String| AdmissionResponse {
            uid,
            allowed: true,
            status: None,
            warnings: Vec::new(),
            patch_type: None,
            patch: None,
        };
        if !matches!(request.operation.as_str(), "CREATE" | "UPDATE") {
            return allow(request.uid);
        }
        let kind = request.kind.kind.as_str();
        let new_uses = request.object.as_ref().and_then(|o| image_uses(kind, o));
        let Some(new_uses) = new_uses else {
            // A kind not covered (or no object): nothing to check here.
            return allow(request.uid);
        };
        let old_uses = match request.operation.as_str() {
            "UPDATE" => request
                .old_object
                .as_ref()
                .and_then(|o| image_uses(kind, o)),
            _ => None,
        };
        let uses = changed(new_uses, old_uses.as_deref());
        if uses.len() > MAX_IMAGES {
            return refuse(
                request.uid,
                403,
                format!(
                    "signet: the object lists {} images, more than the limit of {MAX_IMAGES}",
                    uses.len()
                ),
            );
        }
        let distinct: Vec<String> = uses
            .iter()
            .map(|u| u.image.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let verdicts = self.verdicts(&distinct, budget).await;
        self.answer(endpoint, request.uid, &uses, &verdicts, budget)
    }

    /// Decides each distinct image once, concurrently, within `budget`.
    async fn verdicts(
        &self,
        images: &[String],
        budget: Duration,
    ) -> BTreeMap<String, ImageVerdict> {
        let mut out: BTreeMap<String, ImageVerdict> = BTreeMap::new();
        let decided = stream::iter(images.iter().cloned())
            .map(|image| async move {
                let verdict = self.verdict(&image).await;
                (image, verdict)
            })
            .buffer_unordered(IMAGE_CONCURRENCY);
        let deadline = tokio::time::sleep(budget);
        tokio::pin!(decided, deadline);
        loop {
            tokio::select! {
                next = decided.next() => match next {
                    Some((image, verdict)) => { out.insert(image, verdict); }
                    None => break,
                },
                () = &mut deadline => break,
            }
        }
        for image in images {
            out.entry(image.clone()).or_insert_with(|| {
                self.count_image("undecided", "timeout");
                ImageVerdict::Undecided(format!(
                    "not verified within the {} ms budget",
                    budget.as_millis()
                ))
            });
        }
        out
    }

    fn count_image(&self, outcome: &'static str, check: &'static str) {
        self.metrics.inc(
            "signet_admission_images_total",
            "Distinct images decided per review, by outcome and failed check.",
            &[("outcome", outcome), ("check", check)],
        );
    }

    async fn verdict(&self, image: &str) -> ImageVerdict {
        let reference: Reference = match image.parse() {
            Ok(r) => r,
            Err(e) => {
                self.count_image("denied", "invalid-reference");
                return ImageVerdict::Deny(format!(
                    "image {image:?} is not a valid reference: {e}"
                ));
            }
        };
        let lookup = match self.decider.decide(&reference).await {
            Ok(l) => l,
            Err(e) => {
                self.count_image("undecided", "abandoned");
                return ImageVerdict::Undecided(e.to_string());
            }
        };
        self.metrics.inc(
            "signet_cache_lookups_total",
            "Verification cache lookups, by source (hit, miss, joined).",
            &[("source", lookup.source.name())],
        );
        let d = &lookup.value;
        let check = d.failure.as_ref().map(|f| f.check);
        let check_name = check.map_or("none", FailedCheck::name);
        let detail = || {
            let failure = d
                .failure
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            format!(
                "image {image} refused by policy scope {:?}: {failure}",
                d.scope
            )
        };
        match d.outcome {
            Outcome::Allowed => {
                self.count_image("allowed", check_name);
                ImageVerdict::Admit {
                    digest: d.digest.clone(),
                    warning: None,
                }
            }
            Outcome::Warned => {
                self.count_image("warned", check_name);
                tracing::warn!(image, scope = %d.scope, check = check_name, "admitted in warn mode");
                ImageVerdict::Admit {
                    digest: d.digest.clone(),
                    warning: Some(format!("signet: {image}: {check_name} (warn)")),
                }
            }
            Outcome::Denied if d.undecided() => {
                self.count_image("undecided", check_name);
                ImageVerdict::Undecided(detail())
            }
            Outcome::Denied => {
                self.count_image("denied", check_name);
                tracing::info!(image, scope = %d.scope, check = check_name, "image refused");
                ImageVerdict::Deny(detail())
            }
        }
    }

    fn answer(
        &self,
        endpoint: Endpoint,
        uid: String,
        uses: &[ImageUse],
        verdicts: &BTreeMap<String, ImageVerdict>,
        budget: Duration,
    ) -> AdmissionResponse {
        let mut denials = Vec::new();
        let mut undecided = Vec::new();
        let mut warnings = Vec::new();
        for (image, verdict) in verdicts {
            match verdict {
                ImageVerdict::Deny(why) => denials.push(why.clone()),
                ImageVerdict::Undecided(why) => undecided.push(format!("image {image}: {why}")),
                ImageVerdict::Admit {
                    warning: Some(w), ..
                } => warnings.push(shorten(w, MAX_WARNING_CHARS)),
                ImageVerdict::Admit { .. } => {}
            }
        }
        if !denials.is_empty() {
            return refuse(uid, 403, format!("signet: {}", denials.join("; ")));
        }
        if !undecided.is_empty() {
            match self.config.failure_mode {
                FailureMode::Closed => {
                    tracing::warn!(
                        images = undecided.len(),
                        "failing closed: images could not be verified"
                    );
                    return refuse(
                        uid,
                        503,
                        format!(
                            "signet (fail-closed): could not verify within {} ms, refused: {}",
                            budget.as_millis(),
                            undecided.join("; ")
                        ),
                    );
                }
                FailureMode::Open => {
                    tracing::warn!(
                        images = undecided.len(),
                        "failing open: images could not be verified"
                    );
                    for u in &undecided {
                        warnings.push(shorten(
                            &format!("signet (fail-open): admitted unverified: {u}"),
                            MAX_WARNING_CHARS,
                        ));
                    }
                }
            }
        }
        let mut response = AdmissionResponse {
            uid,
            allowed: true,
            status: None,
            warnings,
            patch_type: None,
            patch: None,
        };
        if endpoint == Endpoint::Mutate {
            let patch = digest_patch(uses, verdicts);
            if !patch.is_empty() {
                let json = serde_json::Value::Array(patch).to_string();
                response.patch_type = Some("JSONPatch");
                response.patch = Some(B64.encode(json));
            }
        }
        response
    }

    fn render_metrics(&self) -> Response<Body> {
        self.metrics.response(&self.decider.cache().stats())
    }
}

/// `replace` operations pinning each admitted tag to its verified digest.
fn digest_patch(
    uses: &[ImageUse],
    verdicts: &BTreeMap<String, ImageVerdict>,
) -> Vec<serde_json::Value> {
    uses.iter()
        .filter_map(|u| {
            let Some(ImageVerdict::Admit {
                digest: Some(digest),
                ..
            }) = verdicts.get(&u.image)
            else {
                return None;
            };
            // Already pinned: nothing to do (idempotent on reinvocation).
            if u.image.contains('@') {
                return None;
            }
            Some(serde_json::json!({
                "op": "replace",
                "path": u.path,
                "value": format!("{}@{digest}", u.image),
            }))
        })
        .collect()
}

fn refuse(uid: String, code: u16, message: String) -> AdmissionResponse {
    AdmissionResponse {
        uid,
        allowed: false,
        status: Some(Status {
            code,
            message: shorten(&message, MAX_MESSAGE_CHARS),
        }),
        warnings: Vec::new(),
        patch_type: None,
        patch: None,
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn plain(status: StatusCode, body: &str) -> Response<Body> {
    let mut response = Response::new(serve::full(body.to_owned()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A Go duration as the API server writes the `timeout` parameter
/// (`10s`, `1m30s`, `500ms`); `None` for anything else or over an hour.
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let mut rest = s;
    let mut total = Duration::ZERO;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(digits);
        let value: f64 = number.parse().ok()?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let seconds = match unit {
            "h" => value * 3600.0,
            "m" => value * 60.0,
            "s" => value,
            "ms" => value / 1e3,
            "us" | "µs" => value / 1e6,
            "ns" => value / 1e9,
            _ => return None,
        };
        total += Duration::try_from_secs_f64(seconds).ok()?;
        rest = tail;
    }
    (total <= Duration::from_secs(3600)).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration(""), None);
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration("10x"), None);
        assert_eq!(parse_go_duration("2h"), None);
    }

    #[test]
    fn budgets_stay_below_the_timeout() {
        assert_eq!(budget(Duration::from_secs(10)), Duration::from_secs(8));
        assert_eq!(budget(Duration::from_secs(1)), Duration::from_millis(500));
        assert_eq!(
            budget(Duration::from_millis(200)),
            Duration::from_millis(100)
        );
        assert_eq!(budget(Duration::from_secs(30)), Duration::from_secs(24));
    }

    proptest::proptest! {
        #[test]
        fn durations_never_panic(s in ".{0,40}") {
            let _ = parse_go_duration(&s);
        }
    }
}
