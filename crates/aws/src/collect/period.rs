//! Which reporting period a live collection covers: `--period YYYY-MM`, `--from/--to`, or by
//! default the previous calendar month (UTC); and the limits CloudTrail puts on it (events
//! delivered late, so a settle time after the period's end; 90 days of LookupEvents).

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};

use gxp_evidence_core::evidence::{Period, Timestamp};

/// CloudTrail keeps management events available to LookupEvents for 90 days.
pub const LOOKUP_EVENTS_RETENTION_DAYS: i64 = 90;

/// The default time collection waits after a period's end: CloudTrail delivers events about 5
/// minutes after the call on average, with no guarantee (CloudTrail user guide, "Finding your
/// CloudTrail log files"), so an hour leaves a margin of twelve times that.
pub const DEFAULT_SETTLE_MINUTES: u32 = 60;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PeriodError {
    #[error("--period {0:?} is not a month written as YYYY-MM")]
    BadMonth(String),
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
        "the period starts at {start}, more than {LOOKUP_EVENTS_RETENTION_DAYS} days before now ({now}): CloudTrail LookupEvents only keeps 90 days of events; build the change register from the trail's log files instead"
    )]
    BeyondLookupRetention { start: Timestamp, now: Timestamp },
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
    let start = month_start(year, month).ok_or_else(bad)?;
    let end = start.checked_add_months(Months::new(1)).ok_or_else(bad)?;
    Ok(Period {
        start: Timestamp(start),
        end: Timestamp(end),
    })
}

/// Resolves the period flags; `None` everywhere means the previous calendar month. The period
/// must have ended `settle_minutes` before `now`.
pub fn resolve(
    month_flag: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    now: DateTime<Utc>,
    settle_minutes: u32,
) -> Result<Period, PeriodError> {
    let period = match (month_flag, from, to) {
        (Some(text), _, _) => month(text)?,
        (None, Some(from), Some(to)) => {
            let parse = |flag: &'static str, value: &str| {
                Timestamp::parse(value).ok_or_else(|| PeriodError::BadTime {
                    flag,
                    value: value.to_string(),
                })
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
    check_collectable(&period, now, settle_minutes)?;
    Ok(period)
}

/// A live collection needs a period that has ended at least `settle_minutes` ago and that
/// LookupEvents still covers.
pub fn check_collectable(
    period: &Period,
    now: DateTime<Utc>,
    settle_minutes: u32,
) -> Result<(), PeriodError> {
    if period.end.0 > now {
        return Err(PeriodError::NotEnded {
            end: period.end,
            now: Timestamp(now),
        });
    }
    let ready = period.end.0 + chrono::Duration::minutes(i64::from(settle_minutes));
    if ready > now {
        return Err(PeriodError::NotSettled {
            end: period.end,
            now: Timestamp(now),
            settle_minutes,
            ready: Timestamp(ready),
        });
    }
    if now - period.start.0 > chrono::Duration::days(LOOKUP_EVENTS_RETENTION_DAYS) {
        return Err(PeriodError::BeyondLookupRetention {
            start: period.start,
            now: Timestamp(now),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for text in ["2026-13", "2026-1", "Oct 2026", "2026/10"] {
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

    #[test]
    fn a_period_reaching_back_more_than_90_days_points_to_the_trail_log_files() {
        let now = at("2026-11-23T10:00:00Z");
        let err =
            resolve(Some("2026-08"), None, None, now, DEFAULT_SETTLE_MINUTES).expect_err("too old");
        assert!(matches!(err, PeriodError::BeyondLookupRetention { .. }));
        assert!(err.to_string().contains("log files"), "{err}");
        assert!(resolve(Some("2026-09"), None, None, now, DEFAULT_SETTLE_MINUTES).is_ok());
    }
}
