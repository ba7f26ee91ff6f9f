//! Caps on untrusted input, in one place so that every parser agrees.

/// Largest DER certificate read. Fulcio leaves with every CI claim and an SCT
/// list are about 2.5 KiB; roots and intermediates are smaller.
pub const MAX_CERTIFICATE_BYTES: usize = 32 << 10;
/// Most certificates in one chain (leaf, intermediates and root) or one PEM file.
pub const MAX_CHAIN_CERTIFICATES: usize = 10;
/// Largest PEM text read for a certificate chain.
pub const MAX_PEM_BYTES: usize = MAX_CHAIN_CERTIFICATES * MAX_CERTIFICATE_BYTES * 2;
/// Most SCTs read from one certificate's SCT list.
pub const MAX_SCTS: usize = 32;
/// Largest RFC 3161 `TimeStampResp` or token read (sigstore's are ~1.3 KiB
/// with one certificate).
pub const MAX_TIMESTAMP_RESPONSE_BYTES: usize = 128 << 10;
/// Largest DER `TimeStampReq` read.
pub const MAX_TIMESTAMP_REQUEST_BYTES: usize = 4 << 10;
/// Largest JSON timestamp request read (the sigstore TSA's own limit).
pub const MAX_TIMESTAMP_JSON_REQUEST_BYTES: usize = 1 << 10;
/// Most signature checks one path search may spend, so that a crafted set of
/// certificates with repeated names cannot multiply work.
pub const MAX_SIGNATURE_CHECKS: usize = 64;
