//! `convert`: every corpus pipeline → HCL that `terraform fmt` leaves alone and that reads back
//! (through the same catalogue) to the same declared pipeline.

use std::process::Command;

use companion::hcl::read::read_tf;
use companion::input::Source;
use pipeline::blocks::pipeline::{decode_pipeline, encode_pipeline};
use pipeline::model::{Pipeline, normalize_for_diff, parse_pipelines};
use serde_json::Value;

use super::{corpus, terraform};

/// The corpus file's pipelines with an application and a name, as a user would complete them.
fn completed(path: &std::path::Path) -> Vec<Pipeline> {
    let bytes = std::fs::read(path).expect("read corpus file");
    let mut pipelines = parse_pipelines(&bytes).expect("corpus parses");
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("p")
        .to_owned();
    for (i, p) in pipelines.iter_mut().enumerate() {
        let raw = p.raw_mut();
        if raw
            .get("application")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            raw.insert("application".into(), Value::String("corpus".into()));
        }
        if raw
            .get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            raw.insert("name".into(), Value::String(format!("{stem} {i}")));
        }
    }
    pipelines
}

/// What a pipeline declares: decode to blocks, encode with no live pipeline.
fn declared(pipeline: &Pipeline) -> Value {
    let decoded = decode_pipeline(pipeline.raw()).expect("corpus decodes");
    normalize_for_diff(&Value::Object(encode_pipeline(&decoded.blocks, None).json))
}

#[test]
fn convert_round_trips_every_corpus_pipeline_through_hcl() {
    let Some(files) = corpus(
        "pipelines",
        "convert_round_trips_every_corpus_pipeline_through_hcl",
    ) else {
        return;
    };
    assert!(!files.is_empty());
    let dir = tempfile::tempdir().expect("tempdir");
    for path in &files {
        let pipelines = completed(path);
        let json =
            serde_json::to_string(&pipelines.iter().map(Pipeline::to_value).collect::<Vec<_>>())
                .expect("json");
        let source = Source::from_text(path.display().to_string() + ".json", json);
        let (hcl, notes) = companion::convert::convert(&source, None, None).expect("convert");
        assert!(
            notes.warnings.is_empty(),
            "{}: {:?}",
            path.display(),
            notes.warnings
        );
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("x");
        let tf = dir.path().join(format!("{name}.tf"));
        std::fs::write(&tf, &hcl).expect("write");

        let read = read_tf(&Source::from_text(tf.display().to_string(), hcl.clone()))
            .unwrap_or_else(|e| panic!("{}: {e}\n{hcl}", path.display()));
        assert_eq!(read.len(), pipelines.len(), "{}", path.display());
        for (original, back) in pipelines.iter().zip(&read) {
            assert_eq!(
                normalize_for_diff(&back.pipeline().to_value()),
                declared(original),
                "{}: pipeline {:?} changed through HCL:\n{hcl}",
                path.display(),
                original.name()
            );
        }
    }
    match terraform() {
        Some(tf) => {
            let out = Command::new(tf)
                .args(["fmt", "-check", "-diff", "-no-color"])
                .arg(dir.path())
                .env("TF_CLI_CONFIG_FILE", "/dev/null")
                .env("CHECKPOINT_DISABLE", "1")
                .output()
                .expect("terraform fmt");
            assert!(
                out.status.success(),
                "terraform fmt would change the output:\n{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        None => eprintln!("convert: no terraform on PATH; skipping the terraform fmt check"),
    }
}

#[test]
fn expressions_survive_as_escaped_templates() {
    let source = Source::from_text(
        "spel.json",
        r#"{"application":"shop","name":"SpEL","stages":[{"refId":"1","type":"wait","name":"w","waitTime":"${parameters.wait}","stageEnabled":{"type":"expression","expression":"${trigger['x'] == 'y'}"}}]}"#,
    );
    let (hcl, _) = companion::convert::convert(&source, None, None).expect("convert");
    assert!(hcl.contains("\"$${parameters.wait}\""), "{hcl}");
    let back = read_tf(&Source::from_text("spel.tf", hcl)).expect("read");
    let stage = &back[0].pipeline().to_value()["stages"][0];
    assert_eq!(stage["waitTime"], "${parameters.wait}");
    assert_eq!(
        stage["stageEnabled"]["expression"],
        "${trigger['x'] == 'y'}"
    );
}

#[test]
fn infrastructure_stages_become_a_comment_and_missing_names_an_error() {
    let source = Source::from_text(
        "deploy.json",
        r#"{"application":"shop","name":"Deploy","stages":[
            {"refId":"1","type":"deploy","name":"Deploy prod","clusters":[]},
            {"refId":"2","type":"wait","name":"Soak","waitTime":30,"requisiteStageRefIds":["1"]},
            {"refId":"3","type":"jira","name":"Ticket","requisiteStageRefIds":["2"],"ticket":"OPS-1"}]}"#,
    );
    let (hcl, _) = companion::convert::convert(&source, None, None).expect("convert");
    assert!(
        hcl.contains("#   ref_id \"1\": \"Deploy prod\" (deploy)"),
        "{hcl}"
    );
    assert!(!hcl.contains("clusters"), "{hcl}");
    assert!(hcl.contains("wait_stage {"), "{hcl}");
    assert!(
        hcl.contains("custom_stage {") && hcl.contains("type       = \"jira\""),
        "{hcl}"
    );

    let unnamed = Source::from_text("unnamed.json", r#"{"application":"shop","stages":[]}"#);
    let err = companion::convert::convert(&unnamed, None, None).expect_err("no name");
    assert_eq!(
        err.to_string(),
        "unnamed.json: pipeline [0] has no `name` (Front50 needs one); add it to the JSON or pass --name"
    );
    let (hcl, _) = companion::convert::convert(&unnamed, None, Some("Named")).expect("named");
    assert!(hcl.contains("name        = \"Named\""), "{hcl}");
}

#[test]
fn resource_names_are_snake_case_and_unique() {
    let source = Source::from_text(
        "names.json",
        r#"[{"application":"shop","name":"Deploy to Prod"},{"application":"shop","name":"deploy-to-prod"},{"application":"Shop","name":"Deploy To Prod!"}]"#,
    );
    let (hcl, _) = companion::convert::convert(&source, None, None).expect("convert");
    let names: Vec<&str> = hcl
        .lines()
        .filter_map(|l| l.strip_prefix("resource \"spinnaker_pipeline\" \""))
        .map(|l| l.trim_end_matches("\" {"))
        .collect();
    assert_eq!(
        names,
        [
            "shop_deploy_to_prod",
            "shop_deploy_to_prod_2",
            "shop_deploy_to_prod_3"
        ]
    );
}
