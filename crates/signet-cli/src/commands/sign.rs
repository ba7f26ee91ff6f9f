//! sign: image signing, many images per invocation, with a key or keyless
//! (an ephemeral key certified by Fulcio for the caller's OIDC identity),
//! recorded in the transparency log, stored in the `.sig` layout, as an OCI
//! 1.1 referrer bundle, or both.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use futures_util::StreamExt;
use futures_util::stream;
use signet_core::keys::Signer;
use signet_core::limits;
use signet_flow::sign::{
    CertificateAnnotations, Layout, SignError, SignOptions, SignedManifest, SigningIdentity,
    Stores, sign_image,
};
use signet_kms::{KeyRef, files};
use signet_oci::Reference;
use signet_oci::referrers::{Indexed, ReferrerStore};
use signet_oci::resolve::ImageLookupError;
use signet_oci::signatures::AppendOutcome;
use signet_sigstore::signing::{KeylessSigner, SignerMaterial};

use crate::args::{ReferrersMode, SignArgs};
use crate::exit::{self, Batch, Failure};
use crate::password::CliPasswords;
use crate::progress::Progress;
use crate::services::{SigningRequest, signing_services};

/// Where `--registry-referrers-mode` and `--new-bundle-format` put signatures.
fn layout(args: &SignArgs) -> Layout {
    match (args.registry_referrers_mode, args.new_bundle_format) {
        (Some(ReferrersMode::Both), _) => Layout::Both,
        (Some(ReferrersMode::Oci11), _) | (None, true) => Layout::Referrer,
        (Some(ReferrersMode::Legacy), _) | (None, false) => Layout::Legacy,
    }
}

pub async fn sign(args: SignArgs) -> Result<(), Failure> {
    let mut images: Vec<Reference> = Vec::with_capacity(args.images.len());
    for raw in &args.images {
        let image = raw.parse::<Reference>().map_err(|e| anyhow!("{e}"))?;
        // The same image twice would race with itself for one signature tag.
        if !images.contains(&image) {
            images.push(image);
        }
    }
    let keyless = args.key.is_none();
    if keyless {
        for (flag, given) in [
            ("--certificate", args.certificate.is_some()),
            ("--certificate-chain", args.certificate_chain.is_some()),
            ("--record-key-version", args.record_key_version.is_some()),
        ] {
            if given {
                return Err(Failure::other(anyhow!(
                    "{flag} goes with --key; a keyless signature's certificate comes from Fulcio"
                )));
            }
        }
    }
    let outputs = Outputs::check(&args, images.len())?;
    let payload = match &args.payload {
        Some(path) => Some(limits::read_file(path, super::PAYLOAD_FILE)?),
        None => None,
    };
    let store = crate::registry::signature_store(&args.registry)?;
    // One key load (and one password prompt, one scrypt), or one Fulcio
    // certificate, for every image. The key comes first: a wrong password
    // fails before anything is contacted.
    let key_signer: Option<Box<dyn Signer>> = match &args.key {
        Some(key) => {
            let key: KeyRef = key.parse()?;
            let signer = signet_kms::load_signer(&key, &CliPasswords::new()).await?;
            tracing::debug!(key = %signer.describe(), "signing key loaded");
            Some(signer)
        }
        None => None,
    };
    let services = signing_services(&SigningRequest {
        keyless: &args.keyless,
        timestamp: &args.timestamp,
        // Nothing is logged for a signature that is not stored.
        tlog_upload: args.tlog_upload && args.upload,
        keyless_signature: keyless,
    })
    .await?;
    let recorder = if args.upload {
        services.recorder()
    } else {
        Default::default()
    };
    // Where the signatures can go, given the log (a Rekor v2 entry cannot
    // be carried by the `.sig` layout). Nothing is logged for a signature
    // that is not stored.
    let rekor_v2 = services.rekor_v2().filter(|_| args.upload);
    let layout = match layout(&args).for_log(args.registry_referrers_mode.is_some(), rekor_v2) {
        Ok(choice) => {
            if choice.switched
                && let Some(rekor) = rekor_v2
            {
                eprintln!(
                    "Storing the signature as a Sigstore bundle (OCI 1.1 referrer): the transparency log {rekor} is a Rekor v2 log, whose entries the legacy .sig layout cannot carry"
                );
            }
            choice.layout
        }
        Err(e) => {
            return Err(Failure::other(anyhow!(
                "{e}; use --registry-referrers-mode oci-1-1"
            )));
        }
    };
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
    let mut options = SignOptions {
        annotations: super::parse_annotations(&args.annotations)?,
        recursive: args.recursive,
        layout,
        claimed_identity: args.sign_container_identity.clone(),
        payload,
        certificate: certificate.as_ref().map(|c| CertificateAnnotations {
            certificate_pem: c.leaf_pem(),
            chain_pem: c.chain_pem(),
        }),
        upload: args.upload,
    };
    if let Some(name) = &args.record_key_version {
        let version = identity.signer.key_version().ok_or_else(|| {
            anyhow!(
                "--record-key-version: {} has no versions (hashivault:// and vault-kv:// keys do)",
                identity.signer.describe()
            )
        })?;
        if options.annotations.contains_key(name) {
            return Err(Failure::other(anyhow!(
                "--record-key-version={name} would replace the annotation {name} given with -a"
            )));
        }
        options.annotations.insert(name.clone(), version);
    }
    if let Some(path) = &args.output_certificate {
        // cosign writes the certificate: Fulcio's, the one given, or else
        // the public key.
        let pem = match (&identity.material, &certificate) {
            (SignerMaterial::Certificate(c), _) => c.leaf.to_pem(),
            (_, Some(c)) => c.leaf_pem(),
            _ => identity.signer.public_key().to_pem(),
        };
        files::write_new(path, pem.as_bytes(), 0o644)?;
        eprintln!("Certificate wrote in the file {}", path.display());
    }

    let referrers = ReferrerStore::new(store.client().clone());
    let stores = Stores {
        signatures: &store,
        referrers: &referrers,
    };
    let progress = Progress::new(images.len(), "signed");
    let mut results: Vec<(usize, Result<_, SignError>)> = stream::iter(images.iter().enumerate())
        .map(|(i, image)| {
            let stores = &stores;
            let identity = &identity;
            let options = &options;
            async move { (i, sign_image(stores, identity, image, options).await) }
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
                    for index in &s.log_indexes {
                        eprintln!("tlog entry created with index: {index}");
                    }
                    if let Some(r) = &s.referrer {
                        let how = match &r.indexed {
                            Indexed::ByRegistry => "listed by the registry's referrers API",
                            Indexed::FallbackTag { .. } | Indexed::AlreadyListed => {
                                "listed in the sha256-<hex> referrers index"
                            }
                        };
                        eprintln!(
                            "Pushing signature bundle to: {} (OCI 1.1 referrer {}, {how})",
                            s.reference.repository_ref().repo_name(),
                            r.manifest
                        );
                    }
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
