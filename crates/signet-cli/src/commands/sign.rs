//! sign: key-based image signing, many images per invocation.

use anyhow::anyhow;
use futures_util::StreamExt;
use futures_util::stream;
use signet_flow::sign::{SignError, SignOptions, sign_image};
use signet_kms::KeyRef;
use signet_oci::Reference;
use signet_oci::resolve::ImageLookupError;
use signet_oci::signatures::AppendOutcome;

use crate::args::SignArgs;
use crate::exit::{self, Batch, Failure};
use crate::password::CliPasswords;

pub async fn sign(args: SignArgs) -> Result<(), Failure> {
    let Some(key) = &args.key else {
        return Err(Failure::other(anyhow!(
            "keyless signing is not available yet: pass --key KEYREF (a key file, env://VAR, hashivault://NAME or vault-kv://MOUNT/PATH)"
        )));
    };
    if !args.upload {
        return Err(Failure::other(anyhow!(
            "--upload=false is not supported: signet always stores the signature in the registry"
        )));
    }
    let mut options = SignOptions {
        annotations: super::parse_annotations(&args.annotations)?,
        recursive: args.recursive,
    };
    let mut images: Vec<Reference> = Vec::with_capacity(args.images.len());
    for raw in &args.images {
        let image = raw.parse::<Reference>().map_err(|e| anyhow!("{e}"))?;
        // The same image twice would race with itself for one signature tag.
        if !images.contains(&image) {
            images.push(image);
        }
    }
    let store = crate::registry::signature_store(&args.registry)?;
    // One key load (and one password prompt, one scrypt) for every image.
    let key: KeyRef = key.parse()?;
    let signer = signet_kms::load_signer(&key, &CliPasswords::new()).await?;
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
    if args.tlog_upload {
        eprintln!(
            "note: signet has no transparency-log (Rekor) upload yet; the signature is stored in the registry only. Pass --tlog-upload=false to silence this."
        );
    }

    let results: Vec<(usize, Result<_, SignError>)> = stream::iter(images.iter().enumerate())
        .map(|(i, image)| {
            let store = &store;
            let signer = signer.as_ref();
            let options = &options;
            async move { (i, sign_image(store, signer, image, options).await) }
        })
        .buffer_unordered(args.concurrency.max(1))
        .collect()
        .await;
    let mut results = results;
    results.sort_by_key(|(i, _)| *i);

    let mut batch = Batch::new(images.len());
    for (i, result) in results {
        match result {
            Ok(signed) => {
                for s in signed {
                    let target = store.signature_repository(s.reference.repository_ref());
                    match s.outcome {
                        AppendOutcome::Appended { merged_again, .. } => {
                            eprintln!("Pushing signature to: {}", target.repo_name());
                            if merged_again > 0 {
                                eprintln!(
                                    "note: {}: other signers wrote the signature manifest at the same time; the signature was merged again ({merged_again}x)",
                                    s.reference
                                );
                            }
                        }
                        AppendOutcome::AlreadyPresent => {
                            eprintln!(
                                "{}: already signed with this key; nothing to do",
                                s.reference
                            );
                        }
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
    batch.finish("could not be signed")
}
