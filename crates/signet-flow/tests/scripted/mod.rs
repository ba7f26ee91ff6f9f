//! A scripted registry on 127.0.0.1 for the cases a real one would not
//! serve: manifests crafted to multiply a verifier's work. It serves a fixed
//! set of manifests and blobs by path and counts every request and byte.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use signet_core::Digest;
use signet_core::signature_manifest::{Layer, MediaTypes, SignatureManifest};
use signet_oci::signatures::SignatureStore;
use signet_oci::{ClientOptions, Credential, Reference, RegistryClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// Where a blob's bytes come from: kept, or rebuilt on demand (so that a
/// hundred distinct 1 MiB blobs need not all sit in memory).
#[derive(Clone)]
pub enum Body {
    Bytes(Arc<Vec<u8>>),
    Filled { byte: u8, len: usize },
}

impl Body {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Body::Bytes(b) => b.to_vec(),
            Body::Filled { byte, len } => vec![*byte; *len],
        }
    }
}

#[derive(Default)]
struct Content {
    manifests: HashMap<String, Vec<u8>>,
    blobs: HashMap<String, Body>,
}

pub struct Registry {
    pub addr: String,
    content: Arc<Mutex<Content>>,
    requests: Arc<Mutex<Vec<String>>>,
    bytes_served: Arc<AtomicU64>,
}

pub const REPO: &str = "test/app";

impl Registry {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let content = Arc::new(Mutex::new(Content::default()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let bytes_served = Arc::new(AtomicU64::new(0));
        let (c, r, b) = (content.clone(), requests.clone(), bytes_served.clone());
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let (c, r, b) = (c.clone(), r.clone(), b.clone());
                tokio::spawn(async move {
                    let Some((method, path)) = read_head(&mut sock).await else {
                        return;
                    };
                    r.lock().unwrap().push(format!("{method} {path}"));
                    let reply = respond(&c, &method, &path);
                    b.fetch_add(reply.len() as u64, Ordering::Relaxed);
                    let _ = sock.write_all(&reply).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Self {
            addr,
            content,
            requests,
            bytes_served,
        }
    }

    /// Pushes an image manifest tagged `v1` and returns its digest.
    pub fn image(&self) -> Digest {
        let bytes = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#.to_vec();
        let digest = Digest::sha256_of(&bytes);
        let mut c = self.content.lock().unwrap();
        c.manifests.insert("v1".into(), bytes.clone());
        c.manifests.insert(digest.to_string(), bytes);
        digest
    }

    pub fn blob(&self, body: Body) -> (Digest, u64) {
        let bytes = body.bytes();
        let digest = Digest::sha256_of(&bytes);
        self.content
            .lock()
            .unwrap()
            .blobs
            .insert(digest.to_string(), body);
        (digest, bytes.len() as u64)
    }

    /// Stores `layers` as the image's signature manifest.
    pub fn signatures(&self, image: &Digest, layers: Vec<Layer>) {
        let manifest = SignatureManifest {
            media_types: MediaTypes::Oci,
            layers,
        };
        let bytes = manifest.manifest_bytes(&manifest.config_bytes());
        self.content
            .lock()
            .unwrap()
            .manifests
            .insert(image.signature_tag(), bytes);
    }

    pub fn reference(&self) -> Reference {
        format!("{}/{REPO}:v1", self.addr).parse().unwrap()
    }

    pub fn store(&self) -> SignatureStore {
        let client = RegistryClient::new(ClientOptions {
            allow_http_registry: true,
            credentials: Some(Credential::Anonymous),
            ..ClientOptions::default()
        })
        .unwrap();
        SignatureStore::new(client, None, MediaTypes::Oci)
    }

    /// How many GETs of blobs were served.
    pub fn blob_gets(&self) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.starts_with("GET ") && r.contains("/blobs/"))
            .count()
    }

    pub fn bytes_served(&self) -> u64 {
        self.bytes_served.load(Ordering::Relaxed)
    }
}

async fn read_head(sock: &mut tokio::net::TcpStream) -> Option<(String, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 64 << 10 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut first = head.lines().next()?.split(' ');
    Some((first.next()?.to_owned(), first.next()?.to_owned()))
}

fn respond(content: &Mutex<Content>, method: &str, path: &str) -> Vec<u8> {
    let prefix = format!("/v2/{REPO}/");
    let found = path.strip_prefix(&prefix).and_then(|rest| {
        let c = content.lock().unwrap();
        if let Some(reference) = rest.strip_prefix("manifests/") {
            c.manifests
                .get(reference)
                .map(|m| (m.clone(), OCI_MANIFEST))
        } else if let Some(digest) = rest.strip_prefix("blobs/") {
            c.blobs
                .get(digest)
                .map(|b| (b.bytes(), "application/octet-stream"))
        } else {
            None
        }
    });
    let found = if path == "/v2/" {
        Some((b"{}".to_vec(), "application/json"))
    } else {
        found
    };
    let (status, body, content_type) = match found {
        Some((body, ct)) => ("200 OK", body, ct),
        None => (
            "404 Not Found",
            b"{\"errors\":[{\"code\":\"NOT_FOUND\"}]}".to_vec(),
            "application/json",
        ),
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nDocker-Content-Digest: {}\r\n\r\n",
        body.len(),
        Digest::sha256_of(&body)
    )
    .into_bytes();
    if method != "HEAD" {
        out.extend_from_slice(&body);
    }
    out
}

/// Peak resident memory of this process so far, in bytes (Linux).
pub fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
