//! Property tests: every parser of what a service, a token or a cache file
//! hands signet takes arbitrary bytes without panicking.

use proptest::prelude::*;

proptest! {
    #[test]
    fn identity_tokens(text in ".{0,600}") {
        let _ = crate::oidc::IdentityToken::parse(&text, "property");
    }

    #[test]
    fn jwt_shaped_tokens(parts in proptest::collection::vec("[A-Za-z0-9_=-]{0,80}", 3)) {
        let _ = crate::oidc::IdentityToken::parse(&parts.join("."), "property");
    }

    #[test]
    fn fulcio_answers(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let url = url::Url::parse("http://127.0.0.1:1/api/v2/signingCert").unwrap();
        let _ = crate::fulcio::parse_response(&url, &bytes);
    }

    #[test]
    fn pem_chains(text in ".{0,800}") {
        let _ = crate::fulcio::pem_certificates(&text);
        let framed = format!("-----BEGIN CERTIFICATE-----\n{text}\n-----END CERTIFICATE-----\n");
        let _ = crate::fulcio::pem_certificates(&framed);
    }

    #[test]
    fn error_bodies(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let message = crate::http::server_message(&bytes);
        prop_assert!(!message.contains('\n'));
        prop_assert!(message.chars().count() <= 301);
    }

    #[test]
    fn rekor_v1_answers(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = signet_core::bundle::TransparencyLogEntry::from_rekor_v1_response(&bytes);
    }
}
