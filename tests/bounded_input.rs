//! Untrusted packages and inputs (issue 14): memory and time stay bounded whatever the input
//! (an oversized or endless evidence file, a forged package with special files or a file far
//! longer than its manifest says, a megabyte-long system name), and bad input gets a clear
//! message (an unreachable endpoint, a duplicate JSON key, a byte order mark, an I/O error,
//! an `--out` that is not a new directory).

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use common::*;

/// Generous: each of these finishes in seconds; the code before the change took minutes or
/// ran out of memory.
const TIMEOUT: Duration = Duration::from_secs(120);

fn sparse_file(path: &Path, size: u64) {
    fs::File::create(path)
        .and_then(|file| file.set_len(size))
        .expect("a sparse file costs no disk");
}

fn report_with_timeout(evidence: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    bin()
        .arg("report")
        .arg("--evidence")
        .arg(evidence)
        .arg("--out")
        .arg(out)
        .args(extra)
        .timeout(TIMEOUT)
        .output()
        .expect("runs")
}

#[test]
fn an_evidence_file_over_the_limit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    sparse_file(&big, 2 << 30);
    let out = dir.path().join("out");
    let output = report_with_timeout(&big, &out, &["--max-evidence-bytes", "1000000"]);
    assert_refused(&output, &big.display().to_string());
    assert_refused(
        &output,
        "is 2147483648 bytes, more than the limit of 1000000 bytes (--max-evidence-bytes); nothing was read",
    );
    assert!(!out.exists());

    // The default limit (4 GiB) holds without the flag.
    let huge = dir.path().join("huge.json");
    sparse_file(&huge, 5 << 30);
    let output = report_with_timeout(&huge, &out, &[]);
    assert_refused(
        &output,
        "is 5368709120 bytes, more than the limit of 4294967296 bytes",
    );
    assert!(!out.exists());
}

#[test]
fn dev_zero_and_an_endless_pipe_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = report_with_timeout(Path::new("/dev/zero"), &out, &[]);
    assert_refused(
        &output,
        "evidence file /dev/zero is a character device, not a file",
    );

    // A pipe reports size 0 and may never end: read up to the limit and one byte more.
    let fifo = dir.path().join("evidence.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut pipe = fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            let block = vec![b' '; 1 << 16];
            // Ends when the reader closes the pipe (EPIPE: Rust ignores SIGPIPE).
            while pipe.write_all(&block).is_ok() {}
        })
    };
    let output = report_with_timeout(&fifo, &out, &["--max-evidence-bytes", "100000"]);
    assert_refused(
        &output,
        "holds more than the limit of 100000 bytes (--max-evidence-bytes); reading stopped at the limit",
    );
    writer.join().unwrap();
    assert!(!out.exists());

    // A pipe with a real snapshot still works (`--evidence <(…)`).
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut pipe = fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            pipe.write_all(&fs::read(demo_evidence()).unwrap()).unwrap();
        })
    };
    let output = report_with_timeout(&fifo, &out, &["--format", "csv"]);
    writer.join().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}

#[test]
fn verify_and_sign_refuse_an_oversized_evidence_json_before_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    copy_dir(&shared_demo().draft, &package);
    sparse_file(&package.join("evidence.json"), 2 << 30);
    let output = bin()
        .arg("verify")
        .arg(&package)
        .args(["--max-evidence-bytes", "1000000"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert_refused(
        &output,
        "evidence.json is 2147483648 bytes, more than the limit of 1000000 bytes (--max-evidence-bytes); nothing was read",
    );
    let key = fixed_key(dir.path(), "alice");
    let output = sign_command(&package, &key, "Alice Author", "QA", "approved")
        .args(["--max-evidence-bytes", "1000000"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert_refused(&output, "evidence.json is 2147483648 bytes");
    assert!(!package.join("history").exists());
}

/// A package from an untrusted source may hold symbolic links pointing out of it, FIFOs or
/// devices: verify lists them as not regular files and never opens them (a FIFO would block,
/// `/dev/zero` would never end, a link could read any file of the auditor's machine).
#[test]
fn verify_never_opens_a_symlink_or_a_fifo_in_a_package() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    copy_dir(&shared_demo().draft, &package);
    fs::remove_file(package.join("evidence.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", package.join("evidence.json")).unwrap();
    fs::remove_file(package.join("report.pdf")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(package.join("report.pdf"))
        .status()
        .unwrap();
    assert!(made.success());
    let output = bin()
        .arg("verify")
        .arg(&package)
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}{}", stderr(&output));
    assert!(
        report.contains("FAIL  evidence.json: not a regular file"),
        "{report}"
    );
    assert!(
        report.contains("FAIL  report.pdf: not a regular file"),
        "{report}"
    );
    let key = fixed_key(dir.path(), "alice");
    let output = sign_command(&package, &key, "Alice Author", "QA", "approved")
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert_refused(&output, "the package does not verify");
}

/// A file whose size already differs from its manifest entry cannot match its hash: verify
/// reads no further than the listed size and one byte, and says so.
#[test]
fn verify_does_not_hash_a_file_past_its_manifest_size() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    copy_dir(&shared_demo().draft, &package);
    let listed = fs::metadata(package.join("report.pdf")).unwrap().len();
    sparse_file(&package.join("report.pdf"), 64 << 30);
    let output = bin()
        .arg("verify")
        .arg(&package)
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}{}", stderr(&output));
    let expected = format!(
        "FAIL  report.pdf: modified: 68719476736 bytes, the manifest has {listed} bytes (not hashed past the manifest's size)"
    );
    assert!(report.contains(&expected), "{report}");
    // Re-rendering does not read it either, nor calls it missing.
    assert!(
        report.contains("FAIL  report.pdf: differs from the re-rendering of evidence.json and signoffs.json (not read again: it failed its files check)"),
        "{report}"
    );
}

fn demo_with_system_name(dir: &Path, name: &str) -> std::path::PathBuf {
    let mut snapshot: serde_json::Value = serde_json::from_str(&read(&demo_evidence())).unwrap();
    snapshot["system_name"] = serde_json::Value::String(name.to_string());
    let path = dir.join("evidence.json");
    fs::write(&path, serde_json::to_vec(&snapshot).unwrap()).unwrap();
    path
}

/// Rendering is linear in the length of a string: a 1 MB system name (in words, or one
/// unbroken word) took more than 8 minutes before the page frame was measured once per
/// document instead of once per page; it takes about 20 s in a debug build now.
#[test]
fn a_megabyte_system_name_renders_in_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    let words = "LIMS-instrument ".repeat(1 << 16);
    for (case, name) in [
        ("words", words.trim_end().to_string()),
        ("word", "x".repeat(1 << 20)),
    ] {
        let case_dir = dir.path().join(case);
        fs::create_dir(&case_dir).unwrap();
        let evidence = demo_with_system_name(&case_dir, &name);
        let out = case_dir.join("out");
        let output = report_with_timeout(&evidence, &out, &["--format", "pdf,html,csv"]);
        assert_eq!(output.status.code(), Some(1), "{case}: {}", stderr(&output));
        assert!(out.join("report.pdf").is_file() && out.join("report.html").is_file());
    }
}

#[test]
fn an_unreachable_endpoint_is_named_not_the_credentials() {
    // A port that was just free: nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("evidence.json");
    let output = bin()
        .arg("collect")
        .args([
            "--period",
            &common::moto::month().label,
            "--regions",
            "eu-central-1",
        ])
        .arg("--endpoint-url")
        .arg(format!("http://127.0.0.1:{port}"))
        .arg("--out")
        .arg(&out)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert_refused(
        &output,
        &format!(
            "cannot connect to http://127.0.0.1:{port} (connection refused) for sts:GetCallerIdentity"
        ),
    );
    assert!(!stderr(&output).contains("credentials are missing"));
    assert!(!out.exists());
}

#[test]
fn a_duplicate_key_anywhere_in_the_evidence_is_refused_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let demo = read(&demo_evidence());
    let cases = [
        // A map: serde_json would keep the second `*/*` entry and drop the first.
        (
            demo.replacen(
                "\"methodSettings\": {",
                "\"methodSettings\": {\n  \"*/*\": {\"loggingLevel\": \"OFF\"},",
                1,
            ),
            "evidence.json:68:27: accounts[0].regions[0].apigateway.rest_apis[0].stages[0].methodSettings: the key `*/*` appears twice in the same object",
        ),
        // A field of a typed object.
        (
            demo.replacen(
                "\"collected_at\"",
                "\"system_name\": \"Forged\",\n  \"collected_at\"",
                1,
            ),
            "evidence.json:8:15: (document): the key `system_name` appears twice in the same object",
        ),
        // Inside a CloudTrail record, which the evaluation parses again.
        (
            demo.replacen(
                "{\\\"eventVersion\\\":\\\"1.10\\\",",
                "{\\\"eventVersion\\\":\\\"1.10\\\",\\\"eventName\\\":\\\"X\\\",",
                1,
            ),
            "CloudTrailEvent has the key `eventName` twice in the same object (at its top level",
        ),
    ];
    for (text, expected) in cases {
        assert_ne!(text, demo);
        let evidence = dir.path().join("evidence.json");
        fs::write(&evidence, text).unwrap();
        let out = dir.path().join("out");
        let output = report(&evidence, &out, &["--format", "csv"]);
        assert_refused(&output, expected);
        assert!(!out.exists());
    }
}

/// The evidence is hashed and archived byte for byte: a byte order mark is not skipped.
#[test]
fn a_byte_order_mark_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("evidence.json");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(fs::read(demo_evidence()).unwrap());
    fs::write(&evidence, bytes).unwrap();
    let out = dir.path().join("out");
    let output = report(&evidence, &out, &[]);
    assert_refused(
        &output,
        "evidence.json:1:1: (document): the file starts with a UTF-8 byte order mark (EF BB BF): remove the byte order mark",
    );
    assert!(!out.exists());
}

#[test]
fn an_io_error_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let output = report(&missing, &dir.path().join("out"), &[]);
    assert_refused(&output, "cannot read evidence file");
    assert_eq!(
        stderr(&output).matches("No such file or directory").count(),
        1,
        "{}",
        stderr(&output)
    );
}

/// `--out` names the package's own directory, which --force replaces by moving it aside and
/// deleting it: `/`, `.`, `..` and the working directory are refused and nothing is touched.
#[test]
fn an_out_that_is_not_a_new_directory_is_refused_and_nothing_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    fs::create_dir(&work).unwrap();
    fs::write(work.join("keep.txt"), "mine").unwrap();
    let file = work.join("a-file");
    fs::write(&file, "also mine").unwrap();
    let work_text = work.display().to_string();
    let file_text = file.display().to_string();
    let cases: [(&str, &str); 6] = [
        (
            "/",
            "give the name of a new directory for the report package (not the root, `.` or `..`)",
        ),
        (".", "give the name of a new directory"),
        ("..", "give the name of a new directory"),
        ("sub/..", "give the name of a new directory"),
        (&work_text, "the working directory is inside it"),
        (&file_text, "exists and is not a directory"),
    ];
    for (out, expected) in cases {
        for force in [false, true] {
            for command in ["demo", "report"] {
                let mut cmd = bin();
                cmd.current_dir(&work).arg(command).args(["--out", out]);
                if command == "report" {
                    cmd.arg("--evidence").arg(demo_evidence());
                }
                if force {
                    cmd.arg("--force");
                }
                let output = cmd.timeout(TIMEOUT).output().unwrap();
                assert_refused(&output, expected);
                assert!(
                    !stderr(&output).contains("use --force"),
                    "--out {out}: {}",
                    stderr(&output)
                );
                assert_eq!(
                    files_under(dir.path()),
                    ["work/a-file", "work/keep.txt"],
                    "--out {out}"
                );
            }
        }
    }
}
