//! Exit codes, as cosign documents them, so scripts written for cosign keep working.

/// No signatures were found for the image.
pub const NO_SIGNATURES: i32 = 10;
/// The image (tag or digest) does not exist.
pub const IMAGE_NOT_FOUND: i32 = 11;
/// Signatures exist but none verifies under the keys and policy.
pub const NO_MATCHING_SIGNATURE: i32 = 12;
/// A certificate identity was asked for, but the signatures carry no certificate.
pub const NO_CERTIFICATE: i32 = 13;
/// Anything else.
pub const OTHER: i32 = 1;

/// An error with the exit code it maps to.
pub struct Failure {
    pub code: i32,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn other(error: impl Into<anyhow::Error>) -> Self {
        Self {
            code: OTHER,
            error: error.into(),
        }
    }

    pub fn with_code(code: i32, error: impl Into<anyhow::Error>) -> Self {
        Self {
            code,
            error: error.into(),
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Self::other(e)
    }
}

/// The failures of a command that works on several images. With one image
/// its error is the command's error; with several, each failure is printed
/// when it is met and the command fails with the first one's exit code and a
/// count, so that scripts see cosign's codes either way.
pub struct Batch {
    total: usize,
    failed: usize,
    first: Option<Failure>,
}

impl Batch {
    pub fn new(total: usize) -> Self {
        Self {
            total,
            failed: 0,
            first: None,
        }
    }

    pub fn fail(&mut self, failure: Failure) {
        self.failed += 1;
        if self.total > 1 {
            eprintln!("Error: {:#}", failure.error);
        }
        self.first.get_or_insert(failure);
    }

    /// `outcome` completes "N of M images …", e.g. "failed verification".
    pub fn finish(self, outcome: &str) -> Result<(), Failure> {
        match self.first {
            None => Ok(()),
            Some(f) if self.total == 1 => Err(f),
            Some(f) => Err(Failure::with_code(
                f.code,
                anyhow::anyhow!("{} of {} images {outcome}", self.failed, self.total),
            )),
        }
    }
}
