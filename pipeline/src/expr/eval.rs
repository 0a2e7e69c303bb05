//! Evaluates an [`Expr`] over `serde_json::Value` with SpEL semantics.
//!
//! * Bare names and `a.b` read map keys; a missing key gives null (Orca's map accessor allows
//!   unknown keys), reading through null fails unless `?.` is used.
//! * `map[name]` with a bare name uses the name as the key, as SpEL's indexer does.
//! * `and`, `or`, `!` and `?:` conditions convert strings with Spring's rules
//!   (`true/on/yes/1`, `false/off/no/0`).
//! * The Elvis operator falls back on null and on the empty string.
//! * Integer arithmetic stays integral (Java `long`); mixing with floats gives floats.

use std::cmp::Ordering;

use regex::Regex;
use serde_json::{Map, Value};

use super::ast::{BinaryOp, Expr, ExprKind, Selection, UnaryOp};
use super::functions::call_built_in;
use super::value::{spel_boolean, to_java_string};
use super::{Context, ExprError};
use crate::model::json_kind;

fn fail(offset: usize, message: impl Into<String>) -> ExprError {
    ExprError::Eval {
        offset,
        message: message.into(),
    }
}

/// Evaluates `expr` with `#root` and the active object set to the context's root.
///
/// # Errors
///
/// [`ExprError::Eval`], [`ExprError::Unsupported`] or [`ExprError::UnknownFunction`] with the
/// offset of the failing node.
pub fn evaluate(expr: &Expr, ctx: &Context<'_>) -> Result<Value, ExprError> {
    eval(expr, ctx, ctx.root)
}

#[derive(Clone, Copy)]
enum Num {
    I(i64),
    F(f64),
}

impl Num {
    fn of(v: &Value) -> Option<Num> {
        let n = v.as_number()?;
        n.as_i64().map(Num::I).or_else(|| n.as_f64().map(Num::F))
    }
    fn f(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::F(x) => x,
        }
    }
}

fn float(x: f64, offset: usize) -> Result<Value, ExprError> {
    serde_json::Number::from_f64(x)
        .map(Value::Number)
        .ok_or_else(|| {
            fail(
                offset,
                format!("arithmetic result {x} is not a finite number"),
            )
        })
}

fn eval(e: &Expr, ctx: &Context<'_>, this: &Value) -> Result<Value, ExprError> {
    let at = e.span.start;
    match &e.kind {
        ExprKind::Null => Ok(Value::Null),
        ExprKind::Bool(b) => Ok(Value::Bool(*b)),
        ExprKind::Int(i) => Ok(Value::from(*i)),
        ExprKind::Float(x) => float(*x, at),
        ExprKind::Str(s) => Ok(Value::String(s.clone())),
        ExprKind::List(items) => items
            .iter()
            .map(|i| eval(i, ctx, this))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        ExprKind::Ident(name) => property(this, name, false, at),
        ExprKind::Var(name) => match name.as_str() {
            "root" => Ok(ctx.root.clone()),
            "this" => Ok(this.clone()),
            _ => ctx
                .functions
                .variable(name)
                .ok_or_else(|| fail(at, format!("unknown variable #{name}"))),
        },
        ExprKind::Property { target, name, safe } => {
            let t = eval(target, ctx, this)?;
            property(&t, name, *safe, e.span.start.max(target.span.end))
        }
        ExprKind::Index { target, index } => {
            let t = eval(target, ctx, this)?;
            let key = match (&t, &index.kind) {
                (Value::Object(_), ExprKind::Ident(name)) => Value::String(name.clone()),
                _ => eval(index, ctx, this)?,
            };
            index_value(&t, &key, index.span.start)
        }
        ExprKind::Method {
            target,
            name,
            args,
            safe,
        } => {
            let receiver = match target {
                Some(t) => eval(t, ctx, this)?,
                None => this.clone(),
            };
            if receiver.is_null() && *safe {
                return Ok(Value::Null);
            }
            let args = args
                .iter()
                .map(|a| eval(a, ctx, this))
                .collect::<Result<Vec<_>, _>>()?;
            let offset = target.as_ref().map_or(at, |t| t.span.end);
            call_method(&receiver, name, &args, offset)
        }
        ExprKind::Function { name, args } => {
            let args = args
                .iter()
                .map(|a| eval(a, ctx, this))
                .collect::<Result<Vec<_>, _>>()?;
            let result = call_built_in(name, &args)
                .or_else(|| ctx.functions.call(name, &args))
                .ok_or_else(|| ExprError::UnknownFunction {
                    name: name.clone(),
                    offset: at,
                })?;
            result.map_err(|m| fail(at, m))
        }
        ExprKind::Select {
            target,
            which,
            cond,
        } => {
            let t = eval(target, ctx, this)?;
            select(&t, *which, cond, ctx, target.span.end)
        }
        ExprKind::Project { target, expr } => {
            let t = eval(target, ctx, this)?;
            let items = elements(&t, target.span.end, "projection")?;
            items
                .iter()
                .map(|item| eval(expr, ctx, item))
                .collect::<Result<_, _>>()
                .map(Value::Array)
        }
        ExprKind::Unary { op, operand } => {
            let v = eval(operand, ctx, this)?;
            match op {
                UnaryOp::Not => Ok(Value::Bool(
                    !spel_boolean(&v).map_err(|m| fail(operand.span.start, m))?,
                )),
                UnaryOp::Neg => match Num::of(&v) {
                    Some(Num::I(i)) => Ok(i
                        .checked_neg()
                        .map_or_else(|| Value::from(-(i as f64)), Value::from)),
                    Some(Num::F(x)) => float(-x, at),
                    None => Err(fail(at, format!("cannot negate {}", json_kind(&v)))),
                },
                UnaryOp::Plus => match Num::of(&v) {
                    Some(_) => Ok(v),
                    None => Err(fail(
                        at,
                        format!("unary '+' needs a number, got {}", json_kind(&v)),
                    )),
                },
            }
        }
        ExprKind::Binary {
            op: BinaryOp::And,
            lhs,
            rhs,
        } => {
            let l = eval(lhs, ctx, this)?;
            if !spel_boolean(&l).map_err(|m| fail(lhs.span.start, m))? {
                return Ok(Value::Bool(false));
            }
            let r = eval(rhs, ctx, this)?;
            Ok(Value::Bool(
                spel_boolean(&r).map_err(|m| fail(rhs.span.start, m))?,
            ))
        }
        ExprKind::Binary {
            op: BinaryOp::Or,
            lhs,
            rhs,
        } => {
            let l = eval(lhs, ctx, this)?;
            if spel_boolean(&l).map_err(|m| fail(lhs.span.start, m))? {
                return Ok(Value::Bool(true));
            }
            let r = eval(rhs, ctx, this)?;
            Ok(Value::Bool(
                spel_boolean(&r).map_err(|m| fail(rhs.span.start, m))?,
            ))
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let l = eval(lhs, ctx, this)?;
            let r = eval(rhs, ctx, this)?;
            binary(*op, &l, &r, lhs.span.end)
        }
        ExprKind::Ternary {
            cond,
            then,
            otherwise,
        } => {
            let c = eval(cond, ctx, this)?;
            if spel_boolean(&c).map_err(|m| fail(cond.span.start, m))? {
                eval(then, ctx, this)
            } else {
                eval(otherwise, ctx, this)
            }
        }
        ExprKind::Elvis { value, fallback } => {
            let v = eval(value, ctx, this)?;
            match &v {
                Value::Null => eval(fallback, ctx, this),
                Value::String(s) if s.is_empty() => eval(fallback, ctx, this),
                _ => Ok(v),
            }
        }
    }
}

fn property(target: &Value, name: &str, safe: bool, offset: usize) -> Result<Value, ExprError> {
    match target {
        Value::Object(map) => Ok(map.get(name).cloned().unwrap_or(Value::Null)),
        Value::Null if safe => Ok(Value::Null),
        Value::Null => Err(fail(
            offset,
            format!("cannot read property '{name}' of null (use '?.' to allow null)"),
        )),
        other => Err(fail(
            offset,
            format!("property '{name}' cannot be found on {}", json_kind(other)),
        )),
    }
}

fn as_index(key: &Value, offset: usize) -> Result<i64, ExprError> {
    match key {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| {
        fail(
            offset,
            format!("index must be an integer, got {}", to_java_string(key)),
        )
    })
}

fn index_value(target: &Value, key: &Value, offset: usize) -> Result<Value, ExprError> {
    match target {
        Value::Object(map) => Ok(map
            .get(&to_java_string(key))
            .cloned()
            .unwrap_or(Value::Null)),
        Value::Array(items) => {
            let i = as_index(key, offset)?;
            usize::try_from(i)
                .ok()
                .and_then(|i| items.get(i))
                .cloned()
                .ok_or_else(|| {
                    fail(
                        offset,
                        format!(
                            "index {i} is out of bounds for a list of size {}",
                            items.len()
                        ),
                    )
                })
        }
        Value::String(s) => {
            let i = as_index(key, offset)?;
            usize::try_from(i)
                .ok()
                .and_then(|i| s.chars().nth(i))
                .map(|c| Value::String(c.to_string()))
                .ok_or_else(|| {
                    fail(
                        offset,
                        format!(
                            "index {i} is out of bounds for a string of length {}",
                            s.chars().count()
                        ),
                    )
                })
        }
        Value::Null => Err(fail(offset, "cannot index into null")),
        other => Err(fail(
            offset,
            format!("cannot index into {}", json_kind(other)),
        )),
    }
}

/// Elements visited by selection and projection: list items, or map entries as `{key, value}`.
fn elements(target: &Value, offset: usize, what: &str) -> Result<Vec<Value>, ExprError> {
    match target {
        Value::Array(items) => Ok(items.clone()),
        Value::Object(map) => Ok(map
            .iter()
            .map(|(k, v)| {
                let mut entry = Map::new();
                entry.insert("key".into(), Value::String(k.clone()));
                entry.insert("value".into(), v.clone());
                Value::Object(entry)
            })
            .collect()),
        other => Err(fail(
            offset,
            format!("{what} needs a list or a map, got {}", json_kind(other)),
        )),
    }
}

fn select(
    target: &Value,
    which: Selection,
    cond: &Expr,
    ctx: &Context<'_>,
    offset: usize,
) -> Result<Value, ExprError> {
    let items = elements(target, offset, "selection")?;
    let mut kept = Vec::new();
    for item in items {
        let c = eval(cond, ctx, &item)?;
        let keep = match c {
            Value::Bool(b) => b,
            other => {
                return Err(fail(
                    cond.span.start,
                    format!(
                        "selection condition must be a boolean, got {}",
                        json_kind(&other)
                    ),
                ));
            }
        };
        if keep {
            kept.push(item);
        }
    }
    let pick = match which {
        Selection::All => None,
        Selection::First => Some(kept.first().cloned()),
        Selection::Last => Some(kept.last().cloned()),
    };
    if let Value::Object(_) = target {
        let as_map = |entries: Vec<Value>| {
            let mut m = Map::new();
            for e in entries {
                if let (Some(Value::String(k)), Some(v)) = (e.get("key"), e.get("value")) {
                    m.insert(k.clone(), v.clone());
                }
            }
            Value::Object(m)
        };
        return Ok(match pick {
            None => as_map(kept),
            Some(Some(one)) => as_map(vec![one]),
            Some(None) => Value::Null,
        });
    }
    Ok(match pick {
        None => Value::Array(kept),
        Some(one) => one.unwrap_or(Value::Null),
    })
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (Num::of(a), Num::of(b)) {
        (Some(Num::I(x)), Some(Num::I(y))) => x == y,
        (Some(x), Some(y)) => x.f() == y.f(),
        _ => a == b,
    }
}

fn compare(a: &Value, b: &Value, offset: usize) -> Result<Ordering, ExprError> {
    match (a, b) {
        (Value::Null, Value::Null) => return Ok(Ordering::Equal),
        (Value::Null, _) => return Ok(Ordering::Less),
        (_, Value::Null) => return Ok(Ordering::Greater),
        (Value::String(x), Value::String(y)) => return Ok(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => return Ok(x.cmp(y)),
        _ => {}
    }
    match (Num::of(a), Num::of(b)) {
        (Some(Num::I(x)), Some(Num::I(y))) => Ok(x.cmp(&y)),
        (Some(x), Some(y)) => x
            .f()
            .partial_cmp(&y.f())
            .ok_or_else(|| fail(offset, "cannot compare NaN")),
        _ => Err(fail(
            offset,
            format!("cannot compare {} with {}", json_kind(a), json_kind(b)),
        )),
    }
}

fn full_match_regex(pattern: &str, offset: usize) -> Result<Regex, ExprError> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
        fail(
            offset,
            format!("invalid regular expression {pattern:?}: {e}"),
        )
    })
}

fn binary(op: BinaryOp, l: &Value, r: &Value, offset: usize) -> Result<Value, ExprError> {
    let bool_of = |o: Ordering, f: fn(Ordering) -> bool| Ok(Value::Bool(f(o)));
    match op {
        BinaryOp::Eq => Ok(Value::Bool(values_equal(l, r))),
        BinaryOp::Ne => Ok(Value::Bool(!values_equal(l, r))),
        BinaryOp::Lt => bool_of(compare(l, r, offset)?, Ordering::is_lt),
        BinaryOp::Le => bool_of(compare(l, r, offset)?, Ordering::is_le),
        BinaryOp::Gt => bool_of(compare(l, r, offset)?, Ordering::is_gt),
        BinaryOp::Ge => bool_of(compare(l, r, offset)?, Ordering::is_ge),
        BinaryOp::Matches => {
            let (Value::String(s), Value::String(p)) = (l, r) else {
                return Err(fail(offset, "'matches' needs a string on both sides"));
            };
            Ok(Value::Bool(full_match_regex(p, offset)?.is_match(s)))
        }
        BinaryOp::Add if l.is_string() || r.is_string() => Ok(Value::String(format!(
            "{}{}",
            to_java_string(l),
            to_java_string(r)
        ))),
        _ => arithmetic(op, l, r, offset),
    }
}

fn arithmetic(op: BinaryOp, l: &Value, r: &Value, offset: usize) -> Result<Value, ExprError> {
    let (Some(a), Some(b)) = (Num::of(l), Num::of(r)) else {
        return Err(fail(
            offset,
            format!(
                "operator '{}' needs numbers, got {} and {}",
                op.symbol(),
                json_kind(l),
                json_kind(r)
            ),
        ));
    };
    if let (Num::I(x), Num::I(y)) = (a, b) {
        let exact = match op {
            BinaryOp::Add => x.checked_add(y),
            BinaryOp::Sub => x.checked_sub(y),
            BinaryOp::Mul => x.checked_mul(y),
            BinaryOp::Div | BinaryOp::Mod if y == 0 => {
                return Err(fail(offset, "division by zero"));
            }
            BinaryOp::Div => x.checked_div(y),
            BinaryOp::Mod => x.checked_rem(y),
            BinaryOp::Pow => u32::try_from(y).ok().and_then(|e| x.checked_pow(e)),
            _ => None,
        };
        if let Some(v) = exact {
            return Ok(Value::from(v));
        }
    }
    let (x, y) = (a.f(), b.f());
    let v = match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => x / y,
        BinaryOp::Mod => x % y,
        BinaryOp::Pow => x.powf(y),
        _ => {
            return Err(fail(
                offset,
                format!("operator '{}' is not arithmetic", op.symbol()),
            ));
        }
    };
    float(v, offset)
}

fn arg_count(
    name: &str,
    args: &[Value],
    allowed: &[usize],
    offset: usize,
) -> Result<(), ExprError> {
    if allowed.contains(&args.len()) {
        Ok(())
    } else {
        let want = allowed
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        Err(fail(
            offset,
            format!(
                "method {name}() takes {want} argument(s), got {}",
                args.len()
            ),
        ))
    }
}

fn str_arg(args: &[Value], i: usize) -> String {
    args.get(i).map(to_java_string).unwrap_or_default()
}

fn int_arg(name: &str, args: &[Value], i: usize, offset: usize) -> Result<i64, ExprError> {
    args.get(i)
        .and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        })
        .ok_or_else(|| fail(offset, format!("method {name}() needs an integer argument")))
}

fn call_method(
    receiver: &Value,
    name: &str,
    args: &[Value],
    offset: usize,
) -> Result<Value, ExprError> {
    let n = |allowed: &[usize]| arg_count(name, args, allowed, offset);
    if receiver.is_null() {
        return Err(fail(
            offset,
            format!("cannot call method {name}() on null (use '?.' to allow null)"),
        ));
    }
    // Methods every object has.
    match name {
        "toString" => return n(&[0]).map(|_| Value::String(to_java_string(receiver))),
        "equals" => {
            return n(&[1])
                .map(|_| Value::Bool(args.first().is_some_and(|a| values_equal(receiver, a))));
        }
        _ => {}
    }
    match receiver {
        Value::String(s) => string_method(s, name, args, offset),
        Value::Array(items) => match name {
            "size" => n(&[0]).map(|_| Value::from(items.len())),
            "isEmpty" => n(&[0]).map(|_| Value::Bool(items.is_empty())),
            "contains" => n(&[1]).map(|_| {
                Value::Bool(
                    args.first()
                        .is_some_and(|a| items.iter().any(|i| values_equal(i, a))),
                )
            }),
            "indexOf" => n(&[1]).map(|_| {
                let pos = args
                    .first()
                    .and_then(|a| items.iter().position(|i| values_equal(i, a)));
                Value::from(pos.map_or(-1, |p| p as i64))
            }),
            "get" => {
                n(&[1])?;
                let key = args.first().cloned().unwrap_or(Value::Null);
                index_value(receiver, &key, offset)
            }
            _ => Err(unsupported_method(name, receiver, offset)),
        },
        Value::Object(map) => match name {
            "size" => n(&[0]).map(|_| Value::from(map.len())),
            "isEmpty" => n(&[0]).map(|_| Value::Bool(map.is_empty())),
            "containsKey" => n(&[1]).map(|_| Value::Bool(map.contains_key(&str_arg(args, 0)))),
            "containsValue" => n(&[1]).map(|_| {
                Value::Bool(
                    args.first()
                        .is_some_and(|a| map.values().any(|v| values_equal(v, a))),
                )
            }),
            "get" => n(&[1]).map(|_| map.get(&str_arg(args, 0)).cloned().unwrap_or(Value::Null)),
            "keySet" => {
                n(&[0]).map(|_| Value::Array(map.keys().cloned().map(Value::String).collect()))
            }
            "values" => n(&[0]).map(|_| Value::Array(map.values().cloned().collect())),
            _ => Err(unsupported_method(name, receiver, offset)),
        },
        Value::Number(_) => match (name, Num::of(receiver)) {
            ("intValue" | "longValue", Some(x)) => {
                n(&[0]).map(|_| Value::from(x.f().trunc() as i64))
            }
            ("doubleValue" | "floatValue", Some(x)) => n(&[0]).and_then(|_| float(x.f(), offset)),
            _ => Err(unsupported_method(name, receiver, offset)),
        },
        Value::Bool(b) => match name {
            "booleanValue" => n(&[0]).map(|_| Value::Bool(*b)),
            _ => Err(unsupported_method(name, receiver, offset)),
        },
        Value::Null => Err(fail(
            offset,
            format!("cannot call method {name}() on null (use '?.' to allow null)"),
        )),
    }
}

fn unsupported_method(name: &str, receiver: &Value, offset: usize) -> ExprError {
    ExprError::Unsupported {
        construct: format!("method {name}() on {}", json_kind(receiver)),
        offset,
    }
}

fn string_method(s: &str, name: &str, args: &[Value], offset: usize) -> Result<Value, ExprError> {
    let n = |allowed: &[usize]| arg_count(name, args, allowed, offset);
    let a0 = || str_arg(args, 0);
    let chars: Vec<char>;
    Ok(match name {
        "toUpperCase" => n(&[0]).map(|_| Value::String(s.to_uppercase()))?,
        "toLowerCase" => n(&[0]).map(|_| Value::String(s.to_lowercase()))?,
        "trim" => n(&[0]).map(|_| Value::String(s.trim().to_owned()))?,
        "isEmpty" => n(&[0]).map(|_| Value::Bool(s.is_empty()))?,
        "length" => n(&[0]).map(|_| Value::from(s.encode_utf16().count()))?,
        "contains" => n(&[1]).map(|_| Value::Bool(s.contains(a0().as_str())))?,
        "startsWith" => n(&[1]).map(|_| Value::Bool(s.starts_with(a0().as_str())))?,
        "endsWith" => n(&[1]).map(|_| Value::Bool(s.ends_with(a0().as_str())))?,
        "equalsIgnoreCase" => n(&[1]).map(|_| {
            Value::Bool(args.first().is_some_and(|a| {
                a.as_str()
                    .is_some_and(|o| o.to_lowercase() == s.to_lowercase())
            }))
        })?,
        "concat" => n(&[1]).map(|_| Value::String(format!("{s}{}", a0())))?,
        "replace" => n(&[2]).map(|_| Value::String(s.replace(a0().as_str(), &str_arg(args, 1))))?,
        "replaceAll" => {
            n(&[2])?;
            let re = Regex::new(&a0())
                .map_err(|e| fail(offset, format!("invalid regular expression: {e}")))?;
            Value::String(re.replace_all(s, str_arg(args, 1).as_str()).into_owned())
        }
        "matches" => {
            n(&[1])?;
            Value::Bool(full_match_regex(&a0(), offset)?.is_match(s))
        }
        "indexOf" => {
            n(&[1])?;
            let pos = s
                .find(a0().as_str())
                .map_or(-1, |b| s[..b].chars().count() as i64);
            Value::from(pos)
        }
        "charAt" => {
            n(&[1])?;
            let i = int_arg(name, args, 0, offset)?;
            return index_value(&Value::String(s.to_owned()), &Value::from(i), offset);
        }
        "split" => {
            n(&[1])?;
            let re = Regex::new(&a0())
                .map_err(|e| fail(offset, format!("invalid regular expression: {e}")))?;
            let mut parts: Vec<&str> = re.split(s).collect();
            // Java drops trailing empty strings.
            while parts.last().is_some_and(|p| p.is_empty()) && parts.len() > 1 {
                parts.pop();
            }
            if s.is_empty() {
                parts = vec![""];
            }
            Value::Array(
                parts
                    .into_iter()
                    .map(|p| Value::String(p.to_owned()))
                    .collect(),
            )
        }
        "substring" => {
            n(&[1, 2])?;
            chars = s.chars().collect();
            let begin = int_arg(name, args, 0, offset)?;
            let end = if args.len() == 2 {
                int_arg(name, args, 1, offset)?
            } else {
                chars.len() as i64
            };
            let (Ok(b), Ok(e)) = (usize::try_from(begin), usize::try_from(end)) else {
                return Err(fail(
                    offset,
                    format!("substring({begin}, {end}) is out of range"),
                ));
            };
            if b > e || e > chars.len() {
                return Err(fail(
                    offset,
                    format!(
                        "substring({begin}, {end}) is out of range for length {}",
                        chars.len()
                    ),
                ));
            }
            Value::String(chars[b..e].iter().collect())
        }
        _ => {
            return Err(unsupported_method(
                name,
                &Value::String(String::new()),
                offset,
            ));
        }
    })
}
