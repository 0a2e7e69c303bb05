//! `GET /health`, unknown routes, wrong methods, request ids.

use crate::support::{TestServer, gate_error, json_of};
use serde_json::json;

#[tokio::test]
async fn health_is_up() {
    let server = TestServer::start().await;
    let response = server.get("/health").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(json_of(response).await, json!({"status": "UP"}));
}

#[tokio::test]
async fn unknown_route_is_a_gate_404() {
    let server = TestServer::start().await;
    let message = gate_error(server.get("/no/such/route").send().await.unwrap(), 404).await;
    assert!(message.contains("/no/such/route"), "{message}");
}

#[tokio::test]
async fn wrong_method_is_a_gate_405() {
    let server = TestServer::start().await;
    let message = gate_error(server.delete("/health").send().await.unwrap(), 405).await;
    assert!(message.contains("DELETE"), "{message}");
}

#[tokio::test]
async fn request_id_is_echoed() {
    let server = TestServer::start().await;
    let response = server
        .get("/health")
        .header("X-SPINNAKER-REQUEST-ID", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-spinnaker-request-id"], "abc-123");
}
