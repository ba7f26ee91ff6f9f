//! RFC 3339 times in the configuration file and the trust files.

use std::str::FromStr;
use std::time::SystemTime;

/// `YYYY-MM-DDTHH:MM:SSZ` for `time` (second precision, UTC).
pub fn format_rfc3339(time: SystemTime) -> String {
    signet_pki::time::rfc3339(time)
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ`.
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    der::DateTime::from_str(text)
        .ok()
        .map(|t| t.to_system_time())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = signet_pki::time::from_unix_seconds(1_800_000_000);
        let s = format_rfc3339(t);
        assert_eq!(s, "2027-01-15T08:00:00Z");
        assert_eq!(parse_rfc3339(&s), Some(t));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
