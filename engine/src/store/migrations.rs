//! Versioned schema migrations, tracked in `PRAGMA user_version`.
//!
//! Each entry of [`MIGRATIONS`] moves the schema from version `i` to `i + 1`. Append new entries
//! (never edit released ones).

use rusqlite::Connection;

use super::StoreError;

/// The migrations, in order. Index `i` upgrades version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: applications, tasks, pipeline configs with revisions, canary configs.
    "CREATE TABLE applications (
         name TEXT PRIMARY KEY,
         body TEXT NOT NULL,
         create_ts INTEGER NOT NULL,
         update_ts INTEGER NOT NULL
     );
     CREATE TABLE tasks (
         id TEXT PRIMARY KEY,
         application TEXT,
         build_time INTEGER NOT NULL,
         body TEXT NOT NULL
     );
     CREATE TABLE pipelines (
         id TEXT PRIMARY KEY,
         application TEXT NOT NULL,
         name TEXT NOT NULL,
         name_key TEXT NOT NULL,
         sort_index INTEGER,
         index_start INTEGER,
         index_end INTEGER,
         update_ts INTEGER NOT NULL,
         body TEXT NOT NULL
     );
     CREATE UNIQUE INDEX pipelines_by_name ON pipelines (application, name_key);
     CREATE TABLE pipeline_revisions (
         revision INTEGER PRIMARY KEY AUTOINCREMENT,
         pipeline_id TEXT NOT NULL,
         update_ts INTEGER NOT NULL,
         body TEXT NOT NULL
     );
     CREATE INDEX pipeline_revisions_by_pipeline ON pipeline_revisions (pipeline_id, revision);
     CREATE TABLE canary_configs (
         id TEXT PRIMARY KEY,
         name TEXT NOT NULL,
         applications TEXT NOT NULL,
         updated_ts INTEGER NOT NULL,
         body TEXT NOT NULL
     );",
    // 2: pipeline executions (header JSON without stages) and their stages, one row each, so a
    // scheduling round writes only the stages it changed.
    "CREATE TABLE executions (
         id TEXT PRIMARY KEY,
         application TEXT NOT NULL,
         pipeline_config_id TEXT,
         status TEXT NOT NULL,
         build_time INTEGER NOT NULL,
         start_time INTEGER,
         body TEXT NOT NULL
     );
     CREATE INDEX executions_by_application ON executions (application, pipeline_config_id, build_time);
     CREATE INDEX executions_by_status ON executions (status);
     CREATE TABLE execution_stages (
         execution_id TEXT NOT NULL,
         stage_id TEXT NOT NULL,
         position REAL NOT NULL,
         body TEXT NOT NULL,
         PRIMARY KEY (execution_id, stage_id)
     ) WITHOUT ROWID;",
];

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// Applies every migration newer than the file's `user_version`, each in its own transaction.
///
/// # Errors
/// [`StoreError::SchemaTooNew`] for a file from a newer build, or the failing statement.
pub fn apply(conn: &mut Connection) -> Result<(), StoreError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let supported = latest_version();
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    for (version, sql) in (1..)
        .zip(MIGRATIONS.iter())
        .skip(usize::try_from(found).unwrap_or(0))
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {version}"))?;
        tx.commit()?;
        tracing::debug!(version, "applied schema migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_fresh_database_and_is_idempotent() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn).unwrap();
        apply(&mut conn).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, latest_version());
    }

    #[test]
    fn refuses_newer_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA user_version = 999").unwrap();
        assert!(matches!(
            apply(&mut conn),
            Err(StoreError::SchemaTooNew { found: 999, .. })
        ));
    }
}
