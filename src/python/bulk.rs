//! `Person.find_many` and `Person.enrich`: many lookups or leads in one call, concurrency inside Rust.

use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyList, PyType};
use pythonize::depythonize;
use serde_json::{Map, Value};

use super::client::{resolve, PyClient};
use super::errors::to_pyerr;
use super::jobs::{check_not_table, leads_list, not_a_mapping, read_leads, PyEnrichmentResult};
use super::models::PyPerson;
use super::runtime::{awaitable_py, block_on};
use crate::core::bulk::{self, LeadOutcome};
use crate::core::models::Person;
use crate::core::people::FindQuery;
use crate::core::{Error, Result};

/// The outcome of one query of ``Person.find_many``: ``person`` (or ``None`` when nobody matched) or the
/// ``error`` that query met; ``query`` is the query as given.
#[pyclass(frozen, module = "amplemarket._core", name = "FindResult")]
pub struct PyFindResult {
    query: Py<PyAny>,
    person: Option<Py<PyPerson>>,
    error: Option<Py<PyAny>>,
}

#[pymethods]
impl PyFindResult {
    /// Built by ``find_many``; public so results can be pickled (sent back from a worker process) and faked in
    /// tests.
    #[new]
    #[pyo3(signature = (query, person = None, error = None))]
    fn new(query: Py<PyAny>, person: Option<Py<PyPerson>>, error: Option<Bound<'_, PyAny>>) -> PyResult<Self> {
        if let Some(e) = &error {
            if !e.is_instance_of::<pyo3::exceptions::PyBaseException>() {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "error must be an exception instance (the error the query met) or None",
                ));
            }
        }
        Ok(PyFindResult {
            query,
            person,
            error: error.map(Bound::unbind),
        })
    }

    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> (Bound<'py, PyType>, (Py<PyAny>, Option<Py<PyPerson>>, Option<Py<PyAny>>)) {
        let py = slf.py();
        let me = slf.get();
        (slf.get_type(), (me.query(py), me.person(py), me.error(py)))
    }

    #[getter]
    fn query(&self, py: Python<'_>) -> Py<PyAny> {
        self.query.clone_ref(py)
    }
    #[getter]
    fn person(&self, py: Python<'_>) -> Option<Py<PyPerson>> {
        self.person.as_ref().map(|p| p.clone_ref(py))
    }
    /// The exception this query met, or ``None``.
    #[getter]
    fn error(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.error.as_ref().map(|e| e.clone_ref(py))
    }
    /// ``True`` when the query ran without error (whether or not someone matched).
    #[getter]
    fn ok(&self) -> bool {
        self.error.is_none()
    }
    /// The person (or ``None``), raising this query's error if it had one.
    fn unwrap(&self, py: Python<'_>) -> PyResult<Option<Py<PyPerson>>> {
        match &self.error {
            Some(e) => Err(PyErr::from_value(e.bind(py).clone())),
            None => Ok(self.person(py)),
        }
    }
    fn __repr__(&self, py: Python<'_>) -> String {
        match (&self.person, &self.error) {
            (_, Some(e)) => format!(
                "FindResult(error={})",
                e.bind(py).repr().map(|r| r.to_string()).unwrap_or_default()
            ),
            (Some(p), None) => format!("FindResult(person={})", p.get().inner.name().unwrap_or_default()),
            (None, None) => "FindResult(person=None)".into(),
        }
    }
}

const QUERY_KEYS: [&str; 8] = [
    "linkedin_url",
    "email",
    "name",
    "title",
    "company_name",
    "company_domain",
    "reveal_email",
    "reveal_phone_numbers",
];

/// Reads one query dict; a bad one becomes that query's error rather than failing the batch.
fn query_from(
    item: &Bound<'_, PyAny>,
    i: usize,
    reveal_email: bool,
    reveal_phone_numbers: bool,
) -> std::result::Result<FindQuery, String> {
    let map: Map<String, Value> = match depythonize::<Value>(item) {
        Ok(Value::Object(m)) => m,
        _ => return Err(format!("query {i} must be a dict such as {{\"email\": ...}}")),
    };
    if let Some(k) = map.keys().find(|k| !QUERY_KEYS.contains(&k.as_str())) {
        return Err(format!(
            "query {i} has an unknown key `{k}`; keys are {}",
            QUERY_KEYS.join(", ")
        ));
    }
    let text = |k: &str| -> std::result::Result<Option<String>, String> {
        match map.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("query {i}: `{k}` must be a string")),
        }
    };
    let flag = |k: &str, default: bool| match map.get(k) {
        Some(Value::Bool(b)) => Ok(*b),
        None | Some(Value::Null) => Ok(default),
        Some(_) => Err(format!("query {i}: `{k}` must be True or False")),
    };
    Ok(FindQuery {
        linkedin_url: text("linkedin_url")?,
        email: text("email")?,
        name: text("name")?,
        title: text("title")?,
        company_name: text("company_name")?,
        company_domain: text("company_domain")?,
        reveal_email: flag("reveal_email", reveal_email)?,
        reveal_phone_numbers: flag("reveal_phone_numbers", reveal_phone_numbers)?,
    })
}

struct Prepared {
    items: Vec<Py<PyAny>>,
    /// Per query: its index among the queries to run, or why it cannot run.
    plan: Vec<std::result::Result<usize, String>>,
    queries: Vec<FindQuery>,
}

fn prepare(queries: &Bound<'_, PyAny>, reveal_email: bool, reveal_phone_numbers: bool) -> PyResult<Prepared> {
    let mut p = Prepared {
        items: Vec::new(),
        plan: Vec::new(),
        queries: Vec::new(),
    };
    check_not_table(queries, "queries")?;
    let iter = queries.try_iter().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(format!(
            "queries must be an iterable of dicts of find() arguments (such as [{{\"email\": ...}}]), got {}",
            queries.get_type().name().map(|n| n.to_string()).unwrap_or_default()
        ))
    })?;
    for (i, item) in iter.enumerate() {
        let item = item?;
        if item.cast::<pyo3::types::PyMapping>().is_err() {
            return Err(not_a_mapping(&item, "query", i, "{\"email\": \"jane@techco.com\"}"));
        }
        p.plan
            .push(query_from(&item, i, reveal_email, reveal_phone_numbers).map(|q| {
                p.queries.push(q);
                p.queries.len() - 1
            }));
        p.items.push(item.unbind());
    }
    Ok(p)
}

fn finish(py: Python<'_>, prepared: Prepared, found: Vec<Result<Option<Person>>>) -> PyResult<Vec<PyFindResult>> {
    let mut found: Vec<Option<Result<Option<Person>>>> = found.into_iter().map(Some).collect();
    prepared
        .plan
        .into_iter()
        .zip(prepared.items)
        .map(|(plan, query)| {
            let outcome = match plan {
                Ok(i) => found[i].take().expect("each result is used once"),
                Err(message) => Err(Error::InvalidInput(message)),
            };
            let (person, error) = match outcome {
                Ok(Some(p)) => (Some(Py::new(py, PyPerson { inner: Arc::new(p) })?), None),
                Ok(None) => (None, None),
                Err(e) => (None, Some(to_pyerr(py, e).into_value(py).into_any())),
            };
            Ok(PyFindResult { query, person, error })
        })
        .collect()
}

fn results_list(
    py: Python<'_>,
    outcomes: Vec<LeadOutcome>,
    originals: Vec<Map<String, Value>>,
) -> PyResult<Bound<'_, PyList>> {
    let items: Vec<PyEnrichmentResult> = outcomes
        .into_iter()
        .zip(originals)
        .map(|(o, lead)| PyEnrichmentResult {
            inner: o.into_result(&lead),
        })
        .collect();
    PyList::new(py, items)
}

fn timeout_arg(py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Duration>> {
    timeout
        .map(|t| crate::core::config::seconds("timeout", t).map_err(|e| to_pyerr(py, e)))
        .transpose()
}

#[pymethods]
impl PyPerson {
    /// Finds many people at once, at most ``concurrency`` requests in flight, paced by the client's rate limits.
    /// ``queries`` are dicts of ``find`` arguments. Returns one ``FindResult`` per query, in input order; a failed
    /// query never sinks the others.
    #[staticmethod]
    #[pyo3(signature = (queries, *, reveal_email = false, reveal_phone_numbers = false, concurrency = 8, progress = None, client = None))]
    fn find_many(
        py: Python<'_>,
        queries: &Bound<'_, PyAny>,
        reveal_email: bool,
        reveal_phone_numbers: bool,
        concurrency: usize,
        progress: Option<&Bound<'_, PyAny>>,
        client: Option<&Bound<'_, PyClient>>,
    ) -> PyResult<Vec<PyFindResult>> {
        check_concurrency(py, concurrency)?;
        let prepared = prepare(queries, reveal_email, reveal_phone_numbers)?;
        let report = super::progress::from_py(py, progress, "find_many", "query")?;
        let client = resolve(py, client)?;
        let qs = prepared.queries.clone();
        let found = block_on(
            py,
            async move { bulk::find_many(&client, qs, concurrency, report).await },
        )?;
        finish(py, prepared, found)
    }

    /// Awaitable ``find_many``.
    #[staticmethod]
    #[pyo3(signature = (queries, *, reveal_email = false, reveal_phone_numbers = false, concurrency = 8, progress = None, client = None))]
    fn find_many_async<'py>(
        py: Python<'py>,
        queries: &Bound<'_, PyAny>,
        reveal_email: bool,
        reveal_phone_numbers: bool,
        concurrency: usize,
        progress: Option<&Bound<'_, PyAny>>,
        client: Option<&Bound<'_, PyClient>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        check_concurrency(py, concurrency)?;
        let prepared = prepare(queries, reveal_email, reveal_phone_numbers)?;
        let report = super::progress::from_py(py, progress, "find_many", "query")?;
        let client = resolve(py, client)?;
        let qs = prepared.queries.clone();
        awaitable_py(py, async move {
            let found = bulk::find_many(&client, qs, concurrency, report).await;
            Python::attach(|py| finish(py, prepared, found.map_err(|e| to_pyerr(py, e))?))
        })
    }

    /// Enriches any number of leads: identical leads are sent once, the rest split into requests of at most
    /// 10,000, waited on together, and collected. Returns one ``EnrichmentResult`` per input lead, in input order;
    /// a lead that cannot be sent comes back with status ``invalid`` and an ``error``. ``timeout`` (seconds) bounds
    /// the wait for the jobs.
    #[staticmethod]
    #[pyo3(signature = (leads, *, reveal_email = false, reveal_phone_numbers = false, timeout = None, progress = None, client = None))]
    fn enrich<'py>(
        py: Python<'py>,
        leads: &Bound<'py, PyAny>,
        reveal_email: bool,
        reveal_phone_numbers: bool,
        timeout: Option<f64>,
        progress: Option<&Bound<'_, PyAny>>,
        client: Option<&Bound<'_, PyClient>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let leads = leads_list(leads)?;
        let (parsed, originals): (Vec<_>, Vec<_>) = read_leads(&leads)?.into_iter().unzip();
        let limit = timeout_arg(py, timeout)?;
        let report = super::progress::from_py(py, progress, "enrich", "lead")?;
        let client = resolve(py, client)?;
        let outcomes = block_on(py, async move {
            bulk::enrich(&client, &parsed, reveal_email, reveal_phone_numbers, limit, report).await
        })?;
        results_list(py, outcomes, originals)
    }

    /// Awaitable ``enrich``.
    #[staticmethod]
    #[pyo3(signature = (leads, *, reveal_email = false, reveal_phone_numbers = false, timeout = None, progress = None, client = None))]
    fn enrich_async<'py>(
        py: Python<'py>,
        leads: &Bound<'py, PyAny>,
        reveal_email: bool,
        reveal_phone_numbers: bool,
        timeout: Option<f64>,
        progress: Option<&Bound<'_, PyAny>>,
        client: Option<&Bound<'_, PyClient>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let leads = leads_list(leads)?;
        let (parsed, originals): (Vec<_>, Vec<_>) = read_leads(&leads)?.into_iter().unzip();
        let limit = timeout_arg(py, timeout)?;
        let report = super::progress::from_py(py, progress, "enrich", "lead")?;
        let client = resolve(py, client)?;
        awaitable_py(py, async move {
            let outcomes = bulk::enrich(&client, &parsed, reveal_email, reveal_phone_numbers, limit, report)
                .await
                .map_err(|e| Python::attach(|py| to_pyerr(py, e)))?;
            Python::attach(|py| Ok(results_list(py, outcomes, originals)?.unbind()))
        })
    }
}

fn check_concurrency(py: Python<'_>, n: usize) -> PyResult<()> {
    if (1..=256).contains(&n) {
        Ok(())
    } else {
        Err(to_pyerr(
            py,
            Error::InvalidInput(format!("concurrency must be from 1 to 256, got {n}")),
        ))
    }
}
