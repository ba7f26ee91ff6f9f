//! The TLS configuration for registries: whose certificates are trusted,
//! under which name, and which client certificate is presented.
//!
//! By default the platform's roots are trusted, loaded when the first
//! certificate arrives (`signet_tls::LazyPlatformVerifier`: a plain-HTTP
//! registry never pays for reading them). Verification itself is the
//! platform's: its roots (or `SSL_CERT_FILE` / `SSL_CERT_DIR`), WebPKI path
//! validation, the same signature algorithms. `--registry-cacert` replaces
//! the roots with its own, as cosign does; `--registry-server-name` changes
//! the name checked.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use signet_tls::{AcceptAnyCertificate, ExpectedName, LazyPlatformVerifier};

use crate::options::ClientOptions;

/// The rustls client configuration for `options`.
pub(crate) fn client_config(
    options: &ClientOptions,
) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = if options.allow_insecure_registry {
        Arc::new(AcceptAnyCertificate::new(provider.clone()))
    } else {
        let roots: Arc<dyn ServerCertVerifier> = match options.tls.roots() {
            Some(certs) => {
                let mut store = RootCertStore::empty();
                for cert in certs {
                    store.add(cert.clone())?;
                }
                WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                    .build()
                    .map_err(|e| rustls::Error::General(e.to_string()))?
            }
            None => Arc::new(LazyPlatformVerifier::new(provider.clone())),
        };
        match options.tls.server_name_override() {
            Some(name) => Arc::new(ExpectedName::new(roots, name.clone())),
            None => roots,
        }
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        // Not a weakened verifier unless --allow-insecure-registry asked for
        // one: rustls calls any custom verifier "dangerous".
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    Ok(match options.tls.identity() {
        Some(identity) => {
            builder.with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())?
        }
        None => builder.with_no_client_auth(),
    })
}
