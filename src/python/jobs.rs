//! `EnrichmentJob` and `EnrichmentResult`: start, resume, wait on, page through and cancel enrichment jobs.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use parking_lot::Mutex;
use pyo3::exceptions::{PyStopAsyncIteration, PyTypeError};
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::types::{PyDict, PyString, PyType};
use pythonize::{depythonize, pythonize};
use serde_json::{Map, Value};

use super::client::{resolve, PyClient};
use super::errors::to_pyerr;
use super::models::PyPerson;
use super::runtime::{awaitable, awaitable_py, block_on, runtime};
use crate::core::bulk::Progress;
use crate::core::jobs::{self, EnrichmentResult, Snapshot, MAX_LEADS};
use crate::core::lead::validate_lead;
use crate::core::{Client, Error};

/// Reads `leads` (any iterable of dicts): each lead validated, or the reason it is not valid.
/// The leads as a list, read once: a generator can only be read once, and its leads are needed twice.
pub fn leads_list<'py>(leads: &Bound<'py, PyAny>) -> PyResult<Bound<'py, pyo3::types::PyList>> {
    check_leads_type(leads)?;
    let items = leads
        .try_iter()
        .map_err(|_| not_iterable(leads))?
        .collect::<PyResult<Vec<_>>>()?;
    pyo3::types::PyList::new(leads.py(), items)
}

fn not_iterable(leads: &Bound<'_, PyAny>) -> PyErr {
    PyTypeError::new_err(format!(
        "leads must be an iterable of dicts, got {}",
        leads.get_type().name().map(|n| n.to_string()).unwrap_or_default()
    ))
}

fn check_leads_type(leads: &Bound<'_, PyAny>) -> PyResult<()> {
    if leads.is_instance_of::<PyString>()
        || leads.is_instance_of::<PyDict>()
        || leads.is_instance_of::<pyo3::types::PyBytes>()
    {
        return Err(PyTypeError::new_err(
            "leads must be an iterable of dicts, one per lead (a list, a generator, a DataFrame's records…)",
        ));
    }
    check_not_table(leads, "leads")
}

/// A DataFrame or Arrow table iterates as its column names, which would read as one bad lead per column: refuse it
/// with the conversion that works.
pub fn check_not_table(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<()> {
    let ty = obj.get_type();
    let module = ty.module().map(|m| m.to_string()).unwrap_or_default();
    let name = ty.name().map(|n| n.to_string()).unwrap_or_default();
    let fix = match module.split('.').next().unwrap_or_default() {
        "pandas" => "df.to_dict(\"records\")",
        "polars" => "df.to_dicts() (a LazyFrame: df.collect().to_dicts())",
        "pyarrow" => "table.to_pylist()",
        _ => return Ok(()),
    };
    Err(PyTypeError::new_err(format!(
        "{what} is a {module}.{name}, which iterates over its column names, not its rows; pass its rows as dicts: {fix}"
    )))
}

/// The error for an item that is not a mapping of fields: a programming error, raised before anything is sent.
pub fn not_a_mapping(item: &Bound<'_, PyAny>, what: &str, i: usize, example: &str) -> PyErr {
    let name = item.get_type().name().map(|n| n.to_string()).unwrap_or_default();
    let shown = item.repr().map(|r| r.to_string()).unwrap_or_default();
    let shown: String = shown.chars().take(60).collect();
    PyTypeError::new_err(format!(
        "{what} {i} is a {name} ({shown}), not a dict of fields; pass one dict per {what}, such as {example}"
    ))
}

/// A lead ready to send, or why it cannot be sent.
pub type LeadCheck = Result<Map<String, Value>, String>;

pub fn leads_from_py(leads: &Bound<'_, PyAny>) -> PyResult<Vec<LeadCheck>> {
    Ok(read_leads(leads)?.into_iter().map(|(parsed, _)| parsed).collect())
}

/// Each lead validated (or why it is not valid), with its string fields as given, to echo in results this SDK
/// makes for leads it could not send. Every item is converted from Python once.
pub fn read_leads(leads: &Bound<'_, PyAny>) -> PyResult<Vec<(LeadCheck, Map<String, Value>)>> {
    check_leads_type(leads)?;
    let iter = leads.try_iter().map_err(|_| not_iterable(leads))?;
    let mut out = Vec::new();
    for (i, item) in iter.enumerate() {
        let item = item?;
        let lead = match item.cast::<pyo3::types::PyMapping>() {
            Ok(m) => match depythonize::<Value>(m.as_any()) {
                Ok(Value::Object(map)) => {
                    let given = map
                        .iter()
                        .filter(|(_, v)| v.is_string())
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    (validate_lead(i, &map), given)
                }
                Ok(_) => (Err(format!("lead {i}: not a dict of lead fields")), Map::new()),
                Err(e) => (Err(format!("lead {i}: cannot be read: {e}")), Map::new()),
            },
            Err(_) => return Err(not_a_mapping(&item, "lead", i, "{\"email\": \"jane@techco.com\"}")),
        };
        out.push(lead);
    }
    Ok(out)
}

/// Checks one lead as every call that sends leads does (``Person.enrich``, ``EnrichmentJob.create``, the CLI):
/// known fields, text values, an email that looks like one, a LinkedIn URL that points at LinkedIn, and an
/// identifier the API can use. Returns the lead as it would be sent (values trimmed, blank ones dropped), or
/// raises ``InvalidInputError`` saying what is wrong (``TypeError`` for something that is not a mapping).
#[pyfunction]
pub fn check_lead<'py>(py: Python<'py>, lead: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    if lead.cast::<pyo3::types::PyMapping>().is_err() {
        let name = lead.get_type().name().map(|n| n.to_string()).unwrap_or_default();
        return Err(PyTypeError::new_err(format!(
            "a lead is a dict of lead fields, such as {{\"email\": \"jane@techco.com\"}}, not a {name}"
        )));
    }
    let map = match depythonize::<Value>(lead) {
        Ok(Value::Object(map)) => map,
        Ok(_) => Map::new(),
        Err(e) => {
            return Err(to_pyerr(
                py,
                Error::InvalidInput(format!("the lead cannot be read: {e}")),
            ))
        }
    };
    match crate::core::lead::check_lead(&map) {
        Ok(clean) => Ok(pythonize(py, &clean)?),
        Err(e) => Err(to_pyerr(py, Error::InvalidInput(e))),
    }
}

fn all_valid(py: Python<'_>, leads: Vec<Result<Map<String, Value>, String>>) -> PyResult<Vec<Map<String, Value>>> {
    let bad: Vec<&String> = leads.iter().filter_map(|l| l.as_ref().err()).collect();
    if !bad.is_empty() {
        let shown: Vec<&str> = bad.iter().take(10).map(|s| s.as_str()).collect();
        let more = if bad.len() > 10 {
            format!(" (and {} more)", bad.len() - 10)
        } else {
            String::new()
        };
        return Err(to_pyerr(
            py,
            Error::InvalidInput(format!("{} invalid lead(s): {}{more}", bad.len(), shown.join("; "))),
        ));
    }
    Ok(leads.into_iter().flatten().collect())
}

fn check_count(py: Python<'_>, n: usize) -> PyResult<()> {
    match n {
        0 => Err(to_pyerr(py, Error::InvalidInput("no leads to enrich".into()))),
        n if n > MAX_LEADS => Err(to_pyerr(
            py,
            Error::InvalidInput(format!(
                "{n} leads are more than one enrichment request takes ({MAX_LEADS}); Person.enrich() splits any number \
                 of leads into several requests and returns one result per lead"
            )),
        )),
        _ => Ok(()),
    }
}

/// One result of an enrichment job: the lead's echoed fields, a ``status`` (``enriched``, ``not_found``,
/// ``gdpr_removed``, or a value the API adds later; ``invalid`` / ``failed`` for leads this SDK could not send or
/// whose job failed, with ``error`` saying why) and the ``person`` when enriched.
#[pyclass(frozen, module = "amplemarket._core", name = "EnrichmentResult")]
pub struct PyEnrichmentResult {
    pub inner: Arc<EnrichmentResult>,
}

impl PyEnrichmentResult {
    fn lead_field(&self, k: &str) -> Option<String> {
        self.inner.lead.get(k).and_then(Value::as_str).map(str::to_string)
    }
}

#[pymethods]
impl PyEnrichmentResult {
    /// ID of the result (``None`` for results made by this SDK).
    #[getter]
    fn id(&self) -> Option<i64> {
        self.inner.id
    }
    #[getter]
    fn status(&self) -> Option<&str> {
        self.inner.status.as_deref()
    }
    /// The enriched person, when ``status`` is ``enriched``.
    #[getter]
    fn person(&self) -> Option<PyPerson> {
        self.inner.person.clone().map(|p| PyPerson { inner: p })
    }
    /// Why this SDK could not send the lead (``invalid``) or its job failed (``failed``).
    #[getter]
    fn error(&self) -> Option<String> {
        self.inner.error()
    }
    /// The lead fields as echoed, a dict.
    #[getter]
    fn lead<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.inner.lead)?)
    }
    #[getter]
    fn email(&self) -> Option<String> {
        self.lead_field("email")
    }
    #[getter]
    fn linkedin_id(&self) -> Option<String> {
        self.lead_field("linkedin_id")
    }
    #[getter]
    fn linkedin_url(&self) -> Option<String> {
        self.lead_field("linkedin_url")
    }
    #[getter]
    fn company_domain(&self) -> Option<String> {
        self.lead_field("company_domain")
    }
    #[getter]
    fn company_name(&self) -> Option<String> {
        self.lead_field("company_name")
    }
    #[getter]
    fn name(&self) -> Option<String> {
        self.lead_field("name")
    }
    #[getter]
    fn title(&self) -> Option<String> {
        self.lead_field("title")
    }

    /// The result exactly as the server sent it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        super::models::loads_str(py, &self.inner.to_json())
    }

    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, text: &str) -> PyResult<PyEnrichmentResult> {
        let r = EnrichmentResult::from_json(text).map_err(pyo3::exceptions::PyValueError::new_err)?;
        Ok(PyEnrichmentResult { inner: Arc::new(r) })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((slf.get_type().getattr("from_json")?, (slf.get().inner.to_json(),)))
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let that = other.cast::<PyEnrichmentResult>().ok();
        let theirs = that.as_ref().map(|o| o.get().inner.to_json());
        super::models::compare_json(other.py(), &self.inner.to_json(), theirs.as_deref(), op)
    }

    fn __repr__(&self) -> String {
        let who = self
            .inner
            .person
            .as_ref()
            .and_then(|p| p.name())
            .or_else(|| {
                ["email", "linkedin_url", "linkedin_id", "name"]
                    .iter()
                    .find_map(|k| self.lead_field(k))
            })
            .unwrap_or_default();
        format!(
            "EnrichmentResult(status={:?}, {who:?})",
            self.inner.status.as_deref().unwrap_or("")
        )
    }
}

struct JobState {
    status: String,
    errors: Vec<Value>,
}

/// A bulk enrichment request on the server (up to 10,000 leads).
///
/// ``create`` starts one, ``get`` resumes one by id (from another process, after a crash…), ``wait`` polls until
/// it is done, ``results()`` streams its results page by page, ``cancel`` stops it keeping what is done.
#[pyclass(frozen, module = "amplemarket._core", name = "EnrichmentJob")]
pub struct PyEnrichmentJob {
    id: u64,
    client: Client,
    state: Mutex<JobState>,
    /// How many leads it was given, when this process created it: the total its progress counts towards.
    leads: Option<usize>,
}

impl PyEnrichmentJob {
    fn new(client: Client, snap: &Snapshot) -> Self {
        PyEnrichmentJob {
            id: snap.id,
            client,
            state: Mutex::new(JobState {
                status: snap.status.clone(),
                errors: snap.errors.clone(),
            }),
            leads: None,
        }
    }

    fn created(client: Client, snap: &Snapshot, leads: usize) -> Self {
        PyEnrichmentJob {
            leads: Some(leads),
            ..Self::new(client, snap)
        }
    }

    /// What `wait` does with each poll: keeps the job's state and shows `(phase, results produced, leads)`;
    /// while it runs, the results produced are those of its first page (exact up to 100, a lower bound after).
    fn watcher(job: Py<Self>, report: Option<Progress>) -> impl FnMut(&Snapshot) + Send {
        move |s: &Snapshot| {
            let me = job.get();
            me.update(s);
            if let Some(r) = &report {
                let total = me.leads.unwrap_or(0);
                if s.done() {
                    r("done", total.max(s.results.len()), total);
                } else {
                    r(&format!("waiting: {}", s.status), s.results.len(), total);
                }
            }
        }
    }

    fn update(&self, snap: &Snapshot) {
        let mut s = self.state.lock();
        s.status = snap.status.clone();
        s.errors = snap.errors.clone();
    }

    fn ensure_done(&self, py: Python<'_>) -> PyResult<()> {
        let status = self.state.lock().status.clone();
        if jobs::is_done(&status) {
            Ok(())
        } else {
            Err(to_pyerr(
                py,
                Error::InvalidInput(format!(
                    "enrichment job {} is still {status}: call wait() before reading its results",
                    self.id
                )),
            ))
        }
    }
}

fn deadline(py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Duration>> {
    timeout
        .map(|t| crate::core::config::seconds("timeout", t).map_err(|e| to_pyerr(py, e)))
        .transpose()
}

#[pymethods]
impl PyEnrichmentJob {
    /// Starts a job for ``leads`` (dicts with ``email``, ``linkedin_url``/``linkedin_id``, ``name``, ``title``,
    /// ``company_name``, ``company_domain``). Every lead is checked first; more than 10,000 is refused (use
    /// ``Person.enrich``). Retried only where the server cannot have started the job. Save an
    /// ``idempotency_key`` before calling, and a create cut short by a crash can be repeated with it without
    /// starting a second job (where the server honours ``Idempotency-Key``, as the sandbox does).
    #[staticmethod]
    #[pyo3(signature = (leads, *, reveal_email = false, reveal_phone_numbers = false, idempotency_key = None, client = None))]
    fn create(
        py: Python<'_>,
        leads: &Bound<'_, PyAny>,
        reveal_email: bool,
        reveal_phone_numbers: bool,
        idempotency_key: Option<String>,
        client: Option<&Bound<'_, PyClient>>,
    ) -> PyResult<PyEnrichmentJob> {
        let leads = all_valid(py, leads_from_py(leads)?)?;
        check_count(py, leads.len())?;
        let client = resolve(py, client)?;
        let c = client.clone();
        let n = leads.len();
        let snap = block_on(py, async move {
            jobs::create(&c, &leads, reveal_email, reveal_phone_numbers, idempotency_key).await
        })?;
        Ok(PyEnrichmentJob::created(client, &snap, n))
    }

    /// Awaitable ``create``.
    #[staticmethod]
    #[pyo3(signature = (leads, *, reveal_email = false, reveal_phone_numbers = false, idempotency_key = None, client = None))]
    fn create_async<'py>(
        py: Python<'py>,
        leads: &Bound<'_, PyAny>,
        reveal_email: bool,
        reveal_phone_numbers: bool,
        idempotency_key: Option<String>,
        client: Option<&Bound<'_, PyClient>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let leads = all_valid(py, leads_from_py(leads)?)?;
        check_count(py, leads.len())?;
        let client = resolve(py, client)?;
        awaitable(py, async move {
            let n = leads.len();
            let snap = jobs::create(&client, &leads, reveal_email, reveal_phone_numbers, idempotency_key).await?;
            Ok(PyEnrichmentJob::created(client, &snap, n))
        })
    }

    /// The job with this id, as the server has it now (resume a job started elsewhere).
    #[staticmethod]
    #[pyo3(signature = (job_id, *, client = None))]
    fn get(py: Python<'_>, job_id: i64, client: Option<&Bound<'_, PyClient>>) -> PyResult<PyEnrichmentJob> {
        let job_id = job_id_arg(py, job_id)?;
        let client = resolve(py, client)?;
        let c = client.clone();
        let snap = block_on(py, async move { jobs::get(&c, job_id, Some(1)).await })?;
        Ok(PyEnrichmentJob::new(client, &snap))
    }

    /// Awaitable ``get``.
    #[staticmethod]
    #[pyo3(signature = (job_id, *, client = None))]
    fn get_async<'py>(
        py: Python<'py>,
        job_id: i64,
        client: Option<&Bound<'_, PyClient>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let job_id = job_id_arg(py, job_id)?;
        let client = resolve(py, client)?;
        awaitable(py, async move {
            let snap = jobs::get(&client, job_id, Some(1)).await?;
            Ok(PyEnrichmentJob::new(client, &snap))
        })
    }

    #[getter]
    fn id(&self) -> u64 {
        self.id
    }

    /// ``queued``, ``processing``, ``completed``, ``canceled``, ``error`` (or a value the API adds later), as of
    /// the last call.
    #[getter]
    fn status(&self) -> String {
        self.state.lock().status.clone()
    }

    /// Whether the job has ended (anything but ``queued`` and ``processing``).
    #[getter]
    fn done(&self) -> bool {
        jobs::is_done(&self.state.lock().status)
    }

    /// The server's ``_errors`` for a job in ``error``.
    #[getter]
    fn errors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.state.lock().errors)?)
    }

    /// Fetches the current status.
    fn refresh(slf: Py<Self>, py: Python<'_>) -> PyResult<Py<Self>> {
        let (client, id) = (slf.get().client.clone(), slf.get().id);
        let snap = block_on(py, async move { jobs::get(&client, id, Some(1)).await })?;
        slf.get().update(&snap);
        Ok(slf)
    }

    /// Awaitable ``refresh``.
    fn refresh_async<'py>(slf: Py<Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (client, id) = (slf.get().client.clone(), slf.get().id);
        awaitable(py, async move {
            let snap = jobs::get(&client, id, Some(1)).await?;
            slf.get().update(&snap);
            Ok(slf)
        })
    }

    /// Polls until the job is done, honouring the server's ``Retry-After``. ``timeout`` (seconds) raises
    /// ``JobTimeoutError`` when it runs out (the job keeps running); a job ending in ``error`` raises
    /// ``JobFailedError``. ``progress=True`` shows a bar in leads with the job's status; a callable gets
    /// ``(phase, results produced, leads)`` at each poll (``leads`` is 0 for a job this process did not create).
    #[pyo3(signature = (timeout = None, progress = None))]
    fn wait(
        slf: Py<Self>,
        py: Python<'_>,
        timeout: Option<f64>,
        progress: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<Self>> {
        let limit = deadline(py, timeout)?;
        let report = super::progress::from_py(py, progress, &format!("job {}", slf.get().id), "lead")?;
        let (client, id) = (slf.get().client.clone(), slf.get().id);
        let watch = Self::watcher(slf.clone_ref(py), report);
        block_on(py, async move { jobs::wait(&client, id, limit, watch).await })?;
        Ok(slf)
    }

    /// Awaitable ``wait``.
    #[pyo3(signature = (timeout = None, progress = None))]
    fn wait_async<'py>(
        slf: Py<Self>,
        py: Python<'py>,
        timeout: Option<f64>,
        progress: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let limit = deadline(py, timeout)?;
        let report = super::progress::from_py(py, progress, &format!("job {}", slf.get().id), "lead")?;
        let (client, id) = (slf.get().client.clone(), slf.get().id);
        let watch = Self::watcher(slf.clone_ref(py), report);
        awaitable(py, async move {
            jobs::wait(&client, id, limit, watch).await?;
            Ok(slf)
        })
    }

    /// Stops the job, keeping the results produced so far.
    fn cancel(slf: Py<Self>, py: Python<'_>) -> PyResult<Py<Self>> {
        let (client, id) = (slf.get().client.clone(), slf.get().id);
        let snap = block_on(py, async move { jobs::cancel(&client, id).await })?;
        slf.get().update(&snap);
        Ok(slf)
    }

    /// Awaitable ``cancel``.
    fn cancel_async<'py>(slf: Py<Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (client, id) = (slf.get().client.clone(), slf.get().id);
        awaitable(py, async move {
            let snap = jobs::cancel(&client, id).await?;
            slf.get().update(&snap);
            Ok(slf)
        })
    }

    /// Streams every result of a finished (completed, canceled or failed) job, fetching the next page while the
    /// current one is read.
    #[pyo3(signature = (page_size = 100))]
    fn results(&self, py: Python<'_>, page_size: i64) -> PyResult<ResultsIterator> {
        self.ensure_done(py)?;
        let page_size = page_size_arg(py, page_size)?;
        Ok(ResultsIterator {
            pages: Arc::new(tokio::sync::Mutex::new(Pages::new(
                self.client.clone(),
                self.id,
                page_size,
            ))),
        })
    }

    /// Async iterator form of ``results()``.
    #[pyo3(signature = (page_size = 100))]
    fn results_async(&self, py: Python<'_>, page_size: i64) -> PyResult<AsyncResultsIterator> {
        self.ensure_done(py)?;
        let page_size = page_size_arg(py, page_size)?;
        Ok(AsyncResultsIterator {
            pages: Arc::new(tokio::sync::Mutex::new(Pages::new(
                self.client.clone(),
                self.id,
                page_size,
            ))),
        })
    }

    /// Every result of a finished job matched to ``leads`` (the leads this job was given, in the order given):
    /// one ``EnrichmentResult`` or ``None`` per lead, whatever order the server returned them in.
    fn results_for(&self, py: Python<'_>, leads: &Bound<'_, PyAny>) -> PyResult<Vec<Option<PyEnrichmentResult>>> {
        self.ensure_done(py)?;
        let leads = all_valid(py, leads_from_py(leads)?)?;
        let (client, id) = (self.client.clone(), self.id);
        let results = block_on(py, async move { crate::core::bulk::all_results(&client, id).await })?;
        Ok(crate::core::bulk::match_results(&leads, results)
            .into_iter()
            .map(|r| r.map(|inner| PyEnrichmentResult { inner }))
            .collect())
    }

    /// The results as a pandas DataFrame, one row per result (needs pandas: ``pip install pandas``, or
    /// ``pip install '.[pandas]'`` in a checkout).
    fn to_pandas<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        py.import("amplemarket._pandas")?
            .getattr("to_dataframe")?
            .call1((slf.call_method0("results")?,))
    }

    fn __repr__(&self) -> String {
        format!("EnrichmentJob(id={}, status={:?})", self.id, self.state.lock().status)
    }
}

fn page_size_arg(py: Python<'_>, n: i64) -> PyResult<u32> {
    match u32::try_from(n) {
        Ok(n @ 1..=100) => Ok(n),
        _ => Err(to_pyerr(
            py,
            Error::InvalidInput(format!("page_size must be from 1 to 100, got {n}")),
        )),
    }
}

fn job_id_arg(py: Python<'_>, job_id: i64) -> PyResult<u64> {
    u64::try_from(job_id).ok().filter(|id| *id > 0).ok_or_else(|| {
        to_pyerr(
            py,
            Error::InvalidInput(format!(
                "job_id must be a positive integer, the `id` of a job from EnrichmentJob.create; got {job_id}"
            )),
        )
    })
}

/// Pages of a job's results, with the next one fetched in the background while the current one is read.
///
/// An interrupted or failed fetch is never the end: the page is fetched again on the next call, so a Ctrl-C or a
/// network error in the middle of the results loses none of them.
struct Pages {
    client: Client,
    id: u64,
    page_size: u32,
    next: Next,
    buffer: VecDeque<EnrichmentResult>,
    /// Next links already followed: a server pointing back at one of them would replay pages forever.
    followed: HashSet<String>,
}

enum Next {
    First,
    Fetching {
        href: String,
        task: tokio::task::JoinHandle<crate::core::Result<Snapshot>>,
    },
    /// Fetch `href` in the foreground (its background fetch failed or was interrupted).
    Again(String),
    Done,
}

impl Pages {
    fn new(client: Client, id: u64, page_size: u32) -> Self {
        Pages {
            client,
            id,
            page_size,
            next: Next::First,
            buffer: VecDeque::new(),
            followed: HashSet::new(),
        }
    }

    async fn next_result(&mut self) -> crate::core::Result<Option<EnrichmentResult>> {
        loop {
            if let Some(r) = self.buffer.pop_front() {
                return Ok(Some(r));
            }
            let snap = match &mut self.next {
                Next::Done => return Ok(None),
                Next::First => jobs::get(&self.client, self.id, Some(self.page_size)).await?,
                Next::Again(href) => jobs::follow(&self.client, href).await?,
                Next::Fetching { href, task } => match AbortIfDropped::new(task).await {
                    Ok(Ok(snap)) => snap,
                    Ok(Err(e)) => {
                        self.next = Next::Again(href.clone());
                        return Err(e);
                    }
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    // Aborted when an earlier call was interrupted while waiting for it.
                    Err(_) => {
                        self.next = Next::Again(href.clone());
                        continue;
                    }
                },
            };
            self.next = match snap.next.clone().filter(|href| self.followed.insert(href.clone())) {
                Some(href) => {
                    let (client, target) = (self.client.clone(), href.clone());
                    let task = runtime().spawn(async move { jobs::follow(&client, &target).await });
                    Next::Fetching { href, task }
                }
                None => Next::Done,
            };
            self.buffer.extend(snap.results);
        }
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        if let Next::Fetching { task, .. } = &self.next {
            task.abort();
        }
    }
}

/// Awaits a background task, aborting it when the awaiting stops first (Ctrl-C, a cancelled asyncio task), so an
/// interrupted call leaves no request running.
struct AbortIfDropped<'a, T> {
    task: &'a mut tokio::task::JoinHandle<T>,
    finished: bool,
}

impl<'a, T> AbortIfDropped<'a, T> {
    fn new(task: &'a mut tokio::task::JoinHandle<T>) -> Self {
        AbortIfDropped { task, finished: false }
    }
}

impl<T> Future for AbortIfDropped<'_, T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let polled = Pin::new(&mut *self.task).poll(cx);
        self.finished = polled.is_ready();
        polled
    }
}

impl<T> Drop for AbortIfDropped<'_, T> {
    fn drop(&mut self) {
        if !self.finished {
            self.task.abort();
        }
    }
}

/// Iterator returned by ``EnrichmentJob.results()``.
#[pyclass(frozen, module = "amplemarket._core", name = "ResultsIterator")]
pub struct ResultsIterator {
    pages: Arc<tokio::sync::Mutex<Pages>>,
}

#[pymethods]
impl ResultsIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<PyEnrichmentResult>> {
        // Results already fetched are handed out without a trip through the runtime.
        if let Ok(mut pages) = self.pages.try_lock() {
            if let Some(r) = pages.buffer.pop_front() {
                return Ok(Some(PyEnrichmentResult { inner: Arc::new(r) }));
            }
        }
        let pages = self.pages.clone();
        let next = block_on(py, async move { pages.lock().await.next_result().await })?;
        Ok(next.map(|r| PyEnrichmentResult { inner: Arc::new(r) }))
    }
}

/// Async iterator returned by ``EnrichmentJob.results_async()``.
#[pyclass(frozen, module = "amplemarket._core", name = "AsyncResultsIterator")]
pub struct AsyncResultsIterator {
    pages: Arc<tokio::sync::Mutex<Pages>>,
}

#[pymethods]
impl AsyncResultsIterator {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let pages = self.pages.clone();
        awaitable_py(py, async move {
            match pages.lock().await.next_result().await {
                Ok(Some(r)) => Ok(PyEnrichmentResult { inner: Arc::new(r) }),
                Ok(None) => Err(PyStopAsyncIteration::new_err(())),
                Err(e) => Err(Python::attach(|py| to_pyerr(py, e))),
            }
        })
    }
}
