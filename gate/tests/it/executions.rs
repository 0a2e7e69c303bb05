//! Executions: trigger, read, list with filters, judgment patch, cancel.

use gate::{Error, ExecutionStatus};
use serde_json::json;

use crate::mock::{MockAuth, MockGate};

#[tokio::test]
async fn trigger_read_judge_list_cancel() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    client
        .save_pipeline(
            &json!({"id": "p1", "application": "shop", "name": "Deploy", "stages": []}),
            false,
        )
        .await
        .expect("save");

    let by_name = client
        .trigger_pipeline(
            "shop",
            "Deploy",
            &json!({"type": "manual", "parameters": {"env": "prod"}}),
        )
        .await
        .expect("trigger");
    let by_id = client
        .trigger_pipeline("shop", "p1", &json!({}))
        .await
        .expect("trigger by id");
    assert_ne!(by_name, by_id);

    let execution = client.get_execution(&by_name).await.expect("read");
    assert_eq!(execution["pipelineConfigId"], json!("p1"));
    assert_eq!(execution["trigger"]["parameters"]["env"], json!("prod"));
    let stage_id = execution["stages"][0]["id"]
        .as_str()
        .expect("stage id")
        .to_owned();

    let patched = client
        .patch_stage(&by_name, &stage_id, &json!({"judgmentStatus": "continue"}))
        .await
        .expect("patch");
    assert_eq!(
        patched["stages"][0]["context"]["judgmentStatus"],
        json!("continue")
    );

    client
        .cancel_execution(&by_id, Some("superseded"))
        .await
        .expect("cancel");
    let canceled = client.get_execution(&by_id).await.expect("read");
    assert_eq!(canceled["status"], json!("CANCELED"));
    assert_eq!(canceled["cancellationReason"], json!("superseded"));

    let running = client
        .list_executions("shop", Some(10), &[ExecutionStatus::Running])
        .await
        .expect("list");
    assert_eq!(running.len(), 1);
    assert_eq!(running[0]["id"], json!(by_name));
    let all = client
        .list_executions("shop", None, &[])
        .await
        .expect("list");
    assert_eq!(all.len(), 2);
    let query = gate
        .state()
        .seen
        .iter()
        .filter(|r| r.path == "/applications/shop/pipelines")
        .filter_map(|r| r.query.clone())
        .next();
    assert_eq!(query.as_deref(), Some("limit=10&statuses=RUNNING"));
}

#[tokio::test]
async fn triggering_a_missing_pipeline_is_not_found() {
    let gate = MockGate::start(MockAuth::Open).await;
    let error = gate
        .client()
        .trigger_pipeline("shop", "nope", &json!({}))
        .await
        .expect_err("missing");
    match error {
        Error::NotFound { message } => assert_eq!(message, "Pipeline not found (id: nope)"),
        other => panic!("unexpected {other:?}"),
    }
    let error = gate
        .client()
        .get_execution("01NOPE")
        .await
        .expect_err("missing");
    assert!(error.is_not_found());
}
