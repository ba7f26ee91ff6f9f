//! The checked policy: scopes with their globs and authorities, keys and
//! trust roots loaded once, the scope an image falls under, and the hashes
//! caches key on.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;
use signet_core::keys::PublicKey;
use signet_core::limits::{self, InputLimit};
use signet_kms::{KeyRef, KmsError, PasswordSource};
use signet_oci::RepositoryRef;
use signet_trust::TrustedRoot;
use zeroize_free::NoPasswords;

use crate::error::PolicyError;
use crate::file::{
    self, MAX_POLICY_FILE_BYTES, Mode, RawAuthority, RawKeyless, RawPolicy, RawRule,
    TlogRequirement,
};
use crate::glob::{ImageGlob, Specificity};
use crate::hash::{PolicyHash, TrustRootVersion, policy_hash, trust_root_version};

/// Scopes in one policy file, at most.
pub const MAX_SCOPES: usize = 1000;
/// Globs in one scope, at most.
pub const MAX_GLOBS_PER_SCOPE: usize = 64;
/// Authorities in one scope, at most.
pub const MAX_AUTHORITIES_PER_SCOPE: usize = 64;
/// Required annotations in one scope, at most.
pub const MAX_ANNOTATIONS: usize = 64;
/// Named trust roots, at most.
pub const MAX_TRUST_ROOTS: usize = 16;
/// Compiled size of one regular expression, at most (bytes).
pub const MAX_REGEX_SIZE: usize = 1 << 16;
/// The name of the shipped public-good trusted root, always available.
pub const PUBLIC_GOOD: &str = "public-good";

const POLICY_FILE: InputLimit = InputLimit::new("a policy file", MAX_POLICY_FILE_BYTES);

/// A loaded, checked policy. Built once ([`Policy::load`]); cheap to share.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) file: String,
    pub(crate) scopes: Vec<Scope>,
    pub(crate) default: Scope,
    pub(crate) trust_roots: BTreeMap<String, TrustRoot>,
    pub(crate) hash: PolicyHash,
    pub(crate) trust_root_version: TrustRootVersion,
}

/// One scope: the images it covers and what they need.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The scope's name (`name:`), else `policies[N]`, or `default`.
    pub name: String,
    /// The globs (empty for the default rule).
    pub images: Vec<ImageGlob>,
    /// `enforce` or `warn`.
    pub mode: Mode,
    /// The authorities; any `threshold` of them must each vouch with a
    /// signature of its own.
    pub authorities: Vec<Authority>,
    /// How many distinct authorities must be satisfied (default 1).
    pub threshold: usize,
    /// Whether transparency-log evidence is required (default: required).
    pub transparency_log: TlogRequirement,
    /// For an index, whether every image it lists must satisfy the scope too.
    pub require_recursive: bool,
    /// Annotations every accepted signature must carry (`-a key=value`).
    pub annotations: BTreeMap<String, String>,
    /// Whether the signed `docker-reference` must name the image's own
    /// repository (stops a signature being replayed into another repository).
    pub match_repository: bool,
}

/// Who may vouch for an image.
#[derive(Debug, Clone)]
pub struct Authority {
    /// Its name in decisions (`name:`, else the key reference or identity).
    pub name: String,
    /// A key, or a keyless identity.
    pub kind: AuthorityKind,
    /// The trust root its evidence is checked against (a name in
    /// `trust-roots:`, or `public-good`).
    pub trust_root: String,
}

/// The two kinds of authority.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AuthorityKind {
    /// A public key, loaded when the policy was loaded.
    Key {
        /// The reference as written (`cosign.pub`, `hashivault://release`).
        reference: String,
        /// The key.
        key: PublicKey,
        /// The key file, absolute, when the reference is a file.
        file: Option<PathBuf>,
    },
    /// A certificate identity from a Fulcio CA of the trust root.
    Keyless(KeylessIdentity),
}

/// A keyless identity: the certificate's OIDC issuer and subject (SAN), each
/// exact or a regular expression, and optional CI claims that must hold
/// exactly.
#[derive(Debug, Clone)]
pub struct KeylessIdentity {
    /// The OIDC issuer.
    pub issuer: StringMatch,
    /// The subject alternative name.
    pub subject: StringMatch,
    /// CI claims (extensions 1.3.6.1.4.1.57264.1.2–.6), exact.
    pub claims: BTreeMap<Claim, String>,
}

/// Exact or regular-expression matching of one certificate value.
#[derive(Debug, Clone)]
pub enum StringMatch {
    /// Exactly this value.
    Exact(String),
    /// A value this (unanchored, as in cosign) regular expression matches.
    Regexp(Regex),
}

impl StringMatch {
    /// The value or pattern as written.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Exact(s) => s,
            Self::Regexp(r) => r.as_str(),
        }
    }

    /// Whether this is a regular expression.
    pub fn is_regexp(&self) -> bool {
        matches!(self, Self::Regexp(_))
    }
}

/// A CI claim of a Fulcio certificate, by cosign's flag name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Claim {
    /// `github-workflow-trigger` (1.3.6.1.4.1.57264.1.2).
    GithubWorkflowTrigger,
    /// `github-workflow-sha` (.3).
    GithubWorkflowSha,
    /// `github-workflow-name` (.4).
    GithubWorkflowName,
    /// `github-workflow-repository` (.5).
    GithubWorkflowRepository,
    /// `github-workflow-ref` (.6).
    GithubWorkflowRef,
}

/// A named trusted root.
#[derive(Debug, Clone)]
pub struct TrustRoot {
    /// Its name.
    pub name: String,
    /// The file it came from (`None` for the shipped public-good root).
    pub path: Option<PathBuf>,
    /// The root.
    pub root: TrustedRoot,
}

impl Policy {
    /// Reads, parses and checks the policy file at `path`, loading every key
    /// and trust root it names (key files and trust roots relative to the
    /// policy file's directory; `env://`, `hashivault://` and `vault-kv://`
    /// as `signet-kms` resolves them).
    pub async fn load(path: &Path) -> Result<Self, PolicyError> {
        let file = path.display().to_string();
        let bytes = limits::read_file(path, POLICY_FILE).map_err(|e| {
            // The reader's message names the path already; say it once.
            let message = e.to_string();
            PolicyError::Read {
                file: file.clone(),
                message: message
                    .strip_prefix(&format!("{file}: "))
                    .unwrap_or(&message)
                    .to_owned(),
            }
        })?;
        let text = String::from_utf8(bytes).map_err(|_| PolicyError::Read {
            file: file.clone(),
            message: "not UTF-8 text".into(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_yaml(&file, &text, base).await
    }

    /// Parses and checks policy text; `file` names it in errors, `base` is
    /// the directory relative paths are resolved against.
    pub async fn from_yaml(file: &str, text: &str, base: &Path) -> Result<Self, PolicyError> {
        let raw = file::parse_yaml(file, text)?;
        Builder { file, base }.build(raw).await
    }

    /// The file the policy came from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The scopes, in file order.
    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }

    /// The rule for images no scope matches.
    pub fn default_rule(&self) -> &Scope {
        &self.default
    }

    /// The named trust roots (including `public-good` when referenced).
    pub fn trust_roots(&self) -> &BTreeMap<String, TrustRoot> {
        &self.trust_roots
    }

    /// A hash of the parsed policy and its key material: two policies with
    /// the same hash make the same decisions for the same evidence.
    pub fn hash(&self) -> &PolicyHash {
        &self.hash
    }

    /// A hash of the trust roots the policy uses.
    pub fn trust_root_version(&self) -> &TrustRootVersion {
        &self.trust_root_version
    }

    /// The scope that decides about `repository`: of the scopes with a glob
    /// matching it, the one whose matching glob is most specific (see
    /// [`ImageGlob::specificity`]); among equally specific ones, the first
    /// in the file. The default rule when none matches.
    pub fn scope_for(&self, repository: &RepositoryRef) -> &Scope {
        let name = repository.to_string();
        let mut best: Option<(Specificity, &Scope)> = None;
        for scope in &self.scopes {
            let Some(spec) = scope
                .images
                .iter()
                .filter(|g| g.matches(&name))
                .map(ImageGlob::specificity)
                .max()
            else {
                continue;
            };
            if best.as_ref().is_none_or(|(b, _)| spec > *b) {
                best = Some((spec, scope));
            }
        }
        best.map_or(&self.default, |(_, s)| s)
    }

    /// Whether any scope (not the default rule) covers `repository`.
    pub fn covers(&self, repository: &RepositoryRef) -> bool {
        !std::ptr::eq(self.scope_for(repository), &self.default)
    }
}

mod zeroize_free {
    use signet_kms::{KmsError, PasswordSource};
    use zeroize::Zeroizing;

    /// Policies name public keys; an encrypted private key is refused
    /// rather than prompting for its password.
    pub(super) struct NoPasswords;

    impl PasswordSource for NoPasswords {
        fn existing(&self, what: &str) -> Result<Zeroizing<Vec<u8>>, KmsError> {
            Err(KmsError::Password(format!(
                "{what} is an encrypted private key; a policy names public keys (cosign public-key --key {what} > key.pub)"
            )))
        }
        fn new_password(&self, what: &str) -> Result<Zeroizing<Vec<u8>>, KmsError> {
            self.existing(what)
        }
    }
}

struct Builder<'a> {
    file: &'a str,
    base: &'a Path,
}

impl Builder<'_> {
    fn invalid(&self, path: impl Into<String>, message: impl Into<String>) -> PolicyError {
        PolicyError::invalid(self.file, path, message)
    }

    async fn build(&self, raw: RawPolicy) -> Result<Policy, PolicyError> {
        if let Some(v) = raw.version
            && v != 1
        {
            return Err(self.invalid("version", format!("version {v} is not known; 1 is")));
        }
        if raw.policies.len() > MAX_SCOPES {
            return Err(self.invalid(
                "policies",
                format!(
                    "{} scopes, more than the limit of {MAX_SCOPES}",
                    raw.policies.len()
                ),
            ));
        }
        let roots = self.trust_roots(&raw.trust_roots)?;
        let mut scopes = Vec::with_capacity(raw.policies.len());
        let mut names = BTreeSet::new();
        let mut globs: BTreeMap<String, String> = BTreeMap::new();
        for (i, raw_scope) in raw.policies.into_iter().enumerate() {
            let at = format!("policies[{i}]");
            let (raw_name, raw_images, raw_rule) = raw_scope.split();
            let name = match raw_name {
                Some(n) if n.trim().is_empty() => {
                    return Err(self.invalid(format!("{at}.name"), "empty name"));
                }
                Some(n) => n,
                None => at.clone(),
            };
            if !names.insert(name.clone()) {
                return Err(self.invalid(
                    format!("{at}.name"),
                    format!("scope name {name:?} is used twice"),
                ));
            }
            let patterns = raw_images.into_vec();
            if patterns.is_empty() {
                return Err(self.invalid(format!("{at}.images"), "no image globs"));
            }
            if patterns.len() > MAX_GLOBS_PER_SCOPE {
                return Err(self.invalid(
                    format!("{at}.images"),
                    format!(
                        "{} globs, more than the limit of {MAX_GLOBS_PER_SCOPE}",
                        patterns.len()
                    ),
                ));
            }
            let mut images = Vec::with_capacity(patterns.len());
            for (j, p) in patterns.iter().enumerate() {
                let glob = ImageGlob::parse(p)
                    .map_err(|e| self.invalid(format!("{at}.images[{j}]"), e.to_string()))?;
                // The same glob in two scopes would leave the choice to file
                // order, which nobody reading the file would guess.
                if let Some(other) = globs.insert(glob.normalised(), name.clone()) {
                    return Err(self.invalid(
                        format!("{at}.images[{j}]"),
                        format!("glob {p:?} is already in scope {other:?}"),
                    ));
                }
                images.push(glob);
            }
            let mut scope = self.rule(&at, name, raw_rule, &roots).await?;
            scope.images = images;
            scopes.push(scope);
        }
        let default = match raw.default {
            Some(rule) => self.rule("default", "default".into(), rule, &roots).await?,
            // Nothing matched and nothing said: refused.
            None => {
                self.rule("default", "default".into(), RawRule::default(), &roots)
                    .await?
            }
        };
        let used: BTreeSet<&str> = scopes
            .iter()
            .chain(std::iter::once(&default))
            .flat_map(|s| s.authorities.iter().map(|a| a.trust_root.as_str()))
            .collect();
        let trust_roots: BTreeMap<String, TrustRoot> = roots
            .into_iter()
            .filter(|(name, _)| used.contains(name.as_str()) || name != PUBLIC_GOOD)
            .collect();
        let hash = policy_hash(&scopes, &default);
        let trust_root_version = trust_root_version(&trust_roots);
        Ok(Policy {
            file: self.file.to_owned(),
            scopes,
            default,
            trust_roots,
            hash,
            trust_root_version,
        })
    }

    fn trust_roots(
        &self,
        raw: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, TrustRoot>, PolicyError> {
        if raw.len() > MAX_TRUST_ROOTS {
            return Err(self.invalid(
                "trust-roots",
                format!(
                    "{} trust roots, more than the limit of {MAX_TRUST_ROOTS}",
                    raw.len()
                ),
            ));
        }
        let mut roots = BTreeMap::new();
        let public_good =
            signet_trust::public_good::trusted_root().map_err(|e| PolicyError::TrustRoot {
                file: self.file.to_owned(),
                name: PUBLIC_GOOD.into(),
                message: e.to_string(),
            })?;
        roots.insert(
            PUBLIC_GOOD.to_owned(),
            TrustRoot {
                name: PUBLIC_GOOD.into(),
                path: None,
                root: public_good,
            },
        );
        for (name, path) in raw {
            if name == PUBLIC_GOOD {
                return Err(self.invalid(
                    format!("trust-roots.{name}"),
                    "the name public-good is reserved for the shipped public-good root",
                ));
            }
            let full = self.base.join(path);
            let root = TrustedRoot::load(&full).map_err(|e| PolicyError::TrustRoot {
                file: self.file.to_owned(),
                name: name.clone(),
                message: format!("{}: {e}", full.display()),
            })?;
            roots.insert(
                name.clone(),
                TrustRoot {
                    name: name.clone(),
                    path: Some(full),
                    root,
                },
            );
        }
        Ok(roots)
    }

    async fn rule(
        &self,
        at: &str,
        name: String,
        raw: RawRule,
        roots: &BTreeMap<String, TrustRoot>,
    ) -> Result<Scope, PolicyError> {
        if raw.authorities.len() > MAX_AUTHORITIES_PER_SCOPE {
            return Err(self.invalid(
                format!("{at}.authorities"),
                format!(
                    "{} authorities, more than the limit of {MAX_AUTHORITIES_PER_SCOPE}",
                    raw.authorities.len()
                ),
            ));
        }
        if raw.annotations.len() > MAX_ANNOTATIONS {
            return Err(self.invalid(
                format!("{at}.annotations"),
                format!(
                    "{} annotations, more than the limit of {MAX_ANNOTATIONS}",
                    raw.annotations.len()
                ),
            ));
        }
        let scope_root = match raw.trust_root {
            Some(r) => {
                self.check_root(&format!("{at}.trust-root"), &r, roots)?;
                r
            }
            None => PUBLIC_GOOD.to_owned(),
        };
        let mut authorities: Vec<Authority> = Vec::with_capacity(raw.authorities.len());
        for (i, a) in raw.authorities.into_iter().enumerate() {
            let a_at = format!("{at}.authorities[{i}]");
            let authority = self.authority(&a_at, a, &scope_root, roots).await?;
            if authorities.iter().any(|b| b.name == authority.name) {
                return Err(self.invalid(
                    format!("{a_at}.name"),
                    format!(
                        "authority name {:?} is used twice in this scope",
                        authority.name
                    ),
                ));
            }
            if let AuthorityKind::Key { key, .. } = &authority.kind
                && let Some(same) = authorities.iter().find(|b| {
                    matches!(&b.kind, AuthorityKind::Key { key: k, .. } if k.to_spki_der() == key.to_spki_der())
                })
            {
                return Err(self.invalid(
                    a_at,
                    format!(
                        "the key of authority {:?} is the key of authority {:?}; each authority counts once towards the threshold",
                        authority.name, same.name
                    ),
                ));
            }
            authorities.push(authority);
        }
        let threshold = match raw.threshold {
            None => 1,
            Some(0) => {
                return Err(self.invalid(
                    format!("{at}.threshold"),
                    "threshold 0 would accept unsigned images; use at least 1",
                ));
            }
            Some(t) => usize::try_from(t).unwrap_or(usize::MAX),
        };
        if !authorities.is_empty() && threshold > authorities.len() {
            return Err(self.invalid(
                format!("{at}.threshold"),
                format!(
                    "threshold {threshold} is more than the {} authorities of the scope",
                    authorities.len()
                ),
            ));
        }
        if authorities.is_empty() && raw.threshold.is_some() {
            return Err(self.invalid(
                format!("{at}.threshold"),
                "a threshold without authorities: the scope refuses every image anyway",
            ));
        }
        for key in raw.annotations.keys() {
            if key.is_empty() {
                return Err(self.invalid(format!("{at}.annotations"), "empty annotation key"));
            }
        }
        Ok(Scope {
            name,
            images: Vec::new(),
            mode: raw.mode.unwrap_or(Mode::Enforce),
            authorities,
            threshold,
            transparency_log: raw.transparency_log.unwrap_or(TlogRequirement::Required),
            require_recursive: raw.require_recursive.unwrap_or(false),
            annotations: raw.annotations,
            match_repository: raw.match_repository.unwrap_or(false),
        })
    }

    fn check_root(
        &self,
        at: &str,
        name: &str,
        roots: &BTreeMap<String, TrustRoot>,
    ) -> Result<(), PolicyError> {
        if roots.contains_key(name) {
            return Ok(());
        }
        let known: Vec<&str> = roots.keys().map(String::as_str).collect();
        Err(self.invalid(
            at,
            format!(
                "trust root {name:?} is not defined (known: {})",
                known.join(", ")
            ),
        ))
    }

    async fn authority(
        &self,
        at: &str,
        raw: RawAuthority,
        scope_root: &str,
        roots: &BTreeMap<String, TrustRoot>,
    ) -> Result<Authority, PolicyError> {
        let trust_root = match raw.trust_root {
            Some(r) => {
                self.check_root(&format!("{at}.trust-root"), &r, roots)?;
                r
            }
            None => scope_root.to_owned(),
        };
        let (default_name, kind) = match (raw.key, raw.keyless) {
            (Some(reference), None) => {
                let (key, file) = self.load_key(at, &reference).await?;
                (
                    reference.clone(),
                    AuthorityKind::Key {
                        reference,
                        key,
                        file,
                    },
                )
            }
            (None, Some(keyless)) => {
                let identity = self.keyless(at, keyless)?;
                (
                    format!("{}@{}", identity.subject.as_str(), identity.issuer.as_str()),
                    AuthorityKind::Keyless(identity),
                )
            }
            (Some(_), Some(_)) => {
                return Err(self.invalid(at, "an authority is either key: or keyless:, not both"));
            }
            (None, None) => {
                return Err(self.invalid(at, "an authority needs key: or keyless:"));
            }
        };
        let name = match raw.name {
            Some(n) if n.trim().is_empty() => {
                return Err(self.invalid(format!("{at}.name"), "empty name"));
            }
            Some(n) => n,
            None => default_name,
        };
        Ok(Authority {
            name,
            kind,
            trust_root,
        })
    }

    async fn load_key(
        &self,
        at: &str,
        reference: &str,
    ) -> Result<(PublicKey, Option<PathBuf>), PolicyError> {
        let fail = |message: String| PolicyError::Key {
            file: self.file.to_owned(),
            path: format!("{at}.key"),
            reference: reference.to_owned(),
            message,
        };
        let key_ref: KeyRef = reference
            .parse()
            .map_err(|e: KmsError| fail(e.to_string()))?;
        let key_ref = match key_ref {
            KeyRef::File(p) if p.is_relative() => KeyRef::File(self.base.join(p)),
            other => other,
        };
        let file = match &key_ref {
            KeyRef::File(p) => Some(std::path::absolute(p).unwrap_or_else(|_| p.clone())),
            _ => None,
        };
        let passwords: &dyn PasswordSource = &NoPasswords;
        let key = signet_kms::load_public_key(&key_ref, passwords)
            .await
            .map_err(|e| fail(e.to_string()))?;
        Ok((key, file))
    }

    fn keyless(&self, at: &str, raw: RawKeyless) -> Result<KeylessIdentity, PolicyError> {
        let at = format!("{at}.keyless");
        let one = |exact: Option<String>, regexp: Option<String>, what: &str| {
            match (exact, regexp) {
                (Some(e), None) if !e.is_empty() => Ok(StringMatch::Exact(e)),
                (None, Some(r)) => regex::RegexBuilder::new(&r)
                    .size_limit(MAX_REGEX_SIZE)
                    .build()
                    .map(StringMatch::Regexp)
                    .map_err(|e| {
                        self.invalid(
                            format!("{at}.{what}-regexp"),
                            format!("invalid regular expression: {}", one_line(&e.to_string())),
                        )
                    }),
                (Some(_), None) => Err(self.invalid(format!("{at}.{what}"), "empty")),
                (Some(_), Some(_)) => Err(self.invalid(
                    at.clone(),
                    format!("{what} and {what}-regexp are exclusive; give one"),
                )),
                (None, None) => Err(self.invalid(
                    at.clone(),
                    format!("{what} or {what}-regexp is required (an identity without one would accept anyone with a certificate)"),
                )),
            }
        };
        let issuer = one(raw.issuer, raw.issuer_regexp, "issuer")?;
        let subject = one(raw.subject, raw.subject_regexp, "subject")?;
        let c = raw.claims;
        let claims: BTreeMap<Claim, String> = [
            (Claim::GithubWorkflowTrigger, c.github_workflow_trigger),
            (Claim::GithubWorkflowSha, c.github_workflow_sha),
            (Claim::GithubWorkflowName, c.github_workflow_name),
            (
                Claim::GithubWorkflowRepository,
                c.github_workflow_repository,
            ),
            (Claim::GithubWorkflowRef, c.github_workflow_ref),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        Ok(KeylessIdentity {
            issuer,
            subject,
            claims,
        })
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
