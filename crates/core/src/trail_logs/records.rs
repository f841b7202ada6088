//! One log file, record by record: gzip → `{"Records":[…]}` decompressed into one reused
//! buffer, each record's bytes found by `splitter` (never the file in memory, only the buffer
//! and the record being read), each record parsed from its text into the few fields the
//! filter needs (everything else skipped, borrowed where it can be), kept if the rules table
//! keeps it (`events::in_change_register`) and its `eventTime` is in the window, and only then
//! turned into the `LookupEvent` LookupEvents would have returned. A record that is not JSON
//! makes the file unreadable (as any other syntax error); JSON with fields of the wrong type is
//! a record that cannot be judged.
//!
//! LookupEvents' `Event` (CloudTrail API Reference, "Event",
//! https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_Event.html) carries
//! fields derived from the record: `ReadOnly` as `"true"`/`"false"` (the record's boolean),
//! `AccessKeyId` (`userIdentity.accessKeyId`), `Username` ("a user name or role name of the
//! requester": `userName` of an IAM user, the session name of an assumed role, `root` for the
//! root user, the service for an AWS service; otherwise `userIdentity.userName` when present),
//! `Resources` (the record's `resources`, type and ARN) and `CloudTrailEvent` (the record as
//! JSON text, here its exact text in the file). The change register reads the record itself
//! first (who, which resource), so these derived fields only fill in what a record lacks.

use std::borrow::Cow;
use std::io::Read;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

use super::splitter::{ReadFault, RecordSplitter};
use crate::controls::events;
use crate::evidence::{Extra, LookupEvent, Period, Timestamp};

/// What reading one file found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileTally {
    /// Records in the file.
    pub records_read: u64,
    /// Records handed on: in the change register and in the window.
    pub records_kept: u64,
    /// Records without an `eventID`, `eventTime`, `eventSource` or `eventName` that can be
    /// read: they cannot be judged, so the region's change events are incomplete.
    pub unusable_records: u64,
    /// Where the first unusable record is and why (e.g. `record 7: no eventTime`).
    pub first_unusable: Option<String>,
}

/// A log file that cannot be read to its end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {reason} ({position})")]
pub struct UnreadableLogFile {
    /// The file's key or path.
    pub file: String,
    /// Where reading stopped: a line and column of the decompressed JSON, or the decompressed
    /// bytes read before a gzip error.
    pub position: String,
    pub reason: String,
}

/// Reads one log file (`name` is its key or path, for messages) and calls `keep` with every
/// record of the change register whose `eventTime` is in `window`, in file order.
pub fn read_log_file<R: Read>(
    name: &str,
    compressed: R,
    window: Period,
    keep: &mut dyn FnMut(LookupEvent),
) -> Result<FileTally, UnreadableLogFile> {
    let mut tally = FileTally::default();
    let mut splitter = RecordSplitter::new(flate2::read::MultiGzDecoder::new(compressed));
    let outcome = splitter.read_records(&mut |text| {
        let index = tally.records_read;
        tally.records_read += 1;
        match judge_record(text) {
            Ok(Some(event)) => {
                if window.contains(event.event_time) {
                    tally.records_kept += 1;
                    keep(event);
                }
            }
            Ok(None) => {}
            Err(RecordProblem::Unusable(why)) => {
                tally.unusable_records += 1;
                if tally.first_unusable.is_none() {
                    tally.first_unusable = Some(format!("record {}: {why}", index + 1));
                }
            }
            Err(RecordProblem::NotJson(error)) => return Err(error),
        }
        Ok(())
    });
    match outcome {
        Ok(true) => Ok(tally),
        Ok(false) => Err(UnreadableLogFile {
            file: name.to_string(),
            position: "the whole file".to_string(),
            reason: "the JSON object has no \"Records\" array".to_string(),
        }),
        Err(ReadFault::Source { error, bytes }) => Err(UnreadableLogFile {
            file: name.to_string(),
            position: format!("after {bytes} decompressed bytes"),
            reason: format!("not a readable gzip file: {error}"),
        }),
        Err(ReadFault::Json {
            message,
            line,
            column,
        }) => Err(UnreadableLogFile {
            file: name.to_string(),
            position: format!("line {line}, column {column} of the decompressed JSON"),
            reason: format!("not a CloudTrail log file: {message} at line {line} column {column}"),
        }),
    }
}

/// Why a record is not turned into an event.
enum RecordProblem {
    /// It is JSON but cannot be judged (the reason, for the gap).
    Unusable(String),
    /// It is not JSON: the file cannot be read.
    NotJson(serde_json::Error),
}

/// The fields of a record the filter and `LookupEvent` need; everything else is skipped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecordFields<'a> {
    #[serde(rename = "eventID", borrow, default)]
    event_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    event_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    event_source: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    event_time: Option<Cow<'a, str>>,
    #[serde(default)]
    read_only: Option<ReadOnlyFlag>,
    #[serde(borrow, default)]
    user_identity: Option<Identity<'a>>,
    #[serde(borrow, default)]
    resources: Option<Vec<RecordResource<'a>>>,
    #[serde(default)]
    management_event: Option<bool>,
    #[serde(borrow, default)]
    event_category: Option<Cow<'a, str>>,
}

impl RecordFields<'_> {
    /// LookupEvents returns management events only; a trail's files also hold its data events
    /// (S3 object calls of the same `s3.amazonaws.com` source, with `readOnly` false) and
    /// network activity events, which are not changes of a setting. Records without either
    /// field (older `eventVersion`s) are management events.
    fn is_management_event(&self) -> bool {
        self.management_event != Some(false)
            && self
                .event_category
                .as_deref()
                .is_none_or(|c| c == "Management")
    }
}

/// `readOnly` is a boolean in log files; LookupEvents gives it as text.
#[derive(Deserialize)]
#[serde(untagged)]
enum ReadOnlyFlag {
    Flag(bool),
    Text(String),
}

impl ReadOnlyFlag {
    fn as_lookup_text(&self) -> String {
        match self {
            ReadOnlyFlag::Flag(flag) => flag.to_string(),
            ReadOnlyFlag::Text(text) => text.to_ascii_lowercase(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identity<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    user_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    arn: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    access_key_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    invoked_by: Option<Cow<'a, str>>,
}

impl Identity<'_> {
    /// LookupEvents' `Username`, as the module doc says.
    fn lookup_username(&self) -> Option<String> {
        let name = match self.kind.as_deref() {
            Some("IAMUser") => self.user_name.as_deref(),
            Some("AssumedRole") => self
                .arn
                .as_deref()
                .and_then(|arn| arn.rsplit_once('/'))
                .map(|(_, session)| session),
            Some("Root") => Some("root"),
            Some("AWSService") => self.invoked_by.as_deref(),
            _ => self.user_name.as_deref(),
        };
        name.filter(|n| !n.is_empty()).map(str::to_string)
    }
}

#[derive(Deserialize)]
struct RecordResource<'a> {
    #[serde(rename = "ARN", borrow, default)]
    arn: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
}

/// The `LookupEvent` of a record of the change register; `None` for any other record; why a
/// record cannot be read otherwise.
pub fn record_event(text: &str) -> Result<Option<LookupEvent>, String> {
    judge_record(text).map_err(|problem| match problem {
        RecordProblem::Unusable(why) => why,
        RecordProblem::NotJson(error) => format!("fields of the wrong type: {error}"),
    })
}

/// `record_event`, telling a record that is not JSON (the file's fault) from one whose fields
/// cannot be read.
fn judge_record(text: &str) -> Result<Option<LookupEvent>, RecordProblem> {
    // Parsed as bytes (the text is UTF-8 already): serde_json places a fault in a string
    // (a raw control character) as its `io::Read` path did, on the next line.
    let fields: RecordFields = match serde_json::from_slice(text.as_bytes()) {
        Ok(fields) => fields,
        Err(error) => {
            // Any JSON with fields of the wrong type (or escapes serde cannot decode) is a
            // record that cannot be judged; anything else makes the file unreadable.
            serde_json::from_slice::<IgnoredAny>(text.as_bytes())
                .map_err(RecordProblem::NotJson)?;
            return Err(RecordProblem::Unusable(format!(
                "fields of the wrong type: {error}"
            )));
        }
    };
    let (Some(source), Some(name)) = (&fields.event_source, &fields.event_name) else {
        return Err(RecordProblem::Unusable(
            "no eventSource or eventName".to_string(),
        ));
    };
    let read_only = fields.read_only.as_ref().map(ReadOnlyFlag::as_lookup_text);
    if !fields.is_management_event()
        || !events::in_change_register(source, name, read_only.as_deref())
    {
        return Ok(None);
    }
    let unusable = |why: &str| RecordProblem::Unusable(why.to_string());
    let event_id = fields
        .event_id
        .as_deref()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| unusable("no eventID"))?;
    let event_time = fields
        .event_time
        .as_deref()
        .ok_or_else(|| unusable("no eventTime"))
        .and_then(|t| {
            Timestamp::parse(t).ok_or_else(|| unusable("an eventTime that is not an RFC 3339 time"))
        })?;
    let identity = fields.user_identity.as_ref();
    let resources: Vec<Value> = fields
        .resources
        .iter()
        .flatten()
        .filter_map(|r| {
            let arn = r.arn.as_deref()?;
            Some(json!({"ResourceType": r.kind.as_deref(), "ResourceName": arn}))
        })
        .collect();
    Ok(Some(LookupEvent {
        event_id: event_id.to_string(),
        event_name: name.to_string(),
        event_source: source.to_string(),
        event_time,
        read_only,
        username: identity.and_then(Identity::lookup_username),
        access_key_id: identity
            .and_then(|i| i.access_key_id.as_deref())
            .filter(|k| !k.is_empty())
            .map(str::to_string),
        resources,
        cloud_trail_event: text.to_string(),
        extra: Extra::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(text: &str) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(text.as_bytes()).unwrap();
        encoder.finish().unwrap()
    }

    fn window() -> Period {
        Period {
            start: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
            end: Timestamp::parse("2026-02-01T00:00:00Z").unwrap(),
        }
    }

    fn record(id: &str, source: &str, name: &str, read_only: bool, time: &str) -> Value {
        json!({"eventVersion": "1.09", "eventID": id, "eventSource": source, "eventName": name,
               "readOnly": read_only, "eventTime": time, "awsRegion": "eu-west-1",
               "userIdentity": {"type": "AssumedRole", "accessKeyId": "ASIAEXAMPLE",
                                "arn": "arn:aws:sts::111122223333:assumed-role/Admin/alice"},
               "requestParameters": {"keyId": "k1"}})
    }

    fn read(text: &str) -> Result<(FileTally, Vec<LookupEvent>), UnreadableLogFile> {
        let mut kept = Vec::new();
        let tally = read_log_file("f.json.gz", &gzip(text)[..], window(), &mut |e| {
            kept.push(e)
        })?;
        Ok((tally, kept))
    }

    #[test]
    fn keeps_write_events_of_the_sources_and_named_rules_in_the_window() {
        let records = json!({"Records": [
            record("a", events::KMS, "Decrypt", true, "2026-01-05T00:00:00Z"),
            record("b", events::KMS, "DisableKeyRotation", false, "2026-01-05T00:00:00Z"),
            record("c", "ec2.amazonaws.com", "RunInstances", false, "2026-01-05T00:00:00Z"),
            record("d", events::APIGATEWAY, "SomeFutureWrite", false, "2026-01-06T00:00:00Z"),
            record("e", events::KMS, "ScheduleKeyDeletion", false, "2026-02-01T00:00:00Z"),
        ], "extra": 1});
        let (tally, kept) = read(&records.to_string()).expect("readable");
        let ids: Vec<&str> = kept.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, ["b", "d"]);
        assert_eq!(tally.records_read, 5);
        assert_eq!(tally.records_kept, 2);
        let event = &kept[0];
        assert_eq!(event.read_only.as_deref(), Some("false"));
        assert_eq!(event.username.as_deref(), Some("alice"));
        assert_eq!(event.access_key_id.as_deref(), Some("ASIAEXAMPLE"));
        let back: Value = serde_json::from_str(&event.cloud_trail_event).unwrap();
        assert_eq!(back, records["Records"][1]);
    }

    #[test]
    fn data_and_network_activity_events_are_not_changes() {
        let mut data = record("a", events::S3, "PutObject", false, "2026-01-05T00:00:00Z");
        data["managementEvent"] = json!(false);
        data["eventCategory"] = json!("Data");
        let mut network = record(
            "b",
            events::KMS,
            "DisableKey",
            false,
            "2026-01-05T00:00:00Z",
        );
        network["eventCategory"] = json!("NetworkActivity");
        let mut management = record(
            "c",
            events::S3,
            "PutBucketPolicy",
            false,
            "2026-01-05T00:00:00Z",
        );
        management["managementEvent"] = json!(true);
        management["eventCategory"] = json!("Management");
        let (tally, kept) =
            read(&json!({"Records": [data, network, management]}).to_string()).expect("readable");
        let ids: Vec<&str> = kept.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, ["c"]);
        assert_eq!(tally.records_read, 3);
    }

    #[test]
    fn a_malformed_file_names_the_file_and_the_position() {
        let err = read("{\"Records\": [\n{\"eventID\": \"a\"},\n{\"eventID\": }]}").unwrap_err();
        assert_eq!(err.file, "f.json.gz");
        assert_eq!(err.position, "line 3, column 13 of the decompressed JSON");
        let err = read("{\"NotRecords\": []}").unwrap_err();
        assert!(err.reason.contains("no \"Records\" array"), "{err}");
        let mut truncated = gzip(&json!({"Records": [record("a", events::KMS, "CreateKey", false, "2026-01-05T00:00:00Z")]}).to_string());
        truncated.truncate(truncated.len() - 12);
        let err = read_log_file("t.json.gz", &truncated[..], window(), &mut |_| {}).unwrap_err();
        assert!(err.reason.starts_with("not a readable gzip file"), "{err}");
        assert!(err.position.starts_with("after "), "{err}");
        let err =
            read_log_file("p.json.gz", &b"plain text"[..], window(), &mut |_| {}).unwrap_err();
        assert!(err.reason.starts_with("not a readable gzip file"), "{err}");
    }

    #[test]
    fn a_file_cut_or_followed_by_garbage_is_unreadable_after_its_good_records() {
        let records: Vec<Value> = (0..400)
            .map(|i| {
                let id = format!("r{i}");
                record(&id, events::KMS, "CreateKey", false, "2026-01-05T00:00:00Z")
            })
            .collect();
        let text = json!({ "Records": records }).to_string();
        let mut cut = gzip(&text);
        cut.truncate(cut.len() / 2);
        let mut kept = 0;
        let err = read_log_file("cut.json.gz", &cut[..], window(), &mut |_| kept += 1).unwrap_err();
        assert!(err.reason.starts_with("not a readable gzip file"), "{err}");
        assert!(err.position.starts_with("after "), "{err}");
        assert!(kept > 0 && kept < 400, "{kept}");

        let err = read(&format!("{text}\n,")).unwrap_err();
        assert_eq!(err.file, "f.json.gz");
        assert_eq!(err.position, "line 2, column 1 of the decompressed JSON");
        assert!(err.reason.contains("trailing characters"), "{err}");
    }

    #[test]
    fn a_record_that_is_not_json_makes_the_file_unreadable_even_after_a_wrong_type() {
        // `eventName` of the wrong type is found first; the bad escape later still counts.
        let err = read("{\"Records\": [{\"eventName\": 5, \"x\": \"\\q\"}]}").unwrap_err();
        assert_eq!(err.position, "line 1, column 38 of the decompressed JSON");
        assert!(err.reason.contains("invalid escape"), "{err}");
        // A lone surrogate is JSON serde cannot decode into text: the record is unusable.
        let (tally, kept) = read(
            "{\"Records\": [{\"eventID\": \"a\", \"eventSource\": \"\\ud800\", \"eventName\": \"X\"}]}",
        )
        .expect("readable");
        assert!(kept.is_empty());
        assert_eq!(tally.unusable_records, 1);
        assert!(
            tally
                .first_unusable
                .as_deref()
                .unwrap_or_default()
                .starts_with("record 1: fields of the wrong type"),
            "{tally:?}"
        );
    }

    #[test]
    fn a_record_that_cannot_be_judged_is_counted_not_skipped() {
        let records = json!({"Records": [
            record("a", events::KMS, "Decrypt", true, "2026-01-05T00:00:00Z"),
            {"eventID": "b", "eventSource": events::KMS, "eventName": "DisableKey", "readOnly": false},
        ]});
        let (tally, kept) = read(&records.to_string()).expect("readable");
        assert!(kept.is_empty());
        assert_eq!(tally.unusable_records, 1);
        assert_eq!(
            tally.first_unusable.as_deref(),
            Some("record 2: no eventTime")
        );
    }

    #[test]
    fn usernames_follow_lookup_events() {
        let name = |identity: Value| {
            let mut r = record("a", events::KMS, "CreateKey", false, "2026-01-05T00:00:00Z");
            r["userIdentity"] = identity;
            record_event(&r.to_string()).unwrap().unwrap().username
        };
        assert_eq!(
            name(json!({"type": "IAMUser", "userName": "bob"})).as_deref(),
            Some("bob")
        );
        assert_eq!(
            name(json!({"type": "Root", "arn": "arn:aws:iam::1:root"})).as_deref(),
            Some("root")
        );
        assert_eq!(
            name(json!({"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"})).as_deref(),
            Some("cloudtrail.amazonaws.com")
        );
        assert_eq!(name(json!({"type": "Unknown"})), None);
    }
}
