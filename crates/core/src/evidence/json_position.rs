//! Finds where a value sits in JSON source text, so that problems found on the parsed
//! document can be reported as `file:line:column`. The text is known to be valid JSON when
//! this runs (serde_json parsed it first), which keeps the scanner small.

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

/// Renders a path as `accounts[0].regions[1].kms`.
pub fn display_path(path: &[PathSegment]) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            PathSegment::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            PathSegment::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    if out.is_empty() {
        out.push_str("(document)");
    }
    out
}

/// 1-based line and column (in characters) of the value at `path`, or of the deepest part of
/// the path that exists.
pub fn locate(text: &str, path: &[PathSegment]) -> (usize, usize) {
    let offset = Scanner {
        bytes: text.as_bytes(),
        pos: 0,
    }
    .find(path);
    line_column(text, offset)
}

pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn find(mut self, path: &[PathSegment]) -> usize {
        self.skip_whitespace();
        for segment in path {
            let found = match (segment, self.peek()) {
                (PathSegment::Key(key), Some(b'{')) => self.enter_object_member(key),
                (PathSegment::Index(index), Some(b'[')) => self.enter_array_element(*index),
                _ => false,
            };
            if !found {
                break;
            }
        }
        self.pos
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Leaves `pos` on the member's value and returns true, or restores `pos` and returns false.
    fn enter_object_member(&mut self, wanted: &str) -> bool {
        let object_start = self.pos;
        self.pos += 1;
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b'"') => {}
                _ => break,
            }
            let key_start = self.pos;
            self.skip_string();
            let key: Option<String> = serde_json::from_slice(&self.bytes[key_start..self.pos]).ok();
            self.skip_whitespace();
            self.pos += 1; // ':'
            self.skip_whitespace();
            if key.as_deref() == Some(wanted) {
                return true;
            }
            self.skip_value();
            self.skip_whitespace();
            if self.peek() == Some(b',') {
                self.pos += 1;
            } else {
                break;
            }
        }
        self.pos = object_start;
        false
    }

    fn enter_array_element(&mut self, wanted: usize) -> bool {
        let array_start = self.pos;
        self.pos += 1;
        let mut index = 0;
        loop {
            self.skip_whitespace();
            if self.peek() == Some(b']') || self.peek().is_none() {
                break;
            }
            if index == wanted {
                return true;
            }
            self.skip_value();
            self.skip_whitespace();
            if self.peek() == Some(b',') {
                self.pos += 1;
                index += 1;
            } else {
                break;
            }
        }
        self.pos = array_start;
        false
    }

    fn skip_string(&mut self) {
        self.pos += 1;
        while let Some(byte) = self.peek() {
            self.pos += 1;
            match byte {
                b'\\' => self.pos += 1,
                b'"' => return,
                _ => {}
            }
        }
    }

    fn skip_value(&mut self) {
        let mut depth = 0usize;
        while let Some(byte) = self.peek() {
            match byte {
                b'"' => {
                    self.skip_string();
                    if depth == 0 {
                        return;
                    }
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                    if depth == 0 {
                        self.pos += 1;
                        return;
                    }
                }
                b',' if depth == 0 => return,
                _ => {}
            }
            self.pos += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> PathSegment {
        PathSegment::Key(k.to_string())
    }

    #[test]
    fn finds_nested_members_and_elements() {
        let text = "{\n  \"a\": {\"b\": [1, {\"c\": \"x,}]\"}, {\"d\": true}]},\n  \"é\": 5\n}";
        assert_eq!(
            locate(text, &[key("a"), key("b"), PathSegment::Index(2), key("d")]),
            (2, 39)
        );
        assert_eq!(locate(text, &[key("é")]), (3, 8));
    }

    #[test]
    fn stops_at_the_deepest_existing_part() {
        let text = "{\"a\": {\"b\": 1}}";
        assert_eq!(locate(text, &[key("a"), key("missing")]), (1, 7));
    }

    #[test]
    fn renders_paths() {
        let path = [key("accounts"), PathSegment::Index(0), key("regions")];
        assert_eq!(display_path(&path), "accounts[0].regions");
    }
}
