//! `wait`: succeeds once `waitTime` seconds have passed since the stage started, or at once when
//! `skipRemainingWait` is set. Resumes with the time left because it reads the stage start time.

use super::{StageDefinition, TaskResult, TaskRun, TaskSpec, TaskStep, flag, number};
use crate::model::StageExecution;

/// The `wait` stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wait;

/// The `wait` task, shared with stages that add a delay (execution-window jitter, webhook's
/// `waitBeforeMonitor`): succeeds `seconds` after `since_ms`.
pub fn wait_until(run: &TaskRun<'_>, seconds: f64, since_ms: i64) -> TaskResult {
    if flag(run.get("skipRemainingWait")) == Some(true) {
        return TaskResult::succeeded();
    }
    let duration_ms = (seconds.max(0.0) * 1000.0).round() as i64;
    let remaining = since_ms.saturating_add(duration_ms) - run.now_ms;
    if remaining <= 0 {
        TaskResult::succeeded()
    } else {
        TaskResult::running(remaining)
    }
}

impl StageDefinition for Wait {
    fn stage_type(&self) -> &'static str {
        "wait"
    }

    fn tasks(&self, _stage: &StageExecution) -> Vec<TaskSpec> {
        vec![TaskSpec::new(
            "wait",
            "com.netflix.spinnaker.orca.pipeline.tasks.WaitTask",
        )]
    }

    fn run(&self, run: &TaskRun<'_>) -> TaskStep {
        let Some(seconds) = number(run.get("waitTime")).or(match run.get("waitTime") {
            None | Some(serde_json::Value::Null) => Some(0.0),
            Some(_) => None,
        }) else {
            return TaskResult::terminal(format!(
                "waitTime must be a number of seconds, got {}",
                run.get("waitTime")
                    .map(ToString::to_string)
                    .unwrap_or_default()
            ))
            .into();
        };
        let since = run.stage.start_time.unwrap_or(run.now_ms);
        wait_until(run, seconds, since).into()
    }
}
