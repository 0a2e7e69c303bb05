//! Token mode: 401 without credentials, Fiat-style READ/WRITE by group, open applications.

use crate::support::{TestServer, gate_error, json_of};
use serde_json::json;

const CONFIG: &str = r#"
[auth]
mode = "token"
[[auth.tokens]]
token = "dev-token"
user = "dev@example.com"
groups = ["Developers"]
[[auth.tokens]]
token = "ops-token"
user = "ops@example.com"
groups = ["ops"]
[[auth.tokens]]
token = "nobody-token"
user = "nobody@example.com"
"#;

#[tokio::test]
async fn credentials_are_required_except_for_health() {
    let server = TestServer::with_config(CONFIG).await;
    gate_error(server.get("/applications").send().await.unwrap(), 401).await;
    gate_error(
        server
            .get("/applications")
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
    gate_error(
        server
            .get("/applications")
            .header("Authorization", "Basic ZGV2OmRldg==")
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
    assert_eq!(server.get("/health").send().await.unwrap().status(), 200);
    assert_eq!(
        server
            .get("/applications")
            .bearer_auth("dev-token")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

async fn create_restricted(server: &TestServer) {
    let response = server
        .post("/tasks")
        .bearer_auth("ops-token")
        .json(
            &json!({"description": "c", "job": [{"type": "createApplication", "application": {
            "name": "locked", "email": "ops@example.com",
            "permissions": {"READ": ["developers", "ops"], "WRITE": ["ops"]}}}]}),
        )
        .send()
        .await
        .unwrap();
    let reference = json_of(response).await["ref"].as_str().unwrap().to_owned();
    let view = json_of(
        server
            .get(&reference)
            .bearer_auth("ops-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(view["status"], "SUCCEEDED", "{view}");
    assert_eq!(
        view["execution"]["authentication"]["user"], "ops@example.com",
        "the task records the token's user"
    );
}

#[tokio::test]
async fn restricted_application_enforces_read_and_write_by_group() {
    let server = TestServer::with_config(CONFIG).await;
    create_restricted(&server).await;
    let pipeline = json!({"application": "locked", "name": "p"});

    // READ: dev and ops yes, nobody no (and hidden from the list).
    assert_eq!(
        server
            .get("/applications/locked")
            .bearer_auth("dev-token")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    gate_error(
        server
            .get("/applications/locked")
            .bearer_auth("nobody-token")
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    let listed = json_of(
        server
            .get("/applications")
            .bearer_auth("nobody-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(listed, json!([]));
    gate_error(
        server
            .get("/applications/locked/pipelineConfigs")
            .bearer_auth("nobody-token")
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;

    // WRITE: only ops.
    let message = gate_error(
        server
            .post("/pipelines")
            .bearer_auth("dev-token")
            .json(&pipeline)
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    assert_eq!(message, "Access is denied");
    assert_eq!(
        server
            .post("/pipelines")
            .bearer_auth("ops-token")
            .json(&pipeline)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let saved = json_of(
        server
            .get("/applications/locked/pipelineConfigs/p")
            .bearer_auth("dev-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(saved["lastModifiedBy"], "ops@example.com");
    gate_error(
        server
            .delete("/pipelines/locked/p")
            .bearer_auth("dev-token")
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;

    // Application updates need WRITE too; a refused task stores nothing.
    let update = json!({"description": "u", "job": [{"type": "updateApplication",
        "application": {"name": "locked", "description": "hijacked"}}]});
    gate_error(
        server
            .post("/tasks")
            .bearer_auth("dev-token")
            .json(&update)
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    let app = json_of(
        server
            .get("/applications/locked")
            .bearer_auth("ops-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(app["attributes"].get("description").is_none());

    // Canary configs follow their applications' permissions.
    let canary = json!({"name": "c", "applications": ["locked"]});
    gate_error(
        server
            .post("/v2/canaryConfig")
            .bearer_auth("dev-token")
            .json(&canary)
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    assert_eq!(
        server
            .post("/v2/canaryConfig")
            .bearer_auth("ops-token")
            .json(&canary)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn application_without_permissions_is_open_to_every_authenticated_user() {
    let server = TestServer::with_config(CONFIG).await;
    let response = server
        .post("/tasks")
        .bearer_auth("nobody-token")
        .json(
            &json!({"description": "c", "job": [{"type": "createApplication",
            "application": {"name": "open", "email": "x@example.com"}}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    for token in ["dev-token", "nobody-token"] {
        let pipeline = json!({"application": "open", "name": token});
        assert_eq!(
            server
                .post("/pipelines")
                .bearer_auth(token)
                .json(&pipeline)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
}

#[tokio::test]
async fn auth_user_names_the_token_principal_and_is_public() {
    let server = TestServer::with_config(CONFIG).await;
    let response = server
        .get("/auth/user")
        .bearer_auth("dev-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let user = json_of(response).await;
    assert_eq!(user["username"], "dev@example.com");
    assert_eq!(user["roles"], json!(["developers"]));
    assert_eq!(user["authorities"], json!([{"authority": "developers"}]));
    assert_eq!(user["enabled"], true);

    // Without credentials, Gate permits the path and answers an empty body (no principal).
    for request in [
        server.get("/auth/user"),
        server.get("/auth/user").bearer_auth("wrong"),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "");
    }
}

#[tokio::test]
async fn auth_user_is_empty_with_security_off() {
    let server = TestServer::with_config("").await;
    let response = server
        .get("/auth/user")
        .header("X-SPINNAKER-USER", "someone@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "");
}
