//! `spinnaker_canary_config`: a Kayenta canary config (spinnaker.md §6.1), written and read
//! through Gate's `/v2/canaryConfig` (§1.7). Metrics are typed `metric` blocks with one query
//! block per metric source (`prometheus_query`, `datadog_query`) and a `query_json` escape
//! hatch for every other source.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::{Map, Value as Json, json};

use crate::diag::{AttributePath, Diagnostics};
use crate::resource::{Ctx, Resource, ResourceError};
use crate::schema::{Attribute, Block, NestedBlock, Schema};
use crate::value::{Number, Type, Value};

/// The only judge Kayenta has.
pub const JUDGE: &str = "NetflixACAJudge-v1.0";

/// The resource type.
pub struct CanaryConfigResource;

// ---- one table per block: attribute, Kayenta key, type, description ----------------------------
//
// The schema, Terraform value -> Kayenta JSON and Kayenta JSON -> Terraform value all read these
// tables, so an attribute is declared once.

/// The Terraform type of a mapped attribute, and how its value converts to and from JSON.
#[derive(Clone, Copy)]
enum Kind {
    String,
    Strings,
    Number,
    Bool,
}

impl Kind {
    fn ty(self) -> Type {
        match self {
            Kind::String => Type::String,
            Kind::Strings => Type::list(Type::String),
            Kind::Number => Type::Number,
            Kind::Bool => Type::Bool,
        }
    }

    /// The Kayenta JSON of a known value; `None` for null, unknown or a value of another type.
    fn json_of(self, value: &Value) -> Option<Json> {
        match self {
            Kind::String => value.as_str().map(Json::from),
            Kind::Strings => value.as_elements().map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(Json::from)
                    .collect()
            }),
            Kind::Number => value.as_number().map(number_json),
            Kind::Bool => value.as_bool().map(Json::from),
        }
    }

    /// The Terraform value of a Kayenta key (null when absent or of another type).
    fn value_of(self, json: Option<&Json>) -> Value {
        match self {
            Kind::String => json_string(json),
            Kind::Strings => json_strings(json),
            Kind::Number => json_number(json),
            Kind::Bool => json_bool(json),
        }
    }
}

/// One attribute of a block and the Kayenta JSON key it maps to.
struct Field {
    attr: &'static str,
    key: &'static str,
    kind: Kind,
    required: bool,
    description: &'static str,
}

impl Field {
    /// An optional attribute `attr` written to Kayenta as `key`.
    const fn new(
        attr: &'static str,
        key: &'static str,
        kind: Kind,
        description: &'static str,
    ) -> Field {
        Field {
            attr,
            key,
            kind,
            required: false,
            description,
        }
    }

    /// The same attribute, required.
    const fn required(self) -> Field {
        Field {
            required: true,
            ..self
        }
    }
}

/// `analysisConfigurations.canary.effectSize`.
const EFFECT_SIZE: &[Field] = &[
    Field::new(
        "measure",
        "measure",
        Kind::String,
        "`meanRatio` (default; experiment mean / control mean) or `cles` (common-language effect size).",
    ),
    Field::new(
        "allowed_increase",
        "allowedIncrease",
        Kind::Number,
        "Smallest effect size that makes a rise High (default 1.0, or 0.5 for `cles`).",
    ),
    Field::new(
        "allowed_decrease",
        "allowedDecrease",
        Kind::Number,
        "Largest effect size that makes a fall Low (default 1.0, or 0.5 for `cles`).",
    ),
    Field::new(
        "critical_increase",
        "criticalIncrease",
        Kind::Number,
        "Effect size from which a rise of a `critical` metric fails the whole canary.",
    ),
    Field::new(
        "critical_decrease",
        "criticalDecrease",
        Kind::Number,
        "Effect size from which a fall of a `critical` metric fails the whole canary.",
    ),
];

/// `analysisConfigurations.canary.outliers`.
const OUTLIERS: &[Field] = &[
    Field::new(
        "strategy",
        "strategy",
        Kind::String,
        "`keep` (default) or `remove` (drop points outside the IQR fences).",
    ),
    Field::new(
        "outlier_factor",
        "outlierFactor",
        Kind::Number,
        "IQR multiplier for the fences (default 3.0).",
    ),
];

/// The `analysisConfigurations.canary` keys set directly in a `metric` block.
const METRIC_CANARY: &[Field] = &[
    Field::new(
        "direction",
        "direction",
        Kind::String,
        "Which change fails: `increase`, `decrease` or `either` (default).",
    ),
    Field::new(
        "nan_strategy",
        "nanStrategy",
        Kind::String,
        "Missing points: `remove` (default) or `replace` (with 0).",
    ),
    Field::new(
        "critical",
        "critical",
        Kind::Bool,
        "A High or Low result of this metric fails the whole canary.",
    ),
    Field::new(
        "must_have_data",
        "mustHaveData",
        Kind::Bool,
        "Missing data counts as a failure instead of being ignored.",
    ),
    Field::new(
        "muted",
        "muted",
        Kind::Bool,
        "Report the metric but leave it out of the score.",
    ),
];

/// `classifier.scoreThresholds`.
const SCORE_THRESHOLDS: &[Field] = &[
    Field::new(
        "pass_threshold",
        "pass",
        Kind::Number,
        "Config-level default pass score (`scoreThresholds.pass`); the canary stage's thresholds take precedence.",
    ),
    Field::new(
        "marginal_threshold",
        "marginal",
        Kind::Number,
        "Config-level default marginal score (`scoreThresholds.marginal`); the canary stage's thresholds take precedence.",
    ),
];

/// A metric source with a typed query block in `metric`.
struct QuerySource {
    /// Kayenta's `query.type`.
    kind: &'static str,
    /// The nested block's name.
    block: &'static str,
    description: &'static str,
    /// The query's keys besides `type`.
    fields: &'static [Field],
}

const QUERY_SOURCES: [QuerySource; 2] = [
    QuerySource {
        kind: "prometheus",
        block: "prometheus_query",
        description: "A Prometheus query (`query.type = \"prometheus\"`). Without a template, the label \
         bindings (or the `resource_type` filters) go inside `metric_name{...}`.",
        fields: &[
            Field::new(
                "metric_name",
                "metricName",
                Kind::String,
                "The Prometheus metric name, e.g. `http_request_duration_seconds`.",
            )
            .required(),
            Field::new(
                "custom_inline_template",
                "customInlineTemplate",
                Kind::String,
                "A filter template written inline, with `${scope}`, `${location}` and extended scope parameters as placeholders; `PromQL:` starts a whole query. Takes precedence over `custom_filter_template`.",
            ),
            Field::new(
                "custom_filter_template",
                "customFilterTemplate",
                Kind::String,
                "The name of an entry of `templates` to use as the filter.",
            ),
            Field::new(
                "label_bindings",
                "labelBindings",
                Kind::Strings,
                "Extra label matchers, e.g. `[\"job=\\\"checkout\\\"\"]` (Kayenta's `labelBindings`).",
            ),
            Field::new(
                "group_by_fields",
                "groupByFields",
                Kind::Strings,
                "Labels to group by (`avg(...) by (fields)`).",
            ),
            Field::new(
                "resource_type",
                "resourceType",
                Kind::String,
                "`gce_instance` or `aws_ec2_instance` to use Kayenta's built-in scope filters.",
            ),
        ],
    },
    QuerySource {
        kind: "datadog",
        block: "datadog_query",
        description: "A Datadog query (`query.type = \"datadog\"`): `<metric_name>{<scope>}` unless a template \
         gives the whole query.",
        fields: &[
            Field::new(
                "metric_name",
                "metricName",
                Kind::String,
                "The Datadog query prefix, e.g. `avg:system.cpu.user`.",
            )
            .required(),
            Field::new(
                "custom_inline_template",
                "customInlineTemplate",
                Kind::String,
                "A whole query written inline with `${scope}`, `${location}` and extended scope parameters as placeholders. Takes precedence over `custom_filter_template`.",
            ),
            Field::new(
                "custom_filter_template",
                "customFilterTemplate",
                Kind::String,
                "The name of an entry of `templates` that gives the whole query.",
            ),
        ],
    },
];

impl QuerySource {
    fn by_kind(kind: &str) -> Option<&'static QuerySource> {
        QUERY_SOURCES.iter().find(|source| source.kind == kind)
    }

    fn schema(&self) -> Block {
        with_fields(Block::new(self.description), self.fields)
    }

    /// Whether the typed block can say all of `query`: every non-null key is `type` or a field.
    fn expresses(&self, query: &Json) -> bool {
        query.as_object().is_some_and(|m| {
            m.iter().all(|(k, v)| {
                v.is_null() || k == "type" || self.fields.iter().any(|f| f.key == k.as_str())
            })
        })
    }
}

/// `block` with one attribute per field, in table order.
fn with_fields(block: Block, fields: &[Field]) -> Block {
    fields.iter().fold(block, |block, f| {
        let attribute = if f.required {
            Attribute::required(f.attr, f.kind.ty(), f.description)
        } else {
            Attribute::optional(f.attr, f.kind.ty(), f.description)
        };
        block.attribute(attribute)
    })
}

/// Puts the set fields of `value` into `out` under their Kayenta keys.
fn fields_to_json(value: &Value, fields: &[Field], out: &mut Map<String, Json>) {
    for f in fields {
        put(
            out,
            f.key,
            value.attr(f.attr).and_then(|v| f.kind.json_of(v)),
        );
    }
}

/// The fields' Terraform values read from the Kayenta object `json`.
fn fields_from_json(json: &Json, fields: &[Field]) -> Vec<(&'static str, Value)> {
    fields
        .iter()
        .map(|f| (f.attr, f.kind.value_of(json.get(f.key))))
        .collect()
}

// ---- schema -------------------------------------------------------------------------------------

fn effect_size_block() -> Block {
    with_fields(
        Block::new(
            "How big a change must be to count (`analysisConfigurations.canary.effectSize`). \
             Kayenta's defaults apply to what is left out.",
        ),
        EFFECT_SIZE,
    )
}

fn outliers_block() -> Block {
    with_fields(
        Block::new(
            "Outlier handling before the comparison (`analysisConfigurations.canary.outliers`).",
        ),
        OUTLIERS,
    )
}

fn metric_block() -> Block {
    let block = Block::new(
        "One metric compared between the control and the experiment. Set exactly one of \
         `prometheus_query`, `datadog_query` and `query_json`.",
    )
    .attribute(Attribute::required(
        "name",
        Type::String,
        "Metric name, unique within the config.",
    ))
    .attribute(Attribute::optional(
        "groups",
        Type::list(Type::String),
        "Groups the metric is scored in (see `classifier.group_weights`).",
    ))
    .attribute(Attribute::optional(
        "scope_name",
        Type::String,
        "The stage scope the metric uses (Kayenta's default is `default`).",
    ));
    let block = with_fields(block, METRIC_CANARY)
        .attribute(Attribute::optional(
            "query_json",
            Type::String,
            "The metric's `query` object as JSON (e.g. `jsonencode({type = \"stackdriver\", ...})`), for metric sources without a typed block.",
        ))
        .block(NestedBlock::single("effect_size", effect_size_block()))
        .block(NestedBlock::single("outliers", outliers_block()));
    QUERY_SOURCES.iter().fold(block, |block, source| {
        block.block(NestedBlock::single(source.block, source.schema()))
    })
}

fn classifier_block() -> Block {
    let block = Block::new("How metric results become a score.").attribute(Attribute::optional(
        "group_weights",
        Type::map(Type::Number),
        "Weight of each metric group in the score; weights should total 100. Groups left out share what remains.",
    ));
    with_fields(block, SCORE_THRESHOLDS)
}

/// The resource schema.
pub fn schema() -> Schema {
    let block = Block::new(
        "A Kayenta canary config: the metrics a `kayentaCanary` stage compares between the baseline \
         (control) and the canary (experiment), and how the NetflixACAJudge scores them. Stored through \
         Gate's `/v2/canaryConfig`; a pipeline's canary stage refers to it by `id`.",
    )
    .attribute(
        Attribute::computed("id", Type::String, "The canary config id Spinnaker assigned.")
            .use_state_for_unknown(),
    )
    .attribute(Attribute::required(
        "name",
        Type::String,
        "Config name: letters, digits, `-` and `_`; unique among configs sharing an application.",
    ))
    .attribute(Attribute::required(
        "applications",
        Type::list(Type::String),
        "Applications that may use the config (at least one).",
    ))
    .attribute(Attribute::optional(
        "description",
        Type::String,
        "Free-text description.",
    ))
    .attribute(
        Attribute::optional(
            "judge",
            Type::String,
            "The judge; Kayenta has only `NetflixACAJudge-v1.0` (the default).",
        )
        .default(Value::string(JUDGE)),
    )
    .attribute(Attribute::optional(
        "templates",
        Type::map(Type::String),
        "Named filter templates with `${scope}`, `${location}` and extended scope parameters as placeholders, used by a query's `custom_filter_template`.",
    ))
    .block(NestedBlock::single("classifier", classifier_block()))
    .block(NestedBlock::list("metric", metric_block()));
    Schema::new(0, block)
}

// ---- Terraform value -> Kayenta JSON ---------------------------------------------------------

fn string(v: &Value, name: &str) -> Option<String> {
    v.attr(name).and_then(Value::as_str).map(str::to_owned)
}

fn strings(v: &Value, name: &str) -> Option<Vec<String>> {
    v.attr(name).and_then(Value::as_elements).map(|items| {
        items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect()
    })
}

fn number_json(n: &Number) -> Json {
    n.as_i64()
        .map(Json::from)
        .or_else(|| {
            n.as_f64()
                .and_then(serde_json::Number::from_f64)
                .map(Json::Number)
        })
        .unwrap_or(Json::Null)
}

fn block<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.attr(name).filter(|b| matches!(b, Value::Object(_)))
}

/// Inserts `value` under `key` when it is set.
fn put(map: &mut Map<String, Json>, key: &str, value: Option<Json>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), value);
    }
}

/// The object of the set fields of `value`'s block `name`, when the block is set.
fn block_json(value: &Value, name: &str, fields: &[Field]) -> Option<Json> {
    block(value, name).map(|b| {
        let mut m = Map::new();
        fields_to_json(b, fields, &mut m);
        Json::Object(m)
    })
}

fn query_json(metric: &Value) -> Json {
    for source in &QUERY_SOURCES {
        if let Some(q) = block(metric, source.block) {
            let mut m = Map::new();
            m.insert("type".into(), json!(source.kind));
            fields_to_json(q, source.fields, &mut m);
            return Json::Object(m);
        }
    }
    string(metric, "query_json")
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Json::Null)
}

fn metric_json(metric: &Value) -> Json {
    let mut canary = Map::new();
    fields_to_json(metric, METRIC_CANARY, &mut canary);
    put(
        &mut canary,
        "effectSize",
        block_json(metric, "effect_size", EFFECT_SIZE),
    );
    put(
        &mut canary,
        "outliers",
        block_json(metric, "outliers", OUTLIERS),
    );
    let mut m = Map::new();
    m.insert(
        "name".into(),
        json!(string(metric, "name").unwrap_or_default()),
    );
    m.insert("query".into(), query_json(metric));
    m.insert(
        "groups".into(),
        json!(strings(metric, "groups").unwrap_or_default()),
    );
    put(
        &mut m,
        "scopeName",
        string(metric, "scope_name").map(Json::from),
    );
    m.insert("analysisConfigurations".into(), json!({ "canary": canary }));
    Json::Object(m)
}

/// The canary config document Gate stores, with `id` when updating.
pub fn to_json(planned: &Value, id: Option<&str>) -> Json {
    let mut doc = Map::new();
    if let Some(id) = id {
        doc.insert("id".into(), json!(id));
    }
    doc.insert(
        "name".into(),
        json!(string(planned, "name").unwrap_or_default()),
    );
    put(
        &mut doc,
        "description",
        string(planned, "description").map(Json::from),
    );
    doc.insert("configVersion".into(), json!("1"));
    doc.insert(
        "applications".into(),
        json!(strings(planned, "applications").unwrap_or_default()),
    );
    doc.insert(
        "judge".into(),
        json!({"name": string(planned, "judge").unwrap_or_else(|| JUDGE.to_owned()), "judgeConfigurations": {}}),
    );
    let metrics: Vec<Json> = planned
        .attr("metric")
        .and_then(Value::as_elements)
        .unwrap_or_default()
        .iter()
        .map(metric_json)
        .collect();
    doc.insert("metrics".into(), Json::Array(metrics));
    let templates: Map<String, Json> = match planned.attr("templates") {
        Some(Value::Map(m)) => m
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), json!(s))))
            .collect(),
        _ => Map::new(),
    };
    doc.insert("templates".into(), Json::Object(templates));
    let mut classifier = Map::new();
    let classifier_block = block(planned, "classifier");
    let weights: Map<String, Json> = match classifier_block.and_then(|c| c.attr("group_weights")) {
        Some(Value::Map(m)) => m
            .iter()
            .filter_map(|(k, v)| v.as_number().map(|n| (k.clone(), number_json(n))))
            .collect(),
        _ => Map::new(),
    };
    classifier.insert("groupWeights".into(), Json::Object(weights));
    if let Some(c) = classifier_block {
        let mut thresholds = Map::new();
        fields_to_json(c, SCORE_THRESHOLDS, &mut thresholds);
        if !thresholds.is_empty() {
            classifier.insert("scoreThresholds".into(), Json::Object(thresholds));
        }
    }
    doc.insert("classifier".into(), Json::Object(classifier));
    Json::Object(doc)
}

// ---- Kayenta JSON -> Terraform value ---------------------------------------------------------

/// A number as Terraform would write it: whole numbers without a fraction (`60`, not `60.0`).
fn number_value(n: &serde_json::Number) -> Value {
    let text = match (n.as_i64(), n.as_f64()) {
        (Some(i), _) => i.to_string(),
        (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", f as i64),
        _ => n.to_string(),
    };
    Number::parse(&text).map_or(Value::Null, Value::Number)
}

fn json_string(j: Option<&Json>) -> Value {
    match j {
        Some(Json::String(s)) => Value::String(s.clone()),
        _ => Value::Null,
    }
}

fn json_number(j: Option<&Json>) -> Value {
    match j {
        Some(Json::Number(n)) => number_value(n),
        Some(Json::String(s)) => Number::parse(s.trim()).map_or(Value::Null, Value::Number),
        _ => Value::Null,
    }
}

fn json_bool(j: Option<&Json>) -> Value {
    match j {
        Some(Json::Bool(b)) => Value::Bool(*b),
        _ => Value::Null,
    }
}

/// A list of strings; empty or absent reads as null (an attribute left out).
fn json_strings(j: Option<&Json>) -> Value {
    match j.and_then(Json::as_array) {
        Some(items) if !items.is_empty() => Value::List(
            items
                .iter()
                .map(|i| i.as_str().map_or(Value::Null, Value::string))
                .collect(),
        ),
        _ => Value::Null,
    }
}

fn object(block: &Block, fields: Vec<(&str, Value)>) -> Value {
    let mut m: BTreeMap<String, Value> = block
        .field_names()
        .into_iter()
        .map(|k| (k, Value::Null))
        .collect();
    for (k, v) in fields {
        m.insert(k.to_owned(), v);
    }
    Value::Object(m)
}

/// The block `schema` read from the Kayenta object `json`; null when `json` is not an object.
fn block_value(json: Option<&Json>, schema: fn() -> Block, fields: &[Field]) -> Value {
    match json {
        Some(j @ Json::Object(_)) => object(&schema(), fields_from_json(j, fields)),
        _ => Value::Null,
    }
}

/// The metric's query as a typed block or as `query_json`: the prior state's choice wins, so a
/// `query_json` for a Prometheus query stays `query_json`.
fn query_fields(query: &Json, prior: Option<&Value>) -> Vec<(&'static str, Value)> {
    let prior_json = prior.and_then(|p| string(p, "query_json"));
    let kind = query.get("type").and_then(Json::as_str).unwrap_or_default();
    let typed = QuerySource::by_kind(kind).filter(|source| source.expresses(query));
    match typed {
        Some(source) if prior_json.is_none() => vec![(
            source.block,
            object(&source.schema(), fields_from_json(query, source.fields)),
        )],
        _ => {
            let same = prior_json
                .as_deref()
                .and_then(|text| serde_json::from_str::<Json>(text).ok())
                .is_some_and(|parsed| &parsed == query);
            let text = match prior_json {
                Some(text) if same => text,
                _ => query.to_string(),
            };
            vec![("query_json", Value::String(text))]
        }
    }
}

fn metric_value(metric: &Json, prior: Option<&Value>) -> Value {
    let canary = metric
        .get("analysisConfigurations")
        .and_then(|a| a.get("canary"))
        .cloned()
        .unwrap_or(Json::Null);
    // Kayenta fills `scopeName` with "default"; it reads as null unless the configuration said
    // "default" itself.
    let said_default = prior
        .and_then(|p| p.attr("scope_name"))
        .and_then(Value::as_str)
        == Some("default");
    let scope_name = match json_string(metric.get("scopeName")) {
        Value::String(s) if s == "default" && !said_default => Value::Null,
        other => other,
    };
    let mut fields = vec![
        ("name", json_string(metric.get("name"))),
        ("groups", json_strings(metric.get("groups"))),
        ("scope_name", scope_name),
        (
            "effect_size",
            block_value(canary.get("effectSize"), effect_size_block, EFFECT_SIZE),
        ),
        (
            "outliers",
            block_value(canary.get("outliers"), outliers_block, OUTLIERS),
        ),
    ];
    fields.extend(fields_from_json(&canary, METRIC_CANARY));
    fields.extend(query_fields(
        metric.get("query").unwrap_or(&Json::Null),
        prior,
    ));
    object(&metric_block(), fields)
}

/// The state for a stored config; `prior` (the state before) settles representation choices.
pub fn from_json(doc: &Json, prior: &Value) -> Value {
    let prior_metrics = prior
        .attr("metric")
        .and_then(Value::as_elements)
        .unwrap_or_default();
    let metrics: Vec<Value> = doc
        .get("metrics")
        .and_then(Json::as_array)
        .map(|items| {
            items
                .iter()
                .enumerate()
                .map(|(i, m)| metric_value(m, prior_metrics.get(i)))
                .collect()
        })
        .unwrap_or_default();
    let templates = match doc.get("templates").and_then(Json::as_object) {
        Some(m) if !m.is_empty() => Value::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), json_string(Some(v))))
                .collect(),
        ),
        _ => Value::Null,
    };
    let classifier = doc.get("classifier").cloned().unwrap_or(Json::Null);
    let weights = match classifier.get("groupWeights").and_then(Json::as_object) {
        Some(m) if !m.is_empty() => Value::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), json_number(Some(v))))
                .collect(),
        ),
        _ => Value::Null,
    };
    let thresholds = classifier.get("scoreThresholds").unwrap_or(&Json::Null);
    let mut classifier_fields = fields_from_json(thresholds, SCORE_THRESHOLDS);
    classifier_fields.push(("group_weights", weights));
    let classifier = if classifier_fields.iter().all(|(_, v)| v.is_null()) {
        Value::Null
    } else {
        object(&classifier_block(), classifier_fields)
    };
    let judge = doc
        .get("judge")
        .and_then(|j| j.get("name"))
        .and_then(Json::as_str)
        .filter(|n| !n.is_empty())
        .unwrap_or(JUDGE);
    object(
        &schema().block,
        vec![
            ("id", json_string(doc.get("id"))),
            ("name", json_string(doc.get("name"))),
            ("applications", json_strings(doc.get("applications"))),
            ("description", json_string(doc.get("description"))),
            ("judge", Value::string(judge)),
            ("templates", templates),
            ("classifier", classifier),
            ("metric", Value::List(metrics)),
        ],
    )
}

// ---- validation --------------------------------------------------------------------------------

fn one_of(
    value: Option<&Value>,
    allowed: &[&str],
    path: AttributePath,
    summary: &str,
    diags: &mut Diagnostics,
) {
    if let Some(Value::String(s)) = value
        && !allowed.contains(&s.as_str())
    {
        diags.attribute_error(
            path.clone(),
            summary,
            format!(
                "Attribute {path} must be one of: {}, got: {s:?}.",
                allowed
                    .iter()
                    .map(|a| format!("{a:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
}

fn validate_metric(metric: &Value, path: &AttributePath, diags: &mut Diagnostics) {
    let at = |name: &str| path.clone().attr(name);
    one_of(
        metric.attr("direction"),
        &["increase", "decrease", "either"],
        at("direction"),
        "Invalid Metric Direction",
        diags,
    );
    one_of(
        metric.attr("nan_strategy"),
        &["remove", "replace"],
        at("nan_strategy"),
        "Invalid NaN Strategy",
        diags,
    );
    if let Some(e) = block(metric, "effect_size") {
        one_of(
            e.attr("measure"),
            &["meanRatio", "cles"],
            at("effect_size").attr("measure"),
            "Invalid Effect Size Measure",
            diags,
        );
    }
    if let Some(o) = block(metric, "outliers") {
        one_of(
            o.attr("strategy"),
            &["keep", "remove"],
            at("outliers").attr("strategy"),
            "Invalid Outlier Strategy",
            diags,
        );
    }
    let typed: Vec<&str> = QUERY_SOURCES.iter().map(|source| source.block).collect();
    let set: Vec<&str> = typed
        .iter()
        .copied()
        .chain(["query_json"])
        .filter(|name| metric.attr(name).is_some_and(|v| !v.is_null()))
        .collect();
    if set.len() != 1 {
        diags.attribute_error(
            path.clone(),
            "Invalid Metric Query",
            format!(
                "Block {path} must set exactly one of {} and query_json, got: {}.",
                typed.join(", "),
                if set.is_empty() {
                    "none".to_owned()
                } else {
                    set.join(", ")
                }
            ),
        );
    }
    if let Some(Value::String(text)) = metric.attr("query_json") {
        let parsed: Result<Json, _> = serde_json::from_str(text);
        let ok = parsed
            .as_ref()
            .ok()
            .and_then(|q| q.get("type"))
            .and_then(Json::as_str)
            .is_some_and(|t| !t.is_empty());
        if !ok {
            diags.attribute_error(
                at("query_json"),
                "Invalid Metric Query JSON",
                format!(
                    "Attribute {} must be a JSON object with a \"type\" (the metric source, e.g. \"stackdriver\"), got: {text:?}.",
                    at("query_json")
                ),
            );
        }
    }
}

fn validate(config: &Value, diags: &mut Diagnostics) {
    if let Some(Value::String(name)) = config.attr("name")
        && (name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')))
    {
        diags.attribute_error(
            AttributePath::root("name"),
            "Invalid Canary Config Name",
            format!(
                "Attribute name must be letters, digits, \"-\" and \"_\" only (Kayenta's rule), got: {name:?}."
            ),
        );
    }
    if let Some(Value::List(apps)) = config.attr("applications")
        && apps.is_empty()
    {
        diags.attribute_error(
            AttributePath::root("applications"),
            "Missing Canary Config Application",
            "Attribute applications must name at least one application (Kayenta requires one).",
        );
    }
    let Some(metrics) = config.attr("metric").and_then(Value::as_elements) else {
        return;
    };
    let mut seen: Vec<&str> = Vec::new();
    for (i, metric) in metrics.iter().enumerate() {
        let path = AttributePath::root("metric").index(i64::try_from(i).unwrap_or(i64::MAX));
        if let Some(name) = metric.attr("name").and_then(Value::as_str) {
            if seen.contains(&name) {
                diags.attribute_error(
                    path.clone().attr("name"),
                    "Duplicate Metric Name",
                    format!(
                        "Attribute {} must be unique within the canary config, got: {name:?} twice.",
                        path.clone().attr("name")
                    ),
                );
            }
            seen.push(name);
        }
        validate_metric(metric, &path, diags);
    }
}

fn name_of(v: &Value) -> String {
    string(v, "name").unwrap_or_default()
}

fn id_of(v: &Value) -> Option<String> {
    string(v, "id").filter(|id| !id.is_empty())
}

fn with_id(planned: &Value, id: &str) -> Value {
    let mut state = planned.clone();
    if let Value::Object(m) = &mut state {
        m.insert("id".to_owned(), Value::string(id));
    }
    state
}

#[async_trait]
impl Resource for CanaryConfigResource {
    fn type_name(&self) -> &'static str {
        "spinnaker_canary_config"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn import_template(&self) -> &'static str {
        "<canary config id>"
    }

    fn display_id(&self, state: &Value) -> String {
        id_of(state).unwrap_or_else(|| name_of(state))
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate(config, diags);
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, ResourceError> {
        let Some(id) = id_of(state) else {
            return Ok(None);
        };
        let Some(doc) = ctx.client.get_canary_config(&id).await? else {
            return Ok(None);
        };
        let mut value = from_json(&doc, state);
        if let Value::Object(m) = &mut value
            && m.get("id").is_none_or(Value::is_null)
        {
            m.insert("id".to_owned(), Value::string(&id));
        }
        Ok(Some(value))
    }

    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, ResourceError> {
        let id = ctx
            .client
            .create_canary_config(&to_json(planned, None))
            .await?;
        tracing::info!(canary_config = %id, name = %name_of(planned), "created canary config");
        Ok(with_id(planned, &id))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, ResourceError> {
        let id = id_of(prior).unwrap_or_default();
        let stored = ctx
            .client
            .update_canary_config(&id, &to_json(planned, Some(&id)))
            .await?;
        tracing::info!(canary_config = %stored, name = %name_of(planned), "updated canary config");
        Ok(with_id(planned, &stored))
    }

    async fn delete(&self, ctx: &Ctx, prior: &Value) -> Result<(), ResourceError> {
        if let Some(id) = id_of(prior) {
            ctx.client.delete_canary_config(&id).await?;
            tracing::info!(canary_config = %id, "deleted canary config");
        }
        Ok(())
    }

    fn import(&self, parts: Vec<String>) -> Value {
        let id = parts.into_iter().next().unwrap_or_default();
        object(&schema().block, vec![("id", Value::String(id))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::string(text)
    }

    fn n(i: i64) -> Value {
        Value::Number(Number::from(i))
    }

    fn metric(fields: Vec<(&str, Value)>) -> Value {
        object(&metric_block(), fields)
    }

    fn config(metrics: Vec<Value>) -> Value {
        object(
            &schema().block,
            vec![
                ("id", Value::Unknown),
                ("name", s("checkout")),
                ("applications", Value::List(vec![s("shop")])),
                ("judge", s(JUDGE)),
                (
                    "classifier",
                    object(
                        &classifier_block(),
                        vec![(
                            "group_weights",
                            Value::Map(BTreeMap::from([
                                ("perf".to_owned(), n(60)),
                                ("errors".to_owned(), n(40)),
                            ])),
                        )],
                    ),
                ),
                ("metric", Value::List(metrics)),
            ],
        )
    }

    fn latency() -> Value {
        metric(vec![
            ("name", s("latency")),
            ("groups", Value::List(vec![s("perf")])),
            ("direction", s("increase")),
            ("critical", Value::Bool(true)),
            (
                "effect_size",
                object(
                    &effect_size_block(),
                    vec![(
                        "allowed_increase",
                        Value::Number(Number::parse("1.2").unwrap_or_else(|| Number::from(1))),
                    )],
                ),
            ),
            (
                "prometheus_query",
                object(
                    &QUERY_SOURCES[0].schema(),
                    vec![
                        ("metric_name", s("latency")),
                        ("custom_filter_template", s("by-group")),
                    ],
                ),
            ),
        ])
    }

    #[test]
    fn writes_kayenta_json_and_reads_it_back_unchanged() {
        let errors = metric(vec![
            ("name", s("errors")),
            ("groups", Value::List(vec![s("errors")])),
            (
                "query_json",
                s(r#"{"type":"stackdriver","metricType":"errors"}"#),
            ),
        ]);
        let planned = config(vec![latency(), errors]);
        let doc = to_json(&planned, Some("abc"));
        assert_eq!(
            doc["metrics"][0]["query"],
            json!({"type": "prometheus", "metricName": "latency", "customFilterTemplate": "by-group"})
        );
        assert_eq!(
            doc["metrics"][0]["analysisConfigurations"],
            json!({"canary": {"direction": "increase", "critical": true, "effectSize": {"allowedIncrease": 1.2}}})
        );
        assert_eq!(
            doc["classifier"]["groupWeights"],
            json!({"errors": 40, "perf": 60})
        );
        assert_eq!(doc["metrics"][1]["query"]["type"], json!("stackdriver"));

        // Kayenta answers with doubles and a filled-in scopeName.
        let mut stored = doc.clone();
        stored["classifier"]["groupWeights"] = json!({"errors": 40.0, "perf": 60.0});
        stored["metrics"][0]["scopeName"] = json!("default");
        stored["metrics"][1]["scopeName"] = json!("default");
        let mut prior = planned.clone();
        if let Value::Object(m) = &mut prior {
            m.insert("id".into(), s("abc"));
        }
        let read = from_json(&stored, &prior);
        assert!(read.same(&prior), "read:\n{read:?}\nprior:\n{prior:?}");
    }

    #[test]
    fn import_reads_typed_blocks_where_possible() {
        let doc = json!({"id": "x", "name": "c", "applications": ["a"],
            "metrics": [{"name": "cpu", "query": {"type": "datadog", "metricName": "avg:cpu"}, "scopeName": "default"},
                        {"name": "odd", "query": {"type": "prometheus", "metricName": "m", "serviceType": "x"}}]});
        let read = from_json(&doc, &Value::Null);
        let metrics = read
            .attr("metric")
            .and_then(Value::as_elements)
            .unwrap_or_default();
        assert_eq!(
            metrics[0]
                .attr("datadog_query")
                .and_then(|q| q.attr("metric_name")),
            Some(&s("avg:cpu"))
        );
        assert_eq!(
            metrics[0].attr("scope_name"),
            Some(&Value::Null),
            "Kayenta's default reads as unset"
        );
        assert!(
            metrics[1].attr("query_json").is_some_and(|q| !q.is_null()),
            "an unmodelled key keeps the JSON form"
        );
        assert_eq!(read.attr("judge"), Some(&s(JUDGE)));
    }

    #[test]
    fn validation_names_the_attribute() {
        let mut bad = latency();
        if let Value::Object(m) = &mut bad {
            m.insert("direction".into(), s("up"));
            m.insert("query_json".into(), s("{}"));
        }
        let mut cfg = config(vec![bad, latency()]);
        if let Value::Object(m) = &mut cfg {
            m.insert("name".into(), s("bad name"));
        }
        let mut d = Diagnostics::new();
        validate(&cfg, &mut d);
        let details: Vec<&str> = d.0.iter().map(|x| x.detail.as_str()).collect();
        assert!(
            details
                .iter()
                .any(|t| t.starts_with("Attribute name must be letters")),
            "{d}"
        );
        assert!(details.contains(&"Attribute metric[0].direction must be one of: \"increase\", \"decrease\", \"either\", got: \"up\"."), "{d}");
        assert!(
            details
                .iter()
                .any(|t| t.contains("metric[0] must set exactly one of")
                    && t.ends_with("got: prometheus_query, query_json.")),
            "{d}"
        );
        assert!(
            details
                .iter()
                .any(|t| t.starts_with("Attribute metric[0].query_json must be a JSON object")),
            "{d}"
        );
        assert!(
            details
                .iter()
                .any(|t| t.starts_with("Attribute metric[1].name must be unique")),
            "{d}"
        );
    }
}
