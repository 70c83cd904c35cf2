//! Injected misbehaviour: scripted responses per route, and random faults repeatable from the seed.

use std::collections::{HashMap, VecDeque};

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::Deserialize;
use serde_json::Value;

/// One scripted response.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// 200 with no `body` lets the real handler answer.
    pub status: Option<u16>,
    /// A string is sent as is; anything else as JSON.
    pub body: Option<Value>,
    #[serde(default)]
    pub headers: HashMap<String, String>,
    /// Seconds to wait before answering.
    pub delay: Option<f64>,
    pub fault: Option<Fault>,
    /// The `Retry-After` of a scripted 408, 429 or 503 (default 1).
    pub retry_after: Option<u64>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Fault {
    /// Close the connection without answering.
    Drop,
    /// Answer with the body cut in half.
    Truncate,
    /// An HTML error page, as a proxy in front of the API would send.
    Html,
    /// A body that is not JSON, with a JSON content type.
    Malformed,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StepSpec {
    Status(u16),
    Full(Step),
}

/// Parses the steps given to `script()`.
pub fn parse_steps(value: Value) -> Result<Vec<Step>, String> {
    let specs: Vec<StepSpec> = serde_json::from_value(value).map_err(|_| {
        "script steps are a list of statuses (e.g. [429, 503, 200]) or of objects with `status`, `body`, `headers`, \
         `delay`, `fault` (drop | truncate | html | malformed) and `retry_after`"
            .to_string()
    })?;
    specs
        .into_iter()
        .map(|s| {
            let step = match s {
                StepSpec::Status(status) => Step {
                    status: Some(status),
                    ..Step::default()
                },
                StepSpec::Full(step) => step,
            };
            match step.status {
                Some(s) if !(100..=599).contains(&s) => Err(format!("script status {s} is not an HTTP status")),
                _ if step
                    .delay
                    .is_some_and(|d| !(d.is_finite() && (0.0..=600.0).contains(&d))) =>
                {
                    Err("script `delay` is seconds from 0 to 600".into())
                }
                _ => Ok(step),
            }
        })
        .collect()
}

/// Scripted steps by route key (`GET /people/find`, or a concrete path such as `GET /people/enrichment-requests/3`).
#[derive(Default)]
pub struct Scripts(HashMap<String, VecDeque<Step>>);

impl Scripts {
    pub fn push(&mut self, route: String, steps: Vec<Step>) {
        self.0.entry(route).or_default().extend(steps);
    }

    /// The next step for a request, trying its concrete path before its route template.
    pub fn next(&mut self, concrete: &str, template: &str) -> Option<Step> {
        for key in [concrete, template] {
            if let Some(q) = self.0.get_mut(key) {
                if let Some(step) = q.pop_front() {
                    return Some(step);
                }
            }
        }
        None
    }

    pub fn pending(&self) -> usize {
        self.0.values().map(VecDeque::len).sum()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// A uniform number in [0, 1) from the seed, a request's sequence number and a purpose: the same run of requests
/// meets the same faults.
pub fn chance(seed: u64, seq: u64, salt: u64) -> f64 {
    let key = seed ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    Pcg64Mcg::seed_from_u64(key).random()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn steps_parse_from_statuses_and_objects() {
        let steps = parse_steps(json!([429, {"status": 200, "delay": 0.5}, {"fault": "drop"}])).unwrap();
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[0].status, Some(429));
        assert_eq!(steps[2].fault, Some(Fault::Drop));
        assert!(parse_steps(json!([{"fault": "explode"}])).is_err());
        assert!(parse_steps(json!([99])).is_err());
        assert!(parse_steps(json!("429")).is_err());
    }

    #[test]
    fn scripts_prefer_the_concrete_path_and_run_out() {
        let mut s = Scripts::default();
        s.push(
            "GET /people/enrichment-requests/{id}".into(),
            parse_steps(json!([503])).unwrap(),
        );
        s.push(
            "GET /people/enrichment-requests/7".into(),
            parse_steps(json!([429])).unwrap(),
        );
        let t = "GET /people/enrichment-requests/{id}";
        assert_eq!(
            s.next("GET /people/enrichment-requests/7", t).unwrap().status,
            Some(429)
        );
        assert_eq!(
            s.next("GET /people/enrichment-requests/7", t).unwrap().status,
            Some(503)
        );
        assert!(s.next("GET /people/enrichment-requests/7", t).is_none());
    }

    #[test]
    fn chance_is_repeatable_and_spread() {
        assert_eq!(chance(1, 2, 3), chance(1, 2, 3));
        let hits = (0..10_000).filter(|&i| chance(42, i, 1) < 0.1).count();
        assert!((800..1200).contains(&hits), "{hits}");
    }
}
