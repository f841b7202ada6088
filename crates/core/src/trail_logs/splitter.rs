//! The byte spans of a log file's records: the decompressed `{"Records":[…]}` text is read
//! into one reused buffer, and each element of `Records` is found by scanning its bytes
//! (brackets and braces counted outside strings, string ends found past escapes with `memchr`)
//! instead of being parsed through serde_json's `io::Read` path, which reads a byte at a time
//! and was the reader's bottleneck. The buffer holds the unread rest of the last refill and the
//! record being scanned, never the file: a record longer than the buffer grows it. Each thread
//! keeps its buffer for its next file.
//!
//! Only the structure is scanned here; each span is handed on as text and parsed (and so
//! validated) by the caller. Everything else in the file is checked as serde_json would check
//! it (other top-level keys and their values, commas, colons, trailing characters), and a
//! fault names the line and column of the decompressed JSON as serde_json counts them (column
//! = bytes from the line's start to the offending byte, inclusive), or the decompressed bytes
//! read before the source failed.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::io::{self, Read};

use serde::Deserializer as _;
use serde::de::{IgnoredAny, Visitor};

/// Decompressed bytes the buffer starts with (and reads at most at a time).
const INITIAL_BUFFER: usize = 256 * 1024;

/// Why a file could not be read to its end.
#[derive(Debug)]
pub(crate) enum ReadFault {
    /// The compressed source failed (not gzip, truncated, an I/O error) after `bytes`
    /// decompressed bytes.
    Source { error: io::Error, bytes: u64 },
    /// The decompressed text is not the JSON expected, at `line`/`column` (1-based line;
    /// column as serde_json counts it).
    Json {
        message: String,
        line: u64,
        column: u64,
    },
}

/// What a caller finds wrong with one element's text: a JSON syntax error inside it, with the
/// position relative to the text.
pub(crate) type ElementResult = Result<(), serde_json::Error>;

/// What the top-level value and the `Records` value must be (for the messages).
#[derive(Clone, Copy)]
enum Shape {
    LogFile,
    Records,
}

impl<'de> Visitor<'de> for Shape {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Shape::LogFile => "a CloudTrail log file object {\"Records\": [...]}",
            Shape::Records => "an array of CloudTrail records",
        })
    }
}

/// A buffer grown past this (by a record longer than `INITIAL_BUFFER`) is not kept.
const KEPT_BUFFER: usize = 4 * INITIAL_BUFFER;

thread_local! {
    /// The buffer of the last file read on this thread, for the next one.
    static SPARE_BUFFER: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Reads one decompressed log file from `source`.
pub(crate) struct RecordSplitter<R> {
    source: R,
    buffer: Vec<u8>,
    /// The first byte of `buffer` not yet read.
    start: usize,
    /// The end of the bytes in `buffer`.
    end: usize,
    /// The source has ended.
    exhausted: bool,
    /// Decompressed bytes before `buffer[0]`.
    offset: u64,
    /// Decompressed bytes read from the source so far.
    read: u64,
    /// The line (1-based) of `buffer[start]`.
    line: u64,
    /// Where that line starts (in decompressed bytes from the file's start).
    line_start: u64,
}

impl<R: Read> RecordSplitter<R> {
    /// With the buffer the thread's last file left (allocated and zeroed once per thread, not
    /// per file).
    pub(crate) fn new(source: R) -> Self {
        let mut splitter = Self::with_buffer(source, 0);
        splitter.buffer = SPARE_BUFFER.take();
        if splitter.buffer.len() < INITIAL_BUFFER {
            splitter.buffer = vec![0; INITIAL_BUFFER];
        }
        splitter
    }

    /// With a buffer of `capacity` bytes to start with (tests use small ones).
    pub(crate) fn with_buffer(source: R, capacity: usize) -> Self {
        RecordSplitter {
            source,
            buffer: vec![0; capacity.max(1)],
            start: 0,
            end: 0,
            exhausted: false,
            offset: 0,
            read: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// Reads the file's top-level object to its end and calls `record` with the text of each
    /// element of its first `Records` array, in order; other keys' values are checked and
    /// skipped. Whether there was a `Records` array.
    pub(crate) fn read_records(
        &mut self,
        record: &mut dyn FnMut(&str) -> ElementResult,
    ) -> Result<bool, ReadFault> {
        match self.peek()? {
            None => return Err(self.eof_fault("EOF while parsing a value")),
            Some(b'{') => self.advance(self.start + 1),
            Some(_) => return Err(self.shape_fault(Shape::LogFile)),
        }
        let mut found = false;
        let mut first = true;
        loop {
            match self.peek()? {
                None => return Err(self.eof_fault("EOF while parsing an object")),
                Some(b'}') if first => {
                    self.advance(self.start + 1);
                    break;
                }
                Some(b'"') => {}
                Some(_) => return Err(self.byte_fault("key must be a string")),
            }
            first = false;
            let key_end = self.value_end()?;
            let key: Cow<str> = serde_json::from_slice(&self.buffer[self.start..key_end])
                .map_err(|error| self.json_fault(self.start, &error))?;
            let is_records = !found && key == "Records";
            self.advance(key_end);
            match self.peek()? {
                None => return Err(self.eof_fault("EOF while parsing an object")),
                Some(b':') => self.advance(self.start + 1),
                Some(_) => return Err(self.byte_fault("expected `:`")),
            }
            match self.peek()? {
                None => return Err(self.eof_fault("EOF while parsing a value")),
                Some(b'[') if is_records => {
                    self.read_array(record)?;
                    found = true;
                }
                Some(_) if is_records => return Err(self.shape_fault(Shape::Records)),
                Some(b'[') => self.read_array(&mut check_json)?,
                Some(_) => self.read_element(&mut check_json)?,
            }
            match self.peek()? {
                None => return Err(self.eof_fault("EOF while parsing an object")),
                Some(b',') => {
                    self.advance(self.start + 1);
                    if self.peek()? == Some(b'}') {
                        return Err(self.byte_fault("trailing comma"));
                    }
                }
                Some(b'}') => {
                    self.advance(self.start + 1);
                    break;
                }
                Some(_) => return Err(self.byte_fault("expected `,` or `}`")),
            }
        }
        match self.peek()? {
            None => Ok(found),
            Some(_) => Err(self.byte_fault("trailing characters")),
        }
    }

    /// `buffer[start]` is `[`: calls `element` with each element's text and reads past `]`.
    fn read_array(
        &mut self,
        element: &mut dyn FnMut(&str) -> ElementResult,
    ) -> Result<(), ReadFault> {
        self.advance(self.start + 1);
        match self.peek()? {
            None => return Err(self.eof_fault("EOF while parsing a list")),
            Some(b']') => {
                self.advance(self.start + 1);
                return Ok(());
            }
            Some(_) => {}
        }
        loop {
            self.read_element(element)?;
            match self.peek()? {
                None => return Err(self.eof_fault("EOF while parsing a list")),
                Some(b',') => {
                    self.advance(self.start + 1);
                    match self.peek()? {
                        None => return Err(self.eof_fault("EOF while parsing a value")),
                        Some(b']') => return Err(self.byte_fault("trailing comma")),
                        Some(_) => {}
                    }
                }
                Some(b']') => {
                    self.advance(self.start + 1);
                    return Ok(());
                }
                Some(_) => return Err(self.byte_fault("expected `,` or `]`")),
            }
        }
    }

    /// `buffer[start]` is the first byte of a value: hands its text to `element` and reads
    /// past it.
    fn read_element(
        &mut self,
        element: &mut dyn FnMut(&str) -> ElementResult,
    ) -> Result<(), ReadFault> {
        if !starts_value(self.buffer[self.start]) {
            return Err(self.byte_fault("expected value"));
        }
        let end = self.value_end()?;
        let text = std::str::from_utf8(&self.buffer[self.start..end]).map_err(|error| {
            self.fault_at(
                self.start + error.valid_up_to() + 1,
                "invalid unicode code point",
            )
        })?;
        element(text).map_err(|error| self.json_fault(self.start, &error))?;
        self.advance(end);
        Ok(())
    }

    /// The end (exclusive) of the value starting at `buffer[start]`, refilling the buffer as
    /// needed; the end of the file if the value does not end before it.
    fn value_end(&mut self) -> Result<usize, ReadFault> {
        let mut scan = Scan::new(self.buffer[self.start]);
        loop {
            if let Some(end) = scan.resume(&self.buffer[self.start..self.end]) {
                return Ok(self.start + end);
            }
            if !self.fill()? {
                return Ok(self.end);
            }
        }
    }

    /// The next byte that is not JSON whitespace (read past the whitespace), or `None` at the
    /// end of the file.
    fn peek(&mut self) -> Result<Option<u8>, ReadFault> {
        loop {
            let unread = &self.buffer[self.start..self.end];
            if let Some(at) = unread
                .iter()
                .position(|b| !matches!(b, b' ' | b'\n' | b'\t' | b'\r'))
            {
                self.advance(self.start + at);
                return Ok(Some(self.buffer[self.start]));
            }
            self.advance(self.end);
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Marks `buffer[start..to]` read, keeping count of its lines.
    fn advance(&mut self, to: usize) {
        let passed = &self.buffer[self.start..to];
        if let Some(last) = memchr::memrchr(b'\n', passed) {
            self.line += memchr::memchr_iter(b'\n', passed).count() as u64;
            self.line_start = self.offset + (self.start + last + 1) as u64;
        }
        self.start = to;
    }

    /// Moves the unread bytes to the buffer's front (growing it if they fill it) and reads
    /// more; `false` at the end of the source.
    fn fill(&mut self) -> Result<bool, ReadFault> {
        if self.exhausted {
            return Ok(false);
        }
        if self.start > 0 {
            self.buffer.copy_within(self.start..self.end, 0);
            self.offset += self.start as u64;
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buffer.len() {
            self.buffer.resize(self.buffer.len() * 2, 0);
        }
        loop {
            match self.source.read(&mut self.buffer[self.end..]) {
                Ok(0) => {
                    self.exhausted = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    self.read += n as u64;
                    return Ok(true);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    return Err(ReadFault::Source {
                        error,
                        bytes: self.read,
                    });
                }
            }
        }
    }

    /// The line and column of the position serde_json would give for `index`: the index just
    /// past the offending byte, or the end.
    fn position(&self, index: usize) -> (u64, u64) {
        let index = index.min(self.end);
        let before = &self.buffer[self.start.min(index)..index];
        match memchr::memrchr(b'\n', before) {
            None => (self.line, self.offset + index as u64 - self.line_start),
            Some(last) => (
                self.line + memchr::memchr_iter(b'\n', before).count() as u64,
                (before.len() - last - 1) as u64,
            ),
        }
    }

    fn fault_at(&self, index: usize, message: &str) -> ReadFault {
        let (line, column) = self.position(index);
        ReadFault::Json {
            message: message.to_string(),
            line,
            column,
        }
    }

    /// A fault at the byte `buffer[start]`.
    fn byte_fault(&self, message: &str) -> ReadFault {
        self.fault_at(self.start + 1, message)
    }

    fn eof_fault(&self, message: &str) -> ReadFault {
        self.fault_at(self.end, message)
    }

    /// serde_json's `error` about the text starting at `buffer[from]`, placed in the file.
    fn json_fault(&self, from: usize, error: &serde_json::Error) -> ReadFault {
        let text = error.to_string();
        let suffix = format!(" at line {} column {}", error.line(), error.column());
        let message = text.strip_suffix(&suffix).unwrap_or(&text).to_string();
        let (line, column) = match error.line() {
            0 => self.position(from),
            1 => self.position(from + error.column()),
            n => (self.position(from).0 + n as u64 - 1, error.column() as u64),
        };
        ReadFault::Json {
            message,
            line,
            column,
        }
    }

    /// The fault of a value at `buffer[start]` that is not the `shape` it must be, as
    /// serde_json words it (`invalid type: …, expected …`).
    fn shape_fault(&mut self, shape: Shape) -> ReadFault {
        let first = self.buffer[self.start];
        // An object or array is refused on its first byte; a string or scalar is read first.
        let end = if matches!(first, b'{' | b'[') || !starts_value(first) {
            self.start + 1
        } else {
            match self.value_end() {
                Ok(end) => end,
                Err(fault) => return fault,
            }
        };
        let mut deserializer = serde_json::Deserializer::from_slice(&self.buffer[self.start..end]);
        let checked = match shape {
            Shape::LogFile => (&mut deserializer).deserialize_map(shape),
            Shape::Records => (&mut deserializer).deserialize_seq(shape),
        };
        match checked {
            Err(error) => self.json_fault(self.start, &error),
            Ok(()) => self.byte_fault(&format!("expected {}", Expecting(shape))),
        }
    }
}

impl<R> Drop for RecordSplitter<R> {
    fn drop(&mut self) {
        if (INITIAL_BUFFER..=KEPT_BUFFER).contains(&self.buffer.len()) {
            SPARE_BUFFER.set(std::mem::take(&mut self.buffer));
        }
    }
}

/// A shape's `expecting` text.
struct Expecting(Shape);

impl fmt::Display for Expecting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }
}

/// Checks that a skipped value is JSON (as serde_json's `IgnoredAny` would).
fn check_json(text: &str) -> ElementResult {
    serde_json::from_slice::<IgnoredAny>(text.as_bytes()).map(drop)
}

/// Whether a JSON value can start with `byte` (anything else is serde_json's "expected value").
fn starts_value(byte: u8) -> bool {
    matches!(
        byte,
        b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n'
    )
}

/// Where one value ends, found over a buffer that may need refilling: the scan resumes where
/// it stopped (offsets relative to the value's first byte).
#[derive(Debug)]
struct Scan {
    kind: ValueKind,
    /// Bytes of the value already scanned.
    scanned: usize,
    /// Open braces and brackets (an object or array value).
    depth: usize,
    in_string: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    /// An object or an array: ends at the brace or bracket that closes the first one.
    Nested,
    /// A string: ends after its closing quote.
    Text,
    /// A number, `true`, `false` or `null` (or garbage): ends before a delimiter.
    Scalar,
}

impl Scan {
    fn new(first: u8) -> Scan {
        let kind = match first {
            b'{' | b'[' => ValueKind::Nested,
            b'"' => ValueKind::Text,
            _ => ValueKind::Scalar,
        };
        Scan {
            kind,
            scanned: 1,
            depth: usize::from(kind == ValueKind::Nested),
            in_string: kind == ValueKind::Text,
        }
    }

    /// The value's end within `bytes` (which start with the value), or `None` if it goes on
    /// past them.
    fn resume(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut at = self.scanned;
        if self.kind == ValueKind::Scalar {
            let end = bytes[at.min(bytes.len())..]
                .iter()
                .position(|b| matches!(b, b',' | b']' | b'}' | b' ' | b'\n' | b'\t' | b'\r'));
            return match end {
                Some(n) => Some(at + n),
                None => {
                    self.scanned = bytes.len();
                    None
                }
            };
        }
        while at < bytes.len() {
            if self.in_string {
                match memchr::memchr2(b'"', b'\\', &bytes[at..]) {
                    None => at = bytes.len(),
                    Some(n) if bytes[at + n] == b'\\' => {
                        if at + n + 1 >= bytes.len() {
                            // The escaped byte is not read yet: resume at the backslash.
                            self.scanned = at + n;
                            return None;
                        }
                        at += n + 2;
                    }
                    Some(n) => {
                        at += n + 1;
                        self.in_string = false;
                        if self.kind == ValueKind::Text {
                            return Some(at);
                        }
                    }
                }
            } else {
                match bytes[at] {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth -= 1;
                        if self.depth == 0 {
                            return Some(at + 1);
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
        }
        self.scanned = at;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The records' texts and whether `Records` was found, read with a buffer of `capacity`.
    fn split(text: &[u8], capacity: usize) -> Result<(Vec<String>, bool), ReadFault> {
        let mut records = Vec::new();
        let mut splitter = RecordSplitter::with_buffer(text, capacity);
        let found = splitter.read_records(&mut |record| {
            records.push(record.to_string());
            check_json(record)
        })?;
        Ok((records, found))
    }

    fn records(text: &str) -> Vec<String> {
        let (records, found) = split(text.as_bytes(), INITIAL_BUFFER).expect("readable");
        assert!(found, "{text}");
        records
    }

    /// The fault as `(message, line, column)`.
    fn fault(text: &[u8], capacity: usize) -> (String, u64, u64) {
        match split(text, capacity) {
            Err(ReadFault::Json {
                message,
                line,
                column,
            }) => (message, line, column),
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(text)),
        }
    }

    /// serde_json's own error for the text, as `(message, line, column)`.
    fn serde_fault(text: &[u8]) -> (String, u64, u64) {
        let error = serde_json::from_slice::<serde_json::Value>(text).expect_err("malformed");
        let suffix = format!(" at line {} column {}", error.line(), error.column());
        let message = error.to_string();
        (
            message
                .strip_suffix(&suffix)
                .unwrap_or(&message)
                .to_string(),
            error.line() as u64,
            error.column() as u64,
        )
    }

    #[test]
    fn strings_may_hold_braces_brackets_and_escaped_quotes() {
        let text = r#"{"Records":[{"a":"}]{[,\"","b":"\\"},{"c":"\\\"]"},"x]}"]}"#;
        assert_eq!(
            records(text),
            [
                r#"{"a":"}]{[,\"","b":"\\"}"#,
                r#"{"c":"\\\"]"}"#,
                r#""x]}""#
            ]
        );
    }

    #[test]
    fn every_buffer_size_splits_the_same() {
        // Records span refills at every byte (an escape's backslash last in the buffer, a
        // quote, a brace) and are bigger than the smallest buffers, which grow.
        let text = "{\"Other\" : {\"k\":[1,{\"x\":\"]\"}]},\r\n \"Records\"\t:\n[\n  {\"a\":\"q\\\"}\\\\\",\"n\":[1, 2, {\"d\":{}}]} ,\n\t{\"b\":null,\"s\":\"\\u007b\"}, 12, \"tail\", true\n],\"More\":[{\"y\":[]}], \"z\": -1.5e3 }\n";
        let expected = [
            "{\"a\":\"q\\\"}\\\\\",\"n\":[1, 2, {\"d\":{}}]}",
            "{\"b\":null,\"s\":\"\\u007b\"}",
            "12",
            "\"tail\"",
            "true",
        ];
        for capacity in 1..=text.len() + 1 {
            let (got, found) = split(text.as_bytes(), capacity).expect("readable");
            assert!(found);
            assert_eq!(got, expected, "buffer of {capacity}");
        }
    }

    #[test]
    fn a_record_bigger_than_the_buffer_grows_it() {
        let big = format!("{{\"blob\":\"{}\"}}", "x".repeat(10_000));
        let text = format!("{{\"Records\":[{big},{{}}]}}");
        let mut splitter = RecordSplitter::with_buffer(text.as_bytes(), 64);
        let mut lengths = Vec::new();
        let found = splitter
            .read_records(&mut |record| {
                lengths.push(record.len());
                Ok(())
            })
            .expect("readable");
        assert!(found);
        assert_eq!(lengths, [big.len(), 2]);
        assert!(
            splitter.buffer.len() >= big.len(),
            "{}",
            splitter.buffer.len()
        );
        assert!(
            splitter.buffer.len() < 4 * big.len(),
            "{}",
            splitter.buffer.len()
        );
    }

    #[test]
    fn records_need_not_be_the_first_key_and_may_be_empty() {
        assert_eq!(
            records(r#"{"a":{"Records":[1]},"Records":[{"r":1}],"b":[[]]}"#),
            [r#"{"r":1}"#]
        );
        assert!(records(r#"{"Records":[]}"#).is_empty());
        assert!(records(" {\n\"Records\" : [ \n ] } \n").is_empty());
        // A second `Records` is checked and skipped, as serde's visitor did.
        assert_eq!(
            records(r#"{"Records":[{"r":1}],"Records":[{"r":2}]}"#),
            [r#"{"r":1}"#]
        );
        let (got, found) = split(br#"{"NotRecords":[{"r":1}]}"#, 16).expect("readable");
        assert!(!found && got.is_empty());
        let (_, found) = split(b"{}", 16).expect("readable");
        assert!(!found);
    }

    #[test]
    fn syntax_faults_are_placed_as_serde_json_places_them() {
        let malformed: [&[u8]; 16] = [
            b"",
            b"  \n ",
            b"{\"Records\": [\n{\"eventID\": \"a\"},\n{\"eventID\": }]}",
            b"{\"Records\":[{\"a\":1}] x",
            b"{\"Records\":[]}\n\n  trailing",
            b"{\"Records\":[{\"a\":1} {\"b\":2}]}",
            b"{\"Records\":[{\"a\":1},]}",
            b"{\"Records\":[],}",
            b"{\"Records\" []}",
            b"{Records:[]}",
            b"{\"Records\":[{\"a\":\"x\\qy\"}]}",
            b"{\"Records\":[{\"a\":1},\n  {\"b\":\n\"unterminated",
            b"{\"Records\":[{\"a\":1}",
            b"{\"Records\":[",
            b"{\"x\":[1,2,}],\"Records\":[]}",
            b"{\"Records\":[{\"a\":1}]",
        ];
        for text in malformed {
            for capacity in [1, 7, INITIAL_BUFFER] {
                assert_eq!(
                    fault(text, capacity),
                    serde_fault(text),
                    "{:?} with a buffer of {capacity}",
                    String::from_utf8_lossy(text)
                );
            }
        }
    }

    #[test]
    fn a_raw_control_character_in_a_string_is_placed_on_its_own_byte() {
        // serde_json's ignoring path (used for records) places it there; its parsing path
        // would name the start of the next line instead.
        assert_eq!(
            fault(b"{\"Records\":[{\"a\":\"x\ny\"}]}", 5),
            (
                "control character (\\u0000-\\u001F) found while parsing a string".to_string(),
                1,
                19
            )
        );
    }

    #[test]
    fn values_of_the_wrong_shape_say_what_was_expected() {
        assert_eq!(
            fault(b"[1]", 16),
            (
                "invalid type: sequence, expected a CloudTrail log file object {\"Records\": [...]}"
                    .to_string(),
                1,
                0
            )
        );
        assert_eq!(
            fault(b"{\n\"Records\": {\"a\": 1}}", 16),
            (
                "invalid type: map, expected an array of CloudTrail records".to_string(),
                2,
                11
            )
        );
        let (message, line, _) = fault(b"{\"Records\": \"text\"}", 16);
        assert_eq!(
            (message.as_str(), line),
            (
                "invalid type: string \"text\", expected an array of CloudTrail records",
                1
            )
        );
    }

    #[test]
    fn invalid_utf8_is_placed_at_its_byte() {
        let text = b"{\"Records\":[\n{\"a\":\"\xff\"}]}";
        assert_eq!(
            fault(text, 4),
            ("invalid unicode code point".to_string(), 2, 7)
        );
    }

    /// Gives `good` bytes, then fails.
    struct FailsAfter<'a> {
        good: &'a [u8],
    }

    impl Read for FailsAfter<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.good.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "corrupt deflate stream",
                ));
            }
            let n = self.good.read(buf)?;
            Ok(n)
        }
    }

    #[test]
    fn a_failing_source_says_how_far_it_got() {
        let text = br#"{"Records":[{"a":1},{"b":"#;
        let mut records = 0;
        let mut splitter = RecordSplitter::with_buffer(FailsAfter { good: text }, 8);
        let fault = splitter
            .read_records(&mut |_| {
                records += 1;
                Ok(())
            })
            .expect_err("fails");
        match fault {
            ReadFault::Source { error, bytes } => {
                assert_eq!(bytes, text.len() as u64);
                assert_eq!(error.to_string(), "corrupt deflate stream");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(records, 1);
    }
}
