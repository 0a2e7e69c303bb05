//! The lifecycle rules every `spinnaker_*` resource shares, in one place:
//! planning from schema markers, read-on-404 removes from state,
//! delete-on-404 succeeds, create/update never read back, cancellation by
//! StopProvider, state upgrades, import id parsing, and remote errors
//! turned into diagnostics that name the action, the type and the id.

use std::future::Future;

use crate::diag::{AttributePath, Diagnostics};
use crate::import_id::parse_import_id;
use crate::resource::{Ctx, Resource, ResourceError};
use crate::schema::{Block, Mode};
use crate::value::{Type, Value, decode_json};

/// What a planned change does to the remote object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Create => "creating",
            Action::Update => "updating",
            Action::Delete => "deleting",
        }
    }
}

/// Plans a change from the prior state and Terraform's proposed new state:
/// defaults fill null optional+computed attributes, computed attributes
/// become unknown on create and on a real update (unless marked
/// UseStateForUnknown), and changed RequiresReplace attributes are listed.
pub fn plan(
    block: &Block,
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> (Value, Vec<AttributePath>) {
    if proposed.is_null() {
        return (Value::Null, Vec::new());
    }
    let mut planned = proposed.clone();
    apply_defaults(block, &mut planned, config);
    follow_config_for_single_blocks(block, &mut planned, config);
    if prior.is_null() {
        mark_computed_unknown(block, &mut planned, config, false);
        return (planned, Vec::new());
    }
    if !changed(block, prior, &planned, config) {
        return (planned, Vec::new());
    }
    mark_computed_unknown(block, &mut planned, config, true);
    let mut replace = Vec::new();
    for a in block.attributes.iter().filter(|a| a.requires_replace) {
        if !field(prior, a.name).same(field(&planned, a.name)) {
            replace.push(AttributePath::root(a.name));
        }
    }
    for b in block.blocks.iter().filter(|b| b.requires_replace) {
        if !field(prior, b.name).same(field(&planned, b.name)) {
            replace.push(AttributePath::root(b.name));
        }
    }
    (planned, replace)
}

/// [`plan`] followed by the resource's own [`Resource::modify_plan`] and
/// [`Resource::check_plan`]; errors fail the plan.
pub fn plan_resource(
    res: &dyn Resource,
    block: &Block,
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> Result<(Value, Vec<AttributePath>), Diagnostics> {
    let (mut planned, replace) = plan(block, prior, proposed, config);
    let mut diags = Diagnostics::new();
    if !planned.is_null() {
        planned = res.modify_plan(prior, planned, config);
        res.check_plan(prior, &planned, config, &mut diags);
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok((planned, replace))
    }
}

fn field<'a>(v: &'a Value, name: &str) -> &'a Value {
    v.attr(name).unwrap_or(&Value::Null)
}

/// Terraform up to at least 1.0 proposes the prior value for a single
/// nested block the configuration removed (`ProposedNewObject` returns the
/// prior object when the config is null); a removed block plans as null.
fn follow_config_for_single_blocks(block: &Block, planned: &mut Value, config: &Value) {
    let Value::Object(attrs) = planned else {
        return;
    };
    for b in &block.blocks {
        let wanted = field(config, b.name);
        let Some(planned_block) = attrs.get_mut(b.name) else {
            continue;
        };
        match b.nesting {
            crate::schema::Nesting::Single if wanted.is_null() => *planned_block = Value::Null,
            crate::schema::Nesting::Single => {
                follow_config_for_single_blocks(&b.block, planned_block, wanted);
            }
            crate::schema::Nesting::List => {
                if let (Value::List(items), Some(configured)) =
                    (planned_block, wanted.as_elements())
                {
                    for (item, config_item) in items.iter_mut().zip(configured) {
                        follow_config_for_single_blocks(&b.block, item, config_item);
                    }
                }
            }
            crate::schema::Nesting::Set => {}
        }
    }
}

fn apply_defaults(block: &Block, planned: &mut Value, config: &Value) {
    let Value::Object(attrs) = planned else {
        return;
    };
    for a in &block.attributes {
        if let Some(default) = &a.default
            && field(config, a.name).is_null()
        {
            attrs.insert(a.name.to_owned(), default.clone());
        }
    }
}

/// Whether anything the user controls differs between prior and planned.
fn changed(block: &Block, prior: &Value, planned: &Value, config: &Value) -> bool {
    block.attributes.iter().any(|a| {
        let user_set = match a.mode {
            Mode::Computed => false,
            Mode::OptionalComputed => !field(config, a.name).is_null() || a.default.is_some(),
            Mode::Required | Mode::Optional => true,
        };
        user_set && !field(prior, a.name).same(field(planned, a.name))
    }) || block
        .blocks
        .iter()
        .any(|b| !field(prior, b.name).same(field(planned, b.name)))
}

fn mark_computed_unknown(block: &Block, planned: &mut Value, config: &Value, update: bool) {
    let Value::Object(attrs) = planned else {
        return;
    };
    for a in block
        .attributes
        .iter()
        .filter(|a| a.is_computed() && a.default.is_none())
    {
        if !field(config, a.name).is_null() || (update && a.use_state_for_unknown) {
            continue;
        }
        attrs.insert(a.name.to_owned(), Value::Unknown);
    }
}

/// Runs `fut` unless Terraform stops the provider first.
pub async fn cancellable<T>(
    ctx: &Ctx,
    fut: impl Future<Output = Result<T, ResourceError>>,
) -> Result<T, ResourceError> {
    tokio::select! {
        biased;
        () = ctx.cancel.cancelled() => Err(ResourceError::Diagnostics(Diagnostics::from_error(
            "Operation Cancelled",
            "Terraform asked the provider to stop (for example after Ctrl-C); the operation was abandoned \
             and the remote object may be partly changed. Run `terraform plan` to see where things stand.",
        ))),
        r = fut => r,
    }
}

/// Reads a resource: `None` when it is gone (Terraform then plans a create).
pub async fn read(res: &dyn Resource, ctx: &Ctx, state: &Value) -> Result<Value, Diagnostics> {
    match cancellable(ctx, res.read(ctx, state)).await {
        Ok(Some(new)) => Ok(keep_prior_empties(state, new)),
        Ok(None) | Err(ResourceError::Gate(gate::Error::NotFound { .. })) => {
            tracing::info!(r#type = res.type_name(), id = %res.display_id(state), "gone remotely; removing from state");
            Ok(Value::Null)
        }
        Err(e) => Err(to_diagnostics(
            e,
            "reading",
            res.type_name(),
            &res.display_id(state),
        )),
    }
}

/// Applies a planned change: create, update or delete.
pub async fn apply(
    res: &dyn Resource,
    ctx: &Ctx,
    prior: &Value,
    planned: &Value,
) -> Result<Value, Diagnostics> {
    let (action, target) = match (prior.is_null(), planned.is_null()) {
        (true, true) => return Ok(Value::Null),
        (_, true) => (Action::Delete, prior),
        (true, false) => (Action::Create, planned),
        (false, false) => (Action::Update, planned),
    };
    let id = res.display_id(target);
    let outcome = match action {
        Action::Create => cancellable(ctx, res.create(ctx, planned)).await,
        Action::Update => cancellable(ctx, res.update(ctx, prior, planned)).await,
        Action::Delete => match cancellable(ctx, res.delete(ctx, prior)).await {
            Ok(()) | Err(ResourceError::Gate(gate::Error::NotFound { .. })) => Ok(Value::Null),
            Err(e) => Err(e),
        },
    };
    let new = outcome.map_err(|e| to_diagnostics(e, action.verb(), res.type_name(), &id))?;
    if new.contains_unknown() {
        let mut d = Diagnostics::new();
        d.internal(format!(
            "{} {} ({id}) left a value unknown after apply",
            action.verb(),
            res.type_name()
        ));
        return Err(d);
    }
    Ok(new)
}

/// Imports by id, parsing it against the resource's template.
pub fn import(res: &dyn Resource, id: &str) -> Result<Value, Diagnostics> {
    parse_import_id(res.import_template(), id)
        .map(|parts| res.import(parts))
        .or_else(|e| res.import_by_id(id).ok_or(e))
        .map_err(|e| {
            Diagnostics::from_error(
                "Invalid Import ID",
                format!("Cannot import {}: {e}.", res.type_name()),
            )
        })
}

/// Decodes stored JSON state at schema `version` into the current shape,
/// calling the resource's upgrader for older versions and dropping
/// attributes the current schema no longer has.
pub fn upgrade(
    res: &dyn Resource,
    version: i64,
    raw: &[u8],
    ty: &Type,
) -> Result<Value, Diagnostics> {
    let current = res.schema().version;
    if version == current
        && let Ok(v) = decode_json(raw, ty)
    {
        return Ok(v);
    }
    if version > current {
        return Err(Diagnostics::from_error(
            "State From a Newer Provider",
            format!(
                "{} state has schema version {version}, but this provider knows only up to {current}. Upgrade the provider.",
                res.type_name()
            ),
        ));
    }
    let bad = |e: &dyn std::fmt::Display| {
        Diagnostics::from_error(
            "Unreadable Stored State",
            format!("{} state could not be decoded: {e}", res.type_name()),
        )
    };
    let mut json: serde_json::Value = serde_json::from_slice(raw).map_err(|e| bad(&e))?;
    if version < current {
        json = res.upgrade_state(version, json)?;
    }
    if let (serde_json::Value::Object(map), Type::Object(attrs)) = (&mut json, ty) {
        map.retain(|k, _| attrs.contains_key(k));
    }
    decode_json(json.to_string().as_bytes(), ty).map_err(|e| bad(&e))
}

/// Turns a failure into diagnostics naming the action, the type and the id.
pub fn to_diagnostics(err: ResourceError, action: &str, type_name: &str, id: &str) -> Diagnostics {
    let gate = match err {
        ResourceError::Diagnostics(d) => return d,
        ResourceError::Gate(g) => g,
    };
    let summary = match &gate {
        gate::Error::Unauthenticated { .. } => "Not Authenticated With Spinnaker",
        gate::Error::Forbidden { .. } => "Access Denied by Spinnaker",
        gate::Error::Unreachable { .. } => "Cannot Reach Spinnaker Gate",
        gate::Error::Timeout { .. } => "Spinnaker Gate Timed Out",
        gate::Error::TaskFailed { .. } => "Spinnaker Task Failed",
        gate::Error::BadRequest { .. } => "Spinnaker Rejected the Request",
        gate::Error::RateLimited { .. } => "Spinnaker Rate Limit Exceeded",
        gate::Error::NotFound { .. } => "Not Found in Spinnaker",
        _ => "Spinnaker Gate Error",
    };
    Diagnostics::from_error(summary, format!("{action} {type_name} ({id}): {gate}"))
}

/// Where the prior state held an empty string or collection and the remote
/// object now reports nothing, keeps the prior form, so `x = []` and an
/// absent value from the API do not fight over the plan.
pub fn keep_prior_empties(prior: &Value, new: Value) -> Value {
    match (prior, new) {
        (Value::Object(p), Value::Object(mut n)) => {
            for (k, v) in n.iter_mut() {
                if let Some(pv) = p.get(k) {
                    *v = keep_prior_empties(pv, std::mem::replace(v, Value::Null));
                }
            }
            Value::Object(n)
        }
        (p, Value::Null) if is_empty(p) => p.clone(),
        (_, n) => n,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::List(x) | Value::Set(x) => x.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::schema::{Attribute, Block};

    fn block() -> Block {
        Block::new("test")
            .attribute(Attribute::computed("id", Type::String, "id").use_state_for_unknown())
            .attribute(Attribute::computed(
                "revision",
                Type::Number,
                "changes on update",
            ))
            .attribute(Attribute::required("name", Type::String, "name").requires_replace())
            .attribute(Attribute::optional("note", Type::String, "note"))
            .attribute(
                Attribute::optional("mode", Type::String, "mode").default(Value::string("auto")),
            )
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        let mut m: BTreeMap<String, Value> = ["id", "revision", "name", "note", "mode"]
            .iter()
            .map(|k| (k.to_string(), Value::Null))
            .collect();
        for (k, v) in pairs {
            m.insert(k.to_string(), v.clone());
        }
        Value::Object(m)
    }

    #[test]
    fn create_marks_computed_unknown_and_applies_defaults() {
        let config = obj(&[("name", Value::string("a"))]);
        let (planned, replace) = plan(&block(), &Value::Null, &config, &config);
        assert_eq!(planned.attr("id"), Some(&Value::Unknown));
        assert_eq!(planned.attr("revision"), Some(&Value::Unknown));
        assert_eq!(planned.attr("mode"), Some(&Value::string("auto")));
        assert_eq!(planned.attr("note"), Some(&Value::Null));
        assert!(replace.is_empty());
    }

    #[test]
    fn no_change_plans_prior_state() {
        let prior = obj(&[
            ("id", Value::string("a")),
            ("revision", Value::Number(1.into())),
            ("name", Value::string("a")),
            ("mode", Value::string("auto")),
        ]);
        let config = obj(&[("name", Value::string("a"))]);
        let (planned, replace) = plan(&block(), &prior, &prior, &config);
        assert_eq!(planned, prior);
        assert!(replace.is_empty());
    }

    #[test]
    fn update_keeps_stable_values_and_unknowns_the_rest() {
        let prior = obj(&[
            ("id", Value::string("a")),
            ("revision", Value::Number(1.into())),
            ("name", Value::string("a")),
            ("mode", Value::string("auto")),
        ]);
        let config = obj(&[("name", Value::string("a")), ("note", Value::string("hi"))]);
        let mut proposed = prior.clone();
        if let Value::Object(m) = &mut proposed {
            m.insert("note".into(), Value::string("hi"));
        }
        let (planned, replace) = plan(&block(), &prior, &proposed, &config);
        assert_eq!(planned.attr("id"), Some(&Value::string("a")));
        assert_eq!(planned.attr("revision"), Some(&Value::Unknown));
        assert!(replace.is_empty());
    }

    #[test]
    fn requires_replace_is_reported() {
        let prior = obj(&[
            ("id", Value::string("a")),
            ("name", Value::string("a")),
            ("mode", Value::string("auto")),
        ]);
        let config = obj(&[("name", Value::string("b"))]);
        let mut proposed = prior.clone();
        if let Value::Object(m) = &mut proposed {
            m.insert("name".into(), Value::string("b"));
        }
        let (_, replace) = plan(&block(), &prior, &proposed, &config);
        assert_eq!(replace, vec![AttributePath::root("name")]);
    }

    #[test]
    fn destroy_plans_null() {
        let prior = obj(&[("name", Value::string("a"))]);
        assert_eq!(
            plan(&block(), &prior, &Value::Null, &Value::Null).0,
            Value::Null
        );
    }

    /// A resource at schema version 1 that renamed `title` to `name`.
    struct Renamed;

    #[async_trait::async_trait]
    impl Resource for Renamed {
        fn type_name(&self) -> &'static str {
            "spinnaker_test"
        }
        fn schema(&self) -> crate::schema::Schema {
            crate::schema::Schema::new(
                1,
                Block::new("test").attribute(Attribute::required("name", Type::String, "name")),
            )
        }
        fn import_template(&self) -> &'static str {
            "<name>"
        }
        fn display_id(&self, _: &Value) -> String {
            "x".into()
        }
        async fn read(&self, _: &Ctx, _: &Value) -> Result<Option<Value>, ResourceError> {
            Ok(None)
        }
        async fn create(&self, _: &Ctx, planned: &Value) -> Result<Value, ResourceError> {
            Ok(planned.clone())
        }
        async fn update(
            &self,
            _: &Ctx,
            _: &Value,
            planned: &Value,
        ) -> Result<Value, ResourceError> {
            Ok(planned.clone())
        }
        async fn delete(&self, _: &Ctx, _: &Value) -> Result<(), ResourceError> {
            Err(ResourceError::Gate(gate::Error::NotFound {
                message: "gone".into(),
            }))
        }
        fn import(&self, parts: Vec<String>) -> Value {
            Value::Object(BTreeMap::from([(
                "name".to_owned(),
                Value::String(parts.concat()),
            )]))
        }
        fn upgrade_state(
            &self,
            version: i64,
            mut state: serde_json::Value,
        ) -> Result<serde_json::Value, Diagnostics> {
            assert_eq!(version, 0);
            if let Some(map) = state.as_object_mut()
                && let Some(title) = map.remove("title")
            {
                map.insert("name".into(), title);
            }
            Ok(state)
        }
    }

    fn ctx() -> Ctx {
        let client =
            gate::Client::new(gate::Config::new("http://127.0.0.1:9".parse().unwrap())).unwrap();
        Ctx::new(
            std::sync::Arc::new(client),
            tokio_util::sync::CancellationToken::new(),
            Default::default(),
        )
    }

    #[test]
    fn state_upgraders_run_for_older_versions() {
        let ty = Renamed.schema().block.implied_type();
        let v = upgrade(&Renamed, 0, br#"{"title":"shop","dropped":1}"#, &ty).unwrap();
        assert_eq!(v.attr("name"), Some(&Value::string("shop")));
        let v = upgrade(&Renamed, 1, br#"{"name":"shop"}"#, &ty).unwrap();
        assert_eq!(v.attr("name"), Some(&Value::string("shop")));
        let err = upgrade(&Renamed, 2, br#"{"name":"shop"}"#, &ty).unwrap_err();
        assert_eq!(err.0[0].summary, "State From a Newer Provider");
    }

    #[tokio::test]
    async fn stop_cancels_work_in_flight() {
        let ctx = ctx();
        let cancel = ctx.cancel.clone();
        let pending = cancellable(&ctx, async {
            futures::future::pending::<()>().await;
            Ok(())
        });
        cancel.cancel();
        match pending.await {
            Err(ResourceError::Diagnostics(d)) => assert_eq!(d.0[0].summary, "Operation Cancelled"),
            other => panic!("expected cancellation, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn delete_of_a_missing_object_succeeds_and_import_parses_ids() {
        let prior = Renamed.import(vec!["shop".into()]);
        assert_eq!(
            apply(&Renamed, &ctx(), &prior, &Value::Null).await.unwrap(),
            Value::Null
        );
        let err = import(&Renamed, "a/b").unwrap_err();
        assert_eq!(err.0[0].summary, "Invalid Import ID");
        assert!(
            err.0[0].detail.contains("\"<name>\"") && err.0[0].detail.contains("\"a/b\""),
            "{err}"
        );
    }

    #[test]
    fn empties_in_prior_survive_absent_remote_values() {
        let prior = obj(&[("note", Value::string(""))]);
        let new = obj(&[]);
        assert_eq!(
            keep_prior_empties(&prior, new).attr("note"),
            Some(&Value::string(""))
        );
    }
}
