//! `cloudtrail-s3-data-events` end to end: crafted snapshots for each result (the bucket owner
//! found by ListBuckets, selectors that log the bucket in whole or in part, a trail of another
//! region, the gaps), the period rule replaying PutEventSelectors, and a collection from moto
//! (ListBuckets, GetEventSelectors with data resources) reported.

mod common;

use std::collections::BTreeMap;

use common::moto::moto;
use gxp_evidence::controls::{Evaluation, Finding, Status};
use serde_json::{Value, json};

const DATA_EVENTS: &str = "cloudtrail-s3-data-events";
/// The demo's compliant DR account, its trail's home region, trail and GxP bucket.
const ACCOUNT: &str = "444455556666";
const HOME: &str = "eu-central-1";
const TRAIL: &str = "lims-dr-audit";
const BUCKET: &str = "lims-dr-records-444455556666";

/// The demo's DR account alone, its policy listing only the DR bucket.
fn base() -> Value {
    let mut snapshot = common::demo_account_alone(ACCOUNT);
    snapshot["policy"]["gxp_buckets"] = json!([BUCKET]);
    snapshot
}

fn evaluate(snapshot: &Value) -> Evaluation {
    common::evaluate_crafted(snapshot)
}

fn rows(snapshot: &Value) -> Vec<Finding> {
    evaluate(snapshot)
        .findings
        .into_iter()
        .filter(|f| f.control_id == DATA_EVENTS)
        .collect()
}

/// The one row of the control.
fn row(snapshot: &Value) -> Finding {
    let rows = rows(snapshot);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    rows[0].clone()
}

/// The DR trail in every region it is seen (home and shadow copy).
fn for_each_trail(snapshot: &mut Value, edit: impl Fn(&mut Value)) {
    for region in snapshot["accounts"][0]["regions"]
        .as_array_mut()
        .expect("regions")
    {
        for trail in region["cloudtrail"]["trails"]
            .as_array_mut()
            .expect("trails")
        {
            if trail["trail"]["Name"] == TRAIL {
                edit(trail);
            }
        }
    }
}

fn set_selectors(snapshot: &mut Value, selectors: Value) {
    for_each_trail(snapshot, |trail| {
        trail["event_selectors"] = selectors.clone();
    });
}

fn management() -> Value {
    json!({"Name": "Management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]})
}

fn data_selector(extra: Value) -> Value {
    let mut fields = vec![
        json!({"Field": "eventCategory", "Equals": ["Data"]}),
        json!({"Field": "resources.type", "Equals": ["AWS::S3::Object"]}),
    ];
    fields.extend(extra.as_array().cloned().unwrap_or_default());
    json!({"Name": "data", "FieldSelectors": fields})
}

fn home(snapshot: &mut Value) -> &mut Value {
    snapshot["accounts"][0]["regions"]
        .as_array_mut()
        .expect("regions")
        .iter_mut()
        .find(|r| r["region"] == HOME)
        .expect("home region")
}

/// A PutEventSelectors record on the DR trail, as LookupEvents returns it.
fn put_event_selectors(id: &str, at: &str, params: Value) -> Value {
    let record = json!({"eventVersion": "1.10", "eventTime": at,
        "eventSource": "cloudtrail.amazonaws.com", "eventName": "PutEventSelectors",
        "awsRegion": HOME, "requestParameters": params, "responseElements": Value::Null,
        "eventID": id, "readOnly": false,
        "userIdentity": {"type": "AssumedRole", "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/Ops/a.admin")}});
    json!({"EventId": id, "EventName": "PutEventSelectors", "ReadOnly": "false", "EventTime": at,
        "EventSource": "cloudtrail.amazonaws.com", "Username": "a.admin",
        "Resources": [{"ResourceType": "AWS::CloudTrail::Trail",
            "ResourceName": format!("arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/{TRAIL}")}],
        "CloudTrailEvent": record.to_string()})
}

fn add_events(snapshot: &mut Value, events: Vec<Value>) {
    home(snapshot)["cloudtrail"]["events"]
        .as_array_mut()
        .expect("events")
        .extend(events);
}

#[test]
fn the_dr_trail_logging_the_bucket_passes_and_the_bucket_is_named_with_its_region() {
    let row = row(&base());
    assert_eq!(row.status, Status::Pass, "{}", row.reason);
    assert_eq!(
        (
            row.account_id.as_str(),
            row.region.as_str(),
            row.resource.as_str()
        ),
        (ACCOUNT, HOME, BUCKET)
    );
    assert!(
        row.reason.contains("trail lims-dr-audit logs"),
        "{}",
        row.reason
    );
}

#[test]
fn selectors_without_the_bucket_or_with_only_part_of_it_fail_naming_why() {
    let mut snapshot = base();
    set_selectors(
        &mut snapshot,
        json!({"AdvancedEventSelectors": [management()]}),
    );
    let none = row(&snapshot);
    assert_eq!(none.status, Status::Fail, "{}", none.reason);
    assert!(
        none.reason.starts_with(
            "read and write data events not logged from 2026-10-01 00:00:00 UTC to 2026-11-01 00:00:00 UTC: lims-dr-audit: not selected"
        ),
        "{}",
        none.reason
    );
    assert!(
        none.remediation.contains("put-event-selectors"),
        "{}",
        none.remediation
    );
    assert!(
        none.remediation
            .contains(&format!("arn:aws:s3:::{BUCKET}/"))
    );

    // Only writes, through a classic selector for the whole bucket.
    set_selectors(
        &mut snapshot,
        json!({"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": [format!("arn:aws:s3:::{BUCKET}/")]}]}]}),
    );
    let writes = row(&snapshot);
    assert_eq!(writes.status, Status::Fail, "{}", writes.reason);
    assert!(
        writes.reason.starts_with("read data events not logged"),
        "{}",
        writes.reason
    );
    assert!(!writes.reason.contains("write data events not logged"));

    // Only a prefix of the bucket.
    set_selectors(
        &mut snapshot,
        json!({"AdvancedEventSelectors": [management(), data_selector(json!([
            {"Field": "resources.ARN", "StartsWith": [format!("arn:aws:s3:::{BUCKET}/batch/")]}]))]}),
    );
    let part = row(&snapshot);
    assert_eq!(part.status, Status::Fail, "{}", part.reason);
    assert!(
        part.reason
            .contains("selected only in part: only objects whose ARN starts with"),
        "{}",
        part.reason
    );

    // Every bucket (classic arn:aws:s3) passes.
    set_selectors(
        &mut snapshot,
        json!({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]}),
    );
    assert_eq!(row(&snapshot).status, Status::Pass);
}

#[test]
fn a_single_region_trail_counts_only_for_a_bucket_of_its_region() {
    let mut snapshot = base();
    for_each_trail(&mut snapshot, |trail| {
        trail["trail"]["IsMultiRegionTrail"] = json!(false);
    });
    // The bucket is in the trail's home region: still logged.
    assert_eq!(row(&snapshot).status, Status::Pass);
    for account in snapshot["accounts"].as_array_mut().expect("accounts") {
        for bucket in account["s3_buckets"].as_array_mut().expect("buckets") {
            bucket["BucketRegion"] = json!("eu-west-1");
        }
    }
    let other = row(&snapshot);
    assert_eq!(other.status, Status::Fail, "{}", other.reason);
    assert!(
        other
            .reason
            .contains("single-region trail of eu-central-1; the bucket is in eu-west-1"),
        "{}",
        other.reason
    );
    // Without the bucket's region nothing proves the trail covers it.
    for account in snapshot["accounts"].as_array_mut().expect("accounts") {
        for bucket in account["s3_buckets"].as_array_mut().expect("buckets") {
            bucket
                .as_object_mut()
                .expect("bucket")
                .remove("BucketRegion");
        }
    }
    let unknown = row(&snapshot);
    assert_eq!(unknown.status, Status::EvidenceGap, "{}", unknown.reason);
    assert!(
        unknown.reason.contains("region is not in the evidence"),
        "{}",
        unknown.reason
    );
}

#[test]
fn put_event_selectors_during_the_period_are_replayed() {
    // Data events switched on on 10 October: FAIL before, named with the event.
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![put_event_selectors(
            "ev-data-on",
            "2026-10-10T08:00:00Z",
            json!({"trailName": TRAIL, "advancedEventSelectors": [
                {"name": "All management events", "fieldSelectors": [
                    {"field": "eventCategory", "equals": ["Management"]}]},
                {"name": "GxP", "fieldSelectors": [
                    {"field": "eventCategory", "equals": ["Data"]},
                    {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                    {"field": "resources.ARN", "startsWith": [format!("arn:aws:s3:::{BUCKET}/")]}]}]}),
        )],
    );
    // Before the first recorded change the selectors are not known (CloudTrail records the new
    // value only): a gap until 10 October, logged from then on.
    let row_on = row(&snapshot);
    assert_eq!(row_on.status, Status::EvidenceGap, "{}", row_on.reason);
    assert!(
        row_on.reason.contains(
            "read data events from 2026-10-01 00:00:00 UTC to 2026-10-10 08:00:00 UTC: lims-dr-audit: event selectors unknown"
        ) && row_on.reason.contains("before PutEventSelectors ev-data-on"),
        "{}",
        row_on.reason
    );
    assert!(!row_on.reason.contains("2026-11-01"), "{}", row_on.reason);

    // Data events switched off for a week and on again: FAIL for that week only.
    let mut snapshot = base();
    let on = json!({"trailName": TRAIL, "advancedEventSelectors": [
        {"fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]},
        {"fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]},
            {"field": "resources.type", "equals": ["AWS::S3::Object"]},
            {"field": "resources.ARN", "startsWith": [format!("arn:aws:s3:::{BUCKET}/")]}]}]});
    let off = json!({"trailName": TRAIL, "advancedEventSelectors": [
        {"fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]}]});
    add_events(
        &mut snapshot,
        vec![
            put_event_selectors("ev-off", "2026-10-12T08:00:00Z", off),
            put_event_selectors("ev-on", "2026-10-19T08:00:00Z", on),
        ],
    );
    let week = row(&snapshot);
    assert_eq!(week.status, Status::Fail, "{}", week.reason);
    assert!(
        week.reason.contains(
            "from 2026-10-12 08:00:00 UTC to 2026-10-19 08:00:00 UTC: lims-dr-audit: not selected"
        ),
        "{}",
        week.reason
    );
    assert!(
        !week.reason.contains("2026-10-01 00:00:00"),
        "{}",
        week.reason
    );

    // A record without selectors: the trail's data events are unknown from then on.
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![put_event_selectors(
            "ev-blind",
            "2026-10-20T08:00:00Z",
            json!({"trailName": TRAIL}),
        )],
    );
    let blind = row(&snapshot);
    assert_eq!(blind.status, Status::EvidenceGap, "{}", blind.reason);
    assert!(
        blind
            .reason
            .contains("neither eventSelectors nor advancedEventSelectors"),
        "{}",
        blind.reason
    );
}

#[test]
fn bucket_ownership_decides_the_rows_and_unknown_ownership_is_a_gap() {
    // The policy names no buckets: nothing in scope.
    let mut snapshot = base();
    snapshot["policy"]["gxp_buckets"] = json!([]);
    let none = row(&snapshot);
    assert_eq!(
        (none.status, none.resource.as_str()),
        (Status::NoResources, "(account)")
    );
    assert!(
        none.reason.contains("lists no GxP buckets"),
        "{}",
        none.reason
    );

    // The account owns none of them... but then no account of the scope does: a gap.
    let mut snapshot = base();
    snapshot["policy"]["gxp_buckets"] = json!(["elsewhere-records"]);
    let unowned = row(&snapshot);
    assert_eq!(unowned.status, Status::EvidenceGap, "{}", unowned.reason);
    assert_eq!(unowned.resource, "elsewhere-records");
    assert!(
        unowned
            .reason
            .contains("no account of the scope owns the GxP bucket"),
        "{}",
        unowned.reason
    );

    // ListBuckets failed: which buckets the account owns is unknown.
    let mut snapshot = base();
    snapshot["accounts"][0]
        .as_object_mut()
        .expect("account")
        .remove("s3_buckets");
    snapshot["gaps"] = json!([{"account_id": ACCOUNT, "region": HOME, "service": "s3",
        "api": "ListBuckets", "error_code": "AccessDenied", "message": "not authorized"}]);
    let denied = row(&snapshot);
    assert_eq!(denied.status, Status::EvidenceGap, "{}", denied.reason);
    assert!(
        denied.reason.contains("ListBuckets") && denied.reason.contains("AccessDenied"),
        "{}",
        denied.reason
    );
    assert!(denied.reason.contains(BUCKET), "{}", denied.reason);
}

#[test]
fn in_the_demo_one_bucket_fails_and_one_passes() {
    let demo: Value =
        serde_json::from_str(gxp_evidence::evidence::DEMO_EVIDENCE).expect("the demo is JSON");
    let statuses: BTreeMap<String, Status> = rows(&demo)
        .into_iter()
        .map(|f| (f.resource, f.status))
        .collect();
    assert_eq!(
        statuses,
        BTreeMap::from([
            (BUCKET.to_string(), Status::Pass),
            ("lims-records-111122223333".to_string(), Status::Fail),
        ])
    );
}

// ---------------------------------------------------------------------------------------------
// Against moto: ListBuckets and GetEventSelectors with data resources, collected then reported.

fn seed_moto(moto: &common::moto::Moto) {
    let script = "import boto3, sys, json\n\
        kw = dict(endpoint_url=sys.argv[1], region_name='us-east-1',\n\
            aws_access_key_id='testing', aws_secret_access_key='testing')\n\
        s3 = boto3.client('s3', **kw)\n\
        [s3.create_bucket(Bucket=name) for name in ('gxp-logged', 'gxp-unlogged', 'trail-logs')]\n\
        ct = boto3.client('cloudtrail', **kw)\n\
        ct.create_trail(Name='audit', S3BucketName='trail-logs', IsMultiRegionTrail=True)\n\
        ct.put_event_selectors(TrailName='audit', EventSelectors=[{'ReadWriteType': 'All',\n\
            'IncludeManagementEvents': True, 'DataResources': [{'Type': 'AWS::S3::Object',\n\
            'Values': ['arn:aws:s3:::gxp-logged/']}]}])\n\
        ct.start_logging(Name='audit')\n";
    moto.run_script(script, &[]);
}

#[test]
fn moto_buckets_and_data_event_selectors_are_collected_and_reported() {
    let moto = moto();
    seed_moto(&moto);
    let collected = common::moto::collect_quiet_month(
        &moto,
        &["--gxp-buckets", "gxp-logged,gxp-unlogged,gxp-missing"],
    );
    let (dir, evidence, snapshot) = (collected.dir, collected.evidence, collected.snapshot);
    let names: Vec<&str> = snapshot["accounts"][0]["s3_buckets"]
        .as_array()
        .expect("ListBuckets collected")
        .iter()
        .filter_map(|b| b["Name"].as_str())
        .collect();
    assert_eq!(names, ["gxp-logged", "gxp-unlogged", "trail-logs"]);

    let out = dir.path().join("package");
    let output = common::report(&evidence, &out, &[]);
    assert!(
        output.status.code().is_some_and(|c| c == 1 || c == 0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results = common::results(&out);
    let status = |bucket: &str| {
        let rows: Vec<&Value> = results["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["control_id"] == DATA_EVENTS && f["resource"] == bucket)
            .collect();
        assert_eq!(rows.len(), 1, "{bucket}: {rows:#?}");
        (
            rows[0]["status"].as_str().unwrap_or_default().to_string(),
            rows[0]["reason"].as_str().unwrap_or_default().to_string(),
        )
    };
    // moto's trail started logging when it was seeded, just now: whether it logged during the
    // month is unknown, but its selectors were read as logging the whole bucket.
    let (logged, why) = status("gxp-logged");
    assert_eq!(logged, "EVIDENCE_GAP", "{why}");
    assert!(why.contains("audit: IsLogging unknown"), "{why}");
    assert!(!why.contains("not selected"), "{why}");
    let (unlogged, why) = status("gxp-unlogged");
    assert_eq!(unlogged, "FAIL", "{why}");
    assert!(why.contains("audit: not selected"), "{why}");
    let (missing, why) = status("gxp-missing");
    assert_eq!(missing, "EVIDENCE_GAP", "{why}");
    // The findings CSV carries the rows too.
    let findings = common::read(&out.join("findings.csv"));
    assert_eq!(
        findings.lines().filter(|l| l.contains(DATA_EVENTS)).count(),
        3,
        "{findings}"
    );
}
