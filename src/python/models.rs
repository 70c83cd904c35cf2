//! `Person`, `Company`, `PhoneNumber`: frozen objects over the parsed Rust data. Python values are made when an
//! attribute is read; `to_dict()` returns exactly the JSON the server sent.

use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use serde_json::value::RawValue;

use crate::core::models::{Company, Person, PhoneNumber};

static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Python objects for a piece of raw JSON (dicts, lists…), through the C `json.loads`.
pub fn loads<'py>(py: Python<'py>, raw: &RawValue) -> PyResult<Bound<'py, PyAny>> {
    loads_str(py, raw.get())
}

pub fn loads_str<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    JSON_LOADS.import(py, "json", "loads")?.call1((text,))
}

/// A dict (`open = '{'`) or list (`open = '['`) field; a value of another type reads as `None`, like the
/// scalar fields do.
fn loads_opt<'py>(py: Python<'py>, raw: &Option<Box<RawValue>>, open: char) -> PyResult<Option<Bound<'py, PyAny>>> {
    raw.as_deref()
        .filter(|r| r.get().trim_start().starts_with(open))
        .map(|r| loads(py, r))
        .transpose()
}

fn raw_from(text: &str) -> PyResult<Box<RawValue>> {
    RawValue::from_string(text.to_string()).map_err(|e| PyValueError::new_err(format!("not valid JSON: {e}")))
}

/// Value equality of two JSON texts (formatting and key order aside).
fn same_json(a: &RawValue, b: &RawValue) -> bool {
    a.get() == b.get()
        || serde_json::from_str::<serde_json::Value>(a.get()).ok()
            == serde_json::from_str::<serde_json::Value>(b.get()).ok()
}

fn html<'py>(py: Python<'py>, function: &str, obj: Bound<'py, PyAny>) -> PyResult<String> {
    py.import("amplemarket._display")?
        .getattr(function)?
        .call1((obj,))?
        .extract()
}

/// A person (a B2B contact) as the API returns it.
#[pyclass(frozen, module = "amplemarket._core", name = "Person")]
pub struct PyPerson {
    pub inner: Arc<Person>,
}

#[pymethods]
impl PyPerson {
    /// ID of the person.
    #[getter]
    fn id(&self) -> Option<&str> {
        self.inner.fields.id.as_deref()
    }
    /// Object type (``"person"``).
    #[getter]
    fn object(&self) -> Option<&str> {
        self.inner.fields.object.as_deref()
    }
    #[getter]
    fn name(&self) -> Option<&str> {
        self.inner.fields.name.as_deref()
    }
    #[getter]
    fn first_name(&self) -> Option<&str> {
        self.inner.fields.first_name.as_deref()
    }
    #[getter]
    fn last_name(&self) -> Option<&str> {
        self.inner.fields.last_name.as_deref()
    }
    #[getter]
    fn linkedin_url(&self) -> Option<&str> {
        self.inner.fields.linkedin_url.as_deref()
    }
    /// The email address, when revealed (``reveal_email=True``).
    #[getter]
    fn email(&self) -> Option<&str> {
        self.inner.fields.email.as_deref()
    }
    /// ``"male"``, ``"female"``, or another value the API adds later.
    #[getter]
    fn gender(&self) -> Option<&str> {
        self.inner.fields.gender.as_deref()
    }
    #[getter]
    fn title(&self) -> Option<&str> {
        self.inner.fields.title.as_deref()
    }
    #[getter]
    fn headline(&self) -> Option<&str> {
        self.inner.fields.headline.as_deref()
    }
    #[getter]
    fn about(&self) -> Option<&str> {
        self.inner.fields.about.as_deref()
    }
    #[getter]
    fn current_position_start_date(&self) -> Option<&str> {
        self.inner.fields.current_position_start_date.as_deref()
    }
    #[getter]
    fn current_position_description(&self) -> Option<&str> {
        self.inner.fields.current_position_description.as_deref()
    }
    #[getter]
    fn location(&self) -> Option<&str> {
        self.inner.fields.location.as_deref()
    }
    #[getter]
    fn image_url(&self) -> Option<&str> {
        self.inner.fields.image_url.as_deref()
    }
    /// ``{"city": ..., "state": ..., "country": ...}``.
    #[getter]
    fn location_details<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loads_opt(py, &self.inner.fields.location_details, '{')
    }
    /// A list of experience dicts (company, title, dates…).
    #[getter]
    fn experiences<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loads_opt(py, &self.inner.fields.experiences, '[')
    }
    #[getter]
    fn educations<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loads_opt(py, &self.inner.fields.educations, '[')
    }
    #[getter]
    fn languages<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loads_opt(py, &self.inner.fields.languages, '[')
    }
    /// The phone numbers, when revealed (``reveal_phone_numbers=True``); ``None`` otherwise.
    #[getter]
    fn phone_numbers(&self) -> Option<Vec<PyPhoneNumber>> {
        self.inner
            .phone_numbers
            .as_ref()
            .map(|v| v.iter().map(|p| PyPhoneNumber { inner: p.clone() }).collect())
    }
    /// The company the person works for now.
    #[getter]
    fn company(&self) -> Option<PyCompany> {
        self.inner.company.as_ref().map(|c| PyCompany { inner: c.clone() })
    }

    /// The person exactly as the server sent it, unknown fields included.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        loads(py, &self.inner.raw)
    }

    /// The JSON text the server sent for this person.
    fn to_json(&self) -> &str {
        self.inner.raw.get()
    }

    /// Rebuilds a person from ``to_json()`` output (used by pickle).
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, text: &str) -> PyResult<PyPerson> {
        let p = Person::from_raw(raw_from(text)?).map_err(PyValueError::new_err)?;
        Ok(PyPerson { inner: Arc::new(p) })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((
            slf.get_type().getattr("from_json")?,
            (slf.get().inner.raw.get().to_string(),),
        ))
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let Ok(other) = other.cast::<PyPerson>() else {
            return Ok(py.NotImplemented());
        };
        let eq = same_json(&self.inner.raw, &other.get().inner.raw);
        Ok(match op {
            CompareOp::Eq => eq.into_pyobject(py)?.to_owned().into_any().unbind(),
            CompareOp::Ne => (!eq).into_pyobject(py)?.to_owned().into_any().unbind(),
            _ => py.NotImplemented(),
        })
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.inner.fields.id.hash(&mut h);
        h.finish()
    }

    fn __repr__(&self) -> String {
        let f = &self.inner.fields;
        let mut parts = vec![format!("name={:?}", f.name.as_deref().unwrap_or(""))];
        if let Some(t) = &f.title {
            parts.push(format!("title={t:?}"));
        }
        if let Some(c) = self.inner.company.as_ref().and_then(|c| c.fields.name.as_ref()) {
            parts.push(format!("company={c:?}"));
        }
        if let Some(e) = &f.email {
            parts.push(format!("email={e:?}"));
        }
        format!("Person({})", parts.join(", "))
    }

    fn _repr_html_(slf: &Bound<'_, Self>) -> PyResult<String> {
        html(slf.py(), "person_html", slf.clone().into_any())
    }
}

/// A company as the API returns it.
#[pyclass(frozen, module = "amplemarket._core", name = "Company")]
pub struct PyCompany {
    pub inner: Arc<Company>,
}

#[pymethods]
impl PyCompany {
    /// Amplemarket ID of the company.
    #[getter]
    fn id(&self) -> Option<&str> {
        self.inner.fields.id.as_deref()
    }
    /// Object type (``"company"``).
    #[getter]
    fn object(&self) -> Option<&str> {
        self.inner.fields.object.as_deref()
    }
    #[getter]
    fn name(&self) -> Option<&str> {
        self.inner.fields.name.as_deref()
    }
    #[getter]
    fn linkedin_url(&self) -> Option<&str> {
        self.inner.fields.linkedin_url.as_deref()
    }
    #[getter]
    fn website(&self) -> Option<&str> {
        self.inner.fields.website.as_deref()
    }
    #[getter]
    fn overview(&self) -> Option<&str> {
        self.inner.fields.overview.as_deref()
    }
    #[getter]
    fn logo_url(&self) -> Option<&str> {
        self.inner.fields.logo_url.as_deref()
    }
    #[getter]
    fn founded_year(&self) -> Option<i64> {
        self.inner.fields.founded_year
    }
    #[getter]
    fn traffic_rank(&self) -> Option<i64> {
        self.inner.fields.traffic_rank
    }
    #[getter]
    fn sic_codes(&self) -> Option<Vec<i64>> {
        self.inner.fields.sic_codes.clone()
    }
    #[getter]
    fn naics_codes(&self) -> Option<Vec<i64>> {
        self.inner.fields.naics_codes.clone()
    }
    /// Type of the company (``"Public Company"``, ``"Privately Held"``…); the API's field ``type``.
    #[getter]
    fn r#type(&self) -> Option<&str> {
        self.inner.fields.kind.as_deref()
    }
    #[getter]
    fn total_funding(&self) -> Option<i64> {
        self.inner.fields.total_funding
    }
    #[getter]
    fn latest_funding_stage(&self) -> Option<&str> {
        self.inner.fields.latest_funding_stage.as_deref()
    }
    #[getter]
    fn latest_funding_date(&self) -> Option<&str> {
        self.inner.fields.latest_funding_date.as_deref()
    }
    #[getter]
    fn keywords(&self) -> Option<Vec<String>> {
        self.inner.fields.keywords.clone()
    }
    #[getter]
    fn estimated_number_of_employees(&self) -> Option<i64> {
        self.inner.fields.estimated_number_of_employees
    }
    /// Followers on LinkedIn.
    #[getter]
    fn followers(&self) -> Option<i64> {
        self.inner.fields.followers
    }
    /// Self-reported size, such as ``"201-500 employees"``.
    #[getter]
    fn size(&self) -> Option<&str> {
        self.inner.fields.size.as_deref()
    }
    #[getter]
    fn industry(&self) -> Option<&str> {
        self.inner.fields.industry.as_deref()
    }
    #[getter]
    fn location(&self) -> Option<&str> {
        self.inner.fields.location.as_deref()
    }
    #[getter]
    fn location_details<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loads_opt(py, &self.inner.fields.location_details, '{')
    }
    /// A list of location dicts (``address``, ``is_primary``, ``country``).
    #[getter]
    fn locations<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loads_opt(py, &self.inner.fields.locations, '[')
    }
    #[getter]
    fn is_b2b(&self) -> Option<bool> {
        self.inner.fields.is_b2b
    }
    #[getter]
    fn is_b2c(&self) -> Option<bool> {
        self.inner.fields.is_b2c
    }
    #[getter]
    fn technologies(&self) -> Option<Vec<String>> {
        self.inner.fields.technologies.clone()
    }
    /// Headcount by department, a dict of name to count.
    #[getter]
    fn department_headcount<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loads_opt(py, &self.inner.fields.department_headcount, '{')
    }
    #[getter]
    fn job_function_headcount<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loads_opt(py, &self.inner.fields.job_function_headcount, '{')
    }
    /// Estimated annual revenue, such as ``"$10M-$50M"``.
    #[getter]
    fn estimated_revenue(&self) -> Option<&str> {
        self.inner.fields.estimated_revenue.as_deref()
    }
    #[getter]
    fn revenue(&self) -> Option<i64> {
        self.inner.fields.revenue
    }

    /// The company exactly as the server sent it, unknown fields included.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        loads(py, &self.inner.raw)
    }

    fn to_json(&self) -> &str {
        self.inner.raw.get()
    }

    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, text: &str) -> PyResult<PyCompany> {
        let c = Company::from_raw(raw_from(text)?).map_err(PyValueError::new_err)?;
        Ok(PyCompany { inner: Arc::new(c) })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((
            slf.get_type().getattr("from_json")?,
            (slf.get().inner.raw.get().to_string(),),
        ))
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let Ok(other) = other.cast::<PyCompany>() else {
            return Ok(py.NotImplemented());
        };
        let eq = same_json(&self.inner.raw, &other.get().inner.raw);
        Ok(match op {
            CompareOp::Eq => eq.into_pyobject(py)?.to_owned().into_any().unbind(),
            CompareOp::Ne => (!eq).into_pyobject(py)?.to_owned().into_any().unbind(),
            _ => py.NotImplemented(),
        })
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.inner.fields.id.hash(&mut h);
        h.finish()
    }

    fn __repr__(&self) -> String {
        let f = &self.inner.fields;
        let mut parts = vec![format!("name={:?}", f.name.as_deref().unwrap_or(""))];
        if let Some(w) = &f.website {
            parts.push(format!("website={w:?}"));
        }
        if let Some(i) = &f.industry {
            parts.push(format!("industry={i:?}"));
        }
        format!("Company({})", parts.join(", "))
    }

    fn _repr_html_(slf: &Bound<'_, Self>) -> PyResult<String> {
        html(slf.py(), "company_html", slf.clone().into_any())
    }
}

/// A revealed phone number.
#[pyclass(frozen, module = "amplemarket._core", name = "PhoneNumber")]
pub struct PyPhoneNumber {
    pub inner: Arc<PhoneNumber>,
}

#[pymethods]
impl PyPhoneNumber {
    #[getter]
    fn id(&self) -> Option<&str> {
        self.inner.fields.id.as_deref()
    }
    #[getter]
    fn object(&self) -> Option<&str> {
        self.inner.fields.object.as_deref()
    }
    /// The number, such as ``"+1 123456789"``.
    #[getter]
    fn number(&self) -> Option<&str> {
        self.inner.fields.number.as_deref()
    }
    /// ``"mobile"``, ``"work"``, ``"landline"``, or another value the API adds later; the API's field ``type``.
    #[getter]
    fn r#type(&self) -> Option<&str> {
        self.inner.fields.kind.as_deref()
    }
    #[getter]
    fn source(&self) -> Option<&str> {
        self.inner.fields.source.as_deref()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        loads(py, &self.inner.raw)
    }

    fn to_json(&self) -> &str {
        self.inner.raw.get()
    }

    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, text: &str) -> PyResult<PyPhoneNumber> {
        let p = PhoneNumber::from_raw(raw_from(text)?).map_err(PyValueError::new_err)?;
        Ok(PyPhoneNumber { inner: Arc::new(p) })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((
            slf.get_type().getattr("from_json")?,
            (slf.get().inner.raw.get().to_string(),),
        ))
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let Ok(other) = other.cast::<PyPhoneNumber>() else {
            return Ok(py.NotImplemented());
        };
        let eq = same_json(&self.inner.raw, &other.get().inner.raw);
        Ok(match op {
            CompareOp::Eq => eq.into_pyobject(py)?.to_owned().into_any().unbind(),
            CompareOp::Ne => (!eq).into_pyobject(py)?.to_owned().into_any().unbind(),
            _ => py.NotImplemented(),
        })
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.inner.fields.number.hash(&mut h);
        h.finish()
    }

    fn __repr__(&self) -> String {
        let f = &self.inner.fields;
        format!(
            "PhoneNumber(number={:?}, type={:?})",
            f.number.as_deref().unwrap_or(""),
            f.kind.as_deref().unwrap_or("")
        )
    }
}
