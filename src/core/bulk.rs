//! Many calls at once: `find_many` (bounded concurrency, paced by the client) and `enrich` (any number of leads,
//! companies or emails, deduplicated, split into jobs of at most a request's limit, waited on together, and
//! handed back in input order).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use serde_json::{Map, Value};

use super::budget::Credits;
use super::error::{Error, Result};
use super::jobs::{self, EnrichmentResult, JobRef, Kind, Snapshot};
use super::lead::signature;
use super::memory::{self, Spend};
use super::models::Person;
use super::people::{self, FindQuery};
use super::transport::{Client, RetryWatch, RETRY_WATCH};

/// Reports progress as (phase, done, total), counted in leads or queries; the last phase is `done`.
pub type Progress = Arc<dyn Fn(&str, usize, usize) + Send + Sync>;

/// How many finds may be in flight at once: 1 to 256.
pub fn check_concurrency(n: usize) -> Result<()> {
    if (1..=256).contains(&n) {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "concurrency must be from 1 to 256, got {n}"
        )))
    }
}

/// Finds every query, at most `concurrency` at a time; results come back in input order, each its own success
/// or failure. Closing the client ends the whole batch with `Error::Closed`, not each query one by one.
///
/// With a budget (the client's, or `max_credits` for this call), the worst case of the queries the cache cannot
/// answer is held first, or the whole batch refused before anything is sent; it is settled to what the answers
/// can have cost. Each answer says whether the cache gave it.
pub async fn find_many(
    client: &Client,
    queries: Vec<FindQuery>,
    concurrency: usize,
    progress: Option<Progress>,
    max_credits: Credits,
) -> Result<Vec<Result<(Option<Person>, bool)>>> {
    let worst = queries
        .iter()
        .filter(|q| q.validated().is_ok() && !memory::find_is_cached(client, q))
        .fold(Credits::ZERO, |c, q| {
            c + Credits::per_person(q.reveal_email, q.reveal_phone_numbers)
        });
    let reservation = client
        .memory()
        .reserve(max_credits, worst, &format!("finding {} people", queries.len()))?;
    // On the runtime's workers, beside the connections' tasks, rather than on the thread that waits for the
    // batch: requests and responses then change hands within a worker instead of waking another thread each time.
    let c = client.clone();
    let batch = Spawned(tokio::spawn(async move {
        find_each(&c, queries, concurrency, progress).await
    }));
    let (found, cost) = client.unless_closed(async { Ok(batch.await) }).await?;
    reservation.settle(cost);
    Ok(found)
}

/// A spawned task that is aborted when its handle is dropped (the caller gave up, or Ctrl-C), and whose panic
/// carries on in the caller.
struct Spawned<T>(tokio::task::JoinHandle<T>);

impl<T> std::future::Future for Spawned<T> {
    type Output = T;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<T> {
        std::pin::Pin::new(&mut self.0).poll(cx).map(|r| match r {
            Ok(v) => v,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("the find_many task ended early: {e}"),
        })
    }
}

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Every query's answer, and what those the server answered can have cost.
async fn find_each(
    client: &Client,
    queries: Vec<FindQuery>,
    concurrency: usize,
    progress: Option<Progress>,
) -> (Vec<Result<(Option<Person>, bool)>>, Credits) {
    let tracker = Arc::new(Tracker {
        progress,
        total: queries.len(),
        done: AtomicUsize::new(0),
    });
    let finished = AtomicUsize::new(0);
    tracker.report("finding", 0);
    // Unordered, so one query backing off before a retry does not hold the others up; put back in order after.
    let work = stream::iter(queries.into_iter().enumerate())
        .map(|(i, q)| {
            let (finished, tracker) = (&finished, &tracker);
            async move {
                let r = people::find_with(client, &q, Spend::Reserved).await;
                tracker.report("finding", finished.fetch_add(1, Ordering::Relaxed) + 1);
                let cost = match &r {
                    Ok((p, false)) => memory::find_cost(p.as_ref(), &q),
                    _ => Credits::ZERO,
                };
                (i, r, cost)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<_>>();
    let mut found = RETRY_WATCH.scope(retry_watch(&tracker), work).await;
    tracker.phase("done");
    found.sort_unstable_by_key(|(i, _, _)| *i);
    let cost = found.iter().fold(Credits::ZERO, |c, (_, _, cost)| c + *cost);
    (found.into_iter().map(|(_, r, _)| r).collect(), cost)
}

/// What `enrich` gives for one input lead.
#[derive(Clone, Debug)]
pub enum LeadOutcome {
    /// The server's result (shared by duplicate leads).
    Result(Arc<EnrichmentResult>),
    /// The lead was not sent: it cannot be enriched as given.
    Invalid(String),
    /// Its job ended in `error` before reaching it.
    Failed(String),
}

fn local_result(kind: Kind, status: &str, message: &str, lead: &Map<String, Value>) -> Arc<EnrichmentResult> {
    let mut m = Map::new();
    m.insert("status".into(), status.into());
    m.insert("error".into(), message.into());
    // The lead's text fields, as the server echoes a lead's (the others stay in the input's columns).
    for (k, v) in lead.iter().filter(|(_, v)| v.is_string()) {
        m.insert(k.clone(), v.clone());
    }
    Arc::new(EnrichmentResult::from_json_of(&Value::Object(m).to_string(), kind).expect("a local result parses"))
}

impl LeadOutcome {
    /// The outcome as a result object; local ones carry `status` `invalid` or `failed` and an `error`.
    pub fn into_result(self, kind: Kind, lead: &Map<String, Value>) -> Arc<EnrichmentResult> {
        match self {
            LeadOutcome::Result(r) => r,
            LeadOutcome::Invalid(m) => local_result(kind, "invalid", &m, lead),
            LeadOutcome::Failed(m) => local_result(kind, "failed", &m, lead),
        }
    }
}

/// Every result of a finished job, page by page.
pub async fn all_results(client: &Client, job: &JobRef) -> Result<Vec<EnrichmentResult>> {
    let mut page = jobs::get(client, job, Some(100)).await?;
    let mut out = Vec::new();
    // A next link already followed would replay pages forever: what it points at has been read.
    let mut followed = std::collections::HashSet::new();
    loop {
        out.append(&mut page.results);
        match page.next.take().filter(|href| followed.insert(href.clone())) {
            Some(href) => page = jobs::follow(client, job.kind, &href).await?,
            None => return Ok(out),
        }
    }
}

/// Matches a job's results to the leads it was given: by the echoed lead fields (first unmatched lead with the
/// same fields), so duplicates and any order work.
pub fn match_results(
    kind: Kind,
    leads: &[Map<String, Value>],
    results: Vec<EnrichmentResult>,
) -> Vec<Option<Arc<EnrichmentResult>>> {
    let keys = kind.echo_keys();
    let mut waiting: HashMap<String, VecDeque<usize>> = HashMap::new();
    for (i, lead) in leads.iter().enumerate() {
        waiting.entry(signature(keys, lead)).or_default().push_back(i);
    }
    let mut out = vec![None; leads.len()];
    let mut unmatched = Vec::new();
    for r in results {
        match waiting.get_mut(&signature(keys, &r.lead)).and_then(VecDeque::pop_front) {
            Some(i) => out[i] = Some(Arc::new(r)),
            None => unmatched.push(r),
        }
    }
    // Results whose echo differs from what was sent (a server normalising fields) fill the gaps in order, but only
    // when they pair up one to one: a lead the job was never given must not get somebody else's result.
    let gaps: Vec<usize> = out
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_none())
        .map(|(i, _)| i)
        .collect();
    if gaps.len() == unmatched.len() {
        for (i, r) in gaps.into_iter().zip(unmatched) {
            out[i] = Some(Arc::new(r));
        }
    }
    out
}

/// One progress display for a whole call, counted in leads: the phase changes (submitting, waiting, retrying,
/// reading results), the display stays.
struct Tracker {
    progress: Option<Progress>,
    total: usize,
    done: AtomicUsize,
}

impl Tracker {
    fn report(&self, stage: &str, done: usize) {
        self.done.store(done, Ordering::Relaxed);
        if let Some(p) = &self.progress {
            p(stage, done, self.total);
        }
    }

    /// A new phase at the current count.
    fn phase(&self, stage: &str) {
        self.report(stage, self.done.load(Ordering::Relaxed));
    }
}

/// Shows each pause before a retry as a phase of the display.
fn retry_watch(tracker: &Arc<Tracker>) -> RetryWatch {
    let tracker = tracker.clone();
    Arc::new(move |why: &str, wait: Duration| {
        tracker.phase(&format!("retrying after {why} for {:.0} s", wait.as_secs_f64().ceil()));
    })
}

/// What one bulk call sends: the kind of job, and the body options beside the inputs (people's reveals).
#[derive(Clone, Debug)]
pub struct Batch {
    pub kind: Kind,
    pub options: Map<String, Value>,
    /// The most inputs per request: the kind's limit, or less (email validations: the hourly limit).
    pub chunk: usize,
    /// The call's own budget, beside the client's.
    pub max_credits: Credits,
    /// Deterministic idempotency keys and jobs already started (a retried Spark or Dask task); `None`: a fresh
    /// key per request.
    pub keys: Option<Arc<Keys>>,
}

/// Called with `(idempotency key, job id)` as soon as a job is created.
pub type OnCreated = Arc<dyn Fn(&str, &str) + Send + Sync>;

/// Keys derived from what a request carries, so the same inputs sent again (by a retried task) carry the same
/// `Idempotency-Key`, and the jobs a first attempt started, found again by key.
pub struct Keys {
    /// Mixed into every key: the same salt, kind, options and inputs make the same key.
    pub salt: String,
    /// Jobs already started, by key: fetched instead of created.
    pub known: HashMap<String, String>,
    pub on_created: Option<OnCreated>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("known", &self.known.len())
            .finish_non_exhaustive()
    }
}

impl Keys {
    /// The key of one request: `amp-` and the SHA-256 (hex, 32 digits) of the salt, the kind, the options and
    /// each input's fields.
    pub fn key(&self, kind: Kind, options: &Map<String, Value>, items: &[Map<String, Value>]) -> String {
        let mut h = ring::digest::Context::new(&ring::digest::SHA256);
        let mut part = |bytes: &[u8]| {
            h.update(&(bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        part(self.salt.as_bytes());
        part(kind.collection().as_bytes());
        part(Value::Object(options.clone()).to_string().as_bytes());
        for item in items {
            part(Value::Object(item.clone()).to_string().as_bytes());
        }
        let digest = h.finish();
        let hex: String = digest.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("amp-{hex}")
    }
}

impl Batch {
    pub fn new(kind: Kind, options: Map<String, Value>) -> Self {
        Batch {
            kind,
            options,
            chunk: kind.max_items(),
            max_credits: Credits::UNLIMITED,
            keys: None,
        }
    }
}

/// The distinct valid inputs (identical ones are sent once: fewer requests, and the same answer for each copy),
/// and for each input, the index of its distinct one (`None` for an invalid input).
pub fn unique_inputs(
    kind: Kind,
    inputs: &[std::result::Result<Map<String, Value>, String>],
) -> (Vec<Map<String, Value>>, Vec<Option<usize>>) {
    let mut unique: Vec<Map<String, Value>> = Vec::new();
    let mut index_of: HashMap<String, usize> = HashMap::new();
    let slot = inputs
        .iter()
        .map(|l| {
            l.as_ref().ok().map(|input| {
                *index_of.entry(signature(kind.echo_keys(), input)).or_insert_with(|| {
                    unique.push(input.clone());
                    unique.len() - 1
                })
            })
        })
        .collect();
    (unique, slot)
}

/// What a call would send and cost, without sending anything.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    pub rows: usize,
    pub invalid: usize,
    pub distinct: usize,
    pub cached: usize,
    pub to_send: usize,
    /// The most the inputs to send can cost (company enrichment, whose price is not documented, counts 0).
    pub worst: Credits,
}

pub fn estimate(
    client: &Client,
    batch: &Batch,
    inputs: &[std::result::Result<Map<String, Value>, String>],
) -> Estimate {
    let (unique, _) = unique_inputs(batch.kind, inputs);
    let cached = memory::cached_results(client, batch.kind, &batch.options, &unique, false)
        .iter()
        .filter(|r| r.is_some())
        .count();
    let to_send = unique.len() - cached;
    Estimate {
        rows: inputs.len(),
        invalid: inputs.iter().filter(|i| i.is_err()).count(),
        distinct: unique.len(),
        cached,
        to_send,
        worst: memory::worst_per_input(batch.kind, &batch.options).times(to_send),
    }
}

/// Enriches (or validates) any number of inputs (each already validated, or the reason it is not valid) and
/// returns one outcome per input, in input order. `progress` sees `(phase, inputs done, inputs to send)`, ending
/// with `done`.
pub async fn enrich(
    client: &Client,
    batch: &Batch,
    leads: &[std::result::Result<Map<String, Value>, String>],
    timeout: Option<Duration>,
    progress: Option<Progress>,
) -> Result<Vec<LeadOutcome>> {
    let (unique, slot) = unique_inputs(batch.kind, leads);
    let tracker = Arc::new(Tracker {
        progress,
        total: unique.len(),
        done: AtomicUsize::new(0),
    });
    let per_unique = RETRY_WATCH
        .scope(
            retry_watch(&tracker),
            Call {
                client,
                batch,
                timeout,
                tracker: &tracker,
            }
            .remembered(&unique),
        )
        .await?;
    tracker.report("done", unique.len());
    Ok(leads
        .iter()
        .zip(slot)
        .map(|(lead, slot)| match (lead, slot) {
            (Err(reason), _) => LeadOutcome::Invalid(reason.clone()),
            (Ok(_), Some(i)) => per_unique[i].clone(),
            (Ok(_), None) => unreachable!("valid leads always have a slot"),
        })
        .collect())
}

/// One `enrich` call on its way: where it sends, what, how long it waits for its jobs, and whom it tells.
#[derive(Clone, Copy)]
struct Call<'a> {
    client: &'a Client,
    batch: &'a Batch,
    timeout: Option<Duration>,
    tracker: &'a Tracker,
}

impl Call<'_> {
    /// `unique` through the client's memory: inputs the cache answers are not sent; the worst case of the
    /// others is held against the budget first (or the call refused); their results are stored, and the budget
    /// settled to what they can have cost.
    async fn remembered(self, unique: &[Map<String, Value>]) -> Result<Vec<LeadOutcome>> {
        let Call {
            client, batch, tracker, ..
        } = self;
        let mut outcomes: Vec<Option<LeadOutcome>> =
            memory::cached_results(client, batch.kind, &batch.options, unique, true)
                .into_iter()
                .map(|r| r.map(LeadOutcome::Result))
                .collect();
        let missing: Vec<usize> = (0..unique.len()).filter(|&i| outcomes[i].is_none()).collect();
        let cached = unique.len() - missing.len();
        if missing.is_empty() {
            tracker.report("read from the cache", cached);
            return Ok(outcomes.into_iter().flatten().collect());
        }
        let to_send: Vec<Map<String, Value>> = missing.iter().map(|&i| unique[i].clone()).collect();
        let worst = memory::worst_per_input(batch.kind, &batch.options).times(to_send.len());
        let what = format!("sending {} {}", to_send.len(), batch.kind.inputs());
        let reservation = client.memory().reserve(batch.max_credits, worst, &what)?;
        let sent = self.unique(&to_send).await?;
        let results: Vec<Option<Arc<EnrichmentResult>>> = sent
            .iter()
            .map(|o| match o {
                LeadOutcome::Result(r) => Some(r.clone()),
                _ => None,
            })
            .collect();
        let cost = results
            .iter()
            .flatten()
            .fold(Credits::ZERO, |c, r| c + memory::result_cost(r, &batch.options));
        reservation.settle(cost);
        memory::store_results(client, batch.kind, &batch.options, to_send, results);
        let remembered = client.memory().cache().is_some();
        for (i, o) in missing.into_iter().zip(sent) {
            outcomes[i] = Some(match o {
                LeadOutcome::Failed(why) if remembered => LeadOutcome::Failed(format!(
                    "{why}; the results already obtained are in the cache: the same call, run again, sends only the \
                     inputs still missing"
                )),
                o => o,
            });
        }
        Ok(outcomes
            .into_iter()
            .map(|o| o.expect("every input has an outcome"))
            .collect())
    }

    /// Submits distinct leads in chunks, waits for every job and reads the results: one outcome per lead.
    async fn unique(self, unique: &[Map<String, Value>]) -> Result<Vec<LeadOutcome>> {
        let Call {
            client,
            batch,
            timeout,
            tracker,
        } = self;
        let chunks: Vec<&[Map<String, Value>]> = unique.chunks(batch.chunk.max(1)).collect();
        let submitted = self.submit(&chunks).await?;
        // Per job: results produced so far (a lower bound while it runs: the first page) and its status.
        let jobs: Vec<(&JobRef, usize)> = chunks
            .iter()
            .zip(&submitted)
            .filter_map(|(chunk, s)| s.as_ref().ok().map(|job| (job, chunk.len())))
            .collect();
        let seen = parking_lot::Mutex::new(vec![(0usize, String::from("queued")); jobs.len()]);
        tracker.report("waiting: queued", 0);
        let waits = jobs.iter().enumerate().map(|(k, &(job, size))| {
            let seen = &seen;
            jobs::wait(client, job, timeout, move |s: &Snapshot| {
                let (produced, phase) = {
                    let mut seen = seen.lock();
                    let produced = if s.done() { size } else { s.results.len().min(size) };
                    seen[k] = (seen[k].0.max(produced), s.status.clone());
                    let any_processing = seen.iter().any(|(_, st)| st == "processing");
                    let phase = if any_processing || seen.iter().all(|(_, st)| jobs::is_done(st)) {
                        "waiting: processing"
                    } else {
                        "waiting: queued"
                    };
                    (seen.iter().map(|(n, _)| n).sum(), phase)
                };
                tracker.report(phase, produced);
            })
        });
        let mut outcomes = futures_util::future::join_all(waits).await.into_iter();
        tracker.report("reading results", 0);
        let mut read = 0;
        let mut per_unique: Vec<LeadOutcome> = Vec::with_capacity(unique.len());
        for (chunk, job) in chunks.iter().zip(&submitted) {
            let job = match job {
                Ok(job) => job,
                Err(why) => {
                    per_unique.extend(chunk.iter().map(|_| LeadOutcome::Failed(why.clone())));
                    continue;
                }
            };
            let failure = match outcomes.next().expect("one wait per job") {
                Ok(_) => None,
                Err(e @ Error::JobFailed { .. }) => Some(e.to_string()),
                Err(e) => return Err(e),
            };
            let matched = match_results(batch.kind, chunk, all_results(client, job).await?);
            for r in matched {
                per_unique.push(match (r, &failure) {
                    (Some(r), _) => LeadOutcome::Result(r),
                    (None, Some(f)) => LeadOutcome::Failed(f.clone()),
                    (None, None) => LeadOutcome::Failed(format!("{job} returned no result for this input")),
                });
            }
            read += chunk.len();
            tracker.report("reading results", read);
        }
        Ok(per_unique)
    }

    /// Starts one job per chunk: its id, or why its leads were not enriched. A chunk that fails does not lose the
    /// jobs already started (their leads still get their results); when no job starts at all, the first error is
    /// returned as is. A creation is not repeated where it may have reached the server (see `jobs::create`): those
    /// leads come back `failed` with an error saying so, never charged twice.
    async fn submit(self, chunks: &[&[Map<String, Value>]]) -> Result<Vec<std::result::Result<JobRef, String>>> {
        let tracker = self.tracker;
        let mut submitted = Vec::with_capacity(chunks.len());
        let mut first_error: Option<Error> = None;
        let mut sent = 0;
        for chunk in chunks {
            tracker.report("submitting", sent);
            sent += chunk.len();
            // A refusal (bad key, no credits…) would refuse the next chunks too: they are not sent.
            if let Some(e) = first_error.as_ref().filter(|e| refused(e)) {
                submitted.push(Err(format!("not submitted: an earlier request was refused: {e}")));
                continue;
            }
            match self.create_within_limit(chunk).await {
                Ok(job) => submitted.push(Ok(job.job)),
                Err(Error::Closed) => return Err(Error::Closed),
                Err(e) => {
                    submitted.push(Err(format!("the request that carried this input failed: {e}")));
                    first_error.get_or_insert(e);
                }
            }
        }
        tracker.report("submitting", sent);
        match first_error {
            Some(e) if submitted.iter().all(|s| s.is_err()) => Err(e),
            _ => Ok(submitted),
        }
    }

    /// Creates one job. An email validation over the account's hourly limit (429) is waited out here, however long
    /// the server says, showing so in the progress: the limit is the account's, so the caller has nothing to fix.
    async fn create_within_limit(self, chunk: &[Map<String, Value>]) -> Result<Snapshot> {
        let Call {
            client, batch, tracker, ..
        } = self;
        let key = batch.keys.as_ref().map(|k| k.key(batch.kind, &batch.options, chunk));
        if let (Some(keys), Some(key)) = (&batch.keys, &key) {
            if let Some(id) = keys.known.get(key) {
                // Started by an earlier attempt: re-attach to it instead of sending its inputs again.
                return jobs::get(client, &JobRef::new(batch.kind, id.clone()), Some(1)).await;
            }
        }
        loop {
            match jobs::create(client, batch.kind, chunk, batch.options.clone(), key.clone()).await {
                Ok(snap) => {
                    if let (Some(keys), Some(key)) = (&batch.keys, &key) {
                        if let Some(f) = &keys.on_created {
                            f(key, &snap.job.id);
                        }
                    }
                    return Ok(snap);
                }
                Err(Error::Status(s)) if s.status == 429 && batch.kind == Kind::Emails => {
                    let wait = s
                        .retry_after
                        .unwrap_or(Duration::from_secs(60))
                        .max(Duration::from_secs(1));
                    tracker.phase(&format!(
                        "waiting: hourly validation limit, {:.0} s",
                        wait.as_secs_f64().ceil()
                    ));
                    client
                        .unless_closed(async {
                            tokio::time::sleep(wait).await;
                            Ok(())
                        })
                        .await?;
                }
                other => return other,
            }
        }
    }
}

/// An error response that says the request was refused outright: nothing was started, and trying again as is
/// would be refused the same way.
fn refused(e: &Error) -> bool {
    matches!(e, Error::Status(s) if s.is_refusal())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testing::object;
    use serde_json::json;

    fn result(id: i64, l: Value) -> EnrichmentResult {
        let mut m = object(l);
        m.insert("id".into(), id.into());
        m.insert("status".into(), "not_found".into());
        EnrichmentResult::from_json(&Value::Object(m).to_string()).unwrap()
    }

    fn leads_by_email(emails: &[&str]) -> Vec<Map<String, Value>> {
        emails.iter().map(|e| object(json!({ "email": e }))).collect()
    }

    /// Results with these ids, echoing these emails.
    fn results_by_email(results: &[(i64, &str)]) -> Vec<EnrichmentResult> {
        results
            .iter()
            .map(|&(id, e)| result(id, json!({ "email": e })))
            .collect()
    }

    fn ids(matched: &[Option<Arc<EnrichmentResult>>]) -> Vec<Option<i64>> {
        matched.iter().map(|r| r.as_ref().and_then(|r| r.id)).collect()
    }

    #[test]
    fn results_find_their_leads_in_any_order_with_duplicates() {
        let leads = leads_by_email(&["a@x.com", "b@x.com", "a@x.com"]);
        let results = results_by_email(&[(3, "a@x.com"), (1, "B@x.com"), (2, "a@x.com")]);
        let m = match_results(Kind::People, &leads, results);
        assert_eq!(ids(&m), [Some(3), Some(1), Some(2)]);
    }

    #[test]
    fn results_with_changed_echoes_fill_gaps_in_order() {
        let leads = vec![
            object(json!({"email": "a@x.com"})),
            object(json!({"linkedin_id": "zz"})),
        ];
        let results = vec![
            result(1, json!({"email": "a@x.com"})),
            result(2, json!({"linkedin_url": "https://linkedin.com/in/zz"})),
        ];
        let m = match_results(Kind::People, &leads, results);
        assert_eq!(m[1].as_ref().unwrap().id, Some(2));
    }

    #[test]
    fn results_give_back_the_exact_text() {
        let text =
            r#"{"id": 7, "email":"a@x.com", "status":"enriched", "result": {"id":"p","name":"A", "x":[1, 2]}, "z": 1}"#;
        let r = EnrichmentResult::from_json(text).unwrap();
        assert_eq!(r.to_json(), text);
        assert_eq!(r.person.as_ref().unwrap().raw(), r#"{"id":"p","name":"A", "x":[1, 2]}"#);
        let plain = r#"{"id": 8, "status": "not_found"}"#;
        assert_eq!(EnrichmentResult::from_json(plain).unwrap().to_json(), plain);
    }

    #[test]
    fn a_lead_the_job_was_not_given_gets_nothing() {
        let leads = leads_by_email(&["b@x.com", "stranger@x.com"]);
        let results = results_by_email(&[(1, "a@x.com"), (2, "b@x.com"), (3, "c@x.com")]);
        let m = match_results(Kind::People, &leads, results);
        assert_eq!(ids(&m), [Some(2), None]);
    }

    #[test]
    fn local_results_carry_status_error_and_lead() {
        let l = object(json!({"name": "Jane"}));
        let r = LeadOutcome::Invalid("no identifier".into()).into_result(Kind::People, &l);
        assert_eq!(r.status.as_deref(), Some("invalid"));
        assert!(r.to_json().contains("no identifier"));
        assert_eq!(r.lead.get("name"), Some(&json!("Jane")));
    }
}
