//! Data source `spinnaker_aws_target_group`: an ELBv2 target group by ARN or name, with its
//! health check and registered targets and their health.

use async_trait::async_trait;

use crate::aws::{self, TargetGroup};
use crate::diag::{AttributePath, Diagnostics};
use crate::resource::{Ctx, DataSource, ResourceError};
use crate::schema::{Attribute, Block, Schema};
use crate::value::{Type, Value};

/// The data source type.
pub struct AwsTargetGroupDataSource;

/// The schema.
pub fn schema() -> Schema {
    let mut block = Block::new("Reads an ELBv2 target group by `arn` or `name`: health check, registered targets and their health. Needs the provider's `aws` block.")
        .attribute(Attribute::computed("id", Type::String, "The target group ARN."));
    for (name, ty, description) in TargetGroup::fields() {
        block = block.attribute(match name {
            "arn" => Attribute::optional_computed(
                name,
                ty,
                "Target group ARN. Set exactly one of `arn` and `name`.",
            ),
            "name" => Attribute::optional_computed(
                name,
                ty,
                "Target group name. Set exactly one of `arn` and `name`.",
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

/// Checks that exactly one of `arn` and `name` is set.
pub(crate) fn one_of(config: &Value, diags: &mut Diagnostics, what: &str) {
    if ["arn", "name"]
        .iter()
        .any(|n| config.attr(n).is_some_and(Value::is_unknown))
    {
        return;
    }
    let set = |n: &str| config.attr(n).is_some_and(|v| !v.is_null());
    if set("arn") == set("name") {
        diags.attribute_error(
            AttributePath::root("name"),
            "Invalid Selection",
            format!("Set exactly one of arn and name to choose the {what}."),
        );
    }
}

/// The lookup key (ARN or name), its attribute, and the region override.
pub(crate) fn key(config: &Value) -> (String, &'static str, Option<String>) {
    let text = |n: &str| config.attr(n).and_then(Value::as_str).map(str::to_owned);
    let region = text("region");
    match text("arn") {
        Some(arn) => (arn, "arn", region),
        None => (text("name").unwrap_or_default(), "name", region),
    }
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
        one_of(config, diags, "target group");
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
                aws::target_group(&clients, &lookup).await?,
                clients.region.clone(),
            ))
        })
        .await
        .map_err(|e| {
            ResourceError::Diagnostics(e.to_diagnostics(Some(AttributePath::root(attribute))))
        })?;
        let (Some(tg), region) = found else {
            let mut d = Diagnostics::new();
            d.attribute_error(
                AttributePath::root(attribute),
                "Target Group Not Found",
                format!("Attribute {attribute}: AWS has no target group {key:?} in {}. Check the {attribute} and the region.", found.1),
            );
            return Err(ResourceError::Diagnostics(d));
        };
        let mut out = tg.fields_value();
        out.insert("id".into(), Value::String(tg.arn.clone()));
        out.insert("region".into(), Value::String(region));
        Ok(Value::Object(out))
    }
}
