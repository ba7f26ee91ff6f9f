//! Which manifests are signature artefacts, served without a signature of
//! their own.
//!
//! The decision is made on the manifest's content, never on its tag: a tag
//! that looks like `sha256-<hex>.sig` can name anything, and a runnable
//! image pushed under such a tag must not slip through. A manifest passes
//! when nothing in it can run:
//!
//! - an image manifest whose layers are all signature, attestation or SBOM
//!   documents (cosign's simple-signing payloads, DSSE envelopes, Sigstore
//!   bundles, in-toto statements, Notation signatures, SPDX/CycloneDX);
//! - an index whose entries all carry an `artifactType` (a referrers list,
//!   such as cosign's `sha256-<hex>` fallback index). An index runs nothing
//!   itself, and every manifest it lists is checked on its own when fetched.

use serde::Deserialize;

/// Layer media types that hold signatures and statements about an image,
/// never a filesystem.
const ARTEFACT_LAYER_TYPES: &[&str] = &[
    "application/vnd.dev.cosign.simplesigning.v1+json",
    "application/vnd.dsse.envelope.v1+json",
    "application/vnd.in-toto+json",
    "application/vnd.cncf.notary.signature",
    "application/vnd.oci.empty.v1+json",
    "application/vnd.dev.cosign.artifact.sig.v1+json",
    "text/spdx",
    "text/spdx+json",
    "text/spdx+xml",
    "application/spdx+json",
    "application/vnd.cyclonedx",
    "application/vnd.cyclonedx+json",
    "application/vnd.cyclonedx+xml",
    "application/vnd.syft+json",
];

/// Sigstore bundles in every media-type spelling
/// (`application/vnd.dev.sigstore.bundle+json;version=0.3`,
/// `application/vnd.dev.sigstore.bundle.v0.3+json`).
const SIGSTORE_BUNDLE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";

#[derive(Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    #[serde(rename = "artifactType", default)]
    artifact_type: Option<String>,
}

#[derive(Deserialize)]
struct AnyManifest {
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
}

fn is_artefact_layer(media_type: &str) -> bool {
    ARTEFACT_LAYER_TYPES.contains(&media_type) || media_type.starts_with(SIGSTORE_BUNDLE_PREFIX)
}

/// Whether `manifest` (the bytes as served) is a signature artefact that
/// runs nothing (see the module docs). Bytes that do not parse are not.
pub(crate) fn is_signature_artefact(manifest: &[u8]) -> bool {
    let Ok(parsed) = serde_json::from_slice::<AnyManifest>(manifest) else {
        return false;
    };
    match (parsed.layers, parsed.manifests) {
        (Some(layers), None) => {
            !layers.is_empty() && layers.iter().all(|l| is_artefact_layer(&l.media_type))
        }
        (None, Some(entries)) => {
            !entries.is_empty()
                && entries
                    .iter()
                    .all(|e| e.artifact_type.as_deref().is_some_and(|t| !t.is_empty()))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(layer_types: &[&str]) -> Vec<u8> {
        let layers: Vec<_> = layer_types
            .iter()
            .map(|t| serde_json::json!({"mediaType": t, "digest": "sha256:00", "size": 1}))
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:00", "size": 1},
            "layers": layers,
        }))
        .unwrap()
    }

    #[test]
    fn signature_manifests_pass() {
        assert!(is_signature_artefact(&manifest(&[
            "application/vnd.dev.cosign.simplesigning.v1+json",
            "application/vnd.dev.cosign.simplesigning.v1+json"
        ])));
        assert!(is_signature_artefact(&manifest(&[
            "application/vnd.dsse.envelope.v1+json"
        ])));
        assert!(is_signature_artefact(&manifest(&[
            "application/vnd.dev.sigstore.bundle.v0.3+json"
        ])));
        assert!(is_signature_artefact(&manifest(&[
            "application/vnd.dev.sigstore.bundle+json;version=0.3"
        ])));
    }

    #[test]
    fn anything_runnable_does_not() {
        assert!(!is_signature_artefact(&manifest(&[
            "application/vnd.oci.image.layer.v1.tar+gzip"
        ])));
        // One filesystem layer among signature layers is enough to run.
        assert!(!is_signature_artefact(&manifest(&[
            "application/vnd.dev.cosign.simplesigning.v1+json",
            "application/vnd.docker.image.rootfs.diff.tar.gzip"
        ])));
        assert!(!is_signature_artefact(&manifest(&[])));
        assert!(!is_signature_artefact(b"not json"));
        assert!(!is_signature_artefact(b"{}"));
    }

    #[test]
    fn referrer_indexes_pass_and_image_indexes_do_not() {
        let referrers = serde_json::json!({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json", "digest": "sha256:00", "size": 1}
        ]});
        assert!(is_signature_artefact(
            &serde_json::to_vec(&referrers).unwrap()
        ));
        let images = serde_json::json!({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:00", "size": 1, "platform": {"os": "linux", "architecture": "amd64"}}
        ]});
        assert!(!is_signature_artefact(
            &serde_json::to_vec(&images).unwrap()
        ));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = is_signature_artefact(&bytes);
        }
    }
}
