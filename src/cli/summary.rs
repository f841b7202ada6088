//! The machine-readable result of `collect`, `report`, `demo` and `run`: `--summary-json
//! FILE|-` (one JSON line, also for a failed command) and `--quiet` (that line on stdout and
//! nothing else), so a scheduler or a monitoring probe reads the outcome without parsing the
//! human summary on stderr. One set of flags and one writer for every command.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use crate::evidence::EvidenceSnapshot;
use crate::report::ReportModel;

/// `--summary-json` and `--quiet`, flattened into each command that produces a result.
#[derive(Debug, Clone, Default, Args)]
pub struct SummaryArgs {
    /// Write the command's result as one JSON line to FILE, or to stdout with `-`: verdict or
    /// gaps, totals, report id, output path, exit code and its meaning; on failure the error.
    #[arg(long, value_name = "FILE|-")]
    pub summary_json: Option<PathBuf>,
    /// Print nothing but the one-line JSON summary, on stdout: no progress, no human summary
    /// on stderr (errors still go to stderr). Per command, not global: keygen, verify and
    /// controls print their result itself.
    #[arg(short, long)]
    pub quiet: bool,
}

/// What a script reads from the exit code, spelled out in the summary so a log line explains
/// itself without the manual.
pub fn exit_code_meaning(command: &str, code: u8) -> &'static str {
    match (command, code) {
        ("collect", 0) => "collected, no evidence gaps",
        ("collect", 1) => "collected, with evidence gaps",
        ("run", 0) => "package produced",
        ("run", 1) => "package produced, failing --fail-on",
        (_, 0) => "produced, compliant",
        (_, 1) => "produced, non-compliant or incomplete",
        _ => "error, nothing written",
    }
}

impl SummaryArgs {
    fn to_stdout(&self) -> bool {
        self.summary_json.as_deref() == Some(Path::new("-"))
    }

    /// Checked before the command does any work: a summary that cannot be written after a
    /// long collection would turn a produced result into exit 2.
    pub fn check(&self) -> Result<()> {
        match self.summary_json.as_deref().filter(|_| !self.to_stdout()) {
            Some(path) => check_replaceable(path),
            None => Ok(()),
        }
    }

    /// Refuses a summary path that is the command's own output file (or its sidecar), which
    /// would replace the evidence just written.
    pub fn check_not_among(&self, outputs: &[&Path]) -> Result<()> {
        let Some(path) = self.summary_json.as_deref().filter(|_| !self.to_stdout()) else {
            return Ok(());
        };
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => {
                let absolute =
                    |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
                absolute(a) == absolute(b)
            }
        };
        if let Some(output) = outputs.iter().find(|output| same(path, output)) {
            return Err(refused(format!(
                "--summary-json {} is the command's own output {}; write the summary elsewhere",
                path.display(),
                output.display()
            )));
        }
        Ok(())
    }

    /// Writes `line` where it was asked for: the file, and stdout for `-` or `--quiet` (once).
    /// The file is checked again first (the rule of `check`), also for a command that failed
    /// before it could check: a summary never replaces anything but a summary.
    pub fn emit(&self, line: &serde_json::Value) -> Result<()> {
        let text = format!("{line}\n");
        if let Some(path) = self.summary_json.as_deref().filter(|_| !self.to_stdout()) {
            check_replaceable(path)?;
            write_summary(path, text.as_bytes())
                .with_context(|| format!("--summary-json {}", path.display()))?;
        }
        if self.quiet || self.to_stdout() {
            print!("{text}");
        }
        Ok(())
    }

    /// The summary of a command whose result was produced (exit 0 or 1). The result stands
    /// when the summary cannot be written: exit 2 would say "nothing written" of a package
    /// that is complete. A previous summary at the path is removed, so a monitor finds none
    /// rather than last month's.
    pub fn emit_result(&self, command: &str, line: &serde_json::Value) {
        if let Err(err) = self.emit(line) {
            let stale = self
                .summary_json
                .as_deref()
                .filter(|path| path.is_file() && is_previous_summary(path))
                .map(|path| std::fs::remove_file(path).is_ok())
                .unwrap_or(false);
            eprintln!(
                "gxp-evidence: warning: the {command} result was produced, but its summary could not be written: {}{}",
                super::error_chain(&err),
                if stale {
                    " (the previous summary there was removed)"
                } else {
                    ""
                }
            );
        }
    }

    /// The summary of a command that failed (exit 2). The command's own error is what the
    /// caller must see, so a summary that cannot be written only adds a note.
    pub fn emit_error(&self, command: &str, err: &anyhow::Error) {
        if self.summary_json.is_none() && !self.quiet {
            return;
        }
        if err.downcast_ref::<SummaryPathRefused>().is_some() {
            return;
        }
        let line = serde_json::json!({
            "command": command,
            "exit_code": 2,
            "exit_code_meaning": exit_code_meaning(command, 2),
            "error": super::error_chain(err),
        });
        if let Err(summary_err) = self.emit(&line) {
            eprintln!("gxp-evidence: note: no summary written: {summary_err:#}");
        }
    }
}

/// A summary path the command refused: no summary is written there, not even the error's.
#[derive(Debug)]
pub struct SummaryPathRefused(String);

impl std::fmt::Display for SummaryPathRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SummaryPathRefused {}

pub fn refused(message: String) -> anyhow::Error {
    SummaryPathRefused(message).into()
}

/// The largest file read to tell whether it is a previous summary (one JSON line).
const MAX_SUMMARY_BYTES: u64 = 64 * 1024;

/// Whether `path` may receive a summary: a new file in an existing folder that is not inside
/// a report package, a special file (a pipe, `/dev/stdout`), or a previous summary (one JSON
/// line naming its command and exit code) or an empty file. Anything else — the command's
/// own evidence, a key, a config, an archived package's file — is never replaced.
fn check_replaceable(path: &Path) -> Result<()> {
    let shown = path.display();
    if path.is_dir() {
        return Err(refused(format!("--summary-json {shown} is a directory")));
    }
    let parent = gxp_evidence_core::atomic::parent_dir(path);
    if !parent.is_dir() {
        return Err(refused(format!(
            "--summary-json {shown}: its folder {} does not exist",
            parent.display()
        )));
    }
    if let Ok(parent) = parent.canonicalize()
        && let Some(package) = parent
            .ancestors()
            .find(|dir| dir.join("manifest.json").is_file())
    {
        return Err(refused(format!(
            "--summary-json {shown} is inside the report package {}, which a new file would invalidate; write it elsewhere",
            package.display()
        )));
    }
    match (std::fs::symlink_metadata(path), std::fs::metadata(path)) {
        (Err(err), _) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        (Err(err), _) => Err(refused(format!("--summary-json {shown}: {err}"))),
        (Ok(_), Err(_)) => Err(refused(format!(
            "--summary-json {shown} is a symbolic link to nothing; refusing to follow it"
        ))),
        (Ok(_), Ok(target)) if !target.is_file() => Ok(()),
        (Ok(_), Ok(_)) if is_previous_summary(path) => Ok(()),
        (Ok(_), Ok(_)) => Err(refused(format!(
            "--summary-json {shown} exists and is not a summary this tool wrote; refusing to replace it (name a new file, or remove it)"
        ))),
    }
}

/// An empty file, or one JSON object on one line with `command` and `exit_code`: what
/// `--summary-json` writes.
fn is_previous_summary(path: &Path) -> bool {
    use std::io::Read;
    let mut text = String::new();
    let read = std::fs::File::open(path)
        .and_then(|file| file.take(MAX_SUMMARY_BYTES + 1).read_to_string(&mut text));
    if read.is_err() || text.len() as u64 > MAX_SUMMARY_BYTES {
        return false;
    }
    let text = text.trim_end_matches('\n');
    if text.is_empty() {
        return true;
    }
    if text.contains('\n') {
        return false;
    }
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|line| {
        line.get("command")
            .is_some_and(serde_json::Value::is_string)
            && line.get("exit_code").is_some_and(serde_json::Value::is_u64)
    })
}

/// A regular file (or a new one) is replaced atomically, so a monitor never reads half a
/// line; anything else the path names (a pipe, a device, a symbolic link's target) is
/// written in place, never replaced by a file.
fn write_summary(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let regular_or_new = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta.file_type().is_file(),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => true,
        Err(err) => return Err(err),
    };
    if regular_or_new {
        gxp_evidence_core::atomic::write_file(path, bytes, true).map_err(std::io::Error::other)
    } else {
        use std::io::Write;
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)?
            .write_all(bytes)
    }
}

/// What a collection found, counted once for the human line and the JSON summary.
#[derive(Debug, Default)]
pub struct CollectedCounts {
    pub rest_apis: usize,
    pub stages: usize,
    /// HTTP and WebSocket APIs (API Gateway v2).
    pub v2_apis: usize,
    pub keys: usize,
    /// Shadow copies (a multi-region trail seen from each region) included.
    pub trails: usize,
    pub replication_groups: usize,
    /// The trails' S3 buckets read for `cloudtrail-bucket-protection`.
    pub trail_buckets: usize,
    pub change_events: usize,
}

impl CollectedCounts {
    pub fn of(snapshot: &EvidenceSnapshot) -> Self {
        let mut counts = CollectedCounts::default();
        for region in snapshot.accounts.iter().flat_map(|a| &a.regions) {
            if let Some(apigateway) = &region.apigateway {
                counts.rest_apis += apigateway.rest_apis.len();
                counts.stages += apigateway
                    .rest_apis
                    .iter()
                    .map(|a| a.stages.len())
                    .sum::<usize>();
            }
            counts.v2_apis += region
                .apigateway
                .as_ref()
                .and_then(|a| a.v2_apis.as_ref())
                .map_or(0, Vec::len);
            counts.keys += region.kms.as_ref().map_or(0, |k| k.keys.len());
            counts.replication_groups += region
                .elasticache
                .as_ref()
                .map_or(0, |e| e.replication_groups.len());
            if let Some(cloudtrail) = &region.cloudtrail {
                counts.trails += cloudtrail.trails.len();
                counts.change_events += cloudtrail.events.len();
            }
        }
        counts.trail_buckets = snapshot
            .accounts
            .iter()
            .filter_map(|a| a.trail_buckets.as_ref())
            .map(|b| b.buckets.len())
            .sum();
        counts
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "rest_apis": self.rest_apis,
            "stages": self.stages,
            "v2_apis": self.v2_apis,
            "keys": self.keys,
            "trails": self.trails,
            "replication_groups": self.replication_groups,
            "trail_buckets": self.trail_buckets,
            "change_events": self.change_events,
        })
    }
}

/// The summary of `collect`: what was collected, from where, and how many evidence gaps.
pub fn collect_line(snapshot: &EvidenceSnapshot, out: &Path, code: u8) -> serde_json::Value {
    serde_json::json!({
        "command": "collect",
        "period": snapshot.period.label(),
        "system": snapshot.system_name,
        "accounts": snapshot.scope.accounts,
        "regions": snapshot.scope.regions,
        "counts": CollectedCounts::of(snapshot).to_json(),
        "gaps": snapshot.gaps.len(),
        "output_path": out.display().to_string(),
        "exit_code": code,
        "exit_code_meaning": exit_code_meaning("collect", code),
    })
}

/// The controls a narrowed report (`--checks`/`--exclude-checks`) left out; empty for a full one.
pub fn controls_not_evaluated(model: &ReportModel) -> Vec<&'static str> {
    model
        .document
        .control_selection
        .as_ref()
        .map(|selection| selection.not_evaluated_ids())
        .unwrap_or_default()
}

/// The summary of `report` and `demo`: the verdict and what decided it, where it was written.
pub fn report_line(command: &str, model: &ReportModel, out: &Path, code: u8) -> serde_json::Value {
    serde_json::json!({
        "command": command,
        "period": model.period_label,
        "system": model.system_name,
        "verdict": model.verdict.as_str(),
        // A monitor that alerts on the verdict must see that it covers only some controls.
        "controls_not_evaluated": controls_not_evaluated(model),
        "counts": model.totals,
        "gaps": model.evidence_gaps.len(),
        "changes": model.change_totals.total,
        "weakening_changes_applied": model.change_totals.weakening_effective,
        "report_id": model.report_id,
        "output_path": out.display().to_string(),
        "exit_code": code,
        "exit_code_meaning": match &model.document.control_selection {
            // "compliant" of a narrowed report is about the evaluated controls only.
            Some(selection) if code < 2 => format!(
                "{} ({})",
                exit_code_meaning(command, code),
                selection.count_text()
            ),
            _ => exit_code_meaning(command, code).to_string(),
        },
    })
}
