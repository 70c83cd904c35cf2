//! Reading leads from Python: any iterable of dicts, each checked by the core's one lead check
//! (`core::lead`), before anything is sent.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use pythonize::{depythonize, pythonize};
use serde_json::{Map, Value};

use super::errors::to_pyerr;
use super::tables::{overrides, table_of, TableInput};
use crate::core::lead::validate_lead;
use crate::core::table::read::ReadLead;
use crate::core::table::InputTable;
use crate::core::Error;

/// The items of an input given as a list (any iterable), or a `TypeError` saying what was `expected` and what came.
pub fn items_of<'py>(input: &Bound<'py, PyAny>, expected: &str) -> PyResult<Bound<'py, pyo3::types::PyIterator>> {
    input.try_iter().map_err(|_| {
        let given = input.get_type().name().map(|n| n.to_string()).unwrap_or_default();
        PyTypeError::new_err(format!("{expected}, got {given}"))
    })
}

fn check_leads_type(leads: &Bound<'_, PyAny>) -> PyResult<()> {
    if leads.is_instance_of::<PyString>()
        || leads.is_instance_of::<PyDict>()
        || leads.is_instance_of::<pyo3::types::PyBytes>()
    {
        return Err(PyTypeError::new_err(
            "leads must be an iterable of dicts, one per lead, or a table (a pandas or polars DataFrame, an Arrow \
             table)",
        ));
    }
    Ok(())
}

/// Leads from a table (its columns mapped to lead fields by their headers and `columns=`) or from an iterable of
/// dicts, each with the fields it was read from; and the table, when it was one.
pub fn read_any(
    py: Python<'_>,
    leads: &Bound<'_, PyAny>,
    columns: Option<&Bound<'_, PyDict>>,
) -> PyResult<(Vec<ReadLead>, Option<TableInput>)> {
    read_table_or(py, leads, columns, "leads", InputTable::leads, read_leads)
}

/// How a table's rows are read as inputs: `InputTable::leads`, `companies` or `emails`.
pub type TableReader = fn(&InputTable, &[(String, Option<String>)]) -> Result<Vec<ReadLead>, String>;

/// Inputs (named `what`) from a table, read by `from_table` with `columns=`, or else from Python items by
/// `from_items`; and the table, when it was one.
pub fn read_table_or(
    py: Python<'_>,
    given: &Bound<'_, PyAny>,
    columns: Option<&Bound<'_, PyDict>>,
    what: &str,
    from_table: TableReader,
    from_items: fn(&Bound<'_, PyAny>) -> PyResult<Vec<ReadLead>>,
) -> PyResult<(Vec<ReadLead>, Option<TableInput>)> {
    match table_of(py, given, what)? {
        Some(t) => {
            let overrides = overrides(py, columns)?;
            let read = py
                .detach(|| from_table(&t.table, &overrides))
                .map_err(|e| to_pyerr(py, Error::InvalidInput(e)))?;
            Ok((read, Some(t)))
        }
        None => {
            if columns.is_some() {
                return Err(PyTypeError::new_err(format!(
                    "columns= maps a table's columns to fields; {what} given as Python objects use the fields' own \
                     names"
                )));
            }
            Ok((from_items(given)?, None))
        }
    }
}

/// The error for an item that is not a mapping of fields: a programming error, raised before anything is sent.
pub fn not_a_mapping(item: &Bound<'_, PyAny>, what: &str, i: usize, example: &str) -> PyErr {
    let name = item.get_type().name().map(|n| n.to_string()).unwrap_or_default();
    let shown = item.repr().map(|r| r.to_string()).unwrap_or_default();
    let shown: String = shown.chars().take(60).collect();
    PyTypeError::new_err(format!(
        "{what} {i} is a {name} ({shown}), not a dict of fields; pass one dict per {what}, such as {example}"
    ))
}

/// A lead ready to send, or why it cannot be sent.
pub type LeadCheck = Result<Map<String, Value>, String>;

pub fn leads_from_py(
    py: Python<'_>,
    leads: &Bound<'_, PyAny>,
    columns: Option<&Bound<'_, PyDict>>,
) -> PyResult<Vec<LeadCheck>> {
    Ok(read_any(py, leads, columns)?
        .0
        .into_iter()
        .map(|(parsed, _)| parsed)
        .collect())
}

/// Each lead validated (or why it is not valid), with its string fields as given, to echo in results this SDK
/// makes for leads it could not send. Every item is converted from Python once.
pub fn read_leads(leads: &Bound<'_, PyAny>) -> PyResult<Vec<(LeadCheck, Map<String, Value>)>> {
    check_leads_type(leads)?;
    let iter = items_of(leads, "leads must be an iterable of dicts")?;
    let mut out = Vec::new();
    for (i, item) in iter.enumerate() {
        let item = item?;
        let lead = match item.cast::<pyo3::types::PyMapping>() {
            Ok(m) => match depythonize::<Value>(m.as_any()) {
                Ok(Value::Object(map)) => {
                    let checked = validate_lead(i, &map);
                    (checked, map)
                }
                Ok(_) => (Err(format!("lead {i}: not a dict of lead fields")), Map::new()),
                Err(e) => (Err(format!("lead {i}: cannot be read: {e}")), Map::new()),
            },
            Err(_) => return Err(not_a_mapping(&item, "lead", i, "{\"email\": \"jane@techco.com\"}")),
        };
        out.push(lead);
    }
    Ok(out)
}

/// Checks one lead as every call that sends leads does (``Person.enrich``, ``EnrichmentJob.create``, the CLI):
/// known fields, text values, an email that looks like one, a LinkedIn URL that points at LinkedIn, and an
/// identifier the API can use. Returns the lead as it would be sent (values trimmed, blank ones dropped), or
/// raises ``InvalidInputError`` saying what is wrong (``TypeError`` for something that is not a mapping).
#[pyfunction]
pub fn check_lead<'py>(py: Python<'py>, lead: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    if lead.cast::<pyo3::types::PyMapping>().is_err() {
        let name = lead.get_type().name().map(|n| n.to_string()).unwrap_or_default();
        return Err(PyTypeError::new_err(format!(
            "a lead is a dict of lead fields, such as {{\"email\": \"jane@techco.com\"}}, not a {name}"
        )));
    }
    let map = match depythonize::<Value>(lead) {
        Ok(Value::Object(map)) => map,
        Ok(_) => Map::new(),
        Err(e) => {
            return Err(to_pyerr(
                py,
                Error::InvalidInput(format!("the lead cannot be read: {e}")),
            ))
        }
    };
    match crate::core::lead::check_lead(&map) {
        Ok(clean) => Ok(pythonize(py, &clean)?),
        Err(e) => Err(to_pyerr(py, Error::InvalidInput(e))),
    }
}

/// Checks one company as ``Company.enrich`` and ``EnrichmentJob.create_companies`` do: known fields (``domain``,
/// ``linkedin_url``, ``name``), text values, a domain (a website URL is cut down to it), a LinkedIn URL that points
/// at LinkedIn, and at least one of them. A string is read as a domain. Returns the company as it would be sent, or
/// raises ``InvalidInputError`` saying what is wrong (``TypeError`` for something that is neither).
#[pyfunction]
pub fn check_company<'py>(py: Python<'py>, company: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let list = pyo3::types::PyList::new(py, [company])?;
    let (checked, _) = super::companies::read_companies(list.as_any())?
        .pop()
        .expect("one company read");
    let clean = checked.map_err(|e| to_pyerr(py, Error::InvalidInput(e.trim_start_matches("company 0: ").into())))?;
    Ok(pythonize(py, &clean)?)
}

/// Checks one email as ``validate_emails`` does (``invalid`` otherwise, never sent): returns it trimmed, or raises
/// ``InvalidInputError`` saying why it is not an email address.
#[pyfunction]
pub fn check_email(py: Python<'_>, email: &str) -> PyResult<String> {
    crate::core::lead::check_email(email).map_err(|e| to_pyerr(py, Error::InvalidInput(e)))
}

/// The leads, when every one is valid; else an `InvalidInputError` naming the first ten bad ones.
pub fn all_valid(py: Python<'_>, leads: Vec<Result<Map<String, Value>, String>>) -> PyResult<Vec<Map<String, Value>>> {
    all_valid_of(py, leads, "lead(s)")
}

/// `all_valid` for inputs called `noun` in the message (`company(ies)`).
pub fn all_valid_of(
    py: Python<'_>,
    leads: Vec<Result<Map<String, Value>, String>>,
    noun: &str,
) -> PyResult<Vec<Map<String, Value>>> {
    let bad: Vec<&String> = leads.iter().filter_map(|l| l.as_ref().err()).collect();
    if !bad.is_empty() {
        let shown: Vec<&str> = bad.iter().take(10).map(|s| s.as_str()).collect();
        let more = if bad.len() > 10 {
            format!(" (and {} more)", bad.len() - 10)
        } else {
            String::new()
        };
        return Err(to_pyerr(
            py,
            Error::InvalidInput(format!("{} invalid {noun}: {}{more}", bad.len(), shown.join("; "))),
        ));
    }
    Ok(leads.into_iter().flatten().collect())
}
