//! The API's endpoints. Each handler reads the shared state and answers as `docs/sandbox.md` says.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State as AxState};
use axum::http::{header, HeaderMap, HeaderValue, Response};
use axum::routing::get;
use axum::Router;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::data::{normalize, Dataset, Reveal};
use super::error::{ApiError, ErrorItem};
use super::faults::chance;
use super::jobs::{Cursor, Job, NewJob, Outcome};
use super::ledger::{Insufficient, Wants};
use super::reply;
use super::state::State;
// The API contract's one list of lead fields, shared with the client.
use crate::core::lead::LEAD_KEYS;

type Shared = Arc<State>;
type Params = Query<Vec<(String, String)>>;

pub const OPENAPI: &str = include_str!("openapi.json");

pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/people/find", get(find_person))
        .route("/companies/find", get(find_company))
        .route("/people/search", axum::routing::post(search_people))
        .route("/people/enrichment-requests", axum::routing::post(create_job))
        .route("/people/enrichment-requests/{id}", get(get_job).patch(cancel_job))
        .route("/account-info", get(account_info))
        .route("/openapi.json", get(openapi))
        // The server front enforces `max_body_bytes` with the API's error envelope; axum's own 2 MB cap would not.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

fn answer(state: &State, result: Result<Response<Body>, ApiError>) -> Response<Body> {
    result.unwrap_or_else(|e| reply::error(&e, &state.settings.read().content_type))
}

fn ok(state: &State, status: u16, value: &Value) -> Response<Body> {
    reply::json(status, value, &state.settings.read().content_type)
}

/// Query parameters, first value of each, trimmed, empty ones dropped.
fn params(q: Result<Params, axum::extract::rejection::QueryRejection>) -> Result<HashMap<String, String>, ApiError> {
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

fn insufficient(pool: Insufficient) -> ErrorItem {
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

fn parse_body(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
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
    let page = bounded_int(&body, "page", 1, u32::MAX as u64)?;
    let page_size = bounded_int(&body, "page_size", 10, 100)?;
    let data = s.data.read();
    let skip = (page - 1).saturating_mul(page_size);
    let mut total = 0u64;
    let mut results = Vec::new();
    for i in 0..data.people.len() as u32 {
        if filter.matches(&data, i) {
            if total >= skip && total < skip + page_size {
                results.push(data.person_json(i, Reveal::default()));
            }
            total += 1;
        }
    }
    let value = json!({
        "object": "person_search_result",
        "results": results,
        "_pagination": {"page": page, "page_size": page_size, "total_pages": total.div_ceil(page_size), "total": total},
    });
    Ok(ok(s, 200, &value))
}

/// Checks one lead, returning its echo (the string fields as sent) or what is wrong with it.
fn check_lead(i: usize, lead: &Value, errors: &mut Vec<ErrorItem>) -> Option<Map<String, Value>> {
    let Value::Object(m) = lead else {
        errors.push(
            ErrorItem::unsupported(format!("Lead {i} must be an object with lead fields."))
                .pointer(format!("/leads/{i}")),
        );
        return None;
    };
    let before = errors.len();
    let mut echo = Map::new();
    for (k, v) in m {
        if !LEAD_KEYS.contains(&k.as_str()) {
            errors.push(
                ErrorItem::unsupported(format!(
                    "Lead {i} has an unknown field `{k}`; lead fields are {}.",
                    LEAD_KEYS.join(", ")
                ))
                .pointer(format!("/leads/{i}/{k}")),
            );
            continue;
        }
        match v {
            Value::Null => {}
            Value::String(s) if s.trim().is_empty() => {}
            Value::String(_) => {
                echo.insert(k.clone(), v.clone());
            }
            _ => errors.push(
                ErrorItem::unsupported(format!("Lead {i} field `{k}` must be a string."))
                    .pointer(format!("/leads/{i}/{k}")),
            ),
        }
    }
    let has = |k: &str| echo.contains_key(k);
    let identified = has("email")
        || has("linkedin_url")
        || has("linkedin_id")
        || ((has("name") || has("title")) && (has("company_name") || has("company_domain")));
    if errors.len() == before && !identified {
        errors.push(
            ErrorItem::new(
                400,
                "missing_field",
                "Missing field",
                format!("Lead {i} needs `email`, `linkedin_url` (or `linkedin_id`), or `name` with `company_name` or `company_domain`."),
            )
            .pointer(format!("/leads/{i}")),
        );
    }
    (errors.len() == before).then_some(echo)
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

async fn create_job(AxState(s): AxState<Shared>, headers: HeaderMap, body: Bytes) -> Response<Body> {
    answer(&s, create_job_inner(&s, &headers, &body))
}

fn create_job_inner(s: &State, headers: &HeaderMap, body: &Bytes) -> Result<Response<Body>, ApiError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Some(k) = &key {
        let jobs = s.jobs.lock();
        if let Some(job) = jobs.by_idempotency_key.get(k).and_then(|id| jobs.jobs.get(id)) {
            return Ok(job_created(s, job));
        }
    }
    let body = parse_body(body)?;
    let settings = s.settings();
    let mut errors = Vec::new();
    let reveal = |k: &str, errors: &mut Vec<ErrorItem>| match body.get(k) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errors.push(ErrorItem::unsupported(format!("`{k}` must be true or false.")).pointer(format!("/{k}")));
            false
        }
    };
    let reveal_email = reveal("reveal_email", &mut errors);
    let reveal_phone_numbers = reveal("reveal_phone_numbers", &mut errors);
    let leads = match body.get("leads") {
        Some(Value::Array(l)) if l.is_empty() => {
            return Err(ErrorItem::new(
                400,
                "missing_field",
                "Missing field",
                "`leads` must hold at least one lead.",
            )
            .pointer("/leads")
            .into());
        }
        Some(Value::Array(l)) if l.len() > settings.max_leads => {
            return Err(
                ErrorItem::unsupported(format!("Number of leads exceeds {} limit", settings.max_leads))
                    .pointer("/leads")
                    .into(),
            );
        }
        Some(Value::Array(l)) => l,
        None | Some(Value::Null) => {
            return Err(ErrorItem::new(
                400,
                "missing_field",
                "Missing field",
                "`leads` is required: a list of lead objects.",
            )
            .pointer("/leads")
            .into());
        }
        Some(_) => {
            return Err(ErrorItem::unsupported("`leads` must be a list of lead objects.")
                .pointer("/leads")
                .into())
        }
    };
    let echoes: Vec<Option<Map<String, Value>>> = leads
        .iter()
        .enumerate()
        .map(|(i, l)| check_lead(i, l, &mut errors))
        .collect();
    if !errors.is_empty() {
        errors.truncate(100);
        return Err(ApiError::many(errors));
    }
    let leads: Vec<Map<String, Value>> = echoes.into_iter().flatten().collect();
    if s.ledger.lock().email_credits() < 0.5 {
        return Err(insufficient(Insufficient("email")).into());
    }
    let outcomes = {
        let data = s.data.read();
        leads.iter().map(|l| match_lead(&data, l)).collect()
    };
    let mut jobs = s.jobs.lock();
    // A concurrent retry with the same key may have won the race while the leads were matched.
    if let Some(job) = key
        .as_ref()
        .and_then(|k| jobs.by_idempotency_key.get(k))
        .and_then(|id| jobs.jobs.get(id))
    {
        return Ok(job_created(s, job));
    }
    let fails_roll = chance(s.seed, jobs.jobs.len() as u64 + 1, 7);
    let id = jobs.create(
        NewJob {
            leads,
            outcomes,
            reveal_email,
            reveal_phone_numbers,
            progression: settings.job_progression,
            fails: fails_roll < settings.job_error_rate,
        },
        Instant::now(),
    );
    if let Some(k) = key {
        jobs.by_idempotency_key.insert(k, id);
    }
    Ok(job_created(s, &jobs.jobs[&id]))
}

fn job_path(id: u64) -> String {
    format!("/people/enrichment-requests/{id}")
}

fn job_created(s: &State, job: &Job) -> Response<Body> {
    let value = json!({
        "id": job.id,
        "object": "person_enrichment",
        "status": job.status.as_str(),
        "results": [],
        "_links": {"self": {"href": job_path(job.id)}},
    });
    let mut r = ok(s, 202, &value);
    r.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&job_path(job.id)).expect("ascii path"),
    );
    r
}

fn cursor(p: &HashMap<String, String>) -> Result<(usize, Cursor), ApiError> {
    let int = |k: &str| -> Result<Option<u64>, ApiError> {
        p.get(k)
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    ErrorItem::unsupported(format!("`{k}` must be a result id (a whole number), got `{v}`."))
                        .parameter(k)
                        .into()
                })
            })
            .transpose()
    };
    let size = match int("page[size]")? {
        None => 100,
        Some(n @ 1..=100) => n as usize,
        Some(n) => {
            return Err(
                ErrorItem::unsupported(format!("`page[size]` must be from 1 to 100, got {n}."))
                    .parameter("page[size]")
                    .into(),
            )
        }
    };
    let c = match (int("page[after]")?, int("page[before]")?) {
        (Some(_), Some(_)) => {
            return Err(
                ErrorItem::unsupported("Give `page[after]` or `page[before]`, not both.")
                    .parameter("page[before]")
                    .into(),
            )
        }
        (Some(a), None) => Cursor::After(a),
        (None, Some(b)) => Cursor::Before(b),
        (None, None) => Cursor::First,
    };
    Ok((size, c))
}

fn job_id(raw: &str) -> Result<u64, ApiError> {
    raw.parse().map_err(|_| not_found_job(raw))
}

fn not_found_job(raw: &str) -> ApiError {
    ErrorItem::new(
        404,
        "enrichment_request_not_found",
        "Enrichment request not found",
        format!("There is no enrichment request with id `{raw}`."),
    )
    .into()
}

/// Moves a job on, charging its new results.
fn advance(s: &State, job: &mut Job, poll: bool) {
    let data = s.data.read();
    let mut ledger = s.ledger.lock();
    let now = Instant::now();
    let wants = Wants {
        email: job.reveal_email,
        phone: job.reveal_phone_numbers,
    };
    job.advance(now, poll, |outcome| match outcome {
        Outcome::Enriched(i) => {
            let p = &data.people[i as usize];
            let w = Wants {
                email: wants.email && p.email.is_some(),
                phone: wants.phone && p.phone_count > 0,
            };
            ledger.charge(i, &p.id, w, "enrichment", now).map_err(insufficient)
        }
        _ => Ok(()),
    });
}

#[derive(serde::Serialize)]
struct ResultOut<'a> {
    id: u64,
    #[serde(flatten)]
    lead: &'a Map<String, Value>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<Arc<RawValue>>,
}

#[derive(serde::Serialize)]
struct JobOut<'a> {
    id: u64,
    object: &'static str,
    status: &'static str,
    results: Vec<ResultOut<'a>>,
    #[serde(rename = "_links")]
    links: Map<String, Value>,
    #[serde(rename = "_errors", skip_serializing_if = "Vec::is_empty")]
    errors: Vec<Value>,
}

fn job_page(s: &State, job: &Job, size: usize, c: Cursor) -> Response<Body> {
    let path = job_path(job.id);
    let mut links = Map::new();
    links.insert("self".into(), json!({"href": path}));
    let mut results = Vec::new();
    if job.status.is_terminal() {
        let page = job.page(size, c);
        let data = s.data.read();
        let reveal = Reveal {
            email: job.reveal_email,
            phone_numbers: job.reveal_phone_numbers,
        };
        for i in page.start..page.end {
            let (status, result) = match job.outcomes[i] {
                Outcome::Enriched(p) => ("enriched", Some(s.person_raw(&data, p, reveal))),
                Outcome::NotFound => ("not_found", None),
                Outcome::GdprRemoved => ("gdpr_removed", None),
            };
            results.push(ResultOut {
                id: job.first_result_id + i as u64,
                lead: &job.leads[i],
                status,
                result,
            });
        }
        if page.has_next {
            let last = job.first_result_id + page.end as u64 - 1;
            links.insert(
                "next".into(),
                json!({"href": format!("{path}?page[size]={size}&page[after]={last}")}),
            );
        }
        if page.has_prev {
            let first = job.first_result_id + page.start as u64;
            links.insert(
                "prev".into(),
                json!({"href": format!("{path}?page[size]={size}&page[before]={first}")}),
            );
        }
    }
    let out = JobOut {
        id: job.id,
        object: "person_enrichment",
        status: job.status.as_str(),
        results,
        links,
        errors: job.errors.iter().map(ErrorItem::to_json).collect(),
    };
    let body = serde_json::to_vec(&out).expect("a page serialises");
    let mut r = reply::bytes(200, body, &s.settings.read().content_type);
    if !job.status.is_terminal() {
        r.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(s.settings.read().poll_retry_after),
        );
    }
    r
}

async fn get_job(
    AxState(s): AxState<Shared>,
    Path(raw): Path<String>,
    q: Result<Params, axum::extract::rejection::QueryRejection>,
) -> Response<Body> {
    let result = (|| {
        let id = job_id(&raw)?;
        let (size, c) = cursor(&params(q)?)?;
        let mut jobs = s.jobs.lock();
        let job = jobs.jobs.get_mut(&id).ok_or_else(|| not_found_job(&raw))?;
        advance(&s, job, true);
        Ok(job_page(&s, job, size, c))
    })();
    answer(&s, result)
}

async fn cancel_job(AxState(s): AxState<Shared>, Path(raw): Path<String>, body: Bytes) -> Response<Body> {
    let result = (|| {
        let id = job_id(&raw)?;
        let body = parse_body(&body)?;
        match body.get("status") {
            Some(Value::String(v)) if v == "canceled" => {}
            Some(v) => {
                return Err(
                    ErrorItem::unsupported(format!("Only `\"status\": \"canceled\"` is supported, got {v}."))
                        .pointer("/status")
                        .into(),
                )
            }
            None => {
                return Err(ErrorItem::new(
                    400,
                    "missing_field",
                    "Missing field",
                    "Send `{\"status\": \"canceled\"}` to cancel.",
                )
                .pointer("/status")
                .into())
            }
        }
        let mut jobs = s.jobs.lock();
        let job = jobs.jobs.get_mut(&id).ok_or_else(|| not_found_job(&raw))?;
        advance(&s, job, false);
        job.cancel();
        Ok(job_page(&s, job, 100, Cursor::First))
    })();
    answer(&s, result)
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
