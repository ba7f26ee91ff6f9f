//! Image and repository references. The parser is a format and lives in
//! [`signet_core::reference`] (so that policy checks can compare
//! repositories without a registry client); it is re-exported here because
//! every registry operation starts from one.

pub use signet_core::reference::*;
