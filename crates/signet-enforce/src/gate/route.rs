//! What a request to the gate is, from its path alone.

use signet_core::Digest;

/// The gate's own endpoints and the registry API routes it treats apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `/healthz`: the process is serving.
    Health,
    /// `/readyz`: the upstream answers.
    Ready,
    /// `/metrics`: Prometheus metrics.
    Metrics,
    /// `/signet/token/<n>`: the upstream's token endpoint number `n`.
    Token(usize),
    /// `/v2/<name>/manifests/<reference>`.
    Manifest {
        /// The repository path.
        name: String,
        /// The tag or digest.
        reference: ManifestReference,
    },
    /// Any other path under `/v2/` (blobs, uploads, tags, catalog,
    /// referrers, the base endpoint): passed through.
    Registry,
    /// Anything else.
    NotFound,
}

/// A manifest reference: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ManifestReference {
    /// A tag.
    Tag(String),
    /// A digest.
    Digest(Digest),
    /// Neither (refused upstream as it would be without the gate).
    Invalid,
}

impl ManifestReference {
    fn parse(reference: &str) -> Self {
        if reference.contains(':') {
            return reference
                .parse()
                .map_or(Self::Invalid, ManifestReference::Digest);
        }
        if signet_core::reference::check_tag(reference).is_ok() {
            Self::Tag(reference.to_owned())
        } else {
            Self::Invalid
        }
    }

    /// The digest a signature tag (`sha256-<hex>.sig`, `.att`, `.sbom`) or
    /// a referrers fallback tag (`sha256-<hex>`) is about.
    pub(crate) fn signed_digest(&self) -> Option<Digest> {
        let Self::Tag(tag) = self else { return None };
        let rest = tag.strip_prefix("sha256-")?;
        let (hex, suffix) = (rest.get(..64)?, rest.get(64..)?);
        if !matches!(suffix, "" | ".sig" | ".att" | ".sbom") {
            return None;
        }
        format!("sha256:{hex}").parse().ok()
    }
}

impl Route {
    pub(crate) fn of(path: &str) -> Self {
        match path {
            "/healthz" => return Self::Health,
            "/readyz" => return Self::Ready,
            "/metrics" => return Self::Metrics,
            _ => {}
        }
        if let Some(n) = path.strip_prefix("/signet/token/") {
            return n.parse().map_or(Self::NotFound, Self::Token);
        }
        let Some(rest) = path.strip_prefix("/v2/") else {
            return if path == "/v2" {
                Self::Registry
            } else {
                Self::NotFound
            };
        };
        // A repository name has no "/manifests/" segment of its own; the
        // last one separates the name from the reference.
        if let Some(at) = rest.rfind("/manifests/") {
            let name = &rest[..at];
            let reference = &rest[at + "/manifests/".len()..];
            if !name.is_empty() && !reference.is_empty() && !reference.contains('/') {
                return Self::Manifest {
                    name: name.to_owned(),
                    reference: ManifestReference::parse(reference),
                };
            }
        }
        Self::Registry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn routes() {
        assert_eq!(Route::of("/healthz"), Route::Health);
        assert_eq!(Route::of("/signet/token/0"), Route::Token(0));
        assert_eq!(Route::of("/signet/token/x"), Route::NotFound);
        assert_eq!(Route::of("/v2/"), Route::Registry);
        assert_eq!(Route::of("/v2/a/b/blobs/sha256:x"), Route::Registry);
        assert_eq!(Route::of("/elsewhere"), Route::NotFound);
        assert_eq!(
            Route::of("/v2/team/app/manifests/v1"),
            Route::Manifest {
                name: "team/app".into(),
                reference: ManifestReference::Tag("v1".into())
            }
        );
        let Route::Manifest { reference, .. } = Route::of(&format!("/v2/a/manifests/sha256:{HEX}"))
        else {
            panic!("not a manifest route")
        };
        assert!(matches!(reference, ManifestReference::Digest(_)));
        let Route::Manifest { reference, .. } = Route::of("/v2/a/manifests/sha256:short") else {
            panic!("not a manifest route")
        };
        assert_eq!(reference, ManifestReference::Invalid);
    }

    #[test]
    fn signature_tags_name_their_digest() {
        for suffix in ["", ".sig", ".att", ".sbom"] {
            let r = ManifestReference::Tag(format!("sha256-{HEX}{suffix}"));
            assert_eq!(
                r.signed_digest().map(|d| d.hex()),
                Some(HEX.to_owned()),
                "{suffix}"
            );
        }
        assert_eq!(
            ManifestReference::Tag(format!("sha256-{HEX}.foo")).signed_digest(),
            None
        );
        assert_eq!(ManifestReference::Tag("v1".into()).signed_digest(), None);
    }
}
