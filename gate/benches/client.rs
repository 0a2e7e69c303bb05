//! Benchmark of the Gate client against a loopback Gate stand-in: pipeline reads with and
//! without the per-client cache, and request throughput sequentially and in parallel.
//! Prints figures; run with `cargo bench -p gate --bench client`.

// A benchmark's output is its figures.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use serde_json::{Value, json};

const PIPELINES: usize = 500;

/// 500 pipelines: the real exports from `../shared/corpus/pipelines` cycled with fresh ids
/// and names when the corpus exists, small synthetic ones otherwise.
fn pipelines() -> Vec<Value> {
    let corpus =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/pipelines");
    let mut exports: Vec<Value> = std::fs::read_dir(&corpus)
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter_map(|entry| std::fs::read(entry.path()).ok())
                .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
                .filter(Value::is_object)
                .collect()
        })
        .unwrap_or_default();
    if exports.is_empty() {
        eprintln!(
            "corpus not found at {}; using synthetic pipelines",
            corpus.display()
        );
        exports.push(
            json!({"stages": [{"refId": "1", "type": "wait", "waitTime": 30}], "triggers": []}),
        );
    } else {
        eprintln!(
            "using {} corpus pipelines from {}",
            exports.len(),
            corpus.display()
        );
    }
    (0..PIPELINES)
        .map(|i| {
            let mut pipeline = exports[i % exports.len()].clone();
            pipeline["id"] = json!(format!("pipe-{i:04}"));
            pipeline["name"] = json!(format!("pipeline {i:04}"));
            pipeline["application"] = json!("bench");
            pipeline
        })
        .collect()
}

async fn serve(list: Arc<Vec<u8>>) -> std::net::SocketAddr {
    let app = Router::new()
        .route(
            "/applications/{app}/pipelineConfigs",
            get(move || {
                let list = Arc::clone(&list);
                async move { ([("content-type", "application/json")], list.as_ref().clone()) }
            }),
        )
        .route(
            "/applications/{app}",
            get(|Path(app): Path<String>| async move {
                axum::Json(json!({"name": app, "attributes": {"name": app, "email": "a@b.c"}, "clusters": {}}))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

fn client(addr: std::net::SocketAddr, parallel: usize) -> gate::Client {
    let mut config = gate::Config::new(url::Url::parse(&format!("http://{addr}")).expect("url"));
    config.max_parallel_requests = parallel;
    gate::Client::new(config).expect("client")
}

fn per(elapsed: Duration, n: usize) -> String {
    format!("{:.1} µs", elapsed.as_secs_f64() * 1e6 / n as f64)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let list = pipelines();
    let body = serde_json::to_vec(&list).expect("encode");
    println!(
        "pipeline list: {} pipelines, {} KiB per GET",
        list.len(),
        body.len() / 1024
    );
    let addr = serve(Arc::new(body)).await;

    // Warm-up: connections, allocator.
    let warm = client(addr, 8);
    for _ in 0..20 {
        warm.get_application("bench").await.expect("warm");
    }

    // Reads of every pipeline by name, as a Terraform plan with 500 pipelines does.
    let cached = client(addr, 8);
    let started = Instant::now();
    for i in 0..PIPELINES {
        let found = cached
            .get_pipeline_config("bench", &format!("pipeline {i:04}"))
            .await
            .expect("read");
        assert!(found.is_some());
    }
    let cached_time = started.elapsed();
    let cached_gets = cached
        .stats()
        .count("GET /applications/{app}/pipelineConfigs");

    let uncached = client(addr, 8);
    let started = Instant::now();
    for i in 0..PIPELINES {
        uncached.invalidate_pipeline_configs("bench");
        let found = uncached
            .get_pipeline_config("bench", &format!("pipeline {i:04}"))
            .await
            .expect("read");
        assert!(found.is_some());
    }
    let uncached_time = started.elapsed();
    let uncached_gets = uncached
        .stats()
        .count("GET /applications/{app}/pipelineConfigs");

    println!(
        "{PIPELINES} pipeline reads, cached:   {:>9.1} ms total, {} per read, {cached_gets} GET",
        cached_time.as_secs_f64() * 1e3,
        per(cached_time, PIPELINES)
    );
    println!(
        "{PIPELINES} pipeline reads, uncached: {:>9.1} ms total, {} per read, {uncached_gets} GETs ({:.0}x slower)",
        uncached_time.as_secs_f64() * 1e3,
        per(uncached_time, PIPELINES),
        uncached_time.as_secs_f64() / cached_time.as_secs_f64().max(1e-9)
    );

    // Small-request throughput: GET /applications/{app}?expand=false.
    const REQUESTS: usize = 2000;
    let sequential = client(addr, 8);
    let started = Instant::now();
    for _ in 0..REQUESTS {
        sequential.get_application("bench").await.expect("read");
    }
    let elapsed = started.elapsed();
    println!(
        "{REQUESTS} sequential application reads: {:.0} req/s, {} per request",
        REQUESTS as f64 / elapsed.as_secs_f64(),
        per(elapsed, REQUESTS)
    );

    let parallel = client(addr, 8);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = parallel.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..REQUESTS / 8 {
                client.get_application("bench").await.expect("read");
            }
        }));
    }
    for task in tasks {
        task.await.expect("join");
    }
    let elapsed = started.elapsed();
    println!(
        "{REQUESTS} application reads, 8 in parallel: {:.0} req/s (stats: {} requests)",
        REQUESTS as f64 / elapsed.as_secs_f64(),
        parallel.stats().total()
    );
}
