//! Benchmark of CloudTrail digest-chain validation (crates/core/src/log_integrity) over a
//! generated month of one account-region: 721 hourly signed digests and log files of 100
//! records of about 1.6 KB each (the size of real ones), `GXP_BENCH_INTEGRITY_MB` MB of
//! decompressed log content in all (default 512; the figure is 2048). Validated from a
//! local copy with 1 and 2 worker threads: wall time, MB/s of decompressed content, peak RSS.
//! Generated records compress far better than real ones (about 50:1 against 7:1), so the
//! figure on real records (the recorded files of ../shared/data, gzipped here) comes first.
//! Run with `scripts/bench` (BENCH=log_integrity). Goals (issue 19): ≥ 150 MB/s decompressed
//! per core, peak RSS flat in the number of files (< 300 MB).

#[path = "../../../tests/common/trail_digests.rs"]
#[allow(dead_code)]
mod trail_digests;

use std::time::Instant;

use gxp_evidence_core::log_integrity::{
    LocalTrailCopy, PublicKeyList, TimeRange, ValidationScope, validate_trail_with_workers,
};
use trail_digests::{TrailOptions, TrailShape};

const HOURS: usize = 720;
const RECORDS_PER_FILE: usize = 100;

/// Peak resident set size (VmHWM) of this process in MiB (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Resets VmHWM to the current RSS, so the next figure is the validation's alone.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The per-core cost on real records: the CloudTrail log files under `GXP_BENCH_REAL_LOGS`
/// (default: the recorded invictus-ir files of ../shared/data), gzipped as CloudTrail does and
/// hashed decompressed repeatedly, one thread. Real records compress far less than generated
/// ones, so this is the honest inflate + SHA-256 figure.
fn real_records_throughput() {
    let dir = std::env::var("GXP_BENCH_REAL_LOGS").unwrap_or_else(|_| {
        "../../../shared/data/cloudtrail/invictus-ir-aws_dataset/raw".to_string()
    });
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("real records: {dir} not found, skipped");
        return;
    };
    let files: Vec<Vec<u8>> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".json"))
        .filter_map(|entry| std::fs::read(entry.path()).ok())
        .collect();
    let plain: usize = files.iter().map(Vec::len).sum();
    if plain == 0 {
        println!("real records: no .json files in {dir}, skipped");
        return;
    }
    let gzipped: Vec<Vec<u8>> = files.iter().map(|f| trail_digests::gzip(f)).collect();
    let packed: usize = gzipped.iter().map(Vec::len).sum();
    let rounds = (512_000_000 / plain).max(1);
    let started = Instant::now();
    for _ in 0..rounds {
        for file in &gzipped {
            std::hint::black_box(
                gxp_evidence_core::log_integrity::gunzip_sha256(&file[..]).expect("gzip"),
            );
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "real records ({} files, {:.0} KB, gzip ratio {:.1}): gunzip + SHA-256 of {:.0} MB in {seconds:.2} s = {:.0} MB/s on one thread",
        files.len(),
        plain as f64 / 1e3,
        plain as f64 / packed as f64,
        (plain * rounds) as f64 / 1e6,
        (plain * rounds) as f64 / 1e6 / seconds
    );
}

fn main() {
    real_records_throughput();
    let target_mb: usize = std::env::var("GXP_BENCH_INTEGRITY_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    let dir = tempfile::tempdir().expect("tempdir");
    // One file's decompressed size decides how many files make the target.
    let probe = tempfile::tempdir().expect("tempdir");
    let (key, _) = trail_digests::write_log_file_of(
        probe.path(),
        &trail_digests::location(),
        trail_digests::first_digest_start(),
        0,
        RECORDS_PER_FILE,
    );
    let file_bytes =
        trail_digests::gunzip(&std::fs::read(probe.path().join(key)).expect("probe")).len();
    let files_per_hour = (target_mb * 1_000_000).div_ceil(file_bytes * HOURS).max(1);

    let generation = Instant::now();
    let shape = TrailShape {
        digests: HOURS + 2,
        files_per_hour,
        records_per_file: RECORDS_PER_FILE,
    };
    let trail = trail_digests::write_trail_shaped(dir.path(), shape, TrailOptions::default());
    let files: usize = trail.logs.iter().map(Vec::len).sum();
    let compressed: u64 = trail
        .logs
        .iter()
        .flatten()
        .filter_map(|key| std::fs::metadata(dir.path().join(key)).ok())
        .map(|meta| meta.len())
        .sum();
    println!(
        "generated {} digests, {files} log files of {:.0} KB ({RECORDS_PER_FILE} records of {:.2} KB), {:.0} MB decompressed ({:.0} MB gzip) in {:.1} s",
        trail.digests.len(),
        file_bytes as f64 / 1e3,
        file_bytes as f64 / RECORDS_PER_FILE as f64 / 1e3,
        (files * file_bytes) as f64 / 1e6,
        compressed as f64 / 1e6,
        generation.elapsed().as_secs_f64()
    );

    let keys = PublicKeyList::from_json("keys", trail_digests::public_keys_json().as_bytes())
        .expect("keys");
    let start = trail_digests::range().start;
    let scope = ValidationScope {
        bucket: trail_digests::BUCKET.into(),
        location: trail_digests::location(),
        trail: Some(trail_digests::TRAIL.into()),
        range: TimeRange {
            start,
            end: start + chrono::Duration::hours(HOURS as i64),
        },
    };
    let copy = LocalTrailCopy::new(dir.path());
    for workers in [1, 2] {
        reset_peak_rss();
        let started = Instant::now();
        let report = validate_trail_with_workers(&copy, &keys, &scope, workers).expect("validates");
        let seconds = started.elapsed().as_secs_f64();
        assert!(report.is_intact(), "{}", report.summary());
        let megabytes = (report.log_files_checked * file_bytes) as f64 / 1e6;
        println!(
            "validate {workers} worker(s): {} digests, {} log files, {megabytes:.0} MB in {seconds:.2} s = {:.0} MB/s ({:.0} MB/s per worker; goal >= 150 per core), peak RSS {} (goal < 300 MB)",
            report.digests_checked,
            report.log_files_checked,
            megabytes / seconds,
            megabytes / seconds / workers as f64,
            peak_rss_mib().map_or("unknown".to_string(), |m| format!("{m:.0} MiB")),
        );
    }
}
