//! Tests of the lossless pipeline model: parsing quirks, accessors, diff normalisation.

use super::*;
use serde_json::json;

#[test]
fn parses_object_and_array() {
    let one = parse_pipelines(br#"{"name":"a","stages":[]}"#).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].name(), Some("a"));
    assert!(one[0].stages().is_empty());
    let many = parse_pipelines(br#"[{"name":"a"},{"name":"b"}]"#).unwrap();
    assert_eq!(
        many.iter().map(|p| p.name()).collect::<Vec<_>>(),
        [Some("a"), Some("b")]
    );
}

#[test]
fn duplicate_keys_last_wins_and_tabs_are_fine() {
    let p = parse_pipelines(b"{\n\t\"name\": \"first\",\n\t\"name\": \"second\"\n}").unwrap();
    assert_eq!(p[0].name(), Some("second"));
    assert_eq!(p[0].application(), None);
}

#[test]
fn keeps_unknown_fields_and_order() {
    let src = r#"{"zeta":1,"name":"p","alpha":{"x":[1,2]},"stages":[{"refId":1,"type":"wait","custom":"kept"}]}"#;
    let p = &parse_pipelines(src.as_bytes()).unwrap()[0];
    assert_eq!(serde_json::to_string(p.raw()).unwrap(), src);
    let stage = p.stages()[0];
    assert_eq!(stage.get("custom"), Some(&json!("kept")));
    assert_eq!(p.stage_by_ref_id("1").map(|s| s.index()), Some(0));
    assert!(p.stage_by_ref_id("2").is_none());
}

#[test]
fn numeric_ref_ids_read_as_strings() {
    let p =
        &parse_pipelines(br#"{"stages":[{"refId":1},{"refId":"2","requisiteStageRefIds":[1]}]}"#)
            .unwrap()[0];
    let stages = p.stages();
    assert_eq!(stages[0].ref_id().as_deref(), Some("1"));
    assert_eq!(stages[1].requisite_stage_ref_ids(), ["1"]);
    assert!(stages[0].requisite_stage_ref_ids().is_empty());
}

#[test]
fn json_error_names_file_line_and_column() {
    let err = parse_pipelines_named("p.json", b"{\n  \"name\": ,\n}").unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("p.json: line 2 column 11: invalid JSON"),
        "{msg}"
    );
    assert!(!msg.contains(" at line"), "{msg}");
}

#[test]
fn non_object_is_rejected_with_location() {
    let err = parse_pipelines_named("x.json", b"[{}, 3]").unwrap_err();
    assert_eq!(
        err.to_string(),
        "x.json: element [1] is a number, expected a pipeline object (or an array of them)"
    );
    let err = parse_pipelines(b"\"s\"").unwrap_err();
    assert_eq!(
        err.to_string(),
        "is a string, expected a pipeline object (or an array of them)"
    );
}

#[test]
fn serde_is_the_bare_object() {
    let v = json!({"name": "p", "stages": [{"refId": 1, "x": null}]});
    let p: Pipeline = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(serde_json::to_value(&p).unwrap(), v);
    assert!(serde_json::from_value::<Pipeline>(json!([1])).is_err());
}

#[test]
fn typed_accessors_follow_spinnaker_defaults() {
    let p = Pipeline::from_map(
        json!({"limitConcurrent": "true", "maxConcurrentExecutions": 3, "triggers":[{"type":"cron","enabled":"false"}],
                "parameterConfig":[{"name":"env","default":null}],"stages":[{"failPipeline":false}]})
        .as_object()
        .unwrap()
        .clone(),
    );
    assert!(p.limit_concurrent());
    assert!(!p.keep_waiting_pipelines());
    assert_eq!(p.max_concurrent_executions(), 3);
    assert!(!p.triggers()[0].enabled());
    assert_eq!(p.parameter_config()[0].default_value(), None);
    assert!(!p.stages()[0].fail_pipeline());
    assert!(p.notifications().is_empty());
}

#[test]
fn normalize_for_diff_ignores_server_fields_order_and_ref_id_types() {
    let live = json!({"name":"p","updateTs":"123","index":2,"lastModifiedBy":"bob",
        "triggers":[{"type":"cron","id":"abc","cronExpression":"0 0 * * * ?"}],
        "stages":[{"refId":"2","requisiteStageRefIds":["1"]},{"refId":"1"}]});
    let desired = json!({"name":"p",
        "triggers":[{"type":"cron","cronExpression":"0 0 * * * ?"}],
        "stages":[{"refId":1,"requisiteStageRefIds":[]},{"refId":2,"requisiteStageRefIds":[1]}]});
    assert_eq!(normalize_for_diff(&live), normalize_for_diff(&desired));
    let other = json!({"name":"p","stages":[{"refId":1},{"refId":2,"requisiteStageRefIds":[]}]});
    assert_ne!(normalize_for_diff(&live), normalize_for_diff(&other));
}

proptest::proptest! {
    #[test]
    fn normalize_for_diff_is_idempotent(ids in proptest::collection::vec((0u8..20, proptest::bool::ANY), 0..8), ts in "[0-9]{0,5}") {
        let stages: Vec<Value> = ids.iter().enumerate().map(|(i, (id, numeric))| {
            let rid = if *numeric { json!(id) } else { json!(id.to_string()) };
            if i % 2 == 0 { json!({"refId": rid, "requisiteStageRefIds": [i]}) } else { json!({"refId": rid}) }
        }).collect();
        let v = json!({"updateTs": ts, "stages": stages});
        let once = normalize_for_diff(&v);
        proptest::prop_assert_eq!(normalize_for_diff(&once), once.clone());
    }
}
