//! The tokio runtime behind every call, and the two ways Python waits on a Rust future: blocking (GIL released,
//! Ctrl-C checked every 100 ms) and awaitable (a coroutine-like object over an asyncio future; cancelling the
//! task drops the Rust future).
//!
//! tokio does not survive `fork()`, so the runtime remembers the process that built it and a forked child builds
//! its own on first use.
//!
//! Awaitables are built for throughput: a finished Rust future never takes the GIL on a tokio thread. It leaves its
//! outcome in its event loop's queue (a `Hub`, one per loop) and, when the queue was empty, wakes the loop once by
//! writing a byte to a socket the loop watches (`loop.add_reader`); the loop drains the whole queue in one callback,
//! converting each outcome to Python there and setting its asyncio future. Loops without `add_reader` (Windows'
//! proactor) are woken with one `call_soon_threadsafe` per batch instead.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use parking_lot::Mutex;
use pyo3::exceptions::{PyRuntimeError, PyStopIteration};
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::types::PyType;
use pyo3::{intern, IntoPyObjectExt, PyTraverseError, PyVisit};
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

/// An awaitable for `fut`, running on the runtime; its result converts to Python when it completes (on the event
/// loop's thread: the tokio thread that finished it never waits for the GIL).
pub fn awaitable<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = core::Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    spawn_awaitable(py, async move {
        let r = fut.await;
        Box::new(move |py: Python<'_>| match r {
            Ok(v) => v.into_py_any(py),
            Err(e) => Err(to_pyerr(py, e)),
        }) as Outcome
    })
}

/// A finished future's result, made into a Python value (or exception) on the event loop's thread.
type Outcome = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// Starts `work` on the runtime and returns its awaitable, bound to the running event loop.
fn spawn_awaitable<'py, F>(py: Python<'py>, work: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Outcome> + Send + 'static,
{
    let event_loop = GET_RUNNING_LOOP.import(py, "asyncio", "get_running_loop")?.call0()?;
    let hub = Hub::of(&event_loop)?;
    let future = event_loop.call_method0(intern!(py, "create_future"))?;
    let target = future.clone().unbind();
    let task = runtime().spawn(async move {
        // A panic must still settle the future, or its awaiter would wait forever.
        let outcome = AssertUnwindSafe(work).catch_unwind().await.unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a Rust future panicked".into());
            Box::new(move |_: Python<'_>| Err(PanicException::new_err(message))) as Outcome
        });
        hub.push(Done {
            future: target,
            outcome,
        });
    });
    let pending = Pending {
        future: future.unbind(),
        abort: task.abort_handle(),
        finished: AtomicBool::new(false),
    };
    Ok(Bound::new(py, pending)?.into_any())
}

static GET_RUNNING_LOOP: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();

/// What a `*_async` call returns: a coroutine (so `await`, `asyncio.create_task`, `gather` and `wait_for` all take
/// it) whose Rust future is already running. It yields its asyncio future to the task that awaits it, and returns
/// that future's result. Cancelling the task (`throw`), closing the coroutine or dropping it unawaited drops the
/// Rust future, which aborts its request.
#[pyclass(frozen, module = "amplemarket._core", name = "Pending")]
pub struct Pending {
    future: Py<PyAny>,
    abort: tokio::task::AbortHandle,
    /// Returned, raised or stopped: awaiting again is an error, as for a coroutine.
    finished: AtomicBool,
}

impl Pending {
    fn step(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let future = self.future.bind(py);
        if self.finished.load(Ordering::Relaxed) {
            return Err(PyRuntimeError::new_err("cannot reuse already awaited coroutine"));
        }
        if future.call_method0(intern!(py, "done"))?.is_truthy()? {
            self.finished.store(true, Ordering::Relaxed);
            // The result, or the exception it holds (CancelledError when it was cancelled: then drop the work).
            let result = future
                .call_method0(intern!(py, "result"))
                .inspect_err(|_| self.abort.abort())?;
            return Err(PyStopIteration::new_err((result.unbind(),)));
        }
        // What `asyncio.Future.__await__` does: mark the future as awaited through `await`, and yield it to the task.
        future.setattr(intern!(py, "_asyncio_future_blocking"), true)?;
        Ok(self.future.clone_ref(py))
    }

    /// Drops the Rust future (a no-op once it has finished) and cancels the asyncio future. Never fails: on a
    /// closed loop cancelling can raise, and what is being thrown in (or the close) matters more.
    fn stop(&self, py: Python<'_>) {
        self.abort.abort();
        self.finished.store(true, Ordering::Relaxed);
        let future = self.future.bind(py);
        if !matches!(
            future.call_method0(intern!(py, "done")).and_then(|d| d.is_truthy()),
            Ok(true)
        ) {
            let _ = future.call_method0(intern!(py, "cancel"));
        }
    }
}

#[pymethods]
impl Pending {
    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.step(py)
    }

    fn send(&self, py: Python<'_>, _value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.step(py)
    }

    /// Raises the exception in the awaiter (the task's CancelledError, usually), dropping the Rust future first.
    #[pyo3(signature = (typ, val = None, tb = None))]
    fn throw(
        &self,
        py: Python<'_>,
        typ: &Bound<'_, PyAny>,
        val: Option<&Bound<'_, PyAny>>,
        tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.stop(py);
        let err = match (typ.cast::<PyType>(), val) {
            (Ok(_), Some(v)) if v.is_instance(typ)? => PyErr::from_value(v.clone()),
            (Ok(t), Some(v)) if !v.is_none() => PyErr::from_value(t.call1((v,))?),
            (Ok(t), _) => PyErr::from_value(t.call0()?),
            (Err(_), _) => PyErr::from_value(typ.clone()),
        };
        if let Some(tb) = tb.and_then(|t| t.cast::<pyo3::types::PyTraceback>().ok()) {
            err.set_traceback(py, Some(tb.clone()));
        }
        Err(err)
    }

    fn close(&self, py: Python<'_>) {
        self.stop(py);
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.future)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        // Never awaited, or given up on: the work has nobody to report to.
        self.abort.abort();
    }
}

/// A finished future waiting to be handed to its event loop.
struct Done {
    future: Py<PyAny>,
    outcome: Outcome,
}

#[derive(Default)]
struct Queue {
    items: Vec<Done>,
    /// A drain is due (the loop was woken and has not drained since): pushes need not wake it again.
    scheduled: bool,
}

/// How a hub wakes its loop.
enum Wake {
    /// A socket the loop watches with `add_reader`: writing to it takes no GIL.
    #[cfg(unix)]
    Socket {
        reader: std::os::unix::net::UnixStream,
        writer: std::os::unix::net::UnixStream,
    },
    /// `loop.call_soon_threadsafe(drain)`, for loops without `add_reader`.
    Threadsafe(Py<PyAny>),
}

/// The hubs of loops that take no attributes, with their loops (held, so that a loop's address stays its own).
static OTHER_HUBS: Mutex<Vec<(Py<PyAny>, Arc<Hub>)>> = Mutex::new(Vec::new());

/// One event loop's finished futures, handed over in batches.
struct Hub {
    queue: Mutex<Queue>,
    wake: Wake,
    pid: u32,
}

/// The hub stored on its event loop (as `loop._amplemarket_hub`).
#[pyclass(frozen, module = "amplemarket._core", name = "_Hub")]
struct HubRef {
    hub: Arc<Hub>,
}

#[pymethods]
impl HubRef {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        match &self.hub.wake {
            Wake::Threadsafe(event_loop) => visit.call(event_loop),
            #[cfg(unix)]
            Wake::Socket { .. } => Ok(()),
        }
    }
}

/// The callback that drains a hub on its loop's thread.
#[pyclass(frozen, module = "amplemarket._core", name = "_Drain")]
struct Drain {
    hub: Arc<Hub>,
}

#[pymethods]
impl Drain {
    fn __call__(&self, py: Python<'_>) {
        self.hub.drain(py);
    }
}

impl Hub {
    /// The hub of `event_loop` (which runs on this thread), made on first use.
    fn of(event_loop: &Bound<'_, PyAny>) -> PyResult<Arc<Hub>> {
        let py = event_loop.py();
        let name = intern!(py, "_amplemarket_hub");
        let pid = std::process::id();
        let mut stale = None;
        if let Ok(existing) = event_loop.getattr(name) {
            if let Ok(h) = existing.cast::<HubRef>() {
                if h.get().hub.pid == pid {
                    return Ok(h.get().hub.clone());
                }
                stale = Some(h.get().hub.clone());
            }
        } else if let Some(hub) = Hub::registered(event_loop, pid, &mut stale) {
            return Ok(hub);
        }
        // A hub from before a fork: its socket is shared with the parent, so the loop stops watching it.
        #[cfg(unix)]
        if let Some(Wake::Socket { reader, .. }) = stale.as_ref().map(|h| &h.wake) {
            use std::os::fd::AsRawFd;
            let _ = event_loop.call_method1(intern!(py, "remove_reader"), (reader.as_raw_fd(),));
        }
        let hub = Hub::watched(event_loop).unwrap_or_else(|| {
            Arc::new(Hub {
                queue: Mutex::new(Queue::default()),
                wake: Wake::Threadsafe(event_loop.clone().unbind()),
                pid,
            })
        });
        if event_loop.setattr(name, HubRef { hub: hub.clone() }).is_err() {
            // A loop without attributes (uvloop's): kept in a list instead, which forgets closed loops.
            // Taken out of the lock while Python runs (`is_closed`), which may hand the GIL to another thread.
            let mut others = std::mem::take(&mut *OTHER_HUBS.lock());
            others.retain(|(l, h)| {
                h.pid == pid
                    && !l
                        .call_method0(py, intern!(py, "is_closed"))
                        .and_then(|c| c.is_truthy(py))
                        .unwrap_or(true)
            });
            others.push((event_loop.clone().unbind(), hub.clone()));
            OTHER_HUBS.lock().extend(others);
        }
        Ok(hub)
    }

    /// The hub of a loop that takes no attributes.
    fn registered(event_loop: &Bound<'_, PyAny>, pid: u32, stale: &mut Option<Arc<Hub>>) -> Option<Arc<Hub>> {
        let others = OTHER_HUBS.lock();
        let (_, hub) = others.iter().find(|(l, _)| l.as_ptr() == event_loop.as_ptr())?;
        if hub.pid == pid {
            return Some(hub.clone());
        }
        *stale = Some(hub.clone());
        None
    }

    /// A hub woken through a socket the loop watches, when the loop can watch one.
    #[cfg(unix)]
    fn watched(event_loop: &Bound<'_, PyAny>) -> Option<Arc<Hub>> {
        use std::os::fd::AsRawFd;
        let (reader, writer) = std::os::unix::net::UnixStream::pair().ok()?;
        reader.set_nonblocking(true).ok()?;
        writer.set_nonblocking(true).ok()?;
        let fd = reader.as_raw_fd();
        let hub = Arc::new(Hub {
            queue: Mutex::new(Queue::default()),
            wake: Wake::Socket { reader, writer },
            pid: std::process::id(),
        });
        let drain = Drain { hub: hub.clone() };
        // NotImplementedError on loops that cannot watch sockets (the proactor).
        event_loop
            .call_method1(intern!(event_loop.py(), "add_reader"), (fd, drain))
            .ok()?;
        Some(hub)
    }

    #[cfg(not(unix))]
    fn watched(_: &Bound<'_, PyAny>) -> Option<Arc<Hub>> {
        None
    }

    /// Queues a finished future, waking the loop when no drain is due yet.
    fn push(self: &Arc<Self>, done: Done) {
        let wake = {
            let mut q = self.queue.lock();
            q.items.push(done);
            !std::mem::replace(&mut q.scheduled, true)
        };
        if !wake {
            return;
        }
        match &self.wake {
            #[cfg(unix)]
            Wake::Socket { writer, .. } => {
                use std::io::Write;
                // Nonblocking: a full socket already holds a wake-up.
                let _ = (&*writer).write(&[1]);
            }
            Wake::Threadsafe(event_loop) => {
                let _ = Python::try_attach(|py| {
                    let drain = Drain { hub: self.clone() };
                    // Fails only once the loop is closed: then nobody awaits these futures any more.
                    let _ = event_loop.call_method1(py, intern!(py, "call_soon_threadsafe"), (drain,));
                });
            }
        }
    }

    /// Settles every queued future (on the loop's thread).
    fn drain(&self, py: Python<'_>) {
        #[cfg(unix)]
        if let Wake::Socket { reader, .. } = &self.wake {
            use std::io::Read;
            let mut buf = [0u8; 64];
            while matches!((&*reader).read(&mut buf), Ok(n) if n > 0) {}
        }
        let items = {
            let mut q = self.queue.lock();
            q.scheduled = false;
            std::mem::take(&mut q.items)
        };
        for Done { future, outcome } in items {
            if let Err(e) = settle(py, future.bind(py), outcome) {
                e.write_unraisable(py, Some(future.bind(py)));
            }
        }
    }
}

/// Sets the future's result or exception, unless it was cancelled meanwhile.
fn settle(py: Python<'_>, future: &Bound<'_, PyAny>, outcome: Outcome) -> PyResult<()> {
    if future.call_method0(intern!(py, "done"))?.is_truthy()? {
        return Ok(());
    }
    match outcome(py) {
        Ok(v) => future.call_method1(intern!(py, "set_result"), (v,))?,
        Err(e) => future.call_method1(intern!(py, "set_exception"), (e.into_value(py),))?,
    };
    Ok(())
}
