//! Reading registry responses: bounded bodies, headers, and turning
//! unsuccessful statuses into errors that blame the right party.

use reqwest::Response;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde::Deserialize;
use signet_core::Digest;

use crate::error::RegistryError;
use crate::manifest;

pub(crate) const DOCKER_CONTENT_DIGEST: &str = "docker-content-digest";
/// Error bodies are only read for a message snippet.
const MAX_ERROR_BODY: usize = 16 << 10;

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
    crate::text::snippet(&parts.join(": "), 400)
}

/// Reads a body of at most `limit` bytes; the limit is enforced on the bytes
/// received, not just on `Content-Length`.
pub(crate) async fn read_limited(
    mut response: Response,
    limit: usize,
    what: &str,
    registry: &str,
) -> Result<Vec<u8>, RegistryError> {
    let too_large = || RegistryError::TooLarge {
        what: what.to_owned(),
        limit,
    };
    let declared = response.content_length();
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let capacity = declared
        .map_or(0, |n| usize::try_from(n).unwrap_or(0))
        .min(limit);
    let mut out = Vec::with_capacity(capacity);
    loop {
        let chunk = response
            .chunk()
            .await
            .map_err(|e| RegistryError::Transport {
                registry: registry.to_owned(),
                message: format!("reading {what}: {}", error_chain(&e)),
            })?;
        let Some(chunk) = chunk else { break };
        if out.len().saturating_add(chunk.len()) > limit {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

#[derive(Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Turns an unsuccessful response into an error blaming the right party.
pub(crate) async fn error_for(response: Response, what: &str, registry: &str) -> RegistryError {
    let status = response.status();
    let body = read_limited(response, MAX_ERROR_BODY, what, registry)
        .await
        .unwrap_or_default();
    let detail = error_detail(status.as_u16(), &body);
    let what = what.to_owned();
    match status.as_u16() {
        404 => RegistryError::NotFound { what, detail },
        401 => RegistryError::Unauthorized { what, detail },
        403 => RegistryError::Denied { what, detail },
        status => RegistryError::Http {
            what,
            status,
            detail,
        },
    }
}

/// `HTTP 404, MANIFEST_UNKNOWN: manifest unknown`, from the registry's error JSON.
pub(crate) fn error_detail(status: u16, body: &[u8]) -> String {
    let first = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .and_then(|b| b.errors.into_iter().next());
    let text = match first {
        Some(ErrorEntry { code, message }) => match (code, message) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c,
            (None, Some(m)) => m,
            (None, None) => String::new(),
        },
        None => String::new(),
    };
    if text.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}, {}", crate::text::snippet(&text, 160))
    }
}

pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// `Content-Type` without parameters.
pub(crate) fn content_type(headers: &HeaderMap) -> Option<String> {
    header_str(headers, CONTENT_TYPE.as_str())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The header's media type unless it is missing or generic, then the
/// document's own `mediaType`, then a guess from its shape.
pub(crate) fn media_type_of(header: Option<String>, bytes: &[u8]) -> String {
    let generic = |t: &str| {
        matches!(
            t,
            "application/json" | "text/plain" | "application/octet-stream"
        )
    };
    if let Some(t) = header.as_deref().filter(|t| !generic(t)) {
        return t.to_owned();
    }
    #[derive(serde::Deserialize)]
    struct Sniff {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Sniff>(bytes) {
        Ok(Sniff {
            media_type: Some(t),
            ..
        }) if !t.is_empty() => t,
        Ok(Sniff {
            manifests: Some(_), ..
        }) => manifest::OCI_INDEX.to_owned(),
        _ => header.unwrap_or_else(|| manifest::OCI_MANIFEST.to_owned()),
    }
}

/// A registry that announces a different digest than the bytes we sent hash
/// to has stored something else.
pub(crate) fn check_announced_digest(
    headers: &HeaderMap,
    digest: &Digest,
    what: &str,
) -> Result<(), RegistryError> {
    match header_str(headers, DOCKER_CONTENT_DIGEST).and_then(|d| d.parse::<Digest>().ok()) {
        Some(announced) if announced != *digest => Err(RegistryError::DigestMismatch {
            what: what.to_owned(),
            expected: digest.clone(),
            actual: announced,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_details() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#;
        assert_eq!(
            error_detail(404, body),
            "HTTP 404, MANIFEST_UNKNOWN: manifest unknown"
        );
        assert_eq!(error_detail(500, b"<html>oops</html>"), "HTTP 500");
        assert_eq!(error_detail(401, br#"{"errors":[]}"#), "HTTP 401");
        let long = format!(
            r#"{{"errors":[{{"code":"X","message":"{}\n"}}]}}"#,
            "m".repeat(500)
        );
        let d = error_detail(400, long.as_bytes());
        assert!(d.len() < 200 && !d.contains('\n'), "{d}");
    }

    #[test]
    fn media_type_fallbacks() {
        let oci = manifest::OCI_MANIFEST.to_owned();
        assert_eq!(media_type_of(Some(oci.clone()), b"junk"), oci);
        let doc = br#"{"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}"#;
        assert_eq!(
            media_type_of(Some("application/json".into()), doc),
            manifest::DOCKER_MANIFEST
        );
        assert_eq!(
            media_type_of(None, br#"{"manifests":[]}"#),
            manifest::OCI_INDEX
        );
        assert_eq!(media_type_of(None, b"\xff"), manifest::OCI_MANIFEST);
        assert_eq!(
            media_type_of(Some("text/plain".into()), b"{}"),
            "text/plain"
        );
    }
}
