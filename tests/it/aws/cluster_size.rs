//! The engine's `clusterSize` precondition against AWS: `engine::aws::AwsClusters` (what the
//! server builds from its `[aws]` section) counting moto's autoscaling groups, run by the
//! execution core's executor.

use std::collections::HashMap;
use std::sync::Arc;

use execution::stages::check_preconditions::CheckPreconditionsWithClusters;
use execution::{ExecutionStatus, Executor, Settings, Spel, StageRegistry};
use serde_json::{Value, json};

use super::{Moto, enabled, runtime, seed};

fn check(name: &str, context: Value, fail_pipeline: bool) -> Value {
    json!({
        "application": "shop", "name": name, "id": name,
        "stages": [{
            "refId": "1", "name": "Size", "type": "checkPreconditions",
            "preconditions": [{"type": "clusterSize", "failPipeline": fail_pipeline, "context": context}]
        }]
    })
}

#[test]
fn cluster_size_precondition_passes_and_fails_against_aws() {
    let test = "cluster_size_precondition_passes_and_fails_against_aws";
    if !enabled(test) {
        return;
    }
    let moto = Moto::start().expect("moto");
    let rt = runtime();
    rt.block_on(async {
        seed(&moto, "us-east-1", "shop-prod", &[])
            .await
            .expect("seed us-east-1");
        seed(&moto, "us-west-2", "shop-prod", &[])
            .await
            .expect("seed us-west-2");
    });
    let config: engine::Config = engine::Config::parse(
        &format!(
            "[aws]\naccount = \"prod\"\nregion = \"us-east-1\"\nendpoint = \"{}\"\naccess_key_id = \"test\"\nsecret_access_key = \"test\"\n",
            moto.url
        ),
        "engine.toml",
    )
    .expect("config with [aws]");
    let lookup = engine::aws::AwsClusters::new(config.aws.clone());
    let mut registry = StageRegistry::local();
    registry.register(Arc::new(CheckPreconditionsWithClusters::new(Arc::new(
        lookup,
    ))));
    let mut executor = Executor::new(
        registry,
        Arc::new(Spel),
        Arc::new(HashMap::<String, Value>::new()),
        Settings::default(),
    );
    let cases = [
        // Two server groups in each region.
        (
            "two",
            json!({"cluster": "shop-prod", "credentials": "prod", "regions": ["us-east-1", "us-west-2"], "expected": 2}),
            ExecutionStatus::Succeeded,
        ),
        // Only v002 is enabled.
        (
            "enabled",
            json!({"cluster": "shop-prod", "credentials": "prod", "regions": ["us-east-1"], "expected": 1, "onlyEnabledServerGroups": true}),
            ExecutionStatus::Succeeded,
        ),
        (
            "three",
            json!({"cluster": "shop-prod", "credentials": "prod", "regions": ["us-east-1"], "expected": 3}),
            ExecutionStatus::Terminal,
        ),
        (
            "missing",
            json!({"cluster": "shop-staging", "credentials": "prod", "regions": ["us-east-1"], "comparison": ">=", "expected": 1}),
            ExecutionStatus::Terminal,
        ),
        (
            "account",
            json!({"cluster": "shop-prod", "credentials": "test", "regions": ["us-east-1"]}),
            ExecutionStatus::Terminal,
        ),
    ];
    rt.block_on(async {
        let now = 1_772_467_200_000;
        for (name, context, expected) in cases {
            let id = executor
                .trigger(&check(name, context, true), None, now)
                .expect("trigger");
            for _ in 0..50 {
                executor.run_until_quiet(now).await;
                if executor
                    .execution(&id)
                    .is_some_and(|e| e.status.is_complete())
                {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            let execution = executor.execution(&id).expect("execution");
            let child = execution
                .stages
                .iter()
                .find(|s| s.parent_stage_id.is_some())
                .expect("precondition child");
            assert_eq!(
                execution.status,
                expected,
                "{name}: {:?}",
                child.context.get("exception")
            );
            let error = child
                .context
                .get("exception")
                .and_then(|e| e["details"]["error"].as_str())
                .unwrap_or_default()
                .to_owned();
            match name {
                "three" => assert!(
                    error.contains(
                        "cluster shop-prod should have == 3 server groups, but us-east-1 has 2"
                    ),
                    "{error}"
                ),
                "missing" => assert!(error.contains("us-east-1 has 0"), "{error}"),
                "account" => assert!(error.contains("unknown account 'test'"), "{error}"),
                _ => assert!(error.is_empty(), "{name}: {error}"),
            }
        }
    });
}

/// `spinhcl server --dev` with `config` as its configuration file; killed on drop.
struct Server {
    child: std::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(config: &str) -> anyhow::Result<Server> {
        use std::io::BufRead;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("engine.toml");
        std::fs::write(&path, config)?;
        let mut child = std::process::Command::new(e2e::spinhcl_bin()?)
            .args(["server", "--dev", "--listen", "127.0.0.1:0", "--config"])
            .arg(&path)
            .env("SPINHCL_LOG", "warn,engine=info")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stderr"))?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(i) = line.find("listening on http://") {
                    let url = line[i + "listening on ".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_owned();
                    let _ = tx.send(url);
                }
            }
        });
        let url = rx.recv_timeout(std::time::Duration::from_secs(20))?;
        Ok(Server {
            child,
            url,
            _dir: dir,
        })
    }
}

#[test]
fn cluster_size_precondition_runs_in_spinhcl_server_with_an_aws_section() {
    let test = "cluster_size_precondition_runs_in_spinhcl_server_with_an_aws_section";
    if !enabled(test) {
        return;
    }
    let moto = Moto::start().expect("moto");
    let rt = runtime();
    rt.block_on(seed(&moto, "us-east-1", "shop-prod", &[]))
        .expect("seed");
    let server = Server::start(&format!(
        "[aws]\naccount = \"prod\"\nregion = \"us-east-1\"\nendpoint = \"{}\"\naccess_key_id = \"test\"\nsecret_access_key = \"test\"\n",
        moto.url
    ))
    .expect("spinhcl server");
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", server.url);
    rt.block_on(async {
        let task = http
            .post(url("/tasks"))
            .json(&json!({"application": "shop", "description": "Create Application: shop",
                "job": [{"type": "createApplication", "application": {"name": "shop", "email": "shop@example.com"}}]}))
            .send()
            .await
            .expect("create application");
        assert_eq!(task.status(), 200);
        for (name, expected) in [("size-two", 2), ("size-three", 3)] {
            let mut config = check(
                name,
                json!({"cluster": "shop-prod", "credentials": "prod", "regions": ["us-east-1"], "expected": expected}),
                true,
            );
            config["id"] = Value::Null;
            let saved = http.post(url("/pipelines")).json(&config).send().await.expect("save");
            assert!(saved.status().is_success(), "save {name}: {}", saved.status());
        }
        let mut results = HashMap::new();
        for name in ["size-two", "size-three"] {
            let started: Value = http
                .post(url(&format!("/pipelines/shop/{name}")))
                .json(&json!({}))
                .send()
                .await
                .expect("trigger")
                .json()
                .await
                .expect("trigger body");
            let reference = started["ref"].as_str().expect("ref").to_owned();
            let mut execution = Value::Null;
            for _ in 0..200 {
                execution = http
                    .get(url(&reference))
                    .send()
                    .await
                    .expect("execution")
                    .json()
                    .await
                    .expect("execution body");
                if matches!(execution["status"].as_str(), Some("SUCCEEDED" | "TERMINAL" | "STOPPED" | "CANCELED")) {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            results.insert(name, execution);
        }
        assert_eq!(results["size-two"]["status"], "SUCCEEDED", "{}", results["size-two"]);
        let failed = &results["size-three"];
        assert_eq!(failed["status"], "TERMINAL", "{failed}");
        assert!(
            failed.to_string().contains("should have == 3 server groups, but us-east-1 has 2"),
            "{failed}"
        );
    });
}
