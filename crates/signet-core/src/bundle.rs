//! Sigstore bundles, and the one signed-artifact model verification uses.
//!
//! A bundle (`application/vnd.dev.sigstore.bundle.v0.3+json`, protobuf-JSON)
//! carries a signature, the material to check it (a public-key hint or a
//! certificate) and transparency-log evidence. Legacy `.sig` layers are
//! converted into this model where they are read
//! ([`crate::signature_manifest::Layer::to_bundle`]), so a single code path
//! verifies both.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::Value;

use crate::digest::Digest;
use crate::error::FormatError;
use crate::gojson;
use crate::limits::MAX_BUNDLE_BYTES;

/// Media type of a v0.3 bundle, the version signet writes.
pub const BUNDLE_V03_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const ACCEPTED_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    BUNDLE_V03_MEDIA_TYPE,
];

/// What a verifier needs to know about the signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerificationMaterial {
    /// Signed with a key the verifier must already hold. The hint
    /// (base64 SHA-256 of the key's SPKI) only helps pick the key.
    PublicKey {
        /// The key hint, if the bundle carries one.
        hint: Option<String>,
    },
    /// A certificate in PEM, as legacy signature layers carry it.
    CertificatePem {
        /// The leaf certificate.
        leaf: String,
        /// The rest of the chain, if given.
        chain: Option<String>,
    },
    /// A DER certificate (v0.3 bundles) or chain (v0.1/v0.2).
    CertificateDer {
        /// Leaf first.
        chain: Vec<Vec<u8>>,
    },
}

/// A signature over an artifact's SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSignature {
    /// SHA-256 of the signed artifact.
    pub digest: Digest,
    /// The raw signature bytes.
    pub signature: Vec<u8>,
}

/// A Sigstore bundle with a message signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The bundle media type as read.
    pub media_type: String,
    /// The signing key or certificate.
    pub verification_material: VerificationMaterial,
    /// Transparency-log entries, kept verbatim.
    pub tlog_entries: Vec<Value>,
    /// A legacy layer's Rekor `bundle` annotation, kept verbatim.
    pub legacy_rekor_bundle: Option<String>,
    /// The signature.
    pub message_signature: MessageSignature,
}

impl Bundle {
    /// A bundle for a signature made with a key pair, as `cosign sign-blob
    /// --key … --bundle` writes it when no transparency log is used.
    pub fn for_key_signature(
        artifact_digest: Digest,
        signature: Vec<u8>,
        key_hint: String,
    ) -> Self {
        Self {
            media_type: BUNDLE_V03_MEDIA_TYPE.to_owned(),
            verification_material: VerificationMaterial::PublicKey {
                hint: Some(key_hint),
            },
            tlog_entries: Vec::new(),
            legacy_rekor_bundle: None,
            message_signature: MessageSignature {
                digest: artifact_digest,
                signature,
            },
        }
    }

    /// Protobuf-JSON, field order as the Sigstore clients write it.
    pub fn to_json(&self) -> String {
        let mut out = String::from(r#"{"mediaType":"#);
        gojson::write_str(&mut out, &self.media_type);
        out.push_str(r#","verificationMaterial":{"#);
        match &self.verification_material {
            VerificationMaterial::PublicKey { hint } => {
                out.push_str(r#""publicKey":{"#);
                if let Some(hint) = hint {
                    out.push_str(r#""hint":"#);
                    gojson::write_str(&mut out, hint);
                }
                out.push('}');
            }
            VerificationMaterial::CertificateDer { chain } => {
                out.push_str(r#""certificate":{"rawBytes":"#);
                gojson::write_str(
                    &mut out,
                    &B64.encode(chain.first().map(Vec::as_slice).unwrap_or_default()),
                );
                out.push('}');
            }
            VerificationMaterial::CertificatePem { leaf, .. } => {
                let der = pem_rfc7468::decode_vec(leaf.as_bytes())
                    .map(|(_, d)| d)
                    .unwrap_or_default();
                out.push_str(r#""certificate":{"rawBytes":"#);
                gojson::write_str(&mut out, &B64.encode(der));
                out.push('}');
            }
        }
        if !self.tlog_entries.is_empty() {
            out.push_str(r#","tlogEntries":"#);
            gojson::write_value(&mut out, &Value::Array(self.tlog_entries.clone()));
        }
        out.push_str(r#"},"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"#);
        gojson::write_str(&mut out, &B64.encode(self.message_signature.digest.raw()));
        out.push_str(r#"},"signature":"#);
        gojson::write_str(&mut out, &B64.encode(&self.message_signature.signature));
        out.push_str("}}");
        out
    }

    /// Reads a bundle (v0.1 to v0.3) with a message signature.
    pub fn parse(bytes: &[u8]) -> Result<Self, FormatError> {
        const WHAT: &str = "Sigstore bundle";
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(FormatError::TooLarge {
                what: WHAT,
                size: bytes.len(),
                limit: MAX_BUNDLE_BYTES,
            });
        }
        let raw: RawBundle =
            serde_json::from_slice(bytes).map_err(|e| FormatError::malformed(WHAT, e))?;
        if !ACCEPTED_MEDIA_TYPES.contains(&raw.media_type.as_str()) {
            return Err(FormatError::malformed(
                WHAT,
                format!(
                    "unsupported mediaType {:?}",
                    crate::digest::truncate(&raw.media_type)
                ),
            ));
        }
        let material = raw.verification_material;
        let verification_material = if let Some(pk) = material.public_key {
            VerificationMaterial::PublicKey { hint: pk.hint }
        } else if let Some(cert) = material.certificate {
            VerificationMaterial::CertificateDer {
                chain: vec![decode(WHAT, "certificate.rawBytes", &cert.raw_bytes)?],
            }
        } else if let Some(chain) = material.x509_certificate_chain {
            let chain = chain
                .certificates
                .iter()
                .map(|c| decode(WHAT, "x509CertificateChain", &c.raw_bytes))
                .collect::<Result<Vec<_>, _>>()?;
            if chain.is_empty() {
                return Err(FormatError::malformed(WHAT, "empty certificate chain"));
            }
            VerificationMaterial::CertificateDer { chain }
        } else {
            return Err(FormatError::malformed(
                WHAT,
                "verificationMaterial has no key or certificate",
            ));
        };
        let Some(ms) = raw.message_signature else {
            return Err(if raw.dsse_envelope.is_some() {
                FormatError::malformed(
                    WHAT,
                    "DSSE-envelope bundles (attestations) are not supported yet",
                )
            } else {
                FormatError::malformed(WHAT, "no messageSignature")
            });
        };
        let digest = match ms.message_digest {
            Some(md) => {
                if md.algorithm != "SHA2_256" {
                    return Err(FormatError::malformed(
                        WHAT,
                        format!(
                            "message digest algorithm {:?} (only SHA2_256 is supported)",
                            md.algorithm
                        ),
                    ));
                }
                let raw = decode(WHAT, "messageDigest.digest", &md.digest)?;
                let raw: [u8; 32] = raw.try_into().map_err(|_| {
                    FormatError::malformed(WHAT, "messageDigest.digest is not 32 bytes")
                })?;
                Digest::from_raw(raw)
            }
            None => {
                return Err(FormatError::malformed(
                    WHAT,
                    "messageSignature has no messageDigest",
                ));
            }
        };
        Ok(Self {
            media_type: raw.media_type,
            verification_material,
            tlog_entries: material.tlog_entries,
            legacy_rekor_bundle: None,
            message_signature: MessageSignature {
                digest,
                signature: decode(WHAT, "messageSignature.signature", &ms.signature)?,
            },
        })
    }
}

fn decode(what: &'static str, field: &str, value: &str) -> Result<Vec<u8>, FormatError> {
    B64.decode(value)
        .map_err(|e| FormatError::malformed(what, format!("{field} is not base64: {e}")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBundle {
    media_type: String,
    verification_material: RawMaterial,
    #[serde(default)]
    message_signature: Option<RawMessageSignature>,
    #[serde(default)]
    dsse_envelope: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMaterial {
    #[serde(default)]
    public_key: Option<RawPublicKey>,
    #[serde(default)]
    certificate: Option<RawCert>,
    #[serde(default)]
    x509_certificate_chain: Option<RawChain>,
    #[serde(default)]
    tlog_entries: Vec<Value>,
}

#[derive(Deserialize)]
struct RawPublicKey {
    #[serde(default)]
    hint: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCert {
    raw_bytes: String,
}

#[derive(Deserialize)]
struct RawChain {
    certificates: Vec<RawCert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessageSignature {
    #[serde(default)]
    message_digest: Option<RawDigest>,
    signature: String,
}

#[derive(Deserialize)]
struct RawDigest {
    algorithm: String,
    digest: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const COSIGN_BUNDLE: &[u8] =
        include_bytes!("../../../tests/vectors/cosign-2.5/blob.bundle.json");
    const BLOB: &[u8] = include_bytes!("../../../tests/vectors/cosign-2.5/blob");

    #[test]
    fn reads_cosign_key_bundle_and_writes_it_back() {
        let b = Bundle::parse(COSIGN_BUNDLE).unwrap();
        assert_eq!(b.message_signature.digest, Digest::sha256_of(BLOB));
        assert_eq!(
            b.verification_material,
            VerificationMaterial::PublicKey {
                hint: Some("3499She4SYdnbPwso9AbHyzVXv+tlIkpGDXVafzr16g=".into())
            }
        );
        // cosign's protojson inserts random spaces; compare without them.
        let cosign_compact: String = String::from_utf8_lossy(COSIGN_BUNDLE)
            .replace(", ", ",")
            .replace(": ", ":");
        assert_eq!(b.to_json(), cosign_compact.trim());
        assert_eq!(Bundle::parse(b.to_json().as_bytes()).unwrap(), b);
    }

    #[test]
    fn rejects_dsse_and_unknown_versions() {
        let dsse = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{}},"dsseEnvelope":{}}"#;
        assert!(
            Bundle::parse(dsse)
                .unwrap_err()
                .to_string()
                .contains("DSSE")
        );
        let v4 = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.4+json","verificationMaterial":{"publicKey":{}}}"#;
        assert!(Bundle::parse(v4).is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Bundle::parse(&bytes);
        }

        #[test]
        fn parse_never_panics_on_json_shapes(sig in ".{0,20}", digest in ".{0,50}", alg in "SHA2_256|SHA2_384|x") {
            let doc = serde_json::json!({"mediaType": BUNDLE_V03_MEDIA_TYPE, "verificationMaterial": {"publicKey": {"hint": "x"}},
                "messageSignature": {"messageDigest": {"algorithm": alg, "digest": digest}, "signature": sig}});
            let _ = Bundle::parse(doc.to_string().as_bytes());
        }
    }
}
