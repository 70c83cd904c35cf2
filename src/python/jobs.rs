//! `EnrichmentJob`: start, resume, wait on, page through and cancel an enrichment request.

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pythonize::pythonize;
use serde_json::Value;

use super::client::{resolve, PyClient};
use super::errors::checked;
use super::leads::{all_valid, leads_from_py};
use super::result_set::{Input, PyResults, Rows};
use super::results::{AsyncResultsIterator, PyEnrichmentResult, ResultsIterator};
use super::runtime::block_on;
use super::tables::PyArrowTable;
use super::twins::twins;
use crate::core::bulk::Progress;
use crate::core::config::deadline;
use crate::core::jobs::{self, Snapshot};
use crate::core::paging::ResultPages;
use crate::core::{Client, Error};

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
    fn new(client: Client, snap: &Snapshot, leads: Option<usize>) -> Self {
        PyEnrichmentJob {
            id: snap.id,
            client,
            state: Mutex::new(JobState {
                status: snap.status.clone(),
                errors: snap.errors.clone(),
            }),
            leads,
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

    /// The job's client and id, for a call to the core.
    fn target(&self) -> (Client, u64) {
        (self.client.clone(), self.id)
    }

    /// Refuses to read the results of a job that is still running.
    fn ensure_done(&self, py: Python<'_>) -> PyResult<()> {
        let status = self.state.lock().status.clone();
        if jobs::is_done(&status) {
            return Ok(());
        }
        let message = format!(
            "enrichment job {} is still {status}: call wait() before reading its results",
            self.id
        );
        checked(py, Err(Error::InvalidInput(message)))
    }

    /// Its results, once the job has ended.
    fn result_pages(&self, py: Python<'_>, page_size: i64) -> PyResult<ResultPages> {
        self.ensure_done(py)?;
        let page_size = checked(py, jobs::page_size(page_size))?;
        Ok(ResultPages::new(self.client.clone(), self.id, page_size))
    }
}

twins! {
    /// Starts a job for ``leads`` (dicts with ``email``, ``linkedin_url``/``linkedin_id``, ``name``, ``title``,
    /// ``company_name``, ``company_domain``; or a table, read as ``Person.enrich`` reads one, ``columns=``
    /// included). Every lead is checked first; more than 10,000 is refused (use
    /// ``Person.enrich``). Retried only where the server cannot have started the job. Save an
    /// ``idempotency_key`` before calling, and a create cut short by a crash can be repeated with it without
    /// starting a second job (where the server honours ``Idempotency-Key``, as the sandbox does).
    static PyEnrichmentJob, create / create_async,
    signature (leads, *, reveal_email = false, reveal_phone_numbers = false, idempotency_key = None, columns = None, client = None),
    |py, leads: &Bound<'_, PyAny>, reveal_email: bool, reveal_phone_numbers: bool, idempotency_key: Option<String>,
     columns: Option<&Bound<'_, PyDict>>, client: Option<&Bound<'_, PyClient>>| -> PyEnrichmentJob {
        let leads = all_valid(py, leads_from_py(py, leads, columns)?)?;
        checked(py, jobs::check_count(leads.len()))?;
        let client = resolve(py, client)?;
        async move {
            let snap = jobs::create(&client, &leads, reveal_email, reveal_phone_numbers, idempotency_key).await?;
            Ok(PyEnrichmentJob::new(client, &snap, Some(leads.len())))
        }
    }
}

twins! {
    /// The job with this id, as the server has it now (resume a job started elsewhere).
    static PyEnrichmentJob, get / get_async, signature (job_id, *, client = None),
    |py, job_id: i64, client: Option<&Bound<'_, PyClient>>| -> PyEnrichmentJob {
        let job_id = checked(py, jobs::job_id(job_id))?;
        let client = resolve(py, client)?;
        async move {
            let snap = jobs::get(&client, job_id, Some(1)).await?;
            Ok(PyEnrichmentJob::new(client, &snap, None))
        }
    }
}

twins! {
    /// Fetches the current status.
    method PyEnrichmentJob, refresh / refresh_async, signature (), |slf, _py| -> Py<PyEnrichmentJob> {
        let (client, id) = slf.get().target();
        async move {
            let snap = jobs::get(&client, id, Some(1)).await?;
            slf.get().update(&snap);
            Ok(slf)
        }
    }
}

twins! {
    /// Polls until the job is done, honouring the server's ``Retry-After``. ``timeout`` (seconds) raises
    /// ``JobTimeoutError`` when it runs out (the job keeps running); a job ending in ``error`` raises
    /// ``JobFailedError``. ``progress=True`` shows a bar in leads with the job's status; a callable gets
    /// ``(phase, results produced, leads)`` at each poll (``leads`` is 0 for a job this process did not create).
    method PyEnrichmentJob, wait / wait_async, signature (timeout = None, progress = None),
    |slf, py, timeout: Option<f64>, progress: Option<&Bound<'_, PyAny>>| -> Py<PyEnrichmentJob> {
        let limit = checked(py, deadline("timeout", timeout))?;
        let (client, id) = slf.get().target();
        let report = super::progress::from_py(py, progress, &format!("job {id}"), "lead")?;
        let watch = PyEnrichmentJob::watcher(slf.clone_ref(py), report);
        async move {
            jobs::wait(&client, id, limit, watch).await?;
            Ok(slf)
        }
    }
}

twins! {
    /// Stops the job, keeping the results produced so far.
    method PyEnrichmentJob, cancel / cancel_async, signature (), |slf, _py| -> Py<PyEnrichmentJob> {
        let (client, id) = slf.get().target();
        async move {
            let snap = jobs::cancel(&client, id).await?;
            slf.get().update(&snap);
            Ok(slf)
        }
    }
}

#[pymethods]
impl PyEnrichmentJob {
    /// The most leads one enrichment request takes (``Person.enrich`` splits more into several).
    #[classattr]
    const MAX_LEADS: usize = jobs::MAX_LEADS;

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

    /// Streams every result of a finished (completed, canceled or failed) job, fetching the next page while the
    /// current one is read.
    #[pyo3(signature = (page_size = 100))]
    fn results(&self, py: Python<'_>, page_size: i64) -> PyResult<ResultsIterator> {
        Ok(ResultsIterator::new(self.result_pages(py, page_size)?))
    }

    /// Async iterator form of ``results``.
    #[pyo3(signature = (page_size = 100))]
    fn results_async(&self, py: Python<'_>, page_size: i64) -> PyResult<AsyncResultsIterator> {
        Ok(AsyncResultsIterator::new(self.result_pages(py, page_size)?))
    }

    /// Every result of a finished job matched to ``leads`` (the leads this job was given, in the order given):
    /// one ``EnrichmentResult`` or ``None`` per lead, whatever order the server returned them in.
    fn results_for(&self, py: Python<'_>, leads: &Bound<'_, PyAny>) -> PyResult<Vec<Option<PyEnrichmentResult>>> {
        self.ensure_done(py)?;
        let leads = all_valid(py, leads_from_py(py, leads, None)?)?;
        let (client, id) = self.target();
        let results = block_on(py, async move { crate::core::bulk::all_results(&client, id).await })?;
        let matched = crate::core::bulk::match_results(&leads, results);
        Ok(matched
            .into_iter()
            .map(|r| r.map(|inner| PyEnrichmentResult { inner }))
            .collect())
    }

    /// Every result of the finished job as ``Results`` (in the server's order; their input columns are the lead
    /// fields each result echoes), ready for ``to_arrow()`` / ``to_polars()`` / ``to_pandas()``.
    fn collect(&self, py: Python<'_>) -> PyResult<PyResults> {
        self.ensure_done(py)?;
        let (client, id) = self.target();
        let results = block_on(py, async move { crate::core::bulk::all_results(&client, id).await })?;
        let fields = results.iter().map(|r| r.lead.clone()).collect();
        let rows = results.into_iter().map(std::sync::Arc::new).collect();
        Ok(PyResults::new(Rows::Enriched(rows), Input::Fields(fields)))
    }

    /// ``collect().to_arrow()``: the finished job's results as an Arrow table.
    fn to_arrow(&self, py: Python<'_>) -> PyResult<PyArrowTable> {
        self.collect(py)?.to_arrow(py, true)
    }

    /// ``collect().to_polars()``: the finished job's results as a polars DataFrame (needs polars).
    fn to_polars<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyResults::to_polars(&Bound::new(py, self.collect(py)?)?, true)
    }

    /// ``collect().to_pandas()``: the finished job's results as a pandas DataFrame (needs pandas).
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyResults::to_pandas(&Bound::new(py, self.collect(py)?)?, true)
    }

    fn __repr__(&self) -> String {
        format!("EnrichmentJob(id={}, status={:?})", self.id, self.state.lock().status)
    }
}
