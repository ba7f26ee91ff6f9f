//! Local input read through a capped reader: FIFOs, `/dev/stdin`, process
//! substitution and `/proc` files (all of which report size 0), blobs larger
//! than memory should hold, and keys that are refused. These need no
//! services (`&Local`), so they always run.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::harness::{AIR_GAPPED, Local, PASSWORD, Run, tests};

tests![
    keys_bundles_and_signatures_from_fifos_stdin_and_process_substitution,
    proc_files_of_size_zero_are_capped,
    large_blobs_stream_and_whole_message_keys_say_why_not,
    rsa_verification_keys_below_2048_bits_are_refused
];

/// `signet ARGS` in `dir` with a clean HOME and COSIGN_PASSWORD; `stdin`
/// is fed from a thread that ignores the reader going away early.
fn signet(dir: &Path, args: &[&str], envs: &[(&str, &str)], stdin: Option<Vec<u8>>) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_signet"));
    c.args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("COSIGN_PASSWORD", PASSWORD)
        .env_remove("VAULT_ADDR")
        .env_remove("VAULT_TOKEN");
    for (k, v) in envs {
        c.env(k, v);
    }
    c.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn signet");
    let feeder = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        })
    });
    let out = child.wait_with_output().unwrap();
    if let Some(f) = feeder {
        f.join().unwrap();
    }
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn key_pair(dir: &Path, prefix: &str) {
    signet(
        dir,
        &["generate-key-pair", "--output-key-prefix", prefix],
        &[],
        None,
    )
    .ok();
}

/// Makes a FIFO at `path` and writes `bytes` into it from a thread.
fn fifo_with(path: &Path, bytes: Vec<u8>) -> std::thread::JoinHandle<()> {
    let made = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(made.success());
    let path = path.to_owned();
    std::thread::spawn(move || {
        if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&path) {
            let _ = f.write_all(&bytes);
        }
    })
}

fn keys_bundles_and_signatures_from_fifos_stdin_and_process_substitution(_local: &Local) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    key_pair(d, "k");
    std::fs::write(d.join("blob"), b"release artefact\n").unwrap();
    let key = std::fs::read(d.join("k.key")).unwrap();

    // A key file that is a FIFO.
    let writer = fifo_with(&d.join("key.fifo"), key.clone());
    signet(
        d,
        &[
            "sign-blob",
            "--key",
            "key.fifo",
            "--tlog-upload=false",
            "--output-signature",
            "s.sig",
            "--bundle",
            "s.bundle",
            "blob",
        ],
        &[],
        None,
    )
    .ok();
    writer.join().unwrap();
    // A key through /dev/stdin.
    signet(
        d,
        &["public-key", "--key", "/dev/stdin"],
        &[],
        Some(key.clone()),
    )
    .ok();
    // Process substitution (a pipe under /dev/fd), as a shell passes it.
    let bash = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{} verify-blob --insecure-ignore-tlog --key <(cat k.pub) --signature <(cat s.sig) blob && {} verify-blob --insecure-ignore-tlog --key <(cat k.pub) --bundle <(cat s.bundle) blob",
            env!("CARGO_BIN_EXE_signet"),
            env!("CARGO_BIN_EXE_signet")
        ))
        .current_dir(d)
        .env("HOME", d)
        .output()
        .unwrap();
    assert!(
        bash.status.success(),
        "{}",
        String::from_utf8_lossy(&bash.stderr)
    );

    // An oversized bundle through /dev/stdin is refused at the cap, however
    // much more the writer has.
    let run = signet(
        d,
        &[
            "verify-blob",
            AIR_GAPPED,
            "--key",
            "k.pub",
            "--bundle",
            "/dev/stdin",
            "blob",
        ],
        &[],
        Some(vec![b' '; 40 << 20]),
    )
    .fails_with(
        1,
        "/dev/stdin: larger than 16777216 bytes, the limit for a bundle",
    );
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    // The same for a detached signature and a key file, from FIFOs.
    let writer = fifo_with(&d.join("sig.fifo"), vec![b'A'; 1 << 20]);
    signet(
        d,
        &[
            "verify-blob",
            AIR_GAPPED,
            "--key",
            "k.pub",
            "--signature",
            "sig.fifo",
            "blob",
        ],
        &[],
        None,
    )
    .fails_with(1, "larger than 65536 bytes, the limit for a signature file");
    writer.join().unwrap();
    let writer = fifo_with(&d.join("big-key.fifo"), vec![b'k'; 10 << 20]);
    signet(
        d,
        &[
            "sign-blob",
            "--key",
            "big-key.fifo",
            "--tlog-upload=false",
            "blob",
        ],
        &[],
        None,
    )
    .fails_with(
        1,
        "big-key.fifo: larger than 65536 bytes, the limit for a key file",
    );
    writer.join().unwrap();
}

/// `/proc/self/environ` reports size 0 but holds the process environment:
/// a size check would pass it, the capped reader does not.
fn proc_files_of_size_zero_are_capped(_local: &Local) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("blob"), b"x").unwrap();
    let big = "e".repeat(100_000);
    signet(
        d,
        &[
            "sign-blob",
            "--key",
            "/proc/self/environ",
            "--tlog-upload=false",
            "blob",
        ],
        &[("SIGNET_TEST_PADDING", &big)],
        None,
    )
    .fails_with(
        1,
        "/proc/self/environ: larger than 65536 bytes, the limit for a key file",
    );
    // Small enough, it is read and judged as a key (it is not one).
    signet(
        d,
        &[
            "sign-blob",
            "--key",
            "/proc/self/environ",
            "--tlog-upload=false",
            "blob",
        ],
        &[],
        None,
    )
    .fails_with(1, "not a cosign private key");
}

/// Runs signet under python3 to learn its peak resident memory (KiB),
/// streaming `size` bytes of zeros into its standard input.
fn peak_rss_streaming(dir: &Path, args: &[&str], size: u64) -> (Run, u64) {
    let script = r#"
import json, os, resource, subprocess, sys
args, size = json.loads(sys.argv[1]), int(sys.argv[2])
p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
chunk = bytes(1 << 20)
try:
    for _ in range(size >> 20):
        p.stdin.write(chunk)
    p.stdin.close()
except BrokenPipeError:
    pass
p.stdin = None
out, err = p.communicate()
print(json.dumps({"code": p.returncode, "stdout": out.decode(), "stderr": err.decode(),
                  "maxrss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"#;
    let mut argv = vec![env!("CARGO_BIN_EXE_signet").to_owned()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(serde_json::to_string(&argv).unwrap())
        .arg(size.to_string())
        .current_dir(dir)
        .env("HOME", dir)
        .env("COSIGN_PASSWORD", PASSWORD)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        Run {
            code: v["code"].as_i64().unwrap() as i32,
            stdout: v["stdout"].as_str().unwrap().to_owned(),
            stderr: v["stderr"].as_str().unwrap().to_owned(),
        },
        v["maxrss"].as_u64().unwrap(),
    )
}

/// ECDSA signs a digest, so a blob larger than the whole-message limit is
/// signed and verified as it streams, in bounded memory. Ed25519 signs the
/// message itself: past the limit it gets an error naming the limit.
fn large_blobs_stream_and_whole_message_keys_say_why_not(_local: &Local) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    key_pair(d, "k");
    let size: u64 = 160 << 20; // above the 128 MiB whole-message limit
    let sign = |out: &str, size| {
        peak_rss_streaming(
            d,
            &[
                "sign-blob",
                "--key",
                "k.key",
                "--tlog-upload=false",
                "--output-signature",
                out,
                "-",
            ],
            size,
        )
    };
    // Decrypting the key (scrypt) takes 64 MiB whatever the blob; the blob
    // itself must add next to nothing.
    let (_, baseline) = sign("baseline.sig", 1 << 20);
    let (signed, rss) = sign("big.sig", size);
    let signed = signed.ok();
    eprintln!("sign-blob peak RSS: {baseline} KiB for 1 MiB, {rss} KiB for 160 MiB");
    assert!(
        rss < baseline + (16 << 10),
        "sign-blob peaked at {rss} KiB for 160 MiB, {baseline} KiB for 1 MiB"
    );
    let (verified, rss) = peak_rss_streaming(
        d,
        &[
            "verify-blob",
            AIR_GAPPED,
            "--key",
            "k.pub",
            "--signature",
            "big.sig",
            "-",
        ],
        size,
    );
    verified.ok();
    eprintln!("verify-blob peak RSS: {rss} KiB for 160 MiB");
    assert!(
        rss < 32 << 10,
        "verify-blob peaked at {rss} KiB for 160 MiB"
    );
    // The signature is the one for the blob's content: a different stream fails.
    let (other, _) = peak_rss_streaming(
        d,
        &[
            "verify-blob",
            AIR_GAPPED,
            "--key",
            "k.pub",
            "--signature",
            "big.sig",
            "-",
        ],
        size - (1 << 20),
    );
    other.fails_with(1, "does not match");
    // As cosign: with --output-signature the signature goes to the file only.
    assert!(signed.stdout.is_empty());
    assert!(
        !std::fs::read_to_string(d.join("big.sig"))
            .unwrap()
            .trim()
            .is_empty()
    );

    // Ed25519, imported from the test vectors.
    let ed =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/import/ed25519-pkcs8.pem");
    signet(
        d,
        &[
            "import-key-pair",
            "--key",
            ed.to_str().unwrap(),
            "--output-key-prefix",
            "ed",
        ],
        &[],
        None,
    )
    .ok();
    let (too_big, _) = peak_rss_streaming(
        d,
        &["sign-blob", "--key", "ed.key", "--tlog-upload=false", "-"],
        size,
    );
    too_big.fails_with(
        1,
        "Ed25519 keys sign the whole message, and this one (167772160 bytes) is larger than 134217728 bytes",
    );
    // Within the limit, Ed25519 blobs sign and verify as before.
    std::fs::write(d.join("small"), b"small blob").unwrap();
    signet(
        d,
        &[
            "sign-blob",
            "--key",
            "ed.key",
            "--tlog-upload=false",
            "--output-signature",
            "small.sig",
            "small",
        ],
        &[],
        None,
    )
    .ok();
    signet(
        d,
        &[
            "verify-blob",
            AIR_GAPPED,
            "--key",
            "ed.pub",
            "--signature",
            "small.sig",
            "small",
        ],
        &[],
        None,
    )
    .ok();
}

fn rsa_verification_keys_below_2048_bits_are_refused(_local: &Local) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("blob"), b"x").unwrap();
    std::fs::write(d.join("blob.sig"), b"AAAA").unwrap();
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/import");
    for file in ["rsa-1024.pub", "rsa-1024-pkcs1.pub"] {
        let key = vectors.join(file);
        signet(
            d,
            &[
                "verify-blob",
                AIR_GAPPED,
                "--key",
                key.to_str().unwrap(),
                "--signature",
                "blob.sig",
                "blob",
            ],
            &[],
            None,
        )
        .fails_with(1, "RSA public key of 1024 bits; at least 2048 are required");
        signet(
            d,
            &[
                "verify",
                AIR_GAPPED,
                "--key",
                key.to_str().unwrap(),
                "127.0.0.1:9/none:v1",
            ],
            &[],
            None,
        )
        .fails_with(1, "RSA public key of 1024 bits; at least 2048 are required");
    }
}
