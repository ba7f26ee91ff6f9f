//! From an image reference to the manifest digests a command works on.

use std::collections::HashSet;

use signet_core::Digest;
use thiserror::Error;

use crate::client::RegistryClient;
use crate::error::RegistryError;
use crate::manifest::{is_index, parse_index};
use crate::reference::Reference;

/// The image itself (not its signatures) could not be looked up.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ImageLookupError {
    /// The tag or digest does not exist (cosign's exit code 11).
    #[error("image {reference} not found")]
    NotFound {
        /// The reference given.
        reference: String,
        /// The registry's answer.
        source: RegistryError,
    },
    /// Any other registry failure.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// `--recursive` met an index it cannot read.
    #[error("{reference}: cannot read image index: {reason}")]
    BadIndex {
        /// The index.
        reference: String,
        /// What is wrong.
        reason: String,
    },
}

/// Resolves `image` to its manifest digest, once. With `recursive`, an image
/// index also yields the digest of every manifest it lists (index first,
/// duplicates dropped); a plain manifest yields just itself.
pub async fn resolve_image(
    client: &RegistryClient,
    image: &Reference,
    recursive: bool,
) -> Result<Vec<Digest>, ImageLookupError> {
    let not_found = |source: RegistryError| {
        if source.is_not_found() {
            ImageLookupError::NotFound {
                reference: image.to_string(),
                source,
            }
        } else {
            ImageLookupError::Registry(source)
        }
    };
    if !recursive {
        return Ok(vec![client.resolve_digest(image).await.map_err(not_found)?]);
    }
    let manifest = client
        .get_manifest(image.repository_ref(), &image.manifest_reference())
        .await
        .map_err(not_found)?;
    let mut digests = vec![manifest.digest.clone()];
    if is_index(&manifest.media_type) {
        let index = parse_index(&manifest.bytes).map_err(|e| ImageLookupError::BadIndex {
            reference: image.to_string(),
            reason: e.to_string(),
        })?;
        let mut seen: HashSet<Digest> = HashSet::from([manifest.digest]);
        for child in index.manifests {
            if seen.insert(child.digest.clone()) {
                digests.push(child.digest);
            }
        }
    }
    Ok(digests)
}
