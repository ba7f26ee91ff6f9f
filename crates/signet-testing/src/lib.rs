//! Test support for signet's keyless tests: an OpenID Connect issuer on
//! 127.0.0.1 that publishes discovery and JWKS and mints ID tokens.
//!
//! Sigstore's keyless flow starts from an OIDC ID token. Public issuers cannot
//! be reached from the tests, and a Gitea or Forgejo instance is too heavy to
//! run, so this crate plays the issuer:
//!
//! - **Discovery and JWKS** (`/.well-known/openid-configuration`,
//!   `/.well-known/jwks`) with one ES256 and one RS256 key, and key rotation,
//!   so that a token verifier (the Fulcio half of `signet server`) is tested
//!   the way it runs.
//! - **Tokens with chosen claims**: email identities and the CI jobs of GitHub,
//!   Gitea and Forgejo Actions ([`Claims`], [`Workflow`]), valid or with a
//!   deliberate [`Defect`] (bad signature, wrong key for the `kid`, unknown
//!   `kid`, wrong audience, expired, not yet valid, wrong issuer, unsigned).
//! - **The Actions token request**: a job environment
//!   (`ACTIONS_ID_TOKEN_REQUEST_URL` + `ACTIONS_ID_TOKEN_REQUEST_TOKEN`) whose
//!   `GET <url>&audience=sigstore` answers `{"value": "<jwt>"}`, as GitHub
//!   and Gitea/Forgejo runners offer it ([`ActionsJob`]).
//!
//! The `signet-test-oidc` binary runs the same issuer for scripts; its
//! `POST /_test/token` endpoint mints tokens over HTTP.
//!
//! ```
//! use signet_testing::{Claims, OidcIssuer, Workflow};
//!
//! let issuer = OidcIssuer::start()?;
//! let token = issuer.token(&Claims::email("dev@example.test"))?;
//! let claims = signet_testing::decode_claims(&token)?;
//! assert_eq!(claims["iss"], issuer.issuer_url());
//! assert_eq!(claims["aud"], "sigstore");
//!
//! // A Gitea-shaped CI job that asks the issuer for its token itself.
//! let job = issuer.actions_job(Claims::gitea_actions(&Workflow::default()))?;
//! assert!(job.request_url.contains("/idtoken?"));
//! # Ok::<(), signet_testing::TestingError>(())
//! ```
//!
//! [`virtual_sigstore`] is a Sigstore in memory (Fulcio CA with CT log,
//! Rekor v1 log, TSA) built from signet's own issuing code, which mints
//! bundles that are valid in every respect but the one a negative test
//! changes.
//!
//! Test-only by design: the `/_test/*` endpoints mint tokens for anyone.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod admission;
mod claims;
mod error;
mod issuer;
mod jwt;
pub mod virtual_sigstore;

pub use claims::{Claims, Workflow};
pub use error::TestingError;
pub use issuer::{ActionsJob, Defect, IssuerOptions, OidcIssuer, SIGSTORE_AUDIENCE, TokenOptions};
pub use jwt::{Algorithm, JwtKey, decode_claims};
