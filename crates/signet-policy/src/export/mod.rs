//! The policy for the enforcement points signet does not run: a
//! containers-image `policy.json` (podman, skopeo, CRI-O) and sigstore
//! policy-controller `ClusterImagePolicy` resources.
//!
//! Neither target says everything a signet policy says. Every difference
//! is reported as a [`Note`]:
//!
//! - [`NoteKind::Narrower`]: the target would refuse images the policy
//!   admits (a threshold of 2 of 3 becomes 3 of 3, a `warn` scope is
//!   enforced, an identity only a regular expression can express is
//!   dropped). Emitted only with [`ExportOptions::allow_narrower`].
//! - [`NoteKind::Wider`] never appears in an export: what would admit
//!   images the policy refuses is refused, with every reason, as
//!   [`ExportError::NotExpressible`]. A narrower approximation replaces it
//!   under `allow_narrower`, when one exists.
//! - [`NoteKind::Differs`]: a difference that neither widens nor is
//!   avoidable (policy.json always checks the signed repository).

use std::fmt;

use serde::Serialize;
use thiserror::Error;

use crate::file::{Mode, TlogRequirement};
use crate::policy::{AuthorityKind, Policy, Scope};

mod cluster_image_policy;
mod containers_policy;

/// The formats [`export`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// containers-image `policy.json`.
    ContainersPolicy,
    /// sigstore policy-controller `ClusterImagePolicy` (YAML, one document
    /// per resource).
    ClusterImagePolicy,
}

/// How to export.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportOptions {
    /// Emit narrower approximations of what the target cannot express,
    /// instead of refusing.
    pub allow_narrower: bool,
}

/// What kind of difference a note reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoteKind {
    /// The export refuses images the policy would admit.
    Narrower,
    /// The export would admit images the policy refuses (never emitted).
    Wider,
    /// A difference that neither widens trust nor can be avoided.
    Differs,
}

/// One difference between the policy and its export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// The scope it is about.
    pub scope: String,
    /// Narrower, wider or just different.
    pub kind: NoteKind,
    /// What differs, in one line.
    pub message: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            NoteKind::Narrower => "narrower",
            NoteKind::Wider => "not expressible",
            NoteKind::Differs => "differs",
        };
        write!(f, "{kind}: {}: {}", self.scope, self.message)
    }
}

/// An export: the document, and how it differs from the policy.
#[derive(Debug, Clone)]
pub struct Export {
    /// The document (JSON for policy.json, YAML for ClusterImagePolicy).
    pub document: String,
    /// Every difference.
    pub notes: Vec<Note>,
}

/// The policy cannot be exported without widening trust (or, without
/// [`ExportOptions::allow_narrower`], without narrowing it).
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum ExportError {
    /// Some of the policy cannot be expressed; each note says what.
    #[error("{} cannot express this policy exactly ({} difference{}); first: {}{}", target, notes.len(), if notes.len() == 1 { "" } else { "s" }, notes.first().map(|n| n.to_string()).unwrap_or_default(), hint(notes))]
    NotExpressible {
        /// The target format's name.
        target: &'static str,
        /// What cannot be expressed.
        notes: Vec<Note>,
    },
    /// Trust material the target needs is missing.
    #[error("{0}")]
    Material(String),
}

fn hint(notes: &[Note]) -> &'static str {
    if notes.iter().all(|n| n.kind == NoteKind::Narrower) {
        "; --allow-narrower emits a narrower approximation"
    } else {
        ""
    }
}

/// Exports `policy` as `format`.
pub fn export(
    policy: &Policy,
    format: Format,
    options: ExportOptions,
) -> Result<Export, ExportError> {
    let mut notes = Notes::default();
    let document = match format {
        Format::ContainersPolicy => containers_policy::write(policy, &mut notes)?,
        Format::ClusterImagePolicy => cluster_image_policy::write(policy, &mut notes)?,
    };
    let target = match format {
        Format::ContainersPolicy => "policy.json",
        Format::ClusterImagePolicy => "ClusterImagePolicy",
    };
    let blocking: Vec<Note> = notes
        .0
        .iter()
        .filter(|n| {
            n.kind == NoteKind::Wider || (n.kind == NoteKind::Narrower && !options.allow_narrower)
        })
        .cloned()
        .collect();
    if !blocking.is_empty() {
        return Err(ExportError::NotExpressible {
            target,
            notes: blocking,
        });
    }
    Ok(Export {
        document,
        notes: notes.0,
    })
}

/// Notes collected while writing.
#[derive(Debug, Default)]
pub(crate) struct Notes(Vec<Note>);

impl Notes {
    pub(crate) fn add(&mut self, scope: &Scope, kind: NoteKind, message: impl Into<String>) {
        let note = Note {
            scope: scope.name.clone(),
            kind,
            message: message.into(),
        };
        if !self.0.contains(&note) {
            self.0.push(note);
        }
    }
}

/// Whether two scopes require the same thing of an image (so that which
/// of them applies does not matter).
pub(crate) fn same_requirement(a: &Scope, b: &Scope) -> bool {
    std::ptr::eq(a, b)
        || (a.mode == b.mode
            && a.threshold == b.threshold
            && a.transparency_log == b.transparency_log
            && a.annotations == b.annotations
            && a.match_repository == b.match_repository
            && a.require_recursive == b.require_recursive
            && a.authorities.len() == b.authorities.len()
            && a.authorities.iter().zip(&b.authorities).all(|(x, y)| {
                x.trust_root == y.trust_root
                    && match (&x.kind, &y.kind) {
                        (
                            AuthorityKind::Key { key: k1, .. },
                            AuthorityKind::Key { key: k2, .. },
                        ) => k1.to_spki_der() == k2.to_spki_der(),
                        (AuthorityKind::Keyless(i1), AuthorityKind::Keyless(i2)) => {
                            i1.issuer.as_str() == i2.issuer.as_str()
                                && i1.issuer.is_regexp() == i2.issuer.is_regexp()
                                && i1.subject.as_str() == i2.subject.as_str()
                                && i1.subject.is_regexp() == i2.subject.is_regexp()
                                && i1.claims == i2.claims
                        }
                        _ => false,
                    }
            }))
}

/// Whether a scope refuses every image (enforced, no authorities).
pub(crate) fn rejects_all(s: &Scope) -> bool {
    s.mode == Mode::Enforce && s.authorities.is_empty()
}

pub(crate) fn tlog_required(s: &Scope) -> bool {
    s.transparency_log == TlogRequirement::Required
}
