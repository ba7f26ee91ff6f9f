//! RFC 3161 timestamps: `POST` a DER `TimeStampReq`
//! (`application/timestamp-query`) whose imprint is the SHA-256 of the
//! signature bytes, as sigstore-go and cosign do, and verify the reply
//! against the trusted TSA chains before keeping it.
//!
//! The request carries a random nonce and asks for the TSA's certificate;
//! the reply must echo the nonce, so a replayed or cached answer is refused.

use std::time::SystemTime;

use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use signet_pki::algorithm::HashAlgorithm;
use signet_pki::limits::MAX_TIMESTAMP_RESPONSE_BYTES;
use signet_pki::timestamp::{TimestampAuthority, TimestampOptions, verify_timestamp_response};
use signet_pki::tsa::TimestampRequest;
use url::Url;

use crate::error::ServiceError;
use crate::http::{HttpClient, base_url};

const SERVICE: &str = "timestamp authority";

/// A timestamp that verified.
#[derive(Debug, Clone)]
pub struct SignedTimestamp {
    /// The DER `TimeStampResp`, as bundles and cosign's
    /// `rfc3161timestamp` annotation carry it.
    pub response: Vec<u8>,
    /// The TSA's `genTime`.
    pub time: SystemTime,
}

/// A timestamp authority at one URL (the full endpoint, e.g.
/// `https://timestamp.sigstore.dev/api/v1/timestamp`).
#[derive(Debug, Clone)]
pub struct TimestampClient {
    http: HttpClient,
    url: Url,
    authorities: Vec<TimestampAuthority>,
}

impl TimestampClient {
    /// A client for the TSA at `url`, whose answers must verify against
    /// `authorities`.
    pub fn new(
        http: HttpClient,
        url: &str,
        authorities: Vec<TimestampAuthority>,
    ) -> Result<Self, ServiceError> {
        Ok(Self {
            http,
            url: base_url(SERVICE, url)?,
            authorities,
        })
    }

    /// The endpoint.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// A verified timestamp over `signature`.
    pub async fn timestamp(&self, signature: &[u8]) -> Result<SignedTimestamp, ServiceError> {
        let url = &self.url;
        let untrusted = |reason: String| ServiceError::Untrusted {
            service: SERVICE,
            url: url.to_string(),
            check: "timestamp",
            reason,
        };
        if self.authorities.is_empty() {
            return Err(untrusted(
                "no trusted timestamp authority is configured to check its answers (give a trusted root that lists it)".into(),
            ));
        }
        let mut request = TimestampRequest::for_data(signature, HashAlgorithm::Sha256);
        let nonce = nonce()?;
        request.nonce = Some(nonce.clone());
        request.cert_req = true;
        let der = request.to_der().map_err(|e| ServiceError::Unsupported {
            service: SERVICE,
            reason: format!("encoding the request: {e}"),
        })?;
        let http_request = self
            .http
            .request(Method::POST, url)
            .header(CONTENT_TYPE, "application/timestamp-query")
            .header(ACCEPT, "application/timestamp-reply")
            .body(der);
        let reply = self
            .http
            .send(
                SERVICE,
                url,
                http_request,
                MAX_TIMESTAMP_RESPONSE_BYTES,
                &[],
            )
            .await?;
        let verified = verify_timestamp_response(
            &reply.body,
            signature,
            &self.authorities,
            &TimestampOptions {
                nonce: Some(nonce),
                policy: None,
            },
        )
        .map_err(|e| untrusted(e.to_string()))?;
        Ok(SignedTimestamp {
            response: reply.body,
            time: verified.time,
        })
    }
}

/// Eight random bytes as a positive, minimally encoded DER INTEGER body.
fn nonce() -> Result<Vec<u8>, ServiceError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| ServiceError::Unsupported {
        service: SERVICE,
        reason: format!("no randomness for the nonce: {e}"),
    })?;
    // High bit clear (positive), next bit set (no leading zero byte).
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(bytes.to_vec())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::routing::post;

    use super::*;
    use crate::test_pki::TestTsa;
    use crate::test_server::serve;

    #[derive(Clone, Copy)]
    enum Mode {
        Honest,
        OtherData,
        DropNonce,
        Refuse,
    }

    async fn start(mode: Mode) -> (String, Arc<TestTsa>) {
        let tsa = Arc::new(TestTsa::new());
        let router = Router::new()
            .route(
                "/api/v1/timestamp",
                post(
                    move |State(tsa): State<Arc<TestTsa>>, body: Bytes| async move {
                        let mut req = TimestampRequest::from_der(&body).unwrap();
                        match mode {
                            Mode::Refuse => {
                                return (StatusCode::BAD_REQUEST, b"bad request".to_vec());
                            }
                            Mode::OtherData => {
                                req.hashed_message = HashAlgorithm::Sha256.digest(b"other")
                            }
                            Mode::DropNonce => req.nonce = None,
                            Mode::Honest => {}
                        }
                        (
                            StatusCode::CREATED,
                            tsa.signer.respond(&req, SystemTime::now()).unwrap(),
                        )
                    },
                ),
            )
            .with_state(tsa.clone());
        (format!("{}/api/v1/timestamp", serve(router).await), tsa)
    }

    async fn stamp(mode: Mode) -> Result<SignedTimestamp, ServiceError> {
        let (url, tsa) = start(mode).await;
        TimestampClient::new(
            HttpClient::new(&Default::default()).unwrap(),
            &url,
            vec![tsa.authority()],
        )
        .unwrap()
        .timestamp(b"signature bytes")
        .await
    }

    #[tokio::test]
    async fn a_timestamp_over_the_signature_verifies() {
        let stamped = stamp(Mode::Honest).await.unwrap();
        let age = SystemTime::now().duration_since(stamped.time).unwrap();
        assert!(age.as_secs() < 60);
    }

    #[tokio::test]
    async fn a_timestamp_over_other_data_is_refused() {
        let e = stamp(Mode::OtherData).await.unwrap_err().to_string();
        assert!(e.contains("timestamp: timestamp is over other data"), "{e}");
    }

    #[tokio::test]
    async fn a_timestamp_without_our_nonce_is_refused() {
        let e = stamp(Mode::DropNonce).await.unwrap_err().to_string();
        assert!(e.contains("nonce"), "{e}");
    }

    #[tokio::test]
    async fn a_refusal_is_quoted() {
        let e = stamp(Mode::Refuse).await.unwrap_err().to_string();
        assert!(
            e.ends_with("/api/v1/timestamp: HTTP 400, bad request"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn an_untrusted_tsa_is_refused() {
        let (url, _) = start(Mode::Honest).await;
        let other = TestTsa::new();
        let e = TimestampClient::new(
            HttpClient::new(&Default::default()).unwrap(),
            &url,
            vec![other.authority()],
        )
        .unwrap()
        .timestamp(b"sig")
        .await
        .unwrap_err()
        .to_string();
        assert!(e.contains("timestamp:"), "{e}");
    }

    #[test]
    fn nonces_are_positive_and_minimal() {
        for _ in 0..100 {
            let n = nonce().unwrap();
            assert_eq!(n.len(), 8);
            assert!(n[0] & 0x80 == 0 && n[0] & 0x40 != 0);
        }
    }
}
