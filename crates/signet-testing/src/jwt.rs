//! ID tokens as an OIDC provider signs them: ES256 and RS256 keys, their
//! public JWKs, and compact JWS serialisation.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Map, Value, json};
use sha2::Sha256;
use signature::{SignatureEncoding as _, Signer as _};

use crate::error::TestingError;

/// RSA modulus size of generated RS256 keys.
const RSA_BITS: usize = 2048;

/// A JWS signature algorithm an issuer signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256 (`ES256`), the usual CI token algorithm.
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (`RS256`), what GitHub and Forgejo use by default.
    Rs256,
}

impl Algorithm {
    /// The JOSE name (`ES256`, `RS256`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }

    /// Parses a JOSE name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "ES256" => Some(Self::Es256),
            "RS256" => Some(Self::Rs256),
            _ => None,
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

enum KeyMaterial {
    Es256(p256::ecdsa::SigningKey),
    Rs256 {
        signer: Box<rsa::pkcs1v15::SigningKey<Sha256>>,
        modulus: Vec<u8>,
        exponent: Vec<u8>,
    },
}

/// A signing key with its key ID.
pub struct JwtKey {
    kid: String,
    material: KeyMaterial,
}

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        write!(f, "JwtKey({} {})", self.algorithm(), self.kid)
    }
}

impl JwtKey {
    /// A fresh key from the operating system's randomness.
    pub fn generate(algorithm: Algorithm, kid: impl Into<String>) -> Result<Self, TestingError> {
        use p256::elliptic_curve::Generate as _;
        use rsa::traits::PublicKeyParts as _;
        let material = match algorithm {
            Algorithm::Es256 => KeyMaterial::Es256(
                p256::ecdsa::SigningKey::try_generate_from_rng(&mut getrandom::SysRng)
                    .map_err(|e| TestingError::Key(format!("generating a P-256 key: {e}")))?,
            ),
            Algorithm::Rs256 => {
                let key = rsa::PrivateKey::new(&mut getrandom::SysRng, RSA_BITS)
                    .map_err(|e| TestingError::Key(format!("generating an RSA key: {e}")))?;
                let modulus = strip_leading_zeros(&key.n_bytes());
                let exponent = strip_leading_zeros(&key.e_bytes());
                KeyMaterial::Rs256 {
                    signer: Box::new(rsa::pkcs1v15::SigningKey::<Sha256>::new(key)),
                    modulus,
                    exponent,
                }
            }
        };
        Ok(Self {
            kid: kid.into(),
            material,
        })
    }

    /// The key ID (`kid`) in token headers and the JWKS.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        match self.material {
            KeyMaterial::Es256(_) => Algorithm::Es256,
            KeyMaterial::Rs256 { .. } => Algorithm::Rs256,
        }
    }

    /// The public key as a JWK (RFC 7517), as a JWKS endpoint lists it.
    pub fn public_jwk(&self) -> Value {
        match &self.material {
            KeyMaterial::Es256(k) => {
                let point = k.verifying_key().to_sec1_point(false);
                let bytes = point.as_bytes();
                // Uncompressed SEC1: 0x04 || x (32 bytes) || y (32 bytes).
                let (x, y) = bytes.get(1..).unwrap_or_default().split_at(32);
                json!({"kty": "EC", "crv": "P-256", "x": B64URL.encode(x), "y": B64URL.encode(y),
                       "kid": self.kid, "alg": "ES256", "use": "sig"})
            }
            KeyMaterial::Rs256 {
                modulus, exponent, ..
            } => json!({"kty": "RSA", "n": B64URL.encode(modulus), "e": B64URL.encode(exponent),
                        "kid": self.kid, "alg": "RS256", "use": "sig"}),
        }
    }

    /// The public key as a PEM SubjectPublicKeyInfo, for tests that verify
    /// tokens without a JWKS.
    pub fn public_key_pem(&self) -> Result<String, TestingError> {
        use p256::pkcs8::{EncodePublicKey as _, LineEnding};
        match &self.material {
            KeyMaterial::Es256(k) => k.verifying_key().to_public_key_pem(LineEnding::LF),
            KeyMaterial::Rs256 { signer, .. } => {
                rsa::PublicKey::from(signer.as_ref().as_ref()).to_public_key_pem(LineEnding::LF)
            }
        }
        .map_err(|e| TestingError::Key(format!("encoding a public key: {e}")))
    }

    /// A compact JWS over `claims` with header `{"alg", "typ": "JWT", "kid"}`.
    /// `header_kid` is normally [`Self::kid`]; a different value makes a
    /// token whose `kid` names another key.
    pub fn sign_jwt(
        &self,
        header_kid: &str,
        claims: &Map<String, Value>,
    ) -> Result<String, TestingError> {
        let header = json!({"alg": self.algorithm().name(), "typ": "JWT", "kid": header_kid});
        let signing_input = format!(
            "{}.{}",
            B64URL.encode(serde_json::to_vec(&header)?),
            B64URL.encode(serde_json::to_vec(claims)?)
        );
        let signature = match &self.material {
            KeyMaterial::Es256(k) => {
                // JWS wants the raw r || s form, not ASN.1 DER.
                let sig: p256::ecdsa::Signature = k.sign(signing_input.as_bytes());
                sig.to_bytes().to_vec()
            }
            KeyMaterial::Rs256 { signer, .. } => signer
                .try_sign(signing_input.as_bytes())
                .map_err(|e| TestingError::Key(format!("RSA signing: {e}")))?
                .to_vec(),
        };
        Ok(format!("{signing_input}.{}", B64URL.encode(signature)))
    }
}

/// A token with `alg: none` and an empty signature, which every verifier
/// must refuse.
pub(crate) fn unsigned_jwt(claims: &Map<String, Value>) -> Result<String, TestingError> {
    let header = json!({"alg": "none", "typ": "JWT"});
    Ok(format!(
        "{}.{}.",
        B64URL.encode(serde_json::to_vec(&header)?),
        B64URL.encode(serde_json::to_vec(claims)?)
    ))
}

/// `jwt` with one bit of its signature flipped.
pub(crate) fn corrupt_signature(jwt: &str) -> String {
    let Some((signing_input, signature)) = jwt.rsplit_once('.') else {
        return jwt.to_owned();
    };
    let mut raw = B64URL.decode(signature).unwrap_or_default();
    if let Some(last) = raw.last_mut() {
        *last ^= 0x01;
    }
    format!("{signing_input}.{}", B64URL.encode(raw))
}

/// The claims of a compact JWS, unverified (for tests that inspect a token).
pub fn decode_claims(jwt: &str) -> Result<Map<String, Value>, TestingError> {
    let payload = jwt
        .split('.')
        .nth(1)
        .ok_or_else(|| TestingError::Token("not a compact JWS".into()))?;
    let raw = B64URL
        .decode(payload)
        .map_err(|e| TestingError::Token(format!("payload is not base64url: {e}")))?;
    Ok(serde_json::from_slice(&raw)?)
}

fn strip_leading_zeros(bytes: &[u8]) -> Vec<u8> {
    let first = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    bytes.get(first..).unwrap_or_default().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use signature::Verifier as _;

    fn parts(jwt: &str) -> (String, Vec<u8>) {
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        (input.to_owned(), B64URL.decode(sig).unwrap())
    }

    #[test]
    fn es256_tokens_verify_against_the_published_jwk() {
        let key = JwtKey::generate(Algorithm::Es256, "k1").unwrap();
        let mut claims = Map::new();
        claims.insert("sub".into(), "someone".into());
        let jwt = key.sign_jwt("k1", &claims).unwrap();
        let jwk = key.public_jwk();
        let mut sec1 = vec![4u8];
        sec1.extend(B64URL.decode(jwk["x"].as_str().unwrap()).unwrap());
        sec1.extend(B64URL.decode(jwk["y"].as_str().unwrap()).unwrap());
        let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap();
        let (input, sig) = parts(&jwt);
        let sig = p256::ecdsa::Signature::from_slice(&sig).unwrap();
        vk.verify(input.as_bytes(), &sig).unwrap();
        assert_eq!(decode_claims(&jwt).unwrap()["sub"], "someone");

        let (input, bad) = parts(&corrupt_signature(&jwt));
        let bad = p256::ecdsa::Signature::from_slice(&bad).unwrap();
        assert!(vk.verify(input.as_bytes(), &bad).is_err());
    }

    #[test]
    fn rs256_tokens_verify_against_the_published_jwk() {
        let key = JwtKey::generate(Algorithm::Rs256, "r1").unwrap();
        let jwt = key.sign_jwt("r1", &Map::new()).unwrap();
        let jwk = key.public_jwk();
        assert_eq!(
            B64URL.decode(jwk["e"].as_str().unwrap()).unwrap(),
            [1, 0, 1]
        );
        let n = B64URL.decode(jwk["n"].as_str().unwrap()).unwrap();
        assert_eq!(n.len(), RSA_BITS / 8);
        use p256::pkcs8::DecodePublicKey as _;
        let public = rsa::PublicKey::from_public_key_pem(&key.public_key_pem().unwrap()).unwrap();
        let vk = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(public);
        let (input, sig) = parts(&jwt);
        let sig = rsa::pkcs1v15::Signature::try_from(sig.as_slice()).unwrap();
        vk.verify(input.as_bytes(), &sig).unwrap();
    }
}
