//! Caps on untrusted input, in one place so that parse-time and verify-time
//! checks agree.

/// Largest simple-signing payload signet reads (cosign's are ~250 bytes).
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;
/// Largest signature manifest or image manifest signet reads.
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// Most signature layers read from one `.sig` manifest (cosign caps appends at 1000).
pub const MAX_SIGNATURE_LAYERS: usize = 1000;
/// Most signature payload bytes read from a registry, and separately most
/// payload bytes checked, for one image. cosign's payloads are about 250
/// bytes, so 1000 of them fit many times over; a manifest whose layers all
/// name one large blob cannot multiply the work beyond this.
pub const MAX_SIGNATURE_BYTES_PER_IMAGE: usize = 4 << 20;
/// Largest key file signet reads.
pub const MAX_KEY_FILE_BYTES: usize = 64 << 10;
/// Largest Sigstore bundle signet reads.
pub const MAX_BUNDLE_BYTES: usize = 16 << 20;
