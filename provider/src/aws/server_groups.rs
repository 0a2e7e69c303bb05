//! Server groups (autoscaling groups) as Spinnaker sees them: Frigga name parts, capacity,
//! launch settings, load balancing, suspended processes, instance health, and whether the
//! group is enabled. Clouddriver judges an AWS server group disabled when its
//! `AddToLoadBalancer` process is suspended, which a disable (§8.2) always does together with
//! `Launch` and `Terminate` while deregistering the instances.

use std::collections::BTreeMap;

use aws_sdk_autoscaling::types::AutoScalingGroup;
use futures::{StreamExt, TryStreamExt};
use pipeline::naming::Names;

use super::clients::AwsClients;
use super::ec2::{LaunchTemplate, LaunchTemplateVersion};
use super::error::AwsError;
use crate::value::{Number, Type, Value};

/// The process whose suspension marks a server group disabled.
pub const DISABLE_MARKER: &str = "AddToLoadBalancer";

/// One instance of a server group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub instance_id: String,
    pub availability_zone: Option<String>,
    pub lifecycle_state: Option<String>,
    pub health_status: Option<String>,
}

/// One autoscaling group, read as a Spinnaker server group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerGroup {
    pub name: String,
    pub cluster: Option<String>,
    pub app: Option<String>,
    pub stack: Option<String>,
    pub detail: Option<String>,
    pub sequence: Option<u32>,
    pub region: String,
    pub min_size: i64,
    pub max_size: i64,
    pub desired_capacity: i64,
    pub launch_template_id: Option<String>,
    pub launch_template_name: Option<String>,
    pub launch_template_version: Option<String>,
    pub launch_configuration_name: Option<String>,
    pub image_id: Option<String>,
    pub target_group_arns: Vec<String>,
    pub load_balancer_names: Vec<String>,
    pub suspended_processes: Vec<String>,
    pub instances: Vec<Instance>,
    /// Creation time in epoch milliseconds.
    pub created_ms: Option<i64>,
    /// Creation time, RFC 3339.
    pub created_time: Option<String>,
    pub enabled: bool,
}

/// A cluster: its server groups in Frigga order and the active one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    pub name: String,
    pub region: String,
    pub server_groups: Vec<ServerGroup>,
}

impl Cluster {
    /// The newest server group by creation time (sequence breaks ties).
    pub fn newest(&self) -> Option<&ServerGroup> {
        self.server_groups
            .iter()
            .max_by_key(|g| (g.created_ms, g.sequence))
    }

    /// The active server group: the newest enabled one, which red/black keeps serving.
    pub fn active(&self) -> Option<&ServerGroup> {
        self.server_groups
            .iter()
            .filter(|g| g.enabled)
            .max_by_key(|g| (g.created_ms, g.sequence))
    }
}

/// Whether Spinnaker counts a group with these suspended processes as enabled.
pub fn is_enabled(suspended_processes: &[String]) -> bool {
    !suspended_processes.iter().any(|p| p == DISABLE_MARKER)
}

/// Sorts server groups in Frigga order: app, stack, detail, then sequence (unversioned first).
pub fn frigga_order(groups: &mut [ServerGroup]) {
    groups.sort_by(|a, b| {
        (&a.app, &a.stack, &a.detail, a.sequence, &a.name)
            .cmp(&(&b.app, &b.stack, &b.detail, b.sequence, &b.name))
    });
}

impl ServerGroup {
    /// Reads an SDK autoscaling group; `None` when it has no name.
    pub fn from_asg(asg: &AutoScalingGroup, region: &str) -> Option<Self> {
        let name = asg.auto_scaling_group_name()?.to_owned();
        let names = Names::parse(&name);
        let template = asg.launch_template().or_else(|| {
            asg.mixed_instances_policy()
                .and_then(|m| m.launch_template())
                .and_then(|t| t.launch_template_specification())
        });
        let suspended_processes: Vec<String> = asg
            .suspended_processes()
            .iter()
            .filter_map(|p| p.process_name().map(str::to_owned))
            .collect();
        let instances = asg
            .instances()
            .iter()
            .filter_map(|i| {
                Some(Instance {
                    instance_id: i.instance_id()?.to_owned(),
                    availability_zone: i.availability_zone().map(str::to_owned),
                    lifecycle_state: i.lifecycle_state().map(|s| s.as_str().to_owned()),
                    health_status: i.health_status().map(str::to_owned),
                })
            })
            .collect();
        Some(ServerGroup {
            cluster: names.cluster,
            app: names.app,
            stack: names.stack,
            detail: names.detail,
            sequence: names.sequence,
            region: region.to_owned(),
            min_size: asg.min_size().map_or(0, i64::from),
            max_size: asg.max_size().map_or(0, i64::from),
            desired_capacity: asg.desired_capacity().map_or(0, i64::from),
            launch_template_id: template.and_then(|t| t.launch_template_id().map(str::to_owned)),
            launch_template_name: template
                .and_then(|t| t.launch_template_name().map(str::to_owned)),
            launch_template_version: template.and_then(|t| t.version().map(str::to_owned)),
            launch_configuration_name: asg.launch_configuration_name().map(str::to_owned),
            image_id: None,
            target_group_arns: asg.target_group_arns().to_vec(),
            load_balancer_names: asg.load_balancer_names().to_vec(),
            enabled: is_enabled(&suspended_processes),
            suspended_processes,
            instances,
            created_ms: asg.created_time().and_then(|t| t.to_millis().ok()),
            created_time: asg.created_time().and_then(|t| {
                t.fmt(aws_sdk_autoscaling::primitives::DateTimeFormat::DateTime)
                    .ok()
            }),
            name,
        })
    }

    /// The launch template version the group launches from (directly or as the base of a
    /// mixed instances policy), by id when known; no version means `$Default`, as Auto
    /// Scaling reads it.
    pub fn launch_template(&self) -> Option<LaunchTemplateVersion> {
        let template = match (&self.launch_template_id, &self.launch_template_name) {
            (Some(id), _) => LaunchTemplate::Id(id.clone()),
            (None, Some(name)) => LaunchTemplate::Name(name.clone()),
            (None, None) => return None,
        };
        let version = self
            .launch_template_version
            .clone()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "$Default".to_owned());
        Some(LaunchTemplateVersion { template, version })
    }

    /// Instances Auto Scaling reports `InService` and `Healthy`.
    pub fn healthy_instances(&self) -> i64 {
        let n = self
            .instances
            .iter()
            .filter(|i| {
                i.lifecycle_state.as_deref() == Some("InService")
                    && i.health_status.as_deref() == Some("Healthy")
            })
            .count();
        i64::try_from(n).unwrap_or(i64::MAX)
    }

    /// The Terraform object type of a server group.
    pub fn object_type() -> Type {
        Type::Object(
            FIELDS
                .iter()
                .map(|(n, t, _)| ((*n).to_owned(), t()))
                .collect(),
        )
    }

    /// The server group as a Terraform object.
    pub fn to_value(&self) -> Value {
        Value::Object(self.fields())
    }

    /// The attributes, keyed like [`FIELDS`].
    pub fn fields(&self) -> BTreeMap<String, Value> {
        let s = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
        let n = |v: i64| Value::Number(Number::from(v));
        let strings = |v: &[String]| Value::List(v.iter().cloned().map(Value::String).collect());
        let instances = self
            .instances
            .iter()
            .map(|i| {
                Value::Object(
                    [
                        ("instance_id", Value::String(i.instance_id.clone())),
                        ("availability_zone", s(&i.availability_zone)),
                        ("lifecycle_state", s(&i.lifecycle_state)),
                        ("health_status", s(&i.health_status)),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
                )
            })
            .collect();
        [
            ("name", Value::String(self.name.clone())),
            ("cluster", s(&self.cluster)),
            ("app", s(&self.app)),
            ("stack", s(&self.stack)),
            ("detail", s(&self.detail)),
            (
                "sequence",
                self.sequence.map_or(Value::Null, |q| n(i64::from(q))),
            ),
            ("region", Value::String(self.region.clone())),
            ("min_size", n(self.min_size)),
            ("max_size", n(self.max_size)),
            ("desired_capacity", n(self.desired_capacity)),
            ("launch_template_id", s(&self.launch_template_id)),
            ("launch_template_name", s(&self.launch_template_name)),
            ("launch_template_version", s(&self.launch_template_version)),
            (
                "launch_configuration_name",
                s(&self.launch_configuration_name),
            ),
            ("image_id", s(&self.image_id)),
            ("target_group_arns", strings(&self.target_group_arns)),
            ("load_balancer_names", strings(&self.load_balancer_names)),
            ("suspended_processes", strings(&self.suspended_processes)),
            ("instances", Value::List(instances)),
            ("healthy_instances", n(self.healthy_instances())),
            ("created_time", s(&self.created_time)),
            ("enabled", Value::Bool(self.enabled)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

fn string() -> Type {
    Type::String
}
fn number() -> Type {
    Type::Number
}
fn boolean() -> Type {
    Type::Bool
}
fn strings() -> Type {
    Type::list(Type::String)
}
fn instances() -> Type {
    Type::list(Type::Object(
        [
            "instance_id",
            "availability_zone",
            "lifecycle_state",
            "health_status",
        ]
        .into_iter()
        .map(|k| (k.to_owned(), Type::String))
        .collect(),
    ))
}

/// One attribute: name, type constructor, description.
pub type Field = (&'static str, fn() -> Type, &'static str);

/// Every attribute of a server group: name, type, description.
pub const FIELDS: &[Field] = &[
    (
        "name",
        string,
        "Autoscaling group name, e.g. `shop-prod-v003`.",
    ),
    ("cluster", string, "Frigga cluster: `app[-stack[-detail]]`."),
    ("app", string, "Frigga application."),
    ("stack", string, "Frigga stack; null when absent."),
    (
        "detail",
        string,
        "Frigga detail (free-form details); null when absent.",
    ),
    (
        "sequence",
        number,
        "Frigga sequence, the `NNN` of `-vNNN`; null when unversioned.",
    ),
    ("region", string, "AWS region."),
    ("min_size", number, "Minimum capacity."),
    ("max_size", number, "Maximum capacity."),
    ("desired_capacity", number, "Desired capacity."),
    (
        "launch_template_id",
        string,
        "Launch template id (also from a mixed instances policy); null when a launch configuration is used.",
    ),
    ("launch_template_name", string, "Launch template name."),
    (
        "launch_template_version",
        string,
        "Launch template version, e.g. `$Latest` or `3`.",
    ),
    (
        "launch_configuration_name",
        string,
        "Launch configuration name; null when a launch template is used.",
    ),
    (
        "image_id",
        string,
        "AMI id the group launches: the launch configuration's, or the launch template version's (the base template of a mixed instances policy; SSM parameter aliases resolved). Null when the template or version no longer exists.",
    ),
    (
        "target_group_arns",
        strings,
        "ARNs of the attached target groups.",
    ),
    (
        "load_balancer_names",
        strings,
        "Names of the attached classic load balancers.",
    ),
    (
        "suspended_processes",
        strings,
        "Suspended Auto Scaling processes, e.g. `AddToLoadBalancer`.",
    ),
    (
        "instances",
        instances,
        "Instances with their availability zone, lifecycle state and health status.",
    ),
    (
        "healthy_instances",
        number,
        "Instances `InService` and `Healthy`.",
    ),
    ("created_time", string, "Creation time (RFC 3339)."),
    (
        "enabled",
        boolean,
        "Whether Spinnaker counts the group enabled: false when `AddToLoadBalancer` is suspended, as a Spinnaker disable leaves it.",
    ),
];

const OPERATION: &str = "autoscaling:DescribeAutoScalingGroups";

/// Every autoscaling group the clients see, or the ones named, with image ids.
async fn describe(clients: &AwsClients, names: &[String]) -> Result<Vec<ServerGroup>, AwsError> {
    let mut out = list(clients, names).await?;
    fill_image_ids(clients, &mut out).await?;
    Ok(out)
}

/// Every autoscaling group the clients see (or the ones named), without image ids.
pub async fn list(clients: &AwsClients, names: &[String]) -> Result<Vec<ServerGroup>, AwsError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut request = clients
            .autoscaling
            .describe_auto_scaling_groups()
            .max_records(100)
            .set_next_token(token.take());
        if !names.is_empty() {
            request = request.set_auto_scaling_group_names(Some(names.to_vec()));
        }
        let page = request
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OPERATION, clients.max_attempts, e))?;
        out.extend(
            page.auto_scaling_groups()
                .iter()
                .filter_map(|g| ServerGroup::from_asg(g, &clients.region)),
        );
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(out)
}

/// EC2 calls in flight at once while reading launch template versions.
const EC2_CONCURRENCY: usize = 4;

/// Reads the AMI of each launch configuration and launch template version in use: one call
/// per 50 launch configurations, one per distinct launch template version.
pub(super) async fn fill_image_ids(
    clients: &AwsClients,
    groups: &mut [ServerGroup],
) -> Result<(), AwsError> {
    let mut names: Vec<String> = groups
        .iter()
        .filter_map(|g| g.launch_configuration_name.clone())
        .collect();
    names.sort();
    names.dedup();
    let mut images = BTreeMap::new();
    for chunk in names.chunks(50) {
        let page = clients
            .autoscaling
            .describe_launch_configurations()
            .set_launch_configuration_names(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk(
                    "autoscaling:DescribeLaunchConfigurations",
                    clients.max_attempts,
                    e,
                )
            })?;
        for lc in page.launch_configurations() {
            if let (Some(n), Some(i)) = (lc.launch_configuration_name(), lc.image_id()) {
                images.insert(n.to_owned(), i.to_owned());
            }
        }
    }
    let templates = template_images(clients, groups).await?;
    for g in groups {
        g.image_id = match (&g.launch_configuration_name, g.launch_template()) {
            (Some(lc), _) => images.get(lc).cloned(),
            (None, Some(lt)) => templates.get(&lt).cloned().flatten(),
            (None, None) => None,
        };
    }
    Ok(())
}

/// The image of each distinct launch template version the groups use, a few calls at once.
async fn template_images(
    clients: &AwsClients,
    groups: &[ServerGroup],
) -> Result<BTreeMap<LaunchTemplateVersion, Option<String>>, AwsError> {
    let mut versions: Vec<LaunchTemplateVersion> = groups
        .iter()
        .filter(|g| g.launch_configuration_name.is_none())
        .filter_map(ServerGroup::launch_template)
        .collect();
    versions.sort();
    versions.dedup();
    futures::stream::iter(versions)
        .map(|v| async move {
            let image = clients.ec2.image_id(&v).await?;
            Ok::<_, AwsError>((v, image))
        })
        .buffer_unordered(EC2_CONCURRENCY)
        .try_collect()
        .await
}

/// One autoscaling group by name; `None` when it does not exist.
pub async fn server_group(
    clients: &AwsClients,
    name: &str,
) -> Result<Option<ServerGroup>, AwsError> {
    Ok(describe(clients, &[name.to_owned()])
        .await?
        .into_iter()
        .next())
}

/// The server groups of a cluster in Frigga order (empty when there are none).
pub async fn cluster(clients: &AwsClients, name: &str) -> Result<Cluster, AwsError> {
    let mut server_groups: Vec<ServerGroup> = list(clients, &[])
        .await?
        .into_iter()
        .filter(|g| g.cluster.as_deref() == Some(name))
        .collect();
    fill_image_ids(clients, &mut server_groups).await?;
    frigga_order(&mut server_groups);
    Ok(Cluster {
        name: name.to_owned(),
        region: clients.region.clone(),
        server_groups,
    })
}
