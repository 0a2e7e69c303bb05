//! Diagnostics and attribute paths: the one place errors become what
//! Terraform shows (Title Case summary, actionable detail, and the path of
//! the attribute at fault).

use std::fmt;

/// One step into a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    /// An object attribute or block.
    Attribute(String),
    /// A map key.
    Key(String),
    /// A list or tuple index.
    Index(i64),
}

/// Where in a configuration a diagnostic applies, e.g. `permissions.read`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttributePath(pub Vec<PathStep>);

impl AttributePath {
    /// A path starting at the top-level attribute `name`.
    pub fn root(name: &str) -> Self {
        AttributePath(vec![PathStep::Attribute(name.to_owned())])
    }

    /// Steps into the attribute `name`.
    pub fn attr(mut self, name: &str) -> Self {
        self.0.push(PathStep::Attribute(name.to_owned()));
        self
    }

    /// Steps into the map key `key`.
    pub fn key(mut self, key: &str) -> Self {
        self.0.push(PathStep::Key(key.to_owned()));
        self
    }

    /// Steps into the element `index`.
    pub fn index(mut self, index: i64) -> Self {
        self.0.push(PathStep::Index(index));
        self
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attribute(a) if i == 0 => f.write_str(a)?,
                PathStep::Attribute(a) => write!(f, ".{a}")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Error or warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Short, Title Case.
    pub summary: String,
    /// What went wrong and what to do about it.
    pub detail: String,
    /// The attribute at fault, when there is one.
    pub path: Option<AttributePath>,
}

/// A list of diagnostics, built up during one call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// No diagnostics.
    pub fn new() -> Self {
        Diagnostics(Vec::new())
    }

    /// One error not tied to an attribute.
    pub fn from_error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        let mut d = Diagnostics::new();
        d.error(summary, detail);
        d
    }

    /// Adds an error not tied to an attribute.
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) -> &mut Self {
        self.push(Severity::Error, summary.into(), detail.into(), None)
    }

    /// Adds an error about the attribute at `path`.
    pub fn attribute_error(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) -> &mut Self {
        self.push(Severity::Error, summary.into(), detail.into(), Some(path))
    }

    /// Adds a warning, optionally about an attribute.
    pub fn warning(
        &mut self,
        path: Option<AttributePath>,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) -> &mut Self {
        self.push(Severity::Warning, summary.into(), detail.into(), path)
    }

    /// Adds a "this is a bug" error asking the user to report it.
    pub fn internal(&mut self, what: impl fmt::Display) -> &mut Self {
        self.error(
            "Provider Internal Error",
            format!(
                "{what}\n\nThis is a bug in terraform-provider-spinnaker; please report it at https://github.com/spinhcl/spinhcl/issues."
            ),
        )
    }

    fn push(
        &mut self,
        severity: Severity,
        summary: String,
        detail: String,
        path: Option<AttributePath>,
    ) -> &mut Self {
        self.0.push(Diagnostic {
            severity,
            summary,
            detail,
            path,
        });
        self
    }

    /// Appends all of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Whether any error was added.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    /// Whether there are no diagnostics at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            let level = if d.severity == Severity::Error {
                "Error"
            } else {
                "Warning"
            };
            write!(f, "{level}: {}", d.summary)?;
            if let Some(p) = &d.path {
                write!(f, " (at {p})")?;
            }
            writeln!(f, ": {}", d.detail)?;
        }
        Ok(())
    }
}
