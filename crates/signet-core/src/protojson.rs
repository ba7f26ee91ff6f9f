//! What protobuf-JSON (as Go's `protojson` and the other Sigstore clients
//! write it) looks like on the wire, for the documents signet reads by hand:
//! bytes are base64 in either alphabet, with or without padding; 64-bit
//! integers are strings (numbers are accepted too); `null` means unset.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::{Deserialize, Deserializer};

use crate::error::FormatError;

/// Decodes a protobuf-JSON `bytes` value; `what` and `field` name it in errors.
pub fn decode_bytes(what: &'static str, field: &str, value: &str) -> Result<Vec<u8>, FormatError> {
    // Go's decoder (which protojson uses) skips line breaks, so wrapped
    // base64 is accepted there and must be here.
    let unwrapped;
    let value = if value.contains(['\r', '\n']) {
        unwrapped = value.replace(['\r', '\n'], "");
        unwrapped.as_str()
    } else {
        value
    };
    let engine = match (value.contains(['-', '_']), value.ends_with('=')) {
        (false, true) => &STANDARD,
        (false, false) => &STANDARD_NO_PAD,
        (true, true) => &URL_SAFE,
        (true, false) => &URL_SAFE_NO_PAD,
    };
    engine
        .decode(value)
        .map_err(|e| FormatError::malformed(what, format!("{field} is not base64: {e}")))
}

/// Encodes bytes as protobuf-JSON writers do (standard alphabet, padded).
pub fn encode_bytes(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// An `int64` field: a JSON string or number.
///
/// ```
/// let v: signet_core::protojson::Int64 = serde_json::from_str(r#""42""#).unwrap();
/// assert_eq!(v.0, 42);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Int64(pub i64);

impl<'de> Deserialize<'de> for Int64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(Self(n)),
            Raw::Text(s) => s
                .parse()
                .map(Self)
                .map_err(|_| serde::de::Error::custom(format!("{s:?} is not an int64"))),
        }
    }
}

/// A `uint32` field: a JSON number or string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Uint32(pub u32);

impl<'de> Deserialize<'de> for Uint32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u32),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(Self(n)),
            Raw::Text(s) => s
                .parse()
                .map(Self)
                .map_err(|_| serde::de::Error::custom(format!("{s:?} is not a uint32"))),
        }
    }
}

/// An enum field: protobuf-JSON writers use the value's name, readers must
/// also accept its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enum {
    /// The value's name (`SHA2_256`).
    Name(String),
    /// The value's number (`1`).
    Number(i32),
}

impl Enum {
    /// The name, looking numbers up in `names` (index = number).
    pub fn name<'a>(&'a self, names: &[&'a str]) -> Option<&'a str> {
        match self {
            Self::Name(n) => Some(n),
            Self::Number(i) => usize::try_from(*i).ok().and_then(|i| names.get(i).copied()),
        }
    }
}

impl<'de> Deserialize<'de> for Enum {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i32),
            Text(String),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Number(n) => Self::Number(n),
            Raw::Text(s) => Self::Name(s),
        })
    }
}

/// Reads a repeated or message field where `null` means empty/unset.
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Appends `"key":` to a JSON object being written by hand.
pub fn key(out: &mut String, first: &mut bool, name: &str) {
    if !*first {
        out.push(',');
    }
    *first = false;
    out.push('"');
    out.push_str(name);
    out.push_str("\":");
}

/// Appends a JSON string.
pub fn string(out: &mut String, value: &str) {
    crate::jcs::write_string(out, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_both_alphabets_with_and_without_padding() {
        for text in ["+/8=", "+/8", "-_8=", "-_8", "+/\n8=", "+\r\n/8"] {
            assert_eq!(decode_bytes("x", "f", text).unwrap(), vec![0xfb, 0xff]);
        }
        assert!(decode_bytes("x", "f", "!!").is_err());
    }

    #[test]
    fn int64_from_string_or_number() {
        let v: Vec<Int64> = serde_json::from_str(r#"["12", 13, "-1"]"#).unwrap();
        assert_eq!(v, [Int64(12), Int64(13), Int64(-1)]);
        assert!(serde_json::from_str::<Int64>(r#""x""#).is_err());
        assert!(serde_json::from_str::<Int64>("1.5").is_err());
    }
}
