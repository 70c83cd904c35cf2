//! What a client remembers across calls, and the rules that use it: which stored answer serves which query (the
//! result cache), and what a call may cost and did cost (the credit budget).
//!
//! Keys are the normalised query the server matches by: a LinkedIn profile's path, a lower-cased email, a name with
//! its company (`core::normalize`), with the reveals asked for kept beside them (see `core::cache`).

use std::sync::Arc;

use serde_json::{Map, Value};

use super::budget::{self, Budget, Credits, Reservation};
use super::cache::{account_of, reveals, Answer, Cache, Identity, SingleFlight};
use super::config::Config;
use super::error::{DecodeError, Error, Result};
use super::jobs::{EnrichmentResult, Kind};
use super::models::{Company, Person};
use super::normalize;
use super::people::FindQuery;

const FIND: &str = "person.find";
const COMPANY: &str = "company.find";

/// A client's result cache and credit budget.
pub struct Memory {
    cache: Option<Arc<Cache>>,
    account: String,
    budget: Option<Budget>,
    /// Finds in flight, by key: identical ones share one request.
    flight: SingleFlight<Result<Option<Arc<str>>>>,
}

impl Memory {
    pub fn new(config: &Config, cache: Option<Arc<Cache>>, budget: Option<Credits>) -> Memory {
        Memory {
            account: if cache.is_some() {
                account_of(config.api_key.expose())
            } else {
                String::new()
            },
            cache,
            budget: budget.filter(|b| !b.is_unlimited()).map(Budget::new),
            flight: SingleFlight::default(),
        }
    }

    pub fn cache(&self) -> Option<&Arc<Cache>> {
        self.cache.as_ref()
    }

    pub fn budget(&self) -> Option<&Budget> {
        self.budget.as_ref()
    }

    /// Holds `worst` against the budget (and `call_limit`), or refuses before anything is sent.
    pub fn reserve(&self, call_limit: Credits, worst: Credits, what: &str) -> Result<Reservation<'_>> {
        budget::reserve(self.budget.as_ref(), call_limit, worst, what)
    }
}

/// The key of a find: the lookup the server uses (`linkedin_url`, else `email`, else `name` with its company).
pub fn find_key(q: &FindQuery) -> String {
    let t = |v: &Option<String>| v.as_deref().map(normalize::text).unwrap_or_default();
    if let Some(l) = &q.linkedin_url {
        format!("li:{}", normalize::linkedin(l))
    } else if let Some(e) = &q.email {
        format!("em:{}", normalize::email(e))
    } else {
        let domain = q.company_domain.as_deref().map(normalize::domain).unwrap_or_default();
        format!("nm:{}|{}|{domain}|{}", t(&q.name), t(&q.company_name), t(&q.title))
    }
}

/// The key of an input to a job of `kind`: its fields, normalised by what each is.
pub fn input_key(kind: Kind, input: &Map<String, Value>) -> String {
    let mut parts: Vec<String> = kind
        .echo_keys()
        .iter()
        .filter_map(|k| {
            let v = input.get(*k)?.as_str()?;
            let v = match *k {
                "linkedin_url" | "linkedin_id" => normalize::linkedin(v),
                "email" => normalize::email(v),
                "domain" | "company_domain" => normalize::domain(v),
                _ => normalize::text(v),
            };
            // `linkedin_id` and `linkedin_url` name one profile the same way.
            let k = if *k == "linkedin_id" { "linkedin_url" } else { k };
            Some(format!("{k}={v}"))
        })
        .collect();
    parts.sort();
    parts.dedup();
    parts.join("|")
}

fn op_of(kind: Kind) -> &'static str {
    match kind {
        Kind::People => "person.enrich",
        Kind::Companies => "company.enrich",
        Kind::Emails => "email.validate",
    }
}

/// A stored answer that does not read back (a file edited by hand): the fix is to clear the cache.
pub fn cached_decode_error(message: String) -> Error {
    Error::Decode(DecodeError {
        message: format!("a cached answer could not be read ({message}); clear the cache (amplemarket cache clear)"),
        status: 200,
        request: "the result cache".into(),
    })
}

/// What a find can have cost once its answer is known: a person found, and the reveals the answer carries.
pub fn find_cost(person: Option<&Person>, q: &FindQuery) -> Credits {
    match person {
        None => Credits::ZERO,
        Some(p) => Credits::new(
            0.5 + if q.reveal_email && p.obj.string("email").is_some() {
                1.0
            } else {
                0.0
            },
            if q.reveal_phone_numbers { 1.0 } else { 0.0 },
        ),
    }
}

/// Whether the cache holds an answer for this find (without counting it as a hit).
pub fn find_is_cached(client: &super::Client, query: &FindQuery) -> bool {
    let memory = client.memory();
    memory.cache().is_some_and(|c| {
        let reveal = reveals(query.reveal_email, query.reveal_phone_numbers);
        c.peek_many(&memory.account, FIND, &[find_key(query)], reveal)[0].is_some()
    })
}

/// How a find is paid for: reserved by the find itself (with the call's own limit), or already by its batch.
#[derive(Clone, Copy, Debug)]
pub enum Spend {
    Reserve(Credits),
    Reserved,
}

/// Finds one person through the cache: an answer stored with at least these reveals, else the server (identical
/// finds in flight at once share one request), whose answer is then stored. Returns the person and whether the
/// cache answered.
pub async fn find_person(
    client: &super::Client,
    query: &FindQuery,
    spend: Spend,
    send: impl std::future::Future<Output = Result<Option<Person>>>,
) -> Result<(Option<Person>, bool)> {
    let memory = client.memory();
    let reveal = reveals(query.reveal_email, query.reveal_phone_numbers);
    let key = find_key(query);
    let worst = Credits::per_person(query.reveal_email, query.reveal_phone_numbers);
    if let Some(cache) = memory.cache() {
        if let Some(answer) = cache.get(&memory.account, FIND, &key, reveal) {
            cache.saved(1, worst.email + worst.phone);
            let person = match answer {
                Answer::Found(text) => Some(Person::from_json(&text).map_err(cached_decode_error)?),
                Answer::NotFound => None,
            };
            return Ok((person, true));
        }
    }
    let reservation = match spend {
        Spend::Reserve(limit) => Some(memory.reserve(limit, worst, "this find")?),
        Spend::Reserved => None,
    };
    let person = match memory.cache() {
        None => send.await?,
        Some(cache) => {
            let fetched = memory
                .flight
                .run(format!("{key}#{reveal}"), async {
                    let found = send.await;
                    store_find(cache, &memory.account, query, &key, reveal, &found);
                    found.map(|p| p.map(|p| Arc::<str>::from(p.raw())))
                })
                .await?;
            fetched
                .map(|text| Person::from_json(&text).map_err(cached_decode_error))
                .transpose()?
        }
    };
    if let Some(r) = reservation {
        r.settle(find_cost(person.as_ref(), query));
    }
    Ok((person, false))
}

/// Stores a find's answer: the person, nobody (404), or for a person removed for GDPR (451), the removal.
fn store_find(cache: &Cache, account: &str, q: &FindQuery, key: &str, reveal: i64, found: &Result<Option<Person>>) {
    let asked = Identity::new(q.email.as_deref(), q.linkedin_url.as_deref());
    match found {
        Ok(Some(p)) => {
            let email = p.obj.string("email").or_else(|| q.email.clone());
            let linkedin = p.obj.string("linkedin_url").or_else(|| q.linkedin_url.clone());
            let who = Identity::new(email.as_deref(), linkedin.as_deref());
            cache.put(account, FIND, key, reveal, Answer::Found(p.raw().to_string()), who);
        }
        Ok(None) => cache.put(account, FIND, key, reveal, Answer::NotFound, asked),
        Err(Error::Status(s)) if s.status == 451 => cache.forget(account, key, &asked),
        Err(_) => {}
    }
}

/// Finds one company through the cache (no credits are involved).
pub async fn find_company(
    client: &super::Client,
    domain: Option<&str>,
    linkedin_url: Option<&str>,
    send: impl std::future::Future<Output = Result<Option<Company>>>,
) -> Result<Option<Company>> {
    let memory = client.memory();
    let Some(cache) = memory.cache() else {
        return send.await;
    };
    let key = match (domain, linkedin_url) {
        (Some(d), _) => format!("do:{}", normalize::domain(d)),
        (None, Some(l)) => format!("li:{}", normalize::linkedin(l)),
        (None, None) => return send.await,
    };
    if let Some(answer) = cache.get(&memory.account, COMPANY, &key, 0) {
        cache.saved(1, 0.0);
        return match answer {
            Answer::Found(text) => Ok(Some(Company::from_json(&text).map_err(cached_decode_error)?)),
            Answer::NotFound => Ok(None),
        };
    }
    let found = send.await?;
    let answer = match &found {
        Some(c) => Answer::Found(c.obj.text().to_string()),
        None => Answer::NotFound,
    };
    cache.put(&memory.account, COMPANY, &key, 0, answer, Identity::default());
    Ok(found)
}

/// A page of a search: the stored page, or the server's (stored for `search_ttl`).
pub async fn search_page<F: std::future::Future<Output = Result<String>>>(
    client: &super::Client,
    path: &str,
    body: &Value,
    send: F,
) -> Result<(String, bool)> {
    let memory = client.memory();
    let Some(cache) = memory.cache() else {
        return Ok((send.await?, false));
    };
    let op = format!("search.{}", path.trim_matches('/').replace('/', "."));
    let key = body.to_string();
    if let Some(Answer::Found(text)) = cache.get(&memory.account, &op, &key, 0) {
        cache.saved(1, 0.0);
        return Ok((text, true));
    }
    let text = send.await?;
    cache.put(
        &memory.account,
        &op,
        &key,
        0,
        Answer::Found(text.clone()),
        Identity::default(),
    );
    Ok((text, false))
}

/// The reveals a batch's options ask for.
fn batch_reveals(options: &Map<String, Value>) -> (bool, bool) {
    let flag = |k: &str| options.get(k).and_then(Value::as_bool).unwrap_or(false);
    (flag("reveal_email"), flag("reveal_phone_numbers"))
}

/// What one input of a job of `kind` can cost at worst (company enrichment's price is not documented: not counted).
pub fn worst_per_input(kind: Kind, options: &Map<String, Value>) -> Credits {
    match kind {
        Kind::People => {
            let (email, phone) = batch_reveals(options);
            Credits::per_person(email, phone)
        }
        Kind::Emails => Credits::new(1.0, 0.0),
        Kind::Companies => Credits::ZERO,
    }
}

/// What a result can have cost once known: a person enriched and the reveals it carries; an email validated.
pub fn result_cost(r: &EnrichmentResult, options: &Map<String, Value>) -> Credits {
    match r.kind {
        Kind::People => match &r.person {
            Some(p) => {
                let (email, phone) = batch_reveals(options);
                Credits::new(
                    0.5 + if email && p.obj.string("email").is_some() {
                        1.0
                    } else {
                        0.0
                    },
                    if phone { 1.0 } else { 0.0 },
                )
            }
            None => Credits::ZERO,
        },
        Kind::Emails if r.status.is_none() => Credits::new(1.0, 0.0),
        _ => Credits::ZERO,
    }
}

/// The stored results for `inputs` (one per input; `None` where the cache has none), marked as from the cache.
pub fn cached_results(
    client: &super::Client,
    kind: Kind,
    options: &Map<String, Value>,
    inputs: &[Map<String, Value>],
    count: bool,
) -> Vec<Option<Arc<EnrichmentResult>>> {
    let memory = client.memory();
    let Some(cache) = memory.cache() else {
        return vec![None; inputs.len()];
    };
    let (email, phone) = batch_reveals(options);
    let keys: Vec<String> = inputs.iter().map(|i| input_key(kind, i)).collect();
    let answers = if count {
        cache.get_many(&memory.account, op_of(kind), &keys, reveals(email, phone))
    } else {
        cache.peek_many(&memory.account, op_of(kind), &keys, reveals(email, phone))
    };
    let found: Vec<Option<Arc<EnrichmentResult>>> = answers
        .into_iter()
        .map(|a| match a {
            Some(Answer::Found(text)) => EnrichmentResult::from_json_of(&text, kind).ok().map(|mut r| {
                r.from_cache = true;
                Arc::new(r)
            }),
            _ => None,
        })
        .collect();
    if count {
        let worst = worst_per_input(kind, options);
        let hits = found.iter().filter(|r| r.is_some()).count();
        cache.saved(hits as u64, (worst.email + worst.phone) * hits as f64);
    }
    found
}

/// Stores the server's results for `inputs`: found and not-found alike, behind the call when there are many (see
/// `Cache::put_behind`); a person removed for GDPR is forgotten at once.
pub fn store_results(
    client: &super::Client,
    kind: Kind,
    options: &Map<String, Value>,
    inputs: Vec<Map<String, Value>>,
    results: Vec<Option<Arc<EnrichmentResult>>>,
) {
    let memory = client.memory();
    let Some(cache) = memory.cache() else {
        return;
    };
    let (email, phone) = batch_reveals(options);
    let reveal = reveals(email, phone);
    let mut keep = Vec::with_capacity(inputs.len());
    for (input, r) in inputs.into_iter().zip(results) {
        let Some(r) = r.filter(|r| !r.from_cache) else {
            continue;
        };
        match r.status.as_deref() {
            Some("gdpr_removed") => cache.forget(&memory.account, &input_key(kind, &input), &asked(&input)),
            // Made by this SDK (invalid, failed) or a status this SDK does not know: not an answer to keep.
            Some("enriched" | "not_found") | None => keep.push((input, r)),
            Some(_) => {}
        }
    }
    cache.put_behind(&memory.account, op_of(kind), keep.len(), move || {
        keep.into_iter()
            .map(|(input, r)| {
                let who = match &r.person {
                    Some(p) => {
                        let given = asked(&input);
                        Identity::new(
                            p.obj.string("email").or(given.email).as_deref(),
                            p.obj.string("linkedin_url").or(given.linkedin).as_deref(),
                        )
                    }
                    None => asked(&input),
                };
                (input_key(kind, &input), reveal, Answer::Found(r.to_json()), who)
            })
            .collect()
    });
}

/// Who an input asks about, by the identifiers it gives.
fn asked(input: &Map<String, Value>) -> Identity {
    let text = |k: &str| input.get(k).and_then(Value::as_str);
    Identity::new(text("email"), text("linkedin_url").or_else(|| text("linkedin_id")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testing::object;
    use serde_json::json;

    #[test]
    fn find_keys_follow_the_servers_lookup_order() {
        let q = |v: Value| FindQuery::from_map(&object(v), false, false).unwrap();
        let a = q(json!({"linkedin_url": "https://www.LinkedIn.com/in/Jane/", "email": "x@y.com"}));
        let b = q(json!({"linkedin_url": "linkedin.com/in/jane?trk=1"}));
        assert_eq!(find_key(&a), find_key(&b));
        assert_eq!(
            find_key(&q(json!({"email": " Jane@TechCo.com "}))),
            "em:jane@techco.com"
        );
        let n = q(json!({"name": "Jane  Doe", "company_domain": "https://www.techco.com/"}));
        assert_eq!(find_key(&n), "nm:jane doe||techco.com|");
    }

    #[test]
    fn input_keys_ignore_case_spacing_order_and_url_forms() {
        let a = object(json!({"email": "A@x.com", "name": "Jane   Doe"}));
        let b = object(json!({"name": "jane doe", "email": "a@X.com "}));
        assert_eq!(input_key(Kind::People, &a), input_key(Kind::People, &b));
        let id = object(json!({"linkedin_id": "jane-doe"}));
        let url = object(json!({"linkedin_url": "https://www.linkedin.com/in/jane-doe/"}));
        assert_eq!(input_key(Kind::People, &id), input_key(Kind::People, &url));
        let c = object(json!({"domain": "https://www.TechCo.com/about"}));
        assert_eq!(input_key(Kind::Companies, &c), "domain=techco.com");
    }

    #[test]
    fn costs_count_what_answers_carry() {
        let opts = object(json!({"reveal_email": true, "reveal_phone_numbers": false}));
        assert_eq!(worst_per_input(Kind::People, &opts), Credits::new(1.5, 0.0));
        assert_eq!(worst_per_input(Kind::Emails, &Map::new()), Credits::new(1.0, 0.0));
        let found =
            EnrichmentResult::from_json(r#"{"status":"enriched","result":{"id":"p","email":"a@x.com"}}"#).unwrap();
        assert_eq!(result_cost(&found, &opts), Credits::new(1.5, 0.0));
        let no_email = EnrichmentResult::from_json(r#"{"status":"enriched","result":{"id":"p"}}"#).unwrap();
        assert_eq!(result_cost(&no_email, &opts), Credits::new(0.5, 0.0));
        let missing = EnrichmentResult::from_json(r#"{"status":"not_found"}"#).unwrap();
        assert_eq!(result_cost(&missing, &opts), Credits::ZERO);
    }
}
