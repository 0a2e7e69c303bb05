//! The `spinnaker_pipeline` schema, built from the block catalogue in `pipeline::blocks`: the
//! catalogue's attributes and blocks become Terraform attributes and nested list blocks, plus
//! the computed `id`, `update_ts`, `json`, `unmanaged_stages` and `unmanaged_triggers`.

use pipeline::blocks::{self, AttrSpec, BlockSpec, Codec, Kind, Nesting};

use crate::schema::{Attribute, Block, NestedBlock, Schema};
use crate::value::Type;

/// The Terraform type of a catalogue attribute kind.
pub(crate) fn kind_type(kind: Kind) -> Type {
    match kind {
        Kind::Number => Type::Number,
        Kind::Bool => Type::Bool,
        Kind::StringList => Type::list(Type::String),
        Kind::NumberList => Type::list(Type::Number),
        Kind::StringMap => Type::map(Type::String),
        _ => Type::String,
    }
}

fn attribute(spec: &AttrSpec, upstream: bool) -> Attribute {
    let ty = kind_type(spec.kind);
    let a = if upstream {
        // The upstream pipeline is named by id or by name; read fills in both.
        Attribute::optional_computed(spec.name, ty, spec.description)
    } else if spec.required {
        Attribute::required(spec.name, ty, spec.description)
    } else {
        Attribute::optional(spec.name, ty, spec.description)
    };
    if spec.sensitive { a.sensitive() } else { a }
}

/// The Terraform block of a catalogue block (attributes and nested blocks, recursively).
pub(crate) fn block(spec: &BlockSpec) -> Block {
    let mut b = Block::new(spec.description);
    let resolved = spec.attributes.iter().any(|a| a.codec == Codec::HclOnly);
    for a in &spec.attributes {
        let upstream = resolved && (a.codec == Codec::HclOnly || a.name == "pipeline");
        b = b.attribute(attribute(a, upstream));
    }
    for n in &spec.blocks {
        let inner = block(&n.block);
        b = b.block(match n.nesting {
            Nesting::Single => NestedBlock::single(n.block.name, inner),
            Nesting::List => NestedBlock::list(n.block.name, inner),
        });
    }
    b
}

/// The type of one `unmanaged_stages` entry.
pub(crate) fn unmanaged_type() -> Type {
    Type::Object(
        [
            ("ref_id".to_owned(), Type::String),
            ("type".to_owned(), Type::String),
            ("name".to_owned(), Type::String),
        ]
        .into_iter()
        .collect(),
    )
}

/// The type of one `unmanaged_triggers` entry.
pub(crate) fn unmanaged_trigger_type() -> Type {
    Type::Object(
        [
            ("type".to_owned(), Type::String),
            ("enabled".to_owned(), Type::Bool),
        ]
        .into_iter()
        .collect(),
    )
}

/// The resource schema.
pub fn schema() -> Schema {
    let top = blocks::pipeline_block();
    let mut b = Block::new(
        "A Spinnaker pipeline config with typed triggers and non-infrastructure stages. \
         Infrastructure stages (deploys, server groups, load balancers, ...) are not declared here: \
         those that exist in Spinnaker are kept on every write and listed in `unmanaged_stages`. \
         Triggers of types without a block are kept the same way and listed in `unmanaged_triggers`. \
         Fields the schema does not model, added in Deck or by Spinnaker, are kept too.",
    )
    .attribute(
        Attribute::computed(
            "id",
            Type::String,
            "The pipeline config id: a UUID the provider generates on create and keeps across renames.",
        )
        .use_state_for_unknown(),
    );
    for a in &top.attributes {
        let attr = attribute(a, false);
        b = b.attribute(if a.name == "application" {
            attr.requires_replace()
        } else {
            attr
        });
    }
    b = b
        .attribute(Attribute::computed(
            "update_ts",
            Type::String,
            "Front50's `updateTs` (epoch milliseconds) of the last write; apply refuses to overwrite a pipeline whose `updateTs` changed since the plan.",
        ))
        .attribute(
            Attribute::computed(
                "json",
                Type::String,
                "The pipeline JSON the provider last sent to Gate. Sensitive, because triggers can carry secrets (e.g. `git_trigger.secret`).",
            )
            .sensitive(),
        )
        .attribute(
            Attribute::computed(
                "unmanaged_stages",
                Type::list(unmanaged_type()),
                "Infrastructure stages present in Spinnaker but not declared here (`ref_id`, `type`, `name`). They are preserved on every write; declared stages may depend on them by `ref_id`.",
            )
            .use_state_for_unknown(),
        )
        .attribute(
            Attribute::computed(
                "unmanaged_triggers",
                Type::list(unmanaged_trigger_type()),
                "Triggers present in Spinnaker whose type has no block here (e.g. `artifactory`, `helm`, `concourse`), with `type` and `enabled`. Like unmanaged stages they are kept as they are on every write and never shown as drift; change or remove them in Deck.",
            )
            .use_state_for_unknown(),
        );
    for n in &top.blocks {
        let inner = block(&n.block);
        b = b.block(match n.nesting {
            Nesting::Single => NestedBlock::single(n.block.name, inner),
            Nesting::List => NestedBlock::list(n.block.name, inner),
        });
    }
    for spec in blocks::triggers().iter().chain(blocks::stages()) {
        b = b.block(NestedBlock::list(spec.name, block(spec)));
    }
    Schema::new(0, b)
}
