//! X.509 for Sigstore, with no I/O.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod algorithm;
pub mod builder;
pub mod ca;
pub mod certificate;
pub mod chain;
pub mod error;
pub mod issue;
pub mod limits;
pub mod oid;
pub mod profile;
pub mod sct;
pub mod time;
pub mod timestamp;
pub mod tsa;
mod tsp;
