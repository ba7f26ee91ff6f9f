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
use crate::json_edit;
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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
            out.push_str(EMPTY_HISTORY_ENTRY);
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
            layer.write_json(&mut out);
        }
        out.push_str("]}");
        out.into_bytes()
    }

    /// The descriptor of the config blob in stored manifest bytes, if the
    /// manifest names one.
    pub fn config_descriptor(manifest: &[u8]) -> Result<Option<(Digest, u64)>, FormatError> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            config: Option<RawConfig>,
        }
        #[derive(Deserialize)]
        struct RawConfig {
            digest: String,
            size: u64,
        }
        let raw: Raw = serde_json::from_slice(manifest)
            .map_err(|e| FormatError::malformed("signature manifest", e))?;
        raw.config
            .map(|c| {
                c.digest
                    .parse()
                    .map(|d| (d, c.size))
                    .map_err(|e| FormatError::malformed("signature manifest config", e))
            })
            .transpose()
    }

    /// Appends `layer` to stored manifest bytes and points the config
    /// descriptor at `config`, changing nothing else: manifest annotations,
    /// `subject`, `artifactType`, unknown fields, member order and layout are
    /// kept byte for byte. `existing` must have parsed with [`Self::parse`].
    pub fn append_to(
        existing: &[u8],
        layer: &Layer,
        config: &[u8],
    ) -> Result<Vec<u8>, FormatError> {
        const WHAT: &str = "signature manifest";
        let edit = |e: json_edit::ScanError| {
            FormatError::malformed(WHAT, format!("cannot append to it: {e}"))
        };
        let top = json_edit::document(existing).map_err(edit)?;
        let layers = json_edit::member(existing, top.clone(), "layers")
            .map_err(edit)?
            .ok_or_else(|| edit("no layers".into()))?;
        let config_span = json_edit::member(existing, top, "config")
            .map_err(edit)?
            .ok_or_else(|| edit("no config".into()))?;
        let size = json_edit::member(existing, config_span.clone(), "size")
            .map_err(edit)?
            .ok_or_else(|| edit("config has no size".into()))?;
        let digest = json_edit::member(existing, config_span, "digest")
            .map_err(edit)?
            .ok_or_else(|| edit("config has no digest".into()))?;
        let (at, comma) = json_edit::append_point(existing, layers).map_err(edit)?;
        let mut new_layer = String::new();
        if comma {
            new_layer.push(',');
        }
        layer.write_json(&mut new_layer);
        let out = json_edit::apply(
            existing,
            vec![
                json_edit::Splice {
                    range: at..at,
                    bytes: new_layer.into_bytes(),
                },
                json_edit::Splice {
                    range: size,
                    bytes: config.len().to_string().into_bytes(),
                },
                json_edit::Splice {
                    range: digest,
                    bytes: format!("\"{}\"", Digest::sha256_of(config)).into_bytes(),
                },
            ],
        );
        // The result must read back as the old layers plus the new one;
        // anything else is a bug here, and is refused rather than written.
        let before = Self::parse(existing)?;
        let after = Self::parse(&out)?;
        if after.layers.len() != before.layers.len() + 1 || after.layers.last() != Some(layer) {
            return Err(edit(
                "the edited manifest does not read back as expected".into(),
            ));
        }
        Ok(out)
    }

    /// Adds a layer's entries to a stored config blob: a `history` entry (if
    /// the config keeps a history) and its digest in `rootfs.diff_ids`, as
    /// cosign does, changing nothing else.
    pub fn append_to_config(
        existing: &[u8],
        layer_digest: &Digest,
    ) -> Result<Vec<u8>, FormatError> {
        const WHAT: &str = "signature manifest config";
        let edit = |e: json_edit::ScanError| {
            FormatError::malformed(WHAT, format!("cannot append to it: {e}"))
        };
        let top = json_edit::document(existing).map_err(edit)?;
        let rootfs = json_edit::member(existing, top.clone(), "rootfs")
            .map_err(edit)?
            .ok_or_else(|| edit("no rootfs".into()))?;
        let diff_ids = json_edit::member(existing, rootfs, "diff_ids")
            .map_err(edit)?
            .ok_or_else(|| edit("no rootfs.diff_ids".into()))?;
        let mut edits = Vec::new();
        let (at, comma) = json_edit::append_point(existing, diff_ids).map_err(edit)?;
        let mut id = String::from(if comma { "," } else { "" });
        gojson::write_str(&mut id, &layer_digest.to_string());
        edits.push(json_edit::Splice {
            range: at..at,
            bytes: id.into_bytes(),
        });
        if let Some(history) = json_edit::member(existing, top, "history").map_err(edit)? {
            let (at, comma) = json_edit::append_point(existing, history).map_err(edit)?;
            let entry = format!("{}{EMPTY_HISTORY_ENTRY}", if comma { "," } else { "" });
            edits.push(json_edit::Splice {
                range: at..at,
                bytes: entry.into_bytes(),
            });
        }
        let out = json_edit::apply(existing, edits);
        // The edit must leave valid JSON; anything else is a bug here, and is
        // refused rather than written.
        serde_json::from_slice::<serde::de::IgnoredAny>(&out).map_err(|e| {
            FormatError::malformed(WHAT, format!("append produced invalid JSON: {e}"))
        })?;
        Ok(out)
    }
}

/// The `history` entry cosign writes for each signature layer.
const EMPTY_HISTORY_ENTRY: &str = r#"{"created":"0001-01-01T00:00:00Z"}"#;

impl Layer {
    /// This layer's descriptor as go-containerregistry writes it.
    fn write_json(&self, out: &mut String) {
        out.push_str(r#"{"mediaType":"#);
        gojson::write_str(out, &self.media_type);
        out.push_str(&format!(
            r#","size":{},"digest":"{}""#,
            self.size, self.digest
        ));
        if !self.annotations.is_empty() {
            out.push_str(r#","annotations":"#);
            gojson::write_string_map(out, &self.annotations);
        }
        out.push('}');
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

        #[test]
        fn appending_matches_writing_whole(payloads in proptest::collection::vec(".{0,40}", 0..5), new in ".{0,40}", docker in any::<bool>()) {
            let mut m = SignatureManifest { media_types: if docker { MediaTypes::Docker } else { MediaTypes::Oci }, layers: vec![] };
            for p in &payloads {
                m.layers.push(signed_layer(p));
            }
            let layer = signed_layer(&new);
            let config = SignatureManifest::append_to_config(&m.config_bytes(), &layer.digest).unwrap();
            let appended = SignatureManifest::append_to(&m.manifest_bytes(&m.config_bytes()), &layer, &config).unwrap();
            m.layers.push(layer);
            prop_assert_eq!(&config, &m.config_bytes());
            prop_assert_eq!(appended, m.manifest_bytes(&config));
        }

        #[test]
        fn append_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let layer = signed_layer("p");
            let _ = SignatureManifest::append_to(&bytes, &layer, b"{}");
            let _ = SignatureManifest::append_to_config(&bytes, &layer.digest);
            let _ = SignatureManifest::config_descriptor(&bytes);
        }
    }

    fn signed_layer(payload: &str) -> Layer {
        Layer::simple_signing(payload.as_bytes(), format!("sig<{payload}>"))
    }

    #[test]
    fn appending_to_cosign_bytes_gives_cosign_bytes() {
        let mut model = SignatureManifest::parse(COSIGN_MANIFEST).unwrap();
        let layer = signed_layer("second");
        let config = SignatureManifest::append_to_config(COSIGN_CONFIG, &layer.digest).unwrap();
        let appended = SignatureManifest::append_to(COSIGN_MANIFEST, &layer, &config).unwrap();
        model.layers.push(layer);
        // Exactly what cosign (go-containerregistry's append) writes.
        assert_eq!(
            String::from_utf8_lossy(&config),
            String::from_utf8_lossy(&model.config_bytes())
        );
        assert_eq!(
            String::from_utf8_lossy(&appended),
            String::from_utf8_lossy(&model.manifest_bytes(&config))
        );
        assert_eq!(
            SignatureManifest::config_descriptor(&appended).unwrap(),
            Some((Digest::sha256_of(&config), config.len() as u64))
        );
    }

    #[test]
    fn appending_keeps_what_other_tools_wrote() {
        // Manifest-level annotations, a subject, an artifactType, an unknown
        // member, and a layout unlike ours.
        let existing = br#"{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "artifactType": "application/vnd.example.thing",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "annotations": {"keep": "me"}},
  "layers": [
    {"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "size": 3, "digest": "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "annotations": {"dev.cosignproject.cosign/signature": "AAAA", "org.example/extra": "\u00e9\u003c"}}
  ],
  "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 7, "digest": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
  "annotations": {"org.opencontainers.image.created": "2026-01-01T00:00:00Z", "com.example/owner": "team"},
  "x-vendor-extension": {"nested": [1, 2.50, {"a": null}], "flag": true}
}"#;
        SignatureManifest::parse(existing).unwrap();
        let layer = signed_layer("new");
        let config = br#"{"rootfs":{"diff_ids":[]}}"#;
        let out = SignatureManifest::append_to(existing, &layer, config).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        let original = String::from_utf8_lossy(existing);
        // Everything before the config's size is untouched, and so is
        // everything after the old last layer except the inserted one.
        let old_tail = original
            .split_once(r#""org.example/extra": "\u00e9\u003c"}}"#)
            .unwrap()
            .1;
        assert!(text.ends_with(old_tail), "{text}");
        for kept in [
            r#""artifactType": "application/vnd.example.thing""#,
            r#""annotations": {"keep": "me"}"#,
            r#""subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 7"#,
            r#""annotations": {"org.opencontainers.image.created": "2026-01-01T00:00:00Z", "com.example/owner": "team"}"#,
            r#""x-vendor-extension": {"nested": [1, 2.50, {"a": null}], "flag": true}"#,
            r#""org.example/extra": "\u00e9\u003c"}}"#,
        ] {
            assert!(text.contains(kept), "lost {kept}");
        }
        // The only differences: the config descriptor and the new layer.
        let mut want: serde_json::Value = serde_json::from_slice(existing).unwrap();
        let got: serde_json::Value = serde_json::from_slice(&out).unwrap();
        want["config"]["size"] = config.len().into();
        want["config"]["digest"] = Digest::sha256_of(config).to_string().into();
        let mut layer_json = String::new();
        layer.write_json(&mut layer_json);
        want["layers"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::from_str(&layer_json).unwrap());
        assert_eq!(got, want);

        let config = br#"{"created":"2026-01-01T00:00:00Z","rootfs":{"type":"layers","diff_ids":["sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"]},"x-extra":{"b":1},"history":[{"created":"2026-01-01T00:00:00Z","comment":"by another tool"}]}"#;
        let out = SignatureManifest::append_to_config(config, &layer.digest).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!(
                r#"{{"created":"2026-01-01T00:00:00Z","rootfs":{{"type":"layers","diff_ids":["sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","{}"]}},"x-extra":{{"b":1}},"history":[{{"created":"2026-01-01T00:00:00Z","comment":"by another tool"}},{{"created":"0001-01-01T00:00:00Z"}}]}}"#,
                layer.digest
            )
        );
    }

    #[test]
    fn appending_refuses_documents_it_cannot_edit_safely() {
        let layer = signed_layer("x");
        let dup_config = br#"{"schemaVersion":2,"config":{"size":1,"digest":"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},"config":{},"layers":[]}"#;
        assert!(SignatureManifest::append_to(dup_config, &layer, b"{}").is_err());
        let no_config = br#"{"schemaVersion":2,"layers":[]}"#;
        assert!(SignatureManifest::append_to(no_config, &layer, b"{}").is_err());
        assert!(SignatureManifest::append_to_config(b"{}", &layer.digest).is_err());
        assert!(SignatureManifest::append_to_config(b"[1]", &layer.digest).is_err());
    }
}
