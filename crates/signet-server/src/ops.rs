//! Operations: health (`/healthz`), readiness (`/readyz`), Prometheus
//! metrics (`/metrics`), the per-request policy every route passes through
//! (rate limit, body cap, timeout, access log, request metrics). The log
//! subscriber and the shutdown signal are `signet-serve`'s, shared with the
//! gate and the webhook.
//!
//! - `/healthz` answers 200 while the process serves requests.
//! - `/readyz` answers 200 when every registered [`ReadinessCheck`] passes
//!   and the server is not shutting down, else 503; the body says which
//!   check failed. Services register their own checks (the transparency log
//!   checks its store).
//! - `/metrics` is the text exposition format: request counts and latencies
//!   per route, certificates, SCTs and timestamps issued, refusals by
//!   reason, rate-limited requests, issuers' key fetches.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::api::ApiError;
use crate::config::{LimitSettings, RateLimitSettings};
use crate::metrics::{LATENCY_BUCKETS, Metrics};
use crate::ratelimit::{Decision, RateLimiter, client_address};

/// Metric: HTTP requests by route, method and status.
pub const METRIC_REQUESTS: &str = "signet_http_requests_total";
/// Metric: HTTP request latency by route and method.
pub const METRIC_LATENCY: &str = "signet_http_request_duration_seconds";
/// Metric: requests refused by the rate limit.
pub const METRIC_RATE_LIMITED: &str = "signet_http_rate_limited_total";

/// Paths exempt from the rate limit (probes and scrapes).
const UNLIMITED_PATHS: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// A check `/readyz` runs.
pub trait ReadinessCheck: Send + Sync {
    /// What is checked (`transparency-log`).
    fn name(&self) -> &'static str;
    /// `Err(reason)` when the service cannot serve.
    fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>>;
}

/// Whether the server is shutting down.
#[derive(Debug, Default)]
pub struct Lifecycle {
    shutting_down: AtomicBool,
}

impl Lifecycle {
    /// Marks the server as shutting down: readiness fails from now on.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Whether shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }
}

/// State of the operations endpoints.
pub struct Ops {
    lifecycle: Arc<Lifecycle>,
    metrics: Arc<Metrics>,
    checks: Vec<Arc<dyn ReadinessCheck>>,
}

impl std::fmt::Debug for Ops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ops").finish_non_exhaustive()
    }
}

impl Ops {
    /// Operations state over `checks`.
    pub fn new(
        lifecycle: Arc<Lifecycle>,
        metrics: Arc<Metrics>,
        checks: Vec<Arc<dyn ReadinessCheck>>,
    ) -> Self {
        metrics.set(
            "signet_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))],
            1.0,
        );
        Self {
            lifecycle,
            metrics,
            checks,
        }
    }
}

async fn healthz() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain")], "ok\n")
}

async fn readyz(State(ops): State<Arc<Ops>>) -> Response {
    let mut failures = serde_json::Map::new();
    if ops.lifecycle.is_shutting_down() {
        failures.insert("server".into(), json!("shutting down"));
    }
    for check in &ops.checks {
        if let Err(reason) = check.check().await {
            failures.insert(check.name().into(), json!(reason));
        }
    }
    if failures.is_empty() {
        (StatusCode::OK, axum::Json(json!({"status": "ready"}))).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "not ready", "failed": failures})),
        )
            .into_response()
    }
}

async fn metrics(State(ops): State<Arc<Ops>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        ops.metrics.render(),
    )
        .into_response()
}

/// `GET /healthz`, `/readyz`, `/metrics`.
pub fn router(ops: Arc<Ops>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(ops)
}

/// What every request goes through.
#[derive(Debug)]
pub struct RequestPolicy {
    limiter: Option<RateLimiter>,
    trusted_proxies: Vec<IpAddr>,
    max_body_bytes: usize,
    timeout: Duration,
    metrics: Arc<Metrics>,
}

impl RequestPolicy {
    /// The policy for these settings.
    pub fn new(rate: &RateLimitSettings, limits: &LimitSettings, metrics: Arc<Metrics>) -> Self {
        metrics.describe_counter(
            METRIC_REQUESTS,
            "HTTP requests, by route, method and status.",
        );
        metrics.describe_histogram(
            METRIC_LATENCY,
            "HTTP request latency in seconds, by route and method.",
            &LATENCY_BUCKETS,
        );
        metrics.describe_counter(
            METRIC_RATE_LIMITED,
            "Requests refused by the per-client rate limit.",
        );
        Self {
            limiter: RateLimiter::new(rate),
            trusted_proxies: rate.trusted_proxies.clone(),
            max_body_bytes: limits.max_body_bytes,
            timeout: Duration::from_secs(limits.request_timeout_seconds.max(1)),
            metrics,
        }
    }
}

/// The middleware: rate limit, body cap, timeout, metrics, access log.
pub async fn track(
    State(policy): State<Arc<RequestPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = peer.map(|peer| {
        let forwarded = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        client_address(peer, forwarded, &policy.trusted_proxies)
    });

    let response = match admit(&policy, &request, client, started) {
        Err(refusal) => refusal.into_response(),
        Ok(()) => {
            let (parts, body) = request.into_parts();
            // Every body is capped while it is read, whatever the handler does.
            let body = Body::new(http_body_util::Limited::new(body, policy.max_body_bytes));
            let request = Request::from_parts(parts, body);
            match tokio::time::timeout(policy.timeout, next.run(request)).await {
                Ok(r) => r,
                Err(_) => ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "the request took longer than {} s",
                        policy.timeout.as_secs()
                    ),
                )
                .into_response(),
            }
        }
    };

    let status = response.status();
    let elapsed = started.elapsed();
    let status_text = status.as_u16().to_string();
    policy.metrics.inc(
        METRIC_REQUESTS,
        &[
            ("route", &route),
            ("method", &method),
            ("status", &status_text),
        ],
    );
    policy.metrics.observe_duration(
        METRIC_LATENCY,
        &[("route", &route), ("method", &method)],
        elapsed,
    );
    let client_text = client.map(|c| c.to_string()).unwrap_or_default();
    if status.is_server_error() {
        tracing::warn!(target: "signet_server::access", method, route, status = status.as_u16(), millis = elapsed.as_millis() as u64, client = client_text, "request failed");
    } else {
        tracing::info!(target: "signet_server::access", method, route, status = status.as_u16(), millis = elapsed.as_millis() as u64, client = client_text, "request");
    }
    response
}

fn admit(
    policy: &RequestPolicy,
    request: &Request,
    client: Option<IpAddr>,
    now: Instant,
) -> Result<(), ApiError> {
    if let Some(len) = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > policy.max_body_bytes as u64
    {
        return Err(ApiError::too_large(policy.max_body_bytes));
    }
    let exempt = UNLIMITED_PATHS.contains(&request.uri().path());
    if let (Some(limiter), Some(client), false) = (&policy.limiter, client, exempt)
        && let Decision::Limit { retry_after } = limiter.check(client, now)
    {
        policy.metrics.inc(METRIC_RATE_LIMITED, &[]);
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("rate limit exceeded for {client}; retry after {retry_after} s"),
        )
        .retry_after(retry_after));
    }
    Ok(())
}
