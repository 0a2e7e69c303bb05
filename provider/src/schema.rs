//! The schema builder: blocks, attributes and nested blocks, each of which
//! must be given a description when it is constructed, plus the
//! provider-side plan behaviour of each attribute (RequiresReplace,
//! UseStateForUnknown, defaults).

use crate::value::{Type, Value};

/// A resource, data source or provider schema with its version.
#[derive(Clone, Debug)]
pub struct Schema {
    /// Bumped when stored state needs an upgrade; see `Resource::upgrade_state`.
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

impl Schema {
    /// A schema at `version`.
    pub fn new(version: i64, block: Block) -> Self {
        Schema { version, block }
    }
}

/// Whether the user sets an attribute, Terraform computes it, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The user must set it.
    Required,
    /// The user may set it; null otherwise.
    Optional,
    /// The user may set it; the provider fills it otherwise.
    OptionalComputed,
    /// Only the provider sets it.
    Computed,
}

/// One attribute.
#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: Type,
    pub description: &'static str,
    pub mode: Mode,
    pub sensitive: bool,
    /// Set when deprecated: the message naming the replacement.
    pub deprecation: Option<&'static str>,
    /// A change to this attribute replaces the resource.
    pub requires_replace: bool,
    /// A computed value stays as in state during updates instead of
    /// becoming "(known after apply)".
    pub use_state_for_unknown: bool,
    /// Planned when the configuration leaves an optional+computed attribute null.
    pub default: Option<Value>,
}

impl Attribute {
    fn new(name: &'static str, ty: Type, mode: Mode, description: &'static str) -> Self {
        Attribute {
            name,
            ty,
            description,
            mode,
            sensitive: false,
            deprecation: None,
            requires_replace: false,
            use_state_for_unknown: false,
            default: None,
        }
    }

    /// An attribute the user must set.
    pub fn required(name: &'static str, ty: Type, description: &'static str) -> Self {
        Self::new(name, ty, Mode::Required, description)
    }

    /// An attribute the user may set.
    pub fn optional(name: &'static str, ty: Type, description: &'static str) -> Self {
        Self::new(name, ty, Mode::Optional, description)
    }

    /// An attribute only the provider sets.
    pub fn computed(name: &'static str, ty: Type, description: &'static str) -> Self {
        Self::new(name, ty, Mode::Computed, description)
    }

    /// An attribute the user may set and the provider fills in otherwise.
    pub fn optional_computed(name: &'static str, ty: Type, description: &'static str) -> Self {
        Self::new(name, ty, Mode::OptionalComputed, description)
    }

    /// Marks the value secret: Terraform hides it in output.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Marks the attribute deprecated; `message` names the replacement.
    pub fn deprecated(mut self, message: &'static str) -> Self {
        self.deprecation = Some(message);
        self
    }

    /// A change replaces the resource.
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }

    /// Keeps the prior value during updates (for stable computed values).
    pub fn use_state_for_unknown(mut self) -> Self {
        self.use_state_for_unknown = true;
        self
    }

    /// The value planned when the configuration leaves it null. Makes the
    /// attribute optional+computed.
    pub fn default(mut self, value: Value) -> Self {
        self.default = Some(value);
        self.mode = Mode::OptionalComputed;
        self
    }

    /// Whether Terraform may take the value from the provider.
    pub fn is_computed(&self) -> bool {
        matches!(self.mode, Mode::Computed | Mode::OptionalComputed)
    }
}

/// How a nested block repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// At most one, null when absent.
    Single,
    /// An ordered list.
    List,
    /// An unordered set.
    Set,
}

/// A nested block type.
#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub name: &'static str,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
    /// A change inside the block replaces the resource.
    pub requires_replace: bool,
}

impl NestedBlock {
    /// A block written at most once.
    pub fn single(name: &'static str, block: Block) -> Self {
        NestedBlock {
            name,
            nesting: Nesting::Single,
            block,
            min_items: 0,
            max_items: 0,
            requires_replace: false,
        }
    }

    /// A block written any number of times, kept in order.
    pub fn list(name: &'static str, block: Block) -> Self {
        NestedBlock {
            nesting: Nesting::List,
            ..Self::single(name, block)
        }
    }

    /// A block written any number of times, unordered.
    pub fn set(name: &'static str, block: Block) -> Self {
        NestedBlock {
            nesting: Nesting::Set,
            ..Self::single(name, block)
        }
    }

    /// Bounds on how often a list or set block appears (0 = unbounded).
    pub fn items(mut self, min: i64, max: i64) -> Self {
        self.min_items = min;
        self.max_items = max;
        self
    }

    /// The type of the block's value in the enclosing object.
    pub fn ty(&self) -> Type {
        let inner = self.block.implied_type();
        match self.nesting {
            Nesting::Single => inner,
            Nesting::List => Type::list(inner),
            Nesting::Set => Type::set(inner),
        }
    }
}

/// A block: attributes and nested blocks, described for users.
#[derive(Clone, Debug)]
pub struct Block {
    pub description: &'static str,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    /// Set when deprecated: the message naming the replacement.
    pub deprecation: Option<&'static str>,
}

impl Block {
    /// An object of this block's attributes, all null except `pairs` (a configuration as
    /// Terraform sends it, for tests).
    #[cfg(test)]
    pub(crate) fn object_with(&self, pairs: &[(&str, Value)]) -> Value {
        let mut object: std::collections::BTreeMap<String, Value> = self
            .attributes
            .iter()
            .map(|a| (a.name.to_owned(), Value::Null))
            .collect();
        for (name, value) in pairs {
            object.insert((*name).to_owned(), value.clone());
        }
        Value::Object(object)
    }

    /// An empty block with its description (Markdown).
    pub fn new(description: &'static str) -> Self {
        Block {
            description,
            attributes: Vec::new(),
            blocks: Vec::new(),
            deprecation: None,
        }
    }

    /// Adds an attribute.
    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// Adds a nested block.
    pub fn block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    /// The object type values of this block have.
    pub fn implied_type(&self) -> Type {
        let attrs = self
            .attributes
            .iter()
            .map(|a| (a.name.to_owned(), a.ty.clone()))
            .chain(self.blocks.iter().map(|b| (b.name.to_owned(), b.ty())))
            .collect();
        Type::Object(attrs)
    }

    /// The names of all attributes and nested blocks.
    pub fn field_names(&self) -> Vec<String> {
        self.attributes
            .iter()
            .map(|a| a.name)
            .chain(self.blocks.iter().map(|b| b.name))
            .map(str::to_owned)
            .collect()
    }

    /// An attribute by name.
    pub fn get(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Every description in this block and below that is empty, as paths;
    /// the builder takes descriptions as arguments, and this catches `""`.
    pub fn missing_descriptions(&self, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        if self.description.trim().is_empty() {
            out.push(if path.is_empty() {
                "(block)".to_owned()
            } else {
                path.to_owned()
            });
        }
        for a in &self.attributes {
            if a.description.trim().is_empty() {
                out.push(format!("{path}{}", a.name));
            }
        }
        for b in &self.blocks {
            out.extend(b.block.missing_descriptions(&format!("{path}{}.", b.name)));
        }
        out
    }
}
