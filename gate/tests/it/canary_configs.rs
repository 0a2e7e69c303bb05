//! Canary configs through `/v2/canaryConfig`.

use gate::Error;
use serde_json::json;

use crate::mock::{MockAuth, MockGate};

#[tokio::test]
async fn canary_config_lifecycle() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    let config = json!({"name": "latency", "applications": ["shop"], "metrics": [{"name": "p99"}]});
    let id = client.create_canary_config(&config).await.expect("create");
    let other =
        json!({"id": "fixed-id", "name": "errors", "applications": ["billing"], "metrics": []});
    assert_eq!(
        client.create_canary_config(&other).await.expect("create"),
        "fixed-id"
    );

    let stored = client
        .get_canary_config(&id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(stored["name"], json!("latency"));

    let shop = client
        .list_canary_configs(Some("shop"))
        .await
        .expect("list");
    assert_eq!(shop.len(), 1);
    assert_eq!(shop[0]["id"], json!(id));
    assert_eq!(
        client.list_canary_configs(None).await.expect("list").len(),
        2
    );

    let mut changed = config.clone();
    changed["description"] = json!("tighter");
    assert_eq!(
        client
            .update_canary_config(&id, &changed)
            .await
            .expect("update"),
        id
    );
    let stored = client
        .get_canary_config(&id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(stored["description"], json!("tighter"));

    client.delete_canary_config(&id).await.expect("delete");
    assert_eq!(client.get_canary_config(&id).await.expect("get"), None);
    let error = client.delete_canary_config(&id).await.expect_err("gone");
    assert!(error.is_not_found(), "{error:?}");
}

#[tokio::test]
async fn canary_validation_errors_carry_kayentas_message() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    let error = client
        .create_canary_config(&json!({"name": "x", "applications": []}))
        .await
        .expect_err("invalid");
    match error {
        Error::BadRequest { message, .. } => {
            assert_eq!(message, "At least one application must be specified.")
        }
        other => panic!("unexpected {other:?}"),
    }
    let error = client
        .update_canary_config("missing", &json!({"name": "x", "applications": ["a"]}))
        .await
        .expect_err("missing");
    assert!(
        error
            .to_string()
            .contains("Canary config 'missing' does not exist."),
        "{error}"
    );
}
