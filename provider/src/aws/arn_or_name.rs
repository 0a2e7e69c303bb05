//! The shared shape of the ELBv2 data sources (`spinnaker_aws_target_group`,
//! `spinnaker_aws_load_balancer`): the object is chosen by exactly one of `arn` and `name`,
//! optionally in another `region`, and is read through one [`ArnOrName`] implementation.

use std::collections::BTreeMap;
use std::future::Future;

use super::clients::AwsClients;
use super::error::AwsError;
use super::load_balancers::{LoadBalancer, TargetGroup, load_balancer, target_group};
use crate::diag::{AttributePath, Diagnostics};
use crate::resource::ResourceError;
use crate::schema::{Attribute, Block, Schema};
use crate::value::{Type, Value};

/// An ELBv2 object a data source reads by ARN or name.
pub trait ArnOrName: Sized + Send + 'static {
    /// What it is, lower case, e.g. `target group`.
    const WHAT: &'static str;
    /// The diagnostic summary when AWS has no such object, e.g. `Target Group Not Found`.
    const NOT_FOUND: &'static str;
    /// The description of the data source.
    const DESCRIPTION: &'static str;
    /// The descriptions of `id`, `arn` and `name`.
    const ID: &'static str;
    const ARN: &'static str;
    const NAME: &'static str;

    /// Its attributes (name, type, description), `arn` and `name` among them.
    fn fields() -> Vec<(&'static str, Type, &'static str)>;
    /// Its ARN.
    fn arn(&self) -> &str;
    /// Its attributes as Terraform values, keyed like [`Self::fields`].
    fn fields_value(&self) -> BTreeMap<String, Value>;
    /// Looks it up by ARN (a key starting with `arn:`) or name; `None` when missing.
    fn lookup(
        clients: &AwsClients,
        key: &str,
    ) -> impl Future<Output = Result<Option<Self>, AwsError>> + Send;
}

impl ArnOrName for TargetGroup {
    const WHAT: &'static str = "target group";
    const NOT_FOUND: &'static str = "Target Group Not Found";
    const DESCRIPTION: &'static str = "Reads an ELBv2 target group by `arn` or `name`: health check, registered targets and their health. Needs the provider's `aws` block.";
    const ID: &'static str = "The target group ARN.";
    const ARN: &'static str = "Target group ARN. Set exactly one of `arn` and `name`.";
    const NAME: &'static str = "Target group name. Set exactly one of `arn` and `name`.";

    fn fields() -> Vec<(&'static str, Type, &'static str)> {
        TargetGroup::fields()
    }
    fn arn(&self) -> &str {
        &self.arn
    }
    fn fields_value(&self) -> BTreeMap<String, Value> {
        TargetGroup::fields_value(self)
    }
    fn lookup(
        clients: &AwsClients,
        key: &str,
    ) -> impl Future<Output = Result<Option<Self>, AwsError>> + Send {
        target_group(clients, key)
    }
}

impl ArnOrName for LoadBalancer {
    const WHAT: &'static str = "load balancer";
    const NOT_FOUND: &'static str = "Load Balancer Not Found";
    const DESCRIPTION: &'static str = "Reads an ELBv2 (application, network or gateway) load balancer by `arn` or `name`: DNS name, listeners, and its target groups with health checks and registered targets. Needs the provider's `aws` block.";
    const ID: &'static str = "The load balancer ARN.";
    const ARN: &'static str = "Load balancer ARN. Set exactly one of `arn` and `name`.";
    const NAME: &'static str = "Load balancer name. Set exactly one of `arn` and `name`.";

    fn fields() -> Vec<(&'static str, Type, &'static str)> {
        LoadBalancer::fields()
    }
    fn arn(&self) -> &str {
        &self.arn
    }
    fn fields_value(&self) -> BTreeMap<String, Value> {
        LoadBalancer::fields_value(self)
    }
    fn lookup(
        clients: &AwsClients,
        key: &str,
    ) -> impl Future<Output = Result<Option<Self>, AwsError>> + Send {
        load_balancer(clients, key)
    }
}

/// The data source schema: `id`, the object's attributes with `arn` and `name` as the
/// (optional) selectors, and `region`.
pub fn schema<T: ArnOrName>() -> Schema {
    let mut block =
        Block::new(T::DESCRIPTION).attribute(Attribute::computed("id", Type::String, T::ID));
    for (name, ty, description) in T::fields() {
        block = block.attribute(match name {
            "arn" => Attribute::optional_computed(name, ty, T::ARN),
            "name" => Attribute::optional_computed(name, ty, T::NAME),
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

/// Checks that exactly one of `arn` and `name` is set (unknown values are checked later).
pub fn validate<T: ArnOrName>(config: &Value, diags: &mut Diagnostics) {
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
            format!("Set exactly one of arn and name to choose the {}.", T::WHAT),
        );
    }
}

/// Reads the object the config names, in its `region` or the provider's. A missing object
/// and any AWS failure are diagnostics on the attribute that named it.
pub async fn read<T: ArnOrName>(config: &Value) -> Result<Value, ResourceError> {
    let text = |n: &str| config.attr(n).and_then(Value::as_str).map(str::to_owned);
    let region = text("region");
    let (key, attribute) = match text("arn") {
        Some(arn) => (arn, "arn"),
        None => (text("name").unwrap_or_default(), "name"),
    };
    let lookup = key.clone();
    let (found, region) = super::call(move |clients| async move {
        let clients = match &region {
            Some(r) => clients.for_region(r),
            None => (*clients).clone(),
        };
        Ok((T::lookup(&clients, &lookup).await?, clients.region.clone()))
    })
    .await
    .map_err(|e| {
        ResourceError::Diagnostics(e.to_diagnostics(Some(AttributePath::root(attribute))))
    })?;
    let Some(object) = found else {
        let mut d = Diagnostics::new();
        d.attribute_error(
            AttributePath::root(attribute),
            T::NOT_FOUND,
            format!(
                "Attribute {attribute}: AWS has no {} {key:?} in {region}. Check the {attribute} and the region.",
                T::WHAT
            ),
        );
        return Err(ResourceError::Diagnostics(d));
    };
    let mut out = object.fields_value();
    out.insert("id".into(), Value::String(object.arn().to_owned()));
    out.insert("region".into(), Value::String(region));
    Ok(Value::Object(out))
}
