//! The TLS configuration for registries: whose certificates are trusted,
//! under which name, and which client certificate is presented.
//!
//! By default the platform's roots are trusted, and they are loaded when the
//! first certificate arrives. The platform verifier reads every certificate
//! under /etc/ssl/certs when it is built: about 150 files, several
//! milliseconds, a third of a `signet verify` against a local registry. A
//! verification that never makes a TLS connection (a plain-HTTP registry)
//! should not pay for that. Verification itself is the platform's: its roots
//! (or `SSL_CERT_FILE` / `SSL_CERT_DIR`), WebPKI path validation, the same
//! signature algorithms. `--registry-cacert` replaces the roots with its
//! own, as cosign does; `--registry-server-name` changes the name checked.

use std::sync::{Arc, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::options::ClientOptions;

/// The rustls client configuration for `options`.
pub(crate) fn client_config(
    options: &ClientOptions,
) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = if options.allow_insecure_registry {
        Arc::new(AnyCertificate {
            provider: provider.clone(),
        })
    } else {
        let roots = match options.tls.roots() {
            Some(certs) => {
                let mut store = RootCertStore::empty();
                for cert in certs {
                    store.add(cert.clone())?;
                }
                Roots::Given(
                    WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                        .build()
                        .map_err(|e| rustls::Error::General(e.to_string()))?,
                )
            }
            None => Roots::Platform(OnceLock::new()),
        };
        Arc::new(RegistryVerifier {
            provider: provider.clone(),
            roots,
            server_name: options.tls.server_name_override().cloned(),
        })
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

/// Where trusted roots come from.
#[derive(Debug)]
enum Roots {
    /// The platform's, loaded on first use.
    Platform(OnceLock<Result<rustls_platform_verifier::Verifier, rustls::Error>>),
    /// The ones given (`--registry-cacert`).
    Given(Arc<WebPkiServerVerifier>),
}

/// Checks registry certificates against the trusted roots, under the
/// registry's host name or the one configured instead.
#[derive(Debug)]
struct RegistryVerifier {
    provider: Arc<CryptoProvider>,
    roots: Roots,
    server_name: Option<ServerName<'static>>,
}

impl ServerCertVerifier for RegistryVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let name = self.server_name.as_ref().unwrap_or(server_name);
        match &self.roots {
            Roots::Platform(lazy) => lazy
                .get_or_init(|| rustls_platform_verifier::Verifier::new(self.provider.clone()))
                .as_ref()
                .map_err(Clone::clone)?
                .verify_server_cert(end_entity, intermediates, name, ocsp_response, now),
            Roots::Given(verifier) => {
                verifier.verify_server_cert(end_entity, intermediates, name, ocsp_response, now)
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12(&self.provider, message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13(&self.provider, message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `--allow-insecure-registry`: any certificate is accepted, but the
/// handshake must still be signed by the key in it.
#[derive(Debug)]
struct AnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12(&self.provider, message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13(&self.provider, message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn verify_tls12(
    provider: &CryptoProvider,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    rustls::crypto::verify_tls12_signature(
        message,
        cert,
        dss,
        &provider.signature_verification_algorithms,
    )
}

fn verify_tls13(
    provider: &CryptoProvider,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    rustls::crypto::verify_tls13_signature(
        message,
        cert,
        dss,
        &provider.signature_verification_algorithms,
    )
}
