//! `spinnaker_application`: a Spinnaker application, written through
//! Orca's create/update/delete application tasks and read from Gate's
//! `GET /applications/{name}`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::Value as Json;

use crate::diag::{AttributePath, Diagnostics};
use crate::resource::{Ctx, Resource, ResourceError};
use crate::schema::{Attribute, Block, NestedBlock, Schema};
use crate::value::{Number, Type, Value};

/// The resource type.
pub struct ApplicationResource;

/// The kind of a passed-through application attribute.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    String,
    Number,
    Bool,
}

/// Attributes passed through to Front50 as they are: Terraform name, Gate
/// key, kind and description.
pub(crate) const PASSTHROUGH: &[(&str, &str, Kind, &str)] = &[
    (
        "instance_port",
        "instancePort",
        Kind::Number,
        "Default port of the application's instances, used for health checks.",
    ),
    (
        "repo_type",
        "repoType",
        Kind::String,
        "Source repository type, e.g. `github`, `gitlab`, `bitbucket`, `stash`.",
    ),
    (
        "repo_project_key",
        "repoProjectKey",
        Kind::String,
        "Source repository project (or organisation) key.",
    ),
    (
        "repo_slug",
        "repoSlug",
        Kind::String,
        "Source repository name.",
    ),
    (
        "platform_health_only",
        "platformHealthOnly",
        Kind::Bool,
        "Consider only cloud provider health when executing tasks.",
    ),
    (
        "platform_health_only_show_override",
        "platformHealthOnlyShowOverride",
        Kind::Bool,
        "Show the platform-health-only override option in Deck.",
    ),
    (
        "enable_restart_running_executions",
        "enableRestartRunningExecutions",
        Kind::Bool,
        "Allow restarting stages of running pipeline executions.",
    ),
];

fn kind_type(kind: Kind) -> Type {
    match kind {
        Kind::String => Type::String,
        Kind::Number => Type::Number,
        Kind::Bool => Type::Bool,
    }
}

fn permissions_block() -> Block {
    let mut b = Block::new(
        "Fiat roles (groups) allowed to act on the application. Omit the block to leave the application unrestricted.",
    );
    b = b.attribute(Attribute::optional(
        "read",
        Type::set(Type::String),
        "Roles that may see the application.",
    ));
    b = b.attribute(Attribute::optional(
        "write",
        Type::set(Type::String),
        "Roles that may change the application and its pipelines.",
    ));
    b.attribute(Attribute::optional(
        "execute",
        Type::set(Type::String),
        "Roles that may run the application's pipelines.",
    ))
}

/// The resource schema.
pub fn schema() -> Schema {
    let mut block = Block::new(
        "A Spinnaker application: the unit that owns pipelines, clusters and permissions. \
         Changes go through Spinnaker tasks (`createApplication`, `updateApplication`, `deleteApplication`).",
    )
    .attribute(
        Attribute::computed("id", Type::String, "The application name, as Spinnaker stores it (lower case).")
            .use_state_for_unknown(),
    )
    .attribute(
        Attribute::required(
            "name",
            Type::String,
            "Application name: lower case letters, digits, `.`, `_` and `-`.",
        )
        .requires_replace(),
    )
    .attribute(Attribute::required("email", Type::String, "Owner email address (Front50 requires one)."))
    .attribute(Attribute::optional("description", Type::String, "Free-text description shown in Deck."))
    .attribute(Attribute::optional(
        "cloud_providers",
        Type::list(Type::String),
        "Cloud providers the application deploys to, e.g. `[\"aws\", \"kubernetes\"]`.",
    ));
    for (name, _, kind, description) in PASSTHROUGH {
        block = block.attribute(Attribute::optional(name, kind_type(*kind), description));
    }
    Schema::new(
        0,
        block.block(NestedBlock::single("permissions", permissions_block())),
    )
}

/// Application names Spinnaker accepts across providers, in lower case.
pub(crate) fn validate_name(name: &Value, path: AttributePath, diags: &mut Diagnostics) {
    let Some(name) = name.as_str() else { return };
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if name.is_empty() || !ok_chars || name.len() > 250 {
        let rule = if name.chars().any(|c| c.is_ascii_uppercase()) {
            "must be lower case (Spinnaker stores application names in lower case)"
        } else {
            "must be 1 to 250 characters of lower case letters, digits, \".\", \"_\" or \"-\""
        };
        diags.attribute_error(
            path.clone(),
            "Invalid Application Name",
            format!("Attribute {path} {rule}, got: {name:?}."),
        );
    }
}

/// One of Orca's per-cloud-provider name rules (ApplicationNameValidator).
struct NameRule {
    allowed: fn(char) -> bool,
    letter_first: bool,
    max: usize,
    text: &'static str,
}

fn provider_name_rule(provider: &str) -> Option<NameRule> {
    let rule = |allowed, letter_first, max, text| NameRule {
        allowed,
        letter_first,
        max,
        text,
    };
    Some(match provider {
        "aws" | "openstack" | "titus" => rule(
            |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.',
            false,
            250,
            "letters, digits, \"_\" and \".\"",
        ),
        "kubernetes" => rule(
            |c: char| c.is_ascii_alphanumeric() || c == '-',
            true,
            63,
            "a letter, then letters, digits and \"-\"",
        ),
        "gce" => rule(
            |c: char| c.is_ascii_alphanumeric(),
            true,
            63,
            "a letter, then letters and digits",
        ),
        "appengine" => rule(
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit(),
            false,
            58,
            "lower case letters and digits",
        ),
        "dcos" => rule(
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit(),
            false,
            127,
            "lower case letters and digits",
        ),
        _ => return None,
    })
}

/// Checks the name against the rules of each cloud provider, as Orca does
/// when the task runs, so the mistake shows at plan time.
fn validate_name_for_providers(name: &Value, providers: Option<&Value>, diags: &mut Diagnostics) {
    let (Some(name), Some(items)) = (name.as_str(), providers.and_then(Value::as_elements)) else {
        return;
    };
    for provider in items.iter().filter_map(Value::as_str) {
        let Some(NameRule {
            allowed,
            letter_first,
            max,
            text: rule,
        }) = provider_name_rule(provider)
        else {
            continue;
        };
        let first_ok =
            !letter_first || name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        if !name.chars().all(allowed) || !first_ok || name.len() > max {
            diags.attribute_error(
                AttributePath::root("name"),
                "Invalid Application Name",
                format!(
                    "Attribute name must be at most {max} characters of {rule} for cloud provider {provider:?} (Orca's rule), got: {name:?}."
                ),
            );
        }
    }
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_elements)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn to_json(v: &Value) -> Json {
    match v {
        Value::String(s) => Json::String(s.clone()),
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map(Json::from)
            .or_else(|| {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Json::Number)
            })
            .unwrap_or(Json::Null),
        _ => Json::Null,
    }
}

/// The application document for Gate: every attribute is sent, unset ones
/// as null or empty, because Orca's update merges and would otherwise keep
/// values removed from the configuration.
fn to_spec(planned: &Value, prior: &Value) -> gate::ApplicationSpec {
    let str_attr = |n: &str| planned.attr(n).and_then(Value::as_str).map(str::to_owned);
    let mut extra = serde_json::Map::new();
    for (name, key, _, _) in PASSTHROUGH {
        extra.insert(
            (*key).to_owned(),
            planned.attr(name).map_or(Json::Null, to_json),
        );
    }
    if str_attr("description").is_none() {
        extra.insert("description".into(), Json::Null);
    }
    let permissions = match planned.attr("permissions") {
        Some(p @ Value::Object(_)) => Some(gate::Permissions {
            read: string_list(p.attr("read")),
            write: string_list(p.attr("write")),
            execute: string_list(p.attr("execute")),
        }),
        // Removing the block clears the roles rather than leaving them behind.
        _ if prior.attr("permissions").is_some_and(|p| !p.is_null()) => {
            Some(gate::Permissions::default())
        }
        _ => None,
    };
    gate::ApplicationSpec {
        name: str_attr("name").unwrap_or_default(),
        email: str_attr("email").unwrap_or_default(),
        description: str_attr("description"),
        cloud_providers: string_list(planned.attr("cloud_providers")),
        permissions,
        extra,
    }
}

fn from_json(j: Option<&Json>, kind: Kind) -> Value {
    match (kind, j) {
        (Kind::String, Some(Json::String(s))) if !s.is_empty() => Value::String(s.clone()),
        (Kind::Number, Some(Json::Number(n))) => {
            Number::parse(&n.to_string()).map_or(Value::Null, Value::Number)
        }
        (Kind::Number, Some(Json::String(s))) => {
            Number::parse(s.trim()).map_or(Value::Null, Value::Number)
        }
        (Kind::Bool, Some(Json::Bool(b))) => Value::Bool(*b),
        (Kind::Bool, Some(Json::String(s))) => s.parse().map_or(Value::Null, Value::Bool),
        _ => Value::Null,
    }
}

fn string_set(items: &[String]) -> Value {
    if items.is_empty() {
        Value::Null
    } else {
        Value::Set(items.iter().cloned().map(Value::String).collect())
    }
}

/// The state for an application as Gate returns it. Empty values read as
/// null, matching an attribute left out of the configuration.
pub(crate) fn from_application(app: &gate::Application) -> BTreeMap<String, Value> {
    let mut m = BTreeMap::new();
    m.insert("id".to_owned(), Value::string(&app.name));
    m.insert("name".to_owned(), Value::string(&app.name));
    m.insert(
        "email".to_owned(),
        app.email()
            .filter(|e| !e.is_empty())
            .map_or(Value::Null, Value::string),
    );
    m.insert(
        "description".to_owned(),
        from_json(app.attributes.get("description"), Kind::String),
    );
    let providers = app.cloud_providers();
    m.insert(
        "cloud_providers".to_owned(),
        if providers.is_empty() {
            Value::Null
        } else {
            Value::List(providers.into_iter().map(Value::String).collect())
        },
    );
    for (name, key, kind, _) in PASSTHROUGH {
        m.insert(
            (*name).to_owned(),
            from_json(app.attributes.get(*key), *kind),
        );
    }
    let permissions = app
        .permissions()
        .filter(|p| !(p.read.is_empty() && p.write.is_empty() && p.execute.is_empty()));
    m.insert(
        "permissions".to_owned(),
        permissions.map_or(Value::Null, |p| {
            Value::Object(BTreeMap::from([
                ("read".to_owned(), string_set(&p.read)),
                ("write".to_owned(), string_set(&p.write)),
                ("execute".to_owned(), string_set(&p.execute)),
            ]))
        }),
    );
    m
}

fn name_of(v: &Value) -> String {
    v.attr("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The planned state with the computed id taken from what Gate stored.
fn applied(planned: &Value, name: &str) -> Value {
    let mut state = planned.clone();
    if let Value::Object(m) = &mut state {
        m.insert("id".to_owned(), Value::string(name.to_lowercase()));
    }
    state
}

#[async_trait]
impl Resource for ApplicationResource {
    fn type_name(&self) -> &'static str {
        "spinnaker_application"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn import_template(&self) -> &'static str {
        "<name>"
    }

    fn display_id(&self, state: &Value) -> String {
        name_of(state)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(name) = config.attr("name") {
            validate_name(name, AttributePath::root("name"), diags);
            validate_name_for_providers(name, config.attr("cloud_providers"), diags);
        }
        if let Some(Value::String(email)) = config.attr("email")
            && email.trim().is_empty()
        {
            diags.attribute_error(
                AttributePath::root("email"),
                "Missing Owner Email",
                "Attribute email must not be empty: Front50 requires an owner email for every application.",
            );
        }
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ResourceError> {
        let name = name_of(state);
        let Some(app) = ctx.client.get_application(&name).await? else {
            return Ok(None);
        };
        let mut m = from_application(&app);
        // Keep the user's spelling where Spinnaker only normalised it.
        if let Some(Value::List(prior)) = state.attr("cloud_providers")
            && let Some(Value::List(now)) = m.get("cloud_providers")
            && prior.len() == now.len()
            && prior.iter().all(|p| now.iter().any(|n| n.same(p)))
        {
            m.insert("cloud_providers".to_owned(), Value::List(prior.clone()));
        }
        Ok(Some(Value::Object(m)))
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ResourceError> {
        let spec = to_spec(planned, &Value::Null);
        let outcome = ctx.client.upsert_application(&spec).await?;
        tracing::info!(application = %spec.name, task = %outcome.id, "created application");
        Ok(applied(planned, &spec.name))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, ResourceError> {
        let spec = to_spec(planned, prior);
        let outcome = ctx.client.upsert_application(&spec).await?;
        tracing::info!(application = %spec.name, task = %outcome.id, "updated application");
        Ok(applied(planned, &spec.name))
    }

    async fn delete(&self, ctx: &Ctx, prior: &Value) -> Result<(), ResourceError> {
        let outcome = ctx.client.delete_application(&name_of(prior)).await?;
        tracing::info!(application = %name_of(prior), task = %outcome.id, "deleted application");
        Ok(())
    }

    fn import(&self, parts: Vec<String>) -> Value {
        let name = parts.into_iter().next().unwrap_or_default().to_lowercase();
        let mut m: BTreeMap<String, Value> = schema()
            .block
            .field_names()
            .into_iter()
            .map(|k| (k, Value::Null))
            .collect();
        m.insert("id".to_owned(), Value::string(&name));
        m.insert("name".to_owned(), Value::String(name));
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(attrs: Json) -> gate::Application {
        gate::Application {
            name: "shop".into(),
            attributes: attrs.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn reads_empty_values_as_null() {
        let m = from_application(&app(serde_json::json!({
            "name": "SHOP", "email": "a@b.c", "description": "", "cloudProviders": "",
            "instancePort": 8080, "platformHealthOnly": "true",
            "permissions": {"READ": [], "WRITE": [], "EXECUTE": []},
        })));
        assert_eq!(m["description"], Value::Null);
        assert_eq!(m["cloud_providers"], Value::Null);
        assert_eq!(m["permissions"], Value::Null);
        assert_eq!(m["instance_port"], Value::Number(Number::from(8080)));
        assert_eq!(m["platform_health_only"], Value::Bool(true));
    }

    #[test]
    fn removed_values_are_sent_as_null_or_empty() {
        let prior = Value::Object(BTreeMap::from([(
            "permissions".to_owned(),
            Value::Object(BTreeMap::from([(
                "read".to_owned(),
                Value::Set(vec![Value::string("ops")]),
            )])),
        )]));
        let planned = Value::Object(BTreeMap::from([
            ("name".to_owned(), Value::string("shop")),
            ("email".to_owned(), Value::string("a@b.c")),
        ]));
        let spec = to_spec(&planned, &prior);
        let attrs = spec.to_attributes();
        assert_eq!(attrs["description"], Json::Null);
        assert_eq!(attrs["repoSlug"], Json::Null);
        assert_eq!(
            attrs["permissions"],
            serde_json::json!({"READ": [], "WRITE": [], "EXECUTE": []})
        );
    }

    #[test]
    fn names_follow_each_cloud_providers_rule() {
        let providers = Value::List(vec![Value::string("kubernetes"), Value::string("aws")]);
        let mut d = Diagnostics::new();
        validate_name_for_providers(&Value::string("my-app"), Some(&providers), &mut d);
        assert_eq!(d.0.len(), 1, "{d}");
        assert!(d.0[0].detail.contains("\"aws\""), "{d}");
        let mut d = Diagnostics::new();
        validate_name_for_providers(&Value::string("myapp2"), Some(&providers), &mut d);
        assert!(d.is_empty(), "{d}");
    }

    #[test]
    fn upper_case_names_are_rejected_with_the_path() {
        let mut d = Diagnostics::new();
        validate_name(&Value::string("MyApp"), AttributePath::root("name"), &mut d);
        assert_eq!(d.0.len(), 1);
        assert_eq!(
            d.0[0].detail,
            "Attribute name must be lower case (Spinnaker stores application names in lower case), got: \"MyApp\"."
        );
    }
}
