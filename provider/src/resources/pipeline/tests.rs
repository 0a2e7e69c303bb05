//! Unit tests of the `spinnaker_pipeline` schema, plan-time checks and state shaping.

use std::collections::BTreeMap;

use super::*;
use crate::value::Number;

/// A configuration object with every schema field null (blocks as empty lists), then `set`.
fn config(set: &[(&str, Value)]) -> Value {
    let schema = schema();
    let mut m: BTreeMap<String, Value> = BTreeMap::new();
    for a in &schema.block.attributes {
        m.insert(a.name.to_owned(), Value::Null);
    }
    for b in &schema.block.blocks {
        let empty = match b.nesting {
            crate::schema::Nesting::Single => Value::Null,
            _ => Value::List(Vec::new()),
        };
        m.insert(b.name.to_owned(), empty);
    }
    for (k, v) in set {
        m.insert((*k).to_owned(), v.clone());
    }
    Value::Object(m)
}

/// A block object for `block` with every attribute null, then `set`.
fn block(block: &str, set: &[(&str, Value)]) -> Value {
    let spec = blocks::block_by_name(block).expect("block");
    let mut m = convert::block_to_value(spec, &BlockValue::default());
    for (k, v) in set {
        m.insert((*k).to_owned(), v.clone());
    }
    Value::Object(m)
}

fn s(v: &str) -> Value {
    Value::string(v)
}

fn base() -> Vec<(&'static str, Value)> {
    vec![("application", s("shop")), ("name", s("deploy"))]
}

#[test]
fn schema_has_every_block_and_computed_attribute() {
    let sc = schema();
    for name in [
        "id",
        "update_ts",
        "json",
        "unmanaged_stages",
        "unmanaged_triggers",
        "application",
        "name",
    ] {
        assert!(sc.block.get(name).is_some(), "{name}");
    }
    for b in [
        "wait_stage",
        "custom_stage",
        "cron_trigger",
        "parameter",
        "locked",
    ] {
        assert!(sc.block.blocks.iter().any(|n| n.name == b), "{b}");
    }
    assert!(sc.block.missing_descriptions("").is_empty());
}

#[test]
fn computed_attributes_are_the_catalogue_list_tools_skip() {
    // The CLI's configuration reader and plan review skip exactly these.
    let computed: Vec<&str> = schema()
        .block
        .attributes
        .iter()
        .filter(|a| a.mode == crate::schema::Mode::Computed)
        .map(|a| a.name)
        .collect();
    assert_eq!(computed, pipeline::blocks::COMPUTED_ATTRIBUTES);
}

#[test]
fn infrastructure_type_in_custom_stage_fails_with_the_attribute_path() {
    let mut c = base();
    c.push((
        "custom_stage",
        Value::List(vec![block(
            "custom_stage",
            &[
                ("ref_id", s("1")),
                ("name", s("Deploy")),
                ("type", s("deploy")),
            ],
        )]),
    ));
    let mut d = Diagnostics::new();
    PipelineResource.validate(&config(&c), &mut d);
    let err =
        d.0.iter()
            .find(|x| x.summary == "Infrastructure Stage Not Allowed")
            .expect("error");
    assert_eq!(
        err.path.as_ref().map(ToString::to_string).as_deref(),
        Some("custom_stage[0].type")
    );
    assert!(
        err.detail.contains("belong to Terraform resources"),
        "{}",
        err.detail
    );
}

#[test]
fn model_rules_report_hcl_paths() {
    let mut c = base();
    c.push((
        "wait_stage",
        Value::List(vec![
            block(
                "wait_stage",
                &[
                    ("ref_id", s("a")),
                    ("name", s("A")),
                    ("depends_on", Value::List(vec![s("b")])),
                ],
            ),
            block(
                "wait_stage",
                &[
                    ("ref_id", s("b")),
                    ("name", s("B")),
                    ("depends_on", Value::List(vec![s("a")])),
                ],
            ),
        ]),
    ));
    c.push((
        "cron_trigger",
        Value::List(vec![block(
            "cron_trigger",
            &[
                ("cron_expression", s("not cron")),
                ("enabled", Value::Bool(true)),
            ],
        )]),
    ));
    c.push((
        "canary_stage",
        Value::List(vec![block(
            "canary_stage",
            &[
                ("ref_id", s("c")),
                ("name", s("C")),
                ("canary_config_id", s("x")),
                ("pass_score", Value::Number(Number::from(40))),
                ("marginal_score", Value::Number(Number::from(60))),
            ],
        )]),
    ));
    let mut d = Diagnostics::new();
    PipelineResource.validate(&config(&c), &mut d);
    let paths: Vec<String> =
        d.0.iter()
            .filter_map(|x| x.path.as_ref().map(ToString::to_string))
            .collect();
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("wait_stage[") && p.ends_with("depends_on")),
        "{d}"
    );
    assert!(
        paths.contains(&"cron_trigger[0].cron_expression".to_owned()),
        "{d}"
    );
    assert!(
        paths.iter().any(|p| p.starts_with("canary_stage[0].")),
        "{d}"
    );
}

#[test]
fn unknown_values_do_not_cause_errors() {
    let mut c = base();
    c.push((
        "wait_stage",
        Value::List(vec![block(
            "wait_stage",
            &[("ref_id", Value::Unknown), ("name", s("A"))],
        )]),
    ));
    c.push((
        "pipeline_trigger",
        Value::List(vec![block(
            "pipeline_trigger",
            &[
                ("application", s("shop")),
                ("pipeline_name", s("build")),
                ("enabled", Value::Bool(true)),
            ],
        )]),
    ));
    let mut d = Diagnostics::new();
    PipelineResource.validate(&config(&c), &mut d);
    assert!(!d.has_errors(), "{d}");
}

#[test]
fn bad_json_text_is_reported_on_its_attribute() {
    let mut c = base();
    c.push(("expected_artifacts", s("[{")));
    let mut d = Diagnostics::new();
    PipelineResource.validate(&config(&c), &mut d);
    assert_eq!(
        d.0.first()
            .and_then(|x| x.path.as_ref())
            .map(ToString::to_string)
            .as_deref(),
        Some("expected_artifacts")
    );
}

#[test]
fn depends_on_may_name_unmanaged_stages_of_the_prior_state() {
    let judge = |parent: &str| {
        block(
            "manual_judgment_stage",
            &[
                ("ref_id", s("judge")),
                ("name", s("Judge")),
                ("depends_on", Value::List(vec![s(parent)])),
            ],
        )
    };
    let mut prior = base();
    prior.push((
        "unmanaged_stages",
        Value::List(vec![Value::Object(BTreeMap::from([
            ("ref_id".to_owned(), s("deploy")),
            ("type".to_owned(), s("deploy")),
            ("name".to_owned(), s("Deploy")),
        ]))]),
    ));
    let prior = config(&prior);
    let mut ok = base();
    ok.push(("manual_judgment_stage", Value::List(vec![judge("deploy")])));
    let ok = config(&ok);
    let mut d = Diagnostics::new();
    PipelineResource.validate(&ok, &mut d);
    PipelineResource.check_plan(&prior, &ok, &ok, &mut d);
    assert!(!d.has_errors(), "{d}");

    let mut bad = base();
    bad.push(("manual_judgment_stage", Value::List(vec![judge("nope")])));
    let bad = config(&bad);
    let mut d = Diagnostics::new();
    PipelineResource.check_plan(&prior, &bad, &bad, &mut d);
    assert_eq!(
        d.0.first()
            .and_then(|x| x.path.as_ref())
            .map(ToString::to_string)
            .as_deref(),
        Some("manual_judgment_stage[0].depends_on"),
        "{d}"
    );
}

/// A live pipeline read into state, shaped by `prior` (no upstream blocks, so no Gate call).
fn read_back(live: serde_json::Value, prior: &Value) -> Value {
    let live = live.as_object().cloned().expect("object");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = gate::Client::new(gate::Config::new(
        url::Url::parse("http://127.0.0.1:9").expect("url"),
    ))
    .expect("client");
    let ctx = Ctx::new(
        std::sync::Arc::new(client),
        tokio_util::sync::CancellationToken::new(),
        serde_json::Map::new(),
    );
    rt.block_on(state_from_live(&ctx, &live, prior))
        .expect("state")
}

fn stage_attr<'a>(state: &'a Value, block: &str, ref_id: &str, attr: &str) -> &'a Value {
    state
        .attr(block)
        .and_then(Value::as_elements)
        .unwrap_or_default()
        .iter()
        .find(|s| s.attr("ref_id").and_then(Value::as_str) == Some(ref_id))
        .and_then(|s| s.attr(attr))
        .expect("stage attribute")
}

#[test]
fn empty_values_in_config_read_back_empty_and_removed_values_show_as_drift() {
    let empty = || Value::List(Vec::new());
    let judge = |ref_id: &str, roles: Value| {
        block(
            "manual_judgment_stage",
            &[
                ("ref_id", s(ref_id)),
                ("name", s(ref_id)),
                ("required_judgment_roles", roles),
                ("judgment_inputs", empty()),
                ("depends_on", empty()),
            ],
        )
    };
    let mut prior = base();
    prior.push(("description", s("")));
    prior.push(("expected_artifacts", s("[]")));
    prior.push((
        "manual_judgment_stage",
        Value::List(vec![
            judge("a", empty()),
            judge("b", Value::List(vec![s("ops")])),
        ]),
    ));
    prior.push((
        "webhook_trigger",
        Value::List(vec![block(
            "webhook_trigger",
            &[
                ("source", s("shop")),
                ("payload_constraints", Value::Map(BTreeMap::new())),
            ],
        )]),
    ));
    let prior = config(&prior);
    // What apply wrote for that configuration, after someone removed b's roles in Deck and
    // the stages swapped places.
    let live = serde_json::json!({
        "id": "p1", "application": "shop", "name": "deploy", "description": "",
        "expectedArtifacts": [], "updateTs": "1",
        "triggers": [{"type": "webhook", "source": "shop", "payloadConstraints": {}}],
        "stages": [
            {"refId": "b", "type": "manualJudgment", "name": "b", "requisiteStageRefIds": [],
             "judgmentInputs": []},
            {"refId": "a", "type": "manualJudgment", "name": "a", "requisiteStageRefIds": [],
             "requiredJudgmentRoles": [], "judgmentInputs": []}
        ]
    });
    let state = read_back(live, &prior);
    assert_eq!(state.attr("description"), Some(&s("")));
    assert_eq!(state.attr("expected_artifacts"), Some(&s("[]")));
    for attr in ["required_judgment_roles", "judgment_inputs", "depends_on"] {
        assert_eq!(
            stage_attr(&state, "manual_judgment_stage", "a", attr),
            &empty(),
            "{attr}"
        );
    }
    assert_eq!(
        stage_attr(
            &state,
            "manual_judgment_stage",
            "b",
            "required_judgment_roles"
        ),
        &Value::Null,
        "a value removed in Spinnaker must show as drift"
    );
    let trigger = state
        .attr("webhook_trigger")
        .and_then(Value::as_elements)
        .and_then(|t| t.first())
        .expect("trigger");
    assert_eq!(
        trigger.attr("payload_constraints"),
        Some(&Value::Map(BTreeMap::new()))
    );

    // Without a prior state (import), absent and empty fields read as null.
    let state = read_back(
        serde_json::json!({"id": "p1", "application": "shop", "name": "deploy",
            "stages": [{"refId": "a", "type": "manualJudgment", "name": "a", "requiredJudgmentRoles": []}]}),
        &config(&base()),
    );
    assert_eq!(
        stage_attr(
            &state,
            "manual_judgment_stage",
            "a",
            "required_judgment_roles"
        ),
        &Value::Null
    );
}

#[test]
fn triggers_without_a_block_are_listed_not_declared() {
    let state = read_back(
        serde_json::json!({"id": "p1", "application": "shop", "name": "deploy", "updateTs": "1",
            "triggers": [
                {"type": "artifactory", "enabled": true, "artifactorySearchName": "libs"},
                {"type": "webhook", "enabled": true, "source": "shop"},
                {"type": "helm", "enabled": false}
            ],
            "stages": []}),
        &config(&base()),
    );
    let entry = |t: &str, enabled: bool| {
        Value::Object(BTreeMap::from([
            ("type".to_owned(), s(t)),
            ("enabled".to_owned(), Value::Bool(enabled)),
        ]))
    };
    assert_eq!(
        state.attr("unmanaged_triggers"),
        Some(&Value::List(vec![
            entry("artifactory", true),
            entry("helm", false)
        ]))
    );
    assert_eq!(
        state
            .attr("webhook_trigger")
            .and_then(Value::as_elements)
            .map(<[Value]>::len),
        Some(1)
    );
    // A create lists them from what was stored.
    let planned = {
        let mut c = base();
        c.push(("unmanaged_triggers", Value::Unknown));
        config(&c)
    };
    let stored = serde_json::json!({"triggers": [{"type": "concourse", "enabled": true}]});
    let out = applied(
        &planned,
        "p1",
        &serde_json::Map::new(),
        stored.as_object().expect("object"),
    );
    assert_eq!(
        out.attr("unmanaged_triggers"),
        Some(&Value::List(vec![entry("concourse", true)]))
    );
}

#[test]
fn naming_the_upstream_by_id_and_by_name_fails_with_the_attribute_path() {
    let mut c = base();
    c.push((
        "pipeline_stage",
        Value::List(vec![block(
            "pipeline_stage",
            &[
                ("ref_id", s("child")),
                ("name", s("Child")),
                ("application", s("shop")),
                ("pipeline", s("0b6f1b2e-0000-4000-8000-000000000000")),
                ("pipeline_name", s("build")),
            ],
        )]),
    ));
    let mut d = Diagnostics::new();
    PipelineResource.validate(&config(&c), &mut d);
    let err =
        d.0.iter()
            .find(|x| x.summary == "Conflicting Pipeline Reference")
            .expect("conflict reported");
    assert_eq!(
        err.path.as_ref().map(ToString::to_string).as_deref(),
        Some("pipeline_stage[0].pipeline_name")
    );
}
