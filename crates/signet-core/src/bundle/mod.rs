//! Sigstore bundles, and the one signed-artifact model verification uses.
//!
//! A bundle (protobuf-JSON, `application/vnd.dev.sigstore.bundle…`, versions
//! 0.1 to 0.3) carries a signature (a message signature or a DSSE envelope),
//! the material to check it (a public-key hint, a certificate, or a
//! certificate chain), transparency-log entries and RFC 3161 timestamps.
//! Legacy `.sig` layers are converted into this model where they are read
//! ([`crate::signature_manifest::Layer::to_bundle`]), so a single code path
//! verifies both.
//!
//! Reading applies sigstore-go's version rules: v0.4 and later are refused,
//! v0.1 entries must carry an inclusion promise, v0.2+ entries an inclusion
//! proof, and v0.3 bundles a single certificate rather than a chain.
//! Writing always emits `inclusionProof.logIndex` and `hashes` (sigstore-python
//! rejects bundles without them), 64-bit integers as strings, and never a
//! self-signed (root) certificate.

mod legacy;
mod rekor_v1;
mod tlog_entry;

use serde::Deserialize;

pub use legacy::{RekorBundle, parse_rfc3161_annotation, rfc3161_annotation};
pub use tlog_entry::{InclusionProof, KindVersion, TransparencyLogEntry};

use crate::digest::Digest;
use crate::dsse::{Envelope, RawEnvelope};
use crate::error::FormatError;
use crate::hash::{HashAlgorithm, HashOutput};
use crate::limits::{MAX_BUNDLE_BYTES, MAX_CHAIN_CERTIFICATES, MAX_TIMESTAMPS, MAX_TLOG_ENTRIES};
use crate::protojson::{self, decode_bytes, encode_bytes, null_as_default};
use tlog_entry::RawTlogEntry;

/// Media type of a v0.3 bundle, the version signet writes.
pub const BUNDLE_V03_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// Media type of a v0.2 bundle.
pub const BUNDLE_V02_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle+json;version=0.2";
/// Media type of a v0.1 bundle (also used for converted legacy layers,
/// whose log evidence is an inclusion promise without a proof).
pub const BUNDLE_V01_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";

const WHAT: &str = "Sigstore bundle";

/// A bundle format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BundleVersion {
    /// v0.1: inclusion promise required.
    V0_1,
    /// v0.2: inclusion proof required.
    V0_2,
    /// v0.3: inclusion proof required, single certificate only.
    V0_3,
}

impl BundleVersion {
    /// The version a media type names; every spelling sigstore-go accepts.
    pub fn from_media_type(media_type: &str) -> Result<Self, FormatError> {
        const BASE: &str = "application/vnd.dev.sigstore.bundle";
        let version = match media_type.strip_prefix(BASE) {
            Some(rest) => match rest {
                "+json;version=0.1" | ".v0.1+json" => Some(Self::V0_1),
                "+json;version=0.2" | ".v0.2+json" => Some(Self::V0_2),
                "+json;version=0.3" | ".v0.3+json" => Some(Self::V0_3),
                _ => None,
            },
            None => None,
        };
        version.ok_or_else(|| {
            FormatError::malformed(
                WHAT,
                format!(
                    "unsupported mediaType {:?} (signet reads bundle versions 0.1 to 0.3)",
                    crate::digest::truncate(media_type)
                ),
            )
        })
    }

    /// The canonical media type of this version.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::V0_1 => BUNDLE_V01_MEDIA_TYPE,
            Self::V0_2 => BUNDLE_V02_MEDIA_TYPE,
            Self::V0_3 => BUNDLE_V03_MEDIA_TYPE,
        }
    }
}

/// What a verifier needs to know about the signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerificationMaterial {
    /// Signed with a key the verifier must already hold. The hint
    /// (for signet and cosign, base64 SHA-256 of the key's SPKI) only helps
    /// pick the key.
    PublicKey {
        /// The key hint, if the bundle carries one.
        hint: Option<String>,
    },
    /// DER certificates, leaf first: the `certificate` of a v0.3 bundle (a
    /// chain of one), the `x509CertificateChain` of a v0.1/v0.2 bundle, or a
    /// legacy layer's `certificate` and `chain` annotations. May include a
    /// root as read; a verifier decides whether that is acceptable. Writing
    /// picks the shape from the bundle's version.
    CertificateDer {
        /// Leaf first.
        chain: Vec<Vec<u8>>,
    },
}

impl VerificationMaterial {
    /// The leaf certificate, if the material is a certificate.
    pub fn leaf_certificate(&self) -> Option<&[u8]> {
        match self {
            Self::PublicKey { .. } => None,
            Self::CertificateDer { chain } => chain.first().map(Vec::as_slice),
        }
    }

    /// Every certificate carried, leaf first.
    pub fn certificates(&self) -> &[Vec<u8>] {
        match self {
            Self::PublicKey { .. } => &[],
            Self::CertificateDer { chain } => chain,
        }
    }
}

/// A signature over an artifact (its bytes, or for prehashed keys, its digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSignature {
    /// The digest of the signed artifact. It identifies the artifact; a
    /// verifier must still hash the artifact itself.
    pub message_digest: HashOutput,
    /// The raw signature bytes.
    pub signature: Vec<u8>,
}

impl MessageSignature {
    /// The SHA-256 of the signed artifact, when that is the digest given.
    pub fn sha256(&self) -> Option<Digest> {
        self.message_digest.as_sha256()
    }
}

/// What a bundle signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleContent {
    /// A signature over an artifact.
    MessageSignature(MessageSignature),
    /// A DSSE envelope (attestations, and `cosign sign` v3 image signatures).
    DsseEnvelope(Envelope),
}

/// A Sigstore bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The bundle media type as read (or to be written).
    pub media_type: String,
    /// The signing key or certificate.
    pub verification_material: VerificationMaterial,
    /// Transparency-log entries.
    pub tlog_entries: Vec<TransparencyLogEntry>,
    /// RFC 3161 timestamp tokens (DER `TimeStampResp`/`TimeStampToken` bytes
    /// as the bundle carries them).
    pub rfc3161_timestamps: Vec<Vec<u8>>,
    /// The signature.
    pub content: BundleContent,
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
                hint: Some(key_hint).filter(|h| !h.is_empty()),
            },
            tlog_entries: Vec::new(),
            rfc3161_timestamps: Vec::new(),
            content: BundleContent::MessageSignature(MessageSignature {
                message_digest: HashOutput::from_sha256(&artifact_digest),
                signature,
            }),
        }
    }

    /// The bundle's version, from its media type.
    pub fn version(&self) -> Result<BundleVersion, FormatError> {
        BundleVersion::from_media_type(&self.media_type)
    }

    /// The message signature, if the bundle signs an artifact directly.
    pub fn message_signature(&self) -> Option<&MessageSignature> {
        match &self.content {
            BundleContent::MessageSignature(ms) => Some(ms),
            BundleContent::DsseEnvelope(_) => None,
        }
    }

    /// The DSSE envelope, if the bundle carries one.
    pub fn dsse_envelope(&self) -> Option<&Envelope> {
        match &self.content {
            BundleContent::DsseEnvelope(env) => Some(env),
            BundleContent::MessageSignature(_) => None,
        }
    }

    /// Reads a bundle (v0.1 to v0.3) and checks it as sigstore-go does before
    /// any cryptography.
    pub fn parse(bytes: &[u8]) -> Result<Self, FormatError> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(FormatError::TooLarge {
                what: WHAT,
                size: bytes.len(),
                limit: MAX_BUNDLE_BYTES,
            });
        }
        let raw: RawBundle =
            serde_json::from_slice(bytes).map_err(|e| FormatError::malformed(WHAT, e))?;
        let version = BundleVersion::from_media_type(&raw.media_type)?;
        let material = raw
            .verification_material
            .ok_or_else(|| FormatError::malformed(WHAT, "no verificationMaterial"))?;
        let verification_material = material.content(version)?;
        if material.tlog_entries.len() > MAX_TLOG_ENTRIES {
            return Err(FormatError::malformed(
                WHAT,
                format!(
                    "{} tlog entries, more than the limit of {MAX_TLOG_ENTRIES}",
                    material.tlog_entries.len()
                ),
            ));
        }
        let tlog_entries = material
            .tlog_entries
            .into_iter()
            .map(RawTlogEntry::into_entry)
            .collect::<Result<Vec<_>, _>>()?;
        let stamps = material
            .timestamp_verification_data
            .map(|t| t.rfc3161_timestamps)
            .unwrap_or_default();
        if stamps.len() > MAX_TIMESTAMPS {
            return Err(FormatError::malformed(
                WHAT,
                format!(
                    "{} timestamps, more than the limit of {MAX_TIMESTAMPS}",
                    stamps.len()
                ),
            ));
        }
        let rfc3161_timestamps = stamps
            .into_iter()
            .map(|t| {
                let token = decode_bytes(WHAT, "signedTimestamp", &t.signed_timestamp)?;
                if token.is_empty() {
                    return Err(FormatError::malformed(WHAT, "empty signedTimestamp"));
                }
                Ok(token)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let content = match (raw.message_signature, raw.dsse_envelope) {
            (Some(_), Some(_)) => {
                return Err(FormatError::malformed(
                    WHAT,
                    "both messageSignature and dsseEnvelope are set",
                ));
            }
            (Some(ms), None) => BundleContent::MessageSignature(ms.into_signature()?),
            (None, Some(env)) => BundleContent::DsseEnvelope(env.into_envelope()?),
            (None, None) => {
                return Err(FormatError::malformed(
                    WHAT,
                    "no content: neither messageSignature nor dsseEnvelope",
                ));
            }
        };
        let bundle = Self {
            media_type: raw.media_type,
            verification_material,
            tlog_entries,
            rfc3161_timestamps,
            content,
        };
        bundle.check_version_rules(version)?;
        Ok(bundle)
    }

    fn check_version_rules(&self, version: BundleVersion) -> Result<(), FormatError> {
        if self.tlog_entries.is_empty() {
            return Ok(());
        }
        if version == BundleVersion::V0_1 {
            if !self
                .tlog_entries
                .iter()
                .any(|e| e.inclusion_promise.is_some())
            {
                return Err(FormatError::malformed(
                    WHAT,
                    "inclusion promise missing (required for bundle v0.1)",
                ));
            }
        } else if !self
            .tlog_entries
            .iter()
            .any(|e| e.inclusion_proof.is_some())
        {
            return Err(FormatError::malformed(
                WHAT,
                "inclusion proof missing (required for bundle v0.2 and later)",
            ));
        }
        Ok(())
    }

    /// Protobuf-JSON in the field order of the Sigstore clients, compact.
    ///
    /// The material is written in the shape the media type calls for: v0.3
    /// gets `certificate` (the leaf), v0.1/v0.2 get `x509CertificateChain`.
    /// Self-signed certificates after the leaf (roots) are never written.
    pub fn to_json(&self) -> String {
        let version = self.version().unwrap_or(BundleVersion::V0_3);
        let mut out = String::from("{\"mediaType\":");
        protojson::string(&mut out, &self.media_type);
        out.push_str(",\"verificationMaterial\":{");
        match &self.verification_material {
            VerificationMaterial::PublicKey { hint } => {
                out.push_str("\"publicKey\":{");
                if let Some(hint) = hint.as_deref().filter(|h| !h.is_empty()) {
                    out.push_str("\"hint\":");
                    protojson::string(&mut out, hint);
                }
                out.push('}');
            }
            material => {
                // The leaf is always written; roots after it never are.
                let certs: Vec<&Vec<u8>> = material
                    .certificates()
                    .iter()
                    .enumerate()
                    .filter(|(i, c)| *i == 0 || !is_self_signed(c))
                    .map(|(_, c)| c)
                    .collect();
                if version >= BundleVersion::V0_3 {
                    out.push_str("\"certificate\":{\"rawBytes\":");
                    let leaf = certs.first().map(|c| c.as_slice()).unwrap_or_default();
                    protojson::string(&mut out, &encode_bytes(leaf));
                    out.push('}');
                } else {
                    out.push_str("\"x509CertificateChain\":{\"certificates\":[");
                    for (i, c) in certs.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str("{\"rawBytes\":");
                        protojson::string(&mut out, &encode_bytes(c));
                        out.push('}');
                    }
                    out.push_str("]}");
                }
            }
        }
        if !self.tlog_entries.is_empty() {
            out.push_str(",\"tlogEntries\":[");
            for (i, e) in self.tlog_entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                e.write_json(&mut out);
            }
            out.push(']');
        }
        if !self.rfc3161_timestamps.is_empty() {
            out.push_str(",\"timestampVerificationData\":{\"rfc3161Timestamps\":[");
            for (i, t) in self.rfc3161_timestamps.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"signedTimestamp\":");
                protojson::string(&mut out, &encode_bytes(t));
                out.push('}');
            }
            out.push_str("]}");
        }
        out.push('}');
        match &self.content {
            BundleContent::MessageSignature(ms) => {
                out.push_str(",\"messageSignature\":{\"messageDigest\":{\"algorithm\":");
                protojson::string(&mut out, ms.message_digest.algorithm().proto_name());
                out.push_str(",\"digest\":");
                protojson::string(&mut out, &encode_bytes(ms.message_digest.digest()));
                out.push_str("},\"signature\":");
                protojson::string(&mut out, &encode_bytes(&ms.signature));
                out.push('}');
            }
            BundleContent::DsseEnvelope(env) => {
                out.push_str(",\"dsseEnvelope\":");
                env.write_json(&mut out);
            }
        }
        out.push('}');
        out
    }
}

/// Whether a DER certificate is self-signed (issuer equals subject), which
/// is how a root is recognised. Unparseable certificates count as not
/// self-signed: they are kept, and verification reports them.
pub fn is_self_signed(der: &[u8]) -> bool {
    use x509_cert::der::Decode as _;
    match x509_cert::Certificate::from_der(der) {
        Ok(cert) => cert.tbs_certificate().issuer() == cert.tbs_certificate().subject(),
        Err(_) => false,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBundle {
    #[serde(default)]
    media_type: String,
    #[serde(default)]
    verification_material: Option<RawMaterial>,
    #[serde(default)]
    message_signature: Option<RawMessageSignature>,
    #[serde(default)]
    dsse_envelope: Option<RawEnvelope>,
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
    #[serde(default, deserialize_with = "null_as_default")]
    tlog_entries: Vec<RawTlogEntry>,
    #[serde(default)]
    timestamp_verification_data: Option<RawTimestampData>,
}

impl RawMaterial {
    fn content(&self, version: BundleVersion) -> Result<VerificationMaterial, FormatError> {
        let set = [
            self.public_key.is_some(),
            self.certificate.is_some(),
            self.x509_certificate_chain.is_some(),
        ];
        if set.iter().filter(|s| **s).count() > 1 {
            return Err(FormatError::malformed(
                WHAT,
                "verificationMaterial sets more than one of publicKey, certificate, x509CertificateChain",
            ));
        }
        if let Some(pk) = &self.public_key {
            return Ok(VerificationMaterial::PublicKey {
                hint: pk.hint.clone().filter(|h| !h.is_empty()),
            });
        }
        if let Some(cert) = &self.certificate {
            return Ok(VerificationMaterial::CertificateDer {
                chain: vec![cert.der("certificate.rawBytes")?],
            });
        }
        if let Some(chain) = &self.x509_certificate_chain {
            if version >= BundleVersion::V0_3 {
                return Err(FormatError::malformed(
                    WHAT,
                    "verification material cannot be an X.509 certificate chain in bundle v0.3",
                ));
            }
            if chain.certificates.is_empty() {
                return Err(FormatError::malformed(WHAT, "empty certificate chain"));
            }
            if chain.certificates.len() > MAX_CHAIN_CERTIFICATES {
                return Err(FormatError::malformed(
                    WHAT,
                    format!(
                        "certificate chain of {} certificates, more than the limit of {MAX_CHAIN_CERTIFICATES}",
                        chain.certificates.len()
                    ),
                ));
            }
            let chain = chain
                .certificates
                .iter()
                .map(|c| c.der("x509CertificateChain.certificates.rawBytes"))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(VerificationMaterial::CertificateDer { chain });
        }
        Err(FormatError::malformed(
            WHAT,
            "verificationMaterial has no key or certificate",
        ))
    }
}

#[derive(Deserialize)]
struct RawPublicKey {
    #[serde(default)]
    hint: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCert {
    #[serde(default)]
    raw_bytes: Option<String>,
}

impl RawCert {
    fn der(&self, field: &str) -> Result<Vec<u8>, FormatError> {
        let der = decode_bytes(WHAT, field, self.raw_bytes.as_deref().unwrap_or_default())?;
        if der.is_empty() {
            return Err(FormatError::malformed(WHAT, format!("{field} is empty")));
        }
        Ok(der)
    }
}

#[derive(Deserialize)]
struct RawChain {
    #[serde(default, deserialize_with = "null_as_default")]
    certificates: Vec<RawCert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTimestampData {
    #[serde(default, deserialize_with = "null_as_default")]
    rfc3161_timestamps: Vec<RawTimestamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTimestamp {
    #[serde(default)]
    signed_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessageSignature {
    #[serde(default)]
    message_digest: Option<RawDigest>,
    #[serde(default)]
    signature: Option<String>,
}

#[derive(Deserialize)]
struct RawDigest {
    #[serde(default)]
    algorithm: Option<crate::protojson::Enum>,
    #[serde(default)]
    digest: Option<String>,
}

impl RawMessageSignature {
    fn into_signature(self) -> Result<MessageSignature, FormatError> {
        let md = self
            .message_digest
            .ok_or_else(|| FormatError::malformed(WHAT, "messageSignature has no messageDigest"))?;
        let name = md
            .algorithm
            .as_ref()
            .and_then(|a| a.name(&HashAlgorithm::PROTO_NAMES))
            .unwrap_or_default()
            .to_owned();
        let algorithm = HashAlgorithm::from_proto_name(&name).ok_or_else(|| {
            FormatError::malformed(
                WHAT,
                format!(
                    "message digest algorithm {:?} is not one of SHA2_256, SHA2_384, SHA2_512",
                    crate::digest::truncate(&name)
                ),
            )
        })?;
        let digest = decode_bytes(
            WHAT,
            "messageDigest.digest",
            md.digest.as_deref().unwrap_or_default(),
        )?;
        let message_digest = HashOutput::new(algorithm, digest)
            .map_err(|e| FormatError::malformed(WHAT, format!("messageDigest: {e}")))?;
        let signature = decode_bytes(
            WHAT,
            "messageSignature.signature",
            self.signature.as_deref().unwrap_or_default(),
        )?;
        if signature.is_empty() {
            return Err(FormatError::malformed(
                WHAT,
                "messageSignature.signature is empty",
            ));
        }
        Ok(MessageSignature {
            message_digest,
            signature,
        })
    }
}

#[cfg(test)]
mod tests;
