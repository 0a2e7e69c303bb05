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
