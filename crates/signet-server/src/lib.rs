//! `signet server`: a private Sigstore in one process. It speaks the APIs
//! cosign, sigstore-go, sigstore-python and signet use, so they sign and
//! verify against it unchanged:
//!
//! - a **certificate authority** with Fulcio's API ([`ca`]): ID tokens from
//!   the configured OIDC issuers ([`oidc`]) become 10-minute code-signing
//!   certificates in Fulcio's profile, with claims mapped per issuer type
//!   from data tables ([`identity`]) — email, GitHub Actions, GitLab CI, and
//!   **Gitea and Forgejo Actions**, which public Sigstore does not accept;
//! - a **certificate transparency log** ([`ctlog`]) whose SCTs are embedded
//!   in every certificate (precertificate → SCT → final certificate);
//! - a **timestamp authority** ([`tsa`]), RFC 3161 in DER and JSON;
//! - the **transparency log** (Rekor v1 and v2 APIs), which plugs in at
//!   [`rekor`];
//! - the **trust files** describing all of it ([`trust_files`]):
//!   `trusted_root.json`, `signing_config.json`, `client_trust_config.json`;
//! - **operations** ([`ops`]): health, readiness, Prometheus [`metrics`],
//!   structured logs, per-client [`ratelimit`]s, request size limits,
//!   graceful shutdown ([`serve`]).
//!
//! `signet server init DIR` makes the data directory ([`datadir`]): keys
//! (encrypted, mode 0600), certificate chains, trust files and the
//! configuration ([`config`]). `signet server run DIR` loads it and serves
//! every service on one port ([`serve::start`]); [`app`] is the one place the
//! services are built and their routers composed.
//!
//! ```
//! use signet_server::config::{IssuerSpec, IssuerType};
//!
//! // `--oidc-issuer URL[=TYPE]`: a Forgejo instance's Actions issuer.
//! let spec: IssuerSpec = "https://git.example.com/api/actions=forgejo-actions".parse()?;
//! assert_eq!(spec.0.issuer_type, IssuerType::ForgejoActions);
//! // Workflow URIs (the certificate's identity) are built on the instance URL.
//! assert_eq!(spec.0.instance_url(), "https://git.example.com");
//! // Plain http is refused unless the issuer is on loopback.
//! assert!("http://git.example.com/api/actions=gitea-actions".parse::<IssuerSpec>().is_err());
//! # Ok::<(), signet_server::error::ConfigError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod app;
pub mod ca;
pub mod config;
pub mod ctlog;
pub mod datadir;
pub mod error;
pub mod identity;
pub mod material;
pub mod metrics;
pub mod oidc;
pub mod ops;
pub mod ratelimit;
pub mod rekor;
pub mod serve;
pub mod time;
pub mod trust_files;
pub mod tsa;
