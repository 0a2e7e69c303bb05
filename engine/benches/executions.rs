//! Executions benchmark: 1,000 executions of a 10-stage pipeline (waits of 0 and
//! evaluateVariables, two parallel branches and a join) started together through the engine's
//! execution driver on durable SQLite storage. Prints stage transitions per second and the
//! delay from a stage's last parent finishing to the stage starting (p50/p99/max), beside the
//! raw write+fsync rate of the same disk. The delay is read from the stages' own times (the
//! engine clock): a stage whose last parent ends starts in the same scheduling round, so it is
//! 0 unless rounds lag; each round is committed in one transaction, with at most
//! `MAX_ROUNDS_IN_FLIGHT` rounds queued behind the writer.
//!
//! `cargo bench -p engine --bench executions` (`EXECUTIONS=n` to change the count).

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::executions::Executions;
use engine::{Config, Store};
use execution::{Execution, SystemClock};
use serde_json::{Value, json};

fn pipeline() -> Value {
    let stage = |n: u32, parents: &[u32]| {
        let parents: Vec<String> = parents.iter().map(u32::to_string).collect();
        if n.is_multiple_of(2) {
            json!({"refId": n.to_string(), "name": format!("s{n}"), "type": "evaluateVariables",
                "requisiteStageRefIds": parents,
                "variables": [{"key": format!("v{n}"), "value": "${trigger.parameters.n}"}]})
        } else {
            json!({"refId": n.to_string(), "name": format!("s{n}"), "type": "wait", "waitTime": 0,
                "requisiteStageRefIds": parents})
        }
    };
    json!({"id": "bench", "application": "bench", "name": "bench", "stages": [
        stage(1, &[]),
        stage(2, &[1]), stage(3, &[2]), stage(4, &[3]), stage(5, &[4]),
        stage(6, &[1]), stage(7, &[6]), stage(8, &[7]), stage(9, &[8]),
        stage(10, &[5, 9]),
    ]})
}

/// Raw write (4 KiB) + fsync per second on the directory's disk, over about a second.
fn fsync_rate(dir: &std::path::Path) -> f64 {
    let path = dir.join("fsync-probe");
    let Ok(mut file) = OpenOptions::new().create(true).append(true).open(&path) else {
        return 0.0;
    };
    let block = vec![7u8; 4096];
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < Duration::from_secs(1) {
        if file.write_all(&block).is_err() || file.sync_all().is_err() {
            return 0.0;
        }
        n += 1;
    }
    let _ = std::fs::remove_file(&path);
    f64::from(n) / start.elapsed().as_secs_f64()
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or(0)
}

#[allow(clippy::print_stdout, clippy::cast_precision_loss)]
fn main() {
    let count: usize = std::env::var("EXECUTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let raw = fsync_rate(dir.path());
    let store = Store::open(dir.path()).expect("store");
    let config = Config::default();
    let (elapsed, executions) = runtime.block_on(async {
        let engine = Executions::start(store.clone(), &config, Arc::new(SystemClock));
        let started = Instant::now();
        let triggers = (0..count).map(|n| {
            let engine = engine.clone();
            async move {
                engine
                    .trigger(
                        pipeline(),
                        json!({"type": "manual", "parameters": {"n": n}}),
                    )
                    .await
            }
        });
        let ids: Vec<String> = futures::future::join_all(triggers)
            .await
            .into_iter()
            .collect::<Result<_, _>>()
            .expect("trigger");
        let acknowledged = started.elapsed();
        loop {
            let left = store
                .read(engine::store::executions::unfinished)
                .await
                .expect("read");
            if left.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let elapsed = started.elapsed();
        eprintln!("all {count} triggers acknowledged (durable) after {acknowledged:.2?}");
        let executions: Vec<Execution> = store
            .read(move |conn| {
                ids.iter()
                    .filter_map(|id| engine::store::executions::get(conn, id).transpose())
                    .collect::<Result<Vec<_>, _>>()
            })
            .await
            .expect("read executions");
        (elapsed, executions)
    });
    store.shutdown();

    let mut delays = Vec::new();
    let mut transitions = 0usize;
    let mut succeeded = 0usize;
    for execution in &executions {
        if execution.status == execution::ExecutionStatus::Succeeded {
            succeeded += 1;
        }
        for stage in &execution.stages {
            transitions +=
                usize::from(stage.start_time.is_some()) + usize::from(stage.end_time.is_some());
            let parent_end = stage
                .requisite_stage_ref_ids
                .iter()
                .filter_map(|r| execution.stage_by_ref_id(r).and_then(|p| p.end_time))
                .max();
            if let (Some(end), Some(start)) = (parent_end, stage.start_time) {
                delays.push(start - end);
            }
        }
    }
    delays.sort_unstable();
    let mut durations: Vec<i64> = executions
        .iter()
        .filter_map(|e| Some(e.end_time? - e.build_time))
        .collect();
    durations.sort_unstable();
    let rate = transitions as f64 / elapsed.as_secs_f64();
    println!(
        "executions: {count} × 10-stage pipeline (wait 0 / evaluateVariables), started together"
    );
    println!(
        "  succeeded:                       {succeeded}/{}",
        executions.len()
    );
    println!("  wall time to all complete:       {elapsed:.2?}");
    println!("  stage transitions (start, end):  {transitions}");
    println!("  stage transitions per second:    {rate:.0}");
    println!(
        "  parent end → stage start delay:  p50 {} ms, p99 {} ms, max {} ms",
        percentile(&delays, 0.50),
        percentile(&delays, 0.99),
        delays.last().copied().unwrap_or(0)
    );
    println!(
        "  execution trigger → end:         p50 {} ms, p99 {} ms",
        percentile(&durations, 0.50),
        percentile(&durations, 0.99)
    );
    println!("  raw write+fsync rate, same disk: {raw:.0}/s");
    println!(
        "  targets: transitions/s ≥ fsync rate: {}; p99 ≤ 100 ms: {}",
        if rate >= raw { "met" } else { "MISSED" },
        if percentile(&delays, 0.99) <= 100 {
            "met"
        } else {
            "MISSED"
        }
    );
}
