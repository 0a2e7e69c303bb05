//! Per-stage rules: type present, `stageEnabled`, and the fields each modelled stage type needs.

use serde_json::{Map, Value};

use super::{JsonPath, Sink, check_functions, compact, present, report_expression};
use crate::expr;
use crate::model::{Stage, json_kind};

pub(super) fn check_stage(stage: Stage<'_>, path: &JsonPath, sink: &mut Sink) {
    let raw = stage.raw();
    check_stage_enabled(raw, path, sink);
    let Some(kind) = stage.stage_type() else {
        sink.error(
            path.key("type"),
            "Missing Stage Type",
            "every stage needs a type such as \"wait\" or \"manualJudgment\"",
        );
        return;
    };
    match kind {
        "manualJudgment" => check_judgment_inputs(raw, path, sink),
        "jenkins" => require(raw, path, sink, kind, &["master", "job"]),
        "pipeline" => require(raw, path, sink, kind, &["application", "pipeline"]),
        "webhook" => require(raw, path, sink, kind, &["url"]),
        "kayentaCanary" => check_canary(raw, path, sink),
        "checkPreconditions" => check_preconditions(raw, path, sink),
        _ => {}
    }
}

fn require(
    raw: &Map<String, Value>,
    path: &JsonPath,
    sink: &mut Sink,
    kind: &str,
    fields: &[&str],
) {
    for field in fields {
        if !present(raw, field) {
            sink.error(
                path.key(field),
                "Missing Stage Field",
                format!("a {kind} stage needs {field}"),
            );
        }
    }
}

/// Parses a condition that Orca wraps in `${}` when it is not a template already.
fn check_condition(text: &str, path: JsonPath, sink: &mut Sink) {
    if text.contains("${") {
        return; // checked by the walk over every string
    }
    match expr::parse(text) {
        Ok(e) => check_functions(&e, &path, text, sink),
        Err(e) => report_expression(sink, path, text, &e),
    }
}

fn check_stage_enabled(raw: &Map<String, Value>, path: &JsonPath, sink: &mut Sink) {
    let Some(value) = raw.get("stageEnabled") else {
        return;
    };
    let path = path.key("stageEnabled");
    let Value::Object(obj) = value else {
        if !value.is_null() {
            sink.error(
                path,
                "Invalid Field Type",
                format!("stageEnabled must be an object, got {}", json_kind(value)),
            );
        }
        return;
    };
    match obj.get("expression") {
        Some(Value::String(e)) if !e.trim().is_empty() => check_condition(e, path.key("expression"), sink),
        _ => sink.warning(
            path,
            "Stage Condition Without Expression",
            "stageEnabled has no expression, so Spinnaker treats the stage as not optional and always runs it",
        ),
    }
}

fn check_judgment_inputs(raw: &Map<String, Value>, path: &JsonPath, sink: &mut Sink) {
    let path = path.key("judgmentInputs");
    match raw.get("judgmentInputs") {
        None | Some(Value::Null) => {}
        Some(Value::Array(inputs)) => {
            for (i, input) in inputs.iter().enumerate() {
                let ok = input
                    .as_object()
                    .and_then(|o| o.get("value"))
                    .and_then(Value::as_str)
                    .is_some_and(|v| !v.trim().is_empty());
                if !ok {
                    sink.error(
                        path.index(i),
                        "Invalid Judgment Input",
                        format!("judgment inputs must be objects with a non-empty value, like {{\"value\": \"approve\"}}; got {}", compact(input)),
                    );
                }
            }
        }
        Some(other) => sink.error(
            path,
            "Invalid Field Type",
            format!("judgmentInputs must be an array, got {}", json_kind(other)),
        ),
    }
}

/// A number, or a string holding one (Deck writes thresholds as strings).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn check_canary(raw: &Map<String, Value>, path: &JsonPath, sink: &mut Sink) {
    let path = path.key("canaryConfig");
    let Some(config) = raw.get("canaryConfig").and_then(Value::as_object) else {
        sink.error(
            path,
            "Missing Stage Field",
            "a kayentaCanary stage needs canaryConfig",
        );
        return;
    };
    if !present(config, "canaryConfigId") && !present(config, "canaryConfigName") {
        sink.error(
            path.key("canaryConfigId"),
            "Missing Canary Config",
            "canaryConfig needs canaryConfigId or canaryConfigName",
        );
    }
    if config
        .get("scopes")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        sink.error(
            path.key("scopes"),
            "Missing Canary Scope",
            "canaryConfig needs at least one scope; Orca refuses the stage without one",
        );
    }
    let Some(thresholds) = config.get("scoreThresholds") else {
        return;
    };
    let tpath = path.key("scoreThresholds");
    let Some(t) = thresholds.as_object() else {
        sink.error(
            tpath,
            "Invalid Field Type",
            format!(
                "scoreThresholds must be an object, got {}",
                json_kind(thresholds)
            ),
        );
        return;
    };
    let mut read = |key: &str| match t.get(key) {
        None | Some(Value::Null) => None,
        Some(v) => match number(v) {
            Some(n) if (0.0..=100.0).contains(&n) => Some(n),
            _ => {
                sink.error(
                    tpath.key(key),
                    "Invalid Score Threshold",
                    format!("{key} must be a number from 0 to 100, got {}", compact(v)),
                );
                None
            }
        },
    };
    let marginal = read("marginal");
    let pass = read("pass");
    if let (Some(m), Some(p)) = (marginal, pass)
        && m > p
    {
        sink.error(
            tpath.key("marginal"),
            "Invalid Score Threshold",
            format!("marginal ({m}) must not be above pass ({p}): 0 <= marginal <= pass <= 100"),
        );
    }
}

fn check_preconditions(raw: &Map<String, Value>, path: &JsonPath, sink: &mut Sink) {
    let path = path.key("preconditions");
    let preconditions = match raw.get("preconditions") {
        None | Some(Value::Null) => return,
        Some(Value::Array(p)) => p,
        Some(other) => {
            sink.error(
                path,
                "Invalid Field Type",
                format!("preconditions must be an array, got {}", json_kind(other)),
            );
            return;
        }
    };
    for (i, p) in preconditions.iter().enumerate() {
        let ppath = path.index(i);
        let Some(obj) = p.as_object() else {
            sink.error(
                ppath,
                "Invalid Precondition",
                format!("each precondition must be an object, got {}", json_kind(p)),
            );
            continue;
        };
        let context = obj.get("context").and_then(Value::as_object);
        let cpath = ppath.key("context");
        match obj.get("type").and_then(Value::as_str) {
            Some("expression") => {
                if let Some(Value::String(e)) = context.and_then(|c| c.get("expression")) {
                    check_condition(e, cpath.key("expression"), sink);
                }
            }
            Some("stageStatus") => {
                for field in ["stageName", "stageStatus"] {
                    if !context.is_some_and(|c| present(c, field)) {
                        sink.error(
                            cpath.key(field),
                            "Missing Precondition Field",
                            format!("a stageStatus precondition needs context.{field}"),
                        );
                    }
                }
            }
            Some(_) => {}
            None => sink.error(
                ppath.key("type"),
                "Missing Precondition Type",
                "each precondition needs a type: expression, stageStatus or clusterSize",
            ),
        }
    }
}
