//! The token flow over the transport: anonymous first, then the registry's
//! challenge (Basic, or Bearer through the token endpoint), with tokens and
//! looked-up credentials cached per registry and scope.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Response, StatusCode, Url};
use serde::Deserialize;

use crate::auth::Credential;
use crate::error::RegistryError;
use crate::options::ClientOptions;
use crate::reference::RepositoryRef;
use crate::response::{error_for, read_limited};
use crate::text::snippet;
use crate::transport::{AuthHeader, Req, Transport};
use crate::www_authenticate::{self, Challenge};

const MAX_TOKEN_RESPONSE: usize = 1 << 20;
/// Token lifetime when the token endpoint does not say (the distribution spec's default).
const DEFAULT_TOKEN_SECS: u64 = 60;

/// What a request needs permission to do; selects the token scope.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Action {
    Pull,
    Push,
    /// `GET /v2/_catalog`; the repository only selects credentials.
    Catalog,
}

impl Action {
    fn scope(self, repo: &RepositoryRef) -> String {
        let actions = match self {
            Action::Pull => "pull",
            Action::Push => "pull,push",
            Action::Catalog => return "registry:catalog:*".to_owned(),
        };
        format!("repository:{}:{actions}", repo.repository())
    }
}

/// What credentials are looked up (and cached) by: the repository, since
/// podman's `auth.json` may hold different credentials per namespace.
fn credential_key(repo: &RepositoryRef) -> String {
    format!("{}/{}", repo.registry(), repo.repository())
}

struct CachedToken {
    token: String,
    expires: Instant,
}

#[derive(Default)]
struct AuthState {
    /// Bearer tokens by (registry, scope).
    tokens: HashMap<(String, String), CachedToken>,
    /// Registries that challenged with Basic: send credentials up front.
    basic: HashSet<String>,
    /// Credentials looked up from config files, by `registry/repository`
    /// (podman's `auth.json` may scope them to a namespace).
    credentials: HashMap<String, Credential>,
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// A transport plus the credentials and tokens it has earned.
pub(crate) struct Session {
    transport: Transport,
    state: Mutex<AuthState>,
}

impl Session {
    pub fn new(transport: Transport) -> Self {
        Self {
            transport,
            state: Mutex::new(AuthState::default()),
        }
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    fn options(&self) -> &ClientOptions {
        self.transport.options()
    }

    fn state(&self) -> MutexGuard<'_, AuthState> {
        // A panic elsewhere while holding the lock leaves only a cache behind.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `req`, answering one authentication challenge. Returns the final
    /// response whatever its status; callers classify unsuccessful ones with
    /// [`error_for`].
    pub async fn send(
        &self,
        repo: &RepositoryRef,
        action: Action,
        req: &Req<'_>,
    ) -> Result<Response, RegistryError> {
        let registry = repo.registry();
        let scope = action.scope(repo);
        let mut auth = self.cached_auth(registry, &scope, action, repo);
        let mut challenged = false;
        loop {
            let response = self.transport.send(registry, req, auth.as_ref()).await?;
            if response.status() == StatusCode::UNAUTHORIZED && !challenged {
                challenged = true;
                let challenge = response
                    .headers()
                    .get_all(WWW_AUTHENTICATE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .find_map(www_authenticate::preferred);
                if let Some(challenge) = challenge
                    && let Some(header) =
                        self.authenticate(repo, action, &scope, &challenge).await?
                {
                    auth = Some(header);
                    continue;
                }
            }
            return Ok(response);
        }
    }

    fn cached_auth(
        &self,
        registry: &str,
        scope: &str,
        action: Action,
        repo: &RepositoryRef,
    ) -> Option<AuthHeader> {
        let state = self.state();
        if state.basic.contains(registry) {
            return match self
                .options()
                .credentials
                .as_ref()
                .or(state.credentials.get(&credential_key(repo)))
            {
                Some(Credential::Basic { username, password }) => Some(AuthHeader::Basic {
                    username: username.clone(),
                    password: password.clone(),
                }),
                _ => None,
            };
        }
        let now = Instant::now();
        let get = |scope: &str| {
            state
                .tokens
                .get(&(registry.to_owned(), scope.to_owned()))
                .filter(|t| t.expires > now)
                .map(|t| AuthHeader::Bearer(t.token.clone()))
        };
        // A push token also allows pulls.
        get(scope).or_else(|| match action {
            Action::Pull => get(&Action::Push.scope(repo)),
            Action::Push | Action::Catalog => None,
        })
    }

    async fn credential(&self, repo: &RepositoryRef) -> Result<Credential, RegistryError> {
        if let Some(c) = &self.options().credentials {
            return Ok(c.clone());
        }
        let key = credential_key(repo);
        if let Some(c) = self.state().credentials.get(&key) {
            return Ok(c.clone());
        }
        let lookup_key = key.clone();
        // May run a credential helper process.
        let cred = tokio::task::spawn_blocking(move || crate::auth::credential_for(&lookup_key))
            .await
            .map_err(|e| RegistryError::Setup(format!("credential lookup failed: {e}")))??;
        self.state().credentials.insert(key, cred.clone());
        Ok(cred)
    }

    /// Answers a challenge; `None` when there is nothing to answer it with.
    async fn authenticate(
        &self,
        repo: &RepositoryRef,
        action: Action,
        scope: &str,
        challenge: &Challenge,
    ) -> Result<Option<AuthHeader>, RegistryError> {
        let registry = repo.registry();
        let credential = self.credential(repo).await?;
        if challenge.is_basic() {
            return Ok(match credential {
                Credential::Basic { username, password } => {
                    self.state().basic.insert(registry.to_owned());
                    Some(AuthHeader::Basic { username, password })
                }
                _ => None,
            });
        }
        if let Credential::Bearer(token) = credential {
            // A given registry token is used as is; cache it so later
            // requests skip the anonymous round trip.
            self.cache_token(registry, scope, &token, 3600);
            return Ok(Some(AuthHeader::Bearer(token)));
        }
        let what = format!(
            "token for {} ({})",
            repo,
            if action == Action::Push {
                "push"
            } else {
                "pull"
            }
        );
        let invalid = |reason: String| RegistryError::InvalidResponse {
            what: what.clone(),
            reason,
        };
        let realm = challenge
            .param("realm")
            .ok_or_else(|| invalid("bearer challenge without realm".into()))?;
        let mut realm = Url::parse(realm)
            .map_err(|e| invalid(format!("bad realm {:?}: {e}", snippet(realm, 80))))?;
        // A realm over plain HTTP is no worse than the registry itself.
        let plain_ok =
            self.transport.is_plain_http(registry) || credential == Credential::Anonymous;
        match realm.scheme() {
            "https" => {}
            "http" if plain_ok => {}
            other => {
                return Err(invalid(format!(
                    "refusing to send credentials to a {other}:// token realm"
                )));
            }
        }
        let service = challenge.param("service").unwrap_or_default().to_owned();
        let response = match &credential {
            Credential::IdentityToken(refresh) => {
                let form = form_encode(&[
                    ("grant_type", "refresh_token"),
                    ("service", &service),
                    ("scope", scope),
                    ("client_id", "signet"),
                    ("refresh_token", refresh),
                ]);
                let r = self
                    .transport
                    .http()
                    .post(realm.clone())
                    .header(
                        CONTENT_TYPE,
                        HeaderValue::from_static("application/x-www-form-urlencoded"),
                    )
                    .body(form)
                    .send()
                    .await
                    .map_err(|e| self.transport.transport_error(registry, &e))?;
                // Token servers without the OAuth2 POST flow take the refresh token as Basic auth.
                if matches!(r.status().as_u16(), 404 | 405) {
                    self.token_get(
                        &mut realm,
                        &service,
                        scope,
                        Some(("<token>", refresh)),
                        registry,
                    )
                    .await?
                } else {
                    r
                }
            }
            Credential::Basic { username, password } => {
                self.token_get(
                    &mut realm,
                    &service,
                    scope,
                    Some((username, password)),
                    registry,
                )
                .await?
            }
            _ => {
                self.token_get(&mut realm, &service, scope, None, registry)
                    .await?
            }
        };
        if !response.status().is_success() {
            return Err(error_for(response, &what, registry).await);
        }
        let body = read_limited(response, MAX_TOKEN_RESPONSE, &what, registry).await?;
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| invalid(format!("token response is not JSON: {e}")))?;
        let token = parsed
            .token
            .filter(|t| !t.is_empty())
            .or(parsed.access_token.filter(|t| !t.is_empty()))
            .ok_or_else(|| invalid("token response has neither token nor access_token".into()))?;
        let secs = parsed.expires_in.unwrap_or(DEFAULT_TOKEN_SECS);
        self.cache_token(registry, scope, &token, secs);
        Ok(Some(AuthHeader::Bearer(token)))
    }

    fn cache_token(&self, registry: &str, scope: &str, token: &str, secs: u64) {
        // Refresh a little early so a token does not expire in flight.
        let secs = secs.clamp(10, 24 * 3600) - 5;
        self.state().tokens.insert(
            (registry.to_owned(), scope.to_owned()),
            CachedToken {
                token: token.to_owned(),
                expires: Instant::now() + Duration::from_secs(secs),
            },
        );
    }

    async fn token_get(
        &self,
        realm: &mut Url,
        service: &str,
        scope: &str,
        basic: Option<(&str, &str)>,
        registry: &str,
    ) -> Result<Response, RegistryError> {
        {
            let mut q = realm.query_pairs_mut();
            if !service.is_empty() {
                q.append_pair("service", service);
            }
            q.append_pair("scope", scope);
        }
        let mut builder = self.transport.http().get(realm.clone());
        if let Some((u, p)) = basic {
            builder = builder.basic_auth(u, Some(p));
        }
        builder
            .send()
            .await
            .map_err(|e| self.transport.transport_error(registry, &e))
    }
}

/// `application/x-www-form-urlencoded` encoding.
fn form_encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    out.push(char::from(b))
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding() {
        assert_eq!(
            form_encode(&[("scope", "repository:a/b:pull,push"), ("x", "a b&c=é")]),
            "scope=repository%3Aa%2Fb%3Apull%2Cpush&x=a+b%26c%3D%C3%A9"
        );
    }

    #[test]
    fn scopes() {
        let repo: RepositoryRef = "ghcr.io/org/app".parse().unwrap();
        assert_eq!(Action::Pull.scope(&repo), "repository:org/app:pull");
        assert_eq!(Action::Push.scope(&repo), "repository:org/app:pull,push");
    }
}
