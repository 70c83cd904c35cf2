//! A short fuzz of everything that reads what a server sent: model and page parsers, field getters and
//! `Retry-After`. Whatever the bytes, parsing ends in a value or a typed error, never a panic, and what parses
//! keeps the exact text it came from.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use serde_json::Value;

use super::error::Error;
use super::jobs::{EnrichmentResult, Snapshot};
use super::lead::RESULT_FIELDS;
use super::models::{Company, Person, SearchPage, COMPANY_FIELDS, PERSON_FIELDS};
use super::retry::parse_retry_after;
use super::transport::Response;

/// Any JSON value, nested a few levels, with the field names the parsers look for among the keys.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    let names: Vec<&'static str> = PERSON_FIELDS
        .iter()
        .chain(COMPANY_FIELDS)
        .chain(RESULT_FIELDS)
        .chain(&[
            "results",
            "_links",
            "next",
            "href",
            "_pagination",
            "page",
            "total",
            "status",
            "_errors",
        ])
        .copied()
        .collect();
    let key = prop_oneof![proptest::sample::select(names).prop_map(String::from), ".{0,6}"];
    leaf.prop_recursive(4, 48, 8, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Text a parser may be handed: valid JSON of any shape, JSON cut short, or arbitrary characters.
fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        json().prop_map(|v| v.to_string()),
        (json(), any::<prop::sample::Index>()).prop_map(|(v, cut)| {
            let s = v.to_string();
            let mut at = cut.index(s.len() + 1);
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            s[..at].to_string()
        }),
        ".{0,64}",
    ]
}

fn response(body: Vec<u8>, retry_after: &str) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(retry_after) {
        headers.insert(RETRY_AFTER, v);
    }
    Response {
        status: 200,
        headers,
        body: Bytes::from(body),
        request: "GET /fuzz".into(),
    }
}

/// Reads every documented field of a person (and of its company and phones) in every type a getter may ask for.
fn read_everything(p: &Person) {
    for name in PERSON_FIELDS {
        let _ = p.obj.get::<String>(name);
        let _ = p.obj.get::<f64>(name);
        let _ = p.obj.get::<Vec<Value>>(name);
        let _ = p.obj.get::<serde_json::Map<String, Value>>(name);
    }
    if let Some(c) = &p.company {
        for name in COMPANY_FIELDS {
            let _ = c.obj.get::<String>(name);
            let _ = c.obj.get::<i64>(name);
        }
    }
    for phone in p.phone_numbers.iter().flatten() {
        let _ = phone.obj.get::<String>("number");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn models_parse_or_explain(text in body()) {
        if let Ok(p) = Person::from_json(&text) {
            prop_assert_eq!(p.raw(), text.trim());
            read_everything(&p);
        }
        if let Ok(c) = Company::from_json(&text) {
            prop_assert_eq!(c.obj.text(), text.trim());
        }
        if let Ok(r) = EnrichmentResult::from_json(&text) {
            prop_assert_eq!(r.to_json(), text.trim());
            let _ = r.error();
        }
    }

    #[test]
    fn objects_of_any_shape_read_as_values_or_none(fields in proptest::collection::vec((
        proptest::sample::select(PERSON_FIELDS.to_vec()), json()), 0..12)) {
        let obj: serde_json::Map<String, Value> = fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let text = Value::Object(obj).to_string();
        let p = Person::from_json(&text);
        prop_assert!(p.is_ok(), "an object always parses as a person: {:?}", p.err());
        read_everything(&p.unwrap());
    }

    #[test]
    fn pages_parse_or_fail_with_a_decode_error(
        text in body(),
        raw in proptest::collection::vec(any::<u8>(), 0..64),
        retry_after in ".{0,12}",
    ) {
        for bytes in [text.clone().into_bytes(), raw.clone()] {
            let resp = response(bytes, &retry_after);
            let _ = resp.retry_after();
            for outcome in [SearchPage::<super::models::Person>::parse(&resp).map(|_| ()), Snapshot::parse(&resp, super::jobs::Kind::People).map(|_| ())] {
                if let Err(e) = outcome {
                    prop_assert!(matches!(e, Error::Decode(_)), "{e:?}");
                }
            }
        }
    }

    #[test]
    fn retry_after_never_panics(value in prop_oneof![
        ".{0,40}",
        any::<f64>().prop_map(|f| f.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        "[0-9]{15,40}(\\.[0-9]{1,5})?",
        "-?[0-9]{0,3}(e[+-]?[0-9]{1,4})?",
    ]) {
        if let Some(d) = parse_retry_after(&value, SystemTime::now()) {
            prop_assert!(d >= Duration::ZERO);
        }
    }
}

#[test]
fn retry_after_past_the_range_of_a_duration_is_the_longest_wait() {
    for v in ["1e300", "18446744073709551616", "99999999999999999999999.5"] {
        assert_eq!(parse_retry_after(v, SystemTime::now()), Some(Duration::MAX), "{v}");
    }
}

#[test]
fn a_person_keeps_its_shared_text() {
    let text: Arc<str> = Arc::from(r#"{"object":"person","company":{"object":"company","name":"X"}}"#);
    let p = Person::from_text(&text, 0, text.len()).unwrap();
    assert!(Arc::ptr_eq(
        p.obj.shared_text(),
        p.company.as_ref().unwrap().obj.shared_text()
    ));
}
