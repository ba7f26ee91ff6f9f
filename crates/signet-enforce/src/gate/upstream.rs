//! Talking to the upstream registry: forwarding requests with streamed
//! bodies, and rewriting what points back at the upstream (the token realm,
//! upload locations) to point at the gate.

use std::time::Duration;

use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Response, StatusCode};
use reqwest::Url;

use crate::serve::{Body, BoxError};

/// Headers that describe one hop, never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Whether `name` is forwarded between client and upstream.
pub(crate) fn forwarded_header(name: &HeaderName) -> bool {
    name != header::HOST && !HOP_BY_HOP.contains(&name.as_str())
}

/// How the gate reaches the upstream.
pub(crate) struct Upstream {
    /// The base URL, without a trailing slash (`https://registry:5000`).
    pub(crate) base: Url,
    /// `host[:port]`, as references name the registry.
    pub(crate) registry: String,
    pub(crate) http: reqwest::Client,
}

/// TLS and timeouts towards the upstream.
#[derive(Debug, Clone, Default)]
pub struct UpstreamTls {
    /// PEM CA certificates to trust instead of the platform's roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Accept any certificate (testing only).
    pub insecure: bool,
}

impl Upstream {
    pub(crate) fn new(url: &str, tls: &UpstreamTls) -> Result<Self, String> {
        let base: Url = url
            .parse()
            .map_err(|e| format!("--upstream {url:?}: not a URL: {e}"))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(format!(
                "--upstream {url:?}: the scheme must be http or https"
            ));
        }
        if base.path() != "/" && !base.path().is_empty() {
            return Err(format!(
                "--upstream {url:?}: give the registry's base URL, without a path"
            ));
        }
        let host = base
            .host_str()
            .ok_or_else(|| format!("--upstream {url:?}: no host"))?;
        let registry = match base.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let mut builder = reqwest::Client::builder()
            // Blob redirects (to object storage) go back to the client, which
            // follows them itself.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .pool_idle_timeout(Duration::from_secs(60))
            .no_proxy()
            .user_agent(concat!("signet-gate/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &tls.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| format!("--upstream-cacert: {e}"))?;
            if certs.is_empty() {
                return Err("--upstream-cacert: no PEM certificate".into());
            }
            builder = builder.tls_certs_only(certs);
        }
        if tls.insecure {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let http = builder
            .build()
            .map_err(|e| format!("cannot build the upstream client: {e}"))?;
        Ok(Self {
            base,
            registry,
            http,
        })
    }

    /// The base URL as a string without a trailing slash.
    pub(crate) fn base_str(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// The upstream URL of `path_and_query` (which starts with `/`).
    pub(crate) fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base_str())
    }

    /// Sends `method path_and_query` upstream with the client's forwarded
    /// headers and, for methods that carry one, its body streamed.
    pub(crate) async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Option<Incoming>,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let mut request = self.http.request(method, self.url(path_and_query));
        for (name, value) in headers {
            if forwarded_header(name) {
                request = request.header(name, value);
            }
        }
        if let Some(body) = body {
            request = request.body(reqwest::Body::wrap_stream(body.into_data_stream()));
        }
        request.send().await
    }
}

/// An error response in the distribution format.
pub(crate) fn registry_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let body = serde_json::json!({"errors": [{"code": code, "message": message}]});
    let mut response = Response::new(crate::serve::full(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// Rewrites the headers of an upstream response for the client: drops
/// hop-by-hop headers, points the bearer realm at the gate's token proxy
/// (via `realm`) and upload locations at the gate.
pub(crate) fn client_headers(
    upstream: &HeaderMap,
    upstream_base: &str,
    gate_base: &str,
    mut realm: impl FnMut(&str) -> Option<String>,
) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(upstream.len());
    for (name, value) in upstream {
        if !forwarded_header(name) {
            continue;
        }
        let rewritten = if name == header::WWW_AUTHENTICATE {
            value
                .to_str()
                .ok()
                .and_then(|v| rewrite_realm(v, &mut realm))
                .and_then(|v| HeaderValue::from_str(&v).ok())
        } else if name == header::LOCATION {
            value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix(upstream_base))
                .filter(|rest| rest.starts_with('/'))
                .and_then(|rest| HeaderValue::from_str(&format!("{gate_base}{rest}")).ok())
        } else {
            None
        };
        out.append(name.clone(), rewritten.unwrap_or_else(|| value.clone()));
    }
    out
}

/// `Bearer realm="R",service="S"` with R replaced by what `realm` maps it
/// to; `None` to leave the header as it is.
fn rewrite_realm(header: &str, realm: &mut impl FnMut(&str) -> Option<String>) -> Option<String> {
    let challenge = signet_oci::www_authenticate::parse(header)
        .into_iter()
        .find(|c| c.is_bearer())?;
    let old = challenge.param("realm")?;
    let new = realm(old)?;
    let quoted = format!("realm=\"{old}\"");
    if !header.contains(&quoted) {
        return None;
    }
    Some(header.replacen(&quoted, &format!("realm=\"{new}\""), 1))
}

/// The upstream response streamed to the client, with rewritten headers.
/// `head` drops the body (a HEAD answer).
pub(crate) fn stream_response(
    upstream: reqwest::Response,
    headers: HeaderMap,
    head: bool,
) -> Response<Body> {
    let status = upstream.status();
    let body = if head {
        crate::serve::empty()
    } else {
        let stream = upstream
            .bytes_stream()
            .map_ok(Frame::data)
            .map_err(|e| Box::new(e) as BoxError);
        StreamBody::new(stream).boxed_unsync()
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// Reads an upstream body, refusing more than `limit` bytes while reading.
pub(crate) async fn read_capped(
    mut upstream: reqwest::Response,
    limit: usize,
) -> Result<Bytes, String> {
    if upstream.content_length().is_some_and(|n| n > limit as u64) {
        return Err(format!("larger than the limit of {limit} bytes"));
    }
    let mut out = Vec::new();
    while let Some(chunk) = upstream.chunk().await.map_err(|e| e.to_string())? {
        if out.len() + chunk.len() > limit {
            return Err(format!("larger than the limit of {limit} bytes"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realm_is_rewritten_and_service_kept() {
        let h = r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a:pull""#;
        let out = rewrite_realm(h, &mut |r: &str| {
            assert_eq!(r, "https://auth.example/token");
            Some("http://127.0.0.1:1/signet/token/0".into())
        })
        .unwrap();
        assert_eq!(
            out,
            r#"Bearer realm="http://127.0.0.1:1/signet/token/0",service="registry.example",scope="repository:a:pull""#
        );
        assert_eq!(
            rewrite_realm(r#"Basic realm="x""#, &mut |_| Some("y".into())),
            None
        );
    }

    #[test]
    fn locations_and_hop_headers() {
        let mut up = HeaderMap::new();
        up.insert(
            header::LOCATION,
            HeaderValue::from_static("http://10.0.0.1:5000/v2/a/blobs/uploads/u?_state=x"),
        );
        up.insert(header::CONNECTION, HeaderValue::from_static("close"));
        up.insert(
            HeaderName::from_static("docker-distribution-api-version"),
            HeaderValue::from_static("registry/2.0"),
        );
        let out = client_headers(&up, "http://10.0.0.1:5000", "http://127.0.0.1:9", |_| None);
        assert_eq!(
            out.get(header::LOCATION).unwrap(),
            "http://127.0.0.1:9/v2/a/blobs/uploads/u?_state=x"
        );
        assert!(out.get(header::CONNECTION).is_none());
        assert!(out.get("docker-distribution-api-version").is_some());
        // A relative location stays as it is.
        let mut up = HeaderMap::new();
        up.insert(
            header::LOCATION,
            HeaderValue::from_static("/v2/a/blobs/uploads/u"),
        );
        let out = client_headers(&up, "http://10.0.0.1:5000", "http://127.0.0.1:9", |_| None);
        assert_eq!(out.get(header::LOCATION).unwrap(), "/v2/a/blobs/uploads/u");
    }
}
