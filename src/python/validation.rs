//! `EmailValidation` (one validation request on the server), `ValidationResult`, and
//! `EmailValidation.validate_many` (`amplemarket.validate_emails`): any number of emails, one result each.

use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use pyo3::types::{PyDict, PyString};
use serde_json::{Map, Value};

use super::bulk::Enriched;
use super::client::{resolve, PyClient};
use super::errors::checked;
use super::handle::job_class;
use super::leads::read_table_or;
use super::memory::{credits_limit, CreditsArg};
use super::models::json_methods;
use super::paging::page_iterators;
use super::twins::twins;
use crate::core::budget::Credits;
use crate::core::bulk::{self, Batch};
use crate::core::config::deadline;
use crate::core::jobs::{self, EnrichmentResult, JobRef, Kind};
use crate::core::lead::check_email;
use crate::core::paging::ResultPages;
use crate::core::table::read::ReadLead;
use crate::core::table::InputTable;
use crate::core::Error;

/// The most emails one validation request takes.
const MAX_EMAILS: usize = 100_000;
/// The account's documented hourly limit.
const PER_HOUR: usize = 15_000;

/// The outcome of one email's validation: ``email``, ``result`` (``deliverable``, ``risky``, ``unknown``,
/// ``undeliverable``, or a value the API adds later), ``catch_all`` (whether the domain accepts any address) and
/// ``status``: ``validated`` for an answer of the server, ``invalid`` for text that is not an email address (not
/// sent, not charged), ``failed`` when its request failed; ``error`` says why for the last two.
#[pyclass(frozen, module = "amplemarket._core", name = "ValidationResult")]
pub struct PyValidationResult {
    pub inner: Arc<EnrichmentResult>,
}

impl From<EnrichmentResult> for PyValidationResult {
    fn from(r: EnrichmentResult) -> Self {
        PyValidationResult { inner: Arc::new(r) }
    }
}

#[pymethods]
impl PyValidationResult {
    #[getter]
    fn email(&self) -> Option<String> {
        self.inner.obj.string("email")
    }
    #[getter]
    fn result(&self) -> Option<String> {
        self.inner.obj.string("result")
    }
    #[getter]
    fn catch_all(&self) -> Option<bool> {
        self.inner.obj.get("catch_all")
    }
    #[getter]
    fn status(&self) -> String {
        self.inner.status.clone().unwrap_or_else(|| "validated".into())
    }
    #[getter]
    fn error(&self) -> Option<String> {
        self.inner.error()
    }
    /// Whether the client's result cache gave this result (nothing was sent for it).
    #[getter(from_cache)]
    fn is_from_cache(&self) -> bool {
        self.inner.from_cache
    }
}

json_methods!(
    PyValidationResult,
    "The result exactly as the server sent it (or as this SDK made it, for ``invalid`` / ``failed``).",
    json | inner | inner.to_json(),
    parse | text | EnrichmentResult::from_json_of(text, Kind::Emails).map(PyValidationResult::from)
);

#[pymethods]
impl PyValidationResult {
    fn __repr__(&self) -> String {
        let verdict = self.result().unwrap_or_else(|| self.status());
        format!(
            "ValidationResult({:?}, {verdict}, catch_all={})",
            self.email().unwrap_or_default(),
            self.catch_all()
                .map_or("None".into(), |c| if c { "True".into() } else { "False".to_string() })
        )
    }
}

page_iterators! {
    /// Iterator returned by ``EmailValidation.results()``.
    ValidationResultsIterator as "ValidationResultsIterator",
    AsyncValidationResultsIterator as "AsyncValidationResultsIterator", ResultPages => PyValidationResult
}

job_class! {
    /// An email validation request on the server (up to 100,000 emails; 1 email credit each).
    ///
    /// ``create`` starts one, ``get`` resumes one by id, ``wait`` polls until it is done, ``results()`` streams its
    /// results, ``cancel`` stops it keeping what is done. ``amplemarket.validate_emails`` does all of it for any
    /// number of emails.
    PyEmailValidation as "EmailValidation", unit "email", results ValidationResultsIterator / AsyncValidationResultsIterator
}

/// A pandas or polars Series, or an Arrow array, of emails as a list (a column has no header to map).
fn column_as_list<'py>(emails: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let ty = emails.get_type();
    let module = ty.module().map(|m| m.to_string()).unwrap_or_default();
    let name = ty.name().map(|n| n.to_string()).unwrap_or_default();
    let library = module.split('.').next().unwrap_or_default();
    match (library, name.as_str()) {
        ("pandas", "Series") => emails.call_method0("tolist"),
        ("polars", "Series") => emails.call_method0("to_list"),
        ("pyarrow", "Array" | "ChunkedArray" | "StringArray" | "LargeStringArray" | "StringViewArray") => {
            emails.call_method0("to_pylist")
        }
        _ => Ok(emails.clone()),
    }
}

/// Emails from a list of strings, a column (pandas, polars, Arrow) or a table with an email column.
pub fn read_email_inputs(
    py: Python<'_>,
    emails: &Bound<'_, PyAny>,
    columns: Option<&Bound<'_, PyDict>>,
) -> PyResult<(Vec<ReadLead>, Option<super::tables::TableInput>)> {
    let emails = column_as_list(emails)?;
    read_table_or(py, &emails, columns, "emails", InputTable::emails, read_emails)
}

/// Each email checked (or why it is not an email address), with the fields to echo for those not sent; a
/// missing value (`None`, NaN) is an empty email.
fn read_emails(emails: &Bound<'_, PyAny>) -> PyResult<Vec<ReadLead>> {
    if emails.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "emails must be a list of strings, such as [\"jane@techco.com\"], not one string",
        ));
    }
    let iter = super::leads::items_of(emails, "emails must be an iterable of strings")?;
    let mut out = Vec::new();
    for (i, item) in iter.enumerate() {
        let item = item?;
        let missing = item.is_none() || item.extract::<f64>().is_ok_and(f64::is_nan);
        let item = if missing {
            PyString::new(item.py(), "").into_any()
        } else {
            item
        };
        let Ok(text) = item.cast::<PyString>() else {
            let name = item.get_type().name().map(|n| n.to_string()).unwrap_or_default();
            return Err(PyTypeError::new_err(format!(
                "email {i} is a {name}, not a string; pass the emails as strings, such as [\"jane@techco.com\"]"
            )));
        };
        let text = text.to_str()?.to_string();
        let fields = Map::from_iter([("email".to_string(), Value::String(text.clone()))]);
        let checked = check_email(&text)
            .map(|email| Map::from_iter([("email".to_string(), Value::String(email))]))
            .map_err(|e| format!("email {i}: {e}"));
        out.push((checked, fields));
    }
    Ok(out)
}

twins! {
    /// Starts validating ``emails`` (a list of strings, at most 100,000; each must look like an email address).
    /// Retried only where the server cannot have started it; ``idempotency_key`` as for
    /// ``EnrichmentJob.create``.
    static PyEmailValidation, create / create_async, signature (emails, *, idempotency_key = None, client = None),
    |py, emails: &Bound<'_, PyAny>, idempotency_key: Option<String>, client: Option<&Bound<'_, PyClient>>| -> PyEmailValidation {
        let checked_emails: Vec<_> = read_emails(emails)?.into_iter().map(|(c, _)| c).collect();
        let emails = super::leads::all_valid_of(py, checked_emails, "email(s)")?;
        checked(py, jobs::check_count(Kind::Emails, emails.len()))?;
        let client = resolve(py, client)?;
        let worst = Credits::new(emails.len() as f64, 0.0);
        async move {
            // A job's own results are not followed here: its whole worst case stays spent.
            let _held = client.memory().reserve(Credits::UNLIMITED, worst, "this email validation")?;
            let snap = jobs::create(&client, Kind::Emails, &emails, Map::new(), idempotency_key).await?;
            Ok(PyEmailValidation::new(client, &snap, Some(emails.len())))
        }
    }
}

twins! {
    /// The validation with this id, as the server has it now (resume one started elsewhere).
    static PyEmailValidation, get / get_async, signature (validation_id, *, client = None),
    |py, validation_id: &str, client: Option<&Bound<'_, PyClient>>| -> PyEmailValidation {
        let job = JobRef::new(Kind::Emails, checked(py, jobs::validation_id(validation_id))?);
        let client = resolve(py, client)?;
        async move {
            let snap = jobs::get(&client, &job, Some(1)).await?;
            Ok(PyEmailValidation::new(client, &snap, None))
        }
    }
}

twins! {
    /// Validates any number of emails (a list of strings, a pandas / polars / Arrow column of them, or a table
    /// with an Email column, or another mapped by ``columns=``): one ``ValidationResult`` per input, in input
    /// order, in ``Results`` (with ``to_arrow()`` / ``to_polars()`` / ``to_pandas()``). Identical emails are sent
    /// once; a missing value is ``invalid``; text that is not an
    /// email address comes back ``invalid`` without being sent or charged; the rest go in requests of at most
    /// 100,000, or ``validations_per_hour`` (the account's hourly limit, 15,000 unless your plan says more) when
    /// lower. A request over the hourly limit is waited for, not failed: the progress shows the wait.
    /// ``timeout`` (seconds) bounds the wait for each request once started.
    static PyEmailValidation, validate_many / validate_many_async,
    signature (emails, *, validations_per_hour = 15000, timeout = None, columns = None, max_credits = None, progress = None, client = None),
    |py, emails: &Bound<'_, PyAny>, validations_per_hour: i64, timeout: Option<f64>,
     columns: Option<&Bound<'_, PyDict>>, max_credits: Option<CreditsArg>, progress: Option<&Bound<'_, PyAny>>,
     client: Option<&Bound<'_, PyClient>>| -> Enriched {
        let (read, input) = read_email_inputs(py, emails, columns)?;
        let max_credits = credits_limit(py, max_credits)?;
        let (parsed, originals): (Vec<_>, Vec<_>) = read.into_iter().unzip();
        let per_hour = checked(py, hourly(validations_per_hour))?;
        let limit = checked(py, deadline("timeout", timeout))?;
        let report = super::progress::from_py(py, progress, "validate emails", "email")?;
        let client = resolve(py, client)?;
        async move {
            let batch = Batch {
                chunk: per_hour.min(MAX_EMAILS),
                max_credits,
                ..Batch::new(Kind::Emails, Map::new())
            };
            let outcomes = bulk::enrich(&client, &batch, &parsed, limit, report).await?;
            Ok(Enriched { kind: Kind::Emails, outcomes, originals, input })
        }
    }
}

fn hourly(n: i64) -> crate::core::Result<usize> {
    usize::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
        Error::InvalidInput(format!(
            "validations_per_hour is the account's hourly limit, a positive number ({PER_HOUR} by default); got {n}"
        ))
    })
}

#[pymethods]
impl PyEmailValidation {
    /// The most emails one validation request takes.
    #[classattr]
    const MAX_EMAILS: usize = MAX_EMAILS;

    /// The id the server gave (a uuid).
    #[getter]
    fn id(&self) -> &str {
        &self.handle.job.id
    }

    fn __repr__(&self) -> String {
        format!(
            "EmailValidation(id={:?}, status={:?})",
            self.handle.job.id,
            self.handle.status()
        )
    }
}
