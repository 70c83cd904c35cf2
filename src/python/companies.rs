//! `Company.find` / `Company.find_async`.

use pyo3::prelude::*;

use super::client::{resolve, PyClient};
use super::errors::checked;
use super::models::PyCompany;
use super::twins::twins;
use crate::core::companies;

twins! {
    /// Finds a company by ``domain`` (like ``example.com``) or ``linkedin_url``; ``None`` when none matches.
    /// Costs no credits.
    static PyCompany, find / find_async, signature (*, domain = None, linkedin_url = None, client = None),
    |py, domain: Option<String>, linkedin_url: Option<String>, client: Option<&Bound<'_, PyClient>>| -> Option<PyCompany> {
        checked(py, companies::validate(domain.as_deref(), linkedin_url.as_deref()))?;
        let client = resolve(py, client)?;
        async move {
            let found = companies::find(&client, domain.as_deref(), linkedin_url.as_deref()).await?;
            Ok(found.map(PyCompany::from))
        }
    }
}
