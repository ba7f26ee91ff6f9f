//! Fulcio's certificate profile as a typed record: the identity (SAN), the
//! OIDC issuer (extensions .1 and .8), the CI claims (.2–.6 and .9–.24), key
//! usages, validity and embedded SCTs.
//!
//! Extensions .1–.6 hold the value's bytes as they are; .8–.24 hold a DER
//! UTF8String. Both are read strictly: a value that is not UTF-8, or not the
//! DER it should be, makes the certificate malformed rather than guessed at.

use std::time::SystemTime;

use der::Decode;
use der::asn1::{ObjectIdentifier, Utf8StringRef};
use serde::Serialize;
use x509_cert::ext::pkix::name::GeneralName;

use crate::certificate::Certificate;
use crate::error::DecodeError;
use crate::oid;
use crate::sct::{SignedCertificateTimestamp, embedded_scts};

const WHAT: &str = "Fulcio certificate";

/// One subject alternative name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "camelCase")]
#[non_exhaustive]
pub enum SubjectAltName {
    /// An email address (`email` issuers).
    Email(String),
    /// A URI (CI workflows, SPIFFE, Kubernetes, `uri` issuers).
    Uri(String),
    /// Fulcio's OtherName (OID 1.3.6.1.4.1.57264.1.7) for `username` issuers.
    Username(String),
    /// A DNS name (not issued by Fulcio; reported as found).
    Dns(String),
    /// Another kind of name, described.
    Other(String),
}

impl SubjectAltName {
    /// The name's text.
    pub fn value(&self) -> &str {
        match self {
            Self::Email(s) | Self::Uri(s) | Self::Username(s) | Self::Dns(s) | Self::Other(s) => s,
        }
    }

    /// Whether Fulcio issues this kind of name.
    pub fn is_fulcio_identity(&self) -> bool {
        matches!(self, Self::Email(_) | Self::Uri(_) | Self::Username(_))
    }
}

macro_rules! ci_claims {
    ($( $(#[$doc:meta])* $field:ident = $oid:ident, $json:literal, $raw:literal; )*) => {
        /// Fulcio's CI-claim extensions. Each is present only when the
        /// certificate carries it.
        #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
        #[non_exhaustive]
        pub struct CiClaims {
            $(
                $(#[$doc])*
                #[serde(rename = $json, skip_serializing_if = "Option::is_none")]
                pub $field: Option<String>,
            )*
        }

        impl CiClaims {
            /// Every claim with its extension OID and whether its value is
            /// raw bytes (.2–.6) rather than a DER UTF8String.
            pub fn fields(&self) -> Vec<(ObjectIdentifier, bool, Option<&str>)> {
                vec![$( (oid::fulcio::$oid, $raw, self.$field.as_deref()) ),*]
            }

            fn slot(&mut self, id: &ObjectIdentifier) -> Option<(&mut Option<String>, bool)> {
                $( if id == &oid::fulcio::$oid { return Some((&mut self.$field, $raw)); } )*
                None
            }
        }
    };
}

ci_claims! {
    /// .2 GitHub workflow trigger (deprecated, raw).
    github_workflow_trigger = GITHUB_WORKFLOW_TRIGGER, "githubWorkflowTrigger", true;
    /// .3 GitHub workflow SHA (deprecated, raw).
    github_workflow_sha = GITHUB_WORKFLOW_SHA, "githubWorkflowSHA", true;
    /// .4 GitHub workflow name (deprecated, raw).
    github_workflow_name = GITHUB_WORKFLOW_NAME, "githubWorkflowName", true;
    /// .5 GitHub workflow repository (deprecated, raw).
    github_workflow_repository = GITHUB_WORKFLOW_REPOSITORY, "githubWorkflowRepository", true;
    /// .6 GitHub workflow ref (deprecated, raw).
    github_workflow_ref = GITHUB_WORKFLOW_REF, "githubWorkflowRef", true;
    /// .9 Build Signer URI.
    build_signer_uri = BUILD_SIGNER_URI, "buildSignerURI", false;
    /// .10 Build Signer Digest.
    build_signer_digest = BUILD_SIGNER_DIGEST, "buildSignerDigest", false;
    /// .11 Runner Environment.
    runner_environment = RUNNER_ENVIRONMENT, "runnerEnvironment", false;
    /// .12 Source Repository URI.
    source_repository_uri = SOURCE_REPOSITORY_URI, "sourceRepositoryURI", false;
    /// .13 Source Repository Digest.
    source_repository_digest = SOURCE_REPOSITORY_DIGEST, "sourceRepositoryDigest", false;
    /// .14 Source Repository Ref.
    source_repository_ref = SOURCE_REPOSITORY_REF, "sourceRepositoryRef", false;
    /// .15 Source Repository Identifier.
    source_repository_identifier = SOURCE_REPOSITORY_IDENTIFIER, "sourceRepositoryIdentifier", false;
    /// .16 Source Repository Owner URI.
    source_repository_owner_uri = SOURCE_REPOSITORY_OWNER_URI, "sourceRepositoryOwnerURI", false;
    /// .17 Source Repository Owner Identifier.
    source_repository_owner_identifier = SOURCE_REPOSITORY_OWNER_IDENTIFIER, "sourceRepositoryOwnerIdentifier", false;
    /// .18 Build Config URI.
    build_config_uri = BUILD_CONFIG_URI, "buildConfigURI", false;
    /// .19 Build Config Digest.
    build_config_digest = BUILD_CONFIG_DIGEST, "buildConfigDigest", false;
    /// .20 Build Trigger.
    build_trigger = BUILD_TRIGGER, "buildTrigger", false;
    /// .21 Run Invocation URI.
    run_invocation_uri = RUN_INVOCATION_URI, "runInvocationURI", false;
    /// .22 Source Repository Visibility At Signing.
    source_repository_visibility_at_signing = SOURCE_REPOSITORY_VISIBILITY, "sourceRepositoryVisibilityAtSigning", false;
    /// .23 Deployment Environment.
    deployment_environment = DEPLOYMENT_ENVIRONMENT, "deploymentEnvironment", false;
    /// .24 Token Subject.
    token_subject = TOKEN_SUBJECT, "tokenSubject", false;
}

/// A Fulcio leaf certificate, read into its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FulcioCertificate {
    /// The subject alternative names (Fulcio writes exactly one).
    pub subject_alternative_names: Vec<SubjectAltName>,
    /// Whether the SAN extension is critical (Fulcio marks it so; the subject is empty).
    pub san_critical: bool,
    /// The OIDC issuer: extension .8, or .1 when .8 is absent.
    pub issuer: Option<String>,
    /// Extension .1 as found.
    pub issuer_v1: Option<String>,
    /// Extension .8 as found.
    pub issuer_v2: Option<String>,
    /// The CI claims.
    pub claims: CiClaims,
    /// Key usage includes digitalSignature.
    pub digital_signature: bool,
    /// The extended key usages.
    pub extended_key_usages: Vec<ObjectIdentifier>,
    /// `notBefore`.
    pub not_before: SystemTime,
    /// `notAfter`.
    pub not_after: SystemTime,
    /// Serial number, hex.
    pub serial: String,
    /// The embedded SCTs (empty when there are none).
    pub scts: Vec<SignedCertificateTimestamp>,
}

impl FulcioCertificate {
    /// Reads the profile out of `cert`.
    pub fn parse(cert: &Certificate) -> Result<Self, DecodeError> {
        let (subject_alternative_names, san_critical) =
            match cert.extension(&oid::ext::SUBJECT_ALT_NAME)? {
                None => (Vec::new(), false),
                Some(ext) => {
                    let names = cert.subject_alt_names()?.unwrap_or_default();
                    (
                        names.iter().map(san_from).collect::<Result<_, _>>()?,
                        ext.critical,
                    )
                }
            };
        let mut issuer_v1 = None;
        let mut issuer_v2 = None;
        let mut claims = CiClaims::default();
        for ext in cert.extensions() {
            let id = &ext.extn_id;
            let bytes = ext.extn_value.as_bytes();
            let (slot, raw) = if id == &oid::fulcio::ISSUER_V1 {
                (&mut issuer_v1, true)
            } else if id == &oid::fulcio::ISSUER_V2 {
                (&mut issuer_v2, false)
            } else if let Some(found) = claims.slot(id) {
                found
            } else {
                continue;
            };
            if slot.is_some() {
                return Err(DecodeError::malformed(
                    WHAT,
                    format!("extension {id} occurs more than once"),
                ));
            }
            *slot = Some(if raw {
                raw_string(id, bytes)?
            } else {
                der_string(id, bytes)?
            });
        }
        let digital_signature =
            matches!(cert.key_usage()?, Some((_, ku)) if ku.digital_signature());
        let extended_key_usages = cert
            .extended_key_usage()?
            .map(|(_, e)| e.0)
            .unwrap_or_default();
        Ok(Self {
            subject_alternative_names,
            san_critical,
            issuer: issuer_v2.clone().or_else(|| issuer_v1.clone()),
            issuer_v1,
            issuer_v2,
            claims,
            digital_signature,
            extended_key_usages,
            not_before: cert.not_before(),
            not_after: cert.not_after(),
            serial: cert.serial_hex(),
            scts: embedded_scts(cert)?.unwrap_or_default(),
        })
    }

    /// The signer's identity: the first email, URI or username SAN.
    pub fn identity(&self) -> Option<&SubjectAltName> {
        self.subject_alternative_names
            .iter()
            .find(|s| s.is_fulcio_identity())
    }
}

fn raw_string(id: &ObjectIdentifier, bytes: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| DecodeError::malformed(WHAT, format!("extension {id} is not UTF-8")))
}

fn der_string(id: &ObjectIdentifier, bytes: &[u8]) -> Result<String, DecodeError> {
    Utf8StringRef::from_der(bytes)
        .map(|s| s.as_str().to_string())
        .map_err(|e| {
            DecodeError::malformed(WHAT, format!("extension {id} is not a DER UTF8String: {e}"))
        })
}

fn san_from(name: &GeneralName) -> Result<SubjectAltName, DecodeError> {
    Ok(match name {
        GeneralName::Rfc822Name(s) => SubjectAltName::Email(s.to_string()),
        GeneralName::UniformResourceIdentifier(s) => SubjectAltName::Uri(s.to_string()),
        GeneralName::DnsName(s) => SubjectAltName::Dns(s.to_string()),
        GeneralName::OtherName(other) if other.type_id == oid::fulcio::OTHERNAME_SAN => {
            let value = Utf8StringRef::try_from(&other.value).map_err(|e| {
                DecodeError::malformed(WHAT, format!("OtherName SAN is not a UTF8String: {e}"))
            })?;
            SubjectAltName::Username(value.as_str().to_string())
        }
        other => SubjectAltName::Other(crate::certificate::general_name_to_string(other)),
    })
}
