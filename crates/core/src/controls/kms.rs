//! KMS customer managed key rotation: which keys are in scope (and why the others are not),
//! whether rotation is on within the policy period, and the rotation evidence of the period.

use serde::{Deserialize, Serialize};

use super::catalog::KMS_KEY_ROTATION;
use super::history::RegionHistory;
use super::period::Replay;
use super::{Available, Evaluation, Finding, RegionScope, Status, describe_gaps};
use crate::evidence::{KmsEvidence, KmsKeyEvidence, Period, Policy, Timestamp};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyRow {
    pub account_id: String,
    pub region: String,
    pub key_id: String,
    pub key_arn: String,
    pub aliases: Vec<String>,
    pub key_manager: String,
    pub key_spec: String,
    pub key_usage: String,
    pub origin: String,
    pub key_state: String,
    pub rotation_enabled: Option<bool>,
    pub rotation_period_days: Option<u32>,
    pub next_rotation_date: Option<Timestamp>,
    pub last_rotation_date: Option<Timestamp>,
    pub automatic_rotations_in_period: u32,
    pub on_demand_rotations_in_period: u32,
    pub status: Status,
    pub reason: String,
}

impl KeyRow {
    pub fn sort_key(&self) -> (&str, &str, &str) {
        (&self.account_id, &self.region, &self.key_id)
    }
}

/// Why a key is outside the rotation control. Each is reported, never dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotApplicable {
    AwsManaged,
    PendingDeletion(Option<Timestamp>),
    Disabled,
    /// Other non-usable states: PendingImport, Unavailable, Creating, Updating, …
    State(String),
    ImportedKeyMaterial,
    CustomKeyStore,
    Asymmetric(String),
    Hmac(String),
    NotEncryptDecrypt(String),
}

impl NotApplicable {
    pub fn reason(&self) -> String {
        match self {
            NotApplicable::AwsManaged => {
                "AWS managed key: AWS rotates it every year; rotation is not configurable".into()
            }
            NotApplicable::PendingDeletion(Some(date)) => {
                format!("pending deletion (scheduled for {})", date.display_utc())
            }
            NotApplicable::PendingDeletion(None) => "pending deletion".into(),
            NotApplicable::Disabled => "disabled: a disabled key protects no new data".into(),
            NotApplicable::State(state) => format!("key state {state}: not usable"),
            NotApplicable::ImportedKeyMaterial => {
                "imported key material (origin EXTERNAL): cannot rotate automatically; rotate manually".into()
            }
            NotApplicable::CustomKeyStore => {
                "custom key store (CloudHSM or external): automatic rotation is not supported".into()
            }
            NotApplicable::Asymmetric(spec) => {
                format!("asymmetric key ({spec}): automatic rotation is not supported")
            }
            NotApplicable::Hmac(spec) => format!("HMAC key ({spec}): automatic rotation is not supported"),
            NotApplicable::NotEncryptDecrypt(usage) => {
                format!("key usage {usage}: only ENCRYPT_DECRYPT keys rotate automatically")
            }
        }
    }
}

/// The key spec, reading the deprecated `CustomerMasterKeySpec` for older responses. Keys from
/// before asymmetric keys existed (2019) have neither field and are symmetric.
fn key_spec(key: &KmsKeyEvidence) -> String {
    key.metadata
        .key_spec
        .clone()
        .or_else(|| key.metadata.customer_master_key_spec.clone())
        .unwrap_or_else(|| "SYMMETRIC_DEFAULT".to_string())
}

/// `Ok(())` when the key is in the control's scope, or the reason it is not. `Err(None)`
/// means the metadata is too incomplete to tell, which is an evidence gap.
pub fn applicability(key: &KmsKeyEvidence) -> Result<(), Option<NotApplicable>> {
    let metadata = &key.metadata;
    let (Some(manager), Some(state)) = (
        metadata.key_manager.as_deref(),
        metadata.key_state.as_deref(),
    ) else {
        return Err(None);
    };
    if manager == "AWS" {
        return Err(Some(NotApplicable::AwsManaged));
    }
    match state {
        "Enabled" => {}
        "PendingDeletion" | "PendingReplicaDeletion" => {
            return Err(Some(NotApplicable::PendingDeletion(metadata.deletion_date)));
        }
        "Disabled" => return Err(Some(NotApplicable::Disabled)),
        other => return Err(Some(NotApplicable::State(other.to_string()))),
    }
    match metadata.origin.as_deref() {
        Some("EXTERNAL") => return Err(Some(NotApplicable::ImportedKeyMaterial)),
        Some("AWS_CLOUDHSM" | "EXTERNAL_KEY_STORE") => {
            return Err(Some(NotApplicable::CustomKeyStore));
        }
        _ => {}
    }
    if metadata
        .custom_key_store_id
        .as_deref()
        .is_some_and(|id| !id.is_empty())
    {
        return Err(Some(NotApplicable::CustomKeyStore));
    }
    let spec = key_spec(key);
    if spec.starts_with("HMAC_") {
        return Err(Some(NotApplicable::Hmac(spec)));
    }
    if spec != "SYMMETRIC_DEFAULT" {
        return Err(Some(NotApplicable::Asymmetric(spec)));
    }
    if let Some(usage) = metadata
        .key_usage
        .as_deref()
        .filter(|u| *u != "ENCRYPT_DECRYPT")
    {
        return Err(Some(NotApplicable::NotEncryptDecrypt(usage.to_string())));
    }
    Ok(())
}

/// GetKeyRotationStatus answers these for keys that cannot rotate; they confirm N/A.
fn is_cannot_rotate_error(code: &str) -> bool {
    matches!(
        code,
        "UnsupportedOperationException" | "KMSInvalidStateException"
    )
}

pub fn evaluate_key(
    scope: &RegionScope,
    key: &KmsKeyEvidence,
    period: &Period,
    policy: &Policy,
) -> KeyRow {
    let metadata = &key.metadata;
    let rotations = key.rotations.as_deref().unwrap_or_default();
    let in_period = |kind: &str| {
        rotations
            .iter()
            .filter(|r| {
                period.contains(r.rotation_date) && r.rotation_type.as_deref() == Some(kind)
            })
            .count() as u32
    };
    let last_rotation_date = rotations
        .iter()
        .map(|r| r.rotation_date)
        .filter(|d| *d < period.end)
        .max();
    let rotation = key.rotation_status.as_ref();
    let rotation_enabled = rotation.map(|r| r.key_rotation_enabled);
    // Responses from before configurable periods (2024) omit the field: the period was 365 days.
    let rotation_period_days = rotation
        .filter(|r| r.key_rotation_enabled)
        .map(|r| r.rotation_period_in_days.unwrap_or(365));

    let (status, reason) = match applicability(key) {
        Err(Some(not_applicable)) => (Status::NotApplicable, not_applicable.reason()),
        Err(None) => (
            Status::EvidenceGap,
            "DescribeKey metadata lacks KeyManager or KeyState: cannot tell whether the key is in scope".to_string(),
        ),
        Ok(()) => judge_rotation(scope, key, rotation_period_days, policy),
    };

    KeyRow {
        account_id: scope.account_id.to_string(),
        region: scope.region.to_string(),
        key_id: metadata.key_id.clone(),
        key_arn: metadata.arn.clone().unwrap_or_default(),
        aliases: {
            let mut names: Vec<String> = key.aliases.iter().map(|a| a.alias_name.clone()).collect();
            names.sort();
            names
        },
        key_manager: metadata.key_manager.clone().unwrap_or_default(),
        key_spec: key_spec(key),
        key_usage: metadata.key_usage.clone().unwrap_or_default(),
        origin: metadata.origin.clone().unwrap_or_default(),
        key_state: metadata.key_state.clone().unwrap_or_default(),
        rotation_enabled,
        rotation_period_days,
        next_rotation_date: rotation.and_then(|r| r.next_rotation_date),
        last_rotation_date,
        automatic_rotations_in_period: in_period("AUTOMATIC"),
        on_demand_rotations_in_period: in_period("ON_DEMAND"),
        status,
        reason,
    }
}

fn judge_rotation(
    scope: &RegionScope,
    key: &KmsKeyEvidence,
    rotation_period_days: Option<u32>,
    policy: &Policy,
) -> (Status, String) {
    let Some(rotation) = &key.rotation_status else {
        if let Some(error) = &key.rotation_status_error {
            if is_cannot_rotate_error(&error.code) {
                return (
                    Status::NotApplicable,
                    format!(
                        "GetKeyRotationStatus answered {}: the key cannot rotate automatically",
                        error.code
                    ),
                );
            }
            return (
                Status::EvidenceGap,
                format!(
                    "GetKeyRotationStatus failed with {}{}",
                    error.code,
                    error
                        .message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ),
            );
        }
        let ids = [
            key.metadata.key_id.as_str(),
            key.metadata.arn.as_deref().unwrap_or(""),
        ];
        let gaps = scope.resource_gaps("kms", &ids);
        let reason = if gaps.is_empty() {
            "rotation status (GetKeyRotationStatus) was not collected".to_string()
        } else {
            describe_gaps(&gaps)
        };
        return (Status::EvidenceGap, reason);
    };
    if !rotation.key_rotation_enabled {
        return (Status::Fail, "automatic rotation is disabled".to_string());
    }
    let days = rotation_period_days.unwrap_or(365);
    if days > policy.max_rotation_days {
        return (
            Status::Fail,
            format!(
                "rotation enabled every {days} days, longer than the policy's {} days",
                policy.max_rotation_days
            ),
        );
    }
    (
        Status::Pass,
        format!(
            "rotation enabled every {days} days (policy: at most {})",
            policy.max_rotation_days
        ),
    )
}

fn key_resource(row: &KeyRow) -> String {
    match row.aliases.first() {
        Some(alias) => format!("{} ({alias})", row.key_id),
        None => row.key_id.clone(),
    }
}

pub fn evaluate_region(
    scope: &RegionScope,
    evidence: Option<&KmsEvidence>,
    history: &RegionHistory,
    replay: &Replay,
    policy: &Policy,
    out: &mut Evaluation,
) {
    let period = replay.period;
    let gaps = scope.service_gaps("kms");
    let rows = [(KMS_KEY_ROTATION, None)];
    let Some(Available { evidence, complete }) =
        scope.available(&rows, "KMS", &gaps, evidence, out)
    else {
        return;
    };
    let evaluate = |key: &KmsKeyEvidence, out: &mut Evaluation| {
        let row = evaluate_key(scope, key, period, policy);
        out.findings.push(Finding {
            control_id: KMS_KEY_ROTATION.to_string(),
            account_id: row.account_id.clone(),
            region: row.region.clone(),
            resource: key_resource(&row),
            view: None,
            status: row.status,
            reason: row.reason.clone(),
        });
        out.keys.push(row);
    };
    for key in &evidence.keys {
        let key_id = &key.metadata.key_id;
        let resource = key_resource(&evaluate_key(scope, key, period, policy));
        let findings = replay.judge(
            Some(key),
            serde_json::Value::Null,
            &history.key(key_id),
            evaluate,
            |reason| {
                vec![scope.finding(
                    KMS_KEY_ROTATION,
                    &resource,
                    None,
                    Status::EvidenceGap,
                    reason,
                )]
            },
            out,
        );
        // The key table's result is the period's, like its result row.
        if let (Some(finding), Some(row)) = (
            findings.iter().find(|f| f.resource == resource),
            out.keys.iter_mut().rev().find(|r| r.key_id == *key_id),
        ) {
            row.status = finding.status;
            row.reason = finding.reason.clone();
        }
    }
    // Keys a recorded event deleted before collection: judged on what the events say.
    for (key_id, key_history) in &history.keys {
        let collected = evidence.keys.iter().any(|k| k.metadata.key_id == *key_id);
        if collected || key_history.deleted.is_none() {
            continue;
        }
        let skeleton =
            serde_json::json!({ "metadata": { "KeyId": key_id, "KeyManager": "CUSTOMER" } });
        let resource = key_id.clone();
        replay.judge(
            None::<&KmsKeyEvidence>,
            skeleton,
            &history.key(key_id),
            evaluate,
            |reason| {
                vec![scope.finding(
                    KMS_KEY_ROTATION,
                    &resource,
                    None,
                    Status::EvidenceGap,
                    reason,
                )]
            },
            out,
        );
    }
    if evidence.keys.is_empty() && complete {
        out.findings.push(scope.finding(
            KMS_KEY_ROTATION,
            "(region)",
            None,
            Status::NoResources,
            "no KMS keys in this region",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{ApiError, EvidenceGap, KeyRotation, KeyRotationStatus};
    use serde_json::json;

    fn period() -> Period {
        Period {
            start: Timestamp::parse("2026-10-01T00:00:00Z").unwrap(),
            end: Timestamp::parse("2026-11-01T00:00:00Z").unwrap(),
        }
    }

    fn key(metadata: serde_json::Value, rotation: Option<(bool, Option<u32>)>) -> KmsKeyEvidence {
        let mut value = json!({"metadata": {
            "KeyId": "k1", "KeyManager": "CUSTOMER", "KeyState": "Enabled", "Origin": "AWS_KMS",
            "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT"}});
        for (k, v) in metadata.as_object().unwrap() {
            value["metadata"][k] = v.clone();
        }
        let mut key: KmsKeyEvidence = serde_json::from_value(value).unwrap();
        key.rotation_status = rotation.map(|(enabled, days)| KeyRotationStatus {
            key_rotation_enabled: enabled,
            rotation_period_in_days: days,
            next_rotation_date: None,
            on_demand_rotation_start_date: None,
            extra: Default::default(),
        });
        key
    }

    fn judge(key: &KmsKeyEvidence) -> KeyRow {
        let gaps: Vec<EvidenceGap> = Vec::new();
        let scope = RegionScope::new("111111111111", "eu-central-1", &gaps);
        evaluate_key(&scope, key, &period(), &Policy::default())
    }

    #[test]
    fn rotation_on_within_policy_passes() {
        assert_eq!(
            judge(&key(json!({}), Some((true, Some(365))))).status,
            Status::Pass
        );
        assert_eq!(
            judge(&key(json!({}), Some((true, Some(90))))).status,
            Status::Pass
        );
    }

    #[test]
    fn rotation_off_fails() {
        let row = judge(&key(json!({}), Some((false, None))));
        assert_eq!(row.status, Status::Fail);
        assert_eq!(row.reason, "automatic rotation is disabled");
    }

    #[test]
    fn period_longer_than_policy_fails() {
        let row = judge(&key(json!({}), Some((true, Some(730)))));
        assert_eq!(row.status, Status::Fail);
        assert!(
            row.reason
                .contains("730 days, longer than the policy's 365")
        );
    }

    #[test]
    fn missing_period_field_means_the_historical_365_days() {
        let row = judge(&key(json!({}), Some((true, None))));
        assert_eq!(
            (row.status, row.rotation_period_days),
            (Status::Pass, Some(365))
        );
    }

    fn not_applicable_reason(metadata: serde_json::Value) -> String {
        let row = judge(&key(metadata, Some((false, None))));
        assert_eq!(row.status, Status::NotApplicable, "{}", row.reason);
        row.reason
    }

    #[test]
    fn aws_managed_keys_are_not_applicable() {
        assert!(not_applicable_reason(json!({"KeyManager": "AWS"})).starts_with("AWS managed key"));
    }

    #[test]
    fn pending_deletion_keys_are_not_applicable() {
        let reason = not_applicable_reason(
            json!({"KeyState": "PendingDeletion", "DeletionDate": "2026-11-20T00:00:00Z"}),
        );
        assert_eq!(
            reason,
            "pending deletion (scheduled for 2026-11-20 00:00:00 UTC)"
        );
    }

    #[test]
    fn disabled_keys_are_not_applicable() {
        assert!(not_applicable_reason(json!({"KeyState": "Disabled"})).starts_with("disabled"));
    }

    #[test]
    fn other_unusable_states_are_not_applicable() {
        assert!(
            not_applicable_reason(json!({"KeyState": "PendingImport"})).contains("PendingImport")
        );
    }

    #[test]
    fn imported_key_material_is_not_applicable() {
        assert!(not_applicable_reason(json!({"Origin": "EXTERNAL"})).contains("origin EXTERNAL"));
    }

    #[test]
    fn custom_key_store_keys_are_not_applicable() {
        assert!(
            not_applicable_reason(json!({"Origin": "AWS_CLOUDHSM", "CustomKeyStoreId": "cks-1"}))
                .contains("custom key store")
        );
        assert!(
            not_applicable_reason(json!({"Origin": "EXTERNAL_KEY_STORE"}))
                .contains("custom key store")
        );
    }

    #[test]
    fn asymmetric_keys_are_not_applicable() {
        let reason =
            not_applicable_reason(json!({"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY"}));
        assert!(reason.starts_with("asymmetric key (RSA_2048)"), "{reason}");
    }

    #[test]
    fn hmac_keys_are_not_applicable() {
        let reason = not_applicable_reason(
            json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}),
        );
        assert!(reason.starts_with("HMAC key (HMAC_256)"), "{reason}");
    }

    #[test]
    fn older_metadata_without_key_spec_is_symmetric() {
        let mut k = key(json!({}), Some((true, None)));
        k.metadata.key_spec = None;
        k.metadata.customer_master_key_spec = None;
        assert_eq!(judge(&k).status, Status::Pass);
        k.metadata.customer_master_key_spec = Some("ECC_NIST_P256".into());
        assert_eq!(judge(&k).status, Status::NotApplicable);
    }

    #[test]
    fn incomplete_metadata_is_a_gap_not_a_pass() {
        let mut k = key(json!({}), Some((true, Some(365))));
        k.metadata.key_manager = None;
        assert_eq!(judge(&k).status, Status::EvidenceGap);
    }

    #[test]
    fn rotation_status_errors_distinguish_cannot_rotate_from_gap() {
        let mut k = key(json!({}), None);
        k.rotation_status_error = Some(ApiError {
            code: "UnsupportedOperationException".into(),
            message: None,
        });
        assert_eq!(judge(&k).status, Status::NotApplicable);
        k.rotation_status_error = Some(ApiError {
            code: "AccessDeniedException".into(),
            message: Some("no".into()),
        });
        let row = judge(&k);
        assert_eq!(row.status, Status::EvidenceGap);
        assert!(row.reason.contains("AccessDeniedException: no"));
        k.rotation_status_error = None;
        assert_eq!(judge(&k).status, Status::EvidenceGap);
    }

    #[test]
    fn rotations_in_the_period_are_counted_by_type() {
        let mut k = key(json!({}), Some((true, Some(90))));
        let rotation = |date: &str, kind: &str| KeyRotation {
            rotation_date: Timestamp::parse(date).unwrap(),
            rotation_type: Some(kind.into()),
            extra: Default::default(),
        };
        k.rotations = Some(vec![
            rotation("2026-07-10T00:00:00Z", "AUTOMATIC"),
            rotation("2026-10-08T00:00:00Z", "AUTOMATIC"),
            rotation("2026-10-14T09:30:00Z", "ON_DEMAND"),
            rotation("2026-11-05T00:00:00Z", "AUTOMATIC"),
        ]);
        let row = judge(&k);
        assert_eq!(
            (
                row.automatic_rotations_in_period,
                row.on_demand_rotations_in_period
            ),
            (1, 1)
        );
        assert_eq!(
            row.last_rotation_date,
            Timestamp::parse("2026-10-14T09:30:00Z")
        );
    }

    #[test]
    fn empty_region_is_no_resources() {
        let gaps: Vec<EvidenceGap> = Vec::new();
        let scope = RegionScope::new("111111111111", "eu-central-1", &gaps);
        let mut out = Evaluation::default();
        let empty = KmsEvidence {
            keys: Vec::new(),
            extra: Default::default(),
        };
        evaluate_region(
            &scope,
            Some(&empty),
            &RegionHistory::default(),
            &Replay::unchanged(&period()),
            &Policy::default(),
            &mut out,
        );
        assert_eq!(out.findings[0].status, Status::NoResources);
    }
}
