//! Every real export in `../shared/corpus/pipelines` round-trips through `POST` and `GET`
//! (arrays: each element; `application`/`name` supplied when absent). Prints a skip line when the
//! corpus is not there.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::support::{TestServer, without_server_fields};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/pipelines")
}

/// What the server may legitimately change: server fields, a generated id, trimmed names, and
/// cron trigger ids (regenerated for a pipeline saved without an id).
fn comparable(mut doc: Value, had_id: bool) -> Value {
    doc = without_server_fields(doc);
    if let Some(map) = doc.as_object_mut() {
        if !had_id {
            map.remove("id");
        }
        if let Some(Value::String(name)) = map.get_mut("name") {
            *name = name.trim().to_owned();
        }
        if let Some(Value::Array(triggers)) = map.get_mut("triggers") {
            for t in triggers.iter_mut().filter_map(Value::as_object_mut) {
                if t.get("type").and_then(Value::as_str) == Some("cron") {
                    t.remove("id");
                }
            }
        }
    }
    doc
}

#[tokio::test]
async fn corpus_pipelines_round_trip() {
    let dir = corpus_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipping corpus round-trip: {} not found", dir.display());
        return;
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus files in {}", dir.display());
    let server = TestServer::start().await;
    let mut checked = 0;
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let parsed: Value =
            serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let docs = match parsed {
            Value::Array(items) => items,
            other => vec![other],
        };
        for (i, mut doc) in docs.into_iter().enumerate() {
            let label = format!("{}[{i}]", file.display());
            let map = doc
                .as_object_mut()
                .unwrap_or_else(|| panic!("{label}: not an object"));
            let has = |m: &serde_json::Map<String, Value>, k: &str| {
                m.get(k)
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.trim().is_empty())
            };
            if !has(map, "application") {
                map.insert("application".into(), json!("corpus"));
            }
            if !has(map, "name") {
                map.insert("name".into(), json!(format!("corpus pipeline {checked}")));
            }
            let had_id = has(map, "id");
            let app = map["application"].as_str().unwrap().to_lowercase();
            let name = map["name"].as_str().unwrap().trim().to_owned();

            let response = server.save_pipeline(&doc).await;
            assert_eq!(
                response.status(),
                200,
                "{label}: {}",
                response.text().await.unwrap()
            );
            let list = server.pipelines(&app).await;
            let stored = list
                .into_iter()
                .find(|p| p["name"] == name.as_str())
                .unwrap_or_else(|| panic!("{label}: not listed"));
            assert_eq!(
                comparable(stored.clone(), had_id),
                comparable(doc.clone(), had_id),
                "{label}"
            );
            let deleted = server
                .delete(&format!(
                    "/pipelines/{app}/{}",
                    stored["name"].as_str().unwrap()
                ))
                .send()
                .await
                .unwrap();
            assert_eq!(deleted.status(), 200, "{label}");
            checked += 1;
        }
    }
    eprintln!(
        "corpus round-trip: {checked} pipelines from {} files",
        files.len()
    );
}
