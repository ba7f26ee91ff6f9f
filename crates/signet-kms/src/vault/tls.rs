//! TLS to Vault as cosign (through Vault's Go client) and the Vault CLI
//! configure it: `VAULT_CACERT`, `VAULT_CACERT_BYTES`, `VAULT_CAPATH`,
//! `VAULT_CLIENT_CERT`/`VAULT_CLIENT_KEY`, `VAULT_SKIP_VERIFY` and
//! `VAULT_TLS_SERVER_NAME`, with the same precedence:
//!
//! - A CA file, CA PEM text or CA directory *replaces* the system trust
//!   roots; the file wins over the text, the text over the directory.
//! - `VAULT_SKIP_VERIFY` (Go's boolean spellings) turns certificate checks
//!   off; handshake signatures are still checked.
//! - `VAULT_TLS_SERVER_NAME` is the name the certificate must hold, whatever
//!   host `VAULT_ADDR` names. (The TLS SNI still carries `VAULT_ADDR`'s host:
//!   the HTTP stack sets it from the URL.)
//! - A client certificate needs both the certificate and its key.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use signet_core::limits;
use signet_tls::{AcceptAnyCertificate, ExpectedName, LazyPlatformVerifier};

use crate::KmsError;

/// Most files read from a `VAULT_CAPATH` directory tree.
const MAX_CA_PATH_FILES: usize = 1000;

/// How to reach a Vault server over TLS. The default trusts the platform's
/// roots and presents no client certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VaultTls {
    /// `VAULT_CACERT`: a PEM file of CA certificates to trust instead of the
    /// system roots.
    pub ca_cert: Option<PathBuf>,
    /// `VAULT_CACERT_BYTES`: the same, as PEM text.
    pub ca_cert_pem: Option<String>,
    /// `VAULT_CAPATH`: a directory (walked recursively) of PEM CA files.
    pub ca_path: Option<PathBuf>,
    /// `VAULT_CLIENT_CERT`: a PEM client certificate (chain) for mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// `VAULT_CLIENT_KEY`: the PEM private key of `client_cert`.
    pub client_key: Option<PathBuf>,
    /// `VAULT_SKIP_VERIFY`: accept any server certificate.
    pub skip_verify: bool,
    /// `VAULT_TLS_SERVER_NAME`: the name the server certificate must hold.
    pub server_name: Option<String>,
}

impl VaultTls {
    /// Reads the `VAULT_*` TLS variables. Empty variables count as unset, as
    /// in Vault's client.
    pub fn from_env() -> Result<Self, KmsError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, KmsError> {
        let skip_verify = match get("VAULT_SKIP_VERIFY") {
            None => false,
            Some(v) => parse_go_bool(&v).ok_or_else(|| {
                setup_error(format!(
                    "VAULT_SKIP_VERIFY={v:?} is not a boolean (expected one of 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False)"
                ))
            })?,
        };
        Ok(Self {
            ca_cert: get("VAULT_CACERT").map(PathBuf::from),
            ca_cert_pem: get("VAULT_CACERT_BYTES"),
            ca_path: get("VAULT_CAPATH").map(PathBuf::from),
            client_cert: get("VAULT_CLIENT_CERT").map(PathBuf::from),
            client_key: get("VAULT_CLIENT_KEY").map(PathBuf::from),
            skip_verify,
            server_name: get("VAULT_TLS_SERVER_NAME"),
        })
    }

    /// Whether anything differs from the default (platform roots, no client
    /// certificate).
    pub fn is_default(&self) -> bool {
        self == &Self::default()
    }

    /// The rustls configuration these settings describe. Every file is read
    /// here, through capped reads, so that a bad setting fails before any
    /// request is made.
    pub(crate) fn client_config(&self) -> Result<rustls::ClientConfig, KmsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = if self.skip_verify {
            Arc::new(AcceptAnyCertificate::new(provider.clone()))
        } else {
            let base: Arc<dyn ServerCertVerifier> = match self.trust_roots()? {
                Some(roots) => {
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|e| setup_error(format!("trust roots: {e}")))?
                }
                None => Arc::new(LazyPlatformVerifier::new(provider.clone())),
            };
            match &self.server_name {
                Some(name) => {
                    let name = ServerName::try_from(name.clone()).map_err(|_| {
                        setup_error(format!(
                            "VAULT_TLS_SERVER_NAME={name:?} is not a DNS name or IP address"
                        ))
                    })?;
                    Arc::new(ExpectedName::new(base, name))
                }
                None => base,
            }
        };
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| setup_error(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        match (&self.client_cert, &self.client_key) {
            (None, None) => Ok(builder.with_no_client_auth()),
            (Some(cert), Some(key)) => {
                let chain = read_certificates(cert, "VAULT_CLIENT_CERT")?;
                let key = read_private_key(key)?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| setup_error(format!("client certificate and key: {e}")))
            }
            (Some(_), None) => Err(setup_error(
                "VAULT_CLIENT_CERT is set but VAULT_CLIENT_KEY is not; a client certificate needs its key".into(),
            )),
            (None, Some(_)) => Err(setup_error(
                "VAULT_CLIENT_KEY is set but VAULT_CLIENT_CERT is not; a client key needs its certificate".into(),
            )),
        }
    }

    /// The CA certificates to trust instead of the platform's, if any are set.
    fn trust_roots(&self) -> Result<Option<RootCertStore>, KmsError> {
        let certs = if let Some(file) = &self.ca_cert {
            read_certificates(file, "VAULT_CACERT")?
        } else if let Some(pem) = &self.ca_cert_pem {
            parse_certificates(pem.as_bytes(), Path::new("VAULT_CACERT_BYTES"))?
        } else if let Some(dir) = &self.ca_path {
            read_ca_path(dir)?
        } else {
            return Ok(None);
        };
        let mut roots = RootCertStore::empty();
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| setup_error(format!("CA certificate: {e}")))?;
        }
        Ok(Some(roots))
    }
}

/// Go's `strconv.ParseBool`, which Vault's client uses for `VAULT_SKIP_VERIFY`.
fn parse_go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn setup_error(message: String) -> KmsError {
    KmsError::Vault {
        operation: "TLS setup".into(),
        message,
    }
}

fn read_certificates(
    path: &Path,
    variable: &str,
) -> Result<Vec<CertificateDer<'static>>, KmsError> {
    let pem = limits::read_file(path, limits::CERTIFICATE_FILE)
        .map_err(|e| setup_error(format!("{variable}: {e}")))?;
    parse_certificates(&pem, path)
}

fn parse_certificates(pem: &[u8], origin: &Path) -> Result<Vec<CertificateDer<'static>>, KmsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| setup_error(format!("{}: not PEM certificates: {e}", origin.display())))?;
    if certs.is_empty() {
        return Err(setup_error(format!(
            "{}: no PEM certificate in it",
            origin.display()
        )));
    }
    Ok(certs)
}

/// Every file under `dir` must hold PEM certificates, as Vault's client
/// (go-rootcerts) requires.
fn read_ca_path(dir: &Path) -> Result<Vec<CertificateDer<'static>>, KmsError> {
    let mut certs = Vec::new();
    let mut pending = vec![dir.to_owned()];
    let mut files = 0;
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d)
            .map_err(|e| setup_error(format!("VAULT_CAPATH: {}: {e}", d.display())))?;
        let mut paths: Vec<PathBuf> = entries
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(|e| setup_error(format!("VAULT_CAPATH: {}: {e}", d.display())))?;
        paths.sort();
        for path in paths {
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            files += 1;
            if files > MAX_CA_PATH_FILES {
                return Err(setup_error(format!(
                    "VAULT_CAPATH: {} holds more than {MAX_CA_PATH_FILES} files",
                    dir.display()
                )));
            }
            certs.extend(read_certificates(&path, "VAULT_CAPATH")?);
        }
    }
    if certs.is_empty() {
        return Err(setup_error(format!(
            "VAULT_CAPATH: {} holds no certificate",
            dir.display()
        )));
    }
    Ok(certs)
}

fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, KmsError> {
    let pem = limits::read_secret_file(path, limits::KEY_FILE)
        .map_err(|e| setup_error(format!("VAULT_CLIENT_KEY: {e}")))?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        setup_error(format!(
            "VAULT_CLIENT_KEY: {}: not a PEM private key (PKCS#8, SEC1 or PKCS#1): {e}",
            path.display()
        ))
    })
}

/// A one-line explanation of a failed TLS connection, with the setting that
/// fixes it, when the error chain holds a rustls error.
pub(crate) fn explain(
    error: &(dyn std::error::Error + 'static),
    settings: &VaultTls,
) -> Option<String> {
    let tls = find_rustls_error(error)?;
    use rustls::{AlertDescription, CertificateError, Error};
    Some(match tls {
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            let trusted = if settings.ca_cert.is_some() {
                "the CA in VAULT_CACERT"
            } else if settings.ca_cert_pem.is_some() {
                "the CA in VAULT_CACERT_BYTES"
            } else if settings.ca_path.is_some() {
                "the CAs in VAULT_CAPATH"
            } else {
                "the system's trusted CAs (set VAULT_CACERT or VAULT_CAPATH to the CA that signed it)"
            };
            format!("TLS: the server's certificate is not signed by {trusted}")
        }
        Error::InvalidCertificate(
            e @ (CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }),
        ) => {
            let holds = match e {
                CertificateError::NotValidForNameContext { presented, .. } if !presented.is_empty() => {
                    // rustls gives them as `DnsName("host")`; show the names.
                    let names: Vec<&str> = presented
                        .iter()
                        .map(|p| match (p.find('"'), p.rfind('"')) {
                            (Some(a), Some(b)) if a < b => &p[a + 1..b],
                            _ => p.as_str(),
                        })
                        .collect();
                    format!("; it holds {}", names.join(", "))
                }
                _ => String::new(),
            };
            match &settings.server_name {
                Some(name) => format!(
                    "TLS: the server's certificate is not valid for VAULT_TLS_SERVER_NAME={name:?}{holds}"
                ),
                None => format!(
                    "TLS: the server's certificate is not valid for the host in VAULT_ADDR{holds} (set VAULT_TLS_SERVER_NAME to a name it holds)"
                ),
            }
        }
        Error::InvalidCertificate(other) => {
            format!("TLS: the server's certificate was rejected: {other:?}")
        }
        Error::AlertReceived(AlertDescription::CertificateRequired) => {
            "TLS: the server requires a client certificate (set VAULT_CLIENT_CERT and VAULT_CLIENT_KEY)".to_owned()
        }
        Error::AlertReceived(
            alert @ (AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateUnknown
            | AlertDescription::AccessDenied),
        ) if settings.client_cert.is_some() => {
            format!("TLS: the server refused the client certificate in VAULT_CLIENT_CERT ({alert:?})")
        }
        other => format!("TLS: {other}"),
    })
}

fn find_rustls_error<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        // io::Error::source() skips the error it wraps (which may itself be
        // an io::Error wrapping the TLS error): step inside it instead.
        current = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<VaultTls, KmsError> {
        VaultTls::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn reads_the_vault_variables() {
        assert!(settings(&[]).unwrap().is_default());
        let s = settings(&[
            ("VAULT_CACERT", "/ca.pem"),
            ("VAULT_CAPATH", "/cas"),
            ("VAULT_CLIENT_CERT", "/c.pem"),
            ("VAULT_CLIENT_KEY", "/c.key"),
            ("VAULT_SKIP_VERIFY", "T"),
            ("VAULT_TLS_SERVER_NAME", "vault.internal"),
        ])
        .unwrap();
        assert_eq!(s.ca_cert.as_deref(), Some(Path::new("/ca.pem")));
        assert_eq!(s.ca_path.as_deref(), Some(Path::new("/cas")));
        assert!(s.skip_verify);
        assert_eq!(s.server_name.as_deref(), Some("vault.internal"));
        for (v, expected) in [("0", false), ("false", false), ("1", true), ("True", true)] {
            assert_eq!(
                settings(&[("VAULT_SKIP_VERIFY", v)]).unwrap().skip_verify,
                expected
            );
        }
        let err = settings(&[("VAULT_SKIP_VERIFY", "yes")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("VAULT_SKIP_VERIFY=\"yes\""), "{err}");
    }

    #[test]
    fn bad_settings_fail_before_any_request() {
        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("ca.pem");
        std::fs::write(&not_pem, "not a certificate").unwrap();
        let cases = [
            (
                settings(&[("VAULT_CACERT", "/nonexistent/ca.pem")]),
                "VAULT_CACERT: /nonexistent/ca.pem",
            ),
            (
                settings(&[("VAULT_CACERT", not_pem.to_str().unwrap())]),
                "no PEM certificate",
            ),
            (
                settings(&[("VAULT_CAPATH", dir.path().to_str().unwrap())]),
                "no PEM certificate",
            ),
            (
                settings(&[("VAULT_CLIENT_CERT", "/c.pem")]),
                "VAULT_CLIENT_KEY is not",
            ),
            (
                settings(&[("VAULT_CLIENT_KEY", "/c.key")]),
                "VAULT_CLIENT_CERT is not",
            ),
            (
                settings(&[("VAULT_TLS_SERVER_NAME", "not a name!")]),
                "not a DNS name",
            ),
        ];
        for (s, needle) in cases {
            let err = s.unwrap().client_config().unwrap_err().to_string();
            assert!(err.contains(needle), "{err} lacks {needle}");
        }
    }
}
