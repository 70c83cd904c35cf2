//! Which failures are retried, and how long to wait before the next attempt.

use std::time::{Duration, SystemTime};

/// `Retry-After` as whole or fractional seconds, or as an HTTP-date. A negative or unreadable value gives `None`
/// (the caller then backs off on its own); a date in the past means "now".
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<f64>() {
        // Beyond what a Duration holds is "longer than anyone waits": the caller's max_retry_wait refuses it.
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Exponential backoff: `min(0.5 * 2^attempt, 8)` seconds, shortened by up to a quarter by `jitter` in [0, 1).
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let base = (0.5 * 2f64.powi(attempt.min(16) as i32)).min(8.0);
    Duration::from_secs_f64(base * (1.0 - 0.25 * jitter.clamp(0.0, 1.0)))
}

/// What kind of request failed, for the retry rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Safety {
    /// Reads, and writes that do the same thing when repeated (cancel).
    Idempotent,
    /// Starts paid work: retried only where the server cannot have started it.
    CreatesJob,
}

/// How a single attempt went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Could not connect: nothing reached the server.
    Connect,
    /// Timed out or broke after the request was sent.
    AfterSend,
    Status(u16),
    /// Nothing to gain from trying again (a redirect loop, a bad link).
    Fatal,
}

/// Whether a failure may be retried at all (the number of attempts and the wait are decided elsewhere).
pub fn retryable(failure: Failure, safety: Safety, has_retry_after: bool) -> bool {
    match (failure, safety) {
        (Failure::Fatal, _) => false,
        (Failure::Connect, _) => true,
        (Failure::AfterSend, Safety::Idempotent) => true,
        (Failure::AfterSend, Safety::CreatesJob) => false,
        (Failure::Status(s), Safety::Idempotent) => matches!(s, 408 | 429 | 500 | 502 | 503 | 504),
        // A 429 is refused before any work; a 503 that says when to come back did not start the job either.
        (Failure::Status(s), Safety::CreatesJob) => s == 429 || (s == 503 && has_retry_after),
    }
}

/// The wait before attempt `attempt + 1`: the server's hint when it gave one, else backoff.
pub fn wait_for(attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
    retry_after.unwrap_or_else(|| backoff(attempt, jitter))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> SystemTime {
        httpdate::parse_http_date("Thu, 26 Nov 2026 12:00:00 GMT").unwrap()
    }

    #[test]
    fn retry_after_values() {
        let table: &[(&str, Option<f64>)] = &[
            ("20", Some(20.0)),
            ("0", Some(0.0)),
            ("-10", None),
            ("61", Some(61.0)),
            ("1.5", Some(1.5)),
            (" 3 ", Some(3.0)),
            ("Thu, 26 Nov 2026 12:00:30 GMT", Some(30.0)),
            ("Thu, 26 Nov 2026 11:59:00 GMT", Some(0.0)),
            ("soon", None),
            ("", None),
            ("NaN", None),
            ("inf", None),
        ];
        for (header, expected) in table {
            let got = parse_retry_after(header, now()).map(|d| d.as_secs_f64());
            assert_eq!(got, *expected, "Retry-After: {header:?}");
        }
    }

    #[test]
    fn backoff_doubles_to_a_cap_with_bounded_jitter() {
        let secs: Vec<f64> = (0..6).map(|a| backoff(a, 0.0).as_secs_f64()).collect();
        assert_eq!(secs, vec![0.5, 1.0, 2.0, 4.0, 8.0, 8.0]);
        assert_eq!(backoff(1, 0.999_999).as_secs_f64().round(), 1.0);
        assert!(backoff(3, 0.5) < backoff(3, 0.0) && backoff(3, 0.5) >= Duration::from_secs(3));
        assert_eq!(wait_for(0, Some(Duration::from_secs(7)), 0.3), Duration::from_secs(7));
    }

    #[test]
    fn what_is_retried() {
        use Failure::*;
        use Safety::*;
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(retryable(Status(s), Idempotent, false), "{s}");
        }
        for s in [400, 401, 402, 403, 404, 405, 409, 413, 422, 451, 501] {
            assert!(!retryable(Status(s), Idempotent, true), "{s}");
        }
        assert!(retryable(Connect, CreatesJob, false));
        assert!(retryable(Status(429), CreatesJob, false));
        assert!(retryable(Status(503), CreatesJob, true));
        assert!(!retryable(Status(503), CreatesJob, false));
        assert!(!retryable(Status(500), CreatesJob, true));
        assert!(!retryable(AfterSend, CreatesJob, false));
        assert!(retryable(AfterSend, Idempotent, false));
    }
}
