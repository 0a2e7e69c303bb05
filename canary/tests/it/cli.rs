//! `canary::cli::judge_files`: the files of `spinhcl canary judge`, the Kayenta-shaped
//! output, and errors that name the file and the field.

use std::path::{Path, PathBuf};

use canary::cli::{CliError, judge_files};
use serde_json::{Value, json};

fn write(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path
}

fn config() -> Value {
    json!({
        "name": "cli",
        "applications": ["app"],
        "judge": {"name": "NetflixACAJudge-v1.0", "judgeConfigurations": {}},
        "metrics": [
            {"name": "latency", "groups": ["perf"], "query": {"type": "prometheus", "metricName": "latency"},
             "analysisConfigurations": {"canary": {"direction": "increase"}}},
            {"name": "errors", "groups": ["errors"], "query": {"type": "prometheus", "metricName": "errors"},
             "analysisConfigurations": {"canary": {"nanStrategy": "replace"}}}
        ],
        "classifier": {"groupWeights": {"perf": 70, "errors": 30}}
    })
}

#[test]
fn judges_files_into_kayenta_shape() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "config.json", &config());
    let control = write(
        dir.path(),
        "control.json",
        &json!({"latency": [100, 102, 98, 101, 99, 100, 103, 97, 100, 101, 99, 100],
                "errors": [0, 1, 0, null, 0, 1]}),
    );
    let experiment = write(
        dir.path(),
        "experiment.json",
        &json!({"latency": [140, 142, 138, 141, 139, 140, 143, 137, 140, 141, 139, 140],
                "errors": [0, 1, 0, 0, null, 1]}),
    );
    let out = judge_files(&config, &control, &experiment, None).unwrap();
    assert_eq!(out["judgeName"], "NetflixACAJudge-v1.0");
    assert_eq!(out["results"][0]["name"], "latency");
    assert_eq!(out["results"][0]["classification"], "High");
    assert_eq!(out["results"][0]["controlMetadata"]["stats"]["count"], 12);
    assert_eq!(out["results"][1]["classification"], "Pass");
    assert_eq!(
        out["groupScores"][0],
        json!({"name": "perf", "score": 0.0, "classification": "", "classificationReason": ""})
    );
    // perf 0 at 70, errors 100 at 30.
    assert_eq!(
        out["score"],
        json!({"score": 30.0, "classification": "Fail", "classificationReason": ""})
    );

    let lenient = judge_files(&config, &control, &experiment, Some((20.0, 30.0))).unwrap();
    assert_eq!(lenient["score"]["classification"], "Pass");

    // A metric missing from both files has no data.
    let only_latency = write(dir.path(), "only.json", &json!({"latency": [1, 2, 3]}));
    let out = judge_files(&config, &only_latency, &only_latency, None).unwrap();
    assert_eq!(
        out["results"][1]["classification"], "Pass",
        "nanStrategy replace passes without data"
    );
}

#[test]
fn errors_name_the_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "config.json", &config());
    let good = write(dir.path(), "good.json", &json!({"latency": [1, 2]}));

    let unknown = write(dir.path(), "unknown.json", &json!({"latencyy": [1]}));
    let err = judge_files(&config, &unknown, &good, None).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("unknown.json") && text.contains("\"latencyy\""),
        "{text}"
    );

    let wrong_type = write(dir.path(), "wrong.json", &json!({"latency": [1, "two"]}));
    let text = judge_files(&config, &good, &wrong_type, None)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("wrong.json") && text.contains("\"latency\"[1]"),
        "{text}"
    );

    let not_object = write(dir.path(), "list.json", &json!([1, 2]));
    let text = judge_files(&config, &not_object, &good, None)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("list.json") && text.contains("expected an object"),
        "{text}"
    );

    let dup = write(
        dir.path(),
        "dup.json",
        &json!({"name": "d", "metrics": [{"name": "a"}, {"name": "a"}]}),
    );
    let text = judge_files(&dup, &good, &good, None)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("dup.json") && text.contains("metrics[1].name"),
        "{text}"
    );

    let bad_json = dir.path().join("broken.json");
    std::fs::write(&bad_json, "{\"latency\": [1,").unwrap();
    let text = judge_files(&config, &bad_json, &good, None)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("broken.json") && text.contains("invalid JSON"),
        "{text}"
    );

    let missing = dir.path().join("absent.json");
    let err = judge_files(&config, &missing, &good, None).unwrap_err();
    assert!(matches!(err, CliError::Read { .. }) && err.to_string().contains("absent.json"));

    let err = judge_files(&config, &good, &good, Some((80.0, 60.0))).unwrap_err();
    assert!(matches!(err, CliError::Thresholds { .. }), "{err}");
}
