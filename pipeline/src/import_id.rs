//! Terraform import IDs: templates like `<application>/<pipeline_name>` with URL-escaped parts.
//!
//! The separator is `/`. A `/` or `%` inside a part is written `%2F` / `%25`, so any string can be
//! a part (Cloudflare's `importpath` convention). A malformed ID gets an error that prints the
//! expected template and the value received.

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

/// Characters escaped inside one part: controls, the separator, `%` and space.
const PART: &AsciiSet = &CONTROLS.add(b'/').add(b'%').add(b' ');

/// An import ID that does not fit its template, or a bad template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportIdError {
    /// The ID does not match the template.
    #[error("unexpected format of ID {input:?}: expected {template:?} ({reason})")]
    Malformed {
        /// The expected template, e.g. `<application>/<pipeline_name>`.
        template: String,
        /// The value received.
        input: String,
        /// What is wrong.
        reason: String,
    },
    /// The template itself is not `<a>/<b>/...`.
    #[error("invalid import ID template {0:?}: every part must look like <name>")]
    InvalidTemplate(String),
    /// `format_import_id` got a different number of parts than the template has.
    #[error("import ID template {template:?} has {expected} parts, got {got}")]
    PartCount {
        /// The template.
        template: String,
        /// Number of parts in the template.
        expected: usize,
        /// Number of parts given.
        got: usize,
    },
}

fn template_parts(template: &str) -> Result<Vec<&str>, ImportIdError> {
    template
        .split('/')
        .map(|p| {
            p.strip_prefix('<')
                .and_then(|p| p.strip_suffix('>'))
                .filter(|name| !name.is_empty() && !name.contains(['<', '>']))
                .ok_or_else(|| ImportIdError::InvalidTemplate(template.to_owned()))
        })
        .collect()
}

/// Splits `input` by the template's `/` separators and URL-decodes each part.
///
/// # Errors
///
/// [`ImportIdError::Malformed`] when the part count differs, a part is empty, or a part is not
/// valid UTF-8 after decoding; [`ImportIdError::InvalidTemplate`] for a bad template.
pub fn parse_import_id(template: &str, input: &str) -> Result<Vec<String>, ImportIdError> {
    let names = template_parts(template)?;
    let malformed = |reason: String| ImportIdError::Malformed {
        template: template.to_owned(),
        input: input.to_owned(),
        reason,
    };
    let raw: Vec<&str> = input.split('/').collect();
    if raw.len() != names.len() {
        return Err(malformed(format!(
            "found {} part(s) separated by '/', expected {}; escape '/' inside a part as %2F",
            raw.len(),
            names.len()
        )));
    }
    raw.iter()
        .zip(&names)
        .map(|(part, name)| {
            if part.is_empty() {
                return Err(malformed(format!("<{name}> is empty")));
            }
            percent_decode_str(part)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| malformed(format!("<{name}> is not valid UTF-8 after URL-decoding")))
        })
        .collect()
}

/// Joins parts with `/`, URL-escaping `/`, `%`, spaces and control characters inside each part.
///
/// # Errors
///
/// [`ImportIdError::PartCount`] when the number of parts differs from the template,
/// [`ImportIdError::InvalidTemplate`] for a bad template.
pub fn format_import_id<S: AsRef<str>>(
    template: &str,
    parts: &[S],
) -> Result<String, ImportIdError> {
    let names = template_parts(template)?;
    if names.len() != parts.len() {
        return Err(ImportIdError::PartCount {
            template: template.to_owned(),
            expected: names.len(),
            got: parts.len(),
        });
    }
    Ok(parts
        .iter()
        .map(|p| utf8_percent_encode(p.as_ref(), PART).to_string())
        .collect::<Vec<_>>()
        .join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T: &str = "<application>/<pipeline_name>";

    #[test]
    fn parses_and_unescapes() {
        assert_eq!(
            parse_import_id(T, "app/Deploy to prod").unwrap(),
            ["app", "Deploy to prod"]
        );
        assert_eq!(
            parse_import_id(T, "app/a%2Fb%25c").unwrap(),
            ["app", "a/b%c"]
        );
        assert_eq!(parse_import_id("<id>", "abc").unwrap(), ["abc"]);
    }

    #[test]
    fn malformed_ids_print_template_and_input() {
        let err = parse_import_id(T, "app/a/b").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unexpected format of ID \"app/a/b\": expected \"<application>/<pipeline_name>\" (found 3 part(s) separated by '/', expected 2; escape '/' inside a part as %2F)"
        );
        let err = parse_import_id(T, "app/").unwrap_err().to_string();
        assert!(
            err.contains("<pipeline_name> is empty") && err.contains("\"app/\""),
            "{err}"
        );
        let err = parse_import_id(T, "app/%FF").unwrap_err().to_string();
        assert!(err.contains("not valid UTF-8"), "{err}");
        assert!(matches!(
            parse_import_id("app/name", "a/b"),
            Err(ImportIdError::InvalidTemplate(_))
        ));
    }

    #[test]
    fn formats_with_escapes() {
        assert_eq!(
            format_import_id(T, &["app", "a/b c"]).unwrap(),
            "app/a%2Fb%20c"
        );
        assert!(matches!(
            format_import_id(T, &["app"]),
            Err(ImportIdError::PartCount {
                expected: 2,
                got: 1,
                ..
            })
        ));
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(a in "\\PC{1,20}", b in "\\PC{1,20}") {
            let id = format_import_id(T, &[&a, &b]).unwrap();
            prop_assert_eq!(parse_import_id(T, &id).unwrap(), vec![a, b]);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,30}") {
            let _ = parse_import_id(T, &s);
        }
    }
}
