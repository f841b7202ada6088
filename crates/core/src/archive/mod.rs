//! The archive of monthly report packages: `ARCHIVE/<system>/<YYYY-MM>/r<N>/`, one sealed
//! package per revision, never modified once written. This module owns the layout (how a
//! system, a period and a revision name their directories); the same names are used for a
//! local directory and for an S3 prefix.

pub mod index;
pub mod listing;
pub mod store;

use std::path::{Path, PathBuf};

use crate::evidence::Period;

/// The directory name of a system: its name in lower case, letters and digits kept, every
/// other run of characters one `-` (`"LIMS (EU)"` → `lims-eu`). Two systems whose names
/// give the same directory are told apart by the system name each package records, which
/// a run checks before adding a revision.
pub fn system_dir_name(system_name: &str) -> String {
    let mut name = String::new();
    for c in system_name.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    while name.ends_with('-') {
        name.pop();
    }
    if name.is_empty() {
        name.push_str("system");
    }
    name
}

/// The directory name of a period: `YYYY-MM` for a calendar month, the only periods the
/// archive holds (a scheduled run reports on a month); `None` for any other period.
pub fn period_dir_name(period: &Period) -> Option<String> {
    let label = period.label();
    is_period_dir_name(&label).then_some(label)
}

/// `YYYY-MM`, as `period_dir_name` writes it.
pub fn is_period_dir_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() == 7
        && bytes[4] == b'-'
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[5..].iter().all(u8::is_ascii_digit)
        && matches!(
            &name[5..],
            "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "11" | "12"
        )
}

/// The directory name of revision `revision` (1-based): `r1`, `r2`, …
pub fn revision_dir_name(revision: u32) -> String {
    format!("r{revision}")
}

/// The revision a directory name stands for: `r<N>` with N ≥ 1 written without leading
/// zeros; anything else (a staging directory, a stray file) is not a revision.
pub fn parse_revision_dir_name(name: &str) -> Option<u32> {
    let digits = name.strip_prefix('r')?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n >= 1)
}

/// The newest revision in a period directory (`ARCHIVE/<system>/<YYYY-MM>`) and its path;
/// `None` when the directory holds no revision or does not exist. Only real directories count:
/// a symbolic link named `r<N>` is not a revision written by a run.
pub fn latest_revision(period_dir: &Path) -> std::io::Result<Option<(u32, PathBuf)>> {
    let entries = match std::fs::read_dir(period_dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    let mut latest = None;
    for entry in entries {
        let entry = entry?;
        let revision = entry.file_name().to_str().and_then(parse_revision_dir_name);
        if let Some(revision) = revision
            && entry.file_type()?.is_dir()
        {
            latest = latest.max(Some(revision));
        }
    }
    Ok(latest.map(|revision| (revision, period_dir.join(revision_dir_name(revision)))))
}

/// The path of a revision relative to the archive root, with `/` separators (an S3 key
/// prefix, or joined onto a local root).
pub fn revision_path(system_name: &str, period_dir: &str, revision: u32) -> String {
    format!(
        "{}/{period_dir}/{}",
        system_dir_name(system_name),
        revision_dir_name(revision)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::Timestamp;

    #[test]
    fn system_names_become_lower_case_dashed_directory_names() {
        assert_eq!(system_dir_name("LIMS (EU)"), "lims-eu");
        assert_eq!(
            system_dir_name("  Batch record -- system "),
            "batch-record-system"
        );
        assert_eq!(system_dir_name("../etc"), "etc");
        assert_eq!(system_dir_name("Système"), "syst-me");
        assert_eq!(system_dir_name("***"), "system");
    }

    #[test]
    fn only_calendar_months_have_a_period_directory() {
        let at = |s: &str| Timestamp(s.parse().expect("time"));
        let month = Period {
            start: at("2026-10-01T00:00:00Z"),
            end: at("2026-11-01T00:00:00Z"),
        };
        assert_eq!(period_dir_name(&month).as_deref(), Some("2026-10"));
        let custom = Period {
            start: at("2026-10-03T00:00:00Z"),
            end: at("2026-10-17T00:00:00Z"),
        };
        assert_eq!(period_dir_name(&custom), None);
        assert!(is_period_dir_name("2026-12"));
        assert!(!is_period_dir_name("2026-13"));
        assert!(!is_period_dir_name("2026-1"));
        assert!(!is_period_dir_name("20a6-01"));
    }

    #[test]
    fn revision_directories_are_r_and_a_positive_number() {
        assert_eq!(revision_dir_name(3), "r3");
        assert_eq!(parse_revision_dir_name("r12"), Some(12));
        for not_a_revision in [
            "r0",
            "r01",
            "r",
            "3",
            "r3.tmp",
            ".r3",
            "r-1",
            "r99999999999",
        ] {
            assert_eq!(
                parse_revision_dir_name(not_a_revision),
                None,
                "{not_a_revision}"
            );
        }
        assert_eq!(revision_path("LIMS", "2026-10", 2), "lims/2026-10/r2");
    }
}
