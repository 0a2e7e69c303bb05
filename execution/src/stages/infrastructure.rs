//! Stage types this engine does not run: infrastructure types (per
//! `pipeline::stage_types::is_infrastructure`) and unknown custom types. Such a stage ends
//! TERMINAL with a message naming its type; it never silently succeeds.

use super::{StageDefinition, TaskResult, TaskRun, TaskSpec, TaskStep};
use crate::model::StageExecution;

/// The fallback definition for every type without a registered definition.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unsupported;

/// The message for a stage of `stage_type` this engine cannot run.
pub fn unsupported_message(stage_type: &str) -> String {
    if pipeline::stage_types::is_infrastructure(stage_type) {
        format!(
            "Stage type '{stage_type}' is an infrastructure stage; this engine stores it but does not run infrastructure stages"
        )
    } else if stage_type == "kayentaCanary" {
        "Stage type 'kayentaCanary' needs the canary judge, which this engine has not registered"
            .to_owned()
    } else {
        format!("Stage type '{stage_type}' is not one this engine can run")
    }
}

impl StageDefinition for Unsupported {
    fn stage_type(&self) -> &'static str {
        "unsupported"
    }

    fn tasks(&self, _stage: &StageExecution) -> Vec<TaskSpec> {
        vec![TaskSpec::new(
            "unsupportedStage",
            "spinhcl.UnsupportedStageTask",
        )]
    }

    fn run(&self, run: &TaskRun<'_>) -> TaskStep {
        TaskResult::terminal(unsupported_message(&run.stage.stage_type)).into()
    }
}
