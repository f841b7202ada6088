//! `cloudtrail-log-integrity`: the digest-chain validation of a generated trail bucket
//! (tests/common/trail_digests.rs) put into a crafted snapshot gives each status (PASS for an
//! intact chain over the period, FAIL naming the finding kinds and hours for each tamper case,
//! EVIDENCE_GAP when not validated or not over the whole period, NO_RESOURCES without a trail);
//! end to end, `collect --trail-logs DIR` against moto and the stub (ListPublicKeys) validates
//! the trail of a period more than 90 days back, keeps the chain and the keys in the snapshot,
//! and the report shows the result; a gap of hours and a modified file fail it.

mod common;

use std::path::Path;
use std::process::Command;

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use common::aws_stub::{AwsStub, StubConfig};
use common::moto::{MOTO_ACCOUNT, moto, with_test_credentials};
use common::trail_digests::{self, GeneratedTrail, TrailOptions, TrailShape, TrailSpec};
use common::trail_logs::fill_days;
use gxp_evidence::controls::{Evaluation, Finding, Status};
use gxp_evidence::log_integrity::{
    IntegrityReport, LocalTrailCopy, PublicKeyList, TimeRange, ValidationScope, recheck_chain,
    validate_trail,
};

const CONTROL: &str = "cloudtrail-log-integrity";
/// The demo's account, region and trail (its files below the trail's prefix `cloudtrail`).
const ACCOUNT: &str = "111122223333";
const HOME: &str = "eu-central-1";
const TRAIL: &str = "lims-org-audit";
const TRAIL_ARN: &str = "arn:aws:cloudtrail:eu-central-1:111122223333:trail/lims-org-audit";
const BUCKET: &str = "lims-audit-trail-111122223333";
const PREFIX: &str = "cloudtrail";

fn spec() -> TrailSpec {
    TrailSpec {
        account: ACCOUNT.into(),
        region: HOME.into(),
        trail: TRAIL.into(),
        bucket: BUCKET.into(),
        prefix: Some(PREFIX.into()),
        ..TrailSpec::default()
    }
}

fn keys() -> PublicKeyList {
    PublicKeyList::from_json("keys.json", trail_digests::public_keys_json().as_bytes())
        .expect("valid key list")
}

fn generate(options: TrailOptions) -> (tempfile::TempDir, GeneratedTrail) {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = trail_digests::write_trail_of(dir.path(), &spec(), TrailShape::SMALL, options);
    (dir, trail)
}

/// Where a generated object is in the directory standing for `s3://BUCKET/PREFIX`.
fn path_of(trail: &GeneratedTrail, key: &str) -> std::path::PathBuf {
    trail.root.join(
        key.strip_prefix(&format!("{PREFIX}/"))
            .expect("below the prefix"),
    )
}

fn validate(trail: &GeneratedTrail) -> IntegrityReport {
    let scope = ValidationScope {
        bucket: BUCKET.into(),
        location: spec().location(),
        trail: Some(TRAIL.into()),
        range: trail_digests::range(),
    };
    validate_trail(
        &LocalTrailCopy::below_prefix(&trail.root, Some(PREFIX)),
        &keys(),
        &scope,
    )
    .expect("validates")
}

fn rfc3339(range: &TimeRange) -> Value {
    json!({"start": range.start.to_rfc3339(), "end": range.end.to_rfc3339()})
}

/// The demo account alone over the generated trail's six hours, its home region's change
/// events from the trail's log files, with `log_integrity` as given.
fn snapshot_with(log_integrity: Option<Value>) -> Value {
    let mut snapshot = common::demo_account_alone(ACCOUNT);
    let range = trail_digests::range();
    snapshot["period"] = rfc3339(&range);
    // The demo's events are of its own period: none here.
    for region in snapshot["accounts"][0]["regions"]
        .as_array_mut()
        .expect("regions")
    {
        region["cloudtrail"]["events"] = json!([]);
        region["cloudtrail"]["events_after_period"] = json!([]);
    }
    let home = snapshot["accounts"][0]["regions"]
        .as_array_mut()
        .expect("regions")
        .iter_mut()
        .find(|r| r["region"] == HOME)
        .expect("home region");
    let cloudtrail = &mut home["cloudtrail"];
    cloudtrail["events_from"] = json!({"trail_log_files": {
        "location": "/copy", "files_read": 9, "records_read": 18, "records_kept": 18}});
    match log_integrity {
        Some(log_integrity) => cloudtrail["log_integrity"] = log_integrity,
        // The demo's own result removed.
        None => {
            _ = cloudtrail
                .as_object_mut()
                .map(|c| c.remove("log_integrity"))
        }
    }
    snapshot
}

fn validated(report: &IntegrityReport) -> Value {
    json!([{
        "trail": TRAIL, "trail_arn": TRAIL_ARN, "range": rfc3339(&report.range),
        "result": {"validated": {"report": report, "public_keys": keys()}},
    }])
}

fn not_validated(code: &str, message: &str) -> Value {
    json!([{
        "trail": TRAIL, "trail_arn": TRAIL_ARN, "range": rfc3339(&trail_digests::range()),
        "result": {"not_validated": {"code": code, "message": message}},
    }])
}

fn evaluate(snapshot: &Value) -> Evaluation {
    common::evaluate_crafted(snapshot)
}

/// The control's findings of `region`.
fn rows(evaluation: &Evaluation, region: &str) -> Vec<Finding> {
    evaluation
        .findings
        .iter()
        .filter(|f| f.control_id == CONTROL && f.region == region)
        .cloned()
        .collect()
}

/// The control's one finding for the trail in the home region.
fn home_row(snapshot: &Value) -> Finding {
    let rows = rows(&evaluate(snapshot), HOME);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0].resource, TRAIL_ARN);
    rows[0].clone()
}

#[test]
fn an_intact_chain_over_the_period_passes_and_other_regions_are_gaps() {
    let (_dir, trail) = generate(TrailOptions::default());
    let report = validate(&trail);
    assert!(report.is_intact(), "{}", report.summary());
    let snapshot = snapshot_with(Some(validated(&report)));
    let evaluation = evaluate(&snapshot);
    let home = rows(&evaluation, HOME);
    assert_eq!(home.len(), 1, "{home:#?}");
    assert_eq!(home[0].status, Status::Pass, "{}", home[0].reason);
    assert!(
        home[0]
            .reason
            .contains("2026-03-01 00:00 to 06:00 UTC: every hour covered"),
        "{}",
        home[0].reason
    );
    assert!(home[0].remediation.is_empty());
    // eu-west-1's events came from LookupEvents: nothing proves its trails' files.
    let west = rows(&evaluation, "eu-west-1");
    assert_eq!(west.len(), 2, "{west:#?}");
    for row in &west {
        assert_eq!(row.status, Status::EvidenceGap);
        assert!(row.reason.contains("LookupEvents"), "{}", row.reason);
    }
    // The chain kept in the snapshot re-checks offline.
    assert_eq!(report.chain.len(), report.digests_checked);
    assert!(recheck_chain(&report, &keys()).is_empty());
}

#[test]
fn a_chain_validated_for_part_of_the_period_is_a_gap_not_a_pass() {
    let (_dir, trail) = generate(TrailOptions::default());
    let report = validate(&trail);
    let mut snapshot = snapshot_with(Some(validated(&report)));
    let range = trail_digests::range();
    snapshot["period"]["end"] = json!((range.end + Duration::hours(1)).to_rfc3339());
    let row = home_row(&snapshot);
    assert_eq!(row.status, Status::EvidenceGap, "{}", row.reason);
    assert!(
        row.reason.contains("not for the whole period"),
        "{}",
        row.reason
    );
}

#[test]
fn a_trail_not_validated_is_an_evidence_gap_with_its_reason() {
    for (code, message) in [
        (
            "LogFileValidationDisabled",
            "log file validation is disabled",
        ),
        ("NoDigestFiles", "no digest file of trail lims-org-audit"),
        ("ListPublicKeysFailed", "AccessDeniedException"),
        ("StoreError", "cannot read /copy/AWSLogs"),
    ] {
        let row = home_row(&snapshot_with(Some(not_validated(code, message))));
        assert_eq!(row.status, Status::EvidenceGap, "{code}");
        assert!(
            row.reason.contains(code) && row.reason.contains(message),
            "{}",
            row.reason
        );
    }
    // A snapshot of an earlier version, events from the files but no validation recorded.
    let row = home_row(&snapshot_with(None));
    assert_eq!(row.status, Status::EvidenceGap);
    assert!(row.reason.contains("earlier version"), "{}", row.reason);
}

#[test]
fn a_region_without_trails_has_no_resources() {
    let mut snapshot = snapshot_with(Some(json!([])));
    for region in snapshot["accounts"][0]["regions"]
        .as_array_mut()
        .expect("regions")
    {
        region["cloudtrail"]["trails"] = json!([]);
    }
    let evaluation = evaluate(&snapshot);
    for region in [HOME, "eu-west-1"] {
        let rows = rows(&evaluation, region);
        assert_eq!(rows.len(), 1, "{rows:#?}");
        assert_eq!(rows[0].status, Status::NoResources, "{}", rows[0].reason);
    }
}

/// The FAIL of the tampered trail: its reason line of `kind` names `hours`.
fn assert_fails_with(trail: &GeneratedTrail, kind: &str, hours: &str) -> Finding {
    let report = validate(trail);
    let row = home_row(&snapshot_with(Some(validated(&report))));
    assert_eq!(row.status, Status::Fail, "{}", row.reason);
    let line = row
        .reason
        .lines()
        .find(|l| l.starts_with(&format!("{kind}: ")))
        .unwrap_or_else(|| panic!("no {kind} line in {}", row.reason));
    assert!(line.contains(hours), "{line}");
    assert!(
        row.remediation.contains("validate-logs") && row.remediation.contains(TRAIL_ARN),
        "{}",
        row.remediation
    );
    row
}

#[test]
fn one_byte_changed_in_a_log_file_fails_naming_its_hours() {
    let (_dir, trail) = generate(TrailOptions::default());
    let key = &trail.logs[2][0];
    let path = path_of(&trail, key);
    let mut content = trail_digests::gunzip(&std::fs::read(&path).expect("read"));
    let position = content
        .windows(9)
        .position(|w| w == b"CreateKey")
        .expect("an event name");
    content[position + 8] = b'z';
    std::fs::write(&path, trail_digests::gzip(&content)).expect("write");
    // Digest 2 covers 01:01:31 to 02:01:31; the file's events are 7 and 2 minutes before 01:11.
    assert_fails_with(&trail, "Modified", "2026-03-01 01:04 to 01:09 UTC");
}

#[test]
fn a_deleted_log_file_fails_as_missing() {
    let (_dir, trail) = generate(TrailOptions::default());
    std::fs::remove_file(path_of(&trail, &trail.logs[3][0])).expect("remove");
    assert_fails_with(&trail, "Missing", "2026-03-01 02:04 to 02:09 UTC");
}

#[test]
fn an_extra_log_file_fails_as_extra() {
    let (_dir, trail) = generate(TrailOptions::default());
    let (key, _) = trail_digests::write_spec_log_file(
        &trail.root,
        &spec(),
        trail_digests::range().start + Duration::minutes(200),
        99,
        2,
    );
    assert!(key.starts_with("cloudtrail/AWSLogs/"), "{key}");
    assert_fails_with(&trail, "Extra", "2026-03-01 03:20 to 03:21 UTC");
}

#[test]
fn a_broken_chain_fails_as_a_chain_break() {
    let (_dir, trail) = generate(TrailOptions {
        link_past_previous_at: Some(3),
        ..TrailOptions::default()
    });
    assert_fails_with(&trail, "ChainBreak", "2026-03-01 02:01 to 03:01 UTC");
}

#[test]
fn a_digest_signed_by_an_unknown_key_fails() {
    let (_dir, trail) = generate(TrailOptions {
        unknown_key_at: Some(5),
        ..TrailOptions::default()
    });
    assert_fails_with(&trail, "UnknownKey", "2026-03-01 04:01 to 05:01 UTC");
}

#[test]
fn a_gap_of_hours_fails_as_a_digest_gap_naming_them() {
    let (_dir, trail) = generate(TrailOptions::default());
    // Digests 2, 3 and 4 (01:01:31 to 04:01:31) are gone: three hours without a digest.
    for index in 2..=4 {
        let key = &trail.digests[index];
        std::fs::remove_file(path_of(&trail, key)).expect("remove");
        std::fs::remove_file(path_of(&trail, &format!("{key}.metadata.json"))).expect("remove");
    }
    let row = assert_fails_with(&trail, "DigestGap", "2026-03-01 01:01 to 04:01 UTC");
    assert!(!row.reason.contains("ChainBreak"), "{}", row.reason);
}

// ---------------------------------------------------------------------------------------------
// End to end: collect --trail-logs against moto and the stub.

/// moto's trail, with the generator's files for it below its prefix in a directory standing
/// for `s3://BUCKET/PREFIX`.
const E2E_REGION: &str = "eu-central-1";
const E2E_BUCKET: &str = "gxp-validated-trail-logs";
const E2E_PREFIX: &str = "audit";
const E2E_TRAIL: &str = "gxp-validated";

fn e2e_spec() -> TrailSpec {
    TrailSpec {
        account: MOTO_ACCOUNT.into(),
        region: E2E_REGION.into(),
        trail: E2E_TRAIL.into(),
        bucket: E2E_BUCKET.into(),
        prefix: Some(E2E_PREFIX.into()),
        ..TrailSpec::default()
    }
}

/// Where `collect` reads the generated files: the directory, or moto's trail bucket after
/// they were uploaded there (the digests' sidecars as their objects' user metadata).
#[derive(Clone, Copy)]
enum Source {
    Directory,
    Bucket,
}

/// `collect --from START --to END --regions REGION --trail-logs DIR|s3://… --out OUT`;
/// returns the snapshot and the stub's ListPublicKeys requests.
fn collect(dir: &Path, out: &Path, source: Source) -> (Value, usize) {
    let moto = moto();
    let made = moto.seed(&[
        "validated-trails",
        E2E_REGION,
        E2E_BUCKET,
        E2E_PREFIX,
        &format!("{E2E_TRAIL}=on"),
        "gxp-unvalidated=off",
    ]);
    assert!(made[E2E_TRAIL].is_string(), "{made}");
    let trail_logs = match source {
        Source::Directory => dir.display().to_string(),
        Source::Bucket => {
            let root = dir.display().to_string();
            moto.seed(&["trail-bucket", E2E_REGION, E2E_BUCKET, E2E_PREFIX, &root]);
            format!("s3://{E2E_BUCKET}/{E2E_PREFIX}")
        }
    };
    let public_keys: Value =
        serde_json::from_str(&trail_digests::public_keys_json()).expect("JSON");
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        public_keys: public_keys["PublicKeyList"]
            .as_array()
            .expect("keys")
            .clone(),
        ..Default::default()
    });
    let range = trail_digests::range();
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("gxp-evidence"));
    cmd.args(["collect", "--regions", E2E_REGION])
        .args(["--from", &range.start.to_rfc3339()])
        .args(["--to", &range.end.to_rfc3339()])
        .arg("--endpoint-url")
        .arg(&stub.url)
        .args(["--trail-logs", &trail_logs])
        .arg("--out")
        .arg(out);
    with_test_credentials(&mut cmd);
    let output = cmd.output().expect("runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let snapshot: Value =
        serde_json::from_slice(&std::fs::read(out).expect("snapshot")).expect("JSON");
    let list_calls = stub
        .requests()
        .iter()
        .filter(|r| r.operation == "ListPublicKeys")
        .count();
    (snapshot, list_calls)
}

/// The generated trail of the six hours plus a file of read events for every day up to today
/// (the change events need every day folder up to the collection).
fn e2e_trail(options: TrailOptions) -> (tempfile::TempDir, GeneratedTrail) {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = trail_digests::write_trail_of(dir.path(), &e2e_spec(), TrailShape::SMALL, options);
    let range = trail_digests::range();
    fill_days(
        dir.path(),
        None,
        MOTO_ACCOUNT,
        E2E_REGION,
        range.start - Duration::days(1),
        Utc::now(),
    );
    (dir, trail)
}

fn integrity_of<'a>(snapshot: &'a Value, trail: &str) -> &'a Value {
    let region = snapshot["accounts"][0]["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .find(|r| r["region"] == E2E_REGION)
        .expect("the region");
    region["cloudtrail"]["log_integrity"]
        .as_array()
        .expect("log_integrity collected")
        .iter()
        .find(|i| i["trail"] == trail)
        .unwrap_or_else(|| panic!("{trail} validated: {}", region["cloudtrail"]))
}

fn loaded_rows(evidence: &Path) -> Vec<Finding> {
    let bytes = std::fs::read(evidence).expect("snapshot");
    let loaded = gxp_evidence::evidence::load_bytes("evidence.json", bytes).expect("loads");
    gxp_evidence::controls::evaluate(&loaded.snapshot)
        .findings
        .into_iter()
        .filter(|f| f.control_id == CONTROL && f.region == E2E_REGION)
        .collect()
}

#[test]
fn collect_validates_the_digest_chain_of_a_period_more_than_90_days_back() {
    let range = trail_digests::range();
    assert!(Utc::now() - range.end > Duration::days(90));
    let (logs, _trail) = e2e_trail(TrailOptions::default());
    let out = tempfile::tempdir().expect("tempdir");
    let evidence = out.path().join("evidence.json");
    let (snapshot, list_calls) = collect(logs.path(), &evidence, Source::Directory);
    assert_eq!(
        list_calls, 1,
        "ListPublicKeys once for the region (one key a page)"
    );
    assert_eq!(snapshot["gaps"], json!([]));

    let validated = integrity_of(&snapshot, E2E_TRAIL);
    let result = &validated["result"]["validated"];
    let report = &result["report"];
    assert_eq!(report["findings"], json!([]), "{report}");
    assert_eq!(report["bucket"], json!(E2E_BUCKET));
    assert_eq!(report["location"]["prefix"], json!(E2E_PREFIX));
    assert_eq!(report["digests_checked"], json!(trail_digests::DIGESTS - 1));
    let chain = report["chain"].as_array().expect("chain");
    assert_eq!(chain.len(), trail_digests::DIGESTS - 1);
    assert!(chain.iter().all(|l| l["signature_verified"] == json!(true)));
    assert_eq!(
        result["public_keys"]["PublicKeyList"][0]["Fingerprint"],
        serde_json::from_str::<Value>(&trail_digests::public_keys_json()).expect("JSON")["PublicKeyList"]
            [0]["Fingerprint"]
    );
    let unvalidated = integrity_of(&snapshot, "gxp-unvalidated");
    assert_eq!(
        unvalidated["result"]["not_validated"]["code"],
        json!("LogFileValidationDisabled")
    );

    let rows = loaded_rows(&evidence);
    let pass = rows
        .iter()
        .find(|f| f.resource.ends_with(&format!("trail/{E2E_TRAIL}")))
        .expect("the validated trail's row");
    assert_eq!(pass.status, Status::Pass, "{}", pass.reason);
    let gap = rows
        .iter()
        .find(|f| f.resource.ends_with("trail/gxp-unvalidated"))
        .expect("the other trail's row");
    assert_eq!(gap.status, Status::EvidenceGap, "{}", gap.reason);

    // The report shows the result, in the findings of every format.
    let report_dir = out.path().join("report");
    let output = common::report(&evidence, &report_dir, &[]);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let csv = common::read(&report_dir.join("findings.csv"));
    assert!(
        csv.lines()
            .any(|l| l.contains(CONTROL) && l.contains(E2E_TRAIL) && l.contains("PASS")),
        "{csv}"
    );
}

/// From the trail's bucket in S3 (moto): the signatures come from the digests' object
/// metadata, and the tampering is found as from the local copy.
#[test]
fn collect_fails_a_trail_with_a_gap_of_hours_and_a_modified_file() {
    let (logs, trail) = e2e_trail(TrailOptions::default());
    let spec = e2e_spec();
    let path = |key: &str| {
        logs.path().join(
            key.strip_prefix(&format!("{}/", spec.prefix.as_deref().expect("prefix")))
                .expect("below the prefix"),
        )
    };
    for index in 2..=4 {
        let key = &trail.digests[index];
        std::fs::remove_file(path(key)).expect("remove");
        std::fs::remove_file(path(&format!("{key}.metadata.json"))).expect("remove");
    }
    let modified = path(&trail.logs[6][0]);
    let mut content = trail_digests::gunzip(&std::fs::read(&modified).expect("read"));
    let position = content
        .windows(9)
        .position(|w| w == b"CreateKey")
        .expect("an event name");
    content[position + 8] = b'z';
    std::fs::write(&modified, trail_digests::gzip(&content)).expect("write");

    let out = tempfile::tempdir().expect("tempdir");
    let evidence = out.path().join("evidence.json");
    collect(logs.path(), &evidence, Source::Bucket);
    let rows = loaded_rows(&evidence);
    let fail = rows
        .iter()
        .find(|f| f.resource.ends_with(&format!("trail/{E2E_TRAIL}")))
        .expect("the validated trail's row");
    assert_eq!(fail.status, Status::Fail, "{}", fail.reason);
    let line = |kind: &str| {
        fail.reason
            .lines()
            .find(|l| l.starts_with(&format!("{kind}: ")))
            .unwrap_or_else(|| panic!("no {kind} line: {}", fail.reason))
            .to_string()
    };
    assert!(
        line("DigestGap").contains("2026-03-01 01:01 to 04:01 UTC"),
        "{}",
        fail.reason
    );
    assert!(
        line("Modified").contains("2026-03-01 05:04 to 05:09 UTC"),
        "{}",
        fail.reason
    );
    // Nothing else: every digest read from the bucket carried its signature.
    for kind in [
        "Unsigned",
        "UnsignedDigest",
        "BadSignature",
        "Missing",
        "Extra",
    ] {
        assert!(
            !fail
                .reason
                .lines()
                .any(|l| l.starts_with(&format!("{kind}: "))),
            "{kind}: {}",
            fail.reason
        );
    }
}

// ---------------------------------------------------------------------------------------------
// verify: the chain kept in the snapshot is re-checked offline.

/// A copy of the stored chain's hex signature with its first digit changed.
fn altered(signature: &str) -> String {
    let first = if signature.starts_with('0') { "1" } else { "0" };
    format!("{first}{}", &signature[1..])
}

#[test]
fn the_recheck_names_a_digest_whose_stored_signature_link_or_key_was_changed() {
    let (_dir, trail) = generate(TrailOptions::default());
    let report = validate(&trail);
    assert!(recheck_chain(&report, &keys()).is_empty());

    // One stored signature changed: that digest no longer verifies, and the next one's
    // recorded previous signature is no longer the stored signature before it.
    let mut forged = report.clone();
    let signature = forged.chain[3].signature.clone().expect("signed");
    forged.chain[3].signature = Some(altered(&signature));
    let problems = recheck_chain(&forged, &keys());
    let named: Vec<&str> = problems.iter().map(|p| p.digest.as_str()).collect();
    assert_eq!(
        named,
        [&report.chain[3].digest, &report.chain[4].digest],
        "{problems:?}"
    );
    assert!(
        problems[0].problem.contains("does not verify"),
        "{problems:?}"
    );

    // A stored SHA-256 changed: the signature over it fails, and so does the next link.
    let mut forged = report.clone();
    forged.chain[2].digest_sha256 = "0".repeat(64);
    let problems = recheck_chain(&forged, &keys());
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[1].problem.contains("previous digest hash"),
        "{problems:?}"
    );

    // A result claiming no finding over a digest that did not verify.
    let mut forged = report.clone();
    forged.chain[1].signature_verified = false;
    let problems = recheck_chain(&forged, &keys());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].problem.contains("claims no finding"),
        "{problems:?}"
    );

    // Another key filed under CloudTrail's fingerprint is refused before any signature.
    use base64ct::Encoding;
    use rsa::pkcs1::EncodeRsaPublicKey;
    let other = trail_digests::unknown_key()
        .to_public_key()
        .to_pkcs1_der()
        .expect("der");
    let mut swapped = keys();
    swapped.public_key_list[0].value = base64ct::Base64::encode_string(other.as_bytes());
    assert!(swapped.check("the stored public keys").is_err());
}

#[test]
fn verify_re_checks_the_stored_chain_and_fails_naming_a_tampered_digest() {
    let (_dir, trail) = generate(TrailOptions::default());
    let report = validate(&trail);
    let snapshot = snapshot_with(Some(validated(&report)));
    let work = tempfile::tempdir().expect("tempdir");
    let evidence = work.path().join("evidence.json");
    std::fs::write(
        &evidence,
        serde_json::to_vec_pretty(&snapshot).expect("JSON"),
    )
    .expect("write");
    let package = work.path().join("package");
    let output = common::report(&evidence, &package, &[]);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        common::stderr(&output)
    );
    let (_, out) = common::verify(&package, &[]);
    assert!(
        out.contains(&format!(
            "OK    evidence.json: {} stored CloudTrail digest signatures of 1 trail result re-checked",
            report.chain.len()
        )),
        "{out}"
    );
    assert!(
        !common::failed_subjects(&out).contains("evidence.json"),
        "{out}"
    );

    // One stored signature changed in the package's evidence.json, the manifest re-listed (a
    // draft has no seal): the hashes hold, the re-check does not.
    let mut tampered = snapshot.clone();
    let chain = tampered["accounts"][0]["regions"]
        .as_array_mut()
        .expect("regions")
        .iter_mut()
        .find(|r| r["region"] == HOME)
        .expect("home")["cloudtrail"]["log_integrity"][0]["result"]["validated"]["report"]["chain"]
        .as_array_mut()
        .expect("chain");
    let signature = chain[3]["signature"].as_str().expect("signed").to_string();
    chain[3]["signature"] = json!(altered(&signature));
    std::fs::write(
        package.join("evidence.json"),
        serde_json::to_vec_pretty(&tampered).expect("JSON"),
    )
    .expect("write");
    common::forge::rewrite_manifest(&package);
    let (code, out) = common::verify(&package, &[]);
    assert_ne!(code, Some(0), "{out}");
    let line = out
        .lines()
        .find(|l| {
            l.starts_with("FAIL  evidence.json: stored CloudTrail digest chain does not re-check")
        })
        .unwrap_or_else(|| panic!("no re-check failure: {out}"));
    assert!(
        line.contains(&report.chain[3].digest)
            && line.contains("lims-org-audit in 111122223333 eu-central-1"),
        "{line}"
    );
}

/// Issue 19's "done when" in one run: `report` for a period a year back (one day, so the test
/// signs 26 digests rather than a month's 746), its change events and its digest chain read
/// from the trail's bucket in moto (`--trail-logs s3://BUCKET/PREFIX`): the chain is validated
/// with no finding and the trail's row is PASS in the report.
#[test]
fn report_a_year_back_from_the_trail_bucket_validates_the_digest_chain() {
    let start = (Utc::now() - Duration::days(365))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    let end = start + Duration::days(1);
    // The first digest covers the hour before the period, the last the hour after it.
    let spec = TrailSpec {
        first_digest_start: start - Duration::hours(1) + Duration::seconds(91),
        ..e2e_spec()
    };
    let shape = TrailShape {
        digests: 26,
        files_per_hour: 1,
        records_per_file: 1,
    };
    let logs = tempfile::tempdir().expect("tempdir");
    trail_digests::write_trail_of(logs.path(), &spec, shape, TrailOptions::default());
    // Every other day up to today has a file of read events (the change events need every
    // day folder); the period's own day has only the trail's files its digests list.
    let day_before = start - Duration::days(1);
    for (from, to) in [(day_before, day_before), (end, Utc::now())] {
        fill_days(logs.path(), None, MOTO_ACCOUNT, E2E_REGION, from, to);
    }

    let moto = moto();
    moto.seed(&[
        "validated-trails",
        E2E_REGION,
        E2E_BUCKET,
        E2E_PREFIX,
        &format!("{E2E_TRAIL}=on"),
    ]);
    let root = logs.path().display().to_string();
    moto.seed(&["trail-bucket", E2E_REGION, E2E_BUCKET, E2E_PREFIX, &root]);
    // The test key, valid from before the period to now.
    let mut keys: Value = serde_json::from_str(&trail_digests::public_keys_json()).expect("JSON");
    keys["PublicKeyList"][0]["ValidityStartTime"] =
        json!((start - Duration::days(30)).timestamp() as f64);
    keys["PublicKeyList"][0]["ValidityEndTime"] = json!(Utc::now().timestamp() as f64);
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        public_keys: keys["PublicKeyList"].as_array().expect("keys").clone(),
        ..Default::default()
    });

    let out = tempfile::tempdir().expect("tempdir");
    let report_dir = out.path().join("report");
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("gxp-evidence"));
    cmd.args(["report", "--regions", E2E_REGION])
        .args(["--from", &start.to_rfc3339()])
        .args(["--to", &end.to_rfc3339()])
        .arg("--endpoint-url")
        .arg(&stub.url)
        .args(["--trail-logs", &format!("s3://{E2E_BUCKET}/{E2E_PREFIX}")])
        .arg("--out")
        .arg(&report_dir);
    with_test_credentials(&mut cmd);
    let output = cmd.output().expect("runs");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let evidence = report_dir.join("evidence.json");
    let snapshot: Value =
        serde_json::from_slice(&std::fs::read(&evidence).expect("snapshot")).expect("JSON");
    let validated = integrity_of(&snapshot, E2E_TRAIL);
    let report = &validated["result"]["validated"]["report"];
    assert_eq!(report["findings"], json!([]), "{validated:#}");
    assert!(
        report["digests_checked"].as_u64().unwrap() >= 24,
        "{report}"
    );
    assert!(
        snapshot["accounts"][0]["regions"][0]["cloudtrail"]["events_from"]["trail_log_files"]
            ["location"]
            .as_str()
            .is_some_and(|l| l.starts_with("s3://")),
        "the change events came from the bucket"
    );
    let row = loaded_rows(&evidence)
        .into_iter()
        .find(|f| f.resource.ends_with(&format!("trail/{E2E_TRAIL}")))
        .expect("the trail's row");
    assert_eq!(row.status, Status::Pass, "{}", row.reason);
    let csv = common::read(&report_dir.join("findings.csv"));
    assert!(
        csv.lines()
            .any(|l| l.contains(CONTROL) && l.contains(E2E_TRAIL) && l.contains(",PASS,")),
        "{csv}"
    );
    // The methodology says where the events came from and what proves the files.
    let html = common::read(&report_dir.join("report.html"));
    assert!(
        html.contains("validated trail by trail from CloudTrail"),
        "methodology"
    );
}
