//! Data source `spinnaker_aws_load_balancer`: an ELBv2 load balancer by ARN or name, with its
//! DNS name, listeners, and target groups (health check, registered targets and their health).

use async_trait::async_trait;

use super::aws_target_group::{key, one_of};
use crate::aws::{self, LoadBalancer};
use crate::diag::{AttributePath, Diagnostics};
use crate::resource::{Ctx, DataSource, ResourceError};
use crate::schema::{Attribute, Block, Schema};
use crate::value::{Type, Value};

/// The data source type.
pub struct AwsLoadBalancerDataSource;

/// The schema.
pub fn schema() -> Schema {
    let mut block = Block::new("Reads an ELBv2 (application, network or gateway) load balancer by `arn` or `name`: DNS name, listeners, and its target groups with health checks and registered targets. Needs the provider's `aws` block.")
        .attribute(Attribute::computed("id", Type::String, "The load balancer ARN."));
    for (name, ty, description) in LoadBalancer::fields() {
        block = block.attribute(match name {
            "arn" => Attribute::optional_computed(
                name,
                ty,
                "Load balancer ARN. Set exactly one of `arn` and `name`.",
            ),
            "name" => Attribute::optional_computed(
                name,
                ty,
                "Load balancer name. Set exactly one of `arn` and `name`.",
            ),
            _ => Attribute::computed(name, ty, description),
        });
    }
    Schema::new(
        0,
        block.attribute(Attribute::optional_computed(
            "region",
            Type::String,
            "AWS region; defaults to the provider's `aws.region`.",
        )),
    )
}

#[async_trait]
impl DataSource for AwsLoadBalancerDataSource {
    fn type_name(&self) -> &'static str {
        "spinnaker_aws_load_balancer"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        one_of(config, diags, "load balancer");
    }

    async fn read(&self, _ctx: &Ctx, config: &Value) -> Result<Value, ResourceError> {
        let (key, attribute, region) = key(config);
        let lookup = key.clone();
        let found = aws::call(move |clients| async move {
            let clients = match &region {
                Some(r) => clients.for_region(r),
                None => (*clients).clone(),
            };
            Ok((
                aws::load_balancer(&clients, &lookup).await?,
                clients.region.clone(),
            ))
        })
        .await
        .map_err(|e| {
            ResourceError::Diagnostics(e.to_diagnostics(Some(AttributePath::root(attribute))))
        })?;
        let (Some(lb), region) = found else {
            let mut d = Diagnostics::new();
            d.attribute_error(
                AttributePath::root(attribute),
                "Load Balancer Not Found",
                format!("Attribute {attribute}: AWS has no load balancer {key:?} in {}. Check the {attribute} and the region.", found.1),
            );
            return Err(ResourceError::Diagnostics(d));
        };
        let mut out = lb.fields_value();
        out.insert("id".into(), Value::String(lb.arn.clone()));
        out.insert("region".into(), Value::String(region));
        Ok(Value::Object(out))
    }
}
