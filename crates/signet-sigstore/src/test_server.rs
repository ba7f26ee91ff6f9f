//! A scripted HTTP server on 127.0.0.1 for the clients' unit tests.

use axum::Router;

/// Serves `router` on a free loopback port for the rest of the test's
/// runtime; returns its base URL.
pub(crate) async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

/// An ES256-shaped JWT with the given claims (unsigned: the clients only
/// read claims).
pub(crate) fn jwt(claims: &serde_json::Value) -> String {
    use base64::Engine as _;
    let b = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.{}",
        b(br#"{"alg":"ES256","typ":"JWT"}"#),
        b(claims.to_string().as_bytes()),
        b(b"signature")
    )
}
