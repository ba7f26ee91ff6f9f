//! sign-blob / verify-blob, with signatures and bundles, both directions with cosign.

use crate::harness::{AIR_GAPPED, Peers, signet_key_pair, tests};

tests![blob_signatures_and_bundles_interoperate_with_cosign];

fn blob_signatures_and_bundles_interoperate_with_cosign(env: &Peers) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(env, d, "s");
    env.cosign(d, &["generate-key-pair", "--output-key-prefix", "c"])
        .ok();
    std::fs::write(d.join("blob"), b"release artefact\n").unwrap();
    std::fs::write(d.join("tampered"), b"release artefact!\n").unwrap();
    // An empty trusted root keeps cosign offline for key-only bundles.
    std::fs::write(
        d.join("trusted_root.json"),
        r#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],"certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]}"#,
    )
    .unwrap();

    let signed = env
        .signet(
            d,
            &[
                "sign-blob",
                "--key",
                "s.key",
                "--tlog-upload=false",
                "--output-signature",
                "s.sig",
                "--bundle",
                "s.bundle",
                "blob",
            ],
        )
        .ok();
    // As cosign: with --output-signature the signature goes to the file only.
    assert_eq!(signed.stdout, "");
    let printed = env
        .signet(
            d,
            &["sign-blob", "--key", "s.key", "--tlog-upload=false", "blob"],
        )
        .ok();
    // ECDSA signatures differ each time; both verify (below, and here).
    std::fs::write(d.join("printed.sig"), printed.stdout.trim()).unwrap();
    env.signet(
        d,
        &[
            "verify-blob",
            AIR_GAPPED,
            "--key",
            "s.pub",
            "--signature",
            "printed.sig",
            "blob",
        ],
    )
    .ok();
    // cosign accepts signet's signature and bundle.
    env.cosign(
        d,
        &[
            "verify-blob",
            "--key",
            "s.pub",
            "--signature",
            "s.sig",
            "--insecure-ignore-tlog=true",
            "blob",
        ],
    )
    .ok();
    env.cosign(
        d,
        &[
            "verify-blob",
            "--key",
            "s.pub",
            "--bundle",
            "s.bundle",
            "--new-bundle-format",
            "--trusted-root",
            "trusted_root.json",
            "--insecure-ignore-tlog=true",
            "blob",
        ],
    )
    .ok();
    // signet accepts its own and cosign's.
    env.signet(
        d,
        &[
            "verify-blob",
            AIR_GAPPED,
            "--key",
            "s.pub",
            "--signature",
            "s.sig",
            "blob",
        ],
    )
    .ok();
    env.signet(
        d,
        &[
            "verify-blob",
            AIR_GAPPED,
            "--key",
            "s.pub",
            "--bundle",
            "s.bundle",
            "blob",
        ],
    )
    .ok();
    env.cosign(
        d,
        &[
            "sign-blob",
            "--key",
            "c.key",
            "--tlog-upload=false",
            "--yes",
            "--output-signature",
            "c.sig",
            "blob",
        ],
    )
    .ok();
    env.cosign(
        d,
        &[
            "sign-blob",
            "--key",
            "c.key",
            "--tlog-upload=false",
            "--yes",
            "--new-bundle-format",
            "--bundle",
            "c.bundle",
            "blob",
        ],
    )
    .ok();
    let ok = env
        .signet(
            d,
            &[
                "verify-blob",
                AIR_GAPPED,
                "--key",
                "c.pub",
                "--signature",
                "c.sig",
                "blob",
            ],
        )
        .ok();
    assert!(ok.stderr.contains("Verified OK"));
    env.signet(
        d,
        &[
            "verify-blob",
            AIR_GAPPED,
            "--key",
            "s.pub",
            "--key",
            "c.pub",
            "--bundle",
            "c.bundle",
            "blob",
        ],
    )
    .ok();
    // Failures name what failed.
    env.signet(
        d,
        &[
            "verify-blob",
            AIR_GAPPED,
            "--key",
            "c.pub",
            "--bundle",
            "c.bundle",
            "tampered",
        ],
    )
    .fails_with(1, "artifact digest: the signature covers");
    env.signet(
        d,
        &[
            "verify-blob",
            AIR_GAPPED,
            "--key",
            "s.pub",
            "--signature",
            "c.sig",
            "blob",
        ],
    )
    .fails_with(1, "invalid signature");
    std::fs::write(d.join("garbage.bundle"), b"{\"mediaType\":").unwrap();
    env.signet(
        d,
        &[
            "verify-blob",
            AIR_GAPPED,
            "--key",
            "s.pub",
            "--bundle",
            "garbage.bundle",
            "blob",
        ],
    )
    .fails_with(1, "malformed Sigstore bundle");
    // Outputs are never overwritten.
    env.signet(
        d,
        &[
            "sign-blob",
            "--key",
            "s.key",
            "--output-signature",
            "s.sig",
            "blob",
        ],
    )
    .fails_with(1, "already exists");
}
