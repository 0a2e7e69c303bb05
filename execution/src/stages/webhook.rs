//! `webhook`: calls `url` with `method`, `customHeaders` and `payload`, maps the answer like
//! Orca's `WebhookResponseProcessor`, and with `waitForCompletion` polls a status URL
//! (`statusUrlResolution`: getMethod, locationHeader, webhookResponse) reading
//! `statusJsonPath` against the success/canceled/terminal status lists. A stage that is
//! cancelled or fails calls `cancelEndpoint` when one is set.

use super::wait::wait_until;
use super::{
    HaltHook, StageDefinition, TaskResult, TaskRun, TaskSpec, TaskStep, TaskTimeout, number,
};
use crate::jsonpath;
use crate::model::{Object, StageExecution};
use crate::status::ExecutionStatus;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

/// Create-call retry interval (Orca: 10 s).
pub const CREATE_BACKOFF_MS: i64 = 10_000;
/// Create-call timeout (Orca: 5 min).
pub const CREATE_TIMEOUT_MS: i64 = 5 * 60 * 1000;
/// Monitor timeout (Orca: 1 h, replaced by `stageTimeoutMs`).
pub const MONITOR_TIMEOUT_MS: i64 = 60 * 60 * 1000;

/// The `webhook` stage over a shared HTTP client.
#[derive(Debug, Clone)]
pub struct Webhook {
    http: reqwest::Client,
}

impl Webhook {
    /// A webhook stage using `http` for every call.
    pub fn new(http: reqwest::Client) -> Self {
        Self { http }
    }
}

impl StageDefinition for Webhook {
    fn stage_type(&self) -> &'static str {
        "webhook"
    }

    fn tasks(&self, stage: &StageExecution) -> Vec<TaskSpec> {
        let mut tasks = Vec::new();
        let wait = stage.flag("waitForCompletion") == Some(true);
        if !(wait && stage.flag("monitorOnly") == Some(true)) {
            tasks.push(
                TaskSpec::new(
                    "createWebhook",
                    "com.netflix.spinnaker.orca.webhook.tasks.CreateWebhookTask",
                )
                .with_timeout(TaskTimeout::Fixed(CREATE_TIMEOUT_MS)),
            );
        }
        if wait {
            if number(stage.context.get("waitBeforeMonitor")).unwrap_or(0.0) > 0.0 {
                tasks.push(TaskSpec::new(
                    "waitBeforeMonitor",
                    "com.netflix.spinnaker.orca.pipeline.tasks.WaitTask",
                ));
            }
            tasks.push(
                TaskSpec::new(
                    "monitorWebhook",
                    "com.netflix.spinnaker.orca.webhook.tasks.MonitorWebhookTask",
                )
                .with_timeout(TaskTimeout::Overridable(MONITOR_TIMEOUT_MS)),
            );
        }
        tasks
    }

    fn run(&self, run: &TaskRun<'_>) -> TaskStep {
        match run.task {
            "createWebhook" => self.create(run),
            "waitBeforeMonitor" => {
                let since = task_start(run).unwrap_or(run.now_ms);
                wait_until(
                    run,
                    number(run.get("waitBeforeMonitor")).unwrap_or(0.0),
                    since,
                )
                .into()
            }
            _ => self.monitor(run),
        }
    }

    fn on_halt(&self, stage: &StageExecution, _status: ExecutionStatus) -> HaltHook {
        let Some(url) = stage.context.get("cancelEndpoint").and_then(Value::as_str) else {
            return HaltHook::default();
        };
        let method = stage
            .context
            .get("cancelMethod")
            .and_then(Value::as_str)
            .unwrap_or("POST");
        let Ok(method) = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
            return HaltHook::default();
        };
        let mut request = self
            .http
            .request(method, url)
            .headers(headers(stage.context.get("customHeaders")));
        if let Some(payload) = stage.context.get("cancelPayload") {
            request = request.json(payload);
        }
        let url = url.to_owned();
        HaltHook {
            io: Some(Box::pin(async move {
                match request.send().await {
                    Ok(response) => {
                        tracing::info!(%url, status = %response.status(), "webhook cancel endpoint called")
                    }
                    Err(error) => tracing::warn!(%url, %error, "webhook cancel endpoint failed"),
                }
            })),
            cancel_execution: None,
        }
    }
}

fn task_start(run: &TaskRun<'_>) -> Option<i64> {
    run.stage
        .tasks
        .iter()
        .find(|t| t.name == run.task)
        .and_then(|t| t.start_time)
}

fn headers(custom: Option<&Value>) -> HeaderMap {
    let mut map = HeaderMap::new();
    let Some(Value::Object(custom)) = custom else {
        return map;
    };
    for (name, value) in custom {
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        let values: Vec<String> = match value {
            Value::Array(list) => list.iter().map(text).collect(),
            other => vec![text(other)],
        };
        for value in values {
            if let Ok(value) = HeaderValue::from_str(&value) {
                map.append(name.clone(), value);
            }
        }
    }
    map
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn codes(value: Option<&Value>) -> Vec<u16> {
    match value {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|v| number(Some(v)))
            .map(|n| n as u16)
            .collect(),
        Some(Value::String(s)) => s.split(',').filter_map(|c| c.trim().parse().ok()).collect(),
        Some(Value::Number(n)) => n.as_u64().map(|n| n as u16).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn status_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => s
            .split(',')
            .map(|x| x.trim().to_uppercase())
            .filter(|x| !x.is_empty())
            .collect(),
        Some(Value::Array(list)) => list.iter().map(|v| text(v).trim().to_uppercase()).collect(),
        _ => Vec::new(),
    }
}

fn status_name(code: reqwest::StatusCode) -> String {
    code.canonical_reason()
        .map(|r| r.to_uppercase().replace([' ', '-'], "_"))
        .unwrap_or_else(|| code.as_str().to_owned())
}

struct Answer {
    code: reqwest::StatusCode,
    headers: Object,
    body: Value,
}

async fn call(request: reqwest::RequestBuilder) -> Result<Answer, reqwest::Error> {
    let response = request.send().await?;
    let code = response.status();
    let mut headers = Object::new();
    for (name, value) in response.headers() {
        if let Ok(value) = value.to_str() {
            headers.insert(name.as_str().to_owned(), Value::from(value));
        }
    }
    let bytes = response.bytes().await?;
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::from(String::from_utf8_lossy(&bytes).into_owned()));
    Ok(Answer {
        code,
        headers,
        body,
    })
}

impl Webhook {
    fn create(&self, run: &TaskRun<'_>) -> TaskStep {
        let previous = run.stage.context.get("webhook");
        if let Some(code) = previous
            .and_then(|w| w.get("statusCodeValue"))
            .and_then(Value::as_u64)
            && (200..400).contains(&code)
        {
            return TaskResult::succeeded().into();
        }
        let Some(url) = run.text("url").map(str::to_owned) else {
            return TaskResult::terminal("webhook stage needs a `url`").into();
        };
        let method_name = run.text("method").unwrap_or("POST").to_ascii_uppercase();
        let Ok(method) = reqwest::Method::from_bytes(method_name.as_bytes()) else {
            return TaskResult::terminal(format!(
                "webhook `method` {method_name:?} is not an HTTP method"
            ))
            .into();
        };
        let mut request = self
            .http
            .request(method.clone(), &url)
            .headers(headers(run.get("customHeaders")));
        if let Some(payload) = run.get("payload").filter(|p| !p.is_null()) {
            request = request.json(payload);
        }
        let fail_fast = match run.get("failFastStatusCodes") {
            None | Some(Value::Null) => vec![504],
            other => codes(other),
        };
        let retry_codes = codes(run.get("webhookRetryStatusCodes"));
        let wait = run.flag("waitForCompletion") == Some(true);
        let resolution = run
            .text("statusUrlResolution")
            .unwrap_or("getMethod")
            .to_owned();
        let status_url_path = run.text("statusUrlJsonPath").map(str::to_owned);
        let is_get = method == reqwest::Method::GET;
        TaskStep::Io(Box::pin(async move {
            let answer = match call(request).await {
                Ok(answer) => answer,
                Err(error) => {
                    let retry = error.is_connect() || (error.is_timeout() && is_get);
                    let message = format!("webhook call to {url} failed: {error}");
                    let webhook = json!({"error": message});
                    return if retry {
                        TaskResult::running(CREATE_BACKOFF_MS).context("webhook", webhook)
                    } else {
                        TaskResult::terminal(message).context("webhook", webhook)
                    };
                }
            };
            let code = answer.code.as_u16();
            let mut webhook = json!({
                "statusCode": status_name(answer.code),
                "statusCodeValue": code,
                "headers": answer.headers,
                "body": answer.body,
            });
            if (200..400).contains(&code) {
                if wait {
                    let endpoint = match resolution.as_str() {
                        "locationHeader" => webhook["headers"]
                            .get("location")
                            .and_then(Value::as_str)
                            .map(|loc| resolve(&url, loc)),
                        "webhookResponse" => status_url_path
                            .as_deref()
                            .and_then(|p| jsonpath::first(&webhook["body"], p))
                            .and_then(Value::as_str)
                            .map(|loc| resolve(&url, loc)),
                        _ => Some(url.clone()),
                    };
                    match endpoint {
                        Some(endpoint) => webhook["statusEndpoint"] = Value::from(endpoint),
                        None => {
                            let message = format!(
                                "webhook succeeded but the status URL could not be resolved with statusUrlResolution {resolution}"
                            );
                            webhook["error"] = Value::from(message.clone());
                            return TaskResult::terminal(message).context("webhook", webhook);
                        }
                    }
                }
                return TaskResult::succeeded().context("webhook", webhook);
            }
            let message = format!("webhook call to {url} answered {code}");
            webhook["error"] = Value::from(message.clone());
            if fail_fast.contains(&code) {
                TaskResult::terminal(message).context("webhook", webhook)
            } else if code >= 500 || code == 429 || retry_codes.contains(&code) {
                TaskResult::running(CREATE_BACKOFF_MS).context("webhook", webhook)
            } else {
                TaskResult::terminal(message).context("webhook", webhook)
            }
        }))
    }

    fn monitor(&self, run: &TaskRun<'_>) -> TaskStep {
        let webhook = run
            .stage
            .context
            .get("webhook")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let endpoint = webhook
            .get("statusEndpoint")
            .and_then(Value::as_str)
            .or_else(|| run.text("url"))
            .map(str::to_owned);
        let Some(endpoint) = endpoint else {
            return TaskResult::terminal("webhook monitor has no status endpoint").into();
        };
        let request = self
            .http
            .get(&endpoint)
            .headers(headers(run.get("customHeaders")));
        let status_path = run.text("statusJsonPath").map(str::to_owned);
        let progress_path = run.text("progressJsonPath").map(str::to_owned);
        let success = status_list(run.get("successStatuses"));
        let canceled = status_list(run.get("canceledStatuses"));
        let terminal = status_list(run.get("terminalStatuses"));
        let mut retry_codes = codes(run.get("retryStatusCodes"));
        retry_codes.push(429);
        let retries = run.get("retries").cloned().unwrap_or(Value::Null);
        let elapsed = run.now_ms - task_start(run).unwrap_or(run.now_ms);
        let backoff = if elapsed < 60_000 { 1_000 } else { 15_000 };
        TaskStep::Io(Box::pin(async move {
            let mut webhook = webhook;
            let mut monitor = webhook.get("monitor").cloned().unwrap_or_else(|| json!({}));
            let answer = match call(request).await {
                Ok(answer) => answer,
                Err(error) => {
                    monitor["error"] =
                        Value::from(format!("status call to {endpoint} failed: {error}"));
                    webhook["monitor"] = monitor;
                    return TaskResult::running(backoff).context("webhook", webhook);
                }
            };
            let code = answer.code.as_u16();
            monitor["statusCode"] = Value::from(status_name(answer.code));
            monitor["statusCodeValue"] = Value::from(code);
            monitor["body"] = answer.body.clone();
            if !(200..300).contains(&code) {
                let attempts_key = format!("attempts{code}");
                let attempts = monitor
                    .get(&attempts_key)
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
                    + 1;
                monitor[attempts_key.as_str()] = Value::from(attempts);
                let max = retries
                    .get(code.to_string())
                    .and_then(|r| r.get("maxAttempts"))
                    .and_then(Value::as_u64);
                let retryable = code >= 500 || retry_codes.contains(&code);
                let message = format!("status call to {endpoint} answered {code}");
                webhook["monitor"] = monitor;
                return if retryable && max.is_none_or(|m| attempts < m) {
                    TaskResult::running(backoff).context("webhook", webhook)
                } else {
                    TaskResult::terminal(message).context("webhook", webhook)
                };
            }
            if let Some(progress) = progress_path
                .as_deref()
                .and_then(|p| jsonpath::first(&answer.body, p))
            {
                monitor["progressMessage"] = progress.clone();
            }
            let Some(path) = status_path else {
                webhook["monitor"] = monitor;
                return TaskResult::succeeded().context("webhook", webhook);
            };
            let result = match jsonpath::first(&answer.body, &path) {
                Some(Value::Number(n)) => {
                    let percent = n.as_f64().unwrap_or(0.0);
                    monitor["percentComplete"] = Value::from(percent);
                    if (percent - 100.0).abs() < f64::EPSILON {
                        TaskResult::succeeded()
                    } else {
                        TaskResult::running(backoff)
                    }
                }
                Some(Value::String(s)) => {
                    let status = s.trim().to_uppercase();
                    if success.contains(&status) {
                        TaskResult::succeeded()
                    } else if canceled.contains(&status) {
                        let mut r = TaskResult::with_status(ExecutionStatus::Canceled);
                        r.error = Some(format!("webhook status {status} is a canceled status"));
                        r
                    } else if terminal.contains(&status) {
                        TaskResult::terminal(format!(
                            "webhook status {status} is a terminal status"
                        ))
                    } else {
                        TaskResult::running(backoff)
                    }
                }
                _ => TaskResult::running(backoff),
            };
            webhook["monitor"] = monitor;
            result.context("webhook", webhook)
        }))
    }
}

fn resolve(base: &str, location: &str) -> String {
    match reqwest::Url::parse(base).and_then(|b| b.join(location)) {
        Ok(url) => url.to_string(),
        Err(_) => location.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lists_are_upper_cased_and_trimmed() {
        assert_eq!(status_list(Some(&json!(" done, ok ,"))), vec!["DONE", "OK"]);
        assert_eq!(codes(Some(&json!("500, 502"))), vec![500, 502]);
        assert_eq!(super::super::flag(Some(&json!("true"))), Some(true));
    }
}
