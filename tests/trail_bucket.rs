//! `cloudtrail-bucket-protection` end to end: the demo's protected and failing trail buckets;
//! crafted snapshots for each rule and each evidence gap (not collected, denied, no bucket
//! name) and the no-trail case; the period rule replaying PutBucketPolicy, PutBucketLogging
//! and the lifecycle events over the collected bucket; and moto, from collection to report.

mod common;

use std::collections::BTreeMap;

use common::aws_stub::{AwsStub, StubConfig};
use common::moto::{Month, live, month, moto};
use gxp_evidence::controls::{ChangeClass, Evaluation, Finding, Status};
use serde_json::{Value, json};

const CONTROL: &str = "cloudtrail-bucket-protection";
/// The demo's DR account (its trail bucket is protected with MFA delete) and its home region.
const DR: &str = "444455556666";
const HOME: &str = "eu-central-1";
const DR_BUCKET: &str = "lims-dr-audit-trail-444455556666";

fn evaluate(snapshot: &Value) -> Evaluation {
    common::evaluate_crafted(snapshot)
}

fn rows(evaluation: &Evaluation) -> Vec<&Finding> {
    evaluation
        .findings
        .iter()
        .filter(|f| f.control_id == CONTROL)
        .collect()
}

/// The one finding about `bucket`.
fn bucket_row(snapshot: &Value, bucket: &str) -> Finding {
    let evaluation = evaluate(snapshot);
    let arn = format!("arn:aws:s3:::{bucket}");
    let found: Vec<&Finding> = rows(&evaluation)
        .into_iter()
        .filter(|f| f.resource == arn)
        .collect();
    assert_eq!(found.len(), 1, "{:#?}", rows(&evaluation));
    found[0].clone()
}

fn dr() -> Value {
    common::demo_account_alone(DR)
}

fn dr_bucket(snapshot: &mut Value) -> &mut Value {
    &mut snapshot["accounts"][0]["trail_buckets"]["buckets"][0]
}

fn home(snapshot: &mut Value) -> &mut Value {
    snapshot["accounts"][0]["regions"]
        .as_array_mut()
        .expect("regions")
        .iter_mut()
        .find(|r| r["region"] == HOME)
        .expect("home region")
}

fn open_policy() -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "PublicRead", "Effect": "Allow",
        "Principal": "*", "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{DR_BUCKET}/*")}]})
    .to_string()
}

/// An S3 change event on the DR bucket, as LookupEvents returns it.
fn s3_event(id: &str, name: &str, at: &str, params: Value) -> Value {
    let record = json!({"eventVersion": "1.09", "eventTime": at, "eventSource": "s3.amazonaws.com",
        "eventName": name, "awsRegion": HOME, "requestParameters": params,
        "responseElements": null, "eventID": id, "readOnly": false,
        "managementEvent": true, "eventCategory": "Management"});
    json!({"EventId": id, "EventName": name, "ReadOnly": "false", "EventTime": at,
        "EventSource": "s3.amazonaws.com",
        "Resources": [{"ResourceType": "AWS::S3::Bucket", "ResourceName": DR_BUCKET}],
        "CloudTrailEvent": record.to_string()})
}

fn add_events(snapshot: &mut Value, events: Vec<Value>) {
    home(snapshot)["cloudtrail"]["events"]
        .as_array_mut()
        .expect("events")
        .extend(events);
}

// ---------------------------------------------------------------------------------------------
// The demo and crafted collected states

#[test]
fn the_demo_has_a_protected_and_a_failing_trail_bucket_with_each_aspect_named() {
    let demo: Value = serde_json::from_str(gxp_evidence::evidence::DEMO_EVIDENCE).expect("JSON");
    let audit = bucket_row(&demo, "lims-audit-trail-111122223333");
    assert_eq!(audit.status, Status::Pass, "{}", audit.reason);
    assert!(
        audit.reason.contains("COMPLIANCE 10 years"),
        "{}",
        audit.reason
    );
    let debug = bucket_row(&demo, "lims-app-debug-logs-111122223333");
    assert_eq!(debug.status, Status::Fail, "{}", debug.reason);
    for aspect in [
        "server access logging is off",
        "\"expire-debug-logs\"",
        "after 90 days",
        "log files can be deleted",
    ] {
        assert!(debug.reason.contains(aspect), "{aspect}: {}", debug.reason);
    }
    assert!(
        debug.remediation.contains("put-bucket-logging"),
        "{}",
        debug.remediation
    );
    assert!(
        debug.remediation.contains("--region eu-west-1"),
        "{}",
        debug.remediation
    );
    let dr_row = bucket_row(&demo, DR_BUCKET);
    assert_eq!(dr_row.status, Status::Pass, "{}", dr_row.reason);
    assert!(dr_row.reason.contains("MFA delete on"), "{}", dr_row.reason);
    // One table row per bucket, with each aspect in its own column.
    let evaluation = evaluate(&demo);
    assert_eq!(evaluation.buckets.len(), 3);
    let debug_row = evaluation
        .buckets
        .iter()
        .find(|b| b.bucket == "lims-app-debug-logs-111122223333")
        .expect("row");
    assert_eq!(debug_row.access_logging, "off");
    assert_eq!(debug_row.region, "eu-west-1");
    assert_eq!(debug_row.trails, ["lims-app-debug"]);
    assert_eq!(debug_row.status, Status::Fail);
}

#[test]
fn a_public_policy_or_acl_fails_unless_block_public_access_makes_it_ineffective() {
    let mut snapshot = dr();
    dr_bucket(&mut snapshot)["policy"] = json!({"configured": open_policy()});
    // All four flags on at bucket level: RestrictPublicBuckets makes the policy ineffective.
    assert_eq!(bucket_row(&snapshot, DR_BUCKET).status, Status::Pass);
    dr_bucket(&mut snapshot)["public_access_block"] =
        json!({"not_configured": "NoSuchPublicAccessBlockConfiguration"});
    let row = bucket_row(&snapshot, DR_BUCKET);
    assert_eq!(row.status, Status::Fail, "{}", row.reason);
    assert!(
        row.reason.contains("statement \"PublicRead\""),
        "{}",
        row.reason
    );
    assert!(
        row.remediation.contains("put-public-access-block"),
        "{}",
        row.remediation
    );
    // The account's own Block Public Access is enough.
    snapshot["accounts"][0]["trail_buckets"]["account_public_access_block"] =
        json!({"configured": {"RestrictPublicBuckets": true}});
    assert_eq!(bucket_row(&snapshot, DR_BUCKET).status, Status::Pass);
    // A public ACL grant with IgnorePublicAcls off.
    let mut snapshot = dr();
    dr_bucket(&mut snapshot)["public_access_block"] =
        json!({"configured": {"BlockPublicAcls": true, "RestrictPublicBuckets": true}});
    dr_bucket(&mut snapshot)["acl"]["configured"]["Grants"]
        .as_array_mut()
        .expect("grants")
        .push(json!({"GranteeType": "Group",
            "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
            "Permission": "READ"}));
    let row = bucket_row(&snapshot, DR_BUCKET);
    assert_eq!(row.status, Status::Fail, "{}", row.reason);
    assert!(
        row.reason.contains("AuthenticatedUsers:READ"),
        "{}",
        row.reason
    );
}

#[test]
fn object_lock_needs_a_default_retention_and_lifecycle_needs_the_retention() {
    let mut snapshot = dr();
    dr_bucket(&mut snapshot)["versioning"] = json!({"configured": {"Status": "Enabled"}});
    dr_bucket(&mut snapshot)["object_lock"] =
        json!({"configured": {"ObjectLockEnabled": "Enabled"}});
    let row = bucket_row(&snapshot, DR_BUCKET);
    assert_eq!(row.status, Status::Fail, "{}", row.reason);
    assert!(
        row.reason.contains("enabled without default retention"),
        "{}",
        row.reason
    );
    // A default retention shorter than the policy's minimum keeps log files only that long.
    dr_bucket(&mut snapshot)["object_lock"] = json!({"configured": {"ObjectLockEnabled": "Enabled",
        "DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}});
    let row = bucket_row(&snapshot, DR_BUCKET);
    assert_eq!(row.status, Status::Fail, "{}", row.reason);
    assert!(
        row.reason
            .contains("before the policy's 365 days: Object Lock default retention GOVERNANCE 1 days is shorter"),
        "{}",
        row.reason
    );
    assert!(
        row.remediation.contains("put-object-lock-configuration"),
        "{}",
        row.remediation
    );
    dr_bucket(&mut snapshot)["object_lock"] = json!({"configured": {"ObjectLockEnabled": "Enabled",
        "DefaultRetention": {"Mode": "GOVERNANCE", "Years": 1}}});
    assert_eq!(bucket_row(&snapshot, DR_BUCKET).status, Status::Pass);
    dr_bucket(&mut snapshot)["object_lock"] = json!({"configured": {"ObjectLockEnabled": "Enabled",
        "DefaultRetention": {"Mode": "GOVERNANCE", "Days": 400}}});
    assert_eq!(bucket_row(&snapshot, DR_BUCKET).status, Status::Pass);
    // A rule under the trail's prefix that expires log files before 365 days.
    dr_bucket(&mut snapshot)["lifecycle"] = json!({"configured": [
        {"ID": "short", "Status": "Enabled", "Prefix": "cloudtrail/AWSLogs/", "ExpirationDays": 180},
        {"ID": "elsewhere", "Status": "Enabled", "Prefix": "exports/", "ExpirationDays": 1}]});
    let row = bucket_row(&snapshot, DR_BUCKET);
    assert_eq!(row.status, Status::Fail, "{}", row.reason);
    assert!(
        row.reason.contains("\"short\"") && !row.reason.contains("elsewhere"),
        "{}",
        row.reason
    );
    // The policy's retention decides.
    snapshot["policy"]["min_log_retention_days"] = json!(90);
    assert_eq!(bucket_row(&snapshot, DR_BUCKET).status, Status::Pass);
}

#[test]
fn buckets_that_cannot_be_read_are_evidence_gaps_naming_the_bucket_and_the_account() {
    // Every call denied: another account's central logging bucket.
    let mut snapshot = dr();
    let denied = json!({"failed": {"code": "AccessDenied", "message": "Access Denied"}});
    for field in [
        "region",
        "policy",
        "acl",
        "public_access_block",
        "logging",
        "object_lock",
        "versioning",
        "lifecycle",
    ] {
        dr_bucket(&mut snapshot)[field] = denied.clone();
    }
    let row = bucket_row(&snapshot, DR_BUCKET);
    assert_eq!(row.status, Status::EvidenceGap, "{}", row.reason);
    assert!(
        row.reason.contains(DR_BUCKET) && row.reason.contains(&format!("account {DR}")),
        "{}",
        row.reason
    );
    // One aspect denied: a gap naming that call.
    let mut snapshot = dr();
    dr_bucket(&mut snapshot)["logging"] = denied.clone();
    let row = bucket_row(&snapshot, DR_BUCKET);
    assert_eq!(row.status, Status::EvidenceGap, "{}", row.reason);
    assert!(
        row.reason
            .contains("GetBucketLogging failed with AccessDenied"),
        "{}",
        row.reason
    );
    // A snapshot from before the control: not collected.
    let mut snapshot = dr();
    snapshot["accounts"][0]
        .as_object_mut()
        .expect("account")
        .remove("trail_buckets");
    let row = bucket_row(&snapshot, DR_BUCKET);
    assert_eq!(row.status, Status::EvidenceGap, "{}", row.reason);
    assert!(row.reason.contains("not collected"), "{}", row.reason);
    // The bucket missing from the collected list.
    let mut snapshot = dr();
    snapshot["accounts"][0]["trail_buckets"]["buckets"] = json!([]);
    assert_eq!(bucket_row(&snapshot, DR_BUCKET).status, Status::EvidenceGap);
}

#[test]
fn no_trail_is_no_resources_and_a_trail_without_a_bucket_name_is_a_gap() {
    let mut snapshot = dr();
    for region in snapshot["accounts"][0]["regions"]
        .as_array_mut()
        .expect("regions")
    {
        region["cloudtrail"]["trails"] = json!([]);
    }
    let evaluation = evaluate(&snapshot);
    let found = rows(&evaluation);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].status, Status::NoResources);
    assert_eq!(found[0].resource, "(account)");

    let mut snapshot = dr();
    for region in snapshot["accounts"][0]["regions"]
        .as_array_mut()
        .expect("regions")
    {
        for trail in region["cloudtrail"]["trails"]
            .as_array_mut()
            .expect("trails")
        {
            trail["trail"]
                .as_object_mut()
                .expect("trail")
                .remove("S3BucketName");
        }
    }
    let evaluation = evaluate(&snapshot);
    let found = rows(&evaluation);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].status, Status::EvidenceGap);
    assert!(
        found[0].reason.contains("S3BucketName"),
        "{}",
        found[0].reason
    );
}

// ---------------------------------------------------------------------------------------------
// The period rule

#[test]
fn a_bucket_opened_by_put_bucket_policy_during_the_period_fails_for_the_interval() {
    let mut snapshot = dr();
    // Without Block Public Access, so that an open policy is in effect.
    dr_bucket(&mut snapshot)["public_access_block"] =
        json!({"not_configured": "NoSuchPublicAccessBlockConfiguration"});
    let policy: Value = serde_json::from_str(&open_policy()).expect("JSON");
    add_events(
        &mut snapshot,
        vec![
            s3_event(
                "ev-open",
                "PutBucketPolicy",
                "2026-10-05T08:00:00Z",
                json!({"bucketName": DR_BUCKET, "bucketPolicy": policy, "policy": [""]}),
            ),
            s3_event(
                "ev-close",
                "DeleteBucketPolicy",
                "2026-10-09T17:30:00Z",
                json!({"bucketName": DR_BUCKET, "policy": [""]}),
            ),
        ],
    );
    // The collected policy is the CloudTrail one, so the deletion must be undone: a policy
    // deleted at 17:30 and still there at collection means an event is missing.
    dr_bucket(&mut snapshot)["policy"] = json!({"not_configured": "NoSuchBucketPolicy"});
    let row = bucket_row(&snapshot, DR_BUCKET);
    assert_eq!(row.status, Status::Fail, "{}", row.reason);
    assert!(
        row.reason.contains(
            "from 2026-10-05 08:00:00 UTC to 2026-10-09 17:30:00 UTC (since PutBucketPolicy ev-open"
        ),
        "{}",
        row.reason
    );
    assert!(
        row.reason.contains("statement \"PublicRead\""),
        "{}",
        row.reason
    );
    let evaluation = evaluate(&snapshot);
    let change = evaluation
        .changes
        .iter()
        .find(|c| c.event_id == "ev-open")
        .expect("the PutBucketPolicy change");
    assert_eq!(change.classification, ChangeClass::Weakening);
    assert!(
        change.classification_reason.contains("PublicRead"),
        "{}",
        change.classification_reason
    );
}

#[test]
fn access_logging_and_lifecycle_changes_are_replayed_and_an_unreadable_record_is_a_gap() {
    // Logging off for three days.
    let mut snapshot = dr();
    add_events(
        &mut snapshot,
        vec![
            s3_event(
                "ev-log-off",
                "PutBucketLogging",
                "2026-10-10T00:00:00Z",
                json!({"bucketName": DR_BUCKET, "BucketLoggingStatus": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}, "logging": [""]}),
            ),
            s3_event(
                "ev-log-on",
                "PutBucketLogging",
                "2026-10-13T00:00:00Z",
                json!({"bucketName": DR_BUCKET, "BucketLoggingStatus": {"LoggingEnabled": {
                    "TargetBucket": "lims-dr-s3-access-logs-444455556666",
                    "TargetPrefix": "lims-dr-audit-trail/"}}, "logging": [""]}),
            ),
        ],
    );
    let row = bucket_row(&snapshot, DR_BUCKET);
    assert_eq!(row.status, Status::Fail, "{}", row.reason);
    assert!(
        row.reason
            .contains("from 2026-10-10 00:00:00 UTC to 2026-10-13 00:00:00 UTC")
            && row.reason.contains("server access logging is off"),
        "{}",
        row.reason
    );
    let evaluation = evaluate(&snapshot);
    let classes: BTreeMap<&str, ChangeClass> = evaluation
        .changes
        .iter()
        .map(|c| (c.event_id.as_str(), c.classification))
        .collect();
    assert_eq!(classes["ev-log-off"], ChangeClass::Weakening);
    assert_eq!(classes["ev-log-on"], ChangeClass::Strengthening);

    // A lifecycle rule expiring after 30 days, deleted again.
    let mut snapshot = dr();
    add_events(
        &mut snapshot,
        vec![
            s3_event(
                "ev-lc",
                "PutBucketLifecycle",
                "2026-10-20T00:00:00Z",
                json!({"bucketName": DR_BUCKET, "LifecycleConfiguration": {"Rule": {"ID": "thirty",
                    "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": "30"}}},
                    "lifecycle": [""]}),
            ),
            s3_event(
                "ev-lc-del",
                "DeleteBucketLifecycle",
                "2026-10-22T00:00:00Z",
                json!({"bucketName": DR_BUCKET, "lifecycle": [""]}),
            ),
        ],
    );
    let row = bucket_row(&snapshot, DR_BUCKET);
    assert_eq!(row.status, Status::Fail, "{}", row.reason);
    assert!(
        row.reason.contains("\"thirty\"") && row.reason.contains("after 30 days"),
        "{}",
        row.reason
    );

    // A PutBucketPolicy record without its policy: the bucket is unknown from then on.
    let mut snapshot = dr();
    add_events(
        &mut snapshot,
        vec![s3_event(
            "ev-blind",
            "PutBucketPolicy",
            "2026-10-12T00:00:00Z",
            json!({"bucketName": DR_BUCKET}),
        )],
    );
    let row = bucket_row(&snapshot, DR_BUCKET);
    assert_eq!(row.status, Status::EvidenceGap, "{}", row.reason);
    assert!(
        row.reason.contains("PutBucketPolicy ev-blind"),
        "{}",
        row.reason
    );
}

// ---------------------------------------------------------------------------------------------
// Against moto: the S3 and s3control answers' real shapes, collect then report.

const SETUP: &str = r#"
import boto3, json, sys
url = sys.argv[1]
kw = dict(endpoint_url=url, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
s3 = boto3.client('s3', **kw)
ct = boto3.client('cloudtrail', **kw)
s3.create_bucket(Bucket='access-logs')
s3.put_bucket_acl(Bucket='access-logs', ACL='log-delivery-write')
# A public trail bucket: public-read ACL, no access logging, logs expire after 30 days.
s3.create_bucket(Bucket='open-trail-bucket')
s3.put_bucket_acl(Bucket='open-trail-bucket', ACL='public-read')
s3.put_bucket_lifecycle_configuration(Bucket='open-trail-bucket', LifecycleConfiguration={'Rules': [
    {'ID': 'thirty-days', 'Status': 'Enabled', 'Filter': {'Prefix': ''}, 'Expiration': {'Days': 30}}]})
# A protected one: Object Lock with a default retention, access logging, Block Public Access.
s3.create_bucket(Bucket='locked-trail-bucket', ObjectLockEnabledForBucket=True)
s3.put_object_lock_configuration(Bucket='locked-trail-bucket', ObjectLockConfiguration={
    'ObjectLockEnabled': 'Enabled', 'Rule': {'DefaultRetention': {'Mode': 'COMPLIANCE', 'Days': 400}}})
s3.put_bucket_logging(Bucket='locked-trail-bucket', BucketLoggingStatus={'LoggingEnabled': {
    'TargetBucket': 'access-logs', 'TargetPrefix': 'locked/'}})
s3.put_public_access_block(Bucket='locked-trail-bucket', PublicAccessBlockConfiguration={
    'BlockPublicAcls': True, 'IgnorePublicAcls': True, 'BlockPublicPolicy': True, 'RestrictPublicBuckets': True})
s3.put_bucket_policy(Bucket='locked-trail-bucket', Policy=json.dumps({'Version': '2012-10-17', 'Statement': [
    {'Sid': 'AWSCloudTrailWrite', 'Effect': 'Allow', 'Principal': {'Service': 'cloudtrail.amazonaws.com'},
     'Action': 's3:PutObject', 'Resource': 'arn:aws:s3:::locked-trail-bucket/AWSLogs/*'}]}))
ct.create_trail(Name='open-trail', S3BucketName='open-trail-bucket', IsMultiRegionTrail=True)
ct.create_trail(Name='locked-trail', S3BucketName='locked-trail-bucket', IsMultiRegionTrail=True)
"#;

#[test]
fn moto_trail_buckets_one_public_and_one_locked_are_collected_and_reported() {
    let moto = moto();
    moto.run_script(SETUP, &[]);
    let period: Month = month();
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        events: BTreeMap::new(),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("evidence.json");
    let mut collect = live(&stub, &period, &["collect", "--regions", "us-east-1"]);
    collect.arg("--out").arg(&evidence);
    let output = collect.output().expect("gxp-evidence runs");
    let snapshot: Value = serde_json::from_str(&common::read(&evidence)).expect("JSON");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{} {:#}",
        String::from_utf8_lossy(&output.stderr),
        snapshot["gaps"]
    );
    let buckets = &snapshot["accounts"][0]["trail_buckets"];
    let bucket = |name: &str| {
        buckets["buckets"]
            .as_array()
            .expect("buckets")
            .iter()
            .find(|b| b["name"] == name)
            .unwrap_or_else(|| panic!("{name} not collected: {buckets:#}"))
            .clone()
    };
    // Each bucket once, with the raw answers.
    assert_eq!(
        buckets["buckets"].as_array().map(Vec::len),
        Some(2),
        "{buckets:#}"
    );
    let open = bucket("open-trail-bucket");
    assert_eq!(
        open["region"],
        json!({"configured": "us-east-1"}),
        "{open:#}"
    );
    assert_eq!(
        open["policy"],
        json!({"not_configured": "NoSuchBucketPolicy"}),
        "{open:#}"
    );
    assert_eq!(
        open["object_lock"]["not_configured"], "ObjectLockConfigurationNotFoundError",
        "{open:#}"
    );
    assert_eq!(
        open["logging"],
        json!({"not_configured": "absent"}),
        "{open:#}"
    );
    let locked = bucket("locked-trail-bucket");
    let retention = &locked["object_lock"]["configured"]["DefaultRetention"];
    assert_eq!(retention["Mode"], "COMPLIANCE", "{locked:#}");
    assert_eq!(retention["Days"], 400, "{locked:#}");
    assert_eq!(
        locked["logging"]["configured"]["TargetBucket"],
        "access-logs"
    );
    assert!(
        buckets.get("account_public_access_block").is_some(),
        "{buckets:#}"
    );

    let out = dir.path().join("package");
    let output = common::report(&evidence, &out, &[]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results = common::results(&out);
    let status = |bucket: &str| {
        let arn = format!("arn:aws:s3:::{bucket}");
        let found: Vec<&Value> = results["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["control_id"] == CONTROL && f["resource"] == arn.as_str())
            .collect();
        assert_eq!(found.len(), 1, "{bucket}: {found:#?}");
        (
            found[0]["status"].as_str().unwrap_or_default().to_string(),
            found[0]["reason"].as_str().unwrap_or_default().to_string(),
        )
    };
    let (open_status, open_reason) = status("open-trail-bucket");
    assert_eq!(open_status, "FAIL", "{open_reason}");
    for aspect in [
        "AllUsers:READ",
        "server access logging is off",
        "after 30 days",
        "log files can be deleted",
    ] {
        assert!(open_reason.contains(aspect), "{aspect}: {open_reason}");
    }
    let (locked_status, locked_reason) = status("locked-trail-bucket");
    assert_eq!(locked_status, "PASS", "{locked_reason}");
    // The bucket table, in its own CSV file.
    let csv = common::read(&out.join("trail_buckets.csv"));
    assert!(
        csv.lines()
            .next()
            .is_some_and(|h| h.contains("object_lock")),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.contains("locked-trail-bucket") && l.contains("COMPLIANCE 400 days")),
        "{csv}"
    );
}

#[test]
fn the_account_block_public_access_is_collected_from_s3control() {
    let moto = moto();
    // boto3, like the SDK, puts the account id in front of the s3control host; moto routes
    // by path, so the request goes to moto's own host.
    let script = r#"
import boto3, sys
url = sys.argv[1]
kw = dict(endpoint_url=url, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
boto3.client('s3', **kw).create_bucket(Bucket='trail-bucket')
boto3.client('cloudtrail', **kw).create_trail(Name='bpa-trail', S3BucketName='trail-bucket')
control = boto3.client('s3control', **kw)
def to_moto(request, **_):
    request.url = request.url.replace('123456789012.', '')
control.meta.events.register('before-send.s3-control.*', to_moto)
control.put_public_access_block(AccountId='123456789012', PublicAccessBlockConfiguration={
    'BlockPublicAcls': True, 'IgnorePublicAcls': True, 'BlockPublicPolicy': True, 'RestrictPublicBuckets': True})
"#;
    moto.run_script(script, &[]);
    let collected = common::moto::collect_quiet_month(&moto, &[]);
    let (_dir, _evidence, snapshot) = (collected.dir, collected.evidence, collected.snapshot);
    assert_eq!(
        snapshot["accounts"][0]["trail_buckets"]["account_public_access_block"],
        json!({"configured": {"BlockPublicAcls": true, "IgnorePublicAcls": true,
            "BlockPublicPolicy": true, "RestrictPublicBuckets": true}}),
        "{:#}",
        snapshot["accounts"][0]["trail_buckets"]
    );
}
