//! The traits every `spinnaker_*` resource and data source implements, and
//! the per-call context they receive. Resources see domain types only:
//! [`Value`], [`Schema`], [`Diagnostics`] and the Gate client.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::diag::Diagnostics;
use crate::schema::Schema;
use crate::value::Value;

/// What a resource call needs: the configured Gate client, the token that
/// Terraform's Stop cancels, and the resource's private state.
pub struct Ctx {
    /// The client built from the provider configuration.
    pub client: Arc<gate::Client>,
    /// Cancelled when Terraform calls StopProvider.
    pub cancel: CancellationToken,
    private: Mutex<serde_json::Map<String, serde_json::Value>>,
}

impl Ctx {
    /// A context with the given private state.
    pub fn new(
        client: Arc<gate::Client>,
        cancel: CancellationToken,
        private: serde_json::Map<String, serde_json::Value>,
    ) -> Self {
        Ctx {
            client,
            cancel,
            private: Mutex::new(private),
        }
    }

    /// A value from the resource's private state (kept by Terraform with the
    /// state, never shown to users).
    pub fn private(&self, key: &str) -> Option<serde_json::Value> {
        self.private.lock().ok().and_then(|p| p.get(key).cloned())
    }

    /// Sets a value in the resource's private state.
    pub fn set_private(&self, key: &str, value: serde_json::Value) {
        if let Ok(mut p) = self.private.lock() {
            p.insert(key.to_owned(), value);
        }
    }

    pub(crate) fn take_private(&self) -> serde_json::Map<String, serde_json::Value> {
        self.private.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

/// Why a resource operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceError {
    /// Gate refused or failed the call.
    #[error(transparent)]
    Gate(#[from] gate::Error),
    /// The resource already explained the problem.
    #[error("{0}")]
    Diagnostics(Diagnostics),
}

/// A managed resource type. The shared lifecycle rules live in
/// [`crate::lifecycle`]: read on 404 removes from state, delete on 404
/// succeeds, create and update never read back, plans follow the schema's
/// RequiresReplace / UseStateForUnknown / default markers.
#[async_trait]
pub trait Resource: Send + Sync {
    /// `spinnaker_<thing>`.
    fn type_name(&self) -> &'static str;

    /// The schema; its version drives state upgrades.
    fn schema(&self) -> Schema;

    /// The documented import id template, e.g. `<name>`.
    fn import_template(&self) -> &'static str;

    /// The id used in messages ("creating spinnaker_application (myapp)").
    fn display_id(&self, state: &Value) -> String;

    /// Checks configuration beyond types; values may be unknown.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Adjusts the planned state beyond what the schema's markers plan (for example, marks a
    /// computed value inside a nested block unknown); the default keeps it. Called by
    /// [`crate::lifecycle::plan_resource`] before [`Resource::check_plan`].
    fn modify_plan(&self, _prior: &Value, planned: Value, _config: &Value) -> Value {
        planned
    }

    /// Checks a planned change against the prior state (values only the
    /// refreshed state knows, e.g. stages that exist remotely); the default
    /// accepts everything. Called by [`crate::lifecycle::plan_resource`].
    fn check_plan(
        &self,
        _prior: &Value,
        _planned: &Value,
        _config: &Value,
        _diags: &mut Diagnostics,
    ) {
    }

    /// The current remote object, or `None` when it no longer exists.
    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ResourceError>;

    /// Creates the object; returns the planned state with computed values
    /// filled in from the API response.
    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ResourceError>;

    /// Updates the object in place.
    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, ResourceError>;

    /// Deletes the object.
    async fn delete(&self, ctx: &Ctx, prior: &Value) -> Result<(), ResourceError>;

    /// The state import sets from the parts of the import id: only what
    /// `read` needs.
    fn import(&self, parts: Vec<String>) -> Value;

    /// The state for an import id in a second accepted form (for example a
    /// bare pipeline id) that does not fit [`Resource::import_template`];
    /// `None`, the default, keeps the template's error.
    fn import_by_id(&self, _id: &str) -> Option<Value> {
        None
    }

    /// Rewrites a state stored at an older schema `version` (as JSON) into the
    /// current schema's shape. The default refuses, naming both versions.
    fn upgrade_state(
        &self,
        version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        let _ = state;
        Err(Diagnostics::from_error(
            "Unsupported State Version",
            format!(
                "{} state was written with schema version {version}, which this provider cannot upgrade to version {}. \
                 Use the provider release that wrote it, or remove the resource from state and import it again.",
                self.type_name(),
                self.schema().version
            ),
        ))
    }
}

/// A data source type.
#[async_trait]
pub trait DataSource: Send + Sync {
    /// `spinnaker_<thing>`.
    fn type_name(&self) -> &'static str;

    /// The schema.
    fn schema(&self) -> Schema;

    /// Checks configuration beyond types; values may be unknown.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Reads the object the configuration names.
    async fn read(&self, ctx: &Ctx, config: &Value) -> Result<Value, ResourceError>;
}
