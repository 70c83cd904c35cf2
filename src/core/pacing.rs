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
    /// The most requests sent at once after an idle spell (per bucket, capped at its limit less one); `None`: the
    /// limit less one. A client that is one of many sharing an account (a task of a Spark or Dask job) takes 1, so
    /// tasks that start while others run never add their burst to the others' and overshoot the account's limit.
    pub burst: Option<u32>,
}

impl Default for RateLimits {
    /// The documented account limits: 500 requests a minute, 30 of them searches.
    fn default() -> Self {
        RateLimits {
            requests: Some(500),
            search: Some(30),
            per: Duration::from_secs(60),
            burst: None,
        }
    }
}

impl RateLimits {
    /// Limits as a caller gives them: each a positive count per `per` seconds, or `None` for no limit.
    pub fn new(
        requests: Option<i64>,
        search: Option<i64>,
        per: f64,
        burst: Option<i64>,
    ) -> crate::core::Result<RateLimits> {
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
            burst: burst
                .map(|b| {
                    u32::try_from(b).ok().filter(|b| *b > 0).ok_or_else(|| {
                        crate::core::Error::InvalidInput(format!(
                            "burst must be a positive number of requests (1: evenly spaced, no burst), or None \
                             for the limit less one; got {b}"
                        ))
                    })
                })
                .transpose()?,
        })
    }

    /// These limits divided among `n` clients sharing one account, each without a burst: together they never
    /// exceed the account's limits, whenever each starts (so long as each share is at least 1 request per `per`,
    /// its floor: more clients than a limit allows each still 1).
    pub fn share(&self, n: u32) -> RateLimits {
        let n = n.max(1);
        let part = |v: Option<u32>| v.map(|v| (v / n).max(1));
        RateLimits {
            requests: part(self.requests),
            search: part(self.search),
            per: self.per,
            burst: Some(1),
        }
    }
}

/// How much slower than the limit the client paces: arrival times jitter, and a server counting strictly must
/// never see us early.
const HEADROOM: f64 = 0.97;

fn bucket(limit: Option<u32>, per: Duration, burst: Option<u32>) -> Option<DefaultDirectRateLimiter> {
    let n = NonZeroU32::new(limit?)?;
    let period = per.mul_f64(1.0 / (f64::from(n.get()) * HEADROOM));
    // One token short of the server's burst: the first requests of a fresh client also pay for connecting, so
    // they reach the server later than their tokens were taken, and the next one must not catch up with them.
    let most = NonZeroU32::new(n.get() - 1).unwrap_or(n);
    let burst = burst.and_then(NonZeroU32::new).map_or(most, |b| b.min(most));
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
            Some(l) => (bucket(l.requests, l.per, l.burst), bucket(l.search, l.per, l.burst)),
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
            burst: None,
        }));
        let start = Instant::now();
        for _ in 0..4 {
            p.acquire(false).await;
        }
        p.acquire(false).await;
        assert!(start.elapsed() >= Duration::from_millis(90), "{:?}", start.elapsed());
    }

    #[tokio::test]
    async fn a_burst_of_one_spaces_every_call() {
        let limits = RateLimits::new(Some(20), None, 1.0, Some(1)).unwrap();
        let p = Pacer::new(Some(limits));
        let start = Instant::now();
        for _ in 0..3 {
            p.acquire(false).await;
        }
        // 20 a second, so the second and third calls wait ~52 ms each.
        assert!(start.elapsed() >= Duration::from_millis(95), "{:?}", start.elapsed());
    }

    #[test]
    fn shares_add_up_to_no_more_than_the_whole() {
        let whole = RateLimits::default();
        let part = whole.share(64);
        assert_eq!((part.requests, part.search, part.burst), (Some(7), Some(1), Some(1)));
        assert_eq!(whole.share(0).requests, Some(500));
        assert!(RateLimits::new(Some(5), None, 1.0, Some(0)).is_err());
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
