//! `SpinnakerProvider`: the provider as Terraform sees it, on domain types.
//! It owns the resource and data source registries, the configured Gate
//! client and the cancellation token, and runs each protocol operation
//! through the shared lifecycle. The protocol layer (`server`) only
//! converts wire messages to and from these calls.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use tokio_util::sync::CancellationToken;

use crate::config;
use crate::diag::{AttributePath, Diagnostics};
use crate::lifecycle;
use crate::resource::{Ctx, DataSource, Resource};
use crate::schema::{Block, Schema};
use crate::value::{Type, Value, decode_json, decode_msgpack, encode_msgpack};

/// An encoded value as Terraform sends it: msgpack, or JSON for some state.
#[derive(Clone, Debug, Default)]
pub struct Encoded {
    pub msgpack: Vec<u8>,
    pub json: Vec<u8>,
}

struct Entry<T: ?Sized> {
    schema: Schema,
    ty: Type,
    imp: Box<T>,
}

impl<T: ?Sized> Entry<T> {
    fn new(schema: Schema, imp: Box<T>) -> Self {
        let ty = schema.block.implied_type();
        Entry { schema, ty, imp }
    }
}

/// Reads the process environment; tests substitute their own.
pub type EnvFn = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The Spinnaker provider.
pub struct SpinnakerProvider {
    provider: Entry<()>,
    resources: BTreeMap<&'static str, Entry<dyn Resource>>,
    data_sources: BTreeMap<&'static str, Entry<dyn DataSource>>,
    client: RwLock<Option<Arc<gate::Client>>>,
    cancel: CancellationToken,
    env: EnvFn,
}

/// Everything GetProviderSchema returns.
pub struct Schemas<'a> {
    pub provider: &'a Schema,
    pub resources: Vec<(&'static str, &'a Schema)>,
    pub data_sources: Vec<(&'static str, &'a Schema)>,
}

/// The result of planning.
pub struct Planned {
    pub state: Encoded,
    pub requires_replace: Vec<AttributePath>,
    pub private: Vec<u8>,
}

impl Default for SpinnakerProvider {
    fn default() -> Self {
        Self::new(Box::new(|k| std::env::var(k).ok()))
    }
}

impl SpinnakerProvider {
    /// The provider with every resource and data source, reading
    /// environment fallbacks through `env`.
    pub fn new(env: EnvFn) -> Self {
        SpinnakerProvider {
            provider: Entry::new(config::schema(), Box::new(())),
            resources: crate::resources::all()
                .into_iter()
                .map(|r| (r.type_name(), Entry::new(r.schema(), r)))
                .collect(),
            data_sources: crate::data_sources::all()
                .into_iter()
                .map(|d| (d.type_name(), Entry::new(d.schema(), d)))
                .collect(),
            client: RwLock::new(None),
            cancel: CancellationToken::new(),
            env,
        }
    }

    /// The token StopProvider cancels.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// All schemas.
    pub fn schemas(&self) -> Schemas<'_> {
        Schemas {
            provider: &self.provider.schema,
            resources: self
                .resources
                .iter()
                .map(|(k, e)| (*k, &e.schema))
                .collect(),
            data_sources: self
                .data_sources
                .iter()
                .map(|(k, e)| (*k, &e.schema))
                .collect(),
        }
    }

    fn resource(&self, name: &str) -> Result<&Entry<dyn Resource>, Diagnostics> {
        self.resources
            .get(name)
            .ok_or_else(|| unknown_type("resource", name))
    }

    fn data_source(&self, name: &str) -> Result<&Entry<dyn DataSource>, Diagnostics> {
        self.data_sources
            .get(name)
            .ok_or_else(|| unknown_type("data source", name))
    }

    fn ctx(&self, private: &[u8]) -> Result<Ctx, Diagnostics> {
        let client = self.client.read().ok().and_then(|c| c.clone()).ok_or_else(|| {
            Diagnostics::from_error(
                "Provider Not Configured",
                "The spinnaker provider was used before it was configured; this is usually caused by an unknown \
                 value in the provider block. Make the provider settings known at plan time.",
            )
        })?;
        let private = if private.is_empty() {
            serde_json::Map::new()
        } else {
            serde_json::from_slice(private).unwrap_or_default()
        };
        Ok(Ctx::new(client, self.cancel.clone(), private))
    }

    /// PrepareProviderConfig: checks the provider block.
    pub fn validate_provider_config(&self, config: &Encoded) -> Result<Encoded, Diagnostics> {
        let value = decode(config, &self.provider.ty, "provider configuration")?;
        let mut diags = Diagnostics::new();
        deprecations(&self.provider.schema.block, &value, &mut diags);
        config::build(&value, &|k| (self.env)(k), &mut diags);
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(config.clone())
        }
    }

    /// Configure: builds the Gate client. Nothing is sent to Gate yet, so an
    /// unreachable endpoint shows up (once, clearly) at the first call.
    pub fn configure(&self, config: &Encoded) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let value = match decode(config, &self.provider.ty, "provider configuration") {
            Ok(v) => v,
            Err(d) => return d,
        };
        if value.contains_unknown() {
            // Terraform configures with unknowns during plan when the provider
            // block depends on other resources; later calls report it.
            return diags;
        }
        let Some(gate_config) = config::build(&value, &|k| (self.env)(k), &mut diags) else {
            return diags;
        };
        tracing::debug!(config = ?gate_config, "configuring gate client");
        match gate::Client::new(gate_config) {
            Ok(client) => {
                if let Ok(mut slot) = self.client.write() {
                    *slot = Some(Arc::new(client));
                }
            }
            Err(e) => {
                diags.error(
                    "Invalid Spinnaker Client Configuration",
                    format!("Cannot set up the Gate client: {e}"),
                );
            }
        }
        diags
    }

    /// ValidateResourceTypeConfig.
    pub fn validate_resource(&self, type_name: &str, config: &Encoded) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let checked = self.resource(type_name).and_then(|e| {
            let value = decode(config, &e.ty, "configuration")?;
            deprecations(&e.schema.block, &value, &mut diags);
            e.imp.validate(&value, &mut diags);
            Ok(())
        });
        if let Err(d) = checked {
            diags.extend(d);
        }
        diags
    }

    /// ValidateDataSourceConfig.
    pub fn validate_data_source(&self, type_name: &str, config: &Encoded) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let checked = self.data_source(type_name).and_then(|e| {
            let value = decode(config, &e.ty, "configuration")?;
            deprecations(&e.schema.block, &value, &mut diags);
            e.imp.validate(&value, &mut diags);
            Ok(())
        });
        if let Err(d) = checked {
            diags.extend(d);
        }
        diags
    }

    /// UpgradeResourceState: stored JSON state to the current schema.
    pub fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        raw_json: &[u8],
    ) -> Result<Encoded, Diagnostics> {
        let e = self.resource(type_name)?;
        let value = lifecycle::upgrade(e.imp.as_ref(), version, raw_json, &e.ty)?;
        encode(&value, &e.ty)
    }

    /// ReadResource: refreshes state; null when the object is gone.
    pub async fn read_resource(
        &self,
        type_name: &str,
        state: &Encoded,
        private: &[u8],
    ) -> Result<(Encoded, Vec<u8>), Diagnostics> {
        let e = self.resource(type_name)?;
        let state = decode(state, &e.ty, "state")?;
        let ctx = self.ctx(private)?;
        let new = lifecycle::read(e.imp.as_ref(), &ctx, &state).await?;
        Ok((encode(&new, &e.ty)?, private_bytes(&ctx)))
    }

    /// PlanResourceChange.
    pub fn plan_resource_change(
        &self,
        type_name: &str,
        prior: &Encoded,
        proposed: &Encoded,
        config: &Encoded,
        private: &[u8],
    ) -> Result<Planned, Diagnostics> {
        let e = self.resource(type_name)?;
        let prior = decode(prior, &e.ty, "prior state")?;
        let proposed = decode(proposed, &e.ty, "proposed state")?;
        let config = decode(config, &e.ty, "configuration")?;
        let (planned, requires_replace) =
            lifecycle::plan_resource(e.imp.as_ref(), &e.schema.block, &prior, &proposed, &config)?;
        Ok(Planned {
            state: encode(&planned, &e.ty)?,
            requires_replace,
            private: private.to_vec(),
        })
    }

    /// ApplyResourceChange: create, update or delete.
    pub async fn apply_resource_change(
        &self,
        type_name: &str,
        prior: &Encoded,
        planned: &Encoded,
        private: &[u8],
    ) -> Result<(Encoded, Vec<u8>), Diagnostics> {
        let e = self.resource(type_name)?;
        let prior = decode(prior, &e.ty, "prior state")?;
        let planned = decode(planned, &e.ty, "planned state")?;
        let ctx = self.ctx(private)?;
        let new = lifecycle::apply(e.imp.as_ref(), &ctx, &prior, &planned).await?;
        Ok((encode(&new, &e.ty)?, private_bytes(&ctx)))
    }

    /// ImportResourceState.
    pub fn import_resource_state(&self, type_name: &str, id: &str) -> Result<Encoded, Diagnostics> {
        let e = self.resource(type_name)?;
        let value = lifecycle::import(e.imp.as_ref(), id)?;
        encode(&value, &e.ty)
    }

    /// ReadDataSource.
    pub async fn read_data_source(
        &self,
        type_name: &str,
        config: &Encoded,
    ) -> Result<Encoded, Diagnostics> {
        let e = self.data_source(type_name)?;
        let config = decode(config, &e.ty, "configuration")?;
        let ctx = self.ctx(&[])?;
        let name = config
            .attr("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let value = lifecycle::cancellable(&ctx, e.imp.read(&ctx, &config))
            .await
            .map_err(|err| lifecycle::to_diagnostics(err, "reading", type_name, &name))?;
        encode(&value, &e.ty)
    }

    /// StopProvider: cancels work in flight and any that follows.
    pub fn stop(&self) {
        tracing::info!("stop requested; cancelling operations in flight");
        self.cancel.cancel();
    }
}

fn private_bytes(ctx: &Ctx) -> Vec<u8> {
    let private = ctx.take_private();
    if private.is_empty() {
        Vec::new()
    } else {
        serde_json::to_vec(&private).unwrap_or_default()
    }
}

fn unknown_type(kind: &str, name: &str) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.internal(format!(
        "Terraform asked for {kind} type {name:?}, which this provider does not serve"
    ));
    d
}

fn decode(encoded: &Encoded, ty: &Type, what: &str) -> Result<Value, Diagnostics> {
    let result = if !encoded.msgpack.is_empty() {
        decode_msgpack(&encoded.msgpack, ty)
    } else if !encoded.json.is_empty() {
        decode_json(&encoded.json, ty)
    } else {
        return Ok(Value::Null);
    };
    result.map_err(|e| {
        let mut d = Diagnostics::new();
        d.internal(format!("cannot decode the {what} Terraform sent: {e}"));
        d
    })
}

fn encode(value: &Value, ty: &Type) -> Result<Encoded, Diagnostics> {
    encode_msgpack(value, ty)
        .map(|msgpack| Encoded {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|e| {
            let mut d = Diagnostics::new();
            d.internal(format!("cannot encode a value: {e}"));
            d
        })
}

/// Warns about deprecated attributes set in the configuration.
fn deprecations(block: &Block, config: &Value, diags: &mut Diagnostics) {
    for a in &block.attributes {
        if let Some(message) = a.deprecation
            && config.attr(a.name).is_some_and(|v| !v.is_null())
        {
            diags.warning(
                Some(AttributePath::root(a.name)),
                "Deprecated Attribute",
                message,
            );
        }
    }
}
