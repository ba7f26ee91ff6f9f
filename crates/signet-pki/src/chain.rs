//! Certificate chain validation at a given time.
//!
//! A chain runs from a leaf through a trusted certificate authority's
//! intermediates to its root (the last certificate of the authority's chain,
//! the trust anchor). Every certificate, the anchor included, must be valid at
//! the time given by the caller: the Rekor integrated time or a TSA time, never
//! the clock. The checks are those Go's `x509.Verify` makes for sigstore-go,
//! with errors that name the certificate and the check:
//!
//! - validity of each certificate at the time, and the authority's trust window;
//! - each signature under the issuer's key (ECDSA P-256/P-384, RSA PKCS#1 v1.5,
//!   Ed25519), over the TBS bytes as received;
//! - issuers are CAs (basic constraints CA:TRUE, keyCertSign when key usage is
//!   present) within their path length constraint;
//! - the leaf's extended key usage (codeSigning; or exactly timeStamping,
//!   critical, for TSAs), and EKU chaining for CAs: a CA that lists extended
//!   key usages must list the requested one or anyExtendedKeyUsage;
//! - no critical extension signet does not process. Fulcio's critical SAN is
//!   processed, including the OtherName form Go alone would reject;
//! - at most [`MAX_CHAIN_CERTIFICATES`] certificates and
//!   [`MAX_SIGNATURE_CHECKS`] signature checks per search.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::SystemTime;

use der::asn1::ObjectIdentifier;

use crate::algorithm::{self, SignatureScheme, VerifyFailure};
use crate::certificate::Certificate;
use crate::error::ChainError;
use crate::limits::{MAX_CHAIN_CERTIFICATES, MAX_SIGNATURE_CHECKS};
use crate::oid;
use crate::time::{TimeRange, rfc3339};

/// What the leaf certificate's key is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyPurpose {
    /// Signing artifacts (Fulcio leaves): EKU codeSigning.
    CodeSigning,
    /// Signing timestamps (TSA leaves): EKU exactly timeStamping, critical.
    TimeStamping,
}

impl KeyPurpose {
    fn eku(self) -> ObjectIdentifier {
        match self {
            Self::CodeSigning => oid::eku::CODE_SIGNING,
            Self::TimeStamping => oid::eku::TIME_STAMPING,
        }
    }
}

/// A trusted certificate authority: its certificates from the issuing CA up
/// to the root (the last one, the trust anchor), as a trusted root's
/// `certChain` lists them, and the window the authority is trusted for.
#[derive(Clone, Debug)]
pub struct CertificateAuthority {
    certificates: Vec<Certificate>,
    valid_for: TimeRange,
    /// Signature checks between this authority's own certificates, made
    /// once, when a chain first needs them: (child index, parent index) →
    /// verified. A verifier that never builds a chain through this
    /// authority (key-based verification with the default trusted root)
    /// never pays for them.
    links: HashMap<(usize, usize), OnceLock<bool>>,
}

impl CertificateAuthority {
    /// An authority from its chain (issuing CA first, root last) and trust window.
    pub fn new(certificates: Vec<Certificate>, valid_for: TimeRange) -> Result<Self, ChainError> {
        if certificates.is_empty() {
            return Err(ChainError::InvalidAuthority("the chain is empty".into()));
        }
        if certificates.len() > MAX_CHAIN_CERTIFICATES {
            return Err(ChainError::InvalidAuthority(format!(
                "the chain has {} certificates, more than {MAX_CHAIN_CERTIFICATES}",
                certificates.len()
            )));
        }
        let mut links = HashMap::new();
        for (c, child) in certificates.iter().enumerate() {
            for (p, parent) in certificates.iter().enumerate() {
                if c != p && parent.is_issuer_name_of(child) {
                    links.insert((c, p), OnceLock::new());
                }
            }
        }
        Ok(Self {
            certificates,
            valid_for,
            links,
        })
    }

    /// The certificates, issuing CA first and root last.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    /// The trust anchor (the last certificate).
    pub fn root(&self) -> &Certificate {
        // `new` refuses an empty chain.
        &self.certificates[self.certificates.len() - 1]
    }

    /// The window this authority is trusted for.
    pub fn valid_for(&self) -> TimeRange {
        self.valid_for
    }

    /// Whether certificate `child` of this authority is signed by its
    /// certificate `parent` (checked on first use, then remembered).
    fn link(&self, child: usize, parent: usize) -> bool {
        match (
            self.links.get(&(child, parent)),
            self.certificates.get(child),
            self.certificates.get(parent),
        ) {
            (Some(cell), Some(c), Some(p)) => *cell.get_or_init(|| check_signature(c, p).is_ok()),
            _ => false,
        }
    }
}

/// A chain that validated.
#[derive(Clone, Debug)]
pub struct VerifiedChain {
    /// Leaf first, trust anchor last.
    pub certificates: Vec<Certificate>,
    /// Index of the authority (in the slice given) that the chain leads to.
    pub authority: usize,
}

impl VerifiedChain {
    /// The certificate that issued the leaf.
    pub fn issuer(&self) -> Option<&Certificate> {
        self.certificates.get(1)
    }
}

/// Validates `leaf` against `authorities` at time `at` for `purpose`.
pub fn verify_chain(
    leaf: &Certificate,
    authorities: &[CertificateAuthority],
    at: SystemTime,
    purpose: KeyPurpose,
) -> Result<VerifiedChain, ChainError> {
    if authorities.is_empty() {
        return Err(ChainError::NoAuthorities);
    }
    check_validity(leaf, at)?;
    check_critical_extensions(leaf)?;
    check_leaf_usage(leaf, purpose)?;

    let mut best: Option<ChainError> = None;
    for (index, authority) in authorities.iter().enumerate() {
        let mut search = Search {
            authority,
            at,
            purpose,
            budget: MAX_SIGNATURE_CHECKS,
        };
        let mut path = vec![Node::Leaf];
        match search.extend(leaf, &mut path) {
            Ok(()) => {
                if !authority.valid_for.contains(at) {
                    best = Some(ChainError::AuthorityNotValidAt {
                        authority: authority.root().describe(),
                        window: authority.valid_for.to_string(),
                        at: rfc3339(at),
                    });
                    continue;
                }
                let certificates = path
                    .iter()
                    .map(|n| match n {
                        Node::Leaf => leaf.clone(),
                        Node::Authority(i) => authority.certificates[*i].clone(),
                    })
                    .collect();
                return Ok(VerifiedChain {
                    certificates,
                    authority: index,
                });
            }
            Err(e) => {
                // An error from an authority that names the leaf's issuer says
                // more than "unknown issuer" from the others.
                let specific = !matches!(e, ChainError::UnknownIssuer { .. });
                if best.is_none()
                    || (specific && matches!(best, Some(ChainError::UnknownIssuer { .. })))
                {
                    best = Some(e);
                }
            }
        }
    }
    Err(best.unwrap_or(ChainError::NoAuthorities))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Node {
    Leaf,
    Authority(usize),
}

struct Search<'a> {
    authority: &'a CertificateAuthority,
    at: SystemTime,
    purpose: KeyPurpose,
    budget: usize,
}

impl Search<'_> {
    /// Extends `path` (ending at `child`) up to the authority's anchor.
    fn extend(&mut self, child: &Certificate, path: &mut Vec<Node>) -> Result<(), ChainError> {
        if path.len() >= MAX_CHAIN_CERTIFICATES {
            return Err(ChainError::TooLong {
                certificate: child.describe(),
                limit: MAX_CHAIN_CERTIFICATES,
            });
        }
        let child_node = path.last().copied().unwrap_or(Node::Leaf);
        let anchor = self.authority.certificates.len() - 1;
        let mut last_error = None;
        for (index, parent) in self.authority.certificates.iter().enumerate() {
            if !parent.is_issuer_name_of(child) || path.contains(&Node::Authority(index)) {
                continue;
            }
            let signed = match child_node {
                Node::Authority(c) => {
                    if self.authority.link(c, index) {
                        Ok(())
                    } else {
                        Err(ChainError::BadSignature {
                            certificate: child.describe(),
                            issuer: parent.describe(),
                        })
                    }
                }
                Node::Leaf => {
                    if self.budget == 0 {
                        return Err(ChainError::TooLong {
                            certificate: child.describe(),
                            limit: MAX_CHAIN_CERTIFICATES,
                        });
                    }
                    self.budget -= 1;
                    check_signature(child, parent)
                }
            };
            let result = signed
                .and_then(|()| self.check_issuer(parent, path.len() - 1))
                .and_then(|()| {
                    path.push(Node::Authority(index));
                    if index == anchor {
                        return Ok(());
                    }
                    let r = self.extend(parent, path);
                    if r.is_err() {
                        path.pop();
                    }
                    r
                });
            match result {
                Ok(()) => return Ok(()),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| ChainError::UnknownIssuer {
            certificate: child.describe(),
            issuer: child.issuer(),
        }))
    }

    /// Checks `ca` in the issuer position with `below` CAs between it and the leaf.
    fn check_issuer(&self, ca: &Certificate, below: usize) -> Result<(), ChainError> {
        check_validity(ca, self.at)?;
        check_critical_extensions(ca)?;
        let malformed = |e: crate::error::DecodeError| ChainError::MalformedExtension {
            certificate: ca.describe(),
            detail: e.to_string(),
        };
        match ca.basic_constraints().map_err(malformed)? {
            Some((_, bc)) if bc.ca => {
                if let Some(allowed) = bc.path_len_constraint
                    && below > usize::from(allowed)
                {
                    return Err(ChainError::PathLength {
                        certificate: ca.describe(),
                        allowed,
                        actual: below,
                    });
                }
            }
            _ => {
                return Err(ChainError::NotCa {
                    certificate: ca.describe(),
                });
            }
        }
        if let Some((_, ku)) = ca.key_usage().map_err(malformed)?
            && !ku.key_cert_sign()
        {
            return Err(ChainError::NoCertSign {
                certificate: ca.describe(),
            });
        }
        if let Some((_, eku)) = ca.extended_key_usage().map_err(malformed)? {
            let wanted = self.purpose.eku();
            if !eku.0.iter().any(|u| u == &wanted || u == &oid::eku::ANY) {
                return Err(ChainError::ExtendedKeyUsage {
                    certificate: ca.describe(),
                    required: eku_name(&wanted),
                    actual: eku_list(&eku.0),
                });
            }
        }
        Ok(())
    }
}

/// Checks that `parent`'s key verifies `child`'s signature.
fn check_signature(child: &Certificate, parent: &Certificate) -> Result<(), ChainError> {
    let unsupported = |detail: String| ChainError::UnsupportedAlgorithm {
        certificate: child.describe(),
        detail,
    };
    let outer = child.x509().signature_algorithm();
    if outer != child.x509().tbs_certificate().signature() {
        return Err(unsupported(
            "the signature algorithm inside the certificate differs from the outer one".into(),
        ));
    }
    let scheme = SignatureScheme::from_x509(outer).map_err(unsupported)?;
    let key = parent
        .public_key()
        .map_err(|e| ChainError::UnsupportedAlgorithm {
            certificate: parent.describe(),
            detail: e.to_string(),
        })?;
    match algorithm::verify(&key, scheme, child.tbs_der(), child.signature()) {
        Ok(()) => Ok(()),
        Err(VerifyFailure::KeyMismatch(detail)) => Err(unsupported(detail)),
        Err(VerifyFailure::Invalid) => Err(ChainError::BadSignature {
            certificate: child.describe(),
            issuer: parent.describe(),
        }),
    }
}

/// Checks that `cert` is valid at `at` (both ends inclusive, as Go checks).
pub fn check_validity(cert: &Certificate, at: SystemTime) -> Result<(), ChainError> {
    if at < cert.not_before() {
        return Err(ChainError::NotYetValid {
            certificate: cert.describe(),
            not_before: rfc3339(cert.not_before()),
            at: rfc3339(at),
        });
    }
    if at > cert.not_after() {
        return Err(ChainError::Expired {
            certificate: cert.describe(),
            not_after: rfc3339(cert.not_after()),
            at: rfc3339(at),
        });
    }
    Ok(())
}

/// Extensions whose content the checks here (or the identity checks on the
/// parsed Fulcio profile) process, so they may be critical.
const PROCESSED: [ObjectIdentifier; 6] = [
    oid::ext::KEY_USAGE,
    oid::ext::BASIC_CONSTRAINTS,
    oid::ext::SUBJECT_ALT_NAME,
    oid::ext::EXTENDED_KEY_USAGE,
    oid::ext::SUBJECT_KEY_IDENTIFIER,
    oid::ext::AUTHORITY_KEY_IDENTIFIER,
];

fn check_critical_extensions(cert: &Certificate) -> Result<(), ChainError> {
    match cert
        .extensions()
        .iter()
        .find(|e| e.critical && !PROCESSED.contains(&e.extn_id))
    {
        Some(ext) => Err(ChainError::UnhandledCriticalExtension {
            certificate: cert.describe(),
            oid: ext.extn_id.to_string(),
        }),
        None => Ok(()),
    }
}

fn check_leaf_usage(leaf: &Certificate, purpose: KeyPurpose) -> Result<(), ChainError> {
    let malformed = |e: crate::error::DecodeError| ChainError::MalformedExtension {
        certificate: leaf.describe(),
        detail: e.to_string(),
    };
    let wanted = purpose.eku();
    let eku = leaf.extended_key_usage().map_err(malformed)?;
    let ok = match (&eku, purpose) {
        (Some((_, eku)), KeyPurpose::CodeSigning) => eku.0.contains(&wanted),
        (Some((critical, eku)), KeyPurpose::TimeStamping) => {
            *critical && eku.0.as_slice() == [wanted]
        }
        (None, _) => false,
    };
    if !ok {
        let required = match purpose {
            KeyPurpose::CodeSigning => eku_name(&wanted),
            KeyPurpose::TimeStamping => "exactly timeStamping, marked critical".to_string(),
        };
        let actual = match &eku {
            None => "(none)".to_string(),
            Some((critical, eku)) => format!(
                "{}{}",
                eku_list(&eku.0),
                if *critical { " (critical)" } else { "" }
            ),
        };
        return Err(ChainError::ExtendedKeyUsage {
            certificate: leaf.describe(),
            required,
            actual,
        });
    }
    if let Some((_, ku)) = leaf.key_usage().map_err(malformed)?
        && !ku.digital_signature()
    {
        return Err(ChainError::KeyUsage {
            certificate: leaf.describe(),
        });
    }
    Ok(())
}

/// A readable name for an extended key usage.
fn eku_name(oid: &ObjectIdentifier) -> String {
    let name = match oid.to_string().as_str() {
        "1.3.6.1.5.5.7.3.1" => "serverAuth",
        "1.3.6.1.5.5.7.3.2" => "clientAuth",
        "1.3.6.1.5.5.7.3.3" => "codeSigning",
        "1.3.6.1.5.5.7.3.4" => "emailProtection",
        "1.3.6.1.5.5.7.3.8" => "timeStamping",
        "1.3.6.1.5.5.7.3.9" => "OCSPSigning",
        "2.5.29.37.0" => "anyExtendedKeyUsage",
        other => return other.to_string(),
    };
    name.to_string()
}

fn eku_list(ekus: &[ObjectIdentifier]) -> String {
    if ekus.is_empty() {
        return "(empty)".into();
    }
    ekus.iter().map(eku_name).collect::<Vec<_>>().join(",")
}
