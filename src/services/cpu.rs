//! The CPU threads that run bcrypt: half the cores, at a lower priority, with
//! a bounded queue. A login flood gets 503 with `Retry-After` once more work is
//! waiting than the threads finish in a few seconds, instead of delaying every
//! login without end.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::errors::{AppError, AppResult};

/// Queued work past which callers are turned away.
const QUEUE_BUDGET: Duration = Duration::from_secs(3);
/// The job time assumed before any was measured (bcrypt at cost 12, roughly).
const INITIAL_JOB_MICROS: u64 = 250_000;

/// A job for the CPU threads.
type CpuJob = Box<dyn FnOnce() + Send>;

/// The CPU threads: half the cores (at least one), at nice 10, fed through a
/// channel, with a semaphore of as many permits so that at most one job per
/// thread is handed over and a caller that gives up while waiting costs nothing.
struct CpuPool {
    permits: tokio::sync::Semaphore,
    jobs: Option<std::sync::mpsc::Sender<CpuJob>>,
    threads: usize,
    /// Callers waiting for or holding a thread.
    queued: AtomicUsize,
    /// Recent job time, microseconds (moving average).
    job_micros: AtomicU64,
}

/// Priority (nice value) of the CPU threads on Linux: a login storm's bcrypt then takes the cores
/// only when request handling and the database leave them idle, instead of an
/// equal share, so validation latency barely moves under it.
#[cfg(target_os = "linux")]
const CPU_NICE: i32 = 10;

fn cpu_pool() -> &'static CpuPool {
    static POOL: std::sync::OnceLock<CpuPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = (cores / 2).max(1);
        let (tx, rx) = std::sync::mpsc::channel::<CpuJob>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        let mut started = 0;
        for i in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("tokenward-cpu-{i}"))
                .spawn(move || cpu_thread(&rx));
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::warn!(error = %e, "could not start a CPU thread"),
            }
        }
        CpuPool {
            permits: tokio::sync::Semaphore::new(threads),
            // Without threads, `cpu` falls back to the blocking pool.
            jobs: (started > 0).then_some(tx),
            threads,
            queued: AtomicUsize::new(0),
            job_micros: AtomicU64::new(INITIAL_JOB_MICROS),
        }
    })
}

fn cpu_thread(jobs: &std::sync::Mutex<std::sync::mpsc::Receiver<CpuJob>>) {
    // On Linux the nice value belongs to the thread ("process 0" is the caller);
    // elsewhere the same call would lower the whole process, so it is left out.
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(None, CPU_NICE) {
        tracing::debug!(error = %e, "could not lower the CPU thread's priority");
    }
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else {
            return;
        };
        // A panicking job loses its answer (the caller gets an error), not the thread.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

impl CpuPool {
    /// `Busy` when `queued` callers are more than the threads get through in
    /// `QUEUE_BUDGET`, at the recent job time.
    fn saturated(&self, queued: usize) -> Option<AppError> {
        let job = self.job_micros.load(Ordering::Relaxed).max(1);
        let budget = QUEUE_BUDGET.as_micros() as u64;
        let room = (budget / job).saturating_mul(self.threads as u64);
        let room = usize::try_from(room)
            .unwrap_or(usize::MAX)
            .max(2 * self.threads);
        (queued >= room).then(|| {
            let wait_micros = (queued as u64).saturating_mul(job) / self.threads as u64;
            AppError::Busy {
                retry_after: (wait_micros / 1_000_000).clamp(1, 60),
            }
        })
    }

    fn record(&self, took: Duration) {
        let took = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let old = self.job_micros.load(Ordering::Relaxed);
        // A light moving average: a few slow jobs move it, one does not.
        let new = old - old / 8 + took / 8;
        self.job_micros.store(new.max(1), Ordering::Relaxed);
    }
}

/// Counts a caller from the moment it queues until it has its answer.
struct Queued<'a>(&'a AtomicUsize);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Holds a turned-away caller for about one job's time (at most a second)
/// before its 503: a client that retries at once, as a load tool or a careless
/// script does, then cannot spin refusals into a flood of its own that takes
/// the cores from validation. The caller no longer counts as queued meanwhile.
async fn turn_away(pool: &CpuPool, busy: AppError) -> AppError {
    let job = pool.job_micros.load(Ordering::Relaxed).min(1_000_000);
    tokio::time::sleep(Duration::from_micros(job)).await;
    busy
}

/// 503 `Busy` (after a short hold) when the password threads already have more
/// waiting than they serve in a few seconds: checked before a login counts an
/// attempt or takes a database connection.
pub async fn refuse_if_saturated() -> AppResult<()> {
    let pool = cpu_pool();
    match pool.saturated(pool.queued.load(Ordering::Acquire)) {
        Some(busy) => Err(turn_away(pool, busy).await),
        None => Ok(()),
    }
}

/// Runs CPU-heavy work (bcrypt) off the async workers, on the CPU threads.
/// Past a few seconds of queued work it answers 503 `Busy` at once instead of
/// queueing without end.
pub async fn cpu<F, T>(f: F) -> AppResult<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let pool = cpu_pool();
    let ahead = pool.queued.fetch_add(1, Ordering::AcqRel);
    let queued = Queued(&pool.queued);
    if let Some(busy) = pool.saturated(ahead) {
        drop(queued);
        return Err(turn_away(pool, busy).await);
    }
    // However the estimate fares, nobody waits for a thread past the budget.
    let waited = tokio::time::timeout(QUEUE_BUDGET, pool.permits.acquire()).await;
    let Ok(permit) = waited else {
        return Err(AppError::Busy {
            retry_after: QUEUE_BUDGET.as_secs(),
        });
    };
    let _permit = permit.map_err(|e| AppError::internal(format!("CPU pool closed: {e}")))?;
    let Some(jobs) = &pool.jobs else {
        return tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| AppError::internal(format!("blocking task failed: {e}")));
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    jobs.send(Box::new(move || {
        let started = Instant::now();
        let out = f();
        let _ = tx.send((out, started.elapsed()));
    }))
    .map_err(|_| AppError::internal("CPU threads stopped"))?;
    let (out, took) = rx
        .await
        .map_err(|_| AppError::internal("CPU task failed"))?;
    pool.record(took);
    Ok(out)
}
