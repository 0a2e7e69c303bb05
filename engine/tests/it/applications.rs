//! Gate's `ApplicationController` reads and the application jobs behind `POST /tasks`.

use crate::support::{TestServer, gate_error, json_of};
use serde_json::{Value, json};

fn exception_message(view: &Value) -> String {
    let variables = view["variables"].as_array().unwrap();
    let exception = variables
        .iter()
        .find(|v| v["key"] == "exception")
        .unwrap_or_else(|| panic!("no exception variable in {view}"));
    let value = &exception["value"];
    assert_eq!(value["shouldRetry"], false);
    assert!(value["exceptionType"].is_string());
    assert!(value["operation"].is_string());
    assert!(value["timestamp"].is_number());
    value["details"]["errors"][0].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn create_then_read_lowercases_and_stamps() {
    let server = TestServer::start().await;
    server
        .create_app("MyApp", json!({"cloudProviders": ["aws", "kubernetes"], "description": "d", "custom": {"x": 1}}))
        .await;
    let response = server.get("/applications/MYAPP").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let app = json_of(response).await;
    assert_eq!(app["name"], "myapp");
    assert_eq!(app["clusters"], json!({}));
    let attrs = &app["attributes"];
    assert_eq!(attrs["name"], "myapp");
    assert_eq!(attrs["email"], "team@example.com");
    assert_eq!(attrs["cloudProviders"], "aws,kubernetes");
    assert_eq!(attrs["custom"], json!({"x": 1}));
    assert_eq!(attrs["lastModifiedBy"], "anonymous");
    assert!(attrs["createTs"].as_str().unwrap().parse::<i64>().is_ok());
    assert!(attrs["updateTs"].as_str().unwrap().parse::<i64>().is_ok());
}

#[tokio::test]
async fn unknown_application_is_404_with_gates_message() {
    let server = TestServer::start().await;
    let message = gate_error(server.get("/applications/ghost").send().await.unwrap(), 404).await;
    assert_eq!(message, "Application not found (id: ghost)");
}

#[tokio::test]
async fn update_merges_attributes_and_keeps_create_ts() {
    let server = TestServer::start().await;
    server
        .create_app("merge", json!({"description": "old", "repoType": "github"}))
        .await;
    let before = json_of(server.get("/applications/merge").send().await.unwrap()).await;
    let view = server
        .task(json!({
            "application": "merge",
            "description": "Update Application: merge",
            "job": [{"type": "updateApplication", "application": {"name": "merge", "description": "new"}}],
        }))
        .await;
    assert_eq!(view["status"], "SUCCEEDED", "{view}");
    let after = json_of(server.get("/applications/merge").send().await.unwrap()).await;
    assert_eq!(after["attributes"]["description"], "new");
    assert_eq!(after["attributes"]["repoType"], "github");
    assert_eq!(after["attributes"]["email"], "team@example.com");
    assert_eq!(
        after["attributes"]["createTs"],
        before["attributes"]["createTs"]
    );
}

#[tokio::test]
async fn create_on_existing_application_upserts() {
    let server = TestServer::start().await;
    server
        .create_app("twice", json!({"description": "one"}))
        .await;
    server
        .create_app("twice", json!({"description": "two"}))
        .await;
    let apps = json_of(server.get("/applications").send().await.unwrap()).await;
    let twice: Vec<_> = apps
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["name"] == "twice")
        .collect();
    assert_eq!(twice.len(), 1);
    assert_eq!(twice[0]["description"], "two");
}

#[tokio::test]
async fn missing_email_gives_terminal_task_and_stores_nothing() {
    let server = TestServer::start().await;
    let view = server
        .task(json!({
            "application": "noemail",
            "description": "Create Application: noemail",
            "job": [{"type": "createApplication", "application": {"name": "noemail"}}],
        }))
        .await;
    assert_eq!(view["status"], "TERMINAL");
    assert_eq!(
        exception_message(&view),
        "Application must have a non-empty email"
    );
    assert_eq!(view["execution"]["stages"][0]["status"], "TERMINAL");
    assert_eq!(
        server
            .get("/applications/noemail")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn missing_name_gives_orcas_message() {
    let server = TestServer::start().await;
    let view = server
        .task(json!({"description": "x", "job": [{"type": "createApplication", "application": {"email": "a@b"}}]}))
        .await;
    assert_eq!(view["status"], "TERMINAL");
    assert_eq!(
        exception_message(&view),
        "Missing one or more required task parameters (application.name)"
    );
}

#[tokio::test]
async fn name_is_validated_for_its_cloud_provider() {
    let server = TestServer::start().await;
    let view = server
        .task(json!({"description": "x", "job": [{"type": "createApplication",
            "application": {"name": "1bad_name", "email": "a@b", "cloudProviders": "kubernetes"}}]}))
        .await;
    assert_eq!(view["status"], "TERMINAL");
    assert!(exception_message(&view).contains("kubernetes"));
}

#[tokio::test]
async fn delete_removes_and_unknown_delete_succeeds() {
    let server = TestServer::start().await;
    server.create_app("gone", json!({})).await;
    let delete = |name: &str| {
        json!({"application": name, "description": format!("Delete Application: {name}"),
               "job": [{"type": "deleteApplication", "application": {"name": name}}]})
    };
    let view = server.task(delete("gone")).await;
    assert_eq!(view["status"], "SUCCEEDED", "{view}");
    assert_eq!(view["steps"].as_array().unwrap().len(), 2);
    assert_eq!(
        server
            .get("/applications/gone")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let view = server.task(delete("never-existed")).await;
    assert_eq!(view["status"], "SUCCEEDED");
}

#[tokio::test]
async fn list_filters_by_account_and_owner() {
    let server = TestServer::start().await;
    server
        .create_app(
            "one",
            json!({"accounts": "prod,staging", "email": "ONE@example.com"}),
        )
        .await;
    server
        .create_app(
            "two",
            json!({"accounts": "test", "email": "two@example.com"}),
        )
        .await;
    let names = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = json_of(server.get("/applications").send().await.unwrap()).await;
    assert_eq!(names(all), ["one", "two"]);
    let prod = json_of(
        server
            .get("/applications?account=PROD")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(names(prod), ["one"]);
    let owned = json_of(
        server
            .get("/applications?owner=two@EXAMPLE.com")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(names(owned), ["two"]);
}

#[tokio::test]
async fn user_header_is_recorded_when_auth_is_off() {
    let server = TestServer::start().await;
    let response = server
        .post("/tasks")
        .header("X-SPINNAKER-USER", "carol@example.com")
        .json(
            &json!({"description": "c", "job": [{"type": "createApplication",
            "application": {"name": "carol", "email": "c@example.com"}}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let app = json_of(server.get("/applications/carol").send().await.unwrap()).await;
    assert_eq!(app["attributes"]["lastModifiedBy"], "carol@example.com");
}
