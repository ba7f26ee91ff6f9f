//! Trust material for Sigstore verification and signing, with no network
//! access.
//!
//! - [`TrustedRoot`] (`trusted_root.json`): the Rekor logs, Fulcio CAs, CT
//!   logs and timestamp authorities a verifier trusts, with keys and
//!   certificates held as parsed values ([`TrustedPublicKey`],
//!   [`TrustedCertificate`]).
//! - [`SigningConfig`] (`signing_config` v0.2) and its selection rules: which
//!   CA, OIDC provider, logs and TSAs a signer uses.
//! - [`ClientTrustConfig`]: sigstore-python's single-file form of both.
//! - [`CosignTrustOverrides`]: cosign's `SIGSTORE_*` environment variables,
//!   turned into a [`TrustedRoot`].
//! - [`public_good`]: the public-good instance's files, shipped in the
//!   binary (refreshing them over TUF lives elsewhere).
//! - [`resolve_trusted_root`]: cosign's order of precedence, offline:
//!   `--trusted-root`, then `SIGSTORE_*`, then the shipped snapshot.
//!
//! The checks that use this material (chains, SCTs, SETs, checkpoints,
//! timestamps) live in the verifier; this crate only reads, builds and
//! writes the documents.
//!
//! ```
//! let root = signet_trust::public_good::trusted_root().unwrap();
//! let rekor = &root.tlogs[0];
//! assert_eq!(rekor.base_url, "https://rekor.sigstore.dev");
//! assert_eq!(rekor.log_id, rekor.public_key.sha256_key_id());
//! let again = signet_trust::TrustedRoot::parse(root.to_json().as_bytes()).unwrap();
//! assert_eq!(again.tlogs, root.tlogs);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client_config;
mod cosign_env;
mod error;
mod material;
pub mod public_good;
mod signing_config;
mod source;
mod time;
mod trusted_root;

pub use client_config::{CLIENT_TRUST_CONFIG_MEDIA_TYPE, ClientTrustConfig};
pub use cosign_env::{
    CosignTrustOverrides, MAX_PEM_FILE_BYTES, SIGSTORE_CT_LOG_PUBLIC_KEY_FILE,
    SIGSTORE_REKOR_PUBLIC_KEY, SIGSTORE_ROOT_FILE, SIGSTORE_TSA_CERTIFICATE_FILE,
};
pub use error::TrustError;
pub use material::{TrustedCertificate, TrustedPublicKey, key_details_of};
pub use signing_config::{
    SIGNING_CONFIG_MEDIA_TYPE, Service, ServiceSelector, SigningConfig, select_service,
    select_services,
};
pub use source::{TRUST_DOCUMENT, TrustSource, resolve_trusted_root};
pub use time::TimeRange;
pub use trusted_root::{
    CertificateAuthority, DistinguishedName, MAX_TRUST_DOCUMENT_BYTES, TRUSTED_ROOT_MEDIA_TYPE,
    TransparencyLog, TrustedRoot,
};

/// Decodes protobuf-JSON bytes, naming the document and field on failure.
pub(crate) fn decode_base64(
    what: &'static str,
    field: &str,
    text: &str,
) -> Result<Vec<u8>, TrustError> {
    signet_core::protojson::decode_bytes(what, field, text).map_err(|e| match e {
        signet_core::FormatError::Malformed { reason, .. } => TrustError::malformed(what, reason),
        other => TrustError::malformed(what, other),
    })
}

#[cfg(test)]
mod tests;
