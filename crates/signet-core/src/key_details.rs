//! `dev.sigstore.common.v1.PublicKeyDetails`: how a key is encoded and which
//! signature algorithm it is used with. Trusted roots, Rekor v2 entries and
//! signing requests name keys this way.

use std::fmt;

use crate::hash::HashAlgorithm;

macro_rules! key_details {
    ($($variant:ident => $name:literal, $hash:expr;)*) => {
        /// A key encoding and signature algorithm.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[allow(non_camel_case_types)]
        #[non_exhaustive]
        pub enum PublicKeyDetails {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
            /// A name signet does not know, kept as read.
            Other(String),
        }

        impl PublicKeyDetails {
            /// The protobuf enum name.
            pub fn proto_name(&self) -> &str {
                match self {
                    $(Self::$variant => $name,)*
                    Self::Other(name) => name,
                }
            }

            /// Reads a protobuf enum name; unknown names are kept.
            pub fn from_proto_name(name: &str) -> Self {
                match name {
                    $($name => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }

            /// The digest the signature algorithm signs, for algorithms that
            /// prehash (what a hashedrekord entry records); `None` for pure
            /// Ed25519, ML-DSA and unknown algorithms.
            pub fn hash_algorithm(&self) -> Option<HashAlgorithm> {
                match self {
                    $(Self::$variant => $hash,)*
                    Self::Other(_) => None,
                }
            }
        }
    };
}

key_details! {
    Unspecified => "PUBLIC_KEY_DETAILS_UNSPECIFIED", None;
    Pkcs1RsaPkcs1v5 => "PKCS1_RSA_PKCS1V5", Some(HashAlgorithm::Sha2_256);
    Pkcs1RsaPss => "PKCS1_RSA_PSS", Some(HashAlgorithm::Sha2_256);
    PkixRsaPkcs1v5 => "PKIX_RSA_PKCS1V5", Some(HashAlgorithm::Sha2_256);
    PkixRsaPss => "PKIX_RSA_PSS", Some(HashAlgorithm::Sha2_256);
    PkixRsaPkcs1v15_2048Sha256 => "PKIX_RSA_PKCS1V15_2048_SHA256", Some(HashAlgorithm::Sha2_256);
    PkixRsaPkcs1v15_3072Sha256 => "PKIX_RSA_PKCS1V15_3072_SHA256", Some(HashAlgorithm::Sha2_256);
    PkixRsaPkcs1v15_4096Sha256 => "PKIX_RSA_PKCS1V15_4096_SHA256", Some(HashAlgorithm::Sha2_256);
    PkixRsaPss2048Sha256 => "PKIX_RSA_PSS_2048_SHA256", Some(HashAlgorithm::Sha2_256);
    PkixRsaPss3072Sha256 => "PKIX_RSA_PSS_3072_SHA256", Some(HashAlgorithm::Sha2_256);
    PkixRsaPss4096Sha256 => "PKIX_RSA_PSS_4096_SHA256", Some(HashAlgorithm::Sha2_256);
    PkixEcdsaP256HmacSha256 => "PKIX_ECDSA_P256_HMAC_SHA_256", Some(HashAlgorithm::Sha2_256);
    PkixEcdsaP256Sha256 => "PKIX_ECDSA_P256_SHA_256", Some(HashAlgorithm::Sha2_256);
    PkixEcdsaP384Sha384 => "PKIX_ECDSA_P384_SHA_384", Some(HashAlgorithm::Sha2_384);
    PkixEcdsaP521Sha512 => "PKIX_ECDSA_P521_SHA_512", Some(HashAlgorithm::Sha2_512);
    PkixEd25519 => "PKIX_ED25519", None;
    PkixEd25519Ph => "PKIX_ED25519_PH", Some(HashAlgorithm::Sha2_512);
    PkixEcdsaP384Sha256 => "PKIX_ECDSA_P384_SHA_256", Some(HashAlgorithm::Sha2_256);
    PkixEcdsaP521Sha256 => "PKIX_ECDSA_P521_SHA_256", Some(HashAlgorithm::Sha2_256);
    LmsSha256 => "LMS_SHA256", None;
    LmotsSha256 => "LMOTS_SHA256", None;
    MlDsa44 => "ML_DSA_44", None;
    MlDsa65 => "ML_DSA_65", None;
    MlDsa87 => "ML_DSA_87", None;
}

impl PublicKeyDetails {
    /// Reads a protobuf enum number (protobuf-JSON readers accept numbers).
    pub fn from_proto_number(n: i32) -> Self {
        let name = match n {
            0 => "PUBLIC_KEY_DETAILS_UNSPECIFIED",
            1 => "PKCS1_RSA_PKCS1V5",
            2 => "PKCS1_RSA_PSS",
            3 => "PKIX_RSA_PKCS1V5",
            4 => "PKIX_RSA_PSS",
            5 => "PKIX_ECDSA_P256_SHA_256",
            6 => "PKIX_ECDSA_P256_HMAC_SHA_256",
            7 => "PKIX_ED25519",
            8 => "PKIX_ED25519_PH",
            9 => "PKIX_RSA_PKCS1V15_2048_SHA256",
            10 => "PKIX_RSA_PKCS1V15_3072_SHA256",
            11 => "PKIX_RSA_PKCS1V15_4096_SHA256",
            12 => "PKIX_ECDSA_P384_SHA_384",
            13 => "PKIX_ECDSA_P521_SHA_512",
            14 => "LMS_SHA256",
            15 => "LMOTS_SHA256",
            16 => "PKIX_RSA_PSS_2048_SHA256",
            17 => "PKIX_RSA_PSS_3072_SHA256",
            18 => "PKIX_RSA_PSS_4096_SHA256",
            19 => "PKIX_ECDSA_P384_SHA_256",
            20 => "PKIX_ECDSA_P521_SHA_256",
            21 => "ML_DSA_65",
            22 => "ML_DSA_87",
            23 => "ML_DSA_44",
            other => return Self::Other(other.to_string()),
        };
        Self::from_proto_name(name)
    }

    /// Reads a protobuf-JSON enum value (name or number).
    pub fn from_proto(value: &crate::protojson::Enum) -> Self {
        match value {
            crate::protojson::Enum::Name(n) => Self::from_proto_name(n),
            crate::protojson::Enum::Number(n) => Self::from_proto_number(*n),
        }
    }

    /// Whether the key bytes are a PKIX SubjectPublicKeyInfo (all but the
    /// deprecated raw PKCS#1 RSA encodings).
    pub fn is_pkix(&self) -> bool {
        !matches!(self, Self::Pkcs1RsaPkcs1v5 | Self::Pkcs1RsaPss)
    }
}

impl fmt::Display for PublicKeyDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.proto_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in [
            "PKIX_ECDSA_P256_SHA_256",
            "PKIX_ED25519",
            "PKCS1_RSA_PKCS1V5",
            "ML_DSA_65",
            "SOMETHING_NEW",
        ] {
            assert_eq!(PublicKeyDetails::from_proto_name(name).proto_name(), name);
        }
        assert_eq!(
            PublicKeyDetails::PkixEd25519Ph.hash_algorithm(),
            Some(HashAlgorithm::Sha2_512)
        );
        assert_eq!(PublicKeyDetails::PkixEd25519.hash_algorithm(), None);
        assert!(!PublicKeyDetails::Pkcs1RsaPkcs1v5.is_pkix());
        for n in 0..24 {
            let d = PublicKeyDetails::from_proto_number(n);
            assert!(!matches!(d, PublicKeyDetails::Other(_)), "{n}");
        }
        assert_eq!(
            PublicKeyDetails::from_proto_number(5),
            PublicKeyDetails::PkixEcdsaP256Sha256
        );
    }
}
