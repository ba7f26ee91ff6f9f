//! The HTTP layer under the registry client: one connection pool, URLs,
//! retries of idempotent requests on transient failures, and transport errors
//! with a hint where one helps. It knows nothing about tokens: a request goes
//! out with whatever authorization the caller attaches.

use std::error::Error as _;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, Response, Url};

use crate::error::RegistryError;
use crate::options::ClientOptions;
use crate::response::error_chain;

/// Backoff before the first and second retry of an idempotent request.
const BACKOFF: [Duration; 2] = [Duration::from_millis(100), Duration::from_millis(300)];

/// One request, kept as data so it can be re-sent after a challenge or a retry.
pub(crate) struct Req<'a> {
    pub method: Method,
    pub url: Url,
    pub accept: Option<String>,
    pub content_type: Option<&'a str>,
    pub body: Option<&'a [u8]>,
}

/// The authorization a request carries.
#[derive(Clone)]
pub(crate) enum AuthHeader {
    Bearer(String),
    Basic { username: String, password: String },
}

/// An HTTP client for registries.
pub(crate) struct Transport {
    http: reqwest::Client,
    options: ClientOptions,
}

impl Transport {
    pub fn new(options: ClientOptions) -> Result<Self, RegistryError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(options.user_agent.clone());
        if options.allow_insecure_registry {
            builder = builder.danger_accept_invalid_certs(true);
        } else {
            let tls = crate::tls::client_config()
                .map_err(|e| RegistryError::Setup(format!("TLS configuration: {e}")))?;
            builder = builder.tls_backend_preconfigured(tls);
        }
        let http = builder
            .build()
            .map_err(|e| RegistryError::Setup(error_chain(&e)))?;
        Ok(Self { http, options })
    }

    /// The options this transport was built with.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// The underlying client, for requests outside the registry API (token
    /// endpoints).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn scheme(&self) -> &'static str {
        if self.options.allow_http_registry {
            "http"
        } else {
            "https"
        }
    }

    /// `<scheme>://<registry>/v2/<path>`.
    pub fn url(&self, registry: &str, path: &str) -> Result<Url, RegistryError> {
        let s = format!("{}://{registry}/v2/{path}", self.scheme());
        Url::parse(&s).map_err(|e| RegistryError::Setup(format!("cannot build URL {s:?}: {e}")))
    }

    /// Sends `req` with `auth`, retrying GET/HEAD on transient failures.
    /// Returns the final response whatever its status.
    pub async fn send(
        &self,
        registry: &str,
        req: &Req<'_>,
        auth: Option<&AuthHeader>,
    ) -> Result<Response, RegistryError> {
        let idempotent = req.method == Method::GET || req.method == Method::HEAD;
        let mut attempt = 0;
        loop {
            let result = self.send_once(req, auth).await;
            let transient = match &result {
                Err(e) => is_transient(e),
                // 500 too: Distribution answers it for a tag read while another
                // request writes that tag. Only idempotent requests get here.
                Ok(r) => matches!(r.status().as_u16(), 429 | 500 | 502..=504),
            };
            if idempotent && transient && attempt < BACKOFF.len() {
                tokio::time::sleep(BACKOFF[attempt]).await;
                attempt += 1;
                continue;
            }
            return result.map_err(|e| self.transport_error(registry, &e));
        }
    }

    async fn send_once(
        &self,
        req: &Req<'_>,
        auth: Option<&AuthHeader>,
    ) -> Result<Response, reqwest::Error> {
        let mut builder = self.http.request(req.method.clone(), req.url.clone());
        if let Some(accept) = &req.accept {
            builder = builder.header(ACCEPT, accept.as_str());
        }
        if let Some(ct) = req.content_type {
            builder = builder.header(CONTENT_TYPE, ct);
        }
        if let Some(body) = req.body {
            // Copied per attempt: a retried or re-authenticated request needs the body again.
            builder = builder.body(body.to_vec());
        }
        builder = match auth {
            Some(AuthHeader::Bearer(token)) => builder.bearer_auth(token),
            Some(AuthHeader::Basic { username, password }) => {
                builder.basic_auth(username, Some(password))
            }
            None => builder,
        };
        builder.send().await
    }

    pub fn transport_error(&self, registry: &str, e: &reqwest::Error) -> RegistryError {
        let mut message = error_chain(e);
        let lower = message.to_ascii_lowercase();
        if self.scheme() == "https"
            && [
                "invalidcontenttype",
                "corrupt message",
                "wrong version number",
            ]
            .iter()
            .any(|s| lower.contains(s))
        {
            message
                .push_str("; the registry may be serving plain HTTP: pass --allow-http-registry");
        } else if self.scheme() == "https" && lower.contains("certificate") {
            message.push_str(
                "; for a registry with a self-signed certificate pass --allow-insecure-registry",
            );
        }
        RegistryError::Transport {
            registry: registry.to_owned(),
            message,
        }
    }
}

/// Connection-level failures worth another try: refused or reset connections
/// and keep-alive connections the server closed under us.
/// TLS failures are not retried: they will not go away by themselves.
fn is_transient(e: &reqwest::Error) -> bool {
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            )
        {
            return true;
        }
        if s.to_string()
            .contains("connection closed before message completed")
        {
            return true;
        }
        source = s.source();
    }
    false
}
