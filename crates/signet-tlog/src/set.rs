//! Rekor v1 signed entry timestamps (SETs, "inclusion promises").
//!
//! The log signs the RFC 8785 (JCS) form of
//! `{"body":"<base64 entry>","integratedTime":<s>,"logID":"<hex>","logIndex":<n>}`
//! with ECDSA (DER, SHA-256), canonicalized by `signet_core::jcs` (the
//! project's one RFC 8785 implementation; integers beyond ±2^53, where JCS
//! would switch to a float spelling, are refused).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::keys::{PrivateKey, PublicKey};

use crate::error::TlogError;

/// Largest integer JCS writes exactly (2^53 − 1).
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// What a SET covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetPayload {
    /// The canonicalized entry body (the Merkle leaf).
    pub body: Vec<u8>,
    /// When the log integrated the entry, in Unix seconds.
    pub integrated_time: i64,
    /// The log ID: SHA-256 of the log key's SPKI.
    pub log_id: [u8; 32],
    /// The entry's index in the log (Rekor's global, virtual index).
    pub log_index: i64,
}

fn safe_integer(name: &str, value: i64) -> Result<i64, TlogError> {
    if !(-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&value) {
        return Err(TlogError::malformed(
            "signed entry timestamp payload",
            format!("{name} {value} is beyond the exact JSON integer range"),
        ));
    }
    Ok(value)
}

impl SetPayload {
    /// The RFC 8785 canonical JSON bytes the log signs.
    pub fn canonical_json(&self) -> Result<Vec<u8>, TlogError> {
        let payload = serde_json::json!({
            "body": B64.encode(&self.body),
            "integratedTime": safe_integer("integratedTime", self.integrated_time)?,
            "logID": hex::encode(self.log_id),
            "logIndex": safe_integer("logIndex", self.log_index)?,
        });
        signet_core::jcs::canonicalize(&payload)
            .map_err(|e| TlogError::malformed("signed entry timestamp payload", e))
    }

    /// Signs the payload with the log's ECDSA key; returns the DER signature.
    pub fn sign(&self, log_key: &PrivateKey) -> Result<Vec<u8>, TlogError> {
        if !matches!(log_key, PrivateKey::EcdsaP256(_) | PrivateKey::EcdsaP384(_)) {
            return Err(TlogError::Misuse(format!(
                "signed entry timestamps are ECDSA; the log key is {}",
                log_key.kind()
            )));
        }
        log_key
            .sign(&self.canonical_json()?)
            .map_err(|e| TlogError::Misuse(format!("signing the entry timestamp failed: {e}")))
    }

    /// Verifies a SET (DER ECDSA) against the log's public key.
    pub fn verify(&self, signature: &[u8], log_key: &PublicKey) -> Result<(), TlogError> {
        let fail = |reason: String| TlogError::SignedEntryTimestamp {
            log_index: self.log_index,
            reason,
        };
        if !matches!(log_key, PublicKey::EcdsaP256(_) | PublicKey::EcdsaP384(_)) {
            return Err(fail(format!(
                "the log key is {}, and SETs are ECDSA",
                log_key.kind()
            )));
        }
        log_key
            .verify(&self.canonical_json()?, signature)
            .map_err(|e| fail(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form() {
        let p = SetPayload {
            body: b"{}".to_vec(),
            integrated_time: 1,
            log_id: [0xab; 32],
            log_index: 0,
        };
        let json = String::from_utf8(p.canonical_json().unwrap()).unwrap();
        assert_eq!(
            json,
            format!(
                "{{\"body\":\"e30=\",\"integratedTime\":1,\"logID\":\"{}\",\"logIndex\":0}}",
                "ab".repeat(32)
            )
        );
        // Member order and spelling agree with a general JSON reader.
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["logIndex"], 0);
        let big = SetPayload {
            log_index: MAX_SAFE_INTEGER + 1,
            ..p
        };
        assert!(big.canonical_json().is_err());
    }

    #[test]
    fn sign_and_verify() {
        let key = PrivateKey::generate_p256().unwrap();
        let p = SetPayload {
            body: b"entry".to_vec(),
            integrated_time: 1_700_000_000,
            log_id: [1; 32],
            log_index: 42,
        };
        let sig = p.sign(&key).unwrap();
        p.verify(&sig, &key.public_key()).unwrap();
        let other = SetPayload {
            log_index: 43,
            ..p.clone()
        };
        let err = other.verify(&sig, &key.public_key()).unwrap_err();
        assert_eq!(err.blame(), crate::error::Blame::Untrusted);
        let ed = PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[3; 32]));
        assert!(p.sign(&ed).is_err());
        assert!(p.verify(&sig, &ed.public_key()).is_err());
    }
}
