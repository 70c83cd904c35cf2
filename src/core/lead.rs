//! What makes a lead usable: one set of rules and messages for every path that sends one (`find`, `find_many`,
//! `enrich`, `EnrichmentJob.create`, the CLI), so the same input is refused everywhere with the same words.

use serde_json::{Map, Value};

/// The fields of an enrichment result: its own, then the lead's it echoes (`LEAD_KEYS`, the tail).
pub const RESULT_FIELDS: &[&str] = &[
    "id",
    "status",
    "result",
    "error",
    "email",
    "linkedin_url",
    "linkedin_id",
    "name",
    "title",
    "company_name",
    "company_domain",
];

/// The fields of an enrichment lead.
pub const LEAD_KEYS: &[&str] = RESULT_FIELDS.split_at(4).1;

/// The fields of a company enrichment result: its own, then the company input it echoes (`COMPANY_KEYS`).
pub const COMPANY_RESULT_FIELDS: &[&str] = &["id", "status", "result", "error", "domain", "linkedin_url", "name"];

/// The fields of a company to enrich.
pub const COMPANY_KEYS: &[&str] = COMPANY_RESULT_FIELDS.split_at(4).1;

/// The fields of an email validation result (`status` and `error` only on results this SDK makes).
pub const EMAIL_RESULT_FIELDS: &[&str] = &["email", "result", "catch_all", "status", "error"];

/// What a lookup needs, for messages.
pub const IDENTIFIERS: &str =
    "`email`, `linkedin_url` (or `linkedin_id`), or `name` with `company_name` or `company_domain`";

/// Checks the format of one field's (trimmed, non-blank) value: emails look like emails, LinkedIn URLs point at
/// LinkedIn. Other fields take any text. The message names the field and shows the expected form.
pub fn check_value(field: &str, value: &str) -> Result<(), String> {
    match field {
        "email" => {
            let (local, domain) = value.split_once('@').unwrap_or(("", ""));
            let host_ok = domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.');
            if local.is_empty() || !host_ok || value.contains(char::is_whitespace) || domain.contains('@') {
                return Err(format!(
                    "`email` {value:?} is not an email address (like jane@example.com)"
                ));
            }
        }
        "linkedin_url" if !value.to_ascii_lowercase().contains("linkedin.com/") => {
            return Err(format!(
                "`linkedin_url` {value:?} is not a LinkedIn profile URL (like https://www.linkedin.com/in/jane-doe)"
            ));
        }
        _ => {}
    }
    Ok(())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
        Value::String(_) => "a string",
        Value::Null => "null",
    }
}

/// Whether a lead's fields name someone the API can look up (`IDENTIFIERS`; a title with the company also does).
pub fn identifies(lead: &Map<String, Value>) -> bool {
    let has = |k: &str| lead.contains_key(k);
    has("email")
        || has("linkedin_url")
        || has("linkedin_id")
        || ((has("name") || has("title")) && (has("company_name") || has("company_domain")))
}

/// Checks one lead: known keys, string values of the right form, and an identifier the API can use. Blank
/// values are dropped and the others trimmed. The message names the field and the fix.
pub fn check_lead(lead: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    let mut clean = Map::new();
    for (k, v) in lead {
        if !LEAD_KEYS.contains(&k.as_str()) {
            return Err(format!("unknown field `{k}`; lead fields are {}", LEAD_KEYS.join(", ")));
        }
        match v {
            Value::Null => {}
            Value::String(s) if s.trim().is_empty() => {}
            Value::String(s) => {
                let s = s.trim();
                check_value(k, s)?;
                clean.insert(k.clone(), Value::String(s.to_string()));
            }
            other => return Err(format!("field `{k}` must be a string, got {}", kind(other))),
        }
    }
    if !identifies(&clean) {
        return Err(format!("no usable identifier: give {IDENTIFIERS}"));
    }
    Ok(clean)
}

/// `check_lead` for the lead at `index` of a batch: the message starts with `lead {index}: `.
pub fn validate_lead(index: usize, lead: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    check_lead(lead).map_err(|e| format!("lead {index}: {e}"))
}

/// Checks one company to enrich: `domain` (a bare domain; a website URL is cut down to its domain),
/// `linkedin_url` (a LinkedIn page) and/or `name`, at least one. Blank values are dropped, the others trimmed.
pub fn check_company(company: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    let mut clean = Map::new();
    for (k, v) in company {
        if !COMPANY_KEYS.contains(&k.as_str()) {
            return Err(format!(
                "unknown field `{k}`; company fields are {}",
                COMPANY_KEYS.join(", ")
            ));
        }
        let s = match v {
            Value::Null => continue,
            Value::String(s) if s.trim().is_empty() => continue,
            Value::String(s) => s.trim(),
            other => return Err(format!("field `{k}` must be a string, got {}", kind(other))),
        };
        let value = match k.as_str() {
            "domain" => bare_domain(s)?,
            "linkedin_url" => {
                check_value(k, s).map_err(|_| {
                    format!(
                        "`linkedin_url` {s:?} is not a LinkedIn page URL (like https://www.linkedin.com/company/techco)"
                    )
                })?;
                s.to_string()
            }
            _ => s.to_string(),
        };
        clean.insert(k.clone(), Value::String(value));
    }
    if clean.is_empty() {
        return Err("no usable identifier: give `domain` (like techco.com), `linkedin_url` or `name`".into());
    }
    Ok(clean)
}

/// `example.com` from `example.com`, `https://www.Example.com/about` or `www.example.com`.
fn bare_domain(s: &str) -> Result<String, String> {
    let lower = s.to_ascii_lowercase();
    let rest = lower.split_once("://").map_or(lower.as_str(), |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.strip_prefix("www.").unwrap_or(host);
    let ok = host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with('.')
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if ok {
        Ok(host.to_string())
    } else {
        Err(format!("`domain` {s:?} is not a domain or website (like techco.com)"))
    }
}

/// Checks one email to validate: `Ok` with it trimmed, or why it is not an email address (it is then answered
/// `invalid` without being sent or charged).
pub fn check_email(email: &str) -> Result<String, String> {
    let email = email.trim();
    if email.is_empty() {
        return Err("the email is empty".into());
    }
    check_value("email", email)?;
    Ok(email.to_string())
}

/// The lead fields a result echoes, in a canonical form: results are matched back to leads by it.
pub fn lead_signature(fields: &Map<String, Value>) -> String {
    signature(LEAD_KEYS, fields)
}

/// The `keys` of an input or of a result's echo, in a canonical form: results are matched back to inputs by it.
pub fn signature(keys: &[&str], fields: &Map<String, Value>) -> String {
    let mut parts: Vec<String> = keys
        .iter()
        .filter_map(|k| {
            fields
                .get(*k)
                .and_then(Value::as_str)
                .map(|v| format!("{k}={}", v.trim().to_lowercase()))
        })
        .collect();
    parts.sort();
    parts.join("\u{1f}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testing::object;
    use serde_json::json;

    #[test]
    fn values_are_checked_by_field() {
        let cases: &[(&str, &str, bool)] = &[
            ("email", "jane@techco.com", true),
            ("email", "jane.o'neil+x@mail.example.co.uk", true),
            ("email", "jane at example dot com", false),
            ("email", "jane@localhost", false),
            ("email", "@techco.com", false),
            ("email", "jane@.com", false),
            ("email", "jane@techco.", false),
            ("email", "ja ne@techco.com", false),
            ("email", "a@b@techco.com", false),
            ("linkedin_url", "https://www.linkedin.com/in/jane-doe", true),
            ("linkedin_url", "LinkedIn.com/in/jane", true),
            ("linkedin_url", "https://example.com/in/jane", false),
            ("linkedin_id", "jane-doe", true),
            ("name", "anything at all", true),
        ];
        for (field, value, ok) in cases {
            assert_eq!(check_value(field, value).is_ok(), *ok, "{field}={value}");
        }
        let e = check_value("email", "jane at example dot com").unwrap_err();
        assert!(e.contains("`email`") && e.contains("jane@example.com"), "{e}");
    }

    #[test]
    fn leads_are_trimmed_checked_and_named_by_index() {
        let ok = validate_lead(
            0,
            &object(json!({"email": "  jane@techco.com ", "title": " ", "name": null})),
        )
        .unwrap();
        assert_eq!(Value::Object(ok), json!({"email": "jane@techco.com"}));
        for (v, words) in [
            (json!({"email": "jane at example dot com"}), "lead 3: `email`"),
            (json!({"linkedin_url": "example.com/jane"}), "lead 3: `linkedin_url`"),
            (json!({"emial": "x"}), "lead 3: unknown field `emial`"),
            (
                json!({"email": 5}),
                "lead 3: field `email` must be a string, got a number",
            ),
            (json!({"name": "Jane Doe"}), "lead 3: no usable identifier"),
            (json!({"company_name": "TechCo"}), "lead 3: no usable identifier"),
        ] {
            let e = validate_lead(3, &object(v.clone())).unwrap_err();
            assert!(e.contains(words), "{v}: {e}");
        }
        assert!(validate_lead(0, &object(json!({"title": "CEO", "company_domain": "techco.com"}))).is_ok());
    }

    #[test]
    fn companies_are_checked_and_domains_cut_down() {
        let ok = check_company(&object(json!({"domain": " https://www.TechCo.com/about ", "name": ""}))).unwrap();
        assert_eq!(ok, object(json!({"domain": "techco.com"})));
        let cases: &[(Value, &str)] = &[
            (json!({}), "no usable identifier"),
            (json!({"domain": "   "}), "no usable identifier"),
            (json!({"website": "techco.com"}), "unknown field `website`"),
            (json!({"domain": "not a domain"}), "not a domain"),
            (json!({"domain": 5}), "must be a string, got a number"),
            (json!({"linkedin_url": "https://example.com/x"}), "not a LinkedIn page"),
        ];
        for (input, message) in cases {
            let e = check_company(&object(input.clone())).unwrap_err();
            assert!(e.contains(message), "{input}: {e}");
        }
        assert!(check_company(&object(json!({"name": "TechCo"}))).is_ok());
    }

    #[test]
    fn emails_are_trimmed_or_refused() {
        assert_eq!(check_email(" jane@techco.com ").unwrap(), "jane@techco.com");
        assert!(check_email("").unwrap_err().contains("empty"));
        assert!(check_email("jane at techco")
            .unwrap_err()
            .contains("not an email address"));
    }

    #[test]
    fn signatures_ignore_case_order_and_other_keys() {
        let a = object(json!({"domain": "TechCo.com ", "name": "TechCo"}));
        let b = object(json!({"name": "techco", "domain": "techco.com", "status": "x"}));
        assert_eq!(signature(COMPANY_KEYS, &a), signature(COMPANY_KEYS, &b));
    }
}
