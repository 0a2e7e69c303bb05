//! Acceptance tests for `spinnaker_pipeline`: every trigger and stage block through create,
//! empty plan, change, import, empty plan and destroy; the Terraform/Spinnaker boundary
//! (unmanaged infrastructure stages, undeclared stages, UI-added fields); a UI edit between
//! plan and apply; infrastructure types refused at plan; rename with a pipeline trigger
//! following it; deletion behind Terraform's back; the data sources.

use anyhow::{Context, Result, bail, ensure};
use e2e::{Engine, Workspace};
use serde_json::{Value, json};

use super::each_terraform;

pub(super) const APP: &str = "tfaccpipes";

pub(super) fn application(endpoint: &str) -> String {
    format!(
        "{}\nresource \"spinnaker_application\" \"app\" {{\n  name  = \"{APP}\"\n  email = \"pipes@example.com\"\n}}\n",
        e2e::provider_config(endpoint, "")
    )
}

/// Every pipeline of the application, as the engine serves them.
pub(super) fn pipelines(engine: &Engine) -> Result<Vec<Value>> {
    let (status, body) =
        engine.call("GET", &format!("/applications/{APP}/pipelineConfigs"), None)?;
    if status == 404 {
        return Ok(Vec::new());
    }
    ensure!(status == 200, "listing pipelines: HTTP {status} {body}");
    Ok(body.as_array().cloned().unwrap_or_default())
}

pub(super) fn pipeline(engine: &Engine, name: &str) -> Result<Value> {
    pipelines(engine)?
        .into_iter()
        .find(|p| p["name"] == name)
        .with_context(|| format!("no pipeline {name:?} in {APP}"))
}

/// Saves a pipeline through the engine's API, as Deck would.
pub(super) fn save(engine: &Engine, pipeline: &Value) -> Result<()> {
    let (status, body) = engine.call("POST", "/pipelines", Some(pipeline.clone()))?;
    ensure!(
        status == 200,
        "saving through the API: HTTP {status} {body}"
    );
    Ok(())
}

pub(super) fn stage<'a>(p: &'a Value, ref_id: &str) -> Result<&'a Value> {
    p["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["refId"] == ref_id))
        .with_context(|| format!("no stage {ref_id} in {p}"))
}

fn trigger<'a>(p: &'a Value, kind: &str) -> Result<&'a Value> {
    p["triggers"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["type"] == kind))
        .with_context(|| format!("no {kind} trigger in {p}"))
}

pub(super) fn empty_plan(ws: &Workspace, when: &str) -> Result<()> {
    let plan = ws.plan_code()?;
    ensure!(plan.code == 0, "plan {when} is not empty:\n{}", plan.text());
    Ok(())
}

/// One pipeline using every trigger and stage block; `v` switches one field of each.
fn every_block(endpoint: &str, v: usize) -> String {
    let pick = |a: &'static str, b: &'static str| if v == 0 { a } else { b };
    let n = |a: u32, b: u32| if v == 0 { a } else { b };
    format!(
        r##"{app}
resource "spinnaker_pipeline" "upstream" {{
  application = spinnaker_application.app.name
  name        = "upstream"
}}

resource "spinnaker_pipeline" "all" {{
  application            = spinnaker_application.app.name
  name                   = "every-block"
  description            = "{description}"
  limit_concurrent       = true
  keep_waiting_pipelines = false
  spel_evaluator         = "v4"
  expected_artifacts     = jsonencode([{{ id = "art-1", displayName = "chart" }}])

  parameter {{
    name    = "version"
    default = "{param_default}"
    options = ["1.0", "2.0"]
  }}
  notification {{
    type    = "email"
    address = "{address}"
    level   = "pipeline"
    when    = ["pipeline.failed"]
    message = {{ "pipeline.failed" = "failed" }}
  }}
  locked {{
    ui          = true
    description = "{locked}"
  }}

  webhook_trigger {{
    enabled             = true
    source              = "{source}"
    payload_constraints = {{ branch = "main" }}
  }}
  cron_trigger {{
    enabled         = true
    cron_expression = "{cron}"
  }}
  pipeline_trigger {{
    enabled       = {pipeline_trigger_enabled}
    application   = spinnaker_application.app.name
    pipeline_name = spinnaker_pipeline.upstream.name
    status        = ["successful"]
  }}
  jenkins_trigger {{
    enabled = true
    master  = "ci"
    job     = "{job}"
  }}
  git_trigger {{
    enabled = true
    source  = "github"
    project = "acme"
    slug    = "shop"
    branch  = "{branch}"
    secret  = "s3cret"
  }}
  docker_trigger {{
    enabled    = true
    account    = "dockerhub"
    repository = "acme/shop"
    tag        = "{tag}"
  }}
  pubsub_trigger {{
    enabled           = true
    pubsub_system     = "google"
    subscription_name = "{subscription}"
  }}

  wait_stage {{
    ref_id    = "wait"
    name      = "Wait"
    wait_time = {wait}
  }}
  manual_judgment_stage {{
    ref_id          = "judge"
    name            = "Judge"
    depends_on      = ["wait"]
    judgment_inputs = ["go", "{input}"]
    stage_timeout_ms = {timeout}
  }}
  check_preconditions_stage {{
    ref_id     = "check"
    name       = "Check"
    depends_on = ["judge"]
    precondition {{
      type          = "expression"
      expression    = "{expression}"
      fail_pipeline = true
    }}
  }}
  evaluate_variables_stage {{
    ref_id     = "vars"
    name       = "Vars"
    depends_on = ["judge"]
    variable {{
      key   = "a"
      value = "{variable}"
    }}
  }}
  webhook_stage {{
    ref_id                   = "hook"
    name                     = "Hook"
    depends_on               = ["check", "vars"]
    stage_enabled_expression = "#judgment('Judge') == 'go'"
    url                      = "{url}"
    payload                  = jsonencode({{ a = 1 }})
    restricted_execution_window {{
      days = [2, 3]
      whitelist {{
        start_hour = 9
        start_min  = 0
        end_hour   = {end_hour}
        end_min    = 0
      }}
    }}
  }}
  jenkins_stage {{
    ref_id     = "build"
    name       = "Build"
    depends_on = ["hook"]
    master     = "ci"
    job        = "{stage_job}"
    parameters = {{ SHA = "abc" }}
  }}
  pipeline_stage {{
    ref_id        = "child"
    name          = "Child"
    depends_on    = ["build"]
    application   = spinnaker_application.app.name
    pipeline_name = spinnaker_pipeline.upstream.name
    wait_for_completion = {wait_child}
  }}
  canary_stage {{
    ref_id           = "canary"
    name             = "Canary"
    depends_on       = ["child"]
    canary_config_id = "cfg-1"
    lifetime_duration = "PT1H"
    pass_score       = {pass}
    marginal_score   = 50
    scope {{
      control_scope    = "baseline"
      experiment_scope = "canary"
    }}
  }}
  custom_stage {{
    ref_id     = "script"
    name       = "Script"
    depends_on = ["canary"]
    type       = "jira"
    json       = jsonencode({{ ticket = "{ticket}" }})
  }}
}}
"##,
        app = application(endpoint),
        description = pick("first", "second"),
        param_default = pick("1.0", "2.0"),
        address = pick("a@example.com", "b@example.com"),
        locked = pick("managed", "managed by terraform"),
        source = pick("shop", "shop-v2"),
        cron = pick("0 0 10 ? * MON-FRI", "0 30 10 ? * MON-FRI"),
        pipeline_trigger_enabled = pick("true", "false"),
        job = pick("shop/main", "shop/release"),
        branch = pick("main", "release-.*"),
        tag = pick("v.*", "r.*"),
        subscription = pick("builds", "builds-v2"),
        wait = n(30, 45),
        input = pick("stop", "abort"),
        timeout = n(60000, 120000),
        expression = pick("true", "1 == 1"),
        variable = pick("one", "two"),
        url = pick("http://127.0.0.1:9/a", "http://127.0.0.1:9/b"),
        end_hour = n(17, 18),
        stage_job = pick("shop/test", "shop/verify"),
        wait_child = pick("true", "false"),
        pass = n(75, 80),
        ticket = pick("OPS-1", "OPS-2"),
    )
}

/// Checks the stored pipeline carries variant `v` of every changed field.
fn check_every_block(engine: &Engine, v: usize) -> Result<()> {
    let p = pipeline(engine, "every-block")?;
    let up = pipeline(engine, "upstream")?;
    let pick = |a: Value, b: Value| if v == 0 { a } else { b };
    let checks: Vec<(&str, &Value, Value)> = vec![
        (
            "description",
            &p["description"],
            pick(json!("first"), json!("second")),
        ),
        (
            "parameter",
            &p["parameterConfig"][0]["default"],
            pick(json!("1.0"), json!("2.0")),
        ),
        (
            "notification",
            &p["notifications"][0]["address"],
            pick(json!("a@example.com"), json!("b@example.com")),
        ),
        (
            "locked",
            &p["locked"]["description"],
            pick(json!("managed"), json!("managed by terraform")),
        ),
        (
            "webhook_trigger",
            &trigger(&p, "webhook")?["source"],
            pick(json!("shop"), json!("shop-v2")),
        ),
        (
            "cron_trigger",
            &trigger(&p, "cron")?["cronExpression"],
            pick(json!("0 0 10 ? * MON-FRI"), json!("0 30 10 ? * MON-FRI")),
        ),
        (
            "pipeline_trigger",
            &trigger(&p, "pipeline")?["enabled"],
            pick(json!(true), json!(false)),
        ),
        (
            "jenkins_trigger",
            &trigger(&p, "jenkins")?["job"],
            pick(json!("shop/main"), json!("shop/release")),
        ),
        (
            "git_trigger",
            &trigger(&p, "git")?["branch"],
            pick(json!("main"), json!("release-.*")),
        ),
        (
            "docker_trigger",
            &trigger(&p, "docker")?["tag"],
            pick(json!("v.*"), json!("r.*")),
        ),
        (
            "pubsub_trigger",
            &trigger(&p, "pubsub")?["subscriptionName"],
            pick(json!("builds"), json!("builds-v2")),
        ),
        (
            "wait_stage",
            &stage(&p, "wait")?["waitTime"],
            pick(json!(30), json!(45)),
        ),
        (
            "manual_judgment_stage",
            &stage(&p, "judge")?["judgmentInputs"][1]["value"],
            pick(json!("stop"), json!("abort")),
        ),
        (
            "stage_timeout_ms",
            &stage(&p, "judge")?["stageTimeoutMs"],
            pick(json!(60000), json!(120000)),
        ),
        (
            "check_preconditions_stage",
            &stage(&p, "check")?["preconditions"][0]["context"]["expression"],
            pick(json!("true"), json!("1 == 1")),
        ),
        (
            "evaluate_variables_stage",
            &stage(&p, "vars")?["variables"][0]["value"],
            pick(json!("one"), json!("two")),
        ),
        (
            "webhook_stage",
            &stage(&p, "hook")?["url"],
            pick(json!("http://127.0.0.1:9/a"), json!("http://127.0.0.1:9/b")),
        ),
        (
            "restricted_execution_window",
            &stage(&p, "hook")?["restrictedExecutionWindow"]["whitelist"][0]["endHour"],
            pick(json!(17), json!(18)),
        ),
        (
            "jenkins_stage",
            &stage(&p, "build")?["job"],
            pick(json!("shop/test"), json!("shop/verify")),
        ),
        (
            "pipeline_stage",
            &stage(&p, "child")?["waitForCompletion"],
            pick(json!(true), json!(false)),
        ),
        (
            "canary_stage",
            &stage(&p, "canary")?["canaryConfig"]["scoreThresholds"]["pass"],
            pick(json!(75), json!(80)),
        ),
        (
            "custom_stage",
            &stage(&p, "script")?["ticket"],
            pick(json!("OPS-1"), json!("OPS-2")),
        ),
    ];
    for (what, got, want) in checks {
        ensure!(*got == want, "{what}: stored {got}, expected {want} in {p}");
    }
    ensure!(
        trigger(&p, "pipeline")?["pipeline"] == up["id"],
        "pipeline_trigger not resolved to the upstream id: {p}"
    );
    ensure!(
        stage(&p, "child")?["pipeline"] == up["id"],
        "pipeline_stage not resolved to the upstream id: {p}"
    );
    ensure!(
        stage(&p, "hook")?["stageEnabled"]
            == json!({"type": "expression", "expression": "#judgment('Judge') == 'go'"}),
        "stageEnabled: {p}"
    );
    ensure!(stage(&p, "script")?["type"] == "jira", "custom type: {p}");
    Ok(())
}

#[test]
fn pipeline_every_block_acceptance() {
    each_terraform("pipeline_every_block_acceptance", |_, engine, ws| {
        ws.write(&every_block(&engine.url, 0))?;
        ws.init()?;

        // Create.
        let run = ws.apply()?;
        ensure!(run.stdout.contains("3 added"), "create: {}", run.text());
        check_every_block(engine, 0)?;
        let id = pipeline(engine, "every-block")?["id"].clone();
        ensure!(
            id.as_str().is_some_and(|s| s.len() == 36),
            "id is not a UUID: {id}"
        );
        empty_plan(ws, "after create")?;

        // Change one field of every block, in place.
        ws.write(&every_block(&engine.url, 1))?;
        let plan = ws.plan_code()?;
        ensure!(
            plan.code == 2 && plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
            "change not planned in place:\n{}",
            plan.text()
        );
        ws.apply()?;
        check_every_block(engine, 1)?;
        ensure!(
            pipeline(engine, "every-block")?["id"] == id,
            "update changed the id"
        );
        empty_plan(ws, "after update")?;

        // Import by '<application>/<name>' into a fresh state.
        ws.ok(&["state", "rm", "spinnaker_pipeline.all"])?;
        let run = ws.ok(&[
            "import",
            "-no-color",
            "-input=false",
            "spinnaker_pipeline.all",
            &format!("{APP}/every-block"),
        ])?;
        ensure!(
            run.stdout.contains("Import successful"),
            "import: {}",
            run.text()
        );
        empty_plan(ws, "after import")?;

        // Import by the pipeline's id alone.
        ws.ok(&["state", "rm", "spinnaker_pipeline.all"])?;
        let by_id = id.as_str().unwrap_or_default().to_owned();
        ws.ok(&[
            "import",
            "-no-color",
            "-input=false",
            "spinnaker_pipeline.all",
            &by_id,
        ])?;
        empty_plan(ws, "after import by id")?;

        // A malformed import id shows the expected form.
        ws.ok(&["state", "rm", "spinnaker_pipeline.all"])?;
        let run = ws.run(&[
            "import",
            "-no-color",
            "-input=false",
            "spinnaker_pipeline.all",
            "just-a-name",
        ])?;
        ensure!(
            run.code == 1 && run.text().contains("<application>/<pipeline name>"),
            "bad import id: {}",
            run.text()
        );
        ws.ok(&[
            "import",
            "-no-color",
            "-input=false",
            "spinnaker_pipeline.all",
            &format!("{APP}/every-block"),
        ])?;

        // Destroy.
        let run = ws.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"])?;
        ensure!(
            run.stdout.contains("3 destroyed"),
            "destroy: {}",
            run.text()
        );
        Ok(())
    });
}

fn small(endpoint: &str, extra_stage: &str, description: &str) -> String {
    format!(
        r#"{app}
resource "spinnaker_pipeline" "p" {{
  application = spinnaker_application.app.name
  name        = "boundary"
  description = "{description}"

  wait_stage {{
    ref_id    = "wait"
    name      = "Wait"
    wait_time = 5
  }}
{extra_stage}}}
"#,
        app = application(endpoint)
    )
}

#[test]
fn pipeline_boundary_and_safety() {
    each_terraform("pipeline_boundary_and_safety", |_, engine, ws| {
        ws.write(&small(&engine.url, "", "one"))?;
        ws.init()?;
        ws.apply()?;

        // A deploy stage and a UI field added behind Terraform's back: no diff.
        let mut live = pipeline(engine, "boundary")?;
        let deploy = json!({"refId": "deploy", "type": "deploy", "name": "Deploy", "requisiteStageRefIds": ["wait"],
            "clusters": [{"account": "aws-prod", "application": APP, "strategy": "redblack"}]});
        live["stages"]
            .as_array_mut()
            .context("stages")?
            .push(deploy.clone());
        live["stages"][0]["skipWaitText"] = json!(null);
        live["stages"][0]["uiOnly"] = json!({"collapsed": true});
        save(engine, &live)?;
        empty_plan(ws, "after a deploy stage was added in the UI")?;
        ws.ok(&["refresh", "-no-color", "-input=false"])?;
        let shown = ws.ok(&["state", "show", "-no-color", "spinnaker_pipeline.p"])?;
        ensure!(
            shown.stdout.contains("deploy"),
            "unmanaged_stages does not list the deploy stage:\n{}",
            shown.stdout
        );

        // The next apply keeps both, and a declared stage may depend on the deploy stage.
        let after = "  manual_judgment_stage {\n    ref_id     = \"judge\"\n    name       = \"Judge\"\n    depends_on = [\"deploy\"]\n  }\n";
        ws.write(&small(&engine.url, after, "two"))?;
        ws.apply()?;
        let p = pipeline(engine, "boundary")?;
        ensure!(
            *stage(&p, "deploy")? == deploy,
            "deploy stage not kept verbatim: {p}"
        );
        ensure!(
            stage(&p, "wait")?["uiOnly"] == json!({"collapsed": true}),
            "UI field dropped: {p}"
        );
        ensure!(
            stage(&p, "judge")?["requisiteStageRefIds"] == json!(["deploy"]),
            "dependency on unmanaged stage: {p}"
        );
        empty_plan(ws, "after apply with an unmanaged stage")?;

        // An undeclared non-infrastructure stage is drift, and apply removes it.
        let mut live = pipeline(engine, "boundary")?;
        live["stages"]
            .as_array_mut()
            .context("stages")?
            .push(json!({"refId": "extra", "type": "wait", "name": "Extra", "waitTime": 1}));
        save(engine, &live)?;
        let plan = ws.plan_code()?;
        ensure!(
            plan.code == 2 && plan.stdout.contains("Extra"),
            "undeclared stage not shown as drift:\n{}",
            plan.text()
        );
        ws.apply()?;
        ensure!(
            stage(&pipeline(engine, "boundary")?, "extra").is_err(),
            "undeclared stage not removed"
        );

        // A UI edit between plan and apply is refused at apply.
        ws.write(&small(&engine.url, after, "three"))?;
        let plan = ws.run(&["plan", "-out=tfplan", "-no-color", "-input=false"])?;
        ensure!(plan.code == 0, "plan -out: {}", plan.text());
        let mut live = pipeline(engine, "boundary")?;
        live["description"] = json!("edited in Deck");
        std::thread::sleep(std::time::Duration::from_millis(5));
        save(engine, &live)?;
        let run = ws.run(&["apply", "-no-color", "-input=false", "tfplan"])?;
        ensure!(run.code == 1, "stale plan applied:\n{}", run.text());
        ensure!(
            run.text().contains("run terraform plan again"),
            "message does not say to plan again:\n{}",
            run.text()
        );
        ensure!(
            pipeline(engine, "boundary")?["description"] == "edited in Deck",
            "the UI edit was overwritten"
        );

        // Deleted behind Terraform's back (with its deploy stage): planned for re-creation.
        ws.write(&small(&engine.url, "", "four"))?;
        let (status, body) = engine.call("DELETE", &format!("/pipelines/{APP}/boundary"), None)?;
        ensure!(status == 200, "delete: HTTP {status} {body}");
        let plan = ws.plan_code()?;
        ensure!(
            plan.code == 2 && plan.stdout.contains("will be created"),
            "deleted pipeline not re-created:\n{}",
            plan.text()
        );
        ws.apply()?;
        empty_plan(ws, "after re-creation")?;
        ws.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"])?;
        Ok(())
    });
}

#[test]
fn pipeline_infrastructure_type_fails_plan() {
    each_terraform(
        "pipeline_infrastructure_type_fails_plan",
        |_, engine, ws| {
            let stage = "  custom_stage {\n    ref_id = \"d\"\n    name   = \"Deploy\"\n    type   = \"deploy\"\n  }\n";
            ws.write(&small(&engine.url, stage, "x"))?;
            ws.init()?;
            let run = ws.run(&["plan", "-no-color", "-input=false"])?;
            ensure!(
                run.code == 1,
                "infrastructure stage accepted:\n{}",
                run.text()
            );
            let text = run.text();
            for needle in [
                "Infrastructure Stage Not Allowed",
                "custom_stage[0].type",
                "belong to Terraform resources",
                "type   = \"deploy\"",
            ] {
                ensure!(
                    text.contains(needle),
                    "plan output lacks {needle:?}:\n{text}"
                );
            }
            ensure!(
                engine.requests()?["counts"]
                    .get("POST /pipelines")
                    .is_none(),
                "something was written"
            );
            Ok(())
        },
    );
}

fn rename_config(endpoint: &str, upstream: &str) -> String {
    format!(
        r#"{app}
resource "spinnaker_pipeline" "up" {{
  application = spinnaker_application.app.name
  name        = "{upstream}"
}}

resource "spinnaker_pipeline" "down" {{
  application = spinnaker_application.app.name
  name        = "downstream"
  pipeline_trigger {{
    enabled       = true
    application   = spinnaker_application.app.name
    pipeline_name = spinnaker_pipeline.up.name
    status        = ["successful"]
  }}
}}

data "spinnaker_pipeline" "up" {{
  application = spinnaker_application.app.name
  name        = spinnaker_pipeline.up.name
}}

data "spinnaker_pipelines" "all" {{
  application = spinnaker_application.app.name
  depends_on  = [spinnaker_pipeline.down]
}}

output "up_id" {{
  value = data.spinnaker_pipeline.up.id
}}

output "count" {{
  value = length(data.spinnaker_pipelines.all.pipelines)
}}
"#,
        app = application(endpoint)
    )
}

#[test]
fn pipeline_rename_keeps_id_and_trigger() {
    each_terraform("pipeline_rename_keeps_id_and_trigger", |_, engine, ws| {
        ws.write(&rename_config(&engine.url, "build"))?;
        ws.init()?;
        ws.apply()?;
        let up = pipeline(engine, "build")?;
        let down = pipeline(engine, "downstream")?;
        ensure!(
            trigger(&down, "pipeline")?["pipeline"] == up["id"],
            "trigger not resolved: {down}"
        );
        let out = ws.ok(&["output", "-json"])?;
        let out: Value = serde_json::from_str(&out.stdout)?;
        ensure!(out["up_id"]["value"] == up["id"], "data source id: {out}");
        ensure!(out["count"]["value"] == 2, "data source list: {out}");
        empty_plan(ws, "after create")?;

        ws.write(&rename_config(&engine.url, "build-and-test"))?;
        let plan = ws.plan_code()?;
        ensure!(
            plan.code == 2 && !plan.stdout.contains("forces replacement"),
            "rename must be in place:\n{}",
            plan.text()
        );
        ws.apply()?;
        let renamed = pipeline(engine, "build-and-test")?;
        ensure!(
            renamed["id"] == up["id"],
            "rename changed the id: {renamed}"
        );
        ensure!(
            pipelines(engine)?.iter().all(|p| p["name"] != "build"),
            "old name left behind"
        );
        let down = pipeline(engine, "downstream")?;
        ensure!(
            trigger(&down, "pipeline")?["pipeline"] == up["id"],
            "trigger lost the renamed upstream: {down}"
        );
        empty_plan(ws, "after rename")?;
        ws.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"])?;
        if !pipelines(engine)?.is_empty() {
            bail!("pipelines left after destroy");
        }
        Ok(())
    });
}
