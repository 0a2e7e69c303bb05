//! `jenkins`: runs a job through Jenkins' REST API.
//!
//! 1. `startJenkinsJob`: `POST /job/<job>/buildWithParameters` (or `/build` without
//!    parameters); the `Location` header names the queue item.
//! 2. `waitForJenkinsJobStart`: `GET /queue/item/<n>/api/json` until `executable.number`.
//! 3. `monitorJenkinsJob` (with `waitForCompletion`, default true): `GET /job/<job>/<n>/api/json`
//!    until `building` is false; SUCCESS → SUCCEEDED, UNSTABLE → TERMINAL (SUCCEEDED with
//!    `markUnstableAsSuccessful`), FAILURE → TERMINAL, ABORTED → CANCELED.
//! 4. `getBuildProperties` (with `propertyFile`): `GET /job/<job>/<n>/artifact/<file>`; its
//!    `key=value` lines become outputs.
//!
//! Masters come from the server config (URL, user, API token); cancelling the stage stops the
//! build. Jenkins 404/500/503 answers while polling are retried, as igor does.

use super::{HaltHook, StageDefinition, TaskResult, TaskRun, TaskSpec, TaskStep, flag};
use crate::model::{Object, StageExecution};
use crate::secret::Secret;
use crate::status::ExecutionStatus;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Poll interval for queue and build polling.
pub const BACKOFF_MS: i64 = 5_000;

/// One Jenkins master.
#[derive(Debug, Clone)]
pub struct JenkinsMaster {
    /// Base URL, e.g. `https://jenkins.example.com/`.
    pub address: String,
    /// User for basic auth.
    pub username: Option<String>,
    /// API token for basic auth (never logged).
    pub api_token: Option<Secret>,
}

/// Masters by name, as the stage's `master` field names them.
pub type JenkinsMasters = HashMap<String, JenkinsMaster>;

/// The `jenkins` stage.
#[derive(Debug, Clone)]
pub struct Jenkins {
    http: reqwest::Client,
    masters: Arc<JenkinsMasters>,
}

impl Jenkins {
    /// A Jenkins stage over `http` with these masters.
    pub fn new(http: reqwest::Client, masters: JenkinsMasters) -> Self {
        Self {
            http,
            masters: Arc::new(masters),
        }
    }
}

#[derive(Clone)]
struct Target {
    http: reqwest::Client,
    master_name: String,
    master: JenkinsMaster,
    job: String,
}

impl Target {
    fn url(&self, tail: &[&str]) -> Result<reqwest::Url, String> {
        let mut url = reqwest::Url::parse(&self.master.address).map_err(|e| {
            format!(
                "Jenkins master '{}' has an invalid address: {e}",
                self.master_name
            )
        })?;
        {
            let mut segments = url.path_segments_mut().map_err(|()| {
                format!(
                    "Jenkins master '{}' address cannot take a path",
                    self.master_name
                )
            })?;
            segments.pop_if_empty();
            for part in self.job.split('/').filter(|p| !p.is_empty()) {
                segments.push("job");
                segments.push(part);
            }
            segments.extend(tail);
        }
        Ok(url)
    }

    fn request(&self, method: reqwest::Method, url: reqwest::Url) -> reqwest::RequestBuilder {
        let request = self.http.request(method, url);
        match &self.master.username {
            Some(user) => {
                request.basic_auth(user, self.master.api_token.as_ref().map(Secret::expose))
            }
            None => request,
        }
    }

    fn queue_url(&self, item: u64) -> Result<reqwest::Url, String> {
        let mut url = reqwest::Url::parse(&self.master.address).map_err(|e| {
            format!(
                "Jenkins master '{}' has an invalid address: {e}",
                self.master_name
            )
        })?;
        url.path_segments_mut()
            .map_err(|()| {
                format!(
                    "Jenkins master '{}' address cannot take a path",
                    self.master_name
                )
            })?
            .pop_if_empty()
            .extend(["queue", "item", &item.to_string(), "api", "json"]);
        Ok(url)
    }
}

fn retryable(code: u16) -> bool {
    matches!(code, 404 | 500 | 502 | 503 | 504)
}

impl StageDefinition for Jenkins {
    fn stage_type(&self) -> &'static str {
        "jenkins"
    }

    fn tasks(&self, stage: &StageExecution) -> Vec<TaskSpec> {
        let mut tasks = vec![
            TaskSpec::new(
                "startJenkinsJob",
                "com.netflix.spinnaker.orca.igor.tasks.StartJenkinsJobTask",
            ),
            TaskSpec::new(
                "waitForJenkinsJobStart",
                "com.netflix.spinnaker.orca.igor.tasks.MonitorQueuedJenkinsJobTask",
            ),
        ];
        if flag(stage.context.get("waitForCompletion")) != Some(false) {
            tasks.push(TaskSpec::new(
                "monitorJenkinsJob",
                "com.netflix.spinnaker.orca.igor.tasks.MonitorJenkinsJobTask",
            ));
            if stage
                .context
                .get("propertyFile")
                .and_then(Value::as_str)
                .is_some_and(|f| !f.is_empty())
            {
                tasks.push(TaskSpec::new(
                    "getBuildProperties",
                    "com.netflix.spinnaker.orca.igor.tasks.GetBuildPropertiesTask",
                ));
            }
        }
        tasks
    }

    fn run(&self, run: &TaskRun<'_>) -> TaskStep {
        let target = match self.target(run.context) {
            Ok(target) => target,
            Err(message) => return TaskResult::terminal(message).into(),
        };
        let ctx = &run.stage.context;
        let queued = ctx.get("queuedBuild").and_then(Value::as_u64);
        let build = ctx.get("buildNumber").and_then(Value::as_u64);
        match run.task {
            "startJenkinsJob" => {
                if queued.is_some() {
                    return TaskResult::succeeded().into();
                }
                let parameters = run
                    .get("parameters")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                TaskStep::Io(Box::pin(start(target, parameters)))
            }
            "waitForJenkinsJobStart" => match (build, queued) {
                (Some(_), _) => TaskResult::succeeded().into(),
                (None, Some(item)) => TaskStep::Io(Box::pin(wait_for_start(target, item))),
                (None, None) => {
                    TaskResult::terminal("jenkins stage has no queued build to wait for").into()
                }
            },
            "monitorJenkinsJob" => match build {
                Some(number) => {
                    let unstable_ok = run.flag("markUnstableAsSuccessful") == Some(true);
                    TaskStep::Io(Box::pin(monitor(target, number, unstable_ok)))
                }
                None => TaskResult::terminal("jenkins stage has no build number to monitor").into(),
            },
            _ => match (build, run.text("propertyFile")) {
                (Some(number), Some(file)) => {
                    TaskStep::Io(Box::pin(properties(target, number, file.to_owned())))
                }
                _ => TaskResult::succeeded().into(),
            },
        }
    }

    fn on_halt(&self, stage: &StageExecution, status: ExecutionStatus) -> HaltHook {
        let build = stage.context.get("buildNumber").and_then(Value::as_u64);
        let (Some(number), true) = (build, status == ExecutionStatus::Canceled) else {
            return HaltHook::default();
        };
        let Ok(target) = self.target(&stage.context) else {
            return HaltHook::default();
        };
        HaltHook {
            io: Some(Box::pin(async move {
                let Ok(url) = target.url(&[&number.to_string(), "stop"]) else {
                    return;
                };
                match target.request(reqwest::Method::POST, url).send().await {
                    Ok(r) => {
                        tracing::info!(job = %target.job, number, status = %r.status(), "jenkins build stopped")
                    }
                    Err(error) => {
                        tracing::warn!(job = %target.job, number, %error, "stopping jenkins build failed")
                    }
                }
            })),
            cancel_execution: None,
        }
    }
}

impl Jenkins {
    fn target(&self, context: &Object) -> Result<Target, String> {
        let master_name = context
            .get("master")
            .and_then(Value::as_str)
            .ok_or("jenkins stage needs `master`")?;
        let job = context
            .get("job")
            .and_then(Value::as_str)
            .ok_or("jenkins stage needs `job`")?;
        let master = self.masters.get(master_name).ok_or_else(|| {
            let mut known: Vec<_> = self.masters.keys().cloned().collect();
            known.sort();
            format!("Jenkins master '{master_name}' is not configured (configured: {known:?})")
        })?;
        Ok(Target {
            http: self.http.clone(),
            master_name: master_name.to_owned(),
            master: master.clone(),
            job: job.to_owned(),
        })
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn start(target: Target, parameters: Object) -> TaskResult {
    let endpoint = if parameters.is_empty() {
        "build"
    } else {
        "buildWithParameters"
    };
    let url = match target.url(&[endpoint]) {
        Ok(url) => url,
        Err(message) => return TaskResult::terminal(message),
    };
    let query: Vec<(String, String)> = parameters
        .iter()
        .map(|(k, v)| (k.clone(), text(v)))
        .collect();
    let response = match target
        .request(reqwest::Method::POST, url)
        .query(&query)
        .send()
        .await
    {
        Ok(response) => response,
        Err(error) => {
            tracing::warn!(job = %target.job, %error, "jenkins unreachable; will retry");
            return TaskResult::running(BACKOFF_MS);
        }
    };
    let code = response.status().as_u16();
    if code == 404 {
        return TaskResult::terminal(format!(
            "Jenkins job '{}' was not found on master '{}'",
            target.job, target.master_name
        ));
    }
    if code >= 500 {
        return TaskResult::running(BACKOFF_MS);
    }
    if !(200..300).contains(&code) {
        return TaskResult::terminal(format!(
            "Jenkins refused to start job '{}' on master '{}': HTTP {code}",
            target.job, target.master_name
        ));
    }
    let item = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| l.trim_end_matches('/').rsplit('/').next())
        .and_then(|n| n.parse::<u64>().ok());
    match item {
        Some(item) => TaskResult::succeeded()
            .context("queuedBuild", Value::from(item))
            .output("queuedBuild", Value::from(item)),
        None => TaskResult::terminal(format!(
            "Jenkins started job '{}' but sent no queue item Location",
            target.job
        )),
    }
}

async fn get_json(
    target: &Target,
    url: reqwest::Url,
) -> Result<Result<Value, u16>, reqwest::Error> {
    let response = target.request(reqwest::Method::GET, url).send().await?;
    let code = response.status().as_u16();
    if !(200..300).contains(&code) {
        return Ok(Err(code));
    }
    Ok(Ok(response.json::<Value>().await?))
}

async fn wait_for_start(target: Target, item: u64) -> TaskResult {
    let url = match target.queue_url(item) {
        Ok(url) => url,
        Err(message) => return TaskResult::terminal(message),
    };
    match get_json(&target, url).await {
        Ok(Ok(queue)) => {
            if queue.get("cancelled").and_then(Value::as_bool) == Some(true) {
                let mut result = TaskResult::with_status(ExecutionStatus::Canceled);
                result.error = Some(format!("Jenkins queue item {item} was cancelled"));
                return result;
            }
            match queue
                .get("executable")
                .and_then(|e| e.get("number"))
                .and_then(Value::as_u64)
            {
                Some(number) => TaskResult::succeeded()
                    .context("buildNumber", Value::from(number))
                    .output("buildNumber", Value::from(number)),
                None => TaskResult::running(BACKOFF_MS),
            }
        }
        Ok(Err(code)) if retryable(code) => TaskResult::running(BACKOFF_MS),
        Ok(Err(code)) => {
            TaskResult::terminal(format!("Jenkins queue item {item} answered HTTP {code}"))
        }
        Err(_) => TaskResult::running(BACKOFF_MS),
    }
}

async fn monitor(target: Target, number: u64, unstable_ok: bool) -> TaskResult {
    let url = match target.url(&[&number.to_string(), "api", "json"]) {
        Ok(url) => url,
        Err(message) => return TaskResult::terminal(message),
    };
    let build = match get_json(&target, url).await {
        Ok(Ok(build)) => build,
        Ok(Err(code)) if retryable(code) => return TaskResult::running(BACKOFF_MS),
        Ok(Err(code)) => {
            return TaskResult::terminal(format!(
                "Jenkins build {} #{number} answered HTTP {code}",
                target.job
            ));
        }
        Err(_) => return TaskResult::running(BACKOFF_MS),
    };
    let building = build
        .get("building")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let result_name = build
        .get("result")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let info = build;
    let outcome = if building {
        TaskResult::running(BACKOFF_MS)
    } else {
        match result_name.as_str() {
            "SUCCESS" => TaskResult::succeeded(),
            "UNSTABLE" if unstable_ok => TaskResult::succeeded(),
            "UNSTABLE" => TaskResult::terminal("Job is unstable"),
            "FAILURE" => {
                TaskResult::terminal(format!("Jenkins build {} #{number} failed", target.job))
            }
            "ABORTED" => {
                let mut r = TaskResult::with_status(ExecutionStatus::Canceled);
                r.error = Some(format!(
                    "Jenkins build {} #{number} was aborted",
                    target.job
                ));
                r
            }
            _ => TaskResult::running(BACKOFF_MS),
        }
    };
    outcome
        .context("buildInfo", info.clone())
        .output("buildInfo", info)
}

/// Parses Java-properties-style `key=value` (or `key: value`) lines; `#`/`!` start comments.
pub fn parse_properties(text: &str) -> Object {
    let mut out = Object::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let split = line.find(['=', ':']);
        let (key, value) = match split {
            Some(i) => (
                line.get(..i).unwrap_or_default(),
                line.get(i + 1..).unwrap_or_default(),
            ),
            None => (line, ""),
        };
        out.insert(key.trim().to_owned(), Value::from(value.trim()));
    }
    out
}

async fn properties(target: Target, number: u64, file: String) -> TaskResult {
    let number_text = number.to_string();
    let mut tail = vec![number_text.as_str(), "artifact"];
    tail.extend(file.split('/').filter(|p| !p.is_empty()));
    let url = match target.url(&tail) {
        Ok(url) => url,
        Err(message) => return TaskResult::terminal(message),
    };
    let response = match target.request(reqwest::Method::GET, url).send().await {
        Ok(response) => response,
        Err(_) => return TaskResult::running(BACKOFF_MS),
    };
    let code = response.status().as_u16();
    if code == 404 {
        return TaskResult::terminal(format!(
            "Property file '{file}' was not archived by Jenkins build {} #{number}",
            target.job
        ));
    }
    if code >= 500 {
        return TaskResult::running(BACKOFF_MS);
    }
    let Ok(body) = response.text().await else {
        return TaskResult::running(BACKOFF_MS);
    };
    let values = parse_properties(&body);
    let mut result =
        TaskResult::succeeded().context("propertyFileContents", Value::Object(values.clone()));
    result.outputs = values.clone();
    result
        .outputs
        .insert("propertyFileContents".to_owned(), Value::Object(values));
    result
}

#[cfg(test)]
mod tests {
    use super::parse_properties;

    #[test]
    fn properties_lines() {
        let props = parse_properties("# c\nversion=1.2.3\nimage: app:42\n\nflag\n");
        assert_eq!(props.get("version").and_then(|v| v.as_str()), Some("1.2.3"));
        assert_eq!(props.get("image").and_then(|v| v.as_str()), Some("app:42"));
        assert_eq!(props.get("flag").and_then(|v| v.as_str()), Some(""));
    }
}
