//! Renderers: each turns the report model into one output format. None of them computes a
//! result; they only present the model.

pub mod csv;
pub mod html;
pub mod pdf;
mod pdf_layout;

use std::collections::BTreeSet;
use std::str::FromStr;

/// An output format the user can ask for with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Pdf,
    Html,
    Csv,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Html => "html",
            Format::Csv => "csv",
        }
    }
}

/// A list of output formats that names none, or an unknown one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("unknown format `{0}` (choose from pdf, html, csv)")]
    Unknown(String),
    #[error("no output format given (choose from pdf, html, csv)")]
    Empty,
}

impl FromStr for Format {
    type Err = FormatError;
    fn from_str(text: &str) -> Result<Self, FormatError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "pdf" => Ok(Format::Pdf),
            "html" => Ok(Format::Html),
            "csv" => Ok(Format::Csv),
            other => Err(FormatError::Unknown(other.to_string())),
        }
    }
}

/// Parses `pdf,html,csv`.
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
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            pdf_max_changes: 5000,
            templates: None,
        }
    }
}

/// Renders the requested formats of `model` one file at a time, handing each to `emit` so a
/// caller can write it out and free it before the next is rendered (large reports hold one
/// rendered file in memory, not all of them). `results.json` is always included: it is the
/// canonical, machine-readable form of the report.
pub fn render_each<E: From<RenderError>>(
    model: &crate::report::ReportModel,
    formats: &BTreeSet<Format>,
    options: &RenderOptions,
    mut emit: impl FnMut(RenderedFile) -> Result<(), E>,
) -> Result<(), E> {
    emit(RenderedFile {
        name: "results.json".to_string(),
        bytes: model.to_results_json(),
    })?;
    if formats.contains(&Format::Pdf) {
        emit(pdf::render(model, options)?)?;
    }
    if formats.contains(&Format::Html) {
        emit(html::render(model, options)?)?;
    }
    if formats.contains(&Format::Csv) {
        csv::render_each(model, &mut emit)?;
    }
    Ok(())
}

/// `render_each` with the PDF (the slowest renderer) drawn on a second thread while the other
/// formats render on this one; the PDF is handed to `emit` last. Faster on two or more cores,
/// at the cost of holding the PDF's layout and another format in memory together — `verify`
/// and `sign` use it, `report` (bounded by its memory target) does not.
pub fn render_concurrently<E: From<RenderError>>(
    model: &crate::report::ReportModel,
    formats: &BTreeSet<Format>,
    options: &RenderOptions,
    mut emit: impl FnMut(RenderedFile) -> Result<(), E>,
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
            emit(pdf?)?;
        }
        Ok(())
    })
}
