//! KMS customer managed keys: which keys the rotation control judges (and why the others are
//! not), whether rotation is on within the policy period — automatic rotation for AWS_KMS key
//! material, the age of the key material for imported (EXTERNAL) material, the primary key's
//! rotation for a multi-Region replica —, and whether a key is scheduled for deletion or its
//! imported key material expires before the next report (`kms-key-deletion`, Security Hub KMS.3).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::catalog::{KMS_KEY_DELETION, KMS_KEY_EXPOSURE, KMS_KEY_ROTATION};
use super::history::RegionHistory;
use super::period::Replay;
use super::remediation;
use super::resource_policy::Exposure;
use super::{Available, Evaluation, RegionScope, Status, describe_gaps};
use crate::evidence::{KeyMetadata, KmsEvidence, KmsKeyEvidence, Period, Policy, Timestamp};

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
    /// What the collected key policy allows everyone (`kms-key-exposure`), in short.
    pub policy_exposure: String,
    pub status: Status,
    pub reason: String,
}

impl KeyRow {
    pub fn sort_key(&self) -> (&str, &str, &str) {
        (&self.account_id, &self.region, &self.key_id)
    }
}

/// What the evidence to attach is when a key's material cannot rotate at all: a new key and
/// the alias moved to it (KMS developer guide, "Rotating keys manually").
const MANUAL_ROTATION_EVIDENCE: &str = "rotate manually (new key, alias moved to it); QA attaches the new key's CreateKey and the UpdateAlias CloudTrail events";

/// Why a key is outside the rotation control. Each is reported, never dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotApplicable {
    AwsManaged,
    PendingDeletion(Option<Timestamp>),
    Disabled,
    /// Other non-usable states: PendingImport, Unavailable, Creating, Updating, …
    State(String),
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
            NotApplicable::PendingDeletion(Some(date)) => format!(
                "pending deletion (scheduled for {}; judged by kms-key-deletion)",
                date.display_utc()
            ),
            NotApplicable::PendingDeletion(None) => {
                "pending deletion (judged by kms-key-deletion)".into()
            }
            NotApplicable::Disabled => "disabled: a disabled key protects no new data".into(),
            NotApplicable::State(state) => format!("key state {state}: not usable"),
            NotApplicable::CustomKeyStore => format!(
                "custom key store (CloudHSM or external): neither automatic nor on-demand rotation is supported; {MANUAL_ROTATION_EVIDENCE}"
            ),
            NotApplicable::Asymmetric(spec) => format!(
                "asymmetric key ({spec}): its key material cannot rotate; {MANUAL_ROTATION_EVIDENCE}"
            ),
            NotApplicable::Hmac(spec) => format!(
                "HMAC key ({spec}): its key material cannot rotate; {MANUAL_ROTATION_EVIDENCE}"
            ),
            NotApplicable::NotEncryptDecrypt(usage) => {
                format!("key usage {usage}: only ENCRYPT_DECRYPT keys rotate")
            }
        }
    }
}

/// What a key's rotation is judged by, once it is in the control's scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationBasis {
    /// AWS_KMS key material in the default key store: automatic rotation (KMS.4).
    Automatic,
    /// Imported key material (origin EXTERNAL, symmetric): it cannot rotate automatically but
    /// can rotate on demand after new material is imported, so its age is what is judged.
    ImportedMaterialAge,
    /// A multi-Region replica: rotation is a property of its primary key.
    Primary(MultiRegionKey),
}

/// One key of a multi-Region key set (DescribeKey `MultiRegionConfiguration`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MultiRegionKey {
    pub arn: String,
    pub region: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MultiRegionConfiguration {
    multi_region_key_type: Option<String>,
    primary_key: Option<MultiRegionKey>,
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

/// A raw DescribeKey field the snapshot keeps among the metadata's other fields.
fn metadata_text<'k>(metadata: &'k KeyMetadata, field: &str) -> Option<&'k str> {
    metadata.extra.get(field).and_then(|v| v.as_str())
}

/// The primary key of a multi-Region replica. `Ok(None)`: not a replica (a single-Region key,
/// or the primary itself — `PrimaryKey` names the key itself then). `Err(())`: a multi-Region
/// key whose configuration is missing, so whether it is a replica is unknown.
fn replica_of(key: &KmsKeyEvidence) -> Result<Option<MultiRegionKey>, ()> {
    if key.metadata.multi_region != Some(true) {
        return Ok(None);
    }
    let configuration: MultiRegionConfiguration = key
        .metadata
        .extra
        .get("MultiRegionConfiguration")
        .and_then(|value| serde_json::from_value(value.clone()).ok())
        .ok_or(())?;
    let primary = configuration.primary_key.ok_or(())?;
    // moto (and a key briefly `Updating` after UpdatePrimaryRegion) may label the primary a
    // replica; the primary's own ARN in `PrimaryKey` is what decides.
    let is_primary = key.metadata.arn.as_deref() == Some(primary.arn.as_str());
    match configuration.multi_region_key_type.as_deref() {
        Some("REPLICA") if !is_primary => Ok(Some(primary)),
        Some(_) => Ok(None),
        None => Err(()),
    }
}

/// `Ok(basis)` when the key is in the rotation control's scope, or the reason it is not.
/// `Err(None)` means the metadata is too incomplete to tell, which is an evidence gap.
pub fn applicability(key: &KmsKeyEvidence) -> Result<RotationBasis, Option<NotApplicable>> {
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
    if matches!(
        metadata.origin.as_deref(),
        Some("AWS_CLOUDHSM" | "EXTERNAL_KEY_STORE")
    ) || metadata
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
    if let Some(primary) = replica_of(key).map_err(|()| None)? {
        return Ok(RotationBasis::Primary(primary));
    }
    if metadata.origin.as_deref() == Some("EXTERNAL") {
        return Ok(RotationBasis::ImportedMaterialAge);
    }
    Ok(RotationBasis::Automatic)
}

/// The collected keys of one account by ARN, in every region of the snapshot: a multi-Region
/// replica is judged by its primary, which lives in another region.
#[derive(Debug, Default)]
pub struct AccountKeys<'e> {
    by_arn: BTreeMap<&'e str, &'e KmsKeyEvidence>,
}

impl<'e> AccountKeys<'e> {
    pub fn new(regions: impl IntoIterator<Item = &'e KmsEvidence>) -> Self {
        let by_arn = regions
            .into_iter()
            .flat_map(|kms| &kms.keys)
            .filter_map(|key| Some((key.metadata.arn.as_deref()?, key)))
            .collect();
        AccountKeys { by_arn }
    }

    fn get(&self, arn: &str) -> Option<&'e KmsKeyEvidence> {
        self.by_arn.get(arn).copied()
    }
}

/// GetKeyRotationStatus answers this for keys that cannot rotate automatically. (Not
/// `KMSInvalidStateException`: for a key its metadata says can rotate that answer contradicts
/// the metadata, and a key pending deletion reads `false` rather than failing — D11.)
fn is_cannot_rotate_error(code: &str) -> bool {
    code == "UnsupportedOperationException"
}

pub fn evaluate_key(
    scope: &RegionScope,
    key: &KmsKeyEvidence,
    period: &Period,
    policy: &Policy,
    account_keys: &AccountKeys,
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

    let (status, reason) = judge_rotation(scope, key, period, policy, account_keys);

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
        policy_exposure: match metadata.key_manager.as_deref() {
            Some("AWS") => "set by AWS".to_string(),
            _ => collected_exposure(scope, key).summary(),
        },
        status,
        reason,
    }
}

/// The rotation control's verdict on one key.
fn judge_rotation(
    scope: &RegionScope,
    key: &KmsKeyEvidence,
    period: &Period,
    policy: &Policy,
    account_keys: &AccountKeys,
) -> (Status, String) {
    match applicability(key) {
        Err(Some(not_applicable)) => (Status::NotApplicable, not_applicable.reason()),
        Err(None) => (
            Status::EvidenceGap,
            "DescribeKey metadata lacks KeyManager or KeyState (or a multi-Region key its MultiRegionConfiguration): cannot tell whether or how the key rotates".to_string(),
        ),
        Ok(RotationBasis::Automatic) => judge_automatic_rotation(scope, key, policy),
        Ok(RotationBasis::ImportedMaterialAge) => judge_material_age(key, period, policy),
        Ok(RotationBasis::Primary(primary)) => {
            judge_by_primary(scope, &primary, period, policy, account_keys)
        }
    }
}

/// A replica's rotation is its primary's: KMS copies the primary's rotation setting and new key
/// material to every replica (KMS developer guide, "Rotating multi-Region keys").
fn judge_by_primary(
    scope: &RegionScope,
    primary: &MultiRegionKey,
    period: &Period,
    policy: &Policy,
    account_keys: &AccountKeys,
) -> (Status, String) {
    let named = format!(
        "multi-Region replica: rotation is a property of its primary key {} in {}",
        primary.arn, primary.region
    );
    let Some(primary_key) = account_keys.get(&primary.arn) else {
        return (
            Status::EvidenceGap,
            format!(
                "{named}, whose evidence is not in the snapshot (collect {} to judge it)",
                primary.region
            ),
        );
    };
    // The primary is never a replica itself, so this does not recurse further.
    let (status, reason) = match applicability(primary_key) {
        Ok(RotationBasis::Primary(_)) => (
            Status::EvidenceGap,
            "the primary is itself described as a replica".to_string(),
        ),
        _ => judge_rotation(scope, primary_key, period, policy, account_keys),
    };
    (status, format!("{named}: {reason}"))
}

/// The fix of a failing rotation, by what the key's rotation is judged by: automatic rotation
/// switched on within the policy, new imported material rotated in on demand, or either on
/// the primary of a replica, in the primary's region.
pub fn rotation_remediation(
    key: &KmsKeyEvidence,
    region: &str,
    policy: &Policy,
    account_keys: &AccountKeys,
) -> String {
    let arn = key.metadata.arn.as_deref().unwrap_or(&key.metadata.key_id);
    match applicability(key) {
        Ok(RotationBasis::Automatic) => {
            remediation::kms_enable_rotation(arn, region, policy.max_rotation_days)
        }
        Ok(RotationBasis::ImportedMaterialAge) => remediation::kms_rotate_imported(arn, region),
        Ok(RotationBasis::Primary(primary)) => {
            let fix = match account_keys.get(&primary.arn) {
                // The primary is never a replica itself, so this recurses once at most.
                Some(primary_key)
                    if !matches!(applicability(primary_key), Ok(RotationBasis::Primary(_))) =>
                {
                    rotation_remediation(primary_key, &primary.region, policy, account_keys)
                }
                _ => remediation::kms_enable_rotation(
                    &primary.arn,
                    &primary.region,
                    policy.max_rotation_days,
                ),
            };
            remediation::on_primary(&primary.arn, &primary.region, &fix)
        }
        Err(_) => String::new(),
    }
}

/// The fix of a failing `kms-key-deletion`: cancel the deletion, or re-import the expiring
/// material without expiry.
pub fn deletion_remediation(metadata: &KeyMetadata, region: &str) -> String {
    let arn = metadata.arn.as_deref().unwrap_or(&metadata.key_id);
    match metadata.key_state.as_deref() {
        Some("PendingDeletion" | "PendingReplicaDeletion") => {
            remediation::kms_cancel_deletion(arn, region)
        }
        _ => remediation::kms_reimport_without_expiry(arn, region),
    }
}

fn judge_automatic_rotation(
    scope: &RegionScope,
    key: &KmsKeyEvidence,
    policy: &Policy,
) -> (Status, String) {
    let Some(rotation) = &key.rotation_status else {
        if let Some(error) = &key.rotation_status_error {
            if is_cannot_rotate_error(&error.code) {
                return (
                    Status::NotApplicable,
                    format!(
                        "GetKeyRotationStatus answered {}: the key cannot rotate automatically; {MANUAL_ROTATION_EVIDENCE}",
                        error.code
                    ),
                );
            }
            return (
                Status::EvidenceGap,
                format!(
                    "GetKeyRotationStatus failed with {}{}{}",
                    error.code,
                    error
                        .message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default(),
                    if error.code == "KMSInvalidStateException" {
                        " (DescribeKey says the key is enabled and can rotate, so the rotation setting is unknown)"
                    } else {
                        ""
                    }
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
    // Responses from before configurable periods (2024) omit the field: the period was 365 days.
    let days = rotation.rotation_period_in_days.unwrap_or(365);
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

const IMPORTED_MATERIAL: &str = "imported key material (origin EXTERNAL): it cannot rotate automatically, only on demand after new material is imported";
const IMPORTED_MATERIAL_EVIDENCE: &str = "QA attaches ListKeyRotations (IncludeKeyMaterial=ALL_KEY_MATERIAL) and the ImportKeyMaterial and RotateKeyOnDemand CloudTrail events of each rotation";

/// Imported key material rotates only on demand (RotateKeyOnDemand after ImportKeyMaterial with
/// `ImportType` NEW_KEY_MATERIAL), so the key is judged by how old its current key material got
/// during the period. A material dates from its rotation (ListKeyRotations `RotationDate`); the
/// first one from the first import, which no API returns: the key's creation date stands in for
/// it, an upper bound of its age.
fn judge_material_age(key: &KmsKeyEvidence, period: &Period, policy: &Policy) -> (Status, String) {
    let Some(created) = key.metadata.creation_date else {
        return (
            Status::EvidenceGap,
            format!(
                "{IMPORTED_MATERIAL}; DescribeKey has no CreationDate, so the age of the first key material is unknown"
            ),
        );
    };
    let max_days = i64::from(policy.max_rotation_days);
    let days = |from: Timestamp, to: Timestamp| (to.0 - from.0).num_days().max(0);
    let Some(rotations) = &key.rotations else {
        // Without the rotation history the material is at most as old as the key.
        let upper_bound = days(created, period.end);
        if upper_bound <= max_days {
            return (
                Status::Pass,
                format!(
                    "{IMPORTED_MATERIAL}; the key was created on {}, so its key material was at most {upper_bound} days old during the period (policy: at most {max_days}); {IMPORTED_MATERIAL_EVIDENCE}",
                    created.display_date()
                ),
            );
        }
        return (
            Status::EvidenceGap,
            format!(
                "{IMPORTED_MATERIAL}; ListKeyRotations was not collected, so the age of the key material is unknown (the key was created on {})",
                created.display_date()
            ),
        );
    };
    let mut since: Vec<Timestamp> = rotations.iter().map(|r| r.rotation_date).collect();
    since.push(created);
    since.sort();
    since.dedup();
    // The oldest any material got while it was current inside the period.
    let oldest = since
        .iter()
        .enumerate()
        .filter_map(|(i, &from)| {
            let replaced = since.get(i + 1).copied().unwrap_or(period.end);
            let until = replaced.min(period.end);
            (from < period.end && until > period.start).then(|| (from, until, days(from, until)))
        })
        .max_by_key(|(_, _, age)| *age);
    let Some((from, until, age)) = oldest else {
        return (
            Status::Pass,
            format!(
                "{IMPORTED_MATERIAL}; the key was created after the period; {IMPORTED_MATERIAL_EVIDENCE}"
            ),
        );
    };
    let origin = if from == created {
        " (the key's creation date: the first import is not an API field, so this is an upper bound)"
    } else {
        " (its rotation date)"
    };
    if age > max_days {
        return (
            Status::Fail,
            format!(
                "{IMPORTED_MATERIAL}; its key material from {}{origin} was {age} days old on {}, older than the policy's {max_days} days; {IMPORTED_MATERIAL_EVIDENCE}",
                from.display_date(),
                until.display_date(),
            ),
        );
    }
    (
        Status::Pass,
        format!(
            "{IMPORTED_MATERIAL}; its key material was at most {age} days old during the period (material from {}{origin}; policy: at most {max_days}); {IMPORTED_MATERIAL_EVIDENCE}",
            from.display_date()
        ),
    )
}

/// `kms-key-deletion` (Security Hub KMS.3, Config `kms-cmk-not-scheduled-for-deletion`): a key
/// scheduled for deletion FAILs — data encrypted under a deleted key is unrecoverable (Annex 11
/// §7.1) —, and so does imported key material that expires before the end of the next report's
/// period: KMS then deletes the material and the key is unusable until it is re-imported.
pub fn judge_deletion(
    scope: &RegionScope,
    metadata: &KeyMetadata,
    period: &Period,
) -> (Status, String) {
    let Some(state) = metadata.key_state.as_deref() else {
        let ids = [
            metadata.key_id.as_str(),
            metadata.arn.as_deref().unwrap_or(""),
        ];
        let gaps = scope.resource_gaps("kms", &ids);
        let why = if gaps.is_empty() {
            String::new()
        } else {
            format!(" ({})", describe_gaps(&gaps))
        };
        return (
            Status::EvidenceGap,
            format!(
                "DescribeKey metadata lacks KeyState: cannot tell whether the key is scheduled for deletion{why}"
            ),
        );
    };
    match state {
        "PendingDeletion" => {
            let when = metadata
                .deletion_date
                .map(|date| format!(" on {}", date.display_utc()))
                .unwrap_or_else(|| {
                    " (the deletion date is not in this version of the evidence)".to_string()
                });
            return (
                Status::Fail,
                format!(
                    "scheduled for deletion{when}: data encrypted under the key becomes unrecoverable"
                ),
            );
        }
        "PendingReplicaDeletion" => {
            let window = metadata
                .extra
                .get("PendingDeletionWindowInDays")
                .and_then(|v| v.as_u64())
                .map(|days| format!(", {days} days after its last replica is deleted"))
                .unwrap_or_default();
            return (
                Status::Fail,
                format!(
                    "multi-Region primary scheduled for deletion (PendingReplicaDeletion{window}): data encrypted under the key becomes unrecoverable"
                ),
            );
        }
        _ => {}
    }
    if metadata.origin.as_deref() != Some("EXTERNAL") {
        return (
            Status::Pass,
            format!("not scheduled for deletion (key state {state})"),
        );
    }
    let valid_to = metadata_text(metadata, "ValidTo");
    let expiration_model = metadata_text(metadata, "ExpirationModel");
    let next_report_end = Timestamp(period.end.0 + (period.end.0 - period.start.0));
    match (expiration_model, valid_to) {
        (Some("KEY_MATERIAL_DOES_NOT_EXPIRE"), _) => (
            Status::Pass,
            format!("not scheduled for deletion (key state {state}); the imported key material does not expire"),
        ),
        (_, Some(text)) => match Timestamp::parse(text) {
            Some(expiry) if expiry < next_report_end => (
                Status::Fail,
                format!(
                    "imported key material {} on {} (ValidTo), before {} (the end of the next report's period, one period length after this one): KMS then deletes it and the key cannot decrypt until the same material is re-imported",
                    if expiry < period.end { "expired or expires" } else { "expires" },
                    expiry.display_utc(),
                    next_report_end.display_utc()
                ),
            ),
            Some(expiry) => (
                Status::Pass,
                format!("not scheduled for deletion (key state {state}); the imported key material expires on {}, after the next report's period", expiry.display_utc()),
            ),
            None => (
                Status::EvidenceGap,
                format!("the imported key material's ValidTo {text:?} is not a time"),
            ),
        },
        (Some(model), None) => (
            Status::EvidenceGap,
            format!("imported key material with ExpirationModel {model} but no ValidTo: when it expires is unknown"),
        ),
        (None, None) if state == "PendingImport" => (
            Status::Pass,
            "not scheduled for deletion; no key material imported (PendingImport: the key is unusable until it is)".to_string(),
        ),
        (None, None) => (
            Status::EvidenceGap,
            "imported key material (origin EXTERNAL) without ExpirationModel or ValidTo in the evidence: whether it expires is unknown".to_string(),
        ),
    }
}

/// What `kms-key-exposure` reads of a key: its metadata and what its key policy allows
/// everyone. The period rule replays PutKeyPolicy and CreateKey into `key_policy_exposure`,
/// so a policy opened and closed again inside the period is seen.
#[derive(Debug, Serialize, Deserialize)]
struct KeyExposureView {
    metadata: KeyMetadata,
    key_policy_exposure: Exposure,
}

/// The exposure of the collected key policy; a policy not collected is unknown, naming the
/// failed GetKeyPolicy call (AccessDenied included) or the snapshot's gaps for the key.
fn collected_exposure(scope: &RegionScope, key: &KmsKeyEvidence) -> Exposure {
    if let Some(text) = &key.key_policy {
        return Exposure::of_text(text);
    }
    let why = if let Some(error) = &key.key_policy_error {
        format!(
            "GetKeyPolicy failed with {}{}",
            error.code,
            error
                .message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        )
    } else {
        let ids = [
            key.metadata.key_id.as_str(),
            key.metadata.arn.as_deref().unwrap_or(""),
        ];
        let gaps: Vec<_> = scope
            .resource_gaps("kms", &ids)
            .into_iter()
            .filter(|gap| gap.api == "GetKeyPolicy")
            .collect();
        if gaps.is_empty() {
            "the key policy (GetKeyPolicy) was not collected".to_string()
        } else {
            describe_gaps(&gaps)
        }
    };
    Exposure::Unknown { why }
}

/// `kms-key-exposure` (Security Hub KMS.5, AWS Config kms-key-policy-no-public-access): a
/// customer managed key whose policy allows everyone without a limiting condition FAILs,
/// quoting the statements. AWS managed keys are listed as not applicable: AWS writes their
/// policies (use through the owning service by the account's principals only) and nobody can
/// change them.
fn judge_exposure(view: &KeyExposureView) -> (Status, String) {
    match view.metadata.key_manager.as_deref() {
        None => {
            return (
                Status::EvidenceGap,
                "DescribeKey metadata lacks KeyManager: cannot tell whether the key policy is the customer's".to_string(),
            );
        }
        Some("AWS") => {
            return (
                Status::NotApplicable,
                "AWS managed key: AWS sets its key policy (use through the owning service by this account's principals only); it cannot be changed".to_string(),
            );
        }
        Some(_) => {}
    }
    match &view.key_policy_exposure {
        Exposure::Open { statements } => (
            Status::Fail,
            format!(
                "the key policy allows everyone without a condition limiting the callers: {}",
                statements.join("; ")
            ),
        ),
        Exposure::Closed { limited } if limited.is_empty() => (
            Status::Pass,
            "no key policy statement allows everyone; every Allow names its principals".to_string(),
        ),
        Exposure::Closed { limited } => (
            Status::Pass,
            format!(
                "no key policy statement allows everyone without a limiting condition: {}",
                limited.join("; ")
            ),
        ),
        Exposure::Unknown { why } => (Status::EvidenceGap, why.clone()),
    }
}

/// The fix of a failing `kms-key-exposure`, naming the open statements.
fn exposure_remediation(view: &KeyExposureView, account_id: &str, region: &str) -> String {
    let Exposure::Open { statements } = &view.key_policy_exposure else {
        return String::new();
    };
    let names: Vec<String> = statements
        .iter()
        .map(|quoted| {
            quoted
                .split_once(" {")
                .map_or(quoted.as_str(), |(name, _)| name)
                .to_string()
        })
        .collect();
    let arn = view
        .metadata
        .arn
        .as_deref()
        .unwrap_or(&view.metadata.key_id);
    remediation::kms_close_key_policy(arn, region, account_id, &names)
}

/// A key's result label: its id and its first alias (in sorted order), if any.
fn key_resource(key_id: &str, first_alias: Option<&str>) -> String {
    match first_alias {
        Some(alias) => format!("{key_id} ({alias})"),
        None => key_id.to_string(),
    }
}

/// The controls judged per key, in the order of their rows.
const KEY_CONTROLS: [&str; 3] = [KMS_KEY_ROTATION, KMS_KEY_DELETION, KMS_KEY_EXPOSURE];

/// What `kms-key-deletion` reads of a key: its DescribeKey metadata. The period rule rebuilds
/// it on its own, so a rotation setting that cannot be rebuilt does not hide a deletion.
#[derive(Debug, Serialize, Deserialize)]
struct KeyMetadataOnly {
    metadata: KeyMetadata,
}

pub fn evaluate_region(
    scope: &RegionScope,
    evidence: Option<&KmsEvidence>,
    history: &RegionHistory,
    replay: &Replay,
    policy: &Policy,
    account_keys: &AccountKeys,
    out: &mut Evaluation,
) {
    let period = replay.period;
    let gaps = scope.service_gaps("kms");
    let rows = KEY_CONTROLS.map(|control| (control, None));
    let Some(Available { evidence, complete }) =
        scope.available(&rows, "KMS", &gaps, evidence, out)
    else {
        return;
    };
    let rotation = |key: &KmsKeyEvidence, out: &mut Evaluation| {
        let row = evaluate_key(scope, key, period, policy, account_keys);
        let finding = scope
            .finding(
                KMS_KEY_ROTATION,
                key_resource(&row.key_id, row.aliases.first().map(String::as_str)),
                None,
                row.status,
                row.reason.clone(),
            )
            .with_remediation(rotation_remediation(
                key,
                scope.region,
                policy,
                account_keys,
            ));
        out.findings.push(finding);
        out.keys.push(row);
    };
    // Judges both controls of one key over the period; `current` is `None` for a key a
    // recorded event deleted before collection (`skeleton` names it).
    let judge_key = |current: Option<&KmsKeyEvidence>,
                     skeleton: serde_json::Value,
                     key_id: &str,
                     resource: &str,
                     out: &mut Evaluation| {
        let key_history = history.key(key_id);
        let gap = |control: &str, reason: &str| {
            vec![scope.finding(control, resource, None, Status::EvidenceGap, reason)]
        };
        let findings = replay.judge(
            current,
            skeleton.clone(),
            &key_history,
            rotation,
            |reason| gap(KMS_KEY_ROTATION, reason),
            out,
        );
        let metadata = current.map(|key| KeyMetadataOnly {
            metadata: key.metadata.clone(),
        });
        replay.judge(
            metadata.as_ref(),
            skeleton.clone(),
            &key_history,
            |key: &KeyMetadataOnly, out: &mut Evaluation| {
                let (status, reason) = judge_deletion(scope, &key.metadata, period);
                out.findings.push(
                    scope
                        .finding(KMS_KEY_DELETION, resource, None, status, reason)
                        .with_remediation(deletion_remediation(&key.metadata, scope.region)),
                );
            },
            |reason| gap(KMS_KEY_DELETION, reason),
            out,
        );
        let exposure = current.map(|key| KeyExposureView {
            metadata: key.metadata.clone(),
            key_policy_exposure: collected_exposure(scope, key),
        });
        replay.judge(
            exposure.as_ref(),
            skeleton,
            &history.key_exposure(key_id),
            |view: &KeyExposureView, out: &mut Evaluation| {
                let (status, reason) = judge_exposure(view);
                out.findings.push(
                    scope
                        .finding(KMS_KEY_EXPOSURE, resource, None, status, reason)
                        .with_remediation(exposure_remediation(
                            view,
                            scope.account_id,
                            scope.region,
                        )),
                );
            },
            |reason| gap(KMS_KEY_EXPOSURE, reason),
            out,
        );
        findings
    };
    for key in &evidence.keys {
        let key_id = &key.metadata.key_id;
        let first_alias = key.aliases.iter().map(|a| a.alias_name.as_str()).min();
        let resource = key_resource(key_id, first_alias);
        let findings = judge_key(Some(key), serde_json::Value::Null, key_id, &resource, out);
        // The key table's result is the period's rotation result, like its result row.
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
        judge_key(None, skeleton, key_id, key_id, out);
    }
    if evidence.keys.is_empty() && complete {
        scope.push_rows(
            &rows,
            "(region)",
            Status::NoResources,
            "no KMS keys in this region",
            out,
        );
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
        evaluate_key(
            &scope,
            key,
            &period(),
            &Policy::default(),
            &AccountKeys::default(),
        )
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
            "pending deletion (scheduled for 2026-11-20 00:00:00 UTC; judged by kms-key-deletion)"
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

    fn judged_exposure(metadata: serde_json::Value, policy: Option<&str>) -> (Status, String) {
        let gaps: Vec<EvidenceGap> = Vec::new();
        let scope = RegionScope::new("111111111111", "eu-central-1", &gaps);
        let mut k = key(metadata, None);
        k.key_policy = policy.map(str::to_string);
        judge_exposure(&KeyExposureView {
            key_policy_exposure: collected_exposure(&scope, &k),
            metadata: k.metadata,
        })
    }

    #[test]
    fn exposure_fails_an_open_policy_passes_a_closed_one_and_lists_aws_managed_keys() {
        let open = r#"{"Statement":[{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*"}]}"#;
        let (status, reason) = judged_exposure(json!({}), Some(open));
        assert_eq!(status, Status::Fail);
        assert!(reason.contains(r#"statement "Open" {"#), "{reason}");
        let closed = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kms:*","Resource":"*"}]}"#;
        assert_eq!(judged_exposure(json!({}), Some(closed)).0, Status::Pass);
        let (status, reason) = judged_exposure(json!({"KeyManager": "AWS"}), None);
        assert_eq!(status, Status::NotApplicable);
        assert!(reason.starts_with("AWS managed key"), "{reason}");
    }

    #[test]
    fn exposure_without_the_policy_or_the_key_manager_is_a_gap() {
        let (status, reason) = judged_exposure(json!({}), None);
        assert_eq!(
            (status, reason.as_str()),
            (
                Status::EvidenceGap,
                "the key policy (GetKeyPolicy) was not collected"
            )
        );
        let mut k = key(json!({}), None);
        k.metadata.key_manager = None;
        let view = KeyExposureView {
            metadata: k.metadata,
            key_policy_exposure: Exposure::Closed { limited: vec![] },
        };
        assert_eq!(judge_exposure(&view).0, Status::EvidenceGap);
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
            &AccountKeys::default(),
            &mut out,
        );
        assert_eq!(out.findings.len(), 3, "one row per KMS control");
        assert!(out.findings.iter().all(|f| f.status == Status::NoResources));
    }

    fn scope_judge_deletion(key: &KmsKeyEvidence) -> (Status, String) {
        let gaps: Vec<EvidenceGap> = Vec::new();
        let scope = RegionScope::new("111111111111", "eu-central-1", &gaps);
        judge_deletion(&scope, &key.metadata, &period())
    }

    #[test]
    fn a_key_scheduled_for_deletion_fails_with_its_date() {
        let k = key(
            json!({"KeyState": "PendingDeletion", "DeletionDate": "2026-11-20T00:00:00Z",
                   "Arn": "arn:aws:kms:eu-central-1:111111111111:key/k1"}),
            None,
        );
        let (status, reason) = scope_judge_deletion(&k);
        assert_eq!(status, Status::Fail);
        assert!(
            reason.starts_with("scheduled for deletion on 2026-11-20 00:00:00 UTC"),
            "{reason}"
        );
        assert_eq!(
            deletion_remediation(&k.metadata, "eu-central-1"),
            "If the key is still needed: aws kms cancel-key-deletion --key-id \
             arn:aws:kms:eu-central-1:111111111111:key/k1 --region eu-central-1, then aws kms \
             enable-key --key-id arn:aws:kms:eu-central-1:111111111111:key/k1 --region \
             eu-central-1 (cancelling leaves the key disabled). If the deletion is intended, \
             record it in change control with the evidence that no data still depends on the key"
        );
        let primary = key(
            json!({"KeyState": "PendingReplicaDeletion", "PendingDeletionWindowInDays": 7}),
            None,
        );
        let (status, reason) = scope_judge_deletion(&primary);
        assert_eq!(status, Status::Fail);
        assert!(
            reason.contains("7 days after its last replica is deleted"),
            "{reason}"
        );
    }

    #[test]
    fn keys_not_scheduled_for_deletion_pass_and_an_unknown_state_is_a_gap() {
        let (status, reason) = scope_judge_deletion(&key(json!({}), Some((true, None))));
        assert_eq!(
            (status, reason.as_str()),
            (
                Status::Pass,
                "not scheduled for deletion (key state Enabled)"
            )
        );
        let mut unknown = key(json!({}), None);
        unknown.metadata.key_state = None;
        assert_eq!(scope_judge_deletion(&unknown).0, Status::EvidenceGap);
    }

    fn imported(metadata: serde_json::Value) -> KmsKeyEvidence {
        let mut k = key(
            json!({"Origin": "EXTERNAL", "CreationDate": "2026-09-01T00:00:00Z"}),
            Some((false, None)),
        );
        for (field, value) in metadata.as_object().unwrap() {
            k.metadata.extra.insert(field.clone(), value.clone());
        }
        k.rotations = Some(Vec::new());
        k
    }

    #[test]
    fn imported_key_material_expiring_before_the_next_report_fails_with_the_date() {
        // Inside the period, and before one period length (31 days) after it: FAIL.
        for (valid_to, verb) in [
            (
                "2026-10-20T12:00:00Z",
                "expired or expires on 2026-10-20 12:00:00 UTC",
            ),
            ("2026-11-30T23:00:00Z", "expires on 2026-11-30 23:00:00 UTC"),
        ] {
            let k =
                imported(json!({"ExpirationModel": "KEY_MATERIAL_EXPIRES", "ValidTo": valid_to}));
            let (status, reason) = scope_judge_deletion(&k);
            assert_eq!(status, Status::Fail, "{valid_to}");
            assert!(reason.contains(verb), "{reason}");
            assert!(
                reason.contains("before 2026-12-02 00:00:00 UTC"),
                "{reason}"
            );
        }
        let later = imported(
            json!({"ExpirationModel": "KEY_MATERIAL_EXPIRES", "ValidTo": "2026-12-02T00:00:00Z"}),
        );
        assert_eq!(scope_judge_deletion(&later).0, Status::Pass);
        let never = imported(json!({"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}));
        assert_eq!(scope_judge_deletion(&never).0, Status::Pass);
        // Expiring, but when is not in the evidence: never a PASS.
        let unknown = imported(json!({"ExpirationModel": "KEY_MATERIAL_EXPIRES"}));
        assert_eq!(scope_judge_deletion(&unknown).0, Status::EvidenceGap);
        assert_eq!(
            scope_judge_deletion(&imported(json!({}))).0,
            Status::EvidenceGap
        );
    }

    fn rotation(date: &str, kind: &str) -> KeyRotation {
        KeyRotation {
            rotation_date: Timestamp::parse(date).unwrap(),
            rotation_type: Some(kind.into()),
            extra: Default::default(),
        }
    }

    #[test]
    fn imported_key_material_is_judged_by_its_age_against_the_policy() {
        // Created (first import at the latest) 2025-02-03: 636 days old at the period end.
        let mut old = imported(json!({"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}));
        old.metadata.creation_date = Timestamp::parse("2025-02-03T10:00:00Z");
        old.metadata.arn = Some("arn:aws:kms:eu-central-1:111111111111:key/k1".into());
        let row = judge(&old);
        assert_eq!(row.status, Status::Fail, "{}", row.reason);
        assert!(
            row.reason.contains("key material from 2025-02-03"),
            "{}",
            row.reason
        );
        assert!(
            row.reason.contains("was 635 days old on 2026-11-01"),
            "{}",
            row.reason
        );
        let fix = rotation_remediation(
            &old,
            "eu-central-1",
            &Policy::default(),
            &AccountKeys::default(),
        );
        assert!(
            fix.contains(
                "aws kms import-key-material --key-id arn:aws:kms:eu-central-1:111111111111:key/k1 \
                 --region eu-central-1 --import-type NEW_KEY_MATERIAL"
            ),
            "{fix}"
        );
        assert!(
            fix.ends_with(
                "then aws kms rotate-key-on-demand --key-id \
                 arn:aws:kms:eu-central-1:111111111111:key/k1 --region eu-central-1"
            ),
            "{fix}"
        );
        assert!(
            row.reason
                .contains("ListKeyRotations (IncludeKeyMaterial=ALL_KEY_MATERIAL)")
        );
        // Rotated on demand inside the period: the old material was too old until then.
        old.rotations = Some(vec![rotation("2026-10-10T00:00:00Z", "ON_DEMAND")]);
        let row = judge(&old);
        assert_eq!(row.status, Status::Fail);
        assert!(row.reason.contains("on 2026-10-10"), "{}", row.reason);
        // Rotated before the period, within the policy: PASS, saying what QA attaches.
        old.rotations = Some(vec![rotation("2026-03-01T00:00:00Z", "ON_DEMAND")]);
        let row = judge(&old);
        assert_eq!(row.status, Status::Pass, "{}", row.reason);
        assert!(
            row.reason.contains("at most 245 days old"),
            "{}",
            row.reason
        );
        assert!(row.reason.contains("RotateKeyOnDemand CloudTrail events"));
        // Without the rotation history an old key's material age is unknown; a young key's is not.
        old.rotations = None;
        assert_eq!(judge(&old).status, Status::EvidenceGap);
        let mut young = imported(json!({}));
        young.rotations = None;
        assert_eq!(judge(&young).status, Status::Pass);
    }

    #[test]
    fn imported_asymmetric_keys_cannot_rotate_and_say_what_to_attach() {
        let reason = not_applicable_reason(
            json!({"Origin": "EXTERNAL", "KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}),
        );
        assert!(reason.contains("cannot rotate"), "{reason}");
        assert!(reason.contains("UpdateAlias"), "{reason}");
    }

    const PRIMARY_ARN: &str = "arn:aws:kms:eu-west-1:111111111111:key/mrk-1";
    const REPLICA_ARN: &str = "arn:aws:kms:eu-central-1:111111111111:key/mrk-1";

    fn multi_region(
        arn: &str,
        kind: &str,
        rotation: Option<(bool, Option<u32>)>,
    ) -> KmsKeyEvidence {
        key(
            json!({"KeyId": "mrk-1", "Arn": arn, "MultiRegion": true,
                   "MultiRegionConfiguration": {"MultiRegionKeyType": kind,
                       "PrimaryKey": {"Arn": PRIMARY_ARN, "Region": "eu-west-1"},
                       "ReplicaKeys": [{"Arn": REPLICA_ARN, "Region": "eu-central-1"}]}}),
            rotation,
        )
    }

    fn judge_replica(primary: Option<&KmsKeyEvidence>) -> KeyRow {
        let gaps: Vec<EvidenceGap> = Vec::new();
        let scope = RegionScope::new("111111111111", "eu-central-1", &gaps);
        let primary_region = KmsEvidence {
            keys: primary.into_iter().cloned().collect(),
            extra: Default::default(),
        };
        // The replica reads rotation on (a synchronised copy), whatever the primary says.
        let replica = multi_region(REPLICA_ARN, "REPLICA", Some((true, Some(365))));
        evaluate_key(
            &scope,
            &replica,
            &period(),
            &Policy::default(),
            &AccountKeys::new([&primary_region]),
        )
    }

    #[test]
    fn a_replica_is_judged_by_its_primary_and_names_it() {
        let off = multi_region(PRIMARY_ARN, "PRIMARY", Some((false, None)));
        let row = judge_replica(Some(&off));
        assert_eq!(row.status, Status::Fail, "{}", row.reason);
        assert!(
            row.reason
                .contains(&format!("primary key {PRIMARY_ARN} in eu-west-1")),
            "{}",
            row.reason
        );
        let primary_region = KmsEvidence {
            keys: vec![off.clone()],
            extra: Default::default(),
        };
        let replica = multi_region(REPLICA_ARN, "REPLICA", Some((true, Some(365))));
        assert_eq!(
            rotation_remediation(
                &replica,
                "eu-central-1",
                &Policy::default(),
                &AccountKeys::new([&primary_region]),
            ),
            format!(
                "On the primary key {PRIMARY_ARN} in eu-west-1 (a replica follows its primary): \
                 aws kms enable-key-rotation --key-id {PRIMARY_ARN} --region eu-west-1 \
                 --rotation-period-in-days 365"
            )
        );
        let on = multi_region(PRIMARY_ARN, "PRIMARY", Some((true, Some(365))));
        assert_eq!(judge_replica(Some(&on)).status, Status::Pass);
        // The primary's own row: a primary is never judged as a replica, even when labelled one.
        let labelled = multi_region(PRIMARY_ARN, "REPLICA", Some((true, Some(365))));
        assert_eq!(judge(&labelled).status, Status::Pass);
    }

    #[test]
    fn a_replica_whose_primary_is_not_in_the_evidence_is_a_gap_naming_the_primary() {
        let row = judge_replica(None);
        assert_eq!(row.status, Status::EvidenceGap);
        assert!(row.reason.contains(PRIMARY_ARN), "{}", row.reason);
        assert!(row.reason.contains("collect eu-west-1"), "{}", row.reason);
        // A multi-Region key without its configuration: replica or not is unknown.
        let mut bare = multi_region(REPLICA_ARN, "REPLICA", Some((true, None)));
        bare.metadata.extra.remove("MultiRegionConfiguration");
        assert_eq!(judge(&bare).status, Status::EvidenceGap);
    }

    #[test]
    fn invalid_state_on_a_key_that_can_rotate_is_a_gap_not_not_applicable() {
        let mut k = key(json!({}), None);
        k.rotation_status_error = Some(ApiError {
            code: "KMSInvalidStateException".into(),
            message: None,
        });
        let row = judge(&k);
        assert_eq!(row.status, Status::EvidenceGap, "{}", row.reason);
        assert!(row.reason.contains("DescribeKey says the key is enabled"));
    }

    #[test]
    fn a_deletion_scheduled_and_cancelled_inside_the_period_fails_with_its_interval() {
        use super::super::period::{Effect, EventRef, History, NewValue};
        let at = |t: &str| Timestamp::parse(t).unwrap();
        let event = |name: &str, t: &str| EventRef {
            id: format!("id-{name}"),
            name: name.into(),
            at: at(t),
        };
        let set = |e: &EventRef, field: &[&str], value: NewValue| Effect {
            event: e.clone(),
            field: field.iter().map(|s| s.to_string()).collect(),
            value,
        };
        let schedule = event("ScheduleKeyDeletion", "2026-10-05T00:00:00Z");
        let cancel = event("CancelKeyDeletion", "2026-10-09T00:00:00Z");
        let enable = event("EnableKey", "2026-10-09T00:05:00Z");
        let mut history = RegionHistory::default();
        history.keys.insert(
            "k1".into(),
            History {
                effects: vec![
                    set(
                        &schedule,
                        &["metadata", "KeyState"],
                        NewValue::Set(json!("PendingDeletion")),
                    ),
                    set(
                        &cancel,
                        &["metadata", "KeyState"],
                        NewValue::Set(json!("Disabled")),
                    ),
                    set(
                        &enable,
                        &["metadata", "KeyState"],
                        NewValue::Set(json!("Enabled")),
                    ),
                ],
                ..History::default()
            },
        );
        let gaps: Vec<EvidenceGap> = Vec::new();
        let scope = RegionScope::new("111111111111", "eu-central-1", &gaps);
        let evidence = KmsEvidence {
            keys: vec![key(json!({}), Some((true, Some(365))))],
            extra: Default::default(),
        };
        let mut out = Evaluation::default();
        evaluate_region(
            &scope,
            Some(&evidence),
            &history,
            &Replay::unchanged(&period()),
            &Policy::default(),
            &AccountKeys::default(),
            &mut out,
        );
        let deletion = out
            .findings
            .iter()
            .find(|f| f.control_id == KMS_KEY_DELETION)
            .unwrap();
        assert_eq!(deletion.status, Status::Fail, "{}", deletion.reason);
        assert!(
            deletion.reason.contains("from 2026-10-05 00:00:00 UTC to 2026-10-09 00:00:00 UTC (since ScheduleKeyDeletion id-ScheduleKeyDeletion"),
            "{}",
            deletion.reason
        );
    }
}
