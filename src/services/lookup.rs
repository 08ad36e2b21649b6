//! Service layer: the token lookups of double validation, grouped.
//!
//! Under load many requests wait for their token's row at the same moment. Each
//! would cost a trip to the blocking pool, a pooled connection and a query of
//! its own; here they queue instead, and whatever has queued while the previous
//! lookups ran is read by one query (`token_hash = ANY(..)`). At most
//! `concurrency` queries are in flight, so a burst turns into fewer, larger
//! queries rather than a longer queue for the pool. A lone request is looked up
//! at once, on its own.
//!
//! Exactness is kept: a request's query starts after the request was queued, so
//! it sees every revocation committed before the request arrived, as a query of
//! its own would.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::db::Db;
use crate::errors::{AppError, AppResult};
use crate::models::TokenContext;
use crate::repositories::token as token_repo;

/// Most token hashes read by one query.
const MAX_BATCH: usize = 128;

/// Lookups waiting for a query; beyond this, callers wait to queue.
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<AppResult<Option<TokenContext>>>;

struct Pending {
    hash: String,
    reply: Reply,
}

/// Hands token-hash lookups to a task that groups them into shared queries.
#[derive(Clone)]
pub struct TokenLookups {
    queue: mpsc::Sender<Pending>,
}

impl TokenLookups {
    /// Starts the grouping task on the current tokio runtime, with at most
    /// `concurrency` queries in flight.
    pub fn start(db: Db, concurrency: usize) -> Self {
        let (queue, pending) = mpsc::channel(QUEUE);
        tokio::spawn(group(
            db,
            pending,
            Arc::new(Semaphore::new(concurrency.max(1))),
        ));
        Self { queue }
    }

    /// The token with this hash, with its session and user, read after this call
    /// began. A database failure (or a lookup the grouping task could not finish)
    /// is `Unavailable`: callers fail closed.
    pub async fn find(&self, hash: String) -> AppResult<Option<TokenContext>> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending { hash, reply })
            .await
            .map_err(|_| AppError::Unavailable)?;
        answer.await.map_err(|_| AppError::Unavailable)?
    }
}

/// Takes a query slot, then everything queued by then (up to `MAX_BATCH`), and
/// answers it with one query on its own task.
async fn group(db: Db, mut pending: mpsc::Receiver<Pending>, slots: Arc<Semaphore>) {
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = pending.recv().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match pending.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let db = db.clone();
        tokio::spawn(async move {
            answer(&db, batch).await;
            drop(slot);
        });
    }
}

/// Runs one query for `batch` and replies to each caller (several callers may
/// share a hash).
async fn answer(db: &Db, batch: Vec<Pending>) {
    let mut waiting: HashMap<String, Vec<Reply>> = HashMap::with_capacity(batch.len());
    for p in batch {
        waiting.entry(p.hash).or_default().push(p.reply);
    }
    let hashes: Vec<String> = waiting.keys().cloned().collect();
    let found = db
        .run(move |c| Ok(token_repo::find_contexts_by_hashes(c, &hashes)?))
        .await;
    match found {
        Ok(rows) => {
            let mut by_hash: HashMap<String, TokenContext> = rows
                .into_iter()
                .map(|ctx| (ctx.token.issued.token_hash.clone(), ctx))
                .collect();
            for (hash, replies) in waiting {
                let ctx = by_hash.remove(&hash);
                for reply in replies {
                    // A caller that gave up (its request was dropped) is no error.
                    let _ = reply.send(Ok(ctx.clone()));
                }
            }
        }
        Err(e) => {
            let unavailable = matches!(e, AppError::Unavailable);
            if !unavailable {
                tracing::error!(error = %e, "token lookup failed");
            }
            for reply in waiting.into_values().flatten() {
                let _ = reply.send(Err(AppError::Unavailable));
            }
        }
    }
}
