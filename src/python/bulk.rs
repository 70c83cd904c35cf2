//! `Person.find_many` and `Person.enrich`: many lookups or leads in one call, concurrency inside Rust.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyType};
use pythonize::depythonize;
use serde_json::{Map, Value};

use super::client::{resolve, PyClient};
use super::errors::{checked, to_pyerr};
use super::leads::{check_not_table, not_a_mapping, read_leads};
use super::models::PyPerson;
use super::results::PyEnrichmentResult;
use super::twins::twins;
use crate::core::bulk::{self, LeadOutcome};
use crate::core::config::deadline;
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

/// Reads one query dict; a bad one becomes that query's error rather than failing the batch.
fn query_from(item: &Bound<'_, PyAny>, i: usize, reveal: (bool, bool)) -> std::result::Result<FindQuery, String> {
    match depythonize::<Value>(item) {
        Ok(Value::Object(map)) => FindQuery::from_map(&map, reveal.0, reveal.1),
        _ => Err("not a dict of find() arguments such as {\"email\": ...}".into()),
    }
    .map_err(|e| format!("query {i}: {e}"))
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
            .push(query_from(&item, i, (reveal_email, reveal_phone_numbers)).map(|q| {
                p.queries.push(q);
                p.queries.len() - 1
            }));
        p.items.push(item.unbind());
    }
    Ok(p)
}

/// `find_many`'s answer: one `FindResult` per query given, made when it reaches Python.
pub struct Found {
    prepared: Prepared,
    found: Vec<Result<Option<Person>>>,
}

impl<'py> IntoPyObject<'py> for Found {
    type Target = PyList;
    type Output = Bound<'py, PyList>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut found: Vec<Option<Result<Option<Person>>>> = self.found.into_iter().map(Some).collect();
        let results = self
            .prepared
            .plan
            .into_iter()
            .zip(self.prepared.items)
            .map(|(plan, query)| {
                let outcome = match plan {
                    Ok(i) => found[i].take().expect("each result is used once"),
                    Err(message) => Err(Error::InvalidInput(message)),
                };
                let (person, error) = match outcome {
                    Ok(Some(p)) => (Some(Py::new(py, PyPerson::from(p))?), None),
                    Ok(None) => (None, None),
                    Err(e) => (None, Some(to_pyerr(py, e).into_value(py).into_any())),
                };
                Ok(PyFindResult { query, person, error })
            });
        PyList::new(py, results.collect::<PyResult<Vec<_>>>()?)
    }
}

/// `enrich`'s answer: one `EnrichmentResult` per lead given, each echoing the lead as given.
pub struct Enriched {
    outcomes: Vec<LeadOutcome>,
    originals: Vec<Map<String, Value>>,
}

impl<'py> IntoPyObject<'py> for Enriched {
    type Target = PyList;
    type Output = Bound<'py, PyList>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let results = self.outcomes.into_iter().zip(self.originals);
        PyList::new(
            py,
            results.map(|(o, lead)| PyEnrichmentResult {
                inner: o.into_result(&lead),
            }),
        )
    }
}

twins! {
    /// Finds many people at once, at most ``concurrency`` requests in flight, paced by the client's rate limits.
    /// ``queries`` are dicts of ``find`` arguments. Returns one ``FindResult`` per query, in input order; a failed
    /// query never sinks the others.
    static PyPerson, find_many / find_many_async,
    signature (queries, *, reveal_email = false, reveal_phone_numbers = false, concurrency = 8, progress = None, client = None),
    |py, queries: &Bound<'_, PyAny>, reveal_email: bool, reveal_phone_numbers: bool, concurrency: usize,
     progress: Option<&Bound<'_, PyAny>>, client: Option<&Bound<'_, PyClient>>| -> Found {
        checked(py, bulk::check_concurrency(concurrency))?;
        let prepared = prepare(queries, reveal_email, reveal_phone_numbers)?;
        let report = super::progress::from_py(py, progress, "find_many", "query")?;
        let client = resolve(py, client)?;
        async move {
            let found = bulk::find_many(&client, prepared.queries.clone(), concurrency, report).await?;
            Ok(Found { prepared, found })
        }
    }
}

twins! {
    /// Enriches any number of leads: identical leads are sent once, the rest split into requests of at most
    /// 10,000, waited on together, and collected. Returns one ``EnrichmentResult`` per input lead, in input order;
    /// a lead that cannot be sent comes back with status ``invalid`` and an ``error``. ``timeout`` (seconds) bounds
    /// the wait for the jobs.
    static PyPerson, enrich / enrich_async,
    signature (leads, *, reveal_email = false, reveal_phone_numbers = false, timeout = None, progress = None, client = None),
    |py, leads: &Bound<'_, PyAny>, reveal_email: bool, reveal_phone_numbers: bool, timeout: Option<f64>,
     progress: Option<&Bound<'_, PyAny>>, client: Option<&Bound<'_, PyClient>>| -> Enriched {
        let (parsed, originals): (Vec<_>, Vec<_>) = read_leads(leads)?.into_iter().unzip();
        let limit = checked(py, deadline("timeout", timeout))?;
        let report = super::progress::from_py(py, progress, "enrich", "lead")?;
        let client = resolve(py, client)?;
        async move {
            let outcomes = bulk::enrich(&client, &parsed, reveal_email, reveal_phone_numbers, limit, report).await?;
            Ok(Enriched { outcomes, originals })
        }
    }
}
