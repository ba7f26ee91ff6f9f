//! The verification cache the gate and the webhook share.
//!
//! A manifest digest is immutable, so a decision about it stays true for as
//! long as the policy and its trust roots stay the same: the key is
//! ([`PolicyHash`], [`TrustRootVersion`], repository, digest). The
//! repository is part of the key because signatures live beside the image
//! (`repo:sha256-<hex>.sig`) and the scope is chosen by repository: one
//! digest can be signed in one repository and not in another.
//!
//! - **Positive** results (allowed) are kept in a bounded LRU, optionally
//!   for at most a TTL.
//! - **Negative** results (refused or warned about, by a decided check) are
//!   kept in a smaller LRU for a short TTL, so that an image signed after a
//!   refusal is admitted soon; the gate also drops them when it sees a
//!   signature pushed for the digest.
//! - **Could not decide** (registry errors, image not found) is never
//!   cached: the next request asks again.
//! - **Singleflight**: concurrent misses on one key share one evaluation.
//!   The evaluation runs in its own task, so a caller that gives up (a
//!   client disconnecting, an admission latency budget running out) does
//!   not cancel it, and its result still lands in the cache for the retry.
//!   At most `max_concurrent_evaluations` run at once.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use signet_core::Digest;
use signet_policy::{Decision, Outcome, PolicyHash, TrustRootVersion};
use thiserror::Error;
use tokio::sync::{Semaphore, watch};

use crate::lru::Lru;

/// How long a result may be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// A positive result: kept in the large cache.
    Positive,
    /// A negative result: kept briefly in the small cache.
    Negative,
    /// Not a result to keep (the evaluation could not decide).
    Uncached,
}

/// A value the cache can hold.
pub trait Cacheable: Send + Sync + 'static {
    /// How long this value may be kept.
    fn retention(&self) -> Retention;
}

impl Cacheable for Decision {
    fn retention(&self) -> Retention {
        if self.undecided() {
            Retention::Uncached
        } else if self.outcome == Outcome::Allowed {
            Retention::Positive
        } else {
            Retention::Negative
        }
    }
}

/// The key of a policy decision about one manifest digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DecisionKey {
    /// The policy's hash.
    pub policy: PolicyHash,
    /// The trust roots' version.
    pub trust_root: TrustRootVersion,
    /// The repository (`registry/path`).
    pub repository: String,
    /// The manifest digest.
    pub digest: Digest,
}

/// Sizes and lifetimes of the cache.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Positive results kept, at most (default 10,000).
    pub positive_capacity: usize,
    /// How long a positive result is kept (default: until evicted).
    pub positive_ttl: Option<Duration>,
    /// Negative results kept, at most (default 1,000).
    pub negative_capacity: usize,
    /// How long a negative result is kept (default 10 s).
    pub negative_ttl: Duration,
    /// Evaluations running at once, at most (default 32); further misses
    /// wait for a slot.
    pub max_concurrent_evaluations: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            positive_capacity: 10_000,
            positive_ttl: None,
            negative_capacity: 1_000,
            negative_ttl: Duration::from_secs(10),
            max_concurrent_evaluations: 32,
        }
    }
}

/// Where a looked-up value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The cache held it.
    Hit,
    /// This call started the evaluation.
    Evaluated,
    /// Another call's evaluation was under way; this call waited for it.
    Joined,
}

impl Source {
    /// `hit`, `miss` or `joined`, for metrics and logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Evaluated => "miss",
            Self::Joined => "joined",
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone)]
pub struct Lookup<V> {
    /// The value.
    pub value: Arc<V>,
    /// Where it came from.
    pub source: Source,
}

/// An evaluation that ended without a value.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheError {
    /// The evaluation task stopped before it produced a value (it panicked,
    /// or the runtime is shutting down).
    #[error("the verification was abandoned before it finished")]
    Abandoned,
}

/// Counters since the cache was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Evaluations started.
    pub evaluations: u64,
    /// Lookups that waited for an evaluation already under way.
    pub joined: u64,
    /// Positive results held now.
    pub positive_entries: usize,
    /// Negative results held now.
    pub negative_entries: usize,
    /// Evaluations under way now.
    pub in_flight: usize,
}

/// A bounded, digest-keyed cache with singleflight. Cheap to clone: clones
/// share one cache.
pub struct VerificationCache<K, V> {
    inner: Arc<Inner<K, V>>,
}

impl<K, V> Clone for VerificationCache<K, V> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<K, V> fmt::Debug for VerificationCache<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationCache").finish_non_exhaustive()
    }
}

type Pending<V> = watch::Receiver<Option<Arc<V>>>;

struct State<K, V> {
    positive: Lru<K, Arc<V>>,
    negative: Lru<K, Arc<V>>,
    in_flight: HashMap<K, Pending<V>>,
}

struct Inner<K, V> {
    state: Mutex<State<K, V>>,
    slots: Semaphore,
    hits: AtomicU64,
    evaluations: AtomicU64,
    joined: AtomicU64,
}

impl<K, V> Inner<K, V> {
    fn lock(&self) -> MutexGuard<'_, State<K, V>> {
        // The state stays consistent at every await-free step, so a panic
        // elsewhere while holding the lock leaves nothing half-done.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Removes the in-flight entry if the evaluation task ends without storing
/// a value (a panic, or the runtime dropping the task).
struct InFlightGuard<K: Hash + Eq, V> {
    inner: Arc<Inner<K, V>>,
    key: Option<K>,
}

impl<K: Hash + Eq, V> Drop for InFlightGuard<K, V> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.inner.lock().in_flight.remove(&key);
        }
    }
}

impl<K, V> VerificationCache<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Cacheable,
{
    /// An empty cache.
    pub fn new(config: &CacheConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    positive: Lru::new(config.positive_capacity, config.positive_ttl),
                    negative: Lru::new(config.negative_capacity, Some(config.negative_ttl)),
                    in_flight: HashMap::new(),
                }),
                slots: Semaphore::new(config.max_concurrent_evaluations.max(1)),
                hits: AtomicU64::new(0),
                evaluations: AtomicU64::new(0),
                joined: AtomicU64::new(0),
            }),
        }
    }

    /// The cached value for `key`, without evaluating anything.
    pub fn peek(&self, key: &K) -> Option<Arc<V>> {
        let now = now();
        let mut state = self.inner.lock();
        state
            .positive
            .get(key, now)
            .or_else(|| state.negative.get(key, now))
    }

    /// The value for `key`: from the cache, from an evaluation already under
    /// way, or from `evaluate`, run once in its own task and kept as its
    /// [`Retention`] says.
    pub async fn get_or_evaluate<F, Fut>(
        &self,
        key: K,
        evaluate: F,
    ) -> Result<Lookup<V>, CacheError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V> + Send + 'static,
    {
        let (mut pending, source) = {
            let now = now();
            let mut state = self.inner.lock();
            if let Some(value) = state
                .positive
                .get(&key, now)
                .or_else(|| state.negative.get(&key, now))
            {
                drop(state);
                self.inner.hits.fetch_add(1, Ordering::Relaxed);
                return Ok(Lookup {
                    value,
                    source: Source::Hit,
                });
            }
            match state.in_flight.get(&key) {
                Some(pending) => {
                    self.inner.joined.fetch_add(1, Ordering::Relaxed);
                    (pending.clone(), Source::Joined)
                }
                None => {
                    let (tx, rx) = watch::channel(None);
                    state.in_flight.insert(key.clone(), rx.clone());
                    drop(state);
                    self.inner.evaluations.fetch_add(1, Ordering::Relaxed);
                    self.spawn(key, evaluate(), tx);
                    (rx, Source::Evaluated)
                }
            }
        };
        let value = pending
            .wait_for(Option::is_some)
            .await
            .map_err(|_| CacheError::Abandoned)?
            .clone()
            .ok_or(CacheError::Abandoned)?;
        Ok(Lookup { value, source })
    }

    fn spawn<Fut>(&self, key: K, evaluation: Fut, tx: watch::Sender<Option<Arc<V>>>)
    where
        Fut: Future<Output = V> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::spawn(async move {
            let mut guard = InFlightGuard {
                inner: Arc::clone(&inner),
                key: Some(key),
            };
            let value = {
                // The semaphore is never closed, so acquiring only waits.
                let _slot = inner.slots.acquire().await;
                Arc::new(evaluation.await)
            };
            if let Some(key) = guard.key.take() {
                let now = now();
                let mut state = inner.lock();
                // Stored and removed from the in-flight map under one lock:
                // a caller sees either the stored value or the pending one.
                match value.retention() {
                    Retention::Positive => state.positive.insert(key.clone(), value.clone(), now),
                    Retention::Negative => state.negative.insert(key.clone(), value.clone(), now),
                    Retention::Uncached => {}
                }
                state.in_flight.remove(&key);
            }
            let _ = tx.send(Some(value));
        });
    }

    /// Drops every negative result whose key satisfies `pred` (a signature
    /// was just pushed for the digest); how many.
    pub fn forget_negative(&self, pred: impl FnMut(&K) -> bool) -> usize {
        self.inner.lock().negative.remove_where(pred)
    }

    /// Counters and sizes.
    pub fn stats(&self) -> CacheStats {
        let state = self.inner.lock();
        CacheStats {
            hits: self.inner.hits.load(Ordering::Relaxed),
            evaluations: self.inner.evaluations.load(Ordering::Relaxed),
            joined: self.inner.joined.load(Ordering::Relaxed),
            positive_entries: state.positive.len(),
            negative_entries: state.negative.len(),
            in_flight: state.in_flight.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    #[derive(Debug, PartialEq)]
    struct Value(Retention, u32);

    impl Cacheable for Value {
        fn retention(&self) -> Retention {
            self.0
        }
    }

    fn cache(config: CacheConfig) -> VerificationCache<&'static str, Value> {
        VerificationCache::new(&config)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hundred_concurrent_first_requests_share_one_evaluation() {
        let cache = cache(CacheConfig::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(tokio::sync::Barrier::new(100));
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let cache = cache.clone();
                let calls = Arc::clone(&calls);
                let start = Arc::clone(&start);
                tokio::spawn(async move {
                    start.wait().await;
                    cache
                        .get_or_evaluate("sha256:one", move || {
                            calls.fetch_add(1, Ordering::SeqCst);
                            async {
                                tokio::time::sleep(Duration::from_millis(50)).await;
                                Value(Retention::Positive, 7)
                            }
                        })
                        .await
                })
            })
            .collect();
        let mut sources = HashMap::new();
        for t in tasks {
            let lookup = t.await.unwrap().unwrap();
            assert_eq!(lookup.value.1, 7);
            *sources.entry(lookup.source).or_insert(0) += 1;
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(sources.get(&Source::Evaluated), Some(&1));
        assert_eq!(
            sources.get(&Source::Joined).unwrap_or(&0) + sources.get(&Source::Hit).unwrap_or(&0),
            99
        );
        let stats = cache.stats();
        assert_eq!(stats.evaluations, 1);
        assert_eq!(stats.positive_entries, 1);
        assert_eq!(stats.in_flight, 0);
        // And later requests are hits.
        let again = cache
            .get_or_evaluate("sha256:one", || async { Value(Retention::Positive, 8) })
            .await
            .unwrap();
        assert_eq!((again.source, again.value.1), (Source::Hit, 7));
    }

    #[tokio::test]
    async fn undecided_results_are_not_cached() {
        let cache = cache(CacheConfig::default());
        let calls = Arc::new(AtomicUsize::new(0));
        for _ in 0..3 {
            let calls = Arc::clone(&calls);
            let lookup = cache
                .get_or_evaluate("d", move || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async { Value(Retention::Uncached, 0) }
                })
                .await
                .unwrap();
            assert_eq!(lookup.source, Source::Evaluated);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(cache.stats().negative_entries, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn negative_results_expire_soon_and_can_be_forgotten() {
        let cache = cache(CacheConfig {
            negative_ttl: Duration::from_secs(10),
            ..CacheConfig::default()
        });
        let calls = Arc::new(AtomicUsize::new(0));
        let ask = |cache: VerificationCache<&'static str, Value>, calls: Arc<AtomicUsize>| async move {
            cache
                .get_or_evaluate("d", move || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async { Value(Retention::Negative, 1) }
                })
                .await
                .unwrap()
                .source
        };
        assert_eq!(ask(cache.clone(), calls.clone()).await, Source::Evaluated);
        assert_eq!(ask(cache.clone(), calls.clone()).await, Source::Hit);
        tokio::time::advance(Duration::from_secs(11)).await;
        assert_eq!(ask(cache.clone(), calls.clone()).await, Source::Evaluated);
        assert_eq!(cache.forget_negative(|k| *k == "d"), 1);
        assert_eq!(ask(cache.clone(), calls.clone()).await, Source::Evaluated);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn positive_results_are_bounded_and_may_expire() {
        let cache = cache(CacheConfig {
            positive_capacity: 2,
            positive_ttl: Some(Duration::from_secs(60)),
            ..CacheConfig::default()
        });
        for key in ["a", "b", "c"] {
            cache
                .get_or_evaluate(key, || async { Value(Retention::Positive, 1) })
                .await
                .unwrap();
        }
        assert_eq!(cache.stats().positive_entries, 2);
        assert!(cache.peek(&"a").is_none());
        assert!(cache.peek(&"c").is_some());
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(cache.peek(&"c").is_none());
    }

    #[tokio::test]
    async fn an_evaluation_that_panics_is_abandoned_not_stuck() {
        let cache = cache(CacheConfig::default());
        let err = cache
            .get_or_evaluate("p", || async {
                if true {
                    panic!("evaluation failed");
                }
                Value(Retention::Positive, 0)
            })
            .await
            .unwrap_err();
        assert_eq!(err, CacheError::Abandoned);
        assert_eq!(cache.stats().in_flight, 0);
        let ok = cache
            .get_or_evaluate("p", || async { Value(Retention::Positive, 2) })
            .await
            .unwrap();
        assert_eq!(ok.value.1, 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_that_gives_up_does_not_cancel_the_evaluation() {
        let cache = cache(CacheConfig::default());
        let slow = cache.get_or_evaluate("s", || async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Value(Retention::Positive, 3)
        });
        assert!(
            tokio::time::timeout(Duration::from_millis(10), slow)
                .await
                .is_err()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(cache.peek(&"s").map(|v| v.1), Some(3));
    }
}
