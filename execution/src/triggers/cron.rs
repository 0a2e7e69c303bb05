//! Cron triggers: next fire times per enabled `cron` trigger, computed with `pipeline::cron`
//! (Quartz syntax, `H` fuzzing from the trigger id) in one deployment-wide time zone. The engine
//! runs the loop: it asks [`CronSchedule::due`] with the current time and starts what it gets.
//! Missed fires are skipped (Quartz's "do nothing" misfire policy).

use super::enabled_triggers;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use pipeline::cron::CronExpression;
use serde_json::{Value, json};

/// A cron trigger that could not be scheduled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("pipeline {pipeline_id:?} cron trigger {trigger_id:?}: {reason}")]
pub struct CronTriggerError {
    /// The pipeline config id.
    pub pipeline_id: String,
    /// The trigger id.
    pub trigger_id: String,
    /// Why.
    pub reason: String,
}

struct Entry {
    config: Value,
    trigger: Value,
    expression: CronExpression,
    next_ms: Option<i64>,
}

/// The fire times of every enabled cron trigger of a set of pipeline configs.
pub struct CronSchedule {
    entries: Vec<Entry>,
}

fn next_after(expression: &CronExpression, after_ms: i64, zone: &TimeZone) -> Option<i64> {
    let now = Timestamp::from_millisecond(after_ms)
        .ok()?
        .to_zoned_datetime(zone.clone());
    expression
        .next_after(&now)
        .map(|next| next.timestamp().as_millisecond())
}

impl CronSchedule {
    /// Schedules every enabled cron trigger of the enabled `configs`, first fires after `now_ms`.
    /// Triggers with invalid expressions are returned as errors and not scheduled.
    pub fn new(
        configs: &[Value],
        time_zone: &TimeZone,
        now_ms: i64,
    ) -> (Self, Vec<CronTriggerError>) {
        let mut entries = Vec::new();
        let mut errors = Vec::new();
        for (config, trigger) in enabled_triggers(configs, "cron") {
            let text = |v: &Value, k: &str| {
                v.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let trigger_id = text(trigger, "id");
            let source = text(trigger, "cronExpression");
            match CronExpression::parse_in(&source, &trigger_id, time_zone.clone()) {
                Ok(expression) => {
                    let next_ms = next_after(&expression, now_ms, time_zone);
                    entries.push(Entry {
                        config: config.clone(),
                        trigger: trigger.clone(),
                        expression,
                        next_ms,
                    });
                }
                Err(error) => errors.push(CronTriggerError {
                    pipeline_id: text(config, "id"),
                    trigger_id,
                    reason: error.to_string(),
                }),
            }
        }
        (Self { entries }, errors)
    }

    /// The earliest upcoming fire time.
    pub fn next_fire_ms(&self) -> Option<i64> {
        self.entries.iter().filter_map(|e| e.next_ms).min()
    }

    /// The (pipeline config, run-time trigger) pairs due at `now_ms`; each fires once and is
    /// rescheduled after `now_ms` (missed fires are skipped).
    pub fn due(&mut self, now_ms: i64) -> Vec<(Value, Value)> {
        let mut fired = Vec::new();
        for entry in &mut self.entries {
            let Some(at) = entry.next_ms else { continue };
            if at > now_ms {
                continue;
            }
            let zone = entry.expression.time_zone().clone();
            entry.next_ms = next_after(&entry.expression, now_ms, &zone);
            let mut trigger = entry.trigger.as_object().cloned().unwrap_or_default();
            trigger.insert(
                "eventId".to_owned(),
                json!(uuid::Uuid::new_v4().to_string()),
            );
            trigger.insert("user".to_owned(), Value::from("[anonymous]"));
            trigger
                .entry("parameters")
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            fired.push((entry.config.clone(), Value::Object(trigger)));
        }
        fired
    }
}
