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
//! A group holds only requests that started on the same policy (and the
//! same shadow policy): a request decides on the policy it started with,
//! even when a reload lands while it waits. With a shadow policy, the
//! worker decides each request with it too, inside the same transaction
//! on the same state, and compares ([`crate::shadow`]).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::thread::JoinHandle;

use actpol::store::{Store, Stored};
use actpol::{Decision, Level, Request};
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::policy::Loaded;
use crate::shadow::Shadow;

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
    /// The shadow policy serving when the request started.
    pub shadow: Option<Arc<Loaded>>,
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
    /// Starts the worker that decides against `store`, comparing with
    /// `shadow` when there is one.
    pub fn start(
        store: Arc<dyn Store>,
        shadow: Option<Arc<Shadow>>,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<(Batcher, Worker)> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let worker = Decider {
            store,
            shadow,
            metrics,
        };
        let handle = std::thread::Builder::new()
            .name("actpol-decide".into())
            .spawn(move || worker.run(rx))?;
        Ok((Batcher { tx }, Worker { handle }))
    }

    /// Decides `envelopes` on `loaded`, with the requests around it.
    pub async fn decide(
        &self,
        loaded: Arc<Loaded>,
        shadow: Option<Arc<Loaded>>,
        envelopes: Vec<Bytes>,
        explain: bool,
    ) -> GroupResult {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            loaded,
            shadow,
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

/// What the worker thread owns.
struct Decider {
    store: Arc<dyn Store>,
    shadow: Option<Arc<Shadow>>,
    metrics: Arc<Metrics>,
}

/// Whether two jobs decide on the same policies.
fn same_policies(a: &Job, b: &Job) -> bool {
    let same_shadow = match (&a.shadow, &b.shadow) {
        (Some(x), Some(y)) => Arc::ptr_eq(x, y),
        (None, None) => true,
        _ => false,
    };
    Arc::ptr_eq(&a.loaded, &b.loaded) && same_shadow
}

impl Decider {
    fn run(&self, mut rx: mpsc::Receiver<Job>) {
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
                if !same_policies(&job, &group[0]) {
                    // Started on another policy: it opens the next group.
                    next = Some(job);
                    break;
                }
                size += job.envelopes.len();
                group.push(job);
            }
            // A panic deciding (a bug) fails that group's requests, whose
            // replies drop unanswered, not the server.
            let _ = std::panic::catch_unwind(AssertUnwindSafe(|| self.decide_group(group)));
        }
    }

    /// Decides a group in one transaction and answers each job.
    fn decide_group(&self, group: Vec<Job>) {
        let policy = &group[0].loaded.policy;
        let requests: Vec<Request<'_>> = group
            .iter()
            .flat_map(|job| {
                job.envelopes
                    .iter()
                    .map(move |bytes| Request::new(bytes.as_ref()).explain(job.explain))
            })
            .collect();
        let (outcome, shadowed) = match &group[0].shadow {
            None => (policy.decide_stored_batch(&*self.store, requests), vec![]),
            Some(candidate) => {
                let envelopes: Vec<&[u8]> = group
                    .iter()
                    .flat_map(|job| job.envelopes.iter().map(Bytes::as_ref))
                    .collect();
                let mut shadowed: Vec<Option<(Decision, i64)>> = vec![None; envelopes.len()];
                let outcome = policy.decide_stored_batch_beside(
                    &*self.store,
                    requests,
                    &mut |i, now, view| {
                        let request = Request::new(envelopes[i]).at(now);
                        shadowed[i] = Some((candidate.policy.decide(request, view), now));
                    },
                );
                (outcome, shadowed)
            }
        };
        match outcome {
            Err(err) => {
                let err = ApiError::from(err);
                for job in group {
                    let _ = job.reply.send(Err(err.clone()));
                }
            }
            Ok(results) => {
                self.compare(&results, shadowed);
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

    /// Counts each recorded decision beside the shadow's, and keeps flips.
    fn compare(
        &self,
        results: &[Result<Stored, actpol::store::StoreError>],
        shadowed: Vec<Option<(Decision, i64)>>,
    ) {
        let Some(shadow) = &self.shadow else { return };
        for (result, candidate) in results.iter().zip(shadowed) {
            let (Ok(stored), Some((candidate, at))) = (result, candidate) else {
                continue;
            };
            let live = stored.decision();
            let flipped = shadow.compare(live, &candidate, at);
            self.metrics
                .shadow(live.decision, candidate.decision, flipped);
        }
    }
}
