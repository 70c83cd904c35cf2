//! The HTTP client: one connection pool per `Client`, shared by every call and thread, with auth, pacing,
//! retries and logging. Every API operation goes through `Client::send`.

use super::budget::Credits;
use super::cache::Cache;
use super::memory::Memory;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::Method;

use super::config::Config;
use super::error::{ConnectionError, Error, Result, StatusError};
use super::pacing::Pacer;
use super::retry::{self, parse_retry_after, Attempt, Bounds, Failure, Next, Safety, Stop};

const ACCEPT_VALUE: &str = "application/vnd.amp+json, application/json;q=0.9";

/// One API call.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: Method,
    /// A path (`/people/find`) or a link from a response (`/people/enrichment-requests/1?page[after]=2`).
    pub target: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Bytes>,
    pub safety: Safety,
    pub is_search: bool,
    /// A reveal: a 408 "still processing" is waited out up to `reveal_timeout`.
    pub reveal: bool,
    pub idempotency_key: Option<String>,
}

impl Request {
    pub fn get(target: impl Into<String>) -> Self {
        Request {
            method: Method::GET,
            target: target.into(),
            query: Vec::new(),
            body: None,
            safety: Safety::Idempotent,
            is_search: false,
            reveal: false,
            idempotency_key: None,
        }
    }

    pub fn json(method: Method, target: impl Into<String>, body: &serde_json::Value) -> Self {
        Request {
            method,
            body: Some(Bytes::from(serde_json::to_vec(body).expect("JSON values serialise"))),
            ..Request::get(target)
        }
    }

    /// `GET /people/find`, for messages and logs (no query: it may hold personal data).
    pub fn describe(&self) -> String {
        let path = self.target.split('?').next().unwrap_or_default();
        format!("{} {path}", self.method)
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub request: String,
}

impl Response {
    pub fn retry_after(&self) -> Option<Duration> {
        retry_after_of(&self.headers)
    }
}

fn retry_after_of(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Info,
}

pub type LogSink = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

/// What a client and every copy made by `with_config` share: the closed flag and the log sink.
struct Shared {
    closed: AtomicBool,
    /// Whether `log` holds a sink: checked before taking its lock, on every call.
    logging: AtomicBool,
    /// Flips once on `close()`, so calls in flight stop waiting.
    closing: tokio::sync::watch::Sender<bool>,
    log: RwLock<Option<(LogLevel, LogSink)>>,
}

impl Shared {
    fn new(log: Option<(LogLevel, LogSink)>) -> Arc<Shared> {
        Arc::new(Shared {
            closed: AtomicBool::new(false),
            logging: AtomicBool::new(log.is_some()),
            closing: tokio::sync::watch::channel(false).0,
            log: RwLock::new(log),
        })
    }
}

/// The connection pool, built on first use (and again in a forked child), with the pid that built it.
type Pool = Arc<Mutex<Option<(u32, reqwest::Client)>>>;

#[derive(Clone)]
pub struct Client {
    config: Arc<Config>,
    shared: Arc<Shared>,
    pool: Pool,
    pacer: Arc<Pacer>,
    /// The result cache and credit budget, kept by copies made with `with_config`.
    memory: Arc<Memory>,
    /// `Bearer <key>`, made once (marked sensitive); `None` for a key no header can hold, which `bearer_auth`
    /// then refuses on each call as before.
    auth: Option<HeaderValue>,
}

fn auth_header(config: &Config) -> Option<HeaderValue> {
    let mut v = HeaderValue::try_from(format!("Bearer {}", config.api_key.expose())).ok()?;
    v.set_sensitive(true);
    Some(v)
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.config.base_url.as_str())
            .field("api_key", &self.config.api_key)
            .finish()
    }
}

impl Client {
    pub fn new(config: Config) -> Self {
        Client {
            shared: Shared::new(None),
            pool: Pool::default(),
            pacer: Arc::new(Pacer::new(config.rate_limits)),
            auth: auth_header(&config),
            memory: Arc::new(Memory::new(&config, None, None)),
            config: Arc::new(config),
        }
    }

    /// A copy (sharing the pool, pacer and closed flag) with this result cache and budget.
    pub fn with_memory(&self, cache: Option<Arc<Cache>>, budget: Option<Credits>) -> Self {
        Client {
            memory: Arc::new(Memory::new(&self.config, cache, budget)),
            ..self.clone()
        }
    }

    pub fn memory(&self) -> &Memory {
        &self.memory
    }

    /// A client with other settings sharing this one's connection pool (and pacer, when the limits are equal).
    pub fn with_config(&self, config: Config) -> Self {
        // The pool bakes in the connect timeout and user agent; the pacer its limits. Closing closes every copy.
        let pool =
            if config.connect_timeout == self.config.connect_timeout && config.user_agent == self.config.user_agent {
                self.pool.clone()
            } else {
                Pool::default()
            };
        let pacer = if config.rate_limits == self.config.rate_limits {
            self.pacer.clone()
        } else {
            Arc::new(Pacer::new(config.rate_limits))
        };
        Client {
            auth: auth_header(&config),
            config: Arc::new(config),
            shared: self.shared.clone(),
            pool,
            pacer,
            memory: self.memory.clone(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn set_log_sink(&self, sink: Option<(LogLevel, LogSink)>) {
        let mut log = self.shared.log.write().unwrap_or_else(|e| e.into_inner());
        self.shared.logging.store(sink.is_some(), Ordering::Release);
        *log = sink;
    }

    fn log(&self, level: LogLevel, message: impl FnOnce() -> String) {
        if !self.shared.logging.load(Ordering::Acquire) {
            return;
        }
        let sink = self.shared.log.read().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some((min, sink)) = sink {
            if level >= min {
                sink(level, &message());
            }
        }
    }

    /// Closes the pool; calls in flight and later calls fail with `Error::Closed`.
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.shared.closing.send_replace(true);
        *self.pool.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::SeqCst)
    }

    /// The pool, built on first use and again in a forked child: connections and their runtime do not survive
    /// `fork()`.
    fn http(&self) -> Result<reqwest::Client> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        let pid = std::process::id();
        let mut slot = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((owner, client)) = slot.as_ref() {
            if *owner == pid {
                return Ok(client.clone());
            }
        }
        // rustls' ring provider, for this library's copy of rustls (reqwest is built without one of its own).
        // Err means one is already in place.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .connect_timeout(self.config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .user_agent(self.config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| Error::Config(format!("could not build the HTTP client: {e}")))?;
        *slot = Some((pid, client.clone()));
        Ok(client)
    }

    /// Sends a request with pacing and retries; a 2xx response is returned, anything else is an error.
    /// Closing the client ends the call at once with `Error::Closed`.
    pub async fn send(&self, req: &Request) -> Result<Response> {
        self.unless_closed(self.send_inner(req)).await
    }

    /// Runs `work`, ending it with `Error::Closed` as soon as the client is closed.
    pub async fn unless_closed<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        let mut closing = self.shared.closing.subscribe();
        // Closing first: work that ended because of the close (each of its calls failing) must not win the race.
        tokio::select! {
            biased;
            _ = closing.wait_for(|closed| *closed) => Err(Error::Closed),
            r = work => r,
        }
    }

    async fn send_inner(&self, req: &Request) -> Result<Response> {
        let started = Instant::now();
        let description = req.describe();
        // With a trusted key, repeating a creation can only return the job already started: as safe as a read.
        let safety = match req.safety {
            Safety::CreatesJob if self.config.trust_idempotency_key && req.idempotency_key.is_some() => {
                Safety::Idempotent
            }
            other => other,
        };
        let mut retries: u32 = 0;
        let mut reveal_waits: u32 = 0;
        loop {
            if self.is_closed() {
                return Err(Error::Closed);
            }
            self.pacer.acquire(req.is_search).await;
            let sent_at = Instant::now();
            let (failure, error, retry_after) = match self.attempt(req, &description).await {
                Ok(resp) if (200..300).contains(&resp.status) => {
                    self.log(LogLevel::Info, || {
                        format!(
                            "{description} -> {} in {} ms",
                            resp.status,
                            sent_at.elapsed().as_millis()
                        )
                    });
                    return Ok(resp);
                }
                Ok(resp) => {
                    let retry_after = resp.retry_after();
                    let headers = resp
                        .headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                        .collect();
                    let e =
                        StatusError::from_response(resp.status, headers, &resp.body, retry_after, description.clone());
                    (Failure::Status(resp.status), Error::Status(Box::new(e)), retry_after)
                }
                Err((failure, e)) => (failure, e, None),
            };
            self.log(LogLevel::Info, || format!("{description} -> {error}"));
            let attempt = Attempt {
                failure,
                retry_after,
                safety,
                reveal: req.reveal,
                retries,
                reveal_waits,
                elapsed: started.elapsed(),
            };
            let decision = retry::decide(attempt, self.bounds(), rand::random());
            if let Some(pause) = decision.pause_all {
                self.pacer.pause(pause);
            }
            let (wait, reveal) = match decision.next {
                Next::Stop(why) => return Err(self.explain(error, why)),
                Next::Retry { wait, reveal } => (wait, reveal),
            };
            if reveal {
                reveal_waits += 1;
                self.log(LogLevel::Info, || {
                    format!(
                        "{description}: reveal still processing, asking again in {:.1} s",
                        wait.as_secs_f64()
                    )
                });
            } else {
                retries += 1;
                self.log(LogLevel::Info, || {
                    format!(
                        "{description}: retrying in {:.2} s (attempt {} of {})",
                        wait.as_secs_f64(),
                        retries + 1,
                        self.config.max_retries + 1
                    )
                });
                tell_retry(failure, wait);
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn bounds(&self) -> Bounds {
        Bounds {
            max_retries: self.config.max_retries,
            max_retry_wait: self.config.max_retry_wait,
            reveal_timeout: self.config.reveal_timeout,
        }
    }

    /// The error of a request that is not sent again, with a sentence saying why and what to do.
    fn explain(&self, error: Error, why: Stop) -> Error {
        let c = &self.config;
        let hint = match why {
            Stop::Final => return error,
            Stop::RejectedKey => self.rejected_key_hint(),
            Stop::MayHaveStartedJob => "The job (an enrichment request or email validation) may have been created \
                before this failure, so the request was not sent again (that could charge twice); check your recent \
                jobs before sending these inputs again, or let the client repeat it with its Idempotency-Key \
                (Client(trust_idempotency_key=True))."
                .into(),
            Stop::RevealTimedOut => format!(
                "The reveal was still processing after {:.1} s (reveal_timeout); call again later: a reveal is \
                 charged once.",
                c.reveal_timeout.as_secs_f64()
            ),
            Stop::OutOfAttempts(n) => format!("Gave up after {n} attempt{}.", if n == 1 { "" } else { "s" }),
            Stop::WaitTooLong(w) => format!(
                "The server asked to wait {:.0} s, more than max_retry_wait ({:.0} s); try again later or raise \
                 max_retry_wait.",
                w.as_secs_f64(),
                c.max_retry_wait.as_secs_f64()
            ),
        };
        with_hint(error, hint)
    }

    async fn attempt(&self, req: &Request, description: &str) -> std::result::Result<Response, (Failure, Error)> {
        let http = self.http().map_err(|e| (Failure::Fatal, e))?;
        let url = self.resolve(&req.target).map_err(|e| (Failure::Fatal, e))?;
        let mut rb = http.request(req.method.clone(), url);
        rb = match &self.auth {
            Some(auth) => rb.header(AUTHORIZATION, auth.clone()),
            None => rb.bearer_auth(self.config.api_key.expose()),
        };
        rb = rb.header(ACCEPT, HeaderValue::from_static(ACCEPT_VALUE));
        if !req.query.is_empty() {
            rb = rb.query(&req.query);
        }
        if let Some(t) = self.config.timeout {
            rb = rb.timeout(t);
        }
        if let Some(body) = &req.body {
            rb = rb.header(CONTENT_TYPE, "application/json").body(body.clone());
        }
        if let Some(k) = &req.idempotency_key {
            rb = rb.header("Idempotency-Key", k);
        }
        self.log(LogLevel::Debug, || {
            let q: Vec<String> = req.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!(
                "{description} ?{} (Authorization: Bearer {})",
                q.join("&"),
                self.config.api_key.redacted()
            )
        });
        let connection_error = |e: reqwest::Error, what: &str| {
            let failure = if e.is_connect() {
                Failure::Connect
            } else if e.is_redirect() {
                Failure::Fatal
            } else {
                Failure::AfterSend
            };
            let timeout = e.is_timeout();
            let e = e.without_url();
            let mut message = format!("{what}: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                message.push_str(&format!(": {s}"));
                source = s.source();
            }
            // rustls names a certificate it refuses so; trying again cannot change the verdict.
            let failure = if message.contains("invalid peer certificate") {
                message.push_str(
                    ". The server's TLS certificate could not be verified, so nothing was sent. Behind a proxy that \
                     inspects TLS, add its CA certificate to the system's trust store or point SSL_CERT_FILE at it; \
                     verification cannot be turned off.",
                );
                Failure::Fatal
            } else {
                failure
            };
            (
                failure,
                Error::Connection(ConnectionError {
                    message,
                    timeout,
                    request: description.to_string(),
                }),
            )
        };
        let mut resp = rb.send().await.map_err(|e| {
            let what = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "could not connect"
            } else {
                "request failed"
            };
            connection_error(e, what)
        })?;
        let status = resp.status().as_u16();
        let headers = std::mem::take(resp.headers_mut());
        let body = resp
            .bytes()
            .await
            .map_err(|e| connection_error(e, "the connection broke while reading the response"))?;
        Ok(Response {
            status,
            headers,
            body,
            request: description.to_string(),
        })
    }

    /// Resolves a path or a response link against the base URL, refusing links to other hosts: the key must not
    /// leave for a server it was not given for.
    pub fn resolve(&self, target: &str) -> Result<url::Url> {
        let url = self
            .config
            .base_url
            .join(target)
            .map_err(|e| Error::InvalidInput(format!("cannot resolve {target:?} against the base URL: {e}")))?;
        // A path from the root whose first segment starts with a letter or digit (`/people/find`) keeps the base's
        // scheme, host and port: only `//`, `/\` (and those with tabs or newlines between, which URL parsing
        // drops) could name another host.
        let same_origin = target.starts_with('/') && target.as_bytes().get(1).is_some_and(u8::is_ascii_alphanumeric);
        if !same_origin && url.origin() != self.config.base_url.origin() {
            return Err(Error::InvalidInput(format!(
                "refusing to follow a link to another host ({}); links must stay on {}",
                url.host_str().unwrap_or("?"),
                self.config.base_url
            )));
        }
        Ok(url)
    }
}

/// Told of each pause before a request is sent again (why, how long), so a progress display can show it.
pub type RetryWatch = Arc<dyn Fn(&str, Duration) + Send + Sync>;

tokio::task_local! {
    /// The watcher of the calls made inside `RETRY_WATCH.scope(...)`.
    pub static RETRY_WATCH: RetryWatch;
}

fn tell_retry(failure: Failure, wait: Duration) {
    let why = match failure {
        Failure::Status(s) => s.to_string(),
        Failure::Connect => "a connection failure".into(),
        Failure::AfterSend | Failure::Fatal => "a dropped connection".into(),
    };
    let _ = RETRY_WATCH.try_with(|watch| watch(&why, wait));
}

impl Client {
    /// Which key was refused and where it came from (the key itself never appears: `amp_…1234` at most).
    fn rejected_key_hint(&self) -> String {
        let c = &self.config;
        format!(
            "The API key {} ({}) was not accepted by {}: check that it is the key shown in Amplemarket's settings \
             and that it has not been revoked (or use amplemarket.testing.Sandbox for local work).",
            c.api_key.redacted(),
            c.key_source.describe(),
            c.base_url.as_str().trim_end_matches('/'),
        )
    }
}

fn with_hint(error: Error, hint: String) -> Error {
    match error {
        Error::Status(mut s) => {
            s.hint = Some(hint);
            Error::Status(s)
        }
        Error::Connection(mut c) => {
            c.message = format!("{} {hint}", c.message);
            Error::Connection(c)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::{parse_base_url, ApiKey, KeySource};

    fn client() -> Client {
        Client::new(Config {
            api_key: ApiKey::new("amp_test_0123456789").unwrap(),
            key_source: KeySource::DefaultClient,
            base_url: parse_base_url("https://api.example.com").unwrap(),
            timeout: None,
            connect_timeout: Duration::from_secs(1),
            max_retries: 0,
            max_retry_wait: Duration::from_secs(1),
            reveal_timeout: Duration::from_secs(1),
            rate_limits: None,
            user_agent: "test".into(),
            trust_idempotency_key: false,
        })
    }

    #[test]
    fn links_stay_on_the_base_host() {
        let c = client();
        for ok in [
            "/people/find",
            "/people/enrichment-requests/1?page[after]=2",
            "people/find",
            "/9",
        ] {
            assert_eq!(c.resolve(ok).unwrap().host_str(), Some("api.example.com"), "{ok}");
        }
        for other in [
            "//evil.example/x",
            "/\\evil.example/x",
            "/\t/evil.example/x",
            "/\n/evil.example/x",
            "\\\\evil.example/x",
            "https://evil.example/x",
            "http://api.example.com/x",
            "https://api.example.com:444/x",
        ] {
            assert!(c.resolve(other).is_err(), "{other:?} was followed");
        }
    }

    #[test]
    fn the_key_is_one_sensitive_header() {
        let auth = client().auth.unwrap();
        assert!(auth.is_sensitive());
        assert_eq!(auth.to_str().unwrap(), "Bearer amp_test_0123456789");
    }
}
