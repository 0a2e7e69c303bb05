//! What changes inside one `spinnaker_pipeline`: top-level fields, stages (matched by
//! `ref_id`), triggers and pipeline-level blocks (matched by position, parameters by name),
//! field by field, plus boundary warnings and the stage graph after the change.
//!
//! Block and attribute names come from `pipeline::blocks`, the catalogue the provider's schema
//! is built from, so the review speaks the same names as the `.tf` files.

use std::collections::{BTreeMap, BTreeSet};

use pipeline::blocks::{self, Category};
use pipeline::model::ref_id_string;
use pipeline::stage_types;
use serde_json::Value as Json;

use super::plan::{Action, ResourceChange};
use crate::graph::{Diagram, Mark, Node};

/// Computed attributes of the resource that are not user intent.
const COMPUTED: &[&str] = pipeline::blocks::COMPUTED_ATTRIBUTES;

/// Value shown for something unknown until apply.
pub const UNKNOWN: &str = "(known after apply)";
/// Value shown for something sensitive.
pub const SENSITIVE: &str = "(sensitive value)";

/// One field's before and after, as display text (`None`: unset).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldChange {
    /// HCL path inside the item, e.g. `restricted_execution_window[0].days`.
    pub field: String,
    /// Before.
    pub before: Option<String>,
    /// After.
    pub after: Option<String>,
}

/// Added, removed or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemAction {
    /// New.
    Added,
    /// Gone.
    Removed,
    /// Fields differ.
    Changed,
}

/// A stage, trigger or pipeline-level block that changes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ItemChange {
    /// The HCL block, e.g. `manual_judgment_stage`.
    pub block: String,
    /// How it is identified: the stage `ref_id`, the parameter name, or `#n` (1-based).
    pub key: String,
    /// Its display name (stage name, trigger type, ...).
    pub name: String,
    /// What happens.
    pub action: ItemAction,
    /// Field-level changes (every set field for added and removed items).
    pub fields: Vec<FieldChange>,
}

/// The review of one `spinnaker_pipeline` resource change.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PipelineChange {
    /// Resource address.
    pub address: String,
    /// Application (after, else before).
    pub application: String,
    /// Pipeline name (after, else before).
    pub name: String,
    /// What Terraform does.
    pub action: Action,
    /// Top-level attribute changes.
    pub fields: Vec<FieldChange>,
    /// Stage changes.
    pub stages: Vec<ItemChange>,
    /// Trigger changes.
    pub triggers: Vec<ItemChange>,
    /// `parameter`, `notification` and `locked` changes.
    pub blocks: Vec<ItemChange>,
    /// Boundary and safety warnings.
    pub warnings: Vec<String>,
    /// The stage DAG after the change, removed stages included and marked.
    pub graph: Diagram,
}

/// One block instance of one side of the change.
struct Item<'a> {
    block: &'static str,
    /// Full path prefix, e.g. `wait_stage[1]`.
    prefix: String,
    key: String,
    value: &'a serde_json::Map<String, Json>,
}

/// Which group an item belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Stage,
    Trigger,
    PipelineBlock,
}

fn items(object: &Json, group: Group) -> Vec<Item<'_>> {
    let Some(map) = object.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, value) in map {
        let Some(list) = value.as_array() else {
            continue;
        };
        let (block, in_group): (&'static str, bool) = match blocks::block_by_name(key) {
            Some(spec) => (
                spec.name,
                match spec.category {
                    Category::Stage => group == Group::Stage,
                    Category::Trigger => group == Group::Trigger,
                    _ => group == Group::PipelineBlock,
                },
            ),
            None => continue,
        };
        if !in_group {
            continue;
        }
        for (i, entry) in list.iter().enumerate() {
            let Some(value) = entry.as_object() else {
                continue;
            };
            let key = match group {
                Group::Stage => value
                    .get("ref_id")
                    .and_then(ref_id_string)
                    .unwrap_or_else(|| format!("#{}", i + 1)),
                Group::PipelineBlock if block == "parameter" => value
                    .get("name")
                    .and_then(Json::as_str)
                    .map_or_else(|| format!("#{}", i + 1), str::to_owned),
                _ => format!("#{}", i + 1),
            };
            out.push(Item {
                block,
                prefix: format!("{key_name}[{i}]", key_name = block),
                key,
                value,
            });
        }
    }
    out
}

/// Leaves of a JSON value as `path → value`, skipping nulls and empty lists.
fn leaves(prefix: &str, value: &Json, out: &mut BTreeMap<String, Json>) {
    match value {
        Json::Null => {}
        Json::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&path, v, out);
            }
        }
        Json::Array(items) if items.is_empty() => {}
        Json::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
            for (i, v) in items.iter().enumerate() {
                leaves(&format!("{prefix}[{i}]"), v, out);
            }
        }
        other => {
            out.insert(prefix.to_owned(), other.clone());
        }
    }
}

/// Paths marked `true` in a sensitivity or unknown mirror.
fn marked(prefix: &str, mirror: &Json, out: &mut BTreeSet<String>) {
    match mirror {
        Json::Bool(true) => {
            out.insert(prefix.to_owned());
        }
        Json::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                marked(&path, v, out);
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                marked(&format!("{prefix}[{i}]"), v, out);
            }
        }
        _ => {}
    }
}

fn covered(set: &BTreeSet<String>, path: &str) -> bool {
    set.iter().any(|m| {
        path == m
            || path
                .strip_prefix(m.as_str())
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
    })
}

/// Display text of a value: strings quoted, JSON text for the rest, long values shortened.
pub fn show(value: &Json) -> String {
    let text = value.to_string();
    const MAX: usize = 160;
    if text.chars().count() > MAX {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// Context for one side's marks: full-path sets of sensitive and unknown values.
struct Marks {
    before_sensitive: BTreeSet<String>,
    after_sensitive: BTreeSet<String>,
    after_unknown: BTreeSet<String>,
}

impl Marks {
    fn new(change: &ResourceChange) -> Marks {
        let set = |mirror: &Json| {
            let mut s = BTreeSet::new();
            marked("", mirror, &mut s);
            s
        };
        Marks {
            before_sensitive: set(&change.before_sensitive),
            after_sensitive: set(&change.after_sensitive),
            after_unknown: set(&change.after_unknown),
        }
    }
}

/// Field changes between two objects whose full paths start with the given prefixes.
fn field_changes(
    before: Option<(&str, &serde_json::Map<String, Json>)>,
    after: Option<(&str, &serde_json::Map<String, Json>)>,
    marks: &Marks,
    skip: &[&str],
) -> Vec<FieldChange> {
    let collect = |side: Option<(&str, &serde_json::Map<String, Json>)>| {
        let mut out = BTreeMap::new();
        if let Some((_, map)) = side {
            for (k, v) in map {
                if !skip.contains(&k.as_str()) {
                    leaves(k, v, &mut out);
                }
            }
        }
        out
    };
    let b = collect(before);
    let mut a = collect(after);
    let full = |prefix: Option<&str>, field: &str| match prefix {
        Some(p) if !p.is_empty() => format!("{p}.{field}"),
        _ => field.to_owned(),
    };
    let before_prefix = before.map(|(p, _)| p);
    let after_prefix = after.map(|(p, _)| p);
    // Values unknown until apply are absent from `after`; bring them in.
    if let Some(prefix) = after_prefix {
        let lead = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}.")
        };
        for path in &marks.after_unknown {
            if let Some(field) = path.strip_prefix(&lead)
                && !field.is_empty()
                && !skip.iter().any(|s| {
                    field == *s
                        || field.starts_with(&format!("{s}."))
                        || field.starts_with(&format!("{s}["))
                })
            {
                a.insert(field.to_owned(), Json::String(UNKNOWN.to_owned()));
            }
        }
    }
    let fields: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    let mut out = Vec::new();
    for field in fields {
        let bv = b.get(field);
        let av = a.get(field);
        let after_unknown =
            after_prefix.is_some_and(|p| covered(&marks.after_unknown, &full(Some(p), field)));
        if bv == av && !after_unknown {
            continue;
        }
        let before_secret =
            before_prefix.is_some_and(|p| covered(&marks.before_sensitive, &full(Some(p), field)));
        let after_secret =
            after_prefix.is_some_and(|p| covered(&marks.after_sensitive, &full(Some(p), field)));
        if before_secret && after_secret && bv == av {
            continue;
        }
        let render = |v: Option<&Json>, secret: bool, unknown: bool| {
            if unknown {
                Some(UNKNOWN.to_owned())
            } else {
                v.map(|v| {
                    if secret {
                        SENSITIVE.to_owned()
                    } else {
                        show(v)
                    }
                })
            }
        };
        out.push(FieldChange {
            field: field.clone(),
            before: render(bv, before_secret, false),
            after: render(av, after_secret, after_unknown),
        });
    }
    out
}

fn item_name(item: &Item<'_>) -> String {
    let text = |k: &str| item.value.get(k).and_then(Json::as_str).map(str::to_owned);
    text("name").or_else(|| text("type")).unwrap_or_default()
}

fn item_changes(before: &[Item<'_>], after: &[Item<'_>], marks: &Marks) -> Vec<ItemChange> {
    let mut out = changes_in_plan_order(before, after, marks);
    out.sort_by(|a, b| {
        if a.block.ends_with("_stage") && b.block.ends_with("_stage") {
            pipeline::model::compare_ref_ids(&a.key, &b.key)
        } else {
            (a.block.as_str(), a.key.as_str()).cmp(&(b.block.as_str(), b.key.as_str()))
        }
    });
    out
}

fn changes_in_plan_order(
    before: &[Item<'_>],
    after: &[Item<'_>],
    marks: &Marks,
) -> Vec<ItemChange> {
    let mut out = Vec::new();
    let find = |list: &[Item<'_>], block: &str, key: &str| {
        list.iter().position(|i| {
            i.key == key
                && (i.block == block || block.ends_with("_stage") && i.block.ends_with("_stage"))
        })
    };
    for a in after {
        match find(before, a.block, &a.key).and_then(|i| before.get(i)) {
            Some(b) => {
                let mut fields = Vec::new();
                if b.block != a.block {
                    fields.push(FieldChange {
                        field: "(block)".into(),
                        before: Some(b.block.to_owned()),
                        after: Some(a.block.to_owned()),
                    });
                }
                fields.extend(field_changes(
                    Some((&b.prefix, b.value)),
                    Some((&a.prefix, a.value)),
                    marks,
                    &[],
                ));
                if !fields.is_empty() {
                    out.push(ItemChange {
                        block: a.block.to_owned(),
                        key: a.key.clone(),
                        name: item_name(a),
                        action: ItemAction::Changed,
                        fields,
                    });
                }
            }
            None => out.push(ItemChange {
                block: a.block.to_owned(),
                key: a.key.clone(),
                name: item_name(a),
                action: ItemAction::Added,
                fields: field_changes(None, Some((&a.prefix, a.value)), marks, &[]),
            }),
        }
    }
    for b in before {
        if find(after, b.block, &b.key).is_none() {
            out.push(ItemChange {
                block: b.block.to_owned(),
                key: b.key.clone(),
                name: item_name(b),
                action: ItemAction::Removed,
                fields: field_changes(Some((&b.prefix, b.value)), None, marks, &[]),
            });
        }
    }
    out
}

/// The stage type of a stage block instance.
fn stage_type(block: &str, value: &serde_json::Map<String, Json>) -> String {
    match blocks::block_by_name(block).and_then(|s| s.json_type) {
        Some(t) => t.to_owned(),
        None => value
            .get("type")
            .and_then(Json::as_str)
            .unwrap_or(block)
            .to_owned(),
    }
}

fn depends_on(value: &serde_json::Map<String, Json>) -> Vec<String> {
    value
        .get("depends_on")
        .and_then(Json::as_array)
        .map(|l| l.iter().filter_map(ref_id_string).collect())
        .unwrap_or_default()
}

/// Unmanaged infrastructure stages of the live pipeline, from `unmanaged_stages`; their
/// dependencies come from the `json` last sent when it still holds them.
fn unmanaged(before: &Json) -> Vec<Node> {
    let sent: Vec<serde_json::Map<String, Json>> = before
        .get("json")
        .and_then(Json::as_str)
        .and_then(|t| serde_json::from_str::<Json>(t).ok())
        .and_then(|live| live.get("stages").and_then(Json::as_array).cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|s| s.as_object().cloned())
        .collect();
    let parents = |ref_id: &str| {
        sent.iter()
            .find(|s| s.get("refId").and_then(ref_id_string).as_deref() == Some(ref_id))
            .and_then(|s| s.get("requisiteStageRefIds").and_then(Json::as_array))
            .map(|l| l.iter().filter_map(ref_id_string).collect())
            .unwrap_or_default()
    };
    let listed = before.get("unmanaged_stages").and_then(Json::as_array);
    match listed {
        Some(list) => list
            .iter()
            .filter_map(Json::as_object)
            .map(|s| {
                let text = |k: &str| s.get(k).and_then(ref_id_string).unwrap_or_default();
                let ref_id = text("ref_id");
                Node {
                    depends_on: parents(&ref_id),
                    ref_id,
                    name: text("name"),
                    stage_type: text("type"),
                    mark: Mark::Unmanaged,
                }
            })
            .collect(),
        // Older state without the list: the infrastructure stages of the JSON last sent.
        None => sent
            .iter()
            .filter(|s| {
                s.get("type")
                    .and_then(Json::as_str)
                    .is_some_and(stage_types::is_infrastructure)
            })
            .map(|s| {
                let text = |k: &str| s.get(k).and_then(ref_id_string).unwrap_or_default();
                let ref_id = text("refId");
                Node {
                    depends_on: parents(&ref_id),
                    ref_id,
                    name: text("name"),
                    stage_type: text("type"),
                    mark: Mark::Unmanaged,
                }
            })
            .collect(),
    }
}

fn text_of(object: &Json, key: &str) -> Option<String> {
    object.get(key).and_then(Json::as_str).map(str::to_owned)
}

/// Reviews one `spinnaker_pipeline` change.
pub fn pipeline_change(change: &ResourceChange) -> PipelineChange {
    let marks = Marks::new(change);
    let (before, after) = (&change.before, &change.after);
    let fields = field_changes(
        before.as_object().map(|m| ("", m)),
        after.as_object().map(|m| ("", m)),
        &marks,
        &top_level_skip(),
    )
    .into_iter()
    .filter(|f| !COMPUTED.contains(&f.field.as_str()))
    .collect();
    let stages_before = items(before, Group::Stage);
    let stages_after = items(after, Group::Stage);
    let stages = item_changes(&stages_before, &stages_after, &marks);
    let triggers = item_changes(
        &items(before, Group::Trigger),
        &items(after, Group::Trigger),
        &marks,
    );
    let blocks = item_changes(
        &items(before, Group::PipelineBlock),
        &items(after, Group::PipelineBlock),
        &marks,
    );
    let unmanaged = unmanaged(before);
    let graph = graph(
        change.action,
        &stages_before,
        &stages_after,
        &stages,
        &unmanaged,
    );
    let mut review = PipelineChange {
        address: change.address.clone(),
        application: text_of(after, "application")
            .or_else(|| text_of(before, "application"))
            .unwrap_or_default(),
        name: text_of(after, "name")
            .or_else(|| text_of(before, "name"))
            .unwrap_or_default(),
        action: change.action,
        fields,
        stages,
        triggers,
        blocks,
        warnings: Vec::new(),
        graph,
    };
    review.warnings = warnings(change, &review, &stages_before, &stages_after, &unmanaged);
    review
}

/// Top-level keys that are blocks (reviewed as items, not fields).
fn top_level_skip() -> Vec<&'static str> {
    let mut skip: Vec<&'static str> = blocks::triggers()
        .iter()
        .chain(blocks::stages())
        .map(|b| b.name)
        .collect();
    skip.extend(blocks::pipeline_block().blocks.iter().map(|n| n.block.name));
    skip.extend(COMPUTED);
    skip
}

fn graph(
    action: Action,
    before: &[Item<'_>],
    after: &[Item<'_>],
    changes: &[ItemChange],
    unmanaged: &[Node],
) -> Diagram {
    let mark_of = |key: &str| {
        changes
            .iter()
            .find(|c| c.key == key)
            .map_or(Mark::Unchanged, |c| match c.action {
                ItemAction::Added => Mark::Added,
                ItemAction::Changed => Mark::Changed,
                ItemAction::Removed => Mark::Removed,
            })
    };
    let mut nodes: Vec<Node> = Vec::new();
    let mut before: Vec<&Item<'_>> = before.iter().collect();
    let mut after: Vec<&Item<'_>> = after.iter().collect();
    before.sort_by(|a, b| pipeline::model::compare_ref_ids(&a.key, &b.key));
    after.sort_by(|a, b| pipeline::model::compare_ref_ids(&a.key, &b.key));
    let node = |item: &Item<'_>, mark: Mark| Node {
        ref_id: item.key.clone(),
        name: item
            .value
            .get("name")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned(),
        stage_type: stage_type(item.block, item.value),
        depends_on: depends_on(item.value),
        mark,
    };
    if action == Action::Destroy {
        nodes.extend(before.iter().map(|i| node(i, Mark::Removed)));
    } else {
        nodes.extend(after.iter().map(|i| {
            let mark = if action == Action::Create {
                Mark::Added
            } else {
                mark_of(&i.key)
            };
            node(i, mark)
        }));
        nodes.extend(
            before
                .iter()
                .filter(|b| !after.iter().any(|a| a.key == b.key))
                .map(|i| node(i, Mark::Removed)),
        );
    }
    for u in unmanaged {
        if !nodes.iter().any(|n| n.ref_id == u.ref_id) {
            let mut u = u.clone();
            if action == Action::Destroy {
                u.mark = Mark::Removed;
            }
            nodes.push(u);
        }
    }
    Diagram { nodes }
}

fn warnings(
    change: &ResourceChange,
    review: &PipelineChange,
    before: &[Item<'_>],
    after: &[Item<'_>],
    unmanaged: &[Node],
) -> Vec<String> {
    let mut out = Vec::new();
    let list = |nodes: &[&Node]| {
        nodes
            .iter()
            .map(|n| format!("`{}` {:?} ({})", n.ref_id, n.name, n.stage_type))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let infra: Vec<&Node> = unmanaged.iter().collect();
    match change.action {
        Action::Destroy if !infra.is_empty() => out.push(format!(
            "Destroying the pipeline also deletes its {} infrastructure stage(s) that Terraform does not manage: {}.",
            infra.len(),
            list(&infra)
        )),
        Action::Replace => {
            out.push(
                "Replacement deletes the pipeline and creates a new one with a new id: pipeline triggers and pipeline stages elsewhere that refer to it by id stop matching, and its execution history stays with the old id."
                    .to_owned(),
            );
            if !infra.is_empty() {
                out.push(format!(
                    "The live pipeline has {} infrastructure stage(s) that are not in the configuration and will be lost with the old pipeline: {}.",
                    infra.len(),
                    list(&infra)
                ));
            }
        }
        Action::Update if !infra.is_empty() => out.push(format!(
            "{} infrastructure stage(s) in the live pipeline stay unmanaged and are kept as they are: {}.",
            infra.len(),
            list(&infra)
        )),
        _ => {}
    }
    if change.action == Action::Destroy {
        return out;
    }
    let after_ids: BTreeSet<String> = after
        .iter()
        .map(|i| i.key.clone())
        .chain(unmanaged.iter().map(|n| n.ref_id.clone()))
        .collect();
    for removed in review
        .stages
        .iter()
        .filter(|s| s.action == ItemAction::Removed)
    {
        let dependants: Vec<String> = before
            .iter()
            .filter(|b| depends_on(b.value).contains(&removed.key) && after_ids.contains(&b.key))
            .map(|b| format!("`{}`", b.key))
            .collect();
        if !dependants.is_empty() {
            out.push(format!(
                "Stage `{}` {:?} is removed; in the live pipeline stage(s) {} waited for it, so they now start earlier.",
                removed.key,
                removed.name,
                dependants.join(", ")
            ));
        }
    }
    for a in after {
        for parent in depends_on(a.value) {
            if !after_ids.contains(&parent) {
                out.push(format!(
                    "Stage `{}` depends on `{parent}`, which is neither declared nor an unmanaged stage of the live pipeline.",
                    a.key
                ));
            }
        }
    }
    out
}
