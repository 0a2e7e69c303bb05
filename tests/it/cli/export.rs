//! `spinhcl export` against the engine holding every corpus pipeline (in two applications),
//! then `terraform import` (imports.sh on every version, imports.tf on 1.5 and later) and a
//! plan that must be empty; the pipelines in the engine stay exactly as they were.

use anyhow::{Context, ensure};
use serde_json::Value;

use super::{
    comparable, corpus, corpus_pipelines, create_application, each_terraform, pipelines,
    run_imports, save, spinhcl,
};

const APPS: [&str; 2] = ["exporta", "exportb"];

fn version_at_least(version: &str, major: u64, minor: u64) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a, b) >= (major, minor)
}

#[test]
fn export_import_plan_is_empty() {
    let Some(files) = corpus("export_import_plan_is_empty") else {
        return;
    };
    each_terraform("export_import_plan_is_empty", |tf, engine, ws| {
        for app in APPS {
            create_application(engine, app)?;
        }
        let mut originals = Vec::new();
        for (i, path) in files.iter().enumerate() {
            for p in corpus_pipelines(path, APPS[i % 2])? {
                save(engine, &p)?;
                originals.push(p);
            }
        }
        let before: Vec<Vec<Value>> = APPS
            .iter()
            .map(|a| pipelines(engine, a))
            .collect::<Result<_, _>>()?;

        let out = ws.work();
        let summary = spinhcl(&[
            "export",
            "--endpoint",
            &engine.url,
            "--all",
            "--out",
            &out.display().to_string(),
        ])?;
        ensure!(
            summary.contains(&format!(
                "exported {} pipelines of 2 applications",
                originals.len()
            )),
            "{summary}"
        );
        ws.write(&e2e::provider_config(&engine.url, ""))?;
        // Deterministic: a second export writes the same bytes.
        let first = std::fs::read_to_string(out.join("exporta.tf"))?;
        let again = tempfile::tempdir()?;
        spinhcl(&[
            "export",
            "--endpoint",
            &engine.url,
            "--application",
            "exporta",
            "--application",
            "exportb",
            "--out",
            &again.path().display().to_string(),
        ])?;
        ensure!(
            std::fs::read_to_string(again.path().join("exporta.tf"))? == first,
            "export is not deterministic"
        );
        let fmt = ws.run(&["fmt", "-check", "-diff", "-no-color"])?;
        ensure!(
            fmt.code == 0,
            "exported files are not terraform fmt-clean:\n{}",
            fmt.text()
        );

        let import_blocks = version_at_least(&tf.version, 1, 5);
        if !import_blocks {
            // Terraform before 1.5 refuses `import` blocks: use imports.sh instead.
            std::fs::remove_file(out.join("imports.tf"))?;
        }
        ws.init()?;
        let script = std::fs::read_to_string(out.join("imports.sh"))?;
        if import_blocks {
            let run = ws.ok(&["apply", "-auto-approve", "-no-color", "-input=false"])?;
            let imported = originals.len() + APPS.len();
            ensure!(
                run.stdout.contains(&format!(
                    "{imported} imported, 0 added, 0 changed, 0 destroyed"
                )),
                "import blocks: {}",
                run.text()
            );
        } else {
            let n = run_imports(ws, &script)?;
            ensure!(
                n == originals.len() + APPS.len(),
                "imports.sh had {n} imports"
            );
        }
        let plan = ws.plan_code()?;
        ensure!(
            plan.code == 0,
            "plan after import is not empty:\n{}",
            plan.text()
        );

        // Nothing was written: every pipeline is as it was.
        for (app, was) in APPS.iter().zip(&before) {
            let now = pipelines(engine, app)?;
            for p in was {
                let same = now
                    .iter()
                    .find(|n| n["id"] == p["id"])
                    .context("pipeline vanished")?;
                ensure!(
                    comparable(same) == comparable(p),
                    "{app}/{} changed",
                    p["name"]
                );
            }
        }
        Ok(())
    });
}
