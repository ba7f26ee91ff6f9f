//! Serving: the listening socket, TLS (rustls) or plain HTTP behind a
//! proxy, HTTP/1.1 and HTTP/2, connection limits, and graceful shutdown
//! (stop accepting, let in-flight requests finish within the grace period,
//! then close the transparency log).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use signet_core::limits;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt as _;

use crate::app::Services;
use crate::datadir::{DataDir, load};
use crate::error::ServerError;

/// Time allowed for a client to send its request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest HTTP/1 read buffer (bounds request headers).
const MAX_HTTP1_BUFFER: usize = 64 << 10;

/// A certificate and key to serve TLS with.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, SEC1 or PKCS#1).
    pub key: PathBuf,
}

/// How `run` serves.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `--database`: the transparency log's PostgreSQL URL.
    pub database: Option<String>,
    /// TLS; plain HTTP (behind a proxy) when `None`.
    pub tls: Option<TlsFiles>,
}

/// A server accepting connections.
pub struct RunningServer {
    local_addr: SocketAddr,
    services: Arc<Services>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl RunningServer {
    /// The address the server listens on (the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The running services (metrics, configuration).
    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    /// Serves until `signal` resolves, then shuts down gracefully.
    pub async fn run_until(self, signal: impl std::future::Future<Output = ()>) {
        signal.await;
        self.shutdown().await;
    }

    /// Stops accepting, waits for in-flight requests (up to the grace
    /// period), then closes the transparency log.
    pub async fn shutdown(self) {
        self.services.lifecycle.begin_shutdown();
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the accept loop ended abnormally");
        }
        self.services.log.shutdown().await;
        tracing::info!("server stopped");
    }
}

/// Loads the data directory and starts serving.
pub async fn start(
    dir: &Path,
    password: zeroize::Zeroizing<Vec<u8>>,
    options: RunOptions,
) -> Result<RunningServer, ServerError> {
    let data = DataDir::new(dir);
    let loading = data.clone();
    // scrypt makes key decryption CPU-bound: keep it off the async workers.
    let (config, material) = tokio::task::spawn_blocking(move || load(&loading, &password))
        .await
        .map_err(|e| ServerError::Service {
            service: "startup",
            reason: format!("loading the keys failed: {e}"),
        })??;
    let tls = options.tls.as_ref().map(tls_acceptor).transpose()?;
    let services =
        Arc::new(Services::build(&data, config, material, options.database.clone()).await?);
    let listener = TcpListener::bind(options.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: options.listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: options.listen,
        source,
    })?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, tls, services.clone(), stopped));
    tracing::info!(
        address = %local_addr,
        tls = options.tls.is_some(),
        public_url = %services.config.public_url,
        issuers = services.config.oidc_issuers.len(),
        "signet server listening"
    );
    Ok(RunningServer {
        local_addr,
        services,
        stop,
        task,
    })
}

fn tls_acceptor(files: &TlsFiles) -> Result<tokio_rustls::TlsAcceptor, ServerError> {
    let cert_pem = limits::read_file(&files.cert, limits::CERTIFICATE_FILE)
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    let key_pem = limits::read_secret_file(&files.key, limits::KEY_FILE)
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| ServerError::Tls(format!("{}: {e}", files.cert.display())))?;
    if certs.is_empty() {
        return Err(ServerError::Tls(format!(
            "{}: no PEM CERTIFICATE block",
            files.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| ServerError::Tls(format!("{}: {e}", files.key.display())))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            ServerError::Tls(format!(
                "{} and {} do not make a usable certificate and key: {e}",
                files.cert.display(),
                files.key.display()
            ))
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    services: Arc<Services>,
    mut stopped: watch::Receiver<bool>,
) {
    let limits = services.config.limits.clone();
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let router = services.router();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HTTP1_BUFFER);
    // Idle HTTP/1 connections are closed by the header-read timeout (it runs
    // while waiting for the next request); HTTP/2 peers that stop answering
    // pings are dropped.
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20))
        .max_concurrent_streams(128);
    let builder = Arc::new(builder);

    loop {
        // Wait for a connection slot first, so that at the limit the kernel's
        // backlog holds new clients instead of this process.
        let permit = tokio::select! {
            _ = stopped.changed() => break,
            p = connections.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off briefly rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = TowerToHyperService::new(tower::util::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                router.clone().oneshot(request.map(axum::body::Body::new))
            },
        ));
        let watcher = graceful.watcher();
        let builder = builder.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tls {
                Some(acceptor) => {
                    let stream = match tokio::time::timeout(
                        HANDSHAKE_TIMEOUT,
                        acceptor.accept(stream),
                    )
                    .await
                    {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    };
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                None => {
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
            }
        });
    }
    drop(listener);
    let grace = Duration::from_secs(limits.shutdown_grace_seconds);
    tracing::info!(
        connections = graceful.count(),
        grace_seconds = grace.as_secs(),
        "no longer accepting; waiting for in-flight requests"
    );
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests did not finish within the grace period");
    }
}
