//! Expressions taken from the real pipelines in `../shared/corpus/pipelines`, evaluated against
//! a realistic execution (trigger, parameters, an Evaluate Variables stage, a judgment).

use crate::support::{Harness, judgment};
use execution::{ExecutionStatus, ExpressionEngine, Scope, Spel};
use serde_json::{Value, json};
use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/pipelines")
}

fn collect(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) if s.contains("${") => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect(v, out)),
        _ => {}
    }
}

async fn realistic() -> (Harness, String) {
    let mut h = Harness::new();
    let config = json!({"application": "shop", "name": "release", "id": "cfg", "stages": [
        {"refId": "1", "type": "evaluateVariables", "name": "Evaluate Variables", "variables": [
            {"key": "BRANCH", "value": "${trigger.branch ?: \"master\" }"},
            {"key": "REVISION", "value": "${trigger.hash ?: \"latest\" }"},
            {"key": "commit_id", "value": "${trigger['hash'].substring(0, 7)}"},
            {"key": "NAME_VAR", "value": "shop-${trigger['tag']}"}]},
        judgment("2", "Manual Judgment", &["1"]),
        {"refId": "3", "type": "wait", "name": "Probe", "waitTime": 600, "requisiteStageRefIds": ["2"]}]});
    let trigger = json!({"type": "webhook", "tag": "v2.3.4", "hash": "0123456789abcdef", "branch": "release/2.3",
        "id": "trigger-1", "properties": {"repository": "acme/shop", "tag": "v2.3.4"}, "parameters": {"jiraid": "OPS-12", "gitrepo": "acme/shop", "successRate": "99.5", "account": "prod"}});
    let id = h.run_with(config, Some(trigger)).await;
    h.judge(&id, "Manual Judgment", "continue", Some("go"))
        .await;
    assert_eq!(h.stage_status(&id, "Probe"), ExecutionStatus::Running);
    (h, id)
}

#[tokio::test]
async fn corpus_expressions_evaluate_against_a_realistic_execution() {
    let dir = corpus_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipping corpus expressions: {} not found", dir.display());
        return;
    };
    let mut expressions = Vec::new();
    for entry in entries.flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        if let Ok(value) = serde_json::from_str::<Value>(&text) {
            collect(&value, &mut expressions);
        }
    }
    assert!(!expressions.is_empty(), "the corpus has expressions");
    let (h, id) = realistic().await;
    let execution = h.execution(&id);
    let probe = execution
        .stages
        .iter()
        .find(|s| s.name == "Probe")
        .expect("probe");
    let scope = Scope::new(execution, probe);
    let mut failures = Vec::new();
    for expression in &expressions {
        if let Err(error) = Spel.evaluate_template(expression, &scope) {
            failures.push(format!("{expression}: {error}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus expressions failed:\n{}",
        failures.len(),
        expressions.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn corpus_expression_values() {
    let (h, id) = realistic().await;
    let execution = h.execution(&id);
    let probe = execution
        .stages
        .iter()
        .find(|s| s.name == "Probe")
        .expect("probe");
    let scope = Scope::new(execution, probe);
    let eval = |e: &str| {
        Spel.evaluate_template(e, &scope)
            .unwrap_or_else(|err| json!(format!("ERROR {err}")))
    };
    assert_eq!(eval("${ trigger['tag'] }"), json!("v2.3.4"));
    assert_eq!(
        eval("${#stage('Evaluate Variables').outputs.BRANCH}"),
        json!("release/2.3")
    );
    assert_eq!(
        eval("${#stage('Evaluate Variables').outputs.REVISION}"),
        json!("0123456789abcdef")
    );
    assert_eq!(
        eval("${ #stage('Manual Judgment')['status'].toString() == 'SUCCEEDED'}"),
        json!(true)
    );
    assert_eq!(
        eval("${commit_id}"),
        json!("0123456"),
        "ancestor outputs are bare names"
    );
    assert_eq!(eval("${NAME_VAR}"), json!("shop-v2.3.4"));
    assert_eq!(eval("${parameters['jiraid']}"), json!("OPS-12"));
    assert_eq!(eval("${#judgment('Manual Judgment')}"), json!("go"));
    assert_eq!(eval("${#judgement('Manual Judgment')}"), json!("go"));
    assert_eq!(eval("${#stageExists('Nope')}"), json!(false));
    assert_eq!(eval("${#stageByRefId('2').name}"), json!("Manual Judgment"));
    assert_eq!(eval("${#currentStage().name}"), json!("Probe"));
    assert_eq!(eval("${#currentUser()}"), json!("anonymous"));
    assert_eq!(eval("${execution.application}"), json!("shop"));
    assert!(
        Spel.evaluate_template("${#stage('Nope').status}", &scope)
            .is_err()
    );
}
