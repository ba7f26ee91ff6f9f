//! Operations of a running server: the per-client rate limit, graceful
//! shutdown with a request in flight, TLS with HTTP/2, and restarting on the
//! same data directory.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use signet_server::serve::TlsFiles;
use support::{TestServer, openssl};

#[test]
fn the_rate_limit_answers_429_with_retry_after() {
    let server = TestServer::start(
        Vec::new(),
        |c| {
            c.rate_limit.requests_per_second = 0.5;
            c.rate_limit.burst = 3;
        },
        None,
    );
    for _ in 0..3 {
        assert_eq!(server.get("/api/v2/configuration").0, 200);
    }
    let reply = server.post(
        "/api/v1/timestamp",
        "application/json",
        b"{}".to_vec(),
        None,
    );
    assert_eq!(reply.status, 429);
    assert_eq!(reply.retry_after.as_deref(), Some("2"));
    assert!(
        reply
            .message()
            .contains("rate limit exceeded for 127.0.0.1"),
        "{}",
        reply.message()
    );
    // Probes are never limited.
    assert_eq!(server.get("/healthz").0, 200);
    assert_eq!(server.get("/readyz").0, 200);
    let (_, metrics) = server.get("/metrics");
    assert!(
        metrics.contains("signet_http_rate_limited_total 1"),
        "{metrics}"
    );
}

#[test]
fn shutdown_lets_an_in_flight_request_finish_and_stops_accepting() {
    let mut server = TestServer::start(Vec::new(), |_| {}, None);
    let addr = server.server().local_addr();
    // A request whose body has only begun to arrive.
    let mut conn = TcpStream::connect(addr).unwrap();
    let body = br#"{"artifactHash":"AAAA"}"#;
    write!(
        conn,
        "POST /api/v1/timestamp HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    conn.write_all(&body[..5]).unwrap();
    conn.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let stopped = server.begin_shutdown();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !stopped.is_finished(),
        "shutdown waits for the request in flight"
    );
    // New connections are no longer accepted.
    let refused =
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).and_then(|mut c| {
            c.set_read_timeout(Some(Duration::from_millis(500)))?;
            c.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")?;
            let mut buf = [0u8; 64];
            let n = c.read(&mut buf)?;
            Ok(n)
        });
    assert!(
        matches!(refused, Err(_) | Ok(0)),
        "a new connection was served during shutdown: {refused:?}"
    );

    // The in-flight request completes with a full answer.
    conn.write_all(&body[5..]).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("\"code\":400"), "{answer}");
    server.block_on(stopped).unwrap();
}

#[test]
fn tls_with_http2() {
    let dir = tempfile::tempdir().unwrap();
    let Some(out) = openssl(
        dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=signet test server",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
        ],
    ) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tls = TlsFiles {
        cert: dir.path().join("cert.pem"),
        key: dir.path().join("key.pem"),
    };
    let server = TestServer::start(Vec::new(), |_| {}, Some(tls));
    assert!(server.url.starts_with("https://"));
    let cert = std::fs::read(dir.path().join("cert.pem")).unwrap();
    let url = format!("{}/healthz", server.url);
    let (status, version) = server.block_on(async move {
        let client = reqwest::Client::builder()
            .tls_certs_only(reqwest::Certificate::from_pem_bundle(&cert).unwrap())
            .build()
            .unwrap();
        let r = client.get(&url).send().await.unwrap();
        (r.status().as_u16(), r.version())
    });
    assert_eq!(status, 200);
    assert_eq!(version, reqwest::Version::HTTP_11);
    // ALPN offers h2: curl speaks HTTP/2 to the server.
    match std::process::Command::new("curl")
        .args([
            "-s",
            "--http2",
            "--cacert",
            "cert.pem",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version}",
        ])
        .arg(format!("{}/healthz", server.url))
        .current_dir(dir.path())
        .output()
    {
        Ok(out) => assert_eq!(String::from_utf8_lossy(&out.stdout), "2"),
        Err(e) => panic!("curl is required for the HTTP/2 check but cannot run: {e}"),
    }
    // Plain HTTP on the TLS port is not served.
    let plain = server.url.replacen("https://", "http://", 1);
    let failed =
        server.block_on(async move { reqwest::get(format!("{plain}/healthz")).await.is_err() });
    assert!(failed);
}

#[test]
fn a_wrong_password_or_a_damaged_key_stops_the_start() {
    let server = TestServer::start(Vec::new(), |_| {}, None);
    let root = server.root();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let options = signet_server::serve::RunOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: None,
        tls: None,
    };
    let err = runtime
        .block_on(signet_server::serve::start(
            &root,
            zeroize::Zeroizing::new(b"wrong".to_vec()),
            options.clone(),
        ))
        .unwrap_err()
        .to_string();
    assert!(err.contains("keys/"), "{err}");
    assert!(!err.contains('\n'));
    let err = runtime
        .block_on(signet_server::serve::start(
            &root.join("nowhere"),
            zeroize::Zeroizing::new(support::PASSWORD.to_vec()),
            options,
        ))
        .unwrap_err()
        .to_string();
    assert!(err.contains("run `signet server init` first"), "{err}");
}
