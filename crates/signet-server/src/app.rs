//! The one place the services are built and their routers composed.
//!
//! Each service module exposes `router(state) -> Router` over its own state;
//! this module builds those states from the configuration and key material,
//! merges the routers, and wraps them in the request policy
//! ([`crate::ops::track`]). Nothing imports this module except the server
//! entry points, so there are no import cycles between services.

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::api::ApiError;
use crate::ca::{self, CertificateAuthority};
use crate::config::ServerConfig;
use crate::ctlog::{self, CtLog};
use crate::datadir::DataDir;
use crate::error::ServerError;
use crate::material::Material;
use crate::metrics::Metrics;
use crate::oidc::OidcVerifier;
use crate::ops::{self, Lifecycle, Ops, ReadinessCheck, RequestPolicy};
use crate::rekor::{self, LogSettings, TransparencyLog};
use crate::trust_files::{self, TrustFiles};
use crate::tsa::{self, TimestampAuthority};

/// Every service of a running server.
#[derive(Debug)]
pub struct Services {
    /// The configuration in force.
    pub config: ServerConfig,
    /// The metrics registry.
    pub metrics: Arc<Metrics>,
    /// Shutdown state, read by `/readyz`.
    pub lifecycle: Arc<Lifecycle>,
    /// The Fulcio API.
    pub ca: Arc<CertificateAuthority>,
    /// The CT log.
    pub ct_log: Arc<CtLog>,
    /// The TSA.
    pub tsa: Arc<TimestampAuthority>,
    /// The published trust files.
    pub trust_files: Arc<TrustFiles>,
    /// The transparency log.
    pub log: Arc<TransparencyLog>,
    /// Health, readiness, metrics.
    pub ops: Arc<Ops>,
    /// What every request goes through.
    pub policy: Arc<RequestPolicy>,
}

impl Services {
    /// Builds every service; writes the trust files into `dir` when they changed.
    pub async fn build(
        dir: &DataDir,
        config: ServerConfig,
        material: Material,
        database: Option<String>,
    ) -> Result<Self, ServerError> {
        let metrics = Arc::new(Metrics::new());
        let lifecycle = Arc::new(Lifecycle::default());
        let public = material.public();
        let trust = TrustFiles::build(&config, &public)?;
        if trust.write_if_changed(dir)? {
            tracing::info!(dir = %dir.root().display(), "trust files written");
        }
        let Material {
            fulcio,
            ct_log,
            tsa,
            rekor_v1,
            rekor_v2,
        } = material;
        let oidc = Arc::new(
            OidcVerifier::new(&config.oidc_issuers, &config.oidc, metrics.clone()).map_err(
                |reason| ServerError::Service {
                    service: "OIDC",
                    reason,
                },
            )?,
        );
        let roots = fulcio.chain().last().cloned().into_iter().collect();
        let ct_log = Arc::new(CtLog::new(ct_log, roots, metrics.clone()));
        let ca = Arc::new(CertificateAuthority::new(
            fulcio,
            ct_log.clone(),
            oidc,
            metrics.clone(),
        ));
        let tsa = Arc::new(TimestampAuthority::new(
            signet_pki::tsa::TimestampSigner::new(tsa).map_err(|e| ServerError::Service {
                service: "TSA",
                reason: e.to_string(),
            })?,
            metrics.clone(),
        ));
        let log = Arc::new(
            TransparencyLog::start(
                LogSettings {
                    rekor_v1_key: rekor_v1,
                    rekor_v2_key: rekor_v2,
                    store_dir: dir.log_dir(),
                    database,
                    base_url: config.base_url(),
                    checkpoint_origin: config.checkpoint_origin(),
                },
                metrics.clone(),
            )
            .await?,
        );
        let checks: Vec<Arc<dyn ReadinessCheck>> = vec![log.clone()];
        let ops = Arc::new(Ops::new(lifecycle.clone(), metrics.clone(), checks));
        let policy = Arc::new(RequestPolicy::new(
            &config.rate_limit,
            &config.limits,
            metrics.clone(),
        ));
        Ok(Self {
            config,
            metrics,
            lifecycle,
            ca,
            ct_log,
            tsa,
            trust_files: Arc::new(trust),
            log,
            ops,
            policy,
        })
    }

    /// Every route, behind the request policy.
    pub fn router(&self) -> Router {
        Router::new()
            .merge(ca::router(self.ca.clone()))
            .merge(ctlog::router(self.ct_log.clone()))
            .merge(tsa::router(self.tsa.clone()))
            .merge(trust_files::router(self.trust_files.clone()))
            .merge(rekor::router(self.log.clone()))
            .merge(ops::router(self.ops.clone()))
            .fallback(not_found)
            .layer(axum::middleware::from_fn_with_state(
                self.policy.clone(),
                ops::track,
            ))
    }
}

async fn not_found(uri: axum::http::Uri) -> impl IntoResponse {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "no such endpoint: {}",
            uri.path().chars().take(200).collect::<String>()
        ),
    )
}
