//! How a registry client talks to registries: schemes, trust, credentials
//! and the limits on what it reads.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use signet_core::limits::{self, ReadError};
use thiserror::Error;

use crate::auth::Credential;

/// How to talk to registries.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Let every registry fall back to plain HTTP when HTTPS fails, as
    /// cosign's `--allow-http-registry` does. Without it only local
    /// registries (loopback, `localhost`, private addresses) may, following
    /// go-containerregistry's rule; HTTPS is always tried first.
    pub allow_http_registry: bool,
    /// Use https without verifying the registry's certificate.
    pub allow_insecure_registry: bool,
    /// Trust roots, client certificate and server name for TLS.
    pub tls: TlsOptions,
    /// Credentials for every registry, overriding the config files
    /// (`--registry-username` / `--registry-password`).
    pub credentials: Option<Credential>,
    /// Largest manifest accepted (default 4 MiB, the distribution limit).
    pub max_manifest_bytes: usize,
    /// Largest blob accepted by callers that use it as their limit (default
    /// 128 MiB, cosign's `COSIGN_MAX_ATTACHMENT_SIZE`).
    pub max_blob_bytes: usize,
    /// `User-Agent` header.
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            allow_http_registry: false,
            allow_insecure_registry: false,
            tls: TlsOptions::default(),
            credentials: None,
            max_manifest_bytes: 4 << 20,
            max_blob_bytes: 128 << 20,
            user_agent: concat!("signet/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// TLS settings for registries beyond the platform's defaults: cosign's
/// `--registry-cacert`, `--registry-client-cert`/`--registry-client-key` and
/// `--registry-server-name`. The default trusts the platform's roots (which
/// honour `SSL_CERT_FILE` and `SSL_CERT_DIR`), sends no client certificate
/// and checks the certificate against the registry's host name.
#[derive(Clone, Default)]
pub struct TlsOptions {
    roots: Option<Vec<CertificateDer<'static>>>,
    identity: Option<ClientIdentity>,
    server_name: Option<ServerName<'static>>,
}

/// A client certificate chain and its private key, for mutual TLS.
#[derive(Clone)]
pub(crate) struct ClientIdentity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: Arc<PrivateKeyDer<'static>>,
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsOptions")
            .field("roots", &self.roots.as_ref().map(Vec::len))
            .field(
                "client_certificates",
                &self.identity.as_ref().map(|i| i.chain.len()),
            )
            .field("server_name", &self.server_name)
            .finish()
    }
}

/// A TLS setting that cannot be used. The caller (or the files named) is to
/// blame.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// A file could not be read within its limit.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// PEM that does not parse, or holds nothing usable.
    #[error("{what}: {reason}")]
    Pem {
        /// The file (or input) and what it should hold.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// A server name that is neither a DNS name nor an IP address.
    #[error("invalid TLS server name {name:?}: {reason}")]
    ServerName {
        /// The name given.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

impl TlsOptions {
    /// Trusts only the CA certificates in a PEM file, instead of the
    /// platform's roots (`--registry-cacert`, as cosign reads it).
    pub fn trust_only_file(self, path: &Path) -> Result<Self, TlsConfigError> {
        let pem = limits::read_file(path, limits::CERTIFICATE_FILE)?;
        self.trust_only_pem(&pem, &path.display().to_string())
    }

    /// Like [`Self::trust_only_file`], from PEM bytes; `origin` names them in errors.
    pub fn trust_only_pem(mut self, pem: &[u8], origin: &str) -> Result<Self, TlsConfigError> {
        self.roots = Some(certificates(pem, &format!("{origin} (CA certificates)"))?);
        Ok(self)
    }

    /// Presents a client certificate chain and its private key, both PEM
    /// files, to registries that ask for one (`--registry-client-cert`,
    /// `--registry-client-key`).
    pub fn client_identity_files(self, cert: &Path, key: &Path) -> Result<Self, TlsConfigError> {
        let cert_pem = limits::read_file(cert, limits::CERTIFICATE_FILE)?;
        // Wiped when dropped.
        let key_pem = limits::read_secret_file(key, limits::KEY_FILE)?;
        self.client_identity_pem(
            &cert_pem,
            &key_pem,
            &cert.display().to_string(),
            &key.display().to_string(),
        )
    }

    /// Like [`Self::client_identity_files`], from PEM bytes.
    pub fn client_identity_pem(
        mut self,
        cert_pem: &[u8],
        key_pem: &[u8],
        cert_origin: &str,
        key_origin: &str,
    ) -> Result<Self, TlsConfigError> {
        let chain = certificates(cert_pem, &format!("{cert_origin} (client certificate)"))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsConfigError::Pem {
            what: format!("{key_origin} (client key)"),
            reason: match e {
                rustls::pki_types::pem::Error::NoItemsFound => {
                    "no PEM private key (PKCS#8, SEC1 or PKCS#1) found".to_owned()
                }
                other => other.to_string(),
            },
        })?;
        self.identity = Some(ClientIdentity {
            chain,
            key: Arc::new(key),
        });
        Ok(self)
    }

    /// Checks registry certificates against `name` instead of the registry's
    /// host (`--registry-server-name`). The name sent in the TLS handshake
    /// (SNI) stays the registry's host.
    pub fn server_name(mut self, name: &str) -> Result<Self, TlsConfigError> {
        let parsed =
            ServerName::try_from(name.to_owned()).map_err(|e| TlsConfigError::ServerName {
                name: crate::text::snippet(name, 80),
                reason: e.to_string(),
            })?;
        self.server_name = Some(parsed);
        Ok(self)
    }

    pub(crate) fn roots(&self) -> Option<&[CertificateDer<'static>]> {
        self.roots.as_deref()
    }

    pub(crate) fn identity(&self) -> Option<&ClientIdentity> {
        self.identity.as_ref()
    }

    pub(crate) fn server_name_override(&self) -> Option<&ServerName<'static>> {
        self.server_name.as_ref()
    }
}

/// Every certificate in `pem`; at least one.
fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsConfigError::Pem {
            what: what.to_owned(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsConfigError::Pem {
            what: what.to_owned(),
            reason: "no PEM certificate found".into(),
        });
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let o = ClientOptions::default();
        assert_eq!(
            (o.max_manifest_bytes, o.max_blob_bytes),
            (4 << 20, 128 << 20)
        );
        assert!(o.user_agent.starts_with("signet/"));
    }
}
