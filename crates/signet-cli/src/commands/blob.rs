//! sign-blob and verify-blob.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, anyhow};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::Digest;
use signet_core::bundle::Bundle;
use signet_core::limits::MAX_BUNDLE_BYTES;
use signet_kms::{KeyRef, files};
use signet_verify::{TrustedKey, Verifier};

use crate::args::{SignBlobArgs, VerifyBlobArgs};
use crate::exit::{self, Failure};
use crate::password::CliPasswords;

fn read_blob(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading standard input")?;
        return Ok(buf);
    }
    std::fs::read(path).with_context(|| path.display().to_string())
}

fn read_limited(path: &Path, limit: usize) -> anyhow::Result<Vec<u8>> {
    let meta = std::fs::metadata(path).with_context(|| path.display().to_string())?;
    if meta.len() > limit as u64 {
        return Err(anyhow!(
            "{}: {} bytes, larger than the limit of {limit}",
            path.display(),
            meta.len()
        ));
    }
    std::fs::read(path).with_context(|| path.display().to_string())
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
    let blob = read_blob(&args.blob)?;
    // Refuse before signing if an output would be overwritten.
    let outputs: Vec<&Path> = [&args.output_signature, &args.bundle]
        .into_iter()
        .flatten()
        .map(|p| p.as_path())
        .collect();
    files::ensure_absent(&outputs)?;
    let keyref: KeyRef = args.key.parse()?;
    let signer = signet_kms::load_signer(&keyref, &CliPasswords::new()).await?;
    if args.tlog_upload {
        eprintln!(
            "note: signet has no transparency-log (Rekor) upload yet; nothing was logged. Pass --tlog-upload=false to silence this."
        );
    }
    let signature = signer
        .sign(&blob)
        .await
        .with_context(|| format!("signing with {}", signer.describe()))?;
    let encoded = B64.encode(&signature);
    if let Some(path) = &args.output_signature {
        files::write_new(path, encoded.as_bytes(), 0o644)?;
        eprintln!("Wrote signature to file {}", path.display());
    }
    if let Some(path) = &args.bundle {
        let bundle = Bundle::for_key_signature(
            Digest::sha256_of(&blob),
            signature,
            signer.public_key().hint(),
        );
        files::write_new(path, bundle.to_json().as_bytes(), 0o644)?;
        eprintln!("Wrote bundle to file {}", path.display());
    }
    println!("{encoded}");
    Ok(())
}

pub async fn verify_blob(args: VerifyBlobArgs) -> Result<(), Failure> {
    let passwords = CliPasswords::new();
    let mut keys = Vec::with_capacity(args.key.len());
    for k in &args.key {
        let keyref: KeyRef = k.parse()?;
        keys.push(TrustedKey::new(
            k.clone(),
            signet_kms::load_public_key(&keyref, &passwords).await?,
        ));
    }
    let verifier = Verifier::new(keys)?;
    let blob = read_blob(&args.blob)?;
    let bundle = match (&args.bundle, &args.signature) {
        (Some(path), _) => {
            let bytes = read_limited(path, MAX_BUNDLE_BYTES)?;
            Bundle::parse(&bytes).with_context(|| path.display().to_string())?
        }
        (None, Some(path)) => {
            let raw = read_limited(path, 64 << 10)?;
            // sign-blob writes base64; accept raw DER too.
            let text = String::from_utf8_lossy(&raw);
            let signature = B64.decode(text.trim()).unwrap_or(raw);
            Bundle::for_key_signature(Digest::sha256_of(&blob), signature, String::new())
        }
        (None, None) => {
            return Err(Failure::other(anyhow!(
                "pass --signature FILE or --bundle FILE"
            )));
        }
    };
    match verifier.verify_blob(&blob, &bundle) {
        Ok(_) => {
            eprintln!("Verified OK");
            Ok(())
        }
        Err(e) => Err(Failure::with_code(exit::OTHER, e)),
    }
}
