//! The simple-signing payload: the document a container image signature covers.
//!
//! cosign (through sigstore/sigstore `payload.Cosign`) marshals
//! `{"critical":{"identity":{"docker-reference":R},"image":{"docker-manifest-digest":D},"type":T},"optional":O}`
//! with Go's `encoding/json`. signet writes the same bytes so that a signature
//! made by either tool is indistinguishable, and reads any tool's payload
//! leniently (skopeo adds `creator` and `timestamp`; others add more).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::digest::Digest;
use crate::error::FormatError;
use crate::gojson;
use crate::limits::MAX_PAYLOAD_BYTES;

/// The `critical.type` every cosign image signature carries.
pub const COSIGN_SIGNATURE_TYPE: &str = "cosign container image signature";

/// A simple-signing payload for one image manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleSigningPayload {
    /// `critical.identity.docker-reference`: the repository, without tag, as
    /// cosign writes it (`index.docker.io/library/debian`).
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`: what the signature is about.
    pub manifest_digest: Digest,
    /// `optional`: free-form claims (`-a key=value` annotations). `None` is
    /// written as `null`, as cosign does when no annotation is given.
    pub optional: Option<BTreeMap<String, Value>>,
}

impl SimpleSigningPayload {
    /// A payload with the given annotations (empty annotations give `"optional":null`).
    pub fn new(
        docker_reference: impl Into<String>,
        manifest_digest: Digest,
        annotations: &BTreeMap<String, String>,
    ) -> Self {
        let optional = (!annotations.is_empty()).then(|| {
            annotations
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect()
        });
        Self {
            docker_reference: docker_reference.into(),
            manifest_digest,
            optional,
        }
    }

    /// The exact bytes cosign would sign for this payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(256);
        out.push_str(r#"{"critical":{"identity":{"docker-reference":"#);
        gojson::write_str(&mut out, &self.docker_reference);
        out.push_str(r#"},"image":{"docker-manifest-digest":"#);
        gojson::write_str(&mut out, &self.manifest_digest.to_string());
        out.push_str(r#"},"type":"#);
        gojson::write_str(&mut out, COSIGN_SIGNATURE_TYPE);
        out.push_str(r#"},"optional":"#);
        match &self.optional {
            None => out.push_str("null"),
            Some(map) => {
                gojson::write_value(&mut out, &Value::Object(map.clone().into_iter().collect()))
            }
        }
        out.push('}');
        out.into_bytes()
    }

    /// Reads a payload written by any cosign-compatible tool.
    ///
    /// Checks the shape and the `type`; whether the digest is the right one is
    /// a policy question and left to the verifier.
    pub fn parse(bytes: &[u8]) -> Result<Self, FormatError> {
        const WHAT: &str = "simple-signing payload";
        if bytes.len() > MAX_PAYLOAD_BYTES {
            return Err(FormatError::TooLarge {
                what: WHAT,
                size: bytes.len(),
                limit: MAX_PAYLOAD_BYTES,
            });
        }
        #[derive(Deserialize)]
        struct Raw {
            critical: Critical,
            #[serde(default)]
            optional: Option<BTreeMap<String, Value>>,
        }
        #[derive(Deserialize)]
        struct Critical {
            identity: Identity,
            image: Image,
            #[serde(rename = "type")]
            kind: String,
        }
        #[derive(Deserialize)]
        struct Identity {
            #[serde(rename = "docker-reference")]
            docker_reference: String,
        }
        #[derive(Deserialize)]
        struct Image {
            #[serde(rename = "docker-manifest-digest")]
            docker_manifest_digest: String,
        }
        let raw: Raw =
            serde_json::from_slice(bytes).map_err(|e| FormatError::malformed(WHAT, e))?;
        if raw.critical.kind != COSIGN_SIGNATURE_TYPE {
            return Err(FormatError::malformed(
                WHAT,
                format!(
                    "critical.type is {:?}, expected {COSIGN_SIGNATURE_TYPE:?}",
                    crate::digest::truncate(&raw.critical.kind)
                ),
            ));
        }
        let manifest_digest = raw
            .critical
            .image
            .docker_manifest_digest
            .parse()
            .map_err(|e| FormatError::malformed(WHAT, e))?;
        Ok(Self {
            docker_reference: raw.critical.identity.docker_reference,
            manifest_digest,
            optional: raw.optional,
        })
    }

    /// The `optional` entry `key`, if it is a string.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.optional.as_ref()?.get(key)?.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn digest() -> Digest {
        "sha256:7b8d3e3a3b2f0c1e2d4a5b6c7d8e9f00112233445566778899aabbccddeeff00"
            .parse()
            .unwrap()
    }

    #[test]
    fn golden_bytes_without_annotations() {
        let p = SimpleSigningPayload::new("127.0.0.1:5000/test/app", digest(), &BTreeMap::new());
        assert_eq!(
            String::from_utf8(p.to_bytes()).unwrap(),
            r#"{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/test/app"},"image":{"docker-manifest-digest":"sha256:7b8d3e3a3b2f0c1e2d4a5b6c7d8e9f00112233445566778899aabbccddeeff00"},"type":"cosign container image signature"},"optional":null}"#
        );
    }

    #[test]
    fn golden_bytes_with_annotations_sorted_and_escaped() {
        let ann = BTreeMap::from([
            ("team".to_owned(), "a&b".to_owned()),
            ("env".to_owned(), "<prod>".to_owned()),
        ]);
        let p = SimpleSigningPayload::new("r/x", digest(), &ann);
        let s = String::from_utf8(p.to_bytes()).unwrap();
        assert!(
            s.ends_with(r#""optional":{"env":"\u003cprod\u003e","team":"a\u0026b"}}"#),
            "{s}"
        );
        assert_eq!(SimpleSigningPayload::parse(s.as_bytes()).unwrap(), p);
    }

    #[test]
    fn reproduces_cosign_payload_bytes() {
        let image: Digest =
            "sha256:93f5d47fa214f1dbbc03515986d42acd9a00c610bfc7b024c7c850446f6c1dd6"
                .parse()
                .unwrap();
        let plain =
            SimpleSigningPayload::new("127.0.0.1:32955/test/app", image.clone(), &BTreeMap::new());
        assert_eq!(
            plain.to_bytes(),
            include_bytes!("../../../tests/vectors/cosign-2.5/image.sig.payload-1.json")
        );
        let ann = BTreeMap::from([
            ("env".to_owned(), "prod".to_owned()),
            ("team".to_owned(), "a&b".to_owned()),
        ]);
        let annotated = SimpleSigningPayload::new("127.0.0.1:32955/test/app", image, &ann);
        assert_eq!(
            annotated.to_bytes(),
            include_bytes!("../../../tests/vectors/cosign-2.5/image.sig.payload-2.json")
        );
    }

    #[test]
    fn reads_skopeo_payload() {
        let s = r#"{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/test/signed:v1"},"image":{"docker-manifest-digest":"sha256:7b8d3e3a3b2f0c1e2d4a5b6c7d8e9f00112233445566778899aabbccddeeff00"},"type":"cosign container image signature"},"optional":{"creator":"containers/image 5.34.2","timestamp":1700000000}}"#;
        let p = SimpleSigningPayload::parse(s.as_bytes()).unwrap();
        assert_eq!(p.annotation("creator"), Some("containers/image 5.34.2"));
        assert_eq!(p.manifest_digest, digest());
    }

    #[test]
    fn rejects_wrong_type() {
        let s = r#"{"critical":{"identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":"sha256:7b8d3e3a3b2f0c1e2d4a5b6c7d8e9f00112233445566778899aabbccddeeff00"},"type":"atomic container signature"},"optional":null}"#;
        assert!(SimpleSigningPayload::parse(s.as_bytes()).is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = SimpleSigningPayload::parse(&bytes);
        }

        #[test]
        fn round_trips(reference in "[a-z0-9./:<>&-]{1,40}", k in "[a-z&<]{1,8}", v in ".{0,20}") {
            let ann = BTreeMap::from([(k, v)]);
            let p = SimpleSigningPayload::new(reference, digest(), &ann);
            prop_assert_eq!(SimpleSigningPayload::parse(&p.to_bytes()).unwrap(), p);
        }
    }
}
