//! Data source `spinnaker_application`: reads one application by name.

use async_trait::async_trait;

use crate::diag::{AttributePath, Diagnostics};
use crate::resource::{Ctx, DataSource, ResourceError};
use crate::resources::application::{Kind, PASSTHROUGH, from_application, validate_name};
use crate::schema::{Attribute, Block, Schema};
use crate::value::{Type, Value};

/// The data source type.
pub struct ApplicationDataSource;

/// The data source schema: `name` in, everything else read.
pub fn schema() -> Schema {
    let mut block = Block::new("Reads an existing Spinnaker application by name.")
        .attribute(Attribute::computed(
            "id",
            Type::String,
            "The application name (lower case).",
        ))
        .attribute(Attribute::required(
            "name",
            Type::String,
            "Name of the application to read.",
        ))
        .attribute(Attribute::computed(
            "email",
            Type::String,
            "Owner email address.",
        ))
        .attribute(Attribute::computed(
            "description",
            Type::String,
            "Free-text description.",
        ))
        .attribute(Attribute::computed(
            "cloud_providers",
            Type::list(Type::String),
            "Cloud providers the application deploys to.",
        ));
    for (name, _, kind, description) in PASSTHROUGH {
        let ty = match kind {
            Kind::String => Type::String,
            Kind::Number => Type::Number,
            Kind::Bool => Type::Bool,
        };
        block = block.attribute(Attribute::computed(name, ty, description));
    }
    let roles = Type::set(Type::String);
    let permissions = Type::Object(
        [
            ("read", roles.clone()),
            ("write", roles.clone()),
            ("execute", roles),
        ]
        .into_iter()
        .map(|(k, t)| (k.to_owned(), t))
        .collect(),
    );
    Schema::new(
        0,
        block.attribute(Attribute::computed(
            "permissions",
            permissions,
            "Fiat roles per action (`read`, `write`, `execute`); null when the application is unrestricted.",
        )),
    )
}

#[async_trait]
impl DataSource for ApplicationDataSource {
    fn type_name(&self) -> &'static str {
        "spinnaker_application"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(name) = config.attr("name") {
            validate_name(name, AttributePath::root("name"), diags);
        }
    }

    async fn read(&self, ctx: &Ctx, config: &Value) -> Result<Value, ResourceError> {
        let name = config
            .attr("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match ctx.client.get_application(name).await? {
            Some(app) => Ok(Value::Object(from_application(&app))),
            None => {
                let mut d = Diagnostics::new();
                d.attribute_error(
                    AttributePath::root("name"),
                    "Application Not Found",
                    format!("Spinnaker has no application named {name:?}. Check the name, or create it with resource spinnaker_application."),
                );
                Err(ResourceError::Diagnostics(d))
            }
        }
    }
}
