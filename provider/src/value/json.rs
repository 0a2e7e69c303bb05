//! cty's JSON encoding, used for state Terraform stored itself (for example
//! the raw state handed to UpgradeResourceState). Numbers keep their exact
//! decimal text, so this module parses JSON itself rather than through f64.
//! Unknown values cannot be written as JSON.

use std::collections::BTreeMap;

use super::{CodecError, Number, Type, Value, mismatch};

/// A parsed JSON document with number text preserved.
#[derive(Debug)]
enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// Decodes JSON bytes as a value of type `ty`.
pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut parser = Parser { bytes, pos: 0 };
    let json = parser.value(0)?;
    parser.skip_ws();
    if parser.pos != bytes.len() {
        return Err(parser.err("trailing characters"));
    }
    from_json(json, ty, &mut String::new())
}

/// Encodes a wholly known value of type `ty` as JSON.
pub fn encode_json(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut out = String::with_capacity(64);
    write(value, ty, &mut out, "")?;
    Ok(out.into_bytes())
}

pub(crate) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Unknown => "unknown",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "list",
        Value::Set(_) => "set",
        Value::Map(_) => "map",
        Value::Object(_) => "object",
        Value::Tuple(_) => "tuple",
        Value::Dynamic(..) => "dynamic value",
    }
}

fn from_json(json: Json, ty: &Type, path: &mut String) -> Result<Value, CodecError> {
    if let Json::Null = json {
        return Ok(Value::Null);
    }
    let step = |path: &mut String, s: String, j: Json, t: &Type| {
        let len = path.len();
        path.push_str(&s);
        let v = from_json(j, t, path);
        path.truncate(len);
        v
    };
    match (ty, json) {
        (Type::Bool, Json::Bool(b)) => Ok(Value::Bool(b)),
        (Type::Number, Json::Number(n)) => Ok(Value::Number(Number(n))),
        // cty accepts numbers written as strings in JSON.
        (Type::Number, Json::String(s)) => Number::parse(&s)
            .map(Value::Number)
            .ok_or_else(|| mismatch(path, ty, "a string that is not a number")),
        (Type::String, Json::String(s)) => Ok(Value::String(s)),
        // cty converts primitive JSON to a string attribute.
        (Type::String, Json::Number(n)) => Ok(Value::String(n)),
        (Type::String, Json::Bool(b)) => Ok(Value::String(b.to_string())),
        (Type::List(e), Json::Array(items)) | (Type::Set(e), Json::Array(items)) => {
            let values = items
                .into_iter()
                .enumerate()
                .map(|(i, j)| step(path, format!("[{i}]"), j, e))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(values)
            } else {
                Value::List(values)
            })
        }
        (Type::Tuple(types), Json::Array(items)) if types.len() == items.len() => {
            let values = items
                .into_iter()
                .zip(types)
                .enumerate()
                .map(|(i, (j, t))| step(path, format!("[{i}]"), j, t))
                .collect::<Result<_, _>>()?;
            Ok(Value::Tuple(values))
        }
        (Type::Map(e), Json::Object(entries)) => {
            let mut out = BTreeMap::new();
            for (k, j) in entries {
                let v = step(path, format!("[{k:?}]"), j, e)?;
                out.insert(k, v);
            }
            Ok(Value::Map(out))
        }
        (Type::Object(attrs), Json::Object(entries)) => {
            let mut out = BTreeMap::new();
            for (k, j) in entries {
                let Some(t) = attrs.get(&k) else {
                    return Err(mismatch(path, ty, format!("unexpected attribute {k:?}")));
                };
                let v = step(path, format!(".{k}"), j, t)?;
                out.insert(k, v);
            }
            for name in attrs.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        (Type::Dynamic, Json::Object(entries)) => {
            let mut type_json = None;
            let mut value_json = None;
            for (k, j) in entries {
                match k.as_str() {
                    "type" => type_json = Some(j),
                    "value" => value_json = Some(j),
                    _ => return Err(mismatch(path, ty, format!("unexpected key {k:?}"))),
                }
            }
            let (Some(t), Some(v)) = (type_json, value_json) else {
                return Err(mismatch(path, ty, "an object without type and value"));
            };
            let concrete = Type::from_json(&to_serde(t))?;
            if concrete == Type::Dynamic {
                return Err(mismatch(path, ty, "a dynamic value typed dynamic"));
            }
            let inner = from_json(v, &concrete, path)?;
            Ok(Value::Dynamic(concrete, Box::new(inner)))
        }
        (_, other) => Err(mismatch(path, ty, json_kind(&other))),
    }
}

fn json_kind(j: &Json) -> &'static str {
    match j {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// Type notation is small and has no numbers, so serde_json handles it.
fn to_serde(j: Json) -> serde_json::Value {
    match j {
        Json::Null => serde_json::Value::Null,
        Json::Bool(b) => b.into(),
        Json::Number(n) => n.into(),
        Json::String(s) => s.into(),
        Json::Array(a) => a.into_iter().map(to_serde).collect(),
        Json::Object(o) => {
            serde_json::Value::Object(o.into_iter().map(|(k, v)| (k, to_serde(v))).collect())
        }
    }
}

fn write(value: &Value, ty: &Type, out: &mut String, path: &str) -> Result<(), CodecError> {
    match (ty, value) {
        (_, Value::Null) => out.push_str("null"),
        (_, Value::Unknown) => {
            return Err(mismatch(
                path,
                ty,
                "an unknown value, which JSON cannot hold",
            ));
        }
        (Type::Bool, Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        (Type::Number, Value::Number(n)) => out.push_str(n.as_str()),
        (Type::String, Value::String(s)) => write_str(s, out),
        (Type::List(e), Value::List(items)) | (Type::Set(e), Value::Set(items)) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(v, e, out, &format!("{path}[{i}]"))?;
            }
            out.push(']');
        }
        (Type::Tuple(types), Value::Tuple(items)) if types.len() == items.len() => {
            out.push('[');
            for (i, (v, t)) in items.iter().zip(types).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(v, t, out, &format!("{path}[{i}]"))?;
            }
            out.push(']');
        }
        (Type::Map(e), Value::Map(entries)) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                write(v, e, out, &format!("{path}[{k:?}]"))?;
            }
            out.push('}');
        }
        (Type::Object(attrs), Value::Object(values)) => {
            if let Some(extra) = values.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(mismatch(
                    path,
                    ty,
                    format!("unexpected attribute {extra:?}"),
                ));
            }
            out.push('{');
            for (i, (k, t)) in attrs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                write(
                    values.get(k).unwrap_or(&Value::Null),
                    t,
                    out,
                    &format!("{path}.{k}"),
                )?;
            }
            out.push('}');
        }
        (Type::Dynamic, Value::Dynamic(concrete, inner)) => {
            out.push_str("{\"value\":");
            write(inner, concrete, out, path)?;
            out.push_str(",\"type\":");
            out.push_str(&concrete.to_json().to_string());
            out.push('}');
        }
        (_, other) => return Err(mismatch(path, ty, describe(other))),
    }
    Ok(())
}

fn write_str(s: &str, out: &mut String) {
    out.push_str(&serde_json::Value::from(s).to_string());
}

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 128;

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, reason: &'static str) -> CodecError {
        CodecError::Json {
            offset: self.pos,
            reason,
        }
    }

    fn skip_ws(&mut self) {
        while self
            .bytes
            .get(self.pos)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn literal(&mut self, word: &'static str, value: Json) -> Result<Json, CodecError> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, CodecError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        self.skip_ws();
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return Err(self.err("expected , or ]")),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut entries = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(Json::Object(entries));
                }
                loop {
                    self.skip_ws();
                    if self.peek() != Some(b'"') {
                        return Err(self.err("expected a string key"));
                    }
                    let key = self.string()?;
                    self.skip_ws();
                    if self.peek() != Some(b':') {
                        return Err(self.err("expected :"));
                    }
                    self.pos += 1;
                    entries.push((key, self.value(depth + 1)?));
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Json::Object(entries));
                        }
                        _ => return Err(self.err("expected , or }")),
                    }
                }
            }
            Some(_) => {
                let start = self.pos;
                while self.peek().is_some_and(|b| {
                    b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')
                }) {
                    self.pos += 1;
                }
                let text = self
                    .bytes
                    .get(start..self.pos)
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .unwrap_or("");
                if super::is_decimal(text) {
                    Ok(Json::Number(text.to_owned()))
                } else {
                    self.pos = start;
                    Err(self.err("invalid number"))
                }
            }
        }
    }

    fn string(&mut self) -> Result<String, CodecError> {
        self.pos += 1; // opening quote
        let mut out = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(self.err("unterminated string"));
            };
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(esc) = self.peek() else {
                        return Err(self.err("unterminated escape"));
                    };
                    self.pos += 1;
                    match esc {
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'/' => out.push(b'/'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let c = self.unicode_escape()?;
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return Err(self.err("invalid escape")),
                    }
                }
                0..=0x1f => return Err(self.err("control character in string")),
                _ => out.push(b),
            }
        }
        String::from_utf8(out).map_err(|_| self.err("invalid UTF-8 in string"))
    }

    fn hex4(&mut self) -> Result<u32, CodecError> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.err("short \\u escape"))?;
        let text = std::str::from_utf8(digits).map_err(|_| self.err("invalid \\u escape"))?;
        let n = u32::from_str_radix(text, 16).map_err(|_| self.err("invalid \\u escape"))?;
        self.pos += 4;
        Ok(n)
    }

    fn unicode_escape(&mut self) -> Result<char, CodecError> {
        let first = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                return Err(self.err("unpaired surrogate"));
            }
            self.pos += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(self.err("unpaired surrogate"));
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| self.err("invalid code point"))
    }
}
