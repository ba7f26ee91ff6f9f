//! Key files: generate, import, public-key, and cross-loading with cosign.

use std::os::unix::fs::PermissionsExt;

use crate::harness::{AIR_GAPPED, Local, PASSWORD, Peers, signet_key_pair, tests};

tests![
    generate_key_pair_writes_private_0600_and_never_overwrites,
    password_from_stdin_and_wrong_password,
    cosign_loads_signet_keys_and_signet_loads_cosign_keys,
    public_key_from_env_reference,
    import_key_pair_every_pem_form,
    password_prompt_on_a_terminal_asks_twice
];

fn generate_key_pair_writes_private_0600_and_never_overwrites(env: &Local) {
    let dir = tempfile::tempdir().unwrap();
    let run = env.signet(dir.path(), &["generate-key-pair"]).ok();
    assert!(run.stderr.contains("Private key written to cosign.key"));
    let key = dir.path().join("cosign.key");
    let meta = std::fs::metadata(&key).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let pem = std::fs::read_to_string(&key).unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
    assert!(
        std::fs::read_to_string(dir.path().join("cosign.pub"))
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );

    env.signet(dir.path(), &["generate-key-pair"])
        .fails_with(1, "already exists; refusing to overwrite");
    assert_eq!(
        std::fs::read_to_string(&key).unwrap(),
        pem,
        "key file must be untouched"
    );
    // Only the pub existing is also refused, and nothing new appears.
    std::fs::write(dir.path().join("only.pub"), "x").unwrap();
    env.signet(
        dir.path(),
        &["generate-key-pair", "--output-key-prefix", "only"],
    )
    .fails_with(1, "only.pub already exists");
    assert!(!dir.path().join("only.key").exists());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 3, "no temporary files left: {names:?}");
}

fn password_from_stdin_and_wrong_password(env: &Local) {
    let dir = tempfile::tempdir().unwrap();
    env.signet_with(
        dir.path(),
        &["generate-key-pair", "--output-key-prefix", "s"],
        &[],
        Some("from stdin\n"),
    )
    .ok();
    let pub_pem = std::fs::read_to_string(dir.path().join("s.pub")).unwrap();
    let got = env
        .signet_with(
            dir.path(),
            &["public-key", "--key", "s.key"],
            &[],
            Some("from stdin\n"),
        )
        .ok();
    assert_eq!(got.stdout, pub_pem);
    env.signet_with(
        dir.path(),
        &["public-key", "--key", "s.key"],
        &[("COSIGN_PASSWORD", "wrong")],
        None,
    )
    .fails_with(1, "incorrect password");
}

fn cosign_loads_signet_keys_and_signet_loads_cosign_keys(env: &Peers) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "signet");
    env.cosign(d, &["generate-key-pair", "--output-key-prefix", "cosign"])
        .ok();
    // cosign reads signet's private key: public-key derives the same public key.
    let from_cosign = env.cosign(d, &["public-key", "--key", "signet.key"]).ok();
    assert_eq!(
        from_cosign.stdout,
        std::fs::read_to_string(d.join("signet.pub")).unwrap()
    );
    // signet reads cosign's.
    let from_signet = env.signet(d, &["public-key", "--key", "cosign.key"]).ok();
    assert_eq!(
        from_signet.stdout,
        std::fs::read_to_string(d.join("cosign.pub")).unwrap()
    );
    // And the older ENCRYPTED COSIGN PRIVATE KEY written by skopeo (N=32768).
    let vectors =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/skopeo-1.18");
    let k = vectors.join("skopeo.key");
    let run = env
        .signet_with(
            d,
            &["public-key", "--key", k.to_str().unwrap()],
            &[("COSIGN_PASSWORD", "pw")],
            None,
        )
        .ok();
    assert_eq!(
        run.stdout,
        std::fs::read_to_string(vectors.join("skopeo.pub")).unwrap()
    );
}

fn public_key_from_env_reference(env: &Local) {
    let dir = tempfile::tempdir().unwrap();
    signet_key_pair(env, dir.path(), "k");
    let private = std::fs::read_to_string(dir.path().join("k.key")).unwrap();
    let public = std::fs::read_to_string(dir.path().join("k.pub")).unwrap();
    let run = env
        .signet_with(
            dir.path(),
            &["public-key", "--key", "env://SIGNING_KEY"],
            &[("SIGNING_KEY", &private), ("COSIGN_PASSWORD", PASSWORD)],
            None,
        )
        .ok();
    assert_eq!(run.stdout, public);
    env.signet(
        dir.path(),
        &["public-key", "--key", "env://NOT_SET_ANYWHERE"],
    )
    .fails_with(1, "NOT_SET_ANYWHERE is not set");
    // --outfile writes, and refuses to overwrite.
    env.signet(
        dir.path(),
        &["public-key", "--key", "k.key", "--outfile", "out.pub"],
    )
    .ok();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.pub")).unwrap(),
        public
    );
    env.signet(
        dir.path(),
        &["public-key", "--key", "k.key", "--outfile", "out.pub"],
    )
    .fails_with(1, "already exists");
}

fn import_key_pair_every_pem_form(env: &Peers) {
    let dir = tempfile::tempdir().unwrap();
    let vectors =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/import");
    for (n, file) in [
        "ec-sec1.pem",
        "ec-pkcs8.pem",
        "ec384-sec1.pem",
        "rsa-pkcs1.pem",
        "rsa-pkcs8.pem",
        "ed25519-pkcs8.pem",
    ]
    .iter()
    .enumerate()
    {
        let prefix = format!("imp{n}");
        let src = vectors.join(file);
        env.signet(
            dir.path(),
            &[
                "import-key-pair",
                "--key",
                src.to_str().unwrap(),
                "--output-key-prefix",
                &prefix,
            ],
        )
        .ok();
        let key = format!("{prefix}.key");
        // The imported key is a normal cosign key: cosign reads it.
        let cosign_pub = env.cosign(dir.path(), &["public-key", "--key", &key]).ok();
        assert_eq!(
            cosign_pub.stdout,
            std::fs::read_to_string(dir.path().join(format!("{prefix}.pub"))).unwrap(),
            "{file}"
        );
        // Signatures with every key type verify in the other tool, both ways
        // (ECDSA over SHA-256 whatever the curve, RSA PKCS#1 v1.5, pure Ed25519).
        std::fs::write(dir.path().join("blob"), file.as_bytes()).unwrap();
        let (ours, theirs, public) = (
            format!("{prefix}.s.sig"),
            format!("{prefix}.c.sig"),
            format!("{prefix}.pub"),
        );
        env.signet(
            dir.path(),
            &[
                "sign-blob",
                "--key",
                &key,
                "--tlog-upload=false",
                "--output-signature",
                &ours,
                "blob",
            ],
        )
        .ok();
        env.cosign(
            dir.path(),
            &[
                "verify-blob",
                "--key",
                &public,
                "--signature",
                &ours,
                "--insecure-ignore-tlog=true",
                "blob",
            ],
        )
        .ok();
        env.cosign(
            dir.path(),
            &[
                "sign-blob",
                "--key",
                &key,
                "--tlog-upload=false",
                "--yes",
                "--output-signature",
                &theirs,
                "blob",
            ],
        )
        .ok();
        env.signet(
            dir.path(),
            &[
                "verify-blob",
                AIR_GAPPED,
                "--key",
                &public,
                "--signature",
                &theirs,
                "blob",
            ],
        )
        .ok();
        std::fs::remove_file(dir.path().join("blob")).unwrap();
    }
    let small = vectors.join("rsa-1024-pkcs1.pem");
    env.signet(
        dir.path(),
        &[
            "import-key-pair",
            "--key",
            small.to_str().unwrap(),
            "-o",
            "small",
        ],
    )
    .fails_with(1, "at least 2048");
    let p521 = vectors.join("ec521-pkcs8.pem");
    env.signet(
        dir.path(),
        &[
            "import-key-pair",
            "--key",
            p521.to_str().unwrap(),
            "-o",
            "p521",
        ],
    )
    .fails_with(1, "unsupported key");
    assert!(!dir.path().join("small.key").exists() && !dir.path().join("p521.key").exists());
}

fn password_prompt_on_a_terminal_asks_twice(_local: &Local) {
    let dir = tempfile::tempdir().unwrap();
    // `script` gives signet a real terminal; the answers arrive as typed.
    let prompt = |prefix: &str, first: &str, second: &str| {
        let cmd = format!(
            "(sleep 0.5; printf '{first}\\n'; sleep 0.3; printf '{second}\\n') | script -qec '{} generate-key-pair --output-key-prefix {prefix}' /dev/null",
            env!("CARGO_BIN_EXE_signet")
        );
        std::process::Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(dir.path())
            .env_remove("COSIGN_PASSWORD")
            .output()
            .unwrap()
    };
    let out = prompt("tty", "typed-pw", "typed-pw");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Enter password for private key tty.key:") && text.contains("again:"),
        "{text}"
    );
    assert!(dir.path().join("tty.key").exists());
    let out = prompt("mismatch", "one", "two");
    assert!(String::from_utf8_lossy(&out.stdout).contains("the passwords do not match"));
    assert!(!dir.path().join("mismatch.key").exists());
}
