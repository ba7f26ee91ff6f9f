//! Listing a registry: the repositories it holds (`GET /v2/_catalog`) and
//! the tags of a repository (`GET /v2/<name>/tags/list`), both paginated
//! with `n` and `last` as the distribution spec describes.
//!
//! The next page is taken from the `Link` header's `last` parameter, and
//! requested from the same registry (never from wherever the header
//! points). Pages must move forward, and the total is capped, so a registry
//! cannot keep a client listing forever.

use reqwest::header::LINK;
use reqwest::{Method, StatusCode};
use serde::Deserialize;

use crate::client::RegistryClient;
use crate::error::RegistryError;
use crate::reference::RepositoryRef;
use crate::response::{error_for, read_limited};
use crate::token::Action;
use crate::transport::Req;

/// Entries asked for per page.
pub const PAGE_SIZE: usize = 100;
/// Repositories or tags listed at most, in all pages together.
pub const MAX_ENTRIES: usize = 100_000;
/// The largest page body read.
const MAX_PAGE_BYTES: usize = 4 << 20;

#[derive(Deserialize)]
struct CatalogPage {
    #[serde(default)]
    repositories: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct TagsPage {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl RegistryClient {
    /// Every repository of the registry `scope` is on whose name starts with
    /// `prefix` (a project: `team/`; empty for all), in the registry's order.
    /// `scope` also selects the credentials, as a pull from it would.
    pub async fn list_repositories(
        &self,
        scope: &RepositoryRef,
        prefix: &str,
    ) -> Result<Vec<String>, RegistryError> {
        let mut out = Vec::new();
        self.paginate(
            scope,
            "_catalog",
            Action::Catalog,
            |body| {
                let page: CatalogPage = serde_json::from_slice(body).map_err(|e| e.to_string())?;
                Ok(page.repositories.unwrap_or_default())
            },
            |name| {
                if name.starts_with(prefix) {
                    out.push(name);
                }
            },
        )
        .await?;
        Ok(out)
    }

    /// Every tag of `repo`.
    pub async fn list_tags(&self, repo: &RepositoryRef) -> Result<Vec<String>, RegistryError> {
        let mut out = Vec::new();
        let path = format!("{}/tags/list", repo.repository());
        self.paginate(
            repo,
            &path,
            Action::Pull,
            |body| {
                let page: TagsPage = serde_json::from_slice(body).map_err(|e| e.to_string())?;
                Ok(page.tags.unwrap_or_default())
            },
            |tag| out.push(tag),
        )
        .await?;
        Ok(out)
    }

    async fn paginate(
        &self,
        repo: &RepositoryRef,
        path: &str,
        action: Action,
        parse: impl Fn(&[u8]) -> Result<Vec<String>, String>,
        mut each: impl FnMut(String),
    ) -> Result<(), RegistryError> {
        let registry = repo.registry();
        let what = format!("listing {path} of {registry}");
        let mut last: Option<String> = None;
        let mut total = 0usize;
        loop {
            let mut url = self.session().transport().url(registry, path).await?;
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("n", &PAGE_SIZE.to_string());
                if let Some(l) = &last {
                    q.append_pair("last", l);
                }
            }
            let req = Req {
                method: Method::GET,
                url,
                accept: Some("application/json".into()),
                content_type: None,
                body: None,
            };
            let response = self.session().send(repo, action, &req).await?;
            if response.status() != StatusCode::OK {
                return Err(error_for(response, &what, registry).await);
            }
            let next = response
                .headers()
                .get_all(LINK)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(next_last);
            let body = read_limited(response, MAX_PAGE_BYTES, &what, registry).await?;
            let entries = parse(&body).map_err(|reason| RegistryError::InvalidResponse {
                what: what.clone(),
                reason,
            })?;
            total = total.saturating_add(entries.len());
            if total > MAX_ENTRIES {
                return Err(RegistryError::InvalidResponse {
                    what,
                    reason: format!("more than {MAX_ENTRIES} entries"),
                });
            }
            for e in entries {
                each(e);
            }
            match next {
                // Pages move forward, or the listing stops with an error.
                Some(n) if Some(&n) == last.as_ref() => {
                    return Err(RegistryError::InvalidResponse {
                        what,
                        reason: format!("the next page starts at {n:?} again"),
                    });
                }
                Some(n) => last = Some(n),
                // No `Link` header: the last page.
                None => return Ok(()),
            }
        }
    }
}

/// The `last` parameter of a `Link: <…?last=X&n=N>; rel="next"` header.
fn next_last(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, params) = link.trim().split_once(';')?;
        if !params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"))
        {
            return None;
        }
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let base = reqwest::Url::parse("http://registry.invalid/").ok()?;
        base.join(target)
            .ok()?
            .query_pairs()
            .find(|(k, _)| k == "last")
            .map(|(_, v)| v.into_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        assert_eq!(
            next_last(r#"</v2/_catalog?last=b%2Fc&n=100>; rel="next""#).as_deref(),
            Some("b/c")
        );
        assert_eq!(
            next_last(r#"<https://r.example/v2/x/tags/list?n=2&last=v2>; rel=next"#).as_deref(),
            Some("v2")
        );
        assert_eq!(next_last(r#"</v2/_catalog?last=b>; rel="prev""#), None);
        assert_eq!(next_last("garbage"), None);
        assert_eq!(next_last(r#"</v2/_catalog?n=1>; rel="next""#), None);
    }
}
