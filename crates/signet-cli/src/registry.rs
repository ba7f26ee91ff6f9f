//! From command-line registry flags to a registry client and signature store.

use anyhow::{Context, bail};
use signet_core::signature_manifest::MediaTypes;
use signet_oci::signatures::SignatureStore;
use signet_oci::{ClientOptions, Credential, RegistryClient, RepositoryRef, TlsOptions};

use crate::args::RegistryArgs;

pub fn signature_store(args: &RegistryArgs) -> anyhow::Result<SignatureStore> {
    // As go-containerregistry reads cosign's flags: a token wins; a user
    // name or password alone is basic auth with the other one empty.
    let credentials = match (
        &args.registry_token,
        &args.registry_username,
        &args.registry_password,
    ) {
        (Some(token), _, _) => Some(Credential::Bearer(token.clone())),
        (None, None, None) => None,
        (None, username, password) => Some(Credential::Basic {
            username: username.clone().unwrap_or_default(),
            password: password.clone().unwrap_or_default(),
        }),
    };
    let mut tls = TlsOptions::default();
    if let Some(cacert) = &args.registry_cacert {
        tls = tls.trust_only_file(cacert).context("--registry-cacert")?;
    }
    match (&args.registry_client_cert, &args.registry_client_key) {
        (Some(cert), Some(key)) => {
            tls = tls
                .client_identity_files(cert, key)
                .context("--registry-client-cert/--registry-client-key")?;
        }
        (Some(_), None) => bail!("--registry-client-cert needs --registry-client-key"),
        (None, Some(_)) => bail!("--registry-client-key needs --registry-client-cert"),
        (None, None) => {}
    }
    if let Some(name) = &args.registry_server_name {
        tls = tls.server_name(name).context("--registry-server-name")?;
    }
    let client = RegistryClient::new(ClientOptions {
        allow_http_registry: args.allow_http_registry,
        allow_insecure_registry: args.allow_insecure_registry,
        tls,
        credentials,
        user_agent: format!("signet/{}", env!("CARGO_PKG_VERSION")),
        ..ClientOptions::default()
    })?;
    let repository_override = match std::env::var("COSIGN_REPOSITORY") {
        Ok(r) if !r.is_empty() => Some(
            r.parse::<RepositoryRef>()
                .with_context(|| format!("COSIGN_REPOSITORY={r:?}"))?,
        ),
        _ => None,
    };
    let media_types = match std::env::var("COSIGN_DOCKER_MEDIA_TYPES").as_deref() {
        Ok("1" | "true") => MediaTypes::Docker,
        _ => MediaTypes::Oci,
    };
    Ok(SignatureStore::new(
        client,
        repository_override,
        media_types,
    ))
}
