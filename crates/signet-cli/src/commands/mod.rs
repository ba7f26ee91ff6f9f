pub mod blob;
pub mod completion;
pub mod enforce;
pub mod keys;
pub mod policy;
pub mod server;
pub mod sign;
pub mod trust;
pub mod verify;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::keys::PublicKey;
use signet_core::limits;
use signet_pki::key_certificate::KeyCertificate;

/// Parses repeated `-a KEY=VALUE` flags.
pub fn parse_annotations(raw: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for a in raw {
        let Some((k, v)) = a.split_once('=') else {
            bail!("annotation {a:?} is not KEY=VALUE");
        };
        if k.is_empty() {
            bail!("annotation {a:?} has an empty key");
        }
        out.insert(k.to_owned(), v.to_owned());
    }
    Ok(out)
}

/// A `--payload` file: a simple-signing payload.
pub const PAYLOAD_FILE: limits::InputLimit =
    limits::InputLimit::new("a payload", limits::MAX_PAYLOAD_BYTES);

/// `--certificate` (PEM or DER, checked against the signing key) and
/// `--certificate-chain` (checked to lead from it to its root).
pub fn load_certificate(
    certificate: Option<&Path>,
    chain: Option<&Path>,
    key: &PublicKey,
) -> anyhow::Result<Option<KeyCertificate>> {
    let Some(path) = certificate else {
        if chain.is_some() {
            bail!("--certificate-chain needs the --certificate it certifies");
        }
        return Ok(None);
    };
    let what = || format!("--certificate {}", path.display());
    let bytes = limits::read_file(path, limits::CERTIFICATE_FILE)?;
    let mut certificate = KeyCertificate::from_bytes(&bytes).with_context(what)?;
    certificate.check_key(key).with_context(what)?;
    if let Some(chain) = chain {
        let bytes = limits::read_file(chain, limits::CERTIFICATE_FILE)?;
        certificate = certificate
            .with_chain(&bytes)
            .with_context(|| format!("--certificate-chain {}", chain.display()))?;
    }
    Ok(Some(certificate))
}

/// A `--signature` value as cosign reads it: a file if one exists by that
/// name, else the signature itself; base64, or raw bytes. Returns the raw
/// signature.
pub fn signature_content(given: &str) -> anyhow::Result<Vec<u8>> {
    if given.starts_with("http://") || given.starts_with("https://") {
        return Err(crate::unsupported::not_supported(
            "--signature",
            "signet does not fetch signatures from URLs; download the file and pass its path",
        )
        .error);
    }
    let path = Path::new(given);
    let from_file = path.exists();
    let bytes = if from_file {
        limits::read_file(path, limits::SIGNATURE_FILE)?
    } else {
        given.as_bytes().to_vec()
    };
    let text = String::from_utf8_lossy(&bytes);
    match B64.decode(text.trim()) {
        Ok(signature) if !signature.is_empty() => Ok(signature),
        // sign-blob --b64=false writes the raw signature.
        _ if from_file => Ok(bytes),
        _ => Err(anyhow!(
            "--signature {given:?}: no such file, and not a base64 signature"
        )),
    }
}
