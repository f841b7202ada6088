//! Document control, scope and methodology of a report (issue 15): what the PDF states about
//! itself (owner, revision, collected and rendered times, verdict reading, what is and is not
//! covered, how the evidence was read, every resource by ARN), `--supersedes` and
//! `--verdict-reading`, and that `sign` and `verify` re-render a revision byte for byte.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use serde_json::{Value, json};

/// The demo's collection time, and when the tests' reports are rendered.
const COLLECTED: &str = "2026-11-01 06:00:00 UTC";
const FIRST_RENDERED_AT: &str = "2026-11-30T12:00:00Z";
const REVISED_AT: &str = "2026-11-30T15:30:00Z";

/// `report --evidence EVIDENCE --out OUT EXTRA…` rendered at `now`.
fn report_at(evidence: &Path, out: &Path, now: &str, extra: &[&str]) -> Output {
    bin()
        .arg("report")
        .arg("--evidence")
        .arg(evidence)
        .arg("--out")
        .arg(out)
        .args(extra)
        .env(TEST_NOW_VAR, now)
        .output()
        .expect("runs")
}

/// A first report of the demo by Jane Roe's system, and its revision 2, in `dir`.
fn first_and_revision(dir: &Path, formats: &str) -> (PathBuf, PathBuf) {
    let first = dir.join("r1");
    let output = report_at(
        &demo_evidence(),
        &first,
        FIRST_RENDERED_AT,
        &["--system-owner", "Jane Roe", "--format", formats],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let second = dir.join("r2");
    let output = report_at(
        &demo_evidence(),
        &second,
        REVISED_AT,
        &[
            "--system-owner",
            "Jane Roe",
            "--supersedes",
            first.to_str().unwrap(),
            "--format",
            formats,
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    (first, second)
}

/// Whether `text` holds `expected` once all white space is ignored, so a value wrapped over
/// lines of a table cell or paragraph is found whole.
fn holds(text: &str, expected: &str) -> bool {
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    squeeze(text).contains(&squeeze(expected))
}

#[test]
fn only_a_package_that_verifies_of_the_same_system_can_be_superseded() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("r1");
    let output = report_at(
        &demo_evidence(),
        &first,
        FIRST_RENDERED_AT,
        &["--format", "csv"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));

    // An edited manifest would make the new revision name whatever it says (here a revision
    // number that overflows): the package no longer verifies, so it is refused.
    let edited = dir.path().join("edited");
    copy_dir(&first, &edited);
    let manifest = read(&edited.join("manifest.json"));
    assert!(manifest.contains("\"revision\": 1"), "{manifest}");
    fs::write(
        edited.join("manifest.json"),
        manifest.replacen("\"revision\": 1", "\"revision\": 4294967295", 1),
    )
    .unwrap();
    let out = dir.path().join("r2");
    let supersede = |superseded: &Path, evidence: &Path| {
        report_at(
            evidence,
            &out,
            REVISED_AT,
            &[
                "--supersedes",
                superseded.to_str().unwrap(),
                "--format",
                "csv",
            ],
        )
    };
    let output = supersede(&edited, &demo_evidence());
    assert_refused(&output, "the package does not verify (failed: ");
    assert!(!out.exists(), "nothing is written");

    let mut other: Value = serde_json::from_str(&read(&demo_evidence())).unwrap();
    other["system_name"] = json!("Chromatography Data System");
    let evidence = dir.path().join("other.json");
    fs::write(&evidence, serde_json::to_vec_pretty(&other).unwrap()).unwrap();
    let output = supersede(&first, &evidence);
    assert_refused(
        &output,
        "is about the system \"LIMS Production — Qualitätskontrolle Zürich & Łódź\", this report about \"Chromatography Data System\"",
    );
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn the_pdf_states_owner_revision_times_reading_scope_method_and_every_arn() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = first_and_revision(dir.path(), "pdf");
    let first_id = results(&first)["report_id"].as_str().unwrap().to_string();
    let second_id = results(&second)["report_id"].as_str().unwrap().to_string();
    assert_eq!(
        second_id,
        format!("{first_id}-r2"),
        "a revision has its own id"
    );

    let (_, text) = pdf_text(&second.join("report.pdf"));
    for expected in [
        "System owner",
        "Jane Roe",
        &format!("Revision 2, supersedes {first_id}"),
        "Collected at",
        COLLECTED,
        "Rendered at",
        "2026-11-30 15:30:00 UTC",
        "Verdict reading",
        "Verdict reading: strict. For the two-reading controls (apigw-cache-encryption, cloudtrail-cloudwatch-logs) the AWS Config (strict) reading decides",
        // The cover's counts say what a result is (two readings of each two-reading control).
        "one per control, resource and reading: apigw-cache-encryption, cloudtrail-cloudwatch-logs are judged twice",
        "failed collection call(s)",
        // Scope: what is covered, with counts, and what is not.
        "Scope",
        "REST API stages",
        "Not covered",
        "What the authorizers of API Gateway v2",
        "The content of CloudTrail data events",
        "IAM (users, roles, policies, access keys)",
        "The trail bucket's access points",
        "CloudWatch alarms and metric filters",
        "Silence about them is not compliance",
        // Methodology: the calls, the lookup plan and its cost, the readings, the period.
        "Methodology",
        "GetStages",
        "GetDeployment",
        "GetKeyRotationStatus",
        "ListKeyRotations",
        "GetEventSelectors",
        "DescribeLogGroups",
        "LookupEvents was queried in",
        "two requests per second per account and region",
        "no charge",
        "Posture results cover the whole period as reconstructed from the change events",
        // Every resource type by its full ARN.
        "Resources in scope",
        "arn:aws:apigateway:eu-central-1::/restapis/k7x2m9p4qa/stages/prod",
        "arn:aws:kms:eu-central-1:111122223333:key/",
        "arn:aws:cloudtrail:",
    ] {
        assert!(holds(&text, expected), "`{expected}` not in the PDF");
    }
    assert!(
        !text.contains("Generated"),
        "the collection time is never labelled as the report's generation"
    );
    // Every page's footer carries both times.
    for page in pdf_pages(&second.join("report.pdf")) {
        assert!(
            page.contains("collected 2026-11-01 06:00 UTC · rendered 2026-11-30 15:30 UTC"),
            "{page}"
        );
    }
    let document = &results(&second)["document"];
    assert_eq!(document["revision"], 2);
    assert_eq!(document["supersedes"], first_id.as_str());
    assert_eq!(document["system_owner"], "Jane Roe");
    assert_eq!(document["rendered_at"], REVISED_AT);
}

#[test]
fn the_html_shows_document_control_scope_and_methodology() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = first_and_revision(dir.path(), "html");
    let first_id = results(&first)["report_id"].as_str().unwrap().to_string();
    // `<wbr>` marks where a long token (an ARN) may wrap; a reader sees one word.
    let html = read(&second.join("report.html"))
        .replace("&#x2F;", "/")
        .replace("<wbr>", "");
    for expected in [
        "<dt>System owner</dt><dd>Jane Roe</dd>",
        &format!("supersedes {first_id}"),
        "<dt>Collected at</dt><dd>2026-11-01 06:00:00 UTC",
        "<dt>Rendered at</dt><dd>2026-11-30 15:30:00 UTC",
        "<section id=\"scope\"",
        "CloudTrail data events",
        "<section id=\"methodology\"",
        "GetEventSelectors",
        "arn:aws:kms:eu-central-1:111122223333:key/",
    ] {
        assert!(html.contains(expected), "`{expected}` not in report.html");
    }
    assert!(!html.contains("generated"), "no `generated` label remains");
}

#[test]
fn superseding_a_report_of_another_period_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let october = dir.path().join("october");
    let output = report_at(
        &demo_evidence(),
        &october,
        FIRST_RENDERED_AT,
        &["--format", "csv"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));

    let mut september: Value = serde_json::from_str(&read(&demo_evidence())).unwrap();
    september["period"] = json!({"start": "2026-09-01T00:00:00Z", "end": "2026-10-01T00:00:00Z"});
    // The demo's change events are October's; September's snapshot has none.
    for account in september["accounts"].as_array_mut().unwrap() {
        let account = account.as_object_mut().unwrap();
        for list in ["regions", "trail_home_regions"] {
            for region in account
                .get_mut(list)
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(cloudtrail) = region["cloudtrail"].as_object_mut() {
                    cloudtrail.insert("events".into(), json!([]));
                    cloudtrail.insert("events_after_period".into(), json!([]));
                }
            }
        }
    }
    let evidence = dir.path().join("september.json");
    fs::write(&evidence, serde_json::to_vec_pretty(&september).unwrap()).unwrap();
    let out = dir.path().join("september-r2");
    let output = report_at(
        &evidence,
        &out,
        FIRST_RENDERED_AT,
        &["--supersedes", october.to_str().unwrap(), "--format", "csv"],
    );
    assert_refused(&output, "covers the period 2026-10, this report 2026-09");
    assert!(!out.exists(), "nothing is written");
    let mut entries: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        ["october", "september.json"],
        "no staging directory is left"
    );

    let output = report_at(
        &demo_evidence(),
        &out,
        FIRST_RENDERED_AT,
        &["--supersedes", dir.path().join("missing").to_str().unwrap()],
    );
    assert_refused(&output, "--supersedes: cannot read");
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn a_signed_revision_verifies_and_keeps_its_rendering_time_and_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let (_, second) = first_and_revision(dir.path(), "pdf,html,csv");
    let pdf_before = fs::read(second.join("report.pdf")).unwrap();
    let alice = fixed_key(dir.path(), "alice");
    let signed = sign_at(
        &second,
        &alice,
        "Alice Author",
        "Validation Engineer",
        "authored",
        "2026-12-01T09:00:00Z",
    );
    assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
    let (code, out) = verify(&second, &[]);
    assert_eq!(code, Some(0), "{out}");
    for file in ["report.pdf", "report.html", "results.json"] {
        assert!(
            out.contains(&format!("OK    {file}: identical to the re-")),
            "{file}: {out}"
        );
    }
    let manifest: Value = serde_json::from_str(&read(&second.join("manifest.json"))).unwrap();
    assert_eq!(manifest["render"]["document"]["revision"], 2);
    assert_eq!(manifest["render"]["document"]["rendered_at"], REVISED_AT);
    let (_, text) = pdf_text(&second.join("report.pdf"));
    assert!(
        text.contains("2026-11-30 15:30:00 UTC"),
        "rendering time kept"
    );
    assert!(text.contains("Jane Roe"));
    assert_ne!(fs::read(second.join("report.pdf")).unwrap(), pdf_before);
}

#[test]
fn a_manifest_without_document_control_renders_as_before() {
    // A package written before the report-time parameters were recorded: rendered "at" its
    // collection time, revision 1, strict reading, no owner.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("old");
    let output = report_at(
        &demo_evidence(),
        &out,
        "2026-11-01T06:00:00Z",
        &["--format", "pdf,csv"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let path = out.join("manifest.json");
    let mut manifest: Value = serde_json::from_str(&read(&path)).unwrap();
    manifest["render"]
        .as_object_mut()
        .unwrap()
        .remove("document")
        .expect("recorded");
    fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    let (_, out_text) = verify(&out, &[]);
    assert!(
        out_text.contains("OK    report.pdf: identical"),
        "{out_text}"
    );
    assert!(
        out_text.contains("OK    results.json: identical"),
        "{out_text}"
    );
}

/// The demo's disaster-recovery account, compliant on its own, with its stage cache cluster
/// turned off: only the strict (AWS Config) reading of apigw-cache-encryption fails.
fn only_strict_fails(dir: &Path) -> PathBuf {
    let mut demo = common::demo_account_alone("444455556666");
    let mut stages = 0;
    for region in demo["accounts"][0]["regions"].as_array_mut().unwrap() {
        for api in region["apigateway"]["rest_apis"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            for stage in api["stages"].as_array_mut().unwrap() {
                stage["cacheClusterEnabled"] = json!(false);
                stages += 1;
            }
        }
    }
    assert_eq!(stages, 1, "the DR account has one stage");
    let evidence = dir.join("strict-only.json");
    fs::write(&evidence, serde_json::to_vec_pretty(&demo).unwrap()).unwrap();
    evidence
}

#[test]
fn the_lenient_reading_decides_where_only_the_strict_reading_fails() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = only_strict_fails(dir.path());

    let strict = dir.path().join("strict");
    let output = report_at(&evidence, &strict, FIRST_RENDERED_AT, &["--format", "pdf"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(results(&strict)["verdict"], "NON_COMPLIANT");

    let lenient = dir.path().join("lenient");
    let output = report_at(
        &evidence,
        &lenient,
        FIRST_RENDERED_AT,
        &["--verdict-reading", "lenient", "--format", "pdf"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .contains("1 FAIL, 0 EVIDENCE_GAP of the AWS Config (strict) reading do not decide"),
        "{}",
        stderr(&output)
    );
    let results = results(&lenient);
    assert_eq!(results["verdict"], "COMPLIANT");
    assert_eq!(results["document"]["verdict_reading"], "lenient");
    let strict_row = results["summary"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["view"] == "aws_config")
        .unwrap();
    assert_eq!(strict_row["decides"], false);
    assert_eq!(
        strict_row["outcome"], "FAIL",
        "the other reading is still shown"
    );
    let (_, text) = pdf_text(&lenient.join("report.pdf"));
    assert!(holds(&text, "Verdict reading: lenient (Security Hub)"));
    assert!(
        holds(
            &text,
            "The non-deciding AWS Config (strict) reading found 1 FAIL"
        ),
        "no FAIL of the other reading is dropped silently"
    );
    assert!(holds(&text, "Verdict reading: lenient (flag)"));
}

#[test]
fn an_owner_that_would_read_differently_or_an_unknown_reading_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let output = report_at(
        &demo_evidence(),
        &out,
        FIRST_RENDERED_AT,
        &["--system-owner", "Jane\u{202E}eoR", "--format", "csv"],
    );
    assert_refused(
        &output,
        "--system-owner contains control or invisible characters: Jane<U+202E>eoR",
    );
    assert!(!out.exists(), "nothing is written");
    let output = report_at(
        &demo_evidence(),
        &out,
        FIRST_RENDERED_AT,
        &["--verdict-reading", "generous", "--format", "csv"],
    );
    assert_refused(
        &output,
        "invalid value 'generous' for '--verdict-reading <READING>'",
    );
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn a_revision_never_replaces_the_report_it_supersedes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let output = report_at(
        &demo_evidence(),
        &out,
        FIRST_RENDERED_AT,
        &["--format", "csv"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let before = contents(&out);
    let output = report_at(
        &demo_evidence(),
        &out,
        REVISED_AT,
        &[
            "--supersedes",
            out.to_str().unwrap(),
            "--force",
            "--format",
            "csv",
        ],
    );
    assert_refused(&output, "is the --out directory");
    assert!(
        contents(&out) == before,
        "the superseded report is untouched"
    );
}

#[test]
fn a_sign_off_cannot_be_older_than_the_rendering_it_signs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let output = report_at(
        &demo_evidence(),
        &out,
        FIRST_RENDERED_AT,
        &["--format", "csv"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let before = contents(&out);
    let alice = fixed_key(dir.path(), "alice");
    // After the collection, before the rendering.
    let signed = sign_at(
        &out,
        &alice,
        "Alice Author",
        "Validation Engineer",
        "authored",
        ALICE_SIGNS_AT,
    );
    assert_refused(
        &signed,
        "is earlier than the rendering of the report (2026-11-30 12:00:00 UTC)",
    );
    assert!(contents(&out) == before, "nothing is written");
}

#[test]
fn verify_names_a_sign_off_older_than_the_rendering_sealed_in_the_manifest() {
    // An insider holding a key moves the recorded rendering time after the first sign-off
    // and re-seals: the sign-off would then sign a report that did not exist yet.
    use gxp_evidence::signing::local::{LocalKey, Unlock};
    let dir = tempfile::tempdir().unwrap();
    let (package, _, bob) = signed_demo(dir.path());
    let path = package.join("manifest.json");
    let mut manifest: Value = serde_json::from_str(&read(&path)).unwrap();
    manifest["render"]["document"]["rendered_at"] = json!("2026-11-02T12:00:00Z");
    fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    common::forge::reseal(
        &package,
        &LocalKey::load(&bob, Unlock::Passphrase(TEST_PASSPHRASE)).unwrap(),
    );
    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("before the report it signs was rendered (2026-11-02 12:00:00 UTC)"),
        "{out}"
    );
}

#[test]
fn a_sign_off_in_the_second_of_the_rendering_is_not_before_it() {
    // Sign-offs are recorded in whole seconds; so is the rendering time.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let output = report_at(
        &demo_evidence(),
        &out,
        "2026-11-30T12:00:00.700Z",
        &["--format", "csv"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        results(&out)["document"]["rendered_at"],
        "2026-11-30T12:00:00Z"
    );
    let alice = fixed_key(dir.path(), "alice");
    let signed = sign_at(
        &out,
        &alice,
        "Alice Author",
        "Validation Engineer",
        "authored",
        "2026-11-30T12:00:00.300Z",
    );
    assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
}

#[test]
fn reports_of_one_evidence_that_say_different_things_have_different_ids() {
    let dir = tempfile::tempdir().unwrap();
    let records = demo_evidence().with_file_name("demo-change-records.csv");
    let variants: [&[&str]; 4] = [
        &[],
        &["--verdict-reading", "lenient"],
        &["--system-owner", "Jane Roe"],
        &["--change-records", records.to_str().unwrap()],
    ];
    let mut ids = Vec::new();
    for (i, extra) in variants.iter().enumerate() {
        let out = dir.path().join(format!("v{i}"));
        let mut args = vec!["--format", "csv"];
        args.extend_from_slice(extra);
        let output = report_at(&demo_evidence(), &out, FIRST_RENDERED_AT, &args);
        assert!(
            output.status.code().is_some_and(|c| c < 2),
            "{}",
            stderr(&output)
        );
        ids.push(results(&out)["report_id"].as_str().unwrap().to_string());
    }
    assert_eq!(
        ids[0], "GXP-2026-10-bb30e08981ef",
        "the evidence alone keeps its id"
    );
    for id in &ids[1..] {
        assert!(id.starts_with("GXP-2026-10-bb30e08981ef-"), "{id}");
    }
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
}
