//! cosign's encrypted private-key file.
//!
//! A PEM block whose body is JSON (go-securesystemslib `encrypted`):
//! `{"kdf":{"name":"scrypt","params":{"N":…,"r":8,"p":1},"salt":…},"cipher":{"name":"nacl/secretbox","nonce":…},"ciphertext":…}`
//! where ciphertext = secretbox(PKCS#8 DER, key = scrypt(password, salt)).
//! cosign writes the label `ENCRYPTED SIGSTORE PRIVATE KEY`; older cosign and
//! skopeo write `ENCRYPTED COSIGN PRIVATE KEY`. Both are read.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Nonce, XSalsa20Poly1305};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::PrivateKey;
use crate::error::KeyError;
use crate::limits::MAX_KEY_FILE_BYTES;

/// PEM label of the key files cosign 2.x writes (and signet writes).
pub const SIGSTORE_KEY_PEM_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// PEM label of older cosign and of skopeo key files.
pub const COSIGN_KEY_PEM_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";

/// scrypt cost parameters cosign decrypts (`N` = 2^15, 2^16, 2^17; r = 8; p = 1).
const ACCEPTED_LOG_N: [u8; 3] = [15, 16, 17];

/// How to write an encrypted key file.
#[derive(Debug, Clone, Copy)]
pub struct EncryptedKeyOptions {
    /// log2 of scrypt's N. cosign writes 16 (N = 65536).
    pub log_n: u8,
    /// Write the older `ENCRYPTED COSIGN PRIVATE KEY` label.
    pub legacy_label: bool,
}

impl Default for EncryptedKeyOptions {
    fn default() -> Self {
        Self {
            log_n: 16,
            legacy_label: false,
        }
    }
}

/// Whether `pem` claims to be a cosign encrypted private key (either label).
///
/// Only the BEGIN line is looked at, so that a truncated or damaged key file
/// is still recognised and reported as a damaged key rather than as some
/// other kind of file.
pub fn is_encrypted_private_key(pem: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&pem[..pem.len().min(200)]);
    let first = text.trim_start().lines().next().unwrap_or_default();
    [SIGSTORE_KEY_PEM_LABEL, COSIGN_KEY_PEM_LABEL]
        .iter()
        .any(|label| first.trim_end() == format!("-----BEGIN {label}-----"))
}

/// Encrypts `key` under `password` into a PEM key file, as `cosign generate-key-pair` does.
pub fn encrypt_private_key(
    key: &PrivateKey,
    password: &[u8],
    options: EncryptedKeyOptions,
) -> Result<String, KeyError> {
    if !ACCEPTED_LOG_N.contains(&options.log_n) {
        return Err(KeyError::UnsupportedKdf(format!(
            "scrypt N=2^{} (cosign reads only N=32768, 65536, 131072)",
            options.log_n
        )));
    }
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut salt).map_err(|e| KeyError::Random(e.to_string()))?;
    getrandom::fill(&mut nonce).map_err(|e| KeyError::Random(e.to_string()))?;
    let secret_key = derive_key(password, &salt, options.log_n)?;
    let plaintext = key.to_pkcs8_der()?;
    let ciphertext = XSalsa20Poly1305::new(secret_key.as_slice().into())
        .encrypt(Nonce::from_slice(&nonce), plaintext.as_slice())
        .map_err(|_| KeyError::Signing("secretbox encryption failed".into()))?;
    // Field order and spelling exactly as go-securesystemslib marshals them.
    let body = format!(
        r#"{{"kdf":{{"name":"scrypt","params":{{"N":{},"r":8,"p":1}},"salt":"{}"}},"cipher":{{"name":"nacl/secretbox","nonce":"{}"}},"ciphertext":"{}"}}"#,
        1u64 << options.log_n,
        B64.encode(salt),
        B64.encode(nonce),
        B64.encode(&ciphertext)
    );
    let label = if options.legacy_label {
        COSIGN_KEY_PEM_LABEL
    } else {
        SIGSTORE_KEY_PEM_LABEL
    };
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, body.as_bytes())
        .map_err(|e| KeyError::Malformed(format!("PEM encoding failed: {e}")))
}

/// Decrypts a cosign key file (either label, N of 32768/65536/131072).
pub fn decrypt_private_key(pem: &[u8], password: &[u8]) -> Result<PrivateKey, KeyError> {
    if pem.len() > MAX_KEY_FILE_BYTES {
        return Err(KeyError::Malformed(format!(
            "key file is {} bytes, larger than the limit of {MAX_KEY_FILE_BYTES}",
            pem.len()
        )));
    }
    let (label, body) = pem_rfc7468::decode_vec(pem)
        .map_err(|e| KeyError::Malformed(format!("not a PEM key file ({e})")))?;
    if label != SIGSTORE_KEY_PEM_LABEL && label != COSIGN_KEY_PEM_LABEL {
        return Err(KeyError::Unsupported(format!(
            "PEM type {label:?} is not an encrypted cosign key (expected {SIGSTORE_KEY_PEM_LABEL:?})"
        )));
    }
    let envelope: Envelope = serde_json::from_slice(&body).map_err(|e| {
        KeyError::Malformed(format!(
            "encrypted key body is not the cosign JSON envelope: {e}"
        ))
    })?;
    if envelope.kdf.name != "scrypt" {
        return Err(KeyError::UnsupportedKdf(format!(
            "kdf {:?}",
            envelope.kdf.name
        )));
    }
    if envelope.cipher.name != "nacl/secretbox" {
        return Err(KeyError::UnsupportedKdf(format!(
            "cipher {:?}",
            envelope.cipher.name
        )));
    }
    let params = &envelope.kdf.params;
    let log_n = ACCEPTED_LOG_N
        .into_iter()
        .find(|log_n| params.n == 1u64 << log_n)
        .filter(|_| params.r == 8 && params.p == 1)
        .ok_or_else(|| {
            KeyError::UnsupportedKdf(format!(
                "scrypt N={} r={} p={} (accepted: N of 32768, 65536 or 131072 with r=8, p=1)",
                params.n, params.r, params.p
            ))
        })?;
    let salt = decode_field("salt", &envelope.kdf.salt)?;
    if salt.is_empty() || salt.len() > 64 {
        return Err(KeyError::Malformed(format!("salt is {} bytes", salt.len())));
    }
    let nonce = decode_field("nonce", &envelope.cipher.nonce)?;
    if nonce.len() != 24 {
        return Err(KeyError::Malformed(format!(
            "secretbox nonce is {} bytes, expected 24",
            nonce.len()
        )));
    }
    let ciphertext = decode_field("ciphertext", &envelope.ciphertext)?;
    let secret_key = derive_key(password, &salt, log_n)?;
    let plaintext = Zeroizing::new(
        XSalsa20Poly1305::new(secret_key.as_slice().into())
            .decrypt(Nonce::from_slice(&nonce), ciphertext.as_slice())
            .map_err(|_| KeyError::WrongPassword)?,
    );
    PrivateKey::from_pkcs8_der(&plaintext)
}

fn derive_key(password: &[u8], salt: &[u8], log_n: u8) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let params = scrypt::Params::new(log_n, 8, 1)
        .map_err(|e| KeyError::UnsupportedKdf(format!("scrypt parameters: {e}")))?;
    let mut out = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password, salt, &params, out.as_mut_slice())
        .map_err(|e| KeyError::UnsupportedKdf(format!("scrypt: {e}")))?;
    Ok(out)
}

fn decode_field(name: &str, value: &str) -> Result<Vec<u8>, KeyError> {
    B64.decode(value)
        .map_err(|e| KeyError::Malformed(format!("{name} is not base64: {e}")))
}

#[derive(Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Deserialize)]
struct Kdf {
    name: String,
    params: KdfParams,
    salt: String,
}

#[derive(Deserialize)]
struct KdfParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const COSIGN_KEY: &str = include_str!("../../../../tests/vectors/cosign-2.5/cosign.key");
    const COSIGN_PUB: &str = include_str!("../../../../tests/vectors/cosign-2.5/cosign.pub");
    const SKOPEO_KEY: &str = include_str!("../../../../tests/vectors/skopeo-1.18/skopeo.key");
    const SKOPEO_PUB: &str = include_str!("../../../../tests/vectors/skopeo-1.18/skopeo.pub");

    #[test]
    fn decrypts_key_written_by_cosign() {
        let key = decrypt_private_key(COSIGN_KEY.as_bytes(), b"pw").unwrap();
        assert_eq!(key.public_key().to_pem(), COSIGN_PUB);
    }

    #[test]
    fn decrypts_legacy_label_written_by_skopeo() {
        let key = decrypt_private_key(SKOPEO_KEY.as_bytes(), b"pw").unwrap();
        assert_eq!(key.public_key().to_pem(), SKOPEO_PUB);
    }

    #[test]
    fn wrong_password_is_reported_as_such() {
        let err = decrypt_private_key(COSIGN_KEY.as_bytes(), b"nope").unwrap_err();
        assert!(matches!(err, KeyError::WrongPassword), "{err}");
    }

    #[test]
    fn round_trip_all_accepted_costs() {
        let key = PrivateKey::generate_p256().unwrap();
        for log_n in ACCEPTED_LOG_N {
            let pem = encrypt_private_key(
                &key,
                b"",
                EncryptedKeyOptions {
                    log_n,
                    legacy_label: log_n == 15,
                },
            )
            .unwrap();
            assert!(is_encrypted_private_key(pem.as_bytes()));
            let back = decrypt_private_key(pem.as_bytes(), b"").unwrap();
            assert_eq!(back.public_key(), key.public_key());
        }
    }

    #[test]
    fn writes_the_exact_envelope_shape() {
        let key = PrivateKey::generate_p256().unwrap();
        let pem = encrypt_private_key(&key, b"x", EncryptedKeyOptions::default()).unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        let (_, body) = pem_rfc7468::decode_vec(pem.as_bytes()).unwrap();
        let body = String::from_utf8(body).unwrap();
        assert!(
            body.starts_with(
                r#"{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":""#
            )
        );
        assert!(body.contains(r#""cipher":{"name":"nacl/secretbox","nonce":""#));
        // Go's pem.Encode wraps at 64 columns.
        assert!(pem.lines().all(|l| l.len() <= 64));
    }

    #[test]
    fn rejects_unsupported_cost_and_garbage() {
        let body = r#"{"kdf":{"name":"scrypt","params":{"N":1024,"r":8,"p":1},"salt":"AAAA"},"cipher":{"name":"nacl/secretbox","nonce":"AAAA"},"ciphertext":"AAAA"}"#;
        let pem = pem_rfc7468::encode_string(
            SIGSTORE_KEY_PEM_LABEL,
            pem_rfc7468::LineEnding::LF,
            body.as_bytes(),
        )
        .unwrap();
        assert!(matches!(
            decrypt_private_key(pem.as_bytes(), b"").unwrap_err(),
            KeyError::UnsupportedKdf(_)
        ));
        let truncated = &COSIGN_KEY[..COSIGN_KEY.len() / 2];
        assert!(matches!(
            decrypt_private_key(truncated.as_bytes(), b"pw").unwrap_err(),
            KeyError::Malformed(_)
        ));
        assert!(matches!(
            decrypt_private_key(COSIGN_PUB.as_bytes(), b"pw").unwrap_err(),
            KeyError::Unsupported(_)
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn decrypt_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = decrypt_private_key(&bytes, b"");
        }

        #[test]
        fn decrypt_never_panics_on_bad_json(body in "\\{.{0,200}\\}") {
            let pem = pem_rfc7468::encode_string(SIGSTORE_KEY_PEM_LABEL, pem_rfc7468::LineEnding::LF, body.as_bytes()).unwrap();
            let _ = decrypt_private_key(pem.as_bytes(), b"");
        }
    }
}
