//! [`Error`]: every way a companion command can fail, each message naming the file or field.

use std::path::PathBuf;

/// A command failure. Messages are one line, lower case, and name the file or field at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file (or stdin) could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file, `-` for stdin.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("{}: cannot write: {source}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Writing to the output stream failed.
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    /// A pipeline JSON document could not be parsed.
    #[error(transparent)]
    Pipeline(#[from] pipeline::model::ParseError),
    /// A file's content is not what the command expects.
    #[error("{file}: {message}")]
    Input {
        /// The file.
        file: String,
        /// What is wrong, naming the field.
        message: String,
    },
    /// A command-line value is not acceptable.
    #[error("{flag}: {message}")]
    Usage {
        /// The flag, e.g. `--fail-on`.
        flag: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Gate answered with an error or could not be reached.
    #[error("{context}: {source}")]
    Gate {
        /// What was being done, e.g. `listing pipelines of application "shop"`.
        context: String,
        /// The client error.
        #[source]
        source: gate::Error,
    },
    /// The canary judge failed.
    #[error(transparent)]
    Canary(#[from] canary::cli::CliError),
    /// The SVG layout library failed on a graph.
    #[error("graph layout failed: {0}")]
    Layout(String),
}

impl Error {
    /// An [`Error::Input`] for `file`.
    pub fn input(file: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Input {
            file: file.into(),
            message: message.into(),
        }
    }
}
