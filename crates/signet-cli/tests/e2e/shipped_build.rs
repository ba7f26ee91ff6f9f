//! The binary as it is shipped. `scripts/build-release.sh` links it
//! differently from the test profile's binary that the rest of this suite
//! drives (on Linux with glibc: statically, position-dependent), so
//! `scripts/test.sh` builds it and names it in `SIGNET_RELEASE_BIN`, and these
//! tests check that that link starts, is what the docs say it is, resolves a
//! registry's host name, signs and verifies with a key, and verifies a
//! keyless bundle offline.

use std::path::{Path, PathBuf};

use crate::harness::{AIR_GAPPED, Context, Env, PASSWORD, Run, tests, unique_repo};
use crate::sigstore_peers::{Sigstore, cosign_sign_blob};

tests![
    is_linked_as_the_docs_say,
    signs_and_verifies_an_image_by_host_name,
    verifies_a_keyless_bundle_offline,
];

/// The shipped binary beside the services and the mock Sigstore.
pub struct Shipped {
    binary: PathBuf,
    env: &'static Env,
    sigstore: &'static Sigstore,
}

impl Context for Shipped {
    fn get() -> Result<&'static Self, String> {
        static SHIPPED: std::sync::OnceLock<Result<Shipped, String>> = std::sync::OnceLock::new();
        SHIPPED
            .get_or_init(|| {
                let binary = std::env::var_os("SIGNET_RELEASE_BIN")
                    .map(PathBuf::from)
                    .ok_or(
                        "SIGNET_RELEASE_BIN is not set: scripts/test.sh builds the shipped binary \
                     with scripts/build-release.sh",
                    )?;
                if !binary.is_file() {
                    return Err(format!("{} does not exist", binary.display()));
                }
                Ok(Shipped {
                    binary,
                    env: Env::get()?,
                    sigstore: Sigstore::get()?,
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl Shipped {
    fn signet(&self, dir: &Path, args: &[&str]) -> Run {
        let password = [("COSIGN_PASSWORD", PASSWORD)];
        self.env
            .binary_with(&self.binary, dir, args, &password, None)
    }
}

const ET_EXEC: u16 = 2;
const PT_INTERP: u32 = 3;

/// On Linux with glibc the shipped binary has no program interpreter (no
/// dynamic loader runs before it) and is a fixed-address executable
/// (`ET_EXEC`), not a position-independent one (`ET_DYN`).
fn is_linked_as_the_docs_say(shipped: &Shipped) {
    let run = shipped.signet(Path::new("/"), &["version"]).ok();
    assert!(run.stdout.starts_with("signet "), "{}", run.stdout);
    if !cfg!(all(target_os = "linux", target_env = "gnu")) {
        return;
    }
    let elf = std::fs::read(&shipped.binary).unwrap();
    assert_eq!(&elf[..6], b"\x7fELF\x02\x01", "a little-endian ELF64 file");
    let u16_at = |at: usize| u16::from_le_bytes(elf[at..at + 2].try_into().unwrap());
    let u32_at = |at: usize| u32::from_le_bytes(elf[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(elf[at..at + 8].try_into().unwrap());
    assert_eq!(u16_at(16), ET_EXEC, "e_type: linked position-dependent");
    let (table, entry_size, entries) = (u64_at(32) as usize, u16_at(54) as usize, u16_at(56));
    let segment_types: Vec<u32> = (0..usize::from(entries))
        .map(|i| u32_at(table + i * entry_size))
        .collect();
    assert!(
        !segment_types.contains(&PT_INTERP),
        "linked statically: no PT_INTERP among {segment_types:?}"
    );
}

/// Key-based sign and verify against the registry named `localhost:PORT`:
/// the name goes through the C library's host lookup, which a static glibc
/// serves from its built-in `files` and `dns` sources.
fn signs_and_verifies_an_image_by_host_name(shipped: &Shipped) {
    let env = shipped.env;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (image, digest) = env.push_image(&unique_repo("shipped"));
    let port = env.registry.rsplit_once(':').unwrap().1;
    let by_name = image.replacen(&env.registry, &format!("localhost:{port}"), 1);
    shipped
        .signet(d, &["generate-key-pair", "--output-key-prefix", "release"])
        .ok();
    let http = "--allow-http-registry";
    shipped
        .signet(
            d,
            &[
                "sign",
                "--key",
                "release.key",
                http,
                "--tlog-upload=false",
                &by_name,
            ],
        )
        .ok();
    let verified = shipped
        .signet(
            d,
            &["verify", "--key", "release.pub", http, AIR_GAPPED, &by_name],
        )
        .ok();
    assert!(verified.stdout.contains(&digest), "{}", verified.stdout);
    // cosign agrees, by the address.
    env.cosign(
        d,
        &["verify", "--key", "release.pub", http, AIR_GAPPED, &image],
    )
    .ok();
}

/// A keyless bundle cosign made against the mock Sigstore verifies offline
/// against the mock's trusted root, and a changed artifact does not.
fn verifies_a_keyless_bundle_offline(shipped: &Shipped) {
    let s = shipped.sigstore;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("blob"), b"shipped artefact\n").unwrap();
    std::fs::write(d.join("other"), b"another artefact\n").unwrap();
    let email = "shipped@example.test";
    let token = s.email_token(email);
    cosign_sign_blob(s, d, &token, "blob.sigstore.json");
    let root = s.file("trusted_root.json").display().to_string();
    let issuer = s.issuer.issuer_url().to_owned();
    let verify = |artifact: &str| {
        shipped.signet(
            d,
            &[
                "verify-blob",
                "--bundle",
                "blob.sigstore.json",
                "--trusted-root",
                &root,
                "--certificate-identity",
                email,
                "--certificate-oidc-issuer",
                &issuer,
                "--use-signed-timestamps",
                artifact,
            ],
        )
    };
    assert!(verify("blob").ok().stderr.contains("Verified OK"));
    verify("other").fails_with(1, "artifact digest: the signature covers");
}
