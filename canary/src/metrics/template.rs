//! Query templates: `${name}` placeholders expanded from the scope (Kayenta's
//! `QueryConfigUtils`, spinnaker.md §6.4).
//!
//! Bindings, later ones winning: the scope's `scope` and `location`, the query
//! config's own `scope`/`location`-style attributes given by the caller, then every
//! `extendedScopeParams` entry. An undefined placeholder is an error. Inline templates
//! store `${` escaped as `$\{`, which is unescaped first.

use std::collections::BTreeMap;

use crate::config::{CanaryConfig, MetricQuery};

use super::CanaryScope;

/// Why a template could not be expanded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplateError {
    /// `customFilterTemplate` names a template the config does not define.
    #[error("custom filter template {0:?} is not defined in the config's templates")]
    MissingTemplate(String),
    /// A placeholder has no value.
    #[error("no value for placeholder ${{{0}}} in template {1:?}")]
    Unbound(String, String),
    /// `${` without a closing `}`.
    #[error("unterminated placeholder in template {0:?}")]
    Unterminated(String),
}

/// The template that applies to a query, if any: the inline one (unescaped) or the
/// named one from the config's `templates`.
///
/// # Errors
/// [`TemplateError::MissingTemplate`] when the named template is absent.
pub fn select<'a>(
    config: &'a CanaryConfig,
    query: &MetricQuery,
) -> Result<Option<String>, TemplateError> {
    if let Some(inline) = query
        .custom_inline_template
        .as_deref()
        .filter(|t| !t.is_empty())
    {
        return Ok(Some(inline.replace("$\\{", "${")));
    }
    match query
        .custom_filter_template
        .as_deref()
        .filter(|t| !t.is_empty())
    {
        Some(name) => config
            .templates
            .get(name)
            .map(|t: &'a String| Some(t.clone()))
            .ok_or_else(|| TemplateError::MissingTemplate(name.to_owned())),
        None => Ok(None),
    }
}

/// The bindings for a scope, plus `extra` query-config attributes (e.g. `project`).
pub fn bindings(scope: &CanaryScope, extra: &[(&str, Option<&str>)]) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    map.insert("scope".to_owned(), scope.scope.clone());
    map.insert("location".to_owned(), scope.location.clone());
    for (key, value) in extra {
        if let Some(v) = value {
            map.insert((*key).to_owned(), (*v).to_owned());
        }
    }
    for (k, v) in &scope.extended_scope_params {
        map.insert(k.clone(), v.clone());
    }
    map
}

/// Expands `${name}` placeholders.
///
/// # Errors
/// Unbound or unterminated placeholders.
pub fn expand(
    template: &str,
    bindings: &BTreeMap<String, String>,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(TemplateError::Unterminated(template.to_owned()));
        };
        let key = &after[..end];
        let value = bindings
            .get(key)
            .ok_or_else(|| TemplateError::Unbound(key.to_owned(), template.to_owned()))?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_and_reports_unbound() {
        let mut b = BTreeMap::new();
        b.insert("scope".to_owned(), "app-v001".to_owned());
        b.insert("location".to_owned(), "us-east-1".to_owned());
        assert_eq!(
            expand("asg:${scope},region:${location}", &b).unwrap(),
            "asg:app-v001,region:us-east-1"
        );
        assert_eq!(
            expand("x:${nope}", &b),
            Err(TemplateError::Unbound("nope".into(), "x:${nope}".into()))
        );
        assert!(matches!(
            expand("x:${scope", &b),
            Err(TemplateError::Unterminated(_))
        ));
    }
}
