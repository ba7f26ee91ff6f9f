//! Reading a KV v2 response without leaving copies of its secrets behind.
//!
//! `serde_json` decodes an escaped string (a PEM has `\n` in it) through a
//! scratch buffer it never wipes, and `serde_json::Value` keeps every string
//! in plain `String`s. So the secret fields are taken as raw, still-escaped
//! JSON slices of the (wiped) response buffer, and unescaped here straight
//! into wiped buffers sized up front. Skipped values and raw slices do not go
//! through the scratch buffer.

use serde::Deserialize;
use serde_json::value::RawValue;
use zeroize::Zeroizing;

/// The fields of a KV v2 secret that hold a cosign key pair.
pub(crate) struct KvKeyPair {
    /// `private_key`: the encrypted cosign private key (PEM).
    pub private_key: Option<Zeroizing<String>>,
    /// `public_key`: its public key (PEM), not secret.
    pub public_key: Option<String>,
    /// `password`: the private key's password.
    pub password: Option<Zeroizing<String>>,
    /// The secret version that was read.
    pub version: Option<u64>,
}

impl std::fmt::Debug for KvKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvKeyPair")
            .field(
                "private_key",
                &self.private_key.as_ref().map(|_| "<redacted>"),
            )
            .field("public_key", &self.public_key.is_some())
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("version", &self.version)
            .finish()
    }
}

/// Why a KV response could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum KvReadError {
    /// The JSON does not have the KV v2 shape.
    Malformed(String),
    /// `data.data` is null: the version is deleted or destroyed.
    NoData,
}

#[derive(Deserialize)]
struct Response<'a> {
    #[serde(borrow, default)]
    data: Option<Envelope<'a>>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    data: Option<Fields<'a>>,
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Fields<'a> {
    #[serde(borrow, default)]
    private_key: Option<&'a RawValue>,
    #[serde(borrow, default)]
    public_key: Option<&'a RawValue>,
    #[serde(borrow, default)]
    password: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    version: Option<u64>,
}

/// Reads the key-pair fields of a `GET MOUNT/data/PATH` response body.
pub(crate) fn parse_kv_key_pair(body: &[u8]) -> Result<KvKeyPair, KvReadError> {
    let response: Response<'_> = serde_json::from_slice(body)
        .map_err(|e| KvReadError::Malformed(format!("response is not KV v2 JSON: {e}")))?;
    let envelope = response
        .data
        .ok_or_else(|| KvReadError::Malformed("response has no \"data\"".into()))?;
    let version = envelope.metadata.and_then(|m| m.version);
    let fields = envelope.data.ok_or(KvReadError::NoData)?;
    let secret = |name: &str, raw: Option<&RawValue>| -> Result<_, KvReadError> {
        raw.map(|r| {
            unescape(r.get()).ok_or_else(|| {
                KvReadError::Malformed(format!("field {name:?} is not a JSON string"))
            })
        })
        .transpose()
    };
    Ok(KvKeyPair {
        private_key: secret("private_key", fields.private_key)?,
        public_key: secret("public_key", fields.public_key)?.map(|p| p.as_str().to_owned()),
        password: secret("password", fields.password)?,
        version,
    })
}

/// Decodes one JSON string literal (quotes included) into a wiped buffer
/// allocated once: the decoded text is never longer than the literal.
fn unescape(literal: &str) -> Option<Zeroizing<String>> {
    let inner = literal.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = Zeroizing::new(String::with_capacity(inner.len()));
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let decoded = match chars.next()? {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let high = hex4(&mut chars)?;
                if (0xD800..0xDC00).contains(&high) {
                    // A surrogate pair: the low half must follow as \uXXXX.
                    if chars.next()? != '\\' || chars.next()? != 'u' {
                        return None;
                    }
                    let low = hex4(&mut chars)?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return None;
                    }
                    char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))?
                } else {
                    char::from_u32(high)?
                }
            }
            _ => return None,
        };
        out.push(decoded);
    }
    Some(out)
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u32> {
    let mut value = 0;
    for _ in 0..4 {
        value = value * 16 + chars.next()?.to_digit(16)?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_key_pair_fields() {
        let body = br#"{"request_id":"x","data":{"data":{"private_key":"-----BEGIN X-----\nAB\/C\u00e9\ud83d\ude00\n","password":"p\"w","other":{"nested":[1,"two"]},"public_key":"pub"},"metadata":{"version":3,"custom_metadata":null}},"warnings":null}"#;
        let kv = parse_kv_key_pair(body).unwrap();
        assert_eq!(
            kv.private_key.as_deref().map(String::as_str),
            Some("-----BEGIN X-----\nAB/C\u{e9}\u{1f600}\n")
        );
        assert_eq!(kv.password.as_deref().map(String::as_str), Some("p\"w"));
        assert_eq!(kv.public_key.as_deref(), Some("pub"));
        assert_eq!(kv.version, Some(3));
        let shown = format!("{kv:?}");
        assert!(
            !shown.contains("BEGIN") && !shown.contains("p\\\"w"),
            "{shown}"
        );
    }

    #[test]
    fn shapes_that_are_not_a_secret() {
        assert_eq!(
            parse_kv_key_pair(br#"{"data":{"data":null,"metadata":{"version":2}}}"#).unwrap_err(),
            KvReadError::NoData
        );
        assert!(parse_kv_key_pair(br#"{"data":{"data":{"private_key":5}}}"#).is_err());
        assert!(parse_kv_key_pair(b"[]").is_err());
        let none = parse_kv_key_pair(br#"{"data":{"data":{}}}"#).unwrap();
        assert!(none.private_key.is_none() && none.password.is_none());
    }

    #[test]
    fn unescape_agrees_with_serde_json() {
        for s in [
            "",
            "plain",
            "a\nb\tc\"d\\e/f",
            "\u{1}\u{1f}",
            "é😀",
            "\u{fffd}",
        ] {
            let literal = serde_json::to_string(s).unwrap();
            assert_eq!(unescape(&literal).as_deref().map(String::as_str), Some(s));
        }
        for bad in [
            r#""\x""#,
            r#""\ud800""#,
            r#""\ud800\u0041""#,
            r#""\u12""#,
            "nope",
        ] {
            assert!(unescape(bad).is_none(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_matches_serde(s in "\\PC{0,40}", bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let literal = serde_json::to_string(&s).unwrap();
            let decoded = unescape(&literal);
            proptest::prop_assert_eq!(decoded.as_deref().map(String::as_str), Some(s.as_str()));
            let _ = parse_kv_key_pair(&bytes);
            if let Ok(text) = std::str::from_utf8(&bytes) {
                let _ = unescape(text);
            }
        }
    }
}
