//! Hashes that caches key on: [`PolicyHash`] over the parsed policy and its
//! key material, [`TrustRootVersion`] over the trust roots it uses.
//!
//! A verified digest stays verified for as long as both stay the same: the
//! digest is immutable, and these two say everything else a decision
//! depends on (the registry's answers aside).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::file::{Mode, TlogRequirement};
use crate::policy::{AuthorityKind, Claim, Scope, StringMatch, TrustRoot};

/// SHA-256 of the canonical form of a parsed policy, keys included (their
/// SPKI bytes, not their references: a key rotated in Vault changes the hash).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PolicyHash([u8; 32]);

/// SHA-256 over the trust roots a policy uses (name and canonical JSON).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrustRootVersion([u8; 32]);

macro_rules! hex_display {
    ($t:ty) => {
        impl $t {
            /// The raw hash.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "sha256:{}", hex::encode(self.0))
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($t))
            }
        }
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}

hex_display!(PolicyHash);
hex_display!(TrustRootVersion);

#[derive(Serialize)]
struct CanonicalPolicy<'a> {
    format: &'static str,
    scopes: Vec<CanonicalScope<'a>>,
    default: CanonicalScope<'a>,
}

#[derive(Serialize)]
struct CanonicalScope<'a> {
    name: &'a str,
    images: Vec<String>,
    mode: Mode,
    threshold: usize,
    transparency_log: TlogRequirement,
    require_recursive: bool,
    match_repository: bool,
    annotations: &'a BTreeMap<String, String>,
    authorities: Vec<CanonicalAuthority<'a>>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
enum CanonicalAuthority<'a> {
    Key {
        name: &'a str,
        trust_root: &'a str,
        spki: String,
    },
    Keyless {
        name: &'a str,
        trust_root: &'a str,
        issuer: (&'static str, &'a str),
        subject: (&'static str, &'a str),
        claims: &'a BTreeMap<Claim, String>,
    },
}

fn matcher(m: &StringMatch) -> (&'static str, &str) {
    match m {
        StringMatch::Exact(s) => ("exact", s),
        StringMatch::Regexp(r) => ("regexp", r.as_str()),
    }
}

fn canonical_scope(scope: &Scope) -> CanonicalScope<'_> {
    CanonicalScope {
        name: &scope.name,
        images: scope.images.iter().map(|g| g.normalised()).collect(),
        mode: scope.mode,
        threshold: scope.threshold,
        transparency_log: scope.transparency_log,
        require_recursive: scope.require_recursive,
        match_repository: scope.match_repository,
        annotations: &scope.annotations,
        authorities: scope
            .authorities
            .iter()
            .map(|a| match &a.kind {
                AuthorityKind::Key { key, .. } => CanonicalAuthority::Key {
                    name: &a.name,
                    trust_root: &a.trust_root,
                    spki: hex::encode(key.to_spki_der()),
                },
                AuthorityKind::Keyless(id) => CanonicalAuthority::Keyless {
                    name: &a.name,
                    trust_root: &a.trust_root,
                    issuer: matcher(&id.issuer),
                    subject: matcher(&id.subject),
                    claims: &id.claims,
                },
            })
            .collect(),
    }
}

pub(crate) fn policy_hash(scopes: &[Scope], default: &Scope) -> PolicyHash {
    let canonical = CanonicalPolicy {
        format: "signet-policy/v1",
        scopes: scopes.iter().map(canonical_scope).collect(),
        default: canonical_scope(default),
    };
    // Serializing plain structs, strings and ordered maps cannot fail.
    let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
    PolicyHash(Sha256::digest(&bytes).into())
}

pub(crate) fn trust_root_version(roots: &BTreeMap<String, TrustRoot>) -> TrustRootVersion {
    let mut h = Sha256::new();
    for (name, root) in roots {
        let json = root.root.to_json();
        for part in [name.as_bytes(), json.as_bytes()] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
    }
    TrustRootVersion(h.finalize().into())
}
