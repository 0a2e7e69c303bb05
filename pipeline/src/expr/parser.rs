//! Recursive-descent SpEL parser producing [`Expr`] trees with byte spans.
//!
//! Precedence, lowest first: ternary / elvis, `or`, `and`, one relational operator, `+ -`,
//! `* / %`, `^`, unary `! - +`, then postfix navigation. Constructs outside the subset (type
//! references `T(...)`, `new`, bean references `@x`, assignment, `++`/`--`, `instanceof`,
//! `between`, inline maps) are refused with [`ExprError::Unsupported`].

use super::ExprError;
use super::ast::{BinaryOp, Expr, ExprKind, Selection, Span, UnaryOp};
use super::lexer::{Tok, Token, tokenize};

/// Nesting limit, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 100;

/// Parses one expression (no `${}` wrapper).
///
/// # Errors
///
/// [`ExprError::Syntax`] or [`ExprError::Unsupported`] with the byte offset.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    if p.peek() == &Tok::Eof {
        return Err(ExprError::Syntax {
            offset: 0,
            message: "empty expression".into(),
        });
    }
    let e = p.expr()?;
    match p.peek() {
        Tok::Eof => Ok(e),
        Tok::Assign => Err(p.unsupported("assignment '='")),
        Tok::Increment | Tok::Decrement => Err(p.unsupported("increment/decrement operator")),
        other => {
            let message = format!("unexpected {} after the expression", describe(other));
            Err(ExprError::Syntax {
                offset: p.offset(),
                message,
            })
        }
    }
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Ident(s) => format!("'{s}'"),
        Tok::Int(i) => format!("number {i}"),
        Tok::Float(x) => format!("number {x}"),
        Tok::Str(_) => "string".into(),
        Tok::Eof => "end of expression".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

fn keyword(tok: &Tok, word: &str) -> bool {
    matches!(tok, Tok::Ident(s) if s.eq_ignore_ascii_case(word))
}

impl Parser {
    fn token(&self) -> Option<&Token> {
        self.tokens.get(self.pos).or_else(|| self.tokens.last())
    }

    fn peek(&self) -> &Tok {
        self.token().map_or(&Tok::Eof, |t| &t.tok)
    }

    fn peek_at(&self, n: usize) -> &Tok {
        self.tokens.get(self.pos + n).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn offset(&self) -> usize {
        self.token().map_or(0, |t| t.start)
    }

    fn prev_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(0, |t| t.end)
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    fn expect(&mut self, want: &Tok, what: &str) -> Result<(), ExprError> {
        if self.peek() == want {
            self.bump();
            Ok(())
        } else {
            Err(ExprError::Syntax {
                offset: self.offset(),
                message: format!("expected {what}, found {}", describe(self.peek())),
            })
        }
    }

    fn unsupported(&self, construct: &str) -> ExprError {
        ExprError::Unsupported {
            construct: construct.to_owned(),
            offset: self.offset(),
        }
    }

    fn node(&self, kind: ExprKind, start: usize) -> Expr {
        Expr {
            kind,
            span: Span {
                start,
                end: self.prev_end(),
            },
        }
    }

    fn enter(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::Syntax {
                offset: self.offset(),
                message: "expression is nested too deeply".into(),
            });
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, ExprError> {
        self.enter()?;
        let start = self.offset();
        let cond = self.or()?;
        let out = match self.peek() {
            Tok::Question => {
                self.bump();
                let then = self.expr()?;
                self.expect(&Tok::Colon, "':' of the ternary operator")?;
                let otherwise = self.expr()?;
                self.node(
                    ExprKind::Ternary {
                        cond: Box::new(cond),
                        then: Box::new(then),
                        otherwise: Box::new(otherwise),
                    },
                    start,
                )
            }
            Tok::Elvis => {
                self.bump();
                let fallback = self.expr()?;
                self.node(
                    ExprKind::Elvis {
                        value: Box::new(cond),
                        fallback: Box::new(fallback),
                    },
                    start,
                )
            }
            _ => cond,
        };
        self.depth -= 1;
        Ok(out)
    }

    fn binary(&self, op: BinaryOp, lhs: Expr, rhs: Expr, start: usize) -> Expr {
        self.node(
            ExprKind::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            start,
        )
    }

    fn or(&mut self) -> Result<Expr, ExprError> {
        let start = self.offset();
        let mut lhs = self.and()?;
        while matches!(self.peek(), Tok::OrOr) || keyword(self.peek(), "or") {
            self.bump();
            let rhs = self.and()?;
            lhs = self.binary(BinaryOp::Or, lhs, rhs, start);
        }
        Ok(lhs)
    }

    fn and(&mut self) -> Result<Expr, ExprError> {
        let start = self.offset();
        let mut lhs = self.relational()?;
        while matches!(self.peek(), Tok::AndAnd) || keyword(self.peek(), "and") {
            self.bump();
            let rhs = self.relational()?;
            lhs = self.binary(BinaryOp::And, lhs, rhs, start);
        }
        Ok(lhs)
    }

    fn relational_op(&self) -> Option<BinaryOp> {
        let t = self.peek();
        Some(match t {
            Tok::Eq => BinaryOp::Eq,
            Tok::Ne => BinaryOp::Ne,
            Tok::Lt => BinaryOp::Lt,
            Tok::Le => BinaryOp::Le,
            Tok::Gt => BinaryOp::Gt,
            Tok::Ge => BinaryOp::Ge,
            _ if keyword(t, "eq") => BinaryOp::Eq,
            _ if keyword(t, "ne") => BinaryOp::Ne,
            _ if keyword(t, "lt") => BinaryOp::Lt,
            _ if keyword(t, "le") => BinaryOp::Le,
            _ if keyword(t, "gt") => BinaryOp::Gt,
            _ if keyword(t, "ge") => BinaryOp::Ge,
            _ if keyword(t, "matches") => BinaryOp::Matches,
            _ => return None,
        })
    }

    fn relational(&mut self) -> Result<Expr, ExprError> {
        let start = self.offset();
        let lhs = self.sum()?;
        if keyword(self.peek(), "instanceof") {
            return Err(self.unsupported("'instanceof' operator"));
        }
        if keyword(self.peek(), "between") {
            return Err(self.unsupported("'between' operator"));
        }
        match self.relational_op() {
            Some(op) => {
                self.bump();
                let rhs = self.sum()?;
                Ok(self.binary(op, lhs, rhs, start))
            }
            None => Ok(lhs),
        }
    }

    fn sum(&mut self) -> Result<Expr, ExprError> {
        let start = self.offset();
        let mut lhs = self.product()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => BinaryOp::Add,
                Tok::Minus => BinaryOp::Sub,
                _ => return Ok(lhs),
            };
            self.bump();
            let rhs = self.product()?;
            lhs = self.binary(op, lhs, rhs, start);
        }
    }

    fn product(&mut self) -> Result<Expr, ExprError> {
        let start = self.offset();
        let mut lhs = self.power()?;
        loop {
            let t = self.peek();
            let op = match t {
                Tok::Star => BinaryOp::Mul,
                Tok::Slash => BinaryOp::Div,
                Tok::Percent => BinaryOp::Mod,
                _ if keyword(t, "div") => BinaryOp::Div,
                _ if keyword(t, "mod") => BinaryOp::Mod,
                _ => return Ok(lhs),
            };
            self.bump();
            let rhs = self.power()?;
            lhs = self.binary(op, lhs, rhs, start);
        }
    }

    fn power(&mut self) -> Result<Expr, ExprError> {
        let start = self.offset();
        let lhs = self.unary()?;
        if self.peek() == &Tok::Caret {
            self.bump();
            let rhs = self.unary()?;
            return Ok(self.binary(BinaryOp::Pow, lhs, rhs, start));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        self.enter()?;
        let start = self.offset();
        let t = self.peek();
        let op = match t {
            Tok::Bang => Some(UnaryOp::Not),
            Tok::Minus => Some(UnaryOp::Neg),
            Tok::Plus => Some(UnaryOp::Plus),
            Tok::Increment | Tok::Decrement => {
                return Err(self.unsupported("increment/decrement operator"));
            }
            _ if keyword(t, "not") => Some(UnaryOp::Not),
            _ => None,
        };
        let out = match op {
            Some(op) => {
                self.bump();
                let operand = self.unary()?;
                self.node(
                    ExprKind::Unary {
                        op,
                        operand: Box::new(operand),
                    },
                    start,
                )
            }
            None => self.postfix()?,
        };
        self.depth -= 1;
        Ok(out)
    }

    fn args(&mut self) -> Result<Vec<Expr>, ExprError> {
        self.expect(&Tok::LParen, "'('")?;
        let mut args = Vec::new();
        if self.peek() == &Tok::RParen {
            self.bump();
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            match self.bump() {
                Tok::Comma => continue,
                Tok::RParen => return Ok(args),
                other => {
                    self.pos = self.pos.saturating_sub(1);
                    return Err(ExprError::Syntax {
                        offset: self.offset(),
                        message: format!(
                            "expected ',' or ')' in the argument list, found {}",
                            describe(&other)
                        ),
                    });
                }
            }
        }
    }

    fn name(&mut self, after: &str) -> Result<String, ExprError> {
        match self.peek().clone() {
            Tok::Ident(name) => {
                self.bump();
                Ok(name)
            }
            other => Err(ExprError::Syntax {
                offset: self.offset(),
                message: format!(
                    "expected a property or method name after '{after}', found {}",
                    describe(&other)
                ),
            }),
        }
    }

    fn postfix(&mut self) -> Result<Expr, ExprError> {
        let start = self.offset();
        let mut e = self.primary()?;
        loop {
            let tok = self.peek().clone();
            e = match tok {
                Tok::Dot | Tok::SafeDot => {
                    let safe = tok == Tok::SafeDot;
                    self.bump();
                    if matches!(self.peek(), Tok::SelectAll | Tok::Project) {
                        return Err(
                            self.unsupported("null-safe selection or projection '?.?[' / '?.!['")
                        );
                    }
                    let name = self.name(if safe { "?." } else { "." })?;
                    if self.peek() == &Tok::LParen {
                        let args = self.args()?;
                        self.node(
                            ExprKind::Method {
                                target: Some(Box::new(e)),
                                name,
                                args,
                                safe,
                            },
                            start,
                        )
                    } else {
                        self.node(
                            ExprKind::Property {
                                target: Box::new(e),
                                name,
                                safe,
                            },
                            start,
                        )
                    }
                }
                Tok::LBracket => {
                    self.bump();
                    let index = self.expr()?;
                    self.expect(&Tok::RBracket, "']'")?;
                    self.node(
                        ExprKind::Index {
                            target: Box::new(e),
                            index: Box::new(index),
                        },
                        start,
                    )
                }
                Tok::SelectAll | Tok::SelectFirst | Tok::SelectLast => {
                    self.bump();
                    let which = match tok {
                        Tok::SelectFirst => Selection::First,
                        Tok::SelectLast => Selection::Last,
                        _ => Selection::All,
                    };
                    let cond = self.expr()?;
                    self.expect(&Tok::RBracket, "']' closing the selection")?;
                    self.node(
                        ExprKind::Select {
                            target: Box::new(e),
                            which,
                            cond: Box::new(cond),
                        },
                        start,
                    )
                }
                Tok::Project => {
                    self.bump();
                    let expr = self.expr()?;
                    self.expect(&Tok::RBracket, "']' closing the projection")?;
                    self.node(
                        ExprKind::Project {
                            target: Box::new(e),
                            expr: Box::new(expr),
                        },
                        start,
                    )
                }
                _ => return Ok(e),
            };
        }
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let start = self.offset();
        let tok = self.peek().clone();
        match tok {
            Tok::Int(i) => {
                self.bump();
                Ok(self.node(ExprKind::Int(i), start))
            }
            Tok::Float(x) => {
                self.bump();
                Ok(self.node(ExprKind::Float(x), start))
            }
            Tok::Str(s) => {
                self.bump();
                Ok(self.node(ExprKind::Str(s), start))
            }
            Tok::LParen => {
                self.bump();
                let mut e = self.expr()?;
                self.expect(&Tok::RParen, "')'")?;
                e.span = Span {
                    start,
                    end: self.prev_end(),
                };
                Ok(e)
            }
            Tok::Hash => {
                self.bump();
                let name = match self.peek().clone() {
                    Tok::Ident(n) => {
                        self.bump();
                        n
                    }
                    other => {
                        return Err(ExprError::Syntax {
                            offset: self.offset(),
                            message: format!(
                                "expected a function or variable name after '#', found {}",
                                describe(&other)
                            ),
                        });
                    }
                };
                if self.peek() == &Tok::LParen {
                    let args = self.args()?;
                    Ok(self.node(ExprKind::Function { name, args }, start))
                } else {
                    Ok(self.node(ExprKind::Var(name), start))
                }
            }
            Tok::LBrace => self.inline_list(start),
            Tok::At | Tok::Amp => Err(self.unsupported("bean reference '@'/'&'")),
            Tok::Ident(name) => {
                if name == "T" && self.peek_at(1) == &Tok::LParen {
                    return Err(self.unsupported("type reference T(...)"));
                }
                if name.eq_ignore_ascii_case("new") && matches!(self.peek_at(1), Tok::Ident(_)) {
                    return Err(self.unsupported("constructor call 'new'"));
                }
                self.bump();
                let kind = match name.as_str() {
                    n if n.eq_ignore_ascii_case("true") => ExprKind::Bool(true),
                    n if n.eq_ignore_ascii_case("false") => ExprKind::Bool(false),
                    n if n.eq_ignore_ascii_case("null") => ExprKind::Null,
                    _ if self.peek() == &Tok::LParen => {
                        let args = self.args()?;
                        ExprKind::Method {
                            target: None,
                            name,
                            args,
                            safe: false,
                        }
                    }
                    _ => ExprKind::Ident(name),
                };
                Ok(self.node(kind, start))
            }
            other => Err(ExprError::Syntax {
                offset: self.offset(),
                message: format!("expected a value, found {}", describe(&other)),
            }),
        }
    }

    fn inline_list(&mut self, start: usize) -> Result<Expr, ExprError> {
        self.bump();
        let mut items = Vec::new();
        if self.peek() == &Tok::Colon {
            return Err(self.unsupported("inline map '{:}'"));
        }
        if self.peek() == &Tok::RBrace {
            self.bump();
            return Ok(self.node(ExprKind::List(items), start));
        }
        loop {
            items.push(self.expr()?);
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RBrace => {
                    self.bump();
                    return Ok(self.node(ExprKind::List(items), start));
                }
                Tok::Colon => return Err(self.unsupported("inline map '{key: value}'")),
                other => {
                    let message = format!(
                        "expected ',' or '}}' in the inline list, found {}",
                        describe(other)
                    );
                    return Err(ExprError::Syntax {
                        offset: self.offset(),
                        message,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        parse(s).unwrap().to_string()
    }

    #[test]
    fn precedence_and_printing() {
        assert_eq!(p("1 + 2 * 3"), "(1 + (2 * 3))");
        assert_eq!(p("a or b and c"), "(a || (b && c))");
        assert_eq!(p("not a == b"), "((!a) == b)");
        assert_eq!(p("-2 ^ 2"), "((-2) ^ 2)");
        assert_eq!(p("a ? b : c ?: d"), "(a ? b : (c ?: d))");
        assert_eq!(p("x gt 1 and y le 2"), "((x > 1) && (y <= 2))");
        assert_eq!(p("a div 2 mod 3"), "((a / 2) % 3)");
    }

    #[test]
    fn navigation_forms() {
        assert_eq!(
            p("trigger['parameters'][\"env\"]"),
            "trigger['parameters']['env']"
        );
        assert_eq!(p("a?.b.c()"), "a?.b.c()");
        assert_eq!(
            p("execution['stages'].?[type == 'bake'][0]"),
            "execution['stages'].?[(type == 'bake')][0]"
        );
        assert_eq!(p("list.![name].^[true].$[x]"), "list.![name].^[true].$[x]");
        assert_eq!(p("#stage('A')['outputs']"), "#stage('A')['outputs']");
        assert_eq!(p("#root.x + #this"), "(#root.x + #this)");
        assert_eq!(p("{1, 'two', {}}"), "{1, 'two', {}}");
        assert_eq!(p("size()"), "size()");
    }

    #[test]
    fn functions_called_walks_the_whole_tree() {
        let e = parse("#a(#b(x)).c(#d()) ? {#e()} : list.?[#f(#this)] ?: #g()").unwrap();
        assert_eq!(e.functions_called(), ["a", "b", "d", "e", "f", "g"]);
        let mut count = 0;
        e.visit(&mut |_| count += 1);
        assert!(count > 10, "{count}");
    }

    #[test]
    fn spans_cover_nodes() {
        let e = parse("  a.b + 1").unwrap();
        assert_eq!(e.span, Span { start: 2, end: 9 });
        let ExprKind::Binary { lhs, .. } = e.kind else {
            panic!()
        };
        assert_eq!(lhs.span, Span { start: 2, end: 5 });
    }

    #[test]
    fn syntax_errors_have_offsets() {
        let err = |s: &str| parse(s).unwrap_err();
        assert_eq!(err("a +").offset(), 3);
        assert_eq!(err("(a").offset(), 2);
        assert_eq!(err("a b").offset(), 2);
        assert_eq!(err("").offset(), 0);
        assert!(matches!(err("f(1 2)"), ExprError::Syntax { offset: 4, .. }));
    }

    #[test]
    fn unsupported_constructs_are_named() {
        let unsupported = |s: &str| match parse(s) {
            Err(ExprError::Unsupported { construct, offset }) => (construct, offset),
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(
            unsupported("T(java.lang.Math).random()").0,
            "type reference T(...)"
        );
        assert_eq!(unsupported("x = 1"), ("assignment '='".into(), 2));
        assert_eq!(unsupported("new Foo()").0, "constructor call 'new'");
        assert_eq!(unsupported("@bean").0, "bean reference '@'/'&'");
        assert_eq!(unsupported("a instanceof b").1, 2);
        assert_eq!(unsupported("{a: 1}").0, "inline map '{key: value}'");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let s = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(matches!(parse(&s), Err(ExprError::Syntax { .. })));
        let s = format!("{}1", "!".repeat(5000));
        assert!(parse(&s).is_err());
    }
}
