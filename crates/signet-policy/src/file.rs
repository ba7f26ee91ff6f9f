//! The policy file as written: serde types that refuse unknown keys, and the
//! YAML reader that names the key path and line of every error.
//!
//! These types hold text only. [`crate::policy`] turns them into a checked
//! [`Policy`](crate::Policy), loading keys and trust roots.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::PolicyError;

/// The largest policy file read, in bytes.
pub const MAX_POLICY_FILE_BYTES: usize = 1 << 20;

/// `mode:` of a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// A violation refuses the image.
    Enforce,
    /// A violation is reported, and the image is let through.
    Warn,
}

/// `transparency-log:` of a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlogRequirement {
    /// Every accepted signature must have verified transparency-log evidence.
    Required,
    /// Signatures without a log entry are accepted (air-gapped, hand-signed);
    /// evidence that is present is still checked, and reported.
    Optional,
}

/// One string or a list of them (`images: "a/**"` or `images: [a/**, b/*]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub(crate) fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawPolicy {
    /// Format version; only 1 exists.
    #[serde(default)]
    pub version: Option<u32>,
    /// Named trusted roots (`name: path/to/trusted_root.json`).
    #[serde(default)]
    pub trust_roots: BTreeMap<String, String>,
    #[serde(default)]
    pub policies: Vec<RawScope>,
    #[serde(default)]
    pub default: Option<RawRule>,
}

/// One entry of `policies:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawScope {
    #[serde(default)]
    pub name: Option<String>,
    pub images: OneOrMany,
    // The rule's fields, repeated rather than flattened: serde's flatten
    // would lose the key path and line of errors inside them.
    #[serde(default)]
    pub mode: Option<Mode>,
    #[serde(default)]
    pub authorities: Vec<RawAuthority>,
    #[serde(default)]
    pub threshold: Option<u64>,
    #[serde(default)]
    pub transparency_log: Option<TlogRequirement>,
    #[serde(default)]
    pub require_recursive: Option<bool>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub match_repository: Option<bool>,
    #[serde(default)]
    pub trust_root: Option<String>,
}

impl RawScope {
    /// The rule part.
    pub(crate) fn split(self) -> (Option<String>, OneOrMany, RawRule) {
        let rule = RawRule {
            mode: self.mode,
            authorities: self.authorities,
            threshold: self.threshold,
            transparency_log: self.transparency_log,
            require_recursive: self.require_recursive,
            annotations: self.annotations,
            match_repository: self.match_repository,
            trust_root: self.trust_root,
        };
        (self.name, self.images, rule)
    }
}

/// What a scope (or `default:`) requires.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawRule {
    #[serde(default)]
    pub mode: Option<Mode>,
    #[serde(default)]
    pub authorities: Vec<RawAuthority>,
    #[serde(default)]
    pub threshold: Option<u64>,
    #[serde(default)]
    pub transparency_log: Option<TlogRequirement>,
    #[serde(default)]
    pub require_recursive: Option<bool>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub match_repository: Option<bool>,
    #[serde(default)]
    pub trust_root: Option<String>,
}

/// One entry of `authorities:`: a key or a keyless identity.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawAuthority {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub keyless: Option<RawKeyless>,
    #[serde(default)]
    pub trust_root: Option<String>,
}

/// `keyless:`: who must appear in the Fulcio certificate.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawKeyless {
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub issuer_regexp: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub subject_regexp: Option<String>,
    #[serde(default)]
    pub claims: RawClaims,
}

/// CI claims of the certificate, with cosign's flag names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawClaims {
    #[serde(default)]
    pub github_workflow_trigger: Option<String>,
    #[serde(default)]
    pub github_workflow_sha: Option<String>,
    #[serde(default)]
    pub github_workflow_name: Option<String>,
    #[serde(default)]
    pub github_workflow_repository: Option<String>,
    #[serde(default)]
    pub github_workflow_ref: Option<String>,
}

/// Parses the policy file's text. Errors name the file, line and column,
/// and the key path (`policies[1].authorities[0].kee`).
pub(crate) fn parse_yaml(file: &str, text: &str) -> Result<RawPolicy, PolicyError> {
    if text.len() > MAX_POLICY_FILE_BYTES {
        return Err(PolicyError::Syntax {
            file: file.to_owned(),
            line: 0,
            column: 0,
            path: String::new(),
            message: format!(
                "{} bytes, larger than the limit of {MAX_POLICY_FILE_BYTES} for a policy file",
                text.len()
            ),
        });
    }
    let options = serde_saphyr::options! {
        budget: Some(budget()),
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        with_snippet: false,
    };
    let mut path = String::new();
    let parsed = serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            path = e.path().to_string();
            e.into_inner()
        })
    });
    parsed.map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        let mut message = e.to_string();
        // The location is reported once, in front.
        if let Some(at) = message.rfind(" at line ") {
            message.truncate(at);
        }
        let path = if path == "." || path == "?" {
            String::new()
        } else {
            path
        };
        PolicyError::Syntax {
            file: file.to_owned(),
            line,
            column,
            path,
            message,
        }
    })
}

/// Limits on the YAML itself, so that no file (anchors and aliases included)
/// can multiply the work of reading it.
fn budget() -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = 32;
    budget.max_aliases = 64;
    budget.max_anchors = 64;
    budget.max_documents = 1;
    budget
}
