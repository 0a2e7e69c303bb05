//! Each stage type through the engine's API: webhook and Jenkins against local servers on
//! 127.0.0.1 that answer like the real services (failures included), checkPreconditions,
//! evaluateVariables, child pipelines, execution windows, stage timeouts, infrastructure types.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::executions::START;
use crate::support::{TestServer, stage, stage_status};

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

fn one(name: &str, stages: Value) -> Value {
    json!({"application": "shop", "name": name, "stages": stages})
}

async fn run(server: &TestServer, config: Value, trigger: Value) -> Value {
    let name = config["name"].as_str().unwrap().to_owned();
    server.put_pipeline(config).await;
    let id = server.trigger("shop", &name, trigger).await;
    server.finish(&id).await
}

/// A deploy service: `POST /deploy` answers 202 with a `Location` to poll; the status answers
/// RUNNING once, then DONE. `POST /reject` answers 400 like a validating API.
async fn deploy_service() -> (String, Arc<AtomicUsize>) {
    let polls = Arc::new(AtomicUsize::new(0));
    let router = Router::new()
        .route(
            "/deploy",
            post(|body: axum::Json<Value>| async move {
                (
                    StatusCode::ACCEPTED,
                    [(header::LOCATION, "/deployments/9")],
                    axum::Json(json!({"id": 9, "echo": body.0})),
                )
            }),
        )
        .route(
            "/deployments/9",
            get(|State(polls): State<Arc<AtomicUsize>>| async move {
                let state = if polls.fetch_add(1, Ordering::SeqCst) == 0 {
                    "RUNNING"
                } else {
                    "DONE"
                };
                axum::Json(json!({"deployment": {"state": state}}))
            }),
        )
        .route(
            "/reject",
            post(|| async {
                (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"error": "version is required"})),
                )
            }),
        )
        .with_state(Arc::clone(&polls));
    (serve(router).await, polls)
}

#[tokio::test]
async fn webhook_stage_calls_then_polls_the_location_until_success() {
    let (base, polls) = deploy_service().await;
    let server = TestServer::with_clock("", START).await;
    let done = run(&server, one("hook", json!([{"refId": "1", "name": "Deploy", "type": "webhook",
        "url": format!("{base}/deploy"), "method": "POST", "payload": {"version": "${parameters.version}"},
        "waitForCompletion": true, "statusUrlResolution": "locationHeader",
        "statusJsonPath": "$.deployment.state", "successStatuses": "DONE", "terminalStatuses": "FAILED"}])),
        json!({"parameters": {"version": "4.2"}})).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert!(polls.load(Ordering::SeqCst) >= 2, "polled until DONE");
    let hook = &stage(&done, "1")["context"]["webhook"];
    assert_eq!(hook["statusCode"], "ACCEPTED", "{hook}");
    assert_eq!(hook["body"]["echo"]["version"], "4.2");
    assert_eq!(
        hook["monitor"]["body"]["deployment"]["state"], "DONE",
        "{hook}"
    );
}

#[tokio::test]
async fn webhook_stage_fails_on_a_client_error_answer() {
    let (base, _) = deploy_service().await;
    let server = TestServer::with_clock("", START).await;
    let done = run(
        &server,
        one(
            "reject",
            json!([{"refId": "1", "name": "Deploy", "type": "webhook",
        "url": format!("{base}/reject"), "method": "POST", "payload": {}}]),
        ),
        json!({}),
    )
    .await;
    assert_eq!(done["status"], "TERMINAL");
    let text = stage(&done, "1")["context"].to_string();
    assert!(text.contains("400"), "{text}");
}

/// A Jenkins master: build with parameters → queue item → build that reports its result
/// (`SUCCESS` for job `app`, `FAILURE` for job `broken`); unknown jobs 404. Jobs without
/// parameters are started with `/build`, as Jenkins wants.
async fn jenkins() -> String {
    async fn queue(Path(job): Path<String>) -> axum::response::Response {
        if job == "missing" {
            return StatusCode::NOT_FOUND.into_response();
        }
        let location = if job == "broken" {
            "/queue/item/2/"
        } else {
            "/queue/item/1/"
        };
        (StatusCode::CREATED, [(header::LOCATION, location)]).into_response()
    }
    let router = Router::new()
        .route("/job/{job}/buildWithParameters", post(queue))
        .route("/job/{job}/build", post(queue))
        .route(
            "/queue/item/{n}/api/json",
            get(|Path(n): Path<u32>| async move {
                axum::Json(json!({"executable": {"number": 40 + n}}))
            }),
        )
        .route(
            "/job/{job}/{n}/api/json",
            get(|Path((job, n)): Path<(String, u32)>| async move {
                let result = if job == "broken" {
                    "FAILURE"
                } else {
                    "SUCCESS"
                };
                axum::Json(json!({"building": false, "number": n, "result": result}))
            }),
        )
        .route(
            "/job/{job}/{n}/artifact/{file}",
            get(|| async { "version=7\n" }),
        );
    serve(router).await
}

#[tokio::test]
async fn jenkins_stage_runs_a_build_on_a_configured_master_and_maps_its_result() {
    let base = jenkins().await;
    let toml = format!(
        "[jenkins.masters.ci]\nurl = \"{base}/\"\nusername = \"bot\"\napi_token = \"tok\"\n"
    );
    let server = TestServer::with_clock(&toml, START).await;
    let ok = run(&server, one("build", json!([{"refId": "1", "name": "Build", "type": "jenkins",
        "master": "ci", "job": "app", "parameters": {"BRANCH": "main"}, "propertyFile": "build.properties"}])),
        json!({})).await;
    assert_eq!(ok["status"], "SUCCEEDED", "{ok}");
    assert_eq!(stage(&ok, "1")["context"]["buildNumber"], 41);
    assert_eq!(stage(&ok, "1")["outputs"]["version"], "7");

    let failed = run(
        &server,
        one(
            "broken",
            json!([{"refId": "1", "name": "Build", "type": "jenkins",
        "master": "ci", "job": "broken"}]),
        ),
        json!({}),
    )
    .await;
    assert_eq!(failed["status"], "TERMINAL");
    assert!(
        stage(&failed, "1").to_string().contains("FAILURE"),
        "{failed}"
    );

    let missing = run(
        &server,
        one(
            "missing",
            json!([{"refId": "1", "name": "Build", "type": "jenkins",
        "master": "ci", "job": "missing"}]),
        ),
        json!({}),
    )
    .await;
    assert_eq!(missing["status"], "TERMINAL");
}

#[tokio::test]
async fn jenkins_master_config_errors_name_the_field() {
    let error =
        engine::Config::parse("[jenkins.masters.ci]\nusername = \"x\"\n", "c.toml").unwrap_err();
    assert!(
        error.to_string().contains("jenkins.masters.ci.url"),
        "{error}"
    );
    let error = engine::Config::parse(
        "[jenkins.masters.ci]\nurl = \"http://j/\"\ntoken = \"x\"\n",
        "c.toml",
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("jenkins.masters.ci.token"),
        "{error}"
    );
    let config = engine::Config::parse(
        "[jenkins.masters.ci]\nurl = \"http://j/\"\napi_token = \"sekrit-9\"\n",
        "c.toml",
    )
    .unwrap();
    assert!(
        !format!("{config:?}").contains("sekrit-9"),
        "api tokens are redacted"
    );
    assert!(!format!("{:?}", config.jenkins.typed_masters().unwrap()).contains("sekrit-9"));
}

#[tokio::test]
async fn infrastructure_stages_end_terminal_naming_their_type() {
    let server = TestServer::with_clock("", START).await;
    let done = run(
        &server,
        one(
            "infra",
            json!([{"refId": "1", "name": "Deploy", "type": "deploy", "clusters": []}]),
        ),
        json!({}),
    )
    .await;
    assert_eq!(done["status"], "TERMINAL");
    let text = stage(&done, "1")["context"].to_string();
    assert!(
        text.contains("deploy") && text.contains("infrastructure"),
        "{text}"
    );
}

#[tokio::test]
async fn check_preconditions_expression_and_stage_status_and_cluster_size_without_aws() {
    let server = TestServer::with_clock("", START).await;
    let done = run(&server, one("pre", json!([
        {"refId": "1", "name": "First", "type": "wait", "waitTime": 0},
        {"refId": "2", "name": "Check", "type": "checkPreconditions", "requisiteStageRefIds": ["1"],
         "preconditions": [
            {"type": "expression", "context": {"expression": "${parameters.go == 'yes'}"}},
            {"type": "stageStatus", "context": {"stageName": "First", "stageStatus": "SUCCEEDED"}}]},
    ])), json!({"parameters": {"go": "yes"}})).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let refused = run(&server, one("pre2", json!([{"refId": "1", "name": "Check", "type": "checkPreconditions",
        "preconditions": [{"type": "clusterSize", "context": {"cluster": "shop-prod", "regions": ["us-east-1"],
        "credentials": "prod", "comparison": ">=", "expected": 1}}]}])), json!({})).await;
    assert_eq!(refused["status"], "TERMINAL");
    assert!(refused.to_string().contains("clusterSize"), "{refused}");
}

#[tokio::test]
async fn a_pipeline_stage_runs_the_child_and_takes_its_result() {
    let server = TestServer::with_clock("", START).await;
    let child = server
        .put_pipeline(json!({"application": "shop", "name": "child",
            "parameterConfig": [{"name": "who", "default": "nobody"}],
            "stages": [{"refId": "1", "name": "vars", "type": "evaluateVariables",
                "variables": [{"key": "greeting", "value": "hi ${parameters.who}"}]}]}))
        .await;
    let done = run(
        &server,
        one(
            "parent",
            json!([{"refId": "1", "name": "Run child", "type": "pipeline",
        "application": "shop", "pipeline": child["id"], "waitForCompletion": true,
        "pipelineParameters": {"who": "${trigger.user}"}}]),
        ),
        json!({}),
    )
    .await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let child_id = stage(&done, "1")["context"]["executionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let child_execution = server.execution(&child_id).await;
    assert_eq!(child_execution["status"], "SUCCEEDED");
    assert_eq!(child_execution["trigger"]["parameters"]["who"], "anonymous");
    assert_eq!(
        stage(&child_execution, "1")["outputs"]["greeting"],
        "hi anonymous"
    );

    let failing = server
        .put_pipeline(json!({"application": "shop", "name": "bad-child",
            "stages": [{"refId": "1", "name": "x", "type": "deploy"}]}))
        .await;
    let done = run(
        &server,
        one(
            "parent2",
            json!([{"refId": "1", "name": "Run child", "type": "pipeline",
        "application": "shop", "pipeline": failing["id"], "waitForCompletion": true}]),
        ),
        json!({}),
    )
    .await;
    assert_eq!(
        done["status"], "TERMINAL",
        "the parent stage takes the child's result"
    );
}

#[tokio::test]
async fn restricted_execution_window_waits_for_the_window_in_the_configured_zone() {
    let server = TestServer::with_clock("[scheduler]\ntimezone = \"UTC\"\n", START).await;
    server
        .put_pipeline(one("windowed", json!([{"refId": "1", "name": "Deploy", "type": "wait", "waitTime": 0,
            "restrictExecutionDuringTimeWindow": true,
            "restrictedExecutionWindow": {"whitelist": [{"startHour": 2, "startMin": 0, "endHour": 3, "endMin": 0}]}}])))
        .await;
    let id = server.trigger("shop", "windowed", json!({})).await;
    let before = server
        .until(&id, 60_000, |e| e["status"] == "RUNNING")
        .await;
    assert_eq!(stage_status(&before, "1"), "RUNNING");
    server.clock.advance(60 * 60_000);
    server.executions.tick().await.unwrap();
    assert_eq!(
        server.execution(&id).await["status"],
        "RUNNING",
        "01:00 is outside 02:00-03:00"
    );
    let done = server
        .until(&id, 60_000, |e| e["status"] != "RUNNING")
        .await;
    assert_eq!(done["status"], "SUCCEEDED");
    assert!(stage(&done, "1")["endTime"].as_i64().unwrap() >= START + 2 * 3_600_000);
}

#[tokio::test]
async fn a_stage_timeout_fails_a_judgment_nobody_answers() {
    let server = TestServer::with_clock("", START).await;
    server
        .put_pipeline(one(
            "timed",
            json!([{"refId": "1", "name": "Approve", "type": "manualJudgment",
            "overrideTimeout": true, "stageTimeoutMs": 120_000}]),
        ))
        .await;
    let id = server.trigger("shop", "timed", json!({})).await;
    let done = server
        .until(&id, 30_000, |e| {
            e["status"] != "RUNNING" && e["status"] != "NOT_STARTED"
        })
        .await;
    assert_eq!(done["status"], "TERMINAL", "{done}");
    assert!(done["endTime"].as_i64().unwrap() >= START + 120_000);
}
