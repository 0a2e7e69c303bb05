//! Resume from persisted state: a new executor loads the stored executions and carries on.

use crate::support::{Harness, judgment, pipeline, wait};
use execution::ExecutionStatus::*;
use execution::{Execution, Store};

/// Serialises every stored execution to JSON text and loads it into a fresh executor.
fn restart(old: &Harness) -> Harness {
    let mut fresh = Harness::new();
    fresh.clock.set(old.now());
    let texts: Vec<String> = old
        .store
        .executions()
        .map(|e| serde_json::to_string(e).expect("serialises"))
        .collect();
    for text in texts {
        let execution: Execution = serde_json::from_str(&text).expect("parses");
        let now = fresh.now();
        fresh
            .store
            .commit(&[execution::Change::Created(Box::new(execution.clone()))])
            .expect("seed store");
        fresh.executor.load(execution, now);
    }
    fresh
}

#[tokio::test]
async fn a_wait_resumes_with_the_time_left() {
    let mut h = Harness::new();
    let id = h.run(pipeline(json_stages())).await;
    h.advance(40_000).await;
    let mut resumed = restart(&h);
    drop(h);
    resumed.advance(0).await;
    assert_eq!(resumed.stage_status(&id, "Wait"), Running, "20 s are left");
    resumed.advance(19_000).await;
    assert_eq!(resumed.stage_status(&id, "Wait"), Running);
    resumed.advance(1_000).await;
    assert_eq!(resumed.stage_status(&id, "Wait"), Succeeded);
    assert_eq!(
        resumed.stage_status(&id, "Approve"),
        Running,
        "the judgment waits"
    );
    let approve_start = resumed.stage(&id, "Approve").start_time;

    let mut again = restart(&resumed);
    again.advance(60_000).await;
    assert_eq!(
        again.stage_status(&id, "Approve"),
        Running,
        "still waiting after a second restart"
    );
    assert_eq!(
        again.stage(&id, "Approve").start_time,
        approve_start,
        "nothing started over"
    );
    again.judge(&id, "Approve", "continue", None).await;
    assert_eq!(again.status(&id), Succeeded);
}

fn json_stages() -> serde_json::Value {
    serde_json::json!([wait("1", "Wait", 60, &[]), judgment("2", "Approve", &["1"])])
}

#[tokio::test]
async fn queued_executions_stay_queued_after_a_restart() {
    let mut h = Harness::new();
    let mut config = pipeline(serde_json::json!([judgment("1", "Approve", &[])]));
    config["limitConcurrent"] = serde_json::json!(true);
    config["keepWaitingPipelines"] = serde_json::json!(true);
    let first = h.run(config.clone()).await;
    let second = h.run(config).await;
    let mut resumed = restart(&h);
    resumed.settle().await;
    assert_eq!(resumed.status(&first), Running);
    assert_eq!(resumed.status(&second), NotStarted);
    resumed.judge(&first, "Approve", "continue", None).await;
    assert_eq!(resumed.status(&second), Running);
}
