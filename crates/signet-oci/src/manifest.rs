//! Lenient serde types for OCI and Docker v2 image manifests and indexes.
//!
//! Only what signet reads is modelled; unknown fields are ignored and most
//! fields are optional, because registries and tools disagree on the details.
//! Digests are strict (`sha256:` only) since everything downstream compares them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use signet_core::Digest;
use thiserror::Error;

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker v2 schema 2 manifest.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker v2 manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// Every manifest media type signet asks registries for, in preference order.
pub const ACCEPTED_MEDIA_TYPES: [&str; 4] = [
    OCI_MANIFEST,
    OCI_INDEX,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
];

/// Whether `media_type` is a multi-platform index / manifest list.
pub fn is_index(media_type: &str) -> bool {
    matches!(media_type, OCI_INDEX | DOCKER_MANIFEST_LIST)
}

/// Whether `media_type` is a single-image manifest.
pub fn is_image_manifest(media_type: &str) -> bool {
    matches!(media_type, OCI_MANIFEST | DOCKER_MANIFEST)
}

/// A manifest that does not parse.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ManifestError {
    /// Not JSON of the expected shape.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// `image manifest` or `image index`.
        what: &'static str,
        /// The parser's complaint (one line).
        reason: String,
    },
    /// A Docker schema 1 manifest or some other unsupported version.
    #[error("unsupported {what} schemaVersion {version} (only 2 is supported)")]
    UnsupportedSchema {
        /// `image manifest` or `image index`.
        what: &'static str,
        /// The version found.
        version: u64,
    },
}

/// A content descriptor as it appears in manifests and indexes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OciDescriptor {
    /// Media type of the referenced content (empty if the document omitted it).
    #[serde(default)]
    pub media_type: String,
    /// Content digest.
    pub digest: Digest,
    /// Content size in bytes.
    #[serde(default)]
    pub size: u64,
    /// Platform, for index entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Artifact type, for index entries of artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

/// An index entry's platform.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Platform {
    /// CPU architecture (`amd64`, `arm64`, …).
    #[serde(default)]
    pub architecture: String,
    /// Operating system (`linux`, `windows`, …).
    #[serde(default)]
    pub os: String,
    /// CPU variant (`v8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// OS version (Windows).
    #[serde(
        default,
        rename = "os.version",
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// OS features.
    #[serde(
        default,
        rename = "os.features",
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
}

/// A single-image manifest (OCI or Docker v2 schema 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u64,
    /// The manifest's own media type, if it states one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Artifact type (OCI 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: OciDescriptor,
    /// The layers (for cosign signatures: one layer per signature).
    #[serde(default)]
    pub layers: Vec<OciDescriptor>,
    /// The manifest this one refers to (OCI 1.1 referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<OciDescriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// A multi-platform index (OCI image index or Docker manifest list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u64,
    /// The index's own media type, if it states one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The child manifests.
    #[serde(default)]
    pub manifests: Vec<OciDescriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// Parses an image manifest.
pub fn parse_image_manifest(bytes: &[u8]) -> Result<ImageManifest, ManifestError> {
    const WHAT: &str = "image manifest";
    let m: ImageManifest = parse(WHAT, bytes)?;
    check_schema(WHAT, m.schema_version)?;
    if m.media_type.as_deref().is_some_and(is_index) {
        return Err(malformed(WHAT, "document declares an index media type"));
    }
    Ok(m)
}

/// Parses an image index or Docker manifest list.
pub fn parse_index(bytes: &[u8]) -> Result<ImageIndex, ManifestError> {
    const WHAT: &str = "image index";
    let i: ImageIndex = parse(WHAT, bytes)?;
    check_schema(WHAT, i.schema_version)?;
    if i.media_type.as_deref().is_some_and(is_image_manifest) {
        return Err(malformed(
            WHAT,
            "document declares an image manifest media type",
        ));
    }
    Ok(i)
}

fn parse<T: serde::de::DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, ManifestError> {
    serde_json::from_slice(bytes).map_err(|e| malformed(what, e))
}

fn check_schema(what: &'static str, version: u64) -> Result<(), ManifestError> {
    if version == 2 {
        Ok(())
    } else {
        Err(ManifestError::UnsupportedSchema { what, version })
    }
}

fn malformed(what: &'static str, reason: impl ToString) -> ManifestError {
    ManifestError::Malformed {
        what,
        reason: crate::text::snippet(&reason.to_string(), 200),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const D1: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const D2: &str = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

    #[test]
    fn parses_cosign_signature_manifest() {
        let json = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}",
              "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,"digest":"{D1}"}},
              "layers":[{{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":250,"digest":"{D2}",
                 "annotations":{{"dev.cosignproject.cosign/signature":"MEUC"}}}}],
              "extra": {{"ignored": true}}}}"#
        );
        let m = parse_image_manifest(json.as_bytes()).unwrap();
        assert_eq!(m.config.size, 233);
        assert_eq!(m.layers.len(), 1);
        assert_eq!(m.layers[0].digest.to_string(), D2);
        let ann = m.layers[0].annotations.as_ref().unwrap();
        assert_eq!(ann["dev.cosignproject.cosign/signature"], "MEUC");
        let back: ImageManifest = serde_json::from_slice(&serde_json::to_vec(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn parses_docker_manifest_list() {
        let json = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST_LIST}","manifests":[
                {{"mediaType":"{DOCKER_MANIFEST}","size":1,"digest":"{D1}","platform":{{"architecture":"amd64","os":"linux"}}}},
                {{"mediaType":"{DOCKER_MANIFEST}","size":2,"digest":"{D2}","platform":{{"architecture":"arm64","os":"linux","variant":"v8","os.features":["x"]}}}}]}}"#
        );
        let i = parse_index(json.as_bytes()).unwrap();
        assert_eq!(i.manifests.len(), 2);
        let p = i.manifests[1].platform.as_ref().unwrap();
        assert_eq!(
            (p.architecture.as_str(), p.variant.as_deref()),
            ("arm64", Some("v8"))
        );
        assert_eq!(p.os_features.as_deref(), Some(&["x".to_owned()][..]));
        assert!(is_index(DOCKER_MANIFEST_LIST) && is_index(OCI_INDEX) && !is_index(OCI_MANIFEST));
    }

    #[test]
    fn rejects_wrong_documents() {
        assert!(parse_image_manifest(b"").is_err());
        assert!(parse_image_manifest(b"[]").is_err());
        assert!(parse_image_manifest(br#"{"schemaVersion":2}"#).is_err());
        let v1 = format!(r#"{{"schemaVersion":1,"config":{{"digest":"{D1}"}}}}"#);
        assert_eq!(
            parse_image_manifest(v1.as_bytes()),
            Err(ManifestError::UnsupportedSchema {
                what: "image manifest",
                version: 1
            })
        );
        let bad_digest = r#"{"schemaVersion":2,"config":{"digest":"sha512:00"}}"#;
        assert!(parse_image_manifest(bad_digest.as_bytes()).is_err());
        let index_as_manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","config":{{"digest":"{D1}"}}}}"#
        );
        assert!(parse_image_manifest(index_as_manifest.as_bytes()).is_err());
        let manifest_as_index =
            format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","manifests":[]}}"#);
        assert!(parse_index(manifest_as_index.as_bytes()).is_err());
        let msg = parse_index(b"{\n\"schemaVersion\": \"two\"}")
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("malformed image index") && !msg.contains('\n'),
            "{msg}"
        );
    }

    proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_image_manifest(&bytes);
            let _ = parse_index(&bytes);
        }

        #[test]
        fn parsers_never_panic_on_json_like(s in "[{}\\[\\]\":,a-zA-Z0-9 ]{0,200}") {
            let _ = parse_image_manifest(s.as_bytes());
            let _ = parse_index(s.as_bytes());
        }
    }
}
