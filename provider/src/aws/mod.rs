//! AWS for the provider: the `aws` block's settings, SDK clients built through aws-config,
//! Frigga-ordered server-group views with "enabled as Spinnaker judges it", ELBv2 target group
//! and load balancer views, and the plan-time cross checks of pipeline references.
//!
//! The settings are process-wide: Terraform starts one provider process per provider
//! configuration, and the provider block installs them when it is built (see
//! [`install`]). All AWS calls run on one small runtime owned by this module, so the
//! synchronous plan-time checks can wait for them without blocking the provider's runtime.

pub mod arn_or_name;
mod clients;
mod ec2;
mod error;
mod load_balancers;
mod references;
mod server_groups;
mod settings;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

pub use clients::AwsClients;
pub use error::AwsError;
pub use load_balancers::{
    Listener, LoadBalancer, TargetGroup, TargetHealth, load_balancer, target_group,
};
pub use references::{Reference, ReferenceKind, check_references, references};
pub use server_groups::{
    Cluster, Instance, ServerGroup, cluster, frigga_order, is_enabled, server_group,
};
pub use settings::{AwsSettings, block as schema_block, parse as parse_block};

/// The attributes of a server group (name, type, description), in schema order.
pub fn server_group_fields() -> Vec<(&'static str, crate::value::Type, &'static str)> {
    server_groups::FIELDS
        .iter()
        .map(|(n, t, d)| (*n, t(), *d))
        .collect()
}

/// How long a plan-time check may wait for AWS before it gives up with a diagnostic.
const CHECK_TIMEOUT: Duration = Duration::from_secs(120);

static SETTINGS: RwLock<Option<Arc<AwsSettings>>> = RwLock::new(None);
static CLIENTS: Mutex<Option<(Arc<AwsSettings>, Arc<AwsClients>)>> = Mutex::new(None);
static RUNTIME: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();

/// Installs (or clears, with `None`) the settings of the provider's `aws` block.
pub fn install(settings: Option<AwsSettings>) {
    if let Ok(mut slot) = SETTINGS.write() {
        *slot = settings.map(Arc::new);
    }
}

/// The installed settings, when the provider block has an `aws` block.
pub fn settings() -> Option<Arc<AwsSettings>> {
    SETTINGS.read().ok().and_then(|s| s.clone())
}

fn runtime() -> Result<&'static tokio::runtime::Runtime, AwsError> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("aws")
                .enable_all()
                .build()
                .ok()
        })
        .as_ref()
        .ok_or_else(|| AwsError::Configuration("cannot start the runtime for AWS calls".into()))
}

/// The clients for the installed settings, built once per distinct settings.
async fn clients(settings: Arc<AwsSettings>) -> Result<Arc<AwsClients>, AwsError> {
    if let Ok(slot) = CLIENTS.lock()
        && let Some((s, c)) = slot.as_ref()
        && **s == *settings
    {
        return Ok(Arc::clone(c));
    }
    let built = Arc::new(AwsClients::connect(&settings).await?);
    if let Ok(mut slot) = CLIENTS.lock() {
        *slot = Some((settings, Arc::clone(&built)));
    }
    Ok(built)
}

/// Runs `work` with the configured clients on the AWS runtime and awaits it.
pub async fn call<T, F, Fut>(work: F) -> Result<T, AwsError>
where
    T: Send + 'static,
    F: FnOnce(Arc<AwsClients>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, AwsError>> + Send + 'static,
{
    let settings = settings().ok_or(AwsError::NotConfigured)?;
    let handle = runtime()?.spawn(async move { work(clients(settings).await?).await });
    handle
        .await
        .map_err(|e| AwsError::Configuration(format!("the AWS call was aborted: {e}")))?
}

/// Like [`call`], for synchronous callers (plan-time validation): waits up to two minutes.
pub fn call_blocking<T, F, Fut>(work: F) -> Result<T, AwsError>
where
    T: Send + 'static,
    F: FnOnce(Arc<AwsClients>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, AwsError>> + Send + 'static,
{
    let settings = settings().ok_or(AwsError::NotConfigured)?;
    let (tx, rx) = std::sync::mpsc::channel();
    runtime()?.spawn(async move {
        let result = match clients(settings).await {
            Ok(c) => work(c).await,
            Err(e) => Err(e),
        };
        let _ = tx.send(result);
    });
    rx.recv_timeout(CHECK_TIMEOUT).map_err(|_| {
        AwsError::Configuration(format!(
            "AWS did not answer within {} s",
            CHECK_TIMEOUT.as_secs()
        ))
    })?
}
