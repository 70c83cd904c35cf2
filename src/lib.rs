//! `amplemarket._core`: the Rust core of the `amplemarket` Python package.
//!
//! - `sandbox`: the embedded emulator of the Amplemarket API (plain Rust, axum).
//! - `python`: the PyO3 bindings; `_core` below only registers them.

mod python;
pub mod sandbox;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<python::sandbox::PySandbox>()?;
    m.add_function(wrap_pyfunction!(python::sandbox::sandbox_openapi, m)?)?;
    m.add_function(wrap_pyfunction!(
        python::sandbox::sandbox_default_settings,
        m
    )?)?;
    Ok(())
}
