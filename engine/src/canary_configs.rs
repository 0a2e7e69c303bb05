//! Kayenta's rules for canary configs (`CanaryConfigController` and the storage services):
//! name and application checks, unique metric names, unique name per application scope, ids,
//! and the created/updated timestamps with their ISO forms.

use rusqlite::Connection;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::store::{self, canary_configs::CanaryConfigRow};

/// Whether this is a create (`POST`) or an update (`PUT /{id}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `POST /v2/canaryConfig`.
    Create,
    /// `PUT /v2/canaryConfig/{id}`.
    Update,
}

fn bad(message: String) -> ApiError {
    ApiError::BadRequest(message)
}

/// Kayenta's name pattern `[A-Z,a-z,0-9,\-,\_]*`. The commas are inside the class in Kayenta's
/// source, so a comma is accepted too; we keep that quirk.
fn valid_name(name: &str) -> bool {
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ','))
}

/// The config's name and applications, validated as Kayenta does.
///
/// # Errors
/// [`ApiError::BadRequest`] with Kayenta's messages.
pub fn validate(doc: &Map<String, Value>) -> Result<(String, Vec<String>), ApiError> {
    let name = match doc.get("name") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(bad(
                "Canary config field 'name' must be a string.".to_owned()
            ));
        }
    };
    if name.is_empty() {
        return Err(bad("Canary config must specify a name.".to_owned()));
    }
    let applications: Vec<String> = match doc.get("applications") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                bad("Canary config field 'applications' must be a list of strings.".to_owned())
            })?,
        Some(_) => {
            return Err(bad(
                "Canary config field 'applications' must be a list of strings.".to_owned(),
            ));
        }
    };
    if applications.is_empty() {
        return Err(bad(
            "Canary config must specify at least one application.".to_owned()
        ));
    }
    if !valid_name(&name) {
        return Err(bad(format!(
            "Canary config cannot be named '{name}'. Names must contain only letters, numbers, dashes (-) and underscores (_)."
        )));
    }
    if let Some(metrics) = doc.get("metrics") {
        let Value::Array(metrics) = metrics else {
            return Err(bad(
                "Canary config field 'metrics' must be a list.".to_owned()
            ));
        };
        let mut seen = Vec::with_capacity(metrics.len());
        for (i, metric) in metrics.iter().enumerate() {
            let metric_name = metric
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if metric_name.is_empty() {
                return Err(bad(format!(
                    "Canary config metric at index {i} must specify a name."
                )));
            }
            if seen.contains(&metric_name) {
                return Err(bad(format!(
                    "Canary config metric name '{metric_name}' is used more than once."
                )));
            }
            seen.push(metric_name);
        }
    }
    Ok((name, applications))
}

fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Creates or updates a config; returns its id.
///
/// # Errors
/// [`ApiError::BadRequest`] with Kayenta's messages; [`ApiError::Storage`].
pub fn save(
    conn: &Connection,
    mut doc: Map<String, Value>,
    mode: Mode,
    path_id: Option<&str>,
    now_ms: i64,
) -> Result<String, ApiError> {
    let body_id = doc
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    match mode {
        Mode::Create => {
            let created = doc
                .get("createdTimestamp")
                .and_then(Value::as_i64)
                .unwrap_or(now_ms);
            let updated = doc
                .get("updatedTimestamp")
                .and_then(Value::as_i64)
                .unwrap_or(created);
            set_times(&mut doc, Some(created), updated);
        }
        Mode::Update => set_times(&mut doc, None, now_ms),
    }
    let id = match mode {
        Mode::Create => body_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        Mode::Update => path_id.map(str::to_owned).unwrap_or_default(),
    };
    if doc
        .get("id")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        doc.insert("id".to_owned(), Value::String(id.clone()));
    }
    let (name, applications) = validate(&doc)?;
    let exists = store::canary_configs::get(conn, &id)?.is_some();
    match (mode, exists) {
        (Mode::Create, true) => return Err(bad(format!("Canary config '{id}' already exists."))),
        (Mode::Update, false) => return Err(bad(format!("Canary config '{id}' does not exist."))),
        _ => {}
    }
    let clash = store::canary_configs::list(conn)?
        .into_iter()
        .find(|other| {
            other.id != id
                && other.name == name
                && other.applications.iter().any(|a| applications.contains(a))
        });
    if clash.is_some() {
        return Err(bad(format!(
            "Canary config with name '{name}' already exists in the scope of applications [{}].",
            applications.join(", ")
        )));
    }
    let updated = doc
        .get("updatedTimestamp")
        .and_then(Value::as_i64)
        .unwrap_or(now_ms);
    store::canary_configs::put(conn, &id, &name, &applications, updated, &doc)?;
    Ok(id)
}

fn set_times(doc: &mut Map<String, Value>, created: Option<i64>, updated: i64) {
    if let Some(created) = created {
        doc.insert("createdTimestamp".to_owned(), Value::from(created));
        doc.insert(
            "createdTimestampIso".to_owned(),
            Value::String(iso(created)),
        );
    }
    doc.insert("updatedTimestamp".to_owned(), Value::from(updated));
    doc.insert(
        "updatedTimestampIso".to_owned(),
        Value::String(iso(updated)),
    );
}

/// The summary Kayenta lists: `{id, name, updatedTimestamp, updatedTimestampIso, applications}`.
pub fn summary(row: &CanaryConfigRow) -> Value {
    let mut out = Map::new();
    out.insert("id".to_owned(), Value::String(row.id.clone()));
    out.insert("name".to_owned(), Value::String(row.name.clone()));
    for key in ["updatedTimestamp", "updatedTimestampIso"] {
        if let Some(v) = row.body.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    out.insert(
        "applications".to_owned(),
        Value::Array(
            row.applications
                .iter()
                .cloned()
                .map(Value::String)
                .collect(),
        ),
    );
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn kayenta_messages() {
        let msg = |v| match validate(&doc(v)) {
            Err(ApiError::BadRequest(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            msg(json!({"applications": ["a"]})),
            "Canary config must specify a name."
        );
        assert_eq!(
            msg(json!({"name": "x"})),
            "Canary config must specify at least one application."
        );
        assert!(
            msg(json!({"name": "a b", "applications": ["a"]}))
                .starts_with("Canary config cannot be named 'a b'.")
        );
        assert!(msg(json!({"name": "a", "applications": ["a"], "metrics": [{"name": "m"}, {"name": "m"}]})).contains("'m'"));
    }

    #[test]
    fn iso_matches_java_instant() {
        assert_eq!(iso(1_569_534_009_252), "2019-09-26T21:40:09.252Z");
    }
}
