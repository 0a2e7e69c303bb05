//! Between Terraform values and the catalogue's neutral tree: attribute values
//! (`serde_json::Value`) become cty values of the attribute's kind and back, blocks become
//! objects, nested blocks lists of objects (or one object).

use std::collections::BTreeMap;

use pipeline::blocks::pipeline::{PipelineBlocks, TypedBlock};
use pipeline::blocks::{self, BlockSpec, BlockValue, Kind, Nesting};
use serde_json::Value as Json;

use crate::value::{Number, Value};

/// The cty value of a neutral attribute value of `kind`.
pub(crate) fn to_value(kind: Kind, json: &Json) -> Value {
    match (kind, json) {
        (_, Json::Null) => Value::Null,
        (Kind::Json, v) => Value::String(jsonencode(v)),
        (_, Json::String(s)) => Value::String(s.clone()),
        (_, Json::Bool(b)) => Value::Bool(*b),
        (_, Json::Number(n)) => Number::parse(&n.to_string()).map_or(Value::Null, Value::Number),
        (Kind::NumberList, Json::Array(items)) => {
            Value::List(items.iter().map(|i| to_value(Kind::Number, i)).collect())
        }
        (_, Json::Array(items)) => {
            Value::List(items.iter().map(|i| to_value(Kind::String, i)).collect())
        }
        (_, Json::Object(m)) => Value::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), to_value(Kind::String, v)))
                .collect(),
        ),
    }
}

/// The text Terraform's `jsonencode` gives for `v`: compact, object keys sorted, strings escaped
/// as Go's `encoding/json` escapes them (including `<`, `>`, `&`, U+2028 and U+2029). Reading a
/// live JSON attribute into this form means an imported pipeline plans clean against a
/// configuration that writes `jsonencode(...)`.
pub(crate) fn jsonencode(v: &Json) -> String {
    let mut out = String::new();
    write_jsonencode(v, &mut out);
    out
}

fn write_jsonencode(v: &Json, out: &mut String) {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_string(k, out);
                out.push(':');
                if let Some(item) = m.get(k) {
                    write_jsonencode(item, out);
                }
            }
            out.push('}');
        }
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_jsonencode(item, out);
            }
            out.push(']');
        }
        Json::String(s) => write_go_string(s, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_go_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The neutral value of a cty value of `kind`; null and unknown become `Json::Null`, and
/// `Kind::Json` text that does not parse stays a JSON string (validation reports it).
pub(crate) fn from_value(kind: Kind, value: &Value) -> Json {
    match (kind, value) {
        (Kind::Json, Value::String(s)) => {
            serde_json::from_str(s).unwrap_or_else(|_| Json::String(s.clone()))
        }
        (_, Value::String(s)) => Json::String(s.clone()),
        (_, Value::Bool(b)) => Json::Bool(*b),
        (_, Value::Number(n)) => {
            serde_json::from_str::<serde_json::Number>(n.as_str()).map_or(Json::Null, Json::Number)
        }
        (_, Value::List(items) | Value::Set(items) | Value::Tuple(items)) => {
            let inner = if kind == Kind::NumberList {
                Kind::Number
            } else {
                Kind::String
            };
            Json::Array(items.iter().map(|i| from_value(inner, i)).collect())
        }
        (_, Value::Map(m) | Value::Object(m)) => Json::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), from_value(Kind::String, v)))
                .collect(),
        ),
        _ => Json::Null,
    }
}

/// The cty object of a block value: every attribute and nested block of `spec`.
pub(crate) fn block_to_value(spec: &BlockSpec, value: &BlockValue) -> BTreeMap<String, Value> {
    let mut m = BTreeMap::new();
    for a in &spec.attributes {
        m.insert(a.name.to_owned(), to_value(a.kind, value.get(a.name)));
    }
    for n in &spec.blocks {
        let items = value.nested(n.block.name);
        let v = match n.nesting {
            Nesting::Single => items
                .first()
                .map_or(Value::Null, |b| Value::Object(block_to_value(&n.block, b))),
            Nesting::List => Value::List(
                items
                    .iter()
                    .map(|b| Value::Object(block_to_value(&n.block, b)))
                    .collect(),
            ),
        };
        m.insert(n.block.name.to_owned(), v);
    }
    m
}

/// The block value of a cty object (attributes of `spec` only).
pub(crate) fn value_to_block(spec: &BlockSpec, value: &Value) -> BlockValue {
    let mut out = BlockValue::default();
    for a in &spec.attributes {
        let v = value.attr(a.name).unwrap_or(&Value::Null);
        out.attributes
            .insert(a.name.to_owned(), from_value(a.kind, v));
    }
    for n in &spec.blocks {
        let items = match value.attr(n.block.name) {
            Some(Value::Object(_)) => vec![value_to_block(
                &n.block,
                value.attr(n.block.name).unwrap_or(&Value::Null),
            )],
            Some(v) => v
                .as_elements()
                .unwrap_or_default()
                .iter()
                .map(|item| value_to_block(&n.block, item))
                .collect(),
            None => Vec::new(),
        };
        out.blocks.insert(n.block.name.to_owned(), items);
    }
    out
}

/// The declared blocks of a configuration or planned state.
pub(crate) fn pipeline_blocks(value: &Value) -> PipelineBlocks {
    let typed = |specs: &'static [BlockSpec]| {
        specs
            .iter()
            .flat_map(|spec| {
                value
                    .attr(spec.name)
                    .and_then(Value::as_elements)
                    .unwrap_or_default()
                    .iter()
                    .map(move |item| TypedBlock {
                        spec,
                        value: value_to_block(spec, item),
                    })
            })
            .collect::<Vec<_>>()
    };
    PipelineBlocks {
        top: value_to_block(blocks::pipeline_block(), value),
        triggers: typed(blocks::triggers()),
        stages: typed(blocks::stages()),
    }
}

/// Where the prior state has JSON text that means the same as the new text, keeps the prior
/// text, so formatting differences (`jsonencode` vs heredoc) never show as changes. Walks
/// objects and lists position by position.
pub(crate) fn keep_equivalent_json(prior: &Value, new: Value) -> Value {
    match (prior, new) {
        (Value::Object(p), Value::Object(mut n)) => {
            for (k, v) in n.iter_mut() {
                if let Some(pv) = p.get(k) {
                    *v = keep_equivalent_json(pv, std::mem::replace(v, Value::Null));
                }
            }
            Value::Object(n)
        }
        (Value::List(p), Value::List(n)) => Value::List(
            n.into_iter()
                .enumerate()
                .map(|(i, v)| match p.get(i) {
                    Some(pv) => keep_equivalent_json(pv, v),
                    None => v,
                })
                .collect(),
        ),
        (Value::String(p), Value::String(n)) if p != &n && same_json(p, &n) => {
            Value::String(p.clone())
        }
        (_, n) => n,
    }
}

/// Where the prior state held an empty value (`""`, `[]`, `{}`, or JSON text of an empty list or
/// object) and the live pipeline now reads as null, keeps the prior value. The codec reads an
/// absent JSON field and an empty one alike as null, so without this `x = []` in the
/// configuration would plan a change after every refresh. A field that held something and was
/// removed in Spinnaker still reads as null and shows as drift. Stage blocks are paired with
/// their prior block by `ref_id` (the prior stage may have moved), other blocks by position.
pub(crate) fn keep_prior_empties(prior: &Value, new: Value) -> Value {
    match (prior, new) {
        (Value::Object(p), Value::Object(mut n)) => {
            for (k, v) in n.iter_mut() {
                if let Some(pv) = p.get(k) {
                    *v = keep_prior_empties(pv, std::mem::replace(v, Value::Null));
                }
            }
            Value::Object(n)
        }
        (Value::List(p), Value::List(n)) => Value::List(
            n.into_iter()
                .enumerate()
                .map(|(i, v)| {
                    let ref_id = v.attr("ref_id").and_then(Value::as_str);
                    let pv = match ref_id {
                        Some(r) => p
                            .iter()
                            .find(|x| x.attr("ref_id").and_then(Value::as_str) == Some(r)),
                        None => p.get(i),
                    };
                    match pv {
                        Some(pv) => keep_prior_empties(pv, v),
                        None => v,
                    }
                })
                .collect(),
        ),
        (p, Value::Null) if reads_as_null(p) => p.clone(),
        (_, n) => n,
    }
}

/// A configured value the codec writes as an empty (or no) JSON field, which reads back as null.
fn reads_as_null(v: &Value) -> bool {
    match v {
        Value::String(s) => {
            s.is_empty()
                || serde_json::from_str::<Json>(s).is_ok_and(|j| match j {
                    Json::Array(a) => a.is_empty(),
                    Json::Object(m) => m.is_empty(),
                    _ => false,
                })
        }
        Value::List(x) | Value::Set(x) => x.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

fn same_json(a: &str, b: &str) -> bool {
    let parse = |s: &str| {
        serde_json::from_str::<Json>(s)
            .ok()
            .filter(|v| v.is_object() || v.is_array())
    };
    matches!((parse(a), parse(b)), (Some(x), Some(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_round_trip_through_cty_values() {
        for (kind, v) in [
            (Kind::String, json!("a")),
            (Kind::Number, json!(1.5)),
            (Kind::Number, json!(7)),
            (Kind::Bool, json!(true)),
            (Kind::StringList, json!(["a", "b"])),
            (Kind::NumberList, json!([1, 2])),
            (Kind::StringMap, json!({"k": "v"})),
            (Kind::Json, json!({"b": [1, {"c": null}], "a": "x"})),
            (Kind::NumberOrExpression, json!("${x}")),
        ] {
            assert_eq!(from_value(kind, &to_value(kind, &v)), v, "{kind:?}");
        }
    }

    #[test]
    fn equivalent_json_text_keeps_the_prior_spelling() {
        let prior = Value::Object(BTreeMap::from([(
            "payload".to_owned(),
            Value::string("{\n  \"a\": 1\n}"),
        )]));
        let new = Value::Object(BTreeMap::from([(
            "payload".to_owned(),
            Value::string("{\"a\":1}"),
        )]));
        assert_eq!(keep_equivalent_json(&prior, new), prior);
        let other = Value::Object(BTreeMap::from([(
            "payload".to_owned(),
            Value::string("{\"a\":2}"),
        )]));
        assert_eq!(keep_equivalent_json(&prior, other.clone()), other);
    }
}

#[cfg(test)]
mod jsonencode_tests {
    use super::jsonencode;

    #[test]
    fn matches_terraform_jsonencode() {
        let v = serde_json::json!({"b": [1, 2.5, true, null], "a": {"y": "<x> & \"q\"", "x": "\u{2028}\n"}});
        assert_eq!(
            jsonencode(&v),
            r#"{"a":{"x":"\u2028\n","y":"\u003cx\u003e \u0026 \"q\""},"b":[1,2.5,true,null]}"#
        );
    }
}
