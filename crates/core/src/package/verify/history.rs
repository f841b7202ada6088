//! The history check: each earlier state under history/<k>/ is still what its manifest
//! hashed, its seal holds and covers the first k sign-offs of today's chain
//! (`Seal::covers_manifest`, `Seal::covers_chain`) made with sign-off k's key (so the trust
//! and identity checks of that sign-off cover the state), and its signoffs.json holds them;
//! and from each state to the next, the templates and render settings stayed the same.

use std::collections::{BTreeMap, BTreeSet};

use super::{Outcome, Verifier};
use crate::package::seal::{SEAL_FILE, Seal, SealProblem};
use crate::package::signoff::{SIGNOFFS_FILE, SignoffFile};
use crate::package::{HISTORY_DIR, MANIFEST_FILE, Manifest, TEMPLATES_DIR};

impl Verifier<'_> {
    /// Each earlier state under history/<k>/ (k sign-offs) must still be exactly what its
    /// manifest hashed, its seal must hold, and its sign-offs must be the first k of today's.
    pub(super) fn check_history(
        &mut self,
        current: &SignoffFile,
        current_manifest: Option<&Manifest>,
    ) {
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
        for k in 0..count {
            if let (Some(before), Some(after)) = (&manifests[k], &manifests[k + 1]) {
                self.check_rendering_kept(k, current, before, after);
            }
        }
    }

    /// What sign-off k+1 changed from the state with k sign-offs: a sign-off adds its record and
    /// re-renders the report with the same templates and settings. Templates or settings
    /// changed from one state to the next would let the last signer re-render every
    /// manifestation — the earlier signers' included — as they like, and re-seal it: the
    /// re-rendering check then compares the files with a rendering of their own templates.
    fn check_rendering_kept(
        &mut self,
        k: usize,
        current: &SignoffFile,
        before: &Manifest,
        after: &Manifest,
    ) {
        let count = current.signoffs.len();
        let label = current.signoffs[k].label();
        let after_manifest = if k + 1 == count {
            MANIFEST_FILE.to_string()
        } else {
            format!("{HISTORY_DIR}/{}/{MANIFEST_FILE}", k + 1)
        };
        if before.render != after.render {
            self.record(
                Outcome::Fail,
                &after_manifest,
                format!(
                    "{label} changed the render settings of the state with {k} sign-off(s): a sign-off never changes how the report is rendered"
                ),
            );
        }
        let template = |m: &Manifest| -> BTreeMap<String, String> {
            m.files
                .iter()
                .filter(|e| e.path.starts_with(&format!("{TEMPLATES_DIR}/")))
                .map(|e| (e.path.clone(), e.sha256.clone()))
                .collect()
        };
        let (old, new) = (template(before), template(after));
        for path in old.keys().chain(new.keys()).collect::<BTreeSet<_>>() {
            if old.get(path) != new.get(path) {
                self.record(
                    Outcome::Fail,
                    path,
                    format!(
                        "{} by {label}: a sign-off never changes the report's templates (the state with {k} sign-off(s) had {})",
                        if new.contains_key(path) { "changed" } else { "removed" },
                        old.get(path)
                            .map(|sha| format!("SHA-256 {sha}"))
                            .unwrap_or_else(|| "no such template".into())
                    ),
                );
            }
        }
    }

    pub(super) fn check_history_state(
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
                    if seal.covers_manifest(&bytes).is_err() {
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
    pub(super) fn resolve_in_history(
        &self,
        path: &str,
        k: usize,
        manifests: &[Option<Manifest>],
    ) -> String {
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
}

/// Why the seal of the state with `k` sign-offs (0 < k < today's count) is not that state's:
/// the state was sealed by sign-off k's signer over the first k sign-offs of today's chain.
/// A valid signature alone does not show it — a later signer can seal anything with their
/// own key.
pub(super) fn history_seal_problems(seal: &Seal, k: usize, current: &SignoffFile) -> Vec<String> {
    let Some(last) = k.checked_sub(1).and_then(|i| current.signoffs.get(i)) else {
        return Vec::new();
    };
    seal.covers_chain(&current.report_id, &current.signoffs[..k])
        .into_iter()
        .map(|problem| match problem {
            SealProblem::SignoffCount { sealed, .. } => {
                format!("seals {sealed} sign-off(s), not the first {k} of today's chain")
            }
            SealProblem::OtherChain => format!(
                "seals another chain: its last sign-off is not today's {}",
                last.label()
            ),
            SealProblem::Key { sealed, signer } => format!(
                "sealed with key {sealed}, but {} was made with key {signer}",
                last.label()
            ),
            other => other.to_string(),
        })
        .collect()
}
