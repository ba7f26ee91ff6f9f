//! Property tests: every parser of untrusted input returns an error, never
//! panics, on arbitrary and on mutated real input.

use proptest::prelude::*;
use signet_pki::certificate::{Certificate, parse_pem_chain};
use signet_pki::chain::{CertificateAuthority, KeyPurpose, verify_chain};
use signet_pki::profile::FulcioCertificate;
use signet_pki::sct::{
    CtLog, SignedCertificateTimestamp, embedded_scts, parse_sct_list, verify_embedded_scts,
};
use signet_pki::time::{TimeRange, from_unix_seconds};
use signet_pki::timestamp::{
    TimestampAuthority, TimestampOptions, timestamp_token, verify_timestamp_response,
};
use signet_pki::tsa::TimestampRequest;

fn vector(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../tests/vectors/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn github_leaf() -> Vec<u8> {
    Certificate::from_pem(&vector("sigstore-public-good/leaf-github-workflow.pem"))
        .unwrap()
        .as_der()
        .to_vec()
}

fn sct_list() -> Vec<u8> {
    // The TLS list inside the leaf's SCT extension.
    let leaf = Certificate::from_der(&github_leaf()).unwrap();
    let scts = embedded_scts(&leaf).unwrap().unwrap();
    signet_pki::sct::encode_sct_list(&scts).unwrap()
}

fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8)]) -> Vec<u8> {
    let len = bytes.len();
    for (pos, value) in edits {
        if let Some(b) = bytes.get_mut(pos % len) {
            *b = *value;
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn certificates_and_profiles(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let der = mutate(github_leaf(), &edits);
        if let Ok(cert) = Certificate::from_der(&der) {
            let _ = FulcioCertificate::parse(&cert);
            let ca = CertificateAuthority::new(
                parse_pem_chain(&vector("sigstore-public-good/fulcio-chain.pem")).unwrap(),
                TimeRange::UNBOUNDED,
            ).unwrap();
            let at = from_unix_seconds(1710888076);
            if let Ok(chain) = verify_chain(&cert, &[ca], at, KeyPurpose::CodeSigning) {
                // Only an unchanged TBS can verify.
                let original = Certificate::from_der(&github_leaf()).unwrap();
                prop_assert_eq!(chain.certificates[0].tbs_der(), original.tbs_der());
            }
        }
    }

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = Certificate::from_der(&bytes);
        let _ = parse_pem_chain(&bytes);
        let _ = parse_sct_list(&bytes);
        let _ = SignedCertificateTimestamp::from_tls(&bytes);
        let _ = SignedCertificateTimestamp::from_detached_json(&bytes);
        let _ = timestamp_token(&bytes);
        let _ = TimestampRequest::from_der(&bytes);
        let _ = TimestampRequest::from_json(&bytes);
    }

    #[test]
    fn sct_lists(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let bytes = mutate(sct_list(), &edits);
        if let Ok(scts) = parse_sct_list(&bytes) {
            for sct in scts {
                let _ = sct.to_detached_json();
                if let Ok(tls) = sct.to_tls() {
                    prop_assert_eq!(SignedCertificateTimestamp::from_tls(&tls).unwrap(), sct);
                }
            }
        }
    }

    #[test]
    fn embedded_sct_verification(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..3)) {
        let der = mutate(github_leaf(), &edits);
        if let Ok(cert) = Certificate::from_der(&der) {
            let issuer = parse_pem_chain(&vector("sigstore-public-good/fulcio-chain.pem")).unwrap().remove(0);
            let pem = String::from_utf8(vector("sigstore-public-good/ctfe-2022.pub")).unwrap();
            let (_, key) = pem_rfc7468::decode_vec(pem.as_bytes()).unwrap();
            let log = CtLog::new("ctfe", &key, TimeRange::UNBOUNDED).unwrap();
            let _ = verify_embedded_scts(&cert, &issuer, &[log], 1);
        }
    }

    #[test]
    fn timestamp_responses(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let response = mutate(vector("sigstore-staging/timestamp-response.der"), &edits);
        let chain = parse_pem_chain(&vector("sigstore-staging/tsa-chain.pem")).unwrap();
        let tsa = [TimestampAuthority::new(chain, TimeRange::UNBOUNDED).unwrap()];
        let _ = verify_timestamp_response(&response, &vector("sigstore-staging/signature.bin"), &tsa, &TimestampOptions::default());
    }

    #[test]
    fn timestamp_requests(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let der = TimestampRequest::for_data(b"x", signet_pki::algorithm::HashAlgorithm::Sha256).to_der().unwrap();
        let _ = TimestampRequest::from_der(&mutate(der, &edits));
        let json = br#"{"artifactHash":"LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564=","hashAlgorithm":"sha256","nonce":5}"#.to_vec();
        let _ = TimestampRequest::from_json(&mutate(json, &edits));
    }
}
