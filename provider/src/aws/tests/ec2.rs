//! Unit tests of the EC2 launch template lookups: the XML answers and errors EC2 gives (in
//! shapes written after EC2's documented ones), signing, retries and error classification
//! against a local endpoint, and one call per distinct launch template version.

use std::time::Duration;

use aws_sdk_autoscaling::types::{
    AutoScalingGroup, LaunchTemplate as AsgLaunchTemplate, LaunchTemplateSpecification,
    MixedInstancesPolicy,
};

use super::fake::{fake_aws, serve};
use super::{group, settings_for};
use crate::aws::ec2::{self, LaunchTemplate, LaunchTemplateVersion};
use crate::aws::server_groups::fill_image_ids;
use crate::aws::{AwsClients, AwsError, ServerGroup};

const VERSIONS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeLaunchTemplateVersionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>65cadec1-b364-4354-8ca8-4176dexample</requestId>
    <launchTemplateVersionSet>
        <item>
            <createTime>2026-01-05T10:02:44.000Z</createTime>
            <createdBy>arn:aws:iam::123456789012:root</createdBy>
            <defaultVersion>false</defaultVersion>
            <launchTemplateData>
                <blockDeviceMappingSet>
                    <item><deviceName>/dev/xvda</deviceName><ebs><volumeSize>20</volumeSize></ebs></item>
                </blockDeviceMappingSet>
                <networkInterfaceSet>
                    <item><deviceIndex>0</deviceIndex><associatePublicIpAddress>false</associatePublicIpAddress></item>
                </networkInterfaceSet>
                <imageId>ami-0123456789abcdef0</imageId>
                <instanceType>t3.small</instanceType>
                <tagSpecificationSet>
                    <item><resourceType>instance</resourceType><tagSet><item><key>app</key><value>shop</value></item></tagSet></item>
                </tagSpecificationSet>
            </launchTemplateData>
            <launchTemplateId>lt-0a20c965061f64abc</launchTemplateId>
            <launchTemplateName>shop-prod</launchTemplateName>
            <versionDescription>release 42</versionDescription>
            <versionNumber>3</versionNumber>
        </item>
    </launchTemplateVersionSet>
</DescribeLaunchTemplateVersionsResponse>"#;

const NO_IMAGE: &str = r#"<DescribeLaunchTemplateVersionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><launchTemplateVersionSet><item><launchTemplateData><instanceType>t3.small</instanceType></launchTemplateData><versionNumber>1</versionNumber></item></launchTemplateVersionSet></DescribeLaunchTemplateVersionsResponse>"#;
const EMPTY: &str = r#"<DescribeLaunchTemplateVersionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><launchTemplateVersionSet/></DescribeLaunchTemplateVersionsResponse>"#;
const THROTTLED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>d2c8a0c7-example</RequestID></Response>"#;
const DENIED: &str = r#"<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation. User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ec2:DescribeLaunchTemplateVersions</Message></Error></Errors><RequestID>r</RequestID></Response>"#;
const GONE: &str = r#"<Response><Errors><Error><Code>InvalidLaunchTemplateId.NotFound</Code><Message>The specified launch template, with template ID lt-gone, does not exist.</Message></Error></Errors><RequestID>r</RequestID></Response>"#;
const LAUNCH_CONFIGURATIONS: &str = r#"<DescribeLaunchConfigurationsResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><DescribeLaunchConfigurationsResult><LaunchConfigurations><member><LaunchConfigurationName>shop-lc</LaunchConfigurationName><ImageId>ami-0000000000000001c</ImageId><InstanceType>t3.micro</InstanceType><CreatedTime>2026-01-01T00:00:00Z</CreatedTime></member></LaunchConfigurations></DescribeLaunchConfigurationsResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeLaunchConfigurationsResponse>"#;

fn latest(id: &str) -> LaunchTemplateVersion {
    LaunchTemplateVersion {
        template: LaunchTemplate::Id(id.into()),
        version: "$Latest".into(),
    }
}

async fn clients(url: &str, attempts: u32) -> AwsClients {
    AwsClients::connect_with_backoff(&settings_for(url, attempts), Duration::from_millis(5))
        .await
        .expect("clients")
}

#[test]
fn the_image_id_is_read_from_the_launch_template_data() {
    assert_eq!(
        ec2::parse_image_id(VERSIONS).expect("parses").as_deref(),
        Some("ami-0123456789abcdef0")
    );
    assert_eq!(ec2::parse_image_id(NO_IMAGE).expect("parses"), None);
    assert_eq!(ec2::parse_image_id(EMPTY).expect("parses"), None);
    let err = ec2::parse_image_id(LAUNCH_CONFIGURATIONS).expect_err("another answer");
    assert!(
        err.to_string()
            .contains("expected a DescribeLaunchTemplateVersionsResponse"),
        "{err}"
    );
    assert!(ec2::parse_image_id("<html><body>502 Bad Gateway").is_err());
}

#[test]
fn error_answers_give_their_code_and_message() {
    assert_eq!(
        ec2::parse_error(THROTTLED),
        Some((
            "RequestLimitExceeded".to_owned(),
            "Request limit exceeded.".to_owned()
        ))
    );
    let query = r#"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>"#;
    assert_eq!(
        ec2::parse_error(query).map(|(c, _)| c).as_deref(),
        Some("Throttling")
    );
    assert_eq!(ec2::parse_error("<html>Service Unavailable</html>"), None);
    assert_eq!(ec2::parse_error("not xml at all"), None);
    assert_eq!(ec2::parse_error(VERSIONS), None);
}

#[tokio::test]
async fn ec2_calls_are_signed_and_throttling_is_retried() {
    let (url, seen) = fake_aws(vec![(503, THROTTLED), (503, THROTTLED), (200, VERSIONS)]).await;
    let image = clients(&url, 5)
        .await
        .ec2
        .image_id(&latest("lt-0a20c965061f64abc"))
        .await
        .expect("image after retries");
    assert_eq!(image.as_deref(), Some("ami-0123456789abcdef0"));
    assert_eq!(seen.count(), 3);
    let request = seen.requests().pop().unwrap_or_default();
    let lower = request.to_ascii_lowercase();
    assert!(request.starts_with("POST / HTTP/1.1"), "{request}");
    assert!(
        lower.contains("authorization: aws4-hmac-sha256 credential=test/")
            && lower.contains("/us-east-1/ec2/aws4_request")
            && lower.contains("signedheaders=content-type;host;x-amz-date"),
        "{request}"
    );
    assert!(
        request.ends_with("Action=DescribeLaunchTemplateVersions&Version=2016-11-15&LaunchTemplateId=lt-0a20c965061f64abc&LaunchTemplateVersion.1=%24Latest&ResolveAlias=true"),
        "{request}"
    );
}

#[tokio::test]
async fn ec2_throttling_that_persists_is_reported_after_the_budget() {
    let (url, seen) = fake_aws(vec![(503, THROTTLED)]).await;
    let err = clients(&url, 3)
        .await
        .ec2
        .image_id(&latest("lt-1"))
        .await
        .expect_err("throttled");
    assert_eq!(seen.count(), 3);
    assert!(
        matches!(&err, AwsError::Throttled { attempts: 3, code, .. } if code == "RequestLimitExceeded"),
        "{err:?}"
    );
}

#[tokio::test]
async fn ec2_access_denied_is_not_retried_and_names_the_permission() {
    let (url, seen) = fake_aws(vec![(403, DENIED)]).await;
    let err = clients(&url, 5)
        .await
        .ec2
        .image_id(&latest("lt-1"))
        .await
        .expect_err("denied");
    assert_eq!(seen.count(), 1);
    assert!(matches!(err, AwsError::AccessDenied { .. }), "{err:?}");
    let d = err.to_diagnostics(None);
    assert_eq!(d.0[0].summary, "AWS Access Denied");
    assert!(
        d.0[0].detail.contains("ec2:DescribeLaunchTemplateVersions"),
        "{}",
        d.0[0].detail
    );
}

#[tokio::test]
async fn a_launch_template_that_is_gone_has_no_image() {
    let (url, seen) = fake_aws(vec![(400, GONE)]).await;
    let image = clients(&url, 5)
        .await
        .ec2
        .image_id(&latest("lt-gone"))
        .await
        .expect("not an error");
    assert_eq!(image, None);
    assert_eq!(seen.count(), 1);
}

#[tokio::test]
async fn server_errors_without_an_error_document_are_retried_then_reported() {
    let (url, seen) = fake_aws(vec![(502, "<html>Bad Gateway</html>")]).await;
    let err = clients(&url, 2)
        .await
        .ec2
        .image_id(&latest("lt-1"))
        .await
        .expect_err("bad gateway");
    assert_eq!(seen.count(), 2);
    assert!(
        matches!(&err, AwsError::Service { code, message, .. } if code == "HTTP 502" && message.contains("Bad Gateway")),
        "{err:?}"
    );
}

#[test]
fn a_mixed_instances_policy_launches_from_its_base_template() {
    let spec = LaunchTemplateSpecification::builder()
        .launch_template_id("lt-mixed")
        .launch_template_name("shop-mixed")
        .version("$Latest")
        .build();
    let asg = AutoScalingGroup::builder()
        .auto_scaling_group_name("shop-prod-v007")
        .mixed_instances_policy(
            MixedInstancesPolicy::builder()
                .launch_template(
                    AsgLaunchTemplate::builder()
                        .launch_template_specification(spec)
                        .build(),
                )
                .build(),
        )
        .build();
    let g = ServerGroup::from_asg(&asg, "us-east-1").expect("named");
    assert_eq!(g.launch_template_id.as_deref(), Some("lt-mixed"));
    assert_eq!(g.launch_template(), Some(latest("lt-mixed")));

    let by_name_without_version = AutoScalingGroup::builder()
        .auto_scaling_group_name("shop-prod-v008")
        .launch_template(
            LaunchTemplateSpecification::builder()
                .launch_template_name("shop")
                .build(),
        )
        .build();
    let g = ServerGroup::from_asg(&by_name_without_version, "us-east-1").expect("named");
    assert_eq!(
        g.launch_template(),
        Some(LaunchTemplateVersion {
            template: LaunchTemplate::Name("shop".into()),
            version: "$Default".into(),
        })
    );
}

#[tokio::test]
async fn image_ids_take_one_call_per_distinct_launch_template_version() {
    let (url, seen) = serve(|_, request| {
        let answer = |image: &str| (200, VERSIONS.replace("ami-0123456789abcdef0", image));
        if request.contains("Action=DescribeLaunchConfigurations") {
            (200, LAUNCH_CONFIGURATIONS.to_owned())
        } else if request.contains("LaunchTemplateId=lt-gone") {
            (400, GONE.to_owned())
        } else if request.contains("LaunchTemplateId=lt-a&LaunchTemplateVersion.1=%24Latest") {
            answer("ami-000000000000000a1")
        } else if request.contains("LaunchTemplateId=lt-a&LaunchTemplateVersion.1=2&") {
            answer("ami-000000000000000a2")
        } else if request.contains("LaunchTemplateName=web&LaunchTemplateVersion.1=%24Default") {
            answer("ami-00000000000000web")
        } else {
            (400, DENIED.to_owned())
        }
    })
    .await;
    let with = |name: &str, f: &dyn Fn(&mut ServerGroup)| {
        let mut g = group(name, 1, &[]);
        f(&mut g);
        g
    };
    let mut groups = vec![
        with("shop-v001", &|g| {
            g.launch_template_id = Some("lt-a".into());
            g.launch_template_name = Some("shop".into());
            g.launch_template_version = Some("$Latest".into());
        }),
        with("shop-v002", &|g| {
            g.launch_template_id = Some("lt-a".into());
            g.launch_template_version = Some("$Latest".into());
        }),
        with("shop-v003", &|g| {
            g.launch_template_id = Some("lt-a".into());
            g.launch_template_version = Some("2".into());
        }),
        with("web-v001", &|g| g.launch_template_name = Some("web".into())),
        with("old-v001", &|g| {
            g.launch_template_id = Some("lt-gone".into());
            g.launch_template_version = Some("1".into());
        }),
        with("lc-v001", &|g| {
            g.launch_configuration_name = Some("shop-lc".into());
        }),
        with("bare-v001", &|_| {}),
    ];
    fill_image_ids(&clients(&url, 2).await, &mut groups)
        .await
        .expect("images");
    let images: Vec<(&str, Option<&str>)> = groups
        .iter()
        .map(|g| (g.name.as_str(), g.image_id.as_deref()))
        .collect();
    assert_eq!(
        images,
        vec![
            ("shop-v001", Some("ami-000000000000000a1")),
            ("shop-v002", Some("ami-000000000000000a1")),
            ("shop-v003", Some("ami-000000000000000a2")),
            ("web-v001", Some("ami-00000000000000web")),
            ("old-v001", None),
            ("lc-v001", Some("ami-0000000000000001c")),
            ("bare-v001", None),
        ]
    );
    let requests = seen.requests();
    let ec2_calls = requests
        .iter()
        .filter(|r| r.contains("Action=DescribeLaunchTemplateVersions"))
        .count();
    assert_eq!(ec2_calls, 4, "{requests:#?}");
    assert_eq!(seen.count(), 5, "and one DescribeLaunchConfigurations");
}
