//! Trigger matching (§4): which pipelines an event starts, and the run-time trigger each gets.
//!
//! The engine owns the loops and the HTTP endpoints; these functions are pure decisions.
//! Disabled pipelines and disabled triggers never fire.

pub mod cron;
pub mod git;
pub mod pipeline;
pub mod signature;
pub mod webhook;

use serde_json::Value;

/// Front50's lenient `enabled`: a JSON boolean, or the strings "true"/"false"; anything else is
/// false.
pub fn trigger_enabled(trigger: &Value) -> bool {
    match trigger.get("enabled") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A pipeline config may fire unless it has `disabled: true`.
pub fn pipeline_enabled(config: &Value) -> bool {
    config.get("disabled").and_then(Value::as_bool) != Some(true)
}

/// The enabled triggers of `type_name` in every enabled pipeline config.
pub fn enabled_triggers<'c>(
    configs: &'c [Value],
    type_name: &'c str,
) -> impl Iterator<Item = (&'c Value, &'c Value)> + 'c {
    configs
        .iter()
        .filter(|config| pipeline_enabled(config))
        .flat_map(|config| {
            config
                .get("triggers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(move |trigger| (config, trigger))
        })
        .filter(move |(_, trigger)| {
            trigger.get("type").and_then(Value::as_str) == Some(type_name)
                && trigger_enabled(trigger)
        })
}
