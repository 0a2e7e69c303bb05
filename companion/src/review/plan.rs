//! Reading `terraform show -json PLAN`: the resource changes of `spinnaker_pipeline` and
//! `spinnaker_application`, with their actions and before/after objects.

use serde_json::Value as Json;

use crate::Error;

/// What Terraform will do to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `+` create.
    Create,
    /// `~` update in place.
    Update,
    /// `-/+` or `+/-` replace.
    Replace,
    /// `-` destroy.
    Destroy,
    /// `<=` read (data sources).
    Read,
    /// Nothing.
    NoOp,
}

impl Action {
    /// From a plan's `change.actions`.
    pub fn from_actions(actions: &[&str]) -> Option<Action> {
        Some(match actions {
            ["create"] => Action::Create,
            ["update"] => Action::Update,
            ["delete"] => Action::Destroy,
            ["delete", "create"] | ["create", "delete"] => Action::Replace,
            ["read"] => Action::Read,
            ["no-op"] => Action::NoOp,
            _ => return None,
        })
    }

    /// Terraform's plan symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Destroy => "-",
            Action::Read => "<=",
            Action::NoOp => " ",
        }
    }

    /// The verb used in comments.
    pub fn verb(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Update => "updated in place",
            Action::Replace => "replaced",
            Action::Destroy => "destroyed",
            Action::Read => "read",
            Action::NoOp => "unchanged",
        }
    }
}

/// One managed resource change of the plan.
#[derive(Debug, Clone)]
pub struct ResourceChange {
    /// e.g. `spinnaker_pipeline.shop_deploy` (with module prefix when any).
    pub address: String,
    /// Resource type.
    pub resource_type: String,
    /// What happens.
    pub action: Action,
    /// State before (null for create).
    pub before: Json,
    /// Planned state after (null for destroy); unknown values are null here.
    pub after: Json,
    /// Mirror of `after` with `true` where the value is unknown until apply.
    pub after_unknown: Json,
    /// Mirror of `before` with `true` where the value is sensitive.
    pub before_sensitive: Json,
    /// Mirror of `after` with `true` where the value is sensitive.
    pub after_sensitive: Json,
    /// Terraform's reason for a replacement, when given.
    pub action_reason: Option<String>,
}

/// The plan's Terraform version and its `spinnaker_*` resource changes.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `terraform_version` of the plan.
    pub terraform_version: String,
    /// Managed `spinnaker_pipeline` and `spinnaker_application` changes, in plan order.
    pub changes: Vec<ResourceChange>,
}

/// Parses the JSON text of `terraform show -json PLAN`.
///
/// # Errors
/// [`Error::Input`] naming `file` when the text is not JSON or not a plan (no
/// `resource_changes` list where Terraform puts it).
pub fn parse(file: &str, text: &str) -> Result<Plan, Error> {
    let doc: Json = serde_json::from_str(text).map_err(|e| {
        Error::input(
            format!("{file}:{}:{}", e.line(), e.column()),
            format!("invalid JSON: {e}"),
        )
    })?;
    let Some(object) = doc.as_object() else {
        return Err(Error::input(
            file,
            "not a Terraform plan: expected a JSON object from `terraform show -json PLAN`",
        ));
    };
    if !object.contains_key("format_version") {
        return Err(Error::input(
            file,
            "not a Terraform plan: no `format_version` (use `terraform show -json PLAN`)",
        ));
    }
    let list = match object.get("resource_changes") {
        None | Some(Json::Null) => &Vec::new(),
        Some(Json::Array(items)) => items,
        Some(_) => return Err(Error::input(file, "`resource_changes` must be a list")),
    };
    let mut changes = Vec::new();
    for (i, rc) in list.iter().enumerate() {
        let text = |key: &str| {
            rc.get(key)
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let resource_type = text("type");
        if text("mode") != "managed"
            || !matches!(
                resource_type.as_str(),
                "spinnaker_pipeline" | "spinnaker_application"
            )
        {
            continue;
        }
        let change = rc.get("change").cloned().unwrap_or(Json::Null);
        let actions: Vec<&str> = change
            .get("actions")
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        let action = Action::from_actions(&actions).ok_or_else(|| {
            Error::input(
                file,
                format!("resource_changes[{i}].change.actions: unknown actions {actions:?}"),
            )
        })?;
        let field = |key: &str| change.get(key).cloned().unwrap_or(Json::Null);
        changes.push(ResourceChange {
            address: text("address"),
            resource_type,
            action,
            before: field("before"),
            after: field("after"),
            after_unknown: field("after_unknown"),
            before_sensitive: field("before_sensitive"),
            after_sensitive: field("after_sensitive"),
            action_reason: rc
                .get("action_reason")
                .and_then(Json::as_str)
                .map(str::to_owned),
        });
    }
    Ok(Plan {
        terraform_version: object
            .get("terraform_version")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned(),
        changes,
    })
}
