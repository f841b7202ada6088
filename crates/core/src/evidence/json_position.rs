//! Finds where a value sits in JSON source text, so that problems found on the parsed
//! document can be reported as `file:line:column`. The text is known to be valid JSON when
//! this runs (serde_json parsed it first), which keeps the scanner small. Also finds what
//! a parse into maps hides: a key that appears twice in one object.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};

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

/// A key found twice in one JSON object: the object's path, the key, and the position just
/// after its second occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    pub path: Vec<PathSegment>,
    pub key: String,
    pub line: usize,
    pub column: usize,
}

/// The first key that appears twice in one object of `text`, or the syntax error that stops
/// the scan. One pass with serde_json's own parser (escapes decoded, so `"a"` and `"\u0061"`
/// are the same key); keys are borrowed from `text` where they have no escapes.
pub fn find_duplicate_key(text: &str) -> Result<Option<DuplicateKey>, serde_json::Error> {
    if !may_have_duplicate_key(text) {
        // Only the syntax is left to check, which skips strings without decoding them.
        let mut deserializer = serde_json::Deserializer::from_str(text);
        <serde::de::IgnoredAny as serde::Deserialize>::deserialize(&mut deserializer)?;
        deserializer.end()?;
        return Ok(None);
    }
    let trail = Trail::default();
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let scanned = Node(&trail)
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    match (scanned, trail.duplicate.into_inner()) {
        (Err(err), Some(key)) => {
            let mut path = trail.path.into_inner();
            path.reverse();
            Ok(Some(DuplicateKey {
                path,
                key,
                line: err.line(),
                column: err.column(),
            }))
        }
        (Err(err), None) => Err(err),
        (Ok(()), _) => Ok(None),
    }
}

/// A fast byte scan that is never wrong when it says no: false when no object of `text` has
/// the same key twice. A key with an escape (`"\u0061"`) counts as a possible duplicate, and
/// so does anything the scan cannot follow; `find_duplicate_key` then decides. Strings are
/// skipped with `memchr` instead of being decoded: a month's snapshot is hundreds of MB, most
/// of it CloudTrail records held as escaped strings.
pub fn may_have_duplicate_key(text: &str) -> bool {
    let bytes = text.as_bytes();
    // The keys seen so far in each open object (`None` for an array), reused by depth.
    let mut open: Vec<Option<Vec<&[u8]>>> = Vec::new();
    let mut expect_key = false;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                let start = at + 1;
                let mut end = start;
                let mut escaped = false;
                loop {
                    match memchr::memchr2(b'"', b'\\', &bytes[end..]) {
                        Some(offset) if bytes[end + offset] == b'\\' => {
                            escaped = true;
                            end += offset + 2;
                            if end > bytes.len() {
                                return true;
                            }
                        }
                        Some(offset) => {
                            end += offset;
                            break;
                        }
                        None => return true,
                    }
                }
                if expect_key {
                    if escaped {
                        return true;
                    }
                    match open.last_mut() {
                        Some(Some(keys)) => keys.push(&bytes[start..end]),
                        _ => return true,
                    }
                    expect_key = false;
                }
                at = end + 1;
                continue;
            }
            b'{' => {
                open.push(Some(Vec::new()));
                expect_key = true;
            }
            b'[' => {
                open.push(None);
                expect_key = false;
            }
            b'}' | b']' => {
                if let Some(Some(mut keys)) = open.pop() {
                    keys.sort_unstable();
                    if keys.windows(2).any(|pair| pair[0] == pair[1]) {
                        return true;
                    }
                }
                expect_key = false;
            }
            b',' => expect_key = matches!(open.last(), Some(Some(_))),
            _ => {}
        }
        at += 1;
    }
    !open.is_empty()
}

/// What the scan found: the duplicate key, and the path to its object, collected innermost
/// first as the error unwinds (nothing is allocated for a document without duplicates).
#[derive(Default)]
struct Trail {
    duplicate: RefCell<Option<String>>,
    path: RefCell<Vec<PathSegment>>,
}

/// One JSON value of the scan.
struct Node<'t>(&'t Trail);

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        loop {
            match seq.next_element_seed(Node(self.0)) {
                Ok(Some(())) => index += 1,
                Ok(None) => return Ok(()),
                Err(err) => {
                    self.0.path.borrow_mut().push(PathSegment::Index(index));
                    return Err(err);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = SeenKeys::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if !seen.insert(key.clone()) {
                let message = format!("duplicate key `{key}`");
                *self.0.duplicate.borrow_mut() = Some(key.into_owned());
                return Err(A::Error::custom(message));
            }
            if let Err(err) = map.next_value_seed(Node(self.0)) {
                self.0
                    .path
                    .borrow_mut()
                    .push(PathSegment::Key(key.into_owned()));
                return Err(err);
            }
        }
        Ok(())
    }
}

/// The keys of one object so far: a short list searched in order (most objects have a
/// handful of keys), a hash set once the object is large, so the scan stays linear.
#[derive(Default)]
struct SeenKeys<'de> {
    few: Vec<Cow<'de, str>>,
    many: Option<HashSet<Cow<'de, str>>>,
}

impl<'de> SeenKeys<'de> {
    const FEW: usize = 16;

    /// False when `key` was seen before.
    fn insert(&mut self, key: Cow<'de, str>) -> bool {
        if let Some(many) = &mut self.many {
            return many.insert(key);
        }
        if self.few.contains(&key) {
            return false;
        }
        self.few.push(key);
        if self.few.len() > Self::FEW {
            self.many = Some(self.few.drain(..).collect());
        }
        true
    }
}

/// A key, borrowed from the text when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(key.to_string()))
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

    #[test]
    fn finds_a_duplicate_key_with_its_object_and_position() {
        let text = "{\"a\": [1, {\"b\": 1,\n \"\\u0062\": 2}], \"c\": 3}";
        let duplicate = find_duplicate_key(text).unwrap().unwrap();
        assert_eq!(duplicate.key, "b");
        assert_eq!(duplicate.path, [key("a"), PathSegment::Index(1)]);
        assert_eq!(duplicate.line, 2);
    }

    #[test]
    fn equal_keys_in_different_objects_and_large_objects_are_fine() {
        let many: Vec<String> = (0..100).map(|i| format!("\"k{i}\": {i}")).collect();
        let text = format!("[{{\"a\": 1}}, {{\"a\": 2}}, {{{}}}]", many.join(", "));
        assert_eq!(find_duplicate_key(&text).unwrap(), None);
        let text = format!("{{{}, \"k7\": 0}}", many.join(", "));
        assert_eq!(find_duplicate_key(&text).unwrap().unwrap().key, "k7");
    }

    #[test]
    fn the_fast_scan_never_misses_a_duplicate_and_passes_clean_documents() {
        for clean in [
            r#"{"a": 1, "b": {"a": 2, "c": [{"a": 3}, {"a": 4}]}, "d": "a"}"#,
            r#"{"k": "{\"k\": 1, \"k\": 2}", "x": "}],{\\"}"#,
            r#"[{"a": 1}, {"a": 1}]"#,
            r#""just a string""#,
        ] {
            assert!(!may_have_duplicate_key(clean), "{clean}");
            assert_eq!(find_duplicate_key(clean).unwrap(), None, "{clean}");
        }
        for duplicate in [
            r#"{"a": 1, "a": 2}"#,
            r#"{"x": [1, {"b": {}, "c": 2, "b": 3}]}"#,
            r#"{"a": 1, "\u0061": 2}"#,
            r#"{"s": "}", "t": 1, "s": 2}"#,
        ] {
            assert!(may_have_duplicate_key(duplicate), "{duplicate}");
            assert!(
                find_duplicate_key(duplicate).unwrap().is_some(),
                "{duplicate}"
            );
        }
    }
}
