//! The certificate authority, speaking Fulcio's HTTP API:
//!
//! | route | what |
//! |---|---|
//! | `POST /api/v2/signingCert` | a public key with proof of possession, or a CSR; the ID token in the body or as `Authorization: Bearer`; answers 200 with `signedCertificateEmbeddedSct` |
//! | `POST /api/v1/signingCert` | the legacy form cosign 2.x calls; answers 201 with a PEM chain |
//! | `GET /api/v2/trustBundle` | the CA chain |
//! | `GET /api/v2/configuration` | the trusted issuers |
//! | `GET /api/v1/rootCert` | the CA chain in PEM |
//!
//! Each request: the token is verified ([`crate::oidc`]), turned into a
//! principal ([`crate::identity`]), the proof of possession is checked (a
//! signature over the `email` claim for email issuers, over `sub` for the
//! others, or the CSR's self-signature), then a precertificate is signed,
//! an SCT obtained from the built-in CT log and the final certificate
//! signed with the SCT embedded ([`signet_pki::issue`]).

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE as B64URL};
use serde::Deserialize;
use serde_json::json;
use signet_core::keys::PublicKey;
use signet_pki::ca::SigningCa;
use signet_pki::certificate::Certificate;
use signet_pki::csr::CertificationRequest;
use signet_pki::issue::{IssuedCertificate, LeafRequest, issue_with_embedded_sct};

use crate::api::{ApiError, read_body};
use crate::ctlog::CtLog;
use crate::identity::{Principal, principal};
use crate::metrics::Metrics;
use crate::oidc::{OidcVerifier, TokenError};

/// Largest signing-certificate request body (a key, a signature, a token).
pub const MAX_REQUEST_BYTES: usize = 64 << 10;

/// Metric: certificates issued, by issuer.
pub const METRIC_ISSUED: &str = "signet_ca_certificates_issued_total";
/// Metric: certificate requests refused, by reason.
pub const METRIC_REFUSED: &str = "signet_ca_requests_refused_total";

/// The CA service: its key and chain, the CT log, the token verifier.
pub struct CertificateAuthority {
    ca: SigningCa,
    ct_log: Arc<CtLog>,
    oidc: Arc<OidcVerifier>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("ca", &self.ca.certificate().describe())
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// A CA issuing under `ca`, with SCTs from `ct_log`.
    pub fn new(
        ca: SigningCa,
        ct_log: Arc<CtLog>,
        oidc: Arc<OidcVerifier>,
        metrics: Arc<Metrics>,
    ) -> Self {
        metrics.describe_counter(
            METRIC_ISSUED,
            "Code-signing certificates issued, by OIDC issuer.",
        );
        metrics.describe_counter(METRIC_REFUSED, "Certificate requests refused, by reason.");
        Self {
            ca,
            ct_log,
            oidc,
            metrics,
        }
    }

    /// The chain above the leaves: intermediate, root.
    pub fn chain(&self) -> &[Certificate] {
        self.ca.chain()
    }

    fn refuse(&self, reason: &'static str, error: ApiError) -> ApiError {
        self.metrics.inc(METRIC_REFUSED, &[("reason", reason)]);
        error
    }

    /// Verifies the token, checks the proof of possession and issues.
    pub async fn issue(
        &self,
        token: &str,
        proof: KeyProof,
        now: SystemTime,
    ) -> Result<IssuedCertificate, ApiError> {
        let verified = self
            .oidc
            .verify(token)
            .await
            .map_err(|e| self.refuse(e.kind(), token_error(e)))?;
        let who = principal(&verified)
            .map_err(|e| self.refuse("identity", ApiError::bad_request(e.to_string())))?;
        let spki = proof
            .check(&who)
            .map_err(|e| self.refuse("proof_of_possession", e))?;
        let request = LeafRequest {
            subject_public_key: spki,
            identity: who.identity.clone(),
            issuer: who.issuer.clone(),
            claims: who.claims.clone(),
            not_before: now,
        };
        let issued = issue_with_embedded_sct(&self.ca, self.ct_log.signer(), &request).map_err(
            |e| match e {
                signet_pki::error::IssueError::InvalidRequest(m) => {
                    self.refuse("request", ApiError::bad_request(m))
                }
                other => self.refuse(
                    "internal",
                    ApiError::internal(format!("cannot issue: {other}")),
                ),
            },
        )?;
        self.ct_log.record_issued();
        self.metrics
            .inc(METRIC_ISSUED, &[("issuer", verified.issuer.url.as_str())]);
        tracing::info!(
            identity = who.identity.value(),
            issuer = %who.issuer,
            serial = %issued.certificate.serial_hex(),
            "certificate issued"
        );
        Ok(issued)
    }
}

fn token_error(e: TokenError) -> ApiError {
    if e.is_unavailable() {
        ApiError::unavailable(e.to_string()).retry_after(5)
    } else {
        ApiError::unauthenticated(e.to_string())
    }
}

/// How the client proves it holds the private key.
#[derive(Debug)]
pub enum KeyProof {
    /// A public key and a signature over the principal's challenge value.
    Signature {
        /// The key.
        key: Box<PublicKey>,
        /// The signature.
        signature: Vec<u8>,
    },
    /// A PKCS#10 request, whose self-signature is the proof.
    Csr(Box<CertificationRequest>),
}

impl KeyProof {
    /// The key's DER SPKI, once the proof holds for `who`.
    fn check(&self, who: &Principal) -> Result<Vec<u8>, ApiError> {
        match self {
            Self::Signature { key, signature } => {
                if !verify_challenge(key, who.challenge.as_bytes(), signature) {
                    return Err(ApiError::bad_request(format!(
                        "proof of possession does not verify: expected a signature by the requested {} key over the token's {} claim {:?}",
                        key.kind(),
                        who.challenge_claim,
                        who.challenge
                    )));
                }
                Ok(key.to_spki_der())
            }
            Self::Csr(csr) => {
                csr.verify_signature().map_err(|e| {
                    ApiError::bad_request(format!("proof of possession does not verify: {e}"))
                })?;
                csr.public_key_der()
                    .map_err(|e| ApiError::bad_request(e.to_string()))
            }
        }
    }
}

/// A signature over `challenge` as Sigstore clients make it: ECDSA over
/// SHA-256 (P-384 keys over SHA-384 too), RSA PKCS#1 v1.5 with SHA-256,
/// Ed25519 over the bytes.
fn verify_challenge(key: &PublicKey, challenge: &[u8], signature: &[u8]) -> bool {
    if key.verify(challenge, signature).is_ok() {
        return true;
    }
    if let PublicKey::EcdsaP384(k) = key {
        use sha2::Digest as _;
        use signature::hazmat::PrehashVerifier as _;
        if let Ok(sig) = p384::ecdsa::Signature::from_der(signature) {
            return k
                .verify_prehash(&sha2::Sha384::digest(challenge), &sig)
                .is_ok();
        }
    }
    false
}

/// A public key given as PEM, or as base64 of DER.
fn parse_public_key(content: &str) -> Result<PublicKey, ApiError> {
    let trimmed = content.trim();
    let key = if trimmed.starts_with("-----BEGIN") {
        PublicKey::from_pem(trimmed.as_bytes())
    } else {
        let der = decode_b64(trimmed).map_err(|_| {
            ApiError::bad_request("publicKey.content is neither PEM nor base64 DER")
        })?;
        if der.starts_with(b"-----BEGIN") {
            PublicKey::from_pem(&der)
        } else {
            PublicKey::from_spki_der(&der)
        }
    };
    key.map_err(|e| ApiError::bad_request(format!("publicKey.content: {e}")))
}

/// Base64 as protobuf-JSON writes bytes (standard or URL-safe, padded or not).
fn decode_b64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let text = text.trim();
    let unpadded = text.trim_end_matches('=');
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(unpadded)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(unpadded))
        .or_else(|_| B64.decode(text))
        .or_else(|_| B64URL.decode(text))
}

/// A CSR given as PEM text, base64 of PEM (what protobuf bytes carry), or
/// base64 of DER.
fn parse_csr(content: &str) -> Result<CertificationRequest, ApiError> {
    let content = content.trim();
    let bad = |e: signet_pki::error::DecodeError| {
        ApiError::bad_request(format!("certificateSigningRequest: {e}"))
    };
    if content.starts_with("-----BEGIN") {
        return CertificationRequest::from_pem(content.as_bytes()).map_err(bad);
    }
    let bytes = decode_b64(content).map_err(|_| {
        ApiError::bad_request("certificateSigningRequest is neither PEM nor base64")
    })?;
    if bytes.starts_with(b"-----BEGIN") {
        CertificationRequest::from_pem(&bytes).map_err(bad)
    } else {
        CertificationRequest::from_der(&bytes).map_err(bad)
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("malformed request: {e}")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V2Request {
    #[serde(default)]
    credentials: Option<V2Credentials>,
    #[serde(default)]
    public_key_request: Option<V2PublicKeyRequest>,
    #[serde(default)]
    certificate_signing_request: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V2Credentials {
    #[serde(default)]
    oidc_identity_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V2PublicKeyRequest {
    public_key: V2PublicKey,
    proof_of_possession: String,
}

#[derive(Deserialize)]
struct V2PublicKey {
    content: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Request {
    #[serde(default)]
    public_key: Option<V1PublicKey>,
    #[serde(default)]
    signed_email_address: Option<String>,
    #[serde(default)]
    certificate_signing_request: Option<String>,
}

#[derive(Deserialize)]
struct V1PublicKey {
    content: String,
}

fn token_from(body_token: Option<String>, headers: &HeaderMap) -> Result<String, ApiError> {
    body_token
        .filter(|t| !t.trim().is_empty())
        .or_else(|| bearer_token(headers))
        .ok_or_else(|| {
            ApiError::unauthenticated(
                "no identity token: send it in credentials.oidcIdentityToken or as Authorization: Bearer",
            )
        })
}

async fn signing_cert_v2(
    State(ca): State<Arc<CertificateAuthority>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = read_body(body, MAX_REQUEST_BYTES).await?;
    let request: V2Request = parse_json(&body)?;
    let token = token_from(
        request.credentials.and_then(|c| c.oidc_identity_token),
        &headers,
    )?;
    let proof = match (
        request.public_key_request,
        request.certificate_signing_request,
    ) {
        (Some(pk), None) => KeyProof::Signature {
            key: Box::new(parse_public_key(&pk.public_key.content)?),
            signature: decode_b64(&pk.proof_of_possession).map_err(|_| {
                ApiError::bad_request("publicKeyRequest.proofOfPossession is not base64")
            })?,
        },
        (None, Some(csr)) => KeyProof::Csr(Box::new(parse_csr(&csr)?)),
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "send either publicKeyRequest or certificateSigningRequest, not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "the request has neither publicKeyRequest nor certificateSigningRequest",
            ));
        }
    };
    let issued = ca.issue(&token, proof, SystemTime::now()).await?;
    let chain: Vec<String> = issued.chain.iter().map(Certificate::to_pem).collect();
    Ok((
        StatusCode::OK,
        axum::Json(json!({
            "signedCertificateEmbeddedSct": {"chain": {"certificates": chain}},
        })),
    )
        .into_response())
}

async fn signing_cert_v1(
    State(ca): State<Arc<CertificateAuthority>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = read_body(body, MAX_REQUEST_BYTES).await?;
    let request: V1Request = parse_json(&body)?;
    let token = token_from(None, &headers)?;
    let proof = match (
        request.certificate_signing_request,
        request.public_key,
        request.signed_email_address,
    ) {
        (Some(csr), _, _) => KeyProof::Csr(Box::new(parse_csr(&csr)?)),
        (None, Some(key), Some(signature)) => KeyProof::Signature {
            key: Box::new(parse_public_key(&key.content)?),
            signature: decode_b64(&signature)
                .map_err(|_| ApiError::bad_request("signedEmailAddress is not base64"))?,
        },
        _ => {
            return Err(ApiError::bad_request(
                "the request needs publicKey and signedEmailAddress, or certificateSigningRequest",
            ));
        }
    };
    let issued = ca.issue(&token, proof, SystemTime::now()).await?;
    let pem: String = issued.chain.iter().map(Certificate::to_pem).collect();
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/pem-certificate-chain")],
        pem,
    )
        .into_response())
}

async fn trust_bundle(State(ca): State<Arc<CertificateAuthority>>) -> Response {
    let chain: Vec<String> = ca.chain().iter().map(Certificate::to_pem).collect();
    axum::Json(json!({"chains": [{"certificates": chain}]})).into_response()
}

async fn root_cert(State(ca): State<Arc<CertificateAuthority>>) -> Response {
    let pem: String = ca.chain().iter().map(Certificate::to_pem).collect();
    (
        [(header::CONTENT_TYPE, "application/pem-certificate-chain")],
        pem,
    )
        .into_response()
}

async fn configuration(State(ca): State<Arc<CertificateAuthority>>) -> Response {
    let mut issuers: Vec<_> = ca.oidc.issuers().collect();
    issuers.sort_by(|a, b| a.url.cmp(&b.url));
    let issuers: Vec<_> = issuers
        .into_iter()
        .map(|i| {
            json!({
                "issuerUrl": i.url,
                "audience": i.audience,
                "challengeClaim": i.issuer_type.challenge_claim(),
                "issuerType": i.issuer_type.fulcio_name(),
            })
        })
        .collect();
    axum::Json(json!({"issuers": issuers})).into_response()
}

/// The Fulcio API routes.
pub fn router(ca: Arc<CertificateAuthority>) -> Router {
    Router::new()
        .route("/api/v2/signingCert", post(signing_cert_v2))
        .route("/api/v1/signingCert", post(signing_cert_v1))
        .route("/api/v2/trustBundle", get(trust_bundle))
        .route("/api/v2/configuration", get(configuration))
        .route("/api/v1/rootCert", get(root_cert))
        .with_state(ca)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_every_encoding() {
        let key = signet_core::keys::PrivateKey::generate_p256()
            .unwrap()
            .public_key();
        let pem = key.to_pem();
        let der = key.to_spki_der();
        for content in [
            pem.clone(),
            B64.encode(&der),
            B64URL.encode(&der),
            B64.encode(pem.as_bytes()),
        ] {
            assert_eq!(parse_public_key(&content).unwrap().to_spki_der(), der);
        }
        assert!(parse_public_key("!!!").is_err());
        assert!(parse_public_key(&B64.encode(b"not a key")).is_err());
    }

    #[test]
    fn bearer_tokens() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer_token(&h).as_deref(), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer_token(&h), None);
        assert_eq!(
            token_from(Some("x".into()), &HeaderMap::new()).unwrap(),
            "x"
        );
        assert!(token_from(Some(" ".into()), &HeaderMap::new()).is_err());
    }

    #[test]
    fn p384_challenges_with_either_hash() {
        use signature::hazmat::PrehashSigner as _;
        let sk = p384::ecdsa::SigningKey::from_slice(&[5u8; 48]).unwrap();
        let key = PublicKey::EcdsaP384(*sk.verifying_key());
        for digest in [
            <sha2::Sha256 as sha2::Digest>::digest(b"who").to_vec(),
            <sha2::Sha384 as sha2::Digest>::digest(b"who").to_vec(),
        ] {
            let sig: p384::ecdsa::Signature = sk.sign_prehash(&digest).unwrap();
            assert!(verify_challenge(&key, b"who", sig.to_der().as_bytes()));
            assert!(!verify_challenge(
                &key,
                b"someone else",
                sig.to_der().as_bytes()
            ));
        }
    }

    proptest::proptest! {
        /// Every parser of request fields refuses garbage without panicking.
        #[test]
        fn request_parsers_never_panic(text in "\\PC{0,300}", bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = parse_public_key(&text);
            let _ = parse_csr(&text);
            let _ = decode_b64(&text);
            let _ = parse_json::<V2Request>(&bytes);
            let _ = parse_json::<V1Request>(&bytes);
            let encoded = B64.encode(&bytes);
            let _ = parse_public_key(&encoded);
            let _ = parse_csr(&encoded);
        }
    }
}
