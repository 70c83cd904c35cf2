//! `amplemarket._core.SandboxServer`: the sandbox as Python sees it. `amplemarket.testing.Sandbox` wraps it.

use parking_lot::Mutex;
use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pythonize::{depythonize, pythonize};
use serde_json::Value;

use crate::sandbox::{Options, Sandbox, Settings};

/// A running sandbox server (a local emulator of the Amplemarket API). Use `amplemarket.testing.Sandbox`.
#[pyclass(frozen, module = "amplemarket._core", name = "SandboxServer")]
pub struct PySandbox {
    inner: Mutex<Option<Sandbox>>,
    url: String,
}

fn value_error(e: String) -> PyErr {
    PyValueError::new_err(e)
}

fn to_value(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    depythonize(obj).map_err(|e| {
        PyValueError::new_err(format!(
            "{what} must be JSON-like (dicts, lists, str, int, float, bool, None): {e}"
        ))
    })
}

impl PySandbox {
    fn with<T>(&self, f: impl FnOnce(&Sandbox) -> T) -> PyResult<T> {
        let guard = self.inner.lock();
        match guard.as_ref() {
            Some(s) => Ok(f(s)),
            None => Err(PyRuntimeError::new_err(
                "this sandbox has been stopped; start a new one",
            )),
        }
    }
}

#[pymethods]
impl PySandbox {
    #[new]
    #[pyo3(signature = (*, host = "127.0.0.1".to_string(), port = 0, seed = 0, people = 10_000, companies = None, settings = None), text_signature = "(*, host='127.0.0.1', port=0, seed=0, people=10000, companies=None, settings=None)")]
    fn new(
        py: Python<'_>,
        host: String,
        port: u16,
        seed: u64,
        people: usize,
        companies: Option<usize>,
        settings: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let settings = match settings {
            Some(s) => Settings::default()
                .merged(to_value(s, "settings")?)
                .map_err(value_error)?,
            None => Settings::default(),
        };
        let opts = Options {
            host,
            port,
            seed,
            people,
            companies,
            settings,
        };
        let sandbox = py.detach(|| Sandbox::start(opts)).map_err(PyRuntimeError::new_err)?;
        Ok(PySandbox {
            url: sandbox.url(),
            inner: Mutex::new(Some(sandbox)),
        })
    }

    /// The base URL, such as `http://127.0.0.1:49152`.
    #[getter]
    fn url(&self) -> String {
        self.url.clone()
    }

    #[getter]
    fn running(&self) -> bool {
        self.inner.lock().is_some()
    }

    /// Stops the server and closes its connections; idempotent.
    fn stop(&self, py: Python<'_>) {
        let taken = self.inner.lock().take();
        if let Some(mut s) = taken {
            py.detach(move || s.stop());
        }
    }

    /// The current settings as a dict.
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.with(Sandbox::settings)?;
        Ok(pythonize(py, &s)?)
    }

    /// Changes settings while the server runs (names as in `settings()`).
    fn configure(&self, changes: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = to_value(changes, "settings")?;
        self.with(|s| s.configure(v))?.map_err(value_error)
    }

    /// Forgets jobs, charges, scripts, rate-limit state and the request log; keeps data and settings.
    fn reset(&self) -> PyResult<()> {
        self.with(Sandbox::reset)
    }

    fn people_count(&self) -> PyResult<usize> {
        self.with(Sandbox::people_count)
    }

    fn companies_count(&self) -> PyResult<usize> {
        self.with(Sandbox::companies_count)
    }

    /// Person `index` with its email and phone numbers (`_gdpr_removed: True` marks removed people).
    fn person<'py>(&self, py: Python<'py>, index: usize) -> PyResult<Bound<'py, PyAny>> {
        let v = self
            .with(|s| s.person(index))?
            .ok_or_else(|| PyIndexError::new_err(format!("no person {index}")))?;
        Ok(pythonize(py, &v)?)
    }

    fn company<'py>(&self, py: Python<'py>, index: usize) -> PyResult<Bound<'py, PyAny>> {
        let v = self
            .with(|s| s.company(index))?
            .ok_or_else(|| PyIndexError::new_err(format!("no company {index}")))?;
        Ok(pythonize(py, &v)?)
    }

    /// Adds people (dicts shaped like Person objects); all or none. Returns their indexes.
    fn add_people(&self, people: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
        let v = to_value(people, "people")?;
        let Value::Array(items) = v else {
            return Err(PyValueError::new_err("people must be a list of dicts"));
        };
        self.with(|s| s.add_people(items))?.map_err(value_error)
    }

    fn add_company(&self, company: &Bound<'_, PyAny>) -> PyResult<usize> {
        let v = to_value(company, "company")?;
        self.with(|s| s.add_company(v))?.map_err(value_error)
    }

    /// Queues scripted responses for a route such as `"GET /people/find"`.
    fn script(&self, route: &str, steps: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = to_value(steps, "steps")?;
        self.with(|s| s.script(route, v))?.map_err(value_error)
    }

    fn pending_script_steps(&self) -> PyResult<usize> {
        self.with(Sandbox::pending_script_steps)
    }

    /// The request log (entries with `seq` above `since`).
    #[pyo3(signature = (since = 0))]
    fn requests<'py>(&self, py: Python<'py>, since: u64) -> PyResult<Bound<'py, PyAny>> {
        let v = self.with(|s| s.requests(since))?;
        Ok(pythonize(py, &v)?)
    }

    /// Balances and every charge so far.
    fn credits<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = self.with(Sandbox::credits)?;
        Ok(pythonize(py, &v)?)
    }

    fn __repr__(&self) -> String {
        let state = if self.inner.lock().is_some() {
            "running"
        } else {
            "stopped"
        };
        format!("<SandboxServer {} {state}>", self.url)
    }
}

impl Drop for PySandbox {
    fn drop(&mut self) {
        if let Some(mut s) = self.inner.get_mut().take() {
            s.stop();
        }
    }
}

/// The OpenAPI document the sandbox serves.
#[pyfunction]
pub fn sandbox_openapi() -> &'static str {
    crate::sandbox::OPENAPI
}

/// The settings a new sandbox starts with.
#[pyfunction]
pub fn sandbox_default_settings(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    Ok(pythonize(py, &Settings::default())?)
}
