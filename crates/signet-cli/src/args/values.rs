//! Flag values written the way cosign (Go's `flag`/`pflag`) reads them, so
//! that runbook lines keep their meaning: booleans as `strconv.ParseBool`
//! takes them, durations as `time.ParseDuration` does.

use std::time::Duration;

/// `strconv.ParseBool`: `1 t T TRUE true True` and `0 f F FALSE false False`.
pub fn go_bool(value: &str) -> Result<bool, String> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("{value:?} is not a boolean (true or false)")),
    }
}

/// `time.ParseDuration` for non-negative values: a sequence of decimal
/// numbers, each with a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), such as
/// `90s`, `1m30s`, `1.5h` or `3m0s`; a bare `0` is zero.
pub fn go_duration(value: &str) -> Result<Duration, String> {
    let bad = || format!("{value:?} is not a duration (for example 30s, 5m or 1h30m)");
    let text = value.strip_prefix('+').unwrap_or(value);
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err(bad());
    }
    let mut rest = text;
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let (number, tail) = rest.split_at(number_len);
        if number.is_empty() || number == "." {
            return Err(bad());
        }
        let number: f64 = number.parse().map_err(|_| bad())?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let seconds = match unit {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += number * seconds;
        rest = tail;
    }
    // Go's limit is about 290 years; anything near it means "never".
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

/// Prints a duration as Go does for whole seconds and above (`3m0s`, `1h0m0s`, `90ms`).
pub fn go_duration_string(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let frac = d.subsec_millis();
    let s = if frac == 0 {
        format!("{s}s")
    } else {
        let frac = format!("{frac:03}");
        format!("{s}.{}s", frac.trim_end_matches('0'))
    };
    match (h, m) {
        (0, 0) => s,
        (0, m) => format!("{m}m{s}"),
        (h, m) => format!("{h}h{m}m{s}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_as_go_reads_them() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(go_bool(t), Ok(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(go_bool(f), Ok(false), "{f}");
        }
        for bad in ["", "yes", "tRuE", "2", " true"] {
            assert!(go_bool(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations_as_go_reads_them() {
        let cases = [
            ("0", 0.0),
            ("3m0s", 180.0),
            ("90s", 90.0),
            ("1h30m", 5400.0),
            ("1.5h", 5400.0),
            ("250ms", 0.25),
            ("10us", 0.00001),
            ("+5s", 5.0),
        ];
        for (text, secs) in cases {
            let got = go_duration(text).unwrap();
            assert!((got.as_secs_f64() - secs).abs() < 1e-9, "{text}: {got:?}");
        }
        for bad in ["", "5", "s", "1x", "-5s", "1..5s", ".s", "3m0"] {
            assert!(go_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations_print_as_go_prints_them() {
        assert_eq!(go_duration_string(Duration::from_secs(180)), "3m0s");
        assert_eq!(go_duration_string(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(go_duration_string(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration_string(Duration::from_millis(90)), "90ms");
    }
}
