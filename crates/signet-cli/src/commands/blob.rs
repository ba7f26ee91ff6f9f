//! sign-blob and verify-blob.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::Artifact;
use signet_core::bundle::Bundle;
use signet_core::limits;
use signet_kms::{KeyRef, files};
use signet_verify::{SignerPolicy, TrustedKey};

use crate::args::{SignBlobArgs, VerifyBlobArgs};
use crate::exit::{self, Failure};
use crate::password::CliPasswords;

/// The blob to sign or verify, opened before any key is loaded so that a
/// missing file is reported before a password prompt.
enum BlobSource {
    Stdin,
    File(PathBuf, std::fs::File),
}

impl BlobSource {
    /// Opens `path` (`-` is standard input).
    fn open(path: &Path) -> anyhow::Result<Self> {
        if path.as_os_str() == "-" {
            return Ok(Self::Stdin);
        }
        let file = std::fs::File::open(path).with_context(|| path.display().to_string())?;
        Ok(Self::File(path.to_owned(), file))
    }

    /// Reads the blob as a stream: its digest is computed on the way, and
    /// its bytes are kept only when `whole` (the key signs whole messages),
    /// up to [`limits::WHOLE_MESSAGE`].
    async fn read(self, whole: bool) -> anyhow::Result<Artifact> {
        let keep = whole.then_some(limits::WHOLE_MESSAGE);
        tokio::task::spawn_blocking(move || match self {
            Self::Stdin => {
                Artifact::read(std::io::stdin().lock(), keep).context("reading standard input")
            }
            Self::File(path, file) => {
                Artifact::read(file, keep).with_context(|| path.display().to_string())
            }
        })
        .await
        .context("reading the blob")?
    }
}

pub async fn sign_blob(args: SignBlobArgs) -> Result<(), Failure> {
    if args.blob.as_os_str() == "-" && std::env::var_os("COSIGN_PASSWORD").is_none() {
        // The password would otherwise be read from the same standard input.
        let keyref: KeyRef = args.key.parse()?;
        if !matches!(keyref, KeyRef::VaultTransit { .. }) {
            return Err(Failure::other(anyhow!(
                "signing standard input needs the key password in COSIGN_PASSWORD"
            )));
        }
    }
    // Refuse before signing if an output would be overwritten.
    let outputs: Vec<&Path> = [&args.output_signature, &args.bundle]
        .into_iter()
        .flatten()
        .map(|p| p.as_path())
        .collect();
    files::ensure_absent(&outputs)?;
    let source = BlobSource::open(&args.blob)?;
    let keyref: KeyRef = args.key.parse()?;
    let signer = signet_kms::load_signer(&keyref, &CliPasswords::new()).await?;
    let blob = source
        .read(signer.public_key().signs_whole_message())
        .await?;
    if args.tlog_upload {
        eprintln!(
            "note: signet has no transparency-log (Rekor) upload yet; nothing was logged. Pass --tlog-upload=false to silence this."
        );
    }
    let signature = signer
        .sign_artifact(&blob)
        .await
        .with_context(|| format!("signing with {}", signer.describe()))?;
    let encoded = B64.encode(&signature);
    if let Some(path) = &args.output_signature {
        files::write_new(path, encoded.as_bytes(), 0o644)?;
        eprintln!("Wrote signature to file {}", path.display());
    }
    if let Some(path) = &args.bundle {
        let bundle =
            Bundle::for_key_signature(blob.digest().clone(), signature, signer.public_key().hint());
        files::write_new(path, bundle.to_json().as_bytes(), 0o644)?;
        eprintln!("Wrote bundle to file {}", path.display());
    }
    println!("{encoded}");
    Ok(())
}

/// What `verify-blob` checks the blob against.
enum Evidence {
    Bundle(Bundle),
    Signature(Vec<u8>),
}

pub async fn verify_blob(args: VerifyBlobArgs) -> Result<(), Failure> {
    let source = BlobSource::open(&args.blob)?;
    let passwords = CliPasswords::new();
    let mut keys = Vec::with_capacity(args.key.len());
    for k in &args.key {
        let keyref: KeyRef = k.parse()?;
        keys.push(TrustedKey::new(
            k.clone(),
            signet_kms::load_public_key(&keyref, &passwords).await?,
        ));
    }
    let verifier = crate::trust::build_verifier(
        keys,
        &crate::trust::VerifierFlags {
            trusted_root: args.trusted_root.as_deref(),
            insecure_ignore_tlog: args.insecure_ignore_tlog,
        },
    )?;
    // The signature or bundle first: it is small, and a bad one fails before
    // a large blob is read.
    let evidence = match (&args.bundle, &args.signature) {
        (Some(path), _) => {
            let bytes = limits::read_file(path, limits::BUNDLE_FILE)?;
            Evidence::Bundle(Bundle::parse(&bytes).with_context(|| path.display().to_string())?)
        }
        (None, Some(path)) => {
            let raw = limits::read_file(path, limits::SIGNATURE_FILE)?;
            // sign-blob writes base64; accept raw DER too.
            let text = String::from_utf8_lossy(&raw);
            Evidence::Signature(B64.decode(text.trim()).unwrap_or(raw))
        }
        (None, None) => {
            return Err(Failure::other(anyhow!(
                "pass --signature FILE or --bundle FILE"
            )));
        }
    };
    let blob = source.read(verifier.needs_whole_messages()).await?;
    // A detached signature becomes a bundle for this blob's digest.
    let bundle = match evidence {
        Evidence::Bundle(b) => b,
        Evidence::Signature(signature) => {
            Bundle::for_key_signature(blob.digest().clone(), signature, String::new())
        }
    };
    match verifier.verify_blob(&blob, &bundle, &SignerPolicy::TrustedKeys) {
        Ok(_) => {
            eprintln!("Verified OK");
            Ok(())
        }
        Err(e) => Err(Failure::with_code(exit::OTHER, e)),
    }
}
