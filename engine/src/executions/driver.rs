//! The driver loop: commands → cron → `Executor::step` → pipeline triggers → one queued write
//! per round; then sleep until the next due task, cron fire, finished network call or command.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use execution::stages::check_preconditions::CheckPreconditionsWithClusters;
use execution::triggers::cron::CronSchedule;
use execution::{Clock, Executor, Settings, Spel, StageRegistry};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::configs::SqlConfigs;
use super::{Command, Committed, Finish};
use crate::config::Config;
use crate::store::{self, Store, StoreError};

/// Rounds queued to the writer before the driver waits for the oldest to commit.
pub const MAX_ROUNDS_IN_FLIGHT: usize = 4;

/// How often pipeline configs are re-read for cron and pipeline triggers without a `tick`.
const CONFIG_REFRESH: Duration = Duration::from_secs(1);

/// Longest sleep, so a manual clock moved by a test is noticed without a `tick`.
const MAX_SLEEP: Duration = Duration::from_secs(1);

pub(crate) struct Driver {
    store: Store,
    clock: Arc<dyn Clock>,
    refresh: Arc<AtomicBool>,
    settings: Settings,
    registry: Option<StageRegistry>,
    configs: Option<Arc<SqlConfigs>>,
    open_error: Option<StoreError>,
}

struct Triggers {
    configs: Vec<Value>,
    signature: Option<(i64, i64)>,
    cron: Option<CronSchedule>,
    refreshed_at: Option<Instant>,
}

impl Driver {
    pub(crate) fn new(
        store: Store,
        config: &Config,
        clock: Arc<dyn Clock>,
        refresh: Arc<AtomicBool>,
    ) -> Self {
        let time_zone =
            jiff::tz::TimeZone::get(&config.scheduler.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let settings = Settings {
            time_zone,
            ..Settings::default()
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap_or_default();
        // Validated when the config was loaded; a bad table here means no masters.
        let masters = config.jenkins.typed_masters().unwrap_or_default();
        let mut registry = StageRegistry::standard(http, masters);
        match crate::canary_accounts::kayenta_canary_stage(&config.canary, store.clone()) {
            Ok(stage) => registry.register(Arc::new(stage)),
            Err(e) => tracing::error!(error = %e, "kayentaCanary stages cannot run"),
        }
        if config.aws.is_set() {
            registry.register(Arc::new(CheckPreconditionsWithClusters::new(Arc::new(
                crate::aws::AwsClusters::new(config.aws.clone()),
            ))));
        }
        // Validated when the config was loaded; a failure here leaves kayentaCanary unsupported.
        match crate::canary_accounts::kayenta_canary_stage(&config.canary, store.clone()) {
            Ok(stage) => registry.register(Arc::new(stage)),
            Err(error) => tracing::error!(%error, "kayentaCanary stages cannot run"),
        }
        let (configs, open_error) = match SqlConfigs::open(store.path()) {
            Ok(c) => (Some(Arc::new(c)), None),
            Err(e) => (None, Some(e)),
        };
        Self {
            store,
            clock,
            refresh,
            settings,
            registry: Some(registry),
            configs,
            open_error,
        }
    }

    pub(crate) async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let (Some(configs), Some(registry)) = (self.configs.clone(), self.registry.take()) else {
            tracing::error!(error = ?self.open_error, "cannot read the database; executions are disabled");
            return;
        };
        let dyn_configs: Arc<dyn execution::PipelineConfigs> = configs.clone();
        let mut executor =
            Executor::new(registry, Arc::new(Spel), dyn_configs, self.settings.clone());
        resume(&mut executor, &configs, self.clock.now_ms());
        let mut triggers = Triggers {
            configs: Vec::new(),
            signature: None,
            cron: None,
            refreshed_at: None,
        };
        let mut rounds: VecDeque<JoinHandle<()>> = VecDeque::new();
        let mut queued: Vec<Command> = Vec::new();
        let mut finished: Vec<String> = Vec::new();
        let mut closed = false;
        loop {
            let now = self.clock.now_ms();
            while let Ok(command) = commands.try_recv() {
                queued.push(command);
            }
            let finishers: Vec<Finish> = queued
                .drain(..)
                .map(|command| command(&mut executor, now))
                .collect();
            self.refresh_triggers(&configs, &mut triggers, now);
            if let Some(cron) = &mut triggers.cron {
                for (config, trigger) in cron.due(now) {
                    start(&mut executor, &config, trigger, now, "cron");
                }
            }
            let mut changes = executor.step(now);
            let completed = executor.take_completed();
            if !completed.is_empty() {
                for id in &completed {
                    let fired = executor
                        .execution(id)
                        .map(|e| execution::triggers::pipeline::fired(&triggers.configs, e))
                        .unwrap_or_default();
                    for (config, trigger) in fired {
                        start(&mut executor, &config, trigger, now, "pipeline");
                    }
                }
                changes.extend(executor.take_changes());
                finished.extend(completed);
            }
            if !changes.is_empty() || !finishers.is_empty() {
                let write = self
                    .store
                    .write_queued(move |conn| store::executions::apply(conn, &changes));
                rounds.push_back(tokio::spawn(async move {
                    let committed: Committed = write.await.map_err(|e: StoreError| {
                        tracing::error!(error = %e, "committing an execution round failed");
                        e.to_string()
                    });
                    for finish in finishers {
                        finish(committed.clone());
                    }
                }));
            }
            // Completed executions are served from storage; drop them from memory.
            finished.retain(|id| executor.evict(id).is_none() && executor.execution(id).is_some());
            while rounds.front().is_some_and(JoinHandle::is_finished) {
                rounds.pop_front();
            }
            while rounds.len() > MAX_ROUNDS_IN_FLIGHT {
                if let Some(oldest) = rounds.pop_front() {
                    let _ = oldest.await;
                }
            }
            if closed && !executor.has_work() && !executor.has_io() {
                break;
            }
            if executor.has_work() {
                tokio::task::yield_now().await;
                continue;
            }
            let wake = [
                executor.next_wakeup(),
                triggers.cron.as_ref().and_then(CronSchedule::next_fire_ms),
            ]
            .into_iter()
            .flatten()
            .min();
            let sleep = wake.map_or(MAX_SLEEP, |at| {
                Duration::from_millis(u64::try_from(at - now).unwrap_or(0)).min(MAX_SLEEP)
            });
            if sleep.is_zero() {
                tokio::task::yield_now().await;
                continue;
            }
            let has_io = executor.has_io();
            tokio::select! {
                command = commands.recv(), if !closed => match command {
                    Some(command) => queued.push(command),
                    None => closed = true,
                },
                _ = executor.wait_io(), if has_io => {}
                () = tokio::time::sleep(sleep) => {}
            }
        }
        for round in rounds {
            let _ = round.await;
        }
    }

    fn refresh_triggers(&self, configs: &SqlConfigs, triggers: &mut Triggers, now: i64) {
        let forced = self.refresh.swap(false, Ordering::SeqCst);
        let due = triggers
            .refreshed_at
            .is_none_or(|at| at.elapsed() >= CONFIG_REFRESH);
        if !forced && !due {
            return;
        }
        triggers.refreshed_at = Some(Instant::now());
        let signature = match configs.signature() {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "reading pipeline configs for triggers");
                return;
            }
        };
        if triggers.signature == Some(signature) {
            return;
        }
        match configs.all() {
            Ok(all) => {
                let (cron, errors) = CronSchedule::new(&all, &self.settings.time_zone, now);
                for error in errors {
                    tracing::warn!("{error}");
                }
                triggers.cron = Some(cron);
                triggers.configs = all;
                triggers.signature = Some(signature);
            }
            Err(e) => tracing::error!(error = %e, "reading pipeline configs for triggers"),
        }
    }
}

fn start(executor: &mut Executor, config: &Value, trigger: Value, now: i64, kind: &str) {
    let pipeline = config.get("id").and_then(Value::as_str).unwrap_or_default();
    match executor.trigger(config, Some(trigger), now) {
        Ok(id) => tracing::info!(pipeline, execution = %id, "{kind} trigger started an execution"),
        Err(e) => tracing::warn!(pipeline, error = %e, "{kind} trigger could not start"),
    }
}

fn resume(executor: &mut Executor, configs: &SqlConfigs, now: i64) {
    let ids = match configs.unfinished() {
        Ok(ids) => ids,
        Err(e) => {
            tracing::error!(error = %e, "cannot list unfinished executions; none resumed");
            return;
        }
    };
    let mut resumed = 0usize;
    for id in ids {
        if executor.execution(&id).is_some() {
            continue;
        }
        match configs.execution(&id) {
            Ok(Some(execution)) => {
                executor.load(execution, now);
                resumed += 1;
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, execution = %id, "cannot resume execution"),
        }
    }
    if resumed > 0 {
        tracing::info!(resumed, "resumed unfinished executions");
    }
}
