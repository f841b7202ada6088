//! Snapshot tests (insta) of the demo report's HTML and CSV files: any change to what a
//! reader sees shows up as a reviewable diff.

use gxp_evidence::evidence::{DEMO_EVIDENCE, load_bytes};
use gxp_evidence::report::ReportModel;
use gxp_evidence::report::render::{RenderOptions, csv, html};

fn demo_model() -> ReportModel {
    let evidence = load_bytes("demo", DEMO_EVIDENCE.as_bytes().to_vec()).expect("the demo loads");
    ReportModel::from_evidence(&evidence, Vec::new())
}

#[test]
fn demo_html() {
    let rendered = html::render(&demo_model(), &RenderOptions::default()).expect("renders");
    let text = String::from_utf8(rendered.bytes).expect("UTF-8");
    insta::assert_snapshot!("demo_report.html", text);
}

/// Every CSV file the report promises, no more and no fewer.
const CSV_FILES: [&str; 10] = [
    "accounts.csv",
    "changes.csv",
    "findings.csv",
    "gaps.csv",
    "keys.csv",
    "methods.csv",
    "replication_groups.csv",
    "signoffs.csv",
    "trail_buckets.csv",
    "trails.csv",
];

#[test]
fn demo_csv_files() {
    let files = csv::render(&demo_model(), &RenderOptions::default()).expect("renders");
    let mut names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    names.sort();
    assert_eq!(names, CSV_FILES, "the set of CSV files");
    for file in files {
        // insta normalises line ends, so RFC 4180's CRLF is checked on the raw bytes.
        assert_crlf_records(&file.name, &file.bytes);
        let text = String::from_utf8(file.bytes).expect("UTF-8");
        insta::assert_snapshot!(format!("demo_{}", file.name), text);
    }
}

/// Every record ends with CRLF (RFC 4180 §2.1–2.2): no bare LF outside a quoted cell, the
/// file ends with CRLF, and there is one terminator per record.
fn assert_crlf_records(name: &str, bytes: &[u8]) {
    assert!(bytes.ends_with(b"\r\n"), "{name} does not end with CRLF");
    let mut quoted = false;
    let mut terminators = 0;
    for (i, byte) in bytes.iter().enumerate() {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                assert!(
                    i > 0 && bytes[i - 1] == b'\r',
                    "{name}: bare LF at byte {i}"
                );
                terminators += 1;
            }
            _ => {}
        }
    }
    let records = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .count();
    assert_eq!(terminators, records, "{name}: one CRLF per record");
}

/// The demo with two sign-offs made by fixed keys at fixed times: the manifestations in the
/// HTML (header and sign-off section) and in signoffs.csv.
fn signed_demo_model() -> ReportModel {
    use gxp_evidence::evidence::Timestamp;
    use gxp_evidence::package::signoff::{SignoffFile, SignoffRecord};
    use gxp_evidence::signing::{encode_signature, local::LocalKey};
    let evidence = load_bytes("demo", DEMO_EVIDENCE.as_bytes().to_vec()).expect("the demo loads");
    let results_sha256 = gxp_evidence::evidence::sha256_hex(
        &ReportModel::from_evidence(&evidence, Vec::new()).to_results_json(),
    );
    let mut records: Vec<SignoffRecord> = Vec::new();
    for (secret, name, role, meaning, at) in [
        (
            1u8,
            "Alice Author",
            "Validation Engineer",
            "authored",
            "2026-11-02T09:15:00Z",
        ),
        (
            2u8,
            "Bob Approver",
            "QA Manager",
            "approved",
            "2026-11-03T16:40:05Z",
        ),
    ] {
        let key = LocalKey::from_secret([secret; 32]);
        let mut record = SignoffRecord {
            sequence: records.len() as u32 + 1,
            report_id: "GXP-2026-10-44a4e0c136da".into(),
            printed_name: name.into(),
            user_id: name.to_lowercase().replace(' ', "."),
            role: role.into(),
            meaning: meaning.into(),
            signed_at: Timestamp::parse(at).expect("valid"),
            evidence_sha256: evidence.sha256.clone(),
            results_sha256: results_sha256.clone(),
            previous_signoff_sha256: records.last().map(SignoffRecord::digest),
            key: key.info.clone(),
            unencrypted_key_reason: None,
            signature: String::new(),
        };
        record.signature = encode_signature(&key.sign(&record.statement()));
        records.push(record);
    }
    let file = SignoffFile::new("GXP-2026-10-44a4e0c136da", records);
    ReportModel::from_evidence(&evidence, file.manifestations())
}

#[test]
fn signed_demo_manifestations() {
    let model = signed_demo_model();
    let html = html::render(&model, &RenderOptions::default()).expect("renders");
    let text = String::from_utf8(html.bytes).expect("UTF-8");
    let header = text
        .lines()
        .find(|line| line.contains("Signed: "))
        .expect("the header carries the signatures");
    let start = text
        .find("<section id=\"signoff\"")
        .expect("sign-off section");
    let end = start + text[start..].find("</section>").expect("section ends");
    insta::assert_snapshot!(
        "signed_demo_signoff.html",
        format!("{header}\n{}", &text[start..end])
    );
    let signoffs = csv::render(&model, &RenderOptions::default())
        .expect("renders")
        .into_iter()
        .find(|f| f.name == "signoffs.csv")
        .expect("signoffs.csv");
    insta::assert_snapshot!(
        "signed_demo_signoffs.csv",
        String::from_utf8(signoffs.bytes).expect("UTF-8")
    );
}
