//! Every way a call can fail, as plain data; the binding layer maps each to its Python exception class.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use super::budget::Credits;
use super::jobs::JobRef;

#[derive(Clone, Debug)]
pub enum Error {
    /// Arguments that cannot make a valid request, caught before anything is sent.
    InvalidInput(String),
    /// A client that cannot work as configured (no key, a bad base URL).
    Config(String),
    /// The server could not be reached, or the connection failed mid-way.
    Connection(ConnectionError),
    /// The server answered with an error status.
    Status(Box<StatusError>),
    /// The server answered 2xx with a body this SDK cannot read.
    Decode(DecodeError),
    /// The client was closed before or during the call.
    Closed,
    /// A call whose worst-case cost is more than its budget, refused before anything was sent.
    BudgetExceeded {
        message: String,
        worst: Credits,
        remaining: Credits,
    },
    /// A job (enrichment or email validation) ended in status `error`.
    JobFailed { job: JobRef, errors: Vec<Value> },
    /// A job was not done by the deadline given to `wait`.
    JobTimeout {
        job: JobRef,
        status: String,
        waited: Duration,
    },
}

#[derive(Clone, Debug)]
pub struct ConnectionError {
    pub message: String,
    pub timeout: bool,
    /// What was being done: `GET /people/find`.
    pub request: String,
}

#[derive(Clone, Debug)]
pub struct DecodeError {
    pub message: String,
    pub status: u16,
    pub request: String,
}

/// An error response, with everything the server said about it.
#[derive(Clone, Debug)]
pub struct StatusError {
    pub status: u16,
    /// `code` of the first error (`person_not_found`, `rate_limited`…); unknown codes are kept as they are.
    pub code: Option<String>,
    pub title: Option<String>,
    pub detail: Option<String>,
    pub source: Option<Value>,
    /// Every entry of `_errors`, as sent.
    pub errors: Vec<Value>,
    pub retry_after: Option<Duration>,
    pub headers: Vec<(String, String)>,
    pub request: String,
    /// A sentence added by the SDK: what to do about it.
    pub hint: Option<String>,
}

impl StatusError {
    /// Reads an error response; any body (HTML, empty, JSON of another shape) still gives an error.
    pub fn from_response(
        status: u16,
        headers: Vec<(String, String)>,
        body: &[u8],
        retry_after: Option<Duration>,
        request: String,
    ) -> Self {
        let errors: Vec<Value> = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| match v.get("_errors") {
                Some(Value::Array(a)) => Some(a.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let first = errors.first();
        let text = |k: &str| first.and_then(|e| e.get(k)).and_then(Value::as_str).map(str::to_string);
        let detail = text("detail").or_else(|| {
            // No envelope: keep a short excerpt of what came back, so an HTML error page is still explained.
            let s = String::from_utf8_lossy(body);
            let s = s.trim();
            (!s.is_empty()).then(|| {
                let excerpt: String = s.chars().take(200).collect();
                format!("unexpected response body: {excerpt}")
            })
        });
        StatusError {
            status,
            code: text("code"),
            title: text("title"),
            detail,
            source: first.and_then(|e| e.get("source")).cloned(),
            errors,
            retry_after,
            headers,
            request,
            hint: None,
        }
    }
}

impl StatusError {
    /// Refused outright (a bad key, no credits, a bad request): nothing was started, and sending the same request
    /// again would be refused the same way. 408 and 429 are "not now", not refusals.
    pub fn is_refusal(&self) -> bool {
        (400..500).contains(&self.status) && !matches!(self.status, 408 | 429)
    }
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status)?;
        if let Some(c) = &self.code {
            write!(f, " {c}")?;
        }
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        } else if let Some(t) = &self.title {
            write!(f, ": {t}")?;
        }
        if let Some(Value::Object(src)) = &self.source {
            if let Some((k, v)) = src.iter().next() {
                write!(f, " ({k} {})", v.as_str().unwrap_or_default())?;
            }
        }
        write!(f, " [{}]", self.request)?;
        if let Some(r) = self.retry_after {
            write!(f, " (Retry-After: {}s)", r.as_secs_f64())?;
        }
        if let Some(h) = &self.hint {
            write!(f, " {h}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput(m) | Error::Config(m) | Error::BudgetExceeded { message: m, .. } => f.write_str(m),
            Error::Connection(c) => write!(f, "{} [{}]", c.message, c.request),
            Error::Status(s) => s.fmt(f),
            Error::Decode(d) => write!(f, "{} [{} answered {}]", d.message, d.request, d.status),
            Error::Closed => f.write_str("the client is closed; create a new amplemarket.Client"),
            Error::JobFailed { job, errors } => {
                let detail = errors
                    .first()
                    .and_then(|e| e.get("detail").or_else(|| e.get("code")))
                    .and_then(Value::as_str)
                    .unwrap_or("no detail given");
                write!(
                    f,
                    "{job} failed: {detail}; results produced before the failure can still be read"
                )
            }
            Error::JobTimeout { job, status, waited } => write!(
                f,
                "{job} was still {status} after {:.1} s; it keeps running: resume it later with {} and wait() \
                 again, or cancel() it",
                waited.as_secs_f64(),
                job.kind.resume_call(&job.id)
            ),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_errors_read_the_envelope_or_keep_an_excerpt() {
        let body = br#"{"object":"error","_errors":[{"status":"404","code":"person_not_found","title":"Person not found","detail":"No match.","source":{"parameter":"email"}},{"code":"other"}]}"#;
        let e = StatusError::from_response(404, vec![], body, None, "GET /people/find".into());
        assert_eq!(e.code.as_deref(), Some("person_not_found"));
        assert_eq!(e.errors.len(), 2);
        assert_eq!(
            e.to_string(),
            "404 person_not_found: No match. (parameter email) [GET /people/find]"
        );
        let html = StatusError::from_response(502, vec![], b"<html>Bad Gateway</html>", None, "GET /x".into());
        assert!(html.code.is_none());
        assert!(html.to_string().contains("<html>Bad Gateway"), "{html}");
        let empty = StatusError::from_response(500, vec![], b"", Some(Duration::from_secs(2)), "GET /x".into());
        assert_eq!(empty.to_string(), "500 [GET /x] (Retry-After: 2s)");
    }
}
