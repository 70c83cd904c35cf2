//! The request log: what the sandbox received and what it answered, for tests to inspect.

use std::collections::VecDeque;

use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Captured {
    /// 1, 2, 3… in the order requests were received in full, never reused (also across `reset`).
    pub seq: u64,
    /// Seconds since the sandbox started, when the request's head arrived.
    pub time: f64,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Header names lower-cased; `authorization` shown as `Bearer ***` so no key lands in a test log.
    pub headers: serde_json::Map<String, serde_json::Value>,
    pub authorized: bool,
    pub body: Option<String>,
    /// The route template (`GET /people/enrichment-requests/{id}`), when the route is known.
    pub route: Option<String>,
    pub status: Option<u16>,
    /// `completed`, `aborted` (the client went away first), `dropped` or `truncated` (injected faults).
    pub outcome: &'static str,
    /// What injected the response, if anything: `script`, `fault`, `rate_limit`.
    pub injected: Option<&'static str>,
    /// Seconds from arrival to the end of the response.
    pub duration: Option<f64>,
}

pub struct Log {
    entries: VecDeque<Captured>,
    limit: usize,
}

impl Log {
    pub fn new(limit: usize) -> Self {
        Log {
            entries: VecDeque::new(),
            limit,
        }
    }

    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
        self.trim();
    }

    fn trim(&mut self) {
        while self.entries.len() > self.limit {
            self.entries.pop_front();
        }
    }

    pub fn push(&mut self, entry: Captured) {
        self.entries.push_back(entry);
        self.trim();
    }

    pub fn update(&mut self, seq: u64, f: impl FnOnce(&mut Captured)) {
        // Entries are in seq order, so the one sought is found by offset from the oldest kept.
        let Some(first) = self.entries.front().map(|e| e.seq) else {
            return;
        };
        if let Some(e) = seq.checked_sub(first).and_then(|i| self.entries.get_mut(i as usize)) {
            if e.seq == seq {
                f(e);
            }
        }
    }

    /// Entries with `seq` above `since`.
    pub fn since(&self, since: u64) -> Vec<Captured> {
        self.entries.iter().filter(|e| e.seq > since).cloned().collect()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}
