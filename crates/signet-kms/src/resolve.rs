//! From a [`KeyRef`] to a signer or a public key.

use std::collections::BTreeMap;

use signet_core::KeyError;
use signet_core::keys::{
    EncryptedKeyOptions, LocalSigner, PrivateKey, PublicKey, Signer, decrypt_private_key,
    encrypt_private_key, is_encrypted_private_key,
};
use zeroize::Zeroizing;

use crate::keyref::{KV_PRIVATE_KEY, KV_PUBLIC_KEY};
use crate::vault::{KvKeyPair, TransitSigner, VaultClient};
use crate::{KeyRef, KmsError, PasswordSource, files};

/// A key pair created by [`generate`].
pub struct GeneratedKey {
    /// The public key.
    pub public: PublicKey,
    /// Where it was stored, for messages.
    pub location: String,
}

/// A signer for `key`. Encrypted keys are decrypted in memory only.
pub async fn load_signer(
    key: &KeyRef,
    passwords: &dyn PasswordSource,
) -> Result<Box<dyn Signer>, KmsError> {
    match key {
        KeyRef::VaultTransit { name } => Ok(Box::new(
            TransitSigner::connect(VaultClient::from_env()?, name).await?,
        )),
        KeyRef::VaultKv {
            mount,
            path,
            version,
        } => {
            let secret = VaultClient::from_env()?
                .kv_read_key_pair(mount, path, *version)
                .await?;
            let stored_version = secret.version;
            let private = kv_private_key(key, secret, passwords).await?;
            let signer = LocalSigner::new(private, key.to_string());
            Ok(Box::new(match stored_version {
                Some(v) => signer.with_version(v.to_string()),
                None => signer,
            }))
        }
        KeyRef::File(_) | KeyRef::Env(_) => {
            let private = load_private_key(key, passwords).await?;
            Ok(Box::new(LocalSigner::new(private, key.to_string())))
        }
    }
}

/// The public key for `key`: a public-key PEM as is, the public half of a
/// private key (which may need its password), or the KMS key's public key.
pub async fn load_public_key(
    key: &KeyRef,
    passwords: &dyn PasswordSource,
) -> Result<PublicKey, KmsError> {
    match key {
        KeyRef::VaultTransit { name } => VaultClient::from_env()?.transit_public_key(name).await,
        KeyRef::VaultKv {
            mount,
            path,
            version,
        } => {
            let secret = VaultClient::from_env()?
                .kv_read_key_pair(mount, path, *version)
                .await?;
            match &secret.public_key {
                Some(pem) => PublicKey::from_pem(pem.as_bytes())
                    .map_err(|e| KmsError::key(key.to_string(), e)),
                None => Ok(kv_private_key(key, secret, passwords).await?.public_key()),
            }
        }
        KeyRef::File(_) | KeyRef::Env(_) => {
            let pem = read_pem(key)?;
            if is_encrypted_private_key(&pem) {
                return Ok(decrypt(key, &pem, passwords).await?.public_key());
            }
            PublicKey::from_pem(&pem).map_err(|e| KmsError::key(key.to_string(), e))
        }
    }
}

/// Creates a new key pair inside a KMS: a transit key (`hashivault://`), or an
/// encrypted cosign key pair stored in a new KV secret (`vault-kv://`).
/// Existing KV secrets are never overwritten.
pub async fn generate(
    target: &KeyRef,
    passwords: &dyn PasswordSource,
) -> Result<GeneratedKey, KmsError> {
    match target {
        KeyRef::VaultTransit { name } => {
            let (public, created) = VaultClient::from_env()?.transit_create_key(name).await?;
            Ok(GeneratedKey {
                public,
                location: format!(
                    "{target} ({})",
                    if created {
                        "new transit key"
                    } else {
                        "existing transit key"
                    }
                ),
            })
        }
        KeyRef::VaultKv {
            mount,
            path,
            version,
        } => {
            if version.is_some() {
                return Err(KmsError::InvalidReference {
                    reference: target.to_string(),
                    reason: "a new secret cannot name a version".into(),
                });
            }
            let client = VaultClient::from_env()?;
            let password = passwords.new_password(&target.to_string())?;
            let (private_pem, public) = tokio::task::spawn_blocking(move || {
                let key = PrivateKey::generate_p256()?;
                let pem = Zeroizing::new(encrypt_private_key(
                    &key,
                    &password,
                    EncryptedKeyOptions::default(),
                )?);
                Ok::<_, KeyError>((pem, key.public_key()))
            })
            .await
            .map_err(|e| KmsError::key(target.to_string(), KeyError::Signing(e.to_string())))?
            .map_err(|e| KmsError::key(target.to_string(), e))?;
            let data = BTreeMap::from([
                (KV_PRIVATE_KEY.to_owned(), private_pem.to_string()),
                (KV_PUBLIC_KEY.to_owned(), public.to_pem()),
            ]);
            let written = client.kv_create(mount, path, &data).await?;
            Ok(GeneratedKey {
                public,
                location: format!("{target} (version {written})"),
            })
        }
        _ => Err(KmsError::InvalidReference {
            reference: target.to_string(),
            reason: "--kms takes hashivault://NAME or vault-kv://MOUNT/PATH".into(),
        }),
    }
}

async fn load_private_key(
    key: &KeyRef,
    passwords: &dyn PasswordSource,
) -> Result<PrivateKey, KmsError> {
    match key {
        KeyRef::VaultKv {
            mount,
            path,
            version,
        } => {
            let secret = VaultClient::from_env()?
                .kv_read_key_pair(mount, path, *version)
                .await?;
            kv_private_key(key, secret, passwords).await
        }
        KeyRef::File(_) | KeyRef::Env(_) => {
            let pem = read_pem(key)?;
            if !is_encrypted_private_key(&pem) {
                let label = pem_rfc7468::decode_label(&pem).unwrap_or_default();
                let hint = if PublicKey::from_pem(&pem).is_ok() {
                    "this is a public key; signing needs the private key".to_owned()
                } else if matches!(label, "PRIVATE KEY" | "EC PRIVATE KEY" | "RSA PRIVATE KEY") {
                    "unencrypted private keys are not used directly; run `signet import-key-pair --key FILE` first".to_owned()
                } else {
                    "not a cosign private key (expected PEM type ENCRYPTED SIGSTORE PRIVATE KEY)"
                        .to_owned()
                };
                return Err(KmsError::key(key.to_string(), KeyError::Unsupported(hint)));
            }
            decrypt(key, &pem, passwords).await
        }
        KeyRef::VaultTransit { .. } => Err(KmsError::InvalidReference {
            reference: key.to_string(),
            reason: "a transit key's private half never leaves Vault".into(),
        }),
    }
}

/// Decrypts the private key of a KV secret, with the secret's own password
/// field when it has one. Every copy of the PEM and the password is wiped.
async fn kv_private_key(
    key: &KeyRef,
    mut secret: KvKeyPair,
    passwords: &dyn PasswordSource,
) -> Result<PrivateKey, KmsError> {
    let KeyRef::VaultKv { mount, path, .. } = key else {
        return Err(KmsError::InvalidReference {
            reference: key.to_string(),
            reason: "not a vault-kv:// reference".into(),
        });
    };
    let pem = secret.private_key.take().ok_or_else(|| KmsError::Vault {
        operation: format!("read secret {mount}/{path}"),
        message: format!("secret has no {KV_PRIVATE_KEY:?} field"),
    })?;
    match secret.password.take() {
        // The password's buffer moves into the wiped byte buffer; no copy.
        Some(mut stored) => {
            let password = Zeroizing::new(std::mem::take(&mut *stored).into_bytes());
            decrypt_with(key, pem.as_bytes(), password).await
        }
        None => decrypt(key, pem.as_bytes(), passwords).await,
    }
}

fn read_pem(key: &KeyRef) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    match key {
        KeyRef::File(path) => files::read_key_file(path),
        KeyRef::Env(var) => match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Zeroizing::new(v.into_bytes())),
            _ => Err(KmsError::MissingEnv(var.clone())),
        },
        _ => Err(KmsError::InvalidReference {
            reference: key.to_string(),
            reason: "not a PEM source".into(),
        }),
    }
}

async fn decrypt(
    key: &KeyRef,
    pem: &[u8],
    passwords: &dyn PasswordSource,
) -> Result<PrivateKey, KmsError> {
    let password = passwords.existing(&key.to_string())?;
    decrypt_with(key, pem, password).await
}

async fn decrypt_with(
    key: &KeyRef,
    pem: &[u8],
    password: Zeroizing<Vec<u8>>,
) -> Result<PrivateKey, KmsError> {
    // scrypt takes ~0.1 s of CPU; keep it off the async workers.
    let pem = Zeroizing::new(pem.to_vec());
    tokio::task::spawn_blocking(move || decrypt_private_key(&pem, &password))
        .await
        .map_err(|e| KmsError::key(key.to_string(), KeyError::Signing(e.to_string())))?
        .map_err(|e| KmsError::key(key.to_string(), e))
}
