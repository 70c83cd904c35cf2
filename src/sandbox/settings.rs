//! Behaviour settings, changeable while the sandbox runs. Every number the public docs leave open is one of these.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::jobs::Progression;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The one key the sandbox accepts as `Authorization: Bearer <api_key>`.
    pub api_key: String,
    pub email_credits: f64,
    pub phone_credits: f64,
    /// Requests per `rate_limit_window` seconds across routes; `None` turns the limit off.
    pub rate_limit: Option<u32>,
    pub rate_limit_window: f64,
    pub search_rate_limit: Option<u32>,
    pub search_rate_limit_window: f64,
    /// Forces the `Retry-After` of a 429 (else: whole seconds until a request would pass).
    pub rate_limit_retry_after: Option<u64>,
    /// Fraction of people whose first reveal (per kind) answers 408 `request_timeout`.
    pub reveal_timeout_rate: f64,
    pub reveal_retry_after: u64,
    /// `immediate`, `polls:N`, `seconds:S` or `never`.
    pub job_progression: Progression,
    pub poll_retry_after: u64,
    pub job_error_rate: f64,
    pub max_leads: usize,
    /// Email credits per enriched company (a multiple of 0.5), once per company per 24 h.
    pub company_enrichment_cost: f64,
    /// Emails accepted for validation per `validation_window_seconds` (a sliding window); `None` turns it off.
    pub validations_per_hour: Option<u32>,
    /// The validation limit's window: an hour, scaled down in tests.
    pub validation_window_seconds: f64,
    pub max_body_bytes: usize,
    pub fault_rate: f64,
    pub fault_statuses: Vec<u16>,
    pub drop_rate: f64,
    pub truncate_rate: f64,
    /// Seconds added before every response, plus up to `latency_jitter` more.
    pub latency: f64,
    pub latency_jitter: f64,
    pub content_type: String,
    /// How many requests `requests()` keeps (the oldest go first).
    pub capture_limit: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            api_key: "amp_test_sandbox".into(),
            email_credits: 100_000.0,
            phone_credits: 10_000.0,
            rate_limit: Some(500),
            rate_limit_window: 60.0,
            search_rate_limit: Some(30),
            search_rate_limit_window: 60.0,
            rate_limit_retry_after: None,
            reveal_timeout_rate: 0.0,
            reveal_retry_after: 1,
            job_progression: Progression::Polls(2),
            poll_retry_after: 1,
            job_error_rate: 0.0,
            max_leads: 10_000,
            company_enrichment_cost: 1.0,
            validations_per_hour: Some(15_000),
            validation_window_seconds: 3600.0,
            max_body_bytes: 16 * 1024 * 1024,
            fault_rate: 0.0,
            fault_statuses: vec![500, 502, 503],
            drop_rate: 0.0,
            truncate_rate: 0.0,
            latency: 0.0,
            latency_jitter: 0.0,
            content_type: "application/vnd.amp+json".into(),
            capture_limit: 100_000,
        }
    }
}

impl Settings {
    /// These settings with `changes` (a JSON object of setting names) applied, or what is wrong with them.
    pub fn merged(&self, changes: Value) -> Result<Settings, String> {
        let Value::Object(changes) = changes else {
            return Err("settings must be given as a mapping of names to values".into());
        };
        let mut current = serde_json::to_value(self).map_err(|e| e.to_string())?;
        if let Value::Object(map) = &mut current {
            for (k, v) in changes {
                if !map.contains_key(&k) {
                    let known: Vec<&String> = map.keys().collect();
                    return Err(format!("unknown sandbox setting `{k}`; known settings: {known:?}"));
                }
                map.insert(k, v);
            }
        }
        let merged: Settings = serde_json::from_value(current).map_err(|e| format!("bad sandbox setting: {e}"))?;
        merged.validate()?;
        Ok(merged)
    }

    pub fn validate(&self) -> Result<(), String> {
        let fraction = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("`{name}` is a fraction from 0 to 1, got {v}"))
            }
        };
        fraction("reveal_timeout_rate", self.reveal_timeout_rate)?;
        fraction("job_error_rate", self.job_error_rate)?;
        fraction("fault_rate", self.fault_rate)?;
        fraction("drop_rate", self.drop_rate)?;
        fraction("truncate_rate", self.truncate_rate)?;
        if self.api_key.trim().is_empty() {
            return Err("`api_key` must not be empty".into());
        }
        for (name, w) in [
            ("rate_limit_window", self.rate_limit_window),
            ("search_rate_limit_window", self.search_rate_limit_window),
            ("validation_window_seconds", self.validation_window_seconds),
        ] {
            if !(w.is_finite() && w > 0.0) {
                return Err(format!("`{name}` is a positive number of seconds, got {w}"));
            }
        }
        if self.rate_limit == Some(0) || self.search_rate_limit == Some(0) || self.validations_per_hour == Some(0) {
            return Err("a rate limit of 0 would refuse everything; use None to turn a limit off".into());
        }
        for (name, v) in [("latency", self.latency), ("latency_jitter", self.latency_jitter)] {
            if !(v.is_finite() && (0.0..=600.0).contains(&v)) {
                return Err(format!("`{name}` is seconds from 0 to 600, got {v}"));
            }
        }
        if self.email_credits < 0.0 || self.phone_credits < 0.0 {
            return Err("credit balances cannot be negative".into());
        }
        if let Some(s) = self.fault_statuses.iter().find(|s| !(400..=599).contains(*s)) {
            return Err(format!("`fault_statuses` holds HTTP error statuses (400-599), got {s}"));
        }
        if self.fault_rate > 0.0 && self.fault_statuses.is_empty() {
            return Err("`fault_rate` needs at least one status in `fault_statuses`".into());
        }
        let cost = self.company_enrichment_cost;
        // The email pool counts half credits (a found person costs 0.5), so a cost must be a whole number of them.
        if !(cost.is_finite() && cost >= 0.0 && (cost * 2.0).fract() == 0.0) {
            return Err(format!(
                "`company_enrichment_cost` is email credits in steps of 0.5 (0, 0.5, 1, ...), got {cost}"
            ));
        }
        if self.max_leads == 0 || self.max_body_bytes < 1024 {
            return Err("`max_leads` must be positive and `max_body_bytes` at least 1024".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merging_checks_names_and_values() {
        let s = Settings::default();
        let m = s
            .merged(json!({"rate_limit": 5, "job_progression": "polls:3"}))
            .unwrap();
        assert_eq!(m.rate_limit, Some(5));
        assert_eq!(m.job_progression, Progression::Polls(3));
        assert!(s
            .merged(json!({"rate_limt": 5}))
            .unwrap_err()
            .contains("unknown sandbox setting `rate_limt`"));
        assert!(s.merged(json!({"fault_rate": 2})).unwrap_err().contains("fraction"));
        assert!(s.merged(json!({"job_progression": "sometimes"})).is_err());
        assert!(s.merged(json!({"rate_limit": null})).unwrap().rate_limit.is_none());
        assert!(s.merged(json!({"company_enrichment_cost": 0.3})).is_err());
        assert!(s.merged(json!({"validation_window_seconds": 0})).is_err());
        assert!(s.merged(json!({"validations_per_hour": 0})).is_err());
        let m = s
            .merged(json!({"company_enrichment_cost": 2.5, "validations_per_hour": null}))
            .unwrap();
        assert_eq!((m.company_enrichment_cost, m.validations_per_hour), (2.5, None));
        assert_eq!(s.content_type, "application/vnd.amp+json");
    }
}
