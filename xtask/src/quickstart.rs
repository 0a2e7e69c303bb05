//! `cargo xtask quickstart`: the README's main job. Builds the provider and `spinhcl`, starts
//! the embedded engine (`spinhcl server --dev`), installs the provider into a filesystem mirror
//! with its own Terraform CLI configuration, applies `examples/quickstart` with Terraform,
//! then triggers the pipeline and prints its stage statuses (or, when the engine does not run
//! executions, the pipeline it stored).

use crate::{http, sh, test, tools};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const APPLICATION: &str = "quickstart";
const PIPELINE: &str = "deploy";
const PROVIDER_VERSION: &str = "0.1.0";
/// The judgment the quickstart gives when the pipeline asks.
const JUDGMENT: &str = "promote";
const EXECUTION_TIMEOUT: Duration = Duration::from_secs(60);

pub fn run(_args: &[String]) -> Result<()> {
    sh::run(sh::cargo().args([
        "build",
        "--package",
        "provider",
        "--bin",
        "terraform-provider-spinnaker",
        "--package",
        "companion",
        "--bin",
        "spinhcl",
    ]))?;
    let target = test::target_dir()?;
    let engine = Engine::start(&target.join("debug/spinhcl"))?;
    eprintln!("xtask: engine is up at {}", engine.url);

    let terraform = terraform()?;
    let dir = target.join("quickstart");
    let work = prepare(&dir, &target.join("debug/terraform-provider-spinnaker"))?;
    let tf = |args: &[&str]| -> Result<()> {
        sh::run(
            Command::new(&terraform)
                .args(args)
                .current_dir(&work)
                .env("TF_CLI_CONFIG_FILE", dir.join("terraform.rc"))
                .env("TF_IN_AUTOMATION", "1")
                .env("CHECKPOINT_DISABLE", "1")
                .env_remove("TF_PLUGIN_CACHE_DIR"),
        )
    };
    tf(&["init", "-input=false", "-no-color"])?;
    let endpoint = format!("endpoint={}", engine.url);
    tf(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-var",
        &endpoint,
    ])?;

    let trigger = json!({"type": "manual", "user": "quickstart", "parameters": {}});
    let resp = http::request(
        &engine.url,
        "POST",
        &format!("/pipelines/{APPLICATION}/{PIPELINE}"),
        Some(&trigger.to_string()),
    )?;
    if resp.status == 202 {
        let execution = serde_json::from_str::<Value>(&resp.body)
            .ok()
            .and_then(|v| v.get("ref").and_then(Value::as_str).map(str::to_owned))
            .and_then(|r| r.rsplit('/').next().map(str::to_owned))
            .with_context(|| {
                format!(
                    "the engine answered 202 without an execution ref: {}",
                    resp.body
                )
            })?;
        eprintln!("xtask: triggered execution {execution}");
        follow(&engine.url, &execution)
    } else {
        eprintln!(
            "xtask: the engine does not run executions yet (POST /pipelines/{APPLICATION}/{PIPELINE} answered HTTP {}); \
             this is the pipeline Terraform saved:",
            resp.status
        );
        print_saved(&engine.url)
    }
}

/// Terraform: the `terraform` on PATH, else the one `scripts/tools.sh terraform` installs.
fn terraform() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join("terraform"))
        .find(|p| p.is_file())
    {
        return Ok(path);
    }
    tools::install(&["terraform"])?
        .into_iter()
        .find(|(k, _)| k.starts_with("TERRAFORM"))
        .map(|(_, v)| PathBuf::from(v))
        .context("scripts/tools.sh installed no terraform")
}

/// Lays out `<dir>/mirror` (the provider as `spinhcl/spinnaker` 0.1.0), `<dir>/terraform.rc`
/// pointing Terraform at it, and `<dir>/work` holding the quickstart configuration.
fn prepare(dir: &Path, provider: &Path) -> Result<PathBuf> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("cleaning {}", dir.display()))?;
    }
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let platform = format!("{}_{arch}", std::env::consts::OS);
    let mirror = dir.join("mirror");
    let install = mirror.join(format!(
        "registry.terraform.io/spinhcl/spinnaker/{PROVIDER_VERSION}/{platform}"
    ));
    std::fs::create_dir_all(&install)?;
    std::fs::copy(
        provider,
        install.join(format!("terraform-provider-spinnaker_v{PROVIDER_VERSION}")),
    )
    .with_context(|| format!("installing {} into the mirror", provider.display()))?;
    std::fs::write(
        dir.join("terraform.rc"),
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/spinhcl/*\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/spinhcl/*\"]\n  }}\n}}\n",
            mirror.display()
        ),
    )?;
    let work = dir.join("work");
    std::fs::create_dir_all(&work)?;
    let source = sh::root().join("examples/quickstart/main.tf");
    std::fs::copy(&source, work.join("main.tf"))
        .with_context(|| format!("copying {}", source.display()))?;
    Ok(work)
}

/// Polls the execution, printing stage statuses as they change and answering the manual
/// judgment, until it completes.
fn follow(base: &str, execution: &str) -> Result<()> {
    let deadline = Instant::now() + EXECUTION_TIMEOUT;
    let mut last = String::new();
    let mut judged = false;
    loop {
        let resp = http::request(base, "GET", &format!("/pipelines/{execution}"), None)?;
        if resp.status != 200 {
            bail!(
                "reading execution {execution}: HTTP {} {}",
                resp.status,
                resp.body
            );
        }
        let doc: Value = serde_json::from_str(&resp.body).context("execution is not JSON")?;
        let status = doc
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("UNKNOWN");
        let stages: Vec<(String, String, String, String)> = doc
            .get("stages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|s| s.get("syntheticStageOwner").is_none_or(Value::is_null))
            .map(|s| {
                let text = |k: &str| {
                    s.get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                (text("id"), text("name"), text("type"), text("status"))
            })
            .collect();
        let table: String = stages
            .iter()
            .map(|(_, name, kind, st)| format!("  {name:<12} {kind:<16} {st}\n"))
            .collect();
        if table != last {
            let mut out = std::io::stdout().lock();
            out.write_all(format!("execution {execution}: {status}\n{table}").as_bytes())?;
            last = table;
        }
        if let Some((id, name, ..)) = stages
            .iter()
            .find(|(_, _, kind, st)| kind == "manualJudgment" && st == "RUNNING")
            .filter(|_| !judged)
        {
            eprintln!("xtask: judging stage {name:?}: {JUDGMENT}");
            let body = json!({"judgmentStatus": "continue", "judgmentInput": JUDGMENT});
            let resp = http::request(
                base,
                "PATCH",
                &format!("/pipelines/{execution}/stages/{id}"),
                Some(&body.to_string()),
            )?;
            if !(200..300).contains(&resp.status) {
                bail!(
                    "the engine refused the judgment: HTTP {} {}",
                    resp.status,
                    resp.body
                );
            }
            judged = true;
        }
        if matches!(
            status,
            "SUCCEEDED" | "TERMINAL" | "CANCELED" | "STOPPED" | "FAILED_CONTINUE"
        ) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "execution {execution} did not finish within {EXECUTION_TIMEOUT:?} (status {status})"
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn print_saved(base: &str) -> Result<()> {
    let resp = http::request(
        base,
        "GET",
        &format!("/applications/{APPLICATION}/pipelineConfigs"),
        None,
    )?;
    if resp.status != 200 {
        bail!("listing pipelines: HTTP {} {}", resp.status, resp.body);
    }
    let list: Vec<Value> = serde_json::from_str(&resp.body).context("pipeline list is not JSON")?;
    let saved = list
        .into_iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(PIPELINE))
        .with_context(|| {
            format!("Terraform applied, but the engine has no pipeline {PIPELINE:?}")
        })?;
    let mut out = std::io::stdout().lock();
    out.write_all(format!("{}\n", serde_json::to_string_pretty(&saved)?).as_bytes())?;
    Ok(())
}

/// A running `spinhcl server --dev`, stopped when dropped.
pub struct Engine {
    child: Child,
    pub url: String,
}

impl Engine {
    pub fn start(spinhcl: &Path) -> Result<Engine> {
        let mut child = Command::new(spinhcl)
            .args(["server", "--dev", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", spinhcl.display()))?;
        let stderr = child
            .stderr
            .take()
            .context("engine stderr was not captured")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on http://") {
                    let url = line[at + "listening on ".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap_or("");
                    let _ = tx.send(url.trim_end_matches(['"', ',']).to_string());
                }
                eprintln!("engine: {line}");
            }
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => Ok(Engine { child, url }),
            Err(_) => {
                let _ = child.kill();
                bail!("the engine did not announce its address within 30 s")
            }
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
