//! sigstore policy-controller `ClusterImagePolicy` (`policy.sigstore.dev/v1beta1`).
//!
//! policy-controller applies every ClusterImagePolicy whose globs match an
//! image (AND), and within one, any authority is enough (OR). Its globs are
//! signet's (`*` within a segment, `**` across) but match the whole
//! reference, tag or digest included.

use serde_json::{Value, json};

use super::{ExportError, NoteKind, Notes, rejects_all, same_requirement, tlog_required};
use crate::file::Mode;
use crate::glob::ImageGlob;
use crate::policy::{Authority, AuthorityKind, Policy, Scope, StringMatch};

pub(super) fn write(policy: &Policy, notes: &mut Notes) -> Result<String, ExportError> {
    let mut docs = Vec::new();
    for scope in policy.scopes() {
        overlaps(policy, scope, notes);
        let globs: Vec<Value> = scope.images.iter().flat_map(globs).collect();
        let sets = authority_sets(policy, scope, notes)?;
        let count = sets.len();
        for (i, authorities) in sets.into_iter().enumerate() {
            let mut name = resource_name(&scope.name);
            if count > 1 {
                name.push_str(&format!("-{}", i + 1));
            }
            docs.push(json!({
                "apiVersion": "policy.sigstore.dev/v1beta1",
                "kind": "ClusterImagePolicy",
                "metadata": {"name": name, "annotations": {"signet.dev/policy-hash": policy.hash().to_string()}},
                "spec": {
                    "images": globs,
                    "mode": match scope.mode { Mode::Enforce => "enforce", Mode::Warn => "warn" },
                    "authorities": authorities,
                },
            }));
        }
    }
    let default = policy.default_rule();
    if rejects_all(default) {
        notes.add(
            default,
            NoteKind::Differs,
            "images no ClusterImagePolicy matches are decided by policy-controller's no-match-policy, which must be deny (its default) to match this policy",
        );
    } else {
        notes.add(
            default,
            NoteKind::Narrower,
            "a default rule with authorities or in warn mode has no ClusterImagePolicy form (a `**` policy would apply to every image, on top of the others); images no scope matches are left to no-match-policy, which must be deny",
        );
    }
    let mut out = String::new();
    for doc in docs {
        out.push_str("---\n");
        out.push_str(
            &serde_saphyr::to_string(&doc).map_err(|e| ExportError::Material(e.to_string()))?,
        );
    }
    Ok(out)
}

/// policy-controller matches the reference with its tag or digest, so an
/// exact repository needs its tagged and digested forms too.
fn globs(glob: &ImageGlob) -> Vec<Value> {
    let g = glob.normalised();
    if glob.is_exact() {
        vec![
            json!({"glob": g}),
            json!({"glob": format!("{g}:**")}),
            json!({"glob": format!("{g}@**")}),
        ]
    } else if g.ends_with('*') {
        vec![json!({"glob": g})]
    } else {
        // `reg/*/app`: the tag follows the last literal part.
        vec![
            json!({"glob": format!("{g}:**")}),
            json!({"glob": format!("{g}@**")}),
            json!({"glob": g}),
        ]
    }
}

fn resource_name(scope: &str) -> String {
    let mut name: String = scope
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name = name.trim_matches('-').to_owned();
    while name.contains("--") {
        name = name.replace("--", "-");
    }
    format!("signet-{name}")
}

/// Scopes that can match one image together: policy-controller requires
/// every one of them, signet only the most specific.
fn overlaps(policy: &Policy, scope: &Scope, notes: &mut Notes) {
    for other in policy.scopes() {
        if std::ptr::eq(other, scope) || other.mode == Mode::Warn || same_requirement(other, scope)
        {
            continue;
        }
        let may_overlap = scope.images.iter().any(|a| {
            other.images.iter().any(|b| {
                let (pa, pb) = (literal_prefix(a), literal_prefix(b));
                pa.starts_with(&pb) || pb.starts_with(&pa)
            })
        });
        if may_overlap {
            notes.add(
                scope,
                NoteKind::Narrower,
                format!(
                    "its images may also match scope {:?}; policy-controller requires every matching ClusterImagePolicy, signet only the most specific",
                    other.name
                ),
            );
        }
    }
}

fn literal_prefix(g: &ImageGlob) -> String {
    let n = g.normalised();
    n.split('*').next().unwrap_or_default().to_owned()
}

/// The authorities of each ClusterImagePolicy for a scope: one resource
/// (any authority) for a threshold of 1, one per authority (all of them)
/// otherwise.
fn authority_sets(
    policy: &Policy,
    scope: &Scope,
    notes: &mut Notes,
) -> Result<Vec<Vec<Value>>, ExportError> {
    if scope.authorities.is_empty() {
        return Ok(vec![vec![
            json!({"name": "refuse", "static": {"action": "fail", "message": "no authority may sign these images"}}),
        ]]);
    }
    if !scope.annotations.is_empty() {
        notes.add(
            scope,
            NoteKind::Narrower,
            "ClusterImagePolicy authorities cannot require annotations in the signed payload without a CUE or Rego policy: exported as a static fail",
        );
        return Ok(vec![vec![
            json!({"name": "refuse", "static": {"action": "fail", "message": "annotations required"}}),
        ]]);
    }
    if scope.match_repository {
        notes.add(
            scope,
            NoteKind::Narrower,
            "policy-controller does not check the signed docker-reference (match-repository): exported as a static fail",
        );
        return Ok(vec![vec![
            json!({"name": "refuse", "static": {"action": "fail", "message": "match-repository required"}}),
        ]]);
    }
    if scope.require_recursive {
        notes.add(
            scope,
            NoteKind::Differs,
            "policy-controller checks the image it admits; require-recursive has no counterpart",
        );
    }
    let mut authorities = Vec::new();
    for a in &scope.authorities {
        match authority(policy, scope, a, notes)? {
            Some(v) => authorities.push(v),
            None if scope.threshold > 1 => {
                // An AND member that cannot be expressed: nothing can pass.
                return Ok(vec![vec![
                    json!({"name": "refuse", "static": {"action": "fail", "message": "an authority policy-controller cannot express is required"}}),
                ]]);
            }
            None => {}
        }
    }
    if authorities.is_empty() {
        return Ok(vec![vec![
            json!({"name": "refuse", "static": {"action": "fail", "message": "no expressible authority"}}),
        ]]);
    }
    let n = scope.authorities.len();
    if scope.threshold == 1 {
        return Ok(vec![authorities]);
    }
    if scope.threshold < n {
        notes.add(
            scope,
            NoteKind::Narrower,
            format!(
                "a threshold of {} of {n} has no ClusterImagePolicy form; every authority is required (one resource each)",
                scope.threshold
            ),
        );
    }
    Ok(authorities.into_iter().map(|a| vec![a]).collect())
}

fn authority(
    policy: &Policy,
    scope: &Scope,
    a: &Authority,
    notes: &mut Notes,
) -> Result<Option<Value>, ExportError> {
    let name = resource_name(&a.name)
        .trim_start_matches("signet-")
        .to_owned();
    let root = policy.trust_roots().get(&a.trust_root).ok_or_else(|| {
        ExportError::Material(format!("trust root {} is not loaded", a.trust_root))
    })?;
    let rekor = root.root.tlogs.first().map(|l| l.base_url.clone());
    match &a.kind {
        AuthorityKind::Key { key, .. } => {
            let mut v =
                json!({"name": name, "key": {"data": key.to_pem(), "hashAlgorithm": "sha256"}});
            if tlog_required(scope) {
                match rekor {
                    Some(url) => v["ctlog"] = json!({"url": url}),
                    None => {
                        return Err(ExportError::Material(format!(
                            "scope {:?}: transparency-log evidence is required but trust root {} lists no Rekor log",
                            scope.name, a.trust_root
                        )));
                    }
                }
            } else {
                notes.add(
                    scope,
                    NoteKind::Differs,
                    "transparency-log: optional has no ClusterImagePolicy field; check that policy-controller's transparency-log setting for key authorities matches",
                );
            }
            Ok(Some(v))
        }
        AuthorityKind::Keyless(id) => {
            if !id.claims.is_empty() {
                notes.add(
                    scope,
                    NoteKind::Narrower,
                    format!(
                        "authority {:?}: ClusterImagePolicy identities have no CI claims; left out",
                        a.name
                    ),
                );
                return Ok(None);
            }
            if !tlog_required(scope) {
                notes.add(
                    scope,
                    NoteKind::Narrower,
                    "policy-controller requires a transparency-log entry for keyless signatures; the scope makes it optional",
                );
            }
            let mut identity = serde_json::Map::new();
            match &id.issuer {
                StringMatch::Exact(s) => identity.insert("issuer".into(), json!(s)),
                StringMatch::Regexp(r) => identity.insert("issuerRegExp".into(), json!(r.as_str())),
            };
            match &id.subject {
                StringMatch::Exact(s) => identity.insert("subject".into(), json!(s)),
                StringMatch::Regexp(r) => {
                    identity.insert("subjectRegExp".into(), json!(r.as_str()))
                }
            };
            let fulcio = root
                .root
                .certificate_authorities
                .first()
                .map(|c| c.uri.clone());
            let mut keyless = json!({"identities": [identity]});
            if let Some(url) = fulcio {
                keyless["url"] = json!(url);
            }
            let mut v = json!({"name": name, "keyless": keyless});
            if let Some(url) = rekor {
                v["ctlog"] = json!({"url": url});
            }
            if root.path.is_some() {
                notes.add(
                    scope,
                    NoteKind::Differs,
                    format!(
                        "authority {:?}: trust root {} must be installed as a policy-controller TrustRoot and referenced (trustRootRef)",
                        a.name, a.trust_root
                    ),
                );
            }
            Ok(Some(v))
        }
    }
}
