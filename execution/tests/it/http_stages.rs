//! Webhook and Jenkins stages against local servers on 127.0.0.1 that answer like the real
//! services, failures included.

use crate::support::{Harness, pipeline};
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use execution::ExecutionStatus::*;
use execution::StageRegistry;
use execution::secret::Secret;
use execution::stages::jenkins::{JenkinsMaster, JenkinsMasters};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Seen {
    polls: AtomicUsize,
    flaky: AtomicUsize,
    cancels: AtomicUsize,
    bodies: Mutex<Vec<Value>>,
    headers: Mutex<Vec<String>>,
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

async fn webhook_server() -> (String, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let router = Router::new()
        .route(
            "/deploy",
            post(|State(s): State<Arc<Seen>>, headers: HeaderMap, body: axum::Json<Value>| async move {
                s.bodies.lock().expect("lock").push(body.0);
                let token = headers.get("x-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
                s.headers.lock().expect("lock").push(token.to_owned());
                (StatusCode::ACCEPTED, [(header::LOCATION, "/status/1")], axum::Json(json!({"id": 1})))
            }),
        )
        .route(
            "/status/1",
            get(|State(s): State<Arc<Seen>>| async move {
                let n = s.polls.fetch_add(1, Ordering::SeqCst);
                let state = if n == 0 { "running" } else { " Done " };
                axum::Json(json!({"job": {"state": state}, "message": format!("poll {n}")}))
            }),
        )
        .route("/broken/1", get(|| async { axum::Json(json!({"job": {"state": "EXPLODED"}})) }))
        .route(
            "/flaky",
            post(|State(s): State<Arc<Seen>>| async move {
                if s.flaky.fetch_add(1, Ordering::SeqCst) == 0 {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }),
        )
        .route(
            "/cancel",
            post(|State(s): State<Arc<Seen>>| async move {
                s.cancels.fetch_add(1, Ordering::SeqCst);
                StatusCode::OK
            }),
        )
        .with_state(seen.clone());
    (serve(router).await, seen)
}

fn harness() -> Harness {
    harness_with(HashMap::new())
}

fn harness_with(masters: JenkinsMasters) -> Harness {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .expect("client");
    Harness::with(StageRegistry::standard(http, masters), HashMap::new())
}

fn webhook_stage(url: &str, extra: Value) -> Value {
    let mut stage = json!({"refId": "1", "name": "Hook", "type": "webhook", "url": url, "method": "post",
        "customHeaders": {"X-Token": "${parameters.token}"}, "payload": {"version": "${parameters.version}"}});
    if let (Some(stage), Some(extra)) = (stage.as_object_mut(), extra.as_object()) {
        stage.extend(extra.clone());
    }
    stage
}

#[tokio::test]
async fn webhook_calls_then_polls_the_location_header_until_success() {
    let (base, seen) = webhook_server().await;
    let mut h = harness();
    let stage = webhook_stage(
        &format!("{base}/deploy"),
        json!({"waitForCompletion": true,
        "statusUrlResolution": "locationHeader", "statusJsonPath": "$.job.state", "progressJsonPath": "$.message",
        "successStatuses": "DONE", "terminalStatuses": "FAILED"}),
    );
    let trigger = json!({"parameters": {"token": "t-42", "version": "1.2.3"}});
    let id = h.run_with(pipeline(json!([stage])), Some(trigger)).await;
    assert_eq!(
        seen.bodies.lock().expect("lock").clone(),
        vec![json!({"version": "1.2.3"})]
    );
    assert_eq!(
        seen.headers.lock().expect("lock").clone(),
        vec!["t-42".to_owned()]
    );
    let hook = &h.stage(&id, "Hook").context["webhook"];
    assert_eq!(hook["statusCodeValue"], json!(202));
    assert_eq!(hook["statusEndpoint"], json!(format!("{base}/status/1")));
    assert_eq!(h.status(&id), Running, "first poll says running");
    h.advance(1_000).await;
    assert_eq!(h.status(&id), Succeeded);
    assert_eq!(
        h.stage(&id, "Hook").context["webhook"]["monitor"]["progressMessage"],
        json!("poll 1")
    );
}

#[tokio::test]
async fn webhook_terminal_status_and_client_errors_fail_the_stage() {
    let (base, _) = webhook_server().await;
    let mut h = harness();
    let stage = webhook_stage(
        &format!("{base}/deploy"),
        json!({"waitForCompletion": true,
        "statusUrlResolution": "webhookResponse", "statusUrlJsonPath": "$.missing",
        "statusJsonPath": "$.job.state", "successStatuses": "DONE"}),
    );
    let unresolvable = h.run(pipeline(json!([stage]))).await;
    assert_eq!(
        h.status(&unresolvable),
        Terminal,
        "an unresolvable status URL is TERMINAL"
    );

    let monitor_only = json!({"refId": "1", "name": "Hook", "type": "webhook", "url": format!("{base}/broken/1"),
        "waitForCompletion": true, "monitorOnly": true, "statusJsonPath": "$.job.state",
        "successStatuses": "DONE", "terminalStatuses": "exploded"});
    let broken = h.run(pipeline(json!([monitor_only]))).await;
    assert_eq!(h.status(&broken), Terminal);

    let missing = h
        .run(pipeline(json!([webhook_stage(
            &format!("{base}/nope"),
            json!({})
        )])))
        .await;
    assert_eq!(h.status(&missing), Terminal, "404 fails at once");
    assert_eq!(
        h.stage(&missing, "Hook").context["webhook"]["statusCodeValue"],
        json!(404)
    );
}

#[tokio::test]
async fn webhook_retries_server_errors_and_calls_the_cancel_endpoint() {
    let (base, seen) = webhook_server().await;
    let mut h = harness();
    let id = h
        .run(pipeline(json!([webhook_stage(
            &format!("{base}/flaky"),
            json!({})
        )])))
        .await;
    assert_eq!(h.status(&id), Running, "500 is retried");
    h.advance(10_000).await;
    assert_eq!(h.status(&id), Succeeded);
    assert_eq!(seen.flaky.load(Ordering::SeqCst), 2);

    let stage = webhook_stage(
        &format!("{base}/deploy"),
        json!({"waitForCompletion": true,
        "statusUrlResolution": "locationHeader", "statusJsonPath": "$.never", "cancelEndpoint": format!("{base}/cancel")}),
    );
    let run = h.run(pipeline(json!([stage]))).await;
    h.executor
        .cancel(&run, "alice", None, h.now())
        .expect("cancel");
    h.settle().await;
    assert_eq!(h.status(&run), Canceled);
    assert_eq!(seen.cancels.load(Ordering::SeqCst), 1);
}

#[derive(Default)]
struct Jenkins {
    queue_polls: AtomicUsize,
    build_polls: AtomicUsize,
    queries: Mutex<Vec<String>>,
    auth: Mutex<Vec<String>>,
    stopped: AtomicUsize,
}

async fn jenkins_server() -> (String, Arc<Jenkins>) {
    let state = Arc::new(Jenkins::default());
    let router = Router::new()
        .route(
            "/job/{job}/buildWithParameters",
            post(|State(s): State<Arc<Jenkins>>, Path(job): Path<String>, RawQuery(q): RawQuery, headers: HeaderMap| async move {
                if job == "missing" {
                    return StatusCode::NOT_FOUND.into_response();
                }
                s.queries.lock().expect("lock").push(q.unwrap_or_default());
                let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
                s.auth.lock().expect("lock").push(auth.to_owned());
                (StatusCode::CREATED, [(header::LOCATION, "http://jenkins.local/queue/item/7/")]).into_response()
            }),
        )
        .route(
            "/queue/item/7/api/json",
            get(|State(s): State<Arc<Jenkins>>| async move {
                if s.queue_polls.fetch_add(1, Ordering::SeqCst) == 0 {
                    axum::Json(json!({"why": "Waiting for next available executor"}))
                } else {
                    axum::Json(json!({"executable": {"number": 42, "url": "http://jenkins.local/job/x/42/"}}))
                }
            }),
        )
        .route(
            "/job/{job}/42/api/json",
            get(|State(s): State<Arc<Jenkins>>, Path(job): Path<String>| async move {
                match s.build_polls.fetch_add(1, Ordering::SeqCst) {
                    0 => axum::Json(json!({"building": true, "number": 42})).into_response(),
                    1 => StatusCode::SERVICE_UNAVAILABLE.into_response(),
                    _ => {
                        let result = if job.starts_with("unstable") { "UNSTABLE" } else { "SUCCESS" };
                        axum::Json(json!({"building": false, "number": 42, "result": result})).into_response()
                    }
                }
            }),
        )
        .route(
            "/job/{job}/42/artifact/{file}",
            get(|Path((_, file)): Path<(String, String)>| async move {
                if file == "build.properties" {
                    "version=1.2.3\nimage=registry/app:42\n".into_response()
                } else {
                    StatusCode::NOT_FOUND.into_response()
                }
            }),
        )
        .route(
            "/job/{job}/42/stop",
            post(|State(s): State<Arc<Jenkins>>| async move {
                s.stopped.fetch_add(1, Ordering::SeqCst);
                StatusCode::FOUND
            }),
        )
        .with_state(state.clone());
    (serve(router).await, state)
}

fn masters(base: &str) -> JenkinsMasters {
    let mut masters = HashMap::new();
    masters.insert(
        "ci".to_owned(),
        JenkinsMaster {
            address: format!("{base}/"),
            username: Some("bot".into()),
            api_token: Some(Secret::new("s3cr3t-value")),
        },
    );
    masters
}

fn jenkins_stage(job: &str, extra: Value) -> Value {
    let mut stage = json!({"refId": "1", "name": "Build", "type": "jenkins", "master": "ci", "job": job,
        "parameters": {"BRANCH": "main"}});
    if let (Some(stage), Some(extra)) = (stage.as_object_mut(), extra.as_object()) {
        stage.extend(extra.clone());
    }
    stage
}

#[tokio::test]
async fn jenkins_queue_then_build_then_properties() {
    let (base, server) = jenkins_server().await;
    let mut h = harness_with(masters(&base));
    let id = h
        .run(pipeline(json!([jenkins_stage("app-build", json!({"propertyFile": "build.properties"})),
            {"refId": "2", "name": "Use", "type": "wait", "waitTime": 0, "requisiteStageRefIds": ["1"], "note": "${version}"}])))
        .await;
    assert_eq!(
        server.queries.lock().expect("lock").clone(),
        vec!["BRANCH=main".to_owned()]
    );
    assert_eq!(
        server.auth.lock().expect("lock")[0],
        "Basic Ym90OnMzY3IzdC12YWx1ZQ==",
        "user:token basic auth"
    );
    assert_eq!(h.stage(&id, "Build").context["queuedBuild"], json!(7));
    h.advance(5_000).await; // the queue item now has a build number; the first poll says building
    assert_eq!(h.stage(&id, "Build").context["buildNumber"], json!(42));
    assert_eq!(h.status(&id), Running);
    h.advance(5_000).await; // 503 from Jenkins: retried
    assert_eq!(h.status(&id), Running);
    h.advance(5_000).await;
    assert_eq!(h.status(&id), Succeeded);
    let build = h.stage(&id, "Build");
    assert_eq!(build.outputs["version"], json!("1.2.3"));
    assert_eq!(build.outputs["buildInfo"]["result"], json!("SUCCESS"));
    assert_eq!(
        h.stage(&id, "Use").context["note"],
        json!("1.2.3"),
        "properties are visible downstream"
    );
}

#[tokio::test]
async fn jenkins_unstable_builds_fail_unless_marked_successful() {
    for (mark, expected) in [(false, Terminal), (true, Succeeded)] {
        let (base, _) = jenkins_server().await;
        let mut h = harness_with(masters(&base));
        let id = h
            .run(pipeline(json!([jenkins_stage(
                "unstable-app",
                json!({"markUnstableAsSuccessful": mark})
            )])))
            .await;
        for _ in 0..3 {
            h.advance(5_000).await;
        }
        assert_eq!(h.status(&id), expected, "markUnstableAsSuccessful={mark}");
        if !mark {
            assert_eq!(
                h.stage(&id, "Build").context["exception"]["details"]["error"],
                json!("Job is unstable")
            );
        }
    }
}

#[tokio::test]
async fn jenkins_missing_job_master_and_cancel() {
    let (base, server) = jenkins_server().await;
    let mut h = harness_with(masters(&base));
    let missing = h
        .run(pipeline(json!([jenkins_stage("missing", json!({}))])))
        .await;
    assert_eq!(h.status(&missing), Terminal);
    let error = h.stage(&missing, "Build").context["exception"]["details"]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        error.contains("'missing'") && error.contains("not found"),
        "{error}"
    );

    let mut unknown = jenkins_stage("app", json!({}));
    unknown["master"] = json!("nowhere");
    let no_master = h.run(pipeline(json!([unknown]))).await;
    assert_eq!(h.status(&no_master), Terminal);

    let run = h
        .run(pipeline(json!([jenkins_stage("app-build", json!({}))])))
        .await;
    h.advance(5_000).await;
    assert_eq!(h.stage(&run, "Build").context["buildNumber"], json!(42));
    h.executor
        .cancel(&run, "alice", None, h.now())
        .expect("cancel");
    h.settle().await;
    assert_eq!(
        server.stopped.load(Ordering::SeqCst),
        1,
        "the build is stopped"
    );
    assert!(
        !format!("{:?}", masters(&base)).contains("s3cr3t-value"),
        "the token never prints"
    );
}

#[tokio::test]
async fn a_polling_webhook_goes_on_after_a_restart() {
    let (base, seen) = webhook_server().await;
    let mut h = harness();
    let stage = webhook_stage(
        &format!("{base}/deploy"),
        json!({"waitForCompletion": true,
        "statusUrlResolution": "locationHeader", "statusJsonPath": "$.job.state", "successStatuses": "DONE"}),
    );
    let id = h.run(pipeline(json!([stage]))).await;
    assert_eq!(h.status(&id), Running);
    assert_eq!(seen.polls.load(Ordering::SeqCst), 1);

    let mut fresh = harness();
    fresh.clock.set(h.now() + 30_000);
    let snapshot: Vec<String> = h
        .store
        .executions()
        .map(|e| serde_json::to_string(e).expect("json"))
        .collect();
    drop(h);
    for text in snapshot {
        let execution: execution::Execution = serde_json::from_str(&text).expect("parses");
        execution::Store::commit(
            &mut fresh.store,
            &[execution::Change::Created(Box::new(execution.clone()))],
        )
        .expect("seed");
        fresh.executor.load(execution, fresh.now());
    }
    fresh.settle().await;
    assert_eq!(
        fresh.status(&id),
        Succeeded,
        "the monitor polled again and saw DONE"
    );
    assert_eq!(seen.polls.load(Ordering::SeqCst), 2);
    assert_eq!(
        seen.bodies.lock().expect("lock").len(),
        1,
        "the webhook itself was not called again"
    );
}
