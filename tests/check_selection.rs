//! `--checks` / `--exclude-checks` (and the run config's `report.checks` /
//! `report.exclude_checks`): a report of some controls only. Every format names the controls
//! it did not evaluate and says the verdict covers the evaluated ones; the selection is sealed
//! in the manifest, so `sign` and `verify` keep it and the report id tells the documents apart;
//! bad selections are refused before anything is written; `diff` and `--previous` refuse to
//! compare reports of different controls.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use gxp_evidence::controls::catalog::CATALOG;
use serde_json::Value;

/// Every control id, as `gxp-evidence controls --format json` lists them.
fn catalog() -> Vec<String> {
    let output = bin()
        .args(["controls", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let controls: Value = serde_json::from_slice(&output.stdout).unwrap();
    controls
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

fn controls_of(results: &Value) -> BTreeSet<String> {
    results["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["control_id"].as_str().unwrap().to_string())
        .collect()
}

/// The directory holds nothing: a refused command left no package and no staging directory.
fn assert_nothing_written(dir: &Path) {
    let left: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

const SELECTED: [&str; 2] = ["apigw-logging", "kms-key-rotation"];

#[test]
fn a_selected_report_names_every_control_it_did_not_evaluate_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("selected");
    let output = report(
        &demo_evidence(),
        &out,
        &["--checks", "kms-key-rotation, apigw-logging"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let summary = stderr(&output);
    assert!(
        summary.contains(&format!(
            "(2 of {} controls evaluated, at the requester's choice; the verdict covers only them)",
            CATALOG.len()
        )),
        "{summary}"
    );
    let not_evaluated: Vec<String> = catalog()
        .into_iter()
        .filter(|id| !SELECTED.contains(&id.as_str()))
        .collect();
    assert_eq!(not_evaluated.len(), CATALOG.len() - SELECTED.len());

    // results.json: only the selected controls' results, the rest named with the reason.
    let results = results(&out);
    let selected: BTreeSet<String> = SELECTED.iter().map(|s| s.to_string()).collect();
    assert_eq!(controls_of(&results), selected);
    let listed: Vec<&str> = results["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, SELECTED);
    let selection = &results["document"]["control_selection"];
    let named: Vec<&str> = selection["not_evaluated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            assert_eq!(n["reason"], "not_in_checks");
            n["control_id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(named, not_evaluated);
    let verdict_text = results["verdict_text"].as_str().unwrap();
    assert!(
        verdict_text.contains(&format!(
            "This verdict covers only the 2 control(s) evaluated; {} control(s) of the catalog were NOT evaluated, at the requester's choice",
            CATALOG.len() - 2
        )),
        "{verdict_text}"
    );
    let methodology = results["methodology"]["reading_text"].as_str().unwrap();
    for id in &not_evaluated {
        assert!(
            methodology.contains(&format!("{id} (not selected)")),
            "{methodology}"
        );
    }

    // The scope lists them first among what the report does not cover.
    let scope: Vec<&str> = results["scope"]["not_covered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["what"].as_str().unwrap())
        .collect();
    for (what, id) in scope.iter().zip(&not_evaluated) {
        assert!(what.starts_with(&format!("Control {id}: ")), "{what}");
    }
    assert_eq!(scope.len(), not_evaluated.len() + 8, "{scope:?}");

    // CSV: one row per control not evaluated.
    let csv = read(&out.join("controls-not-evaluated.csv"));
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), not_evaluated.len(), "{csv}");
    for (row, id) in rows.iter().zip(&not_evaluated) {
        assert!(
            row.contains(&format!(",{id},")) && row.contains(",no,not_in_checks,"),
            "{row}"
        );
    }
    let findings = read(&out.join("findings.csv"));
    for id in &not_evaluated {
        assert!(
            !findings.contains(&format!(",{id},")),
            "{id} in findings.csv"
        );
    }

    // HTML: beside the verdict, in the document control and in the methodology.
    let html = read(&out.join("report.html"));
    assert!(html.contains("This verdict covers only the 2 control(s) evaluated"));
    assert!(
        html.contains("Controls NOT evaluated (the requester&#x27;s choice)")
            || html.contains("Controls NOT evaluated (the requester's choice)"),
        "document control"
    );
    assert_eq!(
        html.matches("Control selection: the requester chose")
            .count(),
        2
    );
    for id in &not_evaluated {
        assert!(html.contains(&format!("{id} (not selected)")), "{id}");
        assert!(
            html.contains(&format!("<td>Control {id}: ")),
            "{id} in the scope"
        );
        assert!(
            !html.contains(&format!("id=\"control-{id}\"")),
            "{id} has a section"
        );
    }

    // PDF: the cover's banner and the sentence under it.
    let (_, pdf) = pdf_text(&out.join("report.pdf"));
    let pdf = pdf.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        pdf.contains(&format!(
            "Verdict: NON_COMPLIANT (2 of {} controls evaluated)",
            CATALOG.len()
        )),
        "{pdf}"
    );
    assert!(pdf.contains("This verdict covers only the 2 control(s) evaluated"));
    assert!(pdf.contains("Controls NOT evaluated (the requester's choice)"));

    // Sealed with the other report-time settings.
    let manifest: Value = serde_json::from_str(&read(&out.join("manifest.json"))).unwrap();
    assert_eq!(
        manifest["render"]["document"]["control_selection"],
        serde_json::json!({"checks": SELECTED})
    );
}

#[test]
fn the_verdict_and_the_totals_cover_the_evaluated_controls_only() {
    // A scope with nothing in it but one failing control, and no evidence gap.
    let evidence = fixture("no-resources");
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    assert_eq!(
        report(&evidence, &full, &["--format", "csv"]).status.code(),
        Some(1)
    );
    let full = results(&full);
    assert_eq!(full["verdict"], "NON_COMPLIANT");
    let failing: Vec<&str> = full["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "FAIL")
        .map(|f| f["control_id"].as_str().unwrap())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(full["evidence_gaps"].as_array().unwrap().len(), 0);
    assert!(!failing.is_empty());

    let out = dir.path().join("without-failing");
    let exclude = failing.join(",");
    let output = report(
        &evidence,
        &out,
        &["--format", "csv", "--exclude-checks", &exclude],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with("COMPLIANT ("),
        "{}",
        stderr(&output)
    );
    let results = results(&out);
    assert_eq!(results["verdict"], "COMPLIANT");
    assert!(
        results["verdict_text"]
            .as_str()
            .unwrap()
            .starts_with("Compliant: every control passed or had nothing in scope, and no evidence is missing. This verdict covers only the "),
        "{}",
        results["verdict_text"]
    );
    let count = |status: &str| {
        results["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["status"] == status)
            .count()
    };
    assert_eq!(results["totals"]["fail"], 0);
    assert_eq!(results["totals"]["no_resources"], count("NO_RESOURCES"));
    let total: u64 = [
        "pass",
        "controlled",
        "fail",
        "not_applicable",
        "no_resources",
        "evidence_gap",
    ]
    .iter()
    .map(|k| results["totals"][k].as_u64().unwrap())
    .sum();
    assert_eq!(
        total as usize,
        results["findings"].as_array().unwrap().len()
    );
    let summary: BTreeSet<&str> = results["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["control_id"].as_str().unwrap())
        .collect();
    for id in &failing {
        assert!(!summary.contains(id), "{id} in the summary");
    }
    assert_eq!(summary.len(), catalog().len() - failing.len());
}

#[test]
fn per_account_summaries_count_the_evaluated_controls_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let output = report(
        &demo_evidence(),
        &out,
        &["--format", "csv", "--checks", "apigw-logging"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let results = results(&out);
    let accounts = results["account_summaries"].as_array().unwrap();
    assert!(accounts.len() >= 2);
    let mut counted = 0;
    for account in accounts {
        for list in ["failing_controls", "gap_controls"] {
            for id in account[list].as_array().unwrap() {
                assert_eq!(id, "apigw-logging", "{account}");
            }
        }
        counted += account["counts"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum::<u64>();
    }
    assert_eq!(
        counted as usize,
        results["findings"].as_array().unwrap().len()
    );
}

#[test]
fn the_same_evidence_with_and_without_a_selection_are_two_documents() {
    let dir = tempfile::tempdir().unwrap();
    let id_of = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let mut args = vec!["--format", "csv"];
        args.extend(extra);
        let output = report(&demo_evidence(), &out, &args);
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{}",
            stderr(&output)
        );
        results(&out)["report_id"].as_str().unwrap().to_string()
    };
    let full = id_of("full", &[]);
    let some = id_of("some", &["--checks", "apigw-logging,kms-key-rotation"]);
    let same = id_of(
        "same",
        &["--checks", "kms-key-rotation", "--checks", "apigw-logging"],
    );
    let other = id_of("other", &["--exclude-checks", "change-control"]);
    assert_ne!(full, some);
    assert_ne!(some, other);
    assert_ne!(full, other);
    assert_eq!(some, same, "the same selection, given in another order");
}

#[test]
fn unknown_ids_are_refused_by_name_with_the_valid_ones_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let output = report(
        &demo_evidence(),
        &out,
        &[
            "--checks",
            "apigw-logging,kms-rotation",
            "--exclude-checks",
            "nope",
        ],
    );
    assert_refused(
        &output,
        "--checks `kms-rotation` (item 2), --exclude-checks `nope` (item 1): not a control id; the control ids are: ",
    );
    let message = stderr(&output);
    for id in catalog() {
        assert!(message.contains(&id), "{id} not listed: {message}");
    }
    assert_nothing_written(dir.path());

    let output = bin()
        .args(["demo", "--out"])
        .arg(&out)
        .args(["--exclude-checks", "cloudtrail-encryptoin"])
        .output()
        .unwrap();
    assert_refused(
        &output,
        "--exclude-checks `cloudtrail-encryptoin` (item 1): not a control id",
    );
    assert_nothing_written(dir.path());
}

#[test]
fn selections_that_leave_nothing_or_make_no_sense_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let all = catalog().join(",");
    let cases: [(&[&str], &str); 4] = [
        (
            &["--exclude-checks", &all],
            "--checks and --exclude-checks leave no control to evaluate",
        ),
        (
            &[
                "--checks",
                "apigw-logging",
                "--exclude-checks",
                "apigw-logging",
            ],
            "leave no control to evaluate",
        ),
        (
            &[
                "--checks",
                "apigw-logging",
                "--exclude-checks",
                "kms-key-rotation",
            ],
            "--exclude-checks kms-key-rotation: --checks does not select it",
        ),
        (
            &["--checks", "apigw-logging,,kms-key-rotation"],
            "item 2 is empty",
        ),
    ];
    for (args, expected) in cases {
        let output = report(&demo_evidence(), &out, args);
        assert_refused(&output, expected);
        assert_nothing_written(dir.path());
    }
}

#[test]
fn sign_and_verify_keep_the_selection_and_a_reseal_without_it_fails_verify() {
    use gxp_evidence::signing::local::{LocalKey, Unlock};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let output = report(
        &demo_evidence(),
        &out,
        &["--exclude-checks", "change-control,cloudtrail-continuity"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let before = results(&out);
    let key = keygen(dir.path(), "alice");
    let signed = sign(
        &out,
        &key,
        "Alice Author",
        "Validation Engineer",
        "authored",
    );
    assert!(signed.status.success(), "{}", stderr(&signed));
    let after = results(&out);
    assert_eq!(
        after, before,
        "results.json does not change with a sign-off"
    );
    assert!(!controls_of(&after).contains("change-control"));
    let manifest: Value = serde_json::from_str(&read(&out.join("manifest.json"))).unwrap();
    assert_eq!(
        manifest["render"]["document"]["control_selection"]["exclude_checks"],
        serde_json::json!(["cloudtrail-continuity", "change-control"])
    );
    let verified = bin().arg("verify").arg(&out).output().unwrap();
    assert_eq!(verified.status.code(), Some(0), "{}", stdout(&verified));

    // An insider drops the selection from the sealed settings and re-seals: the package now
    // claims a full report, and re-evaluation shows it is not.
    let path = out.join("manifest.json");
    let mut manifest: Value = serde_json::from_str(&read(&path)).unwrap();
    manifest["render"]["document"]
        .as_object_mut()
        .unwrap()
        .remove("control_selection");
    fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    common::forge::reseal(
        &out,
        &LocalKey::load(&key, Unlock::Passphrase(TEST_PASSPHRASE)).unwrap(),
    );
    let verified = bin().arg("verify").arg(&out).output().unwrap();
    let text = stdout(&verified);
    assert_eq!(verified.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL  results.json"), "{text}");
}

/// A CSV-only report of the demo in `dir/name`.
fn csv_package(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec!["--format", "csv"];
    args.extend(extra);
    let output = report(&demo_evidence(), &out, &args);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        stderr(&output)
    );
    out
}

#[test]
fn diff_refuses_reports_of_different_controls_and_compares_equal_selections() {
    let dir = tempfile::tempdir().unwrap();
    let full = csv_package(dir.path(), "full", &[]);
    let some = csv_package(dir.path(), "some", &["--checks", "apigw-logging"]);
    let again = csv_package(dir.path(), "again", &["--checks", "apigw-logging"]);
    for (from, to) in [(&full, &some), (&some, &full)] {
        let output = bin().arg("diff").arg(from).arg(to).output().unwrap();
        assert_refused(
            &output,
            "evaluated different controls (--checks / --exclude-checks)",
        );
        assert!(stdout(&output).is_empty());
    }
    let output = bin().arg("diff").arg(&full).arg(&some).output().unwrap();
    assert!(
        stderr(&output).contains("only GXP-")
            && stderr(&output).contains("evaluated apigw-cache-encryption"),
        "{}",
        stderr(&output)
    );
    let output = bin().arg("diff").arg(&some).arg(&again).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

/// The demo snapshot moved to November 2026 (no change events in it), written into `dir`.
fn november(dir: &Path) -> PathBuf {
    let mut november: Value = serde_json::from_str(&read(&demo_evidence())).unwrap();
    november["period"] =
        serde_json::json!({"start": "2026-11-01T00:00:00Z", "end": "2026-12-01T00:00:00Z"});
    november["collected_at"] = serde_json::json!("2026-12-01T06:00:00Z");
    for account in november["accounts"].as_array_mut().unwrap() {
        for region in account["regions"].as_array_mut().unwrap() {
            let cloudtrail = &mut region["cloudtrail"];
            if cloudtrail.is_object() {
                cloudtrail["events"] = serde_json::json!([]);
                cloudtrail["events_after_period"] = serde_json::json!([]);
                cloudtrail["events_until"] = serde_json::json!("2026-12-01T06:04:10Z");
            }
        }
    }
    let evidence = dir.join("november.json");
    fs::write(&evidence, serde_json::to_vec_pretty(&november).unwrap()).unwrap();
    evidence
}

#[test]
fn previous_period_of_other_controls_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    // The demo's October as the "previous" period of a November copy of it.
    let full = csv_package(dir.path(), "october", &[]);
    let evidence = november(dir.path());
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("november");
    let output = report(
        &evidence,
        &out,
        &[
            "--format",
            "csv",
            "--previous",
            full.to_str().unwrap(),
            "--checks",
            "apigw-logging",
        ],
    );
    assert_refused(&output, "--previous: reports GXP-");
    assert!(
        stderr(&output).contains("evaluated different controls"),
        "{}",
        stderr(&output)
    );
    assert_nothing_written(out_dir.path());
}

#[test]
fn controls_previews_a_selection() {
    let output = bin()
        .args([
            "controls",
            "--format",
            "json",
            "--checks",
            "kms-key-rotation,apigw-logging",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let listed: Value = serde_json::from_slice(&output.stdout).unwrap();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, SELECTED);
    let output = bin()
        .args(["controls", "--exclude-checks", "apigw-logging"])
        .output()
        .unwrap();
    let table = stdout(&output);
    assert!(!table.contains("apigw-logging "), "{table}");
    assert_eq!(table.lines().count(), CATALOG.len(), "{table}");
    let output = bin()
        .args(["controls", "--checks", "nope"])
        .output()
        .unwrap();
    assert_refused(&output, "--checks `nope` (item 1): not a control id");
}

/// `run` with `[report] checks = …`: a folder with a job key, an archive and the config.
fn run_with_report_table(dir: &Path, report_table: &str) -> std::process::Output {
    fs::create_dir(dir.join("archive")).unwrap();
    keygen(&dir.join("keys"), "job");
    run_again(dir, &demo_evidence(), report_table, RENDERED_AT)
}

/// `run` in a folder `run_with_report_table` set up, re-reporting `evidence` at `now`.
fn run_again(dir: &Path, evidence: &Path, report_table: &str, now: &str) -> std::process::Output {
    let config = format!(
        r#"[system]
name = "LIMS Production — Qualitätskontrolle Zürich & Łódź"

[collection]
evidence = "{evidence}"

[report]
{report_table}

[signing]
key = "keys/job.key"
passphrase_env = "{PASSPHRASE_VAR}"
name = "GxP evidence scheduled job"
user_id = "svc-gxp-evidence"
role = "Automated evidence collection"

[archive]
location = "archive"
"#,
        evidence = evidence.display(),
    );
    fs::write(dir.join("run.toml"), config).unwrap();
    bin()
        .env(TEST_NOW_VAR, now)
        .env(PASSPHRASE_VAR, TEST_PASSPHRASE)
        .arg("run")
        .arg("--config")
        .arg(dir.join("run.toml"))
        .output()
        .unwrap()
}

#[test]
fn the_run_config_selects_controls_and_names_a_bad_id_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_with_report_table(
        dir.path(),
        "checks = [\"apigw-logging\", \"kms-key-rotation\"]\nexclude_checks = [\"kms-key-rotation\"]",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let plan = bin()
        .env(PASSPHRASE_VAR, TEST_PASSPHRASE)
        .args(["run", "--dry-run", "--config"])
        .arg(dir.path().join("run.toml"))
        .output()
        .unwrap();
    let plan = stdout(&plan);
    assert!(
        plan.contains(&format!(
            "controls:        1 of {}: apigw-logging\n",
            CATALOG.len()
        )) && plan.contains(
            "NOT evaluated:   apigw-cache-encryption (not selected), kms-key-rotation (excluded), "
        ),
        "{plan}"
    );
    // The job's JSON summary names what its verdict leaves out, for the monitor reading it.
    let quiet = bin()
        .env(PASSPHRASE_VAR, TEST_PASSPHRASE)
        .env(TEST_NOW_VAR, RENDERED_AT)
        .args(["run", "--quiet", "--config"])
        .arg(dir.path().join("run.toml"))
        .output()
        .unwrap();
    assert_eq!(quiet.status.code(), Some(0), "{}", stderr(&quiet));
    let line: Value = serde_json::from_str(stdout(&quiet).trim()).unwrap();
    assert_eq!(
        line["controls_not_evaluated"].as_array().map(Vec::len),
        Some(catalog().len() - 1),
        "{line}"
    );
    let package = files_under(&dir.path().join("archive"))
        .into_iter()
        .find(|f| f.ends_with("/r1/results.json"))
        .expect("the run filed r1");
    let results: Value =
        serde_json::from_str(&read(&dir.path().join("archive").join(package))).unwrap();
    assert_eq!(
        controls_of(&results),
        BTreeSet::from(["apigw-logging".to_string()])
    );
    assert_eq!(
        results["document"]["control_selection"]["not_evaluated"]
            .as_array()
            .unwrap()
            .len(),
        CATALOG.len() - 1
    );

    let dir = tempfile::tempdir().unwrap();
    let output =
        run_with_report_table(dir.path(), "checks = [\"apigw-logging\", \"kms-rotation\"]");
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains(":8:"), "line of the bad id: {message}");
    assert!(
        message.contains("`report.checks`: \"kms-rotation\" is not a control id; the control ids are: apigw-cache-encryption"),
        "{message}"
    );
    assert!(files_under(&dir.path().join("archive")).is_empty());
}

#[test]
fn a_run_whose_selection_changed_since_last_month_files_its_report_without_the_comparison() {
    let dir = tempfile::tempdir().unwrap();
    let october = run_with_report_table(dir.path(), "");
    assert_eq!(october.status.code(), Some(0), "{}", stderr(&october));
    let evidence = november(dir.path());
    let output = run_again(
        dir.path(),
        &evidence,
        "checks = [\"apigw-logging\"]",
        "2026-12-01T07:00:00Z",
    );
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{message}");
    assert!(
        message.contains(
            "no \"Changes since last period\" section: the 2026-10 report cannot be compared with"
        ) && message.contains("evaluated different controls"),
        "{message}"
    );
    let results = files_under(&dir.path().join("archive"))
        .into_iter()
        .find(|f| f.contains("/2026-11/r1/results.json"))
        .expect("November filed");
    let results: Value =
        serde_json::from_str(&read(&dir.path().join("archive").join(results))).unwrap();
    assert!(results.get("changes_since_previous").is_none());
    assert_eq!(
        controls_of(&results),
        BTreeSet::from(["apigw-logging".to_string()])
    );

    // The archive's listing and index never show the partial report's verdict as the
    // system's: October's full verdict stands alone, November's names its selection.
    let archive = dir.path().join("archive");
    let listed = stdout(
        &bin()
            .arg("archive")
            .arg("list")
            .arg(&archive)
            .output()
            .unwrap(),
    );
    let line = |period: &str| {
        listed
            .lines()
            .find(|l| l.contains(period) && l.contains("GXP-"))
            .unwrap_or_else(|| panic!("{period} not listed: {listed}"))
            .to_string()
    };
    assert!(
        line("2026-11").contains(&format!("(1 of {} controls evaluated)", CATALOG.len())),
        "{listed}"
    );
    assert!(!line("2026-10").contains("controls evaluated"), "{listed}");
    let index = dir.path().join("index.html");
    let output = bin()
        .args(["archive", "index"])
        .arg(&archive)
        .arg("--out")
        .arg(&index)
        .output()
        .unwrap();
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        read(&index)
            .matches(&format!("(1 of {} controls evaluated)", CATALOG.len()))
            .count(),
        1
    );
}

#[test]
fn the_junit_file_shows_each_control_left_out_as_skipped_and_ocsf_has_no_row_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("selected");
    let output = report(
        &demo_evidence(),
        &out,
        &[
            "--exclude-checks",
            "kms-key-rotation",
            "--format",
            "ocsf,junit",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let junit = common::read(&out.join("findings.junit.xml"));
    let suite_start = junit
        .find("<testsuite name=\"kms-key-rotation\"")
        .expect("a suite for the control left out");
    let suite =
        &junit[suite_start..junit[suite_start..].find("</testsuite>").unwrap() + suite_start];
    assert!(
        suite.contains(r#"tests="1" failures="0" errors="0" skipped="1""#),
        "{suite}"
    );
    assert!(suite.contains("NOT EVALUATED: "), "{suite}");
    // The totals count it, so the dashboard's number of tests is the catalog's.
    let findings = common::read(&out.join("findings.ocsf.json"))
        .lines()
        .count();
    assert!(
        junit.contains(&format!("tests=\"{}\"", findings + 1)),
        "{}",
        &junit[..300]
    );
    assert!(
        !common::read(&out.join("findings.ocsf.json")).contains("\"control\":\"kms-key-rotation\"")
    );
    let first: Value = serde_json::from_str(
        common::read(&out.join("findings.ocsf.json"))
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        first["unmapped"]["controls_not_evaluated"],
        serde_json::json!(["kms-key-rotation"])
    );
    assert!(
        first["unmapped"]["verdict_scope"]
            .as_str()
            .unwrap()
            .contains("NOT evaluated"),
        "{first}"
    );
}
