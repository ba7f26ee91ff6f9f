//! X.509 for Sigstore, with no I/O.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod certificate;
pub mod error;
pub mod limits;
pub mod oid;
pub mod time;
