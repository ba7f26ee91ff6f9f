//! DSSE envelopes (Dead Simple Signing Envelope, `secure-systems-lab/dsse`).
//!
//! A signature covers the pre-authentication encoding ([`pae`]) of the
//! payload type and payload, never the JSON envelope. The envelope keeps the
//! payload's exact bytes, which is what a verifier must hand on.
//!
//! ```
//! use signet_core::dsse::pae;
//! assert_eq!(pae("http://example.com/HelloWorld", b"hello world"),
//!            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world");
//! ```

use serde::Deserialize;

use crate::error::FormatError;
use crate::limits::{MAX_BUNDLE_BYTES, MAX_DSSE_SIGNATURES};
use crate::protojson::{self, decode_bytes, encode_bytes, null_as_default};

/// `payloadType` of in-toto statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The pre-authentication encoding a DSSE signature covers:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The raw signature bytes.
    pub sig: Vec<u8>,
    /// The unauthenticated key hint; empty when absent.
    pub keyid: String,
}

/// A DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The exact payload bytes that were signed.
    pub payload: Vec<u8>,
    /// The payload type (for attestations, [`IN_TOTO_PAYLOAD_TYPE`]).
    pub payload_type: String,
    /// The signatures.
    pub signatures: Vec<Signature>,
}

impl Envelope {
    /// The bytes each signature covers.
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }

    /// Reads an envelope. Both base64 alphabets are accepted, as the DSSE
    /// specification requires; unknown fields are ignored.
    pub fn parse(bytes: &[u8]) -> Result<Self, FormatError> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(FormatError::TooLarge {
                what: WHAT,
                size: bytes.len(),
                limit: MAX_BUNDLE_BYTES,
            });
        }
        let raw: RawEnvelope =
            serde_json::from_slice(bytes).map_err(|e| FormatError::malformed(WHAT, e))?;
        raw.into_envelope()
    }

    /// The envelope as Go's DSSE libraries write it: `payload`,
    /// `payloadType`, `signatures` (each `sig`, then `keyid` if set),
    /// standard padded base64, no whitespace.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    /// The envelope as cosign sends it to Rekor (go-securesystemslib's
    /// struct order: `payloadType`, `payload`, then `keyid` — always, even
    /// when empty — and `sig`). A dsse entry's `envelopeHash` is the SHA-256
    /// of exactly these bytes when cosign made it.
    pub fn to_cosign_json(&self) -> String {
        let mut out = String::from("{\"payloadType\":");
        protojson::string(&mut out, &self.payload_type);
        out.push_str(",\"payload\":");
        protojson::string(&mut out, &encode_bytes(&self.payload));
        out.push_str(",\"signatures\":[");
        for (i, s) in self.signatures.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"keyid\":");
            protojson::string(&mut out, &s.keyid);
            out.push_str(",\"sig\":");
            protojson::string(&mut out, &encode_bytes(&s.sig));
            out.push('}');
        }
        out.push_str("]}");
        out
    }

    pub(crate) fn write_json(&self, out: &mut String) {
        out.push_str("{\"payload\":");
        protojson::string(out, &encode_bytes(&self.payload));
        out.push_str(",\"payloadType\":");
        protojson::string(out, &self.payload_type);
        out.push_str(",\"signatures\":[");
        for (i, s) in self.signatures.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"sig\":");
            protojson::string(out, &encode_bytes(&s.sig));
            if !s.keyid.is_empty() {
                out.push_str(",\"keyid\":");
                protojson::string(out, &s.keyid);
            }
            out.push('}');
        }
        out.push_str("]}");
    }
}

const WHAT: &str = "DSSE envelope";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawEnvelope {
    #[serde(default)]
    payload: Option<String>,
    #[serde(default)]
    payload_type: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    signatures: Vec<RawSignature>,
}

#[derive(Deserialize)]
struct RawSignature {
    #[serde(default)]
    sig: Option<String>,
    #[serde(default)]
    keyid: Option<String>,
}

impl RawEnvelope {
    pub(crate) fn into_envelope(self) -> Result<Envelope, FormatError> {
        let payload = self
            .payload
            .ok_or_else(|| FormatError::malformed(WHAT, "no payload"))?;
        let payload_type = self
            .payload_type
            .ok_or_else(|| FormatError::malformed(WHAT, "no payloadType"))?;
        if self.signatures.is_empty() {
            return Err(FormatError::malformed(WHAT, "no signatures"));
        }
        if self.signatures.len() > MAX_DSSE_SIGNATURES {
            return Err(FormatError::malformed(
                WHAT,
                format!(
                    "{} signatures, more than the limit of {MAX_DSSE_SIGNATURES}",
                    self.signatures.len()
                ),
            ));
        }
        let signatures = self
            .signatures
            .into_iter()
            .map(|s| {
                let sig = decode_bytes(WHAT, "sig", s.sig.as_deref().unwrap_or_default())?;
                if sig.is_empty() {
                    return Err(FormatError::malformed(WHAT, "empty signature"));
                }
                Ok(Signature {
                    sig,
                    keyid: s.keyid.unwrap_or_default(),
                })
            })
            .collect::<Result<_, FormatError>>()?;
        Ok(Envelope {
            payload: decode_bytes(WHAT, "payload", &payload)?,
            payload_type,
            signatures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pae_matches_the_specification() {
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
        assert_eq!(
            pae(IN_TOTO_PAYLOAD_TYPE, b"{}"),
            b"DSSEv1 28 application/vnd.in-toto+json 2 {}"
        );
    }

    #[test]
    fn reads_url_safe_and_writes_go_layout() {
        let env = Envelope::parse(
            br#"{"payloadType":"t","payload":"-_8","signatures":[{"sig":"AQ=="}]}"#,
        )
        .unwrap();
        assert_eq!(env.payload, [0xfb, 0xff]);
        assert_eq!(
            env.to_json(),
            r#"{"payload":"+/8=","payloadType":"t","signatures":[{"sig":"AQ=="}]}"#
        );
        assert_eq!(Envelope::parse(env.to_json().as_bytes()).unwrap(), env);
    }

    #[test]
    fn rejects_incomplete_envelopes() {
        for bad in [
            &br#"{"payloadType":"t","signatures":[{"sig":"AQ=="}]}"#[..],
            br#"{"payload":"","signatures":[{"sig":"AQ=="}]}"#,
            br#"{"payload":"","payloadType":"t","signatures":[]}"#,
            br#"{"payload":"","payloadType":"t","signatures":[{"sig":""}]}"#,
            br#"{"payload":"!","payloadType":"t","signatures":[{"sig":"AQ=="}]}"#,
        ] {
            assert!(
                Envelope::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Envelope::parse(&bytes);
        }

        #[test]
        fn round_trips(payload in proptest::collection::vec(any::<u8>(), 0..64), t in ".{0,20}",
                       sigs in proptest::collection::vec((proptest::collection::vec(any::<u8>(), 1..8), "[a-z]{0,4}"), 1..4)) {
            let env = Envelope { payload, payload_type: t,
                signatures: sigs.into_iter().map(|(sig, keyid)| Signature { sig, keyid }).collect() };
            prop_assert_eq!(Envelope::parse(env.to_json().as_bytes()).unwrap(), env);
        }
    }
}
