//! Serving HTTP for the gate and the webhook: their response bodies, and a
//! handle on the running server. Connections (TLS, HTTP/1.1 and HTTP/2,
//! limits, timeouts, graceful shutdown) are `signet-serve`'s, as for
//! `signet server`.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::EnforceError;

/// A response body: bytes, streamed or not.
pub type Body = UnsyncBoxBody<Bytes, BoxError>;
/// The error a streamed body may end with.
pub use signet_serve::BoxError;

/// An empty body.
pub fn empty() -> Body {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// A body holding `bytes`.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// How long a client may take to send its request headers (also closes idle
/// HTTP/1 keep-alive connections).
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Connection and shutdown limits.
#[derive(Debug, Clone)]
pub struct ServeLimits {
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// How long in-flight requests may run after shutdown begins.
    pub shutdown_grace: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

/// A TLS acceptor from a PEM certificate chain and key file.
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, EnforceError> {
    signet_serve::tls_acceptor(cert, key).map_err(EnforceError::Tls)
}

/// A running server.
pub struct Server {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, lets in-flight requests finish (within the grace
    /// period), and returns when done.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Serves until `signal` resolves, then shuts down gracefully.
    pub async fn run_until(self, signal: impl Future<Output = ()>) {
        signal.await;
        self.shutdown().await;
    }
}

/// Binds `addr`.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, EnforceError> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| EnforceError::Listen(format!("cannot listen on {addr}: {e}")))
}

/// Serves `handler` on `listener` (with TLS when `tls` is given) until
/// [`Server::shutdown`].
pub fn spawn<H, Fut>(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: ServeLimits,
    handler: H,
) -> Result<Server, EnforceError>
where
    H: Fn(Request<Incoming>, SocketAddr) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let local_addr = listener
        .local_addr()
        .map_err(|e| EnforceError::Listen(e.to_string()))?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, tls, limits, handler, stopped));
    Ok(Server {
        local_addr,
        stop,
        task,
    })
}

async fn accept_loop<H, Fut>(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: ServeLimits,
    handler: H,
    stopped: watch::Receiver<bool>,
) where
    H: Fn(Request<Incoming>, SocketAddr) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let limits = signet_serve::ConnectionLimits {
        max_connections: limits.max_connections,
        shutdown_grace: limits.shutdown_grace,
        header_timeout: HEADER_TIMEOUT,
        max_http1_buffer: 256 * 1024,
        max_http2_streams: 256,
    };
    let service_for = move |peer: SocketAddr| {
        let handler = handler.clone();
        service_fn(move |request: Request<Incoming>| {
            let response = handler(request, peer);
            async move { Ok::<_, Infallible>(response.await) }
        })
    };
    signet_serve::accept_loop(listener, tls, limits, service_for, stopped).await;
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    signet_serve::shutdown_signal().await;
}
