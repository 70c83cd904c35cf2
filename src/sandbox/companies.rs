//! Company enrichment requests (their checks and matching; the job machinery is `job_routes`) and company search.

use axum::body::{Body, Bytes};
use axum::extract::State as AxState;
use axum::http::Response;
use serde_json::{Map, Value};

use super::data::{normalize, Company, Dataset};
use super::error::{ApiError, ErrorItem};
use super::job_routes::{check_items, input_list, reject_unknown_keys, Draft};
use super::jobs::{Kind, Outcome};
use super::ledger::Insufficient;
use super::routes::{answer, insufficient, ok, parse_body, SearchPage, Shared};
use super::state::State;

/// The keys that name a company in an enrichment request, in matching order.
const COMPANY_KEYS: &[&str] = &["domain", "linkedin_url", "name"];

/// Checks a company enrichment request and matches its companies.
pub fn job(s: &State, body: &Map<String, Value>) -> Result<Draft, ApiError> {
    reject_unknown_keys(body, &["companies"])?;
    let settings = s.settings();
    let items = input_list(body, "companies", "company", settings.max_leads)?;
    let inputs = check_items(
        "companies",
        items,
        COMPANY_KEYS,
        "a non-empty `domain`, `linkedin_url` or `name`",
    )?;
    let cost = settings.company_enrichment_cost;
    if cost > 0.0 && s.ledger.lock().email_credits() < cost {
        return Err(insufficient(Insufficient("email")).into());
    }
    let data = s.data.read();
    let outcomes = inputs
        .iter()
        .map(|c| match_company(&data, c).map_or(Outcome::NotFound, Outcome::Enriched))
        .collect();
    Ok(Draft {
        kind: Kind::Companies,
        inputs,
        outcomes,
    })
}

/// `domain` first, then `linkedin_url`, then `name` (case-insensitive, whole name); each normalised as
/// `/companies/find` does. A key that matches nothing falls through to the next.
fn match_company(data: &Dataset, input: &Map<String, Value>) -> Option<u32> {
    let get = |k: &str| input.get(k).and_then(Value::as_str);
    get("domain")
        .and_then(|d| data.company_by_domain(d))
        .or_else(|| get("linkedin_url").and_then(|l| data.company_by_linkedin(l)))
        .or_else(|| {
            let name = normalize::text(get("name")?);
            let at = data.companies.iter().position(|c| normalize::text(&c.name) == name)?;
            Some(at as u32)
        })
}

/// A filter's values: a string or a list of strings, normalised by `norm`.
fn values(body: &Map<String, Value>, key: &str, norm: fn(&str) -> String) -> Result<Option<Vec<String>>, ApiError> {
    let bad = || -> ApiError {
        ErrorItem::unsupported(format!("`{key}` must be a string or a list of strings."))
            .pointer(format!("/{key}"))
            .into()
    };
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(v)) => Ok(Some(vec![norm(v)])),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(norm).ok_or_else(bad))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(bad()),
    }
}

/// How a filter compares a company's values with the ones asked for.
#[derive(Clone, Copy)]
enum Compare {
    Substring,
    Exact,
}

/// Reads one searchable attribute of a company: its values (keywords are several).
type Getter = fn(&Company, &dyn Fn() -> Value) -> Vec<String>;

fn field(v: &Option<String>) -> Vec<String> {
    v.iter().map(|s| normalize::text(s)).collect()
}

/// A member of the rendered Company object: `type` and `keywords` are drawn when a company is rendered.
fn rendered(render: &dyn Fn() -> Value, key: &str) -> Vec<String> {
    match render().get(key) {
        Some(Value::String(s)) => vec![normalize::text(s)],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(normalize::text).collect(),
        _ => Vec::new(),
    }
}

const FILTERS: [(&str, Compare, Getter); 7] = [
    ("company_names", Compare::Substring, |c, _| {
        vec![normalize::text(&c.name)]
    }),
    ("company_domains", Compare::Exact, |c, _| {
        c.domain.iter().cloned().collect()
    }),
    ("company_industries", Compare::Exact, |c, _| field(&c.industry)),
    ("company_sizes", Compare::Exact, |c, _| field(&c.size)),
    ("company_types", Compare::Exact, |_, r| rendered(r, "type")),
    ("company_locations", Compare::Substring, |c, _| field(&c.location)),
    ("company_keywords", Compare::Exact, |_, r| rendered(r, "keywords")),
];

struct Filter {
    wanted: Vec<String>,
    compare: Compare,
    get: Getter,
}

impl Filter {
    fn admits(&self, c: &Company, render: &dyn Fn() -> Value) -> bool {
        (self.get)(c, render).iter().any(|have| {
            self.wanted.iter().any(|w| match self.compare {
                Compare::Exact => have == w,
                Compare::Substring => have.contains(w.as_str()),
            })
        })
    }
}

fn filters(body: &Map<String, Value>) -> Result<Vec<Filter>, ApiError> {
    let mut out = Vec::new();
    for (key, compare, get) in FILTERS {
        let norm: fn(&str) -> String = if key == "company_domains" {
            normalize::domain
        } else {
            normalize::text
        };
        if let Some(wanted) = values(body, key, norm)? {
            out.push(Filter { wanted, compare, get });
        }
    }
    Ok(out)
}

pub async fn search(AxState(s): AxState<Shared>, body: Bytes) -> Response<Body> {
    answer(&s, search_inner(&s, &body))
}

fn search_inner(s: &State, body: &Bytes) -> Result<Response<Body>, ApiError> {
    let body = parse_body(body)?;
    let filters = filters(&body)?;
    let window = SearchPage::of(&body)?;
    let data = s.data.read();
    // Rendered at most once per company, and only when a filter reads the rendered object or it is on the page.
    let cells: Vec<std::cell::OnceCell<Value>> = (0..data.companies.len()).map(|_| Default::default()).collect();
    let render = |i: usize| cells[i].get_or_init(|| data.company_json(i as u32)).clone();
    let matches = (0..data.companies.len()).filter(|&i| {
        let one = || render(i);
        filters.iter().all(|f| f.admits(&data.companies[i], &one))
    });
    let value = window.answer("company_search_result", matches, render);
    Ok(ok(s, 200, &value))
}
