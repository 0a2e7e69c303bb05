//! Round trip of every corpus pipeline through HCL and the provider: `spinhcl convert` →
//! `terraform import` over what Spinnaker keeps (the infrastructure stages and the triggers) →
//! `terraform apply`, which writes every other stage from HCL → `GET` equals the original,
//! apart from server-owned fields, empty values, and the fields of typed stages that have no
//! attribute — which `convert` must list in its comment, so nothing is lost silently.

use anyhow::{Context, ensure};
use serde_json::{Value, json};

use super::{
    comparable, corpus, corpus_pipelines, create_application, each_terraform, import_id, pipelines,
    save, spinhcl,
};

const APP: &str = "roundtrip";

/// What exists in Spinnaker before Terraform writes: the infrastructure stages (the only ones
/// HCL never declares) and the triggers.
fn skeleton(pipeline: &Value, infrastructure: &[String]) -> Value {
    let mut p = pipeline.clone();
    if let Some(m) = p.as_object_mut() {
        let keep = |s: &Value| {
            s["type"]
                .as_str()
                .is_some_and(|t| infrastructure.iter().any(|i| i == t))
        };
        let stages: Vec<Value> = m
            .get("stages")
            .and_then(Value::as_array)
            .map(|s| s.iter().filter(|s| keep(s)).cloned().collect())
            .unwrap_or_default();
        m.insert("stages".into(), json!(stages));
    }
    p
}

/// The keys `convert` listed as having no attribute, for the stage `ref_id` of pipeline `name`.
fn listed_unmodelled(hcl: &str, name: &str, ref_id: &str) -> Vec<String> {
    let header = format!(
        "# Pipeline {}: fields without an attribute",
        serde_json::to_string(name).unwrap_or_default()
    );
    let prefix = format!(
        "#   stage {} (",
        serde_json::to_string(ref_id).unwrap_or_default()
    );
    hcl.lines()
        .skip_while(|l| !l.starts_with(&header))
        .skip(1)
        .take_while(|l| l.starts_with("#   "))
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|l| {
            l.split_once("): ")
                .map(|(_, keys)| keys.split(", ").map(str::to_owned).collect::<Vec<_>>())
        })
        .flatten()
        .collect()
}

/// Saved equals original except for keys of HCL-written stages that `convert` listed.
fn check_round_trip(original: &Value, saved: &Value, hcl: &str) -> anyhow::Result<()> {
    let (mut o, mut s) = (comparable(original), comparable(saved));
    let name = original["name"].as_str().unwrap_or_default().to_owned();
    let take = |v: &mut Value| {
        v.as_object_mut()
            .and_then(|m| m.remove("stages"))
            .and_then(|s| s.as_array().cloned())
            .unwrap_or_default()
    };
    let (os, ss) = (take(&mut o), take(&mut s));
    ensure!(
        o == s,
        "{name}: pipeline fields differ:\n  original: {o}\n  saved:    {s}"
    );
    ensure!(
        os.len() == ss.len(),
        "{name}: {} stages became {}",
        os.len(),
        ss.len()
    );
    for (a, b) in os.iter().zip(&ss) {
        // `comparable` reads numeric refIds as numbers: print them back as the HCL has them.
        let ref_id = match &a["refId"] {
            Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => {
                format!("{}", n.as_f64().unwrap_or(0.0) as i64)
            }
            Value::String(t) => t.clone(),
            other => other.to_string(),
        };
        let ref_id = ref_id.as_str();
        ensure!(b["refId"] == a["refId"], "{name}: stage {ref_id} missing");
        let (Some(am), Some(bm)) = (a.as_object(), b.as_object()) else {
            continue;
        };
        let listed = listed_unmodelled(hcl, &name, ref_id);
        for (k, v) in am {
            match bm.get(k) {
                Some(w) => ensure!(w == v, "{name}: stage {ref_id}.{k}: {v} became {w}"),
                None => ensure!(
                    listed.contains(k),
                    "{name}: stage {ref_id}.{k} was lost without a comment (listed: {listed:?})"
                ),
            }
        }
        for k in bm.keys() {
            ensure!(
                am.contains_key(k),
                "{name}: stage {ref_id}.{k} appeared: {}",
                bm[k]
            );
        }
    }
    Ok(())
}

/// The infrastructure stage types named in a converted file's comments.
fn unmanaged_types(hcl: &str) -> Vec<String> {
    hcl.lines()
        .filter(|l| l.starts_with("#   ref_id "))
        .filter_map(|l| {
            l.rsplit_once('(')
                .map(|(_, t)| t.trim_end_matches(')').to_owned())
        })
        .collect()
}

#[test]
fn convert_apply_get_round_trip() {
    let Some(files) = corpus("convert_apply_get_round_trip") else {
        return;
    };
    each_terraform("convert_apply_get_round_trip", |_, engine, ws| {
        create_application(engine, APP)?;
        let mut config = e2e::provider_config(&engine.url, "");
        let mut originals = Vec::new();
        let mut hcl_of = Vec::new();
        for path in &files {
            let list = corpus_pipelines(path, APP)?;
            let file = ws.dir.path().join(path.file_name().context("name")?);
            std::fs::write(&file, serde_json::to_string(&list)?)?;
            let hcl = spinhcl(&["convert", &file.display().to_string()])?;
            let infrastructure = unmanaged_types(&hcl);
            for p in &list {
                save(engine, &skeleton(p, &infrastructure))?;
            }
            config.push('\n');
            config.push_str(&hcl);
            hcl_of.extend(list.iter().map(|_| hcl.clone()));
            originals.extend(list);
        }
        ws.write(&config)?;
        ws.init()?;
        for p in &originals {
            let name = p["name"].as_str().context("name")?;
            let address =
                address_of(&config, name).with_context(|| format!("no resource for {name:?}"))?;
            ws.ok(&[
                "import",
                "-no-color",
                "-input=false",
                &address,
                &import_id(APP, name),
            ])?;
        }
        let run = ws.apply()?;
        ensure!(run.stdout.contains("Apply complete"), "{}", run.text());
        let saved = pipelines(engine, APP)?;
        for (original, hcl) in originals.iter().zip(&hcl_of) {
            let got = saved
                .iter()
                .find(|s| s["name"] == original["name"])
                .context("pipeline missing after apply")?;
            check_round_trip(original, got, hcl)?;
        }
        let plan = ws.plan_code()?;
        ensure!(
            plan.code == 0,
            "plan after the round trip is not empty:\n{}",
            plan.text()
        );
        Ok(())
    });
}

/// The address of the resource whose `name` attribute is `name`.
fn address_of(config: &str, name: &str) -> Option<String> {
    let mut current = None;
    let wanted = serde_json::to_string(name).ok()?;
    for line in config.lines() {
        if let Some(r) = line.strip_prefix("resource \"spinnaker_pipeline\" \"") {
            current = Some(r.trim_end_matches("\" {").to_owned());
        } else if let Some(rest) = line.strip_prefix("  name ")
            && rest.trim_start().strip_prefix('=').map(str::trim) == Some(wanted.as_str())
        {
            return current.map(|c| format!("spinnaker_pipeline.{c}"));
        }
    }
    None
}
