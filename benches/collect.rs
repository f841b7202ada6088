//! Live-collection benchmark (figures, not a test), run by scripts/bench with moto started:
//! 1. LookupEvents against the stub enforcing AWS's 2 calls/s per region, 10,000 events in
//!    each of 4 regions: sustained rate per region, regions in parallel, lost events.
//! 2. Read volume: one region with 20,000 read events on each of the three sources and 500
//!    changes, the month's LookupEvents calls against the plan's bound (queries + changes / 50
//!    + 5) and the wall time.
//! 3. Collection of 200 REST APIs / 500 stages / 1,000 keys from moto: wall time, calls/s.
//! 4. Several accounts: 1, 5 and 20 accounts × 4 regions, each account reached through a role
//!    assumed from moto, 500 real-sized events per account-region served by the stub at AWS's
//!    2 calls/s per account and region: wall time against the slowest account-region's
//!    LookupEvents (the goal: bound by that, not by the number of accounts).
//!
//! `GXP_BENCH_READS` (default 20000) sets the read events per source of (2) for a reduced run;
//! `GXP_BENCH_PARTS=lookup,reads,scale,accounts` runs only the parts named.

#[path = "../tests/common/aws_stub.rs"]
mod aws_stub;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use aws_stub::{
    AwsStub, PAGE, StubConfig, change_operations, expected_kept_ids, max_calls_in_any_second,
    moto_post, previous_month, recorded_events, synthetic_events,
};
use serde_json::Value;

const REGIONS: [&str; 4] = ["eu-central-1", "eu-west-1", "us-east-1", "us-west-2"];
const EVENTS_PER_REGION: usize = 10_000;

fn main() {
    let moto = std::env::var("GXP_MOTO_URL").expect("run through scripts/bench (starts moto)");
    let python = std::env::var("GXP_MOTO_PYTHON").expect("GXP_MOTO_PYTHON");
    // GXP_BENCH_PARTS=lookup,reads,scale,accounts (default all) runs some of them.
    let parts = std::env::var("GXP_BENCH_PARTS").unwrap_or_default();
    let run = |part: &str| parts.is_empty() || parts.split(',').any(|p| p == part);
    if run("lookup") {
        lookup_events_benchmark(&moto);
    }
    if run("reads") {
        read_volume_benchmark(&moto);
    }
    if run("scale") {
        moto_scale_benchmark(&moto, &python);
    }
    if run("accounts") {
        accounts_benchmark(&moto);
    }
}

fn collect(stub: &AwsStub, regions: &str, out: &Path) -> (Duration, Value) {
    collect_with(stub, regions, &[], out)
}

fn collect_with(stub: &AwsStub, regions: &str, extra: &[&str], out: &Path) -> (Duration, Value) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_gxp-evidence"))
        .args(["collect", "--regions", regions, "--endpoint-url", &stub.url])
        .args(extra)
        .arg("--out")
        .arg(out)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("gxp-evidence runs");
    let wall = started.elapsed();
    assert!(
        output.status.code() == Some(0),
        "collect failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let snapshot = serde_json::from_slice(&std::fs::read(out).expect("evidence written"))
        .expect("evidence is JSON");
    (wall, snapshot)
}

fn lookup_events_benchmark(moto: &str) {
    moto_post(moto, "/moto-api/reset");
    let (start, end) = previous_month();
    // Copies of the recorded CloudTrail write events only, until 10,000 per region.
    let one_copy = recorded_events(start, 1, Duration::ZERO);
    let per_copy = one_copy
        .iter()
        .filter(|e| e["EventSource"] == "cloudtrail.amazonaws.com")
        .count();
    let copies = EVENTS_PER_REGION.div_ceil(per_copy) as u32;
    let spacing = Duration::from_secs(((end - start - 7200) as u64) / u64::from(copies));
    let events: Vec<Value> = recorded_events(start, copies, spacing)
        .into_iter()
        .filter(|e| e["EventSource"] == "cloudtrail.amazonaws.com")
        .take(EVENTS_PER_REGION)
        .collect();
    let expected = expected_kept_ids(&events, start, end, &change_operations());
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.to_string()),
        events: REGIONS
            .iter()
            .map(|r| (r.to_string(), events.clone()))
            .collect(),
        enforce_rate_limit: true,
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let (wall, snapshot) = collect(&stub, &REGIONS.join(","), &dir.path().join("e.json"));

    println!(
        "LookupEvents: {} events served per region ({} write events to keep), {} regions, stub enforcing 2 calls/s per region",
        events.len(),
        expected.len(),
        REGIONS.len()
    );
    let calls = stub.lookup_calls();
    let mut slowest_region = Duration::ZERO;
    for (region, calls) in &calls {
        let first = calls.iter().map(|c| c.arrived).min().expect("calls");
        let last = calls.iter().map(|c| c.arrived).max().expect("calls");
        let span = last - first;
        slowest_region = slowest_region.max(span);
        let rate = (calls.len() - 1) as f64 / span.as_secs_f64();
        let region_evidence = snapshot["accounts"][0]["regions"]
            .as_array()
            .expect("regions")
            .iter()
            .find(|r| r["region"] == region.as_str())
            .expect("region collected");
        let kept: BTreeSet<String> = region_evidence["cloudtrail"]["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["EventId"].as_str().map(str::to_string))
            .collect();
        let lost = expected.difference(&kept).count();
        let extra = kept.difference(&expected).count();
        println!(
            "  {region}: {} calls in {:.1} s = {rate:.3} calls/s sustained (target >= 1.9, limit 2.0); max {} calls in any 1 s; {} events kept, {lost} lost, {extra} unexpected",
            calls.len(),
            span.as_secs_f64(),
            max_calls_in_any_second(calls),
            kept.len()
        );
    }
    println!(
        "  wall time {:.1} s for {} regions; slowest region alone {:.1} s (parallel if about equal); throttled by the stub's limit: {}",
        wall.as_secs_f64(),
        calls.len(),
        slowest_region.as_secs_f64(),
        stub.rate_limited()
    );
}

fn read_volume_benchmark(moto: &str) {
    const CHANGES: usize = 500;
    moto_post(moto, "/moto-api/reset");
    let reads: usize = std::env::var("GXP_BENCH_READS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let (start, end) = previous_month();
    let mut events = Vec::new();
    let sources = [
        ("apigateway.amazonaws.com", "GetStages", "CreateDeployment"),
        ("cloudtrail.amazonaws.com", "DescribeTrails", "AddTags"),
        ("kms.amazonaws.com", "Decrypt", "TagResource"),
    ];
    for (index, (source, read, change)) in sources.into_iter().enumerate() {
        let changes = CHANGES / sources.len() + usize::from(index < CHANGES % sources.len());
        let account = "123456789012";
        events.extend(synthetic_events(
            (start, end),
            account,
            source,
            read,
            true,
            reads,
        ));
        events.extend(synthetic_events(
            (start, end),
            account,
            source,
            change,
            false,
            changes,
        ));
    }
    let expected = expected_kept_ids(&events, start, end, &change_operations());
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.to_string()),
        events: BTreeMap::from([("eu-central-1".to_string(), events)]),
        enforce_rate_limit: true,
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let (wall, snapshot) = collect(&stub, "eu-central-1", &dir.path().join("e.json"));
    let calls = stub.lookup_calls();
    let made = calls.get("eu-central-1").map_or(0, Vec::len);
    let cloudtrail = &snapshot["accounts"][0]["regions"][0]["cloudtrail"];
    let queries = cloudtrail["lookup_queries"].as_array().map_or(0, Vec::len);
    let kept = cloudtrail["events"].as_array().map_or(0, Vec::len);
    let bound = queries + CHANGES / PAGE + 5;
    println!(
        "read volume: {reads} read events per source (3 sources) and {CHANGES} changes in one region: {made} LookupEvents calls for {queries} queries (bound {bound} = queries + changes/50 + 5), {kept} events kept ({} expected), wall time {:.1} s; throttled by the stub's limit: {}",
        expected.len(),
        wall.as_secs_f64(),
        stub.rate_limited()
    );
}

fn moto_scale_benchmark(moto: &str, python: &str) {
    moto_post(moto, "/moto-api/reset");
    let seeding = Instant::now();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/moto/seed.py");
    let seeded = Command::new(python)
        .arg(script)
        .args([moto, "scale", "200", "500", "1000", "us-east-1"])
        .output()
        .expect("seed runs");
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    println!(
        "moto scale: seeded {} in {:.1} s",
        String::from_utf8_lossy(&seeded.stdout).trim(),
        seeding.elapsed().as_secs_f64()
    );
    let stub = AwsStub::start(StubConfig {
        upstream: Some(moto.to_string()),
        events: BTreeMap::new(),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let (wall, snapshot) = collect(&stub, "us-east-1", &dir.path().join("e.json"));
    let region = &snapshot["accounts"][0]["regions"][0];
    let apis = region["apigateway"]["rest_apis"].as_array().expect("apis");
    let stages: usize = apis
        .iter()
        .map(|a| a["stages"].as_array().map_or(0, Vec::len))
        .sum();
    let keys = region["kms"]["keys"].as_array().map_or(0, Vec::len);
    let forwarded = stub.forwarded();
    let first = forwarded.iter().map(|f| f.0).min().expect("calls");
    let last = forwarded.iter().map(|f| f.0).max().expect("calls");
    let span = (last - first).as_secs_f64();
    let lookup_calls: usize = stub.lookup_calls().values().map(Vec::len).sum();
    println!(
        "  collected {} REST APIs, {stages} stages, {keys} keys: {} API Gateway/KMS/CloudTrail/STS calls to moto in {span:.1} s = {:.0} calls/s; wall time {:.1} s (includes {lookup_calls} paced LookupEvents calls, >= {:.1} s at 1.92/s)",
        apis.len(),
        forwarded.len(),
        forwarded.len() as f64 / span,
        wall.as_secs_f64(),
        (lookup_calls.saturating_sub(1)) as f64 / 1.92
    );
}

fn accounts_benchmark(moto: &str) {
    const EVENTS_PER_ACCOUNT_REGION: usize = 500;
    let (start, end) = previous_month();
    let one_copy = recorded_events(start, 1, Duration::ZERO);
    let copies = EVENTS_PER_ACCOUNT_REGION.div_ceil(one_copy.len()) as u32;
    let spacing = Duration::from_secs(((end - start - 7200) as u64) / u64::from(copies));
    let events: Vec<Value> = recorded_events(start, copies, spacing)
        .into_iter()
        .take(EVENTS_PER_ACCOUNT_REGION)
        .collect();
    let mean_bytes = events.iter().map(|e| e.to_string().len()).sum::<usize>() / events.len();
    println!(
        "accounts: {EVENTS_PER_ACCOUNT_REGION} recorded events (mean {mean_bytes} bytes) per account-region, {} regions, stub enforcing 2 LookupEvents calls/s per account and region",
        REGIONS.len()
    );
    // (accounts, --max-parallel-regions): every account-region at once (the default, 128,
    // allows 32 accounts x 4 regions), and 20 accounts limited to 32 account-regions at a time.
    for (accounts, parallel) in [(1usize, 4usize), (5, 20), (20, 80), (20, 32)] {
        moto_post(moto, "/moto-api/reset");
        let ids: Vec<String> = (0..accounts)
            .map(|n| format!("{:012}", 210_000_000_000u64 + n as u64))
            .collect();
        let mut by_account_region = BTreeMap::new();
        for id in &ids {
            let in_this_account = aws_stub::in_account(events.clone(), id);
            for region in REGIONS {
                by_account_region.insert(format!("{id}/{region}"), in_this_account.clone());
            }
        }
        let stub = AwsStub::start(StubConfig {
            upstream: Some(moto.to_string()),
            events: by_account_region,
            enforce_rate_limit: true,
            ..Default::default()
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let account_list = ids.join(",");
        let parallel = parallel.to_string();
        let (wall, snapshot) = collect_with(
            &stub,
            &REGIONS.join(","),
            &[
                "--accounts",
                &account_list,
                "--role-name",
                "gxp-evidence-collector",
                "--max-parallel-regions",
                &parallel,
            ],
            &dir.path().join("e.json"),
        );
        let calls = stub.lookup_calls();
        let slowest = calls
            .values()
            .map(|calls| {
                let first = calls.iter().map(|c| c.arrived).min();
                let last = calls.iter().map(|c| c.arrived).max();
                match (first, last) {
                    (Some(first), Some(last)) => last - first,
                    _ => Duration::ZERO,
                }
            })
            .max()
            .unwrap_or_default();
        let total_calls: usize = calls.values().map(Vec::len).sum();
        let collected: usize = snapshot["accounts"].as_array().map_or(0, Vec::len);
        let kept: usize = snapshot["accounts"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|a| a["regions"].as_array().into_iter().flatten())
            .map(|r| r["cloudtrail"]["events"].as_array().map_or(0, Vec::len))
            .sum();
        println!(
            "  {accounts:>2} accounts x {} regions, --max-parallel-regions {parallel}: wall time {:.1} s; slowest account-region's LookupEvents {:.1} s ({} account-regions, {total_calls} LookupEvents calls, {kept} events kept, {collected} accounts collected, {} gaps); throttled by the stub's limit: {}",
            REGIONS.len(),
            wall.as_secs_f64(),
            slowest.as_secs_f64(),
            calls.len(),
            snapshot["gaps"].as_array().map_or(0, Vec::len),
            stub.rate_limited()
        );
    }
}
