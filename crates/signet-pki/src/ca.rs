//! Issuing CA material: a CA key with its certificate chain, and helpers that
//! create a self-signed root, an intermediate CA and a TSA chain in the shapes
//! Sigstore clients accept.

use std::time::SystemTime;

use der::asn1::ObjectIdentifier;
use getrandom::SysRng;
use p256::elliptic_curve::Generate;
use signet_core::keys::{PrivateKey, PublicKey};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectKeyIdentifier,
};

use crate::builder::{self, CertificateTemplate};
use crate::certificate::Certificate;
use crate::error::IssueError;
use crate::oid;

/// Key types for CA, TSA and CT log keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 (signs with SHA-256).
    P256,
    /// ECDSA on P-384 (signs with SHA-384), as the public-good Fulcio CA uses.
    P384,
}

impl KeyAlgorithm {
    /// A fresh key from the operating system's randomness.
    pub fn generate(self) -> Result<PrivateKey, IssueError> {
        let random =
            |e: getrandom::Error| IssueError::Key(signet_core::KeyError::Random(e.to_string()));
        Ok(match self {
            Self::P256 => PrivateKey::EcdsaP256(
                p256::ecdsa::SigningKey::try_generate_from_rng(&mut SysRng).map_err(random)?,
            ),
            Self::P384 => PrivateKey::EcdsaP384(
                p384::ecdsa::SigningKey::try_generate_from_rng(&mut SysRng).map_err(random)?,
            ),
        })
    }
}

/// A key that issues certificates or timestamps, with its certificate chain:
/// its own certificate first, the root last.
pub struct SigningCa {
    key: PrivateKey,
    chain: Vec<Certificate>,
}

impl std::fmt::Debug for SigningCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningCa({:?}, {:?})", self.key, self.chain)
    }
}

impl SigningCa {
    /// Pairs `key` with `chain` (its certificate first); the key must match
    /// the first certificate.
    pub fn new(key: PrivateKey, chain: Vec<Certificate>) -> Result<Self, IssueError> {
        let first = chain
            .first()
            .ok_or_else(|| IssueError::Authority("the certificate chain is empty".into()))?;
        if first.public_key_der() != key.public_key().to_spki_der() {
            return Err(IssueError::Authority(format!(
                "the private key does not belong to certificate {}",
                first.describe()
            )));
        }
        Ok(Self { key, chain })
    }

    /// The signing key.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// This CA's own certificate.
    pub fn certificate(&self) -> &Certificate {
        // `new` refuses an empty chain.
        &self.chain[0]
    }

    /// The chain: this CA's certificate first, the root last.
    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    /// The chain above the leaves this CA issues, as a trusted root lists it.
    pub fn root(&self) -> &Certificate {
        &self.chain[self.chain.len() - 1]
    }
}

/// Validity and naming of a CA certificate to create.
#[derive(Clone, Debug)]
pub struct CaOptions {
    /// Subject, RFC 4514 (`CN=sigstore-intermediate,O=example.com`).
    pub subject: String,
    /// Start of validity.
    pub not_before: SystemTime,
    /// End of validity.
    pub not_after: SystemTime,
}

/// Creates a self-signed root: CA:TRUE with path length 1, key usage
/// keyCertSign and cRLSign (critical), subject key identifier.
pub fn create_root(algorithm: KeyAlgorithm, options: &CaOptions) -> Result<SigningCa, IssueError> {
    let key = algorithm.generate()?;
    let subject = builder::name(&options.subject)?;
    let spki = key.public_key().to_spki_der();
    let ski = builder::key_identifier(&spki)?;
    let template = CertificateTemplate {
        serial: builder::random_serial()?,
        issuer: subject.clone(),
        subject,
        not_before: options.not_before,
        not_after: options.not_after,
        subject_public_key: spki,
        extensions: vec![
            builder::extension(oid::ext::KEY_USAGE, true, &ca_key_usage())?,
            builder::extension(
                oid::ext::BASIC_CONSTRAINTS,
                true,
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: Some(1),
                },
            )?,
            builder::extension(
                oid::ext::SUBJECT_KEY_IDENTIFIER,
                false,
                &SubjectKeyIdentifier(der::asn1::OctetString::new(ski)?),
            )?,
        ],
    };
    let cert = template.sign(&key)?;
    SigningCa::new(key, vec![cert])
}

/// Creates an intermediate CA under `parent`: CA:TRUE with path length 0,
/// keyCertSign and cRLSign, extended key usage `eku` (codeSigning for a Fulcio
/// intermediate, timeStamping for a TSA intermediate), SKI and AKI.
pub fn create_intermediate(
    parent: &SigningCa,
    algorithm: KeyAlgorithm,
    options: &CaOptions,
    eku: ObjectIdentifier,
) -> Result<SigningCa, IssueError> {
    let key = algorithm.generate()?;
    let extensions = vec![
        builder::extension(oid::ext::KEY_USAGE, true, &ca_key_usage())?,
        builder::extension(
            oid::ext::EXTENDED_KEY_USAGE,
            false,
            &ExtendedKeyUsage(vec![eku]),
        )?,
        builder::extension(
            oid::ext::BASIC_CONSTRAINTS,
            true,
            &BasicConstraints {
                ca: true,
                path_len_constraint: Some(0),
            },
        )?,
    ];
    issue_under(parent, key, options, extensions)
}

/// Creates a TSA signing certificate under `parent`: key usage
/// digitalSignature, extended key usage exactly timeStamping and critical (as
/// RFC 3161 and sigstore verifiers demand), SKI and AKI.
pub fn create_timestamping_leaf(
    parent: &SigningCa,
    algorithm: KeyAlgorithm,
    options: &CaOptions,
) -> Result<SigningCa, IssueError> {
    let key = algorithm.generate()?;
    let extensions = vec![
        builder::extension(
            oid::ext::KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::DigitalSignature.into()),
        )?,
        builder::extension(
            oid::ext::EXTENDED_KEY_USAGE,
            true,
            &ExtendedKeyUsage(vec![oid::eku::TIME_STAMPING]),
        )?,
    ];
    issue_under(parent, key, options, extensions)
}

/// Creates a Fulcio-style CA: a root and a codeSigning intermediate under it.
/// Leaves are issued by the returned intermediate.
pub fn create_fulcio_ca(
    algorithm: KeyAlgorithm,
    root: &CaOptions,
    intermediate: &CaOptions,
) -> Result<SigningCa, IssueError> {
    let root = create_root(algorithm, root)?;
    create_intermediate(&root, algorithm, intermediate, oid::eku::CODE_SIGNING)
}

/// Creates a TSA chain: root, timeStamping intermediate, and the TSA's
/// signing certificate. The returned key signs timestamps; its chain is
/// leaf, intermediate, root (the order a trusted root's TSA `certChain` uses).
pub fn create_tsa(
    algorithm: KeyAlgorithm,
    root: &CaOptions,
    intermediate: &CaOptions,
    leaf: &CaOptions,
) -> Result<SigningCa, IssueError> {
    let root = create_root(algorithm, root)?;
    let intermediate =
        create_intermediate(&root, algorithm, intermediate, oid::eku::TIME_STAMPING)?;
    create_timestamping_leaf(&intermediate, algorithm, leaf)
}

fn ca_key_usage() -> KeyUsage {
    KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)
}

/// Signs a certificate for `key` under `parent`, adding SKI and AKI.
fn issue_under(
    parent: &SigningCa,
    key: PrivateKey,
    options: &CaOptions,
    mut extensions: Vec<x509_cert::ext::Extension>,
) -> Result<SigningCa, IssueError> {
    let spki = key.public_key().to_spki_der();
    extensions.extend(key_id_extensions(&spki, parent.certificate())?);
    let template = CertificateTemplate {
        serial: builder::random_serial()?,
        issuer: parent
            .certificate()
            .x509()
            .tbs_certificate()
            .subject()
            .clone(),
        subject: builder::name(&options.subject)?,
        not_before: options.not_before,
        not_after: options.not_after,
        subject_public_key: spki,
        extensions,
    };
    let cert = template.sign(parent.key())?;
    let mut chain = vec![cert];
    chain.extend(parent.chain().iter().cloned());
    SigningCa::new(key, chain)
}

/// Subject key identifier of `subject_spki` and authority key identifier
/// equal to the issuer's SKI (or computed from its key when it has none).
pub(crate) fn key_id_extensions(
    subject_spki: &[u8],
    issuer: &Certificate,
) -> Result<[x509_cert::ext::Extension; 2], IssueError> {
    let ski = builder::key_identifier(subject_spki)?;
    let aki = match issuer.subject_key_id()? {
        Some(id) => id,
        None => builder::key_identifier(&issuer.public_key_der())?,
    };
    Ok([
        builder::extension(
            oid::ext::SUBJECT_KEY_IDENTIFIER,
            false,
            &SubjectKeyIdentifier(der::asn1::OctetString::new(ski)?),
        )?,
        builder::extension(
            oid::ext::AUTHORITY_KEY_IDENTIFIER,
            false,
            &AuthorityKeyIdentifier {
                key_identifier: Some(der::asn1::OctetString::new(aki)?),
                ..Default::default()
            },
        )?,
    ])
}

/// The public key of a DER `SubjectPublicKeyInfo`, for requests.
pub(crate) fn parse_public_key(spki_der: &[u8]) -> Result<PublicKey, IssueError> {
    PublicKey::from_spki_der(spki_der)
        .map_err(|e| IssueError::InvalidRequest(format!("subject public key: {e}")))
}
