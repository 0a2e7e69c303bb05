//! `spinhcl review`: a `terraform show -json PLAN` → a pull-request comment about the pipeline
//! changes (Markdown with a Mermaid stage graph), plain text, or JSON; `--fail-on` gates CI.
//!
//! * [`plan`]: reading the plan JSON.
//! * [`diff`]: what changes inside each pipeline, boundary warnings, the graph after the change.
//! * [`render`]: Markdown and text.

pub mod diff;
pub mod plan;
pub mod render;

use std::io::Write;

use clap::Args;

use crate::input::Source;
use crate::{Error, Status};
use diff::PipelineChange;
use plan::Action;

/// Output format of `review`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReviewFormat {
    /// Markdown for a pull-request comment, with Mermaid stage graphs.
    Markdown,
    /// Plain text.
    Text,
    /// Machine-readable JSON.
    Json,
}

/// Flags of `spinhcl review`.
#[derive(Debug, Args)]
#[command(
    after_help = "Make the input with: terraform plan -out=tfplan && terraform show -json tfplan > plan.json\n\n\
Exit codes: 0 reviewed; 1 error (unreadable or not a plan); 2 a --fail-on action is in the plan \
(the review is still printed)."
)]
pub struct ReviewArgs {
    /// The JSON of `terraform show -json PLAN`, or `-` for stdin.
    #[arg(value_name = "PLAN.json")]
    pub plan: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReviewFormat::Markdown)]
    pub format: ReviewFormat,
    /// Exit 2 when a pipeline or application would get one of these actions, e.g.
    /// `destroy,replace`.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "ACTION,...")]
    pub fail_on: Vec<Action>,
}

/// An application resource change, listed briefly.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ApplicationChange {
    /// Resource address.
    pub address: String,
    /// What happens.
    pub action: Action,
}

/// The whole review.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Review {
    /// Terraform version that made the plan.
    pub terraform_version: String,
    /// Pipelines that change (no-ops left out).
    pub pipelines: Vec<PipelineChange>,
    /// Applications that change.
    pub applications: Vec<ApplicationChange>,
}

/// Reviews a plan's JSON text.
///
/// # Errors
/// [`Error::Input`] naming `file` when it is not a plan.
pub fn review(file: &str, text: &str) -> Result<Review, Error> {
    let plan = plan::parse(file, text)?;
    let mut pipelines = Vec::new();
    let mut applications = Vec::new();
    for change in &plan.changes {
        if matches!(change.action, Action::NoOp | Action::Read) {
            continue;
        }
        if change.resource_type == "spinnaker_pipeline" {
            pipelines.push(diff::pipeline_change(change));
        } else {
            applications.push(ApplicationChange {
                address: change.address.clone(),
                action: change.action,
            });
        }
    }
    Ok(Review {
        terraform_version: plan.terraform_version,
        pipelines,
        applications,
    })
}

/// Runs `spinhcl review`.
///
/// # Errors
/// Unreadable input or not a plan.
pub fn run(args: &ReviewArgs, out: &mut dyn Write) -> Result<Status, Error> {
    let source = Source::read(&args.plan)?;
    let review = review(&source.name, &source.text)?;
    let text = match args.format {
        ReviewFormat::Markdown => render::markdown(&review),
        ReviewFormat::Text => render::text(&review),
        ReviewFormat::Json => {
            let mut t = serde_json::to_string_pretty(&review).map_err(std::io::Error::other)?;
            t.push('\n');
            t
        }
    };
    out.write_all(text.as_bytes())?;
    let gated = review
        .pipelines
        .iter()
        .map(|p| p.action)
        .chain(review.applications.iter().map(|a| a.action))
        .any(|a| args.fail_on.contains(&a));
    Ok(if gated {
        Status::Gated
    } else {
        Status::Success
    })
}
