//! PEM as Go's `encoding/pem` reads and writes it: several blocks in one
//! text (certificate chains), 64-column lines when writing, any line length
//! when reading (Go accepts a body on one line, and some logs record it so).

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
        let begin_line_end = after
            .find('\n')
            .filter(|n| *n < end)
            .ok_or_else(|| FormatError::malformed(WHAT, format!("bad {label:?} block: no body")))?;
        let der = decode_body(&after[begin_line_end + 1..end])
            .map_err(|e| FormatError::malformed(WHAT, format!("bad {label:?} block: {e}")))?;
        blocks.push((label.to_owned(), der));
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

/// A block's body as Go reads it: optional `Key: value` header lines, then
/// standard base64 over any number of lines.
fn decode_body(body: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let mut lines: Vec<&str> = body.lines().map(str::trim).collect();
    if lines.iter().any(|l| l.contains(':')) {
        // Headers end at the first empty line.
        let blank = lines
            .iter()
            .position(|l| l.is_empty())
            .ok_or("headers without the blank line that ends them")?;
        lines.drain(..=blank);
    }
    let text: String = lines.concat();
    base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|e| format!("invalid base64: {e}"))
}

/// Encodes DER as Go's `pem.EncodeToMemory` does (64-column lines, LF, a
/// final newline).
pub fn encode(label: &str, der: &[u8]) -> Vec<u8> {
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der)
        .map(String::into_bytes)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_what_go_reads() {
        let der: Vec<u8> = (0..=200u8).collect();
        let wrapped = encode("CERTIFICATE", &der);
        let text = String::from_utf8(wrapped.clone()).unwrap();
        // One long line, as some logs record it.
        let one_line = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            text.lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>()
        );
        // Headers before a blank line, CRLF line ends.
        let headers = text
            .replacen("-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n", 1)
            .replace('\n', "\r\n");
        for input in [text.clone(), one_line, headers, format!("{text}{text}")] {
            let blocks = decode_all(input.as_bytes()).unwrap();
            assert!(
                blocks.iter().all(|(l, d)| l == "CERTIFICATE" && *d == der),
                "{input}"
            );
        }
        assert!(decode_all(b"-----BEGIN X-----\n!!!\n-----END X-----\n").is_err());
        assert!(decode_all(b"-----BEGIN X-----\nK: v\nAAAA\n-----END X-----\n").is_err());
        assert!(decode_all(b"-----BEGIN X----------END X-----").is_err());
        assert!(decode_all(b"no pem").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(text in "(-----BEGIN [A-Z]{1,3}-----|-----END [A-Z]{1,3}-----|[A-Za-z0-9+/=:\n ]){0,40}") {
            let _ = decode_all(text.as_bytes());
        }
    }
}
