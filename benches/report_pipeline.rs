//! Benchmark of the offline pipeline on a large generated snapshot: 1,000 stages with 10,000
//! method rows, 2,000 keys and 100,000 change events copied from the demo's recorded-shape
//! events (about 1.9 KB each, so the snapshot is about 200 MB), one in 50 a weakening change
//! or failed call (`GXP_BENCH_NOTABLE_EVERY`), replayed by the period rule. Prints timings of load, evaluate and
//! each renderer, and the peak resident memory of the pipeline. Run with `scripts/bench`.
//! Targets (release, 2 cores): report < 5 s, verify < 3 s, and report, sign and verify each
//! under 500 MB peak RSS.

use std::time::{Duration, Instant};

use gxp_evidence::controls::ChangeClass;
use gxp_evidence::evidence::{DEMO_EVIDENCE, load_bytes, sha256_hex};
use gxp_evidence::report::ReportModel;
use gxp_evidence::report::render::{RenderOptions, csv, html, pdf};
use serde_json::{Value, json};

const ACCOUNTS: [&str; 2] = ["111122223333", "444455556666"];
const REGIONS: [&str; 2] = ["eu-central-1", "eu-west-1"];
const APIS_PER_REGION: usize = 125; // × 2 stages × 4 account-regions = 1,000 stages
const METHODS_PER_API: usize = 10; // × 1,000 stages = 10,000 method rows
const KEYS_PER_REGION: usize = 500; // × 4 = 2,000 keys
const EVENTS_PER_REGION: usize = 25_000; // × 4 = 100,000 events

fn api(region_index: usize, n: usize) -> Value {
    let id = format!("api{region_index}x{n:05}");
    // What each stage's deployment serves (GetDeployment embed=apisummary).
    let summary: serde_json::Map<String, Value> = (0..METHODS_PER_API / 2)
        .map(|r| {
            let put_auth = if r == 0 { "NONE" } else { "AWS_IAM" };
            (
                format!("/things{r}/{{id}}"),
                json!({"GET": {"authorizationType": "AWS_IAM", "apiKeyRequired": false},
                       "PUT": {"authorizationType": put_auth, "apiKeyRequired": false}}),
            )
        })
        .collect();
    let setting = |caching: bool, encrypted: bool| json!({"cachingEnabled": caching, "cacheDataEncrypted": encrypted, "loggingLevel": "INFO", "cacheTtlInSeconds": 300});
    json!({
        "api": {"id": id, "name": format!("service-{n}")},
        "stages": [
            {"stageName": "prod", "deploymentId": "d1", "cacheClusterEnabled": true, "cacheClusterSize": "0.5",
             "methodSettings": {"*/*": setting(true, true), "~1things1~1{id}/GET": setting(true, !n.is_multiple_of(7))}},
            {"stageName": "test", "deploymentId": "d1", "cacheClusterEnabled": false, "methodSettings": {"*/*": setting(false, false)}}
        ],
        "deployments": [{"id": "d1", "apiSummary": summary}]
    })
}

fn key(account: &str, region: &str, n: usize) -> Value {
    let id = format!("{n:08}-0000-4000-8000-{:012}", n);
    let spec = if n.is_multiple_of(10) {
        "RSA_2048"
    } else {
        "SYMMETRIC_DEFAULT"
    };
    json!({
        "metadata": {"KeyId": id, "Arn": format!("arn:aws:kms:{region}:{account}:key/{id}"), "KeyManager": "CUSTOMER",
                     "KeyState": "Enabled", "Origin": "AWS_KMS", "KeySpec": spec, "KeyUsage": if n.is_multiple_of(10) { "SIGN_VERIFY" } else { "ENCRYPT_DECRYPT" }},
        "aliases": [{"AliasName": format!("alias/app-{n}")}],
        "rotation_status": {"KeyRotationEnabled": !n.is_multiple_of(5), "RotationPeriodInDays": 365, "NextRotationDate": "2027-03-01T00:00:00Z"},
        "rotations": [{"RotationDate": "2026-10-03T00:00:00Z", "RotationType": "AUTOMATIC"}]
    })
}

/// The demo's change events as templates: recorded shapes, about 1.9 KB each in the
/// LookupEvents form (about 1.4 KB of raw CloudTrail record), like real records; a benchmark
/// on leaner events would hide the real cost of holding and parsing them. The demo is full
/// of weakening changes and failed calls (it shows every rule); a real month's writes are
/// mostly grants, deployments and tags, so the generator draws those (`routine`) and one
/// event in `notable_every()` from the rest (`notable`).
struct Templates {
    routine: Vec<Value>,
    notable: Vec<Value>,
}

/// One event in this many is a weakening change or a failed call (`GXP_BENCH_NOTABLE_EVERY`
/// changes it: 1 makes every event one, the worst case for the PDF and the findings).
fn notable_every() -> usize {
    std::env::var("GXP_BENCH_NOTABLE_EVERY")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(50)
}

fn event_templates() -> Templates {
    let loaded = load_bytes("demo", DEMO_EVIDENCE.as_bytes().to_vec()).expect("the demo loads");
    let model = ReportModel::from_evidence(&loaded, Vec::new());
    let notable: std::collections::BTreeSet<&str> = model
        .changes
        .iter()
        .filter(|c| c.classification == ChangeClass::Weakening || !c.took_effect())
        .map(|c| c.event_id.as_str())
        .collect();
    let (notable, routine) = all_event_templates()
        .into_iter()
        .partition(|e| notable.contains(e["EventId"].as_str().unwrap_or_default()));
    Templates { routine, notable }
}

fn all_event_templates() -> Vec<Value> {
    let demo: Value = serde_json::from_str(DEMO_EVIDENCE).expect("the demo is JSON");
    let events: Vec<Value> = demo["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .flat_map(|a| a["regions"].as_array().expect("regions").iter())
        .filter_map(|r| r["cloudtrail"]["events"].as_array())
        .flatten()
        .cloned()
        .collect();
    assert!(events.len() > 40, "the demo's events");
    events
}

/// Event `n` of an account-region: a demo event with its own id and a time in October.
fn event(templates: &Templates, account: &str, region: &str, n: usize) -> Value {
    let every = notable_every();
    let mut event = if n.is_multiple_of(every) {
        templates.notable[n / every % templates.notable.len()].clone()
    } else {
        templates.routine[n % templates.routine.len()].clone()
    };
    let seconds = n * 26 % (31 * 86_400);
    let time = format!(
        "2026-10-{:02}T{:02}:{:02}:{:02}Z",
        seconds / 86_400 + 1,
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60
    );
    let region_index = REGIONS.iter().position(|r| *r == region).unwrap_or(0);
    let id = format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        n,
        region_index,
        n % 4096,
        account.len(),
        n * 7919
    );
    let mut record: Value = serde_json::from_str(event["CloudTrailEvent"].as_str().expect("raw"))
        .expect("the raw record is JSON");
    record["eventID"] = json!(id);
    record["eventTime"] = json!(time);
    record["awsRegion"] = json!(region);
    record["recipientAccountId"] = json!(account);
    event["EventId"] = json!(id);
    event["EventTime"] = json!(time);
    event["CloudTrailEvent"] = json!(record.to_string());
    event
}

fn snapshot() -> Vec<u8> {
    let templates = event_templates();
    let mut accounts = Vec::new();
    for (a, account) in ACCOUNTS.iter().enumerate() {
        let mut regions = Vec::new();
        for (r, region) in REGIONS.iter().enumerate() {
            let index = a * 2 + r;
            regions.push(json!({
                "region": region,
                "apigateway": {"rest_apis": (0..APIS_PER_REGION).map(|n| api(index, n)).collect::<Vec<_>>(),
                               "account": {"cloudwatchRoleArn": format!("arn:aws:iam::{account}:role/apigw-logs")},
                               "v2_apis": []},
                "kms": {"keys": (0..KEYS_PER_REGION).map(|n| key(account, region, n)).collect::<Vec<_>>()},
                "cloudtrail": {
                    "trails": [{"trail": {"Name": "org", "TrailARN": format!("arn:aws:cloudtrail:eu-central-1:{account}:trail/org"),
                                          "HomeRegion": "eu-central-1", "IsMultiRegionTrail": true, "LogFileValidationEnabled": true,
                                          "KmsKeyId": "arn:aws:kms:eu-central-1:111122223333:key/k"},
                                "status": {"IsLogging": true},
                                "event_selectors": {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true}]}}],
                    "events": (0..EVENTS_PER_REGION).map(|n| event(&templates, account, region, n)).collect::<Vec<_>>(),
                    "events_until": "2026-11-01T06:05:00Z"
                }
            }));
        }
        accounts.push(json!({"account_id": account, "regions": regions}));
    }
    let doc = json!({
        "schema_version": 1, "tool": {"name": "gxp-evidence", "version": "bench"}, "system_name": "Benchmark",
        "collected_at": "2026-11-01T06:00:00Z",
        "period": {"start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"},
        "scope": {"accounts": ACCOUNTS, "regions": REGIONS}, "accounts": accounts, "gaps": []
    });
    serde_json::to_vec(&doc).expect("serializes")
}

/// Peak resident set size (VmHWM) of a running process in MiB, from /proc (Linux).
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Runs the real CLI as a separate process, so its peak memory is the command's alone: wall
/// time, exit code and the last peak RSS seen before it exited.
/// The environment variable the benchmark's keys take their passphrase from
/// (`keygen`/`sign --passphrase-env`).
const BENCH_PASSPHRASE_VAR: &str = "GXP_BENCH_KEY_PASSPHRASE";

fn run_cli(args: &[&std::ffi::OsStr]) -> (Duration, Option<i32>, Option<f64>) {
    let start = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gxp-evidence"))
        .args(args)
        .env(BENCH_PASSPHRASE_VAR, "benchmark passphrase")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the CLI starts");
    let mut peak = None;
    loop {
        if let Some(now) = peak_rss_mib(child.id()) {
            peak = Some(now);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            return (start.elapsed(), status.code(), peak);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn print_run(label: &str, target: &str, (wall, code, peak): (Duration, Option<i32>, Option<f64>)) {
    println!(
        "{label:<28} {:>8.3} s   ({target}), exit code {code:?}, peak RSS {}",
        wall.as_secs_f64(),
        peak.map_or("n/a".to_string(), |p| format!("{p:.0} MiB"))
    );
}

fn timed<T>(label: &str, total: &mut Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let value = f();
    let elapsed = start.elapsed();
    *total += elapsed;
    println!("{label:<28} {:>8.3} s", elapsed.as_secs_f64());
    value
}

fn main() {
    let generation = Instant::now();
    let bytes = snapshot();
    println!(
        "generated snapshot: {:.1} MB in {:.2} s",
        bytes.len() as f64 / 1e6,
        generation.elapsed().as_secs_f64()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let evidence_path = dir.path().join("bench-evidence.json");
    std::fs::write(&evidence_path, &bytes).expect("write snapshot");
    // GXP_BENCH_SNAPSHOT=FILE keeps a copy of the generated snapshot for profiling by hand.
    if let Some(keep) = std::env::var_os("GXP_BENCH_SNAPSHOT") {
        std::fs::write(&keep, &bytes).expect("write the kept snapshot");
    }
    let mut total = Duration::ZERO;
    let evidence = timed("load + validate", &mut total, || {
        load_bytes("bench.json", bytes).expect("loads")
    });
    let model = timed("evaluate + report model", &mut total, || {
        ReportModel::from_evidence(&evidence, Vec::new())
    });
    println!(
        "  {} findings, {} method rows, {} keys, {} changes",
        model.findings.len(),
        model.methods.len(),
        model.keys.len(),
        model.changes.len()
    );
    let options = RenderOptions::default();
    let mut render_total = Duration::ZERO;
    let pdf = timed("render PDF", &mut render_total, || {
        pdf::render(&model, &options).expect("pdf")
    });
    let html = timed("render HTML", &mut render_total, || {
        html::render(&model, &options).expect("html")
    });
    let csv = timed("render CSV (7 files)", &mut render_total, || {
        csv::render(&model, &options).expect("csv")
    });
    let results = timed("results.json", &mut render_total, || {
        model.to_results_json()
    });
    total += render_total;
    println!(
        "{:<28} {:>8.3} s",
        "all formats (render only)",
        render_total.as_secs_f64()
    );
    println!(
        "{:<28} {:>8.3} s   (target < 10 s)",
        "load + evaluate + render",
        total.as_secs_f64()
    );
    println!(
        "sizes: PDF {:.1} MB ({} bytes), HTML {:.1} MB, CSV {:.1} MB, results.json {:.1} MB",
        pdf.bytes.len() as f64 / 1e6,
        pdf.bytes.len(),
        html.bytes.len() as f64 / 1e6,
        csv.iter().map(|f| f.bytes.len()).sum::<usize>() as f64 / 1e6,
        results.len() as f64 / 1e6
    );
    drop((pdf, html, csv, results, model, evidence));

    println!("\nthe CLI end to end (gxp-evidence report, all formats, files written):");
    let out = dir.path().join("out");
    print_run(
        "report: wall time",
        "target < 5 s, < 500 MB",
        run_cli(&[
            "report".as_ref(),
            "--evidence".as_ref(),
            evidence_path.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ]),
    );

    // Every file's SHA-256 is in the manifest: one digest shows whether a change kept the
    // package byte-identical.
    println!(
        "  package fingerprint (SHA-256 of manifest.json): {}",
        std::fs::read(out.join("manifest.json"))
            .map(|m| sha256_hex(&m))
            .unwrap_or_default()
    );

    println!("\nsign-off and offline verify of that package (two signers, Ed25519):");
    for (name, meaning) in [("Alice Author", "authored"), ("Bob Approver", "approved")] {
        let key = dir.path().join(format!("{meaning}.key"));
        let (_, code, _) = run_cli(&[
            "keygen".as_ref(),
            "--out".as_ref(),
            key.as_os_str(),
            "--passphrase-env".as_ref(),
            BENCH_PASSPHRASE_VAR.as_ref(),
        ]);
        assert_eq!(code, Some(0), "keygen");
        print_run(
            &format!("sign ({meaning})"),
            "verify + re-render + seal, < 500 MB",
            run_cli(&[
                "sign".as_ref(),
                out.as_os_str(),
                "--key".as_ref(),
                key.as_os_str(),
                "--name".as_ref(),
                name.as_ref(),
                "--user-id".as_ref(),
                meaning.as_ref(),
                "--role".as_ref(),
                "QA".as_ref(),
                "--meaning".as_ref(),
                meaning.as_ref(),
                "--passphrase-env".as_ref(),
                BENCH_PASSPHRASE_VAR.as_ref(),
            ]),
        );
    }
    let files = std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0);
    println!(
        "  package: {files} top-level entries, evidence.json {:.1} MB",
        std::fs::metadata(out.join("evidence.json"))
            .map(|m| m.len() as f64 / 1e6)
            .unwrap_or(0.0)
    );
    let verify = run_cli(&["verify".as_ref(), out.as_os_str()]);
    assert_eq!(verify.1, Some(0), "the signed package verifies");
    print_run("verify", "target < 3 s, < 500 MB", verify);
}
