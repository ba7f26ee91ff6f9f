//! placeholder
#![allow(missing_docs)]
pub mod api;
pub mod app;
pub mod ca;
pub mod config;
pub mod ctlog;
pub mod datadir;
pub mod error;
pub mod identity;
pub mod material;
pub mod metrics;
pub mod oidc;
pub mod ops;
pub mod ratelimit;
pub mod rekor;
pub mod serve;
pub mod time;
pub mod trust_files;
pub mod tsa;
