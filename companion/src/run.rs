//! `spinhcl run` and `spinhcl judge`: trigger a pipeline through Gate (or the embedded engine)
//! and follow its stages live until it finishes or waits for a manual judgment; answer a
//! judgment by stage id, refId or name.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use clap::Args;
use serde_json::{Map, Value, json};

use crate::live::{GateArgs, block_on};
use crate::{Error, Status};

/// The embedded engine's address, used when neither `--endpoint` nor `SPINNAKER_ENDPOINT` is set.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8084";

/// Flags of `spinhcl run`.
#[derive(Debug, Args)]
#[command(
    after_help = "Prints one line per stage status change, then the stages. Stops when the \
execution finishes or a manual judgment waits (answer it with `spinhcl judge`).\n\nExit codes: 0 \
succeeded or waiting for judgment; 1 the execution ended otherwise, or an error."
)]
pub struct RunArgs {
    /// The application.
    pub application: String,
    /// The pipeline name (or id).
    pub pipeline: String,
    /// A pipeline parameter `NAME=VALUE`; repeat for more.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// How often to poll the execution, in milliseconds.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub poll_ms: u64,
    /// Gate connection.
    #[command(flatten)]
    pub gate: GateArgs,
}

/// Flags of `spinhcl judge`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("decision").required(true).args(["proceed", "stop"]))]
pub struct JudgeArgs {
    /// The execution id.
    pub execution: String,
    /// The manual judgment stage: its id, refId or name.
    pub stage: String,
    /// Let the pipeline continue.
    #[arg(long = "continue")]
    pub proceed: bool,
    /// Stop the pipeline.
    #[arg(long)]
    pub stop: bool,
    /// The judgment input (one of the stage's `judgmentInputs`).
    #[arg(long, value_name = "VALUE")]
    pub input: Option<String>,
    /// Then follow the execution like `spinhcl run` (until it finishes or the next judgment).
    #[arg(long)]
    pub follow: bool,
    /// How often `--follow` polls, in milliseconds.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub poll_ms: u64,
    /// Gate connection.
    #[command(flatten)]
    pub gate: GateArgs,
}

fn client(gate: &GateArgs) -> Result<gate::Client, Error> {
    let mut gate = gate.clone();
    if gate.endpoint.is_none() {
        gate.endpoint = Some(DEFAULT_ENDPOINT.to_owned());
    }
    gate.client()
}

/// `NAME=VALUE` pairs → the trigger's `parameters`.
///
/// # Errors
/// [`Error::Usage`] naming `--param` for a pair without `=` or with an empty name.
pub fn parameters(pairs: &[String]) -> Result<Map<String, Value>, Error> {
    let mut out = Map::new();
    for pair in pairs {
        match pair.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                out.insert(name.trim().to_owned(), Value::from(value));
            }
            _ => {
                return Err(Error::Usage {
                    flag: "--param",
                    message: format!("expected NAME=VALUE, got {pair:?}"),
                });
            }
        }
    }
    Ok(out)
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn top_level(execution: &Value) -> impl Iterator<Item = &Value> {
    execution
        .get("stages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|s| s.get("parentStageId").is_none_or(Value::is_null))
}

/// A manual judgment stage that is RUNNING (waiting for an answer), if any.
pub fn waiting_judgment(execution: &Value) -> Option<&Value> {
    top_level(execution)
        .find(|s| text(s, "type") == "manualJudgment" && text(s, "status") == "RUNNING")
}

fn is_final(status: &str) -> bool {
    matches!(
        status,
        "SUCCEEDED" | "TERMINAL" | "CANCELED" | "STOPPED" | "FAILED_CONTINUE" | "SKIPPED"
    )
}

/// Tracks stage statuses and writes a line for each change.
#[derive(Debug, Default)]
pub struct LiveView {
    seen: HashMap<String, String>,
    execution_status: String,
}

impl LiveView {
    /// Writes the changes since the last call.
    ///
    /// # Errors
    /// The output failing.
    pub fn update(&mut self, execution: &Value, out: &mut dyn Write) -> Result<(), Error> {
        for stage in top_level(execution) {
            let status = text(stage, "status");
            let id = text(stage, "id").to_owned();
            if self.seen.get(&id).map(String::as_str) != Some(status) {
                writeln!(
                    out,
                    "  {:<12} {} [{}] ({})",
                    status,
                    text(stage, "name"),
                    text(stage, "refId"),
                    text(stage, "type")
                )?;
                self.seen.insert(id, status.to_owned());
            }
        }
        let status = text(execution, "status");
        if status != self.execution_status {
            writeln!(out, "execution {}: {status}", text(execution, "id"))?;
            status.clone_into(&mut self.execution_status);
        }
        out.flush()?;
        Ok(())
    }
}

/// The closing table: every top-level stage with its status.
///
/// # Errors
/// The output failing.
pub fn summary(execution: &Value, out: &mut dyn Write) -> Result<(), Error> {
    let width = top_level(execution)
        .map(|s| text(s, "name").chars().count())
        .max()
        .unwrap_or(0);
    writeln!(
        out,
        "\n{} {} ({})",
        text(execution, "name"),
        text(execution, "status"),
        text(execution, "id")
    )?;
    for stage in top_level(execution) {
        writeln!(
            out,
            "  {:<width$}  {:<12} {}",
            text(stage, "name"),
            text(stage, "status"),
            text(stage, "type")
        )?;
    }
    Ok(())
}

/// Triggers the pipeline, then follows it until it finishes or waits for judgment.
///
/// # Errors
/// Bad `--param`, Gate refusing the trigger (missing parameter, unknown pipeline) or failing.
pub fn run(args: &RunArgs, out: &mut dyn Write) -> Result<Status, Error> {
    let client = client(&args.gate)?;
    let trigger = json!({"type": "manual", "parameters": parameters(&args.params)?});
    block_on(async {
        let id = client
            .trigger_pipeline(&args.application, &args.pipeline, &trigger)
            .await
            .map_err(|source| Error::Gate {
                context: format!(
                    "triggering pipeline {:?} of application {:?}",
                    args.pipeline, args.application
                ),
                source,
            })?;
        writeln!(
            out,
            "triggered {}/{}: execution {id}",
            args.application, args.pipeline
        )?;
        follow(
            &client,
            &id,
            Duration::from_millis(args.poll_ms.max(50)),
            out,
        )
        .await
    })?
}

/// Polls the execution, printing status changes, until it is final or a judgment waits.
///
/// # Errors
/// Gate failing.
pub async fn follow(
    client: &gate::Client,
    id: &str,
    every: Duration,
    out: &mut dyn Write,
) -> Result<Status, Error> {
    let mut view = LiveView::default();
    loop {
        let execution = client
            .get_execution(id)
            .await
            .map_err(|source| Error::Gate {
                context: format!("reading execution {id}"),
                source,
            })?;
        view.update(&execution, out)?;
        let status = text(&execution, "status");
        if is_final(status) {
            summary(&execution, out)?;
            return Ok(if status == "SUCCEEDED" {
                Status::Success
            } else {
                Status::Findings
            });
        }
        if let Some(stage) = waiting_judgment(&execution) {
            summary(&execution, out)?;
            writeln!(
                out,
                "\nwaiting for judgment on {:?}: spinhcl judge {id} {} --continue|--stop",
                text(stage, "name"),
                text(stage, "refId"),
            )?;
            return Ok(Status::Success);
        }
        tokio::time::sleep(every).await;
    }
}

/// The stage `wanted` names: its id, else a top-level stage's refId, else its exact name.
pub fn find_stage<'a>(execution: &'a Value, wanted: &str) -> Option<&'a Value> {
    let stages = execution.get("stages").and_then(Value::as_array)?;
    stages
        .iter()
        .find(|s| text(s, "id") == wanted)
        .or_else(|| top_level(execution).find(|s| text(s, "refId") == wanted))
        .or_else(|| top_level(execution).find(|s| text(s, "name") == wanted))
}

/// Answers a manual judgment.
///
/// # Errors
/// An unknown stage, a stage that is not a manual judgment, or Gate refusing (403 for a judge
/// outside the stage's roles).
pub fn judge(args: &JudgeArgs, out: &mut dyn Write) -> Result<Status, Error> {
    let client = client(&args.gate)?;
    block_on(async {
        let execution = client
            .get_execution(&args.execution)
            .await
            .map_err(|source| Error::Gate {
                context: format!("reading execution {}", args.execution),
                source,
            })?;
        let stage = find_stage(&execution, &args.stage).ok_or_else(|| Error::Usage {
            flag: "STAGE",
            message: format!(
                "execution {} has no stage with id, refId or name {:?}",
                args.execution, args.stage
            ),
        })?;
        if text(stage, "type") != "manualJudgment" {
            return Err(Error::Usage {
                flag: "STAGE",
                message: format!(
                    "stage {:?} is a {} stage, not a manualJudgment",
                    text(stage, "name"),
                    text(stage, "type")
                ),
            });
        }
        let stage_id = text(stage, "id").to_owned();
        let name = text(stage, "name").to_owned();
        let mut patch = json!({"judgmentStatus": if args.stop { "stop" } else { "continue" }});
        if let Some(input) = &args.input {
            patch["judgmentInput"] = Value::from(input.clone());
        }
        client
            .patch_stage(&args.execution, &stage_id, &patch)
            .await
            .map_err(|source| Error::Gate {
                context: format!("judging stage {name:?} of execution {}", args.execution),
                source,
            })?;
        writeln!(
            out,
            "judged {name:?} of execution {}: {}",
            args.execution,
            if args.stop { "stop" } else { "continue" }
        )?;
        if args.follow {
            let every = Duration::from_millis(args.poll_ms.max(50));
            return follow(&client, &args.execution, every, out).await;
        }
        Ok(Status::Success)
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_need_a_name_and_an_equals_sign() {
        let ok = parameters(&["env=prod".into(), "note=a=b".into(), "empty=".into()]).unwrap();
        assert_eq!(ok["env"], "prod");
        assert_eq!(ok["note"], "a=b");
        assert_eq!(ok["empty"], "");
        for bad in ["novalue", "=x"] {
            let error = parameters(&[bad.into()]).unwrap_err().to_string();
            assert!(error.starts_with("--param:"), "{error}");
        }
    }

    #[test]
    fn stages_are_found_by_id_then_ref_id_then_name() {
        let execution = json!({"stages": [
            {"id": "S1", "refId": "1", "name": "2", "type": "wait"},
            {"id": "S2", "refId": "2", "name": "Approve", "type": "manualJudgment"},
            {"id": "S3", "refId": "2", "name": "child", "type": "wait", "parentStageId": "S2"},
        ]});
        assert_eq!(find_stage(&execution, "S1").unwrap()["id"], "S1");
        assert_eq!(
            find_stage(&execution, "2").unwrap()["id"],
            "S2",
            "refId before name"
        );
        assert_eq!(find_stage(&execution, "Approve").unwrap()["id"], "S2");
        assert!(find_stage(&execution, "nope").is_none());
    }

    #[test]
    fn the_live_view_prints_only_changes() {
        let mut view = LiveView::default();
        let mut out = Vec::new();
        let running = json!({"id": "E", "status": "RUNNING", "stages": [
            {"id": "S1", "refId": "1", "name": "Wait", "type": "wait", "status": "RUNNING"}]});
        view.update(&running, &mut out).unwrap();
        view.update(&running, &mut out).unwrap();
        let done = json!({"id": "E", "status": "SUCCEEDED", "stages": [
            {"id": "S1", "refId": "1", "name": "Wait", "type": "wait", "status": "SUCCEEDED"}]});
        view.update(&done, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("Wait [1]").count(), 2, "{text}");
        assert!(text.contains("execution E: RUNNING") && text.contains("execution E: SUCCEEDED"));
    }
}
