//! End-to-end tests of the command line: the demo, the report set, exit codes, refusal to
//! overwrite, bad input and hostile strings.

mod common;

use std::fs;

use common::*;

const CONTROL_IDS: [&str; 17] = [
    "apigw-cache-encryption",
    "apigw-logging",
    "kms-key-rotation",
    "kms-key-deletion",
    "cloudtrail-multi-region",
    "cloudtrail-encryption",
    "cloudtrail-log-validation",
    "cloudtrail-continuity",
    "cloudtrail-s3-data-events",
    "change-control",
    "kms-key-exposure",
    "apigw-v2-access-logging",
    "apigw-v2-route-authorization",
    "elasticache-encryption-at-rest",
    "cloudtrail-bucket-protection",
    "cloudtrail-cloudwatch-logs",
    "cloudtrail-log-integrity",
];

const REPORT_FILES: [&str; 18] = [
    "accounts.csv",
    "change-record-reconciliation.csv",
    "changes.csv",
    "evidence.json",
    "findings.csv",
    "gaps.csv",
    "inputs/change-records.csv",
    "keys.csv",
    "manifest.json",
    "methods.csv",
    "replication_groups.csv",
    "report.html",
    "report.pdf",
    "results.json",
    "signoffs.csv",
    "signoffs.json",
    "trail_buckets.csv",
    "trails.csv",
];

#[test]
fn demo_writes_the_complete_report_set_from_any_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let output = bin()
        .current_dir(dir.path())
        .args(["demo", "--out", "demo"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let summary = stderr(&output);
    assert!(summary.starts_with("NON_COMPLIANT: "), "{summary}");
    assert!(summary.contains("written to demo"), "{summary}");
    for file in REPORT_FILES {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    // evidence.json is the embedded sample, byte for byte.
    assert_eq!(
        fs::read(out.join("evidence.json")).unwrap(),
        fs::read(demo_evidence()).unwrap()
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&read(&out.join("manifest.json"))).unwrap();
    let listed: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed.len(),
        17,
        "every file except the manifest itself: {listed:?}"
    );
    for entry in manifest["files"].as_array().unwrap() {
        let bytes = fs::read(out.join(entry["path"].as_str().unwrap())).unwrap();
        assert_eq!(
            entry["sha256"].as_str().unwrap(),
            gxp_evidence::evidence::sha256_hex(&bytes)
        );
    }
}

#[test]
fn demo_results_cover_every_scenario_of_the_sample() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let output = report(&demo_evidence(), &out, &["--format", "csv"]);
    assert_eq!(output.status.code(), Some(1));
    let results = results(&out);
    assert_eq!(results["verdict"], "NON_COMPLIANT");
    let findings = results["findings"].as_array().unwrap();
    let find = |control: &str, resource_part: &str, view: Option<&str>| -> &serde_json::Value {
        findings
            .iter()
            .find(|f| {
                f["control_id"] == control
                    && f["resource"].as_str().unwrap().contains(resource_part)
                    && view.is_none_or(|v| f["view"] == v)
            })
            .unwrap_or_else(|| panic!("{control} {resource_part} {view:?}"))
    };
    for id in CONTROL_IDS {
        assert!(
            findings.iter().any(|f| f["control_id"] == id),
            "{id} has no result"
        );
    }
    let lenient = find(
        "apigw-cache-encryption",
        "lims-results-api (k7x2m9p4qa) stage prod",
        Some("security_hub"),
    );
    assert_eq!(lenient["status"], "FAIL");
    assert!(
        lenient["reason"]
            .as_str()
            .unwrap()
            .contains("GET /samples/{sampleId} (~1samples~1{sampleId}/GET)")
    );
    assert_eq!(
        find("apigw-cache-encryption", "stage uat", Some("security_hub"))["status"],
        "PASS"
    );
    assert_eq!(
        find("apigw-cache-encryption", "stage uat", Some("aws_config"))["status"],
        "FAIL"
    );
    // Encrypted when collected, but not throughout October: the period rule replays the
    // stage's UpdateStage events (one after the period) and names each interval.
    let instrument_gateway = find(
        "apigw-cache-encryption",
        "b3n8v1c6rt) stage prod",
        Some("security_hub"),
    );
    assert_eq!(instrument_gateway["status"], "FAIL");
    let reason = instrument_gateway["reason"].as_str().unwrap();
    assert!(
        reason.contains("from 2026-10-06 16:48:19 UTC to 2026-10-07 10:31:00 UTC")
            && reason.contains(
                "from 2026-10-14 09:12:08 UTC to 2026-11-01 00:00:00 UTC (since UpdateStage "
            ),
        "{reason}"
    );
    assert!(
        find(
            "apigw-cache-encryption",
            "q9w4e7r2ty) stage prod",
            Some("aws_config")
        )["reason"]
            .as_str()
            .unwrap()
            .contains("caching is not in effect")
    );
    assert_eq!(find("apigw-logging", "stage dev", None)["status"], "FAIL");
    // The later event that restored the encryption is replayed, counted, and not listed.
    assert_eq!(results["change_totals"]["replayed_after_period"], 1);
    // Deleted on 14 October, before collection: judged on what the events say until then,
    // which is not enough for any reading — never left out, never a PASS or a default FAIL.
    for view in [Some("security_hub"), Some("aws_config")] {
        assert_eq!(
            find("apigw-cache-encryption", "stage perf-test", view)["status"],
            "EVIDENCE_GAP"
        );
    }
    assert_eq!(
        find("apigw-logging", "stage perf-test", None)["status"],
        "EVIDENCE_GAP"
    );
    let key = |alias: &str| find("kms-key-rotation", alias, None);
    assert_eq!(key("alias/lims-db")["status"], "PASS");
    assert_eq!(key("alias/lims-backup")["status"], "FAIL");
    // Rotation (re)configured in October: its setting before is not recorded (period rule).
    assert_eq!(key("alias/lims-audit-archive")["status"], "EVIDENCE_GAP");
    assert_eq!(key("alias/lims-legacy-export")["status"], "FAIL");
    for na in [
        "alias/lims-batch-signing",
        "alias/lims-token-mac",
        "alias/aws/s3",
    ] {
        assert_eq!(key(na)["status"], "NOT_APPLICABLE", "{na}");
    }
    // Imported key material rotates on demand only: judged by its age (at most the key's).
    let byok = key("alias/lims-vendor-byok");
    assert_eq!(byok["status"], "FAIL");
    assert!(
        byok["reason"]
            .as_str()
            .unwrap()
            .contains("key material from 2025-02-03")
    );
    // Security Hub KMS.3: scheduled for deletion in October, with the date and the event.
    let deletion = |alias: &str| find("kms-key-deletion", alias, None);
    let migration = deletion("alias/lims-migration");
    assert_eq!(migration["status"], "FAIL");
    let reason = migration["reason"].as_str().unwrap();
    assert!(
        reason.contains("scheduled for deletion on 2026-11-21 15:30:00 UTC")
            && reason.contains("since ScheduleKeyDeletion"),
        "{reason}"
    );
    assert_eq!(deletion("alias/lims-db")["status"], "PASS");
    // Scheduled for deletion and disabled in October: not applicable now, but whether they
    // rotated while still enabled earlier in the month is not recorded.
    for unknown_before in ["alias/lims-migration", "alias/lims-etl-staging-old"] {
        assert_eq!(
            key(unknown_before)["status"],
            "EVIDENCE_GAP",
            "{unknown_before}"
        );
    }
    assert!(findings.iter().any(|f| f["status"] == "EVIDENCE_GAP"
        && f["control_id"] == "kms-key-rotation"
        && f["region"] == "eu-west-1"
        && f["resource"] == "(region)"));
    assert_eq!(
        find("cloudtrail-log-validation", "lims-app-debug", None)["status"],
        "FAIL"
    );
    // CloudTrail.1 at every moment: while lims-org-audit was stopped, the account's only other
    // trail is single-region (period rule).
    let multi_region = findings
        .iter()
        .find(|f| f["control_id"] == "cloudtrail-multi-region" && f["account_id"] == "111122223333")
        .unwrap();
    assert_eq!(multi_region["status"], "FAIL");
    assert!(
        multi_region["reason"].as_str().unwrap().contains(
            "from 2026-10-17 22:14:05 UTC to 2026-10-18 06:02:41 UTC: lims-org-audit: not logging"
        ),
        "{multi_region}"
    );
    assert_eq!(
        find("cloudtrail-multi-region", "lims-dr-audit", None)["status"],
        "PASS"
    );
    assert!(
        find("cloudtrail-continuity", "lims-org-audit", None)["reason"]
            .as_str()
            .unwrap()
            .contains("from 2026-10-17 22:14:05 UTC to 2026-10-18 06:02:41 UTC")
    );
    let keys = results["keys"].as_array().unwrap();
    let audit = keys
        .iter()
        .find(|k| k["aliases"][0] == "alias/lims-audit-archive")
        .unwrap();
    assert_eq!(
        (
            audit["rotation_period_days"].as_u64(),
            audit["on_demand_rotations_in_period"].as_u64()
        ),
        (Some(90), Some(1))
    );

    let changes = results["changes"].as_array().unwrap();
    assert!(changes.len() >= 40);
    let times: Vec<&str> = changes
        .iter()
        .map(|c| c["event_time"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "change register is sorted by time"
    );
    let encryption_off = changes
        .iter()
        .find(|c| {
            c["request_summary"] == "replace /*/*/caching/dataEncrypted=false"
                && c["error_code"] == ""
        })
        .unwrap();
    assert_eq!(encryption_off["classification"], "WEAKENING");
    let failed = changes
        .iter()
        .filter(|c| {
            c["error_code"]
                .as_str()
                .unwrap()
                .starts_with("AccessDenied")
        })
        .count();
    assert!(failed >= 3, "several AccessDenied calls");
    for actor_type in [
        "IAMUser",
        "AssumedRole",
        "AWSService",
        "Root",
        "AWS service event",
    ] {
        assert!(
            changes.iter().any(|c| c["actor_type"] == actor_type),
            "{actor_type}"
        );
    }
}

#[test]
fn same_snapshot_gives_byte_identical_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let records = demo_evidence().with_file_name("demo-change-records.csv");
    let records = ["--change-records", records.to_str().unwrap()];
    assert_eq!(
        report(&demo_evidence(), &a, &records).status.code(),
        Some(1)
    );
    let output = bin()
        .args(["demo", "--out"])
        .arg(&b)
        .env(TEST_NOW_VAR, RENDERED_AT)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    for file in REPORT_FILES {
        assert!(
            fs::read(a.join(file)).unwrap() == fs::read(b.join(file)).unwrap(),
            "{file} differs between runs"
        );
    }
}

#[test]
fn pdf_reads_as_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let output = report(&demo_evidence(), &out, &["--format", "pdf"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let (pages, text) = pdf_text(&out.join("report.pdf"));
    assert!((15..=55).contains(&pages), "{pages} pages");
    for id in CONTROL_IDS {
        assert!(text.contains(id), "{id} missing from the PDF");
    }
    for expected in [
        "Verdict: NON_COMPLIANT",
        "DRAFT — not signed",
        &format!("Page 1 of {pages}"),
        &format!("Page {pages} of {pages}"),
        "Document control",
        "Change register",
        "Evidence gaps",
        "Sign-off",
        "Qualitätskontrolle Zürich & Łódź",
        "~1samples~1{sampleId}",
        "Security Hub",
        "(lenient)",
        "(strict)",
        "kms:ListKeys",
    ] {
        assert!(text.contains(expected), "`{expected}` missing from the PDF");
    }
    let results = results(&out);
    let report_id = results["report_id"].as_str().unwrap();
    assert_eq!(
        text.matches(&format!("Report {report_id}")).count(),
        pages,
        "header with the report id on every page"
    );
    // Every change of results.json is a row of the register section itself (not merely a
    // time that also appears in a finding's reason).
    let changes = results["changes"].as_array().unwrap();
    assert_register_lists(&text, changes.iter());
}

/// The rows of the PDF's change register: the text from the register's heading to the
/// next section, cut where a row starts (its date line, then `HH:MM:SS`). Each row is its
/// cells joined without separators or spaces, so values wrapped inside a cell read whole
/// again however the cell wraps.
fn register_rows(pdf_text: &str) -> Vec<String> {
    let lines: Vec<&str> = pdf_text.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "Change register")
        .expect("the register's heading");
    let end = start
        + lines[start..]
            .iter()
            .position(|l| l.starts_with("What was searched"))
            .expect("the section after the register");
    let is_date = |l: &str| {
        l.len() == 10 && l.as_bytes()[4] == b'-' && l.as_bytes()[7] == b'-' && l.starts_with("20")
    };
    let mut rows: Vec<Vec<&str>> = Vec::new();
    for (i, line) in lines[start..end].iter().enumerate() {
        let next = lines.get(start + i + 1).copied().unwrap_or("");
        let is_clock = next.len() >= 8 && next.as_bytes()[2] == b':' && next.as_bytes()[5] == b':';
        if is_date(line) && is_clock {
            rows.push(Vec::new());
        }
        if let Some(row) = rows.last_mut() {
            row.push(line);
        }
    }
    rows.into_iter()
        .map(|cells| cells.concat().replace(' ', ""))
        .collect()
}

/// Asserts that each change has its own row in the PDF register: time, account, event,
/// class and outcome in one row, as many rows as changes with those values.
fn assert_register_lists<'a>(pdf_text: &str, changes: impl Iterator<Item = &'a serde_json::Value>) {
    let rows = register_rows(pdf_text);
    let mut wanted: std::collections::BTreeMap<[String; 5], usize> = Default::default();
    for change in changes {
        let when = change["event_time"]
            .as_str()
            .unwrap()
            .replace('T', "")
            .replace('Z', "UTC");
        let (class, outcome) = if change["error_code"] == "" {
            (change["classification"].as_str().unwrap(), "applied")
        } else {
            // A failed call changed nothing: the register says so instead of its class.
            ("FAILED CALL", "failed")
        };
        let key = [
            when,
            change["account_id"].as_str().unwrap().to_string(),
            change["event_name"].as_str().unwrap().to_string(),
            class.to_string(),
            outcome.to_string(),
        ];
        *wanted.entry(key).or_default() += 1;
    }
    assert!(!wanted.is_empty());
    for (key, count) in wanted {
        let found = rows
            .iter()
            .filter(|row| {
                row.starts_with(&key[0])
                    && key[1..].iter().all(|k| row.contains(&k.replace(' ', "")))
            })
            .count();
        assert!(
            found >= count,
            "the PDF register has {found} row(s) for {key:?}, results.json {count}"
        );
    }
}

#[test]
fn pdf_summarises_a_register_longer_than_the_limit_but_keeps_weakening_changes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let output = report(
        &demo_evidence(),
        &out,
        &["--pdf-max-changes", "10", "--format", "pdf"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let (_, text) = pdf_text(&out.join("report.pdf"));
    assert!(text.contains("more than this PDF lists in full (limit 10)"));
    assert!(text.contains("The full register is in changes.csv"));
    let results = results(&out);
    let weakening: Vec<&serde_json::Value> = results["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["classification"] == "WEAKENING")
        .collect();
    assert!(
        weakening.len() > 10,
        "more weakening changes than the limit"
    );
    assert_register_lists(&text, weakening.into_iter());
    assert!(
        register_rows(&text).len() < results["changes"].as_array().unwrap().len(),
        "the other changes are summarised, not listed"
    );
    assert!(
        text.contains("CreateDeployment"),
        "summary names the other event names"
    );
    assert!(
        !out.join("report.html").exists() && !out.join("findings.csv").exists(),
        "only the PDF was asked for"
    );
    assert!(out.join("results.json").is_file());
}

#[test]
fn snapshot_without_resources_reports_no_resources_rows() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let output = report(&fixture("no-resources"), &out, &["--format", "pdf"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "no trail at all fails CloudTrail.1: {}",
        stderr(&output)
    );
    let results = results(&out);
    let status_of = |id: &str| -> Vec<String> {
        results["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["control_id"] == id)
            .map(|f| f["status"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        status_of("apigw-cache-encryption"),
        ["NO_RESOURCES", "NO_RESOURCES"]
    );
    for id in [
        "apigw-logging",
        "kms-key-rotation",
        "kms-key-deletion",
        "cloudtrail-encryption",
        "cloudtrail-log-validation",
        "cloudtrail-continuity",
        "cloudtrail-s3-data-events",
        "change-control",
        "elasticache-encryption-at-rest",
    ] {
        assert_eq!(status_of(id), ["NO_RESOURCES"], "{id}");
    }
    assert_eq!(status_of("cloudtrail-multi-region"), ["FAIL"]);
    let (_, text) = pdf_text(&out.join("report.pdf"));
    assert!(text.contains("NO_RESOURCES"));
}

#[test]
fn existing_output_directory_is_never_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    // An unsigned package (the one kind of directory --force replaces) with a file of mine.
    assert_eq!(
        report(&demo_evidence(), &out, &["--format", "csv"])
            .status
            .code(),
        Some(1)
    );
    fs::write(out.join("keep.txt"), "mine").unwrap();
    let output = report(&demo_evidence(), &out, &[]);
    assert_refused(&output, "already exists (use --force to replace it)");
    assert_eq!(read(&out.join("keep.txt")), "mine");
    let output = report(&demo_evidence(), &out, &["--force"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(!out.join("keep.txt").exists() && out.join("report.pdf").is_file());
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no staging directory left behind"
    );
}

fn assert_rejected(evidence_text: &str, expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("bad.json");
    fs::write(&evidence, evidence_text).unwrap();
    let out = dir.path().join("r");
    let output = report(&evidence, &out, &[]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    for part in expected {
        assert!(message.contains(part), "`{part}` not in: {message}");
    }
    assert!(!out.exists(), "nothing written for bad input");
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no partial output next to it either"
    );
}

#[test]
fn truncated_json_names_file_line_and_column() {
    let demo = read(&demo_evidence());
    let cut: String = demo.chars().take(5000).collect();
    let line = cut.lines().count();
    assert_rejected(
        &cut,
        &[
            "bad.json:",
            &format!(":{line}:"),
            "not valid JSON: EOF while parsing",
        ],
    );
}

#[test]
fn wrong_schema_version_is_refused_clearly() {
    let demo = read(&demo_evidence()).replacen("\"schema_version\": 1", "\"schema_version\": 7", 1);
    assert_rejected(
        &demo,
        &[
            "bad.json:2:21: schema_version: unsupported schema_version 7",
            "reads schema_version 1",
        ],
    );
}

#[test]
fn wrong_types_are_all_reported_with_their_paths() {
    let demo = read(&demo_evidence())
        .replacen(
            "\"cacheClusterEnabled\": true",
            "\"cacheClusterEnabled\": \"yes\"",
            1,
        )
        .replacen(
            "\"KeyRotationEnabled\": false",
            "\"KeyRotationEnabled\": 0",
            1,
        );
    assert_rejected(
        &demo,
        &[
            "2 problems",
            "accounts[0].regions[0].apigateway.rest_apis[0].stages[0].cacheClusterEnabled: invalid type: string \"yes\", expected a boolean",
            "accounts[0].regions[0].kms.keys[1].rotation_status.KeyRotationEnabled: invalid type: integer `0`, expected a boolean",
        ],
    );
}

#[test]
fn missing_evidence_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = report(&dir.path().join("nope.json"), &dir.path().join("r"), &[]);
    assert_refused(&output, "cannot read evidence file");
    assert!(stderr(&output).contains("nope.json"));
}

#[test]
fn hostile_strings_are_escaped_or_neutralised_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let output = report(&fixture("hostile"), &out, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));

    let html = read(&out.join("report.html"));
    assert!(!html.contains("<script>alert"), "raw script tag in HTML");
    assert!(!html.contains("<img src=x"), "raw img tag in HTML");
    assert!(!html.contains("<b>ä"), "raw markup from the system name");
    // Long words carry `<wbr>` break points (after `/`, `:`, …) for printing.
    assert!(
        html.replace("<wbr>", "")
            .contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
    );
    assert!(!html.contains('\u{202E}'), "bidi override reaches the HTML");
    assert!(html.contains("&lt;U+202E&gt;"));

    for file in [
        "findings.csv",
        "methods.csv",
        "keys.csv",
        "changes.csv",
        "gaps.csv",
        "trails.csv",
        "replication_groups.csv",
    ] {
        let text = read(&out.join(file));
        assert!(!text.contains('\u{202E}'), "{file}");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for record in reader.records() {
            for cell in record.unwrap().iter() {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "formula cell `{cell}` in {file}"
                );
            }
        }
    }
    assert!(read(&out.join("methods.csv")).contains("'=HYPERLINK("));
    assert!(read(&out.join("keys.csv")).contains("'@SUM(1+1)"));
    assert!(read(&out.join("changes.csv")).contains("'+cmd|"));

    let (pages, text) = pdf_text(&out.join("report.pdf"));
    assert!(
        text.contains("ä ß é ł"),
        "non-ASCII system name renders in the PDF"
    );
    assert!(text.contains("<U+202E>"));
    assert!(!text.contains('\u{202E}'));
    assert!(
        pages > 10,
        "the 10 kB path wraps over pages instead of being cut: {pages}"
    );
    let a_run: usize = text.matches('A').count();
    assert!(a_run >= 10240, "the whole 10 kB path is in the PDF");
}

#[test]
fn controls_lists_the_catalog_as_table_and_json() {
    let output = bin().arg("controls").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let table = String::from_utf8(output.stdout).unwrap();
    for id in CONTROL_IDS {
        assert!(table.contains(id));
    }
    assert!(table.contains("Security Hub APIGateway.5"));
    let output = bin()
        .args(["controls", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let catalog: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(catalog.as_array().unwrap().len(), CONTROL_IDS.len());
    assert!(
        catalog[0]["remediation"]
            .as_str()
            .unwrap()
            .contains("aws apigateway update-stage")
    );
}

#[test]
fn templates_can_be_overridden_from_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("t");
    fs::create_dir(&templates).unwrap();
    fs::write(
        templates.join("report.html"),
        "<p>Custom {{ report.report_id }} {{ report.system_name | visible }}</p>",
    )
    .unwrap();
    let out = dir.path().join("r");
    let output = report(
        &fixture("hostile"),
        &out,
        &["--templates", templates.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let html = read(&out.join("report.html"));
    assert!(html.starts_with("<p>Custom GXP-2026-10-"));
    assert!(html.contains("&lt;b&gt;"), "overrides are autoescaped too");

    fs::write(templates.join("report.html"), "{% for x in %}").unwrap();
    let out = dir.path().join("r2");
    let output = report(
        &fixture("hostile"),
        &out,
        &["--templates", templates.to_str().unwrap()],
    );
    assert_refused(&output, "HTML template error: report.html");
    assert!(!out.exists());
}

#[test]
fn usage_errors_exit_2() {
    let output = bin()
        .args([
            "report",
            "--evidence",
            "x.json",
            "--out",
            "o",
            "--format",
            "docx",
        ])
        .output()
        .unwrap();
    assert_refused(&output, "unknown format `docx`");
    let output = bin().arg("--version").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("gxp-evidence 0.1.0"));
}

#[test]
fn a_compliant_snapshot_exits_0() {
    // The sample's disaster-recovery account on its own is compliant.
    let demo = common::demo_account_alone("444455556666");
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("dr.json");
    fs::write(&evidence, serde_json::to_vec_pretty(&demo).unwrap()).unwrap();
    let output = report(&evidence, &dir.path().join("r"), &["--format", "pdf"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).starts_with("COMPLIANT: "));
    let (_, text) = pdf_text(&dir.path().join("r/report.pdf"));
    assert!(text.contains("Verdict: COMPLIANT"));
}

#[test]
fn html_register_is_bounded_like_the_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let output = report(
        &demo_evidence(),
        &out,
        &["--pdf-max-changes", "10", "--format", "html"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let html = read(&out.join("report.html"));
    assert!(html.contains("more than this report lists in full (limit 10)"));
    assert!(html.contains("Other changes, summarised (full list in changes.csv)"));
    assert_eq!(
        results(&out)["changes"].as_array().unwrap().len(),
        46,
        "results.json keeps every change"
    );
}

/// The demo's disaster-recovery account on its own (compliant), with `gaps` as its
/// recorded evidence gaps.
fn dr_only(dir: &std::path::Path, gaps: serde_json::Value) -> std::path::PathBuf {
    let mut demo = common::demo_account_alone("444455556666");
    demo["gaps"] = gaps;
    let evidence = dir.join("dr.json");
    fs::write(&evidence, serde_json::to_vec_pretty(&demo).unwrap()).unwrap();
    evidence
}

#[test]
fn an_incomplete_report_says_so_in_every_format_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = dr_only(
        dir.path(),
        serde_json::json!([{"account_id": "444455556666", "region": "eu-west-1",
            "service": "kms", "api": "ListKeys", "error_code": "AccessDeniedException",
            "message": "User is not authorized to perform kms:ListKeys"}]),
    );
    let out = dir.path().join("r");
    let output = report(&evidence, &out, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with("INCOMPLETE: "),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains(", 0 FAIL,"), "{}", stderr(&output));
    assert_eq!(results(&out)["verdict"], "INCOMPLETE");
    let pages = pdf_pages(&out.join("report.pdf"));
    assert!(pages[0].contains("Verdict: INCOMPLETE"), "PDF cover");
    let text = pages.concat();
    assert_eq!(
        text.matches("Verdict: ").count(),
        text.matches("Verdict: INCOMPLETE").count(),
        "every verdict line of the PDF says INCOMPLETE"
    );
    assert!(text.contains("EVIDENCE_GAP") && text.contains("AccessDeniedExceptio"));
    let html = read(&out.join("report.html"));
    assert!(
        html.contains("<span class=\"verdict verdict-INCOMPLETE\">INCOMPLETE</span>"),
        "HTML verdict"
    );
    assert_eq!(html.matches("class=\"verdict ").count(), 1, "one verdict");
    let findings = read(&out.join("findings.csv"));
    assert!(findings.contains("kms-key-rotation") && findings.contains("EVIDENCE_GAP"));
    assert!(read(&out.join("gaps.csv")).contains("ListKeys"));
}

#[test]
fn keygen_and_controls_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("taken.key");
    fs::write(&existing, "mine").unwrap();
    let output = bin()
        .arg("keygen")
        .arg("--out")
        .arg(&existing)
        .output()
        .unwrap();
    assert_refused(&output, "never overwrites a key");
    assert_eq!(read(&existing), "mine");
    // The public key's name is taken: the private key is not written either.
    let half = dir.path().join("half.key");
    fs::write(dir.path().join("half.key.pub"), "mine").unwrap();
    let output = bin()
        .arg("keygen")
        .arg("--out")
        .arg(&half)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(!half.exists(), "no private key without its public key");
    let output = bin()
        .arg("keygen")
        .arg("--out")
        .arg(existing.join("k.key"))
        .args(["--passphrase-env", PASSPHRASE_VAR])
        .env(PASSPHRASE_VAR, TEST_PASSPHRASE)
        .output()
        .unwrap();
    // Missing folders are created (issue 16), but not below a file.
    assert_refused(&output, "taken.key is not a folder");

    let output = bin()
        .args(["controls", "--format", "xml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let output = bin().args(["controls", "--frobnicate"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn force_with_bad_evidence_leaves_the_old_report_intact() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    assert_eq!(
        report(&demo_evidence(), &out, &["--format", "csv"])
            .status
            .code(),
        Some(1)
    );
    let before: Vec<(String, Vec<u8>)> = files_under(&out)
        .into_iter()
        .map(|f| (f.clone(), fs::read(out.join(&f)).unwrap()))
        .collect();
    let bad = dir.path().join("bad.json");
    fs::write(&bad, "{\"schema_version\": 1,").unwrap();
    let output = report(&bad, &out, &["--force", "--format", "csv"]);
    assert_refused(&output, "bad.json:1:");
    let after: Vec<(String, Vec<u8>)> = files_under(&out)
        .into_iter()
        .map(|f| (f.clone(), fs::read(out.join(&f)).unwrap()))
        .collect();
    assert!(before == after, "the previous report is untouched");
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "no staging directory left: {names:?}");
}

#[test]
fn reports_do_not_depend_on_time_zone_or_locale() {
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for (name, tz, locale) in [
        ("utc", "UTC", "C"),
        ("kiritimati", "Pacific/Kiritimati", "de_DE.UTF-8"),
        ("honolulu", "Pacific/Honolulu", "tr_TR.UTF-8"),
    ] {
        let out = dir.path().join(name);
        let output = bin()
            .env("TZ", tz)
            .env("LC_ALL", locale)
            .env("LANG", locale)
            .env(TEST_NOW_VAR, RENDERED_AT)
            .arg("demo")
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        outputs.push(out);
    }
    let files = files_under(&outputs[0]);
    assert_eq!(files.len(), REPORT_FILES.len());
    for other in &outputs[1..] {
        assert_eq!(files_under(other), files);
        for file in &files {
            assert!(
                fs::read(outputs[0].join(file)).unwrap() == fs::read(other.join(file)).unwrap(),
                "{file} differs under {}",
                other.display()
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn output_into_a_closed_pipe_ends_the_process_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let mut child = common::bin_process()
        .args(["controls", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    // The reader goes away before the first line is printed (`… | head -0`).
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        output.status.signal(),
        Some(13),
        "ended by SIGPIPE: {stderr}"
    );
}
