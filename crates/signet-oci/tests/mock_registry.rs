//! Protocol edge cases against a scripted HTTP server on 127.0.0.1: the
//! bearer-token flow, Basic challenges, refresh tokens, retries, digest and
//! size checks, and upload Locations.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use signet_oci::{ClientOptions, Credential, Digest, RegistryClient, RegistryError, RepositoryRef};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

#[derive(Default)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Send the body chunked, without Content-Length.
    chunked: bool,
}

fn reply(status: u16) -> Reply {
    Reply {
        status,
        ..Reply::default()
    }
}

impl Reply {
    fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
    fn body(mut self, b: impl Into<Vec<u8>>) -> Self {
        self.body = b.into();
        self
    }
    fn chunked_body(mut self) -> Self {
        self.chunked = true;
        self
    }
}

type Handler = dyn Fn(&Request, &str) -> Reply + Send + Sync;

/// Serves one request per connection; `handler` gets the request and the
/// server's own `host:port`.
struct Mock {
    addr: String,
    log: Arc<Mutex<Vec<Request>>>,
}

impl Mock {
    async fn start(handler: impl Fn(&Request, &str) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let (log2, addr2) = (log.clone(), addr.clone());
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let (handler, log, addr) = (handler.clone(), log2.clone(), addr2.clone());
                tokio::spawn(async move {
                    let Some(req) = read_request(&mut sock).await else {
                        return;
                    };
                    // The client probes `/v2/` once to learn the scheme of a
                    // loopback registry; that is not what these tests are about.
                    let r = if req.method == "GET" && req.path == "/v2/" {
                        reply(200)
                    } else {
                        log.lock().unwrap().push(req.clone());
                        handler(&req, &addr)
                    };
                    let _ = sock.write_all(&encode(&r, req.method == "HEAD")).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Self { addr, log }
    }

    fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    fn repo(&self, name: &str) -> RepositoryRef {
        format!("{}/{name}", self.addr).parse().unwrap()
    }
}

async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn encode(r: &Reply, head_only: bool) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", r.status).into_bytes();
    for (k, v) in &r.headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    let has_length = r
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
    if r.chunked {
        out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        for part in r.body.chunks(1000) {
            out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            out.extend_from_slice(part);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        return out;
    }
    if !has_length {
        out.extend_from_slice(format!("Content-Length: {}\r\n", r.body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    if !head_only {
        out.extend_from_slice(&r.body);
    }
    out
}

fn client(credentials: Credential) -> RegistryClient {
    RegistryClient::new(ClientOptions {
        allow_http_registry: true,
        credentials: Some(credentials),
        ..ClientOptions::default()
    })
    .unwrap()
}

fn basic(u: &str, p: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
    )
}

const MANIFEST: &[u8] =
    br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#;
const OCI: &str = "application/vnd.oci.image.manifest.v1+json";

#[tokio::test]
async fn bearer_flow_with_basic_credentials_and_token_cache() {
    let mock = Mock::start(|req, addr| {
        if req.path.starts_with("/token") {
            if req.header("authorization") != Some(basic("alice", "pw").as_str()) {
                return reply(401);
            }
            assert!(req.path.contains("service=mock") && req.path.contains("scope=repository%3Aorg%2Fapp%3Apull"));
            return reply(200).body(r#"{"token":"tok-1","expires_in":300}"#);
        }
        if req.header("authorization") != Some("Bearer tok-1") {
            let challenge =
                format!(r#"Bearer realm="http://{addr}/token",service="mock",scope="repository:org/app:pull""#);
            return reply(401).header("WWW-Authenticate", &challenge).body(r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#);
        }
        reply(200).header("Content-Type", OCI).body(MANIFEST)
    })
    .await;
    let c = client(Credential::Basic {
        username: "alice".into(),
        password: "pw".into(),
    });
    let repo = mock.repo("org/app");
    let m = c.get_manifest(&repo, "v1").await.unwrap();
    assert_eq!((m.bytes.as_slice(), m.media_type.as_str()), (MANIFEST, OCI));
    c.clone().get_manifest(&repo, "v1").await.unwrap();
    let paths: Vec<_> = mock.requests().iter().map(|r| r.path.clone()).collect();
    // 401, token, retry, then the cached token is used straight away.
    assert_eq!(
        paths.iter().filter(|p| p.starts_with("/token")).count(),
        1,
        "{paths:?}"
    );
    assert_eq!(paths.len(), 4, "{paths:?}");

    let wrong = client(Credential::Basic {
        username: "alice".into(),
        password: "nope".into(),
    });
    let err = wrong.get_manifest(&repo, "v1").await.unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err}");
}

#[tokio::test]
async fn identity_token_is_exchanged_by_post() {
    let mock = Mock::start(|req, addr| match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/token") => {
            let form = String::from_utf8_lossy(&req.body);
            assert!(
                form.contains("grant_type=refresh_token") && form.contains("refresh_token=rt%2B1"),
                "{form}"
            );
            assert!(
                form.contains("scope=repository%3Aapp%3Apull%2Cpush"),
                "{form}"
            );
            reply(200).body(r#"{"access_token":"acc"}"#)
        }
        _ if req.header("authorization") == Some("Bearer acc") => reply(202),
        _ => reply(401).header(
            "WWW-Authenticate",
            &format!(r#"Bearer realm="http://{addr}/token""#),
        ),
    })
    .await;
    let c = client(Credential::IdentityToken("rt+1".into()));
    // The HEAD before an upload asks for a push token. Its 202 is not an
    // answer a HEAD may give, but it proves the token was used.
    let err = c.push_blob(&mock.repo("app"), b"x").await.unwrap_err();
    assert!(
        matches!(err, RegistryError::Http { status: 202, .. }),
        "{err}"
    );
    let last = mock.requests().pop().unwrap();
    assert_eq!(last.header("authorization"), Some("Bearer acc"));
}

#[tokio::test]
async fn basic_challenge_and_anonymous_refusal() {
    let mock = Mock::start(|req, _| {
        if req.header("authorization") == Some(basic("bob", "s3").as_str()) {
            reply(200).header(
                "Docker-Content-Digest",
                &Digest::sha256_of(b"blob").to_string(),
            )
        } else {
            reply(401).header("WWW-Authenticate", r#"Basic realm="Registry Realm""#)
        }
    })
    .await;
    let repo = mock.repo("app");
    let d = Digest::sha256_of(b"blob");
    let c = client(Credential::Basic {
        username: "bob".into(),
        password: "s3".into(),
    });
    assert!(c.blob_exists(&repo, &d).await.unwrap());
    assert!(c.blob_exists(&repo, &d).await.unwrap());
    // After the first challenge credentials go along up front.
    assert_eq!(mock.requests().len(), 3);

    let err = client(Credential::Anonymous)
        .blob_exists(&repo, &d)
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err}");
    assert!(err.to_string().contains(&repo.to_string()), "{err}");
}

#[tokio::test]
async fn retries_idempotent_requests_only() {
    let count = Arc::new(Mutex::new(0));
    let seen = count.clone();
    let mock = Mock::start(move |req, _| {
        if req.method == "PUT" {
            return reply(503).body(r#"{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}"#);
        }
        let mut n = seen.lock().unwrap();
        *n += 1;
        if *n <= 2 {
            reply(503)
        } else {
            reply(200).header("Content-Type", OCI).body(MANIFEST)
        }
    })
    .await;
    let c = client(Credential::Anonymous);
    let repo = mock.repo("app");
    c.get_manifest(&repo, "v1").await.unwrap();
    assert_eq!(*count.lock().unwrap(), 3);
    let err = c
        .put_manifest(&repo, "v1", MANIFEST, OCI)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::Http { status: 503, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("UNAVAILABLE: try later"), "{err}");
    assert_eq!(
        mock.requests().iter().filter(|r| r.method == "PUT").count(),
        1
    );
}

#[tokio::test]
async fn verifies_digests_and_limits() {
    let big = vec![b'a'; 10_000];
    let mock = Mock::start(move |req, _| match req.path.as_str() {
        p if p.ends_with("/manifests/big") => reply(200).body(big.clone()).chunked_body(),
        p if p.contains("/blobs/") => reply(200).body("not the blob"),
        _ if req.method == "HEAD" => reply(200).header("Content-Type", OCI),
        _ => reply(200).header("Content-Type", OCI).body(MANIFEST),
    })
    .await;
    let repo = mock.repo("app");
    let c = RegistryClient::new(ClientOptions {
        allow_http_registry: true,
        credentials: Some(Credential::Anonymous),
        max_manifest_bytes: 5_000,
        ..ClientOptions::default()
    })
    .unwrap();
    let err = c.get_manifest(&repo, "big").await.unwrap_err();
    assert!(
        matches!(err, RegistryError::TooLarge { limit: 5000, .. }),
        "{err}"
    );

    let wanted = Digest::sha256_of(b"something else");
    let err = c
        .get_manifest(&repo, &wanted.to_string())
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::DigestMismatch { .. }), "{err}");
    let err = c.get_blob(&repo, &wanted, 1000).await.unwrap_err();
    assert!(matches!(err, RegistryError::DigestMismatch { .. }), "{err}");

    // HEAD without Docker-Content-Digest falls back to GET.
    let desc = c.head_manifest(&repo, "v1").await.unwrap().unwrap();
    assert_eq!(desc.digest, Digest::sha256_of(MANIFEST));
    assert_eq!(desc.size, MANIFEST.len() as u64);

    for bad in ["../../x", "sha256:short", "a b"] {
        let err = c.get_manifest(&repo, bad).await.unwrap_err();
        assert!(matches!(err, RegistryError::Reference(_)), "{err}");
    }
}

#[tokio::test]
async fn blob_upload_follows_location_and_reports_denial() {
    let mock = Mock::start(|req, addr| match (req.method.as_str(), req.path.as_str()) {
        ("HEAD", _) => reply(404),
        ("POST", p) if p.contains("/denied/") => reply(403)
            .header("Content-Type", "application/json")
            .body(r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#),
        ("POST", _) => reply(202).header("Location", &format!("http://{addr}/upload/abc?_state=xyz")),
        ("PUT", p) if p.starts_with("/upload/abc?_state=xyz&digest=sha256%3A") => {
            let digest = Digest::sha256_of(&req.body);
            reply(201).header("Docker-Content-Digest", &digest.to_string())
        }
        _ => reply(400),
    })
    .await;
    let c = client(Credential::Anonymous);
    let d = c
        .push_blob(&mock.repo("app"), b"layer bytes")
        .await
        .unwrap();
    assert_eq!(d, Digest::sha256_of(b"layer bytes"));
    let put = mock
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    assert_eq!(put.body, b"layer bytes");
    assert_eq!(put.header("content-type"), Some("application/octet-stream"));

    let err = c.push_blob(&mock.repo("denied"), b"x").await.unwrap_err();
    assert!(matches!(err, RegistryError::Denied { .. }), "{err}");
    assert!(
        err.to_string().contains("DENIED: requested access"),
        "{err}"
    );
}

#[tokio::test]
async fn given_bearer_token_is_sent_and_cached() {
    let mock = Mock::start(|req, addr| {
        if req.header("authorization") == Some("Bearer given") {
            reply(200).header("Content-Type", OCI).body(MANIFEST)
        } else {
            reply(401).header(
                "WWW-Authenticate",
                &format!(r#"Bearer realm="http://{addr}/token""#),
            )
        }
    })
    .await;
    let c = client(Credential::Bearer("given".into()));
    let repo = mock.repo("app");
    c.get_manifest(&repo, "v1").await.unwrap();
    c.get_manifest(&repo, "v1").await.unwrap();
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 3, "{reqs:?}");
    assert!(reqs.iter().all(|r| !r.path.starts_with("/token")));
}
