//! What commands print. Standard output goes through [`print`], so that
//! `--output-file` can send it to a file as cosign does; `verify` prints in
//! cosign's shape: the checks header on standard error, the verified
//! payloads on standard output.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use std::collections::BTreeMap;

use anyhow::Context;
use signet_core::bundle::{Bundle, RekorBundle, rfc3161_annotation};
use signet_core::gojson;
use signet_core::payload::SimpleSigningPayload;
use signet_pki::certificate::Certificate;
use signet_pki::profile::FulcioCertificate;
use signet_verify::VerifiedImage;

/// `--output-file`, once opened.
static OUTPUT_FILE: OnceLock<Mutex<File>> = OnceLock::new();

/// Sends standard output to `path` (created or truncated, as cosign does).
pub fn redirect(path: Option<&Path>) -> anyhow::Result<()> {
    let Some(path) = path else { return Ok(()) };
    let file = File::create(path).with_context(|| format!("--output-file {}", path.display()))?;
    // Only main calls this, once; a second call would keep the first file.
    let _ = OUTPUT_FILE.set(Mutex::new(file));
    Ok(())
}

/// Writes `text` to standard output, or to the `--output-file`.
pub fn print(text: &str) -> anyhow::Result<()> {
    print_bytes(text.as_bytes())
}

/// Writes raw bytes to standard output, or to the `--output-file`.
pub fn print_bytes(bytes: &[u8]) -> anyhow::Result<()> {
    match OUTPUT_FILE.get() {
        Some(file) => {
            let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
            file.write_all(bytes).context("writing --output-file")
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)
                .and_then(|()| out.flush())
                .context("writing to standard output")
        }
    }
}

/// Flushes the `--output-file` to disk.
pub fn finish() -> Result<(), crate::exit::Failure> {
    if let Some(file) = OUTPUT_FILE.get() {
        let file = file.lock().unwrap_or_else(|p| p.into_inner());
        file.sync_all().context("writing --output-file")?;
    }
    Ok(())
}

pub struct Header {
    pub annotations: bool,
    pub tlog_ignored: bool,
    /// Verified a certificate identity rather than a key.
    pub keyless: bool,
}

impl Header {
    pub fn print(&self, reference: &str) {
        let mut out = format!(
            "\nVerification for {reference} --\nThe following checks were performed on each of these signatures:\n"
        );
        if self.annotations {
            out.push_str("  - The specified annotations were verified.\n");
        }
        out.push_str("  - The cosign claims were validated\n");
        if !self.tlog_ignored {
            out.push_str(
                "  - Existence of the claims in the transparency log was verified offline\n",
            );
        }
        if self.keyless {
            out.push_str("  - The code-signing certificate was verified using trusted certificate authority certificates\n");
        } else {
            out.push_str("  - The signatures were verified against the specified public key\n");
        }
        eprint!("{out}");
    }
}

/// The JSON array cosign prints: each verified payload, re-serialised as Go
/// would (identical to the signed bytes for cosign- and signet-made
/// payloads), with what cosign adds to `optional` for a legacy signature:
/// the certificate's `Subject` (first SAN), `Issuer` and the same under
/// `1.3.6.1.4.1.57264.1.1`, the GitHub workflow claims under their names and
/// OIDs, the Rekor `Bundle` and the `RFC3161Timestamp`. A DSSE bundle's
/// statement is printed as signed.
pub fn payloads_json(images: &[VerifiedImage]) -> String {
    let mut out = String::from("[");
    let mut first = true;
    for image in images {
        for sig in &image.signatures {
            if !first {
                out.push(',');
            }
            first = false;
            match &sig.payload {
                Some(payload) => out.push_str(&cosign_payload_json(payload, &sig.evidence)),
                None => out.push_str(&String::from_utf8_lossy(&sig.payload_bytes)),
            }
        }
    }
    out.push(']');
    out
}

/// One payload as cosign prints it (`payload.SimpleContainerImage` after
/// `PrintVerification` filled in `optional`).
fn cosign_payload_json(payload: &SimpleSigningPayload, evidence: &Bundle) -> String {
    // Values already in JSON, by key; Go sorts map keys bytewise.
    let mut optional: BTreeMap<String, String> = BTreeMap::new();
    let string = |s: &str| {
        let mut out = String::new();
        gojson::write_str(&mut out, s);
        out
    };
    for (k, v) in payload.optional.iter().flatten() {
        let mut out = String::new();
        gojson::write_value(&mut out, v);
        optional.insert(k.clone(), out);
    }
    let leaf = evidence
        .verification_material
        .leaf_certificate()
        .and_then(|der| Certificate::from_der(der).ok())
        .and_then(|c| FulcioCertificate::parse(&c).ok());
    if let Some(cert) = &leaf {
        let subject = cert
            .subject_alternative_names
            .first()
            .map(|s| s.value().to_owned())
            .unwrap_or_default();
        optional.insert("Subject".into(), string(&subject));
        if let Some(issuer) = cert.issuer_v1.as_deref().filter(|i| !i.is_empty()) {
            optional.insert("Issuer".into(), string(issuer));
            optional.insert("1.3.6.1.4.1.57264.1.1".into(), string(issuer));
        }
        let claims = &cert.claims;
        for (name, oid, value) in [
            (
                "githubWorkflowTrigger",
                "1.3.6.1.4.1.57264.1.2",
                &claims.github_workflow_trigger,
            ),
            (
                "githubWorkflowSha",
                "1.3.6.1.4.1.57264.1.3",
                &claims.github_workflow_sha,
            ),
            (
                "githubWorkflowName",
                "1.3.6.1.4.1.57264.1.4",
                &claims.github_workflow_name,
            ),
            (
                "githubWorkflowRepository",
                "1.3.6.1.4.1.57264.1.5",
                &claims.github_workflow_repository,
            ),
            (
                "githubWorkflowRef",
                "1.3.6.1.4.1.57264.1.6",
                &claims.github_workflow_ref,
            ),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                optional.insert(name.into(), string(v));
                optional.insert(oid.into(), string(v));
            }
        }
    }
    if let Some(rekor) = evidence
        .tlog_entries
        .iter()
        .find_map(RekorBundle::from_tlog_entry)
    {
        // cosign's struct, in its field order: the annotation's own layout.
        optional.insert("Bundle".into(), rekor.to_annotation());
    }
    if let Some(token) = evidence.rfc3161_timestamps.first() {
        optional.insert("RFC3161Timestamp".into(), rfc3161_annotation(token));
    }
    let bytes = payload.to_bytes();
    if leaf.is_none() && evidence.tlog_entries.is_empty() && evidence.rfc3161_timestamps.is_empty()
    {
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    let mut object = String::from("{");
    for (i, (k, v)) in optional.iter().enumerate() {
        if i > 0 {
            object.push(',');
        }
        gojson::write_str(&mut object, k);
        object.push(':');
        object.push_str(v);
    }
    object.push('}');
    // The payload's layout with `optional` replaced: it is always last.
    let without = SimpleSigningPayload {
        optional: None,
        ..payload.clone()
    }
    .to_bytes();
    let text = String::from_utf8_lossy(&without);
    match text.strip_suffix("null}") {
        Some(head) => format!("{head}{object}}}"),
        None => text.into_owned(),
    }
}

/// Text mode: each payload exactly as it was signed, one per line; for a
/// signature with a certificate, cosign's `Certificate subject:` lines go to
/// standard error first.
pub fn payloads_text(images: &[VerifiedImage]) -> String {
    let mut out = String::new();
    for image in images {
        for sig in &image.signatures {
            if let Some(cert) = sig
                .evidence
                .verification_material
                .leaf_certificate()
                .and_then(|der| Certificate::from_der(der).ok())
                .and_then(|c| FulcioCertificate::parse(&c).ok())
            {
                let subject = cert
                    .subject_alternative_names
                    .first()
                    .map(|s| s.value().to_owned())
                    .unwrap_or_default();
                let mut lines = format!("Certificate subject: {subject}\n");
                if let Some(issuer) = cert.issuer_v1.as_deref().filter(|i| !i.is_empty()) {
                    lines.push_str(&format!("Certificate issuer URL: {issuer}\n"));
                }
                let claims = &cert.claims;
                for (label, value) in [
                    ("GitHub Workflow Trigger", &claims.github_workflow_trigger),
                    ("GitHub Workflow SHA", &claims.github_workflow_sha),
                    ("GitHub Workflow Name", &claims.github_workflow_name),
                    (
                        "GitHub Workflow Repository",
                        &claims.github_workflow_repository,
                    ),
                    ("GitHub Workflow Ref", &claims.github_workflow_ref),
                ] {
                    if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                        lines.push_str(&format!("{label}: {v}\n"));
                    }
                }
                eprint!("{lines}");
            }
            out.push_str(&String::from_utf8_lossy(&sig.payload_bytes));
            out.push('\n');
        }
    }
    out
}
