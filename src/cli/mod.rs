//! Command-line interface: argument parsing, the commands, exit codes (0 compliant, 1
//! non-compliant or incomplete, 2 error) and the one-line summary on stderr.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::collect::{self, AwsSettings, CollectRequest, RegionSelection, progress::Progress};
use crate::controls::{CATALOG, Verdict};
use crate::evidence::{self, EvidenceSnapshot, LoadedEvidence, Policy};
use crate::package;
use crate::report::ReportModel;
use crate::report::render::{self, Format, RenderOptions};

#[derive(Debug, Parser)]
#[command(
    name = "gxp-evidence",
    version,
    about = "Annex 11 / 21 CFR Part 11 audit evidence for AWS API Gateway, KMS and CloudTrail",
    long_about = "Evaluates an evidence snapshot against controls mapped to EU GMP Annex 11 and writes the \
                  report as PDF, HTML and CSV.\n\nExit codes: 0 report produced and compliant; 1 report \
                  produced and non-compliant or incomplete; 2 usage, input or runtime error (nothing written)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log what is being done to stderr (-v: progress of each region, -vv: every retry).
    /// Credentials never appear in logs.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Collect the period's evidence live from AWS into an evidence snapshot (JSON).
    /// Exit 0 when everything was collected, 1 when evidence gaps were recorded.
    Collect(CollectArgs),
    /// Write the report set into a new directory: from an evidence snapshot (--evidence), or
    /// collected live from AWS for a period (the collection flags).
    Report(ReportArgs),
    /// Write the report set of the embedded sample evidence (no AWS account needed).
    Demo(OutputArgs),
    /// List the controls, their Annex 11 clauses and Security Hub / AWS Config counterparts.
    Controls {
        /// Output as an aligned table or as JSON.
        #[arg(long, value_enum, default_value_t = CatalogFormat::Table)]
        format: CatalogFormat,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CatalogFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// The evidence snapshot (JSON) to evaluate. Without it, the evidence is collected live.
    #[arg(long, value_name = "FILE")]
    evidence: Option<PathBuf>,
    #[command(flatten)]
    live: LiveArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
struct CollectArgs {
    /// The evidence snapshot file to write.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Replace the file if it exists.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    live: LiveArgs,
}

/// What to collect and from where. Credentials and region come from the AWS SDK's standard
/// chain (environment, profiles, SSO, assume-role, AWS_ENDPOINT_URL).
#[derive(Debug, Args, Default)]
struct LiveArgs {
    /// The calendar month to report on (UTC). Default: the previous calendar month.
    #[arg(long, value_name = "YYYY-MM", conflicts_with_all = ["from", "to"])]
    period: Option<String>,
    /// Start of a custom period (RFC 3339, inclusive); needs --to.
    #[arg(long, value_name = "TIME", requires = "to")]
    from: Option<String>,
    /// End of a custom period (RFC 3339, exclusive); needs --from.
    #[arg(long, value_name = "TIME", requires = "from")]
    to: Option<String>,
    /// Regions to collect: a comma-separated list, or `all` for every region enabled for the
    /// account. Default: the configured region.
    #[arg(long, value_name = "LIST", value_parser = RegionSelection::parse)]
    regions: Option<RegionSelection>,
    /// Named profile from the AWS shared config files.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Send every service's calls to this endpoint (a private endpoint, or a test double).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// The regulated system the evidence is about, shown on every report page.
    /// Default: "AWS account <id>".
    #[arg(long, value_name = "NAME")]
    system_name: Option<String>,
    /// The longest key rotation period the policy accepts, in days.
    #[arg(long, value_name = "DAYS", default_value_t = Policy::DEFAULT_MAX_ROTATION_DAYS)]
    max_rotation_days: u32,
    /// Account-regions collected at the same time.
    #[arg(long, value_name = "N", default_value_t = 32)]
    max_parallel_regions: usize,
}

impl LiveArgs {
    /// Flags that only make sense for a live collection, by name, when given.
    fn given_flags(&self) -> Vec<&'static str> {
        let mut given = Vec::new();
        let flags: [(&str, bool); 8] = [
            ("--period", self.period.is_some()),
            ("--from", self.from.is_some()),
            ("--regions", self.regions.is_some()),
            ("--profile", self.profile.is_some()),
            ("--endpoint-url", self.endpoint_url.is_some()),
            ("--system-name", self.system_name.is_some()),
            (
                "--max-rotation-days",
                self.max_rotation_days != Policy::DEFAULT_MAX_ROTATION_DAYS,
            ),
            ("--max-parallel-regions", self.max_parallel_regions != 32),
        ];
        for (flag, set) in flags {
            if set {
                given.push(flag);
            }
        }
        given
    }
}

#[derive(Debug, Args)]
struct OutputArgs {
    /// Directory to create for the report set. It must not exist unless --force is given.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Formats to render, comma-separated. results.json, evidence.json and manifest.json are always written.
    #[arg(long, value_name = "LIST", default_value = "pdf,html,csv", value_parser = parse_formats)]
    format: BTreeSet<Format>,
    /// Directory with templates (report.html, report.css) replacing the embedded ones.
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// Above this many changes the PDF (and the HTML) list weakening changes and failed calls
    /// in full and summarise the rest per event name (changes.csv always has all).
    #[arg(long, value_name = "N", default_value_t = 5000)]
    pdf_max_changes: usize,
    /// Replace the output directory if it exists.
    #[arg(long)]
    force: bool,
}

fn parse_formats(text: &str) -> Result<BTreeSet<Format>, String> {
    render::parse_formats(text)
}

/// Runs the CLI and maps the outcome to the documented exit codes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("gxp-evidence: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    init_logging(cli.verbose);
    match cli.command {
        Command::Collect(args) => {
            check_output_file(&args.out, args.force)?;
            let loaded = collect_live(&args.live, cli.verbose)?;
            write_evidence_file(&args.out, &loaded.bytes, args.force)?;
            eprintln!("{}", collect_summary(&loaded.snapshot, &args.out));
            Ok(if loaded.snapshot.gaps.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Report(args) => {
            package::check_output_dir(&args.output.out, args.output.force)?;
            let evidence = match &args.evidence {
                Some(path) => {
                    let live_flags = args.live.given_flags();
                    if !live_flags.is_empty() {
                        anyhow::bail!(
                            "--evidence reports on a snapshot file; {} only apply to a live collection",
                            live_flags.join(", ")
                        );
                    }
                    evidence::load_file(path)?
                }
                None => collect_live(&args.live, cli.verbose)?,
            };
            write_report(evidence, &args.output)
        }
        Command::Demo(output) => {
            package::check_output_dir(&output.out, output.force)?;
            let evidence = evidence::load_bytes(
                "samples/demo-evidence.json (embedded)",
                evidence::DEMO_EVIDENCE.as_bytes().to_vec(),
            )?;
            write_report(evidence, &output)
        }
        Command::Controls { format } => {
            print_controls(format)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Logs go to stderr only when asked for; the SDK's own logs stay at warnings, so request
/// details (signed headers) are never printed.
fn init_logging(verbose: u8) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    if verbose == 0 {
        return;
    }
    let ours = if verbose == 1 {
        tracing::Level::INFO
    } else {
        tracing::Level::DEBUG
    };
    let filter = tracing_subscriber::filter::Targets::new()
        .with_default(tracing::Level::WARN)
        .with_target(env!("CARGO_CRATE_NAME"), ours);
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_target(false),
        )
        .with(filter)
        .try_init();
}

/// Collects live and returns the snapshot as the loader sees it: the collected evidence
/// passes the same validation as an archived file before anything is written.
fn collect_live(live: &LiveArgs, verbose: u8) -> Result<LoadedEvidence> {
    use std::io::IsTerminal;
    let now = chrono::Utc::now();
    let period = collect::period::resolve(
        live.period.as_deref(),
        live.from.as_deref(),
        live.to.as_deref(),
        now,
    )?;
    let request = CollectRequest {
        period,
        regions: live.regions.clone().unwrap_or(RegionSelection::Configured),
        system_name: live.system_name.clone(),
        policy: Policy {
            max_rotation_days: live.max_rotation_days,
            ..Policy::default()
        },
        max_parallel_regions: live.max_parallel_regions,
        calls_per_region: 8,
    };
    let settings = AwsSettings {
        profile: live.profile.clone(),
        endpoint_url: live.endpoint_url.clone(),
    };
    let progress = Progress::new(verbose == 0 && std::io::stderr().is_terminal());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let snapshot = runtime.block_on(async {
        let sdk = collect::load_sdk_config(&settings).await;
        collect::collect(&sdk, &request, &progress).await
    })?;
    let bytes = evidence::to_pretty_json(&snapshot);
    Ok(evidence::load_bytes("collected evidence", bytes)?)
}

fn check_output_file(path: &Path, force: bool) -> Result<()> {
    if path.is_dir() {
        anyhow::bail!("output path {} is a directory", path.display());
    }
    if path.exists() && !force {
        anyhow::bail!(
            "output file {} already exists (use --force to replace it)",
            path.display()
        );
    }
    Ok(())
}

/// Writes the snapshot through a temporary file in the same directory and a rename, so a
/// reader never sees half a file and a failure leaves nothing behind.
fn write_evidence_file(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".gxp-evidence-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    let persisted = if force {
        file.persist(path).map(|_| ())
    } else {
        file.persist_noclobber(path).map(|_| ())
    };
    persisted.with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn collect_summary(snapshot: &EvidenceSnapshot, out: &Path) -> String {
    let regions = snapshot.accounts.iter().flat_map(|a| &a.regions);
    let (mut apis, mut stages, mut keys, mut trails, mut events) = (0, 0, 0, 0, 0);
    for region in regions {
        if let Some(apigateway) = &region.apigateway {
            apis += apigateway.rest_apis.len();
            stages += apigateway
                .rest_apis
                .iter()
                .map(|a| a.stages.len())
                .sum::<usize>();
        }
        keys += region.kms.as_ref().map_or(0, |k| k.keys.len());
        if let Some(cloudtrail) = &region.cloudtrail {
            trails += cloudtrail.trails.len();
            events += cloudtrail.events.len();
        }
    }
    format!(
        "collected {} for {} in {}: {apis} REST APIs, {stages} stages, {keys} keys, {trails} trails (shadow copies included), {events} change events; {} evidence gaps; written to {}",
        snapshot.scope.accounts.join(", "),
        snapshot.period.label(),
        snapshot.scope.regions.join(", "),
        snapshot.gaps.len(),
        out.display()
    )
}

fn write_report(evidence: LoadedEvidence, output: &OutputArgs) -> Result<ExitCode> {
    if let Some(dir) = output.templates.as_ref().filter(|dir| !dir.is_dir()) {
        anyhow::bail!("templates directory {} does not exist", dir.display());
    }
    // Peak memory matters for a month of a busy account: archive the evidence bytes first
    // and free them, then free the parsed snapshot once the report model is built.
    let LoadedEvidence {
        snapshot,
        bytes,
        sha256,
    } = evidence;
    let mut package = package::PackageWriter::create(&output.out, output.force)?;
    package.add(&render::RenderedFile {
        name: "evidence.json".to_string(),
        bytes,
    })?;
    let model = ReportModel::from_snapshot(&snapshot, &sha256, Vec::new());
    drop(snapshot);
    let options = RenderOptions {
        pdf_max_changes: output.pdf_max_changes,
        templates: output.templates.clone(),
    };
    render::render_each(&model, &output.format, &options, |file| {
        package.add(&file).map_err(anyhow::Error::from)
    })
    .context("rendering the report")?;
    package.commit(&model.report_id)?;
    eprintln!("{}", summary_line(&model, &output.out));
    Ok(exit_code(model.verdict))
}

pub fn exit_code(verdict: Verdict) -> ExitCode {
    match verdict {
        Verdict::Compliant => ExitCode::SUCCESS,
        Verdict::NonCompliant | Verdict::Incomplete => ExitCode::from(1),
    }
}

fn summary_line(model: &ReportModel, out: &Path) -> String {
    let t = &model.totals;
    format!(
        "{}: {} PASS, {} FAIL, {} NOT_APPLICABLE, {} NO_RESOURCES, {} EVIDENCE_GAP; {} changes ({} weakening applied); report {} written to {}",
        model.verdict.as_str(),
        t.pass,
        t.fail,
        t.not_applicable,
        t.no_resources,
        t.evidence_gap,
        model.change_totals.total,
        model.change_totals.weakening_effective,
        model.report_id,
        out.display()
    )
}

fn print_controls(format: CatalogFormat) -> Result<()> {
    match format {
        CatalogFormat::Json => {
            println!("{}", serde_json::to_string_pretty(CATALOG)?);
        }
        CatalogFormat::Table => {
            let rows: Vec<[String; 4]> = CATALOG
                .iter()
                .map(|c| {
                    [
                        c.id.to_string(),
                        c.title.to_string(),
                        c.clauses.join("; "),
                        c.cross_references.join("; "),
                    ]
                })
                .collect();
            let header =
                ["ID", "TITLE", "ANNEX 11 / 21 CFR 11", "CROSS-REFERENCES"].map(String::from);
            let mut widths = [0usize; 4];
            for row in std::iter::once(&header).chain(&rows) {
                for (width, cell) in widths.iter_mut().zip(row) {
                    *width = (*width).max(cell.chars().count());
                }
            }
            for row in std::iter::once(&header).chain(&rows) {
                let line: Vec<String> = row
                    .iter()
                    .zip(widths)
                    .map(|(cell, width)| format!("{cell:<width$}"))
                    .collect();
                println!("{}", line.join("  ").trim_end());
            }
        }
    }
    Ok(())
}
