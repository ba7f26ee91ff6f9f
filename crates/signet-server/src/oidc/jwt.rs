//! Compact JWS (RFC 7515) as ID tokens use it, and the JSON Web Keys
//! (RFC 7517) that verify them: RS256/RS384/RS512, ES256/ES384 and EdDSA
//! (Ed25519). Nothing here trusts the token; it only reads and checks bytes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256, Sha384, Sha512};
use signature::Verifier as _;

use super::TokenError;

/// Largest token read. Real ID tokens are one to three kilobytes.
pub const MAX_TOKEN_BYTES: usize = 16 << 10;
/// Most keys read from one JWKS.
pub const MAX_JWKS_KEYS: usize = 64;
/// Smallest RSA modulus accepted for a token signing key.
const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus accepted (bounds the cost of one verification).
const MAX_RSA_BITS: usize = 8192;

/// A JWS algorithm signet verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwsAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// ECDSA P-384 with SHA-384.
    Es384,
    /// Ed25519.
    EdDsa,
}

impl JwsAlgorithm {
    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::EdDsa => "EdDSA",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "RS256" => Self::Rs256,
            "RS384" => Self::Rs384,
            "RS512" => Self::Rs512,
            "ES256" => Self::Es256,
            "ES384" => Self::Es384,
            "EdDSA" => Self::EdDsa,
            _ => return None,
        })
    }
}

/// A token read but not yet verified.
#[derive(Debug)]
pub struct UnverifiedToken<'a> {
    /// The header's `alg`.
    pub algorithm: JwsAlgorithm,
    /// The header's `kid`, if any.
    pub kid: Option<String>,
    /// The claims.
    pub claims: Map<String, Value>,
    signing_input: &'a [u8],
    signature: Vec<u8>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<Value>,
}

fn decode_part(what: &'static str, part: &str) -> Result<Vec<u8>, TokenError> {
    B64URL
        .decode(part.trim_end_matches('='))
        .map_err(|e| TokenError::Malformed(format!("the {what} is not base64url: {e}")))
}

/// Splits and decodes a compact JWS. Refuses `alg: none`, unsupported
/// algorithms and critical header parameters.
pub fn parse(token: &str) -> Result<UnverifiedToken<'_>, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::Malformed(format!(
            "the token is {} bytes, more than the {MAX_TOKEN_BYTES} accepted",
            token.len()
        )));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed(
            "not a compact JWS (expected three dot-separated parts)".into(),
        ));
    };
    let header: Header = serde_json::from_slice(&decode_part("header", header)?)
        .map_err(|e| TokenError::Malformed(format!("the header is not a JOSE header: {e}")))?;
    if header.crit.is_some() {
        return Err(TokenError::Malformed(
            "the header has critical parameters (crit), which are not supported".into(),
        ));
    }
    let algorithm = JwsAlgorithm::from_name(&header.alg).ok_or_else(|| {
        TokenError::UnsupportedAlgorithm(if header.alg.eq_ignore_ascii_case("none") {
            "none (unsigned tokens are refused)".to_owned()
        } else {
            header.alg.chars().take(32).collect()
        })
    })?;
    let claims: Map<String, Value> = serde_json::from_slice(&decode_part("payload", payload)?)
        .map_err(|e| TokenError::Malformed(format!("the claims are not a JSON object: {e}")))?;
    let signature = decode_part("signature", signature)?;
    let signing_input_len = token.len() - signature_len(token);
    Ok(UnverifiedToken {
        algorithm,
        kid: header.kid,
        claims,
        signing_input: token
            .as_bytes()
            .get(..signing_input_len)
            .unwrap_or_default(),
        signature,
    })
}

/// Length of the last part plus its dot.
fn signature_len(token: &str) -> usize {
    token.rsplit('.').next().map_or(0, |s| s.len() + 1)
}

impl UnverifiedToken<'_> {
    /// Checks the signature with `key`.
    pub fn verify(&self, key: &Jwk) -> Result<(), TokenError> {
        if !key.supports(self.algorithm) {
            return Err(TokenError::BadSignature(format!(
                "key {} is a {} key and cannot verify {}",
                key.describe(),
                key.key.kind(),
                self.algorithm.name()
            )));
        }
        let bad = || {
            TokenError::BadSignature(format!(
                "the {} signature does not verify with key {}",
                self.algorithm.name(),
                key.describe()
            ))
        };
        let msg = self.signing_input;
        let sig = self.signature.as_slice();
        match (&key.key, self.algorithm) {
            (PublicJwk::Rsa(k), alg) => {
                let s = rsa::pkcs1v15::Signature::try_from(sig).map_err(|_| bad())?;
                let ok = match alg {
                    JwsAlgorithm::Rs256 => {
                        rsa::pkcs1v15::VerifyingKey::<Sha256>::new(k.clone()).verify(msg, &s)
                    }
                    JwsAlgorithm::Rs384 => {
                        rsa::pkcs1v15::VerifyingKey::<Sha384>::new(k.clone()).verify(msg, &s)
                    }
                    JwsAlgorithm::Rs512 => {
                        rsa::pkcs1v15::VerifyingKey::<Sha512>::new(k.clone()).verify(msg, &s)
                    }
                    _ => return Err(bad()),
                };
                ok.map_err(|_| bad())
            }
            (PublicJwk::P256(k), JwsAlgorithm::Es256) => {
                // JWS ECDSA signatures are fixed-size r‖s, not DER.
                let s = p256::ecdsa::Signature::from_slice(sig).map_err(|_| bad())?;
                use signature::hazmat::PrehashVerifier as _;
                k.verify_prehash(&Sha256::digest(msg), &s)
                    .map_err(|_| bad())
            }
            (PublicJwk::P384(k), JwsAlgorithm::Es384) => {
                let s = p384::ecdsa::Signature::from_slice(sig).map_err(|_| bad())?;
                use signature::hazmat::PrehashVerifier as _;
                k.verify_prehash(&Sha384::digest(msg), &s)
                    .map_err(|_| bad())
            }
            (PublicJwk::Ed25519(k), JwsAlgorithm::EdDsa) => {
                let s = ed25519_dalek::Signature::from_slice(sig).map_err(|_| bad())?;
                k.verify_strict(msg, &s).map_err(|_| bad())
            }
            _ => Err(bad()),
        }
    }
}

/// A public key from a JWKS.
#[derive(Clone, Debug)]
pub struct Jwk {
    /// The key ID.
    pub kid: Option<String>,
    /// The algorithm the JWKS pins the key to, if it does.
    pub alg: Option<String>,
    key: PublicJwk,
}

#[derive(Clone, Debug)]
enum PublicJwk {
    Rsa(rsa::PublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl PublicJwk {
    fn kind(&self) -> &'static str {
        match self {
            Self::Rsa(_) => "RSA",
            Self::P256(_) => "EC P-256",
            Self::P384(_) => "EC P-384",
            Self::Ed25519(_) => "Ed25519",
        }
    }
}

impl Jwk {
    /// Whether this key may verify `alg` (its type fits, and the JWKS does
    /// not pin it to another algorithm).
    pub fn supports(&self, alg: JwsAlgorithm) -> bool {
        if let Some(pinned) = &self.alg
            && pinned != alg.name()
        {
            return false;
        }
        matches!(
            (&self.key, alg),
            (
                PublicJwk::Rsa(_),
                JwsAlgorithm::Rs256 | JwsAlgorithm::Rs384 | JwsAlgorithm::Rs512
            ) | (PublicJwk::P256(_), JwsAlgorithm::Es256)
                | (PublicJwk::P384(_), JwsAlgorithm::Es384)
                | (PublicJwk::Ed25519(_), JwsAlgorithm::EdDsa)
        )
    }

    /// `kid=…` or "without a kid", for messages.
    pub fn describe(&self) -> String {
        match &self.kid {
            Some(k) => format!("kid={}", k.chars().take(80).collect::<String>()),
            None => "without a kid".to_owned(),
        }
    }
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<Value>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

/// Reads a JWKS document. Keys of other types or uses (encryption) are
/// skipped; a key of a supported type that does not decode is an error, so
/// a broken issuer is noticed rather than half-used.
pub fn parse_jwks(bytes: &[u8]) -> Result<Vec<Jwk>, String> {
    let raw: RawJwks =
        serde_json::from_slice(bytes).map_err(|e| format!("not a JWKS document: {e}"))?;
    if raw.keys.len() > MAX_JWKS_KEYS {
        return Err(format!(
            "{} keys, more than the {MAX_JWKS_KEYS} accepted",
            raw.keys.len()
        ));
    }
    let mut keys = Vec::new();
    for value in raw.keys {
        let jwk: RawJwk =
            serde_json::from_value(value).map_err(|e| format!("a key is malformed: {e}"))?;
        if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            continue;
        }
        let field = |name: &str, v: &Option<String>| -> Result<Vec<u8>, String> {
            let v = v
                .as_deref()
                .ok_or_else(|| format!("key {:?}: no {name}", jwk.kid))?;
            B64URL
                .decode(v.trim_end_matches('='))
                .map_err(|e| format!("key {:?}: {name} is not base64url: {e}", jwk.kid))
        };
        let key = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
            ("RSA", _) => {
                let n = field("n", &jwk.n)?;
                let e = field("e", &jwk.e)?;
                let n = rsa::BoxedUint::from_be_slice_vartime(&n);
                let e = rsa::BoxedUint::from_be_slice_vartime(&e);
                let key = rsa::PublicKey::new_with_size_limits(n, e, MIN_RSA_BITS..=MAX_RSA_BITS)
                    .map_err(|e| format!("key {:?}: unusable RSA key: {e}", jwk.kid))?;
                PublicJwk::Rsa(key)
            }
            ("EC", Some("P-256")) => {
                let point = sec1_point(&field("x", &jwk.x)?, &field("y", &jwk.y)?, 32)
                    .ok_or_else(|| format!("key {:?}: x or y has the wrong length", jwk.kid))?;
                PublicJwk::P256(
                    p256::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                        .map_err(|_| format!("key {:?}: not a P-256 point", jwk.kid))?,
                )
            }
            ("EC", Some("P-384")) => {
                let point = sec1_point(&field("x", &jwk.x)?, &field("y", &jwk.y)?, 48)
                    .ok_or_else(|| format!("key {:?}: x or y has the wrong length", jwk.kid))?;
                PublicJwk::P384(
                    p384::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                        .map_err(|_| format!("key {:?}: not a P-384 point", jwk.kid))?,
                )
            }
            ("OKP", Some("Ed25519")) => {
                let x: [u8; 32] = field("x", &jwk.x)?
                    .try_into()
                    .map_err(|_| format!("key {:?}: x is not 32 bytes", jwk.kid))?;
                PublicJwk::Ed25519(
                    ed25519_dalek::VerifyingKey::from_bytes(&x)
                        .map_err(|_| format!("key {:?}: not an Ed25519 key", jwk.kid))?,
                )
            }
            _ => continue,
        };
        keys.push(Jwk {
            kid: jwk.kid,
            alg: jwk.alg,
            key,
        });
    }
    Ok(keys)
}

fn sec1_point(x: &[u8], y: &[u8], len: usize) -> Option<Vec<u8>> {
    if x.len() != len || y.len() != len {
        return None;
    }
    let mut point = Vec::with_capacity(1 + 2 * len);
    point.push(0x04);
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    Some(point)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::SigningKey;
    use serde_json::json;
    use signature::hazmat::PrehashSigner as _;

    fn es256_token(key: &SigningKey, kid: &str, claims: &Value) -> String {
        let header = B64URL.encode(json!({"alg":"ES256","kid":kid}).to_string());
        let payload = B64URL.encode(claims.to_string());
        let input = format!("{header}.{payload}");
        let sig: p256::ecdsa::Signature = key.sign_prehash(&Sha256::digest(&input)).unwrap();
        format!("{input}.{}", B64URL.encode(sig.to_bytes()))
    }

    fn jwk_of(key: &SigningKey, kid: &str) -> Value {
        let point = key.verifying_key().to_sec1_point(false);
        let bytes = point.as_bytes();
        json!({"kty":"EC","crv":"P-256","kid":kid,"use":"sig","alg":"ES256",
               "x": B64URL.encode(&bytes[1..33]), "y": B64URL.encode(&bytes[33..65])})
    }

    #[test]
    fn es256_round_trip_and_tampering() {
        let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
        let token = es256_token(&key, "k1", &json!({"iss":"https://i.test","sub":"x"}));
        let parsed = parse(&token).unwrap();
        assert_eq!(parsed.algorithm, JwsAlgorithm::Es256);
        assert_eq!(parsed.kid.as_deref(), Some("k1"));
        let jwks = json!({"keys":[jwk_of(&key, "k1"), {"kty":"oct","k":"AAAA"}]}).to_string();
        let keys = parse_jwks(jwks.as_bytes()).unwrap();
        assert_eq!(keys.len(), 1);
        parsed.verify(&keys[0]).unwrap();

        let other = SigningKey::from_slice(&[8u8; 32]).unwrap();
        let forged = es256_token(&other, "k1", &json!({"iss":"https://i.test","sub":"x"}));
        let err = parse(&forged).unwrap().verify(&keys[0]).unwrap_err();
        assert!(
            err.to_string().contains("does not verify with key kid=k1"),
            "{err}"
        );
    }

    #[test]
    fn refuses_unsigned_and_odd_tokens() {
        let none = format!(
            "{}.{}.",
            B64URL.encode(r#"{"alg":"none"}"#),
            B64URL.encode(r#"{"iss":"x"}"#)
        );
        assert!(parse(&none).unwrap_err().to_string().contains("none"));
        assert!(parse("a.b").is_err());
        assert!(parse("a.b.c.d").is_err());
        assert!(parse(&"a".repeat(MAX_TOKEN_BYTES + 1)).is_err());
        let crit = format!(
            "{}.{}.AA",
            B64URL.encode(r#"{"alg":"ES256","crit":["b64"]}"#),
            B64URL.encode(r#"{"iss":"x"}"#)
        );
        assert!(parse(&crit).unwrap_err().to_string().contains("crit"));
    }

    #[test]
    fn algorithm_must_fit_the_key() {
        let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
        let mut jwk = jwk_of(&key, "k1");
        jwk["alg"] = json!("ES384");
        let keys = parse_jwks(json!({"keys":[jwk]}).to_string().as_bytes()).unwrap();
        assert!(!keys[0].supports(JwsAlgorithm::Es256));
        let token = es256_token(&key, "k1", &json!({}));
        assert!(parse(&token).unwrap().verify(&keys[0]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse(&text);
            let _ = parse_jwks(&bytes);
        }

        #[test]
        fn dotted_garbage_never_panics(a in "[A-Za-z0-9_-]{0,40}", b in "[A-Za-z0-9_-]{0,40}", c in "[A-Za-z0-9_-]{0,40}") {
            let _ = parse(&format!("{a}.{b}.{c}"));
        }
    }
}
