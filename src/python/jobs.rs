//! `EnrichmentJob`: start, resume, wait on, page through and cancel an enrichment request.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::client::{resolve, PyClient};
use super::errors::checked;
use super::handle::job_class;
use super::leads::{all_valid, all_valid_of, leads_from_py};
use super::result_set::PyResults;
use super::results::{AsyncResultsIterator, PyEnrichmentResult, ResultsIterator};
use super::tables::PyArrowTable;
use super::twins::twins;
use crate::core::budget::Credits;
use crate::core::jobs::{self, JobRef, Kind};
use crate::core::Error;

job_class! {
    /// A bulk enrichment request on the server: of people (up to 10,000 leads) or of companies (up to 10,000),
    /// told apart by ``kind``.
    ///
    /// ``create`` / ``create_companies`` start one, ``get`` resumes one by id (from another process, after a
    /// crash…), ``wait`` polls until it is done, ``results()`` streams its results page by page, ``cancel`` stops it
    /// keeping what is done.
    PyEnrichmentJob as "EnrichmentJob", unit "lead", results ResultsIterator / AsyncResultsIterator
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
        checked(py, jobs::check_count(Kind::People, leads.len()))?;
        let client = resolve(py, client)?;
        let options = jobs::reveal_options(reveal_email, reveal_phone_numbers);
        let worst = Credits::per_person(reveal_email, reveal_phone_numbers).times(leads.len());
        async move {
            // A job's own results are not followed here: its whole worst case stays spent.
            let _held = client.memory().reserve(Credits::UNLIMITED, worst, "this enrichment job")?;
            let snap = jobs::create(&client, Kind::People, &leads, options, idempotency_key).await?;
            Ok(PyEnrichmentJob::new(client, &snap, Some(leads.len())))
        }
    }
}

twins! {
    /// Starts a job enriching ``companies``: dicts with ``domain`` (or a website URL), ``linkedin_url`` and/or
    /// ``name``, or plain strings read as domains. Every company is checked first; more than 10,000 is refused
    /// (use ``Company.enrich``). Retried only where the server cannot have started the job; ``idempotency_key``
    /// as for ``create``.
    static PyEnrichmentJob, create_companies / create_companies_async,
    signature (companies, *, idempotency_key = None, client = None),
    |py, companies: &Bound<'_, PyAny>, idempotency_key: Option<String>, client: Option<&Bound<'_, PyClient>>| -> PyEnrichmentJob {
        let companies = all_valid_of(py, super::companies::companies_from_py(py, companies)?, "company(ies)")?;
        checked(py, jobs::check_count(Kind::Companies, companies.len()))?;
        let client = resolve(py, client)?;
        async move {
            let snap = jobs::create(&client, Kind::Companies, &companies, Default::default(), idempotency_key).await?;
            Ok(PyEnrichmentJob::new(client, &snap, Some(companies.len())))
        }
    }
}

/// `"person"` / `"company"`, the Python names of the two kinds of enrichment job.
fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Companies => "company",
        _ => "person",
    }
}

fn job_kind(name: &str) -> crate::core::Result<Kind> {
    match name {
        "person" => Ok(Kind::People),
        "company" => Ok(Kind::Companies),
        other => Err(Error::InvalidInput(format!(
            "kind is \"person\" or \"company\", got {other:?}"
        ))),
    }
}

twins! {
    /// The job with this id, as the server has it now (resume a job started elsewhere). ``kind`` is
    /// ``"person"`` (the default) or ``"company"``: the two kinds of job are numbered apart.
    static PyEnrichmentJob, get / get_async, signature (job_id, *, kind = "person", client = None),
    |py, job_id: i64, kind: &str, client: Option<&Bound<'_, PyClient>>| -> PyEnrichmentJob {
        let job = JobRef::new(checked(py, job_kind(kind))?, checked(py, jobs::job_id(job_id))?.to_string());
        let client = resolve(py, client)?;
        async move {
            let snap = jobs::get(&client, &job, Some(1)).await?;
            Ok(PyEnrichmentJob::new(client, &snap, None))
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
        self.handle.job.number().unwrap_or_default()
    }

    /// ``"person"`` or ``"company"``: what the job enriches (the server's ``object``).
    #[getter]
    fn kind(&self) -> &'static str {
        kind_name(self.handle.job.kind)
    }

    /// Every result of a finished job matched to ``leads`` (the leads this job was given, in the order given):
    /// one ``EnrichmentResult`` or ``None`` per lead, whatever order the server returned them in.
    fn results_for(&self, py: Python<'_>, leads: &Bound<'_, PyAny>) -> PyResult<Vec<Option<PyEnrichmentResult>>> {
        let leads = match self.handle.job.kind {
            Kind::Companies => all_valid_of(py, super::companies::companies_from_py(py, leads)?, "company(ies)")?,
            _ => all_valid(py, leads_from_py(py, leads, None)?)?,
        };
        let results = self.handle.all_results(py)?;
        let matched = crate::core::bulk::match_results(self.handle.job.kind, &leads, results);
        Ok(matched
            .into_iter()
            .map(|r| r.map(|inner| PyEnrichmentResult { inner }))
            .collect())
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
        let kind = match self.handle.job.kind {
            Kind::Companies => ", kind=\"company\"",
            _ => "",
        };
        format!(
            "EnrichmentJob(id={}{kind}, status={:?})",
            self.handle.job.id,
            self.handle.status()
        )
    }
}
