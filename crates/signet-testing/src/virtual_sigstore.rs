//! A Sigstore in memory: a Fulcio CA with a CT log, a Rekor v1 log and a
//! timestamp authority, all signet's own issuing code ([`signet_pki`],
//! [`signet_tlog`]), minting real bundles at chosen times. Verification
//! tests use it to make evidence that is valid in every respect but one.
//!
//! Interoperability is tested against independent implementations (the
//! sigstore-js mock, cosign, sigstore-python); this is for the negative
//! cases those cannot be asked to produce.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signet_core::Digest;
use signet_core::bundle::{
    BUNDLE_V03_MEDIA_TYPE, Bundle, BundleContent, InclusionProof, KindVersion, MessageSignature,
    TransparencyLogEntry, VerificationMaterial,
};
use signet_core::dsse::{Envelope, Signature as DsseSignature};
use signet_core::hash::{HashAlgorithm, HashOutput};
use signet_core::keys::PrivateKey;
use signet_core::rekor::ProposedEntry;
use signet_pki::ca::{CaOptions, KeyAlgorithm, SigningCa, create_fulcio_ca, create_tsa};
use signet_pki::certificate::Certificate;
use signet_pki::issue::{LeafRequest, issue_with_embedded_sct};
use signet_pki::profile::{CiClaims, SubjectAltName};
use signet_pki::sct::CtLogSigner;
use signet_pki::time::unix_seconds;
use signet_pki::tsa::{TimestampRequest, TimestampSigner};
use signet_tlog::checkpoint::Checkpoint;
use signet_tlog::note::KeyName;
use signet_tlog::note_keys::NoteSignerKey;
use signet_tlog::proof::prove_inclusion;
use signet_tlog::set::SetPayload;
use signet_tlog::tree::MemoryTree;
use signet_trust::{
    CertificateAuthority, DistinguishedName, TimeRange, TransparencyLog, TrustedCertificate,
    TrustedPublicKey, TrustedRoot,
};

use crate::error::TestingError;

/// The Rekor log's host name (its checkpoint origin is `<host> - <tree ID>`).
pub const REKOR_HOST: &str = "rekor.virtual.test";
const TREE_ID: u64 = 1_193_046;

fn fail(what: &str, e: impl std::fmt::Display) -> TestingError {
    TestingError::Setup(format!("{what}: {e}"))
}

/// The in-memory Sigstore.
pub struct VirtualSigstore {
    fulcio: SigningCa,
    ct_log: CtLogSigner,
    rekor_key: PrivateKey,
    rekor_note_signer: NoteSignerKey,
    tsa: TimestampSigner,
    tree: MemoryTree,
    start: SystemTime,
}

/// A signature with everything the verifier needs, before it is put into a
/// bundle: tests change one part and then build the bundle.
pub struct Signed {
    /// The leaf certificate and the CA chain above it.
    pub chain: Vec<Certificate>,
    /// The signature bytes.
    pub signature: Vec<u8>,
    /// What the bundle signs.
    pub content: BundleContent,
    /// The log entry (SET and inclusion proof).
    pub entry: TransparencyLogEntry,
    /// RFC 3161 timestamps (DER `TimeStampResp`).
    pub timestamps: Vec<Vec<u8>>,
}

impl Signed {
    /// The bundle (v0.3: the leaf only).
    pub fn bundle(&self) -> Bundle {
        self.bundle_with_material(VerificationMaterial::CertificateDer {
            chain: vec![self.chain[0].as_der().to_vec()],
        })
    }

    /// The bundle with other verification material (a chain, a v0.1 media type).
    pub fn bundle_with_material(&self, material: VerificationMaterial) -> Bundle {
        Bundle {
            media_type: BUNDLE_V03_MEDIA_TYPE.to_owned(),
            verification_material: material,
            tlog_entries: vec![self.entry.clone()],
            rfc3161_timestamps: self.timestamps.clone(),
            content: self.content.clone(),
        }
    }
}

/// How to sign.
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// The identity (an email or URI SAN).
    pub identity: SubjectAltName,
    /// The OIDC issuer.
    pub issuer: String,
    /// When the certificate was issued.
    pub issued_at: SystemTime,
    /// When the log integrated the entry.
    pub integrated_at: SystemTime,
    /// When the TSA stamped the signature, if one did.
    pub timestamped_at: Option<SystemTime>,
}

impl VirtualSigstore {
    /// A new instance whose keys and certificates are valid from `start`
    /// (minus an hour) for a year.
    pub fn new(start: SystemTime) -> Result<Self, TestingError> {
        let year = |subject: &str| CaOptions {
            subject: subject.into(),
            not_before: start - Duration::from_secs(3600),
            not_after: start + Duration::from_secs(365 * 86_400),
        };
        let fulcio = create_fulcio_ca(
            KeyAlgorithm::P256,
            &year("CN=virtual-fulcio-root,O=signet.test"),
            &year("CN=virtual-fulcio,O=signet.test"),
        )
        .map_err(|e| fail("Fulcio CA", e))?;
        let ct_log = CtLogSigner::new(
            KeyAlgorithm::P256
                .generate()
                .map_err(|e| fail("CT key", e))?,
        )
        .map_err(|e| fail("CT log", e))?;
        let rekor_key = KeyAlgorithm::P256
            .generate()
            .map_err(|e| fail("Rekor key", e))?;
        let rekor_note_signer = match &rekor_key {
            PrivateKey::EcdsaP256(k) => NoteSignerKey::rekor_v1(
                KeyName::new(REKOR_HOST).map_err(|e| fail("note key", e))?,
                PrivateKey::EcdsaP256(k.clone()),
            )
            .map_err(|e| fail("note key", e))?,
            _ => return Err(fail("Rekor key", "not P-256")),
        };
        let tsa = TimestampSigner::new(
            create_tsa(
                KeyAlgorithm::P256,
                &year("CN=virtual-tsa-root,O=signet.test"),
                &year("CN=virtual-tsa-intermediate,O=signet.test"),
                &year("CN=virtual-tsa,O=signet.test"),
            )
            .map_err(|e| fail("TSA", e))?,
        )
        .map_err(|e| fail("TSA", e))?;
        let mut tree = MemoryTree::new();
        // Earlier entries, so that proofs have hashes.
        for i in 0..5u8 {
            tree.append(&[i]);
        }
        Ok(Self {
            fulcio,
            ct_log,
            rekor_key,
            rekor_note_signer,
            tsa,
            tree,
            start,
        })
    }

    /// The Fulcio CA (intermediate first, root last).
    pub fn fulcio(&self) -> &SigningCa {
        &self.fulcio
    }

    /// The Rekor log's key.
    pub fn rekor_key(&self) -> &PrivateKey {
        &self.rekor_key
    }

    /// The trusted root that trusts this instance.
    pub fn trusted_root(&self) -> Result<TrustedRoot, TestingError> {
        let since = TimeRange::since(timestamp(self.start - Duration::from_secs(3600))?);
        let key = |k: &PrivateKey| {
            TrustedPublicKey::from_public_key(&k.public_key(), Some(since))
                .map_err(|e| fail("trusted key", e))
        };
        let certs = |chain: &[Certificate]| {
            chain
                .iter()
                .map(|c| {
                    TrustedCertificate::from_der(c.as_der().to_vec())
                        .map_err(|e| fail("trusted certificate", e))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let rekor_key = key(&self.rekor_key)?;
        let ct_key = TrustedPublicKey::from_public_key(&self.ct_log.public_key(), Some(since))
            .map_err(|e| fail("CT key", e))?;
        Ok(TrustedRoot {
            tlogs: vec![TransparencyLog {
                base_url: format!("https://{REKOR_HOST}"),
                hash_algorithm: HashAlgorithm::Sha2_256,
                log_id: rekor_key.sha256_key_id().to_vec(),
                public_key: rekor_key,
                checkpoint_key_id: None,
                operator: None,
            }],
            certificate_authorities: vec![CertificateAuthority {
                subject: DistinguishedName::default(),
                uri: "https://fulcio.virtual.test".into(),
                cert_chain: certs(self.fulcio.chain())?,
                valid_for: Some(since),
                operator: None,
            }],
            ctlogs: vec![TransparencyLog {
                base_url: "https://ct.virtual.test".into(),
                hash_algorithm: HashAlgorithm::Sha2_256,
                log_id: ct_key.sha256_key_id().to_vec(),
                public_key: ct_key,
                checkpoint_key_id: None,
                operator: None,
            }],
            timestamp_authorities: vec![CertificateAuthority {
                subject: DistinguishedName::default(),
                uri: "https://tsa.virtual.test".into(),
                cert_chain: certs(self.tsa.chain())?,
                valid_for: Some(since),
                operator: None,
            }],
            ..TrustedRoot::default()
        })
    }

    /// Signs `blob` keylessly: a certificate for `options.identity`, a
    /// hashedrekord entry with SET and inclusion proof, and a timestamp if
    /// asked for.
    pub fn sign_blob(
        &mut self,
        blob: &[u8],
        options: &SignOptions,
    ) -> Result<Signed, TestingError> {
        let key = KeyAlgorithm::P256.generate().map_err(|e| fail("key", e))?;
        let digest = Digest::sha256_of(blob);
        let signature = key.sign(blob).map_err(|e| fail("sign", e))?;
        let chain = self.certificate(&key, options, &self.ct_log)?;
        let entry = self.log_hashedrekord(&digest, &signature, &chain[0], options.integrated_at)?;
        let timestamps = match options.timestamped_at {
            Some(at) => vec![self.timestamp(&signature, at)?],
            None => Vec::new(),
        };
        Ok(Signed {
            chain,
            content: BundleContent::MessageSignature(MessageSignature {
                message_digest: HashOutput::from_sha256(&digest),
                signature: signature.clone(),
            }),
            signature,
            entry,
            timestamps,
        })
    }

    /// A leaf certificate for `key`, with an SCT from `ct_log` (this
    /// instance's, or another one to test unknown logs).
    pub fn certificate(
        &self,
        key: &PrivateKey,
        options: &SignOptions,
        ct_log: &CtLogSigner,
    ) -> Result<Vec<Certificate>, TestingError> {
        let issued = issue_with_embedded_sct(
            &self.fulcio,
            ct_log,
            &LeafRequest {
                subject_public_key: key.public_key().to_spki_der(),
                identity: options.identity.clone(),
                issuer: options.issuer.clone(),
                claims: CiClaims::default(),
                not_before: options.issued_at,
            },
        )
        .map_err(|e| fail("leaf certificate", e))?;
        Ok(issued.chain)
    }

    /// Logs a hashedrekord 0.0.1 entry for a signature by `leaf` and
    /// returns it as a bundle entry: SET and an inclusion proof up to a
    /// signed checkpoint.
    pub fn log_hashedrekord(
        &mut self,
        digest: &Digest,
        signature: &[u8],
        leaf: &Certificate,
        integrated_at: SystemTime,
    ) -> Result<TransparencyLogEntry, TestingError> {
        let proposal = serde_json::json!({
            "kind": "hashedrekord", "apiVersion": "0.0.1",
            "spec": {
                "signature": {"content": B64.encode(signature),
                              "publicKey": {"content": B64.encode(leaf.to_pem())}},
                "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
            }
        });
        let body = ProposedEntry::parse_v1(proposal.to_string().as_bytes())
            .and_then(|p| p.canonical_body())
            .map_err(|e| fail("entry", e))?;
        self.log_body(body, integrated_at)
    }

    /// Appends `body` to the log and returns its bundle entry.
    pub fn log_body(
        &mut self,
        body: Vec<u8>,
        integrated_at: SystemTime,
    ) -> Result<TransparencyLogEntry, TestingError> {
        let index = self.tree.size();
        self.tree.append(&body);
        let size = self.tree.size();
        let hashes = prove_inclusion(&self.tree, index, size).map_err(|e| fail("proof", e))?;
        let root = self.tree.root();
        let checkpoint = Checkpoint::new(format!("{REKOR_HOST} - {TREE_ID}"), size, root)
            .and_then(|c| c.sign(&[&self.rekor_note_signer]))
            .map_err(|e| fail("checkpoint", e))?;
        let log_id: [u8; 32] = {
            use sha2::Digest as _;
            sha2::Sha256::digest(self.rekor_key.public_key().to_spki_der()).into()
        };
        let integrated_time = unix_seconds(integrated_at);
        let set = SetPayload {
            body: body.clone(),
            integrated_time,
            log_id,
            log_index: index as i64,
        }
        .sign(&self.rekor_key)
        .map_err(|e| fail("SET", e))?;
        let (kind, version) =
            signet_core::rekor::body_kind_version(&body).map_err(|e| fail("body", e))?;
        Ok(TransparencyLogEntry {
            log_index: index,
            log_id: log_id.to_vec(),
            kind_version: KindVersion { kind, version },
            integrated_time,
            inclusion_promise: Some(set),
            inclusion_proof: Some(InclusionProof {
                log_index: index,
                root_hash: root.0,
                tree_size: size,
                hashes: hashes.iter().map(|h| h.0).collect(),
                checkpoint: String::from_utf8(checkpoint).map_err(|e| fail("checkpoint", e))?,
            }),
            canonicalized_body: body,
        })
    }

    /// A DER `TimeStampResp` over `data` at `at`.
    pub fn timestamp(&self, data: &[u8], at: SystemTime) -> Result<Vec<u8>, TestingError> {
        self.tsa
            .respond(
                &TimestampRequest::for_data(data, signet_pki::algorithm::HashAlgorithm::Sha256),
                at,
            )
            .map_err(|e| fail("timestamp", e))
    }

    /// Signs a DSSE envelope over an in-toto `statement` keylessly and logs
    /// it as a dsse 0.0.1 entry.
    pub fn sign_dsse(
        &mut self,
        statement: &[u8],
        options: &SignOptions,
    ) -> Result<Signed, TestingError> {
        let key = KeyAlgorithm::P256.generate().map_err(|e| fail("key", e))?;
        let mut envelope = Envelope {
            payload: statement.to_vec(),
            payload_type: signet_core::dsse::IN_TOTO_PAYLOAD_TYPE.to_owned(),
            signatures: Vec::new(),
        };
        let signature = key.sign(&envelope.pae()).map_err(|e| fail("sign", e))?;
        envelope.signatures.push(DsseSignature {
            sig: signature.clone(),
            keyid: String::new(),
        });
        let chain = self.certificate(&key, options, &self.ct_log)?;
        let proposal = serde_json::json!({
            "kind": "dsse", "apiVersion": "0.0.1",
            "spec": {"proposedContent": {
                "envelope": envelope.to_cosign_json(),
                "verifiers": [B64.encode(chain[0].to_pem())],
            }}
        });
        let body = ProposedEntry::parse_v1(proposal.to_string().as_bytes())
            .and_then(|p| p.canonical_body())
            .map_err(|e| fail("entry", e))?;
        let entry = self.log_body(body, options.integrated_at)?;
        Ok(Signed {
            chain,
            content: BundleContent::DsseEnvelope(envelope),
            signature,
            entry,
            timestamps: Vec::new(),
        })
    }
}

fn timestamp(t: SystemTime) -> Result<jiff::Timestamp, TestingError> {
    jiff::Timestamp::try_from(t).map_err(|e| fail("time", e))
}
