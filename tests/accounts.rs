//! Collection across several accounts end to end: `collect` and `report` with `--organization`
//! or `--accounts` and `--role-name` against moto (Organizations, AssumeRole, per-account
//! resources) behind the stub of `common/aws_stub.rs`. moto runs with
//! `--require-existing-roles` (tests/moto/server.py), so that AssumeRole of a role that does
//! not exist, or without the external id its trust policy asks for, is refused as AWS refuses
//! it; tests/moto/organization.py makes the organization.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{Value, json};

use common::aws_stub::{AwsStub, SeenRequest, StubConfig, max_calls_within};
use common::moto::{CREDENTIALS, MOTO_ACCOUNT, Moto, live, month, moto, moto_with};

const ROLE: &str = "OrganizationAccountAccessRole";
const EXTERNAL_ID: &str = "gxp-ext-7f3a";
const REGION: &str = "us-east-1";

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("gxp-evidence runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn load_json(path: &Path) -> Value {
    serde_json::from_str(&common::read(path)).expect("JSON")
}

/// The organization of tests/moto/organization.py in a moto server that refuses roles that do
/// not exist: account ids by name (`management`, `compliant`, `noncompliant`, `no_role`,
/// `closed`) and the resources made.
fn organization() -> (Moto, Value) {
    let moto = moto_with(&["--require-existing-roles"]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/moto/organization.py");
    let output = Command::new(&moto.python)
        .arg(script)
        .args([&moto.url, ROLE, EXTERNAL_ID, REGION])
        .output()
        .expect("organization.py runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let made: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(made["management"], MOTO_ACCOUNT);
    (moto, made)
}

fn id<'a>(made: &'a Value, name: &str) -> &'a str {
    made[name].as_str().expect("an account id")
}

fn contains_credential(text: &str) -> bool {
    CREDENTIALS.iter().any(|secret| text.contains(secret))
}

/// The statuses of the results of `account`.
fn statuses_of(results: &Value, account: &str) -> BTreeSet<String> {
    results["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["account_id"] == account)
        .map(|f| f["status"].as_str().expect("status").to_string())
        .collect()
}

/// The status of the one result of `control` in `account` whose resource contains `resource`.
fn status_of(results: &Value, account: &str, control: &str, resource: &str) -> String {
    let matches: Vec<&Value> = results["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["account_id"] == account
                && f["control_id"] == control
                && f["resource"].as_str().is_some_and(|r| r.contains(resource))
        })
        .collect();
    assert!(
        !matches.is_empty(),
        "{account} {control} {resource}: no result"
    );
    let statuses: BTreeSet<&str> = matches
        .iter()
        .filter_map(|f| f["status"].as_str())
        .collect();
    assert_eq!(statuses.len(), 1, "{matches:#?}");
    statuses.into_iter().next().expect("one").to_string()
}

fn is_list_regions(request: &SeenRequest) -> bool {
    request.service == "account" && request.path.starts_with("/listRegions")
}

#[test]
fn an_organization_is_collected_account_by_account_and_a_missing_role_is_that_accounts_gap() {
    let (moto, made) = organization();
    let period = month();
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence_path = dir.path().join("evidence.json");
    let mut collect = live(
        &stub,
        &period,
        &[
            "collect",
            "--organization",
            "--role-name",
            ROLE,
            "--external-id",
            EXTERNAL_ID,
            "--regions",
            REGION,
        ],
    );
    collect.arg("--out").arg(&evidence_path);
    if let Ok(parallel) = std::env::var("GXP_TEST_MAX_PARALLEL_REGIONS") {
        // To see the concurrency check below fail when account-regions run one at a time.
        collect.args(["--max-parallel-regions", &parallel]);
    }
    let started = std::time::Instant::now();
    let collected = run(&mut collect);
    eprintln!("collected 3 accounts in {:?}", started.elapsed());
    assert_eq!(
        collected.status.code(),
        Some(1),
        "an evidence gap: {}",
        stderr(&collected)
    );
    assert!(!contains_credential(&stderr(&collected)));
    // The accounts are collected at the same time: each account-region's LookupEvents are paced
    // at 2 calls/s, so more than 3 calls within one second of the region come from at least two
    // accounts at once.
    // (The stub keys an assumed role's calls `ACCOUNT/REGION`, the caller's `REGION`.)
    let calls: Vec<_> = stub
        .lookup_calls()
        .into_iter()
        .filter(|(key, _)| key.rsplit('/').next() == Some(REGION))
        .flat_map(|(_, calls)| calls)
        .collect();
    let busiest = max_calls_within(&calls, Duration::from_secs(1));
    assert!(
        busiest >= 4,
        "at most {busiest} LookupEvents calls in any second of {}: the accounts were collected one after the other",
        calls.len()
    );

    let (management, compliant, noncompliant, no_role, closed) = (
        id(&made, "management"),
        id(&made, "compliant"),
        id(&made, "noncompliant"),
        id(&made, "no_role"),
        id(&made, "closed"),
    );
    let text = common::read(&evidence_path);
    assert!(!contains_credential(&text));
    let snapshot: Value = serde_json::from_str(&text).expect("JSON");
    // Every active account, the one whose role is missing too; the closed one is not.
    let mut in_scope = vec![management, compliant, noncompliant, no_role];
    in_scope.sort();
    assert_eq!(snapshot["scope"]["accounts"], json!(in_scope));
    assert!(!text.contains(closed), "the closed account is out of scope");
    assert_eq!(snapshot["scope"]["regions"], json!([REGION]));
    let mut collected_accounts = vec![management, compliant, noncompliant];
    collected_accounts.sort();
    let accounts = snapshot["accounts"].as_array().expect("accounts");
    let ids: Vec<&str> = accounts
        .iter()
        .filter_map(|a| a["account_id"].as_str())
        .collect();
    assert_eq!(ids, collected_accounts);

    let account = |account_id: &str| -> &Value {
        accounts
            .iter()
            .find(|a| a["account_id"] == account_id)
            .expect("collected")
    };
    // Each member account is read as its role, in a session naming the tool and the period;
    // the caller's own account directly.
    let session = format!("gxp-evidence-{}", period.label);
    for member in [compliant, noncompliant] {
        assert_eq!(
            account(member)["caller_identity"]["Arn"],
            format!("arn:aws:sts::{member}:assumed-role/{ROLE}/{session}")
        );
        assert_eq!(account(member)["caller_identity"]["Account"], member);
    }
    assert_eq!(
        account(management)["caller_identity"]["Account"],
        management
    );
    assert!(
        !account(management)["caller_identity"]["Arn"]
            .as_str()
            .expect("arn")
            .contains("assumed-role"),
        "no AssumeRole into the caller's own account"
    );

    // Each account's evidence is its own.
    let evidence_of = |account_id: &str| account(account_id)["regions"].to_string();
    let compliant_api = made["compliant_api"].as_str().expect("api");
    let noncompliant_api = made["noncompliant_api"].as_str().expect("api");
    let management_key = made["management_key"].as_str().expect("key");
    assert!(evidence_of(compliant).contains(compliant_api));
    assert!(!evidence_of(compliant).contains(noncompliant_api));
    assert!(evidence_of(noncompliant).contains(noncompliant_api));
    assert!(!evidence_of(noncompliant).contains(compliant_api));
    assert!(evidence_of(management).contains(management_key));
    assert!(!evidence_of(compliant).contains(management_key));

    // The missing role: one gap for its account, STS's own code, no credentials, and nothing
    // else went wrong.
    let gaps = snapshot["gaps"].as_array().expect("gaps");
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    let gap = &gaps[0];
    assert_eq!(gap["account_id"], no_role);
    assert_eq!(gap["service"], "sts");
    assert_eq!(gap["api"], "AssumeRole");
    assert_eq!(gap["error_code"], "AccessDenied");
    assert!(gap.get("region").is_none(), "the whole account: {gap}");
    let message = gap["message"].as_str().expect("message");
    assert!(
        message.contains(&format!("arn:aws:iam::{no_role}:role/{ROLE}")),
        "{message}"
    );
    assert!(!contains_credential(message) && !message.contains(EXTERNAL_ID));

    // The report: the unreachable account's controls are EVIDENCE_GAP, never PASS or
    // NO_RESOURCES; the others are evaluated on their own evidence.
    let out = dir.path().join("report");
    let report = common::report(&evidence_path, &out, &[]);
    assert_eq!(report.status.code(), Some(1), "{}", stderr(&report));
    let results = common::results(&out);
    // FAILs decide before gaps (the non-compliant member account).
    assert_eq!(results["verdict"], "NON_COMPLIANT");
    assert_eq!(results["accounts"], json!(in_scope));
    // (The explicit EVIDENCE_GAP rows of an account without any collected region come from
    // crates/core's evaluation, `ensure_every_control_reported` and the region evaluators.)
    let statuses = statuses_of(&results, no_role);
    assert_eq!(
        statuses,
        BTreeSet::from(["EVIDENCE_GAP".to_string()]),
        "{:#?}",
        results["findings"]
    );
    let controls_with_gap: BTreeSet<&str> = results["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["account_id"] == no_role)
        .filter_map(|f| f["control_id"].as_str())
        .collect();
    let catalog: BTreeSet<&str> = results["controls"]
        .as_array()
        .expect("controls")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(
        controls_with_gap, catalog,
        "every control of the unreachable account"
    );
    let compliant_key = made["compliant_key"].as_str().expect("key");
    let noncompliant_key = made["noncompliant_key"].as_str().expect("key");
    assert_eq!(
        status_of(&results, compliant, "kms-key-rotation", compliant_key),
        "PASS"
    );
    assert_eq!(
        status_of(&results, noncompliant, "kms-key-rotation", noncompliant_key),
        "FAIL"
    );
    assert_eq!(
        status_of(&results, management, "kms-key-rotation", management_key),
        "FAIL"
    );
}

#[test]
fn listed_accounts_with_all_regions_list_each_accounts_own_regions_through_its_role() {
    let (moto, made) = organization();
    let period = month();
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        enabled_regions: vec!["eu-west-1".into(), REGION.into()],
        ..Default::default()
    });
    let (compliant, no_role) = (id(&made, "compliant"), id(&made, "no_role"));
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report");
    let accounts = format!("{no_role},{compliant}");
    let mut report = live(
        &stub,
        &period,
        &[
            "report",
            "--accounts",
            &accounts,
            "--role-name",
            ROLE,
            "--external-id",
            EXTERNAL_ID,
            "--regions",
            "all",
        ],
    );
    report.arg("--out").arg(&out);
    let output = run(&mut report);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(!contains_credential(&stderr(&output)));
    let results = common::results(&out);
    let mut listed = vec![compliant, no_role];
    listed.sort();
    assert_eq!(
        results["accounts"],
        json!(listed),
        "only the listed accounts, not the caller's"
    );
    assert_eq!(results["regions"], json!(["eu-west-1", REGION]));
    // ListRegions is asked in the one account whose role could be assumed, with its role.
    let list_regions = stub.requests().into_iter().filter(is_list_regions).count();
    assert_eq!(list_regions, 1);
    let evidence = load_json(&out.join("evidence.json"));
    let regions: Vec<&str> = evidence["accounts"][0]["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .filter_map(|r| r["region"].as_str())
        .collect();
    assert_eq!(regions, ["eu-west-1", REGION]);
    assert_eq!(
        statuses_of(&results, no_role),
        BTreeSet::from(["EVIDENCE_GAP".to_string()])
    );
    let compliant_key = made["compliant_key"].as_str().expect("key");
    assert_eq!(
        status_of(&results, compliant, "kms-key-rotation", compliant_key),
        "PASS"
    );
}

#[test]
fn a_role_whose_trust_policy_asks_for_an_external_id_is_refused_without_it() {
    let (moto, made) = organization();
    let period = month();
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        ..Default::default()
    });
    let compliant = id(&made, "compliant");
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence_path = dir.path().join("evidence.json");
    let mut collect = live(
        &stub,
        &period,
        &[
            "collect",
            "--accounts",
            compliant,
            "--role-name",
            ROLE,
            "--regions",
            REGION,
        ],
    );
    collect.arg("--out").arg(&evidence_path);
    let output = run(&mut collect);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let snapshot = load_json(&evidence_path);
    assert_eq!(snapshot["scope"]["accounts"], json!([compliant]));
    assert_eq!(snapshot["accounts"], json!([]));
    assert_eq!(snapshot["gaps"][0]["api"], "AssumeRole");
    assert_eq!(snapshot["gaps"][0]["error_code"], "AccessDenied");
}

#[test]
fn organization_from_an_account_that_may_not_list_it_is_a_clear_error_and_nothing_is_written() {
    let moto = moto();
    let period = month();
    // What AWS answers a member account (moto's ListAccounts answers any account).
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        deny: vec![("organizations".into(), REGION.into())],
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence_path = dir.path().join("evidence.json");
    let mut collect = live(
        &stub,
        &period,
        &[
            "collect",
            "--organization",
            "--role-name",
            ROLE,
            "--regions",
            REGION,
        ],
    );
    collect.arg("--out").arg(&evidence_path);
    let output = run(&mut collect);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("organizations:ListAccounts was refused")
            && message.contains("AccessDenied")
            && message.contains("management account"),
        "{message}"
    );
    assert!(!evidence_path.exists());
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

#[test]
fn account_flags_are_checked_before_anything_is_collected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("evidence.json");
    let out = out.to_str().expect("UTF-8 path");
    let cases: [(&[&str], &str); 6] = [
        (
            &["collect", "--accounts", "12345", "--role-name", ROLE],
            "\"12345\" is not an AWS account id",
        ),
        (
            &[
                "collect",
                "--accounts",
                "111111111111,22222222222a",
                "--role-name",
                ROLE,
            ],
            "\"22222222222a\" is not an AWS account id",
        ),
        (&["collect", "--accounts", "111111111111"], "--role-name"),
        (&["collect", "--organization"], "--role-name"),
        (
            &[
                "collect",
                "--organization",
                "--accounts",
                "111111111111",
                "--role-name",
                ROLE,
            ],
            "cannot be used with",
        ),
        (
            &["collect", "--role-name", ROLE, "--period", &month().label],
            "--role-name is the role assumed in the accounts of --accounts or --organization",
        ),
    ];
    for (args, expected) in cases {
        let output = common::bin_process()
            .args(args)
            .args(["--out", out])
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .output()
            .expect("runs");
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(!Path::new(out).exists(), "{args:?}");
    }
    let output = common::bin_process()
        .args(["collect", "--accounts", "111111111111", "--role-name", ROLE])
        .args(["--external-id", "not valid", "--out", out])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("external id"),
        "{}",
        stderr(&output)
    );

    // A snapshot file was collected with its own accounts: the flags do not apply to it.
    let report_dir = dir.path().join("report");
    let output = common::report(
        &common::demo_evidence(),
        &report_dir,
        &["--accounts", "111111111111", "--role-name", ROLE],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--accounts, --role-name apply only to a live collection"),
        "{}",
        stderr(&output)
    );
    assert!(!report_dir.exists());
}

#[test]
fn a_scheduled_run_over_the_organization_archives_one_package_with_every_account() {
    let (moto, made) = organization();
    let period = month();
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("archive")).expect("archive");
    common::keygen(&dir.path().join("keys"), "job");
    let config = dir.path().join("run.toml");
    std::fs::write(
        &config,
        format!(
            r#"[system]
name = "LIMS organization"
[accounts]
organization = true
role_name = "{ROLE}"
external_id = "{EXTERNAL_ID}"
[collection]
regions = ["{REGION}"]
endpoint_url = "{url}"
settle_minutes = 0
[signing]
key = "keys/job.key"
passphrase_env = "{passphrase_var}"
name = "GxP evidence scheduled job"
user_id = "svc-gxp-evidence"
role = "Automated evidence collection"
[archive]
location = "archive"
"#,
            url = stub.url,
            passphrase_var = common::PASSPHRASE_VAR,
        ),
    )
    .expect("config");
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("gxp-evidence"));
    command
        .args(["run", "--quiet", "--period", &period.label, "--config"])
        .arg(&config)
        .env(common::PASSPHRASE_VAR, common::TEST_PASSPHRASE)
        .env_remove(common::TEST_NOW_VAR);
    let output = run(common::moto::with_test_credentials(&mut command));
    // Produced whatever the verdict: a scheduler sees success.
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!contains_credential(&stderr(&output)));
    assert!(!contains_credential(&String::from_utf8_lossy(
        &output.stdout
    )));
    let summary: Value = serde_json::from_slice(&output.stdout).expect("one JSON line on stdout");
    assert_eq!(summary["verdict"], "NON_COMPLIANT", "{summary}");
    assert!(
        summary["counts"]["evidence_gap"].as_u64() > Some(0),
        "{summary}"
    );
    let r1 = dir
        .path()
        .join("archive/lims-organization")
        .join(&period.label)
        .join("r1");
    assert_eq!(summary["archive_path"], r1.display().to_string());
    let (code, verification) = common::verify(&r1, &[]);
    assert_eq!(code, Some(0), "{verification}");

    let mut in_scope: Vec<&str> = ["management", "compliant", "noncompliant", "no_role"]
        .iter()
        .map(|name| id(&made, name))
        .collect();
    in_scope.sort_unstable();
    let results = common::results(&r1);
    assert_eq!(results["accounts"], json!(in_scope));
    let no_role = id(&made, "no_role");
    assert_eq!(
        statuses_of(&results, no_role),
        BTreeSet::from(["EVIDENCE_GAP".to_string()])
    );
    // One row per account in accounts.csv, the role-less one INCOMPLETE.
    let accounts = common::read(&r1.join("accounts.csv"));
    for account in &in_scope {
        assert!(accounts.contains(account), "{account} not in accounts.csv");
    }
    let no_role_row = accounts
        .lines()
        .find(|line| line.contains(no_role))
        .expect("row");
    assert!(no_role_row.ends_with("INCOMPLETE"), "{no_role_row}");
    assert!(
        !accounts.contains(id(&made, "closed")),
        "a closed account is not in scope"
    );
}
