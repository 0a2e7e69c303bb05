//! The deterministic scheduler: Orca's queue handlers (§5.2) as a state machine without a queue.
//!
//! [`Executor::step`] takes the current time, applies finished I/O, wakes due tasks, starts every
//! ready stage, runs due tasks, completes stages and executions, and returns the batch of
//! [`Change`]s to persist (group commit). Network tasks run as futures held by the executor and
//! never block a step; [`Executor::wait_io`] awaits the next one. All state lives in the
//! executions themselves, so [`Executor::load`] of a persisted execution resumes it where it
//! was: waits keep their start time, judgments keep waiting, monitors poll again.

use crate::changes::{Change, ExecutionHeader, insert_stage_before_parent};
use crate::expressions::{
    ExpressionEngine, Scope, contains_expression, evaluate_condition, evaluate_context,
};
use crate::judgment::{self, Actor, PatchError};
use crate::model::{
    Execution, ExecutionType, Object, PausedDetails, StageExecution, SyntheticStageOwner,
    TaskExecution,
};
use crate::orchestrate::{OrchestrateError, build_execution, new_ulid};
use crate::stages::{
    Action, ChildPipeline, StageRegistry, TaskResult, TaskRun, TaskStep, TaskTimeout, exception,
    execution_window, number,
};
use crate::status::ExecutionStatus;
use futures::FutureExt;
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use serde_json::{Value, json};
use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// Orca's reason for executions cancelled by a newer queued one (§5.6).
pub const SUPERSEDED_REASON: &str = "This execution was queued but then canceled because a newer queued execution superceded it. This pipeline is configured to automatically cancel waiting executions.";

/// Pipeline configs the executor can read (for `pipeline` stages).
pub trait PipelineConfigs: Send + Sync {
    /// The pipeline config with this id.
    fn pipeline_config(&self, id: &str) -> Option<Value>;

    /// A persisted execution the executor does not hold (after a restart, a `pipeline` stage's
    /// child that had already finished). The default knows none.
    fn stored_execution(&self, id: &str) -> Option<Execution> {
        let _ = id;
        None
    }
}

impl PipelineConfigs for HashMap<String, Value> {
    fn pipeline_config(&self, id: &str) -> Option<Value> {
        self.get(id).cloned()
    }
}

/// Executor settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Time zone for restricted execution windows (Orca: `tasks.execution-window.timezone`).
    pub time_zone: jiff::tz::TimeZone,
    /// At most this many executions are advanced per step, which bounds the latency of a step
    /// (and so of its group commit) when many executions are busy at once.
    pub max_executions_per_step: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            time_zone: jiff::tz::TimeZone::get("America/Los_Angeles")
                .unwrap_or(jiff::tz::TimeZone::UTC),
            max_executions_per_step: 64,
        }
    }
}

/// Why an API action on an execution was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExecutorError {
    /// No such execution (Gate's message).
    #[error("Pipeline not found (id: {0})")]
    ExecutionNotFound(String),
    /// No such stage in the execution.
    #[error("stage {stage_id} not found in execution {execution_id}")]
    StageNotFound {
        /// The execution.
        execution_id: String,
        /// The stage id asked for.
        stage_id: String,
    },
    /// Pause of an execution that is not RUNNING.
    #[error("Unable to pause pipeline that is not running (id: {id}, status: {status})")]
    NotRunning {
        /// The execution.
        id: String,
        /// Its status.
        status: ExecutionStatus,
    },
    /// Resume of an execution that is not PAUSED.
    #[error("Unable to resume pipeline that is not paused (id: {id}, status: {status})")]
    NotPaused {
        /// The execution.
        id: String,
        /// Its status.
        status: ExecutionStatus,
    },
    /// The stage PATCH was refused.
    #[error(transparent)]
    Patch(#[from] PatchError),
    /// The config could not become an execution.
    #[error(transparent)]
    Orchestrate(#[from] OrchestrateError),
}

struct IoDone {
    execution_id: String,
    stage_id: String,
    task_index: usize,
    result: TaskResult,
}

enum Deferred {
    Release {
        config_id: String,
        purge: bool,
    },
    Cancel {
        execution_id: String,
        reason: String,
    },
}

/// The execution core.
pub struct Executor {
    executions: HashMap<String, Execution>,
    registry: StageRegistry,
    expressions: Arc<dyn ExpressionEngine>,
    configs: Arc<dyn PipelineConfigs>,
    settings: Settings,
    timers: BinaryHeap<Reverse<(i64, String)>>,
    due: HashMap<String, i64>,
    dirty: VecDeque<String>,
    dirty_set: HashSet<String>,
    in_flight: FuturesUnordered<BoxFuture<'static, Option<IoDone>>>,
    ready_io: Vec<IoDone>,
    busy: HashSet<String>,
    waiting: HashMap<String, Vec<String>>,
    deferred: VecDeque<Deferred>,
    created: Vec<String>,
    changed_headers: Vec<String>,
    changed_header_set: HashSet<String>,
    changed_stages: Vec<(String, String)>,
    changed_stage_set: HashSet<String>,
    completed: Vec<String>,
}

impl Executor {
    /// An executor with these stage types, expression evaluator and config source.
    pub fn new(
        registry: StageRegistry,
        expressions: Arc<dyn ExpressionEngine>,
        configs: Arc<dyn PipelineConfigs>,
        settings: Settings,
    ) -> Self {
        Self {
            executions: HashMap::new(),
            registry,
            expressions,
            configs,
            settings,
            timers: BinaryHeap::new(),
            due: HashMap::new(),
            dirty: VecDeque::new(),
            dirty_set: HashSet::new(),
            in_flight: FuturesUnordered::new(),
            ready_io: Vec::new(),
            busy: HashSet::new(),
            waiting: HashMap::new(),
            deferred: VecDeque::new(),
            created: Vec::new(),
            changed_headers: Vec::new(),
            changed_header_set: HashSet::new(),
            changed_stages: Vec::new(),
            changed_stage_set: HashSet::new(),
            completed: Vec::new(),
        }
    }

    /// The execution with this id.
    pub fn execution(&self, id: &str) -> Option<&Execution> {
        self.executions.get(id)
    }

    /// Every execution held.
    pub fn executions(&self) -> impl Iterator<Item = &Execution> {
        self.executions.values()
    }

    /// Drops a completed execution from memory (after the engine deleted or archived it).
    ///
    /// A completed child is kept while the parent that monitors it still runs (the parent's
    /// `pipeline` stage reads its status and outputs), and so is an execution whose last changes
    /// have not been taken yet; `None` then, as for running executions.
    pub fn evict(&mut self, id: &str) -> Option<Execution> {
        let evictable = self.executions.get(id).is_some_and(|e| {
            e.status.is_complete()
                && e.trigger
                    .get("parentExecution")
                    .and_then(|p| p.get("id"))
                    .and_then(Value::as_str)
                    .and_then(|parent| self.executions.get(parent))
                    .is_none_or(|parent| parent.status.is_complete())
        });
        let pending = self.created.iter().any(|c| c == id)
            || self.changed_header_set.contains(id)
            || self.changed_stages.iter().any(|(e, _)| e == id);
        if evictable && !pending {
            self.executions.remove(id)
        } else {
            None
        }
    }

    /// Ids of executions that completed since the last call (for pipeline triggers).
    pub fn take_completed(&mut self) -> Vec<String> {
        std::mem::take(&mut self.completed)
    }

    /// Whether network tasks are in flight.
    pub fn has_io(&self) -> bool {
        !self.in_flight.is_empty() || !self.ready_io.is_empty()
    }

    /// Whether a step now would do work without waiting for time or I/O.
    pub fn has_work(&self) -> bool {
        !self.dirty.is_empty() || !self.ready_io.is_empty()
    }

    /// The earliest instant a task is due (for the driver's sleep).
    pub fn next_wakeup(&self) -> Option<i64> {
        self.timers.peek().map(|Reverse((at, _))| *at)
    }

    /// Builds an execution from a pipeline config and trigger, then starts or queues it.
    ///
    /// # Errors
    /// [`ExecutorError::Orchestrate`] when the config cannot run (disabled, malformed).
    pub fn trigger(
        &mut self,
        config: &Value,
        trigger: Option<Value>,
        now: i64,
    ) -> Result<String, ExecutorError> {
        let execution = build_execution(config, trigger, now)?;
        Ok(self.start(execution, now))
    }

    /// Adds a new NOT_STARTED execution and starts it, or queues it behind a concurrency limit.
    pub fn start(&mut self, execution: Execution, now: i64) -> String {
        let id = execution.id.clone();
        self.executions.insert(id.clone(), execution);
        self.created.push(id.clone());
        self.try_start(&id, now);
        self.run_deferred(now);
        id
    }

    /// Adopts an execution loaded from storage: running ones resume where they were, queued
    /// ones wait again, complete ones are kept for lookups.
    pub fn load(&mut self, execution: Execution, now: i64) {
        let id = execution.id.clone();
        let status = execution.status;
        let created_at = execution.build_time;
        let config = execution.pipeline_config_id.clone();
        let children: Vec<String> = execution
            .stages
            .iter()
            .filter(|s| s.stage_type == "pipeline" && !s.status.is_complete())
            .filter_map(|s| s.context.get("executionId").and_then(Value::as_str))
            .filter(|child| !self.executions.contains_key(*child))
            .map(str::to_owned)
            .collect();
        self.executions.insert(id.clone(), execution);
        for child in children {
            if let Some(stored) = self.configs.stored_execution(&child) {
                self.load(stored, now);
            }
        }
        match status {
            ExecutionStatus::Running => self.mark_dirty(&id),
            ExecutionStatus::NotStarted => match config {
                // Started (or kept queued) by the next step, once every execution is loaded.
                Some(config) => {
                    let list = self.waiting.entry(config.clone()).or_default();
                    list.push(id.clone());
                    let executions = &self.executions;
                    list.sort_by_key(|e| executions.get(e).map_or(created_at, |x| x.build_time));
                    self.deferred.push_back(Deferred::Release {
                        config_id: config,
                        purge: false,
                    });
                }
                None => {
                    self.try_start(&id, now);
                }
            },
            _ => {}
        }
    }

    /// Advances every execution that has work at `now` and returns the changes to persist.
    pub fn step(&mut self, now: i64) -> Vec<Change> {
        self.run_deferred(now);
        while let Some(Some(done)) = self.in_flight.next().now_or_never() {
            if let Some(done) = done {
                self.ready_io.push(done);
            }
        }
        for done in std::mem::take(&mut self.ready_io) {
            self.apply_io(done, now);
        }
        while let Some(Reverse((at, _))) = self.timers.peek() {
            if *at > now {
                break;
            }
            if let Some(Reverse((_, id))) = self.timers.pop() {
                self.mark_dirty(&id);
            }
        }
        let mut budget = self.settings.max_executions_per_step.max(1);
        while budget > 0 {
            let Some(id) = self.dirty.pop_front() else {
                break;
            };
            self.dirty_set.remove(&id);
            self.advance(&id, now);
            budget -= 1;
        }
        self.take_changes()
    }

    /// Waits for the next network task to finish; `false` when none is in flight.
    pub async fn wait_io(&mut self) -> bool {
        match self.in_flight.next().await {
            Some(Some(done)) => {
                self.ready_io.push(done);
                true
            }
            Some(None) => true,
            None => false,
        }
    }

    /// Steps at `now` until no work and no I/O remains (tests, and the CLI's local runs).
    pub async fn run_until_quiet(&mut self, now: i64) -> Vec<Change> {
        let mut changes = Vec::new();
        loop {
            changes.extend(self.step(now));
            if self.has_work() {
                continue;
            }
            if !self.wait_io().await {
                break;
            }
        }
        changes
    }

    /// Cancels an execution (`PUT /pipelines/{id}/cancel`).
    ///
    /// # Errors
    /// [`ExecutorError::ExecutionNotFound`].
    pub fn cancel(
        &mut self,
        id: &str,
        user: &str,
        reason: Option<String>,
        now: i64,
    ) -> Result<(), ExecutorError> {
        let mut execution = self
            .executions
            .remove(id)
            .ok_or_else(|| ExecutorError::ExecutionNotFound(id.to_owned()))?;
        if !execution.status.is_complete() {
            execution.canceled = true;
            execution.canceled_by = Some(user.to_owned());
            execution.cancellation_reason = reason;
            if execution.status == ExecutionStatus::NotStarted {
                self.finish_not_started(&mut execution, now);
                if let Some(config_id) = execution.pipeline_config_id.clone() {
                    self.deferred.push_back(Deferred::Release {
                        config_id,
                        purge: !execution.keep_waiting_pipelines,
                    });
                }
            } else {
                self.complete_execution(&mut execution, ExecutionStatus::Canceled, now);
            }
        }
        self.executions.insert(id.to_owned(), execution);
        self.run_deferred(now);
        Ok(())
    }

    /// Pauses a RUNNING execution (`PUT /pipelines/{id}/pause`).
    ///
    /// # Errors
    /// Not found, or not RUNNING.
    pub fn pause(&mut self, id: &str, user: &str, now: i64) -> Result<(), ExecutorError> {
        let execution = self.execution_in(id, ExecutionStatus::Running, |id, status| {
            ExecutorError::NotRunning { id, status }
        })?;
        execution.status = ExecutionStatus::Paused;
        let paused = execution.paused.get_or_insert_with(PausedDetails::default);
        paused.pause_time = Some(now);
        paused.paused_by = Some(user.to_owned());
        paused.resume_time = None;
        paused.resumed_by = None;
        let stage_ids = move_stages(execution, ExecutionStatus::Running, ExecutionStatus::Paused);
        self.mark_header(id);
        for stage_id in stage_ids {
            self.mark_stage(id, &stage_id);
        }
        Ok(())
    }

    /// Resumes a PAUSED execution (`PUT /pipelines/{id}/resume`).
    ///
    /// # Errors
    /// Not found, or not PAUSED.
    pub fn resume(&mut self, id: &str, user: &str, now: i64) -> Result<(), ExecutorError> {
        let execution = self.execution_in(id, ExecutionStatus::Paused, |id, status| {
            ExecutorError::NotPaused { id, status }
        })?;
        execution.status = ExecutionStatus::Running;
        if let Some(paused) = &mut execution.paused {
            let since = paused.pause_time.unwrap_or(now);
            paused.paused_ms += (now - since).max(0);
            paused.resume_time = Some(now);
            paused.resumed_by = Some(user.to_owned());
        }
        let stage_ids = move_stages(execution, ExecutionStatus::Paused, ExecutionStatus::Running);
        self.mark_header(id);
        for stage_id in stage_ids {
            self.due.remove(&stage_id);
            self.mark_stage(id, &stage_id);
        }
        self.mark_dirty(id);
        Ok(())
    }

    /// The execution `id` when its status is `expected`; otherwise `wrong_status(id, status)`.
    fn execution_in(
        &mut self,
        id: &str,
        expected: ExecutionStatus,
        wrong_status: impl FnOnce(String, ExecutionStatus) -> ExecutorError,
    ) -> Result<&mut Execution, ExecutorError> {
        let execution = self
            .executions
            .get_mut(id)
            .ok_or_else(|| ExecutorError::ExecutionNotFound(id.to_owned()))?;
        if execution.status != expected {
            return Err(wrong_status(id.to_owned(), execution.status));
        }
        Ok(execution)
    }

    /// Applies a stage PATCH (manual judgment, `skipRemainingWait`) and re-runs every running
    /// task of the execution at once, as Orca's RescheduleExecution does.
    ///
    /// # Errors
    /// Not found, `manualSkip`, or a judge outside the allowed roles.
    pub fn update_stage(
        &mut self,
        execution_id: &str,
        stage_id: &str,
        patch: Object,
        actor: &Actor,
        now: i64,
    ) -> Result<&Execution, ExecutorError> {
        let execution = self
            .executions
            .get_mut(execution_id)
            .ok_or_else(|| ExecutorError::ExecutionNotFound(execution_id.to_owned()))?;
        let index =
            execution
                .stage_index(stage_id)
                .ok_or_else(|| ExecutorError::StageNotFound {
                    execution_id: execution_id.to_owned(),
                    stage_id: stage_id.to_owned(),
                })?;
        let stage = &mut execution.stages[index];
        judgment::authorize(stage, &patch, actor)?;
        judgment::apply(stage, patch, actor, now);
        let running: Vec<String> = execution
            .stages
            .iter()
            .filter(|s| s.status == ExecutionStatus::Running)
            .map(|s| s.id.clone())
            .collect();
        for id in running {
            self.due.remove(&id);
        }
        self.mark_stage(execution_id, stage_id);
        self.mark_dirty(execution_id);
        self.executions
            .get(execution_id)
            .ok_or_else(|| ExecutorError::ExecutionNotFound(execution_id.to_owned()))
    }

    // ---- bookkeeping -------------------------------------------------------------------

    fn mark_dirty(&mut self, id: &str) {
        if self.dirty_set.insert(id.to_owned()) {
            self.dirty.push_back(id.to_owned());
        }
    }

    fn mark_header(&mut self, id: &str) {
        if self.changed_header_set.insert(id.to_owned()) {
            self.changed_headers.push(id.to_owned());
        }
    }

    fn mark_stage(&mut self, execution_id: &str, stage_id: &str) {
        if self.changed_stage_set.insert(stage_id.to_owned()) {
            self.changed_stages
                .push((execution_id.to_owned(), stage_id.to_owned()));
        }
    }

    fn schedule(&mut self, execution_id: &str, stage_id: &str, at: i64) {
        self.due.insert(stage_id.to_owned(), at);
        self.timers.push(Reverse((at, execution_id.to_owned())));
    }

    /// The batch of changes accumulated since the last call.
    pub fn take_changes(&mut self) -> Vec<Change> {
        let created: HashSet<String> = self.created.iter().cloned().collect();
        let mut out = Vec::with_capacity(
            self.created.len() + self.changed_headers.len() + self.changed_stages.len(),
        );
        for id in self.created.drain(..) {
            if let Some(execution) = self.executions.get(&id) {
                out.push(Change::Created(Box::new(execution.clone())));
            }
        }
        for id in self.changed_headers.drain(..) {
            if created.contains(&id) {
                continue;
            }
            if let Some(execution) = self.executions.get(&id) {
                out.push(Change::Execution(ExecutionHeader::of(execution)));
            }
        }
        for (execution_id, stage_id) in self.changed_stages.drain(..) {
            if created.contains(&execution_id) {
                continue;
            }
            if let Some(stage) = self
                .executions
                .get(&execution_id)
                .and_then(|e| e.stages.iter().find(|s| s.id == stage_id))
            {
                out.push(Change::Stage {
                    execution_id,
                    stage: Box::new(stage.clone()),
                });
            }
        }
        self.changed_header_set.clear();
        self.changed_stage_set.clear();
        out
    }

    // ---- starting and queueing ---------------------------------------------------------

    fn should_queue(&self, execution: &Execution) -> bool {
        let Some(config) = &execution.pipeline_config_id else {
            return false;
        };
        if execution.execution_type != ExecutionType::Pipeline {
            return false;
        }
        if !execution.limit_concurrent && execution.max_concurrent_executions <= 0 {
            return false;
        }
        let running = self
            .executions
            .values()
            .filter(|e| {
                e.id != execution.id
                    && e.pipeline_config_id.as_ref() == Some(config)
                    && e.status == ExecutionStatus::Running
            })
            .count();
        if execution.limit_concurrent {
            running > 0
        } else {
            i64::try_from(running).unwrap_or(i64::MAX) >= execution.max_concurrent_executions
        }
    }

    fn try_start(&mut self, id: &str, now: i64) -> bool {
        let Some(execution) = self.executions.get(id) else {
            return false;
        };
        if execution.status != ExecutionStatus::NotStarted || execution.canceled {
            return false;
        }
        if execution
            .start_time_expiry
            .is_some_and(|expiry| now > expiry)
        {
            if let Some(mut expired) = self.executions.remove(id) {
                expired.canceled = true;
                expired.canceled_by = Some("spinnaker".to_owned());
                expired.cancellation_reason =
                    Some("Could not begin execution before its start time expiry".to_owned());
                self.finish_not_started(&mut expired, now);
                self.executions.insert(id.to_owned(), expired);
            }
            return false;
        }
        if self.should_queue(execution) {
            if let Some(config) = execution.pipeline_config_id.clone() {
                let list = self.waiting.entry(config).or_default();
                if !list.iter().any(|e| e == id) {
                    list.push(id.to_owned());
                }
            }
            tracing::debug!(execution = id, "queued behind a concurrency limit");
            return false;
        }
        if let Some(config) = execution.pipeline_config_id.clone()
            && let Some(list) = self.waiting.get_mut(&config)
        {
            list.retain(|e| e != id);
        }
        let Some(mut execution) = self.executions.remove(id) else {
            return false;
        };
        execution.status = ExecutionStatus::Running;
        execution.start_time = Some(now);
        self.mark_header(id);
        if !execution.stages.iter().any(|s| s.is_top_level()) {
            self.complete_execution(&mut execution, ExecutionStatus::Terminal, now);
        } else {
            self.mark_dirty(id);
        }
        self.executions.insert(id.to_owned(), execution);
        true
    }

    fn finish_not_started(&mut self, execution: &mut Execution, now: i64) {
        execution.status = ExecutionStatus::Canceled;
        execution.end_time = Some(now);
        if let Some(config) = &execution.pipeline_config_id
            && let Some(list) = self.waiting.get_mut(config)
        {
            list.retain(|e| *e != execution.id);
        }
        self.mark_header(&execution.id);
        self.completed.push(execution.id.clone());
    }

    fn release(&mut self, config_id: &str, purge: bool, now: i64) {
        let mut waiting: Vec<String> = self
            .waiting
            .remove(config_id)
            .unwrap_or_default()
            .into_iter()
            .filter(|id| {
                self.executions
                    .get(id)
                    .is_some_and(|e| e.status == ExecutionStatus::NotStarted && !e.canceled)
            })
            .collect();
        if purge && waiting.len() > 1 {
            let newest = waiting.pop();
            for id in waiting.drain(..) {
                if let Some(mut execution) = self.executions.remove(&id) {
                    execution.canceled = true;
                    execution.canceled_by = Some("spinnaker".to_owned());
                    execution.cancellation_reason = Some(SUPERSEDED_REASON.to_owned());
                    self.finish_not_started(&mut execution, now);
                    self.executions.insert(id, execution);
                }
            }
            waiting.extend(newest);
        }
        self.waiting.insert(config_id.to_owned(), waiting.clone());
        for id in waiting {
            if !self.try_start(&id, now) {
                break;
            }
        }
    }

    fn run_deferred(&mut self, now: i64) {
        while let Some(job) = self.deferred.pop_front() {
            match job {
                Deferred::Release { config_id, purge } => self.release(&config_id, purge, now),
                Deferred::Cancel {
                    execution_id,
                    reason,
                } => {
                    if let Err(error) = self.cancel(&execution_id, "spinnaker", Some(reason), now) {
                        tracing::warn!(%error, "could not cancel a child execution");
                    }
                }
            }
        }
    }

    // ---- advancing ---------------------------------------------------------------------

    fn advance(&mut self, id: &str, now: i64) {
        let Some(mut execution) = self.executions.remove(id) else {
            return;
        };
        self.advance_execution(&mut execution, now);
        self.executions.insert(id.to_owned(), execution);
        self.run_deferred(now);
    }

    /// Whether a NOT_STARTED stage may start: a top-level stage when its parents let it; a
    /// synthetic one when its parent runs and its sibling prerequisites let it.
    fn ready(execution: &Execution, stage: &StageExecution) -> bool {
        let Some(parent_id) = &stage.parent_stage_id else {
            return Self::parents_done(execution, stage);
        };
        let siblings = || {
            execution
                .stages
                .iter()
                .filter(move |s| s.parent_stage_id.as_ref() == Some(parent_id))
        };
        execution
            .stages
            .iter()
            .any(|p| &p.id == parent_id && p.status == ExecutionStatus::Running)
            && stage
                .requisite_stage_ref_ids
                .iter()
                .all(|r| siblings().any(|s| &s.ref_id == r && s.status.lets_downstream_run()))
    }

    fn parents_done(execution: &Execution, stage: &StageExecution) -> bool {
        stage.requisite_stage_ref_ids.iter().all(|parent| {
            execution
                .stage_by_ref_id(parent)
                .is_some_and(|p| p.status.lets_downstream_run())
        })
    }

    fn advance_execution(&mut self, execution: &mut Execution, now: i64) {
        loop {
            if execution.status != ExecutionStatus::Running {
                return;
            }
            let mut progressed = false;
            let ready: Vec<String> = execution
                .stages
                .iter()
                .filter(|s| s.status == ExecutionStatus::NotStarted && Self::ready(execution, s))
                .map(|s| s.id.clone())
                .collect();
            for stage_id in ready {
                self.start_stage(execution, &stage_id, now);
                progressed = true;
            }
            let running: Vec<String> = execution
                .stages
                .iter()
                .filter(|s| s.status == ExecutionStatus::Running)
                .map(|s| s.id.clone())
                .collect();
            for stage_id in running {
                progressed |= self.drive_stage(execution, &stage_id, now);
            }
            if let Some(status) = final_status(execution) {
                self.complete_execution(execution, status, now);
                return;
            }
            if !progressed {
                return;
            }
        }
    }

    fn skip_stage(&mut self, execution: &mut Execution, index: usize, now: i64) {
        let stage = &mut execution.stages[index];
        stage.status = ExecutionStatus::Skipped;
        stage.start_time = Some(now);
        stage.end_time = Some(now);
        let stage_id = stage.id.clone();
        self.mark_stage(&execution.id, &stage_id);
    }

    fn start_stage(&mut self, execution: &mut Execution, stage_id: &str, now: i64) {
        let Some(index) = execution.stage_index(stage_id) else {
            return;
        };
        let definition = self.registry.get(&execution.stages[index].stage_type);
        let stage = &execution.stages[index];
        if execution.execution_type == ExecutionType::Pipeline
            && let Some(expression) = stage_enabled_expression(stage)
        {
            let scope = Scope::new(execution, stage);
            if evaluate_condition(self.expressions.as_ref(), &expression, &scope) != Some(true) {
                self.skip_stage(execution, index, now);
                return;
            }
        }
        if stage.start_time_expiry.is_some_and(|expiry| now > expiry) {
            self.skip_stage(execution, index, now);
            return;
        }
        if stage.context.values().any(contains_expression) {
            let scope = Scope::new(execution, stage);
            let evaluated = evaluate_context(
                self.expressions.as_ref(),
                &scope,
                definition.own_expression_keys(),
                now,
            );
            let stage = &mut execution.stages[index];
            stage.context = evaluated.context;
            merge_failures(&mut stage.context, evaluated.failures);
        }
        let trigger_type = execution
            .trigger
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("manual")
            .to_owned();
        let stage = &mut execution.stages[index];
        let mut before = Vec::new();
        if stage.flag("restrictExecutionDuringTimeWindow") == Some(true) {
            before.push(execution_window::synthetic_stage(stage, &trigger_type));
        }
        before.extend(definition.before_stages(stage));
        let specs = definition.tasks(stage);
        let count = specs.len();
        stage.tasks = specs
            .iter()
            .enumerate()
            .map(|(i, spec)| TaskExecution {
                id: (i + 1).to_string(),
                implementing_class: spec.implementing_class.to_owned(),
                name: spec.name.to_owned(),
                start_time: None,
                end_time: None,
                status: ExecutionStatus::NotStarted,
                stage_start: i == 0,
                stage_end: i + 1 == count,
                loop_start: false,
                loop_end: false,
                task_exception_details: Object::new(),
            })
            .collect();
        stage.status = ExecutionStatus::Running;
        stage.start_time = Some(now);
        let parent_ref = stage.ref_id.clone();
        let parent_id = stage.id.clone();
        self.mark_stage(&execution.id, &parent_id);
        // Orca's before-stage graph: the execution window (when there is one) is a required
        // prefix, so the other before-stages depend on it; they do not depend on each other.
        let window_ref = (before.first().map(|s| s.stage_type.as_str())
            == Some(execution_window::TYPE))
        .then(|| format!("{parent_ref}<1"));
        for (i, synthetic) in before.into_iter().enumerate() {
            let requisites = match &window_ref {
                Some(window) if i > 0 => vec![window.clone()],
                _ => Vec::new(),
            };
            let child = StageExecution {
                synthetic_stage_owner: Some(SyntheticStageOwner::StageBefore),
                parent_stage_id: Some(parent_id.clone()),
                ..StageExecution::not_started(
                    new_ulid(now),
                    format!("{parent_ref}<{}", i + 1),
                    synthetic.stage_type,
                    synthetic.name,
                    requisites,
                    synthetic.context,
                )
            };
            let child_id = child.id.clone();
            let independent = child.requisite_stage_ref_ids.is_empty();
            insert_stage_before_parent(execution, child);
            if independent {
                self.start_stage(execution, &child_id, now);
            }
        }
    }

    /// Runs the due work of one RUNNING stage. Returns whether anything moved forward.
    fn drive_stage(&mut self, execution: &mut Execution, stage_id: &str, now: i64) -> bool {
        let Some(index) = execution.stage_index(stage_id) else {
            return false;
        };
        if execution.stages[index].status != ExecutionStatus::Running
            || self.busy.contains(stage_id)
            || self.due.get(stage_id).is_some_and(|at| *at > now)
        {
            return false;
        }
        let children: Vec<ExecutionStatus> = execution
            .stages
            .iter()
            .filter(|s| {
                s.parent_stage_id.as_deref() == Some(stage_id)
                    && s.synthetic_stage_owner == Some(SyntheticStageOwner::StageBefore)
            })
            .map(|s| s.status)
            .collect();
        let halted = children.iter().any(|s| s.is_halt());
        if !halted && children.iter().any(|s| !s.is_complete()) {
            return false;
        }
        if let Some(status) = status_from_children(&children, &execution.stages[index]) {
            self.complete_stage(execution, index, status, now);
            return true;
        }
        let definition = self.registry.get(&execution.stages[index].stage_type);
        let mut progressed = false;
        loop {
            let Some(index) = execution.stage_index(stage_id) else {
                return progressed;
            };
            let stage = &execution.stages[index];
            let Some(task_index) = stage.tasks.iter().position(|t| {
                matches!(
                    t.status,
                    ExecutionStatus::NotStarted | ExecutionStatus::Running
                )
            }) else {
                self.complete_stage(execution, index, ExecutionStatus::Succeeded, now);
                return true;
            };
            if stage.tasks[task_index].status == ExecutionStatus::NotStarted {
                let task = &mut execution.stages[index].tasks[task_index];
                task.status = ExecutionStatus::Running;
                task.start_time = Some(now);
                self.mark_stage(&execution.id, stage_id);
            }
            let stage = &execution.stages[index];
            let task_name = stage.tasks[task_index].name.clone();
            let timeout = definition
                .tasks(stage)
                .iter()
                .find(|spec| spec.name == task_name)
                .map_or(TaskTimeout::None, |spec| spec.timeout);
            if let Some(message) = timed_out(execution, stage, task_index, timeout, now) {
                self.apply_result(
                    execution,
                    index,
                    task_index,
                    TaskResult::terminal(message),
                    now,
                );
                return true;
            }
            let context = if stage.context.values().any(contains_expression) {
                let scope = Scope::new(execution, stage);
                Cow::Owned(
                    evaluate_context(
                        self.expressions.as_ref(),
                        &scope,
                        definition.own_expression_keys(),
                        now,
                    )
                    .context,
                )
            } else {
                Cow::Borrowed(&stage.context)
            };
            let run = TaskRun {
                execution,
                stage,
                context: &context,
                task: &task_name,
                now_ms: now,
                executions: &self.executions,
                expressions: self.expressions.as_ref(),
                time_zone: &self.settings.time_zone,
            };
            match definition.run(&run) {
                TaskStep::Done(result) => {
                    drop(context);
                    match self.apply_result(execution, index, task_index, *result, now) {
                        Flow::Next => progressed = true,
                        Flow::Waiting => return progressed,
                        Flow::StageDone => return true,
                    }
                }
                TaskStep::Io(future) => {
                    let execution_id = execution.id.clone();
                    let stage_key = stage_id.to_owned();
                    self.busy.insert(stage_key.clone());
                    self.in_flight.push(Box::pin(future.map(move |result| {
                        Some(IoDone {
                            execution_id,
                            stage_id: stage_key,
                            task_index,
                            result,
                        })
                    })));
                    return progressed;
                }
            }
        }
    }

    fn apply_io(&mut self, done: IoDone, now: i64) {
        self.busy.remove(&done.stage_id);
        let Some(mut execution) = self.executions.remove(&done.execution_id) else {
            return;
        };
        if let Some(index) = execution.stage_index(&done.stage_id) {
            let stage = &mut execution.stages[index];
            let task_running = stage
                .tasks
                .get(done.task_index)
                .is_some_and(|t| t.status == ExecutionStatus::Running);
            if stage.status == ExecutionStatus::Running && task_running {
                self.apply_result(&mut execution, index, done.task_index, done.result, now);
            } else if stage.status == ExecutionStatus::Paused {
                // Keep what the call learned (status URLs, build numbers); the task re-runs on
                // resume and finds it.
                stage.context.extend(done.result.context);
                stage.outputs.extend(done.result.outputs);
                self.mark_stage(&done.execution_id, &done.stage_id);
            }
        }
        self.executions.insert(done.execution_id.clone(), execution);
        self.mark_dirty(&done.execution_id);
        self.run_deferred(now);
    }

    fn apply_result(
        &mut self,
        execution: &mut Execution,
        index: usize,
        task_index: usize,
        mut result: TaskResult,
        now: i64,
    ) -> Flow {
        if let Some(Action::StartPipeline(child)) = result.action.take() {
            match self.start_child(execution, index, child, now) {
                Ok((id, name)) => {
                    result
                        .context
                        .insert("executionId".to_owned(), Value::from(id));
                    result
                        .context
                        .insert("executionName".to_owned(), Value::from(name));
                }
                Err(message) => {
                    result.status = ExecutionStatus::Terminal;
                    result.error = Some(message);
                }
            }
        }
        let execution_id = execution.id.clone();
        let stage = &mut execution.stages[index];
        let stage_id = stage.id.clone();
        let changed = !result.context.is_empty()
            || !result.outputs.is_empty()
            || result.error.is_some()
            || result.status != ExecutionStatus::Running;
        if let Some(Value::Object(failures)) = result.context.remove("expressionEvaluationSummary")
        {
            merge_failures(&mut stage.context, failures);
        }
        stage.context.extend(result.context);
        stage.outputs.extend(result.outputs);
        if let Some(error) = &result.error {
            stage
                .context
                .insert("exception".to_owned(), exception(error, now));
        }
        if let Some(at) = result.scheduled_time {
            stage.scheduled_time = Some(at);
        }
        let Some(task) = stage.tasks.get_mut(task_index) else {
            return Flow::Waiting;
        };
        let flow = match result.status {
            ExecutionStatus::Succeeded | ExecutionStatus::Skipped => {
                task.status = ExecutionStatus::Succeeded;
                task.end_time = Some(now);
                Flow::Next
            }
            ExecutionStatus::Terminal
            | ExecutionStatus::Canceled
            | ExecutionStatus::Stopped
            | ExecutionStatus::FailedContinue => {
                task.status = result.status;
                task.end_time = Some(now);
                if let Some(error) = &result.error {
                    task.task_exception_details = exception(error, now)
                        .as_object()
                        .cloned()
                        .unwrap_or_default();
                }
                let stage_status = match result.status {
                    ExecutionStatus::Terminal => stage.failure_status(),
                    other => other,
                };
                self.mark_stage(&execution_id, &stage_id);
                self.complete_stage(execution, index, stage_status, now);
                return Flow::StageDone;
            }
            _ => {
                let after = result.retry_after_ms.unwrap_or(1_000).max(1);
                self.schedule(&execution_id, &stage_id, now.saturating_add(after));
                Flow::Waiting
            }
        };
        if changed {
            self.mark_stage(&execution_id, &stage_id);
        }
        flow
    }

    fn start_child(
        &mut self,
        parent: &Execution,
        index: usize,
        child: ChildPipeline,
        now: i64,
    ) -> Result<(String, String), String> {
        let config_id = child.pipeline_config_id;
        let config = self
            .configs
            .pipeline_config(&config_id)
            .ok_or_else(|| format!("The referenced pipeline cannot be located ({config_id})"))?;
        if config.get("disabled").and_then(Value::as_bool) == Some(true) {
            return Err(format!("The referenced pipeline is disabled ({config_id})"));
        }
        let stage = &parent.stages[index];
        let trigger = json!({
            "type": "pipeline",
            "user": parent.trigger_user(),
            "parentExecution": serde_json::to_value(parent).unwrap_or(Value::Null),
            "parentPipelineId": parent.id,
            "parentPipelineName": parent.name,
            "parentPipelineApplication": parent.application,
            "parentStatus": parent.status,
            "parentPipelineStageId": stage.id,
            "isPipeline": true,
            "parameters": child.parameters,
            "correlationId": format!("{}_{}_{}_{}", parent.id, stage.id, config_id, parent.start_time.unwrap_or(0)),
        });
        let execution = build_execution(&config, Some(trigger), now).map_err(|e| e.to_string())?;
        let name = execution.name.clone().unwrap_or_default();
        Ok((self.start(execution, now), name))
    }

    fn complete_stage(
        &mut self,
        execution: &mut Execution,
        index: usize,
        status: ExecutionStatus,
        now: i64,
    ) {
        let execution_id = execution.id.clone();
        let stage = &mut execution.stages[index];
        let mut status = status;
        if !status.is_halt()
            && stage.flag("failOnFailedExpressions") == Some(true)
            && stage
                .context
                .get("expressionEvaluationSummary")
                .and_then(Value::as_object)
                .is_some_and(|s| !s.is_empty())
        {
            status = ExecutionStatus::Terminal;
            stage.context.insert(
                "exception".to_owned(),
                exception("Stage failed because failOnFailedExpressions is set and an expression failed to evaluate", now),
            );
        }
        stage.status = status;
        stage.end_time = Some(now);
        for task in &mut stage.tasks {
            if matches!(
                task.status,
                ExecutionStatus::Running | ExecutionStatus::Paused
            ) {
                task.status = if status.is_halt() {
                    status
                } else {
                    ExecutionStatus::Succeeded
                };
                task.end_time = Some(now);
            }
        }
        let stage_id = stage.id.clone();
        let parent = stage.parent_stage_id.clone();
        self.due.remove(&stage_id);
        self.mark_stage(&execution_id, &stage_id);
        if matches!(
            status,
            ExecutionStatus::Terminal | ExecutionStatus::Canceled
        ) && !stage.tasks.is_empty()
        {
            let hook = self.registry.get(&stage.stage_type).on_halt(stage, status);
            if let Some(io) = hook.io {
                self.in_flight.push(Box::pin(io.map(|()| None)));
            }
            if let Some(child) = hook.cancel_execution {
                self.deferred.push_back(Deferred::Cancel {
                    execution_id: child,
                    reason: format!("The parent stage '{}' was canceled", stage.name),
                });
            }
        }
        if status.is_halt() {
            let running_children: Vec<usize> = execution
                .stages
                .iter()
                .enumerate()
                .filter(|(_, s)| {
                    s.parent_stage_id.as_deref() == Some(stage_id.as_str())
                        && matches!(s.status, ExecutionStatus::Running | ExecutionStatus::Paused)
                })
                .map(|(i, _)| i)
                .collect();
            for child in running_children {
                self.complete_stage(execution, child, ExecutionStatus::Canceled, now);
            }
        }
        if let Some(parent) = parent {
            self.due.remove(&parent);
        }
    }

    fn complete_execution(&mut self, execution: &mut Execution, status: ExecutionStatus, now: i64) {
        execution.status = status;
        execution.end_time = Some(now);
        self.mark_header(&execution.id);
        let running: Vec<usize> = execution
            .stages
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.is_top_level()
                    && matches!(s.status, ExecutionStatus::Running | ExecutionStatus::Paused)
            })
            .map(|(i, _)| i)
            .collect();
        for index in running {
            self.complete_stage(execution, index, ExecutionStatus::Canceled, now);
        }
        self.completed.push(execution.id.clone());
        if let Some(config_id) = execution.pipeline_config_id.clone() {
            self.deferred.push_back(Deferred::Release {
                config_id,
                purge: !execution.keep_waiting_pipelines,
            });
        }
        let trigger = &execution.trigger;
        if trigger.get("type").and_then(Value::as_str) == Some("pipeline")
            && let Some(parent_id) = trigger
                .get("parentExecution")
                .and_then(|p| p.get("id"))
                .and_then(Value::as_str)
        {
            if let Some(stage_id) = trigger.get("parentPipelineStageId").and_then(Value::as_str) {
                self.due.remove(stage_id);
            }
            let parent_id = parent_id.to_owned();
            self.mark_dirty(&parent_id);
        }
        tracing::info!(execution = %execution.id, %status, "execution complete");
    }
}

enum Flow {
    Next,
    Waiting,
    StageDone,
}

/// Moves every stage in `from` to `to`, with its tasks in `from` (pause: RUNNING → PAUSED,
/// resume: PAUSED → RUNNING); returns the moved stages' ids.
fn move_stages(
    execution: &mut Execution,
    from: ExecutionStatus,
    to: ExecutionStatus,
) -> Vec<String> {
    let mut stage_ids = Vec::new();
    for stage in execution.stages.iter_mut().filter(|s| s.status == from) {
        stage.status = to;
        for task in stage.tasks.iter_mut().filter(|t| t.status == from) {
            task.status = to;
        }
        stage_ids.push(stage.id.clone());
    }
    stage_ids
}

fn stage_enabled_expression(stage: &StageExecution) -> Option<String> {
    let enabled = stage.context.get("stageEnabled")?;
    if enabled.get("type").and_then(Value::as_str) != Some("expression") {
        return None;
    }
    let expression = match enabled.get("expression")? {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!expression.trim().is_empty()).then_some(expression)
}

fn merge_failures(context: &mut Object, failures: Object) {
    if failures.is_empty() {
        return;
    }
    let summary = context
        .entry("expressionEvaluationSummary")
        .or_insert_with(|| Value::Object(Object::new()));
    if !summary.is_object() {
        *summary = Value::Object(Object::new());
    }
    if let Value::Object(summary) = summary {
        summary.extend(failures);
    }
}

/// The parent's status from its finished before-children (`determineStatus`), or `None` to run
/// its own tasks.
fn status_from_children(
    children: &[ExecutionStatus],
    parent: &StageExecution,
) -> Option<ExecutionStatus> {
    let any = |s: ExecutionStatus| children.contains(&s);
    if any(ExecutionStatus::Terminal) {
        Some(parent.failure_status())
    } else if any(ExecutionStatus::Stopped) {
        Some(ExecutionStatus::Stopped)
    } else if any(ExecutionStatus::Canceled) {
        Some(ExecutionStatus::Canceled)
    } else if any(ExecutionStatus::FailedContinue) {
        Some(ExecutionStatus::FailedContinue)
    } else {
        None
    }
}

/// The execution's final status from its top-level stages, or `None` while it must go on
/// (§5.2 step 6).
pub fn final_status(execution: &Execution) -> Option<ExecutionStatus> {
    let top: Vec<&StageExecution> = execution
        .stages
        .iter()
        .filter(|s| s.is_top_level())
        .collect();
    if top.is_empty() {
        return Some(ExecutionStatus::Terminal);
    }
    if top.iter().all(|s| s.status.lets_downstream_run()) {
        return Some(ExecutionStatus::Succeeded);
    }
    if top.iter().any(|s| s.status == ExecutionStatus::Terminal) {
        return Some(ExecutionStatus::Terminal);
    }
    if top.iter().any(|s| s.status == ExecutionStatus::Canceled) {
        return Some(ExecutionStatus::Canceled);
    }
    let busy = top.iter().any(|s| {
        matches!(s.status, ExecutionStatus::Running | ExecutionStatus::Paused)
            || (s.status == ExecutionStatus::NotStarted && Executor::parents_done(execution, s))
    });
    if busy {
        return None;
    }
    let fail = top.iter().any(|s| {
        s.status == ExecutionStatus::Stopped
            && s.flag("completeOtherBranchesThenFail") == Some(true)
    });
    Some(if fail {
        ExecutionStatus::Terminal
    } else {
        ExecutionStatus::Succeeded
    })
}

/// A timeout message when the stage (`stageTimeoutMs`) or the task ran too long, paused time
/// excluded. Execution-window stages are exempt.
fn timed_out(
    execution: &Execution,
    stage: &StageExecution,
    task_index: usize,
    timeout: TaskTimeout,
    now: i64,
) -> Option<String> {
    if stage.stage_type == execution_window::TYPE {
        return None;
    }
    let paused_since = |since: i64| -> i64 {
        execution
            .paused
            .as_ref()
            .filter(|p| p.pause_time.is_some_and(|t| t >= since))
            .map_or(0, |p| p.paused_ms)
    };
    let stage_limit = number(stage.context.get("stageTimeoutMs")).map(|ms| ms as i64);
    if let Some(limit) = stage_limit
        && let Some(start) = stage.tasks.first().and_then(|t| t.start_time)
        && now - start - paused_since(start) > limit
    {
        return Some(format!(
            "Stage '{}' timed out after {limit} ms (stageTimeoutMs)",
            stage.name
        ));
    }
    let task = stage.tasks.get(task_index)?;
    let start = task.start_time?;
    let limit = match timeout {
        TaskTimeout::None => return None,
        TaskTimeout::Fixed(ms) => ms,
        TaskTimeout::Overridable(ms) => {
            if stage_limit.is_some() {
                return None;
            }
            ms
        }
    };
    (now - start - paused_since(start) > limit)
        .then(|| format!("Task '{}' timed out after {limit} ms", task.name))
}

#[cfg(test)]
mod tests {
    use super::Executor;

    #[test]
    fn the_executor_can_move_to_a_tokio_task() {
        fn assert_send<T: Send>() {}
        assert_send::<Executor>();
    }
}
