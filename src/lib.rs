//! `amplemarket._core`: the Rust core of the `amplemarket` Python package.
//!
//! - `core`: the API client (plain Rust: transport, retries, pacing, models, operations).
//! - `sandbox`: the embedded emulator of the Amplemarket API (plain Rust, axum).
//! - `python`: the PyO3 bindings; `_core` below only registers them.

pub mod core;
mod python;
pub mod sandbox;

use pyo3::prelude::*;

/// Adds each class to the module.
macro_rules! add_classes {
    ($m:ident, $($class:ty),+ $(,)?) => {
        $($m.add_class::<$class>()?;)+
    };
}

/// Adds each `#[pyfunction]` to the module.
macro_rules! add_functions {
    ($m:ident, $($function:path),+ $(,)?) => {
        $($m.add_function(wrap_pyfunction!($function, $m)?)?;)+
    };
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // `python::sandbox` stays spelled out: `sandbox` alone is the crate's emulator.
    use python::{
        bulk, client, companies, jobs, leads, memory, models, people, result_set, results, tables, validation,
    };
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    add_classes!(
        m,
        client::PyClient,
        client::PyRateLimits,
        models::PyPerson,
        models::PyCompany,
        models::PyPhoneNumber,
        people::PySearchPage,
        people::SearchIterator,
        people::AsyncSearchIterator,
        companies::PyCompanySearchPage,
        companies::CompanySearchIterator,
        companies::AsyncCompanySearchIterator,
        jobs::PyEnrichmentJob,
        validation::PyEmailValidation,
        validation::PyValidationResult,
        validation::ValidationResultsIterator,
        validation::AsyncValidationResultsIterator,
        results::PyEnrichmentResult,
        results::ResultsIterator,
        results::AsyncResultsIterator,
        bulk::PyFindResult,
        result_set::PyResults,
        tables::PyArrowTable,
        memory::PyCache,
        memory::PyEstimate,
        python::sandbox::PySandbox,
    );
    add_functions!(
        m,
        client::get_default_client,
        client::set_default_client,
        leads::check_lead,
        leads::check_company,
        leads::check_email,
        memory::estimate,
        memory::_recall,
        memory::_remember,
        memory::_flush_caches,
        bulk::_enrich_keyed,
        bulk::_empty_results,
        tables::_map_columns,
        python::sandbox::sandbox_openapi,
        python::sandbox::sandbox_default_settings,
    );
    // `from amplemarket._core import *`, as the package does, takes the public API only: not the helpers the Python
    // side calls (underscored) nor the sandbox, which users reach through `amplemarket.testing`.
    let registered: Vec<String> = m.index()?.extract()?;
    let public = registered
        .into_iter()
        .filter(|name| name == "__version__" || !(name.starts_with('_') || name.to_lowercase().contains("sandbox")));
    m.setattr("__all__", public.collect::<Vec<_>>())?;
    Ok(())
}
