//! `signet gate`: a verifying reverse proxy in front of an OCI registry.
//!
//! Request flow for a manifest GET or HEAD (`/v2/<name>/manifests/<ref>`):
//!
//! 1. The gate fetches the manifest upstream **once**, always with GET and
//!    with the client's own headers (its credentials, its `Accept`), so the
//!    registry's access control and content negotiation apply unchanged.
//!    Anything but 200 goes back to the client as the upstream said it.
//! 2. It hashes the bytes itself. A pull by digest whose bytes hash to
//!    another digest is refused (502). A pull by tag is decided about the
//!    digest of the bytes in hand, and exactly those bytes are served: a
//!    tag moved meanwhile changes nothing, as there is no second read.
//! 3. A signature artefact (see [`artefact`]) is served as is.
//! 4. Otherwise the digest is decided through the shared cache
//!    ([`Decider::decide_digest`], the one policy function behind it):
//!    allowed → served; warn mode → served with a `Warning` header and a
//!    log line; refused → `412 Precondition Failed` with Harbor's body
//!    `{"errors":[{"code":"PROJECTPOLICYVIOLATION","message":…}]}` (a HEAD
//!    gets the bare 412), unless the client can push to the repository
//!    ([`signers`]); could not decide → `503` (fail closed).
//!
//! Everything else under `/v2/` is passed through with bodies streamed both
//! ways: blobs (reached by digest through a verified manifest), uploads,
//! tag lists, the catalog, referrers. A manifest PUT of a signature
//! (`sha256-<hex>.sig`/`.att`, or a manifest with a `subject`) drops the
//! cached refusals of the digest it signs. The bearer realm in
//! `WWW-Authenticate` is rewritten to the gate's token proxy
//! (`/signet/token/<n>`), so clients log in through the gate; basic auth
//! passes through untouched. `/healthz`, `/readyz` and `/metrics` are the
//! gate's own.

pub(crate) mod artefact;
mod route;
pub(crate) mod signers;
pub(crate) mod upstream;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use signet_core::Digest;
use signet_oci::RepositoryRef;
use signet_policy::{Decision, FailedCheck, Outcome};

use crate::cache::Source;
use crate::decider::Decider;
use crate::error::EnforceError;
use crate::metrics::Metrics;
use crate::serve::{self, Body, ServeLimits, Server};

use self::route::{ManifestReference, Route};
use self::signers::Signers;
pub use self::upstream::UpstreamTls;
use self::upstream::{Upstream, client_headers, read_capped, registry_error, stream_response};

/// The largest manifest the gate reads (the distribution limit).
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// The largest token-endpoint answer relayed.
const MAX_TOKEN_RESPONSE_BYTES: usize = 1 << 20;
/// The largest refusal message in a 412 body.
const MAX_MESSAGE_CHARS: usize = 1024;
/// Distinct upstream token realms remembered.
const MAX_REALMS: usize = 8;

/// Settings of a gate.
#[derive(Debug, Clone)]
pub struct GateConfig {
    /// The upstream registry's base URL (`https://registry.example`).
    pub upstream: String,
    /// TLS towards the upstream.
    pub upstream_tls: UpstreamTls,
    /// The URL clients reach the gate at, for the token realm and upload
    /// locations; default: the scheme and `Host` of each request.
    pub public_url: Option<String>,
    /// Whether the listener speaks TLS (for URLs built from `Host`).
    pub tls: bool,
    /// Connection and shutdown limits.
    pub limits: ServeLimits,
}

/// A gate: the policy's decider, the upstream, metrics.
pub struct Gate {
    decider: Decider,
    upstream: Upstream,
    config: GateConfig,
    signers: Signers,
    realms: Mutex<Vec<String>>,
    metrics: Metrics,
    /// Upstream `/v2/` answered (ms since start), for readiness.
    last_ready: AtomicU64,
    started: Instant,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("upstream", &self.upstream.base_str())
            .finish_non_exhaustive()
    }
}

/// What the gate did with a manifest request, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Served {
    Allowed,
    Warned,
    Denied,
    Undecided,
    Artefact,
    Signer,
}

impl Served {
    fn name(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Warned => "warned",
            Self::Denied => "denied",
            Self::Undecided => "undecided",
            Self::Artefact => "artefact",
            Self::Signer => "signer",
        }
    }
}

impl Gate {
    /// A gate in front of `config.upstream`, deciding with `decider` (whose
    /// registry client must reach the same upstream: the policy names
    /// images by the upstream's host).
    pub fn new(config: GateConfig, decider: Decider) -> Result<Arc<Self>, EnforceError> {
        let upstream =
            Upstream::new(&config.upstream, &config.upstream_tls).map_err(EnforceError::Config)?;
        Ok(Arc::new(Self {
            decider,
            upstream,
            config,
            signers: Signers::new(),
            realms: Mutex::new(Vec::new()),
            metrics: Metrics::new(),
            last_ready: AtomicU64::new(0),
            started: Instant::now(),
        }))
    }

    /// The registry host (`host[:port]`) images are named by.
    pub fn registry(&self) -> &str {
        &self.upstream.registry
    }

    /// The decider.
    pub fn decider(&self) -> &Decider {
        &self.decider
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Serves the gate on `listener` until shut down.
    pub fn serve(
        self: &Arc<Self>,
        listener: tokio::net::TcpListener,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> Result<Server, EnforceError> {
        let gate = Arc::clone(self);
        serve::spawn(
            listener,
            tls,
            self.config.limits.clone(),
            move |req, peer| {
                let gate = Arc::clone(&gate);
                async move { gate.handle(req, peer).await }
            },
        )
    }

    /// Answers one request.
    pub async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
    ) -> Response<Body> {
        let start = Instant::now();
        let route = Route::of(req.uri().path());
        let (label, response) = match route {
            Route::Health => ("health", text(StatusCode::OK, "ok\n")),
            Route::Ready => ("ready", self.ready().await),
            Route::Metrics => ("metrics", self.render_metrics()),
            Route::Token(n) => ("token", self.token(req, n).await),
            Route::Manifest { name, reference }
                if matches!(*req.method(), Method::GET | Method::HEAD) =>
            {
                ("manifest", self.manifest(req, &name, reference, peer).await)
            }
            Route::Manifest { name, reference } if req.method() == Method::PUT => (
                "manifest-put",
                self.manifest_put(req, &name, reference).await,
            ),
            Route::Manifest { .. } | Route::Registry => ("registry", self.forward(req).await),
            Route::NotFound => ("not-found", text(StatusCode::NOT_FOUND, "not found\n")),
        };
        self.metrics.observe(
            "signet_gate_request_duration_seconds",
            "Time to answer a request, by route.",
            &[("route", label)],
            start.elapsed(),
        );
        response
    }

    /// The base URL clients reach the gate at.
    fn gate_base(&self, headers: &HeaderMap) -> String {
        if let Some(url) = &self.config.public_url {
            return url.trim_end_matches('/').to_owned();
        }
        let scheme = if self.config.tls { "https" } else { "http" };
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                !h.is_empty()
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
            })
            .unwrap_or("localhost");
        format!("{scheme}://{host}")
    }

    /// The gate's token-proxy URL for an upstream realm.
    fn realm_for(&self, gate_base: &str, upstream_realm: &str) -> Option<String> {
        let mut realms = self.realms.lock().unwrap_or_else(PoisonError::into_inner);
        let index = match realms.iter().position(|r| r == upstream_realm) {
            Some(i) => i,
            None if realms.len() < MAX_REALMS => {
                realms.push(upstream_realm.to_owned());
                realms.len() - 1
            }
            None => return None,
        };
        Some(format!("{gate_base}/signet/token/{index}"))
    }

    fn headers_for_client(&self, upstream: &HeaderMap, gate_base: &str) -> HeaderMap {
        client_headers(upstream, self.upstream.base_str(), gate_base, |realm| {
            self.realm_for(gate_base, realm)
        })
    }

    fn upstream_error(&self, e: &reqwest::Error) -> Response<Body> {
        tracing::warn!(upstream = %self.upstream.base_str(), error = %e, "upstream request failed");
        registry_error(
            StatusCode::BAD_GATEWAY,
            "UNAVAILABLE",
            &format!("signet gate: the upstream registry did not answer: {e}"),
        )
    }

    fn timed(&self, kind: &'static str, start: Instant) {
        self.metrics.observe(
            "signet_gate_upstream_duration_seconds",
            "Time the upstream registry took to answer, by request kind.",
            &[("kind", kind)],
            start.elapsed(),
        );
    }

    /// Any request passed through, bodies streamed.
    async fn forward(&self, req: Request<Incoming>) -> Response<Body> {
        let (parts, body) = req.into_parts();
        let gate_base = self.gate_base(&parts.headers);
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let has_body = !matches!(parts.method, Method::GET | Method::HEAD | Method::DELETE);
        let head = parts.method == Method::HEAD;
        let start = Instant::now();
        let sent = self
            .upstream
            .send(
                parts.method,
                &path,
                &parts.headers,
                has_body.then_some(body),
            )
            .await;
        self.timed("forward", start);
        match sent {
            Ok(upstream) => {
                let headers = self.headers_for_client(upstream.headers(), &gate_base);
                stream_response(upstream, headers, head)
            }
            Err(e) => self.upstream_error(&e),
        }
    }

    /// A manifest PUT, passed through; a signature pushed drops the cached
    /// refusals of the digest it signs.
    async fn manifest_put(
        &self,
        req: Request<Incoming>,
        name: &str,
        reference: ManifestReference,
    ) -> Response<Body> {
        use http_body_util::{BodyExt, Limited};
        let (parts, body) = req.into_parts();
        let gate_base = self.gate_base(&parts.headers);
        let bytes = match Limited::new(body, MAX_MANIFEST_BYTES).collect().await {
            Ok(c) => c.to_bytes(),
            Err(e) => {
                return registry_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "MANIFEST_INVALID",
                    &format!("signet gate: manifest body: {e}"),
                );
            }
        };
        let subject = subject_of(&bytes);
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let mut request = self.upstream.http.put(self.upstream.url(&path));
        for (n, v) in &parts.headers {
            if upstream::forwarded_header(n) {
                request = request.header(n, v);
            }
        }
        let start = Instant::now();
        let sent = request.body(bytes).send().await;
        self.timed("forward", start);
        let upstream = match sent {
            Ok(u) => u,
            Err(e) => return self.upstream_error(&e),
        };
        if upstream.status().is_success()
            && let Ok(repo) = RepositoryRef::new(self.registry(), name)
        {
            for digest in reference.signed_digest().into_iter().chain(subject) {
                let dropped = self.decider.signature_pushed(&repo, &digest);
                tracing::debug!(repository = %repo, %digest, dropped, "signature pushed");
            }
        }
        let headers = self.headers_for_client(upstream.headers(), &gate_base);
        stream_response(upstream, headers, false)
    }

    /// `/signet/token/<n>`: the upstream's token endpoint, relayed.
    async fn token(&self, req: Request<Incoming>, n: usize) -> Response<Body> {
        let realm = {
            let realms = self.realms.lock().unwrap_or_else(PoisonError::into_inner);
            realms.get(n).cloned()
        };
        let Some(realm) = realm else {
            return text(StatusCode::NOT_FOUND, "unknown token realm\n");
        };
        if !matches!(*req.method(), Method::GET | Method::POST) {
            return text(StatusCode::METHOD_NOT_ALLOWED, "GET or POST\n");
        }
        let (parts, body) = req.into_parts();
        let query = parts.uri.query().map(signers::widen_scopes);
        let url = match &query {
            Some(q) if realm.contains('?') => format!("{realm}&{q}"),
            Some(q) => format!("{realm}?{q}"),
            None => realm,
        };
        let mut request = self.upstream.http.request(parts.method.clone(), url);
        for name in [
            header::AUTHORIZATION,
            header::USER_AGENT,
            header::CONTENT_TYPE,
            header::ACCEPT,
        ] {
            if let Some(v) = parts.headers.get(&name) {
                request = request.header(name, v);
            }
        }
        if parts.method == Method::POST {
            use http_body_util::{BodyExt, Limited};
            match Limited::new(body, 64 * 1024).collect().await {
                Ok(c) => request = request.body(c.to_bytes()),
                Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "token request too large\n"),
            }
        }
        let start = Instant::now();
        let sent = request.send().await;
        self.timed("token", start);
        let upstream = match sent {
            Ok(u) => u,
            Err(e) => return self.upstream_error(&e),
        };
        let status = upstream.status();
        let content_type = upstream.headers().get(header::CONTENT_TYPE).cloned();
        match read_capped(upstream, MAX_TOKEN_RESPONSE_BYTES).await {
            Ok(bytes) => {
                let mut response = Response::new(serve::full(bytes));
                *response.status_mut() = status;
                if let Some(ct) = content_type {
                    response.headers_mut().insert(header::CONTENT_TYPE, ct);
                }
                response
            }
            Err(e) => registry_error(
                StatusCode::BAD_GATEWAY,
                "UNAVAILABLE",
                &format!("signet gate: token endpoint answer: {e}"),
            ),
        }
    }

    async fn ready(&self) -> Response<Body> {
        let start = Instant::now();
        let probe = tokio::time::timeout(
            Duration::from_secs(2),
            self.upstream
                .send(Method::GET, "/v2/", &HeaderMap::new(), None),
        )
        .await;
        self.timed("ready", start);
        match probe {
            Ok(Ok(r)) if r.status().as_u16() < 500 => {
                let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
                self.last_ready.store(ms, Ordering::Relaxed);
                text(StatusCode::OK, "ready\n")
            }
            Ok(Ok(r)) => text(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("upstream answered {}\n", r.status()),
            ),
            Ok(Err(e)) => text(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("upstream unreachable: {e}\n"),
            ),
            Err(_) => text(StatusCode::SERVICE_UNAVAILABLE, "upstream timed out\n"),
        }
    }

    fn render_metrics(&self) -> Response<Body> {
        self.metrics.response(&self.decider.cache().stats())
    }

    fn count(&self, served: Served, check: Option<FailedCheck>) {
        self.metrics.inc(
            "signet_gate_decisions_total",
            "Manifest requests decided, by outcome and failed check.",
            &[
                ("outcome", served.name()),
                ("check", check.map_or("none", FailedCheck::name)),
            ],
        );
    }

    /// A manifest GET or HEAD: see the module docs.
    async fn manifest(
        &self,
        req: Request<Incoming>,
        name: &str,
        reference: ManifestReference,
        peer: SocketAddr,
    ) -> Response<Body> {
        let repo = match (&reference, RepositoryRef::new(self.registry(), name)) {
            (ManifestReference::Invalid, _) | (_, Err(_)) => return self.forward(req).await,
            (_, Ok(repo)) => repo,
        };
        let (parts, _) = req.into_parts();
        let head = parts.method == Method::HEAD;
        let gate_base = self.gate_base(&parts.headers);
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        // One read, always GET: the bytes served are the bytes decided about.
        let start = Instant::now();
        let sent = self
            .upstream
            .send(Method::GET, &path, &parts.headers, None)
            .await;
        self.timed("manifest", start);
        let upstream = match sent {
            Ok(u) => u,
            Err(e) => return self.upstream_error(&e),
        };
        let headers = self.headers_for_client(upstream.headers(), &gate_base);
        if upstream.status() != StatusCode::OK {
            return stream_response(upstream, headers, head);
        }
        let bytes = match read_capped(upstream, MAX_MANIFEST_BYTES).await {
            Ok(b) => b,
            Err(e) => {
                return registry_error(
                    StatusCode::BAD_GATEWAY,
                    "MANIFEST_INVALID",
                    &format!("signet gate: the upstream manifest of {repo}: {e}"),
                );
            }
        };
        let digest = Digest::sha256_of(&bytes);
        if let ManifestReference::Digest(asked) = &reference
            && *asked != digest
        {
            tracing::warn!(repository = %repo, asked = %asked, served = %digest, "upstream served other bytes than the digest asked for");
            return registry_error(
                StatusCode::BAD_GATEWAY,
                "DIGEST_INVALID",
                &format!(
                    "signet gate: the upstream served bytes with digest {digest} for {repo}@{asked}"
                ),
            );
        }
        if artefact::is_signature_artefact(&bytes) {
            self.count(Served::Artefact, None);
            return manifest_response(headers, bytes, &digest, head, None);
        }
        let lookup = match self.decider.decide_digest(&repo, &digest).await {
            Ok(l) => l,
            Err(e) => {
                self.count(Served::Undecided, None);
                return registry_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "UNAVAILABLE",
                    &format!("signet gate: {repo}@{digest}: {e}"),
                );
            }
        };
        self.metrics.inc(
            "signet_cache_lookups_total",
            "Verification cache lookups, by source (hit, miss, joined).",
            &[("source", lookup.source.name())],
        );
        let decision = &lookup.value;
        let check = decision.failure.as_ref().map(|f| f.check);
        let image = format!("{repo}@{digest}");
        match decision.outcome {
            Outcome::Allowed => {
                self.count(Served::Allowed, None);
                log_decision(&image, Served::Allowed, decision, lookup.source, peer);
                manifest_response(headers, bytes, &digest, head, None)
            }
            Outcome::Warned => {
                self.count(Served::Warned, check);
                log_decision(&image, Served::Warned, decision, lookup.source, peer);
                let warning = format!(
                    "299 signet-gate \"{}\"",
                    refusal_message(&image, decision).replace(['"', '\\'], "'")
                );
                manifest_response(headers, bytes, &digest, head, Some(warning))
            }
            Outcome::Denied => {
                if let Some(auth) = parts.headers.get(header::AUTHORIZATION)
                    && self.signers.can_push(&self.upstream, &repo, auth).await
                {
                    self.count(Served::Signer, check);
                    log_decision(&image, Served::Signer, decision, lookup.source, peer);
                    let mut response = manifest_response(headers, bytes, &digest, head, None);
                    response.headers_mut().insert(
                        "signet-gate",
                        HeaderValue::from_static("unverified; served to a client with push access"),
                    );
                    return response;
                }
                if decision.undecided() {
                    self.count(Served::Undecided, check);
                    log_decision(&image, Served::Undecided, decision, lookup.source, peer);
                    return registry_error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "UNAVAILABLE",
                        &truncate(&format!(
                            "signet gate could not verify {image} (failing closed): {}",
                            decision
                                .failure
                                .as_ref()
                                .map(ToString::to_string)
                                .unwrap_or_default()
                        )),
                    );
                }
                self.count(Served::Denied, check);
                log_decision(&image, Served::Denied, decision, lookup.source, peer);
                if head {
                    let mut response = Response::new(serve::empty());
                    *response.status_mut() = StatusCode::PRECONDITION_FAILED;
                    return response;
                }
                registry_error(
                    StatusCode::PRECONDITION_FAILED,
                    "PROJECTPOLICYVIOLATION",
                    &refusal_message(&image, decision),
                )
            }
        }
    }
}

fn log_decision(
    image: &str,
    served: Served,
    decision: &Decision,
    source: Source,
    peer: SocketAddr,
) {
    let check = decision.failure.as_ref().map_or("none", |f| f.check.name());
    let reason = decision
        .failure
        .as_ref()
        .map(|f| f.message.as_str())
        .unwrap_or("");
    match served {
        Served::Allowed => {
            tracing::debug!(%image, outcome = served.name(), scope = %decision.scope, cache = source.name(), %peer, "manifest allowed")
        }
        Served::Warned | Served::Signer | Served::Undecided => {
            tracing::warn!(%image, outcome = served.name(), scope = %decision.scope, check, reason, cache = source.name(), %peer, "manifest served or refused without a passing verification")
        }
        Served::Denied | Served::Artefact => {
            tracing::info!(%image, outcome = served.name(), scope = %decision.scope, check, reason, cache = source.name(), %peer, "manifest refused")
        }
    }
}

/// The refusal message: a sentence naming the failed check (as Harbor's
/// "The image is not signed by cosign." does), then the policy's detail.
pub fn refusal_message(image: &str, decision: &Decision) -> String {
    let Some(failure) = &decision.failure else {
        return format!("{image} satisfies the policy");
    };
    let sentence = match failure.check {
        FailedCheck::Unsigned => "The image is not signed.",
        FailedCheck::WrongKey => "The image is not signed by a trusted key.",
        FailedCheck::WrongIdentity => "The image is not signed by a trusted identity.",
        FailedCheck::UntrustedCertificate => {
            "The image's signing certificate is not from a trusted CA."
        }
        FailedCheck::Tampered => "The image's signature does not match the image (tampered).",
        FailedCheck::MissingTransparencyLog => {
            "The image's signature has no transparency-log evidence."
        }
        FailedCheck::AnnotationMismatch => "The image's signature lacks the required annotations.",
        FailedCheck::ThresholdNotMet => "The image is not signed by enough trusted authorities.",
        FailedCheck::NoAuthorities => "No policy admits this image.",
        FailedCheck::ChildNotSatisfied => "An image the index lists is not signed as required.",
        FailedCheck::ImageNotFound | FailedCheck::RegistryError => {
            "The image's signatures could not be verified."
        }
        _ => "The image does not satisfy the policy.",
    };
    truncate(&format!(
        "{sentence} signet: {image} refused by policy scope {:?}: {failure}",
        decision.scope
    ))
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= MAX_MESSAGE_CHARS {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(MAX_MESSAGE_CHARS - 1).collect();
    out.push('…');
    out
}

/// The `subject` digest of a manifest, if it has one.
fn subject_of(bytes: &[u8]) -> Option<Digest> {
    #[derive(serde::Deserialize)]
    struct Subject {
        digest: String,
    }
    #[derive(serde::Deserialize)]
    struct WithSubject {
        subject: Option<Subject>,
    }
    serde_json::from_slice::<WithSubject>(bytes)
        .ok()?
        .subject?
        .digest
        .parse()
        .ok()
}

fn manifest_response(
    mut headers: HeaderMap,
    bytes: Bytes,
    digest: &Digest,
    head: bool,
    warning: Option<String>,
) -> Response<Body> {
    headers.remove(header::CONTENT_LENGTH);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    if let Ok(v) = HeaderValue::from_str(&digest.to_string()) {
        headers.insert("docker-content-digest", v);
    }
    if let Some(w) = warning.and_then(|w| HeaderValue::from_str(&w).ok()) {
        headers.insert(header::WARNING, w);
    }
    let body = if head {
        serve::empty()
    } else {
        serve::full(bytes)
    };
    let mut response = Response::new(body);
    *response.headers_mut() = headers;
    response
}

fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut response = Response::new(serve::full(body.to_owned()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
