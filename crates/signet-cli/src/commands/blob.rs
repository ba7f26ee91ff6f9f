//! sign-blob and verify-blob.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::Artifact;
use signet_core::bundle::{Bundle, VerificationMaterial};
use signet_core::legacy_blob_bundle::LegacyBlobBundle;
use signet_core::limits;
use signet_kms::{KeyRef, files};
use signet_pki::key_certificate::KeyCertificate;
use signet_verify::TrustedKey;

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
    let source = BlobSource::open(&args.blob)?;
    let keyref: KeyRef = key.parse()?;
    let signer = signet_kms::load_signer(&keyref, &CliPasswords::new()).await?;
    let public = signer.public_key();
    if let Some(algorithm) = &args.signing_algorithm {
        check_signing_algorithm(algorithm, public)?;
    }
    let certificate = super::load_certificate(
        args.certificate.as_deref(),
        args.certificate_chain.as_deref(),
        public,
    )?;
    let blob = source.read(public.signs_whole_message()).await?;
    tracing::debug!(bytes = blob.size(), digest = %blob.digest(), "blob read");
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
    if let Some(path) = &args.bundle {
        let contents = if args.new_bundle_format {
            let mut bundle =
                Bundle::for_key_signature(blob.digest().clone(), signature.clone(), public.hint());
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
    // As cosign: the signature goes to the file if one is named, else to
    // standard output; base64 unless --b64=false.
    match output_signature {
        Some(path) => {
            let shown: &[u8] = if args.b64 {
                encoded.as_bytes()
            } else {
                &signature
            };
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

/// What `verify-blob` checks the blob against.
enum Evidence {
    Bundle(Bundle),
    LegacyBundle(LegacyBlobBundle),
    Signature(Vec<u8>),
}

pub async fn verify_blob(args: VerifyBlobArgs) -> Result<(), Failure> {
    let signer = crate::trust::signer_policy(&args.certificate, !args.key.is_empty())?;
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
        &crate::trust::VerifierFlags::new(
            args.trusted_root.as_deref(),
            args.insecure_ignore_tlog || args.private_infrastructure,
            &args.certificate,
            &args.tlog,
        ),
    )?;
    // The signature or bundle first: it is small, and a bad one fails before
    // a large blob is read.
    let evidence = match (&args.bundle, &args.signature) {
        (Some(_), Some(_)) => {
            return Err(Failure::other(anyhow!(
                "give --signature or --bundle, not both"
            )));
        }
        (Some(path), None) => {
            let bytes = limits::read_file(path, limits::BUNDLE_FILE)?;
            // cosign 2.5 writes its older format unless --new-bundle-format.
            if LegacyBlobBundle::detect(&bytes) {
                Evidence::LegacyBundle(
                    LegacyBlobBundle::parse(&bytes).with_context(|| path.display().to_string())?,
                )
            } else {
                Evidence::Bundle(Bundle::parse(&bytes).with_context(|| path.display().to_string())?)
            }
        }
        (None, Some(given)) => Evidence::Signature(super::signature_content(given)?),
        (None, None) => {
            return Err(Failure::other(anyhow!(
                "pass --signature FILE or --bundle FILE"
            )));
        }
    };
    let certificate = given_certificate(&args)?;
    if certificate.is_some() && args.signature.is_none() {
        return Err(Failure::other(anyhow!(
            "--certificate goes with --signature; a bundle carries its own certificate"
        )));
    }
    let timestamp = match &args.rfc3161_timestamp {
        Some(path) => {
            let text = limits::read_file(path, limits::SIGNATURE_FILE)?;
            Some(
                signet_core::bundle::parse_rfc3161_annotation(&String::from_utf8_lossy(&text))
                    .with_context(|| format!("--rfc3161-timestamp {}", path.display()))?,
            )
        }
        None => None,
    };
    let blob = source.read(verifier.needs_whole_messages()).await?;
    // Legacy forms become a bundle for this blob's digest.
    let mut bundle = match evidence {
        Evidence::Bundle(b) => b,
        Evidence::LegacyBundle(b) => b
            .into_bundle(blob.digest().clone())
            .with_context(|| "--bundle")?,
        Evidence::Signature(signature) => {
            let mut b = Bundle::for_key_signature(blob.digest().clone(), signature, String::new());
            if let Some(chain) = &certificate {
                b.media_type = signet_core::bundle::BUNDLE_V01_MEDIA_TYPE.to_owned();
                b.verification_material = VerificationMaterial::CertificateDer {
                    chain: chain.clone(),
                };
            }
            b
        }
    };
    bundle.rfc3161_timestamps.extend(timestamp);
    match verifier.verify_blob(&blob, &bundle, &signer) {
        Ok(verified) => {
            for note in &verified.verification.notes {
                tracing::debug!("{note}");
            }
            eprintln!("Verified OK");
            Ok(())
        }
        Err(e) => Err(Failure::with_code(exit::OTHER, e)),
    }
}

/// `--certificate` (PEM or DER) and `--certificate-chain` (PEM), as DER,
/// leaf first. The chain is only carried along: trust comes from the
/// trusted root's CAs.
fn given_certificate(args: &VerifyBlobArgs) -> anyhow::Result<Option<Vec<Vec<u8>>>> {
    let Some(path) = &args.certificate.certificate else {
        if args.certificate.certificate_chain.is_some() {
            return Err(anyhow!("--certificate-chain goes with --certificate"));
        }
        return Ok(None);
    };
    let flag = |p: &Path, f: &str| format!("{f} {}", p.display());
    let bytes = limits::read_file(path, limits::CERTIFICATE_FILE)?;
    let leaf = KeyCertificate::from_bytes(&bytes).with_context(|| flag(path, "--certificate"))?;
    let mut chain = vec![leaf.leaf_der().to_vec()];
    if let Some(path) = &args.certificate.certificate_chain {
        let pem = limits::read_file(path, limits::CERTIFICATE_FILE)?;
        for (label, der) in
            signet_core::pem::decode_all(&pem).with_context(|| flag(path, "--certificate-chain"))?
        {
            if label == "CERTIFICATE" {
                chain.push(der);
            }
        }
    }
    Ok(Some(chain))
}
