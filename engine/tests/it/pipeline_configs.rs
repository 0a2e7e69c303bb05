//! Pipeline configs: save, update, bulk save, delete, list order and index, history, stale check.

use crate::support::{TestServer, gate_error, json_of, without_server_fields};
use serde_json::{Value, json};

#[tokio::test]
async fn save_answers_empty_200_and_generates_a_uuid() {
    let server = TestServer::start().await;
    let response = server
        .save_pipeline(&json!({"application": "app", "name": "  deploy  ", "stages": []}))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "");
    let stored = server.pipeline("app", "deploy").await;
    assert_eq!(stored["name"], "deploy", "name is trimmed");
    let id = stored["id"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(id.matches('-').count(), 4);
    assert!(stored["updateTs"].as_str().unwrap().parse::<i64>().is_ok());
    assert_eq!(stored["lastModifiedBy"], "anonymous");
    assert_eq!(stored["index"], 0);
}

#[tokio::test]
async fn client_id_is_kept_and_unknown_fields_round_trip() {
    let server = TestServer::start().await;
    let doc = json!({
        "id": "my-id", "application": "app", "name": "p",
        "stages": [{"refId": "1", "type": "wait", "waitTime": 5, "x-custom": {"deep": [1, {"a": null}]}}],
        "somethingNew": {"nested": {"list": [1.5, "two", false]}},
    });
    assert_eq!(server.save_pipeline(&doc).await.status(), 200);
    let stored = server.pipeline("app", "p").await;
    assert_eq!(without_server_fields(stored), doc);
}

#[tokio::test]
async fn user_header_becomes_last_modified_by() {
    let server = TestServer::start().await;
    let response = server
        .post("/pipelines")
        .header("X-SPINNAKER-USER", "dave@example.com")
        .json(&json!({"application": "app", "name": "p"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        server.pipeline("app", "p").await["lastModifiedBy"],
        "dave@example.com"
    );
}

#[tokio::test]
async fn duplicate_name_ignoring_case_is_rejected_with_front50s_message() {
    let server = TestServer::start().await;
    let first = json!({"id": "a", "application": "App", "name": "Deploy"});
    assert_eq!(server.save_pipeline(&first).await.status(), 200);
    let message = gate_error(
        server
            .save_pipeline(&json!({"id": "b", "application": "app", "name": "deploy "}))
            .await,
        400,
    )
    .await;
    assert_eq!(
        message,
        "A pipeline with name deploy already exists in application app"
    );
    // Same id: an update, not a duplicate.
    assert_eq!(
        server
            .save_pipeline(&json!({"id": "a", "application": "app", "name": "DEPLOY"}))
            .await
            .status(),
        200
    );
    // Another application may reuse the name.
    assert_eq!(
        server
            .save_pipeline(&json!({"id": "c", "application": "other", "name": "deploy"}))
            .await
            .status(),
        200
    );
    assert_eq!(server.pipelines("app").await.len(), 1);
}

#[tokio::test]
async fn missing_name_or_application_is_400_and_stores_nothing() {
    let server = TestServer::start().await;
    for body in [
        json!({"application": "app"}),
        json!({"name": "p"}),
        json!({"application": "app", "name": "   "}),
        json!({"application": "app", "name": 7}),
    ] {
        let message = gate_error(server.save_pipeline(&body).await, 400).await;
        assert_eq!(
            message, "A pipeline requires name and application fields",
            "{body}"
        );
    }
    assert!(server.pipelines("app").await.is_empty());
}

#[tokio::test]
async fn list_is_sorted_by_index_then_name_with_index_rewritten() {
    let server = TestServer::start().await;
    for doc in [
        json!({"application": "app", "name": "b"}),
        json!({"application": "app", "name": "late", "index": 9}),
        json!({"application": "app", "name": "A"}),
        json!({"application": "app", "name": "early", "index": 2}),
    ] {
        assert_eq!(server.save_pipeline(&doc).await.status(), 200);
    }
    let list = server.pipelines("APP").await;
    let names: Vec<_> = list.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["early", "late", "A", "b"]);
    let indexes: Vec<_> = list.iter().map(|p| p["index"].as_i64().unwrap()).collect();
    assert_eq!(indexes, [0, 1, 2, 3]);
    // The single-pipeline read uses the same rewritten index.
    assert_eq!(server.pipeline("app", "A").await["index"], 2);
}

#[tokio::test]
async fn name_filter_is_a_case_insensitive_substring() {
    let server = TestServer::start().await;
    for name in ["Deploy Prod", "deploy-staging", "rollback"] {
        server
            .save_pipeline(&json!({"application": "app", "name": name}))
            .await;
    }
    let response = server
        .get("/applications/app/pipelineConfigs?pipelineNameFilter=DEPLOY")
        .send()
        .await
        .unwrap();
    let list = json_of(response).await;
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(names, [json!("Deploy Prod"), json!("deploy-staging")]);
}

#[tokio::test]
async fn get_by_name_is_exact_and_case_sensitive() {
    let server = TestServer::start().await;
    server
        .save_pipeline(&json!({"application": "app", "name": "Deploy"}))
        .await;
    server.pipeline("app", "Deploy").await;
    let message = gate_error(
        server
            .get("/applications/app/pipelineConfigs/deploy")
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    assert_eq!(
        message,
        "Pipeline config (id: deploy) not found for Application (id: app)"
    );
}

#[tokio::test]
async fn index_is_kept_when_an_update_omits_it() {
    let server = TestServer::start().await;
    server
        .save_pipeline(&json!({"id": "p1", "application": "app", "name": "one", "index": 5}))
        .await;
    server
        .save_pipeline(&json!({"id": "p2", "application": "app", "name": "two", "index": 1}))
        .await;
    server
        .save_pipeline(&json!({"id": "p1", "application": "app", "name": "one", "changed": true}))
        .await;
    let names: Vec<_> = server
        .pipelines("app")
        .await
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(
        names,
        [json!("two"), json!("one")],
        "one keeps index 5, after two's 1"
    );
    let history = json_of(
        server
            .get("/pipelineConfigs/p1/history")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(history[0]["index"], 5);
}

#[tokio::test]
async fn stale_check_rejects_an_old_update_ts() {
    let server = TestServer::start().await;
    server
        .save_pipeline(&json!({"id": "s", "application": "app", "name": "p"}))
        .await;
    let stored = server.pipeline("app", "p").await;
    let current = stored["updateTs"].as_str().unwrap().to_owned();
    let stale = json!({"id": "s", "application": "app", "name": "p", "updateTs": "1"});
    let response = server
        .post("/pipelines?staleCheck=true")
        .json(&stale)
        .send()
        .await
        .unwrap();
    let message = gate_error(response, 400).await;
    assert_eq!(
        message,
        format!(
            "The submitted pipeline is stale.  submitted updateTs 1 does not match stored updateTs {current}"
        )
    );
    // Without staleCheck the same body is last-write-wins.
    assert_eq!(server.save_pipeline(&stale).await.status(), 200);
    // With the current updateTs it passes.
    let fresh = server.pipeline("app", "p").await;
    let response = server
        .post("/pipelines?staleCheck=true")
        .json(
            &without_server_fields(fresh.clone())
                .as_object()
                .cloned()
                .map(|mut m| {
                    m.insert("updateTs".into(), fresh["updateTs"].clone());
                    Value::Object(m)
                }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn put_answers_the_stored_pipeline_or_empty_when_ids_differ() {
    let server = TestServer::start().await;
    server
        .save_pipeline(&json!({"id": "u", "application": "app", "name": "p"}))
        .await;
    let response = server
        .put("/pipelines/u")
        .json(&json!({"id": "u", "application": "app", "name": "p", "stages": [{"refId": "1", "type": "wait"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = json_of(response).await;
    assert_eq!(body["id"], "u");
    assert_eq!(body["stages"][0]["type"], "wait");
    assert!(body["updateTs"].is_string());
    let response = server
        .put("/pipelines/missing")
        .json(&json!({"id": "other", "application": "app", "name": "q"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "");
}

#[tokio::test]
async fn bulk_save_reports_successes_and_failures() {
    let server = TestServer::start().await;
    server
        .save_pipeline(&json!({"id": "x", "application": "app", "name": "taken"}))
        .await;
    let response = server
        .post("/pipelines/bulksave?application=app")
        .json(&json!([
            {"application": "app", "name": "one"},
            {"application": "app", "name": "two"},
            {"application": "app"},
            {"id": "y", "application": "app", "name": "Taken"},
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = json_of(response).await;
    assert_eq!(body["successful_pipelines_count"], 2);
    assert_eq!(body["successful_pipelines"], json!(["one", "two"]));
    assert_eq!(body["failed_pipelines_count"], 2);
    assert_eq!(
        body["failed_pipelines"][0]["errorMsg"],
        "A pipeline requires name and application fields"
    );
    assert_eq!(body["failed_pipelines"][1]["name"], "Taken");
    assert_eq!(server.pipelines("app").await.len(), 3);
    let message = gate_error(
        server
            .post("/pipelines/bulksave")
            .json(&json!({"not": "a list"}))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert!(message.contains("array"), "{message}");
}

#[tokio::test]
async fn delete_matches_name_ignoring_case_and_absent_is_200() {
    let server = TestServer::start().await;
    server
        .save_pipeline(&json!({"application": "app", "name": "Doomed"}))
        .await;
    let response = server.delete("/pipelines/APP/doomed").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(server.pipelines("app").await.is_empty());
    let response = server.delete("/pipelines/app/never").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "");
}

#[tokio::test]
async fn history_lists_revisions_newest_first_with_limit() {
    let server = TestServer::start().await;
    for n in 1..=3 {
        server
            .save_pipeline(&json!({"id": "h", "application": "app", "name": "p", "rev": n}))
            .await;
    }
    let all = json_of(
        server
            .get("/pipelineConfigs/h/history")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let revs: Vec<_> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rev"].clone())
        .collect();
    assert_eq!(revs, [json!(3), json!(2), json!(1)]);
    let two = json_of(
        server
            .get("/pipelineConfigs/h/history?limit=2")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(two.as_array().unwrap().len(), 2);
    let none = json_of(
        server
            .get("/pipelineConfigs/unknown/history")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(none, json!([]));
    let message = gate_error(
        server
            .get("/pipelineConfigs/h/history?limit=lots")
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert!(message.contains("limit"), "{message}");
}

#[tokio::test]
async fn cron_triggers_get_ids() {
    let server = TestServer::start().await;
    let triggers = json!([
        {"type": "cron", "cronExpression": "0 0 * * * ?", "id": "mine"},
        {"type": "cron", "cronExpression": "0 30 * * * ?"},
        {"type": "git", "source": "github"}
    ]);
    // New pipeline (no id): every cron id is regenerated.
    server
        .save_pipeline(&json!({"application": "app", "name": "new", "triggers": triggers}))
        .await;
    let stored = server.pipeline("app", "new").await;
    let t = &stored["triggers"];
    assert_ne!(t[0]["id"], "mine");
    assert_eq!(t[1]["id"].as_str().unwrap().len(), 36);
    assert!(t[2].get("id").is_none());
    // Existing id: only missing cron ids are filled.
    server
        .save_pipeline(
            &json!({"id": "keep", "application": "app", "name": "kept", "triggers": triggers}),
        )
        .await;
    let stored = server.pipeline("app", "kept").await;
    assert_eq!(stored["triggers"][0]["id"], "mine");
    assert_eq!(stored["triggers"][1]["id"].as_str().unwrap().len(), 36);
}
