//! Test harness: service discovery, test images, and running the binaries.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

pub const PASSWORD: &str = "correct horse";

pub struct Env {
    pub registry: String,
    pub vault_addr: String,
    pub vault_token: String,
    pub peers: PathBuf,
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
    /// HOME and TUF_ROOT for the peers, so they never read the real ones.
    pub peer_home: tempfile::TempDir,
}

/// The services, or `None` (test skipped) when they are not running.
pub fn env() -> Option<&'static Env> {
    static ENV: OnceLock<Option<Env>> = OnceLock::new();
    let env = ENV.get_or_init(|| {
        let registry = std::env::var("SIGNET_TEST_REGISTRY").ok()?;
        let vault_addr = std::env::var("SIGNET_TEST_VAULT_ADDR").ok()?;
        let vault_token = std::env::var("SIGNET_TEST_VAULT_TOKEN").ok()?;
        let peers = PathBuf::from(std::env::var("SIGNET_PEERS").ok()?);
        let auth_registry = (
            std::env::var("SIGNET_TEST_AUTH_REGISTRY").ok()?,
            std::env::var("SIGNET_TEST_AUTH_USER").ok()?,
            std::env::var("SIGNET_TEST_AUTH_PASSWORD").ok()?,
        );
        let ca_registry = std::env::var("SIGNET_TEST_CA_REGISTRY").ok()?;
        let mtls_registry = std::env::var("SIGNET_TEST_MTLS_REGISTRY").ok()?;
        let tls_dir = PathBuf::from(std::env::var("SIGNET_TEST_TLS_DIR").ok()?);
        let layout = tempfile::tempdir().expect("temp dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/mk-oci-layout.py");
        let status = Command::new("python3")
            .arg(&script)
            .arg(layout.path())
            .stdout(Stdio::null())
            .status()
            .expect("python3");
        assert!(status.success(), "mk-oci-layout.py failed");
        let peer_home = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(peer_home.path().join("tuf")).unwrap();
        // skopeo: look up sigstore attachments on the test registry, and a
        // permissive default policy for plain copies.
        let regd = peer_home.path().join("registries.d");
        std::fs::create_dir_all(&regd).unwrap();
        std::fs::write(
            regd.join("test.yaml"),
            format!("docker:\n  {registry}:\n    use-sigstore-attachments: true\n"),
        )
        .unwrap();
        std::fs::write(
            peer_home.path().join("insecure-policy.json"),
            r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )
        .unwrap();
        Some(Env {
            registry,
            vault_addr,
            vault_token,
            peers,
            auth_registry,
            ca_registry,
            mtls_registry,
            tls_dir,
            layout,
            peer_home,
        })
    });
    if env.is_none() {
        if std::env::var("SIGNET_E2E_REQUIRED").as_deref() == Ok("1") {
            panic!("end-to-end services are not running: run scripts/test.sh");
        }
        eprintln!("skipped: end-to-end services not running (run scripts/test.sh)");
    }
    env.as_ref()
}

/// Skips the test (returns) when the services are not there.
macro_rules! require_env {
    () => {
        match crate::harness::env() {
            Some(e) => e,
            None => return,
        }
    };
}
pub(crate) use require_env;

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

    fn skopeo_cmd(&self) -> Command {
        let mut c = Command::new(self.peers.join("bin/skopeo"));
        c.env("HOME", self.peer_home.path());
        c
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
        let out = Command::new("curl")
            .args([
                "-sf",
                "-H",
                "Accept: application/vnd.oci.image.manifest.v1+json",
            ])
            .arg(format!(
                "http://{}/v2/{repo}/manifests/{tag}",
                self.registry
            ))
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).unwrap())
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
        let mut c = Command::new(env!("CARGO_BIN_EXE_signet"));
        c.args(args).current_dir(dir);
        self.isolate(&mut c);
        c.env("VAULT_ADDR", &self.vault_addr)
            .env("VAULT_TOKEN", &self.vault_token);
        for (k, v) in envs {
            c.env(k, v);
        }
        run(c, stdin)
    }

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

    pub fn skopeo(&self, dir: &Path, args: &[&str]) -> Run {
        let mut c = self.skopeo_cmd();
        c.arg("--registries.d")
            .arg(self.peer_home.path().join("registries.d"));
        c.args(args).current_dir(dir);
        run(c, None)
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
        ] {
            c.env_remove(var);
        }
        c.env("HOME", self.peer_home.path())
            .env("TUF_ROOT", self.peer_home.path().join("tuf"))
            .env("XDG_RUNTIME_DIR", self.peer_home.path());
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
pub fn signet_key_pair(env: &Env, dir: &Path, prefix: &str) {
    env.signet(dir, &["generate-key-pair", "--output-key-prefix", prefix])
        .ok();
}
