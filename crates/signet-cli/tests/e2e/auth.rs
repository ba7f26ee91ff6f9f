//! A registry with TLS and basic authentication: certificate checking,
//! `--allow-insecure-registry`, and credentials from flags, docker's
//! `config.json` (`auths`, `credHelpers`) and podman's `auth.json`.

use base64::Engine as _;

use crate::harness::{AIR_GAPPED, Env, PASSWORD, signet_key_pair, tests, unique_repo};

tests![
    tls_and_basic_auth_with_every_credential_source,
    podman_namespace_keys_pick_the_most_specific_entry
];

fn tls_and_basic_auth_with_every_credential_source(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (host, user, password) = &env.auth_registry;
    signet_key_pair(env, d, "k");
    let image = env.push_image_with_auth(&unique_repo("auth"));
    let insecure = "--allow-insecure-registry";

    // The self-signed certificate is refused unless asked for.
    let run = env.signet(d, &["verify", AIR_GAPPED, "--key", "k.pub", &image]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot reach registry")
            && run.stderr.to_lowercase().contains("certificate"),
        "{}",
        run.stderr
    );
    // Without credentials: a clear unauthorized error.
    env.signet(
        d,
        &["verify", AIR_GAPPED, "--key", "k.pub", insecure, &image],
    )
    .fails_with(1, "unauthorized");

    // Flags.
    let creds = [
        "--registry-username",
        user.as_str(),
        "--registry-password",
        password.as_str(),
    ];
    let mut sign = vec!["sign", "--key", "k.key", insecure, "--tlog-upload=false"];
    sign.extend(creds);
    sign.push(&image);
    env.signet(d, &sign).ok();
    let mut verify = vec!["verify", AIR_GAPPED, "--key", "k.pub", insecure];
    verify.extend(creds);
    verify.push(&image);
    env.signet(d, &verify).ok();
    let plain_verify = [
        "verify",
        AIR_GAPPED,
        "--key",
        "k.pub",
        insecure,
        image.as_str(),
    ];

    // docker config.json `auths`, found through DOCKER_CONFIG.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let docker = d.join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        serde_json::json!({"auths": {host.as_str(): {"auth": basic}}}).to_string(),
    )
    .unwrap();
    let docker_env = [
        ("DOCKER_CONFIG", docker.to_str().unwrap()),
        ("COSIGN_PASSWORD", PASSWORD),
    ];
    env.signet_with(d, &plain_verify, &docker_env, None).ok();
    // cosign reads the same file and accepts the signature.
    env.cosign_with(
        d,
        &[
            "verify",
            "--key",
            "k.pub",
            "--insecure-ignore-tlog",
            insecure,
            &image,
        ],
        &docker_env,
    )
    .ok();

    // podman auth.json through REGISTRY_AUTH_FILE.
    let podman = d.join("auth.json");
    std::fs::write(
        &podman,
        serde_json::json!({"auths": {host.as_str(): {"auth": basic}}}).to_string(),
    )
    .unwrap();
    env.signet_with(
        d,
        &plain_verify,
        &[("REGISTRY_AUTH_FILE", podman.to_str().unwrap())],
        None,
    )
    .ok();

    // A credential helper named in credHelpers.
    let bin = d.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-signettest");
    std::fs::write(
        &helper,
        format!("#!/bin/sh\nread host\n[ \"$1\" = get ] && [ \"$host\" = \"{host}\" ] && echo '{{\"Username\":\"{user}\",\"Secret\":\"{password}\"}}'\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let helped = d.join("helped");
    std::fs::create_dir_all(&helped).unwrap();
    std::fs::write(
        helped.join("config.json"),
        serde_json::json!({"credHelpers": {host.as_str(): "signettest"}}).to_string(),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    env.signet_with(
        d,
        &plain_verify,
        &[("DOCKER_CONFIG", helped.to_str().unwrap()), ("PATH", &path)],
        None,
    )
    .ok();

    // Wrong credentials are an authentication error, not "no signatures".
    let wrong = serde_json::json!({"auths": {host.as_str(): {"auth": base64::engine::general_purpose::STANDARD.encode(format!("{user}:nope"))}}});
    std::fs::write(docker.join("config.json"), wrong.to_string()).unwrap();
    env.signet_with(d, &plain_verify, &docker_env, None)
        .fails_with(1, "unauthorized");
}

/// podman `auth.json` keys scoped to a namespace: the most specific key that
/// encloses the repository wins, as containers/image (skopeo) decides.
fn podman_namespace_keys_pick_the_most_specific_entry(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (host, user, password) = &env.auth_registry;
    signet_key_pair(env, d, "k");
    let repo = unique_repo("scoped");
    let image = env.push_image_with_auth(&repo);
    let b64 =
        |u: &str, p: &str| base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
    let right = b64(user, password);
    let wrong = b64(user, "wrong-password");
    let namespace = repo.rsplit_once('/').unwrap().0; // "e2e"
    let verify = [
        "verify",
        "--key",
        "k.pub",
        "--allow-insecure-registry",
        image.as_str(),
    ];
    let cases = [
        // The namespace entry beats the registry entry, and a sibling
        // namespace that only shares a prefix is not used.
        (
            serde_json::json!({"auths": {
                host.as_str(): {"auth": wrong},
                format!("{host}/{namespace}"): {"auth": right},
                format!("{host}/{namespace}x"): {"auth": wrong},
            }}),
            true,
        ),
        // The repository's own entry beats its namespace.
        (
            serde_json::json!({"auths": {
                format!("{host}/{namespace}"): {"auth": right},
                format!("{host}/{repo}"): {"auth": wrong},
            }}),
            false,
        ),
    ];
    for (n, (auth, works)) in cases.into_iter().enumerate() {
        let file = d.join(format!("auth-{n}.json"));
        std::fs::write(&file, auth.to_string()).unwrap();
        let file = file.to_str().unwrap();
        let run = env.signet_with(d, &verify, &[("REGISTRY_AUTH_FILE", file)], None);
        // skopeo (containers/image) reads the same file the same way.
        let skopeo = env.skopeo(
            d,
            &[
                "inspect",
                "--raw",
                "--tls-verify=false",
                "--authfile",
                file,
                &format!("docker://{image}"),
            ],
        );
        if works {
            // Authenticated: the image has no signature yet.
            run.fails_with(10, "no signatures");
            assert_eq!(skopeo.code, 0, "skopeo: {}", skopeo.stderr);
        } else {
            run.fails_with(1, "unauthorized");
            assert_ne!(skopeo.code, 0, "skopeo accepted case {n}");
        }
    }
}
