//! `EnrichmentResult` and the iterators over a job's results.

use std::sync::Arc;

use pyo3::prelude::*;

use pythonize::pythonize;
use serde_json::Value;

use super::models::{json_methods, PyCompany, PyPerson};
use super::paging::page_iterators;
use crate::core::jobs::EnrichmentResult;
use crate::core::paging::ResultPages;

/// One result of an enrichment job: the input's echoed fields, a ``status`` (``enriched``, ``not_found``,
/// ``gdpr_removed``, or a value the API adds later; ``invalid`` / ``failed`` for inputs this SDK could not send or
/// whose job failed, with ``error`` saying why) and the ``person`` (people) or ``company`` (companies) when
/// enriched.
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
    /// The enriched company of a company enrichment; for a person, the company they work for.
    #[getter]
    fn company(&self) -> Option<PyCompany> {
        let person_company = || self.inner.person.as_ref().and_then(|p| p.company.clone());
        self.inner.company.clone().or_else(person_company).map(PyCompany::from)
    }
    /// Whether the client's result cache gave this result (nothing was sent for it).
    #[getter(from_cache)]
    fn is_from_cache(&self) -> bool {
        self.inner.from_cache
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
}

json_methods!(
    PyEnrichmentResult,
    "The result exactly as the server sent it (or as this SDK made it, for ``invalid`` / ``failed``).",
    json | inner | inner.to_json(),
    parse | text | EnrichmentResult::from_json(text).map(|r| PyEnrichmentResult { inner: Arc::new(r) })
);

#[pymethods]
impl PyEnrichmentResult {
    fn __repr__(&self) -> String {
        let who = self
            .inner
            .person
            .as_ref()
            .and_then(|p| p.name())
            .or_else(|| self.inner.company.as_ref().and_then(|c| c.obj.string("name")))
            .or_else(|| {
                ["email", "linkedin_url", "linkedin_id", "name", "domain"]
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

/// A getter for each echoed lead field (`core::lead::LEAD_KEYS`).
macro_rules! lead_getters {
    ($($field:ident),*) => {
        #[pymethods]
        impl PyEnrichmentResult {
            $(
                #[getter]
                fn $field(&self) -> Option<String> {
                    self.lead_field(stringify!($field))
                }
            )*
        }
    };
}

lead_getters!(
    domain,
    email,
    linkedin_url,
    linkedin_id,
    name,
    title,
    company_name,
    company_domain
);

impl From<EnrichmentResult> for PyEnrichmentResult {
    fn from(r: EnrichmentResult) -> Self {
        PyEnrichmentResult { inner: Arc::new(r) }
    }
}

page_iterators! {
    /// Iterator returned by ``EnrichmentJob.results()``.
    ResultsIterator as "ResultsIterator", AsyncResultsIterator as "AsyncResultsIterator", ResultPages => PyEnrichmentResult
}
