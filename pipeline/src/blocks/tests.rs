//! Tests of the block catalogue and its codecs, on hand-written blocks and on the shared corpus.

use std::collections::HashSet;
use std::path::PathBuf;

use serde_json::{Map, Value as Json, json};

use super::pipeline::{
    HclStep, PipelineBlocks, TypedBlock, UnmanagedTrigger, decode_pipeline, encode_pipeline,
    hcl_path, unmanaged_triggers,
};
use super::*;
use crate::validate::JsonPath;

fn obj(v: Json) -> Map<String, Json> {
    match v {
        Json::Object(m) => m,
        _ => Map::new(),
    }
}

fn stage(name: &str) -> &'static BlockSpec {
    stages()
        .iter()
        .find(|b| b.name == name)
        .expect("stage block exists")
}

#[test]
fn catalogue_names_are_unique_and_described() {
    let mut names = HashSet::new();
    for b in triggers().iter().chain(stages()) {
        assert!(names.insert(b.name), "duplicate block {}", b.name);
        let mut attrs = HashSet::new();
        for a in &b.attributes {
            assert!(attrs.insert(a.name), "{}.{} twice", b.name, a.name);
            assert!(!a.description.trim().is_empty(), "{}.{}", b.name, a.name);
        }
        for n in &b.blocks {
            assert!(
                attrs.insert(n.block.name),
                "{}.{} twice",
                b.name,
                n.block.name
            );
        }
    }
    for t in crate::stage_types::modelled_non_infrastructure() {
        assert!(
            stage_for_type(t).is_some(),
            "no block for modelled type {t}"
        );
    }
    for b in stages() {
        if let Some(t) = b.json_type {
            assert!(!crate::stage_types::is_infrastructure(t), "{t}");
        }
    }
}

#[test]
fn wait_stage_keeps_unknown_fields_and_live_representation() {
    let spec = stage("wait_stage");
    let live = obj(json!({
        "refId": 1, "requisiteStageRefIds": [], "type": "wait", "name": "Wait",
        "waitTime": 30, "isNew": true, "extra": {"a": 1}
    }));
    let mut v = decode(spec, &live).unwrap();
    assert_eq!(v.get("ref_id"), &json!("1"));
    assert_eq!(v.get("depends_on"), &Json::Null);
    assert_eq!(v.get("wait_time"), &json!("30"));
    // Unchanged value: identical JSON, numeric refId and empty list kept.
    assert_eq!(encode(spec, &v, Some(&live)), live);
    v.set("wait_time", json!("45"));
    v.set("comments", json!("hi"));
    let out = encode(spec, &v, Some(&live));
    assert_eq!(out["waitTime"], json!(45));
    assert_eq!(out["comments"], json!("hi"));
    assert_eq!(out["isNew"], json!(true));
    assert_eq!(out["extra"], json!({"a": 1}));
    assert_eq!(out["refId"], json!(1));
    // Null removes the modelled field.
    v.set("wait_time", Json::Null);
    assert!(!encode(spec, &v, Some(&live)).contains_key("waitTime"));
    v.set("wait_time", json!("${trigger.parameters.delay}"));
    assert_eq!(
        encode(spec, &v, None)["waitTime"],
        json!("${trigger.parameters.delay}")
    );
}

#[test]
fn common_options_map_to_their_json_shapes() {
    let spec = stage("manual_judgment_stage");
    let mut v = decode(spec, &Map::new()).unwrap();
    v.set("ref_id", json!("2"));
    v.set("name", json!("Approve"));
    v.set("judgment_inputs", json!(["deploy", "rollback"]));
    v.set("stage_enabled_expression", json!("#judgment('x') == 'y'"));
    v.set("stage_timeout_ms", json!(60000));
    v.set("depends_on", json!(["1"]));
    let mut window = decode(
        &spec
            .nested_block("restricted_execution_window")
            .unwrap()
            .block,
        &Map::new(),
    )
    .unwrap();
    window.set("days", json!([2, 3]));
    v.blocks
        .insert("restricted_execution_window".into(), vec![window]);
    let out = encode(spec, &v, None);
    assert_eq!(out["type"], json!("manualJudgment"));
    assert_eq!(
        out["judgmentInputs"],
        json!([{"value": "deploy"}, {"value": "rollback"}])
    );
    assert_eq!(
        out["stageEnabled"],
        json!({"type": "expression", "expression": "#judgment('x') == 'y'"})
    );
    assert_eq!(out["stageTimeoutMs"], json!(60000));
    assert_eq!(out["overrideTimeout"], json!(true));
    assert_eq!(out["requisiteStageRefIds"], json!(["1"]));
    assert_eq!(out["restrictExecutionDuringTimeWindow"], json!(true));
    assert_eq!(out["restrictedExecutionWindow"], json!({"days": [2, 3]}));
    // decode ∘ encode is the identity on modelled fields.
    assert_eq!(decode(spec, &out).unwrap(), v);
    // Removing the options removes their JSON.
    let mut cleared = v.clone();
    cleared.set("stage_enabled_expression", Json::Null);
    cleared.set("stage_timeout_ms", Json::Null);
    cleared
        .blocks
        .insert("restricted_execution_window".into(), Vec::new());
    let out2 = encode(spec, &cleared, Some(&out));
    for k in [
        "stageEnabled",
        "stageTimeoutMs",
        "overrideTimeout",
        "restrictExecutionDuringTimeWindow",
        "restrictedExecutionWindow",
    ] {
        assert!(!out2.contains_key(k), "{k} still in {out2:?}");
    }
}

#[test]
fn canary_numbers_written_as_strings_survive_and_thresholds_decode() {
    let spec = stage("canary_stage");
    let live = obj(json!({
        "type": "kayentaCanary", "refId": "3", "name": "Canary", "requisiteStageRefIds": ["6"],
        "analysisType": "realTime",
        "canaryConfig": {"canaryConfigId": "abc", "scoreThresholds": {"marginal": "75", "pass": "95"},
            "lifetimeDuration": "PT0H3M", "scopes": [{"scopeName": "default", "controlScope": "b",
            "experimentScope": "c", "extendedScopeParams": {}}], "siteLocal": {"k": 1}}
    }));
    let v = decode(spec, &live).unwrap();
    assert_eq!(v.get("pass_score"), &json!(95));
    assert_eq!(v.get("marginal_score"), &json!(75));
    assert_eq!(v.nested("scope").len(), 1);
    assert_eq!(encode(spec, &v, Some(&live)), live);
    let mut changed = v.clone();
    changed.set("pass_score", json!(90));
    let out = encode(spec, &changed, Some(&live));
    assert_eq!(
        out["canaryConfig"]["scoreThresholds"],
        json!({"marginal": "75", "pass": 90})
    );
    assert_eq!(out["canaryConfig"]["siteLocal"], json!({"k": 1}));
}

#[test]
fn custom_stage_json_holds_the_unmodelled_fields() {
    let spec = custom_stage();
    let live = obj(
        json!({"type": "script", "refId": "1", "name": "S", "command": "ls", "failPipeline": false}),
    );
    let v = decode(spec, &live).unwrap();
    assert_eq!(v.get("type"), &json!("script"));
    assert_eq!(v.get("json"), &json!({"command": "ls"}));
    assert_eq!(v.get("fail_pipeline"), &json!(false));
    assert_eq!(encode(spec, &v, Some(&live)), live);
    let mut changed = v.clone();
    changed.set("json", json!({"command": "pwd", "user": "x"}));
    let out = encode(spec, &changed, Some(&live));
    assert_eq!(out["command"], json!("pwd"));
    assert_eq!(out["user"], json!("x"));
    assert_eq!(out["failPipeline"], json!(false));
}

fn typed(name: &str, attrs: Json) -> TypedBlock {
    let spec = block_by_name(name).expect("block");
    let mut value = decode(spec, &Map::new()).unwrap();
    for (k, v) in obj(attrs) {
        value.set(&k, v);
    }
    TypedBlock { spec, value }
}

#[test]
fn pipeline_merge_keeps_infrastructure_and_drops_undeclared_stages() {
    let live = obj(json!({
        "id": "p1", "application": "app", "name": "p", "updateTs": "1", "keepMe": 1,
        "triggers": [
            {"type": "cron", "id": "cron-id", "cronExpression": "0 0 * * * ?", "enabled": true},
            {"type": "manual", "user": "x"}
        ],
        "stages": [
            {"refId": "deploy1", "type": "deploy", "name": "Deploy", "clusters": []},
            {"refId": "w", "type": "wait", "name": "Wait", "waitTime": 5, "uiAdded": true},
            {"refId": "old", "type": "wait", "name": "Old", "waitTime": 1}
        ],
        "parameterConfig": [{"name": "b", "extra": 1}, {"name": "a", "extra": 2}]
    }));
    let mut top = decode(pipeline_block(), &live).unwrap();
    let params = top.blocks.get("parameter").cloned().unwrap_or_default();
    top.blocks
        .insert("parameter".into(), params.into_iter().rev().collect());
    let blocks = PipelineBlocks {
        top,
        triggers: vec![typed(
            "cron_trigger",
            json!({"cron_expression": "0 5 * * * ?", "enabled": true}),
        )],
        stages: vec![
            typed(
                "wait_stage",
                json!({"ref_id": "next", "name": "Next", "depends_on": ["w", "deploy1"]}),
            ),
            typed(
                "wait_stage",
                json!({"ref_id": "w", "name": "Wait", "wait_time": "10"}),
            ),
            typed("wait_stage", json!({"ref_id": "first", "name": "First"})),
        ],
    };
    let enc = encode_pipeline(&blocks, Some(&live));
    let out = &enc.json;
    assert_eq!(out["keepMe"], json!(1));
    assert_eq!(out["triggers"][0]["id"], json!("cron-id"));
    assert_eq!(out["triggers"][0]["cronExpression"], json!("0 5 * * * ?"));
    assert_eq!(out["triggers"][1]["type"], json!("manual"));
    let refs: Vec<&str> = out["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["refId"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["deploy1", "w", "next", "first"]);
    assert_eq!(out["stages"][1]["uiAdded"], json!(true));
    assert_eq!(out["stages"][1]["waitTime"], json!(10));
    assert_eq!(
        out["parameterConfig"],
        json!([{"name": "a", "extra": 2}, {"name": "b", "extra": 1}])
    );
    assert_eq!(enc.stage_origin, vec![None, Some(1), Some(0), Some(2)]);

    let path = JsonPath::root()
        .key("stages")
        .index(2)
        .key("requisiteStageRefIds")
        .index(0);
    assert_eq!(
        hcl_path(&enc, &blocks, &path),
        Some(vec![
            HclStep::Name("wait_stage".into()),
            HclStep::Index(0),
            HclStep::Name("depends_on".into())
        ])
    );
    assert_eq!(
        hcl_path(
            &enc,
            &blocks,
            &JsonPath::root().key("stages").index(0).key("type")
        ),
        None
    );

    let decoded = decode_pipeline(out).unwrap();
    assert_eq!(decoded.unmanaged_stages.len(), 1);
    assert_eq!(decoded.unmanaged_stages[0].ref_id, "deploy1");
    assert_eq!(decoded.unmodelled_triggers.len(), 1);
    assert_eq!(decoded.blocks.stages.len(), 3);
}

#[test]
fn triggers_without_a_block_are_kept_in_place_and_listed() {
    let live = obj(json!({
        "application": "app", "name": "p",
        "triggers": [
            {"type": "artifactory", "enabled": true, "artifactorySearchName": "libs"},
            {"type": "webhook", "source": "old", "enabled": true},
            {"type": "helm", "enabled": "false", "chart": "shop"},
            {"type": "concourse"}
        ],
        "stages": []
    }));
    let listed = unmanaged_triggers(&live);
    assert_eq!(
        listed,
        [
            UnmanagedTrigger {
                trigger_type: "artifactory".into(),
                enabled: Some(true)
            },
            UnmanagedTrigger {
                trigger_type: "helm".into(),
                enabled: Some(false)
            },
            UnmanagedTrigger {
                trigger_type: "concourse".into(),
                enabled: None
            },
        ]
    );
    // The webhook trigger is removed from HCL; the others stay byte for byte.
    let enc = encode_pipeline(&PipelineBlocks::default(), Some(&live));
    let kept: Vec<&Json> = enc.json["triggers"].as_array().unwrap().iter().collect();
    assert_eq!(kept.len(), 3);
    assert_eq!(*kept[0], live["triggers"][0]);
    assert_eq!(*kept[1], live["triggers"][2]);
    assert_eq!(*kept[2], live["triggers"][3]);
    assert_eq!(unmanaged_triggers(&enc.json), listed);
    assert!(unmanaged_triggers(&obj(json!({"name": "p"}))).is_empty());
}

fn corpus_files() -> Option<Vec<PathBuf>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/pipelines");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skip: corpus not found at {}", dir.display());
        return None;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Some(files)
}

#[test]
fn every_corpus_stage_and_trigger_round_trips() {
    let Some(files) = corpus_files() else { return };
    let mut typed_stages = 0;
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        for p in crate::model::parse_pipelines(&bytes).unwrap() {
            let raw = p.raw();
            for s in raw
                .get("stages")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                let Some(s) = s.as_object() else { continue };
                let kind = s.get("type").and_then(Json::as_str).unwrap_or_default();
                let Some(spec) = stage_for_type(kind) else {
                    continue;
                };
                let v = decode(spec, s).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                assert_eq!(&encode(spec, &v, Some(s)), s, "{} {kind}", file.display());
                let fresh = encode(spec, &v, None);
                assert_eq!(
                    decode(spec, &fresh).unwrap(),
                    v,
                    "{} {kind}",
                    file.display()
                );
                typed_stages += 1;
            }
            let decoded =
                decode_pipeline(raw).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            for t in &decoded.blocks.triggers {
                let fresh = encode(t.spec, &t.value, None);
                assert_eq!(
                    decode(t.spec, &fresh).unwrap(),
                    t.value,
                    "{}",
                    file.display()
                );
            }
            // The whole pipeline re-encodes onto itself unchanged.
            let enc = encode_pipeline(&decoded.blocks, Some(raw));
            let mut expected = raw.clone();
            if !expected.contains_key("triggers") {
                expected.remove("triggers");
            }
            assert_eq!(
                normalise(&enc.json),
                normalise(&expected),
                "{}",
                file.display()
            );
        }
    }
    assert!(
        typed_stages > 10,
        "only {typed_stages} typed stages in the corpus"
    );
}

/// Key order is not part of the comparison; stage order is.
fn normalise(m: &Map<String, Json>) -> Json {
    let mut v = Json::Object(m.clone());
    v.sort_all_objects();
    if let Some(obj) = v.as_object_mut() {
        obj.entry("stages").or_insert(json!([]));
    }
    v
}
