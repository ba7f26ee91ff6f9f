//! cosign's environment overrides of trust material, turned into a trusted
//! root so that they take the one verification path:
//!
//! | variable | file | becomes |
//! |---|---|---|
//! | `SIGSTORE_ROOT_FILE` | PEM certificates: roots (self-signed) and intermediates | one certificate authority per root, with every intermediate |
//! | `SIGSTORE_REKOR_PUBLIC_KEY` | PEM public key(s) | Rekor v1 logs, log ID = SHA-256 of the key |
//! | `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE` | PEM public key(s) | CT logs, log ID = SHA-256 of the key |
//! | `SIGSTORE_TSA_CERTIFICATE_FILE` | PEM chain: one leaf, intermediates, roots | one timestamp authority |
//!
//! cosign applies no validity windows to this material, so the entries are
//! valid from the Unix epoch with no end.

use std::path::Path;

use jiff::Timestamp;
use signet_core::hash::HashAlgorithm;
use signet_core::keys::PublicKey;
use signet_core::limits::{InputLimit, read_file};

use crate::error::TrustError;
use crate::material::{TrustedCertificate, TrustedPublicKey};
use crate::time::TimeRange;
use crate::trusted_root::{CertificateAuthority, DistinguishedName, TransparencyLog, TrustedRoot};

/// Names of the variables, in cosign's spelling.
pub const SIGSTORE_ROOT_FILE: &str = "SIGSTORE_ROOT_FILE";
/// See the module documentation.
pub const SIGSTORE_REKOR_PUBLIC_KEY: &str = "SIGSTORE_REKOR_PUBLIC_KEY";
/// See the module documentation.
pub const SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: &str = "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE";
/// See the module documentation.
pub const SIGSTORE_TSA_CERTIFICATE_FILE: &str = "SIGSTORE_TSA_CERTIFICATE_FILE";

/// Largest PEM file read for an override.
pub const MAX_PEM_FILE_BYTES: usize = 1 << 20;

/// The PEM contents of cosign's overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CosignTrustOverrides {
    /// `SIGSTORE_ROOT_FILE` contents.
    pub fulcio_certificates_pem: Option<Vec<u8>>,
    /// `SIGSTORE_REKOR_PUBLIC_KEY` contents.
    pub rekor_public_keys_pem: Option<Vec<u8>>,
    /// `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE` contents.
    pub ctlog_public_keys_pem: Option<Vec<u8>>,
    /// `SIGSTORE_TSA_CERTIFICATE_FILE` contents.
    pub tsa_certificates_pem: Option<Vec<u8>>,
}

impl CosignTrustOverrides {
    /// Reads the files the variables name (via `var`, e.g.
    /// `|k| std::env::var_os(k)`), each capped while reading. Variables that
    /// are unset or empty are skipped.
    pub fn from_env(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Result<Self, TrustError> {
        let load = |name: &str| -> Result<Option<Vec<u8>>, TrustError> {
            match var(name).filter(|v| !v.is_empty()) {
                Some(path) => read_capped(name, Path::new(&path)).map(Some),
                None => Ok(None),
            }
        };
        Ok(Self {
            fulcio_certificates_pem: load(SIGSTORE_ROOT_FILE)?,
            rekor_public_keys_pem: load(SIGSTORE_REKOR_PUBLIC_KEY)?,
            ctlog_public_keys_pem: load(SIGSTORE_CT_LOG_PUBLIC_KEY_FILE)?,
            tsa_certificates_pem: load(SIGSTORE_TSA_CERTIFICATE_FILE)?,
        })
    }

    /// Whether any override is set (then cosign uses them instead of TUF).
    pub fn is_set(&self) -> bool {
        self.fulcio_certificates_pem.is_some()
            || self.rekor_public_keys_pem.is_some()
            || self.ctlog_public_keys_pem.is_some()
            || self.tsa_certificates_pem.is_some()
    }

    /// The trusted root these overrides describe.
    pub fn to_trusted_root(&self) -> Result<TrustedRoot, TrustError> {
        let always = TimeRange::since(Timestamp::UNIX_EPOCH);
        let mut root = TrustedRoot::default();
        if let Some(pem) = &self.fulcio_certificates_pem {
            let certs = certificates(SIGSTORE_ROOT_FILE, pem)?;
            let (roots, intermediates): (Vec<_>, Vec<_>) = certs
                .into_iter()
                .partition(TrustedCertificate::is_self_signed);
            if roots.is_empty() {
                return Err(TrustError::malformed(
                    "SIGSTORE_ROOT_FILE",
                    "no self-signed root certificate",
                ));
            }
            for r in roots {
                let mut cert_chain = intermediates.clone();
                cert_chain.push(r);
                root.certificate_authorities.push(CertificateAuthority {
                    subject: DistinguishedName::default(),
                    uri: String::new(),
                    cert_chain,
                    valid_for: Some(always),
                    operator: None,
                });
            }
        }
        if let Some(pem) = &self.rekor_public_keys_pem {
            root.tlogs = logs(SIGSTORE_REKOR_PUBLIC_KEY, pem, always)?;
        }
        if let Some(pem) = &self.ctlog_public_keys_pem {
            root.ctlogs = logs(SIGSTORE_CT_LOG_PUBLIC_KEY_FILE, pem, always)?;
        }
        if let Some(pem) = &self.tsa_certificates_pem {
            let certs = certificates(SIGSTORE_TSA_CERTIFICATE_FILE, pem)?;
            let leaves: Vec<&TrustedCertificate> = certs.iter().filter(|c| !c.is_ca()).collect();
            if leaves.len() != 1 {
                return Err(TrustError::malformed(
                    "SIGSTORE_TSA_CERTIFICATE_FILE",
                    format!(
                        "the chain must contain exactly one leaf certificate, found {}",
                        leaves.len()
                    ),
                ));
            }
            if !certs.iter().any(|c| c.is_ca() && c.is_self_signed()) {
                return Err(TrustError::malformed(
                    "SIGSTORE_TSA_CERTIFICATE_FILE",
                    "the chain must contain at least one root certificate",
                ));
            }
            // Leaf first, then intermediates, then roots.
            let mut cert_chain: Vec<TrustedCertificate> = leaves.into_iter().cloned().collect();
            cert_chain.extend(
                certs
                    .iter()
                    .filter(|c| c.is_ca() && !c.is_self_signed())
                    .cloned(),
            );
            cert_chain.extend(
                certs
                    .iter()
                    .filter(|c| c.is_ca() && c.is_self_signed())
                    .cloned(),
            );
            root.timestamp_authorities.push(CertificateAuthority {
                subject: DistinguishedName::default(),
                uri: String::new(),
                cert_chain,
                valid_for: Some(always),
                operator: None,
            });
        }
        Ok(root)
    }
}

fn read_capped(name: &str, path: &Path) -> Result<Vec<u8>, TrustError> {
    const LIMIT: InputLimit = InputLimit::new(
        "a PEM file named by a SIGSTORE_* variable",
        MAX_PEM_FILE_BYTES,
    );
    read_file(path, LIMIT).map_err(|source| TrustError::Read {
        what: name.to_owned(),
        source,
    })
}

fn blocks(name: &'static str, pem: &[u8], label: &str) -> Result<Vec<Vec<u8>>, TrustError> {
    let blocks = signet_core::pem::decode_all(pem).map_err(|e| TrustError::malformed(name, e))?;
    blocks
        .into_iter()
        .map(|(l, der)| {
            if l == label {
                Ok(der)
            } else {
                Err(TrustError::malformed(
                    name,
                    format!("expected {label} blocks, found {l:?}"),
                ))
            }
        })
        .collect()
}

fn certificates(name: &'static str, pem: &[u8]) -> Result<Vec<TrustedCertificate>, TrustError> {
    blocks(name, pem, "CERTIFICATE")?
        .into_iter()
        .map(|der| TrustedCertificate::from_der(der).map_err(|e| TrustError::malformed(name, e)))
        .collect()
}

fn logs(
    name: &'static str,
    pem: &[u8],
    valid_for: TimeRange,
) -> Result<Vec<TransparencyLog>, TrustError> {
    blocks(name, pem, "PUBLIC KEY")?
        .into_iter()
        .map(|der| {
            let key = PublicKey::from_spki_der(&der).map_err(|e| TrustError::malformed(name, e))?;
            let public_key = TrustedPublicKey::from_public_key(&key, Some(valid_for))?;
            Ok(TransparencyLog {
                base_url: String::new(),
                hash_algorithm: HashAlgorithm::Sha2_256,
                log_id: public_key.sha256_key_id().to_vec(),
                public_key,
                checkpoint_key_id: None,
                operator: None,
            })
        })
        .collect()
}
