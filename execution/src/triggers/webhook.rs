//! Generic webhook triggers (`POST /webhooks/webhook/{source}`): `source` must equal the
//! trigger's exactly and every `payloadConstraints` entry must match (a regex *find* on a
//! top-level field's text, else on the strings a JsonPath key selects; a bad regex never
//! matches). The run-time trigger carries the whole body as `payload` and `body.parameters`.

use super::enabled_triggers;
use crate::jsonpath;
use crate::model::Object;
use regex::Regex;
use serde_json::Value;

/// Whether `payload` meets every constraint.
pub fn payload_constraints_match(constraints: Option<&Value>, payload: &Value) -> bool {
    let Some(Value::Object(constraints)) = constraints else {
        return true;
    };
    constraints.iter().all(|(key, pattern)| {
        let Some(pattern) = pattern.as_str() else {
            return false;
        };
        let Ok(regex) = Regex::new(pattern) else {
            return false;
        };
        if let Some(value) = payload.get(key) {
            return regex.is_match(&text(value));
        }
        let path = if key.starts_with('$') {
            key.clone()
        } else {
            format!("$.{key}")
        };
        jsonpath::select(payload, &path)
            .into_iter()
            .any(|value| match value {
                Value::String(s) => regex.is_match(s),
                Value::Array(list) => list
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|s| regex.is_match(s)),
                _ => false,
            })
    })
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether one `webhook` trigger config fires for an event from `source` with `payload`.
pub fn matches(trigger: &Value, source: &str, payload: &Value) -> bool {
    trigger.get("type").and_then(Value::as_str) == Some("webhook")
        && super::trigger_enabled(trigger)
        && trigger.get("source").and_then(Value::as_str) == Some(source)
        && payload_constraints_match(trigger.get("payloadConstraints"), payload)
}

/// The run-time trigger for a fired webhook trigger.
pub fn runtime_trigger(trigger: &Value, payload: &Value, event_id: &str) -> Value {
    let mut out = trigger.as_object().cloned().unwrap_or_default();
    out.insert("payload".to_owned(), payload.clone());
    let parameters = payload
        .get("parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_else(Object::new);
    out.insert("parameters".to_owned(), Value::Object(parameters));
    if let Some(artifacts) = payload.get("artifacts") {
        out.insert("artifacts".to_owned(), artifacts.clone());
    }
    out.insert("eventId".to_owned(), Value::from(event_id));
    out.insert("user".to_owned(), Value::from("[anonymous]"));
    Value::Object(out)
}

/// Every (pipeline config, run-time trigger) an event fires, in config order.
pub fn fired(
    configs: &[Value],
    source: &str,
    payload: &Value,
    event_id: &str,
) -> Vec<(Value, Value)> {
    enabled_triggers(configs, "webhook")
        .filter(|(_, trigger)| matches(trigger, source, payload))
        .map(|(config, trigger)| (config.clone(), runtime_trigger(trigger, payload, event_id)))
        .collect()
}
