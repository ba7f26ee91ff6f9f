//! OIDC ID-token verification, as Fulcio does it: the token's issuer must be
//! one the configuration trusts; its signature must verify with a key from
//! that issuer's JWKS (found through OpenID Connect discovery, cached, and
//! fetched again when a token names an unknown `kid`, at most once per
//! `jwks-min-refresh-seconds` so that tokens with random key IDs cannot make
//! the server hammer the issuer); `aud` must contain the configured audience;
//! `exp`, `nbf` and `iat` must hold with a small leeway; email issuers must
//! vouch for the email (`email_verified`).
//!
//! Tokens for unconfigured issuers never cause a fetch: the issuer URL comes
//! from the configuration, never from the token.

pub mod discovery;
pub mod jwt;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use thiserror::Error;

use crate::config::{IssuerConfig, IssuerType, OidcSettings};
use crate::metrics::Metrics;
use discovery::Fetcher;
use jwt::{Jwk, UnverifiedToken};

/// How soon a failed fetch may be retried (when the refresh interval is longer).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);
/// Most keys tried for a token without a `kid`.
const MAX_CANDIDATE_KEYS: usize = 4;

/// Why an ID token was refused. Each message names the failed check.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a token at all.
    #[error("malformed identity token: {0}")]
    Malformed(String),
    /// An algorithm signet does not verify (or `none`).
    #[error(
        "identity token algorithm {0} is not supported (RS256, RS384, RS512, ES256, ES384, EdDSA are)"
    )]
    UnsupportedAlgorithm(String),
    /// The issuer is not configured.
    #[error("identity token issuer {issuer:?} is not trusted by this server")]
    UnknownIssuer {
        /// The token's `iss`.
        issuer: String,
    },
    /// The signature does not verify.
    #[error("identity token signature is invalid: {0}")]
    BadSignature(String),
    /// The `kid` names no key the issuer publishes.
    #[error("identity token key {kid:?} is not among the keys issuer {issuer} publishes")]
    UnknownKey {
        /// The issuer.
        issuer: String,
        /// The token's `kid`.
        kid: String,
    },
    /// `aud` does not contain the expected audience.
    #[error("identity token audience {actual} does not contain {expected:?}")]
    WrongAudience {
        /// The configured audience.
        expected: String,
        /// The token's `aud`, as JSON.
        actual: String,
    },
    /// `exp` has passed.
    #[error("identity token expired at {exp} (now {now}, leeway {leeway}s)")]
    Expired {
        /// `exp`, RFC 3339.
        exp: String,
        /// The server's time.
        now: String,
        /// Tolerated skew.
        leeway: u64,
    },
    /// `nbf` lies ahead.
    #[error("identity token is not valid before {nbf} (now {now}, leeway {leeway}s)")]
    NotYetValid {
        /// `nbf`, RFC 3339.
        nbf: String,
        /// The server's time.
        now: String,
        /// Tolerated skew.
        leeway: u64,
    },
    /// `iat` lies ahead.
    #[error("identity token was issued in the future at {iat} (now {now}, leeway {leeway}s)")]
    IssuedInFuture {
        /// `iat`, RFC 3339.
        iat: String,
        /// The server's time.
        now: String,
        /// Tolerated skew.
        leeway: u64,
    },
    /// A required claim is missing or of the wrong type.
    #[error("identity token claim {claim} {problem}")]
    Claim {
        /// The claim.
        claim: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The issuer's keys could not be fetched. Not the client's fault.
    #[error("cannot fetch the keys of issuer {issuer}: {reason}")]
    IssuerUnavailable {
        /// The issuer.
        issuer: String,
        /// Why.
        reason: String,
    },
}

impl TokenError {
    /// Whether the issuer, not the token, is to blame (answered with 503).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::IssuerUnavailable { .. })
    }

    /// A short name for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::UnsupportedAlgorithm(_) => "algorithm",
            Self::UnknownIssuer { .. } => "unknown_issuer",
            Self::BadSignature(_) => "bad_signature",
            Self::UnknownKey { .. } => "unknown_key",
            Self::WrongAudience { .. } => "audience",
            Self::Expired { .. } => "expired",
            Self::NotYetValid { .. } => "not_yet_valid",
            Self::IssuedInFuture { .. } => "issued_in_future",
            Self::Claim { .. } => "claim",
            Self::IssuerUnavailable { .. } => "issuer_unavailable",
        }
    }
}

/// A token whose signature and claims checked out.
#[derive(Clone, Debug)]
pub struct VerifiedToken {
    /// The issuer that signed it, as configured.
    pub issuer: Arc<IssuerConfig>,
    /// All its claims.
    pub claims: Map<String, Value>,
}

impl VerifiedToken {
    /// A string claim.
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

struct CachedKeys {
    keys: Arc<Vec<Jwk>>,
    fetched: Instant,
}

struct LastFetch {
    at: Instant,
    error: Option<String>,
}

struct IssuerKeys {
    config: Arc<IssuerConfig>,
    fetcher: Fetcher,
    cache: RwLock<Option<CachedKeys>>,
    /// Held while fetching, so that concurrent misses fetch once.
    last_fetch: tokio::sync::Mutex<Option<LastFetch>>,
}

/// Verifies ID tokens against the configured issuers.
pub struct OidcVerifier {
    issuers: HashMap<String, IssuerKeys>,
    settings: OidcSettings,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcVerifier")
            .field("issuers", &self.issuers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Metric: fetches of issuers' keys.
pub const METRIC_JWKS_FETCHES: &str = "signet_oidc_jwks_fetches_total";
/// Metric: tokens checked.
pub const METRIC_TOKENS: &str = "signet_oidc_tokens_total";

impl OidcVerifier {
    /// A verifier for `issuers`. Keys are fetched on first use.
    pub fn new(
        issuers: &[IssuerConfig],
        settings: &OidcSettings,
        metrics: Arc<Metrics>,
    ) -> Result<Self, String> {
        metrics.describe_counter(
            METRIC_JWKS_FETCHES,
            "Fetches of OIDC issuers' keys (discovery and JWKS), by issuer and result.",
        );
        metrics.describe_counter(METRIC_TOKENS, "Identity tokens checked, by result.");
        let timeout = Duration::from_secs(settings.fetch_timeout_seconds.max(1));
        let mut map = HashMap::new();
        for issuer in issuers {
            let fetcher =
                Fetcher::new(issuer, timeout).map_err(|e| format!("issuer {}: {e}", issuer.url))?;
            map.insert(
                issuer.url.clone(),
                IssuerKeys {
                    config: Arc::new(issuer.clone()),
                    fetcher,
                    cache: RwLock::new(None),
                    last_fetch: tokio::sync::Mutex::new(None),
                },
            );
        }
        Ok(Self {
            issuers: map,
            settings: settings.clone(),
            metrics,
        })
    }

    /// The configured issuers.
    pub fn issuers(&self) -> impl Iterator<Item = &IssuerConfig> {
        self.issuers.values().map(|i| i.config.as_ref())
    }

    /// Checks `token` at the current time.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        let result = self.verify_at(token, SystemTime::now()).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        };
        self.metrics.inc(METRIC_TOKENS, &[("result", outcome)]);
        result
    }

    /// Checks `token` at `now`.
    pub async fn verify_at(
        &self,
        token: &str,
        now: SystemTime,
    ) -> Result<VerifiedToken, TokenError> {
        let parsed = jwt::parse(token.trim())?;
        let iss = parsed
            .claims
            .get("iss")
            .and_then(Value::as_str)
            .ok_or_else(|| TokenError::Claim {
                claim: "iss",
                problem: "is missing or not a string".into(),
            })?;
        let issuer = self
            .issuers
            .get(iss)
            .ok_or_else(|| TokenError::UnknownIssuer {
                issuer: iss.chars().take(200).collect(),
            })?;
        self.check_signature(issuer, &parsed).await?;
        check_claims(
            &issuer.config,
            &parsed.claims,
            now,
            self.settings.leeway_seconds,
        )?;
        Ok(VerifiedToken {
            issuer: issuer.config.clone(),
            claims: parsed.claims,
        })
    }

    async fn check_signature(
        &self,
        issuer: &IssuerKeys,
        token: &UnverifiedToken<'_>,
    ) -> Result<(), TokenError> {
        let candidates = self.keys_for(issuer, token).await?;
        let mut last = None;
        for key in candidates.iter().take(MAX_CANDIDATE_KEYS) {
            match token.verify(key) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            TokenError::BadSignature(format!(
                "issuer {} publishes no key for {}",
                issuer.config.url,
                token.algorithm.name()
            ))
        }))
    }

    /// The keys that may have signed `token`: the one named by its `kid`, or
    /// those fitting its algorithm when it names none.
    async fn keys_for(
        &self,
        issuer: &IssuerKeys,
        token: &UnverifiedToken<'_>,
    ) -> Result<Vec<Jwk>, TokenError> {
        let max_age = Duration::from_secs(self.settings.jwks_max_age_seconds);
        let matching = |keys: &[Jwk]| -> Vec<Jwk> {
            keys.iter()
                .filter(|k| match &token.kid {
                    Some(kid) => k.kid.as_deref() == Some(kid.as_str()),
                    None => k.supports(token.algorithm),
                })
                .cloned()
                .collect()
        };
        // Fast path: fresh keys with a match.
        if let Some((keys, fetched)) = issuer.cached()
            && fetched.elapsed() < max_age
        {
            let found = matching(&keys);
            if !found.is_empty() {
                return Ok(found);
            }
        }
        // A miss or stale keys: fetch, once at a time and not too often.
        let mut last = issuer.last_fetch.lock().await;
        let cached = issuer.cached();
        // Another request may have fetched while this one waited.
        if let Some((keys, fetched)) = &cached
            && fetched.elapsed() < max_age
        {
            let found = matching(keys);
            if !found.is_empty() {
                return Ok(found);
            }
        }
        let min_interval = Duration::from_secs(self.settings.jwks_min_refresh_seconds);
        let may_fetch = match last.as_ref() {
            None => true,
            Some(l) if l.error.is_some() => l.at.elapsed() >= min_interval.min(RETRY_AFTER_FAILURE),
            Some(l) => l.at.elapsed() >= min_interval,
        };
        if may_fetch {
            let result = issuer.fetcher.fetch_keys(&issuer.config.url).await;
            let url = issuer.config.url.as_str();
            match result {
                Ok(keys) => {
                    self.metrics
                        .inc(METRIC_JWKS_FETCHES, &[("issuer", url), ("result", "ok")]);
                    let keys = Arc::new(keys);
                    issuer.store(keys.clone());
                    *last = Some(LastFetch {
                        at: Instant::now(),
                        error: None,
                    });
                    let found = matching(&keys);
                    return self.found_or_unknown(issuer, token, found);
                }
                Err(e) => {
                    self.metrics
                        .inc(METRIC_JWKS_FETCHES, &[("issuer", url), ("result", "error")]);
                    tracing::warn!(issuer = url, error = %e, "cannot fetch the issuer's keys");
                    *last = Some(LastFetch {
                        at: Instant::now(),
                        error: Some(e.clone()),
                    });
                    // Keys that went stale still beat none while the issuer is down.
                    if let Some((keys, _)) = &cached {
                        let found = matching(keys);
                        if !found.is_empty() {
                            return Ok(found);
                        }
                    }
                    return Err(TokenError::IssuerUnavailable {
                        issuer: url.to_owned(),
                        reason: e,
                    });
                }
            }
        }
        // Not allowed to fetch again yet: answer from what is known.
        match &cached {
            Some((keys, _)) => self.found_or_unknown(issuer, token, matching(keys)),
            None => Err(TokenError::IssuerUnavailable {
                issuer: issuer.config.url.clone(),
                reason: last
                    .as_ref()
                    .and_then(|l| l.error.clone())
                    .unwrap_or_else(|| "no keys fetched yet".into()),
            }),
        }
    }

    fn found_or_unknown(
        &self,
        issuer: &IssuerKeys,
        token: &UnverifiedToken<'_>,
        found: Vec<Jwk>,
    ) -> Result<Vec<Jwk>, TokenError> {
        if !found.is_empty() {
            return Ok(found);
        }
        match &token.kid {
            Some(kid) => Err(TokenError::UnknownKey {
                issuer: issuer.config.url.clone(),
                kid: kid.chars().take(80).collect(),
            }),
            None => Err(TokenError::BadSignature(format!(
                "issuer {} publishes no key for {}",
                issuer.config.url,
                token.algorithm.name()
            ))),
        }
    }
}

impl IssuerKeys {
    fn cached(&self) -> Option<(Arc<Vec<Jwk>>, Instant)> {
        let guard = self
            .cache
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.as_ref().map(|c| (c.keys.clone(), c.fetched))
    }

    fn store(&self, keys: Arc<Vec<Jwk>>) {
        let mut guard = self
            .cache
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard = Some(CachedKeys {
            keys,
            fetched: Instant::now(),
        });
    }
}

fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<i64>, TokenError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| TokenError::Claim {
                claim: name,
                problem: "is not a NumericDate".into(),
            }),
        Some(_) => Err(TokenError::Claim {
            claim: name,
            problem: "is not a NumericDate".into(),
        }),
    }
}

fn rfc3339(seconds: i64) -> String {
    crate::time::format_rfc3339(signet_pki::time::from_unix_seconds(seconds))
}

/// The claim checks after the signature: audience, times, subject, email.
fn check_claims(
    issuer: &IssuerConfig,
    claims: &Map<String, Value>,
    now: SystemTime,
    leeway: u64,
) -> Result<(), TokenError> {
    let now_s = now
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let skew = i64::try_from(leeway).unwrap_or(i64::MAX);
    let now_text = || rfc3339(now_s);

    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == &issuer.audience,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(&issuer.audience)),
        _ => false,
    };
    if !aud_ok {
        return Err(TokenError::WrongAudience {
            expected: issuer.audience.clone(),
            actual: claims
                .get("aud")
                .map(|v| v.to_string().chars().take(200).collect())
                .unwrap_or_else(|| "(none)".into()),
        });
    }
    let exp = numeric_date(claims, "exp")?.ok_or(TokenError::Claim {
        claim: "exp",
        problem: "is missing".into(),
    })?;
    if now_s > exp.saturating_add(skew) {
        return Err(TokenError::Expired {
            exp: rfc3339(exp),
            now: now_text(),
            leeway,
        });
    }
    if let Some(nbf) = numeric_date(claims, "nbf")?
        && nbf.saturating_sub(skew) > now_s
    {
        return Err(TokenError::NotYetValid {
            nbf: rfc3339(nbf),
            now: now_text(),
            leeway,
        });
    }
    if let Some(iat) = numeric_date(claims, "iat")?
        && iat.saturating_sub(skew) > now_s
    {
        return Err(TokenError::IssuedInFuture {
            iat: rfc3339(iat),
            now: now_text(),
            leeway,
        });
    }
    match claims.get("sub") {
        Some(Value::String(s)) if !s.is_empty() => {}
        _ => {
            return Err(TokenError::Claim {
                claim: "sub",
                problem: "is missing or empty".into(),
            });
        }
    }
    if issuer.issuer_type == IssuerType::Email {
        match claims.get("email") {
            Some(Value::String(s)) if !s.is_empty() => {}
            _ => {
                return Err(TokenError::Claim {
                    claim: "email",
                    problem: "is missing (an email issuer's tokens must carry the address)".into(),
                });
            }
        }
        let verified = match claims.get("email_verified") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true",
            _ => false,
        };
        if !verified {
            return Err(TokenError::Claim {
                claim: "email_verified",
                problem: "is not true; the issuer does not vouch for the address".into(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn claim_checks() {
        let issuer = IssuerConfig::new("https://i.test", IssuerType::Email);
        let now = signet_pki::time::from_unix_seconds(1_800_000_000);
        let good = json!({"aud":"sigstore","exp":1_800_000_100,"iat":1_799_999_990,"nbf":1_799_999_990,
                          "sub":"a","email":"a@b.test","email_verified":true});
        check_claims(&issuer, &claims(good.clone()), now, 60).unwrap();

        let mut v = good.clone();
        v["aud"] = json!(["other", "sigstore"]);
        check_claims(&issuer, &claims(v), now, 60).unwrap();

        let cases: [(&str, Value, &str); 8] = [
            ("aud", json!("other"), "audience"),
            ("exp", json!(1_799_999_000), "expired"),
            ("nbf", json!(1_800_000_500), "not valid before"),
            ("iat", json!(1_800_000_500), "issued in the future"),
            ("email_verified", json!(false), "email_verified"),
            ("email", json!(null), "email"),
            ("sub", json!(""), "sub"),
            ("exp", json!("soon"), "NumericDate"),
        ];
        for (claim, value, needle) in cases {
            let mut v = good.clone();
            v[claim] = value;
            let err = check_claims(&issuer, &claims(v), now, 60)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{claim}: {err}");
        }
        // Leeway: expired 30 s ago is still accepted with 60 s of leeway.
        let mut v = good;
        v["exp"] = json!(1_799_999_970);
        check_claims(&issuer, &claims(v), now, 60).unwrap();
    }
}
