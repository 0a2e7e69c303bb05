//! Runs `canary::cli::judge_files` on three files and prints the `judgeResult` JSON:
//! the library side of `spinhcl canary judge`, runnable before the CLI wires it.
//!
//! `cargo run -p canary --example judge_files -- CONFIG CONTROL EXPERIMENT [MARGINAL,PASS]`
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [config, control, experiment, rest @ ..] = args.as_slice() else {
        eprintln!("usage: judge_files CONFIG CONTROL EXPERIMENT [MARGINAL,PASS]");
        return ExitCode::from(2);
    };
    let thresholds = match rest.first().map(|t| t.split_once(',')) {
        None => None,
        Some(Some((m, p))) => match (m.trim().parse(), p.trim().parse()) {
            (Ok(m), Ok(p)) => Some((m, p)),
            _ => {
                eprintln!("thresholds must be MARGINAL,PASS numbers");
                return ExitCode::from(2);
            }
        },
        Some(None) => {
            eprintln!("thresholds must be MARGINAL,PASS");
            return ExitCode::from(2);
        }
    };
    match canary::cli::judge_files(
        &PathBuf::from(config),
        &PathBuf::from(control),
        &PathBuf::from(experiment),
        thresholds,
    ) {
        Ok(result) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&result).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
