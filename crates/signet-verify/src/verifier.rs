use signet_core::bundle::{Bundle, VerificationMaterial};
use signet_core::keys::PublicKey;
use signet_core::{Artifact, Digest};

use crate::error::{ConfigError, Rejection, VerifyError};

/// A key the verifier trusts, with a name for results and messages.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// Where the key came from (`cosign.pub`, `hashivault://release`).
    pub name: String,
    /// The key.
    pub key: PublicKey,
    hint: String,
}

impl TrustedKey {
    /// A trusted key called `name`.
    pub fn new(name: impl Into<String>, key: PublicKey) -> Self {
        let hint = key.hint();
        Self {
            name: name.into(),
            key,
            hint,
        }
    }
}

/// What was established about the transparency log for a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlogCheck {
    /// Not checked: signet does not verify Rekor entries yet.
    NotChecked,
}

/// Verifies signatures against a fixed set of trusted keys. Built once (for
/// example per admission-controller configuration) and shared; any one of the
/// keys verifying a signature is enough, which is what a key rotation needs.
#[derive(Debug, Clone)]
pub struct Verifier {
    keys: Vec<TrustedKey>,
}

/// A blob whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifiedBlob {
    /// SHA-256 of the blob.
    pub digest: Digest,
    /// The name of the trusted key that verified it.
    pub key: String,
    /// Transparency-log status.
    pub tlog: TlogCheck,
}

impl Verifier {
    /// A verifier trusting `keys`.
    pub fn new(keys: Vec<TrustedKey>) -> Result<Self, ConfigError> {
        if keys.is_empty() {
            return Err(ConfigError::NoTrustedKeys);
        }
        Ok(Self { keys })
    }

    /// The trusted keys.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// Whether any trusted key signs whole messages (Ed25519), so that a blob
    /// must be kept in memory to be verified.
    pub fn needs_whole_messages(&self) -> bool {
        self.keys.iter().any(|k| k.key.signs_whole_message())
    }

    /// Checks `bundle`'s signature over `signed` (the exact signed bytes)
    /// and returns the name of the key that verified it.
    ///
    /// Keys whose hint matches the bundle's are tried first; the hint is not
    /// trusted, only used to save work.
    pub(crate) fn check_signature(
        &self,
        signed: &[u8],
        bundle: &Bundle,
    ) -> Result<&TrustedKey, String> {
        self.check_artifact(&Artifact::from_bytes(signed.to_vec()), bundle)
    }

    /// [`check_signature`](Self::check_signature) over an artifact that may
    /// have been streamed rather than held whole.
    fn check_artifact(&self, signed: &Artifact, bundle: &Bundle) -> Result<&TrustedKey, String> {
        let Some(message_signature) = bundle.message_signature() else {
            return Err(
                "the bundle carries a DSSE envelope; key-based verification of attestations is not available yet"
                    .to_owned(),
            );
        };
        let actual = signed.digest();
        match message_signature.sha256() {
            Some(claimed) if &claimed != actual => {
                return Err(format!(
                    "the signature covers digest {claimed}, but the signed content has digest {actual}"
                ));
            }
            Some(_) => {}
            None => {
                return Err(format!(
                    "the bundle's message digest is {}, signet checks SHA2_256 digests only",
                    message_signature.message_digest.algorithm()
                ));
            }
        }
        let hint = match &bundle.verification_material {
            VerificationMaterial::PublicKey { hint } => hint.as_deref(),
            _ => None,
        };
        let (hinted, others): (Vec<&TrustedKey>, Vec<&TrustedKey>) = self
            .keys
            .iter()
            .partition(|k| Some(k.hint.as_str()) == hint);
        let mut last_error = None;
        for key in hinted.into_iter().chain(others) {
            match key
                .key
                .verify_artifact(signed, &message_signature.signature)
            {
                Ok(()) => return Ok(key),
                Err(e) => last_error = Some(e),
            }
        }
        let names: Vec<&str> = self.keys.iter().map(|k| k.name.as_str()).collect();
        Err(match (last_error, names.len()) {
            (Some(e), 1) => format!("{e} ({})", names[0]),
            (Some(_), _) => format!(
                "signature does not verify under any of the {} keys ({})",
                names.len(),
                names.join(", ")
            ),
            (None, _) => "no key to try".to_owned(),
        })
    }

    /// Verifies a blob against a bundle (from `--bundle`, or built from `--signature`).
    pub fn verify_blob(&self, blob: &[u8], bundle: &Bundle) -> Result<VerifiedBlob, VerifyError> {
        self.verify_artifact(&Artifact::from_bytes(blob.to_vec()), bundle)
    }

    /// Verifies a streamed blob ([`Artifact::read`]) against a bundle. ECDSA
    /// and RSA keys check the digest, so the blob need not have been kept;
    /// Ed25519 keys need its bytes.
    pub fn verify_artifact(
        &self,
        artifact: &Artifact,
        bundle: &Bundle,
    ) -> Result<VerifiedBlob, VerifyError> {
        let digest = artifact.digest().clone();
        match self.check_artifact(artifact, bundle) {
            Ok(key) => Ok(VerifiedBlob {
                digest,
                key: key.name.clone(),
                tlog: TlogCheck::NotChecked,
            }),
            Err(reason) => Err(VerifyError::NoMatchingSignature {
                digest,
                rejections: vec![Rejection {
                    origin: "blob signature".into(),
                    reason,
                }],
            }),
        }
    }
}
