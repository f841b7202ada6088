//! The change events from the trail's log files (`collect --trail-logs DIR`): the generator's
//! files have the size and shape of real ones; a record becomes the `LookupEvent` LookupEvents
//! returns for it (the recorded fixture pages); end to end against moto, a period more than 90
//! days back is collected with its events from the files and LookupEvents is never called;
//! and on the same events the change register from the files equals the one from LookupEvents.

mod common;

use common::{load_json, stderr, utc};

use std::path::Path;
use std::process::{Command, Output};

use chrono::{DateTime, Datelike, Months, TimeZone, Utc};
use serde_json::{Value, json};

use common::aws_stub::{AwsStub, S3Faults, StubConfig, recorded_originals};
use common::moto::{MOTO_ACCOUNT, Month, live, month, moto};
use common::trail_logs::{
    OTHER_WRITE, READ_EVENTS, WRITE_EVENTS, fill_days, record, write_delivered, write_log_file,
};
use gxp_evidence::controls;
use gxp_evidence::evidence::{Period, Timestamp, load_bytes};
use gxp_evidence::trail_logs::{LocalDir, read_region};

const REGION: &str = "us-east-1";

fn run(mut cmd: Command) -> Output {
    cmd.output().expect("gxp-evidence runs")
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
        .expect("events")
        .iter()
        .map(|e| e["EventId"].as_str().expect("an id").to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn generated_records_are_the_size_of_real_ones() {
    let at = utc(1_767_225_600);
    let sizes: Vec<usize> = READ_EVENTS
        .iter()
        .chain(&WRITE_EVENTS)
        .enumerate()
        .map(|(i, event)| {
            record(MOTO_ACCOUNT, REGION, *event, false, at, &format!("id-{i}"))
                .to_string()
                .len()
        })
        .collect();
    for size in &sizes {
        assert!((1500..=2000).contains(size), "{sizes:?}");
    }
}

/// Every recorded LookupEvents event of the fixture pages, its record written to a log file
/// and read back, gives the same event: id, name, source, time, ReadOnly, Username,
/// AccessKeyId, the record itself, and the resources the record names. The reader keeps the
/// events of the change register only (the write events of the sources).
#[test]
fn a_record_read_from_a_log_file_is_the_event_lookup_events_returns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let originals = recorded_originals();
    let records: Vec<Value> = originals
        .iter()
        .map(|e| {
            serde_json::from_str(e["CloudTrailEvent"].as_str().expect("a record")).expect("JSON")
        })
        .collect();
    write_delivered(dir.path(), None, &records);
    let times: Vec<i64> = originals
        .iter()
        .map(|e| e["EventTime"].as_f64().expect("a time") as i64)
        .collect();
    let (first, last) = (*times.iter().min().unwrap(), *times.iter().max().unwrap());
    let period = Period {
        start: Timestamp(utc(first)),
        end: Timestamp(utc(last + 1)),
    };
    let account = records[0]["recipientAccountId"].as_str().expect("account");
    let store = LocalDir::open(dir.path()).expect("a log folder");
    let read = read_region(&store, account, REGION, period, period.end, 2);
    assert!(
        read.gaps.iter().all(|g| g.code == "MissingLogFiles"),
        "{:?}",
        read.gaps
    );
    assert_eq!(read.records_read as usize, records.len());
    let expected: Vec<&Value> = originals
        .iter()
        .filter(|e| {
            gxp_evidence::controls::events::in_change_register(
                e["EventSource"].as_str().unwrap(),
                e["EventName"].as_str().unwrap(),
                e["ReadOnly"].as_str(),
            )
        })
        .collect();
    assert!(expected.len() >= 15, "{}", expected.len());
    assert_eq!(read.events.len(), expected.len());
    for original in expected {
        let id = original["EventId"].as_str().unwrap();
        let event = read
            .events
            .iter()
            .find(|e| e.event_id == id)
            .unwrap_or_else(|| panic!("{id} kept"));
        let shape = serde_json::to_value(event).expect("serialises");
        for field in [
            "EventName",
            "EventSource",
            "ReadOnly",
            "Username",
            "AccessKeyId",
        ] {
            assert_eq!(shape[field], original[field], "{id} {field}");
        }
        assert_eq!(
            event.event_time.0.timestamp(),
            original["EventTime"].as_f64().unwrap() as i64,
            "{id}"
        );
        let record: Value = serde_json::from_str(&event.cloud_trail_event).unwrap();
        let recorded: Value =
            serde_json::from_str(original["CloudTrailEvent"].as_str().unwrap()).unwrap();
        assert_eq!(record, recorded, "{id}");
        if recorded["resources"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
        {
            assert_eq!(shape["Resources"], original["Resources"], "{id}");
        }
    }
}

/// `collect --regions REGION --trail-logs SOURCE --out EVIDENCE` against the stub, run.
fn collect_from_logs(
    stub: &AwsStub,
    period: &Month,
    source: impl AsRef<std::ffi::OsStr>,
    evidence: &Path,
) -> Output {
    let mut collect = live(stub, period, &["collect", "--regions", REGION]);
    collect
        .arg("--trail-logs")
        .arg(source)
        .arg("--out")
        .arg(evidence);
    run(collect)
}

/// The month five months before now: beyond LookupEvents' 90 days.
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

/// A period's log files in `root`: a file of read events every day from the day before the
/// period to today, the period's write events (`PERIOD_EVENTS`), one just before and one
/// after the period, another service's, and an organization trail's copies.
fn write_period_files(root: &Path, period: &Month) {
    let (start, end) = (utc(period.start), utc(period.end));
    // Every day from the one before the period to today has a file of read events.
    fill_days(
        root,
        None,
        MOTO_ACCOUNT,
        REGION,
        start - chrono::Duration::days(1),
        Utc::now(),
    );
    let write =
        |event, at: DateTime<Utc>, id: &str| record(MOTO_ACCOUNT, REGION, event, false, at, id);
    let hours = |h: i64| chrono::Duration::hours(h);
    let mut records = vec![
        write(WRITE_EVENTS[0], start + hours(30), "in-disable-key"),
        write(WRITE_EVENTS[1], start + hours(200), "in-schedule-deletion"),
        write(WRITE_EVENTS[2], start + hours(400), "in-stop-logging"),
        // Delivered after midnight, in the folder of the first day after the period.
        write(
            WRITE_EVENTS[3],
            end - chrono::Duration::minutes(2),
            "in-last-minutes",
        ),
        // After the period: replayed, not the period's.
        write(WRITE_EVENTS[3], end + hours(50), "after-period"),
        // Before the period, in the folder of its first day.
        write(
            WRITE_EVENTS[0],
            start - chrono::Duration::minutes(1),
            "before-period",
        ),
        write(OTHER_WRITE, start + hours(31), "other-service"),
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
    write_delivered(root, None, &records);
    // An organization trail delivers one of them again, and one of its own.
    write_delivered(
        root,
        Some("o-exampleorgid"),
        &[
            records[1].clone(),
            write(WRITE_EVENTS[2], start + hours(500), "org-stop-logging"),
        ],
    );
}

/// The period's change events `write_period_files` wrote, by event id.
const PERIOD_EVENTS: [&str; 5] = [
    "in-disable-key",
    "in-last-minutes",
    "in-schedule-deletion",
    "in-stop-logging",
    "org-stop-logging",
];

#[test]
fn collect_reads_a_period_more_than_90_days_back_from_the_log_files() {
    let moto = moto();
    let period = month_back(5);
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        ..Default::default()
    });
    let logs = tempfile::tempdir().expect("tempdir");
    let root = logs.path();
    write_period_files(root, &period);

    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("evidence.json");
    let output = collect_from_logs(&stub, &period, root, &evidence);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stub.lookup_calls().values().all(Vec::is_empty),
        "LookupEvents was called"
    );

    let snapshot = load_json(&evidence);
    assert_eq!(
        snapshot["period"]["start"],
        json!(common_time(utc(period.start)))
    );
    assert_eq!(snapshot["gaps"], json!([]));
    let cloudtrail = cloudtrail(&snapshot);
    assert_eq!(ids(&cloudtrail["events"]), PERIOD_EVENTS);
    assert_eq!(ids(&cloudtrail["events_after_period"]), ["after-period"]);
    assert_eq!(cloudtrail["lookup_queries"], json!([]));
    let read = &cloudtrail["events_from"]["trail_log_files"];
    assert_eq!(read["location"], json!(root.display().to_string()));
    assert!(read["files_read"].as_u64().unwrap() >= 35, "{read}");
    // in-disable-key, in-schedule-deletion twice, in-stop-logging, in-last-minutes,
    // org-stop-logging and after-period; before-period is outside the window.
    assert_eq!(read["records_kept"], json!(7), "{read}");

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
        html.contains("Change events (the trail&#x27;s log files)")
            || html.contains("Change events (the trail's log files)"),
        "methodology heading"
    );
    assert!(
        html.contains("were read from the trail"),
        "methodology text"
    );
    assert!(
        !html.contains("LookupEvents was queried"),
        "no LookupEvents plan"
    );
    assert!(
        html.contains("no LookupEvents: the change events were read from the trail"),
        "API calls"
    );
}

fn common_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A day without log files in the period is an evidence gap of the region's change events,
/// and the change-control results say so.
#[test]
fn a_missing_day_of_log_files_is_an_evidence_gap() {
    let moto = moto();
    let period = month_back(4);
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        ..Default::default()
    });
    let logs = tempfile::tempdir().expect("tempdir");
    let start = utc(period.start);
    fill_days(
        logs.path(),
        None,
        MOTO_ACCOUNT,
        REGION,
        start - chrono::Duration::days(1),
        Utc::now(),
    );
    let missing = start + chrono::Duration::days(9);
    std::fs::remove_dir_all(logs.path().join(format!(
        "AWSLogs/{MOTO_ACCOUNT}/CloudTrail/{REGION}/{}",
        missing.format("%Y/%m/%d")
    )))
    .expect("the day folder");
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("evidence.json");
    let output = collect_from_logs(&stub, &period, logs.path(), &evidence);
    assert_eq!(
        output.status.code(),
        Some(1),
        "incomplete: {}",
        stderr(&output)
    );
    let snapshot = load_json(&evidence);
    let gaps = snapshot["gaps"].as_array().expect("gaps");
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["api"], "TrailLogFiles");
    assert_eq!(gaps[0]["error_code"], "MissingLogFiles");
    let message = gaps[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("1 day(s): {}", missing.format("%Y-%m-%d"))),
        "{message}"
    );
    let loaded = load_bytes("evidence", std::fs::read(&evidence).unwrap()).expect("loads");
    let evaluation = controls::evaluate(&loaded.snapshot);
    let change_control = evaluation
        .findings
        .iter()
        .find(|f| f.control_id == "change-control")
        .expect("change-control is evaluated");
    assert_eq!(
        change_control.status,
        controls::Status::EvidenceGap,
        "{change_control:?}"
    );
}

/// The same events through LookupEvents (the stub) and through log files give the same change
/// register and the same results.
#[test]
fn the_change_register_from_log_files_equals_the_one_from_lookup_events() {
    let moto = moto();
    moto.seed(&["recorded-trails", REGION]);
    let period = month();
    let (events, stub) = common::moto::stub_with_recorded_events(&moto, &period, REGION);
    let logs = tempfile::tempdir().expect("tempdir");
    let records: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap())
        .collect();
    write_delivered(logs.path(), None, &records);
    fill_days(
        logs.path(),
        None,
        MOTO_ACCOUNT,
        REGION,
        utc(period.start) - chrono::Duration::days(1),
        Utc::now(),
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let collect = |name: &str, extra: &[&Path]| {
        let evidence = dir.path().join(name);
        let mut cmd = live(&stub, &period, &["collect", "--regions", REGION]);
        if let Some(logs) = extra.first() {
            cmd.arg("--trail-logs").arg(logs);
        }
        cmd.arg("--out").arg(&evidence);
        let output = run(cmd);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let loaded = load_bytes(name, std::fs::read(&evidence).unwrap()).expect("loads");
        loaded.snapshot
    };
    let looked_up = collect("lookup.json", &[]);
    let from_files = collect("files.json", &[logs.path()]);
    assert!(looked_up.gaps.is_empty(), "{:?}", looked_up.gaps);
    assert!(from_files.gaps.is_empty(), "{:?}", from_files.gaps);
    let region_events = |snapshot: &gxp_evidence::evidence::EvidenceSnapshot| {
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
    let source = |snapshot: &gxp_evidence::evidence::EvidenceSnapshot| {
        snapshot.accounts[0]
            .regions
            .iter()
            .find(|r| r.region == REGION)
            .and_then(|r| r.cloudtrail.as_ref())
            .map(|c| (c.events_from.is_some(), c.lookup_queries.is_empty()))
    };
    assert_eq!(source(&looked_up), Some((false, false)), "LookupEvents");
    assert_eq!(source(&from_files), Some((true, true)), "log files");
    assert_eq!(region_events(&from_files), region_events(&looked_up));
    assert!(region_events(&looked_up).len() >= 15);

    let a = controls::evaluate(&looked_up);
    let b = controls::evaluate(&from_files);
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

/// A folder without AWSLogs is refused before anything is collected.
#[test]
fn a_folder_without_log_files_is_refused_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = common::bin()
        .args([
            "collect",
            "--period",
            "2020-01",
            "--regions",
            REGION,
            "--trail-logs",
        ])
        .arg(dir.path())
        .arg("--out")
        .arg(dir.path().join("e.json"))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("not a folder of CloudTrail log files"),
        "{text}"
    );
    assert!(text.contains(&dir.path().display().to_string()), "{text}");
    assert!(!dir.path().join("e.json").exists());
}

#[test]
fn a_log_file_written_by_the_generator_is_streamed_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = utc(1_767_225_600);
    let records: Vec<Value> = (0..200)
        .map(|i| {
            record(
                MOTO_ACCOUNT,
                REGION,
                WRITE_EVENTS[i % 4],
                false,
                at,
                &format!("w{i}"),
            )
        })
        .collect();
    let (path, size) = write_log_file(dir.path(), "one.json.gz", &records);
    assert!(size > 300_000, "{size}");
    let mut kept = 0;
    let tally = gxp_evidence::trail_logs::read_log_file(
        "one.json.gz",
        std::fs::File::open(path).unwrap(),
        Period {
            start: Timestamp(at),
            end: Timestamp(at + chrono::Duration::seconds(1)),
        },
        &mut |_| kept += 1,
    )
    .expect("readable");
    assert_eq!((tally.records_read, kept), (200, 200));
}

/// Issue 19's "done when": `report --period` for a month a year back, its change events read
/// from the trail's bucket in S3 (moto) with `--trail-logs s3://BUCKET/PREFIX`: the same
/// events as from a local copy, LookupEvents never called, the report saying where they came
/// from; a prefix without log files and a bucket that does not exist are evidence gaps.
#[test]
fn report_a_year_back_reads_the_change_events_from_the_trail_bucket() {
    let moto = moto();
    let period = month_back(12);
    // Every 40th S3 GET is answered 503 SlowDown: the reads are retried, nothing is lost.
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        s3_faults: S3Faults {
            slow_down_every: 40,
            ..Default::default()
        },
        ..Default::default()
    });
    let logs = tempfile::tempdir().expect("tempdir");
    write_period_files(logs.path(), &period);
    let root = logs.path().display().to_string();
    let uploaded = moto.seed(&["trail-bucket", REGION, "lims-trail-logs", "audit/ct", &root]);
    assert!(uploaded["keys"].as_u64().unwrap() > 365, "{uploaded}");

    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report");
    let mut report = live(&stub, &period, &["report", "--regions", REGION]);
    report
        .args(["--trail-logs", "s3://lims-trail-logs/audit/ct/"])
        .arg("--out")
        .arg(&out);
    let output = run(report);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        stderr(&output)
    );
    assert!(
        stub.lookup_calls().values().all(Vec::is_empty),
        "LookupEvents was called"
    );
    let snapshot = load_json(&out.join("evidence.json"));
    assert_eq!(snapshot["gaps"], json!([]));
    assert!(stub.s3_slow_downs() > 10, "{}", stub.s3_slow_downs());
    let cloudtrail = cloudtrail(&snapshot);
    assert_eq!(ids(&cloudtrail["events"]), PERIOD_EVENTS);
    assert_eq!(ids(&cloudtrail["events_after_period"]), ["after-period"]);
    let read = &cloudtrail["events_from"]["trail_log_files"];
    assert_eq!(read["location"], json!("s3://lims-trail-logs/audit/ct"));
    assert_eq!(read["records_kept"], json!(7), "{read}");
    let html = common::read(&out.join("report.html"));
    // Tera escapes `/` in HTML text.
    assert!(
        html.contains("s3:&#x2F;&#x2F;lims-trail-logs&#x2F;audit&#x2F;ct"),
        "location named"
    );
    assert!(
        html.contains("were read from the trail"),
        "methodology text"
    );

    // Where there is nothing to read, the region's change events are a gap, never empty.
    let denying = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        s3_faults: S3Faults {
            deny_path: Some("/lims-trail-logs".to_string()),
            ..Default::default()
        },
        ..Default::default()
    });
    for (stub, source, code, says) in [
        (
            &stub,
            "s3://lims-trail-logs/other-prefix",
            "MissingLogFiles",
            "no log files",
        ),
        (
            &stub,
            "s3://no-such-trail-bucket",
            "ListFailed",
            "NoSuchBucket",
        ),
        (
            &denying,
            "s3://lims-trail-logs/audit/ct",
            "ListFailed",
            "AccessDenied",
        ),
    ] {
        let evidence = dir.path().join(format!("gap-{code}-{says}.json"));
        let output = collect_from_logs(stub, &month_back(4), source, &evidence);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{source}: {}",
            stderr(&output)
        );
        let snapshot = load_json(&evidence);
        let gaps: Vec<(&Value, &str)> = snapshot["gaps"]
            .as_array()
            .expect("gaps")
            .iter()
            .filter(|g| g["api"] == "TrailLogFiles")
            .map(|g| (&g["error_code"], g["message"].as_str().unwrap_or_default()))
            .collect();
        assert_eq!(gaps.len(), 1, "{source}: {:#}", snapshot["gaps"]);
        assert_eq!(gaps[0].0, code, "{source}: {:#}", snapshot["gaps"]);
        assert!(gaps[0].1.contains(says), "{source}: {}", gaps[0].1);
    }
}

/// A malformed bucket URL is refused before anything is collected.
#[test]
fn a_malformed_trail_bucket_url_is_refused_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = common::bin()
        .args(["collect", "--period", "2020-01", "--regions", REGION])
        .args(["--trail-logs", "s3://Not_A_Bucket/logs"])
        .arg("--out")
        .arg(dir.path().join("e.json"))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("--trail-logs: \"s3://Not_A_Bucket/logs\" is not an S3 location"),
        "{text}"
    );
    assert!(!dir.path().join("e.json").exists());
}
