//! RFC 3161 and CMS (RFC 5652) structures for timestamps: requests,
//! responses, `TSTInfo`, the parts of `SignedData` a timestamp token uses, and
//! the ESS signing-certificate attributes (RFC 2634, RFC 5035).
//!
//! `SignedData` and `SignerInfo` are read by hand rather than derived so that
//! the signed attributes keep the exact bytes that were signed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::asn1::{AnyRef, BitString, Int, ObjectIdentifier, OctetString, SetOfVec};
use der::{
    Decode, DecodeValue, Encode, EncodeValue, FixedTag, Header, Length, Reader, Sequence,
    SliceReader, Tag, TagNumber, Tagged, Writer,
};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use crate::error::DecodeError;

/// `MessageImprint`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct MessageImprint {
    pub hash_algorithm: AlgorithmIdentifierOwned,
    pub hashed_message: OctetString,
}

/// `TimeStampReq`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct TimeStampReq {
    pub version: u8,
    pub message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    pub req_policy: Option<ObjectIdentifier>,
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    #[asn1(default = "Default::default")]
    pub cert_req: bool,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Vec<Extension>>,
}

/// `PKIStatusInfo`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct PkiStatusInfo {
    pub status: u32,
    #[asn1(optional = "true")]
    pub status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    pub fail_info: Option<BitString>,
}

/// `Accuracy`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct Accuracy {
    #[asn1(optional = "true")]
    pub seconds: Option<u32>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub millis: Option<u16>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub micros: Option<u16>,
}

/// `TSTInfo`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct TstInfo {
    pub version: u8,
    pub policy: ObjectIdentifier,
    pub message_imprint: MessageImprint,
    pub serial_number: Int,
    pub gen_time: GenTime,
    #[asn1(optional = "true")]
    pub accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    pub ordering: bool,
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub tsa: Option<GeneralName>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Vec<Extension>>,
}

/// `IssuerSerial` (RFC 5035).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct IssuerSerial {
    pub issuer: Vec<GeneralName>,
    pub serial_number: Int,
}

/// `ESSCertIDv2`; an absent hash algorithm means SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct EssCertIdV2 {
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// `SigningCertificateV2` (policies are not read).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
}

/// `ESSCertID` (SHA-1).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct EssCertId {
    pub cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// `SigningCertificate` (policies are not read).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct SigningCertificate {
    pub certs: Vec<EssCertId>,
}

/// A GeneralizedTime that may carry fractions of a second (RFC 3161 allows
/// them in `genTime`; DER forbids trailing zeros). Encoded without fractions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GenTime(pub SystemTime);

impl FixedTag for GenTime {
    const TAG: Tag = Tag::GeneralizedTime;
}

impl<'a> DecodeValue<'a> for GenTime {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        if header.length() > Length::new(40) {
            return Err(Tag::GeneralizedTime.length_error().into());
        }
        let bytes = reader.read_vec(header.length())?;
        parse_generalized_time(&bytes).ok_or_else(|| Tag::GeneralizedTime.value_error().into())
    }
}

fn parse_generalized_time(bytes: &[u8]) -> Option<GenTime> {
    let text = std::str::from_utf8(bytes).ok()?;
    let body = text.strip_suffix('Z')?;
    let (whole, fraction) = match body.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (body, None),
    };
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| whole.get(r)?.parse::<u32>().ok();
    let dt = der::DateTime::new(
        u16::try_from(num(0..4)?).ok()?,
        u8::try_from(num(4..6)?).ok()?,
        u8::try_from(num(6..8)?).ok()?,
        u8::try_from(num(8..10)?).ok()?,
        u8::try_from(num(10..12)?).ok()?,
        u8::try_from(num(12..14)?).ok()?,
    )
    .ok()?;
    let mut time = UNIX_EPOCH + dt.unix_duration();
    if let Some(f) = fraction {
        // DER: at least one digit, no trailing zero.
        if f.is_empty() || f.len() > 9 || f.ends_with('0') || !f.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let nanos: u32 = format!("{f:0<9}").parse().ok()?;
        time += Duration::from_nanos(u64::from(nanos));
    }
    Some(GenTime(time))
}

impl GenTime {
    fn text(&self) -> der::Result<String> {
        let secs = self
            .0
            .duration_since(UNIX_EPOCH)
            .map_err(|_| der::Error::from(der::ErrorKind::DateTime))?
            .as_secs();
        let dt = der::DateTime::from_unix_duration(Duration::from_secs(secs))?;
        Ok(format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}Z",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minutes(),
            dt.seconds()
        ))
    }
}

impl EncodeValue for GenTime {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.text()?.len())
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(self.text()?.as_bytes())
    }
}

/// A `SignerIdentifier`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SignerId {
    IssuerAndSerial { issuer: Name, serial: Vec<u8> },
    KeyId(Vec<u8>),
}

/// The parts of a `SignerInfo` verification needs.
#[derive(Clone, Debug)]
pub(crate) struct SignerInfo {
    pub sid: SignerId,
    pub digest_algorithm: AlgorithmIdentifierOwned,
    /// The signed attributes re-tagged as the SET they are signed as, bytes as received.
    pub signed_attrs_der: Option<Vec<u8>>,
    pub signature_algorithm: AlgorithmIdentifierOwned,
    pub signature: Vec<u8>,
}

/// The parts of a timestamp token's `SignedData` verification needs.
#[derive(Clone, Debug)]
pub(crate) struct SignedData {
    pub econtent_type: ObjectIdentifier,
    pub econtent: Option<Vec<u8>>,
    /// DER of each certificate in the `certificates` field (other choices skipped).
    pub certificates: Vec<Vec<u8>>,
    pub signer_infos: Vec<SignerInfo>,
}

const CONTEXT_0: Tag = Tag::ContextSpecific {
    constructed: true,
    number: TagNumber(0),
};
const CONTEXT_1: Tag = Tag::ContextSpecific {
    constructed: true,
    number: TagNumber(1),
};

fn bad(what: &'static str) -> impl Fn(der::Error) -> DecodeError {
    move |e| DecodeError::malformed(what, e)
}

pub(crate) fn expect_sequence(any: &AnyRef<'_>, what: &'static str) -> Result<(), DecodeError> {
    if any.tag() == Tag::Sequence {
        Ok(())
    } else {
        Err(DecodeError::malformed(
            what,
            format!("expected a SEQUENCE, found {}", any.tag()),
        ))
    }
}

/// Reads `ContentInfo` holding `SignedData`.
pub(crate) fn parse_token(
    token: &[u8],
    max_certificates: usize,
) -> Result<SignedData, DecodeError> {
    const WHAT: &str = "timestamp token";
    let mut reader = SliceReader::new(token).map_err(bad(WHAT))?;
    let content_info = AnyRef::decode(&mut reader).map_err(bad(WHAT))?;
    reader.finish().map_err(bad(WHAT))?;
    expect_sequence(&content_info, WHAT)?;
    let mut ci = SliceReader::new(content_info.value()).map_err(bad(WHAT))?;
    let content_type = ObjectIdentifier::decode(&mut ci).map_err(bad(WHAT))?;
    if content_type != crate::oid::cms::SIGNED_DATA {
        return Err(DecodeError::malformed(
            WHAT,
            format!("content type {content_type} is not signedData"),
        ));
    }
    let wrapper = AnyRef::decode(&mut ci).map_err(bad(WHAT))?;
    ci.finish().map_err(bad(WHAT))?;
    if wrapper.tag() != CONTEXT_0 {
        return Err(DecodeError::malformed(WHAT, "content is not [0] EXPLICIT"));
    }
    let signed_data = AnyRef::from_der(wrapper.value()).map_err(bad(WHAT))?;
    expect_sequence(&signed_data, WHAT)?;
    parse_signed_data(signed_data.value(), max_certificates)
}

fn parse_signed_data(body: &[u8], max_certificates: usize) -> Result<SignedData, DecodeError> {
    const WHAT: &str = "timestamp SignedData";
    let e = bad(WHAT);
    let mut r = SliceReader::new(body).map_err(&e)?;
    let _version = u8::decode(&mut r).map_err(&e)?;
    let _digest_algorithms = AnyRef::decode(&mut r).map_err(&e)?;
    let encap = AnyRef::decode(&mut r).map_err(&e)?;
    expect_sequence(&encap, WHAT)?;
    let mut er = SliceReader::new(encap.value()).map_err(&e)?;
    let econtent_type = ObjectIdentifier::decode(&mut er).map_err(&e)?;
    let econtent = if er.is_finished() {
        None
    } else {
        let wrapped = AnyRef::decode(&mut er).map_err(&e)?;
        if wrapped.tag() != CONTEXT_0 {
            return Err(DecodeError::malformed(WHAT, "eContent is not [0] EXPLICIT"));
        }
        Some(
            OctetString::from_der(wrapped.value())
                .map_err(&e)?
                .as_bytes()
                .to_vec(),
        )
    };
    er.finish().map_err(&e)?;
    let mut certificates = Vec::new();
    if Tag::peek(&r).map_err(&e)? == CONTEXT_0 {
        let set = AnyRef::decode(&mut r).map_err(&e)?;
        let mut cr = SliceReader::new(set.value()).map_err(&e)?;
        while !cr.is_finished() {
            let cert = AnyRef::decode(&mut cr).map_err(&e)?;
            if cert.tag() == Tag::Sequence {
                if certificates.len() == max_certificates {
                    return Err(DecodeError::TooMany {
                        what: "timestamp token certificates",
                        limit: max_certificates,
                    });
                }
                certificates.push(cert.to_der().map_err(&e)?);
            }
        }
    }
    if Tag::peek(&r).map_err(&e)? == CONTEXT_1 {
        let _crls = AnyRef::decode(&mut r).map_err(&e)?;
    }
    let infos = AnyRef::decode(&mut r).map_err(&e)?;
    if infos.tag() != Tag::Set {
        return Err(DecodeError::malformed(WHAT, "signerInfos is not a SET"));
    }
    r.finish().map_err(&e)?;
    let mut signer_infos = Vec::new();
    let mut ir = SliceReader::new(infos.value()).map_err(&e)?;
    while !ir.is_finished() {
        if signer_infos.len() == 4 {
            return Err(DecodeError::TooMany {
                what: "timestamp signer infos",
                limit: 4,
            });
        }
        let info = AnyRef::decode(&mut ir).map_err(&e)?;
        expect_sequence(&info, WHAT)?;
        signer_infos.push(parse_signer_info(info.value())?);
    }
    Ok(SignedData {
        econtent_type,
        econtent,
        certificates,
        signer_infos,
    })
}

fn parse_signer_info(body: &[u8]) -> Result<SignerInfo, DecodeError> {
    const WHAT: &str = "timestamp SignerInfo";
    let e = bad(WHAT);
    let mut r = SliceReader::new(body).map_err(&e)?;
    let version = u8::decode(&mut r).map_err(&e)?;
    let sid = AnyRef::decode(&mut r).map_err(&e)?;
    let sid = if sid.tag() == Tag::Sequence {
        let mut sr = SliceReader::new(sid.value()).map_err(&e)?;
        let issuer = Name::decode(&mut sr).map_err(&e)?;
        let serial = Int::decode(&mut sr).map_err(&e)?;
        sr.finish().map_err(&e)?;
        SignerId::IssuerAndSerial {
            issuer,
            serial: serial.as_bytes().to_vec(),
        }
    } else if sid.tag()
        == (Tag::ContextSpecific {
            constructed: false,
            number: TagNumber(0),
        })
    {
        SignerId::KeyId(sid.value().to_vec())
    } else {
        return Err(DecodeError::malformed(WHAT, "unknown signer identifier"));
    };
    let expected_version = if matches!(sid, SignerId::KeyId(_)) {
        3
    } else {
        1
    };
    if version != expected_version {
        return Err(DecodeError::malformed(
            WHAT,
            format!("version {version} with this signer identifier (expected {expected_version})"),
        ));
    }
    let digest_algorithm = AlgorithmIdentifierOwned::decode(&mut r).map_err(&e)?;
    let signed_attrs_der = if Tag::peek(&r).map_err(&e)? == CONTEXT_0 {
        let attrs = AnyRef::decode(&mut r).map_err(&e)?;
        Some(
            AnyRef::new(Tag::Set, attrs.value())
                .map_err(&e)?
                .to_der()
                .map_err(&e)?,
        )
    } else {
        None
    };
    let signature_algorithm = AlgorithmIdentifierOwned::decode(&mut r).map_err(&e)?;
    let signature = OctetString::decode(&mut r).map_err(&e)?.as_bytes().to_vec();
    if !r.is_finished() {
        let unsigned = AnyRef::decode(&mut r).map_err(&e)?;
        if unsigned.tag() != CONTEXT_1 {
            return Err(DecodeError::malformed(
                WHAT,
                "unexpected field after the signature",
            ));
        }
    }
    r.finish().map_err(&e)?;
    Ok(SignerInfo {
        sid,
        digest_algorithm,
        signed_attrs_der,
        signature_algorithm,
        signature,
    })
}

/// The attributes of a DER SET OF Attribute, each OID at most once.
pub(crate) fn parse_attributes(set_der: &[u8]) -> Result<Vec<Attribute>, DecodeError> {
    const WHAT: &str = "timestamp signed attributes";
    let e = bad(WHAT);
    let set = AnyRef::from_der(set_der).map_err(&e)?;
    let mut r = SliceReader::new(set.value()).map_err(&e)?;
    let mut out: Vec<Attribute> = Vec::new();
    while !r.is_finished() {
        if out.len() == 32 {
            return Err(DecodeError::TooMany {
                what: WHAT,
                limit: 32,
            });
        }
        let attr = Attribute::decode(&mut r).map_err(&e)?;
        if out.iter().any(|a| a.oid == attr.oid) {
            return Err(DecodeError::malformed(
                WHAT,
                format!("attribute {} occurs more than once", attr.oid),
            ));
        }
        out.push(attr);
    }
    Ok(out)
}

/// A TLV with `tag` around `content`.
pub(crate) fn tlv(tag: Tag, content: &[u8]) -> der::Result<Vec<u8>> {
    AnyRef::new(tag, content)?.to_der()
}

/// A DER SET OF the given encoded elements, sorted as DER requires.
pub(crate) fn der_set(mut elements: Vec<Vec<u8>>) -> der::Result<Vec<u8>> {
    elements.sort();
    tlv(Tag::Set, &elements.concat())
}

/// One attribute with a single value.
pub(crate) fn attribute(oid: ObjectIdentifier, value_der: &[u8]) -> der::Result<Vec<u8>> {
    let mut values = SetOfVec::new();
    values.insert(der::asn1::Any::from_der(value_der)?)?;
    Attribute { oid, values }.to_der()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generalized_time_with_and_without_fractions() {
        let whole = parse_generalized_time(b"20250609115738Z").unwrap();
        assert_eq!(crate::time::unix_seconds(whole.0), 1749470258);
        let frac = parse_generalized_time(b"20250609115738.25Z").unwrap();
        assert_eq!(
            frac.0.duration_since(whole.0).unwrap(),
            Duration::from_millis(250)
        );
        for bad in [
            &b"20250609115738.250Z"[..],
            b"20250609115738.Z",
            b"20250609115738",
            b"2025060911573Z",
            b"20251309115738Z",
        ] {
            assert!(
                parse_generalized_time(bad).is_none(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let encoded = GenTime(whole.0).to_der().unwrap();
        assert_eq!(GenTime::from_der(&encoded).unwrap(), whole);
    }
}
