//! Fetching an issuer's keys: OpenID Connect discovery
//! (`<issuer>/.well-known/openid-configuration`), then its `jwks_uri`.
//! Every fetch has a timeout and a size cap applied while reading.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::jwt::{Jwk, parse_jwks};
use crate::config::{IssuerConfig, is_loopback};

/// Largest discovery or JWKS document read.
pub const MAX_DOCUMENT_BYTES: usize = 256 << 10;

/// An HTTP client for one issuer.
#[derive(Clone, Debug)]
pub struct Fetcher {
    client: reqwest::Client,
}

impl Fetcher {
    /// A client with `timeout` per request and, when the issuer has a
    /// `ca-file`, its certificates trusted in addition to the system's.
    pub fn new(issuer: &IssuerConfig, timeout: Duration) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // Discovery documents are served where they are asked for;
            // following redirects could lead off to another origin.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("signet-server/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &issuer.ca_file {
            let pem = signet_core::limits::read_file(path, signet_core::limits::CERTIFICATE_FILE)
                .map_err(|e| e.to_string())?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("{}: not a PEM certificate bundle: {e}", path.display()))?;
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        Ok(Self { client })
    }

    /// Discovery, then the JWKS.
    pub async fn fetch_keys(&self, issuer: &str) -> Result<Vec<Jwk>, String> {
        #[derive(Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let discovery_url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let body = self.get(&discovery_url).await?;
        let doc: Discovery = serde_json::from_slice(&body)
            .map_err(|e| format!("{discovery_url}: not a discovery document: {e}"))?;
        // OpenID Connect Discovery §4.3: the document must name the issuer
        // it was fetched for, exactly.
        if doc.issuer != issuer {
            return Err(format!(
                "{discovery_url}: the document names issuer {:?}, expected {issuer:?}",
                doc.issuer
            ));
        }
        let jwks_url = Url::parse(&doc.jwks_uri).map_err(|e| {
            format!(
                "{discovery_url}: jwks_uri {:?} is not a URL: {e}",
                doc.jwks_uri
            )
        })?;
        let secure =
            jwks_url.scheme() == "https" || (jwks_url.scheme() == "http" && is_loopback(&jwks_url));
        if !secure {
            return Err(format!(
                "{discovery_url}: jwks_uri {jwks_url} is not https (plain http is accepted only on loopback)"
            ));
        }
        let body = self.get(jwks_url.as_str()).await?;
        let keys = parse_jwks(&body).map_err(|e| format!("{jwks_url}: {e}"))?;
        if keys.is_empty() {
            return Err(format!("{jwks_url}: no signing keys signet can use"));
        }
        Ok(keys)
    }

    async fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        let mut response = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| format!("{url}: {}", error_chain(&e)))?;
        if !response.status().is_success() {
            return Err(format!("{url}: HTTP {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("{url}: {}", error_chain(&e)))?
        {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(format!(
                    "{url}: larger than {MAX_DOCUMENT_BYTES} bytes, the limit for an OIDC document"
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
