//! Signing a package: verify it first (an invalid package is never signed), append a sign-off
//! record chained to the previous one, re-render every format with the manifestations of all
//! sign-offs, keep the replaced files and the old manifest and seal under history/<n>/, and
//! re-seal the new manifest — all written beside the package and swapped in at once.

use std::fs;
use std::path::{Path, PathBuf};

use super::seal::{SEAL_FILE, Seal, SealProblem};
use super::signoff::{
    IdentityFieldError, LinkProblem, SIGNOFFS_FILE, SignoffFile, SignoffRecord,
    check_identity_field,
};
use super::swap::PackagePath;
use super::timestamp::{TimestampRuleError, timestamp_path};
use super::verify::{Purpose, VerifyError, VerifyOptions, verify};
use super::{
    HISTORY_DIR, MANIFEST_FILE, PackageError, PackageWriter, RenderSettingsError, RenderStepError,
};
use crate::evidence::{Timestamp, sha256_hex};
use crate::report::ReportModel;
use crate::report::render::{self, RenderError};
use crate::signing::registry::{IdentityProblem, SignerRegistry};
use crate::signing::timestamp::{TimestampAuthority, TimestampProblem, VerifiedTimestamp};
use crate::signing::{self, Signer, SigningError};

type Result<T, E = SignError> = std::result::Result<T, E>;

/// Why a package was not signed. Nothing is written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error(transparent)]
    Identity(#[from] IdentityFieldError),
    #[error(transparent)]
    Unreadable(#[from] VerifyError),
    #[error("refusing to sign {}: the package does not verify:\n{}", dir.display(), problems.join("\n"))]
    DoesNotVerify { dir: PathBuf, problems: Vec<String> },
    #[error("a valid package always carries its verified state")]
    NoVerifiedState,
    #[error(
        "{user_id} already signed this report as `{meaning}` ({label}); a second identical sign-off is refused"
    )]
    Duplicate {
        user_id: String,
        meaning: String,
        label: String,
    },
    #[error(
        "the signer registry {file} does not let this key sign as {}:\n{}",
        claimed,
        problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")
    )]
    NotRegistered {
        file: String,
        claimed: String,
        problems: Vec<IdentityProblem>,
    },
    #[error(transparent)]
    Clock(#[from] ClockError),
    #[error("the clock is out of range")]
    ClockOutOfRange,
    #[error(
        "this machine's clock ({now}) is earlier than the previous sign-off ({previous}); fix the clock before signing"
    )]
    BeforePrevious { now: String, previous: String },
    #[error(
        "this machine's clock ({now}) is earlier than the evidence collection ({collected}); fix the clock before signing"
    )]
    BeforeCollection { now: String, collected: String },
    #[error(
        "this machine's clock ({now}) is earlier than the rendering of the report ({rendered}); fix the clock before signing"
    )]
    BeforeRendering { now: String, rendered: String },
    #[error("the new sign-off would not follow the chain: it {0}")]
    Chain(LinkProblem),
    #[error("the new seal would not cover the package: {0}")]
    Seal(SealProblem),
    #[error(transparent)]
    RenderSettings(#[from] RenderSettingsError),
    #[error(transparent)]
    Signing(#[from] SigningError),
    #[error("re-rendering the report")]
    Render(#[source] RenderStepError),
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error("{} changed while it was being signed; nothing was written, sign again", .0.display())]
    ChangedMeanwhile(PathBuf),
    #[error("no timestamp from the TSA at {url}; nothing was written")]
    TsaUnreachable {
        url: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("the TSA at {url} gave no usable timestamp ({problem}); nothing was written")]
    Timestamp {
        url: String,
        problem: TimestampRuleError,
    },
}

/// The signing clock cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{TEST_NOW_VAR}={text} is not an RFC 3339 time")]
pub struct ClockError {
    text: String,
    source: chrono::ParseError,
}

/// Who signs and what their signature means.
#[derive(Debug, Clone)]
pub struct SignRequest {
    pub printed_name: String,
    pub user_id: String,
    pub role: String,
    pub meaning: String,
    /// QA's signer registry (`sign --signers`): the key must be bound to this name, user id
    /// and role at the signing time, or nothing is signed.
    pub signers: Option<SignerRegistry>,
}

impl SignRequest {
    pub fn check(&self) -> Result<()> {
        for (flag, value) in [
            ("--name", &self.printed_name),
            ("--user-id", &self.user_id),
            ("--role", &self.role),
            ("--meaning", &self.meaning),
        ] {
            check_identity_field(flag, value)?;
        }
        Ok(())
    }
}

/// The environment variable that sets the signing clock in debug builds (the test suite):
/// an RFC 3339 time, e.g. `2026-11-02T09:00:00Z`.
pub const TEST_NOW_VAR: &str = "GXP_EVIDENCE_TEST_NOW";

/// The time of a new sign-off: this machine's clock. Debug builds honour
/// `GXP_EVIDENCE_TEST_NOW` so the tests sign at fixed times; a release build never reads it,
/// so no one can tell it to backdate a signature.
pub fn now() -> Result<chrono::DateTime<chrono::Utc>, ClockError> {
    #[cfg(debug_assertions)]
    if let Some(value) = std::env::var_os(TEST_NOW_VAR) {
        let text = value.to_string_lossy();
        return chrono::DateTime::parse_from_rfc3339(&text)
            .map(|time| time.with_timezone(&chrono::Utc))
            .map_err(|source| ClockError {
                text: text.into_owned(),
                source,
            });
    }
    Ok(chrono::Utc::now())
}

/// What signing produced.
pub struct Signed {
    pub record: SignoffRecord,
    /// The trusted timestamp of the new sign-off (`sign --tsa`), as checked before writing.
    pub timestamp: Option<VerifiedTimestamp>,
    pub model: ReportModel,
    /// Files the new state replaced (their earlier versions are under history/<n>/).
    pub replaced: Vec<String>,
}

/// Signs the package in `dir` as `request` with `signer`, at the time `clock` gives once the
/// package is locked and verified (UTC, whole seconds): a signer who waited for another one
/// signs at the time it signs, never before the sign-off it waited for. `max_file_bytes` bounds
/// what verifying the package reads into memory (`VerifyOptions::max_file_bytes`).
pub fn sign(
    dir: &Path,
    request: &SignRequest,
    signer: &Signer,
    max_file_bytes: u64,
    clock: impl FnOnce() -> Result<chrono::DateTime<chrono::Utc>, ClockError>,
) -> Result<Signed> {
    sign_timestamped(dir, request, signer, max_file_bytes, clock, None)
}

/// `sign`, and when `tsa` is given, an RFC 3161 timestamp of the new sign-off from it, kept
/// as `timestamps/<n>.tsr` (see `package::timestamp`). The TSA's answer is checked with the
/// rule verify applies (`SignoffRecord::check_timestamp`) and must echo the request's nonce;
/// any failure leaves the package as it was.
pub fn sign_timestamped(
    dir: &Path,
    request: &SignRequest,
    signer: &Signer,
    max_file_bytes: u64,
    clock: impl FnOnce() -> Result<chrono::DateTime<chrono::Utc>, ClockError>,
    tsa: Option<&dyn TimestampAuthority>,
) -> Result<Signed> {
    request.check()?;
    // One signer at a time per archive folder, whichever path (a symlink, the real one) names
    // the package; the manifest is compared again just before the new state is swapped in.
    let locked = PackagePath::resolve(dir)?.lock()?;
    let resolved = locked.dir().to_path_buf();
    let dir = resolved.as_path();

    let verification = verify(
        dir,
        &VerifyOptions {
            trusted_keys: None,
            // With a registry, the earlier sign-offs must be its signers' too: no one
            // countersigns an impostor.
            signers: request.signers.as_ref(),
            trusted_tsa: None,
            purpose: Purpose::BeforeSigning,
            max_file_bytes,
        },
    )?;
    if !verification.is_valid() {
        let problems: Vec<String> = verification.failures().map(|c| format!("  {c}")).collect();
        return Err(SignError::DoesNotVerify {
            dir: dir.to_path_buf(),
            problems,
        });
    }
    let package = verification.package.ok_or(SignError::NoVerifiedState)?;
    // What verify freed goes back to the system before the report is rendered again, so the
    // two renderings do not add up in the footprint.
    crate::memory::release_freed();

    let chain = &package.signoffs.signoffs;
    if let Some(same) = chain
        .iter()
        .find(|r| r.user_id == request.user_id && r.meaning == request.meaning)
    {
        return Err(SignError::Duplicate {
            user_id: request.user_id.clone(),
            meaning: request.meaning.clone(),
            label: same.label(),
        });
    }
    let signed_at = Timestamp(
        chrono::DateTime::from_timestamp(clock()?.timestamp(), 0)
            .ok_or(SignError::ClockOutOfRange)?,
    );
    let report_id = package.manifest.report_id.clone();
    let mut record = SignoffRecord {
        sequence: chain.len() as u32 + 1,
        report_id: report_id.clone(),
        printed_name: request.printed_name.clone(),
        user_id: request.user_id.clone(),
        role: request.role.clone(),
        meaning: request.meaning.clone(),
        signed_at,
        evidence_sha256: package.evidence_sha256.clone(),
        results_sha256: package.results_sha256.clone(),
        previous_signoff_sha256: chain.last().map(SignoffRecord::digest),
        key: signer.key_info().clone(),
        unencrypted_key_reason: signer.unencrypted_reason().map(str::to_string),
        signature: String::new(),
    };
    if let Some(registry) = &request.signers {
        let problems = registry.check(&record.key, record.claimed_identity(), signed_at);
        if !problems.is_empty() {
            return Err(SignError::NotRegistered {
                file: registry.file().to_string(),
                claimed: record.label(),
                problems,
            });
        }
    }
    // The chain rule verify applies: the new record follows the last one (a clock behind the
    // last sign-off is the one way it can fail).
    if let Some(problem) = record
        .follows(chain.last(), chain.len() + 1, &package.signoffs.report_id)
        .into_iter()
        .next()
    {
        return Err(match problem {
            LinkProblem::Earlier {
                signed_at,
                previous_signed_at,
                ..
            } => SignError::BeforePrevious {
                now: signed_at.display_utc(),
                previous: previous_signed_at.display_utc(),
            },
            problem => SignError::Chain(problem),
        });
    }
    let collected_at = package.collected_at;
    if signed_at < collected_at {
        return Err(SignError::BeforeCollection {
            now: signed_at.display_utc(),
            collected: collected_at.display_utc(),
        });
    }
    // A signature is applied to a record that exists (21 CFR 11.70: linked to its record):
    // it cannot be older than the report's rendering.
    let rendered_at = package.model.document.rendered_at;
    if signed_at < rendered_at {
        return Err(SignError::BeforeRendering {
            now: signed_at.display_utc(),
            rendered: rendered_at.display_utc(),
        });
    }

    record.signature = signing::encode_signature(&signer.sign(&record.statement())?);
    let timestamp = tsa.map(|tsa| stamp(&record, tsa)).transpose()?;
    let mut records = chain.clone();
    records.push(record.clone());
    let signoffs = SignoffFile::new(&report_id, records);

    // The model verify evaluated, with one more sign-off: the evidence is not evaluated again.
    let mut model = package.model;
    model.signoffs = signoffs.manifestations();
    let old = &package.manifest;
    let formats = old.render.formats()?;
    let options = old.render.options(dir);

    let mut writer = PackageWriter::replace_locked(locked)?;
    // Files whose bytes changed are written (their old versions go to history); files that
    // re-render to the same bytes (results.json, most CSVs) are linked from the package below.
    let mut replaced = Vec::new();
    let mut write_if_changed = |name: &str, bytes: &[u8]| -> Result<(), RenderStepError> {
        let sha256 = sha256_hex(bytes);
        match old.entry(name) {
            Some(entry) if entry.sha256 == sha256 => return Ok(()),
            Some(_) => {
                replaced.push(name.to_string());
            }
            None => {}
        }
        writer.add_hashed(name, bytes, sha256)?;
        Ok(())
    };
    write_if_changed(SIGNOFFS_FILE, &signoffs.to_bytes()).map_err(|err| match err {
        RenderStepError::Write(err) => SignError::Package(err),
        err => SignError::Render(err),
    })?;
    if let Some((response, _)) = &timestamp {
        writer.add_bytes(&timestamp_path(record.sequence), response)?;
    }
    render::render_concurrently(&model, &formats, &options, |file| {
        let (sha256, _) = file
            .sha256()
            .map_err(|err| RenderError::Render(file.name.clone(), err))?;
        match old.entry(&file.name) {
            Some(entry) if entry.sha256 == sha256 => return Ok(()),
            Some(_) => replaced.push(file.name.clone()),
            None => {}
        }
        writer.add_file(&file)?;
        Ok(())
    })
    .map_err(SignError::Render)?;

    let state = format!("{HISTORY_DIR}/{}", chain.len());
    for entry in &old.files {
        let source = dir.join(&entry.path);
        if replaced.contains(&entry.path) {
            writer.link(&format!("{state}/{}", entry.path), &source, &entry.sha256)?;
        } else {
            writer.link(&entry.path, &source, &entry.sha256)?;
        }
    }
    writer.add_bytes(&format!("{state}/{MANIFEST_FILE}"), &package.manifest_bytes)?;
    if let Some(seal) = &package.seal_bytes {
        writer.add_bytes(&format!("{state}/{SEAL_FILE}"), seal)?;
    }

    writer.commit(&report_id, old.render.clone(), |manifest_bytes| {
        let mut seal = Seal::unsigned(
            &report_id,
            sha256_hex(manifest_bytes),
            &signoffs.signoffs,
            signer.key_info().clone(),
        );
        // The seal rule verify applies: it covers these manifest bytes and the new chain.
        if let Some(problem) = seal
            .covers(manifest_bytes, &report_id, &signoffs.signoffs)
            .into_iter()
            .next()
        {
            return Err(SignError::Seal(problem));
        }
        seal.signature = signing::encode_signature(&signer.sign(&seal.statement())?);
        let now_on_disk = fs::read(dir.join(MANIFEST_FILE)).ok();
        if now_on_disk.as_deref() != Some(package.manifest_bytes.as_slice()) {
            return Err(SignError::ChangedMeanwhile(dir.to_path_buf()));
        }
        Ok(Some(seal.to_bytes()))
    })?;
    Ok(Signed {
        record,
        timestamp: timestamp.map(|(_, stamp)| stamp),
        model,
        replaced,
    })
}

/// Asks `tsa` for a timestamp of `record` and checks its answer: the TSA's response bytes
/// (kept as they came) and what they were found to say.
fn stamp(
    record: &SignoffRecord,
    tsa: &dyn TimestampAuthority,
) -> Result<(Vec<u8>, VerifiedTimestamp)> {
    let problem = |problem: TimestampRuleError| SignError::Timestamp {
        url: tsa.url().to_string(),
        problem,
    };
    let request = record.timestamp_request().map_err(|p| problem(p.into()))?;
    let response = tsa
        .request(request.der())
        .map_err(|source| SignError::TsaUnreachable {
            url: tsa.url().to_string(),
            source,
        })?;
    let verified = record.check_timestamp(&response).map_err(problem)?;
    request
        .check_nonce(&verified)
        .map_err(|p: TimestampProblem| problem(p.into()))?;
    Ok((response, verified))
}
