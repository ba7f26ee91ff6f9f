//! The record of one policy decision: what was decided about which digest,
//! under which scope, which authority vouched with which signature, and,
//! when the image is refused or warned about, the check that failed.

use std::fmt;

use serde::Serialize;
use signet_core::Digest;

use crate::file::Mode;
use crate::hash::{PolicyHash, TrustRootVersion};

/// What an enforcement point is to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The image satisfies its scope.
    Allowed,
    /// The image does not satisfy its scope, which is in `warn` mode: let it
    /// through and report [`Decision::failure`].
    Warned,
    /// Refuse the image. [`Decision::failure`] says why, and whether the
    /// policy said no or the evaluation could not decide
    /// ([`FailedCheck::is_undecided`]).
    Denied,
}

/// The check that failed, as enforcement points report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FailedCheck {
    /// No signature at all for the digest.
    Unsigned,
    /// Signatures exist, but none verifies under the authorities' keys
    /// (signed with another key, or altered after signing: a legacy
    /// signature without a certificate or log entry cannot tell which).
    WrongKey,
    /// A certificate that chains to the trust root, for another identity
    /// (subject, issuer or CI claim).
    WrongIdentity,
    /// A certificate that does not chain to a trusted CA, or lacks valid
    /// certificate-transparency evidence.
    UntrustedCertificate,
    /// The signature is for something else: the signed payload names another
    /// digest or repository, does not parse, or does not match the bytes
    /// the signature covers.
    Tampered,
    /// A signature that verifies but lacks the annotations the scope requires.
    AnnotationMismatch,
    /// A signature that verifies, without the transparency-log evidence the
    /// scope requires (or with evidence that does not verify).
    MissingTransparencyLog,
    /// Some authorities vouched, fewer than the threshold.
    ThresholdNotMet,
    /// The scope lists no authorities (as `default:` does unless told
    /// otherwise): it refuses every image.
    NoAuthorities,
    /// `require-recursive`: an image the index lists does not satisfy the
    /// scope.
    ChildNotSatisfied,
    /// The image (tag or digest) does not exist. Not a policy decision.
    ImageNotFound,
    /// The registry failed or the evidence could not be read. Not a policy
    /// decision: the enforcement point chooses to fail open or closed.
    RegistryError,
}

impl FailedCheck {
    /// Whether this is "could not decide" rather than "the policy says no".
    pub fn is_undecided(self) -> bool {
        matches!(self, Self::ImageNotFound | Self::RegistryError)
    }

    /// A short name (`wrong-key`), as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Self::Unsigned => "unsigned",
            Self::WrongKey => "wrong-key",
            Self::WrongIdentity => "wrong-identity",
            Self::UntrustedCertificate => "untrusted-certificate",
            Self::Tampered => "tampered",
            Self::AnnotationMismatch => "annotation-mismatch",
            Self::MissingTransparencyLog => "missing-transparency-log",
            Self::ThresholdNotMet => "threshold-not-met",
            Self::NoAuthorities => "no-authorities",
            Self::ChildNotSatisfied => "child-not-satisfied",
            Self::ImageNotFound => "image-not-found",
            Self::RegistryError => "registry-error",
        }
    }

    /// How close a signature came to being accepted, to report the most
    /// telling of several failures: a signature that verified but lacked a
    /// log entry says more than one that did not verify at all.
    pub(crate) fn closeness(self) -> u8 {
        match self {
            Self::MissingTransparencyLog => 9,
            Self::AnnotationMismatch => 8,
            Self::WrongIdentity => 7,
            Self::UntrustedCertificate => 6,
            Self::Tampered => 5,
            Self::WrongKey => 4,
            _ => 0,
        }
    }
}

impl fmt::Display for FailedCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an image is refused (or warned about).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The check that failed.
    pub check: FailedCheck,
    /// Whether the evaluation could not decide (registry trouble, image not
    /// found) rather than the policy saying no.
    pub undecided: bool,
    /// One line naming the check, with expected and actual values.
    pub message: String,
}

impl Failure {
    pub(crate) fn new(check: FailedCheck, message: impl Into<String>) -> Self {
        Self {
            check,
            undecided: check.is_undecided(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.check, self.message)
    }
}

/// Whether transparency-log evidence backed an accepted signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlogEvidence {
    /// Verified log evidence (SET or inclusion proof).
    Verified,
    /// None, and the scope made it optional.
    Absent,
}

/// One authority's part in a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthorityResult {
    /// The authority's name.
    pub authority: String,
    /// The signature it vouched with (`repo:sha256-….sig layer 1`), if it
    /// counted towards the threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Log evidence of that signature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transparency_log: Option<TlogEvidence>,
    /// Why it did not vouch, when it did not: the failure closest to success
    /// among the image's signatures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// The decision about one image index child (`require-recursive`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChildDecision {
    /// The child's digest.
    pub digest: Digest,
    /// Whether it satisfied the scope.
    pub satisfied: bool,
    /// The authorities' results for it.
    pub authorities: Vec<AuthorityResult>,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// Everything decided about one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The image as asked about.
    pub image: String,
    /// The digest that was verified (what to serve or run), when it was
    /// resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    /// The scope that decided (`policies[N]`, its name, or `default`).
    pub scope: String,
    /// The scope's mode.
    pub mode: Mode,
    /// What to do.
    pub outcome: Outcome,
    /// How many distinct authorities had to vouch.
    pub threshold: usize,
    /// Each authority: which signature it vouched with, or why not.
    pub authorities: Vec<AuthorityResult>,
    /// For `require-recursive` on an index: each child's decision.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<ChildDecision>,
    /// Why the image was refused or warned about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// The policy's hash.
    pub policy_hash: PolicyHash,
    /// The trust roots' version.
    pub trust_root_version: TrustRootVersion,
}

impl Decision {
    /// Whether the image may be served or run (allowed, or warned).
    pub fn admits(&self) -> bool {
        matches!(self.outcome, Outcome::Allowed | Outcome::Warned)
    }

    /// Whether the evaluation could not decide (see [`FailedCheck::is_undecided`]).
    pub fn undecided(&self) -> bool {
        self.failure.as_ref().is_some_and(|f| f.undecided)
    }

    /// Authorities that vouched, with their signatures.
    pub fn satisfied(&self) -> impl Iterator<Item = (&str, &str)> {
        self.authorities
            .iter()
            .filter_map(|a| Some((a.authority.as_str(), a.signature.as_deref()?)))
    }
}
