//! Orca's execution JSON: `Execution` (PipelineExecution), `StageExecution` and `TaskExecution`.
//!
//! Field names and shapes follow Orca's `PipelineExecutionImpl`, `StageExecutionImpl` and
//! `TaskExecutionImpl` as Gate returns them. Times are epoch milliseconds.

use crate::status::ExecutionStatus;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A JSON object.
pub type Object = Map<String, Value>;

/// `PIPELINE` or `ORCHESTRATION`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionType {
    /// A pipeline execution.
    #[default]
    Pipeline,
    /// An ad-hoc orchestration (never queued, never skips stages).
    Orchestration,
}

/// Who paused an execution and for how long (`paused` in Orca's JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PausedDetails {
    /// When the execution was last paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_time: Option<i64>,
    /// When the execution was last resumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_time: Option<i64>,
    /// Who paused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_by: Option<String>,
    /// Who resumed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed_by: Option<String>,
    /// Total paused milliseconds over all completed pauses.
    #[serde(default)]
    pub paused_ms: i64,
}

impl PausedDetails {
    /// Whether the execution is paused right now.
    pub fn is_paused(&self) -> bool {
        match (self.pause_time, self.resume_time) {
            (Some(pause), Some(resume)) => pause > resume,
            (Some(_), None) => true,
            _ => false,
        }
    }
}

/// The authenticated user an execution runs as.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Authentication {
    /// The user name, `anonymous` when nobody is authenticated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Accounts the user may use.
    #[serde(default)]
    pub allowed_accounts: Vec<String>,
}

/// Who last changed a stage through the API (judgment, skip).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct LastModified {
    /// The user.
    pub user: String,
    /// The user's accounts.
    #[serde(default)]
    pub allowed_accounts: Vec<String>,
    /// When, in epoch milliseconds.
    pub last_modified_time: i64,
}

/// Whether a synthetic stage runs before or after its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyntheticStageOwner {
    /// Runs before the parent's tasks.
    #[serde(rename = "STAGE_BEFORE")]
    StageBefore,
    /// Runs after the parent's tasks.
    #[serde(rename = "STAGE_AFTER")]
    StageAfter,
}

/// One task of a stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskExecution {
    /// "1", "2", … within the stage.
    pub id: String,
    /// The implementing class name Orca would report (kept for Deck's display).
    pub implementing_class: String,
    /// The task name, e.g. `waitForJudgment`.
    pub name: String,
    /// When the task started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// When the task ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// The task status.
    pub status: ExecutionStatus,
    /// First task of the stage.
    #[serde(default)]
    pub stage_start: bool,
    /// Last task of the stage.
    #[serde(default)]
    pub stage_end: bool,
    /// Loop start marker (always false here).
    #[serde(default)]
    pub loop_start: bool,
    /// Loop end marker (always false here).
    #[serde(default)]
    pub loop_end: bool,
    /// Failure details, when the task failed with an error.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub task_exception_details: Object,
}

/// One stage of an execution (`StageExecution`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageExecution {
    /// The stage's ULID.
    pub id: String,
    /// The user-chosen id from the config; the DAG key.
    pub ref_id: String,
    /// The stage type, e.g. `wait`.
    #[serde(rename = "type")]
    pub stage_type: String,
    /// The display name.
    #[serde(default)]
    pub name: String,
    /// Parents in the DAG.
    #[serde(default)]
    pub requisite_stage_ref_ids: Vec<String>,
    /// When the stage started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// When the stage ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// After this instant the stage is skipped instead of started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time_expiry: Option<i64>,
    /// When a waiting stage (execution window) is next due to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_time: Option<i64>,
    /// The stage status.
    pub status: ExecutionStatus,
    /// Config plus runtime state.
    #[serde(default)]
    pub context: Object,
    /// Values visible to downstream stages.
    #[serde(default)]
    pub outputs: Object,
    /// The stage's tasks, in order.
    #[serde(default)]
    pub tasks: Vec<TaskExecution>,
    /// Set on synthetic stages.
    #[serde(default)]
    pub synthetic_stage_owner: Option<SyntheticStageOwner>,
    /// The parent of a synthetic stage.
    #[serde(default)]
    pub parent_stage_id: Option<String>,
    /// Who last changed the stage through the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<LastModified>,
}

impl StageExecution {
    /// A NOT_STARTED top-level stage with no tasks and no times yet, as `/orchestrate` and the
    /// before-stage planner create them.
    pub fn not_started(
        id: String,
        ref_id: String,
        stage_type: String,
        name: String,
        requisite_stage_ref_ids: Vec<String>,
        context: Object,
    ) -> Self {
        Self {
            id,
            ref_id,
            stage_type,
            name,
            requisite_stage_ref_ids,
            start_time: None,
            end_time: None,
            start_time_expiry: None,
            scheduled_time: None,
            status: ExecutionStatus::NotStarted,
            context,
            outputs: Object::new(),
            tasks: Vec::new(),
            synthetic_stage_owner: None,
            parent_stage_id: None,
            last_modified: None,
        }
    }

    /// Whether the stage is top-level (not a synthetic child).
    pub fn is_top_level(&self) -> bool {
        self.parent_stage_id.is_none()
    }

    /// A boolean context flag, reading JSON booleans and the strings "true"/"false".
    pub fn flag(&self, key: &str) -> Option<bool> {
        match self.context.get(key) {
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    /// The status this stage takes when it fails (Orca's `failureStatus()`, §3.1 matrix).
    pub fn failure_status(&self) -> ExecutionStatus {
        if self.flag("continuePipeline") == Some(true) {
            ExecutionStatus::FailedContinue
        } else if self.flag("failPipeline").unwrap_or(true) {
            ExecutionStatus::Terminal
        } else {
            ExecutionStatus::Stopped
        }
    }
}

/// A pipeline execution (`PipelineExecution`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    /// `PIPELINE` or `ORCHESTRATION`.
    #[serde(rename = "type", default)]
    pub execution_type: ExecutionType,
    /// The execution's ULID.
    pub id: String,
    /// The application.
    pub application: String,
    /// The pipeline name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The pipeline config id (none for ad-hoc runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_config_id: Option<String>,
    /// The pipeline description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The execution status.
    pub status: ExecutionStatus,
    /// When the execution was created.
    pub build_time: i64,
    /// When it started running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// When it finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// After this instant a not-started execution is cancelled instead of started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time_expiry: Option<i64>,
    /// Whether the execution was cancelled.
    #[serde(default)]
    pub canceled: bool,
    /// Who cancelled it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canceled_by: Option<String>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
    /// Pause bookkeeping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<PausedDetails>,
    /// Queue behind any other running execution of the same config.
    #[serde(default)]
    pub limit_concurrent: bool,
    /// Queue when this many other executions of the config run (0: unlimited).
    #[serde(default)]
    pub max_concurrent_executions: i64,
    /// Keep every queued execution (FIFO) instead of only the newest.
    #[serde(default)]
    pub keep_waiting_pipelines: bool,
    /// Where the execution came from (`api`, `unknown`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The trigger, as a map.
    #[serde(default)]
    pub trigger: Value,
    /// Pipeline-level notifications.
    #[serde(default)]
    pub notifications: Vec<Value>,
    /// The user the execution runs as.
    #[serde(default)]
    pub authentication: Authentication,
    /// The SpEL evaluator version requested by the config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spel_evaluator: Option<String>,
    /// The stages, top-level and synthetic, in one flat list.
    #[serde(default)]
    pub stages: Vec<StageExecution>,
}

impl Execution {
    /// Index of the stage with this ULID.
    pub fn stage_index(&self, stage_id: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.id == stage_id)
    }

    /// The top-level stage with this refId.
    pub fn stage_by_ref_id(&self, ref_id: &str) -> Option<&StageExecution> {
        self.stages
            .iter()
            .find(|s| s.is_top_level() && s.ref_id == ref_id)
    }

    /// Ancestors of a stage (transitively, by `requisiteStageRefIds`), nearest first.
    ///
    /// Synthetic stages see their parent's ancestors, and the parent itself.
    pub fn ancestors(&self, stage_index: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let Some(stage) = self.stages.get(stage_index) else {
            return out;
        };
        let mut frontier: Vec<usize> = Vec::new();
        if let Some(parent_id) = &stage.parent_stage_id {
            if let Some(parent) = self.stage_index(parent_id) {
                out.push(parent);
                frontier.push(parent);
            }
        } else {
            frontier.push(stage_index);
        }
        while let Some(current) = frontier.pop() {
            let Some(current_stage) = self.stages.get(current) else {
                continue;
            };
            for parent_ref in &current_stage.requisite_stage_ref_ids {
                if let Some(index) = self
                    .stages
                    .iter()
                    .position(|s| s.is_top_level() && &s.ref_id == parent_ref)
                    && !out.contains(&index)
                {
                    out.push(index);
                    frontier.insert(0, index);
                }
            }
        }
        out
    }

    /// The trigger's `parameters`, or an empty map.
    pub fn parameters(&self) -> Object {
        self.trigger
            .get("parameters")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }

    /// The user who triggered the execution (`trigger.user`), `anonymous` by default.
    pub fn trigger_user(&self) -> &str {
        self.trigger
            .get("user")
            .and_then(Value::as_str)
            .unwrap_or("anonymous")
    }
}
