//! The test-only fault switch: off by default; when on, queued canned responses and request counts.

use std::time::Duration;

use crate::support::{TestServer, gate_error, json_of};
use serde_json::json;

#[tokio::test]
async fn fault_routes_are_404_unless_enabled() {
    let server = TestServer::start().await;
    let rule = json!({"path_prefix": "/applications", "responses": [{"status": 503}]});
    gate_error(
        server
            .post("/__spinhcl/faults")
            .json(&rule)
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    gate_error(server.get("/__spinhcl/requests").send().await.unwrap(), 404).await;
    assert_eq!(
        server.get("/applications").send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn queued_faults_answer_the_next_matching_requests() {
    let server = TestServer::with_config("[testing]\nfaults = true\n").await;
    let rule = json!({"path_prefix": "/applications", "method": "GET", "responses": [
        {"status": 503}, {"status": 503}, {"status": 429, "retry_after": 1}
    ]});
    let response = server
        .post("/__spinhcl/faults")
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(response).await["queued"], 3);

    // A POST does not match the GET rule.
    server.create_app("faulty", json!({})).await;
    gate_error(
        server.get("/applications/faulty").send().await.unwrap(),
        503,
    )
    .await;
    gate_error(server.get("/applications").send().await.unwrap(), 503).await;
    let response = server.get("/applications").send().await.unwrap();
    assert_eq!(response.headers()["retry-after"], "1");
    gate_error(response, 429).await;
    assert_eq!(
        server
            .get("/applications/faulty")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let counts = json_of(server.get("/__spinhcl/requests").send().await.unwrap()).await;
    assert_eq!(counts["counts"]["GET /applications/{app}"], 2, "{counts}");
    assert_eq!(counts["counts"]["GET /applications"], 2, "{counts}");
    assert_eq!(counts["counts"]["POST /tasks"], 1, "{counts}");
    assert_eq!(counts["counts"]["GET /tasks/{id}"], 1, "{counts}");
}

#[tokio::test]
async fn faults_can_carry_a_body_and_a_delay_and_be_cleared() {
    let server = TestServer::with_config("[testing]\nfaults = true\n").await;
    let rule = json!({"path_prefix": "/health", "responses": [
        {"status": 200, "body": {"status": "DOWN"}, "delay_ms": 200}, {"status": 500}
    ]});
    server
        .post("/__spinhcl/faults")
        .json(&rule)
        .send()
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let body = json_of(server.get("/health").send().await.unwrap()).await;
    assert_eq!(body, json!({"status": "DOWN"}));
    assert!(started.elapsed() >= Duration::from_millis(200));
    server.delete("/__spinhcl/faults").send().await.unwrap();
    assert_eq!(server.get("/health").send().await.unwrap().status(), 200);
    let bad = json!({"path_prefix": "/", "responses": [{"status": 1000}]});
    gate_error(
        server
            .post("/__spinhcl/faults")
            .json(&bad)
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
}
