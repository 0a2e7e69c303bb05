//! The stage DAG as a picture: a neutral [`Diagram`] (stages, dependencies, change marks) and
//! three renderers, [`mermaid`], [`dot`] and [`svg`] (laid out in-process by `layout-rs`).
//!
//! `review` marks stages added, changed, removed; `graph` marks infrastructure stages, which
//! Terraform leaves unmanaged.

pub mod command;
pub mod dot;
pub mod mermaid;
pub mod svg;

use pipeline::model::Pipeline;
use pipeline::stage_types;

/// How a stage is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    /// Nothing special.
    Unchanged,
    /// New in this change.
    Added,
    /// Fields change in this change.
    Changed,
    /// Removed by this change (drawn for context).
    Removed,
    /// An infrastructure stage, kept as it is and not managed by Terraform.
    Unmanaged,
}

impl Mark {
    /// The class name used in Mermaid and DOT output.
    pub fn class(self) -> &'static str {
        match self {
            Mark::Unchanged => "unchanged",
            Mark::Added => "added",
            Mark::Changed => "changed",
            Mark::Removed => "removed",
            Mark::Unmanaged => "unmanaged",
        }
    }

    /// (fill, stroke) colours shared by every renderer.
    pub fn colours(self) -> (&'static str, &'static str) {
        match self {
            Mark::Unchanged => ("#ffffff", "#555555"),
            Mark::Added => ("#d4f7dc", "#1a7f37"),
            Mark::Changed => ("#fff4c2", "#9a6700"),
            Mark::Removed => ("#ffe0e0", "#cf222e"),
            Mark::Unmanaged => ("#eeeeee", "#888888"),
        }
    }
}

/// One stage of a [`Diagram`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Node {
    /// The stage `refId`.
    pub ref_id: String,
    /// The stage name (may be empty).
    pub name: String,
    /// The Spinnaker stage type.
    pub stage_type: String,
    /// refIds this stage waits for.
    pub depends_on: Vec<String>,
    /// How to draw it.
    pub mark: Mark,
}

impl Node {
    /// `name (type)`, or the type alone when the stage has no name.
    pub fn label(&self) -> String {
        if self.name.is_empty() {
            self.stage_type.clone()
        } else {
            format!("{} ({})", self.name, self.stage_type)
        }
    }
}

/// A stage graph ready to draw; nodes keep their given order.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Diagram {
    /// Stages in display order.
    pub nodes: Vec<Node>,
}

impl Diagram {
    /// The stages of a pipeline, infrastructure stages marked [`Mark::Unmanaged`]. Stages
    /// without a refId get `#<index>` so they still show.
    pub fn from_pipeline(pipeline: &Pipeline) -> Diagram {
        let mut nodes = Vec::new();
        for stage in pipeline.stages() {
            let stage_type = stage.stage_type().unwrap_or("?").to_owned();
            let mark = if stage_types::is_infrastructure(&stage_type) {
                Mark::Unmanaged
            } else {
                Mark::Unchanged
            };
            nodes.push(Node {
                ref_id: stage
                    .ref_id()
                    .unwrap_or_else(|| format!("#{}", stage.index())),
                name: stage.name().unwrap_or("").to_owned(),
                stage_type,
                depends_on: stage.requisite_stage_ref_ids(),
                mark,
            });
        }
        Diagram { nodes }
    }

    /// Edges `(parent index, child index)` between nodes that exist; dangling
    /// dependencies are skipped.
    pub fn edges(&self) -> Vec<(usize, usize)> {
        let mut edges = Vec::new();
        for (child, node) in self.nodes.iter().enumerate() {
            for parent in &node.depends_on {
                if let Some(p) = self.nodes.iter().position(|n| &n.ref_id == parent) {
                    edges.push((p, child));
                }
            }
        }
        edges
    }

    /// The marks that occur, in a fixed order (for legends and class definitions).
    pub fn marks(&self) -> Vec<Mark> {
        [
            Mark::Unchanged,
            Mark::Added,
            Mark::Changed,
            Mark::Removed,
            Mark::Unmanaged,
        ]
        .into_iter()
        .filter(|m| self.nodes.iter().any(|n| n.mark == *m))
        .collect()
    }
}

/// The output format of `graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A Mermaid `flowchart` (renders in GitHub and GitLab Markdown).
    Mermaid,
    /// Graphviz DOT.
    Dot,
    /// SVG, laid out and drawn in-process.
    Svg,
}

/// Renders `diagram` in `format`.
///
/// # Errors
/// [`crate::Error::Layout`] when the SVG layout fails.
pub fn render(diagram: &Diagram, format: Format) -> Result<String, crate::Error> {
    match format {
        Format::Mermaid => Ok(mermaid::render(diagram)),
        Format::Dot => Ok(dot::render(diagram)),
        Format::Svg => svg::render(diagram),
    }
}
