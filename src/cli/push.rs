//! `gxp-evidence push PACKAGE --to s3://BUCKET/PREFIX`: files a sealed report package as the
//! next revision of its system and month in the S3 archive, write-once under Object Lock, and
//! prints where it went and the retention S3 reports for every object.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::archive_s3::{self, DEFAULT_RETENTION_DAYS, Retention, RetentionMode, S3Location};
use crate::collect::AwsSettings;

#[derive(Debug, Args)]
pub struct PushArgs {
    /// The package directory: valid and sealed (`sign`, or a scheduled run's seal). It goes
    /// into ARCHIVE/<system>/<YYYY-MM>/r<N>/ of the system and month it reports on.
    package: PathBuf,
    /// The archive: an S3 bucket with Object Lock enabled, and a key prefix.
    #[arg(long, value_name = "s3://BUCKET/PREFIX", value_parser = S3Location::parse)]
    to: S3Location,
    /// How long every object is locked, in days from now. The default, ten years, covers
    /// EU GMP Chapter 4.11 (batch records: one year after the batch's expiry or five years
    /// after QP certification, whichever is longer) for shelf lives up to nine years. A
    /// COMPLIANCE retention can be extended later, never shortened.
    #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_RETENTION_DAYS)]
    retention_days: u32,
    /// Lock in GOVERNANCE mode (users with s3:BypassGovernanceRetention can still delete)
    /// instead of COMPLIANCE (nobody can, the account's root user included).
    #[arg(long)]
    governance: bool,
    /// Named profile from the AWS shared config files.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Send the S3 calls to this endpoint (a VPC endpoint, or a test double).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// The bucket's region, when not the configured region.
    #[arg(long, value_name = "REGION", value_parser = super::parse_region_name)]
    region: Option<String>,
}

/// Verifies, uploads and reads back; exit 0 when every object is archived with the
/// retention asked for, 2 otherwise (nothing uploaded when the package, the URL or the
/// bucket is refused).
pub fn push(args: &PushArgs) -> Result<ExitCode> {
    let mode = if args.governance {
        RetentionMode::Governance
    } else {
        RetentionMode::Compliance
    };
    let retention = Retention::days_from(mode, args.retention_days, chrono::Utc::now())?;
    let (system_name, period_dir) = archive_s3::package_subject(&args.package)?;
    let Some(period_dir) = period_dir else {
        anyhow::bail!(
            "{}: the package reports on a custom period; the archive holds calendar months (ARCHIVE/<system>/<YYYY-MM>/r<N>/)",
            args.package.display()
        );
    };
    let settings = AwsSettings {
        profile: args.profile.clone(),
        endpoint_url: args.endpoint_url.clone(),
    };
    let uploaded = archive_s3::push(
        &settings,
        args.region.as_deref(),
        &args.to,
        &args.package,
        &system_name,
        &period_dir,
        &retention,
    )?;
    let mut total = 0;
    for object in &uploaded.objects {
        total += object.bytes;
        println!(
            "{}  {} bytes  sha256:{}  version {}  {}",
            object.key,
            object.bytes,
            object.sha256,
            object.version_id.as_deref().unwrap_or("-"),
            object.retention
        );
    }
    println!(
        "pushed {} as revision r{} of {system_name:?} {period_dir}: {} ({} objects, {total} bytes), retention read back: {retention} on every object",
        args.package.display(),
        uploaded.revision,
        uploaded.url,
        uploaded.objects.len(),
    );
    Ok(ExitCode::SUCCESS)
}
