//! `Person.find_many` and `Person.enrich`: many lookups or leads in one call, concurrency inside Rust.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};
use pythonize::{depythonize, pythonize};
use serde_json::{Map, Value};

use super::client::{resolve, PyClient};
use super::errors::{checked, to_pyerr};
use super::leads::{not_a_mapping, read_any};
use super::memory::{credits_limit, CreditsArg};
use super::models::PyPerson;
use super::result_set::{Input, PyResults, Rows};
use super::runtime::block_on;
use super::tables::{overrides, table_of, TableInput};
use super::twins::twins;
use crate::core::bulk::{self, Batch, LeadOutcome};
use crate::core::config::deadline;
use crate::core::jobs::{self, Kind};
use crate::core::models::Person;
use crate::core::people::FindQuery;
use crate::core::{Error, Result};

/// The outcome of one query of ``Person.find_many``: ``person`` (or ``None`` when nobody matched) or the
/// ``error`` that query met; ``query`` is the query as given.
#[pyclass(frozen, module = "amplemarket._core", name = "FindResult")]
pub struct PyFindResult {
    #[pyo3(get)]
    query: Py<PyAny>,
    #[pyo3(get)]
    person: Option<Py<PyPerson>>,
    /// The exception this query met, or ``None``.
    #[pyo3(get)]
    error: Option<Py<PyAny>>,
    /// Whether the client's result cache gave this answer (nothing was sent for it).
    #[pyo3(get)]
    from_cache: bool,
}

impl PyFindResult {
    /// The query's fields, as the input columns of a table of the results.
    pub fn query_fields(&self, py: Python<'_>) -> Map<String, Value> {
        match depythonize::<Value>(self.query.bind(py)) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }
}

#[pymethods]
impl PyFindResult {
    /// Built by ``find_many``; public so results can be pickled (sent back from a worker process) and faked in
    /// tests.
    #[new]
    #[pyo3(signature = (query, person = None, error = None, from_cache = false))]
    fn new(
        query: Py<PyAny>,
        person: Option<Py<PyPerson>>,
        error: Option<Bound<'_, PyAny>>,
        from_cache: bool,
    ) -> PyResult<Self> {
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
            from_cache,
        })
    }

    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> (
        Bound<'py, PyType>,
        (Py<PyAny>, Option<Py<PyPerson>>, Option<Py<PyAny>>, bool),
    ) {
        let (py, me) = (slf.py(), slf.get());
        let person = me.person.as_ref().map(|p| p.clone_ref(py));
        let error = me.error.as_ref().map(|e| e.clone_ref(py));
        (slf.get_type(), (me.query.clone_ref(py), person, error, me.from_cache))
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
            None => Ok(self.person.as_ref().map(|p| p.clone_ref(py))),
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

impl PyFindResult {
    /// The person found, as the core's shared value.
    pub fn person_arc(&self, py: Python<'_>) -> Option<std::sync::Arc<Person>> {
        self.person.as_ref().map(|p| p.bind(py).get().inner.clone())
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
    input: Option<TableInput>,
}

fn prepare(
    py: Python<'_>,
    queries: &Bound<'_, PyAny>,
    columns: Option<&Bound<'_, PyDict>>,
    reveal: (bool, bool),
) -> PyResult<Prepared> {
    let mut p = Prepared {
        items: Vec::new(),
        plan: Vec::new(),
        queries: Vec::new(),
        input: None,
    };
    let add = |p: &mut Prepared, query: std::result::Result<FindQuery, String>, item: Py<PyAny>| {
        p.plan.push(query.map(|q| {
            p.queries.push(q);
            p.queries.len() - 1
        }));
        p.items.push(item);
    };
    if let Some(table) = table_of(py, queries, "queries")? {
        let overrides = overrides(py, columns)?;
        let read = py
            .detach(|| table.table.leads(&overrides))
            .map_err(|e| to_pyerr(py, Error::InvalidInput(e)))?;
        for (i, (lead, fields)) in read.into_iter().enumerate() {
            let query =
                lead.and_then(|l| FindQuery::from_map(&l, reveal.0, reveal.1).map_err(|e| format!("row {i}: {e}")));
            add(&mut p, query, pythonize(py, &fields)?.unbind());
        }
        p.input = Some(table);
        return Ok(p);
    }
    let expected = "queries must be an iterable of dicts of find() arguments (such as [{\"email\": ...}]) or a table";
    let iter = super::leads::items_of(queries, expected)?;
    for (i, item) in iter.enumerate() {
        let item = item?;
        if item.cast::<pyo3::types::PyMapping>().is_err() {
            return Err(not_a_mapping(&item, "query", i, "{\"email\": \"jane@techco.com\"}"));
        }
        add(&mut p, query_from(&item, i, reveal), item.unbind());
    }
    if columns.is_some() {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "columns= maps a table's columns to find() arguments; queries given as dicts use the arguments' own names",
        ));
    }
    Ok(p)
}

/// `find_many`'s answer: one `FindResult` per query given, made when it reaches Python.
/// One query's answer: the person (or nobody) and whether the cache gave it.
type FindAnswer = Result<(Option<Person>, bool)>;

pub struct Found {
    prepared: Prepared,
    found: Vec<FindAnswer>,
}

impl<'py> IntoPyObject<'py> for Found {
    type Target = PyResults;
    type Output = Bound<'py, PyResults>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyResults>> {
        let mut found: Vec<Option<FindAnswer>> = self.found.into_iter().map(Some).collect();
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
                let (person, error, from_cache) = match outcome {
                    Ok((Some(p), cached)) => (Some(Py::new(py, PyPerson::from(p))?), None, cached),
                    Ok((None, cached)) => (None, None, cached),
                    Err(e) => (None, Some(to_pyerr(py, e).into_value(py).into_any()), false),
                };
                Py::new(
                    py,
                    PyFindResult {
                        query,
                        person,
                        error,
                        from_cache,
                    },
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        let input = self.prepared.input.map_or(Input::Queries, Input::Table);
        Bound::new(py, PyResults::new(Rows::Found(results), input))
    }
}

/// `enrich`'s answer: one result per input given, each echoing the input as given.
pub struct Enriched {
    pub kind: Kind,
    pub outcomes: Vec<LeadOutcome>,
    pub originals: Vec<Map<String, Value>>,
    pub input: Option<TableInput>,
}

impl<'py> IntoPyObject<'py> for Enriched {
    type Target = PyResults;
    type Output = Bound<'py, PyResults>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyResults>> {
        let rows = self
            .outcomes
            .into_iter()
            .zip(&self.originals)
            .map(|(o, lead)| o.into_result(self.kind, lead))
            .collect();
        let input = match self.input {
            Some(t) => Input::Table(t),
            None => Input::Fields(self.originals),
        };
        Bound::new(py, PyResults::new(Rows::Enriched(rows), input))
    }
}

twins! {
    /// Finds many people at once, at most ``concurrency`` requests in flight, paced by the client's rate limits.
    /// ``queries`` are dicts of ``find`` arguments, or a table (pandas or polars DataFrame, Arrow table) whose
    /// columns are read as ``Person.enrich`` reads them (``columns=`` maps the others). Returns ``Results``: one
    /// ``FindResult`` per query, in input order, with ``to_arrow()`` / ``to_polars()`` / ``to_pandas()``; a failed
    /// query never sinks the others.
    static PyPerson, find_many / find_many_async,
    signature (queries, *, reveal_email = false, reveal_phone_numbers = false, concurrency = 8, columns = None, max_credits = None, progress = None, client = None),
    |py, queries: &Bound<'_, PyAny>, reveal_email: bool, reveal_phone_numbers: bool, concurrency: usize,
     columns: Option<&Bound<'_, PyDict>>, max_credits: Option<CreditsArg>, progress: Option<&Bound<'_, PyAny>>,
     client: Option<&Bound<'_, PyClient>>| -> Found {
        checked(py, bulk::check_concurrency(concurrency))?;
        let max_credits = credits_limit(py, max_credits)?;
        let prepared = prepare(py, queries, columns, (reveal_email, reveal_phone_numbers))?;
        let report = super::progress::from_py(py, progress, "find_many", "query")?;
        let client = resolve(py, client)?;
        async move {
            let found = bulk::find_many(&client, prepared.queries.clone(), concurrency, report, max_credits).await?;
            Ok(Found { prepared, found })
        }
    }
}

twins! {
    /// Enriches any number of leads: identical leads are sent once, the rest split into requests of at most
    /// 10,000, waited on together, and collected. ``leads`` are dicts of lead fields, or a table: a pandas or
    /// polars DataFrame (eager or lazy), a pyarrow Table / RecordBatch / RecordBatchReader, or anything with
    /// ``__arrow_c_stream__`` (duckdb, arro3…), whose columns map to lead fields by their headers (Email, LinkedIn
    /// URL, Full Name or First Name + Last Name, Company, Domain, Title…) and ``columns={"Work Email": "email"}``
    /// (``None`` leaves a column out). Returns ``Results``: one ``EnrichmentResult`` per input row, in input order,
    /// with ``to_arrow()`` / ``to_polars()`` / ``to_pandas()``; a lead that cannot be sent comes back with status
    /// ``invalid`` and an ``error``. ``timeout`` (seconds) bounds the wait for the jobs.
    static PyPerson, enrich / enrich_async,
    signature (leads, *, reveal_email = false, reveal_phone_numbers = false, timeout = None, columns = None, max_credits = None, progress = None, client = None),
    |py, leads: &Bound<'_, PyAny>, reveal_email: bool, reveal_phone_numbers: bool, timeout: Option<f64>,
     columns: Option<&Bound<'_, PyDict>>, max_credits: Option<CreditsArg>, progress: Option<&Bound<'_, PyAny>>,
     client: Option<&Bound<'_, PyClient>>| -> Enriched {
        let max_credits = credits_limit(py, max_credits)?;
        let (read, input) = read_any(py, leads, columns)?;
        let (parsed, originals): (Vec<_>, Vec<_>) = read.into_iter().unzip();
        let limit = checked(py, deadline("timeout", timeout))?;
        let report = super::progress::from_py(py, progress, "enrich", "lead")?;
        let client = resolve(py, client)?;
        async move {
            let batch = Batch {
                max_credits,
                ..Batch::new(Kind::People, jobs::reveal_options(reveal_email, reveal_phone_numbers))
            };
            let outcomes = bulk::enrich(&client, &batch, &parsed, limit, report).await?;
            Ok(Enriched { kind: Kind::People, outcomes, originals, input })
        }
    }
}

/// ``Person.enrich`` for a task of a Spark or Dask job (``amplemarket.spark``, ``amplemarket.dask``): each request's
/// ``Idempotency-Key`` is derived from ``key_salt``, the options and the leads it carries, so a retried task sends
/// the same keys; ``jobs`` maps keys to the ids of jobs an earlier attempt started (fetched, not created again);
/// ``on_job(key, job_id)`` is called as soon as each job is created.
#[pyfunction]
#[pyo3(signature = (leads, *, key_salt, jobs = None, on_job = None, reveal_email = false, reveal_phone_numbers = false, timeout = None, columns = None, client = None))]
#[allow(clippy::too_many_arguments)]
pub fn _enrich_keyed(
    py: Python<'_>,
    leads: &Bound<'_, PyAny>,
    key_salt: String,
    jobs: Option<std::collections::HashMap<String, String>>,
    on_job: Option<Py<PyAny>>,
    reveal_email: bool,
    reveal_phone_numbers: bool,
    timeout: Option<f64>,
    columns: Option<&Bound<'_, PyDict>>,
    client: Option<&Bound<'_, PyClient>>,
) -> PyResult<Enriched> {
    let (read, input) = read_any(py, leads, columns)?;
    let (parsed, originals): (Vec<_>, Vec<_>) = read.into_iter().unzip();
    let limit = checked(py, deadline("timeout", timeout))?;
    let client = resolve(py, client)?;
    let on_created: Option<bulk::OnCreated> = on_job.map(|f| {
        Arc::new(move |key: &str, id: &str| {
            let _ = Python::try_attach(|py| {
                if let Err(e) = f.call1(py, (key, id)) {
                    // The job exists either way; a checkpoint that could not be written is said, not fatal.
                    e.write_unraisable(py, None);
                }
            });
        }) as bulk::OnCreated
    });
    let mut batch = Batch::new(Kind::People, jobs::reveal_options(reveal_email, reveal_phone_numbers));
    batch.keys = Some(Arc::new(bulk::Keys {
        salt: key_salt,
        known: jobs.unwrap_or_default(),
        on_created,
    }));
    block_on(py, async move {
        let outcomes = bulk::enrich(&client, &batch, &parsed, limit, None).await?;
        Ok(Enriched {
            kind: Kind::People,
            outcomes,
            originals,
            input,
        })
    })
}

/// No results, over the (empty) table ``input``: its ``to_arrow()`` / ``to_pandas()`` give the schema and dtypes
/// of ``Person.enrich`` (``kind="enrich"``) or ``Person.find_many`` (``kind="find"``) results for that input.
#[pyfunction]
#[pyo3(signature = (kind, input))]
pub fn _empty_results(py: Python<'_>, kind: &str, input: &Bound<'_, PyAny>) -> PyResult<PyResults> {
    let Some(table) = table_of(py, input, "input")? else {
        return Err(pyo3::exceptions::PyTypeError::new_err("input must be a table"));
    };
    let rows = match kind {
        "enrich" => Rows::Enriched(Vec::new()),
        "find" => Rows::Found(Vec::new()),
        _ => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "kind must be \"enrich\" or \"find\", got {kind:?}"
            )))
        }
    };
    Ok(PyResults::new(rows, Input::Table(table)))
}
