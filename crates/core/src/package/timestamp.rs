//! A sign-off's trusted timestamp (`sign --tsa URL`): what is stamped, where the token lives
//! and how far its time may lie from the sign-off's own. The RFC 3161 message imprint is the
//! record's digest (`SignoffRecord::digest`, SHA-256 of the whole record, signature included —
//! the digest the next record chains to), so the token proves that exactly this signed
//! sign-off existed at the TSA's time. The record is signed before the token exists, so the
//! token cannot be inside the signed statement: the TSA's answer is kept byte for byte as
//! `timestamps/<n>.tsr`, written in the same step as sign-off n and covered by the manifest
//! and the seal like every other file.

use super::signoff::SignoffRecord;
use crate::evidence::Timestamp;
use crate::signing::timestamp::{self, TimestampProblem, TimestampRequest, VerifiedTimestamp};

/// Where the tokens live: `timestamps/<sequence>.tsr`.
pub const TIMESTAMPS_DIR: &str = "timestamps";

/// How far the TSA's time may lie from the sign-off's `signed_at` (either way): the token is
/// requested seconds after the record is signed, so a larger distance means the signing
/// machine's clock was wrong — or the record was backdated — and the claimed time (21 CFR
/// 11.50(a)(2)) cannot be relied on.
pub const MAX_CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// The token file of sign-off `sequence`.
pub fn timestamp_path(sequence: u32) -> String {
    format!("{TIMESTAMPS_DIR}/{sequence}.tsr")
}

/// The sign-off a package path is the token of (`timestamps/2.tsr` → 2), if it is one.
pub fn timestamp_sequence(path: &str) -> Option<u32> {
    let number = path
        .strip_prefix(TIMESTAMPS_DIR)?
        .strip_prefix('/')?
        .strip_suffix(".tsr")?;
    let sequence: u32 = number.parse().ok()?;
    (timestamp_path(sequence) == path).then_some(sequence)
}

impl SignoffRecord {
    /// The digest a timestamp of this record stamps: the record's own digest, as bytes.
    pub fn timestamp_imprint(&self) -> [u8; 32] {
        let mut imprint = [0u8; 32];
        // `digest()` is always 64 lowercase hex digits.
        let _ = base16ct::lower::decode(self.digest(), &mut imprint);
        imprint
    }

    /// A request to a TSA for a timestamp of this record.
    pub fn timestamp_request(&self) -> Result<TimestampRequest, TimestampProblem> {
        TimestampRequest::new(&self.timestamp_imprint())
    }

    /// The timestamp rule: `response` is a valid token over this record (see
    /// `timestamp::verify_response`) whose time lies within `MAX_CLOCK_SKEW` of `signed_at`.
    /// `sign` applies it to the TSA's answer before writing it, `verify` to the stored file.
    pub fn check_timestamp(
        &self,
        response: &[u8],
    ) -> Result<VerifiedTimestamp, TimestampRuleError> {
        let stamp = timestamp::verify_response(response, &self.timestamp_imprint())?;
        if !self.is_near(stamp.time) {
            return Err(TimestampRuleError::Skew {
                stamped: stamp.describe(),
                signed_at: self.signed_at,
            });
        }
        Ok(stamp)
    }

    /// Whether a TSA's `time` lies within `MAX_CLOCK_SKEW` of this sign-off's `signed_at`.
    pub fn is_near(&self, time: chrono::DateTime<chrono::Utc>) -> bool {
        (time - self.signed_at.0).abs() <= MAX_CLOCK_SKEW
    }
}

/// Why a token is not this sign-off's timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampRuleError {
    #[error(transparent)]
    Token(#[from] TimestampProblem),
    #[error(
        "the TSA's time ({stamped}) is more than {} minutes from the sign-off's time ({}): the signing clock was wrong or the sign-off was backdated",
        MAX_CLOCK_SKEW.num_minutes(),
        signed_at.display_utc()
    )]
    Skew {
        stamped: String,
        signed_at: Timestamp,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_paths_name_their_sign_off() {
        assert_eq!(timestamp_path(3), "timestamps/3.tsr");
        assert_eq!(timestamp_sequence("timestamps/3.tsr"), Some(3));
        for other in [
            "timestamps/03.tsr",
            "timestamps/x.tsr",
            "timestamps/3.tsq",
            "history/0/timestamps/1.tsr",
            "timestamps/+3.tsr",
        ] {
            assert_eq!(timestamp_sequence(other), None, "{other}");
        }
    }

    #[test]
    fn the_imprint_is_the_record_digest() {
        let key = crate::signing::local::LocalKey::from_secret([3; 32]);
        let record = crate::package::signoff::tests::signed_record(&key, "R1");
        assert_eq!(
            crate::hash::lower_hex(&record.timestamp_imprint()),
            record.digest()
        );
    }

    #[test]
    fn the_stamp_lies_within_five_minutes_of_the_sign_off() {
        let key = crate::signing::local::LocalKey::from_secret([3; 32]);
        let record = crate::package::signoff::tests::signed_record(&key, "R1");
        let at = |text: &str| Timestamp::parse(text).unwrap().0;
        assert!(record.is_near(at("2026-11-02T09:00:00Z")));
        assert!(record.is_near(at("2026-11-02T09:05:00Z")));
        assert!(record.is_near(at("2026-11-02T08:55:00Z")));
        assert!(
            !record.is_near(at("2026-11-02T09:05:01Z")),
            "a backdated sign-off"
        );
        assert!(
            !record.is_near(at("2026-11-02T08:54:59Z")),
            "a clock running ahead"
        );
    }
}
