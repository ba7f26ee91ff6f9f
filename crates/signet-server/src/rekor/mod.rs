//! The transparency log: the Rekor v1 API (`/api/v1/log/...`, [`v1`]) and
//! the Rekor v2 API (`/api/v2/log/entries` and the C2SP tlog-tiles reads,
//! [`v2`]), each over its own `signet-log` engine ([`state`]).
//!
//! A request goes: read the body (capped) → [`admit`]: parse strictly,
//! verify every signature, canonicalize (a refusal is a 400 and nothing is
//! logged) → `Log::append`, which returns once the entry is durable and in
//! a signed checkpoint → the answer, with the inclusion proof in that
//! checkpoint (and, for v1, a SET signed with the log key).
//!
//! The server hands this module everything it needs in [`LogSettings`],
//! starts it with [`TransparencyLog::start`] before it accepts connections,
//! serves [`router`], asks it for readiness, and calls
//! [`TransparencyLog::shutdown`] after the last in-flight request finished.
//! [`verify::verify_logs`] is `signet server verify-log`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;

use crate::ops::ReadinessCheck;

pub mod admit;
pub mod state;
pub mod v1;
pub mod v2;
pub mod verify;

pub use state::{LogSettings, StoreLocation, TransparencyLog, redact_url};

impl ReadinessCheck for TransparencyLog {
    fn name(&self) -> &'static str {
        "transparency-log"
    }

    fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(TransparencyLog::check(self))
    }
}

/// The Rekor v1 and v2 routes.
pub fn router(log: Arc<TransparencyLog>) -> Router {
    v1::router(log.clone()).merge(v2::router(log))
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
