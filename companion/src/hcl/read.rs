//! The HCL reader: `.tf` text → the `spinnaker_pipeline` resources in it, as typed blocks and
//! the pipeline JSON they encode to, with the source span of every attribute and block so
//! problems print as `file:line:col`.
//!
//! Values are evaluated with hcl-rs; `jsonencode(...)` is understood. Expressions that need
//! Terraform (references, variables, other functions) are unknown: they read as unset, and
//! `validate` does not judge them.

use std::ops::Range;

use hcl::edit::Span;
use hcl::edit::structure::{Body, Structure};
use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use pipeline::blocks::pipeline::{
    EncodedPipeline, HclStep, PipelineBlocks, TypedBlock, encode_pipeline, hcl_path,
};
use pipeline::blocks::{self, BlockSpec, BlockValue, Category, Kind};
use pipeline::model::Pipeline;
use pipeline::validate::{self as rules, Severity};
use serde_json::Value as Json;

use crate::Error;
use crate::input::{Kind as SourceKind, Source};
use crate::validate::{Finding, describe, finding};

/// Terraform meta-arguments and blocks allowed in any resource.
const META_ARGUMENTS: &[&str] = &["count", "for_each", "provider", "depends_on"];
const META_BLOCKS: &[&str] = &["lifecycle", "provisioner", "connection", "timeouts"];

/// One `resource "spinnaker_pipeline"` read from a file.
#[derive(Debug, Clone)]
pub struct TfPipeline {
    /// `spinnaker_pipeline.<name>`.
    pub address: String,
    /// The declared blocks.
    pub blocks: PipelineBlocks,
    /// What they encode to (no live pipeline: only declared fields).
    pub encoded: EncodedPipeline,
    /// Byte span of the resource block.
    pub span: Range<usize>,
    spans: Vec<(Vec<HclStep>, Range<usize>)>,
    problems: Vec<(Range<usize>, Severity, String)>,
}

impl TfPipeline {
    /// The pipeline JSON the resource declares.
    pub fn pipeline(&self) -> Pipeline {
        Pipeline::from_map(self.encoded.json.clone())
    }

    /// The span of the longest recorded prefix of `steps`, else the resource's.
    fn span_of(&self, steps: &[HclStep]) -> Range<usize> {
        (0..=steps.len())
            .rev()
            .find_map(|n| {
                let prefix = steps.get(..n)?;
                self.spans
                    .iter()
                    .find(|(s, _)| s.as_slice() == prefix)
                    .map(|(_, r)| r.clone())
            })
            .unwrap_or_else(|| self.span.clone())
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Parses `.tf` text and reads every `spinnaker_pipeline` resource.
///
/// # Errors
/// [`Error::Input`] with `line:col` when the text is not HCL.
pub fn read_tf(source: &Source) -> Result<Vec<TfPipeline>, Error> {
    let body = hcl::edit::parser::parse_body(&source.text).map_err(|e| {
        let l = e.location();
        Error::input(
            format!("{}:{}:{}", source.name, l.line(), l.column()),
            format!("invalid HCL: {}", e.message().replace('\n', " ")),
        )
    })?;
    let context = context();
    let mut out = Vec::new();
    for structure in body.iter() {
        let Structure::Block(block) = structure else {
            continue;
        };
        let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
        if block.ident.as_str() != "resource" || labels.first() != Some(&"spinnaker_pipeline") {
            continue;
        }
        let name = labels.get(1).copied().unwrap_or("");
        let mut reader = Reader {
            context: &context,
            spans: Vec::new(),
            problems: Vec::new(),
        };
        let span = block.span().unwrap_or(0..0);
        let blocks = reader.resource(&block.body);
        let encoded = encode_pipeline(&blocks, None);
        out.push(TfPipeline {
            address: format!("spinnaker_pipeline.{name}"),
            blocks,
            encoded,
            span,
            spans: reader.spans,
            problems: reader.problems,
        });
    }
    Ok(out)
}

/// The pipelines of a document of either kind (JSON or `.tf`).
///
/// # Errors
/// Parse errors naming the file.
pub fn load_pipelines(source: &Source) -> Result<Vec<Pipeline>, Error> {
    match source.kind() {
        SourceKind::PipelineJson => Ok(pipeline::model::parse_pipelines_named(
            &source.name,
            source.text.as_bytes(),
        )?),
        SourceKind::Terraform => Ok(read_tf(source)?.iter().map(TfPipeline::pipeline).collect()),
    }
}

/// Checks every `spinnaker_pipeline` of a `.tf` file: reading problems, the boundary, and the
/// model crate's rules, each mapped back to the attribute or block that caused it.
pub fn check_tf(source: &Source) -> Vec<Finding> {
    let resources = match read_tf(source) {
        Ok(r) => r,
        Err(Error::Input { file, message }) => {
            let mut parts = file.rsplitn(3, ':');
            let column = parts.next().and_then(|c| c.parse().ok()).unwrap_or(1);
            let line = parts.next().and_then(|l| l.parse().ok()).unwrap_or(1);
            return vec![finding(
                &source.name,
                (line, column),
                Severity::Error,
                message,
            )];
        }
        Err(e) => {
            return vec![finding(
                &source.name,
                (1, 1),
                Severity::Error,
                e.to_string(),
            )];
        }
    };
    let mut findings = Vec::new();
    for resource in &resources {
        for (span, severity, message) in &resource.problems {
            findings.push(finding(
                &source.name,
                line_col(&source.text, span.start),
                *severity,
                format!("{}: {message}", resource.address),
            ));
        }
        let pipeline = resource.pipeline();
        let declared: Vec<String> = resource
            .blocks
            .stages
            .iter()
            .filter_map(|s| s.ref_id().map(str::to_owned))
            .collect();
        let diagnostics = rules::boundary_violations(&pipeline)
            .into_iter()
            .chain(rules::validate(&pipeline));
        for mut diagnostic in diagnostics {
            let steps = hcl_path(&resource.encoded, &resource.blocks, &diagnostic.path);
            let field = match &steps {
                Some(s) if !s.is_empty() => format!("{}.{}", resource.address, steps_text(s)),
                _ => resource.address.clone(),
            };
            if diagnostic.summary == "Unknown Stage Dependency" {
                // An infrastructure stage of the live pipeline may carry that refId.
                diagnostic.severity = Severity::Warning;
                diagnostic.detail = format!(
                    "{} (declared here: {}); fine only if the live pipeline has an unmanaged stage with that refId",
                    diagnostic.detail,
                    declared.join(", ")
                );
            }
            let span = resource.span_of(steps.as_deref().unwrap_or_default());
            findings.push(finding(
                &source.name,
                line_col(&source.text, span.start),
                diagnostic.severity,
                describe(&diagnostic, &field),
            ));
        }
    }
    findings
}

/// `wait_stage[0].depends_on`.
pub fn steps_text(steps: &[HclStep]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            HclStep::Name(n) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(n);
            }
            HclStep::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn jsonencode(args: FuncArgs) -> Result<hcl::Value, String> {
    let value = args
        .into_values()
        .into_iter()
        .next()
        .unwrap_or(hcl::Value::Null);
    serde_json::to_string(&value)
        .map(hcl::Value::String)
        .map_err(|e| e.to_string())
}

fn context() -> Context<'static> {
    let mut context = Context::new();
    context.declare_func(
        "jsonencode",
        FuncDef::builder().param(ParamType::Any).build(jsonencode),
    );
    context
}

struct Reader<'c> {
    context: &'c Context<'c>,
    spans: Vec<(Vec<HclStep>, Range<usize>)>,
    problems: Vec<(Range<usize>, Severity, String)>,
}

impl Reader<'_> {
    fn resource(&mut self, body: &Body) -> PipelineBlocks {
        let top_spec = blocks::pipeline_block();
        let mut out = PipelineBlocks::default();
        let mut top = BlockValue::default();
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attr) => {
                    let key = attr.key.as_str();
                    let span = attr.span().unwrap_or(0..0);
                    if META_ARGUMENTS.contains(&key) || is_computed(key) {
                        continue;
                    }
                    let path = vec![HclStep::Name(key.to_owned())];
                    self.attribute(top_spec, &mut top, key, &attr.value, span, path);
                }
                Structure::Block(block) => {
                    let ident = block.ident.as_str();
                    let span = block.span().unwrap_or(0..0);
                    if META_BLOCKS.contains(&ident) {
                        continue;
                    }
                    if let Some(nested) = top_spec.nested_block(ident) {
                        let index = top.nested(ident).len();
                        let path = vec![HclStep::Name(ident.to_owned()), HclStep::Index(index)];
                        let value = self.block(&nested.block, &block.body, span, path);
                        top.blocks.entry(ident.to_owned()).or_default().push(value);
                        continue;
                    }
                    match blocks::block_by_name(ident) {
                        Some(spec)
                            if matches!(spec.category, Category::Trigger | Category::Stage) =>
                        {
                            let list = if spec.category == Category::Trigger {
                                &mut out.triggers
                            } else {
                                &mut out.stages
                            };
                            let index = list.iter().filter(|b| b.spec.name == ident).count();
                            let path = vec![HclStep::Name(ident.to_owned()), HclStep::Index(index)];
                            let value = self.block(spec, &block.body, span, path);
                            list.push(TypedBlock { spec, value });
                        }
                        _ => self.problems.push((
                            span,
                            Severity::Error,
                            format!("unsupported block type {ident:?}"),
                        )),
                    }
                }
            }
        }
        out.top = top;
        out
    }

    fn block(
        &mut self,
        spec: &BlockSpec,
        body: &Body,
        span: Range<usize>,
        path: Vec<HclStep>,
    ) -> BlockValue {
        self.spans.push((path.clone(), span));
        let mut value = BlockValue::default();
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attr) => {
                    let key = attr.key.as_str();
                    let mut p = path.clone();
                    p.push(HclStep::Name(key.to_owned()));
                    let span = attr.span().unwrap_or(0..0);
                    self.attribute(spec, &mut value, key, &attr.value, span, p);
                }
                Structure::Block(block) => {
                    let ident = block.ident.as_str();
                    let span = block.span().unwrap_or(0..0);
                    match spec.nested_block(ident) {
                        Some(nested) => {
                            let index = value.nested(ident).len();
                            let mut p = path.clone();
                            p.extend([HclStep::Name(ident.to_owned()), HclStep::Index(index)]);
                            let item = self.block(&nested.block, &block.body, span, p);
                            value.blocks.entry(ident.to_owned()).or_default().push(item);
                        }
                        None => self.problems.push((
                            span,
                            Severity::Error,
                            format!("{}: unsupported block type {ident:?}", spec.name),
                        )),
                    }
                }
            }
        }
        for attr in &spec.attributes {
            if attr.required && !value.attributes.contains_key(attr.name) {
                self.problems.push((
                    self.spans
                        .iter()
                        .rev()
                        .find(|(p, _)| *p == path)
                        .map_or(0..0, |(_, r)| r.clone()),
                    Severity::Error,
                    format!("{}: missing required argument {:?}", spec.name, attr.name),
                ));
            }
        }
        value
    }

    fn attribute(
        &mut self,
        spec: &BlockSpec,
        value: &mut BlockValue,
        key: &str,
        expr: &hcl::edit::expr::Expression,
        span: Range<usize>,
        path: Vec<HclStep>,
    ) {
        let Some(attr) = spec.attribute(key) else {
            self.problems.push((
                span,
                Severity::Error,
                format!("{}: unsupported argument {key:?}", spec.name),
            ));
            return;
        };
        self.spans.push((path, span.clone()));
        let expression = hcl::Expression::from(expr.clone());
        let evaluated = match expression.evaluate(self.context) {
            Ok(v) => v,
            Err(_) => {
                // Needs Terraform (a reference, a variable, ...): unknown here.
                value.set(key, Json::Null);
                return;
            }
        };
        match convert(attr.kind, evaluated) {
            Ok(json) => value.set(key, json),
            Err(expected) => {
                self.problems.push((
                    span,
                    Severity::Error,
                    format!("{}.{key} must be {expected}", spec.name),
                ));
                value.set(key, Json::Null);
            }
        }
    }
}

/// Computed attributes of the resource, allowed (and ignored) in configuration dumps.
fn is_computed(key: &str) -> bool {
    pipeline::blocks::COMPUTED_ATTRIBUTES.contains(&key)
}

fn scalar_text(value: &hcl::Value) -> Option<String> {
    match value {
        hcl::Value::String(s) => Some(s.clone()),
        hcl::Value::Number(n) => Some(n.to_string()),
        hcl::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An evaluated HCL value as the neutral JSON value of an attribute of `kind`.
fn convert(kind: Kind, value: hcl::Value) -> Result<Json, &'static str> {
    if value.is_null() {
        return Ok(Json::Null);
    }
    let json = serde_json::to_value(&value).map_err(|_| "a plain value")?;
    match kind {
        Kind::String | Kind::NumberOrExpression => {
            scalar_text(&value).map(Json::String).ok_or("a string")
        }
        Kind::Number => match &json {
            Json::Number(_) => Ok(json),
            Json::String(s) => s
                .parse::<f64>()
                .ok()
                .and_then(|_| serde_json::from_str::<Json>(s).ok())
                .filter(Json::is_number)
                .ok_or("a number"),
            _ => Err("a number"),
        },
        Kind::Bool => match (&json, json.as_str()) {
            (Json::Bool(_), _) => Ok(json),
            (_, Some("true")) => Ok(Json::Bool(true)),
            (_, Some("false")) => Ok(Json::Bool(false)),
            _ => Err("a bool"),
        },
        Kind::StringList => match value {
            hcl::Value::Array(items) => items
                .iter()
                .map(|i| scalar_text(i).map(Json::String).ok_or("a list of strings"))
                .collect::<Result<Vec<_>, _>>()
                .map(Json::Array),
            _ => Err("a list of strings"),
        },
        Kind::NumberList => match &json {
            Json::Array(items) if items.iter().all(Json::is_number) => Ok(json),
            _ => Err("a list of numbers"),
        },
        Kind::StringMap => match value {
            hcl::Value::Object(map) => map
                .iter()
                .map(|(k, v)| {
                    scalar_text(v)
                        .map(|t| (k.clone(), Json::String(t)))
                        .ok_or("a map of strings")
                })
                .collect::<Result<serde_json::Map<_, _>, _>>()
                .map(Json::Object),
            _ => Err("a map of strings"),
        },
        Kind::Json => match json {
            Json::String(text) => {
                serde_json::from_str(&text).map_err(|_| "JSON text (use jsonencode)")
            }
            _ => Err("JSON text (use jsonencode)"),
        },
        _ => Ok(json),
    }
}
