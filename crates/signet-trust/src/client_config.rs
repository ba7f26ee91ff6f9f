//! sigstore-python's client trust config
//! (`application/vnd.dev.sigstore.clienttrustconfig.v0.1+json`): a trusted
//! root and a signing config in one document, as `sigstore --trust-config`
//! reads it.

use serde::Deserialize;
use signet_core::protojson;

use crate::error::TrustError;
use crate::signing_config::{RawSigningConfig, SigningConfig};
use crate::trusted_root::{MAX_TRUST_DOCUMENT_BYTES, RawTrustedRoot, TrustedRoot};

/// The media type of a client trust config.
pub const CLIENT_TRUST_CONFIG_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";
const WHAT: &str = "client trust config";

/// A trusted root with the signing config that goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientTrustConfig {
    /// What to trust when verifying.
    pub trusted_root: TrustedRoot,
    /// Where to sign.
    pub signing_config: SigningConfig,
}

impl ClientTrustConfig {
    /// Reads a client trust config.
    pub fn parse(bytes: &[u8]) -> Result<Self, TrustError> {
        if bytes.len() > MAX_TRUST_DOCUMENT_BYTES {
            return Err(TrustError::TooLarge {
                what: WHAT.into(),
                limit: MAX_TRUST_DOCUMENT_BYTES,
            });
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            #[serde(default)]
            media_type: String,
            trusted_root: Option<RawTrustedRoot>,
            signing_config: Option<RawSigningConfig>,
        }
        let raw: Raw = serde_json::from_slice(bytes).map_err(|e| TrustError::malformed(WHAT, e))?;
        if raw.media_type != CLIENT_TRUST_CONFIG_MEDIA_TYPE {
            return Err(TrustError::malformed(
                WHAT,
                format!(
                    "unsupported mediaType {:?} (expected {CLIENT_TRUST_CONFIG_MEDIA_TYPE})",
                    raw.media_type.chars().take(80).collect::<String>()
                ),
            ));
        }
        Ok(Self {
            trusted_root: raw
                .trusted_root
                .ok_or_else(|| TrustError::malformed(WHAT, "no trustedRoot"))?
                .into_root()?,
            signing_config: raw
                .signing_config
                .ok_or_else(|| TrustError::malformed(WHAT, "no signingConfig"))?
                .into_config()?,
        })
    }

    /// The document as protobuf-JSON (compact).
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"mediaType\":");
        protojson::string(&mut out, CLIENT_TRUST_CONFIG_MEDIA_TYPE);
        out.push_str(",\"trustedRoot\":");
        out.push_str(&self.trusted_root.to_json());
        out.push_str(",\"signingConfig\":");
        out.push_str(&self.signing_config.to_json());
        out.push('}');
        out
    }
}
