//! Offline verification of a package: every manifest hash, missing and extra files, the
//! manifest seal, every sign-off signature and the chain, re-evaluation of evidence.json to
//! results.json and re-rendering to the stored files, every earlier state under history/,
//! and optionally that each key is trusted. Each check names the one file it is about; a
//! check whose inputs already failed is skipped rather than blamed on another file.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

use super::seal::{SEAL_FILE, Seal};
use super::signoff::{SIGNOFFS_FILE, SignoffFile, SignoffRecord};
use super::{EVIDENCE_FILE, HISTORY_DIR, MANIFEST_FILE, Manifest, RESULTS_FILE};
use crate::evidence::{self, EvidenceError, EvidenceSnapshot, LoadedEvidence};
use crate::report::{ReportModel, Signoff, render};
use crate::signing::trusted::TrustedKeys;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Fail,
    /// Not checked because something it depends on already failed.
    Skip,
    /// Information that does not make the package invalid.
    Note,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "OK",
            Outcome::Fail => "FAIL",
            Outcome::Skip => "SKIP",
            Outcome::Note => "NOTE",
        }
    }
}

/// One line of the verification report: the file (or subject) it is about and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub outcome: Outcome,
    pub subject: String,
    pub message: String,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<4}  {}: {}",
            self.outcome.label(),
            self.subject,
            self.message
        )
    }
}

/// What verify is for: an auditor's check of an archived package (a package must be sealed),
/// or the check before signing (an unsigned draft is the normal starting point).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Audit,
    BeforeSigning,
}

pub struct VerifyOptions<'a> {
    pub trusted_keys: Option<&'a TrustedKeys>,
    pub purpose: Purpose,
}

/// The package as verified: what `sign` builds the next state from.
pub struct VerifiedPackage {
    pub manifest: Manifest,
    pub manifest_bytes: Vec<u8>,
    pub seal_bytes: Option<Vec<u8>>,
    pub signoffs: SignoffFile,
    /// The evaluated evidence and the SHA-256 of evidence.json.
    pub snapshot: EvidenceSnapshot,
    pub evidence_sha256: String,
    pub results_sha256: String,
}

pub struct Verification {
    pub checks: Vec<Check>,
    /// Present when the package is valid.
    pub package: Option<VerifiedPackage>,
}

impl Verification {
    pub fn is_valid(&self) -> bool {
        !self.checks.iter().any(|c| c.outcome == Outcome::Fail)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.outcome == Outcome::Fail)
    }

    /// The files (subjects) with at least one failed check.
    pub fn failed_subjects(&self) -> BTreeSet<&str> {
        self.failures().map(|c| c.subject.as_str()).collect()
    }

    pub fn summary(&self) -> String {
        let passed = self
            .checks
            .iter()
            .filter(|c| c.outcome == Outcome::Ok)
            .count();
        if self.is_valid() {
            format!("VALID: {passed} checks passed")
        } else {
            let subjects: Vec<&str> = self.failed_subjects().into_iter().collect();
            format!(
                "INVALID: {} failed checks ({}); {passed} checks passed",
                self.failures().count(),
                subjects.join(", ")
            )
        }
    }
}

/// The package cannot be read at all (exit 2), as opposed to read and found invalid.
#[derive(Debug, thiserror::Error)]
#[error("cannot read package directory {}: {message}", path.display())]
pub struct VerifyError {
    pub path: PathBuf,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Regular,
    Other,
}

/// Verifies the package in `dir`.
pub fn verify(dir: &Path, options: &VerifyOptions) -> Result<Verification, VerifyError> {
    let files = list_files(dir)?;
    let mut verifier = Verifier {
        dir,
        options,
        files,
        hashes: HashMap::new(),
        checks: Vec::new(),
        speculation: None,
    };
    let package = verifier.run();
    let mut verification = Verification {
        checks: verifier.checks,
        package: None,
    };
    if verification.is_valid() {
        verification.package = package;
    }
    Ok(verification)
}

struct Verifier<'a> {
    dir: &'a Path,
    options: &'a VerifyOptions<'a>,
    files: BTreeMap<String, FileKind>,
    hashes: HashMap<String, Option<(String, u64)>>,
    checks: Vec<Check>,
    speculation: Option<Speculation>,
}

/// Evidence that was loaded and evaluated; its bytes are not kept.
type Evaluated = (EvidenceSnapshot, String);

/// evidence.json read, validated and evaluated on a second thread while the files are hashed
/// on this one. Its result is used only if evidence.json passes its checks; the SHA-256 it
/// reports is of the very bytes it evaluated.
struct Speculation {
    sha256: mpsc::Receiver<Option<(String, u64)>>,
    evaluation: JoinHandle<Option<Result<(Evaluated, ReportModel), EvidenceError>>>,
}

impl Speculation {
    fn start(path: PathBuf, signoffs: Vec<Signoff>) -> Self {
        let (sender, sha256) = mpsc::channel();
        let evaluation = std::thread::spawn(move || {
            let Ok(bytes) = fs::read(&path) else {
                let _ = sender.send(None);
                return None;
            };
            let size = bytes.len() as u64;
            match evidence::load_bytes(EVIDENCE_FILE, bytes) {
                Ok(loaded) => {
                    let _ = sender.send(Some((loaded.sha256.clone(), size)));
                    Some(Ok(evaluate(loaded, signoffs)))
                }
                Err(err) => {
                    let _ = sender.send(fs::read(&path).ok().map(|b| {
                        let size = b.len() as u64;
                        (evidence::sha256_hex(&b), size)
                    }));
                    Some(Err(err))
                }
            }
        });
        Self { sha256, evaluation }
    }

    fn finish(self) -> Option<Result<(Evaluated, ReportModel), EvidenceError>> {
        self.evaluation.join().ok().flatten()
    }
}

/// What the seal check found out about manifest.json.
struct SealState {
    bytes: Option<Vec<u8>>,
    seal: Option<Seal>,
    /// The seal exists and names other manifest bytes: the manifest's hashes cannot be trusted.
    manifest_modified: bool,
}

impl Verifier<'_> {
    fn record(&mut self, outcome: Outcome, subject: &str, message: impl Into<String>) {
        self.checks.push(Check {
            outcome,
            subject: subject.to_string(),
            message: message.into(),
        });
    }

    fn failed(&self, subject: &str) -> bool {
        self.checks
            .iter()
            .any(|c| c.outcome == Outcome::Fail && c.subject == subject)
    }

    fn run(&mut self) -> Option<VerifiedPackage> {
        let manifest_bytes = self.read(MANIFEST_FILE);
        let manifest = match &manifest_bytes {
            None => {
                self.record(
                    Outcome::Fail,
                    MANIFEST_FILE,
                    "missing: this is not a complete gxp-evidence package",
                );
                None
            }
            Some(bytes) => match Manifest::parse(bytes) {
                Ok(manifest) => Some(manifest),
                Err(err) => {
                    self.record(Outcome::Fail, MANIFEST_FILE, format!("unreadable: {err}"));
                    None
                }
            },
        };
        let signoffs = self.read_signoffs(manifest.as_ref());
        if let Some(file) = &signoffs
            && self.files.get(EVIDENCE_FILE) == Some(&FileKind::Regular)
        {
            self.speculation = Some(Speculation::start(
                self.dir.join(EVIDENCE_FILE),
                file.manifestations(),
            ));
        }
        let seal = self.check_seal(manifest_bytes.as_deref(), signoffs.as_ref());
        if let Some(manifest) = &manifest {
            self.check_manifest_files(manifest, seal.manifest_modified);
        } else {
            self.record(
                Outcome::Skip,
                "files",
                "the files cannot be checked against an unreadable manifest",
            );
        }
        if let Some(signoffs) = &signoffs {
            self.check_signoffs(signoffs);
        }
        let evaluated = match (&manifest, &signoffs) {
            (Some(manifest), Some(signoffs)) if !seal.manifest_modified => {
                self.re_evaluate_and_render(manifest, signoffs)
            }
            _ => {
                self.record(
                    Outcome::Skip,
                    "re-evaluation",
                    "not attempted: manifest.json or signoffs.json failed its checks",
                );
                None
            }
        };
        if let Some(signoffs) = &signoffs {
            self.check_history(
                signoffs,
                manifest.as_ref().filter(|_| !seal.manifest_modified),
            );
            self.check_trust(signoffs, seal.seal.as_ref());
        }
        let (manifest, manifest_bytes, signoffs, ((snapshot, evidence_sha256), results_sha256)) =
            (manifest?, manifest_bytes?, signoffs?, evaluated?);
        Some(VerifiedPackage {
            manifest,
            manifest_bytes,
            seal_bytes: seal.bytes,
            signoffs,
            snapshot,
            evidence_sha256,
            results_sha256,
        })
    }

    fn read(&self, name: &str) -> Option<Vec<u8>> {
        match self.files.get(name) {
            Some(FileKind::Regular) => fs::read(self.dir.join(name)).ok(),
            _ => None,
        }
    }

    fn read_signoffs(&mut self, manifest: Option<&Manifest>) -> Option<SignoffFile> {
        let Some(bytes) = self.read(SIGNOFFS_FILE) else {
            self.record(Outcome::Fail, SIGNOFFS_FILE, "missing");
            return None;
        };
        match SignoffFile::parse(&bytes) {
            Ok(file) => {
                if let Some(manifest) = manifest.filter(|m| m.report_id != file.report_id) {
                    self.record(
                        Outcome::Fail,
                        SIGNOFFS_FILE,
                        format!(
                            "belongs to report {}, the manifest to report {}",
                            file.report_id, manifest.report_id
                        ),
                    );
                }
                Some(file)
            }
            Err(err) => {
                self.record(Outcome::Fail, SIGNOFFS_FILE, format!("unreadable: {err}"));
                None
            }
        }
    }

    fn check_seal(
        &mut self,
        manifest_bytes: Option<&[u8]>,
        signoffs: Option<&SignoffFile>,
    ) -> SealState {
        let signed = signoffs.is_some_and(|s| !s.signoffs.is_empty());
        let mut state = SealState {
            bytes: self.read(SEAL_FILE),
            seal: None,
            manifest_modified: false,
        };
        let Some(seal_bytes) = state.bytes.clone() else {
            if self.files.contains_key(SEAL_FILE) {
                self.record(Outcome::Fail, SEAL_FILE, "not a regular file");
            } else if signed {
                self.record(
                    Outcome::Fail,
                    SEAL_FILE,
                    "missing: the package has sign-offs but its manifest is not sealed",
                );
            } else if self.options.purpose == Purpose::Audit {
                self.record(
                    Outcome::Fail,
                    SEAL_FILE,
                    "missing: the package is an unsigned draft (no sign-off, manifest not sealed)",
                );
            } else {
                self.record(
                    Outcome::Note,
                    SEAL_FILE,
                    "none yet: the package is an unsigned draft",
                );
            }
            return state;
        };
        let seal = match Seal::parse(&seal_bytes) {
            Ok(seal) if seal.to_bytes() != seal_bytes => {
                self.record(
                    Outcome::Fail,
                    SEAL_FILE,
                    "modified: not byte for byte the seal gxp-evidence wrote",
                );
                return state;
            }
            Ok(seal) => seal,
            Err(err) => {
                self.record(Outcome::Fail, SEAL_FILE, format!("unreadable: {err}"));
                return state;
            }
        };
        if let Some(bytes) = manifest_bytes {
            let actual = evidence::sha256_hex(bytes);
            if actual != seal.manifest_sha256 {
                state.manifest_modified = true;
                self.record(
                    Outcome::Fail,
                    MANIFEST_FILE,
                    format!(
                        "modified after it was sealed: SHA-256 {actual}, the seal signs {}",
                        seal.manifest_sha256
                    ),
                );
            }
        }
        match seal.verify_signature() {
            Err(problem) => self.record(
                Outcome::Fail,
                SEAL_FILE,
                format!("{problem} ({})", seal.key.describe()),
            ),
            Ok(()) => {
                let mut problems = Vec::new();
                if let Some(signoffs) = signoffs {
                    let last = signoffs.signoffs.last();
                    if seal.signoff_count as usize != signoffs.signoffs.len()
                        || seal.last_signoff_sha256 != last.map(SignoffRecord::digest)
                    {
                        self.record(
                            Outcome::Fail,
                            SIGNOFFS_FILE,
                            format!(
                                "is not the sign-off chain that was sealed: the seal covers {} sign-offs, the file has {}",
                                seal.signoff_count,
                                signoffs.signoffs.len()
                            ),
                        );
                    } else if let Some(last) =
                        last.filter(|l| l.key.fingerprint != seal.key.fingerprint)
                    {
                        problems.push(format!(
                            "sealed with key {}, but the last sign-off was made with key {}",
                            seal.key.fingerprint, last.key.fingerprint
                        ));
                    }
                    if seal.report_id != signoffs.report_id {
                        problems.push(format!("seals report {}", seal.report_id));
                    }
                }
                if problems.is_empty() {
                    self.record(
                        Outcome::Ok,
                        SEAL_FILE,
                        format!(
                            "signature valid over manifest.json and {} sign-off(s), {}",
                            seal.signoff_count,
                            seal.key.describe()
                        ),
                    );
                } else {
                    self.record(Outcome::Fail, SEAL_FILE, problems.join("; "));
                }
            }
        }
        state.seal = Some(seal);
        state
    }

    fn check_manifest_files(&mut self, manifest: &Manifest, manifest_modified: bool) {
        // Everything else first, while evidence.json is still being read on the other thread.
        for entry in &manifest.files {
            if entry.path != EVIDENCE_FILE {
                self.hash(&entry.path);
            }
        }
        let mut listed = BTreeSet::new();
        for entry in &manifest.files {
            listed.insert(entry.path.as_str());
            if !is_safe_relative_path(&entry.path)
                || entry.path == MANIFEST_FILE
                || entry.path == SEAL_FILE
            {
                self.record(
                    Outcome::Fail,
                    MANIFEST_FILE,
                    format!("lists a path a package cannot hold: {:?}", entry.path),
                );
                continue;
            }
            match self.files.get(&entry.path) {
                None => {
                    self.record(Outcome::Fail, &entry.path, "missing: listed in the manifest");
                }
                Some(FileKind::Other) => {
                    self.record(Outcome::Fail, &entry.path, "not a regular file");
                }
                Some(FileKind::Regular) => match self.hash(&entry.path) {
                    None => self.record(Outcome::Fail, &entry.path, "cannot be read"),
                    Some((sha, _)) if sha == entry.sha256 => self.record(
                        Outcome::Ok,
                        &entry.path,
                        "SHA-256 matches the manifest",
                    ),
                    Some((sha, bytes)) if manifest_modified => self.record(
                        Outcome::Fail,
                        MANIFEST_FILE,
                        format!(
                            "lists SHA-256 {} for {}, the file has {sha} ({bytes} bytes)",
                            entry.sha256, entry.path
                        ),
                    ),
                    Some((sha, bytes)) => self.record(
                        Outcome::Fail,
                        &entry.path,
                        format!(
                            "modified: SHA-256 {sha} ({bytes} bytes), the manifest has {} ({} bytes)",
                            entry.sha256, entry.bytes
                        ),
                    ),
                },
            }
        }
        let extra: Vec<String> = self
            .files
            .keys()
            .filter(|path| {
                !listed.contains(path.as_str())
                    && path.as_str() != MANIFEST_FILE
                    && path.as_str() != SEAL_FILE
            })
            .cloned()
            .collect();
        for path in extra {
            self.record(Outcome::Fail, &path, "extra file: not in the manifest");
        }
    }

    fn check_signoffs(&mut self, file: &SignoffFile) {
        if file.signoffs.is_empty() {
            self.record(
                Outcome::Note,
                SIGNOFFS_FILE,
                "no sign-offs: the report is an unsigned draft",
            );
            return;
        }
        let evidence_sha = self.hash(EVIDENCE_FILE).map(|(sha, _)| sha);
        let results_sha = self.hash(RESULTS_FILE).map(|(sha, _)| sha);
        let mut previous: Option<&SignoffRecord> = None;
        for (index, record) in file.signoffs.iter().enumerate() {
            let label = record.label();
            let mut problems = Vec::new();
            if let Err(problem) = record.verify_signature() {
                problems.push(format!("signature: {problem} ({})", record.key.describe()));
            }
            if record.sequence as usize != index + 1 {
                problems.push(format!(
                    "is at position {} of the chain: the order of the sign-offs was changed",
                    index + 1
                ));
            }
            let expected_previous = previous.map(SignoffRecord::digest);
            if record.previous_signoff_sha256 != expected_previous {
                problems.push(match previous {
                    None => "claims a previous sign-off, but it is the first: chain broken".to_string(),
                    Some(p) => format!(
                        "does not chain to sign-off {} before it (its digest differs): chain broken",
                        p.sequence
                    ),
                });
            }
            if let Some(p) = previous.filter(|p| record.signed_at < p.signed_at) {
                problems.push(format!(
                    "signed at {}, before sign-off {} ({})",
                    record.signed_at.display_utc(),
                    p.sequence,
                    p.signed_at.display_utc()
                ));
            }
            if record.report_id != file.report_id {
                problems.push(format!("signs report {}", record.report_id));
            }
            if problems.is_empty() {
                self.record(
                    Outcome::Ok,
                    SIGNOFFS_FILE,
                    format!(
                        "{label}: {} ({}, user id {}), {} — signature valid ({}), chain intact",
                        crate::report::format::visible(&record.printed_name),
                        crate::report::format::visible(&record.role),
                        crate::report::format::visible(&record.user_id),
                        record.signed_at.display_utc(),
                        record.key.describe()
                    ),
                );
            } else {
                self.record(
                    Outcome::Fail,
                    SIGNOFFS_FILE,
                    format!("{label} {}", problems.join("; ")),
                );
            }
            for (name, actual, signed) in [
                (EVIDENCE_FILE, &evidence_sha, &record.evidence_sha256),
                (RESULTS_FILE, &results_sha, &record.results_sha256),
            ] {
                match actual {
                    Some(actual) if actual != signed => self.record(
                        Outcome::Fail,
                        name,
                        format!(
                            "is not the file {label} signed: SHA-256 {actual}, signed {signed}"
                        ),
                    ),
                    Some(_) => {}
                    None => self.record(
                        Outcome::Skip,
                        name,
                        format!("cannot be compared with what {label} signed"),
                    ),
                }
            }
            previous = Some(record);
        }
    }

    /// Re-evaluates evidence.json and re-renders every format the manifest names, comparing
    /// with the stored files. Runs only on evidence and sign-offs that passed their checks.
    fn re_evaluate_and_render(
        &mut self,
        manifest: &Manifest,
        signoffs: &SignoffFile,
    ) -> Option<(Evaluated, String)> {
        let blocked: Vec<&str> = [EVIDENCE_FILE, SIGNOFFS_FILE]
            .into_iter()
            .filter(|s| self.failed(s))
            .collect();
        let speculation = self.speculation.take();
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
                Some(bytes) => evidence::load_bytes(EVIDENCE_FILE, bytes)
                    .map(|loaded| evaluate(loaded, signoffs.manifestations())),
            },
        };
        let (evidence, model) = match evaluated {
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
        // The evidence is the one the sign-offs signed: none can be older than its collection.
        let collected_at = evidence.0.collected_at;
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
        let mut results_sha = None;
        let rendered = render::render_concurrently(&model, &formats, &options, |file| {
            let stored = self.read(&file.name);
            let same = stored.as_deref() == Some(file.bytes.as_slice());
            let what = if file.name == RESULTS_FILE {
                // Identical bytes have the stored file's hash, computed once already.
                if same {
                    results_sha = self.hash(RESULTS_FILE).map(|(sha, _)| sha);
                }
                format!(
                    "the re-evaluation of evidence.json ({})",
                    model.verdict.as_str()
                )
            } else {
                "the re-rendering of evidence.json and signoffs.json".to_string()
            };
            match (same, stored.is_some()) {
                (true, _) => self.record(Outcome::Ok, &file.name, format!("identical to {what}")),
                (false, true) => self.record(
                    Outcome::Fail,
                    &file.name,
                    format!("differs from {what}{version_note}"),
                ),
                (false, false) => self.record(
                    Outcome::Fail,
                    &file.name,
                    format!("missing: {what} produces it"),
                ),
            }
            Ok::<_, render::RenderError>(())
        });
        if let Err(err) = rendered {
            self.record(
                Outcome::Fail,
                "re-rendering",
                format!("failed: {err}{version_note}"),
            );
            return None;
        }
        Some((evidence, results_sha?))
    }

    /// Each earlier state under history/<k>/ (k sign-offs) must still be exactly what its
    /// manifest hashed, its seal must hold, and its sign-offs must be the first k of today's.
    fn check_history(&mut self, current: &SignoffFile, current_manifest: Option<&Manifest>) {
        let count = current.signoffs.len();
        let mut states = BTreeSet::new();
        for path in self.files.keys() {
            if let Some(rest) = path.strip_prefix(&format!("{HISTORY_DIR}/")) {
                let state = rest.split('/').next().unwrap_or_default();
                states.insert(state.to_string());
            }
        }
        for state in &states {
            if !state.parse::<usize>().is_ok_and(|k| k < count) {
                self.record(
                    Outcome::Fail,
                    &format!("{HISTORY_DIR}/{state}"),
                    format!("not a state of this package (it has {count} sign-offs)"),
                );
            }
        }
        // The manifests of states 0..count, then today's.
        // A manifest that failed its own hash check is not used to find files.
        let mut manifests: Vec<Option<Manifest>> = (0..count)
            .map(|k| {
                let path = format!("{HISTORY_DIR}/{k}/{MANIFEST_FILE}");
                if self.failed(&path) {
                    return None;
                }
                self.read(&path)
                    .and_then(|bytes| Manifest::parse(&bytes).ok())
            })
            .collect();
        manifests.push(current_manifest.cloned());
        for k in 0..count {
            self.check_history_state(k, current, &manifests);
        }
    }

    fn check_history_state(
        &mut self,
        k: usize,
        current: &SignoffFile,
        manifests: &[Option<Manifest>],
    ) {
        let state_dir = format!("{HISTORY_DIR}/{k}");
        let manifest_path = format!("{state_dir}/{MANIFEST_FILE}");
        if self.failed(&manifest_path) {
            self.record(
                Outcome::Skip,
                &state_dir,
                format!("not checked: {manifest_path} failed its checks"),
            );
            return;
        }
        let Some(bytes) = self.read(&manifest_path) else {
            self.record(
                Outcome::Fail,
                &manifest_path,
                format!("missing: the state with {k} sign-off(s) is lost"),
            );
            return;
        };
        let manifest = match Manifest::parse(&bytes) {
            Ok(manifest) => manifest,
            Err(err) => {
                self.record(Outcome::Fail, &manifest_path, format!("unreadable: {err}"));
                return;
            }
        };
        let mut intact = true;
        for entry in &manifest.files {
            let path = self.resolve_in_history(&entry.path, k, manifests);
            match self.hash(&path) {
                Some((sha, _)) if sha == entry.sha256 => {}
                Some((sha, _)) => {
                    intact = false;
                    self.record(
                        Outcome::Fail,
                        &path,
                        format!(
                            "differs from the manifest of {state_dir}: SHA-256 {sha}, recorded {}",
                            entry.sha256
                        ),
                    );
                }
                None => {
                    intact = false;
                    self.record(
                        Outcome::Fail,
                        &path,
                        format!("missing: needed by the manifest of {state_dir}"),
                    );
                }
            }
        }
        let seal_path = format!("{state_dir}/{SEAL_FILE}");
        let mut valid_seal = None;
        if k > 0 {
            match self.read(&seal_path).map(|b| Seal::parse(&b)) {
                None => {
                    intact = false;
                    self.record(Outcome::Fail, &seal_path, "missing");
                }
                Some(Err(err)) => {
                    intact = false;
                    self.record(Outcome::Fail, &seal_path, format!("unreadable: {err}"));
                }
                Some(Ok(seal)) => {
                    if seal.manifest_sha256 != evidence::sha256_hex(&bytes) {
                        intact = false;
                        self.record(
                            Outcome::Fail,
                            &manifest_path,
                            "modified after it was sealed",
                        );
                    }
                    if let Err(problem) = seal.verify_signature() {
                        intact = false;
                        self.record(Outcome::Fail, &seal_path, problem.to_string());
                    } else {
                        valid_seal = Some(seal);
                    }
                }
            }
        }
        let signoffs_path = self.resolve_in_history(SIGNOFFS_FILE, k, manifests);
        if self.failed(SIGNOFFS_FILE) {
            self.record(
                Outcome::Skip,
                &signoffs_path,
                "not compared: today's signoffs.json failed its checks",
            );
            return;
        }
        if let Some(seal) = &valid_seal {
            let problems = history_seal_problems(seal, k, current);
            if !problems.is_empty() {
                intact = false;
                self.record(Outcome::Fail, &seal_path, problems.join("; "));
            }
        }
        let earlier = self
            .read(&signoffs_path)
            .and_then(|b| SignoffFile::parse(&b).ok());
        if earlier.as_ref().map(|f| f.signoffs.as_slice()) != Some(&current.signoffs[..k]) {
            intact = false;
            self.record(
                Outcome::Fail,
                &signoffs_path,
                format!("does not hold the first {k} sign-off(s) of today's chain"),
            );
        }
        if intact {
            self.record(
                Outcome::Ok,
                &state_dir,
                format!(
                    "the state with {k} sign-off(s) is intact ({} files)",
                    manifest.files.len()
                ),
            );
        }
    }

    /// Where the version of `path` belonging to the state with `k` sign-offs lives: in
    /// history/<j>/ for the first state j ≥ k whose next state's manifest records another
    /// hash for it (that sign-off replaced it and kept this version), else the current file.
    /// When a manifest on the way cannot be read, the files on disk decide.
    fn resolve_in_history(&self, path: &str, k: usize, manifests: &[Option<Manifest>]) -> String {
        if path.starts_with(&format!("{HISTORY_DIR}/")) {
            return path.to_string();
        }
        let count = manifests.len() - 1;
        for j in k..count {
            let stored = format!("{HISTORY_DIR}/{j}/{path}");
            let replaced = match (&manifests[j], &manifests[j + 1]) {
                (Some(this), Some(next)) => {
                    this.entry(path).map(|e| &e.sha256) != next.entry(path).map(|e| &e.sha256)
                }
                _ => self.files.contains_key(&stored),
            };
            if replaced {
                return stored;
            }
        }
        path.to_string()
    }

    fn check_trust(&mut self, signoffs: &SignoffFile, seal: Option<&Seal>) {
        let Some(trusted) = self.options.trusted_keys else {
            self.record(
                Outcome::Note,
                "trusted keys",
                "not checked: valid signatures show the package is unchanged since it was signed; \
                 pass --trusted-keys to check that the keys belong to the people named",
            );
            return;
        };
        for record in &signoffs.signoffs {
            let fingerprint = &record.key.fingerprint;
            if trusted.contains(fingerprint) {
                let label = trusted
                    .label(fingerprint)
                    .map(|l| format!(" ({l})"))
                    .unwrap_or_default();
                self.record(
                    Outcome::Ok,
                    SIGNOFFS_FILE,
                    format!("{}: key {fingerprint} is trusted{label}", record.label()),
                );
            } else {
                self.record(
                    Outcome::Fail,
                    SIGNOFFS_FILE,
                    format!(
                        "{}: key {fingerprint} is not in the trusted keys",
                        record.label()
                    ),
                );
            }
        }
        if let Some(seal) = seal {
            let fingerprint = &seal.key.fingerprint;
            if trusted.contains(fingerprint) {
                self.record(
                    Outcome::Ok,
                    SEAL_FILE,
                    format!("sealing key {fingerprint} is trusted"),
                );
            } else {
                self.record(
                    Outcome::Fail,
                    SEAL_FILE,
                    format!("sealing key {fingerprint} is not in the trusted keys"),
                );
            }
        }
    }

    /// SHA-256 and size of a package file, read once and streamed.
    fn hash(&mut self, path: &str) -> Option<(String, u64)> {
        if let Some(known) = self.hashes.get(path) {
            return known.clone();
        }
        let speculated = match &self.speculation {
            Some(speculation) if path == EVIDENCE_FILE => speculation.sha256.recv().ok(),
            _ => None,
        };
        let computed = match (speculated, self.files.get(path)) {
            (Some(speculated), _) => speculated,
            (None, Some(FileKind::Regular)) => hash_file(&self.dir.join(path)),
            (None, _) => None,
        };
        self.hashes.insert(path.to_string(), computed.clone());
        computed
    }
}

/// Why the seal of the state with `k` sign-offs (0 < k < today's count) is not that state's:
/// the state was sealed by sign-off k's signer over the first k sign-offs of today's chain.
/// A valid signature alone does not show it — a later signer can seal anything with their
/// own key.
fn history_seal_problems(seal: &Seal, k: usize, current: &SignoffFile) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(last) = k.checked_sub(1).and_then(|i| current.signoffs.get(i)) else {
        return problems;
    };
    if seal.signoff_count as usize != k {
        problems.push(format!(
            "seals {} sign-off(s), not the first {k} of today's chain",
            seal.signoff_count
        ));
    } else if seal.last_signoff_sha256 != Some(last.digest()) {
        problems.push(format!(
            "seals another chain: its last sign-off is not today's {}",
            last.label()
        ));
    }
    if seal.key.fingerprint != last.key.fingerprint {
        problems.push(format!(
            "sealed with key {}, but {} was made with key {}",
            seal.key.fingerprint,
            last.label(),
            last.key.fingerprint
        ));
    }
    if seal.report_id != current.report_id {
        problems.push(format!("seals report {}", seal.report_id));
    }
    problems
}

/// Builds the report model of loaded evidence, freeing the file's bytes first.
fn evaluate(loaded: LoadedEvidence, signoffs: Vec<Signoff>) -> (Evaluated, ReportModel) {
    let LoadedEvidence {
        snapshot,
        bytes,
        sha256,
    } = loaded;
    drop(bytes);
    let model = ReportModel::from_snapshot(&snapshot, &sha256, signoffs);
    ((snapshot, sha256), model)
}

fn hash_file(path: &Path) -> Option<(String, u64)> {
    let mut file = fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let read = file.read(&mut buffer).ok()?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        total += read as u64;
    }
    Some((evidence::lower_hex(&hasher.finalize()), total))
}

/// A relative path inside the package: no root, no `..`, no empty or `.` parts, `/` only.
fn is_safe_relative_path(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// Every file under `dir` (relative, `/`-separated); symbolic links and other non-regular
/// entries are listed as such, never followed.
fn list_files(dir: &Path) -> Result<BTreeMap<String, FileKind>, VerifyError> {
    let unreadable = |path: &Path, err: std::io::Error| VerifyError {
        path: path.to_path_buf(),
        message: err.to_string(),
    };
    let meta = fs::metadata(dir).map_err(|e| unreadable(dir, e))?;
    if !meta.is_dir() {
        return Err(VerifyError {
            path: dir.to_path_buf(),
            message: "not a directory".to_string(),
        });
    }
    let mut files = BTreeMap::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = pending.pop() {
        for entry in fs::read_dir(&path).map_err(|e| unreadable(&path, e))? {
            let entry = entry.map_err(|e| unreadable(&path, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = format!("{prefix}{name}");
            let kind = entry
                .file_type()
                .map_err(|e| unreadable(&entry.path(), e))?;
            if kind.is_dir() {
                pending.push((entry.path(), format!("{relative}/")));
            } else if kind.is_file() {
                files.insert(relative, FileKind::Regular);
            } else {
                files.insert(relative, FileKind::Other);
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_paths_stay_inside_the_package() {
        assert!(is_safe_relative_path("history/0/report.pdf"));
        for bad in ["", "/etc/passwd", "../x", "a/../b", "a//b", "a\\b", "./a"] {
            assert!(!is_safe_relative_path(bad), "{bad}");
        }
    }
}
