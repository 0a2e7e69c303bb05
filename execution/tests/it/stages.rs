//! Stage-type scenarios that need no network: evaluateVariables, checkPreconditions, pipeline.

use crate::support::{Harness, judgment, pipeline, wait};
use execution::ExecutionStatus::*;
use execution::{StageRegistry, Store};
use serde_json::json;
use std::collections::HashMap;

#[tokio::test]
async fn evaluate_variables_in_order_and_visible_downstream() {
    let mut h = Harness::new();
    let variables = json!({"refId": "1", "name": "Vars", "type": "evaluateVariables", "variables": [
        {"key": "base", "value": "${parameters.count}"},
        {"key": "doubled", "value": "${base * 2}"},
        {"key": "label", "value": "${'build-' + doubled}"},
    ]});
    let mut next = wait("2", "Wait doubled", 0, &["1"]);
    next["waitTime"] = json!("${doubled}");
    let config = json!({"application": "app", "name": "vars", "stages": [variables, next],
        "parameterConfig": [{"name": "count", "default": 3}]});
    let id = h.run(config).await;
    let vars = h.stage(&id, "Vars");
    assert_eq!(vars.outputs["doubled"], json!(6));
    assert_eq!(vars.outputs["label"], json!("build-6"));
    assert_eq!(
        vars.context["variables"][1]["sourceValue"],
        json!("{base * 2}")
    );
    assert_eq!(h.stage(&id, "Wait doubled").context["waitTime"], json!(6));
    assert_eq!(h.status(&id), Running);
    h.advance(6_000).await;
    assert_eq!(h.status(&id), Succeeded);
    assert_eq!(
        h.execution(&id).trigger["parameters"]["count"],
        json!(3),
        "parameter default filled in"
    );
}

#[tokio::test]
async fn check_preconditions_expression_and_stage_status() {
    let mut h = Harness::new();
    let check = json!({"refId": "2", "name": "Check", "type": "checkPreconditions", "requisiteStageRefIds": ["1"],
    "preconditions": [
        {"type": "expression", "context": {"expression": "${parameters.env == 'prod'}"}, "failPipeline": true},
        {"type": "stageStatus", "context": {"stageName": "First", "stageStatus": "SUCCEEDED"}, "failPipeline": true},
    ]});
    let config =
        json!({"application": "app", "name": "pre", "stages": [wait("1", "First", 0, &[]), check]});
    let ok = h
        .run_with(config.clone(), Some(json!({"parameters": {"env": "prod"}})))
        .await;
    assert_eq!(h.stage_status(&ok, "Check"), Succeeded);
    let children: Vec<_> = h
        .execution(&ok)
        .stages
        .iter()
        .filter(|s| s.parent_stage_id.is_some())
        .collect();
    assert_eq!(children.len(), 2);
    assert_eq!(
        children[0].context["context"]["expressionResult"],
        json!("true")
    );
    let bad = h
        .run_with(config, Some(json!({"parameters": {"env": "dev"}})))
        .await;
    assert_eq!(h.stage_status(&bad, "Check"), Terminal);
    assert_eq!(h.status(&bad), Terminal);
}

#[tokio::test]
async fn a_soft_precondition_stops_only_its_branch() {
    let mut h = Harness::new();
    let check = json!({"refId": "1", "name": "Gate", "type": "checkPreconditions",
        "preconditions": [{"type": "expression", "context": {"expression": "false"}, "failPipeline": false}]});
    let id = h
        .run(pipeline(json!([
            check,
            wait("2", "Behind gate", 0, &["1"]),
            wait("3", "Other", 0, &[])
        ])))
        .await;
    assert_eq!(h.stage_status(&id, "Gate"), Stopped);
    assert_eq!(h.stage_status(&id, "Behind gate"), NotStarted);
    assert_eq!(h.status(&id), Succeeded);
}

#[tokio::test]
async fn cluster_size_preconditions_fail_clearly() {
    let mut h = Harness::new();
    let check = json!({"refId": "1", "name": "Size", "type": "checkPreconditions",
        "preconditions": [{"type": "clusterSize", "context": {"cluster": "app-main", "expected": 2}}]});
    let id = h.run(pipeline(json!([check]))).await;
    assert_eq!(h.status(&id), Terminal);
    let child = h
        .execution(&id)
        .stages
        .iter()
        .find(|s| s.parent_stage_id.is_some())
        .cloned()
        .expect("child");
    let error = child.context["exception"]["details"]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(error.contains("clusterSize"), "{error}");
}

#[tokio::test]
async fn pipeline_stage_runs_a_child_and_takes_its_result_and_outputs() {
    let child = json!({"id": "child-1", "application": "app", "name": "child",
    "parameterConfig": [{"name": "region", "default": "us-east-1"}, {"name": "size"}],
    "stages": [
        {"refId": "1", "name": "Child vars", "type": "evaluateVariables", "variables": [{"key": "where", "value": "${parameters.region}-${parameters.size}"}]},
        judgment("2", "Child approve", &["1"]),
    ]});
    let mut configs = HashMap::new();
    configs.insert("child-1".to_owned(), child);
    let mut h = Harness::with(StageRegistry::local(), configs);
    let parent_stage = json!({"refId": "1", "name": "Run child", "type": "pipeline", "application": "app",
        "pipeline": "child-1", "pipelineParameters": {"size": "large"}});
    let id = h
        .run(pipeline(json!([
            parent_stage,
            wait("2", "After child", 0, &["1"])
        ])))
        .await;
    let child_id = h.stage(&id, "Run child").context["executionId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(h.status(&child_id), Running);
    let trigger = &h.execution(&child_id).trigger;
    assert_eq!(trigger["type"], json!("pipeline"));
    assert_eq!(trigger["parentExecution"]["id"], json!(id));
    assert_eq!(
        trigger["parameters"],
        json!({"size": "large", "region": "us-east-1"})
    );
    assert_eq!(h.stage_status(&id, "Run child"), Running);
    h.judge(&child_id, "Child approve", "continue", None).await;
    assert_eq!(h.status(&child_id), Succeeded);
    assert_eq!(h.stage_status(&id, "Run child"), Succeeded);
    assert_eq!(
        h.stage(&id, "Run child").outputs["where"],
        json!("us-east-1-large")
    );
    assert_eq!(h.status(&id), Succeeded);
}

#[tokio::test]
async fn a_failed_or_missing_child_fails_the_parent_stage() {
    let child = json!({"id": "child-2", "application": "app", "name": "child",
        "stages": [judgment("1", "Child approve", &[])]});
    let mut configs = HashMap::new();
    configs.insert("child-2".to_owned(), child);
    let mut h = Harness::with(StageRegistry::local(), configs);
    let id = h
        .run(pipeline(
            json!([{"refId": "1", "name": "Run child", "type": "pipeline", "pipeline": "child-2"}]),
        ))
        .await;
    let child_id = h.stage(&id, "Run child").context["executionId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    h.judge(&child_id, "Child approve", "stop", None).await;
    assert_eq!(h.status(&child_id), Terminal);
    assert_eq!(h.status(&id), Terminal);

    let missing = h
        .run(pipeline(
            json!([{"refId": "1", "name": "Run child", "type": "pipeline", "pipeline": "nope"}]),
        ))
        .await;
    let error = h.stage(&missing, "Run child").context["exception"]["details"]["error"].clone();
    assert_eq!(
        error,
        json!("The referenced pipeline cannot be located (nope)")
    );
}

#[tokio::test]
async fn cancelling_the_parent_cancels_the_child() {
    let child = json!({"id": "child-3", "application": "app", "name": "child", "stages": [judgment("1", "Child approve", &[])]});
    let mut configs = HashMap::new();
    configs.insert("child-3".to_owned(), child);
    let mut h = Harness::with(StageRegistry::local(), configs);
    let id = h
        .run(pipeline(
            json!([{"refId": "1", "name": "Run child", "type": "pipeline", "pipeline": "child-3"}]),
        ))
        .await;
    let child_id = h.stage(&id, "Run child").context["executionId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    h.executor
        .cancel(&id, "alice", None, h.now())
        .expect("cancel");
    h.settle().await;
    assert_eq!(h.status(&child_id), Canceled);
}

#[tokio::test]
async fn unknown_custom_stage_types_fail_clearly() {
    let mut h = Harness::new();
    let id = h
        .run(pipeline(
            json!([{"refId": "1", "name": "Build", "type": "kanikoBuild"}]),
        ))
        .await;
    assert_eq!(h.status(&id), Terminal);
    let error = h.stage(&id, "Build").context["exception"]["details"]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(error.contains("kanikoBuild"), "{error}");
}

#[tokio::test]
async fn execution_json_has_orcas_shape() {
    let mut h = Harness::new();
    let id = h.run(pipeline(json!([wait("1", "Wait", 1, &[])]))).await;
    let json = serde_json::to_value(h.execution(&id)).expect("serialises");
    assert_eq!(json["type"], json!("PIPELINE"));
    assert_eq!(json["id"].as_str().map(str::len), Some(26), "ULID id");
    assert_eq!(json["pipelineConfigId"], json!("config-1"));
    assert_eq!(json["status"], json!("RUNNING"));
    assert_eq!(json["trigger"]["type"], json!("manual"));
    assert_eq!(json["trigger"]["user"], json!("[anonymous]"));
    let stage = &json["stages"][0];
    for key in [
        "id",
        "refId",
        "type",
        "name",
        "requisiteStageRefIds",
        "status",
        "context",
        "outputs",
        "tasks",
        "startTime",
        "syntheticStageOwner",
        "parentStageId",
    ] {
        assert!(stage.get(key).is_some(), "stage has {key}: {stage}");
    }
    assert_eq!(stage["tasks"][0]["name"], json!("wait"));
    assert_eq!(stage["tasks"][0]["status"], json!("RUNNING"));
    let back: execution::Execution = serde_json::from_value(json).expect("round trip");
    assert_eq!(&back, h.execution(&id));
}

struct Stored {
    configs: HashMap<String, serde_json::Value>,
    executions: HashMap<String, execution::Execution>,
}

impl execution::PipelineConfigs for Stored {
    fn pipeline_config(&self, id: &str) -> Option<serde_json::Value> {
        self.configs.get(id).cloned()
    }

    fn stored_execution(&self, id: &str) -> Option<execution::Execution> {
        self.executions.get(id).cloned()
    }
}

#[tokio::test]
async fn a_child_that_finished_before_a_restart_is_read_from_storage() {
    let child = json!({"id": "child-4", "application": "app", "name": "child",
        "stages": [{"refId": "1", "name": "Vars", "type": "evaluateVariables", "variables": [{"key": "built", "value": "yes"}]},
                   judgment("2", "Child approve", &["1"])]});
    let mut configs = HashMap::new();
    configs.insert("child-4".to_owned(), child);
    let mut h = Harness::with(StageRegistry::local(), configs.clone());
    let id = h
        .run(pipeline(
            json!([{"refId": "1", "name": "Run child", "type": "pipeline", "pipeline": "child-4"}]),
        ))
        .await;
    let child_id = h.stage(&id, "Run child").context["executionId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // The parent as persisted while the child still ran; the child as persisted once it finished.
    let parent_then = h.execution(&id).clone();
    h.judge(&child_id, "Child approve", "continue", None).await;

    let child_done = h.execution(&child_id).clone();
    assert_eq!(child_done.status, Succeeded);
    assert_eq!(h.status(&id), Succeeded);

    let mut executions = HashMap::new();
    executions.insert(child_id.clone(), child_done);
    let source = std::sync::Arc::new(Stored {
        configs,
        executions,
    });
    let mut fresh = Harness::with_source(StageRegistry::local(), source);
    fresh.clock.set(h.now());
    fresh
        .store
        .commit(&[execution::Change::Created(Box::new(parent_then.clone()))])
        .expect("seed");
    fresh.executor.load(parent_then, fresh.now());
    fresh
        .store
        .commit(&[execution::Change::Created(Box::new(
            fresh.execution(&child_id).clone(),
        ))])
        .expect("seed");
    assert!(
        fresh.executor.evict(&child_id).is_none(),
        "kept while its parent runs"
    );
    fresh.settle().await;
    assert_eq!(fresh.stage_status(&id, "Run child"), Succeeded);
    assert_eq!(fresh.stage(&id, "Run child").outputs["built"], json!("yes"));
    assert_eq!(fresh.status(&id), Succeeded);
    assert!(
        fresh.executor.evict(&child_id).is_some(),
        "evictable once the parent finished"
    );
}
