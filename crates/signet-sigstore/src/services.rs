//! Which Fulcio, Rekor logs and timestamp authorities a signature uses.
//!
//! - `--signing-config FILE` (v0.2): its selection rules pick the services;
//!   it cannot be combined with service URLs or `--tlog-upload=false`, as in
//!   cosign (delete `rekorTlogUrls` from the config instead).
//! - Service URL flags (`--fulcio-url`, `--rekor-url`,
//!   `--timestamp-server-url`, cosign 2's way): exactly those services; an
//!   absent Fulcio or Rekor URL is the public-good one, and there is no
//!   timestamp authority unless one is given.
//! - Neither: the public-good signing config (refreshed over TUF, or
//!   shipped), which names Fulcio, Rekor v1 and the public timestamp
//!   authority (cosign 3's default).

use jiff::Timestamp;
use signet_trust::SigningConfig;

use crate::error::SigningError;

/// The public-good Fulcio.
pub const PUBLIC_GOOD_FULCIO: &str = "https://fulcio.sigstore.dev";
/// The public-good Rekor.
pub const PUBLIC_GOOD_REKOR: &str = "https://rekor.sigstore.dev";

/// Fulcio API versions signet speaks (signing configs number them 1).
const CA_VERSIONS: &[u32] = &[1];
/// Rekor API versions signet speaks.
const REKOR_VERSIONS: &[u32] = &[1, 2];
/// Timestamp authority API versions signet speaks.
const TSA_VERSIONS: &[u32] = &[1];

/// Where the services are, as the command line gives them.
#[derive(Debug, Clone, Default)]
pub struct ServiceOptions {
    /// `--fulcio-url`.
    pub fulcio_url: Option<String>,
    /// `--rekor-url`.
    pub rekor_url: Option<String>,
    /// `--timestamp-server-url`.
    pub timestamp_server_url: Option<String>,
    /// `--signing-config FILE`, parsed.
    pub signing_config: Option<SigningConfig>,
    /// `--tlog-upload` (default true).
    pub tlog_upload: bool,
}

/// A Rekor log to write to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RekorService {
    /// Its base URL.
    pub url: String,
    /// Its major API version (1 or 2).
    pub major_version: u32,
}

/// The services chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Services {
    /// The Fulcio (for keyless signing).
    pub fulcio: String,
    /// The logs to write to (none with `--tlog-upload=false`).
    pub rekor: Vec<RekorService>,
    /// The timestamp authorities to ask (full endpoint URLs).
    pub tsa: Vec<String>,
}

/// Chooses the services for a signature at `now`; `default_config` is the
/// public-good signing config.
pub fn select_services(
    options: &ServiceOptions,
    default_config: &SigningConfig,
    now: Timestamp,
) -> Result<Services, SigningError> {
    let flags_given = options.fulcio_url.is_some()
        || options.rekor_url.is_some()
        || options.timestamp_server_url.is_some();
    let services = match &options.signing_config {
        Some(config) => {
            if flags_given {
                return Err(SigningError::Config(
                    "--signing-config cannot be combined with --fulcio-url, --rekor-url or --timestamp-server-url; put the services in the signing config".into(),
                ));
            }
            if !options.tlog_upload {
                return Err(SigningError::Config(
                    "--tlog-upload=false cannot be combined with --signing-config; remove rekorTlogUrls from the signing config instead".into(),
                ));
            }
            from_config(config, now)?
        }
        None if flags_given => Services {
            fulcio: options
                .fulcio_url
                .clone()
                .unwrap_or_else(|| PUBLIC_GOOD_FULCIO.to_owned()),
            rekor: vec![RekorService {
                url: options
                    .rekor_url
                    .clone()
                    .unwrap_or_else(|| PUBLIC_GOOD_REKOR.to_owned()),
                major_version: 1,
            }],
            tsa: options.timestamp_server_url.iter().cloned().collect(),
        },
        None => from_config(default_config, now)?,
    };
    let mut services = services;
    if !options.tlog_upload {
        services.rekor.clear();
    }
    if let Some(v2) = services.rekor.iter().find(|r| r.major_version == 2)
        && services.tsa.is_empty()
    {
        return Err(SigningError::Config(format!(
            "the Rekor v2 log {} records no signing time; it needs an RFC 3161 timestamp authority, and none is configured",
            v2.url
        )));
    }
    Ok(services)
}

fn from_config(config: &SigningConfig, now: Timestamp) -> Result<Services, SigningError> {
    let no_service = |e: signet_trust::TrustError| SigningError::Config(e.to_string());
    let fulcio = config.select_ca(CA_VERSIONS, now).map_err(no_service)?;
    let rekor = config
        .select_rekor(REKOR_VERSIONS, now)
        .map_err(no_service)?
        .into_iter()
        .map(|s| RekorService {
            url: s.url.clone(),
            major_version: s.major_api_version,
        })
        .collect();
    let tsa = config
        .select_tsa(TSA_VERSIONS, now)
        .map_err(no_service)?
        .into_iter()
        .map(|s| s.url.clone())
        .collect();
    Ok(Services {
        fulcio: fulcio.url.clone(),
        rekor,
        tsa,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-01T00:00:00Z".parse().unwrap()
    }

    fn public_good() -> SigningConfig {
        signet_trust::public_good::signing_config().unwrap()
    }

    #[test]
    fn the_default_is_the_public_good_signing_config() {
        let s = select_services(
            &ServiceOptions {
                tlog_upload: true,
                ..Default::default()
            },
            &public_good(),
            now(),
        )
        .unwrap();
        assert_eq!(s.fulcio, "https://fulcio.sigstore.dev");
        assert_eq!(
            s.rekor,
            [RekorService {
                url: "https://rekor.sigstore.dev".into(),
                major_version: 1
            }]
        );
        assert_eq!(s.tsa, ["https://timestamp.sigstore.dev/api/v1/timestamp"]);
    }

    #[test]
    fn flags_name_exactly_the_services() {
        let s = select_services(
            &ServiceOptions {
                fulcio_url: Some("http://127.0.0.1:1".into()),
                tlog_upload: true,
                ..Default::default()
            },
            &public_good(),
            now(),
        )
        .unwrap();
        assert_eq!(s.fulcio, "http://127.0.0.1:1");
        assert_eq!(s.rekor[0].url, PUBLIC_GOOD_REKOR);
        assert!(s.tsa.is_empty());
        let no_log = select_services(
            &ServiceOptions {
                rekor_url: Some("http://127.0.0.1:2".into()),
                tlog_upload: false,
                ..Default::default()
            },
            &public_good(),
            now(),
        )
        .unwrap();
        assert!(no_log.rekor.is_empty());
    }

    #[test]
    fn a_rekor_v2_config_selects_v2_with_a_timestamp_authority() {
        let v2 = signet_trust::public_good::signing_config_rekor_v2().unwrap();
        let s = select_services(
            &ServiceOptions {
                signing_config: Some(v2.clone()),
                tlog_upload: true,
                ..Default::default()
            },
            &public_good(),
            now(),
        )
        .unwrap();
        assert_eq!(s.rekor.len(), 1);
        assert_eq!(s.rekor[0].major_version, 2);
        assert!(!s.tsa.is_empty());

        let mut no_tsa = v2;
        no_tsa.tsa_urls.clear();
        let e = select_services(
            &ServiceOptions {
                signing_config: Some(no_tsa),
                tlog_upload: true,
                ..Default::default()
            },
            &public_good(),
            now(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("needs an RFC 3161 timestamp authority"), "{e}");
    }

    #[test]
    fn a_signing_config_excludes_service_flags_and_tlog_upload_false() {
        let e = select_services(
            &ServiceOptions {
                signing_config: Some(public_good()),
                rekor_url: Some("http://x".into()),
                tlog_upload: true,
                ..Default::default()
            },
            &public_good(),
            now(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("--signing-config cannot be combined"), "{e}");
        let e = select_services(
            &ServiceOptions {
                signing_config: Some(public_good()),
                tlog_upload: false,
                ..Default::default()
            },
            &public_good(),
            now(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("--tlog-upload=false cannot be combined"),
            "{e}"
        );
    }
}
