//! `/v2/canaryConfig`: create, read, list by application, update, delete, Kayenta's validation.

use crate::support::{TestServer, gate_error, json_of};
use serde_json::{Value, json};

fn config(name: &str, apps: &[&str]) -> Value {
    json!({
        "name": name,
        "applications": apps,
        "configVersion": "1",
        "judge": {"name": "NetflixACAJudge-v1.0", "judgeConfigurations": {}},
        "metrics": [{"name": "cpu", "query": {"type": "prometheus", "metricName": "cpu"},
                     "groups": ["system"], "analysisConfigurations": {"canary": {"direction": "increase"}},
                     "scopeName": "default"}],
        "classifier": {"groupWeights": {"system": 100}},
    })
}

#[tokio::test]
async fn lifecycle() {
    let server = TestServer::start().await;
    let response = server
        .post("/v2/canaryConfig")
        .json(&config("latency", &["app"]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let id = json_of(response).await["canaryConfigId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36);

    let stored = json_of(
        server
            .get(&format!("/v2/canaryConfig/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(stored["id"], id);
    assert_eq!(
        stored["metrics"][0]["analysisConfigurations"]["canary"]["direction"],
        "increase"
    );
    let created = stored["createdTimestamp"].as_i64().unwrap();
    assert_eq!(stored["updatedTimestamp"], created);
    assert!(
        stored["createdTimestampIso"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );

    let list = json_of(
        server
            .get("/v2/canaryConfig?application=app")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let summary = &list[0];
    assert_eq!(summary["id"], id);
    assert_eq!(summary["name"], "latency");
    assert_eq!(summary["applications"], json!(["app"]));
    assert!(summary["updatedTimestamp"].is_i64());
    assert!(summary["updatedTimestampIso"].is_string());
    let other = json_of(
        server
            .get("/v2/canaryConfig?application=other")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(other, json!([]));

    let mut changed = config("latency", &["app"]);
    changed["description"] = json!("now described");
    let response = server
        .put(&format!("/v2/canaryConfig/{id}"))
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(response).await["canaryConfigId"], id);
    let stored = json_of(
        server
            .get(&format!("/v2/canaryConfig/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(stored["description"], "now described");
    assert_eq!(stored["id"], id);

    let response = server
        .delete(&format!("/v2/canaryConfig/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    gate_error(
        server
            .get(&format!("/v2/canaryConfig/{id}"))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    gate_error(
        server
            .delete(&format!("/v2/canaryConfig/{id}"))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
}

#[tokio::test]
async fn body_id_is_used_and_duplicates_are_rejected() {
    let server = TestServer::start().await;
    let mut doc = config("c1", &["app"]);
    doc["id"] = json!("fixed-id");
    let response = server
        .post("/v2/canaryConfig")
        .json(&doc)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(response).await["canaryConfigId"], "fixed-id");
    let message = gate_error(
        server
            .post("/v2/canaryConfig")
            .json(&doc)
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_eq!(message, "Canary config 'fixed-id' already exists.");
    // Same name in an overlapping application scope.
    let message = gate_error(
        server
            .post("/v2/canaryConfig")
            .json(&config("c1", &["other", "app"]))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_eq!(
        message,
        "Canary config with name 'c1' already exists in the scope of applications [other, app]."
    );
    // Same name, disjoint applications: fine.
    let response = server
        .post("/v2/canaryConfig")
        .json(&config("c1", &["third"]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn validation_messages_match_kayenta() {
    let server = TestServer::start().await;
    let cases = [
        (
            json!({"applications": ["a"]}),
            "Canary config must specify a name.",
        ),
        (
            json!({"name": "x"}),
            "Canary config must specify at least one application.",
        ),
        (
            json!({"name": "x", "applications": []}),
            "Canary config must specify at least one application.",
        ),
        (
            json!({"name": "has space", "applications": ["a"]}),
            "Canary config cannot be named 'has space'. Names must contain only letters, numbers, dashes (-) and underscores (_).",
        ),
        (
            json!({"name": "x", "applications": ["a"], "metrics": [{"name": "m"}, {"name": "m"}]}),
            "Canary config metric name 'm' is used more than once.",
        ),
        (
            json!({"name": "x", "applications": ["a"], "metrics": [{"query": {}}]}),
            "Canary config metric at index 0 must specify a name.",
        ),
    ];
    for (body, expected) in cases {
        let message = gate_error(
            server
                .post("/v2/canaryConfig")
                .json(&body)
                .send()
                .await
                .unwrap(),
            400,
        )
        .await;
        assert_eq!(message, expected, "{body}");
    }
    let message = gate_error(
        server
            .put("/v2/canaryConfig/nope")
            .json(&config("x", &["a"]))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_eq!(message, "Canary config 'nope' does not exist.");
    let list = json_of(server.get("/v2/canaryConfig").send().await.unwrap()).await;
    assert_eq!(list, json!([]), "nothing stored");
}
