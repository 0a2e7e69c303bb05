//! Benchmark: `terraform plan` with 500 `spinnaker_application` in state
//! (release-built provider, real HTTP calls to `spinhcl server`) against 500
//! `null_resource` from HashiCorp's Go null provider, in the same run; and
//! the provider's cold start to the handshake line (median of 30).
//!
//! `cargo bench -p e2e --bench provider_plan` (or `cargo xtask bench provider`).

// A benchmark's figures are its output.
#![allow(clippy::print_stdout)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use e2e::{Engine, Workspace};

const COUNT: usize = 500;
const PLAN_RUNS: usize = 5;
const COLD_STARTS: usize = 30;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
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

/// Time from spawn to the first stdout line, with go-plugin's environment.
fn cold_start(bin: &Path, client_cert: &str) -> Result<Duration> {
    let started = Instant::now();
    let mut child = Command::new(bin)
        .env(
            "TF_PLUGIN_MAGIC_COOKIE",
            "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
        )
        .env("PLUGIN_PROTOCOL_VERSIONS", "5")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("PLUGIN_CLIENT_CERT", client_cert)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("spawning {}", bin.display()))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
    let elapsed = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    if !line.starts_with("1|5|") {
        bail!("unexpected handshake from {}: {line:?}", bin.display());
    }
    Ok(elapsed)
}

/// A self-signed client certificate, like the one Terraform passes in
/// `PLUGIN_CLIENT_CERT`.
fn client_cert() -> Result<String> {
    let key = rcgen::KeyPair::generate()?;
    Ok(rcgen::CertificateParams::new(vec!["localhost".to_owned()])?
        .self_signed(&key)?
        .pem())
}

fn main() -> Result<()> {
    let provider = e2e::provider_bin()?;
    let tf = e2e::terraforms()?
        .into_iter()
        .next()
        .context("no terraform")?;
    eprintln!(
        "provider_plan: {} resources, Terraform {}, provider {}",
        COUNT,
        tf.version,
        provider.display()
    );

    let engine = Engine::start()?;
    let ours = Workspace::new(&tf, &provider, true)?;
    ours.write(&(e2e::provider_config(&engine.url, "")
        + &format!(
            "\nresource \"spinnaker_application\" \"bench\" {{\n  count = {COUNT}\n  name  = \"bench-${{count.index}}\"\n  email = \"bench@example.com\"\n}}\n"
        )))?;
    ours.init()?;
    let applied = ours.apply()?;
    eprintln!(
        "provider_plan: applied {COUNT} applications in {}",
        ms(applied.elapsed)
    );

    let null = Workspace::new(&tf, &provider, true)?;
    null.write(&format!(
        "terraform {{\n  required_providers {{\n    null = {{\n      source  = \"hashicorp/null\"\n      version = \"2.1.2\"\n    }}\n  }}\n}}\n\nresource \"null_resource\" \"bench\" {{\n  count = {COUNT}\n}}\n"
    ))?;
    null.init()?;
    null.apply()?;

    let before = engine.requests()?;
    // Interleave so machine noise hits both alike.
    let mut ours_times = Vec::new();
    let mut null_times = Vec::new();
    for _ in 0..2 {
        ours_times.extend(plan_times(&ours)?);
        null_times.extend(plan_times(&null)?);
    }
    let after = engine.requests()?;
    let gets = |v: &serde_json::Value| {
        v.get("counts")
            .and_then(|c| c.get("GET /applications/{app}"))
            .and_then(|n| n.as_u64())
            .unwrap_or(0)
    };
    let per_plan = (gets(&after) - gets(&before)) as f64 / ours_times.len() as f64;

    let ours_median = median(ours_times.clone());
    let null_median = median(null_times.clone());
    let ratio = ours_median.as_secs_f64() / null_median.as_secs_f64();

    let cert = client_cert()?;
    let mut starts = Vec::new();
    let mut null_starts = Vec::new();
    for _ in 0..COLD_STARTS {
        starts.push(cold_start(&provider, &cert)?);
        null_starts.push(cold_start(&e2e::null_provider()?, &cert)?);
    }
    let start_median = median(starts.clone());
    let null_start_median = median(null_starts);

    println!(
        "terraform plan, {COUNT} in state, Terraform {} ({} runs each, interleaved)",
        tf.version,
        ours_times.len()
    );
    println!(
        "  spinnaker_application: median {} (min {}, max {}), {per_plan:.0} GET /applications/{{app}} per plan",
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
    println!("  ratio: {ratio:.2}x (target <= 1.20x)");
    println!(
        "cold start to handshake ({COLD_STARTS} runs): median {} (min {}, max {}); Go null provider median {} (target <= 10 ms)",
        ms(start_median),
        ms(*starts.iter().min().unwrap_or(&Duration::ZERO)),
        ms(*starts.iter().max().unwrap_or(&Duration::ZERO)),
        ms(null_start_median)
    );
    Ok(())
}
