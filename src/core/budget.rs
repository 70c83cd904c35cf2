//! The credit budget: what a client (and a call) may spend, checked against the worst case before anything is
//! sent, so the account's ledger never goes past it.
//!
//! Prices, from the public docs: a person found costs 0.5 email credit (once per 24 h per person), a revealed
//! email 1 email credit and a revealed phone number set 1 phone credit (once per person); an email validation 1
//! email credit per email. The worst case assumes every lead is found and charged in full; once a call's answers
//! are in, its reservation is settled to what those answers can have cost (still an upper bound).

use std::ops::{Add, AddAssign, Sub};

use parking_lot::Mutex;

use super::error::{Error, Result};

/// Email and phone credits.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Credits {
    pub email: f64,
    pub phone: f64,
}

impl Credits {
    pub const ZERO: Credits = Credits { email: 0.0, phone: 0.0 };
    pub const UNLIMITED: Credits = Credits {
        email: f64::INFINITY,
        phone: f64::INFINITY,
    };

    pub fn new(email: f64, phone: f64) -> Credits {
        Credits { email, phone }
    }

    /// A limit as given: each part at least 0 (`INFINITY` for none).
    pub fn limit(email: Option<f64>, phone: Option<f64>) -> Result<Credits> {
        let check = |name: &str, v: Option<f64>| match v {
            None => Ok(f64::INFINITY),
            Some(v) if v >= 0.0 && !v.is_nan() => Ok(v),
            Some(v) => Err(Error::InvalidInput(format!(
                "max_credits: {name} credits must be 0 or more, got {v}"
            ))),
        };
        Ok(Credits::new(check("email", email)?, check("phone", phone)?))
    }

    /// What one person lookup can cost: found, and each reveal asked for.
    pub fn per_person(reveal_email: bool, reveal_phone_numbers: bool) -> Credits {
        Credits::new(
            0.5 + if reveal_email { 1.0 } else { 0.0 },
            if reveal_phone_numbers { 1.0 } else { 0.0 },
        )
    }

    pub fn times(self, n: usize) -> Credits {
        Credits::new(self.email * n as f64, self.phone * n as f64)
    }

    fn fits(self, limit: Credits) -> bool {
        // A hair of slack for the sums of halves.
        self.email <= limit.email + 1e-9 && self.phone <= limit.phone + 1e-9
    }

    pub fn is_unlimited(self) -> bool {
        self.email.is_infinite() && self.phone.is_infinite()
    }
}

impl Add for Credits {
    type Output = Credits;
    fn add(self, o: Credits) -> Credits {
        Credits::new(self.email + o.email, self.phone + o.phone)
    }
}

impl AddAssign for Credits {
    fn add_assign(&mut self, o: Credits) {
        *self = *self + o;
    }
}

impl Sub for Credits {
    type Output = Credits;
    fn sub(self, o: Credits) -> Credits {
        Credits::new(self.email - o.email, self.phone - o.phone)
    }
}

impl std::fmt::Display for Credits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let part = |v: f64| {
            if v.is_infinite() {
                "unlimited".to_string()
            } else {
                format!("{v}")
            }
        };
        write!(f, "{} email and {} phone credits", part(self.email), part(self.phone))
    }
}

/// A client's budget: its limit and what its calls have spent (or hold reserved) so far.
#[derive(Debug)]
pub struct Budget {
    limit: Credits,
    spent: Mutex<Credits>,
}

impl Budget {
    pub fn new(limit: Credits) -> Budget {
        Budget {
            limit,
            spent: Mutex::new(Credits::ZERO),
        }
    }

    pub fn limit(&self) -> Credits {
        self.limit
    }

    pub fn spent(&self) -> Credits {
        *self.spent.lock()
    }

    pub fn remaining(&self) -> Credits {
        self.limit - self.spent()
    }
}

/// Credits held for one call until its answers are in. A reservation never settled (an error, an interrupt) stays
/// spent in full: the server may have charged it.
#[derive(Debug)]
pub struct Reservation<'a> {
    budget: Option<&'a Budget>,
    held: Credits,
}

/// Holds `worst` against the client's budget and the call's own limit, or refuses before anything is sent.
pub fn reserve<'a>(
    budget: Option<&'a Budget>,
    call_limit: Credits,
    worst: Credits,
    what: &str,
) -> Result<Reservation<'a>> {
    if !worst.fits(call_limit) {
        return Err(Error::BudgetExceeded {
            message: format!(
                "{what} could cost up to {worst}, more than this call's max_credits ({call_limit}); raise \
                 max_credits, send fewer leads, or ask for fewer reveals (amplemarket.estimate() tells the cost \
                 before sending)"
            ),
            worst,
            remaining: call_limit,
        });
    }
    if let Some(b) = budget {
        let mut spent = b.spent.lock();
        let remaining = b.limit - *spent;
        if !worst.fits(remaining) {
            return Err(Error::BudgetExceeded {
                message: format!(
                    "{what} could cost up to {worst}, more than the client's remaining budget ({remaining} of \
                     max_credits {}); raise the client's max_credits, send fewer leads, or ask for fewer reveals \
                     (amplemarket.estimate() tells the cost before sending)",
                    b.limit
                ),
                worst,
                remaining,
            });
        }
        *spent += worst;
    }
    Ok(Reservation { budget, held: worst })
}

impl Reservation<'_> {
    /// The call is over: what it can have cost stays spent, the rest of the reservation is released.
    pub fn settle(mut self, cost: Credits) {
        if let Some(b) = self.budget.take() {
            let cost = Credits::new(cost.email.min(self.held.email), cost.phone.min(self.held.phone));
            *b.spent.lock() += cost - self.held;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reservation_past_the_budget_is_refused_and_holds_nothing() {
        let b = Budget::new(Credits::new(2.0, 0.0));
        let worst = Credits::per_person(true, false).times(2); // 3 email credits
        let e = reserve(Some(&b), Credits::UNLIMITED, worst, "enriching 2 leads").unwrap_err();
        assert!(
            matches!(e, Error::BudgetExceeded { .. }) && e.to_string().contains("remaining budget"),
            "{e}"
        );
        assert_eq!(b.spent(), Credits::ZERO);
    }

    #[test]
    fn settling_releases_what_was_not_spent() {
        let b = Budget::new(Credits::new(10.0, 1.0));
        let r = reserve(Some(&b), Credits::UNLIMITED, Credits::new(3.0, 1.0), "x").unwrap();
        assert_eq!(b.remaining(), Credits::new(7.0, 0.0));
        r.settle(Credits::new(0.5, 0.0));
        assert_eq!(b.spent(), Credits::new(0.5, 0.0));
        {
            let _interrupted = reserve(Some(&b), Credits::UNLIMITED, Credits::new(9.5, 1.0), "y").unwrap();
        } // never settled: it all stays spent
        assert_eq!(b.remaining(), Credits::new(0.0, 0.0));
    }

    #[test]
    fn the_call_limit_applies_without_a_client_budget() {
        let e = reserve(None, Credits::new(1.0, 5.0), Credits::new(1.5, 0.0), "a find").unwrap_err();
        assert!(e.to_string().contains("this call's max_credits"), "{e}");
        assert!(reserve(None, Credits::new(1.5, 0.0), Credits::new(1.5, 0.0), "a find").is_ok());
        assert!(Credits::limit(Some(-1.0), None).is_err());
    }
}
