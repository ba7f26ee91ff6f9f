//! Prometheus metrics in the text exposition format.
//!
//! Label values come from fixed sets (outcomes, failed-check names, cache
//! sources, request kinds), never from what clients send, so the number of
//! series stays bounded.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use hyper::Response;

use crate::cache::CacheStats;
use crate::serve::Body;

/// Latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
];

type Labels = Vec<(&'static str, &'static str)>;

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

enum Family {
    Counter(BTreeMap<Labels, u64>),
    Histogram(BTreeMap<Labels, Histogram>),
}

struct Described {
    help: &'static str,
    family: Family,
}

/// A registry of counters and histograms.
#[derive(Default)]
pub struct Metrics {
    families: Mutex<BTreeMap<&'static str, Described>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<&'static str, Described>> {
        self.families.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds one to counter `name` with `labels`.
    pub fn inc(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &'static str)],
    ) {
        self.add(name, help, labels, 1);
    }

    /// Adds `n` to counter `name` with `labels`.
    pub fn add(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &'static str)],
        n: u64,
    ) {
        let mut families = self.lock();
        let described = families.entry(name).or_insert_with(|| Described {
            help,
            family: Family::Counter(BTreeMap::new()),
        });
        if let Family::Counter(series) = &mut described.family {
            *series.entry(labels.to_vec()).or_default() += n;
        }
    }

    /// Records `elapsed` in histogram `name` with `labels`.
    pub fn observe(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &'static str)],
        elapsed: Duration,
    ) {
        let seconds = elapsed.as_secs_f64();
        let mut families = self.lock();
        let described = families.entry(name).or_insert_with(|| Described {
            help,
            family: Family::Histogram(BTreeMap::new()),
        });
        if let Family::Histogram(series) = &mut described.family {
            let h = series.entry(labels.to_vec()).or_default();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.sum += seconds;
            h.count += 1;
        }
    }

    /// The value of counter `name` with exactly `labels` (tests).
    pub fn counter(&self, name: &str, labels: &[(&'static str, &'static str)]) -> u64 {
        match self.lock().get(name).map(|d| &d.family) {
            Some(Family::Counter(series)) => series.get(labels).copied().unwrap_or(0),
            _ => 0,
        }
    }

    /// The `/metrics` answer of the gate and the webhook: everything counted,
    /// then the shared cache's gauges at scrape time.
    pub(crate) fn response(&self, stats: &CacheStats) -> Response<Body> {
        let body = self.render(&[
            (
                "signet_cache_positive_entries",
                "Allowed decisions held in the cache.",
                stats.positive_entries as f64,
            ),
            (
                "signet_cache_negative_entries",
                "Refusals held in the cache.",
                stats.negative_entries as f64,
            ),
            (
                "signet_cache_in_flight",
                "Verifications under way.",
                stats.in_flight as f64,
            ),
            (
                "signet_cache_evaluations",
                "Verifications started since the start.",
                stats.evaluations as f64,
            ),
        ]);
        let mut response = Response::new(crate::serve::full(body));
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
        );
        response
    }

    /// Everything, in the text exposition format, followed by `extra`
    /// (gauges the caller computes at scrape time).
    pub fn render(&self, extra: &[(&'static str, &'static str, f64)]) -> String {
        let mut out = String::new();
        for (name, described) in self.lock().iter() {
            match &described.family {
                Family::Counter(series) => {
                    let _ = writeln!(
                        out,
                        "# HELP {name} {}\n# TYPE {name} counter",
                        described.help
                    );
                    for (labels, value) in series {
                        let _ = writeln!(out, "{name}{} {value}", label_text(labels, None));
                    }
                }
                Family::Histogram(series) => {
                    let _ = writeln!(
                        out,
                        "# HELP {name} {}\n# TYPE {name} histogram",
                        described.help
                    );
                    for (labels, h) in series {
                        for (i, bound) in BUCKETS.iter().enumerate() {
                            let le = bound.to_string();
                            let _ = writeln!(
                                out,
                                "{name}_bucket{} {}",
                                label_text(labels, Some(&le)),
                                h.counts[i]
                            );
                        }
                        let _ = writeln!(
                            out,
                            "{name}_bucket{} {}",
                            label_text(labels, Some("+Inf")),
                            h.count
                        );
                        let _ = writeln!(out, "{name}_sum{} {}", label_text(labels, None), h.sum);
                        let _ =
                            writeln!(out, "{name}_count{} {}", label_text(labels, None), h.count);
                    }
                }
            }
        }
        for (name, help, value) in extra {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}

fn label_text(labels: &Labels, le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::new();
        m.inc("x_total", "Xs.", &[("outcome", "allowed")]);
        m.inc("x_total", "Xs.", &[("outcome", "allowed")]);
        m.observe("lat_seconds", "Latency.", &[], Duration::from_millis(3));
        let text = m.render(&[("g", "A gauge.", 2.0)]);
        assert!(text.contains("x_total{outcome=\"allowed\"} 2"), "{text}");
        assert!(
            text.contains("lat_seconds_bucket{le=\"0.005\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("lat_seconds_bucket{le=\"0.002\"} 0"),
            "{text}"
        );
        assert!(text.contains("lat_seconds_count 1"), "{text}");
        assert!(text.contains("# TYPE g gauge\ng 2"), "{text}");
        assert_eq!(m.counter("x_total", &[("outcome", "allowed")]), 2);
    }
}
