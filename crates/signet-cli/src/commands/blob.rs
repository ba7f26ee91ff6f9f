//! sign-blob and verify-blob.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, anyhow};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::Digest;
use signet_core::bundle::{Bundle, VerificationMaterial};
use signet_core::certificate::{KeyCertificate, MAX_CERTIFICATE_BYTES};
use signet_core::legacy_blob_bundle::LegacyBlobBundle;
use signet_core::limits::MAX_BUNDLE_BYTES;
use signet_kms::{KeyRef, files};
use signet_verify::{TrustedKey, Verifier};

use crate::args::{SignBlobArgs, VerifyBlobArgs};
use crate::exit::{self, Failure};
use crate::input::read_capped;
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
    let Some(key) = &args.key else {
        return Err(crate::unsupported::keyless("signing without --key"));
    };
    if args.blob.as_os_str() == "-" && std::env::var_os("COSIGN_PASSWORD").is_none() {
        // The password would otherwise be read from the same standard input.
        let keyref: KeyRef = key.parse()?;
        if !matches!(keyref, KeyRef::VaultTransit { .. }) {
            return Err(Failure::other(anyhow!(
                "signing standard input needs the key password in COSIGN_PASSWORD"
            )));
        }
    }
    let output_signature = match (&args.output_signature, &args.output) {
        (Some(_), Some(_)) => {
            return Err(Failure::other(anyhow!(
                "--output is the older name of --output-signature; give one of them"
            )));
        }
        (a, b) => a.as_ref().or(b.as_ref()),
    };
    let blob = read_blob(&args.blob)?;
    tracing::debug!(bytes = blob.len(), digest = %Digest::sha256_of(&blob), "blob read");
    // Refuse before signing if an output would be overwritten.
    let outputs: Vec<&Path> = [
        output_signature,
        args.bundle.as_ref(),
        args.output_certificate.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|p| p.as_path())
    .collect();
    files::ensure_absent(&outputs)?;
    let keyref: KeyRef = key.parse()?;
    let signer = signet_kms::load_signer(&keyref, &CliPasswords::new()).await?;
    let public = signer.public_key();
    if let Some(algorithm) = &args.signing_algorithm {
        check_signing_algorithm(algorithm, public)?;
    }
    let certificate = load_certificate(&args, public)?;
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
    let shown: &[u8] = if args.b64 {
        encoded.as_bytes()
    } else {
        &signature
    };
    if let Some(path) = &args.bundle {
        let contents = if args.new_bundle_format {
            let mut bundle = Bundle::for_key_signature(
                Digest::sha256_of(&blob),
                signature.clone(),
                public.hint(),
            );
            if let Some(c) = &certificate {
                bundle.verification_material = VerificationMaterial::CertificateDer {
                    chain: vec![c.leaf_der().to_vec()],
                };
            }
            bundle.to_json()
        } else {
            LegacyBlobBundle {
                signature: signature.clone(),
                certificate_pem: certificate.as_ref().map(KeyCertificate::leaf_pem),
                rekor_bundle: None,
            }
            .to_json()
        };
        files::write_new(path, contents.as_bytes(), 0o644)?;
        eprintln!("Wrote bundle to file {}", path.display());
    }
    // As cosign: the signature goes to the file if one is named, else to standard output.
    match output_signature {
        Some(path) => {
            files::write_new(path, shown, 0o644)?;
            eprintln!("Wrote signature to file {}", path.display());
        }
        None if args.b64 => crate::output::print(&format!("{encoded}\n"))?,
        None => crate::output::print_bytes(&signature)?,
    }
    if let Some(path) = &args.output_certificate {
        // cosign writes a certificate here only if there is one (base64 unless --b64=false).
        match &certificate {
            Some(c) => {
                let pem = c.leaf_pem();
                let contents = if args.b64 {
                    B64.encode(pem.as_bytes())
                } else {
                    pem
                };
                files::write_new(path, contents.as_bytes(), 0o644)?;
                eprintln!("Wrote certificate to file {}", path.display());
            }
            None => eprintln!(
                "note: no certificate to write to {} (signed with a key; pass --certificate)",
                path.display()
            ),
        }
    }
    Ok(())
}

/// `--certificate` (checked against the signing key) and `--certificate-chain`.
fn load_certificate(
    args: &SignBlobArgs,
    key: &signet_core::keys::PublicKey,
) -> anyhow::Result<Option<KeyCertificate>> {
    let Some(path) = &args.certificate else {
        if args.certificate_chain.is_some() {
            return Err(anyhow!(
                "--certificate-chain needs the --certificate it certifies"
            ));
        }
        return Ok(None);
    };
    let bytes = read_capped(path, MAX_CERTIFICATE_BYTES, "--certificate")?;
    let mut certificate = KeyCertificate::from_bytes(&bytes)
        .with_context(|| format!("--certificate {}", path.display()))?;
    certificate
        .check_key(key)
        .with_context(|| format!("--certificate {}", path.display()))?;
    if let Some(chain) = &args.certificate_chain {
        let bytes = read_capped(chain, MAX_CERTIFICATE_BYTES, "--certificate-chain")?;
        certificate = certificate
            .with_chain(&bytes)
            .with_context(|| format!("--certificate-chain {}", chain.display()))?;
    }
    Ok(Some(certificate))
}

/// `--signing-algorithm` with a key: the key decides the algorithm, so the
/// flag must name the one it signs with (cosign's names).
fn check_signing_algorithm(
    algorithm: &str,
    key: &signet_core::keys::PublicKey,
) -> anyhow::Result<()> {
    let kind = key.kind();
    let matches = match algorithm {
        "ecdsa-sha2-256-nistp256" => kind == "ECDSA P-256",
        "ecdsa-sha2-384-nistp384" => kind == "ECDSA P-384",
        "ed25519" => kind == "Ed25519",
        "rsa-sign-pkcs1-2048-sha256"
        | "rsa-sign-pkcs1-3072-sha256"
        | "rsa-sign-pkcs1-4096-sha256" => kind.starts_with("RSA"),
        _ => {
            return Err(crate::unsupported::not_supported(
                "--signing-algorithm",
                &format!("{algorithm:?} is not an algorithm signet signs with"),
            )
            .error);
        }
    };
    if !matches {
        return Err(anyhow!(
            "--signing-algorithm {algorithm} does not match the key, which is {kind}"
        ));
    }
    Ok(())
}

pub async fn verify_blob(args: VerifyBlobArgs) -> Result<(), Failure> {
    if args.key.is_empty() {
        return Err(crate::unsupported::keyless("verifying without --key"));
    }
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
        (Some(_), Some(_)) => {
            return Err(Failure::other(anyhow!(
                "give --signature or --bundle, not both"
            )));
        }
        (Some(path), None) => {
            let bytes = read_limited(path, MAX_BUNDLE_BYTES)?;
            if LegacyBlobBundle::detect(&bytes) {
                LegacyBlobBundle::parse(&bytes)
                    .with_context(|| path.display().to_string())?
                    .into_bundle(Digest::sha256_of(&blob))
            } else {
                Bundle::parse(&bytes).with_context(|| path.display().to_string())?
            }
        }
        (None, Some(given)) => {
            let signature_b64 = super::verify::signature_content(given)?;
            let signature = B64
                .decode(signature_b64.trim())
                .context("--signature: not base64")?;
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
