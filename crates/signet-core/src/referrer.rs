//! Sigstore bundles as OCI 1.1 referrers, in cosign 3's layout, and the
//! `sha256-<hex>` fallback index registries without the referrers API need.
//!
//! The referrer manifest (byte for byte as cosign writes it; the
//! `artifactType` inside the config descriptor is a cosign quirk kept for
//! identical output):
//!
//! ```text
//! {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
//!  "config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136f…","artifactType":"<bundle type>"},
//!  "layers":[{"mediaType":"<bundle type>","size":N,"digest":"sha256:…"}],
//!  "annotations":{"dev.sigstore.bundle.content":"dsse-envelope","dev.sigstore.bundle.predicateType":"…","org.opencontainers.image.created":"…"},
//!  "subject":{"mediaType":"…","size":N,"digest":"sha256:…"},
//!  "artifactType":"<bundle type>"}
//! ```
//!
//! The fallback index (OCI distribution spec, "referrers tag schema") is an
//! image index tagged `sha256-<hex>` whose entries are the referrers'
//! descriptors with their `artifactType`. Adding an entry keeps every entry
//! another writer put there, verbatim, and orders them by digest.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::digest::Digest;
use crate::error::FormatError;
use crate::protojson;

/// The media type of an OCI image manifest.
pub const OCI_MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The media type of an OCI image index.
pub const OCI_INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// The media type of the empty JSON config.
pub const EMPTY_JSON_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// The empty JSON config blob.
pub const EMPTY_JSON: &[u8] = b"{}";
/// Annotation naming what the bundle carries (`dsse-envelope` or
/// `message-signature`).
pub const BUNDLE_CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";
/// Annotation naming the in-toto predicate type of a DSSE bundle.
pub const BUNDLE_PREDICATE_TYPE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";
/// The OCI creation-time annotation.
pub const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";
/// The most entries signet keeps in one fallback index.
pub const MAX_FALLBACK_ENTRIES: usize = 10_000;

const WHAT: &str = "referrers index";

/// What a descriptor points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentDescriptor {
    /// Its media type.
    pub media_type: String,
    /// Its digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
}

/// A referrer manifest carrying one Sigstore bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleReferrer {
    /// The bundle's media type (also the artifact type).
    pub bundle_media_type: String,
    /// The bundle blob's digest.
    pub bundle_digest: Digest,
    /// The bundle blob's size.
    pub bundle_size: u64,
    /// The image the bundle signs.
    pub subject: ContentDescriptor,
    /// `dsse-envelope` or `message-signature`.
    pub content: String,
    /// The predicate type of a DSSE bundle's statement.
    pub predicate_type: Option<String>,
    /// The creation time, RFC 3339 UTC in seconds.
    pub created: String,
}

fn descriptor_json(out: &mut String, media_type: &str, size: u64, digest: &Digest) {
    out.push_str("{\"mediaType\":");
    protojson::string(out, media_type);
    out.push_str(&format!(",\"size\":{size},\"digest\":\"{digest}\""));
}

impl BundleReferrer {
    /// The manifest bytes, in cosign's field order.
    pub fn manifest_bytes(&self) -> Vec<u8> {
        let mut out = String::from("{\"schemaVersion\":2,\"mediaType\":");
        protojson::string(&mut out, OCI_MANIFEST_MEDIA_TYPE);
        out.push_str(",\"config\":");
        descriptor_json(
            &mut out,
            EMPTY_JSON_MEDIA_TYPE,
            EMPTY_JSON.len() as u64,
            &Digest::sha256_of(EMPTY_JSON),
        );
        out.push_str(",\"artifactType\":");
        protojson::string(&mut out, &self.bundle_media_type);
        out.push_str("},\"layers\":[");
        descriptor_json(
            &mut out,
            &self.bundle_media_type,
            self.bundle_size,
            &self.bundle_digest,
        );
        out.push_str("}],\"annotations\":{");
        let mut annotations = BTreeMap::new();
        annotations.insert(BUNDLE_CONTENT_ANNOTATION, self.content.as_str());
        if let Some(p) = &self.predicate_type {
            annotations.insert(BUNDLE_PREDICATE_TYPE_ANNOTATION, p.as_str());
        }
        annotations.insert(CREATED_ANNOTATION, self.created.as_str());
        for (i, (k, v)) in annotations.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            protojson::string(&mut out, k);
            out.push(':');
            protojson::string(&mut out, v);
        }
        out.push_str("},\"subject\":");
        descriptor_json(
            &mut out,
            &self.subject.media_type,
            self.subject.size,
            &self.subject.digest,
        );
        out.push_str("},\"artifactType\":");
        protojson::string(&mut out, &self.bundle_media_type);
        out.push('}');
        out.into_bytes()
    }

    /// The index entry for this referrer, whose manifest is `manifest`.
    pub fn index_entry(&self, manifest: &[u8]) -> ReferrerEntry {
        ReferrerEntry {
            media_type: OCI_MANIFEST_MEDIA_TYPE.to_owned(),
            digest: Digest::sha256_of(manifest),
            size: manifest.len() as u64,
            artifact_type: Some(self.bundle_media_type.clone()),
        }
    }
}

/// The prefix of every Sigstore bundle media type (and of the artifact type
/// of a referrer that carries one).
pub const BUNDLE_MEDIA_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";

/// Whether a referrer's artifact type says it carries a Sigstore bundle.
pub fn is_bundle_artifact_type(artifact_type: Option<&str>) -> bool {
    artifact_type.is_some_and(|t| t.starts_with(BUNDLE_MEDIA_TYPE_PREFIX))
}

/// The bundle layer of a referrer manifest: its one layer whose media type
/// is a Sigstore bundle's (cosign 3 and signet write exactly one).
pub fn bundle_layer(manifest: &[u8]) -> Result<ContentDescriptor, FormatError> {
    const WHAT: &str = "bundle referrer manifest";
    if manifest.len() > crate::limits::MAX_MANIFEST_BYTES {
        return Err(FormatError::TooLarge {
            what: WHAT,
            size: manifest.len(),
            limit: crate::limits::MAX_MANIFEST_BYTES,
        });
    }
    let value: Value =
        serde_json::from_slice(manifest).map_err(|e| FormatError::malformed(WHAT, e))?;
    let layers = value
        .get("layers")
        .and_then(Value::as_array)
        .ok_or_else(|| FormatError::malformed(WHAT, "no layers"))?;
    let mut bundles = layers.iter().filter(|l| {
        l.get("mediaType")
            .and_then(Value::as_str)
            .is_some_and(|t| t.starts_with(BUNDLE_MEDIA_TYPE_PREFIX))
    });
    let (Some(layer), None) = (bundles.next(), bundles.next()) else {
        return Err(FormatError::malformed(
            WHAT,
            "expected exactly one Sigstore bundle layer",
        ));
    };
    let digest = layer
        .get("digest")
        .and_then(Value::as_str)
        .ok_or_else(|| FormatError::malformed(WHAT, "the bundle layer has no digest"))?
        .parse::<Digest>()
        .map_err(|e| FormatError::malformed(WHAT, e))?;
    Ok(ContentDescriptor {
        media_type: layer
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        digest,
        size: layer.get("size").and_then(Value::as_u64).unwrap_or(0),
    })
}

/// The fallback tag of a subject: `sha256-<hex>`.
pub fn fallback_tag(subject: &Digest) -> String {
    format!("sha256-{}", subject.hex())
}

/// One entry of a referrers index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferrerEntry {
    /// The referrer manifest's media type.
    pub media_type: String,
    /// Its digest.
    pub digest: Digest,
    /// Its size.
    pub size: u64,
    /// Its artifact type, if given.
    pub artifact_type: Option<String>,
}

fn entry_of(value: &Value) -> Result<ReferrerEntry, FormatError> {
    let text = |field: &str| value.get(field).and_then(Value::as_str);
    let digest = text("digest")
        .ok_or_else(|| FormatError::malformed(WHAT, "an entry has no digest"))?
        .parse::<Digest>()
        .map_err(|e| FormatError::malformed(WHAT, e))?;
    Ok(ReferrerEntry {
        media_type: text("mediaType").unwrap_or_default().to_owned(),
        digest,
        size: value.get("size").and_then(Value::as_u64).unwrap_or(0),
        artifact_type: text("artifactType").map(str::to_owned),
    })
}

fn read_index(bytes: &[u8]) -> Result<Map<String, Value>, FormatError> {
    if bytes.len() > crate::limits::MAX_MANIFEST_BYTES {
        return Err(FormatError::TooLarge {
            what: WHAT,
            size: bytes.len(),
            limit: crate::limits::MAX_MANIFEST_BYTES,
        });
    }
    match serde_json::from_slice::<Value>(bytes).map_err(|e| FormatError::malformed(WHAT, e))? {
        Value::Object(map) => Ok(map),
        _ => Err(FormatError::malformed(WHAT, "not a JSON object")),
    }
}

fn manifests(map: &Map<String, Value>) -> Result<&[Value], FormatError> {
    match map.get("manifests") {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) if a.len() <= MAX_FALLBACK_ENTRIES => Ok(a),
        Some(Value::Array(a)) => Err(FormatError::malformed(
            WHAT,
            format!("{} entries, more than {MAX_FALLBACK_ENTRIES}", a.len()),
        )),
        Some(_) => Err(FormatError::malformed(WHAT, "manifests is not a list")),
    }
}

/// The entries of a referrers index (the API's answer or a fallback tag).
pub fn parse_referrers_index(bytes: &[u8]) -> Result<Vec<ReferrerEntry>, FormatError> {
    let map = read_index(bytes)?;
    manifests(&map)?.iter().map(entry_of).collect()
}

/// `existing` (a fallback index, if there is one) with `entry` added, every
/// other entry kept as it was, entries ordered by digest. Returns `None` if
/// the index already lists the entry.
pub fn index_with_entry(
    existing: Option<&[u8]>,
    entry: &ReferrerEntry,
) -> Result<Option<Vec<u8>>, FormatError> {
    let mut map = match existing {
        Some(bytes) => read_index(bytes)?,
        None => Map::new(),
    };
    let mut entries = manifests(&map)?.to_vec();
    for e in &entries {
        if entry_of(e)?.digest == entry.digest {
            return Ok(None);
        }
    }
    if entries.len() >= MAX_FALLBACK_ENTRIES {
        return Err(FormatError::malformed(
            WHAT,
            format!("the index already lists {MAX_FALLBACK_ENTRIES} referrers"),
        ));
    }
    let mut new = Map::new();
    new.insert("mediaType".into(), entry.media_type.clone().into());
    new.insert("size".into(), entry.size.into());
    new.insert("digest".into(), entry.digest.to_string().into());
    if let Some(t) = &entry.artifact_type {
        new.insert("artifactType".into(), t.clone().into());
    }
    entries.push(Value::Object(new));
    entries.sort_by(|a, b| {
        let d = |v: &Value| {
            v.get("digest")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        d(a).cmp(&d(b))
    });
    map.insert("schemaVersion".into(), 2.into());
    map.insert("mediaType".into(), OCI_INDEX_MEDIA_TYPE.into());
    map.insert("manifests".into(), Value::Array(entries));
    serde_json::to_vec(&Value::Object(map))
        .map(Some)
        .map_err(|e| FormatError::malformed(WHAT, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn referrer() -> BundleReferrer {
        BundleReferrer {
            bundle_media_type: "application/vnd.dev.sigstore.bundle.v0.3+json".into(),
            bundle_digest: Digest::sha256_of(b"bundle"),
            bundle_size: 6,
            subject: ContentDescriptor {
                media_type: OCI_MANIFEST_MEDIA_TYPE.into(),
                digest: Digest::sha256_of(b"image"),
                size: 401,
            },
            content: "dsse-envelope".into(),
            predicate_type: Some("https://sigstore.dev/cosign/sign/v1".into()),
            created: "2026-11-28T02:13:59Z".into(),
        }
    }

    #[test]
    fn the_manifest_has_cosigns_shape() {
        let bytes = referrer().manifest_bytes();
        let expected = format!(
            concat!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
                r#""config":{{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}},"#,
                r#""layers":[{{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","size":6,"digest":"{}"}}],"#,
                r#""annotations":{{"dev.sigstore.bundle.content":"dsse-envelope","dev.sigstore.bundle.predicateType":"https://sigstore.dev/cosign/sign/v1","org.opencontainers.image.created":"2026-11-28T02:13:59Z"}},"#,
                r#""subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":401,"digest":"{}"}},"#,
                r#""artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}}"#
            ),
            Digest::sha256_of(b"bundle"),
            Digest::sha256_of(b"image")
        );
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
    }

    #[test]
    fn entries_are_added_sorted_and_others_kept() {
        let r = referrer();
        let a = r.index_entry(b"manifest a");
        let b = r.index_entry(b"manifest b");
        let first = index_with_entry(None, &a).unwrap().unwrap();
        // Another tool's entry, with an annotation signet does not write.
        let mut foreign: Value = serde_json::from_slice(&first).unwrap();
        foreign["manifests"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"mediaType":"x","size":1,"digest":Digest::sha256_of(b"z").to_string(),"annotations":{"k":"v"}}));
        let foreign = serde_json::to_vec(&foreign).unwrap();
        let both = index_with_entry(Some(&foreign), &b).unwrap().unwrap();
        let entries = parse_referrers_index(&both).unwrap();
        assert_eq!(entries.len(), 3);
        let mut digests: Vec<String> = entries.iter().map(|e| e.digest.to_string()).collect();
        let sorted = {
            let mut s = digests.clone();
            s.sort();
            s
        };
        assert_eq!(digests, sorted);
        digests.dedup();
        assert_eq!(digests.len(), 3);
        let value: Value = serde_json::from_slice(&both).unwrap();
        assert!(
            value["manifests"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["annotations"]["k"] == "v")
        );
        assert_eq!(value["mediaType"], OCI_INDEX_MEDIA_TYPE);
        // Present already: nothing to write.
        assert!(index_with_entry(Some(&both), &a).unwrap().is_none());
        assert_eq!(
            entries
                .iter()
                .filter(|e| e.artifact_type.as_deref() == Some(r.bundle_media_type.as_str()))
                .count(),
            2
        );
    }

    #[test]
    fn malformed_indexes_are_refused() {
        for bad in [
            &b"[]"[..],
            b"{\"manifests\":3}",
            b"{\"manifests\":[{}]}",
            b"nope",
        ] {
            assert!(parse_referrers_index(bad).is_err());
        }
        assert_eq!(
            fallback_tag(&Digest::sha256_of(b"")),
            "sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn the_bundle_layer_is_found_in_what_signet_writes() {
        let r = referrer();
        let layer = bundle_layer(&r.manifest_bytes()).unwrap();
        assert_eq!(layer.digest, r.bundle_digest);
        assert_eq!(layer.size, 6);
        assert!(is_bundle_artifact_type(Some(&r.bundle_media_type)));
        assert!(!is_bundle_artifact_type(Some("application/spdx+json")));
        assert!(!is_bundle_artifact_type(None));
        // No bundle layer, two bundle layers, no digest: refused.
        for bad in [
            r#"{"layers":[]}"#,
            r#"{"layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","digest":"sha256:00"}]}"#,
            r#"{"layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}]}"#,
            r#"{"layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}]}"#,
            "[]",
        ] {
            assert!(bundle_layer(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_parse_or_fail_cleanly(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = bundle_layer(&bytes);
            let _ = parse_referrers_index(&bytes);
            let _ = index_with_entry(Some(&bytes), &referrer().index_entry(b"m"));
        }
    }
}
