//! Benchmark: `terraform plan` with 1,000 `spinnaker_pipeline` across 50 applications in state
//! (real HTTP calls to `spinhcl server`) against 1,000 `null_resource` from HashiCorp's Go null
//! provider, interleaved in the same run; and the Gate requests one plan makes, counted by the
//! engine (`GET /__spinhcl/requests`).
//!
//! `cargo bench -p e2e --bench pipeline_plan`. Set `SPINHCL_PROVIDER_BIN` and `SPINHCL_BIN` to
//! release builds for representative figures (`cargo xtask bench` does).

// A benchmark's figures are its output.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use e2e::{Engine, Workspace};
use serde_json::{Value, json};

const PIPELINES: usize = 1000;
const APPLICATIONS: usize = 50;
const PLAN_RUNS: usize = 3;
const ROUNDS: usize = 2;
const LIST_ROUTE: &str = "GET /applications/{app}/pipelineConfigs";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn app(i: usize) -> String {
    format!("benchapp{i}")
}

/// Creates the applications through the engine's task API, waiting for each task.
fn create_applications(engine: &Engine) -> Result<()> {
    for i in 0..APPLICATIONS {
        let name = app(i);
        let task = json!({
            "application": name,
            "description": format!("Create Application: {name}"),
            "job": [{"type": "createApplication", "application": {"name": name, "email": "bench@example.com"}}],
        });
        let (status, reply) = engine.call("POST", "/tasks", Some(task))?;
        if !(200..300).contains(&status) {
            bail!("createApplication refused: HTTP {status} {reply}");
        }
        let id = reply["ref"]
            .as_str()
            .and_then(|r| r.rsplit('/').next())
            .unwrap_or_default()
            .to_owned();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (_, task) = engine.call("GET", &format!("/tasks/{id}"), None)?;
            match task["status"].as_str() {
                Some("SUCCEEDED") => break,
                Some("TERMINAL" | "CANCELED" | "STOPPED") => bail!("task failed: {task}"),
                _ if Instant::now() > deadline => bail!("task {id} did not finish"),
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
    Ok(())
}

/// Each pipeline: a webhook trigger, a parameter, a wait, a manual judgment and a webhook
/// stage branching on the judgment.
fn pipelines_config(endpoint: &str) -> String {
    e2e::provider_config(endpoint, "")
        + &format!(
            r##"
resource "spinnaker_pipeline" "bench" {{
  count       = {PIPELINES}
  application = "benchapp${{count.index % {APPLICATIONS}}}"
  name        = "pipeline-${{count.index}}"

  parameter {{
    name    = "version"
    default = "1.0"
  }}
  webhook_trigger {{
    enabled = true
    source  = "bench-${{count.index}}"
  }}
  wait_stage {{
    ref_id    = "wait"
    name      = "Wait"
    wait_time = 30
  }}
  manual_judgment_stage {{
    ref_id          = "judge"
    name            = "Judge"
    depends_on      = ["wait"]
    judgment_inputs = ["go", "stop"]
  }}
  webhook_stage {{
    ref_id                   = "notify"
    name                     = "Notify"
    depends_on               = ["judge"]
    stage_enabled_expression = "#judgment('Judge') == 'go'"
    url                      = "http://127.0.0.1:9/notify"
  }}
}}
"##
        )
}

fn plan_times(ws: &Workspace) -> Result<Vec<Duration>> {
    let mut times = Vec::new();
    for _ in 0..PLAN_RUNS {
        let run = ws.plan_code()?;
        if run.code != 0 {
            bail!(
                "plan with everything in state was not empty:\n{}",
                run.text()
            );
        }
        times.push(run.elapsed);
    }
    Ok(times)
}

fn count(requests: &Value, route: &str) -> u64 {
    requests["counts"][route].as_u64().unwrap_or(0)
}

fn main() -> Result<()> {
    let provider = e2e::provider_bin()?;
    let tf = e2e::terraforms()?
        .into_iter()
        .next()
        .context("no terraform")?;
    eprintln!(
        "pipeline_plan: {PIPELINES} pipelines in {APPLICATIONS} applications, Terraform {}, provider {}",
        tf.version,
        provider.display()
    );

    let engine = Engine::start()?;
    create_applications(&engine)?;
    let ours = Workspace::new(&tf, &provider, true)?;
    ours.write(&pipelines_config(&engine.url))?;
    ours.init()?;
    let applied = ours.run(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-input=false",
        "-parallelism=20",
    ])?;
    if applied.code != 0 {
        bail!("apply failed:\n{}", applied.text());
    }
    eprintln!(
        "pipeline_plan: applied {PIPELINES} pipelines in {}",
        ms(applied.elapsed)
    );

    let null = Workspace::new(&tf, &provider, true)?;
    null.write(&format!(
        "terraform {{\n  required_providers {{\n    null = {{\n      source  = \"hashicorp/null\"\n      version = \"2.1.2\"\n    }}\n  }}\n}}\n\nresource \"null_resource\" \"bench\" {{\n  count = {PIPELINES}\n}}\n"
    ))?;
    null.init()?;
    null.apply()?;

    // Requests of one plan, counted alone.
    let before = engine.requests()?;
    let first = ours.plan_code()?;
    if first.code != 0 {
        bail!(
            "plan with everything in state was not empty:\n{}",
            first.text()
        );
    }
    let after = engine.requests()?;
    let lists = count(&after, LIST_ROUTE) - count(&before, LIST_ROUTE);
    let total = after["total"].as_u64().unwrap_or(0) - before["total"].as_u64().unwrap_or(0);

    // Interleave so machine noise hits both alike.
    let mut ours_times = vec![first.elapsed];
    let mut null_times = Vec::new();
    for _ in 0..ROUNDS {
        ours_times.extend(plan_times(&ours)?);
        null_times.extend(plan_times(&null)?);
    }
    let ours_median = median(ours_times.clone());
    let null_median = median(null_times.clone());
    let ratio = ours_median.as_secs_f64() / null_median.as_secs_f64();

    println!(
        "terraform plan, {PIPELINES} in state, Terraform {} ({} and {} runs, interleaved)",
        tf.version,
        ours_times.len(),
        null_times.len()
    );
    println!(
        "  spinnaker_pipeline ({APPLICATIONS} applications): median {} (min {}, max {})",
        ms(ours_median),
        ms(*ours_times.iter().min().unwrap_or(&Duration::ZERO)),
        ms(*ours_times.iter().max().unwrap_or(&Duration::ZERO))
    );
    println!(
        "  null_resource (Go null 2.1.2): median {} (min {}, max {})",
        ms(null_median),
        ms(*null_times.iter().min().unwrap_or(&Duration::ZERO)),
        ms(*null_times.iter().max().unwrap_or(&Duration::ZERO))
    );
    println!("  ratio: {ratio:.2}x (target <= 1.50x)");
    println!(
        "  Gate requests in one plan: {lists} {LIST_ROUTE} for {APPLICATIONS} applications (target <= 1 per application), {total} requests in all"
    );
    Ok(())
}
