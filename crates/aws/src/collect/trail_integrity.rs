//! The digest-chain validation of each trail that logs an account-region, when the change
//! events come from the trail's log files (`collect --trail-logs`): CloudTrail's public keys
//! for the period from ListPublicKeys (asked in the region, paged), then
//! `gxp_evidence_core::log_integrity::validate_trail` over the period on a blocking thread,
//! with the store seen through the `TrailObjects` trait (`trail_objects`: the local copy below
//! the trail's key prefix, or the trail's bucket in S3 when that is the `--trail-logs` bucket). The result is kept per trail in the
//! snapshot (`CloudTrailEvidence::log_integrity`) for `cloudtrail-log-integrity`; what could
//! not be validated is recorded as not validated (and, for failed calls or reads, an evidence
//! gap of the trail), never as intact.

use std::sync::Arc;

use aws_sdk_cloudtrail::Client;
use base64ct::{Base64, Encoding};
use chrono::{DateTime, Duration, Utc};
use gxp_evidence_core::evidence::{IntegrityResult, Period, TrailEvidence, TrailIntegrity};
use gxp_evidence_core::log_integrity::{
    IntegrityError, IntegrityReport, PublicKeyList, TimeRange, TrailLocation, TrailObjects,
    TrailPublicKey, ValidationScope, validate_trail,
};

use super::trail_log_store::TrailLogStore;

use super::sdk::{CallFailure, FailureKind, PageTokens, sdk_datetime, timestamp};
use super::{CredentialsFailed, RegionContext};

const SERVICE: &str = "cloudtrail";

/// The `api` of the evidence gaps of a trail whose objects could not be read for validation.
pub const VALIDATION_GAP_API: &str = "ValidateLogFiles";

/// CloudTrail writes a digest file for each hour shortly after the hour ends; hours closer to
/// the collection than this may have no digest yet, and are left out of the validated range
/// (the control then reports the period as not fully validated).
const DIGEST_DELIVERY_ALLOWANCE_HOURS: i64 = 2;

/// The range to validate: the period, up to the last hours whose digests must have arrived.
pub fn validation_range(period: Period, now: DateTime<Utc>) -> TimeRange {
    let latest = now - Duration::hours(DIGEST_DELIVERY_ALLOWANCE_HOURS);
    TimeRange {
        start: period.start.0,
        end: period.end.0.min(latest).max(period.start.0),
    }
}

/// The trail's objects in the store, by their keys in the trail's bucket (a folder stands for
/// any trail's bucket below its key prefix; an S3 source only for its own bucket). `None`: the
/// trail delivers to another bucket than the S3 source.
fn trail_objects<'s>(
    store: &'s TrailLogStore,
    bucket: &str,
    key_prefix: Option<&str>,
) -> Option<Box<dyn TrailObjects + Send + Sync + 's>> {
    match store.bucket() {
        Some(source) if source.bucket != bucket => None,
        _ => Some(store.trail_objects(key_prefix)),
    }
}

/// The organization folders (`AWSLogs/o-…`) of the store, where organization trails write.
fn organization_folders(store: &TrailLogStore) -> Result<Vec<String>, String> {
    let store = store.log_files();
    store
        .list("AWSLogs")
        .map(|listing| {
            listing
                .folders
                .into_iter()
                .filter(|f| f.starts_with("o-"))
                .collect()
        })
        .map_err(|e| format!("cannot list {}: {e}", store.name_of("AWSLogs")))
}

/// Validates every trail of `trails` (those DescribeTrails lists in the region: they log it)
/// for the account-region over the period.
pub async fn validate_trails(
    context: &Arc<RegionContext>,
    client: &Client,
    store: &TrailLogStore,
    trails: &[TrailEvidence],
    period: Period,
) -> Result<Vec<TrailIntegrity>, CredentialsFailed> {
    let range = validation_range(period, Utc::now());
    let mut keys: Option<Result<PublicKeyList, CallFailure>> = None;
    let mut results = Vec::new();
    for evidence in trails {
        let trail = &evidence.trail;
        let not_validated = |code: &str, message: String| TrailIntegrity {
            trail: trail.name.clone(),
            trail_arn: trail.trail_arn.clone(),
            range,
            result: IntegrityResult::NotValidated {
                code: code.to_string(),
                message,
            },
        };
        let gap = |failure: &CallFailure, api: &str| {
            context.record_gap(
                SERVICE,
                api,
                Some(trail.trail_arn.as_deref().unwrap_or(&trail.name)),
                failure,
            );
        };
        if range.end <= range.start {
            results.push(not_validated(
                "PeriodNotDelivered",
                "the period ends less than two hours before the collection: its digest files may not have been delivered yet".into(),
            ));
            continue;
        }
        match trail.log_file_validation_enabled {
            Some(true) => {}
            Some(false) => {
                results.push(not_validated(
                    "LogFileValidationDisabled",
                    "log file validation is disabled on the trail (LogFileValidationEnabled false): CloudTrail writes no digest files to validate".into(),
                ));
                continue;
            }
            None => {
                results.push(not_validated(
                    "LogFileValidationUnknown",
                    "DescribeTrails did not say whether log file validation is enabled on the trail".into(),
                ));
                continue;
            }
        }
        let Some(bucket) = trail.s3_bucket_name.clone().filter(|b| !b.is_empty()) else {
            results.push(not_validated(
                "NoTrailBucket",
                "DescribeTrails named no S3 bucket for the trail".into(),
            ));
            continue;
        };
        let fetched = match &keys {
            Some(fetched) => fetched.clone(),
            None => {
                let fetched = list_public_keys(context, client, range).await;
                keys = Some(fetched.clone());
                fetched
            }
        };
        let public_keys = match fetched {
            Ok(list) => list,
            Err(failure) => {
                let failure = &failure;
                context.check_credentials(SERVICE, "ListPublicKeys", failure)?;
                gap(failure, "ListPublicKeys");
                results.push(not_validated(
                    "ListPublicKeysFailed",
                    format!(
                        "CloudTrail's public keys could not be read, so no digest signature can be checked: {}: {}",
                        failure.code, failure.message
                    ),
                ));
                continue;
            }
        };
        let job = ValidationJob {
            store: store.clone(),
            key_prefix: trail
                .extra
                .get("S3KeyPrefix")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            organization_trail: trail.is_organization_trail == Some(true),
            bucket,
            trail_name: trail_name(trail.trail_arn.as_deref(), &trail.name),
            account: context.account_id.clone(),
            region: context.region.clone(),
            range,
            keys: public_keys.clone(),
        };
        let outcome = {
            let _one_region_at_a_time = super::cloudtrail::LOG_FILE_READS.lock().await;
            match tokio::task::spawn_blocking(move || job.run()).await {
                Ok(outcome) => outcome,
                Err(join_error) => {
                    panic!("validating the trail's digest files panicked: {join_error}")
                }
            }
        };
        results.push(match outcome {
            Validation::Done(report) => TrailIntegrity {
                trail: trail.name.clone(),
                trail_arn: trail.trail_arn.clone(),
                range,
                result: IntegrityResult::Validated {
                    report,
                    public_keys,
                },
            },
            Validation::NoDigests(message) => not_validated("NoDigestFiles", message),
            Validation::Failed(message) => {
                let failure = CallFailure {
                    code: "StoreError".into(),
                    message: message.clone(),
                    http_status: None,
                    kind: FailureKind::Service,
                };
                gap(&failure, VALIDATION_GAP_API);
                not_validated("StoreError", message)
            }
        });
    }
    Ok(results)
}

/// The trail's name as digest file names carry it: the last part of its ARN.
fn trail_name(arn: Option<&str>, name: &str) -> String {
    arn.and_then(|arn| arn.rsplit_once(":trail/").map(|(_, n)| n.to_string()))
        .unwrap_or_else(|| name.to_string())
}

/// ListPublicKeys for the range (StartTime/EndTime covering every digest the validation may
/// read: up to an hour after its end), every page.
async fn list_public_keys(
    context: &RegionContext,
    client: &Client,
    range: TimeRange,
) -> Result<PublicKeyList, CallFailure> {
    let mut list = PublicKeyList::default();
    let mut tokens = PageTokens::default();
    let mut token: Option<String> = None;
    loop {
        let page = context
            .call(
                client
                    .list_public_keys()
                    .start_time(sdk_datetime(gxp_evidence_core::evidence::Timestamp(
                        range.start,
                    )))
                    .end_time(sdk_datetime(gxp_evidence_core::evidence::Timestamp(
                        range.end + Duration::hours(1),
                    )))
                    .set_next_token(token.clone())
                    .send(),
            )
            .await?;
        for key in page.public_key_list() {
            list.public_key_list.push(public_key(key)?);
        }
        token = tokens.next("ListPublicKeys", page.next_token())?;
        if token.is_none() {
            break;
        }
    }
    list.check("ListPublicKeys").map_err(|e| CallFailure {
        code: "InvalidPublicKey".into(),
        message: e.to_string(),
        http_status: None,
        kind: FailureKind::Service,
    })?;
    Ok(list)
}

fn public_key(key: &aws_sdk_cloudtrail::types::PublicKey) -> Result<TrailPublicKey, CallFailure> {
    let invalid = |what: &str| CallFailure {
        code: "InvalidPublicKey".into(),
        message: format!(
            "ListPublicKeys returned a key ({}) without {what}",
            key.fingerprint().unwrap_or("no fingerprint")
        ),
        http_status: None,
        kind: FailureKind::Service,
    };
    Ok(TrailPublicKey {
        value: Base64::encode_string(key.value().ok_or_else(|| invalid("Value"))?.as_ref()),
        validity_start_time: key
            .validity_start_time()
            .and_then(timestamp)
            .ok_or_else(|| invalid("ValidityStartTime"))?
            .0,
        validity_end_time: key.validity_end_time().and_then(timestamp).map(|t| t.0),
        fingerprint: key
            .fingerprint()
            .ok_or_else(|| invalid("Fingerprint"))?
            .to_string(),
    })
}

/// What one trail's validation needs, moved onto a blocking thread.
struct ValidationJob {
    store: TrailLogStore,
    key_prefix: Option<String>,
    organization_trail: bool,
    bucket: String,
    trail_name: String,
    account: String,
    region: String,
    range: TimeRange,
    keys: PublicKeyList,
}

enum Validation {
    Done(Box<IntegrityReport>),
    NoDigests(String),
    Failed(String),
}

impl ValidationJob {
    /// Validates under the account's folder, or for an organization trail under each
    /// organization folder of the store, keeping the first where the trail has digests.
    fn run(self) -> Validation {
        let organizations: Vec<Option<String>> = if self.organization_trail {
            match organization_folders(&self.store) {
                Ok(folders) => folders.into_iter().map(Some).collect(),
                Err(message) => return Validation::Failed(message),
            }
        } else {
            vec![None]
        };
        let location_of_store = self.store.log_files().location();
        let Some(objects) = trail_objects(&self.store, &self.bucket, self.key_prefix.as_deref())
        else {
            return Validation::NoDigests(format!(
                "trail {} delivers to s3://{}, not to the --trail-logs source {location_of_store}: its digest files were not read",
                self.trail_name, self.bucket
            ));
        };
        let mut searched = Vec::new();
        for organization_id in organizations {
            let location = TrailLocation {
                prefix: self.key_prefix.clone(),
                organization_id,
                account: self.account.clone(),
                region: self.region.clone(),
            };
            searched.push(location.digest_day_prefix(self.range.start.date_naive()));
            let scope = ValidationScope {
                bucket: self.bucket.clone(),
                location,
                trail: Some(self.trail_name.clone()),
                range: self.range,
            };
            match validate_trail(&*objects as &(dyn TrailObjects + Sync), &self.keys, &scope) {
                Ok(report) if report.digests_checked > 0 => {
                    return Validation::Done(Box::new(report));
                }
                Ok(_) => {}
                Err(IntegrityError::Objects(error)) => {
                    return Validation::Failed(format!(
                        "reading the trail's objects in {location_of_store} failed: {error}"
                    ));
                }
                Err(error) => return Validation::Failed(error.to_string()),
            }
        }
        Validation::NoDigests(format!(
            "no digest file of trail {} for this account and region in {location_of_store} (searched the days of the period from {}): validation was off for the whole period, or the source is not the trail's bucket s3://{}",
            self.trail_name,
            if searched.is_empty() {
                "no organization folder AWSLogs/o-…: none is there".to_string()
            } else {
                searched.join(" and ")
            },
            self.bucket
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gxp_evidence_core::evidence::Timestamp;

    #[test]
    fn the_range_stops_before_hours_whose_digests_may_not_be_delivered() {
        let at = |text: &str| Timestamp::parse(text).expect("a time");
        let period = Period {
            start: at("2026-03-01T00:00:00Z"),
            end: at("2026-04-01T00:00:00Z"),
        };
        let long_after = validation_range(period, at("2026-12-01T00:00:00Z").0);
        assert_eq!(
            (long_after.start, long_after.end),
            (period.start.0, period.end.0)
        );
        let soon_after = validation_range(period, at("2026-04-01T01:00:00Z").0);
        assert_eq!(soon_after.end, at("2026-03-31T23:00:00Z").0);
        let during = validation_range(period, at("2026-03-01T01:00:00Z").0);
        assert_eq!(during.end, during.start);
    }

    #[test]
    fn digest_names_carry_the_name_of_the_trail_arn() {
        assert_eq!(
            trail_name(Some("arn:aws:cloudtrail:eu-west-1:1:trail/org_trail"), "x"),
            "org_trail"
        );
        assert_eq!(trail_name(None, "mine"), "mine");
    }
}
