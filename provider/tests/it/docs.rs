//! Fails when docs/ differs from what the schema and examples/ produce;
//! `SPINHCL_UPDATE_DOCS=1` rewrites the pages instead.

use std::path::PathBuf;

use provider::provider::SpinnakerProvider;

#[test]
fn docs_are_fresh() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let provider = SpinnakerProvider::new(Box::new(|_| None));
    let pages = provider::docs::render(&provider, &root.join("examples"));
    let update = std::env::var("SPINHCL_UPDATE_DOCS").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for (path, text) in &pages {
        let file = root.join(path);
        let current = std::fs::read_to_string(&file).unwrap_or_default();
        if current == *text {
            continue;
        }
        if update {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, text).unwrap();
            eprintln!("docs: rewrote {}", path.display());
        } else {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale provider docs: {stale:?}; run `cargo xtask docs` (or SPINHCL_UPDATE_DOCS=1 cargo test -p provider --test it -- docs)"
    );
}

#[test]
fn docs_have_registry_sections() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let provider = SpinnakerProvider::new(Box::new(|_| None));
    let pages = provider::docs::render(&provider, &root.join("examples"));
    let resource = &pages[&PathBuf::from("docs/resources/application.md")];
    for section in [
        "## Example Usage",
        "### Required",
        "### Optional",
        "### Read-Only",
        "## Import",
        "terraform import spinnaker_application",
    ] {
        assert!(
            resource.contains(section),
            "docs/resources/application.md lacks {section:?}"
        );
    }
    let data = &pages[&PathBuf::from("docs/data-sources/application.md")];
    assert!(
        data.contains("data \"spinnaker_application\""),
        "data source page lacks its example"
    );
}
