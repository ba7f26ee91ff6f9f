//! Reading and writing cosign's legacy signature manifests in a registry.
//!
//! Appending a signature is a read-modify-write of the `sha256-<hex>.sig`
//! tag, and registries offer no compare-and-swap on tags (Distribution 2.8
//! ignores `If-Match`). cosign therefore loses signatures when two signers
//! race (cosign issue 2432). signet reads the tag back after writing; if a
//! concurrent writer replaced the manifest without our layer, it merges again
//! and rewrites, up to a bounded number of times.

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream;
use signet_core::Digest;
use signet_core::FormatError;
use signet_core::limits::{MAX_PAYLOAD_BYTES, MAX_SIGNATURE_LAYERS};
use signet_core::signature_manifest::{Layer, MediaTypes, SignatureManifest};
use thiserror::Error;

use crate::{RegistryClient, RegistryError, RepositoryRef};

/// How many times a lost append is merged and written again.
const MAX_APPEND_ATTEMPTS: u32 = 6;
/// Payload blobs fetched at once for one signature manifest.
const PAYLOAD_FETCH_CONCURRENCY: usize = 8;

/// Reading or writing signatures failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SignatureStoreError {
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The existing signature manifest is malformed.
    #[error("{location}: {error}")]
    Malformed {
        /// The signature tag.
        location: String,
        /// What is wrong.
        error: FormatError,
    },
    /// The signature manifest already holds the most layers cosign allows.
    #[error("{0} already holds {MAX_SIGNATURE_LAYERS} signatures; refusing to add more")]
    Full(String),
    /// Concurrent writers kept replacing the manifest.
    #[error(
        "{0}: the signature manifest kept changing under concurrent writers; gave up after {MAX_APPEND_ATTEMPTS} attempts"
    )]
    Contended(String),
}

/// One signature layer and its payload, as read from the registry.
#[derive(Debug)]
pub struct FetchedSignature {
    /// `repo:sha256-….sig layer N`, for messages.
    pub origin: String,
    /// The layer descriptor with its annotations.
    pub layer: Layer,
    /// The payload blob, or why it could not be read.
    pub payload: Result<Vec<u8>, RegistryError>,
}

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendOutcome {
    /// The signature was added; the signature manifest now has this digest.
    Appended {
        /// Digest of the signature manifest written.
        manifest: Digest,
        /// Whether a concurrent writer forced a merge and rewrite.
        retried: bool,
    },
    /// An equivalent signature (same payload, same key) was already there.
    AlreadyPresent,
}

/// Signature storage for images, optionally in another repository
/// (`COSIGN_REPOSITORY`).
#[derive(Debug, Clone)]
pub struct SignatureStore {
    client: RegistryClient,
    repository_override: Option<RepositoryRef>,
    media_types: MediaTypes,
}

impl SignatureStore {
    /// Stores signatures beside each image, or in `repository_override`.
    pub fn new(
        client: RegistryClient,
        repository_override: Option<RepositoryRef>,
        media_types: MediaTypes,
    ) -> Self {
        Self {
            client,
            repository_override,
            media_types,
        }
    }

    /// The registry client.
    pub fn client(&self) -> &RegistryClient {
        &self.client
    }

    /// Where the signatures of an image in `image_repo` live.
    pub fn signature_repository(&self, image_repo: &RepositoryRef) -> RepositoryRef {
        self.repository_override
            .clone()
            .unwrap_or_else(|| image_repo.clone())
    }

    fn location(repo: &RepositoryRef, digest: &Digest) -> String {
        format!("{}:{}", repo.repo_name(), digest.signature_tag())
    }

    /// The current signature manifest, or `None` if the image has none.
    pub async fn read_manifest(
        &self,
        image_repo: &RepositoryRef,
        digest: &Digest,
    ) -> Result<Option<(SignatureManifest, Digest)>, SignatureStoreError> {
        let repo = self.signature_repository(image_repo);
        match self
            .client
            .get_manifest(&repo, &digest.signature_tag())
            .await
        {
            Ok(m) => {
                let parsed = SignatureManifest::parse(&m.bytes).map_err(|error| {
                    SignatureStoreError::Malformed {
                        location: Self::location(&repo, digest),
                        error,
                    }
                })?;
                Ok(Some((parsed, m.digest)))
            }
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Every simple-signing layer for the image, with its payload fetched
    /// (concurrently, each capped at [`MAX_PAYLOAD_BYTES`] and checked against
    /// its digest). An empty list means the image has no signatures.
    pub async fn fetch(
        &self,
        image_repo: &RepositoryRef,
        digest: &Digest,
    ) -> Result<Vec<FetchedSignature>, SignatureStoreError> {
        let Some((manifest, _)) = self.read_manifest(image_repo, digest).await? else {
            return Ok(Vec::new());
        };
        let repo = self.signature_repository(image_repo);
        let location = Self::location(&repo, digest);
        let layers: Vec<(usize, Layer)> = manifest
            .layers
            .into_iter()
            .enumerate()
            .filter(|(_, l)| l.is_signature())
            .collect();
        let fetched = stream::iter(layers)
            .map(|(index, layer)| {
                let repo = &repo;
                let location = &location;
                async move {
                    let payload = if layer.size > MAX_PAYLOAD_BYTES as u64 {
                        Err(RegistryError::TooLarge {
                            what: format!("payload {}", layer.digest),
                            limit: MAX_PAYLOAD_BYTES,
                        })
                    } else {
                        self.client
                            .get_blob(repo, &layer.digest, MAX_PAYLOAD_BYTES)
                            .await
                    };
                    FetchedSignature {
                        origin: format!("{location} layer {}", index + 1),
                        layer,
                        payload,
                    }
                }
            })
            .buffered(PAYLOAD_FETCH_CONCURRENCY)
            .collect()
            .await;
        Ok(fetched)
    }

    /// Adds one signature layer for `payload` to the image's signature
    /// manifest. `is_equivalent` tells whether an existing layer with the same
    /// payload already carries a signature by the same key (then nothing is
    /// written, as cosign's duplicate detection does).
    ///
    /// The payload and config blobs are uploaded before the manifest, so a
    /// failure never leaves a manifest pointing at missing blobs.
    pub async fn append(
        &self,
        image_repo: &RepositoryRef,
        digest: &Digest,
        payload: &[u8],
        layer: Layer,
        is_equivalent: &(dyn Fn(&Layer) -> bool + Sync),
    ) -> Result<AppendOutcome, SignatureStoreError> {
        let repo = self.signature_repository(image_repo);
        let tag = digest.signature_tag();
        let location = Self::location(&repo, digest);
        self.client.push_blob(&repo, payload).await?;
        for attempt in 0..MAX_APPEND_ATTEMPTS {
            let current = self.read_manifest(image_repo, digest).await?;
            let mut manifest = match &current {
                Some((m, _)) => m.clone(),
                None => SignatureManifest {
                    media_types: self.media_types,
                    layers: Vec::new(),
                },
            };
            if manifest.layers.iter().any(|l| {
                l.is_signature() && l.digest == layer.digest && (*l == layer || is_equivalent(l))
            }) {
                return Ok(if attempt == 0 {
                    AppendOutcome::AlreadyPresent
                } else {
                    // Our earlier write survived after all (merged by the other writer).
                    AppendOutcome::Appended {
                        manifest: current
                            .map(|(_, d)| d)
                            .unwrap_or_else(|| Digest::sha256_of(b"")),
                        retried: true,
                    }
                });
            }
            if manifest.layers.len() >= MAX_SIGNATURE_LAYERS {
                return Err(SignatureStoreError::Full(location));
            }
            manifest.layers.push(layer.clone());
            let config = manifest.config_bytes();
            self.client.push_blob(&repo, &config).await?;
            let bytes = manifest.manifest_bytes(&config);
            let written = self
                .client
                .put_manifest(&repo, &tag, &bytes, manifest.media_types.manifest())
                .await?;
            // Read back: did a concurrent writer replace our manifest?
            match self.read_manifest(image_repo, digest).await? {
                Some((_, now)) if now == written => {
                    return Ok(AppendOutcome::Appended {
                        manifest: written,
                        retried: attempt > 0,
                    });
                }
                Some((now, now_digest)) if now.layers.contains(&layer) => {
                    return Ok(AppendOutcome::Appended {
                        manifest: now_digest,
                        retried: true,
                    });
                }
                _ => {
                    // Lost the race; back off a little (spread by attempt and
                    // process) and merge again.
                    let jitter = u64::from(std::process::id() % 7) * 5;
                    tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt + 1) + jitter))
                        .await;
                }
            }
        }
        Err(SignatureStoreError::Contended(location))
    }
}
