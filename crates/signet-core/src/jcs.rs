//! RFC 8785 JSON Canonicalization Scheme (JCS).
//!
//! Rekor hashes the JCS form of an entry into its Merkle tree and signs the
//! JCS form of the SET payload, so signet must produce it byte for byte.
//! Object keys are sorted by their UTF-16 code units and strings are escaped
//! as ECMAScript's `JSON.stringify` does. Only integers up to 2^53 are
//! accepted as numbers: nothing Sigstore canonicalizes holds a fraction, and
//! refusing them avoids reimplementing ECMAScript's float printing.

use serde_json::Value;

use crate::error::FormatError;

/// The largest integer JCS can represent exactly (2^53).
const MAX_SAFE_INTEGER: u64 = 1 << 53;

/// The JCS bytes of `value`.
pub fn canonicalize(value: &Value) -> Result<Vec<u8>, FormatError> {
    let mut out = String::new();
    write(&mut out, value)?;
    Ok(out.into_bytes())
}

/// Parses `bytes` as JSON and returns its JCS form.
pub fn canonicalize_bytes(bytes: &[u8]) -> Result<Vec<u8>, FormatError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| FormatError::malformed("JSON to canonicalize", e))?;
    canonicalize(&value)
}

fn write(out: &mut String, value: &Value) -> Result<(), FormatError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let ok = if let Some(u) = n.as_u64() {
                u <= MAX_SAFE_INTEGER
            } else if let Some(i) = n.as_i64() {
                i.unsigned_abs() <= MAX_SAFE_INTEGER
            } else {
                false
            };
            if !ok {
                return Err(FormatError::malformed(
                    "JSON to canonicalize",
                    format!("number {n} is not an integer within ±2^53"),
                ));
            }
            out.push_str(&n.to_string());
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write(out, item)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// Writes `s` as ECMAScript's `JSON.stringify` does.
pub(crate) fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sorts_keys_by_utf16_and_escapes_like_ecmascript() {
        // RFC 8785 §3.2.3 ordering example (subset): "\r" < "1" < "\u{80}" < "😀" < "\u{fb33}".
        let v: Value = serde_json::from_str(
            r#"{"\ufb33":1,"😀":2,"\u0080":3,"1":4,"\r":5,"b":[true,null,"<&>\u001f/"]}"#,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(canonicalize(&v).unwrap()).unwrap(),
            "{\"\\r\":5,\"1\":4,\"b\":[true,null,\"<&>\\u001f/\"],\"\u{80}\":3,\"😀\":2,\"\u{fb33}\":1}"
        );
    }

    #[test]
    fn refuses_fractions_and_huge_numbers() {
        assert!(canonicalize_bytes(b"1.5").is_err());
        assert!(canonicalize_bytes(b"9007199254740993").is_err());
        assert_eq!(canonicalize_bytes(b"-42").unwrap(), b"-42");
    }

    proptest! {
        #[test]
        fn canonical_form_is_a_fixed_point(s in ".{0,40}", k in ".{0,10}", n in any::<i32>()) {
            let v = serde_json::json!({ k.clone(): [s.clone(), n], "z": {"a": s} });
            let once = canonicalize(&v).unwrap();
            prop_assert_eq!(canonicalize_bytes(&once).unwrap(), once);
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = canonicalize_bytes(&bytes);
        }
    }
}
