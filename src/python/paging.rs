//! One iterator design for every paged listing: `page_iterators!` declares the blocking and the async iterator
//! classes over a `core::paging::Pages`, converting each item to its Python class with `From`.

macro_rules! page_iterators {
    (
        $(#[doc = $doc:expr])*
        $sync:ident as $sync_name:literal, $asynch:ident as $async_name:literal, $pages:ty => $item:ty
    ) => {
        $(#[doc = $doc])*
        #[pyo3::pyclass(frozen, module = "amplemarket._core", name = $sync_name)]
        pub struct $sync(pub(crate) $crate::python::paging::Shared<$pages>);

        #[doc = concat!("Async form of ``", $sync_name, "`` (``async for``).")]
        #[pyo3::pyclass(frozen, module = "amplemarket._core", name = $async_name)]
        pub struct $asynch(pub(crate) $crate::python::paging::Shared<$pages>);

        #[pyo3::pymethods]
        impl $sync {
            fn __iter__(slf: pyo3::PyRef<'_, Self>) -> pyo3::PyRef<'_, Self> {
                slf
            }

            fn __next__(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<Option<$item>> {
                use $crate::core::paging::Pages;
                // Items already fetched are handed out without a trip through the runtime.
                if let Ok(mut pages) = self.0.try_lock() {
                    if let Some(item) = pages.buffered() {
                        return Ok(Some(<$item>::from(item)));
                    }
                }
                let pages = self.0.clone();
                let next = $crate::python::runtime::block_on(py, async move { pages.lock().await.next_item().await })?;
                Ok(next.map(<$item>::from))
            }
        }

        #[pyo3::pymethods]
        impl $asynch {
            fn __aiter__(slf: pyo3::PyRef<'_, Self>) -> pyo3::PyRef<'_, Self> {
                slf
            }

            fn __anext__<'py>(&self, py: pyo3::Python<'py>) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                use $crate::core::paging::Pages;
                let pages = self.0.clone();
                $crate::python::runtime::awaitable(py, async move {
                    let next = pages.lock().await.next_item().await?;
                    Ok($crate::python::paging::Item(next.map(<$item>::from)))
                })
            }
        }
    };
}

pub(crate) use page_iterators;

/// The pages an iterator object hands out, shared with the runtime task that fetches the next one.
pub type Shared<P> = std::sync::Arc<tokio::sync::Mutex<P>>;

pub fn shared<P>(pages: P) -> Shared<P> {
    std::sync::Arc::new(tokio::sync::Mutex::new(pages))
}

/// The next item of an async iteration, or its end: `StopAsyncIteration` once it reaches Python (on the event
/// loop's thread, so the tokio thread that fetched the page never takes the GIL).
pub struct Item<T>(pub Option<T>);

impl<'py, T: pyo3::IntoPyObject<'py>> pyo3::IntoPyObject<'py> for Item<T> {
    type Target = pyo3::PyAny;
    type Output = pyo3::Bound<'py, pyo3::PyAny>;
    type Error = pyo3::PyErr;

    fn into_pyobject(self, py: pyo3::Python<'py>) -> pyo3::PyResult<Self::Output> {
        use pyo3::IntoPyObjectExt;
        match self.0 {
            Some(item) => item.into_bound_py_any(py),
            None => Err(pyo3::exceptions::PyStopAsyncIteration::new_err(())),
        }
    }
}
