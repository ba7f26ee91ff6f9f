//! Trust material in the form the checks use, converted once from a
//! [`TrustedRoot`] when a verifier is built: Fulcio CAs as
//! [`signet_pki::chain::CertificateAuthority`] (whose internal signatures are
//! checked here, once), CT logs as [`CtLog`], timestamp authorities as
//! [`TimestampAuthority`], and Rekor logs with their parsed keys.

use std::time::SystemTime;

use signet_core::keys::PublicKey;
use signet_pki::certificate::Certificate;
use signet_pki::chain::CertificateAuthority;
use signet_pki::sct::CtLog;
use signet_pki::time::TimeRange;
use signet_pki::timestamp::TimestampAuthority;
use signet_trust::TrustedRoot;

/// A Rekor log a verifier trusts.
#[derive(Debug, Clone)]
pub struct RekorLog {
    /// The log's URL, as the trusted root gives it.
    pub base_url: String,
    /// The ID entries name the log by (SHA-256 of the key for Rekor v1, the
    /// checkpoint key ID for Rekor v2).
    pub log_id: Vec<u8>,
    /// The checkpoint key ID, when the trusted root gives it separately.
    pub checkpoint_key_id: Option<Vec<u8>>,
    /// The log's key.
    pub key: PublicKey,
    /// When the key may sign.
    pub valid_for: TimeRange,
}

impl RekorLog {
    /// Whether an entry naming `log_id` comes from this log.
    pub fn is_named_by(&self, log_id: &[u8]) -> bool {
        self.log_id == log_id || self.checkpoint_key_id.as_deref() == Some(log_id)
    }

    /// The names a Rekor v2 checkpoint of this log may carry: the host of its
    /// URL (what sigstore-go expects), then `host:port` when the URL has a
    /// port (a log on a non-default port may name itself so).
    pub fn checkpoint_origins(&self) -> Vec<String> {
        let rest = self
            .base_url
            .split_once("://")
            .map_or(self.base_url.as_str(), |(_, r)| r);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = split_port(authority);
        let mut out = Vec::new();
        if !host.is_empty() {
            out.push(host.to_owned());
            if port.is_some() {
                out.push(authority.to_owned());
            }
        }
        out
    }
}

fn split_port(authority: &str) -> (&str, Option<&str>) {
    if let Some(rest) = authority.strip_prefix('[') {
        // [v6]:port
        return match rest.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':')),
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            (host, Some(port))
        }
        _ => (authority, None),
    }
}

/// A Fulcio CA with the URL it is known by.
#[derive(Debug, Clone)]
pub(crate) struct FulcioCa {
    pub(crate) uri: String,
}

/// Everything a trusted root contributes, converted for the checks.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustMaterial {
    pub(crate) rekor_logs: Vec<RekorLog>,
    pub(crate) fulcio: Vec<CertificateAuthority>,
    pub(crate) fulcio_names: Vec<FulcioCa>,
    pub(crate) ct_logs: Vec<CtLog>,
    pub(crate) tsas: Vec<TimestampAuthority>,
    pub(crate) tsa_names: Vec<String>,
    /// DER of every certificate of a trusted CA chain: a bundle may repeat
    /// these (old npm bundles and cosign's `chain` annotation carry the
    /// root), but never bring a root of its own.
    pub(crate) ca_certificates: Vec<Vec<u8>>,
    /// Parts of the trusted root signet cannot use, set aside, one line each.
    pub(crate) set_aside: Vec<String>,
    /// Log IDs of the Rekor logs set aside, with why.
    pub(crate) unusable_logs: Vec<(Vec<u8>, String)>,
}

pub(crate) fn time_range(range: Option<&signet_trust::TimeRange>) -> TimeRange {
    match range {
        None => TimeRange::UNBOUNDED,
        Some(r) => TimeRange::new(r.start.map(SystemTime::from), r.end.map(SystemTime::from)),
    }
}

impl TrustMaterial {
    /// Converts `root`. A part signet cannot use (a key type it does not
    /// implement, a certificate it cannot parse) is set aside with a note
    /// rather than refused: leaving trust out can only make verification
    /// stricter, and sigstore-go likewise ignores what it cannot use.
    pub(crate) fn from_trusted_root(root: &TrustedRoot) -> Self {
        let mut out = Self::default();
        for log in &root.tlogs {
            match log.public_key.to_public_key() {
                Ok(key) => out.rekor_logs.push(RekorLog {
                    base_url: log.base_url.clone(),
                    log_id: log.log_id.clone(),
                    checkpoint_key_id: log.checkpoint_key_id.clone(),
                    key,
                    valid_for: time_range(log.public_key.valid_for()),
                }),
                Err(e) => {
                    let why = format!("Rekor log {} set aside: {e}", log.base_url);
                    out.unusable_logs.push((log.log_id.clone(), why.clone()));
                    out.set_aside.push(why);
                }
            }
        }
        for ca in &root.certificate_authorities {
            let converted = certificates(&ca.cert_chain).and_then(|chain| {
                CertificateAuthority::new(chain, time_range(ca.valid_for.as_ref()))
                    .map_err(|e| e.to_string())
            });
            match converted {
                Ok(authority) => {
                    out.ca_certificates
                        .extend(ca.cert_chain.iter().map(|c| c.der().to_vec()));
                    out.fulcio.push(authority);
                    out.fulcio_names.push(FulcioCa {
                        uri: ca.uri.clone(),
                    });
                }
                Err(e) => out
                    .set_aside
                    .push(format!("certificate authority {} set aside: {e}", ca.uri)),
            }
        }
        for log in &root.ctlogs {
            match CtLog::new(
                log.base_url.clone(),
                log.public_key.raw_bytes(),
                time_range(log.public_key.valid_for()),
            ) {
                Ok(ct) => out.ct_logs.push(ct),
                Err(e) => out
                    .set_aside
                    .push(format!("CT log {} set aside: {e}", log.base_url)),
            }
        }
        for tsa in &root.timestamp_authorities {
            let converted = certificates(&tsa.cert_chain).and_then(|chain| {
                TimestampAuthority::new(chain, time_range(tsa.valid_for.as_ref()))
                    .map_err(|e| e.to_string())
            });
            match converted {
                Ok(authority) => {
                    out.tsas.push(authority);
                    out.tsa_names.push(tsa.uri.clone());
                }
                Err(e) => out
                    .set_aside
                    .push(format!("timestamp authority {} set aside: {e}", tsa.uri)),
            }
        }
        out
    }

    /// Why a Rekor log of the trusted root with this ID was set aside.
    pub(crate) fn unusable_log(&self, log_id: &[u8]) -> Option<&str> {
        self.unusable_logs
            .iter()
            .find(|(id, _)| id == log_id)
            .map(|(_, why)| why.as_str())
    }

    /// The trusted Rekor log an entry names.
    pub(crate) fn rekor_log(&self, log_id: &[u8]) -> Option<&RekorLog> {
        self.rekor_logs.iter().find(|l| l.is_named_by(log_id))
    }

    /// Whether `der` is one of the trusted CA certificates.
    pub(crate) fn is_trusted_ca_certificate(&self, der: &[u8]) -> bool {
        self.ca_certificates.iter().any(|c| c == der)
    }

    /// The URL of the Fulcio CA at `index`.
    pub(crate) fn fulcio_uri(&self, index: usize) -> &str {
        self.fulcio_names
            .get(index)
            .map(|c| c.uri.as_str())
            .unwrap_or_default()
    }

    /// The URL of the timestamp authority at `index`.
    pub(crate) fn tsa_uri(&self, index: usize) -> &str {
        self.tsa_names
            .get(index)
            .map(String::as_str)
            .unwrap_or_default()
    }
}

fn certificates(chain: &[signet_trust::TrustedCertificate]) -> Result<Vec<Certificate>, String> {
    chain
        .iter()
        .map(|c| Certificate::from_der(c.der()).map_err(|e| e.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(url: &str) -> RekorLog {
        RekorLog {
            base_url: url.into(),
            log_id: vec![1],
            checkpoint_key_id: None,
            key: signet_core::keys::PrivateKey::generate_p256()
                .unwrap()
                .public_key(),
            valid_for: TimeRange::UNBOUNDED,
        }
    }

    #[test]
    fn checkpoint_origins_are_the_url_host() {
        assert_eq!(
            log("https://log2025-1.rekor.sigstore.dev").checkpoint_origins(),
            ["log2025-1.rekor.sigstore.dev"]
        );
        assert_eq!(
            log("http://127.0.0.1:8090/api").checkpoint_origins(),
            ["127.0.0.1", "127.0.0.1:8090"]
        );
        assert_eq!(
            log("http://[::1]:80").checkpoint_origins(),
            ["::1", "[::1]:80"]
        );
        assert_eq!(log("rekor-local").checkpoint_origins(), ["rekor-local"]);
        assert!(log("").checkpoint_origins().is_empty());
    }

    proptest::proptest! {
        #[test]
        fn checkpoint_origins_never_panic(url in "[a-z0-9:/@\\[\\]?#.]{0,40}") {
            let origins = log(&url).checkpoint_origins();
            proptest::prop_assert!(origins.len() <= 2);
            proptest::prop_assert!(origins.iter().all(|o| !o.is_empty()));
        }
    }

    #[test]
    fn converts_the_public_good_root() {
        let root = signet_trust::public_good::trusted_root().unwrap();
        let m = TrustMaterial::from_trusted_root(&root);
        assert!(m.set_aside.is_empty(), "{:?}", m.set_aside);
        assert_eq!(m.rekor_logs.len(), root.tlogs.len());
        assert_eq!(m.fulcio.len(), root.certificate_authorities.len());
        assert_eq!(m.ct_logs.len(), root.ctlogs.len());
        assert_eq!(m.tsas.len(), root.timestamp_authorities.len());
        let v1 = m.rekor_log(&root.tlogs[0].log_id).unwrap();
        assert_eq!(v1.base_url, "https://rekor.sigstore.dev");
        assert!(v1.valid_for.start.is_some());
    }
}
