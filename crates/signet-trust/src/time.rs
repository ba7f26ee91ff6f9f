//! Validity windows (`dev.sigstore.common.v1.TimeRange`), inclusive at both
//! ends as the Sigstore clients treat them.

use jiff::Timestamp;
use serde::Deserialize;

use crate::error::TrustError;

/// A validity window. `start` absent means "since forever", `end` absent
/// means "still valid".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeRange {
    /// First instant of validity.
    pub start: Option<Timestamp>,
    /// Last instant of validity (inclusive).
    pub end: Option<Timestamp>,
}

impl TimeRange {
    /// Valid from `start` on, with no end.
    pub fn since(start: Timestamp) -> Self {
        Self {
            start: Some(start),
            end: None,
        }
    }

    /// Whether `t` falls inside the window (both ends inclusive).
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t <= e)
    }

    pub(crate) fn write_json(&self, out: &mut String) {
        out.push('{');
        let mut first = true;
        if let Some(start) = self.start {
            signet_core::protojson::key(out, &mut first, "start");
            signet_core::protojson::string(out, &start.to_string());
        }
        if let Some(end) = self.end {
            signet_core::protojson::key(out, &mut first, "end");
            signet_core::protojson::string(out, &end.to_string());
        }
        out.push('}');
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct RawTimeRange {
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
}

impl RawTimeRange {
    pub(crate) fn read(self, what: &'static str) -> Result<TimeRange, TrustError> {
        let parse = |field: &str, text: Option<String>| {
            text.map(|t| {
                t.parse::<Timestamp>().map_err(|e| {
                    TrustError::malformed(
                        what,
                        format!("validFor.{field} {t:?} is not RFC 3339: {e}"),
                    )
                })
            })
            .transpose()
        };
        let range = TimeRange {
            start: parse("start", self.start)?,
            end: parse("end", self.end)?,
        };
        if let (Some(s), Some(e)) = (range.start, range.end)
            && e < s
        {
            return Err(TrustError::malformed(
                what,
                format!("validFor ends ({e}) before it starts ({s})"),
            ));
        }
        Ok(range)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_inclusive() {
        let s: Timestamp = "2021-01-12T11:53:27Z".parse().unwrap();
        let e: Timestamp = "2022-12-31T23:59:59.999Z".parse().unwrap();
        let r = TimeRange {
            start: Some(s),
            end: Some(e),
        };
        assert!(r.contains(s) && r.contains(e));
        assert!(!r.contains(e.checked_add(jiff::SignedDuration::from_millis(1)).unwrap()));
        assert!(TimeRange::default().contains(s));
        let mut out = String::new();
        r.write_json(&mut out);
        assert_eq!(
            out,
            r#"{"start":"2021-01-12T11:53:27Z","end":"2022-12-31T23:59:59.999Z"}"#
        );
    }
}
