//! verify: image verification under trusted keys or a certificate identity,
//! many images verified concurrently over one connection pool.

use std::path::Path;

use anyhow::anyhow;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::StreamExt;
use futures_util::stream;
use signet_core::limits;
use signet_flow::local::{LocalVerifyError, verify_saved_image};
use signet_flow::verify::{ImageVerifyError, LayoutOrder, verify_image};
use signet_kms::KeyRef;
use signet_oci::Reference;
use signet_oci::layout::OciLayout;
use signet_oci::resolve::ImageLookupError;
use signet_verify::{ImagePolicy, SignerPolicy, TrustedKey, VerifiedImage, Verifier, VerifyError};

use crate::args::{OutputFormat, VerifyArgs};
use crate::exit::{self, Batch, Failure};
use crate::output::{self, Header};
use crate::password::CliPasswords;
use crate::progress::Progress;

pub async fn verify(args: VerifyArgs) -> Result<(), Failure> {
    if let Some(policy) = &args.policy {
        return super::policy::verify_with_policy(&args, policy).await;
    }
    let signer = crate::trust::signer_policy(&args.certificate, !args.key.is_empty())?;
    let annotations = super::parse_annotations(&args.annotations)?;
    let detached = detached_signature(&args)?;
    let images = if args.local_image {
        Vec::new()
    } else {
        args.images
            .iter()
            .map(|i| i.parse::<Reference>().map_err(|e| anyhow!("{e}")))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let passwords = CliPasswords::new();
    let mut keys = Vec::with_capacity(args.key.len());
    for k in &args.key {
        let keyref: KeyRef = k.parse()?;
        let public = signet_kms::load_public_key(&keyref, &passwords).await?;
        keys.push(TrustedKey::new(k.clone(), public));
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
    tracing::debug!(keys = ?args.key, "trusted keys loaded");
    if args.insecure_ignore_tlog && !args.private_infrastructure {
        eprintln!(
            "WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature."
        );
    }
    let header = Header {
        annotations: !annotations.is_empty(),
        tlog_ignored: args.insecure_ignore_tlog || args.private_infrastructure,
        keyless: signer.wants_certificate(),
    };
    if args.local_image {
        return verify_local(&args, &verifier, &signer, &annotations, &header);
    }
    let store = crate::registry::signature_store(&args.registry)?;

    let policy_for = |image: &Reference| {
        let annotations = annotations.clone();
        let repository = args
            .match_repository
            .then(|| image.repository_ref().clone());
        let signer = signer.clone();
        move |digest| {
            let mut p = ImagePolicy::for_digest(digest).signer(signer.clone());
            for (k, v) in &annotations {
                p = p.annotation(k.clone(), v.clone());
            }
            if let Some(r) = &repository {
                p = p.require_repository(r.clone());
            }
            p
        }
    };
    // cosign 3 (`--new-bundle-format`) looks for bundles, cosign 2 for
    // `.sig` manifests; signet starts where the flags say and reads the
    // other layout when the first has no signature that satisfies the policy.
    let order = if args.new_bundle_format || args.experimental_oci11 {
        LayoutOrder::BundlesFirst
    } else {
        LayoutOrder::LegacyFirst
    };
    let progress = Progress::new(images.len(), "verified");
    let mut results: Vec<(usize, Result<Vec<_>, ImageVerifyError>)> =
        stream::iter(images.iter().enumerate())
            .map(|(i, image)| {
                let store = &store;
                let verifier = &verifier;
                let policy = policy_for(image);
                let recursive = args.recursive;
                let detached = &detached;
                async move {
                    let outcome = match detached {
                        Some((signature, payload)) => signet_flow::detached::verify_detached(
                            store,
                            verifier,
                            image,
                            signature,
                            payload.as_deref(),
                            policy,
                        )
                        .await
                        .map(|v| vec![v]),
                        None => {
                            verify_image(store, verifier, image, recursive, order, policy).await
                        }
                    };
                    (i, outcome)
                }
            })
            .buffer_unordered(args.concurrency.max(1))
            .inspect(|(_, result)| progress.done(result.is_ok()))
            .collect()
            .await;
    progress.finish();
    results.sort_by_key(|(i, _)| *i);

    let mut batch = Batch::new(images.len());
    for (i, result) in results {
        tracing::debug!(image = %args.images[i], verified = result.is_ok(), "image done");
        match result {
            Ok(verified) => print_verified(&header, &args.images[i], &verified, args.output)?,
            Err(e) => batch.fail(Failure::with_code(exit_code(&e), e)),
        }
    }
    batch.finish("failed verification")
}

fn print_verified(
    header: &Header,
    reference: &str,
    verified: &[VerifiedImage],
    format: OutputFormat,
) -> Result<(), Failure> {
    header.print(reference);
    match format {
        OutputFormat::Json => output::print(&format!("\n{}\n", output::payloads_json(verified)))?,
        OutputFormat::Text => output::print(&output::payloads_text(verified))?,
        OutputFormat::Record => {
            let record = serde_json::json!({"reference": reference, "images": verified});
            output::print(&format!("{record}\n"))?
        }
    }
    Ok(())
}

/// `--local-image`: each argument is a directory written by `cosign save`.
fn verify_local(
    args: &VerifyArgs,
    verifier: &Verifier,
    signer: &SignerPolicy,
    annotations: &std::collections::BTreeMap<String, String>,
    header: &Header,
) -> Result<(), Failure> {
    if args.match_repository {
        return Err(Failure::other(anyhow!(
            "--match-repository needs a registry reference; a saved image names no repository"
        )));
    }
    if args.signature.is_some() {
        return Err(Failure::other(anyhow!(
            "--signature verifies an image in a registry; with --local-image the signatures come from the layout"
        )));
    }
    let mut batch = Batch::new(args.images.len());
    for dir in &args.images {
        let outcome = OciLayout::open(Path::new(dir))
            .map_err(LocalVerifyError::from)
            .and_then(|layout| {
                verify_saved_image(verifier, &layout, |digest| {
                    let mut p = ImagePolicy::for_digest(digest).signer(signer.clone());
                    for (k, v) in annotations {
                        p = p.annotation(k.clone(), v.clone());
                    }
                    p
                })
            });
        match outcome {
            Ok(verified) => print_verified(header, dir, &[verified], args.output)?,
            Err(e) => {
                let code = match &e {
                    LocalVerifyError::Verify { error, .. } => verify_error_code(error),
                    _ => exit::OTHER,
                };
                batch.fail(Failure::with_code(code, e));
            }
        }
    }
    batch.finish("failed verification")
}

/// `--signature` (a file, or the base64 signature itself) and `--payload`.
fn detached_signature(args: &VerifyArgs) -> anyhow::Result<Option<(String, Option<Vec<u8>>)>> {
    let Some(given) = &args.signature else {
        if args.payload.is_some() {
            return Err(anyhow!(
                "--payload is the payload of a --signature; give both"
            ));
        }
        return Ok(None);
    };
    let signature = B64.encode(super::signature_content(given)?);
    let payload = match &args.payload {
        Some(path) => Some(limits::read_file(path, super::PAYLOAD_FILE)?),
        None => None,
    };
    Ok(Some((signature, payload)))
}

fn exit_code(e: &ImageVerifyError) -> i32 {
    match e {
        ImageVerifyError::Image(ImageLookupError::NotFound { .. }) => exit::IMAGE_NOT_FOUND,
        ImageVerifyError::Verify { error, .. } => verify_error_code(error),
        _ => exit::OTHER,
    }
}

fn verify_error_code(error: &VerifyError) -> i32 {
    match error {
        VerifyError::NoSignatures { .. } => exit::NO_SIGNATURES,
        VerifyError::NoMatchingSignature { .. } => exit::NO_MATCHING_SIGNATURE,
        VerifyError::NoCertificate { .. } => exit::NO_CERTIFICATE,
        _ => exit::OTHER,
    }
}
