//! Test harness: an executor over the local stage types (or a given registry), a manual clock,
//! and a memory store that receives every batch of changes.

use execution::{
    Actor, Clock, Execution, ExecutionStatus, Executor, ManualClock, MemoryStore, PipelineConfigs,
    Settings, Spel, StageExecution, StageRegistry, Store,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// 2026-03-02T16:00:00Z, a Monday (08:00 in Los Angeles).
pub const T0: i64 = 1_772_467_200_000;

pub struct Harness {
    pub executor: Executor,
    pub clock: ManualClock,
    pub store: MemoryStore,
}

impl Harness {
    pub fn new() -> Self {
        Self::with(StageRegistry::local(), HashMap::new())
    }

    pub fn with(registry: StageRegistry, configs: HashMap<String, Value>) -> Self {
        Self::with_source(registry, Arc::new(configs))
    }

    pub fn with_source(registry: StageRegistry, source: Arc<dyn PipelineConfigs>) -> Self {
        Self {
            executor: Executor::new(registry, Arc::new(Spel), source, Settings::default()),
            clock: ManualClock::new(T0),
            store: MemoryStore::default(),
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Runs everything due now, persists the changes, and checks the store matches memory.
    pub async fn settle(&mut self) {
        let changes = self.executor.run_until_quiet(self.now()).await;
        self.store
            .commit(&changes)
            .expect("changes apply to the store");
        for execution in self.executor.executions() {
            assert_eq!(
                self.store.get(&execution.id),
                Some(execution),
                "the persisted execution equals the executor's"
            );
        }
    }

    pub async fn advance(&mut self, ms: i64) {
        self.clock.advance(ms);
        self.settle().await;
    }

    pub async fn run(&mut self, config: Value) -> String {
        self.run_with(config, None).await
    }

    pub async fn run_with(&mut self, config: Value, trigger: Option<Value>) -> String {
        let id = self
            .executor
            .trigger(&config, trigger, self.now())
            .expect("pipeline starts");
        self.settle().await;
        id
    }

    pub fn execution(&self, id: &str) -> &Execution {
        self.executor.execution(id).expect("execution exists")
    }

    pub fn status(&self, id: &str) -> ExecutionStatus {
        self.execution(id).status
    }

    pub fn stage(&self, id: &str, name: &str) -> &StageExecution {
        self.execution(id)
            .stages
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("stage {name} exists"))
    }

    pub fn stage_status(&self, id: &str, name: &str) -> ExecutionStatus {
        self.stage(id, name).status
    }

    pub async fn judge(&mut self, id: &str, stage: &str, status: &str, input: Option<&str>) {
        let stage_id = self.stage(id, stage).id.clone();
        let mut patch = json!({"judgmentStatus": status});
        if let Some(input) = input {
            patch["judgmentInput"] = json!(input);
        }
        let patch = patch.as_object().cloned().unwrap_or_default();
        self.executor
            .update_stage(id, &stage_id, patch, &Actor::anonymous(), self.now())
            .expect("judgment accepted");
        self.settle().await;
    }
}

pub fn pipeline(stages: Value) -> Value {
    json!({"application": "app", "name": "deploy", "id": "config-1", "stages": stages})
}

pub fn wait(ref_id: &str, name: &str, seconds: i64, requisites: &[&str]) -> Value {
    json!({"refId": ref_id, "name": name, "type": "wait", "waitTime": seconds, "requisiteStageRefIds": requisites})
}

pub fn judgment(ref_id: &str, name: &str, requisites: &[&str]) -> Value {
    json!({"refId": ref_id, "name": name, "type": "manualJudgment", "judgmentInputs": [{"value": "prod"}, {"value": "rollback"}], "requisiteStageRefIds": requisites})
}
