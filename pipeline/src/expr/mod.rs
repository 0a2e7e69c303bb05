//! The SpEL subset real pipelines use (§5.8): lexer, parser, evaluator and `${...}` templates.
//!
//! * [`parse`] turns one expression into an [`Expr`] tree with byte offsets; `Display` prints it
//!   back fully parenthesised.
//! * [`evaluate`] runs a tree over a JSON root with a caller-supplied [`Functions`] (the engine
//!   supplies `#stage`, `#judgment`, ...); the pure helpers of [`BUILT_IN_FUNCTIONS`] are built in.
//! * [`evaluate_template`] processes a string with `${...}` parts, as Orca's
//!   `ContextParameterProcessor` does; [`check_template_syntax`] only parses it (for validation).
//!
//! Unsupported constructs (type references, `new`, bean references, assignment, unknown methods)
//! fail with [`ExprError::Unsupported`] naming the construct and its offset.

mod ast;
mod eval;
mod functions;
mod lexer;
mod parser;
mod value;

use std::borrow::Cow;

use serde_json::Value;

pub use ast::{BinaryOp, Expr, ExprKind, Selection, Span, UnaryOp};
pub use eval::evaluate;
pub use functions::{BUILT_IN_FUNCTIONS, ORCA_CONTEXT_FUNCTIONS, is_known_function};
pub use parser::parse;
pub use value::{java_boolean_value_of, to_java_string};

/// A parse or evaluation failure with the byte offset where it happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExprError {
    /// The text is not a valid expression.
    #[error("syntax error at offset {offset}: {message}")]
    Syntax {
        /// Byte offset in the source.
        offset: usize,
        /// What is wrong.
        message: String,
    },
    /// A SpEL construct outside the supported subset.
    #[error("unsupported construct at offset {offset}: {construct}")]
    Unsupported {
        /// The construct, e.g. `type reference T(...)`.
        construct: String,
        /// Byte offset in the source.
        offset: usize,
    },
    /// `#name(...)` is neither built in nor known to the caller's [`Functions`].
    #[error("unknown function #{name} at offset {offset}")]
    UnknownFunction {
        /// Function name without `#`.
        name: String,
        /// Byte offset in the source.
        offset: usize,
    },
    /// Evaluation failed (null navigation, type mismatch, bad index, function error, ...).
    #[error("evaluation failed at offset {offset}: {message}")]
    Eval {
        /// Byte offset in the source.
        offset: usize,
        /// What went wrong.
        message: String,
    },
    /// A `${` without its closing `}`.
    #[error("no closing '}}' for the '${{' at offset {offset}")]
    Unterminated {
        /// Byte offset of the `$`.
        offset: usize,
    },
}

impl ExprError {
    /// Byte offset of the problem in the source given to the failing call.
    pub fn offset(&self) -> usize {
        match self {
            Self::Syntax { offset, .. }
            | Self::Unsupported { offset, .. }
            | Self::UnknownFunction { offset, .. }
            | Self::Eval { offset, .. }
            | Self::Unterminated { offset } => *offset,
        }
    }

    fn shifted(mut self, by: usize) -> Self {
        match &mut self {
            Self::Syntax { offset, .. }
            | Self::Unsupported { offset, .. }
            | Self::UnknownFunction { offset, .. }
            | Self::Eval { offset, .. }
            | Self::Unterminated { offset } => *offset += by,
        }
        self
    }
}

/// Functions and variables the caller provides (`#stage(...)`, `#judgment(...)`, ...).
pub trait Functions {
    /// Calls `#name(args)`: `None` when the function is unknown, `Some(Err(message))` when it
    /// fails.
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>>;

    /// The value of `#name` (other than `#root` and `#this`); `None` when unknown.
    fn variable(&self, name: &str) -> Option<Value> {
        let _ = name;
        None
    }
}

/// No caller functions: only the built-in helpers exist.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFunctions;

impl Functions for NoFunctions {
    fn call(&self, _name: &str, _args: &[Value]) -> Option<Result<Value, String>> {
        None
    }
}

/// What an expression is evaluated against: the root object and the caller's functions.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    root: &'a Value,
    functions: &'a dyn Functions,
}

impl<'a> Context<'a> {
    /// A context whose `#root` (and top-level active object) is `root`, with no caller functions.
    pub fn new(root: &'a Value) -> Self {
        Self {
            root,
            functions: &NoFunctions,
        }
    }

    /// Uses `functions` for `#name(...)` calls that are not built in.
    pub fn with_functions(self, functions: &'a dyn Functions) -> Self {
        Self { functions, ..self }
    }

    /// The root object.
    pub fn root(&self) -> &'a Value {
        self.root
    }
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("root", self.root)
            .finish_non_exhaustive()
    }
}

/// One piece of a template string.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart<'s> {
    /// Text outside `${...}`.
    Literal(&'s str),
    /// One `${...}` part: its parsed tree and where its text starts in the template.
    Expression {
        /// The text between `${` and `}`.
        source: &'s str,
        /// Byte offset of `source` in the template.
        offset: usize,
        /// The parsed expression (spans relative to `source`).
        expr: Expr,
    },
}

/// Finds the `}` that closes a `${` whose body starts at `from`, skipping quoted text and
/// nested braces.
fn closing_brace(src: &str, from: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = from;
    while let Some(&b) = bytes.get(i) {
        match quote {
            Some(q) if b == q => {
                if bytes.get(i + 1) == Some(&q) {
                    i += 1;
                } else {
                    quote = None;
                }
            }
            Some(_) => {}
            None => match b {
                b'\'' | b'"' => quote = Some(b),
                b'{' => depth += 1,
                b'}' if depth == 0 => return Some(i),
                b'}' => depth -= 1,
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// Splits a template into literal text and parsed `${...}` parts.
///
/// # Errors
///
/// [`ExprError::Unterminated`] or a parse error, with offsets into the whole template.
pub fn parse_template(src: &str) -> Result<Vec<TemplatePart<'_>>, ExprError> {
    let mut parts = Vec::new();
    let mut rest = 0;
    while let Some(found) = src.get(rest..).and_then(|s| s.find("${")) {
        let dollar = rest + found;
        if dollar > rest {
            parts.push(TemplatePart::Literal(&src[rest..dollar]));
        }
        let body = dollar + 2;
        let close = closing_brace(src, body).ok_or(ExprError::Unterminated { offset: dollar })?;
        let source = &src[body..close];
        if source.trim().is_empty() {
            return Err(ExprError::Syntax {
                offset: body,
                message: "empty expression '${}'".into(),
            });
        }
        let expr = parse(source).map_err(|e| e.shifted(body))?;
        parts.push(TemplatePart::Expression {
            source,
            offset: body,
            expr,
        });
        rest = close + 1;
    }
    if rest < src.len() {
        parts.push(TemplatePart::Literal(&src[rest..]));
    }
    Ok(parts)
}

/// Checks that every `${...}` in `src` parses. Text without `${` is always fine.
///
/// # Errors
///
/// The first [`ExprError`], with its offset into `src`.
pub fn check_template_syntax(src: &str) -> Result<(), ExprError> {
    parse_template(src).map(|_| ())
}

/// Evaluates a template: a string that is exactly one `${...}` yields the expression's value
/// (which may be a number, list, map, ...); otherwise every part is converted with Java's
/// `toString` (null becomes the empty string) and concatenated. Text without `${` is returned
/// as a string unchanged.
///
/// # Errors
///
/// The first failing part's [`ExprError`], with its offset into `src`.
pub fn evaluate_template(src: &str, ctx: &Context<'_>) -> Result<Value, ExprError> {
    let parts = parse_template(src)?;
    if let [TemplatePart::Expression { offset, expr, .. }] = parts.as_slice() {
        return evaluate(expr, ctx).map_err(|e| e.shifted(*offset));
    }
    let mut out = String::with_capacity(src.len());
    for part in &parts {
        match part {
            TemplatePart::Literal(text) => out.push_str(text),
            TemplatePart::Expression { offset, expr, .. } => {
                match evaluate(expr, ctx).map_err(|e| e.shifted(*offset))? {
                    Value::Null => {}
                    v => out.push_str(&to_java_string(&v)),
                }
            }
        }
    }
    Ok(Value::String(out))
}

/// Parses and evaluates one bare expression (no `${}`), e.g. a `stageEnabled` expression.
///
/// # Errors
///
/// Any [`ExprError`].
pub fn evaluate_str(src: &str, ctx: &Context<'_>) -> Result<Value, ExprError> {
    evaluate(&parse(src)?, ctx)
}

/// Orca's handling of condition expressions (`stageEnabled`, expression preconditions): text that
/// already contains `${` is a template, anything else is wrapped as `${<text>}`.
pub fn as_template(expression: &str) -> Cow<'_, str> {
    if expression.contains("${") {
        Cow::Borrowed(expression)
    } else {
        Cow::Owned(format!("${{{expression}}}"))
    }
}

#[cfg(test)]
mod tests;
