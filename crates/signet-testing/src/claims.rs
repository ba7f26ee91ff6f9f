//! The claims of test ID tokens, shaped like the identities Sigstore sees:
//! a person's email, and the CI jobs of GitHub, Gitea and Forgejo Actions.
//!
//! The issuer adds the registered claims (`iss`, `aud`, `iat`, `nbf`, `exp`,
//! `jti`) when it signs; a claim set here may override any of them.
//!
//! Where the claim names come from:
//! - **GitHub Actions**: GitHub's documented OIDC token (the claims Fulcio's
//!   `github-workflow` mapping reads).
//! - **Forgejo Actions**: Forgejo's `IDTokenCustomClaims` (`services/actions`)
//!   and `generateIDToken` (`routers/api/actions/id_token.go`): the issuer is
//!   `<instance>/api/actions`, the subject `repo:<owner>-<owner id>/<repo>-<repo id>:ref:<ref>`
//!   (or `...:pull_request`), and there is no `job_workflow_ref`,
//!   `workflow_sha` or `runner_environment`.
//! - **Gitea Actions**: released Gitea does not issue ID tokens yet (go-gitea
//!   issue 26383; the pull request adding them is open). Its proposal follows
//!   GitHub's claim set, so this profile is Forgejo's claims plus GitHub's
//!   `job_workflow_ref`, `job_workflow_sha`, `workflow_sha`,
//!   `runner_environment` and `repository_visibility`, with GitHub's subject
//!   format. That shape is an assumption until Gitea releases the feature.

use serde_json::{Map, Value};

/// A set of token claims (a JSON object).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Claims(Map<String, Value>);

/// A CI job, the source of the CI-shaped claim sets. The default is the
/// runbook's release job of `golemtrust/app`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workflow {
    /// Repository owner (user or organisation).
    pub owner: String,
    /// Numeric ID of the owner.
    pub owner_id: String,
    /// Repository name without the owner.
    pub repo: String,
    /// Numeric ID of the repository.
    pub repo_id: String,
    /// Path of the workflow file in the repository, e.g. `.gitea/workflows/release.yml`.
    pub workflow_path: String,
    /// The workflow's `name:`.
    pub workflow_name: String,
    /// Git ref that triggered the run, e.g. `refs/heads/main` or `refs/tags/v1.0.0`.
    pub git_ref: String,
    /// Commit the run is for (40 hex digits).
    pub sha: String,
    /// Triggering event, e.g. `push`, `pull_request`, `workflow_dispatch`.
    pub event_name: String,
    /// Run ID.
    pub run_id: String,
    /// Run number.
    pub run_number: String,
    /// Attempt of this run.
    pub run_attempt: String,
    /// Who triggered the run.
    pub actor: String,
    /// Numeric ID of the actor.
    pub actor_id: String,
    /// `self-hosted` or `github-hosted`.
    pub runner_environment: String,
    /// `public`, `private` or `internal`.
    pub visibility: String,
}

impl Default for Workflow {
    fn default() -> Self {
        Self {
            owner: "golemtrust".into(),
            owner_id: "7".into(),
            repo: "app".into(),
            repo_id: "42".into(),
            workflow_path: ".gitea/workflows/release.yml".into(),
            workflow_name: "release".into(),
            git_ref: "refs/heads/main".into(),
            sha: "8f4e2b1c9d7a6e5f4a3b2c1d0e9f8a7b6c5d4e3f".into(),
            event_name: "push".into(),
            run_id: "1001".into(),
            run_number: "17".into(),
            run_attempt: "1".into(),
            actor: "release-bot".into(),
            actor_id: "99".into(),
            runner_environment: "self-hosted".into(),
            visibility: "private".into(),
        }
    }
}

impl Workflow {
    /// `owner/repo`.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    /// `owner/repo/<workflow path>@<ref>`: GitHub's `workflow_ref` and
    /// `job_workflow_ref` (for a workflow that is not a reusable one), and
    /// Forgejo's `workflow_ref`.
    pub fn workflow_ref(&self) -> String {
        format!(
            "{}/{}@{}",
            self.repository(),
            self.workflow_path,
            self.git_ref
        )
    }

    fn ref_type(&self) -> &'static str {
        if self.git_ref.starts_with("refs/tags/") {
            "tag"
        } else {
            "branch"
        }
    }
}

impl Claims {
    /// No claims.
    pub fn new() -> Self {
        Self::default()
    }

    /// A person signing with an email identity (`sub` = `email`, verified).
    pub fn email(email: &str) -> Self {
        Self::new()
            .with("sub", email)
            .with("email", email)
            .with("email_verified", true)
    }

    /// A GitHub Actions job.
    pub fn github_actions(w: &Workflow) -> Self {
        Self::actions_common(w)
            .with(
                "sub",
                format!("repo:{}:{}", w.repository(), github_subject_tail(w)),
            )
            .with("workflow_ref", w.workflow_ref())
            .with("workflow_sha", w.sha.as_str())
            .with("job_workflow_ref", w.workflow_ref())
            .with("job_workflow_sha", w.sha.as_str())
            .with("runner_environment", w.runner_environment.as_str())
            .with("repository_visibility", w.visibility.as_str())
    }

    /// A Gitea Actions job (see the module documentation for the shape).
    pub fn gitea_actions(w: &Workflow) -> Self {
        Self::github_actions(w)
    }

    /// A Forgejo Actions job, with exactly Forgejo's claim names.
    pub fn forgejo_actions(w: &Workflow) -> Self {
        let tail = if w.event_name == "pull_request" {
            "pull_request".to_owned()
        } else {
            format!("ref:{}", w.git_ref)
        };
        Self::actions_common(w)
            .with(
                "sub",
                format!(
                    "repo:{}-{}/{}-{}:{tail}",
                    w.owner, w.owner_id, w.repo, w.repo_id
                ),
            )
            .with("workflow_ref", w.workflow_ref())
    }

    /// The claims GitHub, Gitea and Forgejo share.
    fn actions_common(w: &Workflow) -> Self {
        Self::new()
            .with("actor", w.actor.as_str())
            .with("actor_id", w.actor_id.as_str())
            .with("base_ref", "")
            .with("event_name", w.event_name.as_str())
            .with("head_ref", "")
            .with("ref", w.git_ref.as_str())
            .with("ref_protected", "false")
            .with("ref_type", w.ref_type())
            .with("repository", w.repository())
            .with("repository_id", w.repo_id.as_str())
            .with("repository_owner", w.owner.as_str())
            .with("repository_owner_id", w.owner_id.as_str())
            .with("run_attempt", w.run_attempt.as_str())
            .with("run_id", w.run_id.as_str())
            .with("run_number", w.run_number.as_str())
            .with("sha", w.sha.as_str())
            .with("workflow", w.workflow_name.as_str())
    }

    /// Sets one claim.
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.0.insert(name.to_owned(), value.into());
        self
    }

    /// Removes one claim.
    pub fn without(mut self, name: &str) -> Self {
        self.0.remove(name);
        self
    }

    /// One claim's value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// One claim's value, if it is a string.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    /// The claims as a JSON object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The claims as a JSON object, owned.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

impl From<Map<String, Value>> for Claims {
    fn from(map: Map<String, Value>) -> Self {
        Self(map)
    }
}

fn github_subject_tail(w: &Workflow) -> String {
    if w.event_name == "pull_request" {
        "pull_request".into()
    } else {
        format!("ref:{}", w.git_ref)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgejo_claims_have_forgejo_names_only() {
        let c = Claims::forgejo_actions(&Workflow::default());
        let mut names: Vec<_> = c.as_map().keys().cloned().collect();
        names.sort();
        assert_eq!(
            names,
            [
                "actor",
                "actor_id",
                "base_ref",
                "event_name",
                "head_ref",
                "ref",
                "ref_protected",
                "ref_type",
                "repository",
                "repository_id",
                "repository_owner",
                "repository_owner_id",
                "run_attempt",
                "run_id",
                "run_number",
                "sha",
                "sub",
                "workflow",
                "workflow_ref"
            ]
        );
        assert_eq!(
            c.get_str("sub"),
            Some("repo:golemtrust-7/app-42:ref:refs/heads/main")
        );
        assert_eq!(
            c.get_str("workflow_ref"),
            Some("golemtrust/app/.gitea/workflows/release.yml@refs/heads/main")
        );
    }

    #[test]
    fn gitea_claims_carry_the_job_workflow_ref_fulcio_builds_the_san_from() {
        let w = Workflow {
            event_name: "pull_request".into(),
            ..Workflow::default()
        };
        let c = Claims::gitea_actions(&w);
        assert_eq!(
            c.get_str("job_workflow_ref"),
            Some("golemtrust/app/.gitea/workflows/release.yml@refs/heads/main")
        );
        assert_eq!(c.get_str("sub"), Some("repo:golemtrust/app:pull_request"));
        assert_eq!(c.get_str("runner_environment"), Some("self-hosted"));
    }

    #[test]
    fn email_claims() {
        let c = Claims::email("a@example.test").without("email_verified");
        assert_eq!(c.get_str("sub"), Some("a@example.test"));
        assert!(c.get("email_verified").is_none());
    }
}
