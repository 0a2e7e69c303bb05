//! Running pipelines: the [`Executions`] handle API handlers call, and the driver task that owns
//! the `execution` core's [`Executor`].
//!
//! One driver task holds the executor. Each round it applies the API commands that arrived,
//! fires due cron triggers, calls `Executor::step`, fires pipeline triggers of executions that
//! finished, and queues the round's changes to the store's group-committing writer as **one**
//! write (one transaction). A command's answer is sent only once the round that applied it is
//! durable, so a 202 for a trigger means the execution is on disk. The driver does not wait for
//! a commit before computing the next round (at most [`MAX_ROUNDS_IN_FLIGHT`] are queued), so
//! scheduling and fsyncs overlap.
//!
//! On start the driver loads every unfinished execution from SQLite and resumes it: waits keep
//! their start time, judgments keep waiting, webhook and Jenkins monitors poll again.
//!
//! * [`driver`]: the loop; [`configs`]: pipeline configs and stored executions read from SQLite
//!   for the core (child pipelines, triggers, cron).

mod configs;
mod driver;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use execution::{Actor, Clock, Execution, Executor, ExecutorError};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::config::Config;
use crate::store::Store;

pub use driver::MAX_ROUNDS_IN_FLIGHT;

/// Why an execution operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecutionsError {
    /// The core refused (not found, not running, forbidden judge, disabled config, …).
    #[error(transparent)]
    Refused(#[from] ExecutorError),
    /// The round that applied the operation could not be committed.
    #[error("execution storage failed: {0}")]
    Storage(String),
    /// The driver is not running (server shutting down, or no async runtime at start).
    #[error("the execution engine is not running")]
    Stopped,
}

/// What the commit of a round answered: `Ok` once durable.
pub(crate) type Committed = Result<(), String>;
/// Runs after the round's commit with its outcome.
pub(crate) type Finish = Box<dyn FnOnce(Committed) + Send>;
/// A command: applied to the executor at `now`, answered after the round's commit.
pub(crate) type Command = Box<dyn FnOnce(&mut Executor, i64) -> Finish + Send>;

/// The handle to the execution driver; cheap to clone.
#[derive(Clone)]
pub struct Executions {
    sender: Option<mpsc::UnboundedSender<Command>>,
    refresh: Arc<AtomicBool>,
    clock: Arc<dyn Clock>,
}

impl Executions {
    /// Starts the driver on the current tokio runtime. Without a runtime the handle answers
    /// every call with [`ExecutionsError::Stopped`].
    pub fn start(store: Store, config: &Config, clock: Arc<dyn Clock>) -> Self {
        let refresh = Arc::new(AtomicBool::new(true));
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no async runtime: pipeline executions are disabled");
            return Self {
                sender: None,
                refresh,
                clock,
            };
        };
        let (sender, receiver) = mpsc::unbounded_channel();
        let driver = driver::Driver::new(store, config, Arc::clone(&clock), Arc::clone(&refresh));
        runtime.spawn(driver.run(receiver));
        Self {
            sender: Some(sender),
            refresh,
            clock,
        }
    }

    /// The clock executions run on.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Runs `operation` on the executor in the next round and answers once that round is
    /// durable.
    async fn call<T, F>(&self, operation: F) -> Result<T, ExecutionsError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Executor, i64) -> Result<T, ExecutorError> + Send + 'static,
    {
        let sender = self.sender.as_ref().ok_or(ExecutionsError::Stopped)?;
        let (reply, answer) = oneshot::channel();
        let command: Command = Box::new(move |executor, now| {
            let outcome = operation(executor, now);
            Box::new(move |committed: Committed| {
                let result = match (outcome, committed) {
                    (Err(e), _) => Err(ExecutionsError::Refused(e)),
                    (Ok(_), Err(e)) => Err(ExecutionsError::Storage(e)),
                    (Ok(value), Ok(())) => Ok(value),
                };
                let _ = reply.send(result);
            })
        });
        sender.send(command).map_err(|_| ExecutionsError::Stopped)?;
        answer.await.map_err(|_| ExecutionsError::Stopped)?
    }

    /// Builds an execution from `config` and `trigger` and starts (or queues) it; returns its id.
    ///
    /// # Errors
    /// [`ExecutionsError::Refused`] with Orca's reason (disabled, malformed config).
    pub async fn trigger(&self, config: Value, trigger: Value) -> Result<String, ExecutionsError> {
        self.call(move |executor, now| executor.trigger(&config, Some(trigger), now))
            .await
    }

    /// Cancels an execution.
    ///
    /// # Errors
    /// Not found, or storage.
    pub async fn cancel(
        &self,
        id: String,
        user: String,
        reason: Option<String>,
    ) -> Result<(), ExecutionsError> {
        self.call(move |executor, now| executor.cancel(&id, &user, reason, now))
            .await
    }

    /// Pauses a RUNNING execution.
    ///
    /// # Errors
    /// Not found, not running, or storage.
    pub async fn pause(&self, id: String, user: String) -> Result<(), ExecutionsError> {
        self.call(move |executor, now| executor.pause(&id, &user, now))
            .await
    }

    /// Resumes a PAUSED execution.
    ///
    /// # Errors
    /// Not found, not paused, or storage.
    pub async fn resume(&self, id: String, user: String) -> Result<(), ExecutionsError> {
        self.call(move |executor, now| executor.resume(&id, &user, now))
            .await
    }

    /// Merges `patch` into a stage's context (manual judgment, `skipRemainingWait`); answers the
    /// execution after the change is durable.
    ///
    /// # Errors
    /// Not found, a judge outside the allowed roles, `manualSkip`, or storage.
    pub async fn update_stage(
        &self,
        id: String,
        stage_id: String,
        patch: serde_json::Map<String, Value>,
        actor: Actor,
    ) -> Result<Execution, ExecutionsError> {
        self.call(move |executor, now| {
            executor
                .update_stage(&id, &stage_id, patch, &actor, now)
                .cloned()
        })
        .await
    }

    /// Forgets a completed execution that was deleted from storage.
    ///
    /// # Errors
    /// Storage, or a stopped driver.
    pub async fn forget(&self, id: String) -> Result<(), ExecutionsError> {
        self.call(move |executor, _| {
            executor.evict(&id);
            Ok(())
        })
        .await
    }

    /// Runs a round now and re-reads pipeline configs (new cron triggers); for tests that move
    /// a manual clock, and after config changes.
    ///
    /// # Errors
    /// Storage, or a stopped driver.
    pub async fn tick(&self) -> Result<(), ExecutionsError> {
        self.refresh.store(true, Ordering::SeqCst);
        self.call(|_, _| Ok(())).await
    }
}
