//! Drift between periods: stable finding ids, `gxp-evidence diff` and the report's "Changes
//! since last period" section (`report --previous`).

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::{Value, json};

const DR_ACCOUNT: &str = "444455556666";
const DR_KEY: &str = "6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d";
const DR_API: &str = "m2h6j8k1zx";
/// The weakening event the changed period adds.
const ADDED_EVENT_ID: &str = "0d1f5e2a-7c44-5b6e-9a01-3f2b8c9d4e10";

/// The demo's disaster-recovery account alone, without evidence gaps: the base period.
fn dr_only() -> Value {
    let mut demo: Value = serde_json::from_str(&read(&demo_evidence())).unwrap();
    let dr = demo["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account_id"] == DR_ACCOUNT)
        .unwrap()
        .clone();
    demo["scope"]["accounts"] = json!([DR_ACCOUNT]);
    demo["accounts"] = json!([dr]);
    demo["gaps"] = json!([]);
    demo
}

fn region<'a>(snapshot: &'a mut Value, name: &str) -> &'a mut Value {
    snapshot["accounts"][0]["regions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["region"] == name)
        .unwrap()
}

/// The base with four known changes: the DR API's only stage removed, the DR database key's
/// rotation turned off by a (new, weakening) DisableKeyRotation event, and a failed
/// kms:ListKeys in eu-west-1.
fn changed() -> Value {
    let mut snapshot = dr_only();
    let central = region(&mut snapshot, "eu-central-1");
    let api = central["apigateway"]["rest_apis"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|a| a["api"]["id"] == DR_API)
        .unwrap();
    assert_eq!(api["stages"].as_array().unwrap().len(), 1);
    api["stages"] = json!([]);
    let key = central["kms"]["keys"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|k| k["metadata"]["KeyId"] == DR_KEY)
        .unwrap();
    key["rotation_status"] = json!({
        "KeyRotationEnabled": false,
        "KeyId": format!("arn:aws:kms:eu-central-1:{DR_ACCOUNT}:key/{DR_KEY}")
    });
    let events = central["cloudtrail"]["events"].as_array_mut().unwrap();
    events.push(disable_rotation_event());
    let west = region(&mut snapshot, "eu-west-1");
    west["kms"] = Value::Null;
    snapshot["gaps"] = json!([{
        "account_id": DR_ACCOUNT, "region": "eu-west-1", "service": "kms", "api": "ListKeys",
        "error_code": "AccessDeniedException",
        "message": "not authorized to perform: kms:ListKeys"
    }]);
    snapshot
}

/// A DisableKeyRotation of the DR database key on 2026-10-20, as LookupEvents returns it.
fn disable_rotation_event() -> Value {
    let key_arn = format!("arn:aws:kms:eu-central-1:{DR_ACCOUNT}:key/{DR_KEY}");
    let record = json!({
        "eventVersion": "1.10",
        "userIdentity": {
            "type": "IAMUser", "principalId": "AIDAEXAMPLEDROPS0001",
            "arn": format!("arn:aws:iam::{DR_ACCOUNT}:user/dr.operator"),
            "accountId": DR_ACCOUNT, "userName": "dr.operator"
        },
        "eventTime": "2026-10-20T10:00:00Z",
        "eventSource": "kms.amazonaws.com",
        "eventName": "DisableKeyRotation",
        "awsRegion": "eu-central-1",
        "sourceIPAddress": "198.51.100.40",
        "userAgent": "aws-cli/2.17.61",
        "requestParameters": {"keyId": DR_KEY},
        "responseElements": null,
        "requestID": "5b0c2d1e-3f4a-5b6c-8d7e-9f0a1b2c3d4e",
        "eventID": ADDED_EVENT_ID,
        "readOnly": false,
        "resources": [{"accountId": DR_ACCOUNT, "type": "AWS::KMS::Key", "ARN": key_arn}],
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": DR_ACCOUNT,
        "eventCategory": "Management"
    });
    json!({
        "EventId": ADDED_EVENT_ID,
        "EventName": "DisableKeyRotation",
        "ReadOnly": "false",
        "EventTime": "2026-10-20T10:00:00Z",
        "EventSource": "kms.amazonaws.com",
        "Username": "dr.operator",
        "Resources": [{"ResourceType": "AWS::KMS::Key", "ResourceName": key_arn}],
        "CloudTrailEvent": record.to_string()
    })
}

/// `snapshot` moved one month on: November 2026, collected on 1 December (its events, all
/// of October, are then before the period).
fn november(mut snapshot: Value) -> Value {
    snapshot["period"] = json!({"start": "2026-11-01T00:00:00Z", "end": "2026-12-01T00:00:00Z"});
    snapshot["collected_at"] = json!("2026-12-01T06:00:00Z");
    for region in snapshot["accounts"][0]["regions"].as_array_mut().unwrap() {
        let cloudtrail = &mut region["cloudtrail"];
        if cloudtrail.is_object() {
            // No change in November; the events were read up to collection.
            cloudtrail["events"] = json!([]);
            cloudtrail["events_after_period"] = json!([]);
            cloudtrail["events_until"] = json!("2026-12-01T06:04:10Z");
        }
    }
    snapshot
}

fn write_evidence(dir: &Path, name: &str, snapshot: &Value) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    fs::write(&path, serde_json::to_vec_pretty(snapshot).unwrap()).unwrap();
    path
}

/// A CSV-only package of `snapshot` (fast to write and verify), rendered at `rendered_at`.
fn package(dir: &Path, name: &str, snapshot: &Value, rendered_at: &str, extra: &[&str]) -> PathBuf {
    let evidence = write_evidence(dir, name, snapshot);
    let out = dir.join(name);
    let output = bin()
        .env(TEST_NOW_VAR, rendered_at)
        .arg("report")
        .arg("--evidence")
        .arg(&evidence)
        .arg("--out")
        .arg(&out)
        .args(["--format", "csv"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{name}: {}",
        stderr(&output)
    );
    out
}

fn run_diff(args: &[&str]) -> std::process::Output {
    bin().arg("diff").args(args).output().unwrap()
}

fn diff_json(from: &Path, to: &Path) -> (Option<i32>, Value) {
    let output = bin()
        .arg("diff")
        .arg(from)
        .arg(to)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let json = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", stderr(&output)));
    (output.status.code(), json)
}

fn strings(value: &Value, field: &str) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[field].as_str().unwrap().to_string())
        .collect()
}

/// The one check an unsigned draft fails in `verify` (an auditor's check wants a seal).
const UNSEALED: &str = "manifest.sig";

const OCTOBER_RENDERED: &str = "2026-11-01T07:00:00Z";
const NOVEMBER_RENDERED: &str = "2026-12-01T07:00:00Z";

#[test]
fn diff_shows_the_seeded_changes_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let base = package(dir.path(), "base", &dr_only(), OCTOBER_RENDERED, &[]);
    let changed = package(dir.path(), "changed", &changed(), OCTOBER_RENDERED, &[]);
    let (code, diff) = diff_json(&base, &changed);
    assert_eq!(code, Some(1), "differences exit 1: {diff:#}");

    // The removed stage: its two stage controls lose it.
    let removed: Vec<(String, String)> = diff["resources_removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["control_id"].as_str().unwrap().to_string(),
                r["resource"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let stage = format!("lims-results-api-dr ({DR_API}) stage dr");
    assert_eq!(
        removed,
        [
            ("apigw-cache-encryption".to_string(), stage.clone()),
            ("apigw-logging".to_string(), stage),
        ],
        "only the stage was removed: {diff:#}"
    );
    assert_eq!(diff["resources_added"], json!([]), "{diff:#}");

    // The key's rotation: a setting change, and its finding PASS → FAIL.
    let settings = &diff["setting_changes"];
    assert!(
        settings
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["table"] == "keys"
                && s["setting"] == "rotation_enabled"
                && s["from"] == "yes"
                && s["to"] == "no"),
        "{settings:#}"
    );
    for setting in settings.as_array().unwrap() {
        assert!(
            setting["resource"].as_str().unwrap().contains(DR_KEY),
            "only the key's settings changed: {setting}"
        );
    }
    let status: Vec<[String; 4]> = diff["status_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let text = |field: &str| s[field].as_str().unwrap().to_string();
            [
                text("control_id"),
                format!("{} {}", text("region"), text("resource")),
                text("from"),
                text("to"),
            ]
        })
        .collect();
    let change = |control: &str, place: &str, from: &str, to: &str| {
        [control, place, from, to].map(str::to_string)
    };
    assert_eq!(
        status,
        [
            // the failed ListKeys: eu-west-1's KMS results become gaps
            change(
                "kms-key-deletion",
                "eu-west-1 (region)",
                "NO_RESOURCES",
                "EVIDENCE_GAP"
            ),
            change(
                "kms-key-exposure",
                "eu-west-1 (region)",
                "NO_RESOURCES",
                "EVIDENCE_GAP"
            ),
            // rotation turned off
            change(
                "kms-key-rotation",
                &format!("eu-central-1 {DR_KEY} (alias/lims-dr-db)"),
                "PASS",
                "FAIL"
            ),
            change(
                "kms-key-rotation",
                "eu-west-1 (region)",
                "NO_RESOURCES",
                "EVIDENCE_GAP"
            ),
        ]
    );
    assert_eq!(settings.as_array().unwrap().len(), 2, "{settings:#}");

    // The added event is the only new weakening change.
    assert_eq!(
        strings(&diff["new_weakening_changes"], "event_id"),
        [ADDED_EVENT_ID]
    );
    // The failed call is the only new gap, and none closed.
    assert_eq!(strings(&diff["new_gaps"], "api"), ["ListKeys"]);
    assert_eq!(diff["new_gaps"][0]["region"], "eu-west-1");
    assert_eq!(diff["closed_gaps"], json!([]));

    // The other direction reverses it: the gap closes, the stage comes back.
    let (code, back) = diff_json(&changed, &base);
    assert_eq!(code, Some(1));
    assert_eq!(back["closed_gaps"], diff["new_gaps"]);
    assert_eq!(
        back["resources_added"].as_array().unwrap().len(),
        removed.len()
    );
    assert_eq!(back["new_weakening_changes"], json!([]));

    // Text and CSV say the same, one line per difference, sorted the same way every time.
    let text = run_diff(&[base.to_str().unwrap(), changed.to_str().unwrap()]);
    assert_eq!(text.status.code(), Some(1));
    let text = stdout(&text);
    assert!(text.contains("PASS → FAIL"), "{text}");
    assert!(text.contains(ADDED_EVENT_ID), "{text}");
    let csv = run_diff(&[
        base.to_str().unwrap(),
        changed.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    let csv = stdout(&csv);
    let differences = [
        "resources_added",
        "resources_removed",
        "status_changes",
        "setting_changes",
        "new_weakening_changes",
        "new_gaps",
        "closed_gaps",
    ]
    .iter()
    .map(|k| diff[k].as_array().unwrap().len())
    .sum::<usize>();
    assert_eq!(csv.lines().count(), differences + 1, "{csv}");
    assert!(csv.starts_with("kind,finding_id,control_id,"), "{csv}");
    let again = run_diff(&[
        base.to_str().unwrap(),
        changed.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert_eq!(stdout(&again), csv, "deterministic");
}

#[test]
fn identical_packages_have_no_differences_and_the_same_finding_ids() {
    let dir = tempfile::tempdir().unwrap();
    let first = package(dir.path(), "first", &dr_only(), OCTOBER_RENDERED, &[]);
    let second = package(
        dir.path(),
        "second",
        &dr_only(),
        "2026-11-02T08:00:00Z",
        &[],
    );
    let output = run_diff(&[first.to_str().unwrap(), second.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).ends_with("No differences.\n"),
        "{}",
        stdout(&output)
    );

    let ids = |package: &Path| strings(&results(package)["findings"], "id");
    let first_ids = ids(&first);
    assert_eq!(first_ids, ids(&second), "two renders, the same ids");
    assert!(
        first_ids
            .iter()
            .all(|id| id.starts_with("F-") && id.len() == 18)
    );
    // findings.csv carries the same ids, first column.
    let csv = read(&first.join("findings.csv"));
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .trim_start_matches('\u{feff}')
            .starts_with("report_id,finding_id,"),
        "{csv}"
    );
    let csv_ids: Vec<&str> = lines.map(|l| l.split(',').nth(1).unwrap()).collect();
    assert_eq!(csv_ids, first_ids);
}

#[test]
fn the_two_readings_of_one_resource_have_different_ids_and_the_recipe_holds() {
    let dir = tempfile::tempdir().unwrap();
    let base = package(dir.path(), "base", &dr_only(), OCTOBER_RENDERED, &[]);
    let findings = results(&base)["findings"].as_array().unwrap().clone();
    let cache: Vec<&Value> = findings
        .iter()
        .filter(|f| f["control_id"] == "apigw-cache-encryption" && f["view"].is_string())
        .collect();
    let resource = &cache[0]["resource"];
    let views: Vec<&&Value> = cache
        .iter()
        .filter(|f| f["resource"] == *resource)
        .collect();
    assert_eq!(views.len(), 2, "{cache:?}");
    assert_ne!(views[0]["id"], views[1]["id"]);
    // docs/controls.md: F- + 16 hex of SHA-256 of the compact JSON array of the subject.
    for finding in &findings {
        let subject = json!([
            finding["control_id"],
            finding["account_id"],
            finding["region"],
            finding["resource"],
            finding["view"].as_str().unwrap_or("")
        ]);
        let digest = gxp_evidence::evidence::sha256_hex(subject.to_string().as_bytes());
        assert_eq!(finding["id"], format!("F-{}", &digest[..16]), "{finding}");
    }
}

#[test]
fn diff_refuses_a_package_that_does_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let base = package(dir.path(), "base", &dr_only(), OCTOBER_RENDERED, &[]);
    let tampered = dir.path().join("tampered");
    copy_dir(&base, &tampered);
    let findings = tampered.join("findings.csv");
    let text = read(&findings).replacen("PASS", "FAIL", 1);
    fs::write(&findings, text).unwrap();
    let output = run_diff(&[base.to_str().unwrap(), tampered.to_str().unwrap()]);
    assert_refused(&output, "does not verify (failed: findings.csv)");
    assert!(stdout(&output).is_empty(), "no partial difference");
    let missing = run_diff(&[
        base.to_str().unwrap(),
        dir.path().join("nope").to_str().unwrap(),
    ]);
    assert_refused(&missing, "nope");
}

#[test]
fn diff_reads_the_latest_revision_of_two_archived_periods() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let system = dr_only()["system_name"].as_str().unwrap().to_string();
    let system_dir = archive.join(gxp_evidence_core::archive::system_dir_name(&system));
    let october = package(dir.path(), "october", &dr_only(), OCTOBER_RENDERED, &[]);
    let november_r1 = package(
        dir.path(),
        "nov1",
        &november(dr_only()),
        NOVEMBER_RENDERED,
        &[],
    );
    let november_r2 = package(
        dir.path(),
        "nov2",
        &november(changed()),
        NOVEMBER_RENDERED,
        &[],
    );
    for (from, period, revision) in [
        (&october, "2026-10", "r1"),
        (&november_r1, "2026-11", "r1"),
        (&november_r2, "2026-11", "r2"),
    ] {
        copy_dir(from, &system_dir.join(period).join(revision));
    }
    let output = run_diff(&[
        "--archive",
        archive.to_str().unwrap(),
        "--system",
        &system,
        "2026-10",
        "2026-11",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        json["to"]["report_id"],
        results(&november_r2)["report_id"],
        "r2 is the latest"
    );
    assert_eq!(strings(&json["new_gaps"], "api"), ["ListKeys"]);

    let output = run_diff(&[
        "--archive",
        archive.to_str().unwrap(),
        "--system",
        &system,
        "2026-10",
        "2026-12",
    ]);
    assert_refused(&output, "2026-12");
}

#[test]
fn report_previous_adds_the_section_and_verify_recomputes_it() {
    let dir = tempfile::tempdir().unwrap();
    let october = package(dir.path(), "october", &dr_only(), OCTOBER_RENDERED, &[]);
    let evidence = write_evidence(dir.path(), "nov-evidence", &november(changed()));
    let november = dir.path().join("november");
    let output = bin()
        .env(TEST_NOW_VAR, NOVEMBER_RENDERED)
        .arg("report")
        .arg("--evidence")
        .arg(&evidence)
        .arg("--out")
        .arg(&november)
        .arg("--previous")
        .arg(&october)
        .args(["--format", "pdf,html,csv"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));

    let summary: Value =
        serde_json::from_str(&read(&november.join("inputs/previous-period.json"))).unwrap();
    assert_eq!(summary["report_id"], results(&october)["report_id"]);
    let manifest = fs::read(october.join("manifest.json")).unwrap();
    assert_eq!(
        summary["manifest_sha256"],
        gxp_evidence::evidence::sha256_hex(&manifest)
    );
    let section = &results(&november)["changes_since_previous"];
    // The previous report is an input of what this one says: the same evidence without the
    // section is another document, with another id.
    let alone = package(
        dir.path(),
        "november-alone",
        &serde_json::from_str(&read(&evidence)).unwrap(),
        NOVEMBER_RENDERED,
        &[],
    );
    let with_previous = results(&november)["report_id"].clone();
    assert_ne!(with_previous, results(&alone)["report_id"]);
    assert_eq!(section["to"]["report_id"], with_previous);
    assert_eq!(section["from"]["period"], "2026-10");
    assert_eq!(section["to"]["period"], "2026-11");
    assert!(!section["status_changes"].as_array().unwrap().is_empty());

    let html = read(&november.join("report.html"));
    assert!(html.contains("Changes since last period"));
    assert!(html.contains(results(&october)["report_id"].as_str().unwrap()));
    let (_, pdf) = pdf_text(&november.join("report.pdf"));
    assert!(
        pdf.contains("Changes since last period"),
        "PDF has the section"
    );

    // verify re-renders the section from the package alone: the October package is gone.
    fs::remove_dir_all(&october).unwrap();
    let (_, out) = verify(&november, &[]);
    assert_eq!(
        failed_subjects(&out),
        [UNSEALED.to_string()].into(),
        "{out}"
    );
    for file in ["report.pdf", "report.html", "results.json"] {
        assert!(
            out.contains(&format!("OK    {file}: identical")),
            "{file}: {out}"
        );
    }

    // sign re-renders the section too, and the sealed package verifies without a failure.
    let key = fixed_key(dir.path(), "alice");
    let output = sign_at(
        &november,
        &key,
        "Alice Author",
        "Validation Engineer",
        "authored",
        "2026-12-02T09:00:00Z",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (code, out) = verify(&november, &[]);
    assert_eq!(code, Some(0), "{out}");
    let (_, pdf) = pdf_text(&november.join("report.pdf"));
    assert!(pdf.contains("Changes since last period"), "kept by sign");

    // An edited summary is caught.
    let path = november.join("inputs/previous-period.json");
    let edited = read(&path).replacen("\"PASS\"", "\"FAIL\"", 1);
    fs::write(&path, edited).unwrap();
    let (code, out) = verify(&november, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        failed_subjects(&out).contains("inputs/previous-period.json"),
        "{out}"
    );
}

#[test]
fn report_previous_refuses_a_later_period_another_system_or_an_invalid_package() {
    let dir = tempfile::tempdir().unwrap();
    let november = package(
        dir.path(),
        "november",
        &november(dr_only()),
        NOVEMBER_RENDERED,
        &[],
    );
    let mut other = dr_only();
    other["system_name"] = json!("Another system");
    let other = package(dir.path(), "other", &other, OCTOBER_RENDERED, &[]);
    let october_evidence = write_evidence(dir.path(), "oct-evidence", &dr_only());
    let tampered = dir.path().join("tampered");
    copy_dir(&november, &tampered);
    fs::write(tampered.join("gaps.csv"), "edited").unwrap();

    for (previous, expected) in [
        (
            &november,
            "does not end before this report's period 2026-10 begins",
        ),
        (&other, "is about the system \"Another system\""),
        (&tampered, "does not verify (failed: gaps.csv)"),
    ] {
        let out = dir.path().join("october");
        let output = bin()
            .env(TEST_NOW_VAR, OCTOBER_RENDERED)
            .arg("report")
            .arg("--evidence")
            .arg(&october_evidence)
            .arg("--out")
            .arg(&out)
            .arg("--previous")
            .arg(previous)
            .args(["--format", "csv"])
            .output()
            .unwrap();
        assert_refused(&output, expected);
        assert!(!out.exists(), "nothing written");
    }
}

#[test]
fn a_package_written_before_finding_ids_still_verifies() {
    // results_format 1: no ids in results.json and findings.csv, no render.results_format in
    // the manifest. Made from a current package by taking the ids out again.
    let dir = tempfile::tempdir().unwrap();
    let package = package(dir.path(), "old", &dr_only(), OCTOBER_RENDERED, &[]);
    let results_text = read(&package.join("results.json"));
    assert!(results_text.contains("\"results_format\": 2,"));
    let results_bytes: Vec<u8> = results_text
        .replacen("\"results_format\": 2,", "\"results_format\": 1,", 1)
        .split_inclusive('\n')
        .filter(|line| !line.trim_start().starts_with("\"id\": \"F-"))
        .collect::<String>()
        .into_bytes();
    let csv = read(&package.join("findings.csv"));
    let old_csv: String = csv
        .split_inclusive("\r\n")
        .map(|line| {
            let bom = line.starts_with('\u{feff}');
            let rest = line.trim_start_matches('\u{feff}');
            // report_id, then finding_id: drop the second column.
            let (report_id, after) = rest.split_once(',').unwrap();
            let (_, after) = after.split_once(',').unwrap();
            format!("{}{report_id},{after}", if bom { "\u{feff}" } else { "" })
        })
        .collect();
    let mut manifest: Value = serde_json::from_str(&read(&package.join("manifest.json"))).unwrap();
    manifest["render"]
        .as_object_mut()
        .unwrap()
        .remove("results_format");
    for (name, bytes) in [
        ("results.json", results_bytes),
        ("findings.csv", old_csv.into_bytes()),
    ] {
        fs::write(package.join(name), &bytes).unwrap();
        let entry = manifest["files"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|e| e["path"] == name)
            .unwrap();
        entry["sha256"] = json!(gxp_evidence::evidence::sha256_hex(&bytes));
        entry["bytes"] = json!(bytes.len());
    }
    fs::write(
        package.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    let (_, out) = verify(&package, &[]);
    assert_eq!(
        failed_subjects(&out),
        [UNSEALED.to_string()].into(),
        "{out}"
    );
    assert!(out.contains("OK    results.json: identical"), "{out}");
    assert!(out.contains("OK    findings.csv: identical"), "{out}");
}

#[test]
fn diff_refuses_two_systems_and_the_later_package_first() {
    let dir = tempfile::tempdir().unwrap();
    let october = package(dir.path(), "october", &dr_only(), OCTOBER_RENDERED, &[]);
    let november = package(
        dir.path(),
        "november",
        &november(dr_only()),
        NOVEMBER_RENDERED,
        &[],
    );
    let mut other = dr_only();
    other["system_name"] = json!("Another system");
    let other = package(dir.path(), "other", &other, OCTOBER_RENDERED, &[]);
    let path = |p: &Path| p.to_str().unwrap().to_string();
    assert_refused(
        &run_diff(&[&path(&october), &path(&other)]),
        "a difference between two systems is not drift",
    );
    assert_refused(
        &run_diff(&[&path(&november), &path(&october)]),
        "give the earlier package first",
    );
    let forward = run_diff(&[&path(&october), &path(&november)]);
    assert!(
        matches!(forward.status.code(), Some(0 | 1)),
        "{}",
        stderr(&forward)
    );
}
