//! Issuing Fulcio leaf certificates: the profile (10-minute validity,
//! digitalSignature, EKU codeSigning, empty subject, one critical SAN, a
//! random positive 160-bit serial, SKI, AKI = the CA's SKI, extensions .1 and
//! .8 always, CI claims when given), and the CT flow precertificate → SCT →
//! final certificate with the embedded SCT list.

use std::time::{Duration, SystemTime};

use der::asn1::{Any, Ia5String, Utf8StringRef};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::{GeneralName, OtherName};
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName as SanExtension};
use x509_cert::name::Name;

use crate::builder::{self, CertificateTemplate};
use crate::ca::{SigningCa, key_id_extensions, parse_public_key};
use crate::certificate::Certificate;
use crate::error::IssueError;
use crate::oid;
use crate::profile::{CiClaims, SubjectAltName};
use crate::sct::{CtLogSigner, SignedCertificateTimestamp, sct_list_extension};

/// How long a Fulcio leaf is valid.
pub const LEAF_VALIDITY: Duration = Duration::from_secs(600);

/// Smallest RSA modulus accepted for a leaf key (Fulcio's goodkey rule).
const MIN_RSA_BITS: usize = 2048;

/// Largest value accepted for the issuer or one claim.
const MAX_CLAIM_BYTES: usize = 4096;

/// What a leaf certificate certifies.
#[derive(Clone, Debug)]
pub struct LeafRequest {
    /// The signer's DER `SubjectPublicKeyInfo` (proof of possession is the caller's check).
    pub subject_public_key: Vec<u8>,
    /// The identity: an email, a URI, or a username (OtherName).
    pub identity: SubjectAltName,
    /// The OIDC issuer URL, written to extensions .1 and .8.
    pub issuer: String,
    /// CI claims, written to .2–.6 and .9–.24 when present.
    pub claims: CiClaims,
    /// Start of validity (the certificate ends [`LEAF_VALIDITY`] later).
    pub not_before: SystemTime,
}

/// A precertificate and what is needed to finish it.
#[derive(Clone, Debug)]
pub struct Precertificate {
    /// The precertificate (with the critical poison extension), signed by the CA.
    pub certificate: Certificate,
    template: CertificateTemplate,
    poison_index: usize,
}

/// A certificate issued with its chain and the SCTs embedded in it.
#[derive(Clone, Debug)]
pub struct IssuedCertificate {
    /// The leaf.
    pub certificate: Certificate,
    /// The leaf followed by the CA chain, as Fulcio returns it.
    pub chain: Vec<Certificate>,
    /// The SCTs embedded in the leaf.
    pub scts: Vec<SignedCertificateTimestamp>,
}

fn check_request(request: &LeafRequest) -> Result<(), IssueError> {
    let key = parse_public_key(&request.subject_public_key)?;
    if let signet_core::keys::PublicKey::Rsa(k) = &key {
        use rsa::traits::PublicKeyParts;
        let bits = k.size() * 8;
        if bits < MIN_RSA_BITS {
            return Err(IssueError::InvalidRequest(format!(
                "RSA key of {bits} bits; at least {MIN_RSA_BITS} are required"
            )));
        }
    }
    if request.identity.value().is_empty() || !request.identity.is_fulcio_identity() {
        return Err(IssueError::InvalidRequest(
            "the identity must be a non-empty email, URI or username".into(),
        ));
    }
    if request.issuer.is_empty() {
        return Err(IssueError::InvalidRequest(
            "the OIDC issuer is empty".into(),
        ));
    }
    let too_long = std::iter::once(Some(request.issuer.as_str()))
        .chain(request.claims.fields().into_iter().map(|(_, _, v)| v))
        .chain(std::iter::once(Some(request.identity.value())))
        .flatten()
        .any(|v| v.len() > MAX_CLAIM_BYTES);
    if too_long {
        return Err(IssueError::InvalidRequest(format!(
            "an identity, issuer or claim value is longer than {MAX_CLAIM_BYTES} bytes"
        )));
    }
    Ok(())
}

fn san_extension(identity: &SubjectAltName) -> Result<Extension, IssueError> {
    let invalid =
        |e: der::Error| IssueError::InvalidRequest(format!("identity {:?}: {e}", identity.value()));
    let name = match identity {
        SubjectAltName::Email(s) => GeneralName::Rfc822Name(Ia5String::new(s).map_err(invalid)?),
        SubjectAltName::Uri(s) => {
            GeneralName::UniformResourceIdentifier(Ia5String::new(s).map_err(invalid)?)
        }
        SubjectAltName::Username(s) => GeneralName::OtherName(OtherName {
            type_id: oid::fulcio::OTHERNAME_SAN,
            value: Any::encode_from(&Utf8StringRef::new(s).map_err(invalid)?).map_err(invalid)?,
        }),
        _ => {
            return Err(IssueError::InvalidRequest(
                "unsupported identity kind".into(),
            ));
        }
    };
    // Critical: the subject is empty (RFC 5280 §4.2.1.6).
    builder::extension(oid::ext::SUBJECT_ALT_NAME, true, &SanExtension(vec![name]))
}

fn utf8_extension(id: der::asn1::ObjectIdentifier, value: &str) -> Result<Extension, IssueError> {
    builder::extension(id, false, &Utf8StringRef::new(value)?)
}

/// The leaf's template, without poison or SCTs.
fn leaf_template(ca: &SigningCa, request: &LeafRequest) -> Result<CertificateTemplate, IssueError> {
    check_request(request)?;
    let mut extensions = vec![
        builder::extension(
            oid::ext::KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::DigitalSignature.into()),
        )?,
        builder::extension(
            oid::ext::EXTENDED_KEY_USAGE,
            false,
            &ExtendedKeyUsage(vec![oid::eku::CODE_SIGNING]),
        )?,
    ];
    extensions.extend(key_id_extensions(
        &request.subject_public_key,
        ca.certificate(),
    )?);
    extensions.push(san_extension(&request.identity)?);
    extensions.push(builder::raw_extension(
        oid::fulcio::ISSUER_V1,
        false,
        request.issuer.as_bytes().to_vec(),
    )?);
    extensions.push(utf8_extension(oid::fulcio::ISSUER_V2, &request.issuer)?);
    for (id, raw, value) in request.claims.fields() {
        if let Some(value) = value {
            extensions.push(if raw {
                builder::raw_extension(id, false, value.as_bytes().to_vec())?
            } else {
                utf8_extension(id, value)?
            });
        }
    }
    Ok(CertificateTemplate {
        serial: builder::random_serial()?,
        issuer: ca.certificate().x509().tbs_certificate().subject().clone(),
        subject: Name::default(),
        not_before: request.not_before,
        not_after: request.not_before + LEAF_VALIDITY,
        subject_public_key: request.subject_public_key.clone(),
        extensions,
    })
}

/// Issues the precertificate for `request`: the final certificate's content
/// plus the critical poison extension, signed by the CA.
pub fn precertificate(ca: &SigningCa, request: &LeafRequest) -> Result<Precertificate, IssueError> {
    let mut template = leaf_template(ca, request)?;
    let poison_index = template.extensions.len();
    template.extensions.push(builder::raw_extension(
        oid::ext::CT_POISON,
        true,
        vec![0x05, 0x00],
    )?);
    let certificate = template.sign(ca.key())?;
    Ok(Precertificate {
        certificate,
        template,
        poison_index,
    })
}

/// The final certificate: the precertificate with the poison extension
/// replaced by the SCT list, signed again by the CA.
pub fn finish_certificate(
    ca: &SigningCa,
    precert: &Precertificate,
    scts: &[SignedCertificateTimestamp],
) -> Result<Certificate, IssueError> {
    if scts.is_empty() {
        return Err(IssueError::InvalidRequest("no SCTs to embed".into()));
    }
    let mut template = precert.template.clone();
    let slot = template
        .extensions
        .get_mut(precert.poison_index)
        .ok_or_else(|| {
            IssueError::Encoding("precertificate template lost its poison extension".into())
        })?;
    *slot = sct_list_extension(scts)?;
    template.sign(ca.key())
}

/// The whole CA flow with a CT log in the same process: precertificate, SCT
/// from `ct_log` at the precertificate's `notBefore`, final certificate.
pub fn issue_with_embedded_sct(
    ca: &SigningCa,
    ct_log: &CtLogSigner,
    request: &LeafRequest,
) -> Result<IssuedCertificate, IssueError> {
    let precert = precertificate(ca, request)?;
    let sct =
        ct_log.sign_precertificate(&precert.certificate, ca.certificate(), request.not_before)?;
    let certificate = finish_certificate(ca, &precert, std::slice::from_ref(&sct))?;
    Ok(IssuedCertificate {
        chain: std::iter::once(certificate.clone())
            .chain(ca.chain().iter().cloned())
            .collect(),
        certificate,
        scts: vec![sct],
    })
}

/// A leaf without SCTs, for deployments that log certificates separately
/// (detached SCTs) or not at all.
pub fn issue_without_sct(
    ca: &SigningCa,
    request: &LeafRequest,
) -> Result<IssuedCertificate, IssueError> {
    let certificate = leaf_template(ca, request)?.sign(ca.key())?;
    Ok(IssuedCertificate {
        chain: std::iter::once(certificate.clone())
            .chain(ca.chain().iter().cloned())
            .collect(),
        certificate,
        scts: Vec::new(),
    })
}
