//! Typed shapes of Gate's application and task documents.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Orca's status enum, shared by executions, stages and tasks (`pipeline::status`).
pub use pipeline::status::ExecutionStatus;

/// Attributes Front50 and Gate manage themselves; drop them before diffing.
pub const SERVER_MANAGED_APPLICATION_ATTRIBUTES: &[&str] =
    &["createTs", "updateTs", "lastModifiedBy", "user", "accounts"];

/// An application as Gate returns it (`GET /applications/{app}` or one entry of the list).
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    /// Lower-case application name.
    pub name: String,
    /// Flat attribute map (`email`, `description`, `cloudProviders`, `permissions`, …),
    /// including server-managed keys.
    pub attributes: Map<String, Value>,
}

impl Application {
    /// `email`, if set.
    pub fn email(&self) -> Option<&str> {
        self.attributes.get("email").and_then(Value::as_str)
    }

    /// `description`, if set.
    pub fn description(&self) -> Option<&str> {
        self.attributes.get("description").and_then(Value::as_str)
    }

    /// `cloudProviders`, split from Front50's comma-separated string (a list is accepted too).
    pub fn cloud_providers(&self) -> Vec<String> {
        match self.attributes.get("cloudProviders") {
            Some(Value::String(joined)) => joined
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `permissions`, if set.
    pub fn permissions(&self) -> Option<Permissions> {
        self.attributes
            .get("permissions")
            .and_then(|p| serde_json::from_value(p.clone()).ok())
    }

    /// The attributes a user sets: everything except [`SERVER_MANAGED_APPLICATION_ATTRIBUTES`]
    /// and `name`.
    pub fn user_attributes(&self) -> Map<String, Value> {
        self.attributes
            .iter()
            .filter(|(key, _)| {
                key.as_str() != "name"
                    && !SERVER_MANAGED_APPLICATION_ATTRIBUTES.contains(&key.as_str())
            })
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }

    /// Builds from `GET /applications/{app}` (`{name, attributes, clusters}`).
    pub(crate) fn from_detail(mut detail: Map<String, Value>) -> Option<Self> {
        let attributes = match detail.remove("attributes") {
            Some(Value::Object(attributes)) => attributes,
            _ => Map::new(),
        };
        let name = detail
            .get("name")
            .or_else(|| attributes.get("name"))
            .and_then(Value::as_str)?
            .to_lowercase();
        Some(Self { name, attributes })
    }

    /// Builds from one flat entry of `GET /applications`.
    pub(crate) fn from_flat(attributes: Map<String, Value>) -> Option<Self> {
        let name = attributes
            .get("name")
            .and_then(Value::as_str)?
            .to_lowercase();
        Some(Self { name, attributes })
    }
}

/// Role lists of an application (`permissions.READ/WRITE/EXECUTE`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Permissions {
    /// Roles that may read.
    #[serde(rename = "READ", default)]
    pub read: Vec<String>,
    /// Roles that may write.
    #[serde(rename = "WRITE", default)]
    pub write: Vec<String>,
    /// Roles that may run pipelines.
    #[serde(rename = "EXECUTE", default)]
    pub execute: Vec<String>,
}

/// What to create or update: the application object inside a `createApplication` /
/// `updateApplication` task job.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApplicationSpec {
    /// Application name; sent lower-case.
    pub name: String,
    /// Owner email (Front50 requires it).
    pub email: String,
    /// Free text. `None` is not sent, so an update keeps the stored value (Orca merges);
    /// put `"description": null` in `extra` to clear it.
    pub description: Option<String>,
    /// Cloud providers; always sent, comma-joined as Front50 stores them (empty clears them).
    pub cloud_providers: Vec<String>,
    /// Role lists. `None` is not sent, so an update keeps the stored permissions.
    pub permissions: Option<Permissions>,
    /// Any other attribute (`trafficGuards`, `instancePort`, `chaosMonkey`, …), passed through.
    /// Because Orca's update merges attributes, set a removed key to `null` to clear it.
    pub extra: Map<String, Value>,
}

impl ApplicationSpec {
    /// The application object as sent in the task job.
    pub fn to_attributes(&self) -> Map<String, Value> {
        let mut attributes = self.extra.clone();
        attributes.insert("name".into(), Value::String(self.name.to_lowercase()));
        attributes.insert("email".into(), Value::String(self.email.clone()));
        if let Some(description) = &self.description {
            attributes.insert("description".into(), Value::String(description.clone()));
        }
        attributes.insert(
            "cloudProviders".into(),
            Value::String(self.cloud_providers.join(",")),
        );
        if let Some(permissions) = &self.permissions {
            attributes.insert(
                "permissions".into(),
                serde_json::json!({
                    "READ": permissions.read,
                    "WRITE": permissions.write,
                    "EXECUTE": permissions.execute,
                }),
            );
        }
        attributes
    }
}

/// A submitted task, from Orca's `{"ref": "/tasks/<id>"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRef {
    /// Task id (ULID).
    pub id: String,
}

impl TaskRef {
    /// Parses `/tasks/<id>` (or a bare id).
    pub fn from_ref(reference: &str) -> Option<Self> {
        let id = reference.rsplit('/').next()?.trim();
        (!id.is_empty()).then(|| Self { id: id.to_owned() })
    }
}

/// The task view of `GET /tasks/{id}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Task id.
    pub id: String,
    /// The task's description.
    pub name: Option<String>,
    /// Application the task ran for.
    pub application: Option<String>,
    /// Current status; `None` when the view has none or one Orca does not define (the raw
    /// value stays in `raw`).
    pub status: Option<ExecutionStatus>,
    /// The whole task view as Gate sent it.
    pub raw: Value,
}

impl Task {
    /// The task's first error: `variables[exception].details.errors[0]`, else `.details.error`,
    /// else the first step's `taskExceptionDetails`.
    pub fn error_message(&self) -> Option<String> {
        let variables = self.raw.get("variables").and_then(Value::as_array);
        let exception = variables.and_then(|vars| {
            vars.iter()
                .find(|v| v.get("key").and_then(Value::as_str) == Some("exception"))
                .and_then(|v| v.get("value"))
        });
        if let Some(details) = exception.and_then(|e| e.get("details")) {
            let first = details
                .get("errors")
                .and_then(Value::as_array)
                .and_then(|errors| errors.iter().find_map(Value::as_str));
            if let Some(message) = first.or_else(|| details.get("error").and_then(Value::as_str)) {
                return Some(message.to_owned());
            }
        }
        self.raw
            .get("steps")
            .and_then(Value::as_array)
            .and_then(|steps| {
                steps.iter().find_map(|step| {
                    let details = step.get("taskExceptionDetails")?;
                    let exception = details.get("exception").unwrap_or(details);
                    let inner = exception.get("details").unwrap_or(exception);
                    inner
                        .get("errors")
                        .and_then(Value::as_array)
                        .and_then(|errors| errors.iter().find_map(Value::as_str))
                        .or_else(|| inner.get("error").and_then(Value::as_str))
                        .map(str::to_owned)
                })
            })
    }
}

/// A task that finished successfully.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskOutcome {
    /// Task id.
    pub id: String,
    /// Final status (SUCCEEDED, STOPPED or SKIPPED).
    pub status: ExecutionStatus,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn task(raw: Value) -> Task {
        Task {
            id: "t".into(),
            name: None,
            application: None,
            status: Some(ExecutionStatus::Terminal),
            raw,
        }
    }

    #[test]
    fn task_error_prefers_errors_then_error_then_steps() {
        let both = task(json!({"variables": [
            {"key": "other", "value": 1},
            {"key": "exception", "value": {"details": {"error": "generic", "errors": ["specific"]}}}
        ]}));
        assert_eq!(both.error_message().as_deref(), Some("specific"));
        let only_error = task(json!({"variables": [
            {"key": "exception", "value": {"details": {"error": "generic", "errors": []}}}
        ]}));
        assert_eq!(only_error.error_message().as_deref(), Some("generic"));
        let from_steps = task(json!({"variables": [], "steps": [
            {"taskExceptionDetails": {}},
            {"taskExceptionDetails": {"exception": {"details": {"errors": ["step failed"]}}}}
        ]}));
        assert_eq!(from_steps.error_message().as_deref(), Some("step failed"));
        assert_eq!(task(json!({"variables": "odd"})).error_message(), None);
    }

    #[test]
    fn task_refs_parse() {
        assert_eq!(
            TaskRef::from_ref("/tasks/01ABC").map(|t| t.id).as_deref(),
            Some("01ABC")
        );
        assert_eq!(
            TaskRef::from_ref("01ABC").map(|t| t.id).as_deref(),
            Some("01ABC")
        );
        assert_eq!(TaskRef::from_ref("/tasks/"), None);
    }

    #[test]
    fn applications_read_both_shapes() {
        let detail =
            json!({"name": "shop", "attributes": {"name": "SHOP", "cloudProviders": "aws, gce,"}});
        let Value::Object(detail) = detail else {
            unreachable!()
        };
        let app = Application::from_detail(detail).expect("named");
        assert_eq!(app.name, "shop");
        assert_eq!(app.cloud_providers(), vec!["aws", "gce"]);
        let flat = json!({"name": "SHOP", "cloudProviders": ["aws"], "createTs": "1"});
        let Value::Object(flat) = flat else {
            unreachable!()
        };
        let app = Application::from_flat(flat).expect("named");
        assert_eq!(app.name, "shop");
        assert_eq!(app.cloud_providers(), vec!["aws"]);
        assert!(
            app.user_attributes().is_empty() || !app.user_attributes().contains_key("createTs")
        );
        assert!(Application::from_flat(Map::new()).is_none());
    }

    #[test]
    fn spec_serialises_as_orca_expects() {
        let mut spec = ApplicationSpec {
            name: "Shop".into(),
            email: "a@b.c".into(),
            description: None,
            cloud_providers: vec!["aws".into(), "titus".into()],
            permissions: Some(Permissions {
                read: vec!["r".into()],
                write: vec![],
                execute: vec!["x".into()],
            }),
            extra: Map::new(),
        };
        spec.extra.insert("description".into(), Value::Null);
        let attributes = spec.to_attributes();
        assert_eq!(attributes["name"], json!("shop"));
        assert_eq!(attributes["cloudProviders"], json!("aws,titus"));
        assert_eq!(
            attributes["permissions"],
            json!({"READ": ["r"], "WRITE": [], "EXECUTE": ["x"]})
        );
        assert_eq!(
            attributes["description"],
            Value::Null,
            "extra passes a clearing null through"
        );
    }
}
