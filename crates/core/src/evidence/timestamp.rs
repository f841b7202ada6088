//! UTC timestamps as they appear in AWS responses and in the snapshot.
//!
//! AWS's JSON protocols send epoch seconds (sometimes as `1.688992158E9`), recordings and
//! hand-edited files sometimes carry the epoch as a string, and people write RFC 3339.
//! The snapshot accepts all three and always writes RFC 3339 UTC, so files stay readable.

use std::fmt;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time, always UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    pub fn from_epoch_seconds(seconds: f64) -> Option<Self> {
        if !seconds.is_finite() {
            return None;
        }
        let whole = seconds.floor();
        let nanos = ((seconds - whole) * 1e9).round() as u32;
        Utc.timestamp_opt(whole as i64, nanos.min(999_999_999))
            .single()
            .map(Timestamp)
    }

    pub fn parse(text: &str) -> Option<Self> {
        if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
            return Some(Timestamp(parsed.with_timezone(&Utc)));
        }
        text.trim()
            .parse::<f64>()
            .ok()
            .and_then(Self::from_epoch_seconds)
    }

    /// RFC 3339 with a `Z`, seconds precision unless the value has a fraction.
    pub fn to_rfc3339(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    /// The form people read in reports: `2026-10-05 14:03:12 UTC`.
    pub fn display_utc(&self) -> String {
        self.0.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    }

    pub fn display_date(&self) -> String {
        self.0.format("%Y-%m-%d").to_string()
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Timestamp(value)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

struct TimestampVisitor;

impl Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 UTC time or epoch seconds")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Timestamp, E> {
        Timestamp::parse(value).ok_or_else(|| {
            E::custom(format!(
                "`{value}` is not an RFC 3339 time (e.g. 2026-10-01T00:00:00Z) or epoch seconds"
            ))
        })
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Timestamp, E> {
        Timestamp::from_epoch_seconds(value)
            .ok_or_else(|| E::custom(format!("{value} is out of range for epoch seconds")))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Timestamp, E> {
        self.visit_f64(value as f64)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Timestamp, E> {
        self.visit_f64(value as f64)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TimestampVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_rfc3339_epoch_number_and_epoch_string() {
        let expected = Timestamp::parse("2023-07-10T12:29:18Z").unwrap();
        let from_number: Timestamp = serde_json::from_str("1688992158.0").unwrap();
        let from_exponent: Timestamp = serde_json::from_str("1.688992158E9").unwrap();
        let from_string: Timestamp = serde_json::from_str("\"1688992158\"").unwrap();
        assert_eq!(from_number, expected);
        assert_eq!(from_exponent, expected);
        assert_eq!(from_string, expected);
    }

    #[test]
    fn writes_utc_with_z() {
        let ts = Timestamp::parse("2026-10-05T16:03:12+02:00").unwrap();
        assert_eq!(
            serde_json::to_string(&ts).unwrap(),
            "\"2026-10-05T14:03:12Z\""
        );
        assert_eq!(ts.display_utc(), "2026-10-05 14:03:12 UTC");
    }

    #[test]
    fn rejects_garbage_with_a_useful_message() {
        let err = serde_json::from_str::<Timestamp>("\"last tuesday\"").unwrap_err();
        assert!(err.to_string().contains("not an RFC 3339 time"), "{err}");
    }
}
