//! `spinhcl convert`: pipeline JSON (one object or an array) → `spinnaker_pipeline` HCL, offline.

use std::io::Write;

use clap::Args;
use pipeline::model::Pipeline;

use crate::hcl::names::{UniqueNames, snake_case};
use crate::hcl::write::{self, ApplicationRef, Notes, Resource};
use crate::input::Source;
use crate::{Error, Status};

/// Flags of `spinhcl convert`.
#[derive(Debug, Args)]
#[command(
    after_help = "Writes one `resource \"spinnaker_pipeline\"` per pipeline, in the typed \
blocks of the provider. Unmodelled non-infrastructure stages become `custom_stage`; infrastructure \
stages are not written (Terraform keeps them unmanaged) and a comment lists them. The output is \
`terraform fmt`-clean. Warnings go to stderr.\n\n\
Exit codes: 0 converted; 1 error (unreadable file, invalid JSON, a field of the wrong type)."
)]
pub struct ConvertArgs {
    /// Pipeline JSON file, or `-` for stdin.
    #[arg(value_name = "FILE|-")]
    pub source: String,
}

/// The Terraform resource name of a pipeline: `<application>_<pipeline>` in snake_case.
pub fn resource_base_name(pipeline: &Pipeline) -> String {
    let name = pipeline.name().unwrap_or("pipeline");
    match pipeline.application() {
        Some(app) if !app.is_empty() => snake_case(&format!("{app} {name}")),
        _ => snake_case(name),
    }
}

/// HCL for `pipelines`, with unique resource names claimed from `names`.
///
/// # Errors
/// A field of the wrong type, naming `file` and the field.
pub fn resources(
    file: &str,
    pipelines: &[Pipeline],
    names: &mut UniqueNames,
    application: &dyn Fn(&Pipeline) -> ApplicationRef,
    notes: &mut Notes,
) -> Result<Vec<(String, Resource)>, Error> {
    pipelines
        .iter()
        .map(|p| {
            let name = names.claim(&resource_base_name(p));
            let resource = write::pipeline_resource(file, p, &name, &application(p), notes)?;
            Ok((name, resource))
        })
        .collect()
}

/// Converts the pipelines of `source` to HCL text.
///
/// # Errors
/// Invalid JSON or a field of the wrong type, naming the file.
pub fn convert(source: &Source) -> Result<(String, Notes), Error> {
    let pipelines = pipeline::model::parse_pipelines_named(&source.name, source.text.as_bytes())?;
    let mut notes = Notes::default();
    let mut names = UniqueNames::default();
    let resources = resources(
        &source.name,
        &pipelines,
        &mut names,
        &|_| ApplicationRef::Literal,
        &mut notes,
    )?;
    let blocks: Vec<Resource> = resources.into_iter().map(|(_, r)| r).collect();
    Ok((write::render(&blocks), notes))
}

/// Runs `spinhcl convert`, writing HCL to `out`.
///
/// # Errors
/// As [`convert`].
pub fn run(args: &ConvertArgs, out: &mut dyn Write) -> Result<Status, Error> {
    let source = Source::read(&args.source)?;
    let (text, notes) = convert(&source)?;
    for warning in &notes.warnings {
        tracing::warn!("{}: {warning}", source.name);
    }
    out.write_all(text.as_bytes())?;
    Ok(Status::Success)
}
