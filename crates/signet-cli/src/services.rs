//! From the signing flags to Sigstore service clients: the trust material
//! (`--trusted-root`, `SIGSTORE_*`, the TUF cache, the shipped snapshot), the
//! services (`--signing-config`, service URLs, or the public-good default),
//! the confirmation before anything goes to the public-good instance, and
//! the identity token.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use anyhow::{Context, anyhow};
use signet_sigstore::oidc::{
    AmbientProvider, IdentityToken, TokenEnvironment, TokenOptions, find_token,
};
use signet_sigstore::services::{ServiceOptions, Services, select_services};
use signet_sigstore::signing::{Connected, KeylessSigner, Recorder, connect};
use signet_sigstore::trust::{Refresh, TrustOptions, default_tuf, resolve};
use signet_sigstore::{ClientOptions, HttpClient};
use signet_trust::SigningConfig;

use crate::args::{KeylessSignArgs, TimestampSignArgs};

/// What the signing flags ask for.
pub struct SigningRequest<'a> {
    /// The keyless and log flags.
    pub keyless: &'a KeylessSignArgs,
    /// The timestamp authority flags.
    pub timestamp: &'a TimestampSignArgs,
    /// `--tlog-upload`.
    pub tlog_upload: bool,
    /// Whether the signature is keyless (needs Fulcio and a token).
    pub keyless_signature: bool,
}

/// The clients for one signing command.
pub struct SigningServices {
    /// Fulcio, the logs and the timestamp authorities.
    pub connected: Option<Connected>,
    /// Where they are.
    services: Option<Services>,
    /// One HTTP client for all of them (and the Actions token endpoint).
    pub http: HttpClient,
}

impl SigningServices {
    /// Asks before anything is recorded by the public-good instance, unless
    /// `yes` (see [`confirm`]). Called once the signer is ready, so that a
    /// missing token or key fails without a prompt.
    pub fn confirm(&self, keyless: bool, yes: bool) -> anyhow::Result<()> {
        match &self.services {
            Some(services) => confirm(services, keyless, yes),
            None => Ok(()),
        }
    }

    /// The Rekor v2 log the signature will be recorded in, if one was
    /// chosen: its entries carry no signed entry timestamp, so only a
    /// Sigstore bundle can hold the evidence, not cosign's `.sig` layout.
    pub fn rekor_v2(&self) -> Option<&str> {
        self.services.as_ref().and_then(|s| {
            s.rekor
                .iter()
                .find(|r| r.major_version >= 2)
                .map(|r| r.url.as_str())
        })
    }

    /// The keyless signer of `sign` and `sign-blob`: an identity token, the
    /// prompt (unless `yes`), then a Fulcio certificate for an ephemeral
    /// key, whose chain and SCT are checked before it is used.
    pub async fn keyless_signer(
        &self,
        keyless: &KeylessSignArgs,
        yes: bool,
    ) -> anyhow::Result<KeylessSigner> {
        let Some(connected) = &self.connected else {
            anyhow::bail!("keyless signing needs Fulcio");
        };
        let token = identity_token(keyless, &self.http).await?;
        tracing::debug!(source = token.source(), "identity token");
        self.confirm(true, yes)?;
        let signer = KeylessSigner::new(&connected.fulcio, &token).await?;
        eprintln!(
            "Successfully verified SCT and certificate chain for {}",
            signer.identity()
        );
        Ok(signer)
    }

    /// The recorder: the logs and timestamp authorities (none when nothing
    /// is to be recorded).
    pub fn recorder(&self) -> Recorder {
        self.connected
            .as_ref()
            .map(|c| c.recorder.clone())
            .unwrap_or_default()
    }
}

/// Resolves the trust material and services the flags name and builds
/// their clients. A key-based signature that records nothing
/// (`--tlog-upload=false`, no timestamp authority) reads no trust material
/// and touches no network.
pub async fn signing_services(request: &SigningRequest<'_>) -> anyhow::Result<SigningServices> {
    let http = HttpClient::new(&ClientOptions::default())?;
    let k = request.keyless;
    let signing_config = match &k.signing_config {
        Some(path) => Some(
            SigningConfig::load(path)
                .with_context(|| format!("--signing-config {}", path.display()))?,
        ),
        None => None,
    };
    let records_nothing = !request.tlog_upload
        && request.timestamp.timestamp_server_url.is_none()
        && signing_config.is_none();
    if !request.keyless_signature && records_nothing {
        return Ok(SigningServices {
            connected: None,
            services: None,
            http,
        });
    }
    let uses_defaults = signing_config.is_none()
        && k.fulcio_url.is_none()
        && k.rekor_url.is_none()
        && request.timestamp.timestamp_server_url.is_none();
    let tuf = match default_tuf() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("warning: {e}");
            None
        }
    };
    let env = |name: &str| std::env::var_os(name);
    let trust = resolve(TrustOptions {
        trusted_root: k.trusted_root.clone(),
        env: &env,
        tuf,
        // Signing against the public-good services needs the network anyway;
        // a cached root whose TUF metadata expired is refreshed first.
        refresh: if uses_defaults {
            Refresh::IfStale
        } else {
            Refresh::Never
        },
    })
    .await?;
    for warning in &trust.warnings {
        eprintln!("warning: {warning}");
    }
    tracing::debug!(source = %trust.source, "trusted root");
    let mut services = select_services(
        &ServiceOptions {
            fulcio_url: k.fulcio_url.clone(),
            rekor_url: k.rekor_url.clone(),
            timestamp_server_url: request.timestamp.timestamp_server_url.clone(),
            signing_config,
            tlog_upload: request.tlog_upload,
        },
        &trust.default_signing_config,
        jiff::Timestamp::now(),
    )?;
    if !request.keyless_signature && !request.tlog_upload {
        services.rekor.clear();
    }
    tracing::debug!(?services, "services");
    let connected = connect(&http, &services, &trust.root, !k.insecure_skip_verify)?;
    Ok(SigningServices {
        connected: Some(connected),
        services: Some(services),
        http,
    })
}

/// Whether `url` is a service of the public-good instance.
fn is_public_good(url: &str) -> bool {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .is_some_and(|h| h == "sigstore.dev" || h.ends_with(".sigstore.dev"))
}

/// cosign's notice before a signature goes to the public-good instance.
const PUBLIC_GOOD_NOTICE: &str = "\
The sigstore service, hosted by sigstore a Series of LF Projects, LLC, is provided pursuant to the Hosted Project Tools Terms of Use, available at https://lfprojects.org/policies/hosted-project-tools-terms-of-use/.
Note that if your submission includes personal data associated with this signed artifact, it will be part of an immutable record.
This may include the email address associated with the account with which you authenticate your contractual Agreement.
This information will be used for signing this artifact and will be stored in public transparency logs and cannot be removed later, and is subject to the Immutable Record notice at https://lfprojects.org/policies/hosted-project-tools-immutable-records/.

By typing 'y', you attest that (1) you are not submitting the personal data of any other person; and (2) you understand and agree to the statement and the Agreement terms at the URLs listed above.";

/// Asks before anything is recorded by the public-good instance, unless
/// `--yes`. Without a terminal to ask, `--yes` is required.
fn confirm(services: &Services, keyless: bool, yes: bool) -> anyhow::Result<()> {
    let public = (keyless && is_public_good(&services.fulcio))
        || services.rekor.iter().any(|r| is_public_good(&r.url))
        || services.tsa.iter().any(|t| is_public_good(t));
    if yes || !public {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(anyhow!(
            "the signature would be recorded by the public-good Sigstore instance: pass --yes to confirm (there is no terminal to ask)"
        ));
    }
    eprintln!("{PUBLIC_GOOD_NOTICE}");
    eprint!("Are you sure you would like to continue? [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    // An answer is a word; read at most a short line.
    std::io::Read::take(stdin.lock(), 64)
        .read_line(&mut answer)
        .context("reading the answer")?;
    match answer.trim() {
        "y" | "Y" | "yes" | "Yes" => Ok(()),
        _ => Err(anyhow!("not confirmed; nothing was signed")),
    }
}

/// The identity token the flags and the environment offer.
pub async fn identity_token(
    keyless: &KeylessSignArgs,
    http: &HttpClient,
) -> anyhow::Result<IdentityToken> {
    let provider = match keyless.oidc_provider.as_deref() {
        None | Some("") => None,
        Some(name) => Some(AmbientProvider::from_name(name).ok_or_else(|| {
            anyhow!(
                "--oidc-provider {name:?}: signet reads {}",
                AmbientProvider::NAMES
            )
        })?),
    };
    Ok(find_token(
        &TokenOptions {
            identity_token: keyless.identity_token.clone(),
            provider,
            disable_ambient: keyless.oidc_disable_ambient_providers,
        },
        &TokenEnvironment::from_process(),
        http,
    )
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_good_hosts() {
        assert!(is_public_good("https://fulcio.sigstore.dev"));
        assert!(is_public_good(
            "https://timestamp.sigstore.dev/api/v1/timestamp"
        ));
        assert!(!is_public_good("https://sigstore.dev.example"));
        assert!(!is_public_good("http://127.0.0.1:8080"));
    }
}
