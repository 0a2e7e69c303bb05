//! Gate misbehaving: 503 twice then success still applies; 429 with
//! `Retry-After` makes the provider wait as told.

use std::time::Duration;

use anyhow::{Result, ensure};

use super::each_terraform;

fn app(endpoint: &str, name: &str) -> String {
    e2e::provider_config(endpoint, "")
        + &format!(
            "\nresource \"spinnaker_application\" \"a\" {{\n  name  = \"{name}\"\n  email = \"a@example.com\"\n}}\n"
        )
}

fn get_count(engine: &e2e::Engine) -> Result<u64> {
    let counts = engine.requests()?;
    Ok(counts
        .get("counts")
        .and_then(|c| c.as_object())
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.starts_with("GET /applications/"))
                .filter_map(|(_, v)| v.as_u64())
                .sum()
        })
        .unwrap_or(0))
}

#[test]
fn gate_503_twice_then_200_still_applies() {
    each_terraform("gate_503_twice_then_200_still_applies", |_, engine, ws| {
        ws.write(&app(&engine.url, "tf-acc-flaky"))?;
        ws.init()?;
        let before = get_count(engine)?;
        engine.fault(serde_json::json!({
            "path_prefix": "/applications/tf-acc-flaky",
            "method": "GET",
            "responses": [{"status": 503}, {"status": 503}],
        }))?;
        ws.apply()?;
        ensure!(engine.application("tf-acc-flaky")?.is_some(), "not created");
        let gets = get_count(engine)? - before;
        ensure!(
            gets >= 3,
            "expected the two 503s to be retried, saw {gets} GETs"
        );
        Ok(())
    });
}

#[test]
fn gate_429_retry_after_is_honoured() {
    each_terraform("gate_429_retry_after_is_honoured", |_, engine, ws| {
        ws.write(&app(&engine.url, "tf-acc-limited"))?;
        ws.init()?;
        ws.apply()?;
        let before = get_count(engine)?;
        engine.fault(serde_json::json!({
            "path_prefix": "/applications/tf-acc-limited",
            "method": "GET",
            "responses": [{"status": 429, "retry_after": 3}],
        }))?;
        let limited = ws.plan_code()?;
        ensure!(
            limited.code == 0,
            "plan after 429 not empty:\n{}",
            limited.text()
        );
        let gets = get_count(engine)? - before;
        ensure!(gets >= 2, "the 429 was not retried: {gets} GETs");
        // The refresh cannot finish before the 3 s Gate asked for.
        ensure!(
            limited.elapsed >= Duration::from_secs(3),
            "429 with Retry-After: 3 did not wait: the plan took {:?}",
            limited.elapsed
        );
        Ok(())
    });
}
