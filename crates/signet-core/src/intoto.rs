//! in-toto attestation statements (v0.1 and v1), and the statement
//! `cosign sign` wraps in a DSSE envelope for new-format image signatures.
//!
//! The predicate is kept as raw JSON: a statement is only ever trusted as
//! the exact bytes that were signed, and policy code reads the predicate.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::digest::Digest;
use crate::error::FormatError;
use crate::limits::{MAX_BUNDLE_BYTES, MAX_INTOTO_SUBJECTS, MAX_SUBJECT_DIGESTS};
use crate::protojson::{self, null_as_default};

/// `_type` of in-toto Statement v1.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// `_type` of in-toto Statement v0.1 (still written by `cosign attest`).
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
/// The predicate type of `cosign sign` (v3) image signatures.
pub const COSIGN_SIGN_PREDICATE_TYPE: &str = "https://sigstore.dev/cosign/sign/v1";

/// Which statement version a document declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementVersion {
    /// `https://in-toto.io/Statement/v0.1`
    V01,
    /// `https://in-toto.io/Statement/v1`
    V1,
}

impl StatementVersion {
    /// The `_type` URI.
    pub fn type_uri(self) -> &'static str {
        match self {
            Self::V01 => STATEMENT_V01,
            Self::V1 => STATEMENT_V1,
        }
    }
}

/// A subject (in v1, a ResourceDescriptor): what the statement is about.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The subject's name; may be empty.
    pub name: String,
    /// Digests by algorithm name (`sha256` → lowercase hex).
    pub digest: BTreeMap<String, String>,
    /// ResourceDescriptor annotations as raw JSON, if present.
    pub annotations: Option<Box<RawValue>>,
}

impl PartialEq for Subject {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.digest == other.digest
            && self.annotations.as_ref().map(|a| a.get())
                == other.annotations.as_ref().map(|a| a.get())
    }
}

impl PartialEq for Statement {
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version
            && self.subjects == other.subjects
            && self.predicate_type == other.predicate_type
            && self.predicate.as_ref().map(|p| p.get()) == other.predicate.as_ref().map(|p| p.get())
    }
}

/// An in-toto statement.
#[derive(Debug, Clone)]
pub struct Statement {
    /// The declared version.
    pub version: StatementVersion,
    /// What the statement is about.
    pub subjects: Vec<Subject>,
    /// The predicate type URI.
    pub predicate_type: String,
    /// The predicate as raw JSON, if present.
    pub predicate: Option<Box<RawValue>>,
}

const WHAT: &str = "in-toto statement";

impl Statement {
    /// Reads a statement (v0.1 or v1). Unknown fields are ignored, as the
    /// specification asks; subjects and digests are capped.
    pub fn parse(bytes: &[u8]) -> Result<Self, FormatError> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(FormatError::TooLarge {
                what: WHAT,
                size: bytes.len(),
                limit: MAX_BUNDLE_BYTES,
            });
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            #[serde(rename = "_type")]
            statement_type: String,
            #[serde(default, deserialize_with = "null_as_default")]
            subject: Vec<RawSubject>,
            #[serde(default)]
            predicate_type: String,
            #[serde(default)]
            predicate: Option<Box<RawValue>>,
        }
        #[derive(Deserialize)]
        struct RawSubject {
            #[serde(default)]
            name: Option<String>,
            #[serde(default, deserialize_with = "null_as_default")]
            digest: BTreeMap<String, String>,
            #[serde(default)]
            annotations: Option<Box<RawValue>>,
        }
        let raw: Raw =
            serde_json::from_slice(bytes).map_err(|e| FormatError::malformed(WHAT, e))?;
        let version = match raw.statement_type.as_str() {
            STATEMENT_V1 => StatementVersion::V1,
            STATEMENT_V01 => StatementVersion::V01,
            other => {
                return Err(FormatError::malformed(
                    WHAT,
                    format!(
                        "_type {:?} is not {STATEMENT_V1} or {STATEMENT_V01}",
                        crate::digest::truncate(other)
                    ),
                ));
            }
        };
        if raw.subject.is_empty() {
            return Err(FormatError::malformed(WHAT, "no subject"));
        }
        if raw.subject.len() > MAX_INTOTO_SUBJECTS {
            return Err(FormatError::malformed(
                WHAT,
                format!(
                    "{} subjects, more than the limit of {MAX_INTOTO_SUBJECTS}",
                    raw.subject.len()
                ),
            ));
        }
        if raw.predicate_type.is_empty() {
            return Err(FormatError::malformed(WHAT, "no predicateType"));
        }
        let mut subjects = Vec::with_capacity(raw.subject.len());
        for s in raw.subject {
            if s.digest.len() > MAX_SUBJECT_DIGESTS {
                return Err(FormatError::malformed(
                    WHAT,
                    format!(
                        "a subject has {} digests, more than the limit of {MAX_SUBJECT_DIGESTS}",
                        s.digest.len()
                    ),
                ));
            }
            subjects.push(Subject {
                name: s.name.unwrap_or_default(),
                digest: s.digest,
                annotations: s.annotations.filter(|a| a.get() != "null"),
            });
        }
        Ok(Self {
            version,
            subjects,
            predicate_type: raw.predicate_type,
            predicate: raw.predicate.filter(|p| p.get() != "null"),
        })
    }

    /// The statement `cosign sign` (v3) signs for an image: Statement v1,
    /// one subject with the manifest digest and the `-a` annotations,
    /// predicate type [`COSIGN_SIGN_PREDICATE_TYPE`], empty predicate.
    pub fn cosign_sign(image_digest: &Digest, annotations: &BTreeMap<String, String>) -> Self {
        let mut ann = String::new();
        write_string_object(&mut ann, annotations);
        Self {
            version: StatementVersion::V1,
            subjects: vec![Subject {
                name: String::new(),
                digest: BTreeMap::from([("sha256".to_owned(), image_digest.hex())]),
                annotations: RawValue::from_string(ann).ok(),
            }],
            predicate_type: COSIGN_SIGN_PREDICATE_TYPE.to_owned(),
            predicate: RawValue::from_string("{}".to_owned()).ok(),
        }
    }

    /// Whether some subject carries `digest` as its `sha256`.
    pub fn has_sha256_subject(&self, digest: &Digest) -> bool {
        let hex = digest.hex();
        self.subjects.iter().any(|s| {
            s.digest
                .get("sha256")
                .is_some_and(|d| d.eq_ignore_ascii_case(&hex))
        })
    }

    /// The statement in protobuf-JSON field order (`_type`, `subject`,
    /// `predicateType`, `predicate`), compact. Maps are written with sorted
    /// keys, as protojson does.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"_type\":");
        protojson::string(&mut out, self.version.type_uri());
        out.push_str(",\"subject\":[");
        for (i, s) in self.subjects.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let mut first = true;
            out.push('{');
            if !s.name.is_empty() {
                protojson::key(&mut out, &mut first, "name");
                protojson::string(&mut out, &s.name);
            }
            protojson::key(&mut out, &mut first, "digest");
            write_string_object(&mut out, &s.digest);
            if let Some(a) = &s.annotations {
                protojson::key(&mut out, &mut first, "annotations");
                out.push_str(a.get());
            }
            out.push('}');
        }
        out.push_str("],\"predicateType\":");
        protojson::string(&mut out, &self.predicate_type);
        if let Some(p) = &self.predicate {
            out.push_str(",\"predicate\":");
            out.push_str(p.get());
        }
        out.push('}');
        out
    }
}

fn write_string_object(out: &mut String, map: &BTreeMap<String, String>) {
    out.push('{');
    let mut first = true;
    for (k, v) in map {
        if !first {
            out.push(',');
        }
        first = false;
        protojson::string(out, k);
        out.push(':');
        protojson::string(out, v);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cosign_sign_statement_layout() {
        let d = Digest::sha256_of(b"manifest");
        let s = Statement::cosign_sign(&d, &BTreeMap::new());
        assert_eq!(
            s.to_json(),
            format!(
                r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"digest":{{"sha256":"{}"}},"annotations":{{}}}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{{}}}}"#,
                d.hex()
            )
        );
        let back = Statement::parse(s.to_json().as_bytes()).unwrap();
        assert_eq!(back, s);
        assert!(back.has_sha256_subject(&d));
        assert!(!back.has_sha256_subject(&Digest::sha256_of(b"other")));
    }

    #[test]
    fn reads_v01_and_rejects_other_types() {
        let v01 = br#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"p","subject":[{"name":"x","digest":{"sha256":"ab"}}],"predicate":{"a":[1,2]}}"#;
        let s = Statement::parse(v01).unwrap();
        assert_eq!(s.version, StatementVersion::V01);
        assert_eq!(s.predicate.as_ref().unwrap().get(), r#"{"a":[1,2]}"#);
        for bad in [
            &br#"{"_type":"https://in-toto.io/Statement/v2","predicateType":"p","subject":[{"digest":{}}]}"#[..],
            br#"{"_type":"https://in-toto.io/Statement/v1","predicateType":"p","subject":[]}"#,
            br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{}}]}"#,
        ] {
            assert!(Statement::parse(bad).is_err());
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Statement::parse(&bytes);
        }

        #[test]
        fn round_trips(name in "[a-z/]{0,10}", hex in "[0-9a-f]{0,64}", pt in ".{1,30}") {
            let s = Statement { version: StatementVersion::V1,
                subjects: vec![Subject { name, digest: BTreeMap::from([("sha256".into(), hex)]), annotations: None }],
                predicate_type: pt, predicate: None };
            prop_assert_eq!(Statement::parse(s.to_json().as_bytes()).unwrap(), s);
        }
    }
}
