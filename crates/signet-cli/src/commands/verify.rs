//! verify: key-based image verification, any of several keys, many images
//! verified concurrently over one connection pool.

use anyhow::anyhow;
use futures_util::StreamExt;
use futures_util::stream;
use signet_kms::KeyRef;
use signet_oci::Reference;
use signet_oci::resolve::ImageLookupError;
use signet_verify::online::{ImageVerifyError, verify_image};
use signet_verify::{ImagePolicy, TrustedKey, VerifyError};

use crate::args::{OutputFormat, VerifyArgs};
use crate::exit::{self, Batch, Failure};
use crate::output::{self, Header};
use crate::password::CliPasswords;

pub async fn verify(args: VerifyArgs) -> Result<(), Failure> {
    if args.certificate_identity.is_some()
        || args.certificate_identity_regexp.is_some()
        || args.certificate_oidc_issuer.is_some()
        || args.certificate_oidc_issuer_regexp.is_some()
    {
        return Err(Failure::other(anyhow!(
            "keyless verification (--certificate-identity/--certificate-oidc-issuer) is not available yet; verify with --key"
        )));
    }
    if args.key.is_empty() {
        return Err(Failure::other(anyhow!(
            "no key given: pass --key KEYREF (repeatable)"
        )));
    }
    let annotations = super::parse_annotations(&args.annotations)?;
    let images = args
        .images
        .iter()
        .map(|i| i.parse::<Reference>().map_err(|e| anyhow!("{e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let passwords = CliPasswords::new();
    let mut keys = Vec::with_capacity(args.key.len());
    for k in &args.key {
        let keyref: KeyRef = k.parse()?;
        let public = signet_kms::load_public_key(&keyref, &passwords).await?;
        keys.push(TrustedKey::new(k.clone(), public));
    }
    let verifier = crate::trust::build_verifier(
        keys,
        &crate::trust::VerifierFlags {
            trusted_root: None,
            insecure_ignore_tlog: args.insecure_ignore_tlog,
        },
    )?;
    let store = crate::registry::signature_store(&args.registry)?;
    if args.insecure_ignore_tlog {
        eprintln!(
            "WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature."
        );
    }

    let policy_for = |image: &Reference| {
        let annotations = annotations.clone();
        let repository = args.match_repository.then(|| image.repo_name());
        move |digest| {
            let mut p = ImagePolicy::for_digest(digest);
            for (k, v) in &annotations {
                p = p.annotation(k.clone(), v.clone());
            }
            if let Some(r) = &repository {
                p = p.require_repository(r.clone());
            }
            p
        }
    };
    let mut results: Vec<(usize, Result<Vec<_>, ImageVerifyError>)> =
        stream::iter(images.iter().enumerate())
            .map(|(i, image)| {
                let store = &store;
                let verifier = &verifier;
                let policy = policy_for(image);
                let recursive = args.recursive;
                async move {
                    (
                        i,
                        verify_image(store, verifier, image, recursive, policy).await,
                    )
                }
            })
            .buffer_unordered(args.concurrency.max(1))
            .collect()
            .await;
    results.sort_by_key(|(i, _)| *i);

    let header = Header {
        annotations: !annotations.is_empty(),
        tlog_ignored: args.insecure_ignore_tlog,
    };
    let mut batch = Batch::new(images.len());
    for (i, result) in results {
        match result {
            Ok(verified) => {
                header.print(&args.images[i]);
                match args.output {
                    OutputFormat::Json => println!("\n{}", output::payloads_json(&verified)),
                    OutputFormat::Text => print!("{}", output::payloads_text(&verified)),
                }
            }
            Err(e) => batch.fail(Failure::with_code(exit_code(&e), e)),
        }
    }
    batch.finish("failed verification")
}

fn exit_code(e: &ImageVerifyError) -> i32 {
    match e {
        ImageVerifyError::Image(ImageLookupError::NotFound { .. }) => exit::IMAGE_NOT_FOUND,
        ImageVerifyError::Verify {
            error: VerifyError::NoSignatures { .. },
            ..
        } => exit::NO_SIGNATURES,
        ImageVerifyError::Verify {
            error: VerifyError::NoMatchingSignature { .. },
            ..
        } => exit::NO_MATCHING_SIGNATURE,
        ImageVerifyError::Verify {
            error: VerifyError::NoCertificate { .. },
            ..
        } => exit::NO_CERTIFICATE,
        _ => exit::OTHER,
    }
}
