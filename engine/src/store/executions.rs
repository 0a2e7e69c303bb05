//! SQL for pipeline executions: the execution header (its JSON without stages) in `executions`,
//! each stage in `execution_stages`. [`apply`] writes one scheduling round's
//! [`Change`]s; [`get`] reassembles Orca's execution JSON.
//!
//! Stage order follows Orca's flat list: the config's stages in order, and a synthetic stage
//! planned later sits just before its parent (after earlier siblings). `position` is a real
//! number so such an insert never renumbers other rows.

use execution::changes::Change;
use execution::{Execution, ExecutionStatus, StageExecution};
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

fn json_text<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(StoreError::Corrupt)
}

fn header_text(execution: &Execution) -> Result<String, StoreError> {
    let mut header = execution.clone();
    header.stages = Vec::new();
    json_text(&header)
}

fn insert_stage(
    conn: &Connection,
    execution_id: &str,
    stage: &StageExecution,
    position: f64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO execution_stages (execution_id, stage_id, position, body) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (execution_id, stage_id) DO UPDATE SET body = excluded.body",
    )?
    .execute(params![execution_id, stage.id, position, json_text(stage)?])?;
    Ok(())
}

/// Where a stage first seen now goes: just before its parent, after the parent's earlier
/// before-stages; at the end when it has no stored parent.
fn new_position(
    conn: &Connection,
    execution_id: &str,
    stage: &StageExecution,
) -> Result<f64, StoreError> {
    let parent: Option<f64> = match &stage.parent_stage_id {
        Some(parent) => conn
            .prepare_cached(
                "SELECT position FROM execution_stages WHERE execution_id = ?1 AND stage_id = ?2",
            )?
            .query_row(params![execution_id, parent], |r| r.get(0))
            .optional()?,
        None => None,
    };
    match parent {
        Some(parent) => {
            let before: Option<f64> = conn
                .prepare_cached(
                    "SELECT max(position) FROM execution_stages
                     WHERE execution_id = ?1 AND position < ?2",
                )?
                .query_row(params![execution_id, parent], |r| r.get(0))?;
            Ok((before.unwrap_or(parent - 1.0) + parent) / 2.0)
        }
        None => {
            let last: Option<f64> = conn
                .prepare_cached(
                    "SELECT max(position) FROM execution_stages WHERE execution_id = ?1",
                )?
                .query_row(params![execution_id], |r| r.get(0))?;
            Ok(last.map_or(0.0, |p| p + 1.0))
        }
    }
}

fn put_header(conn: &Connection, execution: &Execution) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO executions (id, application, pipeline_config_id, status, build_time, start_time, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status,
             start_time = excluded.start_time, body = excluded.body",
    )?
    .execute(params![
        execution.id,
        execution.application.to_lowercase(),
        execution.pipeline_config_id,
        execution.status.as_str(),
        execution.build_time,
        execution.start_time,
        header_text(execution)?,
    ])?;
    Ok(())
}

fn read_header(conn: &Connection, id: &str) -> Result<Option<Execution>, StoreError> {
    let body: Option<String> = conn
        .prepare_cached("SELECT body FROM executions WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    body.map(|b| serde_json::from_str(&b).map_err(StoreError::Corrupt))
        .transpose()
}

/// Writes one batch of changes, in order. A change for an execution that is not stored (it
/// was deleted meanwhile) is skipped.
///
/// # Errors
/// A failing statement.
pub fn apply(conn: &Connection, changes: &[Change]) -> Result<(), StoreError> {
    for change in changes {
        match change {
            Change::Created(execution) => {
                put_header(conn, execution)?;
                for (i, stage) in execution.stages.iter().enumerate() {
                    #[allow(clippy::cast_precision_loss)]
                    insert_stage(conn, &execution.id, stage, i as f64)?;
                }
            }
            Change::Execution(header) => {
                if let Some(mut execution) = read_header(conn, &header.id)? {
                    header.apply_to(&mut execution);
                    put_header(conn, &execution)?;
                }
            }
            Change::Stage {
                execution_id,
                stage,
            } => {
                let updated = conn
                    .prepare_cached(
                        "UPDATE execution_stages SET body = ?3 WHERE execution_id = ?1 AND stage_id = ?2",
                    )?
                    .execute(params![execution_id, stage.id, json_text(stage)?])?;
                if updated == 0 && exists(conn, execution_id)? {
                    let position = new_position(conn, execution_id, stage)?;
                    insert_stage(conn, execution_id, stage, position)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn exists(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM executions WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The whole execution with this id, stages in Orca's order.
///
/// # Errors
/// A failing statement or a corrupt stored document.
pub fn get(conn: &Connection, id: &str) -> Result<Option<Execution>, StoreError> {
    let Some(mut execution) = read_header(conn, id)? else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT body FROM execution_stages WHERE execution_id = ?1 ORDER BY position",
    )?;
    let bodies = stmt
        .query_map([id], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    execution.stages = bodies
        .iter()
        .map(|b| serde_json::from_str(b).map_err(StoreError::Corrupt))
        .collect::<Result<_, _>>()?;
    Ok(Some(execution))
}

/// The (lower-cased) application and status of an execution.
///
/// # Errors
/// A failing statement, or a status that is not Orca's.
pub fn summary(
    conn: &Connection,
    id: &str,
) -> Result<Option<(String, ExecutionStatus)>, StoreError> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT application, status FROM executions WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.and_then(|(app, status)| status.parse().ok().map(|s| (app, s))))
}

/// Ids of executions whose status is not final (to resume after a restart), oldest first.
///
/// # Errors
/// A failing statement.
pub fn unfinished(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT id, status FROM executions ORDER BY build_time, id")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .filter(|(_, status)| {
            status
                .parse::<ExecutionStatus>()
                .is_ok_and(|s| !s.is_complete())
        })
        .map(|(id, _)| id)
        .collect())
}

/// An application's executions as Gate lists them: at most `limit` newest per pipeline config
/// (only `statuses` when given), then sorted ascending by start time, not-started first.
///
/// # Errors
/// A failing statement or a corrupt stored document.
pub fn list(
    conn: &Connection,
    application_key: &str,
    statuses: &[ExecutionStatus],
    limit: usize,
) -> Result<Vec<Execution>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, pipeline_config_id, status FROM executions WHERE application = ?1
         ORDER BY build_time DESC, id DESC",
    )?;
    let rows = stmt
        .query_map([application_key], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut per_config: std::collections::HashMap<Option<String>, usize> =
        std::collections::HashMap::new();
    let mut out = Vec::new();
    for (id, config, status) in rows {
        if !statuses.is_empty() && !statuses.iter().any(|s| s.as_str() == status) {
            continue;
        }
        let count = per_config.entry(config).or_default();
        if *count >= limit {
            continue;
        }
        *count += 1;
        if let Some(execution) = get(conn, &id)? {
            out.push(execution);
        }
    }
    out.sort_by_key(|e| (e.start_time.unwrap_or(0), e.build_time));
    Ok(out)
}

/// Deletes an execution and its stages; `false` when it did not exist.
///
/// # Errors
/// A failing statement.
pub fn delete(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    conn.prepare_cached("DELETE FROM execution_stages WHERE execution_id = ?1")?
        .execute([id])?;
    Ok(conn
        .prepare_cached("DELETE FROM executions WHERE id = ?1")?
        .execute([id])?
        > 0)
}
