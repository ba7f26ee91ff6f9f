//! Checkpoints (C2SP tlog-checkpoint): `origin\nsize\nbase64(root)\n[extension lines]`
//! as the text of a signed note, and the two ways signet verifies them:
//! C2SP logs (Rekor v2, tiles) through [`CheckpointVerifier`], Rekor v1
//! through [`RekorV1CheckpointVerifier`].

use signet_core::keys::PublicKey;

use crate::error::TlogError;
use crate::hash::Hash;
use crate::note::{KeyName, Note, NoteSigner, NoteVerifier, NoteVerifiers, VerifiedNote};
use crate::note_keys::NoteVerifierKey;

/// Most extension lines signet reads from a checkpoint.
pub const MAX_EXTENSION_LINES: usize = 64;

/// A tree head: which log, how many entries, which root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root_hash: Hash,
    extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root_hash: Hash) -> Result<Self, TlogError> {
        let origin = origin.into();
        if origin.is_empty() || origin.contains('\n') || origin.chars().any(char::is_control) {
            return Err(TlogError::Misuse(format!(
                "checkpoint origin {origin:?} must be one non-empty line"
            )));
        }
        Ok(Self {
            origin,
            size,
            root_hash,
            extensions: Vec::new(),
        })
    }

    /// Adds an extension line (Rekor v1 uses them, e.g. `Timestamp: …`).
    pub fn with_extension(mut self, line: impl Into<String>) -> Result<Self, TlogError> {
        let line = line.into();
        if line.is_empty() || line.contains('\n') || line.chars().any(char::is_control) {
            return Err(TlogError::Misuse(format!(
                "extension line {line:?} must be one non-empty line"
            )));
        }
        if self.extensions.len() == MAX_EXTENSION_LINES {
            return Err(TlogError::Misuse(format!(
                "at most {MAX_EXTENSION_LINES} extension lines"
            )));
        }
        self.extensions.push(line);
        Ok(self)
    }

    /// Parses the note text of a checkpoint, strictly.
    pub fn from_text(text: &str) -> Result<Self, TlogError> {
        let bad = |reason: String| TlogError::malformed("checkpoint", reason);
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("text does not end with a newline".into()))?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(bad(
                "fewer than three lines (origin, size, root hash)".into()
            ));
        };
        if origin.is_empty() {
            return Err(bad("empty origin line".into()));
        }
        let size_ok = !size.is_empty()
            && size.len() <= 20
            && size.bytes().all(|b| b.is_ascii_digit())
            && (size == "0" || !size.starts_with('0'));
        let size: u64 = size.parse().ok().filter(|_| size_ok).ok_or_else(|| {
            bad(format!(
                "tree size {size:?} is not a decimal number without leading zeros"
            ))
        })?;
        let root_hash = Hash::from_base64(root).map_err(|e| bad(format!("root hash: {e}")))?;
        let mut extensions = Vec::new();
        for line in lines {
            if line.is_empty() {
                return Err(bad("empty extension line".into()));
            }
            if extensions.len() == MAX_EXTENSION_LINES {
                return Err(bad(format!(
                    "more than {MAX_EXTENSION_LINES} extension lines"
                )));
            }
            extensions.push(line.to_string());
        }
        Ok(Self {
            origin: origin.to_string(),
            size,
            root_hash,
            extensions,
        })
    }

    /// The note text.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root_hash.to_base64()
        );
        for line in &self.extensions {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// Signs the checkpoint; returns the signed note's bytes.
    pub fn sign(&self, signers: &[&dyn NoteSigner]) -> Result<Vec<u8>, TlogError> {
        let mut note = Note::new(self.to_text())?;
        for signer in signers {
            note.sign(*signer)?;
        }
        Ok(note.to_bytes())
    }

    /// The origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }
    /// The tree size.
    pub fn size(&self) -> u64 {
        self.size
    }
    /// The root hash.
    pub fn root_hash(&self) -> &Hash {
        &self.root_hash
    }
    /// The extension lines.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }
}

/// A checkpoint whose signature verified, with the note's signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The tree head.
    pub checkpoint: Checkpoint,
    /// The verified and the set-aside signatures.
    pub note: VerifiedNote,
}

/// Verifies the checkpoints of one C2SP log: origin plus trusted keys,
/// built once. Cosignatures and unknown signature lines are set aside.
#[derive(Debug)]
pub struct CheckpointVerifier {
    origin: String,
    keys: NoteVerifiers,
}

impl CheckpointVerifier {
    /// Trusts `keys` for checkpoints whose origin is `origin`.
    pub fn new(origin: impl Into<String>, keys: NoteVerifiers) -> Self {
        Self {
            origin: origin.into(),
            keys,
        }
    }

    /// The log's own key, named after the origin (the common case).
    pub fn for_log_key(origin: &str, key: PublicKey) -> Result<Self, TlogError> {
        let name = KeyName::new(origin)?;
        let key = NoteVerifierKey::for_public_key(name, key)?;
        Ok(Self::new(origin, NoteVerifiers::new(vec![Box::new(key)])?))
    }

    /// Parses and verifies a signed checkpoint.
    pub fn verify(&self, signed_note: &[u8]) -> Result<SignedCheckpoint, TlogError> {
        let note = Note::parse(signed_note)?;
        let checkpoint = Checkpoint::from_text(note.text())?;
        if checkpoint.origin != self.origin {
            return Err(TlogError::OriginMismatch {
                expected: self.origin.clone(),
                actual: checkpoint.origin,
            });
        }
        let note = note.verify(&self.keys)?;
        Ok(SignedCheckpoint { checkpoint, note })
    }
}

/// The origin of a Rekor v1 checkpoint: `"<hostname> - <treeID>"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RekorV1Origin {
    /// The log's host name (also the name on its signature line).
    pub hostname: String,
    /// The Trillian tree ID.
    pub tree_id: u64,
}

impl RekorV1Origin {
    /// Parses `"<hostname> - <treeID>"` (sigstore-go's `.* - [0-9]+$`).
    pub fn parse(origin: &str) -> Option<Self> {
        let (hostname, tree_id) = origin.rsplit_once(" - ")?;
        if hostname.is_empty() || tree_id.is_empty() || !tree_id.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        Some(Self {
            hostname: hostname.to_string(),
            tree_id: tree_id.parse().ok()?,
        })
    }

    /// `"<hostname> - <treeID>"`.
    pub fn to_origin(&self) -> String {
        format!("{} - {}", self.hostname, self.tree_id)
    }
}

/// Verifies Rekor v1 checkpoints with the log's public key.
///
/// Rekor v1's quirks: the origin is `"<hostname> - <treeID>"` while the
/// signature line carries the bare host name; the key ID is
/// `SHA-256(SPKI)[:4]` whatever the key type; ECDSA signatures are DER over
/// SHA-256 of the text. Signatures are therefore matched by key ID alone.
/// (Rekor's own legacy verifier also fails on any line with another key
/// ID, so a log serving v1 clients must not add cosignatures; signet sets
/// such lines aside, as C2SP asks.)
#[derive(Debug)]
pub struct RekorV1CheckpointVerifier {
    key: NoteVerifierKey,
}

impl RekorV1CheckpointVerifier {
    /// Trusts the log key `key` (ECDSA or Ed25519).
    pub fn new(key: PublicKey) -> Result<Self, TlogError> {
        // The name is never compared; the key ID is SHA-256(SPKI)[:4].
        let name = KeyName::new("rekor")?;
        let key = match key {
            PublicKey::Ed25519(_) => {
                let id = crate::note_keys::spki_key_id(&key);
                NoteVerifierKey::with_key_id(name, key, id)
            }
            PublicKey::Rsa(_) => {
                return Err(TlogError::Misuse(
                    "RSA Rekor v1 log keys are not supported".into(),
                ));
            }
            other => NoteVerifierKey::ecdsa(name, other)?,
        };
        Ok(Self { key })
    }

    /// Parses and verifies a Rekor v1 signed checkpoint.
    pub fn verify(&self, signed_note: &[u8]) -> Result<SignedCheckpoint, TlogError> {
        let note = Note::parse(signed_note)?;
        let checkpoint = Checkpoint::from_text(note.text())?;
        let note = note.verify_by_key_id(&self.key as &dyn NoteVerifier)?;
        Ok(SignedCheckpoint { checkpoint, note })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::KeyName;
    use crate::note_keys::NoteSignerKey;
    use proptest::prelude::*;
    use signet_core::keys::PrivateKey;

    fn ed25519(seed: u8) -> PrivateKey {
        PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
    }

    #[test]
    fn sign_and_verify_both_forms() {
        let cp = Checkpoint::new("log.example/a", 5, crate::leaf_hash(b"r"))
            .unwrap()
            .with_extension("Timestamp: 1")
            .unwrap();
        let signer =
            NoteSignerKey::new(KeyName::new("log.example/a").unwrap(), ed25519(1)).unwrap();
        let note = cp.sign(&[&signer]).unwrap();
        let verifier =
            CheckpointVerifier::for_log_key("log.example/a", ed25519(1).public_key()).unwrap();
        let signed = verifier.verify(&note).unwrap();
        assert_eq!(signed.checkpoint, cp);
        // A signature by a key of the same name but another key fails to match.
        let other =
            CheckpointVerifier::for_log_key("log.example/a", ed25519(2).public_key()).unwrap();
        assert!(matches!(
            other.verify(&note),
            Err(TlogError::NoTrustedSignature { .. })
        ));

        // Rekor v1 form: host name on the signature line, SPKI key ID.
        let origin = RekorV1Origin {
            hostname: "rekor.local".into(),
            tree_id: 42,
        };
        let v1 = Checkpoint::new(origin.to_origin(), 3, crate::leaf_hash(b"x")).unwrap();
        let key = PrivateKey::generate_p256().unwrap();
        let public = key.public_key();
        let v1_signer = NoteSignerKey::rekor_v1(KeyName::new("rekor.local").unwrap(), key).unwrap();
        let note = v1.sign(&[&v1_signer]).unwrap();
        let signed = RekorV1CheckpointVerifier::new(public)
            .unwrap()
            .verify(&note)
            .unwrap();
        assert_eq!(signed.checkpoint.origin(), "rekor.local - 42");
        let ed_v1 =
            NoteSignerKey::rekor_v1(KeyName::new("rekor.local").unwrap(), ed25519(3)).unwrap();
        let note = v1.sign(&[&ed_v1]).unwrap();
        RekorV1CheckpointVerifier::new(ed25519(3).public_key())
            .unwrap()
            .verify(&note)
            .unwrap();
        assert!(RekorV1Origin::parse("rekor.local").is_none());
        assert!(RekorV1Origin::parse(" - 1").is_none());
        assert!(RekorV1Origin::parse("a - 1x").is_none());
        assert!(Checkpoint::new("two\nlines", 1, crate::empty_root()).is_err());
    }

    proptest! {
        #[test]
        fn checkpoint_parsers_never_panic(text in "[a-z0-9 \n+/=-]{0,120}", bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Checkpoint::from_text(&text);
            let _ = RekorV1Origin::parse(&text);
            let verifier = CheckpointVerifier::for_log_key("o", ed25519(1).public_key()).unwrap();
            let _ = verifier.verify(&bytes);
            let _ = verifier.verify(text.as_bytes());
            let _ = RekorV1CheckpointVerifier::new(ed25519(1).public_key()).unwrap().verify(&bytes);
            if let Ok(cp) = Checkpoint::from_text(&text) {
                prop_assert_eq!(cp.to_text(), text);
            }
        }
    }
}
