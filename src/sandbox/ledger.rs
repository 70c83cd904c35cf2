//! The credit ledger: two pools (email, phone), charged as the public API docs describe (docs/sandbox.md).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::Serialize;

const FOUND_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// Whether `id`, last charged for at `charged_at[id]` if ever, is charged for again `now`: once per window.
fn charged_again(charged_at: &HashMap<u32, Instant>, id: u32, now: Instant) -> bool {
    charged_at
        .get(&id)
        .is_none_or(|t| now.duration_since(*t) >= FOUND_WINDOW)
}

/// What a call wants to be charged for, for one person.
#[derive(Clone, Copy, Debug, Default)]
pub struct Wants {
    pub email: bool,
    pub phone: bool,
}

/// One charge; it names what was charged for: a person, a company or an email.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Charge {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `found`, `email`, `phone`, `company` or `validation`.
    pub kind: &'static str,
    pub pool: &'static str,
    pub amount: f64,
    /// `find`, `enrichment` or `validation`.
    pub via: &'static str,
}

/// The pool that ran short.
#[derive(Debug, PartialEq, Eq)]
pub struct Insufficient(pub &'static str);

pub struct Ledger {
    // Half-credits, so the 0.5 charge for a found person stays exact.
    email_halves: i64,
    phone: i64,
    found_at: HashMap<u32, Instant>,
    company_found_at: HashMap<u32, Instant>,
    email_revealed: HashSet<u32>,
    phone_revealed: HashSet<u32>,
    pub charges: Vec<Charge>,
}

impl Ledger {
    pub fn new(email_credits: f64, phone_credits: f64) -> Self {
        Ledger {
            email_halves: (email_credits * 2.0).floor() as i64,
            phone: phone_credits.floor() as i64,
            found_at: HashMap::new(),
            company_found_at: HashMap::new(),
            email_revealed: HashSet::new(),
            phone_revealed: HashSet::new(),
            charges: Vec::new(),
        }
    }

    pub fn email_credits(&self) -> f64 {
        self.email_halves as f64 / 2.0
    }

    pub fn phone_credits(&self) -> f64 {
        self.phone as f64
    }

    pub fn set_balances(&mut self, email_credits: f64, phone_credits: f64) {
        self.email_halves = (email_credits * 2.0).floor() as i64;
        self.phone = phone_credits.floor() as i64;
    }

    /// Charges a found person (and what is revealed, when there is something to reveal) all or nothing.
    pub fn charge(
        &mut self,
        person: u32,
        person_id: &str,
        wants: Wants,
        via: &'static str,
        now: Instant,
    ) -> Result<(), Insufficient> {
        let found = charged_again(&self.found_at, person, now);
        let email = wants.email && !self.email_revealed.contains(&person);
        let phone = wants.phone && !self.phone_revealed.contains(&person);
        let email_halves = i64::from(found) + 2 * i64::from(email);
        if email_halves > self.email_halves {
            return Err(Insufficient("email"));
        }
        if i64::from(phone) > self.phone {
            return Err(Insufficient("phone"));
        }
        self.email_halves -= email_halves;
        self.phone -= i64::from(phone);
        let mut record = |kind, pool, amount| {
            self.charges.push(Charge {
                person_id: Some(person_id.to_string()),
                kind,
                pool,
                amount,
                via,
                ..Charge::default()
            })
        };
        if found {
            record("found", "email", 0.5);
            self.found_at.insert(person, now);
        }
        if email {
            record("email", "email", 1.0);
            self.email_revealed.insert(person);
        }
        if phone {
            record("phone", "phone", 1.0);
            self.phone_revealed.insert(person);
        }
        Ok(())
    }

    /// Charges an enriched company `cost` email credits (a multiple of 0.5), once per company per 24 h as for
    /// a found person.
    pub fn charge_company(
        &mut self,
        company: u32,
        company_id: &str,
        cost: f64,
        now: Instant,
    ) -> Result<(), Insufficient> {
        let due = charged_again(&self.company_found_at, company, now);
        let halves = (cost * 2.0).round() as i64;
        if !due || halves == 0 {
            return Ok(());
        }
        self.take_email_halves(halves)?;
        self.company_found_at.insert(company, now);
        self.charges.push(Charge {
            company_id: Some(company_id.to_string()),
            kind: "company",
            pool: "email",
            amount: cost,
            via: "enrichment",
            ..Charge::default()
        });
        Ok(())
    }

    /// Charges one validated email one email credit: every validation costs, repeated or not.
    pub fn charge_validation(&mut self, email: &str) -> Result<(), Insufficient> {
        self.take_email_halves(2)?;
        self.charges.push(Charge {
            email: Some(email.to_string()),
            kind: "validation",
            pool: "email",
            amount: 1.0,
            via: "validation",
            ..Charge::default()
        });
        Ok(())
    }

    fn take_email_halves(&mut self, halves: i64) -> Result<(), Insufficient> {
        if halves > self.email_halves {
            return Err(Insufficient("email"));
        }
        self.email_halves -= halves;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: Wants = Wants {
        email: true,
        phone: true,
    };
    const EMAIL: Wants = Wants {
        email: true,
        phone: false,
    };
    const PHONE: Wants = Wants {
        email: false,
        phone: true,
    };

    #[test]
    fn each_thing_is_charged_once_per_person() {
        let mut l = Ledger::new(10.0, 2.0);
        let now = Instant::now();
        l.charge(1, "p1", BOTH, "find", now).unwrap();
        assert_eq!((l.email_credits(), l.phone_credits()), (8.5, 1.0));
        l.charge(1, "p1", BOTH, "find", now).unwrap();
        assert_eq!((l.email_credits(), l.phone_credits()), (8.5, 1.0));
        l.charge(2, "p2", Wants::default(), "find", now).unwrap();
        assert_eq!(l.email_credits(), 8.0);
        l.charge(1, "p1", Wants::default(), "find", now + FOUND_WINDOW).unwrap();
        assert_eq!(l.email_credits(), 7.5);
        assert_eq!(l.charges.len(), 5);
    }

    #[test]
    fn short_pools_refuse_without_charging() {
        let mut l = Ledger::new(1.0, 0.0);
        let now = Instant::now();
        assert_eq!(l.charge(1, "p", PHONE, "find", now), Err(Insufficient("phone")));
        assert_eq!(l.email_credits(), 1.0);
        assert_eq!(l.charge(1, "p", EMAIL, "find", now), Err(Insufficient("email")));
        l.charge(1, "p", Wants::default(), "find", now).unwrap();
        assert_eq!(l.email_credits(), 0.5);
        assert!(l.charges.iter().all(|c| c.amount > 0.0));
    }

    #[test]
    fn companies_are_charged_once_a_day_and_validations_every_time() {
        let mut l = Ledger::new(3.0, 0.0);
        let now = Instant::now();
        l.charge_company(1, "c1", 1.5, now).unwrap();
        l.charge_company(1, "c1", 1.5, now).unwrap();
        assert_eq!(l.email_credits(), 1.5);
        l.charge_validation("a@b.co").unwrap();
        assert_eq!(l.charge_validation("a@b.co"), Err(Insufficient("email")));
        assert_eq!(l.email_credits(), 0.5);
        assert_eq!(l.charge_company(2, "c2", 1.0, now), Err(Insufficient("email")));
        l.charge_company(2, "c2", 0.0, now).unwrap();
        let kinds: Vec<_> = l.charges.iter().map(|c| (c.kind, c.via)).collect();
        assert_eq!(kinds, [("company", "enrichment"), ("validation", "validation")]);
    }
}
