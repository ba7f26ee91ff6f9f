//! `signet policy test`: the policy across every tag and digest of a
//! registry project, as an enforcement point would apply it, without
//! enforcing anything.
//!
//! The project's repositories come from `/v2/_catalog`, their tags from
//! `/v2/<name>/tags/list` (both paginated); every tag is resolved to its
//! digest, each digest is decided once however many tags name it, and the
//! images an index lists are decided too (a client pulls them by digest, so
//! a gate decides about them one by one). Signature artefacts
//! (`sha256-<hex>.sig`, `.att`, `.sbom`) and OCI 1.1 fallback indexes
//! (`sha256-<hex>`) are not images and are skipped.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::StreamExt;
use futures_util::stream;
use serde::Serialize;
use signet_core::Digest;
use signet_oci::manifest::{is_index, parse_index};
use signet_oci::{RegistryError, RepositoryRef};

use crate::decision::{Decision, Outcome};
use crate::evaluate::Evaluator;

/// Progress of a dry run, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// Repositories found; tags are being listed.
    Listing {
        /// Repositories in the project.
        repositories: usize,
    },
    /// Every digest is known; decisions start.
    Deciding {
        /// Digests to decide about.
        total: usize,
    },
    /// One more digest decided.
    Decided {
        /// Whether it would be admitted.
        admitted: bool,
    },
}

/// One digest of the project and what the policy decides about it.
#[derive(Debug, Clone, Serialize)]
pub struct DigestReport {
    /// The repository (`registry/path`).
    pub repository: String,
    /// The digest.
    pub digest: Digest,
    /// The tags that name it (empty for an image only an index lists).
    pub tags: Vec<String>,
    /// The index that lists it, for an index child.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<Digest>,
    /// The decision.
    pub decision: Decision,
}

/// A repository or tag that could not be listed or resolved.
#[derive(Debug, Clone, Serialize)]
pub struct ListingError {
    /// What could not be read.
    pub what: String,
    /// Why.
    pub error: String,
}

/// What a dry run found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The project (`registry/path`).
    pub project: String,
    /// Repositories listed.
    pub repositories: usize,
    /// Tags listed (signature artefacts excluded).
    pub tags: usize,
    /// Signature artefacts and fallback indexes skipped.
    pub skipped_artefacts: usize,
    /// Every digest decided about, by repository then digest.
    pub digests: Vec<DigestReport>,
    /// What could not be listed (those digests are missing from `digests`).
    pub errors: Vec<ListingError>,
}

impl Report {
    /// How many digests had each outcome: (allowed, warned, denied).
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for d in &self.digests {
            match d.decision.outcome {
                Outcome::Allowed => c.0 += 1,
                Outcome::Warned => c.1 += 1,
                Outcome::Denied => c.2 += 1,
            }
        }
        c
    }
}

/// Whether a tag is a signature artefact or a fallback index, not an image.
pub fn is_artefact_tag(tag: &str) -> bool {
    let Some(rest) = tag.strip_prefix("sha256-") else {
        return false;
    };
    let (Some(hex), Some(suffix)) = (rest.get(..64), rest.get(64..)) else {
        return false;
    };
    hex.bytes().all(|b| b.is_ascii_hexdigit()) && matches!(suffix, "" | ".sig" | ".att" | ".sbom")
}

struct Found {
    repo: RepositoryRef,
    /// digest → (tags, index it was listed by)
    digests: BTreeMap<Digest, (BTreeSet<String>, Option<Digest>)>,
}

/// Lists `project` (a registry and a path prefix: `registry/team`) and
/// decides about every digest, `concurrency` requests at a time.
pub async fn dry_run(
    evaluator: &Evaluator,
    project: &RepositoryRef,
    concurrency: usize,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Report, RegistryError> {
    let concurrency = concurrency.max(1);
    let client = evaluator.store().client();
    let prefix = project.repository();
    let names: Vec<String> = client
        .list_repositories(project, "")
        .await?
        .into_iter()
        .filter(|n| n == prefix || n.strip_prefix(prefix).is_some_and(|r| r.starts_with('/')))
        .collect();
    progress(Progress::Listing {
        repositories: names.len(),
    });
    let mut report = Report {
        project: project.to_string(),
        repositories: names.len(),
        ..Report::default()
    };
    let listed: Vec<Result<(Found, usize, usize), ListingError>> = stream::iter(names)
        .map(|name| list_repository(evaluator, project.registry().to_owned(), name, concurrency))
        .buffered(concurrency)
        .collect()
        .await;
    let mut found = Vec::new();
    for r in listed {
        match r {
            Ok((f, tags, skipped)) => {
                report.tags += tags;
                report.skipped_artefacts += skipped;
                found.push(f);
            }
            Err(e) => report.errors.push(e),
        }
    }
    let jobs: Vec<(RepositoryRef, Digest, Vec<String>, Option<Digest>)> = found
        .into_iter()
        .flat_map(|f| {
            let repo = f.repo;
            f.digests
                .into_iter()
                .map(move |(d, (tags, index))| (repo.clone(), d, tags.into_iter().collect(), index))
        })
        .collect();
    progress(Progress::Deciding { total: jobs.len() });
    report.digests = stream::iter(jobs)
        .map(|(repo, digest, tags, index)| async move {
            let decision = evaluator
                .evaluate_digest(&repo.digest(digest.clone()), &digest)
                .await;
            progress(Progress::Decided {
                admitted: decision.admits(),
            });
            DigestReport {
                repository: repo.to_string(),
                digest,
                tags,
                index,
                decision,
            }
        })
        .buffered(concurrency)
        .collect()
        .await;
    Ok(report)
}

/// The tags of one repository resolved to digests, index children added.
async fn list_repository(
    evaluator: &Evaluator,
    registry: String,
    name: String,
    concurrency: usize,
) -> Result<(Found, usize, usize), ListingError> {
    let client = evaluator.store().client();
    let err = |what: String, e: &dyn std::fmt::Display| ListingError {
        what,
        error: e.to_string(),
    };
    let repo =
        RepositoryRef::new(&registry, &name).map_err(|e| err(format!("{registry}/{name}"), &e))?;
    let all = client
        .list_tags(&repo)
        .await
        .map_err(|e| err(format!("tags of {repo}"), &e))?;
    let (skipped, tags): (Vec<String>, Vec<String>) =
        all.into_iter().partition(|t| is_artefact_tag(t));
    let tag_count = tags.len();
    let resolved: Vec<(
        String,
        Result<Option<signet_oci::Descriptor>, RegistryError>,
    )> = stream::iter(tags)
        .map(|tag| {
            let repo = &repo;
            async move {
                let r = client.head_manifest(repo, &tag).await;
                (tag, r)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut found = Found {
        repo: repo.clone(),
        digests: BTreeMap::new(),
    };
    let mut indexes = Vec::new();
    for (tag, r) in resolved {
        match r {
            Ok(Some(desc)) => {
                if is_index(&desc.media_type) {
                    indexes.push(desc.digest.clone());
                }
                found.digests.entry(desc.digest).or_default().0.insert(tag);
            }
            // Deleted between the listing and the lookup: nothing to decide.
            Ok(None) => {}
            Err(e) => {
                return Err(err(format!("{repo}:{tag}"), &e));
            }
        }
    }
    for index in indexes {
        let manifest = client
            .get_manifest(&repo, &index.to_string())
            .await
            .map_err(|e| err(format!("{repo}@{index}"), &e))?;
        let parsed =
            parse_index(&manifest.bytes).map_err(|e| err(format!("{repo}@{index}"), &e))?;
        for child in parsed.manifests {
            found
                .digests
                .entry(child.digest)
                .or_insert_with(|| (BTreeSet::new(), Some(index.clone())));
        }
    }
    Ok((found, tag_count, skipped.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artefact_tags() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        for t in [
            format!("sha256-{hex}.sig"),
            format!("sha256-{hex}.att"),
            format!("sha256-{hex}.sbom"),
            format!("sha256-{hex}"),
        ] {
            assert!(is_artefact_tag(&t), "{t}");
        }
        for t in [
            "latest".to_owned(),
            format!("sha256-{hex}.sig2"),
            format!("sha256-{}.sig", &hex[1..]),
            "sha256-".to_owned(),
            format!("sha256-{}é.sig", &hex[2..]),
            format!("sha512-{hex}.sig"),
        ] {
            assert!(!is_artefact_tag(&t), "{t}");
        }
    }
}
