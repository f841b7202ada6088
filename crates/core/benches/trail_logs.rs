//! Reading the change events from a trail's log files (`trail_logs::read_region`): generates a
//! month of log files for one account-region (records of the size and shape of real ones, 98 %
//! read events, 500 records a file) to the decompressed size asked for, then reads them on 1
//! and on 2 threads and prints MB/s decompressed (in all and per thread) and the reader's peak
//! RSS. Issue 19's goals: at least 150 MB/s decompressed per core, peak RSS under 300 MB and
//! flat in the number of files.
//!
//!     cargo bench -p gxp-evidence-core --bench trail_logs                # 64 MB, a quick run
//!     cargo bench -p gxp-evidence-core --bench trail_logs -- --size 2G   # the figure
//!
//! It lives in the core crate, beside the reader, so its release build needs no AWS SDK.
//!
//! `GXP_BENCH_LOG_SIZE=2G` does the same as `--size 2G` (for scripts/bench). The recorded real
//! CloudTrail files (`GXP_BENCH_REAL_LOGS`) are read first, on one thread.
//!
//! Besides wall-clock MB/s it prints MB per CPU second (process CPU time): on a machine whose
//! cores are shared that is the per-core rate, where wall time only shows the share received.
//!
//! Figures of 2026-12-01 (issue 19; 2 cores shared with two other builds, load average 6–10,
//! so the wall-clock rates are a fraction of the per-CPU ones). Before, the serde_json
//! `io::Read` visitor: 59 MB/s on one thread with gzip alone at 2,196 MB/s. With the record
//! splitter (`trail_logs/splitter.rs`):
//! - real records (7 invictus-ir files, 312 records of 1.34 KB, gzip 6.8:1): 154–159 MB per
//!   CPU second on one thread, about 56,000 records/s; their gzip alone inflates at about
//!   600 MB per CPU second (miniz_oxide; flate2's pure-Rust `zlib-rs` backend, also in
//!   Cargo.lock, 640–740: not switched on, it would change every deflate in the workspace for
//!   a few per cent of the reader's time);
//! - 64 MB generated (78 files of 500 records of 1.61 KB, gzip 24:1): 196 MB per CPU second on
//!   1 thread (138 MB/s wall), 241 on 2 threads; peak RSS 6–7 MiB;
//! - 2 GB generated (2,510 files, 1.26 M records): 233 MB per CPU second on 1 thread, 222 on
//!   2 (wall 51.4 s and 39.7 s, 1.30x, under the load above); peak RSS 72 and 79 MiB, which is
//!   the 25,100 kept events (each keeps its record's text), not the files: the reader holds
//!   one 256 KB buffer per thread.
//!
//! Profile (real records): about half the time is serde_json parsing each record into the
//! filter's fields, a quarter inflating, a sixth finding the records' bytes.

#[path = "../../../tests/common/trail_logs.rs"]
#[allow(dead_code)]
mod generator;

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use gxp_evidence_core::evidence::{Period, Timestamp};
use gxp_evidence_core::trail_logs::{LocalDir, read_log_file, read_region};

const ACCOUNT: &str = "111122223333";
const REGION: &str = "eu-west-1";
const RECORDS_PER_FILE: usize = 500;
/// One record in fifty is a write event of the change register.
const WRITE_EVERY: usize = 50;

fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&text[..i], &text[i..]),
        None => (text, "M"),
    };
    let number: f64 = number.parse().ok()?;
    let unit = match unit.to_ascii_uppercase().trim_end_matches('B') {
        "K" => 1 << 10,
        "M" | "" => 1 << 20,
        "G" => 1 << 30,
        _ => return None,
    };
    Some((number * unit as f64) as u64)
}

/// The process's peak RSS since the last `reset_peak_rss`, in MiB (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU seconds this process has used, all threads (Linux, /proc/self/stat `utime` + `stime`
/// at 100 ticks a second): MB per CPU second is the per-core rate even when other work shares
/// the cores.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// `MB per CPU second` over the CPU time since `before`, when it can be read.
fn per_cpu_second(megabytes: f64, before: Option<f64>) -> String {
    match (before, cpu_seconds()) {
        (Some(before), Some(now)) if now > before => format!(
            "{:.0} MB per CPU second ({:.2} CPU s)",
            megabytes / (now - before),
            now - before
        ),
        _ => "CPU time unknown".to_string(),
    }
}

/// Resets the peak RSS to the current RSS (Linux: `5` to /proc/self/clear_refs).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The reader on real records: the recorded CloudTrail log files under `GXP_BENCH_REAL_LOGS`
/// (default: the invictus-ir files of ../shared/data, records of 1.3 KB on average), gzipped
/// here as CloudTrail delivers them and read with `read_log_file` over and over on one thread.
/// Real records compress far less than generated ones (about 7:1 against 20:1), so this is the
/// honest per-core figure for inflate + split + parse.
fn real_records_throughput() {
    let dir = std::env::var("GXP_BENCH_REAL_LOGS").unwrap_or_else(|_| {
        "../../../shared/data/cloudtrail/invictus-ir-aws_dataset/raw".to_string()
    });
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("trail_logs: real records: {dir} not found, skipped");
        return;
    };
    let files: Vec<Vec<u8>> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".json"))
        .filter_map(|entry| std::fs::read(entry.path()).ok())
        .collect();
    let plain: usize = files.iter().map(Vec::len).sum();
    if plain == 0 {
        println!("trail_logs: real records: no .json files in {dir}, skipped");
        return;
    }
    let gzipped: Vec<Vec<u8>> = files
        .iter()
        .map(|file| {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut encoder, file).expect("gzip");
            encoder.finish().expect("gzip")
        })
        .collect();
    let packed: usize = gzipped.iter().map(Vec::len).sum();
    let always = Period {
        start: Timestamp::parse("2000-01-01T00:00:00Z").expect("a time"),
        end: Timestamp::parse("2100-01-01T00:00:00Z").expect("a time"),
    };
    let rounds = (256_000_000 / plain).max(1);
    let mut records = 0u64;
    let mut kept = 0u64;
    let cpu = cpu_seconds();
    let began = Instant::now();
    for _ in 0..rounds {
        for (i, file) in gzipped.iter().enumerate() {
            let tally = read_log_file(&format!("real-{i}.json.gz"), &file[..], always, &mut |e| {
                std::hint::black_box(e);
            })
            .expect("a readable real log file");
            records += tally.records_read;
            kept += tally.records_kept;
        }
    }
    let seconds = began.elapsed().as_secs_f64();
    let megabytes = (plain * rounds) as f64 / 1e6;
    println!(
        "trail_logs: real records ({} files, {} records of {:.2} KB on average, gzip ratio {:.1}): \
         {megabytes:.0} MB in {seconds:.2} s = {:.0} MB/s decompressed on 1 thread, {}, {:.0} files/s, \
         {:.0} records/s ({:.0} % kept)",
        files.len(),
        records / rounds as u64,
        plain as f64 / (records / rounds as u64).max(1) as f64 / 1e3,
        plain as f64 / packed as f64,
        megabytes / seconds,
        per_cpu_second(megabytes, cpu),
        (files.len() * rounds) as f64 / seconds,
        records as f64 / seconds,
        100.0 * kept as f64 / records.max(1) as f64,
    );
}

fn main() {
    real_records_throughput();
    let args: Vec<String> = std::env::args().collect();
    let size_text = args
        .iter()
        .position(|a| a == "--size")
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| std::env::var("GXP_BENCH_LOG_SIZE").ok())
        .unwrap_or_else(|| "64M".to_string());
    let Some(target) = parse_size(&size_text) else {
        eprintln!("--size {size_text:?}: expected a size such as 64M or 2G");
        std::process::exit(2);
    };
    let start = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .expect("a time");
    let period = Period {
        start: Timestamp(start),
        end: Timestamp(start + Duration::days(31)),
    };
    let dir = tempfile::tempdir().expect("tempdir");

    // Generate: files spread evenly over the month, each written as it is built.
    let generating = Instant::now();
    let record_size =
        generator::record(ACCOUNT, REGION, generator::READ_EVENTS[0], true, start, "x")
            .to_string()
            .len() as u64;
    let files = (target / (record_size * RECORDS_PER_FILE as u64)).max(1);
    let spacing = Duration::seconds((31 * 86_400 / files as i64).max(1));
    let mut written = 0u64;
    let mut writes = 0usize;
    for file in 0..files {
        let first = start + spacing * file as i32;
        let records: Vec<serde_json::Value> = (0..RECORDS_PER_FILE)
            .map(|i| {
                let at = first + Duration::milliseconds(i as i64 * 10);
                let id = format!("{file:08}-{i:04}");
                if i % WRITE_EVERY == 0 {
                    writes += 1;
                    let event = generator::WRITE_EVENTS[(file as usize + i) % 4];
                    generator::record(ACCOUNT, REGION, event, false, at, &id)
                } else {
                    let event = generator::READ_EVENTS[i % generator::READ_EVENTS.len()];
                    generator::record(ACCOUNT, REGION, event, true, at, &id)
                }
            })
            .collect();
        let key = generator::log_file_key(
            None,
            ACCOUNT,
            REGION,
            generator::delivery_of(first),
            &format!("bench{file:011}"),
        );
        written += generator::write_log_file(dir.path(), &key, &records).1;
    }
    let compressed: u64 = walk_size(dir.path());
    println!(
        "trail_logs: generated {files} files of {RECORDS_PER_FILE} records of {:.2} KB, {:.1} MB decompressed ({:.1} MB gzip, ratio {:.1}; {} write events) in {:.1} s",
        written as f64 / (files * RECORDS_PER_FILE as u64) as f64 / 1e3,
        written as f64 / 1e6,
        compressed as f64 / 1e6,
        written as f64 / compressed as f64,
        writes,
        generating.elapsed().as_secs_f64()
    );

    // Decompression alone, on one thread: the floor under the reader's time.
    let cpu = cpu_seconds();
    let began = Instant::now();
    let mut inflated = 0u64;
    for path in walk_files(dir.path()) {
        let file = std::fs::File::open(path).expect("a log file");
        inflated += std::io::copy(
            &mut flate2::read::MultiGzDecoder::new(file),
            &mut std::io::sink(),
        )
        .expect("gzip");
    }
    println!(
        "trail_logs: gzip alone, 1 thread: {:.0} MB/s decompressed, {}",
        inflated as f64 / 1e6 / began.elapsed().as_secs_f64(),
        per_cpu_second(inflated as f64 / 1e6, cpu)
    );

    let store = LocalDir::open(dir.path()).expect("a log folder");
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut single = None;
    for threads in [1, 2] {
        gxp_evidence_core::memory::release_freed();
        reset_peak_rss();
        let cpu = cpu_seconds();
        let began = Instant::now();
        let read = read_region(&store, ACCOUNT, REGION, period, period.end, threads);
        let seconds = began.elapsed().as_secs_f64();
        let rate = written as f64 / 1e6 / seconds;
        assert_eq!(read.files_read, files, "every file read");
        assert!(
            read.gaps.iter().all(|g| g.code == "MissingLogFiles"),
            "{:?}",
            read.gaps
        );
        assert_eq!(read.events.len(), writes, "every write event kept once");
        let scaling = match single {
            None => {
                single = Some(seconds);
                String::new()
            }
            Some(one) => format!(", {:.2}x the 1-thread rate", one / seconds),
        };
        println!(
            "trail_logs: {threads} thread(s) on {cores} core(s): {seconds:.2} s, {rate:.0} MB/s decompressed, \
             {:.0} MB/s per thread (goal >= 150 per core){scaling}, {}, {:.0} files/s, {:.0} records/s, \
             peak RSS {} (goal < 300 MB)",
            rate / threads as f64,
            per_cpu_second(written as f64 / 1e6, cpu),
            read.files_read as f64 / seconds,
            read.records_read as f64 / seconds,
            peak_rss_mib().map_or("unknown".to_string(), |m| format!("{m:.0} MiB")),
        );
    }
}

fn walk_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => walk_size(&e.path()),
                    _ => e.metadata().map_or(0, |m| m.len()),
                })
                .sum()
        })
        .unwrap_or(0)
}

fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        match entry.file_type() {
            Ok(t) if t.is_dir() => files.extend(walk_files(&entry.path())),
            _ => files.push(entry.path()),
        }
    }
    files
}
