//! Loading and validating a snapshot file. Validation collects every problem it can find
//! (syntax, schema version, types, and consistency such as events outside the period) and
//! reports each with file, line, column and field path, before anything is evaluated.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::json_position::{
    PathSegment, display_path, find_duplicate_key, line_column, locate, may_have_duplicate_key,
};
use super::model::*;
pub use crate::hash::{lower_hex, sha256_hex};

/// A snapshot together with the exact bytes it was read from (hashed and archived as is).
#[derive(Debug, Clone)]
pub struct LoadedEvidence {
    pub snapshot: EvidenceSnapshot,
    pub bytes: Vec<u8>,
    /// Lowercase hex SHA-256 of `bytes`.
    pub sha256: String,
}

/// One thing wrong with a snapshot document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("cannot read evidence file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Refused on its size as the file system reports it: nothing was read.
    #[error(
        "evidence file {} is {size} bytes, more than the limit of {limit} bytes (--max-evidence-bytes); nothing was read",
        path.display()
    )]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    /// A file that reports a smaller size (a pipe, a file still growing) held more than
    /// the limit: reading stopped there.
    #[error(
        "evidence file {} holds more than the limit of {limit} bytes (--max-evidence-bytes); reading stopped at the limit",
        path.display()
    )]
    OverLimit { path: PathBuf, limit: u64 },
    /// A device or a socket: never an evidence file, and `/dev/zero` never ends.
    #[error("evidence file {} is a {kind}, not a file", path.display())]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error("{}", render_problems(file, problems))]
    Invalid {
        file: String,
        problems: Vec<Problem>,
    },
}

fn render_problems(file: &str, problems: &[Problem]) -> String {
    let mut out = format!(
        "evidence file {file} is not a valid snapshot ({} problem{}):",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for problem in problems {
        out.push_str(&format!(
            "\n  {problem_in_file}",
            problem_in_file = InFile(file, problem)
        ));
    }
    out
}

struct InFile<'a>(&'a str, &'a Problem);

impl fmt::Display for InFile<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (file, p) = (self.0, self.1);
        write!(
            f,
            "{file}:{}:{}: {}: {}",
            p.line, p.column, p.path, p.message
        )
    }
}

/// The default for the largest evidence file read. A month of a busy account is about 200 MB
/// per 100k change events, so 4 GiB is some two million events: far above real use, yet a
/// bound that keeps `/dev/zero`, a runaway pipe or a forged multi-gigabyte file from taking
/// all the memory of the machine that evaluates it.
pub const DEFAULT_MAX_EVIDENCE_BYTES: u64 = 4 << 30;

/// Loads the snapshot in `path`, refusing a file larger than `max_bytes` (see
/// [`read_bounded`]).
pub fn load_file(path: &Path, max_bytes: u64) -> Result<LoadedEvidence, EvidenceError> {
    let bytes = read_bounded(path, max_bytes)?;
    load_bytes(&path.display().to_string(), bytes)
}

/// Reads an evidence file of at most `max_bytes`: a regular file whose size is over the limit
/// is refused before anything is read; a device or socket is refused; a pipe or a file that
/// grows is read up to the limit and one byte more, never further.
pub fn read_bounded(path: &Path, max_bytes: u64) -> Result<Vec<u8>, EvidenceError> {
    let read_error = |source| EvidenceError::Read {
        path: path.to_path_buf(),
        source,
    };
    let refuse_by_metadata = |meta: &fs::Metadata| {
        if let Some(kind) = not_a_file_kind(meta) {
            return Err(EvidenceError::NotAFile {
                path: path.to_path_buf(),
                kind,
            });
        }
        if meta.is_file() && meta.len() > max_bytes {
            return Err(EvidenceError::TooLarge {
                path: path.to_path_buf(),
                size: meta.len(),
                limit: max_bytes,
            });
        }
        Ok(())
    };
    // Stat before opening: opening a device can have effects of its own.
    refuse_by_metadata(&fs::metadata(path).map_err(read_error)?)?;
    let file = fs::File::open(path).map_err(read_error)?;
    // And again on what was opened, in case the path changed in between.
    let meta = file.metadata().map_err(read_error)?;
    refuse_by_metadata(&meta)?;
    let capacity = if meta.is_file() { meta.len() } else { 0 };
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > max_bytes {
        return Err(EvidenceError::OverLimit {
            path: path.to_path_buf(),
            limit: max_bytes,
        });
    }
    Ok(bytes)
}

/// What a file that is not a regular file, a pipe or a directory is, for the refusal.
fn not_a_file_kind(meta: &fs::Metadata) -> Option<&'static str> {
    let file_type = meta.file_type();
    if file_type.is_dir() {
        return Some("directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_char_device() {
            return Some("character device");
        }
        if file_type.is_block_device() {
            return Some("block device");
        }
        if file_type.is_socket() {
            return Some("socket");
        }
    }
    None
}

/// Parses and validates `bytes`; `file` names the source in messages.
pub fn load_bytes(file: &str, bytes: Vec<u8>) -> Result<LoadedEvidence, EvidenceError> {
    let invalid = |problems| EvidenceError::Invalid {
        file: file.to_string(),
        problems,
    };
    // The bytes are hashed and archived as they are, so a byte order mark is not skipped
    // silently: the file would read as a snapshot its hash does not describe byte for byte.
    if bytes.starts_with(UTF8_BYTE_ORDER_MARK) {
        return Err(invalid(vec![Problem {
            path: "(document)".into(),
            line: 1,
            column: 1,
            message: "the file starts with a UTF-8 byte order mark (EF BB BF): remove the byte order mark and load it again".into(),
        }]));
    }
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text,
        Err(err) => {
            let (line, column) = line_column(&String::from_utf8_lossy(&bytes), err.valid_up_to());
            return Err(invalid(vec![Problem {
                path: "(document)".into(),
                line,
                column,
                message: "the file is not UTF-8 text".into(),
            }]));
        }
    };
    // The hash (a third of the parse's time) and the duplicate-key scan are computed beside
    // the parse, on a second core.
    let (snapshot, side) = std::thread::scope(|scope| {
        let side = scope.spawn(|| (sha256_hex(&bytes), duplicate_key_problem(text)));
        let snapshot = parse_and_validate(text);
        (snapshot, side.join())
    });
    let (sha256, duplicate) =
        side.unwrap_or_else(|_| (sha256_hex(&bytes), duplicate_key_problem(text)));
    let snapshot = match (snapshot, duplicate) {
        (Ok(snapshot), None) => snapshot,
        (Ok(_), Some(duplicate)) => return Err(invalid(vec![duplicate])),
        (Err(problems), None) => return Err(invalid(problems)),
        // A duplicate field also fails the typed parse, where it reads as a schema mismatch:
        // the duplicate is the problem to name.
        (Err(problems), Some(duplicate)) => {
            let rest = problems
                .into_iter()
                .filter(|problem| problem.message != SCHEMA_MISMATCH);
            return Err(invalid(std::iter::once(duplicate).chain(rest).collect()));
        }
    };
    Ok(LoadedEvidence {
        snapshot,
        bytes,
        sha256,
    })
}

/// Said when serde finds a type problem that checking the parts one by one does not locate.
const SCHEMA_MISMATCH: &str = "the document does not match the evidence snapshot schema";

const UTF8_BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// serde_json keeps the last of two equal keys in a map and drops the first without a word:
/// a forged snapshot could show a reader one value and the evaluation another. Any duplicate
/// key is refused, with its position.
pub(crate) fn duplicate_key_problem(text: &str) -> Option<Problem> {
    if !may_have_duplicate_key(text) {
        return None;
    }
    let duplicate = find_duplicate_key(text).ok().flatten()?;
    Some(Problem {
        path: display_path(&duplicate.path),
        line: duplicate.line,
        column: duplicate.column,
        message: format!(
            "the key `{}` appears twice in the same object: JSON would keep only one of its values",
            duplicate.key
        ),
    })
}

fn parse_and_validate(text: &str) -> Result<EvidenceSnapshot, Vec<Problem>> {
    // Fast path: straight into the typed model, no intermediate `Value` (a month of a busy
    // account is hundreds of MB). Only a broken document takes the slower path that finds
    // every problem.
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let typed = serde_path_to_error::deserialize::<_, EvidenceSnapshot>(&mut deserializer)
        .map_err(serde_path_to_error::Error::into_inner)
        .and_then(|snapshot| deserializer.end().map(|()| snapshot));
    let mut problems = Problems::new(text);
    let snapshot = match typed {
        Ok(snapshot) if snapshot.schema_version == SCHEMA_VERSION => snapshot,
        Err(inner) if inner.is_syntax() || inner.is_eof() => {
            return Err(vec![syntax_problem(&inner)]);
        }
        _ => {
            let document: Value =
                serde_json::from_str(text).map_err(|err| vec![syntax_problem(&err)])?;
            check_schema_version(&document, &mut problems);
            if problems.list.is_empty() {
                collect_type_problems(&document, &mut problems);
            }
            return Err(problems.list);
        }
    };
    check_consistency(&snapshot, &mut problems);
    if problems.list.is_empty() {
        Ok(snapshot)
    } else {
        Err(problems.list)
    }
}

/// A JSON syntax error, at the position serde_json reports.
fn syntax_problem(err: &serde_json::Error) -> Problem {
    Problem {
        path: "(document)".into(),
        line: err.line(),
        column: err.column(),
        message: format!("not valid JSON: {}", strip_position(&err.to_string())),
    }
}

fn strip_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

/// The problems found in one JSON document, each placed at its line and column (shared by
/// the evidence loader and the signer registry).
pub(crate) struct Problems<'a> {
    pub(crate) text: &'a str,
    pub(crate) list: Vec<Problem>,
}

impl<'a> Problems<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            list: Vec::new(),
        }
    }

    /// The line where `path` is in the document.
    pub(crate) fn line_of(&self, path: &[PathSegment]) -> usize {
        locate(self.text, path).0
    }

    pub(crate) fn add(&mut self, path: &[PathSegment], message: impl Into<String>) {
        let (line, column) = locate(self.text, path);
        self.list.push(Problem {
            path: display_path(path),
            line,
            column,
            message: message.into(),
        });
    }
}

fn key(name: &str) -> PathSegment {
    PathSegment::Key(name.to_string())
}

fn join(base: &[PathSegment], more: &[PathSegment]) -> Vec<PathSegment> {
    base.iter().chain(more).cloned().collect()
}

fn check_schema_version(document: &Value, problems: &mut Problems) {
    let path = [key("schema_version")];
    match document.get("schema_version") {
        None if !document.is_object() => {
            problems.add(&[], "the document must be a JSON object (an evidence snapshot)")
        }
        None => problems.add(
            &[],
            format!("missing field `schema_version` (this tool reads schema_version {SCHEMA_VERSION})"),
        ),
        Some(Value::Number(n)) if n.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
        Some(other) => problems.add(
            &path,
            format!(
                "unsupported schema_version {other}: this tool (gxp-evidence {}) reads schema_version {SCHEMA_VERSION}",
                crate::TOOL_VERSION
            ),
        ),
    }
}

/// Deserializes `value` as `T` and records the first type problem inside it, if any.
fn check_part<T: DeserializeOwned>(value: &Value, base: &[PathSegment], problems: &mut Problems) {
    if let Err(err) = serde_path_to_error::deserialize::<_, T>(value) {
        let mut path = base.to_vec();
        for segment in err.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => {
                    path.push(PathSegment::Index(*index))
                }
                serde_path_to_error::Segment::Map { key } => {
                    path.push(PathSegment::Key(key.clone()))
                }
                serde_path_to_error::Segment::Enum { variant } => {
                    path.push(PathSegment::Key(variant.clone()))
                }
                serde_path_to_error::Segment::Unknown => {}
            }
        }
        problems.add(&path, err.into_inner().to_string());
    }
}

/// Replaces the array at `field` with an empty one so the rest of `value` can be checked alone.
fn without(value: &Value, fields: &[&str]) -> Value {
    let mut copy = value.clone();
    if let Some(object) = copy.as_object_mut() {
        for field in fields {
            if object.get(*field).is_some_and(Value::is_array) {
                object.insert((*field).to_string(), Value::Array(Vec::new()));
            }
        }
    }
    copy
}

fn elements<'v>(value: &'v Value, field: &str) -> impl Iterator<Item = (usize, &'v Value)> {
    value
        .get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// Serde stops at the first error; checking each collection element on its own finds every
/// broken element in one run, so a user fixes a file in one pass.
fn collect_type_problems(document: &Value, problems: &mut Problems) {
    check_part::<EvidenceSnapshot>(&without(document, &["accounts", "gaps"]), &[], problems);
    for (i, gap) in elements(document, "gaps") {
        check_part::<EvidenceGap>(gap, &[key("gaps"), PathSegment::Index(i)], problems);
    }
    for (a, account) in elements(document, "accounts") {
        let account_path = [key("accounts"), PathSegment::Index(a)];
        check_part::<AccountEvidence>(&without(account, &["regions"]), &account_path, problems);
        for (r, region) in elements(account, "regions") {
            let region_path = join(&account_path, &[key("regions"), PathSegment::Index(r)]);
            check_region_parts(region, &region_path, problems);
        }
    }
    if problems.list.is_empty() {
        problems.add(&[], SCHEMA_MISMATCH);
    }
}

/// Checks one collection element against its model type.
type PartCheck = fn(&Value, &[PathSegment], &mut Problems);

fn check_region_parts(region: &Value, region_path: &[PathSegment], problems: &mut Problems) {
    let mut shell = region.clone();
    if let Some(object) = shell.as_object_mut() {
        for (service, list) in [
            ("apigateway", "rest_apis"),
            ("kms", "keys"),
            ("cloudtrail", "trails"),
            ("cloudtrail", "events"),
        ] {
            if let Some(part) = object.get_mut(service) {
                *part = without(part, &[list]);
            }
        }
    }
    check_part::<RegionEvidence>(&shell, region_path, problems);
    let parts: [(&str, &str, PartCheck); 4] = [
        ("apigateway", "rest_apis", check_part::<RestApiEvidence>),
        ("kms", "keys", check_part::<KmsKeyEvidence>),
        ("cloudtrail", "trails", check_part::<TrailEvidence>),
        ("cloudtrail", "events", check_part::<LookupEvent>),
    ];
    for (service, list, check) in parts {
        let Some(service_value) = region.get(service) else {
            continue;
        };
        for (i, element) in elements(service_value, list) {
            let path = join(
                region_path,
                &[key(service), key(list), PathSegment::Index(i)],
            );
            check(element, &path, problems);
        }
    }
}

fn check_consistency(snapshot: &EvidenceSnapshot, problems: &mut Problems) {
    let period = snapshot.period;
    if period.start >= period.end {
        problems.add(
            &[key("period")],
            format!(
                "period start {} is not before its end {}",
                period.start, period.end
            ),
        );
    }
    if snapshot.system_name.trim().is_empty() {
        problems.add(&[key("system_name")], "system_name must not be empty");
    }
    // An empty scope would evaluate to nothing and read as "no resources": refused.
    for (list, what) in [
        (&snapshot.scope.accounts, "accounts"),
        (&snapshot.scope.regions, "regions"),
    ] {
        if list.is_empty() {
            problems.add(
                &[key("scope"), key(what)],
                format!(
                    "the scope lists no {what}: a snapshot must name the accounts and regions its evidence covers"
                ),
            );
        }
    }
    for (i, account) in snapshot.scope.accounts.iter().enumerate() {
        if !is_account_id(account) {
            problems.add(
                &[key("scope"), key("accounts"), PathSegment::Index(i)],
                format!("`{account}` is not a 12-digit AWS account id"),
            );
        }
    }
    for (i, region) in snapshot.scope.regions.iter().enumerate() {
        if !is_region_name(region) {
            problems.add(
                &[key("scope"), key("regions"), PathSegment::Index(i)],
                format!("`{region}` is not an AWS region name"),
            );
        }
    }
    for (i, bucket) in snapshot.policy.gxp_buckets.iter().enumerate() {
        if !is_bucket_name(bucket) {
            problems.add(
                &[key("policy"), key("gxp_buckets"), PathSegment::Index(i)],
                format!("`{bucket}` is not an S3 bucket name"),
            );
        }
    }
    if snapshot.policy.min_log_retention_days == Some(0) {
        problems.add(
            &[key("policy"), key("min_log_retention_days")],
            "min_log_retention_days must be at least 1",
        );
    }
    let mut seen_accounts = BTreeSet::new();
    for (a, account) in snapshot.accounts.iter().enumerate() {
        let account_path = [key("accounts"), PathSegment::Index(a)];
        if !snapshot.scope.accounts.contains(&account.account_id) {
            problems.add(
                &join(&account_path, &[key("account_id")]),
                format!(
                    "account {} is not listed in scope.accounts",
                    account.account_id
                ),
            );
        }
        if !seen_accounts.insert(account.account_id.as_str()) {
            problems.add(
                &join(&account_path, &[key("account_id")]),
                format!("account {} appears more than once", account.account_id),
            );
        }
        let mut seen_regions = BTreeSet::new();
        for (r, region) in account.regions.iter().enumerate() {
            let region_path = join(&account_path, &[key("regions"), PathSegment::Index(r)]);
            if !snapshot.scope.regions.contains(&region.region) {
                problems.add(
                    &join(&region_path, &[key("region")]),
                    format!("region {} is not listed in scope.regions", region.region),
                );
            }
            if !seen_regions.insert(region.region.as_str()) {
                problems.add(
                    &join(&region_path, &[key("region")]),
                    format!(
                        "region {} appears more than once in account {}",
                        region.region, account.account_id
                    ),
                );
            }
            if let Some(cloudtrail) = &region.cloudtrail {
                check_events(cloudtrail, &period, &region_path, problems);
            }
        }
    }
    for (i, gap) in snapshot.gaps.iter().enumerate() {
        if !snapshot.scope.accounts.contains(&gap.account_id) {
            problems.add(
                &[key("gaps"), PathSegment::Index(i), key("account_id")],
                format!(
                    "gap for account {} which is not in scope.accounts",
                    gap.account_id
                ),
            );
        }
    }
}

fn check_events(
    cloudtrail: &CloudTrailEvidence,
    period: &Period,
    region_path: &[PathSegment],
    problems: &mut Problems,
) {
    let mut seen_ids = BTreeSet::new();
    let until = cloudtrail.events_until;
    if let Some(until) = until.filter(|until| *until < period.end) {
        problems.add(
            &join(region_path, &[key("cloudtrail"), key("events_until")]),
            format!(
                "the events were read up to {until}, before the period end {}",
                period.end
            ),
        );
    }
    let lists = [
        ("events", &cloudtrail.events, true),
        (
            "events_after_period",
            &cloudtrail.events_after_period,
            false,
        ),
    ];
    for (list, events, in_period) in lists {
        let record_problems = record_problems(events);
        for ((e, event), record_problem) in events.iter().enumerate().zip(record_problems) {
            let event_path = join(
                region_path,
                &[key("cloudtrail"), key(list), PathSegment::Index(e)],
            );
            let misplaced = if in_period {
                (!period.contains(event.event_time))
                    .then(|| format!("is outside the period {}..{}", period.start, period.end))
            } else if event.event_time < period.end {
                Some(format!("is before the period end {}", period.end))
            } else {
                until
                    .filter(|until| event.event_time > *until)
                    .map(|until| format!("is after the end of the events read ({until})"))
            };
            if let Some(misplaced) = misplaced {
                problems.add(
                    &join(&event_path, &[key("EventTime")]),
                    format!(
                        "event {} at {} {misplaced}",
                        event.event_id, event.event_time
                    ),
                );
            }
            check_event(event, &event_path, record_problem, &mut seen_ids, problems);
        }
    }
}

fn check_event<'e>(
    event: &'e LookupEvent,
    event_path: &[PathSegment],
    record_problem: Option<String>,
    seen_ids: &mut BTreeSet<&'e str>,
    problems: &mut Problems,
) {
    if !seen_ids.insert(event.event_id.as_str()) {
        problems.add(
            &join(event_path, &[key("EventId")]),
            format!("event {} appears more than once", event.event_id),
        );
    }
    if let Some(problem) = record_problem {
        problems.add(&join(event_path, &[key("CloudTrailEvent")]), problem);
    }
}

/// What is wrong with an event's CloudTrail record, if anything. Validated without building a
/// tree; the record is parsed again by the evaluation, so a duplicate key in it could hide a
/// value too.
fn record_problem(event: &LookupEvent) -> Option<String> {
    let record = event.cloud_trail_event.trim_start();
    match find_duplicate_key(record) {
        Ok(Some(duplicate)) => Some(format!(
            "CloudTrailEvent has the key `{}` twice in the same object ({}, line {} column {} of the record): JSON would keep only one of its values",
            duplicate.key,
            if duplicate.path.is_empty() {
                "at its top level".to_string()
            } else {
                format!("in {}", display_path(&duplicate.path))
            },
            duplicate.line,
            duplicate.column
        )),
        Ok(None) if record.starts_with('{') => None,
        Ok(None) => {
            Some("CloudTrailEvent must hold a JSON object (the CloudTrail record)".to_string())
        }
        Err(err) => Some(format!("CloudTrailEvent is not valid JSON: {err}")),
    }
}

/// `record_problem` of every event, on every core: reading a month's records (about 2 KB
/// each, 100,000 in a busy account) is the longest step of validation.
fn record_problems(events: &[LookupEvent]) -> Vec<Option<String>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = events.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let chunks: Vec<_> = events
            .chunks(per_thread)
            .map(|chunk| scope.spawn(|| chunk.iter().map(record_problem).collect::<Vec<_>>()))
            .collect();
        chunks
            .into_iter()
            .flat_map(|chunk| {
                chunk
                    .join()
                    .unwrap_or_else(|_| vec![Some("CloudTrailEvent could not be checked".into())])
            })
            .collect()
    })
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// `eu-central-1`, `us-gov-west-1`, `ap-southeast-5`, `cn-north-1`.
pub fn is_region_name(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

/// An S3 bucket name as the S3 naming rules allow it ("Bucket naming rules", Amazon S3 User
/// Guide): 3–63 characters of lowercase letters, digits, dots and hyphens, beginning and
/// ending with a letter or digit, no two adjacent dots, not an IPv4 address.
pub fn is_bucket_name(text: &str) -> bool {
    let bytes = text.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && !text.contains("..")
        && text.parse::<std::net::Ipv4Addr>().is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_the_s3_naming_rules() {
        for good in ["abc", "lims-audit-logs.eu", "a1-2.b3", &"a".repeat(63)] {
            assert!(is_bucket_name(good), "{good}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "Upper",
            "under_score",
            "-start",
            "end-",
            "two..dots",
            "192.168.5.4",
            "s3://bucket",
        ] {
            assert!(!is_bucket_name(bad), "{bad}");
        }
    }

    const MINIMAL: &str = r#"{
  "schema_version": 1,
  "tool": {"name": "gxp-evidence", "version": "0.1.0"},
  "system_name": "LIMS",
  "collected_at": "2026-11-01T06:00:00Z",
  "period": {"start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"},
  "scope": {"accounts": ["111111111111"], "regions": ["eu-central-1"]},
  "accounts": [],
  "future_field": {"kept": true}
}"#;

    fn problems_of(text: &str) -> Vec<Problem> {
        match load_bytes("t.json", text.as_bytes().to_vec()) {
            Err(EvidenceError::Invalid { problems, .. }) => problems,
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn minimal_snapshot_loads_and_keeps_unknown_fields() {
        let loaded = load_bytes("t.json", MINIMAL.as_bytes().to_vec()).unwrap();
        let again = serde_json::to_value(&loaded.snapshot).unwrap();
        assert_eq!(again["future_field"]["kept"], Value::Bool(true));
        assert_eq!(loaded.sha256.len(), 64);
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        let problems = problems_of("{\n  \"schema_version\": 1,\n  \"tool\": }");
        assert_eq!(problems.len(), 1);
        assert_eq!((problems[0].line, problems[0].column), (3, 11));
        assert!(problems[0].message.starts_with("not valid JSON"));
    }

    #[test]
    fn wrong_schema_version_is_one_clear_problem() {
        let problems =
            problems_of(&MINIMAL.replace("\"schema_version\": 1", "\"schema_version\": 2"));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "schema_version");
        assert_eq!(problems[0].line, 2);
        assert!(problems[0].message.contains("unsupported schema_version 2"));
    }

    #[test]
    fn every_type_problem_is_reported_with_its_path() {
        let text = MINIMAL
            .replace("\"system_name\": \"LIMS\"", "\"system_name\": 7")
            .replace(
                "\"accounts\": []",
                r#""accounts": [{"account_id": "111111111111", "regions": [{"region": "eu-central-1",
                    "kms": {"keys": [{"metadata": {"KeyId": 5}}, {"metadata": {"KeyId": "k", "Enabled": "yes"}}]}}]}]"#,
            );
        let problems = problems_of(&text);
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "system_name",
                "accounts[0].regions[0].kms.keys[0].metadata.KeyId",
                "accounts[0].regions[0].kms.keys[1].metadata.Enabled"
            ]
        );
        assert_eq!(problems[0].line, 4);
    }

    #[test]
    fn consistency_problems_are_all_collected() {
        let text = MINIMAL
            .replace("\"2026-11-01T00:00:00Z\"}", "\"2026-09-01T00:00:00Z\"}")
            .replace("[\"111111111111\"]", "[\"1111\"]");
        let problems = problems_of(&text);
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["period", "scope.accounts[0]"]);
    }

    /// Issue 13: a scope without an account or a region is refused at load, with the file
    /// position of the empty list.
    #[test]
    fn a_scope_without_accounts_or_regions_is_refused() {
        let problems = problems_of(&MINIMAL.replace("[\"111111111111\"]", "[]"));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path, "scope.accounts");
        assert!(problems[0].line > 1 && problems[0].message.contains("no accounts"));
        let problems = problems_of(&MINIMAL.replace("[\"eu-central-1\"]", "[]"));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path, "scope.regions");
    }

    /// Issue 18: the policy's GxP buckets and log retention decide results, so a snapshot
    /// naming something that is not a bucket, or a retention of 0 days, is refused at load.
    #[test]
    fn policy_buckets_and_retention_are_checked_at_load() {
        let text = MINIMAL.replace(
            "\"accounts\": [],",
            r#""policy": {"max_rotation_days": 365, "min_log_retention_days": 0,
                "gxp_buckets": ["lims-records", "arn:aws:s3:::lims-raw"]},
  "accounts": [],"#,
        );
        let problems = problems_of(&text);
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            ["policy.gxp_buckets[1]", "policy.min_log_retention_days"]
        );
        assert!(
            problems[0]
                .message
                .contains("`arn:aws:s3:::lims-raw` is not an S3 bucket name")
        );
        assert_eq!(problems[0].line, 9);

        let policy = Policy::default().with_gxp_buckets([
            "b-records".to_string(),
            "a-raw".into(),
            "b-records".into(),
        ]);
        assert_eq!(policy.gxp_buckets, ["a-raw", "b-records"]);
    }

    #[test]
    fn region_names() {
        assert!(is_region_name("eu-central-1"));
        assert!(is_region_name("us-gov-west-1"));
        assert!(!is_region_name("europe"));
        assert!(!is_region_name("eu-central-x"));
    }
}

#[cfg(test)]
mod round_trip_tests {
    use super::*;

    #[test]
    fn the_demo_snapshot_survives_a_load_save_round_trip_unchanged() {
        let loaded =
            load_bytes("demo", crate::evidence::DEMO_EVIDENCE.as_bytes().to_vec()).unwrap();
        let written: Value =
            serde_json::from_slice(&crate::evidence::to_pretty_json(&loaded.snapshot)).unwrap();
        let original: Value = serde_json::from_str(crate::evidence::DEMO_EVIDENCE).unwrap();
        let mut differences = Vec::new();
        diff("", &original, &written, &mut differences);
        assert!(differences.is_empty(), "{differences:#?}");
    }

    fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for key in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                    match (x.get(key), y.get(key)) {
                        (Some(p), Some(q)) => diff(&format!("{path}.{key}"), p, q, out),
                        (p, q) => out.push(format!("{path}.{key}: {p:?} vs {q:?}")),
                    }
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    diff(&format!("{path}[{i}]"), p, q, out);
                }
            }
            _ if a != b => out.push(format!("{path}: {a} vs {b}")),
            _ => {}
        }
    }
}
