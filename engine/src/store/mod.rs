//! Durable storage on SQLite: one writer thread with group commit, a small pool of readers,
//! versioned migrations, and one module per stored entity.
//!
//! # Layout
//! * [`writer`]: every write is a closure queued to one thread, which runs a batch of queued
//!   closures in one transaction (each in its own savepoint) and acknowledges each only after the
//!   commit is on disk (`journal_mode=WAL`, `synchronous=FULL`). Many concurrent saves share one
//!   fsync, so saves per second can exceed the disk's fsync rate.
//! * [`readers`]: read-only connections, used from `spawn_blocking`.
//! * [`migrations`]: schema versions tracked in `PRAGMA user_version`; add a new entry to extend.
//! * [`applications`], [`pipelines`], [`canary_configs`], [`tasks`], [`executions`]: the SQL for
//!   each entity.

pub mod applications;
pub mod canary_configs;
pub mod executions;
pub mod migrations;
pub mod pipelines;
mod readers;
pub mod tasks;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::Connection;

pub use rusqlite;

/// File name of the database inside the data folder.
pub const DATABASE_FILE: &str = "spinhcl.db";

/// A storage failure. Bad input never produces one: it is rejected before reaching storage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The data folder or database file could not be opened.
    #[error("cannot open database {path}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// A statement failed.
    #[error("sqlite statement failed")]
    Sqlite(#[from] rusqlite::Error),
    /// The batch this write belonged to failed to commit; the write did not happen.
    #[error("transaction commit failed")]
    Commit(#[source] Arc<rusqlite::Error>),
    /// The database was written by a newer spinhcl.
    #[error("database schema version {found} is newer than this spinhcl supports ({supported})")]
    SchemaTooNew {
        /// `user_version` in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// A stored document is not valid JSON (the file was edited or corrupted).
    #[error("stored document is not valid json")]
    Corrupt(#[source] serde_json::Error),
    /// The writer thread or the read pool has stopped.
    #[error("storage has shut down")]
    Closed,
    /// A write closure panicked; its savepoint was rolled back.
    #[error("a storage operation panicked")]
    Panicked,
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    writer: Arc<writer::Writer>,
    readers: Arc<readers::Readers>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) `spinhcl.db` in `data_dir` and applies pending migrations.
    ///
    /// # Errors
    /// [`StoreError::Open`] when the file cannot be opened, or a migration error.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let path = data_dir.join(DATABASE_FILE);
        let mut conn = Connection::open(&path).map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;",
        )?;
        migrations::apply(&mut conn)?;
        let readers = readers::Readers::new(path.clone(), 4);
        let writer = writer::Writer::start(conn)?;
        Ok(Self {
            writer: Arc::new(writer),
            readers: Arc::new(readers),
            path,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` on the writer connection inside a savepoint of the current batch and returns
    /// its result once the batch is durably committed. An `Err` from `work` rolls back only its
    /// own changes.
    ///
    /// # Errors
    /// `work`'s own error, or a [`StoreError`] (converted into `E`) if the commit failed.
    pub async fn write<R, E, F>(&self, work: F) -> Result<R, E>
    where
        F: FnOnce(&Connection) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.writer.enqueue(work).await
    }

    /// Queues `work` like [`Store::write`] but now, without awaiting: writes queued one after
    /// the other commit in that order. The returned future answers once the batch is durable.
    /// The execution driver uses it to keep scheduling while earlier rounds commit.
    pub fn write_queued<R, E, F>(
        &self,
        work: F,
    ) -> impl std::future::Future<Output = Result<R, E>> + Send + 'static
    where
        F: FnOnce(&Connection) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.writer.enqueue(work)
    }

    /// Runs `work` on a read-only connection from the pool, off the async runtime.
    ///
    /// # Errors
    /// `work`'s own error, or [`StoreError`] (converted into `E`) if no connection is available.
    pub async fn read<R, E, F>(&self, work: F) -> Result<R, E>
    where
        F: FnOnce(&Connection) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.readers.run(work).await
    }

    /// Stops the writer thread after it finishes queued writes, and waits for it.
    pub fn shutdown(&self) {
        self.writer.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    enum TestError {
        Rejected,
        Store(StoreError),
    }

    impl From<StoreError> for TestError {
        fn from(e: StoreError) -> Self {
            Self::Store(e)
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn failing_write_rolls_back_only_itself_within_a_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let writes = (0..200).map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(move |conn| {
                        conn.execute(
                            "INSERT INTO tasks (id, build_time, body) VALUES (?1, 0, '{}')",
                            [format!("t{i}")],
                        )
                        .map_err(StoreError::from)?;
                        if i % 2 == 1 {
                            return Err(TestError::Rejected);
                        }
                        Ok(i)
                    })
                    .await
            })
        });
        let mut ok = 0;
        for write in writes {
            match write.await.unwrap() {
                Ok(_) => ok += 1,
                Err(TestError::Rejected) => {}
                Err(TestError::Store(e)) => panic!("{e}"),
            }
        }
        assert_eq!(ok, 100);
        let ids: Vec<String> = store
            .read(|conn| {
                let mut stmt = conn.prepare("SELECT id FROM tasks")?;
                let ids = stmt
                    .query_map([], |r| r.get(0))?
                    .collect::<Result<Vec<String>, _>>()?;
                Ok::<_, StoreError>(ids)
            })
            .await
            .unwrap();
        assert_eq!(ids.len(), 100);
        assert!(
            ids.iter()
                .all(|id| id.trim_start_matches('t').parse::<u32>().unwrap() % 2 == 0)
        );
    }

    #[tokio::test]
    async fn panicking_write_is_reported_and_the_writer_keeps_going() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let panicked: Result<(), StoreError> = store
            .write(|_conn| -> Result<(), StoreError> { panic!("boom") })
            .await;
        assert!(matches!(panicked, Err(StoreError::Panicked)));
        let after: Result<i64, StoreError> = store
            .write(|conn| Ok(conn.query_row("SELECT 1", [], |r| r.get(0))?))
            .await;
        assert_eq!(after.unwrap(), 1);
    }

    #[test]
    fn store_is_durable_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            runtime
                .block_on(store.write(|conn| {
                    conn.execute(
                        "INSERT INTO tasks (id, build_time, body) VALUES ('x', 1, '{}')",
                        [],
                    )?;
                    Ok::<_, StoreError>(())
                }))
                .unwrap();
            store.shutdown();
        }
        let store = Store::open(dir.path()).unwrap();
        let body = runtime
            .block_on(store.read(|conn| tasks::get(conn, "x")))
            .unwrap();
        assert_eq!(body.as_deref(), Some("{}"));
    }
}
