//! Jobs: people and company enrichment requests and email validations. All kinds share their progression (as
//! moto's state manager does it), results, cursor pages, cancel and idempotency; a `Kind` says what a job is.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::ErrorItem;
use super::validation::{HourlyWindow, Verdict};

/// Where each kind of job lives, so a job is found only under its own collection.
pub const PEOPLE_JOBS: &str = "/people/enrichment-requests";
pub const COMPANY_JOBS: &str = "/companies/enrichment-requests";
pub const VALIDATIONS: &str = "/email-validations";

/// What a job does; everything else about jobs is the same for every kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    People {
        reveal_email: bool,
        reveal_phone_numbers: bool,
    },
    Companies,
    EmailValidations,
}

impl Kind {
    pub fn collection(self) -> &'static str {
        match self {
            Kind::People { .. } => PEOPLE_JOBS,
            Kind::Companies => COMPANY_JOBS,
            Kind::EmailValidations => VALIDATIONS,
        }
    }

    /// The `object` of the job in responses.
    pub fn object(self) -> &'static str {
        match self {
            Kind::People { .. } => "person_enrichment",
            Kind::Companies => "company_enrichment",
            Kind::EmailValidations => "email_validation",
        }
    }

    /// Validations are named by a UUID (as the API does); enrichment requests by an integer.
    pub fn uuid_ids(self) -> bool {
        self == Kind::EmailValidations
    }
}

/// How a job moves from `queued` to `completed`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Progression {
    /// Done at the first poll.
    Immediate,
    /// Done at the Nth poll, processing (with results growing) before.
    Polls(u32),
    /// Done this many seconds after creation.
    Seconds(f64),
    /// Never finishes: for deadline tests.
    Never,
}

impl FromStr for Progression {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("job_progression is `immediate`, `polls:N`, `seconds:S` or `never`, got `{s}`");
        match s.split_once(':') {
            None if s == "immediate" => Ok(Progression::Immediate),
            None if s == "never" => Ok(Progression::Never),
            Some(("polls", n)) => n
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .map(Progression::Polls)
                .ok_or_else(bad),
            Some(("seconds", n)) => n
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite() && *n >= 0.0)
                .map(Progression::Seconds)
                .ok_or_else(bad),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Progression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Progression::Immediate => f.write_str("immediate"),
            Progression::Polls(n) => write!(f, "polls:{n}"),
            Progression::Seconds(s) => write!(f, "seconds:{s}"),
            Progression::Never => f.write_str("never"),
        }
    }
}

impl Serialize for Progression {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Progression {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Queued,
    Processing,
    Completed,
    Canceled,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Processing => "processing",
            Status::Completed => "completed",
            Status::Canceled => "canceled",
            Status::Error => "error",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Completed | Status::Canceled | Status::Error)
    }
}

/// What one input of a job came to: a person or company (by index) found or not, or an email's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Enriched(u32),
    NotFound,
    GdprRemoved,
    Validated { verdict: Verdict, catch_all: bool },
}

pub struct Job {
    pub id: u64,
    /// The id in the job's path: the number for enrichment requests, a UUID for validations.
    pub key: String,
    pub kind: Kind,
    pub status: Status,
    /// The inputs as echoed in results (leads, companies or emails).
    pub inputs: Vec<Map<String, Value>>,
    pub outcomes: Vec<Outcome>,
    /// Results produced so far (they are the first `processed` leads).
    pub processed: usize,
    pub first_result_id: u64,
    pub errors: Vec<ErrorItem>,
    progression: Progression,
    created: Instant,
    polls: u32,
    fails: bool,
}

/// A page of results: the index range into the job's results, and whether there is more either way.
#[derive(Debug, PartialEq, Eq)]
pub struct Page {
    pub start: usize,
    pub end: usize,
    pub has_prev: bool,
    pub has_next: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cursor {
    First,
    After(u64),
    Before(u64),
}

impl Job {
    pub fn total(&self) -> usize {
        self.inputs.len()
    }

    pub fn path(&self) -> String {
        format!("{}/{}", self.kind.collection(), self.key)
    }

    /// The `id` member of the job object.
    pub fn public_id(&self) -> Value {
        if self.kind.uuid_ids() {
            Value::String(self.key.clone())
        } else {
            Value::from(self.id)
        }
    }

    /// Moves the job on as its progression says, charging each result (its input and outcome) through `charge`;
    /// a charge that fails ends the job in `error` with that error, keeping the results before it.
    pub fn advance(
        &mut self,
        now: Instant,
        poll: bool,
        mut charge: impl FnMut(&Map<String, Value>, Outcome) -> Result<(), ErrorItem>,
    ) {
        if self.status.is_terminal() {
            return;
        }
        if poll {
            self.polls += 1;
        }
        let total = self.total();
        let target = match self.progression {
            Progression::Immediate if self.polls > 0 => total,
            Progression::Immediate | Progression::Never => 0,
            Progression::Polls(n) => total * (self.polls.min(n) as usize) / n as usize,
            Progression::Seconds(s) => {
                let elapsed = now.duration_since(self.created).as_secs_f64();
                if s <= 0.0 || elapsed >= s {
                    total
                } else {
                    ((total as f64) * elapsed / s) as usize
                }
            }
        };
        let done = match self.progression {
            Progression::Immediate => self.polls > 0,
            Progression::Polls(n) => self.polls >= n,
            Progression::Seconds(_) => target >= total,
            Progression::Never => false,
        };
        if self.polls > 0 || target > 0 {
            self.status = Status::Processing;
        }
        while self.processed < target {
            if let Err(e) = charge(&self.inputs[self.processed], self.outcomes[self.processed]) {
                self.status = Status::Error;
                self.errors = vec![e];
                return;
            }
            self.processed += 1;
        }
        if done {
            if self.fails {
                self.status = Status::Error;
                self.errors = vec![ErrorItem::new(
                    500,
                    "internal_server_error",
                    "Internal server error",
                    "The job failed while processing; results produced before the failure are kept.",
                )];
            } else {
                self.status = Status::Completed;
            }
        }
    }

    pub fn cancel(&mut self) {
        if !self.status.is_terminal() {
            self.status = Status::Canceled;
        }
    }

    pub fn page(&self, size: usize, cursor: Cursor) -> Page {
        let n = self.processed;
        let index = |id: u64| id.saturating_sub(self.first_result_id) as usize;
        let (start, end) = match cursor {
            Cursor::First => (0, size.min(n)),
            Cursor::After(id) if id < self.first_result_id => (0, size.min(n)),
            Cursor::After(id) => {
                let s = (index(id) + 1).min(n);
                (s, (s + size).min(n))
            }
            Cursor::Before(id) => {
                let e = index(id).min(n);
                (e.saturating_sub(size), e)
            }
        };
        Page {
            start,
            end,
            has_prev: start > 0 && start < end,
            has_next: end < n && start < end,
        }
    }
}

/// All jobs of the sandbox, with the ids handed out so far.
#[derive(Default)]
pub struct JobStore {
    jobs: HashMap<u64, Job>,
    /// Job ids by path (`/companies/enrichment-requests/7`, `/email-validations/<uuid>`).
    by_path: HashMap<String, u64>,
    /// Job ids by collection and `Idempotency-Key`: a key names a creation on one route only.
    by_idempotency_key: HashMap<(&'static str, String), u64>,
    /// Validations accepted in the hourly window.
    pub validations: HourlyWindow,
    seed: u64,
    next_id: u64,
    next_result_id: u64,
}

pub struct NewJob {
    pub kind: Kind,
    pub inputs: Vec<Map<String, Value>>,
    pub outcomes: Vec<Outcome>,
    pub progression: Progression,
    pub fails: bool,
}

/// Validation UUIDs are drawn from an index range of their own, apart from the data set's records.
const VALIDATION_UUID_BASE: u64 = 1 << 40;

impl JobStore {
    pub fn new(seed: u64) -> Self {
        JobStore {
            seed,
            ..JobStore::default()
        }
    }

    pub fn count(&self) -> usize {
        self.jobs.len()
    }

    /// The job at `collection/raw_id`, if there is one of that kind.
    pub fn get_mut(&mut self, collection: &str, raw_id: &str) -> Option<&mut Job> {
        let id = self.by_path.get(&format!("{collection}/{raw_id}"))?;
        self.jobs.get_mut(id)
    }

    /// The job an earlier creation with this `Idempotency-Key` made on `collection`.
    pub fn by_key(&self, collection: &'static str, key: &str) -> Option<&Job> {
        let id = self.by_idempotency_key.get(&(collection, key.to_string()))?;
        self.jobs.get(id)
    }

    pub fn create(&mut self, new: NewJob, idempotency_key: Option<String>, now: Instant) -> &Job {
        self.next_id += 1;
        let id = self.next_id;
        let first_result_id = self.next_result_id + 1;
        self.next_result_id += new.inputs.len() as u64;
        let key = if new.kind.uuid_ids() {
            super::data::uuid(self.seed, VALIDATION_UUID_BASE + id)
        } else {
            id.to_string()
        };
        let collection = new.kind.collection();
        self.by_path.insert(format!("{collection}/{key}"), id);
        if let Some(k) = idempotency_key {
            self.by_idempotency_key.insert((collection, k), id);
        }
        self.jobs.entry(id).or_insert(Job {
            id,
            key,
            kind: new.kind,
            status: Status::Queued,
            inputs: new.inputs,
            outcomes: new.outcomes,
            processed: 0,
            first_result_id,
            errors: Vec::new(),
            progression: new.progression,
            created: now,
            polls: 0,
            fails: new.fails,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEOPLE: Kind = Kind::People {
        reveal_email: false,
        reveal_phone_numbers: false,
    };

    fn new_job(kind: Kind, n: usize, progression: Progression) -> NewJob {
        NewJob {
            kind,
            inputs: vec![Map::new(); n],
            outcomes: (0..n as u32).map(Outcome::Enriched).collect(),
            progression,
            fails: false,
        }
    }

    fn job(n: usize, progression: Progression) -> (JobStore, u64) {
        let mut store = JobStore::default();
        let id = store.create(new_job(PEOPLE, n, progression), None, Instant::now()).id;
        (store, id)
    }

    #[test]
    fn progression_parses_and_prints() {
        for s in ["immediate", "never", "polls:3", "seconds:1.5"] {
            assert_eq!(s.parse::<Progression>().unwrap().to_string(), s);
        }
        for s in ["polls:0", "polls:x", "seconds:-1", "later", ""] {
            assert!(s.parse::<Progression>().is_err(), "{s}");
        }
    }

    #[test]
    fn polls_progression_finishes_on_the_nth_poll() {
        let (mut store, id) = job(10, Progression::Polls(3));
        let j = store.jobs.get_mut(&id).unwrap();
        let now = Instant::now();
        assert_eq!(j.status, Status::Queued);
        j.advance(now, true, |_, _| Ok(()));
        assert_eq!((j.status, j.processed), (Status::Processing, 3));
        j.advance(now, true, |_, _| Ok(()));
        assert_eq!((j.status, j.processed), (Status::Processing, 6));
        j.advance(now, true, |_, _| Ok(()));
        assert_eq!((j.status, j.processed), (Status::Completed, 10));
    }

    #[test]
    fn immediate_and_never() {
        let (mut store, id) = job(5, Progression::Immediate);
        let j = store.jobs.get_mut(&id).unwrap();
        j.advance(Instant::now(), true, |_, _| Ok(()));
        assert_eq!(j.status, Status::Completed);
        let (mut store, id) = job(5, Progression::Never);
        let j = store.jobs.get_mut(&id).unwrap();
        for _ in 0..100 {
            j.advance(Instant::now(), true, |_, _| Ok(()));
        }
        assert_eq!((j.status, j.processed), (Status::Processing, 0));
        j.cancel();
        assert_eq!(j.status, Status::Canceled);
    }

    #[test]
    fn a_failed_charge_ends_the_job_keeping_earlier_results() {
        let (mut store, id) = job(10, Progression::Immediate);
        let j = store.jobs.get_mut(&id).unwrap();
        let mut budget = 4;
        j.advance(Instant::now(), true, |_, _| {
            if budget == 0 {
                return Err(ErrorItem::new(
                    402,
                    "insufficient_credits",
                    "Insufficient credits",
                    "out",
                ));
            }
            budget -= 1;
            Ok(())
        });
        assert_eq!((j.status, j.processed), (Status::Error, 4));
        assert_eq!(j.errors[0].code, "insufficient_credits");
    }

    #[test]
    fn cursor_pages_walk_both_ways_without_gaps() {
        let (mut store, first) = job(3, Progression::Immediate);
        let id = store
            .create(
                new_job(Kind::Companies, 250, Progression::Immediate),
                None,
                Instant::now(),
            )
            .id;
        assert_ne!(first, id);
        let j = store.jobs.get_mut(&id).unwrap();
        j.advance(Instant::now(), true, |_, _| Ok(()));
        assert_eq!(j.first_result_id, 4);
        let f = j.first_result_id;
        let walk = [
            (Cursor::First, (0, 100, false, true)),
            (Cursor::After(f + 99), (100, 200, true, true)),
            (Cursor::After(f + 199), (200, 250, true, false)),
            (Cursor::Before(f + 200), (100, 200, true, true)),
            (Cursor::Before(f + 50), (0, 50, false, true)),
            (Cursor::After(10_000), (250, 250, false, false)),
        ];
        for (cursor, (start, end, has_prev, has_next)) in walk {
            let expected = Page {
                start,
                end,
                has_prev,
                has_next,
            };
            assert_eq!(j.page(100, cursor), expected, "{cursor:?}");
        }
    }

    #[test]
    fn each_kind_is_found_under_its_own_path_only() {
        let mut store = JobStore::new(7);
        let now = Instant::now();
        let people = store.create(new_job(PEOPLE, 1, Progression::Immediate), None, now).id;
        let companies = store.create(
            new_job(Kind::Companies, 1, Progression::Immediate),
            Some("k".into()),
            now,
        );
        assert_eq!(
            (companies.id, companies.path()),
            (2, "/companies/enrichment-requests/2".to_string())
        );
        assert_eq!(companies.public_id(), Value::from(2));
        let v = store.create(
            new_job(Kind::EmailValidations, 3, Progression::Immediate),
            Some("k".into()),
            now,
        );
        let (v_id, v_key) = (v.id, v.key.clone());
        assert_eq!(v.public_id(), Value::String(v_key.clone()));
        assert_eq!(v_key.len(), 36, "a UUID");
        assert!(store.get_mut(PEOPLE_JOBS, &people.to_string()).is_some());
        assert!(store.get_mut(COMPANY_JOBS, &people.to_string()).is_none());
        assert!(store.get_mut(PEOPLE_JOBS, "2").is_none());
        assert!(store.get_mut(VALIDATIONS, &v_id.to_string()).is_none());
        assert_eq!(store.get_mut(VALIDATIONS, &v_key).unwrap().id, v_id);
        // One idempotency key names one creation per route.
        assert_eq!(store.by_key(COMPANY_JOBS, "k").unwrap().id, 2);
        assert_eq!(store.by_key(VALIDATIONS, "k").unwrap().id, v_id);
        assert!(store.by_key(PEOPLE_JOBS, "k").is_none());
        // The same seed names validations the same.
        let mut again = JobStore::new(7);
        again.create(new_job(PEOPLE, 1, Progression::Immediate), None, now);
        again.create(new_job(Kind::Companies, 1, Progression::Immediate), None, now);
        let v2 = again.create(new_job(Kind::EmailValidations, 3, Progression::Immediate), None, now);
        assert_eq!(v2.key, v_key);
    }

    #[test]
    fn pages_of_every_kind_use_result_ids_after_earlier_jobs() {
        let mut store = JobStore::default();
        let now = Instant::now();
        store.create(new_job(PEOPLE, 5, Progression::Immediate), None, now);
        let v = store.create(new_job(Kind::EmailValidations, 7, Progression::Immediate), None, now);
        let id = v.id;
        let j = store.jobs.get_mut(&id).unwrap();
        j.advance(now, true, |_, _| Ok(()));
        assert_eq!(j.first_result_id, 6);
        let first = j.page(3, Cursor::First);
        assert_eq!((first.start, first.end, first.has_next), (0, 3, true));
        let last = j.page(3, Cursor::After(j.first_result_id + 5));
        assert_eq!(
            (last.start, last.end, last.has_prev, last.has_next),
            (6, 7, true, false)
        );
    }
}
