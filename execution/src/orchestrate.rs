//! Building an `Execution` from a pipeline config and a trigger, as Orca's `/orchestrate` does.
//!
//! Steps (reference §1.4): default the trigger (`type` manual, `user`, `parameters`), fill in
//! `parameterConfig` defaults for missing parameters, refuse disabled pipelines with Orca's
//! message, chain stages linearly when no stage has a `refId`, and move every stage field except
//! the structural ones into `context`. Whole-config SpEL processing at trigger time (step 7) is
//! not done here: stage contexts are evaluated when each stage starts, which yields the same
//! values for `trigger`/`parameters` expressions.

use crate::model::{Authentication, Execution, ExecutionType, Object, StageExecution};
use crate::status::ExecutionStatus;
use pipeline::graph::{GraphError, StageGraph};
use serde_json::Value;
use std::time::{Duration, UNIX_EPOCH};

/// Why a pipeline config could not be turned into an execution.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OrchestrateError {
    /// The config is not a JSON object.
    #[error("pipeline config must be a JSON object")]
    NotAnObject,
    /// The config has `disabled: true` (Orca's exact message).
    #[error("Pipeline is disabled and cannot be started.")]
    Disabled,
    /// The config has no `application`.
    #[error("pipeline config has no `application`")]
    MissingApplication,
    /// `stages` is present but not an array.
    #[error("pipeline config field `stages` must be an array")]
    StagesNotArray,
    /// A stage is not an object.
    #[error("stages[{index}] must be a JSON object")]
    StageNotObject {
        /// Position in `stages`.
        index: usize,
    },
    /// A stage has no `type`.
    #[error("stages[{index}] has no `type`")]
    StageWithoutType {
        /// Position in `stages`.
        index: usize,
    },
    /// A stage has no `refId` while others have one.
    #[error("stages[{index}] has no refId while other stages have one")]
    MissingRefId {
        /// Position in `stages`.
        index: usize,
    },
    /// The stages do not form a DAG (duplicate refIds, unknown parents, cycles).
    #[error("stages: {0}")]
    Graph(#[from] pipeline::graph::GraphError),
    /// The trigger is not a JSON object.
    #[error("trigger must be a JSON object")]
    TriggerNotObject,
    /// A required parameter without default is missing (Gate's 400 message).
    #[error("Required parameter {0} is missing")]
    MissingParameter(String),
}

/// A new ULID string stamped with `now_ms`.
pub fn new_ulid(now_ms: i64) -> String {
    let millis = u64::try_from(now_ms).unwrap_or(0);
    ulid::Ulid::from_datetime(UNIX_EPOCH + Duration::from_millis(millis)).to_string()
}

/// Gate's check before triggering: every `required` parameter with a null/absent `default`
/// must be present in `trigger.parameters`.
///
/// # Errors
/// [`OrchestrateError::MissingParameter`] naming the first missing parameter.
pub fn check_required_parameters(config: &Value, trigger: &Value) -> Result<(), OrchestrateError> {
    let supplied = trigger.get("parameters").and_then(Value::as_object);
    for entry in parameter_config(config) {
        let Some(name) = entry.get("name").and_then(Value::as_str) else {
            continue;
        };
        let required = entry.get("required").and_then(Value::as_bool) == Some(true);
        let no_default = entry.get("default").is_none_or(Value::is_null);
        if required && no_default && !supplied.is_some_and(|p| p.contains_key(name)) {
            return Err(OrchestrateError::MissingParameter(name.to_owned()));
        }
    }
    Ok(())
}

fn parameter_config(config: &Value) -> impl Iterator<Item = &Value> {
    config
        .get("parameterConfig")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// A refId as a string: Deck sometimes writes numbers.
pub fn ref_id_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Completes a trigger the way Orca does: `type` manual, `user`, `parameters` with defaults.
///
/// # Errors
/// [`OrchestrateError::TriggerNotObject`] when the trigger is neither null nor an object.
pub fn complete_trigger(config: &Value, trigger: Option<Value>) -> Result<Value, OrchestrateError> {
    let mut trigger = match trigger {
        None | Some(Value::Null) => Object::new(),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(OrchestrateError::TriggerNotObject),
    };
    trigger
        .entry("type")
        .or_insert_with(|| Value::from("manual"));
    trigger
        .entry("user")
        .or_insert_with(|| Value::from("[anonymous]"));
    let parameters = trigger
        .entry("parameters")
        .or_insert_with(|| Value::Object(Object::new()));
    if parameters.is_null() {
        *parameters = Value::Object(Object::new());
    }
    if let Value::Object(parameters) = parameters {
        for entry in parameter_config(config) {
            if let Some(name) = entry.get("name").and_then(Value::as_str)
                && !parameters.contains_key(name)
            {
                let default = entry.get("default").cloned().unwrap_or(Value::Null);
                parameters.insert(name.to_owned(), default);
            }
        }
    }
    Ok(Value::Object(trigger))
}

/// Builds a NOT_STARTED execution from a pipeline config and an optional trigger.
///
/// # Errors
/// An [`OrchestrateError`] naming the offending field.
pub fn build_execution(
    config: &Value,
    trigger: Option<Value>,
    now_ms: i64,
) -> Result<Execution, OrchestrateError> {
    let object = config.as_object().ok_or(OrchestrateError::NotAnObject)?;
    if object.get("disabled").and_then(Value::as_bool) == Some(true) {
        return Err(OrchestrateError::Disabled);
    }
    let application = object
        .get("application")
        .and_then(Value::as_str)
        .ok_or(OrchestrateError::MissingApplication)?
        .to_owned();
    let trigger = complete_trigger(config, trigger)?;
    let stages = build_stages(object.get("stages"), now_ms)?;
    let user = trigger
        .get("user")
        .and_then(Value::as_str)
        .filter(|u| *u != "[anonymous]")
        .map(str::to_owned);
    let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
    let execution_id = text("executionId").unwrap_or_else(|| new_ulid(now_ms));
    Ok(Execution {
        execution_type: ExecutionType::Pipeline,
        id: execution_id,
        application,
        name: text("name"),
        pipeline_config_id: text("id"),
        description: text("description"),
        status: ExecutionStatus::NotStarted,
        build_time: now_ms,
        start_time: None,
        end_time: None,
        start_time_expiry: object.get("startTimeExpiry").and_then(Value::as_i64),
        canceled: false,
        canceled_by: None,
        cancellation_reason: None,
        paused: None,
        limit_concurrent: object
            .get("limitConcurrent")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        max_concurrent_executions: object
            .get("maxConcurrentExecutions")
            .and_then(Value::as_i64)
            .unwrap_or(0),
        keep_waiting_pipelines: object
            .get("keepWaitingPipelines")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        origin: Some(text("origin").unwrap_or_else(|| "unknown".to_owned())),
        trigger,
        notifications: object
            .get("notifications")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        authentication: Authentication {
            user: user.or_else(|| Some("anonymous".to_owned())),
            allowed_accounts: Vec::new(),
        },
        spel_evaluator: text("spelEvaluator"),
        stages,
    })
}

const STRUCTURAL: [&str; 4] = ["type", "name", "refId", "requisiteStageRefIds"];

fn build_stages(
    stages: Option<&Value>,
    now_ms: i64,
) -> Result<Vec<StageExecution>, OrchestrateError> {
    let list = match stages {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(OrchestrateError::StagesNotArray),
    };
    let chain = !list
        .iter()
        .any(|s| s.get("refId").is_some_and(|r| !r.is_null()));
    let mut out = Vec::with_capacity(list.len());
    for (index, stage) in list.iter().enumerate() {
        let map = stage
            .as_object()
            .ok_or(OrchestrateError::StageNotObject { index })?;
        let stage_type = map
            .get("type")
            .and_then(Value::as_str)
            .ok_or(OrchestrateError::StageWithoutType { index })?
            .to_owned();
        let (ref_id, requisites) = if chain {
            let previous = index.checked_sub(1).map(|p| vec![p.to_string()]);
            (index.to_string(), previous.unwrap_or_default())
        } else {
            let ref_id = map.get("refId").and_then(ref_id_string).unwrap_or_default();
            let requisites = map
                .get("requisiteStageRefIds")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(ref_id_string).collect())
                .unwrap_or_default();
            (ref_id, requisites)
        };
        if ref_id.is_empty() {
            return Err(OrchestrateError::MissingRefId { index });
        }
        let context = map
            .iter()
            .filter(|(key, _)| !STRUCTURAL.contains(&key.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let name = map.get("name").and_then(Value::as_str).unwrap_or_default();
        out.push(StageExecution::not_started(
            new_ulid(now_ms),
            ref_id,
            stage_type,
            name.to_owned(),
            requisites,
            context,
        ));
    }
    let graph = StageGraph::new(
        out.iter()
            .map(|s| (s.ref_id.clone(), s.requisite_stage_ref_ids.clone())),
    )?;
    if let Some(ref_ids) = graph.find_cycle() {
        return Err(GraphError::Cycle { ref_ids }.into());
    }
    Ok(out)
}
