//! Upstream pipeline references of `pipeline_trigger` and `pipeline_stage`: a pipeline is named
//! by `pipeline` (its id) or by `pipeline_name` (resolved to the id at apply). Both attributes
//! are optional and computed, so the state carries both; this module keeps the computed one
//! honest: unknown in the plan when the configured one changed, filled at apply from what was
//! resolved, and read back from the live id.

use pipeline::blocks::BlockValue;
use pipeline::blocks::pipeline::PipelineBlocks;
use serde_json::Value as Json;

use super::{find_live, json_str, nth_of_type, prior_match};
use crate::diag::{AttributePath, Diagnostics};
use crate::resource::{Ctx, ResourceError};
use crate::value::Value;

/// The blocks that name an upstream pipeline by id or by name.
pub(super) const UPSTREAM_BLOCKS: &[&str] = &["pipeline_trigger", "pipeline_stage"];

/// Resolves upstream pipelines named by `pipeline_name` to their ids. Both `pipeline` and
/// `pipeline_name` are optional and computed, so the planned value carries the one the user
/// set and the prior value of the other: the name is used when there is no id, or when the
/// name is what changed since the prior state.
pub(super) async fn resolve_upstreams(
    ctx: &Ctx,
    blocks: &mut PipelineBlocks,
    prior: Option<&PipelineBlocks>,
) -> Result<(), ResourceError> {
    let mut diags = Diagnostics::new();
    for stages in [false, true] {
        let list = if stages {
            &blocks.stages
        } else {
            &blocks.triggers
        };
        let mut resolved = Vec::new();
        for (i, b) in list.iter().enumerate() {
            if !UPSTREAM_BLOCKS.contains(&b.spec.name) {
                continue;
            }
            let (Some(app), Some(name)) =
                (b.value.str("application"), b.value.str("pipeline_name"))
            else {
                continue;
            };
            let name_changed = prior
                .and_then(|p| prior_match(p, list, i, stages))
                .is_none_or(|p| p.value.get("pipeline_name") != b.value.get("pipeline_name"));
            if b.value.str("pipeline").is_some() && !name_changed {
                continue;
            }
            match find_live(ctx, app, None, Some(name)).await? {
                Some(up) if json_str(&up, "id").is_some() => {
                    resolved.push((i, json_str(&up, "id").unwrap_or_default().to_owned()));
                }
                _ => {
                    let path = AttributePath::root(b.spec.name)
                        .index(nth_of_type(list, i))
                        .attr("pipeline_name");
                    diags.attribute_error(
                        path.clone(),
                        "Upstream Pipeline Not Found",
                        format!(
                            "Attribute {path}: application {app:?} has no pipeline named {name:?}. \
                             Create it first (reference its spinnaker_pipeline resource so Terraform orders the two), or set pipeline to its id."
                        ),
                    );
                }
            }
        }
        let list = if stages {
            &mut blocks.stages
        } else {
            &mut blocks.triggers
        };
        for (i, id) in resolved {
            if let Some(b) = list.get_mut(i) {
                b.value.set("pipeline", Json::String(id));
            }
        }
    }
    if diags.is_empty() {
        Ok(())
    } else {
        Err(ResourceError::Diagnostics(diags))
    }
}

/// Fills `pipeline_name` of a pipeline trigger or stage with the current name of the upstream
/// pipeline its `pipeline` id points at (both are optional and computed, so the configuration
/// may use either).
pub(super) async fn fill_upstream_name(
    ctx: &Ctx,
    value: &mut BlockValue,
) -> Result<(), ResourceError> {
    let name = match (value.str("application"), value.str("pipeline")) {
        (Some(app), Some(id)) => find_live(ctx, app, Some(id), None)
            .await?
            .and_then(|up| json_str(&up, "name").map(str::to_owned)),
        _ => None,
    };
    value.set("pipeline_name", name.map_or(Json::Null, Json::String));
    Ok(())
}

/// The prior block of a planned upstream block: `pipeline_stage` by `ref_id`, `pipeline_trigger`
/// by position among the prior `pipeline_trigger` blocks.
fn prior_block<'a>(prior: &'a Value, block: &str, i: usize, item: &Value) -> Option<&'a Value> {
    let list = prior.attr(block).and_then(Value::as_elements)?;
    match item.attr("ref_id").and_then(Value::as_str) {
        Some(r) => list
            .iter()
            .find(|p| p.attr("ref_id").and_then(Value::as_str) == Some(r)),
        None if block == "pipeline_stage" => None,
        None => list.get(i),
    }
}

/// The planned state with the computed side of each upstream reference marked unknown where
/// the configured side (or the upstream application) differs from the prior state: a changed
/// `pipeline_name` plans `pipeline` unknown (apply resolves it), a changed `pipeline` id plans
/// `pipeline_name` unknown (apply reads it). Where nothing changed the computed side is the
/// prior block's (matched by `ref_id` for stages, so reordered blocks keep their own values;
/// Terraform proposes prior values by position).
pub(super) fn plan_upstream_references(prior: &Value, planned: Value, config: &Value) -> Value {
    let Value::Object(mut top) = planned else {
        return planned;
    };
    for block in UPSTREAM_BLOCKS {
        let Some(Value::List(items)) = top.get_mut(*block) else {
            continue;
        };
        let configured = config
            .attr(block)
            .and_then(Value::as_elements)
            .unwrap_or_default();
        for (i, item) in items.iter_mut().enumerate() {
            let Some(conf) = configured.get(i) else {
                continue;
            };
            let before = prior_block(prior, block, i, item);
            let unchanged = |attr: &str| {
                let now = conf.attr(attr).unwrap_or(&Value::Null);
                !now.contains_unknown()
                    && before.is_some_and(|b| {
                        b.attr(attr) == Some(now)
                            && b.attr("application") == conf.attr("application")
                    })
            };
            let by_name = conf.attr("pipeline_name").is_some_and(|v| !v.is_null());
            let by_id = conf.attr("pipeline").is_some_and(|v| !v.is_null());
            let (configured, computed) = match (by_name, by_id) {
                (true, false) => ("pipeline_name", "pipeline"),
                (false, true) => ("pipeline", "pipeline_name"),
                _ => continue,
            };
            let value = match before {
                Some(b) if unchanged(configured) => {
                    b.attr(computed).cloned().unwrap_or(Value::Null)
                }
                _ => Value::Unknown,
            };
            if let Value::Object(m) = item {
                m.insert(computed.to_owned(), value);
            }
        }
    }
    Value::Object(top)
}

/// Fills what [`plan_upstream_references`] left unknown: `pipeline` with the id resolved for the
/// save, `pipeline_name` with the current name of the pipeline the id names (null when the
/// application has none).
pub(super) async fn fill_planned_upstreams(
    ctx: &Ctx,
    planned: &mut Value,
    blocks: &PipelineBlocks,
) -> Result<(), ResourceError> {
    let Value::Object(top) = planned else {
        return Ok(());
    };
    for block in UPSTREAM_BLOCKS {
        let sent: Vec<&BlockValue> = blocks
            .triggers
            .iter()
            .chain(&blocks.stages)
            .filter(|b| b.spec.name == *block)
            .map(|b| &b.value)
            .collect();
        let Some(Value::List(items)) = top.get_mut(*block) else {
            continue;
        };
        for (item, value) in items.iter_mut().zip(sent) {
            let Value::Object(m) = item else { continue };
            if m.get("pipeline").is_some_and(Value::is_unknown) {
                m.insert("pipeline".to_owned(), text(value.get("pipeline")));
            }
            if m.get("pipeline_name").is_some_and(Value::is_unknown) {
                let mut read = value.clone();
                fill_upstream_name(ctx, &mut read).await?;
                m.insert("pipeline_name".to_owned(), text(read.get("pipeline_name")));
            }
        }
    }
    Ok(())
}

fn text(v: &Json) -> Value {
    v.as_str().map_or(Value::Null, Value::string)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    fn s(v: &str) -> Value {
        Value::string(v)
    }

    fn with(block: &str, items: Vec<Value>) -> Value {
        obj(&[(block, Value::List(items))])
    }

    fn reference(ref_id: Option<&str>, id: Value, name: Value) -> Value {
        let mut pairs = vec![
            ("application", s("shop")),
            ("pipeline", id),
            ("pipeline_name", name),
        ];
        if let Some(r) = ref_id {
            pairs.push(("ref_id", s(r)));
        }
        obj(&pairs)
    }

    fn planned_attr(v: &Value, block: &str, i: usize, attr: &str) -> Value {
        v.attr(block)
            .and_then(Value::as_elements)
            .and_then(|l| l.get(i))
            .and_then(|b| b.attr(attr))
            .cloned()
            .unwrap_or(Value::Null)
    }

    #[test]
    fn a_changed_name_plans_the_id_unknown_and_an_unchanged_one_keeps_it() {
        let prior = with(
            "pipeline_trigger",
            vec![
                reference(None, s("id-a"), s("a")),
                reference(None, s("id-b"), s("b")),
            ],
        );
        let config = with(
            "pipeline_trigger",
            vec![
                reference(None, Value::Null, s("a")),
                reference(None, Value::Null, s("c")),
            ],
        );
        // Terraform proposes the prior id for the computed side.
        let proposed = with(
            "pipeline_trigger",
            vec![
                reference(None, s("id-a"), s("a")),
                reference(None, s("id-b"), s("c")),
            ],
        );
        let planned = plan_upstream_references(&prior, proposed, &config);
        assert_eq!(
            planned_attr(&planned, "pipeline_trigger", 0, "pipeline"),
            s("id-a")
        );
        assert_eq!(
            planned_attr(&planned, "pipeline_trigger", 1, "pipeline"),
            Value::Unknown
        );
        assert_eq!(
            planned_attr(&planned, "pipeline_trigger", 1, "pipeline_name"),
            s("c")
        );
    }

    #[test]
    fn a_changed_id_plans_the_name_unknown_stages_matched_by_ref_id() {
        let prior = with(
            "pipeline_stage",
            vec![
                reference(Some("x"), s("id-a"), s("a")),
                reference(Some("y"), s("id-b"), s("b")),
            ],
        );
        // The stages swapped places; y now points at another id.
        let config = with(
            "pipeline_stage",
            vec![
                reference(Some("y"), s("id-c"), Value::Null),
                reference(Some("x"), s("id-a"), Value::Null),
            ],
        );
        let proposed = with(
            "pipeline_stage",
            vec![
                reference(Some("y"), s("id-c"), s("a")),
                reference(Some("x"), s("id-a"), s("b")),
            ],
        );
        let planned = plan_upstream_references(&prior, proposed, &config);
        assert_eq!(
            planned_attr(&planned, "pipeline_stage", 0, "pipeline_name"),
            Value::Unknown
        );
        // x is unchanged, but Terraform proposed y's old name at x's position: x keeps its own.
        assert_eq!(
            planned_attr(&planned, "pipeline_stage", 1, "pipeline_name"),
            s("a")
        );
    }

    #[test]
    fn new_blocks_unknown_names_and_other_applications_plan_unknown() {
        let prior = with("pipeline_trigger", vec![reference(None, s("id-a"), s("a"))]);
        let mut moved = reference(None, Value::Null, s("a"));
        if let Value::Object(m) = &mut moved {
            m.insert("application".to_owned(), s("other"));
        }
        let config = with(
            "pipeline_trigger",
            vec![moved.clone(), reference(None, Value::Null, Value::Unknown)],
        );
        let planned = plan_upstream_references(&prior, config.clone(), &config);
        assert_eq!(
            planned_attr(&planned, "pipeline_trigger", 0, "pipeline"),
            Value::Unknown
        );
        assert_eq!(
            planned_attr(&planned, "pipeline_trigger", 1, "pipeline"),
            Value::Unknown
        );
        // No prior state (create): every computed side is unknown.
        let planned = plan_upstream_references(&Value::Null, config.clone(), &config);
        assert_eq!(
            planned_attr(&planned, "pipeline_trigger", 0, "pipeline"),
            Value::Unknown
        );
    }
}
