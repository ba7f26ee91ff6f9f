//! Caps on untrusted input, in one place so that parse-time and verify-time
//! checks agree.

/// Largest simple-signing payload signet reads (cosign's are ~250 bytes).
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;
/// Largest signature manifest or image manifest signet reads.
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// Most signature layers read from one `.sig` manifest (cosign caps appends at 1000).
pub const MAX_SIGNATURE_LAYERS: usize = 1000;
/// Largest key file signet reads.
pub const MAX_KEY_FILE_BYTES: usize = 64 << 10;
/// Largest Sigstore bundle signet reads.
pub const MAX_BUNDLE_BYTES: usize = 16 << 20;
