//! The change events from one Athena query over the trail's table (`collect --athena
//! WORKGROUP --athena-table DB.TABLE`): against moto's Athena (canned results), a period more
//! than 90 days back is collected from the query and LookupEvents is never called, the SQL
//! sent is the one the snapshot records, and on the same events the change register equals the
//! one from LookupEvents; against the stub's scripted Athena, a failed query is an evidence
//! gap (never PASS), a result of several pages is read to its end, and a row that cannot be
//! read is a gap; bad command lines exit 2.
//!
//! Rows are made as the documented CloudTrail table gives them: scalar columns as text,
//! `readonly` as `true`/`false`, `requestparameters`/`responseelements` as the record's JSON
//! text, and the struct columns as Athena's `json_format(CAST(… AS JSON))` writes them (JSON
//! objects with the Glue schema's lower-case field names).

mod common;

use common::{load_json, stderr, utc};

use std::path::Path;
use std::process::{Command, Output, Stdio};

use chrono::{DateTime, Datelike, Months, TimeZone, Utc};
use serde_json::{Value, json};

use common::aws_stub::{AthenaScript, AwsStub, StubConfig};
use common::moto::{MOTO_ACCOUNT, Month, Moto, live, month, moto};
use common::trail_logs::{OTHER_WRITE, READ_EVENTS, WRITE_EVENTS, record};
// The columns the collector selects, in its order (the documented table's names).
use gxp_evidence::collect::athena::COLUMNS;
use gxp_evidence::controls;
use gxp_evidence::evidence::{EvidenceSnapshot, load_bytes};

const REGION: &str = "us-east-1";
const WORKGROUP: &str = "primary";
const TABLE: &str = "security.cloudtrail_logs";

fn run(mut cmd: Command) -> Output {
    cmd.output().expect("gxp-evidence runs")
}

/// Keys in lower case, all the way down: the Glue schema's struct field names.
fn lower_keys(value: &Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), lower_keys(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(lower_keys).collect()),
        other => other.clone(),
    }
}

/// A CloudTrail record as a row of the documented table, in `COLUMNS` order.
fn athena_row(record: &Value) -> Vec<Option<String>> {
    let text = |name: &str| record.get(name).and_then(Value::as_str).map(str::to_string);
    let json_text = |name: &str| {
        record
            .get(name)
            .filter(|v| !v.is_null())
            .map(|v| v.to_string())
    };
    COLUMNS
        .iter()
        .map(|column| match *column {
            "eventversion" => text("eventVersion"),
            "useridentity" => record
                .get("userIdentity")
                .map(|i| lower_keys(i).to_string()),
            "eventtime" => text("eventTime"),
            "eventsource" => text("eventSource"),
            "eventname" => text("eventName"),
            "awsregion" => text("awsRegion"),
            "sourceipaddress" => text("sourceIPAddress"),
            "useragent" => text("userAgent"),
            "errorcode" => text("errorCode"),
            "errormessage" => text("errorMessage"),
            "requestparameters" => json_text("requestParameters"),
            "responseelements" => json_text("responseElements"),
            "requestid" => text("requestID"),
            "eventid" => text("eventID"),
            "readonly" => record
                .get("readOnly")
                .and_then(Value::as_bool)
                .map(|b| b.to_string()),
            "resources" => record.get("resources").map(|r| lower_keys(r).to_string()),
            "recipientaccountid" => text("recipientAccountId"),
            "sharedeventid" => text("sharedEventID"),
            "eventcategory" => text("eventCategory"),
            "eventtype" => text("eventType"),
            other => panic!("no column {other}"),
        })
        .collect()
}

/// A row in GetQueryResults' shape (a NULL is a datum without VarCharValue).
fn api_row(values: &[Option<String>]) -> Value {
    json!({"Data": values
        .iter()
        .map(|v| match v {
            Some(text) => json!({"VarCharValue": text}),
            None => json!({}),
        })
        .collect::<Vec<_>>()})
}

fn header() -> Vec<Option<String>> {
    COLUMNS.iter().map(|c| Some(c.to_string())).collect()
}

/// The SHA-256 the snapshot records: each row (header first) as a JSON array and a line feed.
fn result_sha256(rows: &[Vec<Option<String>>]) -> String {
    let mut bytes = Vec::new();
    for row in rows {
        bytes.extend(serde_json::to_vec(row).expect("JSON"));
        bytes.push(b'\n');
    }
    gxp_evidence::evidence::sha256_hex(&bytes)
}

/// The coverage query's rows: a count for every day from the one before `from` to the one
/// after now, except `except`.
fn coverage_rows(from: DateTime<Utc>, except: Option<DateTime<Utc>>) -> Vec<Vec<Option<String>>> {
    let mut rows = vec![
        ["account", "region", "timestamp", "records"]
            .iter()
            .map(|c| Some(c.to_string()))
            .collect::<Vec<_>>(),
    ];
    let last = (Utc::now() + chrono::Duration::days(1)).date_naive();
    let skip = except.map(|d| d.date_naive());
    for day in (from - chrono::Duration::days(1))
        .date_naive()
        .iter_days()
        .take_while(|d| *d <= last)
        .filter(|d| Some(*d) != skip)
    {
        rows.push(vec![
            Some(MOTO_ACCOUNT.to_string()),
            Some(REGION.to_string()),
            Some(day.format("%Y/%m/%d").to_string()),
            Some("12".to_string()),
        ]);
    }
    rows
}

fn api_rows(rows: &[Vec<Option<String>>]) -> Value {
    Value::Array(rows.iter().map(|r| api_row(r)).collect())
}

/// Queues canned results in moto's Athena (moto-api): the change query's rows, then the
/// coverage query's, for the next two queries started.
fn queue_moto_result(moto: &Moto, rows: &[Vec<Option<String>>], coverage: &[Vec<Option<String>>]) {
    let body = json!({"account_id": MOTO_ACCOUNT, "region": REGION, "results": [
        {"rows": api_rows(rows), "column_info": []},
        {"rows": api_rows(coverage), "column_info": []},
    ]});
    let script = "import sys, urllib.request\n\
        request = urllib.request.Request(sys.argv[1] + '/moto-api/static/athena/query-results', \
        data=sys.stdin.buffer.read(), method='POST', headers={'Content-Type': 'application/json'})\n\
        urllib.request.urlopen(request).read()\n";
    let mut child = Command::new(&moto.python)
        .args(["-c", script, &moto.url])
        .stdin(Stdio::piped())
        .spawn()
        .expect("python runs");
    std::io::Write::write_all(
        child.stdin.as_mut().expect("stdin"),
        body.to_string().as_bytes(),
    )
    .expect("written");
    drop(child.stdin.take());
    assert!(child.wait().expect("python ends").success());
}

/// The month `months` before this one.
fn month_back(months: u32) -> Month {
    let now = Utc::now();
    let this_month = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .expect("a month start");
    let start = this_month - Months::new(months);
    let end = start + Months::new(1);
    Month {
        start: start.timestamp(),
        end: end.timestamp(),
        label: start.format("%Y-%m").to_string(),
    }
}

fn collect_with_athena(stub: &AwsStub, period: &Month, evidence: &Path) -> Output {
    let mut collect = live(stub, period, &["collect", "--regions", REGION]);
    collect
        .args(["--athena", WORKGROUP, "--athena-table", TABLE])
        .arg("--out")
        .arg(evidence);
    run(collect)
}

fn cloudtrail(snapshot: &Value) -> &Value {
    &snapshot["accounts"][0]["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .find(|r| r["region"] == REGION)
        .expect("the region")["cloudtrail"]
}

fn ids(events: &Value) -> Vec<String> {
    let mut ids: Vec<String> = events
        .as_array()
        .map(|events| {
            events
                .iter()
                .map(|e| e["EventId"].as_str().expect("an id").to_string())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// The Athena requests the collector sent, by operation.
fn athena_requests(stub: &AwsStub) -> Vec<(String, Value)> {
    stub.requests()
        .into_iter()
        .filter(|r| r.service == "athena")
        .map(|r| (r.operation, r.body))
        .collect()
}

#[test]
fn a_period_more_than_90_days_back_comes_from_one_athena_query() {
    let moto = moto();
    let period = month_back(5);
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        ..Default::default()
    });
    let (start, end) = (utc(period.start), utc(period.end));
    let hours = |h: i64| chrono::Duration::hours(h);
    let write =
        |event, at: DateTime<Utc>, id: &str| record(MOTO_ACCOUNT, REGION, event, false, at, id);
    let mut records = vec![
        write(WRITE_EVENTS[0], start + hours(30), "in-disable-key"),
        write(WRITE_EVENTS[1], start + hours(200), "in-schedule-deletion"),
        write(WRITE_EVENTS[2], start + hours(400), "in-stop-logging"),
        write(
            WRITE_EVENTS[3],
            end - chrono::Duration::minutes(2),
            "in-last-minutes",
        ),
        write(WRITE_EVENTS[3], end + hours(50), "after-period"),
        write(OTHER_WRITE, start + hours(31), "other-service"),
        // The same event twice (an organization trail and the account's own).
        write(WRITE_EVENTS[1], start + hours(200), "in-schedule-deletion"),
    ];
    for (i, event) in READ_EVENTS.iter().enumerate() {
        records.push(record(
            MOTO_ACCOUNT,
            REGION,
            *event,
            true,
            start + hours(40 + i as i64),
            &format!("read-{i}"),
        ));
    }
    let mut rows = vec![header()];
    rows.extend(records.iter().map(athena_row));
    queue_moto_result(&moto, &rows, &coverage_rows(start, None));

    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("evidence.json");
    let output = collect_with_athena(&stub, &period, &evidence);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stub.lookup_calls().values().all(Vec::is_empty),
        "LookupEvents was called"
    );

    let snapshot = load_json(&evidence);
    assert_eq!(snapshot["gaps"], json!([]));
    let cloudtrail = cloudtrail(&snapshot);
    assert_eq!(
        ids(&cloudtrail["events"]),
        [
            "in-disable-key",
            "in-last-minutes",
            "in-schedule-deletion",
            "in-stop-logging"
        ]
    );
    assert_eq!(ids(&cloudtrail["events_after_period"]), ["after-period"]);
    assert_eq!(cloudtrail["lookup_queries"], json!([]));
    let query = &cloudtrail["events_from"]["athena"];
    assert_eq!(query["workgroup"], WORKGROUP);
    assert_eq!(query["table"], TABLE);
    assert_eq!(query["state"], "SUCCEEDED");
    assert_eq!(query["rows"], json!(records.len()));
    // Six kept rows (the copy included): five write events of the sources in the window.
    assert_eq!(query["records_kept"], json!(6), "{query}");
    assert_eq!(query["result_sha256"], json!(result_sha256(&rows)));
    assert_eq!(query["data_scanned_bytes"], json!(0));
    let id = query["query_execution_id"].as_str().expect("an id");

    // One query was started, with the SQL and parameters the snapshot records.
    let sent = athena_requests(&stub);
    let started: Vec<&Value> = sent
        .iter()
        .filter(|(op, _)| op == "StartQueryExecution")
        .map(|(_, body)| body)
        .collect();
    assert_eq!(
        started.len(),
        2,
        "the query and its coverage query: {sent:?}"
    );
    let sql = started[0]["QueryString"].as_str().expect("SQL");
    assert_eq!(query["sql"], json!(sql));
    assert_eq!(started[0]["WorkGroup"], WORKGROUP);
    assert_eq!(
        started[0]["ExecutionParameters"], query["execution_parameters"],
        "parameters"
    );
    assert!(
        sql.contains("FROM \"security\".\"cloudtrail_logs\" WHERE account IN (?) AND region IN (?) AND \"timestamp\" BETWEEN ? AND ?"),
        "{sql}"
    );
    assert!(
        !sql.contains(MOTO_ACCOUNT),
        "values travel as parameters: {sql}"
    );
    let parameters = started[0]["ExecutionParameters"]
        .as_array()
        .expect("parameters");
    let day_before = (start - chrono::Duration::days(1))
        .format("'%Y/%m/%d'")
        .to_string();
    for expected in [
        format!("'{MOTO_ACCOUNT}'"),
        format!("'{REGION}'"),
        day_before,
        "'kms.amazonaws.com'".to_string(),
        start.format("'%Y-%m-%dT%H:%M:%SZ'").to_string(),
    ] {
        assert!(
            parameters.contains(&json!(expected)),
            "{expected} in {parameters:?}"
        );
    }
    assert_eq!(sql.matches('?').count(), parameters.len());
    // Every Athena call is one the documented policy grants (docs/iam-policy.json, kept in
    // step with REQUIRED_PERMISSIONS by a unit test).
    for (operation, _) in &sent {
        let action = format!("athena:{operation}");
        assert!(
            gxp_evidence::collect::REQUIRED_PERMISSIONS.contains(&action.as_str()),
            "{action}"
        );
    }
    assert!(
        sent.iter()
            .any(|(op, body)| op == "GetQueryResults" && body["QueryExecutionId"] == id)
    );
    let coverage = &query["coverage"];
    assert_eq!(coverage["state"], "SUCCEEDED");
    assert_eq!(coverage["sql"], started[1]["QueryString"]);
    assert!(
        coverage["sql"]
            .as_str()
            .unwrap()
            .starts_with("SELECT account, region, \"timestamp\", count(*) AS records"),
        "{coverage}"
    );
    let days = (end - start).num_days() as u64;
    assert!(
        query["days_with_records"].as_u64().unwrap() >= days,
        "{query}"
    );

    // The report says where the events came from.
    let out = dir.path().join("report");
    let report = common::report(&evidence, &out, &[]);
    assert!(
        matches!(report.status.code(), Some(0 | 1)),
        "{}",
        stderr(&report)
    );
    let html = common::read(&out.join("report.html"));
    assert!(
        html.contains("Change events (Athena query of the trail&#x27;s table)")
            || html.contains("Change events (Athena query of the trail's table)"),
        "methodology heading"
    );
    assert!(
        html.contains("were read with Amazon Athena"),
        "methodology text"
    );
    assert!(html.contains(id), "the query id");
    assert!(
        !html.contains("LookupEvents was queried"),
        "no LookupEvents plan"
    );
}

/// The same events through LookupEvents (the stub) and as Athena rows (moto) give the same
/// change register and the same results.
#[test]
fn the_change_register_from_athena_equals_the_one_from_lookup_events() {
    let moto = moto();
    moto.seed(&["recorded-trails", REGION]);
    let period = month();
    let (events, stub) = common::moto::stub_with_recorded_events(&moto, &period, REGION);
    let mut rows = vec![header()];
    rows.extend(events.iter().map(|e| {
        athena_row(&serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap())
    }));
    queue_moto_result(&moto, &rows, &coverage_rows(utc(period.start), None));

    let dir = tempfile::tempdir().expect("tempdir");
    let collect = |name: &str, athena: bool| -> EvidenceSnapshot {
        let evidence = dir.path().join(name);
        let output = if athena {
            collect_with_athena(&stub, &period, &evidence)
        } else {
            let mut cmd = live(&stub, &period, &["collect", "--regions", REGION]);
            cmd.arg("--out").arg(&evidence);
            run(cmd)
        };
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        load_bytes(name, std::fs::read(&evidence).unwrap())
            .expect("loads")
            .snapshot
    };
    let looked_up = collect("lookup.json", false);
    let from_athena = collect("athena.json", true);
    assert!(looked_up.gaps.is_empty(), "{:?}", looked_up.gaps);
    assert!(from_athena.gaps.is_empty(), "{:?}", from_athena.gaps);
    let region_events = |snapshot: &EvidenceSnapshot| {
        let trail = snapshot.accounts[0]
            .regions
            .iter()
            .find(|r| r.region == REGION)
            .and_then(|r| r.cloudtrail.clone())
            .expect("cloudtrail evidence");
        let mut ids: Vec<String> = trail.events.iter().map(|e| e.event_id.clone()).collect();
        ids.sort();
        ids
    };
    assert_eq!(region_events(&from_athena), region_events(&looked_up));
    assert!(region_events(&looked_up).len() >= 15);

    let a = controls::evaluate(&looked_up);
    let b = controls::evaluate(&from_athena);
    let rows = |e: &controls::Evaluation| serde_json::to_value(&e.changes).expect("serialises");
    assert_eq!(rows(&b), rows(&a));
    let statuses = |e: &controls::Evaluation| {
        e.findings
            .iter()
            .map(|f| (f.control_id.clone(), f.resource.clone(), f.view, f.status))
            .collect::<Vec<_>>()
    };
    assert_eq!(statuses(&b), statuses(&a));
}

/// The stub's Athena with `script`, moto for everything else.
fn scripted(moto: &Moto, script: AthenaScript) -> AwsStub {
    AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        athena: Some(script),
        ..Default::default()
    })
}

fn change_control(snapshot_path: &Path) -> controls::Status {
    let loaded = load_bytes("evidence", std::fs::read(snapshot_path).unwrap()).expect("loads");
    let evaluation = controls::evaluate(&loaded.snapshot);
    evaluation
        .findings
        .iter()
        .find(|f| f.control_id == "change-control")
        .expect("change-control is evaluated")
        .status
}

#[test]
fn a_failed_query_is_an_evidence_gap_and_never_a_pass() {
    let moto = moto();
    let period = month_back(4);
    let stub = scripted(
        &moto,
        AthenaScript {
            final_state: "FAILED",
            reason: "HIVE_BAD_DATA: Error parsing field value".to_string(),
            running_polls: 2,
            coverage_rows: api_rows(&coverage_rows(utc(period.start), None)),
            ..Default::default()
        },
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("evidence.json");
    let output = collect_with_athena(&stub, &period, &evidence);
    assert_eq!(
        output.status.code(),
        Some(1),
        "incomplete: {}",
        stderr(&output)
    );
    let snapshot = load_json(&evidence);
    let gaps = snapshot["gaps"].as_array().expect("gaps");
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["api"], "AthenaQuery");
    assert_eq!(gaps[0]["error_code"], "QueryFailed");
    let message = gaps[0]["message"].as_str().unwrap();
    assert!(message.contains("HIVE_BAD_DATA"), "{message}");
    let query = &cloudtrail(&snapshot)["events_from"]["athena"];
    assert_eq!(query["state"], "FAILED");
    assert_eq!(query["query_execution_id"], "stub-query-1");
    assert_eq!(change_control(&evidence), controls::Status::EvidenceGap);
    // Polled until it ended; its results never asked for.
    let sent = athena_requests(&stub);
    assert_eq!(
        sent.iter()
            .filter(|(op, _)| op == "GetQueryExecution")
            .count(),
        3
    );
    assert!(!sent.iter().any(|(op, _)| op == "GetQueryResults"));
}

#[test]
fn a_result_of_several_pages_is_read_to_its_last() {
    let moto = moto();
    let period = month_back(4);
    let start = utc(period.start);
    let records: Vec<Value> = (0..7)
        .map(|i| {
            record(
                MOTO_ACCOUNT,
                REGION,
                WRITE_EVENTS[i % 4],
                false,
                start + chrono::Duration::hours(10 * i as i64 + 1),
                &format!("w{i}"),
            )
        })
        .collect();
    let mut rows = vec![header()];
    rows.extend(records.iter().map(athena_row));
    let pages: Vec<Value> = rows
        .chunks(3)
        .map(|chunk| Value::Array(chunk.iter().map(|r| api_row(r)).collect()))
        .collect();
    assert_eq!(pages.len(), 3);
    let stub = scripted(
        &moto,
        AthenaScript {
            final_state: "SUCCEEDED",
            pages,
            data_scanned_bytes: 123_456,
            coverage_rows: api_rows(&coverage_rows(start, None)),
            ..Default::default()
        },
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("evidence.json");
    let output = collect_with_athena(&stub, &period, &evidence);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let snapshot = load_json(&evidence);
    let cloudtrail = cloudtrail(&snapshot);
    let mut expected: Vec<String> = (0..7).map(|i| format!("w{i}")).collect();
    expected.sort();
    assert_eq!(ids(&cloudtrail["events"]), expected);
    let query = &cloudtrail["events_from"]["athena"];
    assert_eq!(query["rows"], json!(7));
    assert_eq!(query["data_scanned_bytes"], json!(123_456));
    assert_eq!(query["result_sha256"], json!(result_sha256(&rows)));
    let tokens: Vec<Value> = athena_requests(&stub)
        .into_iter()
        .filter(|(op, body)| op == "GetQueryResults" && body["QueryExecutionId"] == "stub-query-1")
        .map(|(_, body)| body["NextToken"].clone())
        .collect();
    assert_eq!(tokens, [Value::Null, json!("page-1"), json!("page-2")]);
}

#[test]
fn a_row_that_cannot_be_read_is_an_evidence_gap() {
    let moto = moto();
    let period = month_back(4);
    let start = utc(period.start);
    let good = record(
        MOTO_ACCOUNT,
        REGION,
        WRITE_EVENTS[0],
        false,
        start + chrono::Duration::hours(5),
        "good",
    );
    let mut bad = athena_row(&record(
        MOTO_ACCOUNT,
        REGION,
        WRITE_EVENTS[1],
        false,
        start + chrono::Duration::hours(6),
        "bad",
    ));
    let params = COLUMNS
        .iter()
        .position(|c| *c == "requestparameters")
        .unwrap();
    bad[params] = Some("{\"keyId\": truncated".to_string());
    let rows = [header(), athena_row(&good), bad];
    let stub = scripted(
        &moto,
        AthenaScript {
            final_state: "SUCCEEDED",
            pages: vec![api_rows(&rows)],
            coverage_rows: api_rows(&coverage_rows(start, None)),
            ..Default::default()
        },
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("evidence.json");
    let output = collect_with_athena(&stub, &period, &evidence);
    assert_eq!(
        output.status.code(),
        Some(1),
        "incomplete: {}",
        stderr(&output)
    );
    let snapshot = load_json(&evidence);
    let gaps = snapshot["gaps"].as_array().expect("gaps");
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["error_code"], "UnreadableRows");
    let message = gaps[0]["message"].as_str().unwrap();
    assert!(
        message.contains("result row 2") && message.contains("requestparameters"),
        "{message}"
    );
    assert_eq!(ids(&cloudtrail(&snapshot)["events"]), ["good"]);
    assert_eq!(change_control(&evidence), controls::Status::EvidenceGap);
}

/// A day the table holds no record of (its partition projection does not cover it, or no log
/// file was delivered) is a gap, never a day without changes.
#[test]
fn a_day_the_table_does_not_cover_is_an_evidence_gap() {
    let moto = moto();
    let period = month_back(4);
    let start = utc(period.start);
    let missing = start + chrono::Duration::days(9);
    let rows = [
        header(),
        athena_row(&record(
            MOTO_ACCOUNT,
            REGION,
            WRITE_EVENTS[0],
            false,
            start + chrono::Duration::hours(5),
            "w",
        )),
    ];
    let stub = scripted(
        &moto,
        AthenaScript {
            final_state: "SUCCEEDED",
            pages: vec![api_rows(&rows)],
            coverage_rows: api_rows(&coverage_rows(start, Some(missing))),
            ..Default::default()
        },
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("evidence.json");
    let output = collect_with_athena(&stub, &period, &evidence);
    assert_eq!(
        output.status.code(),
        Some(1),
        "incomplete: {}",
        stderr(&output)
    );
    let snapshot = load_json(&evidence);
    let gaps = snapshot["gaps"].as_array().expect("gaps");
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["error_code"], "MissingDays");
    let message = gaps[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("1 day(s): {}", missing.format("%Y-%m-%d"))),
        "{message}"
    );
    assert_eq!(change_control(&evidence), controls::Status::EvidenceGap);
}

#[test]
fn bad_command_lines_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let attempt = |args: &[&str]| -> (Option<i32>, String) {
        let output = common::bin()
            .args(["collect", "--period", "2020-01", "--regions", REGION])
            .args(args)
            .arg("--out")
            .arg(dir.path().join("e.json"))
            .output()
            .expect("runs");
        (output.status.code(), stderr(&output))
    };
    let logs = dir.path().display().to_string();
    for (args, expected) in [
        (
            vec![
                "--athena",
                WORKGROUP,
                "--athena-table",
                TABLE,
                "--trail-logs",
                logs.as_str(),
            ],
            "cannot be used with",
        ),
        (
            vec!["--athena", WORKGROUP, "--athena-table", "cloudtrail_logs"],
            "is not DATABASE.TABLE",
        ),
        (
            vec![
                "--athena",
                WORKGROUP,
                "--athena-table",
                "db.t\"; DROP TABLE x",
            ],
            "is not DATABASE.TABLE",
        ),
        (
            vec!["--athena", "work group", "--athena-table", TABLE],
            "is not an Athena workgroup name",
        ),
        (vec!["--athena", WORKGROUP], "--athena-table"),
    ] {
        let (code, text) = attempt(&args);
        assert_eq!(code, Some(2), "{args:?}: {text}");
        assert!(text.contains(expected), "{args:?}: {text}");
    }
    assert!(!dir.path().join("e.json").exists());
}
