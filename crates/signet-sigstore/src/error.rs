//! Errors, one enum per concept and split by blame: a Sigstore service that
//! cannot be reached, refuses, answers nonsense or answers with something
//! that does not verify ([`ServiceError`]); an identity token that cannot be
//! found or read ([`TokenError`]); a TUF refresh that fails ([`TufError`]);
//! and, over all of them, a keyless signature that cannot be made
//! ([`SigningError`]).
//!
//! Every service message names the service and the URL it called, and quotes
//! the server's own message when there is one, so that a failed keyless
//! signature says which of four services failed and why.

use thiserror::Error;

/// A call to a Sigstore service (Fulcio, Rekor, a timestamp authority, an
/// Actions token endpoint) failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The URL given for the service is not usable. The caller is to blame.
    #[error("{service} URL {url:?}: {reason}")]
    InvalidUrl {
        /// Which service.
        service: &'static str,
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The service could not be reached (name resolution, connection, TLS,
    /// timeout). The network or the service is to blame.
    #[error("{service} {url}: {reason}")]
    Unreachable {
        /// Which service.
        service: &'static str,
        /// The URL called.
        url: String,
        /// What failed, with its causes on one line.
        reason: String,
    },
    /// The service answered with an error status. The request or the service
    /// is to blame; `message` is the service's own words.
    #[error("{service} {url}: HTTP {status}{}", message_suffix(.message))]
    Rejected {
        /// Which service.
        service: &'static str,
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The service's message, shortened, or empty.
        message: String,
    },
    /// The answer is larger than signet reads from this service.
    #[error("{service} {url}: response larger than {limit} bytes")]
    TooLarge {
        /// Which service.
        service: &'static str,
        /// The URL called.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// The answer is not what the protocol says it is. The service is to
    /// blame.
    #[error("{service} {url}: malformed response: {reason}")]
    Malformed {
        /// Which service.
        service: &'static str,
        /// The URL called.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The answer parsed but failed a trust check (certificate chain, SCT,
    /// signed entry timestamp, inclusion proof, timestamp). The service, or
    /// the trust material chosen, is to blame; nothing from it was used.
    #[error("{service} {url}: {check}: {reason}")]
    Untrusted {
        /// Which service.
        service: &'static str,
        /// The URL called.
        url: String,
        /// The check that failed.
        check: &'static str,
        /// Why.
        reason: String,
    },
    /// What the caller asked for cannot be done with this service or these
    /// settings (for example a Rekor v2 entry without a timestamp).
    #[error("{service}: {reason}")]
    Unsupported {
        /// Which service.
        service: &'static str,
        /// Why.
        reason: String,
    },
}

fn message_suffix(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(", {message}")
    }
}

/// No usable OIDC identity token.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TokenError {
    /// No source offered a token; lists every source tried.
    #[error(
        "no identity token: tried {tried}; pass --identity-token, set SIGSTORE_ID_TOKEN, or run in a CI job that offers OIDC tokens"
    )]
    NotFound {
        /// The sources tried, in order, with why each gave nothing.
        tried: String,
    },
    /// A source was found but failed.
    #[error("identity token from {source_name}: {reason}")]
    Source {
        /// The source (`--identity-token`, `SIGSTORE_ID_TOKEN`, ...).
        source_name: String,
        /// What failed.
        reason: String,
    },
    /// The token is not a JWT with the claims Fulcio needs.
    #[error("identity token from {source_name} is malformed: {reason}")]
    Malformed {
        /// Where the token came from.
        source_name: String,
        /// What is wrong.
        reason: String,
    },
    /// The token has expired (by its `exp` claim).
    #[error("identity token from {source_name} expired at {expired} (unix seconds), now {now}")]
    Expired {
        /// Where the token came from.
        source_name: String,
        /// The `exp` claim.
        expired: i64,
        /// The current time.
        now: i64,
    },
    /// The Actions token endpoint failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Refreshing the trusted root over TUF failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TufError {
    /// The repository could not be loaded or did not verify.
    #[error("TUF repository {mirror}: {reason}")]
    Repository {
        /// The mirror's URL.
        mirror: String,
        /// What failed, with its causes on one line.
        reason: String,
    },
    /// A target is missing or could not be read.
    #[error("TUF repository {mirror}: target {target}: {reason}")]
    Target {
        /// The mirror's URL.
        mirror: String,
        /// The target's name.
        target: String,
        /// What failed.
        reason: String,
    },
    /// The local cache could not be read or written.
    #[error("TUF cache {path}: {reason}")]
    Cache {
        /// The cache path.
        path: String,
        /// What failed.
        reason: String,
    },
    /// The settings given are unusable (a bad mirror URL, a root file that
    /// cannot be read).
    #[error("TUF: {0}")]
    Config(String),
}

/// Signing with Sigstore services failed: the token, a service, the trust
/// material, or settings that cannot work together.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SigningError {
    /// No usable identity token.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// A service failed or answered with something that does not verify.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// Refreshing the trusted root failed.
    #[error(transparent)]
    Tuf(#[from] TufError),
    /// The trust material cannot be used.
    #[error("trust material: {0}")]
    Trust(String),
    /// The settings cannot work together (conflicting flags, a Rekor v2 log
    /// without a timestamp authority). The caller is to blame.
    #[error("{0}")]
    Config(String),
    /// The signing key failed.
    #[error("signing key: {0}")]
    Key(#[from] signet_core::KeyError),
    /// The services' times do not fit the certificate's lifetime, so the
    /// signature could never verify.
    #[error("signing time: {0}")]
    Timing(String),
}

/// The error and its causes on one line, without repeats.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    snippet(&parts.join(": "), 400)
}

/// `text` on one line, at most `max` characters (on a char boundary).
pub(crate) fn snippet(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.trim();
    match trimmed.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_one_line_and_bounded() {
        assert_eq!(snippet("a\nb\r\tc", 10), "a b  c");
        assert_eq!(snippet("ééééé", 3), "ééé…");
        assert_eq!(snippet("  x  ", 3), "x");
    }

    #[test]
    fn rejected_quotes_the_service() {
        let e = ServiceError::Rejected {
            service: "fulcio",
            url: "http://127.0.0.1:1/api/v2/signingCert".into(),
            status: 401,
            message: "token expired".into(),
        };
        assert_eq!(
            e.to_string(),
            "fulcio http://127.0.0.1:1/api/v2/signingCert: HTTP 401, token expired"
        );
    }
}
