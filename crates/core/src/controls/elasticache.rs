//! ElastiCache rules: `elasticache-encryption-at-rest` (Security Hub ElastiCache.4, AWS Config
//! elasticache-repl-grp-encrypted-at-rest) judged per replication group over the period, and the
//! rows of the "ElastiCache replication groups" table (the KMS key, in-transit encryption and
//! AUTH / RBAC beside the result, as context).

use serde::{Deserialize, Serialize};

use super::catalog::ELASTICACHE_ENCRYPTION_AT_REST;
use super::history::RegionHistory;
use super::period::{NewValue, Replay};
use super::remediation;
use super::{Available, Evaluation, RegionScope, Status};
use crate::evidence::{ElastiCacheEvidence, ReplicationGroup};

/// The snapshot field the period rule replays: set by CreateReplicationGroup only.
pub const AT_REST_FIELD: &str = "AtRestEncryptionEnabled";

/// One replication group as collected, for the report's table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicationGroupRow {
    pub account_id: String,
    pub region: String,
    pub replication_group_id: String,
    pub arn: String,
    /// `valkey`, `redis`, or empty when DescribeReplicationGroups did not say.
    pub engine: String,
    /// The group's status (`available`, `modifying`, …).
    pub group_status: String,
    /// AtRestEncryptionEnabled as collected (`None`: not in the answer).
    pub at_rest_encryption_enabled: Option<bool>,
    /// StorageEncryptionType as collected (`none`, `sse-elasticache`, `sse-kms`), or empty.
    pub storage_encryption_type: String,
    /// The key encrypting the disks, in words: the customer managed key's id or ARN, the
    /// service managed default, or nothing when the group is not encrypted at rest.
    pub kms_key: String,
    /// In-transit encryption in words: `required`, `preferred (unencrypted connections
    /// accepted)`, `off`, or `unknown`.
    pub in_transit: String,
    /// AUTH token and RBAC user groups in words.
    pub access_control: String,
    /// The period's result of `elasticache-encryption-at-rest` for the group.
    pub status: Status,
    pub reason: String,
}

impl ReplicationGroupRow {
    pub fn sort_key(&self) -> (&str, &str, &str) {
        (&self.account_id, &self.region, &self.replication_group_id)
    }
}

/// The key a group's data at rest is encrypted with, in words (`None`: not encrypted, or
/// unknown).
fn key_in_words(group: &ReplicationGroup) -> Option<String> {
    if let Some(key) = group.kms_key_id.as_deref().filter(|k| !k.is_empty()) {
        return Some(format!("customer managed KMS key {key}"));
    }
    match (
        group.at_rest_encryption_enabled,
        group.storage_encryption_type.as_deref(),
    ) {
        (_, Some("sse-kms")) => {
            Some("a customer managed KMS key (DescribeReplicationGroups gave no KmsKeyId)".into())
        }
        (Some(true), _) | (_, Some("sse-elasticache")) => {
            Some("the ElastiCache service managed (default) key".into())
        }
        _ => None,
    }
}

fn in_transit_in_words(group: &ReplicationGroup) -> String {
    match (
        group.transit_encryption_enabled,
        group.transit_encryption_mode.as_deref(),
    ) {
        (Some(false), _) => "off".to_string(),
        (Some(true), Some("preferred")) => {
            "preferred (unencrypted connections accepted)".to_string()
        }
        (Some(true), Some(mode)) => mode.to_string(),
        (Some(true), None) => "on".to_string(),
        (None, _) => "unknown".to_string(),
    }
}

fn access_control_in_words(group: &ReplicationGroup) -> String {
    let mut parts = Vec::new();
    match group.auth_token_enabled {
        Some(true) => parts.push("AUTH token".to_string()),
        Some(false) => {}
        None => parts.push("AUTH token unknown".to_string()),
    }
    match group.user_group_ids.as_deref() {
        Some([]) => {}
        Some(ids) => parts.push(format!("RBAC user groups {}", ids.join(", "))),
        None => parts.push("RBAC user groups unknown".to_string()),
    }
    if parts.is_empty() {
        "none (no AUTH token, no RBAC user group)".to_string()
    } else {
        parts.join("; ")
    }
}

/// `elasticache-encryption-at-rest` for one state of a group: PASS when AtRestEncryptionEnabled
/// is true (the flag both cited rules read), naming the key; FAIL when it is false, or when AWS
/// reports the group's storage unencrypted (StorageEncryptionType `none`); EVIDENCE_GAP when the
/// flag is unknown; NOT_APPLICABLE for a Memcached engine (no encryption at rest to set).
pub fn judge(group: &ReplicationGroup) -> (Status, String) {
    if group.engine.as_deref() == Some("memcached") {
        return (
            Status::NotApplicable,
            "Memcached engine: ElastiCache offers no encryption at rest for it".to_string(),
        );
    }
    let storage = group.storage_encryption_type.as_deref();
    match group.at_rest_encryption_enabled {
        None => (
            Status::EvidenceGap,
            "AtRestEncryptionEnabled is not known for this state of the group (not in the DescribeReplicationGroups answer, or not recorded by the event that created it)".to_string(),
        ),
        Some(true) if storage == Some("none") => (
            Status::Fail,
            "AtRestEncryptionEnabled is true, but StorageEncryptionType is none: AWS reports the data at rest as not encrypted".to_string(),
        ),
        Some(true) => (
            Status::Pass,
            format!(
                "encrypted at rest (AtRestEncryptionEnabled true) with {}",
                key_in_words(group).unwrap_or_else(|| "an unnamed key".to_string())
            ),
        ),
        Some(false) => {
            let effective = match storage {
                Some(kind @ ("sse-elasticache" | "sse-kms")) => format!(
                    "; StorageEncryptionType reports {kind}, but Security Hub ElastiCache.4 and AWS Config judge the flag"
                ),
                _ => String::new(),
            };
            let since = group
                .replication_group_create_time
                .map(|created| format!(" (since its creation at {})", created.display_utc()))
                .unwrap_or_default();
            (
                Status::Fail,
                format!(
                    "not encrypted at rest{since}: AtRestEncryptionEnabled is false, and it cannot be changed on an existing group{effective}"
                ),
            )
        }
    }
}

/// The table row of a collected group (its status and reason are the period's, set later).
fn row(scope: &RegionScope, group: &ReplicationGroup) -> ReplicationGroupRow {
    let (status, reason) = judge(group);
    ReplicationGroupRow {
        account_id: scope.account_id.to_string(),
        region: scope.region.to_string(),
        replication_group_id: group.replication_group_id.clone(),
        arn: group.arn.clone().unwrap_or_default(),
        engine: group.engine.clone().unwrap_or_default(),
        group_status: group.status.clone().unwrap_or_default(),
        at_rest_encryption_enabled: group.at_rest_encryption_enabled,
        storage_encryption_type: group.storage_encryption_type.clone().unwrap_or_default(),
        kms_key: key_in_words(group).unwrap_or_default(),
        in_transit: in_transit_in_words(group),
        access_control: access_control_in_words(group),
        status,
        reason,
    }
}

/// Judges every replication group of one account-region over the period, and lists the
/// collected ones in `out.replication_groups`.
pub fn evaluate_region(
    scope: &RegionScope,
    evidence: Option<&ElastiCacheEvidence>,
    history: &RegionHistory,
    replay: &Replay,
    out: &mut Evaluation,
) {
    let gaps = scope.service_gaps(ElastiCacheEvidence::GAP_SERVICE);
    let rows = [(ELASTICACHE_ENCRYPTION_AT_REST, None)];
    let Some(Available { evidence, complete }) =
        scope.available(&rows, "ElastiCache", &gaps, evidence, out)
    else {
        return;
    };
    let judge_group = |current: Option<&ReplicationGroup>,
                       skeleton: serde_json::Value,
                       group_id: &str,
                       out: &mut Evaluation| {
        let mut group_history = history.replication_group(group_id);
        // AtRestEncryptionEnabled cannot change after creation: a collected group that no
        // recorded event deleted had its collected value since its creation, also where the
        // creating event does not say it (restored from a backup, …). Values the events do say
        // stay, so that a misread event shows as a missing change.
        if current.is_some() && group_history.deleted.is_none() {
            group_history.effects.retain(|effect| {
                !(effect.field == [AT_REST_FIELD] && matches!(effect.value, NewValue::Unknown(_)))
            });
        }
        replay.judge(
            current,
            skeleton,
            &group_history,
            |group: &ReplicationGroup, out: &mut Evaluation| {
                let (status, reason) = judge(group);
                out.findings.push(
                    scope
                        .finding(
                            ELASTICACHE_ENCRYPTION_AT_REST,
                            group_id,
                            None,
                            status,
                            reason,
                        )
                        .with_remediation(remediation::elasticache_encrypted_copy(
                            group_id,
                            scope.region,
                        )),
                );
            },
            |reason| {
                vec![scope.finding(
                    ELASTICACHE_ENCRYPTION_AT_REST,
                    group_id,
                    None,
                    Status::EvidenceGap,
                    reason,
                )]
            },
            out,
        )
    };
    for group in &evidence.replication_groups {
        let group_id = group.replication_group_id.as_str();
        let mut table_row = row(scope, group);
        let findings = judge_group(Some(group), serde_json::Value::Null, group_id, out);
        // The table's result is the period's, like the result row.
        if let Some(finding) = findings.iter().find(|f| f.resource == group_id) {
            table_row.status = finding.status;
            table_row.reason = finding.reason.clone();
        }
        out.replication_groups.push(table_row);
    }
    // Groups a recorded event deleted before collection: judged on what the events say.
    let mut judged_deleted = 0;
    for (group_id, group_history) in &history.replication_groups {
        let collected = evidence
            .replication_groups
            .iter()
            .any(|g| g.replication_group_id == *group_id);
        if collected || group_history.deleted.is_none() {
            continue;
        }
        let skeleton = serde_json::json!({ "ReplicationGroupId": group_id });
        judge_group(None, skeleton, group_id, out);
        judged_deleted += 1;
    }
    if evidence.replication_groups.is_empty() && judged_deleted == 0 && complete {
        scope.push_rows(
            &rows,
            "(region)",
            Status::NoResources,
            "no ElastiCache replication groups in this region",
            out,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::Extra;

    fn group(flag: Option<bool>) -> ReplicationGroup {
        ReplicationGroup {
            replication_group_id: "orders-cache".into(),
            arn: None,
            description: None,
            engine: Some("redis".into()),
            status: Some("available".into()),
            at_rest_encryption_enabled: flag,
            storage_encryption_type: None,
            kms_key_id: None,
            transit_encryption_enabled: Some(true),
            transit_encryption_mode: Some("preferred".into()),
            auth_token_enabled: Some(false),
            user_group_ids: Some(vec!["gxp-users".into()]),
            replication_group_create_time: None,
            extra: Extra::new(),
        }
    }

    #[test]
    fn the_flag_decides_and_the_key_is_named() {
        assert_eq!(judge(&group(Some(false))).0, Status::Fail);
        assert_eq!(judge(&group(None)).0, Status::EvidenceGap);
        let (status, reason) = judge(&group(Some(true)));
        assert_eq!(status, Status::Pass);
        assert!(reason.contains("service managed (default) key"), "{reason}");
        let cmk = ReplicationGroup {
            kms_key_id: Some("arn:aws:kms:eu-west-1:111111111111:key/k1".into()),
            storage_encryption_type: Some("sse-kms".into()),
            ..group(Some(true))
        };
        let (status, reason) = judge(&cmk);
        assert_eq!(status, Status::Pass);
        assert!(
            reason.contains("customer managed KMS key arn:aws:kms"),
            "{reason}"
        );
    }

    #[test]
    fn storage_reported_unencrypted_fails_even_with_the_flag_and_memcached_is_not_applicable() {
        let contradicted = ReplicationGroup {
            storage_encryption_type: Some("none".into()),
            ..group(Some(true))
        };
        assert_eq!(judge(&contradicted).0, Status::Fail);
        let effective = ReplicationGroup {
            storage_encryption_type: Some("sse-elasticache".into()),
            ..group(Some(false))
        };
        let (status, reason) = judge(&effective);
        assert_eq!(status, Status::Fail, "the cited rules read the flag");
        assert!(reason.contains("sse-elasticache"), "{reason}");
        let memcached = ReplicationGroup {
            engine: Some("memcached".into()),
            ..group(Some(false))
        };
        assert_eq!(judge(&memcached).0, Status::NotApplicable);
    }

    #[test]
    fn context_columns_say_what_protects_the_group_in_transit_and_at_the_door() {
        let g = group(Some(true));
        assert_eq!(
            in_transit_in_words(&g),
            "preferred (unencrypted connections accepted)"
        );
        assert_eq!(access_control_in_words(&g), "RBAC user groups gxp-users");
        let open = ReplicationGroup {
            transit_encryption_enabled: Some(false),
            user_group_ids: Some(Vec::new()),
            ..group(Some(false))
        };
        assert_eq!(in_transit_in_words(&open), "off");
        assert_eq!(
            access_control_in_words(&open),
            "none (no AUTH token, no RBAC user group)"
        );
        assert_eq!(key_in_words(&open), None);
    }
}
