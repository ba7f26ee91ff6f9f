//! Object identifiers signet reads and writes, by their specification names.

use der::asn1::ObjectIdentifier as Oid;

const fn oid(s: &str) -> Oid {
    Oid::new_unwrap(s)
}

/// Fulcio's certificate extensions (`1.3.6.1.4.1.57264.1.*`).
pub mod fulcio {
    use super::{Oid, oid};

    /// .1 OIDC issuer, raw bytes (deprecated; still always written).
    pub const ISSUER_V1: Oid = oid("1.3.6.1.4.1.57264.1.1");
    /// .2 GitHub workflow trigger, raw bytes (deprecated).
    pub const GITHUB_WORKFLOW_TRIGGER: Oid = oid("1.3.6.1.4.1.57264.1.2");
    /// .3 GitHub workflow SHA, raw bytes (deprecated).
    pub const GITHUB_WORKFLOW_SHA: Oid = oid("1.3.6.1.4.1.57264.1.3");
    /// .4 GitHub workflow name, raw bytes (deprecated).
    pub const GITHUB_WORKFLOW_NAME: Oid = oid("1.3.6.1.4.1.57264.1.4");
    /// .5 GitHub workflow repository, raw bytes (deprecated).
    pub const GITHUB_WORKFLOW_REPOSITORY: Oid = oid("1.3.6.1.4.1.57264.1.5");
    /// .6 GitHub workflow ref, raw bytes (deprecated).
    pub const GITHUB_WORKFLOW_REF: Oid = oid("1.3.6.1.4.1.57264.1.6");
    /// .7 the OtherName SAN type for `username` identities.
    pub const OTHERNAME_SAN: Oid = oid("1.3.6.1.4.1.57264.1.7");
    /// .8 OIDC issuer, DER UTF8String.
    pub const ISSUER_V2: Oid = oid("1.3.6.1.4.1.57264.1.8");
    /// .9 Build Signer URI.
    pub const BUILD_SIGNER_URI: Oid = oid("1.3.6.1.4.1.57264.1.9");
    /// .10 Build Signer Digest.
    pub const BUILD_SIGNER_DIGEST: Oid = oid("1.3.6.1.4.1.57264.1.10");
    /// .11 Runner Environment.
    pub const RUNNER_ENVIRONMENT: Oid = oid("1.3.6.1.4.1.57264.1.11");
    /// .12 Source Repository URI.
    pub const SOURCE_REPOSITORY_URI: Oid = oid("1.3.6.1.4.1.57264.1.12");
    /// .13 Source Repository Digest.
    pub const SOURCE_REPOSITORY_DIGEST: Oid = oid("1.3.6.1.4.1.57264.1.13");
    /// .14 Source Repository Ref.
    pub const SOURCE_REPOSITORY_REF: Oid = oid("1.3.6.1.4.1.57264.1.14");
    /// .15 Source Repository Identifier.
    pub const SOURCE_REPOSITORY_IDENTIFIER: Oid = oid("1.3.6.1.4.1.57264.1.15");
    /// .16 Source Repository Owner URI.
    pub const SOURCE_REPOSITORY_OWNER_URI: Oid = oid("1.3.6.1.4.1.57264.1.16");
    /// .17 Source Repository Owner Identifier.
    pub const SOURCE_REPOSITORY_OWNER_IDENTIFIER: Oid = oid("1.3.6.1.4.1.57264.1.17");
    /// .18 Build Config URI.
    pub const BUILD_CONFIG_URI: Oid = oid("1.3.6.1.4.1.57264.1.18");
    /// .19 Build Config Digest.
    pub const BUILD_CONFIG_DIGEST: Oid = oid("1.3.6.1.4.1.57264.1.19");
    /// .20 Build Trigger.
    pub const BUILD_TRIGGER: Oid = oid("1.3.6.1.4.1.57264.1.20");
    /// .21 Run Invocation URI.
    pub const RUN_INVOCATION_URI: Oid = oid("1.3.6.1.4.1.57264.1.21");
    /// .22 Source Repository Visibility At Signing.
    pub const SOURCE_REPOSITORY_VISIBILITY: Oid = oid("1.3.6.1.4.1.57264.1.22");
    /// .23 Deployment Environment.
    pub const DEPLOYMENT_ENVIRONMENT: Oid = oid("1.3.6.1.4.1.57264.1.23");
    /// .24 Token Subject (the raw `sub` claim).
    pub const TOKEN_SUBJECT: Oid = oid("1.3.6.1.4.1.57264.1.24");
    /// The sigstore TSA's default policy.
    pub const TSA_POLICY: Oid = oid("1.3.6.1.4.1.57264.2");
}

/// X.509 v3 extensions (RFC 5280).
pub mod ext {
    use super::{Oid, oid};

    /// Subject key identifier.
    pub const SUBJECT_KEY_IDENTIFIER: Oid = oid("2.5.29.14");
    /// Key usage.
    pub const KEY_USAGE: Oid = oid("2.5.29.15");
    /// Subject alternative name.
    pub const SUBJECT_ALT_NAME: Oid = oid("2.5.29.17");
    /// Basic constraints.
    pub const BASIC_CONSTRAINTS: Oid = oid("2.5.29.19");
    /// Authority key identifier.
    pub const AUTHORITY_KEY_IDENTIFIER: Oid = oid("2.5.29.35");
    /// Extended key usage.
    pub const EXTENDED_KEY_USAGE: Oid = oid("2.5.29.37");
    /// RFC 6962 embedded SCT list.
    pub const CT_SCT_LIST: Oid = oid("1.3.6.1.4.1.11129.2.4.2");
    /// RFC 6962 precertificate poison.
    pub const CT_POISON: Oid = oid("1.3.6.1.4.1.11129.2.4.3");
}

/// Extended key usages.
pub mod eku {
    use super::{Oid, oid};

    /// Code signing: every Fulcio leaf and intermediate.
    pub const CODE_SIGNING: Oid = oid("1.3.6.1.5.5.7.3.3");
    /// Time stamping: TSA leaves, exactly and critically.
    pub const TIME_STAMPING: Oid = oid("1.3.6.1.5.5.7.3.8");
    /// Any extended key usage.
    pub const ANY: Oid = oid("2.5.29.37.0");
}

/// Algorithms.
pub mod alg {
    use super::{Oid, oid};

    /// `id-ecPublicKey`.
    pub const EC_PUBLIC_KEY: Oid = oid("1.2.840.10045.2.1");
    /// NIST P-256.
    pub const SECP256R1: Oid = oid("1.2.840.10045.3.1.7");
    /// NIST P-384.
    pub const SECP384R1: Oid = oid("1.3.132.0.34");
    /// `ecdsa-with-SHA256`.
    pub const ECDSA_SHA256: Oid = oid("1.2.840.10045.4.3.2");
    /// `ecdsa-with-SHA384`.
    pub const ECDSA_SHA384: Oid = oid("1.2.840.10045.4.3.3");
    /// `ecdsa-with-SHA512`.
    pub const ECDSA_SHA512: Oid = oid("1.2.840.10045.4.3.4");
    /// `rsaEncryption` (also used as a CMS signature algorithm).
    pub const RSA_ENCRYPTION: Oid = oid("1.2.840.113549.1.1.1");
    /// `sha256WithRSAEncryption`.
    pub const RSA_SHA256: Oid = oid("1.2.840.113549.1.1.11");
    /// `sha384WithRSAEncryption`.
    pub const RSA_SHA384: Oid = oid("1.2.840.113549.1.1.12");
    /// `sha512WithRSAEncryption`.
    pub const RSA_SHA512: Oid = oid("1.2.840.113549.1.1.13");
    /// Ed25519.
    pub const ED25519: Oid = oid("1.3.101.112");
    /// SHA-1 (only to check ESSCertID v1 hashes).
    pub const SHA1: Oid = oid("1.3.14.3.2.26");
    /// SHA-256.
    pub const SHA256: Oid = oid("2.16.840.1.101.3.4.2.1");
    /// SHA-384.
    pub const SHA384: Oid = oid("2.16.840.1.101.3.4.2.2");
    /// SHA-512.
    pub const SHA512: Oid = oid("2.16.840.1.101.3.4.2.3");
}

/// CMS (RFC 5652) and time-stamp (RFC 3161, RFC 5035) identifiers.
pub mod cms {
    use super::{Oid, oid};

    /// `id-signedData`.
    pub const SIGNED_DATA: Oid = oid("1.2.840.113549.1.7.2");
    /// `id-ct-TSTInfo`.
    pub const TST_INFO: Oid = oid("1.2.840.113549.1.9.16.1.4");
    /// `id-contentType` attribute.
    pub const CONTENT_TYPE: Oid = oid("1.2.840.113549.1.9.3");
    /// `id-messageDigest` attribute.
    pub const MESSAGE_DIGEST: Oid = oid("1.2.840.113549.1.9.4");
    /// `id-signingTime` attribute.
    pub const SIGNING_TIME: Oid = oid("1.2.840.113549.1.9.5");
    /// `id-aa-signingCertificate` (ESSCertID, SHA-1).
    pub const SIGNING_CERTIFICATE: Oid = oid("1.2.840.113549.1.9.16.2.12");
    /// `id-aa-signingCertificateV2` (ESSCertIDv2).
    pub const SIGNING_CERTIFICATE_V2: Oid = oid("1.2.840.113549.1.9.16.2.47");
}

/// Common name attribute type, for building CA subjects.
pub const COMMON_NAME: Oid = oid("2.5.4.3");
/// Organization attribute type.
pub const ORGANIZATION: Oid = oid("2.5.4.10");
