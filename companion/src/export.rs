//! `spinhcl export`: live applications and pipelines from Gate → one `.tf` file per application
//! (the `spinnaker_application` and its `spinnaker_pipeline` resources), plus `imports.sh`
//! (`terraform import` commands) and `imports.tf` (`import {}` blocks, Terraform ≥ 1.5).
//!
//! Output is deterministic: applications and pipelines sorted by name, resource names derived
//! from names (snake_case, de-duplicated), files rewritten whole.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use hcl::expr::{Expression, Traversal, Variable};
use hcl::{Block, Body};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pipeline::import_id::format_import_id;
use pipeline::model::Pipeline;
use serde_json::Value as Json;

use crate::convert::resources;
use crate::hcl::align::align;
use crate::hcl::names::{UniqueNames, snake_case};
use crate::hcl::write::{self, ApplicationRef, Notes, Resource};
use crate::live::{GateArgs, block_on};
use crate::{Error, Status};

/// The import ID template of `spinnaker_pipeline`.
pub const PIPELINE_IMPORT_ID: &str = "<application>/<pipeline_name>";

/// Application attributes passed through by `spinnaker_application`: HCL name, Gate key.
const APPLICATION_PASSTHROUGH: &[(&str, &str)] = &[
    ("instance_port", "instancePort"),
    ("repo_type", "repoType"),
    ("repo_project_key", "repoProjectKey"),
    ("repo_slug", "repoSlug"),
    ("platform_health_only", "platformHealthOnly"),
    (
        "platform_health_only_show_override",
        "platformHealthOnlyShowOverride",
    ),
    (
        "enable_restart_running_executions",
        "enableRestartRunningExecutions",
    ),
];

/// Flags of `spinhcl export`.
#[derive(Debug, Args)]
#[command(
    after_help = "Writes, into --out: <application>.tf per application (the \
spinnaker_application resource and its spinnaker_pipeline resources in typed blocks), \
imports.sh (terraform import commands, ids '<application>/<pipeline name>' URL-escaped) and \
imports.tf (import blocks, Terraform 1.5 and later; use one of the two). Infrastructure stages are \
not written: Terraform keeps them as unmanaged stages, and a comment lists them. A progress bar \
shows on stderr when several applications are exported to a terminal.\n\n\
Exit codes: 0 exported; 1 error (Gate unreachable or refusing, unknown application, unwritable \
directory)."
)]
pub struct ExportArgs {
    /// Gate connection.
    #[command(flatten)]
    pub gate: GateArgs,
    /// An application to export (repeatable).
    #[arg(
        long = "application",
        value_name = "APP",
        required_unless_present = "all"
    )]
    pub applications: Vec<String>,
    /// Export every application Gate lists.
    #[arg(long, conflicts_with = "applications")]
    pub all: bool,
    /// Only pipelines with this name (repeatable); default: all pipelines.
    #[arg(long = "pipeline", value_name = "NAME")]
    pub pipelines: Vec<String>,
    /// Directory to write to (created if missing).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
}

/// One application as read from Gate.
#[derive(Debug, Clone)]
pub struct LiveApplication {
    /// The application (its attributes).
    pub application: gate::Application,
    /// Its pipelines, sorted by name.
    pub pipelines: Vec<Pipeline>,
}

/// What an export wrote.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// Files written, in order.
    pub files: Vec<PathBuf>,
    /// Pipelines exported.
    pub pipelines: usize,
    /// Warnings (stages that could not be written).
    pub warnings: Vec<String>,
}

/// Runs `spinhcl export`, writing a summary line per file to `out`.
///
/// # Errors
/// Gate failures, unknown applications, unwritable files.
pub fn run(args: &ExportArgs, out: &mut dyn Write) -> Result<Status, Error> {
    let client = args.gate.client()?;
    let live = block_on(fetch(&client, args))??;
    let written = write_files(&live, &args.out)?;
    for warning in &written.warnings {
        tracing::warn!("{warning}");
    }
    for file in &written.files {
        writeln!(out, "wrote {}", file.display())?;
    }
    writeln!(
        out,
        "exported {} pipelines of {} applications",
        written.pipelines,
        live.len()
    )?;
    Ok(Status::Success)
}

fn progress(total: usize) -> ProgressBar {
    if total < 2 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} applications {msg}") {
        bar.set_style(style);
    }
    bar
}

async fn fetch(client: &gate::Client, args: &ExportArgs) -> Result<Vec<LiveApplication>, Error> {
    let gate_error = |context: String| move |source| Error::Gate { context, source };
    let mut names: Vec<String> = if args.all {
        client
            .list_applications()
            .await
            .map_err(gate_error("listing applications".into()))?
            .into_iter()
            .map(|a| a.name)
            .collect()
    } else {
        args.applications.iter().map(|a| a.to_lowercase()).collect()
    };
    names.sort();
    names.dedup();
    let bar = progress(names.len());
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        bar.set_message(name.clone());
        let application = client
            .get_application(&name)
            .await
            .map_err(gate_error(format!("reading application {name:?}")))?
            .ok_or_else(|| Error::Usage {
                flag: "--application",
                message: format!("Gate has no application {name:?}"),
            })?;
        let list = client
            .list_pipeline_configs(&name)
            .await
            .map_err(gate_error(format!(
                "listing pipelines of application {name:?}"
            )))?;
        let mut pipelines: Vec<Pipeline> = list
            .iter()
            .filter_map(|p| p.as_object().cloned().map(Pipeline::from_map))
            .filter(|p| {
                args.pipelines.is_empty()
                    || p.name()
                        .is_some_and(|n| args.pipelines.iter().any(|w| w == n))
            })
            .collect();
        pipelines.sort_by(|a, b| (a.name(), a.id()).cmp(&(b.name(), b.id())));
        out.push(LiveApplication {
            application,
            pipelines,
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(out)
}

fn string_list(items: &[String]) -> Expression {
    Expression::Array(items.iter().cloned().map(Expression::String).collect())
}

/// The `spinnaker_application` resource block for a live application.
pub fn application_block(application: &gate::Application, resource_name: &str) -> Block {
    let mut b = Block::builder("resource")
        .add_label("spinnaker_application")
        .add_label(resource_name)
        .add_attribute(("name", application.name.as_str()));
    if let Some(email) = application.email() {
        b = b.add_attribute(("email", email));
    }
    if let Some(description) = application.description().filter(|d| !d.is_empty()) {
        b = b.add_attribute(("description", description));
    }
    let providers = application.cloud_providers();
    if !providers.is_empty() {
        b = b.add_attribute(("cloud_providers", string_list(&providers)));
    }
    for (name, key) in APPLICATION_PASSTHROUGH {
        match application.attributes.get(*key) {
            Some(Json::Null) | None => {}
            Some(Json::String(s)) if s.is_empty() => {}
            Some(value) => {
                if let Ok(expr) = hcl::to_expression(value) {
                    b = b.add_attribute((*name, expr));
                }
            }
        }
    }
    if let Some(p) = application.permissions() {
        let mut perms = Block::builder("permissions");
        for (name, roles) in [
            ("read", &p.read),
            ("write", &p.write),
            ("execute", &p.execute),
        ] {
            if !roles.is_empty() {
                perms = perms.add_attribute((name, string_list(roles)));
            }
        }
        b = b.add_block(perms.build());
    }
    b.build()
}

/// Quotes a word for POSIX shells.
fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

fn import_block(to: &str, id: &str) -> Block {
    let mut parts = to.split('.');
    let kind = parts.next().unwrap_or_default();
    let name = parts.next().unwrap_or_default();
    let target = Traversal::builder(Variable::unchecked(kind))
        .attr(name)
        .build();
    Block::builder("import")
        .add_attribute(("to", Expression::from(target)))
        .add_attribute(("id", id))
        .build()
}

fn write_file(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })
}

/// Writes the files for `live` into `dir`.
///
/// # Errors
/// An unwritable directory or file, or a pipeline field of the wrong type.
pub fn write_files(live: &[LiveApplication], dir: &Path) -> Result<Written, Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_owned(),
        source,
    })?;
    let mut written = Written::default();
    let mut file_names = UniqueNames::default();
    file_names.claim("imports");
    let mut app_names = UniqueNames::default();
    let mut pipeline_names = UniqueNames::default();
    let mut imports: Vec<(String, String)> = Vec::new();
    for app in live {
        let app_resource = app_names.claim(&snake_case(&app.application.name));
        let file = dir.join(format!(
            "{}.tf",
            file_names.claim(&snake_case(&app.application.name))
        ));
        let mut notes = Notes::default();
        let mut blocks = vec![Resource::plain(
            application_block(&app.application, &app_resource),
            Vec::new(),
        )];
        imports.push((
            format!("spinnaker_application.{app_resource}"),
            app.application.name.clone(),
        ));
        let file_name = file.display().to_string();
        let pipelines = resources(
            &file_name,
            &app.pipelines,
            &mut pipeline_names,
            &|_| ApplicationRef::Resource(app_resource.clone()),
            &mut notes,
        )?;
        for (pipeline, (name, resource)) in app.pipelines.iter().zip(pipelines) {
            let id = format_import_id(
                PIPELINE_IMPORT_ID,
                &[app.application.name.as_str(), pipeline.name().unwrap_or("")],
            )
            .map_err(|e| Error::input(&file_name, e.to_string()))?;
            imports.push((format!("spinnaker_pipeline.{name}"), id));
            blocks.push(resource);
            written.pipelines += 1;
        }
        write_file(&file, &write::render(&blocks))?;
        written.warnings.extend(notes.warnings);
        written.files.push(file);
    }
    let mut script = String::from(
        "#!/bin/sh\n# Imports the exported resources into Terraform state (any Terraform version).\n# With Terraform 1.5 or later you can use imports.tf instead.\nset -e\n",
    );
    for (to, id) in &imports {
        script.push_str(&format!("terraform import {to} {}\n", shell_quote(id)));
    }
    let sh = dir.join("imports.sh");
    write_file(&sh, &script)?;
    written.files.push(sh);
    let mut body = Body::builder();
    for (to, id) in &imports {
        body = body.add_block(import_block(to, id));
    }
    let text = hcl::format::to_string(&body.build()).unwrap_or_default();
    let tf = dir.join("imports.tf");
    write_file(
        &tf,
        &format!(
            "# import blocks need Terraform 1.5 or later; with older versions run imports.sh.\n{}",
            align(&text)
        ),
    )?;
    written.files.push(tf);
    Ok(written)
}
