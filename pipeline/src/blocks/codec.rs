//! [`decode`] and [`encode`]: between one JSON object (a trigger, a stage, the pipeline) and the
//! neutral [`BlockValue`] of its [`BlockSpec`].

use serde_json::{Map, Number, Value as Json};

use super::{AttrSpec, BlockSpec, BlockValue, Codec, Kind, NestedSpec, Nesting};
use crate::model::json_kind;

/// A modelled field holds JSON the block's attribute type cannot represent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
#[error("{block}.{attribute} (JSON {json_path}) must be {expected}, got {found}")]
pub struct DecodeError {
    /// The HCL block name.
    pub block: &'static str,
    /// The HCL attribute name (`<block>[i].<attribute>` for nested blocks).
    pub attribute: String,
    /// The JSON path inside the block's object.
    pub json_path: String,
    /// What the attribute's type needs, e.g. `"a number"`.
    pub expected: &'static str,
    /// The JSON kind found.
    pub found: &'static str,
}

/// Reads the modelled fields of `object` as `spec` describes them. Every attribute is present in
/// the result (null when absent), every nested block too (empty when absent).
///
/// # Errors
///
/// [`DecodeError`] when a modelled field holds JSON its attribute's type cannot hold (for
/// example a list-valued header in `customHeaders`); callers fall back to `custom_stage`.
pub fn decode(spec: &BlockSpec, object: &Map<String, Json>) -> Result<BlockValue, DecodeError> {
    let mut out = BlockValue::default();
    for attr in &spec.attributes {
        let value = decode_attr(spec, attr, object)?;
        out.attributes.insert(attr.name.to_owned(), value);
    }
    for nested in &spec.blocks {
        let items = decode_nested(nested, object).map_err(|mut e| {
            e.attribute = format!("{}.{}", nested.block.name, e.attribute);
            e.block = spec.name;
            e
        })?;
        out.blocks.insert(nested.block.name.to_owned(), items);
    }
    Ok(out)
}

fn decode_nested(
    nested: &NestedSpec,
    object: &Map<String, Json>,
) -> Result<Vec<BlockValue>, DecodeError> {
    if let Some(flag) = nested.flag
        && !truthy(object.get(flag))
    {
        return Ok(Vec::new());
    }
    match (nested.nesting, get_path(object, nested.path)) {
        (Nesting::Single, Some(Json::Object(m))) => Ok(vec![decode(&nested.block, m)?]),
        (Nesting::Single, None | Some(Json::Null)) if nested.flag.is_some() => {
            Ok(vec![decode(&nested.block, &Map::new())?])
        }
        (Nesting::List, Some(Json::Array(items))) => items
            .iter()
            .map(|item| match item {
                Json::Object(m) => decode(&nested.block, m),
                other => Err(mismatch(&nested.block, "", nested.path, "an object", other)),
            })
            .collect(),
        (_, None | Some(Json::Null)) => Ok(Vec::new()),
        (Nesting::Single, Some(other)) => {
            Err(mismatch(&nested.block, "", nested.path, "an object", other))
        }
        (Nesting::List, Some(other)) => Err(mismatch(
            &nested.block,
            "",
            nested.path,
            "an array of objects",
            other,
        )),
    }
}

fn truthy(v: Option<&Json>) -> bool {
    match v {
        Some(Json::Bool(b)) => *b,
        Some(Json::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn mismatch(
    block: &BlockSpec,
    attribute: &str,
    path: &[&str],
    expected: &'static str,
    found: &Json,
) -> DecodeError {
    DecodeError {
        block: block.name,
        attribute: attribute.to_owned(),
        json_path: path.join("."),
        expected,
        found: json_kind(found),
    }
}

fn decode_attr(
    spec: &BlockSpec,
    attr: &AttrSpec,
    object: &Map<String, Json>,
) -> Result<Json, DecodeError> {
    let bad = |expected: &'static str, found: &Json| {
        mismatch(spec, attr.name, attr.path, expected, found)
    };
    match attr.codec {
        Codec::HclOnly => Ok(Json::Null),
        Codec::Rest => {
            let modelled = spec.modelled_keys();
            let rest: Map<String, Json> = object
                .iter()
                .filter(|(k, _)| !modelled.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Ok(if rest.is_empty() {
                Json::Null
            } else {
                Json::Object(rest)
            })
        }
        Codec::ValueObjects { key } => match get_path(object, attr.path) {
            None | Some(Json::Null) => Ok(Json::Null),
            Some(Json::Array(items)) if items.is_empty() => Ok(Json::Null),
            Some(Json::Array(items)) => items
                .iter()
                .map(|item| match item.get(key) {
                    Some(v) => scalar_text(v).ok_or_else(|| bad("a list of {value} objects", v)),
                    None => Err(bad("a list of {value} objects", item)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|v| Json::Array(v.into_iter().map(Json::String).collect())),
            Some(other) => Err(bad("a list of {value} objects", other)),
        },
        Codec::TextMessages => match get_path(object, attr.path) {
            None | Some(Json::Null) => Ok(Json::Null),
            Some(Json::Object(m)) if m.is_empty() => Ok(Json::Null),
            Some(Json::Object(m)) => m
                .iter()
                .map(|(k, v)| {
                    let text = v.get("text").and_then(scalar_text);
                    text.map(|t| (k.clone(), Json::String(t)))
                        .ok_or_else(|| bad("an object of {text} objects", v))
                })
                .collect::<Result<Map<_, _>, _>>()
                .map(Json::Object),
            Some(other) => Err(bad("an object of {text} objects", other)),
        },
        Codec::Plain | Codec::Tagged { .. } | Codec::TimeoutMs => match get_path(object, attr.path)
        {
            None => Ok(Json::Null),
            Some(v) => decode_kind(attr.kind, v).map_err(|expected| bad(expected, v)),
        },
    }
}

/// The text of a string, number or boolean.
fn scalar_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_number(s: &str) -> Option<Number> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    serde_json::from_str::<Number>(t).ok()
}

/// Reads one JSON value as `kind`; `Err` names what was expected.
fn decode_kind(kind: Kind, v: &Json) -> Result<Json, &'static str> {
    if v.is_null() {
        return Ok(Json::Null);
    }
    match kind {
        Kind::String => match v {
            Json::String(s) if s.is_empty() => Ok(Json::Null),
            other => scalar_text(other).map(Json::String).ok_or("a string"),
        },
        Kind::NumberOrExpression => match v {
            Json::String(s) if s.trim().is_empty() => Ok(Json::Null),
            Json::String(s) => Ok(Json::String(s.clone())),
            Json::Number(n) => Ok(Json::String(n.to_string())),
            _ => Err("a number or an expression"),
        },
        Kind::Number => match v {
            Json::Number(_) => Ok(v.clone()),
            Json::String(s) if s.trim().is_empty() => Ok(Json::Null),
            Json::String(s) => parse_number(s).map(Json::Number).ok_or("a number"),
            _ => Err("a number"),
        },
        Kind::Bool => match v {
            Json::Bool(_) => Ok(v.clone()),
            Json::String(s) if s.eq_ignore_ascii_case("true") => Ok(Json::Bool(true)),
            Json::String(s) if s.eq_ignore_ascii_case("false") => Ok(Json::Bool(false)),
            _ => Err("a boolean"),
        },
        Kind::StringList => match v {
            Json::Array(items) if items.is_empty() => Ok(Json::Null),
            Json::Array(items) => items
                .iter()
                .map(|i| scalar_text(i).map(Json::String))
                .collect::<Option<Vec<_>>>()
                .map(Json::Array)
                .ok_or("a list of strings"),
            _ => Err("a list of strings"),
        },
        Kind::NumberList => match v {
            Json::Array(items) if items.is_empty() => Ok(Json::Null),
            Json::Array(items) => items
                .iter()
                .map(|i| match i {
                    Json::Number(_) => Some(i.clone()),
                    Json::String(s) => parse_number(s).map(Json::Number),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .map(Json::Array)
                .ok_or("a list of numbers"),
            _ => Err("a list of numbers"),
        },
        Kind::StringMap => match v {
            Json::Object(m) if m.is_empty() => Ok(Json::Null),
            Json::Object(m) => m
                .iter()
                .map(|(k, v)| scalar_text(v).map(|t| (k.clone(), Json::String(t))))
                .collect::<Option<Map<_, _>>>()
                .map(Json::Object)
                .ok_or("a map of strings"),
            _ => Err("a map of strings"),
        },
        Kind::Json => match v {
            Json::Array(a) if a.is_empty() => Ok(Json::Null),
            Json::Object(m) if m.is_empty() => Ok(Json::Null),
            Json::String(s) if s.is_empty() => Ok(Json::Null),
            other => Ok(other.clone()),
        },
    }
}

/// The JSON written for a neutral value of `kind` (null stays null).
fn encode_kind(kind: Kind, v: &Json) -> Json {
    match (kind, v) {
        (Kind::NumberOrExpression, Json::String(s)) => match parse_number(s) {
            Some(n) => Json::Number(n),
            None => Json::String(s.clone()),
        },
        _ => v.clone(),
    }
}

/// Writes `value` onto `live` (or an empty object): modelled fields are set, removed when null,
/// and left untouched where the live JSON already decodes to the same value; every other field
/// of `live` is kept.
pub fn encode(
    spec: &BlockSpec,
    value: &BlockValue,
    live: Option<&Map<String, Json>>,
) -> Map<String, Json> {
    let mut out = live.cloned().unwrap_or_default();
    if let Some(kind) = spec.json_type
        && out.get("type").and_then(Json::as_str) != Some(kind)
    {
        out.insert("type".to_owned(), Json::String(kind.to_owned()));
    }
    for attr in &spec.attributes {
        encode_attr(spec, attr, value.get(attr.name), &mut out);
    }
    for nested in &spec.blocks {
        encode_nested(nested, value.nested(nested.block.name), &mut out);
    }
    out
}

fn encode_attr(spec: &BlockSpec, attr: &AttrSpec, want: &Json, out: &mut Map<String, Json>) {
    if attr.codec == Codec::HclOnly {
        return;
    }
    if decode_attr(spec, attr, out).is_ok_and(|have| have == *want) {
        return;
    }
    match attr.codec {
        Codec::HclOnly => {}
        Codec::Rest => {
            let modelled = spec.modelled_keys();
            out.retain(|k, _| modelled.contains(&k.as_str()));
            if let Json::Object(extra) = want {
                for (k, v) in extra {
                    if !modelled.contains(&k.as_str()) {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        Codec::Plain => match want {
            Json::Null => remove_path(out, attr.path),
            v => set_path(out, attr.path, encode_kind(attr.kind, v)),
        },
        Codec::Tagged { tag_key, tag } => {
            let (parent, _) = attr.path.split_at(attr.path.len().saturating_sub(1));
            match want {
                Json::Null => remove_path(out, parent),
                v => {
                    let mut tag_path = parent.to_vec();
                    tag_path.push(tag_key);
                    set_path(out, &tag_path, Json::String(tag.to_owned()));
                    set_path(out, attr.path, encode_kind(attr.kind, v));
                }
            }
        }
        Codec::TimeoutMs => match want {
            Json::Null => {
                remove_path(out, attr.path);
                out.remove("overrideTimeout");
            }
            v => {
                set_path(out, attr.path, v.clone());
                out.insert("overrideTimeout".to_owned(), Json::Bool(true));
            }
        },
        Codec::ValueObjects { key } => match want {
            Json::Array(items) => {
                let live = get_path(out, attr.path)
                    .and_then(Json::as_array)
                    .cloned()
                    .unwrap_or_default();
                let objects = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let mut obj = live
                            .get(i)
                            .and_then(Json::as_object)
                            .cloned()
                            .unwrap_or_default();
                        if obj.get(key).and_then(scalar_text) != scalar_text(item) {
                            obj.insert(key.to_owned(), item.clone());
                        }
                        Json::Object(obj)
                    })
                    .collect();
                set_path(out, attr.path, Json::Array(objects));
            }
            _ => remove_path(out, attr.path),
        },
        Codec::TextMessages => match want {
            Json::Object(messages) => {
                let live = get_path(out, attr.path)
                    .and_then(Json::as_object)
                    .cloned()
                    .unwrap_or_default();
                let encoded = messages
                    .iter()
                    .map(|(k, text)| {
                        let mut obj = live
                            .get(k)
                            .and_then(Json::as_object)
                            .cloned()
                            .unwrap_or_default();
                        obj.insert("text".to_owned(), text.clone());
                        (k.clone(), Json::Object(obj))
                    })
                    .collect();
                set_path(out, attr.path, Json::Object(encoded));
            }
            _ => remove_path(out, attr.path),
        },
    }
}

fn encode_nested(nested: &NestedSpec, want: &[BlockValue], out: &mut Map<String, Json>) {
    if decode_nested(nested, out).is_ok_and(|have| have == want) {
        return;
    }
    match nested.nesting {
        Nesting::Single => match want.first() {
            None => {
                if let Some(flag) = nested.flag {
                    out.remove(flag);
                }
                remove_path(out, nested.path);
            }
            Some(v) => {
                if let Some(flag) = nested.flag {
                    out.insert(flag.to_owned(), Json::Bool(true));
                }
                let live = get_path(out, nested.path)
                    .and_then(Json::as_object)
                    .cloned();
                let obj = encode(&nested.block, v, live.as_ref());
                set_path(out, nested.path, Json::Object(obj));
            }
        },
        Nesting::List => {
            if want.is_empty() {
                remove_path(out, nested.path);
                return;
            }
            let live = get_path(out, nested.path)
                .and_then(Json::as_array)
                .cloned()
                .unwrap_or_default();
            let items = want
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    Json::Object(encode(
                        &nested.block,
                        v,
                        live.get(i).and_then(Json::as_object),
                    ))
                })
                .collect();
            set_path(out, nested.path, Json::Array(items));
        }
    }
}

/// The value at a path of object keys.
pub(crate) fn get_path<'a>(object: &'a Map<String, Json>, path: &[&str]) -> Option<&'a Json> {
    let (last, parents) = path.split_last()?;
    let mut cur = object;
    for key in parents {
        cur = cur.get(*key)?.as_object()?;
    }
    cur.get(*last)
}

/// Sets the value at a path, creating (or replacing non-object) intermediate objects.
fn set_path(object: &mut Map<String, Json>, path: &[&str], value: Json) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = object;
    for key in parents {
        let entry = cur
            .entry((*key).to_owned())
            .or_insert_with(|| Json::Object(Map::new()));
        if !entry.is_object() {
            *entry = Json::Object(Map::new());
        }
        let Json::Object(next) = entry else { return };
        cur = next;
    }
    cur.insert((*last).to_owned(), value);
}

/// Removes the value at a path (intermediate objects stay).
fn remove_path(object: &mut Map<String, Json>, path: &[&str]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = object;
    for key in parents {
        let Some(Json::Object(next)) = cur.get_mut(*key) else {
            return;
        };
        cur = next;
    }
    cur.shift_remove(*last);
}
