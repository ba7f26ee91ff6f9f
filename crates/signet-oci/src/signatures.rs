//! Reading and writing cosign's legacy signature manifests in a registry.
//!
//! Appending a signature is a read-modify-write of the `sha256-<hex>.sig`
//! tag, and registries offer no compare-and-swap on tags (Distribution 2.8
//! ignores `If-Match`). cosign therefore loses signatures when two signers
//! race (cosign issue 2432). signet watches the tag after writing: it re-reads
//! it, with growing pauses, until the manifest has kept its layer unchanged
//! for longer than a slow concurrent writer could take to land a write based
//! on an older read; if a concurrent writer replaced the manifest without its
//! layer, it merges again and rewrites. Both the re-checks and the rewrites
//! are bounded. This narrows the race to writers slower than the watch; only
//! a registry-side compare-and-swap could close it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use signet_core::Digest;
use signet_core::FormatError;
use signet_core::limits::{
    MAX_MANIFEST_BYTES, MAX_PAYLOAD_BYTES, MAX_SIGNATURE_BYTES_PER_IMAGE, MAX_SIGNATURE_LAYERS,
};
use signet_core::signature_manifest::{Layer, MediaTypes, SignatureManifest};
use thiserror::Error;

use crate::client::RegistryClient;
use crate::error::RegistryError;
use crate::reference::RepositoryRef;

/// How many times an append is merged and written again.
const MAX_APPEND_ATTEMPTS: u32 = 30;
/// How long a written manifest must stay unchanged, at least, before the
/// write counts as kept when no other writer has been seen.
const MIN_SETTLE: Duration = Duration::from_millis(50);
/// The same once other writers have been seen: they run on the same machine
/// or registry and may be descheduled for a while between reading the tag
/// and writing it.
const CONTENDED_SETTLE: Duration = Duration::from_millis(600);
/// The longest a written manifest must stay unchanged.
const MAX_SETTLE: Duration = Duration::from_secs(4);
/// How much longer than our own read-to-write time another writer may take.
const SETTLE_FACTOR: u32 = 4;
/// Re-reads of the tag after one write.
const MAX_CHECKS: u32 = 20;
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
    /// The payload blob, or why it was not read.
    pub payload: Result<Arc<[u8]>, PayloadError>,
}

/// Why a signature layer's payload is not available.
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// The layer is identical to an earlier one (same payload, same
    /// signature), so it can add nothing.
    #[error("identical to layer {0}")]
    Duplicate(usize),
    /// The layer declares a payload larger than any signet reads.
    #[error("payload {digest} declares {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// The payload digest.
        digest: Digest,
        /// The size the layer declares.
        size: u64,
        /// [`MAX_PAYLOAD_BYTES`].
        limit: usize,
    },
    /// Reading it would pass the per-image budget.
    #[error(
        "not read: payload {digest} ({size} bytes) would take the image past the limit of {limit} bytes of signature payloads"
    )]
    OverBudget {
        /// The payload digest.
        digest: Digest,
        /// The size the layer declares.
        size: u64,
        /// [`MAX_SIGNATURE_BYTES_PER_IMAGE`].
        limit: usize,
    },
    /// The registry failed to serve it.
    #[error(transparent)]
    Registry(Arc<RegistryError>),
}

type PayloadResult = Result<Arc<[u8]>, PayloadError>;

/// The signature layers of one image, handed out in manifest order with
/// their payloads, so that a verifier can check each as it arrives and stop
/// at the first that satisfies its policy (dropping this stops the fetches
/// still in flight).
///
/// Whatever the manifest lists, the registry is asked for each distinct
/// payload digest at most once, at most [`MAX_SIGNATURE_BYTES_PER_IMAGE`]
/// bytes are read in total, and a payload is kept in memory only until the
/// last layer naming it has been handed out.
pub struct SignatureLayers {
    location: String,
    /// Signature layers still to hand out: (position among them, index in
    /// the manifest, the layer, the earlier identical layer's index).
    pending: VecDeque<(usize, usize, Layer, Option<usize>)>,
    /// Payloads read (or predicted) and still needed, by digest.
    payloads: HashMap<Digest, PayloadResult>,
    /// The position of the last layer that needs each digest.
    last_use: HashMap<Digest, usize>,
    /// Distinct digests being read, in order of first use, a few ahead.
    fetches: BoxStream<'static, (Digest, PayloadResult)>,
}

impl std::fmt::Debug for SignatureLayers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureLayers")
            .field("location", &self.location)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl SignatureLayers {
    fn new(
        client: RegistryClient,
        repo: RepositoryRef,
        location: String,
        layers: Vec<Layer>,
        known: &[Vec<u8>],
    ) -> Self {
        // (index in the manifest, index of the first identical layer)
        let mut first_index: HashMap<&Layer, usize> = HashMap::new();
        let mut signatures = Vec::new();
        for (index, layer) in layers.iter().enumerate() {
            if !layer.is_signature() {
                continue;
            }
            signatures.push((index, *first_index.entry(layer).or_insert(index)));
        }
        let mut pending = VecDeque::with_capacity(signatures.len());
        let mut last_use = HashMap::new();
        let mut to_fetch: Vec<(Digest, u64)> = Vec::new();
        let mut scheduled: HashSet<Digest> = HashSet::new();
        let mut payloads: HashMap<Digest, PayloadResult> = HashMap::new();
        let known: HashMap<Digest, &Vec<u8>> =
            known.iter().map(|p| (Digest::sha256_of(p), p)).collect();
        for (position, (index, first)) in signatures.into_iter().enumerate() {
            let Some(layer) = layers.get(index) else {
                continue;
            };
            let duplicate_of = (first != index).then_some(first);
            if duplicate_of.is_none() {
                last_use.insert(layer.digest.clone(), position);
                if !payloads.contains_key(&layer.digest) && !scheduled.contains(&layer.digest) {
                    match known.get(&layer.digest) {
                        Some(bytes) if bytes.len() as u64 == layer.size => {
                            payloads.insert(layer.digest.clone(), Ok(Arc::from(bytes.as_slice())));
                        }
                        _ => {
                            scheduled.insert(layer.digest.clone());
                            to_fetch.push((layer.digest.clone(), layer.size));
                        }
                    }
                }
            }
            pending.push_back((position, index, layer.clone(), duplicate_of));
        }
        let mut budget = MAX_SIGNATURE_BYTES_PER_IMAGE;
        let fetches = stream::iter(to_fetch)
            .map(move |(digest, size)| {
                // Runs in order as fetches are started, so the budget is
                // spent on the layers that come first.
                let start = if size > MAX_PAYLOAD_BYTES as u64 {
                    Err(PayloadError::TooLarge {
                        digest: digest.clone(),
                        size,
                        limit: MAX_PAYLOAD_BYTES,
                    })
                } else if size > budget as u64 {
                    Err(PayloadError::OverBudget {
                        digest: digest.clone(),
                        size,
                        limit: MAX_SIGNATURE_BYTES_PER_IMAGE,
                    })
                } else {
                    budget -= size as usize;
                    Ok(size as usize)
                };
                let client = client.clone();
                let repo = repo.clone();
                async move {
                    let result = match start {
                        Ok(limit) => client
                            .get_blob(&repo, &digest, limit)
                            .await
                            .map(Arc::from)
                            .map_err(|e| PayloadError::Registry(Arc::new(e))),
                        Err(e) => Err(e),
                    };
                    (digest, result)
                }
            })
            .buffered(PAYLOAD_FETCH_CONCURRENCY)
            .boxed();
        // The order of first use is the order of `pending`, which the
        // consumer follows, so a payload is always fetched before it is needed.
        Self {
            location,
            pending,
            payloads,
            last_use,
            fetches,
        }
    }

    /// How many signature layers are left to hand out.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether no signature layers are left (an image without signatures has none).
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The next signature layer, in manifest order, with its payload.
    pub async fn next(&mut self) -> Option<FetchedSignature> {
        let (position, index, layer, duplicate_of) = self.pending.pop_front()?;
        let origin = format!("{} layer {}", self.location, index + 1);
        if let Some(first) = duplicate_of {
            return Some(FetchedSignature {
                origin,
                layer,
                payload: Err(PayloadError::Duplicate(first + 1)),
            });
        }
        while !self.payloads.contains_key(&layer.digest) {
            match self.fetches.next().await {
                Some((digest, result)) => {
                    self.payloads.insert(digest, result);
                }
                None => break,
            }
        }
        let payload = if self.last_use.get(&layer.digest) == Some(&position) {
            self.payloads.remove(&layer.digest)
        } else {
            self.payloads.get(&layer.digest).cloned()
        };
        Some(FetchedSignature {
            origin,
            payload: payload.unwrap_or_else(|| {
                // Unreachable: every digest is predicted or fetched before use.
                Err(PayloadError::Registry(Arc::new(
                    RegistryError::InvalidResponse {
                        what: format!("payload {}", layer.digest),
                        reason: "it was never fetched".into(),
                    },
                )))
            }),
            layer,
        })
    }
}

/// A signature manifest as it is stored: the parsed model, and the exact
/// bytes (which appends edit rather than rewrite, so that nothing another
/// tool wrote is lost).
#[derive(Debug, Clone)]
pub struct StoredManifest {
    /// The layers and media types.
    pub manifest: SignatureManifest,
    /// The manifest bytes as read.
    pub bytes: Vec<u8>,
    /// Their digest.
    pub digest: Digest,
}

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendOutcome {
    /// The signature was added; the signature manifest now has this digest.
    Appended {
        /// Digest of the signature manifest that holds the signature.
        manifest: Digest,
        /// How many times concurrent writers forced the signature to be
        /// merged into a newer manifest and written again (0 without them).
        merged_again: u32,
    },
    /// An equivalent signature (same payload, same key) was already there.
    AlreadyPresent,
}

/// How the watch after a write ended.
enum Watch {
    /// The manifest kept our layer long enough; it now has this digest.
    Kept(Digest),
    /// A concurrent writer replaced it without our layer.
    Lost,
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
    ) -> Result<Option<StoredManifest>, SignatureStoreError> {
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
                Ok(Some(StoredManifest {
                    manifest: parsed,
                    bytes: m.bytes,
                    digest: m.digest,
                }))
            }
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The image's signature layers, with their payloads read as they are
    /// handed out (see [`SignatureLayers`]). None are left if the image has
    /// no signatures.
    ///
    /// Layers whose digest and size match one of `known` take those bytes
    /// instead of downloading the blob. Payloads are content-addressed: bytes
    /// whose SHA-256 equals the layer digest are the layer's bytes, wherever
    /// they came from. A verifier that can predict the payload (cosign writes
    /// a deterministic one for a given repository, digest and annotations)
    /// saves the slowest request of a verification; anything it did not
    /// predict is fetched as usual.
    pub async fn signature_layers(
        &self,
        image_repo: &RepositoryRef,
        digest: &Digest,
        known: &[Vec<u8>],
    ) -> Result<SignatureLayers, SignatureStoreError> {
        let repo = self.signature_repository(image_repo);
        let location = Self::location(&repo, digest);
        let layers = match self.read_manifest(image_repo, digest).await? {
            Some(stored) => stored.manifest.layers,
            None => Vec::new(),
        };
        Ok(SignatureLayers::new(
            self.client.clone(),
            repo,
            location,
            layers,
            known,
        ))
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
        let mut merged_again = 0;
        let mut contention = Contention::default();
        for attempt in 0..MAX_APPEND_ATTEMPTS {
            let current = if attempt == 0 {
                // The payload upload overlaps the first read. If the existing
                // manifest turns out to be malformed nothing refers to the
                // uploaded blob, and its error is the one reported.
                let (current, pushed) = tokio::join!(
                    self.read_manifest(image_repo, digest),
                    self.client.push_blob(&repo, payload)
                );
                let current = match current {
                    Err(e) if !is_collision(&e) => return Err(e),
                    other => other,
                };
                pushed?;
                current
            } else {
                // Writers that collided should not collide again in lockstep.
                tokio::time::sleep(jitter(attempt)).await;
                self.read_manifest(image_repo, digest).await
            };
            let current = match current {
                Ok(current) => current,
                // A read that collided with a write: read again.
                Err(e) if is_collision(&e) && attempt + 1 < MAX_APPEND_ATTEMPTS => {
                    contention.seen = true;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let existing = current
                .as_ref()
                .map(|c| &c.manifest.layers[..])
                .unwrap_or_default();
            let present = existing.iter().any(|l| {
                l.is_signature() && l.digest == layer.digest && (*l == layer || is_equivalent(l))
            });
            if present {
                return Ok(match (attempt, current) {
                    (0, _) | (_, None) => AppendOutcome::AlreadyPresent,
                    // Our earlier write survived after all (merged by another writer).
                    (_, Some(stored)) => AppendOutcome::Appended {
                        manifest: stored.digest,
                        merged_again,
                    },
                });
            }
            if existing.len() >= MAX_SIGNATURE_LAYERS {
                return Err(SignatureStoreError::Full(location));
            }
            let (bytes, config, media_type) = match &current {
                None => {
                    let manifest = SignatureManifest {
                        media_types: self.media_types,
                        layers: vec![layer.clone()],
                    };
                    let config = manifest.config_bytes();
                    (manifest.manifest_bytes(&config), config, self.media_types)
                }
                // Edit the stored bytes: only the new layer and the config's
                // entries for it are added; everything else another tool
                // wrote stays as it was.
                Some(stored) => {
                    let config = self.config_with_layer(&repo, stored, &layer).await;
                    let bytes = SignatureManifest::append_to(&stored.bytes, &layer, &config)
                        .map_err(|error| SignatureStoreError::Malformed {
                            location: location.clone(),
                            error,
                        })?;
                    (bytes, config, stored.manifest.media_types)
                }
            };
            self.client.push_blob(&repo, &config).await?;
            // Read again right before writing, so that the time in which a
            // concurrent write can be missed is one round trip rather than
            // the whole merge-and-upload; if the tag moved meanwhile, merge
            // from the new state.
            let read_at = Instant::now();
            let before_write = match self.client.head_manifest(&repo, &tag).await {
                Ok(found) => found.map(|d| d.digest),
                Err(RegistryError::Http {
                    status: 500..=599, ..
                }) if attempt + 1 < MAX_APPEND_ATTEMPTS => {
                    contention.seen = true;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if before_write != current.as_ref().map(|c| c.digest.clone()) {
                merged_again += 1;
                contention.seen = true;
                continue;
            }
            let written = match self
                .client
                .put_manifest(&repo, &tag, &bytes, media_type.manifest())
                .await
            {
                Ok(written) => written,
                // Distribution answers 500 when two writes of one tag collide;
                // the write is safe to redo from a fresh read.
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
                .watch(image_repo, digest, &layer, written, &mut contention)
                .await?
            {
                Watch::Kept(manifest) => {
                    return Ok(AppendOutcome::Appended {
                        manifest,
                        merged_again,
                    });
                }
                Watch::Lost => merged_again += 1,
            }
        }
        Err(SignatureStoreError::Contended(location))
    }

    /// Watches the tag after our write of `written` until the manifest has
    /// kept `layer`, unchanged, for longer than a slow concurrent writer
    /// could take to land a write based on a read from before ours.
    ///
    /// How long that is cannot be known, so it is estimated and adapted: a
    /// few times our own read-to-write time while no other writer has been
    /// seen; once one has, long enough for a writer descheduled under load.
    /// Every write that lands starts the stable period again. The first
    /// re-check comes soon, and so does the one after a write landed, so that
    /// a lost write is merged again quickly; the pauses then double. The re-checks are bounded; if they run out
    /// with our layer still present, the write counts as kept.
    async fn watch(
        &self,
        image_repo: &RepositoryRef,
        digest: &Digest,
        layer: &Layer,
        written: Digest,
        contention: &mut Contention,
    ) -> Result<Watch, SignatureStoreError> {
        let mut last = written;
        let mut stable_since = Instant::now();
        let mut pause = contention.first_check();
        for _ in 0..MAX_CHECKS {
            let remaining = contention.settle().saturating_sub(stable_since.elapsed());
            tokio::time::sleep(pause.min(remaining) + jitter(0)).await;
            pause *= 2;
            let now = match self.read_manifest(image_repo, digest).await {
                Ok(now) => now,
                // The read collided with a write: that is news of another
                // writer, and this check is spent.
                Err(e) if is_collision(&e) => {
                    contention.seen = true;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let Some(now) = now else {
                // The tag was deleted under us.
                return Ok(Watch::Lost);
            };
            if now.digest != last {
                // Another writer landed; slower ones may still follow, and
                // one of them may drop our layer: look again soon.
                contention.seen = true;
                last = now.digest.clone();
                stable_since = Instant::now();
                pause = contention.first_check();
            }
            if !now.manifest.layers.contains(layer) {
                return Ok(Watch::Lost);
            }
            if stable_since.elapsed() >= contention.settle() {
                return Ok(Watch::Kept(now.digest));
            }
        }
        Ok(Watch::Kept(last))
    }

    /// The config blob for `stored` plus `layer`: the stored config with the
    /// layer's entries added. When the stored config is the one cosign would
    /// write for these layers (the usual case) it is known without a
    /// download; a config that cannot be read or edited is replaced by
    /// cosign's, which is all any reader of signature manifests looks at.
    async fn config_with_layer(
        &self,
        repo: &RepositoryRef,
        stored: &StoredManifest,
        layer: &Layer,
    ) -> Vec<u8> {
        let canonical = stored.manifest.config_bytes();
        let existing = match SignatureManifest::config_descriptor(&stored.bytes) {
            Ok(Some((digest, _))) if digest == Digest::sha256_of(&canonical) => Some(canonical),
            Ok(Some((digest, size))) if size <= MAX_MANIFEST_BYTES as u64 => self
                .client
                .get_blob(repo, &digest, MAX_MANIFEST_BYTES)
                .await
                .ok(),
            _ => None,
        };
        existing
            .and_then(|c| SignatureManifest::append_to_config(&c, &layer.digest).ok())
            .unwrap_or_else(|| {
                let mut manifest = stored.manifest.clone();
                manifest.layers.push(layer.clone());
                manifest.config_bytes()
            })
    }
}

/// Whether a read of the signature tag failed because it collided with a
/// write: Distribution answers 5xx for a tag read while another request
/// writes it, more often than the transport's own retries can ride out when
/// many signers write at once.
fn is_collision(e: &SignatureStoreError) -> bool {
    matches!(
        e,
        SignatureStoreError::Registry(RegistryError::Http {
            status: 500..=599,
            ..
        })
    )
}

/// What one append has learned about other writers.
#[derive(Default)]
struct Contention {
    /// Whether another writer has been seen (the tag moved under us, a write
    /// collided, or our write was replaced).
    seen: bool,
    /// Our own longest time from the last read of the tag to a finished write.
    slowest_write: Duration,
}

impl Contention {
    /// How long a written manifest must stay unchanged to count as kept.
    fn settle(&self) -> Duration {
        let own = (self.slowest_write * SETTLE_FACTOR).max(MIN_SETTLE);
        if self.seen {
            own.max(CONTENDED_SETTLE).min(MAX_SETTLE)
        } else {
            own.min(MAX_SETTLE)
        }
    }

    /// The pause before the first re-check after a write.
    fn first_check(&self) -> Duration {
        (self.slowest_write * SETTLE_FACTOR).max(MIN_SETTLE)
    }
}

/// A pseudo-random extra wait, different per process and attempt, so that
/// writers who collided do not collide again in lockstep.
fn jitter(attempt: u32) -> Duration {
    let seed = u64::from(std::process::id()).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ u64::from(attempt).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()))
        .unwrap_or(0);
    Duration::from_millis((seed ^ nanos) % (20 * u64::from(attempt + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watch_grows_with_contention_and_slow_writes() {
        let quiet = Contention::default();
        assert_eq!(quiet.settle(), MIN_SETTLE);
        assert_eq!(quiet.first_check(), MIN_SETTLE);
        let slow = Contention {
            seen: false,
            slowest_write: Duration::from_millis(40),
        };
        assert_eq!(slow.settle(), Duration::from_millis(160));
        let contended = Contention {
            seen: true,
            slowest_write: Duration::from_millis(40),
        };
        assert_eq!(contended.settle(), CONTENDED_SETTLE);
        // The first re-check stays early, so that a lost write is seen soon.
        assert_eq!(contended.first_check(), Duration::from_millis(160));
        let very_slow = Contention {
            seen: true,
            slowest_write: Duration::from_secs(5),
        };
        assert_eq!(very_slow.settle(), MAX_SETTLE);
    }

    #[test]
    fn jitter_stays_small() {
        for attempt in 0..MAX_APPEND_ATTEMPTS {
            assert!(jitter(attempt) < Duration::from_millis(20 * u64::from(attempt + 1)));
        }
    }
}
