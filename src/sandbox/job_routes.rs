//! The job endpoints every kind shares: creation (idempotency, the checks of a list of inputs), polling, cursor
//! pages and cancel. What differs by kind (matching inputs, charging results, rendering them) is chosen by the
//! job's `Kind`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State as AxState};
use axum::http::{header, HeaderMap, HeaderValue, Response};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::data::Reveal;
use super::error::{ApiError, ErrorItem};
use super::faults::chance;
use super::jobs::{Cursor, Job, Kind, NewJob, Outcome};
use super::ledger::Wants;
use super::limits::retry_after_secs;
use super::reply;
use super::routes::{answer, insufficient, ok, params, parse_body, QueryResult, Shared};
use super::state::State;

/// A 400 for each top-level member of `body` not in `allowed`: the documented bodies admit no others.
pub fn reject_unknown_keys(body: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    let errors: Vec<ErrorItem> = body
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .map(|k| {
            ErrorItem::unsupported(format!(
                "The request body has an unknown member `{k}`; its members are {}.",
                allowed.join(", ")
            ))
            .pointer(format!("/{}", escape_pointer(k)))
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::many(errors))
    }
}

/// A member name as one RFC 6901 reference token.
fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The list of inputs under `key`: present (else 400 at the body, `""`), a list, not empty, at most `max`.
pub fn input_list<'a>(
    body: &'a Map<String, Value>,
    key: &str,
    noun: &str,
    max: usize,
) -> Result<&'a [Value], ApiError> {
    let pointer = format!("/{key}");
    match body.get(key) {
        Some(Value::Array(l)) if l.is_empty() => Err(ErrorItem::new(
            400,
            "missing_field",
            "Missing field",
            format!("`{key}` must hold at least one {noun}."),
        )
        .pointer(pointer)
        .into()),
        Some(Value::Array(l)) if l.len() > max => {
            Err(ErrorItem::unsupported(format!("Number of {key} exceeds {max} limit"))
                .pointer(pointer)
                .into())
        }
        Some(Value::Array(l)) => Ok(l),
        // The member is absent: the pointer names the body, which is there.
        None | Some(Value::Null) => Err(ErrorItem::new(
            400,
            "missing_field",
            "Missing field",
            format!("`{key}` is required: a list of {noun} objects."),
        )
        .pointer("")
        .into()),
        Some(_) => Err(
            ErrorItem::unsupported(format!("`{key}` must be a list of {noun} objects."))
                .pointer(pointer)
                .into(),
        ),
    }
}

/// Checks item `i` of the list `list`: an object of string members among `keys`. Returns its echo (the
/// non-blank strings as sent), or pushes what is wrong.
pub fn check_item(
    list: &str,
    i: usize,
    item: &Value,
    keys: &[&str],
    errors: &mut Vec<ErrorItem>,
) -> Option<Map<String, Value>> {
    let at = format!("/{list}/{i}");
    let Value::Object(m) = item else {
        errors.push(ErrorItem::unsupported(format!("Item {i} of `{list}` must be an object.")).pointer(at));
        return None;
    };
    let before = errors.len();
    let mut echo = Map::new();
    for (k, v) in m {
        let here = format!("{at}/{}", escape_pointer(k));
        if !keys.contains(&k.as_str()) {
            errors.push(
                ErrorItem::unsupported(format!(
                    "Item {i} of `{list}` has an unknown field `{k}`; its fields are {}.",
                    keys.join(", ")
                ))
                .pointer(here),
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
                ErrorItem::unsupported(format!("Item {i} of `{list}`: field `{k}` must be a string.")).pointer(here),
            ),
        }
    }
    (errors.len() == before).then_some(echo)
}

/// Checks every item of `list` (objects of string members among `keys`, at least one of them non-blank),
/// returning their echoes or every error (up to 100).
pub fn check_items(
    list: &str,
    items: &[Value],
    keys: &[&str],
    needs: &str,
) -> Result<Vec<Map<String, Value>>, ApiError> {
    let mut errors = Vec::new();
    let mut inputs = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match check_item(list, i, item, keys, &mut errors) {
            Some(echo) if echo.is_empty() => {
                errors.push(unidentified(list, i, format!("Item {i} of `{list}` needs {needs}.")))
            }
            Some(echo) => inputs.push(echo),
            None => {}
        }
    }
    if errors.is_empty() {
        return Ok(inputs);
    }
    errors.truncate(100);
    Err(ApiError::many(errors))
}

/// A missing-field error for item `i` that names none of the members it needs.
pub fn unidentified(list: &str, i: usize, detail: String) -> ErrorItem {
    ErrorItem::new(400, "missing_field", "Missing field", detail).pointer(format!("/{list}/{i}"))
}

/// A job to create, as a kind's checks made it, before the shared creation steps.
pub struct Draft {
    pub kind: Kind,
    pub inputs: Vec<Map<String, Value>>,
    pub outcomes: Vec<Outcome>,
}

fn idempotency_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Creates a job on `collection` from the body that `draft` checks; a creation with an `Idempotency-Key` seen
/// before on this route answers the job it made.
pub fn create(
    s: &State,
    collection: &'static str,
    headers: &HeaderMap,
    body: &Bytes,
    draft: impl FnOnce(&State, &Map<String, Value>) -> Result<Draft, ApiError>,
) -> Result<Response<Body>, ApiError> {
    let key = idempotency_key(headers);
    if let Some(job) = key
        .as_ref()
        .and_then(|k| s.jobs.lock().by_key(collection, k).map(|j| created(s, j)))
    {
        return Ok(job);
    }
    let body = parse_body(body)?;
    let draft = draft(s, &body)?;
    let settings = s.settings();
    let mut jobs = s.jobs.lock();
    // A concurrent retry with the same key may have won the race while the inputs were matched.
    if let Some(job) = key.as_ref().and_then(|k| jobs.by_key(collection, k)) {
        return Ok(created(s, job));
    }
    if draft.kind == Kind::EmailValidations {
        if let Some(limit) = settings.validations_per_hour {
            let window = Duration::from_secs_f64(settings.validation_window_seconds);
            jobs.validations
                .admit(Instant::now(), draft.inputs.len() as u64, u64::from(limit), window)
                .map_err(|wait| hourly_limit_reached(limit, wait))?;
        }
    }
    let fails = chance(s.seed, jobs.count() as u64 + 1, 7) < settings.job_error_rate;
    let new = NewJob {
        kind: draft.kind,
        inputs: draft.inputs,
        outcomes: draft.outcomes,
        progression: settings.job_progression,
        fails,
    };
    Ok(created(s, jobs.create(new, key, Instant::now())))
}

fn hourly_limit_reached(limit: u32, wait: Duration) -> ApiError {
    let secs = retry_after_secs(wait);
    let mut e: ApiError = ErrorItem::new(
        429,
        "rate_limited",
        "Too many requests",
        format!("This request would go over the limit of {limit} email validations per hour; retry after {secs} s."),
    )
    .into();
    e = e.retry_after(secs);
    e
}

/// The 202 answering a creation: the job, queued, with its `Location`.
fn created(s: &State, job: &Job) -> Response<Body> {
    let path = job.path();
    let value = json!({
        "id": job.public_id(),
        "object": job.kind.object(),
        "status": job.status.as_str(),
        "results": [],
        "_links": {"self": {"href": path}},
    });
    let mut r = ok(s, 202, &value);
    r.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_str(&path).expect("ascii path"));
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

fn not_found(collection: &str, raw: &str) -> ApiError {
    let (code, title, what) = if collection == super::jobs::VALIDATIONS {
        (
            "email_validation_not_found",
            "Email validation not found",
            "email validation",
        )
    } else {
        (
            "enrichment_request_not_found",
            "Enrichment request not found",
            "enrichment request",
        )
    };
    ErrorItem::new(404, code, title, format!("There is no {what} with id `{raw}`.")).into()
}

/// Moves a job on, charging its new results as its kind is charged.
fn advance(s: &State, job: &mut Job, poll: bool) {
    let data = s.data.read();
    let cost = s.settings.read().company_enrichment_cost;
    let mut ledger = s.ledger.lock();
    let now = Instant::now();
    let kind = job.kind;
    job.advance(now, poll, |input, outcome| {
        let charged = match (kind, outcome) {
            (
                Kind::People {
                    reveal_email,
                    reveal_phone_numbers,
                },
                Outcome::Enriched(i),
            ) => {
                let p = &data.people[i as usize];
                let wants = Wants {
                    email: reveal_email && p.email.is_some(),
                    phone: reveal_phone_numbers && p.phone_count > 0,
                };
                ledger.charge(i, &p.id, wants, "enrichment", now)
            }
            (Kind::Companies, Outcome::Enriched(c)) => {
                ledger.charge_company(c, &data.companies[c as usize].id, cost, now)
            }
            (Kind::EmailValidations, Outcome::Validated { .. }) => {
                ledger.charge_validation(input.get("email").and_then(Value::as_str).unwrap_or_default())
            }
            _ => Ok(()),
        };
        charged.map_err(insufficient)
    });
}

/// One result as sent: enrichment results carry an id, the echoed input, a status and what was found;
/// validation results the email as sent and the verdict.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum ResultOut<'a> {
    Enrichment {
        id: u64,
        #[serde(flatten)]
        input: &'a Map<String, Value>,
        status: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        result: Option<Arc<RawValue>>,
    },
    Validation {
        email: &'a Value,
        result: &'static str,
        catch_all: bool,
    },
}

#[derive(serde::Serialize)]
struct JobOut<'a> {
    id: Value,
    object: &'static str,
    status: &'static str,
    results: Vec<ResultOut<'a>>,
    #[serde(rename = "_links")]
    links: Map<String, Value>,
    #[serde(rename = "_errors", skip_serializing_if = "Vec::is_empty")]
    errors: Vec<Value>,
}

fn raw(value: &Value) -> Arc<RawValue> {
    let text = serde_json::to_string(value).expect("JSON values serialise");
    Arc::from(RawValue::from_string(text).expect("serialised JSON is valid"))
}

fn result_out<'a>(s: &State, data: &super::data::Dataset, job: &'a Job, i: usize) -> ResultOut<'a> {
    let input = &job.inputs[i];
    let enrichment = |status, result| ResultOut::Enrichment {
        id: job.first_result_id + i as u64,
        input,
        status,
        result,
    };
    match (job.kind, job.outcomes[i]) {
        (_, Outcome::Validated { verdict, catch_all }) => ResultOut::Validation {
            email: input.get("email").unwrap_or(&Value::Null),
            result: verdict.as_str(),
            catch_all,
        },
        (Kind::Companies, Outcome::Enriched(c)) => enrichment("enriched", Some(raw(&data.company_json(c)))),
        (
            Kind::People {
                reveal_email,
                reveal_phone_numbers,
            },
            Outcome::Enriched(p),
        ) => {
            let reveal = Reveal {
                email: reveal_email,
                phone_numbers: reveal_phone_numbers,
            };
            enrichment("enriched", Some(s.person_raw(data, p, reveal)))
        }
        (_, Outcome::GdprRemoved) => enrichment("gdpr_removed", None),
        _ => enrichment("not_found", None),
    }
}

fn page_links(job: &Job, size: usize, c: Cursor) -> (std::ops::Range<usize>, Map<String, Value>) {
    let path = job.path();
    let mut links = Map::new();
    links.insert("self".into(), json!({"href": path}));
    if !job.status.is_terminal() {
        return (0..0, links);
    }
    let page = job.page(size, c);
    if page.has_next {
        let last = job.first_result_id + page.end as u64 - 1;
        let href = format!("{path}?page[size]={size}&page[after]={last}");
        links.insert("next".into(), json!({ "href": href }));
    }
    if page.has_prev {
        let first = job.first_result_id + page.start as u64;
        let href = format!("{path}?page[size]={size}&page[before]={first}");
        links.insert("prev".into(), json!({ "href": href }));
    }
    (page.start..page.end, links)
}

/// The job as `GET` answers it: a page of results once finished, `Retry-After` while running.
fn job_page(s: &State, job: &Job, size: usize, c: Cursor) -> Response<Body> {
    let (range, links) = page_links(job, size, c);
    let data = s.data.read();
    let out = JobOut {
        id: job.public_id(),
        object: job.kind.object(),
        status: job.status.as_str(),
        results: range.map(|i| result_out(s, &data, job, i)).collect(),
        links,
        errors: job.errors.iter().map(ErrorItem::to_json).collect(),
    };
    let body = serde_json::to_vec(&out).expect("a page serialises");
    let settings = s.settings.read();
    let mut r = reply::bytes(200, body, &settings.content_type);
    if !job.status.is_terminal() {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(settings.poll_retry_after));
    }
    r
}

pub async fn get_job(
    collection: &'static str,
    AxState(s): AxState<Shared>,
    Path(raw): Path<String>,
    q: QueryResult,
) -> Response<Body> {
    let result = (|| {
        let (size, c) = cursor(&params(q)?)?;
        let mut jobs = s.jobs.lock();
        let job = jobs
            .get_mut(collection, &raw)
            .ok_or_else(|| not_found(collection, &raw))?;
        advance(&s, job, true);
        Ok(job_page(&s, job, size, c))
    })();
    answer(&s, result)
}

fn check_cancel(body: &Map<String, Value>) -> Result<(), ApiError> {
    match body.get("status") {
        Some(Value::String(v)) if v == "canceled" => Ok(()),
        Some(v) => Err(
            ErrorItem::unsupported(format!("Only `\"status\": \"canceled\"` is supported, got {v}."))
                .pointer("/status")
                .into(),
        ),
        // The member is absent: the pointer names the body, which is there.
        None => Err(ErrorItem::new(
            400,
            "missing_field",
            "Missing field",
            "Send `{\"status\": \"canceled\"}` to cancel.",
        )
        .pointer("")
        .into()),
    }
}

/// Cancels a running job, keeping its results so far, and answers a page as `GET` does (page parameters too).
pub async fn cancel_job(
    collection: &'static str,
    AxState(s): AxState<Shared>,
    Path(raw): Path<String>,
    q: QueryResult,
    body: Bytes,
) -> Response<Body> {
    let result = (|| {
        let (size, c) = cursor(&params(q)?)?;
        check_cancel(&parse_body(&body)?)?;
        let mut jobs = s.jobs.lock();
        let job = jobs
            .get_mut(collection, &raw)
            .ok_or_else(|| not_found(collection, &raw))?;
        advance(&s, job, false);
        job.cancel();
        Ok(job_page(&s, job, size, c))
    })();
    answer(&s, result)
}

/// Registers `GET` and `PATCH` on `collection/{id}` for one kind of job.
pub fn by_id_routes(collection: &'static str) -> axum::routing::MethodRouter<Shared> {
    axum::routing::get(move |st, path, q| get_job(collection, st, path, q))
        .patch(move |st, path, q, body| cancel_job(collection, st, path, q, body))
}

/// Registers `POST collection` creating jobs checked by `draft`.
pub fn create_route(
    collection: &'static str,
    draft: fn(&State, &Map<String, Value>) -> Result<Draft, ApiError>,
) -> axum::routing::MethodRouter<Shared> {
    axum::routing::post(
        move |AxState(s): AxState<Shared>, headers: HeaderMap, body: Bytes| async move {
            answer(&s, create(&s, collection, &headers, &body, draft))
        },
    )
}
