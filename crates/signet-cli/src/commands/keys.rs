//! generate-key-pair, import-key-pair, public-key.

use std::path::PathBuf;

use anyhow::Context;
use signet_core::keys::{EncryptedKeyOptions, PrivateKey, encrypt_private_key};
use signet_kms::{KeyRef, files};
use zeroize::Zeroizing;

use crate::args::{GenerateKeyPairArgs, ImportKeyPairArgs, PublicKeyArgs};
use crate::exit::Failure;
use crate::password::CliPasswords;
use signet_kms::PasswordSource;

pub async fn generate_key_pair(args: GenerateKeyPairArgs) -> Result<(), Failure> {
    let passwords = CliPasswords::new();
    let public_path = PathBuf::from(format!("{}.pub", args.output_key_prefix));
    if let Some(kms) = &args.kms {
        let target: KeyRef = kms.parse()?;
        files::ensure_absent(&[&public_path])?;
        let generated = signet_kms::generate(&target, &passwords).await?;
        files::write_new(&public_path, generated.public.to_pem().as_bytes(), 0o644)?;
        eprintln!("Key pair created in {}", generated.location);
        eprintln!("Public key written to {}", public_path.display());
        return Ok(());
    }
    let private_path = PathBuf::from(format!("{}.key", args.output_key_prefix));
    // Refuse before asking for a password or doing any work.
    files::ensure_absent(&[&private_path, &public_path])?;
    let password = passwords.new_password(&private_path.display().to_string())?;
    let key = PrivateKey::generate_p256()?;
    write_key_pair(&key, &password, &private_path, &public_path).await
}

pub async fn import_key_pair(args: ImportKeyPairArgs) -> Result<(), Failure> {
    let private_path = PathBuf::from(format!("{}.key", args.output_key_prefix));
    let public_path = PathBuf::from(format!("{}.pub", args.output_key_prefix));
    files::ensure_absent(&[&private_path, &public_path])?;
    let pem = files::read_key_file(&args.key)?;
    let key =
        PrivateKey::from_unencrypted_pem(&pem).with_context(|| args.key.display().to_string())?;
    let password = CliPasswords::new().new_password(&private_path.display().to_string())?;
    write_key_pair(&key, &password, &private_path, &public_path).await
}

async fn write_key_pair(
    key: &PrivateKey,
    password: &[u8],
    private_path: &std::path::Path,
    public_path: &std::path::Path,
) -> Result<(), Failure> {
    let private_pem = Zeroizing::new(encrypt_private_key(
        key,
        password,
        EncryptedKeyOptions::default(),
    )?);
    files::write_new(private_path, private_pem.as_bytes(), 0o600)?;
    if let Err(e) = files::write_new(public_path, key.public_key().to_pem().as_bytes(), 0o644) {
        // Leave no half pair behind: the private key we just wrote goes too.
        let _ = std::fs::remove_file(private_path);
        return Err(e.into());
    }
    eprintln!("Private key written to {}", private_path.display());
    eprintln!("Public key written to {}", public_path.display());
    Ok(())
}

pub async fn public_key(args: PublicKeyArgs) -> Result<(), Failure> {
    let Some(key) = &args.key else {
        return Err(Failure::other(anyhow::anyhow!(
            "no key given: pass --key KEYREF"
        )));
    };
    let key: KeyRef = key.parse()?;
    let public = signet_kms::load_public_key(&key, &CliPasswords::new()).await?;
    match &args.outfile {
        Some(path) => {
            files::write_new(path, public.to_pem().as_bytes(), 0o644)?;
            eprintln!("Public key written to {}", path.display());
        }
        None => crate::output::print(&public.to_pem())?,
    }
    Ok(())
}
