//! Who may read an unverified manifest: clients that can push to the
//! repository, so that `cosign sign` works right after a push.
//!
//! The rule, and why it is safe:
//!
//! - Push scope is established by the **upstream**, with the client's own
//!   credentials: the gate starts a blob upload
//!   (`POST /v2/<name>/blobs/uploads/`) with the client's `Authorization`
//!   header and cancels it at once (`DELETE` of the returned location).
//!   Only a client the registry lets push gets `202 Accepted`. Nothing the
//!   client says about itself (User-Agent, any header but its credentials)
//!   counts.
//! - An upstream that lets **anonymous** clients push proves nothing by
//!   accepting a push, so if the same probe without credentials is
//!   accepted, nobody gets the signer exception on that repository.
//! - A request without credentials is never a signer's.
//! - Results are kept for a minute per (credentials, repository), by a
//!   SHA-256 of the header, never the header itself.
//!
//! With token authentication, clients fetch a token per scope; a token
//! fetched for a pull carries no push right even for a signer. The gate's
//! token proxy therefore asks for `pull,push` wherever a client asks for
//! `pull` on a repository ([`widen_scopes`]): the token server grants only
//! what the client's credentials allow, so a reader still gets a pull-only
//! token and a signer a token that proves its push right.

use std::sync::Mutex;
use std::time::Duration;

use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, StatusCode};
use sha2::{Digest as _, Sha256};
use signet_oci::RepositoryRef;

use crate::gate::upstream::Upstream;
use crate::lru::Lru;

/// How long a probe's answer is kept.
const SIGNER_TTL: Duration = Duration::from_secs(60);
/// How long "this repository refuses anonymous pushes" is kept.
const ANONYMOUS_TTL: Duration = Duration::from_secs(300);
/// Credentials × repositories remembered.
const CAPACITY: usize = 10_000;

pub(crate) struct Signers {
    known: Mutex<Lru<([u8; 32], String), bool>>,
    anonymous_refused: Mutex<Lru<String, bool>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

impl Signers {
    pub(crate) fn new() -> Self {
        Self {
            known: Mutex::new(Lru::new(CAPACITY, Some(SIGNER_TTL))),
            anonymous_refused: Mutex::new(Lru::new(CAPACITY, Some(ANONYMOUS_TTL))),
        }
    }

    /// Whether the holder of `authorization` can push to `repository`
    /// upstream (see the module docs).
    pub(crate) async fn can_push(
        &self,
        upstream: &Upstream,
        repository: &RepositoryRef,
        authorization: &HeaderValue,
    ) -> bool {
        let key = (
            Sha256::digest(authorization.as_bytes()).into(),
            repository.to_string(),
        );
        if let Some(known) = lock(&self.known).get(&key, now()) {
            return known;
        }
        let cached = lock(&self.anonymous_refused).get(&key.1, now());
        let anonymous_refused = match cached {
            Some(r) => r,
            None => {
                let refused = probe(upstream, repository, None).await == Some(false);
                lock(&self.anonymous_refused).insert(key.1.clone(), refused, now());
                refused
            }
        };
        let signer = anonymous_refused
            && probe(upstream, repository, Some(authorization)).await == Some(true);
        lock(&self.known).insert(key, signer, now());
        signer
    }
}

/// Starts and cancels a blob upload: `Some(true)` accepted, `Some(false)`
/// refused (401/403), `None` anything else.
async fn probe(
    upstream: &Upstream,
    repository: &RepositoryRef,
    authorization: Option<&HeaderValue>,
) -> Option<bool> {
    let mut headers = HeaderMap::new();
    if let Some(a) = authorization {
        headers.insert(header::AUTHORIZATION, a.clone());
    }
    let path = format!("/v2/{}/blobs/uploads/", repository.repository());
    let response = upstream
        .send(Method::POST, &path, &headers, None)
        .await
        .ok()?;
    match response.status() {
        StatusCode::ACCEPTED => {
            // Cancel the upload; a failure only leaves an upload the
            // registry expires by itself.
            if let Some(location) = response
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
            {
                let target = match location.strip_prefix(upstream.base_str()) {
                    Some(rest) => rest.to_owned(),
                    None if location.starts_with('/') => location.to_owned(),
                    None => String::new(),
                };
                if !target.is_empty() {
                    let _ = upstream.send(Method::DELETE, &target, &headers, None).await;
                }
            }
            Some(true)
        }
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Some(false),
        _ => None,
    }
}

/// A token request's query with `push` added to every repository scope that
/// asks for `pull` only (see the module docs). Other parameters are kept
/// byte for byte.
pub(crate) fn widen_scopes(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let Some(value) = pair.strip_prefix("scope=") else {
                return pair.to_owned();
            };
            let decoded = value.replace("%3A", ":").replace("%3a", ":");
            let mut parts = decoded.rsplitn(2, ':');
            let (Some(actions), Some(resource)) = (parts.next(), parts.next()) else {
                return pair.to_owned();
            };
            if !resource.starts_with("repository:") || actions != "pull" {
                return pair.to_owned();
            }
            format!("scope={}%3Apull%2Cpush", resource.replace(':', "%3A"))
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_scopes_are_widened_and_nothing_else_changes() {
        assert_eq!(
            widen_scopes("account=u&scope=repository%3Ateam%2Fapp%3Apull&service=reg"),
            "account=u&scope=repository%3Ateam%2Fapp%3Apull%2Cpush&service=reg"
        );
        assert_eq!(
            widen_scopes("scope=repository:a:pull&scope=repository:b:pull,push"),
            "scope=repository%3Aa%3Apull%2Cpush&scope=repository:b:pull,push"
        );
        assert_eq!(
            widen_scopes("scope=registry:catalog:*&service=x"),
            "scope=registry:catalog:*&service=x"
        );
        assert_eq!(widen_scopes(""), "");
    }
}
