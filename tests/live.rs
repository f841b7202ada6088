//! Live collection end to end: `collect` and `report` against moto (real AWS API shapes) behind
//! the stub of `common/aws_stub.rs` (LookupEvents, ListRegions, faults). moto is started by
//! scripts/test (GXP_MOTO_URL); tests that reset or seed it take turns through one lock.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Output;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use common::aws_stub::{
    AwsStub, Faults, StubConfig, expected_kept_ids, max_calls_in_any_second, moto_post,
    previous_month, recorded_events,
};
use gxp_evidence::collect::KMS_CHANGE_EVENT_NAMES;
use serde_json::Value;

/// Distinctive test credentials: no output may ever contain them.
const ACCESS_KEY: &str = "AKIAGXPTESTCOLLECTOR";
const SECRET_KEY: &str = "gxpTestSecret/DoNotPrint+0123456789abcdefXYZ";
const SESSION_TOKEN: &str = "gxpTestSessionTokenNeverShown";

static MOTO_TURN: Mutex<()> = Mutex::new(());

struct Moto {
    url: String,
    python: String,
    _turn: MutexGuard<'static, ()>,
}

/// Takes moto for this test and resets it (fixed seed, so ids repeat run to run).
fn moto() -> Moto {
    let turn = MOTO_TURN.lock().unwrap_or_else(|p| p.into_inner());
    let url = std::env::var("GXP_MOTO_URL").expect(
        "GXP_MOTO_URL is not set: run the suite with scripts/test, which starts the pinned moto server",
    );
    let python =
        std::env::var("GXP_MOTO_PYTHON").expect("GXP_MOTO_PYTHON is set with GXP_MOTO_URL");
    for path in ["/moto-api/reset", "/moto-api/seed?a=42"] {
        moto_post(&url, path);
    }
    Moto {
        url,
        python,
        _turn: turn,
    }
}

impl Moto {
    fn seed(&self, args: &[&str]) -> Value {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/moto/seed.py");
        let output = std::process::Command::new(&self.python)
            .arg(script)
            .arg(&self.url)
            .args(args)
            .output()
            .expect("seed runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("seed prints JSON")
    }
}

fn live(stub: &AwsStub, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("gxp-evidence"));
    cmd.args(args)
        .arg("--endpoint-url")
        .arg(&stub.url)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_SESSION_TOKEN", SESSION_TOKEN);
    cmd
}

fn run(mut cmd: std::process::Command) -> Output {
    cmd.output().expect("gxp-evidence runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn load_json(path: &Path) -> Value {
    serde_json::from_str(&common::read(path)).expect("JSON")
}

/// Status of the one finding of `control` (and `view`) whose resource contains `resource`.
fn status_of(
    results: &Value,
    control: &str,
    region: &str,
    resource: &str,
    view: Option<&str>,
) -> String {
    let matches: Vec<&Value> = results["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["control_id"] == control
                && (f["region"] == region || f["region"] == "all")
                && f["resource"].as_str().is_some_and(|r| r.contains(resource))
                && view.is_none_or(|v| f["view"] == v)
        })
        .collect();
    assert_eq!(
        matches.len(),
        1,
        "{control} {region} {resource} {view:?}: {matches:#?}"
    );
    matches[0]["status"].as_str().expect("status").to_string()
}

/// Every file under `dir`, read as text where possible, must not contain the credentials.
fn assert_no_credentials(texts: &[String], dir: &Path) {
    let mut all: Vec<(String, String)> = texts
        .iter()
        .map(|t| ("output".to_string(), t.clone()))
        .collect();
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).expect("read");
        all.push((
            entry.display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    for (name, text) in all {
        for secret in [ACCESS_KEY, SECRET_KEY, SESSION_TOKEN] {
            assert!(!text.contains(secret), "{name} contains a credential");
        }
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

const REGIONS: &str = "eu-west-1,us-east-1";

#[test]
fn collect_and_report_against_moto_give_the_expected_status_for_every_scenario() {
    let moto = moto();
    let made = moto.seed(&["scenarios", "us-east-1", "eu-west-1"]);
    let (start, _) = previous_month();
    let events = recorded_events(start, 1, Duration::ZERO);
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        events: BTreeMap::from([("us-east-1".to_string(), events)]),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence_path = dir.path().join("evidence.json");
    let live_report = dir.path().join("live-report");

    // The two-step way (collect, then report on the file) and the one-go way, side by side.
    let mut collect = live(
        &stub,
        &[
            "collect",
            "--regions",
            REGIONS,
            "--system-name",
            "LIMS",
            "-vv",
        ],
    );
    collect.arg("--out").arg(&evidence_path);
    let mut report = live(
        &stub,
        &["report", "--regions", REGIONS, "--system-name", "LIMS"],
    );
    report.arg("--out").arg(&live_report);
    let collecting = std::thread::spawn(move || run(collect));
    let reporting = run(report);
    let collected = collecting.join().expect("collect thread");
    assert_eq!(collected.status.code(), Some(0), "{}", stderr(&collected));
    assert!(
        stderr(&collected).contains("0 evidence gaps"),
        "{}",
        stderr(&collected)
    );
    assert_eq!(
        reporting.status.code(),
        Some(1),
        "NON_COMPLIANT: {}",
        stderr(&reporting)
    );
    assert!(
        stderr(&reporting).starts_with("NON_COMPLIANT"),
        "{}",
        stderr(&reporting)
    );

    let from_file = dir.path().join("from-file");
    let output = common::report(&evidence_path, &from_file, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", common::stderr(&output));

    let snapshot = load_json(&evidence_path);
    assert_eq!(
        snapshot["scope"]["accounts"],
        serde_json::json!(["123456789012"])
    );
    assert_eq!(
        snapshot["scope"]["regions"],
        serde_json::json!(["eu-west-1", "us-east-1"])
    );
    assert_eq!(snapshot["gaps"], serde_json::json!([]));
    assert!(snapshot["accounts"][0]["caller_identity"]["Arn"].is_string());

    for results in [common::results(&live_report), common::results(&from_file)] {
        for region in ["us-east-1", "eu-west-1"] {
            let ids = &made[region];
            let id = |name: &str| ids[name].as_str().expect("id").to_string();
            let api = |name: &str| {
                status_of(
                    &results,
                    "apigw-cache-encryption",
                    region,
                    &format!("({})", id(name)),
                    Some("security_hub"),
                )
            };
            let api_strict = |name: &str| {
                status_of(
                    &results,
                    "apigw-cache-encryption",
                    region,
                    &format!("({})", id(name)),
                    Some("aws_config"),
                )
            };
            assert_eq!(api("api_encrypted"), "PASS");
            assert_eq!(api_strict("api_encrypted"), "PASS");
            assert_eq!(api("api_unencrypted"), "FAIL");
            assert_eq!(api_strict("api_unencrypted"), "FAIL");
            // Nothing cached: the lenient reading passes, the strict one fails.
            assert_eq!(api("api_no_cache"), "PASS");
            assert_eq!(api_strict("api_no_cache"), "FAIL");
            // Only the per-method override is unencrypted: found because every method is evaluated.
            assert_eq!(api("api_override"), "FAIL");
            let logging = |name: &str| {
                status_of(
                    &results,
                    "apigw-logging",
                    region,
                    &format!("({})", id(name)),
                    None,
                )
            };
            assert_eq!(logging("api_encrypted"), "PASS");
            assert_eq!(logging("api_no_cache"), "FAIL");

            let key = |name: &str| status_of(&results, "kms-key-rotation", region, &id(name), None);
            assert_eq!(key("key_rotating"), "PASS");
            assert_eq!(key("key_not_rotating"), "FAIL");
            for not_applicable in [
                "key_asymmetric",
                "key_hmac",
                "key_pending_deletion",
                "key_disabled",
                "key_external",
            ] {
                assert_eq!(key(not_applicable), "NOT_APPLICABLE", "{not_applicable}");
            }
        }
        // The override is named with the method it concerns.
        let override_row = results["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| {
                f["control_id"] == "apigw-cache-encryption"
                    && f["view"] == "security_hub"
                    && f["status"] == "FAIL"
                    && f["resource"]
                        .as_str()
                        .is_some_and(|r| r.contains("method-override"))
            });
        assert!(
            override_row.expect("override row")["reason"]
                .as_str()
                .expect("reason")
                .contains("PUT /items/{id}")
        );

        // The multi-region trail (validation and encryption on) passes CloudTrail.1/.2/.4.
        for control in [
            "cloudtrail-multi-region",
            "cloudtrail-encryption",
            "cloudtrail-log-validation",
        ] {
            let statuses: BTreeSet<&str> = results["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .filter(|f| {
                    f["control_id"] == control
                        && f["resource"]
                            .as_str()
                            .is_some_and(|r| r.contains("org-audit"))
                })
                .filter_map(|f| f["status"].as_str())
                .collect();
            assert_eq!(statuses, BTreeSet::from(["PASS"]), "{control}");
        }
        // The recorded StopLogging/DeleteTrail events reached the change register.
        let changes = results["changes"].as_array().expect("changes");
        assert!(
            changes.iter().any(|c| c["event_name"] == "StopLogging"),
            "change register has the recorded events"
        );
    }
    // The shadow copy of the multi-region trail is listed in eu-west-1 but asked about once.
    let regions = snapshot["accounts"][0]["regions"]
        .as_array()
        .expect("regions");
    let with_status: usize = regions
        .iter()
        .flat_map(|r| {
            r["cloudtrail"]["trails"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|t| t["trail"]["Name"] == "org-audit" && t.get("status").is_some())
        .count();
    assert_eq!(with_status, 1);

    // Reports from the live run and from the file agree on every status.
    let statuses = |dir: &Path| -> Vec<(String, String)> {
        common::results(dir)["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                (
                    format!(
                        "{} {} {} {}",
                        f["control_id"], f["region"], f["resource"], f["view"]
                    ),
                    f["status"].to_string(),
                )
            })
            .collect()
    };
    assert_eq!(statuses(&live_report), statuses(&from_file));
    assert_no_credentials(&[stderr(&collected), stderr(&reporting)], dir.path());
}

#[test]
fn lookup_events_arrive_exactly_once_at_no_more_than_two_calls_per_second_despite_faults() {
    let moto = moto();
    let (start, end) = previous_month();
    // 20 spaced copies of the recorded events: several pages for the CloudTrail query.
    let events = recorded_events(start, 20, Duration::from_secs(3600));
    let expected = expected_kept_ids(&events, start, end, KMS_CHANGE_EVENT_NAMES);
    assert!(
        expected.len() > 150,
        "enough events for several pages: {}",
        expected.len()
    );
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        events: BTreeMap::from([
            ("us-east-1".to_string(), events.clone()),
            ("eu-west-1".to_string(), events),
        ]),
        faults: Faults {
            throttle_every: 9,
            throttle_burst: 3,
            server_error_every: 7,
            slow_every: 13,
            slow_for: Duration::from_millis(2500),
        },
        enforce_rate_limit: true,
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence_path = dir.path().join("evidence.json");
    let mut collect = live(&stub, &["collect", "--regions", REGIONS]);
    collect.arg("--out").arg(&evidence_path);
    let output = run(collect);
    assert_eq!(
        output.status.code(),
        Some(0),
        "no gaps: {}",
        stderr(&output)
    );

    let snapshot = load_json(&evidence_path);
    for region in snapshot["accounts"][0]["regions"]
        .as_array()
        .expect("regions")
    {
        let cloudtrail = &region["cloudtrail"];
        let ids: Vec<&str> = cloudtrail["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["EventId"].as_str())
            .collect();
        let unique: BTreeSet<String> = ids.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            ids.len(),
            unique.len(),
            "no duplicates in {}",
            region["region"]
        );
        assert_eq!(
            unique, expected,
            "every event exactly once in {}",
            region["region"]
        );
        let queries = cloudtrail["lookup_queries"].as_array().expect("plan");
        assert_eq!(queries.len(), 2 + KMS_CHANGE_EVENT_NAMES.len());
        let cloudtrail_query = queries
            .iter()
            .find(|q| q["attribute_value"] == "cloudtrail.amazonaws.com")
            .expect("CloudTrail query");
        assert!(cloudtrail_query["events_returned"].as_u64().expect("n") > 150);
    }

    let calls = stub.lookup_calls();
    assert_eq!(calls.len(), 2, "both regions queried");
    for (region, calls) in &calls {
        let faults: Vec<&str> = calls
            .iter()
            .map(|c| c.outcome)
            .filter(|o| *o != "ok")
            .collect();
        assert!(
            faults.contains(&"throttled")
                && faults.contains(&"server-error")
                && faults.contains(&"slow"),
            "{region}: {faults:?}"
        );
        assert!(
            !faults.contains(&"rate-limited"),
            "{region}: the stub's 2/s limit was hit"
        );
        assert!(
            max_calls_in_any_second(calls) <= 2,
            "{region}: more than 2 calls in one second"
        );
    }
    assert_eq!(stub.rate_limited(), 0);
}

#[test]
fn access_denied_on_one_service_in_one_region_is_a_gap_and_the_report_incomplete() {
    let moto = moto();
    // Compliant everywhere, so that the one gap alone decides the verdict.
    let made = moto.seed(&["compliant", "us-east-1"]);
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        enabled_regions: vec!["eu-west-1".into(), "us-east-1".into()],
        deny: vec![("kms".into(), "eu-west-1".into())],
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report");
    let mut report = live(&stub, &["report", "--regions", "all"]);
    report.arg("--out").arg(&out);
    let output = run(report);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let results = common::results(&out);
    assert_eq!(results["verdict"], "INCOMPLETE");
    assert_eq!(
        results["regions"],
        serde_json::json!(["eu-west-1", "us-east-1"]),
        "all = the enabled regions"
    );
    let gaps = results["evidence_gaps"].as_array().expect("gaps");
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    assert_eq!(gaps[0]["region"], "eu-west-1");
    assert_eq!(gaps[0]["service"], "kms");
    assert_eq!(gaps[0]["api"], "ListKeys");
    assert_eq!(gaps[0]["error_code"], "AccessDeniedException");
    assert_eq!(
        status_of(&results, "kms-key-rotation", "eu-west-1", "(region)", None),
        "EVIDENCE_GAP"
    );
    let key = made["key"].as_str().expect("key id");
    assert_eq!(
        status_of(&results, "kms-key-rotation", "us-east-1", key, None),
        "PASS"
    );
    assert_eq!(results["totals"]["fail"], 0, "{:#?}", results["findings"]);
    let csv = common::read(&out.join("gaps.csv"));
    assert!(
        csv.contains("ListKeys") && csv.contains("AccessDeniedException"),
        "{csv}"
    );
}

#[test]
fn a_region_not_enabled_for_the_account_is_reported_as_gaps_not_as_empty() {
    let moto = moto();
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        disabled_regions: vec!["ap-east-1".into()],
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence_path = dir.path().join("evidence.json");
    let mut collect = live(&stub, &["collect", "--regions", "ap-east-1,us-east-1"]);
    collect.arg("--out").arg(&evidence_path);
    let output = run(collect);
    assert_eq!(
        output.status.code(),
        Some(1),
        "gaps recorded: {}",
        stderr(&output)
    );
    let snapshot = load_json(&evidence_path);
    let gaps = snapshot["gaps"].as_array().expect("gaps");
    assert!(gaps.iter().all(|g| g["region"] == "ap-east-1"), "{gaps:#?}");
    let apis: BTreeSet<&str> = gaps.iter().filter_map(|g| g["api"].as_str()).collect();
    for api in ["GetRestApis", "ListKeys", "DescribeTrails", "LookupEvents"] {
        assert!(apis.contains(api), "{api} missing from {apis:?}");
    }
    assert!(
        gaps.len() <= 8,
        "one rejection is not repeated for every query: {gaps:#?}"
    );
    assert!(
        gaps.iter()
            .any(|g| g["message"].as_str().is_some_and(|m| m.contains("enabled")))
    );

    let out = dir.path().join("report");
    let report = common::report(&evidence_path, &out, &[]);
    assert_eq!(report.status.code(), Some(1));
    let results = common::results(&out);
    for control in ["apigw-logging", "kms-key-rotation", "change-control"] {
        assert_eq!(
            status_of(&results, control, "ap-east-1", "(region)", None),
            "EVIDENCE_GAP",
            "{control}"
        );
    }
}

#[test]
fn expired_credentials_stop_the_run_before_anything_is_written() {
    let stub = AwsStub::start(StubConfig {
        expired_credentials: true,
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report");
    let mut report = live(&stub, &["report", "--regions", "eu-west-1"]);
    report.arg("--out").arg(&out);
    let output = run(report);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("ExpiredToken") && message.contains("Nothing was written"),
        "{message}"
    );
    assert!(!out.exists());
    let evidence = dir.path().join("evidence.json");
    let mut collect = live(&stub, &["collect", "--regions", "eu-west-1"]);
    collect.arg("--out").arg(&evidence);
    assert_eq!(run(collect).status.code(), Some(2));
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        0,
        "no partial files"
    );
    assert_no_credentials(&[message], dir.path());
}

#[test]
fn missing_credentials_stop_the_run_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("evidence.json");
    let output = common::bin()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args([
            "collect",
            "--regions",
            "eu-west-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let message = common::stderr(&output);
    assert!(
        message.contains("credentials") && message.contains("GetCallerIdentity"),
        "{message}"
    );
    assert!(!out.exists());
}

#[test]
fn periods_lookup_events_cannot_cover_are_refused_up_front() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("evidence.json");
    let output = common::bin()
        .args([
            "collect",
            "--period",
            "2020-01",
            "--regions",
            "eu-west-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let message = common::stderr(&output);
    assert!(
        message.contains("90 days") && message.contains("log files"),
        "{message}"
    );
    let output = common::bin()
        .args([
            "collect",
            "--period",
            "October",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(common::stderr(&output).contains("YYYY-MM"));
    let output = common::bin()
        .args([
            "report",
            "--evidence",
            "x.json",
            "--regions",
            "eu-west-1",
            "--out",
        ])
        .arg(dir.path().join("r"))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(common::stderr(&output).contains("--regions only apply to a live collection"));
    assert!(!out.exists());
}

/// `gxp-evidence sign --kms-key-id` against moto's KMS, with the test credentials.
fn kms_sign(moto: &Moto, package: &Path, key: &str, name: &str, meaning: &str) -> Output {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("gxp-evidence"));
    cmd.arg("sign")
        .arg(package)
        .args(["--kms-key-id", key, "--endpoint-url", &moto.url])
        .args([
            "--name",
            name,
            "--user-id",
            &name.to_lowercase().replace(' ', "."),
        ])
        .args(["--role", "QA Manager", "--meaning", meaning])
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_SESSION_TOKEN", SESSION_TOKEN);
    run(cmd)
}

#[test]
fn a_package_signed_with_a_kms_key_in_moto_verifies_offline() {
    let moto = moto();
    let keys = moto.seed(&["signing-keys", "eu-west-1"]);
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    let demo = common::bin()
        .arg("demo")
        .arg("--out")
        .arg(&package)
        .output()
        .unwrap();
    assert_eq!(demo.status.code(), Some(1), "{}", stderr(&demo));

    // Alice signs with a local key, Bob with the KMS key addressed by its alias.
    let alice = common::keygen(dir.path(), "alice");
    let signed = common::sign(
        &package,
        &alice,
        "Alice Author",
        "Validation Engineer",
        "authored",
    );
    assert!(signed.status.success(), "{}", stderr(&signed));
    let signed = kms_sign(
        &moto,
        &package,
        "alias/gxp-qa-signing",
        "Bob Approver",
        "approved",
    );
    assert!(signed.status.success(), "{}", stderr(&signed));
    let message = stderr(&signed);
    let ecc_arn = keys["gxp-qa-signing"].as_str().unwrap();
    assert!(
        message.contains(&format!("ECDSA P-256 SHA-256 AWS KMS key {ecc_arn}")),
        "the key is recorded by its ARN, not the alias: {message}"
    );
    for secret in [ACCESS_KEY, SECRET_KEY, SESSION_TOKEN] {
        assert!(!message.contains(secret));
        for file in common::files_under(&package) {
            let bytes = std::fs::read(package.join(&file)).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(secret),
                "{file} holds a credential"
            );
        }
    }
    let signoffs = load_json(&package.join("signoffs.json"));
    let record = &signoffs["signoffs"][1];
    assert_eq!(record["key"]["source"], "aws-kms");
    assert_eq!(record["key"]["algorithm"], "ecdsa-p256-sha256");
    assert_eq!(record["key"]["kms_key_arn"], ecc_arn);
    let seal = load_json(&package.join("manifest.sig"));
    assert_eq!(seal["key"]["kms_key_arn"], ecc_arn, "the last signer seals");

    // Verification needs no AWS: no credentials, and every endpoint points at a closed port.
    drop(moto);
    let output = common::bin()
        .arg("verify")
        .arg(&package)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let out = common::stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "OK    manifest.sig: signature valid over manifest.json and 2 sign-off(s), ECDSA P-256 SHA-256 AWS KMS key {ecc_arn}"
        )),
        "{out}"
    );
    assert!(out.contains("sign-off 2 (Bob Approver, approved)"), "{out}");

    // Tampering with the KMS-signed record is caught like any other.
    let text = common::read(&package.join("signoffs.json")).replacen("QA Manager", "QA Managr", 1);
    std::fs::write(package.join("signoffs.json"), text).unwrap();
    let (code, out) = common::verify(&package, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        common::failed_subjects(&out),
        BTreeSet::from(["signoffs.json".to_string()]),
        "{out}"
    );
}

#[test]
fn kms_keys_that_cannot_sign_as_aws_does_are_refused_and_nothing_is_written() {
    let moto = moto();
    moto.seed(&["signing-keys", "eu-west-1"]);
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    common::bin()
        .arg("demo")
        .arg("--out")
        .arg(&package)
        .output()
        .unwrap();
    let before = common::read(&package.join("manifest.json"));

    // moto signs RSASSA-PSS with the maximum salt length; AWS KMS uses 32 bytes. Every
    // signature is checked with AWS's parameters before anything is written, so moto's RSA
    // signature is refused — the exact salt length is enforced.
    for (key, expected) in [
        (
            "alias/gxp-encryption",
            "key usage is ENCRYPT_DECRYPT, not SIGN_VERIFY",
        ),
        (
            "alias/gxp-qa-signing-rsa",
            "does not verify with its own public key",
        ),
        ("alias/no-such-key", "NotFoundException"),
    ] {
        let refused = kms_sign(&moto, &package, key, "Bob Approver", "approved");
        assert_eq!(refused.status.code(), Some(2), "{key}");
        assert!(
            stderr(&refused).contains(expected),
            "{key}: {}",
            stderr(&refused)
        );
    }

    assert_eq!(common::read(&package.join("manifest.json")), before);
    assert!(!package.join("manifest.sig").exists());
}
