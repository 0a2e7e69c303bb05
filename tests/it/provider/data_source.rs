//! Data source `spinnaker_application` reads what the resource wrote.

use anyhow::ensure;

use super::each_terraform;

#[test]
fn data_source_reads_an_application() {
    each_terraform("data_source_reads_an_application", |_, engine, ws| {
        let config = e2e::provider_config(&engine.url, "")
            + r#"
resource "spinnaker_application" "shop" {
  name        = "tf-acc-data"
  email       = "data@example.com"
  description = "read me"
  permissions {
    read = ["viewers"]
  }
}

data "spinnaker_application" "shop" {
  name = spinnaker_application.shop.name
}

output "email" {
  value = data.spinnaker_application.shop.email
}

output "readers" {
  value = data.spinnaker_application.shop.permissions.read
}
"#;
        ws.write(&config)?;
        ws.init()?;
        ws.apply()?;
        let out = ws.ok(&["output", "-json"])?;
        let outputs: serde_json::Value = serde_json::from_str(&out.stdout)?;
        ensure!(
            outputs["email"]["value"] == "data@example.com",
            "outputs: {outputs}"
        );
        ensure!(
            outputs["readers"]["value"] == serde_json::json!(["viewers"]),
            "outputs: {outputs}"
        );

        // A missing application is an error naming the attribute.
        let missing = e2e::provider_config(&engine.url, "")
            + "\ndata \"spinnaker_application\" \"nope\" {\n  name = \"tf-acc-missing\"\n}\n";
        ws.write(&missing)?;
        let run = ws.run(&["plan", "-no-color", "-input=false"])?;
        ensure!(
            run.code == 1 && run.stderr.contains("Application Not Found"),
            "{}",
            run.text()
        );
        Ok(())
    });
}
