//! The one catalogue of the typed HCL shape of a pipeline, and its codecs to pipeline JSON.
//!
//! Every typed block the provider and the CLI know — the trigger blocks (`webhook_trigger`,
//! `cron_trigger`, ...), the stage blocks (`wait_stage`, `manual_judgment_stage`, ...,
//! `custom_stage`), the pipeline-level blocks (`parameter`, `notification`, `locked`) and their
//! nested blocks (`precondition`, `restricted_execution_window`, `scope`, ...) — is described
//! here once, as data: a [`BlockSpec`] with its HCL name, its JSON `type`, its [`AttrSpec`]s
//! (HCL snake_case name, JSON path, [`Kind`], required, sensitive, description) and its nested
//! [`NestedSpec`]s. The provider's schema, its encode/decode, the CLI's HCL writer and reader and
//! the docs all read this catalogue; no other copy of attribute names exists.
//!
//! Values travel as a neutral tree, [`BlockValue`]: attribute values are `serde_json::Value`s
//! (null when unset) keyed by HCL name, nested blocks are lists keyed by block name.
//!
//! * [`decode`] reads only the modelled fields of a JSON object.
//! * [`encode`] overlays the modelled fields onto the live object, so fields the UI or
//!   Spinnaker added stay. An attribute that is null is removed from the JSON. Where the live
//!   value already decodes to the wanted value it is left byte-for-byte as it is (so `"75"` stays
//!   a string, refId `1` stays a number, `requisiteStageRefIds: []` stays when `depends_on` is
//!   unset).
//! * [`pipeline`] applies both to a whole pipeline: typed triggers and stages, the
//!   infrastructure boundary, stage order and merging onto the live pipeline.
//!
//! # Documented normalisations
//!
//! `decode` reads empty strings, empty lists and empty maps as null; numbers written as strings
//! (`"75"`) as numbers; refIds written as numbers as strings; booleans written as `"true"` as
//! booleans. `encode` with the live object reproduces the live representation of each of these.
//! Of `restrictedExecutionWindow`, only a window switched on (`restrictExecutionDuringTimeWindow:
//! true`) is decoded.

mod codec;
mod common;
pub mod pipeline;
mod pipeline_level;
mod stages;
mod triggers;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::Value as Json;

pub use codec::{DecodeError, decode, encode};

/// The HCL type of an attribute and how its JSON is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// `string`; JSON string (numbers and booleans read as their text).
    String,
    /// `number`; JSON number (numeric strings read as numbers).
    Number,
    /// `bool`; JSON boolean (`"true"`/`"false"` read as booleans).
    Bool,
    /// `list(string)`; JSON array of strings.
    StringList,
    /// `list(number)`; JSON array of numbers.
    NumberList,
    /// `map(string)`; JSON object of strings.
    StringMap,
    /// `string` holding JSON text in HCL (`jsonencode(...)`); any JSON value in the pipeline.
    /// The neutral value is the JSON value itself.
    Json,
    /// `string` in HCL: a number or a `${...}` expression. JSON number when the text is a
    /// number, JSON string otherwise. The neutral value is the text.
    NumberOrExpression,
}

impl Kind {
    /// The Terraform type expression, e.g. `list(string)`.
    pub fn terraform_type(self) -> &'static str {
        match self {
            Kind::String | Kind::Json | Kind::NumberOrExpression => "string",
            Kind::Number => "number",
            Kind::Bool => "bool",
            Kind::StringList => "list(string)",
            Kind::NumberList => "list(number)",
            Kind::StringMap => "map(string)",
        }
    }
}

/// How an attribute maps onto the JSON beyond "the value at `path`".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Codec {
    /// The value at the path.
    Plain,
    /// The value at the path, inside an object that also carries `tag_key: tag`; a null value
    /// removes the whole object. (`stage_enabled_expression` → `stageEnabled {type, expression}`.)
    Tagged {
        /// The discriminating key of the enclosing object.
        tag_key: &'static str,
        /// Its value.
        tag: &'static str,
    },
    /// `list(string)` ↔ `[{<key>: "a"}, ...]` (`judgment_inputs` → `judgmentInputs[].value`).
    ValueObjects {
        /// The key inside each object.
        key: &'static str,
    },
    /// `map(string)` ↔ `{<when>: {text: "..."}}` (notification messages).
    TextMessages,
    /// A timeout in milliseconds at the path, plus Deck's `overrideTimeout: true`.
    TimeoutMs,
    /// Present in HCL only; the caller resolves it (e.g. `pipeline_name` → `pipeline` id).
    HclOnly,
    /// Every JSON key no other attribute or block of the block models (`custom_stage.json`).
    Rest,
}

/// One attribute of a block.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrSpec {
    /// The HCL name, snake_case.
    pub name: &'static str,
    /// The JSON path inside the block's object (empty for [`Codec::HclOnly`] and
    /// [`Codec::Rest`]).
    pub path: &'static [&'static str],
    /// Its type.
    pub kind: Kind,
    /// The user must set it.
    pub required: bool,
    /// Secret: hidden in plans and never logged.
    pub sensitive: bool,
    /// Markdown description for the schema and the docs.
    pub description: &'static str,
    /// How it maps onto JSON.
    pub codec: Codec,
}

impl AttrSpec {
    /// An optional attribute stored at `path`.
    pub const fn new(
        name: &'static str,
        path: &'static [&'static str],
        kind: Kind,
        description: &'static str,
    ) -> Self {
        AttrSpec {
            name,
            path,
            kind,
            required: false,
            sensitive: false,
            description,
            codec: Codec::Plain,
        }
    }

    /// Makes it required.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Makes it sensitive.
    pub const fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Sets the codec.
    pub const fn codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }

    /// The JSON path as text, e.g. `canaryConfig.scoreThresholds.pass`.
    pub fn json_path(&self) -> String {
        self.path.join(".")
    }
}

/// How often a nested block may appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// At most once; a JSON object.
    Single,
    /// Any number of times, in order; a JSON array of objects.
    List,
}

/// A nested block of a block.
#[derive(Debug, Clone, PartialEq)]
pub struct NestedSpec {
    /// The nested block's own spec (its `name` is the HCL block name).
    pub block: BlockSpec,
    /// The JSON path of the object (or array of objects).
    pub path: &'static [&'static str],
    /// Once or many times.
    pub nesting: Nesting,
    /// For [`Nesting::Single`]: a JSON boolean that switches the object on
    /// (`restrictExecutionDuringTimeWindow` for `restrictedExecutionWindow`).
    pub flag: Option<&'static str>,
}

/// Where a block lives in the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Category {
    /// The pipeline itself (top-level attributes).
    Pipeline,
    /// A pipeline-level block (`parameter`, `notification`, `locked`).
    PipelineBlock,
    /// A trigger block: one entry of `triggers`.
    Trigger,
    /// A stage block: one entry of `stages`.
    Stage,
    /// A block nested inside another.
    Nested,
}

/// A typed block: its HCL name, JSON type, attributes and nested blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockSpec {
    /// The HCL block name, e.g. `wait_stage`.
    pub name: &'static str,
    /// The JSON `type` a trigger or stage of this block has (`None` for `custom_stage`, whose
    /// `type` is an attribute, and for non-trigger/stage blocks).
    pub json_type: Option<&'static str>,
    /// Where the block lives.
    pub category: Category,
    /// Markdown description.
    pub description: &'static str,
    /// Attributes, in documentation order.
    pub attributes: Vec<AttrSpec>,
    /// Nested blocks.
    pub blocks: Vec<NestedSpec>,
}

impl BlockSpec {
    pub(crate) fn new(
        name: &'static str,
        json_type: Option<&'static str>,
        category: Category,
        description: &'static str,
    ) -> Self {
        BlockSpec {
            name,
            json_type,
            category,
            description,
            attributes: Vec::new(),
            blocks: Vec::new(),
        }
    }

    pub(crate) fn attrs(mut self, attrs: impl IntoIterator<Item = AttrSpec>) -> Self {
        self.attributes.extend(attrs);
        self
    }

    pub(crate) fn nested(
        mut self,
        block: BlockSpec,
        path: &'static [&'static str],
        nesting: Nesting,
    ) -> Self {
        self.blocks.push(NestedSpec {
            block,
            path,
            nesting,
            flag: None,
        });
        self
    }

    pub(crate) fn flagged(
        mut self,
        block: BlockSpec,
        path: &'static [&'static str],
        flag: &'static str,
    ) -> Self {
        self.blocks.push(NestedSpec {
            block,
            path,
            nesting: Nesting::Single,
            flag: Some(flag),
        });
        self
    }

    /// An attribute by HCL name.
    pub fn attribute(&self, name: &str) -> Option<&AttrSpec> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// A nested block by HCL name.
    pub fn nested_block(&self, name: &str) -> Option<&NestedSpec> {
        self.blocks.iter().find(|b| b.block.name == name)
    }

    /// The HCL name of the attribute or nested block stored at JSON key `key` of this block's
    /// object (the first segment of its path), for mapping JSON paths back to HCL paths.
    pub fn hcl_name_for_json_key(&self, key: &str) -> Option<&'static str> {
        if key == "stageTimeoutMs" || key == "overrideTimeout" {
            return self
                .attributes
                .iter()
                .find(|a| a.codec == Codec::TimeoutMs)
                .map(|a| a.name);
        }
        self.attributes
            .iter()
            .find(|a| a.path.first() == Some(&key))
            .map(|a| a.name)
            .or_else(|| {
                self.blocks
                    .iter()
                    .find(|b| b.path.first() == Some(&key) || b.flag == Some(key))
                    .map(|b| b.block.name)
            })
    }

    /// The top-level JSON keys this block models (used by [`Codec::Rest`]).
    pub fn modelled_keys(&self) -> Vec<&'static str> {
        let mut keys = vec!["type"];
        for a in &self.attributes {
            match a.codec {
                Codec::TimeoutMs => keys.extend(["stageTimeoutMs", "overrideTimeout"]),
                Codec::HclOnly | Codec::Rest => {}
                _ => keys.extend(a.path.first().copied()),
            }
        }
        for b in &self.blocks {
            keys.extend(b.path.first().copied());
            keys.extend(b.flag);
        }
        keys
    }
}

/// The value of one block in the neutral tree.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BlockValue {
    /// Attribute values by HCL name (`Json::Null` when unset).
    pub attributes: BTreeMap<String, Json>,
    /// Nested blocks by HCL name, in order (empty when absent).
    pub blocks: BTreeMap<String, Vec<BlockValue>>,
}

impl BlockValue {
    /// An attribute's value (`Null` when unset).
    pub fn get(&self, name: &str) -> &Json {
        self.attributes.get(name).unwrap_or(&Json::Null)
    }

    /// A string attribute.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.get(name).as_str()
    }

    /// Sets an attribute.
    pub fn set(&mut self, name: &str, value: Json) {
        self.attributes.insert(name.to_owned(), value);
    }

    /// The instances of a nested block.
    pub fn nested(&self, name: &str) -> &[BlockValue] {
        self.blocks.get(name).map(Vec::as_slice).unwrap_or_default()
    }
}

struct Catalogue {
    pipeline: BlockSpec,
    triggers: Vec<BlockSpec>,
    stages: Vec<BlockSpec>,
    custom: BlockSpec,
}

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| Catalogue {
    pipeline: pipeline_level::pipeline(),
    triggers: triggers::all(),
    stages: stages::all(),
    custom: stages::custom(),
});

/// The pipeline itself: top-level attributes and the `parameter`, `notification` and `locked`
/// blocks (triggers and stages are in [`triggers`] and [`stages`]).
pub fn pipeline_block() -> &'static BlockSpec {
    &CATALOGUE.pipeline
}

/// Every trigger block, in documentation order.
pub fn triggers() -> &'static [BlockSpec] {
    &CATALOGUE.triggers
}

/// Every stage block, in documentation order; `custom_stage` is last.
pub fn stages() -> &'static [BlockSpec] {
    &CATALOGUE.stages
}

/// The trigger block for a JSON trigger `type`.
pub fn trigger_for_type(json_type: &str) -> Option<&'static BlockSpec> {
    triggers().iter().find(|b| b.json_type == Some(json_type))
}

/// The typed stage block for a JSON stage `type` (`None` for types only `custom_stage` covers).
pub fn stage_for_type(json_type: &str) -> Option<&'static BlockSpec> {
    stages().iter().find(|b| b.json_type == Some(json_type))
}

/// The `custom_stage` escape hatch.
pub fn custom_stage() -> &'static BlockSpec {
    &CATALOGUE.custom
}

/// The HCL name of the escape-hatch stage block.
pub const CUSTOM_STAGE: &str = "custom_stage";

/// The computed top-level attributes of `spinnaker_pipeline`: what Spinnaker or the provider
/// sets, never user intent (tools reading configuration or plans skip them).
pub const COMPUTED_ATTRIBUTES: &[&str] = &[
    "id",
    "update_ts",
    "json",
    "unmanaged_stages",
    "unmanaged_triggers",
];

/// Any top-level block (trigger or stage) by HCL name.
pub fn block_by_name(name: &str) -> Option<&'static BlockSpec> {
    triggers()
        .iter()
        .chain(stages())
        .chain(CATALOGUE.pipeline.blocks.iter().map(|n| &n.block))
        .find(|b| b.name == name)
}
