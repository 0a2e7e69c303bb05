//! `spinhcl canary judge`: Kayenta's NetflixACAJudge over two series files, via
//! `canary::cli::judge_files`.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::{Error, Status};

/// `spinhcl canary ...`.
#[derive(Debug, Subcommand)]
pub enum CanaryCommand {
    /// Judge a canary offline: prints Kayenta's `judgeResult` JSON on stdout.
    Judge(JudgeArgs),
}

/// Flags of `spinhcl canary judge`.
#[derive(Debug, Args)]
#[command(
    after_help = "Series files are JSON objects {\"metric name\": [number or null, ...]}.\n\n\
Exit codes: 0 judged (whatever the score); 1 error (unreadable file, bad field, bad thresholds)."
)]
pub struct JudgeArgs {
    /// Canary config JSON (Kayenta's `/v2/canaryConfig` shape).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Control (baseline) series.
    #[arg(long, value_name = "FILE")]
    pub control: PathBuf,
    /// Experiment (canary) series.
    #[arg(long, value_name = "FILE")]
    pub experiment: PathBuf,
    /// Score thresholds `MARGINAL,PASS` (0 ≤ marginal ≤ pass ≤ 100); default: the config's
    /// `classifier.scoreThresholds`, else 50,75.
    #[arg(long, value_name = "MARGINAL,PASS")]
    pub thresholds: Option<String>,
}

/// Parses `MARGINAL,PASS`.
fn thresholds(text: &str) -> Result<(f64, f64), Error> {
    let bad = || Error::Usage {
        flag: "--thresholds",
        message: format!("expected MARGINAL,PASS (two numbers), got {text:?}"),
    };
    let (marginal, pass) = text.split_once(',').ok_or_else(bad)?;
    let marginal: f64 = marginal.trim().parse().map_err(|_| bad())?;
    let pass: f64 = pass.trim().parse().map_err(|_| bad())?;
    Ok((marginal, pass))
}

/// Runs `spinhcl canary judge`, writing the pretty-printed `judgeResult` to `out`.
///
/// # Errors
/// Bad `--thresholds`, or any [`canary::cli::CliError`].
pub fn run(args: &JudgeArgs, out: &mut dyn Write) -> Result<Status, Error> {
    let thresholds = args.thresholds.as_deref().map(thresholds).transpose()?;
    let result =
        canary::cli::judge_files(&args.config, &args.control, &args.experiment, thresholds)?;
    let text = serde_json::to_string_pretty(&result).map_err(std::io::Error::other)?;
    writeln!(out, "{text}")?;
    Ok(Status::Success)
}
