//! CloudTrail log files for tests and benchmarks (also included by benches/trail_logs.rs):
//! records of the size and shape of real ones (1.5–2 KB: an assumed role's identity with its
//! session context, TLS details, user agent, request parameters, resources), written as
//! `AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz`
//! files, each delivered in the five minutes after its records, as CloudTrail does (so a
//! record of 23:58 is in the next day's folder).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use serde_json::{Value, json};

pub const KMS: &str = "kms.amazonaws.com";
pub const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";
pub const APIGATEWAY: &str = "apigateway.amazonaws.com";

/// Read events of the sources and of other services, as the bulk of a real trail.
pub const READ_EVENTS: [(&str, &str); 6] = [
    (KMS, "Decrypt"),
    (KMS, "GenerateDataKey"),
    (CLOUDTRAIL, "DescribeTrails"),
    (APIGATEWAY, "GetRestApis"),
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("s3.amazonaws.com", "ListBuckets"),
];

/// Write events the rules table keeps, with a fixed or neutral classification.
pub const WRITE_EVENTS: [(&str, &str); 4] = [
    (KMS, "DisableKey"),
    (KMS, "ScheduleKeyDeletion"),
    (CLOUDTRAIL, "StopLogging"),
    (APIGATEWAY, "CreateApiKey"),
];

/// A write event of another service: never in the change register.
pub const OTHER_WRITE: (&str, &str) = ("ec2.amazonaws.com", "RunInstances");

fn rfc3339(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A record as CloudTrail writes it (about 1.6 KB).
pub fn record(
    account: &str,
    region: &str,
    (source, name): (&str, &str),
    read_only: bool,
    at: DateTime<Utc>,
    id: &str,
) -> Value {
    let session = format!("ops-session-{}", at.timestamp() % 97);
    let key_arn =
        format!("arn:aws:kms:{region}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab");
    let trail_arn = format!("arn:aws:cloudtrail:{region}:{account}:trail/management-events");
    let (request, resources) = match source {
        KMS => (
            json!({"keyId": key_arn, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
            json!([{"accountId": account, "type": "AWS::KMS::Key", "ARN": key_arn}]),
        ),
        CLOUDTRAIL => (json!({"name": trail_arn}), json!([])),
        APIGATEWAY => (
            json!({"name": "partner-key", "enabled": true, "generateDistinctId": true}),
            json!([]),
        ),
        _ => (
            json!({"instancesSet": {"items": [{"instanceId": "i-0abcd1234efgh5678"}]}, "filterSet": {}}),
            json!([]),
        ),
    };
    json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": format!("AROAEXAMPLEROLEID1234:{session}"),
            "arn": format!("arn:aws:sts::{account}:assumed-role/ops-admin/{session}"),
            "accountId": account,
            "accessKeyId": "ASIAEXAMPLEKEY123456",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLEROLEID1234",
                    "arn": format!("arn:aws:iam::{account}:role/ops-admin"),
                    "accountId": account,
                    "userName": "ops-admin"
                },
                "webIdFederationData": {},
                "attributes": {"creationDate": rfc3339(at - Duration::minutes(20)), "mfaAuthenticated": "true"}
            }
        },
        "eventTime": rfc3339(at),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "198.51.100.23",
        "userAgent": "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1016-aws md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#invoke exec-env/AWS_ECS_FARGATE",
        "requestParameters": request,
        "responseElements": null,
        "requestID": format!("{:08x}-{:04x}-4c1d-9e2f-{:012x}", at.timestamp(), at.second(), at.timestamp_subsec_nanos()),
        "eventID": id,
        "readOnly": read_only,
        "resources": resources,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": account,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": format!("{}.{region}.amazonaws.com", source.split('.').next().unwrap_or("kms"))
        },
        "vpcEndpointId": "vpce-0123456789abcdef0",
        "vpcEndpointAccountId": account,
        "sessionCredentialFromConsole": "false"
    })
}

/// The key of a log file below the folder holding `AWSLogs`.
pub fn log_file_key(
    organization_id: Option<&str>,
    account: &str,
    region: &str,
    delivered: DateTime<Utc>,
    unique: &str,
) -> String {
    let org = organization_id.map(|o| format!("{o}/")).unwrap_or_default();
    format!(
        "AWSLogs/{org}{account}/CloudTrail/{region}/{:04}/{:02}/{:02}/{account}_CloudTrail_{region}_{}_{unique}.json.gz",
        delivered.year(),
        delivered.month(),
        delivered.day(),
        delivered.format("%Y%m%dT%H%MZ")
    )
}

/// Writes one log file of `records` (streamed through the encoder, never held as one text);
/// returns its path and decompressed size.
pub fn write_log_file(root: &Path, key: &str, records: &[Value]) -> (PathBuf, u64) {
    let path = root.join(key);
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("folders");
    let file = std::io::BufWriter::new(std::fs::File::create(&path).expect("a log file"));
    let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut size = 0u64;
    let mut put = |bytes: &[u8]| {
        encoder.write_all(bytes).expect("written");
        size += bytes.len() as u64;
    };
    put(b"{\"Records\":[");
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            put(b",");
        }
        put(record.to_string().as_bytes());
    }
    put(b"]}");
    encoder
        .finish()
        .expect("gzip")
        .into_inner()
        .expect("flushed");
    (path, size)
}

/// When CloudTrail delivers a record: at the end of its five-minute window.
pub fn delivery_of(at: DateTime<Utc>) -> DateTime<Utc> {
    let window = at.timestamp() - at.timestamp().rem_euclid(300);
    Utc.timestamp_opt(window + 300, 0)
        .single()
        .expect("in range")
}

/// Writes `records` (each with `recipientAccountId` and `awsRegion`) as the files CloudTrail
/// would deliver them in: one per account, region and five-minute window.
pub fn write_delivered(
    root: &Path,
    organization_id: Option<&str>,
    records: &[Value],
) -> Vec<PathBuf> {
    let mut files: BTreeMap<(String, String, DateTime<Utc>), Vec<Value>> = BTreeMap::new();
    for record in records {
        let at = DateTime::parse_from_rfc3339(record["eventTime"].as_str().expect("eventTime"))
            .expect("an RFC 3339 time")
            .with_timezone(&Utc);
        let account = record["recipientAccountId"]
            .as_str()
            .expect("account")
            .to_string();
        let region = record["awsRegion"].as_str().expect("region").to_string();
        files
            .entry((account, region, delivery_of(at)))
            .or_default()
            .push(record.clone());
    }
    files
        .into_iter()
        .enumerate()
        .map(|(n, ((account, region, delivered), records))| {
            let key = log_file_key(
                organization_id,
                &account,
                &region,
                delivered,
                &format!("gen{n:013}"),
            );
            write_log_file(root, &key, &records).0
        })
        .collect()
}

/// One file of read events at noon of every day from `first` to `last` (inclusive), so no day
/// folder of the account-region is missing, as in a real trail.
pub fn fill_days(
    root: &Path,
    organization_id: Option<&str>,
    account: &str,
    region: &str,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
) {
    let mut day = first.date_naive();
    while day <= last.date_naive() {
        let noon = Utc.from_utc_datetime(&day.and_hms_opt(12, 0, 0).expect("noon"));
        let records: Vec<Value> = READ_EVENTS
            .iter()
            .enumerate()
            .map(|(i, event)| {
                record(
                    account,
                    region,
                    *event,
                    true,
                    noon + Duration::seconds(i as i64),
                    &format!("read-{account}-{region}-{day}-{i}"),
                )
            })
            .collect();
        let key = log_file_key(
            organization_id,
            account,
            region,
            delivery_of(noon),
            &format!("fill{}", day.format("%Y%m%d")),
        );
        write_log_file(root, &key, &records);
        day = day.succ_opt().expect("a next day");
    }
}
