//! `checkPreconditions`: one synthetic *before* child per precondition (child context = parent
//! context + the precondition, so its `failPipeline` wins), and one check task per child:
//! `expression` (true passes), `stageStatus` (a named stage has a given status), `clusterSize`
//! (counts a cluster's server groups per region through a [`ClusterLookup`]; without one it fails
//! clearly).

use std::sync::Arc;

use futures::future::BoxFuture;

use super::{StageDefinition, SyntheticStage, TaskResult, TaskRun, TaskSpec, TaskStep};
use crate::expressions::wrap;
use crate::model::StageExecution;
use serde_json::Value;

/// The `checkPreconditions` stage (both the parent and its per-precondition children).
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckPreconditions;

impl StageDefinition for CheckPreconditions {
    fn stage_type(&self) -> &'static str {
        "checkPreconditions"
    }

    fn tasks(&self, stage: &StageExecution) -> Vec<TaskSpec> {
        if stage.context.contains_key("preconditionType") {
            vec![TaskSpec::new(
                "checkPrecondition",
                "com.netflix.spinnaker.orca.pipeline.tasks.PreconditionTask",
            )]
        } else {
            Vec::new()
        }
    }

    fn before_stages(&self, stage: &StageExecution) -> Vec<SyntheticStage> {
        if stage.context.contains_key("preconditionType") {
            return Vec::new();
        }
        let preconditions = stage
            .context
            .get("preconditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        preconditions
            .into_iter()
            .map(|precondition| {
                let mut context = stage.context.clone();
                context.remove("preconditions");
                context.remove("stageEnabled");
                let kind = precondition
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("expression")
                    .to_owned();
                if let Value::Object(fields) = precondition {
                    for (k, v) in fields {
                        context.insert(k, v);
                    }
                }
                context.insert("preconditionType".to_owned(), Value::from(kind.clone()));
                SyntheticStage {
                    stage_type: "checkPreconditions".to_owned(),
                    name: format!("Check precondition ({kind})"),
                    context,
                }
            })
            .collect()
    }

    fn run(&self, run: &TaskRun<'_>) -> TaskStep {
        let inner = run.get("context").and_then(Value::as_object);
        let field = |key: &str| inner.and_then(|c| c.get(key));
        match run.text("preconditionType").unwrap_or("expression") {
            "expression" => expression(run, field("expression")),
            "stageStatus" => stage_status(run, field("stageName"), field("stageStatus")),
            "clusterSize" => TaskResult::terminal(
                "clusterSize preconditions count server groups in AWS, and this server has no AWS account: add an [aws] section (region, account) to the server configuration",
            )
            .into(),
            other => TaskResult::terminal(format!(
                "unknown precondition type '{other}'; expected expression, stageStatus or clusterSize"
            ))
            .into(),
        }
    }
}

fn expression(run: &TaskRun<'_>, expression: Option<&Value>) -> TaskStep {
    let outcome: Result<String, String> = match expression {
        None | Some(Value::Null) => Ok("false".to_owned()),
        Some(Value::Bool(b)) => Ok(b.to_string()),
        Some(Value::String(text)) if !text.contains("${") && is_boolean_text(text) => {
            Ok(text.clone())
        }
        Some(Value::String(text)) => {
            let scope = crate::expressions::Scope::new(run.execution, run.stage);
            run.expressions
                .evaluate_template(&wrap(text), &scope)
                .map(|v| match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
                .map_err(|e| e.to_string())
        }
        Some(other) => Ok(other.to_string()),
    };
    let mut inner = run
        .get("context")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    match outcome {
        Ok(text) => {
            inner.insert("expressionResult".to_owned(), Value::from(text.clone()));
            let result = if text.trim().eq_ignore_ascii_case("true") {
                TaskResult::succeeded()
            } else {
                let message = inner
                    .get("failureMessage")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("Expression precondition evaluated to {text}"));
                TaskResult::terminal(message)
            };
            result.context("context", Value::Object(inner)).into()
        }
        Err(error) => TaskResult::terminal(format!("Expression precondition failed: {error}"))
            .context("context", Value::Object(inner))
            .into(),
    }
}

fn is_boolean_text(text: &str) -> bool {
    text.trim().eq_ignore_ascii_case("true") || text.trim().eq_ignore_ascii_case("false")
}

fn stage_status(run: &TaskRun<'_>, name: Option<&Value>, status: Option<&Value>) -> TaskStep {
    let (Some(name), Some(expected)) =
        (name.and_then(Value::as_str), status.and_then(Value::as_str))
    else {
        return TaskResult::terminal(
            "stageStatus precondition needs context.stageName and context.stageStatus",
        )
        .into();
    };
    let Some(stage) = run.execution.stages.iter().find(|s| s.name == name) else {
        return TaskResult::terminal(format!(
            "stageStatus precondition: no stage named '{name}' in this execution"
        ))
        .into();
    };
    if stage.status.as_str() == expected {
        TaskResult::succeeded().into()
    } else {
        TaskResult::terminal(format!(
            "stageStatus precondition: stage '{name}' is {}, expected {expected}",
            stage.status
        ))
        .into()
    }
}

/// A server group of a cluster as the cloud provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerGroupSummary {
    /// The server group name, e.g. `shop-prod-v003`.
    pub name: String,
    /// Whether Spinnaker counts it enabled (on AWS: `AddToLoadBalancer` not suspended).
    pub enabled: bool,
}

/// Finds a cluster's server groups in one region of one account; the engine implements it
/// against AWS. Errors are messages for the stage.
pub trait ClusterLookup: Send + Sync {
    /// The server groups of `cluster` in `region` of `account`.
    fn server_groups(
        &self,
        account: &str,
        region: &str,
        cluster: &str,
    ) -> BoxFuture<'static, Result<Vec<ServerGroupSummary>, String>>;
}

/// `checkPreconditions` whose `clusterSize` checks go through a [`ClusterLookup`]; everything
/// else is [`CheckPreconditions`]. Register it in place of the plain definition.
#[derive(Clone)]
pub struct CheckPreconditionsWithClusters {
    clusters: Arc<dyn ClusterLookup>,
}

impl CheckPreconditionsWithClusters {
    /// The definition using `clusters` for `clusterSize`.
    pub fn new(clusters: Arc<dyn ClusterLookup>) -> Self {
        Self { clusters }
    }
}

impl StageDefinition for CheckPreconditionsWithClusters {
    fn stage_type(&self) -> &'static str {
        CheckPreconditions.stage_type()
    }

    fn tasks(&self, stage: &StageExecution) -> Vec<TaskSpec> {
        CheckPreconditions.tasks(stage)
    }

    fn before_stages(&self, stage: &StageExecution) -> Vec<SyntheticStage> {
        CheckPreconditions.before_stages(stage)
    }

    fn run(&self, run: &TaskRun<'_>) -> TaskStep {
        if run.text("preconditionType") == Some("clusterSize") {
            cluster_size(run, Arc::clone(&self.clusters))
        } else {
            CheckPreconditions.run(run)
        }
    }
}

/// A `clusterSize` comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparison {
    fn parse(text: &str) -> Option<Self> {
        Some(match text.trim() {
            "==" => Self::Eq,
            "!=" => Self::Ne,
            "<" => Self::Lt,
            "<=" => Self::Le,
            ">" => Self::Gt,
            ">=" => Self::Ge,
            _ => return None,
        })
    }

    fn holds(self, actual: i64, expected: i64) -> bool {
        match self {
            Self::Eq => actual == expected,
            Self::Ne => actual != expected,
            Self::Lt => actual < expected,
            Self::Le => actual <= expected,
            Self::Gt => actual > expected,
            Self::Ge => actual >= expected,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }
}

/// The checked `clusterSize` settings: the precondition's `context`, falling back to the stage
/// context for `cluster`, `regions` and `credentials` as Orca does.
struct ClusterSize {
    cluster: String,
    account: String,
    regions: Vec<String>,
    comparison: Comparison,
    expected: i64,
    only_enabled: bool,
}

fn cluster_size_settings(run: &TaskRun<'_>) -> Result<ClusterSize, String> {
    let inner = run.get("context").and_then(Value::as_object);
    let field = |key: &str| {
        inner
            .and_then(|c| c.get(key))
            .filter(|v| !v.is_null())
            .or_else(|| run.get(key))
    };
    let text = |key: &str| {
        field(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let cluster = text("cluster").ok_or("clusterSize precondition needs context.cluster")?;
    let account = text("credentials")
        .ok_or("clusterSize precondition needs context.credentials (the AWS account name)")?;
    let regions: Vec<String> = match field("regions") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => s.split(',').map(|r| r.trim().to_owned()).collect(),
        _ => Vec::new(),
    };
    let regions: Vec<String> = regions.into_iter().filter(|r| !r.is_empty()).collect();
    if regions.is_empty() {
        return Err("clusterSize precondition needs context.regions".into());
    }
    let comparison_text = text("comparison").unwrap_or_else(|| "==".to_owned());
    let comparison = Comparison::parse(&comparison_text).ok_or_else(|| {
        format!(
            "clusterSize precondition: unknown comparison '{comparison_text}'; expected ==, !=, <, <=, > or >="
        )
    })?;
    let expected = match field("expected") {
        None => 1,
        Some(v) => super::number(Some(v))
            .filter(|n| n.fract() == 0.0)
            .map(|n| n as i64)
            .ok_or_else(|| {
                format!("clusterSize precondition: expected must be a whole number, got {v}")
            })?,
    };
    let only_enabled = super::flag(field("onlyEnabledServerGroups")).unwrap_or(false);
    Ok(ClusterSize {
        cluster,
        account,
        regions,
        comparison,
        expected,
        only_enabled,
    })
}

fn cluster_size(run: &TaskRun<'_>, clusters: Arc<dyn ClusterLookup>) -> TaskStep {
    let settings = match cluster_size_settings(run) {
        Ok(s) => s,
        Err(message) => return TaskResult::terminal(message).into(),
    };
    TaskStep::Io(Box::pin(async move {
        let mut failures = Vec::new();
        let mut counts = serde_json::Map::new();
        for region in &settings.regions {
            let groups = match clusters
                .server_groups(&settings.account, region, &settings.cluster)
                .await
            {
                Ok(g) => g,
                Err(e) => {
                    return TaskResult::terminal(format!(
                        "clusterSize precondition: cannot read cluster {} in {region} of account {}: {e}",
                        settings.cluster, settings.account
                    ));
                }
            };
            let actual = groups
                .iter()
                .filter(|g| !settings.only_enabled || g.enabled)
                .count();
            let actual = i64::try_from(actual).unwrap_or(i64::MAX);
            counts.insert(region.clone(), Value::from(actual));
            if !settings.comparison.holds(actual, settings.expected) {
                failures.push(format!("{region} has {actual}"));
            }
        }
        if failures.is_empty() {
            TaskResult::succeeded().context("clusterSizes", Value::Object(counts))
        } else {
            let which = if settings.only_enabled {
                "enabled server groups"
            } else {
                "server groups"
            };
            TaskResult::terminal(format!(
                "Precondition check failed: cluster {} should have {} {} {which}, but {}",
                settings.cluster,
                settings.comparison.symbol(),
                settings.expected,
                failures.join(", ")
            ))
            .context("clusterSizes", Value::Object(counts))
        }
    }))
}
