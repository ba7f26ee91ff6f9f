//! The OIDC issuer: discovery, JWKS, the Actions token-request endpoint and
//! two test-only endpoints that mint tokens, served on 127.0.0.1.
//!
//! Routes, under the issuer's path prefix (empty, or `/api/actions` for a
//! Gitea/Forgejo-shaped issuer whose instance URL is the server's root):
//!
//! | route | what |
//! |---|---|
//! | `GET /.well-known/openid-configuration` | discovery document |
//! | `GET /.well-known/jwks` | the published keys |
//! | `GET /_apis/pipelines/workflows/{run_id}/idtoken?audience=A` | the Actions token request (`ACTIONS_ID_TOKEN_REQUEST_URL`, Bearer `ACTIONS_ID_TOKEN_REQUEST_TOKEN`), answers `{"value": JWT}` |
//! | `POST /_test/token` | `{"profile"?, "email"?, "claims"?, "algorithm"?, "defect"?}` → a JWT (text) |
//! | `POST /_test/actions-job` | `{"profile"?, "claims"?}` → `{"request_url", "request_token"}` |

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::claims::{Claims, Workflow};
use crate::error::TestingError;
use crate::jwt::{Algorithm, JwtKey, corrupt_signature, unsigned_jwt};

/// The audience Sigstore clients ask for.
pub const SIGSTORE_AUDIENCE: &str = "sigstore";

/// A deliberate defect in a minted token, for negative tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Defect {
    /// The signature is corrupted (one bit flipped).
    BadSignature,
    /// Validly signed, but by a key that is not published; `kid` names a published key.
    WrongKey,
    /// Validly signed by a published key, but `kid` names no key in the JWKS.
    UnknownKid,
    /// `aud` is not the expected audience.
    WrongAudience,
    /// `exp` lies ten minutes in the past.
    Expired,
    /// `nbf` and `iat` lie ten minutes in the future.
    NotYetValid,
    /// `iss` is an issuer nobody configured (a path of this server that serves nothing).
    WrongIssuer,
    /// `alg: none`, no signature.
    Unsigned,
}

impl Defect {
    /// Every defect, for tests that loop over them.
    pub const ALL: [Defect; 8] = [
        Self::BadSignature,
        Self::WrongKey,
        Self::UnknownKid,
        Self::WrongAudience,
        Self::Expired,
        Self::NotYetValid,
        Self::WrongIssuer,
        Self::Unsigned,
    ];

    /// The kebab-case name the HTTP endpoint and the binary use.
    pub fn name(self) -> &'static str {
        match self {
            Self::BadSignature => "bad-signature",
            Self::WrongKey => "wrong-key",
            Self::UnknownKid => "unknown-kid",
            Self::WrongAudience => "wrong-audience",
            Self::Expired => "expired",
            Self::NotYetValid => "not-yet-valid",
            Self::WrongIssuer => "wrong-issuer",
            Self::Unsigned => "unsigned",
        }
    }

    /// Parses [`Self::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// How to sign one token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenOptions {
    /// The signature algorithm.
    pub algorithm: Algorithm,
    /// A defect to build in, or `None` for a valid token.
    pub defect: Option<Defect>,
}

impl Default for TokenOptions {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::Es256,
            defect: None,
        }
    }
}

/// How to run an issuer.
#[derive(Clone, Debug)]
pub struct IssuerOptions {
    /// Where to listen; port 0 picks a free port. Must be a loopback address.
    pub listen: SocketAddr,
    /// Path of the issuer below the server root: `""`, or `/api/actions` as
    /// Gitea and Forgejo have it.
    pub path_prefix: String,
    /// The `aud` of valid tokens.
    pub audience: String,
    /// Lifetime of valid tokens.
    pub token_lifetime: Duration,
}

impl Default for IssuerOptions {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            path_prefix: String::new(),
            audience: SIGSTORE_AUDIENCE.into(),
            token_lifetime: Duration::from_secs(600),
        }
    }
}

impl IssuerOptions {
    /// A Gitea/Forgejo-shaped issuer: `<instance>/api/actions`.
    pub fn actions_instance() -> Self {
        Self {
            path_prefix: "/api/actions".into(),
            ..Self::default()
        }
    }
}

/// The environment an Actions job gets for requesting ID tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionsJob {
    /// `ACTIONS_ID_TOKEN_REQUEST_URL`; clients append `&audience=...`.
    pub request_url: String,
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, sent as a Bearer token.
    pub request_token: String,
}

impl ActionsJob {
    /// The two variables, ready for `Command::envs`.
    pub fn env(&self) -> [(&'static str, String); 2] {
        [
            ("ACTIONS_ID_TOKEN_REQUEST_URL", self.request_url.clone()),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", self.request_token.clone()),
        ]
    }
}

struct KeySet {
    /// Published keys, oldest first.
    published: Vec<JwtKey>,
    /// Index into `published` of the key each algorithm signs with now.
    current: HashMap<Algorithm, usize>,
    /// Keys that are never published, for [`Defect::WrongKey`].
    unpublished: HashMap<Algorithm, JwtKey>,
    generation: u32,
}

struct Job {
    claims: Claims,
}

struct Shared {
    base_url: String,
    issuer: String,
    audience: String,
    lifetime: Duration,
    keys: Mutex<KeySet>,
    jobs: Mutex<HashMap<String, Job>>,
    jwks_fetches: AtomicU64,
    token_requests: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn random_hex(bytes: usize) -> Result<String, TestingError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| TestingError::Key(format!("randomness: {e}")))?;
    Ok(hex::encode(buf))
}

impl Shared {
    fn signing_key_kid(&self, algorithm: Algorithm) -> Option<String> {
        let keys = lock(&self.keys);
        let idx = *keys.current.get(&algorithm)?;
        keys.published.get(idx).map(|k| k.kid().to_owned())
    }

    fn mint(&self, claims: &Claims, options: TokenOptions) -> Result<String, TestingError> {
        let now = now_secs();
        let lifetime = i64::try_from(self.lifetime.as_secs()).unwrap_or(600);
        let mut body = Map::new();
        body.insert("iss".into(), self.issuer.clone().into());
        body.insert("aud".into(), self.audience.clone().into());
        body.insert("iat".into(), now.into());
        body.insert("nbf".into(), now.into());
        body.insert("exp".into(), (now + lifetime).into());
        body.insert("jti".into(), random_hex(16)?.into());
        for (name, value) in claims.as_map() {
            body.insert(name.clone(), value.clone());
        }
        match options.defect {
            Some(Defect::Expired) => {
                body.insert("iat".into(), (now - 1200).into());
                body.insert("nbf".into(), (now - 1200).into());
                body.insert("exp".into(), (now - 600).into());
            }
            Some(Defect::NotYetValid) => {
                body.insert("iat".into(), (now + 600).into());
                body.insert("nbf".into(), (now + 600).into());
                body.insert("exp".into(), (now + 1200).into());
            }
            Some(Defect::WrongAudience) => {
                body.insert("aud".into(), format!("not-{}", self.audience).into());
            }
            Some(Defect::WrongIssuer) => {
                body.insert(
                    "iss".into(),
                    format!("{}/not-a-configured-issuer", self.base_url).into(),
                );
            }
            _ => {}
        }
        if options.defect == Some(Defect::Unsigned) {
            return unsigned_jwt(&body);
        }
        let mut keys = lock(&self.keys);
        let idx = *keys
            .current
            .get(&options.algorithm)
            .ok_or_else(|| TestingError::Key(format!("no {} key published", options.algorithm)))?;
        let key = keys
            .published
            .get(idx)
            .ok_or_else(|| TestingError::Key("key index out of range".into()))?;
        let kid = key.kid().to_owned();
        match options.defect {
            Some(Defect::BadSignature) => Ok(corrupt_signature(&key.sign_jwt(&kid, &body)?)),
            Some(Defect::UnknownKid) => key.sign_jwt(&format!("{kid}-unknown"), &body),
            Some(Defect::WrongKey) => {
                let other = match keys.unpublished.entry(options.algorithm) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => {
                        e.insert(JwtKey::generate(options.algorithm, "never-published")?)
                    }
                };
                other.sign_jwt(&kid, &body)
            }
            _ => key.sign_jwt(&kid, &body),
        }
    }

    fn rotate(&self, algorithm: Algorithm) -> Result<String, TestingError> {
        let mut keys = lock(&self.keys);
        keys.generation += 1;
        let kid = format!(
            "{}-{}",
            algorithm.name().to_ascii_lowercase(),
            keys.generation
        );
        let key = JwtKey::generate(algorithm, kid.clone())?;
        keys.published.push(key);
        let idx = keys.published.len() - 1;
        keys.current.insert(algorithm, idx);
        Ok(kid)
    }

    fn jwks(&self) -> Value {
        let keys = lock(&self.keys);
        json!({"keys": keys.published.iter().map(JwtKey::public_jwk).collect::<Vec<_>>()})
    }

    fn discovery(&self) -> Value {
        json!({
            "issuer": self.issuer,
            "jwks_uri": format!("{}/.well-known/jwks", self.issuer),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256", "RS256"],
            "scopes_supported": ["openid"],
            "claims_supported": ["sub", "aud", "exp", "iat", "iss", "nbf", "jti", "email",
                "email_verified", "actor", "actor_id", "base_ref", "event_name", "head_ref",
                "job_workflow_ref", "job_workflow_sha", "ref", "ref_protected", "ref_type",
                "repository", "repository_id", "repository_owner", "repository_owner_id",
                "repository_visibility", "run_attempt", "run_id", "run_number",
                "runner_environment", "sha", "workflow", "workflow_ref", "workflow_sha"],
        })
    }

    fn register_job(&self, claims: Claims) -> Result<ActionsJob, TestingError> {
        let run_id = claims.get_str("run_id").unwrap_or("1").to_owned();
        let request_token = random_hex(24)?;
        lock(&self.jobs).insert(request_token.clone(), Job { claims });
        Ok(ActionsJob {
            request_url: format!(
                "{}/_apis/pipelines/workflows/{run_id}/idtoken?api-version=2.0",
                self.issuer
            ),
            request_token,
        })
    }
}

/// A running issuer. It serves on its own thread until dropped, so it works
/// the same from synchronous and asynchronous tests.
pub struct OidcIssuer {
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for OidcIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OidcIssuer({})", self.shared.issuer)
    }
}

impl OidcIssuer {
    /// An issuer at the root of a free 127.0.0.1 port, audience `sigstore`.
    pub fn start() -> Result<Self, TestingError> {
        Self::start_with(IssuerOptions::default())
    }

    /// An issuer with the given options. It has one ES256 and one RS256 key
    /// published when this returns.
    pub fn start_with(options: IssuerOptions) -> Result<Self, TestingError> {
        if !options.listen.ip().is_loopback() {
            return Err(TestingError::Io(std::io::Error::other(format!(
                "the test issuer listens on loopback only, not {}",
                options.listen
            ))));
        }
        let listener = std::net::TcpListener::bind(options.listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let prefix = options.path_prefix.trim_end_matches('/').to_owned();
        let shared = Arc::new(Shared {
            issuer: format!("{base_url}{prefix}"),
            base_url,
            audience: options.audience,
            lifetime: options.token_lifetime,
            keys: Mutex::new(KeySet {
                published: Vec::new(),
                current: HashMap::new(),
                unpublished: HashMap::new(),
                generation: 0,
            }),
            jobs: Mutex::new(HashMap::new()),
            jwks_fetches: AtomicU64::new(0),
            token_requests: AtomicU64::new(0),
        });
        shared.rotate(Algorithm::Es256)?;
        shared.rotate(Algorithm::Rs256)?;

        let app = router(shared.clone(), &prefix);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("signet-test-oidc".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            eprintln!("signet-test-oidc: {e}");
                            return;
                        }
                    };
                    // Stop at once on shutdown: dropping the runtime closes
                    // every connection, so no idle keep-alive holds us up.
                    tokio::select! {
                        served = axum::serve(listener, app) => {
                            if let Err(e) = served { eprintln!("signet-test-oidc: {e}"); }
                        }
                        _ = rx => {}
                    }
                });
            })?;
        Ok(Self {
            shared,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The issuer URL (`iss`), e.g. `http://127.0.0.1:PORT` or `http://127.0.0.1:PORT/api/actions`.
    pub fn issuer_url(&self) -> &str {
        &self.shared.issuer
    }

    /// The server root: the instance URL of a Gitea/Forgejo-shaped issuer.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The audience of valid tokens.
    pub fn audience(&self) -> &str {
        &self.shared.audience
    }

    /// A valid ES256 token with these claims.
    pub fn token(&self, claims: &Claims) -> Result<String, TestingError> {
        self.shared.mint(claims, TokenOptions::default())
    }

    /// A token signed and shaped as `options` says.
    pub fn token_with(
        &self,
        claims: &Claims,
        options: TokenOptions,
    ) -> Result<String, TestingError> {
        self.shared.mint(claims, options)
    }

    /// Registers an Actions job whose token requests get these claims, and
    /// returns the environment the job would see.
    pub fn actions_job(&self, claims: Claims) -> Result<ActionsJob, TestingError> {
        self.shared.register_job(claims)
    }

    /// Publishes a new key for `algorithm` and signs with it from now on; the
    /// old key stays published. Returns the new key's `kid`.
    pub fn rotate_key(&self, algorithm: Algorithm) -> Result<String, TestingError> {
        self.shared.rotate(algorithm)
    }

    /// The `kid` tokens of `algorithm` are signed with now.
    pub fn current_kid(&self, algorithm: Algorithm) -> Option<String> {
        self.shared.signing_key_kid(algorithm)
    }

    /// How often the JWKS was fetched (to test a verifier's caching).
    pub fn jwks_fetches(&self) -> u64 {
        self.shared.jwks_fetches.load(Ordering::Relaxed)
    }

    /// How many tokens the Actions endpoint handed out.
    pub fn actions_token_requests(&self) -> u64 {
        self.shared.token_requests.load(Ordering::Relaxed)
    }

    /// Blocks until the server stops (it stops only with the process); for
    /// the `signet-test-oidc` binary.
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for OidcIssuer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn router(shared: Arc<Shared>, prefix: &str) -> Router {
    let routes = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/.well-known/jwks", get(jwks))
        .route(
            "/_apis/pipelines/workflows/{run_id}/idtoken",
            get(actions_token),
        )
        .route("/_test/token", post(test_token))
        .route("/_test/actions-job", post(test_actions_job))
        .with_state(shared);
    if prefix.is_empty() {
        routes
    } else {
        Router::new().nest(prefix, routes)
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain")],
        message.into(),
    )
        .into_response()
}

async fn discovery(State(s): State<Arc<Shared>>) -> Response {
    axum::Json(s.discovery()).into_response()
}

async fn jwks(State(s): State<Arc<Shared>>) -> Response {
    s.jwks_fetches.fetch_add(1, Ordering::Relaxed);
    axum::Json(s.jwks()).into_response()
}

#[derive(Deserialize)]
struct TokenQuery {
    audience: Option<String>,
}

async fn actions_token(
    State(s): State<Arc<Shared>>,
    Path(run_id): Path<String>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned())
    else {
        return error(StatusCode::UNAUTHORIZED, "bad authorization header");
    };
    let claims = match lock(&s.jobs).get(&token) {
        Some(job) => job.claims.clone(),
        None => return error(StatusCode::UNAUTHORIZED, "unknown request token"),
    };
    if claims.get_str("run_id").is_some_and(|id| id != run_id) {
        return error(StatusCode::BAD_REQUEST, "run-id does not match");
    }
    // Like Forgejo and GitHub: without an audience, the owner's URL.
    let audience = query.audience.unwrap_or_else(|| {
        format!(
            "{}/{}",
            s.base_url,
            claims.get_str("repository_owner").unwrap_or_default()
        )
    });
    match s.mint(&claims.with("aud", audience), TokenOptions::default()) {
        Ok(jwt) => {
            s.token_requests.fetch_add(1, Ordering::Relaxed);
            axum::Json(json!({"value": jwt})).into_response()
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// A claim set by profile name (`email`, `github-actions`, `gitea-actions`,
/// `forgejo-actions`, or none), with explicit claims laid over it.
#[derive(Deserialize, Default)]
struct ClaimsRequest {
    profile: Option<String>,
    email: Option<String>,
    #[serde(default)]
    claims: Map<String, Value>,
    algorithm: Option<String>,
    defect: Option<String>,
}

impl ClaimsRequest {
    fn claims(&self) -> Result<Claims, String> {
        let workflow = Workflow::default();
        let mut claims = match self.profile.as_deref() {
            None | Some("") => Claims::new(),
            Some("email") => Claims::email(self.email.as_deref().unwrap_or("tester@example.test")),
            Some("github-actions") => Claims::github_actions(&workflow),
            Some("gitea-actions") => Claims::gitea_actions(&workflow),
            Some("forgejo-actions") => Claims::forgejo_actions(&workflow),
            Some(other) => return Err(format!("unknown profile {other:?}")),
        };
        for (name, value) in &self.claims {
            claims = claims.with(name, value.clone());
        }
        Ok(claims)
    }

    fn options(&self) -> Result<TokenOptions, String> {
        let algorithm = match self.algorithm.as_deref() {
            None => Algorithm::Es256,
            Some(name) => {
                Algorithm::from_name(name).ok_or_else(|| format!("unknown algorithm {name:?}"))?
            }
        };
        let defect = match self.defect.as_deref() {
            None => None,
            Some(name) => {
                Some(Defect::from_name(name).ok_or_else(|| format!("unknown defect {name:?}"))?)
            }
        };
        Ok(TokenOptions { algorithm, defect })
    }
}

async fn test_token(
    State(s): State<Arc<Shared>>,
    axum::Json(request): axum::Json<ClaimsRequest>,
) -> Response {
    let (claims, options) = match (request.claims(), request.options()) {
        (Ok(c), Ok(o)) => (c, o),
        (Err(e), _) | (_, Err(e)) => return error(StatusCode::BAD_REQUEST, e),
    };
    match s.mint(&claims, options) {
        Ok(jwt) => error(StatusCode::OK, jwt),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn test_actions_job(
    State(s): State<Arc<Shared>>,
    axum::Json(request): axum::Json<ClaimsRequest>,
) -> Response {
    let claims = match request.claims() {
        Ok(c) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    match s.register_job(claims) {
        Ok(job) => {
            axum::Json(json!({"request_url": job.request_url, "request_token": job.request_token}))
                .into_response()
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
