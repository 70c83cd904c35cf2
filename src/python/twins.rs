//! `twins!`: each operation declared once. An entry gives the docstring, the Python signature, the arguments and a
//! body that checks the input and returns the future doing the work (its `Ok` value converts to Python); the macro
//! emits the blocking method (`block_on`: GIL released, Ctrl-C checked) and its awaitable twin `<name>_async`
//! (`awaitable`: cancelled with its task). Both take the same arguments and refuse the same input at the same
//! moment, when called, because they run the same body.
//!
//! ```ignore
//! twins! {
//!     /// Finds a company by ``domain`` or ``linkedin_url``; ``None`` when none matches.
//!     static PyCompany, find / find_async, signature (*, domain = None, linkedin_url = None, client = None),
//!     |py, domain: Option<String>, linkedin_url: Option<String>, client: Option<&Bound<'_, PyClient>>|
//!         -> Option<PyCompany> {
//!         let client = resolve(py, client)?;
//!         async move { Ok(companies::find(&client, domain.as_deref(), linkedin_url.as_deref()).await?.map(Into::into)) }
//!     }
//! }
//! ```
//!
//! A last argument `**filters` takes the keywords the signature does not name, as an optional dict.
//! `static` declares a static method; `method` one that receives the object as `slf: Py<Self>`. (The searches'
//! iterator methods, `search_iter` / `search_iter_async`, are declared by `searches!` in `search.rs`.)

macro_rules! twins {
    (
        $(#[doc = $doc:literal])*
        static $ty:ty, $name:ident / $name_async:ident, signature $sig:tt,
        |$py:ident $(, $arg:ident : $argty:ty)* $(, **$kw:ident)? $(,)?| -> $ret:ty $body:block
    ) => {
        twins!(@emit [#[staticmethod]] [] [$(#[doc = $doc])*] $ty, $name, $name_async, $sig, $py, [$($arg: $argty),*] [$($kw)?], $ret, $body);
    };
    (
        $(#[doc = $doc:literal])*
        method $ty:ty, $name:ident / $name_async:ident, signature $sig:tt,
        |$slf:ident, $py:ident $(, $arg:ident : $argty:ty)* $(,)?| -> $ret:ty $body:block
    ) => {
        twins!(@emit [] [$slf: pyo3::Py<Self>,] [$(#[doc = $doc])*] $ty, $name, $name_async, $sig, $py, [$($arg: $argty),*] [], $ret, $body);
    };
    (@emit [$($kind:tt)*] [$($receiver:tt)*] [$($doc:tt)*] $ty:ty, $name:ident, $name_async:ident, $sig:tt, $py:ident,
     [$($arg:ident : $argty:ty),*] [$($kw:ident)?], $ret:ty, $body:block) => {
        #[pyo3::pymethods]
        impl $ty {
            $($doc)*
            $($kind)*
            #[pyo3(signature = $sig)]
            #[allow(clippy::too_many_arguments)]
            fn $name(
                $($receiver)* $py: pyo3::Python<'_>,
                $($arg: $argty,)*
                $($kw: Option<&pyo3::Bound<'_, pyo3::types::PyDict>>)?
            ) -> pyo3::PyResult<$ret> {
                let work = $body;
                $crate::python::runtime::block_on($py, work)
            }

            #[doc = concat!("Awaitable ``", stringify!($name), "``: the same arguments, checked when called.")]
            $($kind)*
            #[pyo3(signature = $sig)]
            #[allow(clippy::too_many_arguments)]
            fn $name_async<'py>(
                $($receiver)* $py: pyo3::Python<'py>,
                $($arg: $argty,)*
                $($kw: Option<&pyo3::Bound<'_, pyo3::types::PyDict>>)?
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                let work = $body;
                $crate::python::runtime::awaitable($py, work)
            }
        }
    };
}

pub(crate) use twins;
