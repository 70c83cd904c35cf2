//! The tokio runtime behind every call, and the two ways Python waits on a Rust future: blocking (GIL released,
//! Ctrl-C checked every 100 ms) and awaitable (an asyncio future; cancelling the task drops the Rust future).
//!
//! tokio does not survive `fork()`, so the runtime remembers the process that built it and a forked child builds
//! its own on first use.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::IntoPyObjectExt;
use pyo3_async_runtimes::generic::{ContextExt, Runtime as GenericRuntime};
use pyo3_async_runtimes::TaskLocals;
use std::cell::OnceCell;
use tokio::runtime::Runtime;

use super::errors::to_pyerr;
use crate::core;

struct Owned {
    pid: u32,
    runtime: Runtime,
}

static CURRENT: AtomicPtr<Owned> = AtomicPtr::new(std::ptr::null_mut());

/// This process's runtime, built on first use (and again after a fork).
pub fn runtime() -> &'static Runtime {
    let pid = std::process::id();
    let cur = CURRENT.load(Ordering::Acquire);
    // SAFETY: pointers stored in CURRENT come from Box::leak and are never freed.
    if let Some(owned) = unsafe { cur.as_ref() } {
        if owned.pid == pid {
            return &owned.runtime;
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4)))
        .thread_name("amplemarket")
        .enable_all()
        .build()
        .expect("the amplemarket runtime could not start (out of threads or file descriptors?)");
    let fresh = Box::into_raw(Box::new(Owned { pid, runtime }));
    match CURRENT.compare_exchange(cur, fresh, Ordering::AcqRel, Ordering::Acquire) {
        // The old runtime (a parent's, after fork) is leaked on purpose: its threads do not exist here, so
        // dropping it could block forever.
        Ok(_) => unsafe { &(*fresh).runtime },
        Err(winner) => {
            // Another thread built one first: use it. Ours has no tasks and can go.
            let ours = unsafe { Box::from_raw(fresh) };
            std::thread::spawn(move || drop(ours));
            unsafe { &(*winner).runtime }
        }
    }
}

/// Waits for `fut` with the GIL released, checking for Ctrl-C (and other signals) every 100 ms. On a signal the
/// future is dropped, which cancels its request, and the signal's exception (KeyboardInterrupt) is raised.
pub fn block_on<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = core::Result<T>> + Send,
    T: Send,
{
    let result = py.detach(|| {
        runtime().block_on(async {
            tokio::pin!(fut);
            // Not `interval()`: its first tick, though "immediate", waits for the timer's next millisecond, and
            // that millisecond would be added to every call.
            let every = Duration::from_millis(100);
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                tokio::select! {
                    r = &mut fut => return Ok::<_, PyErr>(r),
                    _ = tick.tick() => {
                        Python::attach(|py| py.check_signals())?;
                    }
                }
            }
        })
    })?;
    result.map_err(|e| to_pyerr(py, e))
}

/// An awaitable for `fut`, running on the runtime; its result converts to Python when it completes.
pub fn awaitable<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = core::Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    awaitable_py(py, async move {
        fut.await.map_err(|e| Python::attach(|py| to_pyerr(py, e)))
    })
}

/// `awaitable` for futures that already fail with Python exceptions.
pub fn awaitable_py<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let future = pyo3_async_runtimes::generic::future_into_py::<AmplemarketRuntime, _, Py<PyAny>>(py, async move {
        let v = fut.await?;
        Python::attach(|py| v.into_py_any(py))
    })?;
    // A real coroutine around the asyncio future, so `asyncio.create_task(...)` takes it too; cancelling the
    // task cancels the future, which drops the Rust work.
    COROUTINE.import(py, "amplemarket._aio", "coroutine")?.call1((future,))
}

static COROUTINE: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();

/// Lets pyo3-async-runtimes run futures on our fork-aware runtime.
pub struct AmplemarketRuntime;

tokio::task_local! {
    static TASK_LOCALS: OnceCell<TaskLocals>;
}

impl GenericRuntime for AmplemarketRuntime {
    type JoinError = tokio::task::JoinError;
    type JoinHandle = tokio::task::JoinHandle<()>;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        runtime().spawn(fut)
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        runtime().spawn_blocking(f)
    }
}

impl ContextExt for AmplemarketRuntime {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = OnceCell::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS.try_with(|c| c.get().cloned()).unwrap_or_default()
    }
}
