//! The `data.hash` object of hashedrekord 0.0.1 and rekord 0.0.1 entries:
//! `{"algorithm": "sha256", "value": "<hex>"}`, read and checked once for
//! both kinds.

use serde::Deserialize;

use crate::error::FormatError;
use crate::hash::HashAlgorithm;

/// `spec.data` as both kinds carry it.
#[derive(Deserialize)]
pub(super) struct RawData {
    #[serde(default)]
    pub(super) hash: Option<RawHash>,
}

/// `spec.data.hash`, unchecked.
#[derive(Deserialize)]
pub(super) struct RawHash {
    #[serde(default)]
    algorithm: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

/// The hash algorithm and its hex value, checked: a known
/// algorithm, and exactly its digest length in hex digits.
pub(super) fn checked_hash(
    what: &'static str,
    data: Option<RawData>,
) -> Result<(HashAlgorithm, String), FormatError> {
    let hash = data
        .and_then(|d| d.hash)
        .ok_or_else(|| FormatError::malformed(what, "missing data hash"))?;
    let name = hash.algorithm.unwrap_or_default();
    let algorithm = HashAlgorithm::from_rekor_name(&name).ok_or_else(|| {
        FormatError::malformed(
            what,
            format!(
                "hash algorithm {:?} is not sha256, sha384 or sha512",
                crate::digest::truncate(&name)
            ),
        )
    })?;
    let digest_hex = hash.value.unwrap_or_default();
    if digest_hex.len() != algorithm.digest_len() * 2
        || !digest_hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(FormatError::malformed(
            what,
            format!(
                "hash value is not {} hex digits",
                algorithm.digest_len() * 2
            ),
        ));
    }
    Ok((algorithm, digest_hex))
}
