//! Change records (Annex 11 §10): QA's list of approved changes, read from a CSV or JSON file
//! (`report --change-records`), validated strictly, and reconciled with the change register.
//! A change that took effect is matched by a record naming its CloudTrail event id, or its
//! account and resource within a time window; a weakening change matched by a record approved
//! before it is `CONTROLLED` rather than `FAIL`. Records that match no change are listed as
//! planned but not seen. Everything here is a pure function of the file's bytes and the
//! register, so `verify` re-evaluates a package with its stored records to the same result.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::ChangeRow;
use crate::evidence::{Timestamp, sha256_hex};

/// The columns of a change records CSV file (and the fields of a JSON record), in the order
/// the documentation lists them.
pub const COLUMNS: [&str; 9] = [
    "id",
    "title",
    "approved_by",
    "approved_at",
    "event_id",
    "account_id",
    "resource",
    "from",
    "to",
];
const REQUIRED_COLUMNS: [&str; 4] = ["id", "title", "approved_by", "approved_at"];
/// Longest id, title or name accepted: a record is a reference into a change-control system,
/// not a document.
const MAX_FIELD_CHARS: usize = 500;

/// How a records file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordsFormat {
    Csv,
    Json,
}

impl RecordsFormat {
    /// By the file name's extension (`.csv`, `.json`, any case), else by the content: JSON
    /// starts with `[` or `{` (after white space and a byte order mark), CSV with a header.
    pub fn detect(name: &str, bytes: &[u8]) -> Self {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".json") {
            return RecordsFormat::Json;
        }
        if lower.ends_with(".csv") {
            return RecordsFormat::Csv;
        }
        let text = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
        match text.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'[' | b'{') => RecordsFormat::Json,
            _ => RecordsFormat::Csv,
        }
    }

    pub const ALL: [RecordsFormat; 2] = [RecordsFormat::Csv, RecordsFormat::Json];

    /// Where a package keeps the file as given: under `inputs/`, so it can never be taken for
    /// one of the report's own CSV files.
    pub fn package_path(self) -> &'static str {
        match self {
            RecordsFormat::Csv => "inputs/change-records.csv",
            RecordsFormat::Json => "inputs/change-records.json",
        }
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// When a record was approved. A date without a time is read conservatively: the approval
/// may have come at any moment of that day (UTC), so only a change on a later day is known
/// to follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    At(Timestamp),
    Day(NaiveDate),
}

impl Approval {
    /// Whether the approval is known to precede (or coincide with) a change at `time`.
    pub fn precedes(&self, time: Timestamp) -> bool {
        match self {
            Approval::At(at) => *at <= time,
            Approval::Day(day) => time.0.date_naive() > *day,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Approval::At(at) => at.display_utc(),
            Approval::Day(day) => format!("{day} (date only: counts from the end of that day)"),
        }
    }
}

/// Which changes a record is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordScope {
    /// The one CloudTrail event with this id.
    Event(String),
    /// Every change to `resource` in `account_id` from `from` to `to` (both inclusive).
    Window {
        account_id: String,
        resource: String,
        from: Timestamp,
        to: Timestamp,
    },
}

impl RecordScope {
    pub fn describe(&self) -> String {
        match self {
            RecordScope::Event(id) => format!("event {id}"),
            RecordScope::Window {
                account_id,
                resource,
                from,
                to,
            } => format!(
                "{resource} in {account_id}, {} – {}",
                from.display_utc(),
                to.display_utc()
            ),
        }
    }

    /// Whether `change` is one this record is about. Resources compare as the change register
    /// names them, or as an ARN ending in `/<name>` on either side (a key id or trail name in
    /// the register, its ARN in the record, or the other way round).
    fn covers(&self, change: &ChangeRow) -> bool {
        match self {
            RecordScope::Event(id) => change.event_id == *id,
            RecordScope::Window {
                account_id,
                resource,
                from,
                to,
            } => {
                change.account_id == *account_id
                    && *from <= change.event_time
                    && change.event_time <= *to
                    && same_resource(resource, change)
            }
        }
    }
}

/// Whether a record's `resource` names the change's: the register's own text exactly; an ARN
/// of the change's account and region whose resource is the one the register names (`key/ID`,
/// `trail/NAME`, `/restapis/ID/stages/NAME`); or the name inside the register's ARN. Nothing
/// looser: a record that names another account's or region's resource, or any text that
/// merely ends like it, must not make a weakening change CONTROLLED.
fn same_resource(record: &str, change: &ChangeRow) -> bool {
    let register = change.resource.as_str();
    if record.is_empty() || register.is_empty() {
        return false;
    }
    if record == register {
        return true;
    }
    match (Arn::parse(record), Arn::parse(register)) {
        // API Gateway ARNs carry no account: the record's account_id (already compared) names it.
        (Some(arn), None) => {
            (arn.account == change.account_id
                || (arn.service == "apigateway" && arn.account.is_empty()))
                && arn.region == change.region
                && change.event_source.strip_suffix(".amazonaws.com") == Some(arn.service)
                && arn.names(register)
        }
        (None, Some(arn)) => arn.name() == Some(record),
        _ => false,
    }
}

/// The parts of an ARN a record is matched by.
struct Arn<'a> {
    service: &'a str,
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

impl<'a> Arn<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        let mut parts = text.splitn(6, ':');
        let (
            Some("arn"),
            Some(_partition),
            Some(service),
            Some(region),
            Some(account),
            Some(resource),
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return None;
        };
        Some(Arn {
            service,
            region,
            account,
            resource,
        })
    }

    /// The key id or trail name the ARN is about.
    fn name(&self) -> Option<&'a str> {
        match self.service {
            "kms" => self.resource.strip_prefix("key/"),
            "cloudtrail" => self.resource.strip_prefix("trail/"),
            _ => None,
        }
    }

    /// Whether the ARN is the resource the register names `register` (a key id, a trail name,
    /// or `restapi ID stage NAME`).
    fn names(&self, register: &str) -> bool {
        match self.service {
            "kms" | "cloudtrail" => self.name() == Some(register),
            "apigateway" => {
                let Some((api, stage)) = register
                    .strip_prefix("restapi ")
                    .and_then(|rest| rest.split_once(" stage "))
                else {
                    return false;
                };
                self.resource == format!("/restapis/{api}/stages/{stage}")
            }
            _ => false,
        }
    }
}

/// One approved change record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    pub id: String,
    pub title: String,
    pub approved_by: String,
    pub approval: Approval,
    pub scope: RecordScope,
}

/// The change record a register row is matched to (the best of those that match it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordLink {
    pub record_id: String,
    /// The record was approved before the change (so it controls it).
    pub approved_before: bool,
}

/// The records of one file, in file order, with the file's bytes as given.
#[derive(Debug, Clone, Default)]
pub struct ChangeRecords {
    pub records: Vec<ChangeRecord>,
    /// Indices into `records` by event id.
    by_event: HashMap<String, Vec<usize>>,
}

/// A change records file as read: its format, its exact bytes (kept in the package) and what
/// they hold.
#[derive(Debug, Clone)]
pub struct ChangeRecordsFile {
    pub format: RecordsFormat,
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub records: ChangeRecords,
}

/// The demo's change records (`gxp-evidence demo`), shipped inside the binary.
pub const DEMO_CHANGE_RECORDS: &str = include_str!("../../../../samples/demo-change-records.csv");

/// Why a change records file was refused: every problem found, each with its position.
#[derive(Debug, thiserror::Error)]
#[error("{}", render_problems(file, problems))]
pub struct ChangeRecordsError {
    pub file: String,
    pub problems: Vec<String>,
}

/// Why a change records file could not be used: it could not be read (the evidence loader's
/// bounded read, under the same `--max-evidence-bytes`), or it is not valid.
#[derive(Debug, thiserror::Error)]
pub enum LoadChangeRecordsError {
    #[error("change records: {0}")]
    Read(#[from] crate::evidence::EvidenceError),
    #[error(transparent)]
    Invalid(#[from] ChangeRecordsError),
}

fn render_problems(file: &str, problems: &[String]) -> String {
    let mut out = format!(
        "change records file {file} is not valid ({} problem{}):",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for problem in problems {
        out.push_str(&format!("\n  {file}:{problem}"));
    }
    out
}

/// A record as written, before validation: every field text, absent or empty meaning unset.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecord {
    id: Option<String>,
    title: Option<String>,
    approved_by: Option<String>,
    approved_at: Option<String>,
    event_id: Option<String>,
    account_id: Option<String>,
    resource: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl ChangeRecordsFile {
    /// Reads and validates the file at `path`, refusing one larger than `max_bytes`.
    pub fn load(path: &std::path::Path, max_bytes: u64) -> Result<Self, LoadChangeRecordsError> {
        let bytes = crate::evidence::load::read_bounded(path, max_bytes)?;
        Ok(Self::parse(&path.display().to_string(), bytes)?)
    }

    /// Reads `bytes` of the file `name` (named in messages) in the format its name or content
    /// says.
    pub fn parse(name: &str, bytes: Vec<u8>) -> Result<Self, ChangeRecordsError> {
        let format = RecordsFormat::detect(name, &bytes);
        Self::parse_as(name, format, bytes)
    }

    pub fn parse_as(
        name: &str,
        format: RecordsFormat,
        bytes: Vec<u8>,
    ) -> Result<Self, ChangeRecordsError> {
        let fail = |problems: Vec<String>| ChangeRecordsError {
            file: name.to_string(),
            problems,
        };
        let raw = match format {
            RecordsFormat::Csv => read_csv(&bytes),
            RecordsFormat::Json => read_json(&bytes),
        }
        .map_err(fail)?;
        let records = ChangeRecords::validate(raw).map_err(fail)?;
        Ok(Self {
            format,
            sha256: sha256_hex(&bytes),
            bytes,
            records,
        })
    }
}

/// CSV: a header naming the columns (any order; the four required, no unknown or repeated
/// one), then one record per line. Positions are `line N`.
fn read_csv(bytes: &[u8]) -> Result<Vec<(String, RawRecord)>, Vec<String>> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|err| vec![csv_problem(&err)])?
        .clone();
    let mut problems = Vec::new();
    let mut columns: Vec<&str> = Vec::new();
    for (i, header) in headers.iter().enumerate() {
        let name = header.trim();
        if !COLUMNS.contains(&name) {
            problems.push(format!(
                "1: column {} `{name}` is not a change record column (expected {})",
                i + 1,
                COLUMNS.join(", ")
            ));
        } else if columns.contains(&name) {
            problems.push(format!("1: column `{name}` appears twice"));
        }
        columns.push(name);
    }
    for required in REQUIRED_COLUMNS {
        if !columns.contains(&required) {
            problems.push(format!("1: the header has no `{required}` column"));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut raw = Vec::new();
    for row in reader.records() {
        let row = match row {
            Ok(row) => row,
            Err(err) => {
                problems.push(csv_problem(&err));
                // A malformed row (unbalanced quotes) leaves the reader's position unreliable.
                if !matches!(err.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                    break;
                }
                continue;
            }
        };
        let line = row.position().map_or(0, |p| p.line());
        let mut record = RawRecord::default();
        for (name, value) in columns.iter().zip(row.iter()) {
            let value = Some(value.to_string());
            match *name {
                "id" => record.id = value,
                "title" => record.title = value,
                "approved_by" => record.approved_by = value,
                "approved_at" => record.approved_at = value,
                "event_id" => record.event_id = value,
                "account_id" => record.account_id = value,
                "resource" => record.resource = value,
                "from" => record.from = value,
                _ => record.to = value,
            }
        }
        raw.push((format!("{line}"), record));
    }
    if problems.is_empty() {
        Ok(raw)
    } else {
        Err(problems)
    }
}

fn csv_problem(err: &csv::Error) -> String {
    let line = err.position().map_or(0, |p| p.line());
    match err.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{line}: {len} fields, the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => format!("{line}: not UTF-8 text"),
        _ => format!("{line}: {err}"),
    }
}

/// JSON: an array of objects with the CSV's column names as fields (strings). Positions are
/// JSON paths (`[2].approved_at`) with the line.
fn read_json(bytes: &[u8]) -> Result<Vec<(String, RawRecord)>, Vec<String>> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let records: Vec<RawRecord> =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
            let inner = err.inner();
            let (line, column) = (inner.line(), inner.column());
            let message = inner.to_string();
            // The position leads the line already.
            let message = message
                .strip_suffix(&format!(" at line {line} column {column}"))
                .unwrap_or(&message);
            vec![format!(
                "{line}:{column}: {}: {message}",
                json_path(&err.path().to_string())
            )]
        })?;
    deserializer.end().map_err(|err| {
        vec![format!(
            "{}:{}: text after the JSON array",
            err.line(),
            err.column()
        )]
    })?;
    Ok(records
        .into_iter()
        .enumerate()
        .map(|(i, record)| (format!("[{i}]"), record))
        .collect())
}

fn json_path(path: &str) -> String {
    if path == "." {
        "the document".to_string()
    } else {
        path.to_string()
    }
}

impl ChangeRecords {
    /// The records of `raw` (each with its position), or every problem found.
    fn validate(raw: Vec<(String, RawRecord)>) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let mut records = Vec::new();
        let mut first_position: BTreeMap<String, String> = BTreeMap::new();
        for (position, raw) in raw {
            match validate_record(&raw) {
                Ok(record) => {
                    // Ids differing only in case name one record to the people reading them.
                    let key = record.id.to_lowercase();
                    if let Some(earlier) = first_position.get(&key) {
                        problems.push(format!(
                            "{position}: id: change record {} is listed twice (first at {earlier})",
                            record.id
                        ));
                    } else {
                        first_position.insert(key, position);
                        records.push(record);
                    }
                }
                Err(found) => {
                    problems.extend(found.into_iter().map(|p| format!("{position}: {p}")));
                }
            }
        }
        if problems.is_empty() {
            Ok(Self::new(records))
        } else {
            Err(problems)
        }
    }

    pub fn new(records: Vec<ChangeRecord>) -> Self {
        let mut by_event: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, record) in records.iter().enumerate() {
            if let RecordScope::Event(id) = &record.scope {
                by_event.entry(id.clone()).or_default().push(i);
            }
        }
        Self { records, by_event }
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn find(&self, id: &str) -> Option<&ChangeRecord> {
        self.records.iter().find(|r| r.id == id)
    }

    /// The record that best accounts for `change`, if any matches it: one approved before the
    /// change wins over one approved after it, an event-id match over a time window, then the
    /// first in the file. A failed call changed nothing and is never matched.
    pub fn link(&self, change: &ChangeRow) -> Option<RecordLink> {
        if !change.took_effect() {
            return None;
        }
        let by_event = self.by_event.get(&change.event_id).into_iter().flatten();
        let by_window = self
            .records
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                matches!(r.scope, RecordScope::Window { .. }) && r.scope.covers(change)
            })
            .map(|(i, _)| i);
        let best = by_event
            .copied()
            .chain(by_window)
            .enumerate()
            .min_by_key(|(order, i)| {
                (
                    !self.records[*i].approval.precedes(change.event_time),
                    *order,
                )
            })
            .map(|(_, i)| &self.records[i])?;
        Some(RecordLink {
            record_id: best.id.clone(),
            approved_before: best.approval.precedes(change.event_time),
        })
    }

    /// What became of each record, in file order, given the register of the period.
    pub fn reconcile(&self, changes: &[ChangeRow]) -> Vec<RecordOutcome> {
        let mut by_event: HashMap<&str, Vec<&ChangeRow>> = HashMap::new();
        if !self.by_event.is_empty() {
            for change in changes {
                by_event.entry(&change.event_id).or_default().push(change);
            }
        }
        self.records
            .iter()
            .map(|record| {
                let candidates: Box<dyn Iterator<Item = &ChangeRow>> = match &record.scope {
                    RecordScope::Event(id) => Box::new(
                        by_event.get(id.as_str()).into_iter().flatten().copied(),
                    ),
                    RecordScope::Window { .. } => Box::new(changes.iter()),
                };
                let matched: Vec<&ChangeRow> = candidates
                    .filter(|c| c.took_effect() && record.scope.covers(c))
                    .collect();
                let before_approval: Vec<String> = matched
                    .iter()
                    .filter(|c| !record.approval.precedes(c.event_time))
                    .map(|c| c.event_id.clone())
                    .collect();
                let failed_call = match &record.scope {
                    RecordScope::Event(id) if matched.is_empty() => by_event
                        .get(id.as_str())
                        .into_iter()
                        .flatten()
                        .find(|c| !c.took_effect())
                        .map(|c| c.error_code.clone()),
                    _ => None,
                };
                let (outcome, note) = if matched.is_empty() {
                    let note = match failed_call {
                        Some(code) => format!(
                            "planned but not seen: its event is a failed call ({code}) that changed nothing"
                        ),
                        None => "planned but not seen: no change of the period matches it".to_string(),
                    };
                    (RecordState::NotSeen, note)
                } else if before_approval.is_empty() {
                    (
                        RecordState::Matched,
                        format!("approved before its {} change(s)", matched.len()),
                    )
                } else {
                    (
                        RecordState::ApprovedAfterChange,
                        format!(
                            "approved after {} of its {} change(s): {}",
                            before_approval.len(),
                            matched.len(),
                            before_approval.join(", ")
                        ),
                    )
                };
                let (event_id, account_id, resource, from, to) = match &record.scope {
                    RecordScope::Event(id) => {
                        (id.clone(), String::new(), String::new(), None, None)
                    }
                    RecordScope::Window {
                        account_id,
                        resource,
                        from,
                        to,
                    } => (
                        String::new(),
                        account_id.clone(),
                        resource.clone(),
                        Some(*from),
                        Some(*to),
                    ),
                };
                RecordOutcome {
                    record_id: record.id.clone(),
                    title: record.title.clone(),
                    approved_by: record.approved_by.clone(),
                    approved_at: match record.approval {
                        Approval::At(at) => Some(at),
                        Approval::Day(_) => None,
                    },
                    approved_on: match record.approval {
                        Approval::At(_) => None,
                        Approval::Day(day) => Some(day.to_string()),
                    },
                    scope: record.scope.describe(),
                    event_id,
                    account_id,
                    resource,
                    from,
                    to,
                    outcome,
                    matched_event_ids: matched.iter().map(|c| c.event_id.clone()).collect(),
                    note,
                }
            })
            .collect()
    }
}

/// Where a record stands after reconciliation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecordState {
    /// Matches changes, every one after its approval.
    Matched,
    /// Matches at least one change made before it was approved.
    ApprovedAfterChange,
    /// Planned but not seen: no change that took effect matches it.
    NotSeen,
}

impl RecordState {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordState::Matched => "MATCHED",
            RecordState::ApprovedAfterChange => "APPROVED_AFTER_CHANGE",
            RecordState::NotSeen => "NOT_SEEN",
        }
    }
}

/// One record as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordOutcome {
    pub record_id: String,
    pub title: String,
    pub approved_by: String,
    /// The approval time, when the record gave one.
    pub approved_at: Option<Timestamp>,
    /// The day (`YYYY-MM-DD`) of a date-only approval.
    pub approved_on: Option<String>,
    /// The event id, or resource, account and window, as people read it.
    pub scope: String,
    /// The match as given: an event id, or account, resource and window (empty otherwise).
    pub event_id: String,
    pub account_id: String,
    pub resource: String,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub outcome: RecordState,
    pub matched_event_ids: Vec<String>,
    pub note: String,
}

/// The field's text, trimmed; `None` when absent or empty.
fn field(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn validate_record(raw: &RawRecord) -> Result<ChangeRecord, Vec<String>> {
    let mut problems = Vec::new();
    let mut text = |name: &str, value: &Option<String>| -> Option<String> {
        let value = field(value)?;
        if value.chars().count() > MAX_FIELD_CHARS {
            problems.push(format!("{name}: longer than {MAX_FIELD_CHARS} characters"));
        } else if value.chars().any(char::is_control) {
            problems.push(format!("{name}: holds a control character"));
        } else if crate::report::format::visible(value) != value {
            // An approver or id that reads differently from what it is (zero-width or
            // direction-changing characters) cannot stand for a person's approval.
            problems.push(format!(
                "{name}: holds invisible or direction-changing characters: {}",
                crate::report::format::visible(value)
            ));
        }
        Some(value.to_string())
    };
    let id = text("id", &raw.id);
    let title = text("title", &raw.title);
    let approved_by = text("approved_by", &raw.approved_by);
    let approved_at = text("approved_at", &raw.approved_at);
    let event_id = text("event_id", &raw.event_id);
    let account_id = text("account_id", &raw.account_id);
    let resource = text("resource", &raw.resource);
    let from = text("from", &raw.from);
    let to = text("to", &raw.to);
    for (name, value) in [
        ("id", &id),
        ("title", &title),
        ("approved_by", &approved_by),
        ("approved_at", &approved_at),
    ] {
        if value.is_none() {
            problems.push(format!("{name}: missing (every record needs one)"));
        }
    }
    let approval = approved_at.as_deref().and_then(|text| {
        parse_approval(text)
            .map_err(|why| problems.push(format!("approved_at: `{text}` {why}")))
            .ok()
    });
    let mut time = |name: &str, value: &Option<String>| -> Option<Timestamp> {
        let text = value.as_deref()?;
        parse_time(text)
            .map_err(|why| problems.push(format!("{name}: `{text}` {why}")))
            .ok()
    };
    let from_time = time("from", &from);
    let to_time = time("to", &to);
    let window = [&account_id, &resource, &from, &to];
    let window_given = window.iter().filter(|v| v.is_some()).count();
    let scope = match (event_id, window_given) {
        (Some(_), 1..) => {
            problems.push(
                "give either event_id or account_id, resource, from and to, not both".to_string(),
            );
            None
        }
        (Some(event), 0) => Some(RecordScope::Event(event)),
        (None, 4) => match (account_id, resource, from_time, to_time) {
            (Some(account_id), Some(resource), Some(from), Some(to)) => {
                if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
                    problems.push(format!(
                        "account_id: `{account_id}` is not a 12-digit AWS account id"
                    ));
                }
                if from > to {
                    problems.push("from: the window starts after it ends".to_string());
                }
                Some(RecordScope::Window {
                    account_id,
                    resource,
                    from,
                    to,
                })
            }
            _ => None,
        },
        (None, 0) => {
            problems
                .push("no match: give event_id, or account_id, resource, from and to".to_string());
            None
        }
        (None, _) => {
            let missing: Vec<&str> = ["account_id", "resource", "from", "to"]
                .into_iter()
                .zip(window)
                .filter(|(_, v)| v.is_none())
                .map(|(name, _)| name)
                .collect();
            problems.push(format!(
                "a time-window match needs account_id, resource, from and to; {} missing",
                missing.join(", ")
            ));
            None
        }
    };
    match (id, title, approved_by, approval, scope) {
        (Some(id), Some(title), Some(approved_by), Some(approval), Some(scope))
            if problems.is_empty() =>
        {
            Ok(ChangeRecord {
                id,
                title,
                approved_by,
                approval,
                scope,
            })
        }
        _ => Err(problems),
    }
}

/// RFC 3339 with an explicit offset (`2026-10-12T09:30:00Z`, `…+02:00`).
fn parse_time(text: &str) -> Result<Timestamp, &'static str> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| Timestamp(t.with_timezone(&Utc)))
        .map_err(|_| "is not an RFC 3339 time with an offset (e.g. 2026-10-12T09:30:00Z)")
}

/// RFC 3339, or a date `YYYY-MM-DD` (read conservatively, see [`Approval`]).
fn parse_approval(text: &str) -> Result<Approval, &'static str> {
    if let Ok(at) = parse_time(text) {
        return Ok(Approval::At(at));
    }
    let is_date_shape = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(day) if is_date_shape => Ok(Approval::Day(day)),
        _ => Err("is neither an RFC 3339 time with an offset nor a date YYYY-MM-DD"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::ChangeClass;

    fn change(event_id: &str, at: &str, resource: &str) -> ChangeRow {
        ChangeRow {
            event_time: Timestamp::parse(at).unwrap(),
            account_id: "111122223333".into(),
            region: "eu-central-1".into(),
            event_source: "kms.amazonaws.com".into(),
            event_name: "DisableKeyRotation".into(),
            event_id: event_id.into(),
            actor: "arn:aws:iam::111122223333:user/jo".into(),
            actor_type: "IAMUser".into(),
            invoked_by: String::new(),
            session_issuer: String::new(),
            source_ip: String::new(),
            user_agent: String::new(),
            resource: resource.into(),
            request_summary: String::new(),
            error_code: String::new(),
            error_message: String::new(),
            classification: ChangeClass::Weakening,
            classification_reason: "rotation disabled".into(),
            change_record: None,
        }
    }

    fn csv(text: &str) -> Result<ChangeRecordsFile, ChangeRecordsError> {
        ChangeRecordsFile::parse("records.csv", text.as_bytes().to_vec())
    }

    const HEADER: &str = "id,title,approved_by,approved_at,event_id,account_id,resource,from,to\n";

    #[test]
    fn an_event_id_record_approved_before_the_change_controls_it() {
        let file = csv(&format!(
            "{HEADER}CR-1,Disable rotation,Jo QA,2026-10-05T09:00:00Z,e1,,,,\n"
        ))
        .unwrap();
        let link = file
            .records
            .link(&change("e1", "2026-10-05T10:00:00Z", "k1"))
            .unwrap();
        assert_eq!(link.record_id, "CR-1");
        assert!(link.approved_before);
        assert!(
            file.records
                .link(&change("e2", "2026-10-05T10:00:00Z", "k1"))
                .is_none()
        );
    }

    #[test]
    fn a_record_approved_after_the_change_does_not_control_it() {
        let file = csv(&format!(
            "{HEADER}CR-1,Disable rotation,Jo QA,2026-10-05T10:00:01Z,e1,,,,\n"
        ))
        .unwrap();
        let row = change("e1", "2026-10-05T10:00:00Z", "k1");
        let link = file.records.link(&row).unwrap();
        assert!(!link.approved_before);
        let outcome = &file.records.reconcile(&[row])[0];
        assert_eq!(outcome.outcome, RecordState::ApprovedAfterChange);
        assert!(outcome.note.contains("e1"), "{}", outcome.note);
    }

    #[test]
    fn a_date_only_approval_counts_from_the_end_of_its_day() {
        let file = csv(&format!("{HEADER}CR-1,t,Jo,2026-10-05,e1,,,,\n")).unwrap();
        let same_day = change("e1", "2026-10-05T23:59:59Z", "k1");
        let next_day = change("e1", "2026-10-06T00:00:00Z", "k1");
        assert!(!file.records.link(&same_day).unwrap().approved_before);
        assert!(file.records.link(&next_day).unwrap().approved_before);
    }

    #[test]
    fn a_window_record_matches_account_resource_and_time_and_arn_suffixes() {
        let file = csv(&format!(
            "{HEADER}CR-2,w,Jo,2026-10-01T00:00:00Z,,111122223333,arn:aws:kms:eu-central-1:111122223333:key/k1,2026-10-05T09:00:00Z,2026-10-05T11:00:00Z\n"
        ))
        .unwrap();
        let records = &file.records;
        assert!(
            records
                .link(&change("e1", "2026-10-05T09:00:00Z", "k1"))
                .is_some()
        );
        assert!(
            records
                .link(&change("e1", "2026-10-05T11:00:00Z", "k1"))
                .is_some()
        );
        assert!(
            records
                .link(&change("e1", "2026-10-05T11:00:01Z", "k1"))
                .is_none()
        );
        assert!(
            records
                .link(&change("e1", "2026-10-05T10:00:00Z", "k2"))
                .is_none()
        );
        let mut other_account = change("e1", "2026-10-05T10:00:00Z", "k1");
        other_account.account_id = "999999999999".into();
        assert!(records.link(&other_account).is_none());
        let mut failed = change("e1", "2026-10-05T10:00:00Z", "k1");
        failed.error_code = "AccessDenied".into();
        assert!(
            records.link(&failed).is_none(),
            "a failed call changed nothing"
        );
    }

    #[test]
    fn resources_match_by_name_or_by_the_arn_of_the_same_account_and_region_only() {
        let at = |resource: &str, region: &str| ChangeRow {
            account_id: "111122223333".into(),
            region: region.into(),
            event_source: match resource.split_once(' ') {
                Some(("restapi", _)) => "apigateway.amazonaws.com".into(),
                _ if resource.contains(":trail/") => "cloudtrail.amazonaws.com".into(),
                _ => "kms.amazonaws.com".into(),
            },
            ..change("e1", "2026-10-05T10:00:00Z", resource)
        };
        let key = at("0a9b8c7d", "eu-central-1");
        assert!(same_resource("0a9b8c7d", &key));
        assert!(same_resource(
            "arn:aws:kms:eu-central-1:111122223333:key/0a9b8c7d",
            &key
        ));
        for other in [
            "arn:aws:kms:us-east-1:111122223333:key/0a9b8c7d",
            "arn:aws:kms:eu-central-1:999999999999:key/0a9b8c7d",
            "arn:aws:cloudtrail:eu-central-1:111122223333:trail/0a9b8c7d",
            "arn:aws:kms:eu-central-1:111122223333:key/x0a9b8c7d",
            "anything/0a9b8c7d",
            "",
        ] {
            assert!(!same_resource(other, &key), "{other} is not the key");
        }
        let trail = at(
            "arn:aws:cloudtrail:eu-west-1:111122223333:trail/lims-app-debug",
            "eu-west-1",
        );
        assert!(same_resource("lims-app-debug", &trail));
        assert!(!same_resource("anything/lims-app-debug", &trail));
        assert!(!same_resource(
            "arn:aws:cloudtrail:us-east-1:999999999999:trail/lims-app-debug",
            &trail
        ));
        let stage = at("restapi q9w4e7r2ty stage perf-test", "eu-west-1");
        assert!(same_resource("restapi q9w4e7r2ty stage perf-test", &stage));
        assert!(same_resource(
            "arn:aws:apigateway:eu-west-1::/restapis/q9w4e7r2ty/stages/perf-test",
            &stage
        ));
        assert!(!same_resource(
            "arn:aws:apigateway:us-east-1::/restapis/q9w4e7r2ty/stages/perf-test",
            &stage
        ));
        assert!(!same_resource("perf-test", &stage), "a stage needs its API");
        assert!(!same_resource(
            "not-an-arn/restapi q9w4e7r2ty stage perf-test",
            &stage
        ));
    }

    #[test]
    fn an_excel_csv_with_a_byte_order_mark_and_a_json_object_are_told_apart() {
        let excel = format!("\u{feff}{HEADER}CR-1,t,Jo,2026-10-01,e1,,,,\n");
        let file = ChangeRecordsFile::parse("from-excel", excel.into_bytes()).unwrap();
        assert_eq!(file.format, RecordsFormat::Csv);
        assert_eq!(file.records.records[0].id, "CR-1");
        let err = ChangeRecordsFile::parse("r.json", br#"{"records": []}"#.to_vec())
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("r.json:1:0: the document: invalid type: map, expected a sequence"),
            "{err}"
        );
    }

    #[test]
    fn an_approved_record_wins_over_a_late_one_for_the_same_change() {
        let file = csv(&format!(
            "{HEADER}CR-LATE,t,Jo,2026-10-06T00:00:00Z,e1,,,,\nCR-OK,t,Jo,2026-10-04T00:00:00Z,,111122223333,k1,2026-10-05T00:00:00Z,2026-10-06T00:00:00Z\n"
        ))
        .unwrap();
        let link = file
            .records
            .link(&change("e1", "2026-10-05T10:00:00Z", "k1"))
            .unwrap();
        assert_eq!(link.record_id, "CR-OK");
    }

    #[test]
    fn records_matching_nothing_are_not_seen() {
        let file = csv(&format!(
            "{HEADER}CR-1,t,Jo,2026-10-01T00:00:00Z,e9,,,,\nCR-2,t,Jo,2026-10-01T00:00:00Z,e1,,,,\n"
        ))
        .unwrap();
        let mut failed = change("e9", "2026-10-05T10:00:00Z", "k1");
        failed.error_code = "AccessDenied".into();
        let outcomes = file
            .records
            .reconcile(&[failed, change("e1", "2026-10-05T10:00:00Z", "k1")]);
        assert_eq!(outcomes[0].outcome, RecordState::NotSeen);
        assert!(outcomes[0].note.contains("failed call (AccessDenied)"));
        assert_eq!(outcomes[1].outcome, RecordState::Matched);
        assert_eq!(outcomes[1].matched_event_ids, vec!["e1".to_string()]);
    }

    #[test]
    fn malformed_csv_names_the_line_and_every_problem() {
        let err = csv(&format!(
            "{HEADER}CR-1,t,Jo,2026-10-01T00:00:00Z,e1,,,,\nCR-2,,Jo,yesterday,e2,111122223333,,,\ncr-1,t,Jo,2026-10-01,e3,,,,\nCR-4,t,\u{200b},2026-10-01,e4,,,,\n"
        ))
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("records.csv:3: title: missing"), "{text}");
        assert!(
            text.contains("records.csv:3: approved_at: `yesterday`"),
            "{text}"
        );
        assert!(
            text.contains("records.csv:3: give either event_id"),
            "{text}"
        );
        assert!(
            text.contains("records.csv:4: id: change record cr-1 is listed twice (first at 2)"),
            "ids differing in case only are one record: {text}"
        );
        assert!(
            text.contains("records.csv:5: approved_by: holds invisible or direction-changing characters: <U+200B>"),
            "{text}"
        );
    }

    #[test]
    fn csv_header_and_shape_are_strict() {
        for (text, expected) in [
            (
                "id,title,aproved_by,approved_at,event_id\n",
                "`aproved_by` is not a change record column",
            ),
            ("id,title,approved_at,event_id\n", "no `approved_by` column"),
            (
                "id,id,title,approved_by,approved_at\n",
                "`id` appears twice",
            ),
            (
                &format!("{HEADER}CR-1,t,Jo\n"),
                "records.csv:2: 3 fields, the header has 9",
            ),
            (
                &format!("{HEADER}CR-1,t,Jo,2026-10-01T00:00:00,e1,,,,\n"),
                "2: approved_at",
            ),
            (
                &format!("{HEADER}CR-1,t,Jo,2026-1-01,e1,,,,\n"),
                "2: approved_at",
            ),
            (
                &format!(
                    "{HEADER}CR-1,t,Jo,2026-10-01,,1111,k1,2026-10-05T00:00:00Z,2026-10-04T00:00:00Z\n"
                ),
                "not a 12-digit",
            ),
            (
                &format!("{HEADER}CR-1,t,Jo,2026-10-01,,111122223333,k1,2026-10-05T00:00:00Z,\n"),
                "to missing",
            ),
        ] {
            let err = csv(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
        let err = csv(&format!(
            "{HEADER}CR-1,t,Jo,2026-10-01,,111122223333,k1,2026-10-05T00:00:00Z,2026-10-04T00:00:00Z\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("the window starts after it ends"), "{err}");
    }

    #[test]
    fn json_records_are_read_and_problems_named_by_path() {
        let json = r#"[
  {"id": "CR-1", "title": "t", "approved_by": "Jo", "approved_at": "2026-10-01", "event_id": "e1"},
  {"id": "CR-2", "title": "t", "approved_by": "Jo", "approved_at": "2026-10-01", "event": "e2"}
]"#;
        let err = ChangeRecordsFile::parse("r.json", json.as_bytes().to_vec())
            .unwrap_err()
            .to_string();
        assert!(err.contains("r.json:3:"), "{err}");
        assert!(err.contains("[1]"), "{err}");
        assert!(err.contains("unknown field `event`"), "{err}");
        let ok = ChangeRecordsFile::parse(
            "records",
            br#"[{"id": "CR-1", "title": "t", "approved_by": "Jo", "approved_at": "2026-10-01", "event_id": "e1"}]"#.to_vec(),
        )
        .unwrap();
        assert_eq!(ok.format, RecordsFormat::Json, "detected by content");
        assert_eq!(ok.records.records[0].scope, RecordScope::Event("e1".into()));
        let err = ChangeRecordsFile::parse(
            "r.json",
            br#"[{"id": "CR-1", "title": "t", "approved_by": "Jo", "approved_at": "nope", "event_id": "e1"}]"#.to_vec(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("r.json:[0]: approved_at: `nope`"), "{err}");
    }
}
