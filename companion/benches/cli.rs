//! Benchmark of the companion's offline work: `convert` of 1,000 pipelines (the corpus files
//! repeated) against merely parsing the same JSON with serde_json, and `review` of a plan with
//! 500 changed pipelines (synthesised in the shape `terraform show -json` gives).
//!
//! `cargo bench -p companion --bench cli`. Targets: each at most 1 s on 2 cores; convert within
//! 3× of the serde_json parse.

// A benchmark's figures are its output.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use companion::input::Source;
use serde_json::{Value, json};

const PIPELINES: usize = 1000;
const CHANGED: usize = 500;
const RUNS: usize = 5;

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs.get(runs.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn time<T>(mut f: impl FnMut() -> T) -> Duration {
    let runs = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(f());
            started.elapsed()
        })
        .collect();
    median(runs)
}

/// The corpus pipelines, completed with an application and a name, repeated to `PIPELINES`.
fn corpus_array() -> Option<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/pipelines");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let mut base = Vec::new();
    for file in files {
        let doc: Value = serde_json::from_slice(&std::fs::read(&file).ok()?).ok()?;
        match doc {
            Value::Array(items) => base.extend(items),
            one => base.push(one),
        }
    }
    let mut all = Vec::with_capacity(PIPELINES);
    for i in 0..PIPELINES {
        let mut p = base.get(i % base.len())?.clone();
        if let Some(m) = p.as_object_mut() {
            m.insert("application".into(), json!(format!("app{}", i % 50)));
            m.insert("name".into(), json!(format!("pipeline {i}")));
        }
        all.push(p);
    }
    serde_json::to_string(&all).ok()
}

fn stage(ref_id: usize, depends: &[usize], wait: u64) -> Value {
    json!({"ref_id": ref_id.to_string(), "name": format!("Stage {ref_id}"), "depends_on": depends.iter().map(|d| d.to_string()).collect::<Vec<_>>(), "wait_time": wait.to_string()})
}

/// A plan in the shape of `terraform show -json`: `CHANGED` pipelines updated in place, each
/// with a changed field, a changed stage, an added stage, a removed stage and a changed trigger.
fn synthetic_plan() -> String {
    let changes: Vec<Value> = (0..CHANGED)
        .map(|i| {
            let before = json!({
                "id": format!("id-{i}"), "application": "shop", "name": format!("p{i}"),
                "description": "before", "update_ts": "1",
                "unmanaged_stages": [{"ref_id": "9", "type": "deploy", "name": "Deploy"}],
                "webhook_trigger": [{"source": "ci", "enabled": true}],
                "wait_stage": [stage(1, &[], 30), stage(2, &[1], 30), stage(3, &[2], 30), stage(4, &[2], 30)],
                "manual_judgment_stage": [{"ref_id": "5", "name": "Approve", "depends_on": ["3", "4"], "judgment_inputs": ["a", "b"]}],
            });
            let after = json!({
                "id": format!("id-{i}"), "application": "shop", "name": format!("p{i}"),
                "description": "after",
                "unmanaged_stages": [{"ref_id": "9", "type": "deploy", "name": "Deploy"}],
                "webhook_trigger": [{"source": "ci-2", "enabled": true}],
                "wait_stage": [stage(1, &[], 60), stage(2, &[1], 30), stage(3, &[2], 30), stage(6, &[2], 10)],
                "manual_judgment_stage": [{"ref_id": "5", "name": "Approve", "depends_on": ["3", "6"], "judgment_inputs": ["a", "b"]}],
            });
            json!({"address": format!("spinnaker_pipeline.p{i}"), "mode": "managed", "type": "spinnaker_pipeline",
                   "name": format!("p{i}"), "change": {"actions": ["update"], "before": before, "after": after,
                   "after_unknown": {"update_ts": true, "json": true}, "before_sensitive": {}, "after_sensitive": {}}})
        })
        .collect();
    json!({"format_version": "1.2", "terraform_version": "1.11.4", "resource_changes": changes})
        .to_string()
}

fn main() {
    let Some(array) = corpus_array() else {
        println!("cli bench: skipping convert: ../shared/corpus/pipelines not found");
        return;
    };
    let source = Source::from_text("bench.json", array.clone());
    let parse = time(|| serde_json::from_str::<Value>(&array).map(|v| v.is_array()));
    let convert = time(|| {
        companion::convert::convert(&source, None, None)
            .map(|(text, _)| text.len())
            .unwrap_or(0)
    });
    let hcl_bytes = companion::convert::convert(&source, None, None)
        .map(|(t, _)| t.len())
        .unwrap_or(0);
    println!(
        "convert {PIPELINES} pipelines ({} KiB JSON -> {} KiB HCL): {} (serde_json parse alone: {}, ratio {:.2}x)",
        array.len() / 1024,
        hcl_bytes / 1024,
        ms(convert),
        ms(parse),
        convert.as_secs_f64() / parse.as_secs_f64().max(1e-9)
    );

    let plan = synthetic_plan();
    let review = time(|| {
        companion::review::review("plan.json", &plan)
            .map(|r| companion::review::render::markdown(&r).len())
            .unwrap_or(0)
    });
    let reviewed = companion::review::review("plan.json", &plan)
        .map(|r| r.pipelines.len())
        .unwrap_or(0);
    println!(
        "review plan with {reviewed} changed pipelines ({} KiB JSON) to Markdown: {}",
        plan.len() / 1024,
        ms(review)
    );
    println!("(median of {RUNS} runs; targets: each <= 1000 ms, convert <= 3x parse)");
}
