//! `amplemarket.Cache` (the result cache), the `max_credits=` arguments, and `amplemarket.estimate`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};
use pythonize::depythonize;
use serde_json::{Map, Value};

use super::client::{resolve, PyClient};
use super::errors::{checked, credits_dict};
use super::leads::{read_any, read_table_or};
use crate::core::budget::Credits;
use crate::core::bulk::{self, Batch, Estimate};
use crate::core::cache::{Cache, CacheSettings};
use crate::core::jobs::{self, EnrichmentResult, Kind};
use crate::core::table::InputTable;
use crate::core::Error;

/// `max_credits=`: one number for each pool, or ``{"email": ..., "phone": ...}`` (a pool left out is not capped).
#[derive(FromPyObject)]
pub enum CreditsArg {
    Each(f64),
    Pools(HashMap<String, f64>),
}

/// The limit a `max_credits=` argument sets (`UNLIMITED` when not given).
pub fn credits_limit(py: Python<'_>, arg: Option<CreditsArg>) -> PyResult<Credits> {
    let limit = match arg {
        None => Ok(Credits::UNLIMITED),
        Some(CreditsArg::Each(n)) => Credits::limit(Some(n), Some(n)),
        Some(CreditsArg::Pools(pools)) => match pools.keys().find(|k| !matches!(k.as_str(), "email" | "phone")) {
            Some(k) => Err(Error::InvalidInput(format!(
                "max_credits has the pool {k:?}; the pools are \"email\" and \"phone\", such as \
                 max_credits={{\"email\": 100, \"phone\": 10}}"
            ))),
            None => Credits::limit(pools.get("email").copied(), pools.get("phone").copied()),
        },
    };
    checked(py, limit)
}

fn seconds(py: Python<'_>, name: &str, value: f64) -> PyResult<Duration> {
    checked(
        py,
        Duration::try_from_secs_f64(value)
            .map_err(|_| Error::InvalidInput(format!("{name} is seconds, 0 or more, got {value}"))),
    )
}

/// A result cache: a SQLite file remembering the API's answers (finds, enrichment results, validations and search
/// pages) across processes and restarts, so a re-run neither waits on the rate limit nor pays again. Give it to a
/// client: ``Client(cache=amplemarket.Cache("leads.sqlite3"))`` (or ``cache=True`` for the default file in the
/// user's cache directory, or ``cache="path"``).
///
/// ``ttl`` (seconds, 30 days by default) is how long a found answer is used, ``not_found_ttl`` (1 day) a
/// not-found one, ``search_ttl`` (1 hour) a search page. An answer made with more reveals serves a call asking for
/// fewer, never the reverse. Answers are kept per account (a hash of the API key, which the file never holds);
/// the file is readable by its owner only. A file that is not a cache, or one written by a newer release, raises
/// ``ConfigurationError``; a failure later (a full disk) warns once and the calls go on without the cache.
#[pyclass(frozen, module = "amplemarket._core", name = "Cache")]
pub struct PyCache {
    pub inner: Arc<Cache>,
}

#[pymethods]
impl PyCache {
    #[new]
    #[pyo3(signature = (path = None, *, ttl = 2_592_000.0, not_found_ttl = 86_400.0, search_ttl = 3_600.0))]
    fn new(py: Python<'_>, path: Option<PathBuf>, ttl: f64, not_found_ttl: f64, search_ttl: f64) -> PyResult<Self> {
        let settings = CacheSettings {
            path,
            ttl: seconds(py, "ttl", ttl)?,
            not_found_ttl: seconds(py, "not_found_ttl", not_found_ttl)?,
            search_ttl: seconds(py, "search_ttl", search_ttl)?,
        };
        PyCache::open(py, settings)
    }
}

impl PyCache {
    /// Opens the file now: a file that cannot be used is a `ConfigurationError` saying why and what to do.
    fn open(py: Python<'_>, settings: CacheSettings) -> PyResult<Self> {
        let cache = py.detach(|| Cache::open(settings)).map_err(Error::Config);
        let cache = Arc::new(checked(py, cache)?);
        cache.set_warn(Arc::new(|message: &str| {
            let _ = Python::try_attach(|py| -> PyResult<()> {
                let category = py.import("amplemarket.errors")?.getattr("CacheWarning")?;
                py.import("warnings")?.getattr("warn")?.call1((message, category))?;
                Ok(())
            });
        }));
        Ok(PyCache { inner: cache })
    }
}

#[pymethods]
impl PyCache {
    /// Where the file is.
    #[getter]
    fn path(&self) -> PathBuf {
        self.inner.path().to_path_buf()
    }

    /// ``entries`` and ``bytes`` of the file, and this process's ``hits``, ``misses``, ``requests_saved`` and
    /// ``credits_saved`` (the worst-case credits the answers from the cache would have cost).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = py.detach(|| self.inner.stats());
        let d = PyDict::new(py);
        d.set_item("path", self.path())?;
        d.set_item("entries", s.entries)?;
        d.set_item("bytes", s.bytes)?;
        d.set_item("hits", s.hits)?;
        d.set_item("misses", s.misses)?;
        d.set_item("requests_saved", s.requests_saved)?;
        d.set_item("credits_saved", s.credits_saved)?;
        Ok(d)
    }

    /// Returns once every answer this process stored is in the file. Large batches (an enrichment's results) are
    /// written behind the call that fetched them; reads in this process wait for them anyway, and
    /// ``Client.close()`` and the end of the interpreter flush. Only a process killed before that loses them.
    fn flush(&self, py: Python<'_>) {
        py.detach(|| self.inner.flush());
    }

    /// Deletes the stored answers (``older_than``: only those stored more than that many seconds ago) and returns
    /// how many. Markers of people removed for GDPR stay, so they are not stored again.
    #[pyo3(signature = (older_than = None))]
    fn clear(&self, py: Python<'_>, older_than: Option<f64>) -> PyResult<u64> {
        let older_than = older_than.map(|s| seconds(py, "older_than", s)).transpose()?;
        let cleared = py.detach(|| self.inner.clear(older_than)).map_err(Error::Config);
        checked(py, cleared)
    }

    /// The default file: in the user's cache directory (``~/.cache/amplemarket/cache.sqlite3`` on Linux).
    #[classmethod]
    fn default_path(_cls: &Bound<'_, PyType>, py: Python<'_>) -> PyResult<PathBuf> {
        checked(py, crate::core::cache::default_path().map_err(Error::Config))
    }

    fn __repr__(&self) -> String {
        format!("Cache({:?})", self.inner.path().display().to_string())
    }
}

/// `cache=`: `True` for the default file, a path, or a `Cache`.
#[derive(FromPyObject)]
pub enum CacheArg {
    On(bool),
    Cache(Py<PyCache>),
    Path(PathBuf),
}

impl CacheArg {
    /// The cache to use, opened now: asked for explicitly, so a file that cannot be used is an error.
    pub fn open(self, py: Python<'_>) -> PyResult<Option<Arc<Cache>>> {
        let path = match self {
            CacheArg::On(false) => return Ok(None),
            CacheArg::Cache(c) => return Ok(Some(c.get().inner.clone())),
            CacheArg::On(true) => None,
            CacheArg::Path(p) => Some(p),
        };
        Ok(Some(
            PyCache::open(
                py,
                CacheSettings {
                    path,
                    ..CacheSettings::default()
                },
            )?
            .inner,
        ))
    }
}

/// What a call would send and cost: ``rows`` given, ``invalid`` ones (never sent), ``distinct`` valid inputs,
/// ``cached`` (answered by the client's cache), ``to_send``, and ``credits``: the most those can cost, as
/// ``{"email": ..., "phone": ...}`` (every lead found and every reveal charged; 0.5 email credit a person found,
/// 1 per revealed email, 1 phone credit per revealed phone number set, 1 email credit per validated email).
#[pyclass(frozen, module = "amplemarket._core", name = "Estimate")]
pub struct PyEstimate {
    #[pyo3(get)]
    rows: usize,
    #[pyo3(get)]
    invalid: usize,
    #[pyo3(get)]
    distinct: usize,
    #[pyo3(get)]
    cached: usize,
    #[pyo3(get)]
    to_send: usize,
    worst: Credits,
}

impl From<Estimate> for PyEstimate {
    fn from(e: Estimate) -> Self {
        let (rows, invalid, distinct, cached, to_send) = (e.rows, e.invalid, e.distinct, e.cached, e.to_send);
        PyEstimate {
            rows,
            invalid,
            distinct,
            cached,
            to_send,
            worst: e.worst,
        }
    }
}

impl PyEstimate {
    fn counts(&self) -> [(&'static str, usize); 5] {
        let e = self;
        [
            ("rows", e.rows),
            ("invalid", e.invalid),
            ("distinct", e.distinct),
            ("cached", e.cached),
            ("to_send", e.to_send),
        ]
    }
}

#[pymethods]
impl PyEstimate {
    #[getter]
    fn credits<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        credits_dict(py, self.worst)
    }

    /// Every number as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, count) in self.counts() {
            d.set_item(name, count)?;
        }
        d.set_item("credits", self.credits(py)?)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let counts = self.counts().map(|(name, count)| format!("{name}={count}")).join(", ");
        let Credits { email, phone } = self.worst;
        format!("Estimate({counts}, credits={{'email': {email}, 'phone': {phone}}})")
    }
}

/// Waits for every answer this process stores behind its calls; run at interpreter exit.
#[pyfunction]
pub fn _flush_caches(py: Python<'_>) {
    py.detach(crate::core::behind::wait_all);
}

/// What ``Person.enrich`` (``kind="person"``), ``Company.enrich`` (``"company"``) or ``validate_emails``
/// (``"email"``) would send for ``inputs`` and the most it could cost, with the client's cache taken into account.
/// Nothing is sent. ``inputs`` and ``columns`` as those calls take them.
#[pyfunction]
#[pyo3(signature = (inputs, *, kind = "person", reveal_email = false, reveal_phone_numbers = false, columns = None, client = None))]
pub fn estimate(
    py: Python<'_>,
    inputs: &Bound<'_, PyAny>,
    kind: &str,
    reveal_email: bool,
    reveal_phone_numbers: bool,
    columns: Option<&Bound<'_, PyDict>>,
    client: Option<&Bound<'_, PyClient>>,
) -> PyResult<PyEstimate> {
    let (kind, read) = match kind {
        "person" => (Kind::People, read_any(py, inputs, columns)?.0),
        "company" => (
            Kind::Companies,
            read_table_or(
                py,
                inputs,
                columns,
                "companies",
                InputTable::companies,
                super::companies::read_companies,
            )?
            .0,
        ),
        "email" => (
            Kind::Emails,
            super::validation::read_email_inputs(py, inputs, columns)?.0,
        ),
        other => {
            return checked(
                py,
                Err(Error::InvalidInput(format!(
                    "kind is \"person\", \"company\" or \"email\", got {other:?}"
                ))),
            )
        }
    };
    if kind != Kind::People && (reveal_email || reveal_phone_numbers) {
        return checked(
            py,
            Err(Error::InvalidInput(
                "reveal_email / reveal_phone_numbers apply to people (kind=\"person\")".into(),
            )),
        );
    }
    let checks: Vec<_> = read.into_iter().map(|(c, _)| c).collect();
    let client = resolve(py, client)?;
    let options = match kind {
        Kind::People => jobs::reveal_options(reveal_email, reveal_phone_numbers),
        _ => Default::default(),
    };
    let batch = Batch::new(kind, options);
    let inner = py.detach(|| bulk::estimate(&client, &batch, &checks));
    Ok(inner.into())
}

/// The inputs of `kind` as the core keeps them: dicts of fields, an email string as `{"email": ...}`.
fn input_maps(kind: Kind, inputs: &Bound<'_, PyAny>) -> PyResult<Vec<Map<String, Value>>> {
    inputs
        .try_iter()?
        .map(|item| {
            let item = item?;
            match (kind, item.extract::<String>()) {
                (Kind::Emails, Ok(email)) => Ok(Map::from_iter([("email".to_string(), Value::String(email))])),
                _ => match depythonize::<Value>(&item)? {
                    Value::Object(m) => Ok(m),
                    _ => Err(pyo3::exceptions::PyTypeError::new_err("each input is a dict of fields")),
                },
            }
        })
        .collect()
}

fn kind_of(py: Python<'_>, kind: &str) -> PyResult<Kind> {
    checked(
        py,
        match kind {
            "person" => Ok(Kind::People),
            "company" => Ok(Kind::Companies),
            "email" => Ok(Kind::Emails),
            other => Err(Error::InvalidInput(format!(
                "kind is \"person\", \"company\" or \"email\", got {other:?}"
            ))),
        },
    )
}

/// For the command line, which runs its own jobs: the results the client's cache holds for ``inputs`` (one per
/// input, ``None`` where it has none), each with ``from_cache`` set.
#[pyfunction]
#[pyo3(signature = (client, kind, inputs, *, reveal_email = false, reveal_phone_numbers = false))]
pub fn _recall(
    py: Python<'_>,
    client: &Bound<'_, PyClient>,
    kind: &str,
    inputs: &Bound<'_, PyAny>,
    reveal_email: bool,
    reveal_phone_numbers: bool,
) -> PyResult<Vec<Option<Py<PyAny>>>> {
    let kind = kind_of(py, kind)?;
    let maps = input_maps(kind, inputs)?;
    let options = jobs::reveal_options(reveal_email, reveal_phone_numbers);
    let core = client.get().inner.clone();
    let found = py.detach(|| crate::core::memory::cached_results(&core, kind, &options, &maps, true));
    found
        .into_iter()
        .map(|r| r.map(|inner| super::result_set::result_object(py, inner)).transpose())
        .collect()
}

/// For the command line: stores the results its jobs gave for ``inputs`` (``None`` where there is none).
#[pyfunction]
#[pyo3(signature = (client, kind, inputs, results, *, reveal_email = false, reveal_phone_numbers = false))]
pub fn _remember(
    py: Python<'_>,
    client: &Bound<'_, PyClient>,
    kind: &str,
    inputs: &Bound<'_, PyAny>,
    results: Vec<Option<Bound<'_, PyAny>>>,
    reveal_email: bool,
    reveal_phone_numbers: bool,
) -> PyResult<()> {
    let kind = kind_of(py, kind)?;
    let maps = input_maps(kind, inputs)?;
    let results: Vec<Option<Arc<EnrichmentResult>>> = results
        .iter()
        .map(|r| match r {
            None => Ok(None),
            Some(r) => super::result_set::result_inner(r).map(Some),
        })
        .collect::<PyResult<_>>()?;
    let options = jobs::reveal_options(reveal_email, reveal_phone_numbers);
    let core = client.get().inner.clone();
    py.detach(|| crate::core::memory::store_results(&core, kind, &options, maps, results));
    Ok(())
}
