//! `graph`: Mermaid and DOT name every stage; SVG is valid, names every stage and renders to a
//! PNG that is not blank.

use companion::graph::command::{GraphArgs, run};
use companion::graph::{Diagram, Format, render};
use companion::live::GateArgs;
use pipeline::model::parse_pipelines;
use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg::{Options, Tree};

use super::{corpus, run_command};

/// Renders SVG text to a PNG and returns how many pixels are not the background colour.
fn rendered_ink(svg: &str) -> usize {
    let tree = Tree::from_str(svg, &Options::default()).expect("valid SVG");
    let size = tree.size().to_int_size();
    let mut pixmap = Pixmap::new(size.width(), size.height()).expect("pixmap");
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(&tree, Transform::default(), &mut pixmap.as_mut());
    let png = pixmap.encode_png().expect("png");
    assert!(png.starts_with(b"\x89PNG"));
    pixmap
        .pixels()
        .iter()
        .filter(|p| (p.red(), p.green(), p.blue()) != (255, 255, 255))
        .count()
}

const PIPELINE: &str = r#"{"application":"shop","name":"Release","stages":[
  {"refId":"1","type":"wait","name":"Soak <5 min>"},
  {"refId":"2","type":"manualJudgment","name":"Approve \"prod\"","requisiteStageRefIds":["1"]},
  {"refId":"3","type":"deploy","name":"Deploy","requisiteStageRefIds":["2"]},
  {"refId":"4","type":"webhook","name":"Notify","requisiteStageRefIds":["2","3"]}]}"#;

#[test]
fn svg_is_valid_names_every_stage_and_is_not_blank() {
    let pipeline = parse_pipelines(PIPELINE.as_bytes())
        .expect("parse")
        .remove(0);
    let svg = render(&Diagram::from_pipeline(&pipeline), Format::Svg).expect("svg");
    for label in [
        "Soak &lt;5 min&gt;",
        "Approve",
        "Deploy (deploy)",
        "Notify (webhook)",
    ] {
        assert!(svg.contains(label), "{label} missing from\n{svg}");
    }
    assert!(rendered_ink(&svg) > 1000, "the rendering is blank");
}

#[test]
fn every_corpus_pipeline_draws_in_every_format() {
    let Some(files) = corpus("pipelines", "every_corpus_pipeline_draws_in_every_format") else {
        return;
    };
    for path in files {
        for pipeline in parse_pipelines(&std::fs::read(&path).expect("read")).expect("parse") {
            let diagram = Diagram::from_pipeline(&pipeline);
            let mermaid = render(&diagram, Format::Mermaid).expect("mermaid");
            let dot = render(&diagram, Format::Dot).expect("dot");
            let svg = render(&diagram, Format::Svg).expect("svg");
            for node in &diagram.nodes {
                assert!(
                    mermaid.contains(&format!("\"{}: ", node.ref_id)),
                    "{}",
                    path.display()
                );
                assert!(
                    dot.contains(&format!("\"{}: ", node.ref_id)),
                    "{}",
                    path.display()
                );
            }
            assert!(
                svg.matches("<rect").count() >= diagram.nodes.len(),
                "{}",
                path.display()
            );
            assert!(rendered_ink(&svg) > 0, "{}: blank", path.display());
        }
    }
}

#[test]
fn mermaid_marks_infrastructure_and_escapes_labels() {
    let pipeline = parse_pipelines(PIPELINE.as_bytes())
        .expect("parse")
        .remove(0);
    let text = render(&Diagram::from_pipeline(&pipeline), Format::Mermaid).expect("mermaid");
    assert!(text.starts_with("flowchart TD\n"), "{text}");
    assert!(
        text.contains("s1[\"2: Approve #quot;prod#quot; (manualJudgment)\"]"),
        "{text}"
    );
    assert!(
        text.contains("s0 --> s1") && text.contains("s2 --> s3") && text.contains("s1 --> s3"),
        "{text}"
    );
    assert!(
        text.contains("classDef unmanaged") && text.contains("class s2 unmanaged"),
        "{text}"
    );
}

#[test]
fn graph_command_reads_tf_files_and_needs_a_choice_among_many() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tf = dir.path().join("p.tf");
    std::fs::write(
        &tf,
        "resource \"spinnaker_pipeline\" \"a\" {\n  application = \"shop\"\n  name        = \"A\"\n\n  wait_stage {\n    ref_id = \"1\"\n    name   = \"First\"\n  }\n\n  wait_stage {\n    ref_id     = \"2\"\n    name       = \"Second\"\n    depends_on = [\"1\"]\n  }\n}\n\nresource \"spinnaker_pipeline\" \"b\" {\n  application = \"shop\"\n  name        = \"B\"\n}\n",
    )
    .expect("write");
    let args = |pipeline: Option<&str>| GraphArgs {
        source: Some(tf.display().to_string()),
        format: Format::Dot,
        pipeline: pipeline.map(str::to_owned),
        application: None,
        gate: GateArgs {
            endpoint: None,
            token: None,
        },
    };
    let (_, dot) = run_command(|o| run(&args(Some("A")), o));
    assert!(dot.contains("s0 -> s1;"), "{dot}");
    assert!(dot.contains("\"2: Second (wait)\""), "{dot}");
    let mut out = Vec::new();
    let err = run(&args(None), &mut out).expect_err("ambiguous");
    assert!(
        err.to_string()
            .contains("holds 2 pipelines (\"A\", \"B\"); choose one with --pipeline"),
        "{err}"
    );
}
