//! HTML renderer: one self-contained, printable file from tera templates that are embedded in
//! the binary and can be replaced from a directory (`--templates DIR`). Everything printed is
//! autoescaped, and hidden characters are made visible first.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use tera::{Context, Tera};

use crate::controls::{Control, Finding};
use crate::evidence::Timestamp;
use crate::report::format::visible;
use crate::report::render::Format;
use crate::report::render::{RenderError, RenderOptions, RenderedFile};
use crate::report::table::{self, Audience, Column, Table};
use crate::report::{ControlSummary, ReportModel};

/// The templates and their embedded defaults. A directory given with `--templates` may
/// replace any of them by holding a file of the same name.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "report.html",
        include_str!("../../../../../templates/report.html"),
    ),
    (
        "report.css",
        include_str!("../../../../../templates/report.css"),
    ),
];

#[derive(Serialize)]
struct Section<'a> {
    control: &'a Control,
    summary: Vec<&'a ControlSummary>,
    findings: Vec<&'a Finding>,
    /// The control's results table (findings, or both readings side by side).
    results: Option<HtmlTable>,
    /// The control's detail tables (per-method settings, keys, …).
    details: Vec<HtmlTable>,
}

/// A table as the template draws it: headers, and rows of cells with their markup hints.
#[derive(Serialize)]
struct HtmlTable {
    id: &'static str,
    title: &'static str,
    /// Each row on one line of markup.
    compact: bool,
    /// What to say instead of an empty table, if anything.
    empty: Option<&'static str>,
    headers: Vec<&'static str>,
    rows: Vec<Vec<HtmlCell>>,
}

#[derive(Serialize)]
struct HtmlCell {
    /// Starts a new line of the row's markup.
    nl: bool,
    class: Option<String>,
    lines: Vec<HtmlLine>,
}

#[derive(Serialize)]
struct HtmlLine {
    /// Markup before the part: nothing, `<br>`, or a fixed separator.
    before: &'static str,
    text: String,
    small: bool,
}

impl HtmlTable {
    fn from(table: &Table) -> Self {
        let columns: Vec<&Column> = table.columns(Format::Html).collect();
        HtmlTable {
            id: table.id,
            title: table.title,
            compact: table.html_compact,
            empty: table.empty_text,
            headers: columns.iter().filter_map(|c| c.html).collect(),
            rows: table
                .rows(Format::Html)
                .map(|row| {
                    row.into_iter()
                        .zip(&columns)
                        .map(|(cell, column)| HtmlCell {
                            nl: column.html_line,
                            lines: match &cell.value {
                                table::Value::Lines(lines) => lines
                                    .iter()
                                    .enumerate()
                                    .map(|(i, l)| HtmlLine {
                                        before: match (i, l.sep) {
                                            (0, _) => "",
                                            (_, "\n") => "<br>",
                                            (_, sep) => sep,
                                        },
                                        text: visible(&l.text),
                                        small: l.small,
                                    })
                                    .collect(),
                                _ => vec![HtmlLine {
                                    before: "",
                                    text: cell.text_shown().into_owned(),
                                    small: false,
                                }],
                            },
                            class: cell.class.or(column.html_class.map(str::to_string)),
                        })
                        .collect()
                })
                .collect(),
        }
    }
}

fn load_templates(dir: Option<&Path>) -> Result<Tera, RenderError> {
    let mut tera = Tera::default();
    // Autoescape every template, whatever its extension (the CSS is included into HTML).
    tera.autoescape_on(vec![""]);
    for (name, embedded) in TEMPLATES {
        let text = match dir.map(|d| d.join(name)).filter(|p| p.is_file()) {
            Some(path) => std::fs::read_to_string(&path)
                .map_err(|err| RenderError::TemplateFile(format!("{}: {err}", path.display())))?,
            None => (*embedded).to_string(),
        };
        tera.add_raw_template(name, &text)
            .map_err(|err| RenderError::Template(format!("{name}: {}", error_chain(&err))))?;
    }
    tera.register_filter("visible", filter_visible);
    tera.register_filter("utc", filter_utc);
    tera.register_filter("yesno", filter_yes_no);
    Ok(tera)
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

fn filter_visible(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    Ok(match value {
        Value::String(s) => Value::String(visible(s)),
        Value::Null => Value::String(String::new()),
        other => Value::String(visible(&other.to_string())),
    })
}

fn filter_utc(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    Ok(Value::String(
        match value.as_str().and_then(Timestamp::parse) {
            Some(ts) => ts.display_utc(),
            None => "—".to_string(),
        },
    ))
}

fn filter_yes_no(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    Ok(Value::String(
        match value {
            Value::Bool(true) => "yes",
            Value::Bool(false) => "no",
            _ => "unknown",
        }
        .to_string(),
    ))
}

pub fn render(model: &ReportModel, options: &RenderOptions) -> Result<RenderedFile, RenderError> {
    let templates = options.templates.as_deref();
    let tera = load_templates(templates)?;
    let tables = model.tables(Audience::Human {
        max_changes: options.pdf_max_changes,
    });
    let of_control = |id: &'static str| tables.iter().filter(move |t| t.control == Some(id));
    let sections: Vec<Section> = model
        .controls
        .iter()
        .map(|control| Section {
            results: of_control(control.id)
                .find(|t| t.id == "results")
                .map(HtmlTable::from),
            details: of_control(control.id)
                .filter(|t| t.id != "results")
                .map(HtmlTable::from)
                .collect(),
            control,
            summary: model
                .summary
                .iter()
                .filter(|s| s.control_id == control.id)
                .collect(),
            findings: model.findings_of(control.id).collect(),
        })
        .collect();
    let mut context = Context::new();
    context.insert("report", model);
    context.insert("sections", &sections);
    context.insert(
        "cache_pairs",
        &model.view_pairs(crate::controls::catalog::APIGW_CACHE_ENCRYPTION),
    );
    context.insert("signoffs", &model.signoffs);
    context.insert("signature_status", &model.signature_status());
    context.insert("register", &model.register_view(options.pdf_max_changes));
    let others: std::collections::BTreeMap<&str, HtmlTable> = tables
        .iter()
        .filter(|t| t.control.is_none() && t.columns(Format::Html).next().is_some())
        .map(|t| (t.id, HtmlTable::from(t)))
        .collect();
    context.insert("tables", &others);
    let html = tera
        .render("report.html", &context)
        .map_err(|err| RenderError::Template(error_chain(&err)))?;
    Ok(RenderedFile {
        name: "report.html".to_string(),
        bytes: html.into_bytes(),
    })
}
