//! The evidence package on disk: the directory `report` writes and `sign` re-seals —
//! evidence.json, results.json, the rendered files, signoffs.json, manifest.json (SHA-256 of
//! every other file, and how the report was rendered) and its detached signature
//! manifest.sig, with every earlier state under history/<n>/. A package is one unit: nothing
//! is ever written inside one, only an unsigned one is replaced (when asked), and a new state
//! is staged beside it and swapped in under the folder lock (`swap`).

pub mod attestation;
pub mod seal;
pub mod sign;
pub mod signoff;
pub mod swap;
pub mod timestamp;
pub mod verify;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::atomic::parent_dir;
use crate::controls::change_records::{ChangeRecordsFile, RecordsFormat};
use crate::evidence::{LoadedEvidence, Period, Timestamp, sha256_hex};
use crate::hash::HashingWriter;
use crate::report::ReportModel;
use crate::report::diff::{PREVIOUS_PERIOD_FILE, PeriodSummary};
use crate::report::document::{DocumentSettings, Superseded};
use crate::report::render::{self, FileBody, Format, RenderError, RenderOptions, RenderedFile};
use swap::{FolderLock, LockedPackage, PackagePath, Staging};

pub const MANIFEST_FILE: &str = "manifest.json";
pub const MANIFEST_FORMAT: u32 = 1;
pub const EVIDENCE_FILE: &str = "evidence.json";
pub const RESULTS_FILE: &str = "results.json";
/// Custom HTML templates a report was rendered with, kept so it can be re-rendered.
pub const TEMPLATES_DIR: &str = "templates";
/// QA's change records (`report --change-records`), kept as given: an input of the
/// evaluation like evidence.json, hashed in the manifest and re-read by `verify`.
pub fn change_records_paths() -> [&'static str; 2] {
    RecordsFormat::ALL.map(RecordsFormat::package_path)
}

/// Earlier states of a signed package: `history/<n>/` holds the manifest (and seal) of the
/// state with n sign-offs and the files the next sign-off replaced.
pub const HISTORY_DIR: &str = "history";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub manifest_format: u32,
    pub report_id: String,
    /// The gxp-evidence version that rendered the files (re-rendering needs the same one).
    pub tool_version: String,
    pub render: RenderSettings,
    pub files: Vec<ManifestEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// How the report files were rendered, so `sign` and `verify` render them the same way.
impl ManifestEntry {
    /// Whether the file claims to be a rendering of the report (results.json, report.pdf,
    /// report.html, the CSV files, findings.ocsf.json, …), which verify must reproduce byte
    /// for byte, rather than something the report was made from (evidence.json, its
    /// attestation, inputs/, templates/) or a record of its signing (signoffs.json,
    /// timestamps/, history/). Everything not named as such is a rendering: a file slipped into
    /// the manifest, then hashed and sealed by an unwary signer, must still be one the
    /// re-rendering produces, or an auditor would take a forged table for the report's own
    /// (21 CFR 11.10(a): invalid or altered records must be discernible).
    pub fn is_rendered(&self) -> bool {
        let in_dir = |dir: &str| {
            self.path
                .strip_prefix(dir)
                .is_some_and(|rest| rest.starts_with('/'))
        };
        let input_or_record = [
            EVIDENCE_FILE,
            attestation::ATTESTATION_FILE,
            PREVIOUS_PERIOD_FILE,
            signoff::SIGNOFFS_FILE,
        ]
        .into_iter()
        .chain(change_records_paths())
        .any(|path| self.path == path)
            || [TEMPLATES_DIR, HISTORY_DIR, timestamp::TIMESTAMPS_DIR]
                .into_iter()
                .any(in_dir);
        !input_or_record
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderSettings {
    pub formats: Vec<String>,
    pub pdf_max_changes: usize,
    pub templates: TemplateSource,
    /// Whether the CSV files start with a UTF-8 byte order mark. Absent in the manifests of
    /// packages written before the option existed, whose CSV files have none.
    #[serde(default)]
    pub csv_bom: bool,
    /// The report-time parameters (owner, revision, verdict reading, rendering time). Kept
    /// with the render settings because a sign-off may change neither (verify's history
    /// check compares them state by state). Absent in packages written before they were
    /// recorded: those render as `DocumentSettings::unrecorded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentSettings>,
    /// The results.json layout (`report::RESULTS_FORMAT`). Absent in the manifests of
    /// packages written before finding ids, which re-render in layout 1, without them.
    #[serde(default = "results_format_without_ids")]
    pub results_format: u32,
}

fn results_format_without_ids() -> u32 {
    crate::report::RESULTS_FORMAT_WITHOUT_IDS
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TemplateSource {
    /// The templates built into gxp-evidence.
    Embedded,
    /// The package's own `templates/` directory (a report rendered with `--templates`).
    Package,
}

impl RenderSettings {
    pub fn new(formats: &BTreeSet<Format>, options: &RenderOptions) -> Self {
        Self {
            formats: formats.iter().map(|f| f.as_str().to_string()).collect(),
            pdf_max_changes: options.pdf_max_changes,
            templates: if options.templates.is_some() {
                TemplateSource::Package
            } else {
                TemplateSource::Embedded
            },
            csv_bom: options.csv_bom,
            document: None,
            results_format: crate::report::RESULTS_FORMAT,
        }
    }

    /// The report-time parameters the package was rendered with.
    pub fn document(&self, collected_at: Timestamp) -> DocumentSettings {
        self.document
            .clone()
            .unwrap_or_else(|| DocumentSettings::unrecorded(collected_at))
    }

    pub fn formats(&self) -> Result<BTreeSet<Format>, RenderSettingsError> {
        render::parse_formats(&self.formats.join(",")).map_err(RenderSettingsError)
    }

    /// Render options for re-rendering the package in `dir`.
    pub fn options(&self, dir: &Path) -> RenderOptions {
        RenderOptions {
            pdf_max_changes: self.pdf_max_changes,
            templates: match self.templates {
                TemplateSource::Embedded => None,
                TemplateSource::Package => Some(dir.join(TEMPLATES_DIR)),
            },
            csv_bom: self.csv_bom,
        }
    }
}

impl Manifest {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("the manifest always serializes");
        bytes.push(b'\n');
        bytes
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let manifest: Self = parse_json(bytes)?;
        ParseError::check_format("manifest_format", manifest.manifest_format, MANIFEST_FORMAT)?;
        Ok(manifest)
    }

    pub fn entry(&self, path: &str) -> Option<&ManifestEntry> {
        self.files.iter().find(|e| e.path == path)
    }
}

/// Parses one of the package's own JSON files strictly: unknown fields (where the type says
/// so) and anything after the JSON value are errors, named with their path.
fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ParseError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(ParseError::Json)?;
    deserializer.end().map_err(ParseError::Trailing)?;
    Ok(value)
}

/// Why one of the package's own JSON files (manifest.json, manifest.sig, signoffs.json)
/// cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{} (at {})", .0.inner(), .0.path())]
    Json(serde_path_to_error::Error<serde_json::Error>),
    #[error("{0}")]
    Trailing(serde_json::Error),
    #[error("{field} {found} is not supported (this version reads {supported})")]
    Format {
        field: &'static str,
        found: u32,
        supported: u32,
    },
}

impl ParseError {
    /// The file's format number must be the one this version reads.
    pub(crate) fn check_format(
        field: &'static str,
        found: u32,
        supported: u32,
    ) -> Result<(), ParseError> {
        if found == supported {
            Ok(())
        } else {
            Err(ParseError::Format {
                field,
                found,
                supported,
            })
        }
    }
}

/// The manifest's render settings name a format this version does not know.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RenderSettingsError(pub render::FormatError);

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("output directory {} already exists (use --force to replace it)", .0.display())]
    Exists(PathBuf),
    #[error("output path {} exists and is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("{} holds a signed package; --force never replaces a signed record (write the new report to another directory)", .0.display())]
    Signed(PathBuf),
    #[error("{} is not a gxp-evidence package (it has no gxp-evidence manifest.json); --force only replaces an unsigned report package (write the report to a new directory)", .0.display())]
    NotAPackage(PathBuf),
    #[error("{} is inside the gxp-evidence package {}; a package is one unit and nothing is written into it (write the report to a directory outside it)", out.display(), package.display())]
    InsidePackage { out: PathBuf, package: PathBuf },
    #[error("--out {}: {why}", out.display())]
    NotANewDirectory { out: PathBuf, why: &'static str },
    #[error("cannot resolve {}", path.display())]
    Resolve {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot lock {}", path.display())]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is missing after an interrupted write and its earlier state in {} cannot be moved back; move {} to {} by hand", package.display(), old.display(), old.display(), package.display())]
    Interrupted {
        package: PathBuf,
        old: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write output directory {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read template {}", path.display())]
    Template {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("rendering the report")]
    Render(#[source] Box<RenderStepError>),
}

/// A step of rendering into a package failed: the renderer, or writing what it rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderStepError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Write(#[from] PackageError),
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> PackageError + '_ {
    move |source| PackageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Fails early, before any work, if `out` may not be written; returns where it resolves to.
/// Nothing is written inside a package (sealed or not: a package is one unit), and `--force`
/// replaces only an unsigned package (or an empty directory), never a signed record nor a
/// directory that is not a package.
pub fn check_output_dir(out: &Path, force: bool) -> Result<PackagePath, PackageError> {
    check_output_name(out)?;
    let path = PackagePath::resolve(out)?;
    check_output(&path, force)?;
    Ok(path)
}

/// `--out` must name a directory of its own: the package replaces it (with --force) by moving
/// it aside and deleting it, which for `/`, `.`, `..` or a directory holding the working
/// directory would take the user's files with it, or fail half-way.
pub fn check_output_name(out: &Path) -> Result<(), PackageError> {
    use std::path::Component;
    let text = out.to_string_lossy();
    let names_an_entry = matches!(out.components().next_back(), Some(Component::Normal(_)))
        && !text.trim_end_matches('/').ends_with("/.");
    if !names_an_entry {
        return Err(PackageError::NotANewDirectory {
            out: out.to_path_buf(),
            why: "give the name of a new directory for the report package (not the root, `.` or `..`)",
        });
    }
    if let (Ok(out_dir), Ok(working_dir)) = (
        out.canonicalize(),
        std::env::current_dir().and_then(|dir| dir.canonicalize()),
    ) && working_dir.starts_with(&out_dir)
    {
        return Err(PackageError::NotANewDirectory {
            out: out.to_path_buf(),
            why: "the working directory is inside it; give the name of a new directory for the report package",
        });
    }
    Ok(())
}

fn check_output(path: &PackagePath, force: bool) -> Result<(), PackageError> {
    let dir = path.dir();
    if let Some(package) = dir
        .ancestors()
        .skip(1)
        .find(|a| DirKind::of(a).is_package())
    {
        return Err(PackageError::InsidePackage {
            out: dir.to_path_buf(),
            package: package.to_path_buf(),
        });
    }
    match fs::symlink_metadata(dir) {
        Ok(meta) if !meta.is_dir() => Err(PackageError::NotADirectory(dir.to_path_buf())),
        Ok(_) if !force => Err(PackageError::Exists(dir.to_path_buf())),
        Ok(_) => match DirKind::of(dir) {
            DirKind::Sealed => Err(PackageError::Signed(dir.to_path_buf())),
            DirKind::Unsealed | DirKind::Empty => Ok(()),
            DirKind::Other => Err(PackageError::NotAPackage(dir.to_path_buf())),
        },
        Err(_) => Ok(()),
    }
}

/// What a directory is, as far as writing a package goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DirKind {
    /// A package with a seal (manifest.sig): a signed record.
    Sealed,
    /// A package (a manifest.json that is a gxp-evidence manifest) without a seal.
    Unsealed,
    Empty,
    /// Anything else, or a directory that cannot be read.
    Other,
}

impl DirKind {
    fn of(dir: &Path) -> Self {
        if dir.join(seal::SEAL_FILE).exists() {
            DirKind::Sealed
        } else if fs::read(dir.join(MANIFEST_FILE))
            .is_ok_and(|bytes| Manifest::parse(&bytes).is_ok())
        {
            DirKind::Unsealed
        } else if fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none()) {
            DirKind::Empty
        } else {
            DirKind::Other
        }
    }

    fn is_package(self) -> bool {
        matches!(self, DirKind::Sealed | DirKind::Unsealed)
    }
}

/// What a writer's commit may replace: checked again under the folder lock, since another
/// process may have written or sealed the package since the writer started.
#[derive(Debug, Clone, Copy)]
enum Replacing {
    /// A new report: `check_output_dir`'s rules.
    NewReport { force: bool },
    /// A new state of the existing package (signing).
    Existing,
}

/// A package being written: files go into a staging directory beside it as they come, and
/// `commit` adds `manifest.json` (and the seal, when one is made) and swaps the new state in
/// under the folder lock (see `swap`). Dropping the writer without committing removes
/// everything, so a failure leaves nothing behind and a reader never sees a half-written
/// package.
pub struct PackageWriter {
    path: PackagePath,
    replacing: Replacing,
    /// The folder lock when the writer was made under it (`sign` holds it from verifying the
    /// package to swapping in the new state); otherwise it is taken for the commit.
    lock: Option<FolderLock>,
    staging: Staging,
    entries: Vec<ManifestEntry>,
}

impl PackageWriter {
    /// A new package at `out`, which must not exist unless `force` (see `check_output_dir`).
    pub fn create(out: &Path, force: bool) -> Result<Self, PackageError> {
        let path = check_output_dir(out, force)?;
        Self::staged_beside(path, Replacing::NewReport { force }, None)
    }

    /// A new state of the existing package at `out`, locked for the commit only.
    pub fn replace(out: &Path) -> Result<Self, PackageError> {
        Self::staged_beside(PackagePath::resolve(out)?, Replacing::Existing, None)
    }

    /// A new state of a package its caller has locked (and verified), kept locked until the
    /// commit.
    pub fn replace_locked(package: LockedPackage) -> Result<Self, PackageError> {
        let LockedPackage { path, lock } = package;
        Self::staged_beside(path, Replacing::Existing, Some(lock))
    }

    fn staged_beside(
        path: PackagePath,
        replacing: Replacing,
        lock: Option<FolderLock>,
    ) -> Result<Self, PackageError> {
        if matches!(replacing, Replacing::Existing) && !path.dir().is_dir() {
            return Err(PackageError::NotADirectory(path.dir().to_path_buf()));
        }
        let parent = path.parent().to_path_buf();
        fs::create_dir_all(&parent).map_err(io_error(&parent))?;
        let staging = match &lock {
            Some(held) => Staging::create(&path, held),
            None => {
                let held = FolderLock::acquire(&parent)?;
                swap::recover_locked(&parent)?;
                Staging::create(&path, &held)
            }
        }
        .map_err(io_error(&parent))?;
        Ok(Self {
            path,
            replacing,
            lock,
            staging,
            entries: Vec::new(),
        })
    }

    pub fn add(&mut self, file: &RenderedFile) -> Result<(), PackageError> {
        self.add_bytes(&file.name, &file.bytes)
    }

    /// Adds a rendered file, writing it as it is rendered and hashing it on the way (a
    /// streamed file is never held whole in memory).
    pub fn add_file(&mut self, file: &FileBody) -> Result<(), PackageError> {
        let path = self.staged(&file.name)?;
        let written = (|| {
            let mut out = std::io::BufWriter::with_capacity(
                256 * 1024,
                HashingWriter::new(fs::File::create(&path)?),
            );
            file.write_to(&mut out)?;
            let (file, sha256, bytes) = out.into_inner().map_err(|err| err.into_error())?.finish();
            file.sync_all()?;
            Ok((sha256, bytes))
        })();
        let (sha256, bytes) = written.map_err(io_error(&path))?;
        self.entries.push(ManifestEntry {
            path: file.name.clone(),
            sha256,
            bytes,
        });
        Ok(())
    }

    pub fn add_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<(), PackageError> {
        self.add_hashed(name, bytes, sha256_hex(bytes))
    }

    /// `add_bytes` for bytes whose SHA-256 the caller has just computed.
    pub fn add_hashed(
        &mut self,
        name: &str,
        bytes: &[u8],
        sha256: String,
    ) -> Result<(), PackageError> {
        write_file(&self.staged(name)?, bytes)?;
        self.entries.push(ManifestEntry {
            path: name.to_string(),
            sha256,
            bytes: bytes.len() as u64,
        });
        Ok(())
    }

    /// Adds an existing file whose hash is already known (verified) without copying its
    /// bytes: a hard link where the file system allows it, a copy otherwise.
    pub fn link(&mut self, name: &str, source: &Path, sha256: &str) -> Result<(), PackageError> {
        let target = self.staged(name)?;
        if fs::hard_link(source, &target).is_err() {
            fs::copy(source, &target)
                .and_then(|_| fs::File::open(&target)?.sync_all())
                .map_err(io_error(source))?;
        }
        let bytes = fs::metadata(&target).map_err(io_error(&target))?.len();
        self.entries.push(ManifestEntry {
            path: name.to_string(),
            sha256: sha256.to_string(),
            bytes,
        });
        Ok(())
    }

    fn staged(&self, name: &str) -> Result<PathBuf, PackageError> {
        let path = self.staging.new_state().join(name);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_error(dir))?;
        }
        Ok(path)
    }

    /// Writes `manifest.json`, lets `seal` sign its bytes (returning the bytes of
    /// `manifest.sig`, or none for an unsigned draft), and moves the package into place.
    pub fn commit<E: From<PackageError>>(
        mut self,
        report_id: &str,
        render: RenderSettings,
        seal: impl FnOnce(&[u8]) -> Result<Option<Vec<u8>>, E>,
    ) -> Result<Manifest, E> {
        self.entries.sort_by(|a, b| a.path.cmp(&b.path));
        let manifest = Manifest {
            manifest_format: MANIFEST_FORMAT,
            report_id: report_id.to_string(),
            tool_version: crate::TOOL_VERSION.to_string(),
            render,
            files: std::mem::take(&mut self.entries),
        };
        let manifest_bytes = manifest.to_bytes();
        let new_state = self.staging.new_state();
        write_file(&new_state.join(MANIFEST_FILE), &manifest_bytes)?;
        if let Some(seal_bytes) = seal(&manifest_bytes)? {
            write_file(&new_state.join(seal::SEAL_FILE), &seal_bytes)?;
        }
        self.move_into_place()?;
        Ok(manifest)
    }

    fn move_into_place(self) -> Result<(), PackageError> {
        let lock = match self.lock {
            Some(lock) => lock,
            None => {
                let lock = FolderLock::acquire(self.path.parent())?;
                swap::recover_locked(self.path.parent())?;
                lock
            }
        };
        match self.replacing {
            Replacing::NewReport { force } => check_output(&self.path, force)?,
            Replacing::Existing if !self.path.dir().is_dir() => {
                return Err(PackageError::NotADirectory(self.path.dir().to_path_buf()));
            }
            Replacing::Existing => {}
        }
        self.staging.swap_into_place(&self.path, &lock)
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), PackageError> {
    crate::atomic::write_synced(path, bytes).map_err(io_error(path))
}

/// What a new report is made of: the evidence, the collector's attestation of it (checked by
/// the caller: `attestation::load_for`), the change records as given, and the report-time
/// parameters (owner, revision, verdict reading, rendering time).
pub struct ReportInputs<'a> {
    pub evidence: LoadedEvidence,
    pub attestation: Option<&'a attestation::Attestation>,
    pub change_records: Option<&'a ChangeRecordsFile>,
    pub document: &'a DocumentSettings,
    /// The previous period's report, summarised (`report --previous`, checked by the caller:
    /// `PeriodSummary::check_precedes`): kept as inputs/previous-period.json.
    pub previous_period: Option<&'a PeriodSummary>,
}

/// Writes a new, unsigned report package: evidence.json, the collector's attestation of it
/// when there is one (checked by the caller: `attestation::load_for`), the change records
/// file as given when there is one, results.json and the
/// rendered formats, an empty signoffs.json, the custom templates if any, and the manifest.
/// Returns the report model (for the verdict and the summary line).
pub fn create_report_package(
    out: &Path,
    force: bool,
    inputs: ReportInputs,
    formats: &BTreeSet<Format>,
    options: &RenderOptions,
) -> Result<ReportModel, PackageError> {
    let ReportInputs {
        evidence,
        attestation,
        change_records,
        document,
        previous_period,
    } = inputs;
    // Peak memory matters for a month of a busy account: archive the evidence bytes first
    // and free them, then free the parsed snapshot once the report model is built.
    let LoadedEvidence {
        snapshot,
        bytes,
        sha256,
    } = evidence;
    let mut package = PackageWriter::create(out, force)?;
    package.add_hashed(EVIDENCE_FILE, &bytes, sha256.clone())?;
    drop(bytes);
    if let Some(attestation) = attestation {
        package.add_bytes(attestation::ATTESTATION_FILE, &attestation.to_bytes())?;
    }
    if let Some(records) = change_records {
        package.add_hashed(
            records.format.package_path(),
            &records.bytes,
            records.sha256.clone(),
        )?;
    }
    if let Some(previous) = previous_period {
        package.add_bytes(PREVIOUS_PERIOD_FILE, &previous.to_bytes())?;
    }
    let mut model = ReportModel::from_inputs(&snapshot, &sha256, change_records, Vec::new())
        .with_document(document)
        .with_previous_period(previous_period);
    model.evidence_attestation = attestation.map(attestation::Attestation::manifestation);
    drop(snapshot);
    crate::memory::release_freed();
    if let Some(dir) = &options.templates {
        for (name, _) in render::html::TEMPLATES {
            let path = dir.join(name);
            let text = render::html::read_template_file(&path)
                .map_err(|source| PackageError::Template { path, source })?;
            if let Some(text) = text {
                package.add_bytes(&format!("{TEMPLATES_DIR}/{name}"), &text)?;
            }
        }
    }
    package.add_bytes(
        signoff::SIGNOFFS_FILE,
        &signoff::SignoffFile::new(&model.report_id, Vec::new()).to_bytes(),
    )?;
    render::render_concurrently(&model, formats, options, |file| {
        package.add_file(&file).map_err(RenderStepError::from)
    })
    .map_err(|step| PackageError::Render(Box::new(step)))?;
    let render = RenderSettings {
        document: Some(document.clone()),
        ..RenderSettings::new(formats, options)
    };
    package.commit(&model.report_id, render, |_| Ok::<_, PackageError>(None))?;
    Ok(model)
}

/// The report a new revision of `system_name`'s report on `period` supersedes (`report
/// --supersedes DIR`). The package must verify (hashes, seal, sign-offs, re-evaluation): a
/// revision's document control names its predecessor, so the predecessor's id and revision
/// must be the ones its evidence gives, not whatever an edited manifest says. It must report
/// on the same period (another period is a new report, not a revision) of the same system.
pub fn read_superseded(
    dir: &Path,
    period: &Period,
    system_name: &str,
) -> Result<Superseded, SupersedeError> {
    let options = verify::VerifyOptions {
        trusted_keys: None,
        signers: None,
        trusted_tsa: None,
        // An unsigned draft may be superseded too: it must be intact, not yet signed.
        purpose: verify::Purpose::BeforeSigning,
        max_file_bytes: crate::evidence::load::DEFAULT_MAX_EVIDENCE_BYTES,
    };
    let verification = verify::verify(dir, &options).map_err(|source| SupersedeError::Read {
        dir: dir.to_path_buf(),
        message: source.message,
    })?;
    // `verify` hands over the package only when every check passed.
    let Some(package) = verification.package.as_ref() else {
        let failed: Vec<&str> = verification.failed_subjects().into_iter().collect();
        return Err(SupersedeError::Invalid {
            dir: dir.to_path_buf(),
            failed: failed.join(", "),
        });
    };
    let model = &package.model;
    if model.period != *period {
        return Err(SupersedeError::OtherPeriod {
            dir: dir.to_path_buf(),
            report_id: model.report_id.clone(),
            theirs: model.period.label(),
            ours: period.label(),
        });
    }
    if model.system_name != system_name {
        return Err(SupersedeError::OtherSystem {
            dir: dir.to_path_buf(),
            report_id: model.report_id.clone(),
            theirs: model.system_name.clone(),
            ours: system_name.to_string(),
        });
    }
    Ok(Superseded {
        report_id: model.report_id.clone(),
        revision: model.document.revision,
    })
}

/// Why `--supersedes` cannot name the package given.
#[derive(Debug, thiserror::Error)]
pub enum SupersedeError {
    #[error("--supersedes: cannot read the package {}: {message}", dir.display())]
    Read { dir: PathBuf, message: String },
    #[error("--supersedes {}: the package does not verify (failed: {failed}); run gxp-evidence verify on it (nothing written)", dir.display())]
    Invalid { dir: PathBuf, failed: String },
    #[error("--supersedes {}: report {report_id} covers the period {theirs}, this report {ours}; a revision re-reports the same period (nothing written)", dir.display())]
    OtherPeriod {
        dir: PathBuf,
        report_id: String,
        theirs: String,
        ours: String,
    },
    #[error("--supersedes {}: report {report_id} is about the system {theirs:?}, this report about {ours:?}; a revision re-reports the same system (nothing written)", dir.display())]
    OtherSystem {
        dir: PathBuf,
        report_id: String,
        theirs: String,
        ours: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_output_dir(
        out: &Path,
        report_id: &str,
        files: &[RenderedFile],
        force: bool,
    ) -> Result<Manifest, PackageError> {
        let mut package = PackageWriter::create(out, force)?;
        for file in files {
            package.add(file)?;
        }
        package.commit(report_id, settings(), |_| Ok::<_, PackageError>(None))
    }

    fn settings() -> RenderSettings {
        RenderSettings::new(&BTreeSet::from([Format::Csv]), &RenderOptions::default())
    }

    fn files() -> Vec<RenderedFile> {
        vec![
            RenderedFile {
                name: "b.csv".into(),
                bytes: b"x".to_vec(),
            },
            RenderedFile {
                name: "a.json".into(),
                bytes: b"{}".to_vec(),
            },
        ]
    }

    #[test]
    fn writes_files_and_sorted_manifest_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("nested/report");
        let manifest = write_output_dir(&out, "R1", &files(), false).unwrap();
        assert_eq!(manifest.files[0].path, "a.json");
        assert_eq!(manifest.files[1].sha256, sha256_hex(b"x"));
        assert!(out.join(MANIFEST_FILE).is_file());
        let err = write_output_dir(&out, "R1", &files(), false).unwrap_err();
        assert!(matches!(err, PackageError::Exists(_)));
        write_output_dir(&out, "R2", &files()[..1], true).unwrap();
        assert!(
            !out.join("a.json").exists(),
            "--force replaces the directory, it does not merge"
        );
        let leftovers: Vec<_> = fs::read_dir(out.parent().unwrap()).unwrap().collect();
        assert_eq!(
            leftovers.len(),
            1,
            "no staging or backup directories are left behind"
        );
    }

    /// The inputs and the signing record are not renderings; everything else is, whatever its
    /// name (a file under a directory named like an input's is not an input).
    #[test]
    fn only_inputs_and_records_are_not_renderings() {
        let entry = |path: &str| ManifestEntry {
            path: path.to_string(),
            sha256: String::new(),
            bytes: 0,
        };
        for kept in [
            "evidence.json",
            "evidence.attestation.json",
            "signoffs.json",
            "inputs/change-records.csv",
            "inputs/previous-period.json",
            "templates/report.html",
            "history/0/report.pdf",
            "timestamps/1.tsr",
        ] {
            assert!(!entry(kept).is_rendered(), "{kept}");
        }
        for rendered in [
            "results.json",
            "report.pdf",
            "controls-not-evaluated.csv",
            "findings.ocsf.json",
            "notes.txt",
            "inputs/other.json",
            "historyx/report.pdf",
        ] {
            assert!(entry(rendered).is_rendered(), "{rendered}");
        }
    }

    /// A package written before `csv_bom` existed has CSV files without a byte order mark:
    /// its manifest re-renders them so (sign and verify), and a new one keeps the choice.
    #[test]
    fn csv_bom_defaults_to_off_for_older_manifests_and_round_trips() {
        let older = br#"{"formats":["csv"],"pdf_max_changes":5000,"templates":"embedded"}"#;
        let old: RenderSettings = serde_json::from_slice(older).unwrap();
        assert!(!old.csv_bom);
        assert!(!old.options(Path::new(".")).csv_bom);
        let current = settings();
        assert!(current.csv_bom, "on by default");
        let bytes = serde_json::to_vec(&current).unwrap();
        let read: RenderSettings = serde_json::from_slice(&bytes).unwrap();
        assert!(read.options(Path::new(".")).csv_bom);
    }
}
