//! `Person`, `Company`, `PhoneNumber`: frozen objects over the parsed Rust data, each declared once by `model!` as
//! a table of its fields. Python values are made when an attribute is read; `to_dict()` returns exactly the JSON
//! the server sent.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;

use crate::core::models::{company_fields, key, person_fields, phone_fields, Company, Obj, Person, PhoneNumber};

static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Python objects for a piece of raw JSON (dicts, lists…), through the C `json.loads`.
pub fn loads_str<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    JSON_LOADS.import(py, "json", "loads")?.call1((text,))
}

/// `==` / `!=` between two objects by their JSON (`None`: the other is not of this type).
pub fn compare_json(py: Python<'_>, a: &str, b: Option<&str>, op: CompareOp) -> PyResult<Py<PyAny>> {
    let Some(b) = b else {
        return Ok(py.NotImplemented());
    };
    let eq = same_json(a, b);
    Ok(match op {
        CompareOp::Eq => eq.into_pyobject(py)?.to_owned().into_any().unbind(),
        CompareOp::Ne => (!eq).into_pyobject(py)?.to_owned().into_any().unbind(),
        _ => py.NotImplemented(),
    })
}

/// Value equality of two JSON texts (formatting and key order aside).
fn same_json(a: &str, b: &str) -> bool {
    a == b || serde_json::from_str::<serde_json::Value>(a).ok() == serde_json::from_str::<serde_json::Value>(b).ok()
}

/// The hash of one field's parsed value, as `==` compares: the same id written with other escapes hashes the same.
fn hash_of(obj: &Obj, key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    obj.get::<serde_json::Value>(key).map(|v| v.to_string()).hash(&mut h);
    h.finish()
}

/// How each kind of field reads: a value of another type than documented reads as `None`.
mod read {
    use pyo3::prelude::*;
    use pyo3::IntoPyObjectExt;

    use crate::core::models::{Obj, Person};

    use super::{PyCompany, PyPhoneNumber};

    pub fn text<'py>(py: Python<'py>, m: &impl AsRef<Obj>, k: &str) -> PyResult<Bound<'py, PyAny>> {
        m.as_ref().string(k).into_bound_py_any(py)
    }
    pub fn int<'py>(py: Python<'py>, m: &impl AsRef<Obj>, k: &str) -> PyResult<Bound<'py, PyAny>> {
        m.as_ref().get::<i64>(k).into_bound_py_any(py)
    }
    pub fn flag<'py>(py: Python<'py>, m: &impl AsRef<Obj>, k: &str) -> PyResult<Bound<'py, PyAny>> {
        m.as_ref().get::<bool>(k).into_bound_py_any(py)
    }
    pub fn ints<'py>(py: Python<'py>, m: &impl AsRef<Obj>, k: &str) -> PyResult<Bound<'py, PyAny>> {
        m.as_ref().get::<Vec<i64>>(k).into_bound_py_any(py)
    }
    pub fn texts<'py>(py: Python<'py>, m: &impl AsRef<Obj>, k: &str) -> PyResult<Bound<'py, PyAny>> {
        m.as_ref().get::<Vec<String>>(k).into_bound_py_any(py)
    }
    fn json<'py>(py: Python<'py>, o: &Obj, k: &str, open: char) -> PyResult<Bound<'py, PyAny>> {
        match o.raw(k).filter(|r| r.starts_with(open)) {
            Some(r) => super::loads_str(py, r),
            None => Ok(py.None().into_bound(py)),
        }
    }
    pub fn dict<'py>(py: Python<'py>, m: &impl AsRef<Obj>, k: &str) -> PyResult<Bound<'py, PyAny>> {
        json(py, m.as_ref(), k, '{')
    }
    pub fn list<'py>(py: Python<'py>, m: &impl AsRef<Obj>, k: &str) -> PyResult<Bound<'py, PyAny>> {
        json(py, m.as_ref(), k, '[')
    }
    pub fn phones<'py>(py: Python<'py>, p: &Person, _: &str) -> PyResult<Bound<'py, PyAny>> {
        let phones = p
            .phone_numbers
            .as_ref()
            .map(|l| l.iter().cloned().map(PyPhoneNumber::from).collect::<Vec<_>>());
        phones.into_bound_py_any(py)
    }
    pub fn company<'py>(py: Python<'py>, p: &Person, _: &str) -> PyResult<Bound<'py, PyAny>> {
        p.company.clone().map(PyCompany::from).into_bound_py_any(py)
    }
}

/// `to_dict`, `to_json`, `from_json`, pickling (through `from_json`) and `==` by JSON, for a class whose JSON text
/// is `$json` of its `inner` and which `$parse` rebuilds from that text.
macro_rules! json_methods {
    ($ty:ty, $to_dict:literal, json |$inner:ident| $json:expr, parse |$text:ident| $parse:expr) => {
        #[pyo3::pymethods]
        impl $ty {
            #[doc = $to_dict]
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                $crate::python::models::loads_str(py, self.json().as_ref())
            }

            /// ``to_dict()`` as JSON text.
            fn to_json(&self) -> String {
                self.json().into()
            }

            /// Rebuilds an object from ``to_json()`` output (used by pickle).
            #[classmethod]
            fn from_json(_cls: &Bound<'_, pyo3::types::PyType>, $text: &str) -> PyResult<Self> {
                $parse.map_err(pyo3::exceptions::PyValueError::new_err)
            }

            fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
                Ok((slf.get_type().getattr("from_json")?, (slf.get().json().into(),)))
            }

            fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: pyo3::pyclass::CompareOp) -> PyResult<Py<PyAny>> {
                let theirs = other.cast::<Self>().ok().map(|o| o.get().json().into_owned());
                $crate::python::models::compare_json(other.py(), self.json().as_ref(), theirs.as_deref(), op)
            }
        }

        impl $ty {
            fn json(&self) -> std::borrow::Cow<'_, str> {
                let $inner = &self.inner;
                $json.into()
            }
        }
    };
}

pub(crate) use json_methods;

/// Declares a model class over a core type holding an `obj: Obj`, from the core's field table
/// (`person_fields!(model! { … })`): a getter per field (its kind names the `read` function), `FIELDS` (the
/// table's names), and what every model shares: `id`, `object`, `to_dict`, `to_json`, `from_json`, pickling, `==`
/// by JSON and a hash by one field.
macro_rules! model {
    (
        $(#[doc = $doc:literal])*
        $py_ty:ident($core_ty:ident) as $name:literal, hash by $hash:literal, $(html by $html:literal,)?
        fields { $( $(#[doc = $fdoc:literal])* $kind:ident $field:ident $(as $key:literal)? ),* $(,)? }
    ) => {
        $(#[doc = $doc])*
        #[pyclass(frozen, module = "amplemarket._core", name = $name)]
        pub struct $py_ty {
            pub inner: Arc<$core_ty>,
        }

        impl From<$core_ty> for $py_ty {
            fn from(inner: $core_ty) -> Self {
                $py_ty { inner: Arc::new(inner) }
            }
        }

        impl From<Arc<$core_ty>> for $py_ty {
            fn from(inner: Arc<$core_ty>) -> Self {
                $py_ty { inner }
            }
        }

        #[pymethods]
        impl $py_ty {
            $(
                $(#[doc = $fdoc])*
                #[getter]
                fn $field<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                    read::$kind(py, &*self.inner, key!($field $($key)?))
                }
            )*

            /// The API's id of this object.
            #[getter]
            fn id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                read::text(py, &*self.inner, "id")
            }

            /// The API's name for this kind of object: ``"person"``, ``"company"``, ``"phone_number"``…
            #[getter]
            fn object<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                read::text(py, &*self.inner, "object")
            }

            /// The names of this class's fields, in the API's order.
            #[classattr]
            #[allow(non_snake_case)]
            fn FIELDS(py: Python<'_>) -> PyResult<Py<PyTuple>> {
                let names: &[&str] = &["id", "object", $(key!($field $($key)?),)*];
                Ok(PyTuple::new(py, names)?.unbind())
            }

            fn __hash__(&self) -> u64 {
                hash_of(&self.inner.obj, $hash)
            }
        }

        $(
            #[pymethods]
            impl $py_ty {
                /// The card Jupyter shows, drawn by `amplemarket._display`.
                fn _repr_html_(slf: &Bound<'_, Self>) -> PyResult<String> {
                    html(slf.as_any(), $html)
                }
            }
        )?

        json_methods!($py_ty, "Exactly the JSON the server sent, as Python objects, unknown fields included.",
            json |inner| inner.obj.text(), parse |text| $core_ty::from_json(text).map(Self::from));
    };
}

person_fields!(model! {
    /// A person (a B2B contact) as the API returns it.
    PyPerson(Person) as "Person", hash by "id", html by "person_html",
});

#[pymethods]
impl PyPerson {
    fn __repr__(&self) -> String {
        let company = self.inner.company.as_ref().and_then(|c| c.obj.string("name"));
        labelled(
            "Person",
            &self.inner.obj,
            &["name", "title"],
            &[("company", company), ("email", self.inner.obj.string("email"))],
        )
    }
}

company_fields!(model! {
    /// A company as the API returns it.
    PyCompany(Company) as "Company", hash by "id", html by "company_html",
});

#[pymethods]
impl PyCompany {
    fn __repr__(&self) -> String {
        labelled("Company", &self.inner.obj, &["name", "website", "industry"], &[])
    }
}

phone_fields!(model! {
    /// A revealed phone number.
    PyPhoneNumber(PhoneNumber) as "PhoneNumber", hash by "number",
});

#[pymethods]
impl PyPhoneNumber {
    fn __repr__(&self) -> String {
        let f = &self.inner.obj;
        format!(
            "PhoneNumber(number={:?}, type={:?})",
            f.string("number").unwrap_or_default(),
            f.string("type").unwrap_or_default()
        )
    }
}

/// `Class(name="…", field="…", …)`: `name` always, the other fields and `more` when they have a value.
fn labelled(class: &str, obj: &Obj, fields: &[&str], more: &[(&str, Option<String>)]) -> String {
    let mut parts = vec![format!("name={:?}", obj.string("name").unwrap_or_default())];
    let given = fields[1..].iter().map(|k| (*k, obj.string(k)));
    for (k, v) in given.chain(more.iter().map(|(k, v)| (*k, v.clone()))) {
        if let Some(v) = v {
            parts.push(format!("{k}={v:?}"));
        }
    }
    format!("{class}({})", parts.join(", "))
}

fn html(obj: &Bound<'_, PyAny>, function: &str) -> PyResult<String> {
    obj.py()
        .import("amplemarket._display")?
        .getattr(function)?
        .call1((obj,))?
        .extract()
}
