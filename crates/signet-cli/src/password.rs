//! Key passwords, found as cosign finds them: `COSIGN_PASSWORD` (empty
//! allowed), else a terminal prompt (with confirmation for new keys), else
//! the whole of standard input.

use std::io::IsTerminal;
use std::sync::Mutex;

use signet_kms::{KmsError, PasswordSource};
use zeroize::Zeroizing;

pub struct CliPasswords {
    /// Standard input can be read once; keep what it gave.
    stdin: Mutex<Option<Zeroizing<Vec<u8>>>>,
}

impl CliPasswords {
    pub fn new() -> Self {
        Self {
            stdin: Mutex::new(None),
        }
    }

    fn from_env() -> Option<Zeroizing<Vec<u8>>> {
        std::env::var_os("COSIGN_PASSWORD").map(|p| Zeroizing::new(p.into_encoded_bytes()))
    }

    fn prompt(text: &str) -> Result<Zeroizing<Vec<u8>>, KmsError> {
        rpassword::prompt_password(text)
            .map(|p| Zeroizing::new(p.into_bytes()))
            .map_err(|e| KmsError::Password(format!("cannot read from the terminal: {e}")))
    }

    fn read_stdin(&self) -> Result<Zeroizing<Vec<u8>>, KmsError> {
        let mut cached = self.stdin.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = cached.as_ref() {
            return Ok(p.clone());
        }
        let mut buf = signet_core::limits::read_secret_capped(
            std::io::stdin().lock(),
            signet_core::limits::PASSWORD,
            "standard input",
        )
        .map_err(|e| KmsError::Password(e.to_string()))?;
        // A password piped with echo ends in a newline that is not part of it.
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        *cached = Some(buf.clone());
        Ok(buf)
    }
}

impl PasswordSource for CliPasswords {
    fn existing(&self, what: &str) -> Result<Zeroizing<Vec<u8>>, KmsError> {
        if let Some(p) = Self::from_env() {
            return Ok(p);
        }
        if std::io::stdin().is_terminal() {
            return Self::prompt(&format!("Enter password for private key {what}: "));
        }
        self.read_stdin()
    }

    fn new_password(&self, what: &str) -> Result<Zeroizing<Vec<u8>>, KmsError> {
        if let Some(p) = Self::from_env() {
            return Ok(p);
        }
        if std::io::stdin().is_terminal() {
            let first = Self::prompt(&format!("Enter password for private key {what}: "))?;
            let second = Self::prompt("Enter password for private key again: ")?;
            if first != second {
                return Err(KmsError::Password("the passwords do not match".into()));
            }
            return Ok(first);
        }
        self.read_stdin()
    }
}
