//! What a client asks a Rekor log to record.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use signet_core::Digest;
use signet_core::FormatError;
use signet_core::key_details::PublicKeyDetails;
use signet_core::rekor::{LoggedEntry, ProposedEntry, V002Verifier};

/// A proposed Rekor entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Proposal {
    /// `hashedrekord` 0.0.1 (Rekor v1): a signature over a SHA-256 digest,
    /// with the PEM public key or certificate that verifies it.
    HashedRekordV001 {
        /// The signed artifact's digest.
        digest: Digest,
        /// The raw signature.
        signature: Vec<u8>,
        /// The PEM key or leaf certificate.
        verifier_pem: Vec<u8>,
    },
    /// `dsse` 0.0.1 (Rekor v1): a DSSE envelope and the PEM keys or
    /// certificates that verify its signatures.
    DsseV001 {
        /// The envelope's JSON.
        envelope_json: String,
        /// One PEM key or certificate per signature.
        verifiers_pem: Vec<Vec<u8>>,
    },
    /// `hashedrekord` 0.0.2 (Rekor v2).
    HashedRekordV002 {
        /// The signed digest (SHA-256 for the keys signet signs with).
        digest: Digest,
        /// The raw signature.
        signature: Vec<u8>,
        /// The DER key or certificate.
        verifier: V002Verifier,
        /// The key's algorithm.
        key_details: PublicKeyDetails,
    },
}

impl Proposal {
    /// The Rekor v1 request body, if this is a v1 entry kind.
    pub fn v1_request(&self) -> Option<Value> {
        match self {
            Self::HashedRekordV001 {
                digest,
                signature,
                verifier_pem,
            } => Some(json!({
                "apiVersion": "0.0.1",
                "kind": "hashedrekord",
                "spec": {
                    "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
                    "signature": {
                        "content": B64.encode(signature),
                        "publicKey": {"content": B64.encode(verifier_pem)},
                    },
                },
            })),
            Self::DsseV001 {
                envelope_json,
                verifiers_pem,
            } => Some(json!({
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": {"proposedContent": {
                    "envelope": envelope_json,
                    "verifiers": verifiers_pem.iter().map(|v| B64.encode(v)).collect::<Vec<_>>(),
                }},
            })),
            Self::HashedRekordV002 { .. } => None,
        }
    }

    /// The Rekor v2 request body, if this is a v2 entry kind.
    pub fn v2_request(&self) -> Option<Value> {
        match self {
            Self::HashedRekordV002 {
                digest,
                signature,
                verifier,
                key_details,
            } => {
                let verifier_json = match verifier {
                    V002Verifier::PublicKey(der) => {
                        json!({"publicKey": {"rawBytes": B64.encode(der)}, "keyDetails": key_details.proto_name()})
                    }
                    V002Verifier::X509Certificate(der) => {
                        json!({"x509Certificate": {"rawBytes": B64.encode(der)}, "keyDetails": key_details.proto_name()})
                    }
                };
                Some(json!({"hashedRekordRequestV002": {
                    "digest": B64.encode(digest.raw()),
                    "signature": {"content": B64.encode(signature), "verifier": verifier_json},
                }}))
            }
            _ => None,
        }
    }

    /// The entry as the log must record it, read back through signet's own
    /// model of the entry kind: what the logged body is compared with.
    pub fn expected_entry(&self) -> Result<LoggedEntry, FormatError> {
        let proposed = match (self.v1_request(), self.v2_request()) {
            (Some(v1), _) => ProposedEntry::parse_v1(v1.to_string().as_bytes())?,
            (None, Some(v2)) => ProposedEntry::parse_v2(v2.to_string().as_bytes())?,
            // Every variant has one request form.
            (None, None) => ProposedEntry::parse_v1(b"{}")?,
        };
        Ok(proposed.entry().clone())
    }

    /// `kind/version`, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::HashedRekordV001 { .. } => "hashedrekord 0.0.1",
            Self::DsseV001 { .. } => "dsse 0.0.1",
            Self::HashedRekordV002 { .. } => "hashedrekord 0.0.2",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use signet_core::keys::PrivateKey;

    #[test]
    fn hashedrekord_v001_requests_read_back_as_the_same_entry() {
        let key = PrivateKey::generate_p256().unwrap();
        let digest = Digest::sha256_of(b"artifact");
        let signature = key.sign(b"artifact").unwrap();
        let proposal = Proposal::HashedRekordV001 {
            digest: digest.clone(),
            signature: signature.clone(),
            verifier_pem: key.public_key().to_pem().into_bytes(),
        };
        let request = proposal.v1_request().unwrap();
        assert_eq!(request["spec"]["data"]["hash"]["value"], digest.hex());
        let LoggedEntry::HashedRekordV001(e) = proposal.expected_entry().unwrap() else {
            panic!("wrong kind");
        };
        assert_eq!(e.signature, signature);
        assert!(proposal.v2_request().is_none());
        // The proposal is what Rekor would accept: its signature verifies.
        ProposedEntry::parse_v1(request.to_string().as_bytes())
            .unwrap()
            .verify_signatures()
            .unwrap();
    }

    #[test]
    fn hashedrekord_v002_requests_have_rekor_v2_field_names() {
        let key = PrivateKey::generate_p256().unwrap();
        let digest = Digest::sha256_of(b"artifact");
        let proposal = Proposal::HashedRekordV002 {
            digest,
            signature: key.sign(b"artifact").unwrap(),
            verifier: V002Verifier::PublicKey(key.public_key().to_spki_der()),
            key_details: PublicKeyDetails::PkixEcdsaP256Sha256,
        };
        let request = proposal.v2_request().unwrap();
        let inner = &request["hashedRekordRequestV002"];
        assert_eq!(
            inner["signature"]["verifier"]["keyDetails"],
            "PKIX_ECDSA_P256_SHA_256"
        );
        assert!(inner["signature"]["verifier"]["publicKey"]["rawBytes"].is_string());
        let parsed = ProposedEntry::parse_v2(request.to_string().as_bytes()).unwrap();
        parsed.verify_signatures().unwrap();
        assert!(matches!(
            proposal.expected_entry().unwrap(),
            LoggedEntry::HashedRekordV002(_)
        ));
    }
}
