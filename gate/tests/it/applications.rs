//! Applications and tasks: create/update/delete through tasks, reads, task polling.

use std::time::Duration;

use axum::http::Method;
use gate::{Error, ExecutionStatus, TaskRef};
use serde_json::json;

use crate::app_spec;
use crate::mock::{MockAuth, MockGate};

#[tokio::test]
async fn upsert_creates_then_updates_and_reads_back() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();

    let created = client
        .upsert_application(&app_spec("Payments"))
        .await
        .expect("create");
    assert_eq!(created.status, ExecutionStatus::Succeeded);
    let task_name = gate.state().tasks[&created.id]["name"].clone();
    assert_eq!(task_name, json!("Create Application: payments"));

    let app = client
        .get_application("payments")
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(app.name, "payments");
    assert_eq!(app.email(), Some("team@example.com"));
    assert_eq!(app.description(), Some("payments service"));
    assert_eq!(app.cloud_providers(), vec!["aws", "kubernetes"]);
    assert_eq!(app.permissions().expect("permissions").write, vec!["sre"]);
    assert!(!app.user_attributes().contains_key("updateTs"));
    assert!(!app.user_attributes().contains_key("name"));

    let mut changed = app_spec("payments");
    changed.description = Some("new text".into());
    let updated = client.upsert_application(&changed).await.expect("update");
    assert_eq!(
        gate.state().tasks[&updated.id]["name"],
        json!("Update Application: payments")
    );
    let app = client
        .get_application("PAYMENTS")
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(app.description(), Some("new text"));

    // Reads skip Clouddriver's cluster expansion.
    let reads = gate
        .state()
        .seen
        .iter()
        .filter(|r| r.path == "/applications/payments")
        .count();
    assert!(reads >= 2);
    assert!(
        gate.state()
            .seen
            .iter()
            .filter(|r| r.path == "/applications/payments")
            .all(|r| r.query.as_deref() == Some("expand=false"))
    );

    let all = client.list_applications().await.expect("list");
    assert_eq!(
        all.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        vec!["payments"]
    );
}

#[tokio::test]
async fn explicit_create_and_update_skip_the_read() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    let created = client
        .create_application(&app_spec("direct"))
        .await
        .expect("create");
    let mut spec = app_spec("direct");
    spec.extra.insert("instancePort".into(), json!(8080));
    let updated = client.update_application(&spec).await.expect("update");
    assert_eq!(
        gate.state().tasks[&created.id]["name"],
        json!("Create Application: direct")
    );
    assert_eq!(
        gate.state().tasks[&updated.id]["name"],
        json!("Update Application: direct")
    );
    assert_eq!(client.stats().count("GET /applications/{app}"), 0);
    let stored = gate.state().applications["direct"].clone();
    assert_eq!(stored["instancePort"], json!(8080));
    assert_eq!(stored["cloudProviders"], json!("aws,kubernetes"));
    assert_eq!(stored["permissions"]["EXECUTE"], json!(["sre"]));
}

#[tokio::test]
async fn missing_application_reads_as_none() {
    let gate = MockGate::start(MockAuth::Open).await;
    assert_eq!(
        gate.client().get_application("nope").await.expect("read"),
        None
    );
}

#[tokio::test]
async fn failed_task_reports_orca_error() {
    let gate = MockGate::start(MockAuth::Open).await;
    let mut spec = app_spec("noemail");
    spec.email.clear();
    let error = gate
        .client()
        .upsert_application(&spec)
        .await
        .expect_err("must fail");
    match &error {
        Error::TaskFailed {
            status, message, ..
        } => {
            assert_eq!(status, "TERMINAL");
            assert_eq!(message, "Application must have a non-empty email");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        error
            .to_string()
            .contains("Application must have a non-empty email")
    );
}

#[tokio::test]
async fn empty_name_is_rejected_before_any_request() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    let error = client
        .upsert_application(&app_spec(" "))
        .await
        .expect_err("must fail");
    assert!(
        matches!(error, Error::InvalidRequest { field: "name", .. }),
        "{error:?}"
    );
    assert_eq!(client.stats().total(), 0);
}

#[tokio::test]
async fn delete_application_removes_it() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    client
        .upsert_application(&app_spec("doomed"))
        .await
        .expect("create");
    let outcome = client.delete_application("doomed").await.expect("delete");
    assert_eq!(outcome.status, ExecutionStatus::Succeeded);
    assert_eq!(client.get_application("doomed").await.expect("read"), None);
}

#[tokio::test]
async fn wait_for_task_polls_until_complete() {
    let gate = MockGate::start(MockAuth::Open).await;
    gate.state().task_running_polls = 2;
    let client = gate.client();
    let task = client
        .submit_task(
            &json!({"application": "polled", "description": "x", "job": [
                {"type": "createApplication", "application": {"name": "polled", "email": "a@b.c"}}
            ]}),
        )
        .await
        .expect("submit");
    let view = client.wait_for_task(&task).await.expect("wait");
    assert_eq!(view.status, Some(ExecutionStatus::Succeeded));
    assert_eq!(view.application.as_deref(), Some("polled"));
    assert_eq!(
        gate.seen_count(Method::GET, &format!("/tasks/{}", task.id)),
        3
    );
    assert_eq!(client.stats().count("GET /tasks/{id}"), 3);
}

#[tokio::test]
async fn wait_for_task_gives_up_at_task_timeout() {
    let gate = MockGate::start(MockAuth::Open).await;
    gate.state().task_running_polls = u32::MAX;
    let mut config = gate.config();
    config.task_timeout = Duration::from_millis(400);
    let client = gate::Client::new(config).expect("client");
    let task = client
        .submit_task(&json!({"application": "slow", "job": [
            {"type": "createApplication", "application": {"name": "slow", "email": "a@b.c"}}
        ]}))
        .await
        .expect("submit");
    let error = client
        .wait_for_task(&task)
        .await
        .expect_err("must time out");
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    assert!(error.to_string().contains(&task.id));
}

#[tokio::test]
async fn waiting_for_a_task_that_never_appears_gives_up_early() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    let started = std::time::Instant::now();
    let error = client
        .wait_for_task(&TaskRef {
            id: "01GHOST".into(),
        })
        .await
        .expect_err("never appears");
    assert!(error.is_not_found(), "{error:?}");
    // Six polls, far below the 10 s task timeout.
    assert_eq!(client.stats().count("GET /tasks/{id}"), 6);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn unknown_task_is_not_found() {
    let gate = MockGate::start(MockAuth::Open).await;
    let error = gate.client().get_task("01NOPE").await.expect_err("404");
    assert!(error.is_not_found(), "{error:?}");
    assert_eq!(
        TaskRef::from_ref("/tasks/01ABC").map(|t| t.id),
        Some("01ABC".to_owned())
    );
}
