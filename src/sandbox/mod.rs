//! A faithful local emulator of the Amplemarket People API (see `docs/sandbox.md`): a data set drawn from a seed,
//! every endpoint with its documented shapes, credits, rate limits, job progression, fault injection, scripted
//! responses and a request log. It runs on its own threads, so it serves while Python waits on it.

mod capture;
mod companies;
pub mod data;
mod error;
mod faults;
mod job_routes;
pub mod jobs;
mod ledger;
mod limits;
mod reply;
mod routes;
mod server;
pub mod settings;
mod state;
pub mod validation;
mod validations;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

pub use capture::Captured;
pub use data::{Dataset, Reveal};
pub use ledger::Charge;
pub use routes::OPENAPI;
pub use settings::Settings;
use state::State;

/// What a sandbox is built from; only `settings` can change once it runs.
#[derive(Clone, Debug)]
pub struct Options {
    pub host: String,
    pub port: u16,
    pub seed: u64,
    pub people: usize,
    pub companies: Option<usize>,
    pub settings: Settings,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            host: "127.0.0.1".into(),
            port: 0,
            seed: 0,
            people: 10_000,
            companies: None,
            settings: Settings::default(),
        }
    }
}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    state: Arc<State>,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    runtime: Option<tokio::runtime::Runtime>,
}

/// The balances and every charge so far.
#[derive(serde::Serialize)]
pub struct Credits {
    pub email_credits: f64,
    pub phone_credits: f64,
    pub charges: Vec<Charge>,
}

impl Sandbox {
    pub fn start(opts: Options) -> Result<Sandbox, String> {
        opts.settings.validate()?;
        if opts.people > 5_000_000 {
            return Err(format!("people={} is more than the sandbox's 5,000,000", opts.people));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("amplemarket-sandbox")
            .enable_all()
            .build()
            .map_err(|e| format!("could not start the sandbox's runtime: {e}"))?;
        let listener = std::net::TcpListener::bind((opts.host.as_str(), opts.port))
            .map_err(|e| format!("could not listen on {}:{}: {e}", opts.host, opts.port))?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let data = Dataset::generate(opts.seed, opts.people, opts.companies);
        let state = Arc::new(State::new(opts.seed, data, opts.settings));
        let router = routes::router(state.clone());
        let (shutdown, stop) = watch::channel(false);
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?
        };
        let addr = server::local_addr(&listener);
        runtime.spawn(server::serve(listener, state.clone(), router, stop));
        Ok(Sandbox {
            state,
            addr,
            shutdown,
            runtime: Some(runtime),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn is_running(&self) -> bool {
        self.runtime.is_some()
    }

    /// Stops serving; open connections are closed.
    pub fn stop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }

    pub fn settings(&self) -> Settings {
        self.state.settings()
    }

    pub fn configure(&self, changes: Value) -> Result<(), String> {
        self.state.configure(changes)
    }

    pub fn reset(&self) {
        self.state.reset();
    }

    pub fn people_count(&self) -> usize {
        self.state.data.read().people.len()
    }

    pub fn companies_count(&self) -> usize {
        self.state.data.read().companies.len()
    }

    /// Person `i` with everything a reveal would show, for building queries that match.
    pub fn person(&self, i: usize) -> Option<Value> {
        let data = self.state.data.read();
        (i < data.people.len()).then(|| data.person_record(i as u32))
    }

    pub fn company(&self, i: usize) -> Option<Value> {
        let data = self.state.data.read();
        (i < data.companies.len()).then(|| data.company_json(i as u32))
    }

    /// Adds people (Person objects); all or none are added. Returns their indexes.
    pub fn add_people(&self, people: Vec<Value>) -> Result<Vec<usize>, String> {
        self.state.data_changed();
        let mut data = self.state.data.write();
        let before = data.people.len();
        let mut added = Vec::with_capacity(people.len());
        for (n, p) in people.into_iter().enumerate() {
            match data.add_person(p) {
                Ok(i) => added.push(i as usize),
                Err(e) => {
                    data.truncate_people(before);
                    return Err(format!("person {n}: {e}"));
                }
            }
        }
        Ok(added)
    }

    pub fn add_company(&self, company: Value) -> Result<usize, String> {
        self.state.data_changed();
        self.state
            .data
            .write()
            .add_company(company)
            .map(|i| i as usize)
            .map_err(|e| e.to_string())
    }

    pub fn script(&self, route: &str, steps: Value) -> Result<(), String> {
        let (method, path) = route
            .trim()
            .split_once(' ')
            .ok_or_else(|| format!("a script route looks like \"GET /people/find\", got {route:?}"))?;
        let method = method.to_ascii_uppercase();
        if !["GET", "POST", "PATCH"].contains(&method.as_str()) || !path.starts_with('/') {
            return Err(format!("a script route looks like \"GET /people/find\", got {route:?}"));
        }
        let steps = faults::parse_steps(steps)?;
        self.state
            .scripts
            .lock()
            .push(format!("{method} {}", path.trim()), steps);
        Ok(())
    }

    pub fn pending_script_steps(&self) -> usize {
        self.state.scripts.lock().pending()
    }

    pub fn requests(&self, since: u64) -> Vec<Captured> {
        self.state.log.lock().since(since)
    }

    pub fn credits(&self) -> Credits {
        let l = self.state.ledger.lock();
        Credits {
            email_credits: l.email_credits(),
            phone_credits: l.phone_credits(),
            charges: l.charges.clone(),
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}
