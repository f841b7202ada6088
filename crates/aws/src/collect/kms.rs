//! KMS collection: ListKeys and ListAliases once per region, then per key DescribeKey (with the
//! imported material's `ValidTo`/`ExpirationModel` and a multi-Region key's
//! `MultiRegionConfiguration`) and, for customer managed keys, GetKeyRotationStatus,
//! GetKeyPolicy and ListKeyRotations (AWS managed keys: AWS writes their policies and nobody can
//! change them). A key that cannot rotate answers UnsupportedOperationException (and a key
//! pending deletion or without material KMSInvalidStateException): kept as the key's evidence,
//! not recorded as a gap; the evaluation decides what it means from the key's metadata.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_kms::Client;
use aws_sdk_kms::types as aws;
use serde_json::Value;
use tokio::task::JoinSet;

use super::progress::Fetched;
use super::sdk::timestamp;
use super::{CredentialsFailed, RegionContext};
use gxp_evidence_core::evidence::{
    AliasEntry, Extra, KeyMetadata, KeyRotation, KeyRotationStatus, KmsEvidence, KmsKeyEvidence,
};

const SERVICE: &str = "kms";

/// Errors GetKeyRotationStatus / ListKeyRotations give for keys that cannot rotate.
fn means_cannot_rotate(code: &str) -> bool {
    matches!(
        code,
        "UnsupportedOperationException" | "KMSInvalidStateException"
    )
}

pub async fn collect(
    context: Arc<RegionContext>,
) -> Result<Option<KmsEvidence>, CredentialsFailed> {
    let client = Client::from_conf(
        aws_sdk_kms::config::Builder::from(&context.sdk)
            .region(context.region())
            .build(),
    );
    let listed = context
        .call(
            client
                .list_keys()
                .limit(1000)
                .into_paginator()
                .items()
                .send()
                .try_collect(),
        )
        .await;
    let Some(keys) = context.settle(SERVICE, "ListKeys", None, listed)? else {
        return Ok(None);
    };
    let aliases = context
        .call(
            client
                .list_aliases()
                .limit(100)
                .into_paginator()
                .items()
                .send()
                .try_collect(),
        )
        .await;
    // Without aliases the keys are still evaluated; the gap says the names are missing.
    let aliases = context
        .settle(SERVICE, "ListAliases", None, aliases)?
        .unwrap_or_default();
    let mut aliases_by_key: BTreeMap<String, Vec<AliasEntry>> = BTreeMap::new();
    for alias in aliases {
        if let Some(target) = alias.target_key_id() {
            aliases_by_key
                .entry(target.to_string())
                .or_default()
                .push(alias_entry(&alias));
        }
    }

    let mut tasks = JoinSet::new();
    for key in keys {
        let Some(key_id) = key.key_id().map(str::to_string) else {
            continue;
        };
        let mut aliases = aliases_by_key.remove(&key_id).unwrap_or_default();
        aliases.sort_by(|a, b| a.alias_name.cmp(&b.alias_name));
        let context = context.clone();
        let client = client.clone();
        let arn = key.key_arn().map(str::to_string);
        tasks.spawn(async move { collect_key(&context, &client, key_id, arn, aliases).await });
    }
    let mut collected = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(key) => {
                collected.push(key?);
                context.progress.add(Fetched::Keys, 1);
            }
            Err(join_error) => panic!("a KMS collection task panicked: {join_error}"),
        }
    }
    collected.sort_by(|a, b| a.metadata.key_id.cmp(&b.metadata.key_id));
    Ok(Some(KmsEvidence {
        keys: collected,
        extra: Extra::new(),
    }))
}

async fn collect_key(
    context: &RegionContext,
    client: &Client,
    key_id: String,
    arn: Option<String>,
    aliases: Vec<AliasEntry>,
) -> Result<KmsKeyEvidence, CredentialsFailed> {
    let resource = arn.clone().unwrap_or_else(|| key_id.clone());
    let described = context
        .call(client.describe_key().key_id(&key_id).send())
        .await;
    let metadata = context
        .settle(SERVICE, "DescribeKey", Some(&resource), described)?
        .and_then(|out| out.key_metadata().map(key_metadata));
    // Without DescribeKey only the id is known; the evaluation reports the key as a gap.
    let metadata = metadata.unwrap_or_else(|| KeyMetadata {
        key_id: key_id.clone(),
        arn: arn.clone(),
        ..key_metadata_unknown()
    });
    let customer_managed = metadata.key_manager.as_deref() == Some("CUSTOMER");
    let mut evidence = KmsKeyEvidence {
        metadata,
        aliases,
        rotation_status: None,
        rotation_status_error: None,
        rotations: None,
        key_policy: None,
        key_policy_error: None,
        extra: Extra::new(),
    };
    if !customer_managed {
        // AWS managed keys rotate yearly by AWS; nothing to ask.
        return Ok(evidence);
    }

    let status = context
        .call(client.get_key_rotation_status().key_id(&key_id).send())
        .await;
    match status {
        Ok(out) => {
            evidence.rotation_status = Some(KeyRotationStatus {
                key_rotation_enabled: out.key_rotation_enabled(),
                rotation_period_in_days: out
                    .rotation_period_in_days()
                    .and_then(|d| u32::try_from(d).ok()),
                next_rotation_date: out.next_rotation_date().and_then(timestamp),
                on_demand_rotation_start_date: out
                    .on_demand_rotation_start_date()
                    .and_then(timestamp),
                extra: Extra::new(),
            })
        }
        Err(failure) => {
            context.check_credentials(SERVICE, "GetKeyRotationStatus", &failure)?;
            if !means_cannot_rotate(&failure.code) {
                context.record_gap(SERVICE, "GetKeyRotationStatus", Some(&resource), &failure);
            }
            evidence.rotation_status_error = Some(failure.api_error());
        }
    }

    // `default` is the only policy name KMS has (GetKeyPolicy). A failure, AccessDenied
    // included, is a gap: kms-key-exposure cannot be judged without the policy.
    let policy = context
        .call(
            client
                .get_key_policy()
                .key_id(&key_id)
                .policy_name("default")
                .send(),
        )
        .await;
    match policy {
        Ok(out) => evidence.key_policy = out.policy().map(str::to_string),
        Err(failure) => {
            context.check_credentials(SERVICE, "GetKeyPolicy", &failure)?;
            context.record_gap(SERVICE, "GetKeyPolicy", Some(&resource), &failure);
            evidence.key_policy_error = Some(failure.api_error());
        }
    }

    let rotations = context
        .call(
            client
                .list_key_rotations()
                .key_id(&key_id)
                .into_paginator()
                .items()
                .send()
                .try_collect(),
        )
        .await;
    match rotations {
        Ok(list) => {
            let mut rotations: Vec<KeyRotation> = list.iter().filter_map(key_rotation).collect();
            rotations.sort_by_key(|r| r.rotation_date);
            evidence.rotations = Some(rotations);
        }
        Err(failure) => {
            context.check_credentials(SERVICE, "ListKeyRotations", &failure)?;
            if means_cannot_rotate(&failure.code) {
                // No rotation history can exist for such a key.
                evidence.rotations = Some(Vec::new());
            } else {
                context.record_gap(SERVICE, "ListKeyRotations", Some(&resource), &failure);
            }
        }
    }
    Ok(evidence)
}

fn key_metadata_unknown() -> KeyMetadata {
    KeyMetadata {
        key_id: String::new(),
        aws_account_id: None,
        arn: None,
        creation_date: None,
        enabled: None,
        description: None,
        key_usage: None,
        key_state: None,
        deletion_date: None,
        origin: None,
        custom_key_store_id: None,
        key_manager: None,
        customer_master_key_spec: None,
        key_spec: None,
        multi_region: None,
        extra: Extra::new(),
    }
}

fn strings<T>(items: &[T], name: impl Fn(&T) -> &str) -> Value {
    Value::Array(
        items
            .iter()
            .map(|item| Value::String(name(item).to_string()))
            .collect(),
    )
}

// CustomerMasterKeySpec is deprecated in favour of KeySpec, but AWS still returns it and the
// snapshot keeps raw API values.
#[allow(deprecated)]
fn key_metadata(m: &aws::KeyMetadata) -> KeyMetadata {
    let mut extra = Extra::new();
    let mut put = |name: &str, value: Value| {
        extra.insert(name.to_string(), value);
    };
    if !m.encryption_algorithms().is_empty() {
        put(
            "EncryptionAlgorithms",
            strings(m.encryption_algorithms(), |a| a.as_str()),
        );
    }
    if !m.signing_algorithms().is_empty() {
        put(
            "SigningAlgorithms",
            strings(m.signing_algorithms(), |a| a.as_str()),
        );
    }
    if !m.mac_algorithms().is_empty() {
        put("MacAlgorithms", strings(m.mac_algorithms(), |a| a.as_str()));
    }
    if !m.key_agreement_algorithms().is_empty() {
        put(
            "KeyAgreementAlgorithms",
            strings(m.key_agreement_algorithms(), |a| a.as_str()),
        );
    }
    if let Some(days) = m.pending_deletion_window_in_days() {
        put("PendingDeletionWindowInDays", Value::from(days));
    }
    if let Some(valid_to) = m.valid_to().and_then(timestamp) {
        put("ValidTo", Value::String(valid_to.to_string()));
    }
    if let Some(model) = m.expiration_model() {
        put("ExpirationModel", Value::String(model.as_str().to_string()));
    }
    if let Some(cluster) = m.cloud_hsm_cluster_id() {
        put("CloudHsmClusterId", Value::String(cluster.to_string()));
    }
    if let Some(material) = m.current_key_material_id() {
        put("CurrentKeyMaterialId", Value::String(material.to_string()));
    }
    if let Some(config) = m.multi_region_configuration() {
        put(
            "MultiRegionConfiguration",
            serde_json::json!({
                "MultiRegionKeyType": config.multi_region_key_type().map(|t| t.as_str()),
                "PrimaryKey": config.primary_key().map(|k| serde_json::json!({"Arn": k.arn(), "Region": k.region()})),
                "ReplicaKeys": config.replica_keys().iter().map(|k| serde_json::json!({"Arn": k.arn(), "Region": k.region()})).collect::<Vec<_>>(),
            }),
        );
    }
    KeyMetadata {
        key_id: m.key_id().to_string(),
        aws_account_id: m.aws_account_id().map(str::to_string),
        arn: m.arn().map(str::to_string),
        creation_date: m.creation_date().and_then(timestamp),
        enabled: Some(m.enabled()),
        description: m.description().map(str::to_string),
        key_usage: m.key_usage().map(|u| u.as_str().to_string()),
        key_state: m.key_state().map(|s| s.as_str().to_string()),
        deletion_date: m.deletion_date().and_then(timestamp),
        origin: m.origin().map(|o| o.as_str().to_string()),
        custom_key_store_id: m.custom_key_store_id().map(str::to_string),
        key_manager: m.key_manager().map(|k| k.as_str().to_string()),
        customer_master_key_spec: m.customer_master_key_spec().map(|s| s.as_str().to_string()),
        key_spec: m.key_spec().map(|s| s.as_str().to_string()),
        multi_region: m.multi_region(),
        extra,
    }
}

fn alias_entry(alias: &aws::AliasListEntry) -> AliasEntry {
    AliasEntry {
        alias_name: alias.alias_name().unwrap_or_default().to_string(),
        alias_arn: alias.alias_arn().map(str::to_string),
        target_key_id: alias.target_key_id().map(str::to_string),
        extra: Extra::new(),
    }
}

/// One ListKeyRotations entry. For imported key material (origin EXTERNAL) the entry also says
/// which material is current, whether it is imported, and when it expires: kept raw.
fn key_rotation(entry: &aws::RotationsListEntry) -> Option<KeyRotation> {
    let mut extra = Extra::new();
    let mut put = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            extra.insert(name.to_string(), Value::String(value));
        }
    };
    put("KeyMaterialId", entry.key_material_id().map(str::to_string));
    put(
        "KeyMaterialDescription",
        entry.key_material_description().map(str::to_string),
    );
    put(
        "KeyMaterialState",
        entry.key_material_state().map(|s| s.as_str().to_string()),
    );
    put(
        "ImportState",
        entry.import_state().map(|s| s.as_str().to_string()),
    );
    put(
        "ExpirationModel",
        entry.expiration_model().map(|m| m.as_str().to_string()),
    );
    put(
        "ValidTo",
        entry
            .valid_to()
            .and_then(timestamp)
            .map(|valid_to| valid_to.to_string()),
    );
    Some(KeyRotation {
        rotation_date: entry.rotation_date().and_then(timestamp)?,
        rotation_type: entry.rotation_type().map(|t| t.as_str().to_string()),
        extra,
    })
}
