//! SpEL tokens with byte offsets.

use super::ExprError;

/// One token kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Int(i64),
    Float(f64),
    Str(String),
    Hash,
    Dot,
    SafeDot,
    SelectAll,
    SelectFirst,
    SelectLast,
    Project,
    LBracket,
    RBracket,
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
    Colon,
    Question,
    Elvis,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    AndAnd,
    OrOr,
    Bang,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Assign,
    At,
    Amp,
    Increment,
    Decrement,
    Eof,
}

/// A token and where it starts and ends in the source.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

fn syntax(offset: usize, message: impl Into<String>) -> ExprError {
    ExprError::Syntax {
        offset,
        message: message.into(),
    }
}

/// Splits an expression into tokens; the last one is [`Tok::Eof`].
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, ExprError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let at = |j: usize| bytes.get(j).copied().unwrap_or(0);
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let (tok, len) = match c {
            b'\'' | b'"' => {
                let (s, end) = string_literal(src, i)?;
                out.push(Token {
                    tok: Tok::Str(s),
                    start,
                    end,
                });
                i = end;
                continue;
            }
            b'0'..=b'9' => {
                let (tok, end) = number(src, i)?;
                out.push(Token { tok, start, end });
                i = end;
                continue;
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                let mut end = i + 1;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric()
                        || bytes[end] == b'_'
                        || bytes[end] == b'$')
                {
                    end += 1;
                }
                out.push(Token {
                    tok: Tok::Ident(src[i..end].to_owned()),
                    start,
                    end,
                });
                i = end;
                continue;
            }
            b'.' => match (at(i + 1), at(i + 2)) {
                (b'?', b'[') => (Tok::SelectAll, 3),
                (b'^', b'[') => (Tok::SelectFirst, 3),
                (b'$', b'[') => (Tok::SelectLast, 3),
                (b'!', b'[') => (Tok::Project, 3),
                _ => (Tok::Dot, 1),
            },
            b'?' => match at(i + 1) {
                b'.' => (Tok::SafeDot, 2),
                b':' => (Tok::Elvis, 2),
                _ => (Tok::Question, 1),
            },
            b'#' => (Tok::Hash, 1),
            b'[' => (Tok::LBracket, 1),
            b']' => (Tok::RBracket, 1),
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b'{' => (Tok::LBrace, 1),
            b'}' => (Tok::RBrace, 1),
            b',' => (Tok::Comma, 1),
            b':' => (Tok::Colon, 1),
            b'=' if at(i + 1) == b'=' => (Tok::Eq, 2),
            b'=' => (Tok::Assign, 1),
            b'!' if at(i + 1) == b'=' => (Tok::Ne, 2),
            b'!' => (Tok::Bang, 1),
            b'<' if at(i + 1) == b'=' => (Tok::Le, 2),
            b'<' => (Tok::Lt, 1),
            b'>' if at(i + 1) == b'=' => (Tok::Ge, 2),
            b'>' => (Tok::Gt, 1),
            b'&' if at(i + 1) == b'&' => (Tok::AndAnd, 2),
            b'&' => (Tok::Amp, 1),
            b'|' if at(i + 1) == b'|' => (Tok::OrOr, 2),
            b'+' if at(i + 1) == b'+' => (Tok::Increment, 2),
            b'+' => (Tok::Plus, 1),
            b'-' if at(i + 1) == b'-' => (Tok::Decrement, 2),
            b'-' => (Tok::Minus, 1),
            b'*' => (Tok::Star, 1),
            b'/' => (Tok::Slash, 1),
            b'%' => (Tok::Percent, 1),
            b'^' => (Tok::Caret, 1),
            b'@' => (Tok::At, 1),
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(syntax(i, format!("unexpected character {ch:?}")));
            }
        };
        out.push(Token {
            tok,
            start,
            end: start + len,
        });
        i += len;
    }
    out.push(Token {
        tok: Tok::Eof,
        start: src.len(),
        end: src.len(),
    });
    Ok(out)
}

/// A quoted string starting at `start`; a doubled quote stands for one quote.
fn string_literal(src: &str, start: usize) -> Result<(String, usize), ExprError> {
    let bytes = src.as_bytes();
    let quote = bytes[start];
    let mut out = String::new();
    let mut i = start + 1;
    let mut seg = i;
    while i < bytes.len() {
        if bytes[i] == quote {
            out.push_str(&src[seg..i]);
            if bytes.get(i + 1) == Some(&quote) {
                out.push(quote as char);
                i += 2;
                seg = i;
                continue;
            }
            return Ok((out, i + 1));
        }
        i += 1;
    }
    Err(syntax(start, "unterminated string literal"))
}

fn number(src: &str, start: usize) -> Result<(Tok, usize), ExprError> {
    let bytes = src.as_bytes();
    let digits = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    if bytes.get(start) == Some(&b'0') && matches!(bytes.get(start + 1), Some(b'x' | b'X')) {
        let mut end = start + 2;
        while end < bytes.len() && bytes[end].is_ascii_hexdigit() {
            end += 1;
        }
        let v = i64::from_str_radix(&src[start + 2..end], 16)
            .map_err(|_| syntax(start, "invalid hexadecimal literal"))?;
        let end = if matches!(bytes.get(end), Some(b'L' | b'l')) {
            end + 1
        } else {
            end
        };
        return Ok((Tok::Int(v), end));
    }
    let mut end = digits(start);
    let mut float = false;
    if bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
        end = digits(end + 1);
        float = true;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut j = end + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if bytes.get(j).is_some_and(u8::is_ascii_digit) {
            end = digits(j);
            float = true;
        }
    }
    let text = &src[start..end];
    match bytes.get(end) {
        Some(b'L' | b'l') if !float => {
            let v = text
                .parse()
                .map_err(|_| syntax(start, "integer literal is too large"))?;
            Ok((Tok::Int(v), end + 1))
        }
        Some(b'f' | b'F' | b'd' | b'D') => {
            let v = text.parse().map_err(|_| syntax(start, "invalid number"))?;
            Ok((Tok::Float(v), end + 1))
        }
        _ if float => Ok((
            Tok::Float(text.parse().map_err(|_| syntax(start, "invalid number"))?),
            end,
        )),
        _ => Ok((
            Tok::Int(
                text.parse()
                    .map_err(|_| syntax(start, "integer literal is too large"))?,
            ),
            end,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn operators_and_navigation() {
        assert_eq!(
            toks("a?.b.?[x]?:c"),
            [
                Tok::Ident("a".into()),
                Tok::SafeDot,
                Tok::Ident("b".into()),
                Tok::SelectAll,
                Tok::Ident("x".into()),
                Tok::RBracket,
                Tok::Elvis,
                Tok::Ident("c".into()),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("1.5e2 2L 0x1F 3"),
            [
                Tok::Float(150.0),
                Tok::Int(2),
                Tok::Int(31),
                Tok::Int(3),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("1.toString"),
            [
                Tok::Int(1),
                Tok::Dot,
                Tok::Ident("toString".into()),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn strings_with_doubled_quotes() {
        assert_eq!(
            toks("'it''s' \"a\"\"b\""),
            [Tok::Str("it's".into()), Tok::Str("a\"b".into()), Tok::Eof]
        );
        assert!(matches!(
            tokenize("'open"),
            Err(ExprError::Syntax { offset: 0, .. })
        ));
        assert!(matches!(
            tokenize("a ~ b"),
            Err(ExprError::Syntax { offset: 2, .. })
        ));
    }
}
