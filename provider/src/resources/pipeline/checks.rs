//! Plan-time checks of a `spinnaker_pipeline` configuration: the boundary (no infrastructure
//! stage types), JSON attributes, upstream references, and every rule of
//! `pipeline::validate` with its JSON path mapped back to `<block type>[<index>].<attribute>`.

use std::collections::HashSet;

use pipeline::blocks::pipeline::{
    EncodedPipeline, HclStep, PipelineBlocks, encode_pipeline, hcl_path,
};
use pipeline::blocks::{self, Codec, Kind};
use pipeline::model::Pipeline;
use pipeline::stage_types;
use pipeline::validate::{self, Severity};

use super::convert::pipeline_blocks;
use crate::diag::{AttributePath, Diagnostics};
use crate::value::Value;

/// Diagnostics of `pipeline::validate` the provider checks later, with live data: a
/// `depends_on` may name an unmanaged stage that only the live pipeline has.
pub(crate) const DEPENDENCY_SUMMARY: &str = "Unknown Stage Dependency";

const GRAPH_SUMMARIES: &[&str] = &[
    "Missing Stage refId",
    "Duplicate Stage refId",
    "Invalid Stage refId",
    DEPENDENCY_SUMMARY,
    "Invalid Stage Dependency",
    "Stage Dependency Cycle",
];

/// Runs every check on a configuration whose values may be unknown.
pub(crate) fn check_config(config: &Value, diags: &mut Diagnostics) {
    check_json_attributes(config, diags);
    check_custom_stages(config, diags);
    check_upstream_references(config, diags);
    let blocks = pipeline_blocks(config);
    let encoded = encode_pipeline(&blocks, None);
    let graph_unknown = blocks::stages().iter().any(|spec| {
        elements(config, spec.name).iter().any(|s| {
            s.attr("ref_id").is_some_and(Value::contains_unknown)
                || s.attr("depends_on").is_some_and(Value::contains_unknown)
        })
    });
    let pipeline = Pipeline::from_map(encoded.json.clone());
    for d in validate::validate(&pipeline) {
        if d.summary == DEPENDENCY_SUMMARY
            || (graph_unknown && GRAPH_SUMMARIES.contains(&d.summary.as_str()))
        {
            continue;
        }
        let Some(path) = attribute_path(&encoded, &blocks, &d.path) else {
            push(diags, d.severity, None, &d.summary, &d.detail);
            continue;
        };
        if unknown_at(config, &path) || resolved_later(config, &path) {
            continue;
        }
        let detail = format!("Attribute {path}: {}", d.detail);
        push(diags, d.severity, Some(path), &d.summary, &detail);
    }
    // Clusters and server groups named by clusterSize preconditions and canary scopes must
    // exist in AWS when the provider has an aws block.
    diags.extend(crate::aws::check_references(&encoded.json, &|p| {
        attribute_path(&encoded, &blocks, p)
    }));
}

/// The HCL path of a JSON path of the encoded pipeline.
pub(crate) fn attribute_path(
    encoded: &EncodedPipeline,
    blocks: &PipelineBlocks,
    path: &validate::JsonPath,
) -> Option<AttributePath> {
    let steps = hcl_path(encoded, blocks, path)?;
    let mut out: Option<AttributePath> = None;
    for step in steps {
        out = Some(match (out, step) {
            (None, HclStep::Name(n)) => AttributePath::root(&n),
            (Some(p), HclStep::Name(n)) => p.attr(&n),
            (Some(p), HclStep::Index(i)) => p.index(i64::try_from(i).unwrap_or(i64::MAX)),
            (None, HclStep::Index(_)) => return None,
        });
    }
    out
}

fn push(
    diags: &mut Diagnostics,
    severity: Severity,
    path: Option<AttributePath>,
    summary: &str,
    detail: &str,
) {
    match (severity, path) {
        (Severity::Error, Some(p)) => {
            diags.attribute_error(p, summary, detail);
        }
        (Severity::Error, None) => {
            diags.error(summary, detail);
        }
        (_, p) => {
            diags.warning(p, summary, detail);
        }
    }
}

fn elements<'a>(v: &'a Value, name: &str) -> &'a [Value] {
    v.attr(name)
        .and_then(Value::as_elements)
        .unwrap_or_default()
}

/// Whether the configuration value at `path` (or on the way to it) is unknown.
fn unknown_at(config: &Value, path: &AttributePath) -> bool {
    use crate::diag::PathStep;
    let mut cur = config;
    for step in &path.0 {
        if cur.is_unknown() {
            return true;
        }
        let next = match step {
            PathStep::Attribute(a) | PathStep::Key(a) => cur.attr(a),
            PathStep::Index(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| cur.as_elements().and_then(|e| e.get(i))),
        };
        match next {
            Some(v) => cur = v,
            None => return false,
        }
    }
    cur.contains_unknown()
}

/// A missing `pipeline` id is fine when `pipeline_name` is set: apply resolves it.
fn resolved_later(config: &Value, path: &AttributePath) -> bool {
    use crate::diag::PathStep;
    let [
        PathStep::Attribute(block),
        PathStep::Index(i),
        PathStep::Attribute(attr),
    ] = path.0.as_slice()
    else {
        return false;
    };
    attr == "pipeline"
        && usize::try_from(*i)
            .ok()
            .and_then(|i| elements(config, block).get(i))
            .and_then(|b| b.attr("pipeline_name"))
            .is_some_and(|n| !n.is_null())
}

/// Every `Kind::Json` attribute must hold JSON text.
fn check_json_attributes(config: &Value, diags: &mut Diagnostics) {
    let top = blocks::pipeline_block();
    for a in top.attributes.iter().filter(|a| a.kind == Kind::Json) {
        check_json(
            config.attr(a.name),
            AttributePath::root(a.name),
            a.codec == Codec::Rest,
            diags,
        );
    }
    for spec in blocks::triggers().iter().chain(blocks::stages()) {
        for (i, item) in elements(config, spec.name).iter().enumerate() {
            for a in spec.attributes.iter().filter(|a| a.kind == Kind::Json) {
                let path = AttributePath::root(spec.name)
                    .index(i64::try_from(i).unwrap_or(i64::MAX))
                    .attr(a.name);
                check_json(item.attr(a.name), path, a.codec == Codec::Rest, diags);
            }
        }
    }
}

fn check_json(v: Option<&Value>, path: AttributePath, object: bool, diags: &mut Diagnostics) {
    let Some(Value::String(text)) = v else { return };
    match serde_json::from_str::<serde_json::Value>(text) {
        Err(e) => {
            diags.attribute_error(
                path.clone(),
                "Invalid JSON",
                format!("Attribute {path} must be JSON text (use jsonencode(...)), got an error at line {} column {}: {e}.", e.line(), e.column()),
            );
        }
        Ok(v) if object && !v.is_object() => {
            diags.attribute_error(
                path.clone(),
                "Invalid JSON",
                format!(
                    "Attribute {path} must be a JSON object of stage fields, got: {}.",
                    pipeline::model::json_kind(&v)
                ),
            );
        }
        Ok(_) => {}
    }
}

/// `custom_stage` must not carry an infrastructure type nor set, in `json`, fields that have
/// their own attributes.
fn check_custom_stages(config: &Value, diags: &mut Diagnostics) {
    let spec = blocks::custom_stage();
    let modelled: HashSet<&str> = spec.modelled_keys().into_iter().collect();
    for (i, stage) in elements(config, spec.name).iter().enumerate() {
        let base = AttributePath::root(spec.name).index(i64::try_from(i).unwrap_or(i64::MAX));
        if let Some(kind) = stage.attr("type").and_then(Value::as_str)
            && let Some(group) = stage_types::infrastructure_group(kind)
        {
            let path = base.clone().attr("type");
            diags.attribute_error(
                path.clone(),
                "Infrastructure Stage Not Allowed",
                format!(
                    "Attribute {path} is {kind:?} ({}), a stage type that changes cloud infrastructure. \
                     Server groups, load balancers and other cloud resources belong to Terraform resources, not to \
                     spinnaker_pipeline; remove this stage (infrastructure stages created in Spinnaker are kept and \
                     listed in unmanaged_stages).",
                    group.description()
                ),
            );
        }
        if let Some(Value::String(text)) = stage.attr("json")
            && let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(text)
        {
            for key in fields.keys().filter(|k| modelled.contains(k.as_str())) {
                let path = base.clone().attr("json");
                let attr = spec
                    .hcl_name_for_json_key(key)
                    .unwrap_or("its own attribute");
                diags.attribute_error(
                    path.clone(),
                    "Field Set Twice",
                    format!("Attribute {path} sets {key:?}, which custom_stage sets with `{attr}`; move it there."),
                );
            }
        }
    }
}

/// `pipeline_trigger` and `pipeline_stage` name their upstream by `pipeline` (id) or
/// `pipeline_name`, not both and not neither.
fn check_upstream_references(config: &Value, diags: &mut Diagnostics) {
    for name in ["pipeline_trigger", "pipeline_stage"] {
        for (i, item) in elements(config, name).iter().enumerate() {
            let id = item.attr("pipeline").unwrap_or(&Value::Null);
            let by_name = item.attr("pipeline_name").unwrap_or(&Value::Null);
            if id.is_unknown() || by_name.is_unknown() {
                continue;
            }
            let path = AttributePath::root(name).index(i64::try_from(i).unwrap_or(i64::MAX));
            match (id.is_null(), by_name.is_null()) {
                (false, false) => {
                    diags.attribute_error(
                        path.clone().attr("pipeline_name"),
                        "Conflicting Pipeline Reference",
                        format!("Attribute {path}.pipeline_name cannot be set together with {path}.pipeline; name the upstream pipeline by id or by name."),
                    );
                }
                (true, true) => {
                    diags.attribute_error(
                        path.clone().attr("pipeline"),
                        "Missing Pipeline Reference",
                        format!("Attribute {path}.pipeline or {path}.pipeline_name must be set: the id or the name of the pipeline in application {}.", item.attr("application").and_then(Value::as_str).unwrap_or("(unset)")),
                    );
                }
                _ => {}
            }
        }
    }
}
