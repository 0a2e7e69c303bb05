//! What the execution core reads from SQLite: pipeline configs (child pipelines, pipeline and
//! cron triggers) and stored executions (resume, finished children), over a read-only
//! connection of the driver's own.

use std::path::Path;
use std::sync::Mutex;

use execution::{Execution, PipelineConfigs};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde_json::Value;

use crate::store::{self, StoreError};

/// Read access for the driver. Calls are short single-row reads.
pub(crate) struct SqlConfigs {
    conn: Mutex<Connection>,
}

impl SqlConfigs {
    /// Opens the database at `path` read-only.
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn with<R>(
        &self,
        work: impl FnOnce(&Connection) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Closed)?;
        work(&conn)
    }

    /// A fingerprint of the stored configs that changes on any save or delete.
    pub(crate) fn signature(&self) -> Result<(i64, i64), StoreError> {
        self.with(|conn| {
            Ok(conn.query_row(
                "SELECT count(*), coalesce(sum(update_ts), 0) FROM pipelines",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
    }

    /// Every stored pipeline config.
    pub(crate) fn all(&self) -> Result<Vec<Value>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached("SELECT body FROM pipelines ORDER BY id")?;
            let bodies = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(bodies
                .iter()
                .filter_map(|b| serde_json::from_str(b).ok())
                .collect())
        })
    }

    /// Ids of unfinished executions.
    pub(crate) fn unfinished(&self) -> Result<Vec<String>, StoreError> {
        self.with(store::executions::unfinished)
    }

    /// One stored execution.
    pub(crate) fn execution(&self, id: &str) -> Result<Option<Execution>, StoreError> {
        self.with(|conn| store::executions::get(conn, id))
    }
}

impl PipelineConfigs for SqlConfigs {
    fn pipeline_config(&self, id: &str) -> Option<Value> {
        let body: Option<String> = self
            .with(|conn| {
                Ok(conn
                    .prepare_cached("SELECT body FROM pipelines WHERE id = ?1")?
                    .query_row([id], |r| r.get(0))
                    .optional()?)
            })
            .map_err(|e| tracing::error!(error = %e, "reading pipeline config {id}"))
            .ok()
            .flatten();
        body.and_then(|b| serde_json::from_str(&b).ok())
    }

    fn stored_execution(&self, id: &str) -> Option<Execution> {
        self.execution(id)
            .map_err(|e| tracing::error!(error = %e, "reading execution {id}"))
            .ok()
            .flatten()
    }
}
