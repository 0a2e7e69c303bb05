//! `validate`: `file:line:col` positions for JSON and `.tf`, exit statuses, and the corpus
//! (every real export passes, every non-export fails with a clear error and no panic).

use companion::Status;
use companion::input::Source;
use companion::validate::{ValidateArgs, check, run};
use pipeline::validate::Severity;

use super::{corpus, run_command};

fn errors(source: &Source) -> Vec<String> {
    check(source)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.to_string())
        .collect()
}

#[test]
fn json_errors_point_at_the_field() {
    let text = "{\n  \"application\": \"shop\",\n  \"name\": \"p\",\n  \"stages\": [\n    {\"refId\": \"1\", \"type\": \"wait\", \"name\": \"a\"},\n    {\"refId\": \"2\", \"type\": \"wait\", \"name\": \"b\",\n     \"requisiteStageRefIds\": [\"1\", \"9\"]}\n  ]\n}\n";
    let found = errors(&Source::from_text("p.json", text));
    assert_eq!(found.len(), 1, "{found:?}");
    // Line 7, column 36: the "9" entry.
    assert!(
        found[0].starts_with("p.json:7:36: error: Unknown Stage Dependency:"),
        "{found:?}"
    );
    assert!(
        found[0].ends_with("(at stages[1].requisiteStageRefIds[1])"),
        "{found:?}"
    );
}

#[test]
fn json_syntax_errors_carry_their_position() {
    let found = errors(&Source::from_text(
        "bad.json",
        "{\n  \"name\": \"p\",\n  oops\n}",
    ));
    assert_eq!(found.len(), 1);
    assert!(
        found[0].starts_with("bad.json:3:3: error: invalid JSON:"),
        "{found:?}"
    );
}

#[test]
fn terraform_errors_point_at_the_attribute_or_block() {
    let text = r#"resource "spinnaker_application" "shop" {
  name  = "shop"
  email = "a@b.c"
}

resource "spinnaker_pipeline" "deploy" {
  application = spinnaker_application.shop.name
  name        = "Deploy"

  wait_stage {
    ref_id    = "1"
    name      = "Soak"
    wait_time = 30
  }

  manual_judgment_stage {
    ref_id     = "2"
    name       = "Approve"
    depends_on = ["1", "1"]
  }

  wait_stage {
    ref_id     = "1"
    name       = "Again"
    depends_on = ["2"]
  }

  custom_stage {
    ref_id = "4"
    name   = "Resize"
    type   = "resizeServerGroup"
    json   = jsonencode({ capacity = { min = 1 } })
  }
}
"#;
    let found = errors(&Source::from_text("main.tf", text));
    let at = |needle: &str| {
        found
            .iter()
            .find(|f| f.contains(needle))
            .unwrap_or_else(|| panic!("no finding with {needle:?} in {found:#?}"))
    };
    // The duplicate refId: the second wait_stage's ref_id attribute (line 23, column 5).
    assert!(
        at("Duplicate Stage refId").starts_with("main.tf:23:5: error:"),
        "{found:#?}"
    );
    // The infrastructure type in custom_stage: its `type` attribute (line 31, column 5).
    assert!(
        at("Infrastructure Stage").starts_with("main.tf:31:5: error:"),
        "{found:#?}"
    );
    assert!(
        at("Infrastructure Stage").contains("custom_stage[0].type"),
        "{found:#?}"
    );
}

#[test]
fn terraform_reading_problems_are_errors_with_positions() {
    let text = "resource \"spinnaker_pipeline\" \"p\" {\n  application = \"shop\"\n  name        = \"p\"\n  colour      = \"red\"\n\n  wait_stage {\n    name = \"no ref\"\n  }\n\n  teleport_stage {\n  }\n}\n";
    let found = errors(&Source::from_text("p.tf", text));
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("p.tf:4:3: error:")
                && f.contains("unsupported argument \"colour\"")),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|f| f.starts_with("p.tf:6:3: error:")
            && f.contains("missing required argument \"ref_id\"")),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|f| f.starts_with("p.tf:10:3: error:")
            && f.contains("unsupported block type \"teleport_stage\"")),
        "{found:#?}"
    );
    let broken = errors(&Source::from_text(
        "broken.tf",
        "resource \"spinnaker_pipeline\" \"p\" {\n  name = \n}\n",
    ));
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert!(
        broken[0].starts_with("broken.tf:2:10: error: invalid HCL"),
        "{broken:?}"
    );
    assert!(broken[0].contains("invalid HCL"), "{broken:?}");
}

#[test]
fn every_real_export_validates_and_every_non_export_fails() {
    let Some(good) = corpus(
        "pipelines",
        "every_real_export_validates_and_every_non_export_fails",
    ) else {
        return;
    };
    let Some(bad) = corpus(
        "not-exports",
        "every_real_export_validates_and_every_non_export_fails",
    ) else {
        return;
    };
    for path in &good {
        let source = Source::read(&path.display().to_string()).expect("read");
        assert_eq!(errors(&source), Vec::<String>::new(), "{}", path.display());
    }
    for path in &bad {
        let source = Source::read(&path.display().to_string()).expect("read");
        let found = errors(&source);
        assert!(!found.is_empty(), "{} passed validation", path.display());
        let prefix = format!("{}:", path.display());
        assert!(found.iter().all(|f| f.starts_with(&prefix)), "{found:?}");
    }
    let args = ValidateArgs {
        paths: bad.iter().map(|p| p.display().to_string()).collect(),
        quiet: true,
    };
    let (status, out) = run_command(|o| run(&args, o));
    assert_eq!(status, Status::Findings);
    assert!(out.lines().all(|l| l.contains(": error: ")), "{out}");
    let args = ValidateArgs {
        paths: good.iter().map(|p| p.display().to_string()).collect(),
        quiet: true,
    };
    let (status, out) = run_command(|o| run(&args, o));
    assert_eq!((status, out.as_str()), (Status::Success, ""));
}
