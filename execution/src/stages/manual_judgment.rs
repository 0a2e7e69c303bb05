//! `manualJudgment`: waits until a PATCH sets `judgmentStatus` to `continue` (SUCCEEDED) or
//! `stop` (TERMINAL, then the failure matrix), compared ignoring case. Default wait 3 days.

use super::{StageDefinition, TaskResult, TaskRun, TaskSpec, TaskStep, TaskTimeout};
use crate::model::StageExecution;

/// How often a waiting judgment is re-checked without a PATCH (Orca: 15 s).
pub const BACKOFF_MS: i64 = 15_000;
/// The default wait (Orca: 3 days), replaced by `stageTimeoutMs`.
pub const TIMEOUT_MS: i64 = 3 * 24 * 60 * 60 * 1000;

/// The `manualJudgment` stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct ManualJudgment;

impl StageDefinition for ManualJudgment {
    fn stage_type(&self) -> &'static str {
        "manualJudgment"
    }

    fn tasks(&self, _stage: &StageExecution) -> Vec<TaskSpec> {
        vec![
            TaskSpec::new(
                "waitForJudgment",
                "com.netflix.spinnaker.orca.echo.pipeline.ManualJudgmentStage$WaitForManualJudgmentTask",
            )
            .with_timeout(TaskTimeout::Overridable(TIMEOUT_MS)),
        ]
    }

    fn run(&self, run: &TaskRun<'_>) -> TaskStep {
        // Read the raw context: the judgment arrives after the evaluation snapshot was taken.
        let status = run
            .stage
            .context
            .get("judgmentStatus")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        if status.eq_ignore_ascii_case("continue") {
            TaskResult::succeeded().into()
        } else if status.eq_ignore_ascii_case("stop") {
            TaskResult::terminal(format!(
                "Manual judgment '{}' was stopped by {}",
                run.stage.name,
                run.stage
                    .context
                    .get("lastModifiedBy")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("an approver")
            ))
            .into()
        } else {
            TaskResult::running(BACKOFF_MS).into()
        }
    }
}
