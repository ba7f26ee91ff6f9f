//! Exit codes, as cosign documents them, so scripts written for cosign keep working.

/// No signatures were found for the image.
pub const NO_SIGNATURES: i32 = 10;
/// The image (tag or digest) does not exist.
pub const IMAGE_NOT_FOUND: i32 = 11;
/// Signatures exist but none verifies under the keys and policy.
pub const NO_MATCHING_SIGNATURE: i32 = 12;
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
