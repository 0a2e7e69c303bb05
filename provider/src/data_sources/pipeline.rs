//! Data sources `spinnaker_pipeline` (one pipeline by application and name) and
//! `spinnaker_pipelines` (every pipeline of an application), read from the application's
//! cached pipeline list.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::Value as Json;

use crate::diag::{AttributePath, Diagnostics};
use crate::resource::{Ctx, DataSource, ResourceError};
use crate::resources::application::validate_name;
use crate::resources::pipeline::find_live;
use crate::schema::{Attribute, Block, Schema};
use crate::value::{Type, Value};

/// The data source `spinnaker_pipeline`.
pub struct PipelineDataSource;

/// The data source `spinnaker_pipelines`.
pub struct PipelinesDataSource;

fn application_attribute() -> Attribute {
    Attribute::required(
        "application",
        Type::String,
        "Application that owns the pipelines.",
    )
}

/// The `spinnaker_pipeline` schema.
pub fn schema() -> Schema {
    Schema::new(
        0,
        Block::new("Reads one pipeline config by application and name, e.g. to reference its id from a `pipeline_trigger` of a pipeline managed elsewhere.")
            .attribute(application_attribute())
            .attribute(Attribute::required("name", Type::String, "Pipeline name (matched exactly, then ignoring case, as Gate does)."))
            .attribute(Attribute::computed("id", Type::String, "The pipeline config id."))
            .attribute(Attribute::computed("update_ts", Type::String, "Front50's `updateTs` of the last change (epoch milliseconds)."))
            .attribute(Attribute::computed("json", Type::String, "The pipeline config as JSON, as Gate returns it. Sensitive, because triggers can carry secrets.").sensitive()),
    )
}

fn pipeline_entry_type() -> Type {
    Type::Object(
        [("id", Type::String), ("name", Type::String)]
            .into_iter()
            .map(|(k, t)| (k.to_owned(), t))
            .collect(),
    )
}

/// The `spinnaker_pipelines` schema.
pub fn list_schema() -> Schema {
    Schema::new(
        0,
        Block::new("Reads every pipeline config of an application, in Deck's order.")
            .attribute(application_attribute())
            .attribute(Attribute::computed(
                "id",
                Type::String,
                "The application name.",
            ))
            .attribute(Attribute::computed(
                "pipelines",
                Type::list(pipeline_entry_type()),
                "The pipelines: `id` and `name` of each (read one with data source `spinnaker_pipeline` for its JSON).",
            )),
    )
}

fn text<'a>(v: &'a Value, name: &str) -> &'a str {
    v.attr(name).and_then(Value::as_str).unwrap_or_default()
}

fn json_text(m: &serde_json::Map<String, Json>, key: &str) -> Value {
    m.get(key)
        .and_then(pipeline::model::ref_id_string)
        .map_or(Value::Null, Value::String)
}

fn check_application(config: &Value, diags: &mut Diagnostics) {
    if let Some(app) = config.attr("application") {
        validate_name(app, AttributePath::root("application"), diags);
    }
}

#[async_trait]
impl DataSource for PipelineDataSource {
    fn type_name(&self) -> &'static str {
        "spinnaker_pipeline"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        check_application(config, diags);
    }

    async fn read(&self, ctx: &Ctx, config: &Value) -> Result<Value, ResourceError> {
        let (app, name) = (text(config, "application"), text(config, "name"));
        let Some(live) = find_live(ctx, app, None, Some(name)).await? else {
            let mut d = Diagnostics::new();
            d.attribute_error(
                AttributePath::root("name"),
                "Pipeline Not Found",
                format!("Application {app:?} has no pipeline named {name:?}. Check both names, or create it with resource spinnaker_pipeline."),
            );
            return Err(ResourceError::Diagnostics(d));
        };
        Ok(Value::Object(BTreeMap::from([
            ("application".to_owned(), Value::string(app)),
            ("name".to_owned(), Value::string(name)),
            ("id".to_owned(), json_text(&live, "id")),
            ("update_ts".to_owned(), json_text(&live, "updateTs")),
            (
                "json".to_owned(),
                Value::String(Json::Object(live).to_string()),
            ),
        ])))
    }
}

#[async_trait]
impl DataSource for PipelinesDataSource {
    fn type_name(&self) -> &'static str {
        "spinnaker_pipelines"
    }

    fn schema(&self) -> Schema {
        list_schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        check_application(config, diags);
    }

    async fn read(&self, ctx: &Ctx, config: &Value) -> Result<Value, ResourceError> {
        let app = text(config, "application");
        let list = match ctx.client.list_pipeline_configs(app).await {
            Ok(list) => list,
            Err(e) if e.is_not_found() => Default::default(),
            Err(e) => return Err(e.into()),
        };
        let pipelines = list
            .iter()
            .filter_map(Json::as_object)
            .map(|p| {
                Value::Object(BTreeMap::from([
                    ("id".to_owned(), json_text(p, "id")),
                    ("name".to_owned(), json_text(p, "name")),
                ]))
            })
            .collect();
        Ok(Value::Object(BTreeMap::from([
            ("application".to_owned(), Value::string(app)),
            ("id".to_owned(), Value::string(app)),
            ("pipelines".to_owned(), Value::List(pipelines)),
        ])))
    }
}
