//! The modules in `modules/` through their examples in `examples/`: `terraform validate`, then
//! apply against the engine with the provider's `aws` block on moto (so the plan-time cluster
//! checks run on real lookups), then read the pipelines back from the engine.

use std::path::Path;

use anyhow::{Context, Result, ensure};
use serde_json::Value;

use super::{Moto, each_terraform, enabled, runtime, seed};

/// Copies `modules/` and `examples/<example>/main.tf` into the workspace, pointing the module
/// source at the copy and the provider at the test's version.
fn stage_example(ws: &e2e::Workspace, example: &str) -> Result<()> {
    let root = e2e::repo_root();
    copy_dir(&root.join("modules"), &ws.work().join("modules"))?;
    let main = std::fs::read_to_string(root.join("examples").join(example).join("main.tf"))
        .with_context(|| format!("examples/{example}/main.tf"))?;
    let main = main.replace("\"../../modules/", "\"./modules/").replace(
        "source = \"spinhcl/spinnaker\"",
        &format!(
            "source = \"spinhcl/spinnaker\"\n      version = \"{}\"",
            e2e::PROVIDER_VERSION
        ),
    );
    ws.write(&main)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Runs Terraform with `args`, the examples' endpoint variables for `engine` and `moto`, and
/// moto's keys in the environment.
fn terraform(
    ws: &e2e::Workspace,
    engine: &e2e::Engine,
    moto: &Moto,
    args: &[&str],
) -> Result<e2e::Run> {
    let vars = [
        format!("spinnaker_endpoint={}", engine.url),
        format!("aws_endpoint={}", moto.url),
    ];
    let mut all = args.to_vec();
    for var in &vars {
        all.extend(["-var", var.as_str()]);
    }
    let env = [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ];
    ws.run_env(&all, &env)
}

/// Stages `example`, validates it and applies it.
fn apply_example(
    ws: &e2e::Workspace,
    engine: &e2e::Engine,
    moto: &Moto,
    example: &str,
) -> Result<()> {
    stage_example(ws, example)?;
    ws.init()?;
    ws.ok(&["validate", "-no-color"])?;
    let run = terraform(
        ws,
        engine,
        moto,
        &["apply", "-auto-approve", "-no-color", "-input=false"],
    )?;
    ensure!(run.code == 0, "apply failed:\n{}", run.text());
    Ok(())
}

fn pipelines(engine: &e2e::Engine, application: &str) -> Result<Vec<Value>> {
    let (status, body) = engine.call(
        "GET",
        &format!("/applications/{application}/pipelineConfigs"),
        None,
    )?;
    ensure!(status == 200, "pipelineConfigs: {status} {body}");
    Ok(body.as_array().cloned().unwrap_or_default())
}

fn stage_types(pipeline: &Value) -> Vec<String> {
    pipeline["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["type"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn canary_release_module_applies_against_the_engine() {
    let test = "canary_release_module_applies_against_the_engine";
    if !enabled(test) {
        return;
    }
    let moto = Moto::start().expect("moto");
    runtime()
        .block_on(seed(
            &moto,
            "us-east-1",
            "shop-prod-baseline",
            &["shop-prod-canary"],
        ))
        .expect("seed moto");
    each_terraform(test, |_, engine, ws| {
        apply_example(ws, engine, &moto, "canary-release")?;
        let all = pipelines(engine, "shop")?;
        let release = all
            .iter()
            .find(|p| p["name"] == "Canary Release")
            .with_context(|| format!("no release pipeline in {all:?}"))?;
        ensure!(
            stage_types(release)
                == [
                    "checkPreconditions",
                    "kayentaCanary",
                    "manualJudgment",
                    "webhook",
                    "webhook"
                ],
            "{release}"
        );
        ensure!(release["triggers"][0]["source"] == "shop-ci", "{release}");
        let scope = &release["stages"][1]["canaryConfig"]["scopes"][0];
        ensure!(
            scope["controlScope"] == "shop-prod-baseline"
                && scope["experimentScope"] == "shop-prod-canary",
            "{scope}"
        );
        // Applying again changes nothing.
        let run = terraform(
            ws,
            engine,
            &moto,
            &["plan", "-detailed-exitcode", "-no-color", "-input=false"],
        )?;
        ensure!(run.code == 0, "second plan is empty:\n{}", run.text());
        Ok(())
    });
}

#[test]
fn multi_region_promotion_module_applies_against_the_engine() {
    let test = "multi_region_promotion_module_applies_against_the_engine";
    if !enabled(test) {
        return;
    }
    let moto = Moto::start().expect("moto");
    runtime()
        .block_on(async {
            seed(&moto, "us-east-1", "shopglobal-prod", &[]).await?;
            seed(&moto, "us-west-2", "shopglobal-prod", &[]).await
        })
        .expect("seed moto");
    each_terraform(test, |_, engine, ws| {
        apply_example(ws, engine, &moto, "multi-region-promotion")?;
        let all = pipelines(engine, "shopglobal")?;
        let promotion = all
            .iter()
            .find(|p| p["name"] == "Multi-region Promotion")
            .with_context(|| format!("no promotion pipeline in {all:?}"))?;
        let stages = promotion["stages"].as_array().context("stages")?;
        let by_ref = |r: &str| stages.iter().find(|s| s["refId"] == r).cloned();
        let judgment = by_ref("approve-us-west-2").context("judgment before us-west-2")?;
        ensure!(judgment["type"] == "manualJudgment", "{judgment}");
        ensure!(
            judgment["requisiteStageRefIds"] == serde_json::json!(["bake-us-east-1"]),
            "{judgment}"
        );
        let check = by_ref("check-us-west-2").context("check us-west-2")?;
        ensure!(
            check["requisiteStageRefIds"] == serde_json::json!(["approve-us-west-2"]),
            "{check}"
        );
        ensure!(
            check["preconditions"][0]["context"]["regions"] == serde_json::json!(["us-west-2"]),
            "{check}"
        );
        ensure!(
            by_ref("promote-us-east-1").is_some() && by_ref("bake-us-west-2").is_some(),
            "{promotion}"
        );
        ensure!(
            stages.len() == 7,
            "3 stages per region plus one judgment: {promotion}"
        );

        // A region where the cluster does not exist fails plan on the module's precondition.
        let run = terraform(
            ws,
            engine,
            &moto,
            &[
                "plan",
                "-no-color",
                "-input=false",
                "-var",
                "regions=[\"us-east-1\",\"eu-west-1\"]",
            ],
        )?;
        ensure!(
            run.code == 1 && run.text().contains("Cluster Not Found"),
            "{}",
            run.text()
        );
        ensure!(run.text().contains("eu-west-1"), "{}", run.text());
        Ok(())
    });
}
