//! The verifier a command uses and who it accepts as signer, from the flags:
//! trusted keys (`--key`), the trusted root (offline by construction:
//! `--trusted-root`, then cosign's `SIGSTORE_*` variables, then the shipped
//! public-good snapshot; never the network), the thresholds
//! (`--insecure-ignore-tlog`, `--insecure-ignore-sct`,
//! `--use-signed-timestamps`), and the certificate identity
//! (`--certificate-identity[-regexp]`, `--certificate-oidc-issuer[-regexp]`,
//! `--certificate-github-workflow-*`).

use std::num::NonZeroUsize;
use std::path::Path;

use anyhow::{Context, anyhow};
use signet_core::limits;
use signet_trust::{CertificateAuthority, DistinguishedName, TrustedCertificate};
use signet_verify::{
    CertificateIdentity, Matcher, SignerPolicy, TrustedKey, Verifier, WorkflowClaim,
};

use crate::args::{CertificateVerifyArgs, TlogVerifyArgs};

/// What the flags ask of the verifier.
pub struct VerifierFlags<'a> {
    pub trusted_root: Option<&'a Path>,
    pub insecure_ignore_tlog: bool,
    pub insecure_ignore_sct: bool,
    pub use_signed_timestamps: bool,
    pub timestamp_certificate_chain: Option<&'a Path>,
}

impl<'a> VerifierFlags<'a> {
    pub fn new(
        trusted_root: Option<&'a Path>,
        ignore_tlog: bool,
        certificate: &'a CertificateVerifyArgs,
        tlog: &'a TlogVerifyArgs,
    ) -> Self {
        Self {
            trusted_root,
            insecure_ignore_tlog: ignore_tlog,
            insecure_ignore_sct: certificate.insecure_ignore_sct,
            use_signed_timestamps: tlog.use_signed_timestamps,
            timestamp_certificate_chain: tlog.timestamp_certificate_chain.as_deref(),
        }
    }
}

/// Builds the verifier once for the whole command.
pub fn build_verifier(
    keys: Vec<TrustedKey>,
    flags: &VerifierFlags<'_>,
) -> anyhow::Result<Verifier> {
    let (mut root, source) =
        signet_trust::resolve_trusted_root(flags.trusted_root, |name| std::env::var_os(name))
            .context("loading the trusted root")?;
    tracing::debug!(%source, "trusted root");
    if let Some(path) = flags.timestamp_certificate_chain {
        root.timestamp_authorities.push(timestamp_authority(path)?);
    }
    let mut builder = Verifier::builder().trusted_keys(keys).trusted_root(root);
    if flags.insecure_ignore_tlog {
        builder = builder.unsafe_skip_transparency_log();
    }
    if flags.insecure_ignore_sct {
        builder = builder.unsafe_skip_sct();
    }
    if flags.use_signed_timestamps {
        builder = builder.signed_timestamp_threshold(NonZeroUsize::MIN);
    }
    let verifier = builder
        .build()
        .with_context(|| format!("trust material from {source}"))?;
    for warning in verifier.trust_warnings() {
        tracing::debug!("{source}: {warning}");
    }
    Ok(verifier)
}

/// `--timestamp-certificate-chain`: a TSA's chain in PEM, signing
/// certificate first, trusted in addition to the trusted root's.
fn timestamp_authority(path: &Path) -> anyhow::Result<CertificateAuthority> {
    let flag = || format!("--timestamp-certificate-chain {}", path.display());
    let pem = limits::read_file(path, limits::CERTIFICATE_FILE).with_context(flag)?;
    let blocks = signet_core::pem::decode_all(&pem).with_context(flag)?;
    let cert_chain = blocks
        .into_iter()
        .filter(|(label, _)| label == "CERTIFICATE")
        .map(|(_, der)| TrustedCertificate::from_der(der))
        .collect::<Result<Vec<_>, _>>()
        .with_context(flag)?;
    if cert_chain.is_empty() {
        return Err(anyhow!("{}: no certificate", flag()));
    }
    Ok(CertificateAuthority {
        subject: DistinguishedName::default(),
        uri: path.display().to_string(),
        cert_chain,
        valid_for: None,
        operator: None,
    })
}

/// Who must have signed: the keys, or the certificate identity the flags
/// name. As in cosign, `--key` and an identity exclude each other, and a
/// keyless verification needs both a subject and an issuer.
pub fn signer_policy(
    flags: &CertificateVerifyArgs,
    have_keys: bool,
) -> anyhow::Result<SignerPolicy> {
    let identity_flags = [
        (
            "--certificate-identity",
            flags.certificate_identity.is_some(),
        ),
        (
            "--certificate-identity-regexp",
            flags.certificate_identity_regexp.is_some(),
        ),
        (
            "--certificate-oidc-issuer",
            flags.certificate_oidc_issuer.is_some(),
        ),
        (
            "--certificate-oidc-issuer-regexp",
            flags.certificate_oidc_issuer_regexp.is_some(),
        ),
        (
            "--certificate-github-workflow-trigger",
            flags.certificate_github_workflow_trigger.is_some(),
        ),
        (
            "--certificate-github-workflow-sha",
            flags.certificate_github_workflow_sha.is_some(),
        ),
        (
            "--certificate-github-workflow-name",
            flags.certificate_github_workflow_name.is_some(),
        ),
        (
            "--certificate-github-workflow-repository",
            flags.certificate_github_workflow_repository.is_some(),
        ),
        (
            "--certificate-github-workflow-ref",
            flags.certificate_github_workflow_ref.is_some(),
        ),
    ];
    if have_keys {
        if let Some((flag, _)) = identity_flags.iter().find(|(_, set)| *set) {
            return Err(anyhow!(
                "--key and {flag} exclude each other: verify a key's signature, or a certificate's identity"
            ));
        }
        return Ok(SignerPolicy::TrustedKeys);
    }
    let subject = matcher(
        "--certificate-identity",
        &flags.certificate_identity,
        &flags.certificate_identity_regexp,
    )?
    .ok_or_else(|| {
        anyhow!(
            "--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode (or give --key)"
        )
    })?;
    let issuer = matcher(
        "--certificate-oidc-issuer",
        &flags.certificate_oidc_issuer,
        &flags.certificate_oidc_issuer_regexp,
    )?
    .ok_or_else(|| {
        anyhow!(
            "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode"
        )
    })?;
    let mut identity = CertificateIdentity::new(subject, issuer);
    for (claim, value) in [
        (
            WorkflowClaim::Trigger,
            &flags.certificate_github_workflow_trigger,
        ),
        (WorkflowClaim::Sha, &flags.certificate_github_workflow_sha),
        (WorkflowClaim::Name, &flags.certificate_github_workflow_name),
        (
            WorkflowClaim::Repository,
            &flags.certificate_github_workflow_repository,
        ),
        (WorkflowClaim::Ref, &flags.certificate_github_workflow_ref),
    ] {
        if let Some(v) = value {
            identity = identity.claim(claim, v);
        }
    }
    Ok(SignerPolicy::identity(identity))
}

fn matcher(
    flag: &str,
    exact: &Option<String>,
    regexp: &Option<String>,
) -> anyhow::Result<Option<Matcher>> {
    match (exact, regexp) {
        (Some(_), Some(_)) => Err(anyhow!("give {flag} or {flag}-regexp, not both")),
        (Some(v), None) => Ok(Some(Matcher::Exact(v.clone()))),
        (None, Some(re)) => Matcher::regex(re)
            .map(Some)
            .map_err(|e| anyhow!("{flag}-regexp {re:?} is not a valid regular expression: {e}")),
        (None, None) => Ok(None),
    }
}
