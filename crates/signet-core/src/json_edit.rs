//! Editing a JSON document in place: find a member's value by its byte span
//! and splice new bytes in, leaving every other byte as it was.
//!
//! Re-serialising a document from a model drops what the model does not
//! know (annotations, `subject`, fields of later specs) and may reorder or
//! re-escape what it does. Appending a signature to a manifest another tool
//! wrote must change only what the append is about, so the edit works on the
//! bytes: a small scanner validates the document and records where each
//! value starts and ends.

use std::ops::Range;

/// Deepest nesting accepted; real manifests nest four or five levels.
const MAX_DEPTH: usize = 64;

/// Why a document cannot be edited.
pub(crate) type ScanError = String;

/// A member of an object: its decoded key and the span of its value.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub key: String,
    pub value: Range<usize>,
}

/// The whole document is one value with only whitespace around it; returns
/// that value's span.
pub(crate) fn document(bytes: &[u8]) -> Result<Range<usize>, ScanError> {
    let start = skip_ws(bytes, 0);
    let end = value_end(bytes, start, 0)?;
    if skip_ws(bytes, end) != bytes.len() {
        return Err(format!("trailing data at byte {end}"));
    }
    Ok(start..end)
}

/// The members of the object at `span`, in document order.
pub(crate) fn members(bytes: &[u8], span: Range<usize>) -> Result<Vec<Member>, ScanError> {
    if bytes.get(span.start) != Some(&b'{') {
        return Err(format!("expected an object at byte {}", span.start));
    }
    let mut out = Vec::new();
    let mut i = skip_ws(bytes, span.start + 1);
    if bytes.get(i) == Some(&b'}') {
        return Ok(out);
    }
    loop {
        let key_end = string_end(bytes, i)?;
        let key: String = serde_json::from_slice(&bytes[i..key_end])
            .map_err(|e| format!("bad object key at byte {i}: {e}"))?;
        i = skip_ws(bytes, key_end);
        if bytes.get(i) != Some(&b':') {
            return Err(format!("expected ':' at byte {i}"));
        }
        let value_start = skip_ws(bytes, i + 1);
        let value_end = value_end(bytes, value_start, 1)?;
        out.push(Member {
            key,
            value: value_start..value_end,
        });
        i = skip_ws(bytes, value_end);
        match bytes.get(i) {
            Some(b',') => i = skip_ws(bytes, i + 1),
            Some(b'}') => return Ok(out),
            _ => return Err(format!("expected ',' or '}}' at byte {i}")),
        }
    }
}

/// The span of the value of the only member called `key`; `None` if there is
/// none, an error if there are several (which one a reader takes is not
/// defined).
pub(crate) fn member(
    bytes: &[u8],
    object: Range<usize>,
    key: &str,
) -> Result<Option<Range<usize>>, ScanError> {
    let mut found = None;
    for m in members(bytes, object)? {
        if m.key == key {
            if found.is_some() {
                return Err(format!("duplicate member {key:?}"));
            }
            found = Some(m.value);
        }
    }
    Ok(found)
}

/// The spans of the elements of the array at `span`.
pub(crate) fn elements(bytes: &[u8], span: Range<usize>) -> Result<Vec<Range<usize>>, ScanError> {
    if bytes.get(span.start) != Some(&b'[') {
        return Err(format!("expected an array at byte {}", span.start));
    }
    let mut out = Vec::new();
    let mut i = skip_ws(bytes, span.start + 1);
    if bytes.get(i) == Some(&b']') {
        return Ok(out);
    }
    loop {
        let end = value_end(bytes, i, 1)?;
        out.push(i..end);
        i = skip_ws(bytes, end);
        match bytes.get(i) {
            Some(b',') => i = skip_ws(bytes, i + 1),
            Some(b']') => return Ok(out),
            _ => return Err(format!("expected ',' or ']' at byte {i}")),
        }
    }
}

/// Where a new last element of the array at `span` goes, and whether it
/// needs a leading comma: right after the current last element (or right
/// after `[`), so that the document's own layout is kept.
pub(crate) fn append_point(bytes: &[u8], span: Range<usize>) -> Result<(usize, bool), ScanError> {
    Ok(match elements(bytes, span.clone())?.last() {
        Some(last) => (last.end, true),
        None => (span.start + 1, false),
    })
}

/// One edit: replace `range` with `bytes` (an empty range inserts).
pub(crate) struct Splice {
    pub range: Range<usize>,
    pub bytes: Vec<u8>,
}

/// Applies non-overlapping edits to `doc`.
pub(crate) fn apply(doc: &[u8], mut edits: Vec<Splice>) -> Vec<u8> {
    edits.sort_by_key(|e| e.range.start);
    let mut out =
        Vec::with_capacity(doc.len() + edits.iter().map(|e| e.bytes.len()).sum::<usize>());
    let mut at = 0;
    for e in edits {
        out.extend_from_slice(doc.get(at..e.range.start).unwrap_or_default());
        out.extend_from_slice(&e.bytes);
        at = e.range.end.max(at);
    }
    out.extend_from_slice(doc.get(at..).unwrap_or_default());
    out
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while matches!(bytes.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The end of the value starting at `i`.
fn value_end(bytes: &[u8], i: usize, depth: usize) -> Result<usize, ScanError> {
    if depth > MAX_DEPTH {
        return Err(format!("nested deeper than {MAX_DEPTH} levels"));
    }
    match bytes.get(i) {
        Some(b'"') => string_end(bytes, i),
        Some(b'{') => {
            let mut j = skip_ws(bytes, i + 1);
            if bytes.get(j) == Some(&b'}') {
                return Ok(j + 1);
            }
            loop {
                j = skip_ws(bytes, string_end(bytes, j)?);
                if bytes.get(j) != Some(&b':') {
                    return Err(format!("expected ':' at byte {j}"));
                }
                j = skip_ws(bytes, value_end(bytes, skip_ws(bytes, j + 1), depth + 1)?);
                match bytes.get(j) {
                    Some(b',') => j = skip_ws(bytes, j + 1),
                    Some(b'}') => return Ok(j + 1),
                    _ => return Err(format!("expected ',' or '}}' at byte {j}")),
                }
            }
        }
        Some(b'[') => {
            let mut j = skip_ws(bytes, i + 1);
            if bytes.get(j) == Some(&b']') {
                return Ok(j + 1);
            }
            loop {
                j = skip_ws(bytes, value_end(bytes, j, depth + 1)?);
                match bytes.get(j) {
                    Some(b',') => j = skip_ws(bytes, j + 1),
                    Some(b']') => return Ok(j + 1),
                    _ => return Err(format!("expected ',' or ']' at byte {j}")),
                }
            }
        }
        Some(b't') => literal(bytes, i, b"true"),
        Some(b'f') => literal(bytes, i, b"false"),
        Some(b'n') => literal(bytes, i, b"null"),
        Some(b'-' | b'0'..=b'9') => {
            let mut j = i;
            while matches!(
                bytes.get(j),
                Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
            ) {
                j += 1;
            }
            // The exact grammar is checked by a real parser before any edit.
            Ok(j)
        }
        _ => Err(format!("expected a value at byte {i}")),
    }
}

fn literal(bytes: &[u8], i: usize, word: &[u8]) -> Result<usize, ScanError> {
    match bytes.get(i..i + word.len()) {
        Some(w) if w == word => Ok(i + word.len()),
        _ => Err(format!("bad literal at byte {i}")),
    }
}

/// The end of the string starting at `i` (which must be `"`).
fn string_end(bytes: &[u8], i: usize) -> Result<usize, ScanError> {
    if bytes.get(i) != Some(&b'"') {
        return Err(format!("expected a string at byte {i}"));
    }
    let mut j = i + 1;
    loop {
        match bytes.get(j) {
            Some(b'"') => return Ok(j + 1),
            Some(b'\\') => j += 2,
            Some(c) if *c < 0x20 => return Err(format!("control character in string at byte {j}")),
            Some(_) => j += 1,
            None => return Err("unterminated string".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_members_and_appends_in_place() {
        let doc = br#" { "a" : [1, {"x":"]"}] ,"b":{}, "c\u0064":"q\"z", "e": [ ] } "#;
        let top = document(doc).unwrap();
        let keys: Vec<String> = members(doc, top.clone())
            .unwrap()
            .into_iter()
            .map(|m| m.key)
            .collect();
        assert_eq!(keys, ["a", "b", "cd", "e"]);
        let a = member(doc, top.clone(), "a").unwrap().unwrap();
        let (at, comma) = append_point(doc, a).unwrap();
        assert!(comma);
        let e = member(doc, top.clone(), "e").unwrap().unwrap();
        let (at_e, comma_e) = append_point(doc, e).unwrap();
        assert!(!comma_e);
        let out = apply(
            doc,
            vec![
                Splice {
                    range: at_e..at_e,
                    bytes: b"true".to_vec(),
                },
                Splice {
                    range: at..at,
                    bytes: b",2".to_vec(),
                },
            ],
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#" { "a" : [1, {"x":"]"},2] ,"b":{}, "c\u0064":"q\"z", "e": [true ] } "#
        );
        assert!(member(doc, top, "zz").unwrap().is_none());
    }

    #[test]
    fn refuses_what_it_cannot_edit_safely() {
        for bad in [
            &b""[..],
            b"{",
            b"{\"a\":1,\"a\":2",
            b"{} x",
            b"[1,]",
            b"{\"a\" 1}",
            b"\"unterminated",
            b"tru",
        ] {
            assert!(document(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let dup = br#"{"a":1,"a":2}"#;
        assert!(member(dup, document(dup).unwrap(), "a").is_err());
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(document(deep.as_bytes()).is_err());
    }

    proptest! {
        #[test]
        fn scanning_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(top) = document(&bytes) {
                let _ = members(&bytes, top.clone());
                let _ = elements(&bytes, top);
            }
        }

        #[test]
        fn agrees_with_serde_on_valid_documents(v in arb_json()) {
            let text = serde_json::to_string_pretty(&v).unwrap();
            let top = document(text.as_bytes()).unwrap();
            prop_assert_eq!(top, 0..text.len());
            if let serde_json::Value::Object(map) = &v {
                let found = members(text.as_bytes(), 0..text.len()).unwrap();
                prop_assert_eq!(found.len(), map.len());
                for m in found {
                    let value: serde_json::Value = serde_json::from_slice(&text.as_bytes()[m.value]).unwrap();
                    prop_assert_eq!(&value, &map[&m.key]);
                }
            }
        }
    }

    fn arb_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|n| serde_json::json!(n)),
            ".{0,8}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map(".{0,6}", inner, 0..5)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
