//! A bounded least-recently-used map whose entries may expire.
//!
//! Every operation is O(log n): the recency order is a `BTreeMap` from a
//! monotonic stamp to the key. No unsafe code and no dependency; the caches
//! that use it hold thousands of entries, not millions.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::time::{Duration, Instant};

struct Slot<V> {
    value: V,
    stamp: u64,
    expires: Option<Instant>,
}

/// A map holding at most `capacity` entries; inserting into a full map
/// drops the least recently used entry. Entries older than `ttl` (when set)
/// are treated as absent and removed when met.
pub(crate) struct Lru<K, V> {
    map: HashMap<K, Slot<V>>,
    order: BTreeMap<u64, K>,
    next_stamp: u64,
    capacity: usize,
    ttl: Option<Duration>,
}

impl<K: Hash + Eq + Clone, V: Clone> Lru<K, V> {
    /// A map of at most `capacity` entries (0 keeps nothing), each kept for
    /// at most `ttl` when given.
    pub(crate) fn new(capacity: usize, ttl: Option<Duration>) -> Self {
        Self {
            map: HashMap::new(),
            order: BTreeMap::new(),
            next_stamp: 0,
            capacity,
            ttl,
        }
    }

    fn stamp(&mut self) -> u64 {
        self.next_stamp += 1;
        self.next_stamp
    }

    /// The value under `key`, marking it most recently used; `None` when
    /// absent or expired (an expired entry is removed).
    pub(crate) fn get(&mut self, key: &K, now: Instant) -> Option<V> {
        let expired = match self.map.get(key) {
            None => return None,
            Some(slot) => slot.expires.is_some_and(|e| now >= e),
        };
        if expired {
            self.remove(key);
            return None;
        }
        let stamp = self.stamp();
        let slot = self.map.get_mut(key)?;
        self.order.remove(&slot.stamp);
        slot.stamp = stamp;
        self.order.insert(stamp, key.clone());
        Some(slot.value.clone())
    }

    /// Inserts or replaces `key`, evicting the least recently used entries
    /// beyond the capacity.
    pub(crate) fn insert(&mut self, key: K, value: V, now: Instant) {
        if self.capacity == 0 {
            return;
        }
        self.remove(&key);
        let stamp = self.stamp();
        let expires = self.ttl.and_then(|ttl| now.checked_add(ttl));
        self.order.insert(stamp, key.clone());
        self.map.insert(
            key,
            Slot {
                value,
                stamp,
                expires,
            },
        );
        while self.map.len() > self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.map.remove(&oldest);
        }
    }

    /// Removes `key`; whether it was there.
    pub(crate) fn remove(&mut self, key: &K) -> bool {
        match self.map.remove(key) {
            Some(slot) => {
                self.order.remove(&slot.stamp);
                true
            }
            None => false,
        }
    }

    /// Removes every entry whose key satisfies `pred`; how many.
    pub(crate) fn remove_where(&mut self, mut pred: impl FnMut(&K) -> bool) -> usize {
        let doomed: Vec<K> = self.map.keys().filter(|k| pred(k)).cloned().collect();
        doomed.iter().filter(|k| self.remove(k)).count()
    }

    /// Entries held (expired ones included until met).
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_used() {
        let now = Instant::now();
        let mut lru = Lru::new(2, None);
        lru.insert("a", 1, now);
        lru.insert("b", 2, now);
        assert_eq!(lru.get(&"a", now), Some(1)); // a is now the newest
        lru.insert("c", 3, now); // evicts b
        assert_eq!(lru.get(&"b", now), None);
        assert_eq!(lru.get(&"a", now), Some(1));
        assert_eq!(lru.get(&"c", now), Some(3));
        assert_eq!(lru.len(), 2);
    }

    #[test]
    fn entries_expire() {
        let now = Instant::now();
        let mut lru = Lru::new(8, Some(Duration::from_secs(5)));
        lru.insert("a", 1, now);
        assert_eq!(lru.get(&"a", now + Duration::from_secs(4)), Some(1));
        assert_eq!(lru.get(&"a", now + Duration::from_secs(5)), None);
        assert_eq!(lru.len(), 0);
    }

    #[test]
    fn replace_and_remove_where() {
        let now = Instant::now();
        let mut lru = Lru::new(8, None);
        lru.insert(1, "x", now);
        lru.insert(1, "y", now);
        lru.insert(2, "z", now);
        assert_eq!(lru.len(), 2);
        assert_eq!(lru.get(&1, now), Some("y"));
        assert_eq!(lru.remove_where(|k| *k == 2), 1);
        assert_eq!(lru.len(), 1);
        let mut none: Lru<u8, u8> = Lru::new(0, None);
        none.insert(1, 1, now);
        assert_eq!(none.len(), 0);
    }
}
