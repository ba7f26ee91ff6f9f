//! signet's enforcement points: [`gate`], a verifying registry proxy, and
//! [`admission`], a Kubernetes admission webhook. Both decide with the one
//! policy function (`signet_policy::Evaluator`) through one [`Decider`],
//! which puts a digest-keyed, singleflight [`cache`] in front of it.
//!
//! ```text
//!   docker/podman/skopeo/cosign ──► gate ──┐                ┌──► upstream registry
//!                                          ├──► Decider ────┤   (manifests, signatures)
//!   kube-apiserver ──► admission ──────────┘   (cache,      │
//!                                               singleflight)──► Evaluator (signet-policy)
//! ```
//!
//! Neither door holds policy logic: each turns a request into
//! (repository, digest) questions, asks the [`Decider`], and words the
//! [`Decision`](signet_policy::Decision) the way its clients expect (a
//! Harbor-style 412 for registry clients, an `AdmissionReview` response for
//! the API server).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod admission;
pub mod cache;
mod decider;
mod error;
pub mod gate;
mod lru;
pub mod metrics;
pub mod serve;

pub use decider::Decider;
pub use error::EnforceError;
