//! `spinnaker_pipeline`: a pipeline config with typed triggers and non-infrastructure stages,
//! written with Gate's `POST /pipelines` and read from the application's cached pipeline list
//! (one list request per application per Terraform command; saves patch the cached list).
//!
//! The shape comes from the catalogue in `pipeline::blocks`; the merge onto the live pipeline
//! (unknown fields kept, infrastructure stages preserved, undeclared stages dropped) from
//! `pipeline::blocks::pipeline`. This module adds what needs Gate: reading the live pipeline,
//! resolving upstream pipelines by name, refusing to overwrite a pipeline changed since the
//! plan, and computing `update_ts`, `json`, `unmanaged_stages` and `unmanaged_triggers`.

mod checks;
mod convert;
mod schema;
mod upstream;

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use pipeline::blocks::pipeline::{
    PipelineBlocks, TypedBlock, UnmanagedStage, UnmanagedTrigger, encode_pipeline,
    unmanaged_stages, unmanaged_triggers,
};
use pipeline::blocks::{self, BlockSpec, BlockValue, decode};
use pipeline::model::ref_id_string;
use serde_json::{Map, Value as Json};
use upstream::{UPSTREAM_BLOCKS, fill_planned_upstreams, fill_upstream_name, resolve_upstreams};

pub use schema::schema;

use crate::diag::{AttributePath, Diagnostics};
use crate::resource::{Ctx, Resource, ResourceError};
use crate::schema::Schema;
use crate::value::Value;

/// The resource type.
pub struct PipelineResource;

/// The documented import id template; a bare pipeline id (a UUID) is accepted too.
pub const IMPORT_TEMPLATE: &str = "<application>/<pipeline name>";

/// The newest stored revision of pipeline `id` (`GET /pipelineConfigs/{id}/history?limit=1`),
/// read past the list cache; `None` when Gate has no such pipeline.
async fn newest_revision(ctx: &Ctx, id: &str) -> Result<Option<Map<String, Json>>, ResourceError> {
    match ctx.client.pipeline_history(id, 1).await {
        Ok(revisions) => Ok(revisions.into_iter().find_map(|r| match r {
            Json::Object(m) => Some(m),
            _ => None,
        })),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The application of the pipeline `id`, from its newest stored revision; `None` when Gate has
/// no such pipeline.
async fn application_of(ctx: &Ctx, id: &str) -> Result<Option<String>, ResourceError> {
    Ok(newest_revision(ctx, id)
        .await?
        .and_then(|r| json_str(&r, "application").map(str::to_owned)))
}

fn text<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.attr(name).and_then(Value::as_str)
}

fn json_str<'a>(m: &'a Map<String, Json>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Json::as_str)
}

/// Finds a pipeline in the application's list (one cached request per application): by id,
/// else by exact name, else by name ignoring case (as Gate and Front50 match names).
pub(crate) async fn find_live(
    ctx: &Ctx,
    application: &str,
    id: Option<&str>,
    name: Option<&str>,
) -> Result<Option<Map<String, Json>>, ResourceError> {
    let list = match ctx.client.list_pipeline_configs(application).await {
        Ok(list) => list,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let objects = || list.iter().filter_map(Json::as_object);
    if let Some(id) = id {
        return Ok(objects().find(|p| json_str(p, "id") == Some(id)).cloned());
    }
    let Some(name) = name else { return Ok(None) };
    Ok(objects()
        .find(|p| json_str(p, "name") == Some(name))
        .or_else(|| {
            objects().find(|p| {
                json_str(p, "name").is_some_and(|n| n.trim().eq_ignore_ascii_case(name.trim()))
            })
        })
        .cloned())
}

/// The index of each block among the blocks of its own type, for attribute paths.
fn nth_of_type(list: &[TypedBlock], i: usize) -> i64 {
    let Some(b) = list.get(i) else { return 0 };
    let n = list[..i]
        .iter()
        .filter(|x| x.spec.name == b.spec.name)
        .count();
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The prior block matching a planned one: stages by ref_id, triggers by position among the
/// triggers of the same block.
fn prior_match<'a>(
    prior: &'a PipelineBlocks,
    planned: &[TypedBlock],
    i: usize,
    stages: bool,
) -> Option<&'a TypedBlock> {
    let b = planned.get(i)?;
    if stages {
        return prior.stages.iter().find(|p| {
            p.spec.name == b.spec.name && p.ref_id().is_some() && p.ref_id() == b.ref_id()
        });
    }
    let nth = usize::try_from(nth_of_type(planned, i)).ok()?;
    prior
        .triggers
        .iter()
        .filter(|p| p.spec.name == b.spec.name)
        .nth(nth)
}

/// Checks at apply that every `depends_on` names a declared stage or a live unmanaged one.
fn check_dependencies(
    blocks: &PipelineBlocks,
    unmanaged: &[UnmanagedStage],
) -> Result<(), ResourceError> {
    let known: HashSet<&str> = blocks
        .stages
        .iter()
        .filter_map(TypedBlock::ref_id)
        .chain(unmanaged.iter().map(|u| u.ref_id.as_str()))
        .collect();
    let mut diags = Diagnostics::new();
    for (i, stage) in blocks.stages.iter().enumerate() {
        for parent in stage.depends_on() {
            if !known.contains(parent.as_str()) {
                let path = AttributePath::root(stage.spec.name)
                    .index(nth_of_type(&blocks.stages, i))
                    .attr("depends_on");
                diags.attribute_error(
                    path.clone(),
                    "Unknown Stage Dependency",
                    format!(
                        "Attribute {path} names {parent:?}, but no declared stage and no unmanaged stage in Spinnaker has that ref_id."
                    ),
                );
            }
        }
    }
    if diags.is_empty() {
        Ok(())
    } else {
        Err(ResourceError::Diagnostics(diags))
    }
}

fn unmanaged_value(list: &[UnmanagedStage]) -> Value {
    Value::List(
        list.iter()
            .map(|u| {
                Value::Object(BTreeMap::from([
                    ("ref_id".to_owned(), Value::string(&u.ref_id)),
                    ("type".to_owned(), Value::string(&u.stage_type)),
                    ("name".to_owned(), Value::string(&u.name)),
                ]))
            })
            .collect(),
    )
}

fn unmanaged_triggers_value(list: &[UnmanagedTrigger]) -> Value {
    Value::List(
        list.iter()
            .map(|u| {
                Value::Object(BTreeMap::from([
                    ("type".to_owned(), Value::string(&u.trigger_type)),
                    (
                        "enabled".to_owned(),
                        u.enabled.map_or(Value::Null, Value::Bool),
                    ),
                ]))
            })
            .collect(),
    )
}

fn declared_ref_ids(blocks: &PipelineBlocks) -> HashSet<String> {
    blocks
        .stages
        .iter()
        .filter_map(|s| s.ref_id().map(str::to_owned))
        .collect()
}

/// The block each prior stage used, by ref_id, and the prior order of ref_ids per block type.
fn prior_stage_layout(prior: &Value) -> (HashMap<String, &'static BlockSpec>, Vec<String>) {
    let mut by_ref = HashMap::new();
    let mut order = Vec::new();
    for spec in blocks::stages() {
        for item in prior
            .attr(spec.name)
            .and_then(Value::as_elements)
            .unwrap_or_default()
        {
            if let Some(r) = text(item, "ref_id") {
                by_ref.insert(r.to_owned(), spec);
                order.push(r.to_owned());
            }
        }
    }
    (by_ref, order)
}

/// Decodes one live stage, preferring the block the prior state used for its ref_id.
fn decode_stage(
    stage: &Map<String, Json>,
    preferred: Option<&'static BlockSpec>,
) -> Option<TypedBlock> {
    let kind = json_str(stage, "type").unwrap_or_default();
    let candidates = preferred
        .into_iter()
        .chain(blocks::stage_for_type(kind))
        .chain([blocks::custom_stage()]);
    for spec in candidates {
        if spec.json_type.is_some_and(|t| t != kind) {
            continue;
        }
        if let Ok(value) = decode(spec, stage) {
            return Some(TypedBlock { spec, value });
        }
    }
    None
}

/// The state for a live pipeline, shaped like the prior state where the prior state made a
/// choice (which block a stage uses, the order of blocks, `pipeline_name` over ids, JSON text).
async fn state_from_live(
    ctx: &Ctx,
    live: &Map<String, Json>,
    prior: &Value,
) -> Result<Value, ResourceError> {
    let top = decode(blocks::pipeline_block(), live).map_err(|e| decode_failure(live, &e))?;
    let mut state = convert::block_to_value(blocks::pipeline_block(), &top);

    // Triggers: each modelled live trigger, grouped by block in order.
    let mut triggers: BTreeMap<&'static str, Vec<BlockValue>> = BTreeMap::new();
    for t in live
        .get("triggers")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_object)
    {
        let Some(spec) = json_str(t, "type").and_then(blocks::trigger_for_type) else {
            continue;
        };
        if let Ok(mut value) = decode(spec, t) {
            if UPSTREAM_BLOCKS.contains(&spec.name) {
                fill_upstream_name(ctx, &mut value).await?;
            }
            triggers.entry(spec.name).or_default().push(value);
        }
    }

    // Stages: non-infrastructure ones, in the prior order of ref_ids, new ones after.
    let (preferred, prior_order) = prior_stage_layout(prior);
    let mut stages: Vec<TypedBlock> = Vec::new();
    for s in live
        .get("stages")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_object)
    {
        let kind = json_str(s, "type").unwrap_or_default();
        if pipeline::stage_types::is_infrastructure(kind) {
            continue;
        }
        let ref_id = s.get("refId").and_then(ref_id_string).unwrap_or_default();
        if let Some(b) = decode_stage(s, preferred.get(&ref_id).copied()) {
            stages.push(b);
        }
    }
    stages.sort_by_key(|b| {
        b.ref_id()
            .and_then(|r| prior_order.iter().position(|p| p == r))
            .unwrap_or(usize::MAX)
    });
    let mut by_block: BTreeMap<&'static str, Vec<BlockValue>> = BTreeMap::new();
    for mut b in stages {
        if UPSTREAM_BLOCKS.contains(&b.spec.name) {
            fill_upstream_name(ctx, &mut b.value).await?;
        }
        by_block.entry(b.spec.name).or_default().push(b.value);
    }

    for (specs, found) in [
        (blocks::triggers(), &triggers),
        (blocks::stages(), &by_block),
    ] {
        for spec in specs {
            let items = found
                .get(spec.name)
                .map(|list| {
                    list.iter()
                        .map(|v| Value::Object(convert::block_to_value(spec, v)))
                        .collect()
                })
                .unwrap_or_default();
            state.insert(spec.name.to_owned(), Value::List(items));
        }
    }
    state.insert("id".to_owned(), opt_string(json_str(live, "id")));
    state.insert(
        "update_ts".to_owned(),
        opt_string(live.get("updateTs").and_then(ref_id_string).as_deref()),
    );
    let json = match prior.attr("json") {
        Some(Value::String(s)) => Value::String(s.clone()),
        _ => Value::String(Json::Object(live.clone()).to_string()),
    };
    state.insert("json".to_owned(), json);
    state.insert(
        "unmanaged_stages".to_owned(),
        unmanaged_value(&unmanaged_stages(live, &HashSet::new())),
    );
    state.insert(
        "unmanaged_triggers".to_owned(),
        unmanaged_triggers_value(&unmanaged_triggers(live)),
    );
    let state = convert::keep_equivalent_json(prior, Value::Object(state));
    Ok(convert::keep_prior_empties(prior, state))
}

fn opt_string(s: Option<&str>) -> Value {
    s.map_or(Value::Null, Value::string)
}

fn decode_failure(live: &Map<String, Json>, e: &blocks::DecodeError) -> ResourceError {
    ResourceError::Diagnostics(Diagnostics::from_error(
        "Unsupported Pipeline Field",
        format!(
            "pipeline {:?} has a field the provider cannot represent: {e}. Fix the field in Spinnaker, or remove the pipeline from state.",
            json_str(live, "name").unwrap_or_default()
        ),
    ))
}

/// The JSON to send: the declared blocks written onto the live pipeline (or a new one).
fn to_send(
    blocks: &PipelineBlocks,
    live: Option<&Map<String, Json>>,
    id: &str,
) -> Map<String, Json> {
    let mut json = encode_pipeline(blocks, live).json;
    json.insert("id".to_owned(), Json::String(id.to_owned()));
    json
}

/// Saves and returns what Front50 stored (its newest revision, retried briefly while it is
/// missing right after the save). The client patches its cached list of the application with
/// it, so an apply lists each application once however many pipelines it saves.
async fn save(ctx: &Ctx, json: &Map<String, Json>) -> Result<Map<String, Json>, ResourceError> {
    let body = Json::Object(json.clone());
    let stored = ctx.client.save_and_read_pipeline(&body).await?;
    Ok(stored.as_object().cloned().unwrap_or_default())
}

/// The newest stored revision of pipeline `id` (the list cache lives for the whole Terraform
/// command, so the stale-plan check compares against what is stored now); `listed` when Gate has
/// no revision for it.
async fn newest(
    ctx: &Ctx,
    id: &str,
    listed: Map<String, Json>,
) -> Result<Map<String, Json>, ResourceError> {
    Ok(newest_revision(ctx, id).await?.unwrap_or(listed))
}

fn applied(
    planned: &Value,
    id: &str,
    sent: &Map<String, Json>,
    stored: &Map<String, Json>,
) -> Value {
    let mut state = planned.clone();
    if let Value::Object(m) = &mut state {
        m.insert("id".to_owned(), Value::string(id));
        m.insert(
            "update_ts".to_owned(),
            opt_string(stored.get("updateTs").and_then(ref_id_string).as_deref()),
        );
        m.insert(
            "json".to_owned(),
            Value::String(Json::Object(sent.clone()).to_string()),
        );
        if m.get("unmanaged_stages")
            .is_none_or(Value::contains_unknown)
        {
            let declared = declared_ref_ids(&convert::pipeline_blocks(planned));
            m.insert(
                "unmanaged_stages".to_owned(),
                unmanaged_value(&unmanaged_stages(stored, &declared)),
            );
        }
        if m.get("unmanaged_triggers")
            .is_none_or(Value::contains_unknown)
        {
            m.insert(
                "unmanaged_triggers".to_owned(),
                unmanaged_triggers_value(&unmanaged_triggers(stored)),
            );
        }
    }
    state
}

fn label(v: &Value) -> String {
    crate::import_id::format_import_id(&[
        text(v, "application").unwrap_or_default(),
        text(v, "name").unwrap_or_default(),
    ])
}

#[async_trait]
impl Resource for PipelineResource {
    fn type_name(&self) -> &'static str {
        "spinnaker_pipeline"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn import_template(&self) -> &'static str {
        IMPORT_TEMPLATE
    }

    fn display_id(&self, state: &Value) -> String {
        label(state)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(app) = config.attr("application") {
            crate::resources::application::validate_name(
                app,
                AttributePath::root("application"),
                diags,
            );
        }
        checks::check_config(config, diags);
    }

    /// The computed side of each upstream reference is re-planned: unknown where the configured
    /// `pipeline_name` (or `pipeline` id) changed since the prior state, the prior block's value
    /// where it did not. Apply fills the unknowns from what it resolved, so the state never
    /// keeps an id the pipeline no longer points at.
    fn modify_plan(&self, prior: &Value, planned: Value, config: &Value) -> Value {
        upstream::plan_upstream_references(prior, planned, config)
    }

    fn check_plan(&self, prior: &Value, _planned: &Value, config: &Value, diags: &mut Diagnostics) {
        // depends_on may name unmanaged stages, which only the refreshed state lists.
        let unmanaged: Vec<UnmanagedStage> = prior
            .attr("unmanaged_stages")
            .and_then(Value::as_elements)
            .unwrap_or_default()
            .iter()
            .filter_map(|u| {
                Some(UnmanagedStage {
                    ref_id: text(u, "ref_id")?.to_owned(),
                    stage_type: text(u, "type").unwrap_or_default().to_owned(),
                    name: text(u, "name").unwrap_or_default().to_owned(),
                })
            })
            .collect();
        let blocks = convert::pipeline_blocks(config);
        let unknown = blocks.stages.iter().any(|s| s.ref_id().is_none());
        if !unknown
            && let Err(ResourceError::Diagnostics(d)) = check_dependencies(&blocks, &unmanaged)
        {
            diags.extend(d);
        }
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ResourceError> {
        let app = match (text(state, "application"), text(state, "id")) {
            (Some(app), _) => app.to_owned(),
            // Imported by id: the newest revision names the application.
            (None, Some(id)) => match application_of(ctx, id).await? {
                Some(app) => app,
                None => return Ok(None),
            },
            (None, None) => return Ok(None),
        };
        let app = app.as_str();
        let id = text(state, "id");
        let name = if id.is_none() {
            text(state, "name")
        } else {
            None
        };
        let Some(live) = find_live(ctx, app, id, name).await? else {
            return Ok(None);
        };
        state_from_live(ctx, &live, state).await.map(Some)
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ResourceError> {
        let mut blocks = convert::pipeline_blocks(planned);
        resolve_upstreams(ctx, &mut blocks, None).await?;
        check_dependencies(&blocks, &[])?;
        let mut planned = planned.clone();
        fill_planned_upstreams(ctx, &mut planned, &blocks).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let json = to_send(&blocks, None, &id);
        let stored = save(ctx, &json).await?;
        tracing::info!(pipeline = %label(&planned), %id, "created pipeline");
        Ok(applied(&planned, &id, &json, &stored))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, ResourceError> {
        let app = text(prior, "application").unwrap_or_default();
        let id = text(prior, "id").unwrap_or_default();
        let Some(live) = find_live(ctx, app, Some(id), None).await? else {
            return Err(ResourceError::Diagnostics(Diagnostics::from_error(
                "Pipeline Deleted Since Plan",
                format!(
                    "updating spinnaker_pipeline ({}): pipeline {id} no longer exists in Spinnaker. Run terraform plan again; it will plan to create it.",
                    label(prior)
                ),
            )));
        };
        let live = newest(ctx, id, live).await?;
        let live_ts = live.get("updateTs").and_then(ref_id_string);
        let planned_ts = text(prior, "update_ts");
        if live_ts.as_deref() != planned_ts {
            return Err(ResourceError::Diagnostics(Diagnostics::from_error(
                "Pipeline Changed Since Plan",
                format!(
                    "updating spinnaker_pipeline ({}): the pipeline was changed in Spinnaker after the plan was made \
                     (updateTs {} at plan time, {} now, last modified by {}). Applying would overwrite that change; \
                     run terraform plan again to see it, then apply the new plan.",
                    label(prior),
                    planned_ts.unwrap_or("(none)"),
                    live_ts.as_deref().unwrap_or("(none)"),
                    json_str(&live, "lastModifiedBy").unwrap_or("(unknown)"),
                ),
            )));
        }
        let mut blocks = convert::pipeline_blocks(planned);
        resolve_upstreams(ctx, &mut blocks, Some(&convert::pipeline_blocks(prior))).await?;
        let unmanaged = unmanaged_stages(&live, &declared_ref_ids(&blocks));
        check_dependencies(&blocks, &unmanaged)?;
        let mut planned = planned.clone();
        fill_planned_upstreams(ctx, &mut planned, &blocks).await?;
        let json = to_send(&blocks, Some(&live), id);
        let stored = save(ctx, &json).await?;
        tracing::info!(pipeline = %label(&planned), %id, "updated pipeline");
        Ok(applied(&planned, id, &json, &stored))
    }

    async fn delete(&self, ctx: &Ctx, prior: &Value) -> Result<(), ResourceError> {
        let app = text(prior, "application").unwrap_or_default();
        let live = find_live(ctx, app, text(prior, "id"), None).await?;
        let Some(name) = live.as_ref().and_then(|l| json_str(l, "name")) else {
            return Ok(());
        };
        ctx.client.delete_pipeline(app, name).await?;
        tracing::info!(pipeline = %label(prior), "deleted pipeline");
        Ok(())
    }

    fn import_by_id(&self, id: &str) -> Option<Value> {
        let id = uuid::Uuid::parse_str(id.trim()).ok()?.to_string();
        let mut state = self.import(Vec::new());
        if let Value::Object(m) = &mut state {
            m.insert("id".to_owned(), Value::String(id));
        }
        Some(state)
    }

    fn import(&self, parts: Vec<String>) -> Value {
        let mut m: BTreeMap<String, Value> = schema()
            .block
            .field_names()
            .into_iter()
            .map(|k| (k, Value::Null))
            .collect();
        let mut parts = parts.into_iter();
        m.insert(
            "application".to_owned(),
            opt_string(parts.next().as_deref()),
        );
        m.insert("name".to_owned(), opt_string(parts.next().as_deref()));
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests;
