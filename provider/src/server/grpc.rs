//! The tfplugin5 `Provider` service: decodes wire messages into domain calls
//! on `SpinnakerProvider` and encodes the results. The only code that
//! touches the generated tfplugin5 types.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::proto::tfplugin5 as pb;
use crate::diag::{AttributePath, Diagnostics, PathStep, Severity};
use crate::provider::{Encoded, SpinnakerProvider};
use crate::schema::{Block, Mode, Nesting, Schema};

/// The service implementation.
pub(crate) struct Tf5 {
    pub provider: Arc<SpinnakerProvider>,
}

fn encoded(v: Option<pb::DynamicValue>) -> Encoded {
    v.map(|d| Encoded {
        msgpack: d.msgpack,
        json: d.json,
    })
    .unwrap_or_default()
}

fn dynamic(e: Encoded) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: e.msgpack,
        json: e.json,
    })
}

pub(crate) fn path(p: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::{Step, step::Selector};
    pb::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| Step {
                selector: Some(match s {
                    PathStep::Attribute(a) => Selector::AttributeName(a.clone()),
                    PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

pub(crate) fn diagnostics(d: Diagnostics) -> Vec<pb::Diagnostic> {
    d.0.into_iter()
        .map(|d| pb::Diagnostic {
            severity: match d.severity {
                Severity::Error => pb::diagnostic::Severity::Error,
                Severity::Warning => pb::diagnostic::Severity::Warning,
            } as i32,
            summary: d.summary,
            detail: d.detail,
            attribute: d.path.as_ref().map(path),
        })
        .collect()
}

fn block(b: &Block) -> pb::schema::Block {
    use pb::schema::nested_block::NestingMode;
    pb::schema::Block {
        version: 0,
        attributes: b
            .attributes
            .iter()
            .map(|a| pb::schema::Attribute {
                name: a.name.to_owned(),
                r#type: a.ty.to_json_bytes(),
                description: a.description.to_owned(),
                required: a.mode == Mode::Required,
                optional: matches!(a.mode, Mode::Optional | Mode::OptionalComputed),
                computed: a.is_computed(),
                sensitive: a.sensitive,
                description_kind: pb::StringKind::Markdown as i32,
                deprecated: a.deprecation.is_some(),
            })
            .collect(),
        block_types: b
            .blocks
            .iter()
            .map(|n| pb::schema::NestedBlock {
                type_name: n.name.to_owned(),
                block: Some(block(&n.block)),
                nesting: match n.nesting {
                    Nesting::Single => NestingMode::Single,
                    Nesting::List => NestingMode::List,
                    Nesting::Set => NestingMode::Set,
                } as i32,
                min_items: n.min_items,
                max_items: n.max_items,
            })
            .collect(),
        description: b.description.to_owned(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: b.deprecation.is_some(),
    }
}

fn schema(s: &Schema) -> pb::Schema {
    let mut b = block(&s.block);
    b.version = s.version;
    pb::Schema {
        version: s.version,
        block: Some(b),
    }
}

/// The GetProviderSchema response, as sent on the wire.
pub(crate) fn provider_schema(p: &SpinnakerProvider) -> pb::get_provider_schema::Response {
    let s = p.schemas();
    pb::get_provider_schema::Response {
        provider: Some(schema(s.provider)),
        resource_schemas: s
            .resources
            .iter()
            .map(|(k, v)| ((*k).to_owned(), schema(v)))
            .collect(),
        data_source_schemas: s
            .data_sources
            .iter()
            .map(|(k, v)| ((*k).to_owned(), schema(v)))
            .collect(),
        diagnostics: Vec::new(),
        provider_meta: None,
    }
}

fn block_json(b: &pb::schema::Block) -> serde_json::Value {
    serde_json::json!({
        "version": b.version,
        "description": b.description,
        "description_kind": b.description_kind().as_str_name(),
        "deprecated": b.deprecated,
        "attributes": b.attributes.iter().map(|a| serde_json::json!({
            "name": a.name,
            "type": serde_json::from_slice::<serde_json::Value>(&a.r#type).unwrap_or_default(),
            "description": a.description,
            "description_kind": a.description_kind().as_str_name(),
            "required": a.required,
            "optional": a.optional,
            "computed": a.computed,
            "sensitive": a.sensitive,
            "deprecated": a.deprecated,
        })).collect::<Vec<_>>(),
        "block_types": b.block_types.iter().map(|n| serde_json::json!({
            "type_name": n.type_name,
            "nesting": n.nesting().as_str_name(),
            "min_items": n.min_items,
            "max_items": n.max_items,
            "block": n.block.as_ref().map(block_json),
        })).collect::<Vec<_>>(),
    })
}

fn schema_json(s: &pb::Schema) -> serde_json::Value {
    serde_json::json!({"version": s.version, "block": s.block.as_ref().map(block_json)})
}

/// The GetProviderSchema response as JSON, field for field as sent (type
/// bytes shown as the JSON they hold), for the schema snapshot test.
pub(crate) fn provider_schema_json(p: &SpinnakerProvider) -> serde_json::Value {
    let r = provider_schema(p);
    serde_json::json!({
        "provider": r.provider.as_ref().map(schema_json),
        "resource_schemas": r.resource_schemas.iter().map(|(k, v)| (k.clone(), schema_json(v))).collect::<serde_json::Map<_, _>>(),
        "data_source_schemas": r.data_source_schemas.iter().map(|(k, v)| (k.clone(), schema_json(v))).collect::<serde_json::Map<_, _>>(),
        "diagnostics": r.diagnostics.len(),
    })
}

#[tonic::async_trait]
impl pb::provider_server::Provider for Tf5 {
    async fn get_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        Ok(Response::new(provider_schema(&self.provider)))
    }

    async fn prepare_provider_config(
        &self,
        req: Request<pb::prepare_provider_config::Request>,
    ) -> Result<Response<pb::prepare_provider_config::Response>, Status> {
        let config = encoded(req.into_inner().config);
        let (prepared, diags) = match self.provider.validate_provider_config(&config) {
            Ok(c) => (dynamic(c), Diagnostics::new()),
            Err(d) => (dynamic(config), d),
        };
        Ok(Response::new(pb::prepare_provider_config::Response {
            prepared_config: prepared,
            diagnostics: diagnostics(diags),
        }))
    }

    async fn validate_resource_type_config(
        &self,
        req: Request<pb::validate_resource_type_config::Request>,
    ) -> Result<Response<pb::validate_resource_type_config::Response>, Status> {
        let req = req.into_inner();
        let diags = self
            .provider
            .validate_resource(&req.type_name, &encoded(req.config));
        Ok(Response::new(pb::validate_resource_type_config::Response {
            diagnostics: diagnostics(diags),
        }))
    }

    async fn validate_data_source_config(
        &self,
        req: Request<pb::validate_data_source_config::Request>,
    ) -> Result<Response<pb::validate_data_source_config::Response>, Status> {
        let req = req.into_inner();
        let diags = self
            .provider
            .validate_data_source(&req.type_name, &encoded(req.config));
        Ok(Response::new(pb::validate_data_source_config::Response {
            diagnostics: diagnostics(diags),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = req.into_inner();
        let raw = req.raw_state.unwrap_or_default();
        let result = if raw.json.is_empty() && !raw.flatmap.is_empty() {
            Err(Diagnostics::from_error(
                "Unsupported Legacy State",
                format!(
                    "{} state is in the pre-0.12 flatmap format, which this provider never wrote. Remove it from state and import it again.",
                    req.type_name
                ),
            ))
        } else {
            self.provider
                .upgrade_resource_state(&req.type_name, req.version, &raw.json)
        };
        let (upgraded, diags) = split(result);
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: upgraded.and_then(dynamic),
            diagnostics: diagnostics(diags),
        }))
    }

    async fn configure(
        &self,
        req: Request<pb::configure::Request>,
    ) -> Result<Response<pb::configure::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(terraform_version = %req.terraform_version, "configure");
        let diags = self.provider.configure(&encoded(req.config));
        Ok(Response::new(pb::configure::Response {
            diagnostics: diagnostics(diags),
        }))
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = req.into_inner();
        let current = encoded(req.current_state);
        let result = self
            .provider
            .read_resource(&req.type_name, &current, &req.private)
            .await;
        Ok(Response::new(match result {
            Ok((state, private)) => pb::read_resource::Response {
                new_state: dynamic(state),
                diagnostics: Vec::new(),
                private,
            },
            // On failure Terraform keeps what it had.
            Err(d) => pb::read_resource::Response {
                new_state: dynamic(current),
                diagnostics: diagnostics(d),
                private: req.private,
            },
        }))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = req.into_inner();
        let result = self.provider.plan_resource_change(
            &req.type_name,
            &encoded(req.prior_state),
            &encoded(req.proposed_new_state),
            &encoded(req.config),
            &req.prior_private,
        );
        Ok(Response::new(match result {
            Ok(p) => pb::plan_resource_change::Response {
                planned_state: dynamic(p.state),
                requires_replace: p.requires_replace.iter().map(path).collect(),
                planned_private: p.private,
                diagnostics: Vec::new(),
                legacy_type_system: false,
            },
            Err(d) => pb::plan_resource_change::Response {
                diagnostics: diagnostics(d),
                ..Default::default()
            },
        }))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = req.into_inner();
        let prior = encoded(req.prior_state);
        let result = self
            .provider
            .apply_resource_change(
                &req.type_name,
                &prior,
                &encoded(req.planned_state),
                &req.planned_private,
            )
            .await;
        Ok(Response::new(match result {
            Ok((state, private)) => pb::apply_resource_change::Response {
                new_state: dynamic(state),
                private,
                diagnostics: Vec::new(),
                legacy_type_system: false,
            },
            // A failed apply leaves the prior object in place as far as we know.
            Err(d) => pb::apply_resource_change::Response {
                new_state: dynamic(prior),
                private: Vec::new(),
                diagnostics: diagnostics(d),
                legacy_type_system: false,
            },
        }))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = req.into_inner();
        let (state, diags) = split(self.provider.import_resource_state(&req.type_name, &req.id));
        let imported_resources = state
            .map(|s| pb::import_resource_state::ImportedResource {
                type_name: req.type_name.clone(),
                state: dynamic(s),
                private: Vec::new(),
            })
            .into_iter()
            .collect();
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources,
            diagnostics: diagnostics(diags),
        }))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = req.into_inner();
        let (state, diags) = split(
            self.provider
                .read_data_source(&req.type_name, &encoded(req.config))
                .await,
        );
        Ok(Response::new(pb::read_data_source::Response {
            state: state.and_then(dynamic),
            diagnostics: diagnostics(diags),
        }))
    }

    async fn stop(
        &self,
        _: Request<pb::stop::Request>,
    ) -> Result<Response<pb::stop::Response>, Status> {
        self.provider.stop();
        Ok(Response::new(pb::stop::Response {
            error: String::new(),
        }))
    }
}

fn split<T>(r: Result<T, Diagnostics>) -> (Option<T>, Diagnostics) {
    match r {
        Ok(v) => (Some(v), Diagnostics::new()),
        Err(d) => (None, d),
    }
}
