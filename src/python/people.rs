//! `Person.find`, `Person.search` and `Person.search_iter`, blocking and awaitable, and the `SearchPage` type.

use std::collections::VecDeque;
use std::sync::Arc;

use pyo3::exceptions::PyStopAsyncIteration;
use pyo3::prelude::*;

use super::client::{resolve, PyClient};
use super::models::PyPerson;
use super::runtime::{awaitable, awaitable_py, block_on};
use crate::core::models::{Pagination, Person};
use crate::core::people::{self, FindQuery, SearchCursor, SearchQuery};
use crate::core::Client;

/// One value or a list of them, for list filters (`person_titles="CEO"` reads as `["CEO"]`).
#[derive(FromPyObject)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn search_query(
    person_name: Option<String>,
    person_titles: Option<OneOrMany>,
    person_locations: Option<OneOrMany>,
    person_seniorities: Option<OneOrMany>,
    person_departments: Option<OneOrMany>,
    person_job_functions: Option<OneOrMany>,
    company_names: Option<OneOrMany>,
    company_domains: Option<OneOrMany>,
    company_industries: Option<OneOrMany>,
    company_sizes: Option<OneOrMany>,
    company_locations: Option<OneOrMany>,
    page: i64,
    page_size: i64,
) -> SearchQuery {
    let mut lists = Vec::new();
    for (k, v) in [
        ("person_titles", person_titles),
        ("person_locations", person_locations),
        ("person_seniorities", person_seniorities),
        ("person_departments", person_departments),
        ("person_job_functions", person_job_functions),
        ("company_names", company_names),
        ("company_domains", company_domains),
        ("company_industries", company_industries),
        ("company_sizes", company_sizes),
        ("company_locations", company_locations),
    ] {
        if let Some(v) = v {
            lists.push((k.to_string(), v.into_vec()));
        }
    }
    SearchQuery {
        person_name,
        lists,
        page,
        page_size,
    }
}

#[pymethods]
impl PyPerson {
    /// Finds one person by ``linkedin_url``, by ``email``, or by ``name`` with ``company_name`` or
    /// ``company_domain`` (``title`` helps pick among namesakes). Returns ``None`` when nobody matches.
    ///
    /// ``reveal_email`` / ``reveal_phone_numbers`` add the email / phone numbers (charged once per person).
    /// A reveal the server is still processing (408) is waited out up to the client's ``reveal_timeout``.
    #[staticmethod]
    #[pyo3(signature = (*, linkedin_url = None, email = None, name = None, title = None, company_name = None, company_domain = None, reveal_email = false, reveal_phone_numbers = false, client = None))]
    #[allow(clippy::too_many_arguments)]
    fn find(
        py: Python<'_>,
        linkedin_url: Option<String>,
        email: Option<String>,
        name: Option<String>,
        title: Option<String>,
        company_name: Option<String>,
        company_domain: Option<String>,
        reveal_email: bool,
        reveal_phone_numbers: bool,
        client: Option<&Bound<'_, PyClient>>,
    ) -> PyResult<Option<PyPerson>> {
        let q = FindQuery {
            linkedin_url,
            email,
            name,
            title,
            company_name,
            company_domain,
            reveal_email,
            reveal_phone_numbers,
        };
        let client = resolve(py, client)?;
        let found = block_on(py, async move { people::find(&client, &q).await })?;
        Ok(found.map(|p| PyPerson { inner: Arc::new(p) }))
    }

    /// Awaitable ``find``.
    #[staticmethod]
    #[pyo3(signature = (*, linkedin_url = None, email = None, name = None, title = None, company_name = None, company_domain = None, reveal_email = false, reveal_phone_numbers = false, client = None))]
    #[allow(clippy::too_many_arguments)]
    fn find_async<'py>(
        py: Python<'py>,
        linkedin_url: Option<String>,
        email: Option<String>,
        name: Option<String>,
        title: Option<String>,
        company_name: Option<String>,
        company_domain: Option<String>,
        reveal_email: bool,
        reveal_phone_numbers: bool,
        client: Option<&Bound<'_, PyClient>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = FindQuery {
            linkedin_url,
            email,
            name,
            title,
            company_name,
            company_domain,
            reveal_email,
            reveal_phone_numbers,
        };
        // Checked now, so a bad call fails where it is made rather than when awaited.
        q.validated().map_err(|e| super::errors::to_pyerr(py, e))?;
        let client = resolve(py, client)?;
        awaitable(py, async move {
            Ok(people::find(&client, &q)
                .await?
                .map(|p| PyPerson { inner: Arc::new(p) }))
        })
    }

    /// One page of people matching the filters (all optional, combined with AND; a list matches any of its
    /// values). Costs no credits; paced to the search rate limit.
    #[staticmethod]
    #[pyo3(signature = (*, person_name=None, person_titles=None, person_locations=None, person_seniorities=None, person_departments=None, person_job_functions=None, company_names=None, company_domains=None, company_industries=None, company_sizes=None, company_locations=None, page=1, page_size=10, client=None))]
    #[allow(clippy::too_many_arguments)]
    fn search(
        py: Python<'_>,
        person_name: Option<String>,
        person_titles: Option<OneOrMany>,
        person_locations: Option<OneOrMany>,
        person_seniorities: Option<OneOrMany>,
        person_departments: Option<OneOrMany>,
        person_job_functions: Option<OneOrMany>,
        company_names: Option<OneOrMany>,
        company_domains: Option<OneOrMany>,
        company_industries: Option<OneOrMany>,
        company_sizes: Option<OneOrMany>,
        company_locations: Option<OneOrMany>,
        page: i64,
        page_size: i64,
        client: Option<&Bound<'_, PyClient>>,
    ) -> PyResult<PySearchPage> {
        let q = search_query(
            person_name,
            person_titles,
            person_locations,
            person_seniorities,
            person_departments,
            person_job_functions,
            company_names,
            company_domains,
            company_industries,
            company_sizes,
            company_locations,
            page,
            page_size,
        );
        let client = resolve(py, client)?;
        fetch_page(py, client, q)
    }

    /// Awaitable ``search``.
    #[staticmethod]
    #[pyo3(signature = (*, person_name=None, person_titles=None, person_locations=None, person_seniorities=None, person_departments=None, person_job_functions=None, company_names=None, company_domains=None, company_industries=None, company_sizes=None, company_locations=None, page=1, page_size=10, client=None))]
    #[allow(clippy::too_many_arguments)]
    fn search_async<'py>(
        py: Python<'py>,
        person_name: Option<String>,
        person_titles: Option<OneOrMany>,
        person_locations: Option<OneOrMany>,
        person_seniorities: Option<OneOrMany>,
        person_departments: Option<OneOrMany>,
        person_job_functions: Option<OneOrMany>,
        company_names: Option<OneOrMany>,
        company_domains: Option<OneOrMany>,
        company_industries: Option<OneOrMany>,
        company_sizes: Option<OneOrMany>,
        company_locations: Option<OneOrMany>,
        page: i64,
        page_size: i64,
        client: Option<&Bound<'_, PyClient>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = search_query(
            person_name,
            person_titles,
            person_locations,
            person_seniorities,
            person_departments,
            person_job_functions,
            company_names,
            company_domains,
            company_industries,
            company_sizes,
            company_locations,
            page,
            page_size,
        );
        q.validate().map_err(|e| super::errors::to_pyerr(py, e))?;
        let client = resolve(py, client)?;
        fetch_page_async(py, client, q)
    }

    /// Every person matching the filters, page after page (``page_size`` per request) until the last page, an
    /// empty or repeated page, or ``max_results``. Always ends.
    #[staticmethod]
    #[pyo3(signature = (*, person_name=None, person_titles=None, person_locations=None, person_seniorities=None, person_departments=None, person_job_functions=None, company_names=None, company_domains=None, company_industries=None, company_sizes=None, company_locations=None, page=1, page_size=100, max_results=None, client=None))]
    #[allow(clippy::too_many_arguments)]
    fn search_iter(
        py: Python<'_>,
        person_name: Option<String>,
        person_titles: Option<OneOrMany>,
        person_locations: Option<OneOrMany>,
        person_seniorities: Option<OneOrMany>,
        person_departments: Option<OneOrMany>,
        person_job_functions: Option<OneOrMany>,
        company_names: Option<OneOrMany>,
        company_domains: Option<OneOrMany>,
        company_industries: Option<OneOrMany>,
        company_sizes: Option<OneOrMany>,
        company_locations: Option<OneOrMany>,
        page: i64,
        page_size: i64,
        max_results: Option<i64>,
        client: Option<&Bound<'_, PyClient>>,
    ) -> PyResult<SearchIterator> {
        let q = search_query(
            person_name,
            person_titles,
            person_locations,
            person_seniorities,
            person_departments,
            person_job_functions,
            company_names,
            company_domains,
            company_industries,
            company_sizes,
            company_locations,
            page,
            page_size,
        );
        let cursor = SearchCursor::new(q, max_results).map_err(|e| super::errors::to_pyerr(py, e))?;
        Ok(SearchIterator {
            client: resolve(py, client)?,
            state: parking_lot::Mutex::new((Some(cursor), VecDeque::new())),
        })
    }

    /// Async iterator form of ``search_iter`` (``async for person in Person.search_iter_async(...)``).
    #[staticmethod]
    #[pyo3(signature = (*, person_name=None, person_titles=None, person_locations=None, person_seniorities=None, person_departments=None, person_job_functions=None, company_names=None, company_domains=None, company_industries=None, company_sizes=None, company_locations=None, page=1, page_size=100, max_results=None, client=None))]
    #[allow(clippy::too_many_arguments)]
    fn search_iter_async(
        py: Python<'_>,
        person_name: Option<String>,
        person_titles: Option<OneOrMany>,
        person_locations: Option<OneOrMany>,
        person_seniorities: Option<OneOrMany>,
        person_departments: Option<OneOrMany>,
        person_job_functions: Option<OneOrMany>,
        company_names: Option<OneOrMany>,
        company_domains: Option<OneOrMany>,
        company_industries: Option<OneOrMany>,
        company_sizes: Option<OneOrMany>,
        company_locations: Option<OneOrMany>,
        page: i64,
        page_size: i64,
        max_results: Option<i64>,
        client: Option<&Bound<'_, PyClient>>,
    ) -> PyResult<AsyncSearchIterator> {
        let q = search_query(
            person_name,
            person_titles,
            person_locations,
            person_seniorities,
            person_departments,
            person_job_functions,
            company_names,
            company_domains,
            company_industries,
            company_sizes,
            company_locations,
            page,
            page_size,
        );
        let cursor = SearchCursor::new(q, max_results).map_err(|e| super::errors::to_pyerr(py, e))?;
        Ok(AsyncSearchIterator {
            client: resolve(py, client)?,
            state: Arc::new(tokio::sync::Mutex::new((cursor, VecDeque::new()))),
        })
    }
}

fn fetch_page(py: Python<'_>, client: Client, q: SearchQuery) -> PyResult<PySearchPage> {
    let c = client.clone();
    let query = q.clone();
    let page = block_on(py, async move { people::search(&c, &query).await })?;
    Ok(PySearchPage::new(page.results, page.pagination, q, client))
}

fn fetch_page_async<'py>(py: Python<'py>, client: Client, q: SearchQuery) -> PyResult<Bound<'py, PyAny>> {
    awaitable(py, async move {
        let page = people::search(&client, &q).await?;
        Ok(PySearchPage::new(page.results, page.pagination, q, client))
    })
}

/// One page of search results: iterable, with its ``_pagination`` numbers and ``next_page()``.
#[pyclass(frozen, module = "amplemarket._core", name = "SearchPage")]
pub struct PySearchPage {
    results: Vec<Arc<Person>>,
    pagination: Pagination,
    query: SearchQuery,
    client: Client,
}

impl PySearchPage {
    fn new(results: Vec<Person>, pagination: Pagination, query: SearchQuery, client: Client) -> Self {
        PySearchPage {
            results: results.into_iter().map(Arc::new).collect(),
            pagination,
            query,
            client,
        }
    }

    fn next_query(&self) -> Option<SearchQuery> {
        let more = !self.results.is_empty() && self.pagination.page < self.pagination.total_pages;
        more.then(|| SearchQuery {
            page: (self.pagination.page as i64).max(self.query.page) + 1,
            ..self.query.clone()
        })
    }
}

#[pymethods]
impl PySearchPage {
    #[getter]
    fn results(&self) -> Vec<PyPerson> {
        self.results.iter().map(|p| PyPerson { inner: p.clone() }).collect()
    }
    #[getter]
    fn page(&self) -> u64 {
        self.pagination.page
    }
    #[getter]
    fn page_size(&self) -> u64 {
        self.pagination.page_size
    }
    #[getter]
    fn total_pages(&self) -> u64 {
        self.pagination.total_pages
    }
    #[getter]
    fn total(&self) -> u64 {
        self.pagination.total
    }
    /// Whether ``next_page()`` has a page to fetch.
    #[getter]
    fn has_next_page(&self) -> bool {
        self.next_query().is_some()
    }

    /// The following page, or ``None`` after the last one.
    fn next_page(&self, py: Python<'_>) -> PyResult<Option<PySearchPage>> {
        self.next_query()
            .map(|q| fetch_page(py, self.client.clone(), q))
            .transpose()
    }

    /// Awaitable ``next_page``.
    fn next_page_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.next_query() {
            Some(q) => fetch_page_async(py, self.client.clone(), q),
            None => awaitable(py, async { Ok(None::<PySearchPage>) }),
        }
    }

    fn __len__(&self) -> usize {
        self.results.len()
    }

    fn __iter__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let list = pyo3::types::PyList::new(py, self.results())?;
        Ok(list.try_iter()?.into_any().unbind())
    }

    fn __repr__(&self) -> String {
        let p = &self.pagination;
        format!(
            "SearchPage(page={} of {}, {} results, total={})",
            p.page,
            p.total_pages,
            self.results.len(),
            p.total
        )
    }
}

/// Iterator returned by ``Person.search_iter``.
#[pyclass(module = "amplemarket._core", name = "SearchIterator")]
pub struct SearchIterator {
    client: Client,
    state: parking_lot::Mutex<(Option<SearchCursor>, VecDeque<Person>)>,
}

#[pymethods]
impl SearchIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<PyPerson>> {
        loop {
            let cursor = {
                let mut state = self.state.lock();
                if let Some(p) = state.1.pop_front() {
                    return Ok(Some(PyPerson { inner: Arc::new(p) }));
                }
                match state.0.take() {
                    Some(c) => c,
                    None => return Ok(None),
                }
            };
            let client = self.client.clone();
            let (cursor, page) = block_on(py, async move {
                let mut cursor = cursor;
                let page = cursor.next_page(&client).await;
                Ok((cursor, page))
            })?;
            let mut state = self.state.lock();
            match page {
                Ok(Some(people)) => {
                    state.0 = Some(cursor);
                    state.1.extend(people);
                }
                Ok(None) => return Ok(None),
                Err(e) => {
                    // The cursor stays where it was: calling next() again retries the same page.
                    state.0 = Some(cursor);
                    return Err(super::errors::to_pyerr(py, e));
                }
            }
        }
    }
}

type AsyncState = Arc<tokio::sync::Mutex<(SearchCursor, VecDeque<Person>)>>;

/// Async iterator returned by ``Person.search_iter_async``.
#[pyclass(frozen, module = "amplemarket._core", name = "AsyncSearchIterator")]
pub struct AsyncSearchIterator {
    client: Client,
    state: AsyncState,
}

#[pymethods]
impl AsyncSearchIterator {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let state = self.state.clone();
        let client = self.client.clone();
        awaitable_py(py, async move {
            let mut guard = state.lock().await;
            loop {
                if let Some(p) = guard.1.pop_front() {
                    return Ok(PyPerson { inner: Arc::new(p) });
                }
                match guard.0.next_page(&client).await {
                    Ok(Some(people)) => guard.1.extend(people),
                    Ok(None) => return Err(PyStopAsyncIteration::new_err(())),
                    Err(e) => return Err(Python::attach(|py| super::errors::to_pyerr(py, e))),
                }
            }
        })
    }
}
