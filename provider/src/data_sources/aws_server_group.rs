//! Data source `spinnaker_aws_server_group`: one autoscaling group read as a Spinnaker server
//! group, by its name or as the newest of a cluster, plus every server group of that cluster in
//! Frigga order.

use async_trait::async_trait;

use crate::aws::{self, ServerGroup};
use crate::diag::{AttributePath, Diagnostics};
use crate::resource::{Ctx, DataSource, ResourceError};
use crate::schema::{Attribute, Block, Schema};
use crate::value::{Type, Value};

/// The data source type.
pub struct AwsServerGroupDataSource;

/// The schema: `name` or `cluster` (and optionally `region`) in, the server group out.
pub fn schema() -> Schema {
    let mut block = Block::new(
        "Reads an AWS autoscaling group as a Spinnaker server group: by `name`, or the newest server group of `cluster` (by creation time, as Clouddriver picks the ancestor). `server_groups` lists the whole cluster in Frigga order. Needs the provider's `aws` block.",
    )
    .attribute(Attribute::computed("id", Type::String, "The server group name."));
    for (name, ty, description) in aws::server_group_fields() {
        block = block.attribute(match name {
            "name" => Attribute::optional_computed(
                name,
                ty,
                "Autoscaling group name, e.g. `shop-prod-v003`. Set exactly one of `name` and `cluster`.",
            ),
            "cluster" => Attribute::optional_computed(
                name,
                ty,
                "Frigga cluster, e.g. `shop-prod`: reads its newest server group. Set exactly one of `name` and `cluster`.",
            ),
            "region" => Attribute::optional_computed(
                name,
                ty,
                "AWS region; defaults to the provider's `aws.region`.",
            ),
            _ => Attribute::computed(name, ty, description),
        });
    }
    Schema::new(
        0,
        block.attribute(Attribute::computed(
            "server_groups",
            Type::list(ServerGroup::object_type()),
            "Every server group of the cluster in Frigga order (app, stack, detail, sequence), each with the attributes above.",
        )),
    )
}

fn text<'a>(config: &'a Value, name: &str) -> Option<&'a str> {
    config.attr(name).and_then(Value::as_str)
}

#[async_trait]
impl DataSource for AwsServerGroupDataSource {
    fn type_name(&self) -> &'static str {
        "spinnaker_aws_server_group"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let set = |n: &str| config.attr(n).is_some_and(|v| !v.is_null());
        if config.attr("name").is_some_and(Value::is_unknown)
            || config.attr("cluster").is_some_and(Value::is_unknown)
        {
            return;
        }
        if set("name") == set("cluster") {
            diags.attribute_error(
                AttributePath::root("name"),
                "Invalid Server Group Selection",
                "Set exactly one of name (an autoscaling group name) and cluster (a Frigga cluster name).",
            );
        }
        if let Some(c) = text(config, "cluster")
            && pipeline::naming::Names::parse(c).sequence.is_some()
        {
            diags.attribute_error(
                AttributePath::root("cluster"),
                "Invalid Cluster Name",
                format!("Attribute cluster must be a cluster name without a -vNNN sequence, got {c:?}; use name for a server group."),
            );
        }
    }

    async fn read(&self, _ctx: &Ctx, config: &Value) -> Result<Value, ResourceError> {
        let name = text(config, "name").map(str::to_owned);
        let cluster = text(config, "cluster").map(str::to_owned);
        let region = text(config, "region").map(str::to_owned);
        let by_name = name.is_some();
        let key = name.clone().or(cluster.clone()).unwrap_or_default();
        let lookup_key = key.clone();
        let result = aws::call(move |clients| async move {
            let clients = match &region {
                Some(r) => clients.for_region(r),
                None => (*clients).clone(),
            };
            if by_name {
                // The group is read with its cluster: one listing, one image lookup each.
                let Some(c) = pipeline::naming::Names::parse(&lookup_key).cluster else {
                    return Ok((aws::server_group(&clients, &lookup_key).await?, None));
                };
                let cluster = aws::cluster(&clients, &c).await?;
                let group = cluster
                    .server_groups
                    .iter()
                    .find(|g| g.name == lookup_key)
                    .cloned();
                Ok((group, Some(cluster.server_groups)))
            } else {
                let cluster = aws::cluster(&clients, &lookup_key).await?;
                let newest = cluster.newest().cloned();
                Ok((newest, Some(cluster.server_groups)))
            }
        })
        .await;
        let attribute = if by_name { "name" } else { "cluster" };
        let (group, members) = result.map_err(|e| {
            ResourceError::Diagnostics(e.to_diagnostics(Some(AttributePath::root(attribute))))
        })?;
        let Some(group) = group else {
            let mut d = Diagnostics::new();
            let detail = if by_name {
                format!(
                    "Attribute name: AWS has no autoscaling group named {key:?} in this region. Check the name and the region."
                )
            } else {
                format!(
                    "Attribute cluster: the cluster {key:?} has no server groups (autoscaling groups named {key}-vNNN or {key}) in this region."
                )
            };
            d.attribute_error(
                AttributePath::root(attribute),
                if by_name {
                    "Server Group Not Found"
                } else {
                    "Cluster Not Found"
                },
                detail,
            );
            return Err(ResourceError::Diagnostics(d));
        };
        let members = members
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| vec![group.clone()]);
        let mut out = group.fields();
        out.insert("id".into(), Value::String(group.name.clone()));
        out.insert(
            "server_groups".into(),
            Value::List(members.iter().map(ServerGroup::to_value).collect()),
        );
        Ok(Value::Object(out))
    }
}
