//! Gate's `TaskController`: task submission, the task view, the deprecated per-application paths.

use crate::support::{TestServer, gate_error, json_of};
use serde_json::json;

#[tokio::test]
async fn task_view_has_orcas_shape() {
    let server = TestServer::start().await;
    let view = server.create_app("shape", json!({})).await;
    let id = view["id"].as_str().unwrap();
    assert_eq!(id.len(), 26, "ULID: {id}");
    assert_eq!(view["name"], "Create Application: shape");
    assert_eq!(view["application"], "shape");
    for key in ["buildTime", "startTime", "endTime"] {
        assert!(view[key].is_i64(), "{key}: {view}");
    }
    let step = &view["steps"][0];
    assert_eq!(step["name"], "upsertApplication");
    assert_eq!(step["status"], "SUCCEEDED");
    assert!(
        step["implementingClass"]
            .as_str()
            .unwrap()
            .ends_with("UpsertApplicationTask")
    );
    assert!(
        view["variables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["key"] == "application")
    );
    let execution = &view["execution"];
    assert_eq!(execution["type"], "ORCHESTRATION");
    assert_eq!(execution["id"], id);
    assert_eq!(execution["stages"][0]["type"], "createApplication");
}

#[tokio::test]
async fn deprecated_application_task_paths_work() {
    let server = TestServer::start().await;
    let response = server
        .post("/applications/legacy/tasks")
        .json(
            &json!({"description": "legacy", "job": [{"type": "createApplication",
            "application": {"name": "legacy", "email": "l@example.com"}}]}),
        )
        .send()
        .await
        .unwrap();
    let reference = json_of(response).await["ref"].as_str().unwrap().to_owned();
    let id = reference.trim_start_matches("/tasks/");
    let view = json_of(
        server
            .get(&format!("/applications/legacy/tasks/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(view["status"], "SUCCEEDED");
    assert_eq!(view["application"], "legacy");
}

#[tokio::test]
async fn unknown_task_is_404() {
    let server = TestServer::start().await;
    let message = gate_error(
        server
            .get("/tasks/01J00000000000000000000000")
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    assert!(message.contains("01J00000000000000000000000"), "{message}");
}

#[tokio::test]
async fn malformed_task_documents_are_400_naming_the_field() {
    let server = TestServer::start().await;
    for (body, field) in [
        (json!({"description": "x"}), "job"),
        (json!({"job": {"type": "createApplication"}}), "job"),
        (json!({"job": [42]}), "job[0]"),
        (json!({"job": [{"application": {}}]}), "job[0].type"),
        (json!([1, 2]), "object"),
    ] {
        let message =
            gate_error(server.post("/tasks").json(&body).send().await.unwrap(), 400).await;
        assert!(message.contains(field), "{body}: {message}");
    }
}

#[tokio::test]
async fn unsupported_job_type_fails_the_task_and_skips_later_stages() {
    let server = TestServer::start().await;
    let view = server
        .task(json!({"description": "x", "job": [
            {"type": "deployManifest"},
            {"type": "createApplication", "application": {"name": "later", "email": "a@b"}}
        ]}))
        .await;
    assert_eq!(view["status"], "TERMINAL");
    assert_eq!(view["execution"]["stages"][1]["status"], "NOT_STARTED");
    assert_eq!(
        server
            .get("/applications/later")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}
