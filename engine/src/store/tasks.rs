//! SQL for tasks (Orca orchestrations): the stored task view, by ULID.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// Stores a finished task's view.
pub fn put(
    conn: &Connection,
    id: &str,
    application: Option<&str>,
    build_time: i64,
    body: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO tasks (id, application, build_time, body) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id, application, build_time, body])?;
    Ok(())
}

/// A task's view as JSON text.
pub fn get(conn: &Connection, id: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT body FROM tasks WHERE id = ?1")?
        .query_row([id], |row| row.get(0))
        .optional()?)
}
