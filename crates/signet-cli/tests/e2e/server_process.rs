//! `signet server` as a process on 127.0.0.1 for the end-to-end tests:
//! `init` a data directory, `run` it (embedded store or PostgreSQL), stop it
//! with SIGTERM or kill it with SIGKILL and start it again on the same port;
//! and the peers (cosign, sigstore-python, sigstore-go) in a sealed
//! environment that reaches nothing but loopback.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::Run;

/// The password of the test servers' key files.
pub const SERVER_PASSWORD: &str = "server e2e password";

/// The `signet` binary in `dir`, with the server password and no database
/// from the environment.
pub fn signet(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_signet"));
    c.args(args)
        .current_dir(dir)
        .env("SIGNET_SERVER_PASSWORD", SERVER_PASSWORD)
        .env_remove("SIGNET_DATABASE_URL")
        .stdin(Stdio::null());
    c
}

/// Runs a command to completion.
pub fn run(mut c: Command) -> Run {
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("running {:?}: {e}", c.get_program()));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// An initialised data directory in a temp dir of its own.
pub struct DataDir {
    pub dir: PathBuf,
    pub port: u16,
    pub url: String,
    _temp: tempfile::TempDir,
}

impl DataDir {
    /// `signet server init` trusting `issuers` (`URL[=TYPE]`), for a server
    /// on a free port; `tweak` edits `server.toml` (e.g. lifts the rate limit).
    pub fn init(issuers: &[String], tweak: impl FnOnce(&str) -> String) -> Self {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("sigstore");
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let mut args = vec![
            "server",
            "init",
            dir.to_str().unwrap(),
            "--public-url",
            &url,
        ];
        for i in issuers {
            args.extend(["--oidc-issuer", i.as_str()]);
        }
        run(signet(temp.path(), &args)).ok();
        let config = dir.join("server.toml");
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(&config, tweak(&text)).unwrap();
        Self {
            dir,
            port,
            url,
            _temp: temp,
        }
    }

    /// A copy of this directory (keys, configuration, trust files; not the
    /// embedded log) for another replica listening on its own port.
    pub fn replica(&self) -> Self {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("sigstore");
        let status = Command::new("cp")
            .arg("-a")
            .arg(&self.dir)
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success());
        let _ = std::fs::remove_dir_all(dir.join("log"));
        std::fs::create_dir(dir.join("log")).unwrap();
        let port = free_port();
        Self {
            dir,
            port,
            url: format!("http://127.0.0.1:{port}"),
            _temp: temp,
        }
    }
}

/// Turns the per-client rate limit off (load and crash tests).
pub fn no_rate_limit(config: &str) -> String {
    let lifted = config.replace("requests-per-second = 50.0", "requests-per-second = 0.0");
    assert_ne!(
        lifted, config,
        "server.toml has no default rate limit to lift"
    );
    lifted
}

/// A `signet server run` process, stopped (SIGTERM) when dropped.
pub struct ServerProcess {
    child: Option<Child>,
    pub url: String,
    pub dir: PathBuf,
    port: u16,
    database: Option<String>,
    log: PathBuf,
}

impl ServerProcess {
    /// Runs the server of `data` (embedded store, or `database`); waits
    /// until it is ready. Its log goes to `DIR/../server-N.log`.
    pub fn run(data: &DataDir, database: Option<&str>) -> Self {
        let mut server = Self {
            child: None,
            url: data.url.clone(),
            dir: data.dir.clone(),
            port: data.port,
            database: database.map(str::to_owned),
            log: data.dir.with_file_name("server.log"),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let listen = format!("127.0.0.1:{}", self.port);
        let mut args = vec![
            "server",
            "run",
            self.dir.to_str().unwrap(),
            "--listen",
            &listen,
            "--log-format",
            "json",
        ];
        if let Some(db) = &self.database {
            args.extend(["--database", db.as_str()]);
        }
        let child = signet(self.dir.parent().unwrap(), &args)
            .env("SIGNET_LOG", "info,signet_server::access=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let ok = Command::new("curl")
                .args(["-sf", "-o", "/dev/null"])
                .arg(format!("{}/readyz", self.url))
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "signet server exited ({status}) before it was ready: {}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "signet server did not become ready at {}: {}",
            self.url,
            self.log_text()
        );
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no shutdown, no flush.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and directory.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is still running");
        self.spawn();
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// GET `path`; panics unless it answers 2xx.
    pub fn curl(&self, path: &str) -> String {
        let out = Command::new("curl")
            .args(["-sf"])
            .arg(format!("{}{path}", self.url))
            .output()
            .unwrap();
        assert!(out.status.success(), "GET {path}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sends SIGTERM and returns the exit status and the log.
    pub fn terminate(mut self) -> (Option<i32>, String) {
        let child = self.child.take().unwrap();
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let out = child.wait_with_output().unwrap();
        (out.status.code(), self.log_text())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let mut child = child;
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A peer program with its own HOME and TUF root, no ambient credentials
/// and no route off the machine.
pub fn peer(program: &Path, dir: &Path, home: &Path) -> Command {
    let mut c = Command::new(program);
    c.current_dir(dir).stdin(Stdio::null());
    for var in [
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "GITHUB_ACTIONS",
        "GITEA_ACTIONS",
        "FORGEJO_ACTIONS",
        "SIGSTORE_ID_TOKEN",
        "SIGSTORE_ROOT_FILE",
        "SIGSTORE_REKOR_PUBLIC_KEY",
        "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE",
        "SIGSTORE_TSA_CERTIFICATE_FILE",
        "COSIGN_EXPERIMENTAL",
    ] {
        c.env_remove(var);
    }
    c.env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("HOME", home)
        .env("TUF_ROOT", home.join("tuf"))
        .env("XDG_CACHE_HOME", home.join("cache"));
    c
}

/// cosign's `SIGSTORE_*` trust variables for a server's data directory.
pub fn cosign_trust_env(dir: &Path) -> [(&'static str, PathBuf); 4] {
    [
        ("SIGSTORE_ROOT_FILE", dir.join("fulcio-chain.pem")),
        ("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", dir.join("ctlog.pub")),
        ("SIGSTORE_REKOR_PUBLIC_KEY", dir.join("rekor.pub")),
        ("SIGSTORE_TSA_CERTIFICATE_FILE", dir.join("tsa-chain.pem")),
    ]
}

/// A running server as a client on another machine meets it: a work
/// directory holding the trust files fetched from the server
/// (`trusted_root.json`, `signing_config.json`, `client_trust_config.json`)
/// and a HOME for the peers.
pub struct ServerSetup {
    pub server: ServerProcess,
    _data: DataDir,
    work: tempfile::TempDir,
}

impl ServerSetup {
    /// A server trusting `issuers` (`URL[=TYPE]`).
    pub fn new(issuers: &[String]) -> Self {
        let data = DataDir::init(issuers, str::to_owned);
        let server = ServerProcess::run(&data, None);
        let work = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(work.path().join("home/tuf")).unwrap();
        for file in [
            "trusted_root.json",
            "signing_config.json",
            "client_trust_config.json",
        ] {
            std::fs::write(work.path().join(file), server.curl(&format!("/{file}"))).unwrap();
        }
        Self {
            server,
            _data: data,
            work,
        }
    }

    pub fn dir(&self) -> &Path {
        self.work.path()
    }

    /// The fetched trusted root.
    pub fn trusted_root(&self) -> String {
        self.dir().join("trusted_root.json").display().to_string()
    }

    /// cosign 2.5 with the server's public keys in its `SIGSTORE_*` variables.
    pub fn cosign(&self, peers: &Path, args: &[&str]) -> Run {
        let mut c = peer(
            &peers.join("bin/cosign"),
            self.dir(),
            &self.dir().join("home"),
        );
        c.envs(cosign_trust_env(&self.server.dir)).args(args);
        run(c)
    }

    /// The size of the Rekor v1 and v2 trees.
    pub fn tree_sizes(&self) -> (u64, u64) {
        let info: serde_json::Value =
            serde_json::from_str(&self.server.curl("/api/v1/log")).unwrap();
        let v2 = self.server.curl("/checkpoint");
        (
            info["treeSize"].as_u64().unwrap(),
            v2.lines().nth(1).unwrap().parse().unwrap(),
        )
    }
}
