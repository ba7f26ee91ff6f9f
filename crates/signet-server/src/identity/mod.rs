//! From a verified ID token to what the certificate certifies: the identity
//! (SAN), the CI claims, and the value the proof of possession signs (the
//! `email` claim for email issuers, `sub` for every other type, as Fulcio
//! decides). The mappings are data, in [`templates`].

pub mod templates;

use serde_json::Value;
use signet_pki::profile::{CiClaims, SubjectAltName};

use crate::oidc::VerifiedToken;
use templates::{Profile, SanKind, profile};

/// Largest value one placeholder may contribute.
const MAX_VALUE_BYTES: usize = 2048;

/// Who a certificate is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The SAN.
    pub identity: SubjectAltName,
    /// The issuer URL (extensions .1 and .8).
    pub issuer: String,
    /// The CI-claim extensions.
    pub claims: CiClaims,
    /// What the proof of possession is a signature over.
    pub challenge: String,
    /// The claim `challenge` comes from (`email` or `sub`).
    pub challenge_claim: &'static str,
}

/// Why a token's claims cannot make a certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IdentityError(pub String);

/// The principal a verified token identifies.
pub fn principal(token: &VerifiedToken) -> Result<Principal, IdentityError> {
    let issuer = &token.issuer;
    let p = profile(issuer.issuer_type);
    let instance = issuer.instance_url();
    let lookup = |name: &str| lookup(p, token, &instance, name);
    let san = p
        .san
        .iter()
        .find_map(|t| render(t, &lookup))
        .ok_or_else(|| {
            IdentityError(format!(
                "the token lacks the claims for a {} identity ({})",
                issuer.issuer_type,
                p.san.join(" or ")
            ))
        })?;
    let identity = match p.san_kind {
        SanKind::Email => SubjectAltName::Email(san),
        SanKind::Uri => SubjectAltName::Uri(san),
    };
    let mut claims = CiClaims::default();
    for (field, alternatives) in p.extensions {
        if let Some(value) = alternatives.iter().find_map(|t| render(t, &lookup)) {
            field.set(&mut claims, value);
        }
    }
    let challenge_claim = issuer.issuer_type.challenge_claim();
    let challenge = token
        .claim_str(challenge_claim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| IdentityError(format!("the token has no {challenge_claim} claim")))?
        .to_owned();
    Ok(Principal {
        identity,
        issuer: issuer.url.clone(),
        claims,
        challenge,
        challenge_claim,
    })
}

/// A placeholder's value: the instance URL, a derived value or a claim
/// (strings as they are, numbers and booleans as JSON writes them).
fn lookup(p: &Profile, token: &VerifiedToken, instance: &str, name: &str) -> Option<String> {
    if name == "url" {
        return Some(instance.to_owned());
    }
    if let Some(d) = p.derived.iter().find(|d| d.name == name) {
        let from = claim_text(token.claims.get(d.from)?)?;
        return Some(
            d.table
                .iter()
                .find(|(k, _)| *k == from)
                .map_or(d.otherwise, |(_, v)| v)
                .to_owned(),
        );
    }
    claim_text(token.claims.get(name)?)
}

fn claim_text(v: &Value) -> Option<String> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    // Control characters have no place in a name or URI; long values make
    // oversized certificates.
    if text.is_empty() || text.len() > MAX_VALUE_BYTES || text.chars().any(char::is_control) {
        return None;
    }
    Some(text)
}

/// Fills `template`; `None` when a placeholder has no value.
fn render(template: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        out.push_str(&lookup(&after[..close])?);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Map, json};

    use super::*;
    use crate::config::{IssuerConfig, IssuerType};

    fn token(url: &str, t: IssuerType, claims: Value) -> VerifiedToken {
        let Value::Object(claims) = claims else {
            return VerifiedToken {
                issuer: Arc::new(IssuerConfig::new(url, t)),
                claims: Map::new(),
            };
        };
        VerifiedToken {
            issuer: Arc::new(IssuerConfig::new(url, t)),
            claims,
        }
    }

    fn forgejo_claims() -> Value {
        json!({
            "sub": "repo:golemtrust/app:ref:refs/heads/main",
            "actor": "release-bot", "actor_id": "99", "base_ref": "", "head_ref": "",
            "event_name": "push", "ref": "refs/heads/main", "ref_protected": "false",
            "ref_type": "branch", "repository": "golemtrust/app", "repository_id": "42",
            "repository_owner": "golemtrust", "repository_owner_id": "7",
            "run_attempt": "1", "run_id": "1001", "run_number": "17",
            "sha": "8f4e2b1c9d7a6e5f4a3b2c1d0e9f8a7b6c5d4e3f", "workflow": "release.yml",
            "workflow_ref": "golemtrust/app/.forgejo/workflows/release.yml@refs/heads/main"
        })
    }

    #[test]
    fn forgejo_identity_is_the_workflow_uri() {
        let t = token(
            "https://git.example.test/api/actions",
            IssuerType::ForgejoActions,
            forgejo_claims(),
        );
        let p = principal(&t).unwrap();
        assert_eq!(
            p.identity,
            SubjectAltName::Uri(
                "https://git.example.test/golemtrust/app/.forgejo/workflows/release.yml@refs/heads/main"
                    .into()
            )
        );
        assert_eq!(p.challenge, "repo:golemtrust/app:ref:refs/heads/main");
        assert_eq!(p.issuer, "https://git.example.test/api/actions");
        let c = &p.claims;
        assert_eq!(
            c.source_repository_uri.as_deref(),
            Some("https://git.example.test/golemtrust/app")
        );
        assert_eq!(
            c.run_invocation_uri.as_deref(),
            Some("https://git.example.test/golemtrust/app/actions/runs/17")
        );
        assert_eq!(c.build_trigger.as_deref(), Some("push"));
        assert_eq!(c.source_repository_identifier.as_deref(), Some("42"));
        assert_eq!(c.runner_environment, None);
        assert_eq!(c.github_workflow_sha, None);
    }

    #[test]
    fn gitea_prefers_job_workflow_ref_and_falls_back() {
        let mut claims = forgejo_claims();
        let t = token(
            "https://gitea.example.test/api/actions",
            IssuerType::GiteaActions,
            claims.clone(),
        );
        let p = principal(&t).unwrap();
        assert_eq!(
            p.identity.value(),
            "https://gitea.example.test/golemtrust/app/.forgejo/workflows/release.yml@refs/heads/main"
        );
        claims["job_workflow_ref"] =
            json!("golemtrust/shared/.gitea/workflows/sign.yml@refs/tags/v1");
        claims["runner_environment"] = json!("self-hosted");
        let t = token(
            "https://gitea.example.test/api/actions",
            IssuerType::GiteaActions,
            claims,
        );
        let p = principal(&t).unwrap();
        assert_eq!(
            p.identity.value(),
            "https://gitea.example.test/golemtrust/shared/.gitea/workflows/sign.yml@refs/tags/v1"
        );
        assert_eq!(
            p.claims.build_config_uri.as_deref(),
            Some(
                "https://gitea.example.test/golemtrust/app/.forgejo/workflows/release.yml@refs/heads/main"
            )
        );
        assert_eq!(p.claims.runner_environment.as_deref(), Some("self-hosted"));
    }

    #[test]
    fn github_matches_fulcio() {
        let claims = json!({
            "sub": "repo:octo/app:ref:refs/heads/main", "event_name": "push",
            "sha": "abc", "workflow": "CI", "repository": "octo/app", "ref": "refs/heads/main",
            "job_workflow_ref": "octo/app/.github/workflows/ci.yml@refs/heads/main",
            "job_workflow_sha": "abc", "workflow_ref": "octo/app/.github/workflows/ci.yml@refs/heads/main",
            "workflow_sha": "abc", "runner_environment": "github-hosted", "repository_id": 1,
            "repository_owner": "octo", "repository_owner_id": "2", "run_id": "3", "run_attempt": "1",
            "repository_visibility": "public"
        });
        let t = token(
            "https://token.actions.githubusercontent.com",
            IssuerType::GithubActions,
            claims,
        );
        let p = principal(&t).unwrap();
        assert_eq!(
            p.identity.value(),
            "https://github.com/octo/app/.github/workflows/ci.yml@refs/heads/main"
        );
        assert_eq!(p.claims.github_workflow_trigger.as_deref(), Some("push"));
        assert_eq!(p.claims.source_repository_identifier.as_deref(), Some("1"));
        assert_eq!(
            p.claims.run_invocation_uri.as_deref(),
            Some("https://github.com/octo/app/actions/runs/3/attempts/1")
        );
        assert_eq!(p.claims.deployment_environment, None);
    }

    #[test]
    fn gitlab_ref_kind() {
        let claims = json!({
            "sub": "project_path:g/p:ref_type:tag:ref:v1", "ci_config_ref_uri": "gitlab.example.test/g/p//.gitlab-ci.yml@refs/tags/v1",
            "ref": "v1", "ref_type": "tag", "project_path": "g/p", "job_id": "9"
        });
        let t = token("https://gitlab.example.test", IssuerType::GitlabCi, claims);
        let p = principal(&t).unwrap();
        assert_eq!(
            p.identity.value(),
            "https://gitlab.example.test/g/p//.gitlab-ci.yml@refs/tags/v1"
        );
        assert_eq!(
            p.claims.source_repository_ref.as_deref(),
            Some("refs/tags/v1")
        );
        assert_eq!(
            p.claims.run_invocation_uri.as_deref(),
            Some("https://gitlab.example.test/g/p/-/jobs/9")
        );
    }

    #[test]
    fn email_and_missing_claims() {
        let t = token(
            "https://id.test",
            IssuerType::Email,
            json!({"sub":"123","email":"a@b.test"}),
        );
        let p = principal(&t).unwrap();
        assert_eq!(p.identity, SubjectAltName::Email("a@b.test".into()));
        assert_eq!(p.challenge, "a@b.test");
        let t = token(
            "https://git.test/api/actions",
            IssuerType::ForgejoActions,
            json!({"sub":"x"}),
        );
        let err = principal(&t).unwrap_err().to_string();
        assert!(err.contains("workflow_ref"), "{err}");
        let t = token(
            "https://git.test/api/actions",
            IssuerType::ForgejoActions,
            json!({"sub":"x","workflow_ref":"a\nb"}),
        );
        assert!(principal(&t).is_err());
    }

    #[test]
    fn render_handles_odd_templates() {
        let l = |n: &str| (n == "a").then(|| "1".to_owned());
        assert_eq!(render("x{a}y", &l).as_deref(), Some("x1y"));
        assert_eq!(render("{b}", &l), None);
        assert_eq!(render("{a", &l), None);
        assert_eq!(render("plain", &l).as_deref(), Some("plain"));
    }

    proptest::proptest! {
        /// Any claim values, for any issuer type: a principal or an error.
        #[test]
        fn any_claims_make_a_principal_or_an_error(
            values in proptest::collection::vec("\\PC{0,40}", 8),
            numbers in proptest::collection::vec(proptest::prelude::any::<i64>(), 2),
        ) {
            let names = ["sub", "email", "workflow_ref", "job_workflow_ref", "repository", "ref_type", "ci_config_ref_uri", "run_number"];
            let mut claims = Map::new();
            for (name, value) in names.iter().zip(&values) {
                claims.insert((*name).to_owned(), json!(value));
            }
            claims.insert("run_id".into(), json!(numbers[0]));
            claims.insert("project_id".into(), json!(numbers[1]));
            for t in IssuerType::ALL {
                let token = token("https://i.test/api/actions", t, Value::Object(claims.clone()));
                if let Ok(p) = principal(&token) {
                    proptest::prop_assert!(!p.identity.value().is_empty());
                    proptest::prop_assert!(!p.challenge.is_empty());
                }
            }
        }
    }
}
