//! Signing a package: verify it first (an invalid package is never signed), append a sign-off
//! record chained to the previous one, re-render every format with the manifestations of all
//! sign-offs, keep the replaced files and the old manifest and seal under history/<n>/, and
//! re-seal the new manifest — all written beside the package and swapped in at once.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::seal::{SEAL_FILE, Seal};
use super::signoff::{SIGNOFFS_FILE, SignoffFile, SignoffRecord, check_identity_field};
use super::verify::{Purpose, VerifyOptions, verify};
use super::{HISTORY_DIR, MANIFEST_FILE, PackageWriter, parent_dir};
use crate::evidence::{Timestamp, sha256_hex};
use crate::report::{ReportModel, render};
use crate::signing::{self, Signer};

/// Who signs and what their signature means.
#[derive(Debug, Clone)]
pub struct SignRequest {
    pub printed_name: String,
    pub user_id: String,
    pub role: String,
    pub meaning: String,
}

impl SignRequest {
    pub fn check(&self) -> Result<()> {
        for (flag, value) in [
            ("--name", &self.printed_name),
            ("--user-id", &self.user_id),
            ("--role", &self.role),
            ("--meaning", &self.meaning),
        ] {
            check_identity_field(flag, value).map_err(anyhow::Error::msg)?;
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
pub fn now() -> Result<chrono::DateTime<chrono::Utc>> {
    #[cfg(debug_assertions)]
    if let Some(value) = std::env::var_os(TEST_NOW_VAR) {
        let text = value.to_string_lossy();
        return chrono::DateTime::parse_from_rfc3339(&text)
            .map(|time| time.with_timezone(&chrono::Utc))
            .with_context(|| format!("{TEST_NOW_VAR}={text} is not an RFC 3339 time"));
    }
    Ok(chrono::Utc::now())
}

/// What signing produced.
pub struct Signed {
    pub record: SignoffRecord,
    pub model: ReportModel,
    /// Files the new state replaced (their earlier versions are under history/<n>/).
    pub replaced: Vec<String>,
}

/// Signs the package in `dir` as `request` with `signer`, at the time `clock` gives once the
/// package is locked and verified (UTC, whole seconds): a signer who waited for another one
/// signs at the time it signs, never before the sign-off it waited for.
pub fn sign(
    dir: &Path,
    request: &SignRequest,
    signer: &Signer,
    clock: impl FnOnce() -> Result<chrono::DateTime<chrono::Utc>>,
) -> Result<Signed> {
    request.check()?;
    // One signer at a time per archive folder; the manifest is compared again just before
    // the new state is swapped in.
    let parent = parent_dir(dir);
    let lock = fs::File::open(&parent)
        .with_context(|| format!("cannot open {} to lock it", parent.display()))?;
    lock.lock()
        .with_context(|| format!("cannot lock {}", parent.display()))?;

    let verification = verify(
        dir,
        &VerifyOptions {
            trusted_keys: None,
            purpose: Purpose::BeforeSigning,
        },
    )?;
    if !verification.is_valid() {
        let problems: Vec<String> = verification.failures().map(|c| format!("  {c}")).collect();
        bail!(
            "refusing to sign {}: the package does not verify:\n{}",
            dir.display(),
            problems.join("\n")
        );
    }
    let package = verification
        .package
        .context("a valid package always carries its verified state")?;

    let chain = &package.signoffs.signoffs;
    if let Some(same) = chain
        .iter()
        .find(|r| r.user_id == request.user_id && r.meaning == request.meaning)
    {
        bail!(
            "{} already signed this report as `{}` ({}); a second identical sign-off is refused",
            request.user_id,
            request.meaning,
            same.label()
        );
    }
    let signed_at = Timestamp(
        chrono::DateTime::from_timestamp(clock()?.timestamp(), 0)
            .context("the clock is out of range")?,
    );
    if let Some(last) = chain.last().filter(|last| signed_at < last.signed_at) {
        bail!(
            "this machine's clock ({}) is earlier than the previous sign-off ({}); fix the clock before signing",
            signed_at.display_utc(),
            last.signed_at.display_utc()
        );
    }
    let collected_at = package.snapshot.collected_at;
    if signed_at < collected_at {
        bail!(
            "this machine's clock ({}) is earlier than the evidence collection ({}); fix the clock before signing",
            signed_at.display_utc(),
            collected_at.display_utc()
        );
    }

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
        signature: String::new(),
    };
    record.signature = signing::encode_signature(&signer.sign(&record.statement())?);
    let mut records = chain.clone();
    records.push(record.clone());
    let signoffs = SignoffFile::new(&report_id, records);

    let model = ReportModel::from_snapshot(
        &package.snapshot,
        &package.evidence_sha256,
        signoffs.manifestations(),
    );
    let old = &package.manifest;
    let formats = old.render.formats().map_err(anyhow::Error::msg)?;
    let options = old.render.options(dir);

    let mut writer = PackageWriter::replace(dir)?;
    // Files whose bytes changed are written (their old versions go to history); files that
    // re-render to the same bytes (results.json, most CSVs) are linked from the package below.
    let mut replaced = Vec::new();
    let mut write_if_changed = |name: &str, bytes: &[u8]| -> Result<()> {
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
    write_if_changed(SIGNOFFS_FILE, &signoffs.to_bytes())?;
    render::render_concurrently(&model, &formats, &options, |file| {
        write_if_changed(&file.name, &file.bytes)
    })
    .context("re-rendering the report")?;

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
        seal.signature = signing::encode_signature(&signer.sign(&seal.statement())?);
        let now_on_disk = fs::read(dir.join(MANIFEST_FILE)).ok();
        if now_on_disk.as_deref() != Some(package.manifest_bytes.as_slice()) {
            bail!(
                "{} changed while it was being signed; nothing was written, sign again",
                dir.display()
            );
        }
        Ok(Some(seal.to_bytes()))
    })?;
    drop(lock);
    Ok(Signed {
        record,
        model,
        replaced,
    })
}
