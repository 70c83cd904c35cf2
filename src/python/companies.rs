//! `Company.find` / `Company.find_async`.

use std::sync::Arc;

use pyo3::prelude::*;

use super::client::{resolve, PyClient};
use super::models::PyCompany;
use super::runtime::{awaitable, block_on};
use crate::core::companies;

#[pymethods]
impl PyCompany {
    /// Finds a company by ``domain`` (like ``example.com``) or ``linkedin_url``; ``None`` when none matches.
    /// Costs no credits.
    #[staticmethod]
    #[pyo3(signature = (*, domain = None, linkedin_url = None, client = None))]
    fn find(
        py: Python<'_>,
        domain: Option<String>,
        linkedin_url: Option<String>,
        client: Option<&Bound<'_, PyClient>>,
    ) -> PyResult<Option<PyCompany>> {
        let client = resolve(py, client)?;
        let found = block_on(py, async move {
            companies::find(&client, domain.as_deref(), linkedin_url.as_deref()).await
        })?;
        Ok(found.map(|c| PyCompany { inner: Arc::new(c) }))
    }

    /// Awaitable ``find``.
    #[staticmethod]
    #[pyo3(signature = (*, domain = None, linkedin_url = None, client = None))]
    fn find_async<'py>(
        py: Python<'py>,
        domain: Option<String>,
        linkedin_url: Option<String>,
        client: Option<&Bound<'_, PyClient>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        companies::validate(domain.as_deref(), linkedin_url.as_deref()).map_err(|e| super::errors::to_pyerr(py, e))?;
        let client = resolve(py, client)?;
        awaitable(py, async move {
            let found = companies::find(&client, domain.as_deref(), linkedin_url.as_deref()).await?;
            Ok(found.map(|c| PyCompany { inner: Arc::new(c) }))
        })
    }
}
