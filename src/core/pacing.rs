//! Client-side pacing: token buckets matching the account's limits, shared by every call of a client, so loops
//! and fan-outs run at the allowed rate instead of collecting 429s. A 429 that still gets through pauses all
//! calls for its `Retry-After`.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

/// Requests allowed per `per` seconds, overall and for search. `None` leaves a limit unpaced.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimits {
    pub requests: Option<u32>,
    pub search: Option<u32>,
    pub per: Duration,
}

impl Default for RateLimits {
    /// The documented account limits: 500 requests a minute, 30 of them searches.
    fn default() -> Self {
        RateLimits {
            requests: Some(500),
            search: Some(30),
            per: Duration::from_secs(60),
        }
    }
}

impl RateLimits {
    /// Limits as a caller gives them: each a positive count per `per` seconds, or `None` for no limit.
    pub fn new(requests: Option<i64>, search: Option<i64>, per: f64) -> crate::core::Result<RateLimits> {
        let limit = |name: &str, value: Option<i64>| {
            value
                .map(|v| {
                    u32::try_from(v).ok().filter(|v| *v > 0).ok_or_else(|| {
                        crate::core::Error::InvalidInput(format!(
                            "{name} must be a positive number of requests per `per` seconds (a limit of 0 would \
                             never send anything), or None for no limit; got {v}"
                        ))
                    })
                })
                .transpose()
        };
        Ok(RateLimits {
            requests: limit("requests", requests)?,
            search: limit("search", search)?,
            per: crate::core::config::seconds("per", per)?,
        })
    }
}

/// How much slower than the limit the client paces: arrival times jitter, and a server counting strictly must
/// never see us early.
const HEADROOM: f64 = 0.97;

fn bucket(limit: Option<u32>, per: Duration) -> Option<DefaultDirectRateLimiter> {
    let n = NonZeroU32::new(limit?)?;
    let period = per.mul_f64(1.0 / (f64::from(n.get()) * HEADROOM));
    // One token short of the server's burst: the first requests of a fresh client also pay for connecting, so
    // they reach the server later than their tokens were taken, and the next one must not catch up with them.
    let burst = NonZeroU32::new(n.get() - 1).unwrap_or(n);
    Some(RateLimiter::direct(
        Quota::with_period(period.max(Duration::from_nanos(1)))?.allow_burst(burst),
    ))
}

pub struct Pacer {
    pub limits: Option<RateLimits>,
    overall: Option<DefaultDirectRateLimiter>,
    search: Option<DefaultDirectRateLimiter>,
    paused_until: Mutex<Option<Instant>>,
}

impl Pacer {
    pub fn new(limits: Option<RateLimits>) -> Self {
        let (overall, search) = match limits {
            Some(l) => (bucket(l.requests, l.per), bucket(l.search, l.per)),
            None => (None, None),
        };
        Pacer {
            limits,
            overall,
            search,
            paused_until: Mutex::new(None),
        }
    }

    /// Waits until a request may be sent.
    pub async fn acquire(&self, is_search: bool) {
        loop {
            let until = *self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => break,
            }
        }
        if is_search {
            if let Some(l) = &self.search {
                l.until_ready().await;
            }
        }
        if let Some(l) = &self.overall {
            l.until_ready().await;
        }
    }

    /// Holds every call back for `wait` (the server said 429 with this `Retry-After`).
    pub fn pause(&self, wait: Duration) {
        let t = Instant::now() + wait;
        let mut p = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if p.is_none_or(|cur| cur < t) {
            *p = Some(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_passes_then_calls_are_spaced() {
        let p = Pacer::new(Some(RateLimits {
            requests: Some(5),
            search: Some(2),
            per: Duration::from_millis(500),
        }));
        let start = Instant::now();
        for _ in 0..4 {
            p.acquire(false).await;
        }
        p.acquire(false).await;
        assert!(start.elapsed() >= Duration::from_millis(90), "{:?}", start.elapsed());
    }

    #[tokio::test]
    async fn pause_holds_calls_back() {
        let p = Pacer::new(None);
        p.pause(Duration::from_millis(120));
        let start = Instant::now();
        p.acquire(true).await;
        assert!(start.elapsed() >= Duration::from_millis(110));
    }
}
