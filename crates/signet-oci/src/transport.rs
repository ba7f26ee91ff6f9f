//! The HTTP layer under the registry client: one connection pool, the
//! scheme each registry is spoken to with, URLs, retries of idempotent
//! requests on transient failures, and transport errors with a hint where
//! one helps. It knows nothing about tokens: a request goes out with
//! whatever authorization the caller attaches.

use std::collections::HashMap;
use std::error::Error as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, Response, StatusCode, Url};
use tokio::sync::OnceCell;

use crate::error::RegistryError;
use crate::options::ClientOptions;
use crate::response::{error_chain, error_detail, read_limited};
use crate::scheme::plain_http_allowed;

/// Backoff before the first and second retry of an idempotent request.
const BACKOFF: [Duration; 2] = [Duration::from_millis(100), Duration::from_millis(300)];
/// How long HTTPS has to answer before plain HTTP is tried as well, for
/// registries that may fall back (go-containerregistry's value).
const FALLBACK_DELAY: Duration = Duration::from_millis(300);
/// The body of a `/v2/` probe is read (to reuse the connection) up to this.
const MAX_PROBE_BODY: usize = 16 << 10;

/// How a registry is spoken to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Scheme {
    Https,
    Http,
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }
}

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
    /// For registries that may fall back to plain HTTP: the scheme found by
    /// probing, once per registry.
    schemes: Mutex<HashMap<String, Arc<OnceCell<Scheme>>>>,
}

impl Transport {
    pub fn new(options: ClientOptions) -> Result<Self, RegistryError> {
        let tls = crate::tls::client_config(&options)
            .map_err(|e| RegistryError::Setup(format!("TLS configuration: {e}")))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(options.user_agent.clone())
            .tls_backend_preconfigured(tls)
            .build()
            .map_err(|e| RegistryError::Setup(error_chain(&e)))?;
        Ok(Self {
            http,
            options,
            schemes: Mutex::new(HashMap::new()),
        })
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

    /// Whether `registry` may fall back to plain HTTP.
    fn may_use_http(&self, registry: &str) -> bool {
        self.options.allow_http_registry || plain_http_allowed(registry)
    }

    /// The scheme `registry` is spoken to with: HTTPS, unless it may fall
    /// back to plain HTTP and a probe found only that answering.
    pub async fn scheme(&self, registry: &str) -> Result<Scheme, RegistryError> {
        if !self.may_use_http(registry) {
            return Ok(Scheme::Https);
        }
        let cell = self
            .schemes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(registry.to_owned())
            .or_default()
            .clone();
        cell.get_or_try_init(|| self.probe(registry)).await.copied()
    }

    /// Whether `registry` turned out to speak plain HTTP.
    pub fn is_plain_http(&self, registry: &str) -> bool {
        self.schemes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(registry)
            .and_then(|cell| cell.get().copied())
            == Some(Scheme::Http)
    }

    /// Finds the scheme of a registry that may fall back to plain HTTP, as
    /// go-containerregistry does: `GET /v2/` over HTTPS first; over plain
    /// HTTP as soon as that fails, or alongside it once it has taken
    /// [`FALLBACK_DELAY`]. The first to answer 200 or 401 wins.
    async fn probe(&self, registry: &str) -> Result<Scheme, RegistryError> {
        let https = self.ping(Scheme::Https, registry);
        tokio::pin!(https);
        let first = tokio::select! {
            result = &mut https => Some(result),
            () = tokio::time::sleep(FALLBACK_DELAY) => None,
        };
        let failed = |https: String, http: String| RegistryError::Transport {
            registry: registry.to_owned(),
            message: format!(
                "over HTTPS: {https}; over plain HTTP: {http}{}",
                tls_hint(&https)
            ),
        };
        match first {
            Some(Ok(())) => Ok(Scheme::Https),
            Some(Err(https_error)) => match self.ping(Scheme::Http, registry).await {
                Ok(()) => Ok(Scheme::Http),
                Err(http_error) => Err(failed(https_error, http_error)),
            },
            None => {
                let http = self.ping(Scheme::Http, registry);
                tokio::pin!(http);
                tokio::select! {
                    result = &mut https => match result {
                        Ok(()) => Ok(Scheme::Https),
                        Err(https_error) => match http.await {
                            Ok(()) => Ok(Scheme::Http),
                            Err(http_error) => Err(failed(https_error, http_error)),
                        },
                    },
                    result = &mut http => match result {
                        Ok(()) => Ok(Scheme::Http),
                        Err(http_error) => match https.await {
                            Ok(()) => Ok(Scheme::Https),
                            Err(https_error) => Err(failed(https_error, http_error)),
                        },
                    },
                }
            }
        }
    }

    /// `GET <scheme>://<registry>/v2/`: whether it answers as a registry.
    async fn ping(&self, scheme: Scheme, registry: &str) -> Result<(), String> {
        let url = self
            .url_with(scheme, registry, "")
            .map_err(|e| e.to_string())?;
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| error_chain(&e))?;
        let status = response.status();
        let body = read_limited(response, MAX_PROBE_BODY, "ping", registry)
            .await
            .unwrap_or_default();
        match status {
            StatusCode::OK | StatusCode::UNAUTHORIZED => Ok(()),
            _ => Err(error_detail(status.as_u16(), &body)),
        }
    }

    /// `<scheme>://<registry>/v2/<path>`, with the registry's scheme.
    pub async fn url(&self, registry: &str, path: &str) -> Result<Url, RegistryError> {
        let scheme = self.scheme(registry).await?;
        self.url_with(scheme, registry, path)
    }

    fn url_with(&self, scheme: Scheme, registry: &str, path: &str) -> Result<Url, RegistryError> {
        let s = format!("{}://{registry}/v2/{path}", scheme.as_str());
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
        // Registries that may fall back were probed over both schemes already.
        let https_only = !self.may_use_http(registry);
        if https_only
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
        } else if !self.is_plain_http(registry) {
            message.push_str(tls_hint(&message));
        }
        RegistryError::Transport {
            registry: registry.to_owned(),
            message,
        }
    }
}

/// What to try when a TLS handshake failed, by who refused whom.
fn tls_hint(message: &str) -> &'static str {
    let lower = message.to_ascii_lowercase();
    if lower.contains("not valid for name") {
        "; if the certificate names the registry differently, pass --registry-server-name"
    } else if lower.contains("invalid peer certificate") {
        "; for a registry whose certificate does not verify pass --registry-cacert (or --allow-insecure-registry)"
    } else if lower.contains("alert") && lower.contains("certificate") {
        "; the registry refused the handshake: it may require a client certificate (--registry-client-cert, --registry-client-key)"
    } else {
        ""
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_who_refused_whom() {
        assert!(tls_hint("invalid peer certificate: UnknownIssuer").contains("--registry-cacert"));
        assert!(
            tls_hint(r#"invalid peer certificate: certificate not valid for name "127.0.0.1""#)
                .contains("--registry-server-name")
        );
        assert!(
            tls_hint("received fatal alert: BadCertificate").contains("--registry-client-cert")
        );
        assert_eq!(tls_hint("connection refused"), "");
    }

    /// Serves plain HTTP on loopback: a TLS ClientHello gets a 400, as from
    /// any HTTP server, and `GET /v2/` gets `v2_status`.
    async fn plain_http_server(v2_status: &'static str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let n = stream.read(&mut buf).await.unwrap_or(0);
                // A TLS ClientHello starts with a handshake record (22).
                let reply = if n > 0 && buf[0] == 22 {
                    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_owned()
                } else {
                    format!(
                        "HTTP/1.1 {v2_status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
                    )
                };
                let _ = stream.write_all(reply.as_bytes()).await;
            }
        });
        address
    }

    /// A server that answers the TLS handshake in plain HTTP is a registry
    /// only if its `GET /v2/` says so: a web server on the wrong port is
    /// refused with both probes' reasons, not taken for a registry whose
    /// images are all missing.
    #[tokio::test]
    async fn plain_http_must_answer_v2_as_a_registry() {
        let transport = Transport::new(ClientOptions::default()).unwrap();
        let registry = plain_http_server("200 OK").await;
        assert_eq!(transport.scheme(&registry).await.unwrap(), Scheme::Http);
        let web_server = plain_http_server("404 Not Found").await;
        let message = transport.scheme(&web_server).await.unwrap_err().to_string();
        assert!(
            message.contains("over HTTPS")
                && message.contains("over plain HTTP")
                && message.contains("404"),
            "{message}"
        );
    }
}
