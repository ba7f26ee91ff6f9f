//! The HTTP client every service client shares: rustls with the platform's
//! roots, timeouts, bodies read with a cap while they arrive, and errors that
//! name the service, the URL and the server's own message.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder, Response};
use serde::Deserialize;
use url::Url;

use crate::error::{ServiceError, error_chain, snippet};

/// Error bodies are read only for a message.
const MAX_ERROR_BODY: usize = 16 << 10;
/// The longest server message quoted in an error.
const MAX_MESSAGE_CHARS: usize = 300;

/// How the service clients talk HTTP.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request. Rekor v2 answers only once a
    /// checkpoint covers the new entry, which its servers allow 20 s for.
    pub timeout: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            user_agent: concat!("signet/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// One connection pool for the Sigstore services of a command.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
}

/// A successful answer, its body read whole under a cap.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl HttpClient {
    /// A client with the given timeouts.
    pub fn new(options: &ClientOptions) -> Result<Self, ServiceError> {
        let client = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .user_agent(options.user_agent.clone())
            // Sigstore services do not redirect API calls; a redirect would
            // carry the identity token somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ServiceError::Unsupported {
                service: "http client",
                reason: error_chain(&e),
            })?;
        Ok(Self { client })
    }

    pub(crate) fn request(&self, method: Method, url: &Url) -> RequestBuilder {
        self.client.request(method, url.clone())
    }

    /// Sends `request` and reads a 2xx body of at most `limit` bytes. Other
    /// statuses become [`ServiceError::Rejected`] with the server's message,
    /// unless `accept` lets them through (Rekor's 409 for a duplicate).
    pub(crate) async fn send(
        &self,
        service: &'static str,
        url: &Url,
        request: RequestBuilder,
        limit: usize,
        accept: &[u16],
    ) -> Result<Reply, ServiceError> {
        let response = request
            .send()
            .await
            .map_err(|e| unreachable(service, url, &e))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) && !accept.contains(&status) {
            let body = read_capped(service, url, response, MAX_ERROR_BODY)
                .await
                .unwrap_or_default();
            return Err(ServiceError::Rejected {
                service,
                url: url.to_string(),
                status,
                message: server_message(&body),
            });
        }
        let headers = response.headers().clone();
        let body = read_capped(service, url, response, limit).await?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

fn unreachable(service: &'static str, url: &Url, e: &reqwest::Error) -> ServiceError {
    let reason = if e.is_timeout() {
        format!("timed out: {}", error_chain(e))
    } else if e.is_connect() {
        format!("cannot connect: {}", error_chain(e))
    } else {
        error_chain(e)
    };
    ServiceError::Unreachable {
        service,
        url: url.to_string(),
        reason,
    }
}

/// Reads a body of at most `limit` bytes; the cap applies to the bytes
/// received, not to a declared `Content-Length`.
async fn read_capped(
    service: &'static str,
    url: &Url,
    mut response: Response,
    limit: usize,
) -> Result<Vec<u8>, ServiceError> {
    let too_large = || ServiceError::TooLarge {
        service,
        url: url.to_string(),
        limit,
    };
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| unreachable(service, url, &e))?
    {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[derive(Deserialize)]
struct MessageBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// The message of an error body: grpc-gateway's and Rekor's
/// `{"code":…,"message":…}`, `{"error":…}`, or the text itself.
pub(crate) fn server_message(body: &[u8]) -> String {
    if let Ok(parsed) = serde_json::from_slice::<MessageBody>(body)
        && let Some(m) = parsed.message.or(parsed.error)
    {
        return snippet(&m, MAX_MESSAGE_CHARS);
    }
    snippet(&String::from_utf8_lossy(body), MAX_MESSAGE_CHARS)
}

/// A service's base URL, checked: http or https, a host, no query or
/// fragment, no credentials.
pub(crate) fn base_url(service: &'static str, text: &str) -> Result<Url, ServiceError> {
    let invalid = |reason: String| ServiceError::InvalidUrl {
        service,
        url: snippet(text, 200),
        reason,
    };
    let url = Url::parse(text.trim()).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "scheme {:?} is not http or https",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a base URL takes no query or fragment".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("credentials in URLs are not accepted".into()));
    }
    Ok(url)
}

/// `base` with `path` appended (`https://x/prefix` + `/api/v2/y`).
pub(crate) fn endpoint(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    url.set_path(&joined);
    url
}

/// A header value that is never printed (tokens).
pub(crate) fn sensitive(value: &str) -> Option<HeaderValue> {
    let mut v = HeaderValue::from_str(value).ok()?;
    v.set_sensitive(true);
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked() {
        assert!(base_url("fulcio", "https://fulcio.sigstore.dev").is_ok());
        assert!(base_url("fulcio", "http://127.0.0.1:8080/prefix/").is_ok());
        for bad in [
            "ftp://x",
            "https://",
            "https://x/?q=1",
            "https://u:p@x",
            "not a url",
        ] {
            let e = base_url("fulcio", bad).unwrap_err().to_string();
            assert!(e.starts_with("fulcio URL"), "{e}");
        }
    }

    #[test]
    fn endpoints_join_paths() {
        let base = base_url("rekor", "https://rekor.example/prefix/").unwrap();
        assert_eq!(
            endpoint(&base, "/api/v1/log/entries").as_str(),
            "https://rekor.example/prefix/api/v1/log/entries"
        );
        let bare = base_url("rekor", "https://rekor.example").unwrap();
        assert_eq!(
            endpoint(&bare, "api/v1/log").as_str(),
            "https://rekor.example/api/v1/log"
        );
    }

    #[test]
    fn server_messages() {
        assert_eq!(
            server_message(br#"{"code":3,"message":"bad key"}"#),
            "bad key"
        );
        assert_eq!(server_message(b"plain\ntext"), "plain text");
        assert_eq!(server_message(br#"{"error":"nope"}"#), "nope");
    }
}
