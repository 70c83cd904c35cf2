//! `Person`, `Company`, `PhoneNumber`: frozen objects over the parsed Rust data. Python values are made when an
//! attribute is read; `to_dict()` returns exactly the JSON the server sent.

use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

use crate::core::models::{Company, Person, PhoneNumber};

static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Python objects for a piece of raw JSON (dicts, lists…), through the C `json.loads`.
pub fn loads_str<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    JSON_LOADS.import(py, "json", "loads")?.call1((text,))
}

/// A dict (`open = '{'`) or list (`open = '['`) field; a value of another type reads as `None`, like the
/// scalar fields do.
fn loads_opt<'py>(py: Python<'py>, raw: Option<&str>, open: char) -> PyResult<Option<Bound<'py, PyAny>>> {
    raw.filter(|r| r.starts_with(open))
        .map(|r| loads_str(py, r))
        .transpose()
}

/// Value equality of two JSON texts (formatting and key order aside).
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

fn same_json(a: &str, b: &str) -> bool {
    a == b || serde_json::from_str::<serde_json::Value>(a).ok() == serde_json::from_str::<serde_json::Value>(b).ok()
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
    fn id(&self) -> Option<String> {
        self.inner.obj.string("id")
    }
    /// Object type (``"person"``).
    #[getter]
    fn object(&self) -> Option<String> {
        self.inner.obj.string("object")
    }
    #[getter]
    fn name(&self) -> Option<String> {
        self.inner.obj.string("name")
    }
    #[getter]
    fn first_name(&self) -> Option<String> {
        self.inner.obj.string("first_name")
    }
    #[getter]
    fn last_name(&self) -> Option<String> {
        self.inner.obj.string("last_name")
    }
    #[getter]
    fn linkedin_url(&self) -> Option<String> {
        self.inner.obj.string("linkedin_url")
    }
    /// The email address, when revealed (``reveal_email=True``).
    #[getter]
    fn email(&self) -> Option<String> {
        self.inner.obj.string("email")
    }
    /// ``"male"``, ``"female"``, or another value the API adds later.
    #[getter]
    fn gender(&self) -> Option<String> {
        self.inner.obj.string("gender")
    }
    #[getter]
    fn title(&self) -> Option<String> {
        self.inner.obj.string("title")
    }
    #[getter]
    fn headline(&self) -> Option<String> {
        self.inner.obj.string("headline")
    }
    #[getter]
    fn about(&self) -> Option<String> {
        self.inner.obj.string("about")
    }
    #[getter]
    fn current_position_start_date(&self) -> Option<String> {
        self.inner.obj.string("current_position_start_date")
    }
    #[getter]
    fn current_position_description(&self) -> Option<String> {
        self.inner.obj.string("current_position_description")
    }
    #[getter]
    fn location(&self) -> Option<String> {
        self.inner.obj.string("location")
    }
    #[getter]
    fn image_url(&self) -> Option<String> {
        self.inner.obj.string("image_url")
    }
    /// ``{"city": ..., "state": ..., "country": ...}``.
    #[getter]
    fn location_details<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loads_opt(py, self.inner.obj.raw("location_details"), '{')
    }
    /// A list of experience dicts (company, title, dates…).
    #[getter]
    fn experiences<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loads_opt(py, self.inner.obj.raw("experiences"), '[')
    }
    #[getter]
    fn educations<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loads_opt(py, self.inner.obj.raw("educations"), '[')
    }
    #[getter]
    fn languages<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loads_opt(py, self.inner.obj.raw("languages"), '[')
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
        loads_str(py, self.inner.obj.text())
    }

    /// The JSON text the server sent for this person.
    fn to_json(&self) -> &str {
        self.inner.obj.text()
    }

    /// Rebuilds a person from ``to_json()`` output (used by pickle).
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, text: &str) -> PyResult<PyPerson> {
        let p = Person::from_json(text).map_err(PyValueError::new_err)?;
        Ok(PyPerson { inner: Arc::new(p) })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((
            slf.get_type().getattr("from_json")?,
            (slf.get().inner.obj.text().to_string(),),
        ))
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let that = other.cast::<PyPerson>().ok();
        compare_json(
            other.py(),
            self.inner.obj.text(),
            that.as_ref().map(|o| o.get().inner.obj.text()),
            op,
        )
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        // The parsed value, as `==` compares: the same id written with other escapes hashes the same.
        self.inner
            .obj
            .get::<serde_json::Value>("id")
            .map(|v| v.to_string())
            .hash(&mut h);
        h.finish()
    }

    fn __repr__(&self) -> String {
        let f = &self.inner.obj;
        let mut parts = vec![format!("name={:?}", f.string("name").unwrap_or_default())];
        if let Some(t) = f.string("title") {
            parts.push(format!("title={t:?}"));
        }
        if let Some(c) = self.inner.company.as_ref().and_then(|c| c.obj.string("name")) {
            parts.push(format!("company={c:?}"));
        }
        if let Some(e) = f.string("email") {
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
    fn id(&self) -> Option<String> {
        self.inner.obj.string("id")
    }
    /// Object type (``"company"``).
    #[getter]
    fn object(&self) -> Option<String> {
        self.inner.obj.string("object")
    }
    #[getter]
    fn name(&self) -> Option<String> {
        self.inner.obj.string("name")
    }
    #[getter]
    fn linkedin_url(&self) -> Option<String> {
        self.inner.obj.string("linkedin_url")
    }
    #[getter]
    fn website(&self) -> Option<String> {
        self.inner.obj.string("website")
    }
    #[getter]
    fn overview(&self) -> Option<String> {
        self.inner.obj.string("overview")
    }
    #[getter]
    fn logo_url(&self) -> Option<String> {
        self.inner.obj.string("logo_url")
    }
    #[getter]
    fn founded_year(&self) -> Option<i64> {
        self.inner.obj.get("founded_year")
    }
    #[getter]
    fn traffic_rank(&self) -> Option<i64> {
        self.inner.obj.get("traffic_rank")
    }
    #[getter]
    fn sic_codes(&self) -> Option<Vec<i64>> {
        self.inner.obj.get("sic_codes")
    }
    #[getter]
    fn naics_codes(&self) -> Option<Vec<i64>> {
        self.inner.obj.get("naics_codes")
    }
    /// Type of the company (``"Public Company"``, ``"Privately Held"``…); the API's field ``type``.
    #[getter]
    fn r#type(&self) -> Option<String> {
        self.inner.obj.string("type")
    }
    #[getter]
    fn total_funding(&self) -> Option<i64> {
        self.inner.obj.get("total_funding")
    }
    #[getter]
    fn latest_funding_stage(&self) -> Option<String> {
        self.inner.obj.string("latest_funding_stage")
    }
    #[getter]
    fn latest_funding_date(&self) -> Option<String> {
        self.inner.obj.string("latest_funding_date")
    }
    #[getter]
    fn keywords(&self) -> Option<Vec<String>> {
        self.inner.obj.get("keywords")
    }
    #[getter]
    fn estimated_number_of_employees(&self) -> Option<i64> {
        self.inner.obj.get("estimated_number_of_employees")
    }
    /// Followers on LinkedIn.
    #[getter]
    fn followers(&self) -> Option<i64> {
        self.inner.obj.get("followers")
    }
    /// Self-reported size, such as ``"201-500 employees"``.
    #[getter]
    fn size(&self) -> Option<String> {
        self.inner.obj.string("size")
    }
    #[getter]
    fn industry(&self) -> Option<String> {
        self.inner.obj.string("industry")
    }
    #[getter]
    fn location(&self) -> Option<String> {
        self.inner.obj.string("location")
    }
    #[getter]
    fn location_details<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loads_opt(py, self.inner.obj.raw("location_details"), '{')
    }
    /// A list of location dicts (``address``, ``is_primary``, ``country``).
    #[getter]
    fn locations<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loads_opt(py, self.inner.obj.raw("locations"), '[')
    }
    #[getter]
    fn is_b2b(&self) -> Option<bool> {
        self.inner.obj.get("is_b2b")
    }
    #[getter]
    fn is_b2c(&self) -> Option<bool> {
        self.inner.obj.get("is_b2c")
    }
    #[getter]
    fn technologies(&self) -> Option<Vec<String>> {
        self.inner.obj.get("technologies")
    }
    /// Headcount by department, a dict of name to count.
    #[getter]
    fn department_headcount<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loads_opt(py, self.inner.obj.raw("department_headcount"), '{')
    }
    #[getter]
    fn job_function_headcount<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loads_opt(py, self.inner.obj.raw("job_function_headcount"), '{')
    }
    /// Estimated annual revenue, such as ``"$10M-$50M"``.
    #[getter]
    fn estimated_revenue(&self) -> Option<String> {
        self.inner.obj.string("estimated_revenue")
    }
    #[getter]
    fn revenue(&self) -> Option<i64> {
        self.inner.obj.get("revenue")
    }

    /// The company exactly as the server sent it, unknown fields included.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        loads_str(py, self.inner.obj.text())
    }

    fn to_json(&self) -> &str {
        self.inner.obj.text()
    }

    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, text: &str) -> PyResult<PyCompany> {
        let c = Company::from_json(text).map_err(PyValueError::new_err)?;
        Ok(PyCompany { inner: Arc::new(c) })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((
            slf.get_type().getattr("from_json")?,
            (slf.get().inner.obj.text().to_string(),),
        ))
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let that = other.cast::<PyCompany>().ok();
        compare_json(
            other.py(),
            self.inner.obj.text(),
            that.as_ref().map(|o| o.get().inner.obj.text()),
            op,
        )
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        // The parsed value, as `==` compares: the same id written with other escapes hashes the same.
        self.inner
            .obj
            .get::<serde_json::Value>("id")
            .map(|v| v.to_string())
            .hash(&mut h);
        h.finish()
    }

    fn __repr__(&self) -> String {
        let f = &self.inner.obj;
        let mut parts = vec![format!("name={:?}", f.string("name").unwrap_or_default())];
        if let Some(w) = f.string("website") {
            parts.push(format!("website={w:?}"));
        }
        if let Some(i) = f.string("industry") {
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
    fn id(&self) -> Option<String> {
        self.inner.obj.string("id")
    }
    #[getter]
    fn object(&self) -> Option<String> {
        self.inner.obj.string("object")
    }
    /// The number, such as ``"+1 123456789"``.
    #[getter]
    fn number(&self) -> Option<String> {
        self.inner.obj.string("number")
    }
    /// ``"mobile"``, ``"work"``, ``"landline"``, or another value the API adds later; the API's field ``type``.
    #[getter]
    fn r#type(&self) -> Option<String> {
        self.inner.obj.string("type")
    }
    #[getter]
    fn source(&self) -> Option<String> {
        self.inner.obj.string("source")
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        loads_str(py, self.inner.obj.text())
    }

    fn to_json(&self) -> &str {
        self.inner.obj.text()
    }

    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, text: &str) -> PyResult<PyPhoneNumber> {
        let p = PhoneNumber::from_json(text).map_err(PyValueError::new_err)?;
        Ok(PyPhoneNumber { inner: Arc::new(p) })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((
            slf.get_type().getattr("from_json")?,
            (slf.get().inner.obj.text().to_string(),),
        ))
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let that = other.cast::<PyPhoneNumber>().ok();
        compare_json(
            other.py(),
            self.inner.obj.text(),
            that.as_ref().map(|o| o.get().inner.obj.text()),
            op,
        )
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        // The parsed value, as `==` compares: the same id written with other escapes hashes the same.
        self.inner
            .obj
            .get::<serde_json::Value>("number")
            .map(|v| v.to_string())
            .hash(&mut h);
        h.finish()
    }

    fn __repr__(&self) -> String {
        let f = &self.inner.obj;
        format!(
            "PhoneNumber(number={:?}, type={:?})",
            f.string("number").unwrap_or_default(),
            f.string("type").unwrap_or_default()
        )
    }
}
