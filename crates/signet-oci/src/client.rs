//! [`RegistryClient`]: the OCI distribution API operations signet needs.
//!
//! Every read is bounded (`max_manifest_bytes`, `max_blob_bytes`) while
//! streaming, and every byte string fetched by digest is hashed and compared
//! before it is returned.

use std::sync::Arc;

use reqwest::header::{CONTENT_LENGTH, LOCATION};
use reqwest::{Method, Response, StatusCode};
use signet_core::Digest;

use crate::error::RegistryError;
use crate::manifest;
use crate::options::ClientOptions;
use crate::reference::{Reference, ReferenceError, RepositoryRef, check_tag};
use crate::response::{
    DOCKER_CONTENT_DIGEST, check_announced_digest, content_type, error_for, header_str,
    media_type_of, read_limited,
};
use crate::text::snippet;
use crate::token::{Action, Session};
use crate::transport::{Req, Transport};

/// A manifest as fetched: the exact bytes, their media type, and their digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The manifest bytes, unmodified (signatures cover these bytes).
    pub bytes: Vec<u8>,
    /// Media type from `Content-Type` (or the document's `mediaType`).
    pub media_type: String,
    /// sha256 of `bytes`.
    pub digest: Digest,
}

/// What a HEAD says about a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// Media type.
    pub media_type: String,
    /// Digest.
    pub digest: Digest,
    /// Size in bytes.
    pub size: u64,
}

/// What the registry answered to a manifest upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestPut {
    /// The manifest's digest.
    pub digest: Digest,
    /// Whether the registry answered with `OCI-Subject`: it indexed the
    /// manifest's subject, so the referrers API will list it.
    pub subject_indexed: bool,
}

/// An async registry client. Cheap to clone: clones share one connection pool
/// and one token cache.
#[derive(Clone)]
pub struct RegistryClient {
    session: Arc<Session>,
    /// Whether each registry asked so far has a referrers API. The OCI
    /// distribution spec forbids a registry with the API to answer 404, so
    /// one answer holds for the registry: later lookups go straight to the
    /// API or to the fallback tag instead of asking again for every image.
    referrers_api: Arc<std::sync::Mutex<std::collections::HashMap<String, bool>>>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("options", self.options())
            .finish_non_exhaustive()
    }
}

/// A tag or digest, as it goes after `/manifests/`.
enum ManifestRef {
    Tag(String),
    Digest(Digest),
}

impl ManifestRef {
    fn parse(reference: &str) -> Result<Self, RegistryError> {
        if reference.contains(':') {
            let digest = reference.parse().map_err(|_| ReferenceError::Digest {
                input: snippet(reference, 80),
                digest: snippet(reference, 80),
            })?;
            Ok(Self::Digest(digest))
        } else {
            check_tag(reference)?;
            Ok(Self::Tag(reference.to_owned()))
        }
    }

    fn as_str(&self) -> String {
        match self {
            Self::Tag(t) => t.clone(),
            Self::Digest(d) => d.to_string(),
        }
    }
}

impl RegistryClient {
    /// A client with `options`.
    pub fn new(options: ClientOptions) -> Result<Self, RegistryError> {
        Ok(Self {
            session: Arc::new(Session::new(Transport::new(options)?)),
            referrers_api: Arc::default(),
        })
    }

    /// The options this client was built with.
    pub fn options(&self) -> &ClientOptions {
        self.transport().options()
    }

    fn transport(&self) -> &Transport {
        self.session.transport()
    }

    pub(crate) fn session(&self) -> &Session {
        &self.session
    }

    /// Fetches a manifest by tag or digest. A digest reference is verified
    /// against the bytes received.
    pub async fn get_manifest(
        &self,
        repo: &RepositoryRef,
        reference: &str,
    ) -> Result<Manifest, RegistryError> {
        let mref = ManifestRef::parse(reference)?;
        let what = manifest_what(repo, reference);
        let response = self.manifest_request(repo, &mref, Method::GET).await?;
        if response.status() != StatusCode::OK {
            return Err(error_for(response, &what, repo.registry()).await);
        }
        let header_type = content_type(response.headers());
        let limit = self.options().max_manifest_bytes;
        let bytes = read_limited(response, limit, &what, repo.registry()).await?;
        let digest = Digest::sha256_of(&bytes);
        if let ManifestRef::Digest(expected) = &mref
            && *expected != digest
        {
            return Err(RegistryError::DigestMismatch {
                what,
                expected: expected.clone(),
                actual: digest,
            });
        }
        let media_type = media_type_of(header_type, &bytes);
        Ok(Manifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// Looks a manifest up without downloading it; `None` if it does not
    /// exist. Falls back to GET when the registry omits `Docker-Content-Digest`.
    pub async fn head_manifest(
        &self,
        repo: &RepositoryRef,
        reference: &str,
    ) -> Result<Option<Descriptor>, RegistryError> {
        let mref = ManifestRef::parse(reference)?;
        let what = manifest_what(repo, reference);
        let response = self.manifest_request(repo, &mref, Method::HEAD).await?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Ok(None),
            _ => return Err(error_for(response, &what, repo.registry()).await),
        }
        let headers = response.headers();
        let digest =
            header_str(headers, DOCKER_CONTENT_DIGEST).and_then(|d| d.parse::<Digest>().ok());
        let size = header_str(headers, CONTENT_LENGTH.as_str()).and_then(|s| s.parse::<u64>().ok());
        let media_type = content_type(headers);
        match (digest, size, media_type) {
            (Some(digest), Some(size), Some(media_type)) => {
                if let ManifestRef::Digest(expected) = &mref
                    && *expected != digest
                {
                    return Err(RegistryError::DigestMismatch {
                        what,
                        expected: expected.clone(),
                        actual: digest,
                    });
                }
                Ok(Some(Descriptor {
                    media_type,
                    digest,
                    size,
                }))
            }
            _ => match self.get_manifest(repo, reference).await {
                Ok(m) => Ok(Some(Descriptor {
                    size: m.bytes.len() as u64,
                    media_type: m.media_type,
                    digest: m.digest,
                })),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(e),
            },
        }
    }

    /// The digest `reference` names: its own digest if it has one, otherwise
    /// what its tag currently points to.
    pub async fn resolve_digest(&self, reference: &Reference) -> Result<Digest, RegistryError> {
        if let Some(d) = reference.digest() {
            return Ok(d.clone());
        }
        let tag = reference.manifest_reference();
        match self.head_manifest(reference.repository_ref(), &tag).await? {
            Some(desc) => Ok(desc.digest),
            None => Err(RegistryError::NotFound {
                what: manifest_what(reference.repository_ref(), &tag),
                detail: "HTTP 404".into(),
            }),
        }
    }

    /// Uploads a manifest under a tag or digest and returns its digest.
    pub async fn put_manifest(
        &self,
        repo: &RepositoryRef,
        reference: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Digest, RegistryError> {
        Ok(self
            .put_manifest_answer(repo, reference, bytes, media_type)
            .await?
            .digest)
    }

    /// Uploads a manifest and reports what the registry said about it: its
    /// digest, and whether the registry answered with `OCI-Subject` (it
    /// indexes the manifest's `subject` for the referrers API).
    pub async fn put_manifest_answer(
        &self,
        repo: &RepositoryRef,
        reference: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<ManifestPut, RegistryError> {
        let mref = ManifestRef::parse(reference)?;
        let what = format!("upload of {}", manifest_what(repo, reference));
        let digest = Digest::sha256_of(bytes);
        if let ManifestRef::Digest(expected) = &mref
            && *expected != digest
        {
            return Err(RegistryError::DigestMismatch {
                what,
                expected: expected.clone(),
                actual: digest,
            });
        }
        if bytes.len() > self.options().max_manifest_bytes {
            return Err(RegistryError::TooLarge {
                what,
                limit: self.options().max_manifest_bytes,
            });
        }
        let req = Req {
            method: Method::PUT,
            url: self
                .transport()
                .url(
                    repo.registry(),
                    &format!("{}/manifests/{}", repo.repository(), mref.as_str()),
                )
                .await?,
            accept: None,
            content_type: Some(media_type),
            body: Some(bytes),
        };
        let response = self.session.send(repo, Action::Push, &req).await?;
        if !response.status().is_success() {
            return Err(error_for(response, &what, repo.registry()).await);
        }
        check_announced_digest(response.headers(), &digest, &what)?;
        let subject_indexed = header_str(response.headers(), "oci-subject").is_some();
        Ok(ManifestPut {
            digest,
            subject_indexed,
        })
    }

    /// Whether `registry` has a referrers API, if this client has asked it.
    pub fn has_referrers_api(&self, registry: &str) -> Option<bool> {
        self.referrers_api
            .lock()
            .ok()
            .and_then(|known| known.get(registry).copied())
    }

    fn note_referrers_api(&self, registry: &str, has_api: bool) {
        if let Ok(mut known) = self.referrers_api.lock() {
            known.insert(registry.to_owned(), has_api);
        }
    }

    /// The referrers of `subject` from the registry's referrers API
    /// (`GET /v2/<name>/referrers/<digest>`), as the index bytes; `None` when
    /// the registry has no referrers API (it answers 404, 400 or 405, or not
    /// with an image index), so that the caller falls back to the
    /// `sha256-<hex>` tag.
    pub async fn get_referrers(
        &self,
        repo: &RepositoryRef,
        subject: &Digest,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let what = format!("referrers of {subject} in {repo}");
        if self.has_referrers_api(repo.registry()) == Some(false) {
            return Ok(None);
        }
        let req = Req {
            method: Method::GET,
            url: self
                .transport()
                .url(
                    repo.registry(),
                    &format!("{}/referrers/{subject}", repo.repository()),
                )
                .await?,
            accept: Some(manifest::OCI_INDEX.to_owned()),
            content_type: None,
            body: None,
        };
        let response = self.session.send(repo, Action::Pull, &req).await?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST | StatusCode::METHOD_NOT_ALLOWED => {
                self.note_referrers_api(repo.registry(), false);
                return Ok(None);
            }
            _ => return Err(error_for(response, &what, repo.registry()).await),
        }
        let is_index = content_type(response.headers()).is_some_and(|t| {
            t.split(';')
                .next()
                .is_some_and(|t| t.trim() == manifest::OCI_INDEX)
        });
        if !is_index {
            self.note_referrers_api(repo.registry(), false);
            return Ok(None);
        }
        self.note_referrers_api(repo.registry(), true);
        let limit = self.options().max_manifest_bytes;
        Ok(Some(
            read_limited(response, limit, &what, repo.registry()).await?,
        ))
    }

    /// Downloads a blob of at most `max_bytes` and checks it against `digest`.
    pub async fn get_blob(
        &self,
        repo: &RepositoryRef,
        digest: &Digest,
        max_bytes: usize,
    ) -> Result<Vec<u8>, RegistryError> {
        let what = blob_what(repo, digest);
        let response = self
            .blob_request(repo, digest, Method::GET, Action::Pull)
            .await?;
        if response.status() != StatusCode::OK {
            return Err(error_for(response, &what, repo.registry()).await);
        }
        let bytes = read_limited(response, max_bytes, &what, repo.registry()).await?;
        let actual = Digest::sha256_of(&bytes);
        if actual != *digest {
            return Err(RegistryError::DigestMismatch {
                what,
                expected: digest.clone(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// Whether the repository holds the blob.
    pub async fn blob_exists(
        &self,
        repo: &RepositoryRef,
        digest: &Digest,
    ) -> Result<bool, RegistryError> {
        self.blob_exists_for(repo, digest, Action::Pull).await
    }

    async fn blob_exists_for(
        &self,
        repo: &RepositoryRef,
        digest: &Digest,
        action: Action,
    ) -> Result<bool, RegistryError> {
        let response = self
            .blob_request(repo, digest, Method::HEAD, action)
            .await?;
        match response.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(error_for(response, &blob_what(repo, digest), repo.registry()).await),
        }
    }

    /// Uploads a blob (monolithically) unless the repository already has it,
    /// and returns its digest.
    pub async fn push_blob(
        &self,
        repo: &RepositoryRef,
        bytes: &[u8],
    ) -> Result<Digest, RegistryError> {
        let digest = Digest::sha256_of(bytes);
        // The HEAD asks for a push token, so the upload below reuses it.
        if self.blob_exists_for(repo, &digest, Action::Push).await? {
            return Ok(digest);
        }
        let what = format!("upload of {}", blob_what(repo, &digest));
        let start = Req {
            method: Method::POST,
            url: self
                .transport()
                .url(
                    repo.registry(),
                    &format!("{}/blobs/uploads/", repo.repository()),
                )
                .await?,
            accept: None,
            content_type: None,
            body: Some(&[]),
        };
        let response = self.session.send(repo, Action::Push, &start).await?;
        if !response.status().is_success() {
            return Err(error_for(response, &what, repo.registry()).await);
        }
        let location = header_str(response.headers(), LOCATION.as_str()).ok_or_else(|| {
            RegistryError::InvalidResponse {
                what: what.clone(),
                reason: "upload started without a Location header".into(),
            }
        })?;
        // Location may be relative or absolute, and may carry its own query (upload state).
        let mut url = start
            .url
            .join(location)
            .map_err(|e| RegistryError::InvalidResponse {
                what: what.clone(),
                reason: format!("bad upload Location {:?}: {e}", snippet(location, 80)),
            })?;
        url.query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        let finish = Req {
            method: Method::PUT,
            url,
            accept: None,
            content_type: Some("application/octet-stream"),
            body: Some(bytes),
        };
        let response = self.session.send(repo, Action::Push, &finish).await?;
        if !response.status().is_success() {
            return Err(error_for(response, &what, repo.registry()).await);
        }
        check_announced_digest(response.headers(), &digest, &what)?;
        Ok(digest)
    }

    /// Checks that `registry` speaks the distribution API (`GET /v2/` answers
    /// 200 or 401).
    pub async fn ping(&self, registry: &str) -> Result<(), RegistryError> {
        let url = self.transport().url(registry, "").await?;
        let response = self
            .transport()
            .http()
            .get(url)
            .send()
            .await
            .map_err(|e| self.transport().transport_error(registry, &e))?;
        match response.status() {
            StatusCode::OK | StatusCode::UNAUTHORIZED => Ok(()),
            _ => Err(error_for(response, &format!("ping of {registry}"), registry).await),
        }
    }

    async fn manifest_request(
        &self,
        repo: &RepositoryRef,
        mref: &ManifestRef,
        method: Method,
    ) -> Result<Response, RegistryError> {
        let req = Req {
            method,
            url: self
                .transport()
                .url(
                    repo.registry(),
                    &format!("{}/manifests/{}", repo.repository(), mref.as_str()),
                )
                .await?,
            accept: Some(manifest::ACCEPTED_MEDIA_TYPES.join(", ")),
            content_type: None,
            body: None,
        };
        self.session.send(repo, Action::Pull, &req).await
    }

    async fn blob_request(
        &self,
        repo: &RepositoryRef,
        digest: &Digest,
        method: Method,
        action: Action,
    ) -> Result<Response, RegistryError> {
        let req = Req {
            method,
            url: self
                .transport()
                .url(
                    repo.registry(),
                    &format!("{}/blobs/{digest}", repo.repository()),
                )
                .await?,
            accept: None,
            content_type: None,
            body: None,
        };
        self.session.send(repo, action, &req).await
    }
}

fn manifest_what(repo: &RepositoryRef, reference: &str) -> String {
    format!("manifest {:?} in {repo}", snippet(reference, 80))
}

fn blob_what(repo: &RepositoryRef, digest: &Digest) -> String {
    format!("blob {digest} in {repo}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_refs() {
        assert!(matches!(
            ManifestRef::parse("latest"),
            Ok(ManifestRef::Tag(_))
        ));
        assert!(matches!(
            ManifestRef::parse(
                "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            ),
            Ok(ManifestRef::Digest(_))
        ));
        for bad in ["", "../x", "a/b", "sha256:00", "sha512:00", "-x", "a?b"] {
            assert!(ManifestRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn builds_with_default_options() {
        assert!(RegistryClient::new(ClientOptions::default()).is_ok());
    }
}
