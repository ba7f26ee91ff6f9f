//! The legacy signature manifest: what cosign stores under the tag
//! `sha256-<image digest hex>.sig`.
//!
//! One OCI image manifest whose layers are simple-signing payloads, each with
//! its signature (and, for keyless signatures, certificate and Rekor bundle) in
//! layer annotations. The config blob is a synthetic image config with one
//! `history` entry and one `diff_id` per layer. Both are written byte-for-byte
//! as go-containerregistry serialises them, because the manifest digest, and
//! therefore what other tools see, depends on every byte.

use std::collections::BTreeMap;

use serde::Deserialize;

use base64::Engine as _;

use crate::bundle::{
    BUNDLE_V01_MEDIA_TYPE, Bundle, BundleContent, MessageSignature, RekorBundle,
    VerificationMaterial, parse_rfc3161_annotation,
};
use crate::digest::Digest;
use crate::dsse::Envelope;
use crate::error::FormatError;
use crate::gojson;
use crate::hash::HashOutput;
use crate::limits::{MAX_MANIFEST_BYTES, MAX_SIGNATURE_LAYERS};

/// Media type of a simple-signing payload layer.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Layer annotation holding the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Layer annotation holding the signing certificate (PEM), keyless only.
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// Layer annotation holding the certificate chain (PEM), keyless only.
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// Layer annotation holding the Rekor inclusion promise.
pub const REKOR_BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// Layer annotation holding an RFC 3161 timestamp.
pub const RFC3161_ANNOTATION: &str = "dev.sigstore.cosign/rfc3161timestamp";
/// Media type of an attestation layer (`.att`): a DSSE envelope.
pub const DSSE_ENVELOPE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";

/// OCI image manifest media type.
pub const OCI_MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image config media type.
pub const OCI_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// Docker v2 manifest media type (`COSIGN_DOCKER_MEDIA_TYPES=1`).
pub const DOCKER_MANIFEST_MEDIA_TYPE: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker v2 config media type.
pub const DOCKER_CONFIG_MEDIA_TYPE: &str = "application/vnd.docker.container.image.v1+json";

/// Which family of media types a signature manifest is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MediaTypes {
    /// OCI (cosign's default).
    #[default]
    Oci,
    /// Docker v2 schema 2, for registries that refuse OCI manifests.
    Docker,
}

impl MediaTypes {
    /// The manifest media type.
    pub fn manifest(self) -> &'static str {
        match self {
            Self::Oci => OCI_MANIFEST_MEDIA_TYPE,
            Self::Docker => DOCKER_MANIFEST_MEDIA_TYPE,
        }
    }

    fn config(self) -> &'static str {
        match self {
            Self::Oci => OCI_CONFIG_MEDIA_TYPE,
            Self::Docker => DOCKER_CONFIG_MEDIA_TYPE,
        }
    }
}

/// One layer of a signature manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The layer's media type (simple-signing for signatures).
    pub media_type: String,
    /// Size of the payload blob.
    pub size: u64,
    /// Digest of the payload blob.
    pub digest: Digest,
    /// Layer annotations (signature, certificate, …).
    pub annotations: BTreeMap<String, String>,
}

impl Layer {
    /// A simple-signing layer for `payload` with a base64 `signature`.
    pub fn simple_signing(payload: &[u8], signature_b64: String) -> Self {
        Self {
            media_type: SIMPLE_SIGNING_MEDIA_TYPE.to_owned(),
            size: payload.len() as u64,
            digest: Digest::sha256_of(payload),
            annotations: BTreeMap::from([(SIGNATURE_ANNOTATION.to_owned(), signature_b64)]),
        }
    }

    /// Whether this layer is a simple-signing signature.
    pub fn is_signature(&self) -> bool {
        self.media_type == SIMPLE_SIGNING_MEDIA_TYPE
    }

    /// Converts a simple-signing layer into the bundle model, so that legacy
    /// signatures take the same verification path as bundles: the signature
    /// annotation becomes a message signature over the payload (the layer's
    /// digest), `certificate`/`chain` become the verification material,
    /// `bundle` (the Rekor SET) a transparency-log entry with an inclusion
    /// promise, and `rfc3161timestamp` a timestamp. The result is a v0.1
    /// bundle: its log evidence is a promise without a proof.
    pub fn to_bundle(&self) -> Result<Bundle, FormatError> {
        const WHAT: &str = "signature layer";
        let sig_b64 = self.annotations.get(SIGNATURE_ANNOTATION).ok_or_else(|| {
            FormatError::malformed(WHAT, format!("no {SIGNATURE_ANNOTATION} annotation"))
        })?;
        let signature = base64::engine::general_purpose::STANDARD
            .decode(sig_b64.trim())
            .map_err(|e| {
                FormatError::malformed(WHAT, format!("signature annotation is not base64: {e}"))
            })?;
        if signature.is_empty() {
            return Err(FormatError::malformed(
                WHAT,
                "signature annotation is empty",
            ));
        }
        self.bundle_with_content(BundleContent::MessageSignature(MessageSignature {
            message_digest: HashOutput::from_sha256(&self.digest),
            signature,
        }))
    }

    /// Converts an attestation layer (`.att`, a DSSE envelope as the layer
    /// blob) into the bundle model; `envelope` is the layer's blob, already
    /// checked against its digest.
    pub fn to_attestation_bundle(&self, envelope: &[u8]) -> Result<Bundle, FormatError> {
        self.bundle_with_content(BundleContent::DsseEnvelope(Envelope::parse(envelope)?))
    }

    fn bundle_with_content(&self, content: BundleContent) -> Result<Bundle, FormatError> {
        const WHAT: &str = "signature layer";
        let nonempty = |key: &str| self.annotations.get(key).filter(|v| !v.trim().is_empty());
        let verification_material = match nonempty(CERTIFICATE_ANNOTATION) {
            Some(pem) => {
                let mut chain = certificates_from_pem(pem).map_err(|e| {
                    FormatError::malformed(WHAT, format!("certificate annotation: {e}"))
                })?;
                chain.truncate(1);
                if let Some(rest) = nonempty(CHAIN_ANNOTATION) {
                    chain.extend(certificates_from_pem(rest).map_err(|e| {
                        FormatError::malformed(WHAT, format!("chain annotation: {e}"))
                    })?);
                }
                VerificationMaterial::CertificateDer { chain }
            }
            None => VerificationMaterial::PublicKey { hint: None },
        };
        let tlog_entries = match nonempty(REKOR_BUNDLE_ANNOTATION) {
            Some(text) => vec![RekorBundle::parse(text)?.to_tlog_entry()?],
            None => Vec::new(),
        };
        let rfc3161_timestamps = match nonempty(RFC3161_ANNOTATION) {
            Some(text) => vec![parse_rfc3161_annotation(text)?],
            None => Vec::new(),
        };
        Ok(Bundle {
            media_type: BUNDLE_V01_MEDIA_TYPE.to_owned(),
            verification_material,
            tlog_entries,
            rfc3161_timestamps,
            content,
        })
    }
}

/// The DER certificates of a PEM text (a certificate or a chain).
fn certificates_from_pem(pem: &str) -> Result<Vec<Vec<u8>>, FormatError> {
    let blocks = crate::pem::decode_all(pem.as_bytes())?;
    blocks
        .into_iter()
        .map(|(label, der)| {
            if label == "CERTIFICATE" {
                Ok(der)
            } else {
                Err(FormatError::malformed(
                    "PEM",
                    format!("expected CERTIFICATE blocks, found {label:?}"),
                ))
            }
        })
        .collect()
}

/// A signature manifest: its layers, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignatureManifest {
    /// Media type family used when writing.
    pub media_types: MediaTypes,
    /// All layers, signatures and anything else another tool put there.
    pub layers: Vec<Layer>,
}

impl SignatureManifest {
    /// Reads a signature manifest written by cosign, skopeo or signet.
    pub fn parse(bytes: &[u8]) -> Result<Self, FormatError> {
        const WHAT: &str = "signature manifest";
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(FormatError::TooLarge {
                what: WHAT,
                size: bytes.len(),
                limit: MAX_MANIFEST_BYTES,
            });
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            schema_version: u32,
            #[serde(default)]
            media_type: Option<String>,
            #[serde(default)]
            layers: Vec<RawLayer>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct RawLayer {
            media_type: String,
            size: u64,
            digest: String,
            #[serde(default)]
            annotations: Option<BTreeMap<String, String>>,
        }
        let raw: Raw =
            serde_json::from_slice(bytes).map_err(|e| FormatError::malformed(WHAT, e))?;
        if raw.schema_version != 2 {
            return Err(FormatError::malformed(
                WHAT,
                format!("schemaVersion is {}, expected 2", raw.schema_version),
            ));
        }
        if raw.layers.len() > MAX_SIGNATURE_LAYERS {
            return Err(FormatError::malformed(
                WHAT,
                format!(
                    "{} layers, more than the limit of {MAX_SIGNATURE_LAYERS}",
                    raw.layers.len()
                ),
            ));
        }
        let media_types = match raw.media_type.as_deref() {
            Some(DOCKER_MANIFEST_MEDIA_TYPE) => MediaTypes::Docker,
            _ => MediaTypes::Oci,
        };
        let layers = raw
            .layers
            .into_iter()
            .map(|l| {
                Ok(Layer {
                    media_type: l.media_type,
                    size: l.size,
                    digest: l
                        .digest
                        .parse()
                        .map_err(|e| FormatError::malformed(WHAT, e))?,
                    annotations: l.annotations.unwrap_or_default(),
                })
            })
            .collect::<Result<_, FormatError>>()?;
        Ok(Self {
            media_types,
            layers,
        })
    }

    /// The simple-signing layers.
    pub fn signatures(&self) -> impl Iterator<Item = &Layer> {
        self.layers.iter().filter(|l| l.is_signature())
    }

    /// The config blob cosign writes for these layers.
    pub fn config_bytes(&self) -> Vec<u8> {
        let mut out =
            String::from(r#"{"architecture":"","created":"0001-01-01T00:00:00Z","history":["#);
        for i in 0..self.layers.len() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(r#"{"created":"0001-01-01T00:00:00Z"}"#);
        }
        out.push_str(r#"],"os":"","rootfs":{"type":"layers","diff_ids":["#);
        for (i, layer) in self.layers.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            gojson::write_str(&mut out, &layer.digest.to_string());
        }
        out.push_str(r#"]},"config":{}}"#);
        out.into_bytes()
    }

    /// The manifest bytes, given the config blob from [`Self::config_bytes`].
    pub fn manifest_bytes(&self, config: &[u8]) -> Vec<u8> {
        let mut out = String::from(r#"{"schemaVersion":2,"mediaType":"#);
        gojson::write_str(&mut out, self.media_types.manifest());
        out.push_str(r#","config":{"mediaType":"#);
        gojson::write_str(&mut out, self.media_types.config());
        out.push_str(&format!(
            r#","size":{},"digest":"{}"}},"layers":["#,
            config.len(),
            Digest::sha256_of(config)
        ));
        for (i, layer) in self.layers.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(r#"{"mediaType":"#);
            gojson::write_str(&mut out, &layer.media_type);
            out.push_str(&format!(
                r#","size":{},"digest":"{}""#,
                layer.size, layer.digest
            ));
            if !layer.annotations.is_empty() {
                out.push_str(r#","annotations":"#);
                gojson::write_string_map(&mut out, &layer.annotations);
            }
            out.push('}');
        }
        out.push_str("]}");
        out.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const COSIGN_MANIFEST: &[u8] =
        include_bytes!("../../../tests/vectors/cosign-2.5/image.sig.manifest.json");
    const COSIGN_CONFIG: &[u8] =
        include_bytes!("../../../tests/vectors/cosign-2.5/image.sig.config.json");

    #[test]
    fn reproduces_cosign_manifest_and_config_bytes() {
        let m = SignatureManifest::parse(COSIGN_MANIFEST).unwrap();
        assert_eq!(m.signatures().count(), m.layers.len());
        let config = m.config_bytes();
        assert_eq!(
            String::from_utf8_lossy(&config),
            String::from_utf8_lossy(COSIGN_CONFIG)
        );
        assert_eq!(
            String::from_utf8_lossy(&m.manifest_bytes(&config)),
            String::from_utf8_lossy(COSIGN_MANIFEST)
        );
    }

    #[test]
    fn layer_converts_to_bundle() {
        let layer = Layer::simple_signing(b"payload", "MEUCIQ==".into());
        let bundle = layer.to_bundle().unwrap();
        let ms = bundle.message_signature().unwrap();
        assert_eq!(ms.sha256(), Some(Digest::sha256_of(b"payload")));
        assert_eq!(ms.signature, vec![0x30, 0x45, 0x02, 0x21]);
        let mut bad = layer.clone();
        bad.annotations
            .insert(SIGNATURE_ANNOTATION.into(), "!!".into());
        assert!(bad.to_bundle().is_err());
        bad.annotations.clear();
        assert!(bad.to_bundle().is_err());
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            &b""[..],
            b"{}",
            b"[]",
            br#"{"schemaVersion":1}"#,
            br#"{"schemaVersion":2,"layers":[{"mediaType":"x","size":1,"digest":"md5:00"}]}"#,
        ] {
            assert!(SignatureManifest::parse(bad).is_err());
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = SignatureManifest::parse(&bytes);
        }

        #[test]
        fn write_then_parse_round_trips(payloads in proptest::collection::vec(".{0,40}", 0..5), docker in any::<bool>()) {
            let mut m = SignatureManifest { media_types: if docker { MediaTypes::Docker } else { MediaTypes::Oci }, layers: vec![] };
            for p in &payloads {
                m.layers.push(Layer::simple_signing(p.as_bytes(), format!("sig<{p}>")));
            }
            let bytes = m.manifest_bytes(&m.config_bytes());
            prop_assert_eq!(SignatureManifest::parse(&bytes).unwrap(), m);
        }
    }
}
