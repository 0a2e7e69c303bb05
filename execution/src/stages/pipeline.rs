//! `pipeline`: starts a child pipeline (by config id) with `pipelineParameters` and, with
//! `waitForCompletion` (default true), takes the child's result: SUCCEEDED → SUCCEEDED, any other
//! halt → TERMINAL, CANCELED → CANCELED. The child's stage outputs are copied into this stage's
//! outputs unless `skipDownstreamOutput` is set. Cancelling this stage cancels the child.

use super::{
    Action, ChildPipeline, HaltHook, StageDefinition, TaskResult, TaskRun, TaskSpec, TaskStep, flag,
};
use crate::model::{Object, StageExecution};
use crate::status::ExecutionStatus;
use serde_json::Value;

/// How often a running child is checked (the executor also wakes this stage when it ends).
pub const BACKOFF_MS: i64 = 15_000;

/// The `pipeline` stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct PipelineStage;

fn wait_for_completion(stage: &StageExecution) -> bool {
    flag(stage.context.get("waitForCompletion")) != Some(false)
}

impl StageDefinition for PipelineStage {
    fn stage_type(&self) -> &'static str {
        "pipeline"
    }

    fn tasks(&self, stage: &StageExecution) -> Vec<TaskSpec> {
        let mut tasks = vec![TaskSpec::new(
            "startPipeline",
            "com.netflix.spinnaker.orca.front50.tasks.StartPipelineTask",
        )];
        if wait_for_completion(stage) {
            tasks.push(TaskSpec::new(
                "monitorPipeline",
                "com.netflix.spinnaker.orca.front50.tasks.MonitorPipelineTask",
            ));
        }
        tasks
    }

    fn run(&self, run: &TaskRun<'_>) -> TaskStep {
        match run.task {
            "startPipeline" => start(run),
            _ => monitor(run),
        }
    }

    fn on_halt(&self, stage: &StageExecution, status: ExecutionStatus) -> HaltHook {
        HaltHook {
            io: None,
            cancel_execution: (status == ExecutionStatus::Canceled)
                .then(|| stage.context.get("executionId").and_then(Value::as_str))
                .flatten()
                .map(str::to_owned),
        }
    }
}

fn start(run: &TaskRun<'_>) -> TaskStep {
    if run.stage.context.contains_key("executionId") {
        return TaskResult::succeeded().into();
    }
    let Some(config_id) = run.text("pipeline") else {
        return TaskResult::terminal(
            "pipeline stage needs `pipeline`, the child pipeline-config id",
        )
        .into();
    };
    let application = run
        .text("application")
        .unwrap_or(&run.execution.application)
        .to_owned();
    let parameters = run
        .get("pipelineParameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut result = TaskResult::succeeded();
    result.action = Some(Action::StartPipeline(ChildPipeline {
        application,
        pipeline_config_id: config_id.to_owned(),
        parameters,
    }));
    result.into()
}

fn monitor(run: &TaskRun<'_>) -> TaskStep {
    let Some(child_id) = run.stage.context.get("executionId").and_then(Value::as_str) else {
        return TaskResult::terminal("pipeline stage has no child executionId to monitor").into();
    };
    let Some(child) = run.executions.get(child_id) else {
        return TaskResult::terminal(format!(
            "child execution {child_id} is not known to this engine"
        ))
        .into();
    };
    let status = child.status;
    if !status.is_complete() {
        return TaskResult::running(BACKOFF_MS).into();
    }
    let mut result = match status {
        ExecutionStatus::Succeeded => TaskResult::succeeded(),
        ExecutionStatus::Canceled => TaskResult::with_status(ExecutionStatus::Canceled),
        _ if status.is_halt() => TaskResult::terminal(format!(
            "At least one monitored pipeline failed, look for errors in failed pipelines (child execution {child_id} ended {status})"
        )),
        _ => TaskResult::with_status(ExecutionStatus::Canceled),
    };
    result = result.context("status", Value::from(status.as_str()));
    if run.flag("skipDownstreamOutput") != Some(true) {
        let mut outputs = Object::new();
        for stage in &child.stages {
            for (k, v) in &stage.outputs {
                outputs.insert(k.clone(), v.clone());
            }
        }
        result.outputs = outputs;
    }
    result.into()
}
