//! The pipeline itself: top-level attributes (reference §2.1) and the `parameter` (§2.2),
//! `notification` (§2.3) and `locked` blocks.

use super::common::notification;
use super::{AttrSpec, BlockSpec, Category, Codec, Kind, Nesting};

fn parameter() -> BlockSpec {
    BlockSpec::new(
        "parameter",
        None,
        Category::PipelineBlock,
        "A pipeline parameter (`parameterConfig`), read by expressions as `parameters['<name>']`.",
    )
    .attrs([
        AttrSpec::new(
            "name",
            &["name"],
            Kind::String,
            "Parameter key; unique in the pipeline.",
        )
        .required(),
        AttrSpec::new(
            "label",
            &["label"],
            Kind::String,
            "Label in the run dialog.",
        ),
        AttrSpec::new("description", &["description"], Kind::String, "Help text."),
        AttrSpec::new(
            "default",
            &["default"],
            Kind::String,
            "Value used when the trigger does not supply one.",
        ),
        AttrSpec::new(
            "required",
            &["required"],
            Kind::Bool,
            "Gate refuses a run without a value when there is no default.",
        ),
        AttrSpec::new(
            "pinned",
            &["pinned"],
            Kind::Bool,
            "Show the parameter in the manual run dialog even when collapsed.",
        ),
        AttrSpec::new(
            "has_options",
            &["hasOptions"],
            Kind::Bool,
            "Offer `options` as a drop-down.",
        ),
        AttrSpec::new(
            "options",
            &["options"],
            Kind::StringList,
            "The values of the drop-down.",
        )
        .codec(Codec::ValueObjects { key: "value" }),
    ])
}

fn locked() -> BlockSpec {
    BlockSpec::new(
        "locked",
        None,
        Category::PipelineBlock,
        "Locks the pipeline against edits in Deck (only Deck honours it).",
    )
    .attrs([
        AttrSpec::new("ui", &["ui"], Kind::Bool, "Lock editing in Deck."),
        AttrSpec::new(
            "allow_unlock_ui",
            &["allowUnlockUi"],
            Kind::Bool,
            "Let users unlock it in Deck.",
        ),
        AttrSpec::new(
            "description",
            &["description"],
            Kind::String,
            "Why it is locked.",
        ),
    ])
}

/// The pipeline's top-level block.
pub(crate) fn pipeline() -> BlockSpec {
    BlockSpec::new(
        "spinnaker_pipeline",
        None,
        Category::Pipeline,
        "A Spinnaker pipeline config.",
    )
    .attrs([
        AttrSpec::new(
            "application",
            &["application"],
            Kind::String,
            "Application that owns the pipeline. Changing it replaces the pipeline.",
        )
        .required(),
        AttrSpec::new(
            "name",
            &["name"],
            Kind::String,
            "Pipeline name, unique in the application ignoring case. Renaming keeps the pipeline's id.",
        )
        .required(),
        AttrSpec::new(
            "description",
            &["description"],
            Kind::String,
            "Free text shown in Deck.",
        ),
        AttrSpec::new(
            "disabled",
            &["disabled"],
            Kind::Bool,
            "A disabled pipeline cannot be started, by hand or by a trigger.",
        ),
        AttrSpec::new(
            "limit_concurrent",
            &["limitConcurrent"],
            Kind::Bool,
            "Run at most one execution at a time; later ones wait (unset counts as false).",
        ),
        AttrSpec::new(
            "keep_waiting_pipelines",
            &["keepWaitingPipelines"],
            Kind::Bool,
            "Keep every waiting execution and run them in order, instead of only the newest.",
        ),
        AttrSpec::new(
            "max_concurrent_executions",
            &["maxConcurrentExecutions"],
            Kind::Number,
            "With `limit_concurrent = false`: at most this many running executions (0 = unlimited).",
        ),
        AttrSpec::new(
            "spel_evaluator",
            &["spelEvaluator"],
            Kind::String,
            "Expression evaluator version: `v4` (recommended) or `v3`.",
        ),
        AttrSpec::new(
            "expected_artifacts",
            &["expectedArtifacts"],
            Kind::Json,
            "Expected artifacts as JSON text (a list of `{id, displayName, matchArtifact, defaultArtifact, useDefaultArtifact, usePriorArtifact}`).",
        ),
    ])
    .nested(parameter(), &["parameterConfig"], Nesting::List)
    .nested(
        notification("A pipeline-level notification (reference §2.3)."),
        &["notifications"],
        Nesting::List,
    )
    .nested(locked(), &["locked"], Nesting::Single)
}
