//! PEM as Go's `encoding/pem` reads and writes it: several blocks in one
//! text (certificate chains), 64-column lines.

use crate::error::FormatError;
use crate::limits::MAX_CHAIN_CERTIFICATES;

const WHAT: &str = "PEM";

/// All PEM blocks of `text` as (label, DER), in order.
pub fn decode_all(text: &[u8]) -> Result<Vec<(String, Vec<u8>)>, FormatError> {
    let text = std::str::from_utf8(text)
        .map_err(|_| FormatError::malformed(WHAT, "not UTF-8"))?
        .trim();
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start..];
        let label_end = after[11..]
            .find("-----")
            .ok_or_else(|| FormatError::malformed(WHAT, "unterminated BEGIN line"))?;
        let label = &after[11..11 + label_end];
        let end_marker = format!("-----END {label}-----");
        let end = after
            .find(&end_marker)
            .ok_or_else(|| FormatError::malformed(WHAT, format!("no END line for {label:?}")))?;
        let block = &after[..end + end_marker.len()];
        let (decoded_label, der) = pem_rfc7468::decode_vec(block.as_bytes())
            .map_err(|e| FormatError::malformed(WHAT, format!("bad {label:?} block: {e}")))?;
        blocks.push((decoded_label.to_owned(), der));
        if blocks.len() > MAX_CHAIN_CERTIFICATES {
            return Err(FormatError::malformed(
                WHAT,
                format!("more than {MAX_CHAIN_CERTIFICATES} PEM blocks"),
            ));
        }
        rest = &after[end + end_marker.len()..];
    }
    if blocks.is_empty() {
        return Err(FormatError::malformed(WHAT, "no PEM block"));
    }
    Ok(blocks)
}

/// Encodes DER as Go's `pem.EncodeToMemory` does (64-column lines, LF, a
/// final newline).
pub fn encode(label: &str, der: &[u8]) -> Vec<u8> {
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der)
        .map(String::into_bytes)
        .unwrap_or_default()
}
