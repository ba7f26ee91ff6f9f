//! Rekor v1: `POST /api/v1/log/entries`, and `GET` of an existing entry
//! when the log answers 409 (already logged).

use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use sha2::Digest as _;
use signet_core::bundle::TransparencyLogEntry;
use signet_core::limits::MAX_REKOR_ENTRY_BYTES;
use signet_trust::TransparencyLog;
use url::Url;

use super::check::check_v1_entry;
use super::proposal::Proposal;
use crate::error::ServiceError;
use crate::http::{HttpClient, base_url, endpoint};

const SERVICE: &str = "rekor";
/// An answer holds one entry: its body plus proof and checkpoint.
const MAX_RESPONSE_BYTES: usize = MAX_REKOR_ENTRY_BYTES + (64 << 10);

/// A Rekor v1 log.
#[derive(Debug, Clone)]
pub struct RekorV1Client {
    http: HttpClient,
    base: Url,
    logs: Vec<TransparencyLog>,
}

impl RekorV1Client {
    /// A client for the log at `url` (its base, e.g.
    /// `https://rekor.sigstore.dev`) whose answers must verify against one
    /// of `logs` (the trusted root's Rekor logs).
    pub fn new(
        http: HttpClient,
        url: &str,
        logs: Vec<TransparencyLog>,
    ) -> Result<Self, ServiceError> {
        Ok(Self {
            http,
            base: base_url(SERVICE, url)?,
            logs,
        })
    }

    /// The base URL.
    pub fn url(&self) -> &Url {
        &self.base
    }

    /// Records `proposal` (a v1 entry kind) and returns the checked entry.
    pub async fn create_entry(
        &self,
        proposal: &Proposal,
    ) -> Result<TransparencyLogEntry, ServiceError> {
        let url = endpoint(&self.base, "/api/v1/log/entries");
        let request_body = proposal
            .v1_request()
            .ok_or_else(|| ServiceError::Unsupported {
                service: SERVICE,
                reason: format!("a Rekor v1 log does not take {} entries", proposal.kind()),
            })?;
        let expected = proposal
            .expected_entry()
            .map_err(|e| ServiceError::Unsupported {
                service: SERVICE,
                reason: format!("the proposed entry is not valid: {e}"),
            })?;
        let request = self
            .http
            .request(Method::POST, &url)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .body(request_body.to_string());
        let reply = self
            .http
            .send(SERVICE, &url, request, MAX_RESPONSE_BYTES, &[409])
            .await?;
        let (entry_url, body) = if reply.status == 409 {
            // Already logged: fetch the existing entry.
            let existing = match reply
                .headers
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| url.join(l).ok())
            {
                Some(u) if same_origin(&u, &self.base) => u,
                _ => {
                    let body =
                        expected
                            .canonical_body()
                            .map_err(|e| ServiceError::Unsupported {
                                service: SERVICE,
                                reason: e.to_string(),
                            })?;
                    let mut leaf = sha2::Sha256::new();
                    leaf.update([0u8]);
                    leaf.update(&body);
                    endpoint(
                        &self.base,
                        &format!("/api/v1/log/entries/{}", hex::encode(leaf.finalize())),
                    )
                }
            };
            let request = self
                .http
                .request(Method::GET, &existing)
                .header(ACCEPT, "application/json");
            let reply = self
                .http
                .send(SERVICE, &existing, request, MAX_RESPONSE_BYTES, &[])
                .await?;
            (existing, reply.body)
        } else {
            (url, reply.body)
        };
        let (_, entry) = TransparencyLogEntry::from_rekor_v1_response(&body).map_err(|e| {
            ServiceError::Malformed {
                service: SERVICE,
                url: entry_url.to_string(),
                reason: e.to_string(),
            }
        })?;
        check_v1_entry(&entry, &self.logs, &expected).map_err(|e| ServiceError::Untrusted {
            service: SERVICE,
            url: entry_url.to_string(),
            check: e.check,
            reason: e.reason,
        })?;
        Ok(entry)
    }
}

/// Whether `candidate` is on the same scheme, host and port as `base` (a
/// `Location` elsewhere is not followed).
fn same_origin(candidate: &Url, base: &Url) -> bool {
    candidate.scheme() == base.scheme()
        && candidate.host_str() == base.host_str()
        && candidate.port_or_known_default() == base.port_or_known_default()
}
