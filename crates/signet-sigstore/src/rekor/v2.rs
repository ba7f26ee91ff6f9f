//! Rekor v2: `POST /api/v2/log/entries` with `hashedRekordRequestV002`; the
//! answer is the bundle's `TransparencyLogEntry` in protobuf-JSON.

use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use signet_core::bundle::TransparencyLogEntry;
use signet_core::limits::MAX_REKOR_ENTRY_BYTES;
use signet_trust::TransparencyLog;
use url::Url;

use super::check::check_v2_entry;
use super::proposal::Proposal;
use crate::error::ServiceError;
use crate::http::{HttpClient, base_url, endpoint};

const SERVICE: &str = "rekor v2";
const MAX_RESPONSE_BYTES: usize = MAX_REKOR_ENTRY_BYTES + (64 << 10);

/// A Rekor v2 log.
#[derive(Debug, Clone)]
pub struct RekorV2Client {
    http: HttpClient,
    base: Url,
    logs: Vec<TransparencyLog>,
}

impl RekorV2Client {
    /// A client for the log at `url` (its base, e.g.
    /// `https://log2025-1.rekor.sigstore.dev`) whose answers must verify
    /// against one of `logs`.
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

    /// Records `proposal` (hashedrekord 0.0.2) and returns the checked entry.
    /// The log answers once a checkpoint covers the entry.
    pub async fn create_entry(
        &self,
        proposal: &Proposal,
    ) -> Result<TransparencyLogEntry, ServiceError> {
        let url = endpoint(&self.base, "/api/v2/log/entries");
        let request_body = proposal
            .v2_request()
            .ok_or_else(|| ServiceError::Unsupported {
                service: SERVICE,
                reason: format!(
                    "a Rekor v2 log takes hashedrekord 0.0.2 entries only, not {}",
                    proposal.kind()
                ),
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
        if reply.status == 409 {
            // Rekor v2 has no lookup by content; it names the index only.
            let index = reply
                .headers
                .get("x-log-index")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("unknown");
            return Err(ServiceError::Rejected {
                service: SERVICE,
                url: url.to_string(),
                status: 409,
                message: format!(
                    "the entry is already logged (index {}); Rekor v2 cannot return it again",
                    crate::error::snippet(index, 40)
                ),
            });
        }
        let entry =
            TransparencyLogEntry::from_json(&reply.body).map_err(|e| ServiceError::Malformed {
                service: SERVICE,
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        if entry.kind_version.kind != "hashedrekord" || entry.kind_version.version != "0.0.2" {
            return Err(ServiceError::Malformed {
                service: SERVICE,
                url: url.to_string(),
                reason: format!(
                    "logged a {}/{} entry, expected hashedrekord/0.0.2",
                    crate::error::snippet(&entry.kind_version.kind, 40),
                    crate::error::snippet(&entry.kind_version.version, 40)
                ),
            });
        }
        check_v2_entry(&entry, &self.logs, &expected).map_err(|e| ServiceError::Untrusted {
            service: SERVICE,
            url: url.to_string(),
            check: e.check,
            reason: e.reason,
        })?;
        Ok(entry)
    }
}
