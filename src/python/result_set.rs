//! `Results`: what `Person.enrich` and `Person.find_many` return. A sequence of result objects (made when read),
//! which also turns into a table: `to_arrow()` in Rust from the text the server sent, `to_polars()` and
//! `to_pandas()` from that, each joined to the input's own columns.

use std::sync::Arc;

use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::types::{PyList, PySlice, PyType};
use serde_json::{Map, Value};

use super::bulk::PyFindResult;
use super::results::PyEnrichmentResult;
use super::tables::{PyArrowTable, TableInput};
use super::validation::PyValidationResult;
use crate::core::jobs::{EnrichmentResult, Kind};
use crate::core::models::Person;
use crate::core::table::write::{join, result_columns, Row, Shape};
use crate::core::table::InputTable;

/// The results, one per input row.
pub enum Rows {
    Enriched(Vec<Arc<EnrichmentResult>>),
    Found(Vec<Py<PyFindResult>>),
}

/// A job's result as its Python class: `ValidationResult` for an email, else `EnrichmentResult`.
pub fn result_object(py: Python<'_>, r: Arc<EnrichmentResult>) -> PyResult<Py<PyAny>> {
    Ok(match r.kind {
        Kind::Emails => Py::new(py, PyValidationResult { inner: r })?.into_any(),
        _ => Py::new(py, PyEnrichmentResult { inner: r })?.into_any(),
    })
}

/// The core result inside an `EnrichmentResult` or `ValidationResult`.
pub fn result_inner(obj: &Bound<'_, PyAny>) -> PyResult<Arc<EnrichmentResult>> {
    if let Ok(r) = obj.cast::<PyEnrichmentResult>() {
        return Ok(r.get().inner.clone());
    }
    match obj.cast::<PyValidationResult>() {
        Ok(r) => Ok(r.get().inner.clone()),
        Err(_) => Err(pyo3::exceptions::PyTypeError::new_err(
            "a result is an EnrichmentResult or a ValidationResult",
        )),
    }
}

/// What the results were made from: a table, the fields of each dict given, or (`find_many`) the queries its
/// results hold, read only when a table is asked for.
pub enum Input {
    Table(TableInput),
    Fields(Vec<Map<String, Value>>),
    Queries,
}

/// A result row with everything owned, so the table is built without the GIL.
struct Owned {
    status: Option<String>,
    error: Option<String>,
    result_id: Option<i64>,
    person: Option<Arc<Person>>,
    /// A job's result (for its company, or an email validation's fields).
    result: Option<Arc<EnrichmentResult>>,
}

/// Results of ``Person.enrich`` (``EnrichmentResult``) or ``Person.find_many`` (``FindResult``), one per input row
/// in input order: a sequence (``len``, indexing, iteration, ``==`` with a list) that also converts to a table with
/// ``to_arrow()``, ``to_polars()`` or ``to_pandas()``.
///
/// The table's columns: the input's own (a table's columns with their types, or the fields of the dicts given),
/// then ``status``, ``error``, ``result_id`` (enrichment only), the person's fields as ``person.<field>`` and its
/// company's as ``company.<field>`` (typed: text, integers, booleans, dates, lists, structs), and ``person_json``,
/// the person exactly as the server sent it. A result column whose name the input already has gets ``_result``
/// appended. Row ``i`` is input row ``i``.
#[pyclass(frozen, sequence, module = "amplemarket._core", name = "Results")]
pub struct PyResults {
    rows: Rows,
    input: Input,
}

impl PyResults {
    pub fn new(rows: Rows, input: Input) -> Self {
        PyResults { rows, input }
    }

    fn item(&self, py: Python<'_>, i: usize) -> PyResult<Py<PyAny>> {
        match &self.rows {
            Rows::Enriched(r) => result_object(py, r[i].clone()),
            Rows::Found(r) => Ok(r[i].clone_ref(py).into_any()),
        }
    }

    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = (0..self.__len__())
            .map(|i| self.item(py, i))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    fn owned(&self, py: Python<'_>) -> PyResult<Vec<Owned>> {
        match &self.rows {
            Rows::Enriched(rows) => Ok(rows
                .iter()
                .map(|r| Owned {
                    status: match r.kind {
                        Kind::Emails => Some(r.status.clone().unwrap_or_else(|| "validated".into())),
                        _ => r.status.clone(),
                    },
                    error: r.error(),
                    result_id: r.id,
                    person: r.person.clone(),
                    result: Some(r.clone()),
                })
                .collect()),
            Rows::Found(rows) => rows
                .iter()
                .map(|r| {
                    let r = r.bind(py);
                    let (status, error) = match r.getattr("error")? {
                        e if e.is_none() => (None, None),
                        e => {
                            let invalid =
                                e.is_instance(&py.import("amplemarket.errors")?.getattr("InvalidInputError")?)?;
                            (
                                Some(if invalid { "invalid" } else { "failed" }),
                                Some(e.str()?.to_string()),
                            )
                        }
                    };
                    let person = r.get().person_arc(py);
                    let status = status.unwrap_or(if person.is_some() { "found" } else { "not_found" });
                    Ok(Owned {
                        status: Some(status.to_string()),
                        error,
                        result_id: None,
                        person,
                        result: None,
                    })
                })
                .collect(),
        }
    }

    /// Which results these are: the kind of the first (all are of one kind).
    fn shape(&self) -> Shape {
        match &self.rows {
            Rows::Found(_) => Shape::Found,
            Rows::Enriched(r) => match r.first().map(|r| r.kind) {
                Some(Kind::Companies) => Shape::Companies,
                Some(Kind::Emails) => Shape::Emails,
                _ => Shape::People,
            },
        }
    }

    fn counts(&self) -> Vec<(String, usize)> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        let statuses: Vec<String> = match &self.rows {
            Rows::Enriched(r) => r
                .iter()
                .map(|r| match r.kind {
                    Kind::Emails => r.obj.string("result").or(r.status.clone()).unwrap_or_default(),
                    _ => r.status.clone().unwrap_or_default(),
                })
                .collect(),
            Rows::Found(_) => return Vec::new(),
        };
        for s in statuses {
            match counts.iter_mut().find(|(k, _)| *k == s) {
                Some((_, n)) => *n += 1,
                None => counts.push((s, 1)),
            }
        }
        counts
    }
}

#[pymethods]
impl PyResults {
    fn __len__(&self) -> usize {
        match &self.rows {
            Rows::Enriched(r) => r.len(),
            Rows::Found(r) => r.len(),
        }
    }

    fn __getitem__(&self, py: Python<'_>, index: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Ok(slice) = index.cast::<PySlice>() {
            let items = self.items(py)?;
            return Ok(items.as_any().get_item(slice)?.unbind());
        }
        let i: isize = index.extract()?;
        let len = self.__len__() as isize;
        let at = if i < 0 { i + len } else { i };
        if at < 0 || at >= len {
            return Err(PyIndexError::new_err(format!(
                "result {i} of {len}: index out of range"
            )));
        }
        self.item(py, at as usize)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.items(py)?.try_iter()?.into_any())
    }

    fn __richcmp__(&self, py: Python<'_>, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let theirs = match other.cast::<PyResults>() {
            Ok(o) => o.get().items(py)?.into_any(),
            Err(_) if other.is_instance_of::<PyList>() || other.is_instance_of::<pyo3::types::PyTuple>() => {
                PyList::new(py, other.try_iter()?.collect::<PyResult<Vec<_>>>()?)?.into_any()
            }
            Err(_) => return Ok(py.NotImplemented()),
        };
        Ok(self.items(py)?.rich_compare(theirs, op)?.unbind())
    }

    /// Pickles as the list of its results.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyType>, (Bound<'py, PyList>,))> {
        Ok((py.get_type::<PyList>(), (self.items(py)?,)))
    }

    fn __repr__(&self) -> String {
        let counts: Vec<String> = self.counts().into_iter().map(|(s, n)| format!("{n} {s}")).collect();
        if counts.is_empty() {
            format!("Results({} results)", self.__len__())
        } else {
            format!("Results({} results: {})", self.__len__(), counts.join(", "))
        }
    }

    /// The table given as input (a collected LazyFrame's DataFrame), or ``None`` for dicts.
    #[getter]
    fn _source(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        match &self.input {
            Input::Table(t) => Some(t.source.clone_ref(py)),
            Input::Fields(_) | Input::Queries => None,
        }
    }

    /// The results as an Arrow table (see the class for its columns), built in Rust from the text the server
    /// sent. ``input_columns=False`` leaves out the input's columns (and renames no result column).
    #[pyo3(signature = (input_columns = true))]
    pub fn to_arrow(&self, py: Python<'_>, input_columns: bool) -> PyResult<PyArrowTable> {
        self.table(py, input_columns, !input_columns)
    }

    /// The result columns alone, named as beside the input's columns, to join to the input frame.
    fn _result_columns(&self, py: Python<'_>) -> PyResult<PyArrowTable> {
        self.table(py, false, false)
    }

    /// The index of the first result equal to ``value`` from ``start`` up to ``stop`` (``ValueError`` when none
    /// is), as ``list.index``.
    #[pyo3(signature = (value, start = 0, stop = None))]
    fn index<'py>(
        &self,
        py: Python<'py>,
        value: &Bound<'py, PyAny>,
        start: isize,
        stop: Option<isize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let stop = stop.unwrap_or(isize::MAX);
        self.items(py)?.call_method1("index", (value, start, stop))
    }

    /// How many results equal ``value``.
    fn count(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<usize> {
        let mut n = 0;
        for item in self.items(py)?.iter() {
            n += usize::from(item.eq(value)?);
        }
        Ok(n)
    }
}

impl PyResults {
    /// The table: with the input's columns or without; with the result columns renamed where they clash with
    /// the input's (`own_names` false) or not.
    fn table(&self, py: Python<'_>, input_columns: bool, own_names: bool) -> PyResult<PyArrowTable> {
        let owned = self.owned(py)?;
        let empty = InputTable::new(Arc::new(arrow_schema::Schema::empty()), Vec::new());
        let fields_table;
        let input = match &self.input {
            Input::Table(t) => &t.table,
            Input::Fields(maps) => {
                fields_table = InputTable::from_fields(maps);
                &fields_table
            }
            Input::Queries => {
                let queries = match &self.rows {
                    Rows::Found(rows) => rows.iter().map(|r| r.get().query_fields(py)).collect(),
                    Rows::Enriched(_) => Vec::new(),
                };
                fields_table = InputTable::from_fields(&queries);
                &fields_table
            }
        };
        let shape = self.shape();
        let (schema, batches) = py.detach(|| {
            let rows: Vec<Row<'_>> = owned
                .iter()
                .map(|o| Row {
                    status: o.status.as_deref(),
                    error: o.error.clone(),
                    result_id: o.result_id,
                    person: o.person.as_deref(),
                    company: o.result.as_ref().and_then(|r| r.company.as_deref()),
                    validation: o.result.as_ref().filter(|r| r.kind == Kind::Emails).map(|r| &r.obj),
                })
                .collect();
            let input = if own_names { &empty } else { input };
            join(input, input_columns, result_columns(&rows, shape), rows.len())
        });
        Ok(PyArrowTable { schema, batches })
    }
}

#[pymethods]
impl PyResults {
    /// The results as a polars DataFrame: the input's columns (a polars input's own, unchanged), then the result
    /// columns. Needs polars.
    #[pyo3(signature = (input_columns = true))]
    pub fn to_polars<'py>(slf: &Bound<'py, Self>, input_columns: bool) -> PyResult<Bound<'py, PyAny>> {
        python_side(slf, "to_polars", input_columns)
    }

    /// The results as a pandas DataFrame: the input's columns (a pandas input's own, with its index), then the
    /// result columns in nullable dtypes (``string``, ``Int64``, ``boolean``). Needs pandas; fastest with pyarrow.
    #[pyo3(signature = (input_columns = true))]
    pub fn to_pandas<'py>(slf: &Bound<'py, Self>, input_columns: bool) -> PyResult<Bound<'py, PyAny>> {
        python_side(slf, "to_pandas", input_columns)
    }
}

/// A conversion written in Python (`amplemarket._tables`), where the DataFrame libraries are.
fn python_side<'py>(
    results: &Bound<'py, PyResults>,
    function: &str,
    input_columns: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let tables = results.py().import("amplemarket._tables")?;
    tables.getattr(function)?.call1((results, input_columns))
}
