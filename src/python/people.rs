//! `Person.find`, `Person.search` and `Person.search_iter`, blocking and awaitable, and the `SearchPage` type.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use super::client::{resolve, PyClient};
use super::errors::checked;
use super::models::PyPerson;
use super::paging::page_iterators;
use super::search::search_page;
use super::twins::twins;
use crate::core::models::Person;
use crate::core::paging::SearchPages;
use crate::core::people::{self, FindQuery, SearchCursor, SearchQuery, PERSON_FILTERS};

/// A search's `**filters` as its query: each a string or (but `person_name`) a list of strings, `None` leaving it
/// out; `names` are the filters this search takes.
pub fn search_query(
    call: &str,
    names: &[&str],
    filters: Option<&Bound<'_, PyDict>>,
    page: i64,
    page_size: i64,
) -> PyResult<SearchQuery> {
    let mut given = Vec::new();
    for (name, value) in filters.into_iter().flatten() {
        let name: String = name.extract()?;
        if !value.is_none() {
            let values = filter_values(&name, &value)?;
            given.push((name, values));
        }
    }
    SearchQuery::of_filters(call, names, given, page, page_size).map_err(PyTypeError::new_err)
}

fn filter_values(name: &str, value: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let wrong = |what: &str, v: &Bound<'_, PyAny>| {
        let given = v.get_type().name().map(|n| n.to_string()).unwrap_or_default();
        PyTypeError::new_err(format!("argument '{name}': expected {what}, got '{given}'"))
    };
    if let Ok(one) = value.extract::<String>() {
        return Ok(vec![one]);
    }
    let what = if name == "person_name" {
        "a string"
    } else {
        "a string or a list of strings"
    };
    if name == "person_name" || value.is_instance_of::<PyDict>() {
        return Err(wrong(what, value));
    }
    let items: Vec<Bound<'_, PyAny>> = value.extract().map_err(|_| wrong(what, value))?;
    items
        .iter()
        .map(|item| item.extract::<String>().map_err(|_| wrong("strings in the list", item)))
        .collect()
}

/// The names of a search's filters, as a tuple for Python.
pub fn filter_names(py: Python<'_>, names: &[&str]) -> PyResult<Py<PyTuple>> {
    Ok(PyTuple::new(py, names)?.unbind())
}

#[pymethods]
impl PyPerson {
    /// The filters ``search`` and ``search_iter`` take, by name.
    #[classattr]
    #[allow(non_snake_case)]
    fn SEARCH_FILTERS(py: Python<'_>) -> PyResult<Py<PyTuple>> {
        filter_names(py, &PERSON_FILTERS)
    }
}

twins! {
    /// Finds one person by ``linkedin_url``, by ``email``, or by ``name`` with ``company_name`` or
    /// ``company_domain`` (``title`` helps pick among namesakes). Returns ``None`` when nobody matches.
    ///
    /// ``reveal_email`` / ``reveal_phone_numbers`` add the email / phone numbers (charged once per person).
    /// A reveal the server is still processing (408) is waited out up to the client's ``reveal_timeout``.
    static PyPerson, find / find_async,
    signature (*, linkedin_url = None, email = None, name = None, title = None, company_name = None, company_domain = None, reveal_email = false, reveal_phone_numbers = false, client = None),
    |py, linkedin_url: Option<String>, email: Option<String>, name: Option<String>, title: Option<String>,
     company_name: Option<String>, company_domain: Option<String>, reveal_email: bool, reveal_phone_numbers: bool,
     client: Option<&Bound<'_, PyClient>>| -> Option<PyPerson> {
        let query = FindQuery { linkedin_url, email, name, title, company_name, company_domain, reveal_email, reveal_phone_numbers };
        let query = checked(py, query.validated())?;
        let client = resolve(py, client)?;
        async move { Ok(people::find(&client, &query).await?.map(PyPerson::from)) }
    }
}

twins! {
    /// One page of people matching the filters (all optional, combined with AND; a list matches any of its
    /// values). Costs no credits; paced to the search rate limit.
    static PyPerson, search / search_async, signature (*, page = 1, page_size = 10, client = None, **filters),
    |py, page: i64, page_size: i64, client: Option<&Bound<'_, PyClient>>, **filters|
        -> PySearchPage {
        let query = search_query("search", &PERSON_FILTERS, filters, page, page_size)?;
        checked(py, query.validate())?;
        PySearchPage::fetch(resolve(py, client)?, query)
    }
}

twins! {
    /// Every person matching the filters, page after page (``page_size`` per request) until the last page, an
    /// empty or repeated page, or ``max_results``. Always ends.
    iter PyPerson, search_iter -> SearchIterator / search_iter_async -> AsyncSearchIterator,
    signature (*, page = 1, page_size = 100, max_results = None, client = None, **filters),
    |py, page: i64, page_size: i64, max_results: Option<i64>, client: Option<&Bound<'_, PyClient>>,
     **filters| {
        let query = search_query("search_iter", &PERSON_FILTERS, filters, page, page_size)?;
        let cursor = checked(py, SearchCursor::new(query, max_results))?;
        SearchPages::new(resolve(py, client)?, cursor)
    }
}

page_iterators! {
    /// Iterator returned by ``Person.search_iter``.
    SearchIterator as "SearchIterator", AsyncSearchIterator as "AsyncSearchIterator", SearchPages => PyPerson
}

search_page! {
    /// One page of people search results: iterable, with its ``_pagination`` numbers and ``next_page()``.
    PySearchPage as "SearchPage", Person => PyPerson
}
