//! `push` into the S3 archive against a private moto server: every object locked with the
//! retention asked for (read back by a client of the test's own, not through gxp-evidence),
//! scheduled runs filing r1, r2 (and r3 past an upload that stopped), and the refusals: a bucket without Object Lock, an object that
//! exists, an invalid or unsealed package, a malformed `s3://` URL. Nothing reaches beyond
//! 127.0.0.1.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::types::ObjectLockMode;
use chrono::{DateTime, Utc};
use common::moto::{ACCESS_KEY, CREDENTIALS, Moto, SECRET_KEY, SESSION_TOKEN, moto};
use common::{assert_refused, bin, copy_dir, files_under, shared_demo, stderr, stdout};
use gxp_evidence_aws::archive_s3::{
    Retention, RetentionMode, S3Archive, S3ArchiveError, S3Location,
};
use gxp_evidence_core::archive::{revision_path, system_dir_name};
use gxp_evidence_core::evidence::sha256_hex;

const REGION: &str = "us-east-1";
const PREFIX: &str = "gmp/archive";
/// The demo's period.
const PERIOD: &str = "2026-10";

/// The test's own S3 client: what it reads back does not go through gxp-evidence.
struct Bucket {
    client: Client,
    runtime: tokio::runtime::Runtime,
    name: String,
}

impl Bucket {
    fn create(moto: &Moto, name: &str, object_lock: bool) -> Self {
        let bucket = Self {
            client: Client::from_conf(client_config(moto)),
            runtime: tokio::runtime::Runtime::new().expect("runtime"),
            name: name.to_string(),
        };
        let mut request = bucket.client.create_bucket().bucket(name);
        if object_lock {
            request = request.object_lock_enabled_for_bucket(true);
        }
        bucket
            .runtime
            .block_on(request.send())
            .expect("bucket created");
        bucket
    }

    /// Writes `body` at `key`, as a push that stopped or a stray writer would.
    fn put(&self, key: &str, body: &str) {
        self.runtime
            .block_on(
                self.client
                    .put_object()
                    .bucket(&self.name)
                    .key(key)
                    .body(Vec::from(body).into())
                    .send(),
            )
            .expect("put");
    }

    /// Every key in the bucket, with its size.
    fn objects(&self) -> BTreeMap<String, i64> {
        let output = self
            .runtime
            .block_on(self.client.list_objects_v2().bucket(&self.name).send())
            .expect("listed");
        output
            .contents()
            .iter()
            .map(|o| (o.key().expect("key").to_string(), o.size().unwrap_or(-1)))
            .collect()
    }

    /// How many versions the key has.
    fn versions(&self, key: &str) -> usize {
        let output = self
            .runtime
            .block_on(
                self.client
                    .list_object_versions()
                    .bucket(&self.name)
                    .prefix(key)
                    .send(),
            )
            .expect("listed");
        output
            .versions()
            .iter()
            .filter(|v| v.key() == Some(key))
            .count()
    }

    fn body(&self, key: &str) -> Vec<u8> {
        let output = self
            .runtime
            .block_on(self.client.get_object().bucket(&self.name).key(key).send())
            .expect("object");
        self.runtime
            .block_on(output.body.collect())
            .expect("body")
            .to_vec()
    }

    /// The key's retention as S3 holds it: mode and date (HeadObject's Object Lock headers;
    /// moto has no GetObjectRetention).
    fn retention(&self, key: &str) -> (ObjectLockMode, DateTime<Utc>) {
        let output = self
            .runtime
            .block_on(self.client.head_object().bucket(&self.name).key(key).send())
            .unwrap_or_else(|e| panic!("{key}: {e:?}"));
        let until = output.object_lock_retain_until_date().expect("a date");
        (
            output.object_lock_mode().expect("a mode").clone(),
            DateTime::from_timestamp(until.secs(), 0).expect("in range"),
        )
    }
}

/// `push PACKAGE --to s3://BUCKET/PREFIX EXTRA… --endpoint-url MOTO --region us-east-1`
/// with the test credentials only.
fn push(moto: &Moto, package: &Path, bucket: &str, extra: &[&str]) -> Output {
    let mut command = common::bin_process();
    command
        .arg("push")
        .arg(package)
        .args(["--to", &format!("s3://{bucket}/{PREFIX}/")])
        .args(extra)
        .args(["--endpoint-url", &moto.url, "--region", REGION]);
    common::moto::with_test_credentials(&mut command)
        .output()
        .expect("runs")
}

fn assert_no_credentials(output: &Output) {
    for secret in CREDENTIALS {
        assert!(!stdout(output).contains(secret) && !stderr(output).contains(secret));
    }
}

/// The keys of revision `revision` of the demo: its package's files under the prefix.
fn revision_keys(package: &Path, revision: u32) -> Vec<String> {
    let system = &demo_system_name();
    files_under(package)
        .into_iter()
        .map(|file| {
            format!(
                "{PREFIX}/{}/{file}",
                revision_path(system, PERIOD, revision)
            )
        })
        .collect()
}

fn demo_system_name() -> String {
    "LIMS Production — Qualitätskontrolle Zürich & Łódź".to_string()
}

#[test]
fn push_locks_every_object_and_reads_back_its_retention() {
    let moto = moto();
    let bucket = Bucket::create(&moto, "gxp-locked", true);
    let package = &shared_demo().after_alice;
    let before = chrono::Utc::now();

    let output = push(&moto, package, "gxp-locked", &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_no_credentials(&output);
    let printed = stdout(&output);
    let r1 = format!(
        "s3://gxp-locked/{PREFIX}/{}/{PERIOD}/r1/",
        system_dir_name(&demo_system_name())
    );
    assert!(printed.contains(&r1), "{printed}");

    // Every file of the package, byte for byte, and nothing else.
    let keys = revision_keys(package, 1);
    let objects = bucket.objects();
    assert_eq!(objects.keys().cloned().collect::<Vec<_>>(), {
        let mut sorted = keys.clone();
        sorted.sort();
        sorted
    });
    for (key, file) in keys.iter().zip(files_under(package)) {
        let local = std::fs::read(package.join(&file)).expect("read");
        assert_eq!(sha256_hex(&bucket.body(key)), sha256_hex(&local), "{key}");
    }

    // COMPLIANCE for the default ten years from the push, read back independently, the
    // same on every object and as printed.
    let mut dates = Vec::new();
    for key in &keys {
        let (mode, until) = bucket.retention(key);
        assert_eq!(mode, ObjectLockMode::Compliance, "{key}");
        dates.push(until);
    }
    let until = dates[0];
    assert!(dates.iter().all(|d| *d == until), "{dates:?}");
    let expected = before + chrono::Duration::days(3650);
    assert!(
        (until - expected).num_seconds().abs() < 120,
        "{until} is not ten years after {before}"
    );
    let until_text = until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert!(
        printed.contains(&format!(
            "retention read back: COMPLIANCE until {until_text}"
        )),
        "{printed}"
    );

    // The same package again would be a second revision 1 beside r1, saying it supersedes
    // nothing: refused, and r1 is left as it was. (A run files revision 2 superseding r1:
    // a_scheduled_run_archives_each_revision_in_s3_locked_and_superseding_the_last.)
    let output = push(
        &moto,
        package,
        "gxp-locked",
        &["--governance", "--retention-days", "30"],
    );
    assert_refused(&output, "the package is revision 1 superseding nothing");
    assert!(stderr(&output).contains("report --supersedes"));
    for key in &keys {
        assert_eq!(bucket.versions(key), 1, "{key}");
        assert_eq!(bucket.retention(key), (ObjectLockMode::Compliance, until));
    }
    assert_eq!(bucket.objects().len(), keys.len());
}

#[test]
fn a_revision_whose_upload_stopped_is_never_reused() {
    let moto = moto();
    let bucket = Bucket::create(&moto, "gxp-partial", true);
    // What a push killed after its first object leaves (locked, so never rewritten), and
    // names in the period that are not revisions.
    let period = format!("{PREFIX}/{}/{PERIOD}", system_dir_name(&demo_system_name()));
    for key in [
        format!("{period}/r5/change-record-reconciliation.csv"),
        format!("{period}/r9.partial/evidence.json"),
        format!("{period}/r07/evidence.json"),
    ] {
        bucket.put(&key, "partial");
    }
    let output = push(&moto, &shared_demo().after_alice, "gxp-partial", &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains(&format!("s3://gxp-partial/{period}/r6/")));
}

#[test]
fn an_archived_revision_downloads_as_a_package_verify_accepts() {
    let moto = moto();
    let _bucket = Bucket::create(&moto, "gxp-download", true);
    let package = &shared_demo().after_alice;
    let output = push(&moto, package, "gxp-download", &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let archive = connect(&moto, "gxp-download");
    let dir = tempfile::tempdir().expect("temp dir");
    let to = dir.path().join("r1");
    let revision = revision_path(&demo_system_name(), PERIOD, 1);
    archive.download(&revision, &to).expect("downloaded");
    assert_eq!(files_under(&to), files_under(package));
    let (code, verified) = common::verify(&to, &[]);
    assert_eq!(code, Some(0), "{verified}");

    // Into an existing directory, or of a revision that is not there: refused, nothing left.
    let error = archive.download(&revision, &to).expect_err("exists");
    assert!(
        matches!(error, S3ArchiveError::DownloadTargetExists(_)),
        "{error}"
    );
    let missing = dir.path().join("r9");
    let error = archive
        .download(&revision_path(&demo_system_name(), PERIOD, 9), &missing)
        .expect_err("no such revision");
    assert!(error.to_string().contains("no such revision"), "{error}");
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        1,
        "only r1 is there"
    );
}

#[test]
fn a_bucket_without_object_lock_is_refused_and_nothing_uploaded() {
    let moto = moto();
    let bucket = Bucket::create(&moto, "gxp-plain", false);
    let output = push(&moto, &shared_demo().after_alice, "gxp-plain", &[]);
    assert_refused(
        &output,
        "bucket gxp-plain does not have S3 Object Lock enabled",
    );
    assert_no_credentials(&output);
    assert!(bucket.objects().is_empty(), "{:?}", bucket.objects());
}

#[test]
fn an_archived_object_is_never_overwritten() {
    let moto = moto();
    let bucket = Bucket::create(&moto, "gxp-once", true);
    let package = &shared_demo().after_alice;
    let output = push(&moto, package, "gxp-once", &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let keys = revision_keys(package, 1);
    let before: Vec<(Vec<u8>, _)> = keys
        .iter()
        .map(|k| (bucket.body(k), bucket.retention(k)))
        .collect();

    // The same revision again (as a second run racing for r1 would): the first object is
    // refused, nothing is written, r1 keeps one version of each object.
    let archive = connect(&moto, "gxp-once");
    let retention =
        Retention::days_from(RetentionMode::Governance, 1, chrono::Utc::now()).expect("valid");
    let error = archive
        .upload(
            &shared_demo().signed,
            &revision_path(&demo_system_name(), PERIOD, 1),
            &retention,
        )
        .expect_err("refused");
    assert!(matches!(error, S3ArchiveError::KeyExists { .. }), "{error}");
    assert!(error.to_string().contains(&keys[0]), "{error}");
    for (key, (body, retention)) in keys.iter().zip(before) {
        assert_eq!(bucket.versions(key), 1, "{key}");
        assert_eq!(bucket.body(key), body, "{key}");
        assert_eq!(bucket.retention(key), retention, "{key}");
    }
    assert_eq!(bucket.objects().len(), keys.len());
}

#[test]
fn a_file_changed_after_verification_is_not_uploaded() {
    let moto = moto();
    let bucket = Bucket::create(&moto, "gxp-changed", true);
    let dir = tempfile::tempdir().expect("temp dir");
    let package = dir.path().join("package");
    copy_dir(&shared_demo().after_alice, &package);
    // What a writer between `push`'s verification and its upload would leave: the last
    // file in upload order before the manifest.
    let changed = files_under(&package)
        .into_iter()
        .rfind(|f| f != "manifest.json" && f != "manifest.sig")
        .expect("a file");
    std::fs::write(package.join(&changed), "changed").expect("write");

    let retention =
        Retention::days_from(RetentionMode::Governance, 1, chrono::Utc::now()).expect("valid");
    let error = connect(&moto, "gxp-changed")
        .upload(
            &package,
            &revision_path(&demo_system_name(), PERIOD, 1),
            &retention,
        )
        .expect_err("refused");
    assert!(
        error.to_string().contains("changed since it was verified"),
        "{error}"
    );
    assert!(error.to_string().contains(&changed), "{error}");
    assert!(bucket.objects().is_empty(), "{:?}", bucket.objects());
}

#[test]
fn an_invalid_or_unsealed_package_is_refused_before_any_upload() {
    let moto = moto();
    let bucket = Bucket::create(&moto, "gxp-guarded", true);
    let dir = tempfile::tempdir().expect("temp dir");
    let tampered = dir.path().join("tampered");
    copy_dir(&shared_demo().after_alice, &tampered);
    std::fs::write(tampered.join("findings.csv"), "id\nforged\n").expect("write");

    let output = push(&moto, &tampered, "gxp-guarded", &[]);
    assert_refused(&output, "is not a valid sealed package");
    assert!(
        stderr(&output).contains("findings.csv: modified"),
        "{}",
        stderr(&output)
    );

    let output = push(&moto, &shared_demo().draft, "gxp-guarded", &[]);
    assert_refused(&output, "the package is an unsigned draft");

    let output = push(&moto, dir.path(), "gxp-guarded", &[]);
    assert_refused(&output, "results.json");
    assert!(bucket.objects().is_empty(), "{:?}", bucket.objects());
}

#[test]
fn malformed_archive_locations_and_retentions_are_refused() {
    let package = &shared_demo().after_alice;
    for (to, expected) in [
        ("s3://Gxp_Archive/x", "may hold only lower-case letters"),
        ("https://gxp-archive/x", "does not start with s3://"),
        ("s3://gxp-archive/a//b", "empty"),
        ("s3://ab", "3 to 63 characters"),
    ] {
        let output = bin()
            .arg("push")
            .arg(package)
            .args(["--to", to])
            .output()
            .expect("runs");
        assert_refused(&output, expected);
    }
    for days in ["0", "36501"] {
        let output = bin()
            .arg("push")
            .arg(package)
            .args(["--to", "s3://gxp-archive/x", "--retention-days", days])
            .output()
            .expect("runs");
        assert_refused(
            &output,
            &format!("a retention of {days} days is out of range"),
        );
    }
}

/// The library's archive, through a client with the test credentials of its own.
fn connect(moto: &Moto, bucket: &str) -> S3Archive {
    S3Archive::with_client(
        Client::from_conf(client_config(moto)),
        S3Location::parse(&format!("s3://{bucket}/{PREFIX}")).expect("valid"),
    )
    .expect("connected")
}

fn client_config(moto: &Moto) -> aws_sdk_s3::Config {
    aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(&moto.url)
        .force_path_style(true)
        .credentials_provider(Credentials::new(
            ACCESS_KEY,
            SECRET_KEY,
            Some(SESSION_TOKEN.to_string()),
            None,
            "s3-archive-test",
        ))
        .build()
}

/// A run configuration re-reporting the demo snapshot into `s3://BUCKET/PREFIX` on moto,
/// with the job key `keys/job.key` made in `dir`, and `archive_extra` lines in `[archive]`.
fn run_config(dir: &Path, moto: &Moto, bucket: &str, archive_extra: &str) -> std::path::PathBuf {
    common::keygen(&dir.join("keys"), "job");
    let config = dir.join("run.toml");
    std::fs::write(
        &config,
        format!(
            r#"[system]
name = "{system}"

[collection]
evidence = "{evidence}"

[signing]
key = "keys/job.key"
passphrase_env = "{passphrase_var}"
name = "GxP evidence scheduled job"
user_id = "svc-gxp-evidence"
role = "Automated evidence collection"

[archive]
location = "s3://{bucket}/{PREFIX}"
region = "{REGION}"
endpoint_url = "{url}"
{archive_extra}
"#,
            system = demo_system_name(),
            evidence = common::demo_evidence().display(),
            passphrase_var = common::PASSPHRASE_VAR,
            url = moto.url,
        ),
    )
    .expect("config");
    config
}

/// `run --config CONFIG --quiet` with the test credentials and the demo's rendering time.
fn run(config: &Path) -> Output {
    let mut command = common::bin_process();
    command
        .env(common::TEST_NOW_VAR, common::RENDERED_AT)
        .env(common::PASSPHRASE_VAR, common::TEST_PASSPHRASE)
        .arg("run")
        .arg("--config")
        .arg(config)
        .arg("--quiet");
    common::moto::with_test_credentials(&mut command)
        .output()
        .expect("runs")
}

#[test]
fn a_scheduled_run_archives_each_revision_in_s3_locked_and_superseding_the_last() {
    let moto = moto();
    let bucket = Bucket::create(&moto, "gxp-run-archive", true);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = run_config(
        dir.path(),
        &moto,
        "gxp-run-archive",
        "retention_days = 30\nretention_mode = \"governance\"",
    );
    let summaries: Vec<serde_json::Value> = (0..2)
        .map(|_| {
            let output = run(&config);
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
            assert_no_credentials(&output);
            serde_json::from_str(stdout(&output).trim()).expect("one JSON line")
        })
        .collect();
    let system = demo_system_name();
    for (index, summary) in summaries.iter().enumerate() {
        let revision = index as u32 + 1;
        assert_eq!(summary["revision"], revision);
        assert_eq!(
            summary["archive_path"],
            format!(
                "s3://gxp-run-archive/{PREFIX}/{}",
                revision_path(&system, PERIOD, revision)
            )
        );
    }
    assert_eq!(summaries[1]["supersedes"], summaries[0]["report_id"]);

    // Every object of both revisions is locked in the configured mode for 30 days.
    let objects = bucket.objects();
    let sealed = format!(
        "{PREFIX}/{}/manifest.sig",
        revision_path(&system, PERIOD, 2)
    );
    assert!(objects.contains_key(&sealed), "{objects:?}");
    for key in objects.keys() {
        let (mode, until) = bucket.retention(key);
        assert_eq!(mode, ObjectLockMode::Governance, "{key}");
        let days = (until - Utc::now()).num_hours() as f64 / 24.0;
        assert!((29.0..=30.0).contains(&days), "{key}: {days} days");
    }

    // r2 as archived verifies, and its report names r1's as superseded.
    let archive = connect(&moto, "gxp-run-archive");
    let downloaded = dir.path().join("r2");
    archive
        .download(&revision_path(&system, PERIOD, 2), &downloaded)
        .expect("downloaded");
    let (code, verification) = common::verify(&downloaded, &[]);
    assert_eq!(code, Some(0), "{verification}");
    let results = common::results(&downloaded);
    assert_eq!(results["document"]["revision"], 2);
    assert_eq!(results["document"]["supersedes"], summaries[0]["report_id"]);
}

#[test]
fn a_scheduled_run_refuses_a_bucket_without_object_lock_before_collecting() {
    let moto = moto();
    let bucket = Bucket::create(&moto, "gxp-unlocked", false);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = run_config(dir.path(), &moto, "gxp-unlocked", "");
    assert_refused(&run(&config), "gxp-unlocked");
    assert!(bucket.objects().is_empty());
}

#[test]
fn a_run_after_an_upload_that_stopped_skips_it_and_supersedes_the_last_finished_revision() {
    let moto = moto();
    let bucket = Bucket::create(&moto, "gxp-stopped", true);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = run_config(dir.path(), &moto, "gxp-stopped", "retention_days = 1");
    let first = run(&config);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let first: serde_json::Value = serde_json::from_str(stdout(&first).trim()).expect("summary");
    // What a run killed mid-upload leaves: r2 with some objects and no manifest.sig, locked.
    let system = demo_system_name();
    let stopped = format!(
        "{PREFIX}/{}/evidence.json",
        revision_path(&system, PERIOD, 2)
    );
    bucket.put(&stopped, "{");

    let third = run(&config);
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    let third: serde_json::Value = serde_json::from_str(stdout(&third).trim()).expect("summary");
    assert_eq!(third["revision"], 3);
    assert_eq!(third["supersedes"], first["report_id"]);
    let warning = third["warnings"][0].as_str().expect("a warning");
    assert!(
        warning.contains("/r2") && warning.contains("did not finish"),
        "{warning}"
    );
    let downloaded = dir.path().join("r3");
    connect(&moto, "gxp-stopped")
        .download(&revision_path(&system, PERIOD, 3), &downloaded)
        .expect("downloaded");
    let (code, verification) = common::verify(&downloaded, &[]);
    assert_eq!(code, Some(0), "{verification}");
    assert_eq!(common::results(&downloaded)["document"]["revision"], 3);
}
