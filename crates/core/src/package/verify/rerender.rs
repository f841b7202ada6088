//! The re-render check: evidence.json (with the change records file, when the package has
//! one) re-evaluates to results.json and, with the sign-offs'
//! and the collector attestation's manifestations, re-renders to every stored format byte for byte. evidence.json is loaded
//! and evaluated on a second thread while the other checks hash the files.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

use super::integrity::{IntegrityRecheck, recheck_snapshot};
use super::{Outcome, Verifier};
use crate::controls::change_records::{ChangeRecordsFile, RecordsFormat};
use crate::evidence::{self, EvidenceError, LoadedEvidence, Timestamp, sha256_hex};
use crate::package::attestation::ATTESTATION_FILE;
use crate::package::signoff::{SIGNOFFS_FILE, SignoffFile};
use crate::package::{
    EVIDENCE_FILE, MANIFEST_FILE, Manifest, RESULTS_FILE, TEMPLATES_DIR, TemplateSource,
    change_records_paths,
};
use crate::report::diff::{PREVIOUS_PERIOD_FILE, PeriodSummary};
use crate::report::render::Format;
use crate::report::{ReportModel, Signoff, render};

/// Evidence that was loaded and evaluated: when it was collected and its SHA-256. Neither its
/// bytes nor the parsed snapshot are kept (the report model holds what sign needs).
pub(super) type Evaluated = (Timestamp, String);

/// The evaluation, its report model and the re-check of the digest chains the evidence keeps.
pub(super) type EvaluatedModel = (Evaluated, ReportModel, IntegrityRecheck);

/// evidence.json read, validated and evaluated on a second thread while the files are hashed
/// on this one. Its result is used only if evidence.json passes its checks; the SHA-256 it
/// reports is of the very bytes it evaluated.
pub(super) struct Speculation {
    /// The package's change records, evaluated with the evidence (kept for a re-evaluation
    /// that has to read evidence.json again).
    change_records: Option<ChangeRecordsFile>,
    sha256: mpsc::Receiver<Option<(String, u64)>>,
    evaluation: JoinHandle<Option<Result<EvaluatedModel, EvidenceError>>>,
}

impl Speculation {
    /// `release_memory`: hand what loading freed back to the system once the model is built
    /// (for `sign`, whose rendering follows; it costs verify a little time).
    pub(super) fn start(
        path: PathBuf,
        max_bytes: u64,
        change_records: Option<ChangeRecordsFile>,
        signoffs: Vec<Signoff>,
        release_memory: bool,
    ) -> Self {
        let (sender, sha256) = mpsc::channel();
        let records = change_records.clone();
        let evaluation = std::thread::spawn(move || {
            let Some(bytes) = super::files::read_regular(&path, max_bytes) else {
                let _ = sender.send(None);
                return None;
            };
            let size = bytes.len() as u64;
            match evidence::load_bytes(EVIDENCE_FILE, bytes) {
                Ok(loaded) => {
                    let _ = sender.send(Some((loaded.sha256.clone(), size)));
                    let evaluated = evaluate(loaded, records.as_ref(), signoffs);
                    if release_memory {
                        crate::memory::release_freed();
                    }
                    Some(Ok(evaluated))
                }
                Err(err) => {
                    let _ = sender.send(super::files::hash_file(&path, max_bytes));
                    Some(Err(err))
                }
            }
        });
        Self {
            change_records,
            sha256,
            evaluation,
        }
    }

    /// SHA-256 and size of the evidence.json bytes the second thread read, waiting for them:
    /// `Some(None)` when it could not read the file, `None` when it sent nothing.
    pub(super) fn evidence_hash(&self) -> Option<Option<(String, u64)>> {
        self.sha256.recv().ok()
    }

    pub(super) fn finish(self) -> Option<Result<EvaluatedModel, EvidenceError>> {
        self.evaluation.join().ok().flatten()
    }
}

impl Verifier<'_> {
    /// The package's change records file, read once and parsed for the re-evaluation: its
    /// SHA-256 is taken from the very bytes evaluated (the files check compares it with the
    /// manifest). A file that does not parse fails here, which blocks the re-evaluation.
    pub(super) fn read_change_records(&mut self) -> Option<ChangeRecordsFile> {
        let mut found = None;
        for format in RecordsFormat::ALL {
            let path = format.package_path();
            if !self.files.contains_key(path) {
                continue;
            }
            let Some(bytes) = self.read(path) else {
                continue;
            };
            self.hashes.insert(
                path.to_string(),
                Some((sha256_hex(&bytes), bytes.len() as u64)),
            );
            match ChangeRecordsFile::parse_as(path, format, bytes) {
                Ok(file) if found.is_none() => found = Some(file),
                Ok(_) => self.record(
                    Outcome::Fail,
                    path,
                    "a package holds one change records file, and this is the second",
                ),
                Err(err) => self.record(
                    Outcome::Fail,
                    path,
                    format!("cannot be read as change records: {err}"),
                ),
            }
        }
        found
    }

    /// The summary of the previous period the report was compared with, when the package
    /// keeps one: the "Changes since last period" section is recomputed from it. `Err`: it
    /// cannot be read (recorded as a failure of the file).
    fn read_previous_period(&mut self) -> Result<Option<PeriodSummary>, ()> {
        if !self.files.contains_key(PREVIOUS_PERIOD_FILE) {
            return Ok(None);
        }
        let parsed = match self.read(PREVIOUS_PERIOD_FILE) {
            Some(bytes) => PeriodSummary::parse(&bytes).map_err(|err| err.to_string()),
            None => Err("cannot be read".to_string()),
        };
        parsed.map(Some).map_err(|message| {
            self.record(Outcome::Fail, PREVIOUS_PERIOD_FILE, message);
        })
    }

    /// Re-evaluates evidence.json and re-renders every format the manifest names, comparing
    /// with the stored files. Runs only on evidence and sign-offs that passed their checks.
    pub(super) fn re_evaluate_and_render(
        &mut self,
        manifest: &Manifest,
        signoffs: &SignoffFile,
    ) -> Option<(Evaluated, String, ReportModel)> {
        let blocked: Vec<&str> = [EVIDENCE_FILE, SIGNOFFS_FILE, ATTESTATION_FILE]
            .into_iter()
            .chain(change_records_paths())
            .chain([PREVIOUS_PERIOD_FILE])
            .filter(|s| self.failed(s))
            .collect();
        let speculation = self.speculation.take();
        let change_records = speculation.as_ref().and_then(|s| s.change_records.clone());
        if !blocked.is_empty() {
            if let Some(speculation) = speculation {
                speculation.finish();
            }
            self.record(
                Outcome::Skip,
                "re-evaluation",
                format!("not attempted: {} failed its checks", blocked.join(", ")),
            );
            return None;
        }
        let evaluated = match speculation.and_then(Speculation::finish) {
            Some(result) => result,
            None => match self.read(EVIDENCE_FILE) {
                None => {
                    self.record(
                        Outcome::Skip,
                        "re-evaluation",
                        "evidence.json cannot be read",
                    );
                    return None;
                }
                Some(bytes) => evidence::load_bytes(EVIDENCE_FILE, bytes).map(|loaded| {
                    evaluate(loaded, change_records.as_ref(), signoffs.manifestations())
                }),
            },
        };
        let (evidence, mut model, integrity) = match evaluated {
            Ok(pair) => pair,
            Err(err) => {
                self.record(
                    Outcome::Fail,
                    EVIDENCE_FILE,
                    format!("cannot be evaluated: {err}"),
                );
                return None;
            }
        };
        self.record_integrity_recheck(&integrity);
        // The evidence is the one the sign-offs signed: none can be older than its collection.
        let collected_at = evidence.0;
        // The report-time parameters (owner, revision, reading, rendering time) as sealed.
        model = model
            .with_document(&manifest.render.document(collected_at))
            .with_results_format(manifest.render.results_format);
        let Ok(previous_period) = self.read_previous_period() else {
            return None;
        };
        model = model.with_previous_period(previous_period.as_ref());
        let rendered_at = model.document.rendered_at;
        for record in signoffs.signoffs.iter() {
            if record.signed_at < rendered_at {
                self.record(
                    Outcome::Fail,
                    SIGNOFFS_FILE,
                    format!(
                        "{} signed at {}, before the report it signs was rendered ({})",
                        record.label(),
                        record.signed_at.display_utc(),
                        rendered_at.display_utc()
                    ),
                );
            }
        }
        // The attestation's manifestation is rendered as it is stored; whether it holds is
        // the attestation check's finding.
        model.evidence_attestation = self.stored_attestation().map(|a| a.manifestation());
        for record in signoffs.signoffs.iter() {
            if record.signed_at < collected_at {
                self.record(
                    Outcome::Fail,
                    SIGNOFFS_FILE,
                    format!(
                        "{} signed at {}, before the evidence it signs was collected ({})",
                        record.label(),
                        record.signed_at.display_utc(),
                        collected_at.display_utc()
                    ),
                );
            }
        }
        let version_note = if manifest.tool_version == crate::TOOL_VERSION {
            String::new()
        } else {
            format!(
                " — the package was rendered by gxp-evidence {}, this is {}: verify with the version that made it",
                manifest.tool_version,
                crate::TOOL_VERSION
            )
        };
        let formats = match manifest.render.formats() {
            Ok(formats) => formats,
            Err(err) => {
                self.record(
                    Outcome::Fail,
                    MANIFEST_FILE,
                    format!("render settings: {err}"),
                );
                return None;
            }
        };
        let options = manifest.render.options(self.dir);
        let html = formats.contains(&Format::Html) && self.html_templates_passed(manifest);
        let others: BTreeSet<Format> = formats
            .iter()
            .copied()
            .filter(|f| *f != Format::Html)
            .collect();
        let mut results_sha = None;
        let mut produced = BTreeSet::new();
        // The HTML is drawn on its own thread beside the other formats: a custom template that
        // fails (or hits a rendering limit) is reported against report.html and the template,
        // and never stops the PDF, the CSV files and results.json from being checked.
        let (rendered, html) = std::thread::scope(|scope| {
            let html = html.then(|| scope.spawn(|| render::html::render(&model, &options)));
            let rendered = render::render_concurrently(&model, &others, &options, |file| {
                produced.insert(file.name.clone());
                self.compare_rendered(&file, manifest, &model, &version_note, &mut results_sha)
            });
            let html = html.map(|thread| {
                thread.join().unwrap_or_else(|_| {
                    Err(render::RenderError::Template(
                        "the HTML renderer panicked".to_string(),
                    ))
                })
            });
            (rendered, html)
        });
        match html {
            Some(Ok(file)) => {
                produced.insert(file.name.clone());
                if let Err(err) = self.compare_rendered(
                    &file.into(),
                    manifest,
                    &model,
                    &version_note,
                    &mut results_sha,
                ) {
                    self.record(Outcome::Fail, "report.html", format!("{err}"));
                }
            }
            Some(Err(err)) => {
                let subject = match manifest.render.templates {
                    TemplateSource::Package => format!("{TEMPLATES_DIR}/report.html"),
                    TemplateSource::Embedded => "report.html".to_string(),
                };
                self.record(
                    Outcome::Fail,
                    &subject,
                    format!("cannot re-render report.html: {err}{version_note}"),
                );
            }
            None => {}
        }
        if let Err(err) = rendered {
            self.record(
                Outcome::Fail,
                "re-rendering",
                format!("failed: {err}{version_note}"),
            );
            return None;
        }
        // report.html, when it was not drawn (an untrusted template, a template error), is
        // already failed or skipped above: it is not blamed a second time here.
        if formats.contains(&Format::Html) {
            produced.insert("report.html".to_string());
        }
        for entry in manifest.files.iter().filter(|entry| entry.is_rendered()) {
            if !produced.contains(&entry.path) {
                self.record(
                    Outcome::Fail,
                    &entry.path,
                    format!(
                        "{} is not part of this report's rendering: the manifest lists it, the re-rendering of evidence.json ({}) produces no such file",
                        entry.path,
                        rendered_formats(&formats)
                    ),
                );
            }
        }
        Some((evidence, results_sha?, model))
    }

    /// Compares one re-rendered file with the stored one, by the SHA-256 the files check
    /// computed once, streamed: equal digests and sizes mean equal bytes.
    fn compare_rendered(
        &mut self,
        file: &render::FileBody,
        manifest: &Manifest,
        model: &ReportModel,
        version_note: &str,
        results_sha: &mut Option<String>,
    ) -> Result<(), render::RenderError> {
        let stored = self.hash(&file.name);
        let rendered = file
            .sha256()
            .map_err(|err| render::RenderError::Render(file.name.clone(), err))?;
        let same = stored.as_ref() == Some(&rendered);
        let what = if file.name == RESULTS_FILE {
            if same {
                *results_sha = Some(rendered.0);
            }
            format!(
                "the re-evaluation of evidence.json ({})",
                model.verdict.as_str()
            )
        } else {
            "the re-rendering of evidence.json and signoffs.json".to_string()
        };
        // A rendering the manifest does not list is not covered by the seal, whatever lies on
        // disk under its name: the package lacks part of its report.
        if manifest.entry(&file.name).is_none() {
            self.record(
                Outcome::Fail,
                &file.name,
                format!("not listed in the manifest: {what} produces it"),
            );
            return Ok(());
        }
        match (same, stored.is_some()) {
            (true, _) => self.record(Outcome::Ok, &file.name, format!("identical to {what}")),
            (false, true) => self.record(
                Outcome::Fail,
                &file.name,
                format!("differs from {what}{version_note}"),
            ),
            // Not hashed because the files check already failed it (a special file, or
            // longer than the manifest lists).
            (false, false) if self.failed(&file.name) => self.record(
                Outcome::Fail,
                &file.name,
                format!("differs from {what} (not read again: it failed its files check)"),
            ),
            (false, false) => self.record(
                Outcome::Fail,
                &file.name,
                format!("missing: {what} produces it"),
            ),
        }
        Ok(())
    }

    /// Whether report.html may be re-rendered: a package rendered with its own templates is
    /// re-rendered only with template files that passed the files check. A template that was
    /// modified, added, replaced by a link or made unreadable after the package was written is
    /// untrusted input (it could be written to never finish, or to read what it should not),
    /// so it is never rendered; report.html is skipped and every other format still checked.
    fn html_templates_passed(&mut self, manifest: &Manifest) -> bool {
        if manifest.render.templates != TemplateSource::Package {
            return true;
        }
        let prefix = format!("{TEMPLATES_DIR}/");
        let failed: BTreeSet<String> = self
            .checks
            .iter()
            .filter(|c| c.outcome == Outcome::Fail)
            .filter(|c| c.subject == TEMPLATES_DIR || c.subject.starts_with(&prefix))
            .map(|c| c.subject.clone())
            .collect();
        if failed.is_empty() {
            return true;
        }
        let failed: Vec<String> = failed.into_iter().collect();
        self.record(
            Outcome::Skip,
            "report.html",
            format!(
                "not re-rendered: {} failed its checks, and a template is never rendered unless it did",
                failed.join(", ")
            ),
        );
        false
    }
}

/// `formats pdf, csv`: what the package's render settings ask for, for messages.
fn rendered_formats(formats: &BTreeSet<Format>) -> String {
    let names: Vec<&str> = formats.iter().map(|format| format.as_str()).collect();
    format!("formats {}", names.join(", "))
}

/// Builds the report model of loaded evidence and the package's change records, freeing the
/// evidence file's bytes first, and re-checks the digest chains the evidence keeps.
pub(super) fn evaluate(
    loaded: LoadedEvidence,
    change_records: Option<&ChangeRecordsFile>,
    signoffs: Vec<Signoff>,
) -> EvaluatedModel {
    let LoadedEvidence {
        snapshot,
        bytes,
        sha256,
    } = loaded;
    drop(bytes);
    let model = ReportModel::from_inputs(&snapshot, &sha256, change_records, signoffs);
    let integrity = recheck_snapshot(&snapshot);
    ((snapshot.collected_at, sha256), model, integrity)
}

impl Verifier<'_> {
    /// One FAIL line per problem of the digest-chain re-check, or one OK line when digests
    /// were re-checked; nothing when the evidence keeps no chain.
    fn record_integrity_recheck(&mut self, recheck: &IntegrityRecheck) {
        for problem in &recheck.problems {
            self.record(
                Outcome::Fail,
                EVIDENCE_FILE,
                format!("stored CloudTrail digest chain does not re-check: {problem}"),
            );
        }
        if recheck.problems.is_empty() && recheck.digests > 0 {
            self.record(
                Outcome::Ok,
                EVIDENCE_FILE,
                format!(
                    "{} stored CloudTrail digest signatures of {} trail result{} re-checked with the stored public keys, their chain links intact",
                    recheck.digests,
                    recheck.trails,
                    if recheck.trails == 1 { "" } else { "s" }
                ),
            );
        }
    }
}
