//! OIDC identity tokens and where they come from.
//!
//! Sources, in the order they are tried (as cosign tries them):
//!
//! 1. `--identity-token`: the token itself, or the path of a file holding it.
//! 2. `SIGSTORE_ID_TOKEN`.
//! 3. Ambient CI credentials (unless disabled): a GitHub, Gitea or Forgejo
//!    Actions job offers `ACTIONS_ID_TOKEN_REQUEST_URL` and
//!    `ACTIONS_ID_TOKEN_REQUEST_TOKEN`; a `GET` of the URL with
//!    `audience=sigstore`, authorised by the request token, answers
//!    `{"value": "<jwt>"}`. Forgejo needs `enable-openid-connect: true` in
//!    the workflow for the runner to offer them.
//! 4. cosign's filesystem provider: `/var/run/sigstore/cosign/oidc-token`
//!    (a projected Kubernetes service-account token, typically).
//!
//! The token is not verified here (Fulcio does that); its claims are read to
//! make the proof of possession (`email`, else `sub`) and to fail early with
//! a clear message when it has expired.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use reqwest::Method;
use reqwest::header::AUTHORIZATION;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::error::{ServiceError, TokenError, snippet};
use crate::http::{HttpClient, sensitive};

/// The audience Fulcio expects.
pub const SIGSTORE_AUDIENCE: &str = "sigstore";
/// Where cosign's filesystem provider reads a token.
pub const FILESYSTEM_TOKEN_PATH: &str = "/var/run/sigstore/cosign/oidc-token";
/// The largest token accepted from any source.
pub const MAX_TOKEN_BYTES: usize = 64 << 10;

const ACTIONS_URL_VAR: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
const ACTIONS_TOKEN_VAR: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
const SIGSTORE_ID_TOKEN_VAR: &str = "SIGSTORE_ID_TOKEN";

/// The claims of an identity token that signing uses. They are read, not
/// verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `email`, if present.
    pub email: Option<String>,
    /// `aud` (a string or a list in the token).
    pub audience: Vec<String>,
    /// `exp`, unix seconds.
    pub expires_at: Option<i64>,
}

/// An OIDC identity token and the claims read from it. The token is a
/// credential: it is wiped on drop and never printed.
pub struct IdentityToken {
    raw: Zeroizing<String>,
    source: String,
    claims: TokenClaims,
}

impl std::fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityToken")
            .field("source", &self.source)
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct RawClaims {
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    aud: Option<Audience>,
    #[serde(default)]
    exp: Option<serde_json::Number>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl IdentityToken {
    /// Reads a compact JWT's claims. `source` names where it came from, for
    /// messages.
    pub fn parse(token: &str, source: impl Into<String>) -> Result<Self, TokenError> {
        let source = source.into();
        let malformed = |reason: String| TokenError::Malformed {
            source_name: source.clone(),
            reason,
        };
        let token = token.trim();
        if token.len() > MAX_TOKEN_BYTES {
            return Err(malformed(format!(
                "{} bytes, more than the limit of {MAX_TOKEN_BYTES}",
                token.len()
            )));
        }
        let mut parts = token.split('.');
        let (Some(_header), Some(payload), Some(_signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed(
                "not a JWT (three base64url parts separated by dots)".into(),
            ));
        };
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|e| malformed(format!("claims are not base64url: {e}")))?;
        let raw: RawClaims = serde_json::from_slice(&json)
            .map_err(|e| malformed(format!("claims are not a JSON object: {e}")))?;
        let issuer = raw
            .iss
            .filter(|s| !s.is_empty())
            .ok_or_else(|| malformed("no iss claim".into()))?;
        let subject = raw
            .sub
            .filter(|s| !s.is_empty())
            .ok_or_else(|| malformed("no sub claim".into()))?;
        let audience = match raw.aud {
            None => Vec::new(),
            Some(Audience::One(a)) => vec![a],
            Some(Audience::Many(a)) => a,
        };
        let expires_at = match raw.exp {
            None => None,
            Some(n) => Some(
                n.as_i64()
                    .or_else(|| n.as_f64().map(|f| f as i64))
                    .ok_or_else(|| malformed("exp is not a number of seconds".into()))?,
            ),
        };
        Ok(Self {
            raw: Zeroizing::new(token.to_owned()),
            source,
            claims: TokenClaims {
                issuer,
                subject,
                email: raw.email.filter(|e| !e.is_empty()),
                audience,
                expires_at,
            },
        })
    }

    /// The compact JWT.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Where the token came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The claims read from the token.
    pub fn claims(&self) -> &TokenClaims {
        &self.claims
    }

    /// What the proof of possession signs: the `email` claim if the token
    /// has one, otherwise `sub` (Fulcio's `principal.Name()` for email
    /// issuers is the email; for every other issuer type it is `sub`).
    pub fn challenge(&self) -> &str {
        self.claims.email.as_deref().unwrap_or(&self.claims.subject)
    }

    /// Fails if `exp` has passed at `now`.
    pub fn check_not_expired(&self, now: SystemTime) -> Result<(), TokenError> {
        let now = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        match self.claims.expires_at {
            Some(exp) if exp < now => Err(TokenError::Expired {
                source_name: self.source.clone(),
                expired: exp,
                now,
            }),
            _ => Ok(()),
        }
    }
}

/// An ambient provider, as cosign's `--oidc-provider` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AmbientProvider {
    /// GitHub, Gitea and Forgejo Actions (`ACTIONS_ID_TOKEN_REQUEST_*`).
    Actions,
    /// cosign's filesystem provider ([`FILESYSTEM_TOKEN_PATH`]).
    Filesystem,
}

impl AmbientProvider {
    /// A provider by cosign's name (`github-actions`, `filesystem`), or
    /// signet's aliases for Gitea and Forgejo (`gitea-actions`,
    /// `forgejo-actions`, `actions`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "github-actions" | "gitea-actions" | "forgejo-actions" | "actions" => {
                Some(Self::Actions)
            }
            "filesystem" => Some(Self::Filesystem),
            _ => None,
        }
    }

    /// Every provider name accepted, for messages.
    pub const NAMES: &'static str =
        "github-actions, gitea-actions, forgejo-actions, actions, filesystem";
}

/// The process environment the token sources read, captured once so that
/// callers and tests can supply it.
#[derive(Clone, Default)]
pub struct TokenEnvironment {
    /// `SIGSTORE_ID_TOKEN`.
    pub sigstore_id_token: Option<String>,
    /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
    pub actions_request_url: Option<String>,
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    pub actions_request_token: Option<String>,
    /// Where the filesystem provider looks ([`FILESYSTEM_TOKEN_PATH`]).
    pub filesystem_token_path: PathBuf,
}

impl std::fmt::Debug for TokenEnvironment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenEnvironment")
            .field("sigstore_id_token", &self.sigstore_id_token.is_some())
            .field("actions_request_url", &self.actions_request_url)
            .field(
                "actions_request_token",
                &self.actions_request_token.is_some(),
            )
            .field("filesystem_token_path", &self.filesystem_token_path)
            .finish()
    }
}

impl TokenEnvironment {
    /// The current process's environment.
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            sigstore_id_token: var(SIGSTORE_ID_TOKEN_VAR),
            actions_request_url: var(ACTIONS_URL_VAR),
            actions_request_token: var(ACTIONS_TOKEN_VAR),
            filesystem_token_path: PathBuf::from(FILESYSTEM_TOKEN_PATH),
        }
    }
}

/// Where to look for a token.
#[derive(Debug, Clone, Default)]
pub struct TokenOptions {
    /// `--identity-token`: a JWT or the path of a file holding one.
    pub identity_token: Option<String>,
    /// `--oidc-provider`: use only this ambient provider.
    pub provider: Option<AmbientProvider>,
    /// `--oidc-disable-ambient-providers`.
    pub disable_ambient: bool,
}

/// Finds an identity token: `--identity-token`, `SIGSTORE_ID_TOKEN`, then the
/// ambient providers. The error lists every source tried.
pub async fn find_token(
    options: &TokenOptions,
    env: &TokenEnvironment,
    http: &HttpClient,
) -> Result<IdentityToken, TokenError> {
    if let Some(value) = options.identity_token.as_deref().filter(|v| !v.is_empty()) {
        return token_from_flag(value);
    }
    let mut tried = Vec::new();
    if options.provider.is_none() {
        match &env.sigstore_id_token {
            Some(t) => return IdentityToken::parse(t, SIGSTORE_ID_TOKEN_VAR),
            None => tried.push(format!(
                "--identity-token (not given), {SIGSTORE_ID_TOKEN_VAR} (not set)"
            )),
        }
    }
    if options.disable_ambient {
        tried.push("ambient CI providers (disabled)".into());
        return Err(TokenError::NotFound {
            tried: tried.join(", "),
        });
    }
    let wants = |p: AmbientProvider| options.provider.is_none_or(|q| q == p);
    if wants(AmbientProvider::Actions) {
        match (&env.actions_request_url, &env.actions_request_token) {
            (Some(url), Some(token)) => return actions_token(http, url, token).await,
            (None, _) => tried.push(format!("Actions job token ({ACTIONS_URL_VAR} not set)")),
            (Some(_), None) => {
                tried.push(format!("Actions job token ({ACTIONS_TOKEN_VAR} not set)"))
            }
        }
    }
    if wants(AmbientProvider::Filesystem) {
        match read_token_file(&env.filesystem_token_path) {
            Ok(Some(t)) => {
                return IdentityToken::parse(
                    &t,
                    format!("{}", env.filesystem_token_path.display()),
                );
            }
            Ok(None) => tried.push(format!(
                "{} (no such file)",
                env.filesystem_token_path.display()
            )),
            Err(reason) => {
                return Err(TokenError::Source {
                    source_name: env.filesystem_token_path.display().to_string(),
                    reason,
                });
            }
        }
    }
    Err(TokenError::NotFound {
        tried: tried.join(", "),
    })
}

/// `--identity-token VALUE`: the token itself when it looks like a JWT,
/// otherwise a file holding it (as cosign reads the flag).
fn token_from_flag(value: &str) -> Result<IdentityToken, TokenError> {
    const FLAG: &str = "--identity-token";
    if looks_like_jwt(value) {
        return IdentityToken::parse(value, FLAG);
    }
    let path = Path::new(value);
    let source = format!("{FLAG} file {}", snippet(value, 200));
    match read_token_file(path) {
        Ok(Some(t)) => IdentityToken::parse(&t, source),
        Ok(None) => Err(TokenError::Source {
            source_name: FLAG.into(),
            reason: format!(
                "{:?} is neither a JWT nor an existing file",
                snippet(value, 80)
            ),
        }),
        Err(reason) => Err(TokenError::Source {
            source_name: source,
            reason,
        }),
    }
}

fn looks_like_jwt(value: &str) -> bool {
    let value = value.trim();
    value.split('.').count() == 3
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'='))
}

/// A token file's trimmed contents; `None` if there is no such file.
fn read_token_file(path: &Path) -> Result<Option<String>, String> {
    match signet_core::limits::read_secret_file(path, signet_core::limits::TOKEN_FILE) {
        Ok(bytes) => {
            let text = std::str::from_utf8(&bytes).map_err(|_| "not UTF-8 text".to_owned())?;
            Ok(Some(text.trim().to_owned()))
        }
        Err(e) if e.io_kind() == Some(std::io::ErrorKind::NotFound) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

#[derive(Deserialize)]
struct ActionsReply {
    value: String,
}

/// Asks the CI runner for a token with audience `sigstore`.
async fn actions_token(
    http: &HttpClient,
    request_url: &str,
    request_token: &str,
) -> Result<IdentityToken, TokenError> {
    const SERVICE: &str = "Actions token endpoint";
    let mut url = url::Url::parse(request_url).map_err(|e| ServiceError::InvalidUrl {
        service: SERVICE,
        url: snippet(request_url, 200),
        reason: format!("{ACTIONS_URL_VAR}: {e}"),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ServiceError::InvalidUrl {
            service: SERVICE,
            url: snippet(request_url, 200),
            reason: format!("{ACTIONS_URL_VAR} is not an http(s) URL"),
        }
        .into());
    }
    url.query_pairs_mut()
        .append_pair("audience", SIGSTORE_AUDIENCE);
    let auth = sensitive(&format!("bearer {request_token}")).ok_or_else(|| TokenError::Source {
        source_name: ACTIONS_TOKEN_VAR.into(),
        reason: "not a valid header value".into(),
    })?;
    let request = http
        .request(Method::GET, &url)
        .header(AUTHORIZATION, auth)
        .header(reqwest::header::ACCEPT, "application/json");
    // The request URL carries no secret, but print it without its query.
    let mut shown = url.clone();
    shown.set_query(None);
    let reply = http
        .send(SERVICE, &shown, request, MAX_TOKEN_BYTES + 1024, &[])
        .await?;
    let parsed: ActionsReply =
        serde_json::from_slice(&reply.body).map_err(|e| ServiceError::Malformed {
            service: SERVICE,
            url: shown.to_string(),
            reason: format!("expected {{\"value\": \"<jwt>\"}}: {e}"),
        })?;
    IdentityToken::parse(
        &parsed.value,
        format!("the Actions job token ({ACTIONS_URL_VAR})"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &serde_json::Value) -> String {
        let b = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "{}.{}.{}",
            b(br#"{"alg":"ES256"}"#),
            b(claims.to_string().as_bytes()),
            b(b"sig")
        )
    }

    #[test]
    fn claims_are_read() {
        let t = jwt(
            &serde_json::json!({"iss":"https://i","sub":"s","email":"a@b","aud":["sigstore"],"exp":5}),
        );
        let token = IdentityToken::parse(&t, "test").unwrap();
        assert_eq!(token.challenge(), "a@b");
        assert_eq!(token.claims().audience, ["sigstore"]);
        assert_eq!(token.claims().expires_at, Some(5));
        let e = token
            .check_not_expired(UNIX_EPOCH + std::time::Duration::from_secs(6))
            .unwrap_err();
        assert!(e.to_string().contains("expired at 5"), "{e}");
        assert!(!format!("{token:?}").contains(&t));

        let ci = IdentityToken::parse(
            &jwt(&serde_json::json!({"iss":"https://i","sub":"repo:o/r:ref:refs/heads/main","aud":"sigstore"})),
            "test",
        )
        .unwrap();
        assert_eq!(ci.challenge(), "repo:o/r:ref:refs/heads/main");
    }

    #[test]
    fn malformed_tokens_are_refused_with_reasons() {
        for (token, reason) in [
            ("abc", "not a JWT"),
            ("a.b.c.d", "not a JWT"),
            ("a.!!!.c", "base64url"),
            (&jwt(&serde_json::json!({"sub":"s"})) as &str, "no iss"),
            (&jwt(&serde_json::json!({"iss":"i"})), "no sub"),
            (&jwt(&serde_json::json!([1])), "JSON object"),
        ] {
            let e = IdentityToken::parse(token, "src").unwrap_err().to_string();
            assert!(e.contains(reason) && e.contains("src"), "{token}: {e}");
        }
    }

    #[test]
    fn the_flag_takes_a_token_or_a_file() {
        let t = jwt(&serde_json::json!({"iss":"https://i","sub":"s"}));
        assert_eq!(token_from_flag(&t).unwrap().source(), "--identity-token");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, format!("{t}\n")).unwrap();
        let from_file = token_from_flag(file.to_str().unwrap()).unwrap();
        assert_eq!(from_file.as_str(), t);
        let missing = token_from_flag("/no/such/token").unwrap_err().to_string();
        assert!(
            missing.contains("neither a JWT nor an existing file"),
            "{missing}"
        );
    }

    #[tokio::test]
    async fn nothing_found_lists_what_was_tried() {
        let http = HttpClient::new(&Default::default()).unwrap();
        let env = TokenEnvironment {
            filesystem_token_path: PathBuf::from("/no/such/oidc-token"),
            ..Default::default()
        };
        let e = find_token(&TokenOptions::default(), &env, &http)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("SIGSTORE_ID_TOKEN (not set)")
                && e.contains("ACTIONS_ID_TOKEN_REQUEST_URL not set")
                && e.contains("/no/such/oidc-token (no such file)"),
            "{e}"
        );
        let disabled = TokenOptions {
            disable_ambient: true,
            ..Default::default()
        };
        let e = find_token(&disabled, &env, &http)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("ambient CI providers (disabled)"), "{e}");
    }
}
