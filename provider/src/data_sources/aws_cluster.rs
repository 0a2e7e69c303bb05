//! Data source `spinnaker_aws_cluster`: every server group of a Frigga cluster in one region,
//! the active one (the newest enabled, which a red/black deploy leaves serving) and the name the
//! next deploy would get.

use async_trait::async_trait;

use crate::aws::{self, ServerGroup};
use crate::diag::{AttributePath, Diagnostics};
use crate::resource::{Ctx, DataSource, ResourceError};
use crate::schema::{Attribute, Block, Schema};
use crate::value::{Number, Type, Value};

/// The data source type.
pub struct AwsClusterDataSource;

/// The schema.
pub fn schema() -> Schema {
    Schema::new(
        0,
        Block::new("Reads a Spinnaker cluster on AWS: all autoscaling groups named `<name>-vNNN` (or `<name>`) in Frigga order, and the active one. An empty cluster is not an error: `server_groups` is empty and `active` null. Needs the provider's `aws` block.")
            .attribute(Attribute::computed("id", Type::String, "`<region>/<name>`."))
            .attribute(Attribute::required("name", Type::String, "Frigga cluster name: `app`, `app-stack` or `app-stack-detail`."))
            .attribute(Attribute::optional_computed("region", Type::String, "AWS region; defaults to the provider's `aws.region`."))
            .attribute(Attribute::computed("app", Type::String, "Frigga application of the cluster."))
            .attribute(Attribute::computed("stack", Type::String, "Frigga stack; null when absent."))
            .attribute(Attribute::computed("detail", Type::String, "Frigga detail; null when absent."))
            .attribute(Attribute::computed("server_groups", Type::list(ServerGroup::object_type()), "Server groups in Frigga order, each with the attributes of `spinnaker_aws_server_group`."))
            .attribute(Attribute::computed("server_group_names", Type::list(Type::String), "Names of `server_groups`, in the same order."))
            .attribute(Attribute::computed("enabled_server_group_names", Type::list(Type::String), "Names of the enabled server groups, in Frigga order."))
            .attribute(Attribute::computed("active", ServerGroup::object_type(), "The newest enabled server group by creation time; null when none is enabled."))
            .attribute(Attribute::computed("active_server_group_name", Type::String, "Name of `active`; null when none is enabled."))
            .attribute(Attribute::computed("next_server_group_name", Type::String, "The name Clouddriver would give the next deploy: the newest group's sequence plus one, skipping taken numbers, modulo 1000."))
            .attribute(Attribute::computed("size", Type::Number, "Number of server groups.")),
    )
}

#[async_trait]
impl DataSource for AwsClusterDataSource {
    fn type_name(&self) -> &'static str {
        "spinnaker_aws_cluster"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(name) = config.attr("name").and_then(Value::as_str) {
            let parsed = pipeline::naming::Names::parse(name);
            if parsed.app.is_none() || parsed.sequence.is_some() {
                diags.attribute_error(
                    AttributePath::root("name"),
                    "Invalid Cluster Name",
                    format!("Attribute name must be a Frigga cluster name (app, app-stack or app-stack-detail, no -vNNN), got {name:?}."),
                );
            }
        }
    }

    async fn read(&self, _ctx: &Ctx, config: &Value) -> Result<Value, ResourceError> {
        let name = config
            .attr("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let region = config
            .attr("region")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let key = name.clone();
        let cluster = aws::call(move |clients| async move {
            let clients = match &region {
                Some(r) => clients.for_region(r),
                None => (*clients).clone(),
            };
            aws::cluster(&clients, &key).await
        })
        .await
        .map_err(|e| {
            ResourceError::Diagnostics(e.to_diagnostics(Some(AttributePath::root("name"))))
        })?;
        let parsed = pipeline::naming::Names::parse(&name);
        let s = |v: Option<String>| v.map_or(Value::Null, Value::String);
        let names = |enabled_only: bool| {
            Value::List(
                cluster
                    .server_groups
                    .iter()
                    .filter(|g| !enabled_only || g.enabled)
                    .map(|g| Value::String(g.name.clone()))
                    .collect(),
            )
        };
        let existing: Vec<(String, jiff::Timestamp)> = cluster
            .server_groups
            .iter()
            .map(|g| {
                let created = g
                    .created_ms
                    .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
                    .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
                (g.name.clone(), created)
            })
            .collect();
        let next = pipeline::naming::next_server_group_name(&name, &existing).ok();
        let active = cluster.active();
        let out = [
            ("id", Value::String(format!("{}/{}", cluster.region, name))),
            ("name", Value::String(name.clone())),
            ("region", Value::String(cluster.region.clone())),
            ("app", s(parsed.app)),
            ("stack", s(parsed.stack)),
            ("detail", s(parsed.detail)),
            (
                "server_groups",
                Value::List(
                    cluster
                        .server_groups
                        .iter()
                        .map(ServerGroup::to_value)
                        .collect(),
                ),
            ),
            ("server_group_names", names(false)),
            ("enabled_server_group_names", names(true)),
            ("active", active.map_or(Value::Null, ServerGroup::to_value)),
            (
                "active_server_group_name",
                active.map_or(Value::Null, |g| Value::String(g.name.clone())),
            ),
            ("next_server_group_name", s(next)),
            (
                "size",
                Value::Number(Number::from(
                    i64::try_from(cluster.server_groups.len()).unwrap_or(i64::MAX),
                )),
            ),
        ];
        Ok(Value::Object(
            out.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        ))
    }
}
