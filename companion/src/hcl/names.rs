//! Terraform resource names derived from Spinnaker names: sanitized snake_case, de-duplicated.

use std::collections::HashSet;

/// `name` as a Terraform identifier: lower case ASCII letters, digits and `_`, words split on
/// anything else and on lower→upper case changes; a leading digit gets a `p_` prefix; empty
/// input gives `pipeline`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    let trimmed = out.trim_matches('_');
    if trimmed.is_empty() {
        return "pipeline".to_owned();
    }
    if trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        format!("p_{trimmed}")
    } else {
        trimmed.to_owned()
    }
}

/// Hands out unique names: the first `x` is `x`, later ones `x_2`, `x_3`, ...
#[derive(Debug, Default)]
pub struct UniqueNames {
    taken: HashSet<String>,
}

impl UniqueNames {
    /// A unique name based on `base` (already sanitized).
    pub fn claim(&mut self, base: &str) -> String {
        if self.taken.insert(base.to_owned()) {
            return base.to_owned();
        }
        let mut n = 2;
        loop {
            let candidate = format!("{base}_{n}");
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_cases_and_dedupes() {
        assert_eq!(snake_case("Deploy to Prod"), "deploy_to_prod");
        assert_eq!(snake_case("deployToProd"), "deploy_to_prod");
        assert_eq!(snake_case("  --  "), "pipeline");
        assert_eq!(snake_case("1-click deploy!"), "p_1_click_deploy");
        assert_eq!(snake_case("Ünïcode"), "n_code");
        let mut names = UniqueNames::default();
        assert_eq!(names.claim("a"), "a");
        assert_eq!(names.claim("a"), "a_2");
        assert_eq!(names.claim("a_2"), "a_2_2");
        assert_eq!(names.claim("a"), "a_3");
    }
}
