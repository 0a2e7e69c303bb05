//! SQL for canary configs (Kayenta's `CANARY_CONFIG` objects).

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value};

use super::StoreError;

/// A stored canary config's summary fields.
#[derive(Debug, Clone)]
pub struct CanaryConfigRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Applications it belongs to.
    pub applications: Vec<String>,
    /// Full document.
    pub body: Map<String, Value>,
}

fn to_row(id: String, name: String, apps: &str, body: &str) -> Result<CanaryConfigRow, StoreError> {
    Ok(CanaryConfigRow {
        id,
        name,
        applications: serde_json::from_str(apps).map_err(StoreError::Corrupt)?,
        body: serde_json::from_str(body).map_err(StoreError::Corrupt)?,
    })
}

/// One config.
pub fn get(conn: &Connection, id: &str) -> Result<Option<CanaryConfigRow>, StoreError> {
    let found: Option<(String, String, String, String)> = conn
        .prepare_cached("SELECT id, name, applications, body FROM canary_configs WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    found
        .map(|(id, name, apps, body)| to_row(id, name, &apps, &body))
        .transpose()
}

/// Every config, by name.
pub fn list(conn: &Connection) -> Result<Vec<CanaryConfigRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, applications, body FROM canary_configs ORDER BY name, id",
    )?;
    let raw = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    raw.into_iter()
        .map(|(id, name, apps, body)| to_row(id, name, &apps, &body))
        .collect()
}

/// Creates or replaces a config.
pub fn put(
    conn: &Connection,
    id: &str,
    name: &str,
    applications: &[String],
    updated_ts: i64,
    body: &Map<String, Value>,
) -> Result<(), StoreError> {
    let apps = serde_json::to_string(applications).map_err(StoreError::Corrupt)?;
    let body = serde_json::to_string(body).map_err(StoreError::Corrupt)?;
    conn.prepare_cached(
        "INSERT INTO canary_configs (id, name, applications, updated_ts, body)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name,
             applications = excluded.applications, updated_ts = excluded.updated_ts,
             body = excluded.body",
    )?
    .execute(params![id, name, apps, updated_ts, body])?;
    Ok(())
}

/// Deletes a config. Returns whether it existed.
pub fn delete(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM canary_configs WHERE id = ?1")?
        .execute([id])?
        > 0)
}
