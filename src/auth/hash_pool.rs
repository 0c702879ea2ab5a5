//! A small pool of dedicated threads for costly work (argon2), with a bounded wait.
//!
//! A job waits in a bounded queue for at most `max_wait`; if no thread has taken it by then,
//! it is withdrawn (it never runs) and the caller gets [`Busy`]. A job already running is
//! waited for (it ends within one hash). Reusing a few threads keeps the allocator's
//! per-thread arenas few, so the memory argon2 leaves behind is bounded too.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// No thread was free within the bounded wait, or the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("every worker stayed busy for the whole bounded wait")]
pub struct Busy;

/// Why a job gave no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error(transparent)]
    Busy(#[from] Busy),
    /// The job panicked, or the pool could not start a thread.
    #[error("the worker failed")]
    Failed,
}

/// How big the pool is and how long a job may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolLimits {
    pub threads: usize,
    pub max_wait: Duration,
    /// Jobs waiting at most (beyond: [`Busy`] at once).
    pub max_queue: usize,
}

type Task = Box<dyn FnOnce() + Send>;

struct Job {
    id: u64,
    task: Task,
}

struct Queue {
    jobs: VecDeque<Job>,
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

pub struct HashPool {
    shared: Arc<Shared>,
    limits: PoolLimits,
    next_id: AtomicU64,
}

impl HashPool {
    /// Starts `limits.threads` (at least one) named threads.
    pub fn start(name: &str, limits: PoolLimits) -> std::io::Result<Self> {
        let limits = PoolLimits {
            threads: limits.threads.max(1),
            max_queue: limits.max_queue.max(1),
            ..limits
        };
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                closed: false,
            }),
            ready: Condvar::new(),
        });
        for i in 0..limits.threads {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || work(&shared))?;
        }
        Ok(Self {
            shared,
            limits,
            next_id: AtomicU64::new(0),
        })
    }

    pub fn limits(&self) -> PoolLimits {
        self.limits
    }

    /// Runs `f` on a pool thread and returns its result; [`Busy`] when no thread took it
    /// within the bounded wait (then it never runs).
    pub fn run<T, F>(&self, f: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel(1);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let task: Task = Box::new(move || {
            let _ = tx.send(f());
        });
        {
            let mut queue = self.shared.queue.lock().map_err(|_| PoolError::Failed)?;
            if queue.jobs.len() >= self.limits.max_queue {
                return Err(Busy.into());
            }
            queue.jobs.push_back(Job { id, task });
        }
        self.shared.ready.notify_one();
        match rx.recv_timeout(self.limits.max_wait) {
            Ok(value) => Ok(value),
            Err(RecvTimeoutError::Timeout) => {
                let withdrawn = {
                    let mut queue = self.shared.queue.lock().map_err(|_| PoolError::Failed)?;
                    let before = queue.jobs.len();
                    queue.jobs.retain(|j| j.id != id);
                    queue.jobs.len() != before
                };
                if withdrawn {
                    return Err(Busy.into());
                }
                // Taken just now: it ends within one job's time.
                rx.recv().map_err(|_| PoolError::Failed)
            }
            Err(RecvTimeoutError::Disconnected) => Err(PoolError::Failed),
        }
    }
}

impl Drop for HashPool {
    fn drop(&mut self) {
        if let Ok(mut queue) = self.shared.queue.lock() {
            queue.closed = true;
        }
        self.shared.ready.notify_all();
    }
}

fn work(shared: &Shared) {
    loop {
        let job = {
            let Ok(mut queue) = shared.queue.lock() else {
                return;
            };
            loop {
                if let Some(job) = queue.jobs.pop_front() {
                    break job;
                }
                if queue.closed {
                    return;
                }
                queue = match shared.ready.wait(queue) {
                    Ok(q) => q,
                    Err(_) => return,
                };
            }
        };
        // A panicking job drops its sender (its caller gets `Failed`); the thread lives on.
        let _ = catch_unwind(AssertUnwindSafe(job.task));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::thread::JoinHandle;

    use super::*;

    fn pool(threads: usize, max_wait_ms: u64, max_queue: usize) -> Arc<HashPool> {
        Arc::new(
            HashPool::start(
                "test",
                PoolLimits {
                    threads,
                    max_wait: Duration::from_millis(max_wait_ms),
                    max_queue,
                },
            )
            .unwrap(),
        )
    }

    /// Takes the pool's one thread with a job that waits, once it has started, until the
    /// returned sender speaks; the handle answers that job's outcome.
    fn occupy(pool: &Arc<HashPool>) -> (mpsc::Sender<()>, JoinHandle<Result<(), PoolError>>) {
        let (release, blocked) = mpsc::channel::<()>();
        let (started_tx, started) = mpsc::channel::<()>();
        let pool = pool.clone();
        let holder = std::thread::spawn(move || {
            pool.run(move || {
                started_tx.send(()).unwrap();
                blocked.recv().unwrap();
            })
        });
        started.recv().unwrap();
        (release, holder)
    }

    #[test]
    fn never_runs_more_jobs_at_once_than_it_has_threads() {
        let pool = pool(2, 10_000, 64);
        let active = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let callers: Vec<_> = (0..12)
            .map(|i| {
                let (pool, active, peak) = (pool.clone(), active.clone(), peak.clone());
                std::thread::spawn(move || {
                    pool.run(move || {
                        let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(15));
                        active.fetch_sub(1, Ordering::SeqCst);
                        i * 2
                    })
                })
            })
            .collect();
        let results: Vec<_> = callers.into_iter().map(|c| c.join().unwrap()).collect();
        assert_eq!(results, (0..12).map(|i| Ok(i * 2)).collect::<Vec<_>>());
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn past_the_bounded_wait_a_job_is_refused_and_never_runs() {
        let pool = pool(1, 50, 64);
        let (release, holder) = occupy(&pool);
        let ran = Arc::new(AtomicUsize::new(0));
        let flag = ran.clone();
        assert_eq!(
            pool.run(move || flag.fetch_add(1, Ordering::SeqCst)),
            Err(PoolError::Busy(Busy))
        );
        release.send(()).unwrap();
        assert_eq!(holder.join().unwrap(), Ok(()));
        // The refused job was withdrawn: the free thread never runs it.
        assert_eq!(pool.run(|| 7), Ok(7));
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_full_queue_refuses_at_once_and_a_panicking_job_fails_alone() {
        let pool = pool(1, 10_000, 1);
        let (release, holder) = occupy(&pool);
        let waiter = {
            let pool = pool.clone();
            std::thread::spawn(move || pool.run(|| 1))
        };
        // Let the waiter queue up, then the queue (one place) is full.
        while pool.shared.queue.lock().unwrap().jobs.is_empty() {
            std::thread::yield_now();
        }
        assert_eq!(pool.run(|| 2), Err(PoolError::Busy(Busy)));
        release.send(()).unwrap();
        holder.join().unwrap().unwrap();
        assert_eq!(waiter.join().unwrap(), Ok(1));
        assert_eq!(
            pool.run(|| -> u8 { panic!("boom") }),
            Err(PoolError::Failed)
        );
        assert_eq!(pool.run(|| 3), Ok(3), "the thread survived");
    }
}
