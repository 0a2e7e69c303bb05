//! Data source `spinnaker_aws_target_group`: an ELBv2 target group by ARN or name, with its
//! health check and registered targets and their health.

use async_trait::async_trait;

use crate::aws::{TargetGroup, arn_or_name};
use crate::diag::Diagnostics;
use crate::resource::{Ctx, DataSource, ResourceError};
use crate::schema::Schema;
use crate::value::Value;

/// The data source type.
pub struct AwsTargetGroupDataSource;

/// The schema.
pub fn schema() -> Schema {
    arn_or_name::schema::<TargetGroup>()
}

#[async_trait]
impl DataSource for AwsTargetGroupDataSource {
    fn type_name(&self) -> &'static str {
        "spinnaker_aws_target_group"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        arn_or_name::validate::<TargetGroup>(config, diags);
    }

    async fn read(&self, _ctx: &Ctx, config: &Value) -> Result<Value, ResourceError> {
        arn_or_name::read::<TargetGroup>(config).await
    }
}
