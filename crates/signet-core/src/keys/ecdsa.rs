//! ECDSA signature checks, done by aws-lc.
//!
//! Keys and signatures are parsed with the RustCrypto types the rest of the
//! crate uses (so that malformed input is refused, and named, the same way
//! everywhere), and the curve arithmetic of the check itself runs in aws-lc,
//! the library rustls already links into every signet binary. A profile of
//! keyless verification put two thirds of its CPU time in the pure-Rust P-256
//! arithmetic: one check took about 260 µs there and about 50 µs in aws-lc,
//! and a keyless verification makes five (certificate chain, SCT, SET,
//! checkpoint, artifact). `docs/ARCHITECTURE.md` has the reasoning.

use aws_lc_rs::digest::{self, Digest as LcDigest};
use aws_lc_rs::signature::{self, EcdsaVerificationAlgorithm, UnparsedPublicKey};

/// The public half of an ECDSA key, by curve.
#[derive(Clone, Copy)]
pub(crate) enum EcdsaKey<'a> {
    P256(&'a p256::ecdsa::VerifyingKey),
    P384(&'a p384::ecdsa::VerifyingKey),
}

/// Why an ECDSA check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EcdsaFailure {
    /// The signature is not a well-formed ASN.1 DER ECDSA signature for the
    /// key's curve.
    Encoding,
    /// Well-formed, but not made by this key over this digest.
    Mismatch,
}

/// Checks `signature` (ASN.1 DER) over a message whose hash is `prehash`.
/// The hash function is the one whose output has `prehash`'s length
/// (SHA-256, SHA-384 or SHA-512); any other length is a mismatch.
pub(crate) fn verify_prehash(
    key: EcdsaKey<'_>,
    prehash: &[u8],
    signature: &[u8],
) -> Result<(), EcdsaFailure> {
    // Parse with RustCrypto first: the same strict DER rules as before, and
    // r and s in range for the curve.
    let point = match key {
        EcdsaKey::P256(k) => {
            p256::ecdsa::Signature::from_der(signature).map_err(|_| EcdsaFailure::Encoding)?;
            k.to_sec1_point(false).as_bytes().to_vec()
        }
        EcdsaKey::P384(k) => {
            p384::ecdsa::Signature::from_der(signature).map_err(|_| EcdsaFailure::Encoding)?;
            k.to_sec1_point(false).as_bytes().to_vec()
        }
    };
    let (algorithm, hash): (&'static EcdsaVerificationAlgorithm, _) = match (key, prehash.len()) {
        (EcdsaKey::P256(_), 32) => (&signature::ECDSA_P256_SHA256_ASN1, &digest::SHA256),
        (EcdsaKey::P256(_), 48) => (&signature::ECDSA_P256_SHA384_ASN1, &digest::SHA384),
        (EcdsaKey::P256(_), 64) => (&signature::ECDSA_P256_SHA512_ASN1, &digest::SHA512),
        (EcdsaKey::P384(_), 32) => (&signature::ECDSA_P384_SHA256_ASN1, &digest::SHA256),
        (EcdsaKey::P384(_), 48) => (&signature::ECDSA_P384_SHA384_ASN1, &digest::SHA384),
        (EcdsaKey::P384(_), 64) => (&signature::ECDSA_P384_SHA512_ASN1, &digest::SHA512),
        _ => return Err(EcdsaFailure::Mismatch),
    };
    let prehash = LcDigest::import_less_safe(prehash, hash).map_err(|_| EcdsaFailure::Mismatch)?;
    UnparsedPublicKey::new(algorithm, point)
        .verify_digest(&prehash, signature)
        .map_err(|_| EcdsaFailure::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    use sha2::{Digest as _, Sha256, Sha384, Sha512};

    /// aws-lc and RustCrypto agree: signatures RustCrypto makes verify, and
    /// one flipped bit of the digest or the signature fails.
    #[test]
    fn agrees_with_rustcrypto_on_both_curves_and_every_hash() {
        let p256_key = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let p384_key = p384::ecdsa::SigningKey::from_slice(&[9u8; 48]).unwrap();
        let hashes: [Vec<u8>; 3] = [
            Sha256::digest(b"signet").to_vec(),
            Sha384::digest(b"signet").to_vec(),
            Sha512::digest(b"signet").to_vec(),
        ];
        for prehash in &hashes {
            let s256: p256::ecdsa::Signature = p256_key.sign_prehash(prehash).unwrap();
            let s384: p384::ecdsa::Signature = p384_key.sign_prehash(prehash).unwrap();
            let cases = [
                (
                    EcdsaKey::P256(p256_key.verifying_key()),
                    s256.to_der().as_bytes().to_vec(),
                ),
                (
                    EcdsaKey::P384(p384_key.verifying_key()),
                    s384.to_der().as_bytes().to_vec(),
                ),
            ];
            for (key, sig) in cases {
                assert_eq!(verify_prehash(key, prehash, &sig), Ok(()));
                let mut other = prehash.clone();
                other[0] ^= 1;
                assert_eq!(
                    verify_prehash(key, &other, &sig),
                    Err(EcdsaFailure::Mismatch)
                );
                let mut bad = sig.clone();
                let last = bad.len() - 1;
                bad[last] ^= 1;
                assert!(verify_prehash(key, prehash, &bad).is_err());
                assert_eq!(
                    verify_prehash(key, prehash, b"\x30\x00"),
                    Err(EcdsaFailure::Encoding)
                );
                assert_eq!(
                    verify_prehash(key, &prehash[..20], &sig),
                    Err(EcdsaFailure::Mismatch)
                );
            }
        }
    }

    /// High-S signatures (which Go's ECDSA produces half of the time)
    /// verify, as they did with RustCrypto.
    #[test]
    fn high_s_signatures_verify() {
        let key = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let prehash = Sha256::digest(b"signet");
        let sig: p256::ecdsa::Signature = key.sign_prehash(&prehash).unwrap();
        let (r, s) = sig.split_scalars();
        let flipped = p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
        // (r, s) and (r, n - s) are both valid; exactly one is high-S.
        assert!((sig.normalize_s() == sig) != (flipped.normalize_s() == flipped));
        for sig in [sig, flipped] {
            assert_eq!(
                verify_prehash(
                    EcdsaKey::P256(key.verifying_key()),
                    &prehash,
                    sig.to_der().as_bytes()
                ),
                Ok(())
            );
        }
    }

    /// The key of one curve never verifies a signature of the other.
    #[test]
    fn a_signature_of_another_key_is_a_mismatch() {
        let a = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let b = p256::ecdsa::SigningKey::from_slice(&[8u8; 32]).unwrap();
        let prehash = Sha256::digest(b"signet");
        let sig: p256::ecdsa::Signature = a.sign_prehash(&prehash).unwrap();
        assert_eq!(
            verify_prehash(
                EcdsaKey::P256(b.verifying_key()),
                &prehash,
                sig.to_der().as_bytes()
            ),
            Err(EcdsaFailure::Mismatch)
        );
    }
}
