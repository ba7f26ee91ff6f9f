//! A parsed X.509 certificate that keeps its exact DER bytes, with the
//! accessors the Sigstore checks need, and PEM/DER reading and writing of
//! certificates and chains.

use std::fmt;
use std::ops::Range;
use std::time::SystemTime;

use der::{Decode, Encode, Reader, SliceReader};
use sha2::{Digest as _, Sha256};
use signet_core::keys::PublicKey;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName,
    SubjectKeyIdentifier,
};

use crate::error::DecodeError;
use crate::limits::{MAX_CERTIFICATE_BYTES, MAX_CHAIN_CERTIFICATES, MAX_PEM_BYTES};
use crate::oid;

const WHAT: &str = "certificate";

/// An X.509 certificate: its DER bytes as received, and the parsed structure.
///
/// Signatures are always checked over the received bytes of the
/// `TBSCertificate`, never over a re-encoding.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    tbs: Range<usize>,
    parsed: x509_cert::Certificate,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Certificate({})", self.describe())
    }
}

impl Certificate {
    /// Parses one DER certificate (at most [`MAX_CERTIFICATE_BYTES`]).
    pub fn from_der(der: &[u8]) -> Result<Self, DecodeError> {
        DecodeError::check_size(WHAT, der.len(), MAX_CERTIFICATE_BYTES)?;
        let parsed =
            x509_cert::Certificate::from_der(der).map_err(|e| DecodeError::malformed(WHAT, e))?;
        let tbs = tbs_range(der).map_err(|e| DecodeError::malformed(WHAT, e))?;
        Ok(Self {
            der: der.to_vec(),
            tbs,
            parsed,
        })
    }

    /// Parses one PEM `CERTIFICATE` block.
    pub fn from_pem(pem: &[u8]) -> Result<Self, DecodeError> {
        let mut chain = parse_pem_chain(pem)?;
        match (chain.pop(), chain.is_empty()) {
            (Some(cert), true) => Ok(cert),
            _ => Err(DecodeError::malformed(
                WHAT,
                "expected exactly one PEM CERTIFICATE block",
            )),
        }
    }

    /// The DER bytes.
    pub fn as_der(&self) -> &[u8] {
        &self.der
    }

    /// PEM with LF line endings.
    pub fn to_pem(&self) -> String {
        pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, &self.der)
            .unwrap_or_default()
    }

    /// The parsed structure, for fields without an accessor here.
    pub fn x509(&self) -> &x509_cert::Certificate {
        &self.parsed
    }

    /// The exact DER bytes of the `TBSCertificate`.
    pub fn tbs_der(&self) -> &[u8] {
        self.der.get(self.tbs.clone()).unwrap_or_default()
    }

    /// The signature bits.
    pub fn signature(&self) -> &[u8] {
        self.parsed.signature().raw_bytes()
    }

    /// The DER `SubjectPublicKeyInfo`.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.parsed
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap_or_default()
    }

    /// SHA-256 of the DER `SubjectPublicKeyInfo` (an RFC 6962 issuer key hash or log ID).
    pub fn public_key_sha256(&self) -> [u8; 32] {
        Sha256::digest(self.public_key_der()).into()
    }

    /// The subject public key, when signet handles its algorithm.
    pub fn public_key(&self) -> Result<PublicKey, DecodeError> {
        PublicKey::from_spki_der(&self.public_key_der())
            .map_err(|e| DecodeError::unsupported("certificate public key", e))
    }

    /// The subject name, RFC 4514 (empty for Fulcio leaves).
    pub fn subject(&self) -> String {
        self.parsed.tbs_certificate().subject().to_string()
    }

    /// The issuer name, RFC 4514.
    pub fn issuer(&self) -> String {
        self.parsed.tbs_certificate().issuer().to_string()
    }

    /// The serial number, lowercase hex.
    pub fn serial_hex(&self) -> String {
        hex::encode(self.parsed.tbs_certificate().serial_number().as_bytes())
    }

    /// `notBefore`.
    pub fn not_before(&self) -> SystemTime {
        self.parsed
            .tbs_certificate()
            .validity()
            .not_before
            .to_system_time()
    }

    /// `notAfter`.
    pub fn not_after(&self) -> SystemTime {
        self.parsed
            .tbs_certificate()
            .validity()
            .not_after
            .to_system_time()
    }

    /// Whether subject and issuer names are equal (a self-issued certificate).
    pub fn is_self_issued(&self) -> bool {
        let tbs = self.parsed.tbs_certificate();
        tbs.subject() == tbs.issuer()
    }

    /// Whether this certificate's subject is the issuer named by `child`.
    pub fn is_issuer_name_of(&self, child: &Certificate) -> bool {
        self.parsed.tbs_certificate().subject() == child.parsed.tbs_certificate().issuer()
    }

    /// A short description for messages: the subject, or for certificates
    /// without one (Fulcio leaves) the first SAN, with the serial number.
    pub fn describe(&self) -> String {
        let subject = self.subject();
        let name = if subject.is_empty() {
            match self.subject_alt_names() {
                Ok(Some(names)) => names
                    .first()
                    .map(general_name_to_string)
                    .unwrap_or_default(),
                _ => String::new(),
            }
        } else {
            subject
        };
        format!("\"{name}\" (serial {})", self.serial_hex())
    }

    /// All extensions, in order.
    pub fn extensions(&self) -> &[Extension] {
        self.parsed
            .tbs_certificate()
            .extensions()
            .map(|e| e.as_slice())
            .unwrap_or_default()
    }

    /// The one extension with `oid`; an error when it occurs more than once.
    pub fn extension(
        &self,
        oid: &der::asn1::ObjectIdentifier,
    ) -> Result<Option<&Extension>, DecodeError> {
        let mut found = self.extensions().iter().filter(|e| &e.extn_id == oid);
        let first = found.next();
        if found.next().is_some() {
            return Err(DecodeError::malformed(
                WHAT,
                format!("extension {oid} occurs more than once"),
            ));
        }
        Ok(first)
    }

    fn decode_extension<'a, T: Decode<'a>>(
        &'a self,
        oid: &der::asn1::ObjectIdentifier,
        name: &str,
    ) -> Result<Option<(bool, T)>, DecodeError> {
        match self.extension(oid)? {
            None => Ok(None),
            Some(ext) => T::from_der(ext.extn_value.as_bytes())
                .map(|v| Some((ext.critical, v)))
                .map_err(|e| DecodeError::malformed(WHAT, format!("{name} extension: {e}"))),
        }
    }

    /// Basic constraints (critical flag, value).
    pub fn basic_constraints(&self) -> Result<Option<(bool, BasicConstraints)>, DecodeError> {
        self.decode_extension(&oid::ext::BASIC_CONSTRAINTS, "basic constraints")
    }

    /// Key usage.
    pub fn key_usage(&self) -> Result<Option<(bool, KeyUsage)>, DecodeError> {
        self.decode_extension(&oid::ext::KEY_USAGE, "key usage")
    }

    /// Extended key usage.
    pub fn extended_key_usage(&self) -> Result<Option<(bool, ExtendedKeyUsage)>, DecodeError> {
        self.decode_extension(&oid::ext::EXTENDED_KEY_USAGE, "extended key usage")
    }

    /// Subject key identifier bytes.
    pub fn subject_key_id(&self) -> Result<Option<Vec<u8>>, DecodeError> {
        Ok(self
            .decode_extension::<SubjectKeyIdentifier>(
                &oid::ext::SUBJECT_KEY_IDENTIFIER,
                "subject key identifier",
            )?
            .map(|(_, v)| v.0.as_bytes().to_vec()))
    }

    /// Authority key identifier's key ID bytes.
    pub fn authority_key_id(&self) -> Result<Option<Vec<u8>>, DecodeError> {
        Ok(self
            .decode_extension::<AuthorityKeyIdentifier>(
                &oid::ext::AUTHORITY_KEY_IDENTIFIER,
                "authority key identifier",
            )?
            .and_then(|(_, v)| v.key_identifier.map(|k| k.as_bytes().to_vec())))
    }

    /// The subject alternative names.
    pub fn subject_alt_names(&self) -> Result<Option<Vec<GeneralName>>, DecodeError> {
        Ok(self
            .decode_extension::<SubjectAltName>(
                &oid::ext::SUBJECT_ALT_NAME,
                "subject alternative name",
            )?
            .map(|(_, v)| v.0))
    }

    /// Whether the certificate says it is a CA (basic constraints CA:TRUE).
    pub fn is_ca(&self) -> bool {
        matches!(self.basic_constraints(), Ok(Some((_, bc))) if bc.ca)
    }
}

/// Readable text for a SAN entry (`email`, URI, DNS name, or the OtherName value).
pub(crate) fn general_name_to_string(name: &GeneralName) -> String {
    match name {
        GeneralName::Rfc822Name(s)
        | GeneralName::DnsName(s)
        | GeneralName::UniformResourceIdentifier(s) => s.to_string(),
        GeneralName::OtherName(other) => der::asn1::Utf8StringRef::try_from(&other.value)
            .map(|s| s.to_string())
            .unwrap_or_else(|_| format!("othername:{}", other.type_id)),
        GeneralName::DirectoryName(n) => n.to_string(),
        GeneralName::IpAddress(ip) => format!("ip:{}", hex::encode(ip.as_bytes())),
        GeneralName::RegisteredId(oid) => format!("oid:{oid}"),
        GeneralName::EdiPartyName(_) => "ediPartyName".into(),
    }
}

/// The byte range of the `TBSCertificate` TLV inside a certificate's DER.
fn tbs_range(der: &[u8]) -> der::Result<Range<usize>> {
    let mut reader = SliceReader::new(der)?;
    let header = der::Header::decode(&mut reader)?;
    let outer_header_len = usize::try_from(reader.position())?;
    let _ = header;
    let tbs = reader.tlv_bytes()?;
    Ok(outer_header_len..outer_header_len + tbs.len())
}

/// Reads a PEM file of `CERTIFICATE` blocks (other blocks and text around them
/// are ignored), at most [`MAX_CHAIN_CERTIFICATES`] certificates and
/// [`MAX_PEM_BYTES`] bytes.
pub fn parse_pem_chain(pem: &[u8]) -> Result<Vec<Certificate>, DecodeError> {
    const WHAT_PEM: &str = "PEM certificate chain";
    DecodeError::check_size(WHAT_PEM, pem.len(), MAX_PEM_BYTES)?;
    let text =
        std::str::from_utf8(pem).map_err(|_| DecodeError::malformed(WHAT_PEM, "not UTF-8 text"))?;
    const BEGIN: &str = "-----BEGIN ";
    let mut rest = text;
    let mut out = Vec::new();
    while let Some(start) = rest.find(BEGIN) {
        let block = &rest[start..];
        let label_end = block[BEGIN.len()..]
            .find("-----")
            .ok_or_else(|| DecodeError::malformed(WHAT_PEM, "unterminated BEGIN line"))?;
        let label = &block[BEGIN.len()..BEGIN.len() + label_end];
        let end_marker = format!("-----END {label}-----");
        let end = block
            .find(&end_marker)
            .ok_or_else(|| DecodeError::malformed(WHAT_PEM, format!("missing {end_marker}")))?;
        let whole = &block[..end + end_marker.len()];
        rest = &block[end + end_marker.len()..];
        if label != "CERTIFICATE" {
            continue;
        }
        if out.len() == MAX_CHAIN_CERTIFICATES {
            return Err(DecodeError::TooMany {
                what: WHAT_PEM,
                limit: MAX_CHAIN_CERTIFICATES,
            });
        }
        let (_, der) = pem_rfc7468::decode_vec(whole.as_bytes())
            .map_err(|e| DecodeError::malformed(WHAT_PEM, e))?;
        out.push(Certificate::from_der(&der)?);
    }
    if out.is_empty() {
        return Err(DecodeError::malformed(
            WHAT_PEM,
            "no CERTIFICATE block found",
        ));
    }
    Ok(out)
}

/// PEM text of a chain, in the order given (leaf first, as Fulcio serves it).
pub fn chain_to_pem(chain: &[Certificate]) -> String {
    chain.iter().map(Certificate::to_pem).collect()
}

/// Parses a list of DER certificates (as trust roots and bundles carry them).
pub fn parse_der_chain<'a>(
    ders: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<Certificate>, DecodeError> {
    let mut out = Vec::new();
    for der in ders {
        if out.len() == MAX_CHAIN_CERTIFICATES {
            return Err(DecodeError::TooMany {
                what: "certificate chain",
                limit: MAX_CHAIN_CERTIFICATES,
            });
        }
        out.push(Certificate::from_der(der)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LEAF: &str = include_str!("../../../tests/vectors/sigstore-public-good/leaf-email.pem");
    const CHAIN: &str =
        include_str!("../../../tests/vectors/sigstore-public-good/fulcio-chain.pem");

    #[test]
    fn reads_public_good_certificates() {
        let leaf = Certificate::from_pem(LEAF.as_bytes()).unwrap();
        assert_eq!(leaf.subject(), "");
        assert_eq!(leaf.issuer(), "CN=sigstore-intermediate,O=sigstore.dev");
        assert!(
            leaf.describe().starts_with("\"thomas@python.org\""),
            "{}",
            leaf.describe()
        );
        assert_eq!(Certificate::from_der(leaf.as_der()).unwrap(), leaf);
        assert_eq!(leaf.to_pem(), LEAF);
        // The TBS bytes are the first element of the outer SEQUENCE.
        assert_eq!(
            leaf.tbs_der(),
            leaf.x509().tbs_certificate().to_der().unwrap()
        );

        let chain = parse_pem_chain(CHAIN.as_bytes()).unwrap();
        assert_eq!(chain.len(), 2);
        assert!(chain[0].is_issuer_name_of(&leaf));
        assert!(chain[1].is_self_issued());
        assert!(chain[1].is_ca());
        assert_eq!(chain_to_pem(&chain), CHAIN);
        assert_eq!(
            leaf.authority_key_id().unwrap(),
            chain[0].subject_key_id().unwrap()
        );
    }

    #[test]
    fn rejects_bad_pem() {
        assert!(parse_pem_chain(b"").is_err());
        assert!(parse_pem_chain(b"-----BEGIN CERTIFICATE-----\nAAAA\n").is_err());
        assert!(Certificate::from_pem(CHAIN.as_bytes()).is_err());
        let many = CHAIN.repeat(6);
        assert!(matches!(
            parse_pem_chain(many.as_bytes()),
            Err(DecodeError::TooMany { .. })
        ));
        assert!(matches!(
            Certificate::from_der(&vec![0u8; MAX_CERTIFICATE_BYTES + 1]),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    proptest! {
        #[test]
        fn certificate_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            if let Ok(c) = Certificate::from_der(&bytes) {
                let _ = c.describe();
                let _ = c.subject_alt_names();
                let _ = c.basic_constraints();
            }
            let _ = parse_pem_chain(&bytes);
        }

        #[test]
        fn mutated_certificates_never_panic(pos in 0usize..1042, byte in any::<u8>()) {
            let leaf = Certificate::from_pem(LEAF.as_bytes()).unwrap();
            let mut der = leaf.as_der().to_vec();
            let i = pos % der.len();
            der[i] = byte;
            if let Ok(c) = Certificate::from_der(&der) {
                let _ = c.describe();
                let _ = c.extended_key_usage();
                let _ = c.authority_key_id();
            }
        }
    }
}
