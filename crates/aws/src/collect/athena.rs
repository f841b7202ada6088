//! The period's change events from one Amazon Athena query over the trail's table
//! (`collect --athena WORKGROUP --athena-table DB.TABLE`), for estates whose log files are too
//! many to stream: the query, its polling and paged results, the rebuilding of each result row
//! into the CloudTrail record it came from, and the split of the rows per account-region.
//!
//! The table is the CloudTrail table of the Athena User Guide, "Create the table for CloudTrail
//! logs in Athena using partition projection"
//! (https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table-partition-projection.html),
//! projected on `account`, `region` and `timestamp` (`yyyy/MM/dd`), as docs/controls.md shows.
//! One query per collection (and its coverage query) covers every scoped account-region: it
//! runs after every region's settings were read (the period rule replays the changes up to
//! then), filters on the projected partitions (accounts, regions, the days from the one before
//! the period to the one after `until`), on the change-event sources and the event time, and
//! leaves out read-only records unless the rules table has a rule of their name. The SQL only
//! narrows: every row is rebuilt into its record and judged by
//! `trail_logs::records::record_event`, the same rules table as LookupEvents and the log files. Every value of the query is an Athena execution
//! parameter (`?`), each checked before it is sent (12-digit accounts, region names, dates,
//! RFC 3339 times, the rules table's own names); the table and workgroup names are checked
//! when the command line is read.
//!
//! Nested columns come back as text: `useridentity` and `resources` are selected as
//! `json_format(CAST(… AS JSON))`, which Athena engine version 3 (Trino) writes as JSON objects
//! keyed by the struct's field names (lower case: the Glue schema's), renamed here to the
//! record's own names (`accesskeyid` → `accessKeyId`); `requestparameters` and
//! `responseelements` are the record's JSON text in the documented table. A query that did not
//! succeed, a result without an expected column and a row that cannot be rebuilt are evidence
//! gaps of the change events, never an empty register; and since an empty result cannot tell
//! "no change" from "not in the table", a second query counts the records per account, region
//! and day, and a required day without any is a gap (`MissingDays`), as a missing day folder
//! is for the log files.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_athena::Client;
use aws_sdk_athena::types::{QueryExecutionState, Row};
use chrono::NaiveDate;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::sdk::{CallFailure, FailureKind, call_failure};
use gxp_evidence_core::controls::events;
use gxp_evidence_core::evidence::{
    self, AthenaCoverage, AthenaQuery, CloudTrailEvidence, EventsFrom, EvidenceGap, Extra,
    LookupEvent, Period, Timestamp,
};
use gxp_evidence_core::trail_logs::layout;
use gxp_evidence_core::trail_logs::records::record_event;

/// The `api` of the evidence gaps of the Athena source (the controls read it as a gap of the
/// change events).
pub const EVIDENCE_GAP_API: &str = evidence::ATHENA_EVIDENCE_GAP_API;

const SERVICE: &str = "cloudtrail";

/// How long a query may take before the collection stops waiting (the workgroup's own limit
/// may be lower): its account-regions then carry an evidence gap.
const QUERY_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// GetQueryExecution polling: from this interval, doubling, up to `POLL_CAP`.
const POLL_FIRST: Duration = Duration::from_millis(250);
const POLL_CAP: Duration = Duration::from_secs(5);

/// GetQueryResults returns at most 1000 rows a page.
const RESULT_PAGE_SIZE: i32 = 1000;

/// The state recorded before the query ran (the collection fills it in).
const PENDING: &str = "PENDING";

/// Where the change events come from: a workgroup and the trail's table, both checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AthenaSource {
    pub workgroup: String,
    pub table: AthenaTable,
}

/// `DATABASE.TABLE` of the Glue Data Catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AthenaTable {
    pub database: String,
    pub table: String,
}

impl std::fmt::Display for AthenaTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.database, self.table)
    }
}

/// A `--athena` or `--athena-table` value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AthenaSettingError {
    #[error(
        "--athena {0:?} is not an Athena workgroup name (1 to 128 letters, digits, '.', '_' or '-')"
    )]
    Workgroup(String),
    #[error(
        "--athena-table {0:?} is not DATABASE.TABLE (each 1 to 255 lower-case letters, digits or '_', as the Glue Data Catalog names them)"
    )]
    Table(String),
}

/// Checks a `--athena` workgroup name (the StartQueryExecution `WorkGroup` pattern).
pub fn parse_workgroup(workgroup: &str) -> Result<String, AthenaSettingError> {
    let workgroup_ok = (1..=128).contains(&workgroup.len())
        && workgroup
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    match workgroup_ok {
        true => Ok(workgroup.to_string()),
        false => Err(AthenaSettingError::Workgroup(workgroup.to_string())),
    }
}

/// Checks a `--athena-table` name: `DATABASE.TABLE`, each as the Glue Data Catalog writes
/// names (lower case), so it can be quoted into the SQL as it is.
pub fn parse_table(table: &str) -> Result<AthenaTable, AthenaSettingError> {
    let name_ok = |name: &str| {
        (1..=255).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    match table.split_once('.') {
        Some((database, name)) if name_ok(database) && name_ok(name) => Ok(AthenaTable {
            database: database.to_string(),
            table: name.to_string(),
        }),
        _ => Err(AthenaSettingError::Table(table.to_string())),
    }
}

impl AthenaSource {
    /// Checks `--athena WORKGROUP --athena-table DATABASE.TABLE`.
    pub fn parse(workgroup: &str, table: &str) -> Result<Self, AthenaSettingError> {
        Ok(AthenaSource {
            workgroup: parse_workgroup(workgroup)?,
            table: parse_table(table)?,
        })
    }

    /// What an account-region records before the query ran: replaced by `apply`.
    pub(crate) fn pending(&self) -> EventsFrom {
        EventsFrom::Athena(Box::new(AthenaQuery {
            workgroup: self.workgroup.clone(),
            table: self.table.to_string(),
            query_execution_id: None,
            sql: String::new(),
            execution_parameters: Vec::new(),
            state: PENDING.to_string(),
            result_sha256: None,
            rows: 0,
            records_kept: 0,
            data_scanned_bytes: None,
            coverage: None,
            days_with_records: 0,
            extra: Extra::new(),
        }))
    }
}

// ---------------------------------------------------------------------------------------------
// The query

/// The columns selected, in order: the record's fields the change register and the period
/// rule's replay read (see the module doc for the nested ones).
pub const COLUMNS: [&str; 20] = [
    "eventversion",
    "useridentity",
    "eventtime",
    "eventsource",
    "eventname",
    "awsregion",
    "sourceipaddress",
    "useragent",
    "errorcode",
    "errormessage",
    "requestparameters",
    "responseelements",
    "requestid",
    "eventid",
    "readonly",
    "resources",
    "recipientaccountid",
    "sharedeventid",
    "eventcategory",
    "eventtype",
];

/// The SQL and its execution parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryText {
    pub sql: String,
    pub parameters: Vec<String>,
}

/// A value that may not be sent as a parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value:?} is not a value the query may carry")]
pub struct UncheckedValue {
    pub what: &'static str,
    pub value: String,
}

/// The query of the change events of `accounts` × `regions` in `window`: see the module doc.
pub fn query_text(
    table: &AthenaTable,
    accounts: &BTreeSet<String>,
    regions: &BTreeSet<String>,
    window: Period,
) -> Result<QueryText, UncheckedValue> {
    let mut parameters = Vec::new();
    let mut placeholders = |values: Vec<String>| -> String {
        let marks = vec!["?"; values.len()].join(", ");
        parameters.extend(values.into_iter().map(|v| format!("'{v}'")));
        marks
    };
    let checked = |what: &'static str, value: &str, ok: bool| {
        if ok {
            Ok(value.to_string())
        } else {
            Err(UncheckedValue {
                what,
                value: value.to_string(),
            })
        }
    };
    let accounts = accounts
        .iter()
        .map(|a| {
            checked(
                "account",
                a,
                a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let regions = regions
        .iter()
        .map(|r| checked("region", r, evidence::is_region_name(r)))
        .collect::<Result<Vec<_>, _>>()?;
    let names_ok = |text: &str| {
        !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    };
    let sources: BTreeSet<&str> = events::SOURCES
        .iter()
        .copied()
        .chain(events::RULES.iter().map(|r| r.source))
        .collect();
    let sources = sources
        .into_iter()
        .map(|s| checked("event source", s, names_ok(s)))
        .collect::<Result<Vec<_>, _>>()?;
    let rule_names: BTreeSet<&str> = events::RULES.iter().map(|r| r.name).collect();
    let rule_names = rule_names
        .into_iter()
        .map(|n| checked("event name", n, names_ok(n)))
        .collect::<Result<Vec<_>, _>>()?;
    let (first_day, last_day) = partition_days(window);
    let day = |d: NaiveDate| d.format("%Y/%m/%d").to_string();
    // Whole seconds: the end rounded up, so the SQL never cuts an event the window keeps
    // (the rows are judged against the exact window again).
    let time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let end = window.end.0 + chrono::Duration::seconds(1);

    let select = COLUMNS
        .iter()
        .map(|c| match *c {
            "useridentity" | "resources" => format!("json_format(CAST({c} AS JSON)) AS {c}"),
            _ => c.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let accounts = placeholders(accounts);
    let regions = placeholders(regions);
    let days = placeholders(vec![day(first_day), day(last_day)]);
    let sources = placeholders(sources);
    let times =
        placeholders(vec![time(window.start.0), time(end)]).replacen(", ", " AND eventtime < ", 1);
    let rule_names = placeholders(rule_names);
    let sql = format!(
        "SELECT {select} FROM \"{database}\".\"{table}\" \
         WHERE account IN ({accounts}) AND region IN ({regions}) \
         AND \"timestamp\" BETWEEN {days} \
         AND eventsource IN ({sources}) \
         AND eventtime >= {times} \
         AND (readonly IS NULL OR readonly <> 'true' OR eventname IN ({rule_names})) \
         ORDER BY eventtime, eventid",
        database = table.database,
        table = table.table,
        days = days.replacen(", ", " AND ", 1),
    );
    Ok(QueryText { sql, parameters })
}

/// The partition days of a window: the day before its start to the day after its end (a
/// file delivered after midnight is in the next day's folder; `trail_logs::layout` reads the
/// same days).
fn partition_days(window: Period) -> (NaiveDate, NaiveDate) {
    (
        window.start.0.date_naive() - chrono::Duration::days(1),
        window.end.0.date_naive() + chrono::Duration::days(1),
    )
}

// ---------------------------------------------------------------------------------------------
// Running it

/// An (account, region) pair.
type AccountRegion = (String, String);

/// Why part of the events is missing.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    /// The account-region concerned; `None`: every one of the query.
    pub at: Option<AccountRegion>,
    pub code: String,
    pub message: String,
}

/// What the query answered, split per account-region.
#[derive(Debug, Clone)]
pub(crate) struct QueryOutcome {
    pub record: AthenaQuery,
    /// Where the change events were read up to: the query was started after every region's
    /// settings were read.
    pub until: Timestamp,
    /// The change-register events per account-region, newest first, each once.
    pub events: BTreeMap<AccountRegion, Vec<LookupEvent>>,
    /// Rows of the register per account-region, before the removal of copies.
    pub kept: BTreeMap<AccountRegion, u64>,
    /// Why part of the events is missing.
    pub problems: Vec<Problem>,
    /// The query failed as a whole (code, message): every account-region has a gap.
    pub failed: Option<(String, String)>,
    /// The days with any record per account-region (the coverage query); `None` when not
    /// known (a gap already says so).
    pub covered_days: Option<BTreeMap<AccountRegion, BTreeSet<NaiveDate>>>,
}

/// The credentials stopped working: the collection stops, as for any other call.
pub(crate) struct CredentialsRefused {
    pub api: &'static str,
    pub failure: CallFailure,
}

/// What one query execution gave.
struct Executed {
    id: Option<String>,
    state: String,
    data_scanned_bytes: Option<u64>,
    /// The result pages when it succeeded and they could be read; else why not (code,
    /// message).
    pages: Result<Vec<Vec<Row>>, (String, String)>,
}

/// Starts `text` in the workgroup, waits for it to end and reads its results.
async fn execute(
    client: &Client,
    workgroup: &str,
    text: &QueryText,
) -> Result<Executed, CredentialsRefused> {
    let mut executed = Executed {
        id: None,
        state: "NOT_STARTED".to_string(),
        data_scanned_bytes: None,
        pages: Ok(Vec::new()),
    };
    let started = client
        .start_query_execution()
        .work_group(workgroup)
        .query_string(&text.sql)
        .set_execution_parameters(Some(text.parameters.clone()))
        .send()
        .await;
    let id = match started {
        Ok(out) => out.query_execution_id().unwrap_or_default().to_string(),
        Err(error) => {
            let failure = refuse_credentials("StartQueryExecution", call_failure(&error))?;
            executed.pages = Err((failure.code, failure.message));
            return Ok(executed);
        }
    };
    tracing::info!(query = %id, "Athena query started");
    executed.id = Some(id.clone());
    match wait_for(client, &id, &mut executed.data_scanned_bytes).await? {
        Ok(()) => executed.state = "SUCCEEDED".to_string(),
        Err((state, code, message)) => {
            executed.state = state;
            executed.pages = Err((code, message));
            return Ok(executed);
        }
    }
    executed.pages = read_results(client, &id).await?.map_err(|failure| {
        (
            failure.code,
            format!(
                "the results of Athena query {id} could not be read: {}",
                failure.message
            ),
        )
    });
    Ok(executed)
}

/// Runs the collection's query over `accounts` × `regions` for `[period.start, now)` with
/// the caller's configuration (the workgroup is in its account and region), then, when it
/// succeeded, the coverage query of the same partitions.
pub(crate) async fn run(
    sdk: &SdkConfig,
    source: &AthenaSource,
    accounts: &BTreeSet<String>,
    regions: &BTreeSet<String>,
    period: Period,
) -> Result<QueryOutcome, CredentialsRefused> {
    let until = Timestamp(chrono::Utc::now()).max(period.end);
    let window = Period {
        start: period.start,
        end: until,
    };
    let mut outcome = QueryOutcome {
        record: match source.pending() {
            EventsFrom::Athena(record) => *record,
            EventsFrom::TrailLogFiles(_) => unreachable!("pending is an Athena record"),
        },
        until,
        events: BTreeMap::new(),
        kept: BTreeMap::new(),
        problems: Vec::new(),
        failed: None,
        covered_days: None,
    };
    let texts = query_text(&source.table, accounts, regions, window).and_then(|text| {
        coverage_text(&source.table, accounts, regions, window).map(|coverage| (text, coverage))
    });
    let (text, coverage_text) = match texts {
        Ok(texts) => texts,
        Err(unchecked) => {
            outcome.record.state = "NOT_STARTED".to_string();
            outcome.failed = Some(("UncheckedValue".to_string(), unchecked.to_string()));
            return Ok(outcome);
        }
    };
    outcome.record.sql = text.sql.clone();
    outcome.record.execution_parameters = text.parameters.clone();
    let client = Client::new(sdk);
    let executed = execute(&client, &source.workgroup, &text).await?;
    outcome.record.query_execution_id = executed.id;
    outcome.record.state = executed.state;
    outcome.record.data_scanned_bytes = executed.data_scanned_bytes;
    match executed.pages {
        Ok(pages) => split_rows(&mut outcome, &pages, window),
        Err(failure) => {
            outcome.failed = Some(failure);
            return Ok(outcome);
        }
    }
    let executed = execute(&client, &source.workgroup, &coverage_text).await?;
    let mut coverage = AthenaCoverage {
        query_execution_id: executed.id,
        sql: coverage_text.sql,
        execution_parameters: coverage_text.parameters,
        state: executed.state,
        result_sha256: None,
        data_scanned_bytes: executed.data_scanned_bytes,
        extra: Extra::new(),
    };
    match executed.pages {
        Ok(pages) => match covered_days(&pages) {
            Ok((days, sha256)) => {
                coverage.result_sha256 = Some(sha256);
                outcome.covered_days = Some(days);
            }
            Err(why) => outcome.problems.push(Problem {
                at: None,
                code: "CoverageUnknown".to_string(),
                message: format!(
                    "which days the table covers is not known ({why}): a day without records cannot be told from a day the table does not hold"
                ),
            }),
        },
        Err((code, message)) => outcome.problems.push(Problem {
            at: None,
            code: "CoverageUnknown".to_string(),
            message: format!(
                "the coverage query did not give its results ({code}: {message}): a day without records cannot be told from a day the table does not hold"
            ),
        }),
    }
    outcome.record.coverage = Some(coverage);
    Ok(outcome)
}

/// The query of the records per account, region and day over the same partitions: only the
/// partition columns and a count.
pub fn coverage_text(
    table: &AthenaTable,
    accounts: &BTreeSet<String>,
    regions: &BTreeSet<String>,
    window: Period,
) -> Result<QueryText, UncheckedValue> {
    let full = query_text(table, accounts, regions, window)?;
    let partitions = accounts.len() + regions.len() + 2;
    let parameters = full.parameters[..partitions].to_vec();
    let accounts = vec!["?"; accounts.len()].join(", ");
    let regions = vec!["?"; regions.len()].join(", ");
    let sql = format!(
        "SELECT account, region, \"timestamp\", count(*) AS records FROM \"{database}\".\"{table}\" \
         WHERE account IN ({accounts}) AND region IN ({regions}) AND \"timestamp\" BETWEEN ? AND ? \
         GROUP BY account, region, \"timestamp\" ORDER BY account, region, \"timestamp\"",
        database = table.database,
        table = table.table,
    );
    Ok(QueryText { sql, parameters })
}

/// The days with records per account-region from the coverage query's rows (header
/// `account, region, timestamp, records`), and the SHA-256 of the rows.
fn covered_days(
    pages: &[Vec<Row>],
) -> Result<(BTreeMap<AccountRegion, BTreeSet<NaiveDate>>, String), String> {
    let mut hash = Sha256::new();
    let mut rows = pages.iter().flatten();
    let header = rows.next().ok_or("no header row")?;
    let names = values(header);
    hash.update(row_line(&names));
    let expected = [
        Some("account"),
        Some("region"),
        Some("timestamp"),
        Some("records"),
    ];
    if names != expected {
        return Err(format!("unexpected columns {names:?}"));
    }
    let mut days: BTreeMap<AccountRegion, BTreeSet<NaiveDate>> = BTreeMap::new();
    for (index, row) in rows.enumerate() {
        let fields = values(row);
        hash.update(row_line(&fields));
        let read = match fields.as_slice() {
            [Some(account), Some(region), Some(day), Some(count)] => {
                NaiveDate::parse_from_str(day, "%Y/%m/%d")
                    .ok()
                    .zip(count.parse::<u64>().ok())
                    .map(|(day, count)| ((account.to_string(), region.to_string()), day, count))
            }
            _ => None,
        };
        let Some((place, day, count)) = read else {
            return Err(format!("row {} cannot be read: {fields:?}", index + 2));
        };
        if count > 0 {
            days.entry(place).or_default().insert(day);
        }
    }
    Ok((
        days,
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect(),
    ))
}

fn refuse_credentials(
    api: &'static str,
    failure: CallFailure,
) -> Result<CallFailure, CredentialsRefused> {
    if failure.kind == FailureKind::Credentials {
        return Err(CredentialsRefused { api, failure });
    }
    Ok(failure)
}

/// Polls GetQueryExecution with a growing interval until the query ends; `Err` with the
/// state, a code and the state-change reason when it did not succeed.
async fn wait_for(
    client: &Client,
    id: &str,
    data_scanned_bytes: &mut Option<u64>,
) -> Result<Result<(), (String, String, String)>, CredentialsRefused> {
    let started = Instant::now();
    let mut interval = POLL_FIRST;
    loop {
        let asked = client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await;
        match asked {
            Ok(out) => {
                let execution = out.query_execution();
                let status = execution.and_then(|e| e.status());
                if let Some(bytes) = execution
                    .and_then(|e| e.statistics())
                    .and_then(|s| s.data_scanned_in_bytes())
                {
                    *data_scanned_bytes = u64::try_from(bytes).ok();
                }
                let reason = status
                    .and_then(|s| s.state_change_reason())
                    .unwrap_or("Athena gave no reason")
                    .to_string();
                match status.and_then(|s| s.state()) {
                    Some(QueryExecutionState::Succeeded) => return Ok(Ok(())),
                    Some(QueryExecutionState::Failed) => {
                        return Ok(Err((
                            "FAILED".to_string(),
                            "QueryFailed".to_string(),
                            format!("Athena query {id} failed: {reason}"),
                        )));
                    }
                    Some(QueryExecutionState::Cancelled) => {
                        return Ok(Err((
                            "CANCELLED".to_string(),
                            "QueryCancelled".to_string(),
                            format!("Athena query {id} was cancelled: {reason}"),
                        )));
                    }
                    _ => {}
                }
            }
            Err(error) => {
                let failure = refuse_credentials("GetQueryExecution", call_failure(&error))?;
                if failure.kind == FailureKind::Service {
                    return Ok(Err((
                        "UNKNOWN".to_string(),
                        failure.code,
                        format!(
                            "the state of Athena query {id} could not be read: {}",
                            failure.message
                        ),
                    )));
                }
                // Throttled or transient after the SDK's own retries: poll again later.
            }
        }
        if started.elapsed() >= QUERY_TIMEOUT {
            return Ok(Err((
                "TIMED_OUT".to_string(),
                "QueryTimedOut".to_string(),
                format!(
                    "Athena query {id} had not ended after {} minutes; its results were not read",
                    QUERY_TIMEOUT.as_secs() / 60
                ),
            )));
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(POLL_CAP);
    }
}

/// Every page of the results, following NextToken.
async fn read_results(
    client: &Client,
    id: &str,
) -> Result<Result<Vec<Vec<Row>>, CallFailure>, CredentialsRefused> {
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    let mut seen_tokens = HashSet::new();
    loop {
        let page = client
            .get_query_results()
            .query_execution_id(id)
            .max_results(RESULT_PAGE_SIZE)
            .set_next_token(token.clone())
            .send()
            .await;
        let page = match page {
            Ok(page) => page,
            Err(error) => {
                return Ok(Err(refuse_credentials(
                    "GetQueryResults",
                    call_failure(&error),
                )?));
            }
        };
        pages.push(
            page.result_set()
                .map(|r| r.rows().to_vec())
                .unwrap_or_default(),
        );
        match page.next_token() {
            Some(next) if !next.is_empty() => {
                if !seen_tokens.insert(next.to_string()) {
                    return Ok(Err(CallFailure {
                        code: "RepeatedNextToken".to_string(),
                        message: "GetQueryResults returned a NextToken it had returned before"
                            .to_string(),
                        http_status: None,
                        kind: FailureKind::Service,
                    }));
                }
                token = Some(next.to_string());
            }
            _ => return Ok(Ok(pages)),
        }
    }
}

/// A row's values, `None` for a NULL (a datum without `VarCharValue`).
fn values(row: &Row) -> Vec<Option<&str>> {
    row.data().iter().map(|d| d.var_char_value()).collect()
}

/// Checks the header, hashes every row, rebuilds each record and splits the events per
/// account-region.
fn split_rows(outcome: &mut QueryOutcome, pages: &[Vec<Row>], window: Period) {
    let mut hash = Sha256::new();
    let mut rows = pages.iter().flatten();
    let header = rows.next();
    let mut columns: BTreeMap<String, usize> = BTreeMap::new();
    if let Some(header) = header {
        let names = values(header);
        hash.update(row_line(&names));
        for (index, name) in names.iter().enumerate() {
            if let Some(name) = name {
                columns.insert(name.to_ascii_lowercase(), index);
            }
        }
    }
    let missing: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| !columns.contains_key(*c))
        .collect();
    let mut count = 0u64;
    let mut unreadable: BTreeMap<Option<AccountRegion>, (u64, String)> = BTreeMap::new();
    for (index, row) in rows.enumerate() {
        count += 1;
        let fields = values(row);
        hash.update(row_line(&fields));
        if !missing.is_empty() {
            continue;
        }
        let field = |name: &str| {
            columns
                .get(name)
                .and_then(|i| fields.get(*i).copied().flatten())
        };
        let place = match (field("recipientaccountid"), field("awsregion")) {
            (Some(account), Some(region)) => Some((account.to_string(), region.to_string())),
            _ => None,
        };
        let judged = rebuild_record(&field).and_then(|text| record_event(&text));
        match judged {
            Ok(Some(event)) => {
                let Some(place) = place else {
                    note(
                        &mut unreadable,
                        None,
                        index,
                        "no recipientaccountid or awsregion",
                    );
                    continue;
                };
                if window.contains(event.event_time) {
                    *outcome.kept.entry(place.clone()).or_default() += 1;
                    outcome.events.entry(place).or_default().push(event);
                }
            }
            Ok(None) => {}
            Err(why) => note(&mut unreadable, place, index, &why),
        }
    }
    outcome.record.rows = count;
    outcome.record.result_sha256 =
        Some(hash.finalize().iter().map(|b| format!("{b:02x}")).collect());
    if header.is_none() {
        outcome.failed = Some((
            "MalformedResult".to_string(),
            "the query's results have no header row".to_string(),
        ));
        return;
    }
    if !missing.is_empty() {
        outcome.failed = Some((
            "MissingColumns".to_string(),
            format!(
                "the query's results lack the column(s) {} (is {} the documented CloudTrail table?)",
                missing.join(", "),
                outcome.record.table
            ),
        ));
        return;
    }
    for (place, (rows, first)) in unreadable {
        outcome.problems.push(Problem {
            at: place,
            code: "UnreadableRows".to_string(),
            message: format!(
                "{rows} row(s) of Athena query {} cannot be read as CloudTrail records (first: {first}); the change events they hold are not known",
                outcome.record.query_execution_id.as_deref().unwrap_or_default()
            ),
        });
    }
    for events in outcome.events.values_mut() {
        events.sort_by(|a, b| {
            b.event_time
                .cmp(&a.event_time)
                .then_with(|| a.event_id.cmp(&b.event_id))
        });
        let mut seen = HashSet::new();
        events.retain(|e| seen.insert(e.event_id.clone()));
    }
}

fn note(
    unreadable: &mut BTreeMap<Option<AccountRegion>, (u64, String)>,
    place: Option<AccountRegion>,
    index: usize,
    why: &str,
) {
    let entry = unreadable
        .entry(place)
        .or_insert_with(|| (0, format!("result row {}: {why}", index + 1)));
    entry.0 += 1;
}

/// One row as the checksum covers it: the JSON array of its values and a line feed.
fn row_line(values: &[Option<&str>]) -> Vec<u8> {
    let mut line = serde_json::to_vec(values).unwrap_or_default();
    line.push(b'\n');
    line
}

/// The record's own names of the CloudTrail table's struct fields (the Glue schema writes
/// them in lower case).
const FIELD_NAMES: &[(&str, &str)] = &[
    ("accesskeyid", "accessKeyId"),
    ("accountid", "accountId"),
    ("arn", "ARN"),
    ("attributes", "attributes"),
    ("creationdate", "creationDate"),
    ("credentialid", "credentialId"),
    ("ec2roledelivery", "ec2RoleDelivery"),
    ("federatedprovider", "federatedProvider"),
    ("identitystorearn", "identityStoreArn"),
    ("identityprovider", "identityProvider"),
    ("invokedby", "invokedBy"),
    ("mfaauthenticated", "mfaAuthenticated"),
    ("onbehalfof", "onBehalfOf"),
    ("principalid", "principalId"),
    ("sessioncontext", "sessionContext"),
    ("sessionissuer", "sessionIssuer"),
    ("sourceidentity", "sourceIdentity"),
    ("type", "type"),
    ("userid", "userId"),
    ("username", "userName"),
    ("webidfederationdata", "webIdFederationData"),
];

/// A struct rendered by Athena as JSON, with the record's field names; `arn` is `arn` in
/// `userIdentity` and `ARN` in `resources`. The values of a map column (the web identity
/// federation's `attributes`) keep their keys.
fn renamed(value: Value, arn: &'static str, in_map: bool) -> Value {
    match value {
        Value::Object(fields) if !in_map => Value::Object(
            fields
                .into_iter()
                .map(|(key, inner)| {
                    let lower = key.to_ascii_lowercase();
                    let name = match lower.as_str() {
                        "arn" => arn.to_string(),
                        _ => FIELD_NAMES
                            .iter()
                            .find(|(glue, _)| *glue == lower)
                            .map_or(key, |(_, name)| name.to_string()),
                    };
                    let is_map = lower == "attributes"
                        && name == "attributes"
                        && inner.is_object()
                        && inner
                            .as_object()
                            .is_some_and(|m| !m.contains_key("mfaauthenticated"));
                    (name, renamed(inner, arn, is_map))
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| renamed(item, arn, false))
                .collect(),
        ),
        other => other,
    }
}

/// The CloudTrail record of a result row (`field` reads a column, `None` for NULL), as JSON
/// text in the record's own field names; why it cannot be rebuilt otherwise.
fn rebuild_record<'a>(field: &dyn Fn(&str) -> Option<&'a str>) -> Result<String, String> {
    let mut record = Map::new();
    let mut text = |column: &str, name: &str| {
        if let Some(value) = field(column) {
            record.insert(name.to_string(), Value::String(value.to_string()));
        }
    };
    text("eventversion", "eventVersion");
    text("eventtime", "eventTime");
    text("eventsource", "eventSource");
    text("eventname", "eventName");
    text("awsregion", "awsRegion");
    text("sourceipaddress", "sourceIPAddress");
    text("useragent", "userAgent");
    text("errorcode", "errorCode");
    text("errormessage", "errorMessage");
    text("requestid", "requestID");
    text("eventid", "eventID");
    text("recipientaccountid", "recipientAccountId");
    text("sharedeventid", "sharedEventID");
    text("eventcategory", "eventCategory");
    text("eventtype", "eventType");
    let json = |column: &str| -> Result<Option<Value>, String> {
        match field(column) {
            None => Ok(None),
            Some(text) => serde_json::from_str(text)
                .map(Some)
                .map_err(|e| format!("{column} is not JSON: {e}")),
        }
    };
    match json("useridentity")? {
        Some(identity @ Value::Object(_)) => {
            record.insert("userIdentity".to_string(), renamed(identity, "arn", false));
        }
        Some(Value::Null) | None => {}
        Some(_) => {
            return Err(
                "useridentity is not a JSON object with field names (Athena engine version 3 writes structs as objects)"
                    .to_string(),
            );
        }
    }
    match json("resources")? {
        Some(Value::Array(items)) if items.iter().all(|i| i.is_object() || i.is_null()) => {
            let items = items
                .into_iter()
                .filter(|i| !i.is_null())
                .map(|i| renamed(i, "ARN", false))
                .collect();
            record.insert("resources".to_string(), Value::Array(items));
        }
        Some(Value::Null) | None => {}
        Some(_) => return Err("resources is not a JSON array of objects".to_string()),
    }
    for (column, name) in [
        ("requestparameters", "requestParameters"),
        ("responseelements", "responseElements"),
    ] {
        record.insert(name.to_string(), json(column)?.unwrap_or(Value::Null));
    }
    match field("readonly") {
        Some("true") => {
            record.insert("readOnly".to_string(), Value::Bool(true));
        }
        Some("false") => {
            record.insert("readOnly".to_string(), Value::Bool(false));
        }
        Some(other) => return Err(format!("readonly is {other:?}, not true or false")),
        None => {}
    }
    Ok(Value::Object(record).to_string())
}

// ---------------------------------------------------------------------------------------------
// Into the evidence

/// Puts the query's events of `account_id`/`region` (those of `sources`) into the region's
/// evidence, the period's in `events`, the later ones in `events_after_period`, and returns
/// the region's gaps.
pub(crate) fn apply(
    outcome: &QueryOutcome,
    account_id: &str,
    region: &str,
    sources: &[&str],
    period: Period,
    evidence: &mut CloudTrailEvidence,
) -> Vec<EvidenceGap> {
    let place = (account_id.to_string(), region.to_string());
    let events: Vec<LookupEvent> = outcome
        .events
        .get(&place)
        .into_iter()
        .flatten()
        .filter(|e| sources.contains(&e.event_source.as_str()))
        .cloned()
        .collect();
    let (during, after): (Vec<_>, Vec<_>) =
        events.into_iter().partition(|e| e.event_time < period.end);
    evidence.events = during;
    evidence.events_after_period = after;
    evidence.events_until = Some(outcome.until);
    let mut record = outcome.record.clone();
    record.records_kept = outcome.kept.get(&place).copied().unwrap_or(0);
    evidence.events_from = Some(EventsFrom::Athena(Box::new(record)));
    let gap = |code: &str, message: &str| EvidenceGap {
        account_id: account_id.to_string(),
        region: Some(region.to_string()),
        service: SERVICE.to_string(),
        api: EVIDENCE_GAP_API.to_string(),
        resource: None,
        error_code: code.to_string(),
        message: message.to_string(),
    };
    let mut gaps = Vec::new();
    if let Some((code, message)) = &outcome.failed {
        evidence.events.clear();
        evidence.events_after_period.clear();
        gaps.push(gap(code, message));
    }
    for problem in &outcome.problems {
        if problem.at.as_ref().is_none_or(|at| *at == place) {
            gaps.push(gap(&problem.code, &problem.message));
        }
    }
    if outcome.failed.is_none()
        && let Some(covered) = &outcome.covered_days
    {
        let present = covered.get(&place);
        let required = layout::days_required(period, outcome.until);
        let (with, missing): (Vec<NaiveDate>, Vec<NaiveDate>) = required
            .into_iter()
            .partition(|day| present.is_some_and(|days| days.contains(day)));
        if let Some(EventsFrom::Athena(record)) = &mut evidence.events_from {
            record.days_with_records = with.len() as u64;
        }
        if !missing.is_empty() {
            gaps.push(gap(
                "MissingDays",
                &format!(
                    "the table {} holds no record of {account_id} {region} for {} day(s): {} (the change events of those days are not known; does the table's partition projection cover this account and region?)",
                    outcome.record.table,
                    missing.len(),
                    day_list(&missing)
                ),
            ));
        }
    }
    gaps
}

/// Days as `2026-01-03..2026-01-05, 2026-01-09`.
fn day_list(days: &[NaiveDate]) -> String {
    let mut ranges: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for day in days {
        match ranges.last_mut() {
            Some((_, last)) if *last + chrono::Duration::days(1) == *day => *last = *day,
            _ => ranges.push((*day, *day)),
        }
    }
    ranges
        .iter()
        .map(|(first, last)| match first == last {
            true => first.to_string(),
            false => format!("{first}..{last}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a region's evidence waits for the Athena query (`AthenaSource::pending`).
pub(crate) fn is_pending(evidence: &CloudTrailEvidence) -> bool {
    matches!(&evidence.events_from, Some(EventsFrom::Athena(q)) if q.state == PENDING)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_athena::types::Datum;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).expect("a time")
    }

    fn table() -> AthenaTable {
        AthenaSource::parse("primary", "security.cloudtrail_logs")
            .expect("valid")
            .table
    }

    #[test]
    fn workgroups_and_tables_are_checked() {
        assert!(AthenaSource::parse("primary", "db.t_1").is_ok());
        assert!(AthenaSource::parse("wg.1-a_b", "db.t").is_ok());
        for (workgroup, table) in [
            ("", "db.t"),
            ("a b", "db.t"),
            ("primary", "db"),
            ("primary", "db.t;DROP"),
            ("primary", "DB.T"),
            ("primary", "db.t.x"),
            ("primary", ".t"),
            ("primary", "db\".t"),
        ] {
            assert!(
                AthenaSource::parse(workgroup, table).is_err(),
                "{workgroup} {table}"
            );
        }
    }

    #[test]
    fn the_query_carries_every_value_as_a_parameter() {
        let window = Period {
            start: at("2025-11-01T00:00:00Z"),
            end: at("2026-01-05T10:00:00.5Z"),
        };
        let text = query_text(
            &table(),
            &BTreeSet::from(["111122223333".to_string(), "444455556666".to_string()]),
            &BTreeSet::from(["eu-west-1".to_string()]),
            window,
        )
        .expect("valid");
        assert!(
            text.sql.contains(
                "FROM \"security\".\"cloudtrail_logs\" WHERE account IN (?, ?) AND region IN (?)"
            ),
            "{}",
            text.sql
        );
        assert!(
            text.sql.contains("\"timestamp\" BETWEEN ? AND ?"),
            "{}",
            text.sql
        );
        assert_eq!(
            text.sql.matches('?').count(),
            text.parameters.len(),
            "{}",
            text.sql
        );
        assert_eq!(
            &text.parameters[..5],
            [
                "'111122223333'",
                "'444455556666'",
                "'eu-west-1'",
                "'2025/10/31'",
                "'2026/01/06'"
            ]
        );
        assert!(text.parameters.contains(&"'kms.amazonaws.com'".to_string()));
        assert!(
            text.parameters
                .contains(&"'2025-11-01T00:00:00Z'".to_string())
        );
        assert!(
            text.parameters
                .contains(&"'2026-01-05T10:00:01Z'".to_string())
        );
        assert!(text.parameters.contains(&"'DisableKey'".to_string()));
        assert!(!text.sql.contains("111122223333"));
        let coverage = coverage_text(
            &table(),
            &BTreeSet::from(["111122223333".to_string(), "444455556666".to_string()]),
            &BTreeSet::from(["eu-west-1".to_string()]),
            window,
        )
        .expect("valid");
        assert_eq!(coverage.parameters, text.parameters[..5]);
        assert_eq!(coverage.sql.matches('?').count(), 5, "{}", coverage.sql);
    }

    #[test]
    fn unchecked_values_are_refused() {
        let window = Period {
            start: at("2025-11-01T00:00:00Z"),
            end: at("2025-12-01T00:00:00Z"),
        };
        for (account, region) in [("1111' OR '1'='1", "eu-west-1"), ("111122223333", "eu'x")] {
            assert!(
                query_text(
                    &table(),
                    &BTreeSet::from([account.to_string()]),
                    &BTreeSet::from([region.to_string()]),
                    window
                )
                .is_err()
            );
        }
    }

    fn row(values: &[Option<&str>]) -> Row {
        Row::builder()
            .set_data(Some(
                values
                    .iter()
                    .map(|v| {
                        Datum::builder()
                            .set_var_char_value(v.map(str::to_string))
                            .build()
                    })
                    .collect(),
            ))
            .build()
    }

    fn header() -> Row {
        row(&COLUMNS.iter().map(|c| Some(*c)).collect::<Vec<_>>())
    }

    fn record_row(id: &str, name: &str, read_only: &str, identity: &str) -> Row {
        let mut values: BTreeMap<&str, Option<&str>> = COLUMNS.iter().map(|c| (*c, None)).collect();
        values.insert("eventversion", Some("1.09"));
        values.insert("useridentity", Some(identity));
        values.insert("eventtime", Some("2025-11-03T10:00:00Z"));
        values.insert("eventsource", Some("kms.amazonaws.com"));
        values.insert("eventname", Some(name));
        values.insert("awsregion", Some("eu-west-1"));
        values.insert("requestparameters", Some("{\"keyId\":\"k1\"}"));
        values.insert("eventid", Some(id));
        values.insert("readonly", Some(read_only));
        values.insert(
            "resources",
            Some("[{\"arn\":\"arn:aws:kms:eu-west-1:111122223333:key/k1\",\"accountid\":\"111122223333\",\"type\":\"AWS::KMS::Key\"}]"),
        );
        values.insert("recipientaccountid", Some("111122223333"));
        values.insert("eventcategory", Some("Management"));
        row(&COLUMNS.iter().map(|c| values[c]).collect::<Vec<_>>())
    }

    const IDENTITY: &str = "{\"type\":\"AssumedRole\",\"principalid\":\"AROA:alice\",\"arn\":\"arn:aws:sts::111122223333:assumed-role/Admin/alice\",\"accountid\":\"111122223333\",\"invokedby\":null,\"accesskeyid\":\"ASIAEXAMPLE\",\"username\":null,\"onbehalfof\":null,\"sessioncontext\":{\"attributes\":{\"mfaauthenticated\":\"true\",\"creationdate\":\"2025-11-03T09:00:00Z\"},\"sessionissuer\":{\"type\":\"Role\",\"principalid\":\"AROA\",\"arn\":\"arn:aws:iam::111122223333:role/Admin\",\"accountid\":\"111122223333\",\"username\":\"Admin\"},\"ec2roledelivery\":null,\"webidfederationdata\":null}}";

    fn outcome() -> QueryOutcome {
        QueryOutcome {
            record: match AthenaSource::parse("primary", "db.t").unwrap().pending() {
                EventsFrom::Athena(q) => *q,
                EventsFrom::TrailLogFiles(_) => unreachable!(),
            },
            until: at("2025-12-02T00:00:00Z"),
            events: BTreeMap::new(),
            kept: BTreeMap::new(),
            problems: Vec::new(),
            failed: None,
            covered_days: None,
        }
    }

    fn window() -> Period {
        Period {
            start: at("2025-11-01T00:00:00Z"),
            end: at("2025-12-02T00:00:00Z"),
        }
    }

    #[test]
    fn rows_become_the_records_they_came_from() {
        let mut outcome = outcome();
        let pages = vec![
            vec![header(), record_row("a", "DisableKey", "false", IDENTITY)],
            vec![
                record_row("b", "Decrypt", "true", IDENTITY),
                record_row("a", "DisableKey", "false", IDENTITY),
            ],
        ];
        split_rows(&mut outcome, &pages, window());
        assert_eq!(outcome.failed, None);
        assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
        assert_eq!(outcome.record.rows, 3);
        assert_eq!(
            outcome.record.result_sha256.as_ref().map(String::len),
            Some(64)
        );
        let place = ("111122223333".to_string(), "eu-west-1".to_string());
        let events = &outcome.events[&place];
        assert_eq!(
            events.len(),
            1,
            "the copy is removed, the read event left out"
        );
        assert_eq!(outcome.kept[&place], 2);
        let event = &events[0];
        assert_eq!(event.username.as_deref(), Some("alice"));
        assert_eq!(event.access_key_id.as_deref(), Some("ASIAEXAMPLE"));
        assert_eq!(event.read_only.as_deref(), Some("false"));
        assert_eq!(
            event.resources[0]["ResourceName"],
            "arn:aws:kms:eu-west-1:111122223333:key/k1"
        );
        let record: Value = serde_json::from_str(&event.cloud_trail_event).unwrap();
        assert_eq!(
            record["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"],
            "Admin"
        );
        assert_eq!(
            record["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"],
            "true"
        );
        assert_eq!(record["requestParameters"]["keyId"], "k1");
        assert_eq!(record["readOnly"], false);
    }

    #[test]
    fn the_checksum_covers_the_rows_in_order() {
        let (mut first, mut second) = (outcome(), outcome());
        let a = record_row("a", "DisableKey", "false", IDENTITY);
        let b = record_row("b", "EnableKey", "false", IDENTITY);
        split_rows(
            &mut first,
            &[vec![header(), a.clone(), b.clone()]],
            window(),
        );
        split_rows(&mut second, &[vec![header(), b], vec![a]], window());
        assert_ne!(first.record.result_sha256, second.record.result_sha256);
    }

    #[test]
    fn unreadable_rows_and_missing_columns_are_gaps() {
        let mut outcome = outcome();
        let pages = vec![vec![
            header(),
            record_row("a", "DisableKey", "false", "{\"type\":"),
            record_row("b", "DisableKey", "false", "[\"AssumedRole\"]"),
            record_row("c", "DisableKey", "maybe", IDENTITY),
        ]];
        split_rows(&mut outcome, &pages, window());
        assert_eq!(outcome.problems.len(), 1, "{:?}", outcome.problems);
        assert!(
            outcome.problems[0].message.contains("3 row(s)"),
            "{:?}",
            outcome.problems
        );
        assert!(outcome.events.is_empty());

        let mut outcome = super::tests::outcome();
        split_rows(&mut outcome, &[vec![row(&[Some("eventid")])]], window());
        let (code, message) = outcome.failed.expect("a failed result");
        assert_eq!(code, "MissingColumns");
        assert!(message.contains("useridentity"), "{message}");
    }
}
