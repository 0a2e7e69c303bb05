//! Scheduler benchmark: 1,000 executions of a 10-stage pipeline (waits of 0 and
//! evaluateVariables, with two joins) started together, driven by `Executor::step` with every
//! batch of changes written to a file and fsync'd once (group commit).
//!
//! The creation of the 1,000 executions is committed first, as the trigger API would before
//! answering 202. Prints stage transitions per second, the p50/p99 delay from a stage's last parent finishing
//! (the start of the step that ended it) to the stage starting durably (the end of the commit of
//! the step that started it), and the raw write+fsync rate of the disk for comparison.

#![allow(clippy::print_stdout)]

use execution::{Change, Clock, Executor, Settings, Spel, StageRegistry, SystemClock};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

const EXECUTIONS: usize = 1_000;

fn config() -> Value {
    let vars = |r: &str, parents: &[&str]| {
        json!({"refId": r, "name": format!("vars {r}"), "type": "evaluateVariables", "requisiteStageRefIds": parents,
            "variables": [{"key": format!("v{r}"), "value": "${parameters.n * 2}"}, {"key": "label", "value": "stage-" }]})
    };
    let wait = |r: &str, parents: &[&str]| json!({"refId": r, "name": format!("wait {r}"), "type": "wait", "waitTime": 0, "requisiteStageRefIds": parents});
    json!({"application": "bench", "name": "ten", "id": "bench-config",
    "parameterConfig": [{"name": "n", "default": 21}],
    "stages": [
        vars("1", &[]), wait("2", &["1"]), vars("3", &["1"]), wait("4", &["2", "3"]),
        vars("5", &["4"]), wait("6", &["5"]), vars("7", &["5"]), wait("8", &["6", "7"]),
        vars("9", &["8"]), wait("10", &["9"]),
    ]})
}

fn fsync_rate(path: &std::path::Path) -> f64 {
    let Ok(mut file) = File::create(path) else {
        return 0.0;
    };
    let block = vec![b'x'; 4096];
    let start = Instant::now();
    let mut count = 0u32;
    while start.elapsed() < Duration::from_secs(1) {
        if file.write_all(&block).is_err() || file.sync_data().is_err() {
            return 0.0;
        }
        count += 1;
    }
    f64::from(count) / start.elapsed().as_secs_f64()
}

fn stage_line(change: &Change) -> String {
    match change {
        Change::Created(e) => serde_json::to_string(&**e).unwrap_or_default(),
        Change::Stage { stage, .. } => serde_json::to_string(&**stage).unwrap_or_default(),
        other => format!("{other:?}"),
    }
}

struct Seen {
    parents: Vec<String>,
    execution: String,
    ref_id: String,
    start_step: Option<usize>,
    end_step: Option<usize>,
}

fn run(batch: usize, path: &std::path::Path) {
    let settings = Settings {
        max_executions_per_step: batch,
        ..Settings::default()
    };
    let configs: HashMap<String, Value> = HashMap::new();
    let mut executor = Executor::new(
        StageRegistry::local(),
        Arc::new(Spel),
        Arc::new(configs),
        settings,
    );
    let clock = SystemClock;
    let Ok(mut file) = File::create(path) else {
        println!("cannot create {}", path.display());
        return;
    };
    let config = config();
    let began = Instant::now();
    for _ in 0..EXECUTIONS {
        if executor.trigger(&config, None, clock.now_ms()).is_err() {
            println!("trigger failed");
            return;
        }
    }
    // The trigger API persists the new executions before answering 202: one commit for all.
    let mut creation = String::new();
    for change in &executor.take_changes() {
        creation.push_str(&stage_line(change));
        creation.push('\n');
    }
    if file.write_all(creation.as_bytes()).is_err() || file.sync_data().is_err() {
        println!("write failed");
        return;
    }
    let created_in = began.elapsed();
    let mut step_begin: Vec<Instant> = Vec::new();
    let mut step_committed: Vec<Instant> = Vec::new();
    let mut stages: HashMap<String, Seen> = HashMap::new();
    let mut transitions = 0usize;
    let mut bytes = 0usize;
    loop {
        let step = step_begin.len();
        step_begin.push(Instant::now());
        let changes = executor.step(clock.now_ms());
        let mut buffer = String::new();
        for change in &changes {
            buffer.push_str(&stage_line(change));
            buffer.push('\n');
            let list: Vec<(&str, &execution::StageExecution)> = match change {
                Change::Stage {
                    execution_id,
                    stage,
                } => vec![(execution_id.as_str(), &**stage)],
                _ => Vec::new(),
            };
            for (execution_id, stage) in list {
                let seen = stages.entry(stage.id.clone()).or_insert_with(|| Seen {
                    parents: stage.requisite_stage_ref_ids.clone(),
                    execution: execution_id.to_owned(),
                    ref_id: stage.ref_id.clone(),
                    start_step: None,
                    end_step: None,
                });
                if stage.start_time.is_some() && seen.start_step.is_none() {
                    seen.start_step = Some(step);
                    transitions += 1;
                }
                if stage.status.is_complete() && seen.end_step.is_none() {
                    seen.end_step = Some(step);
                    transitions += 1;
                }
            }
        }
        bytes += buffer.len();
        if file.write_all(buffer.as_bytes()).is_err() || file.sync_data().is_err() {
            println!("write failed");
            return;
        }
        step_committed.push(Instant::now());
        if changes.is_empty() && !executor.has_work() {
            break;
        }
    }
    let elapsed = began.elapsed();
    let done = executor
        .executions()
        .filter(|e| e.status == execution::ExecutionStatus::Succeeded)
        .count();
    let mut by_ref: HashMap<(String, String), usize> = HashMap::new();
    for seen in stages.values() {
        if let Some(end) = seen.end_step {
            by_ref.insert((seen.execution.clone(), seen.ref_id.clone()), end);
        }
    }
    let mut delays: Vec<f64> = Vec::new();
    for seen in stages.values() {
        let Some(start) = seen.start_step else {
            continue;
        };
        let last_parent = seen
            .parents
            .iter()
            .filter_map(|p| by_ref.get(&(seen.execution.clone(), p.clone())))
            .max();
        if let (Some(&parent_step), Some(committed)) = (last_parent, step_committed.get(start))
            && let Some(parent_began) = step_begin.get(parent_step)
        {
            delays.push(committed.duration_since(*parent_began).as_secs_f64() * 1000.0);
        }
    }
    delays.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        delays
            .get(((delays.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "batch {batch:>4}: created {EXECUTIONS} in {:.0} ms (one commit); then {done}/{EXECUTIONS} succeeded, {transitions} stage transitions in {:.3} s = {:.0} transitions/s, {} steps (= fsyncs), {:.1} MB written; parent-end → child-start delay p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        created_in.as_secs_f64() * 1000.0,
        (elapsed - created_in).as_secs_f64(),
        transitions as f64 / (elapsed - created_in).as_secs_f64(),
        step_begin.len(),
        bytes as f64 / 1e6,
        pct(0.5),
        pct(0.99),
        delays.last().copied().unwrap_or(0.0),
    );
}

fn main() {
    let dir = std::env::temp_dir().join(format!("spinhcl-execution-bench-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        println!("cannot create {}", dir.display());
        return;
    }
    println!(
        "raw write(4 KiB)+fsync rate: {:.0}/s",
        fsync_rate(&dir.join("fsync"))
    );
    for batch in [16, 64, 256] {
        run(batch, &dir.join(format!("changes-{batch}.jsonl")));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
