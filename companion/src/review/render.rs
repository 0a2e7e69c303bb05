//! Markdown (for a pull-request comment) and plain-text renderings of a [`Review`].

use std::fmt::Write;

use super::Review;
use super::diff::{FieldChange, ItemAction, ItemChange, PipelineChange};
use super::plan::Action;
use crate::graph::mermaid;

/// HTML-escapes a value for a Markdown table cell (pipes included).
fn cell(value: Option<&str>) -> String {
    match value {
        None => "<i>unset</i>".to_owned(),
        Some(v) => {
            let escaped = v
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('|', "&#124;")
                .replace('\n', " ");
            format!("<code>{escaped}</code>")
        }
    }
}

fn item_symbol(action: ItemAction) -> &'static str {
    match action {
        ItemAction::Added => "+",
        ItemAction::Removed => "-",
        ItemAction::Changed => "~",
    }
}

fn counts(items: &[ItemChange]) -> String {
    let n = |a: ItemAction| items.iter().filter(|i| i.action == a).count();
    format!(
        "+{} ~{} -{}",
        n(ItemAction::Added),
        n(ItemAction::Changed),
        n(ItemAction::Removed)
    )
}

fn md_fields(out: &mut String, fields: &[FieldChange], indent: &str) {
    if fields.is_empty() {
        return;
    }
    let _ = writeln!(out, "{indent}| Field | Before | After |");
    let _ = writeln!(out, "{indent}|---|---|---|");
    for f in fields {
        let _ = writeln!(
            out,
            "{indent}| `{}` | {} | {} |",
            f.field,
            cell(f.before.as_deref()),
            cell(f.after.as_deref())
        );
    }
}

fn md_items(out: &mut String, title: &str, items: &[ItemChange], details: bool) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "**{title}**\n");
    for item in items {
        let verb = match item.action {
            ItemAction::Added => "added",
            ItemAction::Removed => "removed",
            ItemAction::Changed => "changed",
        };
        let name = if item.name.is_empty() {
            String::new()
        } else {
            format!(" {:?}", item.name)
        };
        let _ = writeln!(
            out,
            "- `{}` {verb} `{}`{name} ({})\n",
            item_symbol(item.action),
            item.key,
            item.block
        );
        if details {
            md_fields(out, &item.fields, "  ");
            if !item.fields.is_empty() {
                out.push('\n');
            }
        }
    }
}

fn md_pipeline(out: &mut String, p: &PipelineChange) {
    let _ = writeln!(
        out,
        "### `{}` {}: pipeline {:?} of application {:?}\n",
        p.action.symbol(),
        p.address,
        p.name,
        p.application
    );
    let _ = writeln!(out, "The pipeline is **{}**.\n", p.action.verb());
    for w in &p.warnings {
        let _ = writeln!(out, "> [!WARNING]\n> {w}\n");
    }
    // For a destroyed pipeline every value goes away: list what goes, not each field.
    let details = p.action != Action::Destroy;
    if details && !p.fields.is_empty() {
        let _ = writeln!(out, "**Pipeline fields**\n");
        md_fields(out, &p.fields, "");
        out.push('\n');
    }
    md_items(out, "Stages", &p.stages, details);
    md_items(out, "Triggers", &p.triggers, details);
    md_items(
        out,
        "Parameters, notifications and lock",
        &p.blocks,
        details,
    );
    if !p.graph.nodes.is_empty() {
        let _ = writeln!(
            out,
            "**Stage graph after the change** (green added, yellow changed, red dashed removed, grey unmanaged infrastructure)\n"
        );
        let _ = writeln!(out, "```mermaid\n{}```\n", mermaid::render(&p.graph));
    }
}

/// The pull-request comment.
pub fn markdown(review: &Review) -> String {
    let mut out = String::new();
    let changed = review.pipelines.len();
    let _ = writeln!(
        out,
        "## spinhcl review: {changed} pipeline{} change{}\n",
        if changed == 1 { "" } else { "s" },
        if changed == 1 { "s" } else { "" }
    );
    if !review.terraform_version.is_empty() {
        let _ = writeln!(
            out,
            "Plan made by Terraform {}.\n",
            review.terraform_version
        );
    }
    if changed == 0 && review.applications.is_empty() {
        out.push_str("No Spinnaker pipeline or application changes.\n");
        return out;
    }
    if changed > 0 {
        out.push_str("| Action | Pipeline | Application | Stages | Triggers | Warnings |\n|---|---|---|---|---|---|\n");
        for p in &review.pipelines {
            let _ = writeln!(
                out,
                "| `{}` {} | {} | {} | {} | {} | {} |",
                p.action.symbol(),
                p.action.verb(),
                cell(Some(&p.name)),
                cell(Some(&p.application)),
                counts(&p.stages),
                counts(&p.triggers),
                p.warnings.len()
            );
        }
        out.push('\n');
    }
    if !review.applications.is_empty() {
        out.push_str("**Applications**\n\n");
        for a in &review.applications {
            let _ = writeln!(
                out,
                "- `{}` {} is {}",
                a.action.symbol(),
                a.address,
                a.action.verb()
            );
        }
        out.push('\n');
    }
    for p in &review.pipelines {
        md_pipeline(&mut out, p);
    }
    out
}

fn text_fields(out: &mut String, fields: &[FieldChange], indent: &str) {
    for f in fields {
        let _ = writeln!(
            out,
            "{indent}{}: {} -> {}",
            f.field,
            f.before.as_deref().unwrap_or("(unset)"),
            f.after.as_deref().unwrap_or("(unset)")
        );
    }
}

/// Plain text, for terminals and logs.
pub fn text(review: &Review) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} pipeline change(s)", review.pipelines.len());
    for a in &review.applications {
        let _ = writeln!(
            out,
            "{} {} ({})",
            a.action.symbol(),
            a.address,
            a.action.verb()
        );
    }
    for p in &review.pipelines {
        let _ = writeln!(
            out,
            "\n{} {} ({}): pipeline {:?} of application {:?}",
            p.action.symbol(),
            p.address,
            p.action.verb(),
            p.name,
            p.application
        );
        for w in &p.warnings {
            let _ = writeln!(out, "  warning: {w}");
        }
        text_fields(&mut out, &p.fields, "  ");
        for (title, items) in [
            ("stage", &p.stages),
            ("trigger", &p.triggers),
            ("block", &p.blocks),
        ] {
            for item in items {
                let _ = writeln!(
                    out,
                    "  {} {title} {} {:?} ({})",
                    item_symbol(item.action),
                    item.key,
                    item.name,
                    item.block
                );
                text_fields(&mut out, &item.fields, "      ");
            }
        }
    }
    out
}
