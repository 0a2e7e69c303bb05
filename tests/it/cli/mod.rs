//! End-to-end tests of the `spinhcl` companion with real Terraform, the provider and the
//! embedded engine: export → import → empty plan, convert round trips, and the real plan JSON
//! that `spinhcl review` is snapshot-tested on.

mod export;
mod review;
mod round_trip;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use e2e::{Engine, Terraform, Workspace};
use serde_json::{Value, json};

/// Runs `check` once per Terraform version with a fresh engine and workspace.
fn each_terraform(test: &str, check: impl Fn(&Terraform, &Engine, &Workspace) -> Result<()>) {
    if !e2e::acceptance(test) {
        return;
    }
    let provider = e2e::provider_bin().expect("provider binary");
    for tf in e2e::terraforms().expect("terraform binaries") {
        let engine = Engine::start().expect("spinhcl server");
        let ws = Workspace::new(&tf, &provider, false).expect("workspace");
        if let Err(e) = check(&tf, &engine, &ws) {
            panic!("{test} on Terraform {}: {e:#}", tf.version);
        }
        eprintln!("{test}: passed on Terraform {}", tf.version);
    }
}

/// `../shared/corpus/pipelines/*.json` next to the repository, or `None` with a skip line.
fn corpus(test: &str) -> Option<Vec<PathBuf>> {
    let dir = e2e::repo_root().join("../shared/corpus/pipelines");
    let Ok(read) = std::fs::read_dir(&dir) else {
        eprintln!("skipping {test}: {} not found", dir.display());
        return None;
    };
    let mut files: Vec<PathBuf> = read
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    Some(files)
}

/// The pipelines of a corpus file, each given `application` and a unique name (the file stem
/// appended), and without an `id` (the engine assigns one).
fn corpus_pipelines(path: &Path, application: &str) -> Result<Vec<Value>> {
    let text = std::fs::read_to_string(path)?;
    let doc: Value = serde_json::from_str(&text).with_context(|| path.display().to_string())?;
    let list = match doc {
        Value::Array(items) => items,
        one => vec![one],
    };
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("p");
    Ok(list
        .into_iter()
        .enumerate()
        .filter_map(|(i, p)| match p {
            Value::Object(mut m) => {
                m.insert("application".into(), json!(application));
                // Corpus names repeat ("Deploy"); Front50 wants them unique per application.
                let name = m
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or("corpus");
                let unique = format!("{name} ({stem}-{i})");
                m.insert("name".into(), json!(unique));
                m.remove("id");
                Some(Value::Object(m))
            }
            _ => None,
        })
        .collect())
}

/// Creates an application through the engine's task API.
fn create_application(engine: &Engine, name: &str) -> Result<()> {
    let task = json!({
        "application": name,
        "description": format!("Create Application: {name}"),
        "job": [{"type": "createApplication", "application": {"name": name, "email": format!("{name}@example.com")}}],
    });
    let (status, reply) = engine.call("POST", "/tasks", Some(task))?;
    ensure!(
        (200..300).contains(&status),
        "createApplication: HTTP {status} {reply}"
    );
    for _ in 0..200 {
        if engine.application(name)?.is_some() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    bail!("application {name} did not appear")
}

/// Saves a pipeline through the engine's API, as Deck would.
fn save(engine: &Engine, pipeline: &Value) -> Result<()> {
    let (status, body) = engine.call("POST", "/pipelines", Some(pipeline.clone()))?;
    ensure!(
        (200..300).contains(&status),
        "saving {}: HTTP {status} {body}",
        pipeline["name"]
    );
    Ok(())
}

/// Every pipeline of an application, as the engine serves them.
fn pipelines(engine: &Engine, application: &str) -> Result<Vec<Value>> {
    let (status, body) = engine.call(
        "GET",
        &format!("/applications/{application}/pipelineConfigs"),
        None,
    )?;
    ensure!(
        status == 200,
        "listing pipelines of {application}: HTTP {status} {body}"
    );
    Ok(body.as_array().cloned().unwrap_or_default())
}

/// Runs `spinhcl` with arguments, failing with its stderr unless it exits 0.
fn spinhcl(args: &[&str]) -> Result<String> {
    let out = Command::new(e2e::spinhcl_bin()?)
        .args(args)
        .env("SPINHCL_LOG", "warn")
        .output()
        .context("running spinhcl")?;
    ensure!(
        out.status.success(),
        "spinhcl {args:?} exited {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

/// `<application>/<pipeline name>` with `/`, `%`, space and controls escaped.
fn import_id(application: &str, name: &str) -> String {
    let escape = |s: &str| {
        s.chars()
            .map(|c| match c {
                '/' | '%' | ' ' => format!("%{:02X}", c as u32),
                c if c.is_control() => format!("%{:02X}", c as u32),
                c => c.to_string(),
            })
            .collect::<String>()
    };
    format!("{}/{}", escape(application), escape(name))
}

/// Runs every `terraform import` line of an `imports.sh` in the workspace.
fn run_imports(ws: &Workspace, script: &str) -> Result<usize> {
    let mut n = 0;
    for line in script.lines() {
        let Some(rest) = line.strip_prefix("terraform import ") else {
            continue;
        };
        let (to, id) = rest.split_once(' ').context("import line")?;
        let id = id.trim().trim_matches('\'').replace("'\\''", "'");
        ws.ok(&["import", "-no-color", "-input=false", to, &id])
            .with_context(|| format!("importing {to} {id}"))?;
        n += 1;
    }
    Ok(n)
}

/// A pipeline reduced to what a user owns, for comparing saved and original pipelines: no
/// server-owned or engine-assigned fields, stages sorted by refId with refIds as text, empty
/// values (`""`, `[]`, `{}`, null) and expression-less `stageEnabled` left out, numbers and
/// booleans written as text read as values, as the catalogue documents.
fn comparable(pipeline: &Value) -> Value {
    fn clean(v: &Value) -> Option<Value> {
        match v {
            Value::Null => None,
            Value::String(s) if s.is_empty() => None,
            // Numbers and booleans written as text ("75", "true") read as what they say.
            Value::String(s) if s == "true" || s == "false" => Some(json!(s == "true")),
            Value::String(s) if s.trim() == s && s.parse::<f64>().is_ok_and(f64::is_finite) => {
                s.parse::<f64>().ok().map(|n| json!(n))
            }
            Value::Array(a) => {
                let items: Vec<Value> = a.iter().filter_map(clean).collect();
                (!items.is_empty()).then_some(Value::Array(items))
            }
            Value::Object(m) => {
                let map: serde_json::Map<String, Value> = m
                    .iter()
                    .filter_map(|(k, v)| clean(v).map(|v| (k.clone(), v)))
                    .collect();
                (!map.is_empty()).then_some(Value::Object(map))
            }
            Value::Number(n) => Some(json!(n.as_f64())),
            other => Some(other.clone()),
        }
    }
    let mut p = pipeline.clone();
    if let Some(m) = p.as_object_mut() {
        for key in ["id", "updateTs", "lastModifiedBy", "index", "createTs"] {
            m.remove(key);
        }
        if let Some(Value::Array(stages)) = m.get_mut("stages") {
            for s in stages.iter_mut() {
                if let Some(sm) = s.as_object_mut() {
                    // `stageEnabled` without an expression enables nothing; HCL has no way to say it.
                    if sm
                        .get("stageEnabled")
                        .is_some_and(|e| e.get("expression").is_none_or(|x| x.as_str() == Some("")))
                    {
                        sm.remove("stageEnabled");
                    }
                    for key in ["refId"] {
                        if let Some(v) = sm.get(key).cloned() {
                            sm.insert(
                                key.into(),
                                json!(v.as_str().map_or_else(|| v.to_string(), str::to_owned)),
                            );
                        }
                    }
                    if let Some(Value::Array(ids)) = sm.get("requisiteStageRefIds").cloned() {
                        let mut ids: Vec<String> = ids
                            .iter()
                            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                            .collect();
                        ids.sort();
                        sm.insert("requisiteStageRefIds".into(), json!(ids));
                    }
                }
            }
            stages.sort_by_key(|s| s["refId"].as_str().unwrap_or_default().to_owned());
        }
        if let Some(Value::Array(triggers)) = m.get_mut("triggers") {
            for t in triggers.iter_mut() {
                if t["type"] == "cron"
                    && let Some(tm) = t.as_object_mut()
                {
                    tm.remove("id");
                }
            }
        }
    }
    clean(&p).unwrap_or(Value::Null)
}
