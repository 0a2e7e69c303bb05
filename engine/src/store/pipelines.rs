//! SQL for pipeline configs and their revision history, and the list rendering that rewrites
//! `index` without re-parsing documents.
//!
//! Each document is stored as the exact JSON text answered to clients. The byte span of its
//! top-level `index` value is stored beside it, so listing splices the 0..n-1 position into the
//! text instead of parsing and re-serialising every document (Front50 rewrites `index` in lists).

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value};

use super::StoreError;

/// One stored pipeline config as read for listing.
#[derive(Debug, Clone)]
pub struct PipelineRow {
    /// The pipeline-config id.
    pub id: String,
    /// The trimmed name.
    pub name: String,
    /// The stored JSON text.
    pub body: String,
    /// Byte span of the top-level `index` value inside `body`, if it has one.
    pub index_span: Option<(usize, usize)>,
}

impl PipelineRow {
    /// The stored raw `index` value, if the document has one.
    pub fn index_value(&self) -> Option<Value> {
        let (start, end) = self.index_span?;
        serde_json::from_str(self.body.get(start..end)?).ok()
    }
}

/// Facts about a stored pipeline needed when saving over it.
#[derive(Debug, Clone)]
pub struct StoredPipeline {
    /// The row.
    pub row: PipelineRow,
    /// `updateTs` in epoch ms.
    pub update_ts: i64,
}

/// A document ready to be written.
#[derive(Debug, Clone)]
pub struct PipelineWrite<'a> {
    /// The id.
    pub id: &'a str,
    /// Lower-cased application name (the lookup key).
    pub application_key: &'a str,
    /// Trimmed name.
    pub name: &'a str,
    /// Lower-cased trimmed name (uniqueness key).
    pub name_key: &'a str,
    /// `index` when it is an integer, for sorting.
    pub sort_index: Option<i64>,
    /// The JSON text.
    pub body: &'a str,
    /// Span of the `index` value in `body`.
    pub index_span: Option<(usize, usize)>,
    /// `updateTs` in epoch ms.
    pub update_ts: i64,
}

fn span_from(start: Option<i64>, end: Option<i64>) -> Option<(usize, usize)> {
    let start = usize::try_from(start?).ok()?;
    let end = usize::try_from(end?).ok()?;
    (start <= end).then_some((start, end))
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Every pipeline of an application, in Front50's order: `index` (missing last), then name
/// ignoring case.
pub fn list(conn: &Connection, application_key: &str) -> Result<Vec<PipelineRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, body, index_start, index_end FROM pipelines
         WHERE application = ?1
         ORDER BY sort_index IS NULL, sort_index, name_key, id",
    )?;
    let rows = stmt.query_map([application_key], |row| {
        Ok(PipelineRow {
            id: row.get(0)?,
            name: row.get(1)?,
            body: row.get(2)?,
            index_span: span_from(row.get(3)?, row.get(4)?),
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// One pipeline by id.
pub fn get(conn: &Connection, id: &str) -> Result<Option<StoredPipeline>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, body, index_start, index_end, update_ts FROM pipelines WHERE id = ?1",
    )?;
    Ok(stmt
        .query_row([id], |row| {
            Ok(StoredPipeline {
                row: PipelineRow {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    body: row.get(2)?,
                    index_span: span_from(row.get(3)?, row.get(4)?),
                },
                update_ts: row.get(5)?,
            })
        })
        .optional()?)
}

/// The application key of a stored pipeline.
pub fn application_of(conn: &Connection, id: &str) -> Result<Option<String>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT application FROM pipelines WHERE id = ?1")?;
    Ok(stmt.query_row([id], |row| row.get(0)).optional()?)
}

/// The id of another pipeline in the application with the same name ignoring case.
pub fn duplicate_of(
    conn: &Connection,
    application_key: &str,
    name_key: &str,
    id: &str,
) -> Result<Option<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM pipelines WHERE application = ?1 AND name_key = ?2 AND id <> ?3",
    )?;
    Ok(stmt
        .query_row(params![application_key, name_key, id], |row| row.get(0))
        .optional()?)
}

/// Creates or replaces the pipeline and appends a revision.
pub fn put(conn: &Connection, write: &PipelineWrite<'_>) -> Result<(), StoreError> {
    let (start, end) = match write.index_span {
        Some((s, e)) => (Some(to_i64(s)), Some(to_i64(e))),
        None => (None, None),
    };
    conn.prepare_cached(
        "INSERT INTO pipelines
             (id, application, name, name_key, sort_index, index_start, index_end, update_ts, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET
             application = excluded.application, name = excluded.name,
             name_key = excluded.name_key, sort_index = excluded.sort_index,
             index_start = excluded.index_start, index_end = excluded.index_end,
             update_ts = excluded.update_ts, body = excluded.body",
    )?
    .execute(params![
        write.id,
        write.application_key,
        write.name,
        write.name_key,
        write.sort_index,
        start,
        end,
        write.update_ts,
        write.body
    ])?;
    conn.prepare_cached(
        "INSERT INTO pipeline_revisions (pipeline_id, update_ts, body) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![write.id, write.update_ts, write.body])?;
    Ok(())
}

/// Deletes a pipeline by id (its revision history is kept). Returns whether it existed.
pub fn delete(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached("DELETE FROM pipelines WHERE id = ?1")?
        .execute([id])?;
    Ok(n > 0)
}

/// Revisions of a pipeline, newest first, as a JSON array text.
pub fn history(conn: &Connection, id: &str, limit: u32) -> Result<Vec<u8>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT body FROM pipeline_revisions WHERE pipeline_id = ?1
         ORDER BY revision DESC LIMIT ?2",
    )?;
    let mut rows = stmt.query(params![id, limit])?;
    let mut out = Vec::with_capacity(1024);
    out.push(b'[');
    let mut first = true;
    while let Some(row) = rows.next()? {
        if !first {
            out.push(b',');
        }
        first = false;
        let body: String = row.get(0)?;
        out.extend_from_slice(body.as_bytes());
    }
    out.push(b']');
    Ok(out)
}

/// Serialises a pipeline document, returning its text and the span of its top-level `index`.
///
/// # Errors
/// Only if a value cannot be serialised, which `serde_json::Value` never does in practice.
pub fn serialize(doc: &Map<String, Value>) -> Result<(String, Option<(usize, usize)>), StoreError> {
    let mut out = Vec::with_capacity(512);
    let mut span = None;
    out.push(b'{');
    for (i, (key, value)) in doc.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, key).map_err(StoreError::Corrupt)?;
        out.push(b':');
        let start = out.len();
        serde_json::to_writer(&mut out, value).map_err(StoreError::Corrupt)?;
        if key == "index" {
            span = Some((start, out.len()));
        }
    }
    out.push(b'}');
    let text = String::from_utf8(out).map_err(|e| {
        StoreError::Corrupt(serde_json::Error::io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            e,
        )))
    })?;
    Ok((text, span))
}

/// Appends `row`'s document to `out` with its `index` set to `index`.
pub fn render_into(out: &mut Vec<u8>, row: &PipelineRow, index: usize) {
    let body = row.body.as_str();
    if let Some((start, end)) = row.index_span
        && let (Some(head), Some(tail)) = (body.get(..start), body.get(end..))
    {
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(index.to_string().as_bytes());
        out.extend_from_slice(tail.as_bytes());
        return;
    }
    let head = body.strip_suffix('}').unwrap_or(body);
    out.extend_from_slice(head.as_bytes());
    if head.trim_end() != "{" {
        out.push(b',');
    }
    out.extend_from_slice(b"\"index\":");
    out.extend_from_slice(index.to_string().as_bytes());
    out.push(b'}');
}

/// Renders rows as a JSON array with `index` rewritten to each row's position.
pub fn render_list<'a>(rows: impl IntoIterator<Item = &'a PipelineRow>) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    out.push(b'[');
    for (i, row) in rows.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        render_into(&mut out, row, i);
    }
    out.push(b']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(doc: Value) -> PipelineRow {
        let Value::Object(map) = doc else {
            panic!("object")
        };
        let (body, index_span) = serialize(&map).unwrap();
        PipelineRow {
            id: "x".into(),
            name: "n".into(),
            body,
            index_span,
        }
    }

    #[test]
    fn rewrites_index_in_place_and_keeps_key_order() {
        let r = row(json!({"a": 1, "index": 17, "b": {"index": 3}}));
        let mut out = Vec::new();
        render_into(&mut out, &r, 4);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":1,"index":4,"b":{"index":3}}"#
        );
    }

    #[test]
    fn appends_index_when_absent() {
        let r = row(json!({"name": "p"}));
        let list = render_list([&r, &r]);
        let v: Value = serde_json::from_slice(&list).unwrap();
        assert_eq!(
            v,
            json!([{"name": "p", "index": 0}, {"name": "p", "index": 1}])
        );
    }
}
