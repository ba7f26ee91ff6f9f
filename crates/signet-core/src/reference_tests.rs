use super::*;
use proptest::prelude::*;

const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn digest() -> Digest {
    format!("sha256:{HEX}").parse().unwrap()
}

/// (input, registry, repository, tag, has digest, display)
type Case = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    bool,
    &'static str,
);

const GOOD: &[Case] = &[
    (
        "debian",
        "index.docker.io",
        "library/debian",
        Some("latest"),
        false,
        "index.docker.io/library/debian:latest",
    ),
    (
        "debian:12",
        "index.docker.io",
        "library/debian",
        Some("12"),
        false,
        "index.docker.io/library/debian:12",
    ),
    (
        "docker.io/debian",
        "index.docker.io",
        "library/debian",
        Some("latest"),
        false,
        "index.docker.io/library/debian:latest",
    ),
    (
        "docker.io/library/debian:bookworm-slim",
        "index.docker.io",
        "library/debian",
        Some("bookworm-slim"),
        false,
        "index.docker.io/library/debian:bookworm-slim",
    ),
    (
        "index.docker.io/user/app",
        "index.docker.io",
        "user/app",
        Some("latest"),
        false,
        "index.docker.io/user/app:latest",
    ),
    (
        "user/app:v1.2",
        "index.docker.io",
        "user/app",
        Some("v1.2"),
        false,
        "index.docker.io/user/app:v1.2",
    ),
    (
        "ghcr.io/org/team/app:1.0",
        "ghcr.io",
        "org/team/app",
        Some("1.0"),
        false,
        "ghcr.io/org/team/app:1.0",
    ),
    (
        "localhost/app",
        "localhost",
        "app",
        Some("latest"),
        false,
        "localhost/app:latest",
    ),
    (
        "localhost:5000/app:dev",
        "localhost:5000",
        "app",
        Some("dev"),
        false,
        "localhost:5000/app:dev",
    ),
    (
        "127.0.0.1:5000/a/b",
        "127.0.0.1:5000",
        "a/b",
        Some("latest"),
        false,
        "127.0.0.1:5000/a/b:latest",
    ),
    (
        "[::1]:5000/app",
        "[::1]:5000",
        "app",
        Some("latest"),
        false,
        "[::1]:5000/app:latest",
    ),
    (
        "Registry/app",
        "Registry",
        "app",
        Some("latest"),
        false,
        "Registry/app:latest",
    ),
    (
        "my-registry.example.com:443/a.b/c_d/e__f/g---h:T_a.g-1",
        "my-registry.example.com:443",
        "a.b/c_d/e__f/g---h",
        Some("T_a.g-1"),
        false,
        "my-registry.example.com:443/a.b/c_d/e__f/g---h:T_a.g-1",
    ),
];

#[test]
fn parses_good_references() {
    for &(input, registry, repository, tag, has_digest, display) in GOOD {
        let r = input
            .parse::<Reference>()
            .unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(r.registry(), registry, "{input}");
        assert_eq!(r.repository(), repository, "{input}");
        assert_eq!(r.tag(), tag, "{input}");
        assert_eq!(r.digest().is_some(), has_digest, "{input}");
        assert_eq!(r.to_string(), display, "{input}");
        assert_eq!(r.repo_name(), format!("{registry}/{repository}"));
    }
}

#[test]
fn digests() {
    let r: Reference = format!("debian@sha256:{HEX}").parse().unwrap();
    assert_eq!(r.tag(), None);
    assert_eq!(r.digest(), Some(&digest()));
    assert_eq!(r.manifest_reference(), format!("sha256:{HEX}"));
    assert_eq!(
        r.to_string(),
        format!("index.docker.io/library/debian@sha256:{HEX}")
    );

    let r: Reference = format!("localhost:5000/app:v1@sha256:{HEX}")
        .parse()
        .unwrap();
    assert_eq!(r.tag(), Some("v1"));
    assert_eq!(r.registry(), "localhost:5000");
    assert_eq!(r.manifest_reference(), format!("sha256:{HEX}"));
    assert_eq!(r.to_string(), format!("localhost:5000/app:v1@sha256:{HEX}"));

    let r: Reference = format!("localhost:5000/app@sha256:{HEX}").parse().unwrap();
    assert_eq!(r.tag(), None);
    assert_eq!(r.registry(), "localhost:5000");
}

#[test]
fn rejects_bad_references() {
    let bad = [
        "",
        ":",
        "@",
        "/",
        "debian:",
        "debian@",
        "Debian",
        "user/App",
        "ghcr.io/",
        "ghcr.io//app",
        "ghcr.io/app/",
        "a..b",
        "a.-b",
        "a___b",
        "-a",
        "a-",
        "app:-tag",
        "app:.tag",
        "app:ta/g",
        "app:t@g",
        "app@sha256:abc",
        "app@sha512:0000000000000000000000000000000000000000000000000000000000000000",
        "app@sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        "localhost:99999/app",
        "localhost:/app",
        "localhost:abc/app",
        "[::1/app",
        "[zz]:5000/app",
        "-bad.host/app",
        "bad_host.io/app",
        "app:tag:tag",
        "app with space",
        "ghcr.io/app\n",
        "_tag/x:_t",
    ];
    for input in bad {
        assert!(
            input.parse::<Reference>().is_err(),
            "{input:?} should be rejected"
        );
    }
    let long_tag = format!("app:{}", "a".repeat(129));
    assert!(long_tag.parse::<Reference>().is_err());
    let ok_tag = format!("app:{}", "a".repeat(128));
    assert!(ok_tag.parse::<Reference>().is_ok());
    let long_repo = format!("ghcr.io/{}", "a".repeat(256));
    assert!(long_repo.parse::<Reference>().is_err());
}

#[test]
fn error_messages_name_input_and_truncate() {
    let e = "user/App:1".parse::<Reference>().unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("user/App:1") && msg.contains("lowercase"),
        "{msg}"
    );

    let e = "app:-x".parse::<Reference>().unwrap_err();
    assert!(
        matches!(e, ReferenceError::Tag { ref tag, .. } if tag == "-x"),
        "{e}"
    );

    let huge = format!("UPPER/{}", "x".repeat(1000));
    let msg = huge.parse::<Reference>().unwrap_err().to_string();
    assert!(msg.len() < 400, "{msg}");
    assert!(!msg.contains('\n'));

    assert_eq!("".parse::<Reference>().unwrap_err(), ReferenceError::Empty);
}

#[test]
fn with_digest_tag_and_repository() {
    let r: Reference = "ghcr.io/org/app:v1".parse().unwrap();
    let d = r.with_digest(digest());
    assert_eq!(d.tag(), None);
    assert_eq!(d.to_string(), format!("ghcr.io/org/app@sha256:{HEX}"));
    let t = d.with_tag(&digest().signature_tag()).unwrap();
    assert_eq!(t.digest(), None);
    assert_eq!(t.manifest_reference(), format!("sha256-{HEX}.sig"));
    assert!(r.with_tag("bad tag").is_err());

    let target: RepositoryRef = "localhost:5000/sigs".parse().unwrap();
    let moved = t.in_repository(&target);
    assert_eq!(
        moved.to_string(),
        format!("localhost:5000/sigs:sha256-{HEX}.sig")
    );
    assert_eq!(moved.repository_ref(), &target);
}

#[test]
fn repository_refs() {
    let r: RepositoryRef = "debian".parse().unwrap();
    assert_eq!(r.to_string(), "index.docker.io/library/debian");
    let r: RepositoryRef = "localhost:5000/a/b".parse().unwrap();
    assert_eq!((r.registry(), r.repository()), ("localhost:5000", "a/b"));
    assert_eq!(r.repo_name(), "localhost:5000/a/b");
    for bad in ["ghcr.io/a:tag", "ghcr.io/a@sha256:00", "", "ghcr.io/A"] {
        assert!(bad.parse::<RepositoryRef>().is_err(), "{bad}");
    }
    assert!(matches!(
        "ghcr.io/a:tag".parse::<RepositoryRef>(),
        Err(ReferenceError::UnexpectedTagOrDigest { .. })
    ));
    let n = RepositoryRef::new("docker.io", "busybox").unwrap();
    assert_eq!(n.repo_name(), "index.docker.io/library/busybox");
    assert!(RepositoryRef::new("ghcr.io", "a//b").is_err());
}

fn component() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,5}((\\.|_|__|-{1,3})[a-z0-9]{1,5}){0,2}"
}

fn registry() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("(localhost|[a-z0-9]{1,8}(\\.[a-z0-9]{1,8}){1,2})(:[1-9][0-9]{0,3})?")
}

proptest! {
    #[test]
    fn never_panics(s in ".{0,300}") {
        let _ = s.parse::<Reference>();
        let _ = s.parse::<RepositoryRef>();
    }

    #[test]
    fn never_panics_on_reference_like(s in "[a-zA-Z0-9:/@._\\-\\[\\]]{0,80}") {
        if let Ok(r) = s.parse::<Reference>() {
            let again: Reference = r.to_string().parse().unwrap();
            prop_assert_eq!(again, r);
        }
    }

    #[test]
    fn display_round_trips(
        reg in registry(),
        comps in proptest::collection::vec(component(), 1..4),
        tag in proptest::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}"),
        with_digest in any::<bool>(),
    ) {
        let mut comps = comps;
        if reg.is_none() && comps.len() > 1 {
            // A dotted first component would be read as a registry host.
            comps[0] = comps[0].replace('.', "-");
        }
        let mut s = String::new();
        if let Some(reg) = &reg {
            s.push_str(reg);
            s.push('/');
        }
        s.push_str(&comps.join("/"));
        if let Some(tag) = &tag {
            s.push(':');
            s.push_str(tag);
        }
        if with_digest {
            s.push_str("@sha256:");
            s.push_str(HEX);
        }
        let r = s.parse::<Reference>().map_err(|e| TestCaseError::fail(e.to_string()))?;
        if let Some(reg) = reg.as_deref().filter(|r| *r != "docker.io") {
            prop_assert_eq!(r.registry(), reg);
        }
        prop_assert_eq!(r.tag().is_none(), tag.is_none() && with_digest);
        let again: Reference = r.to_string().parse().unwrap();
        prop_assert_eq!(&again, &r);
        let repo: RepositoryRef = r.repo_name().parse().unwrap();
        prop_assert_eq!(&repo, r.repository_ref());
    }
}
