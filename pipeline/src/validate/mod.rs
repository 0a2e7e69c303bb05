//! Plan-time rules for a pipeline, returning [`Diagnostic`]s with a [`JsonPath`] to the field.
//!
//! The same rules serve the provider (paths become HCL attribute paths), the CLI (paths become
//! `file:line:col` through [`locate`]) and the engine. They are pure and never stop at the first
//! problem. Infrastructure stages are not judged here: [`boundary_violations`] lists them so the
//! caller decides (the provider refuses them, the engine stores them).
//!
//! Rules are calibrated on real exports: every file of `corpus/pipelines` passes with no error,
//! and every file of `corpus/not-exports` fails.

mod locate;
mod stages;

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde_json::{Map, Value};

use crate::cron::CronExpression;
use crate::expr::{self, ExprError};
use crate::graph::StageGraph;
use crate::model::{Pipeline, json_kind, ref_id_string};
use crate::stage_types;

pub use locate::{Location, locate};

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The pipeline is wrong; plan or validation must fail.
    Error,
    /// Suspicious but accepted.
    Warning,
}

/// One step of a [`JsonPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// An object key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// Where in the pipeline JSON a problem is, e.g. `stages[2].requisiteStageRefIds[0]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct JsonPath(pub Vec<PathStep>);

impl JsonPath {
    /// The pipeline itself.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// This path followed by an object key.
    pub fn key(&self, key: &str) -> Self {
        let mut steps = self.0.clone();
        steps.push(PathStep::Key(key.to_owned()));
        Self(steps)
    }

    /// This path followed by an array index.
    pub fn index(&self, index: usize) -> Self {
        let mut steps = self.0.clone();
        steps.push(PathStep::Index(index));
        Self(steps)
    }

    /// The steps.
    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(pipeline)");
        }
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Index(n) => write!(f, "[{n}]")?,
                PathStep::Key(k)
                    if !k.is_empty()
                        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
                {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                PathStep::Key(k) => write!(f, "[{}]", Value::String(k.clone()))?,
            }
        }
        Ok(())
    }
}

/// A problem found by [`validate`] or [`boundary_violations`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Short, Title Case.
    pub summary: String,
    /// What is wrong and what to do.
    pub detail: String,
    /// The field at fault.
    pub path: JsonPath,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{level}: {}: {}: {}",
            self.path, self.summary, self.detail
        )
    }
}

/// Collects diagnostics.
#[derive(Default)]
pub(crate) struct Sink(Vec<Diagnostic>);

impl Sink {
    pub(crate) fn error(&mut self, path: JsonPath, summary: &str, detail: impl Into<String>) {
        self.push(Severity::Error, path, summary, detail.into());
    }
    pub(crate) fn warning(&mut self, path: JsonPath, summary: &str, detail: impl Into<String>) {
        self.push(Severity::Warning, path, summary, detail.into());
    }
    fn push(&mut self, severity: Severity, path: JsonPath, summary: &str, detail: String) {
        self.0.push(Diagnostic {
            severity,
            summary: summary.to_owned(),
            detail,
            path,
        });
    }
}

/// True when any diagnostic is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}

/// Runs every plan-time rule on a pipeline.
pub fn validate(pipeline: &Pipeline) -> Vec<Diagnostic> {
    let mut sink = Sink::default();
    let raw = pipeline.raw();
    for key in ["stages", "triggers", "parameterConfig", "notifications"] {
        array_of_objects(raw, key, &mut sink);
    }
    check_identity(raw, &mut sink);
    check_stage_graph(pipeline, &mut sink);
    for stage in pipeline.stages() {
        stages::check_stage(
            stage,
            &JsonPath::root().key("stages").index(stage.index()),
            &mut sink,
        );
    }
    check_triggers(pipeline, &mut sink);
    check_parameters(pipeline, &mut sink);
    for (key, value) in raw {
        check_expressions(value, &JsonPath::root().key(key), &mut sink);
    }
    sink.0
}

/// One error per stage whose type touches cloud infrastructure (see [`stage_types`]).
pub fn boundary_violations(pipeline: &Pipeline) -> Vec<Diagnostic> {
    let mut sink = Sink::default();
    for stage in pipeline.stages() {
        let Some(kind) = stage.stage_type() else {
            continue;
        };
        let Some(group) = stage_types::infrastructure_group(kind) else {
            continue;
        };
        let name = stage.name().unwrap_or("(unnamed)");
        let ref_id = stage.ref_id().unwrap_or_else(|| "?".into());
        sink.error(
            JsonPath::root().key("stages").index(stage.index()).key("type"),
            "Infrastructure Stage Not Allowed",
            format!(
                "stage {name:?} (refId {ref_id}) has type {kind:?} ({}), which changes cloud infrastructure. \
                 Server groups, load balancers and other cloud resources belong to Terraform resources; \
                 remove this stage from the configuration (stages created in Spinnaker are kept as unmanaged stages).",
                group.description()
            ),
        );
    }
    sink.0
}

fn array_of_objects(raw: &Map<String, Value>, key: &str, sink: &mut Sink) {
    let path = JsonPath::root().key(key);
    match raw.get(key) {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if !item.is_object() {
                    sink.error(
                        path.index(i),
                        "Invalid Entry",
                        format!(
                            "every entry of {key} must be an object, got {}",
                            json_kind(item)
                        ),
                    );
                }
            }
        }
        Some(other) => sink.error(
            path,
            "Invalid Field Type",
            format!("{key} must be an array, got {}", json_kind(other)),
        ),
    }
}

/// Front50 refuses to save a pipeline whose `name` or `application` is blank. Exports often
/// leave them out (the importer supplies them), so absence is only a warning.
fn check_identity(raw: &Map<String, Value>, sink: &mut Sink) {
    for key in ["application", "name"] {
        let path = JsonPath::root().key(key);
        match raw.get(key) {
            None | Some(Value::Null) => sink.warning(
                path,
                "Missing Pipeline Field",
                format!("the pipeline has no {key}; Front50 refuses to save it until {key} is set"),
            ),
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            Some(Value::String(_)) => sink.error(
                path,
                "Blank Pipeline Field",
                format!("{key} must not be blank; Front50 refuses to save it"),
            ),
            Some(other) => sink.error(
                path,
                "Invalid Field Type",
                format!("{key} must be a string, got {}", json_kind(other)),
            ),
        }
    }
}

fn check_stage_graph(pipeline: &Pipeline, sink: &mut Sink) {
    let stages = pipeline.stages();
    let all_ids: HashSet<String> = stages.iter().filter_map(|s| s.ref_id()).collect();
    let mut first_use: HashMap<String, usize> = HashMap::new();
    for stage in &stages {
        let path = JsonPath::root().key("stages").index(stage.index());
        match stage.get("refId") {
            None | Some(Value::Null) => sink.error(
                path.key("refId"),
                "Missing Stage refId",
                format!(
                    "stage {:?} has no refId; every stage needs a unique refId so that requisiteStageRefIds can refer to it",
                    stage.name().unwrap_or("(unnamed)")
                ),
            ),
            Some(v) => match ref_id_string(v) {
                Some(id) if !id.is_empty() => {
                    if let Some(&first) = first_use.get(&id) {
                        sink.error(
                            path.key("refId"),
                            "Duplicate Stage refId",
                            format!("refId {id:?} is already used by stages[{first}]; refIds must be unique"),
                        );
                    } else {
                        first_use.insert(id, stage.index());
                    }
                }
                _ => sink.error(
                    path.key("refId"),
                    "Invalid Stage refId",
                    format!("refId must be a non-empty string or a number, got {}", compact(v)),
                ),
            },
        }
        match stage.get("requisiteStageRefIds") {
            None | Some(Value::Null) => {}
            Some(Value::Array(parents)) => {
                for (j, parent) in parents.iter().enumerate() {
                    let ppath = path.key("requisiteStageRefIds").index(j);
                    match ref_id_string(parent) {
                        Some(p) if all_ids.contains(&p) => {}
                        Some(p) => sink.error(
                            ppath,
                            "Unknown Stage Dependency",
                            format!("no stage has refId {p:?}; requisiteStageRefIds must name refIds of stages in this pipeline"),
                        ),
                        None => sink.error(
                            ppath,
                            "Invalid Stage Dependency",
                            format!("entries must be refIds (strings or numbers), got {}", compact(parent)),
                        ),
                    }
                }
            }
            Some(other) => sink.error(
                path.key("requisiteStageRefIds"),
                "Invalid Field Type",
                format!(
                    "requisiteStageRefIds must be an array of refIds, got {}",
                    json_kind(other)
                ),
            ),
        }
    }
    // Cycles, over the stages whose refIds and parents are valid.
    let nodes: Vec<(String, Vec<String>)> = stages
        .iter()
        .filter_map(|s| {
            let id = s.ref_id()?;
            (first_use.get(&id) == Some(&s.index())).then_some(())?;
            let parents = s
                .requisite_stage_ref_ids()
                .into_iter()
                .filter(|p| first_use.contains_key(p))
                .collect();
            Some((id, parents))
        })
        .collect();
    if let Ok(graph) = StageGraph::new(nodes)
        && let Some(cycle) = graph.find_cycle()
    {
        let start = cycle
            .first()
            .and_then(|id| first_use.get(id))
            .copied()
            .unwrap_or(0);
        sink.error(
            JsonPath::root()
                .key("stages")
                .index(start)
                .key("requisiteStageRefIds"),
            "Stage Dependency Cycle",
            format!(
                "stages {} depend on each other in a cycle; remove one of the dependencies",
                cycle.join(" -> ")
            ),
        );
    }
}

/// Fields a trigger type needs before Echo will ever fire it.
fn required_trigger_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "jenkins" | "travis" | "wercker" => &["master", "job"],
        "concourse" => &["master", "team", "project", "jobName"],
        "git" => &["source", "project", "slug"],
        "docker" => &["account", "repository"],
        "pipeline" => &["application", "pipeline"],
        "pubsub" => &["pubsubSystem", "subscriptionName"],
        "cron" => &["cronExpression"],
        _ => &[],
    }
}

pub(crate) fn present(map: &Map<String, Value>, key: &str) -> bool {
    match map.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    }
}

fn check_triggers(pipeline: &Pipeline, sink: &mut Sink) {
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut names: HashMap<String, usize> = HashMap::new();
    for trigger in pipeline.triggers() {
        let path = JsonPath::root().key("triggers").index(trigger.index());
        let raw = trigger.raw();
        for (field, seen) in [("id", &mut ids), ("name", &mut names)] {
            let Some(v) = raw.get(field).and_then(ref_id_string) else {
                continue;
            };
            if let Some(&first) = seen.get(&v) {
                sink.error(
                    path.key(field),
                    "Duplicate Trigger",
                    format!("trigger {field} {v:?} is already used by triggers[{first}]; trigger {field}s must be unique"),
                );
            } else {
                seen.insert(v, trigger.index());
            }
        }
        let Some(kind) = trigger.trigger_type() else {
            sink.error(
                path.key("type"),
                "Missing Trigger Type",
                "every trigger needs a type such as \"cron\", \"webhook\" or \"git\"",
            );
            continue;
        };
        for field in required_trigger_fields(kind) {
            if !present(raw, field) {
                sink.error(
                    path.key(field),
                    "Missing Trigger Field",
                    format!(
                        "a {kind} trigger needs {field}; without it the trigger can never fire"
                    ),
                );
            }
        }
        if kind == "webhook" && !present(raw, "source") {
            sink.warning(
                path.key("source"),
                "Webhook Trigger Without Source",
                "the trigger fires only for POST /webhooks/webhook/<source>; set source",
            );
        }
        if kind == "cron"
            && let Some(expression) = trigger.cron_expression()
            && let Err(e) = CronExpression::parse_in(
                expression,
                trigger.id().unwrap_or(""),
                jiff::tz::TimeZone::UTC,
            )
        {
            sink.error(
                path.key("cronExpression"),
                "Invalid Cron Expression",
                e.to_string(),
            );
        }
    }
}

fn check_parameters(pipeline: &Pipeline, sink: &mut Sink) {
    let mut names: HashMap<&str, usize> = HashMap::new();
    for param in pipeline.parameter_config() {
        let path = JsonPath::root().key("parameterConfig").index(param.index());
        match param.name().map(str::trim) {
            None | Some("") => sink.error(
                path.key("name"),
                "Missing Parameter Name",
                "every parameterConfig entry needs a name",
            ),
            Some(_) => {
                let name = param.name().unwrap_or_default();
                if let Some(&first) = names.get(name) {
                    sink.error(
                        path.key("name"),
                        "Duplicate Parameter",
                        format!("parameter {name:?} is already defined by parameterConfig[{first}]; parameter names must be unique"),
                    );
                } else {
                    names.insert(name, param.index());
                }
            }
        }
    }
}

/// Reports an expression problem: syntax errors are errors, constructs outside the supported
/// subset are warnings (Spinnaker may still evaluate them).
pub(crate) fn report_expression(sink: &mut Sink, path: JsonPath, text: &str, err: &ExprError) {
    match err {
        ExprError::Unsupported { .. } | ExprError::UnknownFunction { .. } => sink.warning(
            path,
            "Unsupported Expression",
            format!("{err} in {text:?}; Spinnaker may evaluate it, spinhcl's engine will not"),
        ),
        _ => sink.error(path, "Invalid Expression", format!("{err} in {text:?}")),
    }
}

/// Warns about `#name(...)` calls that Spinnaker does not know (typos such as `#stages`).
pub(crate) fn check_functions(expr: &expr::Expr, path: &JsonPath, text: &str, sink: &mut Sink) {
    for name in expr.functions_called() {
        if !expr::is_known_function(name) {
            sink.warning(
                path.clone(),
                "Unknown Expression Function",
                format!("#{name}(...) in {text:?} is not a Spinnaker expression function; check the spelling"),
            );
        }
    }
}

fn check_expressions(value: &Value, path: &JsonPath, sink: &mut Sink) {
    match value {
        Value::String(s) if s.contains("${") => match expr::parse_template(s) {
            Err(e) => report_expression(sink, path.clone(), s, &e),
            Ok(parts) => {
                for part in &parts {
                    if let expr::TemplatePart::Expression { expr, .. } = part {
                        check_functions(expr, path, s, sink);
                    }
                }
            }
        },
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_expressions(item, &path.index(i), sink);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                check_expressions(v, &path.key(k), sink);
            }
        }
        _ => {}
    }
}

/// A short JSON rendering of a value for messages.
pub(crate) fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests;
