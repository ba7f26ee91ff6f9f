//! Which registries may be spoken to over plain HTTP without being told.
//!
//! go-containerregistry (and so cosign) lets a registry fall back to plain
//! HTTP when its name looks local: an RFC 1918 IPv4 address, `localhost`
//! with a port, a `*.localhost` name, `127.0.0.1` or `::1` (with or without a
//! port). For those, and for every registry when `--allow-http-registry` is
//! given, HTTPS is tried first and plain HTTP only when HTTPS fails or has
//! not answered within 300 ms; whichever answers `GET /v2/` with 200 or 401
//! first is used for that registry from then on. Every other registry is
//! HTTPS only.
//!
//! The host patterns are go-containerregistry's current ones, which match
//! `127.0.0.1` and `::1` only as the whole host (older releases, such as the
//! one in cosign 2.5, matched them anywhere in the name, so that
//! `127.0.0.1.example.com` counted as local).

use std::net::Ipv4Addr;

/// Whether `registry` (`host[:port]`) may fall back to plain HTTP without
/// `--allow-http-registry`.
pub(crate) fn plain_http_allowed(registry: &str) -> bool {
    is_rfc1918(registry)
        || registry.starts_with("localhost:")
        || is_dot_localhost(registry)
        || is_ipv4_loopback(registry)
        || is_ipv6_loopback(registry)
}

/// `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, port or not.
fn is_rfc1918(registry: &str) -> bool {
    let host = registry.split(':').next().unwrap_or_default();
    host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_private())
}

/// `.*\.localhost(:\d{1,5})?`
fn is_dot_localhost(registry: &str) -> bool {
    let host = strip_port(registry);
    host.ends_with(".localhost")
}

/// `127\.0\.0\.1(:\d{1,5})?`, the whole name.
fn is_ipv4_loopback(registry: &str) -> bool {
    strip_port(registry) == "127.0.0.1"
}

/// `::1` or `\[::1\](:\d{1,5})?`, the whole name.
fn is_ipv6_loopback(registry: &str) -> bool {
    registry == "::1" || strip_port(registry) == "[::1]"
}

/// `name` without a trailing `:` and one to five digits.
fn strip_port(name: &str) -> &str {
    match name.rsplit_once(':') {
        Some((host, port))
            if (1..=5).contains(&port.len()) && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            host
        }
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_containerregistry_hosts() {
        for local in [
            "127.0.0.1",
            "127.0.0.1:5000",
            "localhost:5000",
            "registry.localhost",
            "registry.localhost:8080",
            "::1",
            "[::1]",
            "[::1]:5000",
            "10.2.3.4",
            "10.2.3.4:5000",
            "172.16.0.1:443",
            "172.31.255.255",
            "192.168.1.10:5000",
        ] {
            assert!(plain_http_allowed(local), "{local}");
        }
        for remote in [
            "index.docker.io",
            "ghcr.io",
            "localhost",
            "localhost.example.com",
            "127.0.0.1.example.com",
            "my127.0.0.1registry.io",
            "127.0.0.2:5000",
            "[2001:db8::1]:5000",
            "172.32.0.1",
            "11.0.0.1",
            "192.169.0.1",
            "registry.local",
            "127.0.0.1:123456",
        ] {
            assert!(!plain_http_allowed(remote), "{remote}");
        }
    }
}
