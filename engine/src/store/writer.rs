//! The single writer thread and its group commit.
//!
//! Writes arrive as boxed [`WriteJob`]s on a channel. The thread blocks for the first job, then
//! takes every job already queued (up to [`MAX_BATCH`]), runs them in order inside one
//! `BEGIN IMMEDIATE … COMMIT` with a savepoint per job, and only after `COMMIT` returns (the WAL is
//! fsynced, `synchronous=FULL`) answers each waiting caller. A job's error rolls back its own
//! savepoint and leaves the rest of the batch intact.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::StoreError;

/// Most jobs committed together.
const MAX_BATCH: usize = 512;

/// One queued write, type-erased.
trait WriteJob: Send {
    /// Runs the work on the writer connection (inside the batch's transaction).
    fn run(&mut self, conn: &Connection);
    /// Delivers the result: `Ok` once the batch committed, else the commit failure.
    fn finish(self: Box<Self>, commit: Result<(), Arc<rusqlite::Error>>);
}

struct Pending<F, R, E> {
    work: Option<F>,
    result: Option<Result<R, E>>,
    reply: oneshot::Sender<Result<R, E>>,
}

impl<F, R, E> WriteJob for Pending<F, R, E>
where
    F: FnOnce(&Connection) -> Result<R, E> + Send,
    R: Send,
    E: From<StoreError> + Send,
{
    fn run(&mut self, conn: &Connection) {
        let Some(work) = self.work.take() else { return };
        if let Err(e) = conn.execute_batch("SAVEPOINT job") {
            self.result = Some(Err(E::from(StoreError::Sqlite(e))));
            return;
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| work(conn)))
            .unwrap_or_else(|_| Err(E::from(StoreError::Panicked)));
        let close = if outcome.is_ok() {
            conn.execute_batch("RELEASE job")
        } else {
            conn.execute_batch("ROLLBACK TO job; RELEASE job")
        };
        self.result = Some(match close {
            Ok(()) => outcome,
            Err(e) => Err(E::from(StoreError::Sqlite(e))),
        });
    }

    fn finish(self: Box<Self>, commit: Result<(), Arc<rusqlite::Error>>) {
        let this = *self;
        let result = match (this.result, commit) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(_)) | None, Err(e)) => Err(E::from(StoreError::Commit(e))),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (None, Ok(())) => Err(E::from(StoreError::Closed)),
        };
        // The caller may have gone away (request cancelled); the write stands regardless.
        let _ = this.reply.send(result);
    }
}

/// The writer thread's handle.
pub(super) struct Writer {
    sender: Mutex<Option<mpsc::Sender<Box<dyn WriteJob>>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Moves `conn` to a new writer thread.
    pub(super) fn start(conn: Connection) -> Result<Self, StoreError> {
        let (sender, receiver) = mpsc::channel::<Box<dyn WriteJob>>();
        let thread = std::thread::Builder::new()
            .name("spinhcl-store-writer".to_owned())
            .spawn(move || writer_loop(&conn, &receiver))
            .map_err(|_| StoreError::Closed)?;
        Ok(Self {
            sender: Mutex::new(Some(sender)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Sends the job at once (so jobs enqueued one after another commit in that order) and
    /// returns a future for its result.
    pub(super) fn enqueue<F, R, E>(
        &self,
        work: F,
    ) -> impl std::future::Future<Output = Result<R, E>> + Send + 'static
    where
        F: FnOnce(&Connection) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn WriteJob> = Box::new(Pending {
            work: Some(work),
            result: None,
            reply,
        });
        let sent = self
            .sender
            .lock()
            .ok()
            .and_then(|guard| guard.as_ref().map(|s| s.send(job).is_ok()))
            .unwrap_or(false);
        async move {
            if !sent {
                return Err(E::from(StoreError::Closed));
            }
            answer
                .await
                .unwrap_or_else(|_| Err(E::from(StoreError::Closed)))
        }
    }

    pub(super) fn shutdown(&self) {
        if let Ok(mut sender) = self.sender.lock() {
            sender.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn writer_loop(conn: &Connection, receiver: &mpsc::Receiver<Box<dyn WriteJob>>) {
    while let Ok(first) = receiver.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(conn, batch);
    }
    tracing::debug!("store writer stopped");
}

fn commit_batch(conn: &Connection, mut batch: Vec<Box<dyn WriteJob>>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let e = Arc::new(e);
        for job in batch {
            job.finish(Err(Arc::clone(&e)));
        }
        return;
    }
    for job in &mut batch {
        job.run(conn);
    }
    let commit = conn.execute_batch("COMMIT").map_err(|e| {
        tracing::error!(error = %e, "batch commit failed; rolling back");
        let _ = conn.execute_batch("ROLLBACK");
        Arc::new(e)
    });
    for job in batch {
        job.finish(commit.clone());
    }
}
