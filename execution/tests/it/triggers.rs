//! Trigger matching: webhook constraints and signatures, pipeline triggers, cron under a clock.

use crate::support::{Harness, T0, pipeline, wait};
use execution::ExecutionStatus;
use execution::triggers::{cron::CronSchedule, pipeline as pipeline_trigger, signature, webhook};
use serde_json::json;

fn webhook_config(enabled: bool, disabled_pipeline: bool) -> serde_json::Value {
    json!({"id": "p1", "application": "app", "name": "on-push", "disabled": disabled_pipeline,
        "triggers": [{"type": "webhook", "enabled": enabled, "source": "ci",
            "payloadConstraints": {"repo": "^acme/", "$.commits[*].branch": "release"}}]})
}

#[test]
fn webhook_triggers_match_source_and_constraints() {
    let configs = vec![webhook_config(true, false)];
    let payload = json!({"repo": "acme/api", "commits": [{"branch": "main"}, {"branch": "release-2"}],
        "parameters": {"tag": "v1"}});
    let fired = webhook::fired(&configs, "ci", &payload, "evt-1");
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].1["parameters"], json!({"tag": "v1"}));
    assert_eq!(fired[0].1["payload"], payload);
    assert_eq!(fired[0].1["eventId"], json!("evt-1"));
    assert!(
        webhook::fired(&configs, "CI", &payload, "e").is_empty(),
        "source is exact"
    );
    let wrong_repo = json!({"repo": "other/api", "commits": [{"branch": "release"}]});
    assert!(webhook::fired(&configs, "ci", &wrong_repo, "e").is_empty());
    let no_release = json!({"repo": "acme/api", "commits": [{"branch": "main"}]});
    assert!(webhook::fired(&configs, "ci", &no_release, "e").is_empty());
    let bad_regex = json!({"repo": "("});
    assert!(!webhook::payload_constraints_match(
        Some(&bad_regex),
        &payload
    ));
}

#[test]
fn disabled_triggers_and_pipelines_never_fire() {
    let payload = json!({"repo": "acme/api", "commits": [{"branch": "release"}]});
    assert!(webhook::fired(&[webhook_config(false, false)], "ci", &payload, "e").is_empty());
    assert!(webhook::fired(&[webhook_config(true, true)], "ci", &payload, "e").is_empty());
    let mut lenient = webhook_config(true, false);
    lenient["triggers"][0]["enabled"] = json!("true");
    assert_eq!(webhook::fired(&[lenient], "ci", &payload, "e").len(), 1);
}

#[test]
fn a_webhook_with_a_bad_signature_is_refused() {
    let body = br#"{"repo":"acme/api"}"#;
    let good = signature::sign_sha256(b"s3cret", body);
    assert_eq!(signature::verify(b"s3cret", body, Some(&good)), Ok(()));
    assert_eq!(
        signature::verify(
            b"s3cret",
            body,
            Some(&signature::sign_sha256(b"other", body))
        ),
        Err(signature::SignatureError::Mismatch)
    );
    assert_eq!(
        signature::verify(b"s3cret", br#"{"repo":"evil"}"#, Some(&good)),
        Err(signature::SignatureError::Mismatch)
    );
    assert_eq!(
        signature::verify(b"s3cret", body, None),
        Err(signature::SignatureError::Missing)
    );
    assert_eq!(
        signature::verify(b"s3cret", body, Some("md5=00")),
        Err(signature::SignatureError::Malformed)
    );
}

#[tokio::test]
async fn pipeline_triggers_fire_on_the_listed_statuses() {
    let mut h = Harness::new();
    let upstream = h.run(pipeline(json!([wait("1", "W", 0, &[])]))).await;
    assert_eq!(h.status(&upstream), ExecutionStatus::Succeeded);
    let downstream = |status: &str, enabled: bool| {
        json!({"id": format!("down-{status}"), "application": "app", "name": "down",
            "triggers": [{"type": "pipeline", "enabled": enabled, "pipeline": "config-1", "status": [status]}]})
    };
    let configs = vec![
        downstream("successful", true),
        downstream("failed", true),
        downstream("successful", false),
    ];
    let fired = pipeline_trigger::fired(&configs, h.execution(&upstream));
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].0["id"], json!("down-successful"));
    assert_eq!(fired[0].1["parentExecution"]["id"], json!(upstream));
    assert_eq!(
        pipeline_trigger::trigger_status(ExecutionStatus::Terminal),
        "failed"
    );
    assert_eq!(
        pipeline_trigger::trigger_status(ExecutionStatus::Canceled),
        "canceled"
    );
    let child = h
        .run_with(fired[0].0.clone(), Some(fired[0].1.clone()))
        .await;
    assert_eq!(h.execution(&child).trigger["type"], json!("pipeline"));
}

#[tokio::test]
async fn cron_fires_on_schedule_under_a_manual_clock() {
    let mut h = Harness::new();
    // Every day at 09:00 in Los Angeles; T0 is 08:00 there.
    let config = json!({"id": "nightly", "application": "app", "name": "nightly",
        "stages": [wait("1", "W", 0, &[])],
        "triggers": [{"type": "cron", "enabled": true, "id": "t-1", "cronExpression": "0 0 9 * * ?"},
                     {"type": "cron", "enabled": false, "id": "t-2", "cronExpression": "0 * * * * ?"},
                     {"type": "cron", "enabled": true, "id": "t-3", "cronExpression": "not cron"}]});
    let zone = jiff::tz::TimeZone::get("America/Los_Angeles").expect("tz");
    let (mut schedule, errors) = CronSchedule::new(std::slice::from_ref(&config), &zone, T0);
    assert_eq!(
        errors.len(),
        1,
        "the invalid expression is reported: {errors:?}"
    );
    assert_eq!(schedule.next_fire_ms(), Some(T0 + 3_600_000));
    h.clock.advance(3_599_999);
    assert!(schedule.due(h.now()).is_empty());
    h.clock.advance(1);
    let fired = schedule.due(h.now());
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].1["type"], json!("cron"));
    let id = h
        .run_with(fired[0].0.clone(), Some(fired[0].1.clone()))
        .await;
    assert_eq!(h.status(&id), ExecutionStatus::Succeeded);
    assert_eq!(schedule.next_fire_ms(), Some(T0 + 3_600_000 + 86_400_000));
    assert!(schedule.due(h.now()).is_empty(), "fires once");
}
