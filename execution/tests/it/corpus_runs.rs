//! Every pipeline in `../shared/corpus` (exports and negative inputs) goes through the core
//! without a panic: it either builds and runs to a final status (judgments continued, time
//! advanced) or is refused with an error naming the problem.

use crate::support::Harness;
use execution::ExecutionStatus;
use serde_json::Value;
use std::path::PathBuf;

fn corpus_files() -> Option<Vec<PathBuf>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    let mut files = Vec::new();
    for dir in ["pipelines", "not-exports", "templated"] {
        let entries = std::fs::read_dir(root.join(dir)).ok()?;
        files.extend(entries.flatten().map(|e| e.path()));
    }
    files.sort();
    Some(files)
}

#[tokio::test]
async fn corpus_pipelines_run_to_a_final_status_or_are_refused() {
    let Some(files) = corpus_files() else {
        eprintln!("skipping corpus runs: ../shared/corpus not found");
        return;
    };
    let (mut finished, mut refused) = (0, 0);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let configs = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Array(list)) => list,
            Ok(other) => vec![other],
            Err(_) => continue,
        };
        for mut config in configs {
            // Exports may lack `application`; the engine always knows it from the URL.
            if let Some(map) = config.as_object_mut()
                && !map.contains_key("application")
            {
                map.insert("application".to_owned(), Value::from("corpus"));
            }
            let mut h = Harness::new();
            let id = match h.executor.trigger(&config, None, h.now()) {
                Ok(id) => id,
                Err(error) => {
                    assert!(!error.to_string().is_empty());
                    eprintln!("refused {}: {error}", file.display());
                    refused += 1;
                    continue;
                }
            };
            h.settle().await;
            for _ in 0..50 {
                if h.status(&id).is_complete() {
                    break;
                }
                let waiting: Vec<String> = h
                    .execution(&id)
                    .stages
                    .iter()
                    .filter(|s| {
                        s.stage_type == "manualJudgment" && s.status == ExecutionStatus::Running
                    })
                    .map(|s| s.name.clone())
                    .collect();
                for name in waiting {
                    h.judge(&id, &name, "continue", None).await;
                }
                h.advance(3_600_000).await;
            }
            assert!(
                h.status(&id).is_complete(),
                "{} did not finish: {:?}",
                file.display(),
                h.execution(&id)
                    .stages
                    .iter()
                    .map(|s| (&s.name, s.status))
                    .collect::<Vec<_>>()
            );
            finished += 1;
        }
    }
    eprintln!("corpus: {finished} executions finished, {refused} configs refused");
    assert!(finished > 0);
}
