//! CloudTrail digest-chain validation (crates/core/src/log_integrity) over a generated trail
//! bucket in a directory: a clean chain (with an empty hour) has no finding, and each tamper
//! case gives exactly its finding, for the file and the hours concerned.

mod common;

use common::trail_digests::{self, DIGESTS, EMPTY_HOUR, GeneratedTrail, TrailOptions};
use gxp_evidence_core::log_integrity::{
    FindingKind, IntegrityError, IntegrityFinding, IntegrityReport, LocalTrailCopy, PublicKeyList,
    TimeRange, ValidationScope, parse_utc, validate_trail,
};

fn scope(trail: Option<&str>) -> ValidationScope {
    ValidationScope {
        bucket: trail_digests::BUCKET.into(),
        location: trail_digests::location(),
        trail: trail.map(str::to_string),
        range: trail_digests::range(),
    }
}

fn keys() -> PublicKeyList {
    PublicKeyList::from_json("keys.json", trail_digests::public_keys_json().as_bytes())
        .expect("valid key list")
}

fn validate(trail: &GeneratedTrail) -> IntegrityReport {
    validate_trail(
        &LocalTrailCopy::new(&trail.root),
        &keys(),
        &scope(Some(trail_digests::TRAIL)),
    )
    .expect("validates")
}

fn generate(options: TrailOptions) -> (tempfile::TempDir, GeneratedTrail) {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = trail_digests::write_trail(dir.path(), options);
    (dir, trail)
}

/// The only finding of the report, which must be of `kind` for `file`.
fn only_finding(report: &IntegrityReport, kind: FindingKind, file: &str) -> IntegrityFinding {
    assert_eq!(report.findings.len(), 1, "{}", report.summary());
    let finding = report.findings[0].clone();
    assert_eq!(
        (finding.kind, finding.file.as_str()),
        (kind, file),
        "{}",
        report.summary()
    );
    finding
}

/// The hours digest `index` covers.
fn digest_window(index: usize) -> TimeRange {
    let start = trail_digests::first_digest_start() + chrono::Duration::hours(index as i64);
    TimeRange {
        start,
        end: start + chrono::Duration::hours(1),
    }
}

#[test]
fn a_clean_chain_with_an_empty_hour_has_no_findings() {
    let (_dir, trail) = generate(TrailOptions::default());
    assert!(trail.logs[EMPTY_HOUR].is_empty());
    let report = validate(&trail);
    assert!(report.is_intact(), "{}", report.summary());
    // Digests 0..=6 end inside (start, end + 1h]; the last one ends after that.
    assert_eq!(report.digests_checked, DIGESTS - 1);
    let listed: usize = trail.logs[..DIGESTS - 1].iter().map(Vec::len).sum();
    assert_eq!(report.log_files_checked, listed);
    assert_eq!(report.trail.as_deref(), Some(trail_digests::TRAIL));
    assert!(
        report.summary().contains("no findings"),
        "{}",
        report.summary()
    );
}

#[test]
fn the_trail_is_found_when_not_named_and_the_report_is_deterministic() {
    let (_dir, trail) = generate(TrailOptions::default());
    let copy = LocalTrailCopy::new(&trail.root);
    let first = validate_trail(&copy, &keys(), &scope(None)).expect("validates");
    let second = validate_trail(&copy, &keys(), &scope(None)).expect("validates");
    assert_eq!(first.trail.as_deref(), Some(trail_digests::TRAIL));
    assert_eq!(
        serde_json::to_string(&first).expect("json"),
        serde_json::to_string(&second).expect("json")
    );
    let empty = ValidationScope {
        range: TimeRange {
            start: trail_digests::range().end,
            end: trail_digests::range().end,
        },
        ..scope(None)
    };
    assert!(matches!(
        validate_trail(&copy, &keys(), &empty),
        Err(IntegrityError::EmptyRange(_))
    ));
}

#[test]
fn one_byte_changed_in_a_log_file_is_modified() {
    let (_dir, trail) = generate(TrailOptions::default());
    let key = &trail.logs[2][0];
    let path = trail.root.join(key);
    let content = trail_digests::gunzip(&std::fs::read(&path).expect("read"));
    let position = content
        .windows(9)
        .position(|w| w == b"CreateKey")
        .expect("an event name");
    let mut changed = content.clone();
    changed[position + 8] = b'z';
    std::fs::write(&path, trail_digests::gzip(&changed)).expect("write");
    let report = validate(&trail);
    let finding = only_finding(&report, FindingKind::Modified, key);
    assert!(
        finding.detail.contains(&trail.digests[2]),
        "{}",
        finding.detail
    );
    // The hours of the events the file holds.
    assert!(finding.covers.start >= digest_window(2).start - chrono::Duration::minutes(10));
    assert!(finding.covers.end <= digest_window(2).end);
}

#[test]
fn a_log_file_that_is_no_longer_gzip_is_modified() {
    let (_dir, trail) = generate(TrailOptions::default());
    let key = &trail.logs[1][1];
    std::fs::write(trail.root.join(key), b"{\"Records\":[]}").expect("write");
    let finding = only_finding(&validate(&trail), FindingKind::Modified, key);
    assert!(finding.detail.contains("gzip"), "{}", finding.detail);
}

#[test]
fn a_deleted_log_file_is_missing() {
    let (_dir, trail) = generate(TrailOptions::default());
    let key = &trail.logs[3][1];
    std::fs::remove_file(trail.root.join(key)).expect("delete");
    only_finding(&validate(&trail), FindingKind::Missing, key);
}

#[test]
fn a_log_file_no_digest_lists_is_extra() {
    let (_dir, trail) = generate(TrailOptions::default());
    let written = parse_utc("2026-03-01T03:40:00Z").expect("time");
    let (key, _) =
        trail_digests::write_log_file(&trail.root, &trail_digests::location(), written, 999);
    let finding = only_finding(&validate(&trail), FindingKind::Extra, &key);
    assert_eq!(finding.covers.start, written);
}

#[test]
fn a_digest_linking_past_its_predecessor_is_a_chain_break() {
    let (_dir, trail) = generate(TrailOptions {
        link_past_previous_at: Some(3),
        ..TrailOptions::default()
    });
    let finding = only_finding(
        &validate(&trail),
        FindingKind::ChainBreak,
        &trail.digests[3],
    );
    assert!(
        finding.detail.contains(&trail.digests[1]),
        "{}",
        finding.detail
    );
    assert_eq!(finding.covers, digest_window(3));
}

#[test]
fn a_digest_signed_by_an_unknown_key_is_reported() {
    let (_dir, trail) = generate(TrailOptions {
        unknown_key_at: Some(2),
        ..TrailOptions::default()
    });
    let report = validate(&trail);
    let finding = only_finding(&report, FindingKind::UnknownKey, &trail.digests[2]);
    assert_eq!(finding.covers, digest_window(2));
    // Its log files are not vouched for, so not counted as checked.
    let listed: usize = trail.logs[..DIGESTS - 1].iter().map(Vec::len).sum();
    assert_eq!(report.log_files_checked, listed - trail.logs[2].len());
}

#[test]
fn a_digest_whose_signature_was_altered_has_a_bad_signature() {
    let (_dir, trail) = generate(TrailOptions::default());
    let sidecar = trail
        .root
        .join(format!("{}.metadata.json", trail.digests[5]));
    let metadata = std::fs::read_to_string(&sidecar).expect("read");
    let signature_start =
        metadata.find("\"signature\":\"").expect("signature") + "\"signature\":\"".len();
    let mut altered = metadata.into_bytes();
    altered[signature_start + 10] = if altered[signature_start + 10] == b'0' {
        b'1'
    } else {
        b'0'
    };
    std::fs::write(&sidecar, altered).expect("write");
    only_finding(
        &validate(&trail),
        FindingKind::BadSignature,
        &trail.digests[5],
    );
}

#[test]
fn a_digest_whose_content_was_altered_has_a_bad_signature() {
    let (_dir, trail) = generate(TrailOptions::default());
    let path = trail.root.join(&trail.digests[1]);
    let content = String::from_utf8(trail_digests::gunzip(&std::fs::read(&path).expect("read")))
        .expect("utf-8");
    // Someone points the digest at a doctored copy's hash: the signed hash of the file changes.
    let altered = content.replacen("\"hashValue\":\"", "\"hashValue\":\"0", 1);
    std::fs::write(&path, trail_digests::gzip(altered.as_bytes())).expect("write");
    only_finding(
        &validate(&trail),
        FindingKind::BadSignature,
        &trail.digests[1],
    );
}

#[test]
fn a_digest_without_its_signature_metadata_is_unsigned() {
    let (_dir, trail) = generate(TrailOptions::default());
    std::fs::remove_file(
        trail
            .root
            .join(format!("{}.metadata.json", trail.digests[1])),
    )
    .expect("delete");
    only_finding(
        &validate(&trail),
        FindingKind::UnsignedDigest,
        &trail.digests[1],
    );
}

#[test]
fn a_deleted_digest_is_a_gap_of_its_hours_with_its_log_files_unproven() {
    let (_dir, trail) = generate(TrailOptions::default());
    let key = &trail.digests[3];
    std::fs::remove_file(trail.root.join(key)).expect("delete");
    std::fs::remove_file(trail.root.join(format!("{key}.metadata.json"))).expect("delete");
    let report = validate(&trail);
    // The gap is named by the digest after it, which links to the deleted one.
    let finding = only_finding(&report, FindingKind::DigestGap, &trail.digests[4]);
    assert_eq!(finding.covers, digest_window(3));
    assert!(
        finding
            .detail
            .contains("2 log files of these hours are listed in no digest"),
        "{}",
        finding.detail
    );
}

#[test]
fn hours_before_the_first_digest_are_a_gap() {
    let (_dir, trail) = generate(TrailOptions::default());
    for index in 0..2 {
        let key = &trail.digests[index];
        std::fs::remove_file(trail.root.join(key)).expect("delete");
        std::fs::remove_file(trail.root.join(format!("{key}.metadata.json"))).expect("delete");
    }
    let report = validate(&trail);
    let finding = only_finding(&report, FindingKind::DigestGap, &trail.digests[2]);
    assert_eq!(
        finding.covers,
        TimeRange {
            start: trail_digests::range().start,
            end: digest_window(2).start
        }
    );
}

// --- gxp-evidence validate-logs ---

fn validate_logs_command(
    trail: &GeneratedTrail,
    keys_file: &std::path::Path,
) -> assert_cmd::Command {
    let mut cmd = common::bin();
    cmd.arg("validate-logs").arg("--dir").arg(&trail.root);
    with_range(&mut cmd, keys_file);
    cmd
}

/// The bucket, keys, range, account and region of the generated trail.
fn with_range(cmd: &mut assert_cmd::Command, keys_file: &std::path::Path) {
    let range = trail_digests::range();
    cmd.args(["--bucket", trail_digests::BUCKET, "--public-keys"])
        .arg(keys_file)
        .args([
            "--from",
            &range.start.to_rfc3339(),
            "--to",
            &range.end.to_rfc3339(),
        ])
        .args([
            "--account",
            trail_digests::ACCOUNT,
            "--region",
            trail_digests::REGION,
        ]);
}

#[test]
fn validate_logs_prints_the_report_and_exits_by_its_findings() {
    let keys_dir = tempfile::tempdir().expect("tempdir");
    let keys_file = keys_dir.path().join("keys.json");
    std::fs::write(&keys_file, trail_digests::public_keys_json()).expect("write");
    let (_dir, trail) = generate(TrailOptions::default());

    let output = validate_logs_command(&trail, &keys_file)
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: IntegrityReport =
        serde_json::from_slice(&output.stdout).expect("the report as JSON");
    assert!(report.is_intact());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no findings"));

    std::fs::remove_file(trail.root.join(&trail.logs[1][0])).expect("delete");
    let output = validate_logs_command(&trail, &keys_file)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let report: IntegrityReport =
        serde_json::from_slice(&output.stdout).expect("the report as JSON");
    assert_eq!(report.findings[0].kind, FindingKind::Missing);
    assert!(String::from_utf8_lossy(&output.stderr).contains("Missing"));
}

#[test]
fn validate_logs_refuses_a_forged_key_list_naming_the_file() {
    let keys_dir = tempfile::tempdir().expect("tempdir");
    let keys_file = keys_dir.path().join("keys.json");
    let json = trail_digests::public_keys_json();
    let fingerprint = PublicKeyList::from_json("k", json.as_bytes())
        .expect("valid")
        .public_key_list[0]
        .fingerprint
        .clone();
    std::fs::write(
        &keys_file,
        json.replace(&fingerprint, "00112233445566778899aabbccddeeff"),
    )
    .expect("write");
    let (_dir, trail) = generate(TrailOptions::default());
    let output = validate_logs_command(&trail, &keys_file)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("keys.json, key 0") && stderr.contains("MD5"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

/// Without --dir the trail's bucket itself is read (moto S3): the digests' signatures come
/// from the objects' user metadata, and a log file deleted from the bucket is missing.
#[test]
fn validate_logs_reads_the_trail_bucket_in_s3() {
    let moto = common::moto::moto();
    let keys_dir = tempfile::tempdir().expect("tempdir");
    let keys_file = keys_dir.path().join("keys.json");
    std::fs::write(&keys_file, trail_digests::public_keys_json()).expect("write");
    let (_dir, trail) = generate(TrailOptions::default());
    let root = trail.root.display().to_string();
    let region = trail_digests::REGION;
    moto.seed(&["trail-bucket", region, trail_digests::BUCKET, "", &root]);
    let validate_bucket = || {
        let mut std_cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("gxp-evidence"));
        common::moto::with_test_credentials(&mut std_cmd);
        let mut cmd = assert_cmd::Command::from_std(std_cmd);
        cmd.arg("validate-logs").args(["--endpoint-url", &moto.url]);
        with_range(&mut cmd, &keys_file);
        cmd.output().expect("runs")
    };

    let output = validate_bucket();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let report: IntegrityReport = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(report.is_intact(), "{}", report.summary());
    // The same checks as on the local copy, object for object.
    assert_eq!(report, validate(&trail));

    let deleted = &trail.logs[1][0];
    moto.seed(&["delete-object", region, trail_digests::BUCKET, deleted]);
    let output = validate_bucket();
    assert_eq!(output.status.code(), Some(1));
    let report: IntegrityReport = serde_json::from_slice(&output.stdout).expect("JSON");
    only_finding(&report, FindingKind::Missing, deleted);
}
