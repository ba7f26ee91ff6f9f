//! RFC 3161 timestamps of a bundle, verified against the trusted timestamp
//! authorities. As in sigstore-go, a timestamp that does not verify is set
//! aside rather than failing the bundle (it proves nothing either way), and
//! at most one timestamp per authority counts.

use signet_pki::timestamp::{
    TimestampOptions, VerifiedTimestamp, verify_timestamp_response, verify_timestamp_token,
};

use crate::result::{TimeSource, VerifiedTime};
use crate::trust::TrustMaterial;

/// What the timestamps established.
#[derive(Debug, Default)]
pub(crate) struct TimestampEvidence {
    pub(crate) times: Vec<VerifiedTime>,
    /// Why each timestamp that did not count was set aside.
    pub(crate) failures: Vec<String>,
}

/// Verifies each of `timestamps` (DER `TimeStampResp` or bare token) over
/// `signature`, the bytes Sigstore timestamps.
pub(crate) fn verify_timestamps(
    trust: &TrustMaterial,
    timestamps: &[Vec<u8>],
    signature: &[u8],
) -> TimestampEvidence {
    let mut out = TimestampEvidence::default();
    let mut authorities_counted = Vec::new();
    for (i, token) in timestamps.iter().enumerate() {
        let n = i + 1;
        if trust.tsas.is_empty() {
            out.failures.push(format!(
                "timestamp {n} set aside: the trusted root lists no timestamp authority"
            ));
            continue;
        }
        match verify_one(trust, token, signature) {
            Ok(stamp) => {
                if authorities_counted.contains(&stamp.authority) {
                    out.failures.push(format!(
                        "timestamp {n} set aside: another timestamp of the same authority already counts"
                    ));
                    continue;
                }
                authorities_counted.push(stamp.authority);
                out.times.push(VerifiedTime::new(
                    TimeSource::SignedTimestamp {
                        authority: trust.tsa_uri(stamp.authority).to_owned(),
                    },
                    stamp.time,
                ));
            }
            Err(reason) => out
                .failures
                .push(format!("timestamp {n} set aside: {reason}")),
        }
    }
    out
}

fn verify_one(
    trust: &TrustMaterial,
    token: &[u8],
    signature: &[u8],
) -> Result<VerifiedTimestamp, String> {
    let options = TimestampOptions::default();
    // Bundles carry the whole TimeStampResp; some writers keep only the
    // token. The response form is tried first; when the bytes are not a
    // response at all, the token form's error is the one that explains.
    match verify_timestamp_response(token, signature, &trust.tsas, &options) {
        Ok(v) => Ok(v),
        Err(signet_pki::error::TimestampError::Decode(_)) => {
            verify_timestamp_token(token, signature, &trust.tsas, &options)
                .map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}
