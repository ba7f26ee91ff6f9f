//! Signed certificate timestamps (RFC 6962): the embedded SCT list, detached
//! SCTs as Fulcio returns them, verification against trusted CT log keys, and
//! a CT log signer that issues SCTs for precertificates.
//!
//! An embedded SCT signs the *precertificate*: the leaf's `TBSCertificate`
//! without the SCT list extension, together with the SHA-256 of the issuing
//! CA's public key. Verification rebuilds exactly that from the final
//! certificate; signing takes it from the precertificate by removing the
//! poison extension. Both leave every other byte as it was.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use der::asn1::{AnyRef, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use signet_core::keys::{PrivateKey, PublicKey};
use x509_cert::ext::Extension;

use crate::algorithm::{self, HashAlgorithm, SignatureScheme, VerifyFailure};
use crate::certificate::Certificate;
use crate::error::{DecodeError, IssueError, SctError};
use crate::limits::MAX_SCTS;
use crate::oid;
use crate::time::{TimeRange, rfc3339_millis};

const WHAT: &str = "SCT";
const WHAT_LIST: &str = "SCT list";

/// One signed certificate timestamp (RFC 6962 §3.2), v1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCertificateTimestamp {
    /// SHA-256 of the log's DER public key.
    pub log_id: [u8; 32],
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// `CtExtensions` (empty for RFC 6962 logs; static-CT logs put the leaf index here).
    pub extensions: Vec<u8>,
    /// TLS `HashAlgorithm` of the signature (4 = SHA-256).
    pub hash_algorithm: u8,
    /// TLS `SignatureAlgorithm` (1 = RSA, 3 = ECDSA, 7 = Ed25519).
    pub signature_algorithm: u8,
    /// The signature bytes (ASN.1 DER for ECDSA).
    pub signature: Vec<u8>,
}

/// A byte cursor over TLS-encoded data that never reads past its end.
struct TlsReader<'a> {
    bytes: &'a [u8],
    what: &'static str,
}

impl<'a> TlsReader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.bytes.len() < n {
            return Err(DecodeError::malformed(self.what, "truncated"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn uint(&mut self, n: usize) -> Result<u64, DecodeError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn vector(&mut self, len_bytes: usize) -> Result<&'a [u8], DecodeError> {
        let len = usize::try_from(self.uint(len_bytes)?)
            .map_err(|_| DecodeError::malformed(self.what, "length out of range"))?;
        self.take(len)
    }

    fn finish(&self) -> Result<(), DecodeError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::malformed(
                self.what,
                format!("{} trailing bytes", self.bytes.len()),
            ))
        }
    }
}

fn push_vector(out: &mut Vec<u8>, len_bytes: usize, data: &[u8]) -> Result<(), IssueError> {
    let max = (1u64 << (8 * len_bytes)) - 1;
    let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
    if len > max {
        return Err(IssueError::Encoding(format!(
            "{len} bytes do not fit a TLS vector with a {len_bytes}-byte length"
        )));
    }
    out.extend_from_slice(&len.to_be_bytes()[8 - len_bytes..]);
    out.extend_from_slice(data);
    Ok(())
}

impl SignedCertificateTimestamp {
    /// Parses one TLS-encoded SCT (the whole input).
    pub fn from_tls(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = TlsReader { bytes, what: WHAT };
        let version = r.uint(1)?;
        if version != 0 {
            return Err(DecodeError::unsupported(
                WHAT,
                format!("version {version} (only v1 is defined)"),
            ));
        }
        let mut log_id = [0u8; 32];
        log_id.copy_from_slice(r.take(32)?);
        let timestamp = r.uint(8)?;
        let extensions = r.vector(2)?.to_vec();
        let (hash_algorithm, signature_algorithm, signature) = read_digitally_signed(&mut r)?;
        r.finish()?;
        Ok(Self {
            log_id,
            timestamp,
            extensions,
            hash_algorithm,
            signature_algorithm,
            signature,
        })
    }

    /// The TLS encoding.
    pub fn to_tls(&self) -> Result<Vec<u8>, IssueError> {
        let mut out = vec![0u8];
        out.extend_from_slice(&self.log_id);
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        push_vector(&mut out, 2, &self.extensions)?;
        out.extend_from_slice(&self.digitally_signed()?);
        Ok(out)
    }

    /// The TLS `DigitallySigned` struct (algorithms and signature).
    fn digitally_signed(&self) -> Result<Vec<u8>, IssueError> {
        let mut out = vec![self.hash_algorithm, self.signature_algorithm];
        push_vector(&mut out, 2, &self.signature)?;
        Ok(out)
    }

    /// The SCT's time.
    pub fn time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.timestamp)
    }

    /// The log ID as lowercase hex.
    pub fn log_id_hex(&self) -> String {
        hex::encode(self.log_id)
    }

    /// Parses a detached SCT: the JSON `AddChainResponse` a CT log returns,
    /// which Fulcio passes on base64-encoded in `signedCertificateDetachedSct`.
    pub fn from_detached_json(json: &[u8]) -> Result<Self, DecodeError> {
        const WHAT_JSON: &str = "detached SCT";
        DecodeError::check_size(WHAT_JSON, json.len(), 16 << 10)?;
        let raw: DetachedSct =
            serde_json::from_slice(json).map_err(|e| DecodeError::malformed(WHAT_JSON, e))?;
        if raw.sct_version != 0 {
            return Err(DecodeError::unsupported(
                WHAT_JSON,
                format!("version {}", raw.sct_version),
            ));
        }
        let b64 = |field: &str, v: &str| {
            B64.decode(v)
                .map_err(|e| DecodeError::malformed(WHAT_JSON, format!("{field}: {e}")))
        };
        let log_id: [u8; 32] = b64("id", &raw.id)?
            .try_into()
            .map_err(|_| DecodeError::malformed(WHAT_JSON, "id is not 32 bytes"))?;
        let signed = b64("signature", &raw.signature)?;
        let mut r = TlsReader {
            bytes: &signed,
            what: WHAT_JSON,
        };
        let (hash_algorithm, signature_algorithm, signature) = read_digitally_signed(&mut r)?;
        r.finish()?;
        Ok(Self {
            log_id,
            timestamp: raw.timestamp,
            extensions: b64("extensions", &raw.extensions)?,
            hash_algorithm,
            signature_algorithm,
            signature,
        })
    }

    /// The detached JSON form (`AddChainResponse`).
    pub fn to_detached_json(&self) -> Result<String, IssueError> {
        let raw = DetachedSct {
            sct_version: 0,
            id: B64.encode(self.log_id),
            timestamp: self.timestamp,
            extensions: B64.encode(&self.extensions),
            signature: B64.encode(self.digitally_signed()?),
        };
        serde_json::to_string(&raw).map_err(|e| IssueError::Encoding(e.to_string()))
    }

    fn scheme(&self) -> Option<SignatureScheme> {
        let hash = match self.hash_algorithm {
            4 => Some(HashAlgorithm::Sha256),
            5 => Some(HashAlgorithm::Sha384),
            6 => Some(HashAlgorithm::Sha512),
            _ => None,
        };
        match (self.signature_algorithm, hash) {
            (3, Some(h)) => Some(SignatureScheme::Ecdsa(h)),
            (1, Some(h)) => Some(SignatureScheme::RsaPkcs1(h)),
            (7, None) if self.hash_algorithm == 8 => Some(SignatureScheme::Ed25519),
            _ => None,
        }
    }

    /// The bytes the log signed for `entry` (RFC 6962 §3.2 `digitally-signed` content).
    fn signed_data(&self, entry: &SignedEntry) -> Result<Vec<u8>, IssueError> {
        let mut out = vec![0u8, 0u8]; // v1, certificate_timestamp
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        match entry {
            SignedEntry::Certificate(der) => {
                out.extend_from_slice(&0u16.to_be_bytes());
                push_vector(&mut out, 3, der)?;
            }
            SignedEntry::Precertificate {
                issuer_key_hash,
                tbs,
            } => {
                out.extend_from_slice(&1u16.to_be_bytes());
                out.extend_from_slice(issuer_key_hash);
                push_vector(&mut out, 3, tbs)?;
            }
        }
        push_vector(&mut out, 2, &self.extensions)?;
        Ok(out)
    }
}

fn read_digitally_signed(r: &mut TlsReader<'_>) -> Result<(u8, u8, Vec<u8>), DecodeError> {
    let hash = r.take(1)?.first().copied().unwrap_or_default();
    let sig = r.take(1)?.first().copied().unwrap_or_default();
    let signature = r.vector(2)?.to_vec();
    Ok((hash, sig, signature))
}

#[derive(Serialize, Deserialize)]
struct DetachedSct {
    sct_version: u8,
    id: String,
    timestamp: u64,
    #[serde(default)]
    extensions: String,
    signature: String,
}

/// What an SCT covers.
enum SignedEntry {
    /// A final certificate (`x509_entry`): detached SCTs.
    Certificate(Vec<u8>),
    /// A precertificate (`precert_entry`): embedded SCTs.
    Precertificate {
        issuer_key_hash: [u8; 32],
        tbs: Vec<u8>,
    },
}

/// Parses a TLS `SignedCertificateTimestampList` (at most [`MAX_SCTS`] entries).
pub fn parse_sct_list(bytes: &[u8]) -> Result<Vec<SignedCertificateTimestamp>, DecodeError> {
    let mut outer = TlsReader {
        bytes,
        what: WHAT_LIST,
    };
    let list = outer.vector(2)?;
    outer.finish()?;
    let mut r = TlsReader {
        bytes: list,
        what: WHAT_LIST,
    };
    let mut out = Vec::new();
    while !r.bytes.is_empty() {
        if out.len() == MAX_SCTS {
            return Err(DecodeError::TooMany {
                what: WHAT_LIST,
                limit: MAX_SCTS,
            });
        }
        out.push(SignedCertificateTimestamp::from_tls(r.vector(2)?)?);
    }
    if out.is_empty() {
        return Err(DecodeError::malformed(WHAT_LIST, "the list is empty"));
    }
    Ok(out)
}

/// The TLS `SignedCertificateTimestampList` of `scts`.
pub fn encode_sct_list(scts: &[SignedCertificateTimestamp]) -> Result<Vec<u8>, IssueError> {
    let mut list = Vec::new();
    for sct in scts {
        push_vector(&mut list, 2, &sct.to_tls()?)?;
    }
    let mut out = Vec::new();
    push_vector(&mut out, 2, &list)?;
    Ok(out)
}

/// The SCT list extension (1.3.6.1.4.1.11129.2.4.2, not critical): an OCTET
/// STRING holding the TLS list, as the extension value.
pub fn sct_list_extension(scts: &[SignedCertificateTimestamp]) -> Result<Extension, IssueError> {
    let inner = OctetString::new(encode_sct_list(scts)?)?;
    Ok(Extension {
        extn_id: oid::ext::CT_SCT_LIST,
        critical: false,
        extn_value: OctetString::new(inner.to_der()?)?,
    })
}

/// The SCTs embedded in `cert`, or `None` when it has no SCT list extension.
pub fn embedded_scts(
    cert: &Certificate,
) -> Result<Option<Vec<SignedCertificateTimestamp>>, DecodeError> {
    let Some(ext) = cert.extension(&oid::ext::CT_SCT_LIST)? else {
        return Ok(None);
    };
    let inner = OctetString::from_der(ext.extn_value.as_bytes())
        .map_err(|e| DecodeError::malformed(WHAT_LIST, format!("extension value: {e}")))?;
    parse_sct_list(inner.as_bytes()).map(Some)
}

/// `tbs` (a DER `TBSCertificate`) without the extension `remove`, every other
/// byte unchanged. Dropping the last extension drops the extensions field.
pub(crate) fn tbs_without_extension(
    tbs: &[u8],
    remove: &ObjectIdentifier,
) -> Result<Vec<u8>, DecodeError> {
    const WHAT_TBS: &str = "TBSCertificate";
    let bad = |e: der::Error| DecodeError::malformed(WHAT_TBS, e);
    let outer = AnyRef::from_der(tbs).map_err(bad)?;
    if outer.tag() != Tag::Sequence {
        return Err(DecodeError::malformed(WHAT_TBS, "not a SEQUENCE"));
    }
    let mut fields: Vec<Vec<u8>> = Vec::new();
    let mut reader = SliceReader::new(outer.value()).map_err(bad)?;
    while !reader.is_finished() {
        let field = AnyRef::decode(&mut reader).map_err(bad)?;
        let extensions_tag = Tag::ContextSpecific {
            constructed: true,
            number: der::TagNumber(3),
        };
        if field.tag() != extensions_tag {
            fields.push(field.to_der().map_err(bad)?);
            continue;
        }
        let list = AnyRef::from_der(field.value()).map_err(bad)?;
        let mut ext_reader = SliceReader::new(list.value()).map_err(bad)?;
        let mut kept: Vec<AnyRef<'_>> = Vec::new();
        while !ext_reader.is_finished() {
            let ext = AnyRef::decode(&mut ext_reader).map_err(bad)?;
            let parsed = Extension::from_der(&ext.to_der().map_err(bad)?).map_err(bad)?;
            if &parsed.extn_id != remove {
                kept.push(ext);
            }
        }
        if kept.is_empty() {
            continue;
        }
        let mut body = Vec::new();
        for ext in &kept {
            body.extend(ext.to_der().map_err(bad)?);
        }
        let seq = AnyRef::new(Tag::Sequence, &body)
            .map_err(bad)?
            .to_der()
            .map_err(bad)?;
        fields.push(
            AnyRef::new(extensions_tag, &seq)
                .map_err(bad)?
                .to_der()
                .map_err(bad)?,
        );
    }
    let body: Vec<u8> = fields.concat();
    AnyRef::new(Tag::Sequence, &body)
        .map_err(bad)?
        .to_der()
        .map_err(bad)
}

/// A trusted CT log: its key, its ID and the window its SCTs are accepted for.
#[derive(Clone, Debug)]
pub struct CtLog {
    name: String,
    key: PublicKey,
    log_id: [u8; 32],
    valid_for: TimeRange,
}

impl CtLog {
    /// A log from its DER public key; `name` (e.g. its URL) appears in messages.
    pub fn new(
        name: impl Into<String>,
        spki_der: &[u8],
        valid_for: TimeRange,
    ) -> Result<Self, DecodeError> {
        let key = PublicKey::from_spki_der(spki_der)
            .map_err(|e| DecodeError::unsupported("CT log key", e))?;
        Ok(Self {
            name: name.into(),
            log_id: Sha256::digest(spki_der).into(),
            key,
            valid_for,
        })
    }

    /// SHA-256 of the DER public key.
    pub fn log_id(&self) -> [u8; 32] {
        self.log_id
    }

    /// The name given at construction.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The window the log's SCTs are accepted for.
    pub fn valid_for(&self) -> TimeRange {
        self.valid_for
    }

    fn verify(
        &self,
        sct: &SignedCertificateTimestamp,
        entry: &SignedEntry,
        what: &str,
    ) -> Result<(), SctError> {
        if !self.valid_for.contains(sct.time()) {
            return Err(SctError::OutsideValidity {
                log: self.name.clone(),
                timestamp: rfc3339_millis(sct.time()),
                window: self.valid_for.to_string(),
            });
        }
        let scheme = sct.scheme().ok_or_else(|| SctError::UnsupportedAlgorithm {
            log: self.name.clone(),
            hash: sct.hash_algorithm,
            signature: sct.signature_algorithm,
        })?;
        let data = sct
            .signed_data(entry)
            .map_err(|e| DecodeError::malformed(WHAT, e))?;
        match algorithm::verify(&self.key, scheme, &data, &sct.signature) {
            Ok(()) => Ok(()),
            Err(VerifyFailure::KeyMismatch(_)) => Err(SctError::UnsupportedAlgorithm {
                log: self.name.clone(),
                hash: sct.hash_algorithm,
                signature: sct.signature_algorithm,
            }),
            Err(VerifyFailure::Invalid) => Err(SctError::BadSignature {
                log: self.name.clone(),
                entry: what.to_string(),
            }),
        }
    }
}

/// An SCT that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSct {
    /// Index of the log in the slice given.
    pub log: usize,
    /// The log's name.
    pub log_name: String,
    /// The SCT's time.
    pub timestamp: SystemTime,
}

/// Verifies the SCTs embedded in `leaf`, issued by `issuer`, against `logs`.
/// SCTs from unknown logs are skipped; at least `required` must verify. When
/// none verify, the error says why the first one failed.
pub fn verify_embedded_scts(
    leaf: &Certificate,
    issuer: &Certificate,
    logs: &[CtLog],
    required: usize,
) -> Result<Vec<VerifiedSct>, SctError> {
    let scts = embedded_scts(leaf)?.ok_or_else(|| SctError::Missing {
        certificate: leaf.describe(),
    })?;
    let tbs = tbs_without_extension(leaf.tbs_der(), &oid::ext::CT_SCT_LIST)?;
    let entry = SignedEntry::Precertificate {
        issuer_key_hash: issuer.public_key_sha256(),
        tbs,
    };
    let what = format!("the precertificate of {}", leaf.describe());
    check_all(&scts, &entry, &what, logs, required)
}

/// Verifies a detached SCT for `cert` (an `x509_entry` over the certificate).
pub fn verify_detached_sct(
    cert: &Certificate,
    sct: &SignedCertificateTimestamp,
    logs: &[CtLog],
) -> Result<VerifiedSct, SctError> {
    let entry = SignedEntry::Certificate(cert.as_der().to_vec());
    let what = format!("certificate {}", cert.describe());
    let mut verified = check_all(std::slice::from_ref(sct), &entry, &what, logs, 1)?;
    verified.pop().ok_or(SctError::Threshold {
        verified: 0,
        required: 1,
    })
}

fn check_all(
    scts: &[SignedCertificateTimestamp],
    entry: &SignedEntry,
    what: &str,
    logs: &[CtLog],
    required: usize,
) -> Result<Vec<VerifiedSct>, SctError> {
    let mut verified = Vec::new();
    let mut first_error = None;
    for sct in scts {
        let Some((index, log)) = logs
            .iter()
            .enumerate()
            .find(|(_, l)| l.log_id == sct.log_id)
        else {
            first_error.get_or_insert(SctError::UnknownLog {
                log_id: sct.log_id_hex(),
            });
            continue;
        };
        match log.verify(sct, entry, what) {
            Ok(()) => verified.push(VerifiedSct {
                log: index,
                log_name: log.name.clone(),
                timestamp: sct.time(),
            }),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if verified.len() >= required {
        return Ok(verified);
    }
    match first_error {
        Some(e) if verified.is_empty() => Err(e),
        _ => Err(SctError::Threshold {
            verified: verified.len(),
            required,
        }),
    }
}

/// A CT log's signing side: issues SCTs for precertificates (and, for the
/// detached form, for final certificates).
pub struct CtLogSigner {
    key: PrivateKey,
    log_id: [u8; 32],
    scheme: SignatureScheme,
}

impl std::fmt::Debug for CtLogSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CtLogSigner({})", hex::encode(self.log_id))
    }
}

impl CtLogSigner {
    /// A signer over `key` (ECDSA P-256 as RFC 6962 logs use; P-384 and
    /// Ed25519 work too).
    pub fn new(key: PrivateKey) -> Result<Self, IssueError> {
        let public = key.public_key();
        let scheme = SignatureScheme::natural_for(&public).map_err(IssueError::Authority)?;
        if matches!(scheme, SignatureScheme::RsaPkcs1(_)) {
            return Err(IssueError::Authority(
                "RSA CT log keys are not supported".into(),
            ));
        }
        Ok(Self {
            log_id: Sha256::digest(public.to_spki_der()).into(),
            key,
            scheme,
        })
    }

    /// The log ID (SHA-256 of the DER public key).
    pub fn log_id(&self) -> [u8; 32] {
        self.log_id
    }

    /// The log's public key.
    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    /// Signs an SCT for `precert` (which must carry the critical poison
    /// extension and be signed by `issuer`) at `timestamp`.
    pub fn sign_precertificate(
        &self,
        precert: &Certificate,
        issuer: &Certificate,
        timestamp: SystemTime,
    ) -> Result<SignedCertificateTimestamp, IssueError> {
        match precert.extension(&oid::ext::CT_POISON)? {
            Some(ext) if ext.critical && ext.extn_value.as_bytes() == [0x05, 0x00] => {}
            Some(_) => {
                return Err(IssueError::InvalidRequest(
                    "the precertificate poison extension must be critical and NULL".into(),
                ));
            }
            None => {
                return Err(IssueError::InvalidRequest(
                    "not a precertificate: the poison extension 1.3.6.1.4.1.11129.2.4.3 is missing"
                        .into(),
                ));
            }
        }
        let scheme = SignatureScheme::from_x509(precert.x509().signature_algorithm())
            .map_err(IssueError::InvalidRequest)?;
        let issuer_key = issuer.public_key()?;
        algorithm::verify(&issuer_key, scheme, precert.tbs_der(), precert.signature()).map_err(
            |_| {
                IssueError::InvalidRequest(format!(
                    "the precertificate is not signed by {}",
                    issuer.describe()
                ))
            },
        )?;
        let tbs = tbs_without_extension(precert.tbs_der(), &oid::ext::CT_POISON)?;
        self.sign(
            &SignedEntry::Precertificate {
                issuer_key_hash: issuer.public_key_sha256(),
                tbs,
            },
            timestamp,
        )
    }

    /// Signs a detached SCT for a final certificate at `timestamp`.
    pub fn sign_certificate(
        &self,
        cert: &Certificate,
        timestamp: SystemTime,
    ) -> Result<SignedCertificateTimestamp, IssueError> {
        self.sign(&SignedEntry::Certificate(cert.as_der().to_vec()), timestamp)
    }

    fn sign(
        &self,
        entry: &SignedEntry,
        timestamp: SystemTime,
    ) -> Result<SignedCertificateTimestamp, IssueError> {
        let millis = timestamp
            .duration_since(UNIX_EPOCH)
            .map_err(|_| IssueError::InvalidRequest("SCT time before 1970".into()))?
            .as_millis();
        let (hash_algorithm, signature_algorithm) = match self.scheme {
            SignatureScheme::Ecdsa(HashAlgorithm::Sha384) => (5, 3),
            SignatureScheme::Ecdsa(HashAlgorithm::Sha512) => (6, 3),
            SignatureScheme::Ecdsa(_) => (4, 3),
            SignatureScheme::Ed25519 => (8, 7),
            SignatureScheme::RsaPkcs1(_) => (4, 1),
        };
        let mut sct = SignedCertificateTimestamp {
            log_id: self.log_id,
            timestamp: u64::try_from(millis)
                .map_err(|_| IssueError::InvalidRequest("SCT time out of range".into()))?,
            extensions: Vec::new(),
            hash_algorithm,
            signature_algorithm,
            signature: Vec::new(),
        };
        let data = sct.signed_data(entry)?;
        sct.signature = algorithm::sign(&self.key, self.scheme, &data)?;
        Ok(sct)
    }
}
