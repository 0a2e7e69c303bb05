//! Renders the Terraform Registry documentation (`docs/index.md`,
//! `docs/resources/<name>.md`, `docs/data-sources/<name>.md`) from the
//! schema descriptions and the files under `examples/`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::provider::SpinnakerProvider;
use crate::schema::{Attribute, Block, Mode, Nesting, Schema};
use crate::value::Type;

/// Renders every page, keyed by its path relative to the repository root.
/// `examples` is the repository's `examples/` directory.
pub fn render(provider: &SpinnakerProvider, examples: &Path) -> BTreeMap<PathBuf, String> {
    let schemas = provider.schemas();
    let mut pages = BTreeMap::new();
    pages.insert(
        PathBuf::from("docs/index.md"),
        index(schemas.provider, examples),
    );
    for (name, schema) in &schemas.resources {
        let dir = examples.join("resources").join(name);
        pages.insert(
            PathBuf::from(format!("docs/resources/{}.md", short(name))),
            page(name, "Resource", schema, &dir, true),
        );
    }
    for (name, schema) in &schemas.data_sources {
        let dir = examples.join("data-sources").join(name);
        pages.insert(
            PathBuf::from(format!("docs/data-sources/{}.md", short(name))),
            page(name, "Data Source", schema, &dir, false),
        );
    }
    pages
}

/// `spinnaker_application` -> `application`, the Registry's file naming.
fn short(name: &str) -> &str {
    name.strip_prefix("spinnaker_").unwrap_or(name)
}

fn example(path: &Path, lang: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(format!("```{lang}\n{}\n```\n", text.trim_end()))
}

fn front_matter(title: &str, description: &str) -> String {
    let mut out = String::from("---\n");
    let _ = writeln!(out, "page_title: \"{title}\"");
    out.push_str("subcategory: \"\"\ndescription: |-\n");
    for line in description.lines() {
        let _ = writeln!(out, "  {line}");
    }
    out.push_str("---\n\n");
    out
}

fn index(schema: &Schema, examples: &Path) -> String {
    let mut out = front_matter("Spinnaker Provider", schema.block.description);
    out.push_str("# Spinnaker Provider\n\n");
    let _ = writeln!(out, "{}\n", schema.block.description);
    out.push_str(
        "The provider talks to Spinnaker's API gateway, Gate. Settings left out of the provider block \
         fall back to the environment variables named below.\n\n",
    );
    if let Some(ex) = example(&examples.join("provider/provider.tf"), "terraform") {
        out.push_str("## Example Usage\n\n");
        out.push_str(&ex);
        out.push('\n');
    }
    out.push_str("## Schema\n");
    block_sections(&mut out, &schema.block, "");
    out
}

fn page(name: &str, kind: &str, schema: &Schema, dir: &Path, import: bool) -> String {
    let mut out = front_matter(
        &format!("{name} {kind} - terraform-provider-spinnaker"),
        schema.block.description,
    );
    let _ = writeln!(out, "# {name} ({kind})\n");
    let _ = writeln!(out, "{}\n", schema.block.description);
    let file = if kind == "Resource" {
        "resource.tf"
    } else {
        "data-source.tf"
    };
    if let Some(ex) = example(&dir.join(file), "terraform") {
        out.push_str("## Example Usage\n\n");
        out.push_str(&ex);
        out.push('\n');
    }
    out.push_str("## Schema\n");
    block_sections(&mut out, &schema.block, "");
    if import && let Some(ex) = example(&dir.join("import.sh"), "shell") {
        out.push_str("\n## Import\n\nImport is supported using the following syntax:\n\n");
        out.push_str(&ex);
        if let Some(block) = example(&dir.join("import-block.tf"), "terraform") {
            out.push_str("\nWith Terraform 1.5 or later, an `import` block does the same:\n\n");
            out.push_str(&block);
        }
    }
    out
}

fn type_name(t: &Type) -> String {
    match t {
        Type::Bool => "Boolean".into(),
        Type::Number => "Number".into(),
        Type::String => "String".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(e) => format!("List of {}", type_name(e)),
        Type::Set(e) => format!("Set of {}", type_name(e)),
        Type::Map(e) => format!("Map of {}", type_name(e)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}

fn attribute_line(a: &Attribute, anchor: &str) -> String {
    let mut traits = vec![type_name(&a.ty)];
    if a.sensitive {
        traits.push("Sensitive".into());
    }
    if a.deprecation.is_some() {
        traits.push("Deprecated".into());
    }
    let mut line = format!("- `{}` ({}) {}", a.name, traits.join(", "), a.description);
    if a.requires_replace {
        line.push_str(" Changing this forces a new resource.");
    }
    if let Some(d) = a.deprecation {
        let _ = write!(line, " **Deprecated:** {d}");
    }
    if let Type::Object(_) = a.ty {
        let _ = write!(
            line,
            " (see [below for nested schema](#nestedatt--{anchor}{}))",
            a.name
        );
    }
    line
}

/// A docs section title and which attributes belong in it.
type Section = (&'static str, fn(Mode) -> bool);

fn block_sections(out: &mut String, block: &Block, anchor: &str) {
    let sections: [Section; 3] = [
        ("Required", |m| m == Mode::Required),
        ("Optional", |m| {
            matches!(m, Mode::Optional | Mode::OptionalComputed)
        }),
        ("Read-Only", |m| m == Mode::Computed),
    ];
    let heading = if anchor.is_empty() { "### " } else { "" };
    for (title, pick) in sections {
        let mut lines: Vec<(String, String)> = block
            .attributes
            .iter()
            .filter(|a| pick(a.mode))
            .map(|a| (a.name.to_owned(), attribute_line(a, anchor)))
            .collect();
        if title == "Optional" {
            for b in &block.blocks {
                let kind = match b.nesting {
                    Nesting::Single => "Block",
                    Nesting::List => "Block List",
                    Nesting::Set => "Block Set",
                };
                lines.push((
                    b.name.to_owned(),
                    format!(
                        "- `{}` ({kind}) {} (see [below for nested schema](#nestedblock--{anchor}{}))",
                        b.name, b.block.description, b.name
                    ),
                ));
            }
        }
        if lines.is_empty() {
            continue;
        }
        lines.sort();
        if heading.is_empty() {
            let _ = writeln!(out, "\n{title}:\n");
        } else {
            let _ = writeln!(out, "\n{heading}{title}\n");
        }
        for (_, line) in lines {
            let _ = writeln!(out, "{line}");
        }
    }
    for b in &block.blocks {
        let id = format!("{anchor}{}", b.name);
        let _ = writeln!(
            out,
            "\n<a id=\"nestedblock--{id}\"></a>\n### Nested Schema for `{}`",
            id.replace("--", ".")
        );
        block_sections(out, &b.block, &format!("{id}--"));
    }
    for a in &block.attributes {
        if let Type::Object(attrs) = &a.ty {
            let id = format!("{anchor}{}", a.name);
            let _ = writeln!(
                out,
                "\n<a id=\"nestedatt--{id}\"></a>\n### Nested Schema for `{}`\n\nRead-Only:\n",
                id.replace("--", ".")
            );
            for (k, t) in attrs {
                let _ = writeln!(out, "- `{k}` ({})", type_name(t));
            }
        }
    }
}
