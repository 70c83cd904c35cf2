//! `amplemarket._core`: the Rust core of the `amplemarket` Python package.
//!
//! - `core`: the API client (plain Rust: transport, retries, pacing, models, operations).
//! - `sandbox`: the embedded emulator of the Amplemarket API (plain Rust, axum).
//! - `python`: the PyO3 bindings; `_core` below only registers them.

pub mod core;
mod python;
pub mod sandbox;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    use python::{bulk, client, jobs, leads, models, people, results};
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<client::PyClient>()?;
    m.add_class::<client::PyRateLimits>()?;
    m.add_class::<models::PyPerson>()?;
    m.add_class::<models::PyCompany>()?;
    m.add_class::<models::PyPhoneNumber>()?;
    m.add_class::<people::PySearchPage>()?;
    m.add_class::<people::SearchIterator>()?;
    m.add_class::<people::AsyncSearchIterator>()?;
    m.add_class::<python::companies::PyCompanySearchPage>()?;
    m.add_class::<python::companies::CompanySearchIterator>()?;
    m.add_class::<python::companies::AsyncCompanySearchIterator>()?;
    m.add_class::<jobs::PyEnrichmentJob>()?;
    m.add_class::<python::validation::PyEmailValidation>()?;
    m.add_class::<python::validation::PyValidationResult>()?;
    m.add_class::<python::validation::ValidationResultsIterator>()?;
    m.add_class::<python::validation::AsyncValidationResultsIterator>()?;
    m.add_class::<results::PyEnrichmentResult>()?;
    m.add_class::<results::ResultsIterator>()?;
    m.add_class::<results::AsyncResultsIterator>()?;
    m.add_class::<bulk::PyFindResult>()?;
    m.add_class::<python::result_set::PyResults>()?;
    m.add_class::<python::tables::PyArrowTable>()?;
    m.add_function(wrap_pyfunction!(client::get_default_client, m)?)?;
    m.add_function(wrap_pyfunction!(client::set_default_client, m)?)?;
    m.add_function(wrap_pyfunction!(leads::check_lead, m)?)?;
    m.add_function(wrap_pyfunction!(leads::check_company, m)?)?;
    m.add_function(wrap_pyfunction!(leads::check_email, m)?)?;
    m.add_class::<python::memory::PyCache>()?;
    m.add_class::<python::memory::PyEstimate>()?;
    m.add_function(wrap_pyfunction!(python::memory::estimate, m)?)?;
    m.add_function(wrap_pyfunction!(python::memory::_recall, m)?)?;
    m.add_function(wrap_pyfunction!(python::memory::_remember, m)?)?;
    m.add_function(wrap_pyfunction!(python::memory::_flush_caches, m)?)?;
    m.add_function(wrap_pyfunction!(bulk::_enrich_keyed, m)?)?;
    m.add_function(wrap_pyfunction!(bulk::_empty_results, m)?)?;
    m.add_function(wrap_pyfunction!(python::tables::_map_columns, m)?)?;
    m.add_class::<python::sandbox::PySandbox>()?;
    m.add_function(wrap_pyfunction!(python::sandbox::sandbox_openapi, m)?)?;
    m.add_function(wrap_pyfunction!(python::sandbox::sandbox_default_settings, m)?)?;
    // `from amplemarket._core import *`, as the package does, takes the public API only: not the helpers the Python
    // side calls (underscored) nor the sandbox, which users reach through `amplemarket.testing`.
    let registered: Vec<String> = m.index()?.extract()?;
    let public = registered
        .into_iter()
        .filter(|name| name == "__version__" || !(name.starts_with('_') || name.to_lowercase().contains("sandbox")));
    m.setattr("__all__", public.collect::<Vec<_>>())?;
    Ok(())
}
