//! The SpEL syntax tree and its canonical printing (fully parenthesised, re-parses to the same tree).

use std::fmt;

/// Byte range of a node in the expression source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// An expression node with its source span. Equality ignores spans.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Where it is in the source.
    pub span: Span,
}

impl Expr {
    /// Calls `f` on this node and every node below it, parents first.
    pub fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Ident(_)
            | ExprKind::Var(_) => {}
            ExprKind::List(items) | ExprKind::Function { args: items, .. } => {
                items.iter().for_each(|e| e.visit(f))
            }
            ExprKind::Property { target, .. } => target.visit(f),
            ExprKind::Method { target, args, .. } => {
                if let Some(t) = target {
                    t.visit(f);
                }
                args.iter().for_each(|e| e.visit(f));
            }
            ExprKind::Unary { operand, .. } => operand.visit(f),
            ExprKind::Index {
                target: a,
                index: b,
            }
            | ExprKind::Select {
                target: a, cond: b, ..
            }
            | ExprKind::Project { target: a, expr: b }
            | ExprKind::Binary { lhs: a, rhs: b, .. }
            | ExprKind::Elvis {
                value: a,
                fallback: b,
            } => {
                a.visit(f);
                b.visit(f);
            }
            ExprKind::Ternary {
                cond,
                then,
                otherwise,
            } => {
                cond.visit(f);
                then.visit(f);
                otherwise.visit(f);
            }
        }
    }

    /// Names of the `#name(...)` functions called anywhere in this expression, in order.
    pub fn functions_called(&self) -> Vec<&str> {
        let mut names = Vec::new();
        self.visit(&mut |e| {
            if let ExprKind::Function { name, .. } = &e.kind {
                names.push(name.as_str());
            }
        });
        names
    }
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `!x`, `not x`
    Not,
    /// `-x`
    Neg,
    /// `+x`
    Plus,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `or`, `||`
    Or,
    /// `and`, `&&`
    And,
    /// `==`, `eq`
    Eq,
    /// `!=`, `ne`
    Ne,
    /// `<`, `lt`
    Lt,
    /// `<=`, `le`
    Le,
    /// `>`, `gt`
    Gt,
    /// `>=`, `ge`
    Ge,
    /// `matches` (regular expression, whole string)
    Matches,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`, `div`
    Div,
    /// `%`, `mod`
    Mod,
    /// `^`
    Pow,
}

impl BinaryOp {
    /// The operator as printed.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Or => "||",
            Self::And => "&&",
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::Matches => "matches",
            Self::Add => "+",
            Self::Sub => "-",
            Self::Mul => "*",
            Self::Div => "/",
            Self::Mod => "%",
            Self::Pow => "^",
        }
    }
}

/// Which elements a selection keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// `.?[cond]`: all matching elements.
    All,
    /// `.^[cond]`: the first match.
    First,
    /// `.$[cond]`: the last match.
    Last,
}

/// Expression node kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// Integer literal.
    Int(i64),
    /// Floating-point literal.
    Float(f64),
    /// String literal (quotes removed).
    Str(String),
    /// Inline list `{a, b}`.
    List(Vec<Expr>),
    /// A bare name: a property of the active object (the root at top level).
    Ident(String),
    /// `#name`: `#root`, `#this` or a variable.
    Var(String),
    /// `target.name` or `target?.name`.
    Property {
        /// Object read from.
        target: Box<Expr>,
        /// Property name.
        name: String,
        /// `?.` (null-safe).
        safe: bool,
    },
    /// `target[index]`.
    Index {
        /// Object indexed.
        target: Box<Expr>,
        /// Index or key.
        index: Box<Expr>,
    },
    /// `target.name(args)`, or `name(args)` on the active object.
    Method {
        /// Receiver; `None` means the active object.
        target: Option<Box<Expr>>,
        /// Method name.
        name: String,
        /// Arguments.
        args: Vec<Expr>,
        /// `?.` (null-safe).
        safe: bool,
    },
    /// `#name(args)`.
    Function {
        /// Function name without `#`.
        name: String,
        /// Arguments.
        args: Vec<Expr>,
    },
    /// `target.?[cond]`, `.^[cond]`, `.$[cond]`.
    Select {
        /// Collection filtered.
        target: Box<Expr>,
        /// Which matches to keep.
        which: Selection,
        /// Condition evaluated on each element.
        cond: Box<Expr>,
    },
    /// `target.![expr]`.
    Project {
        /// Collection mapped.
        target: Box<Expr>,
        /// Expression evaluated on each element.
        expr: Box<Expr>,
    },
    /// Unary operation.
    Unary {
        /// Operator.
        op: UnaryOp,
        /// Operand.
        operand: Box<Expr>,
    },
    /// Binary operation.
    Binary {
        /// Operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `cond ? then : otherwise`.
    Ternary {
        /// Condition.
        cond: Box<Expr>,
        /// Value when true.
        then: Box<Expr>,
        /// Value when false.
        otherwise: Box<Expr>,
    },
    /// `value ?: fallback`.
    Elvis {
        /// Value used unless null or empty.
        value: Box<Expr>,
        /// Fallback.
        fallback: Box<Expr>,
    },
}

fn write_args(f: &mut fmt::Formatter<'_>, args: &[Expr]) -> fmt::Result {
    f.write_str("(")?;
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{a}")?;
    }
    f.write_str(")")
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Null => f.write_str("null"),
            ExprKind::Bool(b) => write!(f, "{b}"),
            ExprKind::Int(i) if *i < 0 => write!(f, "(-{})", i.unsigned_abs()),
            ExprKind::Int(i) => write!(f, "{i}"),
            ExprKind::Float(x) if x.is_sign_negative() => write!(f, "(-{:?})", -x),
            ExprKind::Float(x) => write!(f, "{x:?}"),
            ExprKind::Str(s) => f.write_str(&quote(s)),
            ExprKind::List(items) => {
                f.write_str("{")?;
                for (i, a) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str("}")
            }
            ExprKind::Ident(name) => f.write_str(name),
            ExprKind::Var(name) => write!(f, "#{name}"),
            ExprKind::Property { target, name, safe } => {
                write!(f, "{target}{}{name}", if *safe { "?." } else { "." })
            }
            ExprKind::Index { target, index } => write!(f, "{target}[{index}]"),
            ExprKind::Method {
                target,
                name,
                args,
                safe,
            } => {
                if let Some(t) = target {
                    write!(f, "{t}{}", if *safe { "?." } else { "." })?;
                }
                f.write_str(name)?;
                write_args(f, args)
            }
            ExprKind::Function { name, args } => {
                write!(f, "#{name}")?;
                write_args(f, args)
            }
            ExprKind::Select {
                target,
                which,
                cond,
            } => {
                let op = match which {
                    Selection::All => ".?[",
                    Selection::First => ".^[",
                    Selection::Last => ".$[",
                };
                write!(f, "{target}{op}{cond}]")
            }
            ExprKind::Project { target, expr } => write!(f, "{target}.![{expr}]"),
            ExprKind::Unary { op, operand } => {
                let op = match op {
                    UnaryOp::Not => "!",
                    UnaryOp::Neg => "-",
                    UnaryOp::Plus => "+",
                };
                write!(f, "({op}{operand})")
            }
            ExprKind::Binary { op, lhs, rhs } => write!(f, "({lhs} {} {rhs})", op.symbol()),
            ExprKind::Ternary {
                cond,
                then,
                otherwise,
            } => write!(f, "({cond} ? {then} : {otherwise})"),
            ExprKind::Elvis { value, fallback } => write!(f, "({value} ?: {fallback})"),
        }
    }
}
