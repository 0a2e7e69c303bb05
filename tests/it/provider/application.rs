//! The acceptance pattern for `spinnaker_application`: create, empty plan,
//! in-place update, import, empty plan, drift (deleted behind Terraform's
//! back), destroy.

use anyhow::ensure;

use super::each_terraform;

fn config(endpoint: &str, description: &str, permissions: &str) -> String {
    format!(
        "{}\nresource \"spinnaker_application\" \"shop\" {{\n  name            = \"tfaccshop\"\n  email           = \"shop@example.com\"\n  description     = \"{description}\"\n  cloud_providers = [\"kubernetes\", \"aws\"]\n  instance_port   = 8080\n{permissions}}}\n",
        e2e::provider_config(endpoint, "")
    )
}

const PERMISSIONS: &str = "  permissions {\n    read    = [\"shop-devs\", \"sre\"]\n    write   = [\"shop-devs\"]\n    execute = [\"shop-devs\"]\n  }\n";

#[test]
fn application_acceptance() {
    each_terraform("application_acceptance", |_, engine, ws| {
        ws.write(&config(&engine.url, "first", PERMISSIONS))?;
        ws.init()?;

        // Create.
        let run = ws.apply()?;
        ensure!(run.stdout.contains("1 added"), "create: {}", run.text());
        let app = engine
            .application("tfaccshop")?
            .ok_or_else(|| anyhow::anyhow!("not created"))?;
        let attrs = &app["attributes"];
        ensure!(attrs["email"] == "shop@example.com", "stored: {app}");
        ensure!(
            attrs["permissions"]["WRITE"] == serde_json::json!(["shop-devs"]),
            "stored: {app}"
        );

        // The plan after apply is empty.
        let plan = ws.plan_code()?;
        ensure!(
            plan.code == 0,
            "plan after create is not empty:\n{}",
            plan.text()
        );

        // In-place update, including removing the permissions block.
        ws.write(&config(&engine.url, "second", ""))?;
        let plan = ws.plan_code()?;
        ensure!(plan.code == 2, "update not planned:\n{}", plan.text());
        ensure!(
            plan.stdout.contains("1 to change, 0 to destroy"),
            "update must be in place:\n{}",
            plan.stdout
        );
        ensure!(
            !plan.stdout.contains("forces replacement"),
            "update must not replace:\n{}",
            plan.stdout
        );
        ws.apply()?;
        let app = engine
            .application("tfaccshop")?
            .ok_or_else(|| anyhow::anyhow!("gone after update"))?;
        ensure!(
            app["attributes"]["description"] == "second",
            "stored: {app}"
        );
        let plan = ws.plan_code()?;
        ensure!(
            plan.code == 0,
            "plan after update is not empty:\n{}",
            plan.text()
        );

        // Import by name into a fresh state; the plan is empty again.
        ws.ok(&["state", "rm", "spinnaker_application.shop"])?;
        let run = ws.ok(&[
            "import",
            "-no-color",
            "-input=false",
            "spinnaker_application.shop",
            "tfaccshop",
        ])?;
        ensure!(
            run.stdout.contains("Import successful"),
            "import: {}",
            run.text()
        );
        let plan = ws.plan_code()?;
        ensure!(
            plan.code == 0,
            "plan after import is not empty:\n{}",
            plan.text()
        );

        // A malformed import id echoes the template and the input.
        ws.ok(&["state", "rm", "spinnaker_application.shop"])?;
        let run = ws.run(&[
            "import",
            "-no-color",
            "-input=false",
            "spinnaker_application.shop",
            "a/b",
        ])?;
        ensure!(
            run.code == 1 && run.text().contains("Invalid Import ID"),
            "bad import id: {}",
            run.text()
        );
        ensure!(
            run.text().contains("\"<name>\"") && run.text().contains("\"a/b\""),
            "bad import id: {}",
            run.text()
        );
        ws.ok(&[
            "import",
            "-no-color",
            "-input=false",
            "spinnaker_application.shop",
            "tfaccshop",
        ])?;

        // Deleted behind Terraform's back: the plan shows a create.
        engine.delete_application("tfaccshop")?;
        let plan = ws.plan_code()?;
        ensure!(
            plan.code == 2 && plan.stdout.contains("will be created"),
            "drift not detected:\n{}",
            plan.text()
        );

        // Destroy (the object is already gone: delete on 404 succeeds).
        ws.apply()?;
        let run = ws.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"])?;
        ensure!(
            run.stdout.contains("1 destroyed"),
            "destroy: {}",
            run.text()
        );
        ensure!(
            engine.application("tfaccshop")?.is_none(),
            "still there after destroy"
        );
        Ok(())
    });
}

#[test]
fn name_rules_and_replacement() {
    each_terraform("name_rules_and_replacement", |_, engine, ws| {
        let resource = |name: &str| {
            format!(
                "{}\nresource \"spinnaker_application\" \"a\" {{\n  name  = \"{name}\"\n  email = \"a@example.com\"\n}}\n",
                e2e::provider_config(&engine.url, "")
            )
        };
        ws.write(&resource("Upper"))?;
        ws.init()?;
        let run = ws.run(&["plan", "-no-color", "-input=false"])?;
        ensure!(run.code == 1, "upper-case name accepted:\n{}", run.text());
        ensure!(
            run.stderr.contains("Invalid Application Name"),
            "{}",
            run.stderr
        );
        ensure!(
            run.stderr.contains("name  = \"Upper\""),
            "diagnostic must point at the attribute:\n{}",
            run.stderr
        );

        ws.write(&resource("tf-acc-one"))?;
        ws.apply()?;
        ws.write(&resource("tf-acc-two"))?;
        let plan = ws.plan_code()?;
        ensure!(
            plan.stdout.contains("forces replacement"),
            "rename must replace:\n{}",
            plan.stdout
        );
        ws.apply()?;
        ensure!(
            engine.application("tf-acc-one")?.is_none(),
            "old application left behind"
        );
        ensure!(
            engine.application("tf-acc-two")?.is_some(),
            "new application missing"
        );
        ws.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"])?;
        Ok(())
    });
}
