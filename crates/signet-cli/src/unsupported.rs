//! The flags signet declares, for cosign compatibility, but does not honour:
//! each is refused here, before any command runs, with one line that says
//! why. A flag written with cosign's default value is not refused, since it
//! asks for nothing (`--sk=false`, `--rekor-url https://rekor.sigstore.dev`).
//!
//! The answer is `not supported: FLAG: why` (hardware keys, deprecated
//! attachments, skipping the claim check, interactive OAuth flows), with a
//! pointer to what to use instead where there is one.

use anyhow::anyhow;

use crate::args::{
    AttachmentArgs, CertificateVerifyArgs, Command, DigestAlgorithm, GenerateKeyPairArgs,
    KeylessSignArgs, PolicyCommand, RegistryArgs, SecurityKeyArgs, SignArgs, SignBlobArgs,
    TimestampSignArgs, VerifyArgs, VerifyBlobArgs,
};
use crate::exit::Failure;

/// `not supported: FLAG: why`.
pub fn not_supported(flag: &str, why: &str) -> Failure {
    Failure::other(anyhow!("not supported: {flag}: {why}"))
}

/// Refuses the first flag of `command` that signet does not honour.
pub fn check(command: &Command) -> Result<(), Failure> {
    match command {
        Command::GenerateKeyPair(a) => generate_key_pair(a),
        Command::PublicKey(a) => security_key(&a.security_key),
        Command::Sign(a) => sign(a),
        Command::Verify(a) => verify(a),
        Command::SignBlob(a) => sign_blob(a),
        Command::VerifyBlob(a) => verify_blob(a),
        Command::Initialize(a)
        | Command::TrustedRoot(crate::args::TrustedRootCommand::Refresh(a)) => {
            if a.staging {
                return Err(not_supported(
                    "--staging",
                    "signet ships no staging TUF root; pass --mirror URL and --root FILE",
                ));
            }
            Ok(())
        }
        Command::Policy(PolicyCommand::Test(a)) => registry(&a.registry),
        Command::Gate(a) => registry(&a.registry),
        Command::Admission(a) => registry(&a.run.registry),
        Command::ImportKeyPair(_)
        | Command::Completion(_)
        | Command::Policy(_)
        | Command::Server(_)
        | Command::Version => Ok(()),
    }
}

fn generate_key_pair(a: &GenerateKeyPairArgs) -> Result<(), Failure> {
    match &a.destination {
        Some(d) => Err(not_supported(
            d,
            "signet writes key pairs to files or creates them with --kms; store them in Kubernetes, GitHub or GitLab with that tool",
        )),
        None => Ok(()),
    }
}

fn security_key(a: &SecurityKeyArgs) -> Result<(), Failure> {
    let why =
        "PIV hardware keys are not supported (no token is reachable); use a key file or a KMS key";
    if a.sk {
        return Err(not_supported("--sk", why));
    }
    match a.slot.as_deref() {
        Some(s) if !s.is_empty() => Err(not_supported("--slot", why)),
        _ => Ok(()),
    }
}

fn attachment(a: &AttachmentArgs) -> Result<(), Failure> {
    if a.attachment.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(not_supported(
            "--attachment",
            "attachments (deprecated in cosign) are not signed or verified; sign the attachment by its own digest",
        ));
    }
    if a.attachment_tag_prefix
        .as_deref()
        .is_some_and(|s| !s.is_empty())
    {
        return Err(not_supported(
            "--attachment-tag-prefix",
            "signatures live under cosign's default tag, sha256-<hex>.sig",
        ));
    }
    Ok(())
}

fn registry(a: &RegistryArgs) -> Result<(), Failure> {
    if a.k8s_keychain {
        return Err(not_supported(
            "--k8s-keychain",
            "there is no Kubernetes keychain; use docker/podman credentials or --registry-username/--registry-token",
        ));
    }
    Ok(())
}

fn sign(a: &SignArgs) -> Result<(), Failure> {
    security_key(&a.security_key)?;
    attachment(&a.attachment)?;
    registry(&a.registry)?;
    keyless_signing(&a.keyless, &a.timestamp)?;
    if a.bundle.is_some() {
        return Err(not_supported(
            "--bundle",
            "image signatures are stored in the registry; for a bundle beside the image use --registry-referrers-mode=oci-1-1 (or both), and sign-blob --bundle for files",
        ));
    }
    if a.record_creation_timestamp {
        return Err(not_supported(
            "--record-creation-timestamp",
            "signature manifests keep cosign's default zero creation time",
        ));
    }
    Ok(())
}

fn verify(a: &VerifyArgs) -> Result<(), Failure> {
    security_key(&a.security_key)?;
    attachment(&a.attachment)?;
    registry(&a.registry)?;
    certificate_material(&a.certificate, false)?;
    // --new-bundle-format and --experimental-oci11 ask for what `verify`
    // always does: Sigstore bundle referrers are read first, then `.sig`.
    if !a.check_claims {
        return Err(not_supported(
            "--check-claims=false",
            "signet always checks the signed digest and annotations",
        ));
    }
    if a.signature_digest_algorithm != DigestAlgorithm::Sha256 {
        return Err(not_supported(
            "--signature-digest-algorithm",
            "image signatures are verified over SHA-256, as cosign and skopeo make them",
        ));
    }
    Ok(())
}

/// Certificate material given on the command line instead of the trusted
/// root. `verify-blob` takes a signing certificate and its chain (cosign's
/// `--certificate`, `--certificate-chain`); the rest is refused.
fn certificate_material(a: &CertificateVerifyArgs, blob: bool) -> Result<(), Failure> {
    let use_root = "name the CA in a trusted root instead (--trusted-root, or SIGSTORE_ROOT_FILE)";
    for (flag, given) in [
        ("--ca-roots", a.ca_roots.is_some()),
        ("--ca-intermediates", a.ca_intermediates.is_some()),
    ] {
        if given {
            return Err(not_supported(flag, use_root));
        }
    }
    if a.sct.is_some() {
        return Err(not_supported(
            "--sct",
            "detached SCTs are not read; the SCTs embedded in the certificate are checked",
        ));
    }
    if a.allow_certificate_chain {
        return Err(not_supported(
            "--allow-certificate-chain",
            "a bundle's chain is never trusted; certificates chain to the trusted root's CAs",
        ));
    }
    if !blob {
        for (flag, given) in [
            ("--certificate", a.certificate.is_some()),
            ("--certificate-chain", a.certificate_chain.is_some()),
        ] {
            if given {
                return Err(not_supported(
                    flag,
                    "image signatures carry their certificate; verify-blob takes one with --signature",
                ));
            }
        }
    }
    Ok(())
}

fn sign_blob(a: &SignBlobArgs) -> Result<(), Failure> {
    security_key(&a.security_key)?;
    keyless_signing(&a.keyless, &a.timestamp)?;
    if a.rfc3161_timestamp.is_some() {
        return Err(not_supported(
            "--rfc3161-timestamp",
            "the timestamp goes into the bundle (--bundle), as in cosign 3",
        ));
    }
    Ok(())
}

/// The signing flags signet does not honour: interactive OAuth flows, a
/// certificate for a key, TLS settings for the timestamp authority.
fn keyless_signing(
    keyless: &KeylessSignArgs,
    timestamp: &TimestampSignArgs,
) -> Result<(), Failure> {
    if let Some(flag) = keyless.first_unsupported() {
        return Err(not_supported(
            flag,
            if flag == "--issue-certificate" {
                "a key signs with the key; sign without --key for a Fulcio certificate"
            } else {
                "interactive OAuth flows are not supported; pass --identity-token, set SIGSTORE_ID_TOKEN, or sign in a CI job that offers OIDC tokens"
            },
        ));
    }
    if let Some(flag) = timestamp.first_unsupported() {
        return Err(not_supported(
            flag,
            "TLS settings for the timestamp authority are not supported; SSL_CERT_FILE sets the trusted roots",
        ));
    }
    Ok(())
}

fn verify_blob(a: &VerifyBlobArgs) -> Result<(), Failure> {
    security_key(&a.security_key)?;
    certificate_material(&a.certificate, true)?;
    Ok(())
}
