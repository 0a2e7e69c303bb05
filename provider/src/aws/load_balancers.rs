//! ELBv2 views: target groups with their health check and registered targets (and their
//! health), and application/network load balancers with DNS name, listeners and target groups.

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::types::TargetGroup as SdkTargetGroup;

use super::clients::AwsClients;
use super::error::AwsError;
use crate::value::{Number, Type, Value};

/// One registered target and its health.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetHealth {
    pub id: String,
    pub port: Option<i64>,
    pub availability_zone: Option<String>,
    pub state: Option<String>,
    pub reason: Option<String>,
    pub description: Option<String>,
}

/// A target group.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetGroup {
    pub arn: String,
    pub name: String,
    pub protocol: Option<String>,
    pub port: Option<i64>,
    pub vpc_id: Option<String>,
    pub target_type: Option<String>,
    pub load_balancer_arns: Vec<String>,
    pub health_check: BTreeMap<&'static str, Value>,
    pub targets: Vec<TargetHealth>,
}

/// A listener of a load balancer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    pub arn: String,
    pub port: Option<i64>,
    pub protocol: Option<String>,
    pub target_group_arns: Vec<String>,
}

/// An application, network or gateway load balancer.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadBalancer {
    pub arn: String,
    pub name: String,
    pub dns_name: Option<String>,
    pub scheme: Option<String>,
    pub load_balancer_type: Option<String>,
    pub state: Option<String>,
    pub vpc_id: Option<String>,
    pub availability_zones: Vec<String>,
    pub listeners: Vec<Listener>,
    pub target_groups: Vec<TargetGroup>,
}

fn s(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::String(s.to_owned()))
}

fn n(v: Option<i64>) -> Value {
    v.map_or(Value::Null, |n| Value::Number(Number::from(n)))
}

fn strings(v: &[String]) -> Value {
    Value::List(v.iter().cloned().map(Value::String).collect())
}

fn object(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn object_type(pairs: &[(&str, Type)]) -> Type {
    Type::Object(
        pairs
            .iter()
            .map(|(k, t)| ((*k).to_owned(), t.clone()))
            .collect(),
    )
}

/// The type of `health_check`.
pub fn health_check_type() -> Type {
    object_type(&[
        ("enabled", Type::Bool),
        ("protocol", Type::String),
        ("port", Type::String),
        ("path", Type::String),
        ("interval_seconds", Type::Number),
        ("timeout_seconds", Type::Number),
        ("healthy_threshold", Type::Number),
        ("unhealthy_threshold", Type::Number),
        ("matcher", Type::String),
    ])
}

/// The type of one registered target.
pub fn target_type() -> Type {
    object_type(&[
        ("id", Type::String),
        ("port", Type::Number),
        ("availability_zone", Type::String),
        ("state", Type::String),
        ("reason", Type::String),
        ("description", Type::String),
    ])
}

/// The type of one listener.
pub fn listener_type() -> Type {
    object_type(&[
        ("arn", Type::String),
        ("port", Type::Number),
        ("protocol", Type::String),
        ("target_group_arns", Type::list(Type::String)),
    ])
}

impl TargetGroup {
    /// Attributes of a target group: name, type, description.
    pub fn fields() -> Vec<(&'static str, Type, &'static str)> {
        vec![
            ("arn", Type::String, "Target group ARN."),
            ("name", Type::String, "Target group name."),
            ("protocol", Type::String, "Protocol, e.g. `HTTP`."),
            ("port", Type::Number, "Port targets receive traffic on."),
            ("vpc_id", Type::String, "VPC id."),
            (
                "target_type",
                Type::String,
                "`instance`, `ip`, `lambda` or `alb`.",
            ),
            (
                "load_balancer_arns",
                Type::list(Type::String),
                "Load balancers that route to this group.",
            ),
            (
                "health_check",
                health_check_type(),
                "Health check: protocol, port, path, interval, timeout, thresholds and matcher.",
            ),
            (
                "targets",
                Type::list(target_type()),
                "Registered targets with their health state (`healthy`, `unhealthy`, `initial`, `draining`, ...).",
            ),
            (
                "healthy_targets",
                Type::Number,
                "Targets whose state is `healthy`.",
            ),
        ]
    }

    /// The object type of a target group.
    pub fn object_type() -> Type {
        Type::Object(
            Self::fields()
                .into_iter()
                .map(|(k, t, _)| (k.to_owned(), t))
                .collect(),
        )
    }

    fn from_sdk(tg: &SdkTargetGroup) -> Option<Self> {
        let health_check = [
            (
                "enabled",
                tg.health_check_enabled().map_or(Value::Null, Value::Bool),
            ),
            (
                "protocol",
                s(tg.health_check_protocol().map(|p| p.as_str())),
            ),
            ("port", s(tg.health_check_port())),
            ("path", s(tg.health_check_path())),
            (
                "interval_seconds",
                n(tg.health_check_interval_seconds().map(i64::from)),
            ),
            (
                "timeout_seconds",
                n(tg.health_check_timeout_seconds().map(i64::from)),
            ),
            (
                "healthy_threshold",
                n(tg.healthy_threshold_count().map(i64::from)),
            ),
            (
                "unhealthy_threshold",
                n(tg.unhealthy_threshold_count().map(i64::from)),
            ),
            (
                "matcher",
                s(tg.matcher().and_then(|m| m.http_code().or(m.grpc_code()))),
            ),
        ]
        .into_iter()
        .collect();
        Some(TargetGroup {
            arn: tg.target_group_arn()?.to_owned(),
            name: tg.target_group_name().unwrap_or_default().to_owned(),
            protocol: tg.protocol().map(|p| p.as_str().to_owned()),
            port: tg.port().map(i64::from),
            vpc_id: tg.vpc_id().map(str::to_owned),
            target_type: tg.target_type().map(|t| t.as_str().to_owned()),
            load_balancer_arns: tg.load_balancer_arns().to_vec(),
            health_check,
            targets: Vec::new(),
        })
    }

    /// The target group as a Terraform object.
    pub fn to_value(&self) -> Value {
        Value::Object(self.fields_value())
    }

    /// The attributes keyed like [`Self::fields`].
    pub fn fields_value(&self) -> BTreeMap<String, Value> {
        let targets = self
            .targets
            .iter()
            .map(|t| {
                object(vec![
                    ("id", Value::String(t.id.clone())),
                    ("port", n(t.port)),
                    ("availability_zone", s(t.availability_zone.as_deref())),
                    ("state", s(t.state.as_deref())),
                    ("reason", s(t.reason.as_deref())),
                    ("description", s(t.description.as_deref())),
                ])
            })
            .collect();
        let healthy = self
            .targets
            .iter()
            .filter(|t| t.state.as_deref() == Some("healthy"))
            .count();
        let health_check = Value::Object(
            self.health_check
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        );
        [
            ("arn", Value::String(self.arn.clone())),
            ("name", Value::String(self.name.clone())),
            ("protocol", s(self.protocol.as_deref())),
            ("port", n(self.port)),
            ("vpc_id", s(self.vpc_id.as_deref())),
            ("target_type", s(self.target_type.as_deref())),
            ("load_balancer_arns", strings(&self.load_balancer_arns)),
            ("health_check", health_check),
            ("targets", Value::List(targets)),
            ("healthy_targets", n(i64::try_from(healthy).ok())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

impl LoadBalancer {
    /// Attributes of a load balancer: name, type, description.
    pub fn fields() -> Vec<(&'static str, Type, &'static str)> {
        vec![
            ("arn", Type::String, "Load balancer ARN."),
            ("name", Type::String, "Load balancer name."),
            ("dns_name", Type::String, "Public DNS name."),
            ("scheme", Type::String, "`internet-facing` or `internal`."),
            (
                "load_balancer_type",
                Type::String,
                "`application`, `network` or `gateway`.",
            ),
            ("state", Type::String, "State code, e.g. `active`."),
            ("vpc_id", Type::String, "VPC id."),
            (
                "availability_zones",
                Type::list(Type::String),
                "Availability zones it serves.",
            ),
            (
                "listeners",
                Type::list(listener_type()),
                "Listeners: port, protocol and the target groups their default actions forward to.",
            ),
            (
                "target_groups",
                Type::list(TargetGroup::object_type()),
                "Target groups routed to by this load balancer, each with its health check and registered targets.",
            ),
        ]
    }

    /// The load balancer as Terraform attributes.
    pub fn fields_value(&self) -> BTreeMap<String, Value> {
        let listeners = self
            .listeners
            .iter()
            .map(|l| {
                object(vec![
                    ("arn", Value::String(l.arn.clone())),
                    ("port", n(l.port)),
                    ("protocol", s(l.protocol.as_deref())),
                    ("target_group_arns", strings(&l.target_group_arns)),
                ])
            })
            .collect();
        [
            ("arn", Value::String(self.arn.clone())),
            ("name", Value::String(self.name.clone())),
            ("dns_name", s(self.dns_name.as_deref())),
            ("scheme", s(self.scheme.as_deref())),
            ("load_balancer_type", s(self.load_balancer_type.as_deref())),
            ("state", s(self.state.as_deref())),
            ("vpc_id", s(self.vpc_id.as_deref())),
            ("availability_zones", strings(&self.availability_zones)),
            ("listeners", Value::List(listeners)),
            (
                "target_groups",
                Value::List(
                    self.target_groups
                        .iter()
                        .map(TargetGroup::to_value)
                        .collect(),
                ),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

/// Whether an ELBv2 error code means "no such object".
fn not_found(err: &AwsError) -> bool {
    matches!(err, AwsError::Service { code, .. }
        if code == "TargetGroupNotFound" || code == "LoadBalancerNotFound")
}

async fn with_targets(clients: &AwsClients, mut tg: TargetGroup) -> Result<TargetGroup, AwsError> {
    let health = clients
        .elbv2
        .describe_target_health()
        .target_group_arn(&tg.arn)
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(
                "elasticloadbalancing:DescribeTargetHealth",
                clients.max_attempts,
                e,
            )
        })?;
    tg.targets = health
        .target_health_descriptions()
        .iter()
        .filter_map(|d| {
            let target = d.target()?;
            let h = d.target_health();
            Some(TargetHealth {
                id: target.id()?.to_owned(),
                port: target.port().map(i64::from),
                availability_zone: target.availability_zone().map(str::to_owned),
                state: h.and_then(|h| h.state()).map(|s| s.as_str().to_owned()),
                reason: h.and_then(|h| h.reason()).map(|r| r.as_str().to_owned()),
                description: h.and_then(|h| h.description()).map(str::to_owned),
            })
        })
        .collect();
    Ok(tg)
}

const DESCRIBE_TGS: &str = "elasticloadbalancing:DescribeTargetGroups";

/// A target group by ARN (when `key` starts with `arn:`) or name; `None` when missing.
pub async fn target_group(
    clients: &AwsClients,
    key: &str,
) -> Result<Option<TargetGroup>, AwsError> {
    let mut request = clients.elbv2.describe_target_groups();
    request = if key.starts_with("arn:") {
        request.target_group_arns(key)
    } else {
        request.names(key)
    };
    let page = match request.send().await {
        Ok(p) => p,
        Err(e) => {
            let err = AwsError::from_sdk(DESCRIBE_TGS, clients.max_attempts, e);
            return if not_found(&err) { Ok(None) } else { Err(err) };
        }
    };
    match page.target_groups().iter().find_map(TargetGroup::from_sdk) {
        Some(tg) => Ok(Some(with_targets(clients, tg).await?)),
        None => Ok(None),
    }
}

/// A load balancer by ARN (when `key` starts with `arn:`) or name; `None` when missing.
pub async fn load_balancer(
    clients: &AwsClients,
    key: &str,
) -> Result<Option<LoadBalancer>, AwsError> {
    let op = "elasticloadbalancing:DescribeLoadBalancers";
    let mut request = clients.elbv2.describe_load_balancers();
    request = if key.starts_with("arn:") {
        request.load_balancer_arns(key)
    } else {
        request.names(key)
    };
    let page = match request.send().await {
        Ok(p) => p,
        Err(e) => {
            let err = AwsError::from_sdk(op, clients.max_attempts, e);
            return if not_found(&err) { Ok(None) } else { Err(err) };
        }
    };
    let Some(lb) = page.load_balancers().first() else {
        return Ok(None);
    };
    let Some(arn) = lb.load_balancer_arn().map(str::to_owned) else {
        return Ok(None);
    };
    let listeners = clients
        .elbv2
        .describe_listeners()
        .load_balancer_arn(&arn)
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(
                "elasticloadbalancing:DescribeListeners",
                clients.max_attempts,
                e,
            )
        })?
        .listeners()
        .iter()
        .filter_map(|l| {
            let mut target_group_arns: Vec<String> = Vec::new();
            for action in l.default_actions() {
                if let Some(tg) = action.target_group_arn() {
                    target_group_arns.push(tg.to_owned());
                }
                if let Some(fwd) = action.forward_config() {
                    for t in fwd.target_groups() {
                        if let Some(a) = t.target_group_arn()
                            && !target_group_arns.iter().any(|x| x == a)
                        {
                            target_group_arns.push(a.to_owned());
                        }
                    }
                }
            }
            Some(Listener {
                arn: l.listener_arn()?.to_owned(),
                port: l.port().map(i64::from),
                protocol: l.protocol().map(|p| p.as_str().to_owned()),
                target_group_arns,
            })
        })
        .collect();
    let groups = clients
        .elbv2
        .describe_target_groups()
        .load_balancer_arn(&arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(DESCRIBE_TGS, clients.max_attempts, e))?;
    let mut target_groups = Vec::new();
    for tg in groups
        .target_groups()
        .iter()
        .filter_map(TargetGroup::from_sdk)
    {
        target_groups.push(with_targets(clients, tg).await?);
    }
    Ok(Some(LoadBalancer {
        name: lb.load_balancer_name().unwrap_or_default().to_owned(),
        dns_name: lb.dns_name().map(str::to_owned),
        scheme: lb.scheme().map(|s| s.as_str().to_owned()),
        load_balancer_type: lb.r#type().map(|t| t.as_str().to_owned()),
        state: lb
            .state()
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_owned()),
        vpc_id: lb.vpc_id().map(str::to_owned),
        availability_zones: lb
            .availability_zones()
            .iter()
            .filter_map(|z| z.zone_name().map(str::to_owned))
            .collect(),
        listeners,
        target_groups,
        arn,
    }))
}
