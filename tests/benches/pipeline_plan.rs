//! Benchmark: `terraform plan` with 1,000 `spinnaker_pipeline` across 50 applications in state
//! (real HTTP calls to `spinhcl server`) against 1,000 `null_resource` from HashiCorp's Go null
//! provider, interleaved in the same run; and the Gate requests one plan makes, counted by the
//! engine (`GET /__spinhcl/requests`).
//!
//! To tell Terraform core's work from the provider's, it also plans against the provider
//! started in `--debug` mode (Terraform attaches through `TF_REATTACH_PROVIDERS`), so the
//! CPU time of `terraform` and of the provider process are measured apart
//! (`/proc/<pid>/stat`).
//!
//! `cargo bench -p e2e --bench pipeline_plan`. Set `SPINHCL_PROVIDER_BIN` and `SPINHCL_BIN` to
//! release builds for representative figures (`cargo xtask bench` does).

// A benchmark's figures are its output.
#![allow(clippy::print_stdout)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use e2e::{Engine, Workspace};
use serde_json::{Value, json};

const PIPELINES: usize = 1000;
const APPLICATIONS: usize = 50;
/// Plans per kind (ours, null, ours with the provider attached).
const RUNS: usize = 5;
const LIST_ROUTE: &str = "GET /applications/{app}/pipelineConfigs";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Linux reports process CPU times in clock ticks of 1/100 s (`USER_HZ`).
const TICK: Duration = Duration::from_millis(10);

/// Fields of `/proc/<pid>/stat` after the command name, so index 0 is field 3 (`state`).
fn stat_fields(pid: &str) -> Result<Vec<u64>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    let rest = text
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("unexpected /proc stat format")?;
    Ok(rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect())
}

fn ticks(fields: &[u64], from: usize) -> Duration {
    TICK * u32::try_from(fields.iter().skip(from).take(2).sum::<u64>()).unwrap_or(u32::MAX)
}

/// CPU time (user + system) of the children this process has waited for: `cutime + cstime`.
/// A `terraform` run adds itself and the plugins it launched and waited for.
fn children_cpu() -> Result<Duration> {
    Ok(ticks(&stat_fields("self")?, 13))
}

/// CPU time (user + system) a running process has used so far: `utime + stime`.
fn process_cpu(pid: u32) -> Result<Duration> {
    Ok(ticks(&stat_fields(&pid.to_string())?, 11))
}

/// The provider started with `--debug`: Terraform attaches to it instead of launching it, so
/// its CPU time is not part of `terraform`'s.
struct DebugProvider {
    child: Child,
    reattach: String,
}

impl DebugProvider {
    fn start(provider: &std::path::Path) -> Result<DebugProvider> {
        let mut child = Command::new(provider)
            .arg("--debug")
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting the provider with --debug")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut reattach = None;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some((_, value)) = line.split_once("TF_REATTACH_PROVIDERS='") {
                reattach = value.strip_suffix('\'').map(str::to_owned);
                break;
            }
        }
        match reattach {
            Some(reattach) => Ok(DebugProvider { child, reattach }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the provider did not print TF_REATTACH_PROVIDERS in --debug mode")
            }
        }
    }
}

impl Drop for DebugProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One plan's cost: wall time and the CPU time of `terraform` (with the plugins it launched).
struct Cost {
    wall: Duration,
    cpu: Duration,
}

fn planned(ws: &Workspace, env: &[(&str, &str)]) -> Result<Cost> {
    let before = children_cpu()?;
    let run = ws.run_env(
        &["plan", "-detailed-exitcode", "-no-color", "-input=false"],
        env,
    )?;
    if run.code != 0 {
        bail!(
            "plan with everything in state was not empty (exit {}):\n{}",
            run.code,
            run.text()
        );
    }
    Ok(Cost {
        wall: run.elapsed,
        cpu: children_cpu()?.saturating_sub(before),
    })
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
    let first = planned(&ours, &[])?;
    let after = engine.requests()?;
    let lists = count(&after, LIST_ROUTE) - count(&before, LIST_ROUTE);
    let total = after["total"].as_u64().unwrap_or(0) - before["total"].as_u64().unwrap_or(0);

    // Interleave so machine noise hits all three alike.
    let debug = DebugProvider::start(&provider)?;
    let reattach = [("TF_REATTACH_PROVIDERS", debug.reattach.as_str())];
    let mut ours_runs = vec![first];
    let (mut null_runs, mut core_runs, mut provider_cpu) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        ours_runs.push(planned(&ours, &[])?);
        null_runs.push(planned(&null, &[])?);
        let cpu_before = process_cpu(debug.child.id())?;
        core_runs.push(planned(&ours, &reattach)?);
        provider_cpu.push(process_cpu(debug.child.id())?.saturating_sub(cpu_before));
    }
    let wall = |runs: &[Cost]| median(runs.iter().map(|c| c.wall).collect());
    let cpu = |runs: &[Cost]| median(runs.iter().map(|c| c.cpu).collect());
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    let (ours_wall, null_wall) = (wall(&ours_runs), wall(&null_runs));

    println!(
        "terraform plan, {PIPELINES} in state, Terraform {} ({} runs each, interleaved; medians)",
        tf.version,
        ours_runs.len()
    );
    println!(
        "  spinnaker_pipeline ({APPLICATIONS} applications): wall {} (min {}, max {}), CPU {} (terraform and provider)",
        ms(ours_wall),
        ms(ours_runs.iter().map(|c| c.wall).min().unwrap_or_default()),
        ms(ours_runs.iter().map(|c| c.wall).max().unwrap_or_default()),
        secs(cpu(&ours_runs))
    );
    println!(
        "  null_resource (Go null 2.1.2): wall {} (min {}, max {}), CPU {} (terraform and provider)",
        ms(null_wall),
        ms(null_runs.iter().map(|c| c.wall).min().unwrap_or_default()),
        ms(null_runs.iter().map(|c| c.wall).max().unwrap_or_default()),
        secs(cpu(&null_runs))
    );
    println!(
        "  ratio: {:.2}x wall, {:.2}x CPU (target <= 1.50x)",
        ratio(ours_wall, null_wall),
        ratio(cpu(&ours_runs), cpu(&null_runs))
    );
    println!(
        "  split, provider attached in --debug mode: terraform core {} CPU, provider {} CPU (wall {})",
        secs(cpu(&core_runs)),
        secs(median(provider_cpu)),
        ms(wall(&core_runs))
    );
    println!(
        "  terraform core alone for spinnaker_pipeline vs everything for null_resource: {:.2}x CPU",
        ratio(cpu(&core_runs), cpu(&null_runs))
    );
    println!(
        "  Gate requests in one plan: {lists} {LIST_ROUTE} for {APPLICATIONS} applications (target <= 1 per application), {total} requests in all"
    );
    Ok(())
}
