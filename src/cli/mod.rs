//! Command-line interface: argument parsing, the commands, exit codes (0 compliant, 1
//! non-compliant or incomplete, 2 error) and the one-line summary on stderr.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::controls::{CATALOG, Verdict};
use crate::evidence::{self, LoadedEvidence};
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
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluate an evidence snapshot and write the report set into a new directory.
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
    /// The evidence snapshot (JSON) to evaluate.
    #[arg(long, value_name = "FILE")]
    evidence: PathBuf,
    #[command(flatten)]
    output: OutputArgs,
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
    match cli.command {
        Command::Report(args) => {
            package::check_output_dir(&args.output.out, args.output.force)?;
            let evidence = evidence::load_file(&args.evidence)?;
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
