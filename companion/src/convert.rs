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
    /// Application for pipelines that have none.
    #[arg(long, value_name = "APP")]
    pub application: Option<String>,
    /// Name for the pipeline if it has none (only when one pipeline lacks a name).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// Fills in a missing `application` and `name`; pipelines must end up with both.
///
/// # Errors
/// [`Error::Input`] naming the file and the pipeline index when a field stays missing.
pub fn complete(
    file: &str,
    pipelines: &mut [Pipeline],
    application: Option<&str>,
    name: Option<&str>,
) -> Result<(), Error> {
    let unnamed = pipelines.iter().filter(|p| missing(p, "name")).count();
    for (i, p) in pipelines.iter_mut().enumerate() {
        for (field, value, flag) in [
            ("application", application, "--application"),
            ("name", name, "--name"),
        ] {
            if !missing(p, field) {
                continue;
            }
            match value {
                Some(v) if field == "application" || unnamed == 1 => {
                    p.raw_mut()
                        .insert(field.into(), serde_json::Value::String(v.to_owned()));
                }
                _ => {
                    return Err(Error::input(
                        file,
                        format!(
                            "pipeline [{i}] has no `{field}` (Front50 needs one); add it to the JSON or pass {flag}"
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn missing(pipeline: &Pipeline, field: &str) -> bool {
    pipeline
        .raw()
        .get(field)
        .and_then(serde_json::Value::as_str)
        .is_none_or(|s| s.trim().is_empty())
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
pub fn convert(
    source: &Source,
    application: Option<&str>,
    name: Option<&str>,
) -> Result<(String, Notes), Error> {
    let mut pipelines =
        pipeline::model::parse_pipelines_named(&source.name, source.text.as_bytes())?;
    complete(&source.name, &mut pipelines, application, name)?;
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
    let (text, notes) = convert(&source, args.application.as_deref(), args.name.as_deref())?;
    for warning in &notes.warnings {
        tracing::warn!("{}: {warning}", source.name);
    }
    out.write_all(text.as_bytes())?;
    Ok(Status::Success)
}
