//! Rekor: recording a signature in a transparency log.
//!
//! - **Rekor v1** (`POST /api/v1/log/entries`): `hashedrekord` 0.0.1 (and
//!   `dsse` 0.0.1) proposals; the answer carries the logged body, the
//!   integrated time, a signed entry timestamp (SET) and an inclusion proof
//!   with a signed checkpoint. A duplicate (409) is fetched from the
//!   `Location` the log names.
//! - **Rekor v2** (`POST /api/v2/log/entries`): `hashedRekordRequestV002`;
//!   the answer is a protobuf-JSON `TransparencyLogEntry` with an inclusion
//!   proof and a C2SP checkpoint, and no SET or integrated time, so a
//!   signature logged in v2 needs an RFC 3161 timestamp as well.
//!
//! An answer is kept only after it is checked ([`check`]): the log must be
//! one the trusted root lists, the logged body must be the proposal, the SET
//! must verify under the log key, and the inclusion proof must lead to the
//! root of a checkpoint signed by the log.

mod check;
mod proposal;
mod v1;
mod v2;

pub use check::{EntryRejected, check_v1_entry, check_v2_entry};
pub use proposal::Proposal;
pub use v1::RekorV1Client;
pub use v2::RekorV2Client;

use signet_core::bundle::TransparencyLogEntry;

use crate::error::ServiceError;

/// A Rekor log of either major API version.
#[derive(Debug, Clone)]
pub enum RekorClient {
    /// A Rekor v1 log.
    V1(RekorV1Client),
    /// A Rekor v2 log.
    V2(RekorV2Client),
}

impl RekorClient {
    /// Records `proposal` and returns the checked entry, as a bundle
    /// carries it.
    pub async fn create_entry(
        &self,
        proposal: &Proposal,
    ) -> Result<TransparencyLogEntry, ServiceError> {
        match self {
            Self::V1(c) => c.create_entry(proposal).await,
            Self::V2(c) => c.create_entry(proposal).await,
        }
    }

    /// The major API version (1 or 2).
    pub fn major_version(&self) -> u32 {
        match self {
            Self::V1(_) => 1,
            Self::V2(_) => 2,
        }
    }

    /// The log's base URL.
    pub fn url(&self) -> &url::Url {
        match self {
            Self::V1(c) => c.url(),
            Self::V2(c) => c.url(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
