//! Tasks (Orca orchestrations) run synchronously: `POST /tasks` applies its `job` stages in order
//! inside the request's write transaction and stores a finished task whose view matches Orca's
//! `OrchestrationViewModel` (`id, name, application, status, variables, steps, buildTime,
//! startTime, endTime, execution`). A failed stage makes the task TERMINAL with Orca's
//! `exception` entry in `variables`; later stages stay NOT_STARTED.

use rusqlite::Connection;
use serde_json::{Map, Value, json};

use crate::applications::{self, JobError};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::store;

/// A parsed task submission.
#[derive(Debug, Clone)]
pub struct TaskRequest {
    /// Lower-cased application, if given.
    pub application: Option<String>,
    /// `description`: becomes the task `name`.
    pub description: String,
    /// The `job` stages, each an object with a string `type`.
    pub job: Vec<Map<String, Value>>,
}

impl TaskRequest {
    /// Validates a task document's shape.
    ///
    /// # Errors
    /// [`ApiError::BadRequest`] naming the field at fault.
    pub fn parse(body: Value, path_application: Option<&str>) -> Result<Self, ApiError> {
        let Value::Object(mut body) = body else {
            return Err(ApiError::BadRequest(
                "Task body must be a JSON object".to_owned(),
            ));
        };
        let job = match body.remove("job") {
            Some(Value::Array(items)) if !items.is_empty() => items,
            Some(Value::Array(_)) => {
                return Err(ApiError::BadRequest(
                    "Task field 'job' must not be empty".to_owned(),
                ));
            }
            Some(_) => {
                return Err(ApiError::BadRequest(
                    "Task field 'job' must be an array of stage objects".to_owned(),
                ));
            }
            None => {
                return Err(ApiError::BadRequest(
                    "Task field 'job' is required".to_owned(),
                ));
            }
        };
        let mut stages = Vec::with_capacity(job.len());
        for (i, item) in job.into_iter().enumerate() {
            let Value::Object(stage) = item else {
                return Err(ApiError::BadRequest(format!(
                    "Task field 'job[{i}]' must be an object"
                )));
            };
            if !stage.get("type").is_some_and(Value::is_string) {
                return Err(ApiError::BadRequest(format!(
                    "Task field 'job[{i}].type' must be a string"
                )));
            }
            stages.push(stage);
        }
        let application = path_application
            .map(str::to_owned)
            .or_else(|| {
                body.get("application")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .or_else(|| {
                stages.iter().find_map(|s| {
                    s.get("application")?
                        .get("name")?
                        .as_str()
                        .map(str::to_owned)
                })
            })
            .map(|a| a.trim().to_lowercase());
        let description = body
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Ok(Self {
            application,
            description,
            job: stages,
        })
    }
}

/// The tasks a stage type runs, as Orca names them: `(name, implementingClass)`.
fn task_definitions(stage_type: &str) -> &'static [(&'static str, &'static str)] {
    match stage_type {
        "createApplication" | "updateApplication" | "upsertApplication" => &[(
            "upsertApplication",
            "com.netflix.spinnaker.orca.applications.tasks.UpsertApplicationTask",
        )],
        "deleteApplication" => &[
            (
                "verifyNoDependencies",
                "com.netflix.spinnaker.orca.applications.tasks.VerifyApplicationHasNoDependenciesTask",
            ),
            (
                "deleteApplication",
                "com.netflix.spinnaker.orca.applications.tasks.DeleteApplicationTask",
            ),
        ],
        _ => &[],
    }
}

struct StageRun {
    stage_type: String,
    context: Map<String, Value>,
    status: &'static str,
}

fn run_stage(
    conn: &Connection,
    caller: &Caller,
    stage: &Map<String, Value>,
    now_ms: i64,
) -> Result<Result<(), (String, &'static str)>, ApiError> {
    let stage_type = stage
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let user = stage
        .get("user")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .unwrap_or(&caller.user);
    let empty = Map::new();
    let application = stage
        .get("application")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let outcome = match stage_type {
        "createApplication" | "updateApplication" | "upsertApplication" => {
            applications::upsert(conn, caller, application, user, now_ms)
        }
        "deleteApplication" => applications::delete(conn, caller, application),
        other => {
            return Ok(Err((
                format!(
                    "No StageDefinitionBuilder implementation for {other} found; the spinhcl engine runs application jobs only"
                ),
                "NoSuchStageDefinitionBuilderException",
            )));
        }
    };
    match outcome {
        Ok(()) => Ok(Ok(())),
        Err(JobError::Failed {
            message,
            exception_type,
        }) => Ok(Err((message, exception_type))),
        Err(JobError::Forbidden) => Err(ApiError::Forbidden),
        Err(JobError::Store(e)) => Err(ApiError::Storage(e)),
    }
}

/// Runs a task's stages and stores the finished task; returns its ULID.
///
/// # Errors
/// [`ApiError::Forbidden`] when the caller may not write an affected application (nothing is
/// stored), [`ApiError::Storage`] on storage failure.
pub fn run(
    conn: &Connection,
    caller: &Caller,
    request: &TaskRequest,
    now_ms: i64,
) -> Result<String, ApiError> {
    let mut runs = Vec::with_capacity(request.job.len());
    let mut failed = false;
    for stage in &request.job {
        let stage_type = stage
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let mut context: Map<String, Value> = stage
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "type" | "refId" | "requisiteStageRefIds" | "name"
                )
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if failed {
            runs.push(StageRun {
                stage_type,
                context,
                status: "NOT_STARTED",
            });
            continue;
        }
        let status = match run_stage(conn, caller, stage, now_ms)? {
            Ok(()) => "SUCCEEDED",
            Err((message, exception_type)) => {
                failed = true;
                let operation = task_definitions(&stage_type)
                    .last()
                    .map_or(stage_type.as_str(), |(name, _)| name);
                context.insert(
                    "exception".to_owned(),
                    json!({
                        "details": {"error": message, "errors": [message]},
                        "exceptionType": exception_type,
                        "operation": operation,
                        "shouldRetry": false,
                        "timestamp": now_ms,
                    }),
                );
                "TERMINAL"
            }
        };
        runs.push(StageRun {
            stage_type,
            context,
            status,
        });
    }
    let id = ulid::Ulid::generate().to_string();
    let view = task_view(&id, caller, request, &runs, failed, now_ms);
    let body = serde_json::to_string(&view)
        .map_err(|e| ApiError::Storage(store::StoreError::Corrupt(e)))?;
    store::tasks::put(conn, &id, request.application.as_deref(), now_ms, &body)?;
    Ok(id)
}

fn task_view(
    id: &str,
    caller: &Caller,
    request: &TaskRequest,
    runs: &[StageRun],
    failed: bool,
    now_ms: i64,
) -> Value {
    let status = if failed { "TERMINAL" } else { "SUCCEEDED" };
    let mut variables = Vec::new();
    let mut steps = Vec::new();
    let mut stages = Vec::new();
    let mut step_id = 1;
    for (i, run) in runs.iter().enumerate() {
        for (k, v) in &run.context {
            variables.push(json!({"key": k, "value": v}));
        }
        let started = run.status != "NOT_STARTED";
        let defs = task_definitions(&run.stage_type);
        let mut tasks = Vec::new();
        for (j, (name, class)) in defs.iter().enumerate() {
            let task_status = match (run.status, j + 1 == defs.len()) {
                ("TERMINAL", true) => "TERMINAL",
                ("TERMINAL", false) | ("SUCCEEDED", _) => "SUCCEEDED",
                _ => "NOT_STARTED",
            };
            let time = started.then_some(now_ms);
            let task = json!({
                "id": step_id.to_string(),
                "name": name,
                "implementingClass": class,
                "startTime": time,
                "endTime": time,
                "status": task_status,
                "stageStart": j == 0,
                "stageEnd": j + 1 == defs.len(),
                "loopStart": false,
                "loopEnd": false,
                "taskExceptionDetails": {},
            });
            step_id += 1;
            steps.push(task.clone());
            tasks.push(task);
        }
        let time = started.then_some(now_ms);
        stages.push(json!({
            "id": ulid::Ulid::generate().to_string(),
            "refId": i.to_string(),
            "type": run.stage_type,
            "name": run.stage_type,
            "requisiteStageRefIds": if i == 0 { vec![] } else { vec![(i - 1).to_string()] },
            "context": run.context,
            "outputs": {},
            "status": run.status,
            "startTime": time,
            "endTime": time,
            "tasks": tasks,
        }));
    }
    let execution = json!({
        "id": id,
        "type": "ORCHESTRATION",
        "application": request.application,
        "name": request.description,
        "description": request.description,
        "status": status,
        "buildTime": now_ms,
        "startTime": now_ms,
        "endTime": now_ms,
        "canceled": false,
        "authentication": {"user": caller.user, "allowedAccounts": []},
        "trigger": {"type": "manual", "user": caller.user},
        "stages": stages,
    });
    json!({
        "id": id,
        "name": request.description,
        "application": request.application,
        "status": status,
        "variables": variables,
        "steps": steps,
        "buildTime": now_ms,
        "startTime": now_ms,
        "endTime": now_ms,
        "execution": execution,
    })
}
