//! Reading command inputs: a path or `-` (stdin), and what kind of document it is.

use std::io::Read;
use std::path::Path;

use crate::Error;

/// One input document: its display name (the path, or `-`) and its text.
#[derive(Debug, Clone)]
pub struct Source {
    /// The path as given, `-` for stdin.
    pub name: String,
    /// The whole text.
    pub text: String,
}

/// What a document holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Terraform configuration (`.tf`).
    Terraform,
    /// Pipeline JSON (one object or an array).
    PipelineJson,
}

impl Source {
    /// Reads `path`, or stdin when it is `-`.
    ///
    /// # Errors
    /// [`Error::Read`] naming the path.
    pub fn read(path: &str) -> Result<Source, Error> {
        let text = if path == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|source| Error::Read {
                    path: path.to_owned(),
                    source,
                })?;
            text
        } else {
            std::fs::read_to_string(path).map_err(|source| Error::Read {
                path: path.to_owned(),
                source,
            })?
        };
        Ok(Source {
            name: path.to_owned(),
            text,
        })
    }

    /// A source from text already in memory.
    pub fn from_text(name: impl Into<String>, text: impl Into<String>) -> Source {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }

    /// `.tf` files are Terraform; anything else whose first non-blank character is `{` or `[`
    /// is pipeline JSON; other text is taken as Terraform.
    pub fn kind(&self) -> Kind {
        let ext = Path::new(&self.name)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("");
        if ext == "tf" {
            return Kind::Terraform;
        }
        if ext == "json" {
            return Kind::PipelineJson;
        }
        let first = self
            .text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .chars()
            .next();
        match first {
            Some('{' | '[') => Kind::PipelineJson,
            _ => Kind::Terraform,
        }
    }
}
