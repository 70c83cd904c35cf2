//! Everything the sandbox remembers, behind locks taken in one order: jobs, data, ledger.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Mutex, RwLock};
use serde_json::value::RawValue;

use super::capture::Log;
use super::data::{Dataset, Reveal};
use super::faults::Scripts;
use super::jobs::JobStore;
use super::ledger::Ledger;
use super::limits::Limits;
use super::settings::Settings;

pub struct State {
    pub seed: u64,
    pub started: Instant,
    seq: AtomicU64,
    /// Numbers requests for fault injection; restarts on `reset`, so a reset sandbox meets the same faults again.
    fault_seq: AtomicU64,
    pub data: RwLock<Dataset>,
    pub settings: RwLock<Settings>,
    pub limits: RwLock<Limits>,
    pub ledger: Mutex<Ledger>,
    pub jobs: Mutex<JobStore>,
    pub scripts: Mutex<Scripts>,
    pub log: Mutex<Log>,
    /// (person, kind) pairs whose reveal already answered 408 once.
    pub reveals_delayed: Mutex<HashSet<(u32, u8)>>,
    /// Rendered Person objects by (person, reveal email, reveal phones): rendering is most of the cost of a
    /// results page or a find, and the records do not change (adding people clears it).
    rendered: Mutex<std::collections::HashMap<(u32, bool, bool), Arc<RawValue>>>,
}

/// Past this many rendered people the cache starts over, bounding its memory.
const RENDERED_MAX: usize = 200_000;

impl State {
    pub fn new(seed: u64, data: Dataset, settings: Settings) -> Self {
        State {
            seed,
            started: Instant::now(),
            seq: AtomicU64::new(0),
            fault_seq: AtomicU64::new(0),
            data: RwLock::new(data),
            limits: RwLock::new(Limits::new(&settings)),
            ledger: Mutex::new(Ledger::new(settings.email_credits, settings.phone_credits)),
            jobs: Mutex::new(JobStore::new(seed)),
            scripts: Mutex::new(Scripts::default()),
            log: Mutex::new(Log::new(settings.capture_limit)),
            reveals_delayed: Mutex::new(HashSet::new()),
            rendered: Mutex::new(std::collections::HashMap::new()),
            settings: RwLock::new(settings),
        }
    }

    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn next_fault_seq(&self) -> u64 {
        self.fault_seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Person `idx` as the API renders it for `reveal`.
    pub fn person_raw(&self, data: &Dataset, idx: u32, reveal: Reveal) -> Arc<RawValue> {
        let key = (idx, reveal.email, reveal.phone_numbers);
        if let Some(r) = self.rendered.lock().get(&key) {
            return r.clone();
        }
        let text = serde_json::to_string(&data.person_json(idx, reveal)).expect("JSON values serialise");
        let raw: Arc<RawValue> = Arc::from(RawValue::from_string(text).expect("serialised JSON is valid"));
        let mut cache = self.rendered.lock();
        if cache.len() >= RENDERED_MAX {
            cache.clear();
        }
        cache.insert(key, raw.clone());
        raw
    }

    /// Forgets rendered people (the data set changed).
    pub fn data_changed(&self) {
        self.rendered.lock().clear();
    }

    pub fn settings(&self) -> Settings {
        self.settings.read().clone()
    }

    /// Applies changed settings; limits and balances given anew start afresh.
    pub fn configure(&self, changes: serde_json::Value) -> Result<(), String> {
        let touches = |keys: &[&str]| {
            changes
                .as_object()
                .is_some_and(|m| keys.iter().any(|k| m.contains_key(*k)))
        };
        let mut settings = self.settings.write();
        let merged = settings.merged(changes.clone())?;
        if touches(&[
            "rate_limit",
            "rate_limit_window",
            "search_rate_limit",
            "search_rate_limit_window",
        ]) {
            *self.limits.write() = Limits::new(&merged);
        }
        if touches(&["email_credits", "phone_credits"]) {
            self.ledger
                .lock()
                .set_balances(merged.email_credits, merged.phone_credits);
        }
        self.log.lock().set_limit(merged.capture_limit);
        *settings = merged;
        Ok(())
    }

    /// Back to a fresh start with the same data and settings: no jobs, a full ledger and limits, no scripts, an
    /// empty request log.
    pub fn reset(&self) {
        let settings = self.settings();
        *self.jobs.lock() = JobStore::new(self.seed);
        *self.ledger.lock() = Ledger::new(settings.email_credits, settings.phone_credits);
        *self.limits.write() = Limits::new(&settings);
        self.scripts.lock().clear();
        self.log.lock().clear();
        self.reveals_delayed.lock().clear();
        self.fault_seq.store(0, Ordering::Relaxed);
    }
}
