//! The period's change events from a trail's log files instead of LookupEvents (which reaches
//! back 90 days only): `layout` says which day folders of which account-region a period needs,
//! `records` streams one `.json.gz` file into the events the rules table keeps (`splitter`
//! finds each record's bytes in the decompressed text), and
//! `read_region` reads every file of an account-region's days in parallel across cores and
//! merges them deterministically. Where the files come from is a `LogStore` (a local directory
//! here, `LocalDir`; S3 can be another), so the reader only sees key listings and `Read`ers.
//!
//! Nothing is skipped silently: a missing day folder, a file that cannot be read to its end
//! and a record that cannot be judged are evidence gaps of the account-region (`LogGap`), and
//! the remaining files are still read.

pub mod layout;
pub mod records;
mod splitter;

use std::collections::HashSet;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;

use crate::evidence::{LookupEvent, Period, Timestamp};
use layout::{AWS_LOGS, DayFolder, EXTENSION, LogFileKey};
pub use records::{FileTally, UnreadableLogFile, read_log_file};

/// The `api` of the evidence gaps of log-file reading: with `LookupEvents`, the gaps that
/// leave a region's change events incomplete.
pub const EVIDENCE_GAP_API: &str = "TrailLogFiles";

/// What is directly in a folder of a store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Names of the folders (S3: common prefixes) directly below.
    pub folders: Vec<String>,
    /// Keys (relative to the store's root, `/`-separated) of the files directly in it.
    pub files: Vec<String>,
}

/// Where log files are kept: the folder that holds `AWSLogs` (a directory, or a bucket and
/// prefix). Keys are `/`-separated and relative to it.
pub trait LogStore: Sync {
    /// What a folder holds; a folder that does not exist holds nothing (as an S3 prefix).
    fn list(&self, folder: &str) -> io::Result<Listing>;
    /// One file's bytes, as stored (gzip).
    fn open(&self, key: &str) -> io::Result<Box<dyn Read + Send + '_>>;
    /// The file's name as messages and gaps show it (its path, or its s3:// URL).
    fn name_of(&self, key: &str) -> String;
    /// Where the store is, as the snapshot records it.
    fn location(&self) -> String;
}

/// Log files in a local directory: the folder that holds `AWSLogs`, or `AWSLogs` itself (as
/// `aws s3 sync s3://BUCKET/PREFIX DIR` leaves them).
#[derive(Debug, Clone)]
pub struct LocalDir {
    root: PathBuf,
    given: PathBuf,
}

/// A directory given as the source of log files that is not one.
#[derive(Debug, thiserror::Error)]
#[error(
    "{}: not a folder of CloudTrail log files (expected the folder that holds AWSLogs/, or AWSLogs/ itself){}",
    dir.display(), detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
)]
pub struct NotALogDirectory {
    pub dir: PathBuf,
    pub detail: Option<String>,
}

impl LocalDir {
    pub fn open(dir: &Path) -> Result<Self, NotALogDirectory> {
        let fail = |detail: Option<String>| NotALogDirectory {
            dir: dir.to_path_buf(),
            detail,
        };
        let metadata = std::fs::metadata(dir).map_err(|e| fail(Some(e.to_string())))?;
        if !metadata.is_dir() {
            return Err(fail(Some("not a folder".to_string())));
        }
        let root = if dir.join(AWS_LOGS).is_dir() {
            dir.to_path_buf()
        } else if dir.file_name().is_some_and(|n| n == AWS_LOGS) {
            dir.parent().map(Path::to_path_buf).unwrap_or_default()
        } else {
            return Err(fail(None));
        };
        Ok(LocalDir {
            root,
            given: dir.to_path_buf(),
        })
    }

    /// The folder that holds `AWSLogs` (the given one, or its parent when `AWSLogs` was given):
    /// the directory standing for the trail's bucket and prefix.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> PathBuf {
        key.split('/')
            .filter(|p| !p.is_empty())
            .fold(self.root.clone(), |path, part| path.join(part))
    }
}

impl LogStore for LocalDir {
    fn list(&self, folder: &str) -> io::Result<Listing> {
        let entries = match std::fs::read_dir(self.path(folder)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Listing::default()),
            Err(e) => return Err(e),
        };
        let mut listing = Listing::default();
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type()?.is_dir() {
                listing.folders.push(name);
            } else {
                listing
                    .files
                    .push(format!("{}/{name}", folder.trim_end_matches('/')));
            }
        }
        listing.folders.sort();
        listing.files.sort();
        Ok(listing)
    }

    fn open(&self, key: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        Ok(Box::new(std::fs::File::open(self.path(key))?))
    }

    fn name_of(&self, key: &str) -> String {
        self.path(key).display().to_string()
    }

    fn location(&self) -> String {
        self.given.display().to_string()
    }
}

/// Why part of an account-region's change events is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGap {
    /// `MissingLogFiles`, `UnreadableLogFile`, `UnusableRecords`, `ListFailed`.
    pub code: &'static str,
    pub message: String,
}

/// The change events of one account-region read from its log files.
#[derive(Debug, Clone, Default)]
pub struct RegionLogs {
    /// Newest first, then by event id (the order the LookupEvents collector keeps), each event
    /// once (an organization trail and an account's own trail can both deliver it).
    pub events: Vec<LookupEvent>,
    pub files_read: u64,
    pub records_read: u64,
    pub records_kept: u64,
    pub gaps: Vec<LogGap>,
}

/// Reads the change events of `[period.start, until)` of one account-region from `store`: the
/// files of `layout::days_to_read` in the account's folder and in every organization's
/// (`AWSLogs/o-…/ACCOUNT`), on up to `threads` threads.
pub fn read_region(
    store: &dyn LogStore,
    account_id: &str,
    region: &str,
    period: Period,
    until: Timestamp,
    threads: usize,
) -> RegionLogs {
    let mut result = RegionLogs::default();
    let organizations = match store.list(AWS_LOGS) {
        Ok(listing) => listing
            .folders
            .into_iter()
            .filter(|f| f.starts_with("o-"))
            .collect(),
        Err(e) => {
            result.gaps.push(LogGap {
                code: "ListFailed",
                message: format!("cannot list {}: {e}", store.name_of(AWS_LOGS)),
            });
            return result;
        }
    };
    let (files, present_days) = list_files(
        store,
        account_id,
        region,
        period,
        until,
        organizations,
        &mut result.gaps,
    );
    let missing: Vec<NaiveDate> = layout::days_required(period, until)
        .into_iter()
        .filter(|day| !present_days.contains(day))
        .collect();
    if !missing.is_empty() {
        result.gaps.push(LogGap {
            code: "MissingLogFiles",
            message: format!(
                "no log files of {account_id} {region} in {} for {} day(s): {} (the change events of those days are not known)",
                store.location(),
                missing.len(),
                day_ranges(&missing)
            ),
        });
    }
    let window = Period {
        start: period.start,
        end: until.max(period.end),
    };
    let read = read_files(store, &files, window, threads);
    result.files_read = files.len() as u64;
    result.records_read = read.tally.records_read;
    result.records_kept = read.tally.records_kept;
    result
        .gaps
        .extend(read.gaps.into_iter().map(|(_, gap)| gap));
    let mut seen = HashSet::new();
    let mut events = read.events;
    events.sort_by(|a, b| {
        b.event_time
            .cmp(&a.event_time)
            .then_with(|| a.event_id.cmp(&b.event_id))
    });
    events.retain(|e| seen.insert(e.event_id.clone()));
    result.events = events;
    result
}

/// The log files of the days to read, and the days that had at least one.
fn list_files(
    store: &dyn LogStore,
    account_id: &str,
    region: &str,
    period: Period,
    until: Timestamp,
    organizations: Vec<String>,
    gaps: &mut Vec<LogGap>,
) -> (Vec<String>, HashSet<NaiveDate>) {
    let mut files = Vec::new();
    let mut present = HashSet::new();
    let bases: Vec<Option<String>> = std::iter::once(None)
        .chain(organizations.into_iter().map(Some))
        .collect();
    for day in layout::days_to_read(period, until) {
        for organization_id in &bases {
            let folder = DayFolder {
                organization_id: organization_id.clone(),
                account_id: account_id.to_string(),
                region: region.to_string(),
                day,
            };
            let listing = match store.list(&folder.key()) {
                Ok(listing) => listing,
                Err(e) => {
                    gaps.push(LogGap {
                        code: "ListFailed",
                        message: format!("cannot list {}: {e}", store.name_of(&folder.key())),
                    });
                    continue;
                }
            };
            for key in listing.files.into_iter().filter(|k| k.ends_with(EXTENSION)) {
                match LogFileKey::parse(&key) {
                    Ok(parsed) if parsed.account_id == account_id && parsed.region == region => {
                        present.insert(day);
                        files.push(key);
                    }
                    Ok(_) => {}
                    Err(e) => gaps.push(LogGap {
                        code: "UnreadableLogFile",
                        message: format!("{}: {}", store.name_of(&key), e.why),
                    }),
                }
            }
        }
    }
    (files, present)
}

struct FilesRead {
    events: Vec<LookupEvent>,
    tally: FileTally,
    /// By the file's index in the listing.
    gaps: Vec<(usize, LogGap)>,
}

/// Reads `files` on up to `threads` threads, each taking the next file of the list; the
/// result does not depend on which thread read what (events are sorted by the caller, gaps
/// here by file).
fn read_files(store: &dyn LogStore, files: &[String], window: Period, threads: usize) -> FilesRead {
    let next = AtomicUsize::new(0);
    let merged = Mutex::new(FilesRead {
        events: Vec::new(),
        tally: FileTally::default(),
        gaps: Vec::new(),
    });
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, files.len().max(1)) {
            scope.spawn(|| {
                let mut events = Vec::new();
                let mut tally = FileTally::default();
                let mut gaps = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(key) = files.get(index) else { break };
                    let name = store.name_of(key);
                    let read = store
                        .open(key)
                        .map_err(|e| UnreadableLogFile {
                            file: name.clone(),
                            position: "before its first byte".to_string(),
                            reason: format!("cannot open: {e}"),
                        })
                        .and_then(|file| {
                            read_log_file(&name, file, window, &mut |e| events.push(e))
                        });
                    match read {
                        Ok(file) => {
                            if let Some(first) = &file.first_unusable {
                                gaps.push((
                                    index,
                                    LogGap {
                                        code: "UnusableRecords",
                                        message: format!(
                                            "{name}: {} record(s) that cannot be judged, first {first}",
                                            file.unusable_records
                                        ),
                                    },
                                ));
                            }
                            tally.records_read += file.records_read;
                            tally.records_kept += file.records_kept;
                            tally.unusable_records += file.unusable_records;
                        }
                        Err(error) => gaps.push((
                            index,
                            LogGap {
                                code: "UnreadableLogFile",
                                message: format!(
                                    "{error}; its records are not known, the other files were read"
                                ),
                            },
                        )),
                    }
                }
                if let Ok(mut merged) = merged.lock() {
                    merged.events.append(&mut events);
                    merged.tally.records_read += tally.records_read;
                    merged.tally.records_kept += tally.records_kept;
                    merged.tally.unusable_records += tally.unusable_records;
                    merged.gaps.append(&mut gaps);
                }
            });
        }
    });
    let mut read = merged
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    read.gaps.sort_by_key(|(index, _)| *index);
    read
}

/// Days as `2026-01-03..2026-01-05, 2026-01-09`.
fn day_ranges(days: &[NaiveDate]) -> String {
    let mut ranges: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for day in days {
        match ranges.last_mut() {
            Some((_, last)) if last.succ_opt() == Some(*day) => *last = *day,
            _ => ranges.push((*day, *day)),
        }
    }
    ranges
        .iter()
        .map(|(first, last)| {
            if first == last {
                first.to_string()
            } else {
                format!("{first}..{last}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    use crate::controls::events;
    use serde_json::json;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).expect("a time")
    }

    fn write_file(root: &Path, key: &str, records: serde_json::Value) {
        let path = root.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut encoder = flate2::write::GzEncoder::new(
            std::fs::File::create(path).unwrap(),
            flate2::Compression::default(),
        );
        encoder
            .write_all(json!({ "Records": records }).to_string().as_bytes())
            .unwrap();
        encoder.finish().unwrap();
    }

    fn change(id: &str, time: &str) -> serde_json::Value {
        json!({"eventID": id, "eventSource": events::KMS, "eventName": "DisableKeyRotation",
               "readOnly": false, "eventTime": time, "requestParameters": {"keyId": "k"}})
    }

    const ACCOUNT: &str = "111122223333";

    fn key(org: Option<&str>, day: &str, hhmm: &str, unique: &str) -> String {
        let (y, m, d) = (&day[0..4], &day[5..7], &day[8..10]);
        let org = org.map(|o| format!("{o}/")).unwrap_or_default();
        format!(
            "AWSLogs/{org}{ACCOUNT}/CloudTrail/eu-west-1/{y}/{m}/{d}/{ACCOUNT}_CloudTrail_eu-west-1_{y}{m}{d}T{hhmm}Z_{unique}.json.gz"
        )
    }

    #[test]
    fn reads_days_around_the_period_merges_copies_and_names_missing_days_and_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let period = Period {
            start: at("2026-01-01T00:00:00Z"),
            end: at("2026-01-04T00:00:00Z"),
        };
        // Delivered after midnight: a record of the day before the period, and one of its
        // last minute.
        write_file(
            root,
            &key(None, "2026-01-01", "0005", "a"),
            json!([
                change("before", "2025-12-31T23:59:00Z"),
                change("first", "2026-01-01T00:00:00Z")
            ]),
        );
        write_file(
            root,
            &key(None, "2026-01-04", "0005", "b"),
            json!([
                change("last", "2026-01-03T23:59:59Z"),
                change("after", "2026-01-04T00:01:00Z")
            ]),
        );
        // The organization trail delivers the same event again.
        write_file(
            root,
            &key(Some("o-abc"), "2026-01-04", "0010", "c"),
            json!([change("last", "2026-01-03T23:59:59Z")]),
        );
        // 2026-01-02 has a file that is not JSON; 2026-01-03 has nothing.
        let bad = root.join(key(None, "2026-01-02", "1200", "d"));
        std::fs::create_dir_all(bad.parent().unwrap()).unwrap();
        let mut encoder = flate2::write::GzEncoder::new(
            std::fs::File::create(&bad).unwrap(),
            flate2::Compression::default(),
        );
        encoder.write_all(b"{\"Records\": [oops").unwrap();
        encoder.finish().unwrap();

        let store = LocalDir::open(root).unwrap();
        let read = read_region(
            &store,
            ACCOUNT,
            "eu-west-1",
            period,
            at("2026-01-04T00:30:00Z"),
            2,
        );
        let ids: Vec<&str> = read.events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, ["after", "last", "first"]);
        assert_eq!(read.files_read, 4);
        assert_eq!(read.records_read, 5);
        assert_eq!(read.records_kept, 4);
        let codes: Vec<&str> = read.gaps.iter().map(|g| g.code).collect();
        assert_eq!(
            codes,
            ["MissingLogFiles", "UnreadableLogFile"],
            "{:?}",
            read.gaps
        );
        assert!(
            read.gaps[0].message.contains("1 day(s): 2026-01-03"),
            "{}",
            read.gaps[0].message
        );
        assert!(
            read.gaps[1].message.contains(&bad.display().to_string()),
            "{}",
            read.gaps[1].message
        );
        assert!(
            read.gaps[1].message.contains("line 1, column 14"),
            "{}",
            read.gaps[1].message
        );
        // One thread reads the same.
        let single = read_region(
            &store,
            ACCOUNT,
            "eu-west-1",
            period,
            at("2026-01-04T00:30:00Z"),
            1,
        );
        assert_eq!(single.events, read.events);
        assert_eq!(single.gaps, read.gaps);
    }

    #[test]
    fn a_directory_without_aws_logs_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = LocalDir::open(dir.path()).unwrap_err();
        assert!(
            err.to_string()
                .contains("expected the folder that holds AWSLogs/"),
            "{err}"
        );
        std::fs::create_dir(dir.path().join(AWS_LOGS)).unwrap();
        assert!(LocalDir::open(&dir.path().join(AWS_LOGS)).is_ok());
        assert!(LocalDir::open(dir.path()).is_ok());
    }

    #[test]
    fn missing_days_are_shown_as_ranges() {
        let d = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        assert_eq!(
            day_ranges(&[
                d("2026-01-01"),
                d("2026-01-02"),
                d("2026-01-03"),
                d("2026-01-05")
            ]),
            "2026-01-01..2026-01-03, 2026-01-05"
        );
    }
}
