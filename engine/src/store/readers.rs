//! A small pool of read-only SQLite connections, used from `spawn_blocking`.
//!
//! WAL mode lets readers run while the writer commits; each statement sees the latest commit,
//! so a read issued after a write was acknowledged sees that write.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;

use super::StoreError;

pub(super) struct Readers {
    path: PathBuf,
    idle: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
}

impl Readers {
    pub(super) fn new(path: PathBuf, size: usize) -> Self {
        Self {
            path,
            idle: Arc::new(Mutex::new(Vec::with_capacity(size))),
            permits: Arc::new(Semaphore::new(size)),
        }
    }

    pub(super) async fn run<R, E, F>(&self, work: F) -> Result<R, E>
    where
        F: FnOnce(&Connection) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| E::from(StoreError::Closed))?;
        let idle = Arc::clone(&self.idle);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = match idle.lock().ok().and_then(|mut pool| pool.pop()) {
                Some(conn) => conn,
                None => open_reader(path).map_err(E::from)?,
            };
            let result = work(&conn);
            if let Ok(mut pool) = idle.lock() {
                pool.push(conn);
            }
            result
        })
        .await
        .unwrap_or_else(|_| Err(E::from(StoreError::Panicked)))
    }
}

fn open_reader(path: PathBuf) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(&path, flags)
        .map_err(|source| StoreError::Open { path, source })?;
    conn.execute_batch("PRAGMA busy_timeout = 5000;")?;
    Ok(conn)
}
