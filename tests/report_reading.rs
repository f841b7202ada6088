//! A report that reads cleanly (issue 15): CSV files that Excel and scripts read right (a
//! UTF-8 byte order mark unless turned off, one timestamp format, empty cells for missing
//! numbers), an HTML report that prints like the PDF (status legend, running header and
//! footer with report id, page numbers and signature status), the one-page picture in both,
//! and failed calls shown as failed calls.

mod common;

use std::fs;
use std::path::Path;

use common::*;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

fn csv_files(package: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(package)
        .expect("package readable")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "csv"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&path).expect("CSV readable"))
        })
        .collect();
    files.sort();
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    for expected in [
        "changes.csv",
        "findings.csv",
        "gaps.csv",
        "keys.csv",
        "methods.csv",
        "replication_groups.csv",
        "signoffs.csv",
        "trails.csv",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    files
}

/// A CSV file's header and records, the byte order mark (if any) taken off first.
fn records(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("record").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

fn signed_copy(dir: &Path, extra: &[&str]) -> std::path::PathBuf {
    let package = dir.join("package");
    let output = report(&demo_evidence(), &package, extra);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let key = fixed_key(dir, "alice");
    let signed = sign_at(
        &package,
        &key,
        "Alice Author",
        "Validation Engineer",
        "authored",
        ALICE_SIGNS_AT,
    );
    assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
    package
}

#[test]
fn csv_files_carry_a_byte_order_mark_unless_turned_off_and_verify_passes_either_way() {
    for (extra, bom) in [
        (&[][..], true),
        (&["--csv-bom"][..], true),
        (&["--no-csv-bom"][..], false),
        // The last of the two wins, as with any pair of opposite flags.
        (&["--no-csv-bom", "--csv-bom"][..], true),
    ] {
        let dir = tempfile::tempdir().unwrap();
        // Signing re-renders every file with the manifest's settings: the choice must survive.
        let package = signed_copy(dir.path(), extra);
        for (name, bytes) in csv_files(&package) {
            assert_eq!(bytes.starts_with(UTF8_BOM), bom, "{extra:?}: {name}");
            assert!(
                !bytes[3..].windows(3).any(|w| w == UTF8_BOM),
                "{name}: one mark, at the start only"
            );
        }
        let manifest: serde_json::Value =
            serde_json::from_str(&read(&package.join("manifest.json"))).unwrap();
        assert_eq!(manifest["render"]["csv_bom"], bom, "{extra:?}");
        let (code, out) = verify(&package, &[]);
        assert_eq!(code, Some(0), "{extra:?}: {out}");
        assert!(
            out.contains("OK    changes.csv: identical to the re-rendering"),
            "{out}"
        );
    }
}

/// Columns that hold a point in time, by their names.
fn is_time_column(name: &str) -> bool {
    name.ends_with("_at")
        || name.ends_with("_time")
        || name.ends_with("_date")
        || name == "latest_delivery"
}

#[test]
fn every_csv_time_is_rfc3339_utc_and_missing_numbers_are_empty() {
    let demo = shared_demo();
    let mut time_cells = 0;
    let mut numeric_columns = 0;
    for package in [&demo.draft, &demo.signed] {
        for (name, bytes) in csv_files(package) {
            let (header, rows) = records(&bytes);
            for row in &rows {
                for (column, cell) in header.iter().zip(row) {
                    assert_ne!(
                        cell, "—",
                        "{name} {column}: a dash instead of an empty cell"
                    );
                    if is_time_column(column) && !cell.is_empty() {
                        time_cells += 1;
                        // RFC 3339 in UTC: `2026-10-05T14:03:00Z`, fractions allowed.
                        let (date, time) = cell
                            .split_once('T')
                            .unwrap_or_else(|| panic!("{name} {column}: `{cell}` has no T"));
                        let time = time
                            .strip_suffix('Z')
                            .unwrap_or_else(|| panic!("{name} {column}: `{cell}` is not UTC (Z)"));
                        let digits = |s: &str, sep: char, parts: usize| {
                            let split: Vec<&str> = s.split(sep).collect();
                            split.len() == parts
                                && split.iter().all(|p| {
                                    !p.is_empty()
                                        && p.chars().all(|c| c.is_ascii_digit() || c == '.')
                                })
                        };
                        assert!(
                            digits(date, '-', 3) && digits(time, ':', 3),
                            "{name} {column}: `{cell}` is not RFC 3339"
                        );
                    }
                }
            }
            // A column with a number in any row has a number or nothing in every row.
            for (i, column) in header.iter().enumerate() {
                let cells: Vec<&str> = rows.iter().map(|r| r[i].as_str()).collect();
                let is_number = |c: &&str| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_digit());
                if column != "report_id" && cells.iter().any(is_number) {
                    if !column.ends_with("_id") {
                        numeric_columns += 1;
                    }
                    if column.ends_with("_id") || column.ends_with("_arn") {
                        continue;
                    }
                    assert!(
                        cells.iter().all(|c| c.is_empty() || is_number(c)),
                        "{name} {column}: {cells:?}"
                    );
                }
            }
        }
    }
    assert!(time_cells > 40, "{time_cells} times checked");
    assert!(
        numeric_columns >= 5,
        "{numeric_columns} numeric columns checked"
    );
}

/// The characters of a CSS string, its escapes (`\2d `) decoded.
fn css_unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        let mut hex = String::new();
        while let Some(c) = chars
            .peek()
            .filter(|c| c.is_ascii_hexdigit() && hex.len() < 6)
        {
            hex.push(*c);
            chars.next();
        }
        if chars.peek() == Some(&' ') {
            chars.next();
        }
        out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
    }
    out
}

/// The decoded `content` string of a margin box (`@top-right`, …) of the HTML's `@page` rules.
fn margin_box(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("@{name} {{ content: \""))?;
    let rest = &html[at..];
    let start = rest.find('"')? + 1;
    let end = start + rest[start..].find('"')?;
    Some(css_unescape(&rest[start..end]))
}

#[test]
fn the_html_prints_with_a_legend_and_running_header_and_footer() {
    let demo = shared_demo();
    let results = results(&demo.draft);
    let report_id = results["report_id"].as_str().unwrap();
    let html = read(&demo.draft.join("report.html"));

    // The legend explains every status, as the PDF's does.
    let legend = &html[html.find("<table class=\"legend\">").expect("a legend")..];
    let legend = &legend[..legend.find("</table>").unwrap()];
    for (status, meaning) in [
        ("PASS", "The control is met for the resource."),
        ("FAIL", "The control is not met for the resource."),
        ("NOT_APPLICABLE", "outside the control&#x27;s scope"),
        ("NO_RESOURCES", "nothing was in scope"),
        ("EVIDENCE_GAP", "could not be collected"),
    ] {
        assert!(
            legend.contains(&format!("status-{status}\">{status}</td>")),
            "{status}"
        );
        assert!(legend.contains(meaning), "{meaning}");
    }

    // Printed pages carry the report id, the page number and the signature status.
    assert!(html.contains("size: A4 landscape"));
    assert!(html.contains("counter(page)") && html.contains("counter(pages)"));
    assert_eq!(
        margin_box(&html, "top-right").as_deref(),
        Some(format!("Report {report_id}").as_str())
    );
    assert_eq!(
        margin_box(&html, "bottom-left").as_deref(),
        Some("DRAFT — not signed")
    );
    let signed = read(&demo.signed.join("report.html"));
    let footer = margin_box(&signed, "bottom-left").expect("a signature footer");
    assert!(
        footer.starts_with("Signed: Alice Author (authored)") && footer.contains("Bob Approver"),
        "{footer}"
    );

    // No sort arrows: nothing sorts the tables (the report runs no script).
    assert!(!html.contains("\\2195") && !html.contains('\u{2195}'));
    assert!(!html.contains("<script"));
}

#[test]
fn a_hostile_system_name_cannot_leave_the_page_rules() {
    let dir = tempfile::tempdir().unwrap();
    let mut evidence: serde_json::Value = serde_json::from_str(&read(&demo_evidence())).unwrap();
    let hostile = "LIMS\"; } body { background: \\75 rl(http://127.0.0.1:9/x) } </style><script>alert(1)</script>\n@import 'x';";
    evidence["system_name"] = serde_json::Value::String(hostile.into());
    let file = dir.path().join("evidence.json");
    fs::write(&file, serde_json::to_vec(&evidence).unwrap()).unwrap();
    let out = dir.path().join("out");
    let output = report(&file, &out, &["--format", "html"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let html = read(&out.join("report.html"));
    assert!(!html.contains("<script"), "a script got in");
    let head = &html[..html.find("</head>").unwrap()];
    assert_eq!(
        head.matches("</style>").count(),
        2,
        "only the two style elements close"
    );
    // The system name is in the title as escaped text, and in the page rules as CSS escapes
    // only: nothing of it reads as CSS.
    let page_rules = &head[head.rfind("<style>").unwrap()..];
    for load in ["url(", "\\75 rl(", "@import", "body {", "\""] {
        assert!(
            !page_rules
                .replace("content: \"", "")
                .replace("\";", "")
                .contains(load),
            "{load} in the page rules: {page_rules}"
        );
    }
    let title = margin_box(&html, "top-left").expect("a running title");
    assert!(title.starts_with("LIMS\"; } body"), "{title}");
}

#[test]
fn the_summary_shows_status_bars_and_a_timeline_in_html_and_pdf() {
    let demo = shared_demo();
    let results = results(&demo.draft);
    let summary = results["summary"].as_array().unwrap();
    let labels: Vec<String> = summary
        .iter()
        .map(|s| {
            let id = s["control_id"].as_str().unwrap();
            match s["view"].as_str() {
                Some("security_hub") | Some("SECURITY_HUB") => format!("{id} · lenient"),
                Some(_) => format!("{id} · strict"),
                None => id.to_string(),
            }
        })
        .collect();
    let changes = results["changes"].as_array().unwrap();
    let failed = changes
        .iter()
        .filter(|c| !c["error_code"].as_str().unwrap_or("").is_empty())
        .count();
    let weakening = changes
        .iter()
        .filter(|c| {
            c["error_code"].as_str().unwrap_or("").is_empty() && c["classification"] == "WEAKENING"
        })
        .count();
    assert!(failed > 0 && weakening > 0);
    let lanes = [
        format!("Weakening changes applied ({weakening})"),
        format!("Failed calls (no change) ({failed})"),
        "Logging gaps (1)".to_string(),
    ];

    // HTML: one inline SVG in the summary section, one labelled bar per summary row.
    let html = read(&demo.draft.join("report.html"));
    assert_eq!(html.matches("<svg").count(), 1);
    let section = &html[html.find("<section id=\"summary\"").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    let svg = &section[section.find("<svg").expect("the SVG is in the summary")..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    for label in &labels {
        assert_eq!(
            svg.matches(&format!(">{label}</text>")).count(),
            1,
            "one bar labelled {label}"
        );
    }
    assert_eq!(
        svg.matches("fill=\"#eef1f5\"").count(),
        labels.len() + 4,
        "a track per bar and per timeline lane"
    );
    for lane in &lanes {
        assert!(svg.contains(&format!(">{lane}</text>")), "{lane}");
    }

    // PDF: the same picture on the summary page, as vector shapes and text.
    let pages = pdf_pages(&demo.draft.join("report.pdf"));
    let page = pages
        .iter()
        .find(|p| p.contains("Summary") && p.contains("Results per control"))
        .expect("the summary page has the status bars");
    assert!(page.contains("Verdict: NON_COMPLIANT"));
    for text in labels.iter().chain(&lanes) {
        assert!(page.contains(text.as_str()), "{text} on the summary page");
    }
    assert!(page.contains("at a glance (UTC)"));
}

#[test]
fn failed_calls_read_as_failed_calls_never_as_weakening() {
    let demo = shared_demo();
    let results = results(&demo.draft);
    let failed: Vec<&serde_json::Value> = results["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["error_code"].as_str().unwrap_or("").is_empty())
        .collect();
    assert!(!failed.is_empty());

    let html = read(&demo.draft.join("report.html"));
    let register = &html[html.find("<section id=\"changes\"").unwrap()..];
    assert_eq!(
        register
            .matches("<td class=\"class-FAILED_CALL\">FAILED CALL<br>")
            .count(),
        failed.len()
    );
    // Each failed call's row: FAILED CALL with its error code, then the outcome "failed".
    for change in &failed {
        let code = change["error_code"].as_str().unwrap();
        assert!(register.contains(&format!("({code})")), "{code}");
    }
    assert_eq!(register.matches("<td>failed</td>").count(), failed.len());

    let (_, pdf) = pdf_text(&demo.draft.join("report.pdf"));
    assert_eq!(pdf.matches("FAILED CALL").count(), failed.len(), "{pdf}");

    // changes.csv keeps the honest classification (the failed call changed nothing: NEUTRAL)
    // with the outcome and error code beside it.
    let (header, rows) = records(&fs::read(demo.draft.join("changes.csv")).unwrap());
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let failed_rows: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r[column("outcome")] == "failed")
        .collect();
    assert_eq!(failed_rows.len(), failed.len());
    for row in failed_rows {
        assert_ne!(row[column("classification")], "WEAKENING");
        assert!(!row[column("error_code")].is_empty());
    }
}
