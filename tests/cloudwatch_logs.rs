//! `cloudtrail-cloudwatch-logs` end to end: the demo's three trails (a group whose retention
//! was cut in the period, no group, a compliant group); crafted snapshots for each rule of both
//! readings and each evidence gap (group not read, DescribeLogGroups failed, group missing,
//! GetTrailStatus not read) and the no-trail case; the period rule replaying UpdateTrail and
//! the CloudWatch Logs events over the collected trail and group; and moto, from collection to
//! report.

mod common;

use common::moto::moto;
use gxp_evidence::controls::{self, Evaluation, Finding, Status, View};
use serde_json::{Value, json};

const CONTROL: &str = "cloudtrail-cloudwatch-logs";
/// The demo's DR account, its home region and its trail (delivering to a compliant group).
const DR: &str = "444455556666";
const HOME: &str = "eu-central-1";
const DR_TRAIL: &str = "arn:aws:cloudtrail:eu-central-1:444455556666:trail/lims-dr-audit";
const DR_GROUP: &str = "CloudTrail/lims-dr-audit";
const DR_GROUP_ARN: &str =
    "arn:aws:logs:eu-central-1:444455556666:log-group:CloudTrail/lims-dr-audit:*";

fn evaluate(snapshot: &Value) -> Evaluation {
    common::evaluate_crafted(snapshot)
}

/// The two rows (Security Hub, AWS Config) about `resource`.
fn readings(snapshot: &Value, resource: &str) -> [Finding; 2] {
    let evaluation = evaluate(snapshot);
    let of = |view: View| -> Finding {
        let found: Vec<&Finding> = evaluation
            .findings
            .iter()
            .filter(|f| f.control_id == CONTROL && f.resource == resource && f.view == Some(view))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "{view:?} {resource}: {:#?}",
            evaluation.findings
        );
        found[0].clone()
    };
    [of(View::SecurityHub), of(View::AwsConfig)]
}

fn statuses(rows: &[Finding; 2]) -> (Status, Status) {
    (rows[0].status, rows[1].status)
}

fn dr() -> Value {
    common::demo_account_alone(DR)
}

fn home(snapshot: &mut Value) -> &mut Value {
    snapshot["accounts"][0]["regions"]
        .as_array_mut()
        .expect("regions")
        .iter_mut()
        .find(|r| r["region"] == HOME)
        .expect("home region")
}

fn dr_trail(snapshot: &mut Value) -> &mut Value {
    &mut home(snapshot)["cloudtrail"]["trails"][0]
}

/// A change event in the home region, as LookupEvents returns it.
fn event(source: &str, id: &str, name: &str, at: &str, params: Value) -> Value {
    let record = json!({"eventVersion": "1.09", "eventTime": at, "eventSource": source,
        "eventName": name, "awsRegion": HOME, "requestParameters": params,
        "responseElements": null, "eventID": id, "readOnly": false,
        "userIdentity": {"type": "AssumedRole", "arn": format!("arn:aws:sts::{DR}:assumed-role/Ops/a.b")},
        "managementEvent": true, "eventCategory": "Management"});
    json!({"EventId": id, "EventName": name, "ReadOnly": "false", "EventTime": at,
        "EventSource": source, "Resources": [], "CloudTrailEvent": record.to_string()})
}

fn logs_event(id: &str, name: &str, at: &str, params: Value) -> Value {
    event("logs.amazonaws.com", id, name, at, params)
}

fn update_trail(id: &str, at: &str, arn: &str) -> Value {
    event(
        "cloudtrail.amazonaws.com",
        id,
        "UpdateTrail",
        at,
        json!({"name": DR_TRAIL, "cloudWatchLogsLogGroupArn": arn}),
    )
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
fn the_demo_shows_a_pass_a_fail_in_both_readings_and_a_strict_fail_from_a_retention_cut() {
    let demo: Value = serde_json::from_str(gxp_evidence::evidence::DEMO_EVIDENCE).expect("JSON");
    let org = readings(
        &demo,
        "arn:aws:cloudtrail:eu-central-1:111122223333:trail/lims-org-audit",
    );
    assert_eq!(statuses(&org), (Status::Pass, Status::Fail), "{org:#?}");
    for part in [
        "from 2026-10-22 16:40:12 UTC to 2026-11-01 00:00:00 UTC",
        "PutRetentionPolicy",
        "keeps events 90 days, less than the policy's 365",
    ] {
        assert!(org[1].reason.contains(part), "{part}: {}", org[1].reason);
    }
    assert!(
        org[1].remediation.contains(
            "aws logs put-retention-policy --region eu-central-1 --log-group-name CloudTrail/lims-org-audit --retention-in-days 365"
        ),
        "{}",
        org[1].remediation
    );
    let debug = readings(
        &demo,
        "arn:aws:cloudtrail:eu-west-1:111122223333:trail/lims-app-debug",
    );
    assert_eq!(statuses(&debug), (Status::Fail, Status::Fail));
    assert!(debug[0].reason.contains("no CloudWatch Logs group"));
    assert!(
        debug[0]
            .remediation
            .contains("update-trail --region eu-west-1")
            && debug[0]
                .remediation
                .contains("--cloud-watch-logs-log-group-arn"),
        "{}",
        debug[0].remediation
    );
    let dr = readings(&demo, DR_TRAIL);
    assert_eq!(statuses(&dr), (Status::Pass, Status::Pass), "{dr:#?}");
    assert!(dr[1].reason.contains("never expire"), "{}", dr[1].reason);
    assert!(dr[1].reason.contains("encrypted with KMS key arn:aws:kms:"));
}

#[test]
fn the_strict_reading_fails_a_short_retention_a_missing_key_or_a_missing_group() {
    let mut short = dr();
    dr_trail(&mut short)["log_group"]["found"]["retentionInDays"] = json!(30);
    let rows = readings(&short, DR_TRAIL);
    assert_eq!(statuses(&rows), (Status::Pass, Status::Fail));
    assert!(
        rows[1]
            .reason
            .contains("keeps events 30 days, less than the policy's 365")
    );

    // The policy's minimum is what counts: 30 days pass a 30-day policy.
    let mut lenient_policy = short.clone();
    lenient_policy["policy"]["min_log_retention_days"] = json!(30);
    assert_eq!(
        statuses(&readings(&lenient_policy, DR_TRAIL)),
        (Status::Pass, Status::Pass)
    );

    let mut unencrypted = dr();
    dr_trail(&mut unencrypted)["log_group"]["found"]
        .as_object_mut()
        .expect("group")
        .remove("kmsKeyId");
    let rows = readings(&unencrypted, DR_TRAIL);
    assert_eq!(statuses(&rows), (Status::Pass, Status::Fail));
    assert!(rows[1].reason.contains("not encrypted with a KMS key"));
    assert!(
        rows[1].remediation.contains("aws logs associate-kms-key"),
        "{}",
        rows[1].remediation
    );

    let mut missing = dr();
    dr_trail(&mut missing)["log_group"] = json!("not_found");
    let rows = readings(&missing, DR_TRAIL);
    assert_eq!(statuses(&rows), (Status::Pass, Status::Fail));
    assert!(
        rows[1].reason.contains("does not exist"),
        "{}",
        rows[1].reason
    );
    assert!(rows[1].remediation.contains("aws logs create-log-group"));
}

#[test]
fn a_group_that_could_not_be_read_is_a_strict_gap_never_a_pass() {
    let mut denied = dr();
    dr_trail(&mut denied)["log_group"] = json!({"failed": {"code": "AccessDeniedException",
        "message": "not authorized to perform: logs:DescribeLogGroups"}});
    let rows = readings(&denied, DR_TRAIL);
    assert_eq!(statuses(&rows), (Status::Pass, Status::EvidenceGap));
    assert!(
        rows[1].reason.contains("AccessDeniedException"),
        "{}",
        rows[1].reason
    );

    // A snapshot from before this control, or a group in an account that was not collected.
    let mut not_read = dr();
    dr_trail(&mut not_read)
        .as_object_mut()
        .expect("trail")
        .remove("log_group");
    let rows = readings(&not_read, DR_TRAIL);
    assert_eq!(statuses(&rows), (Status::Pass, Status::EvidenceGap));
    assert!(
        rows[1].reason.contains(
            "account 444455556666 region eu-central-1, whose CloudWatch Logs were not read"
        ),
        "{}",
        rows[1].reason
    );

    // Without GetTrailStatus nothing says CloudTrail delivered to the group.
    let mut no_status = dr();
    dr_trail(&mut no_status)
        .as_object_mut()
        .expect("trail")
        .remove("status");
    let rows = readings(&no_status, DR_TRAIL);
    assert_eq!(rows[1].status, Status::EvidenceGap, "{}", rows[1].reason);
    assert!(
        rows[1]
            .reason
            .contains("whether the trail was logging is unknown"),
        "{}",
        rows[1].reason
    );
}

#[test]
fn delivery_that_stopped_or_failed_in_the_period_fails_the_strict_reading() {
    // Collected 2026-11-01 06:00; the policy allows 24 h without a delivery.
    let mut stale = dr();
    dr_trail(&mut stale)["status"]["LatestCloudWatchLogsDeliveryTime"] =
        json!("2026-10-29T11:00:00Z");
    let rows = readings(&stale, DR_TRAIL);
    assert_eq!(statuses(&rows), (Status::Pass, Status::Fail));
    assert!(
        rows[1]
            .reason
            .contains("not delivering to CloudWatch Logs from 2026-10-29 11:00:00 UTC to 2026-11-01 00:00:00 UTC"),
        "{}",
        rows[1].reason
    );

    let mut failing = dr();
    dr_trail(&mut failing)["status"]["LatestCloudWatchLogsDeliveryError"] =
        json!("AccessDenied: CloudTrail cannot assume the role");
    dr_trail(&mut failing)["status"]["LatestCloudWatchLogsDeliveryTime"] =
        json!("2026-10-25T04:00:00Z");
    let rows = readings(&failing, DR_TRAIL);
    assert_eq!(rows[1].status, Status::Fail);
    assert!(
        rows[1]
            .reason
            .contains("LatestCloudWatchLogsDeliveryError AccessDenied")
    );
    assert!(rows[1].reason.contains("from 2026-10-25 04:00:00 UTC"));
    // Failing only since a successful delivery after the period: the period was delivered.
    dr_trail(&mut failing)["status"]["LatestCloudWatchLogsDeliveryTime"] =
        json!("2026-11-01T05:58:30Z");
    assert_eq!(readings(&failing, DR_TRAIL)[1].status, Status::Pass);

    let mut never = dr();
    dr_trail(&mut never)["status"]
        .as_object_mut()
        .expect("status")
        .remove("LatestCloudWatchLogsDeliveryTime");
    let rows = readings(&never, DR_TRAIL);
    assert_eq!(rows[1].status, Status::Fail);
    assert!(rows[1].reason.contains("no delivery to CloudWatch Logs"));

    // Stale only after the period ended: the period's events were delivered.
    let mut after = dr();
    after["policy"]["max_delivery_age_hours"] = json!(1);
    dr_trail(&mut after)["status"]["LatestCloudWatchLogsDeliveryTime"] =
        json!("2026-11-01T02:00:00Z");
    assert_eq!(
        statuses(&readings(&after, DR_TRAIL)),
        (Status::Pass, Status::Pass)
    );
}

#[test]
fn no_trail_is_no_resources_in_both_readings() {
    let mut none = dr();
    for region in none["accounts"][0]["regions"]
        .as_array_mut()
        .expect("regions")
    {
        region["cloudtrail"]["trails"] = json!([]);
    }
    let rows = readings(&none, "(account)");
    assert_eq!(statuses(&rows), (Status::NoResources, Status::NoResources));
}

// ---------------------------------------------------------------------------------------------
// The period rule

#[test]
fn delivery_removed_and_restored_by_update_trail_fails_both_readings_for_the_interval() {
    let mut snapshot = dr();
    add_events(
        &mut snapshot,
        vec![
            update_trail("e1", "2026-10-05T08:00:00Z", DR_GROUP_ARN),
            update_trail("e2", "2026-10-10T08:00:00Z", ""),
            update_trail("e3", "2026-10-12T09:30:00Z", DR_GROUP_ARN),
        ],
    );
    let rows = readings(&snapshot, DR_TRAIL);
    assert_eq!(statuses(&rows), (Status::Fail, Status::Fail), "{rows:#?}");
    for row in &rows {
        assert!(
            row.reason
                .contains("from 2026-10-10 08:00:00 UTC to 2026-10-12 09:30:00 UTC"),
            "{}",
            row.reason
        );
        assert!(row.reason.contains("delivers to no CloudWatch Logs group"));
    }

    // Only a later UpdateTrail: the group before it is not recorded.
    let mut unknown_before = dr();
    add_events(
        &mut unknown_before,
        vec![update_trail("e1", "2026-10-15T08:00:00Z", DR_GROUP_ARN)],
    );
    let rows = readings(&unknown_before, DR_TRAIL);
    assert_eq!(
        statuses(&rows),
        (Status::EvidenceGap, Status::EvidenceGap),
        "{rows:#?}"
    );
    assert!(
        rows[0].reason.contains("not recorded"),
        "{}",
        rows[0].reason
    );
}

#[test]
fn retention_key_and_group_changes_are_replayed_over_the_collected_group() {
    let named = |extra: Value| {
        let mut params = json!({"logGroupName": DR_GROUP});
        params
            .as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        params
    };
    let mut snapshot = dr();
    add_events(
        &mut snapshot,
        vec![
            logs_event(
                "r1",
                "PutRetentionPolicy",
                "2026-10-03T10:00:00Z",
                named(json!({"retentionInDays": 3653})),
            ),
            logs_event(
                "r2",
                "PutRetentionPolicy",
                "2026-10-05T10:00:00Z",
                named(json!({"retentionInDays": 30})),
            ),
            logs_event(
                "r3",
                "DeleteRetentionPolicy",
                "2026-10-07T10:00:00Z",
                named(json!({})),
            ),
        ],
    );
    let rows = readings(&snapshot, DR_TRAIL);
    assert_eq!(statuses(&rows), (Status::Pass, Status::Fail), "{rows:#?}");
    assert!(
        rows[1]
            .reason
            .contains("from 2026-10-05 10:00:00 UTC to 2026-10-07 10:00:00 UTC"),
        "{}",
        rows[1].reason
    );
    assert!(rows[1].reason.contains("keeps events 30 days"));

    // The key removed and set again; the group deleted and created again.
    let key = "arn:aws:kms:eu-central-1:444455556666:key/6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d";
    let mut snapshot = dr();
    add_events(
        &mut snapshot,
        vec![
            logs_event(
                "k0",
                "AssociateKmsKey",
                "2026-10-02T10:00:00Z",
                named(json!({"kmsKeyId": key})),
            ),
            logs_event(
                "k1",
                "DisassociateKmsKey",
                "2026-10-09T10:00:00Z",
                named(json!({})),
            ),
            logs_event(
                "k2",
                "AssociateKmsKey",
                "2026-10-09T11:00:00Z",
                named(json!({"kmsKeyId": key})),
            ),
            logs_event(
                "g1",
                "DeleteLogGroup",
                "2026-10-20T10:00:00Z",
                named(json!({})),
            ),
            logs_event(
                "g2",
                "CreateLogGroup",
                "2026-10-20T10:05:00Z",
                named(json!({"kmsKeyId": key})),
            ),
        ],
    );
    let rows = readings(&snapshot, DR_TRAIL);
    assert_eq!(rows[1].status, Status::Fail, "{}", rows[1].reason);
    for part in [
        "from 2026-10-09 10:00:00 UTC to 2026-10-09 11:00:00 UTC",
        "not encrypted with a KMS key",
        "from 2026-10-20 10:00:00 UTC to 2026-10-20 10:05:00 UTC",
        "does not exist",
    ] {
        assert!(rows[1].reason.contains(part), "{part}: {}", rows[1].reason);
    }
    // The Security Hub reading does not look at the group.
    assert_eq!(rows[0].status, Status::Pass, "{}", rows[0].reason);
}

#[test]
fn an_unreadable_or_unnamed_log_group_event_is_a_strict_gap_and_other_groups_do_not_count() {
    let mut unreadable = dr();
    add_events(
        &mut unreadable,
        vec![logs_event(
            "u1",
            "PutRetentionPolicy",
            "2026-10-03T10:00:00Z",
            json!({"logGroupName": DR_GROUP}),
        )],
    );
    let rows = readings(&unreadable, DR_TRAIL);
    assert_eq!(
        statuses(&rows),
        (Status::Pass, Status::EvidenceGap),
        "{rows:#?}"
    );
    assert!(rows[1].reason.contains("retention"), "{}", rows[1].reason);

    let mut unnamed = dr();
    add_events(
        &mut unnamed,
        vec![logs_event(
            "u2",
            "DisassociateKmsKey",
            "2026-10-03T10:00:00Z",
            json!({}),
        )],
    );
    let rows = readings(&unnamed, DR_TRAIL);
    assert_eq!(
        statuses(&rows),
        (Status::Pass, Status::EvidenceGap),
        "{rows:#?}"
    );

    // A short retention on another log group of the account changes nothing here, but is in
    // the change register as a weakening change naming that group.
    let mut other = dr();
    add_events(
        &mut other,
        vec![logs_event(
            "o1",
            "PutRetentionPolicy",
            "2026-10-03T10:00:00Z",
            json!({"logGroupName": "/aws/lambda/lims-export", "retentionInDays": 7}),
        )],
    );
    assert_eq!(
        statuses(&readings(&other, DR_TRAIL)),
        (Status::Pass, Status::Pass)
    );
    let evaluation = evaluate(&other);
    let change = evaluation
        .changes
        .iter()
        .find(|c| c.event_id == "o1")
        .expect("the change is in the register");
    assert_eq!(change.classification, controls::ChangeClass::Weakening);
    assert!(
        change
            .classification_reason
            .contains("log group /aws/lambda/lims-export keeps events 7 days"),
        "{}",
        change.classification_reason
    );
}

#[test]
fn a_trail_that_stopped_logging_delivered_nothing_in_the_strict_reading() {
    let mut snapshot = dr();
    add_events(
        &mut snapshot,
        vec![
            event(
                "cloudtrail.amazonaws.com",
                "s1",
                "StopLogging",
                "2026-10-10T00:00:00Z",
                json!({"name": DR_TRAIL}),
            ),
            event(
                "cloudtrail.amazonaws.com",
                "s2",
                "StartLogging",
                "2026-10-12T00:00:00Z",
                json!({"name": DR_TRAIL}),
            ),
        ],
    );
    let rows = readings(&snapshot, DR_TRAIL);
    assert_eq!(statuses(&rows), (Status::Pass, Status::Fail), "{rows:#?}");
    assert!(
        rows[1]
            .reason
            .contains("from 2026-10-10 00:00:00 UTC to 2026-10-12 00:00:00 UTC"),
        "{}",
        rows[1].reason
    );
    assert!(rows[1].reason.contains("the trail was not logging"));
    // It logs and delivers as collected: nothing to run, a deviation to record.
    assert!(
        rows[1].remediation.contains("corrected before collection"),
        "{}",
        rows[1].remediation
    );
}

#[test]
fn a_fix_is_for_what_fails_as_collected_never_a_command_against_a_compliant_setting() {
    // 30 days from 5 to 9 October, then never expire again (as collected).
    let mut snapshot = dr();
    let named = |extra: Value| {
        let mut params = json!({"logGroupName": DR_GROUP});
        params
            .as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        params
    };
    add_events(
        &mut snapshot,
        vec![
            logs_event(
                "r0",
                "DeleteRetentionPolicy",
                "2026-10-02T10:00:00Z",
                named(json!({})),
            ),
            logs_event(
                "r1",
                "PutRetentionPolicy",
                "2026-10-05T10:00:00Z",
                named(json!({"retentionInDays": 30})),
            ),
            logs_event(
                "r2",
                "DeleteRetentionPolicy",
                "2026-10-09T10:00:00Z",
                named(json!({})),
            ),
        ],
    );
    let rows = readings(&snapshot, DR_TRAIL);
    assert_eq!(rows[1].status, Status::Fail, "{}", rows[1].reason);
    assert!(
        !rows[1].remediation.contains("put-retention-policy"),
        "{}",
        rows[1].remediation
    );
    assert!(rows[1].remediation.contains("corrected before collection"));

    // An organization trail's fix runs in its owner account.
    let demo: Value = serde_json::from_str(gxp_evidence::evidence::DEMO_EVIDENCE).expect("JSON");
    let mut org = demo.clone();
    for account in org["accounts"].as_array_mut().expect("accounts") {
        for region in account["regions"].as_array_mut().expect("regions") {
            for trail in region["cloudtrail"]["trails"]
                .as_array_mut()
                .into_iter()
                .flatten()
            {
                if trail["trail"]["Name"] == "lims-org-audit" {
                    trail["trail"]["IsOrganizationTrail"] = json!(true);
                }
            }
        }
    }
    let rows = readings(
        &org,
        "arn:aws:cloudtrail:eu-central-1:111122223333:trail/lims-org-audit",
    );
    assert!(
        rows[1]
            .remediation
            .starts_with("In the organization trail's owner account 111122223333"),
        "{}",
        rows[1].remediation
    );
}

#[test]
fn group_events_not_searched_or_unreadable_leave_the_strict_reading_unproven() {
    // The home region's plan did not search logs.amazonaws.com (a snapshot of an earlier
    // version, or a region searched for other sources only).
    let mut unsearched = dr();
    home(&mut unsearched)["cloudtrail"]["lookup_queries"]
        .as_array_mut()
        .expect("queries")
        .retain(|q| q["attribute_value"] != "logs.amazonaws.com");
    let rows = readings(&unsearched, DR_TRAIL);
    assert_eq!(
        statuses(&rows),
        (Status::Pass, Status::EvidenceGap),
        "{rows:#?}"
    );
    assert!(
        rows[1]
            .reason
            .contains("the logs.amazonaws.com events of this region were not searched"),
        "{}",
        rows[1].reason
    );

    // A CloudWatch Logs record without its request names no group: every group in doubt.
    let mut truncated = dr();
    let event = logs_event(
        "t1",
        "DisassociateKmsKey",
        "2026-10-03T10:00:00Z",
        Value::Null,
    );
    add_events(&mut truncated, vec![event]);
    let rows = readings(&truncated, DR_TRAIL);
    assert_eq!(
        statuses(&rows),
        (Status::Pass, Status::EvidenceGap),
        "{rows:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// moto: collection to report

/// Three trails in moto's us-east-1: one delivering to a KMS-encrypted group kept 400 days,
/// one to a group kept 30 days without a key, one to no group.
const MOTO_SETUP: &str = r#"
import boto3, sys
url = sys.argv[1]
kw = dict(endpoint_url=url, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')
s3 = boto3.client('s3', **kw)
ct = boto3.client('cloudtrail', **kw)
logs = boto3.client('logs', **kw)
kms = boto3.client('kms', **kw)
key = kms.create_key(Description='log group key')['KeyMetadata']['Arn']
s3.create_bucket(Bucket='trail-logs')
logs.create_log_group(logGroupName='CloudTrail/kept', kmsKeyId=key)
logs.put_retention_policy(logGroupName='CloudTrail/kept', retentionInDays=400)
logs.create_log_group(logGroupName='CloudTrail/short')
logs.put_retention_policy(logGroupName='CloudTrail/short', retentionInDays=30)
logs.create_log_group(logGroupName='CloudTrail/kept-not-this-one')
arn = lambda name: f'arn:aws:logs:us-east-1:123456789012:log-group:{name}:*'
role = 'arn:aws:iam::123456789012:role/CloudTrailToCloudWatchLogs'
ct.create_trail(Name='kept-trail', S3BucketName='trail-logs', IsMultiRegionTrail=True,
                CloudWatchLogsLogGroupArn=arn('CloudTrail/kept'), CloudWatchLogsRoleArn=role)
ct.create_trail(Name='short-trail', S3BucketName='trail-logs',
                CloudWatchLogsLogGroupArn=arn('CloudTrail/short'), CloudWatchLogsRoleArn=role)
ct.create_trail(Name='plain-trail', S3BucketName='trail-logs')
for name in ('kept-trail', 'short-trail', 'plain-trail'):
    ct.start_logging(Name=name)
print(key)
"#;

#[test]
fn moto_log_groups_are_collected_and_judged_in_both_readings() {
    let moto = moto();
    let key = moto.run_script(MOTO_SETUP, &[]).trim().to_string();
    let collected = common::moto::collect_quiet_month(&moto, &[]);
    let mut snapshot = collected.snapshot.clone();
    let trails = snapshot["accounts"][0]["regions"][0]["cloudtrail"]["trails"]
        .as_array()
        .expect("trails")
        .clone();
    let trail = |name: &str| -> Value {
        trails
            .iter()
            .find(|t| t["trail"]["Name"] == name)
            .unwrap_or_else(|| panic!("{name} collected: {trails:#?}"))
            .clone()
    };
    // DescribeLogGroups by prefix: the exact group is kept, not the longer name it prefixes.
    let kept = trail("kept-trail");
    assert_eq!(
        kept["log_group"]["found"]["logGroupName"], "CloudTrail/kept",
        "{kept:#}"
    );
    assert_eq!(kept["log_group"]["found"]["retentionInDays"], 400);
    assert_eq!(kept["log_group"]["found"]["kmsKeyId"], key.as_str());
    assert_eq!(
        kept["trail"]["CloudWatchLogsRoleArn"],
        "arn:aws:iam::123456789012:role/CloudTrailToCloudWatchLogs"
    );
    let short = trail("short-trail");
    assert_eq!(short["log_group"]["found"]["retentionInDays"], 30);
    assert!(
        short["log_group"]["found"].get("kmsKeyId").is_none(),
        "{short:#}"
    );
    assert!(trail("plain-trail").get("log_group").is_none());

    let arn = |name: &str| format!("arn:aws:cloudtrail:us-east-1:123456789012:trail/{name}");
    // moto stamps StartLoggingTime with the seeding time, after the period: as for a trail
    // logging since before the period (live.rs does the same through the stub).
    for trail in snapshot["accounts"][0]["regions"][0]["cloudtrail"]["trails"]
        .as_array_mut()
        .expect("trails")
    {
        trail["status"]["StartLoggingTime"] = json!("2026-01-01T00:00:00Z");
    }
    // moto reports no CloudWatch Logs delivery; the stub adds one a minute before the answer
    // (tests/common/aws_stub.rs), as for a trail that delivers.
    assert!(
        kept["status"]["LatestCloudWatchLogsDeliveryTime"].is_string(),
        "{kept:#}"
    );
    let rows = readings(&snapshot, &arn("kept-trail"));
    assert_eq!(statuses(&rows), (Status::Pass, Status::Pass), "{rows:#?}");
    assert!(
        rows[1].reason.contains("kept 400 days"),
        "{}",
        rows[1].reason
    );
    let rows = readings(&snapshot, &arn("short-trail"));
    assert_eq!(statuses(&rows), (Status::Pass, Status::Fail));
    for part in ["keeps events 30 days", "not encrypted with a KMS key"] {
        assert!(rows[1].reason.contains(part), "{part}: {}", rows[1].reason);
    }
    let rows = readings(&snapshot, &arn("plain-trail"));
    assert_eq!(statuses(&rows), (Status::Fail, Status::Fail));

    // Without a delivery in the status (as moto answers), the strict reading fails on it.
    for trail in snapshot["accounts"][0]["regions"][0]["cloudtrail"]["trails"]
        .as_array_mut()
        .expect("trails")
    {
        trail["status"]
            .as_object_mut()
            .expect("status")
            .remove("LatestCloudWatchLogsDeliveryTime");
    }
    let rows = readings(&snapshot, &arn("kept-trail"));
    assert_eq!(statuses(&rows), (Status::Pass, Status::Fail), "{rows:#?}");
    assert!(rows[1].reason.contains("no delivery to CloudWatch Logs"));

    // The report, from the collected evidence: the control's rows and the trails table column.
    let out = collected.dir.path().join("report");
    let report = common::report(&collected.evidence, &out, &[]);
    assert!(
        matches!(report.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let findings = common::read(&out.join("findings.csv"));
    assert_eq!(
        findings.lines().filter(|l| l.contains(CONTROL)).count(),
        6,
        "{findings}"
    );
    let trails_csv = common::read(&out.join("trails.csv"));
    assert!(
        trails_csv
            .lines()
            .any(|l| l.contains("kept-trail") && l.contains("log-group:CloudTrail/kept:*")),
        "{trails_csv}"
    );
}
