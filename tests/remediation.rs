//! End-to-end tests of the fix per finding (issue 15): every FAIL of the demo carries its
//! remediation with its own identifiers, in findings.csv, results.json, the PDF and the HTML;
//! API Gateway methods are named by their path.

mod common;

use std::path::Path;

use common::*;

/// The demo package, written once per test into its own directory.
fn demo(dir: &Path) -> std::path::PathBuf {
    let out = dir.join("demo");
    let output = bin()
        .arg("demo")
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    // The demo sample is non-compliant by design.
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    out
}

/// findings.csv as header → value maps.
fn findings_csv(out: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let text = read(&out.join("findings.csv"));
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("header row").clone();
    reader
        .records()
        .map(|record| {
            let record = record.expect("CSV row");
            headers
                .iter()
                .zip(record.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// The identifiers a finding's fix must name, read from how the result names its resource:
/// `name (api-id) stage s`, an HTTP or WebSocket API's stage or route, `key-id (alias/…)`, a trail ARN, `EventName restapi … `, or an
/// account-wide row (its account).
fn identifiers(resource: &str, account_id: &str) -> Vec<String> {
    let words: Vec<&str> = resource.split_whitespace().collect();
    let bare = |w: &str| w.trim_matches(|c| c == '(' || c == ')').to_string();
    match words.as_slice() {
        [w] if w.starts_with('(') => vec![account_id.to_string()],
        [_, "restapi", api, "stage", stage] => vec![api.to_string(), stage.to_string()],
        [_, "restapi", api, _, _, "(resource", id] => vec![api.to_string(), bare(id)],
        [_, "restapi", api, "resource", id, _] => vec![api.to_string(), id.to_string()],
        [_, api, "stage", stage] => vec![bare(api), stage.to_string()],
        // HTTP and WebSocket APIs: `name (api-id) HTTP API stage s`, `… API route KEY (route-id)`.
        [_, api, _, "API", "stage", stage] => vec![bare(api), stage.to_string()],
        [_, api, _, "API", "route", .., route] => vec![bare(api), bare(route)],
        [event, id] if event.chars().next().is_some_and(char::is_uppercase) => {
            vec![id.to_string()]
        }
        [id, ..] => vec![id.to_string()],
        [] => vec![account_id.to_string()],
    }
}

#[test]
fn every_fail_in_findings_csv_has_a_fix_naming_its_resource() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo(dir.path());
    let rows = findings_csv(&out);
    let fails: Vec<_> = rows.iter().filter(|r| r["status"] == "FAIL").collect();
    assert!(fails.len() > 20, "the demo has many FAIL rows");
    for row in &fails {
        let fix = &row["remediation"];
        assert!(!fix.is_empty(), "no remediation for {row:?}");
        for id in identifiers(&row["resource"], &row["account_id"]) {
            assert!(fix.contains(&id), "{id} not in the fix of {row:?}");
        }
    }
    for row in rows.iter().filter(|r| r["status"] != "FAIL") {
        assert_eq!(row["remediation"], "", "a non-FAIL row with a fix: {row:?}");
    }
    // A failing method override is patched on its own escaped path, a stage-wide setting on /*/*.
    let fix_of = |control: &str, resource: &str, view: &str| {
        fails
            .iter()
            .find(|r| r["control_id"] == control && r["resource"] == resource && r["view"] == view)
            .map(|r| r["remediation"].clone())
            .unwrap_or_else(|| panic!("no FAIL {control} {resource} {view}"))
    };
    assert_eq!(
        fix_of(
            "apigw-cache-encryption",
            "lims-results-api (k7x2m9p4qa) stage prod",
            "security_hub"
        ),
        "aws apigateway update-stage --rest-api-id k7x2m9p4qa --stage-name prod --region \
         eu-central-1 --patch-operations \
         'op=replace,path=/~1samples~1{sampleId}/GET/caching/dataEncrypted,value=true'"
    );
    assert_eq!(
        fix_of(
            "apigw-logging",
            "lims-reporting-api (q9w4e7r2ty) stage dev",
            ""
        ),
        "aws apigateway update-stage --rest-api-id q9w4e7r2ty --stage-name dev --region \
         eu-west-1 --patch-operations 'op=replace,path=/*/*/logging/loglevel,value=ERROR'"
    );
}

#[test]
fn results_json_carries_the_fix_of_each_fail_and_only_of_a_fail() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo(dir.path());
    let results = results(&out);
    let findings = results["findings"].as_array().expect("findings");
    for finding in findings {
        let fix = finding.get("remediation").and_then(|v| v.as_str());
        if finding["status"] == "FAIL" {
            assert!(fix.is_some_and(|f| !f.is_empty()), "{finding}");
        } else {
            assert!(fix.is_none(), "{finding}");
        }
    }
}

/// Text without its whitespace: PDF lines wrap where the layout breaks them.
fn squeezed(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The HTML's text as a reader sees it: markup (`<wbr>` break hints, no-wrap spans) dropped,
/// escapes decoded.
fn unescape_html(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(ch),
            _ => {}
        }
    }
    text.replace("&#x27;", "'")
        .replace("&#x2F;", "/")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn the_pdf_and_the_html_show_each_fix_under_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo(dir.path());
    let (_, pdf) = pdf_text(&out.join("report.pdf"));
    let pdf = squeezed(&pdf);
    let html = squeezed(&unescape_html(&read(&out.join("report.html"))));
    let rows = findings_csv(&out);
    for row in rows.iter().filter(|r| r["status"] == "FAIL") {
        let shown = squeezed(&format!("Remediation: {}", row["remediation"]));
        assert!(pdf.contains(&shown), "PDF lacks {}", row["remediation"]);
        assert!(html.contains(&shown), "HTML lacks {}", row["remediation"]);
    }
}

#[test]
fn api_gateway_methods_are_named_by_their_path_not_their_resource_id() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo(dir.path());
    let changes = read(&out.join("changes.csv"));
    assert!(
        changes.contains("restapi k7x2m9p4qa GET /health (resource a1f07ba88)"),
        "{changes}"
    );
    assert!(!changes.contains("resource a1f07ba88 GET"), "{changes}");
    let (_, pdf) = pdf_text(&out.join("report.pdf"));
    assert!(squeezed(&pdf).contains("GET/health(resourcea1f07ba88)"));
}

#[test]
fn a_setting_corrected_after_the_period_needs_no_command_only_a_deviation() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo(dir.path());
    // lims-instrument-gateway prod: cache encryption off from 2026-10-14 to the period's end,
    // turned on again at 2026-11-01 03:41 before collection.
    let row = findings_csv(&out)
        .into_iter()
        .find(|r| {
            r["control_id"] == "apigw-cache-encryption"
                && r["view"] == "security_hub"
                && r["resource"].contains("b3n8v1c6rt")
                && r["resource"].ends_with("stage prod")
        })
        .expect("the prod stage's lenient row");
    assert_eq!(row["status"], "FAIL");
    assert!(
        row["remediation"].starts_with("No command to run:"),
        "{}",
        row["remediation"]
    );
}
