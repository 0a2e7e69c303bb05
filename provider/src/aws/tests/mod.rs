//! Unit tests of the AWS layer: settings, Frigga ordering, the enabled judgement, reference
//! extraction, and retries/classification against a local endpoint answering like AWS.

mod ec2;
mod fake;

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::diag::Diagnostics;
use crate::value::{Number, Value};
use fake::fake_aws;

fn block(pairs: &[(&str, Value)]) -> Value {
    schema_block().block.object_with(pairs)
}

#[test]
fn settings_use_env_fallbacks_and_redact_secrets() {
    let env = |k: &str| match k {
        "AWS_DEFAULT_REGION" => Some("eu-west-1".to_owned()),
        "AWS_ACCESS_KEY_ID" => Some("AKIDEXAMPLE".to_owned()),
        "AWS_SECRET_ACCESS_KEY" => Some("very-secret".to_owned()),
        _ => None,
    };
    let mut d = Diagnostics::new();
    let s = parse_block(Some(&block(&[])), &env, &mut d).expect("settings");
    assert!(d.is_empty(), "{d}");
    assert_eq!(s.region.as_deref(), Some("eu-west-1"));
    assert!(s.strict_references);
    assert_eq!(s.max_attempts, settings::DEFAULT_MAX_ATTEMPTS);
    let debug = format!("{s:?}");
    assert!(
        debug.contains("AKIDEXAMPLE") && !debug.contains("very-secret"),
        "{debug}"
    );
}

#[test]
fn bad_settings_name_their_attribute() {
    let mut d = Diagnostics::new();
    let b = block(&[
        ("region", Value::string("US East")),
        ("endpoint", Value::string("localhost:5000")),
        ("access_key", Value::string("AKID")),
        ("max_attempts", Value::Number(Number::from(0))),
    ]);
    assert!(parse_block(Some(&b), &|_| None, &mut d).is_none());
    let paths: Vec<String> =
        d.0.iter()
            .filter_map(|x| x.path.as_ref().map(ToString::to_string))
            .collect();
    assert_eq!(
        paths,
        vec![
            "aws.region",
            "aws.endpoint",
            "aws.secret_key",
            "aws.max_attempts"
        ]
    );
}

#[test]
fn absent_block_means_no_settings() {
    let mut d = Diagnostics::new();
    assert!(parse_block(None, &|_| None, &mut d).is_none());
    assert!(parse_block(Some(&Value::Null), &|_| None, &mut d).is_none());
    let strict = block(&[("strict_aws_references", Value::Bool(false))]);
    let s = parse_block(Some(&strict), &|_| None, &mut d).expect("settings");
    assert!(!s.strict_references);
}

fn group(name: &str, created_ms: i64, suspended: &[&str]) -> ServerGroup {
    let n = pipeline::naming::Names::parse(name);
    let suspended: Vec<String> = suspended.iter().map(|s| (*s).to_owned()).collect();
    ServerGroup {
        name: name.to_owned(),
        cluster: n.cluster,
        app: n.app,
        stack: n.stack,
        detail: n.detail,
        sequence: n.sequence,
        region: "us-east-1".into(),
        min_size: 1,
        max_size: 1,
        desired_capacity: 1,
        launch_template_id: None,
        launch_template_name: None,
        launch_template_version: None,
        launch_configuration_name: None,
        image_id: None,
        target_group_arns: Vec::new(),
        load_balancer_names: Vec::new(),
        enabled: is_enabled(&suspended),
        suspended_processes: suspended,
        instances: Vec::new(),
        created_ms: Some(created_ms),
        created_time: None,
    }
}

#[test]
fn disabled_means_add_to_load_balancer_suspended() {
    assert!(is_enabled(&[]));
    assert!(is_enabled(&["AZRebalance".to_owned()]));
    assert!(!is_enabled(&[
        "Launch".to_owned(),
        "Terminate".to_owned(),
        "AddToLoadBalancer".to_owned()
    ]));
}

#[test]
fn cluster_orders_by_frigga_and_picks_newest_enabled_as_active() {
    let mut groups = vec![
        group("shop-prod-v010", 3_000, &[]),
        group(
            "shop-prod-v002",
            1_000,
            &["Launch", "Terminate", "AddToLoadBalancer"],
        ),
        group("shop-prod-v009", 2_000, &[]),
        group("shop-prod", 500, &[]),
    ];
    frigga_order(&mut groups);
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "shop-prod",
            "shop-prod-v002",
            "shop-prod-v009",
            "shop-prod-v010"
        ]
    );
    let mut cluster = Cluster {
        name: "shop-prod".into(),
        region: "us-east-1".into(),
        server_groups: groups,
    };
    assert_eq!(
        cluster.newest().map(|g| g.name.as_str()),
        Some("shop-prod-v010")
    );
    assert_eq!(
        cluster.active().map(|g| g.name.as_str()),
        Some("shop-prod-v010")
    );
    // After a wrap to v000 the newest is chosen by creation time, not by sequence.
    cluster
        .server_groups
        .push(group("shop-prod-v000", 4_000, &["AddToLoadBalancer"]));
    assert_eq!(
        cluster.newest().map(|g| g.name.as_str()),
        Some("shop-prod-v000")
    );
    assert_eq!(
        cluster.active().map(|g| g.name.as_str()),
        Some("shop-prod-v010")
    );
}

#[test]
fn references_come_from_cluster_size_and_canary_scopes() {
    let pipeline = json!({
        "stages": [
            {"type": "wait", "waitTime": 1},
            {"type": "checkPreconditions", "preconditions": [
                {"type": "expression", "context": {"expression": "true"}},
                {"type": "clusterSize", "context": {"cluster": "shop-prod", "regions": ["us-east-1", "us-west-2"]}},
                {"type": "clusterSize", "context": {"cluster": "${trigger.parameters.cluster}"}}
            ]},
            {"type": "kayentaCanary", "canaryConfig": {"scopes": [
                {"controlScope": "shop-prod-baseline", "controlLocation": "us-east-1",
                 "experimentScope": "shop-prod-canary-v001", "experimentLocation": "us-east-1"},
                {"controlScope": "app=\"shop\"", "experimentScope": "${canaryGroup}"}
            ]}}
        ]
    });
    let refs = references(pipeline.as_object().expect("object"));
    let summary: Vec<(String, Option<String>, ReferenceKind, String)> = refs
        .iter()
        .map(|r| (r.name.clone(), r.region.clone(), r.kind, r.path.to_string()))
        .collect();
    assert_eq!(summary.len(), 4, "{summary:?}");
    assert_eq!(summary[0].0, "shop-prod");
    assert_eq!(summary[0].1.as_deref(), Some("us-east-1"));
    assert_eq!(summary[1].1.as_deref(), Some("us-west-2"));
    assert!(
        summary[0].3.contains("preconditions[1]"),
        "{}",
        summary[0].3
    );
    assert_eq!(summary[2].2, ReferenceKind::Cluster);
    assert_eq!(summary[3].0, "shop-prod-canary-v001");
    assert_eq!(summary[3].2, ReferenceKind::ServerGroup);
    assert!(
        summary[3].3.ends_with("experimentScope"),
        "{}",
        summary[3].3
    );
}

const THROTTLED: &str = r#"<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r1</RequestId></ErrorResponse>"#;
const DENIED: &str = r#"<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/ci is not authorized to perform: autoscaling:DescribeAutoScalingGroups</Message></Error><RequestId>r2</RequestId></ErrorResponse>"#;
const GROUPS: &str = r#"<DescribeAutoScalingGroupsResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><DescribeAutoScalingGroupsResult><AutoScalingGroups><member><AutoScalingGroupName>shop-prod-v004</AutoScalingGroupName><MinSize>1</MinSize><MaxSize>3</MaxSize><DesiredCapacity>2</DesiredCapacity><DefaultCooldown>300</DefaultCooldown><AvailabilityZones><member>us-east-1a</member></AvailabilityZones><HealthCheckType>EC2</HealthCheckType><CreatedTime>2026-01-01T00:00:00Z</CreatedTime><SuspendedProcesses><member><ProcessName>AddToLoadBalancer</ProcessName><SuspensionReason>User suspended</SuspensionReason></member></SuspendedProcesses><Instances/><TargetGroupARNs><member>arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop/abc</member></TargetGroupARNs></member></AutoScalingGroups></DescribeAutoScalingGroupsResult><ResponseMetadata><RequestId>r3</RequestId></ResponseMetadata></DescribeAutoScalingGroupsResponse>"#;

fn settings_for(endpoint: &str, attempts: u32) -> AwsSettings {
    let mut d = Diagnostics::new();
    let b = block(&[
        ("region", Value::string("us-east-1")),
        ("endpoint", Value::string(endpoint)),
        ("access_key", Value::string("test")),
        ("secret_key", Value::string("test")),
        (
            "max_attempts",
            Value::Number(Number::from(i64::from(attempts))),
        ),
    ]);
    parse_block(Some(&b), &|_| None, &mut d).expect("settings")
}

#[tokio::test]
async fn throttling_is_retried_until_it_succeeds() {
    let (url, count) = fake_aws(vec![(400, THROTTLED), (400, THROTTLED), (200, GROUPS)]).await;
    let clients =
        AwsClients::connect_with_backoff(&settings_for(&url, 5), Duration::from_millis(5))
            .await
            .expect("clients");
    let group = server_group(&clients, "shop-prod-v004")
        .await
        .expect("read after retries")
        .expect("found");
    assert_eq!(count.count(), 3);
    assert_eq!(group.sequence, Some(4));
    assert_eq!(group.desired_capacity, 2);
    assert!(!group.enabled, "AddToLoadBalancer is suspended");
    assert_eq!(group.target_group_arns.len(), 1);
}

#[tokio::test]
async fn throttling_that_persists_gives_a_clear_diagnostic() {
    let (url, count) = fake_aws(vec![(400, THROTTLED)]).await;
    let clients =
        AwsClients::connect_with_backoff(&settings_for(&url, 3), Duration::from_millis(5))
            .await
            .expect("clients");
    let err = server_group(&clients, "shop-prod-v004")
        .await
        .expect_err("throttled");
    assert_eq!(count.count(), 3);
    assert!(
        matches!(err, AwsError::Throttled { attempts: 3, .. }),
        "{err:?}"
    );
    let d = err.to_diagnostics(Some(crate::diag::AttributePath::root("name")));
    assert_eq!(d.0[0].summary, "AWS Request Throttled");
    assert!(
        d.0[0].detail.contains("after 3 attempts"),
        "{}",
        d.0[0].detail
    );
    assert!(
        d.0[0].detail.starts_with("Attribute name:"),
        "{}",
        d.0[0].detail
    );
}

#[tokio::test]
async fn access_denied_is_not_retried_and_says_what_to_grant() {
    let (url, count) = fake_aws(vec![(403, DENIED)]).await;
    let clients =
        AwsClients::connect_with_backoff(&settings_for(&url, 5), Duration::from_millis(5))
            .await
            .expect("clients");
    let err = cluster(&clients, "shop-prod").await.expect_err("denied");
    assert_eq!(count.count(), 1);
    assert!(matches!(err, AwsError::AccessDenied { .. }), "{err:?}");
    let d = err.to_diagnostics(None);
    assert_eq!(d.0[0].summary, "AWS Access Denied");
    assert!(
        d.0[0].detail.contains("autoscaling:Describe"),
        "{}",
        d.0[0].detail
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let clients =
        AwsClients::connect_with_backoff(&settings_for(&url, 2), Duration::from_millis(5))
            .await
            .expect("clients");
    let err = server_group(&clients, "x-v001")
        .await
        .expect_err("unreachable");
    assert!(matches!(err, AwsError::Transport { .. }), "{err:?}");
    assert_eq!(err.to_diagnostics(None).0[0].summary, "AWS Unreachable");
}
