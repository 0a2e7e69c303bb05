//! Graphviz DOT output, styled like the Mermaid output.

use std::fmt::Write;

use super::{Diagram, Mark};

/// Quotes a string as a DOT identifier.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Renders the diagram as a `digraph` with top-to-bottom rank direction.
pub fn render(diagram: &Diagram) -> String {
    let mut out = String::from(
        "digraph pipeline {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n",
    );
    for (i, node) in diagram.nodes.iter().enumerate() {
        let (fill, stroke) = node.mark.colours();
        let style = if node.mark == Mark::Removed {
            ", style=\"rounded,filled,dashed\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  s{i} [label={}, fillcolor={}, color={}, class={}{style}];",
            quote(&format!("{}: {}", node.ref_id, node.label())),
            quote(fill),
            quote(stroke),
            quote(node.mark.class()),
        );
    }
    for (parent, child) in diagram.edges() {
        let _ = writeln!(out, "  s{parent} -> s{child};");
    }
    out.push_str("}\n");
    out
}
