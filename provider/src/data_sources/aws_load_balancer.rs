//! Data source `spinnaker_aws_load_balancer`: an ELBv2 load balancer by ARN or name, with its
//! DNS name, listeners, and target groups (health check, registered targets and their health).

use async_trait::async_trait;

use crate::aws::{LoadBalancer, arn_or_name};
use crate::diag::Diagnostics;
use crate::resource::{Ctx, DataSource, ResourceError};
use crate::schema::Schema;
use crate::value::Value;

/// The data source type.
pub struct AwsLoadBalancerDataSource;

/// The schema.
pub fn schema() -> Schema {
    arn_or_name::schema::<LoadBalancer>()
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
        arn_or_name::validate::<LoadBalancer>(config, diags);
    }

    async fn read(&self, _ctx: &Ctx, config: &Value) -> Result<Value, ResourceError> {
        arn_or_name::read::<LoadBalancer>(config).await
    }
}
