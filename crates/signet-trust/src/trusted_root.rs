//! `trusted_root.json` (`dev.sigstore.trustroot.v1.TrustedRoot`): the
//! transparency logs, certificate authorities, CT logs and timestamp
//! authorities a verifier trusts.
//!
//! Reading accepts the v0.1 media types and the v0.2 one (with the
//! `operator` and `checkpointKeyId` fields); writing produces
//! `application/vnd.dev.sigstore.trustedroot+json;version=0.1` without
//! them, which is what cosign 2.5 and sigstore-go 0.7 accept.

use serde::Deserialize;
use signet_core::hash::HashAlgorithm;
use signet_core::key_details::PublicKeyDetails;
use signet_core::protojson::{self, encode_bytes, null_as_default};

use crate::error::TrustError;
use crate::material::{TrustedCertificate, TrustedPublicKey};
use crate::time::{RawTimeRange, TimeRange};

/// The media type signet writes (v0.1, the public-good root's).
pub const TRUSTED_ROOT_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
const ACCEPTED_MEDIA_TYPES: [&str; 3] = [
    TRUSTED_ROOT_MEDIA_TYPE,
    "application/vnd.dev.sigstore.trustedroot.v0.1+json",
    "application/vnd.dev.sigstore.trustedroot.v0.2+json",
];
/// Largest trust document signet reads.
pub const MAX_TRUST_DOCUMENT_BYTES: usize = 4 << 20;
const MAX_ENTRIES: usize = 256;
const MAX_CHAIN: usize = 10;

const WHAT: &str = "trusted root";

/// A transparency log (Rekor) or certificate transparency log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransparencyLog {
    /// The log's base URL; for Rekor v2, its host is the checkpoint origin.
    pub base_url: String,
    /// The log's Merkle hash (always SHA2_256 in practice).
    pub hash_algorithm: HashAlgorithm,
    /// The log's key and the window it may sign in.
    pub public_key: TrustedPublicKey,
    /// The log ID entries and SCTs name: SHA-256 of the key for Rekor v1 and
    /// CT logs, the checkpoint key ID for Rekor v2.
    pub log_id: Vec<u8>,
    /// v0.2 field: the checkpoint key ID, if given.
    pub checkpoint_key_id: Option<Vec<u8>>,
    /// v0.2 field: who runs the log, if given.
    pub operator: Option<String>,
}

/// The name of a certificate authority.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DistinguishedName {
    /// `O=`
    pub organization: String,
    /// `CN=`
    pub common_name: String,
}

/// A certificate authority (Fulcio) or timestamp authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateAuthority {
    /// Its name.
    pub subject: DistinguishedName,
    /// Its URL.
    pub uri: String,
    /// Its certificates: for a CA, intermediates then the root; for a TSA,
    /// the signing (leaf) certificate first, then intermediates and root.
    pub cert_chain: Vec<TrustedCertificate>,
    /// When certificates it issued (or timestamps it signed) are trusted.
    pub valid_for: Option<TimeRange>,
    /// v0.2 field: who runs it, if given.
    pub operator: Option<String>,
}

/// A trusted root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedRoot {
    /// The media type as read.
    pub media_type: String,
    /// Rekor logs.
    pub tlogs: Vec<TransparencyLog>,
    /// Fulcio certificate authorities.
    pub certificate_authorities: Vec<CertificateAuthority>,
    /// Certificate transparency logs.
    pub ctlogs: Vec<TransparencyLog>,
    /// RFC 3161 timestamp authorities.
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

impl Default for TrustedRoot {
    fn default() -> Self {
        Self {
            media_type: TRUSTED_ROOT_MEDIA_TYPE.to_owned(),
            tlogs: Vec::new(),
            certificate_authorities: Vec::new(),
            ctlogs: Vec::new(),
            timestamp_authorities: Vec::new(),
        }
    }
}

impl TrustedRoot {
    /// Reads and checks a trusted root as sigstore-go does: logs need a
    /// SHA2_256 tree hash, a log ID, a key and a validity start; CAs a
    /// non-empty chain of parseable certificates. Unknown fields are
    /// ignored.
    pub fn parse(bytes: &[u8]) -> Result<Self, TrustError> {
        if bytes.len() > MAX_TRUST_DOCUMENT_BYTES {
            return Err(TrustError::TooLarge {
                what: WHAT.into(),
                limit: MAX_TRUST_DOCUMENT_BYTES,
            });
        }
        let raw: RawTrustedRoot =
            serde_json::from_slice(bytes).map_err(|e| TrustError::malformed(WHAT, e))?;
        raw.into_root()
    }

    /// The trusted root as protobuf-JSON (v0.1, compact).
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"mediaType\":");
        protojson::string(&mut out, TRUSTED_ROOT_MEDIA_TYPE);
        out.push_str(",\"tlogs\":");
        write_logs(&mut out, &self.tlogs);
        out.push_str(",\"certificateAuthorities\":");
        write_cas(&mut out, &self.certificate_authorities);
        out.push_str(",\"ctlogs\":");
        write_logs(&mut out, &self.ctlogs);
        out.push_str(",\"timestampAuthorities\":");
        write_cas(&mut out, &self.timestamp_authorities);
        out.push('}');
        out
    }

    /// The Rekor log with this ID.
    pub fn tlog(&self, log_id: &[u8]) -> Option<&TransparencyLog> {
        self.tlogs.iter().find(|l| l.log_id == log_id)
    }

    /// The CT log with this ID.
    pub fn ctlog(&self, log_id: &[u8]) -> Option<&TransparencyLog> {
        self.ctlogs.iter().find(|l| l.log_id == log_id)
    }
}

fn write_logs(out: &mut String, logs: &[TransparencyLog]) {
    out.push('[');
    for (i, log) in logs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let mut first = true;
        out.push('{');
        if !log.base_url.is_empty() {
            protojson::key(out, &mut first, "baseUrl");
            protojson::string(out, &log.base_url);
        }
        protojson::key(out, &mut first, "hashAlgorithm");
        protojson::string(out, log.hash_algorithm.proto_name());
        protojson::key(out, &mut first, "publicKey");
        write_key(out, &log.public_key);
        protojson::key(out, &mut first, "logId");
        out.push_str("{\"keyId\":");
        protojson::string(out, &encode_bytes(&log.log_id));
        out.push_str("}}");
    }
    out.push(']');
}

fn write_key(out: &mut String, key: &TrustedPublicKey) {
    out.push_str("{\"rawBytes\":");
    protojson::string(out, &encode_bytes(key.raw_bytes()));
    out.push_str(",\"keyDetails\":");
    protojson::string(out, key.key_details().proto_name());
    if let Some(v) = key.valid_for() {
        out.push_str(",\"validFor\":");
        v.write_json(out);
    }
    out.push('}');
}

fn write_cas(out: &mut String, cas: &[CertificateAuthority]) {
    out.push('[');
    for (i, ca) in cas.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"subject\":{");
        let mut first = true;
        if !ca.subject.organization.is_empty() {
            protojson::key(out, &mut first, "organization");
            protojson::string(out, &ca.subject.organization);
        }
        if !ca.subject.common_name.is_empty() {
            protojson::key(out, &mut first, "commonName");
            protojson::string(out, &ca.subject.common_name);
        }
        out.push('}');
        if !ca.uri.is_empty() {
            out.push_str(",\"uri\":");
            protojson::string(out, &ca.uri);
        }
        out.push_str(",\"certChain\":{\"certificates\":[");
        for (j, cert) in ca.cert_chain.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str("{\"rawBytes\":");
            protojson::string(out, &encode_bytes(cert.der()));
            out.push('}');
        }
        out.push_str("]}");
        if let Some(v) = &ca.valid_for {
            out.push_str(",\"validFor\":");
            v.write_json(out);
        }
        out.push('}');
    }
    out.push(']');
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawTrustedRoot {
    #[serde(default)]
    media_type: String,
    #[serde(default, deserialize_with = "null_as_default")]
    tlogs: Vec<RawLog>,
    #[serde(default, deserialize_with = "null_as_default")]
    certificate_authorities: Vec<RawCa>,
    #[serde(default, deserialize_with = "null_as_default")]
    ctlogs: Vec<RawLog>,
    #[serde(default, deserialize_with = "null_as_default")]
    timestamp_authorities: Vec<RawCa>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawLog {
    #[serde(default)]
    base_url: String,
    #[serde(default)]
    hash_algorithm: Option<protojson::Enum>,
    #[serde(default)]
    public_key: Option<RawPublicKey>,
    #[serde(default)]
    log_id: Option<RawLogId>,
    #[serde(default)]
    checkpoint_key_id: Option<RawLogId>,
    #[serde(default)]
    operator: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPublicKey {
    #[serde(default)]
    raw_bytes: Option<String>,
    #[serde(default)]
    key_details: Option<protojson::Enum>,
    #[serde(default)]
    valid_for: Option<RawTimeRange>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    #[serde(default)]
    key_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawCa {
    #[serde(default)]
    subject: Option<RawName>,
    #[serde(default)]
    uri: String,
    #[serde(default)]
    cert_chain: Option<RawChain>,
    #[serde(default)]
    valid_for: Option<RawTimeRange>,
    #[serde(default)]
    operator: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawName {
    #[serde(default)]
    organization: String,
    #[serde(default)]
    common_name: String,
}

#[derive(Deserialize)]
struct RawChain {
    #[serde(default, deserialize_with = "null_as_default")]
    certificates: Vec<RawCert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCert {
    #[serde(default)]
    raw_bytes: String,
}

fn bytes(field: &str, text: &str) -> Result<Vec<u8>, TrustError> {
    crate::decode_base64(WHAT, field, text)
}

impl RawTrustedRoot {
    pub(crate) fn into_root(self) -> Result<TrustedRoot, TrustError> {
        if !ACCEPTED_MEDIA_TYPES.contains(&self.media_type.as_str()) {
            return Err(TrustError::malformed(
                WHAT,
                format!(
                    "unsupported mediaType {:?} (expected {TRUSTED_ROOT_MEDIA_TYPE})",
                    self.media_type.chars().take(80).collect::<String>()
                ),
            ));
        }
        let counts = [
            self.tlogs.len(),
            self.certificate_authorities.len(),
            self.ctlogs.len(),
            self.timestamp_authorities.len(),
        ];
        if counts.iter().any(|n| *n > MAX_ENTRIES) {
            return Err(TrustError::malformed(
                WHAT,
                format!("more than {MAX_ENTRIES} logs or authorities of one kind"),
            ));
        }
        Ok(TrustedRoot {
            media_type: self.media_type,
            tlogs: self
                .tlogs
                .into_iter()
                .map(|l| l.into_log("tlog"))
                .collect::<Result<_, _>>()?,
            certificate_authorities: self
                .certificate_authorities
                .into_iter()
                .map(|c| c.into_ca("certificate authority"))
                .collect::<Result<_, _>>()?,
            ctlogs: self
                .ctlogs
                .into_iter()
                .map(|l| l.into_log("ctlog"))
                .collect::<Result<_, _>>()?,
            timestamp_authorities: self
                .timestamp_authorities
                .into_iter()
                .map(|c| c.into_ca("timestamp authority"))
                .collect::<Result<_, _>>()?,
        })
    }
}

impl RawLog {
    fn into_log(self, kind: &str) -> Result<TransparencyLog, TrustError> {
        let name = if self.base_url.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind} {}", self.base_url)
        };
        let fail = |reason: &str| TrustError::malformed(WHAT, format!("{name}: {reason}"));
        let alg_name = self
            .hash_algorithm
            .as_ref()
            .and_then(|a| a.name(&HashAlgorithm::PROTO_NAMES))
            .unwrap_or_default()
            .to_owned();
        let hash_algorithm = match HashAlgorithm::from_proto_name(&alg_name) {
            Some(HashAlgorithm::Sha2_256) => HashAlgorithm::Sha2_256,
            _ => return Err(fail(&format!("unsupported hash algorithm {alg_name:?}"))),
        };
        let log_id = match self.log_id.and_then(|l| l.key_id) {
            Some(id) => bytes("logId.keyId", &id)?,
            None => Vec::new(),
        };
        if log_id.is_empty() {
            return Err(fail("missing log ID"));
        }
        let key = self.public_key.ok_or_else(|| fail("missing public key"))?;
        let raw = bytes(
            "publicKey.rawBytes",
            key.raw_bytes.as_deref().unwrap_or_default(),
        )?;
        let valid_for = key
            .valid_for
            .ok_or_else(|| fail("missing public key validity period"))?
            .read(WHAT)?;
        if valid_for.start.is_none() {
            return Err(fail("missing public key validity period start time"));
        }
        let details = key
            .key_details
            .as_ref()
            .map(PublicKeyDetails::from_proto)
            .unwrap_or(PublicKeyDetails::Unspecified);
        let public_key = TrustedPublicKey::new(raw, details, Some(valid_for))
            .map_err(|e| fail(&e.to_string()))?;
        let checkpoint_key_id = match self.checkpoint_key_id.and_then(|l| l.key_id) {
            Some(id) => Some(bytes("checkpointKeyId.keyId", &id)?),
            None => None,
        };
        Ok(TransparencyLog {
            base_url: self.base_url,
            hash_algorithm,
            public_key,
            log_id,
            checkpoint_key_id,
            operator: self.operator.filter(|o| !o.is_empty()),
        })
    }
}

impl RawCa {
    fn into_ca(self, kind: &str) -> Result<CertificateAuthority, TrustError> {
        let name = if self.uri.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind} {}", self.uri)
        };
        let certs = self.cert_chain.map(|c| c.certificates).unwrap_or_default();
        if certs.is_empty() {
            return Err(TrustError::malformed(
                WHAT,
                format!("{name}: empty certificate chain"),
            ));
        }
        if certs.len() > MAX_CHAIN {
            return Err(TrustError::malformed(
                WHAT,
                format!("{name}: more than {MAX_CHAIN} certificates"),
            ));
        }
        let cert_chain = certs
            .into_iter()
            .map(|c| {
                TrustedCertificate::from_der(bytes(
                    "certChain.certificates.rawBytes",
                    &c.raw_bytes,
                )?)
                .map_err(|e| TrustError::malformed(WHAT, format!("{name}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        let subject = self
            .subject
            .map(|s| DistinguishedName {
                organization: s.organization,
                common_name: s.common_name,
            })
            .unwrap_or_default();
        Ok(CertificateAuthority {
            subject,
            uri: self.uri,
            cert_chain,
            valid_for: self.valid_for.map(|v| v.read(WHAT)).transpose()?,
            operator: self.operator.filter(|o| !o.is_empty()),
        })
    }
}
