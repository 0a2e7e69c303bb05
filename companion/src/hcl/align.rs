//! Aligns the `=` of consecutive one-line attributes the way `terraform fmt` does.
//!
//! `terraform fmt` (hclwrite) lines up the equals signs of a run of adjacent lines that each hold
//! an assignment and leave no bracket open; a line opening a multi-line value, a block line, a
//! closing bracket, a comment or a blank line ends the run. hcl-rs writes one space on each
//! side of `=`, so this pass only widens the gap before it.

/// Where the assignment `=` of a line is, if the line is a one-line assignment: the byte index
/// of `=` and the width (in characters) of the text before it, trailing spaces trimmed.
fn assignment(line: &str) -> Option<(usize, usize)> {
    let bytes = line.as_bytes();
    let mut depth: i32 = 0;
    let mut in_string = false;
    let mut escaped = false;
    let mut eq = None;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'#' if depth == 0 && eq.is_none() => return None,
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b'=' if depth == 0 && eq.is_none() => {
                let prev = i.checked_sub(1).and_then(|p| bytes.get(p)).copied();
                let next = bytes.get(i + 1).copied();
                let operator = matches!(prev, Some(b'=' | b'!' | b'<' | b'>'))
                    || matches!(next, Some(b'=' | b'>'));
                if !operator {
                    eq = Some(i);
                }
            }
            _ => {}
        }
    }
    if depth != 0 || in_string {
        return None;
    }
    let eq = eq?;
    let lead = line.get(..eq)?.trim_end();
    if lead.trim().is_empty() {
        return None;
    }
    Some((eq, lead.chars().count()))
}

/// Re-spaces every run of one-line assignments so their `=` line up.
pub fn align(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let found: Vec<Option<(usize, usize)>> = lines.iter().map(|l| assignment(l)).collect();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut i = 0;
    while i < lines.len() {
        let end = (i..lines.len())
            .find(|&j| found.get(j).copied().flatten().is_none())
            .unwrap_or(lines.len());
        if end == i {
            out.push_str(lines.get(i).copied().unwrap_or_default());
            i += 1;
        } else {
            let width = (i..end)
                .filter_map(|j| found.get(j).copied().flatten().map(|(_, w)| w))
                .max()
                .unwrap_or(0);
            for j in i..end {
                let line = lines.get(j).copied().unwrap_or_default();
                match found.get(j).copied().flatten() {
                    Some((eq, lead_width)) => {
                        let lead = line.get(..eq).unwrap_or(line).trim_end();
                        let rest = line.get(eq..).unwrap_or_default();
                        out.push_str(lead);
                        out.push_str(&" ".repeat(width - lead_width + 1));
                        out.push_str(rest);
                    }
                    None => out.push_str(line),
                }
                if j + 1 < end {
                    out.push('\n');
                }
            }
            i = end;
        }
        if i < lines.len() {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::align;

    #[test]
    fn aligns_runs_and_breaks_on_blocks_and_open_brackets() {
        let input = "resource \"a\" \"b\" {\n  a = 1\n  bbbbbb = {\n    c = 1\n    dddddddddd = 2\n  }\n  e = \"x = y\"\n  ff = [\"1\", \"2\"]\n\n  g = a == b\n  hhh = 3\n}\n";
        let want = "resource \"a\" \"b\" {\n  a = 1\n  bbbbbb = {\n    c          = 1\n    dddddddddd = 2\n  }\n  e  = \"x = y\"\n  ff = [\"1\", \"2\"]\n\n  g   = a == b\n  hhh = 3\n}\n";
        assert_eq!(align(input), want);
    }

    #[test]
    fn escaped_quotes_do_not_end_strings() {
        let input = "  a = \"say \\\"{\\\" = 1\"\n  bb = 2\n";
        assert_eq!(align(input), "  a  = \"say \\\"{\\\" = 1\"\n  bb = 2\n");
    }
}
