//! Enrichment jobs: create / poll / cancel, waiting with a deadline, and the result pages.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::error::{Error, Result};
use super::lead::{LEAD_KEYS, RESULT_FIELDS};
use super::models::{body_text, decode_error, decode_with, shared, Obj, Person};
use super::retry::Safety;
use super::transport::{Client, Request, Response};

/// The most leads one enrichment request takes.
pub const MAX_LEADS: usize = 10_000;

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
    id: u64,
    #[serde(default)]
    status: Option<String>,
    #[serde(default, borrow)]
    results: Vec<&'a RawValue>,
    #[serde(default, rename = "_links")]
    links: Links,
    #[serde(default, rename = "_errors")]
    errors: Vec<Value>,
}

/// One result of an enrichment job; its person shares its text.
#[derive(Debug)]
pub struct EnrichmentResult {
    pub obj: Obj,
    pub id: Option<i64>,
    pub status: Option<String>,
    pub person: Option<Arc<Person>>,
    /// The lead fields the server echoed.
    pub lead: Map<String, Value>,
}

impl EnrichmentResult {
    pub fn from_text(text: &Arc<str>, start: usize, end: usize) -> std::result::Result<Self, String> {
        let obj = Obj::index(text, start, end, RESULT_FIELDS, "an enrichment result")?;
        let person = obj.nested("result", Person::from_text).transpose()?.map(Arc::new);
        let lead = LEAD_KEYS
            .iter()
            .filter_map(|k| obj.get::<Value>(k).map(|v| (k.to_string(), v)))
            .collect();
        Ok(EnrichmentResult {
            id: obj.get("id"),
            status: obj.string("status"),
            person,
            lead,
            obj,
        })
    }

    pub fn from_json(text: &str) -> std::result::Result<Self, String> {
        let (text, start, end) = shared(text);
        EnrichmentResult::from_text(&text, start, end)
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
    pub id: u64,
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
    pub(crate) fn parse(resp: &Response) -> Result<Snapshot> {
        let what = "a person_enrichment object";
        let text = body_text(resp, what)?;
        let wire: JobWire = decode_with(resp, what, |_| serde_json::from_str(&text))?;
        let results = wire
            .results
            .iter()
            .map(|r| {
                let a = r.get().as_ptr() as usize - text.as_ptr() as usize;
                EnrichmentResult::from_text(&text, a, a + r.get().len())
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|m| decode_error(resp, m))?;
        Ok(Snapshot {
            id: wire.id,
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

fn job_path(id: u64) -> String {
    format!("/people/enrichment-requests/{id}")
}

/// How many leads one request may take: at least one, at most `MAX_LEADS`.
pub fn check_count(n: usize) -> Result<()> {
    match n {
        0 => Err(Error::InvalidInput("no leads to enrich".into())),
        n if n > MAX_LEADS => Err(Error::InvalidInput(format!(
            "{n} leads are more than one enrichment request takes ({MAX_LEADS}); Person.enrich() splits any number \
             of leads into several requests and returns one result per lead"
        ))),
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

/// A job id as given by a caller: the positive `id` of a job.
pub fn job_id(id: i64) -> Result<u64> {
    u64::try_from(id).ok().filter(|id| *id > 0).ok_or_else(|| {
        Error::InvalidInput(format!(
            "job_id must be a positive integer, the `id` of a job from EnrichmentJob.create; got {id}"
        ))
    })
}

/// Starts a job. `leads` must already be validated. The `Idempotency-Key` (the caller's, else a fresh one) is the
/// same across retries; a caller that saved its key before sending can repeat a create cut short by a crash.
pub async fn create(
    client: &Client,
    leads: &[Map<String, Value>],
    reveal_email: bool,
    reveal_phone_numbers: bool,
    idempotency_key: Option<String>,
) -> Result<Snapshot> {
    check_count(leads.len())?;
    let body = serde_json::json!({
        "leads": leads,
        "reveal_email": reveal_email,
        "reveal_phone_numbers": reveal_phone_numbers,
    });
    let key = idempotency_key.unwrap_or_else(|| {
        let bytes: [u8; 16] = rand::random();
        uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
    });
    let req = Request {
        safety: Safety::CreatesJob,
        idempotency_key: Some(key),
        ..Request::json(Method::POST, "/people/enrichment-requests", &body)
    };
    Snapshot::parse(&client.send(&req).await?)
}

/// The job's current state and first page of results (`page_size` of them, 1..=100).
pub async fn get(client: &Client, id: u64, page_size: Option<u32>) -> Result<Snapshot> {
    let mut req = Request::get(job_path(id));
    if let Some(n) = page_size {
        req.query
            .push(("page[size]".into(), self::page_size(n.into())?.to_string()));
    }
    parse_job(&client.send(&req).await?, id)
}

/// A job response that must be about job `id`: another job's state would be taken for this one's.
fn parse_job(resp: &Response, id: u64) -> Result<Snapshot> {
    let snap = Snapshot::parse(resp)?;
    if snap.id != id {
        let message = format!(
            "asked for enrichment request {id}, the server answered about {}",
            snap.id
        );
        return Err(decode_error(resp, message));
    }
    Ok(snap)
}

/// Follows a `_links` href of a job response.
pub async fn follow(client: &Client, href: &str) -> Result<Snapshot> {
    Snapshot::parse(&client.send(&Request::get(href)).await?)
}

pub async fn cancel(client: &Client, id: u64) -> Result<Snapshot> {
    let req = Request::json(Method::PATCH, job_path(id), &serde_json::json!({"status": "canceled"}));
    parse_job(&client.send(&req).await?, id)
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
    id: u64,
    timeout: Option<Duration>,
    mut progress: impl FnMut(&Snapshot) + Send,
) -> Result<Snapshot> {
    let started = Instant::now();
    loop {
        let snap = get(client, id, None).await?;
        progress(&snap);
        if snap.done() {
            if snap.status == "error" {
                return Err(Error::JobFailed {
                    job_id: id,
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
                    job_id: id,
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
