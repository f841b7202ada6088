//! Which reporting period a live collection covers: `--period YYYY-MM`, `--from/--to`, or by
//! default the previous calendar month (UTC); and the limits CloudTrail puts on it (events
//! delivered late, so a settle time after the period's end; 90 days of LookupEvents).

use chrono::{DateTime, Datelike, Months, NaiveDate, Timelike, Utc};

use gxp_evidence_core::evidence::{Period, Timestamp};

/// CloudTrail keeps management events available to LookupEvents for 90 days.
pub const LOOKUP_EVENTS_RETENTION_DAYS: i64 = 90;

/// The default time collection waits after a period's end: CloudTrail delivers events about 5
/// minutes after the call on average, with no guarantee (CloudTrail user guide, "Finding your
/// CloudTrail log files"), so an hour leaves a margin of twelve times that.
pub const DEFAULT_SETTLE_MINUTES: u32 = 60;

/// What a user can do about a period LookupEvents no longer covers, besides a later period.
/// The one place that changes once the trail's log files can be read (issue 19, `--trail-logs`).
pub const OLDER_PERIOD_REMEDY: &str = "or read the change events from the trail's log files instead, in its bucket or a local copy (--trail-logs s3://BUCKET/PREFIX or --trail-logs DIR), or with an Athena query over the trail's table (--athena WORKGROUP --athena-table DB.TABLE)";

/// Where a live collection reads the period's change events: LookupEvents limits how far back
/// a period may start; the trail's log files do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeEventSource {
    LookupEvents,
    TrailLogFiles,
    /// One Athena query over the trail's table (`--athena`): as far back as the table reaches.
    Athena,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PeriodError {
    #[error("--period {0:?} is not a month written as YYYY-MM")]
    BadMonth(String),
    #[error("--{flag} {value:?}: {field} {found} is out of range ({range})")]
    OutOfRange {
        flag: &'static str,
        value: String,
        field: &'static str,
        found: u32,
        range: String,
    },
    #[error("--{flag} {value:?} is not an RFC 3339 time such as 2026-10-01T00:00:00Z")]
    BadTime { flag: &'static str, value: String },
    #[error("--from and --to must be given together")]
    HalfOpenRange,
    #[error("the period is empty: --from {start} is not before --to {end}")]
    Empty { start: Timestamp, end: Timestamp },
    #[error(
        "the period ends at {end}, after the collection time {now}: evidence for a period can only be collected once it has ended (use --to with a past time for a partial period)"
    )]
    NotEnded { end: Timestamp, now: Timestamp },
    #[error(
        "the period ended at {end}, less than the settle time of {settle_minutes} min before now ({now}): CloudTrail delivers events late, so the period's last events may still be missing; collect after {ready} or pass a shorter --settle-minutes"
    )]
    NotSettled {
        end: Timestamp,
        now: Timestamp,
        settle_minutes: u32,
        ready: Timestamp,
    },
    #[error(
        "the period starts at {start}, more than {LOOKUP_EVENTS_RETENTION_DAYS} days before now ({now}): CloudTrail LookupEvents only keeps {LOOKUP_EVENTS_RETENTION_DAYS} days of events, so its change register would be incomplete. Choose a period that starts at or after {earliest}; {OLDER_PERIOD_REMEDY}"
    )]
    BeyondLookupRetention {
        start: Timestamp,
        now: Timestamp,
        earliest: Timestamp,
    },
}

/// The month before the one `now` falls in.
pub fn previous_month(now: DateTime<Utc>) -> Period {
    let this_month = month_start(now.year(), now.month()).unwrap_or(now);
    let start = this_month
        .checked_sub_months(Months::new(1))
        .unwrap_or(this_month);
    Period {
        start: Timestamp(start),
        end: Timestamp(this_month),
    }
}

fn month_start(year: i32, month: u32) -> Option<DateTime<Utc>> {
    NaiveDate::from_ymd_opt(year, month, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

/// Parses `YYYY-MM` into that calendar month.
pub fn month(text: &str) -> Result<Period, PeriodError> {
    let bad = || PeriodError::BadMonth(text.to_string());
    let (year, month) = text.split_once('-').ok_or_else(bad)?;
    if year.len() != 4 || month.len() != 2 {
        return Err(bad());
    }
    let year: i32 = year.parse().map_err(|_| bad())?;
    let month: u32 = month.parse().map_err(|_| bad())?;
    if !(1..=12).contains(&month) {
        return Err(PeriodError::OutOfRange {
            flag: "period",
            value: text.to_string(),
            field: "month",
            found: month,
            range: "01–12".to_string(),
        });
    }
    let start = month_start(year, month).ok_or_else(bad)?;
    let end = start.checked_add_months(Months::new(1)).ok_or_else(bad)?;
    Ok(Period {
        start: Timestamp(start),
        end: Timestamp(end),
    })
}

/// Why `--from`/`--to` `value` is not a time: the first field out of its range when the
/// text has the shape `YYYY-MM-DDTHH:MM:SS…`, else the expected format.
fn time_error(flag: &'static str, value: &str) -> PeriodError {
    let out_of_range = |field, found, range: String| PeriodError::OutOfRange {
        flag,
        value: value.to_string(),
        field,
        found,
        range,
    };
    let number = |at: usize, len: usize| {
        value
            .get(at..at + len)
            .filter(|digits| digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse::<u32>().ok())
    };
    let separators_at = |positions: &[(usize, &[u8])]| {
        positions.iter().all(|(at, allowed)| {
            value
                .as_bytes()
                .get(*at)
                .is_some_and(|b| allowed.contains(b))
        })
    };
    let fields = (
        number(0, 4),
        number(5, 2),
        number(8, 2),
        number(11, 2),
        number(14, 2),
        number(17, 2),
    );
    let shaped = separators_at(&[(4, b"-"), (7, b"-"), (10, b"Tt "), (13, b":"), (16, b":")]);
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = fields
    else {
        return PeriodError::BadTime {
            flag,
            value: value.to_string(),
        };
    };
    if !shaped {
        return PeriodError::BadTime {
            flag,
            value: value.to_string(),
        };
    }
    if !(1..=12).contains(&month) {
        return out_of_range("month", month, "01–12".to_string());
    }
    let days_in_month = i32::try_from(year)
        .ok()
        .and_then(|year| month_start(year, month))
        .and_then(|start| {
            let next = start.checked_add_months(Months::new(1))?;
            u32::try_from((next - start).num_days()).ok()
        })
        .unwrap_or(31);
    if !(1..=days_in_month).contains(&day) {
        return out_of_range(
            "day",
            day,
            format!("01–{days_in_month} in {year:04}-{month:02}"),
        );
    }
    if hour > 23 {
        return out_of_range("hour", hour, "00–23".to_string());
    }
    if minute > 59 {
        return out_of_range("minute", minute, "00–59".to_string());
    }
    if second > 59 {
        return out_of_range("second", second, "00–59".to_string());
    }
    PeriodError::BadTime {
        flag,
        value: value.to_string(),
    }
}

/// Resolves the period flags; `None` everywhere means the previous calendar month. The period
/// must have ended `settle_minutes` before `now`.
pub fn resolve(
    month_flag: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    now: DateTime<Utc>,
    settle_minutes: u32,
    events_from: ChangeEventSource,
) -> Result<Period, PeriodError> {
    let period = match (month_flag, from, to) {
        (Some(text), _, _) => month(text)?,
        (None, Some(from), Some(to)) => {
            let parse = |flag: &'static str, value: &str| {
                Timestamp::parse(value).ok_or_else(|| time_error(flag, value))
            };
            let period = Period {
                start: parse("from", from)?,
                end: parse("to", to)?,
            };
            if period.start >= period.end {
                return Err(PeriodError::Empty {
                    start: period.start,
                    end: period.end,
                });
            }
            period
        }
        (None, None, None) => previous_month(now),
        (None, _, _) => return Err(PeriodError::HalfOpenRange),
    };
    check_collectable(&period, now, settle_minutes, events_from)?;
    Ok(period)
}

/// A live collection needs a period that has ended at least `settle_minutes` ago and, when
/// its events come from LookupEvents, that LookupEvents still covers.
pub fn check_collectable(
    period: &Period,
    now: DateTime<Utc>,
    settle_minutes: u32,
    events_from: ChangeEventSource,
) -> Result<(), PeriodError> {
    // Shown to the second in messages; compared exactly.
    let now_shown = Timestamp(now.with_nanosecond(0).unwrap_or(now));
    if period.end.0 > now {
        return Err(PeriodError::NotEnded {
            end: period.end,
            now: now_shown,
        });
    }
    let ready = period.end.0 + chrono::Duration::minutes(i64::from(settle_minutes));
    if ready > now {
        return Err(PeriodError::NotSettled {
            end: period.end,
            now: now_shown,
            settle_minutes,
            ready: Timestamp(ready),
        });
    }
    let earliest = now - chrono::Duration::days(LOOKUP_EVENTS_RETENTION_DAYS);
    if events_from == ChangeEventSource::LookupEvents && period.start.0 < earliest {
        return Err(PeriodError::BeyondLookupRetention {
            start: period.start,
            now: now_shown,
            // Rounded up to the second: a start at the shown time is accepted.
            earliest: Timestamp(
                earliest.with_nanosecond(0).unwrap_or(earliest)
                    + chrono::Duration::seconds(i64::from(earliest.nanosecond() > 0)),
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `super::resolve` for a collection whose events come from LookupEvents.
    fn resolve(
        month_flag: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        now: DateTime<Utc>,
        settle_minutes: u32,
    ) -> Result<Period, PeriodError> {
        super::resolve(
            month_flag,
            from,
            to,
            now,
            settle_minutes,
            ChangeEventSource::LookupEvents,
        )
    }

    fn at(text: &str) -> DateTime<Utc> {
        Timestamp::parse(text).expect("valid time").0
    }

    #[test]
    fn default_is_the_previous_calendar_month_also_across_a_year_boundary() {
        let p = resolve(
            None,
            None,
            None,
            at("2026-11-23T10:00:00Z"),
            DEFAULT_SETTLE_MINUTES,
        )
        .expect("ok");
        assert_eq!(p.label(), "2026-10");
        let p = resolve(
            None,
            None,
            None,
            at("2027-01-01T01:00:00Z"),
            DEFAULT_SETTLE_MINUTES,
        )
        .expect("ok");
        assert_eq!(p.label(), "2026-12");
    }

    #[test]
    fn month_flag_and_explicit_range() {
        let now = at("2026-11-23T10:00:00Z");
        assert_eq!(
            resolve(Some("2026-10"), None, None, now, DEFAULT_SETTLE_MINUTES)
                .expect("ok")
                .label(),
            "2026-10"
        );
        let p = resolve(
            None,
            Some("2026-11-01T00:00:00Z"),
            Some("2026-11-20T00:00:00Z"),
            now,
            DEFAULT_SETTLE_MINUTES,
        )
        .expect("ok");
        assert_eq!(p.label(), "2026-11-01T00:00:00Z..2026-11-20T00:00:00Z");
    }

    #[test]
    fn bad_flags_are_refused_with_the_reason() {
        let now = at("2026-11-23T10:00:00Z");
        for text in ["2026-1", "Oct 2026", "2026/10"] {
            assert_eq!(
                resolve(Some(text), None, None, now, DEFAULT_SETTLE_MINUTES),
                Err(PeriodError::BadMonth(text.to_string()))
            );
        }
        assert_eq!(
            resolve(
                None,
                Some("2026-11-01T00:00:00Z"),
                None,
                now,
                DEFAULT_SETTLE_MINUTES
            ),
            Err(PeriodError::HalfOpenRange)
        );
        assert!(matches!(
            resolve(
                None,
                Some("yesterday"),
                Some("2026-11-20T00:00:00Z"),
                now,
                DEFAULT_SETTLE_MINUTES
            ),
            Err(PeriodError::BadTime { flag: "from", .. })
        ));
        assert!(matches!(
            resolve(
                None,
                Some("2026-11-20T00:00:00Z"),
                Some("2026-11-01T00:00:00Z"),
                now,
                DEFAULT_SETTLE_MINUTES
            ),
            Err(PeriodError::Empty { .. })
        ));
        assert!(matches!(
            resolve(Some("2026-11"), None, None, now, DEFAULT_SETTLE_MINUTES),
            Err(PeriodError::NotEnded { .. })
        ));
    }

    /// A refusal shows the clock to the second, as every other time in messages.
    #[test]
    fn now_is_shown_to_the_second_in_refusals() {
        let now = at("2026-11-01T00:30:00Z") + chrono::Duration::nanoseconds(123_456_789);
        let err = resolve(Some("2026-10"), None, None, now, DEFAULT_SETTLE_MINUTES)
            .expect_err("not settled");
        assert!(err.to_string().contains("(2026-11-01T00:30:00Z)"), "{err}");
        assert!(!err.to_string().contains("123456789"), "{err}");
    }

    /// Issue 13: CloudTrail delivers events late; a period is collectable only once the
    /// settle time has passed since its end.
    #[test]
    fn a_period_is_collectable_only_after_the_settle_time() {
        let just_after = at("2026-11-01T00:30:00Z");
        let err = resolve(
            Some("2026-10"),
            None,
            None,
            just_after,
            DEFAULT_SETTLE_MINUTES,
        )
        .expect_err("not settled");
        assert!(matches!(err, PeriodError::NotSettled { .. }), "{err}");
        assert!(err.to_string().contains("2026-11-01T01:00:00Z"), "{err}");
        assert!(resolve(Some("2026-10"), None, None, just_after, 15).is_ok());
        assert!(
            resolve(
                Some("2026-10"),
                None,
                None,
                at("2026-11-01T01:00:00Z"),
                DEFAULT_SETTLE_MINUTES
            )
            .is_ok()
        );
    }

    /// Issue 17: a value of the right shape with a field out of range names the field.
    #[test]
    fn out_of_range_fields_are_named_with_their_range() {
        let now = at("2026-11-23T10:00:00Z");
        let message = |month: Option<&str>, from: Option<&str>| {
            resolve(
                month,
                from,
                Some("2026-11-02T00:00:00Z"),
                now,
                DEFAULT_SETTLE_MINUTES,
            )
            .expect_err("refused")
            .to_string()
        };
        assert_eq!(
            message(Some("2026-13"), None),
            "--period \"2026-13\": month 13 is out of range (01–12)"
        );
        assert_eq!(
            message(Some("2026-00"), None),
            "--period \"2026-00\": month 0 is out of range (01–12)"
        );
        for (from, wanted) in [
            ("2026-13-01T00:00:00Z", "month 13 is out of range (01–12)"),
            (
                "2026-02-29T00:00:00Z",
                "day 29 is out of range (01–28 in 2026-02)",
            ),
            (
                "2028-02-30T00:00:00Z",
                "day 30 is out of range (01–29 in 2028-02)",
            ),
            (
                "2026-11-00T00:00:00Z",
                "day 0 is out of range (01–30 in 2026-11)",
            ),
            ("2026-11-01T24:00:00Z", "hour 24 is out of range (00–23)"),
            ("2026-11-01T00:60:00Z", "minute 60 is out of range (00–59)"),
            ("2026-11-01T00:00:61Z", "second 61 is out of range (00–59)"),
        ] {
            assert_eq!(
                message(None, Some(from)),
                format!("--from \"{from}\": {wanted}")
            );
        }
        assert!(
            message(None, Some("2026-11-01"))
                .contains("is not an RFC 3339 time such as 2026-10-01T00:00:00Z")
        );
    }

    /// Issue 17: the message says what can be done today and names the remedy in one place.
    #[test]
    fn a_period_reaching_back_more_than_90_days_says_what_can_be_done_today() {
        let now = at("2026-11-23T10:00:00Z");
        let err =
            resolve(Some("2026-08"), None, None, now, DEFAULT_SETTLE_MINUTES).expect_err("too old");
        assert!(matches!(err, PeriodError::BeyondLookupRetention { .. }));
        let text = err.to_string();
        assert!(
            text.contains("Choose a period that starts at or after 2026-08-25T10:00:00Z"),
            "{text}"
        );
        assert!(text.ends_with(OLDER_PERIOD_REMEDY), "{text}");
        assert_eq!(text.matches("--trail-logs s3://").count(), 1, "{text}");
        assert!(resolve(Some("2026-09"), None, None, now, DEFAULT_SETTLE_MINUTES).is_ok());
    }

    #[test]
    fn the_trail_log_files_reach_back_further_than_90_days() {
        let now = at("2026-11-23T10:00:00Z");
        let period = super::resolve(
            Some("2025-11"),
            None,
            None,
            now,
            DEFAULT_SETTLE_MINUTES,
            ChangeEventSource::TrailLogFiles,
        )
        .expect("a year back is collectable from log files");
        assert_eq!(period.label(), "2025-11");
        // The settle time still applies.
        assert!(matches!(
            super::resolve(
                Some("2026-11"),
                None,
                None,
                now,
                DEFAULT_SETTLE_MINUTES,
                ChangeEventSource::TrailLogFiles
            ),
            Err(PeriodError::NotEnded { .. })
        ));
    }
}
