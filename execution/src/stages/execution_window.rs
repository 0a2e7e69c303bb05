//! `restrictExecutionDuringTimeWindow`: the synthetic *before* stage Orca adds when a stage sets
//! `restrictExecutionDuringTimeWindow: true`. It waits until now falls inside one of the
//! `restrictedExecutionWindow.whitelist` windows on an allowed day (`days`, 1 = Sunday), in the
//! configured time zone, then waits an optional jitter.

use super::wait::wait_until;
use super::{
    StageDefinition, SyntheticStage, TaskResult, TaskRun, TaskSpec, TaskStep, TaskTimeout, flag,
    number,
};
use crate::model::StageExecution;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde_json::Value;

/// The synthetic stage's type.
pub const TYPE: &str = "restrictExecutionDuringTimeWindow";
/// Re-check interval cap (Orca's backoff: 30 s); the task also wakes exactly at window start.
pub const BACKOFF_MS: i64 = 30_000;
/// The window task's timeout (Orca: 7 days).
pub const TIMEOUT_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// The execution-window stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExecutionWindow;

/// Where now stands relative to the allowed windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowCheck {
    /// Now is inside an allowed window.
    Inside,
    /// The next allowed window starts at this instant (epoch ms).
    WaitUntil(i64),
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: (i8, i8),
    end: (i8, i8),
}

fn hour_minute(entry: &Value, hour: &str, minute: &str) -> Result<(i8, i8), String> {
    let read = |key: &str, max: f64| -> Result<i8, String> {
        let value = number(entry.get(key)).unwrap_or(0.0);
        if (0.0..=max).contains(&value) {
            Ok(value as i8)
        } else {
            Err(format!(
                "restrictedExecutionWindow.whitelist: {key} must be between 0 and {max}, got {value}"
            ))
        }
    };
    Ok((read(hour, 23.0)?, read(minute, 59.0)?))
}

/// Computes whether `now_ms` is inside the windows of `window` (the
/// `restrictedExecutionWindow` object) in `time_zone`, or when the next window starts.
///
/// # Errors
/// When the window definition is malformed or no window exists in the coming week.
pub fn check(
    now_ms: i64,
    window: Option<&Value>,
    time_zone: &TimeZone,
) -> Result<WindowCheck, String> {
    let empty = Value::Null;
    let window = window.unwrap_or(&empty);
    let days: Vec<i8> = window
        .get("days")
        .and_then(Value::as_array)
        .map(|d| {
            d.iter()
                .filter_map(|v| number(Some(v)))
                .map(|n| n as i8)
                .collect()
        })
        .unwrap_or_default();
    let mut windows = Vec::new();
    for entry in window
        .get("whitelist")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let start = hour_minute(entry, "startHour", "startMin")?;
        let end = hour_minute(entry, "endHour", "endMin")?;
        if start.0 > end.0 {
            windows.push(Window {
                start,
                end: (23, 59),
            });
            windows.push(Window { start: (0, 0), end });
        } else {
            windows.push(Window { start, end });
        }
    }
    if windows.is_empty() {
        if days.is_empty() {
            return Ok(WindowCheck::Inside);
        }
        windows.push(Window {
            start: (0, 0),
            end: (23, 59),
        });
    }
    let now = Timestamp::from_millisecond(now_ms).map_err(|e| e.to_string())?;
    let today = now.to_zoned_datetime(time_zone.clone()).date();
    let mut best: Option<i64> = None;
    let mut date: Date = today;
    for _ in 0..8 {
        let weekday = date.weekday().to_sunday_one_offset();
        if days.is_empty() || days.contains(&weekday) {
            for w in &windows {
                let start = instant(date, w.start, 0, time_zone)?;
                let end = instant(date, w.end, 59_999, time_zone)?;
                if (start..=end).contains(&now_ms) {
                    return Ok(WindowCheck::Inside);
                }
                if start > now_ms && best.is_none_or(|b| start < b) {
                    best = Some(start);
                }
            }
        }
        if best.is_some() {
            break;
        }
        date = date.tomorrow().map_err(|e| e.to_string())?;
    }
    best.map(WindowCheck::WaitUntil)
        .ok_or_else(|| "no allowed execution window in the coming week".to_owned())
}

fn instant(
    date: Date,
    (hour, minute): (i8, i8),
    extra_ms: i64,
    tz: &TimeZone,
) -> Result<i64, String> {
    let zoned = date
        .at(hour, minute, 0, 0)
        .to_zoned_datetime(tz.clone())
        .map_err(|e| e.to_string())?;
    Ok(zoned.timestamp().as_millisecond() + extra_ms)
}

/// The synthetic window stage for `parent`, with the jitter (if any) drawn now.
pub fn synthetic_stage(parent: &StageExecution, trigger_type: &str) -> SyntheticStage {
    let mut context = parent.context.clone();
    for key in [
        "restrictExecutionDuringTimeWindow",
        "stageTimeoutMs",
        "alias",
        "stageEnabled",
    ] {
        context.remove(key);
    }
    let jitter = parent
        .context
        .get("restrictedExecutionWindow")
        .and_then(|w| w.get("jitter"));
    if let Some(jitter) = jitter
        && flag(jitter.get("enabled")) == Some(true)
    {
        let min = number(jitter.get("minDelay")).unwrap_or(0.0).max(0.0) as u64;
        let max = number(jitter.get("maxDelay")).unwrap_or(0.0).max(0.0) as u64;
        let skip = flag(jitter.get("skipManual")) == Some(true) && trigger_type == "manual";
        if max > 0 && !skip {
            let span = max.saturating_sub(min) + 1;
            let random = (ulid::Ulid::generate().random() % u128::from(span)) as u64;
            context.insert("waitTime".to_owned(), Value::from(min + random));
        }
    }
    SyntheticStage {
        stage_type: TYPE.to_owned(),
        name: "restrictExecutionDuringTimeWindow".to_owned(),
        context,
    }
}

impl StageDefinition for ExecutionWindow {
    fn stage_type(&self) -> &'static str {
        TYPE
    }

    fn tasks(&self, stage: &StageExecution) -> Vec<TaskSpec> {
        let mut tasks = vec![
            TaskSpec::new(
                "suspendExecutionDuringTimeWindow",
                "com.netflix.spinnaker.orca.pipeline.RestrictExecutionDuringTimeWindow$SuspendExecutionDuringTimeWindowTask",
            )
            .with_timeout(TaskTimeout::Fixed(TIMEOUT_MS)),
        ];
        if stage.context.contains_key("waitTime") {
            tasks.push(TaskSpec::new(
                "waitForJitter",
                "com.netflix.spinnaker.orca.pipeline.tasks.WaitTask",
            ));
        }
        tasks
    }

    fn run(&self, run: &TaskRun<'_>) -> TaskStep {
        if run.task == "waitForJitter" {
            let since = run
                .stage
                .tasks
                .iter()
                .find(|t| t.name == "waitForJitter")
                .and_then(|t| t.start_time)
                .unwrap_or(run.now_ms);
            return wait_until(run, number(run.get("waitTime")).unwrap_or(0.0), since).into();
        }
        if run.flag("skipRemainingWait") == Some(true) {
            return TaskResult::succeeded().into();
        }
        match check(
            run.now_ms,
            run.get("restrictedExecutionWindow"),
            run.time_zone,
        ) {
            Ok(WindowCheck::Inside) => TaskResult::succeeded().into(),
            Ok(WindowCheck::WaitUntil(start)) => {
                let mut result = TaskResult::running(start - run.now_ms);
                result.scheduled_time = Some(start);
                result.into()
            }
            Err(reason) => TaskResult::terminal(reason.clone())
                .context("failureReason", Value::from(reason))
                .into(),
        }
    }
}
