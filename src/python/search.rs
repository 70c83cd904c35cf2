//! A model's searches, declared once for people and companies by `searches!`: `search` / `search_async` (one
//! page), `search_iter` / `search_iter_async` (every match), `SEARCH_FILTERS`, and the classes they return (the
//! page, by `search_page!`: iterable, with its `_pagination` numbers and `next_page()`; the iterators, by
//! `page_iterators!`). The filters come as `**filters`, named only by the core's list.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::core::people::SearchQuery;

macro_rules! searches {
    (
        $model:ident($listed:ty) as $class:literal, filters $filters:path, results $results:literal,
        page $page:ident as $page_name:literal, iterators $it:ident as $it_name:literal, $ait:ident as $ait_name:literal,
        search { $(#[doc = $doc:literal])* }
        search_iter { $(#[doc = $iter_doc:literal])* }
    ) => {
        $crate::python::twins::twins! {
            $(#[doc = $doc])*
            static $model, search / search_async, signature (*, page = 1, page_size = 10, client = None, **filters),
            |py, page: i64, page_size: i64, client: Option<&Bound<'_, $crate::python::client::PyClient>>, **filters|
                -> $page {
                let query = $crate::python::search::search_query("search", &$filters, filters, page, page_size)?;
                $crate::python::errors::checked(py, query.validate())?;
                $page::fetch($crate::python::client::resolve(py, client)?, query)
            }
        }

        impl $model {
            /// The pages `search_iter` hands out, its arguments checked when it is called.
            fn search_pages(
                py: Python<'_>,
                (page, page_size, max_results): (i64, i64, Option<i64>),
                client: Option<&Bound<'_, $crate::python::client::PyClient>>,
                filters: Option<&Bound<'_, pyo3::types::PyDict>>,
            ) -> PyResult<$crate::python::paging::Shared<$crate::core::paging::SearchPages<$listed>>> {
                let query = $crate::python::search::search_query("search_iter", &$filters, filters, page, page_size)?;
                let cursor = $crate::python::errors::checked(
                    py,
                    $crate::core::people::SearchCursor::new(query, max_results),
                )?;
                let pages = $crate::core::paging::SearchPages::new($crate::python::client::resolve(py, client)?, cursor);
                Ok($crate::python::paging::shared(pages))
            }
        }

        #[pyo3::pymethods]
        impl $model {
            $(#[doc = $iter_doc])*
            #[staticmethod]
            #[pyo3(signature = (*, page = 1, page_size = 100, max_results = None, client = None, **filters))]
            fn search_iter(
                py: Python<'_>, page: i64, page_size: i64, max_results: Option<i64>,
                client: Option<&Bound<'_, $crate::python::client::PyClient>>, filters: Option<&Bound<'_, pyo3::types::PyDict>>,
            ) -> PyResult<$it> {
                Self::search_pages(py, (page, page_size, max_results), client, filters).map($it)
            }

            /// Async iterator form of ``search_iter`` (``async for``).
            #[staticmethod]
            #[pyo3(signature = (*, page = 1, page_size = 100, max_results = None, client = None, **filters))]
            fn search_iter_async(
                py: Python<'_>,
                page: i64, page_size: i64, max_results: Option<i64>, client: Option<&Bound<'_, $crate::python::client::PyClient>>,
                filters: Option<&Bound<'_, pyo3::types::PyDict>>,
            ) -> PyResult<$ait> {
                Self::search_pages(py, (page, page_size, max_results), client, filters).map($ait)
            }

            /// The filters ``search`` and ``search_iter`` take, by name.
            #[classattr]
            #[allow(non_snake_case)]
            fn SEARCH_FILTERS(py: Python<'_>) -> PyResult<Py<pyo3::types::PyTuple>> {
                $crate::python::search::filter_names(py, &$filters)
            }
        }

        $crate::python::paging::page_iterators! {
            #[doc = concat!("Iterator returned by ``", $class, ".search_iter``.")]
            $it as $it_name, $ait as $ait_name, $crate::core::paging::SearchPages<$listed> => $model
        }

        $crate::python::search::search_page! {
            #[doc = concat!(
                "One page of ", $results, " search results: iterable, with its ``_pagination`` numbers and ``next_page()``."
            )]
            $page as $page_name, $listed => $model
        }
    };
}

pub(crate) use searches;

/// A search's `**filters` as its query: each a string or (but `person_name`) a list of strings, `None` leaving it
/// out (a name the search does not take is refused all the same); `names` are the filters this search takes.
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
        let values = (!value.is_none()).then(|| filter_values(&name, &value)).transpose()?;
        given.push((name, values));
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

macro_rules! search_page {
    (
        $(#[doc = $doc:expr])*
        $page:ident as $name:literal, $listed:ty => $item:ty
    ) => {
        $(#[doc = $doc])*
        #[pyo3::pyclass(frozen, module = "amplemarket._core", name = $name)]
        pub struct $page {
            results: Vec<std::sync::Arc<$listed>>,
            #[pyo3(get)]
            page: u64,
            #[pyo3(get)]
            page_size: u64,
            #[pyo3(get)]
            total_pages: u64,
            #[pyo3(get)]
            total: u64,
            query: $crate::core::people::SearchQuery,
            client: $crate::core::Client,
        }

        impl $page {
            /// The page `query` asks for, as a page that can fetch the following one.
            pub async fn fetch(
                client: $crate::core::Client,
                query: $crate::core::people::SearchQuery,
            ) -> $crate::core::Result<$page> {
                let found = $crate::core::people::search::<$listed>(&client, &query).await?;
                let $crate::core::models::Pagination { page, page_size, total_pages, total } = found.pagination;
                Ok($page {
                    results: found.results.into_iter().map(std::sync::Arc::new).collect(),
                    page,
                    page_size,
                    total_pages,
                    total,
                    query,
                    client,
                })
            }

            fn next_query(&self) -> Option<$crate::core::people::SearchQuery> {
                let more = !self.results.is_empty() && self.page < self.total_pages;
                more.then(|| $crate::core::people::SearchQuery {
                    page: (self.page as i64).max(self.query.page) + 1,
                    ..self.query.clone()
                })
            }
        }

        $crate::python::twins::twins! {
            /// The following page, or ``None`` after the last one.
            method $page, next_page / next_page_async, signature (), |slf, _py| -> Option<$page> {
                let (next, client) = (slf.get().next_query(), slf.get().client.clone());
                async move {
                    match next {
                        Some(query) => Ok(Some($page::fetch(client, query).await?)),
                        None => Ok(None),
                    }
                }
            }
        }

        #[pyo3::pymethods]
        impl $page {
            #[getter]
            fn results(&self) -> Vec<$item> {
                self.results.iter().cloned().map(<$item>::from).collect()
            }
            /// Whether ``next_page()`` has a page to fetch.
            #[getter]
            fn has_next_page(&self) -> bool {
                self.next_query().is_some()
            }

            fn __len__(&self) -> usize {
                self.results.len()
            }

            fn __iter__(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<pyo3::Py<pyo3::PyAny>> {
                use pyo3::types::PyAnyMethods;
                let list = pyo3::types::PyList::new(py, self.results())?;
                Ok(list.try_iter()?.into_any().unbind())
            }

            fn __repr__(&self) -> String {
                let (page, of, total, n) = (self.page, self.total_pages, self.total, self.results.len());
                format!("{}(page={page} of {of}, {n} results, total={total})", $name)
            }
        }
    };
}

pub(crate) use search_page;
