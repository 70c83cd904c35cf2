//! The result cache: the answers the API gave, kept in SQLite across processes and restarts, so a re-run neither
//! waits on the rate limit again nor pays again.
//!
//! One row per answer, keyed by the account (a hash of the key: two keys never share answers), the operation, the
//! normalised query and the reveals it was made with. An answer made with more reveals serves a query asking for
//! fewer, never the reverse. The server's exact bytes are stored, so a cached object reads as the original. A
//! person removed for GDPR leaves only a marker: every record of that person is deleted, and none is stored again.
//!
//! The cache never fails a call once open: an error while reading or writing (a full disk, a file made read-only,
//! another process's lock held too long) is reported once through `warn` and the call goes on uncached.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::behind::Behind;

/// The layout this version writes; a file with a higher one was made by a newer release and is not touched.
/// 1: answers in a `WITHOUT ROWID` table, bodies as text. 2: a rowid table (bodies of kilobytes fit it better),
/// new bodies compressed blobs (`pack`); text bodies of layout 1 are read as they are.
const SCHEMA: i64 = 2;
/// A stored body that claims to expand past this is damaged, not an answer.
const MAX_BODY: usize = 64 << 20;
/// The first byte of a stored body (a blob): how the rest was packed. 1: LZ4 with `DICTIONARY_1`, the size first.
const LZ4_DICTIONARY_1: u8 = 1;
/// One typical answer (the documented example person with her company, as enriched): answers share its field
/// names and shapes, so compressing against it roughly halves what LZ4 alone stores. Never edit it: stored answers
/// are read back with it; another dictionary needs another first byte.
const DICTIONARY_1: &[u8] = include_bytes!("cache_dictionary.json");
const APPLICATION: &str = "amplemarket";

/// How long answers are kept.
#[derive(Clone, Debug)]
pub struct CacheSettings {
    /// `None`: the platform's cache directory (`~/.cache/amplemarket/cache.sqlite3` on Linux).
    pub path: Option<PathBuf>,
    /// A found person, company or enrichment result.
    pub ttl: Duration,
    /// A lookup that found nothing.
    pub not_found_ttl: Duration,
    /// A page of search results.
    pub search_ttl: Duration,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            path: None,
            ttl: Duration::from_secs(30 * 86_400),
            not_found_ttl: Duration::from_secs(86_400),
            search_ttl: Duration::from_secs(3_600),
        }
    }
}

/// The platform's cache directory for this package's file.
pub fn default_path() -> Result<PathBuf, String> {
    use etcetera::AppStrategy;
    let args = etcetera::AppStrategyArgs {
        top_level_domain: "com".into(),
        author: "Amplemarket".into(),
        app_name: "amplemarket".into(),
    };
    let dirs = etcetera::app_strategy::choose_native_strategy(args)
        .map_err(|e| format!("the platform's cache directory is unknown ({e}); give the cache a path"))?;
    Ok(dirs.cache_dir().join("cache.sqlite3"))
}

/// The scope of a key's answers: a hash, so the file never holds the key.
pub fn account_of(api_key: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, format!("amplemarket-cache:{api_key}").as_bytes());
    digest.as_ref().iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// What the server answered for a query.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// The object, exactly as sent.
    Found(String),
    NotFound,
}

/// Who an answer is about, so a GDPR removal can find every record of that person.
#[derive(Clone, Debug, Default)]
pub struct Identity {
    pub email: Option<String>,
    pub linkedin: Option<String>,
}

impl Identity {
    /// How the `removed` table names this person: by email and by LinkedIn profile (`None` where unknown).
    fn keys(&self) -> (Option<String>, Option<String>) {
        (
            self.email.as_ref().map(|e| format!("em:{e}")),
            self.linkedin.as_ref().map(|l| format!("li:{l}")),
        )
    }

    pub fn new(email: Option<&str>, linkedin: Option<&str>) -> Self {
        Identity {
            email: email.map(super::normalize::email).filter(|e| !e.is_empty()),
            linkedin: linkedin.map(super::normalize::linkedin).filter(|l| !l.is_empty()),
        }
    }
}

/// The reveals of a query, as stored: an answer serves a query whose reveals are a subset of its own.
pub fn reveals(email: bool, phone_numbers: bool) -> i64 {
    i64::from(email) | (i64::from(phone_numbers) << 1)
}

/// Counters of this process's use of the cache.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    pub entries: u64,
    pub bytes: u64,
    pub hits: u64,
    pub misses: u64,
    /// Requests not sent because the cache answered (an enrichment request counts the leads it would have held).
    pub requests_saved: u64,
    /// The worst-case credits those answers would have cost.
    pub credits_saved: f64,
}

pub type Warn = Arc<dyn Fn(&str) + Send + Sync>;

/// A batch of at least this many answers is stored behind the call (see `put_behind`); a smaller one at once.
const STORE_BEHIND: usize = 64;

pub struct Cache {
    store: Arc<Store>,
    settings: CacheSettings,
    hits: AtomicU64,
    misses: AtomicU64,
    requests_saved: AtomicU64,
    credits_saved: Mutex<f64>,
    /// Large batches of answers being written; every read, removal and count waits for them first, so this
    /// process always sees what it stored.
    behind: Behind,
}

/// The file and its connection, shared with the thread that stores batches behind the calls.
struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
    /// Set after the first failure: the cache is then bypassed for the rest of the process.
    broken: AtomicBool,
    warn: Mutex<Option<Warn>>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("path", &self.store.path).finish()
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Why a file cannot be used as the cache, with what to do about it.
fn unusable(path: &Path, why: impl std::fmt::Display) -> String {
    format!(
        "the cache file {} cannot be used: {why}; give another path (cache=\"...\"), delete the file, or turn the \
         cache off (cache=False; --no-cache on the command line)",
        path.display()
    )
}

/// Creates the file owner-only (it holds personal data) and its directory, before SQLite opens it.
fn create_private(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}

impl Cache {
    /// Opens (creating if needed) the cache file. A file that is not a cache of this package, a cache written
    /// by a newer release, or a path that cannot be created is an error that says so and what to do.
    pub fn open(settings: CacheSettings) -> Result<Cache, String> {
        let path = match &settings.path {
            Some(p) => p.clone(),
            None => default_path()?,
        };
        if path.is_dir() {
            return Err(unusable(&path, "it is a directory; give the path of a file in it"));
        }
        create_private(&path).map_err(|e| unusable(&path, e))?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(|e| unusable(&path, e))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|e| unusable(&path, e))?;
        prepare(&conn).map_err(|e| unusable(&path, e))?;
        Ok(Cache {
            store: Arc::new(Store {
                path,
                conn: Mutex::new(conn),
                broken: AtomicBool::new(false),
                warn: Mutex::new(None),
            }),
            settings,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            requests_saved: AtomicU64::new(0),
            credits_saved: Mutex::new(0.0),
            behind: Behind::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.store.path
    }

    pub fn settings(&self) -> &CacheSettings {
        &self.settings
    }

    /// Where failures are reported (the binding turns them into Python warnings); until set, they are dropped.
    pub fn set_warn(&self, warn: Warn) {
        *self.store.warn.lock() = Some(warn);
    }

    /// Returns once the answers this process stored are in the file.
    pub fn flush(&self) {
        self.behind.wait();
    }

    /// Runs `f` on the connection once the batches being stored are in; see `Store::with`.
    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Option<T> {
        self.flush();
        self.store.with(f)
    }

    fn ttl(&self, op: &str, found: bool) -> Duration {
        match (op.starts_with("search."), found) {
            (true, _) => self.settings.search_ttl,
            (false, true) => self.settings.ttl,
            (false, false) => self.settings.not_found_ttl,
        }
    }

    /// The answers to `keys` (one per key, `None` where none is stored or fresh), each made with at least
    /// `reveal`; counted as hits and misses.
    pub fn get_many(&self, account: &str, op: &str, keys: &[String], reveal: i64) -> Vec<Option<Answer>> {
        let answers = self.peek_many(account, op, keys, reveal);
        let hits = answers.iter().filter(|a| a.is_some()).count() as u64;
        self.hits.fetch_add(hits, Ordering::Relaxed);
        self.misses.fetch_add(keys.len() as u64 - hits, Ordering::Relaxed);
        answers
    }

    /// `get_many` without counting hits and misses (an estimate looks without using).
    pub fn peek_many(&self, account: &str, op: &str, keys: &[String], reveal: i64) -> Vec<Option<Answer>> {
        let (found_ttl, missing_ttl) = (self.ttl(op, true), self.ttl(op, false));
        let now = now();
        // One statement for the whole batch (the keys as a JSON array): SQLite walks the index for each, with no
        // round trip through Rust per key. Of a key's rows (one per reveal set), a found answer beats a
        // not-found one, and a newer one an older one.
        let answers = self.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT k.key, a.found, a.body, a.stored FROM json_each(?3) AS k CROSS JOIN answers AS a \
                 ON a.account = ?1 AND a.op = ?2 AND a.key = k.value AND (a.reveal & ?4) = ?4 AND a.found < 2",
            )?;
            let wanted = serde_json::to_string(keys).unwrap_or_else(|_| "[]".into());
            let mut best: Vec<Option<((i64, f64), Answer)>> = vec![None; keys.len()];
            let mut rows = stmt.query(params![account, op, wanted, reveal])?;
            while let Some(row) = rows.next()? {
                let (index, found, stored): (usize, i64, f64) = (row.get(0)?, row.get(1)?, row.get(3)?);
                let ttl = if found == 1 { found_ttl } else { missing_ttl };
                let Some(slot) = best.get_mut(index) else { continue };
                if now - stored > ttl.as_secs_f64() || slot.as_ref().is_some_and(|(rank, _)| *rank >= (found, stored)) {
                    continue;
                }
                let answer = match found {
                    1 => unpack(row.get_ref(2)?).map(Answer::Found),
                    _ => Some(Answer::NotFound),
                };
                if let Some(answer) = answer {
                    *slot = Some(((found, stored), answer));
                }
            }
            Ok(best.into_iter().map(|b| b.map(|(_, a)| a)).collect())
        });
        answers.unwrap_or_else(|| vec![None; keys.len()])
    }

    pub fn get(&self, account: &str, op: &str, key: &str, reveal: i64) -> Option<Answer> {
        self.get_many(account, op, &[key.to_string()], reveal).pop().flatten()
    }

    /// Stores answers, in one transaction. An answer about a person removed for GDPR is not stored.
    pub fn put_many(&self, account: &str, op: &str, entries: &[Entry]) {
        if !entries.is_empty() {
            self.with(|c| insert(c, account, op, entries, now()));
        }
    }

    /// Stores the answers `make` returns, behind the call when there are many (`count` of them): turning results
    /// into rows and compressing and writing ~5 KB each is the cache's main cost, and the call that fetched them
    /// need not wait for it. Every later read in this process waits for it first.
    pub fn put_behind(
        &self,
        account: &str,
        op: &str,
        count: usize,
        make: impl FnOnce() -> Vec<Entry> + Send + 'static,
    ) {
        if count < STORE_BEHIND {
            return self.put_many(account, op, &make());
        }
        if self.store.broken.load(Ordering::Relaxed) {
            return;
        }
        let (store, account, op, stored) = (Arc::clone(&self.store), account.to_string(), op.to_string(), now());
        self.behind.run(move || {
            let entries = make();
            store.with(|c| insert(c, &account, &op, &entries, stored));
        });
    }

    pub fn put(&self, account: &str, op: &str, key: &str, reveal: i64, answer: Answer, who: Identity) {
        self.put_many(account, op, &[(key.to_string(), reveal, answer, who)]);
    }

    /// A person removed for GDPR: every record of them (by any of the keys given) is deleted, and markers (in
    /// `removed`: their email, LinkedIn profile and the query's key) keep them from being stored again.
    pub fn forget(&self, account: &str, key: &str, who: &Identity) {
        let stored = now();
        self.with(|c| {
            let tx = rusqlite::Transaction::new_unchecked(c, rusqlite::TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM answers WHERE account = ?1 AND (key = ?2 \
                 OR (?3 IS NOT NULL AND email = ?3) OR (?4 IS NOT NULL AND linkedin = ?4))",
                params![account, key, who.email, who.linkedin],
            )?;
            let (email, linkedin) = who.keys();
            let mut marker =
                tx.prepare_cached("INSERT OR REPLACE INTO removed (account, identity, stored) VALUES (?1, ?2, ?3)")?;
            for identity in [Some(format!("key:{key}")), email, linkedin].into_iter().flatten() {
                marker.execute(params![account, identity, stored])?;
            }
            drop(marker);
            tx.commit()
        });
    }

    /// Counts what the cache answered instead of the server.
    pub fn saved(&self, requests: u64, credits: f64) {
        self.requests_saved.fetch_add(requests, Ordering::Relaxed);
        *self.credits_saved.lock() += credits;
    }

    /// Deletes every answer (`older_than`: only those stored longer ago); GDPR markers stay. Returns how many.
    pub fn clear(&self, older_than: Option<Duration>) -> Result<u64, String> {
        let cutoff = older_than.map_or(f64::INFINITY, |d| now() - d.as_secs_f64());
        self.flush();
        let conn = self.store.conn.lock();
        let n = conn
            .execute(
                "DELETE FROM answers WHERE found < 2 AND stored <= ?1",
                params![if cutoff.is_finite() { cutoff } else { f64::MAX }],
            )
            .map_err(|e| unusable(&self.store.path, e))?;
        Ok(n as u64)
    }

    pub fn stats(&self) -> Stats {
        let (entries, bytes) = self
            .with(|c| {
                let entries: i64 = c.query_row("SELECT count(*) FROM answers WHERE found < 2", [], |r| r.get(0))?;
                let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
                let size: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0))?;
                Ok((entries as u64, (pages * size) as u64))
            })
            .unwrap_or_default();
        Stats {
            entries,
            bytes,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            requests_saved: self.requests_saved.load(Ordering::Relaxed),
            credits_saved: *self.credits_saved.lock(),
        }
    }
}

impl Store {
    /// Runs `f` on the connection; a failure is reported once and turns the cache off for this process.
    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Option<T> {
        if self.broken.load(Ordering::Relaxed) {
            return None;
        }
        let result = f(&self.conn.lock());
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                if !self.broken.swap(true, Ordering::Relaxed) {
                    let message = format!(
                        "the result cache at {} failed ({e}); going on without it for the rest of this process",
                        self.path.display()
                    );
                    if let Some(w) = self.warn.lock().clone() {
                        w(&message);
                    }
                }
                None
            }
        }
    }
}

/// One answer to store: the query's key, its reveals, the answer and who it is about.
pub type Entry = (String, i64, Answer, Identity);

/// Writes answers in one transaction, skipping people removed for GDPR.
fn insert(c: &Connection, account: &str, op: &str, entries: &[Entry], stored: f64) -> rusqlite::Result<()> {
    let tx = rusqlite::Transaction::new_unchecked(c, rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut removed =
            tx.prepare_cached("SELECT 1 FROM removed WHERE account = ?1 AND identity IN (?2, ?3, ?4) LIMIT 1")?;
        let mut insert = tx.prepare_cached(
            "INSERT OR REPLACE INTO answers (account, op, key, reveal, found, body, email, linkedin, stored) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for (key, reveal, answer, who) in entries {
            let (email, linkedin) = who.keys();
            let found = matches!(answer, Answer::Found(_));
            if found && removed.exists(params![account, email, linkedin, format!("key:{key}")])? {
                continue;
            }
            let body = match answer {
                Answer::Found(text) => Some(pack(text)),
                Answer::NotFound => None,
            };
            insert.execute(params![
                account,
                op,
                key,
                reveal,
                i64::from(found),
                body,
                who.email,
                who.linkedin,
                stored
            ])?;
        }
    }
    tx.commit()
}

/// A body as stored: see `LZ4_DICTIONARY_1`.
fn pack(text: &str) -> Vec<u8> {
    let packed = lz4_flex::block::compress_prepend_size_with_dict(text.as_bytes(), DICTIONARY_1);
    let mut out = Vec::with_capacity(packed.len() + 1);
    out.push(LZ4_DICTIONARY_1);
    out.extend_from_slice(&packed);
    out
}

/// A stored body as text: a compressed blob (layout 2) or text (layout 1); `None` if it does not read back, which
/// makes it a miss rather than a wrong answer.
fn unpack(body: rusqlite::types::ValueRef<'_>) -> Option<String> {
    use rusqlite::types::ValueRef;
    match body {
        ValueRef::Text(text) => String::from_utf8(text.to_vec()).ok(),
        ValueRef::Blob([LZ4_DICTIONARY_1, packed @ ..]) => {
            let size = u32::from_le_bytes(packed.get(..4)?.try_into().ok()?) as usize;
            if size > MAX_BODY {
                return None;
            }
            let text = lz4_flex::block::decompress_size_prepended_with_dict(packed, DICTIONARY_1).ok()?;
            String::from_utf8(text).ok()
        }
        _ => None,
    }
}

/// The `answers` table and its indexes, as this layout has them.
const ANSWERS: &str = "
    CREATE TABLE IF NOT EXISTS answers (
        id INTEGER PRIMARY KEY, account TEXT NOT NULL, op TEXT NOT NULL, key TEXT NOT NULL, reveal INTEGER NOT NULL,
        found INTEGER NOT NULL, body BLOB, email TEXT, linkedin TEXT, stored REAL NOT NULL,
        UNIQUE (account, op, key, reveal));
    CREATE INDEX IF NOT EXISTS answers_email ON answers (account, email) WHERE email IS NOT NULL;
    CREATE INDEX IF NOT EXISTS answers_linkedin ON answers (account, linkedin) WHERE linkedin IS NOT NULL;";

/// Moves a layout-1 file's answers into this layout's table (bodies kept as they are), once: a second process
/// that opened the same file waits for the first and finds the work done.
fn upgrade(conn: &Connection) -> rusqlite::Result<()> {
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    let schema: String = tx.query_row("SELECT value FROM meta WHERE name = 'schema'", [], |r| r.get(0))?;
    if schema == "1" {
        tx.execute_batch(&format!(
            "ALTER TABLE answers RENAME TO answers_1;
             DROP INDEX IF EXISTS answers_email;
             DROP INDEX IF EXISTS answers_linkedin;
             {ANSWERS}
             INSERT INTO answers (account, op, key, reveal, found, body, email, linkedin, stored)
                 SELECT account, op, key, reveal, found, body, email, linkedin, stored FROM answers_1;
             DROP TABLE answers_1;
             UPDATE meta SET value = '{SCHEMA}' WHERE name = 'schema';"
        ))?;
    }
    tx.commit()
}

/// Sets up a new file, or checks that an existing one is a cache this release can read.
fn prepare(conn: &Connection) -> Result<(), String> {
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(format!("SQLite could not switch it to WAL mode (it stays {mode})"));
    }
    // Reads map the file instead of copying each page through a system call; a bigger page cache keeps the
    // b-tree's inner pages across a batch of inserts.
    conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA mmap_size=268435456; PRAGMA cache_size=-32768;")
        .map_err(|e| e.to_string())?;
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| e.to_string())?;
    if tables.iter().any(|t| t == "meta") {
        let app: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE name = 'application'", [], |r| r.get(0))
            .optional()
            .map_err(|e| e.to_string())?;
        if app.as_deref() != Some(APPLICATION) {
            return Err("it is a SQLite database of another program".into());
        }
        let schema: i64 = conn
            .query_row("SELECT value FROM meta WHERE name = 'schema'", [], |r| {
                r.get::<_, String>(0)
            })
            .map_err(|e| e.to_string())?
            .parse()
            .unwrap_or(i64::MAX);
        if schema > SCHEMA {
            return Err(format!(
                "it was written by a newer release of amplemarket (layout {schema}, this one reads {SCHEMA}); upgrade \
                 amplemarket"
            ));
        }
        if schema < SCHEMA {
            upgrade(conn).map_err(|e| e.to_string())?;
        }
        return Ok(());
    }
    if !tables.is_empty() {
        return Err("it is a SQLite database of another program".into());
    }
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
         INSERT OR IGNORE INTO meta VALUES ('application', '{APPLICATION}'), ('schema', '{SCHEMA}');
         {ANSWERS}
         CREATE TABLE IF NOT EXISTS removed (
             account TEXT NOT NULL, identity TEXT NOT NULL, stored REAL NOT NULL,
             PRIMARY KEY (account, identity)) WITHOUT ROWID;
         COMMIT;"
    ))
    .map_err(|e| e.to_string())
}

/// Identical calls in flight at once share one request: the first runs, the others wait for its answer.
pub struct SingleFlight<T: Clone> {
    waiting: Mutex<HashMap<String, tokio::sync::watch::Receiver<Option<T>>>>,
}

impl<T: Clone> Default for SingleFlight<T> {
    fn default() -> Self {
        SingleFlight {
            waiting: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> SingleFlight<T> {
    /// `work`'s answer, or the answer of the identical call (same `key`) already running.
    pub async fn run<F: std::future::Future<Output = T>>(&self, key: String, work: F) -> T {
        loop {
            let leader = {
                let mut waiting = self.waiting.lock();
                match waiting.get(&key) {
                    Some(rx) => Err(rx.clone()),
                    None => {
                        let (tx, rx) = tokio::sync::watch::channel(None);
                        waiting.insert(key.clone(), rx);
                        Ok(tx)
                    }
                }
            };
            match leader {
                Ok(tx) => {
                    let done = Done { flight: self, key };
                    let v = work.await;
                    let _ = tx.send(Some(v.clone()));
                    drop(done);
                    return v;
                }
                Err(mut rx) => {
                    if let Ok(v) = rx.wait_for(Option::is_some).await {
                        if let Some(v) = v.clone() {
                            return v;
                        }
                    }
                    // The running call was dropped (interrupted) before answering: try again, maybe leading.
                }
            }
        }
    }
}

/// Removes a call from the flight when it ends, answered or dropped.
struct Done<'a, T: Clone> {
    flight: &'a SingleFlight<T>,
    key: String,
}

impl<T: Clone> Drop for Done<'_, T> {
    fn drop(&mut self) {
        self.flight.waiting.lock().remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("amplemarket-cache-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("c.sqlite3")
    }

    fn open(path: &Path) -> Cache {
        try_open(path).unwrap()
    }

    fn try_open(path: &Path) -> Result<Cache, String> {
        Cache::open(CacheSettings {
            path: Some(path.to_path_buf()),
            ..Default::default()
        })
    }

    #[test]
    fn answers_with_more_reveals_serve_fewer_never_the_reverse() {
        let c = open(&temp("reveals"));
        let who = Identity::new(Some("a@x.com"), None);
        c.put(
            "acct",
            "person.find",
            "em:a@x.com",
            reveals(true, false),
            Answer::Found("{\"id\":1}".into()),
            who,
        );
        assert_eq!(
            c.get("acct", "person.find", "em:a@x.com", reveals(false, false)),
            Some(Answer::Found("{\"id\":1}".into()))
        );
        assert_eq!(
            c.get("acct", "person.find", "em:a@x.com", reveals(true, false)),
            Some(Answer::Found("{\"id\":1}".into()))
        );
        assert_eq!(c.get("acct", "person.find", "em:a@x.com", reveals(false, true)), None);
        assert_eq!(
            c.get("other", "person.find", "em:a@x.com", 0),
            None,
            "another account shares nothing"
        );
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.entries), (2, 2, 1));
    }

    #[test]
    fn bodies_are_stored_compressed_and_read_back_exactly() {
        let path = temp("compressed");
        let c = open(&path);
        let body = format!("{{\"id\":1,\"about\":\"{}\"}}", "a person's long profile ".repeat(200));
        c.put(
            "acct",
            "person.find",
            "em:a@x.com",
            0,
            Answer::Found(body.clone()),
            Identity::default(),
        );
        assert_eq!(
            c.get("acct", "person.find", "em:a@x.com", 0),
            Some(Answer::Found(body.clone()))
        );
        let conn = Connection::open(&path).unwrap();
        let stored: Vec<u8> = conn.query_row("SELECT body FROM answers", [], |r| r.get(0)).unwrap();
        assert!(
            stored.len() * 5 < body.len(),
            "{} bytes stored for {}",
            stored.len(),
            body.len()
        );
        conn.execute("UPDATE answers SET body = x'01ffffffff00'", []).unwrap();
        assert_eq!(
            c.get("acct", "person.find", "em:a@x.com", 0),
            None,
            "a damaged body is a miss"
        );
        conn.execute("UPDATE answers SET body = x'07000000'", []).unwrap();
        assert_eq!(
            c.get("acct", "person.find", "em:a@x.com", 0),
            None,
            "so is one packed in an unknown way"
        );
    }

    #[test]
    fn a_layout_1_file_is_upgraded_with_its_answers_and_markers() {
        let path = temp("layout1");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
                 INSERT INTO meta VALUES ('application', 'amplemarket'), ('schema', '1');
                 CREATE TABLE answers (
                     account TEXT NOT NULL, op TEXT NOT NULL, key TEXT NOT NULL, reveal INTEGER NOT NULL,
                     found INTEGER NOT NULL, body TEXT, email TEXT, linkedin TEXT, stored REAL NOT NULL,
                     PRIMARY KEY (account, op, key, reveal)) WITHOUT ROWID;
                 CREATE INDEX answers_email ON answers (account, email) WHERE email IS NOT NULL;
                 CREATE INDEX answers_linkedin ON answers (account, linkedin) WHERE linkedin IS NOT NULL;
                 CREATE TABLE removed (
                     account TEXT NOT NULL, identity TEXT NOT NULL, stored REAL NOT NULL,
                     PRIMARY KEY (account, identity)) WITHOUT ROWID;
                 INSERT INTO answers VALUES ('acct', 'person.find', 'em:a@x.com', 0, 1, '{\"id\":1}', 'a@x.com',
                     NULL, 1e12);
                 INSERT INTO removed VALUES ('acct', 'em:b@x.com', 1e12);",
            )
            .unwrap();
        let c = open(&path);
        assert_eq!(
            c.get("acct", "person.find", "em:a@x.com", 0),
            Some(Answer::Found("{\"id\":1}".into()))
        );
        c.put(
            "acct",
            "person.find",
            "em:b@x.com",
            0,
            Answer::Found("{}".into()),
            Identity::new(Some("b@x.com"), None),
        );
        assert_eq!(
            c.get("acct", "person.find", "em:b@x.com", 0),
            None,
            "the GDPR marker still holds"
        );
        let schema: String = Connection::open(&path)
            .unwrap()
            .query_row("SELECT value FROM meta WHERE name = 'schema'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(schema, SCHEMA.to_string());
        drop(c);
        assert!(
            open(&path).get("acct", "person.find", "em:a@x.com", 0).is_some(),
            "opened again as is"
        );
    }

    #[test]
    fn a_gdpr_removal_deletes_the_person_and_blocks_storing_them_again() {
        let c = open(&temp("gdpr"));
        let who = Identity::new(Some("A@x.com"), Some("https://linkedin.com/in/a"));
        c.put(
            "acct",
            "person.find",
            "em:a@x.com",
            0,
            Answer::Found("{}".into()),
            who.clone(),
        );
        c.put(
            "acct",
            "person.enrich",
            "lead",
            0,
            Answer::Found("{}".into()),
            who.clone(),
        );
        c.forget("acct", "li:in/a", &Identity::new(None, Some("linkedin.com/in/a/")));
        assert_eq!(c.get("acct", "person.find", "em:a@x.com", 0), None);
        assert_eq!(c.get("acct", "person.enrich", "lead", 0), None);
        c.put("acct", "person.find", "em:a@x.com", 0, Answer::Found("{}".into()), who);
        assert_eq!(c.get("acct", "person.find", "em:a@x.com", 0), None);
    }

    #[test]
    fn expired_answers_are_misses_and_clear_removes_them() {
        let path = temp("ttl");
        let c = Cache::open(CacheSettings {
            path: Some(path),
            not_found_ttl: Duration::ZERO,
            ..Default::default()
        })
        .unwrap();
        c.put("a", "person.find", "k1", 0, Answer::NotFound, Identity::default());
        c.put(
            "a",
            "person.find",
            "k2",
            0,
            Answer::Found("{}".into()),
            Identity::default(),
        );
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(c.get("a", "person.find", "k1", 0), None);
        assert!(c.get("a", "person.find", "k2", 0).is_some());
        assert_eq!(c.clear(Some(Duration::from_secs(3600))).unwrap(), 0);
        assert_eq!(c.clear(None).unwrap(), 2);
    }

    #[test]
    fn foreign_newer_and_odd_files_are_refused_with_the_fix() {
        let path = temp("foreign");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"this is not a database at all, just text that is long enough").unwrap();
        let e = try_open(&path).unwrap_err();
        assert!(e.contains("cannot be used") && e.contains("cache=False"), "{e}");

        std::fs::remove_file(&path).unwrap();
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (x);")
            .unwrap();
        let e = try_open(&path).unwrap_err();
        assert!(e.contains("another program"), "{e}");

        std::fs::remove_file(&path).unwrap();
        drop(open(&path));
        Connection::open(&path)
            .unwrap()
            .execute("UPDATE meta SET value = '99' WHERE name = 'schema'", [])
            .unwrap();
        let e = try_open(&path).unwrap_err();
        assert!(e.contains("newer release"), "{e}");

        let e = try_open(path.parent().unwrap()).unwrap_err();
        assert!(e.contains("directory"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let path = temp("mode");
        drop(open(&path));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn the_account_is_a_hash_that_hides_the_key() {
        let a = account_of("amp_secret_key_1234");
        assert_eq!(a.len(), 24);
        assert!(!a.contains("1234") && a != account_of("amp_secret_key_1235"));
    }

    #[tokio::test]
    async fn identical_calls_in_flight_share_one_run() {
        let flight = Arc::new(SingleFlight::<u32>::default());
        let runs = Arc::new(AtomicU64::new(0));
        let call = |flight: Arc<SingleFlight<u32>>, runs: Arc<AtomicU64>| async move {
            flight
                .run("k".into(), async {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    7
                })
                .await
        };
        let (a, b) = tokio::join!(call(flight.clone(), runs.clone()), call(flight.clone(), runs.clone()));
        assert_eq!((a, b, runs.load(Ordering::SeqCst)), (7, 7, 1));
        assert_eq!(call(flight.clone(), runs.clone()).await, 7);
        assert_eq!(
            runs.load(Ordering::SeqCst),
            2,
            "a call after the first ended runs again"
        );
    }
}
