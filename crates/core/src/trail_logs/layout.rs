//! Where a trail puts its log files: the object layout of the CloudTrail User Guide
//! ("Finding your CloudTrail log files",
//! https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html,
//! and "CloudTrail log file examples", section "CloudTrail log file name format",
//! https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html):
//!
//! `[PREFIX/]AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz`
//!
//! The `o-ORGID` level is there for an organization trail. The name's time is when the file was
//! delivered ("a log file delivered at a specific time can contain records written at any
//! point before that time"), so a record written just before midnight can be in the next day's
//! folder: the days a period needs are its own plus one on each side, and records are kept by
//! their `eventTime`, never by their folder.

use std::fmt;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};

use crate::evidence::{Period, Timestamp};

/// The folder every trail's log files are under, below the trail's S3 key prefix.
pub const AWS_LOGS: &str = "AWSLogs";
/// The folder of a trail's log files, below the account (`CloudTrail-Digest` and
/// `CloudTrail-Insight` beside it hold digest files and Insights events, not read here).
pub const CLOUDTRAIL: &str = "CloudTrail";
/// The only file name format CloudTrail uses: gzip-compressed JSON.
pub const EXTENSION: &str = ".json.gz";

/// What a log file's key says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFileKey {
    /// The organization of an organization trail (`o-…`).
    pub organization_id: Option<String>,
    pub account_id: String,
    pub region: String,
    /// The day folder the file is in.
    pub day: NaiveDate,
    /// When the file was delivered, to the minute (from its name).
    pub delivered: NaiveDateTime,
}

/// Why a key is not a CloudTrail log file's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key:?} is not a CloudTrail log file key ({why})")]
pub struct NotALogFileKey {
    pub key: String,
    pub why: &'static str,
}

impl LogFileKey {
    /// Parses a key (`/`-separated, any prefix before `AWSLogs/`), checking that the file name
    /// repeats the folders' account and region and that its day is the folder's.
    pub fn parse(key: &str) -> Result<Self, NotALogFileKey> {
        let fail = |why| NotALogFileKey {
            key: key.to_string(),
            why,
        };
        let parts: Vec<&str> = key.split('/').collect();
        let start = parts
            .iter()
            .rposition(|p| *p == AWS_LOGS)
            .ok_or_else(|| fail("no AWSLogs folder"))?;
        let mut rest = &parts[start + 1..];
        let organization_id = match rest.first() {
            Some(first) if first.starts_with("o-") => {
                let id = first.to_string();
                rest = &rest[1..];
                Some(id)
            }
            _ => None,
        };
        let [account, cloudtrail, region, year, month, day, name] = rest else {
            return Err(fail(
                "expected ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/NAME below AWSLogs",
            ));
        };
        if !is_account_id(account) {
            return Err(fail("the account folder is not a 12-digit account id"));
        }
        if *cloudtrail != CLOUDTRAIL {
            return Err(fail("not under a CloudTrail folder"));
        }
        let folder_day = NaiveDate::parse_from_str(&format!("{year}-{month}-{day}"), "%Y-%m-%d")
            .ok()
            .filter(|_| year.len() == 4 && month.len() == 2 && day.len() == 2)
            .ok_or_else(|| fail("the day folders are not YYYY/MM/DD"))?;
        let stem = name
            .strip_suffix(EXTENSION)
            .ok_or_else(|| fail("the file name does not end in .json.gz"))?;
        let fields: Vec<&str> = stem.split('_').collect();
        let [name_account, "CloudTrail", name_region, time, unique] = fields[..] else {
            return Err(fail(
                "the file name is not ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz",
            ));
        };
        if name_account != *account || name_region != *region || unique.is_empty() {
            return Err(fail(
                "the file name's account or region differs from its folders'",
            ));
        }
        let delivered = NaiveDateTime::parse_from_str(time, "%Y%m%dT%H%MZ")
            .ok()
            .filter(|_| time.len() == 14)
            .ok_or_else(|| fail("the file name's time is not YYYYMMDDTHHmmZ"))?;
        if delivered.date() != folder_day {
            return Err(fail("the file name's day differs from its day folder"));
        }
        Ok(LogFileKey {
            organization_id,
            account_id: account.to_string(),
            region: region.to_string(),
            day: folder_day,
            delivered,
        })
    }
}

/// Twelve digits, as every AWS account id.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// The day folder of one account-region, relative to the folder that holds `AWSLogs`:
/// `AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DayFolder {
    pub organization_id: Option<String>,
    pub account_id: String,
    pub region: String,
    pub day: NaiveDate,
}

impl DayFolder {
    /// The folder's key prefix, without a trailing `/`.
    pub fn key(&self) -> String {
        let org = self
            .organization_id
            .as_deref()
            .map(|o| format!("{o}/"))
            .unwrap_or_default();
        format!(
            "{AWS_LOGS}/{org}{}/{CLOUDTRAIL}/{}/{:04}/{:02}/{:02}",
            self.account_id,
            self.region,
            self.day.year(),
            self.day.month(),
            self.day.day()
        )
    }
}

impl fmt::Display for DayFolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// The days whose folders hold the records of `[period.start, until)`: from the day before the
/// period's first to the day after `until`'s (a file delivered after midnight holds records of
/// the day before; one written at `until` may be delivered the next day).
pub fn days_to_read(period: Period, until: Timestamp) -> Vec<NaiveDate> {
    let first = period.start.0.date_naive() - Duration::days(1);
    let last = until.0.max(period.end.0).date_naive() + Duration::days(1);
    first.iter_days().take_while(|d| *d <= last).collect()
}

/// The days whose folders must exist for the change events to be complete: every day from the
/// period's first up to the day before `until`'s. The margin days and `until`'s own day are
/// read when present, but their absence proves nothing (files of the current day may not be
/// delivered yet, and a margin day may fall before the trail existed).
pub fn days_required(period: Period, until: Timestamp) -> Vec<NaiveDate> {
    let first = period.start.0.date_naive();
    let until_day = until.0.max(period.end.0).date_naive();
    // A period ending at midnight does not need the folder of the day it ends on, unless the
    // events are read up to a later day.
    let last = until_day - Duration::days(1);
    first.iter_days().take_while(|d| *d <= last).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).expect("a time")
    }

    #[test]
    fn parses_the_documented_example_name_below_a_prefix() {
        let key = LogFileKey::parse(
            "my-prefix/AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz",
        )
        .expect("a log file key");
        assert_eq!(key.account_id, "111122223333");
        assert_eq!(key.region, "us-east-2");
        assert_eq!(key.organization_id, None);
        assert_eq!(key.day, NaiveDate::from_ymd_opt(2015, 8, 1).unwrap());
        assert_eq!(key.delivered.to_string(), "2015-08-01 02:10:00");
    }

    #[test]
    fn parses_an_organization_trail_key() {
        let key = LogFileKey::parse(
            "AWSLogs/o-exampleorgid/111122223333/CloudTrail/eu-west-1/2026/01/31/111122223333_CloudTrail_eu-west-1_20260131T2355Z_abcdefghijklmnop.json.gz",
        )
        .expect("a log file key");
        assert_eq!(key.organization_id.as_deref(), Some("o-exampleorgid"));
        assert_eq!(key.account_id, "111122223333");
    }

    #[test]
    fn rejects_keys_that_are_not_log_files() {
        for (key, why) in [
            (
                "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/01/31/111122223333_CloudTrail-Digest_us-east-1_t_20260131T0000Z.json.gz",
                "not under a CloudTrail folder",
            ),
            (
                "AWSLogs/1111/CloudTrail/us-east-1/2026/01/31/1111_CloudTrail_us-east-1_20260131T0000Z_u.json.gz",
                "the account folder is not a 12-digit account id",
            ),
            (
                "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/31/111122223333_CloudTrail_us-east-1_20260131T0000Z_u.json",
                "the file name does not end in .json.gz",
            ),
            (
                "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/31/111122223333_CloudTrail_eu-west-1_20260131T0000Z_u.json.gz",
                "the file name's account or region differs from its folders'",
            ),
            (
                "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/30/111122223333_CloudTrail_us-east-1_20260131T0000Z_u.json.gz",
                "the file name's day differs from its day folder",
            ),
            (
                "AWSLogs/111122223333/CloudTrail/us-east-1/2026/1/31/111122223333_CloudTrail_us-east-1_20260131T0000Z_u.json.gz",
                "the day folders are not YYYY/MM/DD",
            ),
            (
                "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/31/111122223333_CloudTrail_us-east-1_2026013T0000Z_u.json.gz",
                "the file name's time is not YYYYMMDDTHHmmZ",
            ),
            (
                "logs/111122223333/CloudTrail/us-east-1/2026/01/31/x.json.gz",
                "no AWSLogs folder",
            ),
        ] {
            assert_eq!(LogFileKey::parse(key).map_err(|e| e.why), Err(why), "{key}");
        }
    }

    #[test]
    fn day_folder_keys_follow_the_layout() {
        let folder = DayFolder {
            organization_id: Some("o-abc".into()),
            account_id: "111122223333".into(),
            region: "eu-west-1".into(),
            day: NaiveDate::from_ymd_opt(2026, 2, 3).unwrap(),
        };
        assert_eq!(
            folder.key(),
            "AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/2026/02/03"
        );
    }

    #[test]
    fn a_month_reads_one_extra_day_each_side_and_the_days_up_to_until() {
        let period = Period {
            start: at("2026-01-01T00:00:00Z"),
            end: at("2026-02-01T00:00:00Z"),
        };
        let days = days_to_read(period, at("2026-02-03T06:00:00Z"));
        assert_eq!(days.first().unwrap().to_string(), "2025-12-31");
        assert_eq!(days.last().unwrap().to_string(), "2026-02-04");
        assert_eq!(days.len(), 36);
        let required = days_required(period, at("2026-02-03T06:00:00Z"));
        assert_eq!(required.first().unwrap().to_string(), "2026-01-01");
        assert_eq!(required.last().unwrap().to_string(), "2026-02-02");
        // Read up to the period end only: its 31 days.
        assert_eq!(days_required(period, period.end).len(), 31);
    }
}
