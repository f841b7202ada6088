//! `cloudtrail-bucket-protection` (Security Hub CloudTrail.6 and CloudTrail.7): the S3 bucket
//! each counted trail delivers to is not public (bucket policy, ACL, with Block Public Access
//! at bucket and account level), has server access logging, keeps its log files from deletion
//! (Object Lock with a default retention, or MFA delete), and has no lifecycle rule that
//! expires the trail's log files before the policy's `min_log_retention_days`. One result per
//! bucket, judged over the period: the bucket's settings are rebuilt between the S3 change
//! events (`bucket_change`, read by the period rule in `history` and by the classifier in
//! `events`), so a bucket opened during the period fails for that interval. docs/controls.md
//! "cloudtrail-bucket-protection" gives each rule its source.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::catalog::CLOUDTRAIL_BUCKET_PROTECTION;
use super::history::RegionHistory;
use super::period::{Coverage, History, NewValue, Replay};
use super::resource_policy::{BUCKET_POLICY, Exposure};
use super::{ALL_REGIONS, Evaluation, Finding, Status, remediation};
use crate::evidence::{
    AclGrant, ApiError, BucketAcl, EvidenceSnapshot, LifecycleRule, ObjectLockConfiguration,
    PublicAccessBlock, S3Answer, Timestamp, TrailBucketEvidence, TrailBuckets, TrailEvidence,
};

/// The ACL grantee groups that make a bucket public (S3 user guide "Access control list (ACL)
/// overview", "Amazon S3 predefined groups"; "The meaning of public").
const PUBLIC_GROUPS: &[(&str, &str)] = &[
    (
        "http://acs.amazonaws.com/groups/global/AllUsers",
        "AllUsers",
    ),
    (
        "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
        "AuthenticatedUsers",
    ),
];

/// One row of the trail-bucket table: the bucket as collected, each aspect in short.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketRow {
    pub account_id: String,
    pub bucket: String,
    pub region: String,
    /// The counted trails that deliver to it.
    pub trails: Vec<String>,
    pub policy: String,
    pub acl: String,
    pub bucket_block: String,
    pub account_block: String,
    pub access_logging: String,
    pub object_lock: String,
    pub mfa_delete: String,
    pub lifecycle: String,
    pub status: Status,
    pub reason: String,
}

impl BucketRow {
    pub fn sort_key(&self) -> (&str, &str) {
        (&self.account_id, &self.bucket)
    }
}

/// A setting as known at one moment: its value, or why it is not known.
type Known<T> = Result<T, String>;

/// What the control reads of a bucket at one moment. Each field is replaced whole by the
/// change events that set it (`bucket_change`), so the form is canonical: the collected state
/// and a recorded change give the same value for the same setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketView {
    /// The bucket policy statements open to everyone without a limiting condition, by name
    /// (`statement "Sid"`); empty when there is no policy or none is open.
    pub policy: Known<Vec<String>>,
    /// Public ACL grants (`AllUsers:READ`).
    pub acl: Known<Vec<String>>,
    pub bucket_block: Known<PublicAccessBlock>,
    pub account_block: Known<PublicAccessBlock>,
    pub logging: Known<bool>,
    /// `off`, `enabled without default retention`, or the default retention (`COMPLIANCE 400 days`).
    pub object_lock: Known<String>,
    pub mfa_delete: Known<bool>,
    pub lifecycle: Known<Vec<LifecycleRule>>,
}

/// Field names of `BucketView`, as the change events name them.
pub mod field {
    pub const POLICY: &str = "policy";
    pub const ACL: &str = "acl";
    pub const BUCKET_BLOCK: &str = "bucket_block";
    pub const ACCOUNT_BLOCK: &str = "account_block";
    pub const LOGGING: &str = "logging";
    pub const OBJECT_LOCK: &str = "object_lock";
    pub const MFA_DELETE: &str = "mfa_delete";
    pub const LIFECYCLE: &str = "lifecycle";
}

/// What one S3 change event did to one setting `cloudtrail-bucket-protection` judges.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketChange {
    /// The bucket (`requestParameters.bucketName`); `None` for the account's Block Public
    /// Access, which applies to every bucket of the account.
    pub bucket: Option<String>,
    pub field: &'static str,
    /// The new value in `BucketView` form, or why the record does not tell it.
    pub value: Known<Value>,
}

impl BucketChange {
    /// The change as the period rule replays it.
    pub fn new_value(&self) -> NewValue {
        match &self.value {
            Ok(value) => NewValue::Set(json!({ "Ok": value })),
            Err(why) => NewValue::Unknown(why.clone()),
        }
    }
}

/// The S3 events that change what the control judges (S3 API reference of each operation;
/// CloudTrail records them with event source s3.amazonaws.com, the s3control account-level
/// Block Public Access calls included, as PutAccountPublicAccessBlock and
/// DeleteAccountPublicAccessBlock). Other S3 events: `None`.
pub fn bucket_change(event_name: &str, params: Option<&Value>) -> Option<BucketChange> {
    let bucket = params
        .and_then(|p| p.get("bucketName"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let on_bucket = |field: &'static str, value: Known<Value>| {
        Some(BucketChange {
            bucket: bucket.clone(),
            field,
            value,
        })
    };
    let get = |name: &str| params.and_then(|p| p.get(name));
    let missing = |what: &str| Err(format!("the record carries no {what}"));
    match event_name {
        "PutBucketPolicy" => on_bucket(
            field::POLICY,
            match get("bucketPolicy").or_else(|| get("policy").filter(|p| !p.is_array())) {
                Some(policy) => open_statements(&Exposure::of_request_as(policy, &BUCKET_POLICY))
                    .map(|open| json!(open)),
                None => missing("bucket policy (requestParameters.bucketPolicy)"),
            },
        ),
        "DeleteBucketPolicy" => on_bucket(field::POLICY, Ok(json!([]))),
        "PutBucketAcl" => on_bucket(field::ACL, acl_of_request(params).map(|g| json!(g))),
        "PutBucketPublicAccessBlock" => on_bucket(
            field::BUCKET_BLOCK,
            block_of_request(get("PublicAccessBlockConfiguration")),
        ),
        "DeleteBucketPublicAccessBlock" => {
            on_bucket(field::BUCKET_BLOCK, Ok(json!(PublicAccessBlock::default())))
        }
        "PutAccountPublicAccessBlock" => Some(BucketChange {
            bucket: None,
            field: field::ACCOUNT_BLOCK,
            value: block_of_request(get("PublicAccessBlockConfiguration")),
        }),
        "DeleteAccountPublicAccessBlock" => Some(BucketChange {
            bucket: None,
            field: field::ACCOUNT_BLOCK,
            value: Ok(json!(PublicAccessBlock::default())),
        }),
        "PutBucketLogging" => on_bucket(
            field::LOGGING,
            match get("BucketLoggingStatus") {
                Some(status) if status.is_object() => {
                    Ok(json!(status.get("LoggingEnabled").is_some()))
                }
                _ => missing("logging status (requestParameters.BucketLoggingStatus)"),
            },
        ),
        "PutBucketVersioning" => {
            let configuration = get("VersioningConfiguration")?;
            // Without MfaDelete the call leaves MFA delete as it was.
            let mfa = configuration.get("MfaDelete").and_then(scalar_text)?;
            on_bucket(field::MFA_DELETE, Ok(json!(mfa == "Enabled")))
        }
        "PutObjectLockConfiguration" => on_bucket(
            field::OBJECT_LOCK,
            match get("ObjectLockConfiguration") {
                Some(configuration) if configuration.is_object() => {
                    Ok(json!(lock_state(Some(&lock_of_request(configuration)))))
                }
                _ => {
                    missing("Object Lock configuration (requestParameters.ObjectLockConfiguration)")
                }
            },
        ),
        "PutBucketLifecycle" | "PutBucketLifecycleConfiguration" => on_bucket(
            field::LIFECYCLE,
            match get("LifecycleConfiguration") {
                Some(configuration) if configuration.is_object() => {
                    Ok(json!(rules_of_request(configuration)))
                }
                _ => missing("lifecycle configuration (requestParameters.LifecycleConfiguration)"),
            },
        ),
        "DeleteBucketLifecycle" => on_bucket(field::LIFECYCLE, Ok(json!([]))),
        _ => None,
    }
}

/// A value S3 records as text (XML bodies become strings) or as JSON.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number(value: Option<&Value>) -> Option<i64> {
    scalar_text(value?)?.parse().ok()
}

/// One element or a list of them (XML lists of one become objects).
fn each(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

fn open_statements(exposure: &Exposure) -> Known<Vec<String>> {
    match exposure {
        Exposure::Closed { .. } => Ok(Vec::new()),
        Exposure::Open { statements } => Ok(statements.iter().map(|s| statement_name(s)).collect()),
        Exposure::Unknown { why } => Err(why.clone()),
    }
}

/// `statement "Sid"` of a quoted statement.
fn statement_name(quoted: &str) -> String {
    quoted
        .split_once(" {")
        .map_or(quoted, |(name, _)| name)
        .to_string()
}

/// The four flags of a recorded PublicAccessBlockConfiguration; an omitted flag is off (the
/// API's default). A flag that is neither true nor false leaves the setting unknown.
fn block_of_request(configuration: Option<&Value>) -> Known<Value> {
    let Some(configuration) = configuration.filter(|c| c.is_object()) else {
        return Err("the record carries no PublicAccessBlockConfiguration".to_string());
    };
    let flag = |name: &str| -> Known<bool> {
        match configuration.get(name).and_then(scalar_text).as_deref() {
            None => Ok(false),
            Some(t) if t.eq_ignore_ascii_case("true") => Ok(true),
            Some(t) if t.eq_ignore_ascii_case("false") => Ok(false),
            Some(other) => Err(format!("{name} is {other:?} in the record")),
        }
    };
    Ok(json!(PublicAccessBlock {
        block_public_acls: flag("BlockPublicAcls")?,
        ignore_public_acls: flag("IgnorePublicAcls")?,
        block_public_policy: flag("BlockPublicPolicy")?,
        restrict_public_buckets: flag("RestrictPublicBuckets")?,
    }))
}

/// The public grants a PutBucketAcl sets: a canned ACL (`x-amz-acl`), grant headers
/// (`x-amz-grant-*`), or an AccessControlPolicy body (S3 API reference PutBucketAcl).
fn acl_of_request(params: Option<&Value>) -> Known<Vec<String>> {
    let get = |name: &str| params.and_then(|p| p.get(name));
    let first = |value: Option<&Value>| -> Option<String> {
        match value? {
            Value::Array(list) => list.first().and_then(scalar_text),
            other => scalar_text(other),
        }
    };
    if let Some(canned) = first(get("x-amz-acl")) {
        return canned_acl(&canned);
    }
    let headers: Vec<(&str, String)> = [
        ("READ", "x-amz-grant-read"),
        ("WRITE", "x-amz-grant-write"),
        ("READ_ACP", "x-amz-grant-read-acp"),
        ("WRITE_ACP", "x-amz-grant-write-acp"),
        ("FULL_CONTROL", "x-amz-grant-full-control"),
    ]
    .into_iter()
    .filter_map(|(permission, header)| first(get(header)).map(|v| (permission, v)))
    .collect();
    if !headers.is_empty() {
        let mut grants: Vec<String> = headers
            .iter()
            .flat_map(|(permission, grantees)| {
                PUBLIC_GROUPS
                    .iter()
                    .filter(|(uri, _)| grantees.contains(uri))
                    .map(move |(_, group)| format!("{group}:{permission}"))
            })
            .collect();
        grants.sort();
        grants.dedup();
        return Ok(grants);
    }
    let Some(list) = get("AccessControlPolicy").and_then(|p| p.get("AccessControlList")) else {
        return Err(
            "the record carries neither a canned ACL, grant headers nor an AccessControlPolicy"
                .to_string(),
        );
    };
    let grants: Vec<AclGrant> = each(list.get("Grant"))
        .into_iter()
        .map(|grant| {
            let grantee = grant.get("Grantee");
            AclGrant {
                grantee_type: grantee
                    .and_then(|g| g.get("xsi:type").or_else(|| g.get("Type")))
                    .and_then(scalar_text),
                uri: grantee.and_then(|g| g.get("URI")).and_then(scalar_text),
                id: grantee.and_then(|g| g.get("ID")).and_then(scalar_text),
                permission: grant.get("Permission").and_then(scalar_text),
            }
        })
        .collect();
    Ok(public_grants(&grants))
}

/// The public grants of a canned ACL (S3 user guide "Canned ACL").
fn canned_acl(name: &str) -> Known<Vec<String>> {
    let grants: &[&str] = match name {
        "private"
        | "bucket-owner-read"
        | "bucket-owner-full-control"
        | "aws-exec-read"
        | "log-delivery-write" => &[],
        "public-read" => &["AllUsers:READ"],
        "public-read-write" => &["AllUsers:READ", "AllUsers:WRITE"],
        "authenticated-read" => &["AuthenticatedUsers:READ"],
        other => return Err(format!("the canned ACL {other:?} is not one S3 documents")),
    };
    Ok(grants.iter().map(|g| g.to_string()).collect())
}

/// `AllUsers:READ`, … for the grants to a public group, sorted.
fn public_grants(grants: &[AclGrant]) -> Vec<String> {
    let mut public: Vec<String> = grants
        .iter()
        .filter_map(|grant| {
            let uri = grant.uri.as_deref()?;
            let (_, group) = PUBLIC_GROUPS.iter().find(|(u, _)| *u == uri)?;
            Some(format!(
                "{group}:{}",
                grant.permission.as_deref().unwrap_or("?")
            ))
        })
        .collect();
    public.sort();
    public.dedup();
    public
}

fn lock_of_request(configuration: &Value) -> ObjectLockConfiguration {
    let retention = configuration
        .get("Rule")
        .and_then(|r| r.get("DefaultRetention"))
        .filter(|r| r.is_object());
    ObjectLockConfiguration {
        object_lock_enabled: configuration.get("ObjectLockEnabled").and_then(scalar_text),
        default_retention: retention.map(|r| crate::evidence::DefaultRetention {
            mode: r.get("Mode").and_then(scalar_text),
            days: number(r.get("Days")),
            years: number(r.get("Years")),
        }),
    }
}

/// Whether an Object Lock state of `BucketView` keeps new log files from deletion: a default
/// retention applies to every new object (S3 user guide "Locking objects with Object Lock");
/// without one, CloudTrail's objects get no retention.
pub(crate) fn lock_protects(state: &str) -> bool {
    state != "off" && state != "enabled without default retention"
}

/// The days an Object Lock default retention in `lock_state` form keeps a new object (a year
/// counted as 365 days); `None` without a default retention.
pub(crate) fn lock_days(state: &str) -> Option<i64> {
    let mut words = state.split_whitespace().skip(1);
    let count: i64 = words.next()?.parse().ok()?;
    match words.next()? {
        "days" => Some(count),
        "years" => Some(count * 365),
        _ => None,
    }
}

/// Whether the lock keeps log files at least `min_days`.
fn lock_long_enough(state: &str, min_days: u32) -> bool {
    lock_protects(state) && lock_days(state).is_some_and(|days| days >= i64::from(min_days))
}

/// The Object Lock state in `BucketView` form.
fn lock_state(configuration: Option<&ObjectLockConfiguration>) -> String {
    let Some(configuration) = configuration else {
        return "off".to_string();
    };
    if configuration.object_lock_enabled.as_deref() != Some("Enabled") {
        return "off".to_string();
    }
    match &configuration.default_retention {
        Some(retention) => {
            let mode = retention.mode.as_deref().unwrap_or("?");
            // S3 takes Days or Years, each positive; some answers carry the other as 0.
            match (
                retention.days.filter(|d| *d > 0),
                retention.years.filter(|y| *y > 0),
            ) {
                (Some(days), _) => format!("{mode} {days} days"),
                (None, Some(years)) => format!("{mode} {years} years"),
                (None, None) => "enabled without default retention".to_string(),
            }
        }
        None => "enabled without default retention".to_string(),
    }
}

/// Lifecycle rules of a recorded LifecycleConfiguration, in the collected form.
fn rules_of_request(configuration: &Value) -> Vec<LifecycleRule> {
    each(configuration.get("Rule"))
        .into_iter()
        .map(|rule| {
            let filter = rule.get("Filter");
            let and = filter.and_then(|f| f.get("And"));
            let prefix = filter
                .and_then(|f| f.get("Prefix"))
                .or_else(|| and.and_then(|a| a.get("Prefix")))
                .or_else(|| rule.get("Prefix"))
                .and_then(scalar_text);
            let needs_tags = filter.is_some_and(|f| f.get("Tag").is_some())
                || and.is_some_and(|a| a.get("Tag").is_some() || a.get("Tags").is_some());
            let expiration = rule.get("Expiration");
            LifecycleRule {
                id: rule.get("ID").and_then(scalar_text),
                status: rule.get("Status").and_then(scalar_text),
                prefix: prefix.filter(|p| !p.is_empty()),
                needs_tags,
                expiration_days: number(expiration.and_then(|e| e.get("Days"))),
                expiration_date: expiration
                    .and_then(|e| e.get("Date"))
                    .and_then(scalar_text)
                    .and_then(|d| serde_json::from_value::<Timestamp>(Value::String(d)).ok()),
                noncurrent_days: number(
                    rule.get("NoncurrentVersionExpiration")
                        .and_then(|e| e.get("NoncurrentDays")),
                ),
            }
        })
        .collect()
}

/// Why an answer is not known: the failed call, or the read that was not made.
fn failed(api: &str, error: &ApiError) -> String {
    format!(
        "{api} failed with {}{}",
        error.code,
        error
            .message
            .as_deref()
            .filter(|m| !m.is_empty())
            .map(|m| format!(": {m}"))
            .unwrap_or_default()
    )
}

fn read<T, U>(
    answer: Option<&S3Answer<T>>,
    api: &str,
    configured: impl FnOnce(&T) -> Known<U>,
    not_configured: impl FnOnce() -> U,
) -> Known<U> {
    match answer {
        None => Err(format!("{api} was not collected")),
        Some(S3Answer::Configured(value)) => configured(value),
        Some(S3Answer::NotConfigured(_)) => Ok(not_configured()),
        Some(S3Answer::Failed(error)) => Err(failed(api, error)),
    }
}

impl BucketView {
    /// The bucket as collected, with the account's Block Public Access.
    pub fn collected(bucket: &TrailBucketEvidence, buckets: &TrailBuckets) -> BucketView {
        BucketView {
            policy: read(
                bucket.policy.as_ref(),
                "GetBucketPolicy",
                |text| open_statements(&Exposure::of_text_as(text, &BUCKET_POLICY)),
                Vec::new,
            ),
            acl: read(
                bucket.acl.as_ref(),
                "GetBucketAcl",
                |acl: &BucketAcl| Ok(public_grants(&acl.grants)),
                Vec::new,
            ),
            bucket_block: read(
                bucket.public_access_block.as_ref(),
                "GetPublicAccessBlock",
                |b| Ok(*b),
                PublicAccessBlock::default,
            ),
            account_block: read(
                buckets.account_public_access_block.as_ref(),
                "s3control:GetPublicAccessBlock",
                |b| Ok(*b),
                PublicAccessBlock::default,
            ),
            logging: read(
                bucket.logging.as_ref(),
                "GetBucketLogging",
                |_| Ok(true),
                || false,
            ),
            object_lock: read(
                bucket.object_lock.as_ref(),
                "GetObjectLockConfiguration",
                |c| Ok(lock_state(Some(c))),
                || lock_state(None),
            ),
            mfa_delete: read(
                bucket.versioning.as_ref(),
                "GetBucketVersioning",
                |v| Ok(v.mfa_delete.as_deref() == Some("Enabled")),
                || false,
            ),
            lifecycle: read(
                bucket.lifecycle.as_ref(),
                "GetBucketLifecycleConfiguration",
                |rules: &Vec<LifecycleRule>| Ok(rules.clone()),
                Vec::new,
            ),
        }
    }
}

/// A flag of Block Public Access in effect: on at bucket or account level (S3 uses the most
/// restrictive combination, S3 API reference GetPublicAccessBlock). `None`: not known.
fn block_flag(view: &BucketView, flag: impl Fn(&PublicAccessBlock) -> bool) -> Option<bool> {
    let bucket = view.bucket_block.as_ref().ok().map(&flag);
    let account = view.account_block.as_ref().ok().map(&flag);
    match (bucket, account) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// Why a block flag is unknown, for reasons.
fn block_unknown(view: &BucketView) -> String {
    [&view.bucket_block, &view.account_block]
        .into_iter()
        .filter_map(|b| b.as_ref().err().cloned())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether a lifecycle rule deletes the trail's log files before `min_days`, and how.
pub(crate) fn expiring_rule(
    rule: &LifecycleRule,
    log_paths: &[String],
    min_days: u32,
) -> Option<String> {
    if rule.status.as_deref() != Some("Enabled") || rule.needs_tags {
        return None; // Disabled rules act on nothing; CloudTrail writes untagged objects.
    }
    let prefix = rule.prefix.as_deref().unwrap_or("");
    let covered: Vec<&String> = log_paths
        .iter()
        .filter(|path| path.starts_with(prefix) || prefix.starts_with(path.as_str()))
        .collect();
    if covered.is_empty() {
        return None;
    }
    let min = i64::from(min_days);
    let mut how = Vec::new();
    if let Some(days) = rule.expiration_days.filter(|d| *d < min) {
        how.push(format!("expires objects after {days} days"));
    }
    if let Some(date) = rule.expiration_date {
        how.push(format!("expires every object on {}", date.display_utc()));
    }
    if let Some(days) = rule.noncurrent_days.filter(|d| *d < min) {
        how.push(format!("deletes noncurrent versions after {days} days"));
    }
    if how.is_empty() {
        return None;
    }
    Some(format!(
        "lifecycle rule {} (prefix {:?}) {}",
        rule.id
            .as_deref()
            .map_or("without ID".to_string(), |id| format!("\"{id}\"")),
        prefix,
        how.join(" and ")
    ))
}

/// The verdict on one state of a bucket: FAIL naming each failing aspect (with what is
/// unknown), else EVIDENCE_GAP naming what is unknown, else PASS.
pub fn judge(view: &BucketView, log_paths: &[String], min_days: u32) -> (Status, String) {
    let mut failing = Vec::new();
    let mut unknown = Vec::new();
    let mut holding = Vec::new();

    // Public: a public policy is in effect unless RestrictPublicBuckets is on, a public ACL
    // unless IgnorePublicAcls is on (S3 user guide "Blocking public access", block public
    // access settings). BlockPublicPolicy and BlockPublicAcls only refuse new public ones.
    let restrict = block_flag(view, |b| b.restrict_public_buckets);
    let ignore_acls = block_flag(view, |b| b.ignore_public_acls);
    match &view.policy {
        Ok(open) if open.is_empty() => holding.push("no public bucket policy".to_string()),
        Ok(open) => match restrict {
            Some(true) => holding.push(format!(
                "bucket policy {} open to everyone but RestrictPublicBuckets is on",
                open.join(", ")
            )),
            Some(false) => failing.push(format!(
                "the bucket policy opens the bucket to everyone without a limiting condition ({})",
                open.join(", ")
            )),
            None => unknown.push(format!(
                "the bucket policy is open to everyone ({}) and whether RestrictPublicBuckets is on is unknown: {}",
                open.join(", "),
                block_unknown(view)
            )),
        },
        Err(why) => unknown.push(format!("bucket policy unknown: {why}")),
    }
    match &view.acl {
        Ok(grants) if grants.is_empty() => holding.push("no public ACL grant".to_string()),
        Ok(grants) => match ignore_acls {
            Some(true) => holding.push(format!(
                "ACL grants {} but IgnorePublicAcls is on",
                grants.join(", ")
            )),
            Some(false) => failing.push(format!("the bucket ACL grants {}", grants.join(", "))),
            None => unknown.push(format!(
                "the ACL grants {} and whether IgnorePublicAcls is on is unknown: {}",
                grants.join(", "),
                block_unknown(view)
            )),
        },
        Err(why) => unknown.push(format!("bucket ACL unknown: {why}")),
    }
    // CloudTrail.7: server access logging.
    match &view.logging {
        Ok(true) => holding.push("server access logging on".to_string()),
        Ok(false) => failing.push("server access logging is off".to_string()),
        Err(why) => unknown.push(format!("server access logging unknown: {why}")),
    }
    // Log files kept from deletion: Object Lock with a default retention, or MFA delete.
    let locked = view
        .object_lock
        .as_ref()
        .map(|state| lock_long_enough(state, min_days));
    match (&locked, &view.mfa_delete) {
        (Ok(true), _) => holding.push(format!(
            "Object Lock default retention {}",
            view.object_lock.as_deref().unwrap_or_default()
        )),
        (_, Ok(true)) => holding.push("MFA delete on".to_string()),
        (Ok(false), Ok(false)) => {
            let state = view.object_lock.as_deref().unwrap_or_default();
            failing.push(if lock_protects(state) {
                format!(
                    "log files can be deleted before the policy's {min_days} days: Object Lock \
                     default retention {state} is shorter, and MFA delete off"
                )
            } else {
                format!("log files can be deleted: Object Lock {state} and MFA delete off")
            })
        }
        (lock, mfa) => {
            let whys: Vec<&str> = [
                lock.as_ref().err().map(|why| why.as_str()),
                mfa.as_ref().err().map(String::as_str),
            ]
            .into_iter()
            .flatten()
            .collect();
            unknown.push(format!(
                "whether log files can be deleted is unknown: {}",
                whys.join("; ")
            ));
        }
    }
    // Lifecycle rules that expire the trail's log files before the retention.
    match &view.lifecycle {
        Ok(rules) => {
            let expiring: Vec<String> = rules
                .iter()
                .filter_map(|rule| expiring_rule(rule, log_paths, min_days))
                .collect();
            if expiring.is_empty() {
                holding.push(format!(
                    "no lifecycle rule expires the log files before {min_days} days"
                ));
            } else {
                failing.push(format!(
                    "{} (the minimum log retention is {min_days} days)",
                    expiring.join("; ")
                ));
            }
        }
        Err(why) => unknown.push(format!("lifecycle rules unknown: {why}")),
    }

    if !failing.is_empty() {
        let mut reason = failing.join("; ");
        if !unknown.is_empty() {
            reason.push_str(&format!("; also unknown: {}", unknown.join("; ")));
        }
        (Status::Fail, reason)
    } else if !unknown.is_empty() {
        (Status::EvidenceGap, unknown.join("; "))
    } else {
        (Status::Pass, holding.join("; "))
    }
}

/// The short form of each aspect for the bucket table.
fn row(
    account_id: &str,
    bucket: &TrailBucketEvidence,
    view: &BucketView,
    trails: Vec<String>,
    status: Status,
    reason: String,
) -> BucketRow {
    let known = |value: &Known<String>| value.clone().unwrap_or_else(|_| "unknown".to_string());
    let block = |b: &Known<PublicAccessBlock>| {
        known(&b.as_ref().map_err(Clone::clone).map(|b| {
            let on: Vec<&str> = [
                (b.block_public_acls, "BlockPublicAcls"),
                (b.ignore_public_acls, "IgnorePublicAcls"),
                (b.block_public_policy, "BlockPublicPolicy"),
                (b.restrict_public_buckets, "RestrictPublicBuckets"),
            ]
            .into_iter()
            .filter(|(on, _)| *on)
            .map(|(_, name)| name)
            .collect();
            match on.len() {
                4 => "all four on".to_string(),
                0 => "off".to_string(),
                _ => on.join(", "),
            }
        }))
    };
    let list = |value: &Known<Vec<String>>, none: &str| {
        known(&value.as_ref().map_err(Clone::clone).map(|items| {
            if items.is_empty() {
                none.to_string()
            } else {
                format!("PUBLIC: {}", items.join(", "))
            }
        }))
    };
    BucketRow {
        account_id: account_id.to_string(),
        bucket: bucket.name.clone(),
        region: match &bucket.region {
            Some(S3Answer::Configured(region)) => region.clone(),
            _ => "unknown".to_string(),
        },
        trails,
        policy: list(&view.policy, "not public"),
        acl: list(&view.acl, "not public"),
        bucket_block: block(&view.bucket_block),
        account_block: block(&view.account_block),
        access_logging: known(&view.logging.as_ref().map_err(Clone::clone).map(|on| {
            match (on, &bucket.logging) {
                (true, Some(S3Answer::Configured(target))) => format!(
                    "to {}/{}",
                    target.target_bucket.as_deref().unwrap_or("?"),
                    target.target_prefix.as_deref().unwrap_or("")
                ),
                (true, _) => "on".to_string(),
                (false, _) => "off".to_string(),
            }
        })),
        object_lock: known(&view.object_lock),
        mfa_delete: known(
            &view
                .mfa_delete
                .as_ref()
                .map_err(Clone::clone)
                .map(|on| if *on { "Enabled" } else { "off" }.to_string()),
        ),
        lifecycle: known(&view.lifecycle.as_ref().map_err(Clone::clone).map(|rules| {
            let enabled = rules
                .iter()
                .filter(|r| r.status.as_deref() == Some("Enabled"))
                .count();
            format!("{enabled} enabled rule(s)")
        })),
        status,
        reason,
    }
}

/// Where CloudTrail writes a trail's log files in its bucket: `<S3KeyPrefix>/AWSLogs/`, or
/// `AWSLogs/` without a prefix (CloudTrail user guide "Finding your CloudTrail log files").
pub fn log_path(trail: &TrailEvidence) -> String {
    match trail
        .trail
        .extra
        .get("S3KeyPrefix")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
    {
        Some(prefix) => format!("{}/AWSLogs/", prefix.trim_end_matches('/')),
        None => "AWSLogs/".to_string(),
    }
}

/// The trails of an account as the CloudTrail controls count them, with the owner account of
/// each (an organization trail of another account names it).
pub struct CountedTrail<'a> {
    pub trail: &'a TrailEvidence,
    pub label: String,
    pub owner: String,
}

fn finding(account_id: &str, resource: &str, status: Status, reason: String) -> Finding {
    Finding::new(
        CLOUDTRAIL_BUCKET_PROTECTION,
        account_id,
        ALL_REGIONS,
        resource,
        None,
        status,
        reason,
    )
}

/// `arn:aws:s3:::<bucket>`: how results name a bucket.
pub fn bucket_arn(name: &str) -> String {
    format!("arn:aws:s3:::{name}")
}

/// The history of one bucket: the events of every collected region of the account that name
/// it, with the account's Block Public Access changes; trusted as far as the events of the
/// bucket's own region reach (S3 records a bucket's management events in its region).
fn bucket_history(
    account_id: &str,
    bucket: &str,
    region: Option<&str>,
    histories: &BTreeMap<(String, String), RegionHistory>,
) -> (History, Coverage) {
    let mut history = History::default();
    for ((account, _), region_history) in histories {
        if account != account_id {
            continue;
        }
        for key in [bucket, ""] {
            if let Some(effects) = region_history.buckets.get(key) {
                history.effects.extend(effects.iter().cloned());
            }
        }
    }
    history
        .effects
        .sort_by(|a, b| (a.event.at, &a.event.id).cmp(&(b.event.at, &b.event.id)));
    history.effects.dedup();
    let coverage = match region {
        None => Coverage::Missing(
            "the bucket's region is not known (GetBucketLocation), so where its change events are recorded is not known".to_string(),
        ),
        Some(region) => match histories.get(&(account_id.to_string(), region.to_string())) {
            Some(h) => h.coverage_of(super::events::S3),
            None => Coverage::Missing(format!(
                "the bucket's region {region} was not collected: its change events are recorded there"
            )),
        },
    };
    (history, coverage)
}

/// What delivers to one bucket: the counted trails, where their log files go, their owners.
#[derive(Default)]
struct Deliveries {
    trails: Vec<String>,
    log_paths: Vec<String>,
    owners: Vec<String>,
}

/// `cloudtrail-bucket-protection` for one account: one result per bucket its counted trails
/// deliver to. `trails_incomplete` says why other trails may exist (their buckets are then
/// unknown); `None` when the trail lists are complete.
pub fn evaluate_account(
    account_id: &str,
    counted: &[CountedTrail],
    trails_incomplete: Option<String>,
    snapshot: &EvidenceSnapshot,
    histories: &BTreeMap<(String, String), RegionHistory>,
    out: &mut Evaluation,
) {
    let min_days = snapshot.policy.min_log_retention_days();
    let collected = snapshot
        .accounts
        .iter()
        .find(|a| a.account_id == account_id)
        .and_then(|a| a.trail_buckets.as_ref());
    let mut by_bucket: BTreeMap<String, Deliveries> = BTreeMap::new();
    for trail in counted {
        match trail
            .trail
            .trail
            .s3_bucket_name
            .as_deref()
            .filter(|b| !b.is_empty())
        {
            Some(bucket) => {
                let entry = by_bucket.entry(bucket.to_string()).or_default();
                entry.trails.push(trail.label.clone());
                entry.log_paths.push(log_path(trail.trail));
                entry.owners.push(trail.owner.clone());
            }
            None => out.findings.push(finding(
                account_id,
                &trail.label,
                Status::EvidenceGap,
                "DescribeTrails did not report the trail's S3BucketName".to_string(),
            )),
        }
    }
    if let Some(why) = &trails_incomplete {
        out.findings.push(finding(
            account_id,
            "(account)",
            Status::EvidenceGap,
            format!("other trails, and their buckets, may exist that could not be listed: {why}"),
        ));
    } else if counted.is_empty() {
        out.findings.push(finding(
            account_id,
            "(account)",
            Status::NoResources,
            "no trails (see cloudtrail-multi-region)".to_string(),
        ));
    }
    for (name, deliveries) in by_bucket {
        let Deliveries {
            mut trails,
            mut log_paths,
            owners,
        } = deliveries;
        trails.sort();
        trails.dedup();
        log_paths.sort();
        log_paths.dedup();
        let resource = bucket_arn(&name);
        let Some(buckets) = collected else {
            out.findings.push(finding(
                account_id,
                &resource,
                Status::EvidenceGap,
                "the trail buckets' S3 settings were not collected (a snapshot from before cloudtrail-bucket-protection, or S3 collection did not run)".to_string(),
            ));
            continue;
        };
        let Some(bucket) = buckets.buckets.iter().find(|b| b.name == name) else {
            out.findings.push(finding(
                account_id,
                &resource,
                Status::EvidenceGap,
                format!("bucket {name} was not collected"),
            ));
            continue;
        };
        let other_owner = owners.iter().find(|o| o.as_str() != account_id).cloned();
        let view = BucketView::collected(bucket, buckets);
        let region = match &bucket.region {
            Some(S3Answer::Configured(region)) => Some(region.as_str()),
            _ => None,
        };
        let (history, coverage) = bucket_history(account_id, &name, region, histories);
        let replay = Replay {
            period: &snapshot.period,
            until: snapshot.collected_at,
            coverage,
        };
        let denied = denied_everywhere(bucket);
        let mut collected_status = None;
        let findings = replay.judge(
            Some(&view),
            Value::Null,
            &history,
            |state: &BucketView, out: &mut Evaluation| {
                let (status, reason) = if denied {
                    (
                        Status::EvidenceGap,
                        denied_reason(&name, account_id, other_owner.as_deref(), bucket),
                    )
                } else {
                    judge(state, &log_paths, min_days)
                };
                if collected_status.is_none() {
                    collected_status = Some((status, reason.clone()));
                }
                out.findings.push(
                    finding(account_id, &resource, status, reason)
                        .with_remediation(fix(&name, region, state, &log_paths, min_days)),
                );
            },
            |why| {
                vec![finding(
                    account_id,
                    &resource,
                    Status::EvidenceGap,
                    why.to_string(),
                )]
            },
            out,
        );
        let (status, reason) = findings
            .first()
            .map(|f| (f.status, f.reason.clone()))
            .or(collected_status)
            .unwrap_or((Status::EvidenceGap, String::new()));
        out.buckets
            .push(row(account_id, bucket, &view, trails, status, reason));
    }
}

/// Every read of the bucket was refused: it belongs to another account (an organization's
/// central logging bucket) or denies this account's role.
fn denied_everywhere(bucket: &TrailBucketEvidence) -> bool {
    let answers: Vec<Option<&ApiError>> = vec![
        failure_of(bucket.policy.as_ref()),
        failure_of(bucket.acl.as_ref()),
        failure_of(bucket.logging.as_ref()),
        failure_of(bucket.lifecycle.as_ref()),
    ];
    answers.iter().all(|a| {
        a.is_some_and(|e| e.code.contains("AccessDenied") || e.code == "AllAccessDisabled")
    })
}

fn failure_of<T>(answer: Option<&S3Answer<T>>) -> Option<&ApiError> {
    match answer {
        Some(S3Answer::Failed(error)) => Some(error),
        _ => None,
    }
}

fn denied_reason(
    bucket: &str,
    account_id: &str,
    other_owner: Option<&str>,
    evidence: &TrailBucketEvidence,
) -> String {
    let owner = match other_owner {
        Some(owner) => format!(
            "it is the bucket of an organization trail of account {owner}, likely in that account or a central logging account"
        ),
        None => "it is likely in another account (central logging) or its policy denies this account's role".to_string(),
    };
    let code = failure_of(evidence.policy.as_ref())
        .map(|e| e.code.clone())
        .unwrap_or_default();
    format!(
        "bucket {bucket} could not be read with account {account_id}'s credentials ({code} on every call): {owner}; collect the evidence in the account that owns the bucket"
    )
}

/// The commands that close each failing aspect, in the bucket's region.
fn fix(
    bucket: &str,
    region: Option<&str>,
    view: &BucketView,
    log_paths: &[String],
    min_days: u32,
) -> String {
    let region = region.unwrap_or("<bucket-region>");
    let mut steps = Vec::new();
    if view.policy.as_ref().is_ok_and(|open| !open.is_empty())
        || view.acl.as_ref().is_ok_and(|grants| !grants.is_empty())
    {
        steps.push(remediation::s3_block_public_access(bucket, region));
    }
    if view.logging == Ok(false) {
        steps.push(remediation::s3_access_logging(bucket, region));
    }
    let locked = view
        .object_lock
        .as_ref()
        .is_ok_and(|s| lock_long_enough(s, min_days));
    if !locked && view.mfa_delete != Ok(true) {
        steps.push(remediation::s3_object_lock_retention(
            bucket, region, min_days,
        ));
    }
    if let Ok(rules) = &view.lifecycle
        && rules
            .iter()
            .any(|r| expiring_rule(r, log_paths, min_days).is_some())
    {
        steps.push(remediation::s3_lifecycle_review(bucket, region, min_days));
    }
    if steps.is_empty() {
        return String::new();
    }
    format!("On {} ({region}): {}", bucket_arn(bucket), steps.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{BucketVersioning, DefaultRetention, LoggingEnabled};

    fn protected() -> BucketView {
        BucketView {
            policy: Ok(vec![]),
            acl: Ok(vec![]),
            bucket_block: Ok(PublicAccessBlock {
                block_public_acls: true,
                ignore_public_acls: true,
                block_public_policy: true,
                restrict_public_buckets: true,
            }),
            account_block: Ok(PublicAccessBlock::default()),
            logging: Ok(true),
            object_lock: Ok("COMPLIANCE 400 days".to_string()),
            mfa_delete: Ok(false),
            lifecycle: Ok(vec![]),
        }
    }

    fn paths() -> Vec<String> {
        vec!["AWSLogs/".to_string()]
    }

    fn rule(prefix: Option<&str>, days: Option<i64>) -> LifecycleRule {
        LifecycleRule {
            id: Some("r".to_string()),
            status: Some("Enabled".to_string()),
            prefix: prefix.map(str::to_string),
            needs_tags: false,
            expiration_days: days,
            expiration_date: None,
            noncurrent_days: None,
        }
    }

    #[test]
    fn a_protected_bucket_passes_naming_what_holds() {
        let (status, reason) = judge(&protected(), &paths(), 365);
        assert_eq!(status, Status::Pass, "{reason}");
        assert!(reason.contains("COMPLIANCE 400 days"), "{reason}");
    }

    #[test]
    fn a_public_policy_fails_unless_restrict_public_buckets_is_on() {
        let mut view = protected();
        view.policy = Ok(vec!["statement \"Open\"".to_string()]);
        assert_eq!(judge(&view, &paths(), 365).0, Status::Pass);
        view.bucket_block = Ok(PublicAccessBlock::default());
        let (status, reason) = judge(&view, &paths(), 365);
        assert_eq!(status, Status::Fail);
        assert!(reason.contains("statement \"Open\""), "{reason}");
        // The account's flag is enough.
        view.account_block = Ok(PublicAccessBlock {
            restrict_public_buckets: true,
            ..PublicAccessBlock::default()
        });
        assert_eq!(judge(&view, &paths(), 365).0, Status::Pass);
        // Unknown flags leave an open policy unknown, never PASS.
        view.account_block = Err("s3control:GetPublicAccessBlock failed with AccessDenied".into());
        assert_eq!(judge(&view, &paths(), 365).0, Status::EvidenceGap);
    }

    #[test]
    fn a_public_acl_fails_unless_ignore_public_acls_is_on() {
        let mut view = protected();
        view.acl = Ok(vec!["AllUsers:READ".to_string()]);
        assert_eq!(judge(&view, &paths(), 365).0, Status::Pass);
        view.bucket_block = Ok(PublicAccessBlock {
            block_public_acls: true,
            ..PublicAccessBlock::default()
        });
        let (status, reason) = judge(&view, &paths(), 365);
        assert_eq!(status, Status::Fail);
        assert!(reason.contains("AllUsers:READ"));
    }

    #[test]
    fn logging_off_and_no_deletion_protection_fail_each_named() {
        let mut view = protected();
        view.logging = Ok(false);
        view.object_lock = Ok("enabled without default retention".to_string());
        let (status, reason) = judge(&view, &paths(), 365);
        assert_eq!(status, Status::Fail);
        assert!(reason.contains("server access logging is off"), "{reason}");
        assert!(reason.contains("log files can be deleted"), "{reason}");
        view.logging = Ok(true);
        view.mfa_delete = Ok(true);
        assert_eq!(judge(&view, &paths(), 365).0, Status::Pass);
    }

    #[test]
    fn lifecycle_rules_covering_the_log_path_fail_below_the_retention() {
        let mut view = protected();
        view.lifecycle = Ok(vec![rule(None, Some(90))]);
        let (status, reason) = judge(&view, &paths(), 365);
        assert_eq!(status, Status::Fail);
        assert!(reason.contains("after 90 days"), "{reason}");
        // Long enough, another prefix, tag-filtered or disabled: no effect.
        for harmless in [
            rule(None, Some(400)),
            rule(Some("other/"), Some(1)),
            LifecycleRule {
                needs_tags: true,
                ..rule(None, Some(1))
            },
            LifecycleRule {
                status: Some("Disabled".into()),
                ..rule(None, Some(1))
            },
        ] {
            view.lifecycle = Ok(vec![harmless.clone()]);
            assert_eq!(judge(&view, &paths(), 365).0, Status::Pass, "{harmless:?}");
        }
        // A deeper prefix still deletes the trail's files; noncurrent versions count too.
        view.lifecycle = Ok(vec![rule(Some("AWSLogs/111111111111/"), Some(30))]);
        assert_eq!(judge(&view, &paths(), 365).0, Status::Fail);
        view.lifecycle = Ok(vec![LifecycleRule {
            noncurrent_days: Some(7),
            ..rule(None, None)
        }]);
        assert_eq!(judge(&view, &paths(), 365).0, Status::Fail);
    }

    #[test]
    fn unknown_aspects_are_a_gap_but_a_known_failure_still_fails() {
        let mut view = protected();
        view.lifecycle = Err("GetBucketLifecycleConfiguration failed with AccessDenied".into());
        let (status, reason) = judge(&view, &paths(), 365);
        assert_eq!(status, Status::EvidenceGap);
        assert!(reason.contains("AccessDenied"));
        view.logging = Ok(false);
        let (status, reason) = judge(&view, &paths(), 365);
        assert_eq!(status, Status::Fail);
        assert!(reason.contains("also unknown"), "{reason}");
    }

    #[test]
    fn collected_answers_read_not_configured_as_off_and_failures_as_unknown() {
        let bucket = TrailBucketEvidence {
            name: "b".into(),
            region: Some(S3Answer::Configured("eu-west-1".into())),
            policy: Some(S3Answer::NotConfigured("NoSuchBucketPolicy".into())),
            acl: Some(S3Answer::Configured(BucketAcl {
                owner_id: None,
                grants: vec![AclGrant {
                    grantee_type: Some("Group".into()),
                    uri: Some(PUBLIC_GROUPS[0].0.into()),
                    id: None,
                    permission: Some("READ".into()),
                }],
            })),
            public_access_block: Some(S3Answer::NotConfigured(
                "NoSuchPublicAccessBlockConfiguration".into(),
            )),
            logging: Some(S3Answer::Configured(LoggingEnabled {
                target_bucket: Some("logs".into()),
                target_prefix: None,
            })),
            object_lock: Some(S3Answer::Configured(ObjectLockConfiguration {
                object_lock_enabled: Some("Enabled".into()),
                default_retention: Some(DefaultRetention {
                    mode: Some("GOVERNANCE".into()),
                    days: None,
                    years: Some(2),
                }),
            })),
            versioning: Some(S3Answer::Configured(BucketVersioning {
                status: Some("Enabled".into()),
                mfa_delete: None,
            })),
            lifecycle: Some(S3Answer::Failed(ApiError {
                code: "AccessDenied".into(),
                message: None,
            })),
            extra: Default::default(),
        };
        let buckets = TrailBuckets {
            account_public_access_block: None,
            buckets: vec![],
            extra: Default::default(),
        };
        let view = BucketView::collected(&bucket, &buckets);
        assert_eq!(view.policy, Ok(vec![]));
        assert_eq!(view.acl, Ok(vec!["AllUsers:READ".to_string()]));
        assert_eq!(view.bucket_block, Ok(PublicAccessBlock::default()));
        assert!(view.account_block.is_err());
        assert_eq!(view.object_lock, Ok("GOVERNANCE 2 years".to_string()));
        assert_eq!(view.mfa_delete, Ok(false));
        assert!(
            view.lifecycle
                .as_ref()
                .is_err_and(|e| e.contains("AccessDenied"))
        );
    }

    #[test]
    fn change_events_are_read_into_the_view_form() {
        let policy = json!({"bucketName": "b", "bucketPolicy": {"Version": "2012-10-17",
            "Statement": [{"Sid": "Open", "Effect": "Allow", "Principal": "*",
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}});
        let change = bucket_change("PutBucketPolicy", Some(&policy)).unwrap();
        assert_eq!(change.bucket.as_deref(), Some("b"));
        assert_eq!(change.value, Ok(json!(["statement \"Open\""])));
        let no_body = bucket_change("PutBucketPolicy", Some(&json!({"bucketName": "b"}))).unwrap();
        assert!(no_body.value.is_err());
        let logging_off = json!({"bucketName": "b", "BucketLoggingStatus": {"xmlns": "x"}});
        assert_eq!(
            bucket_change("PutBucketLogging", Some(&logging_off))
                .unwrap()
                .value,
            Ok(json!(false))
        );
        let acl = json!({"bucketName": "b", "x-amz-acl": ["public-read"]});
        assert_eq!(
            bucket_change("PutBucketAcl", Some(&acl)).unwrap().value,
            Ok(json!(["AllUsers:READ"]))
        );
        let block = json!({"PublicAccessBlockConfiguration": {"RestrictPublicBuckets": "true",
            "BlockPublicPolicy": false}});
        let account = bucket_change("PutAccountPublicAccessBlock", Some(&block)).unwrap();
        assert_eq!(account.bucket, None);
        assert_eq!(account.value.unwrap()["RestrictPublicBuckets"], json!(true));
        let lifecycle = json!({"bucketName": "b", "LifecycleConfiguration": {"Rule":
            {"ID": "short", "Status": "Enabled", "Filter": {"Prefix": ""},
             "Expiration": {"Days": "90"}}}});
        let rules = bucket_change("PutBucketLifecycle", Some(&lifecycle))
            .unwrap()
            .value
            .unwrap();
        assert_eq!(rules[0]["ExpirationDays"], json!(90));
        assert_eq!(rules[0].get("Prefix"), None);
        let versioning =
            json!({"bucketName": "b", "VersioningConfiguration": {"Status": "Enabled"}});
        assert_eq!(
            bucket_change("PutBucketVersioning", Some(&versioning)),
            None
        );
        assert_eq!(bucket_change("PutBucketTagging", Some(&versioning)), None);
    }
}
