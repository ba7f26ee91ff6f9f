//! The built-in certificate transparency log. The CA asks it for an SCT over
//! each precertificate and embeds the SCT in the final certificate, so that
//! clients checking SCTs (cosign by default) accept the certificate with
//! this log's key (listed in `trusted_root.json` under `ctlogs`).
//!
//! SCTs are issued in process; precertificates are not kept in a Merkle
//! tree (the SCT is what clients check). The RFC 6962 `get-roots` endpoint
//! names the CA the log accepts, and the log's key is served in PEM for
//! cosign's `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE`.

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::json;
use signet_pki::certificate::Certificate;
use signet_pki::error::IssueError;
use signet_pki::sct::{CtLogSigner, SignedCertificateTimestamp};

use crate::metrics::Metrics;

/// Metric: SCTs issued.
pub const METRIC_SCTS: &str = "signet_ct_scts_issued_total";

/// The CT log: its signer and the roots it accepts.
pub struct CtLog {
    signer: CtLogSigner,
    roots: Vec<Certificate>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for CtLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CtLog")
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

impl CtLog {
    /// A log signing with `signer` for certificates under `roots`.
    pub fn new(signer: CtLogSigner, roots: Vec<Certificate>, metrics: Arc<Metrics>) -> Self {
        metrics.describe_counter(METRIC_SCTS, "Signed certificate timestamps issued.");
        Self {
            signer,
            roots,
            metrics,
        }
    }

    /// The signer the CA uses to issue embedded SCTs.
    pub fn signer(&self) -> &CtLogSigner {
        &self.signer
    }

    /// Records that an SCT was issued (the CA signs it through
    /// [`signer`](Self::signer), inside the certificate flow).
    pub fn record_issued(&self) {
        self.metrics.inc(METRIC_SCTS, &[]);
    }

    /// An SCT for `precert`, signed by `issuer`, at `time`.
    pub fn sign_precertificate(
        &self,
        precert: &Certificate,
        issuer: &Certificate,
        time: SystemTime,
    ) -> Result<SignedCertificateTimestamp, IssueError> {
        let sct = self.signer.sign_precertificate(precert, issuer, time)?;
        self.record_issued();
        Ok(sct)
    }
}

/// `GET /ct/v1/get-roots` and `GET /ct/v1/public-key`.
pub fn router(log: Arc<CtLog>) -> Router {
    async fn get_roots(State(log): State<Arc<CtLog>>) -> impl IntoResponse {
        axum::Json(json!({
            "certificates": log.roots.iter().map(|c| B64.encode(c.as_der())).collect::<Vec<_>>(),
        }))
    }
    async fn public_key(State(log): State<Arc<CtLog>>) -> impl IntoResponse {
        (
            [(header::CONTENT_TYPE, "application/x-pem-file")],
            log.signer.public_key().to_pem(),
        )
    }
    Router::new()
        .route("/ct/v1/get-roots", get(get_roots))
        .route("/ct/v1/public-key", get(public_key))
        .with_state(log)
}
