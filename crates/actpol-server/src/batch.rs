//! Group commit: the queue in front of the store.
//!
//! Every decision goes through one queue to a worker thread that owns the
//! store's write side. The worker takes what is waiting (up to
//! [`MAX_GROUP`] envelopes) and decides it as one store transaction
//! (`Policy::decide_stored_batch`), so the commit — where the disk is — is
//! paid once for every request that arrived while the previous transaction
//! ran. Nothing waits for a group to fill: an idle server decides a lone
//! request at once, and a busy one never makes a request wait longer than
//! the transaction before it. Each request still gets its own result.
//!
//! A group holds only requests that started on the same policy: a request
//! decides on the policy it started with, even when a reload lands while
//! it waits.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::thread::JoinHandle;

use actpol::store::{Store, Stored};
use actpol::{Level, Request};
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::error::ApiError;
use crate::policy::Loaded;

/// The most envelopes one transaction decides.
pub const MAX_GROUP: usize = 256;

/// How many requests may wait for the worker before senders wait too.
const QUEUE: usize = 4096;

/// One decision, as the store recorded it.
#[derive(Clone, Debug)]
pub struct Decided {
    /// The decision JSON as the log holds it, sent as is.
    pub json: String,
    pub level: Level,
}

impl From<Stored> for Decided {
    fn from(stored: Stored) -> Decided {
        Decided {
            level: stored.decision().decision,
            json: stored.json().to_string(),
        }
    }
}

/// Each envelope's result, in order; the outer error: none was recorded.
pub type GroupResult = Result<Vec<Result<Decided, ApiError>>, ApiError>;

/// Envelopes from one HTTP request, to decide on one policy.
#[derive(Debug)]
pub struct Job {
    pub loaded: Arc<Loaded>,
    pub envelopes: Vec<Bytes>,
    pub explain: bool,
    pub reply: oneshot::Sender<GroupResult>,
}

/// The sending side of the queue, shared by the handlers.
#[derive(Clone, Debug)]
pub struct Batcher {
    tx: mpsc::Sender<Job>,
}

/// The worker thread; [`Worker::join`] waits for it to decide what is
/// queued once every [`Batcher`] is dropped.
#[derive(Debug)]
pub struct Worker {
    handle: JoinHandle<()>,
}

impl Worker {
    pub fn join(self) {
        // A worker that panicked has answered nothing more: its senders
        // already saw their replies dropped.
        let _ = self.handle.join();
    }
}

impl Batcher {
    /// Starts the worker that decides against `store`.
    pub fn start(store: Arc<dyn Store>) -> std::io::Result<(Batcher, Worker)> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let handle = std::thread::Builder::new()
            .name("actpol-decide".into())
            .spawn(move || run(&*store, rx))?;
        Ok((Batcher { tx }, Worker { handle }))
    }

    /// Decides `envelopes` on `loaded`, with the requests around it.
    pub async fn decide(
        &self,
        loaded: Arc<Loaded>,
        envelopes: Vec<Bytes>,
        explain: bool,
    ) -> GroupResult {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            loaded,
            envelopes,
            explain,
            reply,
        };
        if self.tx.send(job).await.is_err() {
            return Err(ApiError::internal("the decision queue is closed"));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(ApiError::internal("the decision worker stopped")))
    }
}

fn run(store: &dyn Store, mut rx: mpsc::Receiver<Job>) {
    let mut next: Option<Job> = None;
    loop {
        let first = match next.take() {
            Some(job) => job,
            None => match rx.blocking_recv() {
                Some(job) => job,
                None => return,
            },
        };
        let mut size = first.envelopes.len();
        let mut group = vec![first];
        while size < MAX_GROUP {
            let Ok(job) = rx.try_recv() else { break };
            if !Arc::ptr_eq(&job.loaded, &group[0].loaded) {
                // Started on another policy: it opens the next group.
                next = Some(job);
                break;
            }
            size += job.envelopes.len();
            group.push(job);
        }
        // A panic deciding (a bug) fails that group's requests, whose
        // replies drop unanswered, not the server.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| decide_group(store, group)));
    }
}

/// Decides a group in one transaction and answers each job.
fn decide_group(store: &dyn Store, group: Vec<Job>) {
    let policy = &group[0].loaded.policy;
    let requests: Vec<Request<'_>> = group
        .iter()
        .flat_map(|job| {
            job.envelopes
                .iter()
                .map(move |bytes| Request::new(bytes.as_ref()).explain(job.explain))
        })
        .collect();
    let outcome = policy.decide_stored_batch(store, requests);
    match outcome {
        Err(err) => {
            let err = ApiError::from(err);
            for job in group {
                let _ = job.reply.send(Err(err.clone()));
            }
        }
        Ok(results) => {
            let mut results = results.into_iter();
            for job in group {
                let mine: Vec<Result<Decided, ApiError>> = results
                    .by_ref()
                    .take(job.envelopes.len())
                    .map(|r| r.map(Decided::from).map_err(ApiError::from))
                    .collect();
                // A caller that went away (timed out) is not waited for.
                let _ = job.reply.send(Ok(mine));
            }
        }
    }
}
