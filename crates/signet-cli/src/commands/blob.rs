//! sign-blob and verify-blob.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::Artifact;
use signet_core::bundle::{Bundle, RekorBundle, VerificationMaterial};
use signet_core::keys::Signer;
use signet_core::legacy_blob_bundle::LegacyBlobBundle;
use signet_core::limits;
use signet_flow::sign::SigningIdentity;
use signet_kms::{KeyRef, files};
use signet_pki::key_certificate::KeyCertificate;
use signet_sigstore::signing::{KeylessSigner, SignerMaterial};
use signet_verify::TrustedKey;

use crate::args::{SignBlobArgs, VerifyBlobArgs};
use crate::exit::{self, Failure};
use crate::password::CliPasswords;
use crate::services::{SigningRequest, signing_services};

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
    ///
    /// The blob commands run on a single-threaded runtime with nothing else
    /// to do meanwhile, so the read happens right here: handing it to a
    /// blocking thread would only add a thread start and a hand-off.
    async fn read(self, whole: bool) -> anyhow::Result<Artifact> {
        let keep = whole.then_some(limits::WHOLE_MESSAGE);
        match self {
            Self::Stdin => {
                Artifact::read(std::io::stdin().lock(), keep).context("reading standard input")
            }
            Self::File(path, file) => {
                Artifact::read(file, keep).with_context(|| path.display().to_string())
            }
        }
    }
}

pub async fn sign_blob(args: SignBlobArgs) -> Result<(), Failure> {
    if let Some(key) = &args.key
        && args.blob.as_os_str() == "-"
        && std::env::var_os("COSIGN_PASSWORD").is_none()
    {
        // The password would otherwise be read from the same standard input.
        let keyref: KeyRef = key.parse()?;
        if !matches!(keyref, KeyRef::VaultTransit { .. }) {
            return Err(Failure::other(anyhow!(
                "signing standard input needs the key password in COSIGN_PASSWORD"
            )));
        }
    }
    if args.key.is_none() && (args.certificate.is_some() || args.certificate_chain.is_some()) {
        return Err(Failure::other(anyhow!(
            "--certificate goes with --key; a keyless signature's certificate comes from Fulcio"
        )));
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
    // The key first: a wrong password fails before anything is contacted.
    let key_signer: Option<Box<dyn Signer>> = match &args.key {
        Some(key) => {
            let keyref: KeyRef = key.parse()?;
            Some(signet_kms::load_signer(&keyref, &CliPasswords::new()).await?)
        }
        None => None,
    };
    let services = signing_services(&SigningRequest {
        keyless: &args.keyless,
        timestamp: &args.timestamp,
        tlog_upload: args.tlog_upload,
        keyless_signature: args.key.is_none(),
    })
    .await?;
    let recorder = services.recorder();
    let keyless_signer: KeylessSigner;
    let mut certificate = None;
    let identity = match &key_signer {
        Some(key_signer) => {
            certificate = super::load_certificate(
                args.certificate.as_deref(),
                args.certificate_chain.as_deref(),
                key_signer.public_key(),
            )?;
            services.confirm(false, args.yes)?;
            SigningIdentity::key(key_signer.as_ref(), &recorder)
        }
        None => {
            keyless_signer = services.keyless_signer(&args.keyless, args.yes).await?;
            SigningIdentity::keyless(&keyless_signer, &recorder)
        }
    };
    let public = identity.signer.public_key();
    if let Some(algorithm) = &args.signing_algorithm {
        check_signing_algorithm(algorithm, public)?;
    }
    let blob = source.read(public.signs_whole_message()).await?;
    tracing::debug!(bytes = blob.size(), digest = %blob.digest(), "blob read");
    let signed = signet_flow::blob::sign_blob(&identity, &blob).await?;
    for entry in &signed.evidence.tlog_entries {
        eprintln!("tlog entry created with index: {}", entry.log_index);
    }
    let signature = signed.signature.clone();
    let encoded = B64.encode(&signature);
    // The certificate a bundle and --output-certificate carry: Fulcio's, or
    // the one given with the key.
    let certificate_pem = match (&identity.material, &certificate) {
        (SignerMaterial::Certificate(c), _) => Some(c.leaf.to_pem()),
        (_, Some(c)) => Some(c.leaf_pem()),
        _ => None,
    };
    if let Some(path) = &args.bundle {
        let contents = if args.new_bundle_format {
            let mut bundle = signed.bundle.clone();
            if let Some(c) = &certificate {
                bundle.verification_material = VerificationMaterial::CertificateDer {
                    chain: vec![c.leaf_der().to_vec()],
                };
            }
            bundle.to_json()
        } else {
            LegacyBlobBundle {
                signature: signature.clone(),
                certificate_pem: certificate_pem.clone(),
                rekor_bundle: signed
                    .evidence
                    .tlog_entries
                    .iter()
                    .find_map(RekorBundle::from_tlog_entry)
                    .and_then(|r| serde_json::from_str(&r.to_annotation()).ok()),
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
        match &certificate_pem {
            Some(pem) => {
                let pem = pem.clone();
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
