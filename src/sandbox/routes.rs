//! The API's endpoints. Each handler reads the shared state and answers as `docs/sandbox.md` says.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State as AxState};
use axum::http::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

use super::data::{normalize, Dataset, Reveal};
use super::error::{ApiError, ErrorItem};
use super::faults::chance;
use super::job_routes::{by_id_routes, check_item, create_route, input_list, reject_unknown_keys, unidentified, Draft};
use super::jobs::{Kind, Outcome, COMPANY_JOBS, PEOPLE_JOBS, VALIDATIONS};
use super::ledger::{Insufficient, Wants};
use super::reply;
use super::state::State;
use super::{companies, validations};
// The API contract's one list of lead fields, shared with the client.
use crate::core::lead::{identifies, IDENTIFIERS, LEAD_KEYS};

pub type Shared = Arc<State>;
type Params = Query<Vec<(String, String)>>;
/// The query string as read, or why it could not be.
pub type QueryResult = Result<Params, axum::extract::rejection::QueryRejection>;

pub const OPENAPI: &str = include_str!("openapi.json");

pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/people/find", get(find_person))
        .route("/companies/find", get(find_company))
        .route("/people/search", axum::routing::post(search_people))
        .route("/companies/search", axum::routing::post(companies::search))
        .route(PEOPLE_JOBS, create_route(PEOPLE_JOBS, people_job))
        .route(&format!("{PEOPLE_JOBS}/{{id}}"), by_id_routes(PEOPLE_JOBS))
        .route(COMPANY_JOBS, create_route(COMPANY_JOBS, companies::job))
        .route(&format!("{COMPANY_JOBS}/{{id}}"), by_id_routes(COMPANY_JOBS))
        .route(VALIDATIONS, create_route(VALIDATIONS, validations::job))
        .route(&format!("{VALIDATIONS}/{{id}}"), by_id_routes(VALIDATIONS))
        .route("/account-info", get(account_info))
        .route("/openapi.json", get(openapi))
        // The server front enforces `max_body_bytes` with the API's error envelope; axum's own 2 MB cap would not.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

pub fn answer(state: &State, result: Result<Response<Body>, ApiError>) -> Response<Body> {
    result.unwrap_or_else(|e| reply::error(&e, &state.settings.read().content_type))
}

pub fn ok(state: &State, status: u16, value: &Value) -> Response<Body> {
    reply::json(status, value, &state.settings.read().content_type)
}

/// Query parameters, first value of each, trimmed, empty ones dropped.
pub fn params(q: QueryResult) -> Result<HashMap<String, String>, ApiError> {
    let Query(pairs) = q.map_err(|e| ErrorItem::unsupported(format!("The query string could not be read: {e}")))?;
    let mut out = HashMap::new();
    for (k, v) in pairs {
        let v = v.trim();
        if !v.is_empty() {
            out.entry(k).or_insert_with(|| v.to_string());
        }
    }
    Ok(out)
}

fn flag(p: &HashMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match p.get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(
            ErrorItem::unsupported(format!("`{name}` must be true or false, got `{other}`"))
                .parameter(name)
                .into(),
        ),
    }
}

pub fn insufficient(pool: Insufficient) -> ErrorItem {
    ErrorItem::new(
        402,
        "insufficient_credits",
        "Insufficient credits",
        format!(
            "Your account does not have enough {} credits for this request; add credits and try again.",
            pool.0
        ),
    )
}

async fn find_person(
    AxState(s): AxState<Shared>,
    q: Result<Params, axum::extract::rejection::QueryRejection>,
) -> Response<Body> {
    answer(&s, find_person_inner(&s, q))
}

fn find_person_inner(
    s: &State,
    q: Result<Params, axum::extract::rejection::QueryRejection>,
) -> Result<Response<Body>, ApiError> {
    let p = params(q)?;
    let reveal = Reveal {
        email: flag(&p, "reveal_email")?,
        phone_numbers: flag(&p, "reveal_phone_numbers")?,
    };
    let get = |k: &str| p.get(k).map(String::as_str);
    let data = s.data.read();
    let found = if let Some(url) = get("linkedin_url") {
        data.person_by_linkedin(url)
    } else if let Some(email) = get("email") {
        data.person_by_email(email)
    } else if let Some(name) = get("name") {
        if get("company_name").is_none() && get("company_domain").is_none() {
            return Err(ErrorItem::missing(
                "company_name",
                "A search by `name` also needs `company_name` or `company_domain`.",
            )
            .into());
        }
        data.person_by_name(name, get("company_name"), get("company_domain"), get("title"))
    } else if ["title", "company_name", "company_domain"]
        .iter()
        .any(|k| get(k).is_some())
    {
        return Err(ErrorItem::missing(
            "name",
            "`title`, `company_name` and `company_domain` narrow a search by `name`; add `name`.",
        )
        .into());
    } else {
        return Err(ErrorItem::missing(
            "linkedin_url",
            "Give `linkedin_url`, `email`, or `name` with `company_name` or `company_domain`.",
        )
        .into());
    };
    let Some(idx) = found else {
        return Err(ErrorItem::new(
            404,
            "person_not_found",
            "Person not found",
            "No person matches the given parameters.",
        )
        .into());
    };
    let person = &data.people[idx as usize];
    if person.gdpr_removed {
        return Err(ApiError::for_status(451));
    }
    let settings = s.settings.read();
    for (wanted, kind) in [(reveal.email, 1u8), (reveal.phone_numbers, 2u8)] {
        if wanted
            && chance(s.seed, idx as u64, 408 + kind as u64) < settings.reveal_timeout_rate
            && s.reveals_delayed.lock().insert((idx, kind))
        {
            return Err(ApiError::for_status(408).retry_after(settings.reveal_retry_after));
        }
    }
    let wants = Wants {
        email: reveal.email && person.email.is_some(),
        phone: reveal.phone_numbers && person.phone_count > 0,
    };
    s.ledger
        .lock()
        .charge(idx, &person.id, wants, "find", Instant::now())
        .map_err(insufficient)?;
    let person = s.person_raw(&data, idx, reveal);
    Ok(reply::bytes(
        200,
        person.get().as_bytes().to_vec(),
        &settings.content_type,
    ))
}

async fn find_company(
    AxState(s): AxState<Shared>,
    q: Result<Params, axum::extract::rejection::QueryRejection>,
) -> Response<Body> {
    let result = params(q).and_then(|p| {
        let data = s.data.read();
        let found = match (p.get("domain"), p.get("linkedin_url")) {
            (Some(d), _) => data.company_by_domain(d),
            (None, Some(l)) => data.company_by_linkedin(l),
            (None, None) => {
                return Err(ErrorItem::missing("domain", "Give `domain` or `linkedin_url`.").into());
            }
        };
        match found {
            Some(idx) => Ok(ok(&s, 200, &data.company_json(idx))),
            None => Err(ErrorItem::new(
                404,
                "company_not_found",
                "Company not found",
                "No company matches the given parameters.",
            )
            .into()),
        }
    });
    answer(&s, result)
}

pub fn parse_body(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ErrorItem::unsupported("The request body must be a JSON object.")
            .pointer("")
            .into()),
        Err(e) => Err(
            ErrorItem::unsupported(format!("The request body is not valid JSON: {e}."))
                .pointer("")
                .into(),
        ),
    }
}

/// A list-of-strings filter, lower-cased.
fn string_list(body: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(normalize::text(s)),
                _ => Err(ErrorItem::unsupported(format!("`{key}` must be a list of strings."))
                    .pointer(format!("/{key}"))
                    .into()),
            })
            .collect::<Result<Vec<_>, ApiError>>()
            .map(Some),
        Some(_) => Err(ErrorItem::unsupported(format!("`{key}` must be a list of strings."))
            .pointer(format!("/{key}"))
            .into()),
    }
}

fn bounded_int(body: &Map<String, Value>, key: &str, default: u64, max: u64) -> Result<u64, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v.as_u64().filter(|n| (1..=max).contains(n)).ok_or_else(|| {
            ErrorItem::unsupported(format!("`{key}` must be an integer from 1 to {max}, got {v}."))
                .pointer(format!("/{key}"))
                .into()
        }),
    }
}

/// Reads one searchable attribute of person `i`.
type Getter = fn(&Dataset, u32) -> Option<String>;

struct SearchFilter {
    name: Option<String>,
    substring: Vec<(Vec<String>, Getter)>,
    exact: Vec<(Vec<String>, Getter)>,
}

impl SearchFilter {
    fn matches(&self, data: &Dataset, i: u32) -> bool {
        let p = &data.people[i as usize];
        if p.gdpr_removed {
            return false;
        }
        if let Some(n) = &self.name {
            if !normalize::text(&p.name).contains(n.as_str()) {
                return false;
            }
        }
        let any = |wanted: &[String], have: Option<String>, exact: bool| {
            have.map(|h| normalize::text(&h)).is_some_and(|h| {
                wanted
                    .iter()
                    .any(|w| if exact { h == *w } else { h.contains(w.as_str()) })
            })
        };
        self.substring.iter().all(|(w, f)| any(w, f(data, i), false))
            && self.exact.iter().all(|(w, f)| any(w, f(data, i), true))
    }
}

fn company_of(d: &Dataset, i: u32) -> Option<&super::data::Company> {
    d.people[i as usize].company.map(|c| &d.companies[c as usize])
}

async fn search_people(AxState(s): AxState<Shared>, body: Bytes) -> Response<Body> {
    answer(&s, search_inner(&s, &body))
}

fn search_inner(s: &State, body: &Bytes) -> Result<Response<Body>, ApiError> {
    let body = parse_body(body)?;
    let name = match body.get("person_name") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) => Some(normalize::text(n)).filter(|n| !n.is_empty()),
        Some(_) => {
            return Err(ErrorItem::unsupported("`person_name` must be a string.")
                .pointer("/person_name")
                .into())
        }
    };
    let substring_keys: [(&str, Getter); 3] = [
        ("person_titles", |d, i| d.people[i as usize].title.clone()),
        ("person_locations", |d, i| d.people[i as usize].location.clone()),
        ("company_locations", |d, i| {
            company_of(d, i).and_then(|c| c.location.clone())
        }),
    ];
    let exact_keys: [(&str, Getter); 7] = [
        ("company_names", |d, i| company_of(d, i).map(|c| c.name.clone())),
        ("person_seniorities", |d, i| {
            d.people[i as usize].seniority.map(str::to_string)
        }),
        ("person_departments", |d, i| {
            d.people[i as usize].department.map(str::to_string)
        }),
        ("person_job_functions", |d, i| {
            d.people[i as usize].job_function.map(str::to_string)
        }),
        ("company_domains", |d, i| {
            company_of(d, i).and_then(|c| c.domain.clone())
        }),
        ("company_industries", |d, i| {
            company_of(d, i).and_then(|c| c.industry.clone())
        }),
        ("company_sizes", |d, i| company_of(d, i).and_then(|c| c.size.clone())),
    ];
    let mut filter = SearchFilter {
        name,
        substring: Vec::new(),
        exact: Vec::new(),
    };
    for (key, f) in substring_keys {
        if let Some(w) = string_list(&body, key)? {
            filter.substring.push((w, f));
        }
    }
    for (key, f) in exact_keys {
        if let Some(mut w) = string_list(&body, key)? {
            if key == "company_domains" {
                w = w.iter().map(|d| normalize::domain(d)).collect();
            }
            filter.exact.push((w, f));
        }
    }
    let window = SearchPage::of(&body)?;
    let data = s.data.read();
    let matches = (0..data.people.len() as u32).filter(|&i| filter.matches(&data, i));
    let value = window.answer("person_search_result", matches, |i| {
        data.person_json(i, Reveal::default())
    });
    Ok(ok(s, 200, &value))
}

/// The page a search asks for (`page`, `page_size`), and how its answer is put together.
pub struct SearchPage {
    page: u64,
    size: u64,
}

impl SearchPage {
    pub fn of(body: &Map<String, Value>) -> Result<SearchPage, ApiError> {
        Ok(SearchPage {
            page: bounded_int(body, "page", 1, u32::MAX as u64)?,
            size: bounded_int(body, "page_size", 10, 100)?,
        })
    }

    /// The search result of `object` for this page of `matches`, rendering only the records on it.
    pub fn answer<T>(&self, object: &str, matches: impl Iterator<Item = T>, render: impl Fn(T) -> Value) -> Value {
        let skip = (self.page - 1).saturating_mul(self.size);
        let mut total = 0u64;
        let mut results = Vec::new();
        for m in matches {
            if (skip..skip + self.size).contains(&total) {
                results.push(render(m));
            }
            total += 1;
        }
        json!({
            "object": object,
            "results": results,
            "_pagination": {"page": self.page, "page_size": self.size, "total_pages": total.div_ceil(self.size), "total": total},
        })
    }
}

/// Checks one lead, returning its echo (the string fields as sent) or what is wrong with it.
fn check_lead(i: usize, lead: &Value, errors: &mut Vec<ErrorItem>) -> Option<Map<String, Value>> {
    let echo = check_item("leads", i, lead, LEAD_KEYS, errors)?;
    if !identifies(&echo) {
        errors.push(unidentified("leads", i, format!("Lead {i} needs {IDENTIFIERS}.")));
        return None;
    }
    Some(echo)
}

fn match_lead(data: &Dataset, lead: &Map<String, Value>) -> Outcome {
    let get = |k: &str| lead.get(k).and_then(Value::as_str);
    let found = get("linkedin_url")
        .or(get("linkedin_id"))
        .and_then(|l| data.person_by_linkedin(l))
        .or_else(|| get("email").and_then(|e| data.person_by_email(e)))
        .or_else(|| {
            get("name").and_then(|n| data.person_by_name(n, get("company_name"), get("company_domain"), get("title")))
        })
        .or_else(|| {
            let title = normalize::text(get("title")?);
            let company = get("company_domain")
                .and_then(|d| data.company_by_domain(d))
                .or_else(|| {
                    let n = normalize::text(get("company_name")?);
                    data.companies
                        .iter()
                        .position(|c| normalize::text(&c.name) == n)
                        .map(|c| c as u32)
                })?;
            (0..data.people.len() as u32).find(|&i| {
                let p = &data.people[i as usize];
                p.company == Some(company) && p.title.as_deref().is_some_and(|t| normalize::text(t).contains(&title))
            })
        });
    match found {
        Some(i) if data.people[i as usize].gdpr_removed => Outcome::GdprRemoved,
        Some(i) => Outcome::Enriched(i),
        None => Outcome::NotFound,
    }
}

/// Members of a people enrichment request body.
const PEOPLE_JOB_KEYS: &[&str] = &["leads", "reveal_email", "reveal_phone_numbers"];

fn reveal_flag(body: &Map<String, Value>, k: &str, errors: &mut Vec<ErrorItem>) -> bool {
    match body.get(k) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errors.push(ErrorItem::unsupported(format!("`{k}` must be true or false.")).pointer(format!("/{k}")));
            false
        }
    }
}

/// Checks a people enrichment request and matches its leads.
fn people_job(s: &State, body: &Map<String, Value>) -> Result<Draft, ApiError> {
    reject_unknown_keys(body, PEOPLE_JOB_KEYS)?;
    let mut errors = Vec::new();
    let kind = Kind::People {
        reveal_email: reveal_flag(body, "reveal_email", &mut errors),
        reveal_phone_numbers: reveal_flag(body, "reveal_phone_numbers", &mut errors),
    };
    let leads = input_list(body, "leads", "lead", s.settings.read().max_leads)?;
    let echoes: Vec<Option<Map<String, Value>>> = leads
        .iter()
        .enumerate()
        .map(|(i, l)| check_lead(i, l, &mut errors))
        .collect();
    if !errors.is_empty() {
        errors.truncate(100);
        return Err(ApiError::many(errors));
    }
    let inputs: Vec<Map<String, Value>> = echoes.into_iter().flatten().collect();
    if s.ledger.lock().email_credits() < 0.5 {
        return Err(insufficient(Insufficient("email")).into());
    }
    let outcomes = {
        let data = s.data.read();
        inputs.iter().map(|l| match_lead(&data, l)).collect()
    };
    Ok(Draft { kind, inputs, outcomes })
}

async fn account_info(AxState(s): AxState<Shared>) -> Response<Body> {
    let (email, phone) = {
        let l = s.ledger.lock();
        (l.email_credits(), l.phone_credits())
    };
    let settings = s.settings();
    let per_minute = |limit: Option<u32>, window: f64| limit.map(|l| (f64::from(l) * 60.0 / window).round() as u64);
    let value = json!({
        "object": "account_info",
        "email_credits": email,
        "phone_credits": phone,
        "rate_limits": {
            "requests_per_minute": per_minute(settings.rate_limit, settings.rate_limit_window),
            "search_requests_per_minute": per_minute(settings.search_rate_limit, settings.search_rate_limit_window),
        },
    });
    ok(&s, 200, &value)
}

async fn openapi() -> Response<Body> {
    reply::json_text(OPENAPI)
}
