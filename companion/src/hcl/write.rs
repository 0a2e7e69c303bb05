//! The HCL writer: pipeline JSON → `resource "spinnaker_pipeline"` blocks, using the typed
//! blocks of `pipeline::blocks` (the one catalogue of attribute names), formatted by hcl-rs and
//! aligned like `terraform fmt`.
//!
//! Infrastructure stages are not written (Terraform keeps them as unmanaged stages); a comment
//! above the resource lists them, and likewise triggers of types without a block. JSON-valued
//! attributes are written as `jsonencode({ ... })` over a multi-line HCL object.

use hcl::expr::{Expression, Traversal, Variable};
use hcl::format::{Format, Formatter};
use hcl::{Block, Body};
use pipeline::blocks::pipeline::{DecodedPipeline, decode_pipeline};
use pipeline::blocks::{self, BlockSpec, BlockValue, Kind};
use pipeline::model::Pipeline;
use serde_json::Value as Json;

use super::align::align;
use crate::Error;

/// How the `application` attribute is written.
#[derive(Debug, Clone)]
pub enum ApplicationRef {
    /// The application name as a string.
    Literal,
    /// A reference to the `name` of a `spinnaker_application` resource with this name.
    Resource(String),
}

/// One resource ready to print: comment lines above it and the block itself, plus the raw
/// `jsonencode` texts its placeholders stand for.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Comment lines (without `# `) printed above the block.
    pub comments: Vec<String>,
    /// The block.
    pub block: Block,
    raw: Vec<String>,
}

impl Resource {
    /// A resource with no JSON placeholders.
    pub fn plain(block: Block, comments: Vec<String>) -> Resource {
        Resource {
            comments,
            block,
            raw: Vec::new(),
        }
    }
}

/// What the writer could not express, for the caller to report.
#[derive(Debug, Clone, Default)]
pub struct Notes {
    /// Problems: stages that no block can hold (they would be removed on apply).
    pub warnings: Vec<String>,
}

const RAW_PREFIX: &str = "spinhcl_raw_";

/// Converts one pipeline to a `spinnaker_pipeline` resource block named `resource_name`.
///
/// # Errors
/// [`Error::Input`] (naming `file` and the field) when a modelled field holds JSON its attribute
/// type cannot hold.
pub fn pipeline_resource(
    file: &str,
    pipeline: &Pipeline,
    resource_name: &str,
    application: &ApplicationRef,
    notes: &mut Notes,
) -> Result<Resource, Error> {
    let decoded = decode_pipeline(pipeline.raw()).map_err(|e| {
        Error::input(
            file,
            format!("pipeline {:?}: {e}", pipeline.name().unwrap_or("(unnamed)")),
        )
    })?;
    let mut raw = Vec::new();
    let mut builder = Block::builder("resource")
        .add_label("spinnaker_pipeline")
        .add_label(resource_name);
    let top = blocks::pipeline_block();
    for attr in &top.attributes {
        let value = decoded.blocks.top.get(attr.name);
        if attr.name == "application"
            && let ApplicationRef::Resource(name) = application
        {
            let traversal = Traversal::builder(Variable::unchecked("spinnaker_application"))
                .attr(name.as_str())
                .attr("name")
                .build();
            builder = builder.add_attribute(("application", Expression::from(traversal)));
            continue;
        }
        if let Some(expr) = expression(attr.kind, value, 1, &mut raw) {
            builder = builder.add_attribute((attr.name, expr));
        }
    }
    for nested in &top.blocks {
        for item in decoded.blocks.top.nested(nested.block.name) {
            builder = builder.add_block(block(&nested.block, item, 2, &mut raw));
        }
    }
    for trigger in &decoded.blocks.triggers {
        builder = builder.add_block(block(trigger.spec, &trigger.value, 2, &mut raw));
    }
    for stage in &decoded.blocks.stages {
        builder = builder.add_block(block(stage.spec, &stage.value, 2, &mut raw));
    }
    let comments = comments(pipeline, &decoded, notes);
    Ok(Resource {
        comments,
        block: builder.build(),
        raw,
    })
}

fn comments(pipeline: &Pipeline, decoded: &DecodedPipeline, notes: &mut Notes) -> Vec<String> {
    let name = pipeline.name().unwrap_or("(unnamed)");
    let mut lines = Vec::new();
    if !decoded.unmanaged_stages.is_empty() {
        lines.push(format!(
            "Pipeline {name:?}: infrastructure stages stay unmanaged (kept as they are in Spinnaker):"
        ));
        for s in &decoded.unmanaged_stages {
            lines.push(format!(
                "  ref_id {:?}: {:?} ({})",
                s.ref_id, s.name, s.stage_type
            ));
        }
    }
    if !decoded.unmodelled_triggers.is_empty() {
        let types: Vec<String> = decoded
            .unmodelled_triggers
            .iter()
            .map(|t| {
                t.get("type")
                    .and_then(Json::as_str)
                    .unwrap_or("(no type)")
                    .to_owned()
            })
            .collect();
        lines.push(format!(
            "Pipeline {name:?}: triggers without a block stay as they are in Spinnaker: {}",
            types.join(", ")
        ));
    }
    let unmodelled = unmodelled_fields(pipeline);
    if !unmodelled.is_empty() {
        lines.push(format!(
            "Pipeline {name:?}: fields without an attribute, kept by the provider when it writes over the live pipeline (import first), not written to a new one:"
        ));
        lines.extend(unmodelled.into_iter().map(|l| format!("  {l}")));
    }
    for (stage, error) in &decoded.undecodable_stages {
        let ref_id = stage
            .get("refId")
            .and_then(pipeline::model::ref_id_string)
            .unwrap_or_default();
        let message = format!(
            "pipeline {name:?}: stage ref_id {ref_id:?} cannot be written as HCL ({error}); applying this file would remove it"
        );
        lines.push(format!("WARNING: {message}"));
        notes.warnings.push(message);
    }
    lines
}

/// True for JSON that decodes as unset (null, `""`, `[]`, `{}`).
fn is_empty(value: &Json) -> bool {
    match value {
        Json::Null => true,
        Json::String(s) => s.is_empty(),
        Json::Array(a) => a.is_empty(),
        Json::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Keys of the typed stages and triggers of `pipeline` that their block does not model, one
/// line per stage or trigger: `stage "3" (wait): isNew, foo`.
pub fn unmodelled_fields(pipeline: &Pipeline) -> Vec<String> {
    let mut out = Vec::new();
    let extra = |spec: &BlockSpec, object: &serde_json::Map<String, Json>| {
        let modelled = spec.modelled_keys();
        object
            .iter()
            .filter(|(k, v)| !modelled.contains(&k.as_str()) && !is_empty(v))
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (i, trigger) in pipeline.triggers().iter().enumerate() {
        let Some(spec) = trigger.trigger_type().and_then(blocks::trigger_for_type) else {
            continue;
        };
        let keys = extra(spec, trigger.raw());
        if !keys.is_empty() {
            out.push(format!("trigger {} ({}): {keys}", i + 1, spec.name));
        }
    }
    for stage in pipeline.stages() {
        let Some(spec) = stage.stage_type().and_then(blocks::stage_for_type) else {
            continue;
        };
        if blocks::decode(spec, stage.raw()).is_err() {
            continue;
        }
        let keys = extra(spec, stage.raw());
        if !keys.is_empty() {
            let ref_id = stage.ref_id().unwrap_or_default();
            out.push(format!("stage {ref_id:?} ({}): {keys}", spec.name));
        }
    }
    out
}

/// A block of `spec` from its value; `depth` is the nesting depth of its attributes.
fn block(spec: &BlockSpec, value: &BlockValue, depth: usize, raw: &mut Vec<String>) -> Block {
    let mut builder = Block::builder(spec.name);
    for attr in &spec.attributes {
        if let Some(expr) = expression(attr.kind, value.get(attr.name), depth, raw) {
            builder = builder.add_attribute((attr.name, expr));
        }
    }
    for nested in &spec.blocks {
        for item in value.nested(nested.block.name) {
            builder = builder.add_block(block(&nested.block, item, depth + 1, raw));
        }
    }
    builder.build()
}

/// The HCL expression of an attribute value, `None` when unset.
fn expression(kind: Kind, value: &Json, depth: usize, raw: &mut Vec<String>) -> Option<Expression> {
    if value.is_null() {
        return None;
    }
    let expr = match kind {
        Kind::Json => {
            let text = json_text(value, depth);
            let placeholder = format!("{RAW_PREFIX}{}", raw.len());
            raw.push(text);
            Expression::Variable(Variable::unchecked(placeholder))
        }
        Kind::String | Kind::NumberOrExpression => match value {
            Json::String(s) => Expression::String(s.clone()),
            other => Expression::String(other.to_string()),
        },
        Kind::StringMap => match value {
            Json::Object(map) => Expression::Object(
                map.iter()
                    .map(|(k, v)| {
                        let v = match v {
                            Json::String(s) => Expression::String(s.clone()),
                            other => Expression::String(other.to_string()),
                        };
                        (hcl::ObjectKey::Expression(Expression::String(k.clone())), v)
                    })
                    .collect(),
            ),
            other => to_expression(other),
        },
        _ => to_expression(value),
    };
    Some(expr)
}

fn to_expression(value: &Json) -> Expression {
    hcl::to_expression(value).unwrap_or(Expression::Null)
}

/// `jsonencode(<value>)` with the value as a multi-line HCL expression indented for `depth`.
fn json_text(value: &Json, depth: usize) -> String {
    let expr = to_expression(value);
    let mut buf = Vec::new();
    let mut formatter = Formatter::builder().build(&mut buf);
    let text = match expr.format(&mut formatter) {
        Ok(()) => String::from_utf8(buf).unwrap_or_default(),
        Err(_) => "null".to_owned(),
    };
    let indent = "  ".repeat(depth);
    let mut out = String::from("jsonencode(");
    for (i, line) in text.trim_end().split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.is_empty() {
                out.push_str(&indent);
            }
        }
        out.push_str(line);
    }
    out.push(')');
    out
}

/// Prints resources as one `terraform fmt`-clean file: comments above each block, one blank
/// line between blocks.
pub fn render(resources: &[Resource]) -> String {
    let mut out = String::new();
    for (i, resource) in resources.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for line in &resource.comments {
            if line.is_empty() {
                out.push_str("#\n");
            } else {
                out.push_str("# ");
                out.push_str(line.trim_end());
                out.push('\n');
            }
        }
        let body = Body::builder().add_block(resource.block.clone()).build();
        let mut buf = Vec::new();
        let mut formatter = Formatter::builder().compact_arrays(true).build(&mut buf);
        let mut text = match body.format(&mut formatter) {
            Ok(()) => String::from_utf8(buf).unwrap_or_default(),
            Err(_) => String::new(),
        };
        for (n, raw) in resource.raw.iter().enumerate().rev() {
            text = text.replace(&format!("= {RAW_PREFIX}{n}\n"), &format!("= {raw}\n"));
        }
        out.push_str(&align(&text));
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}
