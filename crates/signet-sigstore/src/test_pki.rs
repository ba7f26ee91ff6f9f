//! In-process Sigstore key material for the clients' unit tests: a Fulcio
//! CA with a CT log, and a TSA, made with `signet-pki`.

use std::time::{Duration, SystemTime};

use signet_core::keys::PrivateKey;
use signet_pki::ca::{CaOptions, KeyAlgorithm, SigningCa, create_fulcio_ca, create_tsa};
use signet_pki::chain::CertificateAuthority;
use signet_pki::issue::{IssuedCertificate, LeafRequest, issue_with_embedded_sct};
use signet_pki::profile::{CiClaims, SubjectAltName};
use signet_pki::sct::{CtLog, CtLogSigner};
use signet_pki::time::TimeRange;
use signet_pki::timestamp::TimestampAuthority;
use signet_pki::tsa::TimestampSigner;

use crate::fulcio::CertificateTrust;

fn options(subject: &str) -> CaOptions {
    let now = SystemTime::now();
    CaOptions {
        subject: subject.into(),
        not_before: now - Duration::from_secs(3600),
        not_after: now + Duration::from_secs(86_400),
    }
}

/// A Fulcio CA with its CT log.
pub(crate) struct TestFulcio {
    pub(crate) ca: SigningCa,
    pub(crate) ct: CtLogSigner,
}

impl TestFulcio {
    pub(crate) fn new() -> Self {
        Self {
            ca: create_fulcio_ca(
                KeyAlgorithm::P256,
                &options("CN=test root,O=signet-test"),
                &options("CN=test issuer,O=signet-test"),
            )
            .unwrap(),
            ct: CtLogSigner::new(PrivateKey::generate_p256().unwrap()).unwrap(),
        }
    }

    pub(crate) fn trust(&self) -> CertificateTrust {
        CertificateTrust {
            authorities: vec![
                CertificateAuthority::new(self.ca.chain().to_vec(), TimeRange::UNBOUNDED).unwrap(),
            ],
            ct_logs: vec![self.ct_log()],
            require_sct: true,
        }
    }

    pub(crate) fn ct_log(&self) -> CtLog {
        CtLog::new(
            "test ct",
            &self.ct.public_key().to_spki_der(),
            TimeRange::UNBOUNDED,
        )
        .unwrap()
    }

    pub(crate) fn issue(&self, spki_der: Vec<u8>, email: &str) -> IssuedCertificate {
        issue_with_embedded_sct(
            &self.ca,
            &self.ct,
            &LeafRequest {
                subject_public_key: spki_der,
                identity: SubjectAltName::Email(email.into()),
                issuer: "https://issuer.example.test".into(),
                claims: CiClaims::default(),
                not_before: SystemTime::now(),
            },
        )
        .unwrap()
    }
}

/// A timestamp authority.
pub(crate) struct TestTsa {
    pub(crate) signer: TimestampSigner,
}

impl TestTsa {
    pub(crate) fn new() -> Self {
        let ca = create_tsa(
            KeyAlgorithm::P256,
            &options("CN=tsa root,O=signet-test"),
            &options("CN=tsa intermediate,O=signet-test"),
            &options("CN=tsa,O=signet-test"),
        )
        .unwrap();
        Self {
            signer: TimestampSigner::new(ca).unwrap(),
        }
    }

    pub(crate) fn authority(&self) -> TimestampAuthority {
        TimestampAuthority::new(self.signer.chain().to_vec(), TimeRange::UNBOUNDED).unwrap()
    }
}
