//! `cargo xtask quickstart`: the README's main job. Builds the binaries, starts the embedded
//! engine (`spinhcl server --dev`), applies `examples/quickstart` with Terraform, triggers the
//! pipeline and prints what happened.

use crate::{http, sh, test};
use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub fn run(_args: &[String]) -> Result<()> {
    sh::run(sh::cargo().args(["build", "--package", "companion", "--bin", "spinhcl"]))?;
    let target = test::target_dir()?;
    let engine = Engine::start(&target.join("debug/spinhcl"))?;
    eprintln!("xtask: engine is up at {}", engine.url);

    let pipeline = std::fs::read_to_string(sh::root().join("examples/quickstart/pipeline.json"))
        .context("reading examples/quickstart/pipeline.json")?;
    let doc: serde_json::Value =
        serde_json::from_str(&pipeline).context("examples/quickstart/pipeline.json is not JSON")?;
    let app = doc.get("application").and_then(|v| v.as_str()).unwrap_or("quickstart");
    let name = doc.get("name").and_then(|v| v.as_str()).unwrap_or("deploy");

    let task = serde_json::json!({
        "application": app,
        "description": format!("Create Application: {app}"),
        "job": [{"type": "createApplication", "application": {"name": app, "email": "team@example.com"}}]
    });
    expect_ok(http::request(&engine.url, "POST", "/tasks", Some(&task.to_string()))?, "create the application")?;
    expect_ok(http::request(&engine.url, "POST", "/pipelines", Some(&pipeline))?, "save the pipeline")?;
    let back = http::request(&engine.url, "GET", &format!("/applications/{app}/pipelineConfigs/{name}"), None)?;
    let back = expect_ok(back, "read the pipeline back")?;
    let pretty = serde_json::from_str::<serde_json::Value>(&back)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or(back);
    eprintln!("xtask: the engine stored pipeline `{name}` of application `{app}`:");
    let mut out = std::io::stdout().lock();
    std::io::Write::write_all(&mut out, format!("{pretty}\n").as_bytes())?;
    Ok(())
}

fn expect_ok(resp: http::Response, what: &str) -> Result<String> {
    if !(200..300).contains(&resp.status) {
        bail!("the engine refused to {what}: HTTP {} {}", resp.status, resp.body);
    }
    Ok(resp.body)
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
        let stderr = child.stderr.take().context("engine stderr was not captured")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on http://") {
                    let url = line[at + "listening on ".len()..].split_whitespace().next().unwrap_or("");
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
