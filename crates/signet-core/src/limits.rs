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
/// Most transparency-log entries read from one bundle (sigstore-go's cap).
pub const MAX_TLOG_ENTRIES: usize = 32;
/// Most RFC 3161 timestamps read from one bundle (sigstore-go's cap).
pub const MAX_TIMESTAMPS: usize = 32;
/// Most certificates in one chain (Rekor's cap for PEM chains).
pub const MAX_CHAIN_CERTIFICATES: usize = 10;
/// Most hashes in one inclusion proof (a tree of 2^64 leaves needs 64).
pub const MAX_PROOF_HASHES: usize = 64;
/// Most signatures read from one DSSE envelope.
pub const MAX_DSSE_SIGNATURES: usize = 16;
/// Most subjects read from one in-toto statement (sigstore-go's cap).
pub const MAX_INTOTO_SUBJECTS: usize = 1024;
/// Most digests per in-toto subject (sigstore-go's cap).
pub const MAX_SUBJECT_DIGESTS: usize = 32;
/// Largest Rekor entry body (canonical or proposed) signet reads. Proposed
/// DSSE and in-toto entries carry whole envelopes; Rekor itself stores
/// attestations only up to 100 KiB.
pub const MAX_REKOR_ENTRY_BYTES: usize = 4 << 20;
/// Largest checkpoint (signed note) signet reads.
pub const MAX_CHECKPOINT_BYTES: usize = 64 << 10;
