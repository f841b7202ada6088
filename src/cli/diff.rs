//! `gxp-evidence diff`: what changed between two report packages, given as two directories
//! or as two periods of one system in the archive (the latest revision of each). Exit codes
//! as diff(1): 0 no difference, 1 differences, 2 an error (a package that does not verify).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use crate::archive;
use crate::report::diff::{PackageDiff, PeriodSummary, read_verified};

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier package directory, or with --archive its period (YYYY-MM).
    from: String,
    /// The later package directory, or with --archive its period (YYYY-MM).
    to: String,
    /// Read FROM and TO as periods of --system in this archive (ARCHIVE/<system>/<YYYY-MM>/r<N>/):
    /// the latest revision of each period is compared.
    #[arg(long, value_name = "DIR", requires = "system")]
    archive: Option<PathBuf>,
    /// The system whose periods are compared (with --archive), as its reports name it.
    #[arg(long, value_name = "NAME", requires = "archive")]
    system: Option<String>,
    /// text: one line per difference; json: the whole difference; csv: one row per difference.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    Text,
    Json,
    Csv,
}

/// Compares the two packages and prints the difference to stdout.
pub fn diff_packages(args: &DiffArgs) -> Result<ExitCode> {
    let (from_dir, to_dir) = match (&args.archive, &args.system) {
        (Some(root), Some(system)) => (
            latest_revision(root, system, &args.from)?,
            latest_revision(root, system, &args.to)?,
        ),
        _ => (PathBuf::from(&args.from), PathBuf::from(&args.to)),
    };
    // Each verification re-renders its package; the two run side by side.
    let (from, to) = std::thread::scope(|scope| {
        let from = scope.spawn(|| read_verified(&from_dir));
        let to = read_verified(&to_dir);
        let from = from
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (from, to)
    });
    let (_, from) = from?;
    let (to, _) = to?;
    if from.system_name != to.system_name {
        bail!(
            "{} reports on the system {:?} and {} on {:?}: a difference between two systems is not drift",
            from_dir.display(),
            from.system_name,
            to_dir.display(),
            to.system_name
        );
    }
    if from.period.start > to.period.start {
        bail!(
            "{} covers {}, later than {} ({}): give the earlier package first",
            from_dir.display(),
            from.period.label(),
            to_dir.display(),
            to.period.label()
        );
    }
    if let (Some(_), Some(system)) = (&args.archive, &args.system) {
        // The archive's directory names are not the packages' word: a package filed under
        // another system's directory or another month is not the one asked for.
        let named =
            *system == to.system_name || *system == archive::system_dir_name(&to.system_name);
        if !named {
            bail!(
                "--system {system:?}: the archive's directory for it holds reports on {:?}",
                to.system_name
            );
        }
        for (dir, asked, period) in [
            (&from_dir, &args.from, &from.period),
            (&to_dir, &args.to, &to.period),
        ] {
            if archive::period_dir_name(period).as_deref() != Some(asked.as_str()) {
                bail!(
                    "{} is filed under {asked} but reports on {}",
                    dir.display(),
                    period.label()
                );
            }
        }
    }
    from.check_same_controls(&to)?;
    let diff = PackageDiff::between(&from, &to);
    let bytes = match args.format {
        DiffFormat::Text => diff.to_text().into_bytes(),
        DiffFormat::Json => diff.to_json(),
        DiffFormat::Csv => diff.to_csv()?,
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&bytes)
        .and_then(|()| stdout.flush())
        .context("cannot write the difference to stdout")?;
    Ok(if diff.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The directory of the highest revision of `system`'s report on `period` in the archive.
fn latest_revision(root: &Path, system: &str, period: &str) -> Result<PathBuf> {
    if !archive::is_period_dir_name(period) {
        bail!("--archive: `{period}` is not a period (YYYY-MM)");
    }
    let dir = root.join(archive::system_dir_name(system)).join(period);
    let latest = archive::latest_revision(&dir)
        .with_context(|| format!("--archive: cannot list {}", dir.display()))?;
    let Some((_, revision_dir)) = latest else {
        bail!(
            "--archive: {} holds no revision (r<N>) of {system:?} for {period}",
            dir.display()
        );
    };
    Ok(revision_dir)
}

/// `report --previous DIR`: the previous period's package, verified, summarised.
pub fn read_previous(dir: &Path) -> Result<PeriodSummary> {
    let (_, summary) = read_verified(dir).context("--previous")?;
    Ok(summary)
}
