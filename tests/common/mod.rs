//! Helpers shared by the end-to-end tests: running the binary, fixtures, reading outputs.
#![allow(dead_code)]

pub mod aws_stub;
pub mod forge;
pub mod moto;
pub mod trail_digests;
pub mod trail_logs;

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

/// `bin()` as a `std::process::Command`, for a test that runs gxp-evidence in the background.
pub fn bin_process() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gxp-evidence"));
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

/// When the tests' reports are rendered (`report`'s own clock, given to the debug binary as
/// `GXP_EVIDENCE_TEST_NOW`): after the demo's collection, before its sign-offs.
/// The demo snapshot reduced to one of its accounts (scope, accounts, gaps and the policy's GxP
/// buckets), for crafted snapshots that start from a known state: the DR account
/// `444455556666` is compliant.
pub fn demo_account_alone(account_id: &str) -> serde_json::Value {
    let mut demo: serde_json::Value =
        serde_json::from_str(gxp_evidence::evidence::DEMO_EVIDENCE).expect("the demo is JSON");
    let account = demo["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["account_id"] == account_id)
        .expect("the account is in the demo")
        .clone();
    demo["scope"]["accounts"] = serde_json::json!([account_id]);
    // The policy keeps the GxP buckets the account owns: the others' owner is out of scope.
    let owned: Vec<serde_json::Value> = account["s3_buckets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|bucket| bucket["Name"].clone())
        .filter(|name| {
            demo["policy"]["gxp_buckets"]
                .as_array()
                .is_some_and(|listed| listed.contains(name))
        })
        .collect();
    demo["policy"]["gxp_buckets"] = serde_json::Value::Array(owned);
    demo["accounts"] = serde_json::json!([account]);
    demo["gaps"] = serde_json::json!([]);
    demo
}

/// Evaluates a crafted snapshot (JSON), loaded as a file would be: the load's checks apply.
pub fn evaluate_crafted(snapshot: &serde_json::Value) -> gxp_evidence::controls::Evaluation {
    let bytes = serde_json::to_vec(snapshot).expect("serialises");
    let loaded = gxp_evidence::evidence::load_bytes("crafted.json", bytes)
        .unwrap_or_else(|e| panic!("loads: {e}"));
    gxp_evidence::controls::evaluate(&loaded.snapshot)
}

pub const RENDERED_AT: &str = "2026-11-01T07:00:00Z";

/// `report --evidence EVIDENCE --out OUT EXTRA…`, rendered at `RENDERED_AT`.
pub fn report(evidence: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut cmd = bin();
    cmd.env(TEST_NOW_VAR, RENDERED_AT);
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

/// The command was refused: exit code 2, with `expected` in its message.
pub fn assert_refused(output: &Output, expected: &str) {
    let message = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains(expected), "`{expected}` not in: {message}");
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

/// The environment variable the test helpers pass a key's passphrase in
/// (`--passphrase-env`), and the passphrase of every test key (`tests/fixtures/signing/` too).
pub const PASSPHRASE_VAR: &str = "GXP_TEST_KEY_PASSPHRASE";
pub const TEST_PASSPHRASE: &str = "gxp-evidence test passphrase";

/// `gxp-evidence keygen --out DIR/NAME.key` under `TEST_PASSPHRASE`; returns the private key
/// path.
pub fn keygen(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(format!("{name}.key"));
    let output = bin()
        .arg("keygen")
        .arg("--out")
        .arg(&key)
        .args(["--passphrase-env", PASSPHRASE_VAR])
        .env(PASSPHRASE_VAR, TEST_PASSPHRASE)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    key
}

/// Signs `package` with a local key as `name` with `meaning`, at this machine's clock; the user
/// id is the name lower-cased.
pub fn sign(package: &Path, key: &Path, name: &str, role: &str, meaning: &str) -> Output {
    sign_command(package, key, name, role, meaning)
        .output()
        .expect("runs")
}

/// `sign` at a fixed time (RFC 3339), given to the debug binary as `GXP_EVIDENCE_TEST_NOW`.
pub fn sign_at(
    package: &Path,
    key: &Path,
    name: &str,
    role: &str,
    meaning: &str,
    now: &str,
) -> Output {
    sign_command(package, key, name, role, meaning)
        .env(TEST_NOW_VAR, now)
        .output()
        .expect("runs")
}

/// The `sign` command line of `sign` and `sign_at`, not yet run.
pub fn sign_command(
    package: &Path,
    key: &Path,
    name: &str,
    role: &str,
    meaning: &str,
) -> assert_cmd::Command {
    let mut cmd = bin();
    cmd.arg("sign")
        .arg(package)
        .arg("--key")
        .arg(key)
        .args(["--name", name, "--user-id", &user_id(name)])
        .args(["--role", role, "--meaning", meaning])
        .args(["--passphrase-env", PASSPHRASE_VAR])
        .env(PASSPHRASE_VAR, TEST_PASSPHRASE);
    cmd
}

/// The user id the helpers sign with: the name lower-cased, spaces as dots.
pub fn user_id(name: &str) -> String {
    name.to_lowercase().replace(' ', ".")
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

/// The environment variable a debug build of gxp-evidence takes its signing clock from.
pub const TEST_NOW_VAR: &str = "GXP_EVIDENCE_TEST_NOW";
/// The sign-off times of the shared demo (its evidence was collected 2026-11-01T06:00:00Z).
pub const ALICE_SIGNS_AT: &str = "2026-11-02T09:00:00Z";
pub const BOB_SIGNS_AT: &str = "2026-11-03T14:30:00Z";

/// One of the tests' fixed Ed25519 keys (`tests/fixtures/signing/NAME.key`, made with
/// `openssl genpkey -algorithm ed25519` and encrypted under `TEST_PASSPHRASE` with
/// `openssl pkcs8 -topk8 -scrypt`; `alice` or `bob`), copied into `dir` with mode
/// 0600 as `sign` requires, its public key beside it. Returns the private key's path.
pub fn fixed_key(dir: &Path, name: &str) -> PathBuf {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/signing");
    let key = dir.join(format!("{name}.key"));
    for file in [format!("{name}.key"), format!("{name}.key.pub")] {
        std::fs::copy(fixtures.join(&file), dir.join(&file)).expect("copy the fixed key");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    key
}

/// The demo package built once per test binary with the fixed keys and clock: the unsigned
/// draft, the state after Alice Author's sign-off (Validation Engineer, authored) and the
/// state after Bob Approver's (QA Manager, approved); and the same two sign-offs on the CSV
/// files alone, for tests that read no PDF or HTML (verifying it renders only CSV). Read
/// them, never change them: a test that changes a package works on a copy (`copy_dir`).
pub struct SharedDemo {
    root: PathBuf,
    pub draft: PathBuf,
    pub after_alice: PathBuf,
    pub signed: PathBuf,
    pub signed_csv: PathBuf,
    pub alice: PathBuf,
    pub bob: PathBuf,
}

static SHARED_DEMO: std::sync::OnceLock<SharedDemo> = std::sync::OnceLock::new();

pub fn shared_demo() -> &'static SharedDemo {
    SHARED_DEMO.get_or_init(|| {
        let root = tempfile::Builder::new()
            .prefix("gxp-evidence-shared-demo-")
            .tempdir()
            .expect("temp dir")
            .keep();
        remove_shared_demo_at_exit();
        let demo = SharedDemo {
            draft: root.join("draft/package"),
            after_alice: root.join("after-alice/package"),
            signed: root.join("signed/package"),
            signed_csv: root.join("signed-csv/package"),
            alice: fixed_key(&root, "alice"),
            bob: fixed_key(&root, "bob"),
            root,
        };
        let output = bin()
            .arg("demo")
            .arg("--out")
            .arg(&demo.draft)
            .env(TEST_NOW_VAR, RENDERED_AT)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let output = report(&demo_evidence(), &demo.signed_csv, &["--format", "csv"]);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        copy_dir(&demo.draft, &demo.after_alice);
        for package in [&demo.after_alice, &demo.signed_csv] {
            let signed = sign_at(
                package,
                &demo.alice,
                "Alice Author",
                "Validation Engineer",
                "authored",
                ALICE_SIGNS_AT,
            );
            assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
        }
        copy_dir(&demo.after_alice, &demo.signed);
        for package in [&demo.signed, &demo.signed_csv] {
            let signed = sign_at(
                package,
                &demo.bob,
                "Bob Approver",
                "QA Manager",
                "approved",
                BOB_SIGNS_AT,
            );
            assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
        }
        demo
    })
}

/// The shared demo lives for the process: a static is never dropped, so its directory is
/// removed by the C library's exit handlers (which `std::process::exit` and a return from
/// `main` both run).
fn remove_shared_demo_at_exit() {
    #[cfg(unix)]
    {
        unsafe extern "C" {
            fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
        }
        extern "C" fn remove() {
            if let Some(demo) = SHARED_DEMO.get() {
                let _ = std::fs::remove_dir_all(&demo.root);
            }
        }
        // SAFETY: registers a function without arguments, as atexit(3) expects.
        unsafe {
            atexit(remove);
        }
    }
}

/// The demo package signed by two people: Alice Author (authored) and Bob Approver
/// (approved), with the fixed keys at the fixed times. A copy of the shared demo in `dir`;
/// returns the package directory and the two private keys (copied beside it).
pub fn signed_demo(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let shared = shared_demo();
    let package = dir.join("package");
    copy_dir(&shared.signed, &package);
    (package, fixed_key(dir, "alice"), fixed_key(dir, "bob"))
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

/// Every file of a package with its bytes, sorted by path, to compare packages exactly.
pub fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files_under(dir)
        .into_iter()
        .map(|file| {
            let bytes = std::fs::read(dir.join(&file)).unwrap();
            (file, bytes)
        })
        .collect()
}

/// The demo as an unsigned package with only the CSV files, for tests that read no PDF or
/// HTML (fast to write, sign and verify: they re-render only what it holds).
pub fn csv_draft(package: &Path) {
    let output = report(&demo_evidence(), package, &["--format", "csv"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}

pub fn copy_dir(from: &Path, to: &Path) {
    for file in files_under(from) {
        let target = to.join(&file);
        std::fs::create_dir_all(target.parent().expect("has a parent")).expect("mkdir");
        std::fs::copy(from.join(&file), target).expect("copy");
    }
}

/// The demo evidence with every timestamp moved `months` months earlier (a day past the end
/// of a shorter month becomes its last day), so it reports on another calendar month.
pub fn shifted_evidence(months: u32, system_name: Option<&str>) -> String {
    use chrono::{Months, NaiveDateTime};
    let text = read(&demo_evidence());
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    // `YYYY-MM-DDTHH:MM:SS`, anywhere (also inside CloudTrail's embedded event JSON).
    let is_timestamp = |at: usize| {
        let pattern = b"dddd-dd-ddTdd:dd:dd";
        at + pattern.len() <= bytes.len()
            && pattern.iter().zip(&bytes[at..]).all(|(p, b)| match p {
                b'd' => b.is_ascii_digit(),
                other => other == b,
            })
    };
    while i < bytes.len() {
        if is_timestamp(i) {
            let stamp = &text[i..i + 19];
            let parsed = NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H:%M:%S")
                .unwrap_or_else(|e| panic!("{stamp}: {e}"));
            let moved = parsed
                .checked_sub_months(Months::new(months))
                .expect("in range");
            out.push_str(&moved.format("%Y-%m-%dT%H:%M:%S").to_string());
            i += 19;
        } else {
            let ch = text[i..].chars().next().expect("a character");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    match system_name {
        Some(name) => {
            let demo_name =
                "\"system_name\": \"LIMS Production — Qualitätskontrolle Zürich & Łódź\"";
            assert!(out.contains(demo_name));
            out.replacen(
                demo_name,
                &format!("\"system_name\": {}", serde_json::json!(name)),
                1,
            )
        }
        None => out,
    }
}

/// A JSON file written by the tool, parsed.
pub fn load_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&read(path)).expect("JSON")
}

/// A time in epoch seconds (the stub's and moto's periods) as UTC.
pub fn utc(epoch: i64) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc
        .timestamp_opt(epoch, 0)
        .single()
        .expect("in range")
}
