//! `spinhcl validate`: the model crate's plan-time rules on `.tf` files and pipeline JSON,
//! reported as `file:line:col: severity: message`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use pipeline::model::{ParseError, parse_pipelines_named};
use pipeline::validate::{self as rules, Diagnostic, PathStep, Severity};

use crate::input::{Kind, Source};
use crate::{Error, Status};

/// Flags of `spinhcl validate`.
#[derive(Debug, Args)]
#[command(
    after_help = "Directories are searched recursively for *.tf and *.json files \
(skipping .terraform). Each problem prints as FILE:LINE:COL: error|warning: message.\n\n\
Exit codes: 0 no errors (warnings allowed); 1 at least one error, or an unreadable path."
)]
pub struct ValidateArgs {
    /// `.tf` files, pipeline JSON files, directories, or `-` for JSON on stdin.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<String>,
    /// Print errors only.
    #[arg(long)]
    pub quiet: bool,
}

/// One problem with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Error or warning.
    pub severity: Severity,
    /// Summary and detail, one line.
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {level}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// A finding at a position.
pub(crate) fn finding(
    file: &str,
    (line, column): (usize, usize),
    severity: Severity,
    message: impl Into<String>,
) -> Finding {
    Finding {
        file: file.to_owned(),
        line,
        column,
        severity,
        message: message.into().replace('\n', " "),
    }
}

/// The one-line text of a rule's diagnostic, naming the field by its path.
pub(crate) fn describe(diagnostic: &Diagnostic, field: &str) -> String {
    format!("{}: {} (at {field})", diagnostic.summary, diagnostic.detail)
}

/// Checks one document of either kind; problems (including unparsable text) are findings.
pub fn check(source: &Source) -> Vec<Finding> {
    match source.kind() {
        Kind::PipelineJson => check_json(source),
        Kind::Terraform => crate::hcl::read::check_tf(source),
    }
}

/// Checks pipeline JSON: parse errors, then every rule on every pipeline of the document.
pub fn check_json(source: &Source) -> Vec<Finding> {
    let pipelines = match parse_pipelines_named(&source.name, source.text.as_bytes()) {
        Ok(p) => p,
        Err(ParseError::Json {
            line,
            column,
            message,
            ..
        }) => {
            return vec![finding(
                &source.name,
                (line, column),
                Severity::Error,
                format!("invalid JSON: {message}"),
            )];
        }
        Err(e @ ParseError::NotAPipeline { .. }) => {
            return vec![finding(
                &source.name,
                (1, 1),
                Severity::Error,
                e.to_string()
                    .trim_start_matches(&format!("{}: ", source.name))
                    .to_owned(),
            )];
        }
        Err(e) => {
            return vec![finding(
                &source.name,
                (1, 1),
                Severity::Error,
                e.to_string(),
            )];
        }
    };
    let is_array = source
        .text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('[');
    let mut findings = Vec::new();
    for (i, pipeline) in pipelines.iter().enumerate() {
        for diagnostic in rules::validate(pipeline) {
            let mut path = diagnostic.path.clone();
            if is_array {
                path.0.insert(0, PathStep::Index(i));
            }
            let position =
                rules::locate(&source.text, &path).map_or((1, 1), |l| (l.line, l.column));
            let field = if is_array {
                format!("[{i}].{}", diagnostic.path)
            } else {
                diagnostic.path.to_string()
            };
            findings.push(finding(
                &source.name,
                position,
                diagnostic.severity,
                describe(&diagnostic, &field),
            ));
        }
    }
    findings
}

/// Files named by `paths`, directories expanded to their `*.tf` and `*.json` files in order.
fn expand(paths: &[String]) -> Result<Vec<String>, Error> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
        let read = std::fs::read_dir(dir).map_err(|source| Error::Read {
            path: dir.display().to_string(),
            source,
        })?;
        let mut entries: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if !name.starts_with('.') {
                    walk(&path, out)?;
                }
            } else if name.ends_with(".tf") || name.ends_with(".json") {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    for path in paths {
        let p = Path::new(path);
        if path != "-" && p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found)?;
            files.extend(found.into_iter().map(|f| f.display().to_string()));
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Runs `spinhcl validate`, writing one line per finding to `out`.
///
/// # Errors
/// An unreadable path or a failing output stream.
pub fn run(args: &ValidateArgs, out: &mut dyn Write) -> Result<Status, Error> {
    let mut errors = 0usize;
    for file in expand(&args.paths)? {
        let source = Source::read(&file)?;
        for f in check(&source) {
            if f.severity == Severity::Error {
                errors += 1;
            } else if args.quiet {
                continue;
            }
            writeln!(out, "{f}")?;
        }
    }
    Ok(if errors > 0 {
        Status::Findings
    } else {
        Status::Success
    })
}
