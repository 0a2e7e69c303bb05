//! Pipeline configs: the per-client list cache, exact-name reads, saves, updates, deletes,
//! history, and the read-after-save wait.

use axum::http::Method;
use gate::Error;
use serde_json::{Value, json};

use crate::mock::{Fault, MockAuth, MockGate};

const LIST: &str = "GET /applications/{app}/pipelineConfigs";

fn pipeline(id: &str, name: &str) -> Value {
    json!({"id": id, "application": "shop", "name": name, "stages": [], "triggers": []})
}

#[tokio::test]
async fn one_get_serves_all_reads_until_a_write() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    client
        .save_pipeline(&pipeline("p1", "Deploy"), false)
        .await
        .expect("save");
    client
        .save_pipeline(&pipeline("p2", "Rollback"), false)
        .await
        .expect("save");

    let deploy = client
        .get_pipeline_config("shop", "Deploy")
        .await
        .expect("read");
    assert_eq!(deploy.expect("found")["id"], json!("p1"));
    let by_id = client
        .get_pipeline_config_by_id("SHOP", "p2")
        .await
        .expect("read");
    assert_eq!(by_id.expect("found")["name"], json!("Rollback"));
    // Concurrent readers share the one fetch too.
    let reads = futures_join(&client).await;
    assert!(reads.iter().all(|found| *found));
    assert_eq!(client.stats().count(LIST), 1);
    assert_eq!(
        gate.seen_count(Method::GET, "/applications/shop/pipelineConfigs"),
        1
    );

    // A write invalidates: the next read fetches again and sees the change.
    let mut renamed = pipeline("p1", "Deploy to prod");
    renamed["stages"] = json!([{"refId": "1", "type": "wait", "waitTime": 5}]);
    client.save_pipeline(&renamed, false).await.expect("save");
    let read = client
        .get_pipeline_config_by_id("shop", "p1")
        .await
        .expect("read");
    assert_eq!(read.expect("found")["name"], json!("Deploy to prod"));
    assert_eq!(client.stats().count(LIST), 2);

    // Another client has its own cache.
    let other = gate.client();
    other.list_pipeline_configs("shop").await.expect("list");
    assert_eq!(other.stats().count(LIST), 1);
}

async fn futures_join(client: &gate::Client) -> Vec<bool> {
    let mut handles = Vec::new();
    for _ in 0..8 {
        let client = client.clone();
        handles.push(tokio::spawn(async move {
            client
                .get_pipeline_config("shop", "Rollback")
                .await
                .ok()
                .flatten()
                .is_some()
        }));
    }
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await.unwrap_or(false));
    }
    results
}

#[tokio::test]
async fn names_match_exactly_and_case_sensitively() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    client
        .save_pipeline(&pipeline("p1", "Deploy"), false)
        .await
        .expect("save");
    assert!(
        client
            .get_pipeline_config("shop", "Deploy")
            .await
            .expect("read")
            .is_some()
    );
    assert!(
        client
            .get_pipeline_config("shop", "deploy")
            .await
            .expect("read")
            .is_none()
    );
    assert!(
        client
            .get_pipeline_config("shop", "Deplo")
            .await
            .expect("read")
            .is_none()
    );
    assert!(
        client
            .get_pipeline_config_by_id("shop", "nope")
            .await
            .expect("read")
            .is_none()
    );
}

#[tokio::test]
async fn unknown_application_reads_as_no_pipeline() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    gate.fault(Fault::status(
        Method::GET,
        "/applications/gone/pipelineConfigs",
        404,
    ));
    assert_eq!(
        client
            .get_pipeline_config("gone", "Deploy")
            .await
            .expect("read"),
        None
    );
    gate.fault(Fault::status(
        Method::GET,
        "/applications/gone/pipelineConfigs",
        404,
    ));
    let error = client
        .list_pipeline_configs("gone")
        .await
        .expect_err("list keeps the 404");
    assert!(error.is_not_found(), "{error:?}");
}

#[tokio::test]
async fn duplicate_name_is_a_bad_request_with_gates_message() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    client
        .save_pipeline(&pipeline("p1", "Deploy"), false)
        .await
        .expect("save");
    let error = client
        .save_pipeline(&pipeline("p2", "deploy"), true)
        .await
        .expect_err("duplicate");
    match &error {
        Error::BadRequest { status, message } => {
            assert_eq!(*status, 400);
            assert_eq!(
                message,
                "A pipeline with name deploy already exists in application shop"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    let stale = gate
        .state()
        .seen
        .iter()
        .any(|r| r.query.as_deref() == Some("staleCheck=true"));
    assert!(stale, "staleCheck must be sent");
}

#[tokio::test]
async fn save_without_application_is_rejected_locally() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    let error = client
        .save_pipeline(&json!({"name": "x"}), false)
        .await
        .expect_err("invalid");
    assert!(
        matches!(
            error,
            Error::InvalidRequest {
                field: "application",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(client.stats().total(), 0);
}

#[tokio::test]
async fn update_returns_the_stored_pipeline() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    client
        .save_pipeline(&pipeline("p1", "Deploy"), false)
        .await
        .expect("save");
    client
        .list_pipeline_configs("shop")
        .await
        .expect("warm cache");
    let mut changed = pipeline("p1", "Deploy");
    changed["limitConcurrent"] = json!(false);
    let stored = client
        .update_pipeline("p1", &changed)
        .await
        .expect("update")
        .expect("body");
    assert_eq!(stored["limitConcurrent"], json!(false));
    assert_eq!(stored["id"], json!("p1"));
    // The update invalidated the cache.
    let read = client
        .get_pipeline_config_by_id("shop", "p1")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(read["limitConcurrent"], json!(false));
    assert_eq!(client.stats().count(LIST), 2);

    let error = client
        .update_pipeline("p9", &changed)
        .await
        .expect_err("id mismatch");
    assert!(
        matches!(error, Error::InvalidRequest { field: "id", .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn delete_removes_and_missing_delete_succeeds() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    client
        .save_pipeline(&pipeline("p1", "Deploy Prod"), false)
        .await
        .expect("save");
    client
        .list_pipeline_configs("shop")
        .await
        .expect("warm cache");
    client
        .delete_pipeline("shop", "Deploy Prod")
        .await
        .expect("delete");
    assert!(
        client
            .get_pipeline_config("shop", "Deploy Prod")
            .await
            .expect("read")
            .is_none()
    );
    // The name with a space went out percent-encoded.
    assert_eq!(
        gate.seen_count(Method::DELETE, "/pipelines/shop/Deploy%20Prod"),
        1
    );
    client
        .delete_pipeline("shop", "never existed")
        .await
        .expect("Gate answers 200");
}

#[tokio::test]
async fn history_is_newest_first_and_limited() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    for name in ["v1", "v2", "v3"] {
        client
            .save_pipeline(&pipeline("p1", name), false)
            .await
            .expect("save");
    }
    let history = client.pipeline_history("p1", 2).await.expect("history");
    let names: Vec<&str> = history.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, vec!["v3", "v2"]);
}

#[tokio::test]
async fn wait_until_visible_rides_out_front50_cache_lag() {
    let gate = MockGate::start(MockAuth::Open).await;
    gate.state().lag_reads = 2;
    let client = gate.client();
    client
        .save_pipeline(&pipeline("p1", "Deploy"), false)
        .await
        .expect("save");
    let seen = client
        .wait_until_visible("shop", "p1")
        .await
        .expect("visible");
    assert_eq!(seen["name"], json!("Deploy"));
    assert_eq!(client.stats().count(LIST), 3);
    // The fresh list is cached for later reads.
    client
        .get_pipeline_config("shop", "Deploy")
        .await
        .expect("read");
    assert_eq!(client.stats().count(LIST), 3);
}

#[tokio::test]
async fn wait_until_visible_retries_a_404_after_save() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    client
        .save_pipeline(&pipeline("p1", "Deploy"), false)
        .await
        .expect("save");
    gate.fault(Fault::status(
        Method::GET,
        "/applications/shop/pipelineConfigs",
        404,
    ));
    let seen = client
        .wait_until_visible("shop", "p1")
        .await
        .expect("visible");
    assert_eq!(seen["id"], json!("p1"));
    assert_eq!(client.stats().count(LIST), 2);
}

#[tokio::test]
async fn wait_until_visible_is_bounded() {
    let gate = MockGate::start(MockAuth::Open).await;
    let mut config = gate.config();
    config.visibility_timeout = std::time::Duration::from_millis(300);
    let client = gate::Client::new(config).expect("client");
    let error = client
        .wait_until_visible("shop", "ghost")
        .await
        .expect_err("never visible");
    assert!(error.is_not_found(), "{error:?}");
    assert!(error.to_string().contains("ghost"));
}

#[tokio::test]
async fn save_and_read_patches_the_cached_list_instead_of_refetching() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    client
        .save_pipeline(&pipeline("p0", "Existing"), false)
        .await
        .expect("save");
    client.list_pipeline_configs("shop").await.expect("list");
    assert_eq!(client.stats().count(LIST), 1);

    for i in 1..=5 {
        let stored = client
            .save_and_read_pipeline(&pipeline(&format!("p{i}"), &format!("Deploy {i}")))
            .await
            .expect("save");
        assert_eq!(stored["id"], json!(format!("p{i}")));
        assert_eq!(
            stored["updateTs"],
            json!("1700000000000"),
            "what was stored"
        );
    }
    let renamed = client
        .save_and_read_pipeline(&pipeline("p0", "Renamed"))
        .await
        .expect("save");
    assert_eq!(renamed["name"], json!("Renamed"));

    // Every read is served from the patched list: new pipelines, the rename, no stale entry.
    let list = client.list_pipeline_configs("shop").await.expect("list");
    let mut names: Vec<&str> = list.iter().filter_map(|p| p["name"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "Deploy 1", "Deploy 2", "Deploy 3", "Deploy 4", "Deploy 5", "Renamed"
        ]
    );
    client
        .delete_pipeline("shop", "deploy 3")
        .await
        .expect("delete");
    assert!(
        client
            .get_pipeline_config("shop", "Deploy 3")
            .await
            .expect("read")
            .is_none()
    );
    assert_eq!(client.stats().count(LIST), 1);
    assert_eq!(
        gate.seen_count(Method::GET, "/applications/shop/pipelineConfigs"),
        1
    );
    // What the client patched in matches what Gate serves.
    let fresh = gate.client();
    let served = fresh.list_pipeline_configs("shop").await.expect("list");
    let mut served_names: Vec<&str> = served.iter().filter_map(|p| p["name"].as_str()).collect();
    served_names.sort_unstable();
    let list = client.list_pipeline_configs("shop").await.expect("list");
    let mut cached_names: Vec<&str> = list.iter().filter_map(|p| p["name"].as_str()).collect();
    cached_names.sort_unstable();
    assert_eq!(cached_names, served_names);
}

#[tokio::test]
async fn save_and_read_without_a_cached_list_fetches_nothing() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    client
        .save_and_read_pipeline(&pipeline("p1", "Deploy"))
        .await
        .expect("save");
    assert_eq!(client.stats().count(LIST), 0);
    let read = client
        .get_pipeline_config_by_id("shop", "p1")
        .await
        .expect("read");
    assert_eq!(read.expect("found")["name"], json!("Deploy"));
    assert_eq!(client.stats().count(LIST), 1);
}

#[tokio::test]
async fn save_and_read_retries_a_missing_revision_and_needs_an_id() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    gate.fault(Fault::status(
        Method::GET,
        "/pipelineConfigs/p1/history",
        404,
    ));
    let stored = client
        .save_and_read_pipeline(&pipeline("p1", "Deploy"))
        .await
        .expect("save");
    assert_eq!(stored["id"], json!("p1"));
    assert_eq!(
        gate.seen_count(Method::GET, "/pipelineConfigs/p1/history"),
        2
    );

    let error = client
        .save_and_read_pipeline(&json!({"application": "shop", "name": "x"}))
        .await
        .expect_err("no id");
    assert!(error.to_string().contains("id"), "{error}");
    assert_eq!(gate.seen_count(Method::POST, "/pipelines"), 1);
}

#[tokio::test]
async fn save_and_read_is_bounded_when_no_revision_appears() {
    let gate = MockGate::start(MockAuth::Open).await;
    let mut config = gate.config();
    config.visibility_timeout = std::time::Duration::from_millis(300);
    let client = gate::Client::new(config).expect("client");
    client.list_pipeline_configs("shop").await.expect("list");
    for _ in 0..8 {
        gate.fault(Fault::status(
            Method::GET,
            "/pipelineConfigs/p1/history",
            404,
        ));
    }
    let error = client
        .save_and_read_pipeline(&pipeline("p1", "Deploy"))
        .await
        .expect_err("never visible");
    assert!(error.is_not_found(), "{error:?}");
    assert!(error.to_string().contains("p1"), "{error}");
    // The cached list was dropped, so the next read sees the save.
    let read = client
        .get_pipeline_config_by_id("shop", "p1")
        .await
        .expect("read");
    assert!(read.is_some());
    assert_eq!(client.stats().count(LIST), 2);
}
