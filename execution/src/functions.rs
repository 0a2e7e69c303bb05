//! The execution-aware SpEL helpers: `#stage`, `#stageByRefId`, `#stageExists`, `#judgment`
//! (alias `#judgement`), `#currentStage` and `#currentUser`, over one execution.
//!
//! Orca passes the execution implicitly; callers write `#stage('Deploy')`.

use crate::expressions::Scope;
use crate::model::{Execution, StageExecution};
use serde_json::Value;

/// The helper names this module answers.
pub const NAMES: [&str; 7] = [
    "stage",
    "stageByRefId",
    "stageExists",
    "judgment",
    "judgement",
    "currentStage",
    "currentUser",
];

/// Calls helper `name` (without `#`); `None` when the name is not an execution helper.
pub fn call(name: &str, args: &[Value], scope: &Scope<'_>) -> Option<Result<Value, String>> {
    let result = match name {
        "stage" => one_text(name, args).and_then(|id| stage(scope.execution, id)),
        "stageByRefId" => one_text(name, args).and_then(|r| stage_by_ref_id(scope.execution, r)),
        "stageExists" => {
            one_text(name, args).map(|id| Value::Bool(find_stage(scope.execution, id).is_some()))
        }
        "judgment" | "judgement" => one_text(name, args).and_then(|n| judgment(scope.execution, n)),
        "currentStage" => Ok(stage_value(scope.stage)),
        "currentUser" => Ok(Value::from(scope.user)),
        _ => return None,
    };
    Some(result)
}

fn one_text<'v>(name: &str, args: &'v [Value]) -> Result<&'v str, String> {
    match args {
        [Value::String(s)] => Ok(s),
        _ => Err(format!("#{name} takes one string argument")),
    }
}

fn find_stage<'e>(execution: &'e Execution, name_or_id: &str) -> Option<&'e StageExecution> {
    execution
        .stages
        .iter()
        .find(|s| s.name == name_or_id || s.id == name_or_id)
}

/// The stage as SpEL sees it: Orca's stage JSON.
pub fn stage_value(stage: &StageExecution) -> Value {
    serde_json::to_value(stage).unwrap_or(Value::Null)
}

/// `#stage(nameOrId)`: the first stage with exactly that name or id.
///
/// # Errors
/// When no stage matches.
pub fn stage(execution: &Execution, name_or_id: &str) -> Result<Value, String> {
    find_stage(execution, name_or_id)
        .map(stage_value)
        .ok_or_else(|| format!("Unable to locate [{name_or_id}] stage in this execution"))
}

/// `#stageByRefId(refId)`.
///
/// # Errors
/// When no stage has that refId.
pub fn stage_by_ref_id(execution: &Execution, ref_id: &str) -> Result<Value, String> {
    execution
        .stages
        .iter()
        .find(|s| s.ref_id == ref_id)
        .map(stage_value)
        .ok_or_else(|| format!("Unable to locate stage with refId [{ref_id}] in this execution"))
}

/// `#judgment(name)`: the `judgmentInput` of the first `manualJudgment` stage with exactly that
/// name and a non-null input.
///
/// # Errors
/// When there is no such stage or no input was given.
pub fn judgment(execution: &Execution, name: &str) -> Result<Value, String> {
    execution
        .stages
        .iter()
        .filter(|s| s.name == name && s.stage_type == "manualJudgment")
        .find_map(|s| s.context.get("judgmentInput").filter(|v| !v.is_null()))
        .cloned()
        .ok_or_else(|| {
            format!("Unable to locate manual Judgment stage [{name}] with a judgment input")
        })
}
