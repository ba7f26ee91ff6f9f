//! Making a Sigstore signature from the pieces: an ephemeral key certified
//! by Fulcio (or a key the user holds), RFC 3161 timestamps over the
//! signature, and transparency-log entries, checked and turned into what is
//! stored: a v0.3 bundle, or cosign's legacy `.sig` layer annotations.
//!
//! ```text
//! token ──► KeylessSigner::new ──► ephemeral P-256 key (memory only)
//!                                   + Fulcio certificate (chain, SCT checked)
//! payload ──► Signer::sign ──► signature
//! signature ──► Recorder::record ──► timestamps (TSA), then log entries
//!               (Rekor v1: hashedrekord 0.0.1, or dsse 0.0.1 for an
//!               envelope; Rekor v2: hashedrekord 0.0.2)
//! ──► bundle (v0.3) / legacy_annotations (.sig layer)
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use signet_core::Digest;
use signet_core::bundle::{
    BUNDLE_V03_MEDIA_TYPE, Bundle, BundleContent, MessageSignature, RekorBundle,
    TransparencyLogEntry, VerificationMaterial, rfc3161_annotation,
};
use signet_core::dsse::Envelope;
use signet_core::hash::HashOutput;
use signet_core::keys::{BoxFuture, PrivateKey, PublicKey, Signer};
use signet_core::rekor::V002Verifier;
use signet_core::signature_manifest::{
    CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, REKOR_BUNDLE_ANNOTATION, RFC3161_ANNOTATION,
};
use signet_core::{Artifact, KeyError};
use signet_pki::certificate::{Certificate, chain_to_pem};
use signet_trust::key_details_of;

use crate::error::SigningError;
use crate::fulcio::{FulcioClient, SigningCertificate};
use crate::oidc::IdentityToken;
use crate::rekor::{Proposal, RekorClient};
use crate::tsa::{SignedTimestamp, TimestampClient};

/// An ephemeral P-256 key certified by Fulcio for one identity. The private
/// key exists only in this value's memory (and is wiped when it drops); it
/// is never written anywhere.
pub struct KeylessSigner {
    key: PrivateKey,
    public: PublicKey,
    certificate: SigningCertificate,
}

impl std::fmt::Debug for KeylessSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeylessSigner")
            .field("certificate", &self.certificate.leaf.describe())
            .finish_non_exhaustive()
    }
}

impl KeylessSigner {
    /// Makes a key and has Fulcio certify it for `token`'s identity.
    pub async fn new(fulcio: &FulcioClient, token: &IdentityToken) -> Result<Self, SigningError> {
        token.check_not_expired(SystemTime::now())?;
        let key = PrivateKey::generate_p256()?;
        let certificate = fulcio.request_certificate(token, &key).await?;
        Ok(Self {
            public: key.public_key(),
            key,
            certificate,
        })
    }

    /// The certificate and its chain.
    pub fn certificate(&self) -> &SigningCertificate {
        &self.certificate
    }

    /// The identity the certificate names (its SAN), for messages.
    pub fn identity(&self) -> String {
        self.certificate
            .identity
            .identity()
            .map(|san| san.value().to_owned())
            .unwrap_or_else(|| "an unknown identity".into())
    }
}

impl Signer for KeylessSigner {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn sign<'a>(&'a self, message: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, KeyError>> {
        Box::pin(async move { self.key.sign(message) })
    }

    fn sign_artifact<'a>(
        &'a self,
        artifact: &'a Artifact,
    ) -> BoxFuture<'a, Result<Vec<u8>, KeyError>> {
        Box::pin(async move { self.key.sign_artifact(artifact) })
    }

    fn describe(&self) -> String {
        format!("an ephemeral key certified for {}", self.identity())
    }
}

/// What vouches for a signature's key: a Fulcio certificate, or a public
/// key the verifier holds.
#[derive(Debug, Clone)]
pub enum SignerMaterial {
    /// A keyless signature.
    Certificate(Box<SigningCertificate>),
    /// A signature by a key pair.
    PublicKey(PublicKey),
}

impl SignerMaterial {
    fn leaf(&self) -> Option<&Certificate> {
        match self {
            Self::Certificate(c) => Some(&c.leaf),
            Self::PublicKey(_) => None,
        }
    }

    fn public_key(&self) -> Result<PublicKey, SigningError> {
        match self {
            Self::Certificate(c) => c
                .leaf
                .public_key()
                .map_err(|e| SigningError::Trust(format!("certificate key: {e}"))),
            Self::PublicKey(k) => Ok(k.clone()),
        }
    }

    fn verifier_pem(&self) -> Vec<u8> {
        match self {
            Self::Certificate(c) => c.leaf.to_pem().into_bytes(),
            Self::PublicKey(k) => k.to_pem().into_bytes(),
        }
    }
}

/// The log and timestamp evidence for one signature.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// Checked transparency-log entries, one per log written to.
    pub tlog_entries: Vec<TransparencyLogEntry>,
    /// Checked RFC 3161 timestamps over the signature.
    pub timestamps: Vec<SignedTimestamp>,
}

/// The logs and timestamp authorities a signature is recorded with.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    /// Logs to write to.
    pub rekor: Vec<RekorClient>,
    /// Timestamp authorities to ask.
    pub tsa: Vec<TimestampClient>,
}

impl Recorder {
    /// Timestamps the signature, then records it in every log. For a
    /// certificate, every time the services state must fall inside its
    /// validity, or the signature could never verify.
    pub async fn record(
        &self,
        content: &SignedContent<'_>,
        material: &SignerMaterial,
    ) -> Result<Evidence, SigningError> {
        let signature = content.signature()?;
        let mut evidence = Evidence::default();
        for tsa in &self.tsa {
            let stamp = tsa.timestamp(signature).await?;
            if let Some(leaf) = material.leaf() {
                check_within(
                    leaf,
                    stamp.time,
                    &format!("the timestamp from {}", tsa.url()),
                )?;
            }
            evidence.timestamps.push(stamp);
        }
        for log in &self.rekor {
            let proposal = match log {
                RekorClient::V1(_) => content.v1_proposal(material),
                RekorClient::V2(c) => {
                    if evidence.timestamps.is_empty() {
                        return Err(SigningError::Config(format!(
                            "the Rekor v2 log {} records no signing time; it needs an RFC 3161 timestamp authority, and none is configured",
                            c.url()
                        )));
                    }
                    content.v2_proposal(material)?
                }
            };
            let entry = log.create_entry(&proposal).await?;
            if let Some(leaf) = material.leaf()
                && entry.integrated_time != 0
            {
                let at = UNIX_EPOCH
                    + Duration::from_secs(u64::try_from(entry.integrated_time).unwrap_or(0));
                check_within(leaf, at, &format!("the log entry of {}", log.url()))?;
            }
            evidence.tlog_entries.push(entry);
        }
        Ok(evidence)
    }
}

/// What was signed, as a log records it.
#[derive(Debug, Clone, Copy)]
pub enum SignedContent<'a> {
    /// A signature over an artifact (a blob, or an image's simple-signing
    /// payload) whose SHA-256 is `digest`.
    Message {
        /// SHA-256 of the signed bytes.
        digest: &'a Digest,
        /// The signature.
        signature: &'a [u8],
    },
    /// A DSSE envelope with one signature.
    Dsse(&'a Envelope),
}

impl SignedContent<'_> {
    fn signature(&self) -> Result<&[u8], SigningError> {
        match self {
            Self::Message { signature, .. } => Ok(signature),
            Self::Dsse(envelope) => match envelope.signatures.as_slice() {
                [one] => Ok(&one.sig),
                other => Err(SigningError::Config(format!(
                    "a DSSE envelope to record must carry one signature, not {}",
                    other.len()
                ))),
            },
        }
    }

    /// Rekor v1: `hashedrekord` 0.0.1 for a message, `dsse` 0.0.1 for an
    /// envelope (what cosign and sigstore-go upload).
    fn v1_proposal(&self, material: &SignerMaterial) -> Proposal {
        match self {
            Self::Message { digest, signature } => Proposal::HashedRekordV001 {
                digest: (*digest).clone(),
                signature: signature.to_vec(),
                verifier_pem: material.verifier_pem(),
            },
            Self::Dsse(envelope) => Proposal::DsseV001 {
                envelope_json: envelope.to_json(),
                verifiers_pem: vec![material.verifier_pem()],
            },
        }
    }

    /// Rekor v2 takes `hashedrekord` 0.0.2 only; an envelope is logged as a
    /// signature over the digest of its pre-authentication encoding.
    fn v2_proposal(&self, material: &SignerMaterial) -> Result<Proposal, SigningError> {
        let (digest, signature) = match self {
            Self::Message { digest, signature } => ((*digest).clone(), signature.to_vec()),
            Self::Dsse(envelope) => (
                Digest::sha256_of(&envelope.pae()),
                self.signature()?.to_vec(),
            ),
        };
        let key = material.public_key()?;
        Ok(Proposal::HashedRekordV002 {
            digest,
            signature,
            verifier: match material {
                SignerMaterial::Certificate(c) => {
                    V002Verifier::X509Certificate(c.leaf.as_der().to_vec())
                }
                SignerMaterial::PublicKey(k) => V002Verifier::PublicKey(k.to_spki_der()),
            },
            key_details: key_details_of(&key).map_err(|e| SigningError::Config(e.to_string()))?,
        })
    }
}

fn check_within(leaf: &Certificate, at: SystemTime, what: &str) -> Result<(), SigningError> {
    if at < leaf.not_before() || at > leaf.not_after() {
        return Err(SigningError::Timing(format!(
            "{what} is dated {}, outside the certificate's validity {} to {}",
            signet_pki::time::rfc3339(at),
            signet_pki::time::rfc3339(leaf.not_before()),
            signet_pki::time::rfc3339(leaf.not_after())
        )));
    }
    Ok(())
}

/// A v0.3 bundle: the leaf certificate (never the chain or root) or a key
/// hint, the log entries, the timestamps, and the signature or envelope.
pub fn bundle(
    content: &SignedContent<'_>,
    material: &SignerMaterial,
    evidence: &Evidence,
) -> Bundle {
    let verification_material = match material {
        SignerMaterial::Certificate(c) => VerificationMaterial::CertificateDer {
            chain: vec![c.leaf.as_der().to_vec()],
        },
        SignerMaterial::PublicKey(k) => VerificationMaterial::PublicKey {
            hint: Some(k.hint()).filter(|h| !h.is_empty()),
        },
    };
    Bundle {
        media_type: BUNDLE_V03_MEDIA_TYPE.to_owned(),
        verification_material,
        tlog_entries: evidence.tlog_entries.clone(),
        rfc3161_timestamps: evidence
            .timestamps
            .iter()
            .map(|t| t.response.clone())
            .collect(),
        content: match content {
            SignedContent::Message { digest, signature } => {
                BundleContent::MessageSignature(MessageSignature {
                    message_digest: HashOutput::from_sha256(digest),
                    signature: signature.to_vec(),
                })
            }
            SignedContent::Dsse(envelope) => BundleContent::DsseEnvelope((*envelope).clone()),
        },
    }
}

/// The annotations cosign puts on a `.sig` layer besides the signature:
/// `certificate` (leaf PEM) and `chain` (the rest of Fulcio's chain, PEM)
/// for a keyless signature, `bundle` (the Rekor v1 entry with its SET) and
/// `rfc3161timestamp` when there is such evidence.
pub fn legacy_annotations(
    material: &SignerMaterial,
    evidence: &Evidence,
) -> BTreeMap<String, String> {
    let mut annotations = BTreeMap::new();
    if let SignerMaterial::Certificate(c) = material {
        annotations.insert(CERTIFICATE_ANNOTATION.to_owned(), c.leaf.to_pem());
        if !c.chain.is_empty() {
            annotations.insert(CHAIN_ANNOTATION.to_owned(), chain_to_pem(&c.chain));
        }
    }
    if let Some(rekor) = evidence
        .tlog_entries
        .iter()
        .find_map(RekorBundle::from_tlog_entry)
    {
        annotations.insert(REKOR_BUNDLE_ANNOTATION.to_owned(), rekor.to_annotation());
    }
    if let Some(stamp) = evidence.timestamps.first() {
        annotations.insert(
            RFC3161_ANNOTATION.to_owned(),
            rfc3161_annotation(&stamp.response),
        );
    }
    annotations
}

/// The service clients for one signing command.
#[derive(Debug, Clone)]
pub struct Connected {
    /// The Fulcio, for keyless signatures.
    pub fulcio: FulcioClient,
    /// The logs and timestamp authorities.
    pub recorder: Recorder,
}

/// Builds the clients for `services`, each checking answers against `root`.
/// Nothing is contacted yet.
pub fn connect(
    http: &crate::HttpClient,
    services: &crate::services::Services,
    root: &signet_trust::TrustedRoot,
    require_sct: bool,
) -> Result<Connected, SigningError> {
    let fulcio = FulcioClient::new(
        http.clone(),
        &services.fulcio,
        crate::trust::certificate_trust(root, require_sct)?,
    )?;
    let mut rekor = Vec::new();
    for log in &services.rekor {
        rekor.push(match log.major_version {
            1 => RekorClient::V1(crate::rekor::RekorV1Client::new(
                http.clone(),
                &log.url,
                root.tlogs.clone(),
            )?),
            2 => RekorClient::V2(crate::rekor::RekorV2Client::new(
                http.clone(),
                &log.url,
                root.tlogs.clone(),
            )?),
            v => {
                return Err(SigningError::Config(format!(
                    "Rekor API version {v} of {} is not supported",
                    log.url
                )));
            }
        });
    }
    let mut tsa = Vec::new();
    if !services.tsa.is_empty() {
        let authorities = crate::trust::timestamp_authorities(root)?;
        for url in &services.tsa {
            tsa.push(TimestampClient::new(
                http.clone(),
                url,
                authorities.clone(),
            )?);
        }
    }
    Ok(Connected {
        fulcio,
        recorder: Recorder { rekor, tsa },
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::Router;
    use axum::body::Bytes;
    use axum::routing::post;
    use signet_core::bundle::BundleContent;
    use signet_core::keys::LocalSigner;
    use signet_core::rekor::LoggedEntry;
    use signet_pki::tsa::TimestampRequest;

    use super::*;
    use crate::rekor::tests::{V1Fault, V2Fault, v1_log, v2_log};
    use crate::test_pki::{TestFulcio, TestTsa};
    use crate::test_server::serve;

    async fn tsa() -> TimestampClient {
        let tsa = Arc::new(TestTsa::new());
        let signer = tsa.clone();
        let router = Router::new().route(
            "/api/v1/timestamp",
            post(move |body: Bytes| {
                let tsa = signer.clone();
                async move {
                    let request = TimestampRequest::from_der(&body).unwrap();
                    tsa.signer.respond(&request, SystemTime::now()).unwrap()
                }
            }),
        );
        let url = format!("{}/api/v1/timestamp", serve(router).await);
        TimestampClient::new(
            crate::HttpClient::new(&Default::default()).unwrap(),
            &url,
            vec![tsa.authority()],
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_key_signature_is_timestamped_and_logged_in_rekor_v2() {
        let (log, _) = v2_log(V2Fault::None).await;
        let recorder = Recorder {
            rekor: vec![RekorClient::V2(log)],
            tsa: vec![tsa().await],
        };
        let signer = LocalSigner::new(PrivateKey::generate_p256().unwrap(), "test key");
        let material = SignerMaterial::PublicKey(signer.public_key().clone());
        let artifact = Artifact::from_bytes(b"artifact".to_vec());
        let signature = signer.sign_artifact(&artifact).await.unwrap();
        let content = SignedContent::Message {
            digest: artifact.digest(),
            signature: &signature,
        };
        let evidence = recorder.record(&content, &material).await.unwrap();
        assert_eq!(evidence.timestamps.len(), 1);
        assert_eq!(evidence.tlog_entries[0].kind_version.version, "0.0.2");
        let written = bundle(&content, &material, &evidence).to_json();
        let read = Bundle::parse(written.as_bytes()).unwrap();
        assert_eq!(read.rfc3161_timestamps.len(), 1);
        assert!(matches!(
            read.verification_material,
            VerificationMaterial::PublicKey { .. }
        ));
        // A key signature's legacy annotations: the timestamp only (Rekor v2
        // has no SET for cosign's bundle annotation).
        let annotations = legacy_annotations(&material, &evidence);
        assert_eq!(annotations.keys().collect::<Vec<_>>(), [RFC3161_ANNOTATION]);
    }

    #[tokio::test]
    async fn a_dsse_envelope_goes_to_rekor_v2_as_a_hashedrekord_over_its_pae() {
        let (log, _) = v2_log(V2Fault::None).await;
        let recorder = Recorder {
            rekor: vec![RekorClient::V2(log)],
            tsa: vec![tsa().await],
        };
        let key = PrivateKey::generate_p256().unwrap();
        let payload = b"{\"_type\":\"https://in-toto.io/Statement/v1\"}".to_vec();
        let pae = signet_core::dsse::pae("application/vnd.in-toto+json", &payload);
        let envelope = Envelope {
            payload,
            payload_type: "application/vnd.in-toto+json".into(),
            signatures: vec![signet_core::dsse::Signature {
                sig: key.sign(&pae).unwrap(),
                keyid: String::new(),
            }],
        };
        let material = SignerMaterial::PublicKey(key.public_key());
        let evidence = recorder
            .record(&SignedContent::Dsse(&envelope), &material)
            .await
            .unwrap();
        let LoggedEntry::HashedRekordV002(logged) =
            LoggedEntry::parse(&evidence.tlog_entries[0].canonicalized_body).unwrap()
        else {
            panic!("not hashedrekord 0.0.2");
        };
        assert_eq!(logged.data.digest(), Digest::sha256_of(&pae).raw());
        let b = bundle(&SignedContent::Dsse(&envelope), &material, &evidence);
        assert!(matches!(b.content, BundleContent::DsseEnvelope(_)));
    }

    #[tokio::test]
    async fn rekor_v2_without_a_timestamp_authority_is_refused() {
        let (log, _) = v2_log(V2Fault::None).await;
        let recorder = Recorder {
            rekor: vec![RekorClient::V2(log)],
            tsa: vec![],
        };
        let key = PrivateKey::generate_p256().unwrap();
        let e = recorder
            .record(
                &SignedContent::Message {
                    digest: &Digest::sha256_of(b"a"),
                    signature: &key.sign(b"a").unwrap(),
                },
                &SignerMaterial::PublicKey(key.public_key()),
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs an RFC 3161 timestamp authority"), "{e}");
    }

    #[tokio::test]
    async fn a_keyless_signature_logged_in_rekor_v1_gets_cosigns_annotations() {
        let (log, _) = v1_log(V1Fault::None).await;
        let recorder = Recorder {
            rekor: vec![RekorClient::V1(log)],
            tsa: vec![tsa().await],
        };
        let fulcio = TestFulcio::new();
        let key = PrivateKey::generate_p256().unwrap();
        let issued = fulcio.issue(key.public_key().to_spki_der(), "dev@example.test");
        let certificate = SigningCertificate {
            identity: signet_pki::profile::FulcioCertificate::parse(&issued.certificate).unwrap(),
            leaf: issued.certificate.clone(),
            chain: issued.chain[1..].to_vec(),
            detached_sct: None,
        };
        let material = SignerMaterial::Certificate(Box::new(certificate));
        let signature = key.sign(b"payload").unwrap();
        let content = SignedContent::Message {
            digest: &Digest::sha256_of(b"payload"),
            signature: &signature,
        };
        // The synthetic log integrates at a fixed time in 2027, outside the
        // ten-minute certificate: the signature could never verify.
        let e = recorder
            .record(&content, &material)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("signing time: the log entry of http://127.0.0.1:")
                && e.contains("outside the certificate's validity"),
            "{e}"
        );
        // Without the log, the timestamp fits and the annotations follow
        // cosign: the leaf, the chain, the timestamp.
        let recorder = Recorder {
            rekor: vec![],
            tsa: recorder.tsa,
        };
        let evidence = recorder.record(&content, &material).await.unwrap();
        let annotations = legacy_annotations(&material, &evidence);
        assert!(annotations[CERTIFICATE_ANNOTATION].starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(
            annotations[CHAIN_ANNOTATION]
                .matches("BEGIN CERTIFICATE")
                .count(),
            2
        );
        assert!(annotations.contains_key(RFC3161_ANNOTATION));
        let b = bundle(&content, &material, &evidence);
        assert_eq!(b.verification_material.certificates().len(), 1);
    }
}
