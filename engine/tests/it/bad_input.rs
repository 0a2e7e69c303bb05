//! Bad input: malformed JSON, wrong types, oversized and hostile bodies. Each gets a Gate-shaped
//! 4xx naming the problem, nothing is stored, and the server stays healthy.

use crate::support::{TestServer, gate_error};
use serde_json::json;

async fn post_raw(server: &TestServer, path: &str, body: Vec<u8>) -> reqwest::Response {
    server
        .post(path)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_json_names_the_position() {
    let server = TestServer::start().await;
    for path in [
        "/pipelines",
        "/tasks",
        "/v2/canaryConfig",
        "/pipelines/bulksave",
    ] {
        let message = gate_error(post_raw(&server, path, b"{\"name\": ".to_vec()).await, 400).await;
        assert!(message.starts_with("JSON parse error"), "{path}: {message}");
        assert!(message.contains("line 1"), "{path}: {message}");
    }
    let message = gate_error(post_raw(&server, "/pipelines", Vec::new()).await, 400).await;
    assert_eq!(message, "Required request body is missing");
    assert!(server.pipelines("app").await.is_empty());
}

#[tokio::test]
async fn wrong_types_are_400_naming_the_field() {
    let server = TestServer::start().await;
    let message = gate_error(server.save_pipeline(&json!([1, 2])).await, 400).await;
    assert_eq!(message, "Pipeline must be a JSON object, got an array");
    let message = gate_error(
        server
            .save_pipeline(&json!({"application": "app", "name": "p", "id": 5}))
            .await,
        400,
    )
    .await;
    assert!(message.contains("'id'"), "{message}");
    let message = gate_error(
        server
            .post("/v2/canaryConfig")
            .json(&json!({"name": "x", "applications": "app"}))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert!(message.contains("'applications'"), "{message}");
    assert!(server.pipelines("app").await.is_empty());
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let server = TestServer::with_config("[limits]\nmax_body_bytes = 1024\n").await;
    let big = json!({"application": "app", "name": "p", "pad": "x".repeat(2000)});
    let message = gate_error(server.save_pipeline(&big).await, 413).await;
    assert!(message.contains("1024"), "{message}");
    assert!(server.pipelines("app").await.is_empty());
    let small = json!({"application": "app", "name": "p"});
    assert_eq!(server.save_pipeline(&small).await.status(), 200);
}

#[tokio::test]
async fn hostile_bodies_get_4xx_and_the_server_stays_healthy() {
    let server = TestServer::start().await;
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut bodies: Vec<Vec<u8>> = (0..20)
        .map(|i| {
            (0..(i * 97 + 1))
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed.to_le_bytes()[0]
                })
                .collect()
        })
        .collect();
    let full = serde_json::to_vec(
        &json!({"application": "app", "name": "p", "stages": [{"a": [1, 2, 3]}]}),
    )
    .unwrap();
    for cut in [1, full.len() / 3, full.len() / 2, full.len() - 1] {
        bodies.push(full[..cut].to_vec());
    }
    bodies.push(format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes());
    bodies.push(
        format!(
            "{{\"application\":\"app\",\"name\":\"p\",\"x\":{}1{}}}",
            "{\"a\":".repeat(5000),
            "}".repeat(5000)
        )
        .into_bytes(),
    );
    bodies.push(b"\xff\xfe\x00{\"name\":\"p\"}".to_vec());
    for path in [
        "/pipelines",
        "/tasks",
        "/v2/canaryConfig",
        "/pipelines/bulksave",
    ] {
        for body in &bodies {
            let response = post_raw(&server, path, body.clone()).await;
            let status = response.status().as_u16();
            assert!((400..500).contains(&status), "{path}: status {status}");
        }
    }
    assert_eq!(server.get("/health").send().await.unwrap().status(), 200);
    assert!(server.pipelines("app").await.is_empty());
}
