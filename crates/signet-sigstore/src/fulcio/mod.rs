//! Fulcio: a short-lived code-signing certificate for an ephemeral key.
//!
//! `POST /api/v2/signingCert` with the public key, a proof of possession
//! (the key's signature over the token's `email`, else its `sub`) and the
//! identity token, both as a Bearer header (what sigstore-go sends) and in
//! the body (what Fulcio's own client sends). The answer is a PEM chain with
//! the SCT embedded in the leaf, or a chain and a detached SCT.
//!
//! Nothing is used before it is checked: the leaf must carry our key, chain
//! to a trusted Fulcio CA with the codeSigning EKU, and carry an SCT that a
//! trusted CT log signed.

use std::time::SystemTime;

use base64::Engine as _;
use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde::Deserialize;
use signet_core::keys::PrivateKey;
use signet_pki::certificate::Certificate;
use signet_pki::chain::{CertificateAuthority, KeyPurpose, verify_chain};
use signet_pki::profile::FulcioCertificate;
use signet_pki::sct::{
    CtLog, SignedCertificateTimestamp, verify_detached_sct, verify_embedded_scts,
};
use url::Url;

use crate::error::ServiceError;
use crate::http::{HttpClient, base_url, endpoint, sensitive};
use crate::oidc::IdentityToken;

const SERVICE: &str = "fulcio";
/// The largest signingCert answer read (a chain is a few kilobytes).
const MAX_RESPONSE_BYTES: usize = 256 << 10;
/// The most certificates accepted in an answer.
const MAX_CHAIN: usize = 10;

/// What a Fulcio certificate is checked against before it is used.
#[derive(Debug, Clone, Default)]
pub struct CertificateTrust {
    /// The trusted Fulcio CAs.
    pub authorities: Vec<CertificateAuthority>,
    /// The trusted CT logs.
    pub ct_logs: Vec<CtLog>,
    /// Whether an SCT from a trusted CT log is required (cosign's
    /// `--insecure-skip-verify` turns this off).
    pub require_sct: bool,
}

/// A checked certificate for the signing key.
#[derive(Debug, Clone)]
pub struct SigningCertificate {
    /// The leaf, which carries the signing key.
    pub leaf: Certificate,
    /// The certificates above the leaf as Fulcio sent them (intermediates,
    /// and usually the root).
    pub chain: Vec<Certificate>,
    /// The detached SCT, when Fulcio did not embed it.
    pub detached_sct: Option<SignedCertificateTimestamp>,
    /// The identity, issuer and CI claims read from the leaf.
    pub identity: FulcioCertificate,
}

impl SigningCertificate {
    /// The leaf and the chain above it, without any self-signed root: what a
    /// bundle or signature annotation may carry.
    pub fn chain_without_root(&self) -> Vec<Certificate> {
        std::iter::once(self.leaf.clone())
            .chain(self.chain.iter().filter(|c| !c.is_self_issued()).cloned())
            .collect()
    }
}

/// A Fulcio CA at one URL.
#[derive(Debug, Clone)]
pub struct FulcioClient {
    http: HttpClient,
    base: Url,
    trust: CertificateTrust,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SigningCertRequest<'a> {
    credentials: Credentials<'a>,
    public_key_request: PublicKeyRequest,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Credentials<'a> {
    oidc_identity_token: &'a str,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct PublicKeyRequest {
    public_key: PublicKeyField,
    proof_of_possession: String,
}

#[derive(serde::Serialize)]
struct PublicKeyField {
    algorithm: &'static str,
    content: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SigningCertResponse {
    #[serde(default)]
    signed_certificate_embedded_sct: Option<EmbeddedSct>,
    #[serde(default)]
    signed_certificate_detached_sct: Option<DetachedSct>,
}

#[derive(Deserialize)]
struct EmbeddedSct {
    chain: Chain,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DetachedSct {
    chain: Chain,
    #[serde(default)]
    signed_certificate_timestamp: Option<String>,
}

#[derive(Deserialize)]
struct Chain {
    #[serde(default)]
    certificates: Vec<String>,
}

impl FulcioClient {
    /// A client for the Fulcio at `url` (its base, e.g.
    /// `https://fulcio.sigstore.dev`).
    pub fn new(http: HttpClient, url: &str, trust: CertificateTrust) -> Result<Self, ServiceError> {
        Ok(Self {
            http,
            base: base_url(SERVICE, url)?,
            trust,
        })
    }

    /// The base URL.
    pub fn url(&self) -> &Url {
        &self.base
    }

    /// Asks for a certificate for `key` with `token`, and checks it.
    pub async fn request_certificate(
        &self,
        token: &IdentityToken,
        key: &PrivateKey,
    ) -> Result<SigningCertificate, ServiceError> {
        let url = endpoint(&self.base, "/api/v2/signingCert");
        let proof =
            key.sign(token.challenge().as_bytes())
                .map_err(|e| ServiceError::Unsupported {
                    service: SERVICE,
                    reason: format!("proof of possession: {e}"),
                })?;
        let public = key.public_key();
        let body = SigningCertRequest {
            credentials: Credentials {
                oidc_identity_token: token.as_str(),
            },
            public_key_request: PublicKeyRequest {
                public_key: PublicKeyField {
                    algorithm: algorithm_name(public.kind()),
                    content: public.to_pem(),
                },
                proof_of_possession: base64::engine::general_purpose::STANDARD.encode(proof),
            },
        };
        let json = serde_json::to_vec(&body).map_err(|e| ServiceError::Unsupported {
            service: SERVICE,
            reason: e.to_string(),
        })?;
        let auth = sensitive(&format!("Bearer {}", token.as_str())).ok_or_else(|| {
            ServiceError::Unsupported {
                service: SERVICE,
                reason: "the identity token is not a valid header value".into(),
            }
        })?;
        let request = self
            .http
            .request(Method::POST, &url)
            .header(AUTHORIZATION, auth)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .body(json);
        let reply = self
            .http
            .send(SERVICE, &url, request, MAX_RESPONSE_BYTES, &[])
            .await?;
        let issued = parse_response(&url, &reply.body)?;
        self.check(&url, issued, &public.to_spki_der())
    }

    fn check(
        &self,
        url: &Url,
        (certificates, detached): (Vec<Certificate>, Option<SignedCertificateTimestamp>),
        our_key: &[u8],
    ) -> Result<SigningCertificate, ServiceError> {
        let untrusted = |check: &'static str, reason: String| ServiceError::Untrusted {
            service: SERVICE,
            url: url.to_string(),
            check,
            reason,
        };
        let mut certificates = certificates.into_iter();
        let leaf = certificates
            .next()
            .ok_or_else(|| malformed(url, "the chain is empty".into()))?;
        let chain: Vec<Certificate> = certificates.collect();
        if leaf.public_key_der() != our_key {
            return Err(untrusted(
                "certificate key",
                format!("{} does not carry the key that was sent", leaf.describe()),
            ));
        }
        // The leaf is checked at the moment the CA says it issued it; the
        // log's integrated time is what verifiers will use later.
        let at: SystemTime = leaf.not_before();
        let verified = verify_chain(&leaf, &self.trust.authorities, at, KeyPurpose::CodeSigning)
            .map_err(|e| untrusted("certificate chain", e.to_string()))?;
        if self.trust.require_sct {
            let issuer = verified
                .issuer()
                .ok_or_else(|| untrusted("certificate chain", "no issuer".into()))?;
            match &detached {
                Some(sct) => {
                    verify_detached_sct(&leaf, sct, &self.trust.ct_logs)
                        .map_err(|e| untrusted("detached SCT", e.to_string()))?;
                }
                None => {
                    verify_embedded_scts(&leaf, issuer, &self.trust.ct_logs, 1)
                        .map_err(|e| untrusted("embedded SCT", e.to_string()))?;
                }
            }
        }
        let identity = FulcioCertificate::parse(&leaf)
            .map_err(|e| untrusted("certificate profile", e.to_string()))?;
        Ok(SigningCertificate {
            leaf,
            chain,
            detached_sct: detached,
            identity,
        })
    }
}

fn malformed(url: &Url, reason: String) -> ServiceError {
    ServiceError::Malformed {
        service: SERVICE,
        url: url.to_string(),
        reason,
    }
}

/// Fulcio ignores the algorithm field and infers it from the key; send the
/// name its API lists for the key's type anyway.
fn algorithm_name(kind: &str) -> &'static str {
    if kind.contains("Ed25519") {
        "ED25519"
    } else if kind.contains("RSA") {
        "RSA_PSS"
    } else {
        "ECDSA"
    }
}

/// Reads a signingCert answer: the chain (leaf first) and a detached SCT.
pub(crate) fn parse_response(
    url: &Url,
    body: &[u8],
) -> Result<(Vec<Certificate>, Option<SignedCertificateTimestamp>), ServiceError> {
    let response: SigningCertResponse =
        serde_json::from_slice(body).map_err(|e| malformed(url, e.to_string()))?;
    let (chain, detached) = match (
        response.signed_certificate_embedded_sct,
        response.signed_certificate_detached_sct,
    ) {
        (Some(e), None) => (e.chain, None),
        (None, Some(d)) => (d.chain, d.signed_certificate_timestamp),
        (Some(_), Some(_)) => {
            return Err(malformed(
                url,
                "both an embedded-SCT and a detached-SCT certificate".into(),
            ));
        }
        (None, None) => {
            return Err(malformed(
                url,
                "neither signedCertificateEmbeddedSct nor signedCertificateDetachedSct".into(),
            ));
        }
    };
    if chain.certificates.len() > MAX_CHAIN {
        return Err(malformed(
            url,
            format!(
                "{} certificates, more than {MAX_CHAIN}",
                chain.certificates.len()
            ),
        ));
    }
    let mut certificates = Vec::new();
    for pem in &chain.certificates {
        let parsed =
            pem_certificates(pem).map_err(|e| malformed(url, format!("certificate chain: {e}")))?;
        certificates.extend(parsed);
        if certificates.len() > MAX_CHAIN {
            break;
        }
    }
    if certificates.is_empty() || certificates.len() > MAX_CHAIN {
        return Err(malformed(
            url,
            format!("{} certificates in the chain", certificates.len()),
        ));
    }
    let detached = match detached.filter(|s| !s.is_empty()) {
        None => None,
        Some(b64) => {
            let json = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| malformed(url, format!("signedCertificateTimestamp: {e}")))?;
            Some(
                SignedCertificateTimestamp::from_detached_json(&json)
                    .map_err(|e| malformed(url, format!("signedCertificateTimestamp: {e}")))?,
            )
        }
    };
    Ok((certificates, detached))
}

/// The certificates of PEM text, read as Go's `encoding/pem` reads it: the
/// base64 body may be wrapped at any width or not at all (some Fulcio
/// implementations send one line), headers are skipped.
pub(crate) fn pem_certificates(text: &str) -> Result<Vec<Certificate>, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut certificates = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let body_and_more = &rest[start + BEGIN.len()..];
        let end = body_and_more
            .find(END)
            .ok_or_else(|| "a certificate has no END line".to_owned())?;
        let body: String = body_and_more[..end]
            .lines()
            .filter(|line| !line.contains(':'))
            .flat_map(|line| line.chars().filter(|c| !c.is_ascii_whitespace()))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|e| format!("a certificate is not base64: {e}"))?;
        certificates.push(Certificate::from_der(&der).map_err(|e| e.to_string())?);
        if certificates.len() > MAX_CHAIN {
            return Err(format!("more than {MAX_CHAIN} certificates"));
        }
        rest = &body_and_more[end + END.len()..];
    }
    if certificates.is_empty() {
        return Err("no PEM certificate".into());
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests;
