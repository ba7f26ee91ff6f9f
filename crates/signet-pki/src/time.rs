//! Times: conversions between `SystemTime` and X.509 times, RFC 3339 display
//! for messages, and the validity windows trust material attaches to keys.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// RFC 3339 (UTC, second precision) for messages; times outside the years
/// 1970–9999 are shown as seconds relative to the Unix epoch.
pub fn rfc3339(time: SystemTime) -> String {
    match der::DateTime::from_system_time(time) {
        Ok(t) => t.to_string(),
        Err(_) => match time.duration_since(UNIX_EPOCH) {
            Ok(d) => format!("@{}", d.as_secs()),
            Err(e) => format!("@-{}", e.duration().as_secs()),
        },
    }
}

/// RFC 3339 with milliseconds, for SCT timestamps.
pub fn rfc3339_millis(time: SystemTime) -> String {
    let millis = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_millis())
        .unwrap_or(0);
    let whole = rfc3339(time);
    match whole.strip_suffix('Z') {
        Some(base) => format!("{base}.{millis:03}Z"),
        None => whole,
    }
}

/// Seconds since the Unix epoch (negative before it).
pub fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// The time `seconds` after the Unix epoch (before it when negative).
pub fn from_unix_seconds(seconds: i64) -> SystemTime {
    if seconds >= 0 {
        UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
    }
}

/// A window of time in which a key or CA may be used, as trust roots give it
/// (`validFor`). Either end may be open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeRange {
    /// First instant of the window (inclusive), or unbounded.
    pub start: Option<SystemTime>,
    /// Last instant of the window (inclusive), or unbounded.
    pub end: Option<SystemTime>,
}

impl TimeRange {
    /// A window open at both ends.
    pub const UNBOUNDED: TimeRange = TimeRange {
        start: None,
        end: None,
    };

    /// A window from `start` to `end`.
    pub fn new(start: Option<SystemTime>, end: Option<SystemTime>) -> Self {
        Self { start, end }
    }

    /// Whether `time` falls inside the window.
    pub fn contains(&self, time: SystemTime) -> bool {
        self.start.is_none_or(|s| time >= s) && self.end.is_none_or(|e| time <= e)
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let start = self.start.map(rfc3339).unwrap_or_else(|| "-inf".into());
        let end = self.end.map(rfc3339).unwrap_or_else(|| "+inf".into());
        write!(f, "[{start}, {end}]")
    }
}

/// An X.509 `Time` for `time`, UTCTime through 2049 and GeneralizedTime after,
/// as RFC 5280 requires. Sub-second precision is dropped.
pub(crate) fn to_x509(time: SystemTime) -> Result<x509_cert::time::Time, der::Error> {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map_err(|_| der::Error::from(der::ErrorKind::DateTime))?
        .as_secs();
    let dt = der::DateTime::from_unix_duration(Duration::from_secs(secs))?;
    Ok(x509_cert::time::Time::from(dt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_ranges() {
        let t = from_unix_seconds(1712085549);
        assert_eq!(rfc3339(t), "2024-04-02T19:19:09Z");
        assert_eq!(
            rfc3339_millis(t + Duration::from_millis(7)),
            "2024-04-02T19:19:09.007Z"
        );
        assert_eq!(unix_seconds(t), 1712085549);
        assert_eq!(unix_seconds(from_unix_seconds(-5)), -5);
        let r = TimeRange::new(Some(t), None);
        assert!(r.contains(t));
        assert!(!r.contains(t - Duration::from_secs(1)));
        assert_eq!(r.to_string(), "[2024-04-02T19:19:09Z, +inf]");
        assert!(TimeRange::UNBOUNDED.contains(UNIX_EPOCH));
    }
}
