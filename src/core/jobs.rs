//! Bulk jobs on the server: people and company enrichment requests and email validations. They share one
//! lifecycle (create / poll with `Retry-After` / cursor pages / cancel), told apart by their `Kind`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::error::{Error, Result};
use super::lead::{COMPANY_KEYS, COMPANY_RESULT_FIELDS, EMAIL_RESULT_FIELDS, LEAD_KEYS, RESULT_FIELDS};
use super::models::{body_text, decode_error, decode_with, shared, Company, Obj, Person};
use super::retry::Safety;
use super::transport::{Client, Request, Response};

/// The most leads one enrichment request takes.
pub const MAX_LEADS: usize = 10_000;

/// Which family of bulk request a job belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    People,
    Companies,
    Emails,
}

impl Kind {
    /// Where its requests are created; a job is `{collection}/{id}`.
    pub fn collection(self) -> &'static str {
        match self {
            Kind::People => "/people/enrichment-requests",
            Kind::Companies => "/companies/enrichment-requests",
            Kind::Emails => "/email-validations",
        }
    }

    /// The body member that lists a request's inputs.
    pub fn items_key(self) -> &'static str {
        match self {
            Kind::People => "leads",
            Kind::Companies => "companies",
            Kind::Emails => "emails",
        }
    }

    /// The `object` of its responses.
    pub fn object(self) -> &'static str {
        match self {
            Kind::People => "person_enrichment",
            Kind::Companies => "company_enrichment",
            Kind::Emails => "email_validation",
        }
    }

    /// The most inputs one request takes.
    pub fn max_items(self) -> usize {
        match self {
            Kind::People | Kind::Companies => MAX_LEADS,
            Kind::Emails => 100_000,
        }
    }

    /// The input fields a result echoes: results are matched back to inputs by them.
    pub fn echo_keys(self) -> &'static [&'static str] {
        match self {
            Kind::People => LEAD_KEYS,
            Kind::Companies => COMPANY_KEYS,
            Kind::Emails => &["email"],
        }
    }

    fn result_fields(self) -> &'static [&'static str] {
        match self {
            Kind::People => RESULT_FIELDS,
            Kind::Companies => COMPANY_RESULT_FIELDS,
            Kind::Emails => EMAIL_RESULT_FIELDS,
        }
    }

    /// What its jobs are called in messages.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::People => "enrichment job",
            Kind::Companies => "company enrichment job",
            Kind::Emails => "email validation",
        }
    }

    /// What its inputs are called in messages.
    pub fn inputs(self) -> &'static str {
        match self {
            Kind::People => "leads",
            Kind::Companies => "companies",
            Kind::Emails => "emails",
        }
    }

    /// The Python call that resumes job `id` of this kind.
    pub fn resume_call(self, id: &str) -> String {
        match self {
            Kind::People => format!("EnrichmentJob.get({id})"),
            Kind::Companies => format!("EnrichmentJob.get({id}, kind=\"company\")"),
            Kind::Emails => format!("EmailValidation.get({id:?})"),
        }
    }

    /// The kind a job's path or link belongs to.
    fn of_href(href: &str) -> Option<Kind> {
        [Kind::People, Kind::Companies, Kind::Emails]
            .into_iter()
            .find(|k| href.contains(k.collection()))
    }
}

/// One job on the server: integer ids for enrichments, uuids for email validations, kept as text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JobRef {
    pub kind: Kind,
    pub id: String,
}

impl JobRef {
    pub fn new(kind: Kind, id: impl Into<String>) -> Self {
        JobRef { kind, id: id.into() }
    }

    fn path(&self) -> String {
        format!("{}/{}", self.kind.collection(), self.id)
    }

    /// The id as a number, for enrichment jobs.
    pub fn number(&self) -> Option<u64> {
        self.id.parse().ok()
    }
}

impl std::fmt::Display for JobRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind.noun(), self.id)
    }
}

#[derive(Debug, Deserialize)]
struct Link {
    href: String,
}

#[derive(Debug, Default, Deserialize)]
struct Links {
    next: Option<Link>,
    prev: Option<Link>,
}

#[derive(Deserialize)]
struct JobWire<'a> {
    id: Value,
    #[serde(default)]
    status: Option<String>,
    #[serde(default, borrow)]
    results: Vec<&'a RawValue>,
    #[serde(default, rename = "_links")]
    links: Links,
    #[serde(default, rename = "_errors")]
    errors: Vec<Value>,
}

/// One result of a job (a person or company enrichment, or an email's validation); what it found shares its text.
#[derive(Debug)]
pub struct EnrichmentResult {
    pub kind: Kind,
    pub obj: Obj,
    pub id: Option<i64>,
    pub status: Option<String>,
    pub person: Option<Arc<Person>>,
    /// The company of a company enrichment.
    pub company: Option<Arc<Company>>,
    /// The input fields the server echoed.
    pub lead: Map<String, Value>,
    /// Answered by the result cache, not by the server this time.
    pub from_cache: bool,
}

impl EnrichmentResult {
    pub fn from_text(text: &Arc<str>, start: usize, end: usize, kind: Kind) -> std::result::Result<Self, String> {
        let what = match kind {
            Kind::Emails => "an email validation result",
            _ => "an enrichment result",
        };
        let obj = Obj::index(text, start, end, kind.result_fields(), what)?;
        let (person, company) = match kind {
            Kind::People => (obj.nested("result", Person::from_text).transpose()?.map(Arc::new), None),
            Kind::Companies => (
                None,
                obj.nested("result", Company::from_text).transpose()?.map(Arc::new),
            ),
            Kind::Emails => (None, None),
        };
        let lead = kind
            .echo_keys()
            .iter()
            .filter_map(|k| obj.get::<Value>(k).map(|v| (k.to_string(), v)))
            .collect();
        Ok(EnrichmentResult {
            kind,
            id: obj.get("id"),
            status: obj.string("status"),
            person,
            company,
            lead,
            obj,
            from_cache: false,
        })
    }

    pub fn from_json(text: &str) -> std::result::Result<Self, String> {
        EnrichmentResult::from_json_of(text, Kind::People)
    }

    pub fn from_json_of(text: &str, kind: Kind) -> std::result::Result<Self, String> {
        let (text, start, end) = shared(text);
        EnrichmentResult::from_text(&text, start, end, kind)
    }

    /// The `error` of a result this SDK made for a lead it could not send (or whose job failed).
    pub fn error(&self) -> Option<String> {
        self.obj.string("error")
    }

    /// Exactly the JSON the server sent for this result.
    pub fn to_json(&self) -> String {
        self.obj.text().to_string()
    }
}

/// A job as one response showed it.
#[derive(Debug)]
pub struct Snapshot {
    pub job: JobRef,
    pub status: String,
    pub results: Vec<EnrichmentResult>,
    pub next: Option<String>,
    pub prev: Option<String>,
    pub errors: Vec<Value>,
    pub retry_after: Option<Duration>,
}

/// `queued` and `processing` are in progress; anything else (including statuses the API may add) is final.
pub fn is_done(status: &str) -> bool {
    !matches!(status, "queued" | "processing")
}

impl Snapshot {
    pub(crate) fn parse(resp: &Response, kind: Kind) -> Result<Snapshot> {
        let what = format!("a {} object", kind.object());
        let text = body_text(resp, &what)?;
        let wire: JobWire = decode_with(resp, &what, |_| serde_json::from_str(&text))?;
        let id = match wire.id {
            Value::Number(n) if n.is_u64() => n.to_string(),
            Value::String(s) if !s.is_empty() && !s.contains('/') => s,
            other => return Err(decode_error(resp, format!("{what} with the id {other}"))),
        };
        let results = wire
            .results
            .iter()
            .map(|r| {
                let a = r.get().as_ptr() as usize - text.as_ptr() as usize;
                EnrichmentResult::from_text(&text, a, a + r.get().len(), kind)
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|m| decode_error(resp, m))?;
        Ok(Snapshot {
            job: JobRef::new(kind, id),
            status: wire.status.unwrap_or_else(|| "unknown".into()),
            results,
            next: wire.links.next.map(|l| l.href),
            prev: wire.links.prev.map(|l| l.href),
            errors: wire.errors,
            retry_after: resp.retry_after(),
        })
    }

    pub fn done(&self) -> bool {
        is_done(&self.status)
    }
}

/// How many inputs one request of `kind` may take: at least one, at most its limit.
pub fn check_count(kind: Kind, n: usize) -> Result<()> {
    let max = kind.max_items();
    match n {
        0 => Err(Error::InvalidInput(format!("no {} to send", kind.inputs()))),
        n if n > max => {
            let splitter = match kind {
                Kind::People => "Person.enrich()",
                Kind::Companies => "Company.enrich()",
                Kind::Emails => "amplemarket.validate_emails()",
            };
            Err(Error::InvalidInput(format!(
                "{n} {} are more than one request takes ({max}); {splitter} splits any number into several \
                 requests and returns one result per input",
                kind.inputs()
            )))
        }
        _ => Ok(()),
    }
}

/// A page size of job results: 1 to 100.
pub fn page_size(n: i64) -> Result<u32> {
    match u32::try_from(n) {
        Ok(n @ 1..=100) => Ok(n),
        _ => Err(Error::InvalidInput(format!("page_size must be from 1 to 100, got {n}"))),
    }
}

/// An enrichment job's id as given by a caller: the positive `id` of a job.
pub fn job_id(id: i64) -> Result<u64> {
    u64::try_from(id).ok().filter(|id| *id > 0).ok_or_else(|| {
        Error::InvalidInput(format!(
            "job_id must be a positive integer, the `id` of a job from EnrichmentJob.create; got {id}"
        ))
    })
}

/// An email validation's id as given by a caller: the text `EmailValidation.create` gave (a uuid).
pub fn validation_id(id: &str) -> Result<String> {
    let id = id.trim();
    let usable = !id.is_empty() && id.len() <= 100 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if usable {
        Ok(id.to_string())
    } else {
        Err(Error::InvalidInput(format!(
            "validation_id must be the `id` of an email validation (a uuid like \
             0b0f7a4c-6a55-4f43-9c6e-2d5d5c1d9a01); got {id:?}"
        )))
    }
}

/// Starts a job of `kind` for `items` (already validated), with `options` beside them in the body (people's
/// `reveal_email`…). The `Idempotency-Key` (the caller's, else a fresh one) is the same across retries; a caller
/// that saved its key before sending can repeat a create cut short by a crash.
pub async fn create(
    client: &Client,
    kind: Kind,
    items: &[Map<String, Value>],
    options: Map<String, Value>,
    idempotency_key: Option<String>,
) -> Result<Snapshot> {
    check_count(kind, items.len())?;
    let mut body = options;
    body.insert(
        kind.items_key().into(),
        items.iter().cloned().map(Value::Object).collect(),
    );
    let key = idempotency_key.unwrap_or_else(|| {
        let bytes: [u8; 16] = rand::random();
        uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
    });
    let req = Request {
        safety: Safety::CreatesJob,
        idempotency_key: Some(key),
        ..Request::json(Method::POST, kind.collection(), &Value::Object(body))
    };
    Snapshot::parse(&client.send(&req).await?, kind)
}

/// The body options of a people enrichment request.
pub fn reveal_options(reveal_email: bool, reveal_phone_numbers: bool) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("reveal_email".into(), reveal_email.into());
    m.insert("reveal_phone_numbers".into(), reveal_phone_numbers.into());
    m
}

/// The job's current state and first page of results (`page_size` of them, 1..=100).
pub async fn get(client: &Client, job: &JobRef, page_size: Option<u32>) -> Result<Snapshot> {
    let mut req = Request::get(job.path());
    if let Some(n) = page_size {
        req.query
            .push(("page[size]".into(), self::page_size(n.into())?.to_string()));
    }
    parse_job(&client.send(&req).await?, job)
}

/// A job response that must be about `job`: another job's state would be taken for this one's.
fn parse_job(resp: &Response, job: &JobRef) -> Result<Snapshot> {
    let snap = Snapshot::parse(resp, job.kind)?;
    if snap.job != *job {
        let message = format!("asked for {job}, the server answered about {}", snap.job.id);
        return Err(decode_error(resp, message));
    }
    Ok(snap)
}

/// Follows a `_links` href of a response about a job of `kind`.
pub async fn follow(client: &Client, kind: Kind, href: &str) -> Result<Snapshot> {
    let kind = Kind::of_href(href).unwrap_or(kind);
    Snapshot::parse(&client.send(&Request::get(href)).await?, kind)
}

pub async fn cancel(client: &Client, job: &JobRef) -> Result<Snapshot> {
    let req = Request::json(Method::PATCH, job.path(), &serde_json::json!({"status": "canceled"}));
    parse_job(&client.send(&req).await?, job)
}

/// How long to wait between polls when the server gives no `Retry-After`.
const DEFAULT_POLL: Duration = Duration::from_secs(5);
/// The longest pause between polls, whatever the server says.
const MAX_POLL: Duration = Duration::from_secs(60);
/// The shortest: a `Retry-After: 0` must not turn into a busy loop.
const MIN_POLL: Duration = Duration::from_millis(50);

/// Polls until the job is done (honouring `Retry-After`) or `timeout` passes; `progress` sees every poll.
pub async fn wait(
    client: &Client,
    job: &JobRef,
    timeout: Option<Duration>,
    mut progress: impl FnMut(&Snapshot) + Send,
) -> Result<Snapshot> {
    let started = Instant::now();
    loop {
        let snap = get(client, job, None).await?;
        progress(&snap);
        if snap.done() {
            if snap.status == "error" {
                return Err(Error::JobFailed {
                    job: job.clone(),
                    errors: snap.errors,
                });
            }
            return Ok(snap);
        }
        let mut pause = snap.retry_after.unwrap_or(DEFAULT_POLL).clamp(MIN_POLL, MAX_POLL);
        if let Some(limit) = timeout {
            let waited = started.elapsed();
            if waited >= limit {
                return Err(Error::JobTimeout {
                    job: job.clone(),
                    status: snap.status,
                    waited,
                });
            }
            // The last poll comes at the deadline: the whole timeout is given to the job, and no more.
            pause = pause.min(limit - waited);
        }
        // Between polls too, closing the client ends the wait.
        client
            .unless_closed(async {
                tokio::time::sleep(pause).await;
                Ok(())
            })
            .await?;
    }
}
