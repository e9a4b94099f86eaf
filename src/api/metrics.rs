//! `/metrics` in the Prometheus text format (version 0.0.4), written here: request counts
//! and duration histograms per surface are kept in memory by the router; enrollment
//! changes are counted by the core; tasks, outbox and database size are read at scrape.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, PoisonError};

/// Upper bounds (seconds) of the request-duration buckets.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Keys are static strings (route tags, known methods): counting a request allocates nothing.
/// A gauge read at scrape: (name, help, [(labels, value)]).
pub type Gauge<'a> = (&'a str, &'a str, Vec<(String, f64)>);

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, &'static str, u16), u64>>,
    durations: Mutex<BTreeMap<&'static str, Histogram>>,
}

fn known_method(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

impl Metrics {
    /// One answered request of `surface` (the route's tag, or "unmatched").
    pub fn observe(&self, surface: &'static str, method: &str, status: u16, seconds: f64) {
        let key = (surface, known_method(method), status);
        *self.requests.lock().unwrap_or_else(PoisonError::into_inner).entry(key).or_default() += 1;
        let mut durations = self.durations.lock().unwrap_or_else(PoisonError::into_inner);
        let h = durations.entry(surface).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// The exposition text, with the gauges read at scrape.
    pub fn render(&self, gauges: &[Gauge]) -> String {
        let mut out = String::new();
        out.push_str("# HELP rollcall_http_requests_total Requests answered, by surface, method and status.\n");
        out.push_str("# TYPE rollcall_http_requests_total counter\n");
        for ((surface, method, status), n) in self.requests.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            out.push_str(&format!(
                "rollcall_http_requests_total{{surface=\"{}\",method=\"{}\",status=\"{status}\"}} {n}\n",
                label(surface),
                label(method)
            ));
        }
        out.push_str("# HELP rollcall_http_request_duration_seconds Time to answer, by surface.\n");
        out.push_str("# TYPE rollcall_http_request_duration_seconds histogram\n");
        for (surface, h) in self.durations.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            let surface = label(surface);
            for (i, bound) in BUCKETS.iter().enumerate() {
                out.push_str(&format!(
                    "rollcall_http_request_duration_seconds_bucket{{surface=\"{surface}\",le=\"{bound}\"}} {}\n",
                    h.counts[i]
                ));
            }
            out.push_str(&format!(
                "rollcall_http_request_duration_seconds_bucket{{surface=\"{surface}\",le=\"+Inf\"}} {}\n",
                h.count
            ));
            out.push_str(&format!("rollcall_http_request_duration_seconds_sum{{surface=\"{surface}\"}} {}\n", h.sum));
            out.push_str(&format!(
                "rollcall_http_request_duration_seconds_count{{surface=\"{surface}\"}} {}\n",
                h.count
            ));
        }
        out.push_str("# HELP rollcall_enrollments_total Enrollment changes since start, by action.\n");
        out.push_str("# TYPE rollcall_enrollments_total counter\n");
        for (action, counter) in crate::core::enrollment::CHANGES.iter() {
            out.push_str(&format!(
                "rollcall_enrollments_total{{action=\"{action}\"}} {}\n",
                counter.load(Ordering::Relaxed)
            ));
        }
        for (name, help, values) in gauges {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
            for (labels, value) in values {
                if labels.is_empty() {
                    out.push_str(&format!("{name} {value}\n"));
                } else {
                    out.push_str(&format!("{name}{{{labels}}} {value}\n"));
                }
            }
        }
        out
    }
}

/// A label value as the format writes it: backslash, quote and newline escaped.
pub fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::Metrics;

    #[test]
    fn renders_counters_and_cumulative_histograms() {
        let m = Metrics::default();
        m.observe("admin", "GET", 200, 0.002);
        m.observe("admin", "GET", 200, 0.2);
        let text = m.render(&[("rollcall_db_size_bytes", "Size.", vec![(String::new(), 4096.0)])]);
        assert!(
            text.contains("rollcall_http_requests_total{surface=\"admin\",method=\"GET\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(text.contains("rollcall_http_request_duration_seconds_bucket{surface=\"admin\",le=\"0.0025\"} 1"));
        assert!(text.contains("rollcall_http_request_duration_seconds_bucket{surface=\"admin\",le=\"+Inf\"} 2"));
        assert!(text.contains("rollcall_db_size_bytes 4096"));
        assert_eq!(super::label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
