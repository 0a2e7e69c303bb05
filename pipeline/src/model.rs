//! Lossless pipeline JSON: [`Pipeline`] wraps the original object, typed views read it.
//!
//! Front50 keeps unknown top-level keys in an "any-map" and writes them back unchanged, and
//! Orca puts every unknown stage key into the stage context. So the model never drops a field:
//! a [`Pipeline`] owns the original `serde_json::Map` (insertion order preserved) and the
//! accessors only *read* it. [`Stage`], [`Trigger`] and [`Parameter`] are borrowed views over one
//! array entry; their `raw()` gives every field, modelled or not.
//!
//! Quirks of real exports that parsing accepts: one object or an array of them, duplicate keys
//! (the last one wins), tab indentation, `stages: []`, missing `application`/`name`, missing
//! `requisiteStageRefIds`, numeric refIds (`1` and `"1"` are the same id on read), and stage array
//! order that differs from the DAG order.

use serde_json::{Map, Value};

/// Top-level pipeline fields that the server owns (Front50 sets or renumbers them).
///
/// Leave them out of diffs and never send them back as user intent. Cron trigger `id`s are also
/// server-owned; [`normalize_for_diff`] drops those inside `triggers`.
pub const SERVER_OWNED_FIELDS: &[&str] = &["updateTs", "lastModifiedBy", "index"];

/// Returns [`SERVER_OWNED_FIELDS`].
pub fn server_owned_fields() -> &'static [&'static str] {
    SERVER_OWNED_FIELDS
}

/// A pipeline config exactly as Front50 stores it, with typed read accessors.
///
/// Serializes and deserializes as the bare JSON object.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Pipeline {
    raw: Map<String, Value>,
}

/// An error from [`parse_pipelines`]: names the file (when given) and the location.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The bytes are not valid JSON.
    #[error("{}line {line} column {column}: invalid JSON: {message}", file_prefix(.file))]
    Json {
        /// The file name the caller gave, if any.
        file: Option<String>,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// serde_json's description without its location suffix.
        message: String,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// The document is JSON but not a pipeline object or an array of pipeline objects.
    #[error("{}{location}is {found}, expected a pipeline object (or an array of them)", file_prefix(.file))]
    NotAPipeline {
        /// The file name the caller gave, if any.
        file: Option<String>,
        /// `""` for the document itself, or `"element [i] "` for an array entry.
        location: String,
        /// The JSON kind found, e.g. `"a string"`.
        found: &'static str,
    },
}

fn file_prefix(file: &Option<String>) -> String {
    match file {
        Some(f) => format!("{f}: "),
        None => String::new(),
    }
}

/// Parses one pipeline object or an array of them.
///
/// # Errors
///
/// [`ParseError::Json`] with line and column for malformed JSON, [`ParseError::NotAPipeline`]
/// when the document (or an array element) is not an object.
pub fn parse_pipelines(bytes: &[u8]) -> Result<Vec<Pipeline>, ParseError> {
    parse_inner(None, bytes)
}

/// Like [`parse_pipelines`], with the file name put into error messages.
///
/// # Errors
///
/// As [`parse_pipelines`].
pub fn parse_pipelines_named(file: &str, bytes: &[u8]) -> Result<Vec<Pipeline>, ParseError> {
    parse_inner(Some(file), bytes)
}

fn parse_inner(file: Option<&str>, bytes: &[u8]) -> Result<Vec<Pipeline>, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let value: Value = serde_json::from_slice(bytes).map_err(|source| {
        let (line, column) = (source.line(), source.column());
        let full = source.to_string();
        let suffix = format!(" at line {line} column {column}");
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
        ParseError::Json {
            file: file.map(str::to_owned),
            line,
            column,
            message,
            source,
        }
    })?;
    match value {
        Value::Object(map) => Ok(vec![Pipeline::from_map(map)]),
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(map) => Ok(Pipeline::from_map(map)),
                other => Err(ParseError::NotAPipeline {
                    file: file.map(str::to_owned),
                    location: format!("element [{i}] "),
                    found: json_kind(&other),
                }),
            })
            .collect(),
        other => Err(ParseError::NotAPipeline {
            file: file.map(str::to_owned),
            location: String::new(),
            found: json_kind(&other),
        }),
    }
}

/// A short English name for the kind of a JSON value ("a string", "an array", ...).
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Normalises a refId-like JSON value to its string form: `"1"` stays `"1"`, `1` becomes `"1"`.
///
/// Returns `None` for null, booleans, arrays and objects.
pub fn ref_id_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn str_field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

/// Reads a boolean leniently like Front50/Jackson: JSON booleans, and the strings
/// `"true"`/`"false"` (any case).
fn bool_field(map: &Map<String, Value>, key: &str) -> Option<bool> {
    match map.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn object_entries<'a>(
    map: &'a Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = (usize, &'a Map<String, Value>)> {
    map.get(key)
        .and_then(Value::as_array)
        .map(|items| items.as_slice())
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.as_object().map(|m| (i, m)))
}

impl Pipeline {
    /// Wraps a JSON object without changing it.
    pub fn from_map(raw: Map<String, Value>) -> Self {
        Self { raw }
    }

    /// The original object, every field included.
    pub fn raw(&self) -> &Map<String, Value> {
        &self.raw
    }

    /// Mutable access to the original object.
    pub fn raw_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.raw
    }

    /// Gives back the original object.
    pub fn into_map(self) -> Map<String, Value> {
        self.raw
    }

    /// The pipeline as a JSON value (a clone of the original object).
    pub fn to_value(&self) -> Value {
        Value::Object(self.raw.clone())
    }

    /// `id`: the pipeline-config id, when present.
    pub fn id(&self) -> Option<&str> {
        str_field(&self.raw, "id")
    }

    /// `name`, when present (real exports sometimes omit it).
    pub fn name(&self) -> Option<&str> {
        str_field(&self.raw, "name")
    }

    /// `application`, when present (real exports sometimes omit it).
    pub fn application(&self) -> Option<&str> {
        str_field(&self.raw, "application")
    }

    /// `description`, when present.
    pub fn description(&self) -> Option<&str> {
        str_field(&self.raw, "description")
    }

    /// `disabled`; Front50 treats a missing value as enabled.
    pub fn disabled(&self) -> bool {
        bool_field(&self.raw, "disabled").unwrap_or(false)
    }

    /// `limitConcurrent`; Orca treats a missing value as false.
    pub fn limit_concurrent(&self) -> bool {
        bool_field(&self.raw, "limitConcurrent").unwrap_or(false)
    }

    /// `keepWaitingPipelines`; missing means false.
    pub fn keep_waiting_pipelines(&self) -> bool {
        bool_field(&self.raw, "keepWaitingPipelines").unwrap_or(false)
    }

    /// `maxConcurrentExecutions`; missing or invalid means 0 (unlimited).
    pub fn max_concurrent_executions(&self) -> u64 {
        self.raw
            .get("maxConcurrentExecutions")
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            })
            .unwrap_or(0)
    }

    /// `spelEvaluator` (`"v4"`, `"v3"`, ...), when present.
    pub fn spel_evaluator(&self) -> Option<&str> {
        str_field(&self.raw, "spelEvaluator")
    }

    /// `updateTs` (server-owned, epoch milliseconds as a string), when present.
    pub fn update_ts(&self) -> Option<&str> {
        str_field(&self.raw, "updateTs")
    }

    /// The `stages` array entries that are objects, in array order (not DAG order).
    pub fn stages(&self) -> Vec<Stage<'_>> {
        object_entries(&self.raw, "stages")
            .map(|(index, raw)| Stage { index, raw })
            .collect()
    }

    /// The first stage whose refId (normalised to a string) equals `ref_id`.
    pub fn stage_by_ref_id(&self, ref_id: &str) -> Option<Stage<'_>> {
        self.stages()
            .into_iter()
            .find(|s| s.ref_id().as_deref() == Some(ref_id))
    }

    /// The `triggers` array entries that are objects.
    pub fn triggers(&self) -> Vec<Trigger<'_>> {
        object_entries(&self.raw, "triggers")
            .map(|(index, raw)| Trigger { index, raw })
            .collect()
    }

    /// The `parameterConfig` array entries that are objects.
    pub fn parameter_config(&self) -> Vec<Parameter<'_>> {
        object_entries(&self.raw, "parameterConfig")
            .map(|(index, raw)| Parameter { index, raw })
            .collect()
    }

    /// The pipeline-level `notifications` array (empty when missing).
    pub fn notifications(&self) -> &[Value] {
        self.raw
            .get("notifications")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The `expectedArtifacts` array (empty when missing).
    pub fn expected_artifacts(&self) -> &[Value] {
        self.raw
            .get("expectedArtifacts")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

/// `stageEnabled` of a stage: conditional execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageEnabled {
    /// `type`; only `"expression"` makes a stage optional.
    pub kind: Option<String>,
    /// `expression`; `None` or empty means "not optional".
    pub expression: Option<String>,
}

/// A borrowed view of one stage object; `raw()` keeps every field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage<'a> {
    index: usize,
    raw: &'a Map<String, Value>,
}

impl<'a> Stage<'a> {
    /// Position in the pipeline's `stages` array.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Every field of the stage, modelled or not.
    pub fn raw(&self) -> &'a Map<String, Value> {
        self.raw
    }

    /// One field of the stage.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.raw.get(key)
    }

    /// `refId` normalised to a string (`1` and `"1"` are the same id).
    pub fn ref_id(&self) -> Option<String> {
        self.raw.get("refId").and_then(ref_id_string)
    }

    /// `requisiteStageRefIds` normalised to strings; missing means no parents.
    pub fn requisite_stage_ref_ids(&self) -> Vec<String> {
        self.raw
            .get("requisiteStageRefIds")
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(ref_id_string).collect())
            .unwrap_or_default()
    }

    /// `type`, when present.
    pub fn stage_type(&self) -> Option<&'a str> {
        str_field(self.raw, "type")
    }

    /// `name`, when present.
    pub fn name(&self) -> Option<&'a str> {
        str_field(self.raw, "name")
    }

    /// `stageEnabled`, when it is an object.
    pub fn stage_enabled(&self) -> Option<StageEnabled> {
        let obj = self.raw.get("stageEnabled")?.as_object()?;
        Some(StageEnabled {
            kind: str_field(obj, "type").map(str::to_owned),
            expression: str_field(obj, "expression").map(str::to_owned),
        })
    }

    /// `failPipeline`; default true.
    pub fn fail_pipeline(&self) -> bool {
        bool_field(self.raw, "failPipeline").unwrap_or(true)
    }

    /// `continuePipeline`; default false.
    pub fn continue_pipeline(&self) -> bool {
        bool_field(self.raw, "continuePipeline").unwrap_or(false)
    }

    /// `completeOtherBranchesThenFail`; default false.
    pub fn complete_other_branches_then_fail(&self) -> bool {
        bool_field(self.raw, "completeOtherBranchesThenFail").unwrap_or(false)
    }

    /// `failOnFailedExpressions`; default false.
    pub fn fail_on_failed_expressions(&self) -> bool {
        bool_field(self.raw, "failOnFailedExpressions").unwrap_or(false)
    }

    /// `restrictExecutionDuringTimeWindow`; default false.
    pub fn restrict_execution_during_time_window(&self) -> bool {
        bool_field(self.raw, "restrictExecutionDuringTimeWindow").unwrap_or(false)
    }

    /// `stageTimeoutMs`, when it is a non-negative integer (or a string holding one).
    pub fn stage_timeout_ms(&self) -> Option<u64> {
        let v = self.raw.get("stageTimeoutMs")?;
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
    }
}

/// A borrowed view of one trigger object; `raw()` keeps every field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trigger<'a> {
    index: usize,
    raw: &'a Map<String, Value>,
}

impl<'a> Trigger<'a> {
    /// Position in the pipeline's `triggers` array.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Every field of the trigger.
    pub fn raw(&self) -> &'a Map<String, Value> {
        self.raw
    }

    /// One field of the trigger.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.raw.get(key)
    }

    /// `type`, when present.
    pub fn trigger_type(&self) -> Option<&'a str> {
        str_field(self.raw, "type")
    }

    /// `id`, when present (server-assigned for cron triggers).
    pub fn id(&self) -> Option<&'a str> {
        str_field(self.raw, "id")
    }

    /// `enabled`, read leniently like Front50: anything but true / "true" counts as false.
    pub fn enabled(&self) -> bool {
        bool_field(self.raw, "enabled").unwrap_or(false)
    }

    /// `cronExpression` (cron triggers).
    pub fn cron_expression(&self) -> Option<&'a str> {
        str_field(self.raw, "cronExpression")
    }

    /// `runAsUser`, when present.
    pub fn run_as_user(&self) -> Option<&'a str> {
        str_field(self.raw, "runAsUser")
    }
}

/// A borrowed view of one `parameterConfig` entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parameter<'a> {
    index: usize,
    raw: &'a Map<String, Value>,
}

impl<'a> Parameter<'a> {
    /// Position in `parameterConfig`.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Every field of the entry.
    pub fn raw(&self) -> &'a Map<String, Value> {
        self.raw
    }

    /// `name`: the key under `trigger.parameters`.
    pub fn name(&self) -> Option<&'a str> {
        str_field(self.raw, "name")
    }

    /// `default`, when present and not null.
    pub fn default_value(&self) -> Option<&'a Value> {
        self.raw.get("default").filter(|v| !v.is_null())
    }

    /// `required`; default false.
    pub fn required(&self) -> bool {
        bool_field(self.raw, "required").unwrap_or(false)
    }
}

/// Normalises a pipeline JSON value so a live pipeline and a desired one compare equal when
/// they mean the same thing.
///
/// * drops [`SERVER_OWNED_FIELDS`] at the top level and `id` of cron triggers;
/// * writes every stage `refId` and `requisiteStageRefIds` entry as a string, fills a missing
///   `requisiteStageRefIds` with `[]` and sorts it (it is a set);
/// * sorts `stages` by refId (array order carries no meaning; the DAG does).
///
/// Non-object input is returned unchanged. The function is idempotent.
pub fn normalize_for_diff(value: &Value) -> Value {
    let Value::Object(map) = value else {
        return value.clone();
    };
    let mut out = Map::with_capacity(map.len());
    for (key, v) in map {
        if SERVER_OWNED_FIELDS.contains(&key.as_str()) {
            continue;
        }
        let nv = match (key.as_str(), v) {
            ("stages", Value::Array(stages)) => Value::Array(normalize_stages(stages)),
            ("triggers", Value::Array(triggers)) => Value::Array(
                triggers
                    .iter()
                    .map(|t| match t {
                        Value::Object(tm) if str_field(tm, "type") == Some("cron") => {
                            let mut tm = tm.clone();
                            tm.remove("id");
                            Value::Object(tm)
                        }
                        other => other.clone(),
                    })
                    .collect(),
            ),
            _ => v.clone(),
        };
        out.insert(key.clone(), nv);
    }
    Value::Object(out)
}

fn normalize_stages(stages: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = stages
        .iter()
        .map(|s| match s {
            Value::Object(sm) => {
                let mut sm = sm.clone();
                if let Some(id) = sm.get("refId").and_then(ref_id_string) {
                    sm.insert("refId".into(), Value::String(id));
                }
                let mut parents: Vec<String> = match sm.get("requisiteStageRefIds") {
                    Some(Value::Array(ids)) => ids.iter().filter_map(ref_id_string).collect(),
                    Some(Value::Null) | None => Vec::new(),
                    Some(_) => return Value::Object(sm),
                };
                parents.sort_by(|a, b| compare_ref_ids(a, b));
                parents.dedup();
                sm.insert(
                    "requisiteStageRefIds".into(),
                    Value::Array(parents.into_iter().map(Value::String).collect()),
                );
                Value::Object(sm)
            }
            other => other.clone(),
        })
        .collect();
    out.sort_by(|a, b| {
        let ka = a.get("refId").and_then(ref_id_string).unwrap_or_default();
        let kb = b.get("refId").and_then(ref_id_string).unwrap_or_default();
        compare_ref_ids(&ka, &kb)
    });
    out
}

/// Orders refIds numerically when both are integers, else as strings ("2" < "10" < "a").
pub fn compare_ref_ids(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests;
