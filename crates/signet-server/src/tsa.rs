//! The RFC 3161 timestamp authority, speaking the sigstore
//! timestamp-authority API:
//!
//! | route | what |
//! |---|---|
//! | `POST /api/v1/timestamp` | a DER `TimeStampReq` (`application/timestamp-query`) or the JSON form (`application/json`); answers 201 with a DER `TimeStampResp` (`application/timestamp-reply`) |
//! | `GET /api/v1/timestamp/certchain` | the TSA chain in PEM, signing certificate first |
//!
//! Tokens are made by [`signet_pki::tsa::TimestampSigner`]: sigstore's
//! policy OID, ESSCertIDv2, the signing certificate included when asked.
//! A request that cannot be read or is refused gets 400 with a JSON reason.

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use signet_pki::certificate::chain_to_pem;
use signet_pki::limits::{MAX_TIMESTAMP_JSON_REQUEST_BYTES, MAX_TIMESTAMP_REQUEST_BYTES};
use signet_pki::tsa::{TimestampRequest, TimestampSigner};

use crate::api::{ApiError, media_type, read_body};
use crate::metrics::Metrics;

/// Metric: timestamps issued.
pub const METRIC_TIMESTAMPS: &str = "signet_tsa_timestamps_issued_total";
/// Metric: timestamp requests refused.
pub const METRIC_REFUSED: &str = "signet_tsa_requests_refused_total";

/// The TSA service.
pub struct TimestampAuthority {
    signer: TimestampSigner,
    chain_pem: String,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for TimestampAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimestampAuthority").finish_non_exhaustive()
    }
}

impl TimestampAuthority {
    /// A TSA signing with `signer`.
    pub fn new(signer: TimestampSigner, metrics: Arc<Metrics>) -> Self {
        metrics.describe_counter(
            METRIC_TIMESTAMPS,
            "RFC 3161 timestamps issued, by request form.",
        );
        metrics.describe_counter(METRIC_REFUSED, "Timestamp requests refused.");
        Self {
            chain_pem: chain_to_pem(signer.chain()),
            signer,
            metrics,
        }
    }

    /// A DER `TimeStampResp` for `request` at `now`.
    pub fn respond(
        &self,
        request: &TimestampRequest,
        now: SystemTime,
    ) -> Result<Vec<u8>, ApiError> {
        self.signer.respond(request, now).map_err(|e| match e {
            signet_pki::error::IssueError::InvalidRequest(m) => ApiError::bad_request(m),
            other => ApiError::internal(format!("cannot sign the timestamp: {other}")),
        })
    }
}

async fn timestamp(
    State(tsa): State<Arc<TimestampAuthority>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let refuse = |e: ApiError| {
        tsa.metrics.inc(METRIC_REFUSED, &[]);
        e
    };
    let kind = media_type(&headers);
    let (request, form) = match kind.as_deref() {
        Some("application/json") => {
            let body = read_body(body, MAX_TIMESTAMP_JSON_REQUEST_BYTES)
                .await
                .map_err(refuse)?;
            let r = TimestampRequest::from_json(&body)
                .map_err(|e| refuse(ApiError::bad_request(e.to_string())))?;
            (r, "json")
        }
        Some("application/timestamp-query") | None => {
            let body = read_body(body, MAX_TIMESTAMP_REQUEST_BYTES)
                .await
                .map_err(refuse)?;
            let r = TimestampRequest::from_der(&body)
                .map_err(|e| refuse(ApiError::bad_request(e.to_string())))?;
            (r, "der")
        }
        Some(other) => {
            return Err(refuse(ApiError::unsupported_media_type(format!(
                "content type {other} is not accepted (application/timestamp-query or application/json)"
            ))));
        }
    };
    let response = tsa.respond(&request, SystemTime::now()).map_err(refuse)?;
    tsa.metrics.inc(METRIC_TIMESTAMPS, &[("form", form)]);
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/timestamp-reply")],
        response,
    )
        .into_response())
}

async fn certchain(State(tsa): State<Arc<TimestampAuthority>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/pem-certificate-chain")],
        tsa.chain_pem.clone(),
    )
        .into_response()
}

/// The TSA routes.
pub fn router(tsa: Arc<TimestampAuthority>) -> Router {
    Router::new()
        .route("/api/v1/timestamp", post(timestamp))
        .route("/api/v1/timestamp/certchain", get(certchain))
        .with_state(tsa)
}
