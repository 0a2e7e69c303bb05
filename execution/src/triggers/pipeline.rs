//! Pipeline triggers: after an execution completes, every enabled pipeline with an enabled
//! `pipeline` trigger naming the finished execution's config id and listing its mapped status
//! (`successful`, `failed`, `canceled`, `suspended`) starts.

use super::enabled_triggers;
use crate::model::Execution;
use crate::status::ExecutionStatus;
use serde_json::{Value, json};

/// Orca's execution status → pipeline-trigger status.
pub fn trigger_status(status: ExecutionStatus) -> &'static str {
    match status {
        ExecutionStatus::Canceled => "canceled",
        ExecutionStatus::Suspended => "suspended",
        ExecutionStatus::Succeeded => "successful",
        _ => "failed",
    }
}

/// Every (pipeline config, run-time trigger) the finished execution fires.
pub fn fired(configs: &[Value], finished: &Execution) -> Vec<(Value, Value)> {
    let Some(config_id) = finished.pipeline_config_id.as_deref() else {
        return Vec::new();
    };
    let status = trigger_status(finished.status);
    enabled_triggers(configs, "pipeline")
        .filter(|(_, trigger)| {
            trigger.get("pipeline").and_then(Value::as_str) == Some(config_id)
                && trigger
                    .get("status")
                    .and_then(Value::as_array)
                    .is_some_and(|list| list.iter().any(|s| s.as_str() == Some(status)))
        })
        .map(|(config, trigger)| {
            let mut runtime = trigger.as_object().cloned().unwrap_or_default();
            let extra = json!({
                "user": finished.trigger_user(),
                "parentExecution": finished,
                "parentPipelineId": finished.id,
                "parentPipelineName": finished.name,
                "parentPipelineApplication": finished.application,
                "parentStatus": finished.status,
                "isPipeline": true,
            });
            if let Value::Object(extra) = extra {
                runtime.extend(extra);
            }
            (config.clone(), Value::Object(runtime))
        })
        .collect()
}
