//! `kms-key-exposure` end to end: key policies collected from moto (GetKeyPolicy) and judged in
//! the report; crafted snapshots for each evidence gap; and the period rule replaying the
//! PutKeyPolicy / CreateKey records of the period over the collected policy.

mod common;

use common::moto::moto;
use gxp_evidence::controls::{self, Evaluation, Finding, Status};
use serde_json::{Value, json};

const EXPOSURE: &str = "kms-key-exposure";
/// The demo's compliant disaster-recovery account, its region and customer managed key.
const ACCOUNT: &str = "444455556666";
const HOME: &str = "eu-central-1";
const KEY_ID: &str = "6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d";

fn policy(statements: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn root() -> Value {
    json!({"Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"})
}

fn open_decrypt() -> Value {
    json!({"Sid": "OpenDecrypt", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": "kms:Decrypt", "Resource": "*"})
}

fn closed_policy() -> String {
    policy(json!([root()]))
}

fn open_policy() -> String {
    policy(json!([root(), open_decrypt()]))
}

/// The demo's DR account alone (compliant: its key's policy trusts the account only).
fn base() -> Value {
    common::demo_account_alone(ACCOUNT)
}

fn home(snapshot: &mut Value) -> &mut Value {
    snapshot["accounts"][0]["regions"]
        .as_array_mut()
        .expect("regions")
        .iter_mut()
        .find(|r| r["region"] == HOME)
        .expect("home region")
}

fn key(snapshot: &mut Value) -> &mut Value {
    home(snapshot)["kms"]["keys"]
        .as_array_mut()
        .expect("keys")
        .iter_mut()
        .find(|k| k["metadata"]["KeyId"] == KEY_ID)
        .expect("the customer managed key")
}

fn evaluate(snapshot: &Value) -> Evaluation {
    common::evaluate_crafted(snapshot)
}

/// The one exposure finding of the DR key.
fn exposure(snapshot: &Value) -> Finding {
    let evaluation = evaluate(snapshot);
    let rows: Vec<&Finding> = evaluation
        .findings
        .iter()
        .filter(|f| f.control_id == EXPOSURE && f.resource.starts_with(KEY_ID))
        .collect();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    rows[0].clone()
}

/// A KMS change event on the DR key, as LookupEvents returns it.
fn kms_event(id: &str, name: &str, at: &str, params: Value, response: Value) -> Value {
    let record = json!({"eventVersion": "1.10", "eventTime": at, "eventSource": "kms.amazonaws.com",
        "eventName": name, "awsRegion": HOME, "requestParameters": params,
        "responseElements": response, "eventID": id, "readOnly": false});
    json!({"EventId": id, "EventName": name, "ReadOnly": "false", "EventTime": at,
        "EventSource": "kms.amazonaws.com",
        "Resources": [{"ResourceType": "AWS::KMS::Key",
            "ResourceName": format!("arn:aws:kms:{HOME}:{ACCOUNT}:key/{KEY_ID}")}],
        "CloudTrailEvent": record.to_string()})
}

fn put_key_policy(id: &str, at: &str, text: Option<&str>) -> Value {
    let mut params = json!({"keyId": KEY_ID, "policyName": "default",
        "bypassPolicyLockoutSafetyCheck": false});
    if let Some(text) = text {
        params["policy"] = text.into();
    }
    kms_event(id, "PutKeyPolicy", at, params, Value::Null)
}

fn create_key_event(at: &str, params: Value) -> Value {
    kms_event(
        "ev-create",
        "CreateKey",
        at,
        params,
        json!({"keyMetadata": {"keyId": KEY_ID, "keyState": "Enabled"}}),
    )
}

fn add_events(snapshot: &mut Value, events: Vec<Value>) {
    home(snapshot)["cloudtrail"]["events"]
        .as_array_mut()
        .expect("events")
        .extend(events);
}

#[test]
fn the_compliant_base_passes_and_a_key_opened_at_collection_fails_quoting_the_statement() {
    let mut snapshot = base();
    let pass = exposure(&snapshot);
    assert_eq!(pass.status, Status::Pass, "{}", pass.reason);
    key(&mut snapshot)["key_policy"] = open_policy().into();
    let fail = exposure(&snapshot);
    assert_eq!(fail.status, Status::Fail, "{}", fail.reason);
    assert!(
        fail.reason.contains(
            r#"statement "OpenDecrypt" {"Action":"kms:Decrypt","Effect":"Allow","Principal":{"AWS":"*"},"Resource":"*","Sid":"OpenDecrypt"}"#
        ),
        "{}",
        fail.reason
    );
    assert!(
        fail.remediation.contains(&format!(
            "aws kms put-key-policy --key-id arn:aws:kms:{HOME}:{ACCOUNT}:key/{KEY_ID} --region {HOME}"
        )) && fail.remediation.contains("remove statement \"OpenDecrypt\""),
        "{}",
        fail.remediation
    );
}

#[test]
fn a_condition_on_the_caller_account_keeps_everyone_out_and_the_reason_says_so() {
    let mut snapshot = base();
    let limited = json!({"Sid": "ViaRds", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT,
            "kms:ViaService": "rds.eu-central-1.amazonaws.com"}}});
    key(&mut snapshot)["key_policy"] = policy(json!([root(), limited])).into();
    let row = exposure(&snapshot);
    assert_eq!(row.status, Status::Pass, "{}", row.reason);
    assert!(
        row.reason.contains("(limited by kms:CallerAccount)"),
        "{}",
        row.reason
    );
    // kms:ViaService alone limits nothing.
    let via_only = json!({"Sid": "ViaRds", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": "rds.eu-central-1.amazonaws.com"}}});
    key(&mut snapshot)["key_policy"] = policy(json!([root(), via_only])).into();
    assert_eq!(exposure(&snapshot).status, Status::Fail);
}

#[test]
fn get_key_policy_denied_is_a_gap_naming_the_call() {
    let mut snapshot = base();
    let key = key(&mut snapshot);
    key.as_object_mut().expect("key").remove("key_policy");
    key["key_policy_error"] = json!({"code": "AccessDeniedException",
        "message": "not authorized to perform: kms:GetKeyPolicy"});
    let row = exposure(&snapshot);
    assert_eq!(row.status, Status::EvidenceGap, "{}", row.reason);
    assert!(
        row.reason
            .starts_with("GetKeyPolicy failed with AccessDeniedException: not authorized"),
        "{}",
        row.reason
    );
}

#[test]
fn a_policy_that_is_not_json_is_a_gap_naming_why() {
    let mut snapshot = base();
    key(&mut snapshot)["key_policy"] = "{\"Statement\": [".into();
    let row = exposure(&snapshot);
    assert_eq!(row.status, Status::EvidenceGap, "{}", row.reason);
    assert!(row.reason.contains("not JSON"), "{}", row.reason);
}

#[test]
fn aws_managed_keys_are_not_applicable() {
    let evaluation = evaluate(&base());
    let managed: Vec<&Finding> = evaluation
        .findings
        .iter()
        .filter(|f| f.control_id == EXPOSURE && f.resource.contains("alias/aws/rds"))
        .collect();
    assert_eq!(managed.len(), 1);
    assert_eq!(managed[0].status, Status::NotApplicable);
    assert!(managed[0].reason.starts_with("AWS managed key"));
}

#[test]
fn a_key_opened_and_closed_again_inside_the_period_fails_naming_the_interval_and_the_event() {
    let mut snapshot = base();
    let open = open_policy();
    let closed = closed_policy();
    add_events(
        &mut snapshot,
        vec![
            put_key_policy("ev-open", "2026-10-05T08:00:00Z", Some(&open)),
            put_key_policy("ev-close", "2026-10-09T17:30:00Z", Some(&closed)),
        ],
    );
    let row = exposure(&snapshot);
    assert_eq!(row.status, Status::Fail, "{}", row.reason);
    assert!(
        row.reason.contains(
            "from 2026-10-05 08:00:00 UTC to 2026-10-09 17:30:00 UTC (since PutKeyPolicy ev-open"
        ),
        "{}",
        row.reason
    );
    assert!(row.reason.contains("\"OpenDecrypt\""), "{}", row.reason);
    // Closed again at collection: nothing to run, the interval is a deviation to record.
    assert!(
        row.remediation.contains("corrected before collection"),
        "{}",
        row.remediation
    );
    // The change register classifies the opening as weakening, naming the statement.
    let evaluation = evaluate(&snapshot);
    let change = evaluation
        .changes
        .iter()
        .find(|c| c.event_id == "ev-open")
        .expect("the PutKeyPolicy change");
    assert_eq!(change.classification, controls::ChangeClass::Weakening);
    assert!(
        change.classification_reason.contains("\"OpenDecrypt\""),
        "{}",
        change.classification_reason
    );
}

#[test]
fn the_policy_before_its_first_recorded_change_is_unknown_and_a_closing_change_proves_nothing_earlier()
 {
    let mut snapshot = base();
    let closed = closed_policy();
    add_events(
        &mut snapshot,
        vec![put_key_policy(
            "ev-close",
            "2026-10-12T00:00:00Z",
            Some(&closed),
        )],
    );
    let row = exposure(&snapshot);
    assert_eq!(row.status, Status::EvidenceGap, "{}", row.reason);
    assert!(
        row.reason
            .contains("from 2026-10-01 00:00:00 UTC to 2026-10-12 00:00:00 UTC"),
        "{}",
        row.reason
    );
    assert!(row.reason.contains("not recorded"), "{}", row.reason);
}

#[test]
fn a_put_key_policy_record_without_its_policy_leaves_the_key_untrusted() {
    // Created in the period (default policy, known), then a policy nobody can read.
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![
            create_key_event("2026-10-02T00:00:00Z", json!({})),
            put_key_policy("ev-blind", "2026-10-12T00:00:00Z", None),
        ],
    );
    let row = exposure(&snapshot);
    assert_eq!(row.status, Status::EvidenceGap, "{}", row.reason);
    assert!(
        row.reason.contains(
            "from 2026-10-12 00:00:00 UTC to 2026-11-01 00:00:00 UTC, PutKeyPolicy ev-blind"
        ) && row.reason.contains("requestParameters.policy"),
        "{}",
        row.reason
    );
}

#[test]
fn a_key_created_in_the_period_without_a_policy_has_the_default_policy_from_creation() {
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![create_key_event(
            "2026-10-20T09:00:00Z",
            json!({"keySpec": "SYMMETRIC_DEFAULT", "keyUsage": "ENCRYPT_DECRYPT"}),
        )],
    );
    let row = exposure(&snapshot);
    assert_eq!(row.status, Status::Pass, "{}", row.reason);
    // Created with a policy open to everyone, closed at collection: FAIL from the creation.
    let mut snapshot = base();
    let open = open_policy();
    let closed = closed_policy();
    add_events(
        &mut snapshot,
        vec![
            create_key_event("2026-10-20T09:00:00Z", json!({"policy": open})),
            put_key_policy("ev-close", "2026-10-21T09:00:00Z", Some(&closed)),
        ],
    );
    let row = exposure(&snapshot);
    assert_eq!(row.status, Status::Fail, "{}", row.reason);
    assert!(
        row.reason.contains(
            "from 2026-10-20 09:00:00 UTC to 2026-10-21 09:00:00 UTC (since CreateKey ev-create"
        ),
        "{}",
        row.reason
    );
}

// ---------------------------------------------------------------------------------------------
// Against moto: GetKeyPolicy's real shape, collect then report.

/// Creates one key with `policy` in moto and returns its id.
fn create_key(moto: &common::moto::Moto, description: &str, policy: &str) -> String {
    let script = "import boto3, sys\n\
        kms = boto3.client('kms', endpoint_url=sys.argv[1], region_name='us-east-1',\n\
            aws_access_key_id='testing', aws_secret_access_key='testing')\n\
        print(kms.create_key(Description=sys.argv[2], Policy=sys.argv[3])['KeyMetadata']['KeyId'])\n";
    moto.run_script(script, &[description, policy])
        .trim()
        .to_string()
}

#[test]
fn moto_keys_one_open_and_one_closed_are_collected_and_reported() {
    let moto = moto();
    let account = common::moto::MOTO_ACCOUNT;
    let closed = policy(json!([{"Sid": "Root", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{account}:root")}, "Action": "kms:*", "Resource": "*"}]));
    let open = policy(json!([{"Sid": "Root", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{account}:root")}, "Action": "kms:*", "Resource": "*"},
        open_decrypt()]));
    let closed_key = create_key(&moto, "closed", &closed);
    let open_key = create_key(&moto, "open", &open);
    let collected = common::moto::collect_quiet_month(&moto, &[]);
    let (dir, evidence, snapshot) = (collected.dir, collected.evidence, collected.snapshot);
    let keys = snapshot["accounts"][0]["regions"][0]["kms"]["keys"]
        .as_array()
        .expect("keys");
    let policy_of = |id: &str| {
        keys.iter()
            .find(|k| k["metadata"]["KeyId"] == id)
            .and_then(|k| k["key_policy"].as_str())
            .unwrap_or_else(|| panic!("no key_policy for {id}: {keys:#?}"))
            .to_string()
    };
    // The raw policy text as GetKeyPolicy returned it.
    assert_eq!(policy_of(&open_key), open);
    assert_eq!(policy_of(&closed_key), closed);

    let out = dir.path().join("package");
    let output = common::report(&evidence, &out, &[]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results = common::results(&out);
    let status = |id: &str| {
        let rows: Vec<&Value> = results["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| {
                f["control_id"] == EXPOSURE && f["resource"].as_str().is_some_and(|r| r == id)
            })
            .collect();
        assert_eq!(rows.len(), 1, "{id}: {rows:#?}");
        (
            rows[0]["status"].as_str().unwrap_or_default().to_string(),
            rows[0]["reason"].as_str().unwrap_or_default().to_string(),
        )
    };
    // No LookupEvents were recorded for the month: the collected policy held throughout.
    let (open_status, open_reason) = status(&open_key);
    assert_eq!(open_status, "FAIL", "{open_reason}");
    assert!(open_reason.contains("\"OpenDecrypt\""), "{open_reason}");
    assert_eq!(status(&closed_key).0, "PASS");
    // The key table names the exposure in its own column.
    let keys_csv = common::read(&out.join("keys.csv"));
    let header = keys_csv.lines().next().expect("header");
    assert!(header.contains("key_policy_exposure"), "{header}");
    assert!(
        keys_csv
            .lines()
            .any(|l| l.contains(&open_key) && l.contains("EVERYONE (1 statement(s))")),
        "{keys_csv}"
    );
}
