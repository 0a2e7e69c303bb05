//! Expression evaluation as the execution core needs it: the scope a stage sees (context keys,
//! ancestors' outputs, `execution`, `trigger`, `parameters`), the evaluator interface, and the
//! walk over a stage context that records failures in `expressionEvaluationSummary`.

use crate::functions;
use crate::model::{Execution, Object, StageExecution};
use serde_json::{Value, json};

/// A failed expression: the source text and why it failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("failed to evaluate [{expression}]: {message}")]
pub struct ExpressionError {
    /// The expression as written.
    pub expression: String,
    /// Why it failed (names the unsupported construct when that is the cause).
    pub message: String,
}

/// A SpEL evaluator (the engine plugs in `pipeline::expr`).
pub trait ExpressionEngine: Send + Sync {
    /// Evaluates `template`, a string that may contain `${...}` parts, in `scope`.
    /// A string that is exactly one expression may yield a non-string value.
    ///
    /// # Errors
    /// When any part fails to parse or evaluate.
    fn evaluate_template(
        &self,
        template: &str,
        scope: &Scope<'_>,
    ) -> Result<Value, ExpressionError>;
}

/// What one stage's expressions can see.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The execution.
    pub execution: &'a Execution,
    /// The stage whose context is being evaluated.
    pub stage: &'a StageExecution,
    /// The stage context to expose as root variables (may be partly evaluated).
    pub context: &'a Object,
    /// Extra variables, e.g. earlier Evaluate Variables results.
    pub extra: Option<&'a Object>,
    /// The user the expressions run as (`#currentUser()`).
    pub user: &'a str,
}

impl<'a> Scope<'a> {
    /// A scope over a stage's own context.
    pub fn new(execution: &'a Execution, stage: &'a StageExecution) -> Self {
        Self {
            execution,
            stage,
            context: &stage.context,
            extra: None,
            user: execution
                .authentication
                .user
                .as_deref()
                .unwrap_or("anonymous"),
        }
    }

    /// The root object: ancestors' outputs (nearest wins), then the context, then extras,
    /// plus `execution` (only when `template` mentions it), `trigger` and `parameters`.
    pub fn root(&self, template: &str) -> Value {
        let mut root = Object::new();
        if let Some(index) = self.execution.stage_index(&self.stage.id) {
            for ancestor in self.execution.ancestors(index).into_iter().rev() {
                if let Some(stage) = self.execution.stages.get(ancestor) {
                    for (k, v) in &stage.outputs {
                        root.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        for (k, v) in self.context {
            root.insert(k.clone(), v.clone());
        }
        if let Some(extra) = self.extra {
            for (k, v) in extra {
                root.insert(k.clone(), v.clone());
            }
        }
        if template.contains("execution") {
            root.insert(
                "execution".to_owned(),
                serde_json::to_value(self.execution).unwrap_or(Value::Null),
            );
        }
        root.insert("trigger".to_owned(), self.execution.trigger.clone());
        root.insert(
            "parameters".to_owned(),
            Value::Object(self.execution.parameters()),
        );
        Value::Object(root)
    }

    /// Calls an execution-aware helper (`#stage`, `#judgment`, …).
    /// `None` when `name` is not one of them.
    pub fn call_function(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        functions::call(name, args, self)
    }
}

/// Evaluates `${expression}` and reads it as Orca's `stageEnabled` does:
/// `Some(true|false)` for a boolean or the strings "true"/"false" (any case), `None` otherwise.
pub fn evaluate_condition(
    engine: &dyn ExpressionEngine,
    expression: &str,
    scope: &Scope<'_>,
) -> Option<bool> {
    let wrapped = wrap(expression);
    match engine.evaluate_template(&wrapped, scope).ok()? {
        Value::Bool(b) => Some(b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Orca's condition handling (`stageEnabled`, expression preconditions): text that already
/// contains `${` is a template, anything else is wrapped as `${<text>}`.
pub fn wrap(expression: &str) -> String {
    pipeline::expr::as_template(expression.trim()).into_owned()
}

/// Whether any string inside `value` contains `${`.
pub fn contains_expression(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains("${"),
        Value::Array(items) => items.iter().any(contains_expression),
        Value::Object(map) => map.values().any(contains_expression),
        _ => false,
    }
}

/// The result of evaluating a stage context.
#[derive(Debug, Default)]
pub struct Evaluated {
    /// The context with every evaluable expression replaced by its value.
    pub context: Object,
    /// Failures keyed by expression, shaped like Orca's `expressionEvaluationSummary`.
    pub failures: Object,
}

/// Evaluates every `${…}` string in `scope.context` except under `skip_keys`.
/// Failed expressions stay as their literal text and are listed in `failures`.
pub fn evaluate_context(
    engine: &dyn ExpressionEngine,
    scope: &Scope<'_>,
    skip_keys: &[&str],
    now_ms: i64,
) -> Evaluated {
    let mut failures = Object::new();
    let context = scope
        .context
        .iter()
        .map(|(key, value)| {
            let value = if skip_keys.contains(&key.as_str()) || key == "expressionEvaluationSummary"
            {
                value.clone()
            } else {
                evaluate_value(engine, scope, value, &mut failures, now_ms)
            };
            (key.clone(), value)
        })
        .collect();
    Evaluated { context, failures }
}

/// Evaluates one value (recursively), recording failures.
pub fn evaluate_value(
    engine: &dyn ExpressionEngine,
    scope: &Scope<'_>,
    value: &Value,
    failures: &mut Object,
    now_ms: i64,
) -> Value {
    match value {
        Value::String(s) if s.contains("${") => match engine.evaluate_template(s, scope) {
            Ok(v) => v,
            Err(error) => {
                record_failure(failures, &error, now_ms);
                value.clone()
            }
        },
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| evaluate_value(engine, scope, v, failures, now_ms))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        evaluate_value(engine, scope, v, failures, now_ms),
                    )
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Adds one failure in Orca's summary shape: `{expr: [{description, level, timestamp}]}`.
pub fn record_failure(failures: &mut Object, error: &ExpressionError, now_ms: i64) {
    let entry = json!({
        "description": format!("Failed to evaluate [{}] {}", error.expression, error.message),
        "level": "ERROR",
        "timestamp": now_ms,
    });
    match failures
        .entry(error.expression.clone())
        .or_insert_with(|| Value::Array(Vec::new()))
    {
        Value::Array(list) => list.push(entry),
        other => *other = Value::Array(vec![entry]),
    }
}
