//! Live collection end to end: `collect` and `report` against moto (real AWS API shapes) behind
//! the stub of `common/aws_stub.rs` (LookupEvents, ListRegions, faults). Each test starts a
//! moto server of its own (tests/moto/server.py, with the pinned moto that scripts/moto.sh
//! installs and names in GXP_MOTO_PYTHON) on a port moto binds itself, with the fixed seed 42:
//! tests run side by side and never reset each other's accounts. Every live run names its
//! period (`--period`), the same month the stub's events were placed in.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::aws_stub::{
    AwsStub, FailingQuery, Faults, PAGE, SOURCES, SeenRequest, StubConfig, change_operations,
    expected_kept_ids, in_account, max_calls_within, rate_window, recorded_events,
    recorded_originals, sources_searched_by_name, synthetic_events,
};
use serde_json::{Value, json};

use common::moto::{
    ACCESS_KEY, CREDENTIALS, MOTO_ACCOUNT, Month, Moto, SECRET_KEY, SESSION_TOKEN, live, month,
    moto,
};

fn run(mut cmd: Command) -> Output {
    cmd.output().expect("gxp-evidence runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn load_json(path: &Path) -> Value {
    serde_json::from_str(&common::read(path)).expect("JSON")
}

fn epoch(timestamp: &Value) -> i64 {
    let text = timestamp.as_str().expect("a timestamp");
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .timestamp()
}

/// Status of the one finding of `control` (and `view`) whose resource contains `resource`.
fn status_of(
    results: &Value,
    control: &str,
    region: &str,
    resource: &str,
    view: Option<&str>,
) -> String {
    let matches: Vec<&Value> = results["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["control_id"] == control
                && (f["region"] == region || f["region"] == "all")
                && f["resource"].as_str().is_some_and(|r| r.contains(resource))
                && view.is_none_or(|v| f["view"] == v)
        })
        .collect();
    assert_eq!(
        matches.len(),
        1,
        "{control} {region} {resource} {view:?}: {matches:#?}"
    );
    matches[0]["status"].as_str().expect("status").to_string()
}

// ---------------------------------------------------------------------------------------------
// Credential scan

fn contains_credential(bytes: &[u8]) -> bool {
    CREDENTIALS.iter().any(|secret| {
        bytes
            .windows(secret.len())
            .any(|window| window == secret.as_bytes())
    })
}

/// What a PDF shows beyond its raw bytes: the text of every page as a reader extracts it (also
/// with white space removed, in case a line break falls inside a value) and every stream
/// decompressed (content streams, metadata, fonts).
fn pdf_readable_parts(path: &Path) -> Vec<Vec<u8>> {
    let doc = lopdf::Document::load(path)
        .unwrap_or_else(|e| panic!("{}: the PDF does not parse: {e}", path.display()));
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc
        .extract_text(&pages)
        .unwrap_or_else(|e| panic!("{}: no text extracts: {e}", path.display()));
    let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut parts = vec![text.into_bytes(), squeezed.into_bytes()];
    for object in doc.objects.values() {
        if let Ok(stream) = object.as_stream() {
            parts.push(
                stream
                    .decompressed_content()
                    .unwrap_or_else(|_| stream.content.clone()),
            );
        }
    }
    parts
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Where the test credentials show: the names of the `outputs` (name, text) and the paths,
/// relative to `dir`, of the files under it that hold one. Every file is searched byte for
/// byte, and a PDF also by its extracted text and decompressed streams: report.pdf's page
/// content is Flate-compressed, so its bytes never show what a reader sees.
fn credential_leaks(outputs: &[(&str, &str)], dir: &Path) -> Vec<String> {
    let mut leaks: Vec<String> = outputs
        .iter()
        .filter(|(_, text)| contains_credential(text.as_bytes()))
        .map(|(name, _)| name.to_string())
        .collect();
    for path in files_under(dir) {
        let bytes = std::fs::read(&path).expect("read");
        let leaked = contains_credential(&bytes)
            || (bytes.starts_with(b"%PDF")
                && pdf_readable_parts(&path)
                    .iter()
                    .any(|part| contains_credential(part)));
        if leaked {
            let relative = path.strip_prefix(dir).expect("under dir");
            leaks.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    leaks
}

fn assert_no_credentials(outputs: &[(&str, &str)], dir: &Path) {
    let leaks = credential_leaks(outputs, dir);
    assert!(leaks.is_empty(), "credentials appear in {leaks:?}");
}

#[test]
fn the_credential_scan_finds_a_credential_in_the_compressed_pdf_text_that_a_byte_scan_misses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut evidence = load_json(&common::demo_evidence());
    evidence["system_name"] = json!(ACCESS_KEY);
    let evidence_path = dir.path().join("evidence.json");
    std::fs::write(&evidence_path, evidence.to_string()).expect("write evidence");
    let out = dir.path().join("report");
    let output = common::report(&evidence_path, &out, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));

    let leaks = credential_leaks(&[("stderr", &stderr(&output))], &out);
    for file in ["report.pdf", "report.html", "evidence.json"] {
        assert!(
            leaks.iter().any(|l| l == file),
            "{file} not found: {leaks:?}"
        );
    }
    // The scan the suite had before read the PDF's raw bytes, where the name is compressed.
    let pdf = std::fs::read(out.join("report.pdf")).expect("report.pdf");
    assert!(
        !contains_credential(&pdf),
        "the canary is in the PDF's raw bytes, so this test would not show the text scan is needed"
    );
    assert!(
        pdf_readable_parts(&out.join("report.pdf"))
            .iter()
            .any(|part| contains_credential(part))
    );

    // The same report without the canary: nothing found.
    let clean = dir.path().join("clean");
    let output = common::report(&common::demo_evidence(), &clean, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(credential_leaks(&[], &clean), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// Expectations written down from AWS's documentation and the fixture files, not from the code

/// The LookupEvents queries of a region holding `events`: one per event source, and one per
/// change operation of each source with more than one page of events in the period.
fn expected_queries(events: &[Value], period: &Month) -> BTreeSet<String> {
    let by_name = sources_searched_by_name(events, period.start, period.end);
    SOURCES
        .iter()
        .map(|source| format!("EventSource={source}"))
        .chain(
            change_operations()
                .into_iter()
                .filter(|(source, _)| by_name.contains(source))
                .map(|(_, name)| format!("EventName={name}")),
        )
        .collect()
}

/// The ids of the recorded events the change register must list: every write event (the
/// record's own `readOnly` is false) on API Gateway, KMS or CloudTrail.
fn recorded_change_ids() -> BTreeSet<String> {
    recorded_originals()
        .iter()
        .filter(|e| {
            let record: Value =
                serde_json::from_str(e["CloudTrailEvent"].as_str().expect("record")).expect("JSON");
            matches!(
                record["eventSource"].as_str(),
                Some("apigateway.amazonaws.com" | "kms.amazonaws.com" | "cloudtrail.amazonaws.com")
            ) && record["readOnly"] == false
        })
        .map(|e| e["EventId"].as_str().expect("id").to_string())
        .collect()
}

/// The recorded event `name` on trail `trail`, with or without an error: (id, time in the
/// fixture, error code).
fn recorded_trail_events(name: &str, trail: &str) -> Vec<(String, i64, Option<String>)> {
    recorded_originals()
        .iter()
        .filter_map(|e| {
            let record: Value =
                serde_json::from_str(e["CloudTrailEvent"].as_str()?).expect("record is JSON");
            (record["eventName"] == name && record["requestParameters"]["name"] == trail).then(
                || {
                    (
                        e["EventId"].as_str().unwrap_or_default().to_string(),
                        e["EventTime"].as_f64().unwrap_or_default() as i64,
                        record["errorCode"].as_str().map(str::to_string),
                    )
                },
            )
        })
        .collect()
}

const REGIONS: &str = "eu-west-1,us-east-1";

#[test]
fn collect_and_report_against_moto_give_the_expected_status_for_every_scenario() {
    let moto = moto();
    let made = moto.seed(&["scenarios", "us-east-1", "eu-west-1"]);
    let recorded_trails = moto.seed(&["recorded-trails", "us-east-1"]);
    let period = month();
    // The recorded events as this account's: the change register and the continuity of the
    // trails they act on are evaluated per account.
    let events = in_account(
        recorded_events(period.start, 1, Duration::ZERO),
        MOTO_ACCOUNT,
    );
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        events: BTreeMap::from([("us-east-1".to_string(), events)]),
        // Trails logging since before the period (moto dates their start at seeding).
        trails_started_at: Some((period.start - 86400) as f64),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence_path = dir.path().join("evidence.json");
    let live_report = dir.path().join("live-report");

    // The two-step way (collect, then report on the file) and the one-go way, side by side.
    let mut collect = live(
        &stub,
        &period,
        &[
            "collect",
            "--regions",
            REGIONS,
            "--system-name",
            "LIMS",
            "-vv",
        ],
    );
    collect.arg("--out").arg(&evidence_path);
    let mut report = live(
        &stub,
        &period,
        &["report", "--regions", REGIONS, "--system-name", "LIMS"],
    );
    report.arg("--out").arg(&live_report);
    let collecting = std::thread::spawn(move || run(collect));
    let reporting = run(report);
    let collected = collecting.join().expect("collect thread");
    assert_eq!(collected.status.code(), Some(0), "{}", stderr(&collected));
    assert!(
        stderr(&collected).contains("0 evidence gaps"),
        "{}",
        stderr(&collected)
    );
    assert_eq!(
        reporting.status.code(),
        Some(1),
        "NON_COMPLIANT: {}",
        stderr(&reporting)
    );
    assert!(
        stderr(&reporting).starts_with("NON_COMPLIANT"),
        "{}",
        stderr(&reporting)
    );

    let from_file = dir.path().join("from-file");
    let output = common::report(&evidence_path, &from_file, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", common::stderr(&output));

    let snapshot = load_json(&evidence_path);
    assert_eq!(snapshot["scope"]["accounts"], json!([MOTO_ACCOUNT]));
    assert_eq!(
        snapshot["scope"]["regions"],
        json!(["eu-west-1", "us-east-1"])
    );
    assert_eq!(snapshot["gaps"], json!([]));
    assert!(snapshot["accounts"][0]["caller_identity"]["Arn"].is_string());

    // What the fixture files say, independently of the collector's query plan: the register
    // lists every recorded write event on API Gateway, KMS and CloudTrail, and nothing else.
    let register_ids = recorded_change_ids();
    assert!(register_ids.len() >= 15, "{register_ids:?}");
    let shift = {
        let earliest = recorded_originals()
            .iter()
            .filter_map(|e| e["EventTime"].as_f64())
            .fold(f64::MAX, f64::min) as i64;
        period.start + 3600 - earliest
    };
    // The trail the recorded StopLogging / StartLogging calls name: every one of them was
    // refused (TrailNotFoundException), so none opened or closed a logging gap.
    let stop_trail = "stratus-red-team-ct-stop-trail-qzbgnfqisx";
    let refused: Vec<(String, i64, Option<String>)> = ["StopLogging", "StartLogging"]
        .iter()
        .flat_map(|name| recorded_trail_events(name, stop_trail))
        .collect();
    assert_eq!(refused.len(), 6, "{refused:?}");
    assert!(
        refused
            .iter()
            .all(|(_, _, error)| error.as_deref() == Some("TrailNotFoundException"))
    );
    // The trail the recorded CreateTrail, StartLogging and DeleteTrail act on, all effective:
    // created not logging, so off from its CreateTrail until its StartLogging, and off again
    // from the DeleteTrail to the end of the period (period rule: it did not exist before).
    let ctlr_trail = "stratus-red-team-ctlr-trail-zqfsvooxqj";
    let effective = |name: &str| -> i64 {
        let found: Vec<i64> = recorded_trail_events(name, ctlr_trail)
            .into_iter()
            .filter(|(_, _, error)| error.is_none())
            .map(|(_, time, _)| time + shift)
            .collect();
        assert_eq!(found.len(), 1, "{name} on {ctlr_trail}: {found:?}");
        found[0]
    };
    let (created, started, deleted) = (
        effective("CreateTrail"),
        effective("StartLogging"),
        effective("DeleteTrail"),
    );
    assert!(
        period.start < created && created <= started && started < deleted && deleted < period.end
    );
    let expected_gaps = json!([
        {"cause": "CreateTrail", "started_at": created, "ended_at": started,
         "minutes": (started - created) / 60},
        {"cause": "DeleteTrail", "started_at": deleted, "ended_at": null,
         "minutes": (period.end - deleted) / 60},
    ]);

    for results in [common::results(&live_report), common::results(&from_file)] {
        for region in ["us-east-1", "eu-west-1"] {
            let ids = &made[region];
            let id = |name: &str| ids[name].as_str().expect("id").to_string();
            let api = |name: &str| {
                status_of(
                    &results,
                    "apigw-cache-encryption",
                    region,
                    &format!("({})", id(name)),
                    Some("security_hub"),
                )
            };
            let api_strict = |name: &str| {
                status_of(
                    &results,
                    "apigw-cache-encryption",
                    region,
                    &format!("({})", id(name)),
                    Some("aws_config"),
                )
            };
            assert_eq!(api("api_encrypted"), "PASS");
            // moto answers GetDeployment without the apiSummary AWS returns for
            // embed=apisummary: what the stage serves is unknown, never taken from the draft.
            assert_eq!(api_strict("api_encrypted"), "EVIDENCE_GAP");
            assert_eq!(api("api_unencrypted"), "FAIL");
            assert_eq!(api_strict("api_unencrypted"), "FAIL");
            // Nothing cached: the lenient reading passes, the strict one fails.
            assert_eq!(api("api_no_cache"), "PASS");
            assert_eq!(api_strict("api_no_cache"), "FAIL");
            // Only the per-method override is unencrypted: found because every method is evaluated.
            assert_eq!(api("api_override"), "FAIL");
            let logging = |name: &str| {
                status_of(
                    &results,
                    "apigw-logging",
                    region,
                    &format!("({})", id(name)),
                    None,
                )
            };
            // The CloudWatch role is set in us-east-1 only: without it nothing is logged.
            let with_role = region == "us-east-1";
            assert_eq!(
                logging("api_encrypted"),
                if with_role { "PASS" } else { "FAIL" }
            );
            assert_eq!(logging("api_no_cache"), "FAIL");
            // API Gateway v2: no cache; HTTP APIs have no execution logging, WebSocket stage
            // logging is not collected (a gap, never a PASS).
            let v2 = |name: &str, control: &str, view: Option<&str>| {
                status_of(&results, control, region, &format!("({})", id(name)), view)
            };
            for name in ["api_http", "api_websocket"] {
                for view in ["security_hub", "aws_config"] {
                    assert_eq!(
                        v2(name, "apigw-cache-encryption", Some(view)),
                        "NOT_APPLICABLE"
                    );
                }
            }
            assert_eq!(v2("api_http", "apigw-logging", None), "NOT_APPLICABLE");
            assert_eq!(v2("api_websocket", "apigw-logging", None), "EVIDENCE_GAP");

            let key = |name: &str| status_of(&results, "kms-key-rotation", region, &id(name), None);
            assert_eq!(key("key_rotating"), "PASS");
            assert_eq!(key("key_not_rotating"), "FAIL");
            for not_applicable in [
                "key_asymmetric",
                "key_hmac",
                "key_pending_deletion",
                "key_disabled",
            ] {
                assert_eq!(key(not_applicable), "NOT_APPLICABLE", "{not_applicable}");
            }
            // Imported material rotates on demand: judged by its age (the key is new).
            assert_eq!(key("key_external"), "PASS");
            // Security Hub KMS.3: the key scheduled for deletion fails, with its date.
            let deletion =
                |name: &str| status_of(&results, "kms-key-deletion", region, &id(name), None);
            assert_eq!(deletion("key_pending_deletion"), "FAIL");
            assert_eq!(deletion("key_rotating"), "PASS");
        }
        // The multi-Region replica is judged by its primary (rotation off) and names it.
        let multi_region = &made["key_multi_region"];
        let (mrk_id, mrk_arn) = (
            multi_region["id"].as_str().expect("id"),
            multi_region["arn"].as_str().expect("arn"),
        );
        let mrk = |region: &str| {
            results["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .find(|f| {
                    f["control_id"] == "kms-key-rotation"
                        && f["region"] == region
                        && f["resource"]
                            .as_str()
                            .is_some_and(|r| r.starts_with(mrk_id))
                })
                .unwrap_or_else(|| panic!("the multi-Region key in {region}"))
                .clone()
        };
        assert_eq!(
            mrk("us-east-1")["status"],
            "FAIL",
            "the primary's own rotation is off"
        );
        let replica = mrk("eu-west-1");
        let reason = replica["reason"].as_str().expect("reason");
        assert_eq!(replica["status"], "FAIL", "{reason}");
        let fix = replica["remediation"].as_str().expect("remediation");
        assert!(
            reason.contains(&format!("primary key {mrk_arn} in us-east-1"))
                && fix.contains(&format!(
                    "enable-key-rotation --key-id {mrk_arn} --region us-east-1"
                )),
            "{reason} / {fix}"
        );
        // The override is named with the method it concerns.
        let override_row = results["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| {
                f["control_id"] == "apigw-cache-encryption"
                    && f["view"] == "security_hub"
                    && f["status"] == "FAIL"
                    && f["resource"]
                        .as_str()
                        .is_some_and(|r| r.contains("method-override"))
            });
        assert!(
            override_row.expect("override row")["reason"]
                .as_str()
                .expect("reason")
                .contains("PUT /items/{id}")
        );

        // The multi-region trail (validation and encryption on) passes CloudTrail.1/.2/.4.
        for control in [
            "cloudtrail-multi-region",
            "cloudtrail-encryption",
            "cloudtrail-log-validation",
        ] {
            let statuses: BTreeSet<&str> = results["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .filter(|f| {
                    f["control_id"] == control
                        && f["resource"]
                            .as_str()
                            .is_some_and(|r| r.contains("org-audit"))
                })
                .filter_map(|f| f["status"].as_str())
                .collect();
            assert_eq!(statuses, BTreeSet::from(["PASS"]), "{control}");
        }

        // Every recorded change is in the register, once, in its region; nothing else is.
        let changes = results["changes"].as_array().expect("changes");
        let listed: Vec<&str> = changes
            .iter()
            .filter_map(|c| c["event_id"].as_str())
            .collect();
        let listed_set: BTreeSet<String> = listed.iter().map(|id| id.to_string()).collect();
        assert_eq!(listed.len(), listed_set.len(), "each change once");
        let missing: Vec<&String> = register_ids.difference(&listed_set).collect();
        let extra: Vec<&String> = listed_set.difference(&register_ids).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "change register: missing {missing:?}, not a recorded change {extra:?}"
        );
        assert!(changes.iter().all(|c| c["region"] == "us-east-1"));
        for (id, _, _) in &refused {
            let row = changes
                .iter()
                .find(|c| c["event_id"] == id.as_str())
                .expect("refused call listed");
            assert_eq!(row["error_code"], "TrailNotFoundException", "{row:#}");
        }

        // Continuity: refused calls change nothing; effective ones open and close gaps.
        assert_eq!(
            status_of(
                &results,
                "cloudtrail-continuity",
                "us-east-1",
                &format!("trail/{stop_trail}"),
                None
            ),
            "PASS",
            "{stop_trail}: every recorded StopLogging on it was refused"
        );
        assert_eq!(
            status_of(
                &results,
                "cloudtrail-continuity",
                "us-east-1",
                &format!("trail/{ctlr_trail}"),
                None
            ),
            "FAIL",
            "{ctlr_trail}: off before its StartLogging and after its DeleteTrail"
        );
        assert_eq!(
            status_of(
                &results,
                "cloudtrail-continuity",
                "us-east-1",
                "org-audit",
                None
            ),
            "PASS",
            "no recorded event acts on org-audit"
        );
        let gaps: Vec<Value> = results["logging_gaps"]
            .as_array()
            .expect("logging_gaps")
            .iter()
            .filter(|g| g["trail_name"] == ctlr_trail)
            .map(|g| {
                json!({
                    "cause": g["cause"],
                    "started_at": epoch(&g["started_at"]),
                    "ended_at": if g["ended_at"].is_null() { Value::Null } else { json!(epoch(&g["ended_at"])) },
                    "minutes": g["minutes"],
                })
            })
            .collect();
        assert_eq!(json!(gaps), expected_gaps);
        // Other gaps: local-only was never started (no StartLogging up to collection), and
        // the recorded trails created in the period and never started were not logging.
        assert!(
            results["logging_gaps"]
                .as_array()
                .expect("logging_gaps")
                .iter()
                .all(|g| g["trail_name"] == ctlr_trail
                    || (g["trail_name"] == "local-only"
                        && g["cause"] == "stopped before the period"
                        && g["started_at"]
                            == "2026-10-01T00:00:00Z".replace("2026-10", &period.label))
                    || g["cause"] == "CreateTrail"),
            "{:#}",
            results["logging_gaps"]
        );
    }
    assert_eq!(
        recorded_trails
            .as_object()
            .map(|o| o.keys().cloned().collect::<BTreeSet<_>>()),
        Some(BTreeSet::from([
            stop_trail.to_string(),
            ctlr_trail.to_string()
        ]))
    );
    // The raw API Gateway answers: GetDeployment for each stage's deployment (moto: no
    // apiSummary), GetAccount's role where it is set, GetApis' v2 APIs.
    for region in snapshot["accounts"][0]["regions"]
        .as_array()
        .expect("regions")
    {
        let apigateway = &region["apigateway"];
        for api in apigateway["rest_apis"].as_array().expect("rest_apis") {
            let deployments = api["deployments"].as_array().expect("deployments kept");
            assert_eq!(deployments.len(), 1, "{api:#}");
            assert_eq!(deployments[0]["id"], api["stages"][0]["deploymentId"]);
            assert!(deployments[0].get("apiSummary").is_none());
            assert!(api.get("resources").is_none(), "the draft is not collected");
        }
        let role = &apigateway["account"]["cloudwatchRoleArn"];
        if region["region"] == "us-east-1" {
            assert_eq!(role, "arn:aws:iam::123456789012:role/apigateway-cloudwatch");
        } else {
            assert!(role.is_null(), "{role}");
        }
        let protocols: BTreeSet<&str> = apigateway["v2_apis"]
            .as_array()
            .expect("v2_apis")
            .iter()
            .filter_map(|api| api["protocolType"].as_str())
            .collect();
        assert_eq!(protocols, BTreeSet::from(["HTTP", "WEBSOCKET"]));
    }

    // The shadow copy of the multi-region trail is listed in eu-west-1 but asked about once.
    let regions = snapshot["accounts"][0]["regions"]
        .as_array()
        .expect("regions");
    let with_status: usize = regions
        .iter()
        .flat_map(|r| {
            r["cloudtrail"]["trails"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|t| t["trail"]["Name"] == "org-audit" && t.get("status").is_some())
        .count();
    assert_eq!(with_status, 1);

    // Reports from the live run and from the file agree on every status.
    let statuses = |dir: &Path| -> Vec<(String, String)> {
        common::results(dir)["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                (
                    format!(
                        "{} {} {} {}",
                        f["control_id"], f["region"], f["resource"], f["view"]
                    ),
                    f["status"].to_string(),
                )
            })
            .collect()
    };
    assert_eq!(statuses(&live_report), statuses(&from_file));
    assert_no_credentials(
        &[
            ("collect stderr", &stderr(&collected)),
            ("report stderr", &stderr(&reporting)),
        ],
        dir.path(),
    );
}

#[test]
fn lookup_events_arrive_exactly_once_at_no_more_than_two_calls_per_second_despite_faults() {
    let moto = moto();
    let period = month();
    // 20 spaced copies of the recorded events: several pages for the CloudTrail query.
    let events = recorded_events(period.start, 20, Duration::from_secs(3600));
    let expected = expected_kept_ids(&events, period.start, period.end, &change_operations());
    let documented = expected_queries(&events, &period);
    assert_eq!(
        sources_searched_by_name(&events, period.start, period.end),
        ["cloudtrail.amazonaws.com", "kms.amazonaws.com"],
        "more than a page of CloudTrail and KMS events: both searched by name"
    );
    assert!(
        expected.len() > 150,
        "enough events for several pages: {}",
        expected.len()
    );
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        events: BTreeMap::from([
            ("us-east-1".to_string(), events.clone()),
            ("eu-west-1".to_string(), events),
        ]),
        faults: Faults {
            throttle_every: 9,
            throttle_burst: 3,
            server_error_every: 7,
            slow_every: 13,
            slow_for: Duration::from_millis(2500),
        },
        enforce_rate_limit: true,
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence_path = dir.path().join("evidence.json");
    let mut collect = live(&stub, &period, &["collect", "--regions", REGIONS]);
    collect.arg("--out").arg(&evidence_path);
    let output = run(collect);
    assert_eq!(
        output.status.code(),
        Some(0),
        "no gaps: {}\n{:#}",
        stderr(&output),
        std::fs::read_to_string(&evidence_path)
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .map(|snapshot| snapshot["gaps"].clone())
            .unwrap_or_default()
    );

    let snapshot = load_json(&evidence_path);
    for region in snapshot["accounts"][0]["regions"]
        .as_array()
        .expect("regions")
    {
        let cloudtrail = &region["cloudtrail"];
        let ids: Vec<&str> = cloudtrail["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["EventId"].as_str())
            .collect();
        let unique: BTreeSet<String> = ids.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            ids.len(),
            unique.len(),
            "no duplicates in {}",
            region["region"]
        );
        assert_eq!(
            unique, expected,
            "every event exactly once in {}",
            region["region"]
        );
        // The plan the snapshot records is the documented one: one query per event source,
        // and per change operation of the API models for each source with more than a page.
        let queries: Vec<String> = cloudtrail["lookup_queries"]
            .as_array()
            .expect("plan")
            .iter()
            .map(|q| {
                format!(
                    "{}={}",
                    q["attribute_key"].as_str().unwrap_or_default(),
                    q["attribute_value"].as_str().unwrap_or_default()
                )
            })
            .collect();
        let planned: BTreeSet<String> = queries.iter().cloned().collect();
        assert_eq!(queries.len(), planned.len(), "each query once");
        assert!(
            planned == documented,
            "{}: plan lacks {:?}, plan has undocumented {:?}",
            region["region"],
            documented.difference(&planned).collect::<Vec<_>>(),
            planned.difference(&documented).collect::<Vec<_>>()
        );
        let cloudtrail_query = cloudtrail["lookup_queries"]
            .as_array()
            .expect("plan")
            .iter()
            .find(|q| q["attribute_value"] == "cloudtrail.amazonaws.com")
            .expect("CloudTrail query");
        // One page, then the source by name.
        assert_eq!(
            cloudtrail_query["events_returned"], PAGE,
            "{cloudtrail_query:#}"
        );
        assert_eq!(
            cloudtrail_query["stopped_after_pages"], 1,
            "{cloudtrail_query:#}"
        );
    }

    let calls = stub.lookup_calls();
    assert_eq!(calls.len(), 2, "both regions queried");
    for (region, calls) in &calls {
        // What AWS would have been asked: exactly the documented queries.
        let asked: BTreeSet<String> = calls.iter().map(|c| c.query.clone()).collect();
        let expected = documented.clone();
        assert!(
            asked == expected,
            "{region}: not asked {:?}, not documented {:?}",
            expected.difference(&asked).collect::<Vec<_>>(),
            asked.difference(&expected).collect::<Vec<_>>()
        );
        let faults: Vec<&str> = calls
            .iter()
            .map(|c| c.outcome)
            .filter(|o| *o != "ok")
            .collect();
        assert!(
            faults.contains(&"throttled")
                && faults.contains(&"server-error")
                && faults.contains(&"slow"),
            "{region}: {faults:?}"
        );
        assert!(
            !faults.contains(&"rate-limited"),
            "{region}: the stub's 2/s limit was hit"
        );
        // At most 2 calls per second, judged with the tolerance for late time stamps that
        // RATE_TOLERANCE explains: a pacer at twice the rate fails this every time.
        let most = max_calls_within(calls, rate_window());
        assert!(
            most <= 2,
            "{region}: {most} LookupEvents calls within {:?}",
            rate_window()
        );
    }
    assert_eq!(stub.rate_limited(), 0);
}

/// 20,000 read events on each source (scanners, consoles, Decrypt calls) and 600 changes:
/// the read volume costs one call per source, so the calls stay within the plan's queries plus
/// changes / 50 (plus 5 for retries), and every change is kept.
#[test]
fn read_volume_does_not_drive_the_lookup_events_calls() {
    const READS: usize = 20_000;
    const CHANGES_PER_SOURCE: usize = 150;
    let moto = moto();
    moto.seed(&["compliant", "us-east-1"]);
    let period = month();
    let mut events = Vec::new();
    for (source, read, change) in [
        ("apigateway.amazonaws.com", "GetStages", "CreateDeployment"),
        ("cloudtrail.amazonaws.com", "DescribeTrails", "AddTags"),
        ("kms.amazonaws.com", "Decrypt", "TagResource"),
        ("s3.amazonaws.com", "GetBucketAcl", "PutBucketLogging"),
        (
            "logs.amazonaws.com",
            "DescribeLogGroups",
            "PutRetentionPolicy",
        ),
        (
            "elasticache.amazonaws.com",
            "DescribeReplicationGroups",
            "AddTagsToResource",
        ),
    ] {
        let spread = |name, read_only, count| {
            synthetic_events(
                (period.start, period.end),
                MOTO_ACCOUNT,
                source,
                name,
                read_only,
                count,
            )
        };
        events.extend(spread(read, true, READS));
        events.extend(spread(change, false, CHANGES_PER_SOURCE));
    }
    let changes = SOURCES.len() * CHANGES_PER_SOURCE;
    let expected = expected_kept_ids(&events, period.start, period.end, &change_operations());
    assert_eq!(expected.len(), changes);
    let planned = expected_queries(&events, &period);
    let names: BTreeSet<&str> = change_operations().into_iter().map(|(_, n)| n).collect();
    assert_eq!(planned.len(), SOURCES.len() + names.len());
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        events: BTreeMap::from([("us-east-1".to_string(), events)]),
        enforce_rate_limit: true,
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence_path = dir.path().join("evidence.json");
    let mut collect = live(&stub, &period, &["collect", "--regions", "us-east-1"]);
    collect.arg("--out").arg(&evidence_path);
    let output = run(collect);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let calls = stub.lookup_calls();
    let region_calls = &calls["us-east-1"];
    let bound = planned.len() + changes / PAGE + 5;
    assert!(
        region_calls.len() <= bound,
        "{} LookupEvents calls, more than {} queries + {changes} changes / 50 + 5 = {bound}",
        region_calls.len(),
        planned.len()
    );
    assert_eq!(stub.rate_limited(), 0);
    assert!(max_calls_within(region_calls, rate_window()) <= 2);
    let snapshot = load_json(&evidence_path);
    let cloudtrail = &snapshot["accounts"][0]["regions"][0]["cloudtrail"];
    let kept: BTreeSet<String> = cloudtrail["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["EventId"].as_str().map(str::to_string))
        .collect();
    assert_eq!(kept, expected, "every change, no read");
    let queries = cloudtrail["lookup_queries"].as_array().expect("plan");
    assert_eq!(queries.len(), planned.len());
    for probe in queries
        .iter()
        .filter(|q| q["attribute_key"] == "EventSource")
    {
        assert_eq!(
            (&probe["calls"], &probe["stopped_after_pages"]),
            (&json!(1), &json!(1)),
            "{probe:#}"
        );
    }
    let recorded_calls: u64 = queries.iter().filter_map(|q| q["calls"].as_u64()).sum();
    assert_eq!(recorded_calls as usize, region_calls.len());
    eprintln!(
        "{} LookupEvents calls for {} read and {changes} write events ({} queries planned)",
        region_calls.len(),
        SOURCES.len() * READS,
        planned.len()
    );
}

#[test]
fn access_denied_on_one_service_in_one_region_is_a_gap_and_the_report_incomplete() {
    let moto = moto();
    // Compliant everywhere, so that the one gap alone decides the verdict.
    let made = moto.seed(&["compliant", "us-east-1"]);
    let period = month();
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        enabled_regions: vec!["eu-west-1".into(), "us-east-1".into()],
        deny: vec![("kms".into(), "eu-west-1".into())],
        answers: compliant_deployment_answers(&made),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report");
    let mut report = live(&stub, &period, &["report", "--regions", "all"]);
    report.arg("--out").arg(&out);
    let output = run(report);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let results = common::results(&out);
    assert_eq!(results["verdict"], "INCOMPLETE");
    assert_eq!(
        results["regions"],
        json!(["eu-west-1", "us-east-1"]),
        "all = the enabled regions"
    );
    let gaps = results["evidence_gaps"].as_array().expect("gaps");
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    assert_eq!(gaps[0]["region"], "eu-west-1");
    assert_eq!(gaps[0]["service"], "kms");
    assert_eq!(gaps[0]["api"], "ListKeys");
    assert_eq!(gaps[0]["error_code"], "AccessDeniedException");
    assert_eq!(
        status_of(&results, "kms-key-rotation", "eu-west-1", "(region)", None),
        "EVIDENCE_GAP"
    );
    let key = made["key"].as_str().expect("key id");
    assert_eq!(
        status_of(&results, "kms-key-rotation", "us-east-1", key, None),
        "PASS"
    );
    assert_eq!(results["totals"]["fail"], 0, "{:#?}", results["findings"]);
    let csv = common::read(&out.join("gaps.csv"));
    assert!(
        csv.contains("ListKeys") && csv.contains("AccessDeniedException"),
        "{csv}"
    );
}

/// Whether IAM pattern `pattern` (`*` any run of characters, `?` one) matches `text`.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // matched[j]: the pattern so far matches the first j characters of the text.
    let mut matched = vec![false; t.len() + 1];
    matched[0] = true;
    for pc in p {
        let mut next = vec![false; t.len() + 1];
        for j in 0..=t.len() {
            next[j] = match pc {
                '*' => matched[j] || (j > 0 && next[j - 1]),
                '?' => j > 0 && matched[j - 1],
                c => j > 0 && matched[j - 1] && t[j - 1] == c,
            };
        }
        matched = next;
    }
    matched[t.len()]
}

/// The IAM action and resource a request needs, from what the stub saw on the wire: REST
/// services by method and path (API Gateway authorises `apigateway:GET` on the path's ARN),
/// JSON and query protocols by operation; KMS calls naming a key act on the key's ARN, other
/// calls on no particular resource (`*`, which only a `"Resource": "*"` grant covers).
fn iam_request(request: &SeenRequest) -> (String, String) {
    match request.service.as_str() {
        // API Gateway v2 calls are sent to /v2/apis…, and authorised on ::/apis… (API Gateway
        // ARN reference).
        "apigateway" => (
            format!("apigateway:{}", request.method),
            format!(
                "arn:aws:apigateway:{}::{}",
                request.region,
                request.path.strip_prefix("/v2").unwrap_or(&request.path)
            ),
        ),
        "account" => {
            // POST /listRegions is ListRegions.
            let operation = request.path.trim_start_matches('/');
            let mut chars = operation.chars();
            let operation: String = chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
                .collect();
            (format!("account:{operation}"), "*".to_string())
        }
        // S3 REST: ListBuckets is GET /, s3control's account Block Public Access a fixed
        // path, bucket reads name their subresource in the query (S3 API reference).
        "s3" => {
            if request.path == "/" {
                return ("s3:ListAllMyBuckets".to_string(), "*".to_string());
            }
            if request.path.ends_with("/configuration/publicAccessBlock") {
                return (
                    "s3:GetAccountPublicAccessBlock".to_string(),
                    "*".to_string(),
                );
            }
            let bucket = request
                .path
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or("");
            let subresource = request.query.split(['=', '&']).next().unwrap_or("");
            let action = match subresource {
                "location" => "GetBucketLocation",
                "policy" => "GetBucketPolicy",
                "acl" => "GetBucketAcl",
                "publicAccessBlock" => "GetBucketPublicAccessBlock",
                "logging" => "GetBucketLogging",
                "object-lock" => "GetBucketObjectLockConfiguration",
                "versioning" => "GetBucketVersioning",
                "lifecycle" => "GetLifecycleConfiguration",
                other => other,
            };
            (format!("s3:{action}"), format!("arn:aws:s3:::{bucket}"))
        }
        service => {
            let resource = match request.body["KeyId"].as_str() {
                Some(arn) if arn.starts_with("arn:") => arn.to_string(),
                Some(id) => format!("arn:aws:kms:{}:{MOTO_ACCOUNT}:key/{id}", request.region),
                None => "*".to_string(),
            };
            (format!("{service}:{}", request.operation), resource)
        }
    }
}

/// The (action, resource pattern) pairs docs/iam-policy.json allows.
fn policy_grants() -> Vec<(String, String)> {
    let policy = load_json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/iam-policy.json"));
    let list = |value: &Value| -> Vec<String> {
        match value {
            Value::String(one) => vec![one.clone()],
            Value::Array(many) => many
                .iter()
                .map(|v| v.as_str().expect("a string").to_string())
                .collect(),
            other => panic!("unexpected {other}"),
        }
    };
    let mut grants = Vec::new();
    for statement in policy["Statement"].as_array().expect("statements") {
        assert_eq!(statement["Effect"], "Allow", "{statement:#}");
        assert!(statement.get("NotAction").is_none() && statement.get("Condition").is_none());
        for action in list(&statement["Action"]) {
            for resource in list(&statement["Resource"]) {
                grants.push((action.clone(), resource));
            }
        }
    }
    grants
}

/// Grants of docs/iam-policy.json that a collection does not show on the wire, and why.
const GRANTS_NOT_SEEN: &[(&str, &str, &str)] = &[
    (
        "athena:StartQueryExecution",
        "arn:aws:athena:*:*:workgroup/*",
        "Athena is queried only with --athena; tests/athena.rs collects with it",
    ),
    (
        "athena:GetQueryExecution",
        "arn:aws:athena:*:*:workgroup/*",
        "as athena:StartQueryExecution",
    ),
    (
        "athena:GetQueryResults",
        "arn:aws:athena:*:*:workgroup/*",
        "as athena:StartQueryExecution",
    ),
    (
        "s3:ListAllMyBuckets",
        "*",
        "ListBuckets is called only when the policy lists GxP buckets (cloudtrail-s3-data-events); \
         tests/s3_data_events.rs collects with them from moto",
    ),
    (
        "logs:DescribeLogGroups",
        "*",
        "DescribeLogGroups is called only for a trail that delivers to a CloudWatch Logs group \
         (cloudtrail-cloudwatch-logs); tests/cloudwatch_logs.rs collects one from moto",
    ),
    (
        "cloudtrail:ListPublicKeys",
        "*",
        "ListPublicKeys is called only when the change events come from the trail's log files \
         (collect --trail-logs) and a trail validates its log files (cloudtrail-log-integrity); \
         tests/log_integrity_control.rs collects so from moto and the stub",
    ),
];

/// GetDeployment of the `compliant` seed's stage as AWS answers it: the deployment serves
/// GET /orders.
fn compliant_deployment_answers(made: &Value) -> BTreeMap<String, Value> {
    BTreeMap::from([deployment_answer(
        made["api"].as_str().expect("api id"),
        made["deployment"].as_str().expect("deployment id"),
        json!({"/orders": {"GET": {"authorizationType": "AWS_IAM", "apiKeyRequired": false}}}),
    )])
}

/// The stub's answer to GetDeployment with `embed=apisummary`, as AWS gives it (moto ignores
/// `embed` and never returns the summary).
fn deployment_answer(api_id: &str, deployment: &str, summary: Value) -> (String, Value) {
    (
        format!("GET /restapis/{api_id}/deployments/{deployment}?embed=apisummary"),
        json!({"id": deployment, "createdDate": 1.7e9, "apiSummary": summary}),
    )
}

#[test]
fn a_compliant_account_reports_compliant_with_exit_0_using_only_the_documented_permissions() {
    let moto = moto();
    let made = moto.seed(&["compliant", "us-east-1"]);
    let period = month();
    // moto stamps StartLoggingTime with the seeding time, after the period: the trail's
    // logging before it would be unknown (period rule). The account's trail has logged since
    // before the period and delivered a minute ago.
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        enabled_regions: vec!["eu-west-1".into(), "us-east-1".into()],
        answers: compliant_deployment_answers(&made),
        trail_status: BTreeMap::from([(
            "us-east-1".to_string(),
            json!({"IsLogging": true, "StartLoggingTime": (period.start - 86400) as f64,
                "LatestDeliveryTime": (chrono::Utc::now().timestamp() - 60) as f64,
                "LatestCloudWatchLogsDeliveryTime": (chrono::Utc::now().timestamp() - 60) as f64}),
        )]),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report");
    // Collected with LookupEvents, the trail's log files are not read: cloudtrail-log-integrity
    // is an EVIDENCE_GAP by design (tests/log_integrity_control.rs collects with --trail-logs),
    // so it is left out of this otherwise compliant account's verdict.
    let mut report = live(
        &stub,
        &period,
        &[
            "report",
            "--regions",
            "all",
            "--exclude-checks",
            "cloudtrail-log-integrity",
        ],
    );
    report.arg("--out").arg(&out);
    let output = run(report);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with("COMPLIANT"),
        "{}",
        stderr(&output)
    );

    let results = common::results(&out);
    assert_eq!(results["verdict"], "COMPLIANT");
    assert_eq!(results["regions"], json!(["eu-west-1", "us-east-1"]));
    assert_eq!(results["evidence_gaps"], json!([]));
    let findings = results["findings"].as_array().expect("findings");
    let not_passing: Vec<&Value> = findings
        .iter()
        .filter(|f| {
            !matches!(
                f["status"].as_str(),
                Some("PASS" | "NOT_APPLICABLE" | "NO_RESOURCES")
            )
        })
        .collect();
    assert!(not_passing.is_empty(), "{not_passing:#?}");
    // Compliant because every resource was evaluated and passed, not because nothing was seen.
    let api = format!("({})", made["api"].as_str().expect("api id"));
    for (control, view) in [
        ("apigw-cache-encryption", Some("security_hub")),
        ("apigw-cache-encryption", Some("aws_config")),
        ("apigw-logging", None),
    ] {
        assert_eq!(
            status_of(&results, control, "us-east-1", &api, view),
            "PASS"
        );
    }
    let key = made["key"].as_str().expect("key id");
    assert_eq!(
        status_of(&results, "kms-key-rotation", "us-east-1", key, None),
        "PASS"
    );
    for control in [
        "cloudtrail-multi-region",
        "cloudtrail-encryption",
        "cloudtrail-log-validation",
        "cloudtrail-continuity",
    ] {
        assert_eq!(
            status_of(&results, control, "all", "org-audit", None),
            "PASS",
            "{control}"
        );
    }

    // Every call the collection made is allowed by docs/iam-policy.json, and every grant of the
    // policy was needed by a call (or is listed in GRANTS_NOT_SEEN with the reason). Signing
    // (kms:GetPublicKey, kms:Sign) is a different path with its own permissions (README,
    // "Electronic sign-off"): not part of this policy.
    let grants = policy_grants();
    let calls: BTreeSet<(String, String)> = stub.requests().iter().map(iam_request).collect();
    let allowed = |(action, resource): &(String, String)| {
        grants.iter().any(|(a, r)| {
            glob(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()) && glob(r, resource)
        })
    };
    let not_allowed: BTreeSet<&(String, String)> =
        calls.iter().filter(|call| !allowed(call)).collect();
    // GetCallerIdentity needs no permission: AWS allows it to every principal.
    assert_eq!(
        not_allowed,
        BTreeSet::from([&("sts:GetCallerIdentity".to_string(), "*".to_string())]),
        "calls docs/iam-policy.json does not allow"
    );
    let unused: Vec<&(String, String)> = grants
        .iter()
        .filter(|(action, resource)| {
            !calls.iter().any(|(a, r)| {
                glob(&action.to_ascii_lowercase(), &a.to_ascii_lowercase()) && glob(resource, r)
            })
        })
        .filter(|(action, resource)| {
            !GRANTS_NOT_SEEN
                .iter()
                .any(|(a, r, _)| a == action && r == resource)
        })
        .collect();
    assert!(
        unused.is_empty(),
        "docs/iam-policy.json grants what no call needed: {unused:?}; calls: {calls:#?}"
    );
    for (action, resource, _) in GRANTS_NOT_SEEN {
        assert!(
            grants.iter().any(|(a, r)| a == action && r == resource),
            "{action} {resource} is no longer in the policy: drop it from GRANTS_NOT_SEEN"
        );
    }
    assert_no_credentials(&[("report stderr", &stderr(&output))], dir.path());
}

#[test]
fn the_methods_judged_are_those_of_the_stage_deployment_and_its_canary_from_get_deployment() {
    let moto = moto();
    let made = moto.seed(&["compliant", "us-east-1"]);
    let period = month();
    let (api_id, deployment) = (
        made["api"].as_str().expect("api id"),
        made["deployment"].as_str().expect("deployment id"),
    );
    // moto has no canary releases: the stub answers GetStages as AWS does for a stage with a
    // canary, and GetDeployment with the summaries of both deployments.
    let stage = json!({"item": [{
        "stageName": "prod", "deploymentId": deployment,
        "cacheClusterEnabled": true, "cacheClusterSize": "0.5", "cacheClusterStatus": "AVAILABLE",
        "methodSettings": {"*/*": {
            "metricsEnabled": false, "loggingLevel": "INFO", "dataTraceEnabled": true,
            "throttlingBurstLimit": 5000, "throttlingRateLimit": 10000.0, "cachingEnabled": true,
            "cacheTtlInSeconds": 300, "cacheDataEncrypted": true,
            "requireAuthorizationForCacheControl": true,
            "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER"}},
        "canarySettings": {"percentTraffic": 10.0, "deploymentId": "canary1", "useStageCache": false}
    }]});
    let orders = json!({"GET": {"authorizationType": "AWS_IAM", "apiKeyRequired": false}});
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        answers: BTreeMap::from([
            (format!("GET /restapis/{api_id}/stages"), stage),
            deployment_answer(api_id, deployment, json!({"/orders": orders})),
            deployment_answer(
                api_id,
                "canary1",
                json!({"/orders": orders, "/beta": {"POST": {"authorizationType": "NONE", "apiKeyRequired": false}}}),
            ),
        ]),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence_path = dir.path().join("evidence.json");
    let mut collect = live(&stub, &period, &["collect", "--regions", "us-east-1"]);
    collect.arg("--out").arg(&evidence_path);
    let collected = run(collect);
    assert_eq!(collected.status.code(), Some(0), "{}", stderr(&collected));

    let snapshot = load_json(&evidence_path);
    let api = &snapshot["accounts"][0]["regions"][0]["apigateway"]["rest_apis"][0];
    assert_eq!(
        api["stages"][0]["canarySettings"]["deploymentId"],
        "canary1"
    );
    let summaries: BTreeMap<String, Value> = api["deployments"]
        .as_array()
        .expect("deployments")
        .iter()
        .map(|d| {
            (
                d["id"].as_str().expect("id").to_string(),
                d["apiSummary"].clone(),
            )
        })
        .collect();
    assert_eq!(summaries.len(), 2, "{summaries:#?}");
    assert_eq!(
        summaries["canary1"]["/beta"]["POST"]["authorizationType"],
        "NONE"
    );

    let out = dir.path().join("report");
    let output = common::report(&evidence_path, &out, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", common::stderr(&output));
    let results = common::results(&out);
    let finding = |control: &str, view: Option<&str>| -> Value {
        results["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| {
                f["control_id"] == control
                    && f["resource"].as_str().is_some_and(|r| r.contains(api_id))
                    && view.is_none_or(|v| f["view"] == v)
            })
            .cloned()
            .unwrap_or_else(|| panic!("{control} {view:?}"))
    };
    // Only the canary serves POST /beta, and stage-wide caching does not reach a POST.
    let strict = finding("apigw-cache-encryption", Some("aws_config"));
    assert_eq!(strict["status"], "FAIL", "{strict:#}");
    assert!(
        strict["reason"].as_str().expect("reason").contains(
            "1 method not cached: POST /beta (stage-wide */*): stage-wide */* caching applies to GET methods only"
        ),
        "{strict:#}"
    );
    assert_eq!(
        finding("apigw-cache-encryption", Some("security_hub"))["status"],
        "PASS"
    );
    let logging = finding("apigw-logging", None);
    assert_eq!(logging["status"], "PASS", "{logging:#}");
    assert!(
        logging["reason"]
            .as_str()
            .expect("reason")
            .contains("Observation: dataTraceEnabled on stage-wide */*"),
        "{logging:#}"
    );
}

#[test]
fn a_lookup_events_query_that_runs_out_of_retries_part_way_is_a_gap_and_the_report_incomplete() {
    const QUERY: &str = "EventName=StopLogging";
    let moto = moto();
    // Compliant, so that the one gap alone decides the verdict.
    let made = moto.seed(&["compliant", "us-east-1"]);
    let period = month();
    // The recorded StopLogging calls that failed (TrailNotFoundException), copied until there
    // is more than a page of them: CloudTrail then has more than a page of events, so it is
    // searched by name, and the StopLogging query has a second page to fail on. Failed calls
    // changed nothing, so nothing but the gap can count against the account.
    let copies = recorded_events(period.start, 30, Duration::from_secs(3600));
    let events: Vec<Value> = in_account(copies, MOTO_ACCOUNT)
        .into_iter()
        .filter(|e| {
            e["EventName"] == "StopLogging"
                && e["CloudTrailEvent"]
                    .as_str()
                    .is_some_and(|record| record.contains("TrailNotFoundException"))
        })
        .collect();
    assert!(events.len() > PAGE, "more than one page: {}", events.len());
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        events: BTreeMap::from([("us-east-1".to_string(), events)]),
        failing_query: Some(FailingQuery {
            query: QUERY.to_string(),
            pages_ok: 1,
        }),
        answers: compliant_deployment_answers(&made),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report");
    let mut report = live(&stub, &period, &["report", "--regions", "us-east-1"]);
    report.arg("--out").arg(&out);
    let output = run(report);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with("INCOMPLETE"),
        "{}",
        stderr(&output)
    );

    // The collector tried the second page 8 times (the README's "up to 8 attempts").
    assert_eq!(stub.failing_query_faults(), 8);
    let results = common::results(&out);
    assert_eq!(results["verdict"], "INCOMPLETE");
    let gaps = results["evidence_gaps"].as_array().expect("gaps");
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    let gap = &gaps[0];
    assert_eq!(
        (&gap["region"], &gap["service"], &gap["api"]),
        (
            &json!("us-east-1"),
            &json!("cloudtrail"),
            &json!("LookupEvents")
        ),
        "{gap:#}"
    );
    let message = gap["message"].as_str().expect("message");
    assert!(
        message.contains(QUERY) && message.contains("gave up after 8 attempts"),
        "{message}"
    );
    assert!(
        matches!(
            gap["error_code"].as_str(),
            Some("ThrottlingException" | "ServiceUnavailableException")
        ),
        "{gap:#}"
    );
    let snapshot = load_json(&out.join("evidence.json"));
    assert_eq!(snapshot["gaps"].as_array().map(Vec::len), Some(1));
    let query = snapshot["accounts"][0]["regions"][0]["cloudtrail"]["lookup_queries"]
        .as_array()
        .expect("queries")
        .iter()
        .find(|q| q["attribute_value"] == "StopLogging")
        .expect("the StopLogging query")
        .clone();
    assert_eq!(query["calls"], 9, "one page, then 8 attempts: {query:#}");
    assert_eq!(query["events_returned"], 50, "{query:#}");

    // The region's change control and the trail's continuity cannot be shown: never PASS.
    assert_eq!(
        status_of(&results, "change-control", "us-east-1", "(region)", None),
        "EVIDENCE_GAP"
    );
    assert_eq!(
        status_of(
            &results,
            "cloudtrail-continuity",
            "us-east-1",
            "org-audit",
            None
        ),
        "EVIDENCE_GAP",
        "the CloudTrail query that gave up could have held a StopLogging of org-audit"
    );
    for f in results["findings"].as_array().expect("findings") {
        if matches!(
            f["control_id"].as_str(),
            Some("change-control" | "cloudtrail-continuity")
        ) {
            assert_eq!(f["status"], "EVIDENCE_GAP", "{f:#}");
        } else if (f["region"] == "us-east-1"
            && matches!(
                f["control_id"].as_str(),
                Some(
                    "apigw-cache-encryption"
                        | "apigw-logging"
                        | "kms-key-rotation"
                        | "kms-key-deletion"
                        | "kms-key-exposure"
                        | "apigw-v2-access-logging"
                        | "apigw-v2-route-authorization"
                )
            ))
            || matches!(
                f["control_id"].as_str(),
                Some(
                    "cloudtrail-multi-region"
                        | "cloudtrail-encryption"
                        | "cloudtrail-log-validation"
                        | "cloudtrail-bucket-protection"
                        | "cloudtrail-cloudwatch-logs"
                        | "cloudtrail-log-integrity"
                )
            )
        {
            // The period rule: without every change event, the settings read at collection
            // say nothing about the rest of the period (the trail's included: its home region
            // is us-east-1).
            assert!(
                matches!(
                    f["status"].as_str(),
                    Some("EVIDENCE_GAP" | "NOT_APPLICABLE" | "NO_RESOURCES")
                ),
                "{f:#}"
            );
        } else {
            assert!(
                matches!(
                    f["status"].as_str(),
                    Some("PASS" | "NOT_APPLICABLE" | "NO_RESOURCES")
                ),
                "{f:#}"
            );
        }
    }
    assert_eq!(results["totals"]["fail"], 0);
}

#[test]
fn a_region_not_enabled_for_the_account_is_reported_as_gaps_not_as_empty() {
    let moto = moto();
    let period = month();
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        disabled_regions: vec!["ap-east-1".into()],
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence_path = dir.path().join("evidence.json");
    let mut collect = live(
        &stub,
        &period,
        &["collect", "--regions", "ap-east-1,us-east-1"],
    );
    collect.arg("--out").arg(&evidence_path);
    let output = run(collect);
    assert_eq!(
        output.status.code(),
        Some(1),
        "gaps recorded: {}",
        stderr(&output)
    );
    let snapshot = load_json(&evidence_path);
    let gaps = snapshot["gaps"].as_array().expect("gaps");
    assert!(gaps.iter().all(|g| g["region"] == "ap-east-1"), "{gaps:#?}");
    let apis: BTreeSet<&str> = gaps.iter().filter_map(|g| g["api"].as_str()).collect();
    for api in ["GetRestApis", "ListKeys", "DescribeTrails", "LookupEvents"] {
        assert!(apis.contains(api), "{api} missing from {apis:?}");
    }
    assert!(
        gaps.len() <= 8,
        "one rejection is not repeated for every query: {gaps:#?}"
    );
    assert!(
        gaps.iter()
            .any(|g| g["message"].as_str().is_some_and(|m| m.contains("enabled")))
    );

    let out = dir.path().join("report");
    let report = common::report(&evidence_path, &out, &[]);
    assert_eq!(report.status.code(), Some(1));
    let results = common::results(&out);
    for control in ["apigw-logging", "kms-key-rotation", "change-control"] {
        assert_eq!(
            status_of(&results, control, "ap-east-1", "(region)", None),
            "EVIDENCE_GAP",
            "{control}"
        );
    }
}

#[test]
fn expired_credentials_stop_the_run_before_anything_is_written() {
    let period = month();
    let stub = AwsStub::start(StubConfig {
        expired_credentials: true,
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report");
    let mut report = live(&stub, &period, &["report", "--regions", "eu-west-1"]);
    report.arg("--out").arg(&out);
    let output = run(report);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("ExpiredToken") && message.contains("Nothing was written"),
        "{message}"
    );
    assert!(!out.exists());
    let evidence = dir.path().join("evidence.json");
    let mut collect = live(&stub, &period, &["collect", "--regions", "eu-west-1"]);
    collect.arg("--out").arg(&evidence);
    assert_eq!(run(collect).status.code(), Some(2));
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        0,
        "no partial files"
    );
    assert_no_credentials(&[("report stderr", &message)], dir.path());
}

#[test]
fn missing_credentials_stop_the_run_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("evidence.json");
    let output = common::bin()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args([
            "collect",
            "--period",
            &month().label,
            "--regions",
            "eu-west-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let message = common::stderr(&output);
    assert!(
        message.contains("credentials") && message.contains("GetCallerIdentity"),
        "{message}"
    );
    assert!(!out.exists());
}

#[test]
fn periods_lookup_events_cannot_cover_are_refused_up_front() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("evidence.json");
    let output = common::bin()
        .args([
            "collect",
            "--period",
            "2020-01",
            "--regions",
            "eu-west-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let message = common::stderr(&output);
    assert!(
        message.contains("90 days") && message.contains("log files"),
        "{message}"
    );
    let output = common::bin()
        .args([
            "collect",
            "--period",
            "October",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(common::stderr(&output).contains("YYYY-MM"));
    let output = common::bin()
        .args([
            "report",
            "--evidence",
            "x.json",
            "--regions",
            "eu-west-1",
            "--out",
        ])
        .arg(dir.path().join("r"))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(common::stderr(&output).contains("--regions apply only to a live collection"));
    assert!(!out.exists());
}

/// `gxp-evidence sign --kms-key-id` against moto's KMS, with the test credentials.
fn kms_sign(moto: &Moto, package: &Path, key: &str, name: &str, meaning: &str) -> Output {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("gxp-evidence"));
    cmd.arg("sign")
        .arg(package)
        .args(["--kms-key-id", key, "--endpoint-url", &moto.url])
        .args([
            "--name",
            name,
            "--user-id",
            &name.to_lowercase().replace(' ', "."),
        ])
        .args(["--role", "QA Manager", "--meaning", meaning])
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_SESSION_TOKEN", SESSION_TOKEN);
    run(cmd)
}

#[test]
fn a_package_signed_with_a_kms_key_in_moto_verifies_offline() {
    let moto = moto();
    let keys = moto.seed(&["signing-keys", "eu-west-1"]);
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    let demo = common::bin()
        .arg("demo")
        .arg("--out")
        .arg(&package)
        .output()
        .unwrap();
    assert_eq!(demo.status.code(), Some(1), "{}", stderr(&demo));

    // Alice signs with a local key, Bob with the KMS key addressed by its alias.
    let alice = common::keygen(dir.path(), "alice");
    let signed = common::sign(
        &package,
        &alice,
        "Alice Author",
        "Validation Engineer",
        "authored",
    );
    assert!(signed.status.success(), "{}", stderr(&signed));
    let signed = kms_sign(
        &moto,
        &package,
        "alias/gxp-qa-signing",
        "Bob Approver",
        "approved",
    );
    assert!(signed.status.success(), "{}", stderr(&signed));
    let message = stderr(&signed);
    let ecc_arn = keys["gxp-qa-signing"].as_str().unwrap();
    assert!(
        message.contains(&format!("ECDSA P-256 SHA-256 AWS KMS key {ecc_arn}")),
        "the key is recorded by its ARN, not the alias: {message}"
    );
    assert_no_credentials(&[("sign stderr", &message)], &package);
    let signoffs = load_json(&package.join("signoffs.json"));
    let record = &signoffs["signoffs"][1];
    assert_eq!(record["key"]["source"], "aws-kms");
    assert_eq!(record["key"]["algorithm"], "ecdsa-p256-sha256");
    assert_eq!(record["key"]["kms_key_arn"], ecc_arn);
    let seal = load_json(&package.join("manifest.sig"));
    assert_eq!(seal["key"]["kms_key_arn"], ecc_arn, "the last signer seals");

    // Verification needs no AWS: no credentials, and every endpoint points at a closed port.
    drop(moto);
    let output = common::bin()
        .arg("verify")
        .arg(&package)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let out = common::stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "OK    manifest.sig: signature valid over manifest.json and 2 sign-off(s), ECDSA P-256 SHA-256 AWS KMS key {ecc_arn}"
        )),
        "{out}"
    );
    assert!(out.contains("sign-off 2 (Bob Approver, approved)"), "{out}");

    // Tampering with the KMS-signed record is caught like any other.
    let text = common::read(&package.join("signoffs.json")).replacen("QA Manager", "QA Managr", 1);
    std::fs::write(package.join("signoffs.json"), text).unwrap();
    let (code, out) = common::verify(&package, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        common::failed_subjects(&out),
        BTreeSet::from(["signoffs.json".to_string()]),
        "{out}"
    );
}

#[test]
fn kms_keys_that_cannot_sign_as_aws_does_are_refused_and_nothing_is_written() {
    let moto = moto();
    moto.seed(&["signing-keys", "eu-west-1"]);
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    common::bin()
        .arg("demo")
        .arg("--out")
        .arg(&package)
        .output()
        .unwrap();
    let before = common::read(&package.join("manifest.json"));

    // moto signs RSASSA-PSS with the maximum salt length; AWS KMS uses 32 bytes. Every
    // signature is checked with AWS's parameters before anything is written, so moto's RSA
    // signature is refused — the exact salt length is enforced.
    for (key, expected) in [
        (
            "alias/gxp-encryption",
            "key usage is ENCRYPT_DECRYPT, not SIGN_VERIFY",
        ),
        (
            "alias/gxp-qa-signing-rsa",
            "does not verify with its own public key",
        ),
        ("alias/no-such-key", "NotFoundException"),
    ] {
        let refused = kms_sign(&moto, &package, key, "Bob Approver", "approved");
        assert_eq!(refused.status.code(), Some(2), "{key}");
        assert!(
            stderr(&refused).contains(expected),
            "{key}: {}",
            stderr(&refused)
        );
    }

    assert_eq!(common::read(&package.join("manifest.json")), before);
    assert!(!package.join("manifest.sig").exists());
}

/// Issue 13, CloudTrail: a trail homed outside `--regions` is read in its home region (its
/// status and its change events); GetTrailStatus's delivery error is a logging gap; a change
/// after the period (LookupEvents up to collection) reveals that the trail's settings during
/// the period are not the collected ones. moto has neither LookupEvents nor delivery errors:
/// the stub answers both.
#[test]
fn a_trail_homed_outside_the_regions_is_read_at_home_with_its_delivery_errors_and_later_changes() {
    let moto = moto();
    let made = moto.seed(&["compliant", "us-east-1"]);
    let trail_arn = made["trail"].as_str().expect("trail ARN").to_string();
    let period = month();
    let after_period = period.end + 1800;
    let at = |epoch: i64| {
        chrono::DateTime::from_timestamp(epoch, 0)
            .expect("in range")
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let record = json!({"eventVersion": "1.08", "eventTime": at(after_period),
        "eventSource": "cloudtrail.amazonaws.com", "eventName": "UpdateTrail",
        "eventID": "later-update", "readOnly": false, "recipientAccountId": MOTO_ACCOUNT,
        "userIdentity": {"type": "IAMUser", "accountId": MOTO_ACCOUNT,
            "arn": format!("arn:aws:iam::{MOTO_ACCOUNT}:user/ops")},
        "requestParameters": {"name": trail_arn, "enableLogFileValidation": true}});
    let later_update = json!({"EventId": "later-update", "EventName": "UpdateTrail",
        "EventSource": "cloudtrail.amazonaws.com", "EventTime": after_period,
        "ReadOnly": "false", "CloudTrailEvent": record.to_string()});
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.url.clone()),
        events: BTreeMap::from([("us-east-1".to_string(), vec![later_update])]),
        trail_status: BTreeMap::from([(
            "us-east-1".to_string(),
            json!({"IsLogging": true, "StartLoggingTime": (period.start - 86400) as f64,
                "LatestDeliveryTime": (period.start + 5 * 86400) as f64,
                "LatestDeliveryError": "AccessDenied",
                "LatestDigestDeliveryError": "NoSuchBucket"}),
        )]),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence_path = dir.path().join("evidence.json");
    let mut collect = live(&stub, &period, &["collect", "--regions", "eu-west-1"]);
    collect.arg("--out").arg(&evidence_path);
    let output = run(collect);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let snapshot = load_json(&evidence_path);
    assert_eq!(snapshot["settle_minutes"], 60);
    let home = &snapshot["accounts"][0]["trail_home_regions"][0];
    assert_eq!(home["region"], "us-east-1", "{snapshot:#}");
    let trail = &home["cloudtrail"]["trails"][0];
    assert_eq!(trail["trail"]["TrailARN"], trail_arn.as_str());
    assert_eq!(trail["status"]["LatestDeliveryError"], "AccessDenied");
    assert_eq!(trail["status"]["LatestDigestDeliveryError"], "NoSuchBucket");
    assert_eq!(
        home["cloudtrail"]["events_after_period"][0]["EventId"],
        "later-update"
    );
    let status_regions: BTreeSet<String> = stub
        .requests()
        .iter()
        .filter(|r| r.operation.ends_with("GetTrailStatus"))
        .map(|r| r.region.clone())
        .collect();
    assert_eq!(status_regions, BTreeSet::from(["us-east-1".to_string()]));

    let out = dir.path().join("r");
    let report = Command::new(assert_cmd::cargo::cargo_bin("gxp-evidence"))
        .args(["report", "--evidence"])
        .arg(&evidence_path)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(report.status.code(), Some(1), "{}", stderr(&report));
    let results = load_json(&out.join("results.json"));
    let find = |control: &str| {
        results["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["control_id"] == control && f["resource"] != "(account)")
            .unwrap_or_else(|| panic!("{control}: {results:#}"))
            .clone()
    };
    let continuity = find("cloudtrail-continuity");
    assert_eq!(continuity["status"], "FAIL", "{continuity}");
    let reason = continuity["reason"].as_str().expect("reason");
    assert!(
        reason.contains("LatestDeliveryError AccessDenied")
            && reason.contains("LatestDigestDeliveryError NoSuchBucket"),
        "{reason}"
    );
    let validation = find("cloudtrail-log-validation");
    assert_eq!(validation["status"], "EVIDENCE_GAP", "{validation}");
    assert!(
        validation["reason"]
            .as_str()
            .expect("reason")
            .contains("later-update"),
        "{validation}"
    );
}
