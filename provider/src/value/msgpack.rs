//! cty's msgpack encoding: unknown as an extension value (any extension type
//! decodes as unknown, including Terraform 1.6+ refined unknowns, type 12),
//! numbers as int, float or decimal string, dynamic values as
//! `[type-json, value]` pairs.

use std::collections::BTreeMap;

use rmpv::Value as Mp;

use super::{CodecError, Number, Type, Value, mismatch};

/// The extension cty uses for an unknown value.
const UNKNOWN_EXT: i8 = 0;

/// Decodes msgpack bytes as a value of type `ty`. The whole input must be
/// one msgpack value.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut cursor = bytes;
    let mp =
        rmpv::decode::read_value(&mut cursor).map_err(|e| CodecError::Msgpack(e.to_string()))?;
    if !cursor.is_empty() {
        return Err(CodecError::Msgpack(format!(
            "{} trailing bytes",
            cursor.len()
        )));
    }
    from_mp(mp, ty, &mut String::new())
}

/// Encodes a value of type `ty` as msgpack.
pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mp = to_mp(value, ty, &mut String::new())?;
    let mut out = Vec::with_capacity(64);
    rmpv::encode::write_value(&mut out, &mp).map_err(|e| CodecError::Msgpack(e.to_string()))?;
    Ok(out)
}

fn kind(mp: &Mp) -> &'static str {
    match mp {
        Mp::Nil => "nil",
        Mp::Boolean(_) => "bool",
        Mp::Integer(_) | Mp::F32(_) | Mp::F64(_) => "number",
        Mp::String(_) => "string",
        Mp::Binary(_) => "binary",
        Mp::Array(_) => "array",
        Mp::Map(_) => "map",
        Mp::Ext(..) => "extension",
    }
}

fn with_step<T>(path: &mut String, step: &str, f: impl FnOnce(&mut String) -> T) -> T {
    let len = path.len();
    path.push_str(step);
    let out = f(path);
    path.truncate(len);
    out
}

fn from_mp(mp: Mp, ty: &Type, path: &mut String) -> Result<Value, CodecError> {
    match mp {
        Mp::Nil => return Ok(Value::Null),
        Mp::Ext(..) => return Ok(Value::Unknown),
        _ => {}
    }
    match (ty, mp) {
        (Type::Bool, Mp::Boolean(b)) => Ok(Value::Bool(b)),
        (Type::String, Mp::String(s)) => match s.into_str() {
            Some(s) => Ok(Value::String(s)),
            None => Err(mismatch(path, ty, "invalid UTF-8")),
        },
        (Type::Number, Mp::Integer(i)) => Ok(Value::Number(Number(i.to_string()))),
        (Type::Number, Mp::F64(f)) => float(f, ty, path),
        (Type::Number, Mp::F32(f)) => float(f64::from(f), ty, path),
        (Type::Number, Mp::String(s)) => s
            .as_str()
            .and_then(Number::parse)
            .map(Value::Number)
            .ok_or_else(|| mismatch(path, ty, "a string that is not a number")),
        (Type::List(e), Mp::Array(items)) => Ok(Value::List(elements(items, e, path)?)),
        (Type::Set(e), Mp::Array(items)) => Ok(Value::Set(elements(items, e, path)?)),
        (Type::Tuple(types), Mp::Array(items)) => {
            if types.len() != items.len() {
                return Err(mismatch(path, ty, format!("{} elements", items.len())));
            }
            let values = items
                .into_iter()
                .zip(types)
                .enumerate()
                .map(|(i, (item, t))| with_step(path, &format!("[{i}]"), |p| from_mp(item, t, p)))
                .collect::<Result<_, _>>()?;
            Ok(Value::Tuple(values))
        }
        (Type::Map(e), Mp::Map(entries)) => {
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let Mp::String(k) = k else {
                    return Err(mismatch(path, ty, "a non-string key"));
                };
                let k = k
                    .into_str()
                    .ok_or_else(|| mismatch(path, ty, "invalid UTF-8 key"))?;
                let v = with_step(path, &format!("[{k:?}]"), |p| from_mp(v, e, p))?;
                out.insert(k, v);
            }
            Ok(Value::Map(out))
        }
        (Type::Object(attrs), Mp::Map(entries)) => {
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let Mp::String(k) = k else {
                    return Err(mismatch(path, ty, "a non-string key"));
                };
                let k = k
                    .into_str()
                    .ok_or_else(|| mismatch(path, ty, "invalid UTF-8 key"))?;
                let Some(t) = attrs.get(&k) else {
                    return Err(mismatch(path, ty, format!("unexpected attribute {k:?}")));
                };
                let v = with_step(path, &format!(".{k}"), |p| from_mp(v, t, p))?;
                out.insert(k, v);
            }
            for name in attrs.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        (Type::Dynamic, Mp::Array(mut pair)) if pair.len() == 2 => {
            let value = pair.pop().unwrap_or(Mp::Nil);
            let type_bytes = match pair.pop() {
                Some(Mp::Binary(b)) => b,
                Some(Mp::String(s)) => s.into_bytes(),
                _ => return Err(mismatch(path, ty, "a dynamic value without a type")),
            };
            let type_json: serde_json::Value =
                serde_json::from_slice(&type_bytes).map_err(|e| CodecError::Type(e.to_string()))?;
            let concrete = Type::from_json(&type_json)?;
            if concrete == Type::Dynamic {
                return Err(mismatch(path, ty, "a dynamic value typed dynamic"));
            }
            let inner = from_mp(value, &concrete, path)?;
            Ok(Value::Dynamic(concrete, Box::new(inner)))
        }
        (_, other) => Err(mismatch(path, ty, kind(&other))),
    }
}

fn float(f: f64, ty: &Type, path: &str) -> Result<Value, CodecError> {
    if !f.is_finite() {
        return Err(mismatch(path, ty, "a non-finite float"));
    }
    Ok(Value::Number(Number(f.to_string())))
}

fn elements(items: Vec<Mp>, e: &Type, path: &mut String) -> Result<Vec<Value>, CodecError> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| with_step(path, &format!("[{i}]"), |p| from_mp(item, e, p)))
        .collect()
}

fn to_mp(value: &Value, ty: &Type, path: &mut String) -> Result<Mp, CodecError> {
    match (ty, value) {
        (_, Value::Null) => Ok(Mp::Nil),
        (_, Value::Unknown) => Ok(Mp::Ext(UNKNOWN_EXT, vec![0])),
        (Type::Bool, Value::Bool(b)) => Ok(Mp::Boolean(*b)),
        (Type::String, Value::String(s)) => Ok(Mp::String(s.as_str().into())),
        (Type::Number, Value::Number(n)) => Ok(number(n)),
        (Type::List(e), Value::List(items)) | (Type::Set(e), Value::Set(items)) => {
            let items = items
                .iter()
                .enumerate()
                .map(|(i, v)| with_step(path, &format!("[{i}]"), |p| to_mp(v, e, p)))
                .collect::<Result<_, _>>()?;
            Ok(Mp::Array(items))
        }
        (Type::Tuple(types), Value::Tuple(items)) if types.len() == items.len() => {
            let items = items
                .iter()
                .zip(types)
                .enumerate()
                .map(|(i, (v, t))| with_step(path, &format!("[{i}]"), |p| to_mp(v, t, p)))
                .collect::<Result<_, _>>()?;
            Ok(Mp::Array(items))
        }
        (Type::Map(e), Value::Map(entries)) => {
            let entries = entries
                .iter()
                .map(|(k, v)| {
                    let v = with_step(path, &format!("[{k:?}]"), |p| to_mp(v, e, p))?;
                    Ok((Mp::String(k.as_str().into()), v))
                })
                .collect::<Result<_, CodecError>>()?;
            Ok(Mp::Map(entries))
        }
        (Type::Object(attrs), Value::Object(values)) => {
            if let Some(extra) = values.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(mismatch(
                    path,
                    ty,
                    format!("unexpected attribute {extra:?}"),
                ));
            }
            let entries = attrs
                .iter()
                .map(|(k, t)| {
                    let v = values.get(k).unwrap_or(&Value::Null);
                    let v = with_step(path, &format!(".{k}"), |p| to_mp(v, t, p))?;
                    Ok((Mp::String(k.as_str().into()), v))
                })
                .collect::<Result<_, CodecError>>()?;
            Ok(Mp::Map(entries))
        }
        (Type::Dynamic, Value::Dynamic(concrete, inner)) => Ok(Mp::Array(vec![
            Mp::Binary(concrete.to_json_bytes()),
            to_mp(inner, concrete, path)?,
        ])),
        (_, other) => Err(mismatch(path, ty, super::json::describe(other))),
    }
}

/// cty's number rule: an int when it is one, a float when the float is
/// exact, otherwise the decimal text.
fn number(n: &Number) -> Mp {
    // Whole numbers that fit go as msgpack integers. Everything else goes as its decimal text,
    // which cty decodes at full precision: sending `1.2` as a float would hand Terraform the
    // binary approximation, which it then rejects as not matching the configuration's 1.2.
    if let Ok(i) = n.0.parse::<i64>()
        && i.to_string() == n.0
    {
        return Mp::from(i);
    }
    Mp::String(n.0.as_str().into())
}
