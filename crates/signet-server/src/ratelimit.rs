//! Per-client rate limiting: a token bucket per client address (IPv6
//! clients per /64, since one host usually owns the whole prefix). A request
//! finding its bucket empty is answered 429 with `Retry-After`.
//!
//! The table of buckets is bounded: when it is full, buckets that have
//! refilled (clients that went quiet) are dropped first; if every bucket is
//! still in use, new clients share one overflow bucket, so that a flood of
//! addresses cannot grow memory without bound.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use crate::config::RateLimitSettings;

/// Most client buckets kept.
const MAX_BUCKETS: usize = 100_000;

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The key a client is counted under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ClientKey {
    V4([u8; 4]),
    V6Prefix([u8; 8]),
    Overflow,
}

fn key_of(ip: IpAddr) -> ClientKey {
    match ip {
        IpAddr::V4(v4) => ClientKey::V4(v4.octets()),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => ClientKey::V4(v4.octets()),
            None => {
                let o = v6.octets();
                let mut prefix = [0u8; 8];
                prefix.copy_from_slice(&o[..8]);
                ClientKey::V6Prefix(prefix)
            }
        },
    }
}

/// The decision for one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Refuse; a token will be available after this many seconds.
    Limit {
        /// Seconds to wait (rounded up, at least 1).
        retry_after: u64,
    },
}

/// Token buckets for all clients.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<ClientKey, Bucket>>,
}

impl RateLimiter {
    /// A limiter; `None` when the settings turn limiting off.
    pub fn new(settings: &RateLimitSettings) -> Option<Self> {
        if settings.requests_per_second <= 0.0 {
            return None;
        }
        Some(Self {
            rate: settings.requests_per_second,
            burst: f64::from(settings.burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes a token for `client` at `now`.
    pub fn check(&self, client: IpAddr, now: Instant) -> Decision {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let mut key = key_of(client);
        if !buckets.contains_key(&key) && buckets.len() >= MAX_BUCKETS {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| {
                let refilled =
                    b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * rate;
                refilled < burst
            });
            if buckets.len() >= MAX_BUCKETS {
                key = ClientKey::Overflow;
            }
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Decision::Allow
        } else {
            let wait = (1.0 - bucket.tokens) / self.rate;
            Decision::Limit {
                retry_after: (wait.ceil() as u64).max(1),
            }
        }
    }
}

/// The client's address: the peer, or, when the peer is a trusted proxy,
/// the last address in `X-Forwarded-For` (the one that proxy appended).
pub fn client_address(
    peer: IpAddr,
    forwarded_for: Option<&str>,
    trusted_proxies: &[IpAddr],
) -> IpAddr {
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    forwarded_for
        .and_then(|h| h.rsplit(',').next())
        .and_then(|last| last.trim().parse().ok())
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn limiter(rate: f64, burst: u32) -> RateLimiter {
        RateLimiter::new(&RateLimitSettings {
            requests_per_second: rate,
            burst,
            trusted_proxies: Vec::new(),
        })
        .unwrap()
    }

    #[test]
    fn bursts_then_refills() {
        let l = limiter(2.0, 3);
        let t0 = Instant::now();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(l.check(ip, t0), Decision::Allow);
        }
        assert_eq!(l.check(ip, t0), Decision::Limit { retry_after: 1 });
        // Another client is unaffected.
        assert_eq!(l.check("192.0.2.2".parse().unwrap(), t0), Decision::Allow);
        // Half a second later one token is back.
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(l.check(ip, t1), Decision::Allow);
        assert!(matches!(l.check(ip, t1), Decision::Limit { .. }));
    }

    #[test]
    fn slow_rates_ask_for_longer_waits() {
        let l = limiter(0.1, 1);
        let t0 = Instant::now();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(l.check(ip, t0), Decision::Allow);
        assert_eq!(l.check(ip, t0), Decision::Limit { retry_after: 10 });
    }

    #[test]
    fn ipv6_clients_share_their_prefix() {
        let l = limiter(1.0, 1);
        let t0 = Instant::now();
        assert_eq!(l.check("2001:db8::1".parse().unwrap(), t0), Decision::Allow);
        assert!(matches!(
            l.check("2001:db8::2".parse().unwrap(), t0),
            Decision::Limit { .. }
        ));
        assert_eq!(
            l.check("2001:db8:1::1".parse().unwrap(), t0),
            Decision::Allow
        );
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "192.0.2.9".parse().unwrap();
        let xff = Some("203.0.113.5, 198.51.100.7");
        assert_eq!(client_address(other, xff, &[proxy]), other);
        assert_eq!(
            client_address(proxy, xff, &[proxy]),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_address(proxy, Some("garbage"), &[proxy]), proxy);
        assert!(
            RateLimiter::new(&RateLimitSettings {
                requests_per_second: 0.0,
                ..RateLimitSettings::default()
            })
            .is_none()
        );
    }
}
