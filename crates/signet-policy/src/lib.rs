//! The signet policy: one file, evaluated by one function, behind every
//! door (`signet verify --policy`, the registry gate, the admission webhook).
//!
//! - [`Policy`]: the YAML file, parsed strictly (unknown keys refused with
//!   their path and line), checked, with every key and trust root loaded
//!   once. [`Policy::scope_for`] picks the scope an image falls under: the
//!   most specific matching glob wins.
//! - [`Evaluator`]: built once from a [`Policy`] and a signature store;
//!   [`Evaluator::evaluate`] resolves an image to its digest once, reads the
//!   digest's signatures once, and returns a [`Decision`].
//! - [`Decision`]: the digest decided about, the scope and mode, which
//!   authority vouched with which signature, and for a refusal the
//!   [`FailedCheck`], with "the policy says no" kept apart from "could not
//!   decide" ([`FailedCheck::is_undecided`]).
//! - [`PolicyHash`] and [`TrustRootVersion`]: what a digest-keyed cache keys on.
//! - [`export`]: the policy as containers-image `policy.json` or a sigstore
//!   `ClusterImagePolicy`, refusing what would widen trust.
//! - [`dry_run`]: the policy across every tag and digest of a registry project.
//!
//! ```
//! # tokio_test_block(async {
//! use signet_policy::{Policy, FailedCheck};
//! let yaml = r#"
//! policies:
//!   - images: "registry.example/base/**"
//!     authorities: []
//! default: {mode: warn}
//! "#;
//! let policy = Policy::from_yaml("policy.yaml", yaml, std::path::Path::new(".")).await.unwrap();
//! let scope = policy.scope_for(&"registry.example/base/debian".parse().unwrap());
//! assert_eq!(scope.name, "policies[0]");
//! # });
//! # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod decision;
pub mod dry_run;
mod error;
mod evaluate;
pub mod export;
mod file;
pub mod glob;
mod hash;
mod policy;
mod vouch;

#[cfg(test)]
mod tests;

pub use decision::{
    AuthorityResult, ChildDecision, Decision, FailedCheck, Failure, Outcome, TlogEvidence,
};
pub use error::PolicyError;
pub use evaluate::Evaluator;
pub use file::{MAX_POLICY_FILE_BYTES, Mode, TlogRequirement};
pub use hash::{PolicyHash, TrustRootVersion};
pub use policy::{
    Authority, AuthorityKind, Claim, KeylessIdentity, MAX_AUTHORITIES_PER_SCOPE, MAX_SCOPES,
    PUBLIC_GOOD, Policy, Scope, StringMatch, TrustRoot,
};
