//! A small JSONPath subset for webhook status paths and trigger payload constraints:
//! `$`, `.key`, `['key']`, `["key"]`, `[n]`, `[*]` and `.*`. A path without `$` is read as
//! dotted keys from the root.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    Wildcard,
}

fn parse(path: &str) -> Option<Vec<Step>> {
    let path = path.trim();
    let rest = path.strip_prefix('$').unwrap_or(path);
    let chars: Vec<char> = rest.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    let mut first = !path.starts_with('$');
    while i < chars.len() {
        match chars.get(i)? {
            '.' => {
                i += 1;
                first = false;
                if chars.get(i) == Some(&'*') {
                    steps.push(Step::Wildcard);
                    i += 1;
                    continue;
                }
                let start = i;
                while i < chars.len() && !matches!(chars.get(i), Some('.' | '[')) {
                    i += 1;
                }
                let key: String = chars.get(start..i)?.iter().collect();
                if key.is_empty() {
                    return None;
                }
                steps.push(Step::Key(key));
            }
            '[' => {
                let end = chars.get(i..)?.iter().position(|c| *c == ']')? + i;
                let inner: String = chars.get(i + 1..end)?.iter().collect();
                let inner = inner.trim();
                if inner == "*" {
                    steps.push(Step::Wildcard);
                } else if let Some(quoted) = inner
                    .strip_prefix('\'')
                    .and_then(|s| s.strip_suffix('\''))
                    .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
                {
                    steps.push(Step::Key(quoted.to_owned()));
                } else {
                    steps.push(Step::Index(inner.parse().ok()?));
                }
                i = end + 1;
                first = false;
            }
            _ if first => {
                let start = i;
                while i < chars.len() && !matches!(chars.get(i), Some('.' | '[')) {
                    i += 1;
                }
                steps.push(Step::Key(chars.get(start..i)?.iter().collect()));
                first = false;
            }
            _ => return None,
        }
    }
    Some(steps)
}

/// Every value the path selects (empty when the path is malformed or selects nothing).
pub fn select<'v>(root: &'v Value, path: &str) -> Vec<&'v Value> {
    let Some(steps) = parse(path) else {
        return Vec::new();
    };
    let mut current = vec![root];
    for step in &steps {
        let mut next = Vec::new();
        for value in current {
            match (step, value) {
                (Step::Key(key), Value::Object(map)) => next.extend(map.get(key)),
                (Step::Index(i), Value::Array(list)) => next.extend(list.get(*i)),
                (Step::Wildcard, Value::Array(list)) => next.extend(list.iter()),
                (Step::Wildcard, Value::Object(map)) => next.extend(map.values()),
                _ => {}
            }
        }
        current = next;
    }
    current
}

/// The first value the path selects.
pub fn first<'v>(root: &'v Value, path: &str) -> Option<&'v Value> {
    select(root, path).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selects_keys_indexes_and_wildcards() {
        let doc = json!({"a": {"b": [{"c": 1}, {"c": 2}]}, "x y": "z"});
        assert_eq!(first(&doc, "$.a.b[1].c"), Some(&json!(2)));
        assert_eq!(first(&doc, "$['x y']"), Some(&json!("z")));
        assert_eq!(select(&doc, "$.a.b[*].c"), vec![&json!(1), &json!(2)]);
        assert_eq!(first(&doc, "a.b[0].c"), Some(&json!(1)));
        assert!(select(&doc, "$.a.missing").is_empty());
        assert!(select(&doc, "$[").is_empty());
    }
}
