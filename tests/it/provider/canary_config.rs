//! Acceptance tests for `spinnaker_canary_config`: create, empty plan, in-place update, import
//! by id, empty plan, drift (deleted behind Terraform's back), destroy; and plan-time
//! validation with attribute paths.

use anyhow::{Context, ensure};
use serde_json::{Value, json};

use super::each_terraform;

fn config(endpoint: &str, body: &str) -> String {
    format!(
        "{}\nresource \"spinnaker_canary_config\" \"checkout\" {{\n{body}}}\n",
        e2e::provider_config(endpoint, "")
    )
}

const FIRST: &str = r#"
  name         = "tfacc-checkout"
  applications = ["tfaccshop"]
  description  = "first"
  templates    = { by-group = "group=\"$${scope}\"" }

  classifier {
    group_weights = { perf = 60, errors = 40 }
  }

  metric {
    name      = "latency"
    groups    = ["perf"]
    direction = "increase"
    critical  = true
    effect_size {
      allowed_increase = 1.25
    }
    prometheus_query {
      metric_name            = "latency"
      custom_filter_template = "by-group"
      label_bindings         = ["job=\"checkout\""]
    }
  }

  metric {
    name   = "errors"
    groups = ["errors"]
    datadog_query {
      metric_name = "sum:errors"
    }
  }
"#;

const SECOND: &str = r#"
  name         = "tfacc-checkout"
  applications = ["tfaccshop", "tfaccother"]
  description  = "second"

  classifier {
    group_weights      = { perf = 50, errors = 50 }
    pass_threshold     = 80
    marginal_threshold = 60.5
  }

  metric {
    name         = "latency"
    groups       = ["perf"]
    direction    = "either"
    nan_strategy = "replace"
    effect_size {
      measure          = "cles"
      allowed_increase = 0.75
    }
    outliers {
      strategy       = "remove"
      outlier_factor = 2.5
    }
    prometheus_query {
      metric_name            = "latency"
      custom_inline_template = "PromQL:avg(latency{group=\"$${scope}\"})"
    }
  }

  metric {
    name   = "errors"
    groups = ["errors"]
    datadog_query {
      metric_name = "sum:errors.total"
    }
  }

  metric {
    name       = "cpu"
    groups     = ["errors"]
    muted      = true
    query_json = jsonencode({ type = "stackdriver", metricType = "cpu" })
  }
"#;

/// SECOND with nested blocks removed inside metric blocks: `effect_size` and `outliers` of
/// `latency`, and `errors` switching from `datadog_query` to `query_json`.
const THIRD: &str = r#"
  name         = "tfacc-checkout"
  applications = ["tfaccshop"]

  metric {
    name = "latency"
    prometheus_query {
      metric_name            = "latency"
      custom_inline_template = "group=\"$${scope}\""
    }
  }

  metric {
    name       = "errors"
    query_json = jsonencode({ type = "datadog", metricName = "sum:errors", serviceType = "x" })
  }
"#;

fn stored(engine: &e2e::Engine, id: &str) -> anyhow::Result<Option<Value>> {
    let (status, body) = engine.call("GET", &format!("/v2/canaryConfig/{id}"), None)?;
    match status {
        404 => Ok(None),
        200 => Ok(Some(body)),
        s => anyhow::bail!("GET /v2/canaryConfig/{id}: HTTP {s} {body}"),
    }
}

fn state_id(ws: &e2e::Workspace) -> anyhow::Result<String> {
    let run = ws.ok(&[
        "state",
        "show",
        "-no-color",
        "spinnaker_canary_config.checkout",
    ])?;
    run.stdout
        .lines()
        .find_map(|l| {
            let l = l.trim();
            l.strip_prefix("id")
                .map(str::trim_start)
                .and_then(|r| r.strip_prefix('='))
                .map(|r| r.trim().trim_matches('"').to_owned())
        })
        .context("no id in state")
}

fn empty_plan(ws: &e2e::Workspace, after: &str) -> anyhow::Result<()> {
    let plan = ws.plan_code()?;
    ensure!(
        plan.code == 0,
        "plan after {after} is not empty:\n{}",
        plan.text()
    );
    Ok(())
}

#[test]
fn canary_config_acceptance() {
    each_terraform("canary_config_acceptance", |_, engine, ws| {
        ws.write(&config(&engine.url, FIRST))?;
        ws.init()?;

        // Create: the stored document is Kayenta's shape.
        let run = ws.apply()?;
        ensure!(run.stdout.contains("1 added"), "create: {}", run.text());
        let id = state_id(ws)?;
        let doc = stored(engine, &id)?.context("not created")?;
        ensure!(
            doc["judge"]["name"] == "NetflixACAJudge-v1.0",
            "stored: {doc}"
        );
        ensure!(
            doc["classifier"]["groupWeights"] == json!({"errors": 40, "perf": 60}),
            "stored: {doc}"
        );
        ensure!(
            doc["metrics"][0]["query"]
                == json!({"type": "prometheus", "metricName": "latency", "labelBindings": ["job=\"checkout\""], "customFilterTemplate": "by-group"}),
            "stored: {doc}"
        );
        ensure!(
            doc["metrics"][0]["analysisConfigurations"]["canary"]
                == json!({"direction": "increase", "critical": true, "effectSize": {"allowedIncrease": 1.25}}),
            "stored: {doc}"
        );
        ensure!(
            doc["metrics"][1]["query"] == json!({"type": "datadog", "metricName": "sum:errors"}),
            "stored: {doc}"
        );
        ensure!(
            doc["templates"]["by-group"] == "group=\"${scope}\"",
            "stored: {doc}"
        );
        empty_plan(ws, "create")?;

        // In-place update keeps the id.
        ws.write(&config(&engine.url, SECOND))?;
        let plan = ws.plan_code()?;
        ensure!(
            plan.code == 2 && plan.stdout.contains("1 to change, 0 to destroy"),
            "update must be in place:\n{}",
            plan.text()
        );
        ws.apply()?;
        ensure!(state_id(ws)? == id, "the id changed on update");
        let doc = stored(engine, &id)?.context("gone after update")?;
        ensure!(doc["description"] == "second", "stored: {doc}");
        ensure!(
            doc["classifier"]["scoreThresholds"] == json!({"pass": 80, "marginal": 60.5}),
            "stored: {doc}"
        );
        ensure!(
            doc["metrics"][1]["query"]
                == json!({"type": "datadog", "metricName": "sum:errors.total"}),
            "stored: {doc}"
        );
        ensure!(
            doc["metrics"][2]["query"] == json!({"type": "stackdriver", "metricType": "cpu"}),
            "stored: {doc}"
        );
        ensure!(
            doc["metrics"][2]["analysisConfigurations"]["canary"]["muted"] == true,
            "stored: {doc}"
        );
        ensure!(
            doc["metrics"][0]["analysisConfigurations"]["canary"]["effectSize"]
                == json!({"measure": "cles", "allowedIncrease": 0.75}),
            "stored: {doc}"
        );
        ensure!(
            doc.get("templates").is_none_or(|t| t == &json!({})),
            "templates removed: {doc}"
        );
        empty_plan(ws, "update")?;

        // Import by id into a fresh state; the plan is empty again.
        ws.ok(&["state", "rm", "spinnaker_canary_config.checkout"])?;
        let run = ws.ok(&[
            "import",
            "-no-color",
            "-input=false",
            "spinnaker_canary_config.checkout",
            &id,
        ])?;
        ensure!(
            run.stdout.contains("Import successful"),
            "import: {}",
            run.text()
        );
        empty_plan(ws, "import")?;

        // Deleted behind Terraform's back: the plan shows a create.
        let (status, _) = engine.call("DELETE", &format!("/v2/canaryConfig/{id}"), None)?;
        ensure!(
            (200..300).contains(&status),
            "delete behind the back: HTTP {status}"
        );
        let plan = ws.plan_code()?;
        ensure!(
            plan.code == 2 && plan.stdout.contains("will be created"),
            "drift not detected:\n{}",
            plan.text()
        );

        // Recreate, then destroy.
        ws.apply()?;
        let id = state_id(ws)?;
        ensure!(stored(engine, &id)?.is_some(), "not recreated");
        let run = ws.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"])?;
        ensure!(
            run.stdout.contains("1 destroyed"),
            "destroy: {}",
            run.text()
        );
        ensure!(stored(engine, &id)?.is_none(), "still there after destroy");
        Ok(())
    });
}

#[test]
fn canary_config_nested_blocks_can_be_removed() {
    each_terraform(
        "canary_config_nested_blocks_can_be_removed",
        |_, engine, ws| {
            ws.write(&config(&engine.url, SECOND))?;
            ws.init()?;
            ws.apply()?;
            let id = state_id(ws)?;
            ws.write(&config(&engine.url, THIRD))?;
            let run = ws.apply()?;
            ensure!(run.stdout.contains("1 changed"), "update: {}", run.text());
            let doc = stored(engine, &id)?.context("gone after update")?;
            ensure!(
                doc["metrics"][0]["analysisConfigurations"]["canary"] == json!({}),
                "stored: {doc}"
            );
            ensure!(
                doc["metrics"][1]["query"]
                    == json!({"type": "datadog", "metricName": "sum:errors", "serviceType": "x"}),
                "stored: {doc}"
            );
            empty_plan(ws, "removing nested blocks")?;
            // The JSON form stays the JSON form after an import, as it has a key the typed block lacks.
            ws.ok(&["state", "rm", "spinnaker_canary_config.checkout"])?;
            ws.ok(&[
                "import",
                "-no-color",
                "-input=false",
                "spinnaker_canary_config.checkout",
                &id,
            ])?;
            empty_plan(ws, "import")
        },
    );
}

#[test]
fn canary_config_validation_names_attributes() {
    each_terraform(
        "canary_config_validation_names_attributes",
        |_, engine, ws| {
            let body = r#"
  name         = "bad name"
  applications = ["tfaccshop"]
  metric {
    name      = "latency"
    direction = "up"
  }
  metric {
    name       = "latency"
    query_json = "{}"
  }
"#;
            ws.write(&config(&engine.url, body))?;
            ws.init()?;
            let plan = ws.run(&["plan", "-no-color", "-input=false"])?;
            let text = plan.text();
            ensure!(plan.code == 1, "invalid config planned:\n{text}");
            // Terraform wraps long details; compare with the line breaks folded.
            let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
            for expected in [
                "Attribute name must be letters, digits",
                "Attribute metric[0].direction must be one of: \"increase\", \"decrease\", \"either\", got: \"up\"",
                "Block metric[0] must set exactly one of prometheus_query, datadog_query and query_json, got: none",
                "Attribute metric[1].query_json must be a JSON object with a \"type\"",
                "Attribute metric[1].name must be unique",
            ] {
                ensure!(
                    folded.contains(expected),
                    "missing {expected:?} in:\n{text}"
                );
            }
            Ok(())
        },
    );
}

#[test]
fn canary_stage_refers_to_the_config_by_id() {
    each_terraform(
        "canary_stage_refers_to_the_config_by_id",
        |_, engine, ws| {
            let body = format!(
                "{}\nresource \"spinnaker_application\" \"shop\" {{\n  name  = \"tfaccshop\"\n  email = \"shop@example.com\"\n}}\n{}",
                config(&engine.url, FIRST),
                r#"
resource "spinnaker_pipeline" "release" {
  application = spinnaker_application.shop.name
  name        = "release"

  canary_stage {
    ref_id            = "canary"
    name              = "Canary"
    canary_config_id  = spinnaker_canary_config.checkout.id
    lifetime_duration = "PT1H"
    scope {
      control_scope    = "tfaccshop-baseline"
      experiment_scope = "tfaccshop-canary"
    }
  }
}
"#
            );
            ws.write(&body)?;
            ws.init()?;
            let run = ws.apply()?;
            ensure!(run.stdout.contains("3 added"), "create: {}", run.text());
            let id = state_id(ws)?;
            let (status, pipeline) = engine.call(
                "GET",
                "/applications/tfaccshop/pipelineConfigs/release",
                None,
            )?;
            ensure!(status == 200, "GET pipeline: HTTP {status} {pipeline}");
            ensure!(
                pipeline["stages"][0]["type"] == "kayentaCanary"
                    && pipeline["stages"][0]["canaryConfig"]["canaryConfigId"]
                        == Value::String(id.clone()),
                "the stage does not name canary config {id}: {pipeline}"
            );
            empty_plan(ws, "create")
        },
    );
}
