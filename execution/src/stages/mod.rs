//! Stage types: the `StageDefinition` trait, the task interface and the registry.
//!
//! One module per stage type. A definition plans its tasks (and synthetic *before* stages, as
//! Orca's `StageDefinitionBuilder` does) and runs one task at a time. Tasks that talk to the
//! network return a future; everything else answers at once.

pub mod check_preconditions;
pub mod evaluate_variables;
pub mod execution_window;
pub mod infrastructure;
pub mod jenkins;
pub mod kayenta_canary;
pub mod manual_judgment;
pub mod pipeline;
pub mod wait;
pub mod webhook;

use crate::expressions::ExpressionEngine;
use crate::model::{Execution, Object, StageExecution};
use crate::status::ExecutionStatus;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// A task's timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskTimeout {
    /// No timeout of its own (the stage's `stageTimeoutMs` still applies).
    None,
    /// A fixed timeout in milliseconds.
    Fixed(i64),
    /// A default that `stageTimeoutMs` replaces (Orca's "overridable" tasks).
    Overridable(i64),
}

/// One planned task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskSpec {
    /// The task name Orca uses, e.g. `waitForJudgment`.
    pub name: &'static str,
    /// The implementing class Orca would report.
    pub implementing_class: &'static str,
    /// Its timeout.
    pub timeout: TaskTimeout,
}

impl TaskSpec {
    /// A task without a timeout of its own.
    pub const fn new(name: &'static str, implementing_class: &'static str) -> Self {
        Self {
            name,
            implementing_class,
            timeout: TaskTimeout::None,
        }
    }

    /// The same task with a timeout.
    pub const fn with_timeout(mut self, timeout: TaskTimeout) -> Self {
        self.timeout = timeout;
        self
    }
}

/// A synthetic *before* stage a definition asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticStage {
    /// Its type.
    pub stage_type: String,
    /// Its display name.
    pub name: String,
    /// Its context.
    pub context: Object,
}

/// Another pipeline a task asks the executor to start (the `pipeline` stage).
#[derive(Debug, Clone, PartialEq)]
pub struct ChildPipeline {
    /// The child's application.
    pub application: String,
    /// The child's pipeline-config id.
    pub pipeline_config_id: String,
    /// Values for the child's parameters.
    pub parameters: Object,
}

/// Something a task asks the executor to do besides updating its stage.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Action {
    /// Start a child pipeline; its id lands in `context.executionId`.
    StartPipeline(ChildPipeline),
}

/// What one run of a task produced.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskResult {
    /// RUNNING (run again later), SUCCEEDED (next task), or a failing/halting status.
    pub status: ExecutionStatus,
    /// Merged into the stage context.
    pub context: Object,
    /// Merged into the stage outputs.
    pub outputs: Object,
    /// When RUNNING: how long until the next run.
    pub retry_after_ms: Option<i64>,
    /// When failing: the error recorded in `context.exception`.
    pub error: Option<String>,
    /// Sets the stage's `scheduledTime` (execution windows).
    pub scheduled_time: Option<i64>,
    /// A request for the executor.
    pub action: Option<Action>,
}

impl TaskResult {
    /// A result with this status and nothing else.
    pub fn with_status(status: ExecutionStatus) -> Self {
        Self {
            status,
            context: Object::new(),
            outputs: Object::new(),
            retry_after_ms: None,
            error: None,
            scheduled_time: None,
            action: None,
        }
    }

    /// SUCCEEDED.
    pub fn succeeded() -> Self {
        Self::with_status(ExecutionStatus::Succeeded)
    }

    /// RUNNING, to be run again after `retry_after_ms` (at least 1 ms).
    pub fn running(retry_after_ms: i64) -> Self {
        let mut result = Self::with_status(ExecutionStatus::Running);
        result.retry_after_ms = Some(retry_after_ms.max(1));
        result
    }

    /// TERMINAL with an error message.
    pub fn terminal(error: impl Into<String>) -> Self {
        let mut result = Self::with_status(ExecutionStatus::Terminal);
        result.error = Some(error.into());
        result
    }

    /// Adds a context entry.
    pub fn context(mut self, key: &str, value: Value) -> Self {
        self.context.insert(key.to_owned(), value);
        self
    }

    /// Adds an output entry.
    pub fn output(mut self, key: &str, value: Value) -> Self {
        self.outputs.insert(key.to_owned(), value);
        self
    }
}

/// A task's answer: now, or after I/O.
pub enum TaskStep {
    /// The result is ready.
    Done(Box<TaskResult>),
    /// The result comes from a future (HTTP calls); the executor polls it without blocking.
    Io(BoxFuture<'static, TaskResult>),
}

impl From<TaskResult> for TaskStep {
    fn from(result: TaskResult) -> Self {
        TaskStep::Done(Box::new(result))
    }
}

/// Everything a task run may read.
pub struct TaskRun<'a> {
    /// The execution (the stage being run included).
    pub execution: &'a Execution,
    /// The stage.
    pub stage: &'a StageExecution,
    /// The stage context with expressions evaluated for this run.
    pub context: &'a Object,
    /// The task being run.
    pub task: &'a str,
    /// Now, in epoch milliseconds.
    pub now_ms: i64,
    /// Other executions the executor holds (child pipelines).
    pub executions: &'a HashMap<String, Execution>,
    /// The expression evaluator.
    pub expressions: &'a dyn ExpressionEngine,
    /// Time zone for execution windows.
    pub time_zone: &'a jiff::tz::TimeZone,
}

impl TaskRun<'_> {
    /// A context value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.context.get(key)
    }

    /// A context string.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.context.get(key).and_then(Value::as_str)
    }

    /// A context boolean (JSON boolean or "true"/"false").
    pub fn flag(&self, key: &str) -> Option<bool> {
        flag(self.context.get(key))
    }
}

/// Reads a JSON boolean or the strings "true"/"false".
pub fn flag(value: Option<&Value>) -> Option<bool> {
    match value {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Reads a number that may be written as a string.
pub fn number(value: Option<&Value>) -> Option<f64> {
    match value {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What to do when a stage halts (cancel hooks).
#[derive(Default)]
pub struct HaltHook {
    /// I/O to run (webhook cancel endpoint, Jenkins stop); its outcome is only logged.
    pub io: Option<BoxFuture<'static, ()>>,
    /// An execution to cancel (a child pipeline).
    pub cancel_execution: Option<String>,
}

/// One stage type.
pub trait StageDefinition: Send + Sync {
    /// The type string, e.g. `wait`.
    fn stage_type(&self) -> &'static str;

    /// The tasks to run, in order, for this stage.
    fn tasks(&self, stage: &StageExecution) -> Vec<TaskSpec>;

    /// Synthetic stages to run before the tasks (none by default).
    fn before_stages(&self, _stage: &StageExecution) -> Vec<SyntheticStage> {
        Vec::new()
    }

    /// Context keys the stage evaluates itself (left alone by the generic evaluation).
    fn own_expression_keys(&self) -> &'static [&'static str] {
        &[]
    }

    /// Runs task `run.task` once.
    fn run(&self, run: &TaskRun<'_>) -> TaskStep;

    /// Called when a started stage ends CANCELED or TERMINAL (cancel hooks).
    fn on_halt(&self, _stage: &StageExecution, _status: ExecutionStatus) -> HaltHook {
        HaltHook::default()
    }
}

/// Stage types by name, with a fallback for types nobody registered.
#[derive(Clone)]
pub struct StageRegistry {
    definitions: HashMap<&'static str, Arc<dyn StageDefinition>>,
    unsupported: Arc<infrastructure::Unsupported>,
}

impl StageRegistry {
    /// An empty registry (every type falls back to [`infrastructure::Unsupported`]).
    pub fn empty() -> Self {
        Self {
            definitions: HashMap::new(),
            unsupported: Arc::new(infrastructure::Unsupported),
        }
    }

    /// The built-in types that need no network: wait, manualJudgment, checkPreconditions,
    /// evaluateVariables, pipeline, and the execution-window stage.
    pub fn local() -> Self {
        let mut registry = Self::empty();
        registry.register(Arc::new(wait::Wait));
        registry.register(Arc::new(manual_judgment::ManualJudgment));
        registry.register(Arc::new(check_preconditions::CheckPreconditions));
        registry.register(Arc::new(evaluate_variables::EvaluateVariables));
        registry.register(Arc::new(pipeline::PipelineStage));
        registry.register(Arc::new(execution_window::ExecutionWindow));
        registry
    }

    /// Every built-in type: [`Self::local`] plus webhook and jenkins over `http`.
    pub fn standard(http: reqwest::Client, jenkins: jenkins::JenkinsMasters) -> Self {
        let mut registry = Self::local();
        registry.register(Arc::new(webhook::Webhook::new(http.clone())));
        registry.register(Arc::new(jenkins::Jenkins::new(http, jenkins)));
        registry
    }

    /// Adds or replaces a definition (e.g. the canary crate's `kayentaCanary`).
    pub fn register(&mut self, definition: Arc<dyn StageDefinition>) {
        self.definitions.insert(definition.stage_type(), definition);
    }

    /// The definition for a type; unknown and infrastructure types get one that fails clearly.
    pub fn get(&self, stage_type: &str) -> Arc<dyn StageDefinition> {
        match self.definitions.get(stage_type) {
            Some(definition) => Arc::clone(definition),
            None => self.unsupported.clone(),
        }
    }

    /// The registered type names, sorted.
    pub fn types(&self) -> Vec<&'static str> {
        let mut types: Vec<_> = self.definitions.keys().copied().collect();
        types.sort_unstable();
        types
    }
}

/// Orca's `exception` context entry for an error message.
pub fn exception(message: &str, now_ms: i64) -> Value {
    json!({
        "details": {"error": message, "errors": [message]},
        "exceptionType": "TaskFailure",
        "shouldRetry": false,
        "timestamp": now_ms,
    })
}
