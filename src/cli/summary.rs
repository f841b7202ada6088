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
        let Some(path) = self.summary_json.as_deref().filter(|_| !self.to_stdout()) else {
            return Ok(());
        };
        if path.is_dir() {
            anyhow::bail!("--summary-json {} is a directory", path.display());
        }
        let parent = gxp_evidence_core::atomic::parent_dir(path);
        if !parent.is_dir() {
            anyhow::bail!(
                "--summary-json {}: its folder {} does not exist",
                path.display(),
                parent.display()
            );
        }
        Ok(())
    }

    /// Writes `line` where it was asked for: the file, and stdout for `-` or `--quiet` (once).
    pub fn emit(&self, line: &serde_json::Value) -> Result<()> {
        let text = format!("{line}\n");
        if let Some(path) = self.summary_json.as_deref().filter(|_| !self.to_stdout()) {
            write_summary(path, text.as_bytes())
                .with_context(|| format!("--summary-json {}", path.display()))?;
        }
        if self.quiet || self.to_stdout() {
            print!("{text}");
        }
        Ok(())
    }

    /// The summary of a command that failed (exit 2). The command's own error is what the
    /// caller must see, so a summary that cannot be written only adds a note.
    pub fn emit_error(&self, command: &str, err: &anyhow::Error) {
        if self.summary_json.is_none() && !self.quiet {
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
    pub keys: usize,
    /// Shadow copies (a multi-region trail seen from each region) included.
    pub trails: usize,
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
            counts.keys += region.kms.as_ref().map_or(0, |k| k.keys.len());
            if let Some(cloudtrail) = &region.cloudtrail {
                counts.trails += cloudtrail.trails.len();
                counts.change_events += cloudtrail.events.len();
            }
        }
        counts
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "rest_apis": self.rest_apis,
            "stages": self.stages,
            "keys": self.keys,
            "trails": self.trails,
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

/// The summary of `report` and `demo`: the verdict and what decided it, where it was written.
pub fn report_line(command: &str, model: &ReportModel, out: &Path, code: u8) -> serde_json::Value {
    serde_json::json!({
        "command": command,
        "period": model.period_label,
        "system": model.system_name,
        "verdict": model.verdict.as_str(),
        // A monitor that alerts on the verdict must see that it covers only some controls.
        "controls_not_evaluated": model
            .document
            .control_selection
            .as_ref()
            .map(|selection| {
                selection
                    .not_evaluated
                    .iter()
                    .map(|control| control.control_id)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default(),
        "counts": model.totals,
        "gaps": model.evidence_gaps.len(),
        "changes": model.change_totals.total,
        "weakening_changes_applied": model.change_totals.weakening_effective,
        "report_id": model.report_id,
        "output_path": out.display().to_string(),
        "exit_code": code,
        "exit_code_meaning": exit_code_meaning(command, code),
    })
}
