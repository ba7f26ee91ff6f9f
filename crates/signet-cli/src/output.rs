//! What commands print. Standard output goes through [`print`], so that
//! `--output-file` can send it to a file as cosign does; `verify` prints in
//! cosign's shape: the checks header on standard error, the verified
//! payloads on standard output.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use anyhow::Context;
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
/// would (identical to the signed bytes for cosign- and signet-made payloads).
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
                Some(payload) => out.push_str(&String::from_utf8_lossy(&payload.to_bytes())),
                None => out.push_str(&String::from_utf8_lossy(&sig.payload_bytes)),
            }
        }
    }
    out.push(']');
    out
}

/// Text mode: each payload exactly as it was signed, one per line.
pub fn payloads_text(images: &[VerifiedImage]) -> String {
    let mut out = String::new();
    for image in images {
        for sig in &image.signatures {
            out.push_str(&String::from_utf8_lossy(&sig.payload_bytes));
            out.push('\n');
        }
    }
    out
}
