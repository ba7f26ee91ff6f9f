//! [`Decider`]: the one policy function ([`Evaluator`]) behind the shared
//! cache. The gate and the webhook ask it; neither holds policy logic.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use signet_core::Digest;
use signet_oci::{Reference, RepositoryRef};
use signet_policy::{Decision, Evaluator, Policy};

use crate::cache::{CacheConfig, CacheError, DecisionKey, Lookup, Source, VerificationCache};
use crate::lru::Lru;

/// Tags resolved to digests, kept at most (the webhook resolves tags).
const TAG_CACHE_CAPACITY: usize = 10_000;

/// Decides about images through the cache. Cheap to clone.
#[derive(Clone)]
pub struct Decider {
    evaluator: Evaluator,
    cache: VerificationCache<DecisionKey, Decision>,
    tags: Arc<Mutex<Lru<Reference, Digest>>>,
}

impl std::fmt::Debug for Decider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decider")
            .field("evaluator", &self.evaluator)
            .finish_non_exhaustive()
    }
}

impl Decider {
    /// A decider over `evaluator`, with a fresh cache. `tag_ttl` is how long
    /// a tag stays resolved to the digest it named (zero: resolve every
    /// time). A moved tag is seen after at most that long; what is admitted
    /// in between is still the digest that was verified.
    pub fn new(evaluator: Evaluator, cache: &CacheConfig, tag_ttl: Duration) -> Self {
        let tag_capacity = if tag_ttl.is_zero() {
            0
        } else {
            TAG_CACHE_CAPACITY
        };
        Self {
            evaluator,
            cache: VerificationCache::new(cache),
            tags: Arc::new(Mutex::new(Lru::new(tag_capacity, Some(tag_ttl)))),
        }
    }

    /// The evaluator.
    pub fn evaluator(&self) -> &Evaluator {
        &self.evaluator
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        self.evaluator.policy()
    }

    /// The cache.
    pub fn cache(&self) -> &VerificationCache<DecisionKey, Decision> {
        &self.cache
    }

    /// The cache key of `digest` in `repository` under this policy.
    pub fn key(&self, repository: &RepositoryRef, digest: &Digest) -> DecisionKey {
        DecisionKey {
            policy: *self.evaluator.policy_hash(),
            trust_root: *self.evaluator.trust_root_version(),
            repository: repository.to_string(),
            digest: digest.clone(),
        }
    }

    /// Decides about the manifest `digest` of `repository`
    /// ([`Evaluator::evaluate_digest`]), once per key however many ask.
    pub async fn decide_digest(
        &self,
        repository: &RepositoryRef,
        digest: &Digest,
    ) -> Result<Lookup<Decision>, CacheError> {
        let key = self.key(repository, digest);
        let evaluator = self.evaluator.clone();
        let image = repository.digest(digest.clone());
        let digest = digest.clone();
        self.cache
            .get_or_evaluate(key, move || async move {
                evaluator.evaluate_digest(&image, &digest).await
            })
            .await
    }

    /// Decides about `image`: a digest is decided as given; a tag is resolved
    /// (through the tag cache) and its digest decided. An image that cannot
    /// be resolved gets the evaluator's own "could not decide" decision.
    pub async fn decide(&self, image: &Reference) -> Result<Lookup<Decision>, CacheError> {
        if let Some(digest) = image.digest() {
            return self.decide_digest(image.repository_ref(), digest).await;
        }
        // A scope that refuses everything needs no registry.
        if self.evaluator.scope_for(image).authorities.is_empty() {
            return Ok(Lookup {
                value: Arc::new(self.evaluator.evaluate(image).await),
                source: Source::Hit,
            });
        }
        let cached = self.lock_tags().get(image, now());
        let digest = match cached {
            Some(d) => d,
            None => match self.evaluator.store().client().resolve_digest(image).await {
                Ok(d) => {
                    self.lock_tags().insert(image.clone(), d.clone(), now());
                    d
                }
                Err(_) => {
                    // The evaluator resolves again and words the failure
                    // (image not found, registry error) as every door does.
                    return Ok(Lookup {
                        value: Arc::new(self.evaluator.evaluate(image).await),
                        source: Source::Evaluated,
                    });
                }
            },
        };
        self.decide_digest(image.repository_ref(), &digest).await
    }

    /// Forgets negative results for `digest` in `repository`: a signature
    /// for it was just pushed.
    pub fn signature_pushed(&self, repository: &RepositoryRef, digest: &Digest) -> usize {
        let repository = repository.to_string();
        self.cache
            .forget_negative(|k| k.digest == *digest && k.repository == repository)
    }

    fn lock_tags(&self) -> std::sync::MutexGuard<'_, Lru<Reference, Digest>> {
        self.tags.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}
