//! The trigger blocks (reference §4.2): one function per trigger type.

use super::common::trigger;
use super::{AttrSpec, BlockSpec, Category, Codec, Kind};

/// Every trigger block, in documentation order.
pub(crate) fn all() -> Vec<BlockSpec> {
    vec![
        webhook(),
        cron(),
        pipeline(),
        jenkins(),
        git(),
        docker(),
        pubsub(),
    ]
}

fn block(name: &'static str, json_type: &'static str, description: &'static str) -> BlockSpec {
    BlockSpec::new(name, Some(json_type), Category::Trigger, description)
}

fn payload_constraints() -> AttrSpec {
    AttrSpec::new(
        "payload_constraints",
        &["payloadConstraints"],
        Kind::StringMap,
        "Payload field (or JsonPath) to regular expression; every entry must find a match in the event payload.",
    )
}

fn webhook() -> BlockSpec {
    trigger(
        block(
            "webhook_trigger",
            "webhook",
            "Starts the pipeline on `POST /webhooks/webhook/<source>` to Gate.",
        )
        .attrs([
            AttrSpec::new(
                "source",
                &["source"],
                Kind::String,
                "The last path segment of the webhook URL; must match exactly.",
            )
            .required(),
            payload_constraints(),
        ]),
    )
}

fn cron() -> BlockSpec {
    trigger(
        block(
            "cron_trigger",
            "cron",
            "Starts the pipeline on a Quartz schedule, in the Spinnaker deployment's time zone. The trigger `id` Front50 assigns is kept across updates.",
        )
        .attrs([AttrSpec::new(
            "cron_expression",
            &["cronExpression"],
            Kind::String,
            "Quartz expression with 6 or 7 fields, e.g. `0 0 10 ? * MON-FRI`; `H` in seconds, minutes or hours is replaced by a value stable per trigger. Checked at plan time.",
        )
        .required()]),
    )
}

fn pipeline() -> BlockSpec {
    trigger(
        block(
            "pipeline_trigger",
            "pipeline",
            "Starts the pipeline when another pipeline's execution finishes with one of the given statuses.",
        )
        .attrs([
            AttrSpec::new(
                "application",
                &["application"],
                Kind::String,
                "Application of the upstream pipeline.",
            )
            .required(),
            AttrSpec::new(
                "pipeline",
                &["pipeline"],
                Kind::String,
                "Id of the upstream pipeline. Set this or `pipeline_name`.",
            ),
            AttrSpec::new(
                "pipeline_name",
                &[],
                Kind::String,
                "Name of the upstream pipeline, resolved to its id at apply. Set this or `pipeline`.",
            )
            .codec(Codec::HclOnly),
            AttrSpec::new(
                "status",
                &["status"],
                Kind::StringList,
                "Upstream outcomes that fire: `successful`, `failed`, `canceled`, `suspended`.",
            ),
        ]),
    )
}

fn jenkins() -> BlockSpec {
    trigger(
        block(
            "jenkins_trigger",
            "jenkins",
            "Starts the pipeline when a Jenkins job known to igor finishes successfully.",
        )
        .attrs([
            AttrSpec::new(
                "master",
                &["master"],
                Kind::String,
                "Jenkins master name as configured in igor.",
            )
            .required(),
            AttrSpec::new("job", &["job"], Kind::String, "Job name as igor knows it.").required(),
            AttrSpec::new(
                "property_file",
                &["propertyFile"],
                Kind::String,
                "Archived file whose `key=value` lines become `trigger.properties`.",
            ),
            payload_constraints(),
        ]),
    )
}

fn git() -> BlockSpec {
    trigger(
        block(
            "git_trigger",
            "git",
            "Starts the pipeline on a push (or another event) to a repository.",
        )
        .attrs([
            AttrSpec::new(
                "source",
                &["source"],
                Kind::String,
                "`github`, `gitlab`, `bitbucket` or `stash`.",
            )
            .required(),
            AttrSpec::new(
                "project",
                &["project"],
                Kind::String,
                "Organisation or owner of the repository.",
            )
            .required(),
            AttrSpec::new("slug", &["slug"], Kind::String, "Repository name.").required(),
            AttrSpec::new(
                "branch",
                &["branch"],
                Kind::String,
                "Regular expression the branch must fully match; unset matches every branch.",
            ),
            AttrSpec::new(
                "secret",
                &["secret"],
                Kind::String,
                "GitHub webhook secret; events must carry a matching `X-Hub-Signature`.",
            )
            .sensitive(),
            AttrSpec::new(
                "events",
                &["events"],
                Kind::StringList,
                "Event actions that fire, e.g. `pull_request:opened`; unset means all.",
            ),
        ]),
    )
}

fn docker() -> BlockSpec {
    trigger(
        block(
            "docker_trigger",
            "docker",
            "Starts the pipeline when a new tag appears in a Docker registry.",
        )
        .attrs([
            AttrSpec::new(
                "account",
                &["account"],
                Kind::String,
                "Clouddriver Docker registry account.",
            )
            .required(),
            AttrSpec::new(
                "registry",
                &["registry"],
                Kind::String,
                "Registry host, e.g. `index.docker.io`.",
            ),
            AttrSpec::new(
                "organization",
                &["organization"],
                Kind::String,
                "Organisation part of the repository.",
            ),
            AttrSpec::new(
                "repository",
                &["repository"],
                Kind::String,
                "Repository, e.g. `library/nginx`.",
            )
            .required(),
            AttrSpec::new(
                "tag",
                &["tag"],
                Kind::String,
                "Regular expression the tag must fully match; unset matches any tag except `latest`.",
            ),
        ]),
    )
}

fn pubsub() -> BlockSpec {
    trigger(
        block(
            "pubsub_trigger",
            "pubsub",
            "Starts the pipeline on a message from a pub/sub subscription.",
        )
        .attrs([
            AttrSpec::new(
                "pubsub_system",
                &["pubsubSystem"],
                Kind::String,
                "`google` or `amazon`.",
            )
            .required(),
            AttrSpec::new(
                "subscription_name",
                &["subscriptionName"],
                Kind::String,
                "Subscription name as configured in Echo.",
            )
            .required(),
            payload_constraints(),
            AttrSpec::new(
                "attribute_constraints",
                &["attributeConstraints"],
                Kind::StringMap,
                "Message attribute to regular expression; every entry must match.",
            ),
        ]),
    )
}
