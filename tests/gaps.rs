//! The evidence-gap matrix: for every control and every way evidence can be missing (a region
//! missing, a call that failed or gave up after its retries, a field missing, a LookupEvents
//! query that stopped part-way, a malformed event, a pagination loop), the affected results
//! are EVIDENCE_GAP, never PASS, and the verdict is INCOMPLETE.
//!
//! Every case starts from a snapshot that is COMPLIANT with a PASS for every control (the
//! demo's disaster-recovery account), so a missing piece of evidence is the only thing that
//! can move a result — and a PASS that survives it is a guess.

mod common;

use std::collections::BTreeSet;

use gxp_evidence::controls::{CATALOG, Evaluation, Status, Verdict};
use serde_json::{Value, json};

const ACCOUNT: &str = "444455556666";
/// The region holding the account's API, keys, trail (home region) and change events.
const HOME: &str = "eu-central-1";
const API_ID: &str = "m2h6j8k1zx";
/// The gap resource of the GetDeployment call for the deployment the API's stage serves.
const DEPLOYMENT: &str = "restapis/m2h6j8k1zx/deployments/depdr1";
const KEY_ID: &str = "6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d";
const TRAIL_ARN: &str = "arn:aws:cloudtrail:eu-central-1:444455556666:trail/lims-dr-audit";
/// The account's ElastiCache replication group (encrypted at rest).
const GROUP_ID: &str = "lims-dr-session-cache";

const APIGW_CACHE: &str = "apigw-cache-encryption";
/// `control/view` names one reading of a two-reading control.
const APIGW_CACHE_STRICT: &str = "apigw-cache-encryption/aws_config";
const APIGW_LOGGING: &str = "apigw-logging";
const KMS_ROTATION: &str = "kms-key-rotation";
const KMS_DELETION: &str = "kms-key-deletion";
const KMS_EXPOSURE: &str = "kms-key-exposure";
const TRAIL_MULTI_REGION: &str = "cloudtrail-multi-region";
const TRAIL_ENCRYPTION: &str = "cloudtrail-encryption";
const TRAIL_VALIDATION: &str = "cloudtrail-log-validation";
const TRAIL_CONTINUITY: &str = "cloudtrail-continuity";
const CHANGE_CONTROL: &str = "change-control";
const TRAIL_DATA_EVENTS: &str = "cloudtrail-s3-data-events";
/// The DR account's GxP bucket (eu-central-1), whose data events its trail logs.
const GXP_BUCKET: &str = "lims-dr-records-444455556666";
const V2_LOGGING: &str = "apigw-v2-access-logging";
const V2_AUTHORIZATION: &str = "apigw-v2-route-authorization";
/// The demo DR account's compliant HTTP API.
const V2_API_ID: &str = "m3d8r2k6wz";
const ELASTICACHE_AT_REST: &str = "elasticache-encryption-at-rest";
const TRAIL_BUCKET: &str = "cloudtrail-bucket-protection";
const BUCKET: &str = "lims-dr-audit-trail-444455556666";
const TRAIL_CLOUDWATCH: &str = "cloudtrail-cloudwatch-logs";
/// Its AWS Config reading, the one that reads the log group and the delivery status.
const TRAIL_CLOUDWATCH_STRICT: &str = "cloudtrail-cloudwatch-logs/aws_config";
/// Judged per trail and account-region from the digest validation kept in each region.
const TRAIL_INTEGRITY: &str = "cloudtrail-log-integrity";

/// The controls whose evidence comes from each service's describe calls.
const APIGW_CONTROLS: &[&str] = &[APIGW_CACHE, APIGW_LOGGING];
/// The HTTP and WebSocket API controls (GetApis, then GetStages and GetRoutes per API).
const V2_CONTROLS: &[&str] = &[V2_LOGGING, V2_AUTHORIZATION];
const KMS_CONTROLS: &[&str] = &[KMS_ROTATION, KMS_DELETION, KMS_EXPOSURE];
const ELASTICACHE_CONTROLS: &[&str] = &[ELASTICACHE_AT_REST];
const TRAIL_POSTURE_CONTROLS: &[&str] = &[
    TRAIL_MULTI_REGION,
    TRAIL_ENCRYPTION,
    TRAIL_VALIDATION,
    TRAIL_CONTINUITY,
    TRAIL_CLOUDWATCH,
];
/// The controls that read the period's change events.
const EVENT_CONTROLS: &[&str] = &[CHANGE_CONTROL, TRAIL_CONTINUITY];

/// The demo's disaster-recovery account on its own: compliant, a PASS for every control.
fn compliant_base() -> Value {
    common::demo_account_alone(ACCOUNT)
}

fn evaluate(snapshot: &Value) -> Evaluation {
    common::evaluate_crafted(snapshot)
}

fn region<'a>(snapshot: &'a mut Value, name: &str) -> &'a mut Value {
    snapshot["accounts"][0]["regions"]
        .as_array_mut()
        .expect("regions")
        .iter_mut()
        .find(|r| r["region"] == name)
        .unwrap_or_else(|| panic!("region {name}"))
}

fn api(snapshot: &mut Value) -> &mut Value {
    &mut region(snapshot, HOME)["apigateway"]["rest_apis"][0]
}

fn replication_group(snapshot: &mut Value) -> &mut Value {
    region(snapshot, HOME)["elasticache"]["replication_groups"]
        .as_array_mut()
        .expect("replication groups")
        .iter_mut()
        .find(|g| g["ReplicationGroupId"] == GROUP_ID)
        .expect("the replication group")
}

fn key(snapshot: &mut Value) -> &mut Value {
    region(snapshot, HOME)["kms"]["keys"]
        .as_array_mut()
        .expect("keys")
        .iter_mut()
        .find(|k| k["metadata"]["KeyId"] == KEY_ID)
        .expect("the customer managed key")
}

/// The trail as described in every region it was collected in (home and shadow copies).
fn for_each_trail(snapshot: &mut Value, change: impl Fn(&mut Value)) {
    for region in snapshot["accounts"][0]["regions"]
        .as_array_mut()
        .expect("regions")
    {
        if let Some(trails) = region["cloudtrail"]["trails"].as_array_mut() {
            trails.iter_mut().for_each(&change);
        }
    }
}

fn remove(value: &mut Value, field: &str) {
    value
        .as_object_mut()
        .expect("object")
        .remove(field)
        .unwrap_or_else(|| panic!("{field} was there to remove"));
}

/// Records a gap the way the collector does.
fn record_gap(
    snapshot: &mut Value,
    region: Option<&str>,
    service: &str,
    api: &str,
    resource: Option<&str>,
    code: &str,
    message: &str,
) {
    let mut gap = json!({
        "account_id": ACCOUNT, "service": service, "api": api,
        "error_code": code, "message": message,
    });
    if let Some(region) = region {
        gap["region"] = region.into();
    }
    if let Some(resource) = resource {
        gap["resource"] = resource.into();
    }
    snapshot["gaps"].as_array_mut().expect("gaps").push(gap);
}

/// What a failure ends as, for the calls that fail in the matrix.
#[derive(Clone, Copy, Debug)]
enum Failure {
    /// Refused: AccessDeniedException.
    Denied,
    /// Throttled or 5xx on every attempt until the retries ran out.
    RetriesExhausted,
}

impl Failure {
    const ALL: [Failure; 2] = [Failure::Denied, Failure::RetriesExhausted];

    fn code(self) -> &'static str {
        match self {
            Failure::Denied => "AccessDeniedException",
            Failure::RetriesExhausted => "ThrottlingException",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Failure::Denied => "User is not authorized to perform this action",
            Failure::RetriesExhausted => "gave up after 8 attempts: Rate exceeded",
        }
    }
}

/// One way evidence goes missing, and the results it must turn into gaps.
struct Case {
    name: String,
    snapshot: Value,
    /// (control, region, part of the resource) that must have an EVIDENCE_GAP row and no
    /// PASS row. Region `all` is the account-wide CloudTrail rows.
    affected: Vec<(&'static str, &'static str, &'static str)>,
}

fn case(
    name: impl Into<String>,
    affected: Vec<(&'static str, &'static str, &'static str)>,
    mutate: impl FnOnce(&mut Value),
) -> Case {
    let mut snapshot = compliant_base();
    mutate(&mut snapshot);
    Case {
        name: name.into(),
        snapshot,
        affected,
    }
}

fn each(
    controls: &[&'static str],
    region: &'static str,
    resource: &'static str,
) -> Vec<(&'static str, &'static str, &'static str)> {
    controls.iter().map(|c| (*c, region, resource)).collect()
}

fn trail_posture() -> Vec<(&'static str, &'static str, &'static str)> {
    each(TRAIL_POSTURE_CONTROLS, "all", "")
}

/// DescribeTrails failed somewhere: the trails seen elsewhere (a multi-region trail's shadow
/// copies carry its whole configuration) are judged, and a row says others may exist.
fn trail_list_unknown() -> Vec<(&'static str, &'static str, &'static str)> {
    each(
        &[
            TRAIL_ENCRYPTION,
            TRAIL_VALIDATION,
            TRAIL_CONTINUITY,
            TRAIL_CLOUDWATCH,
        ],
        "all",
        "(account)",
    )
}

fn events_of_home() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![(CHANGE_CONTROL, HOME, ""), (TRAIL_CONTINUITY, "all", "")]
}

/// A LookupEvents query of the home region that stopped (the events it returned are kept):
/// the period's events are incomplete.
fn lookup_events_gap(cases: &mut Vec<Case>, name: &str, code: &str, message: &str) {
    cases.push(case(name, events_of_home(), |s| {
        record_gap(
            s,
            Some(HOME),
            "cloudtrail",
            "LookupEvents",
            None,
            code,
            message,
        )
    }));
}

fn matrix() -> Vec<Case> {
    let mut cases = vec![
        case(
            "the home region is missing from the snapshot",
            [
                each(APIGW_CONTROLS, HOME, ""),
                each(V2_CONTROLS, HOME, ""),
                each(KMS_CONTROLS, HOME, ""),
                each(ELASTICACHE_CONTROLS, HOME, ""),
                vec![(CHANGE_CONTROL, HOME, ""), (TRAIL_INTEGRITY, HOME, "")],
                vec![(TRAIL_CONTINUITY, "all", "")],
            ]
            .concat(),
            |s| {
                s["accounts"][0]["regions"]
                    .as_array_mut()
                    .expect("regions")
                    .retain(|r| r["region"] != HOME)
            },
        ),
        case(
            "the whole account is missing from the snapshot",
            CATALOG.iter().map(|c| (c.id, "", "")).collect::<Vec<_>>(),
            |s| s["accounts"] = json!([]),
        ),
        case(
            "the caller identity could not be established",
            [
                each(APIGW_CONTROLS, HOME, ""),
                each(V2_CONTROLS, HOME, ""),
                each(KMS_CONTROLS, HOME, ""),
                each(ELASTICACHE_CONTROLS, HOME, ""),
                vec![(CHANGE_CONTROL, HOME, ""), (TRAIL_INTEGRITY, HOME, "")],
                trail_posture(),
            ]
            .concat(),
            |s| {
                remove(&mut s["accounts"][0], "caller_identity");
                record_gap(
                    s,
                    None,
                    "sts",
                    "GetCallerIdentity",
                    None,
                    "ExpiredToken",
                    "The security token included in the request is expired",
                );
                s["accounts"][0]["regions"] = json!([]);
            },
        ),
    ];
    cases.push(case(
        "the trail buckets are missing from the snapshot",
        vec![(TRAIL_BUCKET, "all", BUCKET)],
        |s| remove(&mut s["accounts"][0], "trail_buckets"),
    ));
    cases.push(case(
        "the trail's digest validation is missing from the snapshot",
        vec![(TRAIL_INTEGRITY, HOME, TRAIL_ARN)],
        |s| remove(&mut region(s, HOME)["cloudtrail"], "log_integrity"),
    ));
    cases.push(case(
        "the trail's log group is missing from the snapshot",
        vec![(TRAIL_CLOUDWATCH_STRICT, "all", TRAIL_ARN)],
        |s| for_each_trail(s, |t| _ = t.as_object_mut().map(|t| t.remove("log_group"))),
    ));
    for section in ["apigateway", "kms", "elasticache", "cloudtrail"] {
        let affected = match section {
            "apigateway" => [each(APIGW_CONTROLS, HOME, ""), each(V2_CONTROLS, HOME, "")].concat(),
            "kms" => each(KMS_CONTROLS, HOME, ""),
            "elasticache" => each(ELASTICACHE_CONTROLS, HOME, ""),
            _ => [
                vec![
                    (CHANGE_CONTROL, HOME, ""),
                    (TRAIL_CONTINUITY, "all", ""),
                    (TRAIL_INTEGRITY, HOME, ""),
                ],
                trail_list_unknown(),
            ]
            .concat(),
        };
        cases.push(case(
            format!("the {section} section of the home region is missing"),
            affected,
            |s| remove(region(s, HOME), section),
        ));
    }
    for failure in Failure::ALL {
        let (code, message) = (failure.code(), failure.message());
        // A list call that failed: the collector keeps no list at all, or an empty one.
        for (service, api_name, section, list, affected) in [
            (
                "apigateway",
                "GetRestApis",
                "apigateway",
                "rest_apis",
                each(APIGW_CONTROLS, HOME, ""),
            ),
            (
                "kms",
                "ListKeys",
                "kms",
                "keys",
                each(KMS_CONTROLS, HOME, ""),
            ),
            (
                "elasticache",
                "DescribeReplicationGroups",
                "elasticache",
                "replication_groups",
                each(ELASTICACHE_CONTROLS, HOME, ""),
            ),
            (
                "cloudtrail",
                "DescribeTrails",
                "cloudtrail",
                "trails",
                [trail_list_unknown(), vec![(TRAIL_INTEGRITY, HOME, "")]].concat(),
            ),
        ] {
            cases.push(case(
                format!("{service}:{api_name} {failure:?}, section absent"),
                affected.clone(),
                |s| {
                    remove(region(s, HOME), section);
                    record_gap(s, Some(HOME), service, api_name, None, code, message);
                },
            ));
            cases.push(case(
                format!("{service}:{api_name} {failure:?}, empty list kept"),
                affected,
                |s| {
                    region(s, HOME)[section][list] = json!([]);
                    record_gap(s, Some(HOME), service, api_name, None, code, message);
                },
            ));
        }
        // ListPublicKeys failed: the trail's chain was not validated (recorded as such, and as a
        // gap of the trail).
        cases.push(case(
            format!("cloudtrail:ListPublicKeys {failure:?}"),
            vec![(TRAIL_INTEGRITY, HOME, TRAIL_ARN)],
            |s| {
                region(s, HOME)["cloudtrail"]["log_integrity"][0]["result"] = json!({
                    "not_validated": {"code": "ListPublicKeysFailed", "message": format!("{code}: {message}")}
                });
                record_gap(
                    s,
                    Some(HOME),
                    "cloudtrail",
                    "ListPublicKeys",
                    Some(TRAIL_ARN),
                    code,
                    message,
                );
            },
        ));
        // Calls about one resource: the evidence they return is absent, and the gap names it.
        for (service, api_name, resource, affected, drop_evidence) in [
            (
                "apigateway",
                "GetStages",
                API_ID,
                each(APIGW_CONTROLS, HOME, API_ID),
                (|s: &mut Value| api(s)["stages"] = json!([])) as fn(&mut Value),
            ),
            (
                "apigateway",
                "GetDeployment",
                DEPLOYMENT,
                vec![(APIGW_CACHE_STRICT, HOME, API_ID)],
                |s| api(s)["deployments"] = json!([]),
            ),
            (
                "apigateway",
                "GetAccount",
                "account",
                vec![(APIGW_LOGGING, HOME, API_ID)],
                |s| remove(&mut region(s, HOME)["apigateway"], "account"),
            ),
            (
                "kms",
                "GetKeyRotationStatus",
                KEY_ID,
                vec![(KMS_ROTATION, HOME, KEY_ID)],
                |s| remove(key(s), "rotation_status"),
            ),
            (
                "kms",
                "GetKeyPolicy",
                KEY_ID,
                vec![(KMS_EXPOSURE, HOME, KEY_ID)],
                |s| remove(key(s), "key_policy"),
            ),
            (
                "kms",
                "DescribeKey",
                KEY_ID,
                vec![
                    (KMS_ROTATION, HOME, KEY_ID),
                    (KMS_DELETION, HOME, KEY_ID),
                    (KMS_EXPOSURE, HOME, KEY_ID),
                ],
                // The collector keeps only the key's id and ARN from ListKeys.
                |s| {
                    let metadata = &mut key(s)["metadata"];
                    let (id, arn) = (metadata["KeyId"].clone(), metadata["Arn"].clone());
                    *metadata = json!({"KeyId": id, "Arn": arn});
                },
            ),
            (
                "cloudtrail",
                "GetTrailStatus",
                TRAIL_ARN,
                vec![
                    (TRAIL_MULTI_REGION, "all", ""),
                    (TRAIL_CONTINUITY, "all", ""),
                    (TRAIL_DATA_EVENTS, HOME, GXP_BUCKET),
                    (TRAIL_CLOUDWATCH_STRICT, "all", TRAIL_ARN),
                ],
                |s| for_each_trail(s, |t| remove(t, "status")),
            ),
            (
                "cloudtrail",
                "GetEventSelectors",
                TRAIL_ARN,
                vec![
                    (TRAIL_MULTI_REGION, "all", ""),
                    (TRAIL_DATA_EVENTS, HOME, GXP_BUCKET),
                ],
                |s| for_each_trail(s, |t| remove(t, "event_selectors")),
            ),
        ] {
            cases.push(case(
                format!("{service}:{api_name} {failure:?}"),
                affected,
                |s| {
                    drop_evidence(s);
                    record_gap(
                        s,
                        Some(HOME),
                        service,
                        api_name,
                        Some(resource),
                        code,
                        message,
                    );
                },
            ));
        }
        // The trail's log group (DescribeLogGroups in the trail's home region): kept as the
        // failure, named as a gap.
        cases.push(case(
            format!("logs:DescribeLogGroups {failure:?}"),
            vec![(TRAIL_CLOUDWATCH_STRICT, "all", TRAIL_ARN)],
            |s| {
                for_each_trail(s, |t| {
                    if t.get("log_group").is_some() {
                        t["log_group"] = json!({"failed": {"code": code, "message": message}});
                    }
                });
                record_gap(
                    s,
                    Some(HOME),
                    "logs",
                    "DescribeLogGroups",
                    Some("arn:aws:logs:eu-central-1:444455556666:log-group:CloudTrail/lims-dr-audit:*"),
                    code,
                    message,
                );
            },
        ));
        // S3 ListBuckets (once per account): which GxP buckets the account owns is unknown.
        cases.push(case(
            format!("s3:ListBuckets {failure:?}"),
            vec![(TRAIL_DATA_EVENTS, "all", "(account)")],
            |s| {
                remove(&mut s["accounts"][0], "s3_buckets");
                record_gap(s, Some(HOME), "s3", "ListBuckets", None, code, message);
            },
        ));
        // A trail bucket's setting that could not be read: kept as the failure, named as a gap.
        for (api_name, field) in [
            ("GetBucketPolicy", "policy"),
            ("GetBucketLogging", "logging"),
            ("GetBucketLifecycleConfiguration", "lifecycle"),
        ] {
            cases.push(case(
                format!("s3:{api_name} {failure:?}"),
                vec![(TRAIL_BUCKET, "all", BUCKET)],
                |s| {
                    s["accounts"][0]["trail_buckets"]["buckets"][0][field] =
                        json!({"failed": {"code": code, "message": message}});
                    record_gap(
                        s,
                        Some(HOME),
                        "s3",
                        api_name,
                        Some(format!("arn:aws:s3:::{BUCKET}").as_str()),
                        code,
                        message,
                    );
                },
            ));
        }
        // API Gateway v2's list: only the logging of WebSocket stages depends on it.
        for kept in [None, Some(json!([]))] {
            cases.push(case(
                format!("apigatewayv2:GetApis {failure:?}, list kept: {kept:?}"),
                [
                    vec![(APIGW_LOGGING, HOME, "(HTTP and WebSocket APIs)")],
                    each(V2_CONTROLS, HOME, ""),
                ]
                .concat(),
                |s| {
                    let apigateway = &mut region(s, HOME)["apigateway"];
                    match kept {
                        Some(list) => apigateway["v2_apis"] = list,
                        None => remove(apigateway, "v2_apis"),
                    }
                    record_gap(
                        s,
                        Some(HOME),
                        "apigatewayv2",
                        "GetApis",
                        None,
                        code,
                        message,
                    );
                },
            ));
        }
        // An HTTP API's stages or routes: that API's rows of the control that reads them.
        for (api_name, list, control) in [
            ("GetStages", "stages", V2_LOGGING),
            ("GetRoutes", "routes", V2_AUTHORIZATION),
        ] {
            cases.push(case(
                format!("apigatewayv2:{api_name} {failure:?}, list absent"),
                vec![(control, HOME, V2_API_ID)],
                |s| {
                    let api = region(s, HOME)["apigateway"]["v2_apis"]
                        .as_array_mut()
                        .expect("v2_apis")
                        .iter_mut()
                        .find(|a| a["apiId"] == V2_API_ID)
                        .expect("the DR HTTP API");
                    remove(api, list);
                    record_gap(
                        s,
                        Some(HOME),
                        "apigatewayv2",
                        api_name,
                        Some(&format!("apis/{V2_API_ID}")),
                        code,
                        message,
                    );
                },
            ));
        }
        // One LookupEvents query that gave up part-way: the events it did return are kept.
        lookup_events_gap(
            &mut cases,
            &format!("one LookupEvents query {failure:?} part-way"),
            code,
            &format!("query EventSource=cloudtrail.amazonaws.com: {message}"),
        );
    }
    lookup_events_gap(
        &mut cases,
        "a LookupEvents pagination loop",
        "PaginationLoop",
        "query EventName=DisableKeyRotation: NextToken repeated; stopped paging",
    );
    lookup_events_gap(
        &mut cases,
        "a LookupEvents page with an event the collector could not read",
        "MalformedEvent",
        "query EventSource=apigateway.amazonaws.com: an event without EventId or EventTime",
    );
    // Fields that AWS always returns: without them the setting is unknown, not off.
    for (name, affected, mutate) in [
        (
            "cachingEnabled missing from the stage-wide method setting",
            vec![(APIGW_CACHE, HOME, API_ID)],
            (|s: &mut Value| {
                remove(
                    &mut api(s)["stages"][0]["methodSettings"]["*/*"],
                    "cachingEnabled",
                )
            }) as fn(&mut Value),
        ),
        (
            "cacheDataEncrypted missing from the stage-wide method setting",
            vec![(APIGW_CACHE, HOME, API_ID)],
            |s| {
                remove(
                    &mut api(s)["stages"][0]["methodSettings"]["*/*"],
                    "cacheDataEncrypted",
                )
            },
        ),
        (
            "cacheClusterEnabled missing from the stage",
            vec![(APIGW_CACHE_STRICT, HOME, API_ID)],
            |s| remove(&mut api(s)["stages"][0], "cacheClusterEnabled"),
        ),
        (
            "KeyState and Enabled missing from the key metadata",
            vec![(KMS_ROTATION, HOME, KEY_ID), (KMS_DELETION, HOME, KEY_ID)],
            |s| {
                remove(&mut key(s)["metadata"], "KeyState");
                remove(&mut key(s)["metadata"], "Enabled");
            },
        ),
        (
            "KeyManager missing from the key metadata",
            vec![(KMS_ROTATION, HOME, KEY_ID), (KMS_EXPOSURE, HOME, KEY_ID)],
            |s| remove(&mut key(s)["metadata"], "KeyManager"),
        ),
        (
            "key_policy missing from the key (a snapshot from before GetKeyPolicy was collected)",
            vec![(KMS_EXPOSURE, HOME, KEY_ID)],
            |s| remove(key(s), "key_policy"),
        ),
        (
            "AtRestEncryptionEnabled missing from the replication group",
            vec![(ELASTICACHE_AT_REST, HOME, GROUP_ID)],
            |s| remove(replication_group(s), "AtRestEncryptionEnabled"),
        ),
        (
            "IsLogging missing from the trail status",
            vec![
                (TRAIL_MULTI_REGION, "all", ""),
                (TRAIL_CONTINUITY, "all", ""),
            ],
            |s| for_each_trail(s, |t| remove(&mut t["status"], "IsLogging")),
        ),
        (
            "IsMultiRegionTrail missing from the trail",
            vec![(TRAIL_MULTI_REGION, "all", "")],
            |s| for_each_trail(s, |t| remove(&mut t["trail"], "IsMultiRegionTrail")),
        ),
        (
            "LogFileValidationEnabled missing from the trail",
            vec![(TRAIL_VALIDATION, "all", "")],
            |s| for_each_trail(s, |t| remove(&mut t["trail"], "LogFileValidationEnabled")),
        ),
        (
            // Valid JSON (the loader refuses anything else), but without the request: the
            // change it made is unknown.
            "a change event whose CloudTrail record cannot be read",
            vec![(CHANGE_CONTROL, HOME, "")],
            |s| {
                let events = region(s, HOME)["cloudtrail"]["events"]
                    .as_array_mut()
                    .expect("events");
                let update = events
                    .iter_mut()
                    .find(|e| e["EventName"] == "UpdateStage")
                    .expect("an UpdateStage event");
                update["CloudTrailEvent"] = "{\"eventVersion\":\"1.08\"}".into();
            },
        ),
    ] {
        cases.push(case(name, affected, mutate));
    }
    cases
}

fn rows<'a>(
    evaluation: &'a Evaluation,
    control: &str,
    region: &str,
    resource_part: &str,
) -> Vec<&'a gxp_evidence::controls::Finding> {
    let (control, view) = control.split_once('/').unwrap_or((control, ""));
    evaluation
        .findings
        .iter()
        .filter(|f| {
            f.control_id == control
                && (view.is_empty() || f.view.is_some_and(|v| v.as_str() == view))
                && (region.is_empty() || f.region == region)
                && (resource_part.is_empty()
                    || f.resource.contains(resource_part)
                    || f.resource.starts_with('('))
        })
        .collect()
}

#[test]
fn the_base_snapshot_passes_every_control() {
    let evaluation = evaluate(&compliant_base());
    assert_eq!(evaluation.verdict(), Verdict::Compliant);
    for control in CATALOG {
        assert!(
            evaluation
                .findings
                .iter()
                .any(|f| f.control_id == control.id && f.status == Status::Pass),
            "{} has no PASS in the base, so the matrix could not show it moving",
            control.id
        );
    }
}

#[test]
fn missing_evidence_is_a_gap_never_a_pass_for_every_control_and_cause() {
    let cases = matrix();
    let mut problems = Vec::new();
    for case in &cases {
        let evaluation = evaluate(&case.snapshot);
        if evaluation.verdict() != Verdict::Incomplete {
            problems.push(format!(
                "{}: verdict {:?}, not INCOMPLETE",
                case.name,
                evaluation.verdict()
            ));
        }
        for (control, region, resource) in &case.affected {
            let rows = rows(&evaluation, control, region, resource);
            let statuses: Vec<String> = rows
                .iter()
                .map(|f| format!("{} {} {}", f.status.as_str(), f.resource, f.reason))
                .collect();
            if !rows.iter().any(|f| f.status == Status::EvidenceGap) {
                problems.push(format!(
                    "{}: {control} {region} {resource}: no EVIDENCE_GAP row: {statuses:#?}",
                    case.name
                ));
            }
            if rows.iter().any(|f| f.status == Status::Pass) {
                problems.push(format!(
                    "{}: {control} {region} {resource}: PASS despite the missing evidence: {statuses:#?}",
                    case.name
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_matrix_reaches_every_control_with_every_kind_of_cause() {
    let cases = matrix();
    let affected_by = |needle: &str| -> BTreeSet<&str> {
        cases
            .iter()
            .filter(|c| c.name.contains(needle))
            .flat_map(|c| c.affected.iter())
            .map(|(control, _, _)| control.split_once('/').map_or(*control, |(id, _)| id))
            .collect()
    };
    let every: BTreeSet<&str> = CATALOG.iter().map(|c| c.id).collect();
    for cause in [
        "missing from the snapshot",
        "Denied",
        "RetriesExhausted",
        "missing",
    ] {
        assert_eq!(affected_by(cause), every, "{cause}");
    }
    let event_controls: BTreeSet<&str> = EVENT_CONTROLS.iter().copied().collect();
    for cause in ["LookupEvents query", "pagination loop", "could not read"] {
        assert!(affected_by(cause).is_superset(&event_controls), "{cause}");
    }
}
