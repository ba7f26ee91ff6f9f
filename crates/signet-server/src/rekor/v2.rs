//! The Rekor v2 API: the write endpoint rekor-tiles serves and the C2SP
//! tlog-tiles reads.
//!
//! - `POST /api/v2/log/entries` takes `{"hashedRekordRequestV002": …}`
//!   (unknown fields refused, the digest's length checked against the key
//!   details, the signature verified) and answers 201 with a
//!   `TransparencyLogEntry` in protobuf-JSON: 64-bit integers as strings,
//!   `integratedTime` 0 and no SET (a Rekor v2 client gets its time from a
//!   TSA), an inclusion proof whose checkpoint is the C2SP signed note, and
//!   the canonicalized body. A duplicate answers 409 with the existing entry
//!   and its index in `x-log-index`.
//! - `checkpoint`, `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`
//!   under the v2 base URL (the public URL), and under `/api/v2/` as the
//!   rekor-tiles API declares them. Full tiles and bundles never change and
//!   are served as immutable; partial ones and the checkpoint are not cached.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use signet_core::bundle::{InclusionProof, KindVersion, TransparencyLogEntry};
use signet_log::Appended;
use signet_tlog::tile::TilePath;

use super::admit::{self, MAX_V2_REQUEST, log_error};
use super::state::{METRIC_APPENDS, METRIC_REFUSED, TransparencyLog};
use crate::api::ApiError;

/// Caching of full tiles and entry bundles: their content never changes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Caching of what grows: the checkpoint, partial tiles.
const NO_CACHE: &str = "no-cache";

/// The Rekor v2 routes.
pub fn router(log: Arc<TransparencyLog>) -> Router {
    Router::new()
        .route("/api/v2/log/entries", post(create))
        .route("/checkpoint", get(checkpoint))
        .route("/api/v2/checkpoint", get(checkpoint))
        .route("/tile/{*path}", get(tile))
        .route("/api/v2/tile/{*path}", get(tile))
        .with_state(log)
}

/// The entry as rekor-tiles answers it.
fn tlog_entry(log: &TransparencyLog, done: &Appended, body: Vec<u8>) -> TransparencyLogEntry {
    TransparencyLogEntry {
        log_index: done.index,
        log_id: log.v2.log_id.to_vec(),
        kind_version: KindVersion {
            kind: "hashedrekord".into(),
            version: "0.0.2".into(),
        },
        integrated_time: 0,
        inclusion_promise: None,
        inclusion_proof: Some(InclusionProof {
            log_index: done.index,
            root_hash: done.tree_head.root.0,
            tree_size: done.tree_head.size,
            hashes: done.inclusion_proof.iter().map(|h| h.0).collect(),
            checkpoint: String::from_utf8_lossy(&done.tree_head.checkpoint).into_owned(),
        }),
        canonicalized_body: body,
    }
}

async fn create(State(log): State<Arc<TransparencyLog>>, body: Body) -> Response {
    let admitted = match admit::read_request(body, MAX_V2_REQUEST)
        .await
        .and_then(|bytes| admit::admit_v2(&bytes))
    {
        Ok(a) => a,
        Err(r) => {
            log.metrics.inc(
                METRIC_REFUSED,
                &[("api", "v2"), ("reason", r.reason.label())],
            );
            return r.error.into_response();
        }
    };
    let leaf_data = admitted.entry.data.clone();
    let done = match log.v2.log.append(admitted.entry).await {
        Ok(d) => d,
        Err(e) => return log_error(e).into_response(),
    };
    log.metrics.inc(
        METRIC_APPENDS,
        &[
            ("api", "v2"),
            ("kind", admitted.kind_version.0),
            (
                "result",
                if done.duplicate {
                    "duplicate"
                } else {
                    "created"
                },
            ),
        ],
    );
    log.record_size("v2", &done.tree_head);
    let entry = tlog_entry(&log, &done, leaf_data);
    let status = if done.duplicate {
        StatusCode::CONFLICT
    } else {
        StatusCode::CREATED
    };
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        entry.to_json(),
    )
        .into_response();
    if done.duplicate
        && let Ok(v) = HeaderValue::from_str(&done.index.to_string())
    {
        response.headers_mut().insert("x-log-index", v);
    }
    response
}

async fn checkpoint(State(log): State<Arc<TransparencyLog>>) -> Response {
    match log.v2.log.latest().await {
        Ok(head) => (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, NO_CACHE),
            ],
            head.checkpoint,
        )
            .into_response(),
        Err(e) => log_error(e).into_response(),
    }
}

async fn tile(State(log): State<Arc<TransparencyLog>>, Path(path): Path<String>) -> Response {
    let parsed = match TilePath::parse(&format!("tile/{path}")) {
        Ok(p) => p,
        Err(e) => return ApiError::bad_request(e.to_string()).into_response(),
    };
    let (data, full) = match parsed {
        TilePath::Hashes(t) => (log.v2.log.tile(t).await, t.is_full()),
        TilePath::Entries(b) => (
            log.v2.log.entry_bundle(b).await,
            b.width() == signet_tlog::tile::TILE_WIDTH,
        ),
    };
    match data {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (
                    header::CACHE_CONTROL,
                    if full { IMMUTABLE } else { NO_CACHE },
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => log_error(e).into_response(),
    }
}
