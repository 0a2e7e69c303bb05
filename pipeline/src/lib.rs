//! The pure Spinnaker pipeline model shared by the provider, the engine and the CLI.
//!
//! # Layout
//!
//! * [`model`]: lossless pipeline JSON ([`model::Pipeline`], stage and trigger views, parsing,
//!   server-owned fields and diff normalisation).
//! * [`stage_types`]: the one list of infrastructure and modelled stage types.
//! * [`graph`]: the stage DAG built from `requisiteStageRefIds`.
//! * [`validate`]: plan-time rules returning [`validate::Diagnostic`]s with JSON paths.
//! * [`expr`]: the SpEL subset: lexer, parser, evaluator and `${...}` templates.
//! * [`cron`]: Quartz cron expressions with Echo's `H` fuzzing, in a time zone.
//! * [`naming`]: Frigga names for clusters and server groups.
//! * [`import_id`]: Terraform import IDs such as `<application>/<pipeline_name>`.
//!
//! Everything here is pure: no I/O, no async, no network. Callers read files and pass bytes.
//!
//! # Example
//!
//! ```
//! use pipeline::{expr, graph::StageGraph, model, validate};
//!
//! let json = br#"{"application": "app", "name": "deploy",
//!   "stages": [{"refId": 2, "type": "wait", "requisiteStageRefIds": ["1"]},
//!              {"refId": "1", "type": "manualJudgment", "judgmentInputs": [{"value": "go"}]}]}"#;
//! let pipelines = model::parse_pipelines_named("deploy.json", json)?;
//! let p = &pipelines[0];
//! assert!(validate::validate(p).is_empty());
//! assert!(validate::boundary_violations(p).is_empty());
//! assert_eq!(StageGraph::from_pipeline(p)?.topological_order()?, ["1", "2"]);
//!
//! let root = serde_json::json!({"trigger": {"tag": "v1"}});
//! let image = expr::evaluate_template("app:${trigger['tag']}", &expr::Context::new(&root))?;
//! assert_eq!(image, "app:v1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod blocks;
pub mod cron;
pub mod expr;
pub mod graph;
pub mod import_id;
pub mod model;
pub mod naming;
pub mod secret;
pub mod stage_types;
pub mod status;
pub mod validate;
