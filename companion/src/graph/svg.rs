//! SVG output: the diagram is laid out and drawn by `layout-rs` in-process (no Graphviz).

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::geometry::Point;
use layout::core::style::StyleAttr;
use layout::std_shapes::shapes::{Arrow, Element, ShapeKind};
use layout::topo::layout::VisualGraph;

use super::Diagram;

fn colour(hex: &str) -> Color {
    let value = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap_or(0xffffff);
    // layout-rs colours are RGBA.
    Color::new((value << 8) | 0xff)
}

/// Lays out and draws the diagram. An empty diagram gives a small SVG saying so.
///
/// # Errors
/// [`crate::Error::Layout`] if the layout library fails on the graph.
pub fn render(diagram: &Diagram) -> Result<String, crate::Error> {
    if diagram.nodes.is_empty() {
        return Ok(concat!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"200\" height=\"40\" viewBox=\"0 0 200 40\">",
            "<rect x=\"0\" y=\"0\" width=\"200\" height=\"40\" fill=\"#ffffff\" stroke=\"#555555\"/>",
            "<text x=\"100\" y=\"25\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"14\">no stages</text>",
            "</svg>\n"
        )
        .to_owned());
    }
    let diagram = diagram.clone();
    // layout-rs asserts internally; a failure there must not abort the CLI.
    std::panic::catch_unwind(move || draw(&diagram)).map_err(|panic| {
        let reason = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "internal error".to_owned());
        crate::Error::Layout(reason)
    })
}

fn draw(diagram: &Diagram) -> String {
    let mut graph = VisualGraph::new(Orientation::TopToBottom);
    let handles: Vec<_> = diagram
        .nodes
        .iter()
        .map(|node| {
            let label = format!("{}: {}", node.ref_id, node.label());
            let (fill, stroke) = node.mark.colours();
            let look = StyleAttr::new(colour(stroke), 2, Some(colour(fill)), 6, 14);
            let width = (label.chars().count() as f64 * 8.0 + 24.0).clamp(80.0, 480.0);
            let size = Point::new(width, 40.0);
            graph.add_node(Element::create(
                ShapeKind::new_box(&label),
                look,
                Orientation::TopToBottom,
                size,
            ))
        })
        .collect();
    for (parent, child) in diagram.edges() {
        if let (Some(p), Some(c)) = (handles.get(parent), handles.get(child)) {
            graph.add_edge(Arrow::simple(""), *p, *c);
        }
    }
    let mut writer = SVGWriter::new();
    graph.do_it(false, false, false, &mut writer);
    writer.finalize()
}
