//! `gxp-evidence validate-logs`: CloudTrail log file integrity validated from the trail's bucket
//! in S3 or offline from a local copy of it (the algorithm of `aws cloudtrail validate-logs`,
//! in `gxp_evidence_core::log_integrity`). Prints the report as JSON on stdout and a summary on
//! stderr; exit 0 when the log files of the range are complete and unaltered, 1 on findings,
//! 2 when no report could be made.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;

use crate::archive_s3::S3Location;
use crate::collect::AwsSettings;
use crate::collect::trail_log_store::open_trail_bucket;
use crate::log_integrity::{
    LocalTrailCopy, PublicKeyList, TimeRange, TrailLocation, ValidationScope, validate_trail,
};

#[derive(Debug, Args)]
pub struct ValidateLogsArgs {
    /// A local copy of the trail's bucket (`aws s3 sync s3://BUCKET DIR`): DIR stands for the
    /// bucket root. S3 metadata does not survive a copy: each digest's signature is read from
    /// KEY.metadata.json beside it (`{"signature": …, "signature-algorithm": …}`, the object's
    /// user metadata as head-object prints it); a digest without one is reported unsigned.
    /// Without it, the bucket itself is read (ListObjectsV2, GetObject: `s3:ListBucket` and
    /// `s3:GetObject`), with the credentials of --profile or the environment.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The bucket the files were delivered to (digests name it in what they sign).
    #[arg(long, value_name = "NAME", value_parser = super::parse_bucket_name)]
    bucket: String,
    /// Named profile from the AWS shared config files (reading the bucket, without --dir).
    #[arg(long, value_name = "NAME", conflicts_with = "dir")]
    profile: Option<String>,
    /// Send the S3 calls to this endpoint (a VPC endpoint, or a test double; without --dir).
    #[arg(long, value_name = "URL", conflicts_with = "dir")]
    endpoint_url: Option<String>,
    /// CloudTrail's public keys for the region: the JSON of `aws cloudtrail list-public-keys
    /// --region REGION --start-time FROM --end-time TO`.
    #[arg(long, value_name = "FILE")]
    public_keys: PathBuf,
    /// Start of the range (RFC 3339, or YYYY-MM-DD for midnight UTC), inclusive.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    from: DateTime<Utc>,
    /// End of the range (RFC 3339, or YYYY-MM-DD for midnight UTC), exclusive.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    to: DateTime<Utc>,
    /// The account whose files are validated.
    #[arg(long, value_name = "ID", value_parser = parse_account)]
    account: String,
    /// The region whose files are validated.
    #[arg(long, value_name = "REGION", value_parser = super::parse_region_name)]
    region: String,
    /// The trail's name; needed only when digests of several trails share the prefix.
    #[arg(long, value_name = "NAME")]
    trail: Option<String>,
    /// The trail's S3 key prefix, if it has one.
    #[arg(long, value_name = "PREFIX")]
    prefix: Option<String>,
    /// The organization id (o-…) of an organization trail.
    #[arg(long, value_name = "o-ID")]
    organization_id: Option<String>,
}

/// Validates and prints; exit 0 intact, 1 findings.
pub fn validate_logs(args: &ValidateLogsArgs) -> Result<ExitCode> {
    let keys_file = args.public_keys.display().to_string();
    let key_bytes = std::fs::read(&args.public_keys)
        .with_context(|| format!("cannot read public key file {keys_file}"))?;
    let keys = PublicKeyList::from_json(&keys_file, &key_bytes)?;
    let scope = ValidationScope {
        bucket: args.bucket.clone(),
        location: TrailLocation {
            prefix: args.prefix.clone(),
            organization_id: args.organization_id.clone(),
            account: args.account.clone(),
            region: args.region.clone(),
        },
        trail: args.trail.clone(),
        range: TimeRange {
            start: args.from,
            end: args.to,
        },
    };
    let report = match &args.dir {
        Some(dir) => {
            if !dir.is_dir() {
                anyhow::bail!("{} is not a directory", dir.display());
            }
            validate_trail(&LocalTrailCopy::new(dir), &keys, &scope)?
        }
        None => {
            let settings = AwsSettings {
                profile: args.profile.clone(),
                endpoint_url: args.endpoint_url.clone(),
            };
            let bucket = S3Location {
                bucket: args.bucket.clone(),
                prefix: String::new(),
            };
            let opened = open_trail_bucket(&settings, bucket)?;
            validate_trail(&&opened.store, &keys, &scope)?
        }
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    eprintln!("{}", report.summary());
    Ok(if report.is_intact() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|e| {
            format!("{text:?} is neither RFC 3339 (2026-03-01T00:00:00Z) nor YYYY-MM-DD: {e}")
        })
}

fn parse_account(text: &str) -> Result<String, String> {
    if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.to_string())
    } else {
        Err(format!("{text:?} is not an AWS account id (12 digits)"))
    }
}
