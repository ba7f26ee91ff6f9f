//! The transparency log's place in the server: the Rekor v1 API
//! (`/api/v1/log/...`) and the Rekor v2 API (`/api/v2/log/entries` and the
//! C2SP tlog-tiles reads).
//!
//! This module is where the log plugs in. The server hands it everything it
//! needs in [`LogSettings`] (its two keys, its store's directory, the
//! `--database` URL, the public URL and the checkpoint origin), starts it
//! with [`TransparencyLog::start`] before it accepts connections, serves
//! [`router`], asks it for readiness, and calls
//! [`TransparencyLog::shutdown`] after the last in-flight request finished.
//!
//! Until the log engine is wired in, its routes answer 501 with a reason,
//! so a client pointed at them fails clearly rather than with a 404.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use signet_core::keys::PrivateKey;

use crate::api::ApiError;
use crate::error::ServerError;
use crate::metrics::Metrics;
use crate::ops::ReadinessCheck;

/// What the log is started with.
pub struct LogSettings {
    /// The Rekor v1 key (ECDSA P-256): SETs and checkpoints.
    pub rekor_v1_key: PrivateKey,
    /// The Rekor v2 checkpoint key (Ed25519).
    pub rekor_v2_key: PrivateKey,
    /// Where the embedded store lives (`DIR/log`).
    pub store_dir: PathBuf,
    /// `--database`: a PostgreSQL URL; the embedded store when `None`.
    pub database: Option<String>,
    /// The public URL (base of entry URLs).
    pub base_url: String,
    /// The Rekor v2 checkpoint origin (the public URL's host name).
    pub checkpoint_origin: String,
}

impl std::fmt::Debug for LogSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSettings")
            .field("store_dir", &self.store_dir)
            .field("database", &self.database.as_deref().map(redact_url))
            .field("base_url", &self.base_url)
            .field("checkpoint_origin", &self.checkpoint_origin)
            .finish_non_exhaustive()
    }
}

/// A URL with any password replaced by `***`, for logs and messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(unparseable URL)".to_owned(),
    }
}

/// The transparency log.
#[derive(Debug)]
pub struct TransparencyLog {
    settings: LogSettings,
}

impl TransparencyLog {
    /// Opens the log's store.
    pub async fn start(settings: LogSettings, metrics: Arc<Metrics>) -> Result<Self, ServerError> {
        let _ = metrics;
        if let Some(db) = &settings.database {
            tracing::info!(
                database = %redact_url(db),
                "transparency log database configured; the log API is not part of this build"
            );
        }
        Ok(Self { settings })
    }

    /// The settings the log was started with.
    pub fn settings(&self) -> &LogSettings {
        &self.settings
    }

    /// Flushes and closes the store, after the last request.
    pub async fn shutdown(&self) {}
}

impl ReadinessCheck for TransparencyLog {
    fn name(&self) -> &'static str {
        "transparency-log"
    }

    fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async { Ok(()) })
    }
}

async fn not_built() -> impl IntoResponse {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "the transparency log API is not part of this server build yet",
    )
}

/// The Rekor v1 and v2 routes.
pub fn router(log: Arc<TransparencyLog>) -> Router {
    let _ = log;
    Router::new()
        .route("/api/v1/log", axum::routing::any(not_built))
        .route("/api/v1/log/{*rest}", axum::routing::any(not_built))
        .route("/api/v2/log/{*rest}", axum::routing::any(not_built))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://signet:s3cret@db.example.test/log"),
            "postgres://signet:***@db.example.test/log"
        );
        assert_eq!(redact_url("postgres://db/log"), "postgres://db/log");
    }
}
