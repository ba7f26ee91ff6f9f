//! X.509 for Sigstore, with no I/O: both the checks a verifier makes and the
//! material a private Sigstore issues.
//!
//! - [`certificate`]: certificates with their exact DER bytes; PEM/DER chains.
//! - [`profile`]: Fulcio's certificate profile read into a typed record
//!   (SAN, OIDC issuer .1/.8, CI claims .2–.6 and .9–.24, usages, SCTs).
//! - [`chain`]: chain validation at an explicit time (the signing time, never
//!   the clock), with EKU, basic constraints, path length, critical
//!   extensions and limits, and errors that name the certificate and check.
//! - [`sct`]: RFC 6962 SCTs: embedded lists and detached JSON, verification by
//!   rebuilding the precertificate, and a CT log signer.
//! - [`timestamp`] and [`tsa`]: RFC 3161 timestamps, verified and issued.
//! - [`csr`]: PKCS#10 signing requests (the key and its proof of possession).
//! - [`key_certificate`]: a certificate given with a signing key, checked
//!   against the key and its chain before signet attaches it to signatures.
//! - [`issue`] and [`ca`]: Fulcio leaves (precertificate → SCT → final
//!   certificate), roots, intermediates and TSA chains.
//!
//! ```
//! use signet_core::keys::PrivateKey;
//! use signet_pki::ca::{CaOptions, KeyAlgorithm, create_fulcio_ca};
//! use signet_pki::chain::{CertificateAuthority, KeyPurpose, verify_chain};
//! use signet_pki::issue::{LeafRequest, issue_with_embedded_sct};
//! use signet_pki::profile::{CiClaims, FulcioCertificate, SubjectAltName};
//! use signet_pki::sct::{CtLog, CtLogSigner, verify_embedded_scts};
//! use signet_pki::time::{TimeRange, from_unix_seconds};
//! use std::time::Duration;
//!
//! let now = from_unix_seconds(1_800_000_000);
//! let year = |subject: &str| CaOptions {
//!     subject: subject.into(),
//!     not_before: now - Duration::from_secs(3600),
//!     not_after: now + Duration::from_secs(365 * 86_400),
//! };
//! // A private Fulcio: CA, CT log, and one leaf for a CI identity.
//! let ca = create_fulcio_ca(KeyAlgorithm::P384, &year("CN=root,O=example"), &year("CN=issuer,O=example")).unwrap();
//! let ct = CtLogSigner::new(PrivateKey::generate_p256().unwrap()).unwrap();
//! let signer = PrivateKey::generate_p256().unwrap();
//! let issued = issue_with_embedded_sct(&ca, &ct, &LeafRequest {
//!     subject_public_key: signer.public_key().to_spki_der(),
//!     identity: SubjectAltName::Uri("https://git.example/org/app/.forgejo/workflows/release.yml@refs/heads/main".into()),
//!     issuer: "https://git.example/api/actions".into(),
//!     claims: CiClaims::default(),
//!     not_before: now,
//! }).unwrap();
//!
//! // A verifier: the trusted CA and CT log, and the signing time.
//! let trusted = [CertificateAuthority::new(ca.chain().to_vec(), TimeRange::UNBOUNDED).unwrap()];
//! let chain = verify_chain(&issued.certificate, &trusted, now + Duration::from_secs(5), KeyPurpose::CodeSigning).unwrap();
//! let log = CtLog::new("ct", &ct.public_key().to_spki_der(), TimeRange::UNBOUNDED).unwrap();
//! verify_embedded_scts(&issued.certificate, chain.issuer().unwrap(), &[log], 1).unwrap();
//! let who = FulcioCertificate::parse(&issued.certificate).unwrap();
//! assert_eq!(who.issuer.as_deref(), Some("https://git.example/api/actions"));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod algorithm;
pub mod builder;
pub mod ca;
pub mod certificate;
pub mod chain;
pub mod csr;
pub mod error;
pub mod issue;
pub mod key_certificate;
pub mod limits;
pub mod oid;
pub mod profile;
pub mod sct;
pub mod time;
pub mod timestamp;
pub mod tsa;
mod tsp;
