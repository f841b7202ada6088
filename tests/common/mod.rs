//! Helpers shared by the end-to-end tests: running the binary, fixtures, reading outputs.
#![allow(dead_code)]

pub mod aws_stub;

use std::path::{Path, PathBuf};
use std::process::Output;

pub fn bin() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("gxp-evidence").expect("binary builds");
    // Tests never reach AWS: make sure no ambient credentials or config are used.
    cmd.env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    cmd
}

pub fn fixture(scenario: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(scenario)
        .join("evidence.json")
}

pub fn demo_evidence() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/demo-evidence.json")
}

pub fn report(evidence: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut cmd = bin();
    cmd.arg("report")
        .arg("--evidence")
        .arg(evidence)
        .arg("--out")
        .arg(out)
        .args(extra);
    cmd.output().expect("runs")
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn results(out: &Path) -> serde_json::Value {
    serde_json::from_str(&read(&out.join("results.json"))).expect("results.json is JSON")
}

/// Page count and the text of every page, extracted from the PDF as a reader would.
pub fn pdf_text(path: &Path) -> (usize, String) {
    let doc = lopdf::Document::load(path).expect("PDF parses");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).expect("text extracts");
    (pages.len(), text)
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
