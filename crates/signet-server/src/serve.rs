//! Serving: the listening socket, TLS (rustls) or plain HTTP behind a
//! proxy, HTTP/1.1 and HTTP/2, connection limits, and graceful shutdown
//! (stop accepting, let in-flight requests finish within the grace period,
//! then close the transparency log).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt as _;

use crate::app::Services;
use crate::datadir::{DataDir, load};
use crate::error::ServerError;

/// Time allowed for a client to send its request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
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
    signet_serve::tls_acceptor(&files.cert, &files.key).map_err(ServerError::Tls)
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    services: Arc<Services>,
    stopped: watch::Receiver<bool>,
) {
    let limits = &services.config.limits;
    let connection_limits = signet_serve::ConnectionLimits {
        max_connections: limits.max_connections,
        shutdown_grace: Duration::from_secs(limits.shutdown_grace_seconds),
        header_timeout: HEADER_TIMEOUT,
        max_http1_buffer: MAX_HTTP1_BUFFER,
        max_http2_streams: 128,
    };
    let router = services.router();
    let service_for = move |peer: SocketAddr| {
        let router = router.clone();
        TowerToHyperService::new(tower::util::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                router.clone().oneshot(request.map(axum::body::Body::new))
            },
        ))
    };
    signet_serve::accept_loop(listener, tls, connection_limits, service_for, stopped).await;
}
