//! Acceptance tests for what `spinnaker_pipeline` reads back and what an apply costs: empty
//! values in the configuration plan clean while values removed in Spinnaker show as drift;
//! triggers without a block are listed in `unmanaged_triggers` and kept; an apply, update or
//! destroy of many pipelines lists their application a bounded number of times; a re-pointed
//! upstream reference is in the state right after apply.

use anyhow::{Context, Result, ensure};
use e2e::{Engine, Workspace};
use serde_json::{Value, json};

use super::each_terraform;
use super::pipeline::{application, empty_plan, pipeline, save, stage};

const LIST: &str = "GET /applications/{app}/pipelineConfigs";

fn empties(endpoint: &str) -> String {
    format!(
        r#"{app}
resource "spinnaker_pipeline" "p" {{
  application        = spinnaker_application.app.name
  name               = "empties"
  description        = ""
  expected_artifacts = jsonencode([])

  webhook_trigger {{
    enabled             = true
    source              = "empties"
    payload_constraints = {{}}
  }}
  manual_judgment_stage {{
    ref_id                  = "judge"
    name                    = "Judge"
    depends_on              = []
    judgment_inputs         = []
    required_judgment_roles = []
  }}
  manual_judgment_stage {{
    ref_id                  = "approve"
    name                    = "Approve"
    depends_on              = ["judge"]
    required_judgment_roles = ["ops"]
  }}
}}
"#,
        app = application(endpoint)
    )
}

#[test]
fn pipeline_empty_values_plan_clean() {
    each_terraform("pipeline_empty_values_plan_clean", |_, engine, ws| {
        ws.write(&empties(&engine.url))?;
        ws.init()?;
        ws.apply()?;
        empty_plan(ws, "after create with empty values")?;
        ws.ok(&["refresh", "-no-color", "-input=false"])?;
        empty_plan(ws, "after refresh")?;

        // Roles removed in Deck are drift, and apply puts them back.
        let mut live = pipeline(engine, "empties")?;
        let approve = live["stages"]
            .as_array_mut()
            .and_then(|s| s.iter_mut().find(|s| s["refId"] == "approve"))
            .context("approve stage")?;
        approve
            .as_object_mut()
            .context("stage object")?
            .remove("requiredJudgmentRoles");
        save(engine, &live)?;
        let plan = ws.plan_code()?;
        ensure!(
            plan.code == 2 && plan.stdout.contains("required_judgment_roles"),
            "roles removed in Spinnaker not shown as drift:\n{}",
            plan.text()
        );
        ws.apply()?;
        let p = pipeline(engine, "empties")?;
        ensure!(
            stage(&p, "approve")?["requiredJudgmentRoles"] == json!(["ops"]),
            "roles not restored: {p}"
        );
        empty_plan(ws, "after restoring the roles")?;
        ws.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"])?;
        Ok(())
    });
}

#[test]
fn pipeline_unmanaged_triggers_are_listed_and_kept() {
    each_terraform(
        "pipeline_unmanaged_triggers_are_listed_and_kept",
        |_, engine, ws| {
            ws.write(&empties(&engine.url))?;
            ws.init()?;
            ws.apply()?;

            // A trigger type without a block, added in Deck: no drift, listed, kept.
            let artifactory = json!({"type": "artifactory", "enabled": true,
                "artifactorySearchName": "libs-release", "expectedArtifactIds": []});
            let mut live = pipeline(engine, "empties")?;
            live["triggers"]
                .as_array_mut()
                .context("triggers")?
                .push(artifactory.clone());
            save(engine, &live)?;
            empty_plan(ws, "after an artifactory trigger was added in Deck")?;
            ws.ok(&["refresh", "-no-color", "-input=false"])?;
            let state = resource_values(ws, "spinnaker_pipeline.p")?;
            ensure!(
                state["unmanaged_triggers"] == json!([{"type": "artifactory", "enabled": true}]),
                "unmanaged_triggers: {}",
                state["unmanaged_triggers"]
            );

            // Removing the webhook trigger from HCL removes it; the artifactory one stays.
            let config = empties(&engine.url);
            let start = config.find("  webhook_trigger").context("webhook block")?;
            let end = start + config[start..].find("  }\n").context("block end")? + 4;
            ws.write(&format!("{}{}", &config[..start], &config[end..]))?;
            ws.apply()?;
            let p = pipeline(engine, "empties")?;
            ensure!(
                p["triggers"] == json!([artifactory]),
                "triggers after removing the webhook block: {}",
                p["triggers"]
            );
            empty_plan(ws, "after removing the webhook trigger")?;
            ws.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"])?;
            Ok(())
        },
    );
}

/// The attribute values of one resource in the state (`terraform show -json`).
fn resource_values(ws: &Workspace, address: &str) -> Result<Value> {
    let shown = ws.ok(&["show", "-json", "-no-color"])?;
    let state: Value = serde_json::from_str(&shown.stdout)?;
    state["values"]["root_module"]["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["address"] == address))
        .map(|r| r["values"].clone())
        .with_context(|| format!("{address} not in state"))
}

const MANY: usize = 20;

fn many(endpoint: &str, wait: u32) -> String {
    format!(
        r#"{app}
resource "spinnaker_pipeline" "p" {{
  count       = {MANY}
  application = spinnaker_application.app.name
  name        = "many-${{count.index}}"

  wait_stage {{
    ref_id    = "wait"
    name      = "Wait"
    wait_time = {wait}
  }}
}}
"#,
        app = application(endpoint)
    )
}

fn lists(engine: &Engine) -> Result<u64> {
    Ok(engine.requests()?["counts"][LIST].as_u64().unwrap_or(0))
}

/// Runs `what` and returns how many pipeline-list requests the engine answered meanwhile.
fn lists_during(engine: &Engine, what: impl FnOnce() -> Result<()>) -> Result<u64> {
    let before = lists(engine)?;
    what()?;
    Ok(lists(engine)? - before)
}

#[test]
fn pipeline_apply_lists_each_application_a_bounded_number_of_times() {
    each_terraform(
        "pipeline_apply_lists_each_application_a_bounded_number_of_times",
        |_, engine, ws| {
            ws.write(&many(&engine.url, 5))?;
            ws.init()?;
            // One plan walk and one apply walk, each its own provider process: at most one
            // list each, however many pipelines the application has.
            let created = lists_during(engine, || ws.apply().map(drop))?;
            ensure!(
                created <= 2,
                "creating {MANY} pipelines listed {created} times"
            );

            ws.write(&many(&engine.url, 6))?;
            let updated = lists_during(engine, || ws.apply().map(drop))?;
            ensure!(
                updated <= 2,
                "updating {MANY} pipelines listed {updated} times"
            );
            // The state holds what Front50 stored for every pipeline.
            let shown: Value =
                serde_json::from_str(&ws.ok(&["show", "-json", "-no-color"])?.stdout)?;
            let resources = shown["values"]["root_module"]["resources"]
                .as_array()
                .context("resources")?;
            for r in resources
                .iter()
                .filter(|r| r["type"] == "spinnaker_pipeline")
            {
                let name = r["values"]["name"].as_str().context("name")?;
                let live = pipeline(engine, name)?;
                ensure!(
                    r["values"]["update_ts"] == live["updateTs"],
                    "{name}: state update_ts {} but stored {}",
                    r["values"]["update_ts"],
                    live["updateTs"]
                );
                ensure!(
                    stage(&live, "wait")?["waitTime"] == 6,
                    "{name} not updated: {live}"
                );
            }
            empty_plan(ws, "after updating many pipelines")?;

            let destroyed = lists_during(engine, || {
                ws.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"])
                    .map(drop)
            })?;
            ensure!(
                destroyed <= 2,
                "destroying {MANY} pipelines listed {destroyed} times"
            );
            eprintln!(
                "pipeline lists for {MANY} pipelines of one application: create {created}, update {updated}, destroy {destroyed}"
            );
            ensure!(
                super::pipeline::pipelines(engine)?.is_empty(),
                "pipelines left after destroy"
            );
            Ok(())
        },
    );
}

fn repointed(endpoint: &str, upstream: &str) -> String {
    format!(
        r#"{app}
resource "spinnaker_pipeline" "up_a" {{
  application = spinnaker_application.app.name
  name        = "up-a"
}}

resource "spinnaker_pipeline" "up_b" {{
  application = spinnaker_application.app.name
  name        = "up-b"
}}

resource "spinnaker_pipeline" "down" {{
  application = spinnaker_application.app.name
  name        = "down"
  pipeline_trigger {{
    enabled       = true
    application   = spinnaker_application.app.name
    pipeline_name = spinnaker_pipeline.{upstream}.name
  }}
  pipeline_stage {{
    ref_id      = "child"
    name        = "Child"
    application = spinnaker_application.app.name
    pipeline    = spinnaker_pipeline.{upstream}.id
  }}
}}
"#,
        app = application(endpoint)
    )
}

#[test]
fn pipeline_repointed_upstream_is_in_state_right_after_apply() {
    each_terraform(
        "pipeline_repointed_upstream_is_in_state_right_after_apply",
        |_, engine, ws| {
            ws.write(&repointed(&engine.url, "up_a"))?;
            ws.init()?;
            ws.apply()?;
            empty_plan(ws, "after create")?;

            // Point both references at the other pipeline; the state must say so at once,
            // without waiting for a refresh.
            ws.write(&repointed(&engine.url, "up_b"))?;
            ws.apply()?;
            let up_b = pipeline(engine, "up-b")?;
            let down = pipeline(engine, "down")?;
            ensure!(
                down["triggers"][0]["pipeline"] == up_b["id"]
                    && stage(&down, "child")?["pipeline"] == up_b["id"],
                "not re-pointed in Spinnaker: {down}"
            );
            let state = resource_values(ws, "spinnaker_pipeline.down")?;
            ensure!(
                state["pipeline_trigger"][0]["pipeline"] == up_b["id"],
                "state keeps a stale upstream id: {}",
                state["pipeline_trigger"]
            );
            ensure!(
                state["pipeline_stage"][0]["pipeline_name"] == "up-b",
                "state keeps a stale upstream name: {}",
                state["pipeline_stage"]
            );
            empty_plan(ws, "after re-pointing")?;
            ws.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"])?;
            Ok(())
        },
    );
}
