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

/// Where a request stands after an attempt that failed.
#[derive(Clone, Copy, Debug)]
pub struct Attempt {
    pub failure: Failure,
    pub retry_after: Option<Duration>,
    pub safety: Safety,
    /// A reveal (`reveal_email` / `reveal_phone_numbers`): a 408 means "still working, come back".
    pub reveal: bool,
    /// Retries made so far, and waits for a reveal still processing.
    pub retries: u32,
    pub reveal_waits: u32,
    /// Since the request was first sent.
    pub elapsed: Duration,
}

/// The client's bounds on retrying.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub max_retries: u32,
    pub max_retry_wait: Duration,
    pub reveal_timeout: Duration,
}

/// Why a failed request is not sent again.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stop {
    /// The failure is final as it is (a 4xx, a redirect loop…).
    Final,
    /// The server refused the key (401).
    RejectedKey,
    /// A job creation the server may have started: sending it again could charge twice.
    MayHaveStartedJob,
    /// A reveal still processing after `reveal_timeout`.
    RevealTimedOut,
    /// Every attempt allowed was made; the number of attempts.
    OutOfAttempts(u32),
    /// The server asked to wait longer than `max_retry_wait`.
    WaitTooLong(Duration),
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    /// Hold every call of the client back this long first (a 429: the account's limit, not this call's).
    pub pause_all: Option<Duration>,
    pub next: Next,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Next {
    /// Send again after `wait`; `reveal` when this is a wait for a reveal still processing, not a retry.
    Retry {
        wait: Duration,
        reveal: bool,
    },
    Stop(Stop),
}

/// Every retry rule in one place: the send loop only carries the decision out. `jitter` is in [0, 1).
pub fn decide(a: Attempt, bounds: Bounds, jitter: f64) -> Decision {
    let too_long = a.retry_after.filter(|w| *w > bounds.max_retry_wait);
    let pause_all = (a.failure == Failure::Status(429) && too_long.is_none())
        .then(|| a.retry_after.unwrap_or(Duration::from_secs(1)));
    let next = if a.reveal && a.failure == Failure::Status(408) {
        let wait = wait_for(a.reveal_waits.min(4), a.retry_after, jitter);
        if a.elapsed.saturating_add(wait) > bounds.reveal_timeout {
            Next::Stop(Stop::RevealTimedOut)
        } else {
            Next::Retry { wait, reveal: true }
        }
    } else if !retryable(a.failure, a.safety, a.retry_after.is_some()) {
        Next::Stop(match (a.safety, a.failure) {
            (_, Failure::Status(401)) => Stop::RejectedKey,
            (Safety::CreatesJob, Failure::AfterSend | Failure::Status(500..=599 | 408)) => Stop::MayHaveStartedJob,
            _ => Stop::Final,
        })
    } else if a.retries >= bounds.max_retries {
        Next::Stop(Stop::OutOfAttempts(a.retries + 1))
    } else if let Some(w) = too_long {
        Next::Stop(Stop::WaitTooLong(w))
    } else {
        Next::Retry {
            wait: wait_for(a.retries, a.retry_after, jitter),
            reveal: false,
        }
    };
    Decision { pause_all, next }
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
    fn decisions() {
        use Failure::*;
        use Safety::*;
        let s = Duration::from_secs;
        let bounds = Bounds {
            max_retries: 3,
            max_retry_wait: s(120),
            reveal_timeout: s(180),
        };
        let base = Attempt {
            failure: Status(503),
            retry_after: None,
            safety: Idempotent,
            reveal: false,
            retries: 0,
            reveal_waits: 0,
            elapsed: s(0),
        };
        let retry = |wait: Duration| Next::Retry { wait, reveal: false };
        let table: Vec<(Attempt, Option<Duration>, Next)> = vec![
            // retried with backoff, or the server's Retry-After
            (base, None, retry(Duration::from_millis(500))),
            (Attempt { retries: 2, ..base }, None, retry(s(2))),
            (
                Attempt {
                    retry_after: Some(s(7)),
                    ..base
                },
                None,
                retry(s(7)),
            ),
            // a 429 pauses every call of the client, and is retried after its Retry-After
            (
                Attempt {
                    failure: Status(429),
                    retry_after: Some(s(3)),
                    ..base
                },
                Some(s(3)),
                retry(s(3)),
            ),
            (
                Attempt {
                    failure: Status(429),
                    ..base
                },
                Some(s(1)),
                retry(Duration::from_millis(500)),
            ),
            // a wait longer than max_retry_wait stops, and pauses nothing
            (
                Attempt {
                    failure: Status(429),
                    retry_after: Some(s(600)),
                    ..base
                },
                None,
                Next::Stop(Stop::WaitTooLong(s(600))),
            ),
            // out of attempts: the count of attempts made
            (Attempt { retries: 3, ..base }, None, Next::Stop(Stop::OutOfAttempts(4))),
            // final failures
            (
                Attempt {
                    failure: Status(404),
                    ..base
                },
                None,
                Next::Stop(Stop::Final),
            ),
            (
                Attempt {
                    failure: Status(401),
                    ..base
                },
                None,
                Next::Stop(Stop::RejectedKey),
            ),
            (Attempt { failure: Fatal, ..base }, None, Next::Stop(Stop::Final)),
            // job creations: never sent again where the server may have started the job
            (
                Attempt {
                    safety: CreatesJob,
                    ..base
                },
                None,
                Next::Stop(Stop::MayHaveStartedJob),
            ),
            (
                Attempt {
                    safety: CreatesJob,
                    failure: AfterSend,
                    ..base
                },
                None,
                Next::Stop(Stop::MayHaveStartedJob),
            ),
            (
                Attempt {
                    safety: CreatesJob,
                    failure: Status(422),
                    ..base
                },
                None,
                Next::Stop(Stop::Final),
            ),
            (
                Attempt {
                    safety: CreatesJob,
                    failure: Connect,
                    ..base
                },
                None,
                retry(Duration::from_millis(500)),
            ),
            (
                Attempt {
                    safety: CreatesJob,
                    retry_after: Some(s(2)),
                    ..base
                },
                None,
                retry(s(2)),
            ),
            // a reveal still processing is waited out (not counted as a retry) until reveal_timeout
            (
                Attempt {
                    failure: Status(408),
                    reveal: true,
                    retry_after: Some(s(60)),
                    retries: 3,
                    ..base
                },
                None,
                Next::Retry {
                    wait: s(60),
                    reveal: true,
                },
            ),
            (
                Attempt {
                    failure: Status(408),
                    reveal: true,
                    retry_after: Some(s(60)),
                    elapsed: s(150),
                    ..base
                },
                None,
                Next::Stop(Stop::RevealTimedOut),
            ),
            (
                Attempt {
                    failure: Status(408),
                    reveal: false,
                    ..base
                },
                None,
                retry(Duration::from_millis(500)),
            ),
        ];
        for (attempt, pause, next) in table {
            let d = decide(attempt, bounds, 0.0);
            assert_eq!((d.pause_all, d.next), (pause, next), "{attempt:?}");
        }
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
