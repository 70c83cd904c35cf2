//! Work done behind the call that asked for it: one thread per owner runs the owner's jobs in the order given, and
//! `wait` returns once every job queued so far is done. The result cache stores a large batch of answers this
//! way, so the call that fetched them returns without waiting for the disk.
//!
//! Threads do not survive `fork()`: a forked child starts its own thread on its first job and never waits for
//! its parent's. A dropped owner's thread finishes the jobs already queued, then ends. Jobs still queued when the
//! process exits are lost unless something calls `wait_all` first (the Python package does, at exit).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Arc, Weak};

use parking_lot::{Condvar, Mutex};

type Job = Box<dyn FnOnce() + Send>;

/// Jobs queued and not yet done, and the signal that there are none.
#[derive(Default)]
struct Idle {
    queued: Mutex<u64>,
    done: Condvar,
}

impl Idle {
    fn wait(&self) {
        let mut queued = self.queued.lock();
        while *queued > 0 {
            self.done.wait(&mut queued);
        }
    }

    fn finished(&self) {
        let mut queued = self.queued.lock();
        *queued -= 1;
        if *queued == 0 {
            self.done.notify_all();
        }
    }
}

/// Every live worker's counter, so the end of the process can wait for all of them.
static WORKERS: Mutex<Vec<Weak<Idle>>> = Mutex::new(Vec::new());

struct Worker {
    pid: u32,
    jobs: mpsc::Sender<Job>,
    idle: Arc<Idle>,
}

impl Worker {
    fn start() -> Option<Worker> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let idle = Arc::new(Idle::default());
        let counter = Arc::clone(&idle);
        std::thread::Builder::new()
            .name("amplemarket-behind".into())
            .spawn(move || {
                for job in queue {
                    // A job that panics must not stop the ones after it, nor leave waiters waiting.
                    let _ = catch_unwind(AssertUnwindSafe(job));
                    counter.finished();
                }
            })
            .ok()?;
        let mut all = WORKERS.lock();
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(&idle));
        Some(Worker {
            pid: std::process::id(),
            jobs,
            idle,
        })
    }
}

#[derive(Default)]
pub struct Behind {
    worker: Mutex<Option<Worker>>,
}

impl Behind {
    /// Queues `job` behind the ones before it; runs it here and now if no thread can be started.
    pub fn run(&self, job: impl FnOnce() + Send + 'static) {
        let mut worker = self.worker.lock();
        let pid = std::process::id();
        if worker.as_ref().is_none_or(|w| w.pid != pid) {
            *worker = Worker::start();
        }
        let Some(w) = worker.as_ref() else {
            drop(worker);
            return job();
        };
        *w.idle.queued.lock() += 1;
        if let Err(mpsc::SendError(job)) = w.jobs.send(Box::new(job)) {
            w.idle.finished();
            drop(worker);
            job();
        }
    }

    /// Returns once every job queued so far (by this process) is done.
    pub fn wait(&self) {
        let idle = {
            let worker = self.worker.lock();
            worker
                .as_ref()
                .filter(|w| w.pid == std::process::id())
                .map(|w| Arc::clone(&w.idle))
        };
        if let Some(idle) = idle {
            idle.wait();
        }
    }
}

/// Waits for every job queued in this process, whoever queued it.
pub fn wait_all() {
    let live: Vec<Arc<Idle>> = WORKERS.lock().iter().filter_map(Weak::upgrade).collect();
    for idle in live {
        idle.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn jobs_run_in_order_and_wait_sees_them_done() {
        let behind = Behind::default();
        let seen = Arc::new(Mutex::new(Vec::new()));
        for i in 0..100 {
            let seen = Arc::clone(&seen);
            behind.run(move || {
                std::thread::sleep(std::time::Duration::from_micros(50));
                seen.lock().push(i);
            });
        }
        behind.wait();
        assert_eq!(*seen.lock(), (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn a_panicking_job_does_not_stop_the_rest_and_a_dropped_owner_finishes_its_queue() {
        let behind = Behind::default();
        let count = Arc::new(AtomicUsize::new(0));
        behind.run(|| panic!("a job that fails"));
        for _ in 0..10 {
            let count = Arc::clone(&count);
            behind.run(move || {
                count.fetch_add(1, Ordering::SeqCst);
            });
        }
        drop(behind);
        wait_all();
        assert_eq!(count.load(Ordering::SeqCst), 10);
    }
}
