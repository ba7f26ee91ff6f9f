//! Image and repository references, parsed the way docker and
//! go-containerregistry parse them.
//!
//! `debian` means `index.docker.io/library/debian:latest`; the first path
//! component is a registry host only when it looks like one (contains `.` or
//! `:`, is `localhost`, or has uppercase letters), so `user/app` is a Docker Hub
//! repository while `ghcr.io/user/app` is not.

use std::fmt;
use std::str::FromStr;

use crate::digest::Digest;
use thiserror::Error;

/// Docker Hub's registry host as go-containerregistry and cosign spell it.
pub const DOCKER_HUB: &str = "index.docker.io";
const DOCKER_HUB_ALIAS: &str = "docker.io";
const DEFAULT_TAG: &str = "latest";
/// Distribution's limit on the length of a repository name.
const MAX_REPOSITORY_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;

/// A reference that does not parse. Each variant names the offending input
/// (shortened to about 80 characters).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReferenceError {
    /// The empty string.
    #[error("empty image reference")]
    Empty,
    /// The registry host part is malformed.
    #[error("invalid registry {registry:?} in reference {input:?}: {reason}")]
    Registry {
        /// The whole reference.
        input: String,
        /// The registry part.
        registry: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The repository path is malformed.
    #[error("invalid repository in reference {input:?}: {reason}")]
    Repository {
        /// The whole reference.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The tag is malformed.
    #[error(
        "invalid tag {tag:?} in reference {input:?}: a tag is 1-128 characters of letters, digits, '_', '.' and '-', not starting with '.' or '-'"
    )]
    Tag {
        /// The whole reference.
        input: String,
        /// The tag part.
        tag: String,
    },
    /// The digest is malformed or not sha256.
    #[error(
        "invalid digest {digest:?} in reference {input:?}: expected sha256:<64 lowercase hex digits>"
    )]
    Digest {
        /// The whole reference.
        input: String,
        /// The digest part.
        digest: String,
    },
    /// A repository reference (such as `COSIGN_REPOSITORY`) carried a tag or digest.
    #[error("repository reference {input:?} must not include a tag or digest")]
    UnexpectedTagOrDigest {
        /// The whole reference.
        input: String,
    },
}

/// A repository on a registry, without tag or digest: `ghcr.io/org/app`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepositoryRef {
    registry: String,
    repository: String,
}

/// An image reference: a repository plus a tag, a digest, or both.
///
/// When neither is given the tag defaults to `latest`. When both are given
/// (`app:v1@sha256:…`) the digest is what gets fetched; the tag is kept only
/// for display.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    repo: RepositoryRef,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl RepositoryRef {
    /// A repository from its parts, validated and normalised like a parsed one
    /// (`docker.io` becomes `index.docker.io`, Docker Hub gets `library/`).
    pub fn new(registry: &str, repository: &str) -> Result<Self, ReferenceError> {
        let input = format!("{registry}/{repository}");
        build_repository(&input, registry, repository)
    }

    /// The registry host, with port if any: `index.docker.io`, `localhost:5000`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path within the registry: `library/debian`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// `registry/repository`, the form cosign writes as the payload's
    /// `docker-reference`: `index.docker.io/library/debian`.
    pub fn repo_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// A reference to `tag` in this repository.
    pub fn tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        validate_tag(tag, tag)?;
        Ok(Reference {
            repo: self.clone(),
            tag: Some(tag.to_owned()),
            digest: None,
        })
    }

    /// A reference to `digest` in this repository.
    pub fn digest(&self, digest: Digest) -> Reference {
        Reference {
            repo: self.clone(),
            tag: None,
            digest: Some(digest),
        }
    }
}

impl FromStr for RepositoryRef {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts = split_reference(s)?;
        if parts.tag.is_some() || parts.digest.is_some() {
            return Err(ReferenceError::UnexpectedTagOrDigest { input: shorten(s) });
        }
        parse_name(s, parts.name)
    }
}

impl fmt::Display for RepositoryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)
    }
}

impl fmt::Debug for RepositoryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RepositoryRef({self})")
    }
}

impl Reference {
    /// The registry host, with port if any.
    pub fn registry(&self) -> &str {
        self.repo.registry()
    }

    /// The repository path within the registry.
    pub fn repository(&self) -> &str {
        self.repo.repository()
    }

    /// The repository this reference points into.
    pub fn repository_ref(&self) -> &RepositoryRef {
        &self.repo
    }

    /// The tag, if any (`latest` when the input had neither tag nor digest).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if any.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// `registry/repository`, what cosign puts in the payload's
    /// `docker-reference`.
    pub fn repo_name(&self) -> String {
        self.repo.repo_name()
    }

    /// The same repository at `digest`; the tag is dropped so the result names
    /// exactly one manifest.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        self.repo.digest(digest)
    }

    /// The same repository at `tag`; any digest is dropped.
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        self.repo.tag(tag)
    }

    /// The same tag and digest in another repository, as `COSIGN_REPOSITORY`
    /// moves signatures.
    pub fn in_repository(&self, repo: &RepositoryRef) -> Reference {
        Reference {
            repo: repo.clone(),
            tag: self.tag.clone(),
            digest: self.digest.clone(),
        }
    }

    /// What goes after `/manifests/` in the API: the digest if present, else
    /// the tag.
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            // Unreachable by construction, but `latest` is the honest default.
            (None, None) => DEFAULT_TAG.to_owned(),
        }
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts = split_reference(s)?;
        let repo = parse_name(s, parts.name)?;
        let tag = match parts.tag {
            Some(t) => {
                validate_tag(s, t)?;
                Some(t.to_owned())
            }
            None if parts.digest.is_none() => Some(DEFAULT_TAG.to_owned()),
            None => None,
        };
        let digest = match parts.digest {
            Some(d) => Some(d.parse::<Digest>().map_err(|_| ReferenceError::Digest {
                input: shorten(s),
                digest: shorten(d),
            })?),
            None => None,
        };
        Ok(Reference { repo, tag, digest })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.repo)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

/// Checks a tag against distribution's grammar, `[\w][\w.-]{0,127}`.
pub fn check_tag(tag: &str) -> Result<(), ReferenceError> {
    validate_tag(tag, tag)
}

/// Checks a tag against `[\w][\w.-]{0,127}`; `input` is what to name in the error.
fn validate_tag(input: &str, tag: &str) -> Result<(), ReferenceError> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let ok = match tag.as_bytes() {
        [first, rest @ ..] => {
            tag.len() <= MAX_TAG_LEN
                && word(*first)
                && rest.iter().all(|&b| word(b) || b == b'.' || b == b'-')
        }
        [] => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ReferenceError::Tag {
            input: shorten(input),
            tag: shorten(tag),
        })
    }
}

struct Parts<'a> {
    name: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

fn split_reference(s: &str) -> Result<Parts<'_>, ReferenceError> {
    if s.is_empty() {
        return Err(ReferenceError::Empty);
    }
    let (base, digest) = match s.split_once('@') {
        Some((base, digest)) => (base, Some(digest)),
        None => (s, None),
    };
    // A ':' after the last '/' starts a tag; one before it is a registry port.
    let (name, tag) = match base.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (base, None),
    };
    Ok(Parts { name, tag, digest })
}

fn parse_name(input: &str, name: &str) -> Result<RepositoryRef, ReferenceError> {
    let (registry, repository) = match name.split_once('/') {
        Some((first, rest)) if looks_like_registry(first) => (first, rest),
        _ => (DOCKER_HUB, name),
    };
    build_repository(input, registry, repository)
}

/// Docker's rule for telling `host/repo` from `user/repo`.
fn looks_like_registry(first: &str) -> bool {
    first.contains(['.', ':'])
        || first == "localhost"
        || first.bytes().any(|b| b.is_ascii_uppercase())
}

fn build_repository(
    input: &str,
    registry: &str,
    repository: &str,
) -> Result<RepositoryRef, ReferenceError> {
    let registry = if registry == DOCKER_HUB_ALIAS {
        DOCKER_HUB
    } else {
        registry
    };
    validate_registry(registry).map_err(|reason| ReferenceError::Registry {
        input: shorten(input),
        registry: shorten(registry),
        reason,
    })?;
    let repository = if registry == DOCKER_HUB && !repository.contains('/') {
        format!("library/{repository}")
    } else {
        repository.to_owned()
    };
    validate_repository(&repository).map_err(|reason| ReferenceError::Repository {
        input: shorten(input),
        reason,
    })?;
    Ok(RepositoryRef {
        registry: registry.to_owned(),
        repository,
    })
}

/// `host[:port]`, where host is DNS labels or a bracketed IPv6 address.
fn validate_registry(registry: &str) -> Result<(), &'static str> {
    let port = if let Some(rest) = registry.strip_prefix('[') {
        let (addr, after) = rest.split_once(']').ok_or("unterminated IPv6 address")?;
        if addr.is_empty()
            || !addr
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err("malformed IPv6 address");
        }
        match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or("junk after IPv6 address")?),
        }
    } else {
        let (host, port) = match registry.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (registry, None),
        };
        if host.is_empty() {
            return Err("empty host name");
        }
        for label in host.split('.') {
            let b = label.as_bytes();
            let ok = match (b.first(), b.last()) {
                (Some(f), Some(l)) => {
                    f.is_ascii_alphanumeric()
                        && l.is_ascii_alphanumeric()
                        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
                }
                _ => false,
            };
            if !ok {
                return Err("host name labels are letters, digits and inner '-'");
            }
        }
        port
    };
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
        if !valid {
            return Err("port must be a number from 1 to 65535");
        }
    }
    Ok(())
}

/// Distribution's grammar: '/'-separated components of
/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`.
fn validate_repository(repository: &str) -> Result<(), &'static str> {
    if repository.is_empty() {
        return Err("repository name is empty");
    }
    if repository.len() > MAX_REPOSITORY_LEN {
        return Err("repository name is longer than 255 characters");
    }
    for component in repository.split('/') {
        validate_component(component)?;
    }
    Ok(())
}

fn validate_component(component: &str) -> Result<(), &'static str> {
    let b = component.as_bytes();
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() {
        return Err("empty path component (leading, trailing or doubled '/')");
    }
    if b.iter().any(u8::is_ascii_uppercase) {
        return Err("repository names must be lowercase");
    }
    if !b
        .iter()
        .all(|c| alnum(c) || matches!(c, b'.' | b'_' | b'-'))
    {
        return Err(
            "repository names are lowercase letters, digits and the separators '.', '_', '__', '-'",
        );
    }
    if !b.first().is_some_and(alnum) || !b.last().is_some_and(alnum) {
        return Err("each path component must start and end with a letter or digit");
    }
    // Every run of separators must be exactly ".", "_", "__", or one or more "-".
    for sep in component
        .split(|c: char| c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
    {
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|c| c == b'-');
        if !ok {
            return Err("separators between letters and digits must be '.', '_', '__' or dashes");
        }
    }
    Ok(())
}

/// Shortens user input for error messages, on one line.
fn shorten(s: &str) -> String {
    const MAX: usize = 80;
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n >= MAX {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

#[cfg(test)]
#[path = "reference_tests.rs"]
mod tests;
