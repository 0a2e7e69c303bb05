//! `spinhcl graph`: draws one pipeline's stage DAG from a `.tf` file, a JSON file or Gate.

use std::io::Write;

use clap::Args;
use pipeline::model::Pipeline;

use super::{Diagram, Format};
use crate::input::Source;
use crate::live::GateArgs;
use crate::{Error, Status};

/// Flags of `spinhcl graph`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 drawn; 1 error (unreadable input, no such pipeline, Gate failure)."
)]
pub struct GraphArgs {
    /// A `.tf` file, a pipeline JSON file, or `-` for JSON on stdin. Leave it out to read the
    /// pipeline from Gate with `--endpoint`, `--application` and `--pipeline`.
    #[arg(value_name = "FILE")]
    pub source: Option<String>,
    /// Output format: `mermaid` (Markdown-embeddable), `dot` (Graphviz) or `svg` (laid out
    /// in-process).
    #[arg(long, value_enum, default_value_t = Format::Mermaid)]
    pub format: Format,
    /// The pipeline to draw, by name; needed when the source holds several pipelines.
    #[arg(long, value_name = "NAME")]
    pub pipeline: Option<String>,
    /// The application of the live pipeline (with `--endpoint`).
    #[arg(long, value_name = "APP")]
    pub application: Option<String>,
    /// Gate connection (only for live pipelines).
    #[command(flatten)]
    pub gate: GateArgs,
}

/// Runs `spinhcl graph`, writing the drawing to `out`.
///
/// # Errors
/// Unreadable or invalid input, an ambiguous or unknown `--pipeline`, Gate failures.
pub fn run(args: &GraphArgs, out: &mut dyn Write) -> Result<Status, Error> {
    let pipeline = match &args.source {
        Some(path) => {
            let source = Source::read(path)?;
            let pipelines = crate::hcl::read::load_pipelines(&source)?;
            choose(&source.name, pipelines, args.pipeline.as_deref())?
        }
        None => live_pipeline(args)?,
    };
    let drawing = super::render(&Diagram::from_pipeline(&pipeline), args.format)?;
    out.write_all(drawing.as_bytes())?;
    Ok(Status::Success)
}

fn live_pipeline(args: &GraphArgs) -> Result<Pipeline, Error> {
    let (Some(application), Some(name)) = (&args.application, &args.pipeline) else {
        return Err(Error::Usage {
            flag: "--application",
            message: "give a FILE, or --endpoint with --application and --pipeline".into(),
        });
    };
    let client = args.gate.client()?;
    let found =
        crate::live::block_on(client.get_pipeline_config(application, name)).and_then(|r| {
            r.map_err(|source| Error::Gate {
                context: format!("reading pipeline {name:?} of application {application:?}"),
                source,
            })
        })?;
    match found {
        Some(serde_json::Value::Object(map)) => Ok(Pipeline::from_map(map)),
        _ => Err(Error::Usage {
            flag: "--pipeline",
            message: format!("application {application:?} has no pipeline named {name:?}"),
        }),
    }
}

/// Picks the pipeline named `wanted`, or the only one.
pub(crate) fn choose(
    file: &str,
    pipelines: Vec<Pipeline>,
    wanted: Option<&str>,
) -> Result<Pipeline, Error> {
    let names = |ps: &[Pipeline]| {
        ps.iter()
            .map(|p| format!("{:?}", p.name().unwrap_or("(unnamed)")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match wanted {
        Some(name) => {
            let all = names(&pipelines);
            pipelines
                .into_iter()
                .find(|p| p.name() == Some(name))
                .ok_or_else(|| {
                    Error::input(file, format!("no pipeline named {name:?} (found: {all})"))
                })
        }
        None if pipelines.len() == 1 => pipelines
            .into_iter()
            .next()
            .ok_or_else(|| Error::input(file, "holds no pipeline")),
        None if pipelines.is_empty() => Err(Error::input(file, "holds no pipeline")),
        None => Err(Error::input(
            file,
            format!(
                "holds {} pipelines ({}); choose one with --pipeline",
                pipelines.len(),
                names(&pipelines)
            ),
        )),
    }
}
