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
use crate::report::render::{RenderError, RenderOptions, RenderedFile};
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
    let sections: Vec<Section> = model
        .controls
        .iter()
        .map(|control| Section {
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
    let html = tera
        .render("report.html", &context)
        .map_err(|err| RenderError::Template(error_chain(&err)))?;
    Ok(RenderedFile {
        name: "report.html".to_string(),
        bytes: html.into_bytes(),
    })
}
