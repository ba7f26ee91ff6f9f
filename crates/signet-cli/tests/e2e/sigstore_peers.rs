//! The keyless test harness itself: real Sigstore clients (cosign 2.5,
//! sigstore-python, sigstore-go) against the mock Sigstore that
//! `scripts/services.sh` starts (`start_mock_sigstore`), with ID tokens from
//! the test OIDC issuer (`signet-testing`). These tests prove the harness
//! works; keyless tests of signet itself build on [`Sigstore`].

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use signet_testing::{Algorithm, Claims, IssuerOptions, OidcIssuer, TokenOptions, Workflow};

use crate::harness::{Context, Run, tests, var};

tests![
    cosign_signs_a_blob_keyless_against_the_mock_and_verifies_it,
    sigstore_python_signs_and_verifies_with_the_trust_config,
    sigstore_go_verifies_a_cosign_bundle_and_sigstore_python_accepts_it,
    an_actions_shaped_job_gets_its_token_from_the_test_issuer,
    cosign_signs_an_image_keyless_against_the_mock_and_verifies_it,
];

/// The mock Sigstore (`SIGNET_TEST_SIGSTORE_*`), the peers, and two test
/// issuers: one for people (email identities) and one shaped like a
/// Gitea/Forgejo instance (`<instance>/api/actions`).
pub struct Sigstore {
    /// Base URL of the mock Fulcio, Rekor and TSA.
    pub url: String,
    /// The directory of the mock's trust files.
    pub dir: PathBuf,
    /// Where `scripts/setup-peers.sh` installed the peers.
    pub peers: PathBuf,
    /// An issuer whose tokens carry email identities.
    pub issuer: OidcIssuer,
    /// A Gitea/Forgejo-shaped issuer (its instance is the server root).
    pub actions_issuer: OidcIssuer,
    /// HOME, TUF_ROOT and caches for the peers.
    home: tempfile::TempDir,
}

impl Context for Sigstore {
    /// The mock Sigstore and the issuers; without them the tests are
    /// reported as ignored (failed under `SIGNET_E2E_REQUIRED=1`).
    fn get() -> Result<&'static Self, String> {
        static SIGSTORE: OnceLock<Result<Sigstore, String>> = OnceLock::new();
        SIGSTORE
            .get_or_init(|| {
                let url = var("SIGNET_TEST_SIGSTORE_URL")?;
                let dir = PathBuf::from(var("SIGNET_TEST_SIGSTORE_DIR")?);
                let peers = PathBuf::from(var("SIGNET_PEERS")?);
                let home = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
                std::fs::create_dir_all(home.path().join("tuf"))
                    .map_err(|e| format!("tuf dir: {e}"))?;
                Ok(Sigstore {
                    url,
                    dir,
                    peers,
                    issuer: OidcIssuer::start().map_err(|e| format!("test issuer: {e}"))?,
                    actions_issuer: OidcIssuer::start_with(IssuerOptions::actions_instance())
                        .map_err(|e| format!("test issuer: {e}"))?,
                    home,
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl Sigstore {
    /// A trust file of the mock by name (`trusted_root.compat.json`, ...).
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// cosign 2.5's view of the mock: the `SIGSTORE_*` variables that point it
    /// at the mock's CA, log and CT keys instead of the public TUF root.
    pub fn cosign_trust_env(&self) -> Vec<(&'static str, PathBuf)> {
        vec![
            ("SIGSTORE_ROOT_FILE", self.file("fulcio-root.pem")),
            ("SIGSTORE_REKOR_PUBLIC_KEY", self.file("rekor.pub")),
            ("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", self.file("ctlog.pub")),
            ("SIGSTORE_TSA_CERTIFICATE_FILE", self.file("tsa-chain.pem")),
        ]
    }

    /// A peer binary from `$SIGNET_PEERS/bin`, in `dir`, with a clean
    /// environment: its own HOME and TUF root, no ambient CI credentials, no
    /// route off the machine.
    pub fn peer(&self, name: &str, dir: &Path) -> Command {
        let mut c = Command::new(self.peers.join("bin").join(name));
        c.current_dir(dir);
        for var in [
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "GITHUB_ACTIONS",
            "SIGSTORE_ID_TOKEN",
            "COSIGN_EXPERIMENTAL",
            "COSIGN_PASSWORD",
        ] {
            c.env_remove(var);
        }
        // Nothing leaves loopback: a peer that tries to reach the public
        // Sigstore (its TUF mirror, say) hits a closed local port at once.
        c.env("HTTPS_PROXY", "http://127.0.0.1:9")
            .env("HTTP_PROXY", "http://127.0.0.1:9")
            .env("NO_PROXY", "127.0.0.1,localhost");
        c.env("HOME", self.home.path())
            .env("TUF_ROOT", self.home.path().join("tuf"))
            .env("XDG_CACHE_HOME", self.home.path().join("cache"))
            .env("XDG_DATA_HOME", self.home.path().join("data"));
        c
    }

    /// `cosign ARGS` against the mock.
    pub fn cosign(&self, dir: &Path, args: &[&str], envs: &[(&str, String)]) -> Run {
        let mut c = self.peer("cosign", dir);
        c.envs(self.cosign_trust_env()).args(args);
        c.envs(envs.iter().map(|(k, v)| (*k, v)));
        run(c)
    }

    /// `sigstore --trust-config client_trust_config.json ARGS` (sigstore-python).
    pub fn sigstore_python(&self, dir: &Path, args: &[&str]) -> Run {
        let mut c = self.peer("sigstore", dir);
        c.arg("--trust-config")
            .arg(self.file("client_trust_config.json"))
            .args(args);
        run(c)
    }

    /// `sigstore-go-verification -trustedrootJSONpath <compat root> ARGS`.
    pub fn sigstore_go(&self, dir: &Path, args: &[&str]) -> Run {
        let mut c = self.peer("sigstore-go-verification", dir);
        c.arg("-trustedrootJSONpath")
            .arg(self.file("trusted_root.compat.json"))
            .args(args);
        run(c)
    }

    /// A valid ES256 token for an email identity from [`Self::issuer`].
    pub fn email_token(&self, email: &str) -> String {
        self.issuer.token(&Claims::email(email)).expect("token")
    }
}

fn run(mut c: Command) -> Run {
    let out = c
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {:?}: {e}", c.get_program()));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const EMAIL: &str = "keyless@example.test";

/// cosign 2.5 signs `d/blob` keylessly against the mock, with a timestamp,
/// into a bundle v0.3 at `d/BUNDLE`.
pub fn cosign_sign_blob(s: &Sigstore, d: &Path, token: &str, bundle: &str) {
    s.cosign(
        d,
        &[
            "sign-blob",
            "--yes",
            "--fulcio-url",
            &s.url,
            "--rekor-url",
            &s.url,
            "--timestamp-server-url",
            &format!("{}/api/v1/timestamp", s.url),
            "--identity-token",
            token,
            "--new-bundle-format",
            "--bundle",
            bundle,
            "blob",
        ],
        &[],
    )
    .ok();
}

fn cosign_verify_blob(s: &Sigstore, d: &Path, bundle: &str, identity: &str, issuer: &str) -> Run {
    let root = s.file("trusted_root.compat.json");
    s.cosign(
        d,
        &[
            "verify-blob",
            "--new-bundle-format",
            "--bundle",
            bundle,
            "--trusted-root",
            root.to_str().unwrap(),
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            issuer,
            "blob",
        ],
        &[],
    )
}

fn cosign_signs_a_blob_keyless_against_the_mock_and_verifies_it(s: &Sigstore) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("blob"), b"keyless artefact\n").unwrap();
    // RS256 as well as ES256: cosign only reads the token's claims.
    let token = s
        .issuer
        .token_with(
            &Claims::email(EMAIL),
            TokenOptions {
                algorithm: Algorithm::Rs256,
                defect: None,
            },
        )
        .unwrap();
    cosign_sign_blob(s, d, &token, "c.sigstore.json");
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("c.sigstore.json")).unwrap()).unwrap();
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let material = &bundle["verificationMaterial"];
    assert!(material["certificate"]["rawBytes"].is_string());
    assert!(material["timestampVerificationData"]["rfc3161Timestamps"][0].is_object());
    let entry = &material["tlogEntries"][0];
    assert!(entry["inclusionPromise"]["signedEntryTimestamp"].is_string());
    assert!(entry["inclusionProof"]["hashes"][0].is_string());

    cosign_verify_blob(s, d, "c.sigstore.json", EMAIL, s.issuer.issuer_url())
        .ok()
        .stderr
        .contains("Verified OK")
        .then_some(())
        .expect("cosign says Verified OK");
    let wrong = cosign_verify_blob(
        s,
        d,
        "c.sigstore.json",
        "other@example.test",
        s.issuer.issuer_url(),
    );
    assert_ne!(wrong.code, 0);
    assert!(
        wrong.stderr.contains("expected SAN value"),
        "{}",
        wrong.stderr
    );
}

fn sigstore_python_signs_and_verifies_with_the_trust_config(s: &Sigstore) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("blob"), b"python artefact\n").unwrap();
    let token = s.email_token(EMAIL);
    s.sigstore_python(
        d,
        &[
            "sign",
            "--identity-token",
            &token,
            "--bundle",
            "p.sigstore.json",
            "blob",
        ],
    )
    .ok();
    let verify = |identity: &str| {
        s.sigstore_python(
            d,
            &[
                "verify",
                "identity",
                "--offline",
                "--bundle",
                "p.sigstore.json",
                "--cert-identity",
                identity,
                "--cert-oidc-issuer",
                s.issuer.issuer_url(),
                "blob",
            ],
        )
    };
    assert!(verify(EMAIL).ok().stderr.contains("OK: blob"));
    let wrong = verify("other@example.test");
    assert_ne!(wrong.code, 0);
    // Its bundle verifies in cosign too.
    cosign_verify_blob(s, d, "p.sigstore.json", EMAIL, s.issuer.issuer_url()).ok();
}

fn sigstore_go_verifies_a_cosign_bundle_and_sigstore_python_accepts_it(s: &Sigstore) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("blob"), b"go artefact\n").unwrap();
    cosign_sign_blob(s, d, &s.email_token(EMAIL), "c.sigstore.json");
    let go = |identity: &str| {
        s.sigstore_go(
            d,
            &[
                "-expectedSAN",
                identity,
                "-expectedIssuer",
                s.issuer.issuer_url(),
                "-artifact",
                "blob",
                "c.sigstore.json",
            ],
        )
    };
    let verified = go(EMAIL).ok();
    assert!(
        (verified.stdout + &verified.stderr).contains("Verification successful"),
        "sigstore-go did not report success"
    );
    assert_ne!(go("other@example.test").code, 0);
    // The mock's two-leaf proofs carry the fields sigstore-python requires.
    s.sigstore_python(
        d,
        &[
            "verify",
            "identity",
            "--offline",
            "--bundle",
            "c.sigstore.json",
            "--cert-identity",
            EMAIL,
            "--cert-oidc-issuer",
            s.issuer.issuer_url(),
            "blob",
        ],
    )
    .ok();
}

fn an_actions_shaped_job_gets_its_token_from_the_test_issuer(s: &Sigstore) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("blob"), b"built in CI\n").unwrap();
    let workflow = Workflow::default();
    let job = s
        .actions_issuer
        .actions_job(Claims::gitea_actions(&workflow))
        .unwrap();
    let before = s.actions_issuer.actions_token_requests();
    // No --identity-token: cosign finds the Actions token request in the
    // environment, asks for audience sigstore, and signs with that identity.
    let envs: Vec<(&str, String)> = job.env().into_iter().collect();
    s.cosign(
        d,
        &[
            "sign-blob",
            "--yes",
            "--fulcio-url",
            &s.url,
            "--rekor-url",
            &s.url,
            "--new-bundle-format",
            "--bundle",
            "ci.sigstore.json",
            "blob",
        ],
        &envs,
    )
    .ok();
    assert_eq!(s.actions_issuer.actions_token_requests(), before + 1);
    // Fulcio's SAN for a CI job: <instance>/<job_workflow_ref>.
    let identity = format!(
        "{}/{}",
        s.actions_issuer.base_url(),
        workflow.workflow_ref()
    );
    cosign_verify_blob(
        s,
        d,
        "ci.sigstore.json",
        &identity,
        s.actions_issuer.issuer_url(),
    )
    .ok();
    let root = s.file("trusted_root.compat.json");
    s.cosign(
        d,
        &[
            "verify-blob",
            "--new-bundle-format",
            "--bundle",
            "ci.sigstore.json",
            "--trusted-root",
            root.to_str().unwrap(),
            "--certificate-identity-regexp",
            &format!("^{}/golemtrust/.*", s.actions_issuer.base_url()),
            "--certificate-oidc-issuer",
            s.actions_issuer.issuer_url(),
            "--certificate-github-workflow-repository",
            "golemtrust/app",
            "blob",
        ],
        &[],
    )
    .ok();
}

fn cosign_signs_an_image_keyless_against_the_mock_and_verifies_it(s: &Sigstore) {
    // The image test needs the registry too; the same script starts both.
    let env = match crate::harness::Env::get() {
        Ok(env) => env,
        Err(why) => panic!("the registry is missing beside the mock Sigstore: {why}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let repo = crate::harness::unique_repo("keyless");
    let (image, digest) = env.push_image(&repo);
    let token = s.email_token(EMAIL);
    s.cosign(
        d,
        &[
            "sign",
            "--yes",
            "--allow-http-registry",
            "--fulcio-url",
            &s.url,
            "--rekor-url",
            &s.url,
            "--identity-token",
            &token,
            &image,
        ],
        &[],
    )
    .ok();
    let manifest = env
        .signature_manifest(&repo, &digest)
        .expect("signature manifest");
    let annotations = &manifest["layers"][0]["annotations"];
    for name in [
        "dev.cosignproject.cosign/signature",
        "dev.sigstore.cosign/certificate",
        "dev.sigstore.cosign/chain",
        "dev.sigstore.cosign/bundle",
    ] {
        assert!(annotations[name].is_string(), "{name} missing: {manifest}");
    }
    let verify = |identity: &str| {
        s.cosign(
            d,
            &[
                "verify",
                "--allow-http-registry",
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                s.issuer.issuer_url(),
                &image,
            ],
            &[],
        )
    };
    verify(EMAIL).ok();
    assert_ne!(verify("other@example.test").code, 0);
}
