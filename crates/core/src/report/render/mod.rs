//! Renderers: each turns the report model into one output format. None of them computes a
//! result; they only present the model.

pub mod chart;
pub mod csv;
pub mod html;
pub mod junit;
pub mod ocsf;
pub mod pdf;
mod pdf_chart;
mod pdf_layout;
pub(crate) mod svg_chart;

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::str::FromStr;

/// An output format the user can ask for with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Pdf,
    Html,
    Csv,
    /// findings.ocsf.json: OCSF Compliance Findings, one per line (`ocsf`).
    Ocsf,
    /// findings.junit.xml: one JUnit test case per control result (`junit`).
    Junit,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Pdf,
        Format::Html,
        Format::Csv,
        Format::Ocsf,
        Format::Junit,
    ];

    /// `pdf, html, csv, ocsf, junit`, for messages.
    pub fn choices() -> String {
        Format::ALL.map(Format::as_str).join(", ")
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Html => "html",
            Format::Csv => "csv",
            Format::Ocsf => "ocsf",
            Format::Junit => "junit",
        }
    }
}

/// A list of output formats that names none, or an unknown one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("unknown format `{0}` (choose from {choices})", choices = Format::choices())]
    Unknown(String),
    #[error("no output format given (choose from {choices})", choices = Format::choices())]
    Empty,
}

impl FromStr for Format {
    type Err = FormatError;
    fn from_str(text: &str) -> Result<Self, FormatError> {
        let text = text.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|format| format.as_str() == text)
            .ok_or(FormatError::Unknown(text))
    }
}

/// Parses `pdf,html,csv` (and `ocsf`, `junit`).
pub fn parse_formats(text: &str) -> Result<BTreeSet<Format>, FormatError> {
    let formats = text
        .split(',')
        .filter(|part| !part.trim().is_empty())
        .map(Format::from_str)
        .collect::<Result<BTreeSet<_>, _>>()?;
    if formats.is_empty() {
        return Err(FormatError::Empty);
    }
    Ok(formats)
}

/// Why a report could not be rendered. Bad templates are the user-facing case.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("HTML template error: {0}")]
    Template(String),
    #[error("cannot read templates: {0}")]
    TemplateFile(String),
    #[error("CSV rendering failed: {0}")]
    Csv(String),
    #[error("PDF rendering failed: {0}")]
    Pdf(String),
    #[error("rendering {0} failed: {1}")]
    Render(String, #[source] io::Error),
}

/// One rendered file: its name inside the output directory and its bytes.
#[derive(Debug, Clone)]
pub struct RenderedFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Options that change how reports look, never what they say.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Above this many changes, the PDF and HTML list weakening changes and failed calls in
    /// full and summarise the rest per event name (changes.csv always has every change).
    pub pdf_max_changes: usize,
    /// A directory whose templates replace the embedded HTML templates.
    pub templates: Option<std::path::PathBuf>,
    /// Start every CSV file with a UTF-8 byte order mark (see `csv::UTF8_BOM`).
    pub csv_bom: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            pdf_max_changes: 5000,
            templates: None,
            csv_bom: true,
        }
    }
}

/// A file as the renderers hand it over: its name and its bytes, either drawn already (PDF,
/// HTML) or written straight into whatever receives the file (results.json and the CSV files,
/// tens of MB in a busy month, are never held whole in memory).
pub struct FileBody<'a> {
    pub name: String,
    body: Body<'a>,
}

type WriteBody<'a> = Box<dyn Fn(&mut dyn Write) -> io::Result<()> + 'a>;

enum Body<'a> {
    Drawn(Vec<u8>),
    Streamed(WriteBody<'a>),
}

impl<'a> FileBody<'a> {
    fn streamed(name: &str, write: impl Fn(&mut dyn Write) -> io::Result<()> + 'a) -> Self {
        Self {
            name: name.to_string(),
            body: Body::Streamed(Box::new(write)),
        }
    }

    /// Writes the file's bytes into `out`; a streamed file is rendered again on each call. A
    /// rendering failure of a streamed file comes back as an I/O error naming the file.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        match &self.body {
            Body::Drawn(bytes) => out.write_all(bytes),
            Body::Streamed(write) => write(out),
        }
    }

    /// The lowercase hex SHA-256 and the size of the file's bytes, without keeping them.
    pub fn sha256(&self) -> io::Result<(String, u64)> {
        match &self.body {
            Body::Drawn(bytes) => Ok((crate::hash::sha256_hex(bytes), bytes.len() as u64)),
            Body::Streamed(write) => {
                let mut hashing = crate::hash::HashingWriter::new(io::sink());
                write(&mut hashing)?;
                let (_, sha256, size) = hashing.finish();
                Ok((sha256, size))
            }
        }
    }

    /// The file's bytes in memory (tests, and callers that need them whole).
    pub fn into_bytes(self) -> io::Result<Vec<u8>> {
        match self.body {
            Body::Drawn(bytes) => Ok(bytes),
            Body::Streamed(write) => {
                let mut bytes = Vec::new();
                write(&mut bytes)?;
                Ok(bytes)
            }
        }
    }
}

impl From<RenderedFile> for FileBody<'_> {
    fn from(file: RenderedFile) -> Self {
        Self {
            name: file.name,
            body: Body::Drawn(file.bytes),
        }
    }
}

/// Renders the requested formats of `model` one file at a time, handing each to `emit` so a
/// caller can write it out (or hash it) before the next is rendered: large reports hold at
/// most one drawn file in memory. `results.json` is always included: it is the canonical,
/// machine-readable form of the report.
pub fn render_each<'m, E: From<RenderError>>(
    model: &'m crate::report::ReportModel,
    formats: &BTreeSet<Format>,
    options: &RenderOptions,
    mut emit: impl FnMut(FileBody<'m>) -> Result<(), E>,
) -> Result<(), E> {
    emit(FileBody::streamed(RESULTS_JSON, |out| {
        model.write_results_json(out)
    }))?;
    if formats.contains(&Format::Pdf) {
        emit(pdf::render(model, options)?.into())?;
    }
    if formats.contains(&Format::Html) {
        emit(html::render(model, options)?.into())?;
    }
    if formats.contains(&Format::Csv) {
        let bom = options.csv_bom;
        for table in csv::tables(model) {
            emit(FileBody::streamed(csv::file_name(&table), move |out| {
                csv::write_table(model, &table, bom, out)
            }))?;
        }
    }
    if formats.contains(&Format::Ocsf) {
        emit(FileBody::streamed(ocsf::FILE_NAME, |out| {
            ocsf::write(model, out)
        }))?;
    }
    if formats.contains(&Format::Junit) {
        emit(FileBody::streamed(junit::FILE_NAME, |out| {
            junit::write(model, out)
        }))?;
    }
    Ok(())
}

/// `render_each` with the PDF (the slowest renderer) drawn on a second thread while the other
/// formats render on this one; the PDF is handed to `emit` last. Faster on two or more cores;
/// the other formats stream, so what is held beside the PDF's layout is the HTML at most.
pub fn render_concurrently<'m, E: From<RenderError>>(
    model: &'m crate::report::ReportModel,
    formats: &BTreeSet<Format>,
    options: &RenderOptions,
    mut emit: impl FnMut(FileBody<'m>) -> Result<(), E>,
) -> Result<(), E> {
    std::thread::scope(|scope| {
        let pdf = formats
            .contains(&Format::Pdf)
            .then(|| scope.spawn(|| pdf::render(model, options)));
        let others: BTreeSet<Format> = formats
            .iter()
            .copied()
            .filter(|f| *f != Format::Pdf)
            .collect();
        let rest = render_each(model, &others, options, &mut emit);
        let pdf = pdf.map(|thread| match thread.join() {
            Ok(rendered) => rendered,
            Err(_) => Err(RenderError::Pdf("the PDF renderer panicked".to_string())),
        });
        rest?;
        if let Some(pdf) = pdf {
            emit(pdf?.into())?;
        }
        Ok(())
    })
}

/// The canonical, machine-readable form of every report.
pub const RESULTS_JSON: &str = "results.json";

/// An error and its sources, `: `-separated (tera's errors keep the useful part in a source).
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
