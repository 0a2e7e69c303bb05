//! Real plan JSON for `spinhcl review`, on every Terraform version: a plan that creates
//! pipelines, then one that updates a pipeline in place (with an infrastructure stage added
//! behind Terraform's back), replaces one (application changed) and destroys one. Volatile
//! values are normalised; with `SPINHCL_UPDATE_PLANS=1` the plans are written to
//! `companion/tests/fixtures/plans/`, where the companion's insta snapshots review them;
//! otherwise the review of each fresh plan must equal the review of its fixture.

use anyhow::{Context, Result, ensure};
use e2e::Workspace;
use serde_json::{Value, json};

use super::{create_application, each_terraform, pipelines, save, spinhcl};

const APP: &str = "reviewapp";
const OTHER: &str = "reviewother";

fn config(endpoint: &str, changed: bool) -> String {
    let mut c = e2e::provider_config(endpoint, "");
    let release = if changed {
        r#"
resource "spinnaker_pipeline" "release" {
  application = "reviewapp"
  name        = "Release"
  description = "Ship the storefront, now with a smoke test"

  webhook_trigger {
    source  = "storefront-ci"
    enabled = true
  }

  wait_stage {
    ref_id    = "1"
    name      = "Soak"
    wait_time = 120
  }

  manual_judgment_stage {
    ref_id          = "2"
    name            = "Approve"
    depends_on      = ["1"]
    instructions    = "Check the canary dashboard"
    judgment_inputs = ["ship", "stop"]
  }

  webhook_stage {
    ref_id     = "4"
    name       = "Smoke test"
    depends_on = ["2"]
    url        = "https://smoke.example.com/run"
    method     = "POST"
  }
}
"#
    } else {
        r#"
resource "spinnaker_pipeline" "release" {
  application = "reviewapp"
  name        = "Release"
  description = "Ship the storefront"

  webhook_trigger {
    source  = "storefront"
    enabled = true
  }

  wait_stage {
    ref_id    = "1"
    name      = "Soak"
    wait_time = 60
  }

  manual_judgment_stage {
    ref_id          = "2"
    name            = "Approve"
    depends_on      = ["1"]
    judgment_inputs = ["ship", "stop"]
  }

  wait_stage {
    ref_id     = "3"
    name       = "Cool down"
    depends_on = ["2"]
    wait_time  = 30
  }
}

resource "spinnaker_pipeline" "nightly" {
  application = "reviewapp"
  name        = "Nightly"

  cron_trigger {
    cron_expression = "0 0 2 ? * MON-FRI"
    enabled         = true
  }

  wait_stage {
    ref_id = "1"
    name   = "Pause"
  }
}
"#
    };
    c.push_str(release);
    c.push_str(&format!(
        r#"
resource "spinnaker_pipeline" "moving" {{
  application = "{}"
  name        = "Moving"

  evaluate_variables_stage {{
    ref_id = "1"
    name   = "Vars"

    variable {{
      key   = "region"
      value = "eu-west-1"
    }}
  }}
}}
"#,
        if changed { OTHER } else { APP }
    ));
    c
}

/// Replaces values that differ between runs (ids, timestamps, the saved JSON) with markers.
fn normalise(plan: &Value) -> Value {
    fn scrub(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, val) in m.iter_mut() {
                    match k.as_str() {
                        "id" | "update_ts" | "updateTs" | "lastModifiedBy" if val.is_string() => {
                            *val = json!("<volatile>")
                        }
                        "json" if val.is_string() => {
                            if let Some(Ok(mut inner)) =
                                val.as_str().map(serde_json::from_str::<Value>)
                            {
                                scrub(&mut inner);
                                *val = json!(inner.to_string());
                            }
                        }
                        _ => scrub(val),
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(scrub),
            _ => {}
        }
    }
    let mut changes = plan["resource_changes"].clone();
    scrub(&mut changes);
    json!({
        "format_version": plan["format_version"],
        "terraform_version": plan["terraform_version"],
        "resource_changes": changes,
    })
}

fn plan_json(ws: &Workspace) -> Result<Value> {
    let plan = ws.run(&["plan", "-no-color", "-input=false", "-out=tfplan"])?;
    ensure!(plan.code == 0, "plan failed:\n{}", plan.text());
    let show = ws.ok(&["show", "-json", "tfplan"])?;
    Ok(normalise(
        &serde_json::from_str(&show.stdout).context("show -json")?,
    ))
}

/// Writes the fixture (with `SPINHCL_UPDATE_PLANS=1`) or checks the fresh plan reviews the
/// same as the stored one.
fn fixture(version: &str, scenario: &str, plan: &Value) -> Result<()> {
    let dir = e2e::repo_root().join("companion/tests/fixtures/plans");
    let path = dir.join(format!("terraform-{version}-{scenario}.json"));
    let fresh = ws_tmp_file(plan)?;
    let review = spinhcl(&["review", &fresh.1.display().to_string()])?;
    ensure!(review.contains("## spinhcl review:"), "{review}");
    if std::env::var("SPINHCL_UPDATE_PLANS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(&path, serde_json::to_string_pretty(plan)? + "\n")?;
        return Ok(());
    }
    ensure!(
        path.exists(),
        "{} is missing; run with SPINHCL_UPDATE_PLANS=1",
        path.display()
    );
    let stored = spinhcl(&["review", &path.display().to_string()])?;
    ensure!(
        stored == review,
        "the review of the fresh plan differs from {} (regenerate with SPINHCL_UPDATE_PLANS=1 if intended):\n--- stored\n{stored}\n--- fresh\n{review}",
        path.display()
    );
    Ok(())
}

fn ws_tmp_file(plan: &Value) -> Result<(tempfile::TempDir, std::path::PathBuf)> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("plan.json");
    std::fs::write(&path, plan.to_string())?;
    Ok((dir, path))
}

#[test]
fn review_real_plans_create_update_replace_destroy() {
    each_terraform(
        "review_real_plans_create_update_replace_destroy",
        |tf, engine, ws| {
            create_application(engine, APP)?;
            create_application(engine, OTHER)?;
            ws.write(&config(&engine.url, false))?;
            ws.init()?;
            let create = plan_json(ws)?;
            fixture(&tf.version, "create", &create)?;
            ws.apply()?;

            // A deploy stage added in the UI, after the judgment: unmanaged from now on.
            let mut release = pipelines(engine, APP)?
                .into_iter()
                .find(|p| p["name"] == "Release")
                .context("Release not saved")?;
            if let Some(stages) = release["stages"].as_array_mut() {
                stages.push(json!({"refId": "9", "type": "deploy", "name": "Deploy prod", "requisiteStageRefIds": ["2"], "clusters": []}));
            }
            save(engine, &release)?;

            ws.write(&config(&engine.url, true))?;
            let change = plan_json(ws)?;
            let actions: Vec<String> = change["resource_changes"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .map(|r| {
                            format!(
                                "{} {}",
                                r["address"].as_str().unwrap_or(""),
                                r["change"]["actions"]
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let joined = actions.join("\n");
            ensure!(
                joined.contains("spinnaker_pipeline.release [\"update\"]"),
                "{joined}"
            );
            ensure!(
                joined.contains("spinnaker_pipeline.nightly [\"delete\"]"),
                "{joined}"
            );
            ensure!(
                joined.contains("spinnaker_pipeline.moving [\"delete\",\"create\"]")
                    || joined.contains("spinnaker_pipeline.moving [\"create\",\"delete\"]"),
                "{joined}"
            );
            fixture(&tf.version, "change", &change)?;
            Ok(())
        },
    );
}
