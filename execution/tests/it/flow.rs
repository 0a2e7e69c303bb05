//! Flow-control scenarios: DAG, failure matrix, stageEnabled, queueing, cancel/pause/resume,
//! timeouts, execution windows.

use crate::support::{Harness, judgment, pipeline, wait};
use execution::ExecutionStatus::*;
use execution::executor::SUPERSEDED_REASON;
use execution::orchestrate::OrchestrateError;
use execution::{Actor, ExecutorError};
use serde_json::json;

fn deploy(
    ref_id: &str,
    name: &str,
    requisites: &[&str],
    flags: serde_json::Value,
) -> serde_json::Value {
    let mut stage = json!({"refId": ref_id, "name": name, "type": "deploy", "requisiteStageRefIds": requisites});
    if let (Some(stage), Some(flags)) = (stage.as_object_mut(), flags.as_object()) {
        stage.extend(flags.clone());
    }
    stage
}

#[tokio::test]
async fn judgment_stop_ends_the_pipeline() {
    let mut h = Harness::new();
    let id = h
        .run(pipeline(json!([
            judgment("1", "Approve", &[]),
            wait("2", "After", 0, &["1"])
        ])))
        .await;
    assert_eq!(h.stage_status(&id, "Approve"), Running);
    h.judge(&id, "Approve", "STOP", None).await;
    assert_eq!(h.status(&id), Terminal);
    assert_eq!(h.stage_status(&id, "Approve"), Terminal);
    assert_eq!(h.stage_status(&id, "After"), NotStarted);
}

#[tokio::test]
async fn later_stages_branch_on_the_judgment_input() {
    let mut h = Harness::new();
    let branch = |r: &str, n: &str, input: &str| {
        let mut s = wait(r, n, 0, &["1"]);
        s["stageEnabled"] = json!({"type": "expression", "expression": format!("#judgment('Approve') == '{input}'")});
        s
    };
    let id = h
        .run(pipeline(json!([
            judgment("1", "Approve", &[]),
            branch("2", "Deploy prod", "prod"),
            branch("3", "Roll back", "rollback"),
            wait("4", "Notify", 0, &["2", "3"]),
        ])))
        .await;
    h.judge(&id, "Approve", "continue", Some("prod")).await;
    assert_eq!(h.stage_status(&id, "Deploy prod"), Succeeded);
    assert_eq!(h.stage_status(&id, "Roll back"), Skipped);
    assert_eq!(h.stage_status(&id, "Notify"), Succeeded);
    assert_eq!(h.status(&id), Succeeded);
    let approve = h.stage(&id, "Approve");
    assert_eq!(approve.context["judgmentInput"], json!("prod"));
    assert_eq!(
        approve.last_modified.as_ref().map(|m| m.user.as_str()),
        Some("anonymous")
    );
}

#[tokio::test]
async fn a_judgment_without_input_skips_stages_that_branch_on_it() {
    let mut h = Harness::new();
    let mut gated = wait("2", "Gated", 0, &["1"]);
    gated["stageEnabled"] =
        json!({"type": "expression", "expression": "#judgment('Approve') == 'prod'"});
    let id = h
        .run(pipeline(json!([judgment("1", "Approve", &[]), gated])))
        .await;
    h.judge(&id, "Approve", "continue", None).await;
    assert_eq!(
        h.stage_status(&id, "Gated"),
        Skipped,
        "an invalid stageEnabled skips"
    );
    assert_eq!(h.status(&id), Succeeded);
}

#[tokio::test]
async fn fail_pipeline_false_lets_sibling_branches_finish() {
    let mut h = Harness::new();
    let id = h
        .run(pipeline(json!([
            deploy("1", "Deploy", &[], json!({"failPipeline": false})),
            wait("2", "After deploy", 0, &["1"]),
            wait("3", "Sibling", 60, &[]),
        ])))
        .await;
    assert_eq!(h.stage_status(&id, "Deploy"), Stopped);
    assert_eq!(h.stage_status(&id, "After deploy"), NotStarted);
    assert_eq!(h.status(&id), Running, "the sibling is still waiting");
    h.advance(60_000).await;
    assert_eq!(h.stage_status(&id, "Sibling"), Succeeded);
    assert_eq!(h.status(&id), Succeeded);
}

#[tokio::test]
async fn complete_other_branches_then_fail() {
    let mut h = Harness::new();
    let id = h
        .run(pipeline(json!([
            deploy(
                "1",
                "Deploy",
                &[],
                json!({"failPipeline": false, "completeOtherBranchesThenFail": true})
            ),
            wait("2", "Sibling", 30, &[]),
        ])))
        .await;
    assert_eq!(h.stage_status(&id, "Deploy"), Stopped);
    assert_eq!(h.status(&id), Running);
    h.advance(30_000).await;
    assert_eq!(
        h.stage_status(&id, "Sibling"),
        Succeeded,
        "the other branch completes"
    );
    assert_eq!(h.status(&id), Terminal);
}

#[tokio::test]
async fn default_failure_halts_everything_and_names_the_infrastructure_type() {
    let mut h = Harness::new();
    let id = h
        .run(pipeline(json!([
            deploy("1", "Deploy", &[], json!({})),
            wait("2", "Sibling", 30, &[])
        ])))
        .await;
    assert_eq!(h.status(&id), Terminal);
    assert_eq!(h.stage_status(&id, "Deploy"), Terminal);
    assert_eq!(h.stage_status(&id, "Sibling"), Canceled);
    let error = h.stage(&id, "Deploy").context["exception"]["details"]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        error.contains("'deploy'") && error.contains("does not run infrastructure stages"),
        "{error}"
    );
}

#[tokio::test]
async fn continue_pipeline_marks_failed_continue_and_runs_downstream() {
    let mut h = Harness::new();
    let id = h
        .run(pipeline(json!([
            deploy(
                "1",
                "Deploy",
                &[],
                json!({"continuePipeline": true, "failPipeline": true})
            ),
            wait("2", "Next", 0, &["1"]),
        ])))
        .await;
    assert_eq!(h.stage_status(&id, "Deploy"), FailedContinue);
    assert_eq!(h.stage_status(&id, "Next"), Succeeded);
    assert_eq!(h.status(&id), Succeeded);
}

#[tokio::test]
async fn a_join_waits_for_both_parents() {
    let mut h = Harness::new();
    let id = h
        .run(pipeline(json!([
            wait("1", "Short", 10, &[]),
            wait("2", "Long", 20, &[]),
            wait("3", "Join", 0, &["1", "2"]),
        ])))
        .await;
    h.advance(10_000).await;
    assert_eq!(h.stage_status(&id, "Short"), Succeeded);
    assert_eq!(h.stage_status(&id, "Join"), NotStarted);
    h.advance(10_000).await;
    assert_eq!(h.stage_status(&id, "Join"), Succeeded);
    assert_eq!(
        h.stage(&id, "Join").start_time,
        h.stage(&id, "Long").end_time
    );
    assert_eq!(h.status(&id), Succeeded);
}

#[tokio::test]
async fn stages_without_ref_ids_are_chained_and_empty_pipelines_fail() {
    let mut h = Harness::new();
    let id = h
        .run(pipeline(json!([{"type": "wait", "name": "A", "waitTime": 5}, {"type": "wait", "name": "B", "waitTime": 0}])))
        .await;
    assert_eq!(
        h.stage(&id, "B").requisite_stage_ref_ids,
        vec!["0".to_owned()]
    );
    assert_eq!(h.stage_status(&id, "B"), NotStarted);
    h.advance(5_000).await;
    assert_eq!(h.status(&id), Succeeded);

    let empty = h.run(pipeline(json!([]))).await;
    assert_eq!(h.status(&empty), Terminal);

    let mut disabled = pipeline(json!([]));
    disabled["disabled"] = json!(true);
    let error = h.executor.trigger(&disabled, None, h.now()).err();
    assert_eq!(
        error,
        Some(ExecutorError::Orchestrate(OrchestrateError::Disabled))
    );
    assert_eq!(
        error.map(|e| e.to_string()).unwrap_or_default(),
        "Pipeline is disabled and cannot be started."
    );
}

#[tokio::test]
async fn limit_concurrent_queues_a_second_run() {
    let mut h = Harness::new();
    let mut config = pipeline(json!([judgment("1", "Approve", &[])]));
    config["limitConcurrent"] = json!(true);
    config["keepWaitingPipelines"] = json!(true);
    let first = h.run(config.clone()).await;
    let second = h.run(config.clone()).await;
    assert_eq!(h.status(&first), Running);
    assert_eq!(h.status(&second), NotStarted);
    h.judge(&first, "Approve", "continue", None).await;
    assert_eq!(h.status(&first), Succeeded);
    assert_eq!(
        h.status(&second),
        Running,
        "the queued run starts when the first ends"
    );
}

#[tokio::test]
async fn queue_purge_keeps_only_the_newest_waiting_run() {
    let mut h = Harness::new();
    let mut config = pipeline(json!([judgment("1", "Approve", &[])]));
    config["limitConcurrent"] = json!(true);
    let first = h.run(config.clone()).await;
    let older = h.run(config.clone()).await;
    let newer = h.run(config.clone()).await;
    h.judge(&first, "Approve", "continue", None).await;
    assert_eq!(h.status(&older), Canceled);
    assert_eq!(
        h.execution(&older).cancellation_reason.as_deref(),
        Some(SUPERSEDED_REASON)
    );
    assert_eq!(
        h.execution(&older).canceled_by.as_deref(),
        Some("spinnaker")
    );
    assert_eq!(h.status(&newer), Running);
}

#[tokio::test]
async fn max_concurrent_executions_allows_that_many() {
    let mut h = Harness::new();
    let mut config = pipeline(json!([judgment("1", "Approve", &[])]));
    config["maxConcurrentExecutions"] = json!(2);
    let runs = [
        h.run(config.clone()).await,
        h.run(config.clone()).await,
        h.run(config.clone()).await,
    ];
    assert_eq!(
        runs.iter().map(|r| h.status(r)).collect::<Vec<_>>(),
        vec![Running, Running, NotStarted]
    );
}

#[tokio::test]
async fn cancel_stops_running_stages() {
    let mut h = Harness::new();
    let id = h.run(pipeline(json!([wait("1", "Long", 600, &[])]))).await;
    h.executor
        .cancel(&id, "alice", Some("wrong build".into()), h.now())
        .expect("cancel");
    h.settle().await;
    let execution = h.execution(&id);
    assert_eq!(execution.status, Canceled);
    assert!(execution.canceled);
    assert_eq!(execution.canceled_by.as_deref(), Some("alice"));
    assert_eq!(
        execution.cancellation_reason.as_deref(),
        Some("wrong build")
    );
    assert_eq!(h.stage_status(&id, "Long"), Canceled);
}

#[tokio::test]
async fn pause_holds_the_pipeline_and_resume_continues_it() {
    let mut h = Harness::new();
    let id = h
        .run(pipeline(json!([
            wait("1", "Wait", 10, &[]),
            wait("2", "Next", 0, &["1"])
        ])))
        .await;
    h.executor.pause(&id, "bob", h.now()).expect("pause");
    h.advance(20_000).await;
    assert_eq!(h.status(&id), Paused);
    assert_eq!(h.stage_status(&id, "Wait"), Paused);
    assert!(matches!(
        h.executor.pause(&id, "bob", h.now()),
        Err(ExecutorError::NotRunning { .. })
    ));
    h.executor.resume(&id, "bob", h.now()).expect("resume");
    h.settle().await;
    assert_eq!(h.status(&id), Succeeded);
    let paused = h.execution(&id).paused.clone().unwrap_or_default();
    assert_eq!(paused.paused_ms, 20_000);
    assert_eq!(paused.paused_by.as_deref(), Some("bob"));
}

#[tokio::test]
async fn stage_timeout_fails_the_stage_excluding_paused_time() {
    let mut h = Harness::new();
    let mut approve = judgment("1", "Approve", &[]);
    approve["stageTimeoutMs"] = json!(60_000);
    let id = h.run(pipeline(json!([approve]))).await;
    h.advance(30_000).await;
    h.executor.pause(&id, "ops", h.now()).expect("pause");
    h.advance(120_000).await;
    h.executor.resume(&id, "ops", h.now()).expect("resume");
    h.advance(15_000).await;
    assert_eq!(
        h.status(&id),
        Running,
        "45 s of running time is under the 60 s limit"
    );
    h.advance(30_000).await;
    assert_eq!(h.status(&id), Terminal);
    let error = h.stage(&id, "Approve").context["exception"]["details"]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(error.contains("timed out"), "{error}");
}

#[tokio::test]
async fn judgment_roles_are_checked_when_auth_is_on() {
    let mut h = Harness::new();
    let mut approve = judgment("1", "Approve", &[]);
    approve["selectedStageRoles"] = json!(["release-managers"]);
    let id = h.run(pipeline(json!([approve]))).await;
    let stage_id = h.stage(&id, "Approve").id.clone();
    let patch = json!({"judgmentStatus": "continue"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let dev = Actor {
        user: "dev".into(),
        roles: Some(vec!["developers".into()]),
    };
    let refused = h
        .executor
        .update_stage(&id, &stage_id, patch.clone(), &dev, h.now())
        .err();
    assert!(
        matches!(refused, Some(ExecutorError::Patch(_))),
        "{refused:?}"
    );
    h.settle().await;
    assert_eq!(h.stage_status(&id, "Approve"), Running);
    let manager = Actor {
        user: "rm".into(),
        roles: Some(vec!["Release-Managers".into()]),
    };
    h.executor
        .update_stage(&id, &stage_id, patch, &manager, h.now())
        .expect("allowed");
    h.settle().await;
    assert_eq!(h.status(&id), Succeeded);
    let skip = json!({"manualSkip": true})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let error = h
        .executor
        .update_stage(&id, &stage_id, skip, &manager, h.now())
        .err();
    assert_eq!(
        error.map(|e| e.to_string()).as_deref(),
        Some("Cannot manually skip stage.")
    );
}

#[tokio::test]
async fn skip_remaining_wait_finishes_a_wait() {
    let mut h = Harness::new();
    let id = h.run(pipeline(json!([wait("1", "Long", 3600, &[])]))).await;
    let stage_id = h.stage(&id, "Long").id.clone();
    let patch = json!({"skipRemainingWait": true})
        .as_object()
        .cloned()
        .unwrap_or_default();
    h.executor
        .update_stage(&id, &stage_id, patch, &Actor::anonymous(), h.now())
        .expect("patch");
    h.settle().await;
    assert_eq!(h.status(&id), Succeeded);
}

#[tokio::test]
async fn restricted_execution_window_waits_for_the_window() {
    let mut h = Harness::new();
    // T0 is Monday 08:00 in Los Angeles; the window opens at 09:30 on Mondays (day 2).
    let mut stage = wait("1", "Windowed", 0, &[]);
    stage["restrictExecutionDuringTimeWindow"] = json!(true);
    stage["restrictedExecutionWindow"] = json!({"days": [2], "whitelist": [{"startHour": 9, "startMin": 30, "endHour": 10, "endMin": 0}]});
    let id = h.run(pipeline(json!([stage]))).await;
    let window = h
        .execution(&id)
        .stages
        .iter()
        .find(|s| s.stage_type == "restrictExecutionDuringTimeWindow")
        .cloned()
        .expect("synthetic window stage");
    assert_eq!(window.ref_id, "1<1");
    assert_eq!(
        window.scheduled_time,
        Some(crate::support::T0 + 90 * 60_000)
    );
    assert_eq!(h.stage(&id, "Windowed").tasks[0].status, NotStarted);
    h.advance(89 * 60_000).await;
    assert_eq!(h.status(&id), Running);
    h.advance(60_000).await;
    assert_eq!(h.status(&id), Succeeded);
}

#[tokio::test]
async fn fail_on_failed_expressions() {
    let mut h = Harness::new();
    let mut strict = wait("1", "Strict", 0, &[]);
    strict["note"] = json!("${trigger.missing.deeper}");
    strict["failOnFailedExpressions"] = json!(true);
    let mut lenient = wait("1", "Lenient", 0, &[]);
    lenient["note"] = json!("${trigger.missing.deeper}");
    let strict_run = h.run(pipeline(json!([strict]))).await;
    let lenient_run = h.run(pipeline(json!([lenient]))).await;
    assert_eq!(h.status(&strict_run), Terminal);
    assert_eq!(h.status(&lenient_run), Succeeded);
    let summary = &h.stage(&lenient_run, "Lenient").context["expressionEvaluationSummary"];
    assert!(
        summary.get("${trigger.missing.deeper}").is_some(),
        "{summary}"
    );
    assert_eq!(
        h.stage(&lenient_run, "Lenient").context["note"],
        json!("${trigger.missing.deeper}")
    );
}

#[test]
fn configs_that_are_not_a_dag_are_refused_with_the_stages_named() {
    let refuse = |stages: serde_json::Value| {
        execution::orchestrate::build_execution(&pipeline(stages), None, 0)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let cycle = refuse(json!([
        wait("a", "A", 0, &["b"]),
        wait("b", "B", 0, &["a"]),
        wait("c", "C", 0, &[])
    ]));
    assert!(
        cycle.contains("cycle") && cycle.contains('a') && cycle.contains('b'),
        "{cycle}"
    );
    let unknown = refuse(json!([wait("a", "A", 0, &["zz"])]));
    assert!(unknown.contains("zz"), "{unknown}");
    let duplicate = refuse(json!([wait("a", "A", 0, &[]), wait("a", "B", 0, &[])]));
    assert!(duplicate.contains("\"a\""), "{duplicate}");
    let partial = refuse(json!([wait("a", "A", 0, &[]), {"type": "wait", "name": "B"}]));
    assert_eq!(
        partial,
        "stages[1] has no refId while other stages have one"
    );
}

#[tokio::test]
async fn preconditions_wait_for_the_execution_window() {
    let mut h = Harness::new();
    // T0 is Monday 08:00 in Los Angeles; the window opens at 09:00 every day.
    let check = json!({"refId": "1", "name": "Check", "type": "checkPreconditions",
        "restrictExecutionDuringTimeWindow": true,
        "restrictedExecutionWindow": {"whitelist": [{"startHour": 9, "startMin": 0, "endHour": 17, "endMin": 0}]},
        "preconditions": [{"type": "expression", "context": {"expression": "true"}}]});
    let id = h.run(pipeline(json!([check]))).await;
    let children: Vec<_> = h
        .execution(&id)
        .stages
        .iter()
        .filter(|s| s.parent_stage_id.is_some())
        .map(|s| {
            (
                s.ref_id.clone(),
                s.stage_type.clone(),
                s.requisite_stage_ref_ids.clone(),
                s.status,
            )
        })
        .collect();
    assert_eq!(
        children,
        vec![
            (
                "1<1".to_owned(),
                "restrictExecutionDuringTimeWindow".to_owned(),
                vec![],
                Running
            ),
            (
                "1<2".to_owned(),
                "checkPreconditions".to_owned(),
                vec!["1<1".to_owned()],
                NotStarted
            ),
        ]
    );
    h.advance(3_600_000).await;
    assert_eq!(h.stage_status(&id, "Check"), Succeeded);
    assert_eq!(h.status(&id), Succeeded);
}

#[tokio::test]
async fn a_window_that_never_opens_fails_the_stage() {
    let mut h = Harness::new();
    let mut stage = wait("1", "Never", 0, &[]);
    stage["restrictExecutionDuringTimeWindow"] = json!(true);
    stage["restrictedExecutionWindow"] = json!({"days": [9], "whitelist": []});
    let id = h.run(pipeline(json!([stage]))).await;
    assert_eq!(h.status(&id), Terminal);
}

#[tokio::test]
async fn a_soft_judgment_stop_stops_only_its_branch() {
    let mut h = Harness::new();
    let mut approve = judgment("1", "Approve", &[]);
    approve["failPipeline"] = json!(false);
    let id = h
        .run(pipeline(json!([
            approve,
            wait("2", "Deploy", 0, &["1"]),
            wait("3", "Other", 0, &[])
        ])))
        .await;
    h.judge(&id, "Approve", "stop", None).await;
    assert_eq!(h.stage_status(&id, "Approve"), Stopped);
    assert_eq!(h.stage_status(&id, "Deploy"), NotStarted);
    assert_eq!(
        h.status(&id),
        Succeeded,
        "a STOPPED branch counts as success"
    );
}

#[tokio::test]
async fn stage_enabled_accepts_templates_and_ignores_other_types() {
    let mut h = Harness::new();
    let mut templated = wait("1", "Templated", 0, &[]);
    templated["stageEnabled"] =
        json!({"type": "expression", "expression": "${parameters.go == 'yes'}"});
    let mut other_type = wait("2", "Other type", 0, &[]);
    other_type["stageEnabled"] = json!({"type": "somethingElse", "expression": "false"});
    let mut empty = wait("3", "Empty", 0, &[]);
    empty["stageEnabled"] = json!({"type": "expression", "expression": ""});
    let id = h
        .run_with(
            pipeline(json!([templated, other_type, empty])),
            Some(json!({"parameters": {"go": "no"}})),
        )
        .await;
    assert_eq!(h.stage_status(&id, "Templated"), Skipped);
    assert_eq!(
        h.stage_status(&id, "Other type"),
        Succeeded,
        "only type expression is optional"
    );
    assert_eq!(
        h.stage_status(&id, "Empty"),
        Succeeded,
        "an empty expression is not optional"
    );
}
