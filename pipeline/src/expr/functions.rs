//! The pure helper functions Orca registers for every expression (`#toJson`, `#toInt`, ...).
//!
//! Functions that need an execution or the network (`#stage`, `#judgment`, `#fromUrl`, ...)
//! come from the caller's [`super::Functions`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::value::to_java_string;

/// Names of the built-in helpers, in the order documented.
pub const BUILT_IN_FUNCTIONS: &[&str] = &[
    "toJson",
    "alphanumerical",
    "toInt",
    "toFloat",
    "toBoolean",
    "toBase64",
    "fromBase64",
    "readJson",
    "doNotEval",
];

/// Functions Orca registers that need an execution, Front50, Clouddriver or the network; the
/// caller's [`super::Functions`] may provide them (reference §5.8).
pub const ORCA_CONTEXT_FUNCTIONS: &[&str] = &[
    "stage",
    "stageByRefId",
    "stageExists",
    "currentStage",
    "currentUser",
    "judgment",
    "judgement",
    "fromUrl",
    "jsonFromUrl",
    "yamlFromUrl",
    "propertiesFromUrl",
    "readYaml",
    "readAllYaml",
    "pipelineId",
    "pipelineIdOrNull",
    "pipelineIdInApplication",
    "deployedServerGroups",
    "resolvedArtifacts",
    "triggerResolvedArtifact",
    "triggerResolvedArtifactByType",
    "manifestLabelValue",
    "cfServiceKey",
    "canaryConfigNameToId",
];

/// True when Spinnaker knows a `#name(...)` function (built-in helper or Orca context function).
pub fn is_known_function(name: &str) -> bool {
    BUILT_IN_FUNCTIONS.contains(&name) || ORCA_CONTEXT_FUNCTIONS.contains(&name)
}

fn one<'a>(name: &str, args: &'a [Value]) -> Result<&'a Value, String> {
    match args {
        [a] => Ok(a),
        _ => Err(format!("#{name} takes 1 argument, got {}", args.len())),
    }
}

fn text(name: &str, args: &[Value]) -> Result<String, String> {
    match one(name, args)? {
        Value::Null => Err(format!("#{name} got null")),
        v => Ok(to_java_string(v)),
    }
}

/// Calls a built-in helper; `None` when `name` is not one.
pub fn call_built_in(name: &str, args: &[Value]) -> Option<Result<Value, String>> {
    let result = match name {
        "toJson" => one(name, args).and_then(|v| {
            serde_json::to_string(v)
                .map(Value::String)
                .map_err(|e| e.to_string())
        }),
        "alphanumerical" => text(name, args)
            .map(|s| Value::String(s.chars().filter(char::is_ascii_alphanumeric).collect())),
        "toInt" => text(name, args).and_then(|s| {
            s.parse::<i32>()
                .map(|i| Value::from(i64::from(i)))
                .map_err(|_| format!("#toInt: {s:?} is not an integer"))
        }),
        "toFloat" => text(name, args).and_then(|s| {
            s.trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| format!("#toFloat: {s:?} is not a number"))
        }),
        "toBoolean" => one(name, args).map(|v| Value::Bool(super::value::java_boolean_value_of(v))),
        "toBase64" => text(name, args).map(|s| Value::String(STANDARD.encode(s.as_bytes()))),
        "fromBase64" => text(name, args).and_then(|s| {
            let bytes = STANDARD
                .decode(s.trim())
                .map_err(|e| format!("#fromBase64: {e}"))?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| "#fromBase64: decoded bytes are not UTF-8".to_owned())
        }),
        "readJson" => text(name, args)
            .and_then(|s| serde_json::from_str(&s).map_err(|e| format!("#readJson: {e}"))),
        "doNotEval" => one(name, args).cloned(),
        _ => return None,
    };
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(name: &str, arg: Value) -> Result<Value, String> {
        call_built_in(name, &[arg]).unwrap()
    }

    #[test]
    fn helpers_follow_orca() {
        assert_eq!(
            call("toJson", json!({"a":[1,"x"]})).unwrap(),
            json!(r#"{"a":[1,"x"]}"#)
        );
        assert_eq!(
            call("alphanumerical", json!("feature/ABC-12_x")).unwrap(),
            json!("featureABC12x")
        );
        assert_eq!(call("toInt", json!("42")).unwrap(), json!(42));
        assert_eq!(call("toInt", json!(7)).unwrap(), json!(7));
        assert!(call("toInt", json!("4.2")).is_err());
        assert!(
            call("toInt", json!("99999999999")).is_err(),
            "Integer.valueOf overflows"
        );
        assert_eq!(call("toFloat", json!("1.5")).unwrap(), json!(1.5));
        assert_eq!(call("toBoolean", json!("TRUE")).unwrap(), json!(true));
        assert_eq!(call("toBoolean", json!("yes")).unwrap(), json!(false));
        assert_eq!(call("toBase64", json!("hello")).unwrap(), json!("aGVsbG8="));
        assert_eq!(
            call("fromBase64", json!("aGVsbG8=")).unwrap(),
            json!("hello")
        );
        assert!(call("fromBase64", json!("!!")).is_err());
        assert_eq!(
            call("readJson", json!(r#"{"k":[true]}"#)).unwrap(),
            json!({"k":[true]})
        );
        assert_eq!(call("doNotEval", json!("${x}")).unwrap(), json!("${x}"));
        assert!(call_built_in("stage", &[]).is_none());
        assert!(
            is_known_function("stage")
                && is_known_function("toJson")
                && !is_known_function("stagee")
        );
        assert!(call_built_in("toJson", &[]).unwrap().is_err());
    }
}
