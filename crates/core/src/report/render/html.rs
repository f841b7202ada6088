//! HTML renderer: one self-contained, printable file from tera templates that are embedded in
//! the binary and can be replaced from a directory (`--templates DIR`). Everything printed is
//! autoescaped, and hidden characters are made visible first.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use tera::{Context, Tera, escape_html};

use crate::controls::{Control, Verdict};
use crate::evidence::{EvidenceGap, Period, Timestamp};
use crate::report::format::visible;
use crate::report::render::Format;
use crate::report::render::{RenderError, RenderOptions, RenderedFile};
use crate::report::table::{self, Audience, Column, Table};
use crate::report::{
    ChangeTotals, CollectedBy, ControlSummary, LookupQueryRow, ReportModel, StatusCounts,
};

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
    /// The control's results table (findings, or both readings side by side).
    results: Option<HtmlTable>,
    /// The control's detail tables (per-method settings, keys, …).
    details: Vec<HtmlTable>,
}

/// A table as the template places it: its title, what to say when it is empty, and its
/// markup, drawn here rather than by the template so that a report of 100,000 rows never
/// becomes a tree of template values (which took gigabytes).
#[derive(Serialize)]
struct HtmlTable {
    id: &'static str,
    title: &'static str,
    /// What to say instead of an empty table, if anything.
    empty: Option<&'static str>,
    row_count: usize,
    /// The `<table>` element, escaped.
    html: String,
}

impl HtmlTable {
    fn from(table: &Table) -> Self {
        let columns: Vec<&Column> = table.columns(Format::Html).collect();
        let mut html = String::from("<table>\n<thead><tr>");
        for header in columns.iter().filter_map(|c| c.html) {
            html.push_str("<th>");
            html.push_str(header);
            html.push_str("</th>");
        }
        html.push_str("</tr></thead>\n<tbody>\n");
        let mut row_count = 0;
        for row in table.rows(Format::Html) {
            row_count += 1;
            html.push_str("<tr>");
            for (cell, column) in row.into_iter().zip(&columns) {
                if column.html_line {
                    html.push('\n');
                }
                html.push_str("<td");
                let class = cell.class.as_deref().or(column.html_class);
                if let Some(class) = class.filter(|c| !c.is_empty()) {
                    html.push_str(" class=\"");
                    html.push_str(&escape_html(class));
                    html.push('"');
                }
                html.push('>');
                match &cell.value {
                    table::Value::Lines(lines) => {
                        for (i, line) in lines.iter().enumerate() {
                            html.push_str(match (i, line.sep) {
                                (0, _) => "",
                                (_, "\n") => "<br>",
                                (_, sep) => sep,
                            });
                            push_text(&mut html, &visible(&line.text), line.small);
                        }
                    }
                    _ => push_text(&mut html, &cell.text_shown(), false),
                }
                html.push_str("</td>");
            }
            if !table.html_compact {
                html.push('\n');
            }
            html.push_str("</tr>\n");
        }
        html.push_str("</tbody>\n</table>\n");
        HtmlTable {
            id: table.id,
            title: table.title,
            empty: table.empty_text,
            row_count,
            html,
        }
    }
}

/// A cell's text, escaped, in a `small` span if it is a minor part.
fn push_text(html: &mut String, text: &str, small: bool) {
    if small {
        html.push_str("<span class=\"small\">");
        html.push_str(&escape_html(text));
        html.push_str("</span>");
    } else {
        html.push_str(&escape_html(text));
    }
}

/// The document-level facts of the report the template shows as `report`: everything but
/// the per-resource rows, which reach the template as drawn tables.
#[derive(Serialize)]
struct ReportHeader<'a> {
    results_format: u32,
    report_id: &'a str,
    system_name: &'a str,
    period: &'a Period,
    period_label: &'a str,
    accounts: &'a [String],
    regions: &'a [String],
    generated_at: Timestamp,
    collected_at: Timestamp,
    collector_version: &'a str,
    tool_version: &'a str,
    evidence_sha256: &'a str,
    max_rotation_days: u32,
    verdict: Verdict,
    verdict_text: &'a str,
    collected_by: &'a [CollectedBy],
    controls: &'a [Control],
    summary: &'a [ControlSummary],
    totals: &'a StatusCounts,
    change_totals: &'a ChangeTotals,
    evidence_gaps: &'a [EvidenceGap],
    lookup_queries: &'a [LookupQueryRow],
}

impl<'a> ReportHeader<'a> {
    fn of(model: &'a ReportModel) -> Self {
        ReportHeader {
            results_format: model.results_format,
            report_id: &model.report_id,
            system_name: &model.system_name,
            period: &model.period,
            period_label: &model.period_label,
            accounts: &model.accounts,
            regions: &model.regions,
            generated_at: model.generated_at,
            collected_at: model.collected_at,
            collector_version: &model.collector_version,
            tool_version: &model.tool_version,
            evidence_sha256: &model.evidence_sha256,
            max_rotation_days: model.max_rotation_days,
            verdict: model.verdict,
            verdict_text: &model.verdict_text,
            collected_by: &model.collected_by,
            controls: &model.controls,
            summary: &model.summary,
            totals: &model.totals,
            change_totals: &model.change_totals,
            evidence_gaps: &model.evidence_gaps,
            lookup_queries: &model.lookup_queries,
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
        })
        .collect();
    let mut context = Context::new();
    context.insert("report", &ReportHeader::of(model));
    context.insert("sections", &sections);
    context.insert(
        "cache_pairs",
        &model.view_pairs(crate::controls::catalog::APIGW_CACHE_ENCRYPTION),
    );
    context.insert("signoffs", &model.signoffs);
    context.insert("signature_status", &model.signature_status());
    context.insert("attestation_status", &model.attestation_status());
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
