//! Keys for signed notes and their key IDs.
//!
//! | type | key ID | signature |
//! |---|---|---|
//! | Ed25519 (`0x01`) | `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pub)[:4]` | Ed25519 over the text |
//! | ECDSA (`0x02`, also Rekor v1) | `SHA-256(SPKI)[:4]` | DER ECDSA over SHA-256 of the text |
//! | RSA (`0xFF` + `PKIX-RSA-PKCS#1v1.5`) | `SHA-256(name ‖ 0x0A ‖ 0xFF ‖ "PKIX-RSA-PKCS#1v1.5" ‖ SPKI)[:4]` | PKCS#1 v1.5 with SHA-256 |
//!
//! Verifier keys (`vkey`) are written `name+hexid+base64(type ‖ key)`, with
//! the raw 32-byte key for Ed25519 and the DER SPKI for ECDSA.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest as _, Sha256};
use signet_core::keys::{PrivateKey, PublicKey};

use crate::error::TlogError;
use crate::note::{KeyId, KeyName, NoteSigner, NoteVerifier};

/// Signature type byte of Ed25519 notes.
pub const ALG_ED25519: u8 = 0x01;
/// Signature type byte of ECDSA notes.
pub const ALG_ECDSA: u8 = 0x02;
/// Signature type byte for types named by a longer identifier.
pub const ALG_OTHER: u8 = 0xff;
const RSA_IDENTIFIER: &[u8] = b"PKIX-RSA-PKCS#1v1.5";

/// The algorithm of a note key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoteKeyType {
    /// Ed25519.
    Ed25519,
    /// ECDSA (P-256 or P-384) with SHA-256, DER signatures.
    Ecdsa,
    /// RSA PKCS#1 v1.5 with SHA-256 (read only).
    Rsa,
}

/// `SHA-256(name ‖ 0x0A ‖ type ‖ key)[:4]`, the spec's recommended key ID.
pub fn named_key_id(name: &KeyName, type_and_key: &[u8]) -> KeyId {
    let mut h = Sha256::new();
    h.update(name.as_str().as_bytes());
    h.update(b"\n");
    h.update(type_and_key);
    KeyId::from_digest_prefix(&h.finalize())
}

/// `SHA-256(SPKI)[:4]`, the ECDSA (and Rekor v1) key ID.
pub fn spki_key_id(key: &PublicKey) -> KeyId {
    KeyId::from_digest_prefix(&Sha256::digest(key.to_spki_der()))
}

/// A public key trusted to sign notes under a name.
#[derive(Clone, PartialEq, Eq)]
pub struct NoteVerifierKey {
    name: KeyName,
    key_id: KeyId,
    key_type: NoteKeyType,
    key: PublicKey,
}

impl fmt::Debug for NoteVerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "NoteVerifierKey({}+{}, {:?})",
            self.name, self.key_id, self.key_type
        )
    }
}

impl NoteVerifierKey {
    /// An Ed25519 key.
    pub fn ed25519(name: KeyName, key: ed25519_dalek::VerifyingKey) -> Self {
        let mut tk = vec![ALG_ED25519];
        tk.extend_from_slice(key.as_bytes());
        Self {
            key_id: named_key_id(&name, &tk),
            name,
            key_type: NoteKeyType::Ed25519,
            key: PublicKey::Ed25519(key),
        }
    }

    /// An ECDSA key (P-256 or P-384), key ID `SHA-256(SPKI)[:4]`.
    pub fn ecdsa(name: KeyName, key: PublicKey) -> Result<Self, TlogError> {
        if !matches!(key, PublicKey::EcdsaP256(_) | PublicKey::EcdsaP384(_)) {
            return Err(TlogError::Misuse(format!(
                "a {} key is not an ECDSA note key",
                key.kind()
            )));
        }
        Ok(Self {
            key_id: spki_key_id(&key),
            name,
            key_type: NoteKeyType::Ecdsa,
            key,
        })
    }

    /// An RSA key (PKCS#1 v1.5, SHA-256).
    pub fn rsa(name: KeyName, key: PublicKey) -> Result<Self, TlogError> {
        if !matches!(key, PublicKey::Rsa(_)) {
            return Err(TlogError::Misuse(format!(
                "a {} key is not an RSA note key",
                key.kind()
            )));
        }
        let mut tk = vec![ALG_OTHER];
        tk.extend_from_slice(RSA_IDENTIFIER);
        tk.extend_from_slice(&key.to_spki_der());
        Ok(Self {
            key_id: named_key_id(&name, &tk),
            name,
            key_type: NoteKeyType::Rsa,
            key,
        })
    }

    /// A key with an explicit key ID (Rekor v1 derives every key's ID from
    /// its SPKI, Ed25519 included).
    pub(crate) fn with_key_id(name: KeyName, key: PublicKey, key_id: KeyId) -> Self {
        let key_type = match key {
            PublicKey::Ed25519(_) => NoteKeyType::Ed25519,
            PublicKey::Rsa(_) => NoteKeyType::Rsa,
            _ => NoteKeyType::Ecdsa,
        };
        Self {
            name,
            key_id,
            key_type,
            key,
        }
    }

    /// The note key for `key` the way its type names it (Ed25519, ECDSA or RSA).
    pub fn for_public_key(name: KeyName, key: PublicKey) -> Result<Self, TlogError> {
        match key {
            PublicKey::Ed25519(k) => Ok(Self::ed25519(name, k)),
            PublicKey::Rsa(_) => Self::rsa(name, key),
            _ => Self::ecdsa(name, key),
        }
    }

    /// Parses a verifier key `name+hexid+base64(type ‖ key)`; the key ID
    /// must be the one the key implies.
    pub fn from_vkey(vkey: &str) -> Result<Self, TlogError> {
        let bad =
            |reason: &str| TlogError::malformed("note verifier key", format!("{vkey:?}: {reason}"));
        if vkey.len() > 4096 {
            return Err(bad("too long"));
        }
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected name+hexid+base64"));
        };
        let name = KeyName::new(name)?;
        if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("key ID must be 8 hex digits"));
        }
        let id = u32::from_str_radix(id, 16).map_err(|_| bad("key ID must be 8 hex digits"))?;
        let raw = B64
            .decode(b64)
            .map_err(|_| bad("key is not standard base64"))?;
        let (alg, key) = raw.split_first().ok_or_else(|| bad("empty key"))?;
        let parsed = match *alg {
            ALG_ED25519 => {
                let bytes: [u8; 32] = key
                    .try_into()
                    .map_err(|_| bad("Ed25519 key must be 32 bytes"))?;
                let k = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                    .map_err(|_| bad("invalid Ed25519 key"))?;
                Self::ed25519(name, k)
            }
            ALG_ECDSA => {
                let k = PublicKey::from_spki_der(key)
                    .map_err(|e| bad(&format!("invalid ECDSA key: {e}")))?;
                Self::ecdsa(name, k).map_err(|e| bad(&e.to_string()))?
            }
            other => return Err(bad(&format!("unsupported key type 0x{other:02x}"))),
        };
        if parsed.key_id != KeyId(id) {
            return Err(bad(&format!("key ID should be {}", parsed.key_id)));
        }
        Ok(parsed)
    }

    /// The verifier key string, for Ed25519 and ECDSA keys.
    pub fn to_vkey(&self) -> Option<String> {
        let mut tk = Vec::new();
        match (&self.key_type, &self.key) {
            (NoteKeyType::Ed25519, PublicKey::Ed25519(k)) => {
                tk.push(ALG_ED25519);
                tk.extend_from_slice(k.as_bytes());
            }
            (NoteKeyType::Ecdsa, k) => {
                tk.push(ALG_ECDSA);
                tk.extend_from_slice(&k.to_spki_der());
            }
            _ => return None,
        }
        Some(format!("{}+{}+{}", self.name, self.key_id, B64.encode(tk)))
    }

    /// The algorithm.
    pub fn key_type(&self) -> NoteKeyType {
        self.key_type
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }
}

impl NoteVerifier for NoteVerifierKey {
    fn name(&self) -> &KeyName {
        &self.name
    }
    fn key_id(&self) -> KeyId {
        self.key_id
    }
    fn verify(&self, text: &[u8], signature: &[u8]) -> bool {
        // signet-core verifies each key type the way notes are signed:
        // Ed25519 over the text, ECDSA (DER) over its SHA-256, RSA PKCS#1 v1.5.
        self.key.verify(text, signature).is_ok()
    }
}

/// A private key that signs notes under a name.
pub struct NoteSignerKey {
    name: KeyName,
    key_id: KeyId,
    key: PrivateKey,
    verifier: NoteVerifierKey,
}

impl fmt::Debug for NoteSignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteSignerKey({}+{})", self.name, self.key_id)
    }
}

impl NoteSignerKey {
    /// Signs with `key` (Ed25519 or ECDSA) under `name`.
    pub fn new(name: KeyName, key: PrivateKey) -> Result<Self, TlogError> {
        let verifier = match &key {
            PrivateKey::Ed25519(_) | PrivateKey::EcdsaP256(_) | PrivateKey::EcdsaP384(_) => {
                NoteVerifierKey::for_public_key(name.clone(), key.public_key())?
            }
            other => {
                return Err(TlogError::Misuse(format!(
                    "{} keys do not sign notes here; use Ed25519 or ECDSA",
                    other.kind()
                )));
            }
        };
        Ok(Self {
            name,
            key_id: verifier.key_id,
            key,
            verifier,
        })
    }

    /// Signs Rekor v1 checkpoints: the signature line carries the log's
    /// host name and the key ID is `SHA-256(SPKI)[:4]` for every key type.
    pub fn rekor_v1(hostname: KeyName, key: PrivateKey) -> Result<Self, TlogError> {
        if matches!(key, PrivateKey::Rsa(_)) {
            return Err(TlogError::Misuse(
                "RSA keys do not sign Rekor v1 checkpoints here".into(),
            ));
        }
        let public = key.public_key();
        let key_id = spki_key_id(&public);
        let verifier = NoteVerifierKey::with_key_id(hostname.clone(), public, key_id);
        Ok(Self {
            name: hostname,
            key_id,
            key,
            verifier,
        })
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> &NoteVerifierKey {
        &self.verifier
    }
}

impl NoteSigner for NoteSignerKey {
    fn name(&self) -> &KeyName {
        &self.name
    }
    fn key_id(&self) -> KeyId {
        self.key_id
    }
    fn sign(&self, text: &[u8]) -> Result<Vec<u8>, TlogError> {
        self.key
            .sign(text)
            .map_err(|e| TlogError::Misuse(format!("signing the note failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::{Note, NoteVerifiers};
    use proptest::prelude::*;

    // golang.org/x/mod/sumdb/note note_test.go vectors.
    const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const PETER_SIG: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    const ENOCH_SIG: &str = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

    fn trusted(vkeys: &[&str]) -> NoteVerifiers {
        NoteVerifiers::new(
            vkeys
                .iter()
                .map(|v| Box::new(NoteVerifierKey::from_vkey(v).unwrap()) as Box<dyn NoteVerifier>)
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn go_vkeys_parse_and_round_trip() {
        let k = NoteVerifierKey::from_vkey(PETER_VKEY).unwrap();
        assert_eq!(k.key_id(), KeyId(0xc74f20a3));
        assert_eq!(k.to_vkey().unwrap(), PETER_VKEY);
        // Every substring and every single-byte change is refused.
        let b = PETER_VKEY.as_bytes();
        for i in 0..b.len() {
            for j in i + 1..=b.len() {
                if (i, j) != (0, b.len())
                    && let Ok(s) = std::str::from_utf8(&b[i..j])
                {
                    assert!(NoteVerifierKey::from_vkey(s).is_err(), "{s}");
                }
            }
        }
        for i in 0..b.len() {
            let mut m = b.to_vec();
            m[i] = m[i].wrapping_add(1);
            if let Ok(s) = std::str::from_utf8(&m) {
                assert!(NoteVerifierKey::from_vkey(s).is_err(), "{s}");
            }
        }
        assert!(
            NoteVerifierKey::from_vkey(
                "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
            )
            .is_err()
        );
        assert!(
            NoteVerifierKey::from_vkey(
                "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            )
            .is_err()
        );
    }

    #[test]
    fn go_notes_verify_with_known_and_unknown_keys() {
        let msg = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
        let note = Note::parse(msg.as_bytes()).unwrap();
        assert_eq!(note.to_bytes(), msg.as_bytes());
        let v = note.verify(&trusted(&[PETER_VKEY])).unwrap();
        assert_eq!(v.text(), TEXT);
        assert_eq!(v.verified().len(), 1);
        assert_eq!(v.unverified().len(), 1);
        assert_eq!(v.unverified()[0].key_label(), "EnochRoot+af0cfe78");
        let both = note.verify(&trusted(&[PETER_VKEY, ENOCH_VKEY])).unwrap();
        assert_eq!(both.verified().len(), 2);
        let none = note.verify(&trusted(&[])).unwrap_err();
        assert!(
            matches!(none, TlogError::NoTrustedSignature { .. }),
            "{none}"
        );
        // A corrupted signature by a trusted key rejects the whole note.
        let corrupt = format!("{TEXT}\n{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
        let err = Note::parse(corrupt.as_bytes())
            .unwrap()
            .verify(&trusted(&[PETER_VKEY]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid signature by key PeterNeumann+c74f20a3 on the signed note"
        );
        // Duplicates are checked once.
        let dup = format!("{TEXT}\n{PETER_SIG}{PETER_SIG}{ENOCH_SIG}{ENOCH_SIG}");
        let v = Note::parse(dup.as_bytes())
            .unwrap()
            .verify(&trusted(&[PETER_VKEY]))
            .unwrap();
        assert_eq!((v.verified().len(), v.unverified().len()), (1, 1));
        // Same name, other key ID: ignored, not an error.
        let renamed = format!("{TEXT}\n{}", PETER_SIG.replace("x08g", "xxxx"));
        assert!(matches!(
            Note::parse(renamed.as_bytes())
                .unwrap()
                .verify(&trusted(&[PETER_VKEY])),
            Err(TlogError::NoTrustedSignature { .. })
        ));
    }

    #[test]
    fn go_malformed_notes_are_refused() {
        let too_many = format!("{TEXT}\n{}", PETER_SIG.repeat(101));
        for bad in [
            TEXT.to_string(),
            format!("{TEXT}\n"),
            format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
            format!("\x01{TEXT}\n{PETER_SIG}"),
            format!(
                "{TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
            ),
            format!("{TEXT}\n{PETER_SIG}Unexpected line.\n"),
            too_many,
        ] {
            let err = Note::parse(bad.as_bytes()).unwrap_err();
            assert_eq!(err.blame(), crate::error::Blame::Input, "{bad:?}");
        }
        assert!(Note::parse(b"\xff\n\n\xe2\x80\x94 a AAAAAAA=\n").is_err());
    }

    #[test]
    fn go_signature_is_reproduced() {
        // PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz:
        // type byte 0x01, then the Ed25519 seed.
        let seed = B64
            .decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
            .unwrap();
        let seed: [u8; 32] = seed[1..].try_into().unwrap();
        let key = PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed));
        let signer = NoteSignerKey::new(KeyName::new("PeterNeumann").unwrap(), key).unwrap();
        assert_eq!(signer.verifier().to_vkey().unwrap(), PETER_VKEY);
        let mut note = Note::new(TEXT).unwrap();
        note.sign(&signer).unwrap();
        assert_eq!(
            String::from_utf8(note.to_bytes()).unwrap(),
            format!("{TEXT}\n{PETER_SIG}")
        );
        assert!(Note::new("abc").is_err());
    }

    #[test]
    fn ecdsa_and_rsa_keys() {
        let key = PrivateKey::generate_p256().unwrap();
        let public = key.public_key();
        let signer = NoteSignerKey::new(KeyName::new("example.com/log").unwrap(), key).unwrap();
        assert_eq!(signer.key_id(), spki_key_id(&public));
        let vkey = signer.verifier().to_vkey().unwrap();
        let parsed = NoteVerifierKey::from_vkey(&vkey).unwrap();
        assert_eq!(&parsed, signer.verifier());
        let mut note = Note::new("example.com/log\n1\nAAAA\n").unwrap();
        note.sign(&signer).unwrap();
        let v = Note::parse(&note.to_bytes())
            .unwrap()
            .verify(&NoteVerifiers::new(vec![Box::new(parsed)]).unwrap())
            .unwrap();
        assert_eq!(v.verified().len(), 1);
        assert!(NoteVerifierKey::rsa(KeyName::new("x").unwrap(), public.clone()).is_err());
        assert!(
            NoteVerifierKey::ecdsa(
                KeyName::new("x").unwrap(),
                PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[1; 32])).public_key()
            )
            .is_err()
        );
        let dup = NoteVerifiers::new(vec![
            Box::new(NoteVerifierKey::from_vkey(PETER_VKEY).unwrap()),
            Box::new(NoteVerifierKey::from_vkey(PETER_VKEY).unwrap()),
        ]);
        assert!(dup.is_err());
    }

    proptest! {
        #[test]
        fn note_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), text in "[a-z\n— +/=A-Z0-9]{0,200}") {
            let _ = Note::parse(&bytes);
            let _ = Note::parse(text.as_bytes());
            let _ = NoteVerifierKey::from_vkey(&text);
            if let Ok(n) = Note::parse(text.as_bytes()) {
                let _ = n.verify(&trusted(&[PETER_VKEY]));
                prop_assert_eq!(Note::parse(&n.to_bytes()).unwrap(), n);
            }
        }
    }
}
