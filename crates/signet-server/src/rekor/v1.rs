//! The Rekor v1 API, as cosign 2.x and other v1 clients call it:
//!
//! | route | answer |
//! |---|---|
//! | `POST /api/v1/log/entries` | 201 `{"<entryID>": LogEntry}` with `ETag` and `Location`; 409 with the existing entry |
//! | `GET /api/v1/log/entries/{uuid}` | the entry (64-hex UUID or 80-hex entry ID) |
//! | `GET /api/v1/log/entries?logIndex=N` | the entry at an index |
//! | `POST /api/v1/log/entries/retrieve` | entries by UUID, index or proposed entry (≤ 10 in all) |
//! | `GET /api/v1/log` | `rootHash`, `treeSize`, `signedTreeHead`, `treeID` |
//! | `GET /api/v1/log/publicKey` | the log key, PEM |
//! | `GET /api/v1/log/proof?firstSize&lastSize` | a consistency proof |
//!
//! A `LogEntry` is `{body, integratedTime, logID, logIndex, verification:
//! {signedEntryTimestamp, inclusionProof{checkpoint, hashes, logIndex,
//! rootHash, treeSize}}}`: hashes in hex, the body in base64, the SET over
//! the canonical `{body, integratedTime, logID, logIndex}`. The UUID is the
//! entry's leaf hash; the entry ID prefixes it with the 16-hex tree ID.
//! There is one shard, so the global and the shard-local index agree.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use signet_log::{LogEntry, TreeHead};
use signet_tlog::Hash;
use signet_tlog::set::SetPayload;

use super::admit::{self, MAX_V1_REQUEST, Refused, log_error};
use super::state::{METRIC_APPENDS, METRIC_REFUSED, RekorV1Log, TransparencyLog};
use crate::api::ApiError;

/// Most lookups in one `POST /api/v1/log/entries/retrieve` (Rekor's limit).
const MAX_SEARCH_QUERIES: usize = 10;
/// Largest `retrieve` request body (ten proposed entries at most).
const MAX_RETRIEVE_REQUEST: usize = MAX_V1_REQUEST;

/// The Rekor v1 routes.
pub fn router(log: Arc<TransparencyLog>) -> Router {
    Router::new()
        .route("/api/v1/log", get(log_info))
        .route("/api/v1/log/publicKey", get(public_key))
        .route("/api/v1/log/proof", get(consistency))
        .route("/api/v1/log/entries", post(create).get(by_index))
        .route("/api/v1/log/entries/retrieve", post(retrieve))
        .route("/api/v1/log/entries/{id}", get(by_uuid))
        .with_state(log)
}

/// `<16 hex tree ID><64 hex UUID>`.
pub fn entry_id(tree_id: u64, leaf: &Hash) -> String {
    format!("{tree_id:016x}{}", leaf.to_hex())
}

/// Reads a 64-hex UUID or an 80-hex entry ID of this log; `Ok(None)` when
/// it names another tree.
pub fn parse_entry_id(id: &str, tree_id: u64) -> Result<Option<Hash>, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "invalid entry ID {:?}: expected 64 hex digits (UUID) or 80 (tree ID and UUID)",
            id.chars().take(100).collect::<String>()
        ))
    };
    if !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    match id.len() {
        64 => Hash::from_hex(id).map(Some).map_err(|_| bad()),
        80 => {
            let tree = u64::from_str_radix(&id[..16], 16).map_err(|_| bad())?;
            let uuid = Hash::from_hex(&id[16..]).map_err(|_| bad())?;
            Ok((tree == tree_id).then_some(uuid))
        }
        _ => Err(bad()),
    }
}

/// One logged entry, with the tree head and proof to show it in.
struct Shown<'a> {
    index: u64,
    body: &'a [u8],
    integrated_time: i64,
    leaf: Hash,
    head: &'a TreeHead,
    proof: &'a [Hash],
}

/// `(entry ID, LogEntry)`.
fn log_entry(v1: &RekorV1Log, e: &Shown<'_>) -> Result<(String, Value), ApiError> {
    let index = i64::try_from(e.index)
        .map_err(|_| ApiError::internal(format!("log index {} out of range", e.index)))?;
    let set = SetPayload {
        body: e.body.to_vec(),
        integrated_time: e.integrated_time,
        log_id: v1.log_id,
        log_index: index,
    }
    .sign(&v1.key)
    .map_err(|err| ApiError::internal(format!("signing the entry timestamp: {err}")))?;
    let value = json!({
        "body": B64.encode(e.body),
        "integratedTime": e.integrated_time,
        "logID": hex::encode(v1.log_id),
        "logIndex": e.index,
        "verification": {
            "signedEntryTimestamp": B64.encode(set),
            "inclusionProof": {
                "checkpoint": String::from_utf8_lossy(&e.head.checkpoint),
                "hashes": e.proof.iter().map(Hash::to_hex).collect::<Vec<_>>(),
                "logIndex": e.index,
                "rootHash": e.head.root.to_hex(),
                "treeSize": e.head.size,
            },
        },
    });
    Ok((entry_id(v1.tree_id, &e.leaf), value))
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

fn refused(log: &TransparencyLog, r: Refused) -> Response {
    log.metrics.inc(
        METRIC_REFUSED,
        &[("api", "v1"), ("reason", r.reason.label())],
    );
    r.error.into_response()
}

async fn create(State(log): State<Arc<TransparencyLog>>, body: Body) -> Response {
    let bytes = match admit::read_request(body, MAX_V1_REQUEST).await {
        Ok(b) => b,
        Err(r) => return refused(&log, r),
    };
    let admitted = match admit::admit_v1(&bytes) {
        Ok(a) => a,
        Err(r) => return refused(&log, r),
    };
    let kind = admitted.kind_version.0;
    let leaf_data = admitted.entry.data.clone();
    let done = match log.v1.log.append(admitted.entry).await {
        Ok(d) => d,
        Err(e) => return log_error(e).into_response(),
    };
    log.metrics.inc(
        METRIC_APPENDS,
        &[
            ("api", "v1"),
            ("kind", kind),
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
    log.record_size("v1", &done.tree_head);
    let shown = Shown {
        index: done.index,
        body: &leaf_data,
        integrated_time: done.integrated_time,
        leaf: done.leaf_hash,
        head: &done.tree_head,
        proof: &done.inclusion_proof,
    };
    let (id, entry) = match log_entry(&log.v1, &shown) {
        Ok(e) => e,
        Err(e) => return e.into_response(),
    };
    let status = if done.duplicate {
        StatusCode::CONFLICT
    } else {
        StatusCode::CREATED
    };
    let mut response = json_response(status, &json!({ &id: entry }));
    let location = format!("{}/api/v1/log/entries/{id}", log.base_url);
    for (name, value) in [(header::LOCATION, location), (header::ETAG, id)] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, v);
        }
    }
    response
}

/// The entry as stored, shown against the latest tree head.
async fn show(log: &TransparencyLog, entry: LogEntry) -> Result<(String, Value), ApiError> {
    let head = log.v1.log.latest().await.map_err(log_error)?;
    let proof = log
        .v1
        .log
        .inclusion_proof(entry.index, head.size)
        .await
        .map_err(log_error)?;
    log_entry(
        &log.v1,
        &Shown {
            index: entry.index,
            body: &entry.data,
            integrated_time: entry.integrated_time,
            leaf: entry.leaf_hash,
            head: &head,
            proof: &proof,
        },
    )
}

async fn find_uuid(log: &TransparencyLog, id: &str) -> Result<Option<LogEntry>, ApiError> {
    match parse_entry_id(id, log.v1.tree_id)? {
        Some(uuid) => log.v1.log.find_by_leaf_hash(&uuid).await.map_err(log_error),
        None => Ok(None),
    }
}

async fn find_index(log: &TransparencyLog, index: u64) -> Result<Option<LogEntry>, ApiError> {
    match log.v1.log.entry(index).await {
        Ok(e) => Ok(Some(e)),
        Err(signet_log::LogError::NotFound(_)) => Ok(None),
        Err(e) => Err(log_error(e)),
    }
}

fn not_found(what: String) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("no entry {what} in the log"))
}

async fn by_uuid(State(log): State<Arc<TransparencyLog>>, Path(id): Path<String>) -> Response {
    let result = async {
        let entry = find_uuid(&log, &id)
            .await?
            .ok_or_else(|| not_found(format!("with UUID {id}")))?;
        show(&log, entry).await
    }
    .await;
    match result {
        Ok((id, entry)) => json_response(StatusCode::OK, &json!({ id: entry })),
        Err(e) => e.into_response(),
    }
}

/// The query parameters, by name (a repeated name keeps the last value).
fn query_params(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .take(16)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn query_u64(params: &[(String, String)], name: &str) -> Result<Option<u64>, ApiError> {
    match params.iter().rev().find(|(k, _)| k == name) {
        None => Ok(None),
        Some((_, v)) => v.parse::<u64>().map(Some).map_err(|_| {
            ApiError::bad_request(format!(
                "{name} {:?} is not a non-negative integer",
                v.chars().take(40).collect::<String>()
            ))
        }),
    }
}

async fn by_index(State(log): State<Arc<TransparencyLog>>, RawQuery(query): RawQuery) -> Response {
    let result = async {
        let params = query_params(query.as_deref());
        let index = query_u64(&params, "logIndex")?
            .ok_or_else(|| ApiError::bad_request("logIndex is required"))?;
        let entry = find_index(&log, index)
            .await?
            .ok_or_else(|| not_found(format!("at index {index}")))?;
        show(&log, entry).await
    }
    .await;
    match result {
        Ok((id, entry)) => json_response(StatusCode::OK, &json!({ id: entry })),
        Err(e) => e.into_response(),
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchQuery {
    #[serde(default, rename = "entryUUIDs")]
    entry_uuids: Vec<String>,
    #[serde(default)]
    log_indexes: Vec<i64>,
    #[serde(default)]
    entries: Vec<Value>,
}

async fn retrieve(State(log): State<Arc<TransparencyLog>>, body: Body) -> Response {
    let result = async {
        let bytes = crate::api::read_body(body, MAX_RETRIEVE_REQUEST).await?;
        let query: SearchQuery = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request(format!("invalid search query: {e}")))?;
        let total = query.entry_uuids.len() + query.log_indexes.len() + query.entries.len();
        if total > MAX_SEARCH_QUERIES {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "maximum number of search queries ({MAX_SEARCH_QUERIES}) exceeded: {total}"
                ),
            ));
        }
        let mut found = Vec::new();
        for id in &query.entry_uuids {
            if let Some(e) = find_uuid(&log, id).await? {
                found.push(e);
            }
        }
        for proposed in &query.entries {
            let bytes = serde_json::to_vec(proposed)
                .map_err(|e| ApiError::bad_request(format!("invalid entry: {e}")))?;
            let body = signet_core::rekor::ProposedEntry::parse_v1(&bytes)
                .and_then(|p| p.canonical_body())
                .map_err(|e| ApiError::bad_request(format!("invalid entry: {e}")))?;
            let leaf = signet_tlog::leaf_hash(&body);
            if let Some(e) = log
                .v1
                .log
                .find_by_leaf_hash(&leaf)
                .await
                .map_err(log_error)?
            {
                found.push(e);
            }
        }
        for index in &query.log_indexes {
            let index = u64::try_from(*index)
                .map_err(|_| ApiError::bad_request(format!("logIndex {index} is negative")))?;
            if let Some(e) = find_index(&log, index).await? {
                found.push(e);
            }
        }
        let mut out = Vec::with_capacity(found.len());
        for e in found {
            let (id, entry) = show(&log, e).await?;
            out.push(json!({ id: entry }));
        }
        Ok(Value::Array(out))
    }
    .await;
    match result {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => e.into_response(),
    }
}

async fn log_info(State(log): State<Arc<TransparencyLog>>) -> Response {
    match log.v1.log.latest().await {
        Ok(head) => json_response(
            StatusCode::OK,
            &json!({
                "rootHash": head.root.to_hex(),
                "treeSize": head.size,
                "signedTreeHead": String::from_utf8_lossy(&head.checkpoint),
                "treeID": log.v1.tree_id.to_string(),
                "inactiveShards": [],
            }),
        ),
        Err(e) => log_error(e).into_response(),
    }
}

async fn public_key(
    State(log): State<Arc<TransparencyLog>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = query_params(query.as_deref());
    if let Some((_, tree)) = params.iter().rev().find(|(k, _)| k == "treeID")
        && tree.parse::<u64>().ok() != Some(log.v1.tree_id)
    {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "no tree {:?} in this log (its tree ID is {})",
                tree.chars().take(40).collect::<String>(),
                log.v1.tree_id
            ),
        )
        .into_response();
    }
    (
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        log.v1.public_key.to_pem(),
    )
        .into_response()
}

async fn consistency(
    State(log): State<Arc<TransparencyLog>>,
    RawQuery(query): RawQuery,
) -> Response {
    let result = async {
        let params = query_params(query.as_deref());
        if let Some(tree) = query_u64(&params, "treeID")?
            && tree != log.v1.tree_id
        {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "no tree {tree} in this log (its tree ID is {})",
                    log.v1.tree_id
                ),
            ));
        }
        let first = query_u64(&params, "firstSize")?.unwrap_or(1);
        let last = query_u64(&params, "lastSize")?
            .ok_or_else(|| ApiError::bad_request("lastSize is required"))?;
        if first == 0 || first > last {
            return Err(ApiError::bad_request(format!(
                "firstSize ({first}) must be at least 1 and at most lastSize ({last})"
            )));
        }
        let size = log.v1.log.latest().await.map_err(log_error)?.size;
        if last > size {
            return Err(ApiError::bad_request(format!(
                "lastSize ({last}) is beyond the tree size ({size})"
            )));
        }
        let hashes = log
            .v1
            .log
            .consistency_proof(first, last)
            .await
            .map_err(log_error)?;
        let root = log.v1.log.root_at(last).await.map_err(log_error)?;
        Ok(json!({
            "rootHash": root.to_hex(),
            "hashes": hashes.iter().map(Hash::to_hex).collect::<Vec<_>>(),
        }))
    }
    .await;
    match result {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_take_both_lengths() {
        let leaf = signet_tlog::leaf_hash(b"entry");
        let id = entry_id(0x1234, &leaf);
        assert_eq!(id.len(), 80);
        assert!(id.starts_with("0000000000001234"));
        assert_eq!(parse_entry_id(&id, 0x1234).unwrap(), Some(leaf));
        assert_eq!(parse_entry_id(&leaf.to_hex(), 0x1234).unwrap(), Some(leaf));
        // Another tree's entry ID names nothing here.
        assert_eq!(parse_entry_id(&id, 0x9999).unwrap(), None);
        for bad in ["", "xyz", &"a".repeat(63), &"a".repeat(81), &"g".repeat(64)] {
            assert_eq!(
                parse_entry_id(bad, 1).unwrap_err().status,
                StatusCode::BAD_REQUEST
            );
        }
    }
}
