//! Durable transitions: the small records the executor emits and the `Store` that persists them.
//!
//! Every state change of an execution is one [`Change`]. The executor hands them out in batches
//! (one batch per [`crate::Executor::step`]), so a store can write a batch in one transaction:
//! group commit. Applying the changes in order to the last persisted state reproduces the
//! executor's state exactly, which is what makes resume-after-crash work.

use crate::model::{Execution, PausedDetails, StageExecution};
use crate::status::ExecutionStatus;
use std::collections::HashMap;

/// Execution-level fields that change while an execution runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionHeader {
    /// The execution's id.
    pub id: String,
    /// Its status.
    pub status: ExecutionStatus,
    /// When it started.
    pub start_time: Option<i64>,
    /// When it ended.
    pub end_time: Option<i64>,
    /// Whether it was cancelled.
    pub canceled: bool,
    /// Who cancelled it.
    pub canceled_by: Option<String>,
    /// Why.
    pub cancellation_reason: Option<String>,
    /// Pause bookkeeping.
    pub paused: Option<PausedDetails>,
}

impl ExecutionHeader {
    /// The header fields of an execution.
    pub fn of(execution: &Execution) -> Self {
        Self {
            id: execution.id.clone(),
            status: execution.status,
            start_time: execution.start_time,
            end_time: execution.end_time,
            canceled: execution.canceled,
            canceled_by: execution.canceled_by.clone(),
            cancellation_reason: execution.cancellation_reason.clone(),
            paused: execution.paused.clone(),
        }
    }

    /// Writes these fields into `execution`.
    pub fn apply_to(&self, execution: &mut Execution) {
        execution.status = self.status;
        execution.start_time = self.start_time;
        execution.end_time = self.end_time;
        execution.canceled = self.canceled;
        execution.canceled_by.clone_from(&self.canceled_by);
        execution
            .cancellation_reason
            .clone_from(&self.cancellation_reason);
        execution.paused.clone_from(&self.paused);
    }
}

/// One durable transition.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Change {
    /// A new execution (stages included).
    Created(Box<Execution>),
    /// The execution-level fields changed.
    Execution(ExecutionHeader),
    /// A stage was added or changed (upsert by stage id).
    Stage {
        /// The execution the stage belongs to.
        execution_id: String,
        /// The whole stage after the change.
        stage: Box<StageExecution>,
    },
}

impl Change {
    /// The execution this change belongs to.
    pub fn execution_id(&self) -> &str {
        match self {
            Change::Created(execution) => &execution.id,
            Change::Execution(header) => &header.id,
            Change::Stage { execution_id, .. } => execution_id,
        }
    }
}

/// A failure to persist a batch.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A change names an execution the store does not hold.
    #[error("execution {0} is not in the store")]
    UnknownExecution(String),
    /// The backing storage failed.
    #[error("storage failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where changes go. Implementations should write a whole batch atomically.
pub trait Store {
    /// Persists a batch of changes, in order.
    ///
    /// # Errors
    /// When the batch cannot be written; the caller keeps the batch and may retry.
    fn commit(&mut self, changes: &[Change]) -> Result<(), StoreError>;
}

/// An in-memory store: the reference for what applying changes means.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    executions: HashMap<String, Execution>,
    /// Number of batches committed.
    pub batches: u64,
}

impl MemoryStore {
    /// The stored execution with this id.
    pub fn get(&self, id: &str) -> Option<&Execution> {
        self.executions.get(id)
    }

    /// Every stored execution.
    pub fn executions(&self) -> impl Iterator<Item = &Execution> {
        self.executions.values()
    }

    /// Applies one change to an execution map.
    ///
    /// # Errors
    /// When the change names an execution that is not in the map.
    pub fn apply(
        executions: &mut HashMap<String, Execution>,
        change: &Change,
    ) -> Result<(), StoreError> {
        match change {
            Change::Created(execution) => {
                executions.insert(execution.id.clone(), (**execution).clone());
            }
            Change::Execution(header) => {
                let execution = executions
                    .get_mut(&header.id)
                    .ok_or_else(|| StoreError::UnknownExecution(header.id.clone()))?;
                header.apply_to(execution);
            }
            Change::Stage {
                execution_id,
                stage,
            } => {
                let execution = executions
                    .get_mut(execution_id)
                    .ok_or_else(|| StoreError::UnknownExecution(execution_id.clone()))?;
                match execution.stages.iter_mut().find(|s| s.id == stage.id) {
                    Some(existing) => *existing = (**stage).clone(),
                    None => insert_stage(execution, (**stage).clone()),
                }
            }
        }
        Ok(())
    }
}

/// Inserts a new (synthetic) stage just before its parent, as Orca lists before-stages.
pub(crate) fn insert_stage(execution: &mut Execution, stage: StageExecution) {
    let position = stage
        .parent_stage_id
        .as_deref()
        .and_then(|parent| execution.stage_index(parent))
        .unwrap_or(execution.stages.len());
    execution.stages.insert(position, stage);
}

pub(crate) use insert_stage as insert_stage_before_parent;

impl Store for MemoryStore {
    fn commit(&mut self, changes: &[Change]) -> Result<(), StoreError> {
        for change in changes {
            Self::apply(&mut self.executions, change)?;
        }
        self.batches += 1;
        Ok(())
    }
}
