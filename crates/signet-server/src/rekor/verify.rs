//! `signet server verify-log`: recompute both logs' trees from their
//! entries and check every stored checkpoint against them (its signature
//! with the published key, its origin, its root at its size), which makes
//! all of them consistent with one another and with the tree served now.
//!
//! It needs only public material: `server.toml` (for the checkpoint origin)
//! and the published `rekor.pub` and `rekor-v2.pub`. The embedded store is
//! locked by a running server, so stop it first; a PostgreSQL log can be
//! checked while replicas serve it.

use signet_core::keys::PublicKey;
use signet_core::limits::{self, InputLimit};
use signet_log::{CheckpointReader, LogReport, verify_log};
use signet_tlog::TlogError;
use signet_tlog::checkpoint::{Checkpoint, CheckpointVerifier, RekorV1CheckpointVerifier};

use super::state::{REKOR_V1_LOG, REKOR_V2_LOG, StoreLocation, rekor_v1_origin};
use crate::datadir::DataDir;
use crate::error::ServerError;

/// The outcome for one log.
#[derive(Debug)]
pub struct LogCheck {
    /// The log's name (`rekor-v1`, `rekor-v2`).
    pub name: &'static str,
    /// What was checked, or why the log is not consistent.
    pub result: Result<LogReport, String>,
}

/// Reads a Rekor v1 checkpoint, checking its signature and its origin.
struct V1Reader {
    verifier: RekorV1CheckpointVerifier,
    origin: String,
}

impl CheckpointReader for V1Reader {
    fn read(&self, note: &[u8]) -> Result<Checkpoint, TlogError> {
        let cp = self.verifier.verify(note)?.checkpoint;
        if cp.origin() != self.origin {
            return Err(TlogError::OriginMismatch {
                expected: self.origin.clone(),
                actual: cp.origin().to_owned(),
            });
        }
        Ok(cp)
    }
}

fn read_public_key(path: &std::path::Path) -> Result<PublicKey, ServerError> {
    let pem = limits::read_file(path, InputLimit::new("a public key", 64 << 10)).map_err(|e| {
        ServerError::Key {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    })?;
    PublicKey::from_pem(&pem).map_err(|e| ServerError::Key {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Checks both logs of the data directory `dir`, in its embedded store or
/// in `database`. An error means the check could not run (no data
/// directory, a store that cannot be opened); a log that fails the check
/// is reported in its [`LogCheck`].
pub async fn verify_logs(
    dir: &DataDir,
    database: Option<&str>,
) -> Result<Vec<LogCheck>, ServerError> {
    let config = dir.read_config()?;
    let host = config.checkpoint_origin();
    let v1_key = read_public_key(&dir.rekor_v1_key_file())?;
    let v2_key = read_public_key(&dir.rekor_v2_key_file())?;
    let location = StoreLocation::new(&dir.log_dir(), database);
    let mut checks = Vec::new();
    for name in [REKOR_V1_LOG, REKOR_V2_LOG] {
        if let StoreLocation::Embedded(store_dir) = &location {
            let file = store_dir.join(format!("{name}.redb"));
            if !file.is_file() {
                return Err(ServerError::Service {
                    service: "transparency log",
                    reason: format!(
                        "{} does not exist: the server has not run with the embedded store here",
                        file.display()
                    ),
                });
            }
        }
        let store = location.open(name).await?;
        let reader: Box<dyn CheckpointReader> = if name == REKOR_V1_LOG {
            Box::new(V1Reader {
                verifier: RekorV1CheckpointVerifier::new(v1_key.clone()).map_err(|e| {
                    ServerError::Key {
                        path: dir.rekor_v1_key_file(),
                        reason: e.to_string(),
                    }
                })?,
                origin: rekor_v1_origin(&host, &v1_key),
            })
        } else {
            Box::new(
                CheckpointVerifier::for_log_key(&host, v2_key.clone()).map_err(|e| {
                    ServerError::Key {
                        path: dir.rekor_v2_key_file(),
                        reason: e.to_string(),
                    }
                })?,
            )
        };
        let result = verify_log(store.as_ref(), reader.as_ref())
            .await
            .map_err(|e| e.to_string());
        checks.push(LogCheck { name, result });
    }
    Ok(checks)
}
