//! Terraform reads `spinnaker_aws_server_group`, `spinnaker_aws_cluster`,
//! `spinnaker_aws_target_group` and `spinnaker_aws_load_balancer` for resources the test
//! creates in moto with the AWS SDK.

use anyhow::{Context, ensure};
use serde_json::json;

use super::{Moto, aws_block, each_terraform, enabled, read_data_sources, runtime, seed};

#[test]
fn aws_data_sources_read_what_the_sdk_created() {
    let test = "aws_data_sources_read_what_the_sdk_created";
    if !enabled(test) {
        return;
    }
    let moto = Moto::start().expect("moto");
    let seeded = runtime()
        .block_on(seed(&moto, "us-east-1", "shop-prod", &[]))
        .expect("seed moto");
    each_terraform(test, |_, engine, ws| {
        let outputs = read_data_sources(
            ws,
            &e2e::provider_config(&engine.url, &aws_block(&moto, "")),
            &[
                (
                    "spinnaker_aws_server_group",
                    "newest",
                    r#"cluster = "shop-prod""#,
                ),
                (
                    "spinnaker_aws_server_group",
                    "old",
                    r#"name = "shop-prod-v001""#,
                ),
                ("spinnaker_aws_cluster", "cluster", r#"name = "shop-prod""#),
                (
                    "spinnaker_aws_target_group",
                    "tg",
                    r#"name = "shop-prod-tg""#,
                ),
                (
                    "spinnaker_aws_load_balancer",
                    "lb",
                    r#"name = "shop-prod-alb""#,
                ),
            ],
        )?;
        let get = |name: &str| outputs.get(name).cloned().unwrap_or_default();

        let newest = get("newest");
        ensure!(newest["name"] == "shop-prod-v002", "newest: {newest}");
        ensure!(
            newest["app"] == "shop" && newest["stack"] == "prod",
            "{newest}"
        );
        ensure!(
            newest["detail"].is_null() && newest["sequence"] == 2,
            "{newest}"
        );
        ensure!(
            newest["desired_capacity"] == 2 && newest["max_size"] == 3,
            "{newest}"
        );
        ensure!(
            newest["launch_configuration_name"] == "shop-prod-lc",
            "{newest}"
        );
        ensure!(newest["image_id"] == "ami-0abcdef1234567890", "{newest}");
        ensure!(newest["enabled"] == true, "{newest}");
        ensure!(
            newest["target_group_arns"] == json!([seeded.target_group_arn]),
            "{newest}"
        );
        ensure!(newest["region"] == "us-east-1", "{newest}");
        let names: Vec<&str> = newest["server_groups"]
            .as_array()
            .context("server_groups")?
            .iter()
            .filter_map(|g| g["name"].as_str())
            .collect();
        ensure!(
            names == ["shop-prod-v001", "shop-prod-v002"],
            "Frigga order: {names:?}"
        );

        let old = get("old");
        ensure!(old["enabled"] == false, "v001 is disabled: {old}");
        let suspended = old["suspended_processes"].to_string();
        ensure!(
            suspended.contains("AddToLoadBalancer") && suspended.contains("Launch"),
            "{old}"
        );
        ensure!(
            old["instances"].as_array().is_some_and(|i| i.len() == 1),
            "{old}"
        );

        let cluster = get("cluster");
        ensure!(
            cluster["active_server_group_name"] == "shop-prod-v002",
            "{cluster}"
        );
        ensure!(
            cluster["server_group_names"] == json!(["shop-prod-v001", "shop-prod-v002"]),
            "{cluster}"
        );
        ensure!(
            cluster["enabled_server_group_names"] == json!(["shop-prod-v002"]),
            "{cluster}"
        );
        ensure!(
            cluster["next_server_group_name"] == "shop-prod-v003",
            "{cluster}"
        );
        ensure!(cluster["size"] == 2, "{cluster}");

        let tg = get("tg");
        ensure!(tg["arn"] == json!(seeded.target_group_arn), "{tg}");
        ensure!(tg["port"] == 8080 && tg["protocol"] == "HTTP", "{tg}");
        ensure!(tg["health_check"]["path"] == "/health", "{tg}");
        // moto registers the ASG's instances in its target groups, all healthy.
        let targets = tg["targets"].as_array().context("targets")?;
        ensure!(targets.len() == 2, "targets of shop-prod-v002: {tg}");
        ensure!(tg["healthy_targets"] == 2, "{tg}");
        ensure!(targets.iter().all(|t| t["state"] == "healthy"), "{tg}");

        let lb = get("lb");
        ensure!(lb["dns_name"] == json!(seeded.load_balancer_dns), "{lb}");
        ensure!(lb["listeners"][0]["port"] == 80, "{lb}");
        ensure!(
            lb["listeners"][0]["target_group_arns"] == json!([seeded.target_group_arn]),
            "{lb}"
        );
        ensure!(lb["target_groups"][0]["healthy_targets"] == 2, "{lb}");

        // Missing objects are errors on the attribute that named them.
        let missing = e2e::provider_config(&engine.url, &aws_block(&moto, ""))
            + "\ndata \"spinnaker_aws_cluster\" \"none\" {\n  name = \"nothere\"\n}\n\
               data \"spinnaker_aws_server_group\" \"none\" {\n  name = \"nothere-v001\"\n}\n\
               data \"spinnaker_aws_target_group\" \"none\" {\n  name = \"nothere\"\n}\n";
        ws.write(&missing)?;
        let run = ws.run(&["plan", "-no-color", "-input=false"])?;
        ensure!(run.code == 1, "{}", run.text());
        ensure!(
            run.stderr.contains("Server Group Not Found"),
            "{}",
            run.text()
        );
        ensure!(
            run.stderr.contains("Target Group Not Found"),
            "{}",
            run.text()
        );
        // An empty cluster is a valid read.
        ensure!(!run.stderr.contains("Cluster Not Found"), "{}", run.text());
        Ok(())
    });
}

#[test]
fn aws_errors_reach_terraform_as_clear_diagnostics() {
    let test = "aws_errors_reach_terraform_as_clear_diagnostics";
    if !enabled(test) {
        return;
    }
    // Nothing listens on this port: the read fails as unreachable, naming the endpoint setting.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    each_terraform(test, |_, engine, ws| {
        let config = e2e::provider_config(
            &engine.url,
            &format!(
                "  aws {{\n    region       = \"us-east-1\"\n    endpoint     = \"http://127.0.0.1:{port}\"\n    access_key   = \"test\"\n    secret_key   = \"test\"\n    max_attempts = 2\n  }}\n"
            ),
        ) + "\ndata \"spinnaker_aws_cluster\" \"shop\" {\n  name = \"shop-prod\"\n}\n";
        ws.write(&config)?;
        ws.init()?;
        let run = ws.run(&["plan", "-no-color", "-input=false"])?;
        ensure!(run.code == 1, "{}", run.text());
        ensure!(run.stderr.contains("AWS Unreachable"), "{}", run.text());
        ensure!(run.stderr.contains("aws.endpoint"), "{}", run.text());

        // A bad aws block is refused with the attribute named.
        let bad = e2e::provider_config(
            &engine.url,
            "  aws {\n    region     = \"US East\"\n    access_key = \"x\"\n  }\n",
        ) + "\ndata \"spinnaker_aws_cluster\" \"shop\" {\n  name = \"shop-prod\"\n}\n";
        ws.write(&bad)?;
        let run = ws.run(&["plan", "-no-color", "-input=false"])?;
        ensure!(run.code == 1, "{}", run.text());
        ensure!(run.stderr.contains("Invalid AWS Region"), "{}", run.text());
        ensure!(
            run.stderr.contains("Incomplete AWS Credentials"),
            "{}",
            run.text()
        );
        Ok(())
    });
}
