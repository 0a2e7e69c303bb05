//! `checkPreconditions`: one synthetic *before* child per precondition (child context = parent
//! context + the precondition, so its `failPipeline` wins), and one check task per child:
//! `expression` (true passes), `stageStatus` (a named stage has a given status), `clusterSize`
//! (fails clearly until the AWS work lands).

use super::{StageDefinition, SyntheticStage, TaskResult, TaskRun, TaskSpec, TaskStep};
use crate::expressions::wrap;
use crate::model::StageExecution;
use serde_json::Value;

/// The `checkPreconditions` stage (both the parent and its per-precondition children).
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckPreconditions;

impl StageDefinition for CheckPreconditions {
    fn stage_type(&self) -> &'static str {
        "checkPreconditions"
    }

    fn tasks(&self, stage: &StageExecution) -> Vec<TaskSpec> {
        if stage.context.contains_key("preconditionType") {
            vec![TaskSpec::new(
                "checkPrecondition",
                "com.netflix.spinnaker.orca.pipeline.tasks.PreconditionTask",
            )]
        } else {
            Vec::new()
        }
    }

    fn before_stages(&self, stage: &StageExecution) -> Vec<SyntheticStage> {
        if stage.context.contains_key("preconditionType") {
            return Vec::new();
        }
        let preconditions = stage
            .context
            .get("preconditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        preconditions
            .into_iter()
            .map(|precondition| {
                let mut context = stage.context.clone();
                context.remove("preconditions");
                context.remove("stageEnabled");
                let kind = precondition
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("expression")
                    .to_owned();
                if let Value::Object(fields) = precondition {
                    for (k, v) in fields {
                        context.insert(k, v);
                    }
                }
                context.insert("preconditionType".to_owned(), Value::from(kind.clone()));
                SyntheticStage {
                    stage_type: "checkPreconditions".to_owned(),
                    name: format!("Check precondition ({kind})"),
                    context,
                }
            })
            .collect()
    }

    fn run(&self, run: &TaskRun<'_>) -> TaskStep {
        let inner = run.get("context").and_then(Value::as_object);
        let field = |key: &str| inner.and_then(|c| c.get(key));
        match run.text("preconditionType").unwrap_or("expression") {
            "expression" => expression(run, field("expression")),
            "stageStatus" => stage_status(run, field("stageName"), field("stageStatus")),
            "clusterSize" => TaskResult::terminal(
                "clusterSize preconditions count server groups through a cloud provider, which this engine does not support yet",
            )
            .into(),
            other => TaskResult::terminal(format!(
                "unknown precondition type '{other}'; expected expression, stageStatus or clusterSize"
            ))
            .into(),
        }
    }
}

fn expression(run: &TaskRun<'_>, expression: Option<&Value>) -> TaskStep {
    let outcome: Result<String, String> = match expression {
        None | Some(Value::Null) => Ok("false".to_owned()),
        Some(Value::Bool(b)) => Ok(b.to_string()),
        Some(Value::String(text)) if !text.contains("${") && is_boolean_text(text) => {
            Ok(text.clone())
        }
        Some(Value::String(text)) => {
            let scope = crate::expressions::Scope::new(run.execution, run.stage);
            run.expressions
                .evaluate_template(&wrap(text), &scope)
                .map(|v| match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
                .map_err(|e| e.to_string())
        }
        Some(other) => Ok(other.to_string()),
    };
    let mut inner = run
        .get("context")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    match outcome {
        Ok(text) => {
            inner.insert("expressionResult".to_owned(), Value::from(text.clone()));
            let result = if text.trim().eq_ignore_ascii_case("true") {
                TaskResult::succeeded()
            } else {
                let message = inner
                    .get("failureMessage")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("Expression precondition evaluated to {text}"));
                TaskResult::terminal(message)
            };
            result.context("context", Value::Object(inner)).into()
        }
        Err(error) => TaskResult::terminal(format!("Expression precondition failed: {error}"))
            .context("context", Value::Object(inner))
            .into(),
    }
}

fn is_boolean_text(text: &str) -> bool {
    text.trim().eq_ignore_ascii_case("true") || text.trim().eq_ignore_ascii_case("false")
}

fn stage_status(run: &TaskRun<'_>, name: Option<&Value>, status: Option<&Value>) -> TaskStep {
    let (Some(name), Some(expected)) =
        (name.and_then(Value::as_str), status.and_then(Value::as_str))
    else {
        return TaskResult::terminal(
            "stageStatus precondition needs context.stageName and context.stageStatus",
        )
        .into();
    };
    let Some(stage) = run.execution.stages.iter().find(|s| s.name == name) else {
        return TaskResult::terminal(format!(
            "stageStatus precondition: no stage named '{name}' in this execution"
        ))
        .into();
    };
    if stage.status.as_str() == expected {
        TaskResult::succeeded().into()
    } else {
        TaskResult::terminal(format!(
            "stageStatus precondition: stage '{name}' is {}, expected {expected}",
            stage.status
        ))
        .into()
    }
}
