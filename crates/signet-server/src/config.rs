//! The server's configuration file (`server.toml` in the data directory):
//! the public URL, the trusted OIDC issuers with their types, and the
//! operational limits.
//!
//! `signet server init` writes it; operators edit it (to add an issuer, say)
//! and restart `signet server run`. Unknown keys are refused, so that a typo
//! does not silently leave a limit at its default.

use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::error::ConfigError;

/// The audience Sigstore clients request for their ID tokens.
pub const DEFAULT_AUDIENCE: &str = "sigstore";

/// Largest configuration file read.
pub const MAX_CONFIG_BYTES: usize = 1 << 20;

/// What kind of identity an issuer's tokens carry, which decides the
/// certificate's subject alternative name and CI-claim extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IssuerType {
    /// A person: the SAN is the verified `email` claim.
    Email,
    /// GitHub Actions: the SAN is `<url>/<job_workflow_ref>`.
    GithubActions,
    /// Gitea Actions: the SAN is `<instance>/<job_workflow_ref>` (or
    /// `workflow_ref` when the token has no `job_workflow_ref`).
    GiteaActions,
    /// Forgejo Actions: the SAN is `<instance>/<workflow_ref>`.
    ForgejoActions,
    /// GitLab CI: the SAN is `https://<ci_config_ref_uri>`.
    GitlabCi,
}

impl IssuerType {
    /// Every type, in the order the documentation lists them.
    pub const ALL: [IssuerType; 5] = [
        Self::Email,
        Self::GithubActions,
        Self::GiteaActions,
        Self::ForgejoActions,
        Self::GitlabCi,
    ];

    /// The name used in the configuration and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::GithubActions => "github-actions",
            Self::GiteaActions => "gitea-actions",
            Self::ForgejoActions => "forgejo-actions",
            Self::GitlabCi => "gitlab-ci",
        }
    }

    /// Fulcio's name for the type in `/api/v2/configuration`.
    pub fn fulcio_name(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::GithubActions => "github-workflow",
            Self::GitlabCi => "gitlab-pipeline",
            Self::GiteaActions | Self::ForgejoActions => "ci-provider",
        }
    }

    /// Whether the proof of possession is over the `email` claim (email
    /// issuers) rather than `sub` (every other type), as Fulcio decides.
    pub fn challenge_claim(self) -> &'static str {
        match self {
            Self::Email => "email",
            _ => "sub",
        }
    }
}

impl std::fmt::Display for IssuerType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for IssuerType {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                ConfigError::invalid(format!(
                    "unknown issuer type {s:?} (expected one of {})",
                    Self::ALL.map(Self::name).join(", ")
                ))
            })
    }
}

impl<'de> Deserialize<'de> for IssuerType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One trusted OIDC issuer.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct IssuerConfig {
    /// The issuer URL, exactly as tokens carry it in `iss`.
    pub url: String,
    /// What its tokens identify.
    #[serde(rename = "type")]
    pub issuer_type: IssuerType,
    /// The audience (`aud`) tokens must be issued for.
    #[serde(default = "default_audience")]
    pub audience: String,
    /// For CI types: the web address workflow and repository URIs are built
    /// on. Defaults to `https://github.com` (GitHub), the issuer URL without
    /// `/api/actions` (Gitea, Forgejo) or the issuer URL (GitLab).
    #[serde(default)]
    pub instance_url: Option<String>,
    /// A PEM file of CA certificates trusted (in addition to the system's)
    /// for the issuer's TLS, for an issuer behind a private CA.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_audience() -> String {
    DEFAULT_AUDIENCE.to_owned()
}

impl IssuerConfig {
    /// An issuer of `issuer_type` at `url` with the default audience.
    pub fn new(url: impl Into<String>, issuer_type: IssuerType) -> Self {
        Self {
            url: url.into(),
            issuer_type,
            audience: default_audience(),
            instance_url: None,
            ca_file: None,
        }
    }

    /// The base of workflow and repository URIs for CI types.
    pub fn instance_url(&self) -> String {
        if let Some(url) = &self.instance_url {
            return url.trim_end_matches('/').to_owned();
        }
        match self.issuer_type {
            IssuerType::GithubActions => "https://github.com".to_owned(),
            IssuerType::GiteaActions | IssuerType::ForgejoActions => {
                let base = self.url.trim_end_matches('/');
                base.strip_suffix("/api/actions").unwrap_or(base).to_owned()
            }
            IssuerType::Email | IssuerType::GitlabCi => self.url.trim_end_matches('/').to_owned(),
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        check_issuer_url(&self.url)?;
        if self.audience.is_empty() {
            return Err(ConfigError::invalid(format!(
                "issuer {}: the audience is empty",
                self.url
            )));
        }
        if let Some(instance) = &self.instance_url {
            let parsed = Url::parse(instance).map_err(|e| {
                ConfigError::invalid(format!(
                    "issuer {}: instance-url {instance:?} is not a URL: {e}",
                    self.url
                ))
            })?;
            if !matches!(parsed.scheme(), "https" | "http") {
                return Err(ConfigError::invalid(format!(
                    "issuer {}: instance-url {instance:?} is not an http(s) URL",
                    self.url
                )));
            }
        }
        Ok(())
    }
}

/// `URL[=TYPE]` as given to `signet server init --oidc-issuer`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuerSpec(pub IssuerConfig);

impl FromStr for IssuerSpec {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // A URL may contain '=' in its query, but issuer URLs have none
        // (refused below), so the last '=' outside a query separates the type.
        let (url, issuer_type) = match s.rsplit_once('=') {
            Some((url, t)) if !t.contains('/') && !url.contains(['?', '#']) => (url, t.parse()?),
            _ => (s, IssuerType::Email),
        };
        check_issuer_url(url)?;
        Ok(Self(IssuerConfig::new(url, issuer_type)))
    }
}

/// Refuses issuer URLs that are not `https`, unless the host is loopback
/// (`http://127.0.0.1:PORT` for a test issuer), and URLs with credentials,
/// a query or a fragment (an issuer identifier has none).
pub fn check_issuer_url(url: &str) -> Result<(), ConfigError> {
    let parsed = Url::parse(url)
        .map_err(|e| ConfigError::invalid(format!("issuer URL {url:?} is not a URL: {e}")))?;
    match parsed.scheme() {
        "https" => {}
        "http" if is_loopback(&parsed) => {}
        "http" => {
            return Err(ConfigError::invalid(format!(
                "issuer URL {url} uses plain http; only https is accepted, or http to a loopback host (127.0.0.1, ::1, localhost)"
            )));
        }
        other => {
            return Err(ConfigError::invalid(format!(
                "issuer URL {url} has scheme {other:?}; expected https"
            )));
        }
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ConfigError::invalid(format!(
            "issuer URL {url} carries credentials"
        )));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(ConfigError::invalid(format!(
            "issuer URL {url} has a query or fragment; an issuer identifier has neither"
        )));
    }
    Ok(())
}

/// Whether `url`'s host is a loopback address (or `localhost`).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// How ID tokens are checked and issuers' keys fetched.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct OidcSettings {
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    pub leeway_seconds: u64,
    /// Timeout of one discovery or JWKS fetch, in seconds.
    pub fetch_timeout_seconds: u64,
    /// How long fetched keys are used before they are fetched again.
    pub jwks_max_age_seconds: u64,
    /// The shortest time between two fetches of one issuer's keys: a token
    /// with an unknown `kid` triggers a refresh at most this often.
    pub jwks_min_refresh_seconds: u64,
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            leeway_seconds: 60,
            fetch_timeout_seconds: 10,
            jwks_max_age_seconds: 3600,
            jwks_min_refresh_seconds: 30,
        }
    }
}

impl OidcSettings {
    /// Tolerated clock skew.
    pub fn leeway(&self) -> Duration {
        Duration::from_secs(self.leeway_seconds)
    }
}

/// Per-client request rate limit: a token bucket per client address
/// (per /64 for IPv6).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct RateLimitSettings {
    /// Sustained requests per second per client; 0 turns the limit off.
    pub requests_per_second: f64,
    /// Requests a client may make in a burst.
    pub burst: u32,
    /// Proxies whose `X-Forwarded-For` names the client (the address the
    /// proxy appended last is used).
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            requests_per_second: 50.0,
            burst: 100,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Connection and request limits.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct LimitSettings {
    /// Largest request body any endpoint accepts; each endpoint has its own,
    /// smaller cap as well.
    pub max_body_bytes: usize,
    /// Time allowed for one request, in seconds.
    pub request_timeout_seconds: u64,
    /// Most connections served at once; further connections wait.
    pub max_connections: usize,
    /// Time allowed for in-flight requests to finish after SIGTERM.
    pub shutdown_grace_seconds: u64,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 4 << 20,
            request_timeout_seconds: 30,
            max_connections: 1024,
            shutdown_grace_seconds: 30,
        }
    }
}

/// The whole configuration file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ServerConfig {
    /// The URL clients reach the server at (written into the trust files).
    pub public_url: String,
    /// When the keys were made (RFC 3339); the trust files' validity
    /// periods for the logs start here.
    pub created: String,
    /// Trusted OIDC issuers.
    #[serde(default)]
    pub oidc_issuers: Vec<IssuerConfig>,
    /// Token checks and key fetching.
    #[serde(default)]
    pub oidc: OidcSettings,
    /// Per-client rate limit.
    #[serde(default)]
    pub rate_limit: RateLimitSettings,
    /// Request and connection limits.
    #[serde(default)]
    pub limits: LimitSettings,
}

impl ServerConfig {
    /// Parses and checks a configuration file's text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let config: Self =
            toml::from_str(text).map_err(|e| ConfigError::invalid(one_line(&e.to_string())))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what the type system cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_public_url(&self.public_url)?;
        crate::time::parse_rfc3339(&self.created).ok_or_else(|| {
            ConfigError::invalid(format!(
                "created {:?} is not an RFC 3339 UTC time",
                self.created
            ))
        })?;
        let mut seen = std::collections::HashSet::new();
        for issuer in &self.oidc_issuers {
            issuer.validate()?;
            if !seen.insert(issuer.url.as_str()) {
                return Err(ConfigError::invalid(format!(
                    "issuer {} is listed twice",
                    issuer.url
                )));
            }
        }
        let rl = &self.rate_limit;
        if !(rl.requests_per_second.is_finite() && rl.requests_per_second >= 0.0) {
            return Err(ConfigError::invalid(format!(
                "rate-limit.requests-per-second {} must be a number >= 0",
                rl.requests_per_second
            )));
        }
        if rl.requests_per_second > 0.0 && rl.burst == 0 {
            return Err(ConfigError::invalid(
                "rate-limit.burst must be at least 1 when the rate limit is on",
            ));
        }
        if self.limits.max_connections == 0 || self.limits.max_body_bytes == 0 {
            return Err(ConfigError::invalid(
                "limits.max-connections and limits.max-body-bytes must be at least 1",
            ));
        }
        Ok(())
    }

    /// The public URL without a trailing slash, the base of every service URL.
    pub fn base_url(&self) -> String {
        self.public_url.trim_end_matches('/').to_owned()
    }

    /// The Rekor v2 checkpoint origin: the public URL's host name (what
    /// sigstore-go checks the checkpoint's key name against).
    pub fn checkpoint_origin(&self) -> String {
        Url::parse(&self.public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "localhost".to_owned())
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned()
    }

    /// The issuer whose URL is exactly `iss`.
    pub fn issuer(&self, iss: &str) -> Option<&IssuerConfig> {
        self.oidc_issuers.iter().find(|i| i.url == iss)
    }

    /// The configuration file's text: every setting, with comments.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# signet server configuration, written by `signet server init`.\n\
             # Edit it and restart `signet server run` to apply changes.\n\n\
             # The URL clients reach this server at; the trust files name it.\n",
        );
        out.push_str(&format!("public-url = {}\n", toml_string(&self.public_url)));
        out.push_str("# When the keys were made; the logs' trust periods start here.\n");
        out.push_str(&format!("created = {}\n", toml_string(&self.created)));
        out.push_str(
            "\n# Trusted OIDC issuers. type: email, github-actions, gitea-actions,\n\
             # forgejo-actions or gitlab-ci. Optional per issuer:\n\
             #   audience = \"sigstore\"          the `aud` tokens must carry\n\
             #   instance-url = \"https://...\"   base of workflow URIs (CI types)\n\
             #   ca-file = \"/path/ca.pem\"       extra CA for the issuer's TLS\n",
        );
        for issuer in &self.oidc_issuers {
            out.push_str("\n[[oidc-issuers]]\n");
            out.push_str(&format!("url = {}\n", toml_string(&issuer.url)));
            out.push_str(&format!(
                "type = {}\n",
                toml_string(issuer.issuer_type.name())
            ));
            out.push_str(&format!("audience = {}\n", toml_string(&issuer.audience)));
            if let Some(instance) = &issuer.instance_url {
                out.push_str(&format!("instance-url = {}\n", toml_string(instance)));
            }
            if let Some(ca) = &issuer.ca_file {
                out.push_str(&format!(
                    "ca-file = {}\n",
                    toml_string(&ca.display().to_string())
                ));
            }
        }
        let o = &self.oidc;
        out.push_str(&format!(
            "\n[oidc]\n\
             # Clock skew tolerated on exp, nbf and iat.\n\
             leeway-seconds = {}\n\
             # Timeout of one discovery or JWKS fetch.\n\
             fetch-timeout-seconds = {}\n\
             # Keys are fetched again after this long.\n\
             jwks-max-age-seconds = {}\n\
             # An unknown key ID refreshes an issuer's keys at most this often.\n\
             jwks-min-refresh-seconds = {}\n",
            o.leeway_seconds,
            o.fetch_timeout_seconds,
            o.jwks_max_age_seconds,
            o.jwks_min_refresh_seconds
        ));
        let r = &self.rate_limit;
        out.push_str(&format!(
            "\n[rate-limit]\n\
             # Per client address (per /64 for IPv6); 0 turns the limit off.\n\
             requests-per-second = {}\n\
             burst = {}\n\
             # Proxies whose X-Forwarded-For names the client.\n\
             trusted-proxies = [{}]\n",
            toml_float(r.requests_per_second),
            r.burst,
            r.trusted_proxies
                .iter()
                .map(|ip| toml_string(&ip.to_string()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let l = &self.limits;
        out.push_str(&format!(
            "\n[limits]\n\
             # Largest request body any endpoint accepts (each has a smaller cap too).\n\
             max-body-bytes = {}\n\
             request-timeout-seconds = {}\n\
             max-connections = {}\n\
             # Time for in-flight requests to finish after SIGTERM or SIGINT.\n\
             shutdown-grace-seconds = {}\n",
            l.max_body_bytes,
            l.request_timeout_seconds,
            l.max_connections,
            l.shutdown_grace_seconds
        ));
        out
    }
}

/// Checks the public URL: http or https, a host, no query or fragment.
pub fn check_public_url(url: &str) -> Result<(), ConfigError> {
    let parsed = Url::parse(url)
        .map_err(|e| ConfigError::invalid(format!("public URL {url:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ConfigError::invalid(format!(
            "public URL {url} must be an http or https URL with a host"
        )));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || !parsed.username().is_empty() {
        return Err(ConfigError::invalid(format!(
            "public URL {url} must not carry credentials, a query or a fragment"
        )));
    }
    Ok(())
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn toml_float(f: f64) -> String {
    if f.fract() == 0.0 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ServerConfig {
        ServerConfig {
            public_url: "https://sigstore.example.test".into(),
            created: "2026-11-28T10:00:00Z".into(),
            oidc_issuers: vec![
                IssuerConfig::new(
                    "https://git.example.test/api/actions",
                    IssuerType::ForgejoActions,
                ),
                IssuerConfig {
                    instance_url: Some("https://gitea.example.test/".into()),
                    ca_file: Some("/etc/ca \"x\".pem".into()),
                    ..IssuerConfig::new("http://127.0.0.1:9/api/actions", IssuerType::GiteaActions)
                },
            ],
            oidc: OidcSettings::default(),
            rate_limit: RateLimitSettings {
                trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
                ..RateLimitSettings::default()
            },
            limits: LimitSettings::default(),
        }
    }

    #[test]
    fn written_config_reads_back() {
        let c = config();
        let text = c.to_toml();
        assert_eq!(ServerConfig::parse(&text).unwrap(), c);
    }

    #[test]
    fn issuer_specs() {
        let s: IssuerSpec = "https://git.example.test/api/actions=forgejo-actions"
            .parse()
            .unwrap();
        assert_eq!(s.0.issuer_type, IssuerType::ForgejoActions);
        assert_eq!(s.0.url, "https://git.example.test/api/actions");
        assert_eq!(s.0.instance_url(), "https://git.example.test");
        let s: IssuerSpec = "https://accounts.example.test".parse().unwrap();
        assert_eq!(s.0.issuer_type, IssuerType::Email);
        let s: IssuerSpec = "http://127.0.0.1:8080=github-actions".parse().unwrap();
        assert_eq!(s.0.instance_url(), "https://github.com");
        let s: IssuerSpec = "http://[::1]:8080".parse().unwrap();
        assert_eq!(s.0.issuer_type, IssuerType::Email);
        let s: IssuerSpec = "http://localhost:8080=gitlab-ci".parse().unwrap();
        assert_eq!(s.0.instance_url(), "http://localhost:8080");
    }

    #[test]
    fn refused_issuers() {
        for (spec, needle) in [
            (
                "http://git.example.test/api/actions=gitea-actions",
                "plain http",
            ),
            ("http://10.0.0.1", "plain http"),
            ("ftp://example.test", "scheme"),
            ("https://u:p@example.test", "credentials"),
            ("https://example.test/?a=b", "query"),
            ("https://example.test=nonsense", "unknown issuer type"),
            ("not a url", "not a URL"),
        ] {
            let err = spec.parse::<IssuerSpec>().unwrap_err().to_string();
            assert!(err.contains(needle), "{spec}: {err}");
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let text = config().to_toml();
        let typo = text.replace("burst =", "brust =");
        let err = ServerConfig::parse(&typo).unwrap_err().to_string();
        assert!(err.contains("brust"), "{err}");
        assert!(!err.contains('\n'));
        let mut c = config();
        c.oidc_issuers.push(c.oidc_issuers[0].clone());
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("listed twice")
        );
        let mut c = config();
        c.rate_limit.requests_per_second = -1.0;
        assert!(c.validate().is_err());
        let mut c = config();
        c.public_url = "https://example.test/?q".into();
        assert!(c.validate().is_err());
    }

    #[test]
    fn checkpoint_origin_is_the_host_name() {
        let mut c = config();
        assert_eq!(c.checkpoint_origin(), "sigstore.example.test");
        c.public_url = "http://127.0.0.1:3000/".into();
        assert_eq!(c.checkpoint_origin(), "127.0.0.1");
        assert_eq!(c.base_url(), "http://127.0.0.1:3000");
    }
}
