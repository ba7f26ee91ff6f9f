//! placeholder
#![allow(missing_docs)]
pub mod config;
pub mod error;
pub mod material;
pub mod time;
