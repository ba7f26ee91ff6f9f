//! Keys a verifier trusts directly (`--key`).

use std::time::SystemTime;

use signet_core::keys::PublicKey;
use signet_pki::time::TimeRange;

/// A key the verifier trusts, with a name for results and messages.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// Where the key came from (`cosign.pub`, `hashivault://release`).
    pub name: String,
    /// The key.
    pub key: PublicKey,
    pub(crate) hint: String,
    pub(crate) spki: Vec<u8>,
    valid_for: TimeRange,
}

impl TrustedKey {
    /// A trusted key called `name`, valid at any time.
    pub fn new(name: impl Into<String>, key: PublicKey) -> Self {
        Self {
            name: name.into(),
            hint: key.hint(),
            spki: key.to_spki_der(),
            key,
            valid_for: TimeRange::UNBOUNDED,
        }
    }

    /// Limits the key to signatures made within `window` (a retired or
    /// not-yet-active key): every verified signing time must fall inside it.
    pub fn valid_for(mut self, window: TimeRange) -> Self {
        self.valid_for = window;
        self
    }

    /// The window the key is trusted for.
    pub fn validity(&self) -> TimeRange {
        self.valid_for
    }

    pub(crate) fn is_valid_at(&self, at: SystemTime) -> bool {
        self.valid_for.contains(at)
    }
}
