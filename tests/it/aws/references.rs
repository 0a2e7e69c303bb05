//! Plan-time cross checks: a `clusterSize` precondition or canary scope naming a cluster or
//! server group that AWS does not have fails plan on that attribute;
//! `strict_aws_references = false` makes it a warning.

use anyhow::ensure;

use super::{Moto, aws_block, each_terraform, enabled, runtime, seed};

fn pipeline(cluster: &str, experiment: &str) -> String {
    format!(
        r#"
resource "spinnaker_application" "shop" {{
  name  = "shop"
  email = "shop@example.com"
}}

resource "spinnaker_pipeline" "release" {{
  application = spinnaker_application.shop.name
  name        = "Release"

  check_preconditions_stage {{
    ref_id = "check"
    name   = "Check cluster"

    precondition {{
      type        = "clusterSize"
      cluster     = "{cluster}"
      credentials = "prod"
      regions     = ["us-east-1"]
      expected    = 2
    }}
  }}

  canary_stage {{
    ref_id            = "canary"
    name              = "Canary"
    depends_on        = ["check"]
    canary_config_id  = "latency"
    lifetime_duration = "PT1H"

    scope {{
      control_scope       = "shop-prod"
      control_location    = "us-east-1"
      experiment_scope    = "{experiment}"
      experiment_location = "us-east-1"
    }}
  }}
}}
"#
    )
}

#[test]
fn bad_cluster_references_fail_plan_and_name_the_attribute() {
    let test = "bad_cluster_references_fail_plan_and_name_the_attribute";
    if !enabled(test) {
        return;
    }
    let moto = Moto::start().expect("moto");
    runtime()
        .block_on(seed(&moto, "us-east-1", "shop-prod", &["shop-prod-canary"]))
        .expect("seed moto");
    each_terraform(test, |_, engine, ws| {
        // Existing cluster and server group: plan succeeds.
        let good = e2e::provider_config(&engine.url, &aws_block(&moto, ""))
            + &pipeline("shop-prod", "shop-prod-canary-v000");
        ws.write(&good)?;
        ws.init()?;
        let run = ws.run(&["plan", "-no-color", "-input=false"])?;
        ensure!(run.code == 0, "a correct pipeline plans:\n{}", run.text());

        // A missing cluster and a missing server group: plan fails naming both attributes.
        let bad = e2e::provider_config(&engine.url, &aws_block(&moto, ""))
            + &pipeline("shop-staging", "shop-prod-canary-v007");
        ws.write(&bad)?;
        let run = ws.run(&["plan", "-no-color", "-input=false"])?;
        let text = run.text();
        ensure!(run.code == 1, "{text}");
        ensure!(text.contains("Cluster Not Found"), "{text}");
        ensure!(
            text.contains("check_preconditions_stage[0].precondition[0].cluster"),
            "the precondition's attribute path: {text}"
        );
        ensure!(text.contains("\"shop-staging\""), "{text}");
        ensure!(text.contains("Server Group Not Found"), "{text}");
        ensure!(
            text.contains("canary_stage[0].scope[0].experiment_scope"),
            "the scope's attribute path: {text}"
        );

        // strict_aws_references = false: the same findings are warnings and plan succeeds.
        let lenient = e2e::provider_config(
            &engine.url,
            &aws_block(&moto, "    strict_aws_references = false\n"),
        ) + &pipeline("shop-staging", "shop-prod-canary-v007");
        ws.write(&lenient)?;
        let run = ws.run(&["plan", "-no-color", "-input=false"])?;
        let text = run.text();
        ensure!(run.code == 0, "{text}");
        ensure!(
            text.contains("Warning") && text.contains("Cluster Not Found"),
            "{text}"
        );
        Ok(())
    });
}
