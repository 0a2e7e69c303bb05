//! Import ids: composite ids are `/`-separated with each part URL-escaped,
//! so a `/` inside a part is written `%2F`. Errors echo the template and the
//! id received.

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

/// Characters escaped inside one id part.
const PART: &AsciiSet = &CONTROLS.add(b'/').add(b'%');

/// A malformed import id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("expected an import id of the form {template:?}, got: {input:?} ({reason})")]
pub struct ImportIdError {
    /// The documented template, e.g. `<application>/<pipeline name>`.
    pub template: String,
    /// What the user gave.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Splits `input` into the parts `template` names (`<a>/<b>`), URL-decoding
/// each part. Every part must be non-empty.
pub fn parse_import_id(template: &str, input: &str) -> Result<Vec<String>, ImportIdError> {
    let err = |reason: String| ImportIdError {
        template: template.to_owned(),
        input: input.to_owned(),
        reason,
    };
    let expected = template.split('/').count();
    let raw: Vec<&str> = input.split('/').collect();
    if raw.len() != expected {
        return Err(err(format!(
            "{} part{} instead of {expected}; escape a \"/\" inside a part as %2F",
            raw.len(),
            if raw.len() == 1 { "" } else { "s" }
        )));
    }
    raw.iter()
        .zip(template.split('/'))
        .map(|(part, name)| {
            if part.is_empty() {
                return Err(err(format!("{name} is empty")));
            }
            percent_decode_str(part)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| err(format!("{name} is not valid UTF-8 once unescaped")))
        })
        .collect()
}

/// Joins parts into an import id, escaping `/` and `%` inside each.
pub fn format_import_id(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| utf8_percent_encode(p, PART).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const TEMPLATE: &str = "<application>/<pipeline name>";

    #[test]
    fn parses_and_unescapes() {
        assert_eq!(
            parse_import_id(TEMPLATE, "app/deploy%2Fprod").unwrap(),
            vec!["app", "deploy/prod"]
        );
        assert_eq!(parse_import_id("<name>", "myapp").unwrap(), vec!["myapp"]);
    }

    #[test]
    fn errors_echo_template_and_input() {
        let err = parse_import_id(TEMPLATE, "just-an-app").unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected an import id of the form \"<application>/<pipeline name>\", got: \"just-an-app\" \
             (1 part instead of 2; escape a \"/\" inside a part as %2F)"
        );
        let err = parse_import_id(TEMPLATE, "app/").unwrap_err();
        assert!(
            err.to_string().contains("<pipeline name> is empty"),
            "{err}"
        );
    }

    proptest! {
        #[test]
        fn round_trips(a in ".{1,10}", b in ".{1,10}") {
            let id = format_import_id(&[&a, &b]);
            prop_assert_eq!(parse_import_id(TEMPLATE, &id).unwrap(), vec![a, b]);
        }
    }
}
