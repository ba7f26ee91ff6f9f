//! OCI 1.1 referrers: attaching an artifact (a Sigstore bundle) to an image
//! and listing what refers to an image.
//!
//! The artifact's manifest names the image as its `subject`. A registry with
//! the referrers API indexes it itself (and says so with `OCI-Subject`);
//! for one without (Distribution 2.8), the writer keeps the index: an image
//! index tagged `sha256-<hex>` listing every referrer. Updating that tag is
//! a read-modify-write, like appending to a `.sig` manifest, and is done
//! with the same discipline: re-read right before writing, then watch the
//! tag until it has kept our entry long enough that no slower concurrent
//! writer can have replaced it, merging and rewriting when one did.

use std::time::Instant;

use signet_core::Digest;
use signet_core::FormatError;
use signet_core::referrer::{
    EMPTY_JSON, OCI_INDEX_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE, ReferrerEntry, fallback_tag,
    index_with_entry, parse_referrers_index,
};
use thiserror::Error;

use crate::client::RegistryClient;
use crate::error::RegistryError;
use crate::reference::RepositoryRef;
use crate::signatures::{Contention, MAX_APPEND_ATTEMPTS, MAX_CHECKS, jitter, local_load_factor};

/// Attaching or listing referrers failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReferrersError {
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The fallback index (or the API's answer) is malformed.
    #[error("{location}: {error}")]
    Malformed {
        /// Where it was read.
        location: String,
        /// What is wrong.
        error: FormatError,
    },
    /// Concurrent writers kept replacing the fallback index.
    #[error(
        "{0}: the referrers index kept changing under concurrent writers; gave up after {MAX_APPEND_ATTEMPTS} attempts"
    )]
    Contended(String),
}

/// How a referrer was made findable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Indexed {
    /// The registry indexes referrers itself (referrers API).
    ByRegistry,
    /// signet added it to the `sha256-<hex>` fallback index.
    FallbackTag {
        /// The index's digest after the write.
        index: Digest,
        /// How many times concurrent writers forced a merge and rewrite.
        merged_again: u32,
    },
    /// The fallback index already listed it.
    AlreadyListed,
}

/// A referrer that was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    /// The referrer manifest's digest.
    pub manifest: Digest,
    /// How it is found.
    pub indexed: Indexed,
}

/// Referrers of images in a registry.
#[derive(Debug, Clone)]
pub struct ReferrerStore {
    client: RegistryClient,
}

enum Watch {
    Kept(Digest),
    Lost,
}

impl ReferrerStore {
    /// Referrers through `client`.
    pub fn new(client: RegistryClient) -> Self {
        Self { client }
    }

    /// The registry client.
    pub fn client(&self) -> &RegistryClient {
        &self.client
    }

    /// Uploads `blobs` and the empty config, then `manifest` (whose
    /// `subject` is `subject` and whose artifact type is `artifact_type`) by
    /// digest, and makes sure it is listed: by the registry, or in the
    /// fallback index. Blobs go first, so a failure never leaves a manifest
    /// pointing at missing blobs.
    pub async fn attach(
        &self,
        repo: &RepositoryRef,
        subject: &Digest,
        manifest: &[u8],
        blobs: &[&[u8]],
        artifact_type: &str,
    ) -> Result<Attached, ReferrersError> {
        for blob in blobs.iter().copied().chain(std::iter::once(EMPTY_JSON)) {
            self.client.push_blob(repo, blob).await?;
        }
        let digest = Digest::sha256_of(manifest);
        let put = self
            .client
            .put_manifest_answer(repo, &digest.to_string(), manifest, OCI_MANIFEST_MEDIA_TYPE)
            .await?;
        if put.subject_indexed || self.client.get_referrers(repo, subject).await?.is_some() {
            return Ok(Attached {
                manifest: digest,
                indexed: Indexed::ByRegistry,
            });
        }
        let entry = ReferrerEntry {
            media_type: OCI_MANIFEST_MEDIA_TYPE.to_owned(),
            digest: digest.clone(),
            size: manifest.len() as u64,
            artifact_type: Some(artifact_type.to_owned()),
        };
        let indexed = self.add_to_fallback_index(repo, subject, &entry).await?;
        Ok(Attached {
            manifest: digest,
            indexed,
        })
    }

    /// The referrers of `subject`: the registry's answer, or the fallback
    /// index (none if there is neither).
    pub async fn list(
        &self,
        repo: &RepositoryRef,
        subject: &Digest,
    ) -> Result<Vec<ReferrerEntry>, ReferrersError> {
        let location = format!("{}:{}", repo.repo_name(), fallback_tag(subject));
        let listed = match self.client.has_referrers_api(repo.registry()) {
            Some(true) => self.client.get_referrers(repo, subject).await?,
            Some(false) => None,
            // Not known yet: ask the API and read the fallback tag at once,
            // so that a registry without the API costs no extra round trip.
            None => {
                let (api, fallback) = tokio::join!(
                    self.client.get_referrers(repo, subject),
                    self.read_fallback(repo, subject)
                );
                match api? {
                    Some(bytes) => Some(bytes),
                    None => match fallback? {
                        Some((bytes, _)) => Some(bytes),
                        None => return Ok(Vec::new()),
                    },
                }
            }
        };
        let bytes = match listed {
            Some(bytes) => bytes,
            None => match self.read_fallback(repo, subject).await? {
                Some((bytes, _)) => bytes,
                None => return Ok(Vec::new()),
            },
        };
        parse_referrers_index(&bytes).map_err(|error| ReferrersError::Malformed { location, error })
    }

    async fn read_fallback(
        &self,
        repo: &RepositoryRef,
        subject: &Digest,
    ) -> Result<Option<(Vec<u8>, Digest)>, ReferrersError> {
        match self.client.get_manifest(repo, &fallback_tag(subject)).await {
            Ok(m) => Ok(Some((m.bytes, m.digest))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Adds `entry` to the fallback index without losing a concurrent
    /// writer's entry (see the module documentation).
    async fn add_to_fallback_index(
        &self,
        repo: &RepositoryRef,
        subject: &Digest,
        entry: &ReferrerEntry,
    ) -> Result<Indexed, ReferrersError> {
        let tag = fallback_tag(subject);
        let location = format!("{}:{tag}", repo.repo_name());
        let malformed = |error| ReferrersError::Malformed {
            location: location.clone(),
            error,
        };
        let mut merged_again = 0;
        let mut contention = Contention::new(local_load_factor());
        for attempt in 0..MAX_APPEND_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(jitter(attempt)).await;
            }
            let current = self.read_fallback(repo, subject).await?;
            let Some(bytes) =
                index_with_entry(current.as_ref().map(|c| &c.0[..]), entry).map_err(malformed)?
            else {
                return Ok(match (attempt, current) {
                    (0, _) | (_, None) => Indexed::AlreadyListed,
                    // Our earlier write survived, merged by another writer.
                    (_, Some((_, index))) => Indexed::FallbackTag {
                        index,
                        merged_again,
                    },
                });
            };
            let read_at = Instant::now();
            let before_write = self
                .client
                .head_manifest(repo, &tag)
                .await?
                .map(|d| d.digest);
            if before_write != current.as_ref().map(|c| c.1.clone()) {
                merged_again += 1;
                contention.seen = true;
                continue;
            }
            let written = match self
                .client
                .put_manifest(repo, &tag, &bytes, OCI_INDEX_MEDIA_TYPE)
                .await
            {
                Ok(d) => d,
                Err(RegistryError::Http {
                    status: 500..=599, ..
                }) if attempt + 1 < MAX_APPEND_ATTEMPTS => {
                    merged_again += 1;
                    contention.seen = true;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            contention.slowest_write = contention.slowest_write.max(read_at.elapsed());
            match self
                .watch(repo, subject, entry, written, &mut contention)
                .await?
            {
                Watch::Kept(index) => {
                    return Ok(Indexed::FallbackTag {
                        index,
                        merged_again,
                    });
                }
                Watch::Lost => merged_again += 1,
            }
        }
        Err(ReferrersError::Contended(location))
    }

    /// Re-reads the fallback tag after our write until it has kept `entry`
    /// unchanged long enough (as the `.sig` append's watch does).
    async fn watch(
        &self,
        repo: &RepositoryRef,
        subject: &Digest,
        entry: &ReferrerEntry,
        written: Digest,
        contention: &mut Contention,
    ) -> Result<Watch, ReferrersError> {
        let location = format!("{}:{}", repo.repo_name(), fallback_tag(subject));
        let mut last = written;
        let mut stable_since = Instant::now();
        let mut pause = contention.first_check();
        for _ in 0..MAX_CHECKS {
            let remaining = contention.settle().saturating_sub(stable_since.elapsed());
            tokio::time::sleep(pause.min(remaining) + jitter(0)).await;
            pause *= 2;
            let Some((bytes, digest)) = self.read_fallback(repo, subject).await? else {
                return Ok(Watch::Lost);
            };
            if digest != last {
                contention.seen = true;
                last = digest.clone();
                stable_since = Instant::now();
            }
            let listed = parse_referrers_index(&bytes)
                .map_err(|error| ReferrersError::Malformed {
                    location: location.clone(),
                    error,
                })?
                .iter()
                .any(|e| e.digest == entry.digest);
            if !listed {
                return Ok(Watch::Lost);
            }
            if stable_since.elapsed() >= contention.settle() {
                return Ok(Watch::Kept(digest));
            }
        }
        Ok(Watch::Kept(last))
    }
}
