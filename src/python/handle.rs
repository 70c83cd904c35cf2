//! What `EnrichmentJob` and `EmailValidation` share: a job on the server followed from Python (`Handle`), and
//! `job_class!`, which declares a class holding one, with its `refresh` / `wait` / `cancel` twins, `status`, `done`,
//! `errors`, `results()` and `collect()`.

use std::sync::Arc;

use parking_lot::Mutex;
use pyo3::prelude::*;
use serde_json::Value;

use super::errors::checked;
use crate::core::bulk::Progress;
use crate::core::jobs::{self, JobRef, Snapshot};
use crate::core::paging::ResultPages;
use crate::core::{Client, Error};

pub struct JobState {
    pub status: String,
    pub errors: Vec<Value>,
}

pub struct Handle {
    pub job: JobRef,
    pub client: Client,
    pub state: Arc<Mutex<JobState>>,
    /// How many inputs it was given, when this process created it: the total its progress counts towards.
    pub inputs: Option<usize>,
}

impl Handle {
    pub fn new(client: Client, snap: &Snapshot, inputs: Option<usize>) -> Self {
        Handle {
            job: snap.job.clone(),
            client,
            state: Arc::new(Mutex::new(JobState {
                status: snap.status.clone(),
                errors: snap.errors.clone(),
            })),
            inputs,
        }
    }

    /// What `wait` does with each poll: keeps the job's state and shows `(phase, results produced, inputs)`;
    /// while it runs, the results produced are those of its first page (exact up to 100, a lower bound after).
    pub fn watcher(&self, report: Option<Progress>) -> impl FnMut(&Snapshot) + Send {
        let (state, total) = (self.state.clone(), self.inputs.unwrap_or(0));
        move |s: &Snapshot| {
            update(&state, s);
            if let Some(r) = &report {
                if s.done() {
                    r("done", total.max(s.results.len()), total);
                } else {
                    r(&format!("waiting: {}", s.status), s.results.len(), total);
                }
            }
        }
    }

    pub fn update(&self, snap: &Snapshot) {
        update(&self.state, snap);
    }

    /// The job's client and reference, for a call to the core.
    pub fn target(&self) -> (Client, JobRef) {
        (self.client.clone(), self.job.clone())
    }

    pub fn status(&self) -> String {
        self.state.lock().status.clone()
    }

    /// Refuses to read the results of a job that is still running.
    pub fn ensure_done(&self, py: Python<'_>) -> PyResult<()> {
        let status = self.status();
        if jobs::is_done(&status) {
            return Ok(());
        }
        let message = format!("{} is still {status}: call wait() before reading its results", self.job);
        checked(py, Err(Error::InvalidInput(message)))
    }

    /// Its results, once the job has ended.
    pub fn result_pages(&self, py: Python<'_>, page_size: i64) -> PyResult<ResultPages> {
        self.ensure_done(py)?;
        let page_size = checked(py, jobs::page_size(page_size))?;
        Ok(ResultPages::new(self.client.clone(), self.job.clone(), page_size))
    }

    /// Every result of the finished job, in the server's order.
    pub fn all_results(&self, py: Python<'_>) -> PyResult<Vec<jobs::EnrichmentResult>> {
        self.ensure_done(py)?;
        let (client, job) = self.target();
        super::runtime::block_on(py, async move { crate::core::bulk::all_results(&client, &job).await })
    }
}

fn update(state: &Mutex<JobState>, snap: &Snapshot) {
    let mut s = state.lock();
    s.status = snap.status.clone();
    s.errors = snap.errors.clone();
}

/// Declares a job class over a `Handle`: `$unit` names its inputs in progress bars, `$iter` / `$aiter` are the
/// iterator classes of its results.
macro_rules! job_class {
    (
        $(#[doc = $doc:literal])*
        $ty:ident as $name:literal, unit $unit:literal, results $iter:ident / $aiter:ident
    ) => {
        $(#[doc = $doc])*
        #[pyo3::pyclass(frozen, module = "amplemarket._core", name = $name)]
        pub struct $ty {
            handle: $crate::python::handle::Handle,
        }

        impl $ty {
            fn new(client: $crate::core::Client, snap: &$crate::core::jobs::Snapshot, inputs: Option<usize>) -> Self {
                $ty { handle: $crate::python::handle::Handle::new(client, snap, inputs) }
            }
        }

        $crate::python::twins::twins! {
            /// Fetches the current status.
            method $ty, refresh / refresh_async, signature (), |slf, _py| -> pyo3::Py<$ty> {
                let (client, job) = slf.get().handle.target();
                async move {
                    let snap = $crate::core::jobs::get(&client, &job, Some(1)).await?;
                    slf.get().handle.update(&snap);
                    Ok(slf)
                }
            }
        }

        $crate::python::twins::twins! {
            /// Polls until the job is done, honouring the server's ``Retry-After``. ``timeout`` (seconds) raises
            /// ``JobTimeoutError`` when it runs out (the job keeps running); a job ending in ``error`` raises
            /// ``JobFailedError``. ``progress=True`` shows a bar with the job's status; a callable gets
            /// ``(phase, results produced, inputs)`` at each poll (``inputs`` is 0 for a job this process did not
            /// create).
            method $ty, wait / wait_async, signature (timeout = None, progress = None),
            |slf, py, timeout: Option<f64>, progress: Option<&pyo3::Bound<'_, pyo3::PyAny>>| -> pyo3::Py<$ty> {
                let limit = $crate::python::errors::checked(py, $crate::core::config::deadline("timeout", timeout))?;
                let handle = &slf.get().handle;
                let (client, job) = handle.target();
                let label = format!("job {}", job.id);
                let report = $crate::python::progress::from_py(py, progress, &label, $unit)?;
                let watch = handle.watcher(report);
                async move {
                    $crate::core::jobs::wait(&client, &job, limit, watch).await?;
                    Ok(slf)
                }
            }
        }

        $crate::python::twins::twins! {
            /// Stops the job, keeping the results produced so far.
            method $ty, cancel / cancel_async, signature (), |slf, _py| -> pyo3::Py<$ty> {
                let (client, job) = slf.get().handle.target();
                async move {
                    let snap = $crate::core::jobs::cancel(&client, &job).await?;
                    slf.get().handle.update(&snap);
                    Ok(slf)
                }
            }
        }

        #[pyo3::pymethods]
        impl $ty {
            /// ``queued``, ``processing``, ``completed``, ``canceled``, ``error`` (or a value the API adds later),
            /// as of the last call.
            #[getter]
            fn status(&self) -> String {
                self.handle.status()
            }

            /// Whether the job has ended (anything but ``queued`` and ``processing``).
            #[getter]
            fn done(&self) -> bool {
                $crate::core::jobs::is_done(&self.handle.status())
            }

            /// The server's ``_errors`` for a job in ``error``.
            #[getter]
            fn errors<'py>(&self, py: pyo3::Python<'py>) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                Ok(pythonize::pythonize(py, &self.handle.state.lock().errors)?)
            }

            /// Streams every result of a finished (completed, canceled or failed) job, fetching the next page while
            /// the current one is read.
            #[pyo3(signature = (page_size = 100))]
            fn results(&self, py: pyo3::Python<'_>, page_size: i64) -> pyo3::PyResult<$iter> {
                Ok($iter($crate::python::paging::shared(self.handle.result_pages(py, page_size)?)))
            }

            /// Async iterator form of ``results``.
            #[pyo3(signature = (page_size = 100))]
            fn results_async(&self, py: pyo3::Python<'_>, page_size: i64) -> pyo3::PyResult<$aiter> {
                Ok($aiter($crate::python::paging::shared(self.handle.result_pages(py, page_size)?)))
            }

            /// Every result of the finished job as ``Results`` (in the server's order; their input columns are the
            /// fields each result echoes), ready for ``to_arrow()`` / ``to_polars()`` / ``to_pandas()``.
            fn collect(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<$crate::python::result_set::PyResults> {
                use $crate::python::result_set::{Input, PyResults, Rows};
                let results = self.handle.all_results(py)?;
                let fields = results.iter().map(|r| r.lead.clone()).collect();
                let rows = results.into_iter().map(std::sync::Arc::new).collect();
                Ok(PyResults::new(Rows::Enriched(rows), Input::Fields(fields)))
            }
        }
    };
}

pub(crate) use job_class;
