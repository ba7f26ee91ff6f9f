//! Who may have signed: certificate identities (SAN and OIDC issuer, exact
//! or by regular expression, plus cosign's GitHub-workflow claims) and the
//! per-call [`SignerPolicy`] that chooses between keys and identities.
//!
//! Regular expressions are matched as cosign and sigstore-go match them: Go's
//! `regexp.MatchString`, which is unanchored (`example` matches
//! `https://example.test`); anchor with `^…$` to match whole values.

use std::fmt;

use regex::Regex;
use signet_pki::profile::FulcioCertificate;

use crate::error::{Blame, Check, CheckError};

/// How one value (a SAN, an issuer) must look.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Exactly this value.
    Exact(String),
    /// A value this regular expression matches (unanchored, as in Go).
    Regex(Regex),
}

impl Matcher {
    /// A regular-expression matcher; the error says why `pattern` is invalid.
    pub fn regex(pattern: &str) -> Result<Self, regex::Error> {
        Regex::new(pattern).map(Self::Regex)
    }

    fn matches(&self, value: &str) -> bool {
        match self {
            Self::Exact(want) => want == value,
            Self::Regex(re) => re.is_match(value),
        }
    }
}

/// One claim of the certificate's CI extensions, as cosign's
/// `--certificate-github-workflow-*` flags name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WorkflowClaim {
    /// `--certificate-github-workflow-trigger` (extension .2).
    Trigger,
    /// `--certificate-github-workflow-sha` (extension .3).
    Sha,
    /// `--certificate-github-workflow-name` (extension .4).
    Name,
    /// `--certificate-github-workflow-repository` (extension .5).
    Repository,
    /// `--certificate-github-workflow-ref` (extension .6).
    Ref,
}

impl WorkflowClaim {
    fn flag(self) -> &'static str {
        match self {
            Self::Trigger => "--certificate-github-workflow-trigger",
            Self::Sha => "--certificate-github-workflow-sha",
            Self::Name => "--certificate-github-workflow-name",
            Self::Repository => "--certificate-github-workflow-repository",
            Self::Ref => "--certificate-github-workflow-ref",
        }
    }

    fn oid(self) -> &'static str {
        match self {
            Self::Trigger => "1.3.6.1.4.1.57264.1.2",
            Self::Sha => "1.3.6.1.4.1.57264.1.3",
            Self::Name => "1.3.6.1.4.1.57264.1.4",
            Self::Repository => "1.3.6.1.4.1.57264.1.5",
            Self::Ref => "1.3.6.1.4.1.57264.1.6",
        }
    }

    fn value(self, cert: &FulcioCertificate) -> Option<&str> {
        let c = &cert.claims;
        match self {
            Self::Trigger => c.github_workflow_trigger.as_deref(),
            Self::Sha => c.github_workflow_sha.as_deref(),
            Self::Name => c.github_workflow_name.as_deref(),
            Self::Repository => c.github_workflow_repository.as_deref(),
            Self::Ref => c.github_workflow_ref.as_deref(),
        }
    }
}

/// A certificate identity: a subject (SAN) and an OIDC issuer, and
/// optionally CI claims that must hold exactly.
#[derive(Debug, Clone)]
pub struct CertificateIdentity {
    subject: Matcher,
    issuer: Matcher,
    claims: Vec<(WorkflowClaim, String)>,
}

impl CertificateIdentity {
    /// An identity; both the subject and the issuer are required, as in
    /// cosign (`--certificate-identity[-regexp]` with
    /// `--certificate-oidc-issuer[-regexp]`).
    pub fn new(subject: Matcher, issuer: Matcher) -> Self {
        Self {
            subject,
            issuer,
            claims: Vec::new(),
        }
    }

    /// Exact subject and issuer.
    pub fn exact(subject: impl Into<String>, issuer: impl Into<String>) -> Self {
        Self::new(
            Matcher::Exact(subject.into()),
            Matcher::Exact(issuer.into()),
        )
    }

    /// Also requires a CI claim to equal `value`.
    pub fn claim(mut self, claim: WorkflowClaim, value: impl Into<String>) -> Self {
        self.claims.push((claim, value.into()));
        self
    }

    /// Checks the certificate against this identity: the SAN first, then the
    /// issuer, then the claims; the error names the first that fails.
    pub fn check(&self, cert: &FulcioCertificate) -> Result<(), CheckError> {
        let sans: Vec<&str> = cert
            .subject_alternative_names
            .iter()
            .map(|s| s.value())
            .collect();
        if !sans.iter().any(|san| self.subject.matches(san)) {
            let found = match sans.as_slice() {
                [] => "(none)".to_owned(),
                names => names
                    .iter()
                    .map(|n| format!("{n:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            return Err(CheckError::sentence(
                Check::CertificateIdentity,
                Blame::Policy,
                format!("{found} does not match {}", Flagged::subject(&self.subject)),
            ));
        }
        match cert.issuer.as_deref() {
            Some(issuer) if self.issuer.matches(issuer) => {}
            found => {
                return Err(CheckError::sentence(
                    Check::CertificateIssuer,
                    Blame::Policy,
                    format!(
                        "{} does not match {}",
                        found.map_or(
                            "(none: the certificate has no OIDC issuer extension)".to_owned(),
                            |i| format!("{i:?}")
                        ),
                        Flagged::issuer(&self.issuer)
                    ),
                ));
            }
        }
        for (claim, want) in &self.claims {
            let found = claim.value(cert);
            if found != Some(want.as_str()) {
                return Err(CheckError::sentence(
                    Check::CertificateClaim,
                    Blame::Policy,
                    format!(
                        "{} is {}, expected {want:?} ({})",
                        claim.oid(),
                        found.map_or("absent".to_owned(), |v| format!("{v:?}")),
                        claim.flag()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A matcher shown with the cosign flag that sets it.
struct Flagged<'a> {
    flag: &'static str,
    matcher: &'a Matcher,
}

impl<'a> Flagged<'a> {
    fn subject(matcher: &'a Matcher) -> Self {
        let flag = match matcher {
            Matcher::Exact(_) => "--certificate-identity",
            Matcher::Regex(_) => "--certificate-identity-regexp",
        };
        Self { flag, matcher }
    }

    fn issuer(matcher: &'a Matcher) -> Self {
        let flag = match matcher {
            Matcher::Exact(_) => "--certificate-oidc-issuer",
            Matcher::Regex(_) => "--certificate-oidc-issuer-regexp",
        };
        Self { flag, matcher }
    }
}

impl fmt::Display for Flagged<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.matcher {
            Matcher::Exact(v) => write!(f, "{} {v:?}", self.flag),
            Matcher::Regex(re) => write!(f, "{} {:?}", self.flag, re.as_str()),
        }
    }
}

/// Who may have signed, per verification call.
#[derive(Debug, Clone)]
pub enum SignerPolicy {
    /// Any of the verifier's trusted keys (`--key`). A certificate the
    /// signature carries is not consulted, as in cosign.
    TrustedKeys,
    /// A certificate from a trusted Fulcio CA whose identity matches any of
    /// these (cosign accepts one; signet any of several).
    Identities(Vec<CertificateIdentity>),
    /// A certificate from a trusted Fulcio CA, whoever it names. Unsafe:
    /// anyone can get such a certificate.
    UnsafeAnyIdentity,
}

impl SignerPolicy {
    /// One identity.
    pub fn identity(identity: CertificateIdentity) -> Self {
        Self::Identities(vec![identity])
    }

    /// Whether this policy verifies certificates rather than keys.
    pub fn wants_certificate(&self) -> bool {
        !matches!(self, Self::TrustedKeys)
    }

    /// Checks a certificate against the identities: any one matching is
    /// enough; with one identity its error is returned, with several the
    /// first one's.
    pub(crate) fn check_identity(&self, cert: &FulcioCertificate) -> Result<(), CheckError> {
        match self {
            Self::TrustedKeys | Self::UnsafeAnyIdentity => Ok(()),
            Self::Identities(ids) if ids.is_empty() => Err(CheckError::policy(
                Check::Policy,
                "no certificate identity given (--certificate-identity or --certificate-identity-regexp, with --certificate-oidc-issuer or --certificate-oidc-issuer-regexp)",
            )),
            Self::Identities(ids) => {
                let mut first = None;
                for id in ids {
                    match id.check(cert) {
                        Ok(()) => return Ok(()),
                        Err(e) => {
                            first.get_or_insert(e);
                        }
                    }
                }
                Err(first.unwrap_or_else(|| {
                    CheckError::policy(Check::CertificateIdentity, "no identity matched")
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use signet_pki::certificate::Certificate;

    const LEAF: &str =
        include_str!("../../../tests/vectors/sigstore-public-good/leaf-github-workflow.pem");

    fn cert() -> FulcioCertificate {
        FulcioCertificate::parse(&Certificate::from_pem(LEAF.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn exact_and_regex_identities() {
        let c = cert();
        let san = c.identity().unwrap().value().to_owned();
        let issuer = c.issuer.clone().unwrap();
        CertificateIdentity::exact(&san, &issuer).check(&c).unwrap();
        CertificateIdentity::new(
            Matcher::regex("github.com/.*/workflows/").unwrap(),
            Matcher::regex("^https://token.actions.githubusercontent.com$").unwrap(),
        )
        .check(&c)
        .unwrap();

        let e = CertificateIdentity::exact("other@example.test", &issuer)
            .check(&c)
            .unwrap_err();
        assert_eq!(e.check, Check::CertificateIdentity);
        assert_eq!(
            e.message,
            format!(
                "certificate identity {san:?} does not match --certificate-identity \"other@example.test\""
            )
        );
        let e = CertificateIdentity::new(
            Matcher::regex("^nobody$").unwrap(),
            Matcher::Exact(issuer.clone()),
        )
        .check(&c)
        .unwrap_err();
        assert!(
            e.message
                .ends_with("does not match --certificate-identity-regexp \"^nobody$\""),
            "{e}"
        );
        let e = CertificateIdentity::exact(&san, "https://accounts.example.test")
            .check(&c)
            .unwrap_err();
        assert_eq!(e.check, Check::CertificateIssuer);
        assert_eq!(
            e.message,
            format!(
                "certificate issuer {issuer:?} does not match --certificate-oidc-issuer \"https://accounts.example.test\""
            )
        );
        let e = CertificateIdentity::new(
            Matcher::Exact(san.clone()),
            Matcher::regex("gitlab").unwrap(),
        )
        .check(&c)
        .unwrap_err();
        assert!(
            e.message
                .contains("--certificate-oidc-issuer-regexp \"gitlab\""),
            "{e}"
        );
    }

    #[test]
    fn workflow_claims() {
        let c = cert();
        let san = c.identity().unwrap().value().to_owned();
        let issuer = c.issuer.clone().unwrap();
        let trigger = c.claims.github_workflow_trigger.clone().unwrap();
        CertificateIdentity::exact(&san, &issuer)
            .claim(WorkflowClaim::Trigger, &trigger)
            .check(&c)
            .unwrap();
        let e = CertificateIdentity::exact(&san, &issuer)
            .claim(WorkflowClaim::Ref, "refs/heads/nope")
            .check(&c)
            .unwrap_err();
        assert_eq!(e.check, Check::CertificateClaim);
        assert!(e.message.contains("1.3.6.1.4.1.57264.1.6"), "{e}");
        assert!(
            e.message.contains("--certificate-github-workflow-ref"),
            "{e}"
        );
    }

    #[test]
    fn any_of_several_identities() {
        let c = cert();
        let san = c.identity().unwrap().value().to_owned();
        let issuer = c.issuer.clone().unwrap();
        let policy = SignerPolicy::Identities(vec![
            CertificateIdentity::exact("a@example.test", &issuer),
            CertificateIdentity::exact(&san, &issuer),
        ]);
        policy.check_identity(&c).unwrap();
        let none = SignerPolicy::Identities(Vec::new());
        assert_eq!(none.check_identity(&c).unwrap_err().check, Check::Policy);
    }
}
