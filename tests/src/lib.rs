//! End-to-end harness: builds (or takes from the environment) the provider
//! and `spinhcl` binaries, installs the provider into a filesystem mirror
//! with its own Terraform CLI configuration, starts `spinhcl server --dev`
//! on a free loopback port, and runs real Terraform binaries against them.
//!
//! Acceptance tests run only with `TF_ACC=1` (the README's test command sets
//! it); otherwise they print why they skip.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

/// The provider's address in test configurations.
pub const PROVIDER_SOURCE: &str = "spinhcl/spinnaker";
/// The version the mirror offers.
pub const PROVIDER_VERSION: &str = "0.1.0";
/// The oldest Terraform we support, always tested.
pub const OLDEST_TERRAFORM: &str = "1.0.3";

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whether acceptance tests should run; prints the reason when they skip.
pub fn acceptance(test: &str) -> bool {
    if std::env::var("TF_ACC").is_ok_and(|v| !v.is_empty() && v != "0") {
        return true;
    }
    eprintln!("skipping {test}: set TF_ACC=1 to run tests against real Terraform");
    false
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo_root().join("target"), PathBuf::from)
}

/// Builds `bin` of `package` in `profile` unless `env_var` names it.
fn binary(env_var: &str, package: &str, bin: &str, release: bool) -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(env_var) {
        let path = PathBuf::from(path);
        if path.exists() {
            return Ok(path);
        }
        bail!("{env_var}={} does not exist", path.display());
    }
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["build", "--quiet", "--package", package, "--bin", bin])
        .current_dir(repo_root());
    if release {
        cmd.arg("--release");
    }
    let status = cmd
        .status()
        .with_context(|| format!("running cargo build for {bin}"))?;
    if !status.success() {
        bail!("cargo build of {bin} failed");
    }
    Ok(target_dir()
        .join(if release { "release" } else { "debug" })
        .join(bin))
}

/// The provider binary (`SPINHCL_PROVIDER_BIN`, else a debug build).
pub fn provider_bin() -> Result<PathBuf> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| {
        binary(
            "SPINHCL_PROVIDER_BIN",
            "provider",
            "terraform-provider-spinnaker",
            false,
        )
        .map_err(|e| format!("{e:#}"))
    })
    .clone()
    .map_err(|e| anyhow!(e))
}

/// The `spinhcl` binary (`SPINHCL_BIN`, else a debug build).
pub fn spinhcl_bin() -> Result<PathBuf> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| {
        binary("SPINHCL_BIN", "companion", "spinhcl", false).map_err(|e| format!("{e:#}"))
    })
    .clone()
    .map_err(|e| anyhow!(e))
}

/// Paths printed by `scripts/tools.sh` (`KEY=path`), running it only when a
/// needed variable is not already in the environment.
fn tool(key: &str) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(key) {
        return Ok(PathBuf::from(p));
    }
    static TOOLS: OnceLock<Result<Vec<(String, String)>, String>> = OnceLock::new();
    let tools = TOOLS
        .get_or_init(|| {
            let out = Command::new("bash")
                .arg(repo_root().join("scripts/tools.sh"))
                .args(["terraform", "null"])
                .stderr(Stdio::inherit())
                .output()
                .map_err(|e| format!("cannot run scripts/tools.sh: {e}"))?;
            if !out.status.success() {
                return Err("scripts/tools.sh failed".to_owned());
            }
            Ok(String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
                .collect())
        })
        .clone()
        .map_err(|e| anyhow!(e))?;
    tools
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| PathBuf::from(v))
        .with_context(|| format!("scripts/tools.sh printed no {key}"))
}

/// A Terraform binary and its version.
#[derive(Clone, Debug)]
pub struct Terraform {
    pub path: PathBuf,
    pub version: String,
}

fn terraform_version(path: &Path) -> Result<String> {
    let out = Command::new(path)
        .args(["version", "-json"])
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .with_context(|| format!("running {} version", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("terraform version -json")?;
    v.get("terraform_version")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .context("no terraform_version")
}

fn version_key(v: &str) -> Vec<u64> {
    v.split(['.', '-'])
        .map(|p| p.parse().unwrap_or(0))
        .collect()
}

/// Terraform 1.0.3 always, plus the `terraform` on PATH when it is newer.
/// Prints which versions run.
pub fn terraforms() -> Result<Vec<Terraform>> {
    static ALL: OnceLock<Result<Vec<Terraform>, String>> = OnceLock::new();
    ALL.get_or_init(|| {
        let oldest = tool("TERRAFORM_1_0_3").map_err(|e| format!("{e:#}"))?;
        let mut all = vec![Terraform {
            path: oldest,
            version: OLDEST_TERRAFORM.to_owned(),
        }];
        if let Ok(path) = which("terraform")
            && let Ok(version) = terraform_version(&path)
            && version_key(&version) > version_key(OLDEST_TERRAFORM)
        {
            all.push(Terraform { path, version });
        }
        let names: Vec<&str> = all.iter().map(|t| t.version.as_str()).collect();
        eprintln!("e2e: running Terraform {}", names.join(" and "));
        Ok(all)
    })
    .clone()
    .map_err(|e| anyhow!(e))
}

fn which(name: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").context("PATH is unset")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .with_context(|| format!("{name} is not on PATH"))
}

/// HashiCorp's Go null provider 2.1.2.
pub fn null_provider() -> Result<PathBuf> {
    tool("TERRAFORM_NULL_PROVIDER")
}

/// A running `spinhcl server --dev` with the test fault switch on.
pub struct Engine {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Engine {
    /// Starts the engine on a free loopback port and waits for its
    /// `spinhcl server listening on http://<addr>` line.
    pub fn start() -> Result<Engine> {
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("engine.toml");
        std::fs::write(&config, "[testing]\nfaults = true\n")?;
        let mut child = Command::new(spinhcl_bin()?)
            .args(["server", "--dev", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .env("SPINHCL_LOG", "warn,engine=info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting spinhcl server")?;
        let stderr = child.stderr.take().context("no stderr")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && let Some(i) = line.find("listening on http://") {
                    let url = line[i + "listening on ".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_owned();
                    let _ = tx.send(url);
                    sent = true;
                }
                // Keep draining so the engine never blocks on a full pipe.
            }
        });
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(url) => Ok(Engine {
                child,
                url,
                _dir: dir,
            }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("spinhcl server did not announce its address within 20 s")
            }
        }
    }

    /// One HTTP call to the engine: `(status, JSON body or null)`.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(u16, serde_json::Value)> {
        let url = format!("{}{path}", self.url);
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let client = reqwest::Client::new();
            let mut req = client.request(method, &url);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.with_context(|| format!("calling {url}"))?;
            let status = resp.status().as_u16();
            let text = resp.text().await?;
            Ok((
                status,
                serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
            ))
        })
    }

    /// Queues canned responses (`POST /__spinhcl/faults`).
    pub fn fault(&self, rule: serde_json::Value) -> Result<()> {
        let (status, body) = self.call("POST", "/__spinhcl/faults", Some(rule))?;
        if !(200..300).contains(&status) {
            bail!("queueing a fault failed: HTTP {status} {body}");
        }
        Ok(())
    }

    /// Request counts by `METHOD /route/template` (`GET /__spinhcl/requests`).
    pub fn requests(&self) -> Result<serde_json::Value> {
        Ok(self.call("GET", "/__spinhcl/requests", None)?.1)
    }

    /// Deletes an application behind Terraform's back and waits for the task.
    pub fn delete_application(&self, name: &str) -> Result<()> {
        let task = serde_json::json!({
            "application": name,
            "description": format!("Delete Application: {name}"),
            "job": [{"type": "deleteApplication", "application": {"name": name}}],
        });
        let (status, reply) = self.call("POST", "/tasks", Some(task))?;
        if !(200..300).contains(&status) {
            bail!("deleteApplication task refused: HTTP {status} {reply}");
        }
        let id = reply
            .get("ref")
            .and_then(|r| r.as_str())
            .and_then(|r| r.rsplit('/').next())
            .unwrap_or("")
            .to_owned();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let (_, task) = self.call("GET", &format!("/tasks/{id}"), None)?;
            match task.get("status").and_then(|s| s.as_str()) {
                Some("SUCCEEDED") => return Ok(()),
                Some("TERMINAL" | "CANCELED" | "STOPPED") => bail!("delete task failed: {task}"),
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        bail!("delete task {id} did not finish")
    }

    /// The application's attributes, or `None` on 404.
    pub fn application(&self, name: &str) -> Result<Option<serde_json::Value>> {
        let (status, body) =
            self.call("GET", &format!("/applications/{name}?expand=false"), None)?;
        match status {
            404 => Ok(None),
            200 => Ok(Some(body)),
            s => bail!("GET /applications/{name}: HTTP {s} {body}"),
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Terraform working directory with a private provider mirror and CLI
/// configuration.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub terraform: Terraform,
    cli_config: PathBuf,
}

/// What one Terraform command did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// stdout and stderr together, for assertions and failure messages.
    pub fn text(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

fn link_or_copy(from: &Path, to: &Path) -> Result<()> {
    if std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to)
            .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}

impl Workspace {
    /// A workspace for `terraform` with the provider (and, when
    /// `with_null`, the Go null provider) in its mirror.
    pub fn new(terraform: &Terraform, provider: &Path, with_null: bool) -> Result<Workspace> {
        let dir = tempfile::tempdir()?;
        let mirror = dir.path().join("mirror");
        let ours = mirror.join(format!(
            "registry.terraform.io/{PROVIDER_SOURCE}/{PROVIDER_VERSION}/linux_amd64"
        ));
        std::fs::create_dir_all(&ours)?;
        link_or_copy(
            provider,
            &ours.join(format!("terraform-provider-spinnaker_v{PROVIDER_VERSION}")),
        )?;
        if with_null {
            let null = mirror.join("registry.terraform.io/hashicorp/null/2.1.2/linux_amd64");
            std::fs::create_dir_all(&null)?;
            link_or_copy(
                &null_provider()?,
                &null.join("terraform-provider-null_v2.1.2_x4"),
            )?;
        }
        let cli_config = dir.path().join("terraform.rc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/*/*\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/*/*\"]\n  }}\n}}\n",
                mirror.display()
            ),
        )?;
        std::fs::create_dir_all(dir.path().join("work"))?;
        Ok(Workspace {
            dir,
            terraform: terraform.clone(),
            cli_config,
        })
    }

    /// The directory holding the configuration.
    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// Writes `main.tf`.
    pub fn write(&self, main_tf: &str) -> Result<()> {
        std::fs::write(self.work().join("main.tf"), main_tf)?;
        Ok(())
    }

    /// Runs `terraform <args>` in the workspace.
    pub fn run(&self, args: &[&str]) -> Result<Run> {
        self.run_env(args, &[])
    }

    /// Runs `terraform <args>` with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Result<Run> {
        let started = Instant::now();
        let mut cmd = Command::new(&self.terraform.path);
        cmd.args(args)
            .current_dir(self.work())
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("RUST_BACKTRACE", "0")
            .env_remove("TF_PLUGIN_CACHE_DIR")
            .env_remove("TF_LOG")
            .env_remove("SPINNAKER_ENDPOINT")
            .env_remove("SPINNAKER_TOKEN")
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let Output {
            status,
            stdout,
            stderr,
        } = cmd
            .output()
            .with_context(|| format!("running terraform {args:?}"))?;
        Ok(Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            elapsed: started.elapsed(),
        })
    }

    /// Runs a command that must exit 0, returning its output.
    pub fn ok(&self, args: &[&str]) -> Result<Run> {
        let run = self.run(args)?;
        if run.code != 0 {
            bail!(
                "terraform {} {args:?} exited {}:\n{}",
                self.terraform.version,
                run.code,
                run.text()
            );
        }
        Ok(run)
    }

    /// `terraform init`.
    pub fn init(&self) -> Result<Run> {
        self.ok(&["init", "-no-color", "-input=false"])
    }

    /// `terraform apply -auto-approve`.
    pub fn apply(&self) -> Result<Run> {
        self.ok(&["apply", "-auto-approve", "-no-color", "-input=false"])
    }

    /// `terraform plan -detailed-exitcode`: 0 no changes, 2 changes.
    pub fn plan_code(&self) -> Result<Run> {
        let run = self.run(&["plan", "-detailed-exitcode", "-no-color", "-input=false"])?;
        if run.code == 1 {
            bail!(
                "terraform {} plan failed:\n{}",
                self.terraform.version,
                run.text()
            );
        }
        Ok(run)
    }
}

/// The `terraform` block and provider block for a test configuration
/// pointing at `endpoint`.
pub fn provider_config(endpoint: &str, extra: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    spinnaker = {{\n      source  = \"{PROVIDER_SOURCE}\"\n      version = \"{PROVIDER_VERSION}\"\n    }}\n  }}\n}}\n\nprovider \"spinnaker\" {{\n  endpoint = \"{endpoint}\"\n{extra}}}\n"
    )
}
