use zeroize::Zeroizing;

use crate::KmsError;

/// Supplies key passwords. The CLI implements this with `COSIGN_PASSWORD`, a
/// terminal prompt or standard input; libraries and tests pass a fixed one.
pub trait PasswordSource: Send + Sync {
    /// The password for an existing key named `what`.
    fn existing(&self, what: &str) -> Result<Zeroizing<Vec<u8>>, KmsError>;
    /// A new password (asked twice when interactive) for a key about to be written.
    fn new_password(&self, what: &str) -> Result<Zeroizing<Vec<u8>>, KmsError>;
}

/// A password known in advance.
pub struct StaticPassword(pub Zeroizing<Vec<u8>>);

impl PasswordSource for StaticPassword {
    fn existing(&self, _: &str) -> Result<Zeroizing<Vec<u8>>, KmsError> {
        Ok(self.0.clone())
    }

    fn new_password(&self, _: &str) -> Result<Zeroizing<Vec<u8>>, KmsError> {
        Ok(self.0.clone())
    }
}
