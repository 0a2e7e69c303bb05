//! Durability: 600 concurrent pipeline saves; the server is SIGKILLed part-way; after a restart
//! every save that got a 200 is present and intact, and no stored pipeline is half-written.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::support::ServerProcess;

const SAVES: usize = 600;
const KILL_AFTER_ACKS: usize = 120;

fn document(i: usize) -> Value {
    json!({
        "id": format!("durable-{i:04}"),
        "application": "durable",
        "name": format!("pipeline {i:04}"),
        "stages": (0..8).map(|s| json!({
            "refId": s.to_string(),
            "type": "wait",
            "waitTime": i * 10 + s,
            "requisiteStageRefIds": if s == 0 { vec![] } else { vec![(s - 1).to_string()] },
            "comments": "x".repeat(64),
        })).collect::<Vec<_>>(),
        "checksum": i,
    })
}

fn strip_server_fields(mut doc: Value) -> Value {
    if let Some(map) = doc.as_object_mut() {
        for key in ["updateTs", "lastModifiedBy", "index"] {
            map.remove(key);
        }
    }
    doc
}

#[test]
fn acknowledged_saves_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start_on(dir.path());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let acknowledged: Vec<usize> = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .unwrap();
        let acks = Arc::new(AtomicUsize::new(0));
        let enough = Arc::new(Notify::new());
        let url = format!("{}/pipelines", server.url);
        let saves: Vec<_> = (0..SAVES)
            .map(|i| {
                let (client, url, acks, enough) = (
                    client.clone(),
                    url.clone(),
                    Arc::clone(&acks),
                    Arc::clone(&enough),
                );
                tokio::spawn(async move {
                    let ok = matches!(
                        client.post(&url).json(&document(i)).send().await,
                        Ok(response) if response.status() == 200
                    );
                    if ok && acks.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER_ACKS {
                        enough.notify_one();
                    }
                    ok.then_some(i)
                })
            })
            .collect();
        enough.notified().await;
        server.child.kill().unwrap(); // SIGKILL
        let mut acknowledged = Vec::new();
        for save in saves {
            if let Some(i) = save.await.unwrap() {
                acknowledged.push(i);
            }
        }
        acknowledged
    });
    let _ = server.child.wait();
    drop(server);
    eprintln!(
        "{} of {SAVES} saves acknowledged before SIGKILL",
        acknowledged.len()
    );
    assert!(acknowledged.len() >= KILL_AFTER_ACKS);
    assert!(
        acknowledged.len() < SAVES,
        "the kill must land while saves are in flight"
    );

    let server = ServerProcess::start_on(dir.path());
    let stored: Vec<Value> = runtime.block_on(async {
        let url = format!("{}/applications/durable/pipelineConfigs", server.url);
        reqwest::get(url).await.unwrap().json().await.unwrap()
    });
    let by_id: BTreeMap<String, Value> = stored
        .into_iter()
        .map(|p| (p["id"].as_str().unwrap().to_owned(), p))
        .collect();
    // Nothing half-written: whatever is stored (acknowledged or not) is exactly what was sent.
    for (id, pipeline) in &by_id {
        let i: usize = id.trim_start_matches("durable-").parse().unwrap();
        assert_eq!(
            strip_server_fields(pipeline.clone()),
            document(i),
            "{id} is torn"
        );
    }
    let missing: Vec<_> = acknowledged
        .iter()
        .filter(|i| !by_id.contains_key(&format!("durable-{i:04}")))
        .collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    eprintln!("{} pipelines stored after restart, all intact", by_id.len());
}
