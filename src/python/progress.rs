//! Progress reporting from Rust to a Python reporter (`amplemarket._progress.reporter`), throttled so a fast
//! stream of updates does not fight the caller for the GIL.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use pyo3::prelude::*;

use crate::core::bulk::Progress;

const EVERY: Duration = Duration::from_millis(100);

/// `progress=False/None` -> no reporting; `True` -> a bar or line; a callable -> called with the counts. `unit`
/// names what is counted (`lead`, `query`). The display is closed when the call ends, however it ends.
pub fn from_py(
    py: Python<'_>,
    progress: Option<&Bound<'_, PyAny>>,
    what: &str,
    unit: &str,
) -> PyResult<Option<Progress>> {
    let Some(progress) = progress else {
        return Ok(None);
    };
    if progress.is_none() || (progress.is_instance_of::<pyo3::types::PyBool>() && !progress.is_truthy()?) {
        return Ok(None);
    }
    let reporter = Reporter(
        py.import("amplemarket._progress")?
            .getattr("reporter")?
            .call1((progress, what, unit))?
            .unbind(),
    );
    let last: Mutex<(Option<Instant>, String)> = Mutex::new((None, String::new()));
    Ok(Some(Arc::new(move |stage: &str, done: usize, total: usize| {
        {
            let mut l = last.lock();
            let due = l.0.is_none_or(|t| t.elapsed() >= EVERY) || l.1 != stage || done >= total;
            if !due {
                return;
            }
            *l = (Some(Instant::now()), stage.to_string());
        }
        reporter.call(|py, r| r.call1(py, (stage, done, total)).map(drop));
    })))
}

/// The Python reporter; its `close()` (when it has one) runs when the last reference goes, so a bar left by a
/// call that failed or was cancelled does not stay open.
struct Reporter(Py<PyAny>);

impl Reporter {
    fn call(&self, f: impl FnOnce(Python<'_>, &Py<PyAny>) -> PyResult<()>) {
        let _ = Python::try_attach(|py| {
            if let Err(e) = f(py, &self.0) {
                // A broken callback must not sink the work it reports on.
                e.write_unraisable(py, None);
            }
        });
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.call(|py, r| match r.getattr(py, "close") {
            Ok(close) => close.call0(py).map(drop),
            Err(_) => Ok(()),
        });
    }
}
