//! Front50's rules for saving pipeline configs: required `name`/`application`, trimmed names,
//! client-chosen or generated ids, duplicate names per application (ignoring case), the opt-in
//! stale check, `index` kept from the stored copy, cron trigger ids, and the server-owned
//! `updateTs` / `lastModifiedBy`.

use rusqlite::Connection;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::store::{self, pipelines::PipelineWrite};

/// Fields the server sets on every save.
pub const SERVER_OWNED: &[&str] = &["updateTs", "lastModifiedBy"];

/// Front50's message for a pipeline without name or application.
pub const MISSING_FIELDS: &str = "A pipeline requires name and application fields";

/// How a save is performed.
#[derive(Debug, Clone)]
pub struct SaveOptions {
    /// The request user, written to `lastModifiedBy`.
    pub user: String,
    /// `staleCheck=true`: reject a submitted `updateTs` that differs from the stored one.
    pub stale_check: bool,
    /// The current time in epoch ms.
    pub now_ms: i64,
}

/// A successful save.
#[derive(Debug, Clone)]
pub struct Saved {
    /// The pipeline id (client-supplied or generated).
    pub id: String,
    /// The trimmed name.
    pub name: String,
    /// Lower-cased application.
    pub application_key: String,
}

/// The application key (lower-cased, trimmed) and trimmed name of a pipeline document.
///
/// # Errors
/// [`ApiError::BadRequest`] with Front50's message when either is missing or blank.
pub fn identity(doc: &Map<String, Value>) -> Result<(String, String), ApiError> {
    let text = |key: &str| {
        doc.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    match (text("application"), text("name")) {
        (Some(app), Some(name)) => Ok((app.to_lowercase(), name)),
        _ => Err(ApiError::BadRequest(MISSING_FIELDS.to_owned())),
    }
}

fn epoch_ms(value: &Value) -> Option<i64> {
    match value {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// Saves (creates or replaces by id) one pipeline inside the caller's write transaction.
/// Authorization is the caller's job.
///
/// # Errors
/// [`ApiError::BadRequest`] with Front50's message for missing fields, duplicate names and stale
/// updates; [`ApiError::Storage`] for storage failures.
pub fn save(
    conn: &Connection,
    mut doc: Map<String, Value>,
    options: &SaveOptions,
) -> Result<Saved, ApiError> {
    let (application_key, name) = identity(&doc)?;
    doc.insert("name".to_owned(), Value::String(name.clone()));
    let supplied_id = match doc.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if id.trim().is_empty() => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => {
            return Err(ApiError::BadRequest(
                "Pipeline field 'id' must be a string".to_owned(),
            ));
        }
    };
    let id = supplied_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    doc.insert("id".to_owned(), Value::String(id.clone()));

    let stored = match &supplied_id {
        Some(id) => store::pipelines::get(conn, id)?,
        None => None,
    };

    if options.stale_check
        && let Some(stored) = &stored
        && let Some(submitted) = doc.get("updateTs").or_else(|| doc.get("lastModified"))
    {
        let matches = epoch_ms(submitted) == Some(stored.update_ts);
        if !matches {
            let shown = match submitted {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            return Err(ApiError::BadRequest(format!(
                "The submitted pipeline is stale.  submitted updateTs {shown} does not match stored updateTs {}",
                stored.update_ts
            )));
        }
    }

    let name_key = name.to_lowercase();
    if store::pipelines::duplicate_of(conn, &application_key, &name_key, &id)?.is_some() {
        let application = doc
            .get("application")
            .and_then(Value::as_str)
            .unwrap_or(&application_key)
            .to_owned();
        return Err(ApiError::BadRequest(format!(
            "A pipeline with name {name} already exists in application {application}"
        )));
    }

    if !doc.contains_key("index")
        && let Some(index) = stored.as_ref().and_then(|s| s.row.index_value())
    {
        doc.insert("index".to_owned(), index);
    }

    let regenerate = supplied_id.is_none()
        || doc.get("regenerateCronTriggerIds").and_then(Value::as_bool) == Some(true);
    assign_cron_trigger_ids(&mut doc, regenerate);

    // Keep updateTs strictly increasing per pipeline so stale checks are meaningful.
    let update_ts = match &stored {
        Some(s) if s.update_ts >= options.now_ms => s.update_ts + 1,
        _ => options.now_ms,
    };
    doc.insert("updateTs".to_owned(), Value::String(update_ts.to_string()));
    doc.insert(
        "lastModifiedBy".to_owned(),
        Value::String(options.user.clone()),
    );

    let sort_index = doc.get("index").and_then(Value::as_i64);
    let (body, index_span) = store::pipelines::serialize(&doc)?;
    store::pipelines::put(
        conn,
        &PipelineWrite {
            id: &id,
            application_key: &application_key,
            name: &name,
            name_key: &name_key,
            sort_index,
            body: &body,
            index_span,
            update_ts,
        },
    )?;
    Ok(Saved {
        id,
        name,
        application_key,
    })
}

/// Gives every cron trigger without an id a UUID; with `regenerate`, every cron trigger.
fn assign_cron_trigger_ids(doc: &mut Map<String, Value>, regenerate: bool) {
    let Some(Value::Array(triggers)) = doc.get_mut("triggers") else {
        return;
    };
    for trigger in triggers.iter_mut().filter_map(Value::as_object_mut) {
        if trigger.get("type").and_then(Value::as_str) != Some("cron") {
            continue;
        }
        let has_id = trigger
            .get("id")
            .and_then(Value::as_str)
            .is_some_and(|id| !id.is_empty());
        if regenerate || !has_id {
            trigger.insert(
                "id".to_owned(),
                Value::String(uuid::Uuid::new_v4().to_string()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cron_ids_filled_only_where_missing_unless_regenerating() {
        let mut doc = json!({"triggers": [
            {"type": "cron", "id": "keep"}, {"type": "cron"}, {"type": "git"}
        ]})
        .as_object()
        .cloned()
        .unwrap();
        assign_cron_trigger_ids(&mut doc, false);
        let t = &doc["triggers"];
        assert_eq!(t[0]["id"], "keep");
        assert!(t[1]["id"].as_str().is_some_and(|s| s.len() == 36));
        assert!(t[2].get("id").is_none());
        assign_cron_trigger_ids(&mut doc, true);
        assert_ne!(doc["triggers"][0]["id"], "keep");
    }

    #[test]
    fn identity_requires_both_fields() {
        let doc = json!({"name": "  ", "application": "a"})
            .as_object()
            .cloned()
            .unwrap();
        assert!(identity(&doc).is_err());
        let doc = json!({"name": " p ", "application": "App"})
            .as_object()
            .cloned()
            .unwrap();
        assert_eq!(identity(&doc).unwrap(), ("app".to_owned(), "p".to_owned()));
    }
}
