//! ElastiCache collection: DescribeReplicationGroups, every page, converted into the snapshot
//! model with the raw values AWS returns (encryption at rest and its KMS key, in-transit
//! encryption, AUTH and RBAC user groups). A failed call is an evidence gap of service
//! `elasticache`, and the region's ElastiCache evidence is then not collected (`None`).

use std::sync::Arc;

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::types as aws;
use serde_json::Value;

use super::sdk::timestamp;
use super::{CredentialsFailed, RegionContext};
use gxp_evidence_core::evidence::{ElastiCacheEvidence, Extra, ReplicationGroup};

const SERVICE: &str = ElastiCacheEvidence::GAP_SERVICE;

/// The largest page DescribeReplicationGroups returns (`MaxRecords`, 20 to 100).
const PAGE_SIZE: i32 = 100;

pub async fn collect(
    context: &Arc<RegionContext>,
) -> Result<Option<ElastiCacheEvidence>, CredentialsFailed> {
    let client = Client::from_conf(
        aws_sdk_elasticache::config::Builder::from(&context.sdk)
            .region(context.region())
            .build(),
    );
    let listed = context
        .call(
            client
                .describe_replication_groups()
                .max_records(PAGE_SIZE)
                .into_paginator()
                .items()
                .send()
                .try_collect(),
        )
        .await;
    let Some(groups) = context.settle(SERVICE, "DescribeReplicationGroups", None, listed)? else {
        return Ok(None);
    };
    let mut replication_groups: Vec<ReplicationGroup> =
        groups.iter().map(replication_group).collect();
    replication_groups.sort_by(|a, b| a.replication_group_id.cmp(&b.replication_group_id));
    Ok(Some(ElastiCacheEvidence {
        replication_groups,
        extra: Extra::new(),
    }))
}

fn replication_group(group: &aws::ReplicationGroup) -> ReplicationGroup {
    let mut extra = Extra::new();
    insert_string(&mut extra, "CacheNodeType", group.cache_node_type());
    insert_string(
        &mut extra,
        "ClusterMode",
        group.cluster_mode().map(|m| m.as_str()),
    );
    insert_bool(&mut extra, "ClusterEnabled", group.cluster_enabled());
    insert_string(&mut extra, "MultiAZ", group.multi_az().map(|m| m.as_str()));
    insert_string(
        &mut extra,
        "AutomaticFailover",
        group.automatic_failover().map(|m| m.as_str()),
    );
    insert_string(
        &mut extra,
        "DataTiering",
        group.data_tiering().map(|m| m.as_str()),
    );
    if let Some(limit) = group.snapshot_retention_limit() {
        extra.insert("SnapshotRetentionLimit".into(), Value::from(limit));
    }
    if !group.member_clusters().is_empty() {
        extra.insert(
            "MemberClusters".into(),
            Value::from(group.member_clusters().to_vec()),
        );
    }
    if let Some(global) = group.global_replication_group_info() {
        let mut info = serde_json::Map::new();
        if let Some(id) = global.global_replication_group_id() {
            info.insert("GlobalReplicationGroupId".into(), Value::from(id));
        }
        if let Some(role) = global.global_replication_group_member_role() {
            info.insert("GlobalReplicationGroupMemberRole".into(), Value::from(role));
        }
        extra.insert("GlobalReplicationGroupInfo".into(), Value::Object(info));
    }
    if let Some(modified) = group.auth_token_last_modified_date().and_then(timestamp) {
        extra.insert(
            "AuthTokenLastModifiedDate".into(),
            serde_json::json!(modified),
        );
    }
    ReplicationGroup {
        replication_group_id: group.replication_group_id().unwrap_or_default().to_string(),
        arn: group.arn().map(str::to_string),
        description: group.description().map(str::to_string),
        engine: group.engine().map(str::to_string),
        status: group.status().map(str::to_string),
        at_rest_encryption_enabled: group.at_rest_encryption_enabled(),
        storage_encryption_type: group
            .storage_encryption_type()
            .map(|t| t.as_str().to_string()),
        kms_key_id: group.kms_key_id().map(str::to_string),
        transit_encryption_enabled: group.transit_encryption_enabled(),
        transit_encryption_mode: group
            .transit_encryption_mode()
            .map(|m| m.as_str().to_string()),
        auth_token_enabled: group.auth_token_enabled(),
        user_group_ids: Some(group.user_group_ids().to_vec()),
        replication_group_create_time: group.replication_group_create_time().and_then(timestamp),
        extra,
    }
}

fn insert_string(extra: &mut Extra, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        extra.insert(name.to_string(), Value::String(value.to_string()));
    }
}

fn insert_bool(extra: &mut Extra, name: &str, value: Option<bool>) {
    if let Some(value) = value {
        extra.insert(name.to_string(), Value::Bool(value));
    }
}
