//! `elasticache-encryption-at-rest` end to end: crafted snapshots for every result (PASS,
//! FAIL, NOT_APPLICABLE, NO_RESOURCES, EVIDENCE_GAP); the period rule replaying the
//! CreateReplicationGroup / DeleteReplicationGroup records of the period over the collected
//! groups; the change register's classification; the demo's PASS and FAIL; and replication
//! groups created in moto, collected (DescribeReplicationGroups) and reported.

mod common;

use common::moto::moto;
use gxp_evidence::controls::{self, Evaluation, Finding, Status};
use serde_json::{Value, json};

const AT_REST: &str = "elasticache-encryption-at-rest";
/// The demo's compliant disaster-recovery account, its region and encrypted replication group.
const ACCOUNT: &str = "444455556666";
const HOME: &str = "eu-central-1";
const GROUP: &str = "lims-dr-session-cache";
const ELASTICACHE: &str = "elasticache.amazonaws.com";

/// The demo's DR account alone (compliant: its group is encrypted with a customer managed key).
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

fn groups(snapshot: &mut Value) -> &mut Vec<Value> {
    home(snapshot)["elasticache"]["replication_groups"]
        .as_array_mut()
        .expect("replication groups")
}

fn group(snapshot: &mut Value) -> &mut Value {
    groups(snapshot)
        .iter_mut()
        .find(|g| g["ReplicationGroupId"] == GROUP)
        .expect("the DR replication group")
}

fn evaluate(snapshot: &Value) -> Evaluation {
    common::evaluate_crafted(snapshot)
}

/// The at-rest findings of the home region.
fn at_rest_rows(snapshot: &Value) -> Vec<Finding> {
    evaluate(snapshot)
        .findings
        .into_iter()
        .filter(|f| f.control_id == AT_REST && f.region == HOME)
        .collect()
}

/// The one at-rest finding of `resource` in the home region.
fn at_rest_of(snapshot: &Value, resource: &str) -> Finding {
    let rows: Vec<Finding> = at_rest_rows(snapshot)
        .into_iter()
        .filter(|f| f.resource == resource)
        .collect();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    rows[0].clone()
}

/// An ElastiCache change event, as LookupEvents returns it.
fn elasticache_event(id: &str, name: &str, at: &str, params: Value, response: Value) -> Value {
    let record = json!({"eventVersion": "1.10", "eventTime": at, "eventSource": ELASTICACHE,
        "eventName": name, "awsRegion": HOME,
        "userIdentity": {"type": "IAMUser", "accountId": ACCOUNT,
            "arn": format!("arn:aws:iam::{ACCOUNT}:user/deploy"), "userName": "deploy"},
        "requestParameters": params, "responseElements": response, "eventID": id,
        "readOnly": false, "eventType": "AwsApiCall", "managementEvent": true,
        "recipientAccountId": ACCOUNT, "eventCategory": "Management"});
    json!({"EventId": id, "EventName": name, "ReadOnly": "false", "EventTime": at,
        "EventSource": ELASTICACHE, "Username": "deploy", "Resources": [],
        "CloudTrailEvent": record.to_string()})
}

fn create_group(id: &str, at: &str, group_id: &str, params: Value, response: Value) -> Value {
    let mut request = json!({"replicationGroupId": group_id,
        "replicationGroupDescription": "crafted", "cacheNodeType": "cache.t4g.small"});
    if let (Some(request), Some(extra)) = (request.as_object_mut(), params.as_object()) {
        request.extend(extra.clone());
    }
    elasticache_event(id, "CreateReplicationGroup", at, request, response)
}

fn delete_group(id: &str, at: &str, group_id: &str) -> Value {
    elasticache_event(
        id,
        "DeleteReplicationGroup",
        at,
        json!({"replicationGroupId": group_id, "retainPrimaryCluster": false}),
        json!({"replicationGroupId": group_id, "status": "deleting"}),
    )
}

fn add_events(snapshot: &mut Value, events: Vec<Value>) {
    home(snapshot)["cloudtrail"]["events"]
        .as_array_mut()
        .expect("events")
        .extend(events);
}

// ---------------------------------------------------------------------------------------------
// The collected state

#[test]
fn the_encrypted_group_passes_naming_its_customer_managed_key_and_an_unencrypted_one_fails() {
    let mut snapshot = base();
    let pass = at_rest_of(&snapshot, GROUP);
    assert_eq!(pass.status, Status::Pass, "{}", pass.reason);
    assert!(
        pass.reason
            .contains("customer managed KMS key arn:aws:kms:eu-central-1:444455556666:key/"),
        "{}",
        pass.reason
    );
    assert!(pass.remediation.is_empty());

    let unencrypted = group(&mut snapshot);
    unencrypted["AtRestEncryptionEnabled"] = false.into();
    unencrypted["StorageEncryptionType"] = "none".into();
    unencrypted
        .as_object_mut()
        .expect("object")
        .remove("KmsKeyId");
    let fail = at_rest_of(&snapshot, GROUP);
    assert_eq!(fail.status, Status::Fail, "{}", fail.reason);
    assert!(
        fail.reason.contains("AtRestEncryptionEnabled is false"),
        "{}",
        fail.reason
    );
    // The documented fix: a backup restored into a new, encrypted group.
    for part in [
        format!(
            "aws elasticache create-snapshot --replication-group-id {GROUP} --snapshot-name {GROUP}-before-encryption --region {HOME}"
        ),
        "--at-rest-encryption-enabled".to_string(),
        format!(
            "aws elasticache delete-replication-group --replication-group-id {GROUP} --region {HOME}"
        ),
    ] {
        assert!(fail.remediation.contains(&part), "{}", fail.remediation);
    }
    assert_eq!(
        evaluate(&snapshot).verdict(),
        controls::Verdict::NonCompliant
    );
}

#[test]
fn the_effective_storage_state_is_named_but_the_flag_decides_as_in_the_cited_rules() {
    let mut snapshot = base();
    group(&mut snapshot)["StorageEncryptionType"] = "none".into();
    let contradicted = at_rest_of(&snapshot, GROUP);
    assert_eq!(contradicted.status, Status::Fail, "{}", contradicted.reason);
    assert!(
        contradicted
            .reason
            .contains("StorageEncryptionType is none")
    );

    let mut snapshot = base();
    let durable = group(&mut snapshot);
    durable["AtRestEncryptionEnabled"] = false.into();
    durable["StorageEncryptionType"] = "sse-elasticache".into();
    let fail = at_rest_of(&snapshot, GROUP);
    assert_eq!(fail.status, Status::Fail, "{}", fail.reason);
    assert!(fail.reason.contains("sse-elasticache"), "{}", fail.reason);
}

#[test]
fn memcached_is_not_applicable_an_empty_region_has_no_resources_and_a_missing_flag_is_a_gap() {
    let mut snapshot = base();
    group(&mut snapshot)["Engine"] = "memcached".into();
    assert_eq!(at_rest_of(&snapshot, GROUP).status, Status::NotApplicable);

    let mut snapshot = base();
    groups(&mut snapshot).clear();
    let empty = at_rest_of(&snapshot, "(region)");
    assert_eq!(empty.status, Status::NoResources, "{}", empty.reason);

    let mut snapshot = base();
    group(&mut snapshot)
        .as_object_mut()
        .expect("object")
        .remove("AtRestEncryptionEnabled");
    let gap = at_rest_of(&snapshot, GROUP);
    assert_eq!(gap.status, Status::EvidenceGap, "{}", gap.reason);
}

#[test]
fn elasticache_not_collected_or_refused_is_a_gap_never_no_resources() {
    // A snapshot of an earlier version: no ElastiCache evidence at all.
    let mut snapshot = base();
    home(&mut snapshot)
        .as_object_mut()
        .expect("object")
        .remove("elasticache");
    let rows = at_rest_rows(&snapshot);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0].status, Status::EvidenceGap);
    assert!(
        rows[0]
            .reason
            .contains("no ElastiCache evidence was collected"),
        "{}",
        rows[0].reason
    );
    // DescribeReplicationGroups refused: the gap names the call.
    snapshot["gaps"] = json!([{"account_id": ACCOUNT, "region": HOME, "service": "elasticache",
        "api": "DescribeReplicationGroups", "error_code": "AccessDenied",
        "message": "not authorized to perform: elasticache:DescribeReplicationGroups"}]);
    let rows = at_rest_rows(&snapshot);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0].status, Status::EvidenceGap);
    assert!(
        rows[0]
            .reason
            .contains("elasticache:DescribeReplicationGroups failed with AccessDenied"),
        "{}",
        rows[0].reason
    );
}

// ---------------------------------------------------------------------------------------------
// The period rule

#[test]
fn a_group_created_unencrypted_during_the_period_fails_from_its_creation() {
    let mut snapshot = base();
    let created = group(&mut snapshot);
    created["AtRestEncryptionEnabled"] = false.into();
    created["StorageEncryptionType"] = "none".into();
    created["Engine"] = "redis".into();
    created["ReplicationGroupCreateTime"] = "2026-10-12T08:00:00Z".into();
    created.as_object_mut().expect("object").remove("KmsKeyId");
    add_events(
        &mut snapshot,
        vec![create_group(
            "ev-create",
            "2026-10-12T08:00:00Z",
            GROUP,
            json!({"engine": "redis"}),
            Value::Null,
        )],
    );
    let fail = at_rest_of(&snapshot, GROUP);
    assert_eq!(fail.status, Status::Fail, "{}", fail.reason);
    assert!(fail.reason.contains("2026-10-12 08:00"), "{}", fail.reason);
    // The change register: created without encryption at rest is a weakening change.
    let evaluation = evaluate(&snapshot);
    let change = evaluation
        .findings
        .iter()
        .find(|f| f.control_id == "change-control" && f.resource.contains("CreateReplicationGroup"))
        .expect("a change-control row for the creation");
    assert_eq!(change.status, Status::Fail, "{}", change.reason);
    assert!(change.resource.ends_with(GROUP), "{}", change.resource);
    assert!(change.reason.contains("Redis OSS"), "{}", change.reason);
}

#[test]
fn a_group_restored_from_a_backup_keeps_its_collected_setting_since_creation() {
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![create_group(
            "ev-restore",
            "2026-10-12T08:00:00Z",
            GROUP,
            json!({"engine": "valkey", "snapshotName": "lims-dr-session-cache-backup"}),
            Value::Null,
        )],
    );
    let pass = at_rest_of(&snapshot, GROUP);
    assert_eq!(pass.status, Status::Pass, "{}", pass.reason);
}

#[test]
fn a_creation_that_does_not_give_the_collected_value_is_a_gap() {
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![create_group(
            "ev-create",
            "2026-10-12T08:00:00Z",
            GROUP,
            json!({"engine": "valkey"}),
            json!({"replicationGroupId": GROUP, "atRestEncryptionEnabled": false}),
        )],
    );
    let finding = at_rest_of(&snapshot, GROUP);
    assert_ne!(finding.status, Status::Pass, "{}", finding.reason);
    assert!(
        finding
            .reason
            .contains("a change is missing from the events"),
        "{}",
        finding.reason
    );
}

#[test]
fn groups_deleted_before_collection_are_judged_on_their_events_or_are_gaps() {
    // Created before the period, deleted during it: its setting is in no event.
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![delete_group(
            "ev-delete",
            "2026-10-09T10:00:00Z",
            "lims-old-cache",
        )],
    );
    let gap = at_rest_of(&snapshot, "lims-old-cache");
    assert_eq!(gap.status, Status::EvidenceGap, "{}", gap.reason);
    assert!(
        gap.reason.contains("deleted before collection"),
        "{}",
        gap.reason
    );

    // Created unencrypted and deleted again, both within the period: FAIL for its life.
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![
            create_group(
                "ev-create",
                "2026-10-05T10:00:00Z",
                "lims-tmp-cache",
                json!({"engine": "redis", "atRestEncryptionEnabled": false}),
                Value::Null,
            ),
            delete_group("ev-delete", "2026-10-07T10:00:00Z", "lims-tmp-cache"),
        ],
    );
    let fail = at_rest_of(&snapshot, "lims-tmp-cache");
    assert_eq!(fail.status, Status::Fail, "{}", fail.reason);

    // Created encrypted and deleted: PASS for its life.
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![
            create_group(
                "ev-create",
                "2026-10-05T10:00:00Z",
                "lims-tmp-cache",
                json!({"engine": "valkey"}),
                Value::Null,
            ),
            delete_group("ev-delete", "2026-10-07T10:00:00Z", "lims-tmp-cache"),
        ],
    );
    let pass = at_rest_of(&snapshot, "lims-tmp-cache");
    assert_eq!(pass.status, Status::Pass, "{}", pass.reason);

    // Restored from a backup without the flag, then deleted: unknown.
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![
            create_group(
                "ev-create",
                "2026-10-05T10:00:00Z",
                "lims-tmp-cache",
                json!({"engine": "redis", "snapshotName": "nightly"}),
                Value::Null,
            ),
            delete_group("ev-delete", "2026-10-07T10:00:00Z", "lims-tmp-cache"),
        ],
    );
    let gap = at_rest_of(&snapshot, "lims-tmp-cache");
    assert_eq!(gap.status, Status::EvidenceGap, "{}", gap.reason);
    assert!(
        gap.reason.contains("restored from a backup"),
        "{}",
        gap.reason
    );
}

#[test]
fn an_event_that_names_no_group_leaves_every_group_unproven() {
    let mut snapshot = base();
    add_events(
        &mut snapshot,
        vec![elasticache_event(
            "ev-unnamed",
            "CreateReplicationGroup",
            "2026-10-12T08:00:00Z",
            json!({"engine": "valkey"}),
            Value::Null,
        )],
    );
    let finding = at_rest_of(&snapshot, GROUP);
    assert_eq!(finding.status, Status::EvidenceGap, "{}", finding.reason);
}

#[test]
fn missing_change_events_make_the_collected_pass_unproven() {
    let mut snapshot = base();
    snapshot["gaps"] = json!([{"account_id": ACCOUNT, "region": HOME, "service": "cloudtrail",
        "api": "LookupEvents", "error_code": "ThrottlingException", "message": "gave up"}]);
    let finding = at_rest_of(&snapshot, GROUP);
    assert_eq!(finding.status, Status::EvidenceGap, "{}", finding.reason);
    assert!(
        finding.reason.starts_with("as collected: PASS"),
        "{}",
        finding.reason
    );
}

// ---------------------------------------------------------------------------------------------
// The demo

#[test]
fn the_demo_shows_a_pass_and_a_fail() {
    let demo: Value =
        serde_json::from_str(gxp_evidence::evidence::DEMO_EVIDENCE).expect("the demo is JSON");
    let evaluation = evaluate(&demo);
    let of = |resource: &str| -> Finding {
        evaluation
            .findings
            .iter()
            .find(|f| f.control_id == AT_REST && f.resource == resource)
            .cloned()
            .unwrap_or_else(|| panic!("no row for {resource}"))
    };
    assert_eq!(of(GROUP).status, Status::Pass);
    let results_cache = of("lims-results-cache");
    assert_eq!(
        results_cache.status,
        Status::Fail,
        "{}",
        results_cache.reason
    );
    assert!(
        results_cache.reason.contains("2026-10-20"),
        "{}",
        results_cache.reason
    );
    assert_eq!(evaluation.replication_groups.len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Against moto: DescribeReplicationGroups's real shape, collect then report.

/// Creates one replication group in moto.
fn create_in_moto(moto: &common::moto::Moto, group_id: &str, encrypted: bool) {
    let script = "import boto3, sys\n\
        ec = boto3.client('elasticache', endpoint_url=sys.argv[1], region_name='us-east-1',\n\
            aws_access_key_id='testing', aws_secret_access_key='testing')\n\
        encrypted = sys.argv[3] == 'true'\n\
        extra = {'KmsKeyId': 'arn:aws:kms:us-east-1:123456789012:key/ec-key'} if encrypted else {}\n\
        ec.create_replication_group(ReplicationGroupId=sys.argv[2],\n\
            ReplicationGroupDescription='gxp test', Engine='redis', CacheNodeType='cache.t4g.small',\n\
            NumCacheClusters=1, AtRestEncryptionEnabled=encrypted, TransitEncryptionEnabled=True,\n\
            **extra)\n";
    moto.run_script(
        script,
        &[group_id, if encrypted { "true" } else { "false" }],
    );
}

#[test]
fn moto_groups_one_encrypted_and_one_not_are_collected_and_reported() {
    let moto = moto();
    create_in_moto(&moto, "gxp-encrypted", true);
    create_in_moto(&moto, "gxp-plain", false);
    let collected = common::moto::collect_quiet_month(&moto, &[]);
    let (dir, evidence, snapshot) = (collected.dir, collected.evidence, collected.snapshot);
    let collected = snapshot["accounts"][0]["regions"][0]["elasticache"]["replication_groups"]
        .as_array()
        .expect("replication groups")
        .clone();
    let ids: Vec<&str> = collected
        .iter()
        .filter_map(|g| g["ReplicationGroupId"].as_str())
        .collect();
    assert_eq!(ids, ["gxp-encrypted", "gxp-plain"], "sorted by id");
    assert_eq!(collected[0]["AtRestEncryptionEnabled"], true);
    assert_eq!(
        collected[0]["KmsKeyId"],
        "arn:aws:kms:us-east-1:123456789012:key/ec-key"
    );
    assert_eq!(collected[1]["AtRestEncryptionEnabled"], false);

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
            .filter(|f| f["control_id"] == AT_REST && f["resource"] == id)
            .collect();
        assert_eq!(rows.len(), 1, "{id}: {rows:#?}");
        (
            rows[0]["status"].as_str().unwrap_or_default().to_string(),
            rows[0]["reason"].as_str().unwrap_or_default().to_string(),
        )
    };
    let (encrypted, reason) = status("gxp-encrypted");
    assert_eq!(encrypted, "PASS", "{reason}");
    assert!(reason.contains("customer managed KMS key"), "{reason}");
    assert_eq!(status("gxp-plain").0, "FAIL");
    let table = common::read(&out.join("replication_groups.csv"));
    let header = table.lines().next().expect("header");
    for column in [
        "replication_group_id",
        "at_rest_encryption_enabled",
        "kms_key",
        "in_transit_encryption",
        "access_control",
    ] {
        assert!(header.contains(column), "{header}");
    }
    assert!(
        table
            .lines()
            .any(|l| l.contains("gxp-plain") && l.contains("FAIL")),
        "{table}"
    );
}
