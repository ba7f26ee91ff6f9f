//! Vault/OpenBao key references against a real OpenBao dev server: signing
//! with keys that never touch the disk.

use std::process::Command;
use std::sync::OnceLock;

use crate::harness::{AIR_GAPPED, Env, PASSWORD, tests, unique_repo};

tests![
    transit_key_signs_without_a_private_key_anywhere,
    kv_key_pairs_are_created_beside_each_other_and_decrypted_in_memory,
    runbook_layout_cosign_key_in_kv_with_stored_password,
    vault_namespace_is_honoured,
    transit_key_rotated_during_a_batch_still_verifies,
    key_versions_are_recorded_only_when_asked_and_only_where_they_exist
];

const HTTP: &str = "--allow-http-registry";

fn vault(env: &Env, method: &str, path: &str, body: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, "-H"])
        .arg(format!("X-Vault-Token: {}", env.vault_token))
        .args(["-d", body])
        .arg(format!("{}/v1/{path}", env.vault_addr))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

/// Mounts transit and a KV v2 engine at `kv/`, once per test process.
fn mounts(env: &Env) {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        for (path, body) in [
            ("sys/mounts/transit", r#"{"type":"transit"}"#),
            (
                "sys/mounts/kv",
                r#"{"type":"kv","options":{"version":"2"}}"#,
            ),
        ] {
            let (code, text) = vault(env, "POST", path, body);
            assert!(
                code == 204 || text.contains("path is already in use"),
                "{path}: {code} {text}"
            );
        }
    });
}

fn unique(name: &str) -> String {
    unique_repo(name).replace('/', "-")
}

fn transit_key_signs_without_a_private_key_anywhere(env: &Env) {
    mounts(env);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let name = unique("release");
    let keyref = format!("hashivault://{name}");
    env.signet(
        d,
        &[
            "generate-key-pair",
            "--kms",
            &keyref,
            "--output-key-prefix",
            "release",
        ],
    )
    .ok();
    let files: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files, ["release.pub"], "only the public key is written");
    let public = env.signet(d, &["public-key", "--key", &keyref]).ok();
    assert_eq!(
        public.stdout,
        std::fs::read_to_string(d.join("release.pub")).unwrap()
    );

    let (image, _) = env.push_image(&unique_repo("transit"));
    env.signet(
        d,
        &[
            "sign",
            "--key",
            &keyref,
            HTTP,
            "--tlog-upload=false",
            &image,
        ],
    )
    .ok();
    env.signet(
        d,
        &["verify", AIR_GAPPED, "--key", "release.pub", HTTP, &image],
    )
    .ok();
    env.signet(d, &["verify", AIR_GAPPED, "--key", &keyref, HTTP, &image])
        .ok();
    env.cosign(
        d,
        &[
            "verify",
            "--key",
            "release.pub",
            "--insecure-ignore-tlog",
            HTTP,
            &image,
        ],
    )
    .ok();
    // Blobs too.
    std::fs::write(d.join("blob"), b"x").unwrap();
    env.signet(
        d,
        &[
            "sign-blob",
            "--key",
            &keyref,
            "--tlog-upload=false",
            "--output-signature",
            "blob.sig",
            "blob",
        ],
    )
    .ok();
    env.cosign(
        d,
        &[
            "verify-blob",
            "--key",
            "release.pub",
            "--signature",
            "blob.sig",
            "--insecure-ignore-tlog=true",
            "blob",
        ],
    )
    .ok();

    env.signet(
        d,
        &["sign", "--key", "hashivault://no-such-key", HTTP, &image],
    )
    .fails_with(1, "no transit key");
    // A transit key that cannot sign (symmetric) is refused by name.
    let symmetric = unique("symmetric");
    let (code, text) = vault(
        env,
        "POST",
        &format!("transit/keys/{symmetric}"),
        r#"{"type":"aes256-gcm96"}"#,
    );
    assert!(code == 200 || code == 204, "{code} {text}");
    env.signet(
        d,
        &[
            "sign",
            "--key",
            &format!("hashivault://{symmetric}"),
            HTTP,
            &image,
        ],
    )
    .fails_with(1, "aes256-gcm96 cannot sign");
    env.signet_with(
        d,
        &["public-key", "--key", &keyref],
        &[("VAULT_ADDR", "")],
        None,
    )
    .fails_with(1, "VAULT_ADDR");
}

fn kv_key_pairs_are_created_beside_each_other_and_decrypted_in_memory(env: &Env) {
    mounts(env);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let team = unique("golemtrust");
    let current = format!("vault-kv://kv/{team}/cosign");
    let next = format!("vault-kv://kv/{team}/cosign-2027");
    env.signet(
        d,
        &[
            "generate-key-pair",
            "--kms",
            &current,
            "--output-key-prefix",
            "current",
        ],
    )
    .ok();
    env.signet(
        d,
        &[
            "generate-key-pair",
            "--kms",
            &next,
            "--output-key-prefix",
            "next",
        ],
    )
    .ok();
    // The old secret is untouched and never overwritten.
    let err = env
        .signet(
            d,
            &[
                "generate-key-pair",
                "--kms",
                &current,
                "--output-key-prefix",
                "again",
            ],
        )
        .fails_with(1, "already exists");
    assert!(err.stderr.contains(&current));
    let (code, body) = vault(env, "GET", &format!("kv/data/{team}/cosign"), "");
    assert_eq!(code, 200);
    assert!(
        body.contains("ENCRYPTED SIGSTORE PRIVATE KEY") && body.contains("\"version\":1"),
        "{body}"
    );

    let (image, _) = env.push_image(&unique_repo("kv"));
    env.signet(
        d,
        &[
            "sign",
            "--key",
            &current,
            HTTP,
            "--tlog-upload=false",
            &image,
        ],
    )
    .ok();
    env.signet(
        d,
        &["sign", "--key", &next, HTTP, "--tlog-upload=false", &image],
    )
    .ok();
    env.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            "current.pub",
            "--key",
            "next.pub",
            HTTP,
            &image,
        ],
    )
    .ok();
    env.signet(d, &["verify", AIR_GAPPED, "--key", &next, HTTP, &image])
        .ok();
    env.cosign(
        d,
        &[
            "verify",
            "--key",
            "next.pub",
            "--insecure-ignore-tlog",
            HTTP,
            &image,
        ],
    )
    .ok();
    let files: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        files.iter().all(|f| f.ends_with(".pub")),
        "no private key on disk: {files:?}"
    );
    env.signet_with(
        d,
        &["sign", "--key", &current, HTTP, &image],
        &[("COSIGN_PASSWORD", "wrong")],
        None,
    )
    .fails_with(1, "incorrect password");
}

fn runbook_layout_cosign_key_in_kv_with_stored_password(env: &Env) {
    mounts(env);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    env.cosign(d, &["generate-key-pair", "--output-key-prefix", "runbook"])
        .ok();
    let private = std::fs::read_to_string(d.join("runbook.key")).unwrap();
    std::fs::remove_file(d.join("runbook.key")).unwrap();
    let path = unique("runbook");
    let body =
        serde_json::json!({"data": {"private_key": private, "password": PASSWORD}}).to_string();
    let (code, text) = vault(env, "POST", &format!("kv/data/{path}/cosign"), &body);
    assert_eq!(code, 200, "{text}");
    let (image, _) = env.push_image(&unique_repo("runbook"));
    // No COSIGN_PASSWORD: the password comes from the secret's password field.
    env.signet_with(
        d,
        &[
            "sign",
            "--key",
            &format!("vault-kv://kv/{path}/cosign"),
            HTTP,
            "--tlog-upload=false",
            &image,
        ],
        &[],
        None,
    )
    .ok();
    env.cosign(
        d,
        &[
            "verify",
            "--key",
            "runbook.pub",
            "--insecure-ignore-tlog",
            HTTP,
            &image,
        ],
    )
    .ok();
    env.signet(
        d,
        &[
            "sign",
            "--key",
            &format!("vault-kv://kv/{path}/missing"),
            HTTP,
            &image,
        ],
    )
    .fails_with(1, "no such secret");
    env.signet(
        d,
        &[
            "sign",
            "--key",
            &format!("vault-kv://kv/{path}/cosign?version=9"),
            HTTP,
            &image,
        ],
    )
    .fails_with(1, "version 9");
}

fn vault_namespace_is_honoured(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let namespace = unique("ns");
    let (code, text) = vault(env, "POST", &format!("sys/namespaces/{namespace}"), "{}");
    assert_eq!(code, 200, "{text}");
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "POST",
            "-H",
        ])
        .arg(format!("X-Vault-Token: {}", env.vault_token))
        .arg("-H")
        .arg(format!("X-Vault-Namespace: {namespace}"))
        .args(["-d", r#"{"type":"transit"}"#])
        .arg(format!("{}/v1/sys/mounts/transit", env.vault_addr))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "204");
    let in_ns = [
        ("VAULT_NAMESPACE", namespace.as_str()),
        ("COSIGN_PASSWORD", PASSWORD),
    ];
    env.signet_with(
        d,
        &[
            "generate-key-pair",
            "--kms",
            "hashivault://team-key",
            "--output-key-prefix",
            "ns",
        ],
        &in_ns,
        None,
    )
    .ok();
    let (image, _) = env.push_image(&unique_repo("namespace"));
    env.signet_with(
        d,
        &[
            "sign",
            "--key",
            "hashivault://team-key",
            HTTP,
            "--tlog-upload=false",
            &image,
        ],
        &in_ns,
        None,
    )
    .ok();
    env.signet(d, &["verify", AIR_GAPPED, "--key", "ns.pub", HTTP, &image])
        .ok();
    // The key lives only in the namespace.
    env.signet(d, &["public-key", "--key", "hashivault://team-key"])
        .fails_with(1, "no transit key");
}

/// The transit key is rotated over and over while a batch is signed: every
/// signature is made with the version whose public key was loaded, so all of
/// them verify under it, and `--record-key-version` says which one it was.
fn transit_key_rotated_during_a_batch_still_verifies(env: &Env) {
    mounts(env);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let name = unique("rotating");
    let keyref = format!("hashivault://{name}");
    env.signet(
        d,
        &[
            "generate-key-pair",
            "--kms",
            &keyref,
            "--output-key-prefix",
            "rot",
        ],
    )
    .ok();
    let images: Vec<String> = (0..10)
        .map(|i| env.push_image(&unique_repo(&format!("rotate{i}"))).0)
        .collect();

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let rotator = {
        let stop = stop.clone();
        let (addr, token, name) = (
            env.vault_addr.clone(),
            env.vault_token.clone(),
            name.clone(),
        );
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = Command::new("curl")
                    .args(["-sf", "-o", "/dev/null", "-X", "POST", "-H"])
                    .arg(format!("X-Vault-Token: {token}"))
                    .arg(format!("{addr}/v1/transit/keys/{name}/rotate"))
                    .status();
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        })
    };
    let mut sign = vec![
        "sign",
        "--key",
        keyref.as_str(),
        HTTP,
        "--tlog-upload=false",
        "--record-key-version",
        "--concurrency",
        "2",
    ];
    sign.extend(images.iter().map(String::as_str));
    let signed = env.signet(d, &sign);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    rotator.join().unwrap();
    signed.ok();

    // Which version signed: the one recorded in the signatures.
    let (_, key) = vault(env, "GET", &format!("transit/keys/{name}"), "");
    let key: serde_json::Value = serde_json::from_str(&key).unwrap();
    let latest = key["data"]["latest_version"].as_u64().unwrap();
    let mut any_version = vec!["verify".to_owned(), AIR_GAPPED.to_owned(), HTTP.to_owned()];
    for v in 1..=latest {
        let pem = key["data"]["keys"][v.to_string()]["public_key"]
            .as_str()
            .unwrap();
        std::fs::write(d.join(format!("v{v}.pub")), pem).unwrap();
        any_version.extend(["--key".to_owned(), format!("v{v}.pub")]);
    }
    any_version.push(images[0].clone());
    let any_version: Vec<&str> = any_version.iter().map(String::as_str).collect();
    let out = env.signet(d, &any_version).ok().stdout;
    let payloads: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let loaded: u64 = payloads[0]["optional"]["kms-key-version"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no kms-key-version in {out}"));
    eprintln!("signed with transit key version {loaded}; rotated to version {latest} meanwhile");
    assert!(
        latest > loaded,
        "the key was not rotated while the batch ran (loaded {loaded}, latest {latest})"
    );
    // Every signature verifies under that version's public key alone, and
    // carries the version as a signed claim (for cosign too).
    let claim = format!("kms-key-version={loaded}");
    let public = format!("v{loaded}.pub");
    let mut verify = vec![
        "verify",
        AIR_GAPPED,
        "--key",
        public.as_str(),
        HTTP,
        "-a",
        claim.as_str(),
    ];
    verify.extend(images.iter().map(String::as_str));
    env.signet(d, &verify).ok();
    env.cosign(
        d,
        &[
            "verify",
            "--key",
            &public,
            "--insecure-ignore-tlog",
            HTTP,
            "-a",
            &claim,
            &images[0],
        ],
    )
    .ok();
}

/// `--record-key-version` records a KV secret's version too, is refused for
/// keys without versions, and never silently replaces an `-a` annotation.
fn key_versions_are_recorded_only_when_asked_and_only_where_they_exist(env: &Env) {
    mounts(env);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let secret = format!("vault-kv://kv/{}/cosign", unique("versioned"));
    env.signet(
        d,
        &[
            "generate-key-pair",
            "--kms",
            &secret,
            "--output-key-prefix",
            "kv",
        ],
    )
    .ok();
    crate::harness::signet_key_pair(env, d, "file");
    let (image, _) = env.push_image(&unique_repo("versioned"));
    env.signet(
        d,
        &[
            "sign",
            "--key",
            &secret,
            HTTP,
            "--tlog-upload=false",
            "--record-key-version=secret-version",
            &image,
        ],
    )
    .ok();
    env.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            "kv.pub",
            HTTP,
            "-a",
            "secret-version=1",
            &image,
        ],
    )
    .ok();
    env.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            "kv.pub",
            HTTP,
            "-a",
            "secret-version=2",
            &image,
        ],
    )
    .fails_with(12, "");
    // Without the flag, the payload is exactly cosign's (no extra claim).
    let (plain, _) = env.push_image(&unique_repo("unversioned"));
    env.signet(
        d,
        &[
            "sign",
            "--key",
            &secret,
            HTTP,
            "--tlog-upload=false",
            &plain,
        ],
    )
    .ok();
    let out = env
        .signet(d, &["verify", AIR_GAPPED, "--key", "kv.pub", HTTP, &plain])
        .ok()
        .stdout;
    assert!(out.contains(r#""optional":null"#), "{out}");

    env.signet(
        d,
        &[
            "sign",
            "--key",
            "file.key",
            HTTP,
            "--tlog-upload=false",
            "--record-key-version",
            &image,
        ],
    )
    .fails_with(1, "--record-key-version: file.key has no versions");
    env.signet(
        d,
        &[
            "sign",
            "--key",
            &secret,
            HTTP,
            "--tlog-upload=false",
            "--record-key-version=team",
            "-a",
            "team=x",
            &image,
        ],
    )
    .fails_with(1, "would replace the annotation team");
}
