//! Unit tests of the policy file: every error path, defaults, precedence,
//! the hashes.

use std::path::Path;

use signet_core::keys::PrivateKey;
use signet_oci::RepositoryRef;

use crate::*;

struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.pub", "b.pub", "c.pub"] {
            let key = PrivateKey::generate_p256().unwrap();
            std::fs::write(dir.path().join(name), key.public_key().to_pem()).unwrap();
        }
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn parse(&self, yaml: &str) -> Result<Policy, PolicyError> {
        block_on(Policy::from_yaml("p.yaml", yaml, self.path()))
    }

    fn err(&self, yaml: &str) -> String {
        match self.parse(yaml) {
            Ok(_) => panic!("accepted:\n{yaml}"),
            Err(e) => e.to_string(),
        }
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn repo(s: &str) -> RepositoryRef {
    s.parse().unwrap()
}

const ISSUE_EXAMPLE: &str = r#"
policies:
  - images: "registry.example/golemtrust-prod/**"
    mode: enforce
    authorities:
      - keyless: {issuer: "https://token.actions.example", subject-regexp: "^https://git.example/golemtrust/.*"}
  - images: "registry.example/base-images/**"
    mode: enforce
    authorities:
      - key: a.pub
      - key: b.pub
    threshold: 1
    transparency-log: optional   # hand-signed without a log (air-gapped) is accepted; the default is required
default: {mode: enforce, authorities: []}   # nothing matched: refused
"#;

#[test]
fn the_example_of_the_issue_parses_with_its_defaults() {
    let d = Dir::new();
    let p = d.parse(ISSUE_EXAMPLE).unwrap();
    assert_eq!(p.scopes().len(), 2);
    let prod = &p.scopes()[0];
    assert_eq!(prod.name, "policies[0]");
    assert_eq!(prod.threshold, 1);
    assert_eq!(prod.transparency_log, TlogRequirement::Required);
    assert!(!prod.require_recursive);
    match &prod.authorities[0].kind {
        AuthorityKind::Keyless(id) => {
            assert_eq!(id.issuer.as_str(), "https://token.actions.example");
            assert!(id.subject.is_regexp());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(prod.authorities[0].trust_root, PUBLIC_GOOD);
    let base = &p.scopes()[1];
    assert_eq!(base.transparency_log, TlogRequirement::Optional);
    assert_eq!(base.authorities[0].name, "a.pub");
    assert_eq!(p.default_rule().mode, Mode::Enforce);
    assert!(p.default_rule().authorities.is_empty());
}

#[test]
fn unknown_keys_are_refused_with_their_path_and_line() {
    let d = Dir::new();
    let e = d.err("policies:\n  - images: a.example/**\n    authorities:\n      - key: a.pub\n        kee: b.pub\n");
    assert!(
        e.starts_with("p.yaml:5:9: policies[0].authorities[0].kee: unknown field `kee`"),
        "{e}"
    );
    let e = d.err("policies:\n  - images: a.example/**\n    treshold: 2\n");
    assert!(e.starts_with("p.yaml:3:5: policies[0]"), "{e}");
    assert!(e.contains("treshold"), "{e}");
    let e = d.err("polices: []\n");
    assert!(e.starts_with("p.yaml:1:1: polices: unknown field"), "{e}");
    let e = d.err("default: {mode: warn, imagez: x}\n");
    assert!(e.contains("imagez"), "{e}");
    let e = d.err(
        "policies:\n  - images: a.example/**\n    authorities:\n      - keyless: {issuer: i, subject: s, claims: {github-workflow-reff: x}}\n",
    );
    assert!(e.contains("github-workflow-reff"), "{e}");
}

#[test]
fn values_of_the_wrong_kind_are_refused() {
    let d = Dir::new();
    for (yaml, want) in [
        (
            "policies:\n  - images: a.example/**\n    mode: enforc\n",
            "p.yaml:3:11: policies[0].mode: unknown variant `enforc`",
        ),
        (
            "policies:\n  - images: a.example/**\n    threshold: -1\n",
            "p.yaml:3:16",
        ),
        (
            "policies:\n  - images: a.example/**\n    transparency-log: maybe\n",
            "unknown variant `maybe`",
        ),
        (
            "policies:\n  - images: a.example/**\n    require-recursive: perhaps\n",
            "p.yaml:3:24",
        ),
        (
            "policies:\n  - images: a.example/**\n    images: b.example/**\n",
            "duplicate mapping key",
        ),
        ("policies: {}\n", "p.yaml:1:11"),
        ("policies: [\n", "unclosed bracket"),
        ("- a\n- b\n", "p.yaml:1:1"),
        ("version: 2\n", "version 2 is not known"),
        ("a: &x [1]\n---\nb: 2\n", "p.yaml"),
    ] {
        let e = d.err(yaml);
        assert!(e.contains(want), "{yaml:?}: {e}");
    }
}

#[test]
fn impossible_policies_are_refused() {
    let d = Dir::new();
    for (yaml, want) in [
        (
            "policies:\n  - images: []\n",
            "policies[0].images: no image globs",
        ),
        (
            "policies:\n  - images: 'a.example/app:v1'\n",
            "policies[0].images[0]: image glob \"a.example/app:v1\" names a tag",
        ),
        (
            "policies:\n  - images: 'a.example/***'\n",
            "more than two `*`",
        ),
        ("policies:\n  - images: 'a.example/a?'\n", "cannot occur"),
        (
            "policies:\n  - images: a.example/**\n  - images: a.example/**\n",
            "policies[1].images[0]: glob \"a.example/**\" is already in scope \"policies[0]\"",
        ),
        (
            "policies:\n  - images: a.example/**\n    authorities: [{key: a.pub}]\n    threshold: 2\n",
            "policies[0].threshold: threshold 2 is more than the 1 authorities",
        ),
        (
            "policies:\n  - images: a.example/**\n    authorities: [{key: a.pub}]\n    threshold: 0\n",
            "threshold 0 would accept unsigned images",
        ),
        (
            "policies:\n  - images: a.example/**\n    threshold: 1\n",
            "a threshold without authorities",
        ),
        (
            "policies:\n  - images: a.example/**\n    authorities: [{key: a.pub}, {key: a.pub, name: again}]\n",
            "is the key of authority \"a.pub\"",
        ),
        (
            "policies:\n  - images: a.example/**\n    authorities: [{key: a.pub, name: x}, {key: b.pub, name: x}]\n",
            "authority name \"x\" is used twice",
        ),
        (
            "policies:\n  - images: a.example/**\n    authorities: [{}]\n",
            "policies[0].authorities[0]: an authority needs key: or keyless:",
        ),
        (
            "policies:\n  - images: a.example/**\n    authorities: [{key: a.pub, keyless: {issuer: i, subject: s}}]\n",
            "either key: or keyless:",
        ),
        (
            "policies:\n  - images: a.example/**\n    authorities: [{keyless: {issuer: i}}]\n",
            "subject or subject-regexp is required",
        ),
        (
            "policies:\n  - images: a.example/**\n    authorities: [{keyless: {subject: s}}]\n",
            "issuer or issuer-regexp is required",
        ),
        (
            "policies:\n  - images: a.example/**\n    authorities: [{keyless: {issuer: i, subject: s, subject-regexp: t}}]\n",
            "subject and subject-regexp are exclusive",
        ),
        (
            "policies:\n  - images: a.example/**\n    authorities: [{keyless: {issuer: i, subject-regexp: '(['}}]\n",
            "policies[0].authorities[0].keyless.subject-regexp: invalid regular expression",
        ),
        (
            "policies:\n  - images: a.example/**\n    authorities: [{keyless: {issuer: '', subject: s}}]\n",
            "keyless.issuer: empty",
        ),
        (
            "policies:\n  - images: a.example/**\n    authorities: [{key: missing.pub}]\n",
            "policies[0].authorities[0].key: cannot load key missing.pub",
        ),
        (
            "policies:\n  - images: a.example/**\n    authorities: [{key: 'env://SIGNET_POLICY_TEST_UNSET_VARIABLE'}]\n",
            "cannot load key env://SIGNET_POLICY_TEST_UNSET_VARIABLE",
        ),
        (
            "policies:\n  - images: a.example/**\n    authorities: [{key: 'env://bad name'}]\n",
            "cannot load key",
        ),
        (
            "policies:\n  - images: a.example/**\n    trust-root: nowhere\n",
            "policies[0].trust-root: trust root \"nowhere\" is not defined (known: public-good)",
        ),
        (
            "policies:\n  - images: a.example/**\n    authorities: [{key: a.pub, trust-root: nowhere}]\n",
            "authorities[0].trust-root",
        ),
        ("trust-roots: {public-good: x.json}\n", "reserved"),
        ("trust-roots: {corp: missing.json}\n", "trust-roots.corp"),
        (
            "policies:\n  - images: a.example/**\n    name: x\n  - images: b.example/**\n    name: x\n",
            "scope name \"x\" is used twice",
        ),
        (
            "policies:\n  - images: a.example/**\n    name: ' '\n",
            "empty name",
        ),
        (
            "policies:\n  - images: a.example/**\n    annotations: {'': x}\n",
            "empty annotation key",
        ),
    ] {
        let e = d.err(yaml);
        assert!(e.starts_with("p.yaml: ") || e.starts_with("p.yaml:"), "{e}");
        assert!(e.contains(want), "{yaml:?}:\n  got:  {e}\n  want: {want}");
    }
}

#[test]
fn private_keys_are_refused() {
    let d = Dir::new();
    let key = PrivateKey::generate_p256().unwrap();
    let pem = signet_core::keys::encrypt_private_key(&key, b"pw", Default::default()).unwrap();
    std::fs::write(d.path().join("k.key"), pem).unwrap();
    let e = d.err("policies:\n  - images: a.example/**\n    authorities: [{key: k.key}]\n");
    assert!(e.contains("a policy names public keys"), "{e}");
}

#[test]
fn limits_are_enforced() {
    let d = Dir::new();
    let big = format!("# {}\n", "x".repeat(MAX_POLICY_FILE_BYTES));
    assert!(d.err(&big).contains("larger than the limit"));
    let many: String = (0..=MAX_SCOPES)
        .map(|i| format!("  - images: r{i}.example/**\n"))
        .collect();
    assert!(
        d.err(&format!("policies:\n{many}"))
            .contains("more than the limit of 1000")
    );
    let auth: String = (0..=MAX_AUTHORITIES_PER_SCOPE)
        .map(|i| format!("{{keyless: {{issuer: i, subject: s{i}}}}}, "))
        .collect();
    let e = d.err(&format!(
        "policies:\n  - images: a.example/**\n    authorities: [{auth}]\n"
    ));
    assert!(e.contains("more than the limit of 64"), "{e}");
    // Aliases cannot multiply the document.
    let bomb = "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
    assert!(d.parse(bomb).is_err());
}

#[test]
fn the_most_specific_glob_wins_whatever_the_order() {
    let d = Dir::new();
    let p = d
        .parse(
            "policies:\n  - {name: all, images: 'reg.example/**', mode: warn}\n  - {name: team, images: 'reg.example/team/*'}\n  - {name: app, images: ['reg.example/team/app', 'other.example/x']}\n  - {name: hub, images: 'docker.io/library/*'}\ndefault: {mode: warn}\n",
        )
        .unwrap();
    let name = |r: &str| p.scope_for(&repo(r)).name.clone();
    assert_eq!(name("reg.example/team/app"), "app");
    assert_eq!(name("reg.example/team/web"), "team");
    assert_eq!(name("reg.example/team/web/sub"), "all");
    assert_eq!(name("reg.example/x"), "all");
    assert_eq!(name("other.example/x"), "app");
    assert_eq!(name("nginx"), "hub");
    assert_eq!(name("elsewhere.example/x"), "default");
    assert!(p.covers(&repo("reg.example/x")));
    assert!(!p.covers(&repo("elsewhere.example/x")));
}

#[test]
fn equally_specific_globs_go_by_file_order() {
    let d = Dir::new();
    let p = d
        .parse("policies:\n  - {name: first, images: 'reg.example/*/app'}\n  - {name: second, images: 'reg.example/team/*'}\n")
        .unwrap();
    // `reg.example/team/*` has the longer literal prefix.
    assert_eq!(p.scope_for(&repo("reg.example/team/app")).name, "second");
    let p = d
        .parse("policies:\n  - {name: first, images: 'reg.example/a*/x'}\n  - {name: second, images: 'reg.example/a*/*'}\n")
        .unwrap();
    assert_eq!(p.scope_for(&repo("reg.example/ab/x")).name, "first");
}

#[test]
fn the_hash_follows_meaning_and_key_material() {
    let d = Dir::new();
    let a = d.parse(ISSUE_EXAMPLE).unwrap();
    // Comments, quoting and flow style do not change the hash.
    let reformatted = ISSUE_EXAMPLE
        .replace(
            "# hand-signed without a log (air-gapped) is accepted; the default is required",
            "",
        )
        .replace(
            "\"registry.example/base-images/**\"",
            "'registry.example/base-images/**'",
        );
    let b = d.parse(&reformatted).unwrap();
    assert_eq!(a.hash(), b.hash());
    // A different threshold, mode or key does.
    let c = d
        .parse(&ISSUE_EXAMPLE.replace("threshold: 1", "threshold: 2"))
        .unwrap();
    assert_ne!(a.hash(), c.hash());
    let e = d
        .parse(&ISSUE_EXAMPLE.replace(
            "mode: enforce\n    authorities:\n      - key",
            "mode: warn\n    authorities:\n      - key",
        ))
        .unwrap();
    assert_ne!(a.hash(), e.hash());
    let key = PrivateKey::generate_p256().unwrap();
    std::fs::write(d.path().join("a.pub"), key.public_key().to_pem()).unwrap();
    let rotated = d.parse(ISSUE_EXAMPLE).unwrap();
    assert_ne!(a.hash(), rotated.hash(), "same reference, new key");
    assert_eq!(a.trust_root_version(), rotated.trust_root_version());
    assert!(a.hash().to_string().starts_with("sha256:"));
}

mod export_tests {
    use super::*;
    use crate::export::{ExportError, ExportOptions, Format, NoteKind, export};

    fn exported(d: &Dir, yaml: &str, narrower: bool) -> Result<crate::export::Export, ExportError> {
        let p = d.parse(yaml).unwrap();
        export(
            &p,
            Format::ContainersPolicy,
            ExportOptions {
                allow_narrower: narrower,
            },
        )
    }

    #[test]
    fn exact_translations_export_without_flags() {
        let d = Dir::new();
        let e = exported(
            &d,
            "policies:\n  - images: [reg.example/ns, 'reg.example/ns/**']\n    authorities: [{key: a.pub}, {key: b.pub}]\n    transparency-log: optional\n  - images: [reg.example/ns/locked, 'reg.example/ns/locked/**']\n",
            false,
        )
        .unwrap();
        let doc: serde_json::Value = serde_json::from_str(&e.document).unwrap();
        let ns = &doc["transports"]["docker"]["reg.example/ns"];
        assert_eq!(ns[0]["keyPaths"].as_array().unwrap().len(), 2, "{doc}");
        assert_eq!(
            doc["transports"]["docker"]["reg.example/ns/locked"][0]["type"],
            "reject"
        );
        assert_eq!(doc["default"][0]["type"], "reject");
        assert!(e.notes.iter().all(|n| n.kind == NoteKind::Differs));
    }

    #[test]
    fn what_would_widen_is_refused_even_with_the_flag() {
        let d = Dir::new();
        // `reg.example/ns/**` alone: policy.json's `reg.example/ns` would
        // also admit a signed repository `reg.example/ns`, which the policy
        // refuses (default).
        let yaml = "policies:\n  - images: 'reg.example/ns/**'\n    authorities: [{key: a.pub}]\n    transparency-log: optional\n";
        for narrower in [false, true] {
            match exported(&d, yaml, narrower) {
                Err(ExportError::NotExpressible { notes, .. }) => {
                    assert!(notes.iter().any(|n| n.kind == NoteKind::Wider), "{notes:?}");
                }
                other => panic!("{:?}", other.map(|e| e.document)),
            }
        }
    }

    #[test]
    fn narrower_approximations_need_the_flag() {
        let d = Dir::new();
        for (yaml, says) in [
            (
                "policies:\n  - images: [r.example/n, 'r.example/n/**']\n    authorities: [{key: a.pub}, {key: b.pub}, {key: c.pub}]\n    threshold: 2\n    transparency-log: optional\n",
                "2 of 3 authorities become all of 3",
            ),
            (
                "policies:\n  - images: [r.example/n, 'r.example/n/**']\n    mode: warn\n    authorities: [{key: a.pub}]\n    transparency-log: optional\n",
                "no warn mode",
            ),
            (
                "policies:\n  - images: [r.example/n, 'r.example/n/**']\n    authorities: [{key: a.pub}]\n    transparency-log: optional\n    annotations: {a: b}\n",
                "annotations",
            ),
            (
                "policies:\n  - images: 'r.example/*/app'\n    authorities: [{key: a.pub}]\n    transparency-log: optional\n",
                "no scope covers exactly",
            ),
            (
                "policies:\n  - images: [r.example/n, 'r.example/n/**']\n    authorities: [{keyless: {issuer: 'https://i.example', subject-regexp: '.*'}}]\n",
                "exact issuer and e-mail subject only",
            ),
        ] {
            let Err(ExportError::NotExpressible { notes, .. }) = exported(&d, yaml, false) else {
                panic!("accepted without the flag: {yaml}");
            };
            assert!(
                notes.iter().all(|n| n.kind == NoteKind::Narrower),
                "{notes:?}"
            );
            assert!(
                notes.iter().any(|n| n.message.contains(says)),
                "{says}: {notes:?}"
            );
            let e = exported(&d, yaml, true).unwrap();
            assert!(e.notes.iter().any(|n| n.message.contains(says)));
        }
    }

    #[test]
    fn cluster_image_policies_or_within_and_across() {
        let d = Dir::new();
        let p = d
            .parse("policies:\n  - name: Base Images\n    images: 'r.example/base/**'\n    authorities: [{key: a.pub}, {keyless: {issuer: 'https://i.example', subject-regexp: '^https://ci/'}}]\n    mode: warn\n")
            .unwrap();
        let e = export(&p, Format::ClusterImagePolicy, ExportOptions::default()).unwrap();
        assert!(
            e.document.contains("name: signet-base-images"),
            "{}",
            e.document
        );
        assert!(
            e.document.contains("subjectRegExp: ^https://ci/"),
            "{}",
            e.document
        );
        assert!(e.document.contains("mode: warn"), "{}", e.document);
        let p = d
            .parse("policies:\n  - images: 'r.example/base/**'\n    authorities: [{key: a.pub}, {key: b.pub}]\n    threshold: 2\n")
            .unwrap();
        let e = export(&p, Format::ClusterImagePolicy, ExportOptions::default()).unwrap();
        assert_eq!(
            e.document.matches("kind: ClusterImagePolicy").count(),
            2,
            "{}",
            e.document
        );
    }
}

mod property {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_parses_or_fails_cleanly(text in "\\PC{0,400}") {
            let _ = crate::file::parse_yaml("p.yaml", &text);
        }

        #[test]
        fn policy_shaped_text_parses_or_fails_cleanly(
            keys in proptest::collection::vec("(images|mode|threshold|authorities|key|keyless|issuer|subject|default|policies|[a-z-]{1,12})", 1..8),
            values in proptest::collection::vec("(enforce|warn|-?[0-9]{1,3}|\\[\\]|\\{\\}|[a-z./*]{0,20}|'.{0,10}')", 1..8),
            indent in proptest::collection::vec(0usize..6, 1..8),
        ) {
            let mut text = String::new();
            for ((k, v), i) in keys.iter().zip(values.iter().cycle()).zip(indent.iter().cycle()) {
                text.push_str(&" ".repeat(*i));
                text.push_str(&format!("{k}: {v}\n"));
            }
            if let Err(e) = crate::file::parse_yaml("p.yaml", &text) {
                let message = e.to_string();
                prop_assert!(message.starts_with("p.yaml"), "{}", message);
                prop_assert!(!message.contains('\n'), "{}", message);
            }
        }
    }
}
