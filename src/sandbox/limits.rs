//! The account's rate limits: one GCRA bucket overall and one for search, as the API enforces them.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::settings::Settings;

pub struct Limits {
    overall: Option<DefaultDirectRateLimiter>,
    search: Option<DefaultDirectRateLimiter>,
}

fn bucket(limit: Option<u32>, window_secs: f64) -> Option<DefaultDirectRateLimiter> {
    let burst = NonZeroU32::new(limit?)?;
    let period = Duration::from_secs_f64(window_secs / f64::from(burst.get()));
    let quota = Quota::with_period(period.max(Duration::from_nanos(1)))?.allow_burst(burst);
    Some(RateLimiter::direct(quota))
}

impl Limits {
    pub fn new(s: &Settings) -> Self {
        Limits {
            overall: bucket(s.rate_limit, s.rate_limit_window),
            search: bucket(s.search_rate_limit, s.search_rate_limit_window),
        }
    }

    /// Takes a token for a request, or says how long until one would be there.
    pub fn check(&self, is_search: bool) -> Result<(), Duration> {
        let clock = DefaultClock::default();
        let wait = |l: &DefaultDirectRateLimiter| l.check().map_err(|n| n.wait_time_from(clock.now()));
        if is_search {
            if let Some(l) = &self.search {
                wait(l)?;
            }
        }
        if let Some(l) = &self.overall {
            wait(l)?;
        }
        Ok(())
    }
}

/// `Retry-After` in whole seconds, never 0 (a client told 0 would hammer the server).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_the_limit_passes_then_429s() {
        let s = Settings {
            rate_limit: Some(5),
            rate_limit_window: 60.0,
            search_rate_limit: Some(2),
            ..Settings::default()
        };
        let l = Limits::new(&s);
        assert!(l.check(true).is_ok());
        assert!(l.check(true).is_ok());
        let wait = l.check(true).unwrap_err();
        assert!(
            wait <= Duration::from_secs(30) && wait > Duration::from_secs(25),
            "{wait:?}"
        );
        assert_eq!(retry_after_secs(wait), 30);
        for _ in 0..3 {
            assert!(l.check(false).is_ok());
        }
        assert_eq!(retry_after_secs(l.check(false).unwrap_err()), 12);
        let off = Limits::new(&Settings {
            rate_limit: None,
            search_rate_limit: None,
            ..Settings::default()
        });
        assert!((0..10_000).all(|_| off.check(true).is_ok()));
    }

    #[test]
    fn retry_after_is_at_least_one_second() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
    }
}
