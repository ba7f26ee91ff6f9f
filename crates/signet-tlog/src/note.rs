//! C2SP signed notes: text plus signature lines `— <name> base64(keyid ‖ sig)`.
//!
//! Parsing is strict and capped ([`MAX_NOTE_BYTES`], [`MAX_NOTE_SIGNATURES`]).
//! Verification follows the spec: a signature whose key name *and* key ID
//! match a trusted key must verify, or the note is rejected; signatures by
//! unknown keys (witness cosignatures, rotated keys) are set aside, not
//! errors; at least one trusted signature must verify.

use std::collections::HashSet;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::error::TlogError;

/// Largest signed note signet reads (checkpoints are a few hundred bytes).
pub const MAX_NOTE_BYTES: usize = 1 << 20;
/// Most signature lines signet reads from one note (the spec asks for at least 16).
pub const MAX_NOTE_SIGNATURES: usize = 100;
/// Longest key name signet accepts.
pub const MAX_KEY_NAME_BYTES: usize = 255;

const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// A key name: non-empty, at most 255 bytes, no Unicode spaces, no `+`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyName(String);

impl KeyName {
    /// Validates a key name.
    pub fn new(name: impl Into<String>) -> Result<Self, TlogError> {
        let name = name.into();
        if name.is_empty()
            || name.len() > MAX_KEY_NAME_BYTES
            || name.contains('+')
            || name.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(TlogError::malformed(
                "key name",
                format!(
                    "{name:?}: must be 1 to 255 bytes without spaces, control characters or '+'"
                ),
            ));
        }
        Ok(Self(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The 32-bit key ID in front of every signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub u32);

impl KeyId {
    /// The first four bytes of a SHA-256 digest, big-endian.
    pub fn from_digest_prefix(digest: &[u8]) -> Self {
        let mut b = [0u8; 4];
        for (dst, src) in b.iter_mut().zip(digest) {
            *dst = *src;
        }
        Self(u32::from_be_bytes(b))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// One signature line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NoteSignature {
    name: KeyName,
    key_id: KeyId,
    signature: Vec<u8>,
}

impl NoteSignature {
    /// The key name on the line.
    pub fn name(&self) -> &KeyName {
        &self.name
    }
    /// The key ID (the first four signature bytes).
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }
    /// The signature bytes after the key ID.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
    /// `name+hexid`, as messages name keys.
    pub fn key_label(&self) -> String {
        format!("{}+{}", self.name, self.key_id)
    }

    fn line(&self) -> String {
        let mut bytes = self.key_id.0.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.signature);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, B64.encode(bytes))
    }
}

/// A key that checks note signatures.
pub trait NoteVerifier: Send + Sync {
    /// The key name.
    fn name(&self) -> &KeyName;
    /// The key ID.
    fn key_id(&self) -> KeyId;
    /// Whether `signature` (without the key ID) is valid over `text`.
    fn verify(&self, text: &[u8], signature: &[u8]) -> bool;
}

/// A key that signs notes.
pub trait NoteSigner: Send + Sync {
    /// The key name.
    fn name(&self) -> &KeyName;
    /// The key ID.
    fn key_id(&self) -> KeyId;
    /// Signs `text`; returns the signature without the key ID.
    fn sign(&self, text: &[u8]) -> Result<Vec<u8>, TlogError>;
}

/// The trusted keys for verifying notes; no two share a name and key ID.
#[derive(Default)]
pub struct NoteVerifiers {
    keys: Vec<Box<dyn NoteVerifier>>,
}

impl fmt::Debug for NoteVerifiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteVerifiers({})", self.labels())
    }
}

impl NoteVerifiers {
    /// A set of trusted keys. Two keys with the same name and key ID are
    /// refused: a signature could not say which of them made it.
    pub fn new(keys: Vec<Box<dyn NoteVerifier>>) -> Result<Self, TlogError> {
        let mut seen = HashSet::new();
        for k in &keys {
            if !seen.insert((k.name().clone(), k.key_id())) {
                return Err(TlogError::Misuse(format!(
                    "two trusted note keys are both named {}+{}",
                    k.name(),
                    k.key_id()
                )));
            }
        }
        Ok(Self { keys })
    }

    fn find(&self, name: &KeyName, id: KeyId) -> Option<&dyn NoteVerifier> {
        self.keys
            .iter()
            .find(|k| k.name() == name && k.key_id() == id)
            .map(|k| k.as_ref())
    }

    fn labels(&self) -> String {
        let labels: Vec<String> = self
            .keys
            .iter()
            .map(|k| format!("{}+{}", k.name(), k.key_id()))
            .collect();
        if labels.is_empty() {
            "none".into()
        } else {
            labels.join(", ")
        }
    }
}

/// A note as read, before any signature is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

/// A note with at least one signature by a trusted key that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    text: String,
    verified: Vec<NoteSignature>,
    unverified: Vec<NoteSignature>,
}

impl VerifiedNote {
    /// The signed text (ending in a newline).
    pub fn text(&self) -> &str {
        &self.text
    }
    /// Signatures by trusted keys, each verified.
    pub fn verified(&self) -> &[NoteSignature] {
        &self.verified
    }
    /// Signatures by keys not trusted here (cosignatures, other keys), unchecked.
    pub fn unverified(&self) -> &[NoteSignature] {
        &self.unverified
    }
}

fn check_text(text: &str, what: &'static str) -> Result<(), TlogError> {
    if let Some(c) = text.chars().find(|c| c.is_control() && *c != '\n') {
        return Err(TlogError::malformed(
            what,
            format!("contains control character {c:?}"),
        ));
    }
    Ok(())
}

impl Note {
    /// An unsigned note. The text must end in a newline and contain no
    /// control characters other than newlines.
    pub fn new(text: impl Into<String>) -> Result<Self, TlogError> {
        let text = text.into();
        if !text.ends_with('\n') {
            return Err(TlogError::malformed(
                "note text",
                "does not end with a newline",
            ));
        }
        check_text(&text, "note text")?;
        if text.len() > MAX_NOTE_BYTES {
            return Err(TlogError::TooLarge {
                what: "note text",
                size: text.len(),
                limit: MAX_NOTE_BYTES,
            });
        }
        Ok(Self {
            text,
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note strictly.
    pub fn parse(bytes: &[u8]) -> Result<Self, TlogError> {
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(TlogError::TooLarge {
                what: "signed note",
                size: bytes.len(),
                limit: MAX_NOTE_BYTES,
            });
        }
        let bad = |reason: &str| TlogError::malformed("signed note", reason);
        let s = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8"))?;
        check_text(s, "signed note")?;
        let split = s
            .rfind("\n\n")
            .ok_or_else(|| bad("no blank line before the signatures"))?;
        let (text, sigs) = (&s[..split + 1], &s[split + 2..]);
        let sigs = sigs
            .strip_suffix('\n')
            .ok_or_else(|| bad("does not end with a signature line and newline"))?;
        if sigs.is_empty() {
            return Err(bad("has no signature lines"));
        }
        let mut signatures = Vec::new();
        for line in sigs.split('\n') {
            if signatures.len() == MAX_NOTE_SIGNATURES {
                return Err(bad(&format!(
                    "more than {MAX_NOTE_SIGNATURES} signature lines"
                )));
            }
            let body = line.strip_prefix(SIGNATURE_PREFIX).ok_or_else(|| {
                bad("a signature line does not start with an em dash and a space")
            })?;
            let (name, b64) = body
                .split_once(' ')
                .ok_or_else(|| bad("a signature line has no space between name and signature"))?;
            let name = KeyName::new(name)?;
            let raw = B64
                .decode(b64)
                .map_err(|_| bad(&format!("signature by {name} is not standard base64")))?;
            let (id, signature) = raw
                .split_first_chunk::<4>()
                .filter(|(_, rest)| !rest.is_empty())
                .ok_or_else(|| bad(&format!("signature by {name} is shorter than 5 bytes")))?;
            signatures.push(NoteSignature {
                name,
                key_id: KeyId(u32::from_be_bytes(*id)),
                signature: signature.to_vec(),
            });
        }
        Ok(Self {
            text: text.to_string(),
            signatures,
        })
    }

    /// The text (ending in a newline).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Every signature line, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Signs the text with `signer`, replacing an earlier signature by the
    /// same key.
    pub fn sign(&mut self, signer: &dyn NoteSigner) -> Result<(), TlogError> {
        let signature = signer.sign(self.text.as_bytes())?;
        if signature.is_empty() {
            return Err(TlogError::Misuse(format!(
                "signer {} returned an empty signature",
                signer.name()
            )));
        }
        let sig = NoteSignature {
            name: signer.name().clone(),
            key_id: signer.key_id(),
            signature,
        };
        self.signatures
            .retain(|s| !(s.name == sig.name && s.key_id == sig.key_id));
        if self.signatures.len() == MAX_NOTE_SIGNATURES {
            return Err(TlogError::Misuse(format!(
                "a note carries at most {MAX_NOTE_SIGNATURES} signatures"
            )));
        }
        self.signatures.push(sig);
        Ok(())
    }

    /// The signed note's bytes: text, blank line, signature lines.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.line());
        }
        out.into_bytes()
    }

    /// Checks the signatures against `trusted`.
    ///
    /// A signature whose name and key ID match a trusted key must verify;
    /// repeats of one key's signature are checked once; signatures by other
    /// keys are returned unverified. Fails unless a trusted key signed.
    pub fn verify(&self, trusted: &NoteVerifiers) -> Result<VerifiedNote, TlogError> {
        let mut verified: Vec<NoteSignature> = Vec::new();
        let mut unverified: Vec<NoteSignature> = Vec::new();
        for sig in &self.signatures {
            match trusted.find(&sig.name, sig.key_id) {
                Some(key) => {
                    if verified
                        .iter()
                        .any(|v| v.name == sig.name && v.key_id == sig.key_id)
                    {
                        continue;
                    }
                    if !key.verify(self.text.as_bytes(), &sig.signature) {
                        return Err(TlogError::InvalidSignature {
                            key: sig.key_label(),
                        });
                    }
                    verified.push(sig.clone());
                }
                None => {
                    if !unverified.contains(sig) {
                        unverified.push(sig.clone());
                    }
                }
            }
        }
        if verified.is_empty() {
            let found: Vec<String> = self
                .signatures
                .iter()
                .map(NoteSignature::key_label)
                .collect();
            return Err(TlogError::NoTrustedSignature {
                trusted: trusted.labels(),
                found: found.join(", "),
            });
        }
        Ok(VerifiedNote {
            text: self.text.clone(),
            verified,
            unverified,
        })
    }

    /// Checks the signatures the way Rekor v1's legacy checkpoint verifier
    /// does: keys are matched by key ID alone (Rekor puts its host name on
    /// the signature line, not the checkpoint origin), and every matching
    /// signature must verify. Lines with another key ID are set aside.
    pub fn verify_by_key_id(&self, key: &dyn NoteVerifier) -> Result<VerifiedNote, TlogError> {
        let mut verified = Vec::new();
        let mut unverified = Vec::new();
        for sig in &self.signatures {
            if sig.key_id != key.key_id() {
                unverified.push(sig.clone());
                continue;
            }
            if !key.verify(self.text.as_bytes(), &sig.signature) {
                return Err(TlogError::InvalidSignature {
                    key: sig.key_label(),
                });
            }
            verified.push(sig.clone());
        }
        if verified.is_empty() {
            let found: Vec<String> = self
                .signatures
                .iter()
                .map(NoteSignature::key_label)
                .collect();
            return Err(TlogError::NoTrustedSignature {
                trusted: format!("key id {}", key.key_id()),
                found: found.join(", "),
            });
        }
        Ok(VerifiedNote {
            text: self.text.clone(),
            verified,
            unverified,
        })
    }
}
