//! Email validation's pure parts: each email's verdict, drawn from the seed, and the hourly window of accepted
//! validations.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::data::normalize;
use super::faults::chance;

/// The share of domains that accept any address (so no mailbox can be confirmed there).
pub const CATCH_ALL_SHARE: f64 = 0.15;
/// How the verdicts of emails that are neither people of the data set nor at catch-all domains fall: the
/// cumulative shares of deliverable, risky and unknown; the rest is undeliverable.
const MIX: [(f64, Verdict); 3] = [
    (0.55, Verdict::Deliverable),
    (0.70, Verdict::Risky),
    (0.85, Verdict::Unknown),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Deliverable,
    Risky,
    Unknown,
    Undeliverable,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Deliverable => "deliverable",
            Verdict::Risky => "risky",
            Verdict::Unknown => "unknown",
            Verdict::Undeliverable => "undeliverable",
        }
    }
}

/// A stable 64-bit hash of a text (FNV-1a): std's hasher may change between Rust releases, and verdicts must
/// not.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The domain of a syntactically plausible address: one `@`, a local part, a dotted domain, no spaces.
fn domain_of(email: &str) -> Option<&str> {
    let (local, domain) = email.split_once('@')?;
    let labels_ok = domain.split('.').count() >= 2 && domain.split('.').all(|l| !l.is_empty());
    let plausible = !local.is_empty() && !domain.contains('@') && labels_ok && !email.chars().any(char::is_whitespace);
    plausible.then_some(domain)
}

pub fn is_catch_all(seed: u64, domain: &str) -> bool {
    chance(seed, fnv(domain), 11) < CATCH_ALL_SHARE
}

/// The verdict on `email` and whether its domain is catch-all; `known` says whether a person of the data set has
/// this (normalised) address.
pub fn verdict(seed: u64, email: &str, known: impl FnOnce(&str) -> bool) -> (Verdict, bool) {
    let email = normalize::email(email);
    let Some(domain) = domain_of(&email) else {
        return (Verdict::Undeliverable, false);
    };
    if is_catch_all(seed, domain) {
        return (Verdict::Risky, true);
    }
    if known(&email) {
        return (Verdict::Deliverable, false);
    }
    let roll = chance(seed, fnv(&email), 12);
    let v = MIX
        .iter()
        .find(|(upto, _)| roll < *upto)
        .map_or(Verdict::Undeliverable, |(_, v)| *v);
    (v, false)
}

/// Validations accepted within the last window, oldest first: a sliding window over accepted creations.
#[derive(Default)]
pub struct HourlyWindow {
    accepted: VecDeque<(Instant, u64)>,
    used: u64,
}

impl HourlyWindow {
    /// Accepts `n` validations at `now` when they fit under `limit` in the window, else says how long until
    /// enough of the window frees (the caller has already refused `n > limit`).
    pub fn admit(&mut self, now: Instant, n: u64, limit: u64, window: Duration) -> Result<(), Duration> {
        while let Some(&(t, k)) = self.accepted.front() {
            if now.duration_since(t) < window {
                break;
            }
            self.accepted.pop_front();
            self.used -= k;
        }
        if self.used + n <= limit {
            self.accepted.push_back((now, n));
            self.used += n;
            return Ok(());
        }
        let mut freed = 0;
        for &(t, k) in &self.accepted {
            freed += k;
            if self.used - freed + n <= limit {
                return Err((t + window).saturating_duration_since(now));
            }
        }
        Err(window)
    }

    pub fn used(&self) -> u64 {
        self.used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_are_deterministic_per_seed_and_email() {
        let emails: Vec<String> = (0..2000).map(|i| format!("user{i}@domain{}.com", i % 300)).collect();
        let first: Vec<_> = emails.iter().map(|e| verdict(3, e, |_| false)).collect();
        let again: Vec<_> = emails
            .iter()
            .map(|e| verdict(3, &e.to_uppercase(), |_| false))
            .collect();
        assert_eq!(
            first, again,
            "the same seed and email (in any case) give the same verdict"
        );
        let other: Vec<_> = emails.iter().map(|e| verdict(4, e, |_| false)).collect();
        assert_ne!(first, other, "another seed draws anew");
    }

    #[test]
    fn the_mix_and_the_catch_all_share_are_near_their_targets() {
        let domains = 4000;
        let catch_all = (0..domains).filter(|d| is_catch_all(1, &format!("d{d}.io"))).count();
        let share = catch_all as f64 / domains as f64;
        assert!((0.12..0.18).contains(&share), "{share}");
        let n = 20_000;
        let count = |want: Verdict| {
            (0..n)
                .filter(|i| verdict(1, &format!("x{i}@d{}.io", i % domains), |_| false) == (want, false))
                .count() as f64
                / n as f64
        };
        // Among emails at domains that are not catch-all (85%): 55/15/15/15.
        assert!((0.42..0.51).contains(&count(Verdict::Deliverable)));
        assert!((0.10..0.16).contains(&count(Verdict::Unknown)));
        assert!((0.10..0.16).contains(&count(Verdict::Undeliverable)));
    }

    #[test]
    fn known_people_are_deliverable_unless_their_domain_is_catch_all() {
        let plain = (0..100)
            .map(|d| format!("d{d}.com"))
            .find(|d| !is_catch_all(0, d))
            .unwrap();
        let catchy = (0..100)
            .map(|d| format!("d{d}.com"))
            .find(|d| is_catch_all(0, d))
            .unwrap();
        assert_eq!(
            verdict(0, &format!("a@{plain}"), |_| true),
            (Verdict::Deliverable, false)
        );
        assert_eq!(verdict(0, &format!("a@{catchy}"), |_| true), (Verdict::Risky, true));
        assert_eq!(verdict(0, &format!("z@{catchy}"), |_| false), (Verdict::Risky, true));
    }

    #[test]
    fn text_that_is_not_an_email_is_undeliverable() {
        for bad in [
            "",
            "plain",
            "@x.com",
            "a@",
            "a@b",
            "a@b..com",
            "a b@c.com",
            "a@b@c.com",
            "a@.com",
        ] {
            assert_eq!(verdict(0, bad, |_| true), (Verdict::Undeliverable, false), "{bad:?}");
        }
    }

    #[test]
    fn the_window_admits_up_to_the_limit_then_says_when_enough_frees() {
        let hour = Duration::from_secs(3600);
        let t0 = Instant::now();
        let mut w = HourlyWindow::default();
        assert!(w.admit(t0, 10_000, 15_000, hour).is_ok());
        let t1 = t0 + Duration::from_secs(600);
        assert!(w.admit(t1, 5_000, 15_000, hour).is_ok());
        assert_eq!(w.used(), 15_000);
        let t2 = t0 + Duration::from_secs(1200);
        // One more needs the first batch to leave the window: 2400 s from t2.
        assert_eq!(w.admit(t2, 1, 15_000, hour), Err(Duration::from_secs(2400)));
        // 5,000 fit once the first batch has left; 10,001 need both batches gone.
        assert_eq!(w.admit(t2, 10_001, 15_000, hour), Err(Duration::from_secs(3000)));
        assert_eq!(w.used(), 15_000, "refusals take nothing");
        assert!(w.admit(t0 + hour, 10_000, 15_000, hour).is_ok());
        assert_eq!(w.used(), 15_000);
    }
}
