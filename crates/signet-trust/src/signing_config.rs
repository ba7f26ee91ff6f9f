//! `signing_config` v0.2 (`dev.sigstore.trustroot.v1.SigningConfig`): where
//! a signer finds its CA, OIDC provider, transparency logs and timestamp
//! authorities, and how it chooses among them.
//!
//! Selection follows sigstore-go:
//! - CA and OIDC: one service, from the highest API version the client
//!   supports, valid now, with the newest validity start.
//! - Rekor and TSA: only services of the highest supported API version that
//!   has any valid now, at most one (the newest) per operator, then the
//!   selector: `ALL` takes them all, `ANY` one, `EXACT` exactly `count`
//!   (failing if fewer exist). Where sigstore-go picks `ANY`/`EXACT` at
//!   random, signet takes the newest first, which makes signing
//!   reproducible.

use jiff::Timestamp;
use serde::Deserialize;
use signet_core::protojson::{self, Uint32, null_as_default};

use crate::error::TrustError;
use crate::time::{RawTimeRange, TimeRange};
use crate::trusted_root::MAX_TRUST_DOCUMENT_BYTES;

/// The media type of signing config v0.2.
pub const SIGNING_CONFIG_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";
const WHAT: &str = "signing config";
const MAX_SERVICES: usize = 64;

/// One service endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Base URL (for a TSA, the full timestamp endpoint).
    pub url: String,
    /// The service's major API version (Rekor 1 or 2, Fulcio 1, TSA 1).
    pub major_api_version: u32,
    /// When the service may be used.
    pub valid_for: TimeRange,
    /// Who runs it.
    pub operator: String,
}

/// How many Rekor logs or TSAs to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceSelector {
    /// Every selected service.
    All,
    /// One of them.
    Any,
    /// Exactly this many.
    Exact(u32),
}

/// A signing config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningConfig {
    /// Fulcio instances.
    pub ca_urls: Vec<Service>,
    /// OIDC providers.
    pub oidc_urls: Vec<Service>,
    /// Rekor logs.
    pub rekor_tlog_urls: Vec<Service>,
    /// How many Rekor logs to write to; `None` when the config leaves it
    /// undefined.
    pub rekor_tlog_config: Option<ServiceSelector>,
    /// Timestamp authorities.
    pub tsa_urls: Vec<Service>,
    /// How many TSAs to ask.
    pub tsa_config: Option<ServiceSelector>,
}

impl SigningConfig {
    /// Reads a signing config v0.2.
    pub fn parse(bytes: &[u8]) -> Result<Self, TrustError> {
        if bytes.len() > MAX_TRUST_DOCUMENT_BYTES {
            return Err(TrustError::TooLarge {
                what: WHAT.into(),
                limit: MAX_TRUST_DOCUMENT_BYTES,
            });
        }
        let raw: RawSigningConfig =
            serde_json::from_slice(bytes).map_err(|e| TrustError::malformed(WHAT, e))?;
        raw.into_config()
    }

    /// The signing config as protobuf-JSON (compact).
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"mediaType\":");
        protojson::string(&mut out, SIGNING_CONFIG_MEDIA_TYPE);
        for (name, services) in [
            ("caUrls", &self.ca_urls),
            ("oidcUrls", &self.oidc_urls),
            ("rekorTlogUrls", &self.rekor_tlog_urls),
        ] {
            out.push_str(&format!(",\"{name}\":"));
            write_services(&mut out, services);
        }
        if let Some(sel) = self.rekor_tlog_config {
            out.push_str(",\"rekorTlogConfig\":");
            write_selector(&mut out, sel);
        }
        out.push_str(",\"tsaUrls\":");
        write_services(&mut out, &self.tsa_urls);
        if let Some(sel) = self.tsa_config {
            out.push_str(",\"tsaConfig\":");
            write_selector(&mut out, sel);
        }
        out.push('}');
        out
    }

    /// The Fulcio instance to use at `now` for a client speaking
    /// `supported_versions`.
    pub fn select_ca(
        &self,
        supported_versions: &[u32],
        now: Timestamp,
    ) -> Result<&Service, TrustError> {
        select_service(
            "certificate authority",
            &self.ca_urls,
            supported_versions,
            now,
        )
    }

    /// The OIDC provider to use at `now`.
    pub fn select_oidc(
        &self,
        supported_versions: &[u32],
        now: Timestamp,
    ) -> Result<&Service, TrustError> {
        select_service("OIDC provider", &self.oidc_urls, supported_versions, now)
    }

    /// The Rekor logs to write to at `now` (empty if the config lists none).
    pub fn select_rekor(
        &self,
        supported_versions: &[u32],
        now: Timestamp,
    ) -> Result<Vec<&Service>, TrustError> {
        if self.rekor_tlog_urls.is_empty() {
            return Ok(Vec::new());
        }
        select_services(
            "transparency log",
            &self.rekor_tlog_urls,
            self.rekor_tlog_config,
            supported_versions,
            now,
        )
    }

    /// The timestamp authorities to ask at `now` (empty if the config lists none).
    pub fn select_tsa(
        &self,
        supported_versions: &[u32],
        now: Timestamp,
    ) -> Result<Vec<&Service>, TrustError> {
        if self.tsa_urls.is_empty() {
            return Ok(Vec::new());
        }
        select_services(
            "timestamp authority",
            &self.tsa_urls,
            self.tsa_config,
            supported_versions,
            now,
        )
    }
}

fn by_version_newest_first<'a>(
    services: &'a [Service],
    supported: &[u32],
) -> Vec<(u32, Vec<&'a Service>)> {
    let mut versions = supported.to_vec();
    versions.sort_unstable_by(|a, b| b.cmp(a));
    versions.dedup();
    versions
        .into_iter()
        .map(|v| {
            let mut matching: Vec<&Service> = services
                .iter()
                .filter(|s| s.major_api_version == v)
                .collect();
            // Newest validity start first; a missing start counts as oldest.
            matching.sort_by_key(|s| std::cmp::Reverse(s.valid_for.start));
            (v, matching)
        })
        .collect()
}

/// sigstore-go's `SelectService`.
pub fn select_service<'a>(
    what: &'static str,
    services: &'a [Service],
    supported_versions: &[u32],
    now: Timestamp,
) -> Result<&'a Service, TrustError> {
    if supported_versions.is_empty() {
        return Err(TrustError::NoService {
            what,
            reason: "no supported API versions".into(),
        });
    }
    by_version_newest_first(services, supported_versions)
        .into_iter()
        .flat_map(|(_, s)| s)
        .find(|s| s.valid_for.contains(now))
        .ok_or_else(|| TrustError::NoService {
            what,
            reason: format!("none for API versions {supported_versions:?} is valid at {now}"),
        })
}

/// sigstore-go's `SelectServices`.
pub fn select_services<'a>(
    what: &'static str,
    services: &'a [Service],
    selector: Option<ServiceSelector>,
    supported_versions: &[u32],
    now: Timestamp,
) -> Result<Vec<&'a Service>, TrustError> {
    if supported_versions.is_empty() {
        return Err(TrustError::NoService {
            what,
            reason: "no supported API versions".into(),
        });
    }
    let mut selected: Vec<&Service> = Vec::new();
    for (_, candidates) in by_version_newest_first(services, supported_versions) {
        for s in candidates.into_iter().filter(|s| s.valid_for.contains(now)) {
            if !selected.iter().any(|x| x.operator == s.operator) {
                selected.push(s);
            }
        }
        if !selected.is_empty() {
            break;
        }
    }
    if selected.is_empty() {
        return Err(TrustError::NoService {
            what,
            reason: format!("none for API versions {supported_versions:?} is valid at {now}"),
        });
    }
    match selector {
        Some(ServiceSelector::All) => Ok(selected),
        Some(ServiceSelector::Any) => {
            selected.truncate(1);
            Ok(selected)
        }
        Some(ServiceSelector::Exact(0)) => Err(TrustError::NoService {
            what,
            reason: "selector EXACT needs a count greater than 0".into(),
        }),
        Some(ServiceSelector::Exact(n)) => {
            if n as usize > selected.len() {
                return Err(TrustError::NoService {
                    what,
                    reason: format!(
                        "selector EXACT asks for {n}, but only {} operators qualify",
                        selected.len()
                    ),
                });
            }
            selected.truncate(n as usize);
            Ok(selected)
        }
        None => Err(TrustError::NoService {
            what,
            reason: "the service selector is undefined".into(),
        }),
    }
}

fn write_services(out: &mut String, services: &[Service]) {
    out.push('[');
    for (i, s) in services.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"url\":");
        protojson::string(out, &s.url);
        out.push_str(&format!(
            ",\"majorApiVersion\":{},\"validFor\":",
            s.major_api_version
        ));
        s.valid_for.write_json(out);
        out.push_str(",\"operator\":");
        protojson::string(out, &s.operator);
        out.push('}');
    }
    out.push(']');
}

fn write_selector(out: &mut String, sel: ServiceSelector) {
    match sel {
        ServiceSelector::All => out.push_str("{\"selector\":\"ALL\"}"),
        ServiceSelector::Any => out.push_str("{\"selector\":\"ANY\"}"),
        ServiceSelector::Exact(n) => {
            out.push_str(&format!("{{\"selector\":\"EXACT\",\"count\":{n}}}"))
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawSigningConfig {
    #[serde(default)]
    media_type: String,
    #[serde(default, deserialize_with = "null_as_default")]
    ca_urls: Vec<RawService>,
    #[serde(default, deserialize_with = "null_as_default")]
    oidc_urls: Vec<RawService>,
    #[serde(default, deserialize_with = "null_as_default")]
    rekor_tlog_urls: Vec<RawService>,
    #[serde(default)]
    rekor_tlog_config: Option<RawServiceConfig>,
    #[serde(default, deserialize_with = "null_as_default")]
    tsa_urls: Vec<RawService>,
    #[serde(default)]
    tsa_config: Option<RawServiceConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawService {
    #[serde(default)]
    url: String,
    #[serde(default)]
    major_api_version: Option<Uint32>,
    #[serde(default)]
    valid_for: Option<RawTimeRange>,
    #[serde(default)]
    operator: String,
}

#[derive(Deserialize)]
struct RawServiceConfig {
    #[serde(default)]
    selector: Option<protojson::Enum>,
    #[serde(default)]
    count: Option<Uint32>,
}

impl RawServiceConfig {
    fn read(self, field: &str) -> Result<Option<ServiceSelector>, TrustError> {
        const NAMES: [&str; 4] = ["SERVICE_SELECTOR_UNDEFINED", "ALL", "ANY", "EXACT"];
        let selector = self.selector.as_ref().and_then(|s| s.name(&NAMES));
        Ok(match selector.unwrap_or("SERVICE_SELECTOR_UNDEFINED") {
            "ALL" => Some(ServiceSelector::All),
            "ANY" => Some(ServiceSelector::Any),
            "EXACT" => Some(ServiceSelector::Exact(self.count.unwrap_or_default().0)),
            "SERVICE_SELECTOR_UNDEFINED" => None,
            other => {
                return Err(TrustError::malformed(
                    WHAT,
                    format!("{field}.selector {other:?} is not ALL, ANY or EXACT"),
                ));
            }
        })
    }
}

impl RawSigningConfig {
    pub(crate) fn into_config(self) -> Result<SigningConfig, TrustError> {
        if self.media_type != SIGNING_CONFIG_MEDIA_TYPE {
            return Err(TrustError::malformed(
                WHAT,
                format!(
                    "unsupported mediaType {:?} (expected {SIGNING_CONFIG_MEDIA_TYPE})",
                    self.media_type.chars().take(80).collect::<String>()
                ),
            ));
        }
        let services = |list: Vec<RawService>, field: &str| -> Result<Vec<Service>, TrustError> {
            if list.len() > MAX_SERVICES {
                return Err(TrustError::malformed(
                    WHAT,
                    format!("{field}: more than {MAX_SERVICES} services"),
                ));
            }
            list.into_iter()
                .map(|s| {
                    if s.url.is_empty() {
                        return Err(TrustError::malformed(
                            WHAT,
                            format!("{field}: a service has no url"),
                        ));
                    }
                    // sigstore-go treats a missing window as unbounded.
                    let valid_for = s
                        .valid_for
                        .map(|v| v.read(WHAT))
                        .transpose()?
                        .unwrap_or_default();
                    Ok(Service {
                        url: s.url,
                        major_api_version: s.major_api_version.unwrap_or_default().0,
                        valid_for,
                        operator: s.operator,
                    })
                })
                .collect()
        };
        Ok(SigningConfig {
            ca_urls: services(self.ca_urls, "caUrls")?,
            oidc_urls: services(self.oidc_urls, "oidcUrls")?,
            rekor_tlog_urls: services(self.rekor_tlog_urls, "rekorTlogUrls")?,
            rekor_tlog_config: self
                .rekor_tlog_config
                .map(|c| c.read("rekorTlogConfig"))
                .transpose()?
                .flatten(),
            tsa_urls: services(self.tsa_urls, "tsaUrls")?,
            tsa_config: self
                .tsa_config
                .map(|c| c.read("tsaConfig"))
                .transpose()?
                .flatten(),
        })
    }
}
