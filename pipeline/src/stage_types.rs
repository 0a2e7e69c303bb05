//! THE single list of stage types: which ones touch cloud infrastructure, which the provider models.
//!
//! Type strings are Orca's `StageDefinitionBuilder.getType()` values (reference §3.4). Matching is
//! exact and case-sensitive, like Orca's stage resolver.
//!
//! Decisions:
//! * **Infrastructure** = every group that creates, changes or deletes cloud resources or reads
//!   them to drive a deploy: deploy / server groups, cluster-wide operations, load balancers,
//!   networking and security groups, scaling, images and the bakery, instances, Kubernetes and
//!   manifests (including Deck's `runJobManifest` spelling of `runJob`), other clouds and managed
//!   services (CloudFormation, App Engine, Cloud Run, Cloud Foundry, Lambda, entity tags, ...), the
//!   legacy orca-mine canary, and Kayenta's synthetic deploy/cleanup children.
//!   Terraform owns these resources; the provider refuses these stages in HCL, the engine stores
//!   them but never runs them.
//! * `findImage`/`findImageFromTags` only read, but they exist to feed a deploy, so they count as
//!   infrastructure (the bakery group).
//! * **Not infrastructure**: CI and scripts run by igor (`jenkins`, `travis`, `wercker`,
//!   `concourse`, `script`, `awsCodeBuild`, `googleCloudBuild`, `getProperties`) and the other
//!   built-ins (`checkPreconditions`, `wait`, `evaluateVariables`, `manualJudgment`, `webhook`,
//!   `pipeline`, `kayentaCanary`, ...). `kayentaCanary` itself is not infrastructure: its optional
//!   `deployments` block is executed by the synthetic children listed above.
//! * **Unknown types** (for example `kanikoBuild` or a preconfigured job such as
//!   `runContainerScript`) are non-infrastructure custom types: they are kept as `custom_stage`.

/// A group of the infrastructure list, for messages and docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InfrastructureGroup {
    /// Deploy and server-group operations.
    ServerGroups,
    /// Cluster-wide operations.
    Clusters,
    /// Load balancers, networking and security groups.
    Networking,
    /// Scaling policies and scheduled actions.
    Scaling,
    /// Images and the bakery.
    Images,
    /// Instance operations.
    Instances,
    /// Kubernetes manifests and jobs.
    Kubernetes,
    /// Other clouds and managed services.
    OtherClouds,
    /// The legacy (pre-Kayenta) canary of orca-mine.
    LegacyCanary,
    /// Kayenta's synthetic deploy/cleanup children.
    KayentaChildren,
}

impl InfrastructureGroup {
    /// A lower-case description such as `"deploy / server groups"`.
    pub fn description(self) -> &'static str {
        match self {
            Self::ServerGroups => "deploy / server groups",
            Self::Clusters => "cluster-wide",
            Self::Networking => "load balancers / networking / security",
            Self::Scaling => "scaling",
            Self::Images => "images / bakery",
            Self::Instances => "instances",
            Self::Kubernetes => "Kubernetes / manifests",
            Self::OtherClouds => "other clouds / services",
            Self::LegacyCanary => "legacy canary",
            Self::KayentaChildren => "Kayenta synthetic children",
        }
    }
}

/// Every infrastructure stage type with its group.
pub const INFRASTRUCTURE: &[(InfrastructureGroup, &[&str])] = &[
    (
        InfrastructureGroup::ServerGroups,
        &[
            "deploy",
            "createServerGroup",
            "cloneServerGroup",
            "disableServerGroup",
            "enableServerGroup",
            "destroyServerGroup",
            "resizeServerGroup",
            "rollbackServerGroup",
            "pinServerGroup",
            "startServerGroup",
            "stopServerGroup",
            "disableAsg",
            "copyLastAsg",
            "modifyAsg",
            "modifyScalingGroup",
            "modifyAwsScalingProcess",
            "updateLaunchConfig",
            "updateLaunchTemplate",
            "upsertServerGroupTags",
            "updateSecurityGroupsForServerGroup",
            "applySourceServerGroupCapacity",
            "captureSourceServerGroupCapacity",
            "serverGroupForceCacheRefresh",
            "quickPatch",
            "bulkQuickPatch",
            "rollingPush",
            "bulkDestroyServerGroup",
        ],
    ),
    (
        InfrastructureGroup::Clusters,
        &[
            "rollbackCluster",
            "scaleDownCluster",
            "shrinkCluster",
            "disableCluster",
            "determineTargetServerGroup",
        ],
    ),
    (
        InfrastructureGroup::Networking,
        &[
            "upsertLoadBalancer",
            "upsertLoadBalancers",
            "upsertAmazonLoadBalancer",
            "copyAmazonLoadBalancer",
            "deleteLoadBalancer",
            "registerInstancesWithLoadBalancer",
            "deregisterInstancesFromLoadBalancer",
            "mapLoadBalancers",
            "unmapLoadBalancers",
            "upsertSecurityGroup",
            "copySecurityGroup",
            "deleteSecurityGroup",
            "upsertAmazonDNS",
            "associateElasticIp",
            "disassociateElasticIp",
        ],
    ),
    (
        InfrastructureGroup::Scaling,
        &[
            "upsertScalingPolicy",
            "deleteScalingPolicy",
            "upsertAsgScheduledActions",
            "modifyGceAutoscalingPolicy",
            "upsertDisruptionBudget",
        ],
    ),
    (
        InfrastructureGroup::Images,
        &[
            "bake",
            "bakeManifest",
            "bakeCloudFoundryManifest",
            "findImage",
            "findImageFromTags",
            "upsertImageTags",
            "deleteImage",
        ],
    ),
    (
        InfrastructureGroup::Instances,
        &[
            "terminateInstances",
            "terminateInstanceAndDecrementServerGroup",
            "terminateInstanceAndDecrementAsg",
            "rebootInstances",
            "detachInstances",
            "enableInstancesInDiscovery",
            "disableInstancesInDiscovery",
            "waitForCondition",
        ],
    ),
    (
        InfrastructureGroup::Kubernetes,
        &[
            "deployManifest",
            "deleteManifest",
            "patchManifest",
            "scaleManifest",
            "enableManifest",
            "disableManifest",
            "undoRolloutManifest",
            "pauseRolloutManifest",
            "resumeRolloutManifest",
            "rollingRestartManifest",
            "findArtifactsFromResource",
            "findArtifactFromResource",
            "runJob",
            "runJobManifest",
            "destroyJob",
            "updateJobProcesses",
        ],
    ),
    (
        InfrastructureGroup::OtherClouds,
        &[
            "deployCloudFormation",
            "deleteCloudFormation",
            "deployCloudrunManifest",
            "upsertCloudrunLoadBalancers",
            "deployAppengineConfiguration",
            "upsertAppEngineLoadBalancers",
            "startAppEngineServerGroup",
            "stopAppEngineServerGroup",
            "deployService",
            "destroyService",
            "shareService",
            "unshareService",
            "createServiceKey",
            "deleteServiceKey",
            "cloudFoundryCreateServiceBindings",
            "cloudFoundryDeleteServiceBindings",
            "lambdaFunction",
            "lambdaDeployment",
            "lambdaUpdateCode",
            "lambdaTrafficRouting",
            "lambdaInvoke",
            "lambdaDelete",
            "deleteLaunchConfiguration",
            "deleteLaunchTemplate",
            "saveSnapshot",
            "restoreSnapshot",
            "deleteSnapshot",
            "setStatefulDisk",
            "statefullyUpdateBootImage",
            "upsertEntityTags",
            "deleteEntityTags",
            "bulkUpsertEntityTags",
            "evaluateDeploymentHealth",
            "notifyDeployStarting",
            "notifyDeployCompleted",
        ],
    ),
    (
        InfrastructureGroup::LegacyCanary,
        &[
            "canary",
            "deployCanary",
            "acaTask",
            "monitorCanary",
            "canaryDisableCluster",
            "canaryDestroyCluster",
        ],
    ),
    (
        InfrastructureGroup::KayentaChildren,
        &[
            "deployCanaryServerGroups",
            "cleanupCanaryClusters",
            "runCanaryIntervals",
            "runCanary",
        ],
    ),
];

/// CI and script stages run through igor: not infrastructure.
pub const CI: &[&str] = &[
    "jenkins",
    "travis",
    "wercker",
    "concourse",
    "script",
    "awsCodeBuild",
    "googleCloudBuild",
    "getProperties",
];

/// The other built-in stage types that do not touch cloud resources.
pub const BUILT_IN: &[&str] = &[
    "checkPreconditions",
    "wait",
    "waitUntil",
    "evaluateVariables",
    "manualJudgment",
    "webhook",
    "pipeline",
    "kayentaCanary",
    "savePipeline",
    "updatePipeline",
    "deletePipeline",
    "reorderPipelines",
    "savePipelinesFromArtifact",
    "restrictExecutionDuringTimeWindow",
    "dependsOnExecution",
    "noop",
    "jira",
    "pageApplicationOwner",
    "gremlin",
    "importDeliveryConfig",
    "publishDeliveryConfig",
    "createApplication",
    "updateApplication",
    "upsertApplication",
    "deleteApplication",
    "upsertProject",
    "deleteProject",
    "findArtifactFromExecution",
];

/// The non-infrastructure types the provider types as blocks; others go to `custom_stage`.
pub const MODELLED_NON_INFRASTRUCTURE: &[&str] = &[
    "manualJudgment",
    "checkPreconditions",
    "wait",
    "evaluateVariables",
    "webhook",
    "jenkins",
    "pipeline",
    "kayentaCanary",
];

/// What kind of stage a type string names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StageCategory {
    /// Touches cloud resources; owned by Terraform, never run by the engine.
    Infrastructure(InfrastructureGroup),
    /// CI or script stage run through igor.
    Ci,
    /// Another built-in Orca stage that does not touch cloud resources.
    BuiltIn,
    /// Not a known Orca type: a custom (plugin or preconfigured) non-infrastructure stage.
    Custom,
}

/// Classifies a stage type string.
pub fn category(stage_type: &str) -> StageCategory {
    if let Some(group) = infrastructure_group(stage_type) {
        StageCategory::Infrastructure(group)
    } else if CI.contains(&stage_type) {
        StageCategory::Ci
    } else if BUILT_IN.contains(&stage_type) {
        StageCategory::BuiltIn
    } else {
        StageCategory::Custom
    }
}

/// The infrastructure group of a type, or `None` when it is not infrastructure.
pub fn infrastructure_group(stage_type: &str) -> Option<InfrastructureGroup> {
    INFRASTRUCTURE
        .iter()
        .find(|(_, types)| types.contains(&stage_type))
        .map(|(group, _)| *group)
}

/// True when the stage type touches cloud infrastructure (reference §3.4).
pub fn is_infrastructure(stage_type: &str) -> bool {
    infrastructure_group(stage_type).is_some()
}

/// The types the provider models as typed stage blocks.
pub fn modelled_non_infrastructure() -> &'static [&'static str] {
    MODELLED_NON_INFRASTRUCTURE
}

/// True when the provider has a typed block for this stage type.
pub fn is_modelled(stage_type: &str) -> bool {
    MODELLED_NON_INFRASTRUCTURE.contains(&stage_type)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn infrastructure_examples() {
        for t in [
            "deploy",
            "deployManifest",
            "runJobManifest",
            "bake",
            "upsertLoadBalancer",
            "deployCanaryServerGroups",
            "canary",
        ] {
            assert!(is_infrastructure(t), "{t}");
        }
        assert_eq!(
            category("deployManifest"),
            StageCategory::Infrastructure(InfrastructureGroup::Kubernetes)
        );
    }

    #[test]
    fn non_infrastructure_examples() {
        for t in [
            "jenkins",
            "script",
            "wait",
            "manualJudgment",
            "kayentaCanary",
            "pipeline",
            "webhook",
            "kanikoBuild",
            "",
        ] {
            assert!(!is_infrastructure(t), "{t}");
        }
        assert_eq!(category("kanikoBuild"), StageCategory::Custom);
        assert_eq!(category("jenkins"), StageCategory::Ci);
        assert_eq!(category("wait"), StageCategory::BuiltIn);
        assert!(
            !is_infrastructure("DeployManifest"),
            "matching is case-sensitive like Orca"
        );
    }

    #[test]
    fn lists_are_disjoint_and_modelled_types_are_known_non_infrastructure() {
        let mut seen = HashSet::new();
        let all = INFRASTRUCTURE
            .iter()
            .flat_map(|(_, t)| t.iter())
            .chain(CI)
            .chain(BUILT_IN);
        for t in all {
            assert!(seen.insert(*t), "{t} listed twice");
        }
        for t in modelled_non_infrastructure() {
            assert!(!is_infrastructure(t));
            assert_ne!(category(t), StageCategory::Custom, "{t}");
        }
    }
}
