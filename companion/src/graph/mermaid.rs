//! Mermaid `flowchart TD` output: one node per stage, `classDef` styles per [`Mark`].

use std::fmt::Write;

use super::{Diagram, Mark};

/// Escapes a label for a Mermaid `["..."]` node (quotes and markup characters as entities).
fn escape(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for c in label.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Renders the diagram; node ids are `s0`, `s1`, ... in node order.
pub fn render(diagram: &Diagram) -> String {
    let mut out = String::from("flowchart TD\n");
    for (i, node) in diagram.nodes.iter().enumerate() {
        let prefix = match node.mark {
            Mark::Added => "+ ",
            Mark::Removed => "- ",
            Mark::Changed => "~ ",
            Mark::Unchanged | Mark::Unmanaged => "",
        };
        let _ = writeln!(
            out,
            "  s{i}[\"{}{}\"]",
            prefix,
            escape(&format!("{}: {}", node.ref_id, node.label()))
        );
    }
    for (parent, child) in diagram.edges() {
        let dashed = diagram
            .nodes
            .get(parent)
            .zip(diagram.nodes.get(child))
            .is_some_and(|(p, c)| p.mark == Mark::Removed || c.mark == Mark::Removed);
        let arrow = if dashed { "-.->" } else { "-->" };
        let _ = writeln!(out, "  s{parent} {arrow} s{child}");
    }
    for mark in diagram.marks() {
        let (fill, stroke) = mark.colours();
        let extra = if mark == Mark::Removed {
            ",stroke-dasharray: 5 5"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  classDef {} fill:{fill},stroke:{stroke}{extra}",
            mark.class()
        );
        let members: Vec<String> = diagram
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.mark == mark)
            .map(|(i, _)| format!("s{i}"))
            .collect();
        let _ = writeln!(out, "  class {} {}", members.join(","), mark.class());
    }
    out
}
