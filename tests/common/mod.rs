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

/// The text of each page of a PDF, in page order.
pub fn pdf_pages(path: &Path) -> Vec<String> {
    let doc = lopdf::Document::load(path).expect("PDF parses");
    doc.get_pages()
        .keys()
        .map(|page| doc.extract_text(&[*page]).expect("text extracts"))
        .collect()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `gxp-evidence keygen --out DIR/NAME.key`; returns the private key path.
pub fn keygen(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(format!("{name}.key"));
    let output = bin()
        .arg("keygen")
        .arg("--out")
        .arg(&key)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    key
}

/// Signs `package` with a local key as `name` with `meaning`; the user id is the name
/// lower-cased.
pub fn sign(package: &Path, key: &Path, name: &str, role: &str, meaning: &str) -> Output {
    bin()
        .arg("sign")
        .arg(package)
        .arg("--key")
        .arg(key)
        .args([
            "--name",
            name,
            "--user-id",
            &name.to_lowercase().replace(' ', "."),
        ])
        .args(["--role", role, "--meaning", meaning])
        .output()
        .expect("runs")
}

/// Runs `verify` and returns its exit code and stdout.
pub fn verify(package: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let output = bin()
        .arg("verify")
        .arg(package)
        .args(extra)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .expect("runs");
    (output.status.code(), stdout(&output))
}

/// The subjects of verify's FAIL lines (`FAIL  subject: message`).
pub fn failed_subjects(verify_output: &str) -> std::collections::BTreeSet<String> {
    verify_output
        .lines()
        .filter_map(|line| line.strip_prefix("FAIL  "))
        .map(|rest| rest.split(": ").next().unwrap_or(rest).to_string())
        .collect()
}

/// The demo package signed by two people: Alice Author (authored) and Bob Approver
/// (approved). Returns the package directory and the two private keys.
pub fn signed_demo(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let package = dir.join("package");
    let output = bin()
        .arg("demo")
        .arg("--out")
        .arg(&package)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let alice = keygen(dir, "alice");
    let bob = keygen(dir, "bob");
    let signed = sign(
        &package,
        &alice,
        "Alice Author",
        "Validation Engineer",
        "authored",
    );
    assert!(signed.status.success(), "{}", stderr(&signed));
    let signed = sign(&package, &bob, "Bob Approver", "QA Manager", "approved");
    assert!(signed.status.success(), "{}", stderr(&signed));
    (package, alice, bob)
}

/// Every file under `dir`, relative, `/`-separated, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).expect("inside");
                files.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    files.sort();
    files
}

pub fn copy_dir(from: &Path, to: &Path) {
    for file in files_under(from) {
        let target = to.join(&file);
        std::fs::create_dir_all(target.parent().expect("has a parent")).expect("mkdir");
        std::fs::copy(from.join(&file), target).expect("copy");
    }
}
