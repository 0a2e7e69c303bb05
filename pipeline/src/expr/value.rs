//! Java-like views of JSON values: `toString`, `Boolean.valueOf`, SpEL's boolean conversion.

use serde_json::Value;

/// Java's `toString` of a value as SpEL would print it: `null`, `true`, `5`, `1.5`, `[a, b]`,
/// `{k=v}`.
pub fn to_java_string(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (_, _, Some(x)) => java_double(x),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            format!(
                "[{}]",
                items
                    .iter()
                    .map(to_java_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{k}={}", to_java_string(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Java's `Double.toString`: `1.0`, `0.25`, `1.0E20`, `1.0E-5`.
pub fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let abs = x.abs();
    if abs == 0.0 || (1e-3..1e7).contains(&abs) {
        let s = format!("{x}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        let s = format!("{x:E}");
        match s.split_once('E') {
            Some((m, e)) if !m.contains('.') => format!("{m}.0E{e}"),
            _ => s,
        }
    }
}

/// Java `Boolean.valueOf(String.valueOf(value))`: true only for `true` / `"true"` in any case.
///
/// This is how Orca reads `stageEnabled` results and expression preconditions.
pub fn java_boolean_value_of(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// SpEL's conversion to boolean (Spring's `StringToBooleanConverter` for strings).
pub(crate) fn spel_boolean(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" | "1" => Ok(true),
            "false" | "off" | "no" | "0" => Ok(false),
            _ => Err(format!("cannot convert string {s:?} to a boolean")),
        },
        other => Err(format!(
            "cannot convert {} to a boolean",
            crate::model::json_kind(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn java_strings() {
        assert_eq!(to_java_string(&json!(null)), "null");
        assert_eq!(to_java_string(&json!(3)), "3");
        assert_eq!(to_java_string(&json!(1.0)), "1.0");
        assert_eq!(to_java_string(&json!(0.25)), "0.25");
        assert_eq!(to_java_string(&json!(1e20)), "1.0E20");
        assert_eq!(to_java_string(&json!(["a", 1])), "[a, 1]");
        assert_eq!(
            to_java_string(&json!({"k": "v", "n": null})),
            "{k=v, n=null}"
        );
    }

    #[test]
    fn booleans() {
        assert!(java_boolean_value_of(&json!("TRUE")));
        assert!(!java_boolean_value_of(&json!("yes")));
        assert!(!java_boolean_value_of(&json!(1)));
        assert_eq!(spel_boolean(&json!("yes")), Ok(true));
        assert!(spel_boolean(&json!("maybe")).is_err());
        assert!(spel_boolean(&json!(null)).is_err());
    }
}
