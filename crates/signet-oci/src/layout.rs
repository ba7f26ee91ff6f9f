//! OCI image layouts on disk, as `cosign save --dir DIR IMAGE` writes them:
//! `index.json` lists the image (annotated `kind:
//! dev.cosignproject.cosign/image`, or `…/imageIndex` for an index) and its
//! signature manifest (`kind: dev.cosignproject.cosign/sigs`), with every
//! blob under `blobs/sha256/`.
//!
//! The directory is untrusted input: every file is read with a cap and every
//! blob is checked against its digest.

use std::io::Read;
use std::path::{Path, PathBuf};

use signet_core::Digest;
use signet_core::limits::{MAX_MANIFEST_BYTES, MAX_PAYLOAD_BYTES};
use signet_core::signature_manifest::SignatureManifest;
use thiserror::Error;

use signet_core::signature_manifest::Layer;

use crate::manifest::parse_index;

/// The index.json annotation cosign marks each saved entity with.
pub const KIND_ANNOTATION: &str = "kind";
/// `kind` of a saved single-platform image.
pub const KIND_IMAGE: &str = "dev.cosignproject.cosign/image";
/// `kind` of a saved image index.
pub const KIND_IMAGE_INDEX: &str = "dev.cosignproject.cosign/imageIndex";
/// `kind` of the saved signature manifest.
pub const KIND_SIGNATURES: &str = "dev.cosignproject.cosign/sigs";

/// Reading a layout failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// A file could not be read.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// A file holds something other than what the layout promises.
    #[error("{path}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// `index.json` names no image that `cosign save` wrote.
    #[error(
        "{0}: no image saved by cosign (no index.json entry of kind {KIND_IMAGE} or {KIND_IMAGE_INDEX})"
    )]
    NoImage(PathBuf),
}

/// An image as `cosign save` left it: its digest and its signatures.
#[derive(Debug)]
pub struct SavedImage {
    /// The saved image's (or index's) manifest digest.
    pub digest: Digest,
    /// Every simple-signing layer of its signature manifest, with the
    /// payload read; empty if the layout holds no signatures.
    pub signatures: Vec<SavedSignature>,
}

/// One signature layer of a saved image and its payload.
#[derive(Debug)]
pub struct SavedSignature {
    /// `DIR signature layer N`, for messages.
    pub origin: String,
    /// The layer descriptor with its annotations.
    pub layer: Layer,
    /// The payload blob, or why it could not be read.
    pub payload: Result<Vec<u8>, LayoutError>,
}

/// An OCI image layout directory.
#[derive(Debug, Clone)]
pub struct OciLayout {
    dir: PathBuf,
}

impl OciLayout {
    /// The layout in `dir` (which must hold `index.json`).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, LayoutError> {
        let dir = dir.into();
        let index = dir.join("index.json");
        if !index.is_file() {
            return Err(LayoutError::Malformed {
                path: dir,
                reason: "not an OCI image layout (no index.json)".into(),
            });
        }
        Ok(Self { dir })
    }

    /// The layout's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The blob `digest`, at most `limit` bytes, checked against its digest.
    pub fn read_blob(&self, digest: &Digest, limit: usize) -> Result<Vec<u8>, LayoutError> {
        let path = self.dir.join("blobs").join("sha256").join(digest.hex());
        let bytes = read_capped(&path, limit)?;
        let actual = Digest::sha256_of(&bytes);
        if &actual != digest {
            return Err(LayoutError::Malformed {
                path,
                reason: format!("content has digest {actual}, expected {digest}"),
            });
        }
        Ok(bytes)
    }

    /// The image `cosign save` wrote, and its signatures.
    pub fn cosign_saved_image(&self) -> Result<SavedImage, LayoutError> {
        let index_path = self.dir.join("index.json");
        let index_bytes = read_capped(&index_path, MAX_MANIFEST_BYTES)?;
        let index = parse_index(&index_bytes).map_err(|e| LayoutError::Malformed {
            path: index_path.clone(),
            reason: e.to_string(),
        })?;
        let kind = |d: &&crate::manifest::OciDescriptor| {
            d.annotations
                .as_ref()
                .and_then(|a| a.get(KIND_ANNOTATION))
                .cloned()
        };
        // An index wins over an image, as cosign looks for it first.
        let image = index
            .manifests
            .iter()
            .find(|d| kind(d).as_deref() == Some(KIND_IMAGE_INDEX))
            .or_else(|| {
                index
                    .manifests
                    .iter()
                    .find(|d| kind(d).as_deref() == Some(KIND_IMAGE))
            })
            .ok_or_else(|| LayoutError::NoImage(self.dir.clone()))?;
        // The digest signed is the manifest's; make sure the bytes are there.
        self.read_blob(&image.digest, MAX_MANIFEST_BYTES)?;
        let Some(sigs) = index
            .manifests
            .iter()
            .find(|d| kind(d).as_deref() == Some(KIND_SIGNATURES))
        else {
            return Ok(SavedImage {
                digest: image.digest.clone(),
                signatures: Vec::new(),
            });
        };
        let manifest_bytes = self.read_blob(&sigs.digest, MAX_MANIFEST_BYTES)?;
        let manifest =
            SignatureManifest::parse(&manifest_bytes).map_err(|e| LayoutError::Malformed {
                path: self.blob_path(&sigs.digest),
                reason: e.to_string(),
            })?;
        let signatures = manifest
            .layers
            .into_iter()
            .enumerate()
            .filter(|(_, layer)| layer.is_signature())
            .map(|(i, layer)| {
                let payload = if layer.size > MAX_PAYLOAD_BYTES as u64 {
                    Err(LayoutError::Malformed {
                        path: self.blob_path(&layer.digest),
                        reason: format!(
                            "payload of {} bytes, larger than the limit of {MAX_PAYLOAD_BYTES}",
                            layer.size
                        ),
                    })
                } else {
                    self.read_blob(&layer.digest, MAX_PAYLOAD_BYTES)
                };
                SavedSignature {
                    origin: format!("{} signature layer {}", self.dir.display(), i + 1),
                    layer,
                    payload,
                }
            })
            .collect();
        Ok(SavedImage {
            digest: image.digest.clone(),
            signatures,
        })
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.dir.join("blobs").join("sha256").join(digest.hex())
    }
}

fn read_capped(path: &Path, limit: usize) -> Result<Vec<u8>, LayoutError> {
    let io = |error| LayoutError::Io {
        path: path.to_owned(),
        error,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() > limit {
        return Err(LayoutError::Malformed {
            path: path.to_owned(),
            reason: format!("larger than the limit of {limit} bytes"),
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        dir: tempfile::TempDir,
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("blobs/sha256")).unwrap();
            std::fs::write(
                dir.path().join("oci-layout"),
                r#"{"imageLayoutVersion":"1.0.0"}"#,
            )
            .unwrap();
            Self { dir }
        }

        fn blob(&self, bytes: &[u8]) -> Digest {
            let digest = Digest::sha256_of(bytes);
            std::fs::write(
                self.dir.path().join("blobs/sha256").join(digest.hex()),
                bytes,
            )
            .unwrap();
            digest
        }

        fn index(&self, entries: &[(&Digest, usize, &str)]) {
            let manifests: Vec<_> = entries
                .iter()
                .map(|(d, size, kind)| {
                    serde_json::json!({
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": d.to_string(), "size": size,
                        "annotations": {"kind": kind}
                    })
                })
                .collect();
            let index = serde_json::json!({"schemaVersion": 2, "manifests": manifests});
            std::fs::write(self.dir.path().join("index.json"), index.to_string()).unwrap();
        }
    }

    fn signature_manifest(payload: &Digest, size: usize) -> Vec<u8> {
        serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                       "digest": Digest::sha256_of(b"{}").to_string()},
            "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                        "size": size, "digest": payload.to_string(),
                        "annotations": {"dev.cosignproject.cosign/signature": "MEUCIQ=="}}]
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn reads_the_saved_image_and_its_signatures() {
        let f = Fixture::new();
        let image = br#"{"schemaVersion":2}"#;
        let image_digest = f.blob(image);
        let payload = b"payload bytes";
        let payload_digest = f.blob(payload);
        let sigs = signature_manifest(&payload_digest, payload.len());
        let sigs_digest = f.blob(&sigs);
        f.index(&[
            (&image_digest, image.len(), KIND_IMAGE),
            (&sigs_digest, sigs.len(), KIND_SIGNATURES),
        ]);
        let saved = OciLayout::open(f.dir.path())
            .unwrap()
            .cosign_saved_image()
            .unwrap();
        assert_eq!(saved.digest, image_digest);
        assert_eq!(saved.signatures.len(), 1);
        assert_eq!(saved.signatures[0].payload.as_ref().unwrap(), payload);
    }

    #[test]
    fn missing_tampered_and_unsaved_content_is_an_error_or_absent() {
        let f = Fixture::new();
        assert!(OciLayout::open(f.dir.path()).is_err(), "no index.json");
        let image = br#"{"schemaVersion":2}"#;
        let image_digest = f.blob(image);
        // No signatures saved: an empty list, not an error.
        f.index(&[(&image_digest, image.len(), KIND_IMAGE)]);
        let layout = OciLayout::open(f.dir.path()).unwrap();
        assert!(layout.cosign_saved_image().unwrap().signatures.is_empty());
        // A blob whose bytes were changed.
        std::fs::write(
            f.dir.path().join("blobs/sha256").join(image_digest.hex()),
            b"changed",
        )
        .unwrap();
        let err = layout.cosign_saved_image().unwrap_err().to_string();
        assert!(err.contains("expected"), "{err}");
        // An index.json from some other tool.
        f.index(&[(&image_digest, image.len(), "something-else")]);
        assert!(matches!(
            layout.cosign_saved_image(),
            Err(LayoutError::NoImage(_))
        ));
        // A missing signature payload is kept as that layer's error.
        let image_digest = f.blob(image);
        let absent = Digest::sha256_of(b"never written");
        let sigs = signature_manifest(&absent, 13);
        let sigs_digest = f.blob(&sigs);
        f.index(&[
            (&image_digest, image.len(), KIND_IMAGE),
            (&sigs_digest, sigs.len(), KIND_SIGNATURES),
        ]);
        let saved = layout.cosign_saved_image().unwrap();
        assert!(saved.signatures[0].payload.is_err());
        // index.json of garbage.
        std::fs::write(f.dir.path().join("index.json"), b"\x00garbage").unwrap();
        assert!(layout.cosign_saved_image().is_err());
    }
}
