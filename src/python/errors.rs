//! Core errors as the Python exceptions of `amplemarket.errors`.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pythonize::pythonize;

use crate::core::budget::Credits;
use crate::core::jobs::{JobRef, Kind};
use crate::core::Error;

fn build(py: Python<'_>, class: &str, message: String, attrs: &Bound<'_, PyDict>) -> PyResult<PyErr> {
    let module = py.import("amplemarket.errors")?;
    let cls = match class {
        "status" => {
            let status = attrs
                .get_item("status_code")?
                .map(|s| s.extract::<u16>())
                .transpose()?
                .unwrap_or(0);
            let code = attrs.get_item("code")?.and_then(|c| c.extract::<String>().ok());
            module.getattr("_status_error_class")?.call1((status, code))?
        }
        name => module.getattr(name)?,
    };
    let exc = cls.call((message,), Some(attrs))?;
    Ok(PyErr::from_value(exc))
}

/// Credits as Python sees them: `{"email": ..., "phone": ...}`.
pub fn credits_dict(py: Python<'_>, c: Credits) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("email", c.email)?;
    d.set_item("phone", c.phone)?;
    Ok(d)
}

/// `job_id`: an enrichment job's integer, an email validation's uuid.
fn set_job_id(attrs: &Bound<'_, PyDict>, job: &JobRef) -> PyResult<()> {
    match (job.kind, job.number()) {
        (Kind::People | Kind::Companies, Some(n)) => attrs.set_item("job_id", n),
        _ => attrs.set_item("job_id", &job.id),
    }
}

pub fn to_pyerr(py: Python<'_>, error: Error) -> PyErr {
    let message = error.to_string();
    let made = (|| -> PyResult<PyErr> {
        let attrs = PyDict::new(py);
        match error {
            Error::InvalidInput(_) => build(py, "InvalidInputError", message, &attrs),
            Error::Config(_) => build(py, "ConfigurationError", message, &attrs),
            Error::Closed => build(py, "ClientClosedError", message, &attrs),
            Error::BudgetExceeded { worst, remaining, .. } => {
                attrs.set_item("estimate", credits_dict(py, worst)?)?;
                attrs.set_item("remaining", credits_dict(py, remaining)?)?;
                build(py, "BudgetExceededError", message, &attrs)
            }
            Error::JobFailed { job, errors } => {
                set_job_id(&attrs, &job)?;
                attrs.set_item("errors", pythonize(py, &errors)?)?;
                build(py, "JobFailedError", message, &attrs)
            }
            Error::JobTimeout { job, status, waited } => {
                set_job_id(&attrs, &job)?;
                attrs.set_item("status", status)?;
                attrs.set_item("waited", waited.as_secs_f64())?;
                build(py, "JobTimeoutError", message, &attrs)
            }
            Error::Connection(c) => {
                attrs.set_item("request", c.request)?;
                let class = if c.timeout {
                    "APITimeoutError"
                } else {
                    "APIConnectionError"
                };
                build(py, class, message, &attrs)
            }
            Error::Decode(d) => {
                attrs.set_item("status_code", d.status)?;
                attrs.set_item("request", d.request)?;
                build(py, "APIResponseValidationError", message, &attrs)
            }
            Error::Status(s) => {
                attrs.set_item("status_code", s.status)?;
                attrs.set_item("refused", s.is_refusal())?;
                attrs.set_item("code", s.code)?;
                attrs.set_item("title", s.title)?;
                attrs.set_item("detail", s.detail)?;
                attrs.set_item("source", pythonize(py, &s.source)?)?;
                attrs.set_item("errors", pythonize(py, &s.errors)?)?;
                attrs.set_item("retry_after", s.retry_after.map(|d| d.as_secs_f64()))?;
                let headers = PyDict::new(py);
                for (k, v) in s.headers {
                    headers.set_item(k, v)?;
                }
                attrs.set_item("headers", headers)?;
                attrs.set_item("request", s.request)?;
                build(py, "status", message, &attrs)
            }
        }
    })();
    made.unwrap_or_else(|e| PyRuntimeError::new_err(format!("amplemarket could not build its exception: {e}")))
}

/// A core result as a Python one: the error mapped to its exception class.
pub fn checked<T>(py: Python<'_>, result: crate::core::Result<T>) -> PyResult<T> {
    result.map_err(|e| to_pyerr(py, e))
}
