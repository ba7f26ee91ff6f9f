use super::*;
use std::os::unix::fs::PermissionsExt;

fn config(json: &str) -> AuthConfig {
    AuthConfig::from_json(json.as_bytes()).unwrap()
}

fn basic(u: &str, p: &str) -> Option<Credential> {
    Some(Credential::Basic {
        username: u.into(),
        password: p.into(),
    })
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A directory holding fake `docker-credential-*` helpers.
struct Helpers {
    dir: tempfile::TempDir,
}

impl Helpers {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn add(&self, name: &str, script: &str) {
        let path = self.dir.path().join(format!("docker-credential-{name}"));
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn path(&self) -> Option<&OsStr> {
        Some(self.dir.path().as_os_str())
    }
}

#[test]
fn auths_forms() {
    let c = config(&format!(
        r#"{{"auths": {{
            "ghcr.io": {{"auth": "{}"}},
            "https://quay.io": {{"username": "qu", "password": "qp"}},
            "http://localhost:5000/v2/": {{"auth": "{}"}},
            "https://index.docker.io/v1/": {{"auth": "{}"}},
            "id.example": {{"identitytoken": "refresh"}},
            "tok.example": {{"registrytoken": "bearer"}},
            "empty.example": {{}},
            "quay.io/org": {{"auth": "{}"}}
        }}, "unknownField": 1}}"#,
        b64("gu:gp:with:colons"),
        b64("lu:lp"),
        b64("hub:hp"),
        b64("scoped:x"),
    ));
    assert_eq!(
        lookup(&c, "ghcr.io", None).unwrap(),
        basic("gu", "gp:with:colons")
    );
    assert_eq!(lookup(&c, "quay.io", None).unwrap(), basic("qu", "qp"));
    assert_eq!(
        lookup(&c, "localhost:5000", None).unwrap(),
        basic("lu", "lp")
    );
    assert_eq!(
        lookup(&c, "index.docker.io", None).unwrap(),
        basic("hub", "hp")
    );
    assert_eq!(lookup(&c, "docker.io", None).unwrap(), basic("hub", "hp"));
    assert_eq!(
        lookup(&c, "id.example", None).unwrap(),
        Some(Credential::IdentityToken("refresh".into()))
    );
    assert_eq!(
        lookup(&c, "tok.example", None).unwrap(),
        Some(Credential::Bearer("bearer".into()))
    );
    assert_eq!(lookup(&c, "empty.example", None).unwrap(), None);
    assert_eq!(lookup(&c, "localhost", None).unwrap(), None);
    assert_eq!(lookup(&c, "other.io", None).unwrap(), None);
}

#[test]
fn exact_key_wins_and_hub_aliases() {
    let c = config(&format!(
        r#"{{"auths": {{"docker.io": {{"auth": "{}"}}, "https://ghcr.io/v1/": {{"auth": "{}"}}, "ghcr.io": {{"auth": "{}"}}}}}}"#,
        b64("alias:1"),
        b64("url:2"),
        b64("exact:3"),
    ));
    assert_eq!(
        lookup(&c, "index.docker.io", None).unwrap(),
        basic("alias", "1")
    );
    assert_eq!(lookup(&c, "ghcr.io", None).unwrap(), basic("exact", "3"));
}

#[test]
fn malformed_auth_is_an_error_without_the_secret() {
    let c = config(r#"{"auths": {"ghcr.io": {"auth": "!!!not-base64-secret"}}}"#);
    let msg = lookup(&c, "ghcr.io", None).unwrap_err().to_string();
    assert!(msg.contains("ghcr.io") && !msg.contains("secret"), "{msg}");
    let c = config(&format!(
        r#"{{"auths": {{"ghcr.io": {{"auth": "{}"}}}}}}"#,
        b64("nocolon")
    ));
    assert!(lookup(&c, "ghcr.io", None).is_err());
}

#[test]
fn cred_helpers() {
    let h = Helpers::new();
    h.add(
        "fake",
        r#"[ "$1" = get ] || exit 2
host=$(cat)
case "$host" in
  ghcr.io) echo '{"ServerURL":"ghcr.io","Username":"hu","Secret":"hs"}' ;;
  https://index.docker.io/v1/) echo '{"Username":"<token>","Secret":"idtok"}' ;;
  missing.io) echo 'credentials not found in native keychain'; exit 1 ;;
  *) echo "boom for $host" >&2; exit 3 ;;
esac"#,
    );
    let c = config(&format!(
        r#"{{"credHelpers": {{"ghcr.io": "fake", "docker.io": "fake", "missing.io": "fake", "broken.io": "fake", "absent.io": "nope"}},
            "auths": {{"missing.io": {{"auth": "{}"}}}}}}"#,
        b64("fallback:pw")
    ));
    assert_eq!(lookup(&c, "ghcr.io", h.path()).unwrap(), basic("hu", "hs"));
    assert_eq!(
        lookup(&c, "index.docker.io", h.path()).unwrap(),
        Some(Credential::IdentityToken("idtok".into()))
    );
    // A helper that has nothing falls back to the inline entry.
    assert_eq!(
        lookup(&c, "missing.io", h.path()).unwrap(),
        basic("fallback", "pw")
    );
    let err = lookup(&c, "broken.io", h.path()).unwrap_err().to_string();
    assert!(
        err.contains("docker-credential-fake") && err.contains("boom for broken.io"),
        "{err}"
    );
    let err = lookup(&c, "absent.io", h.path()).unwrap_err().to_string();
    assert!(
        err.contains("docker-credential-nope") && err.contains("not found"),
        "{err}"
    );

    let bad = config(r#"{"credHelpers": {"ghcr.io": "../../bin/sh"}}"#);
    assert!(lookup(&bad, "ghcr.io", h.path()).is_err());
}

#[test]
fn creds_store() {
    let h = Helpers::new();
    h.add(
        "store",
        r#"host=$(cat)
if [ "$host" = "registry.example:8443" ]; then echo '{"Username":"su","Secret":"ss"}'; exit 0; fi
echo 'credentials not found in native keychain' >&2; exit 1"#,
    );
    h.add("garbage", "echo not json");
    let c = config(r#"{"credsStore": "store", "auths": {"https://index.docker.io/v1/": {}}}"#);
    assert_eq!(
        lookup(&c, "registry.example:8443", h.path()).unwrap(),
        basic("su", "ss")
    );
    assert_eq!(lookup(&c, "index.docker.io", h.path()).unwrap(), None);
    let c = config(r#"{"credsStore": "garbage"}"#);
    assert!(
        lookup(&c, "x.io", h.path())
            .unwrap_err()
            .to_string()
            .contains("JSON")
    );
}

#[test]
fn file_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let podman = dir.path().join("auth.json");
    let docker = dir.path().join("config.json");
    let missing = dir.path().join("missing.json");
    let empty = dir.path().join("empty.json");
    std::fs::write(
        &podman,
        format!(
            r#"{{"auths": {{"ghcr.io": {{"auth": "{}"}}}}}}"#,
            b64("podman:1")
        ),
    )
    .unwrap();
    std::fs::write(
        &docker,
        format!(
            r#"{{"auths": {{"ghcr.io": {{"auth": "{}"}}, "quay.io": {{"auth": "{}"}}}}}}"#,
            b64("docker:2"),
            b64("docker:3")
        ),
    )
    .unwrap();
    std::fs::write(&empty, "  \n").unwrap();
    let sources = CredentialSources {
        files: vec![missing, empty.clone(), podman.clone(), docker.clone()],
        helper_path: Some(dir.path().as_os_str().to_owned()),
    };
    assert_eq!(
        sources.credential_for("ghcr.io").unwrap(),
        basic("podman", "1").unwrap()
    );
    assert_eq!(
        sources.credential_for("quay.io").unwrap(),
        basic("docker", "3").unwrap()
    );
    assert_eq!(
        sources.credential_for("other.io").unwrap(),
        Credential::Anonymous
    );

    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{not json").unwrap();
    let sources = CredentialSources {
        files: vec![broken.clone(), docker],
        helper_path: None,
    };
    let msg = sources.credential_for("ghcr.io").unwrap_err().to_string();
    assert!(msg.contains(&broken.display().to_string()), "{msg}");
}

#[test]
fn debug_redacts_secrets() {
    let c = Credential::Basic {
        username: "me".into(),
        password: "hunter2".into(),
    };
    assert!(!format!("{c:?}").contains("hunter2"));
    assert!(!format!("{:?}", Credential::IdentityToken("s3cr3t".into())).contains("s3cr3t"));
    let e: AuthEntry = serde_json::from_str(r#"{"auth":"c2VjcmV0"}"#).unwrap();
    assert!(!format!("{e:?}").contains("c2VjcmV0"));
}

proptest::proptest! {
    /// Config files are user input: any bytes parse or fail cleanly, and any
    /// parsed `auths` entry looks up without panicking (no helper is run: the
    /// helper path is empty).
    #[test]
    fn config_parsing_and_lookup_never_panic(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        auth in "[A-Za-z0-9+/=:]{0,40}",
        host in "[a-zA-Z0-9.:/]{1,30}",
    ) {
        let _ = AuthConfig::from_json(&bytes);
        let json = serde_json::json!({"auths": {host.clone(): {"auth": auth}}}).to_string();
        if let Ok(cfg) = AuthConfig::from_json(json.as_bytes()) {
            let _ = lookup(&cfg, &host, Some(std::ffi::OsStr::new("")));
        }
    }

    /// Any enclosing namespace key is found for a repository under it, and
    /// the deepest one wins over a shallower one.
    #[test]
    fn the_enclosing_namespace_is_found(
        segments in proptest::collection::vec("[a-z0-9]{1,5}", 1..5),
        cut in 0usize..5,
    ) {
        let key = format!("reg.io/{}", segments.join("/"));
        let cut = cut.min(segments.len());
        let scope = match segments.get(..cut) {
            Some(s) if !s.is_empty() => format!("reg.io/{}", s.join("/")),
            _ => "reg.io".to_owned(),
        };
        let mut auths = serde_json::Map::new();
        auths.insert(scope.clone(), serde_json::json!({"auth": b64("deep:1")}));
        if cut > 0 {
            auths.insert("reg.io".into(), serde_json::json!({"auth": b64("shallow:2")}));
        }
        let cfg = AuthConfig::from_json(serde_json::json!({"auths": auths}).to_string().as_bytes()).unwrap();
        proptest::prop_assert_eq!(lookup(&cfg, &key, None).unwrap(), basic("deep", "1"));
    }
}

/// podman's namespace keys: the most specific entry that encloses the
/// repository wins, as containers/image matches them; helpers stay per registry.
#[test]
fn namespace_keys_match_the_most_specific_entry() {
    let c = config(&format!(
        r#"{{"auths": {{
            "quay.io": {{"auth": "{}"}},
            "quay.io/org": {{"auth": "{}"}},
            "quay.io/org/team/app": {{"auth": "{}"}},
            "QUAY.IO/other": {{"auth": "{}"}},
            "docker.io/myorg": {{"auth": "{}"}},
            "https://index.docker.io/v1/": {{"auth": "{}"}},
            "localhost:5000/ns": {{"auth": "{}"}},
            "quay.io/empty": {{}}
        }}}}"#,
        b64("registry:1"),
        b64("org:2"),
        b64("app:3"),
        b64("other:4"),
        b64("hub-org:5"),
        b64("hub:6"),
        b64("local-ns:7"),
    ));
    let get = |key: &str| lookup(&c, key, None).unwrap();
    assert_eq!(get("quay.io/org/team/app"), basic("app", "3"));
    assert_eq!(get("quay.io/org/team/app2"), basic("org", "2"));
    assert_eq!(get("quay.io/org/team"), basic("org", "2"));
    assert_eq!(get("quay.io/org"), basic("org", "2"));
    // A key is a path prefix by whole segments only.
    assert_eq!(get("quay.io/organisation/app"), basic("registry", "1"));
    assert_eq!(get("quay.io/app"), basic("registry", "1"));
    assert_eq!(get("quay.io"), basic("registry", "1"));
    // Hosts compare case-insensitively; an empty entry is skipped.
    assert_eq!(get("quay.io/other/x"), basic("other", "4"));
    assert_eq!(get("quay.io/empty/x"), basic("registry", "1"));
    // Docker Hub: the namespace key under any of its names, else docker's URL key.
    assert_eq!(get("index.docker.io/myorg/app"), basic("hub-org", "5"));
    assert_eq!(get("index.docker.io/library/alpine"), basic("hub", "6"));
    // A namespace key never stands for its whole registry.
    assert_eq!(get("localhost:5000/ns/app"), basic("local-ns", "7"));
    assert_eq!(get("localhost:5000/elsewhere"), None);
    assert_eq!(get("localhost:5000"), None);
}

#[test]
fn cred_helpers_are_per_registry_and_win_over_namespace_keys() {
    let h = Helpers::new();
    h.add(
        "reg",
        r#"read host; echo "{\"Username\":\"helper-for-$host\",\"Secret\":\"s\"}""#,
    );
    let c = config(&format!(
        r#"{{"credHelpers": {{"ghcr.io": "reg"}}, "auths": {{"ghcr.io/org": {{"auth": "{}"}}}}}}"#,
        b64("scoped:x")
    ));
    // The helper is asked about the registry, not the repository.
    assert_eq!(
        lookup(&c, "ghcr.io/org/app", h.path()).unwrap(),
        basic("helper-for-ghcr.io", "s")
    );
}

/// A helper that prints more than a pipe buffer (64 KiB) must not block
/// until the timeout: its output is drained while it runs.
#[test]
fn helpers_with_large_output_finish_quickly() {
    let h = Helpers::new();
    // 200 KiB of padding in a valid reply (JSON ignores the whitespace).
    h.add(
        "chatty",
        r#"cat >/dev/null
printf '{"Username":"big","Secret":"s"'
head -c 204800 /dev/zero | tr '\0' ' '
printf '}'
head -c 204800 /dev/zero | tr '\0' 'e' >&2"#,
    );
    let c = config(r#"{"credsStore": "chatty"}"#);
    let started = Instant::now();
    assert_eq!(lookup(&c, "x.io", h.path()).unwrap(), basic("big", "s"));
    eprintln!(
        "helper with 400 KiB of output answered in {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn helpers_past_the_output_cap_are_stopped_with_a_clear_error() {
    let h = Helpers::new();
    h.add("flood", "cat >/dev/null\nexec cat /dev/zero");
    h.add("flood-stderr", "cat >/dev/null\nexec cat /dev/zero >&2");
    for helper in ["flood", "flood-stderr"] {
        let c = config(&format!(r#"{{"credsStore": "{helper}"}}"#));
        let started = Instant::now();
        let err = lookup(&c, "x.io", h.path()).unwrap_err().to_string();
        assert!(
            err.contains(&format!("docker-credential-{helper}"))
                && err.contains("wrote more than 1048576 bytes"),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(5), "{helper}");
    }
}

#[test]
fn credential_files_are_read_through_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("auth.json");
    std::fs::write(&big, vec![b' '; (4 << 20) + 1]).unwrap();
    let sources = CredentialSources {
        files: vec![big.clone()],
        helper_path: None,
    };
    let err = sources.credential_for("x.io").unwrap_err().to_string();
    assert!(
        err.contains(&big.display().to_string()) && err.contains("limit for a credential file"),
        "{err}"
    );
}

/// Lookups are per repository but helpers per registry: twenty concurrent
/// lookups in one registry run the helper once.
#[test]
fn one_helper_run_serves_every_repository_of_a_registry() {
    let h = Helpers::new();
    let count = h.dir.path().join("runs");
    h.add(
        "counted",
        &format!(
            "cat >/dev/null\necho run >> '{}'\nsleep 0.2\necho '{{\"Username\":\"u\",\"Secret\":\"s\"}}'",
            count.display()
        ),
    );
    let c = std::sync::Arc::new(config(r#"{"credHelpers": {"many.io": "counted"}}"#));
    let dir = h.dir.path().as_os_str().to_owned();
    let lookups: Vec<_> = (0..20)
        .map(|i| {
            let (c, dir) = (c.clone(), dir.clone());
            std::thread::spawn(move || lookup(&c, &format!("many.io/team/app{i}"), Some(&dir)))
        })
        .collect();
    for l in lookups {
        assert_eq!(l.join().unwrap().unwrap(), basic("u", "s"));
    }
    assert_eq!(std::fs::read_to_string(&count).unwrap().lines().count(), 1);
}
