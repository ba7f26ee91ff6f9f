//! A timestamp authority's signing side: reads RFC 3161 `TimeStampReq`s (DER)
//! and sigstore's JSON request form, and issues `TimeStampResp`s whose tokens
//! sigstore-go, sigstore-python, cosign and OpenSSL verify.
//!
//! Tokens follow the sigstore TSA: policy 1.3.6.1.4.1.57264.2 unless
//! configured otherwise, accuracy one second, the TSA name in `tsa`, signed
//! attributes content type, signing time, message digest and
//! signingCertificateV2 (SHA-256 ESSCertIDv2 with issuer and serial), and the
//! signing certificate included when the request asks for it.

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use der::asn1::{Int, ObjectIdentifier, OctetString, UtcTime};
use der::{Decode, Encode, Tag, TagNumber};
use serde::Deserialize;
use x509_cert::ext::pkix::name::GeneralName;

use crate::algorithm::{self, HashAlgorithm, SignatureScheme};
use crate::builder::random_serial;
use crate::ca::SigningCa;
use crate::error::{DecodeError, IssueError};
use crate::limits::{MAX_TIMESTAMP_JSON_REQUEST_BYTES, MAX_TIMESTAMP_REQUEST_BYTES};
use crate::oid;
use crate::tsp::{
    Accuracy, EssCertIdV2, GenTime, IssuerSerial, MessageImprint, SigningCertificateV2,
    TimeStampReq, TstInfo, attribute, der_set, tlv,
};

/// A request for a timestamp, from either wire form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimestampRequest {
    /// The hash algorithm of `hashed_message`.
    pub hash_algorithm: HashAlgorithm,
    /// The hash of the data to timestamp.
    pub hashed_message: Vec<u8>,
    /// The request's nonce (big-endian two's complement, as encoded).
    pub nonce: Option<Vec<u8>>,
    /// Whether the signing certificate should be included in the token.
    pub cert_req: bool,
    /// The policy the requester asks for.
    pub policy: Option<ObjectIdentifier>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JsonRequest {
    artifact_hash: String,
    #[serde(default)]
    hash_algorithm: Option<String>,
    #[serde(default)]
    certificates: bool,
    #[serde(default)]
    nonce: Option<serde_json::Number>,
    #[serde(default, rename = "tsaPolicyOID")]
    tsa_policy_oid: Option<String>,
}

impl TimestampRequest {
    /// A request for the hash of `data` (what a client sends).
    pub fn for_data(data: &[u8], hash_algorithm: HashAlgorithm) -> Self {
        Self {
            hash_algorithm,
            hashed_message: hash_algorithm.digest(data),
            nonce: None,
            cert_req: true,
            policy: None,
        }
    }

    /// Parses a DER `TimeStampReq` (`application/timestamp-query`).
    pub fn from_der(der: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "TimeStampReq";
        DecodeError::check_size(WHAT, der.len(), MAX_TIMESTAMP_REQUEST_BYTES)?;
        let req = TimeStampReq::from_der(der).map_err(|e| DecodeError::malformed(WHAT, e))?;
        if req.version != 1 {
            return Err(DecodeError::unsupported(
                WHAT,
                format!("version {}", req.version),
            ));
        }
        if req.extensions.is_some_and(|e| e.iter().any(|x| x.critical)) {
            return Err(DecodeError::unsupported(
                WHAT,
                "critical request extensions",
            ));
        }
        let hash_algorithm = HashAlgorithm::from_oid(&req.message_imprint.hash_algorithm.oid)
            .ok_or_else(|| {
                DecodeError::unsupported(
                    WHAT,
                    format!("hash algorithm {}", req.message_imprint.hash_algorithm.oid),
                )
            })?;
        Self::checked(
            hash_algorithm,
            req.message_imprint.hashed_message.as_bytes().to_vec(),
            req.nonce.map(|n| n.as_bytes().to_vec()),
            req.cert_req,
            req.req_policy,
        )
    }

    /// Parses sigstore's JSON request (`application/json`):
    /// `{"artifactHash":"<base64>","hashAlgorithm":"sha256","certificates":true,"nonce":123,"tsaPolicyOID":"…"}`.
    /// The JSON nonce must fit in 64 bits.
    pub fn from_json(json: &[u8]) -> Result<Self, DecodeError> {
        const WHAT: &str = "JSON timestamp request";
        DecodeError::check_size(WHAT, json.len(), MAX_TIMESTAMP_JSON_REQUEST_BYTES)?;
        let req: JsonRequest =
            serde_json::from_slice(json).map_err(|e| DecodeError::malformed(WHAT, e))?;
        let hash = match req.hash_algorithm.as_deref() {
            None => HashAlgorithm::Sha256,
            Some(name) => HashAlgorithm::from_name(name).ok_or_else(|| {
                DecodeError::unsupported(WHAT, format!("hash algorithm {name:?}"))
            })?,
        };
        let hashed = B64
            .decode(&req.artifact_hash)
            .map_err(|e| DecodeError::malformed(WHAT, format!("artifactHash: {e}")))?;
        let nonce = match req.nonce {
            None => None,
            Some(n) => {
                let n = n.as_u64().ok_or_else(|| {
                    DecodeError::unsupported(WHAT, "nonce must be an integer from 0 to 2^64-1")
                })?;
                let int = der::asn1::Uint::new(&n.to_be_bytes())
                    .map(Int::from)
                    .map_err(|e| DecodeError::malformed(WHAT, e))?;
                Some(int.as_bytes().to_vec())
            }
        };
        let policy = req
            .tsa_policy_oid
            .map(|p| {
                ObjectIdentifier::new(&p)
                    .map_err(|e| DecodeError::malformed(WHAT, format!("tsaPolicyOID: {e}")))
            })
            .transpose()?;
        Self::checked(hash, hashed, nonce, req.certificates, policy)
    }

    fn checked(
        hash_algorithm: HashAlgorithm,
        hashed_message: Vec<u8>,
        nonce: Option<Vec<u8>>,
        cert_req: bool,
        policy: Option<ObjectIdentifier>,
    ) -> Result<Self, DecodeError> {
        if hashed_message.len() != hash_algorithm.output_len() {
            return Err(DecodeError::malformed(
                "timestamp request",
                format!(
                    "a {} hash is {} bytes, the request has {}",
                    hash_algorithm.name(),
                    hash_algorithm.output_len(),
                    hashed_message.len()
                ),
            ));
        }
        if nonce.as_ref().is_some_and(|n| n.len() > 32) {
            return Err(DecodeError::malformed(
                "timestamp request",
                "nonce longer than 256 bits",
            ));
        }
        Ok(Self {
            hash_algorithm,
            hashed_message,
            nonce,
            cert_req,
            policy,
        })
    }

    /// The DER `TimeStampReq` for this request.
    pub fn to_der(&self) -> Result<Vec<u8>, IssueError> {
        let req = TimeStampReq {
            version: 1,
            message_imprint: MessageImprint {
                hash_algorithm: self.hash_algorithm.algorithm_identifier(),
                hashed_message: OctetString::new(self.hashed_message.clone())?,
            },
            req_policy: self.policy,
            nonce: self.nonce.as_deref().map(Int::new).transpose()?,
            cert_req: self.cert_req,
            extensions: None,
        };
        Ok(req.to_der()?)
    }
}

/// Why a request is refused, as RFC 3161 `PKIFailureInfo` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureInfo {
    /// Unrecognized or unsupported algorithm.
    BadAlgorithm,
    /// Transaction not permitted or supported.
    BadRequest,
    /// The data submitted has the wrong format.
    BadDataFormat,
    /// The requested TSA policy is not supported.
    UnacceptedPolicy,
    /// The request cannot be handled due to a system failure.
    SystemFailure,
}

impl FailureInfo {
    fn bit(self) -> u8 {
        match self {
            Self::BadAlgorithm => 0,
            Self::BadRequest => 2,
            Self::BadDataFormat => 5,
            Self::UnacceptedPolicy => 15,
            Self::SystemFailure => 25,
        }
    }
}

/// A DER `TimeStampResp` refusing a request (status `rejection`).
pub fn rejection_response(failure: FailureInfo, text: &str) -> Result<Vec<u8>, IssueError> {
    let bit = usize::from(failure.bit());
    let mut bytes = vec![0u8; bit / 8 + 1];
    if let Some(b) = bytes.get_mut(bit / 8) {
        *b = 0x80 >> (bit % 8);
    }
    let unused = u8::try_from(7 - bit % 8).unwrap_or(0);
    let fail_info = der::asn1::BitString::new(unused, bytes)?;
    let status = crate::tsp::PkiStatusInfo {
        status: 2,
        status_string: Some(vec![text.to_string()]),
        fail_info: Some(fail_info),
    };
    Ok(tlv(Tag::Sequence, &status.to_der()?)?)
}

/// Issues RFC 3161 timestamps with a TSA key and its chain.
#[derive(Debug)]
pub struct TimestampSigner {
    ca: SigningCa,
    policy: ObjectIdentifier,
    scheme: SignatureScheme,
}

impl TimestampSigner {
    /// A signer over `ca` (a key whose certificate has extended key usage
    /// timeStamping), with sigstore's policy 1.3.6.1.4.1.57264.2.
    pub fn new(ca: SigningCa) -> Result<Self, IssueError> {
        let scheme =
            SignatureScheme::natural_for(&ca.key().public_key()).map_err(IssueError::Authority)?;
        Ok(Self {
            ca,
            policy: oid::fulcio::TSA_POLICY,
            scheme,
        })
    }

    /// Uses `policy` instead of sigstore's.
    pub fn with_policy(mut self, policy: ObjectIdentifier) -> Self {
        self.policy = policy;
        self
    }

    /// The TSA's chain (signing certificate first), as `/api/v1/timestamp/certchain` serves it.
    pub fn chain(&self) -> &[crate::certificate::Certificate] {
        self.ca.chain()
    }

    /// A DER `TimeStampResp` granting `request` at `time`. A request for
    /// another policy is refused with an error; the caller answers it with
    /// [`rejection_response`].
    pub fn respond(
        &self,
        request: &TimestampRequest,
        time: SystemTime,
    ) -> Result<Vec<u8>, IssueError> {
        let token = self.token(request, time)?;
        let status = tlv(Tag::Sequence, &0u8.to_der()?)?;
        Ok(tlv(Tag::Sequence, &[status, token].concat())?)
    }

    /// A DER timestamp token (`ContentInfo`) for `request` at `time`.
    pub fn token(
        &self,
        request: &TimestampRequest,
        time: SystemTime,
    ) -> Result<Vec<u8>, IssueError> {
        if let Some(policy) = &request.policy
            && policy != &self.policy
        {
            return Err(IssueError::InvalidRequest(format!(
                "policy {policy} is not this TSA's policy {}",
                self.policy
            )));
        }
        let cert = self.ca.certificate();
        let tbs = cert.x509().tbs_certificate();
        let tst = TstInfo {
            version: 1,
            policy: self.policy,
            message_imprint: MessageImprint {
                hash_algorithm: request.hash_algorithm.algorithm_identifier(),
                hashed_message: OctetString::new(request.hashed_message.clone())?,
            },
            serial_number: Int::new(&random_serial()?)?,
            gen_time: GenTime(time),
            accuracy: Some(Accuracy {
                seconds: Some(1),
                millis: None,
                micros: None,
            }),
            ordering: false,
            nonce: request.nonce.as_deref().map(Int::new).transpose()?,
            tsa: Some(GeneralName::DirectoryName(tbs.subject().clone())),
            extensions: None,
        };
        let econtent = tst.to_der()?;
        let digest = self.scheme.hash().unwrap_or(HashAlgorithm::Sha256);
        let issuer_serial = IssuerSerial {
            issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
            serial_number: Int::new(tbs.serial_number().as_bytes())?,
        };
        let signing_certificate = SigningCertificateV2 {
            certs: vec![EssCertIdV2 {
                hash_algorithm: None,
                cert_hash: OctetString::new(HashAlgorithm::Sha256.digest(cert.as_der()))?,
                issuer_serial: Some(issuer_serial),
            }],
        };
        let signing_time = UtcTime::from_system_time(time)?;
        let attrs = der_set(vec![
            attribute(oid::cms::CONTENT_TYPE, &oid::cms::TST_INFO.to_der()?)?,
            attribute(oid::cms::SIGNING_TIME, &signing_time.to_der()?)?,
            attribute(
                oid::cms::MESSAGE_DIGEST,
                &OctetString::new(digest.digest(&econtent))?.to_der()?,
            )?,
            attribute(
                oid::cms::SIGNING_CERTIFICATE_V2,
                &signing_certificate.to_der()?,
            )?,
        ])?;
        let signature = algorithm::sign(self.ca.key(), self.scheme, &attrs)?;

        let context = |n: u32, constructed: bool| Tag::ContextSpecific {
            constructed,
            number: TagNumber(n),
        };
        let sid = tlv(
            Tag::Sequence,
            &[tbs.issuer().to_der()?, tbs.serial_number().to_der()?].concat(),
        )?;
        // The same SET, re-tagged [0] IMPLICIT inside the SignerInfo.
        let attrs_implicit = tlv(
            context(0, true),
            der::asn1::AnyRef::from_der(&attrs)?.value(),
        )?;
        let signer_info = tlv(
            Tag::Sequence,
            &[
                1u8.to_der()?,
                sid,
                digest.algorithm_identifier().to_der()?,
                attrs_implicit,
                self.scheme.to_x509().to_der()?,
                OctetString::new(signature)?.to_der()?,
            ]
            .concat(),
        )?;
        let encap = tlv(
            Tag::Sequence,
            &[
                oid::cms::TST_INFO.to_der()?,
                tlv(context(0, true), &OctetString::new(econtent)?.to_der()?)?,
            ]
            .concat(),
        )?;
        let mut signed_data = vec![
            3u8.to_der()?,
            der_set(vec![digest.algorithm_identifier().to_der()?])?,
            encap,
        ];
        if request.cert_req {
            signed_data.push(tlv(context(0, true), cert.as_der())?);
        }
        signed_data.push(der_set(vec![signer_info])?);
        let signed_data = tlv(Tag::Sequence, &signed_data.concat())?;
        Ok(tlv(
            Tag::Sequence,
            &[
                oid::cms::SIGNED_DATA.to_der()?,
                tlv(context(0, true), &signed_data)?,
            ]
            .concat(),
        )?)
    }
}
