//! SQL for applications: one row per lower-cased name holding its attribute map.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value};

use super::StoreError;

fn parse(body: &str) -> Result<Map<String, Value>, StoreError> {
    serde_json::from_str(body).map_err(StoreError::Corrupt)
}

/// The attributes of one application.
pub fn get(conn: &Connection, name: &str) -> Result<Option<Map<String, Value>>, StoreError> {
    let body: Option<String> = conn
        .prepare_cached("SELECT body FROM applications WHERE name = ?1")?
        .query_row([name], |row| row.get(0))
        .optional()?;
    body.as_deref().map(parse).transpose()
}

/// Every application, by name.
pub fn list(conn: &Connection) -> Result<Vec<Map<String, Value>>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT body FROM applications ORDER BY name")?;
    let bodies = stmt
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    bodies.iter().map(|b| parse(b)).collect()
}

/// Creates or replaces an application's attributes.
pub fn put(
    conn: &Connection,
    name: &str,
    attributes: &Map<String, Value>,
    create_ts: i64,
    update_ts: i64,
) -> Result<(), StoreError> {
    let body = serde_json::to_string(attributes).map_err(StoreError::Corrupt)?;
    conn.prepare_cached(
        "INSERT INTO applications (name, body, create_ts, update_ts) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO UPDATE SET body = excluded.body, update_ts = excluded.update_ts",
    )?
    .execute(params![name, body, create_ts, update_ts])?;
    Ok(())
}

/// Deletes an application. Returns whether it existed.
pub fn delete(conn: &Connection, name: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM applications WHERE name = ?1")?
        .execute([name])?
        > 0)
}

/// The `permissions` attribute of an application, if the application exists and has one.
pub fn permissions(conn: &Connection, name: &str) -> Result<Option<Value>, StoreError> {
    Ok(get(conn, name)?.and_then(|mut attrs| attrs.remove("permissions")))
}
