//! Claim templates: how each issuer type's token claims become the
//! certificate's subject alternative name and Fulcio's CI-claim extensions
//! (OIDs 1.3.6.1.4.1.57264.1.2–.6 and .9–.23). One table per type; the code
//! in the parent module only evaluates them.
//!
//! A template is text with `{name}` placeholders. `{url}` is the issuer's
//! instance URL; every other name is a token claim (or a derived value).
//! Each slot lists alternatives: the first whose placeholders all have
//! non-empty values is used; when none does, the extension is left out
//! (and a missing SAN refuses the request).
//!
//! Sources of the mappings:
//! - **GitHub Actions**: Fulcio's public `config/identity/config.yaml`
//!   (`github-workflow`), including the deprecated .2–.6.
//! - **GitLab CI**: the same file (`gitlab-pipeline`).
//! - **Forgejo Actions**: Forgejo's `IDTokenCustomClaims`
//!   (`services/actions/auth.go`) and `generateIDToken`
//!   (`routers/api/actions/id_token.go`). A token carries `actor`,
//!   `actor_id`, `base_ref`, `event_name`, `head_ref`, `ref`,
//!   `ref_protected`, `ref_type`, `repository`, `repository_id`,
//!   `repository_owner`, `repository_owner_id`, `run_attempt`, `run_id`,
//!   `run_number`, `sha`, `workflow`, `workflow_ref` and `sub`;
//!   `workflow_ref` is `<owner>/<repo>/<workflow dir>/<file>@<ref>`
//!   (`services/actions/context.go`), the issuer `<instance>/api/actions`.
//!   There is no `job_workflow_ref`, `workflow_sha`, `job_workflow_sha`,
//!   `runner_environment` or `repository_visibility`, so the SAN is built
//!   from `workflow_ref`, and the workflow's digest is the commit's (`sha`):
//!   Forgejo reads the workflow from the commit it runs.
//! - **Gitea Actions**: released Gitea issues no ID tokens yet (go-gitea
//!   issue 26383; the pull request adding them follows GitHub's claim set).
//!   The table uses GitHub's `job_workflow_ref` when the token has it and
//!   falls back to Forgejo's `workflow_ref`, so tokens of either shape work.
//! - Run URLs of Gitea and Forgejo use the run's number in the repository
//!   (`<instance>/<owner>/<repo>/actions/runs/<run_number>`), not `run_id`.

use signet_pki::profile::CiClaims;

use crate::config::IssuerType;

/// A CI-claim extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CiField {
    /// .2 (deprecated) GitHub workflow trigger.
    GithubWorkflowTrigger,
    /// .3 (deprecated) GitHub workflow SHA.
    GithubWorkflowSha,
    /// .4 (deprecated) GitHub workflow name.
    GithubWorkflowName,
    /// .5 (deprecated) GitHub workflow repository.
    GithubWorkflowRepository,
    /// .6 (deprecated) GitHub workflow ref.
    GithubWorkflowRef,
    /// .9 Build Signer URI.
    BuildSignerUri,
    /// .10 Build Signer Digest.
    BuildSignerDigest,
    /// .11 Runner Environment.
    RunnerEnvironment,
    /// .12 Source Repository URI.
    SourceRepositoryUri,
    /// .13 Source Repository Digest.
    SourceRepositoryDigest,
    /// .14 Source Repository Ref.
    SourceRepositoryRef,
    /// .15 Source Repository Identifier.
    SourceRepositoryIdentifier,
    /// .16 Source Repository Owner URI.
    SourceRepositoryOwnerUri,
    /// .17 Source Repository Owner Identifier.
    SourceRepositoryOwnerIdentifier,
    /// .18 Build Config URI.
    BuildConfigUri,
    /// .19 Build Config Digest.
    BuildConfigDigest,
    /// .20 Build Trigger.
    BuildTrigger,
    /// .21 Run Invocation URI.
    RunInvocationUri,
    /// .22 Source Repository Visibility At Signing.
    SourceRepositoryVisibility,
    /// .23 Deployment Environment.
    DeploymentEnvironment,
}

impl CiField {
    /// Stores `value` in the matching field of `claims`.
    pub fn set(self, claims: &mut CiClaims, value: String) {
        let slot = match self {
            Self::GithubWorkflowTrigger => &mut claims.github_workflow_trigger,
            Self::GithubWorkflowSha => &mut claims.github_workflow_sha,
            Self::GithubWorkflowName => &mut claims.github_workflow_name,
            Self::GithubWorkflowRepository => &mut claims.github_workflow_repository,
            Self::GithubWorkflowRef => &mut claims.github_workflow_ref,
            Self::BuildSignerUri => &mut claims.build_signer_uri,
            Self::BuildSignerDigest => &mut claims.build_signer_digest,
            Self::RunnerEnvironment => &mut claims.runner_environment,
            Self::SourceRepositoryUri => &mut claims.source_repository_uri,
            Self::SourceRepositoryDigest => &mut claims.source_repository_digest,
            Self::SourceRepositoryRef => &mut claims.source_repository_ref,
            Self::SourceRepositoryIdentifier => &mut claims.source_repository_identifier,
            Self::SourceRepositoryOwnerUri => &mut claims.source_repository_owner_uri,
            Self::SourceRepositoryOwnerIdentifier => &mut claims.source_repository_owner_identifier,
            Self::BuildConfigUri => &mut claims.build_config_uri,
            Self::BuildConfigDigest => &mut claims.build_config_digest,
            Self::BuildTrigger => &mut claims.build_trigger,
            Self::RunInvocationUri => &mut claims.run_invocation_uri,
            Self::SourceRepositoryVisibility => &mut claims.source_repository_visibility_at_signing,
            Self::DeploymentEnvironment => &mut claims.deployment_environment,
        };
        *slot = Some(value);
    }
}

/// What kind of SAN a profile issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SanKind {
    /// An rfc822Name.
    Email,
    /// A URI.
    Uri,
}

/// A value computed from a claim through a fixed table, for templates that
/// need a word the token does not carry as such.
#[derive(Debug)]
pub struct Derived {
    /// The placeholder name.
    pub name: &'static str,
    /// The claim it is computed from.
    pub from: &'static str,
    /// Claim value → placeholder value.
    pub table: &'static [(&'static str, &'static str)],
    /// The value when the claim is present but not in the table.
    pub otherwise: &'static str,
}

/// How one issuer type's tokens become a certificate.
#[derive(Debug)]
pub struct Profile {
    /// The SAN's kind.
    pub san_kind: SanKind,
    /// The SAN's templates, in order of preference.
    pub san: &'static [&'static str],
    /// The extensions' templates.
    pub extensions: &'static [(CiField, &'static [&'static str])],
    /// Derived placeholders.
    pub derived: &'static [Derived],
}

use CiField::*;

const EMAIL: Profile = Profile {
    san_kind: SanKind::Email,
    san: &["{email}"],
    extensions: &[],
    derived: &[],
};

const GITHUB: Profile = Profile {
    san_kind: SanKind::Uri,
    san: &["{url}/{job_workflow_ref}"],
    extensions: &[
        (GithubWorkflowTrigger, &["{event_name}"]),
        (GithubWorkflowSha, &["{sha}"]),
        (GithubWorkflowName, &["{workflow}"]),
        (GithubWorkflowRepository, &["{repository}"]),
        (GithubWorkflowRef, &["{ref}"]),
        (BuildSignerUri, &["{url}/{job_workflow_ref}"]),
        (BuildSignerDigest, &["{job_workflow_sha}"]),
        (RunnerEnvironment, &["{runner_environment}"]),
        (SourceRepositoryUri, &["{url}/{repository}"]),
        (SourceRepositoryDigest, &["{sha}"]),
        (SourceRepositoryRef, &["{ref}"]),
        (SourceRepositoryIdentifier, &["{repository_id}"]),
        (SourceRepositoryOwnerUri, &["{url}/{repository_owner}"]),
        (SourceRepositoryOwnerIdentifier, &["{repository_owner_id}"]),
        (BuildConfigUri, &["{url}/{workflow_ref}"]),
        (BuildConfigDigest, &["{workflow_sha}"]),
        (BuildTrigger, &["{event_name}"]),
        (
            RunInvocationUri,
            &["{url}/{repository}/actions/runs/{run_id}/attempts/{run_attempt}"],
        ),
        (SourceRepositoryVisibility, &["{repository_visibility}"]),
        (DeploymentEnvironment, &["{environment}"]),
    ],
    derived: &[],
};

const GITEA: Profile = Profile {
    san_kind: SanKind::Uri,
    san: &["{url}/{job_workflow_ref}", "{url}/{workflow_ref}"],
    extensions: &[
        (
            BuildSignerUri,
            &["{url}/{job_workflow_ref}", "{url}/{workflow_ref}"],
        ),
        (
            BuildSignerDigest,
            &["{job_workflow_sha}", "{workflow_sha}", "{sha}"],
        ),
        (RunnerEnvironment, &["{runner_environment}"]),
        (SourceRepositoryUri, &["{url}/{repository}"]),
        (SourceRepositoryDigest, &["{sha}"]),
        (SourceRepositoryRef, &["{ref}"]),
        (SourceRepositoryIdentifier, &["{repository_id}"]),
        (SourceRepositoryOwnerUri, &["{url}/{repository_owner}"]),
        (SourceRepositoryOwnerIdentifier, &["{repository_owner_id}"]),
        (BuildConfigUri, &["{url}/{workflow_ref}"]),
        (BuildConfigDigest, &["{workflow_sha}", "{sha}"]),
        (BuildTrigger, &["{event_name}"]),
        (
            RunInvocationUri,
            &["{url}/{repository}/actions/runs/{run_number}"],
        ),
        (SourceRepositoryVisibility, &["{repository_visibility}"]),
        (DeploymentEnvironment, &["{environment}"]),
    ],
    derived: &[],
};

const FORGEJO: Profile = Profile {
    san_kind: SanKind::Uri,
    san: &["{url}/{workflow_ref}"],
    extensions: &[
        (BuildSignerUri, &["{url}/{workflow_ref}"]),
        (BuildSignerDigest, &["{sha}"]),
        (SourceRepositoryUri, &["{url}/{repository}"]),
        (SourceRepositoryDigest, &["{sha}"]),
        (SourceRepositoryRef, &["{ref}"]),
        (SourceRepositoryIdentifier, &["{repository_id}"]),
        (SourceRepositoryOwnerUri, &["{url}/{repository_owner}"]),
        (SourceRepositoryOwnerIdentifier, &["{repository_owner_id}"]),
        (BuildConfigUri, &["{url}/{workflow_ref}"]),
        (BuildConfigDigest, &["{sha}"]),
        (BuildTrigger, &["{event_name}"]),
        (
            RunInvocationUri,
            &["{url}/{repository}/actions/runs/{run_number}"],
        ),
    ],
    derived: &[],
};

const GITLAB: Profile = Profile {
    san_kind: SanKind::Uri,
    san: &["https://{ci_config_ref_uri}"],
    extensions: &[
        (BuildSignerUri, &["https://{ci_config_ref_uri}"]),
        (BuildSignerDigest, &["{ci_config_sha}"]),
        (RunnerEnvironment, &["{runner_environment}"]),
        (SourceRepositoryUri, &["{url}/{project_path}"]),
        (SourceRepositoryDigest, &["{sha}"]),
        (SourceRepositoryRef, &["refs/{ref_kind}/{ref}"]),
        (SourceRepositoryIdentifier, &["{project_id}"]),
        (SourceRepositoryOwnerUri, &["{url}/{namespace_path}"]),
        (SourceRepositoryOwnerIdentifier, &["{namespace_id}"]),
        (BuildConfigUri, &["https://{ci_config_ref_uri}"]),
        (BuildConfigDigest, &["{ci_config_sha}"]),
        (BuildTrigger, &["{pipeline_source}"]),
        (RunInvocationUri, &["{url}/{project_path}/-/jobs/{job_id}"]),
        (SourceRepositoryVisibility, &["{project_visibility}"]),
    ],
    // Fulcio: `refs/{{if eq .ref_type "branch"}}heads/{{ else }}tags/{{end}}{{ .ref }}`.
    derived: &[Derived {
        name: "ref_kind",
        from: "ref_type",
        table: &[("branch", "heads")],
        otherwise: "tags",
    }],
};

/// The profile of an issuer type.
pub fn profile(issuer_type: IssuerType) -> &'static Profile {
    match issuer_type {
        IssuerType::Email => &EMAIL,
        IssuerType::GithubActions => &GITHUB,
        IssuerType::GiteaActions => &GITEA,
        IssuerType::ForgejoActions => &FORGEJO,
        IssuerType::GitlabCi => &GITLAB,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every placeholder in every template is closed, and names something.
    #[test]
    fn templates_are_well_formed() {
        for t in IssuerType::ALL {
            let p = profile(t);
            let all = p
                .san
                .iter()
                .chain(p.extensions.iter().flat_map(|(_, alts)| alts.iter()));
            for template in all {
                let opens = template.matches('{').count();
                let closes = template.matches('}').count();
                assert_eq!(opens, closes, "{t}: {template}");
                assert!(opens > 0, "{t}: {template} has no placeholder");
            }
            assert!(!p.san.is_empty(), "{t}");
        }
    }
}
