//! Business rules and transaction boundaries. No actix types here: callers pass
//! plain data (`ClientMeta`, DTOs) and get `AppResult`s back.

pub mod account;
pub mod admin;
pub mod audit;
pub mod cleanup;
pub mod health;
pub mod issuance;
pub mod keys;
pub mod lockout;
pub mod login;
pub mod lookup;
pub mod oauth;
pub mod rate_limit;
pub mod refresh;
pub mod revocation;
pub mod session;
pub mod stats;
pub mod two_factor;
pub mod user;
pub mod validation;
pub mod validation_cache;
pub mod ws;

use crate::errors::{AppError, AppResult};

/// Where a request came from, as stored on tokens, sessions and audit rows.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    /// Client IP (the trusted-proxy rule already applied).
    pub ip: Option<String>,
    /// User agent, truncated.
    pub user_agent: Option<String>,
}

/// A job for the CPU threads.
type CpuJob = Box<dyn FnOnce() + Send>;

/// The CPU threads: half the cores (at least one), at nice 10, fed through a
/// channel, with a semaphore of as many permits so that at most one job per
/// thread is handed over and a caller that gives up while waiting costs nothing.
struct CpuPool {
    permits: tokio::sync::Semaphore,
    jobs: Option<std::sync::mpsc::Sender<CpuJob>>,
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

/// Runs CPU-heavy work (bcrypt) off the async workers, on the CPU threads.
pub async fn cpu<F, T>(f: F) -> AppResult<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let pool = cpu_pool();
    let _permit = pool
        .permits
        .acquire()
        .await
        .map_err(|e| AppError::internal(format!("CPU pool closed: {e}")))?;
    let Some(jobs) = &pool.jobs else {
        return tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| AppError::internal(format!("blocking task failed: {e}")));
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    jobs.send(Box::new(move || {
        let _ = tx.send(f());
    }))
    .map_err(|_| AppError::internal("CPU threads stopped"))?;
    rx.await.map_err(|_| AppError::internal("CPU task failed"))
}

/// Emails are unique regardless of case: trimmed and lowercased everywhere.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}
