//! Tables across the boundary: a DataFrame or Arrow table given as leads is read through the Arrow C stream
//! interface (no Python object per row), and results leave as an `ArrowTable` that pyarrow, polars, pandas and
//! duckdb read through the same interface.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, NullArray, RecordBatch, StructArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyCapsule, PyDict, PyFloat, PyInt, PyList, PyString};
use pyo3::IntoPyObjectExt;
use pyo3_arrow::ffi::{to_schema_pycapsule, to_stream_pycapsule, ArrayIterator};
use pyo3_arrow::input::AnyRecordBatch;

use super::errors::to_pyerr;
use crate::core::table::read::check_unique;
use crate::core::table::InputTable;
use crate::core::Error;

/// A table given as input: its Arrow data, and the object it came from (a collected LazyFrame's DataFrame), which
/// `to_pandas` / `to_polars` join their result columns to.
pub struct TableInput {
    pub table: InputTable,
    pub source: Py<PyAny>,
}

fn type_name(obj: &Bound<'_, PyAny>) -> (String, String) {
    let ty = obj.get_type();
    let module = ty.module().map(|m| m.to_string()).unwrap_or_default();
    (module, ty.name().map(|n| n.to_string()).unwrap_or_default())
}

fn invalid(py: Python<'_>, message: String) -> PyErr {
    to_pyerr(py, Error::InvalidInput(message))
}

/// The table `obj` is, or `None` when it is not a table (an iterable of dicts). A column, a series or anything
/// else of a table library that is not a table is refused.
pub fn table_of(py: Python<'_>, obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Option<TableInput>> {
    let (mut module, mut name) = type_name(obj);
    let mut obj = obj.clone();
    if module.starts_with("polars") && name == "LazyFrame" {
        obj = obj.call_method0("collect").map_err(|e| {
            invalid(
                py,
                format!("the LazyFrame given as {what} failed when collected, before anything was sent: {e}"),
            )
        })?;
        (module, name) = type_name(&obj);
    }
    let library = module.split('.').next().unwrap_or_default();
    let arrow = obj.hasattr("__arrow_c_stream__")? || obj.hasattr("__arrow_c_array__")?;
    let is_frame = matches!(
        name.as_str(),
        "DataFrame" | "Table" | "RecordBatch" | "RecordBatchReader"
    );
    if matches!(library, "pandas" | "polars" | "pyarrow" | "duckdb") && !is_frame && !(library == "duckdb" && arrow) {
        return Err(PyTypeError::new_err(format!(
            "{what} is a {module}.{name}, not a table; pass a DataFrame or an Arrow table (a column alone has no \
             header to read lead fields from: make it a frame, such as series.to_frame(\"email\"))"
        )));
    }
    if library == "pandas" {
        // pandas exports Arrow through pyarrow (its index left out: `to_pandas` puts it back); without pyarrow,
        // its columns are read as Python lists.
        let helpers = py.import("amplemarket._tables")?;
        let names: Vec<String> = helpers.getattr("pandas_names")?.call1((&obj,))?.extract()?;
        check_unique(&names).map_err(|e| invalid(py, e))?;
        let exported = helpers.getattr("pandas_arrow")?.call1((&obj,))?;
        if !exported.is_none() {
            let capsule = exported.call_method0("__arrow_c_stream__")?;
            return Ok(Some(from_stream(py, &capsule, obj.unbind(), what)?));
        }
        let columns: Vec<Vec<Bound<'_, PyAny>>> = helpers.getattr("pandas_columns")?.call1((&obj,))?.extract()?;
        let table = table_from_values(&names, &columns)?;
        return Ok(Some(TableInput {
            table,
            source: obj.unbind(),
        }));
    }
    if !arrow {
        return Ok(None);
    }
    let data: AnyRecordBatch = obj.extract().map_err(|e| {
        invalid(
            py,
            format!("{what} ({module}.{name}) could not be read as an Arrow table: {e}"),
        )
    })?;
    let reader = data.into_reader()?;
    let schema = reader.schema();
    let batches = py
        .detach(|| reader.collect::<Result<Vec<RecordBatch>, _>>())
        .map_err(|e| {
            invalid(
                py,
                format!("{what} ({module}.{name}) failed while its rows were read: {e}"),
            )
        })?;
    Ok(Some(TableInput {
        table: InputTable::new(schema, batches),
        source: obj.unbind(),
    }))
}

fn from_stream(py: Python<'_>, capsule: &Bound<'_, PyAny>, source: Py<PyAny>, what: &str) -> PyResult<TableInput> {
    let capsule = capsule.cast::<PyCapsule>()?;
    let reader = pyo3_arrow::PyRecordBatchReader::from_arrow_pycapsule(capsule)?.into_reader()?;
    let schema = reader.schema();
    let batches = py
        .detach(|| reader.collect::<Result<Vec<RecordBatch>, _>>())
        .map_err(|e| invalid(py, format!("{what} failed while its rows were read: {e}")))?;
    Ok(TableInput {
        table: InputTable::new(schema, batches),
        source,
    })
}

/// `columns=` as `(column, field or None)` pairs.
pub fn overrides(py: Python<'_>, columns: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<(String, Option<String>)>> {
    let Some(columns) = columns else {
        return Ok(Vec::new());
    };
    columns
        .iter()
        .map(|(k, v)| {
            let key = k.str()?.to_string();
            let field = if v.is_none() {
                None
            } else {
                Some(v.extract::<String>().map_err(|_| {
                    invalid(
                        py,
                        format!(
                            "columns= maps {key:?} to {}, not to a lead field's name (or None)",
                            v.repr().map(|r| r.to_string()).unwrap_or_default()
                        ),
                    )
                })?)
            };
            Ok((key, field))
        })
        .collect()
}

/// An Arrow column from Python values: text, booleans, integers or numbers (missing: `None` or NaN); values
/// of mixed kinds are kept as their text.
fn column_from_values(values: &[Bound<'_, PyAny>]) -> PyResult<ArrayRef> {
    let missing =
        |v: &Bound<'_, PyAny>| v.is_none() || v.cast::<PyFloat>().map(|f| f.value().is_nan()).unwrap_or(false);
    let present: Vec<&Bound<'_, PyAny>> = values.iter().filter(|v| !missing(v)).collect();
    let all = |f: &dyn Fn(&Bound<'_, PyAny>) -> bool| present.iter().all(|v| f(v));
    if present.is_empty() {
        return Ok(Arc::new(NullArray::new(values.len())));
    }
    if all(&|v| v.is_instance_of::<PyBool>()) {
        let mut b = BooleanBuilder::with_capacity(values.len());
        for v in values {
            b.append_option(if missing(v) { None } else { Some(v.extract::<bool>()?) });
        }
        return Ok(Arc::new(b.finish()));
    }
    let int = |v: &Bound<'_, PyAny>| v.is_instance_of::<PyInt>() && !v.is_instance_of::<PyBool>();
    if all(&|v| int(v) && v.extract::<i64>().is_ok()) {
        let mut b = Int64Builder::with_capacity(values.len());
        for v in values {
            b.append_option(if missing(v) { None } else { Some(v.extract::<i64>()?) });
        }
        return Ok(Arc::new(b.finish()));
    }
    if all(&|v| int(v) || v.is_instance_of::<PyFloat>()) {
        let mut b = Float64Builder::with_capacity(values.len());
        for v in values {
            b.append_option(if missing(v) { None } else { Some(v.extract::<f64>()?) });
        }
        return Ok(Arc::new(b.finish()));
    }
    let mut b = StringBuilder::with_capacity(values.len(), values.len() * 16);
    for v in values {
        if missing(v) {
            b.append_null();
        } else if let Ok(s) = v.cast::<PyString>() {
            b.append_value(s.to_str()?);
        } else {
            b.append_value(v.str()?.to_str()?);
        }
    }
    Ok(Arc::new(b.finish()))
}

/// A table from named columns of Python values (pandas without pyarrow, the fields of dict leads).
pub fn table_from_values(names: &[String], columns: &[Vec<Bound<'_, PyAny>>]) -> PyResult<InputTable> {
    let arrays = columns
        .iter()
        .map(|c| column_from_values(c))
        .collect::<PyResult<Vec<_>>>()?;
    let rows = columns.first().map(Vec::len).unwrap_or(0);
    let fields: Vec<Field> = names
        .iter()
        .zip(&arrays)
        .map(|(n, a)| Field::new(n, a.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new_with_options(
        schema.clone(),
        arrays,
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(rows)),
    )
    .map_err(|e| PyValueError::new_err(format!("the columns do not make a table: {e}")))?;
    Ok(InputTable::new(schema, vec![batch]))
}

/// A table of results in Arrow form. It holds no Python objects: ``pyarrow.table(t)``, ``polars.DataFrame(t)``,
/// ``duckdb.sql("select * from t")`` and any reader of the Arrow PyCapsule interface (``__arrow_c_stream__``) take
/// its columns without copying them through Python.
#[pyclass(frozen, module = "amplemarket._core", name = "ArrowTable")]
pub struct PyArrowTable {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

#[pymethods]
impl PyArrowTable {
    /// The table as an Arrow C stream (the Arrow PyCapsule interface).
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let rows = self
            .batches
            .clone()
            .into_iter()
            .map(|b| Ok(Arc::new(StructArray::from(b)) as ArrayRef));
        let field =
            Field::new_struct("", self.schema.fields().clone(), false).with_metadata(self.schema.metadata.clone());
        let reader = Box::new(ArrayIterator::new(rows, field.into()));
        Ok(to_stream_pycapsule(py, reader, requested_schema)?)
    }

    /// The table's schema as an Arrow C schema (the Arrow PyCapsule interface).
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        Ok(to_schema_pycapsule(py, self.schema.as_ref())?)
    }

    /// The names of the columns, in order.
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.schema.fields().iter().map(|f| f.name().clone()).collect()
    }

    #[getter]
    fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    #[getter]
    fn num_columns(&self) -> usize {
        self.schema.fields().len()
    }

    fn __len__(&self) -> usize {
        self.num_rows()
    }

    /// Each column as a list of Python values (``str``, ``int``, ``float``, ``bool``, ``datetime.date``, lists,
    /// dicts, ``None``): for code without pyarrow or polars.
    fn to_pydict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for (i, field) in self.schema.fields().iter().enumerate() {
            let values = PyList::empty(py);
            for batch in &self.batches {
                let column = batch.column(i);
                for row in 0..column.len() {
                    values.append(value(py, column.as_ref(), row)?)?;
                }
            }
            out.set_item(field.name(), values)?;
        }
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!("ArrowTable({} rows, {} columns)", self.num_rows(), self.num_columns())
    }
}

/// One value of an Arrow array as a Python object.
fn value<'py>(py: Python<'py>, a: &dyn Array, i: usize) -> PyResult<Bound<'py, PyAny>> {
    use arrow_array::types::*;
    if a.is_null(i) {
        return Ok(py.None().into_bound(py));
    }
    match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().value(i).into_bound_py_any(py),
        DataType::LargeUtf8 => a.as_string::<i64>().value(i).into_bound_py_any(py),
        DataType::Utf8View => a.as_string_view().value(i).into_bound_py_any(py),
        DataType::Boolean => a.as_boolean().value(i).into_bound_py_any(py),
        DataType::Int64 => a.as_primitive::<Int64Type>().value(i).into_bound_py_any(py),
        DataType::Int32 => a.as_primitive::<Int32Type>().value(i).into_bound_py_any(py),
        DataType::Float64 => a.as_primitive::<Float64Type>().value(i).into_bound_py_any(py),
        DataType::Date32 => a.as_primitive::<Date32Type>().value_as_date(i).into_bound_py_any(py),
        DataType::List(_) => {
            let items = a.as_list::<i32>().value(i);
            let list = PyList::empty(py);
            for j in 0..items.len() {
                list.append(value(py, items.as_ref(), j)?)?;
            }
            Ok(list.into_any())
        }
        DataType::Struct(fields) => {
            let s = a.as_struct();
            let dict = PyDict::new(py);
            for (f, column) in fields.iter().zip(s.columns()) {
                dict.set_item(f.name(), value(py, column.as_ref(), i)?)?;
            }
            Ok(dict.into_any())
        }
        _ => {
            let options = arrow_cast::display::FormatOptions::default();
            let formatter = arrow_cast::display::ArrayFormatter::try_new(a, &options)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
            formatter.value(i).to_string().into_bound_py_any(py)
        }
    }
}

/// The field of each column that maps to one, by the header rules tables share with the CLI's files:
/// ``overrides`` (``column -> field``, ``None`` to leave one out) first, then the header names of exports. ``kind``
/// is ``"lead"``, ``"company"`` or ``"email"``. Raises ``InvalidInputError`` for an override naming a missing
/// column or a field that does not exist.
#[pyfunction]
#[pyo3(signature = (columns, overrides, kind = "lead"))]
pub fn _map_columns(
    py: Python<'_>,
    columns: Vec<String>,
    overrides: Vec<(String, Option<String>)>,
    kind: &str,
) -> PyResult<Vec<(String, String)>> {
    use crate::core::table::columns::{map_columns, COMPANIES, EMAILS, LEADS};
    let targets = match kind {
        "lead" => &LEADS,
        "company" => &COMPANIES,
        "email" => &EMAILS,
        other => {
            return Err(invalid(
                py,
                format!("kind is \"lead\", \"company\" or \"email\", got {other:?}"),
            ))
        }
    };
    let mapped = map_columns(targets, &columns, &overrides).map_err(|e| invalid(py, e))?;
    Ok(mapped
        .into_iter()
        .map(|(i, f)| (columns[i].clone(), f.to_string()))
        .collect())
}
