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

#[test]
fn demo_csv_files() {
    for file in csv::render(&demo_model()).expect("renders") {
        let text = String::from_utf8(file.bytes).expect("UTF-8");
        insta::assert_snapshot!(format!("demo_{}", file.name), text);
    }
}
