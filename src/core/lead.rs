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
    let has = |k: &str| clean.contains_key(k);
    let identified = has("email")
        || has("linkedin_url")
        || has("linkedin_id")
        || ((has("name") || has("title")) && (has("company_name") || has("company_domain")));
    if !identified {
        return Err(format!("no usable identifier: give {IDENTIFIERS}"));
    }
    Ok(clean)
}

/// `check_lead` for the lead at `index` of a batch: the message starts with `lead {index}: `.
pub fn validate_lead(index: usize, lead: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    check_lead(lead).map_err(|e| format!("lead {index}: {e}"))
}

/// The lead fields a result echoes, in a canonical form: results are matched back to leads by it.
pub fn lead_signature(fields: &Map<String, Value>) -> String {
    let mut parts: Vec<String> = LEAD_KEYS
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
    use serde_json::json;

    fn lead(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

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
            &lead(json!({"email": "  jane@techco.com ", "title": " ", "name": null})),
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
            let e = validate_lead(3, &lead(v.clone())).unwrap_err();
            assert!(e.contains(words), "{v}: {e}");
        }
        assert!(validate_lead(0, &lead(json!({"title": "CEO", "company_domain": "techco.com"}))).is_ok());
    }
}
