//! The parts several blocks share: the common stage options (reference §3.1), the
//! `notification` block (§2.3) and the common trigger fields (§4.1).

use super::{AttrSpec, BlockSpec, Category, Codec, Kind, Nesting};

/// The `notification` block, at pipeline or stage level.
pub(crate) fn notification(level_hint: &'static str) -> BlockSpec {
    BlockSpec::new("notification", None, Category::Nested, level_hint).attrs([
        AttrSpec::new(
            "type",
            &["type"],
            Kind::String,
            "Notification channel: `email`, `slack`, `sms`, `pubsub`, `googlechat`, `microsoftteams`, `githubstatus`, ...",
        )
        .required(),
        AttrSpec::new(
            "address",
            &["address"],
            Kind::String,
            "Where to send it: an email address, a Slack channel, a topic, ...",
        ),
        AttrSpec::new("cc", &["cc"], Kind::String, "Email carbon copy addresses."),
        AttrSpec::new(
            "level",
            &["level"],
            Kind::String,
            "`pipeline` or `stage`, as Deck writes it.",
        ),
        AttrSpec::new(
            "when",
            &["when"],
            Kind::StringList,
            "Events: `pipeline.starting`, `pipeline.complete`, `pipeline.failed`, `stage.starting`, `stage.complete`, `stage.failed`, `manualJudgment`, `manualJudgmentContinue`, `manualJudgmentStop`.",
        ),
        AttrSpec::new(
            "message",
            &["message"],
            Kind::StringMap,
            "Custom message text per event, e.g. `{ \"pipeline.failed\" = \"...\" }` (stored as `message.<event>.text`).",
        )
        .codec(Codec::TextMessages),
    ])
}

fn restricted_execution_window() -> BlockSpec {
    let whitelist = BlockSpec::new(
        "whitelist",
        None,
        Category::Nested,
        "An allowed time range within a day (in the Spinnaker server's time zone).",
    )
    .attrs([
        AttrSpec::new(
            "start_hour",
            &["startHour"],
            Kind::Number,
            "Start hour, 0-23.",
        )
        .required(),
        AttrSpec::new(
            "start_min",
            &["startMin"],
            Kind::Number,
            "Start minute, 0-59.",
        )
        .required(),
        AttrSpec::new("end_hour", &["endHour"], Kind::Number, "End hour, 0-23.").required(),
        AttrSpec::new("end_min", &["endMin"], Kind::Number, "End minute, 0-59.").required(),
    ]);
    let jitter = BlockSpec::new(
        "jitter",
        None,
        Category::Nested,
        "A random delay added once the window opens.",
    )
    .attrs([
        AttrSpec::new(
            "enabled",
            &["enabled"],
            Kind::Bool,
            "Whether to add the delay.",
        ),
        AttrSpec::new(
            "min_delay",
            &["minDelay"],
            Kind::Number,
            "Shortest delay, in seconds.",
        ),
        AttrSpec::new(
            "max_delay",
            &["maxDelay"],
            Kind::Number,
            "Longest delay, in seconds.",
        ),
        AttrSpec::new(
            "skip_manual",
            &["skipManual"],
            Kind::Bool,
            "Skip the delay for manually started executions.",
        ),
    ]);
    BlockSpec::new(
        "restricted_execution_window",
        None,
        Category::Nested,
        "Run the stage only inside these time windows (sets `restrictExecutionDuringTimeWindow` and `restrictedExecutionWindow`).",
    )
    .attrs([AttrSpec::new(
        "days",
        &["days"],
        Kind::NumberList,
        "Days of the week the stage may run, 1 = Sunday ... 7 = Saturday. Unset means every day.",
    )])
    .nested(whitelist, &["whitelist"], Nesting::List)
    .nested(jitter, &["jitter"], Nesting::Single)
}

/// Adds `ref_id`, `name`, `depends_on` and the execution options of reference §3.1 to a
/// stage block.
pub(crate) fn stage(block: BlockSpec) -> BlockSpec {
    let head = [
        AttrSpec::new(
            "ref_id",
            &["refId"],
            Kind::String,
            "The stage's id within the pipeline, chosen by you; `depends_on` of other stages refers to it. Keep it stable: executions and UI links use it.",
        )
        .required(),
        AttrSpec::new(
            "name",
            &["name"],
            Kind::String,
            "Display name; `#stage('name')` and `#judgment('name')` find the stage by it.",
        )
        .required(),
        AttrSpec::new(
            "depends_on",
            &["requisiteStageRefIds"],
            Kind::StringList,
            "`ref_id`s of the stages that must complete first (declared or unmanaged stages). Unset means the stage starts with the pipeline.",
        ),
    ];
    let tail = [
        AttrSpec::new(
            "stage_enabled_expression",
            &["stageEnabled", "expression"],
            Kind::String,
            "SpEL condition (without `${}`) evaluated just before the stage starts; when false the stage is skipped. For example `#judgment('Approve') == 'deploy'`.",
        )
        .codec(Codec::Tagged {
            tag_key: "type",
            tag: "expression",
        }),
        AttrSpec::new(
            "fail_pipeline",
            &["failPipeline"],
            Kind::Bool,
            "On failure, halt the whole pipeline (Orca's default when unset is `true`).",
        ),
        AttrSpec::new(
            "continue_pipeline",
            &["continuePipeline"],
            Kind::Bool,
            "On failure, mark the stage FAILED_CONTINUE and run downstream stages anyway.",
        ),
        AttrSpec::new(
            "complete_other_branches_then_fail",
            &["completeOtherBranchesThenFail"],
            Kind::Bool,
            "On failure, halt this branch, let other branches finish, then fail the pipeline.",
        ),
        AttrSpec::new(
            "fail_on_failed_expressions",
            &["failOnFailedExpressions"],
            Kind::Bool,
            "Fail the stage when any of its `${...}` expressions cannot be evaluated.",
        ),
        AttrSpec::new(
            "stage_timeout_ms",
            &["stageTimeoutMs"],
            Kind::Number,
            "Overall stage timeout in milliseconds (also sets Deck's `overrideTimeout`).",
        )
        .codec(Codec::TimeoutMs),
        AttrSpec::new(
            "send_notifications",
            &["sendNotifications"],
            Kind::Bool,
            "Send the stage's `notification`s.",
        ),
        AttrSpec::new(
            "comments",
            &["comments"],
            Kind::String,
            "Free text shown with the stage in Deck.",
        ),
    ];
    let mut out = BlockSpec::new(
        block.name,
        block.json_type,
        Category::Stage,
        block.description,
    );
    out.attributes.extend(head);
    out.attributes.extend(block.attributes);
    out.attributes.extend(tail);
    out.blocks.extend(block.blocks);
    out.flagged(
        restricted_execution_window(),
        &["restrictedExecutionWindow"],
        "restrictExecutionDuringTimeWindow",
    )
    .nested(
        notification("A stage-level notification (reference §2.3)."),
        &["notifications"],
        Nesting::List,
    )
}

/// Adds `enabled`, `run_as_user` and `expected_artifact_ids` (reference §4.1) to a trigger
/// block.
pub(crate) fn trigger(block: BlockSpec) -> BlockSpec {
    let common = [
        AttrSpec::new(
            "enabled",
            &["enabled"],
            Kind::Bool,
            "Whether the trigger fires. Spinnaker treats an unset value as disabled, so set `enabled = true`.",
        ),
        AttrSpec::new(
            "run_as_user",
            &["runAsUser"],
            Kind::String,
            "Service account the triggered execution runs as.",
        ),
        AttrSpec::new(
            "expected_artifact_ids",
            &["expectedArtifactIds"],
            Kind::StringList,
            "Ids of the pipeline's expected artifacts this trigger must supply.",
        ),
    ];
    let mut out = BlockSpec::new(
        block.name,
        block.json_type,
        Category::Trigger,
        block.description,
    );
    out.attributes.extend(block.attributes);
    out.attributes.extend(common);
    out.blocks.extend(block.blocks);
    out
}
