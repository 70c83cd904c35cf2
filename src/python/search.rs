//! `search_page!`: the page class a search returns (`SearchPage` for people, `CompanySearchPage` for companies),
//! declared once for both: iterable, with its `_pagination` numbers and `next_page()` / `next_page_async()`.

macro_rules! search_page {
    (
        $(#[doc = $doc:literal])*
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
