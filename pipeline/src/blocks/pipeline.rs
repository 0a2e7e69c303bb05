//! A whole pipeline as typed blocks: [`decode_pipeline`] splits pipeline JSON into the
//! pipeline block, trigger blocks and stage blocks (infrastructure stages set aside as
//! unmanaged), and [`encode_pipeline`] writes declared blocks onto the live pipeline.
//!
//! Merge rules of [`encode_pipeline`] (the Terraform/Spinnaker boundary):
//! * top-level fields the catalogue does not model are kept from the live pipeline;
//! * a declared stage is overlaid onto the live stage with the same refId (when the type is the
//!   same), so fields the UI or Spinnaker added stay;
//! * live infrastructure stages that are not declared are kept verbatim;
//! * live non-infrastructure stages that are not declared are dropped (they are drift);
//! * stage array order: live order for existing stages, new stages after them in DAG order;
//! * declared triggers are overlaid onto the live triggers of the same type, in order (so
//!   server-added keys such as cron `id`s stay); live triggers of types without a block are
//!   kept verbatim (listed by [`unmanaged_triggers`]); parameters are matched by name.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value as Json};

use super::{BlockSpec, BlockValue, DecodeError, custom_stage, decode, encode, pipeline_block};
use crate::graph::StageGraph;
use crate::model::ref_id_string;
use crate::stage_types;
use crate::validate::{JsonPath, PathStep};

/// A trigger or stage block with its spec.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedBlock {
    /// Which block it is.
    pub spec: &'static BlockSpec,
    /// Its value.
    pub value: BlockValue,
}

impl TypedBlock {
    /// The stage's `ref_id` (stages only).
    pub fn ref_id(&self) -> Option<&str> {
        self.value.str("ref_id")
    }

    /// The stage's `depends_on` (stages only).
    pub fn depends_on(&self) -> Vec<String> {
        self.value
            .get("depends_on")
            .as_array()
            .map(|items| items.iter().filter_map(ref_id_string).collect())
            .unwrap_or_default()
    }
}

/// The declared (or decoded) blocks of one pipeline.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PipelineBlocks {
    /// Top-level attributes and the `parameter`, `notification` and `locked` blocks.
    pub top: BlockValue,
    /// Trigger blocks, in order.
    pub triggers: Vec<TypedBlock>,
    /// Stage blocks (typed or `custom_stage`), in order.
    pub stages: Vec<TypedBlock>,
}

/// A live stage that is not declared in HCL: its refId, type and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmanagedStage {
    /// `refId` as text.
    pub ref_id: String,
    /// Stage type.
    pub stage_type: String,
    /// Display name (empty when missing).
    pub name: String,
}

/// What [`decode_pipeline`] found.
#[derive(Debug, Clone, Default)]
pub struct DecodedPipeline {
    /// Everything that has a block.
    pub blocks: PipelineBlocks,
    /// Infrastructure stages: owned by Spinnaker users, never declared in HCL.
    pub unmanaged_stages: Vec<UnmanagedStage>,
    /// Triggers whose type has no block (kept on write).
    pub unmodelled_triggers: Vec<Map<String, Json>>,
    /// Stages that could not be decoded even as `custom_stage`, with the reason.
    pub undecodable_stages: Vec<(Map<String, Json>, DecodeError)>,
}

/// Splits a pipeline into blocks. Stages of a type with a typed block use it; when the JSON does
/// not fit the typed block (or the type has none) `custom_stage` is used.
///
/// # Errors
///
/// [`DecodeError`] when a top-level modelled field or a modelled trigger field does not fit its
/// attribute.
pub fn decode_pipeline(raw: &Map<String, Json>) -> Result<DecodedPipeline, DecodeError> {
    let mut out = DecodedPipeline {
        blocks: PipelineBlocks {
            top: decode(pipeline_block(), raw)?,
            ..PipelineBlocks::default()
        },
        ..DecodedPipeline::default()
    };
    for trigger in objects(raw, "triggers") {
        let spec = trigger
            .get("type")
            .and_then(Json::as_str)
            .and_then(super::trigger_for_type);
        match spec {
            Some(spec) => out.blocks.triggers.push(TypedBlock {
                spec,
                value: decode(spec, trigger)?,
            }),
            None => out.unmodelled_triggers.push(trigger.clone()),
        }
    }
    for stage in objects(raw, "stages") {
        let kind = stage.get("type").and_then(Json::as_str).unwrap_or_default();
        if stage_types::is_infrastructure(kind) {
            out.unmanaged_stages.push(unmanaged(stage));
            continue;
        }
        let typed = super::stage_for_type(kind).and_then(|spec| {
            decode(spec, stage)
                .ok()
                .map(|value| TypedBlock { spec, value })
        });
        let block = match typed {
            Some(b) => b,
            None => match decode(custom_stage(), stage) {
                Ok(value) => TypedBlock {
                    spec: custom_stage(),
                    value,
                },
                Err(e) => {
                    out.undecodable_stages.push((stage.clone(), e));
                    continue;
                }
            },
        };
        out.blocks.stages.push(block);
    }
    Ok(out)
}

fn unmanaged(stage: &Map<String, Json>) -> UnmanagedStage {
    let text = |k: &str| stage.get(k).and_then(ref_id_string).unwrap_or_default();
    UnmanagedStage {
        ref_id: text("refId"),
        stage_type: text("type"),
        name: text("name"),
    }
}

/// The infrastructure stages of `live` whose refIds are not in `declared`.
pub fn unmanaged_stages(
    live: &Map<String, Json>,
    declared: &HashSet<String>,
) -> Vec<UnmanagedStage> {
    objects(live, "stages")
        .filter(|s| {
            s.get("type")
                .and_then(Json::as_str)
                .is_some_and(stage_types::is_infrastructure)
        })
        .map(unmanaged)
        .filter(|u| !declared.contains(&u.ref_id))
        .collect()
}

/// A live trigger whose type has no block (e.g. `artifactory`, `helm`, `concourse`): kept
/// verbatim on every write, like an unmanaged stage, and never declared in HCL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmanagedTrigger {
    /// Trigger `type` (empty when missing).
    pub trigger_type: String,
    /// `enabled`, when it is a boolean (or the text `"true"`/`"false"`).
    pub enabled: Option<bool>,
}

/// The triggers of `live` whose type has no block, in order: exactly those
/// [`encode_pipeline`] keeps as they are.
pub fn unmanaged_triggers(live: &Map<String, Json>) -> Vec<UnmanagedTrigger> {
    objects(live, "triggers")
        .filter_map(|t| {
            let kind = t.get("type").and_then(Json::as_str).unwrap_or_default();
            if super::trigger_for_type(kind).is_some() {
                return None;
            }
            let enabled = match t.get("enabled") {
                Some(Json::Bool(b)) => Some(*b),
                Some(Json::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
                Some(Json::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
                _ => None,
            };
            Some(UnmanagedTrigger {
                trigger_type: kind.to_owned(),
                enabled,
            })
        })
        .collect()
}

fn objects<'a>(
    raw: &'a Map<String, Json>,
    key: &str,
) -> impl Iterator<Item = &'a Map<String, Json>> {
    raw.get(key)
        .and_then(Json::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(Json::as_object)
}

/// The pipeline JSON [`encode_pipeline`] produced, with where each entry came from.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedPipeline {
    /// The pipeline to send.
    pub json: Map<String, Json>,
    /// For each entry of `stages`: the index into [`PipelineBlocks::stages`], or `None` for a
    /// preserved unmanaged stage.
    pub stage_origin: Vec<Option<usize>>,
    /// For each entry of `triggers`: the index into [`PipelineBlocks::triggers`], or `None` for
    /// a preserved trigger of a type without a block.
    pub trigger_origin: Vec<Option<usize>>,
}

/// Writes the declared blocks onto the live pipeline (or a new one) following the merge rules
/// in the module documentation.
pub fn encode_pipeline(
    blocks: &PipelineBlocks,
    live: Option<&Map<String, Json>>,
) -> EncodedPipeline {
    let empty = Map::new();
    let live = live.unwrap_or(&empty);
    let mut base = live.clone();
    // Parameters are matched by name: line the live entries up with the declared ones.
    let live_params: HashMap<String, &Map<String, Json>> = objects(live, "parameterConfig")
        .filter_map(|p| Some((p.get("name")?.as_str()?.to_owned(), p)))
        .collect();
    let declared_params = blocks.top.nested("parameter");
    if !declared_params.is_empty() {
        let lined_up = declared_params
            .iter()
            .map(|p| {
                p.str("name")
                    .and_then(|n| live_params.get(n))
                    .map(|m| Json::Object((*m).clone()))
                    .unwrap_or_else(|| Json::Object(Map::new()))
            })
            .collect();
        base.insert("parameterConfig".to_owned(), Json::Array(lined_up));
    }
    let mut json = encode(pipeline_block(), &blocks.top, Some(&base));

    let (triggers, trigger_origin) = merge_triggers(&blocks.triggers, live);
    if triggers.is_empty() && !live.contains_key("triggers") {
        json.shift_remove("triggers");
    } else {
        json.insert("triggers".to_owned(), Json::Array(triggers));
    }
    let (stages, stage_origin) = merge_stages(&blocks.stages, live);
    json.insert("stages".to_owned(), Json::Array(stages));
    EncodedPipeline {
        json,
        stage_origin,
        trigger_origin,
    }
}

fn merge_triggers(
    declared: &[TypedBlock],
    live: &Map<String, Json>,
) -> (Vec<Json>, Vec<Option<usize>>) {
    let mut used = vec![false; declared.len()];
    let mut out = Vec::new();
    let mut origin = Vec::new();
    for trigger in objects(live, "triggers") {
        let kind = trigger
            .get("type")
            .and_then(Json::as_str)
            .unwrap_or_default();
        if super::trigger_for_type(kind).is_none() {
            out.push(Json::Object(trigger.clone()));
            origin.push(None);
            continue;
        }
        let next = declared
            .iter()
            .enumerate()
            .find(|(i, d)| !used[*i] && d.spec.json_type == Some(kind));
        if let Some((i, d)) = next {
            used[i] = true;
            out.push(Json::Object(encode(d.spec, &d.value, Some(trigger))));
            origin.push(Some(i));
        }
    }
    for (i, d) in declared.iter().enumerate() {
        if !used[i] {
            out.push(Json::Object(encode(d.spec, &d.value, None)));
            origin.push(Some(i));
        }
    }
    (out, origin)
}

fn stage_type_of(spec: &BlockSpec, value: &BlockValue) -> Option<String> {
    spec.json_type
        .map(str::to_owned)
        .or_else(|| value.str("type").map(str::to_owned))
}

fn merge_stages(
    declared: &[TypedBlock],
    live: &Map<String, Json>,
) -> (Vec<Json>, Vec<Option<usize>>) {
    let by_ref: HashMap<&str, usize> = declared
        .iter()
        .enumerate()
        .filter_map(|(i, d)| Some((d.ref_id()?, i)))
        .collect();
    let mut used = vec![false; declared.len()];
    let mut out = Vec::new();
    let mut origin = Vec::new();
    for stage in objects(live, "stages") {
        let ref_id = stage
            .get("refId")
            .and_then(ref_id_string)
            .unwrap_or_default();
        let kind = stage.get("type").and_then(Json::as_str).unwrap_or_default();
        match by_ref.get(ref_id.as_str()) {
            Some(&i) if !used[i] => {
                used[i] = true;
                let d = &declared[i];
                let same_type = stage_type_of(d.spec, &d.value).as_deref() == Some(kind);
                let base = same_type.then_some(stage);
                out.push(Json::Object(encode(d.spec, &d.value, base)));
                origin.push(Some(i));
            }
            _ if stage_types::is_infrastructure(kind) => {
                out.push(Json::Object(stage.clone()));
                origin.push(None);
            }
            _ => {}
        }
    }
    for i in new_stage_order(declared, &used) {
        let d = &declared[i];
        out.push(Json::Object(encode(d.spec, &d.value, None)));
        origin.push(Some(i));
    }
    (out, origin)
}

/// The indices of the declared stages not yet placed, in DAG order (declaration order where
/// the graph cannot be built, e.g. with a cycle, which validation reports).
fn new_stage_order(declared: &[TypedBlock], used: &[bool]) -> Vec<usize> {
    let fresh: Vec<usize> = (0..declared.len())
        .filter(|&i| !used.get(i).copied().unwrap_or(true))
        .collect();
    let ids: HashSet<&str> = fresh.iter().filter_map(|&i| declared[i].ref_id()).collect();
    let nodes = fresh.iter().filter_map(|&i| {
        let d = &declared[i];
        let parents: Vec<String> = d
            .depends_on()
            .into_iter()
            .filter(|p| ids.contains(p.as_str()))
            .collect();
        Some((d.ref_id()?.to_owned(), parents))
    });
    let order = StageGraph::new(nodes).ok().and_then(|g| {
        g.topological_order()
            .ok()
            .map(|o| o.into_iter().map(str::to_owned).collect::<Vec<_>>())
    });
    match order {
        Some(order) if order.len() == fresh.len() => order
            .iter()
            .filter_map(|id| {
                fresh
                    .iter()
                    .copied()
                    .find(|&i| declared[i].ref_id() == Some(id))
            })
            .collect(),
        _ => fresh,
    }
}

/// One step of an HCL attribute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HclStep {
    /// An attribute or block name.
    Name(String),
    /// An index into a block list.
    Index(usize),
}

/// Maps a JSON path in an [`EncodedPipeline`] (as `pipeline::validate` reports it) back to
/// the HCL path that produced it, e.g. `stages[3].requisiteStageRefIds[0]` →
/// `wait_stage[1].depends_on`. `None` when the path points at something no block declares
/// (an unmanaged stage, a preserved trigger, an unmodelled top-level field).
pub fn hcl_path(
    encoded: &EncodedPipeline,
    blocks: &PipelineBlocks,
    path: &JsonPath,
) -> Option<Vec<HclStep>> {
    let steps = path.steps();
    match steps {
        [PathStep::Key(k), PathStep::Index(i), rest @ ..] if k == "stages" || k == "triggers" => {
            let (origin, list) = if k == "stages" {
                (&encoded.stage_origin, &blocks.stages)
            } else {
                (&encoded.trigger_origin, &blocks.triggers)
            };
            let declared = (*origin.get(*i)?)?;
            let block = list.get(declared)?;
            let nth = list[..declared]
                .iter()
                .filter(|b| b.spec.name == block.spec.name)
                .count();
            let mut out = vec![
                HclStep::Name(block.spec.name.to_owned()),
                HclStep::Index(nth),
            ];
            out.extend(within_block(block.spec, rest));
            Some(out)
        }
        [] => Some(Vec::new()),
        rest => {
            let inner = within_block(pipeline_block(), rest);
            (!inner.is_empty()).then_some(inner)
        }
    }
}

fn keys_prefix(steps: &[PathStep], path: &[&str]) -> bool {
    path.len() <= steps.len()
        && path
            .iter()
            .zip(steps)
            .all(|(p, s)| matches!(s, PathStep::Key(k) if k == p))
}

fn within_block(spec: &BlockSpec, steps: &[PathStep]) -> Vec<HclStep> {
    if steps.is_empty() {
        return Vec::new();
    }
    if let Some(a) = spec
        .attributes
        .iter()
        .filter(|a| !a.path.is_empty() && keys_prefix(steps, a.path))
        .max_by_key(|a| a.path.len())
    {
        return vec![HclStep::Name(a.name.to_owned())];
    }
    for nested in &spec.blocks {
        if keys_prefix(steps, nested.path) {
            let rest = &steps[nested.path.len()..];
            let mut out = vec![HclStep::Name(nested.block.name.to_owned())];
            let rest = match (nested.nesting, rest) {
                (super::Nesting::List, [PathStep::Index(j), tail @ ..]) => {
                    out.push(HclStep::Index(*j));
                    tail
                }
                (super::Nesting::List, _) => return out,
                (super::Nesting::Single, tail) => tail,
            };
            out.extend(within_block(&nested.block, rest));
            return out;
        }
    }
    match steps.first() {
        Some(PathStep::Key(k)) => spec
            .hcl_name_for_json_key(k)
            .or_else(|| {
                spec.attributes
                    .iter()
                    .find(|a| a.codec == super::Codec::Rest)
                    .map(|a| a.name)
            })
            .map(|n| vec![HclStep::Name(n.to_owned())])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}
