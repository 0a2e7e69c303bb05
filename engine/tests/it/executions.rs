//! Executions through Gate's API: trigger → GET → PATCH judgment → GET, flow rules, queueing,
//! cancel/pause/resume, delete, listing, and the judge's roles.

use crate::support::{TestServer, gate_error, json_of, stage, stage_status};
use serde_json::{Value, json};

/// 2026-01-01T00:00:00Z.
pub const START: i64 = 1_767_225_600_000;

fn config(name: &str, stages: Value) -> Value {
    json!({"application": "shop", "name": name, "stages": stages})
}

fn judgment(ref_id: &str, name: &str, parents: &[&str]) -> Value {
    json!({"refId": ref_id, "name": name, "type": "manualJudgment", "requisiteStageRefIds": parents,
        "judgmentInputs": [{"value": "blue"}, {"value": "green"}]})
}

fn wait(ref_id: &str, seconds: i64, parents: &[&str]) -> Value {
    json!({"refId": ref_id, "name": format!("wait {ref_id}"), "type": "wait", "waitTime": seconds,
        "requisiteStageRefIds": parents})
}

async fn judge(
    server: &TestServer,
    id: &str,
    execution: &Value,
    ref_id: &str,
    body: Value,
) -> Value {
    let stage_id = stage(execution, ref_id)["id"].as_str().unwrap().to_owned();
    let response = server
        .patch(&format!("/pipelines/{id}/stages/{stage_id}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    json_of(response).await
}

fn running(ref_id: &'static str) -> impl Fn(&Value) -> bool {
    move |e: &Value| stage(e, ref_id)["status"] == "RUNNING"
}

#[tokio::test]
async fn manual_trigger_answers_202_with_ref_and_the_execution_has_orcas_shape() {
    let server = TestServer::with_clock("", START).await;
    server
        .put_pipeline(json!({"application": "shop", "name": "deploy",
            "parameterConfig": [{"name": "env", "default": "staging"}],
            "stages": [wait("1", 0, &[]),
                {"refId": "2", "name": "vars", "type": "evaluateVariables", "requisiteStageRefIds": ["1"],
                 "variables": [{"key": "target", "value": "${parameters.env}-${trigger.user}"}]}]}))
        .await;
    let response = server
        .post("/pipelines/shop/deploy")
        .header("X-SPINNAKER-USER", "alice")
        .json(&json!({"type": "manual", "parameters": {"env": "prod"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let reference = json_of(response).await["ref"].as_str().unwrap().to_owned();
    let id = reference.strip_prefix("/pipelines/").unwrap().to_owned();
    assert_eq!(id.len(), 26, "a ULID: {id}");
    let execution = server.finish(&id).await;
    assert_eq!(execution["status"], "SUCCEEDED", "{execution}");
    assert_eq!(execution["type"], "PIPELINE");
    assert_eq!(execution["application"], "shop");
    assert_eq!(execution["name"], "deploy");
    assert_eq!(execution["trigger"]["user"], "alice");
    assert_eq!(execution["trigger"]["type"], "manual");
    assert_eq!(execution["trigger"]["parameters"]["env"], "prod");
    assert_eq!(
        execution["trigger"]["notifications"],
        json!([]),
        "Gate defaults them to []"
    );
    let vars = stage(&execution, "2");
    assert_eq!(vars["outputs"]["target"], "prod-alice", "{vars}");
    for s in execution["stages"].as_array().unwrap() {
        assert_eq!(s["id"].as_str().unwrap().len(), 26);
        for key in [
            "refId",
            "type",
            "name",
            "status",
            "context",
            "outputs",
            "startTime",
            "endTime",
            "tasks",
        ] {
            assert!(!s[key].is_null(), "stage lacks {key}: {s}");
        }
    }
    assert!(execution["startTime"].as_i64().unwrap() >= START);
}

#[tokio::test]
async fn trigger_finds_by_name_then_id_and_answers_gates_errors() {
    let server = TestServer::with_clock("", START).await;
    let stored = server
        .put_pipeline(
            json!({"application": "shop", "name": "deploy", "id": "cfg-1",
            "parameterConfig": [{"name": "version", "required": true}],
            "stages": [wait("1", 0, &[])]}),
        )
        .await;
    assert_eq!(stored["id"], "cfg-1");
    let notify =
        json!({"type": "email", "address": "ops@example.com", "when": ["pipeline.complete"]});
    let by_id = server
        .trigger(
            "shop",
            "cfg-1",
            json!({"parameters": {"version": "1"}, "notifications": [notify]}),
        )
        .await;
    let execution = server.finish(&by_id).await;
    assert_eq!(execution["pipelineConfigId"], "cfg-1");
    assert_eq!(
        execution["notifications"],
        json!([notify]),
        "trigger notifications are appended"
    );
    let missing = server
        .post("/pipelines/shop/deploy")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        gate_error(missing, 400).await,
        "Required parameter version is missing"
    );
    let unknown = server.post("/pipelines/shop/nope").send().await.unwrap();
    assert_eq!(
        gate_error(unknown, 404).await,
        "Pipeline config (id: nope) not found for Application (id: shop)"
    );
    server
        .put_pipeline(json!({"application": "shop", "name": "off", "disabled": true, "stages": [wait("1", 0, &[])]}))
        .await;
    let disabled = server.post("/pipelines/shop/off").send().await.unwrap();
    assert_eq!(
        gate_error(disabled, 400).await,
        "Unable to trigger pipeline (application: shop, pipelineNameOrId: off). Error: Pipeline is disabled and cannot be started."
    );
    let missing_execution = server
        .get("/pipelines/01ARZ3NDEKTSV4RRFFQ69G5FAV")
        .send()
        .await
        .unwrap();
    assert_eq!(
        gate_error(missing_execution, 404).await,
        "Pipeline not found (id: 01ARZ3NDEKTSV4RRFFQ69G5FAV)"
    );
}

#[tokio::test]
async fn judgment_continue_with_input_branches_later_stages_through_stage_enabled() {
    let server = TestServer::with_clock("", START).await;
    server
        .put_pipeline(config("release", json!([
            judgment("1", "Approve", &[]),
            {"refId": "2", "name": "blue", "type": "wait", "waitTime": 0, "requisiteStageRefIds": ["1"],
             "stageEnabled": {"type": "expression", "expression": "#judgment('Approve') == 'blue'"}},
            {"refId": "3", "name": "green", "type": "wait", "waitTime": 0, "requisiteStageRefIds": ["1"],
             "stageEnabled": {"type": "expression", "expression": "#judgment('Approve') == 'green'"}},
        ])))
        .await;
    let id = server.trigger("shop", "release", json!({})).await;
    let waiting = server.until(&id, 1_000, running("1")).await;
    assert_eq!(stage_status(&waiting, "2"), "NOT_STARTED");
    let patched = judge(
        &server,
        &id,
        &waiting,
        "1",
        json!({"judgmentStatus": "continue", "judgmentInput": "blue"}),
    )
    .await;
    assert_eq!(patched["id"], id.as_str());
    assert_eq!(stage(&patched, "1")["context"]["judgmentInput"], "blue");
    assert_eq!(stage(&patched, "1")["lastModified"]["user"], "anonymous");
    let done = server.finish(&id).await;
    assert_eq!(done["status"], "SUCCEEDED");
    assert_eq!(stage_status(&done, "1"), "SUCCEEDED");
    assert_eq!(stage_status(&done, "2"), "SUCCEEDED");
    assert_eq!(stage_status(&done, "3"), "SKIPPED");
}

#[tokio::test]
async fn judgment_stop_ends_the_pipeline() {
    let server = TestServer::with_clock("", START).await;
    server
        .put_pipeline(config(
            "release",
            json!([judgment("1", "Approve", &[]), wait("2", 0, &["1"])]),
        ))
        .await;
    let id = server.trigger("shop", "release", json!({})).await;
    let waiting = server.until(&id, 1_000, running("1")).await;
    judge(
        &server,
        &id,
        &waiting,
        "1",
        json!({"judgmentStatus": "stop"}),
    )
    .await;
    let done = server.finish(&id).await;
    assert_eq!(done["status"], "TERMINAL");
    assert_eq!(stage_status(&done, "1"), "TERMINAL");
    assert_eq!(stage_status(&done, "2"), "NOT_STARTED");
}

#[tokio::test]
async fn fail_pipeline_false_lets_sibling_branches_finish() {
    let server = TestServer::with_clock("", START).await;
    server
        .put_pipeline(config("branches", json!([
            {"refId": "1", "name": "check", "type": "checkPreconditions", "failPipeline": false,
             "preconditions": [{"type": "expression", "failPipeline": false, "context": {"expression": "${1 == 2}"}}]},
            wait("2", 30, &[]),
            wait("3", 0, &["2"]),
            wait("4", 0, &["1"]),
        ])))
        .await;
    let id = server.trigger("shop", "branches", json!({})).await;
    let done = server.finish(&id).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(stage_status(&done, "1"), "STOPPED");
    assert_eq!(stage_status(&done, "3"), "SUCCEEDED");
    assert_eq!(
        stage_status(&done, "4"),
        "NOT_STARTED",
        "the stopped branch goes no further"
    );
}

#[tokio::test]
async fn complete_other_branches_then_fail_waits_for_siblings_then_fails() {
    let server = TestServer::with_clock("", START).await;
    server
        .put_pipeline(config("branches", json!([
            {"refId": "1", "name": "bad", "type": "checkPreconditions", "failPipeline": false,
             "completeOtherBranchesThenFail": true,
             "preconditions": [{"type": "expression", "failPipeline": false, "context": {"expression": "${false}"}}]},
            wait("2", 20, &[]),
            wait("3", 0, &["2"]),
        ])))
        .await;
    let id = server.trigger("shop", "branches", json!({})).await;
    let mid = server
        .until(&id, 1_000, |e| {
            stage(e, "1")["status"] != "RUNNING" && stage(e, "1")["status"] != "NOT_STARTED"
        })
        .await;
    assert_eq!(mid["status"], "RUNNING", "siblings still run: {mid}");
    let done = server.finish(&id).await;
    assert_eq!(done["status"], "TERMINAL");
    assert_eq!(stage_status(&done, "1"), "STOPPED");
    assert_eq!(stage_status(&done, "3"), "SUCCEEDED");
}

#[tokio::test]
async fn a_join_waits_for_both_parents() {
    let server = TestServer::with_clock("", START).await;
    server
        .put_pipeline(config(
            "diamond",
            json!([
                wait("1", 0, &[]),
                wait("2", 5, &["1"]),
                wait("3", 1, &["1"]),
                wait("4", 0, &["2", "3"]),
            ]),
        ))
        .await;
    let id = server.trigger("shop", "diamond", json!({})).await;
    let mid = server
        .until(&id, 1_000, |e| stage(e, "3")["status"] == "SUCCEEDED")
        .await;
    assert_eq!(stage_status(&mid, "2"), "RUNNING");
    assert_eq!(
        stage_status(&mid, "4"),
        "NOT_STARTED",
        "one parent done is not enough"
    );
    let done = server.finish(&id).await;
    let join = stage(&done, "4");
    assert_eq!(join["status"], "SUCCEEDED");
    assert!(join["startTime"].as_i64() >= stage(&done, "2")["endTime"].as_i64());
    assert!(join["startTime"].as_i64() >= stage(&done, "3")["endTime"].as_i64());
}

#[tokio::test]
async fn limit_concurrent_queues_a_second_run_until_the_first_ends() {
    let server = TestServer::with_clock("", START).await;
    server
        .put_pipeline(
            json!({"application": "shop", "name": "serial", "limitConcurrent": true,
            "keepWaitingPipelines": true, "stages": [judgment("1", "Go", &[])]}),
        )
        .await;
    let first = server.trigger("shop", "serial", json!({})).await;
    let waiting = server.until(&first, 1_000, running("1")).await;
    let second = server.trigger("shop", "serial", json!({})).await;
    server.executions.tick().await.unwrap();
    assert_eq!(server.execution(&second).await["status"], "NOT_STARTED");
    judge(
        &server,
        &first,
        &waiting,
        "1",
        json!({"judgmentStatus": "continue"}),
    )
    .await;
    assert_eq!(server.finish(&first).await["status"], "SUCCEEDED");
    let started = server
        .until(&second, 1_000, |e| e["status"] == "RUNNING")
        .await;
    assert_eq!(stage_status(&started, "1"), "RUNNING");
}

#[tokio::test]
async fn cancel_pause_resume_and_delete() {
    let server = TestServer::with_clock("", START).await;
    server
        .put_pipeline(config(
            "long",
            json!([wait("1", 600, &[]), wait("2", 0, &["1"])]),
        ))
        .await;
    let id = server.trigger("shop", "long", json!({})).await;
    server.until(&id, 1_000, running("1")).await;

    let response = server
        .put(&format!("/pipelines/{id}/pause"))
        .header("X-SPINNAKER-USER", "bob")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let paused = server.execution(&id).await;
    assert_eq!(paused["status"], "PAUSED");
    assert_eq!(paused["paused"]["pausedBy"], "bob");
    assert_eq!(stage_status(&paused, "1"), "PAUSED");
    let again = server
        .put(&format!("/pipelines/{id}/pause"))
        .send()
        .await
        .unwrap();
    assert!(
        gate_error(again, 400)
            .await
            .starts_with("Unable to pause pipeline that is not running")
    );

    let response = server
        .put(&format!("/pipelines/{id}/resume"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(server.execution(&id).await["status"], "RUNNING");

    let running_delete = server
        .delete(&format!("/pipelines/{id}"))
        .send()
        .await
        .unwrap();
    assert!(
        gate_error(running_delete, 400)
            .await
            .contains("Cannot delete a running execution")
    );

    let response = server
        .put(&format!("/pipelines/{id}/cancel?reason=no+longer+needed"))
        .header("X-SPINNAKER-USER", "carol")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let canceled = server.finish(&id).await;
    assert_eq!(canceled["status"], "CANCELED");
    assert_eq!(canceled["canceled"], true);
    assert_eq!(canceled["canceledBy"], "carol");
    assert_eq!(canceled["cancellationReason"], "no longer needed");
    assert_eq!(stage_status(&canceled, "1"), "CANCELED");
    for (action, refusal) in [
        ("pause", "Unable to pause pipeline that is not running"),
        ("resume", "Unable to resume pipeline that is not paused"),
    ] {
        let finished = server
            .put(&format!("/pipelines/{id}/{action}"))
            .send()
            .await
            .unwrap();
        let message = gate_error(finished, 400).await;
        assert!(
            message.starts_with(refusal) && message.contains("CANCELED"),
            "{message}"
        );
    }

    let response = server
        .delete(&format!("/pipelines/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let gone = server
        .get(&format!("/pipelines/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn listing_applies_limit_per_config_and_statuses_and_sorts_by_start_time() {
    let server = TestServer::with_clock("[executions]\nfetch_limit = 2\n", START).await;
    server
        .put_pipeline(config("a", json!([wait("1", 0, &[])])))
        .await;
    server
        .put_pipeline(config("b", json!([judgment("1", "J", &[])])))
        .await;
    let mut a_ids = Vec::new();
    for _ in 0..3 {
        let id = server.trigger("shop", "a", json!({})).await;
        server.finish(&id).await;
        server.clock.advance(1_000);
        a_ids.push(id);
    }
    let b = server.trigger("shop", "b", json!({})).await;
    server.until(&b, 1_000, running("1")).await;

    let all: Vec<Value> = json_of(
        server
            .get("/applications/shop/pipelines")
            .send()
            .await
            .unwrap(),
    )
    .await
    .as_array()
    .unwrap()
    .clone();
    let ids: Vec<&str> = all.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        vec![a_ids[1].as_str(), a_ids[2].as_str(), b.as_str()],
        "2 newest per config, ascending start"
    );

    let limited: Vec<Value> = json_of(
        server
            .get("/applications/shop/pipelines?limit=1&statuses=RUNNING")
            .send()
            .await
            .unwrap(),
    )
    .await
    .as_array()
    .unwrap()
    .clone();
    assert_eq!(limited.len(), 1);
    assert_eq!(limited[0]["id"], b.as_str());
    let bad = server
        .get("/applications/shop/pipelines?statuses=DONE")
        .send()
        .await
        .unwrap();
    assert!(gate_error(bad, 400).await.contains("DONE"));
}

#[tokio::test]
async fn with_auth_only_the_stages_roles_may_judge() {
    let toml = r#"
        [auth]
        mode = "token"
        [[auth.tokens]]
        token = "t-alice"
        user = "alice"
        groups = ["release-managers"]
        [[auth.tokens]]
        token = "t-bob"
        user = "bob"
        groups = ["developers"]
    "#;
    let server = TestServer::with_clock(toml, START).await;
    let save = server
        .post("/pipelines")
        .bearer_auth("t-alice")
        .json(&config(
            "gated",
            json!([{"refId": "1", "name": "Approve", "type": "manualJudgment",
            "selectedStageRoles": ["release-managers"]}]),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(save.status(), 200);
    server.executions.tick().await.unwrap();
    let response = server
        .post("/pipelines/shop/gated")
        .bearer_auth("t-bob")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let id = json_of(response).await["ref"]
        .as_str()
        .unwrap()
        .trim_start_matches("/pipelines/")
        .to_owned();
    let mut execution = Value::Null;
    for _ in 0..100 {
        server.executions.tick().await.unwrap();
        execution = json_of(
            server
                .get(&format!("/pipelines/{id}"))
                .bearer_auth("t-bob")
                .send()
                .await
                .unwrap(),
        )
        .await;
        if stage(&execution, "1")["status"] == "RUNNING" {
            break;
        }
    }
    let stage_id = stage(&execution, "1")["id"].as_str().unwrap().to_owned();
    let path = format!("/pipelines/{id}/stages/{stage_id}");
    let refused = server
        .patch(&path)
        .bearer_auth("t-bob")
        .json(&json!({"judgmentStatus": "continue"}))
        .send()
        .await
        .unwrap();
    let message = gate_error(refused, 403).await;
    assert!(
        message.contains("bob") && message.contains("release-managers"),
        "{message}"
    );
    let accepted = server
        .patch(&path)
        .bearer_auth("t-alice")
        .json(&json!({"judgmentStatus": "continue"}))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    let anonymous = server
        .get(&format!("/pipelines/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
