//! CloudTrail's public keys for digest signatures, in the shape ListPublicKeys returns them
//! (`{"PublicKeyList": [{"Value", "ValidityStartTime", "ValidityEndTime", "Fingerprint"}]}`),
//! so the snapshot can keep them and `verify` can re-check digests offline.
//!
//! `Value` is the DER of an RSA public key in PKCS#1 form, base64 in JSON (ListPublicKeys API
//! reference, PublicKey data type). `Fingerprint` is the lowercase hex MD5 of those DER bytes:
//! checked against the example of `aws cloudtrail list-public-keys` in the AWS CLI reference,
//! whose Value hashes to its Fingerprint `7f3f401420072e50a65a141430817ab3` (see the unit test).
//! Keys differ per region; one list serves one region. Times are accepted as CloudTrail's
//! JSON epoch seconds or RFC 3339 (the AWS CLI prints either) and written as RFC 3339.

use base64ct::{Base64, Encoding};
use chrono::{DateTime, Utc};
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};

/// A ListPublicKeys response (or several merged): the keys of one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PublicKeyList {
    pub public_key_list: Vec<TrailPublicKey>,
}

/// One public key and the time during which CloudTrail signed digests with its private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrailPublicKey {
    /// DER of the PKCS#1 RSA public key, base64 as in the API's JSON.
    pub value: String,
    #[serde(with = "flexible_time")]
    pub validity_start_time: DateTime<Utc>,
    /// None: still the current key.
    #[serde(default, with = "flexible_time_option")]
    pub validity_end_time: Option<DateTime<Utc>>,
    pub fingerprint: String,
}

/// Why a key list cannot be used; names the file, and the key by position.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PublicKeyError {
    #[error(
        "public key file {file} is not a ListPublicKeys document at line {line}, column {column}: {message}"
    )]
    Json {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("public key file {file}, key {index} (fingerprint {fingerprint}): {message}")]
    Key {
        file: String,
        index: usize,
        fingerprint: String,
        message: String,
    },
}

/// The lowercase hex MD5 of a key's DER bytes: CloudTrail's `Fingerprint` and a digest's
/// `digestPublicKeyFingerprint`.
pub fn fingerprint(der: &[u8]) -> String {
    crate::hash::lower_hex(&Md5::digest(der))
}

/// Which key, if any, verifies a digest signed with `fingerprint` at a given time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLookup<'a> {
    Found(&'a TrailPublicKey),
    /// The fingerprint is known but the key was not valid at that time.
    NotValidThen(&'a TrailPublicKey),
    Unknown,
}

impl PublicKeyList {
    /// Parses a key list and checks every key: base64, a PKCS#1 RSA key, and a fingerprint
    /// that is the MD5 of the value (so a key cannot be filed under another's fingerprint).
    pub fn from_json(file: &str, bytes: &[u8]) -> Result<Self, PublicKeyError> {
        let list: PublicKeyList =
            serde_json::from_slice(bytes).map_err(|e| PublicKeyError::Json {
                file: file.to_string(),
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            })?;
        list.check(file)?;
        Ok(list)
    }

    /// The checks of `from_json`, for a list kept in a snapshot.
    pub fn check(&self, file: &str) -> Result<(), PublicKeyError> {
        for (index, key) in self.public_key_list.iter().enumerate() {
            let error = |message: String| PublicKeyError::Key {
                file: file.to_string(),
                index,
                fingerprint: key.fingerprint.clone(),
                message,
            };
            let der = key.der().map_err(error)?;
            let actual = fingerprint(&der);
            if !actual.eq_ignore_ascii_case(&key.fingerprint) {
                return Err(error(format!(
                    "the MD5 of its value is {actual}, not its fingerprint"
                )));
            }
            key.rsa_key().map_err(error)?;
        }
        Ok(())
    }

    /// The key with `fingerprint` that was valid at `at` (bounds inclusive).
    pub fn lookup(&self, fingerprint: &str, at: DateTime<Utc>) -> KeyLookup<'_> {
        let mut known = None;
        for key in self
            .public_key_list
            .iter()
            .filter(|key| key.fingerprint.eq_ignore_ascii_case(fingerprint))
        {
            if key.validity_start_time <= at && key.validity_end_time.is_none_or(|end| at <= end) {
                return KeyLookup::Found(key);
            }
            known = Some(key);
        }
        known.map_or(KeyLookup::Unknown, KeyLookup::NotValidThen)
    }
}

impl TrailPublicKey {
    /// The DER bytes of the key.
    pub fn der(&self) -> Result<Vec<u8>, String> {
        Base64::decode_vec(self.value.trim()).map_err(|e| format!("value is not base64: {e}"))
    }

    /// The RSA key, from its PKCS#1 DER.
    pub fn rsa_key(&self) -> Result<rsa::PublicKey, String> {
        use rsa::pkcs1::DecodeRsaPublicKey;
        let der = self.der()?;
        rsa::PublicKey::from_pkcs1_der(&der)
            .map_err(|e| format!("value is not a PKCS#1 RSA public key: {e}"))
    }
}

/// Epoch seconds (a JSON number, as the API returns) or an RFC 3339 string in; RFC 3339 out.
mod flexible_time {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Time {
        Seconds(f64),
        Text(String),
    }

    fn to_utc<E: Error>(time: Time) -> Result<DateTime<Utc>, E> {
        match time {
            Time::Seconds(seconds) if seconds.is_finite() => {
                let millis = (seconds * 1000.0).round() as i64;
                DateTime::from_timestamp_millis(millis)
                    .ok_or_else(|| E::custom(format!("{seconds} is out of range")))
            }
            Time::Seconds(seconds) => Err(E::custom(format!("{seconds} is not a time"))),
            Time::Text(text) => DateTime::parse_from_rfc3339(&text)
                .map(|time| time.with_timezone(&Utc))
                .map_err(|e| E::custom(format!("{text:?} is not an RFC 3339 time: {e}"))),
        }
    }

    pub fn serialize<S: Serializer>(time: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&time.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        to_utc(Time::deserialize(d)?)
    }

    pub(super) fn deserialize_option<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<Time>::deserialize(d)?.map(to_utc).transpose()
    }
}

mod flexible_time_option {
    use chrono::{DateTime, Utc};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => super::flexible_time::serialize(time, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        super::flexible_time::deserialize_option(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example output of `aws cloudtrail list-public-keys` in the AWS CLI command reference.
    const CLI_EXAMPLE: &str = r#"{"PublicKeyList": [{
        "ValidityStartTime": 1453076702.0, "ValidityEndTime": 1455668702.0,
        "Value": "MIIBCgKCAQEAlSS3cl92HDycr/MTj0moOhas8habjrraXw+KzlWF0axSI2tcF+3iJ9BKQAVSKxGwxwu3m0wG3J+kUl1xboEcEPHYoIYMbgfSw7KGnuDKwkLzsQWhUJ0cIbOHASox1vv/5fNXkrHhGbDCHeVXm804c83nvHUEFYThr1PfyP/8HwrCtR3FX5OANtQCP61C1nJtSSkC8JSQUOrIP4CuwJjc+4WGDk+BGH5m9iuiAKkipEHWmUl8/P7XpfpWQuk4h8g3pXZOrNXr08lbh4d39svj7UqdhvOXoBISp9t/EXYuePGEtBdrKD9Dz+VHwyUPtBQvYr9BnkF88qBnaPNhS44rzwIDAQAB",
        "Fingerprint": "7f3f401420072e50a65a141430817ab3"}]}"#;

    #[test]
    fn the_fingerprint_is_the_md5_of_the_der_value() {
        let list = PublicKeyList::from_json("keys.json", CLI_EXAMPLE.as_bytes()).expect("valid");
        let key = &list.public_key_list[0];
        assert_eq!(fingerprint(&key.der().expect("base64")), key.fingerprint);
        assert_eq!(
            key.validity_start_time.to_rfc3339(),
            "2016-01-18T00:25:02+00:00"
        );
    }

    #[test]
    fn a_key_under_another_fingerprint_is_refused_naming_it() {
        let forged = CLI_EXAMPLE.replace("7f3f4014", "00000000");
        let error = PublicKeyList::from_json("keys.json", forged.as_bytes()).expect_err("forged");
        assert!(error.to_string().contains("keys.json, key 0"), "{error}");
        let error = PublicKeyList::from_json("keys.json", b"{\"PublicKeyList\": 3}")
            .expect_err("not a list");
        assert!(
            matches!(error, PublicKeyError::Json { line: 1, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn rfc3339_times_round_trip_and_lookup_respects_validity() {
        let list = PublicKeyList::from_json("keys.json", CLI_EXAMPLE.as_bytes()).expect("valid");
        let json = serde_json::to_string(&list).expect("serialize");
        assert!(
            json.contains("\"ValidityStartTime\":\"2016-01-18T00:25:02Z\""),
            "{json}"
        );
        let back = PublicKeyList::from_json("again", json.as_bytes()).expect("round trip");
        assert_eq!(back, list);
        let inside = list.public_key_list[0].validity_start_time + chrono::Duration::days(1);
        let after =
            list.public_key_list[0].validity_end_time.expect("end") + chrono::Duration::seconds(1);
        let fp = "7F3F401420072E50A65A141430817AB3";
        assert!(matches!(list.lookup(fp, inside), KeyLookup::Found(_)));
        assert!(matches!(list.lookup(fp, after), KeyLookup::NotValidThen(_)));
        assert_eq!(list.lookup("ffff", inside), KeyLookup::Unknown);
    }
}
