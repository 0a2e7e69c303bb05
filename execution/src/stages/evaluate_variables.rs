//! `evaluateVariables`: evaluates `variables[]` in order, each one visible to the next by bare
//! name, and outputs `{key: value}` so downstream stages see them. Failures are recorded in
//! `expressionEvaluationSummary` and the literal text is kept.

use super::{StageDefinition, TaskResult, TaskRun, TaskSpec, TaskStep};
use crate::expressions::{Scope, evaluate_value};
use crate::model::{Object, StageExecution};
use serde_json::Value;

/// The `evaluateVariables` stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvaluateVariables;

impl StageDefinition for EvaluateVariables {
    fn stage_type(&self) -> &'static str {
        "evaluateVariables"
    }

    fn tasks(&self, _stage: &StageExecution) -> Vec<TaskSpec> {
        vec![TaskSpec::new(
            "evaluateVariables",
            "com.netflix.spinnaker.orca.pipeline.tasks.EvaluateVariablesTask",
        )]
    }

    fn own_expression_keys(&self) -> &'static [&'static str] {
        &["variables"]
    }

    fn run(&self, run: &TaskRun<'_>) -> TaskStep {
        let variables = match run.stage.context.get("variables") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list.clone(),
            Some(_) => {
                return TaskResult::terminal("variables must be a list of {key, value} objects")
                    .into();
            }
        };
        let mut outputs = Object::new();
        let mut failures = Object::new();
        let mut evaluated_list = Vec::with_capacity(variables.len());
        for (index, variable) in variables.iter().enumerate() {
            let Some(key) = variable.get("key").and_then(Value::as_str) else {
                return TaskResult::terminal(format!("variables[{index}] has no key")).into();
            };
            let source = variable.get("value").cloned().unwrap_or(Value::Null);
            let scope = Scope {
                extra: Some(&outputs),
                ..Scope::new(run.execution, run.stage)
            };
            let value = evaluate_value(run.expressions, &scope, &source, &mut failures, run.now_ms);
            let mut entry = variable.as_object().cloned().unwrap_or_default();
            if let Value::String(text) = &source
                && text.contains("${")
            {
                entry.insert(
                    "sourceValue".to_owned(),
                    Value::from(text.replace("${", "{")),
                );
            }
            entry.insert("value".to_owned(), value.clone());
            evaluated_list.push(Value::Object(entry));
            outputs.insert(key.to_owned(), value);
        }
        let mut result = TaskResult::succeeded().context("variables", Value::Array(evaluated_list));
        if !failures.is_empty() {
            result = result.context("expressionEvaluationSummary", Value::Object(failures));
        }
        result.outputs = outputs;
        result.into()
    }
}
