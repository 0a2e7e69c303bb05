//! Maps a [`JsonPath`] back to a line and column in the JSON text, for `file:line:col` messages.

use super::{JsonPath, PathStep};

/// A 1-based line and column (columns count characters; a tab is one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// Finds where the value at `path` starts in `source`. When the path does not exist (a missing
/// field), gives the deepest existing parent instead. With duplicate keys the last one counts,
/// as in parsing. For a document that is an array of pipelines, prefix the path with the
/// pipeline's index. Returns `None` only for text that is not JSON at the root.
pub fn locate(source: &str, path: &JsonPath) -> Option<Location> {
    let steps = path.steps();
    (0..=steps.len()).rev().find_map(|n| {
        let mut s = Scanner {
            b: source.as_bytes(),
            i: 0,
        };
        s.find(steps.get(..n)?)
            .map(|offset| location_of(source, offset))
    })
}

fn location_of(source: &str, offset: usize) -> Location {
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Location { line, column }
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        // A UTF-8 byte order mark is skipped like whitespace.
        if self.i == 0 && self.b.starts_with(b"\xEF\xBB\xBF") {
            self.i = 3;
        }
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Skips a string starting at the quote; returns its raw text (with escapes).
    fn string(&mut self) -> Option<&str> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.i + 1;
        let mut j = start;
        while let Some(&c) = self.b.get(j) {
            match c {
                b'\\' => j += 2,
                b'"' => {
                    self.i = j + 1;
                    return std::str::from_utf8(self.b.get(start..j)?).ok();
                }
                _ => j += 1,
            }
        }
        None
    }

    /// Skips one value of any kind, without recursion.
    fn skip_value(&mut self) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                        }
                        b'{' | b'[' => {
                            depth += 1;
                            self.i += 1;
                        }
                        b'}' | b']' => {
                            depth = depth.checked_sub(1)?;
                            self.i += 1;
                            if depth == 0 {
                                return Some(());
                            }
                        }
                        _ => self.i += 1,
                    }
                }
            }
            _ => {
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace() {
                        break;
                    }
                    self.i += 1;
                }
                Some(())
            }
        }
    }

    /// Offset of the value at `path`, relative to the value starting here.
    fn find(&mut self, path: &[PathStep]) -> Option<usize> {
        self.ws();
        let Some((step, rest)) = path.split_first() else {
            return Some(self.i);
        };
        match (step, self.peek()?) {
            (PathStep::Key(want), b'{') => {
                self.i += 1;
                let mut found = None;
                if self.eat(b'}') {
                    return None;
                }
                loop {
                    self.ws();
                    let raw = self.string()?.to_owned();
                    let key: String = serde_json::from_str(&format!("\"{raw}\"")).unwrap_or(raw);
                    if !self.eat(b':') {
                        return None;
                    }
                    self.ws();
                    if &key == want {
                        found = Some(self.i); // keep scanning: the last duplicate wins
                    }
                    self.skip_value()?;
                    if self.eat(b',') {
                        continue;
                    }
                    break;
                }
                self.i = found?;
                self.find(rest)
            }
            (PathStep::Index(want), b'[') => {
                self.i += 1;
                if self.eat(b']') {
                    return None;
                }
                let mut n = 0;
                loop {
                    self.ws();
                    if n == *want {
                        return self.find(rest);
                    }
                    self.skip_value()?;
                    if !self.eat(b',') {
                        return None;
                    }
                    n += 1;
                }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "{\n  \"name\": \"p\",\n  \"stages\": [\n    {\"refId\": \"1\", \"x\": {\"a\": [1, \"}\"]}},\n\t{\"refId\": 2,\n     \"requisiteStageRefIds\": [\"9\"]}\n  ],\n  \"name\": \"dup\"\n}";

    fn at(path: JsonPath) -> (usize, usize) {
        let l = locate(SRC, &path).unwrap();
        (l.line, l.column)
    }

    #[test]
    fn finds_values_by_path() {
        let stages = JsonPath::root().key("stages");
        assert_eq!(at(JsonPath::root()), (1, 1));
        assert_eq!(at(stages.clone()), (3, 13));
        assert_eq!(at(stages.index(0).key("refId")), (4, 15));
        assert_eq!(at(stages.index(1)), (5, 2));
        assert_eq!(
            at(stages.index(1).key("requisiteStageRefIds").index(0)),
            (6, 31)
        );
        assert_eq!(
            at(JsonPath::root().key("name")),
            (8, 11),
            "last duplicate key wins"
        );
    }

    #[test]
    fn missing_fields_point_at_the_parent() {
        let stage = JsonPath::root().key("stages").index(1);
        assert_eq!(at(stage.key("type")), (5, 2));
        assert_eq!(at(JsonPath::root().key("triggers").index(0)), (1, 1));
        assert_eq!(
            locate("not json", &JsonPath::root()),
            Some(Location { line: 1, column: 1 })
        );
        assert_eq!(
            locate("", &JsonPath::root().key("a")),
            Some(Location { line: 1, column: 1 })
        );
    }
}
