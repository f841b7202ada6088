//! The per-account summary of a report over several accounts (issue 16): the table in the
//! HTML and PDF summary and accounts.csv, an account whose role could not be assumed shown
//! as EVIDENCE_GAP in every format, single-account reports unchanged, and a 200-account scope
//! that renders.

mod common;

use std::path::Path;

use common::{fixture, pdf_pages, read, report, results, verify};
use gxp_evidence::controls::{CATALOG, Status, Verdict, VerdictReading};
use gxp_evidence::evidence::load_bytes;
use gxp_evidence::report::ReportModel;
use gxp_evidence::report::document::DocumentSettings;
use gxp_evidence::report::render::{RenderOptions, csv, html, pdf};

const WITH_FINDINGS: &str = "111122223333";
const CLEAN: &str = "444455556666";
const ROLE_FAILED: &str = "777788889999";

fn fixture_model() -> ReportModel {
    let bytes = std::fs::read(fixture("multi-account")).expect("fixture");
    let evidence = load_bytes("multi-account", bytes).expect("the fixture loads");
    ReportModel::from_evidence(&evidence, Vec::new())
}

/// `text` with every run of whitespace made one space (PDF text extraction breaks lines
/// where the layout does).
fn squeezed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The rows of a CSV file without its byte order mark, as maps of column name to value.
fn csv_rows(bytes: &[u8]) -> Vec<std::collections::BTreeMap<String, String>> {
    let bytes = bytes.strip_prefix(csv::UTF8_BOM).unwrap_or(bytes);
    let mut reader = ::csv::Reader::from_reader(bytes);
    let headers = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|record| {
            let record = record.expect("record");
            headers
                .iter()
                .zip(record.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn accounts_csv(model: &ReportModel) -> Vec<u8> {
    csv::render(model, &RenderOptions::default())
        .expect("renders")
        .into_iter()
        .find(|f| f.name == "accounts.csv")
        .expect("accounts.csv is written for several accounts")
        .bytes
}

#[test]
fn every_account_of_the_scope_is_summarised_by_account_id() {
    let model = fixture_model();
    let rows: Vec<(&str, Verdict)> = model
        .account_summaries
        .iter()
        .map(|a| (a.account_id.as_str(), a.verdict))
        .collect();
    assert_eq!(
        rows,
        [
            (WITH_FINDINGS, Verdict::NonCompliant),
            (CLEAN, Verdict::Compliant),
            (ROLE_FAILED, Verdict::Incomplete),
        ]
    );
    // The counts of each account add up to the account's results in findings.csv.
    for summary in &model.account_summaries {
        let results = model
            .findings
            .iter()
            .filter(|f| f.account_id == summary.account_id);
        for status in [
            Status::Pass,
            Status::Controlled,
            Status::Fail,
            Status::NotApplicable,
            Status::NoResources,
            Status::EvidenceGap,
        ] {
            assert_eq!(
                summary.counts.of(status),
                results.clone().filter(|f| f.status == status).count(),
                "{} {status:?}",
                summary.account_id
            );
        }
    }
    let clean = &model.account_summaries[1];
    assert_eq!(clean.regions_collected, ["eu-central-1", "eu-west-1"]);
    assert!(clean.failed_calls.is_empty() && clean.failing_controls.is_empty());
}

#[test]
fn the_account_whose_role_failed_is_an_evidence_gap_for_every_control_in_the_model() {
    let model = fixture_model();
    let failed = model
        .account_summaries
        .iter()
        .find(|a| a.account_id == ROLE_FAILED)
        .expect("listed");
    assert!(failed.nothing_collected());
    assert_eq!(
        failed.failed_call_lines(),
        ["sts:AssumeRole (AccessDenied)"]
    );
    let results: Vec<_> = model
        .findings
        .iter()
        .filter(|f| f.account_id == ROLE_FAILED)
        .collect();
    for control in CATALOG {
        let of_control: Vec<_> = results
            .iter()
            .filter(|f| f.control_id == control.id)
            .collect();
        assert!(!of_control.is_empty(), "{}: no result", control.id);
        for finding in of_control {
            assert_eq!(finding.status, Status::EvidenceGap, "{finding:?}");
            assert!(
                finding
                    .reason
                    .contains("sts:AssumeRole failed with AccessDenied"),
                "the reason names the failed call: {finding:?}"
            );
        }
    }
    assert_eq!(failed.counts.evidence_gap, results.len());
    let gap_controls: Vec<&str> = CATALOG.iter().map(|c| c.id).collect();
    assert_eq!(failed.gap_controls, gap_controls);
    // Who collected what names the account too, rather than skipping it.
    assert!(
        model
            .collected_by
            .iter()
            .any(|c| c.account_id == ROLE_FAILED && c.caller_arn.contains("no evidence"))
    );
}

#[test]
fn the_verdict_reading_decides_each_accounts_verdict() {
    let mut model = fixture_model();
    // Leave the account with findings only its strict-reading FAILs (apigw-cache-encryption
    // in the AWS Config view): the lenient reading does not count them.
    model.findings.retain(|f| {
        !(f.account_id == WITH_FINDINGS
            && f.status == Status::Fail
            && f.view != Some(gxp_evidence::controls::View::AwsConfig))
    });
    assert!(
        model
            .findings
            .iter()
            .any(|f| f.account_id == WITH_FINDINGS && f.status == Status::Fail)
    );
    let rendered_at =
        gxp_evidence::evidence::Timestamp::parse("2026-11-01T07:00:00Z").expect("time");
    let read = |reading| {
        model
            .clone()
            .with_document(&DocumentSettings {
                verdict_reading: reading,
                ..DocumentSettings::unrecorded(rendered_at)
            })
            .account_summaries
            .iter()
            .map(|a| a.verdict)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        read(VerdictReading::Strict),
        [
            Verdict::NonCompliant,
            Verdict::Compliant,
            Verdict::Incomplete
        ]
    );
    // Leniently read, its failed kms:ListKeys still leaves it incomplete.
    assert_eq!(
        read(VerdictReading::Lenient),
        [Verdict::Incomplete, Verdict::Compliant, Verdict::Incomplete]
    );
}

#[test]
fn html_per_account_section() {
    let rendered = html::render(&fixture_model(), &RenderOptions::default()).expect("renders");
    let text = String::from_utf8(rendered.bytes).expect("UTF-8");
    let start = text.find("<h3 id=\"accounts\">").expect("the section");
    let end = start + text[start..].find("</section>").expect("its end");
    let section = &text[start..end];
    for account in [WITH_FINDINGS, CLEAN, ROLE_FAILED] {
        assert!(section.contains(account), "{account}");
    }
    insta::assert_snapshot!("multi_account_accounts_section.html", section);
    let header_end = text.find("</header>").expect("header");
    assert!(
        text[..header_end].contains("3 accounts: 1 COMPLIANT, 1 NON_COMPLIANT, 1 INCOMPLETE"),
        "the header says how the accounts fared"
    );
}

#[test]
fn accounts_csv_file() {
    let bytes = accounts_csv(&fixture_model());
    let text = String::from_utf8(bytes).expect("UTF-8");
    insta::assert_snapshot!("multi_account_accounts.csv", text);
}

/// Renders the fixture with the CLI into a fresh package directory.
fn fixture_package(dir: &Path) -> std::path::PathBuf {
    let out = dir.join("package");
    let output = report(&fixture("multi-account"), &out, &[]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "non-compliant: {}",
        common::stderr(&output)
    );
    out
}

#[test]
fn the_role_failed_account_shows_evidence_gap_in_every_format_and_verify_accepts_the_package() {
    let dir = tempfile::tempdir().expect("temp dir");
    let package = fixture_package(dir.path());

    // results.json
    let results = results(&package);
    let summaries = results["account_summaries"].as_array().expect("summaries");
    let failed = summaries
        .iter()
        .find(|s| s["account_id"] == ROLE_FAILED)
        .expect("the role-failed account");
    assert_eq!(failed["verdict"], "INCOMPLETE");
    assert_eq!(failed["regions_collected"], serde_json::json!([]));
    assert!(failed["counts"]["evidence_gap"].as_u64() > Some(0));
    for status in [
        "pass",
        "controlled",
        "fail",
        "not_applicable",
        "no_resources",
    ] {
        assert_eq!(failed["counts"][status], 0, "{status}");
    }

    // accounts.csv and findings.csv
    let accounts = csv_rows(read(&package.join("accounts.csv")).as_bytes());
    let ids: Vec<&str> = accounts.iter().map(|r| r["account_id"].as_str()).collect();
    assert_eq!(ids, [WITH_FINDINGS, CLEAN, ROLE_FAILED]);
    let row = &accounts[2];
    assert_eq!(row["verdict"], "INCOMPLETE");
    assert_eq!(row["regions_collected"], "");
    assert_eq!(row["failed_calls"], "sts:AssumeRole (AccessDenied)");
    assert_ne!(row["evidence_gap"], "0");
    assert_eq!(row["pass"], "0");
    let findings = csv_rows(read(&package.join("findings.csv")).as_bytes());
    let of_failed: Vec<_> = findings
        .iter()
        .filter(|f| f["account_id"] == ROLE_FAILED)
        .collect();
    assert_eq!(of_failed.len().to_string(), row["evidence_gap"]);
    assert!(of_failed.iter().all(|f| f["status"] == "EVIDENCE_GAP"));

    // HTML: the account's row in the per-account table.
    let html = read(&package.join("report.html"));
    let section = &html[html.find("<h3 id=\"accounts\">").expect("section")..];
    let row_start = section.find(ROLE_FAILED).expect("the account's row");
    let row = &section[row_start..row_start + section[row_start..].find("</tr>").expect("row")];
    assert!(row.contains("none of 2"), "{row}");
    assert!(
        row.contains("EVIDENCE_GAP: apigw-cache-encryption"),
        "{row}"
    );
    assert!(row.contains("INCOMPLETE"), "{row}");

    // PDF: every account with its counts, in the summary's table.
    let pages = pdf_pages(&package.join("report.pdf"));
    // The table may continue on the next page (its header repeated there).
    let at = pages
        .iter()
        .position(|p| squeezed(p).contains("Per account (3 accounts)"))
        .expect("the per-account table");
    let page = pages[at..pages.len().min(at + 2)]
        .iter()
        .map(|p| squeezed(p))
        .collect::<Vec<_>>()
        .join(" ");
    let model = fixture_model();
    for summary in &model.account_summaries {
        let c = &summary.counts;
        let row = format!(
            "{} {} {} {} {} {} {} {}",
            summary.account_id,
            summary.regions_text(),
            c.pass,
            c.controlled,
            c.fail,
            c.not_applicable,
            c.no_resources,
            c.evidence_gap
        );
        assert!(page.contains(&row), "`{row}` not in: {page}");
    }
    assert!(page.contains("sts:AssumeRole (AccessDenied)"));
    assert!(page.contains("INCOMPLETE") && page.contains("COMPLIANT"));
    let cover = squeezed(&pages[0]);
    assert!(
        cover.contains(
            "3 accounts: 1 COMPLIANT, 1 NON_COMPLIANT, 1 INCOMPLETE (no evidence collected in 1)"
        ),
        "{cover}"
    );

    // Signing re-renders the package; verify re-renders it again and finds every file equal.
    let key = common::fixed_key(dir.path(), "alice");
    let signed = common::sign_at(
        &package,
        &key,
        "Alice Example",
        "QA",
        "approved",
        common::ALICE_SIGNS_AT,
    );
    assert!(signed.status.success(), "{}", common::stderr(&signed));
    let (code, out) = verify(&package, &[]);
    assert_eq!(code, Some(0), "verify re-renders the package: {out}");
    assert!(
        out.contains("OK    accounts.csv: identical to the re-rendering"),
        "{out}"
    );
}

#[test]
fn a_single_account_report_has_no_per_account_summary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("package");
    let output = report(&fixture("no-resources"), &out, &[]);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        common::stderr(&output)
    );
    assert!(!out.join("accounts.csv").exists());
    assert!(results(&out).get("account_summaries").is_none());
    let html = read(&out.join("report.html"));
    assert!(!html.contains("id=\"accounts\"") && !html.contains("accounts:"));
    let (_, text) = common::pdf_text(&out.join("report.pdf"));
    assert!(!text.contains("Per account"));
}

/// A snapshot of `accounts` copies of the fixture's clean account, each relabelled with its
/// own account id (in its ARNs too), as an organisation-wide run would collect them.
fn organisation_snapshot(accounts: usize) -> Vec<u8> {
    let bytes = std::fs::read(fixture("multi-account")).expect("fixture");
    let mut snapshot: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
    let clean = snapshot["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["account_id"] == CLEAN))
        .expect("the clean account")
        .to_string();
    let ids: Vec<String> = (0..accounts)
        .map(|i| format!("{:012}", 200_000_000_000u64 + i as u64 * 1_000_003))
        .collect();
    snapshot["scope"]["accounts"] = serde_json::json!(ids);
    snapshot["accounts"] = ids
        .iter()
        .map(|id| {
            serde_json::from_str::<serde_json::Value>(&clean.replace(CLEAN, id)).expect("JSON")
        })
        .collect();
    snapshot["gaps"] = serde_json::json!([]);
    // The GxP buckets each relabelled account owns, named with its id like the clean one's.
    snapshot["policy"]["gxp_buckets"] = ids
        .iter()
        .map(|id| serde_json::json!(format!("lims-dr-records-{id}")))
        .collect();
    serde_json::to_vec(&snapshot).expect("serializes")
}

#[test]
fn two_hundred_accounts_render_in_the_pdf_and_the_csv() {
    const ACCOUNTS: usize = 200;
    let evidence = load_bytes("organisation", organisation_snapshot(ACCOUNTS))
        .expect("the relabelled accounts load");
    let model = ReportModel::from_evidence(&evidence, Vec::new());
    assert_eq!(model.account_summaries.len(), ACCOUNTS);
    assert!(
        model
            .account_summaries
            .windows(2)
            .all(|w| w[0].account_id < w[1].account_id),
        "sorted by account id"
    );

    let accounts = csv_rows(&accounts_csv(&model));
    assert_eq!(accounts.len(), ACCOUNTS);
    for (row, summary) in accounts.iter().zip(&model.account_summaries) {
        assert_eq!(row["account_id"], summary.account_id);
        assert_eq!(row["verdict"], "COMPLIANT");
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("report.pdf");
    let rendered = pdf::render(&model, &RenderOptions::default()).expect("renders");
    std::fs::write(&path, rendered.bytes).expect("writes");
    let pages: Vec<String> = pdf_pages(&path).iter().map(|p| squeezed(p)).collect();
    let heading = format!("Per account ({ACCOUNTS} accounts)");
    let first = pages
        .iter()
        .position(|p| p.contains(&heading))
        .expect("the heading");
    // The heading is kept with its table: the first account is on the heading's page.
    let first_id = &model.account_summaries[0].account_id;
    assert!(
        pages[first].contains(&format!("{first_id} 2 of 2")),
        "{}",
        pages[first]
    );
    // The table ends before the first control section, which starts a new page.
    let next_section = pages
        .iter()
        .position(|p| p.contains("apigw-cache-encryption — "))
        .expect("the first control section");
    let table_pages = &pages[first..next_section];
    // About 40 one-line rows fit a page: 200 rows take 5 to 8 pages, never one per account.
    assert!(
        (5..=8).contains(&table_pages.len()),
        "{} pages",
        table_pages.len()
    );
    let table_text = table_pages.join(" ");
    for summary in &model.account_summaries {
        let row = format!("{} 2 of 2: eu-central-1, eu-west-1", summary.account_id);
        assert!(table_text.contains(&row), "{row}");
    }
    // The header row repeats on every page the table reaches.
    for page in &table_pages[1..] {
        assert!(page.contains("Regions collected"), "{page}");
    }
}
