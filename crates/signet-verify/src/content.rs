//! What a bundle signs and what it is checked against: the facts a log
//! entry must agree with ([`SignedFacts`]), the artifact the caller holds
//! ([`SignedContent`]), the signature check itself, and the in-toto subject
//! check for DSSE envelopes.

use signet_core::bundle::{Bundle, BundleContent};
use signet_core::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use signet_core::hash::HashOutput;
use signet_core::intoto::Statement;
use signet_core::keys::PublicKey;
use signet_core::{Artifact, Digest};

use crate::error::{Blame, Check, CheckError};
use crate::result::StatementSummary;

/// What the caller says was signed. The artifact is a required argument of
/// every verification: a signature is never accepted in the abstract.
#[derive(Debug, Clone, Copy)]
pub enum SignedContent<'a> {
    /// The artifact (a blob, or a legacy image signature's payload): a
    /// message signature must verify over it; a DSSE statement must name
    /// its SHA-256 as a subject.
    Artifact(&'a Artifact),
    /// Only the artifact's SHA-256 (an image manifest digest for a DSSE
    /// bundle, `verify-blob-attestation --digest`): a message signature must
    /// verify over the digest; a DSSE statement must name it as a subject.
    Digest(&'a Digest),
    /// The artifact's digest in another algorithm (npm provenance names
    /// tarballs by SHA-512): a DSSE statement must name it as a subject; a
    /// message signature must claim exactly it.
    Hash(&'a HashOutput),
}

impl SignedContent<'_> {
    /// The artifact's digest.
    pub fn hash(&self) -> HashOutput {
        match self {
            Self::Artifact(a) => HashOutput::from_sha256(a.digest()),
            Self::Digest(d) => HashOutput::from_sha256(d),
            Self::Hash(h) => (*h).clone(),
        }
    }
}

/// `sha256:<hex>` (or the algorithm's own name).
fn show(hash: &HashOutput) -> String {
    format!(
        "{}:{}",
        hash.algorithm().rekor_name().unwrap_or("unknown"),
        hex::encode(hash.digest())
    )
}

/// What a bundle's signature covers, as a log entry must record it.
#[derive(Debug)]
pub(crate) enum Signed<'a> {
    /// A message signature over an artifact with this digest (as the bundle
    /// claims it; the artifact itself is hashed by the caller).
    Message { digest: &'a HashOutput },
    /// A DSSE envelope with exactly one signature.
    Dsse {
        envelope: &'a Envelope,
        /// SHA-256 of the payload (what dsse and intoto entries record).
        payload_sha256: HashOutput,
        /// SHA-256 of the PAE (what a Rekor v2 hashedrekord entry records
        /// for an envelope).
        pae_sha256: HashOutput,
    },
}

/// The signature bytes and what they cover.
#[derive(Debug)]
pub(crate) struct SignedFacts<'a> {
    pub(crate) signature: &'a [u8],
    pub(crate) signed: Signed<'a>,
}

impl<'a> SignedFacts<'a> {
    pub(crate) fn of(bundle: &'a Bundle) -> Result<Self, CheckError> {
        match &bundle.content {
            BundleContent::MessageSignature(ms) => Ok(Self {
                signature: &ms.signature,
                signed: Signed::Message {
                    digest: &ms.message_digest,
                },
            }),
            BundleContent::DsseEnvelope(envelope) => {
                let [only] = envelope.signatures.as_slice() else {
                    return Err(CheckError::malformed(
                        Check::Signature,
                        format!(
                            "the DSSE envelope has {} signatures, exactly one expected",
                            envelope.signatures.len()
                        ),
                    ));
                };
                Ok(Self {
                    signature: &only.sig,
                    signed: Signed::Dsse {
                        envelope,
                        payload_sha256: HashOutput::from_sha256(&Digest::sha256_of(
                            &envelope.payload,
                        )),
                        pae_sha256: HashOutput::from_sha256(&Digest::sha256_of(&envelope.pae())),
                    },
                })
            }
        }
    }

    /// Checks, before any signature, that a message signature claims the
    /// artifact's digest (the claim is only a hint, but a mismatch means the
    /// bundle is for another artifact and says so better than a failed
    /// signature).
    pub(crate) fn check_digest_claim(&self, content: SignedContent<'_>) -> Result<(), CheckError> {
        let Signed::Message { digest } = &self.signed else {
            return Ok(());
        };
        let actual = content.hash();
        if digest.algorithm() != actual.algorithm() {
            return Err(CheckError::malformed(
                Check::ArtifactDigest,
                format!(
                    "the bundle's message digest is {}, the artifact's is {}",
                    digest.algorithm(),
                    actual.algorithm()
                ),
            ));
        }
        if **digest != actual {
            return Err(CheckError::new(
                Check::ArtifactDigest,
                Blame::Policy,
                format!(
                    "the signature covers {}, but the artifact is {}",
                    show(digest),
                    show(&actual)
                ),
            ));
        }
        Ok(())
    }

    /// Checks the signature under `key`: over the artifact (or its digest)
    /// for a message signature, over the PAE for a DSSE envelope.
    pub(crate) fn verify_signature(
        &self,
        key: &PublicKey,
        content: SignedContent<'_>,
    ) -> Result<(), CheckError> {
        match (&self.signed, content) {
            (Signed::Message { .. }, SignedContent::Artifact(a)) => key
                .verify_artifact(a, self.signature)
                .map_err(|e| CheckError::untrusted(Check::Signature, e)),
            (Signed::Message { .. }, SignedContent::Digest(d)) => key
                .verify_digest(d, self.signature)
                .map_err(|e| CheckError::untrusted(Check::Signature, e)),
            (Signed::Message { .. }, SignedContent::Hash(h)) => match h.as_sha256() {
                Some(d) => key
                    .verify_digest(&d, self.signature)
                    .map_err(|e| CheckError::untrusted(Check::Signature, e)),
                None => Err(CheckError::malformed(
                    Check::Signature,
                    format!(
                        "signet verifies message signatures over SHA2_256 digests, not {}",
                        h.algorithm()
                    ),
                )),
            },
            (Signed::Dsse { envelope, .. }, _) => {
                key.verify(&envelope.pae(), self.signature).map_err(|e| {
                    CheckError::untrusted(Check::Signature, format!("DSSE envelope: {e}"))
                })
            }
        }
    }

    /// After the signature verified: a DSSE statement must be about the
    /// artifact. Returns the statement's summary for DSSE bundles.
    pub(crate) fn check_statement(
        &self,
        content: SignedContent<'_>,
    ) -> Result<Option<StatementSummary>, CheckError> {
        match &self.signed {
            Signed::Message { .. } => Ok(None),
            Signed::Dsse { envelope, .. } => statement_about(envelope, &content.hash()).map(Some),
        }
    }
}

/// Checks that an envelope's in-toto statement names `digest` as a subject.
fn statement_about(
    envelope: &Envelope,
    digest: &HashOutput,
) -> Result<StatementSummary, CheckError> {
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(CheckError::policy(
            Check::ArtifactDigest,
            format!(
                "the DSSE payload type is {:?}, not {IN_TOTO_PAYLOAD_TYPE:?}; signet cannot tie it to the artifact",
                envelope.payload_type
            ),
        ));
    }
    let statement = Statement::parse(&envelope.payload)
        .map_err(|e| CheckError::malformed(Check::ArtifactDigest, e))?;
    let name = digest.algorithm().rekor_name().unwrap_or("sha256");
    let hex = hex::encode(digest.digest());
    let named = statement.subjects.iter().any(|s| {
        s.digest
            .get(name)
            .is_some_and(|d| d.eq_ignore_ascii_case(&hex))
    });
    if !named {
        let subjects: Vec<String> = statement
            .subjects
            .iter()
            .take(3)
            .map(|s| match s.digest.get(name) {
                Some(d) => format!("{name}:{d}"),
                None => format!("{:?} (no {name} digest)", s.name),
            })
            .collect();
        return Err(CheckError::new(
            Check::ArtifactDigest,
            Blame::Policy,
            format!(
                "the in-toto statement is not about {}: its subjects are {}{}",
                show(digest),
                if subjects.is_empty() {
                    "(none)".to_owned()
                } else {
                    subjects.join(", ")
                },
                if statement.subjects.len() > 3 {
                    format!(" and {} more", statement.subjects.len() - 3)
                } else {
                    String::new()
                }
            ),
        ));
    }
    Ok(StatementSummary {
        payload_type: envelope.payload_type.clone(),
        predicate_type: statement.predicate_type,
    })
}
