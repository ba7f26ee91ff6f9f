//! `signet gate` and `signet admission` as processes on 127.0.0.1 for the
//! end-to-end tests, and a small HTTP client over curl that keeps the
//! status, headers and body apart.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::harness::Local;
use crate::server_process::free_port;

/// A running `signet gate` or `signet admission`, stopped with SIGTERM when
/// dropped.
pub struct Daemon {
    child: Option<Child>,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    log: PathBuf,
    _logs: tempfile::TempDir,
}

impl Daemon {
    /// Starts `signet ARGS --listen 127.0.0.1:PORT` in `dir` (HOME is the
    /// harness's) and waits until `/healthz` answers over `scheme`.
    pub fn start(local: &Local, dir: &Path, args: &[&str], scheme: &str) -> Self {
        let logs = tempfile::tempdir().unwrap();
        let log = logs.path().join("daemon.log");
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_signet"))
            .args(args)
            .args(["--listen", &addr, "--log-format", "json"])
            .current_dir(dir)
            .env("HOME", local.home.path())
            .env("SIGNET_LOG", "info")
            .env_remove("DOCKER_CONFIG")
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
            .env("HTTPS_PROXY", "http://127.0.0.1:9")
            .env("HTTP_PROXY", "http://127.0.0.1:9")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn signet");
        let mut daemon = Self {
            child: Some(child),
            addr,
            log,
            _logs: logs,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let up = Command::new("curl")
                .args(["-sk", "-o", "/dev/null", "-w", "%{http_code}"])
                .arg(format!("{scheme}://{}/healthz", daemon.addr))
                .output()
                .is_ok_and(|o| o.stdout == b"200");
            if up {
                return daemon;
            }
            if let Some(status) = daemon
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("signet exited with {status}: {}", daemon.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "signet did not come up: {}",
                daemon.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What it logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and waits for the exit (at most 30 s).
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// Header lines, lowercased names.
    pub headers: String,
    pub body: String,
}

impl Answer {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.headers.lines().find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with(&prefix)
                .then(|| l[prefix.len()..].trim().to_owned())
        })
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{e}: status {} body {:?}", self.status, self.body))
    }
}

/// `curl ARGS URL`, keeping status, headers and body apart.
pub fn curl(args: &[&str], url: &str) -> Answer {
    let dir = tempfile::tempdir().unwrap();
    let headers = dir.path().join("h");
    let body = dir.path().join("b");
    let out = Command::new("curl")
        .args(["-s", "--max-time", "60", "-D"])
        .arg(&headers)
        .arg("-o")
        .arg(&body)
        .args(["-w", "%{http_code}"])
        .args(args)
        .arg(url)
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    let headers = std::fs::read_to_string(&headers)
        .unwrap_or_default()
        .to_ascii_lowercase();
    Answer {
        status,
        headers,
        body: std::fs::read_to_string(&body).unwrap_or_default(),
    }
}

/// What OCI clients send to get either kind of manifest.
pub const ACCEPT_MANIFESTS: &str = "Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// One value of a Prometheus text exposition (`name{labels} value`; give
/// the series exactly as rendered), 0 when absent.
pub fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0.0)
}
