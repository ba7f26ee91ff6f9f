//! sign: key-based image signing, many images per invocation.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use futures_util::StreamExt;
use futures_util::stream;
use signet_core::limits;
use signet_flow::sign::{
    CertificateAnnotations, SignError, SignOptions, SignedManifest, sign_image,
};
use signet_kms::{KeyRef, files};
use signet_oci::Reference;
use signet_oci::resolve::ImageLookupError;
use signet_oci::signatures::AppendOutcome;

use crate::args::SignArgs;
use crate::exit::{self, Batch, Failure};
use crate::password::CliPasswords;
use crate::progress::Progress;

pub async fn sign(args: SignArgs) -> Result<(), Failure> {
    let Some(key) = &args.key else {
        return Err(crate::unsupported::keyless("signing without --key"));
    };
    let mut images: Vec<Reference> = Vec::with_capacity(args.images.len());
    for raw in &args.images {
        let image = raw.parse::<Reference>().map_err(|e| anyhow!("{e}"))?;
        // The same image twice would race with itself for one signature tag.
        if !images.contains(&image) {
            images.push(image);
        }
    }
    let outputs = Outputs::check(&args, images.len())?;
    let payload = match &args.payload {
        Some(path) => Some(limits::read_file(path, super::PAYLOAD_FILE)?),
        None => None,
    };
    let store = crate::registry::signature_store(&args.registry)?;
    // One key load (and one password prompt, one scrypt) for every image.
    let key: KeyRef = key.parse()?;
    let signer = signet_kms::load_signer(&key, &CliPasswords::new()).await?;
    tracing::debug!(key = %signer.describe(), "signing key loaded");
    let certificate = super::load_certificate(
        args.certificate.as_deref(),
        args.certificate_chain.as_deref(),
        signer.public_key(),
    )?;
    let mut options = SignOptions {
        annotations: super::parse_annotations(&args.annotations)?,
        recursive: args.recursive,
        claimed_identity: args.sign_container_identity.clone(),
        payload,
        certificate: certificate.as_ref().map(|c| CertificateAnnotations {
            certificate_pem: c.leaf_pem(),
            chain_pem: c.chain_pem(),
        }),
        upload: args.upload,
    };
    if let Some(name) = &args.record_key_version {
        let version = signer.key_version().ok_or_else(|| {
            anyhow!(
                "--record-key-version: {key} has no versions (hashivault:// and vault-kv:// keys do)"
            )
        })?;
        if options.annotations.contains_key(name) {
            return Err(Failure::other(anyhow!(
                "--record-key-version={name} would replace the annotation {name} given with -a"
            )));
        }
        options.annotations.insert(name.clone(), version);
    }
    if args.tlog_upload && args.upload {
        eprintln!(
            "note: signet has no transparency-log (Rekor) upload yet; the signature is stored in the registry only. Pass --tlog-upload=false to silence this."
        );
    }
    if let Some(path) = &args.output_certificate {
        // cosign writes the certificate given, or else the public key.
        let pem = match &certificate {
            Some(c) => c.leaf_pem(),
            None => signer.public_key().to_pem(),
        };
        files::write_new(path, pem.as_bytes(), 0o644)?;
        eprintln!("Certificate wrote in the file {}", path.display());
    }

    let progress = Progress::new(images.len(), "signed");
    let mut results: Vec<(usize, Result<_, SignError>)> = stream::iter(images.iter().enumerate())
        .map(|(i, image)| {
            let store = &store;
            let signer = signer.as_ref();
            let options = &options;
            async move { (i, sign_image(store, signer, image, options).await) }
        })
        .buffer_unordered(args.concurrency.max(1))
        .inspect(|(_, result)| progress.done(result.is_ok()))
        .collect()
        .await;
    progress.finish();
    results.sort_by_key(|(i, _)| *i);

    let mut batch = Batch::new(images.len());
    for (i, result) in results {
        match result {
            Ok(signed) => {
                for s in &signed {
                    tracing::debug!(manifest = %s.reference, outcome = ?s.outcome, "signed");
                    if let Err(e) = outputs.write(s) {
                        batch.fail(Failure::other(e));
                    }
                    let target = store.signature_repository(s.reference.repository_ref());
                    match s.outcome {
                        Some(AppendOutcome::Appended { merged_again, .. }) => {
                            eprintln!("Pushing signature to: {}", target.repo_name());
                            if merged_again > 0 {
                                eprintln!(
                                    "note: {}: other signers wrote the signature manifest at the same time; the signature was merged again ({merged_again}x)",
                                    s.reference
                                );
                            }
                        }
                        Some(AppendOutcome::AlreadyPresent) => {
                            eprintln!(
                                "{}: already signed with this key; nothing to do",
                                s.reference
                            );
                        }
                        None => {}
                    }
                }
            }
            Err(e) => {
                let code = match &e {
                    SignError::Image(ImageLookupError::NotFound { .. }) => exit::IMAGE_NOT_FOUND,
                    _ => exit::OTHER,
                };
                batch.fail(Failure::with_code(
                    code,
                    anyhow::Error::new(e).context(format!("signing {}", images[i])),
                ));
            }
        }
    }
    if !args.upload && outputs.is_empty() {
        eprintln!(
            "note: --upload=false: nothing was stored; pass --output-signature/--output-payload to keep the signature"
        );
    }
    batch.finish("could not be signed")
}

/// `--output-signature` and `--output-payload`: one file each, or with
/// `--recursive` one per manifest (`FILE-sha256-HEX`, as cosign names them).
struct Outputs {
    signature: Option<PathBuf>,
    payload: Option<PathBuf>,
    per_digest: bool,
}

impl Outputs {
    fn check(args: &SignArgs, images: usize) -> anyhow::Result<Self> {
        let outputs = Self {
            signature: args.output_signature.clone(),
            payload: args.output_payload.clone(),
            per_digest: args.recursive,
        };
        if !outputs.is_empty() && images > 1 {
            return Err(anyhow!(
                "--output-signature and --output-payload write one image's files; {images} images were given"
            ));
        }
        if !outputs.per_digest {
            let paths: Vec<&Path> = [&outputs.signature, &outputs.payload]
                .into_iter()
                .flatten()
                .map(PathBuf::as_path)
                .collect();
            // Refuse before signing if an output would be overwritten.
            files::ensure_absent(&paths)?;
        }
        Ok(outputs)
    }

    fn is_empty(&self) -> bool {
        self.signature.is_none() && self.payload.is_none()
    }

    fn path(&self, base: &Path, signed: &SignedManifest) -> PathBuf {
        match (self.per_digest, signed.reference.digest()) {
            (true, Some(digest)) => {
                let mut name = base.as_os_str().to_owned();
                name.push(format!("-{}", digest.to_string().replace(':', "-")));
                PathBuf::from(name)
            }
            _ => base.to_owned(),
        }
    }

    fn write(&self, signed: &SignedManifest) -> anyhow::Result<()> {
        if let Some(base) = &self.signature {
            let path = self.path(base, signed);
            files::write_new(&path, signed.signature_b64.as_bytes(), 0o644)?;
            eprintln!("Wrote signature to file {}", path.display());
        }
        if let Some(base) = &self.payload {
            let path = self.path(base, signed);
            files::write_new(&path, &signed.payload, 0o644)?;
            eprintln!("Wrote payload to file {}", path.display());
        }
        Ok(())
    }
}
