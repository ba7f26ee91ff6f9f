//! The one policy function: [`Evaluator::evaluate`].
//!
//! Built once from a [`Policy`] and a signature store; cheap to clone and
//! safe to share across tasks. Each call resolves the image to a digest
//! once, reads that digest's signatures once whatever the number of
//! authorities (policy-controller#278 reads them once per key), offers each
//! signature to each authority of the scope, and counts distinct authorities
//! each vouching with a signature of its own against the threshold.

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream;
use signet_core::Digest;
use signet_flow::verify::{ImageSignatures, fetch_signatures};
use signet_oci::Reference;
use signet_oci::manifest::{is_index, parse_index};
use signet_oci::signatures::{SignatureStore, SignatureStoreError};
use signet_verify::ImagePolicy;

use crate::decision::{
    AuthorityResult, ChildDecision, Decision, FailedCheck, Failure, Outcome, TlogEvidence,
};
use crate::error::PolicyError;
use crate::file::Mode;
use crate::hash::{PolicyHash, TrustRootVersion};
use crate::policy::{Policy, Scope};
use crate::vouch::CompiledAuthority;

/// Index children verified at once under `require-recursive`.
const CHILD_CONCURRENCY: usize = 4;

/// Evaluates a policy against images in registries. See the module docs.
#[derive(Clone)]
pub struct Evaluator {
    inner: Arc<Inner>,
}

struct Inner {
    policy: Policy,
    store: SignatureStore,
    /// Compiled authorities per scope, in the policy's order, then the
    /// default rule's.
    compiled: Vec<Vec<CompiledAuthority>>,
}

impl std::fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator")
            .field("policy", &self.inner.policy.file())
            .field("hash", self.inner.policy.hash())
            .finish_non_exhaustive()
    }
}

/// The result of checking one digest against a scope, before the mode.
struct Verdict {
    authorities: Vec<AuthorityResult>,
    failure: Option<Failure>,
}

impl Evaluator {
    /// Compiles every authority of `policy` into a verifier, once; `store`
    /// is where signatures are read (its client's options and credentials
    /// apply to every evaluation).
    pub fn new(policy: Policy, store: SignatureStore) -> Result<Self, PolicyError> {
        let mut compiled = Vec::with_capacity(policy.scopes().len() + 1);
        let scopes = policy
            .scopes()
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("policies[{i}]"), s))
            .chain(std::iter::once((
                "default".to_owned(),
                policy.default_rule(),
            )));
        for (at, scope) in scopes {
            let authorities = scope
                .authorities
                .iter()
                .enumerate()
                .map(|(j, a)| {
                    CompiledAuthority::compile(&policy, &format!("{at}.authorities[{j}]"), a)
                })
                .collect::<Result<Vec<_>, _>>()?;
            compiled.push(authorities);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                policy,
                store,
                compiled,
            }),
        })
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// The signature store (and through it, the registry client).
    pub fn store(&self) -> &SignatureStore {
        &self.inner.store
    }

    /// [`Policy::hash`], for cache keys.
    pub fn policy_hash(&self) -> &PolicyHash {
        self.inner.policy.hash()
    }

    /// [`Policy::trust_root_version`], for cache keys.
    pub fn trust_root_version(&self) -> &TrustRootVersion {
        self.inner.policy.trust_root_version()
    }

    /// The scope deciding about `image`, without any network access (a gate
    /// can tell whether a repository is protected before it verifies).
    pub fn scope_for(&self, image: &Reference) -> &Scope {
        self.inner.policy.scope_for(image.repository_ref())
    }

    /// Decides about `image`: resolves it to a digest once (a tag is looked
    /// up; a digest is taken as given) and verifies that digest. The
    /// decision names the digest, which is what a caller must then serve or
    /// run, so that a tag moved after the decision changes nothing.
    pub async fn evaluate(&self, image: &Reference) -> Decision {
        let (index, scope) = self.scope_of(image);
        // A scope that refuses everything needs no network.
        if scope.authorities.is_empty() {
            return self.finish(image, None, scope, no_authorities(scope), Vec::new());
        }
        let digest = match self.inner.store.client().resolve_digest(image).await {
            Ok(d) => d,
            Err(e) => {
                let check = if e.is_not_found() {
                    FailedCheck::ImageNotFound
                } else {
                    FailedCheck::RegistryError
                };
                let verdict = Verdict {
                    authorities: Vec::new(),
                    failure: Some(Failure::new(check, format!("{image}: {e}"))),
                };
                return self.finish(image, None, scope, verdict, Vec::new());
            }
        };
        self.evaluate_resolved(image, index, scope, digest).await
    }

    /// Decides about the manifest `digest` in `image`'s repository (any tag
    /// or digest in `image` is ignored): the entry point for callers that
    /// already hold the digest they will serve, such as a registry gate
    /// answering a pull by digest.
    pub async fn evaluate_digest(&self, image: &Reference, digest: &Digest) -> Decision {
        let image = image.repository_ref().digest(digest.clone());
        let (index, scope) = self.scope_of(&image);
        if scope.authorities.is_empty() {
            return self.finish(
                &image,
                Some(digest.clone()),
                scope,
                no_authorities(scope),
                Vec::new(),
            );
        }
        self.evaluate_resolved(&image, index, scope, digest.clone())
            .await
    }

    fn scope_of(&self, image: &Reference) -> (usize, &Scope) {
        let policy = &self.inner.policy;
        let scope = policy.scope_for(image.repository_ref());
        let index = policy
            .scopes()
            .iter()
            .position(|s| std::ptr::eq(s, scope))
            .unwrap_or(policy.scopes().len());
        (index, scope)
    }

    async fn evaluate_resolved(
        &self,
        image: &Reference,
        index: usize,
        scope: &Scope,
        digest: Digest,
    ) -> Decision {
        let compiled = self
            .inner
            .compiled
            .get(index)
            .map_or(&[][..], Vec::as_slice);
        let mut verdict = self.verdict(image, scope, compiled, &digest).await;
        let mut children = Vec::new();
        if scope.require_recursive && verdict.failure.is_none() {
            match self.children(image, &digest).await {
                Ok(list) => {
                    children = stream::iter(list)
                        .map(|child| async move {
                            let v = self.verdict(image, scope, compiled, &child).await;
                            ChildDecision {
                                digest: child,
                                satisfied: v.failure.is_none(),
                                authorities: v.authorities,
                                failure: v.failure,
                            }
                        })
                        .buffered(CHILD_CONCURRENCY)
                        .collect::<Vec<_>>()
                        .await;
                    // An undecided child makes the index undecided; else the
                    // first refused child names the failure.
                    let failed = children
                        .iter()
                        .filter_map(|c| c.failure.as_ref().map(|f| (c, f)))
                        .max_by_key(|(_, f)| f.undecided);
                    if let Some((child, f)) = failed {
                        let check = if f.undecided {
                            f.check
                        } else {
                            FailedCheck::ChildNotSatisfied
                        };
                        verdict.failure = Some(Failure::new(
                            check,
                            format!(
                                "image {} listed by the index does not satisfy the scope (require-recursive): {}",
                                child.digest, f
                            ),
                        ));
                    }
                }
                Err(f) => verdict.failure = Some(f),
            }
        }
        self.finish(image, Some(digest), scope, verdict, children)
    }

    /// The manifests an index lists (none for an image manifest).
    async fn children(&self, image: &Reference, digest: &Digest) -> Result<Vec<Digest>, Failure> {
        let client = self.inner.store.client();
        let manifest = client
            .get_manifest(image.repository_ref(), &digest.to_string())
            .await
            .map_err(|e| Failure::new(FailedCheck::RegistryError, e.to_string()))?;
        if !is_index(&manifest.media_type) {
            return Ok(Vec::new());
        }
        let index = parse_index(&manifest.bytes).map_err(|e| {
            Failure::new(
                FailedCheck::Tampered,
                format!("{image}@{digest}: cannot read the image index: {e}"),
            )
        })?;
        let mut seen = std::collections::HashSet::new();
        Ok(index
            .manifests
            .into_iter()
            .map(|m| m.digest)
            .filter(|d| seen.insert(d.clone()))
            .collect())
    }

    async fn verdict(
        &self,
        image: &Reference,
        scope: &Scope,
        compiled: &[CompiledAuthority],
        digest: &Digest,
    ) -> Verdict {
        let mut policy = ImagePolicy::for_digest(digest.clone());
        for (k, v) in &scope.annotations {
            policy = policy.annotation(k.clone(), v.clone());
        }
        if scope.match_repository {
            policy = policy.require_repository(image.repository_ref().clone());
        }
        let at = image.repository_ref().digest(digest.clone());
        let signatures = match fetch_signatures(&self.inner.store, &at, &policy).await {
            Ok(s) => s,
            Err(SignatureStoreError::Malformed { location, error }) => {
                return Verdict {
                    authorities: Vec::new(),
                    failure: Some(Failure::new(
                        FailedCheck::Tampered,
                        format!("{location}: the signature manifest is malformed: {error}"),
                    )),
                };
            }
            Err(e) => {
                return Verdict {
                    authorities: Vec::new(),
                    failure: Some(Failure::new(
                        FailedCheck::RegistryError,
                        format!("cannot read the signatures of {at}: {e}"),
                    )),
                };
            }
        };
        judge(scope, compiled, &policy, &signatures, &at)
    }

    fn finish(
        &self,
        image: &Reference,
        digest: Option<Digest>,
        scope: &Scope,
        verdict: Verdict,
        children: Vec<ChildDecision>,
    ) -> Decision {
        let outcome = match (&verdict.failure, scope.mode) {
            (None, _) => Outcome::Allowed,
            (Some(_), Mode::Warn) => Outcome::Warned,
            (Some(_), Mode::Enforce) => Outcome::Denied,
        };
        Decision {
            image: image.to_string(),
            digest,
            scope: scope.name.clone(),
            mode: scope.mode,
            outcome,
            threshold: scope.threshold,
            authorities: verdict.authorities,
            children,
            failure: verdict.failure,
            policy_hash: *self.policy_hash(),
            trust_root_version: *self.trust_root_version(),
        }
    }
}

fn no_authorities(scope: &Scope) -> Verdict {
    let message = if scope.images.is_empty() {
        "no policy scope matches this image, and the default rule names no authorities".to_owned()
    } else {
        format!(
            "scope {:?} names no authorities: it refuses every image",
            scope.name
        )
    };
    Verdict {
        authorities: Vec::new(),
        failure: Some(Failure::new(FailedCheck::NoAuthorities, message)),
    }
}

/// Offers every signature to every authority and counts distinct
/// authorities, each with a signature of its own, against the threshold.
fn judge(
    scope: &Scope,
    compiled: &[CompiledAuthority],
    policy: &ImagePolicy,
    signatures: &ImageSignatures,
    at: &Reference,
) -> Verdict {
    let n = compiled.len();
    // vouches[a]: (candidate index, evidence) for each signature authority a
    // accepts. An authority with n of them can always be matched, so no
    // more are looked for: the work is bounded by authorities², not by
    // what the registry serves.
    let mut vouches: Vec<Vec<(usize, TlogEvidence)>> = vec![Vec::new(); n];
    let mut closest: Vec<Option<Failure>> = vec![None; n];
    for (a, authority) in compiled.iter().enumerate() {
        for (c, candidate) in signatures.candidates.iter().enumerate() {
            if vouches[a].len() >= n {
                break;
            }
            match authority.check(candidate, policy, scope.transparency_log) {
                Ok(evidence) => vouches[a].push((c, evidence)),
                Err(f) => {
                    let better = closest[a]
                        .as_ref()
                        .is_none_or(|old| f.check.closeness() > old.check.closeness());
                    if better {
                        closest[a] = Some(f);
                    }
                }
            }
        }
    }
    let assignment = max_matching(&vouches, signatures.candidates.len());
    let authorities: Vec<AuthorityResult> = compiled
        .iter()
        .enumerate()
        .map(|(a, authority)| match assignment[a] {
            Some(c) => AuthorityResult {
                authority: authority.name.clone(),
                signature: signatures.candidates.get(c).map(|s| s.origin.clone()),
                transparency_log: vouches[a].iter().find(|(x, _)| *x == c).map(|(_, e)| *e),
                failure: None,
            },
            None => AuthorityResult {
                authority: authority.name.clone(),
                signature: None,
                transparency_log: None,
                failure: closest[a].clone().or_else(|| {
                    (!vouches[a].is_empty()).then(|| {
                        Failure::new(
                            FailedCheck::ThresholdNotMet,
                            "its signatures are all counted for other authorities",
                        )
                    })
                }),
            },
        })
        .collect();
    let satisfied = assignment.iter().filter(|a| a.is_some()).count();
    if satisfied >= scope.threshold {
        return Verdict {
            authorities,
            failure: None,
        };
    }
    let failure = if signatures.is_empty() {
        Failure::new(
            FailedCheck::Unsigned,
            format!("no signatures found for {at}"),
        )
    } else if signatures.registry_failures > 0 {
        // Evidence that could not be read might have satisfied the policy.
        let first = signatures
            .unreadable
            .first()
            .map(|r| r.to_string())
            .unwrap_or_default();
        Failure::new(
            FailedCheck::RegistryError,
            format!(
                "{} of the signatures of {at} could not be read: {first}",
                signatures.registry_failures
            ),
        )
    } else if satisfied > 0 {
        let vouched: Vec<&str> = authorities
            .iter()
            .filter(|a| a.signature.is_some())
            .map(|a| a.authority.as_str())
            .collect();
        let first_missing = authorities
            .iter()
            .find_map(|a| {
                a.failure
                    .as_ref()
                    .map(|f| format!("; {}: {f}", a.authority))
            })
            .unwrap_or_default();
        Failure::new(
            FailedCheck::ThresholdNotMet,
            format!(
                "{satisfied} of the {} required authorities vouched ({}){first_missing}",
                scope.threshold,
                vouched.join(", ")
            ),
        )
    } else {
        let best = closest
            .iter()
            .flatten()
            .max_by_key(|f| f.check.closeness())
            .cloned();
        match best {
            Some(f) if f.check == FailedCheck::WrongKey => {
                let names: Vec<&str> = compiled.iter().map(|a| a.name.as_str()).collect();
                let checked = signatures.candidates.len();
                Failure::new(
                    f.check,
                    format!(
                        "{checked} signature{} of {at} checked; none verifies under {} (signed with another key, or altered after signing)",
                        if checked == 1 { "" } else { "s" },
                        names.join(", ")
                    ),
                )
            }
            Some(f) => {
                let others = signatures.candidates.len() + signatures.unreadable.len();
                let mut message = f.message.clone();
                if others > 1 {
                    message.push_str(&format!(" ({others} signatures checked)"));
                }
                Failure::new(f.check, message)
            }
            None => {
                let first = signatures
                    .unreadable
                    .first()
                    .map(|r| r.to_string())
                    .unwrap_or_default();
                Failure::new(
                    FailedCheck::Tampered,
                    format!("no usable signature for {at}: {first}"),
                )
            }
        }
    };
    Verdict {
        authorities,
        failure: Some(failure),
    }
}

/// A maximum matching of authorities to distinct signatures (Kuhn's
/// augmenting paths; authorities are few). `assignment[a]` is the signature
/// authority `a` is counted with.
fn max_matching(vouches: &[Vec<(usize, TlogEvidence)>], signatures: usize) -> Vec<Option<usize>> {
    let mut owner: Vec<Option<usize>> = vec![None; signatures];
    fn augment(
        a: usize,
        vouches: &[Vec<(usize, TlogEvidence)>],
        owner: &mut [Option<usize>],
        seen: &mut [bool],
    ) -> bool {
        for &(c, _) in &vouches[a] {
            if seen[c] {
                continue;
            }
            seen[c] = true;
            let free = match owner[c] {
                None => true,
                Some(other) => augment(other, vouches, owner, seen),
            };
            if free {
                owner[c] = Some(a);
                return true;
            }
        }
        false
    }
    for a in 0..vouches.len() {
        let mut seen = vec![false; signatures];
        augment(a, vouches, &mut owner, &mut seen);
    }
    let mut assignment = vec![None; vouches.len()];
    for (c, a) in owner.iter().enumerate() {
        if let Some(a) = a {
            assignment[*a] = Some(c);
        }
    }
    assignment
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(list: &[usize]) -> Vec<(usize, TlogEvidence)> {
        list.iter().map(|c| (*c, TlogEvidence::Absent)).collect()
    }

    #[test]
    fn matching_counts_distinct_signatures() {
        // Two authorities that both accept only signature 0 count once.
        let m = max_matching(&[v(&[0]), v(&[0])], 1);
        assert_eq!(m.iter().flatten().count(), 1);
        // Augmenting: a0 takes 0 first, then gives it up for a1.
        let m = max_matching(&[v(&[0, 1]), v(&[0])], 2);
        assert_eq!(m, vec![Some(1), Some(0)]);
        let m = max_matching(&[v(&[]), v(&[2]), v(&[2, 1])], 3);
        assert_eq!(m.iter().flatten().count(), 2);
    }
}
