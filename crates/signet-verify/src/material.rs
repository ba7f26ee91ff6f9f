//! The signing material a verification works with: the trusted keys that
//! may have made the signature, or the bundle's leaf certificate.

use signet_core::rekor::EntryVerifier;
use signet_pki::certificate::Certificate;

use crate::keys::TrustedKey;

/// Who may have made the signature, as far as the verification has got.
#[derive(Debug)]
pub(crate) enum SigningMaterial<'a> {
    /// Trusted keys, the bundle's hinted key first. A log entry naming one
    /// of them narrows the list to that key.
    Keys(Vec<&'a TrustedKey>),
    /// The bundle's leaf certificate.
    Certificate(Box<Certificate>),
}

impl SigningMaterial<'_> {
    /// Checks that a log entry's recorded key or certificate is this signer;
    /// for keys, keeps only the key the entry names. The error says what
    /// the entry records instead.
    pub(crate) fn agree_with(&mut self, recorded: &EntryVerifier) -> Result<(), String> {
        let cert = recorded
            .leaf_certificate_der()
            .map_err(|e| format!("its key or certificate does not parse: {e}"))?;
        match self {
            Self::Certificate(leaf) => match cert {
                Some(der) if der == leaf.as_der() => Ok(()),
                Some(der) => Err(format!(
                    "it records another certificate ({}) than the bundle's ({})",
                    Certificate::from_der(&der)
                        .map(|c| c.describe())
                        .unwrap_or_else(|_| "unparseable".into()),
                    leaf.describe()
                )),
                None => {
                    Err("it records a public key, but the bundle carries a certificate".to_owned())
                }
            },
            Self::Keys(keys) => {
                let spki = match cert {
                    Some(der) => Certificate::from_der(&der)
                        .map(|c| c.public_key_der())
                        .map_err(|e| format!("its certificate does not parse: {e}"))?,
                    None => recorded
                        .public_key_spki_der()
                        .map_err(|e| format!("its key does not parse: {e}"))?
                        .unwrap_or_default(),
                };
                match keys.iter().find(|k| k.spki == spki) {
                    Some(key) => {
                        let key = *key;
                        keys.clear();
                        keys.push(key);
                        Ok(())
                    }
                    None => Err(format!(
                        "it records a key that is not {} ({})",
                        if keys.len() == 1 {
                            "the trusted key".to_owned()
                        } else {
                            format!("one of the {} trusted keys", keys.len())
                        },
                        keys.iter()
                            .map(|k| k.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                }
            }
        }
    }
}
