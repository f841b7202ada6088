//! `report --change-records` end to end (Annex 11 §10): a weakening change matched by a record
//! approved before it is CONTROLLED in findings.csv, results.json and the PDF; a record
//! approved after it leaves it FAIL; records that match nothing are listed as NOT_SEEN; a
//! malformed file is refused (exit 2, line named, nothing written); the file travels in the
//! package, `verify` re-evaluates with it, and a tampered copy fails verification.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// The demo's ScheduleKeyDeletion of the lims-migration key, 2026-10-22T15:30:00Z.
const DELETION_EVENT: &str = "7883069d-729b-50e8-8be5-e3e41a63e970";
const HEADER: &str = "id,title,approved_by,approved_at,event_id,account_id,resource,from,to\n";

fn write_records(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn report_with(records: &Path, out: &Path) -> std::process::Output {
    report(
        &demo_evidence(),
        out,
        &["--change-records", records.to_str().unwrap()],
    )
}

fn csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    reader
        .records()
        .map(|r| {
            headers
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

fn deletion_finding(out: &Path) -> serde_json::Value {
    results(out)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["control_id"] == "change-control"
                && f["resource"]
                    .as_str()
                    .unwrap()
                    .starts_with("ScheduleKeyDeletion")
        })
        .cloned()
        .expect("the deletion has a change-control finding")
}

#[test]
fn a_record_approved_before_the_change_makes_it_controlled_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let records = write_records(
        dir.path(),
        "records.csv",
        &format!(
            "{HEADER}CHG-77,Retire the migration key,Anna QA,2026-10-21T14:00:00Z,{DELETION_EVENT},,,,\n"
        ),
    );
    let out = dir.path().join("report");
    let output = report_with(&records, &out);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("1 CONTROLLED"),
        "{}",
        stderr(&output)
    );

    let finding = deletion_finding(&out);
    assert_eq!(finding["status"], "CONTROLLED");
    assert!(
        finding["reason"]
            .as_str()
            .unwrap()
            .contains("controlled by change record CHG-77"),
        "{finding}"
    );
    let results = results(&out);
    let change = results["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["event_id"] == DELETION_EVENT)
        .unwrap();
    assert_eq!(change["change_record"]["record_id"], "CHG-77");
    assert_eq!(results["change_totals"]["weakening_controlled"], 1);
    assert_eq!(results["totals"]["controlled"], 1);
    assert_eq!(results["verdict"], "NON_COMPLIANT", "other FAILs remain");

    let findings = csv_rows(&out.join("findings.csv"));
    assert!(findings.iter().any(|f| f["status"] == "CONTROLLED"
        && f["resource"].starts_with("ScheduleKeyDeletion")
        && f["reason"].contains("CHG-77")));
    let changes = csv_rows(&out.join("changes.csv"));
    let row = changes
        .iter()
        .find(|c| c["event_id"] == DELETION_EVENT)
        .unwrap();
    assert_eq!(row["change_record_id"], "CHG-77");
    assert_eq!(row["change_record_approved_before"], "yes");

    let (_, text) = pdf_text(&out.join("report.pdf"));
    assert!(text.contains("CONTROLLED"), "the PDF shows the status");
    assert!(text.contains("CHG-77"), "the PDF shows the record id");
    assert!(text.contains("inputs/change-records.csv"));
    assert!(
        text.contains("Change records (Annex 11 §10): inputs/change-records.csv"),
        "document control names the records file among the settings used"
    );
    let html = read(&out.join("report.html"));
    assert!(html.contains("CHG-77") && html.contains("status-CONTROLLED"));

    assert_eq!(
        std::fs::read(out.join("inputs/change-records.csv")).unwrap(),
        std::fs::read(&records).unwrap(),
        "the records file is kept as given"
    );
}

#[test]
fn a_record_approved_after_the_change_leaves_it_failed() {
    let dir = tempfile::tempdir().unwrap();
    // Date only, on the day of the change: the approval may have come after it.
    let records = write_records(
        dir.path(),
        "records.csv",
        &format!(
            "{HEADER}CHG-78,Retire the migration key,Anna QA,2026-10-22,{DELETION_EVENT},,,,\n"
        ),
    );
    let out = dir.path().join("report");
    report_with(&records, &out);
    let finding = deletion_finding(&out);
    assert_eq!(finding["status"], "FAIL");
    assert!(
        finding["reason"]
            .as_str()
            .unwrap()
            .contains("change record CHG-78 was approved after the change"),
        "{finding}"
    );
    let reconciliation = csv_rows(&out.join("change-record-reconciliation.csv"));
    assert_eq!(reconciliation[0]["outcome"], "APPROVED_AFTER_CHANGE");
    assert_eq!(results(&out)["totals"]["controlled"], 0);
}

#[test]
fn records_that_match_no_change_are_listed_as_planned_but_not_seen() {
    let dir = tempfile::tempdir().unwrap();
    let records = write_records(
        dir.path(),
        "records.json",
        r#"[{"id": "CHG-90", "title": "Rotate the batch-signing key", "approved_by": "Anna QA",
            "approved_at": "2026-10-27", "account_id": "111122223333",
            "resource": "5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b",
            "from": "2026-10-30T08:00:00Z", "to": "2026-10-30T12:00:00Z"}]"#,
    );
    let out = dir.path().join("report");
    report_with(&records, &out);
    assert!(out.join("inputs/change-records.json").is_file());
    let reconciliation = csv_rows(&out.join("change-record-reconciliation.csv"));
    assert_eq!(reconciliation.len(), 1);
    assert_eq!(reconciliation[0]["record_id"], "CHG-90");
    assert_eq!(reconciliation[0]["outcome"], "NOT_SEEN");
    assert!(reconciliation[0]["note"].contains("planned but not seen"));
    let (_, text) = pdf_text(&out.join("report.pdf"));
    assert!(text.contains("CHG-90") && text.contains("NOT_SEEN"));
}

#[test]
fn a_malformed_records_file_is_refused_with_its_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let records = write_records(
        dir.path(),
        "records.csv",
        &format!(
            "{HEADER}CHG-1,ok,Anna QA,2026-10-01,{DELETION_EVENT},,,,\nCHG-2,bad,Anna QA,22.10.2026,e2,,,,\nCHG-1,again,Anna QA,2026-10-01,e3,,,,\n"
        ),
    );
    let out = dir.path().join("report");
    let output = report_with(&records, &out);
    let name = records.display().to_string();
    assert_refused(&output, &format!("{name}:3: approved_at: `22.10.2026`"));
    assert_refused(
        &output,
        &format!("{name}:4: id: change record CHG-1 is listed twice"),
    );
    assert!(!out.exists(), "no output directory");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "nothing but the records file");

    let too_big = report(
        &demo_evidence(),
        &out,
        &[
            "--change-records",
            records.to_str().unwrap(),
            "--max-evidence-bytes",
            "20",
        ],
    );
    assert_refused(&too_big, "more than the limit of 20 bytes");
    assert!(!out.exists());
}

#[test]
fn verify_and_sign_re_evaluate_with_the_packaged_records_and_a_tampered_copy_fails() {
    let dir = tempfile::tempdir().unwrap();
    let records = write_records(
        dir.path(),
        "records.csv",
        &format!(
            "{HEADER}CHG-77,Retire the migration key,Anna QA,2026-10-21T14:00:00Z,{DELETION_EVENT},,,,\n"
        ),
    );
    let out = dir.path().join("report");
    report_with(&records, &out);
    let again = dir.path().join("again");
    report_with(&records, &again);
    for name in ["results.json", "report.pdf", "report.html", "changes.csv"] {
        assert_eq!(
            std::fs::read(out.join(name)).unwrap(),
            std::fs::read(again.join(name)).unwrap(),
            "{name} is reproducible"
        );
    }

    let key = fixed_key(dir.path(), "alice");
    let signed = sign_at(
        &out,
        &key,
        "Alice Example",
        "QA",
        "approved",
        ALICE_SIGNS_AT,
    );
    assert!(signed.status.success(), "{}", stderr(&signed));
    assert_eq!(
        deletion_finding(&out)["status"],
        "CONTROLLED",
        "signing re-evaluated with the records"
    );
    let (code, text) = verify(&out, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("OK    results.json: identical to the re-evaluation of evidence.json")
            && text.contains("OK    inputs/change-records.csv: SHA-256 matches the manifest"),
        "{text}"
    );

    // Turning the approval earlier after signing would make a late record look timely.
    let packaged = out.join("inputs/change-records.csv");
    let forged = read(&packaged).replace("2026-10-21T14:00:00Z", "2026-10-20T14:00:00Z");
    std::fs::write(&packaged, forged).unwrap();
    let (code, text) = verify(&out, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        failed_subjects(&text).contains("inputs/change-records.csv"),
        "{text}"
    );

    // A package that lost it is incomplete.
    std::fs::remove_file(&packaged).unwrap();
    let (code, text) = verify(&out, &[]);
    assert_eq!(code, Some(1), "{text}");
}

#[test]
fn without_records_a_package_holds_what_it_always_did() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    report(&demo_evidence(), &out, &[]);
    assert!(!out.join("inputs").exists());
    assert!(!out.join("change-record-reconciliation.csv").exists());
    assert_eq!(deletion_finding(&out)["status"], "FAIL");
    assert!(results(&out).get("change_records").is_none());
}

#[test]
fn the_demo_turns_its_planned_weakening_changes_into_controlled_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let output = bin().arg("demo").arg("--out").arg(&out).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "still NON_COMPLIANT");
    assert!(out.join("inputs/change-records.csv").is_file());
    let reconciliation = csv_rows(&out.join("change-record-reconciliation.csv"));
    let outcomes: Vec<&str> = reconciliation
        .iter()
        .map(|r| r["outcome"].as_str())
        .collect();
    assert!(outcomes.contains(&"MATCHED"));
    assert!(outcomes.contains(&"APPROVED_AFTER_CHANGE"));
    assert!(outcomes.contains(&"NOT_SEEN"));
    assert!(results(&out)["totals"]["controlled"].as_u64().unwrap() >= 1);
    insta::assert_snapshot!(
        "demo_change_record_reconciliation",
        read(&out.join("change-record-reconciliation.csv"))
    );
}
