//! Terraform reads the `image_id` of server groups that launch from a launch template
//! (by `$Latest`, by the unspecified default version, and as the base template of a mixed
//! instances policy), and a null `image_id` for a group whose template was deleted. The
//! templates are made with raw EC2 queries, the groups with the Auto Scaling SDK, in moto.

use anyhow::{Context, Result, ensure};
use aws_sdk_autoscaling::types::{
    LaunchTemplate, LaunchTemplateOverrides, LaunchTemplateSpecification, MixedInstancesPolicy,
};
use serde_json::{Value, json};

use super::{Moto, aws_block, between, each_terraform, enabled, read_data_sources, runtime};

const REGION: &str = "us-east-1";
const GROUP: &str = "spinnaker_aws_server_group";
const AMI_V1: &str = "ami-0a1b2c3d4e5f60001";
const AMI_V2: &str = "ami-0a1b2c3d4e5f60002";

/// What [`seed`] made: the id of launch template `shoplt` (version 1 `AMI_V1`, the default;
/// version 2 `AMI_V2`).
struct Seeded {
    template_id: String,
}

/// Creates a launch template through EC2's Query API; returns its id.
async fn create_template(moto: &Moto, name: &str, image: &str) -> Result<String> {
    let created = moto
        .ec2(
            REGION,
            "CreateLaunchTemplate",
            &[
                ("LaunchTemplateName", name),
                ("LaunchTemplateData.ImageId", image),
                ("LaunchTemplateData.InstanceType", "t3.micro"),
            ],
        )
        .await?;
    between(&created, "<launchTemplateId>", "</launchTemplateId>")
        .into_iter()
        .next()
        .with_context(|| format!("no launch template id in {created}"))
}

async fn seed(moto: &Moto) -> Result<Seeded> {
    let template_id = create_template(moto, "shoplt", AMI_V1).await?;
    moto.ec2(
        REGION,
        "CreateLaunchTemplateVersion",
        &[
            ("LaunchTemplateId", &template_id),
            ("LaunchTemplateData.ImageId", AMI_V2),
        ],
    )
    .await?;
    let doomed_id = create_template(moto, "shoplt-doomed", AMI_V1).await?;

    let asg = aws_sdk_autoscaling::Client::new(&moto.sdk(REGION).await);
    let spec = |id: &str, version: Option<&str>| {
        LaunchTemplateSpecification::builder()
            .launch_template_id(id)
            .set_version(version.map(str::to_owned))
            .build()
    };
    let groups = [
        (
            "shoplt-prod-v001",
            Some(spec(&template_id, Some("$Latest"))),
            None,
        ),
        (
            "shoplt-prod-v002",
            Some(
                LaunchTemplateSpecification::builder()
                    .launch_template_name("shoplt")
                    .build(),
            ),
            None,
        ),
        (
            "shoplt-mixed-v001",
            None,
            Some(
                MixedInstancesPolicy::builder()
                    .launch_template(
                        LaunchTemplate::builder()
                            .launch_template_specification(spec(&template_id, Some("2")))
                            .overrides(
                                LaunchTemplateOverrides::builder()
                                    .instance_type("t3.micro")
                                    .build(),
                            )
                            .overrides(
                                LaunchTemplateOverrides::builder()
                                    .instance_type("t3.small")
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            ),
        ),
        ("shoplt-gone-v001", Some(spec(&doomed_id, Some("1"))), None),
    ];
    for (name, template, mixed) in groups {
        asg.create_auto_scaling_group()
            .auto_scaling_group_name(name)
            .set_launch_template(template)
            .set_mixed_instances_policy(mixed)
            .min_size(0)
            .max_size(1)
            .desired_capacity(0)
            .availability_zones(format!("{REGION}a"))
            .send()
            .await
            .with_context(|| format!("create {name}"))?;
    }
    moto.ec2(
        REGION,
        "DeleteLaunchTemplate",
        &[("LaunchTemplateId", &doomed_id)],
    )
    .await?;
    Ok(Seeded { template_id })
}

#[test]
fn aws_server_groups_read_the_image_of_their_launch_template() {
    let test = "aws_server_groups_read_the_image_of_their_launch_template";
    if !enabled(test) {
        return;
    }
    let moto = Moto::start().expect("moto");
    let seeded = runtime().block_on(seed(&moto)).expect("seed moto");
    each_terraform(test, |_, engine, ws| {
        let outputs = read_data_sources(
            ws,
            &e2e::provider_config(&engine.url, &aws_block(&moto, "")),
            &[
                (GROUP, "latest", r#"name = "shoplt-prod-v001""#),
                (GROUP, "default", r#"name = "shoplt-prod-v002""#),
                (GROUP, "mixed", r#"cluster = "shoplt-mixed""#),
                (GROUP, "gone", r#"name = "shoplt-gone-v001""#),
                ("spinnaker_aws_cluster", "prod", r#"name = "shoplt-prod""#),
            ],
        )?;
        let get = |name: &str| outputs.get(name).cloned().unwrap_or_default();

        let latest = get("latest");
        ensure!(
            latest["image_id"] == AMI_V2,
            "$Latest is version 2: {latest}"
        );
        ensure!(
            latest["launch_template_id"] == json!(seeded.template_id)
                && latest["launch_template_version"] == "$Latest"
                && latest["launch_configuration_name"].is_null(),
            "{latest}"
        );

        let default = get("default");
        ensure!(
            default["image_id"] == AMI_V1,
            "no version means the default, version 1: {default}"
        );

        let mixed = get("mixed");
        ensure!(mixed["name"] == "shoplt-mixed-v001", "{mixed}");
        ensure!(
            mixed["image_id"] == AMI_V2
                && mixed["launch_template_id"] == json!(seeded.template_id)
                && mixed["launch_template_version"] == "2",
            "the mixed instances policy's base template, version 2: {mixed}"
        );

        let gone = get("gone");
        ensure!(
            gone["image_id"].is_null() && gone["launch_template_version"] == "1",
            "a deleted template leaves image_id null: {gone}"
        );

        let prod = get("prod");
        let images: Vec<Value> = prod["server_groups"]
            .as_array()
            .context("server_groups")?
            .iter()
            .map(|g| json!([g["name"], g["image_id"]]))
            .collect();
        ensure!(
            images
                == [
                    json!(["shoplt-prod-v001", AMI_V2]),
                    json!(["shoplt-prod-v002", AMI_V1])
                ],
            "{prod}"
        );
        Ok(())
    });
}
