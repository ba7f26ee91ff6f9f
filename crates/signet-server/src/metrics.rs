//! Prometheus metrics: counters and histograms with labels, rendered in the
//! text exposition format at `/metrics`.
//!
//! Every service records into one [`Metrics`] registry. Label values come
//! from a fixed set (route templates, configured issuers, outcome names), so
//! the number of series stays bounded whatever clients send.
//!
//! ```
//! use signet_server::metrics::Metrics;
//! let m = Metrics::new();
//! m.describe_counter("signet_example_total", "Examples seen.");
//! m.inc("signet_example_total", &[("kind", "good")]);
//! assert!(m.render().contains("signet_example_total{kind=\"good\"} 1"));
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Histogram buckets for request latencies, in seconds.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Most series one metric may hold; further label combinations are folded
/// into one series labelled `overflow`.
const MAX_SERIES: usize = 2048;

type Labels = Vec<(&'static str, String)>;

#[derive(Default)]
struct Histogram {
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

enum Family {
    Counter {
        help: &'static str,
        series: BTreeMap<Labels, u64>,
    },
    Gauge {
        help: &'static str,
        series: BTreeMap<Labels, f64>,
    },
    Histogram {
        help: &'static str,
        bounds: &'static [f64],
        series: BTreeMap<Labels, Histogram>,
    },
}

/// A registry of metric families.
#[derive(Default)]
pub struct Metrics {
    families: Mutex<BTreeMap<&'static str, Family>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn labels(pairs: &[(&'static str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

fn overflow(pairs: &[(&'static str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, _)| (*k, "overflow".to_owned()))
        .collect()
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<&'static str, Family>> {
        // A panic elsewhere while holding the lock leaves counts that are
        // still worth reporting.
        self.families.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Declares a counter (idempotent).
    pub fn describe_counter(&self, name: &'static str, help: &'static str) {
        self.lock().entry(name).or_insert(Family::Counter {
            help,
            series: BTreeMap::new(),
        });
    }

    /// Declares a gauge (idempotent).
    pub fn describe_gauge(&self, name: &'static str, help: &'static str) {
        self.lock().entry(name).or_insert(Family::Gauge {
            help,
            series: BTreeMap::new(),
        });
    }

    /// Declares a histogram with `bounds` (idempotent).
    pub fn describe_histogram(
        &self,
        name: &'static str,
        help: &'static str,
        bounds: &'static [f64],
    ) {
        self.lock().entry(name).or_insert(Family::Histogram {
            help,
            bounds,
            series: BTreeMap::new(),
        });
    }

    /// Adds one to a counter (declared on first use if need be).
    pub fn inc(&self, name: &'static str, pairs: &[(&'static str, &str)]) {
        self.add(name, pairs, 1);
    }

    /// Adds `n` to a counter.
    pub fn add(&self, name: &'static str, pairs: &[(&'static str, &str)], n: u64) {
        let mut families = self.lock();
        let family = families.entry(name).or_insert(Family::Counter {
            help: "",
            series: BTreeMap::new(),
        });
        if let Family::Counter { series, .. } = family {
            let key = if series.len() < MAX_SERIES {
                labels(pairs)
            } else {
                overflow(pairs)
            };
            *series.entry(key).or_insert(0) += n;
        }
    }

    /// Sets a gauge.
    pub fn set(&self, name: &'static str, pairs: &[(&'static str, &str)], value: f64) {
        let mut families = self.lock();
        let family = families.entry(name).or_insert(Family::Gauge {
            help: "",
            series: BTreeMap::new(),
        });
        if let Family::Gauge { series, .. } = family {
            let key = if series.len() < MAX_SERIES {
                labels(pairs)
            } else {
                overflow(pairs)
            };
            series.insert(key, value);
        }
    }

    /// Records one observation of a histogram (declared with
    /// [`LATENCY_BUCKETS`] on first use if need be).
    pub fn observe(&self, name: &'static str, pairs: &[(&'static str, &str)], value: f64) {
        let mut families = self.lock();
        let family = families.entry(name).or_insert(Family::Histogram {
            help: "",
            bounds: &LATENCY_BUCKETS,
            series: BTreeMap::new(),
        });
        if let Family::Histogram { bounds, series, .. } = family {
            let key = if series.len() < MAX_SERIES {
                labels(pairs)
            } else {
                overflow(pairs)
            };
            let h = series.entry(key).or_insert_with(|| Histogram {
                buckets: vec![0; bounds.len()],
                ..Histogram::default()
            });
            for (slot, bound) in h.buckets.iter_mut().zip(bounds.iter()) {
                if value <= *bound {
                    *slot += 1;
                }
            }
            h.sum += value;
            h.count += 1;
        }
    }

    /// Records a duration in seconds.
    pub fn observe_duration(
        &self,
        name: &'static str,
        pairs: &[(&'static str, &str)],
        d: Duration,
    ) {
        self.observe(name, pairs, d.as_secs_f64());
    }

    /// A counter's current value (for tests and readiness reports).
    pub fn counter_value(&self, name: &str, pairs: &[(&'static str, &str)]) -> u64 {
        match self.lock().get(name) {
            Some(Family::Counter { series, .. }) => {
                series.get(&labels(pairs)).copied().unwrap_or(0)
            }
            _ => 0,
        }
    }

    /// The text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let families = self.lock();
        let mut out = String::new();
        for (name, family) in families.iter() {
            match family {
                Family::Counter { help, series } => {
                    header(&mut out, name, help, "counter");
                    for (l, v) in series {
                        let _ = writeln!(out, "{name}{} {v}", render_labels(l, None));
                    }
                }
                Family::Gauge { help, series } => {
                    header(&mut out, name, help, "gauge");
                    for (l, v) in series {
                        let _ = writeln!(out, "{name}{} {}", render_labels(l, None), number(*v));
                    }
                }
                Family::Histogram {
                    help,
                    bounds,
                    series,
                } => {
                    header(&mut out, name, help, "histogram");
                    for (l, h) in series {
                        for (bound, count) in bounds.iter().zip(&h.buckets) {
                            let le = number(*bound);
                            let _ = writeln!(
                                out,
                                "{name}_bucket{} {count}",
                                render_labels(l, Some(&le))
                            );
                        }
                        let _ = writeln!(
                            out,
                            "{name}_bucket{} {}",
                            render_labels(l, Some("+Inf")),
                            h.count
                        );
                        let _ = writeln!(
                            out,
                            "{name}_sum{} {}",
                            render_labels(l, None),
                            number(h.sum)
                        );
                        let _ = writeln!(out, "{name}_count{} {}", render_labels(l, None), h.count);
                    }
                }
            }
        }
        out
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    if !help.is_empty() {
        let _ = writeln!(
            out,
            "# HELP {name} {}",
            help.replace('\\', "\\\\").replace('\n', "\\n")
        );
    }
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn number(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else if v.is_nan() {
        "NaN".into()
    } else if v > 0.0 {
        "+Inf".into()
    } else {
        "-Inf".into()
    }
}

fn render_labels(labels: &Labels, le: Option<&str>) -> String {
    if labels.is_empty() && le.is_none() {
        return String::new();
    }
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    format!("{{{}}}", parts.join(","))
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::new();
        m.describe_counter("a_total", "A things.");
        m.inc("a_total", &[("route", "/x\"y")]);
        m.inc("a_total", &[("route", "/x\"y")]);
        m.describe_histogram("lat_seconds", "Latency.", &LATENCY_BUCKETS);
        m.observe("lat_seconds", &[("route", "/x")], 0.003);
        m.set("up", &[], 1.0);
        let text = m.render();
        assert!(text.contains("# TYPE a_total counter"), "{text}");
        assert!(text.contains("a_total{route=\"/x\\\"y\"} 2"), "{text}");
        assert!(
            text.contains("lat_seconds_bucket{route=\"/x\",le=\"0.0025\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("lat_seconds_bucket{route=\"/x\",le=\"0.005\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("lat_seconds_bucket{route=\"/x\",le=\"+Inf\"} 1"),
            "{text}"
        );
        assert!(text.contains("lat_seconds_count{route=\"/x\"} 1"), "{text}");
        assert!(text.contains("up 1"), "{text}");
        assert_eq!(m.counter_value("a_total", &[("route", "/x\"y")]), 2);
    }

    #[test]
    fn series_are_bounded() {
        let m = Metrics::new();
        for i in 0..(MAX_SERIES + 10) {
            m.inc("many_total", &[("k", &i.to_string())]);
        }
        assert_eq!(m.counter_value("many_total", &[("k", "overflow")]), 10);
    }
}
