//! The stage blocks for the non-infrastructure types (reference §3.3, §6.3): one function per
//! stage type, plus the `custom_stage` escape hatch.

use super::common::stage;
use super::{AttrSpec, BlockSpec, Category, Codec, Kind, Nesting};

/// Every typed stage block in documentation order, then `custom_stage`.
pub(crate) fn all() -> Vec<BlockSpec> {
    vec![
        wait(),
        manual_judgment(),
        check_preconditions(),
        evaluate_variables(),
        webhook(),
        jenkins(),
        pipeline(),
        canary(),
        custom(),
    ]
}

fn block(name: &'static str, json_type: &'static str, description: &'static str) -> BlockSpec {
    BlockSpec::new(name, Some(json_type), Category::Stage, description)
}

fn nested(name: &'static str, description: &'static str) -> BlockSpec {
    BlockSpec::new(name, None, Category::Nested, description)
}

fn wait() -> BlockSpec {
    stage(
        block(
            "wait_stage",
            "wait",
            "Waits for a number of seconds (`wait`).",
        )
        .attrs([
            AttrSpec::new(
                "wait_time",
                &["waitTime"],
                Kind::NumberOrExpression,
                "Seconds to wait, or a `${...}` expression giving them. Unset waits 0 seconds, as Orca does.",
            ),
            AttrSpec::new(
                "skip_wait_text",
                &["skipWaitText"],
                Kind::String,
                "Text on Deck's \"Skip remaining wait\" button.",
            ),
        ]),
    )
}

fn manual_judgment() -> BlockSpec {
    stage(
        block(
            "manual_judgment_stage",
            "manualJudgment",
            "Waits for a person to continue or stop the pipeline (`manualJudgment`). Later stages branch on the chosen input with `#judgment('<stage name>')`.",
        )
        .attrs([
            AttrSpec::new(
                "instructions",
                &["instructions"],
                Kind::String,
                "Text shown to the approver.",
            ),
            AttrSpec::new(
                "judgment_inputs",
                &["judgmentInputs"],
                Kind::StringList,
                "Options offered to the approver; the chosen one is `judgmentInput`.",
            )
            .codec(Codec::ValueObjects { key: "value" }),
            AttrSpec::new(
                "propagate_authentication_context",
                &["propagateAuthenticationContext"],
                Kind::Bool,
                "Run downstream stages as the approver.",
            ),
            AttrSpec::new(
                "required_judgment_roles",
                &["requiredJudgmentRoles"],
                Kind::StringList,
                "Roles allowed to judge.",
            ),
            AttrSpec::new(
                "selected_stage_roles",
                &["selectedStageRoles"],
                Kind::StringList,
                "Roles allowed to judge, as Deck's role picker writes them (used when `required_judgment_roles` is unset).",
            ),
        ]),
    )
}

fn check_preconditions() -> BlockSpec {
    let precondition = nested(
        "precondition",
        "One check: an `expression`, a `stageStatus` or a `clusterSize` precondition.",
    )
    .attrs([
        AttrSpec::new(
            "type",
            &["type"],
            Kind::String,
            "`expression`, `stageStatus` or `clusterSize`.",
        )
        .required(),
        AttrSpec::new(
            "fail_pipeline",
            &["failPipeline"],
            Kind::Bool,
            "Fail the pipeline when the check fails; `false` stops only this branch.",
        ),
        AttrSpec::new(
            "expression",
            &["context", "expression"],
            Kind::String,
            "`expression`: SpEL that must evaluate to true.",
        ),
        AttrSpec::new(
            "failure_message",
            &["context", "failureMessage"],
            Kind::String,
            "`expression`: message shown when it is false.",
        ),
        AttrSpec::new(
            "stage_name",
            &["context", "stageName"],
            Kind::String,
            "`stageStatus`: name of the stage to check.",
        ),
        AttrSpec::new(
            "stage_status",
            &["context", "stageStatus"],
            Kind::String,
            "`stageStatus`: status it must have, e.g. `SUCCEEDED`.",
        ),
        AttrSpec::new(
            "cluster",
            &["context", "cluster"],
            Kind::String,
            "`clusterSize`: cluster name.",
        ),
        AttrSpec::new(
            "credentials",
            &["context", "credentials"],
            Kind::String,
            "`clusterSize`: cloud account.",
        ),
        AttrSpec::new(
            "regions",
            &["context", "regions"],
            Kind::StringList,
            "`clusterSize`: regions to count in.",
        ),
        AttrSpec::new(
            "comparison",
            &["context", "comparison"],
            Kind::String,
            "`clusterSize`: `==`, `!=`, `<`, `<=`, `>` or `>=`.",
        ),
        AttrSpec::new(
            "expected",
            &["context", "expected"],
            Kind::Number,
            "`clusterSize`: expected number of server groups.",
        ),
        AttrSpec::new(
            "only_enabled_server_groups",
            &["context", "onlyEnabledServerGroups"],
            Kind::Bool,
            "`clusterSize`: count only enabled server groups.",
        ),
    ]);
    stage(
        block(
            "check_preconditions_stage",
            "checkPreconditions",
            "Checks expressions, stage statuses or cluster sizes (`checkPreconditions`).",
        )
        .nested(precondition, &["preconditions"], Nesting::List),
    )
}

fn evaluate_variables() -> BlockSpec {
    let variable = nested(
        "variable",
        "One variable; later variables may refer to earlier ones by name.",
    )
    .attrs([
        AttrSpec::new("key", &["key"], Kind::String, "Variable name.").required(),
        AttrSpec::new(
            "value",
            &["value"],
            Kind::String,
            "Literal text or a `${...}` expression.",
        ),
        AttrSpec::new(
            "description",
            &["description"],
            Kind::String,
            "What the variable is for.",
        ),
    ]);
    stage(
        block(
            "evaluate_variables_stage",
            "evaluateVariables",
            "Evaluates expressions in order and exposes the results to later stages (`evaluateVariables`).",
        )
        .nested(variable, &["variables"], Nesting::List),
    )
}

fn webhook() -> BlockSpec {
    stage(
        block(
            "webhook_stage",
            "webhook",
            "Calls an HTTP endpoint and optionally polls a status URL (`webhook`).",
        )
        .attrs([
            AttrSpec::new("url", &["url"], Kind::String, "URL to call.").required(),
            AttrSpec::new(
                "method",
                &["method"],
                Kind::String,
                "HTTP method; Orca uses `POST` when unset.",
            ),
            AttrSpec::new(
                "custom_headers",
                &["customHeaders"],
                Kind::StringMap,
                "Request headers.",
            ),
            AttrSpec::new(
                "payload",
                &["payload"],
                Kind::Json,
                "Request body as JSON text, e.g. `jsonencode({ ... })`.",
            ),
            AttrSpec::new(
                "fail_fast_status_codes",
                &["failFastStatusCodes"],
                Kind::NumberList,
                "Response codes that fail the stage at once (Orca's default is 504).",
            ),
            AttrSpec::new(
                "wait_for_completion",
                &["waitForCompletion"],
                Kind::Bool,
                "Poll a status URL after the call.",
            ),
            AttrSpec::new(
                "status_url_resolution",
                &["statusUrlResolution"],
                Kind::String,
                "`getMethod`, `locationHeader` or `webhookResponse`.",
            ),
            AttrSpec::new(
                "status_url_json_path",
                &["statusUrlJsonPath"],
                Kind::String,
                "JSONPath to the status URL in the response (`webhookResponse`).",
            ),
            AttrSpec::new(
                "status_json_path",
                &["statusJsonPath"],
                Kind::String,
                "JSONPath to the status in the poll response.",
            ),
            AttrSpec::new(
                "progress_json_path",
                &["progressJsonPath"],
                Kind::String,
                "JSONPath to a progress message.",
            ),
            AttrSpec::new(
                "success_statuses",
                &["successStatuses"],
                Kind::String,
                "Comma-separated statuses meaning success.",
            ),
            AttrSpec::new(
                "canceled_statuses",
                &["canceledStatuses"],
                Kind::String,
                "Comma-separated statuses meaning cancelled.",
            ),
            AttrSpec::new(
                "terminal_statuses",
                &["terminalStatuses"],
                Kind::String,
                "Comma-separated statuses meaning failure.",
            ),
            AttrSpec::new(
                "retry_status_codes",
                &["retryStatusCodes"],
                Kind::NumberList,
                "Poll response codes to retry.",
            ),
            AttrSpec::new(
                "wait_before_monitor",
                &["waitBeforeMonitor"],
                Kind::NumberOrExpression,
                "Seconds to wait before polling.",
            ),
            AttrSpec::new(
                "monitor_only",
                &["monitorOnly"],
                Kind::Bool,
                "Skip the call and only poll.",
            ),
            AttrSpec::new(
                "cancel_endpoint",
                &["cancelEndpoint"],
                Kind::String,
                "URL called when the stage is cancelled.",
            ),
            AttrSpec::new(
                "cancel_method",
                &["cancelMethod"],
                Kind::String,
                "HTTP method of the cancel call.",
            ),
            AttrSpec::new(
                "cancel_payload",
                &["cancelPayload"],
                Kind::Json,
                "Body of the cancel call as JSON text.",
            ),
        ]),
    )
}

fn jenkins() -> BlockSpec {
    stage(
        block(
            "jenkins_stage",
            "jenkins",
            "Runs a Jenkins job through igor (`jenkins`).",
        )
        .attrs([
            AttrSpec::new(
                "master",
                &["master"],
                Kind::String,
                "Jenkins master name as configured in igor.",
            )
            .required(),
            AttrSpec::new("job", &["job"], Kind::String, "Job name.").required(),
            AttrSpec::new(
                "parameters",
                &["parameters"],
                Kind::StringMap,
                "Build parameters.",
            ),
            AttrSpec::new(
                "property_file",
                &["propertyFile"],
                Kind::String,
                "Archived file whose `key=value` lines become stage outputs.",
            ),
            AttrSpec::new(
                "mark_unstable_as_successful",
                &["markUnstableAsSuccessful"],
                Kind::Bool,
                "Treat an UNSTABLE build as success.",
            ),
            AttrSpec::new(
                "wait_for_completion",
                &["waitForCompletion"],
                Kind::Bool,
                "Wait for the build to finish (Orca's default when unset is `true`).",
            ),
        ]),
    )
}

fn pipeline() -> BlockSpec {
    stage(
        block(
            "pipeline_stage",
            "pipeline",
            "Runs another pipeline as a child (`pipeline`).",
        )
        .attrs([
            AttrSpec::new(
                "application",
                &["application"],
                Kind::String,
                "Application of the child pipeline.",
            )
            .required(),
            AttrSpec::new(
                "pipeline",
                &["pipeline"],
                Kind::String,
                "Id of the child pipeline. Set this or `pipeline_name`.",
            ),
            AttrSpec::new(
                "pipeline_name",
                &[],
                Kind::String,
                "Name of the child pipeline, resolved to its id at apply. Set this or `pipeline`.",
            )
            .codec(Codec::HclOnly),
            AttrSpec::new(
                "pipeline_parameters",
                &["pipelineParameters"],
                Kind::StringMap,
                "Parameters passed to the child.",
            ),
            AttrSpec::new(
                "wait_for_completion",
                &["waitForCompletion"],
                Kind::Bool,
                "Wait for the child to finish (Orca's default when unset is `true`).",
            ),
        ]),
    )
}

fn canary() -> BlockSpec {
    let scope = nested(
        "scope",
        "Where to find control and experiment metrics; the first scope's times drive the analysis.",
    )
    .attrs([
        AttrSpec::new(
            "scope_name",
            &["scopeName"],
            Kind::String,
            "Scope name in the canary config (`default` when unset).",
        ),
        AttrSpec::new(
            "control_scope",
            &["controlScope"],
            Kind::String,
            "Baseline scope, e.g. a server group.",
        ),
        AttrSpec::new(
            "control_location",
            &["controlLocation"],
            Kind::String,
            "Baseline location, e.g. a region.",
        ),
        AttrSpec::new(
            "experiment_scope",
            &["experimentScope"],
            Kind::String,
            "Canary scope.",
        ),
        AttrSpec::new(
            "experiment_location",
            &["experimentLocation"],
            Kind::String,
            "Canary location.",
        ),
        AttrSpec::new(
            "start_time_iso",
            &["startTimeIso"],
            Kind::String,
            "Retrospective analysis start (ISO-8601).",
        ),
        AttrSpec::new(
            "end_time_iso",
            &["endTimeIso"],
            Kind::String,
            "Retrospective analysis end (ISO-8601).",
        ),
        AttrSpec::new(
            "step",
            &["step"],
            Kind::Number,
            "Metric resolution in seconds (60 when unset).",
        ),
        AttrSpec::new(
            "extended_scope_params",
            &["extendedScopeParams"],
            Kind::StringMap,
            "Extra parameters for the metric source.",
        ),
    ]);
    stage(
        block(
            "canary_stage",
            "kayentaCanary",
            "Automated canary analysis with Kayenta (`kayentaCanary`), judging metrics of existing scopes against a canary config.",
        )
        .attrs([
            AttrSpec::new(
                "analysis_type",
                &["analysisType"],
                Kind::String,
                "Deck's mode: `realTime` or `retrospective`.",
            ),
            AttrSpec::new(
                "canary_config_id",
                &["canaryConfig", "canaryConfigId"],
                Kind::String,
                "Id of the Kayenta canary config.",
            )
            .required(),
            AttrSpec::new(
                "pass_score",
                &["canaryConfig", "scoreThresholds", "pass"],
                Kind::Number,
                "Final score needed to pass (Orca uses 75 when the thresholds are unset).",
            ),
            AttrSpec::new(
                "marginal_score",
                &["canaryConfig", "scoreThresholds", "marginal"],
                Kind::Number,
                "An interval scoring at or below this fails at once (Orca uses 50 when unset). 0 <= marginal <= pass <= 100.",
            ),
            AttrSpec::new(
                "lifetime_duration",
                &["canaryConfig", "lifetimeDuration"],
                Kind::String,
                "How long the analysis runs, ISO-8601, e.g. `PT1H30M`.",
            ),
            AttrSpec::new(
                "canary_analysis_interval_mins",
                &["canaryConfig", "canaryAnalysisIntervalMins"],
                Kind::Number,
                "Minutes between judgements (the whole lifetime when unset).",
            ),
            AttrSpec::new(
                "begin_canary_analysis_after_mins",
                &["canaryConfig", "beginCanaryAnalysisAfterMins"],
                Kind::Number,
                "Warm-up minutes before the first interval.",
            ),
            AttrSpec::new(
                "baseline_analysis_offset_in_mins",
                &["canaryConfig", "baselineAnalysisOffsetInMins"],
                Kind::Number,
                "Shift the control window this many minutes earlier.",
            ),
            AttrSpec::new(
                "lookback_mins",
                &["canaryConfig", "lookbackMins"],
                Kind::Number,
                "Sliding window length in minutes; 0 or unset judges from the start.",
            ),
            AttrSpec::new(
                "metrics_account_name",
                &["canaryConfig", "metricsAccountName"],
                Kind::String,
                "Kayenta metrics account.",
            ),
            AttrSpec::new(
                "storage_account_name",
                &["canaryConfig", "storageAccountName"],
                Kind::String,
                "Kayenta storage account.",
            ),
            AttrSpec::new(
                "configuration_account_name",
                &["canaryConfig", "configurationAccountName"],
                Kind::String,
                "Kayenta configuration account.",
            ),
        ])
        .nested(scope, &["canaryConfig", "scopes"], Nesting::List),
    )
}

/// The escape hatch for non-infrastructure types without a typed block.
pub(crate) fn custom() -> BlockSpec {
    stage(
        BlockSpec::new(
            super::CUSTOM_STAGE,
            None,
            Category::Stage,
            "Any other non-infrastructure stage type (for example `jira`, `script`, a plugin stage), with its fields as JSON. Infrastructure types are refused: server groups and load balancers belong to Terraform resources.",
        )
        .attrs([
            AttrSpec::new(
                "type",
                &["type"],
                Kind::String,
                "The stage type, e.g. `script`.",
            )
            .required(),
            AttrSpec::new(
                "json",
                &[],
                Kind::Json,
                "The stage's other fields as a JSON object, e.g. `jsonencode({ ... })`; the common options above are set with their own attributes.",
            )
            .codec(Codec::Rest),
        ]),
    )
}
