//! Storage benchmark: durable pipeline saves per second through the HTTP API (with concurrency)
//! beside the disk's raw write+fsync rate, and the latency of listing an application with 1,000
//! pipelines beside the time to just serialise those documents with `serde_json`.
//!
//! Run: `cargo bench -p engine --bench storage`. Temp folders are created under
//! `$SPINHCL_BENCH_DIR` (default: the system temp dir), so both rates use the same disk.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use engine::{AppState, Config, Store};
use serde_json::{Value, json};

fn bench_dir() -> PathBuf {
    std::env::var_os("SPINHCL_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from)
}

/// A realistic pipeline document (~1.5 KB): trigger, parameters, five stages.
fn pipeline(app: &str, i: usize) -> Value {
    json!({
        "id": format!("bench-{app}-{i:05}"),
        "application": app,
        "name": format!("deploy service {i:05}"),
        "keepWaitingPipelines": false,
        "limitConcurrent": true,
        "spelEvaluator": "v4",
        "parameterConfig": [{"name": "version", "label": "Version", "required": true, "default": "latest"}],
        "triggers": [{"type": "git", "source": "github", "project": "acme", "slug": format!("svc-{i}"), "branch": "main", "enabled": true}],
        "notifications": [{"type": "slack", "address": "#deploys", "level": "pipeline", "when": ["pipeline.failed"]}],
        "stages": [
            {"refId": "1", "type": "jenkins", "name": "Build", "master": "ci", "job": format!("svc-{i}-build"), "parameters": {"VERSION": "${parameters.version}"}, "requisiteStageRefIds": []},
            {"refId": "2", "type": "wait", "name": "Soak", "waitTime": 30, "requisiteStageRefIds": ["1"]},
            {"refId": "3", "type": "manualJudgment", "name": "Approve", "judgmentInputs": [{"value": "go"}, {"value": "stop"}], "requisiteStageRefIds": ["2"]},
            {"refId": "4", "type": "webhook", "name": "Notify", "url": "https://hooks.example.com/deploy", "method": "POST", "payload": {"service": format!("svc-{i}"), "version": "${parameters.version}"}, "requisiteStageRefIds": ["3"]},
            {"refId": "5", "type": "checkPreconditions", "name": "Check", "preconditions": [{"type": "expression", "context": {"expression": "${#stage('Approve').status.toString() == 'SUCCEEDED'}"}, "failPipeline": true}], "requisiteStageRefIds": ["4"]}
        ],
    })
}

/// Raw physical limit: append a small record and `sync_data` it, repeatedly, for `duration`.
fn fsync_rate(dir: &Path, duration: Duration) -> f64 {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path).expect("create probe file");
    let record = [b'x'; 256];
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < duration {
        file.write_all(&record).expect("write");
        file.sync_data().expect("fsync");
        n += 1;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn save_many(
    client: &reqwest::Client,
    url: &str,
    app: &str,
    count: usize,
    concurrency: usize,
) -> f64 {
    let docs: Vec<Value> = (0..count).map(|i| pipeline(app, i)).collect();
    let started = Instant::now();
    let queue = std::sync::Arc::new(tokio::sync::Mutex::new(docs));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, url, queue) = (client.clone(), format!("{url}/pipelines"), queue.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let Some(doc) = queue.lock().await.pop() else {
                    break;
                };
                let status = client
                    .post(&url)
                    .json(&doc)
                    .send()
                    .await
                    .expect("save")
                    .status();
                assert_eq!(status, 200, "save failed");
            }
        }));
    }
    for worker in workers {
        worker.await.expect("worker");
    }
    count as f64 / started.elapsed().as_secs_f64()
}

#[allow(clippy::print_stdout)]
async fn run() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let root = tempfile::tempdir_in(bench_dir()).expect("temp dir");
    let fsync = fsync_rate(root.path(), Duration::from_secs(3));

    let data = root.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let store = Store::open(&data).expect("open store");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(engine::serve(
        listener,
        AppState::new(store, Config::default()),
        async move {
            let _ = stopped.await;
        },
    ));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .build()
        .expect("client");

    println!(
        "engine storage benchmark ({cores} cores, data in {})",
        root.path().display()
    );
    println!("raw write+fsync (256 B, sync_data):   {fsync:>9.0} /s");
    let mut best = 0.0f64;
    for (concurrency, count) in [(1, 300), (16, 2000), (64, 4000)] {
        let rate = save_many(
            &client,
            &url,
            &format!("saves{concurrency}"),
            count,
            concurrency,
        )
        .await;
        best = best.max(rate);
        println!(
            "durable saves, {concurrency:>2} concurrent clients: {rate:>9.0} /s  ({:.0}% of fsync rate)",
            rate / fsync * 100.0
        );
    }

    save_many(&client, &url, "list", 1000, 32).await;
    let list_url = format!("{url}/applications/list/pipelineConfigs");
    let body = client
        .get(&list_url)
        .send()
        .await
        .expect("list")
        .bytes()
        .await
        .expect("body");
    let docs: Vec<Value> = serde_json::from_slice(&body).expect("json");
    assert_eq!(docs.len(), 1000);
    for _ in 0..30 {
        client
            .get(&list_url)
            .send()
            .await
            .expect("list")
            .bytes()
            .await
            .expect("body");
    }
    let rounds = 300;
    let mut list = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        let bytes = client
            .get(&list_url)
            .send()
            .await
            .expect("list")
            .bytes()
            .await
            .expect("body");
        list.push(started.elapsed());
        assert_eq!(bytes.len(), body.len());
    }
    let mut serialize = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        let out = serde_json::to_vec(&docs).expect("serialize");
        serialize.push(started.elapsed());
        std::hint::black_box(out);
    }
    list.sort();
    serialize.sort();
    let (list_p50, list_p99) = (percentile(&list, 0.5), percentile(&list, 0.99));
    let (ser_p50, ser_p99) = (percentile(&serialize, 0.5), percentile(&serialize, 0.99));
    println!(
        "list 1,000 pipelines ({:.1} MB) via HTTP: p50 {:.2} ms, p99 {:.2} ms",
        body.len() as f64 / 1e6,
        ms(list_p50),
        ms(list_p99)
    );
    println!(
        "serde_json::to_vec of the same 1,000:  p50 {:.2} ms, p99 {:.2} ms",
        ms(ser_p50),
        ms(ser_p99)
    );
    let ratio = list_p50.as_secs_f64() / ser_p50.as_secs_f64();
    println!(
        "targets: best saves/s = {:.0}% of fsync rate (target >= 50%): {}; list p50 = {ratio:.2}x serialise (target <= 2x): {}",
        best / fsync * 100.0,
        if best >= fsync * 0.5 { "met" } else { "MISSED" },
        if ratio <= 2.0 { "met" } else { "MISSED" }
    );
    let _ = stop.send(());
    let _ = server.await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run());
}
