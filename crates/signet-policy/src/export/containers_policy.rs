//! containers-image `policy.json` (`containers-policy.json(5)`), as podman,
//! skopeo and CRI-O read it.
//!
//! Scopes there are a registry, a namespace or a repository under the
//! `docker` transport, and a scope covers everything under it: `reg/ns`
//! covers `reg/ns` itself and `reg/ns/a/b`. The most specific scope wins, as
//! in signet. Requirements in a scope's list must all hold (AND).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use signet_oci::RepositoryRef;

use super::{ExportError, NoteKind, Notes, rejects_all, same_requirement, tlog_required};
use crate::file::Mode;
use crate::policy::{AuthorityKind, Policy, Scope, StringMatch};

/// What a glob becomes.
enum Key {
    /// The policy's `default`.
    Default,
    /// A `docker` transport scope; with the image that the scope covers and
    /// the glob does not, to check that the policy treats it alike.
    Scope { key: String, probe: Option<String> },
}

fn translate(glob: &str) -> Option<Key> {
    if glob == "**" {
        return Some(Key::Default);
    }
    if !glob.contains('*') {
        return Some(Key::Scope {
            key: glob.to_owned(),
            probe: Some(format!("{glob}/signet-export-probe")),
        });
    }
    let prefix = glob.strip_suffix("/**")?;
    if let Some(domain) = prefix.strip_prefix("*.") {
        // `*.example/**`: every repository on a subdomain of example.
        return (!domain.contains(['*', '/'])).then(|| Key::Scope {
            key: prefix.to_owned(),
            probe: None,
        });
    }
    if prefix.contains('*') {
        return None;
    }
    // `reg/**` is a registry scope; `reg/ns/**` a namespace, which also
    // covers the repository `reg/ns` itself.
    let probe = prefix.contains('/').then(|| prefix.to_owned());
    Some(Key::Scope {
        key: prefix.to_owned(),
        probe,
    })
}

pub(super) fn write(policy: &Policy, notes: &mut Notes) -> Result<String, ExportError> {
    let mut docker: BTreeMap<String, (Value, &Scope)> = BTreeMap::new();
    let mut default = requirement(policy, policy.default_rule(), notes)?;
    for scope in policy.scopes() {
        let req = requirement(policy, scope, notes)?;
        for glob in &scope.images {
            let normalised = glob.normalised();
            match translate(&normalised) {
                None => {
                    notes.add(
                        scope,
                        NoteKind::Narrower,
                        format!(
                            "glob {glob}: policy.json scopes are a registry, a namespace or a repository; no scope covers exactly what `*` within a segment or `**` inside a path covers; exported as reject at {}",
                            reject_key(&normalised)
                        ),
                    );
                    insert(
                        &mut docker,
                        reject_key(&normalised),
                        json!([{"type": "reject"}]),
                        scope,
                        notes,
                    );
                }
                Some(Key::Default) => {
                    default = req.clone();
                }
                Some(Key::Scope { key, probe }) => {
                    let mut exported = req.clone();
                    if let Some(probe) = probe
                        && let Ok(repo) = probe.parse::<RepositoryRef>()
                    {
                        let other = policy.scope_for(&repo);
                        if !same_requirement(other, scope) && !covered_by_scope(scope, &probe) {
                            let what = if probe.ends_with("/signet-export-probe") {
                                format!("the repositories under {key}")
                            } else {
                                format!("the repository {key} itself")
                            };
                            notes.add(
                                scope,
                                if rejects_all(scope) { NoteKind::Narrower } else { NoteKind::Wider },
                                format!(
                                    "glob {glob}: policy.json scope {key} also covers {what}, which the policy gives to {:?}; add a glob for them to this scope, or give them their own scope",
                                    other.name
                                ),
                            );
                            exported = json!([{"type": "reject"}]);
                        }
                    }
                    insert(&mut docker, key, exported, scope, notes);
                }
            }
        }
    }
    let transports: BTreeMap<String, Value> =
        docker.into_iter().map(|(k, (v, _))| (k, v)).collect();
    let doc = json!({
        "default": default,
        "transports": {"docker": transports},
    });
    Ok(serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n")
}

/// Whether another glob of the same scope covers `probe` (`reg/ns` and
/// `reg/ns/**` together export exactly).
fn covered_by_scope(scope: &Scope, probe: &str) -> bool {
    scope.images.iter().any(|g| g.matches(probe))
}

/// The scope key for refusing a glob policy.json cannot express: its
/// literal prefix up to the last `/` before the first wildcard.
fn reject_key(glob: &str) -> String {
    let star = glob.find('*').unwrap_or(glob.len());
    match glob[..star].rfind('/') {
        Some(slash) => glob[..slash].to_owned(),
        None => glob[..star].trim_end_matches('.').to_owned(),
    }
}

fn insert<'a>(
    docker: &mut BTreeMap<String, (Value, &'a Scope)>,
    key: String,
    req: Value,
    scope: &'a Scope,
    notes: &mut Notes,
) {
    match docker.get(&key) {
        Some((existing, owner)) if *existing != req || !same_requirement(owner, scope) => {
            if *existing == json!([{"type": "reject"}]) {
                return;
            }
            if req != json!([{"type": "reject"}]) {
                notes.add(
                    scope,
                    NoteKind::Narrower,
                    format!(
                        "policy.json scope {key} is claimed by scope {:?} too, with other requirements; exported as reject",
                        owner.name
                    ),
                );
            }
            docker.insert(key, (json!([{"type": "reject"}]), scope));
        }
        Some(_) => {}
        None => {
            docker.insert(key, (req, scope));
        }
    }
}

/// One `sigstoreSigned` requirement, before rekor keys are added.
struct Atom {
    req: serde_json::Map<String, Value>,
    keyless: bool,
    trust_root: String,
}

fn requirement(policy: &Policy, scope: &Scope, notes: &mut Notes) -> Result<Value, ExportError> {
    if rejects_all(scope) {
        return Ok(json!([{"type": "reject"}]));
    }
    if scope.authorities.is_empty() {
        // warn mode with nothing to check: everything is let through.
        return Ok(json!([{"type": "insecureAcceptAnything"}]));
    }
    if scope.mode == Mode::Warn {
        notes.add(
            scope,
            NoteKind::Narrower,
            "policy.json has no warn mode: the scope is enforced",
        );
    }
    if !scope.annotations.is_empty() {
        notes.add(
            scope,
            NoteKind::Narrower,
            "policy.json cannot require annotations in the signed payload: the scope is exported as reject",
        );
        return Ok(json!([{"type": "reject"}]));
    }
    if !scope.match_repository {
        notes.add(
            scope,
            NoteKind::Differs,
            "policy.json always requires the signed docker-reference to name the image's repository (signedIdentity matchRepository); the policy does not check it",
        );
    }
    if !scope.require_recursive {
        notes.add(
            scope,
            NoteKind::Differs,
            "policy.json checks the signature of the platform image it pulls, not only the index's",
        );
    }
    let n = scope.authorities.len();
    let keys: Vec<_> = scope
        .authorities
        .iter()
        .filter_map(|a| match &a.kind {
            AuthorityKind::Key { file, key, .. } => Some((a, file, key)),
            _ => None,
        })
        .collect();
    let mut atoms: Vec<Atom> = Vec::new();
    // Any one of several keys: one requirement with keyPaths (c/image 5.33+).
    if scope.threshold == 1 && !keys.is_empty() {
        atoms.push(key_atom(policy, &keys));
    } else {
        for k in &keys {
            atoms.push(key_atom(policy, std::slice::from_ref(k)));
        }
    }
    for a in &scope.authorities {
        let AuthorityKind::Keyless(id) = &a.kind else {
            continue;
        };
        let subject_email = match &id.subject {
            StringMatch::Exact(s) if s.contains('@') && !s.contains("://") => Some(s),
            _ => None,
        };
        let issuer = match &id.issuer {
            StringMatch::Exact(s) => Some(s),
            StringMatch::Regexp(_) => None,
        };
        let (Some(subject), Some(issuer), true) = (subject_email, issuer, id.claims.is_empty())
        else {
            notes.add(
                scope,
                NoteKind::Narrower,
                format!(
                    "authority {:?}: policy.json matches keyless identities by exact issuer and e-mail subject only (no regular expressions, URI subjects or CI claims); left out",
                    a.name
                ),
            );
            continue;
        };
        let root = policy.trust_roots().get(&a.trust_root).ok_or_else(|| {
            ExportError::Material(format!("trust root {} is not loaded", a.trust_root))
        })?;
        let mut pem = String::new();
        for ca in &root.root.certificate_authorities {
            for cert in &ca.cert_chain {
                pem.push_str(&pem_block("CERTIFICATE", cert.der()));
            }
        }
        if pem.is_empty() {
            return Err(ExportError::Material(format!(
                "authority {:?}: trust root {} lists no Fulcio certificate authority",
                a.name, a.trust_root
            )));
        }
        let mut req = serde_json::Map::new();
        req.insert("type".into(), json!("sigstoreSigned"));
        req.insert(
            "fulcio".into(),
            json!({"caData": B64.encode(pem), "oidcIssuer": issuer, "subjectEmail": subject}),
        );
        atoms.push(Atom {
            req,
            keyless: true,
            trust_root: a.trust_root.clone(),
        });
    }
    if atoms.is_empty() {
        return Ok(json!([{"type": "reject"}]));
    }
    let counted = atoms.len();
    if atoms.len() > 1 && (scope.threshold < n || counted < n) {
        notes.add(
            scope,
            NoteKind::Narrower,
            format!(
                "policy.json requires every listed requirement (AND); {} of {n} authorities become all of {counted}",
                scope.threshold
            ),
        );
    }
    let mut out = Vec::with_capacity(atoms.len());
    for mut atom in atoms {
        let wants_log = tlog_required(scope) || atom.keyless;
        if atom.keyless && !tlog_required(scope) {
            notes.add(
                scope,
                NoteKind::Narrower,
                "policy.json requires a transparency-log entry for keyless signatures; the scope makes it optional",
            );
        }
        if wants_log {
            let root = policy.trust_roots().get(&atom.trust_root).ok_or_else(|| {
                ExportError::Material(format!("trust root {} is not loaded", atom.trust_root))
            })?;
            let mut datas = Vec::new();
            for log in &root.root.tlogs {
                if let Ok(key) = log.public_key.to_public_key() {
                    datas.push(json!(B64.encode(key.to_pem())));
                }
            }
            match datas.len() {
                0 => {
                    return Err(ExportError::Material(format!(
                        "scope {:?}: transparency-log evidence is required but trust root {} lists no Rekor key",
                        scope.name, atom.trust_root
                    )));
                }
                1 => {
                    atom.req
                        .insert("rekorPublicKeyData".into(), datas.remove(0));
                }
                _ => {
                    atom.req
                        .insert("rekorPublicKeyDatas".into(), Value::Array(datas));
                }
            }
            notes.add(
                scope,
                NoteKind::Differs,
                "policy.json checks the transparency log through the signed entry timestamp only; an inclusion proof alone does not satisfy it",
            );
        }
        atom.req
            .insert("signedIdentity".into(), json!({"type": "matchRepository"}));
        out.push(Value::Object(atom.req));
    }
    Ok(Value::Array(out))
}

fn key_atom(
    _policy: &Policy,
    keys: &[(
        &crate::policy::Authority,
        &Option<std::path::PathBuf>,
        &signet_core::keys::PublicKey,
    )],
) -> Atom {
    let mut req = serde_json::Map::new();
    req.insert("type".into(), json!("sigstoreSigned"));
    let files: Option<Vec<String>> = keys
        .iter()
        .map(|(_, file, _)| file.as_ref().map(|p| p.display().to_string()))
        .collect();
    match (files, keys) {
        (Some(mut files), [_]) => {
            req.insert("keyPath".into(), json!(files.remove(0)));
        }
        (Some(files), _) => {
            req.insert("keyPaths".into(), json!(files));
        }
        (None, [(_, _, key)]) => {
            req.insert("keyData".into(), json!(B64.encode(key.to_pem())));
        }
        (None, _) => {
            let datas: Vec<String> = keys
                .iter()
                .map(|(_, _, k)| B64.encode(k.to_pem()))
                .collect();
            req.insert("keyDatas".into(), json!(datas));
        }
    }
    Atom {
        req,
        keyless: false,
        trust_root: keys
            .first()
            .map(|(a, _, _)| a.trust_root.clone())
            .unwrap_or_default(),
    }
}

fn pem_block(label: &str, der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
