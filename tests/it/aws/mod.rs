//! AWS acceptance tests against a moto server the tests start on 127.0.0.1: the `aws_*` data
//! sources, plan-time cluster checks, the engine's `clusterSize` lookup, and the modules.
//! They run with `TF_ACC=1`; without `moto_server` they skip with a printed line unless
//! `SPINHCL_REQUIRE_TOOLS=1`.

mod cluster_size;
mod data_sources;
mod launch_templates;
mod modules;
mod references;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A moto server on a free loopback port, killed on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MOTO_SERVER") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("moto_server"))
        .find(|p| p.is_file())
}

/// Whether an AWS acceptance test runs: `TF_ACC=1` and moto available (or required).
pub fn enabled(test: &str) -> bool {
    if !e2e::acceptance(test) {
        return false;
    }
    if moto_bin().is_some() {
        return true;
    }
    if std::env::var("SPINHCL_REQUIRE_TOOLS").is_ok_and(|v| v == "1") {
        panic!(
            "{test}: moto_server is not installed (bash scripts/tools.sh moto) and SPINHCL_REQUIRE_TOOLS=1"
        );
    }
    eprintln!("skipping {test}: moto_server is not installed; run `bash scripts/tools.sh moto`");
    false
}

impl Moto {
    /// Starts moto and waits until it answers.
    pub fn start() -> Result<Moto> {
        let bin = moto_bin().context("moto_server not found")?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting moto_server")?;
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(moto);
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!("moto_server did not listen on port {port} within 30 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SDK configuration for `region` against this server.
    pub async fn sdk(&self, region: &str) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.url)
            .region(aws_config::Region::new(region.to_owned()))
            .credentials_provider(aws_sdk_autoscaling::config::Credentials::new(
                "test", "test", None, None, "moto",
            ))
            .load()
            .await
    }

    /// An unsigned EC2 query (moto does not check signatures); the test crate has no EC2 SDK.
    pub async fn ec2(&self, region: &str, action: &str, params: &[(&str, &str)]) -> Result<String> {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=test/20260101/{region}/ec2/aws4_request, SignedHeaders=host, Signature=0"
        );
        let mut form = vec![("Action", action), ("Version", "2016-11-15")];
        form.extend_from_slice(params);
        let response = reqwest::Client::new()
            .post(&self.url)
            .header("Authorization", auth)
            .form(&form)
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            bail!("EC2 {action} failed with {status}: {body}");
        }
        Ok(body)
    }

    /// The default VPC id and two of its subnets in `region`.
    pub async fn network(&self, region: &str) -> Result<(String, Vec<String>)> {
        let vpcs = self.ec2(region, "DescribeVpcs", &[]).await?;
        let vpc = between(&vpcs, "<vpcId>", "</vpcId>")
            .into_iter()
            .next()
            .context("moto has no default VPC")?;
        let subnets = self.ec2(region, "DescribeSubnets", &[]).await?;
        let subnets: Vec<String> = between(&subnets, "<subnetId>", "</subnetId>")
            .into_iter()
            .take(2)
            .collect();
        Ok((vpc, subnets))
    }
}

pub fn between(text: &str, open: &str, close: &str) -> Vec<String> {
    text.split(open)
        .skip(1)
        .filter_map(|rest| rest.split(close).next().map(str::to_owned))
        .collect()
}

/// What [`seed`] created.
pub struct Seeded {
    pub target_group_arn: String,
    pub load_balancer_dns: String,
}

/// Creates, in `region`: a launch configuration; server groups `<cluster>-v001` (disabled the
/// way Spinnaker disables: Launch, Terminate and AddToLoadBalancer suspended) and
/// `<cluster>-v002` (enabled, attached to a target group behind an ALB with an HTTP listener);
/// and one server group for each of `extra_clusters`.
pub async fn seed(
    moto: &Moto,
    region: &str,
    cluster: &str,
    extra_clusters: &[&str],
) -> Result<Seeded> {
    let conf = moto.sdk(region).await;
    let asg = aws_sdk_autoscaling::Client::new(&conf);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let (vpc, subnets) = moto.network(region).await?;
    let zone = format!("{region}a");

    let lc = format!("{cluster}-lc");
    asg.create_launch_configuration()
        .launch_configuration_name(&lc)
        .image_id("ami-0abcdef1234567890")
        .instance_type("t3.micro")
        .send()
        .await
        .context("create_launch_configuration")?;

    let tg_name = format!("{cluster}-tg");
    let tg = elb
        .create_target_group()
        .name(&tg_name)
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(8080)
        .vpc_id(&vpc)
        .health_check_path("/health")
        .send()
        .await
        .context("create_target_group")?;
    let tg_arn = tg
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
        .context("no target group ARN")?
        .to_owned();
    let lb = elb
        .create_load_balancer()
        .name(format!("{cluster}-alb"))
        .set_subnets(Some(subnets))
        .send()
        .await
        .context("create_load_balancer")?;
    let lb = lb.load_balancers().first().context("no load balancer")?;
    let lb_arn = lb.load_balancer_arn().context("no LB ARN")?.to_owned();
    let dns = lb.dns_name().unwrap_or_default().to_owned();
    elb.create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .default_actions(
            aws_sdk_elasticloadbalancingv2::types::Action::builder()
                .r#type(aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::Forward)
                .target_group_arn(&tg_arn)
                .build(),
        )
        .send()
        .await
        .context("create_listener")?;

    for (sequence, desired, attach) in [(1, 1, false), (2, 2, true)] {
        let name = format!("{cluster}-v{sequence:03}");
        let mut request = asg
            .create_auto_scaling_group()
            .auto_scaling_group_name(&name)
            .launch_configuration_name(&lc)
            .min_size(1)
            .max_size(3)
            .desired_capacity(desired)
            .availability_zones(&zone);
        if attach {
            request = request.target_group_arns(&tg_arn);
        }
        request
            .send()
            .await
            .with_context(|| format!("create {name}"))?;
        // Creation times must differ for "newest".
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    asg.suspend_processes()
        .auto_scaling_group_name(format!("{cluster}-v001"))
        .scaling_processes("Launch")
        .scaling_processes("Terminate")
        .scaling_processes("AddToLoadBalancer")
        .send()
        .await
        .context("suspend_processes")?;

    for extra in extra_clusters {
        asg.create_auto_scaling_group()
            .auto_scaling_group_name(format!("{extra}-v000"))
            .launch_configuration_name(&lc)
            .min_size(1)
            .max_size(1)
            .desired_capacity(1)
            .availability_zones(&zone)
            .send()
            .await
            .with_context(|| format!("create {extra}-v000"))?;
    }
    Ok(Seeded {
        target_group_arn: tg_arn,
        load_balancer_dns: dns,
    })
}

/// The provider's `aws` block for moto.
pub fn aws_block(moto: &Moto, extra: &str) -> String {
    format!(
        "  aws {{\n    region     = \"us-east-1\"\n    endpoint   = \"{}\"\n    access_key = \"test\"\n    secret_key = \"test\"\n{extra}  }}\n",
        moto.url
    )
}

/// A tokio runtime for SDK calls from synchronous tests.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Applies `provider` (a provider configuration) with each data source of `data`, given as
/// (type, name, body), and an output of the same name for it; returns the output values.
pub fn read_data_sources(
    ws: &e2e::Workspace,
    provider: &str,
    data: &[(&str, &str, &str)],
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let mut config = provider.to_owned();
    for (kind, name, body) in data {
        config.push_str(&format!(
            "\ndata \"{kind}\" \"{name}\" {{\n  {body}\n}}\n\noutput \"{name}\" {{\n  value = data.{kind}.{name}\n}}\n"
        ));
    }
    ws.write(&config)?;
    ws.init()?;
    ws.apply()?;
    let out = ws.ok(&["output", "-json"])?;
    let outputs: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&out.stdout)?;
    Ok(outputs
        .into_iter()
        .map(|(name, output)| (name, output["value"].clone()))
        .collect())
}

/// Runs `check` once per Terraform version with a fresh engine and workspace.
pub fn each_terraform(
    test: &str,
    check: impl Fn(&e2e::Terraform, &e2e::Engine, &e2e::Workspace) -> Result<()>,
) {
    let provider = e2e::provider_bin().expect("provider binary");
    for tf in e2e::terraforms().expect("terraform binaries") {
        let engine = e2e::Engine::start().expect("spinhcl server");
        let ws = e2e::Workspace::new(&tf, &provider, false).expect("workspace");
        if let Err(e) = check(&tf, &engine, &ws) {
            panic!("{test} on Terraform {}: {e:#}", tf.version);
        }
        eprintln!("{test}: passed on Terraform {}", tf.version);
    }
}
