//! What `verify` prints, in cosign's shape: the checks header on standard
//! error, the verified payloads on standard output.

use signet_verify::VerifiedImage;

pub struct Header {
    pub annotations: bool,
    pub tlog_ignored: bool,
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
        out.push_str("  - The signatures were verified against the specified public key\n");
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
