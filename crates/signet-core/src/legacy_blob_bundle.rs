//! cosign's older blob bundle, what `cosign sign-blob --bundle` writes when
//! `--new-bundle-format` is false (cosign 2.5's default):
//!
//! ```json
//! {"base64Signature":"MEUC…","cert":"LS0tLS1CRUdJTi…","rekorBundle":{…}}
//! ```
//!
//! `cert` is the base64 of a PEM certificate (or, from older writers, of a
//! PEM public key, or the PEM itself) and is left out for key signatures;
//! `rekorBundle` is the Rekor inclusion promise, left out without a log.
//! It is read here and converted into the [`Bundle`] model, so it takes the
//! one verification path.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::Value;

use crate::bundle::{
    BUNDLE_V03_MEDIA_TYPE, Bundle, BundleContent, MessageSignature, RekorBundle,
    VerificationMaterial,
};
use crate::digest::Digest;
use crate::error::FormatError;
use crate::gojson;
use crate::hash::HashOutput;
use crate::limits::MAX_BUNDLE_BYTES;

const WHAT: &str = "cosign blob bundle";

/// A signature, its certificate and Rekor promise, in cosign's older layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyBlobBundle {
    /// The raw signature.
    pub signature: Vec<u8>,
    /// The signing certificate in PEM, if the bundle carries one.
    pub certificate_pem: Option<String>,
    /// The Rekor bundle, kept verbatim.
    pub rekor_bundle: Option<Value>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "base64Signature")]
    base64_signature: String,
    #[serde(default)]
    cert: String,
    #[serde(rename = "rekorBundle", default)]
    rekor_bundle: Option<Value>,
}

impl LegacyBlobBundle {
    /// Whether `bytes` look like this format rather than a Sigstore bundle:
    /// a JSON object with `base64Signature` and no `mediaType`.
    pub fn detect(bytes: &[u8]) -> bool {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => {
                map.contains_key("base64Signature") && !map.contains_key("mediaType")
            }
            _ => false,
        }
    }

    /// Reads the format, size-capped.
    pub fn parse(bytes: &[u8]) -> Result<Self, FormatError> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(FormatError::TooLarge {
                what: WHAT,
                size: bytes.len(),
                limit: MAX_BUNDLE_BYTES,
            });
        }
        let raw: Raw =
            serde_json::from_slice(bytes).map_err(|e| FormatError::malformed(WHAT, e))?;
        let signature = B64
            .decode(raw.base64_signature.trim())
            .map_err(|e| FormatError::malformed(WHAT, format!("base64Signature: {e}")))?;
        if signature.is_empty() {
            return Err(FormatError::malformed(WHAT, "base64Signature is empty"));
        }
        let pem = if raw.cert.trim_start().starts_with("-----BEGIN") {
            Some(raw.cert)
        } else if raw.cert.is_empty() {
            None
        } else {
            let decoded = B64
                .decode(raw.cert.trim())
                .map_err(|e| FormatError::malformed(WHAT, format!("cert: {e}")))?;
            Some(String::from_utf8(decoded).map_err(|_| {
                FormatError::malformed(WHAT, "cert is not base64 of a PEM document")
            })?)
        };
        // A public key here is only a hint; verification uses the trusted keys.
        let certificate_pem = pem.filter(|p| p.contains("-----BEGIN CERTIFICATE-----"));
        Ok(Self {
            signature,
            certificate_pem,
            rekor_bundle: raw.rekor_bundle.filter(|v| !v.is_null()),
        })
    }

    /// The JSON cosign writes (Go `encoding/json` layout, fields in struct order).
    pub fn to_json(&self) -> String {
        let mut out = String::from(r#"{"base64Signature":"#);
        gojson::write_str(&mut out, &B64.encode(&self.signature));
        if let Some(pem) = &self.certificate_pem {
            out.push_str(r#","cert":"#);
            gojson::write_str(&mut out, &B64.encode(pem.as_bytes()));
        }
        if let Some(rekor) = &self.rekor_bundle {
            out.push_str(r#","rekorBundle":"#);
            gojson::write_value(&mut out, rekor);
        }
        out.push('}');
        out
    }

    /// The bundle model for a signature over a blob with digest
    /// `blob_digest`: the certificate as verification material, the Rekor
    /// bundle as a transparency-log entry.
    pub fn into_bundle(self, blob_digest: Digest) -> Result<Bundle, FormatError> {
        let verification_material = match &self.certificate_pem {
            Some(pem) => {
                let (_, der) = pem_rfc7468::decode_vec(pem.as_bytes())
                    .map_err(|e| FormatError::malformed(WHAT, format!("cert: {e}")))?;
                VerificationMaterial::CertificateDer { chain: vec![der] }
            }
            None => VerificationMaterial::PublicKey { hint: None },
        };
        let tlog_entries = match &self.rekor_bundle {
            Some(rekor) => vec![RekorBundle::parse(&rekor.to_string())?.to_tlog_entry()?],
            None => Vec::new(),
        };
        Ok(Bundle {
            media_type: BUNDLE_V03_MEDIA_TYPE.to_owned(),
            verification_material,
            tlog_entries,
            rfc3161_timestamps: Vec::new(),
            content: BundleContent::MessageSignature(MessageSignature {
                message_digest: HashOutput::from_sha256(&blob_digest),
                signature: self.signature,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn key_signature_round_trips_in_cosigns_layout() {
        let bundle = LegacyBlobBundle {
            signature: vec![0x30, 0x45, 1, 2, 3],
            certificate_pem: None,
            rekor_bundle: None,
        };
        let json = bundle.to_json();
        assert_eq!(json, r#"{"base64Signature":"MEUBAgM="}"#);
        assert!(LegacyBlobBundle::detect(json.as_bytes()));
        assert_eq!(LegacyBlobBundle::parse(json.as_bytes()).unwrap(), bundle);
        let model = bundle.into_bundle(Digest::sha256_of(b"blob")).unwrap();
        assert_eq!(
            model.verification_material,
            VerificationMaterial::PublicKey { hint: None }
        );
    }

    #[test]
    fn certificates_in_base64_or_plain_pem_and_public_keys_as_hints() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let b64 = format!(
            r#"{{"base64Signature":"MEUBAgM=","cert":"{}","rekorBundle":{{"SignedEntryTimestamp":"x"}}}}"#,
            B64.encode(pem)
        );
        let parsed = LegacyBlobBundle::parse(b64.as_bytes()).unwrap();
        assert_eq!(parsed.certificate_pem.as_deref(), Some(pem));
        assert!(parsed.rekor_bundle.is_some());
        assert_eq!(parsed.to_json(), b64);
        let plain = serde_json::json!({"base64Signature": "MEUBAgM=", "cert": pem}).to_string();
        assert_eq!(
            LegacyBlobBundle::parse(plain.as_bytes())
                .unwrap()
                .certificate_pem
                .as_deref(),
            Some(pem)
        );
        let key = B64.encode("-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n");
        let with_key = format!(r#"{{"base64Signature":"MEUBAgM=","cert":"{key}"}}"#);
        assert_eq!(
            LegacyBlobBundle::parse(with_key.as_bytes())
                .unwrap()
                .certificate_pem,
            None
        );
    }

    #[test]
    fn sigstore_bundles_and_garbage_are_not_this_format() {
        assert!(!LegacyBlobBundle::detect(
            br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","base64Signature":"x"}"#
        ));
        for bad in [
            &br#"{"base64Signature":"%%%"}"#[..],
            br#"{"base64Signature":""}"#,
            br#"{"cert":"x"}"#,
            br#"[1]"#,
            b"\xff",
        ] {
            assert!(LegacyBlobBundle::parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = LegacyBlobBundle::detect(&bytes);
            let _ = LegacyBlobBundle::parse(&bytes);
        }
    }
}
