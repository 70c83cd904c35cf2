//! Email validation requests: their checks and verdicts (the job machinery is `job_routes`, the pure parts
//! `validation`).

use serde_json::{Map, Value};

use super::error::{ApiError, ErrorItem};
use super::job_routes::{check_items, input_list, reject_unknown_keys, Draft};
use super::jobs::{Kind, Outcome};
use super::ledger::Insufficient;
use super::routes::insufficient;
use super::state::State;
use super::validation::verdict;

/// At most this many emails a request, as the API documents.
pub const MAX_EMAILS: usize = 100_000;

/// Checks an email validation request and draws each email's verdict.
pub fn job(s: &State, body: &Map<String, Value>) -> Result<Draft, ApiError> {
    reject_unknown_keys(body, &["emails"])?;
    let items = input_list(body, "emails", "email", MAX_EMAILS)?;
    let hourly = s.settings.read().validations_per_hour;
    if let Some(limit) = hourly.filter(|l| items.len() > *l as usize) {
        return Err(ErrorItem::unsupported(format!(
            "{} emails are more than the hourly limit of {limit} email validations; split them into requests of at most {limit}, spread over the hour.",
            items.len()
        ))
        .pointer("/emails")
        .into());
    }
    let inputs = check_items("emails", items, &["email"], "a non-empty `email`")?;
    if s.ledger.lock().email_credits() < 1.0 {
        return Err(insufficient(Insufficient("email")).into());
    }
    let data = s.data.read();
    let outcomes = inputs
        .iter()
        .map(|e| {
            let email = e.get("email").and_then(Value::as_str).unwrap_or_default();
            let (verdict, catch_all) = verdict(s.seed, email, |e| data.person_by_email(e).is_some());
            Outcome::Validated { verdict, catch_all }
        })
        .collect();
    Ok(Draft {
        kind: Kind::EmailValidations,
        inputs,
        outcomes,
    })
}
