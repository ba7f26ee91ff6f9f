//! Hash algorithms and digests as Sigstore's documents name them
//! (`SHA2_256` in protobuf-JSON, `sha256` in Rekor v1 entries).

use std::fmt;

use sha2::Digest as _;

use crate::error::FormatError;

/// A hash algorithm of `dev.sigstore.common.v1.HashAlgorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha2_256,
    /// SHA-384.
    Sha2_384,
    /// SHA-512.
    Sha2_512,
    /// SHA3-256 (deprecated in the specification, still readable).
    Sha3_256,
    /// SHA3-384 (deprecated in the specification, still readable).
    Sha3_384,
}

impl HashAlgorithm {
    /// The protobuf enum name (`SHA2_256`).
    pub fn proto_name(self) -> &'static str {
        match self {
            Self::Sha2_256 => "SHA2_256",
            Self::Sha2_384 => "SHA2_384",
            Self::Sha2_512 => "SHA2_512",
            Self::Sha3_256 => "SHA3_256",
            Self::Sha3_384 => "SHA3_384",
        }
    }

    /// Reads a protobuf enum name.
    pub fn from_proto_name(name: &str) -> Option<Self> {
        Some(match name {
            "SHA2_256" => Self::Sha2_256,
            "SHA2_384" => Self::Sha2_384,
            "SHA2_512" => Self::Sha2_512,
            "SHA3_256" => Self::Sha3_256,
            "SHA3_384" => Self::Sha3_384,
            _ => return None,
        })
    }

    /// The protobuf enum names, indexed by number.
    pub const PROTO_NAMES: [&'static str; 6] = [
        "HASH_ALGORITHM_UNSPECIFIED",
        "SHA2_256",
        "SHA2_384",
        "SHA2_512",
        "SHA3_256",
        "SHA3_384",
    ];

    /// The name Rekor v1 entries use (`sha256`), for the SHA-2 family.
    pub fn rekor_name(self) -> Option<&'static str> {
        match self {
            Self::Sha2_256 => Some("sha256"),
            Self::Sha2_384 => Some("sha384"),
            Self::Sha2_512 => Some("sha512"),
            Self::Sha3_256 | Self::Sha3_384 => None,
        }
    }

    /// Reads a Rekor v1 algorithm name.
    pub fn from_rekor_name(name: &str) -> Option<Self> {
        Some(match name {
            "sha256" => Self::Sha2_256,
            "sha384" => Self::Sha2_384,
            "sha512" => Self::Sha2_512,
            _ => return None,
        })
    }

    /// Length of a digest in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Sha2_256 | Self::Sha3_256 => 32,
            Self::Sha2_384 | Self::Sha3_384 => 48,
            Self::Sha2_512 => 64,
        }
    }

    /// Hashes `data`, for the SHA-2 family (SHA-3 is read, never computed).
    pub fn hash(self, data: &[u8]) -> Option<Vec<u8>> {
        match self {
            Self::Sha2_256 => Some(sha2::Sha256::digest(data).to_vec()),
            Self::Sha2_384 => Some(sha2::Sha384::digest(data).to_vec()),
            Self::Sha2_512 => Some(sha2::Sha512::digest(data).to_vec()),
            Self::Sha3_256 | Self::Sha3_384 => None,
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.proto_name())
    }
}

/// A digest with its algorithm (`dev.sigstore.common.v1.HashOutput`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HashOutput {
    algorithm: HashAlgorithm,
    digest: Vec<u8>,
}

impl HashOutput {
    /// A digest, checked to have the algorithm's length.
    pub fn new(algorithm: HashAlgorithm, digest: Vec<u8>) -> Result<Self, FormatError> {
        if digest.len() != algorithm.digest_len() {
            return Err(FormatError::malformed(
                "digest",
                format!(
                    "{algorithm} digest is {} bytes, expected {}",
                    digest.len(),
                    algorithm.digest_len()
                ),
            ));
        }
        Ok(Self { algorithm, digest })
    }

    /// The SHA-256 digest as a [`crate::Digest`].
    pub fn from_sha256(digest: &crate::Digest) -> Self {
        Self {
            algorithm: HashAlgorithm::Sha2_256,
            digest: digest.raw().to_vec(),
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// The raw digest bytes.
    pub fn digest(&self) -> &[u8] {
        &self.digest
    }

    /// The digest as a [`crate::Digest`], if it is SHA-256.
    pub fn as_sha256(&self) -> Option<crate::Digest> {
        match self.algorithm {
            HashAlgorithm::Sha2_256 => {
                let raw: [u8; 32] = self.digest.as_slice().try_into().ok()?;
                Some(crate::Digest::from_raw(raw))
            }
            _ => None,
        }
    }
}

impl fmt::Debug for HashOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, hex::encode(&self.digest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_lengths_are_checked() {
        for alg in [
            HashAlgorithm::Sha2_256,
            HashAlgorithm::Sha2_384,
            HashAlgorithm::Sha2_512,
        ] {
            assert_eq!(HashAlgorithm::from_proto_name(alg.proto_name()), Some(alg));
            assert_eq!(
                HashAlgorithm::from_rekor_name(alg.rekor_name().unwrap()),
                Some(alg)
            );
            let d = alg.hash(b"x").unwrap();
            assert_eq!(d.len(), alg.digest_len());
            assert!(HashOutput::new(alg, d).is_ok());
        }
        assert!(HashOutput::new(HashAlgorithm::Sha2_256, vec![0; 31]).is_err());
        let d = crate::Digest::sha256_of(b"x");
        assert_eq!(HashOutput::from_sha256(&d).as_sha256(), Some(d));
    }
}
