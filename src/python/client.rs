//! `amplemarket.Client`: configuration, the shared connection pool, and the default client.

use std::sync::Arc;

use parking_lot::Mutex;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::errors::{checked, credits_dict, to_pyerr};
use super::memory::{credits_limit, CacheArg, CreditsArg, PyCache};
use super::runtime::awaitable;
use super::twins::twins;
use crate::core::budget::{Budget, Credits};
use crate::core::config::Settings;
use crate::core::pacing::RateLimits;
use crate::core::transport::{LogLevel, LogSink};
use crate::core::{self, Config, KeySource};

/// Client-side pacing limits: at most ``requests`` calls (``search`` of them searches) per ``per`` seconds.
/// ``None`` leaves that limit unpaced. ``burst`` is the most calls sent at once after an idle spell (``None``: the
/// limit less one; ``1``: evenly spaced). Pickles, so it can travel to worker processes.
#[pyclass(frozen, eq, module = "amplemarket._core", name = "RateLimits")]
#[derive(PartialEq)]
pub struct PyRateLimits {
    pub inner: RateLimits,
}

#[pymethods]
impl PyRateLimits {
    #[new]
    #[pyo3(signature = (requests = Some(500), search = Some(30), per = 60.0, burst = None), text_signature = "(requests=500, search=30, per=60.0, burst=None)")]
    fn new(py: Python<'_>, requests: Option<i64>, search: Option<i64>, per: f64, burst: Option<i64>) -> PyResult<Self> {
        Ok(PyRateLimits {
            inner: checked(py, RateLimits::new(requests, search, per, burst))?,
        })
    }

    #[getter]
    fn requests(&self) -> Option<u32> {
        self.inner.requests
    }

    #[getter]
    fn search(&self) -> Option<u32> {
        self.inner.search
    }

    #[getter]
    fn per(&self) -> f64 {
        self.inner.per.as_secs_f64()
    }

    #[getter]
    fn burst(&self) -> Option<u32> {
        self.inner.burst
    }

    /// The share of one of ``n`` clients running at once under these limits (the tasks of a Spark or Dask job):
    /// each limit divided by ``n`` (at least 1), with ``burst=1``, so that together they stay under the whole.
    fn share(&self, n: i64) -> PyResult<PyRateLimits> {
        let n = u32::try_from(n)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| pyo3::exceptions::PyValueError::new_err(format!("n must be a positive count, got {n}")))?;
        Ok(PyRateLimits {
            inner: self.inner.share(n),
        })
    }

    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> (
        Bound<'py, pyo3::types::PyType>,
        (Option<u32>, Option<u32>, f64, Option<u32>),
    ) {
        let me = slf.get();
        (slf.get_type(), (me.requests(), me.search(), me.per(), me.burst()))
    }

    fn __repr__(&self) -> String {
        let n = |v: Option<u32>| v.map_or("None".to_string(), |v| v.to_string());
        let burst = match self.inner.burst {
            Some(b) => format!(", burst={b}"),
            None => String::new(),
        };
        format!(
            "RateLimits(requests={}, search={}, per={}{burst})",
            n(self.inner.requests),
            n(self.inner.search),
            self.per()
        )
    }
}

#[derive(FromPyObject)]
pub enum RateLimitArg {
    Enabled(bool),
    Limits(Py<PyRateLimits>),
}

impl RateLimitArg {
    fn resolve(&self, py: Python<'_>) -> Option<RateLimits> {
        match self {
            RateLimitArg::Enabled(true) => Some(RateLimits::default()),
            RateLimitArg::Enabled(false) => None,
            RateLimitArg::Limits(l) => Some(l.bind(py).get().inner),
        }
    }
}

/// A connection to the Amplemarket API: key, base URL, timeouts, retries and pacing, and one connection pool
/// shared by every call and thread.
///
/// Args:
///     api_key: Defaults to the ``AMPLEMARKET_API_KEY`` environment variable.
///     base_url: Defaults to ``AMPLEMARKET_BASE_URL``, else ``https://api.amplemarket.com``. ``http://`` is
///         accepted only for localhost (the sandbox).
///     timeout: Seconds per attempt; ``float("inf")`` for none.
///     connect_timeout: Seconds to establish a connection.
///     max_retries: Retries of retryable failures (connection errors, 408, 429, 5xx).
///     max_retry_wait: A ``Retry-After`` longer than this raises instead of sleeping.
///     reveal_timeout: How long a reveal answering 408 "still processing" is waited out.
///     rate_limit: ``True`` paces calls to the documented limits (500/min, 30/min for search), ``False``
///         turns pacing off, or a ``RateLimits``.
///     user_agent: Replaces ``amplemarket-python/<version>``.
///     trust_idempotency_key: Retry an enrichment request cut short where the server may have started it (a 5xx,
///         a dropped connection, a cut answer), sending its ``Idempotency-Key`` again so the server can answer with
///         the job it started. The sandbox honours the key; the public API does not document it, so by default
///         such a request is not repeated (it could charge twice) and its leads come back ``failed``.
///     cache: Remember the API's answers across calls, processes and restarts: ``True`` (a file in the user's
///         cache directory), a path, or an ``amplemarket.Cache``. Off by default.
///     max_credits: The most this client may spend, checked against each call's worst case before anything is
///         sent (``BudgetExceededError``): one number for each pool, or ``{"email": ..., "phone": ...}``.
#[pyclass(frozen, module = "amplemarket._core", name = "Client")]
pub struct PyClient {
    pub inner: core::Client,
}

/// `timeout=None` is refused rather than read as "no timeout": a hang should never be the silent default.
fn timeout_arg(value: Option<f64>) -> PyResult<f64> {
    value.ok_or_else(|| {
        PyTypeError::new_err(
            "timeout=None would wait forever without saying so; pass seconds, or float('inf') for no limit",
        )
    })
}

fn log_sink() -> Option<(LogLevel, LogSink)> {
    let level = match std::env::var("AMPLEMARKET_LOG")
        .ok()?
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "debug" => LogLevel::Debug,
        "info" => LogLevel::Info,
        _ => return None,
    };
    let sink: LogSink = Arc::new(|level, message| {
        // try_attach: a call finishing while the interpreter shuts down must not panic.
        let _ = Python::try_attach(|py| {
            let logged = (|| -> PyResult<()> {
                let logger = py.import("logging")?.getattr("getLogger")?.call1(("amplemarket",))?;
                let lvl = match level {
                    LogLevel::Debug => 10,
                    LogLevel::Info => 20,
                };
                logger.call_method1("log", (lvl, message))?;
                Ok(())
            })();
            // A Ctrl-C handled while the log line was written raised inside logging, where nobody sees it: raise
            // the interrupt again so the blocking call's next signal check ends the call.
            if let Err(e) = logged {
                if e.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) {
                    // SAFETY: attached to the interpreter; PyErr_SetInterrupt only sets the SIGINT flag.
                    unsafe { pyo3::ffi::PyErr_SetInterrupt() };
                }
            }
        });
    });
    Some((level, sink))
}

impl PyClient {
    pub fn config(&self) -> &Config {
        self.inner.config()
    }

    /// Waits (without the GIL: a failing write warns, which needs it) for the answers stored behind the calls.
    fn flush_cache(&self, py: Python<'_>) {
        if let Some(cache) = self.inner.memory().cache() {
            py.detach(|| cache.flush());
        }
    }
}

#[pymethods]
impl PyClient {
    #[new]
    #[pyo3(signature = (api_key = None, *, base_url = None, timeout = Some(30.0), connect_timeout = 10.0, max_retries = 3, max_retry_wait = 120.0, reveal_timeout = 180.0, rate_limit = RateLimitArg::Enabled(true), user_agent = None, trust_idempotency_key = false, cache = None, max_credits = None), text_signature = "(api_key=None, *, base_url=None, timeout=30.0, connect_timeout=10.0, max_retries=3, max_retry_wait=120.0, reveal_timeout=180.0, rate_limit=True, user_agent=None, trust_idempotency_key=False, cache=None, max_credits=None)")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        api_key: Option<String>,
        base_url: Option<String>,
        timeout: Option<f64>,
        connect_timeout: f64,
        max_retries: i64,
        max_retry_wait: f64,
        reveal_timeout: f64,
        rate_limit: RateLimitArg,
        user_agent: Option<String>,
        trust_idempotency_key: bool,
        cache: Option<CacheArg>,
        max_credits: Option<CreditsArg>,
    ) -> PyResult<Self> {
        let (key, source) = checked(py, Config::key(api_key, KeySource::Environment))?;
        let budget = credits_limit(py, max_credits)?;
        let settings = Settings {
            timeout: Some(timeout_arg(timeout)?),
            connect_timeout: Some(connect_timeout),
            max_retries: Some(max_retries),
            max_retry_wait: Some(max_retry_wait),
            reveal_timeout: Some(reveal_timeout),
            rate_limits: Some(rate_limit.resolve(py)),
            user_agent,
            trust_idempotency_key: Some(trust_idempotency_key),
        };
        let config = checked(py, Config::new(key, source, base_url).and_then(|c| c.with(settings)))?;
        let cache = cache.map(|c| c.open(py)).transpose()?.flatten();
        let client = PyClient::from(config);
        if cache.is_none() && budget.is_unlimited() {
            return Ok(client);
        }
        Ok(PyClient {
            inner: client.inner.with_memory(cache, Some(budget)),
        })
    }

    /// The client's result cache, or ``None``.
    #[getter]
    fn cache(&self) -> Option<PyCache> {
        self.inner.memory().cache().map(|c| PyCache { inner: c.clone() })
    }

    /// The client's ``max_credits`` (``{"email": ..., "phone": ...}``, ``inf`` where not capped), or ``None``.
    #[getter]
    fn max_credits<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.budget_dict(py, Budget::limit)
    }

    /// What the client's calls have spent at most so far (a call's worst case until its answers are in, then what
    /// those answers can have cost), counted when it has ``max_credits``; ``None`` otherwise.
    #[getter]
    fn spent<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.budget_dict(py, Budget::spent)
    }

    /// A copy with some settings changed, sharing this client's connection pool.
    #[pyo3(signature = (*, timeout = None, connect_timeout = None, max_retries = None, max_retry_wait = None, reveal_timeout = None, rate_limit = None, user_agent = None, trust_idempotency_key = None))]
    #[allow(clippy::too_many_arguments)]
    fn with_options(
        &self,
        py: Python<'_>,
        timeout: Option<f64>,
        connect_timeout: Option<f64>,
        max_retries: Option<i64>,
        max_retry_wait: Option<f64>,
        reveal_timeout: Option<f64>,
        rate_limit: Option<RateLimitArg>,
        user_agent: Option<String>,
        trust_idempotency_key: Option<bool>,
    ) -> PyResult<PyClient> {
        let settings = Settings {
            timeout,
            connect_timeout,
            max_retries,
            max_retry_wait,
            reveal_timeout,
            rate_limits: rate_limit.map(|r| r.resolve(py)),
            user_agent,
            trust_idempotency_key,
        };
        let config = checked(py, self.config().clone().with(settings))?;
        Ok(PyClient {
            inner: self.inner.with_config(config),
        })
    }

    #[getter]
    fn base_url(&self) -> String {
        self.config().base_url.as_str().trim_end_matches('/').to_string()
    }

    /// Seconds per attempt (``inf`` for none).
    #[getter]
    fn timeout(&self) -> f64 {
        self.config().timeout.map_or(f64::INFINITY, |d| d.as_secs_f64())
    }

    #[getter]
    fn max_retries(&self) -> u32 {
        self.config().max_retries
    }
    /// Whether enrichment requests cut short are repeated with their ``Idempotency-Key``.
    #[getter]
    fn trust_idempotency_key(&self) -> bool {
        self.config().trust_idempotency_key
    }

    #[getter]
    fn rate_limit(&self) -> Option<PyRateLimits> {
        self.config().rate_limits.map(|inner| PyRateLimits { inner })
    }

    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Closes the connection pool; calls in flight and later calls raise ``ClientClosedError``. Returns once the
    /// answers stored behind the last calls are in the cache file.
    fn close(&self, py: Python<'_>) {
        self.inner.close();
        self.flush_cache(py);
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) {
        self.close(py);
    }

    fn __aenter__<'py>(slf: Py<Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, async move { Ok(slf) })
    }

    #[pyo3(signature = (*_args))]
    fn __aexit__<'py>(&self, py: Python<'py>, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<Bound<'py, PyAny>> {
        self.inner.close();
        let cache = self.inner.memory().cache().cloned();
        awaitable(py, async move {
            if let Some(cache) = cache {
                let _ = tokio::task::spawn_blocking(move || cache.flush()).await;
            }
            Ok(())
        })
    }

    /// Pickles as its configuration without the API key: the key is read again where the client is unpickled,
    /// from ``AMPLEMARKET_API_KEY`` there, and must be the same key (its last four characters are compared).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyDict>,))> {
        let py = slf.py();
        let me = slf.get();
        let c = me.config();
        let state = PyDict::new(py);
        state.set_item("base_url", me.base_url())?;
        state.set_item("timeout", me.timeout())?;
        state.set_item("connect_timeout", c.connect_timeout.as_secs_f64())?;
        state.set_item("max_retries", c.max_retries)?;
        state.set_item("max_retry_wait", c.max_retry_wait.as_secs_f64())?;
        state.set_item("reveal_timeout", c.reveal_timeout.as_secs_f64())?;
        match c.rate_limits {
            Some(inner) => state.set_item("rate_limit", PyRateLimits { inner })?,
            None => state.set_item("rate_limit", false)?,
        }
        state.set_item("user_agent", &c.user_agent)?;
        state.set_item("trust_idempotency_key", c.trust_idempotency_key)?;
        state.set_item("key_hint", c.api_key.redacted())?;
        Ok((slf.get_type().getattr("_from_pickle")?, (state,)))
    }

    /// A client from the state ``__reduce__`` gave, with the key of ``AMPLEMARKET_API_KEY`` in this process.
    #[classmethod]
    fn _from_pickle(
        _cls: &Bound<'_, pyo3::types::PyType>,
        py: Python<'_>,
        state: &Bound<'_, PyDict>,
    ) -> PyResult<Self> {
        fn item<'py>(state: &Bound<'py, PyDict>, name: &str) -> PyResult<Bound<'py, PyAny>> {
            state
                .get_item(name)?
                .ok_or_else(|| PyTypeError::new_err(format!("a pickled Client lacks {name:?}")))
        }
        let hint: String = item(state, "key_hint")?.extract()?;
        let (key, source) = match Config::key(None, KeySource::Environment) {
            Ok(k) => k,
            Err(_) => {
                return Err(to_pyerr(
                    py,
                    core::Error::Config(format!(
                        "a Client is pickled without its API key ({hint}), and AMPLEMARKET_API_KEY is not set in the \
                         process that unpickled it: set AMPLEMARKET_API_KEY there (an executor's environment or \
                         secret), or build a Client inside each task instead of sending one"
                    )),
                ))
            }
        };
        if key.redacted() != hint {
            return Err(to_pyerr(
                py,
                core::Error::Config(format!(
                    "this Client was pickled with the API key {hint}, but AMPLEMARKET_API_KEY here is {}: set it \
                     to the same key where the client is unpickled, or build a Client inside each task",
                    key.redacted()
                )),
            ));
        }
        let rate_limit: RateLimitArg = item(state, "rate_limit")?.extract()?;
        let settings = Settings {
            timeout: Some(item(state, "timeout")?.extract()?),
            connect_timeout: Some(item(state, "connect_timeout")?.extract()?),
            max_retries: Some(item(state, "max_retries")?.extract()?),
            max_retry_wait: Some(item(state, "max_retry_wait")?.extract()?),
            reveal_timeout: Some(item(state, "reveal_timeout")?.extract()?),
            rate_limits: Some(rate_limit.resolve(py)),
            user_agent: Some(item(state, "user_agent")?.extract()?),
            trust_idempotency_key: Some(item(state, "trust_idempotency_key")?.extract()?),
        };
        let base_url: String = item(state, "base_url")?.extract()?;
        let config = checked(
            py,
            Config::new(key, source, Some(base_url)).and_then(|c| c.with(settings)),
        )?;
        Ok(PyClient::from(config))
    }

    fn __repr__(&self) -> String {
        let c = self.config();
        format!(
            "<amplemarket.Client base_url='{}' api_key='{}' timeout={} max_retries={}{}>",
            self.base_url(),
            c.api_key.redacted(),
            self.timeout(),
            c.max_retries,
            if self.inner.is_closed() { " closed" } else { "" }
        )
    }
}

twins! {
    /// Credit balances and limits of the account (the cheapest call that checks the key works).
    method PyClient, account_info / account_info_async, signature (), |slf, _py| -> Json {
        let client = slf.get().inner.clone();
        async move { crate::core::account::info(&client).await.map(Json) }
    }
}

impl From<Config> for PyClient {
    fn from(config: Config) -> Self {
        let inner = core::Client::new(config);
        inner.set_log_sink(log_sink());
        PyClient { inner }
    }
}

/// A JSON value that converts to Python objects.
pub struct Json(pub serde_json::Value);

impl<'py> IntoPyObject<'py> for Json {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;
    fn into_pyobject(self, py: Python<'py>) -> Result<Self::Output, Self::Error> {
        Ok(pythonize::pythonize(py, &self.0)?)
    }
}

static DEFAULT: Mutex<Option<Py<PyClient>>> = Mutex::new(None);

/// The client used when a call is given ``client=None``: the one set with ``set_default_client``, else one built
/// from the environment on first use.
#[pyfunction]
pub fn get_default_client(py: Python<'_>) -> PyResult<Py<PyClient>> {
    if let Some(c) = DEFAULT.lock().as_ref() {
        return Ok(c.clone_ref(py));
    }
    // Its key comes from the environment on behalf of calls that named no client: say so when the key is refused.
    let config = Config::key(None, KeySource::DefaultClient).and_then(|(key, source)| Config::new(key, source, None));
    let client = Py::new(py, PyClient::from(checked(py, config)?))?;
    let mut slot = DEFAULT.lock();
    Ok(slot.get_or_insert(client).clone_ref(py))
}

/// Makes ``client`` the default for calls given ``client=None`` (``None`` goes back to the environment's).
#[pyfunction]
#[pyo3(signature = (client))]
pub fn set_default_client(client: Option<Py<PyClient>>) {
    *DEFAULT.lock() = client;
}

/// The core client of `client`, or of the default client.
pub fn resolve(py: Python<'_>, client: Option<&Bound<'_, PyClient>>) -> PyResult<core::Client> {
    match client {
        Some(c) => Ok(c.get().inner.clone()),
        None => Ok(get_default_client(py)?.bind(py).get().inner.clone()),
    }
}

impl PyClient {
    /// One of the budget's figures as ``{"email": ..., "phone": ...}``; ``None`` for a client without ``max_credits``.
    fn budget_dict<'py>(
        &self,
        py: Python<'py>,
        figure: fn(&Budget) -> Credits,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.inner
            .memory()
            .budget()
            .map(|b| credits_dict(py, figure(b)))
            .transpose()
    }
}
