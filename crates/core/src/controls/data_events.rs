//! `cloudtrail-s3-data-events`: the S3 buckets the policy lists as holding GxP records have
//! their object-level (data) events, read and write, logged by a trail of the account that
//! owns them at every moment of the period (AWS Config `cloudtrail-s3-dataevents-enabled` with
//! `S3BucketNames`; Security Hub S3.22 and S3.23 for write and read events). Owns the reading
//! of classic and advanced event selectors for one bucket, and the rows of the control; the
//! trails' versions come from the CloudTrail evaluation (`cloudtrail`).

use serde::{Deserialize, Serialize};

use super::catalog::CLOUDTRAIL_S3_DATA_EVENTS;
use super::cloudtrail::{Holds, Interval, JudgedTrail, Span, Sweep, TrailSettings, sweep};
use super::{ALL_REGIONS, Finding, Status, remediation};
use crate::evidence::{
    AccountEvidence, AdvancedEventSelector, EventSelector, EventSelectors, EvidenceSnapshot,
    FieldSelector, S3Bucket,
};

/// How much of one bucket's data events a selector (or a trail's selectors) logs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Reach {
    /// None of them.
    Nothing,
    /// Only some objects or some events; the text says which limit.
    Part(String),
    /// The selectors cannot be read with certainty; the text says why.
    Unknown(String),
    /// Every object of the bucket, every event of the kind.
    All,
}

impl Reach {
    /// The wider of two readings (selectors are alternatives: an event logged by one is logged).
    fn or(self, other: Reach) -> Reach {
        self.max(other)
    }
}

/// What a trail's selectors log of one bucket: read and write data events apart.
#[derive(Debug, Clone, PartialEq)]
struct Logged {
    read: Reach,
    write: Reach,
}

/// The data-event part of a trail's selectors, in one canonical form so that the selectors a
/// PutEventSelectors record set compare equal to those GetEventSelectors returns (names, the
/// trail ARN, management selectors and order left out). The period rule replays it in
/// `TrailSettings::data_events`; a value it could not rebuild (an empty object) is unknown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataEventSelection {
    /// Always true when read from selectors; false (absent) in a value the replay marked unknown.
    #[serde(default)]
    pub known: bool,
    /// Classic selectors with data resources: `ReadWriteType` (default `All`) and `DataResources`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classic: Vec<EventSelector>,
    /// Advanced selectors other than those selecting management events only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advanced: Vec<AdvancedEventSelector>,
}

impl DataEventSelection {
    pub fn of(selectors: &EventSelectors) -> Self {
        let mut classic: Vec<EventSelector> = selectors
            .event_selectors
            .iter()
            .flatten()
            .filter_map(|selector| {
                let resources = selector.extra.get("DataResources")?;
                if resources.as_array().is_some_and(Vec::is_empty) {
                    return None;
                }
                let mut extra = crate::evidence::Extra::new();
                extra.insert("DataResources".to_string(), sorted_json(resources));
                Some(EventSelector {
                    read_write_type: Some(
                        selector
                            .read_write_type
                            .clone()
                            .unwrap_or_else(|| "All".to_string()),
                    ),
                    include_management_events: None,
                    exclude_management_event_sources: Vec::new(),
                    extra,
                })
            })
            .collect();
        classic.sort_by_key(|s| serde_json::to_string(s).unwrap_or_default());
        let mut advanced: Vec<AdvancedEventSelector> = selectors
            .advanced_event_selectors
            .iter()
            .flatten()
            .filter(|selector| !management_only(selector))
            .map(|selector| {
                let mut fields: Vec<FieldSelector> = selector
                    .field_selectors
                    .iter()
                    .map(|field| {
                        let sorted = |values: &[String]| {
                            let mut values = values.to_vec();
                            values.sort();
                            values
                        };
                        FieldSelector {
                            field: field.field.clone(),
                            equals: sorted(&field.equals),
                            not_equals: sorted(&field.not_equals),
                            starts_with: sorted(&field.starts_with),
                            not_starts_with: sorted(&field.not_starts_with),
                            extra: field
                                .extra
                                .iter()
                                .map(|(k, v)| (k.clone(), sorted_json(v)))
                                .collect(),
                        }
                    })
                    .collect();
                fields.sort_by(|a, b| a.field.cmp(&b.field));
                AdvancedEventSelector {
                    name: None,
                    field_selectors: fields,
                    extra: Default::default(),
                }
            })
            .collect();
        advanced.sort_by_key(|s| serde_json::to_string(s).unwrap_or_default());
        DataEventSelection {
            known: true,
            classic,
            advanced,
        }
    }
}

/// An advanced selector whose `eventCategory` is `Management` only: it selects no data events.
fn management_only(selector: &AdvancedEventSelector) -> bool {
    selector.field_selectors.iter().any(|f| {
        f.field == "eventCategory" && f.equals == ["Management"] && f.not_equals.is_empty()
    })
}

/// A JSON value with every array of strings sorted (selector values are sets).
fn sorted_json(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Array(items) => {
            let mut items: Vec<serde_json::Value> = items.iter().map(sorted_json).collect();
            items.sort_by_key(|v| v.to_string());
            serde_json::Value::Array(items)
        }
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), sorted_json(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A classic selector's `DataResources` entry (kept raw in the snapshot).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DataResource {
    #[serde(default)]
    r#type: String,
    #[serde(default)]
    values: Vec<String>,
}

const S3_OBJECT: &str = "AWS::S3::Object";

/// The part of an S3 ARN after `arn:<partition>:s3:::`, or `None` when the value is not one.
/// `arn:<partition>:s3` alone (every bucket, current and future) reads as the empty path.
fn s3_path(value: &str) -> Option<&str> {
    let rest = value.strip_prefix("arn:")?;
    let (_partition, service_and_path) = rest.split_once(':')?;
    if service_and_path == "s3" {
        return Some("");
    }
    service_and_path.strip_prefix("s3:::")
}

/// How much of `bucket` a classic `DataResources` value selects. The CloudTrail API Reference
/// (DataResource) documents `arn:aws:s3` (all buckets), `arn:aws:s3:::bucket/` (all objects of
/// one bucket) and `arn:aws:s3:::bucket/prefix` (the objects under a prefix).
fn classic_value_reach(value: &str, bucket: &str) -> Reach {
    let Some(path) = s3_path(value) else {
        return Reach::Nothing;
    };
    let whole = format!("{bucket}/");
    if path.is_empty() || path == whole {
        Reach::All
    } else if let Some(prefix) = path.strip_prefix(&whole) {
        Reach::Part(format!(
            "only objects under the prefix {prefix:?} ({value})"
        ))
    } else if whole.starts_with(path) {
        Reach::Unknown(format!(
            "the value {value} is neither a bucket ARN ending in '/' nor arn:aws:s3; whether it selects this bucket is not documented"
        ))
    } else {
        Reach::Nothing
    }
}

fn classic_reach(selectors: &[EventSelector], bucket: &str) -> Logged {
    let mut logged = Logged {
        read: Reach::Nothing,
        write: Reach::Nothing,
    };
    for selector in selectors {
        let resources: Vec<DataResource> = match selector.extra.get("DataResources") {
            None => Vec::new(),
            Some(raw) => match serde_json::from_value(raw.clone()) {
                Ok(resources) => resources,
                Err(err) => {
                    let why = Reach::Unknown(format!("DataResources cannot be read: {err}"));
                    logged.read = logged.read.or(why.clone());
                    logged.write = logged.write.or(why);
                    continue;
                }
            },
        };
        let reach = resources
            .iter()
            .filter(|r| r.r#type == S3_OBJECT)
            .flat_map(|r| &r.values)
            .map(|value| classic_value_reach(value, bucket))
            .fold(Reach::Nothing, Reach::or);
        // ReadWriteType defaults to All (CloudTrail API Reference, EventSelector).
        let (read, write) = match selector.read_write_type.as_deref().unwrap_or("All") {
            "All" => (true, true),
            "ReadOnly" => (true, false),
            "WriteOnly" => (false, true),
            other => {
                let why = Reach::Unknown(format!("ReadWriteType {other:?} is not documented"));
                logged.read = logged.read.or(why.clone());
                logged.write = logged.write.or(why);
                continue;
            }
        };
        if read {
            logged.read = logged.read.or(reach.clone());
        }
        if write {
            logged.write = logged.write.or(reach);
        }
    }
    logged
}

/// How much of `bucket` an advanced selector's `resources.ARN` conditions select. Positive
/// conditions (`Equals`, `StartsWith`) are alternatives; negative ones (`NotEquals`,
/// `NotStartsWith`) and `EndsWith` / `NotEndsWith` each narrow what is logged.
fn arn_reach(selector: &AdvancedEventSelector, bucket: &str) -> Reach {
    let whole = format!("{bucket}/");
    let conditions: Vec<_> = selector
        .field_selectors
        .iter()
        .filter(|f| f.field == "resources.ARN")
        .collect();
    let mut reach = Reach::All;
    for condition in conditions {
        if !condition.equals.is_empty() || !condition.starts_with.is_empty() {
            let mut positive = Reach::Nothing;
            for value in &condition.starts_with {
                positive = positive.or(match s3_path(value) {
                    Some(path) if whole.starts_with(path) => Reach::All,
                    Some(path) if path.starts_with(&whole) => {
                        Reach::Part(format!("only objects whose ARN starts with {value}"))
                    }
                    _ => Reach::Nothing,
                });
            }
            for value in &condition.equals {
                positive = positive.or(match s3_path(value) {
                    Some(path) if path.starts_with(&whole) => {
                        Reach::Part(format!("only the object {value}"))
                    }
                    _ => Reach::Nothing,
                });
            }
            reach = reach.min(positive);
        }
        for value in &condition.not_starts_with {
            reach = reach.min(match s3_path(value) {
                Some(path) if whole.starts_with(path) => Reach::Nothing,
                Some(path) if path.starts_with(&whole) => Reach::Part(format!(
                    "objects whose ARN starts with {value} are excluded"
                )),
                _ => Reach::All,
            });
        }
        for value in &condition.not_equals {
            if s3_path(value).is_some_and(|path| path.starts_with(&whole)) {
                reach = reach.min(Reach::Part(format!("the object {value} is excluded")));
            }
        }
        for limit in ["EndsWith", "NotEndsWith"] {
            if condition.extra.contains_key(limit) {
                reach = reach.min(Reach::Part(format!(
                    "resources.ARN {limit} limits the objects logged"
                )));
            }
        }
    }
    reach
}

/// One advanced selector: it logs S3 object data events when `eventCategory` equals `Data`
/// and `resources.type` equals `AWS::S3::Object` (CloudTrail API Reference,
/// AdvancedFieldSelector); `readOnly` splits reads from writes; any other field narrows the
/// events logged, so the bucket is then logged only in part.
fn advanced_reach(selector: &AdvancedEventSelector, bucket: &str) -> Logged {
    let field = |name: &str| selector.field_selectors.iter().find(|f| f.field == name);
    let none = Logged {
        read: Reach::Nothing,
        write: Reach::Nothing,
    };
    let equals = |name: &str, value: &str| {
        field(name).is_some_and(|f| f.equals.iter().any(|v| v == value) && f.not_equals.is_empty())
    };
    if !equals("eventCategory", "Data") || !equals("resources.type", S3_OBJECT) {
        return none;
    }
    let mut reach = arn_reach(selector, bucket);
    let others: Vec<&str> = selector
        .field_selectors
        .iter()
        .map(|f| f.field.as_str())
        .filter(|name| {
            !matches!(
                *name,
                "eventCategory" | "resources.type" | "resources.ARN" | "readOnly"
            )
        })
        .collect();
    if !others.is_empty() {
        reach = reach.min(Reach::Part(format!(
            "the selector also filters on {}",
            others.join(", ")
        )));
    }
    let (read, write) = match field("readOnly") {
        None => (true, true),
        Some(f) => match (f.equals.as_slice(), f.not_equals.as_slice()) {
            ([value], []) if value == "true" => (true, false),
            ([value], []) if value == "false" => (false, true),
            ([], [value]) if value == "true" => (false, true),
            ([], [value]) if value == "false" => (true, false),
            _ => {
                let why = Reach::Unknown("the readOnly condition cannot be read".to_string());
                return Logged {
                    read: why.clone(),
                    write: why,
                };
            }
        },
    };
    Logged {
        read: if read { reach.clone() } else { Reach::Nothing },
        write: if write { reach } else { Reach::Nothing },
    }
}

/// What a trail's selectors log of `bucket`: classic and advanced selectors are exclusive
/// (PutEventSelectors takes one or the other), both are read.
fn logged(selection: &DataEventSelection, bucket: &str) -> Logged {
    let mut logged = classic_reach(&selection.classic, bucket);
    for selector in &selection.advanced {
        let one = advanced_reach(selector, bucket);
        logged.read = logged.read.or(one.read);
        logged.write = logged.write.or(one.write);
    }
    logged
}

/// What a PutEventSelectors request leaves unlogged of the policy's GxP buckets, one text per
/// bucket (empty when the policy lists none, or the request logs them all, or names no
/// selectors: that case is classified by its management events already).
pub(crate) fn gxp_bucket_shortfalls(
    params: Option<&serde_json::Value>,
    policy: &crate::evidence::Policy,
) -> Vec<String> {
    if policy.gxp_buckets.is_empty() {
        return Vec::new();
    }
    let Some(selection) = super::cloudtrail::data_events_from_request(params)
        .and_then(|value| serde_json::from_value::<DataEventSelection>(value).ok())
    else {
        return Vec::new();
    };
    policy
        .gxp_buckets
        .iter()
        .filter_map(|bucket| {
            let logged = logged(&selection, bucket);
            let describe = |reach: &Reach| match reach {
                Reach::All => None,
                Reach::Nothing => Some("not selected".to_string()),
                Reach::Part(why) => Some(format!("selected only in part ({why})")),
                Reach::Unknown(why) => Some(format!("possibly not selected ({why})")),
            };
            let parts = match (describe(&logged.read), describe(&logged.write)) {
                (None, None) => return None,
                (Some(read), Some(write)) if read == write => {
                    vec![format!("read and write data events {read}")]
                }
                (read, write) => [("read", read), ("write", write)]
                    .into_iter()
                    .filter_map(|(kind, what)| what.map(|w| format!("{kind} data events {w}")))
                    .collect(),
            };
            Some(format!("GxP bucket {bucket}: {}", parts.join(", ")))
        })
        .collect()
}

/// A GxP bucket found in the account's ListBuckets.
struct OwnedBucket<'b> {
    name: &'b str,
    region: Option<&'b str>,
}

/// Whether one version of a trail logs the bucket's read (`read`) or write data events: the
/// trail must be logging, cover the bucket's region (a single-region trail records its own
/// region only: CloudTrail user guide, "Working with CloudTrail trails") and select the whole
/// bucket for that kind of event.
fn judge(settings: &TrailSettings, home: &str, bucket: &OwnedBucket, read: bool) -> Holds {
    if settings.is_logging == Some(false) {
        return Holds::No("not logging".to_string());
    }
    let mut unknown = Vec::new();
    match (settings.multi_region, bucket.region) {
        (Some(true), _) => {}
        (_, Some(region)) if region == home => {}
        (Some(false), Some(region)) => {
            return Holds::No(format!(
                "single-region trail of {home}; the bucket is in {region}"
            ));
        }
        (Some(false), None) => unknown.push(format!(
            "single-region trail of {home}; the bucket's region is not in the evidence"
        )),
        (None, _) => unknown.push("IsMultiRegionTrail unknown".to_string()),
    }
    if settings.is_logging.is_none() {
        unknown.push("IsLogging unknown".to_string());
    }
    match settings
        .data_events
        .as_ref()
        .filter(|selection| selection.known)
    {
        None => unknown.push("event selectors unknown".to_string()),
        Some(selection) => {
            let logged = logged(selection, bucket.name);
            match if read { logged.read } else { logged.write } {
                Reach::All => {}
                Reach::Nothing => return Holds::No("not selected".to_string()),
                Reach::Part(why) => return Holds::No(format!("selected only in part: {why}")),
                Reach::Unknown(why) => unknown.push(why),
            }
        }
    }
    if unknown.is_empty() {
        Holds::Yes
    } else {
        Holds::Unknown(unknown.join("; "))
    }
}

fn finding(
    account_id: &str,
    region: &str,
    resource: &str,
    status: Status,
    reason: String,
) -> Finding {
    Finding::new(
        CLOUDTRAIL_S3_DATA_EVENTS,
        account_id,
        region,
        resource,
        None,
        status,
        reason,
    )
}

/// The rows of one account: one per GxP bucket it owns; a bucket no account of the scope owns
/// is a gap in the scope's first account; an account without a bucket list is a gap.
pub(super) fn account_findings(
    account_id: &str,
    judged: &[JudgedTrail],
    snapshot: &EvidenceSnapshot,
    incomplete: Option<String>,
) -> Vec<Finding> {
    // Bucket names (the loader refuses anything else).
    let listed: Vec<&str> = snapshot
        .policy
        .gxp_buckets
        .iter()
        .map(String::as_str)
        .collect();
    let account = snapshot
        .accounts
        .iter()
        .find(|a| a.account_id == account_id);
    if account.is_none() {
        let gaps: Vec<_> = snapshot
            .gaps
            .iter()
            .filter(|g| g.account_id == account_id)
            .collect();
        let reason = if gaps.is_empty() {
            "the snapshot holds no evidence of this account".to_string()
        } else {
            format!(
                "the snapshot holds no evidence of this account: {}",
                super::describe_gaps(&gaps)
            )
        };
        return vec![finding(
            account_id,
            ALL_REGIONS,
            "(account)",
            Status::EvidenceGap,
            reason,
        )];
    }
    if listed.is_empty() {
        return vec![finding(
            account_id,
            ALL_REGIONS,
            "(account)",
            Status::NoResources,
            "the policy lists no GxP buckets (--gxp-buckets, [policy] gxp_buckets)".to_string(),
        )];
    }
    let Some(buckets) = account.and_then(|a| a.s3_buckets.as_ref()) else {
        return vec![finding(
            account_id,
            ALL_REGIONS,
            "(account)",
            Status::EvidenceGap,
            format!(
                "{}: which of the GxP buckets ({}) this account owns is unknown",
                bucket_list_gap(account_id, snapshot),
                listed.join(", ")
            ),
        )];
    };
    let mut findings = Vec::new();
    for name in &listed {
        if let Some(bucket) = buckets.iter().find(|b| b.name == *name) {
            findings.push(bucket_finding(
                account_id,
                judged,
                snapshot,
                bucket,
                &incomplete,
            ));
        }
    }
    findings.extend(unowned_findings(account_id, &listed, snapshot));
    if findings.is_empty() {
        findings.push(finding(
            account_id,
            ALL_REGIONS,
            "(account)",
            Status::NoResources,
            format!(
                "the account owns none of the GxP buckets ({}) by its ListBuckets",
                listed.join(", ")
            ),
        ));
    }
    findings
}

/// Why an account's bucket list is missing: its failed ListBuckets, or a snapshot from before
/// the list was collected.
fn bucket_list_gap(account_id: &str, snapshot: &EvidenceSnapshot) -> String {
    let failed: Vec<_> = snapshot
        .gaps
        .iter()
        .filter(|g| {
            g.account_id == account_id
                && g.service == S3Bucket::GAP_SERVICE
                && g.api == "ListBuckets"
        })
        .collect();
    if failed.is_empty() {
        "S3 ListBuckets was not collected".to_string()
    } else {
        super::describe_gaps(&failed)
    }
}

/// GxP buckets no account of the scope owns, reported once, in the scope's first account
/// whose bucket list is known: nothing proves their data events are logged.
fn unowned_findings(
    account_id: &str,
    listed: &[&str],
    snapshot: &EvidenceSnapshot,
) -> Vec<Finding> {
    let in_scope = |a: &&AccountEvidence| snapshot.scope.accounts.contains(&a.account_id);
    let reporter = snapshot
        .scope
        .accounts
        .iter()
        .filter_map(|id| snapshot.accounts.iter().find(|a| a.account_id == *id))
        .find(|a| a.s3_buckets.is_some());
    if reporter.is_none_or(|a| a.account_id != account_id) {
        return Vec::new();
    }
    let unknown_lists: Vec<&str> = snapshot
        .scope
        .accounts
        .iter()
        .filter(|id| {
            snapshot
                .accounts
                .iter()
                .find(|a| a.account_id == **id)
                .is_none_or(|a| a.s3_buckets.is_none())
        })
        .map(String::as_str)
        .collect();
    listed
        .iter()
        .filter(|name| {
            !snapshot
                .accounts
                .iter()
                .filter(in_scope)
                .filter_map(|a| a.s3_buckets.as_ref())
                .flatten()
                .any(|b| b.name == **name)
        })
        .map(|name| {
            let mut reason = format!(
                "no account of the scope owns the GxP bucket {name} by its ListBuckets, so no trail is proven to log its data events"
            );
            if unknown_lists.is_empty() {
                reason.push_str(
                    ": add the bucket's owner account to the scope or correct the policy's gxp_buckets",
                );
            } else {
                reason.push_str(&format!(
                    " (the bucket lists of {} are unknown)",
                    unknown_lists.join(", ")
                ));
            }
            finding(account_id, ALL_REGIONS, name, Status::EvidenceGap, reason)
        })
        .collect()
}

/// One owned GxP bucket over the period: at every moment a counted trail must log its read
/// and its write data events (the two may come from different trails).
fn bucket_finding(
    account_id: &str,
    judged: &[JudgedTrail],
    snapshot: &EvidenceSnapshot,
    bucket: &S3Bucket,
    incomplete: &Option<String>,
) -> Finding {
    let owned = OwnedBucket {
        name: &bucket.name,
        region: bucket.bucket_region.as_deref(),
    };
    let period = &snapshot.period;
    let sweep_kind = |read: bool| {
        let per_trail: Vec<(&str, Vec<Span>)> = judged
            .iter()
            .map(|j| {
                let home = j.trail.trail.home_region.as_deref().unwrap_or("");
                (
                    j.label.as_str(),
                    j.spans(|settings| judge(settings, home, &owned, read)),
                )
            })
            .collect();
        sweep(&per_trail, period)
    };
    let (read, write) = (sweep_kind(true), sweep_kind(false));
    let region = owned.region.unwrap_or(ALL_REGIONS);
    let (status, reason) = judge_sweeps(&read, &write, judged.is_empty(), incomplete);
    let mut finding = finding(account_id, region, &bucket.name, status, reason);
    if status == Status::Fail {
        // The fix goes on a trail the account already has (the first multi-region one).
        let trail = judged
            .iter()
            .find(|j| j.trail.trail.is_multi_region_trail == Some(true))
            .or(judged.first());
        let (arn, home) = trail.map_or(("<trail-name>", "<home-region>"), |j| {
            (
                j.trail
                    .trail
                    .trail_arn
                    .as_deref()
                    .unwrap_or(&j.trail.trail.name),
                j.trail
                    .trail
                    .home_region
                    .as_deref()
                    .unwrap_or("<home-region>"),
            )
        });
        finding.remediation = remediation::s3_data_events(&bucket.name, arn, home);
    }
    finding
}

fn judge_sweeps(
    read: &Sweep,
    write: &Sweep,
    no_trail: bool,
    incomplete: &Option<String>,
) -> (Status, String) {
    let describe = |kind: &str, list: &[Interval]| {
        format!(
            "{kind} data events not logged {}",
            super::period::list_intervals(list, |(from, to, why)| {
                format!(
                    "from {} to {}: {}",
                    from.display_utc(),
                    to.display_utc(),
                    why.join("; ")
                )
            })
        )
    };
    // The same intervals and reasons for reads and writes are said once.
    let mut fails = Vec::new();
    if !read.fails.is_empty() && read.fails == write.fails {
        fails.push(describe("read and write", &read.fails));
    } else {
        for (kind, sweep) in [("read", read), ("write", write)] {
            if !sweep.fails.is_empty() {
                fails.push(describe(kind, &sweep.fails));
            }
        }
    }
    if !fails.is_empty() {
        let text = if no_trail {
            "no CloudTrail trail exists".to_string()
        } else {
            fails.join("; ")
        };
        return match incomplete {
            Some(why) => (
                Status::EvidenceGap,
                format!("{why}; of the trails seen: {text}"),
            ),
            None => (Status::Fail, text),
        };
    }
    let mut unknowns = Vec::new();
    for (kind, sweep) in [("read", read), ("write", write)] {
        if !sweep.unknowns.is_empty() {
            unknowns.push(format!(
                "no trail is proven to log its {}",
                describe(kind, &sweep.unknowns).replacen(" not logged ", " ", 1)
            ));
        }
    }
    if !unknowns.is_empty() {
        return (Status::EvidenceGap, unknowns.join("; "));
    }
    let names = |sweep: &Sweep| sweep.qualified.join(", ");
    let text = if read.qualified == write.qualified {
        format!(
            "trail {} logs the bucket's read and write data events throughout the period",
            names(read)
        )
    } else {
        format!(
            "read data events logged by {}, write data events by {}, throughout the period",
            names(read),
            names(write)
        )
    };
    (Status::Pass, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn selectors(value: serde_json::Value) -> DataEventSelection {
        DataEventSelection::of(&serde_json::from_value(value).expect("selectors"))
    }

    fn classic(read_write: &str, values: &[&str]) -> DataEventSelection {
        selectors(json!({"EventSelectors": [{
            "ReadWriteType": read_write, "IncludeManagementEvents": true,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": values}]}]}))
    }

    fn advanced(fields: serde_json::Value) -> DataEventSelection {
        selectors(json!({"AdvancedEventSelectors": [{"Name": "data", "FieldSelectors": fields}]}))
    }

    fn s3_data(extra: serde_json::Value) -> serde_json::Value {
        let mut fields = vec![
            json!({"Field": "eventCategory", "Equals": ["Data"]}),
            json!({"Field": "resources.type", "Equals": ["AWS::S3::Object"]}),
        ];
        if let serde_json::Value::Array(more) = extra {
            fields.extend(more);
        }
        serde_json::Value::Array(fields)
    }

    const BUCKET: &str = "lims-records";

    #[test]
    fn put_event_selectors_leaving_a_gxp_bucket_unlogged_is_named() {
        let policy = crate::evidence::Policy::default().with_gxp_buckets([BUCKET.to_string()]);
        let management = json!({"trailName": "t", "advancedEventSelectors": [
            {"fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]}]});
        assert_eq!(
            gxp_bucket_shortfalls(Some(&management), &policy),
            ["GxP bucket lims-records: read and write data events not selected"]
        );
        let writes = json!({"trailName": "t", "eventSelectors": [{"readWriteType": "WriteOnly",
            "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::lims-records/"]}]}]});
        assert_eq!(
            gxp_bucket_shortfalls(Some(&writes), &policy),
            ["GxP bucket lims-records: read data events not selected"]
        );
        let all = json!({"trailName": "t", "eventSelectors": [{"readWriteType": "All",
            "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]}]});
        assert!(gxp_bucket_shortfalls(Some(&all), &policy).is_empty());
        // Without GxP buckets in the policy nothing is said.
        let none = crate::evidence::Policy::default();
        assert!(gxp_bucket_shortfalls(Some(&management), &none).is_empty());
    }

    #[test]
    fn classic_values_select_all_buckets_one_bucket_or_a_prefix() {
        for all in ["arn:aws:s3", "arn:aws:s3:::", "arn:aws:s3:::lims-records/"] {
            assert_eq!(classic_value_reach(all, BUCKET), Reach::All, "{all}");
        }
        assert!(matches!(
            classic_value_reach("arn:aws:s3:::lims-records/batch/", BUCKET),
            Reach::Part(_)
        ));
        assert_eq!(
            classic_value_reach("arn:aws:s3:::lims-records-copy/", BUCKET),
            Reach::Nothing
        );
        assert!(matches!(
            classic_value_reach("arn:aws:s3:::lims", BUCKET),
            Reach::Unknown(_)
        ));
        assert_eq!(
            classic_value_reach("arn:aws:lambda", BUCKET),
            Reach::Nothing
        );
    }

    #[test]
    fn classic_read_write_type_splits_reads_from_writes() {
        let all = logged(&classic("All", &["arn:aws:s3:::lims-records/"]), BUCKET);
        assert_eq!((all.read, all.write), (Reach::All, Reach::All));
        let write = logged(&classic("WriteOnly", &["arn:aws:s3"]), BUCKET);
        assert_eq!((write.read, write.write), (Reach::Nothing, Reach::All));
        let other_type = selectors(json!({"EventSelectors": [{"ReadWriteType": "All",
            "DataResources": [{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}]}]}));
        assert_eq!(logged(&other_type, BUCKET).write, Reach::Nothing);
        let management_only = selectors(json!({"EventSelectors": [{"ReadWriteType": "All"}]}));
        assert_eq!(logged(&management_only, BUCKET).read, Reach::Nothing);
    }

    #[test]
    fn advanced_selectors_are_read_by_category_type_arn_and_read_only() {
        let everything = logged(&advanced(s3_data(json!([]))), BUCKET);
        assert_eq!(
            (everything.read, everything.write),
            (Reach::All, Reach::All)
        );
        let bucket = logged(
            &advanced(s3_data(json!([{"Field": "resources.ARN",
                "StartsWith": ["arn:aws:s3:::lims-records/"]}]))),
            BUCKET,
        );
        assert_eq!(bucket.write, Reach::All);
        let writes = logged(
            &advanced(s3_data(json!([{"Field": "readOnly", "Equals": ["false"]}]))),
            BUCKET,
        );
        assert_eq!((writes.read, writes.write), (Reach::Nothing, Reach::All));
        let reads = logged(
            &advanced(s3_data(
                json!([{"Field": "readOnly", "NotEquals": ["false"]}]),
            )),
            BUCKET,
        );
        assert_eq!((reads.read, reads.write), (Reach::All, Reach::Nothing));
        let other_bucket = logged(
            &advanced(s3_data(json!([{"Field": "resources.ARN",
                "StartsWith": ["arn:aws:s3:::archive/"]}]))),
            BUCKET,
        );
        assert_eq!(other_bucket.read, Reach::Nothing);
        let management = logged(
            &advanced(json!([{"Field": "eventCategory", "Equals": ["Management"]}])),
            BUCKET,
        );
        assert_eq!(management.write, Reach::Nothing);
    }

    #[test]
    fn advanced_conditions_that_narrow_the_events_log_the_bucket_in_part() {
        for narrowing in [
            json!([{"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::lims-records/batch/"]}]),
            json!([{"Field": "resources.ARN", "Equals": ["arn:aws:s3:::lims-records/a.pdf"]}]),
            json!([{"Field": "resources.ARN", "NotStartsWith": ["arn:aws:s3:::lims-records/tmp/"]}]),
            json!([{"Field": "resources.ARN", "NotEquals": ["arn:aws:s3:::lims-records/a.pdf"]}]),
            json!([{"Field": "resources.ARN", "EndsWith": [".pdf"]}]),
            json!([{"Field": "eventName", "Equals": ["PutObject"]}]),
        ] {
            let reading = logged(&advanced(s3_data(narrowing.clone())), BUCKET);
            assert!(
                matches!(reading.write, Reach::Part(_)),
                "{narrowing}: {reading:?}"
            );
        }
        let excluded = logged(
            &advanced(s3_data(json!([{"Field": "resources.ARN",
                "NotStartsWith": ["arn:aws:s3:::lims-records/"]}]))),
            BUCKET,
        );
        assert_eq!(excluded.write, Reach::Nothing);
        let unreadable = logged(
            &advanced(s3_data(
                json!([{"Field": "readOnly", "Equals": ["true", "false"]}]),
            )),
            BUCKET,
        );
        assert!(matches!(unreadable.read, Reach::Unknown(_)));
    }

    #[test]
    fn a_selector_logging_the_whole_bucket_outweighs_one_logging_a_part() {
        let both = selectors(json!({"AdvancedEventSelectors": [
            {"FieldSelectors": s3_data(json!([{"Field": "resources.ARN",
                "StartsWith": ["arn:aws:s3:::lims-records/batch/"]}]))},
            {"FieldSelectors": s3_data(json!([]))}]}));
        assert_eq!(logged(&both, BUCKET).read, Reach::All);
    }

    fn settings(
        multi_region: Option<bool>,
        logging: Option<bool>,
        data: Option<DataEventSelection>,
    ) -> TrailSettings {
        TrailSettings {
            is_logging: logging,
            multi_region,
            data_events: data,
            ..TrailSettings::default()
        }
    }

    #[test]
    fn requests_and_collected_selectors_compare_equal_and_an_empty_value_is_unknown() {
        let collected = selectors(json!({"TrailARN": "arn", "AdvancedEventSelectors": [
            {"Name": "Management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
            {"Name": "GxP", "FieldSelectors": [
                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                {"Field": "eventCategory", "Equals": ["Data"]}]}]}));
        let requested = selectors(json!({"AdvancedEventSelectors": [
            {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}]}));
        assert_eq!(collected, requested);
        let unknown: DataEventSelection = serde_json::from_value(json!({})).expect("reads");
        assert!(!unknown.known);
        let bucket = OwnedBucket {
            name: BUCKET,
            region: None,
        };
        assert!(matches!(
            judge(
                &settings(Some(true), Some(true), Some(unknown)),
                "eu-west-1",
                &bucket,
                true
            ),
            Holds::Unknown(_)
        ));
    }

    #[test]
    fn a_trail_must_log_cover_the_region_and_select_the_bucket() {
        let bucket = OwnedBucket {
            name: BUCKET,
            region: Some("eu-west-1"),
        };
        let all = || Some(classic("All", &["arn:aws:s3"]));
        assert_eq!(
            judge(
                &settings(Some(true), Some(true), all()),
                "eu-central-1",
                &bucket,
                true
            ),
            Holds::Yes
        );
        assert_eq!(
            judge(
                &settings(Some(false), Some(true), all()),
                "eu-west-1",
                &bucket,
                false
            ),
            Holds::Yes
        );
        assert!(matches!(
            judge(&settings(Some(false), Some(true), all()), "eu-central-1", &bucket, true),
            Holds::No(why) if why.contains("single-region trail of eu-central-1")
        ));
        assert!(matches!(
            judge(&settings(Some(true), Some(false), all()), "eu-west-1", &bucket, true),
            Holds::No(why) if why == "not logging"
        ));
        assert!(matches!(
            judge(&settings(Some(true), Some(true), None), "eu-west-1", &bucket, true),
            Holds::Unknown(why) if why.contains("event selectors unknown")
        ));
        let nowhere = OwnedBucket {
            name: BUCKET,
            region: None,
        };
        assert!(matches!(
            judge(&settings(Some(false), Some(true), all()), "eu-west-1", &nowhere, true),
            Holds::Unknown(why) if why.contains("region is not in the evidence")
        ));
        assert!(matches!(
            judge(&settings(Some(true), Some(true), Some(classic("ReadOnly", &["arn:aws:s3"]))), "eu-west-1", &bucket, false),
            Holds::No(why) if why == "not selected"
        ));
    }
}
