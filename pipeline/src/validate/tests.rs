//! Tests of the plan-time rules, on hand-written pipelines and on the shared corpus.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::*;
use crate::model::parse_pipelines_named;

fn pipeline(v: Value) -> Pipeline {
    match v {
        Value::Object(m) => Pipeline::from_map(m),
        _ => panic!("test pipelines are objects"),
    }
}

/// Validates `v` after giving it an application and a name (unless it sets them itself).
fn diags(mut v: Value) -> Vec<Diagnostic> {
    if let Value::Object(m) = &mut v {
        m.entry("application").or_insert(json!("app"));
        m.entry("name").or_insert(json!("p"));
    }
    validate(&pipeline(v))
}

/// `(severity, summary, path)` of every diagnostic, for compact assertions.
fn brief(v: Value) -> Vec<(Severity, String, String)> {
    diags(v)
        .into_iter()
        .map(|d| (d.severity, d.summary, d.path.to_string()))
        .collect()
}

fn err(summary: &str, path: &str) -> (Severity, String, String) {
    (Severity::Error, summary.to_owned(), path.to_owned())
}

fn warn(summary: &str, path: &str) -> (Severity, String, String) {
    (Severity::Warning, summary.to_owned(), path.to_owned())
}

#[test]
fn a_good_pipeline_has_no_diagnostics() {
    let d = diags(json!({
        "application": "app", "name": "p",
        "parameterConfig": [{"name": "env", "default": "prod"}],
        "triggers": [{"type": "cron", "cronExpression": "0 0 10 ? * MON-FRI", "enabled": true},
                     {"type": "webhook", "source": "hook", "enabled": true}],
        "stages": [
            {"refId": 1, "type": "wait", "name": "w", "waitTime": 5},
            {"refId": "2", "type": "manualJudgment", "name": "Approve", "requisiteStageRefIds": [1],
             "judgmentInputs": [{"value": "deploy"}, {"value": "rollback"}]},
            {"refId": "3", "type": "evaluateVariables", "requisiteStageRefIds": ["2"],
             "stageEnabled": {"type": "expression", "expression": "#judgment('Approve') == 'deploy'"},
             "variables": [{"key": "env", "value": "${parameters['env']}"}]},
            {"refId": "4", "type": "kayentaCanary", "requisiteStageRefIds": ["3"],
             "canaryConfig": {"canaryConfigId": "c", "scopes": [{}], "scoreThresholds": {"marginal": "75", "pass": 95}}}
        ]
    }));
    assert!(d.is_empty(), "{d:#?}");
}

#[test]
fn identity_rules() {
    let d = validate(&pipeline(json!({"stages": []})));
    assert_eq!(
        d.iter()
            .map(|d| (d.severity, d.summary.as_str(), d.path.to_string()))
            .collect::<Vec<_>>(),
        [
            (
                Severity::Warning,
                "Missing Pipeline Field",
                "application".to_owned()
            ),
            (
                Severity::Warning,
                "Missing Pipeline Field",
                "name".to_owned()
            )
        ]
    );
    assert_eq!(
        brief(json!({"application": " ", "name": 3})),
        [
            err("Blank Pipeline Field", "application"),
            err("Invalid Field Type", "name")
        ]
    );
}

#[test]
fn ref_id_rules() {
    assert_eq!(
        brief(json!({"stages": [{"type": "wait"}, {"type": "wait", "refId": true}]})),
        [
            err("Missing Stage refId", "stages[0].refId"),
            err("Invalid Stage refId", "stages[1].refId")
        ]
    );
    assert_eq!(
        brief(json!({"stages": [{"type": "wait", "refId": 1}, {"type": "wait", "refId": "1"}]})),
        [err("Duplicate Stage refId", "stages[1].refId")],
        "1 and \"1\" are the same refId"
    );
    assert_eq!(
        brief(
            json!({"stages": [{"type": "wait", "refId": "a"}, {"type": "wait", "refId": "b", "requisiteStageRefIds": ["a", "zz", {}]}]})
        ),
        [
            err(
                "Unknown Stage Dependency",
                "stages[1].requisiteStageRefIds[1]"
            ),
            err(
                "Invalid Stage Dependency",
                "stages[1].requisiteStageRefIds[2]"
            )
        ]
    );
    assert_eq!(
        brief(json!({"stages": [{"type": "wait", "refId": "a", "requisiteStageRefIds": "a"}]})),
        [err("Invalid Field Type", "stages[0].requisiteStageRefIds")]
    );
}

#[test]
fn cycles_are_reported_with_their_ref_ids() {
    let d = diags(json!({"stages": [
        {"refId": "a", "type": "wait", "requisiteStageRefIds": ["c"]},
        {"refId": "b", "type": "wait", "requisiteStageRefIds": ["a"]},
        {"refId": "c", "type": "wait", "requisiteStageRefIds": ["b"]},
        {"refId": "d", "type": "wait"}
    ]}));
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].summary, "Stage Dependency Cycle");
    assert!(d[0].detail.contains("a -> b -> c -> a"), "{}", d[0].detail);
    assert_eq!(d[0].path.to_string(), "stages[0].requisiteStageRefIds");
}

#[test]
fn trigger_rules() {
    assert_eq!(
        brief(json!({"triggers": [
            {"type": "cron", "id": "x", "cronExpression": "0 0 * * *"},
            {"type": "webhook", "id": "x", "source": "s"},
            {"type": "jenkins", "master": "m"},
            {"type": "git", "source": "github", "project": "p", "repository": "r"},
            {"type": "docker", "registry": "ghcr.io", "repository": "o/r"},
            {"enabled": true},
            {"type": "webhook"}
        ]})),
        [
            err("Invalid Cron Expression", "triggers[0].cronExpression"),
            err("Duplicate Trigger", "triggers[1].id"),
            err("Missing Trigger Field", "triggers[2].job"),
            err("Missing Trigger Field", "triggers[3].slug"),
            err("Missing Trigger Field", "triggers[4].account"),
            err("Missing Trigger Type", "triggers[5].type"),
            warn("Webhook Trigger Without Source", "triggers[6].source"),
        ]
    );
    let cron = diags(json!({"triggers": [{"type": "cron", "cronExpression": "0 61 * * * ?"}]}));
    assert!(
        cron[0].detail.contains("minutes field"),
        "{}",
        cron[0].detail
    );
}

#[test]
fn parameter_rules() {
    assert_eq!(
        brief(json!({"parameterConfig": [{"name": "a"}, {"name": "a"}, {"label": "x"}]})),
        [
            err("Duplicate Parameter", "parameterConfig[1].name"),
            err("Missing Parameter Name", "parameterConfig[2].name")
        ]
    );
}

#[test]
fn expression_rules() {
    assert_eq!(
        brief(
            json!({"stages": [{"refId": "1", "type": "wait", "waitTime": "${ parameters['x'] ", "x": {"y": ["${a +}"]}}],
                     "notifications": [{"message": {"text": "${T(java.lang.System).exit(1)}"}}]})
        ),
        [
            err("Invalid Expression", "stages[0].waitTime"),
            err("Invalid Expression", "stages[0].x.y[0]"),
            warn("Unsupported Expression", "notifications[0].message.text"),
        ]
    );
    assert_eq!(
        brief(json!({"stages": [
            {"refId": "1", "type": "wait", "stageEnabled": {"type": "expression", "expression": "#stages('a') != null"},
             "waitTime": "${#toInt(#judgement('x'))} ${#nope()}"}
        ]})),
        [
            warn(
                "Unknown Expression Function",
                "stages[0].stageEnabled.expression"
            ),
            warn("Unknown Expression Function", "stages[0].waitTime"),
        ]
    );
    assert_eq!(
        brief(json!({"stages": [
            {"refId": "1", "type": "wait", "stageEnabled": {"type": "expression"}},
            {"refId": "2", "type": "wait", "stageEnabled": {"type": "expression", "expression": "a =="}},
            {"refId": "3", "type": "wait", "stageEnabled": {"type": "expression", "expression": "${ a == }"}},
            {"refId": "4", "type": "checkPreconditions", "preconditions": [
                {"type": "expression", "context": {"expression": "(x"}},
                {"type": "stageStatus", "context": {"stageName": "a"}},
                {"context": {}}
            ]}
        ]})),
        [
            warn(
                "Stage Condition Without Expression",
                "stages[0].stageEnabled"
            ),
            err("Invalid Expression", "stages[1].stageEnabled.expression"),
            err(
                "Invalid Expression",
                "stages[3].preconditions[0].context.expression"
            ),
            err(
                "Missing Precondition Field",
                "stages[3].preconditions[1].context.stageStatus"
            ),
            err(
                "Missing Precondition Type",
                "stages[3].preconditions[2].type"
            ),
            err("Invalid Expression", "stages[2].stageEnabled.expression"),
        ]
    );
}

#[test]
fn modelled_stage_rules() {
    assert_eq!(
        brief(json!({"stages": [
            {"refId": "1", "type": "manualJudgment", "judgmentInputs": ["Approve", {"value": ""}, {"value": "ok"}]},
            {"refId": "2", "type": "jenkins", "master": "m"},
            {"refId": "3", "type": "pipeline", "application": "a"},
            {"refId": "4", "type": "webhook"},
            {"refId": "5", "type": "kayentaCanary", "canaryConfig": {"canaryConfigName": "c", "scopes": [{}],
                "scoreThresholds": {"marginal": 80, "pass": "70"}}},
            {"refId": "6", "type": "kayentaCanary", "canaryConfig": {"scoreThresholds": {"marginal": -1, "pass": "lots"}}},
            {"refId": "7"}
        ]})),
        [
            err("Invalid Judgment Input", "stages[0].judgmentInputs[0]"),
            err("Invalid Judgment Input", "stages[0].judgmentInputs[1]"),
            err("Missing Stage Field", "stages[1].job"),
            err("Missing Stage Field", "stages[2].pipeline"),
            err("Missing Stage Field", "stages[3].url"),
            err(
                "Invalid Score Threshold",
                "stages[4].canaryConfig.scoreThresholds.marginal"
            ),
            err(
                "Missing Canary Config",
                "stages[5].canaryConfig.canaryConfigId"
            ),
            err("Missing Canary Scope", "stages[5].canaryConfig.scopes"),
            err(
                "Invalid Score Threshold",
                "stages[5].canaryConfig.scoreThresholds.marginal"
            ),
            err(
                "Invalid Score Threshold",
                "stages[5].canaryConfig.scoreThresholds.pass"
            ),
            err("Missing Stage Type", "stages[6].type"),
        ]
    );
}

#[test]
fn shape_errors_do_not_panic() {
    assert_eq!(
        brief(json!({"stages": {"a": 1}, "triggers": [1], "parameterConfig": "x"})),
        [
            err("Invalid Field Type", "stages"),
            err("Invalid Entry", "triggers[0]"),
            err("Invalid Field Type", "parameterConfig")
        ]
    );
}

#[test]
fn boundary_violations_are_separate() {
    let p = pipeline(json!({"application": "a", "name": "n", "stages": [
        {"refId": "1", "type": "deployManifest", "name": "Deploy"},
        {"refId": "2", "type": "wait"},
        {"refId": "3", "type": "kanikoBuild"}
    ]}));
    assert!(
        validate(&p).is_empty(),
        "validate does not judge infrastructure stages"
    );
    let b = boundary_violations(&p);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].path.to_string(), "stages[0].type");
    assert_eq!(b[0].summary, "Infrastructure Stage Not Allowed");
    assert!(
        b[0].detail
            .contains("\"deployManifest\" (Kubernetes / manifests)")
            && b[0].detail.contains("Terraform"),
        "{}",
        b[0].detail
    );
}

#[test]
fn json_path_display() {
    let p = JsonPath::root()
        .key("stages")
        .index(2)
        .key("a b")
        .key("x_1");
    assert_eq!(p.to_string(), "stages[2][\"a b\"].x_1");
    assert_eq!(JsonPath::root().to_string(), "(pipeline)");
}

fn corpus(sub: &str) -> Option<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpus")
        .join(sub);
    if !dir.exists() {
        eprintln!("skip: corpus not found at {}", dir.display());
        return None;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    Some(files)
}

/// Validates every pipeline of a file; returns diagnostics with `line:col` for messages.
fn validate_file(path: &Path) -> Vec<(Diagnostic, Option<Location>)> {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let is_array = text.trim_start().starts_with('[');
    let pipelines = parse_pipelines_named(&path.display().to_string(), &bytes)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    for (i, p) in pipelines.iter().enumerate() {
        for d in validate(p) {
            let mut full = if is_array {
                JsonPath::root().index(i)
            } else {
                JsonPath::root()
            };
            full.0.extend(d.path.0.iter().cloned());
            let loc = locate(&text, &full);
            out.push((d, loc));
        }
    }
    out
}

#[test]
fn every_real_export_parses_with_no_errors() {
    let Some(files) = corpus("pipelines") else {
        return;
    };
    assert!(files.len() >= 20);
    for file in files {
        let errors: Vec<String> = validate_file(&file)
            .into_iter()
            .filter(|(d, _)| d.severity == Severity::Error)
            .map(|(d, l)| format!("{:?}: {d}", l))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
}

#[test]
fn every_not_export_yields_a_clear_error() {
    let Some(files) = corpus("not-exports") else {
        return;
    };
    assert!(!files.is_empty());
    for file in files {
        let diags = validate_file(&file);
        let errors: Vec<_> = diags
            .iter()
            .filter(|(d, _)| d.severity == Severity::Error)
            .collect();
        assert!(
            !errors.is_empty(),
            "{} gave no error: {diags:#?}",
            file.display()
        );
        for (d, loc) in errors {
            assert!(!d.summary.is_empty() && !d.detail.is_empty(), "{d:?}");
            let loc =
                loc.unwrap_or_else(|| panic!("{}: no location for {}", file.display(), d.path));
            assert!(loc.line > 1, "{}: {d} located at {loc:?}", file.display());
        }
    }
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    const KEYS: &[&str] = &[
        "stages",
        "refId",
        "requisiteStageRefIds",
        "type",
        "name",
        "triggers",
        "cronExpression",
        "id",
        "judgmentInputs",
        "value",
        "canaryConfig",
        "scoreThresholds",
        "marginal",
        "pass",
        "scopes",
        "preconditions",
        "context",
        "expression",
        "stageEnabled",
        "parameterConfig",
        "master",
        "job",
        "notifications",
    ];
    const WORDS: &[&str] = &[
        "wait",
        "manualJudgment",
        "jenkins",
        "kayentaCanary",
        "checkPreconditions",
        "cron",
        "deploy",
        "1",
        "2",
        "${a}",
        "${",
        "0 0 * * * ?",
        "expression",
        "stageStatus",
        "",
        "L W #",
        "${#stage('x').y ?: z}",
    ];

    fn pipeline_like() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-5i64..200).prop_map(Value::from),
            proptest::sample::select(WORDS).prop_map(|w| Value::String(w.to_owned())),
        ];
        leaf.prop_recursive(5, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..6).prop_map(
                    |kv| {
                        Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                    }
                ),
            ]
        })
    }

    proptest! {
        #[test]
        fn validate_and_locate_never_panic(v in pipeline_like()) {
            if let Value::Object(map) = &v {
                let p = Pipeline::from_map(map.clone());
                let text = serde_json::to_string_pretty(&v).unwrap();
                for d in validate(&p).into_iter().chain(boundary_violations(&p)) {
                    prop_assert!(!d.summary.is_empty() && !d.detail.is_empty());
                    prop_assert!(locate(&text, &d.path).is_some());
                }
                let _ = crate::graph::StageGraph::from_pipeline(&p).map(|g| g.topological_order().map(|o| o.len()));
            }
        }

        #[test]
        fn locate_never_panics_on_text(text in "[\\[\\]{}\":, a-z0-9\\\\]{0,60}", idx in 0usize..3) {
            let _ = locate(&text, &JsonPath::root().key("a").index(idx));
        }
    }
}
