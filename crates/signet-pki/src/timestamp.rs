//! RFC 3161 timestamp verification.
//!
//! A timestamp verifies when: the response's status is granted; the token is
//! CMS `SignedData` over a `TSTInfo` with exactly one signer; the signed
//! attributes bind the content (content type, message digest) and name the
//! signer's certificate (ESSCertIDv2, or ESSCertID); the signature verifies
//! under that certificate; the certificate chains to a trusted TSA at the
//! timestamp's own time, with extended key usage exactly timeStamping
//! (critical); and the message imprint is the hash of the given bytes. The
//! result carries `genTime`.

use std::time::SystemTime;

use der::Decode;
use der::asn1::{AnyRef, ObjectIdentifier};
use sha1::Sha1;
use sha2::Digest as _;
use x509_cert::ext::pkix::name::GeneralName;

use crate::algorithm::{self, HashAlgorithm, SignatureScheme, VerifyFailure};
use crate::certificate::Certificate;
use crate::chain::{CertificateAuthority, KeyPurpose, check_validity, verify_chain};
use crate::error::{ChainError, DecodeError, TimestampError};
use crate::limits::{MAX_CHAIN_CERTIFICATES, MAX_TIMESTAMP_RESPONSE_BYTES};
use crate::oid;
use crate::time::{TimeRange, rfc3339};
use crate::tsp::{
    IssuerSerial, PkiStatusInfo, SignerId, SigningCertificate, SigningCertificateV2, TstInfo,
    parse_attributes, parse_token,
};

/// A trusted timestamp authority: its certificate chain as a trusted root
/// lists it (the TSA's signing certificate first, the root last) and the
/// window it is trusted for.
#[derive(Clone, Debug)]
pub struct TimestampAuthority {
    chain: Vec<Certificate>,
    ca: Option<CertificateAuthority>,
    valid_for: TimeRange,
}

impl TimestampAuthority {
    /// An authority from its chain (signing certificate first) and trust window.
    pub fn new(chain: Vec<Certificate>, valid_for: TimeRange) -> Result<Self, ChainError> {
        if chain.is_empty() {
            return Err(ChainError::InvalidAuthority(
                "the TSA chain is empty".into(),
            ));
        }
        let ca = match chain.get(1..) {
            Some(above) if !above.is_empty() => {
                Some(CertificateAuthority::new(above.to_vec(), valid_for)?)
            }
            _ => None,
        };
        Ok(Self {
            chain,
            ca,
            valid_for,
        })
    }

    /// The chain, signing certificate first.
    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    /// The window the authority is trusted for.
    pub fn valid_for(&self) -> TimeRange {
        self.valid_for
    }
}

/// Optional checks on a timestamp beyond its signature and imprint.
#[derive(Clone, Debug, Default)]
pub struct TimestampOptions {
    /// The nonce the request carried (big-endian two's complement, as encoded).
    pub nonce: Option<Vec<u8>>,
    /// The policy the timestamp must carry.
    pub policy: Option<ObjectIdentifier>,
}

/// A timestamp that verified.
#[derive(Clone, Debug)]
pub struct VerifiedTimestamp {
    /// `genTime`: when the TSA saw the data.
    pub time: SystemTime,
    /// Index of the authority (in the slice given) whose chain validated.
    pub authority: usize,
    /// The TSA's signing certificate.
    pub signer: Certificate,
    /// The token's serial number, hex.
    pub serial: String,
    /// The TSA policy.
    pub policy: ObjectIdentifier,
    /// The message imprint's hash algorithm.
    pub hash_algorithm: HashAlgorithm,
    /// The nonce, if the token has one.
    pub nonce: Option<Vec<u8>>,
}

/// The token inside a DER `TimeStampResp`, after checking the status.
pub fn timestamp_token(response: &[u8]) -> Result<Vec<u8>, TimestampError> {
    const WHAT: &str = "TimeStampResp";
    DecodeError::check_size(WHAT, response.len(), MAX_TIMESTAMP_RESPONSE_BYTES)?;
    let malformed = |e: der::Error| DecodeError::malformed(WHAT, e);
    let outer = AnyRef::from_der(response).map_err(malformed)?;
    crate::tsp::expect_sequence(&outer, WHAT)?;
    let mut reader = der::SliceReader::new(outer.value()).map_err(malformed)?;
    let status: PkiStatusInfo = der::Reader::decode(&mut reader).map_err(malformed)?;
    let token = if der::Reader::is_finished(&reader) {
        None
    } else {
        Some(AnyRef::decode(&mut reader).map_err(malformed)?)
    };
    der::Reader::finish(reader).map_err(malformed)?;
    if status.status > 1 {
        let mut detail = String::new();
        if let Some(text) = &status.status_string {
            detail = format!(": {}", text.join("; "));
        }
        if let Some(bits) = &status.fail_info {
            detail.push_str(&format!(
                " (failure bits {})",
                hex::encode(bits.raw_bytes())
            ));
        }
        return Err(TimestampError::Refused {
            status: i64::from(status.status),
            detail,
        });
    }
    let token = token.ok_or_else(|| DecodeError::malformed(WHAT, "status granted but no token"))?;
    Ok(der::Encode::to_der(&token).map_err(malformed)?)
}

/// Verifies a DER `TimeStampResp` over `data` (the bytes that were
/// timestamped; sigstore timestamps the signature bytes).
pub fn verify_timestamp_response(
    response: &[u8],
    data: &[u8],
    authorities: &[TimestampAuthority],
    options: &TimestampOptions,
) -> Result<VerifiedTimestamp, TimestampError> {
    let token = timestamp_token(response)?;
    verify_timestamp_token(&token, data, authorities, options)
}

/// Verifies a DER timestamp token (`ContentInfo`) over `data`.
pub fn verify_timestamp_token(
    token: &[u8],
    data: &[u8],
    authorities: &[TimestampAuthority],
    options: &TimestampOptions,
) -> Result<VerifiedTimestamp, TimestampError> {
    const WHAT: &str = "timestamp token";
    if authorities.is_empty() {
        return Err(TimestampError::NoAuthorities);
    }
    DecodeError::check_size(WHAT, token.len(), MAX_TIMESTAMP_RESPONSE_BYTES)?;
    let signed = parse_token(token, MAX_CHAIN_CERTIFICATES)?;
    if signed.econtent_type != oid::cms::TST_INFO {
        return Err(DecodeError::malformed(
            WHAT,
            format!("content type {} is not TSTInfo", signed.econtent_type),
        )
        .into());
    }
    let econtent = signed
        .econtent
        .as_deref()
        .ok_or_else(|| DecodeError::malformed(WHAT, "the TSTInfo content is missing"))?;
    let [signer_info] = signed.signer_infos.as_slice() else {
        return Err(DecodeError::malformed(
            WHAT,
            format!(
                "{} signers, exactly one expected",
                signed.signer_infos.len()
            ),
        )
        .into());
    };
    let tst = TstInfo::from_der(econtent).map_err(|e| DecodeError::malformed("TSTInfo", e))?;
    if tst.version != 1 {
        return Err(DecodeError::unsupported("TSTInfo", format!("version {}", tst.version)).into());
    }

    // Who signed: the certificate the signer identifier names, from the token
    // or from the trusted chains.
    let mut candidates = Vec::new();
    for der in &signed.certificates {
        candidates.push(Certificate::from_der(der)?);
    }
    candidates.extend(authorities.iter().filter_map(|a| a.chain.first().cloned()));
    let signer = candidates
        .into_iter()
        .find(|c| signer_matches(&signer_info.sid, c))
        .ok_or_else(|| TimestampError::SignerNotFound(describe_sid(&signer_info.sid)))?;

    // What was signed: the signed attributes, which bind the content.
    let digest = HashAlgorithm::from_oid(&signer_info.digest_algorithm.oid).ok_or_else(|| {
        DecodeError::unsupported(
            "timestamp digest algorithm",
            signer_info.digest_algorithm.oid,
        )
    })?;
    let attrs_der = signer_info
        .signed_attrs_der
        .as_deref()
        .ok_or_else(|| TimestampError::SignedAttributes("missing".into()))?;
    check_signed_attributes(attrs_der, econtent, digest, &signer)?;

    let scheme = cms_scheme(&signer_info.signature_algorithm.oid, digest)?;
    let key = signer.public_key()?;
    match algorithm::verify(&key, scheme, attrs_der, &signer_info.signature) {
        Ok(()) => {}
        Err(VerifyFailure::KeyMismatch(detail)) => {
            return Err(DecodeError::unsupported("timestamp signature", detail).into());
        }
        Err(VerifyFailure::Invalid) => {
            return Err(TimestampError::BadSignature {
                certificate: signer.describe(),
            });
        }
    }

    // The signer is a trusted TSA at the timestamp's time.
    let time = tst.gen_time.0;
    let authority = trusted_authority(&signer, authorities, time)?;

    // The token is about these bytes.
    let imprint_hash = HashAlgorithm::from_oid(&tst.message_imprint.hash_algorithm.oid)
        .ok_or_else(|| {
            DecodeError::unsupported(
                "message imprint hash",
                tst.message_imprint.hash_algorithm.oid,
            )
        })?;
    let expected = imprint_hash.digest(data);
    let actual = tst.message_imprint.hashed_message.as_bytes();
    if actual != expected.as_slice() {
        return Err(TimestampError::ImprintMismatch {
            expected: hex::encode(&expected),
            actual: hex::encode(actual),
        });
    }
    let nonce = tst.nonce.as_ref().map(|n| n.as_bytes().to_vec());
    if let Some(expected) = &options.nonce
        && nonce.as_ref() != Some(expected)
    {
        return Err(TimestampError::NonceMismatch {
            expected: hex::encode(expected),
            actual: nonce
                .as_deref()
                .map(hex::encode)
                .unwrap_or_else(|| "(none)".into()),
        });
    }
    if let Some(policy) = &options.policy
        && policy != &tst.policy
    {
        return Err(TimestampError::PolicyMismatch {
            expected: policy.to_string(),
            actual: tst.policy.to_string(),
        });
    }
    Ok(VerifiedTimestamp {
        time,
        authority,
        signer,
        serial: hex::encode(tst.serial_number.as_bytes()),
        policy: tst.policy,
        hash_algorithm: imprint_hash,
        nonce,
    })
}

fn trusted_authority(
    signer: &Certificate,
    authorities: &[TimestampAuthority],
    time: SystemTime,
) -> Result<usize, TimestampError> {
    let mut best: Option<TimestampError> = None;
    for (index, authority) in authorities.iter().enumerate() {
        let result = match &authority.ca {
            Some(ca) => verify_chain(
                signer,
                std::slice::from_ref(ca),
                time,
                KeyPurpose::TimeStamping,
            )
            .map(|_| ()),
            // A single self-signed TSA certificate: it is its own anchor.
            None if authority.chain.first() == Some(signer) => check_validity(signer, time),
            None => Err(ChainError::UnknownIssuer {
                certificate: signer.describe(),
                issuer: signer.issuer(),
            }),
        };
        match result {
            Ok(()) if authority.valid_for.contains(time) => return Ok(index),
            Ok(()) => {
                best = Some(TimestampError::OutsideValidity {
                    time: rfc3339(time),
                    window: authority.valid_for.to_string(),
                })
            }
            Err(e) => {
                let specific = !matches!(e, ChainError::UnknownIssuer { .. });
                if best.is_none() || specific {
                    best = Some(e.into());
                }
            }
        }
    }
    Err(best.unwrap_or(TimestampError::NoAuthorities))
}

fn cms_scheme(
    signature_algorithm: &ObjectIdentifier,
    digest: HashAlgorithm,
) -> Result<SignatureScheme, TimestampError> {
    let alg = spki::AlgorithmIdentifierOwned {
        oid: *signature_algorithm,
        parameters: None,
    };
    if let Ok(scheme) = SignatureScheme::from_x509(&alg) {
        return Ok(scheme);
    }
    // CMS also names just the key algorithm and takes the hash from the digest algorithm.
    if signature_algorithm == &oid::alg::RSA_ENCRYPTION {
        Ok(SignatureScheme::RsaPkcs1(digest))
    } else if signature_algorithm == &oid::alg::EC_PUBLIC_KEY {
        Ok(SignatureScheme::Ecdsa(digest))
    } else {
        Err(DecodeError::unsupported("timestamp signature algorithm", signature_algorithm).into())
    }
}

fn signer_matches(sid: &SignerId, cert: &Certificate) -> bool {
    match sid {
        SignerId::IssuerAndSerial { issuer, serial } => {
            cert.x509().tbs_certificate().issuer() == issuer
                && cert.x509().tbs_certificate().serial_number().as_bytes() == serial.as_slice()
        }
        SignerId::KeyId(id) => matches!(cert.subject_key_id(), Ok(Some(ski)) if &ski == id),
    }
}

fn describe_sid(sid: &SignerId) -> String {
    match sid {
        SignerId::IssuerAndSerial { issuer, serial } => {
            format!("issuer {issuer}, serial {}", hex::encode(serial))
        }
        SignerId::KeyId(id) => format!("key identifier {}", hex::encode(id)),
    }
}

fn check_signed_attributes(
    attrs_der: &[u8],
    econtent: &[u8],
    digest: HashAlgorithm,
    signer: &Certificate,
) -> Result<(), TimestampError> {
    let attrs = parse_attributes(attrs_der)?;
    let single = |id: ObjectIdentifier, name: &str| -> Result<Option<Vec<u8>>, TimestampError> {
        match attrs.iter().find(|a| a.oid == id) {
            None => Ok(None),
            Some(a) if a.values.len() == 1 => Ok(a
                .values
                .iter()
                .next()
                .map(der::Encode::to_der)
                .transpose()
                .map_err(|e| DecodeError::malformed("timestamp signed attributes", e))?),
            Some(_) => Err(TimestampError::SignedAttributes(format!(
                "{name} must have exactly one value"
            ))),
        }
    };
    let content_type = single(oid::cms::CONTENT_TYPE, "content type")?.ok_or_else(|| {
        TimestampError::SignedAttributes("the content-type attribute is missing".into())
    })?;
    let content_type = ObjectIdentifier::from_der(&content_type)
        .map_err(|e| TimestampError::SignedAttributes(format!("content type: {e}")))?;
    if content_type != oid::cms::TST_INFO {
        return Err(TimestampError::SignedAttributes(format!(
            "content type {content_type} is not TSTInfo"
        )));
    }
    let message_digest = single(oid::cms::MESSAGE_DIGEST, "message digest")?.ok_or_else(|| {
        TimestampError::SignedAttributes("the message-digest attribute is missing".into())
    })?;
    let message_digest = der::asn1::OctetString::from_der(&message_digest)
        .map_err(|e| TimestampError::SignedAttributes(format!("message digest: {e}")))?;
    let expected = digest.digest(econtent);
    if message_digest.as_bytes() != expected.as_slice() {
        return Err(TimestampError::SignedAttributes(format!(
            "message digest {} does not match the TSTInfo's {} {}",
            hex::encode(message_digest.as_bytes()),
            digest.name(),
            hex::encode(&expected)
        )));
    }
    let mismatch = |detail: String| TimestampError::CertificateIdMismatch {
        certificate: signer.describe(),
        detail,
    };
    if let Some(v2) = single(oid::cms::SIGNING_CERTIFICATE_V2, "signing certificate v2")? {
        let v2 = SigningCertificateV2::from_der(&v2).map_err(|e| {
            TimestampError::SignedAttributes(format!("signing certificate v2: {e}"))
        })?;
        let first = v2
            .certs
            .first()
            .ok_or_else(|| mismatch("the ESSCertIDv2 list is empty".into()))?;
        let hash = match &first.hash_algorithm {
            None => HashAlgorithm::Sha256,
            Some(alg) => HashAlgorithm::from_oid(&alg.oid)
                .ok_or_else(|| mismatch(format!("unsupported certificate hash {}", alg.oid)))?,
        };
        if first.cert_hash.as_bytes() != hash.digest(signer.as_der()).as_slice() {
            return Err(mismatch(format!(
                "{} certificate hash differs",
                hash.name()
            )));
        }
        check_issuer_serial(first.issuer_serial.as_ref(), signer).map_err(mismatch)?;
    } else if let Some(v1) = single(oid::cms::SIGNING_CERTIFICATE, "signing certificate")? {
        let v1 = SigningCertificate::from_der(&v1)
            .map_err(|e| TimestampError::SignedAttributes(format!("signing certificate: {e}")))?;
        let first = v1
            .certs
            .first()
            .ok_or_else(|| mismatch("the ESSCertID list is empty".into()))?;
        if first.cert_hash.as_bytes() != Sha1::digest(signer.as_der()).as_slice() {
            return Err(mismatch("SHA-1 certificate hash differs".into()));
        }
        check_issuer_serial(first.issuer_serial.as_ref(), signer).map_err(mismatch)?;
    } else {
        return Err(TimestampError::SignedAttributes(
            "neither signing-certificate attribute (v1 or v2) is present".into(),
        ));
    }
    Ok(())
}

fn check_issuer_serial(
    issuer_serial: Option<&IssuerSerial>,
    signer: &Certificate,
) -> Result<(), String> {
    let Some(is) = issuer_serial else {
        return Ok(());
    };
    let tbs = signer.x509().tbs_certificate();
    if is.serial_number.as_bytes() != tbs.serial_number().as_bytes() {
        return Err(format!(
            "serial {} differs",
            hex::encode(is.serial_number.as_bytes())
        ));
    }
    let named = is
        .issuer
        .iter()
        .any(|n| matches!(n, GeneralName::DirectoryName(name) if name == tbs.issuer()));
    if !named {
        return Err("issuer name differs".into());
    }
    Ok(())
}
