//! `kayentaCanary`: automated canary analysis as Orca runs it (spinnaker.md §6.3), with the
//! judge built in instead of a remote Kayenta.
//!
//! Orca plans a `runCanaryIntervals` before-stage holding a warm-up `wait`, then per interval an
//! "Interval Wait #i" (real time only) and a "Run Canary #i" stage, and ends the parent with
//! `aggregateCanaryResults`. Here the same plan runs as two tasks of the stage itself:
//!
//! * `runCanaryIntervals` computes the plan from the stage start (Orca's "now" at planning),
//!   waits on the executor's clock until each interval is due, then fetches the control and
//!   experiment series of every metric through a [`canary::metrics::MetricsSource`], runs
//!   [`canary::judge`], and appends the Kayenta-shaped result to `context.canaryIntervals`
//!   (and the score to `context.canaryScores`). A score at or below the marginal threshold ends
//!   the stage at once (TERMINAL, or FAILED_CONTINUE with `continuePipeline`).
//! * `aggregateCanaryResults` decides from the last interval's score only and writes
//!   `canaryScores` and `canaryScoreMessage`, as Orca's task does.
//!
//! Everything the loop needs to go on after a restart is in the stage context and its start
//! time, so a resumed stage runs the next interval that has not been recorded.

use super::{StageDefinition, TaskResult, TaskRun, TaskSpec, TaskStep, number};
use crate::model::{Object, StageExecution};
use crate::orchestrate::new_ulid;
use crate::status::ExecutionStatus;
use canary::metrics::{CanaryScope, MetricsSource, pair_sets};
use canary::{CanaryConfig, ScoreThresholds};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

/// The stage type.
pub const TYPE: &str = "kayentaCanary";

/// The task that waits for and judges each interval.
pub const RUN_INTERVALS: &str = "runCanaryIntervals";

/// The task that decides the stage from the last interval's score.
pub const AGGREGATE: &str = "aggregateCanaryResults";

/// Orca's message when an interval scores at or below the marginal threshold.
pub const NOT_ABOVE_MARGINAL: &str = "Canary score is not above the marginal score threshold.";

/// Orca's warning when a metric has few control points.
pub const FEW_POINTS_WARNING: &str = "One of the metrics returned fewer than 50 data points, which can reduce confidence in the final canary score.";

const MINUTE_MS: i64 = 60_000;

/// Where the stage finds canary configs (the engine's `/v2/canaryConfig` store).
pub trait CanaryConfigs: Send + Sync {
    /// The stored config with this id, as JSON, or `None`.
    fn canary_config(&self, id: &str) -> BoxFuture<'static, Result<Option<Value>, String>>;

    /// The id of the config named `name` that `application` may use, or `None`.
    fn canary_config_id(
        &self,
        name: &str,
        application: &str,
    ) -> BoxFuture<'static, Result<Option<String>, String>>;
}

/// Configs by id, for tests and small set-ups.
impl CanaryConfigs for HashMap<String, Value> {
    fn canary_config(&self, id: &str) -> BoxFuture<'static, Result<Option<Value>, String>> {
        let found = self.get(id).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn canary_config_id(
        &self,
        name: &str,
        application: &str,
    ) -> BoxFuture<'static, Result<Option<String>, String>> {
        let mut ids: Vec<&String> = self
            .iter()
            .filter(|(_, c)| {
                c.get("name").and_then(Value::as_str) == Some(name)
                    && c.get("applications")
                        .and_then(Value::as_array)
                        .is_some_and(|apps| apps.iter().any(|a| a.as_str() == Some(application)))
            })
            .map(|(id, _)| id)
            .collect();
        ids.sort();
        let found = ids.first().map(|id| (*id).clone());
        Box::pin(async move { Ok(found) })
    }
}

/// The configured metric accounts (`[canary.accounts.<name>]`), each a metric source.
#[derive(Clone, Default)]
pub struct MetricsAccounts {
    accounts: BTreeMap<String, Arc<dyn MetricsSource>>,
}

impl fmt::Debug for MetricsAccounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Sources hold credentials; only names and types are shown.
        let names: BTreeMap<&str, &str> = self
            .accounts
            .iter()
            .map(|(name, source)| (name.as_str(), source.source_type()))
            .collect();
        f.debug_struct("MetricsAccounts")
            .field("accounts", &names)
            .finish()
    }
}

impl MetricsAccounts {
    /// No accounts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) an account.
    pub fn insert(&mut self, name: impl Into<String>, source: Arc<dyn MetricsSource>) {
        self.accounts.insert(name.into(), source);
    }

    /// The account names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.accounts.keys().map(String::as_str).collect()
    }

    /// The named account, or the first one when no name is given (Kayenta's default account).
    ///
    /// # Errors
    /// A message naming the account asked for and the accounts configured.
    pub fn get(&self, name: Option<&str>) -> Result<(String, Arc<dyn MetricsSource>), String> {
        let found = match name {
            Some(name) => self.accounts.get_key_value(name),
            None => self.accounts.iter().next(),
        };
        found
            .map(|(name, source)| (name.clone(), Arc::clone(source)))
            .ok_or_else(|| {
                let known = if self.accounts.is_empty() {
                    "none are configured ([canary.accounts.<name>] in the server config)".to_owned()
                } else {
                    format!("configured: {}", self.names().join(", "))
                };
                match name {
                    Some(name) => format!("metrics account {name:?} is not known; {known}"),
                    None => format!("no metrics account is available; {known}"),
                }
            })
    }
}

/// Why the stage's `canaryConfig` cannot be planned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// `canaryConfig` is missing or not an object.
    #[error("the stage has no canaryConfig object")]
    MissingCanaryConfig,
    /// Neither `canaryConfigId` nor `canaryConfigName`.
    #[error("canaryConfig.canaryConfigId (or canaryConfigName) is required")]
    MissingConfigId,
    /// No scopes.
    #[error("canaryConfig.scopes must contain at least one scope")]
    NoScopes,
    /// Neither an end time nor a lifetime.
    #[error(
        "canaryConfig needs either scopes[0].endTimeIso or lifetimeDuration (an ISO-8601 duration such as PT1H)"
    )]
    NoLifetime,
    /// A field has an unusable value.
    #[error("canaryConfig.{field}: {message}")]
    Invalid {
        /// The field's path inside `canaryConfig`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> PlanError {
    PlanError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// The pass and marginal thresholds; `None` where the stage leaves one out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// `scoreThresholds.pass`.
    pub pass: Option<f64>,
    /// `scoreThresholds.marginal`.
    pub marginal: Option<f64>,
}

impl Thresholds {
    /// Reads `scoreThresholds`: pass 75 / marginal 50 when the key is absent (Orca's default).
    pub fn read(canary_config: &Object) -> Self {
        match canary_config.get("scoreThresholds") {
            None | Some(Value::Null) => Self {
                pass: Some(75.0),
                marginal: Some(50.0),
            },
            Some(t) => Self {
                pass: number(t.get("pass")),
                marginal: number(t.get("marginal")),
            },
        }
    }

    /// What the judge classifies with (defaults fill a missing side).
    fn for_judge(self) -> ScoreThresholds {
        let default = ScoreThresholds::default();
        ScoreThresholds {
            pass: self.pass.unwrap_or(default.pass),
            marginal: self.marginal.unwrap_or(default.marginal),
        }
    }
}

/// One `scopes[]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeSpec {
    /// `scopeName`, default `default`.
    pub name: String,
    /// `controlScope`.
    pub control: String,
    /// `controlLocation`.
    pub control_location: String,
    /// `experimentScope`.
    pub experiment: String,
    /// `experimentLocation`.
    pub experiment_location: String,
    /// `step` in seconds, default 60.
    pub step_secs: u64,
    /// `extendedScopeParams`, values as strings.
    pub extended: BTreeMap<String, String>,
}

/// The interval plan (Orca's `RunCanaryIntervalsStage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntervalPlan {
    /// Real time (waits between intervals) unless the first scope has `endTimeIso`.
    pub real_time: bool,
    /// When the stage was planned (its start), epoch ms.
    pub planned_at_ms: i64,
    /// `startTimeIso` of the first scope, epoch ms.
    pub start_ms: Option<i64>,
    /// `beginCanaryAnalysisAfterMins`.
    pub warmup_mins: i64,
    /// The analysis interval in minutes.
    pub interval_mins: i64,
    /// `floor(lifetime / interval)`.
    pub intervals: i64,
    /// `baselineAnalysisOffsetInMins`.
    pub baseline_offset_mins: i64,
    /// `lookbackMins` (0: cumulative from the start).
    pub lookback_mins: i64,
}

/// The control and experiment windows of one interval, epoch ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// Control start.
    pub control_start: i64,
    /// Control end.
    pub control_end: i64,
    /// Experiment start.
    pub experiment_start: i64,
    /// Experiment end.
    pub experiment_end: i64,
}

impl IntervalPlan {
    fn base(&self) -> i64 {
        self.start_ms.unwrap_or(self.planned_at_ms)
    }

    /// When interval `i` (from 1) may run: after the warm-up and `i` interval waits in real
    /// time; right after the warm-up in retrospective mode.
    pub fn due_ms(&self, i: i64) -> i64 {
        let warmup = self.warmup_mins.saturating_mul(MINUTE_MS);
        if self.real_time {
            self.planned_at_ms.saturating_add(warmup).saturating_add(
                i.saturating_mul(self.interval_mins)
                    .saturating_mul(MINUTE_MS),
            )
        } else {
            self.planned_at_ms.saturating_add(warmup)
        }
    }

    /// The windows of interval `i` (from 1).
    pub fn windows(&self, i: i64) -> Windows {
        let span = i
            .saturating_mul(self.interval_mins)
            .saturating_mul(MINUTE_MS);
        let (mut start, end) = if self.real_time {
            let start = self
                .base()
                .saturating_add(self.warmup_mins.saturating_mul(MINUTE_MS));
            (start, start.saturating_add(span))
        } else {
            (self.base(), self.base().saturating_add(span))
        };
        if self.lookback_mins > 0 {
            start = end.saturating_sub(self.lookback_mins.saturating_mul(MINUTE_MS));
        }
        let offset = self.baseline_offset_mins.saturating_mul(MINUTE_MS);
        Windows {
            control_start: start.saturating_sub(offset),
            control_end: end.saturating_sub(offset),
            experiment_start: start,
            experiment_end: end,
        }
    }
}

/// The stage's `canaryConfig`, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct CanarySettings {
    /// `canaryConfigId`.
    pub config_id: Option<String>,
    /// `canaryConfigName` (resolved against the execution's application).
    pub config_name: Option<String>,
    /// `metricsAccountName`.
    pub metrics_account: Option<String>,
    /// `scopes`.
    pub scopes: Vec<ScopeSpec>,
    /// `scoreThresholds`.
    pub thresholds: Thresholds,
    /// The plan.
    pub plan: IntervalPlan,
    /// `siteLocal`, passed through.
    pub site_local: Value,
}

fn text(object: &Object, key: &str) -> Option<String> {
    match object.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn minutes(object: &Object, key: &str) -> Result<i64, PlanError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(0),
        value => match number(value) {
            Some(n) if n.is_finite() && n >= 0.0 => Ok(n.trunc() as i64),
            _ => Err(invalid(
                key,
                format!(
                    "must be a whole number of minutes, got {}",
                    value.map(ToString::to_string).unwrap_or_default()
                ),
            )),
        },
    }
}

fn instant(object: &Object, key: &str, path: &str) -> Result<Option<i64>, PlanError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<jiff::Timestamp>()
            .map(|t| Some(t.as_millisecond()))
            .map_err(|e| invalid(path, format!("must be an ISO-8601 instant, got {s:?}: {e}"))),
        Some(other) => Err(invalid(
            path,
            format!("must be an ISO-8601 instant, got {other}"),
        )),
    }
}

/// An ISO-8601 duration (`PT1H30M`, `P1D`) in whole minutes, as Java's `Duration` reads it.
fn duration_minutes(text: &str) -> Result<i64, String> {
    let span: jiff::Span = text
        .trim()
        .parse()
        .map_err(|e| format!("must be an ISO-8601 duration such as PT1H30M, got {text:?}: {e}"))?;
    if span.get_years() != 0 || span.get_months() != 0 || span.get_weeks() != 0 {
        return Err(format!(
            "must use days, hours, minutes or seconds only, got {text:?}"
        ));
    }
    let seconds = span
        .total(jiff::SpanTotal::from(jiff::Unit::Second).days_are_24_hours())
        .map_err(|e| format!("cannot be measured: {e}"))?;
    Ok((seconds / 60.0).trunc() as i64)
}

fn scope(entry: &Value, index: usize) -> Result<ScopeSpec, PlanError> {
    let path = |key: &str| format!("scopes[{index}].{key}");
    let Some(object) = entry.as_object() else {
        return Err(invalid(format!("scopes[{index}]"), "must be an object"));
    };
    let step_secs = match object.get("step") {
        None | Some(Value::Null) => 60,
        value => match number(value) {
            Some(n) if n.is_finite() && n >= 1.0 => n.trunc() as u64,
            _ => {
                return Err(invalid(
                    path("step"),
                    "must be a positive number of seconds",
                ));
            }
        },
    };
    let extended = match object.get("extendedScopeParams") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(params)) => params
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k.clone(), value)
            })
            .collect(),
        Some(_) => return Err(invalid(path("extendedScopeParams"), "must be an object")),
    };
    Ok(ScopeSpec {
        name: text(object, "scopeName").unwrap_or_else(|| "default".to_owned()),
        control: text(object, "controlScope").unwrap_or_default(),
        control_location: text(object, "controlLocation").unwrap_or_default(),
        experiment: text(object, "experimentScope").unwrap_or_default(),
        experiment_location: text(object, "experimentLocation").unwrap_or_default(),
        step_secs,
        extended,
    })
}

impl CanarySettings {
    /// Reads the stage context's `canaryConfig`; `planned_at_ms` is the stage start.
    ///
    /// # Errors
    /// [`PlanError`] naming the field, as Orca fails at planning.
    pub fn read(context: &Object, planned_at_ms: i64) -> Result<Self, PlanError> {
        let Some(config) = context.get("canaryConfig").and_then(Value::as_object) else {
            return Err(PlanError::MissingCanaryConfig);
        };
        let scopes: Vec<ScopeSpec> = match config.get("scopes") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, s)| scope(s, i))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(invalid("scopes", "must be a list")),
        };
        let Some(first) = config
            .get("scopes")
            .and_then(Value::as_array)
            .and_then(|s| s.first())
            .and_then(Value::as_object)
        else {
            return Err(PlanError::NoScopes);
        };
        let start_ms = instant(first, "startTimeIso", "scopes[0].startTimeIso")?;
        let end_ms = instant(first, "endTimeIso", "scopes[0].endTimeIso")?;
        let lifetime_mins = match end_ms {
            Some(end) => (end - start_ms.unwrap_or(planned_at_ms)).div_euclid(MINUTE_MS),
            None => match (
                text(config, "lifetimeDuration"),
                config.get("lifetimeHours"),
            ) {
                (Some(duration), _) => duration_minutes(&duration)
                    .map_err(|message| invalid("lifetimeDuration", message))?,
                (None, hours @ Some(h)) if !h.is_null() => match number(hours) {
                    Some(h) if h.is_finite() && h >= 0.0 => (h * 60.0).trunc() as i64,
                    _ => return Err(invalid("lifetimeHours", "must be a number of hours")),
                },
                _ => return Err(PlanError::NoLifetime),
            },
        };
        if lifetime_mins <= 0 {
            return Err(invalid(
                if end_ms.is_some() {
                    "scopes[0].endTimeIso"
                } else {
                    "lifetimeDuration"
                },
                format!(
                    "the canary lifetime must be at least one minute, got {lifetime_mins} minutes"
                ),
            ));
        }
        let requested = minutes(config, "canaryAnalysisIntervalMins")?;
        let interval_mins = if requested > 0 && requested <= lifetime_mins {
            requested
        } else {
            lifetime_mins
        };
        let plan = IntervalPlan {
            real_time: end_ms.is_none(),
            planned_at_ms,
            start_ms,
            warmup_mins: minutes(config, "beginCanaryAnalysisAfterMins")?,
            interval_mins,
            intervals: lifetime_mins / interval_mins,
            baseline_offset_mins: minutes(config, "baselineAnalysisOffsetInMins")?,
            lookback_mins: minutes(config, "lookbackMins")?,
        };
        let config_id = text(config, "canaryConfigId");
        let config_name = text(config, "canaryConfigName");
        if config_id.is_none() && config_name.is_none() {
            return Err(PlanError::MissingConfigId);
        }
        Ok(Self {
            config_id,
            config_name,
            metrics_account: text(config, "metricsAccountName"),
            scopes,
            thresholds: Thresholds::read(config),
            plan,
            site_local: config.get("siteLocal").cloned().unwrap_or(json!({})),
        })
    }

    /// Kayenta's request `scopes` for interval windows `w`.
    fn request_scopes(&self, w: Windows) -> Value {
        let iso = |ms: i64| {
            jiff::Timestamp::from_millisecond(ms)
                .map(|t| t.to_string())
                .unwrap_or_default()
        };
        let mut scopes = serde_json::Map::new();
        for s in &self.scopes {
            let side = |scope: &str, location: &str, start: i64, end: i64| {
                json!({
                    "scope": scope, "location": location, "start": iso(start), "end": iso(end),
                    "step": s.step_secs, "extendedScopeParams": s.extended,
                })
            };
            scopes.insert(
                s.name.clone(),
                json!({
                    "controlScope": side(&s.control, &s.control_location, w.control_start, w.control_end),
                    "experimentScope": side(&s.experiment, &s.experiment_location, w.experiment_start, w.experiment_end),
                }),
            );
        }
        Value::Object(scopes)
    }
}

/// Formats a score as Kotlin prints a `Double` (`80.0`, `66.67`).
fn score_text(score: f64) -> String {
    if score.fract() == 0.0 && score.abs() < 1e15 {
        format!("{score:.1}")
    } else {
        score.to_string()
    }
}

/// The `kayentaCanary` stage, with where to find configs and metric accounts.
pub struct KayentaCanary {
    configs: Arc<dyn CanaryConfigs>,
    accounts: MetricsAccounts,
}

impl KayentaCanary {
    /// A stage reading configs from `configs` and metrics from `accounts`.
    pub fn new(configs: Arc<dyn CanaryConfigs>, accounts: MetricsAccounts) -> Self {
        Self { configs, accounts }
    }

    fn run_intervals(&self, run: &TaskRun<'_>) -> TaskStep {
        let planned_at = run.stage.start_time.unwrap_or(run.now_ms);
        let settings = match CanarySettings::read(run.context, planned_at) {
            Ok(settings) => settings,
            Err(e) => return TaskResult::terminal(e.to_string()).into(),
        };
        let done: Vec<Value> = run
            .context
            .get("canaryIntervals")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let next = i64::try_from(done.len())
            .unwrap_or(i64::MAX)
            .saturating_add(1);
        if next > settings.plan.intervals {
            return TaskResult::succeeded().into();
        }
        let due = settings.plan.due_ms(next);
        if run.now_ms < due {
            return TaskResult::running(due - run.now_ms).into();
        }
        let (account, source) = match self.accounts.get(settings.metrics_account.as_deref()) {
            Ok(found) => found,
            Err(message) => {
                return TaskResult::terminal(format!("canaryConfig.metricsAccountName: {message}"))
                    .into();
            }
        };
        let job = IntervalJob {
            interval: next,
            windows: settings.plan.windows(next),
            next_due: settings.plan.due_ms(next.saturating_add(1)),
            last: next == settings.plan.intervals,
            settings,
            application: run.execution.application.clone(),
            account,
            source,
            configs: Arc::clone(&self.configs),
            done,
            now_ms: run.now_ms,
        };
        TaskStep::Io(Box::pin(job.run()))
    }
}

/// One interval's fetch-and-judge, owning all it needs.
struct IntervalJob {
    interval: i64,
    windows: Windows,
    next_due: i64,
    last: bool,
    settings: CanarySettings,
    application: String,
    account: String,
    source: Arc<dyn MetricsSource>,
    configs: Arc<dyn CanaryConfigs>,
    done: Vec<Value>,
    now_ms: i64,
}

/// Why an interval could not be judged (Kayenta's halted run).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntervalError {
    /// The config store failed.
    #[error("reading canary config {reference}: {message}")]
    Store {
        /// Id or name.
        reference: String,
        /// The store's error.
        message: String,
    },
    /// No such config.
    #[error("canary config {0} was not found")]
    ConfigNotFound(String),
    /// The stored config is not a canary config.
    #[error("canary config {id} is not valid: {source}")]
    ConfigInvalid {
        /// Its id.
        id: String,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
    /// A metric names a scope the stage lacks.
    #[error(
        "metric {metric:?} uses scope {scope:?}, which canaryConfig.scopes does not define (scopeName)"
    )]
    MissingScope {
        /// Metric name.
        metric: String,
        /// Its scopeName.
        scope: String,
    },
    /// A metric's query type does not match the account.
    #[error(
        "metric {metric:?} has a {query_type:?} query but metrics account {account:?} is a {source_type} source"
    )]
    WrongSource {
        /// Metric name.
        metric: String,
        /// `query.type`.
        query_type: String,
        /// Account name.
        account: String,
        /// The account's source type.
        source_type: &'static str,
    },
    /// A window could not be expressed as a timestamp.
    #[error("interval window out of range: {0}")]
    Window(String),
    /// The metric source failed.
    #[error("fetching metrics from account {account:?}: {source}")]
    Metrics {
        /// Account name.
        account: String,
        /// The source's error.
        #[source]
        source: canary::metrics::MetricsError,
    },
    /// The judge refused the data.
    #[error(transparent)]
    Judge(#[from] canary::JudgeError),
}

fn timestamp(ms: i64) -> Result<jiff::Timestamp, IntervalError> {
    jiff::Timestamp::from_millisecond(ms).map_err(|e| IntervalError::Window(e.to_string()))
}

impl IntervalJob {
    async fn config(&self) -> Result<(String, CanaryConfig), IntervalError> {
        let id = match (&self.settings.config_id, &self.settings.config_name) {
            (Some(id), _) => id.clone(),
            (None, Some(name)) => self
                .configs
                .canary_config_id(name, &self.application)
                .await
                .map_err(|message| IntervalError::Store {
                    reference: name.clone(),
                    message,
                })?
                .ok_or_else(|| {
                    IntervalError::ConfigNotFound(format!(
                        "named {name:?} for application {:?}",
                        self.application
                    ))
                })?,
            (None, None) => return Err(IntervalError::ConfigNotFound(String::new())),
        };
        let raw = self
            .configs
            .canary_config(&id)
            .await
            .map_err(|message| IntervalError::Store {
                reference: id.clone(),
                message,
            })?
            .ok_or_else(|| IntervalError::ConfigNotFound(id.clone()))?;
        let config =
            serde_json::from_value(raw).map_err(|source| IntervalError::ConfigInvalid {
                id: id.clone(),
                source,
            })?;
        Ok((id, config))
    }

    async fn judge(&self) -> Result<(String, canary::CanaryJudgeResult), IntervalError> {
        let (id, config) = self.config().await?;
        let w = self.windows;
        let mut pairs = Vec::new();
        for metric in &config.metrics {
            let scope = self
                .settings
                .scopes
                .iter()
                .find(|s| s.name == metric.scope_name)
                .ok_or_else(|| IntervalError::MissingScope {
                    metric: metric.name.clone(),
                    scope: metric.scope_name.clone(),
                })?;
            let query_type = metric.query.kind.as_str();
            if !query_type.is_empty() && query_type != self.source.source_type() {
                return Err(IntervalError::WrongSource {
                    metric: metric.name.clone(),
                    query_type: query_type.to_owned(),
                    account: self.account.clone(),
                    source_type: self.source.source_type(),
                });
            }
            let side = |name: &str, location: &str, start: i64, end: i64| {
                Ok::<_, IntervalError>(CanaryScope {
                    scope: name.to_owned(),
                    location: location.to_owned(),
                    start: timestamp(start)?,
                    end: timestamp(end)?,
                    step_secs: scope.step_secs,
                    extended_scope_params: scope.extended.clone(),
                })
            };
            let control = side(
                &scope.control,
                &scope.control_location,
                w.control_start,
                w.control_end,
            )?;
            let experiment = side(
                &scope.experiment,
                &scope.experiment_location,
                w.experiment_start,
                w.experiment_end,
            )?;
            let metrics_error = |source| IntervalError::Metrics {
                account: self.account.clone(),
                source,
            };
            let control_sets = self
                .source
                .fetch(&config, metric, &control)
                .await
                .map_err(metrics_error)?;
            let experiment_sets = self
                .source
                .fetch(&config, metric, &experiment)
                .await
                .map_err(metrics_error)?;
            pairs.extend(pair_sets(&metric.name, control_sets, experiment_sets));
        }
        let result = canary::judge(&config, &pairs, self.settings.thresholds.for_judge())?;
        Ok((id, result))
    }

    async fn run(mut self) -> TaskResult {
        let (config_id, result) = match self.judge().await {
            Ok(judged) => judged,
            Err(e) => {
                tracing::warn!(interval = self.interval, error = %e, "canary interval failed");
                return TaskResult::terminal(format!(
                    "Canary interval {} failed: {e}",
                    self.interval
                ));
            }
        };
        let score = result.score.score;
        let warnings: Vec<&str> = (self.source.source_type() != "datadog"
            && result
                .results
                .iter()
                .any(|r| r.control_metadata.stats.count < 50))
        .then_some(FEW_POINTS_WARNING)
        .into_iter()
        .collect();
        let thresholds = self.settings.thresholds;
        let record = json!({
            "interval": self.interval,
            "canaryPipelineExecutionId": new_ulid(self.now_ms),
            "canaryConfigId": config_id,
            "metricsAccountName": self.account,
            "canaryScore": score,
            "lastUpdated": self.now_ms,
            "warnings": warnings,
            "canaryExecutionRequest": {
                "scopes": self.settings.request_scopes(self.windows),
                "thresholds": {"pass": thresholds.pass, "marginal": thresholds.marginal},
                "siteLocal": self.settings.site_local,
            },
            "result": {"judgeResult": result},
        });
        tracing::info!(
            interval = self.interval,
            score,
            account = %self.account,
            "canary interval judged"
        );
        self.done.push(record);
        let scores: Vec<Value> = self
            .done
            .iter()
            .map(|r| r.get("canaryScore").cloned().unwrap_or(Value::Null))
            .collect();
        let done = std::mem::take(&mut self.done);
        let base = move |status| {
            TaskResult::with_status(status)
                .context("canaryIntervals", Value::Array(done))
                .context("canaryScores", Value::Array(scores))
                .context("warnings", json!(warnings))
        };
        if thresholds.marginal.is_some_and(|m| score <= m) {
            let mut result = base(ExecutionStatus::Terminal);
            result.error = Some(NOT_ABOVE_MARGINAL.to_owned());
            return result.context("canaryScoreMessage", json!(NOT_ABOVE_MARGINAL));
        }
        if self.last {
            base(ExecutionStatus::Succeeded)
        } else {
            let mut result = base(ExecutionStatus::Running);
            result.retry_after_ms = Some((self.next_due - self.now_ms).max(1));
            result
        }
    }
}

/// Orca's `AggregateCanaryResultsTask`: the last interval's score decides.
fn aggregate(run: &TaskRun<'_>) -> TaskResult {
    let scores: Vec<f64> = run
        .context
        .get("canaryIntervals")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|r| number(r.get("canaryScore")))
                .collect()
        })
        .unwrap_or_default();
    let thresholds = run
        .context
        .get("canaryConfig")
        .and_then(Value::as_object)
        .map_or(
            Thresholds {
                pass: Some(75.0),
                marginal: Some(50.0),
            },
            Thresholds::read,
        );
    let finish = |status: ExecutionStatus, message: String| {
        let mut result = TaskResult::with_status(status)
            .context("canaryScores", json!(scores))
            .context("canaryScoreMessage", json!(message));
        if status == ExecutionStatus::Terminal {
            result.error = Some(message);
        }
        result
    };
    if thresholds.pass.is_none() && thresholds.marginal.is_none() {
        return finish(
            ExecutionStatus::Succeeded,
            "No score thresholds were specified.".to_owned(),
        );
    }
    let Some(last) = scores.last().copied() else {
        return finish(
            ExecutionStatus::Terminal,
            "No canary interval was judged.".to_owned(),
        );
    };
    let shown = score_text(last);
    if thresholds.marginal.is_some_and(|m| last <= m) {
        return finish(
            ExecutionStatus::Terminal,
            format!("Final canary score {shown} is not above the marginal score threshold."),
        );
    }
    match thresholds.pass {
        None => finish(
            ExecutionStatus::Succeeded,
            "No pass score threshold was specified.".to_owned(),
        ),
        Some(pass) if last < pass => finish(
            ExecutionStatus::Terminal,
            format!("Final canary score {shown} is below the pass score threshold."),
        ),
        Some(_) => finish(
            ExecutionStatus::Succeeded,
            format!("Final canary score {shown} met or exceeded the pass score threshold."),
        ),
    }
}

impl StageDefinition for KayentaCanary {
    fn stage_type(&self) -> &'static str {
        TYPE
    }

    fn tasks(&self, _stage: &StageExecution) -> Vec<TaskSpec> {
        vec![
            TaskSpec::new(
                RUN_INTERVALS,
                "com.netflix.spinnaker.orca.kayenta.pipeline.RunCanaryIntervalsStage",
            ),
            TaskSpec::new(
                AGGREGATE,
                "com.netflix.spinnaker.orca.kayenta.tasks.AggregateCanaryResultsTask",
            ),
        ]
    }

    fn run(&self, run: &TaskRun<'_>) -> TaskStep {
        match run.task {
            RUN_INTERVALS => self.run_intervals(run),
            AGGREGATE => aggregate(run).into(),
            other => TaskResult::terminal(format!("kayentaCanary has no task {other:?}")).into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(config: Value) -> Result<CanarySettings, PlanError> {
        let context = json!({ "canaryConfig": config });
        CanarySettings::read(context.as_object().unwrap_or(&Object::new()), 0)
    }

    fn scope() -> Value {
        json!({"controlScope": "app-baseline", "experimentScope": "app-canary"})
    }

    #[test]
    fn plans_intervals_from_the_lifetime() {
        let s = settings(json!({
            "canaryConfigId": "c", "scopes": [scope()], "lifetimeDuration": "PT1H30M",
            "canaryAnalysisIntervalMins": "40", "beginCanaryAnalysisAfterMins": 5,
            "baselineAnalysisOffsetInMins": 10,
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.plan.interval_mins, 40);
        assert_eq!(s.plan.intervals, 2, "floor(90 / 40)");
        assert_eq!(s.plan.due_ms(1), 45 * MINUTE_MS);
        let w = s.plan.windows(2);
        assert_eq!(w.experiment_start, 5 * MINUTE_MS);
        assert_eq!(w.experiment_end, 85 * MINUTE_MS);
        assert_eq!(w.control_start, -5 * MINUTE_MS);
        assert_eq!(w.control_end, 75 * MINUTE_MS);
        assert_eq!(s.thresholds.pass, Some(75.0));
        assert_eq!(s.thresholds.marginal, Some(50.0));
    }

    #[test]
    fn interval_longer_than_the_lifetime_means_one_interval() {
        let s = settings(json!({"canaryConfigId": "c", "scopes": [scope()],
            "lifetimeDuration": "PT30M", "canaryAnalysisIntervalMins": 45, "lookbackMins": 10}))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((s.plan.interval_mins, s.plan.intervals), (30, 1));
        let w = s.plan.windows(1);
        assert_eq!(w.experiment_end - w.experiment_start, 10 * MINUTE_MS);
    }

    #[test]
    fn retrospective_windows_start_at_the_scope_start() {
        let mut sc = scope();
        sc["startTimeIso"] = json!("2026-03-02T16:00:00Z");
        sc["endTimeIso"] = json!("2026-03-02T17:00:00Z");
        let s = settings(
            json!({"canaryConfigId": "c", "scopes": [sc], "canaryAnalysisIntervalMins": 20}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(!s.plan.real_time);
        assert_eq!(s.plan.intervals, 3);
        assert_eq!(s.plan.due_ms(3), 0, "no waits in retrospective mode");
        let start = 1_772_467_200_000;
        assert_eq!(s.plan.windows(2).experiment_start, start);
        assert_eq!(s.plan.windows(2).experiment_end, start + 40 * MINUTE_MS);
    }

    #[test]
    fn planning_errors_name_the_field() {
        let e = settings(json!({"canaryConfigId": "c", "scopes": [], "lifetimeDuration": "PT1H"}));
        assert_eq!(e, Err(PlanError::NoScopes));
        let e = settings(json!({"canaryConfigId": "c", "scopes": [scope()]}));
        assert_eq!(e, Err(PlanError::NoLifetime));
        let e = settings(
            json!({"canaryConfigId": "c", "scopes": [scope()], "lifetimeDuration": "an hour"}),
        )
        .map(|_| ())
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("canaryConfig.lifetimeDuration: "), "{e}");
        let e = settings(
            json!({"canaryConfigId": "c", "scopes": [scope()], "lifetimeDuration": "P1M"}),
        )
        .map(|_| ())
        .unwrap_err()
        .to_string();
        assert!(e.contains("days, hours, minutes or seconds"), "{e}");
        let e = settings(json!({"scopes": [scope()], "lifetimeDuration": "PT1H"}));
        assert_eq!(e, Err(PlanError::MissingConfigId));
    }

    #[test]
    fn days_count_as_24_hours_and_lifetime_hours_still_work() {
        let s = settings(
            json!({"canaryConfigId": "c", "scopes": [scope()], "lifetimeDuration": "P1DT1M"}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.plan.interval_mins, 24 * 60 + 1);
        let s = settings(json!({"canaryConfigId": "c", "scopes": [scope()], "lifetimeHours": 2}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.plan.interval_mins, 120);
    }

    #[test]
    fn scores_print_like_kotlin_doubles() {
        assert_eq!(score_text(80.0), "80.0");
        assert_eq!(score_text(66.67), "66.67");
    }
}
