//! The end-to-end test harness: contexts a test runs in, the runner that
//! reports a test whose context is missing as *ignored* (never as passed),
//! and helpers for running the binaries.
//!
//! # Writing a test
//!
//! A test is a plain function taking the context it needs, listed in its
//! module's `tests!` line:
//!
//! ```ignore
//! use crate::harness::{Env, tests};
//!
//! tests![signs_and_verifies];
//!
//! fn signs_and_verifies(env: &Env) {
//!     let dir = tempfile::tempdir().unwrap();
//!     env.signet(dir.path(), &["version"]).ok();
//! }
//! ```
//!
//! The parameter type says what the test needs, and so when it can run:
//!
//! | context  | needs                                             | has |
//! |----------|---------------------------------------------------|-----|
//! | `&Local` | nothing: the `signet` binary and a temp `HOME`    | `signet`, `signet_with` |
//! | `&Peers` | the peer binaries (`scripts/setup-peers.sh`)      | `Local`'s, plus `cosign`, `skopeo`, `peers` (their directory) |
//! | `&Env`   | the services `scripts/test.sh` starts, and peers  | `Peers`', plus registries, OpenBao, test images |
//!
//! A module can add a context of its own for a service only it uses: a type
//! implementing [`Context`] whose `get` builds on `Env::get()` (see
//! `vault_tls.rs`).
//!
//! A test whose context is missing is reported as `ignored (why)` and counted
//! in the closing line's ignored total; with `SIGNET_E2E_REQUIRED=1` (as in
//! `scripts/test.sh`) it fails instead. A function left out of `tests!` is
//! dead code, which the build reports. A new module goes into `main.rs`'s
//! list. Assertions panic as in any test; the runner turns a panic into a
//! failure.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use libtest_mimic::{Arguments, Completion, Failed, Trial};

pub const PASSWORD: &str = "correct horse";

/// Verification of signatures that were never logged (signed with
/// `--tlog-upload=false`, or by tools and keys kept off any log): fail-closed
/// verification refuses them unless told so, by this flag, explicitly.
pub const AIR_GAPPED: &str = "--insecure-ignore-tlog";

/// What a test runs in. Implemented by [`Local`], [`Peers`] and [`Env`].
pub trait Context: Sync + 'static {
    /// The context, set up once per test process, or why it cannot be had.
    fn get() -> Result<&'static Self, String>;
}

/// One registered test: its name and a runner bound to its context.
pub struct Test {
    name: String,
    run: Box<dyn FnOnce() -> Result<Completion, Failed> + Send>,
}

impl Test {
    /// A test named `path` (its module path) that runs `f` in `C`.
    pub fn new<C: Context>(path: &str, f: fn(&C)) -> Self {
        let name = path.strip_prefix("e2e::").unwrap_or(path).to_owned();
        Self {
            name,
            run: Box::new(move || match C::get() {
                Ok(context) => {
                    f(context);
                    Ok(Completion::Completed)
                }
                Err(why) if required() => Err(format!("cannot run: {why}").into()),
                Err(why) => Ok(Completion::ignored_with(why)),
            }),
        }
    }
}

/// `tests![a, b, c];` registers the functions `a`, `b` and `c` of the
/// current module; each takes `&Local`, `&Peers` or `&Env`.
macro_rules! tests {
    ($($name:ident),* $(,)?) => {
        /// The tests of this module.
        pub fn tests() -> Vec<$crate::harness::Test> {
            vec![$($crate::harness::Test::new(
                concat!(module_path!(), "::", stringify!($name)),
                $name,
            )),*]
        }
    };
}
pub(crate) use tests;

/// Runs every module's tests with libtest's command line and output.
pub fn run_all(modules: &[fn() -> Vec<Test>]) -> ! {
    let args = Arguments::from_args();
    let trials = modules
        .iter()
        .flat_map(|tests| tests())
        .map(|t| Trial::ignorable_test(t.name, t.run))
        .collect();
    libtest_mimic::run(&args, trials).exit()
}

/// `SIGNET_E2E_REQUIRED=1`: a missing context fails the test.
fn required() -> bool {
    std::env::var("SIGNET_E2E_REQUIRED").as_deref() == Ok("1")
}

/// An environment variable the services set, or why the test cannot run.
pub fn var(name: &str) -> Result<String, String> {
    std::env::var(name)
        .map_err(|_| format!("{name} is not set: scripts/test.sh starts the services"))
}

/// The `signet` binary with its own empty `HOME`, so no test reads the
/// developer's docker, podman or cosign configuration.
pub struct Local {
    /// HOME (and TUF_ROOT, XDG_RUNTIME_DIR) for every binary a test runs.
    pub home: tempfile::TempDir,
}

impl Context for Local {
    fn get() -> Result<&'static Self, String> {
        static LOCAL: OnceLock<Local> = OnceLock::new();
        Ok(LOCAL.get_or_init(|| {
            let home = tempfile::tempdir().expect("temp dir");
            std::fs::create_dir_all(home.path().join("tuf")).expect("tuf dir");
            Local { home }
        }))
    }
}

/// The real peers that `scripts/setup-peers.sh` installs: cosign 2.5,
/// skopeo 1.18, sigstore-python and sigstore-go (`$SIGNET_PEERS`, else the
/// workspace's `.peers`).
pub struct Peers {
    local: &'static Local,
    pub peers: PathBuf,
}

impl Deref for Peers {
    type Target = Local;
    fn deref(&self) -> &Local {
        self.local
    }
}

impl Context for Peers {
    fn get() -> Result<&'static Self, String> {
        static PEERS: OnceLock<Result<Peers, String>> = OnceLock::new();
        PEERS
            .get_or_init(|| {
                let peers = match std::env::var_os("SIGNET_PEERS") {
                    Some(p) => PathBuf::from(p),
                    None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.peers"),
                };
                for bin in ["cosign", "skopeo", "sigstore", "sigstore-go-verification"] {
                    if !peers.join("bin").join(bin).is_file() {
                        return Err(format!(
                            "{} not found: scripts/setup-peers.sh installs the peers",
                            peers.join("bin").join(bin).display()
                        ));
                    }
                }
                Ok(Peers {
                    local: Local::get()?,
                    peers,
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The services `scripts/test.sh` starts, and the peers.
pub struct Env {
    peers_ctx: &'static Peers,
    pub registry: String,
    pub vault_addr: String,
    pub vault_token: String,
    /// A TLS registry (self-signed) with basic auth: (host:port, user, password).
    pub auth_registry: (String, String, String),
    /// TLS registries whose certificates a test CA signs: one for IP
    /// 127.0.0.1, one for `registry.signet.test` that requires a client
    /// certificate; and the directory with `ca.pem`, `client.pem`, `client.key`.
    pub ca_registry: String,
    pub mtls_registry: String,
    pub tls_dir: PathBuf,
    /// An OCI layout with tags `v1` (one manifest) and `multi` (an index).
    layout: tempfile::TempDir,
}

impl Deref for Env {
    type Target = Peers;
    fn deref(&self) -> &Peers {
        self.peers_ctx
    }
}

impl Context for Env {
    fn get() -> Result<&'static Self, String> {
        static ENV: OnceLock<Result<Env, String>> = OnceLock::new();
        ENV.get_or_init(Env::start).as_ref().map_err(Clone::clone)
    }
}

impl Env {
    fn start() -> Result<Env, String> {
        let registry = var("SIGNET_TEST_REGISTRY")?;
        let vault_addr = var("SIGNET_TEST_VAULT_ADDR")?;
        let vault_token = var("SIGNET_TEST_VAULT_TOKEN")?;
        let auth_registry = (
            var("SIGNET_TEST_AUTH_REGISTRY")?,
            var("SIGNET_TEST_AUTH_USER")?,
            var("SIGNET_TEST_AUTH_PASSWORD")?,
        );
        let ca_registry = var("SIGNET_TEST_CA_REGISTRY")?;
        let mtls_registry = var("SIGNET_TEST_MTLS_REGISTRY")?;
        let tls_dir = PathBuf::from(var("SIGNET_TEST_TLS_DIR")?);
        let peers_ctx = Peers::get()?;
        let layout = tempfile::tempdir().expect("temp dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/mk-oci-layout.py");
        let status = Command::new("python3")
            .arg(&script)
            .arg(layout.path())
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("python3: {e}"))?;
        if !status.success() {
            return Err("mk-oci-layout.py failed".into());
        }
        // skopeo: look up sigstore attachments on the test registry, and a
        // permissive default policy for plain copies.
        let home = peers_ctx.home.path();
        let regd = home.join("registries.d");
        std::fs::create_dir_all(&regd).expect("registries.d");
        std::fs::write(
            regd.join("test.yaml"),
            format!("docker:\n  {registry}:\n    use-sigstore-attachments: true\n"),
        )
        .expect("registries.d/test.yaml");
        std::fs::write(
            home.join("insecure-policy.json"),
            r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )
        .expect("insecure-policy.json");
        Ok(Env {
            peers_ctx,
            registry,
            vault_addr,
            vault_token,
            auth_registry,
            ca_registry,
            mtls_registry,
            tls_dir,
            layout,
        })
    }
}

/// A repository name no other test uses.
pub fn unique_repo(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "e2e/{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Self {
        Self {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn fails_with(self, code: i32, needle: &str) -> Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\nstderr: {}",
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "panic: {}", self.stderr);
        self
    }
}

impl Env {
    pub fn image(&self, repo: &str, tag: &str) -> String {
        format!("{}/{repo}:{tag}", self.registry)
    }

    /// Pushes the single-manifest test image; returns its reference and digest.
    pub fn push_image(&self, repo: &str) -> (String, String) {
        self.push_layout_tag(self.layout.path(), "v1", repo)
    }

    /// Pushes the two-platform index; returns its reference and digest.
    pub fn push_index(&self, repo: &str) -> (String, String) {
        self.push_layout_tag(self.layout.path(), "multi", repo)
    }

    /// Pushes a freshly made image whose content depends on `seed`.
    pub fn push_distinct_image(&self, repo: &str, seed: &str) -> (String, String) {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/mk-oci-layout.py");
        let ok = Command::new("python3")
            .arg(&script)
            .arg(dir.path())
            .arg(seed)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(ok.success());
        self.push_layout_tag(dir.path(), "v1", repo)
    }

    /// Pushes the single-manifest test image to the TLS registry with basic auth.
    pub fn push_image_with_auth(&self, repo: &str) -> String {
        let (host, user, password) = &self.auth_registry;
        let image = format!("{host}/{repo}:v1");
        let out = self
            .skopeo_cmd()
            .args([
                "--insecure-policy",
                "copy",
                "-q",
                "--dest-tls-verify=false",
                "--dest-creds",
            ])
            .arg(format!("{user}:{password}"))
            .arg(format!("oci:{}:v1", self.layout.path().display()))
            .arg(format!("docker://{image}"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo copy: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        image
    }

    /// Pushes the single-manifest test image to `registry` (host:port) with
    /// extra skopeo options (certificates); returns its reference.
    pub fn push_image_to(&self, registry: &str, repo: &str, skopeo_options: &[&str]) -> String {
        let image = format!("{registry}/{repo}:v1");
        let out = self
            .skopeo_cmd()
            .args(["--insecure-policy", "copy", "-q"])
            .args(skopeo_options)
            .arg(format!("oci:{}:v1", self.layout.path().display()))
            .arg(format!("docker://{image}"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo copy: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        image
    }

    fn push_layout_tag(&self, layout: &Path, tag: &str, repo: &str) -> (String, String) {
        let image = self.image(repo, "v1");
        let out = self
            .skopeo_cmd()
            .args([
                "--insecure-policy",
                "copy",
                "-q",
                "--all",
                "--preserve-digests",
                "--dest-tls-verify=false",
            ])
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{image}"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo copy: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let digest = self.manifest_digest(repo, "v1").expect("pushed image");
        (image, digest)
    }

    /// The registry's digest for `repo:reference`, or None on 404.
    pub fn manifest_digest(&self, repo: &str, reference: &str) -> Option<String> {
        let out = Command::new("curl")
            .args(["-sfI", "-H"])
            .arg("Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json")
            .arg(format!("http://{}/v2/{repo}/manifests/{reference}", self.registry))
            .output()
            .unwrap();
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout).lines().find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("docker-content-digest:")
                .map(|d| d.trim().to_owned())
        })
    }

    /// The raw signature manifest of an image digest, or None.
    pub fn signature_manifest(&self, repo: &str, digest: &str) -> Option<serde_json::Value> {
        let tag = format!("sha256-{}.sig", digest.trim_start_matches("sha256:"));
        self.manifest_bytes(repo, &tag)
            .map(|bytes| serde_json::from_slice(&bytes).unwrap())
    }

    /// The bytes of the OCI image manifest `repo:reference`, or None.
    pub fn manifest_bytes(&self, repo: &str, reference: &str) -> Option<Vec<u8>> {
        let out = Command::new("curl")
            .args([
                "-sf",
                "-H",
                "Accept: application/vnd.oci.image.manifest.v1+json",
            ])
            .arg(format!(
                "http://{}/v2/{repo}/manifests/{reference}",
                self.registry
            ))
            .output()
            .unwrap();
        out.status.success().then_some(out.stdout)
    }

    /// The bytes of blob `digest` in `repo` (which must exist).
    pub fn blob(&self, repo: &str, digest: &str) -> Vec<u8> {
        let out = Command::new("curl")
            .arg("-sfL")
            .arg(format!("http://{}/v2/{repo}/blobs/{digest}", self.registry))
            .output()
            .unwrap();
        assert!(out.status.success(), "blob {digest} of {repo}");
        out.stdout
    }

    /// PUTs raw bytes as a manifest (to plant malformed signature manifests).
    pub fn put_manifest(&self, repo: &str, reference: &str, media_type: &str, body: &[u8]) {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("m");
        std::fs::write(&f, body).unwrap();
        let out = Command::new("curl")
            .args(["-sf", "-X", "PUT", "-H"])
            .arg(format!("Content-Type: {media_type}"))
            .arg("--data-binary")
            .arg(format!("@{}", f.display()))
            .arg(format!(
                "http://{}/v2/{repo}/manifests/{reference}",
                self.registry
            ))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "PUT manifest: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Uploads a blob (POST a session, PUT the bytes) and returns its digest.
    pub fn put_blob(&self, repo: &str, body: &[u8]) -> String {
        let digest = signet_core::Digest::sha256_of(body).to_string();
        let out = Command::new("curl")
            .args([
                "-sf",
                "-X",
                "POST",
                "-o",
                "/dev/null",
                "-w",
                "%header{location}",
            ])
            .arg(format!("http://{}/v2/{repo}/blobs/uploads/", self.registry))
            .output()
            .unwrap();
        let location = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(
            out.status.success() && !location.is_empty(),
            "POST blob upload failed"
        );
        let location = if location.starts_with('/') {
            format!("http://{}{location}", self.registry)
        } else {
            location
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("b");
        std::fs::write(&f, body).unwrap();
        let out = Command::new("curl")
            .args([
                "-sf",
                "-X",
                "PUT",
                "-H",
                "Content-Type: application/octet-stream",
                "--data-binary",
            ])
            .arg(format!("@{}", f.display()))
            .arg(format!("{location}{sep}digest={digest}"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "PUT blob: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        digest
    }

    /// `signet ARGS` in `dir` with COSIGN_PASSWORD set, a clean environment
    /// and OpenBao's address and token in VAULT_ADDR / VAULT_TOKEN.
    pub fn signet(&self, dir: &Path, args: &[&str]) -> Run {
        self.signet_with(dir, args, &[("COSIGN_PASSWORD", PASSWORD)], None)
    }

    pub fn signet_with(
        &self,
        dir: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> Run {
        let mut vault_envs = vec![
            ("VAULT_ADDR", self.vault_addr.as_str()),
            ("VAULT_TOKEN", self.vault_token.as_str()),
        ];
        vault_envs.extend_from_slice(envs);
        let local: &Local = self;
        local.signet_with(dir, args, &vault_envs, stdin)
    }
}

impl Local {
    /// `signet ARGS` in `dir` with COSIGN_PASSWORD set and a clean environment.
    pub fn signet(&self, dir: &Path, args: &[&str]) -> Run {
        self.signet_with(dir, args, &[("COSIGN_PASSWORD", PASSWORD)], None)
    }

    pub fn signet_with(
        &self,
        dir: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> Run {
        let binary = Path::new(env!("CARGO_BIN_EXE_signet"));
        self.binary_with(binary, dir, args, envs, stdin)
    }

    /// Another `signet` binary than the one cargo built for the tests (the
    /// shipped build), isolated as [`Self::signet_with`] isolates it.
    pub fn binary_with(
        &self,
        binary: &Path,
        dir: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> Run {
        let mut c = Command::new(binary);
        c.args(args).current_dir(dir);
        self.isolate(&mut c);
        for (k, v) in envs {
            c.env(k, v);
        }
        run(c, stdin)
    }

    fn isolate(&self, c: &mut Command) {
        for var in [
            "COSIGN_PASSWORD",
            "COSIGN_REPOSITORY",
            "COSIGN_DOCKER_MEDIA_TYPES",
            "DOCKER_CONFIG",
            "REGISTRY_AUTH_FILE",
            "VAULT_ADDR",
            "VAULT_TOKEN",
            "VAULT_NAMESPACE",
            "SSL_CERT_FILE",
            "SSL_CERT_DIR",
            // Keyless: no ambient identity or trust material from the
            // machine running the tests.
            "SIGSTORE_ID_TOKEN",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "SIGSTORE_ROOT_FILE",
            "SIGSTORE_REKOR_PUBLIC_KEY",
            "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE",
            "SIGSTORE_TSA_CERTIFICATE_FILE",
            "XDG_CACHE_HOME",
        ] {
            c.env_remove(var);
        }
        let home = self.home.path();
        // Nothing leaves loopback: a request for a public service (the
        // public-good Sigstore a default would reach) meets a closed port.
        c.env("HOME", home)
            .env("TUF_ROOT", home.join("tuf"))
            .env("XDG_RUNTIME_DIR", home)
            .env("HTTPS_PROXY", "http://127.0.0.1:9")
            .env("HTTP_PROXY", "http://127.0.0.1:9")
            .env("NO_PROXY", "127.0.0.1,localhost,registry.signet.test");
    }
}

impl Peers {
    /// `cosign ARGS` in `dir`, offline (empty TUF root), COSIGN_PASSWORD set.
    pub fn cosign(&self, dir: &Path, args: &[&str]) -> Run {
        self.cosign_with(dir, args, &[("COSIGN_PASSWORD", PASSWORD)])
    }

    pub fn cosign_with(&self, dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Run {
        let mut c = Command::new(self.peers.join("bin/cosign"));
        c.args(args).current_dir(dir);
        self.isolate(&mut c);
        for (k, v) in envs {
            c.env(k, v);
        }
        run(c, None)
    }

    fn skopeo_cmd(&self) -> Command {
        let mut c = Command::new(self.peers.join("bin/skopeo"));
        c.env("HOME", self.home.path());
        c
    }

    pub fn skopeo(&self, dir: &Path, args: &[&str]) -> Run {
        let mut c = self.skopeo_cmd();
        c.arg("--registries.d")
            .arg(self.home.path().join("registries.d"));
        c.args(args).current_dir(dir);
        run(c, None)
    }
}

fn run(mut c: Command, stdin: Option<&str>) -> Run {
    c.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    Run::from(child.wait_with_output().unwrap())
}

/// Writes a cosign-format key pair with signet into `dir` as PREFIX.key/.pub.
pub fn signet_key_pair(env: &Local, dir: &Path, prefix: &str) {
    env.signet(dir, &["generate-key-pair", "--output-key-prefix", prefix])
        .ok();
}
