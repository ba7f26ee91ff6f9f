//! Registry credentials from podman's `auth.json` and docker's `config.json`.
//!
//! Files are consulted in containers/image order (`REGISTRY_AUTH_FILE`,
//! `$XDG_RUNTIME_DIR/containers/auth.json`, `~/.config/containers/auth.json`),
//! then docker's config. The first file with an entry for the repository wins.
//! Within a file:
//!
//! 1. `credHelpers[registry]` (helpers are per registry, never per namespace);
//! 2. `auths`, most specific key first, as containers/image matches them: for
//!    `quay.io/org/team/app` the keys `quay.io/org/team/app`,
//!    `quay.io/org/team`, `quay.io/org`, then `quay.io` (this applies to
//!    docker's `config.json` too, as in containers/image);
//! 3. `auths` keys written as URLs (`https://quay.io/v1/`) for the registry;
//! 4. the `credsStore` helper.
//!
//! Helpers run with a 30 s timeout; their standard output and error are
//! drained while they run (a helper that writes more than a pipe holds cannot
//! block) and capped at 1 MiB each. A helper's answer for a registry is
//! reused for 60 s, and concurrent lookups wait for one run, so a batch over
//! many repositories of one registry asks the helper once.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;
use thiserror::Error;

use crate::reference::DOCKER_HUB;

use signet_core::limits::{self, InputLimit};

const MAX_HELPER_OUTPUT: usize = 1 << 20;
const HELPER_STDOUT: InputLimit = InputLimit::new("credential helper output", MAX_HELPER_OUTPUT);
const HELPER_STDERR: InputLimit =
    InputLimit::new("credential helper error output", MAX_HELPER_OUTPUT);
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// How to authenticate to one registry.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Credential {
    /// No credentials: anonymous token flow only.
    #[default]
    Anonymous,
    /// Username and password, sent as HTTP Basic to the registry or its token
    /// endpoint.
    Basic {
        /// User name.
        username: String,
        /// Password or personal access token.
        password: String,
    },
    /// Docker's `identitytoken`: an OAuth2 refresh token exchanged at the
    /// token endpoint.
    IdentityToken(String),
    /// A registry bearer token used as is (docker's `registrytoken`).
    Bearer(String),
}

impl fmt::Debug for Credential {
    // Secrets must never reach logs or error output through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Anonymous => f.write_str("Anonymous"),
            Self::Basic { username, .. } => write!(
                f,
                "Basic {{ username: {username:?}, password: <redacted> }}"
            ),
            Self::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
            Self::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

/// Credentials could not be read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AuthError {
    /// A config file exists but cannot be read or parsed.
    #[error("cannot read registry credentials from {path}: {reason}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// An entry in a config file is malformed.
    #[error("malformed credentials for {host}: {reason}")]
    Entry {
        /// The registry host.
        host: String,
        /// What is wrong (never the secret itself).
        reason: String,
    },
    /// A `docker-credential-*` helper failed.
    #[error("credential helper docker-credential-{helper} failed for {host}: {reason}")]
    Helper {
        /// The helper's name (without the `docker-credential-` prefix).
        helper: String,
        /// The registry host.
        host: String,
        /// What went wrong.
        reason: String,
    },
}

/// The parts of docker's `config.json` / podman's `auth.json` that hold
/// credentials. Unknown fields are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthConfig {
    /// Inline credentials by registry key.
    #[serde(default)]
    pub auths: BTreeMap<String, AuthEntry>,
    /// Per-registry credential helpers.
    #[serde(default, rename = "credHelpers")]
    pub cred_helpers: BTreeMap<String, String>,
    /// The default credential helper.
    #[serde(default, rename = "credsStore")]
    pub creds_store: Option<String>,
}

/// One `auths` entry.
#[derive(Clone, Default, Deserialize)]
pub struct AuthEntry {
    /// base64 of `user:password`.
    #[serde(default)]
    pub auth: Option<String>,
    /// Plain user name (older configs).
    #[serde(default)]
    pub username: Option<String>,
    /// Plain password (older configs).
    #[serde(default)]
    pub password: Option<String>,
    /// OAuth2 refresh token.
    #[serde(default)]
    pub identitytoken: Option<String>,
    /// Bearer token for the registry itself.
    #[serde(default)]
    pub registrytoken: Option<String>,
}

impl fmt::Debug for AuthEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthEntry")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl AuthConfig {
    /// Parses a config file's contents.
    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// Where credentials come from: config files in precedence order, and where
/// to find `docker-credential-*` helpers. Tests build this with explicit paths
/// so they never depend on the real home directory or `PATH`.
#[derive(Debug, Clone, Default)]
pub struct CredentialSources {
    /// Config files, highest precedence first. Missing files are skipped.
    pub files: Vec<PathBuf>,
    /// A `PATH`-style list of directories to search for helpers; `None` means
    /// the process `PATH`.
    pub helper_path: Option<OsString>,
}

impl CredentialSources {
    /// The standard locations, from the environment.
    pub fn from_env() -> Self {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let home = std::env::home_dir();
        let mut files = Vec::new();
        if let Some(f) = env("REGISTRY_AUTH_FILE") {
            files.push(PathBuf::from(f));
        }
        if let Some(d) = env("XDG_RUNTIME_DIR") {
            files.push(Path::new(&d).join("containers/auth.json"));
        }
        match (env("XDG_CONFIG_HOME"), &home) {
            (Some(d), _) => files.push(Path::new(&d).join("containers/auth.json")),
            (None, Some(h)) => files.push(h.join(".config/containers/auth.json")),
            (None, None) => {}
        }
        match (env("DOCKER_CONFIG"), &home) {
            (Some(d), _) => files.push(Path::new(&d).join("config.json")),
            (None, Some(h)) => files.push(h.join(".docker/config.json")),
            (None, None) => {}
        }
        Self {
            files,
            helper_path: None,
        }
    }

    /// The credential for `key`: a registry (`quay.io`, `localhost:5000`) or
    /// a repository in one (`quay.io/org/app`), or [`Credential::Anonymous`]
    /// when no file has one.
    pub fn credential_for(&self, key: &str) -> Result<Credential, AuthError> {
        for path in &self.files {
            let Some(config) = read_config(path)? else {
                continue;
            };
            if let Some(cred) = lookup(&config, key, self.helper_path.as_deref())? {
                return Ok(cred);
            }
        }
        Ok(Credential::Anonymous)
    }
}

/// The credential for `key` (a registry, or `registry/repository`) from the
/// standard config locations.
///
/// May run a credential helper, so it blocks; call it from
/// `spawn_blocking` in async code.
pub fn credential_for(key: &str) -> Result<Credential, AuthError> {
    CredentialSources::from_env().credential_for(key)
}

fn read_config(path: &Path) -> Result<Option<AuthConfig>, AuthError> {
    let err = |reason: String| AuthError::Config {
        path: path.to_owned(),
        reason,
    };
    let bytes = match limits::read_file(path, limits::CREDENTIAL_FILE) {
        Ok(b) => b,
        Err(e) if e.io_kind() == Some(std::io::ErrorKind::NotFound) => return Ok(None),
        Err(limits::ReadError::Io { error, .. }) => return Err(err(error.to_string())),
        Err(limits::ReadError::TooLarge { limit, .. }) => {
            return Err(err(format!(
                "larger than {} bytes, the limit for {}",
                limit.max_bytes, limit.what
            )));
        }
        Err(e) => return Err(err(e.to_string())),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    AuthConfig::from_json(&bytes)
        .map(Some)
        .map_err(|e| err(format!("not valid JSON: {e}")))
}

/// The credential one parsed config holds for `key` (a registry, or
/// `registry/repository`), or `None` if it has none. `helper_path` is where
/// to look for helpers (`None`: the process PATH).
pub fn lookup(
    config: &AuthConfig,
    key: &str,
    helper_path: Option<&OsStr>,
) -> Result<Option<Credential>, AuthError> {
    let host = key.split('/').next().unwrap_or(key);
    if let Some(helper) = find_registry(&config.cred_helpers, host, |h| !h.is_empty())
        && let Some(cred) = run_helper(helper, host, helper_path)?
    {
        return Ok(Some(cred));
    }
    let usable = |e: &AuthEntry| !is_empty_entry(e);
    if let Some(entry) = find_scoped(&config.auths, key, usable)
        .or_else(|| find_registry(&config.auths, host, usable))
    {
        return decode_entry(entry, host).map(Some);
    }
    match config.creds_store.as_deref() {
        Some(store) if !store.is_empty() => run_helper(store, host, helper_path),
        _ => Ok(None),
    }
}

/// The `auths` entry for `key` or its closest enclosing namespace: keys
/// without a scheme, compared from the most specific (`host/org/app`) to
/// the registry itself (`host`). Host names compare case-insensitively and
/// Docker Hub's aliases are one host; paths compare exactly.
fn find_scoped<'a, V>(
    map: &'a BTreeMap<String, V>,
    key: &str,
    usable: impl Fn(&V) -> bool,
) -> Option<&'a V> {
    let (host, path) = key.split_once('/').unwrap_or((key, ""));
    let mut scope = path;
    loop {
        let exact = if scope.is_empty() {
            host.to_owned()
        } else {
            format!("{host}/{scope}")
        };
        let found = map.get(&exact).filter(|v| usable(v)).or_else(|| {
            map.iter()
                .find(|(k, v)| {
                    !k.contains("://")
                        && usable(v)
                        && match k.split_once('/') {
                            Some((kh, kp)) => kp == scope && same_host(kh, host),
                            None => scope.is_empty() && same_host(k, host),
                        }
                })
                .map(|(_, v)| v)
        });
        if found.is_some() {
            return found;
        }
        if scope.is_empty() {
            return None;
        }
        scope = scope.rsplit_once('/').map_or("", |(parent, _)| parent);
    }
}

/// The value for registry `host`: an exact key first, then any key that
/// names the same host (`https://host`, `http://host/v1/`, Docker Hub
/// aliases). Namespace keys (`host/org`) never match here.
fn find_registry<'a, V>(
    map: &'a BTreeMap<String, V>,
    host: &str,
    usable: impl Fn(&V) -> bool,
) -> Option<&'a V> {
    if let Some(v) = map.get(host).filter(|v| usable(v)) {
        return Some(v);
    }
    map.iter()
        .find(|(k, v)| key_host(k).is_some_and(|kh| same_host(kh, host)) && usable(v))
        .map(|(_, v)| v)
}

/// The host a config key stands for. Keys with a scheme are URLs whose path
/// is ignored (docker writes `https://index.docker.io/v1/`); keys without one
/// but with a path are podman's per-namespace keys, which a host-level lookup
/// must not pick up.
fn key_host(key: &str) -> Option<&str> {
    match key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
    {
        Some(rest) => rest.split('/').next(),
        None if key.contains('/') => None,
        None => Some(key),
    }
}

fn is_docker_hub(host: &str) -> bool {
    matches!(host, DOCKER_HUB | "docker.io" | "registry-1.docker.io")
}

fn same_host(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || (is_docker_hub(a) && is_docker_hub(b))
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

fn is_empty_entry(e: &AuthEntry) -> bool {
    nonempty(&e.auth).is_none()
        && nonempty(&e.username).is_none()
        && nonempty(&e.identitytoken).is_none()
        && nonempty(&e.registrytoken).is_none()
}

fn decode_entry(entry: &AuthEntry, host: &str) -> Result<Credential, AuthError> {
    let bad = |reason: &str| AuthError::Entry {
        host: host.to_owned(),
        reason: reason.to_owned(),
    };
    if let Some(token) = nonempty(&entry.identitytoken) {
        return Ok(Credential::IdentityToken(token.to_owned()));
    }
    if let Some(token) = nonempty(&entry.registrytoken) {
        return Ok(Credential::Bearer(token.to_owned()));
    }
    if let Some(auth) = nonempty(&entry.auth) {
        let compact: String = auth.chars().filter(|c| !c.is_whitespace()).collect();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .or_else(|_| {
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(compact.trim_end_matches('='))
            })
            .map_err(|_| bad("\"auth\" is not valid base64"))?;
        let text = String::from_utf8(raw).map_err(|_| bad("\"auth\" is not UTF-8"))?;
        let (username, password) = text
            .split_once(':')
            .ok_or_else(|| bad("\"auth\" does not decode to user:password"))?;
        return Ok(Credential::Basic {
            username: username.to_owned(),
            password: password.to_owned(),
        });
    }
    Ok(Credential::Basic {
        username: entry.username.clone().unwrap_or_default(),
        password: entry.password.clone().unwrap_or_default(),
    })
}

#[derive(Deserialize)]
struct HelperReply {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// Runs `docker-credential-<helper> get` with the server on stdin.
fn run_helper(
    helper: &str,
    host: &str,
    helper_path: Option<&OsStr>,
) -> Result<Option<Credential>, AuthError> {
    let fail = |reason: String| AuthError::Helper {
        helper: crate::snippet(helper, 40),
        host: host.to_owned(),
        reason,
    };
    // The name comes from a config file and becomes part of a program name.
    if !helper
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(fail(
            "helper name may only contain letters, digits, '-', '_' and '.'".into(),
        ));
    }
    let program = format!("docker-credential-{helper}");
    let program_path = match helper_path {
        Some(dirs) => std::env::split_paths(dirs)
            .map(|d| d.join(&program))
            .find(|p| p.is_file())
            .ok_or_else(|| fail(format!("{program} not found in the helper search path")))?,
        None => PathBuf::from(&program),
    };
    // Docker Hub credentials are stored under docker's historical server URL.
    let server = if is_docker_hub(host) {
        "https://index.docker.io/v1/"
    } else {
        host
    };

    // Helpers are per registry while lookups are per repository: a batch
    // over many repositories asks once, and concurrent lookups wait for
    // that one answer instead of each starting the helper.
    let slot = helper_answer_slot(&program_path, server);
    let mut answer = slot.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((asked, cred)) = answer.as_ref()
        && asked.elapsed() < HELPER_ANSWER_TTL
    {
        return Ok(cred.clone());
    }
    let cred = ask_helper(&program_path, &program, server, &fail)?;
    *answer = Some((Instant::now(), cred.clone()));
    Ok(cred)
}

/// A helper's answer and when it was given.
type HelperAnswer = Option<(Instant, Option<Credential>)>;

/// How long a helper's answer is reused. Short, so that a long-running
/// process sees credentials a helper rotates.
const HELPER_ANSWER_TTL: Duration = Duration::from_secs(60);

/// Answer slots by helper program and server.
type HelperSlots = Mutex<HashMap<(PathBuf, String), Arc<Mutex<HelperAnswer>>>>;

/// The answer slot for one helper program and server.
fn helper_answer_slot(program: &Path, server: &str) -> Arc<Mutex<HelperAnswer>> {
    static SLOTS: OnceLock<HelperSlots> = OnceLock::new();
    let mut slots = SLOTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    slots
        .entry((program.to_owned(), server.to_owned()))
        .or_default()
        .clone()
}

/// Runs `program get` with `server` on stdin and reads its answer.
fn ask_helper(
    program_path: &Path,
    program: &str,
    server: &str,
    fail: &dyn Fn(String) -> AuthError,
) -> Result<Option<Credential>, AuthError> {
    let mut child = spawn_retrying(program_path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => fail(format!("{program} not found on PATH")),
        _ => fail(format!("cannot start {program}: {e}")),
    })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading stdin is judged by its output.
        let _ = stdin.write_all(server.as_bytes());
    }
    let HelperOutput {
        status,
        stdout,
        stderr,
    } = collect_output(child).map_err(fail)?;
    if !status.success() {
        let message = String::from_utf8_lossy(if stdout.is_empty() { &stderr } else { &stdout });
        if message
            .to_ascii_lowercase()
            .contains("credentials not found")
        {
            return Ok(None);
        }
        return Err(fail(format!(
            "exited with {status}: {}",
            crate::snippet(message.trim(), 200)
        )));
    }
    let reply: HelperReply = serde_json::from_slice(&stdout)
        .map_err(|e| fail(format!("output is not the expected JSON: {e}")))?;
    Ok(match (reply.username.as_str(), reply.secret) {
        ("<token>", secret) if !secret.is_empty() => Some(Credential::IdentityToken(secret)),
        ("", secret) if secret.is_empty() => None,
        (username, password) => Some(Credential::Basic {
            username: username.to_owned(),
            password,
        }),
    })
}

/// What a helper printed, and how it exited.
struct HelperOutput {
    status: std::process::ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Waits for `child` while two threads drain its standard output and error,
/// so that a helper writing more than a pipe holds keeps running instead of
/// blocking until the timeout. Either stream past its cap, or the timeout,
/// kills the helper at once.
fn collect_output(mut child: Child) -> Result<HelperOutput, String> {
    enum Stream {
        Out,
        Err,
    }
    let (tx, rx) = mpsc::channel();
    for (stream, pipe, limit) in [
        (
            Stream::Out,
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
            HELPER_STDOUT,
        ),
        (
            Stream::Err,
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
            HELPER_STDERR,
        ),
    ] {
        let tx = tx.clone();
        // A reader left blocked (a grandchild holding the pipe open) ends
        // with the process; it is never joined.
        std::thread::spawn(move || {
            let result = match pipe {
                Some(p) => limits::read_capped(p, limit, limit.what),
                None => Ok(Vec::new()),
            };
            let _ = tx.send((stream, result));
        });
    }
    drop(tx);
    let deadline = Instant::now() + HELPER_TIMEOUT;
    let kill = |child: &mut Child| {
        let _ = child.kill();
        let _ = child.wait();
    };
    let timeout = || format!("no answer within {} s", HELPER_TIMEOUT.as_secs());
    let (mut stdout, mut stderr) = (None, None);
    while stdout.is_none() || stderr.is_none() {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(remaining) {
            Ok((stream, Ok(bytes))) => match stream {
                Stream::Out => stdout = Some(bytes),
                Stream::Err => stderr = Some(bytes),
            },
            Ok((_, Err(limits::ReadError::TooLarge { limit, .. }))) => {
                kill(&mut child);
                return Err(format!(
                    "wrote more than {} bytes of {}; stopped it",
                    limit.max_bytes, limit.what
                ));
            }
            Ok((_, Err(e))) => {
                kill(&mut child);
                return Err(format!("reading its output: {e}"));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                kill(&mut child);
                return Err(timeout());
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    // Both streams are closed; the helper is exiting.
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                kill(&mut child);
                return Err(timeout());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(e.to_string()),
        }
    };
    Ok(HelperOutput {
        status,
        stdout: stdout.unwrap_or_default(),
        stderr: stderr.unwrap_or_default(),
    })
}

/// Spawns the helper; retries briefly on ETXTBSY, which a freshly written
/// script can hit while another thread of this process is forking.
fn spawn_retrying(program: &Path) -> std::io::Result<std::process::Child> {
    let mut attempt = 0;
    loop {
        let result = Command::new(program)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        match result {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && attempt < 10 => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
