//! `Company.find`, `Company.search` / `search_iter` and `Company.enrich`, blocking and awaitable, and the
//! `CompanySearchPage` type.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use pythonize::depythonize;
use serde_json::{Map, Value};

use super::bulk::Enriched;
use super::client::{resolve, PyClient};
use super::errors::checked;
use super::leads::{not_a_mapping, read_table_or, LeadCheck};
use super::models::PyCompany;
use super::search::searches;
use super::twins::twins;
use crate::core::bulk::{self, Batch};
use crate::core::companies;
use crate::core::config::deadline;
use crate::core::jobs::Kind;
use crate::core::lead::check_company;
use crate::core::models::Company;
use crate::core::people::COMPANY_FILTERS;
use crate::core::table::InputTable;

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

searches! {
    PyCompany(Company) as "Company", filters COMPANY_FILTERS, results "company",
    page PyCompanySearchPage as "CompanySearchPage",
    iterators CompanySearchIterator as "CompanySearchIterator", AsyncCompanySearchIterator as "AsyncCompanySearchIterator",
    search {
        /// One page of companies matching the filters (all optional, combined with AND; each takes one value or a
        /// list, matching any of its values): names (part of the name), domains, industries, sizes
        /// (``"51-200 employees"``), types, locations (part of the location) and keywords. Costs no credits; paced to
        /// the search rate limit.
    }
    search_iter {
        /// Every company matching the filters (as ``search`` takes them), page after page (``page_size`` per
        /// request) until the last page, an empty or repeated page, or ``max_results``. Always ends.
    }
}

twins! {
    /// Enriches any number of companies: dicts with ``domain`` (a website URL is cut down to its domain),
    /// ``linkedin_url`` and/or ``name``, plain strings read as domains, or a table (DataFrame, Arrow) whose
    /// columns map by their headers (Domain or Website, Company LinkedIn URL, Company) and ``columns=``
    /// (``{"Account Domain": "domain"}``). Identical companies are sent once, the
    /// rest split into requests of at most 10,000, waited on together, and collected. Returns ``Results``: one
    /// ``EnrichmentResult`` per input, in input order, its ``company`` set when ``status`` is ``enriched``; an
    /// input that cannot be sent comes back ``invalid`` with an ``error``. ``timeout`` (seconds) bounds the wait.
    static PyCompany, enrich / enrich_async,
    signature (companies, *, timeout = None, columns = None, progress = None, client = None),
    |py, companies: &Bound<'_, PyAny>, timeout: Option<f64>, columns: Option<&Bound<'_, PyDict>>,
     progress: Option<&Bound<'_, PyAny>>, client: Option<&Bound<'_, PyClient>>| -> Enriched {
        let (read, input) = read_table_or(py, companies, columns, "companies", InputTable::companies, read_companies)?;
        let (parsed, originals): (Vec<_>, Vec<_>) = read.into_iter().unzip();
        let limit = checked(py, deadline("timeout", timeout))?;
        let report = super::progress::from_py(py, progress, "enrich companies", "company")?;
        let client = resolve(py, client)?;
        async move {
            let batch = Batch::new(Kind::Companies, Map::new());
            let outcomes = bulk::enrich(&client, &batch, &parsed, limit, report).await?;
            Ok(Enriched { kind: Kind::Companies, outcomes, originals, input })
        }
    }
}

/// Each company checked (or why it cannot be sent), with the fields it was given.
pub fn read_companies(companies: &Bound<'_, PyAny>) -> PyResult<Vec<(LeadCheck, Map<String, Value>)>> {
    if companies.is_instance_of::<PyString>() || companies.is_instance_of::<PyDict>() {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "companies must be a list: one dict ({\"domain\": \"techco.com\"}) or domain string per company",
        ));
    }
    let iter = super::leads::items_of(companies, "companies must be an iterable of dicts or domain strings")?;
    let mut out = Vec::new();
    for (i, item) in iter.enumerate() {
        let item = item?;
        let fields = if let Ok(domain) = item.cast::<PyString>() {
            Map::from_iter([("domain".to_string(), Value::String(domain.to_str()?.to_string()))])
        } else if let Ok(m) = item.cast::<pyo3::types::PyMapping>() {
            match depythonize::<Value>(m.as_any()) {
                Ok(Value::Object(map)) => map,
                _ => {
                    out.push((Err(format!("company {i}: cannot be read as fields")), Map::new()));
                    continue;
                }
            }
        } else {
            return Err(not_a_mapping(&item, "company", i, "{\"domain\": \"techco.com\"}"));
        };
        out.push((check_company(&fields).map_err(|e| format!("company {i}: {e}")), fields));
    }
    Ok(out)
}

/// The companies of `read_companies`, without the fields they were given.
pub fn companies_from_py(_py: Python<'_>, companies: &Bound<'_, PyAny>) -> PyResult<Vec<LeadCheck>> {
    Ok(read_companies(companies)?.into_iter().map(|(c, _)| c).collect())
}
