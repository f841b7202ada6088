//! HTML renderer: one self-contained, printable file from tera templates that are embedded in
//! the binary and can be replaced from a directory (`--templates DIR`). Everything printed is
//! autoescaped, and hidden characters are made visible first. Every template, embedded or
//! not, renders inside the sandbox of `sandbox` (no environment, no raw markup, bounded
//! work): a custom template is untrusted input that `verify` and `sign` render again.

mod sandbox;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use tera::{Context, Tera, escape_html};

use crate::controls::{Control, Status, Verdict};
use crate::evidence::{EvidenceGap, Period, Timestamp};
use crate::report::document::{DocumentControl, Methodology, Scope};
use crate::report::format::{LEGEND, status_meaning, visible};
use crate::report::render::chart::Figure;
use crate::report::render::{Format, error_chain};
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

/// A table as the template places it: its title, what to say when it is empty, and the key
/// of its markup, drawn here rather than by the template so that a report of 100,000 rows
/// never becomes a tree of template values (which took gigabytes). The markup reaches the
/// output only through the `table` filter, the one way a template prints markup unescaped:
/// it looks the key up among the tables drawn here, so no report data can pass through it.
#[derive(Serialize)]
struct HtmlTable {
    id: &'static str,
    title: &'static str,
    /// What to say instead of an empty table, if anything.
    empty: Option<&'static str>,
    row_count: usize,
    /// Index of the drawn `<table>` element in `DrawnTables`.
    key: usize,
}

/// The `<table>` elements drawn for one report, escaped, by key.
#[derive(Default)]
struct DrawnTables(Vec<String>);

impl DrawnTables {
    fn bytes(&self) -> usize {
        self.0.iter().map(String::len).sum()
    }

    /// The `table` filter: `{{ t | table }}` for a table `t` (or its key) prints its markup.
    fn filter(self: Arc<Self>) -> impl tera::Filter {
        TableFilter(self)
    }
}

struct TableFilter(Arc<DrawnTables>);

impl tera::Filter for TableFilter {
    fn filter(&self, value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
        let key = value
            .get("key")
            .unwrap_or(value)
            .as_u64()
            .and_then(|k| usize::try_from(k).ok());
        match key.and_then(|k| self.0.0.get(k)) {
            Some(html) => Ok(Value::String(html.clone())),
            None => Err(tera::Error::msg(
                "`table` prints only a table or figure of the report (a results, details or tables entry, chart or page_style)",
            )),
        }
    }

    fn is_safe(&self) -> bool {
        true
    }
}

impl HtmlTable {
    fn from(table: &Table, drawn: &mut DrawnTables) -> Self {
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
        drawn.0.push(html);
        HtmlTable {
            id: table.id,
            title: table.title,
            empty: table.empty_text,
            row_count,
            key: drawn.0.len() - 1,
        }
    }
}

/// A cell's text, escaped, in a `small` span if it is a minor part.
fn push_text(html: &mut String, text: &str, small: bool) {
    if small {
        html.push_str("<span class=\"small\">");
        push_breakable(html, text);
        html.push_str("</span>");
    } else {
        push_breakable(html, text);
    }
}

/// Words longer than this get break opportunities at their natural breaks (an account id,
/// a region or a date never needs one; an ARN or a path does).
const LONG_WORD: usize = 20;

/// Where a long token may break: after the separators of ARNs, paths, host names and lists.
fn breaks_after(ch: char) -> bool {
    matches!(
        ch,
        ':' | '/' | '.' | ',' | ';' | '=' | '&' | '?' | '@' | '|'
    )
}

/// `text`, escaped, with a `<wbr>` after the natural breaks of every long word: a printed
/// table then fits the page by breaking an ARN at `:` and `/` (the stylesheet never breaks a
/// word mid-word, which made `111122223333` read as two numbers). A short identifier with
/// hyphens and digits (`eu-central-1`, `2026-10-05`) is kept on one line: a browser would
/// break it at its hyphens, and `eu-` / `central-1` reads as two words.
fn push_breakable(html: &mut String, text: &str) {
    let mut word = String::new();
    let flush = |html: &mut String, word: &mut String| {
        let long = word.chars().count() > LONG_WORD;
        if !long && word.contains('-') && word.chars().any(|c| c.is_ascii_digit()) {
            html.push_str("<span class=\"nw\">");
            html.push_str(&escape_html(word));
            html.push_str("</span>");
        } else if long {
            let mut chars = word.chars().peekable();
            let mut buf = [0u8; 4];
            while let Some(ch) = chars.next() {
                html.push_str(&escape_html(ch.encode_utf8(&mut buf)));
                if breaks_after(ch) && chars.peek().is_some() {
                    html.push_str("<wbr>");
                }
            }
        } else {
            html.push_str(&escape_html(word));
        }
        word.clear();
    };
    for ch in text.chars() {
        if ch.is_whitespace() {
            flush(html, &mut word);
            let mut buf = [0u8; 4];
            html.push_str(&escape_html(ch.encode_utf8(&mut buf)));
        } else {
            word.push(ch);
        }
    }
    flush(html, &mut word);
}

/// What the `table` filter prints besides the tables: markup the tool drew, by key.
#[derive(Serialize)]
struct Drawn {
    key: usize,
}

impl DrawnTables {
    fn add(&mut self, markup: String) -> Drawn {
        self.0.push(markup);
        Drawn {
            key: self.0.len() - 1,
        }
    }
}

/// A CSS string literal holding `text` with every character but letters, digits and spaces
/// as a CSS escape: report data (a signer's name) can then neither end the string nor the
/// `<style>` element, nor spell `url(` to load anything.
fn css_string(text: &str) -> String {
    let mut out = String::from("\"");
    for ch in visible(text).chars() {
        if ch.is_ascii_alphanumeric() || ch == ' ' {
            out.push(ch);
        } else {
            out.push_str(&format!("\\{:x} ", ch as u32));
        }
    }
    out.push('"');
    out
}

/// The running header and footer of every printed page (CSS paged media margin boxes): the
/// title and report id at the top, the signature status at the bottom left (red while a
/// draft), as on every page of the PDF. Drawn here, not in the stylesheet, because it holds
/// report data, which a template may not print inside `<style>`.
fn page_style(model: &ReportModel) -> String {
    let signature_colour = if model.signoffs.is_empty() {
        "#b00020"
    } else {
        "#111"
    };
    format!(
        "<style>\n@page {{\n  @top-left {{ content: {}; }}\n  @top-right {{ content: {}; }}\n  @bottom-left {{ content: {}; color: {signature_colour}; }}\n}}\n</style>\n",
        css_string(&model.title()),
        css_string(&format!("Report {}", model.report_id)),
        css_string(&model.signature_status()),
    )
}

/// One row of the status legend.
#[derive(Serialize)]
struct LegendRow {
    status: Status,
    meaning: &'static str,
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
    collected_at: Timestamp,
    document: &'a DocumentControl,
    scope: &'a Scope,
    methodology: &'a Methodology,
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
    change_records_file: Option<&'a crate::report::ChangeRecordsSource>,
    since_last_period: Option<crate::report::diff::SinceLastPeriod<'a>>,
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
            collected_at: model.collected_at,
            document: &model.document,
            scope: &model.scope,
            methodology: &model.methodology,
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
            change_records_file: model.change_records_file.as_ref(),
            since_last_period: model
                .changes_since_previous
                .as_ref()
                .map(|diff| diff.section()),
        }
    }
}

/// Where a template came from, as its errors name it: the directory's file whenever there is
/// one (even one refused for not being a regular file), the embedded template otherwise.
fn template_label(dir: Option<&Path>, name: &str) -> String {
    match dir
        .map(|d| d.join(name))
        .filter(|p| p.symlink_metadata().is_ok())
    {
        Some(path) => format!("{name} ({})", path.display()),
        None => format!("{name} (embedded)"),
    }
}

/// The templates, checked and confined (see `sandbox`), with the budget their rendering
/// spends. `tables` is what the `table` filter may print.
fn load_templates(
    dir: Option<&Path>,
    tables: Arc<DrawnTables>,
) -> Result<(Tera, Arc<sandbox::Budget>), RenderError> {
    let mut tera = Tera::default();
    // Autoescape every template, whatever its extension (the CSS is included into HTML).
    tera.autoescape_on(vec![""]);
    let mut sources = Vec::new();
    for (name, embedded) in TEMPLATES {
        let label = template_label(dir, name);
        let read = |dir: &Path| {
            let path = dir.join(name);
            let text = read_template_file(&path)?
                .map(|bytes| {
                    String::from_utf8(bytes)
                        .map_err(|err| std::io::Error::new(std::io::ErrorKind::InvalidData, err))
                })
                .transpose()?;
            Ok::<_, std::io::Error>(text)
        };
        let text = match dir.map(read).transpose() {
            Ok(Some(Some(text))) => text,
            Ok(_) => (*embedded).to_string(),
            Err(err) => {
                let path = dir.map(|d| d.join(name)).unwrap_or_default();
                return Err(RenderError::TemplateFile(format!(
                    "{}: {err}",
                    path.display()
                )));
            }
        };
        let refused = |refusal: sandbox::Refusal| {
            RenderError::Template(format!("{label}: {}", refusal.describe(&text)))
        };
        sandbox::check_source(&text).map_err(refused)?;
        tera.add_raw_template(name, &text)
            .map_err(|err| RenderError::Template(format!("{label}: {}", error_chain(&err))))?;
        sources.push((*name, label, text));
    }
    tera.register_filter("visible", filter_visible);
    tera.register_filter("utc", filter_utc);
    tera.register_filter("yesno", filter_yes_no);
    let budget = sandbox::confine_calls(&mut tera);
    tera.register_filter(sandbox::TABLE_FILTER, tables.filter());
    for (name, label, text) in &sources {
        let checked = if *name == STYLESHEET {
            sandbox::check_stylesheet(&tera, name)
        } else {
            sandbox::confine_template(&mut tera, name, STYLESHEET)
        };
        checked.map_err(|refusal| {
            RenderError::Template(format!("{label}: {}", refusal.describe(text)))
        })?;
    }
    Ok((tera, budget))
}

/// Reads a template file of a `--templates` directory (or a package's `templates/`), `None`
/// if there is none. Only a regular file is read: a symlink could copy any file the user can
/// read into the report and the package (`report.html -> /proc/self/environ` copied the
/// environment's secrets), and a FIFO or device would block or never end. Its type is checked
/// before it is opened, and again on the opened file (opened without following a symlink),
/// so nothing swapped in between is read either. At most one byte past the size a template
/// may have is read, so a huge file is never read whole.
pub fn read_template_file(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let not_regular = || {
        std::io::Error::other(
            "is not a regular file (a symlink, FIFO or device): a template is read only from a regular file",
        )
    };
    match path.symlink_metadata() {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
        Ok(meta) if !meta.file_type().is_file() => return Err(not_regular()),
        Ok(_) => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    if !file.metadata()?.file_type().is_file() {
        return Err(not_regular());
    }
    let mut bytes = Vec::new();
    file.take(sandbox::MAX_TEMPLATE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > sandbox::MAX_TEMPLATE_BYTES {
        return Err(std::io::Error::other(format!(
            "more than {} bytes, the most a template may have",
            sandbox::MAX_TEMPLATE_BYTES
        )));
    }
    Ok(Some(bytes))
}

/// The width of the summary picture in mm: the PDF's content width, so a printed page shows
/// it at the PDF's size.
const CHART_WIDTH: f32 = super::pdf_layout::CONTENT_WIDTH;

/// The stylesheet template: plain CSS, included by report.html inside `<style>`.
const STYLESHEET: &str = "report.css";

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
    let mut drawn = DrawnTables::default();
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
                .map(|t| HtmlTable::from(t, &mut drawn)),
            details: of_control(control.id)
                .filter(|t| t.id != "results")
                .map(|t| HtmlTable::from(t, &mut drawn))
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
        .map(|t| (t.id, HtmlTable::from(t, &mut drawn)))
        .collect();
    context.insert("tables", &others);
    // The per-account summary of a scope of several accounts (absent for one account).
    if !model.account_summaries.is_empty() {
        context.insert("accounts_intro", crate::report::accounts::ACCOUNTS_INTRO);
        context.insert(
            "accounts_overview",
            &crate::report::accounts::overview(&model.account_summaries),
        );
    }
    context.insert(
        "chart",
        &drawn.add(super::svg_chart::svg(&Figure::summary(model, CHART_WIDTH))),
    );
    context.insert("page_style", &drawn.add(page_style(model)));
    context.insert(
        "legend",
        &LEGEND.map(|status| LegendRow {
            status,
            meaning: status_meaning(status),
        }),
    );
    let drawn_bytes = drawn.bytes();
    let (tera, budget) = load_templates(templates, Arc::new(drawn))?;
    let mut out = sandbox::BoundedOutput::new(drawn_bytes, budget);
    tera.render_to("report.html", &context, &mut out)
        .map_err(|err| {
            RenderError::Template(format!(
                "{}: {}",
                template_label(templates, "report.html"),
                error_chain(&err)
            ))
        })?;
    Ok(RenderedFile {
        name: "report.html".to_string(),
        bytes: out.bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breakable(text: &str) -> String {
        let mut html = String::new();
        push_breakable(&mut html, text);
        html
    }

    #[test]
    fn long_tokens_break_at_their_separators_and_short_ones_stay_whole() {
        assert_eq!(
            breakable("arn:aws:kms:eu-central-1:111122223333:key/abc"),
            "arn:<wbr>aws:<wbr>kms:<wbr>eu-central-1:<wbr>111122223333:<wbr>key&#x2F;<wbr>abc"
        );
        assert_eq!(
            breakable("region eu-central-1 ok"),
            "region <span class=\"nw\">eu-central-1</span> ok"
        );
        assert_eq!(breakable("111122223333"), "111122223333");
        assert_eq!(
            breakable("<b>&\"quoted\"</b>:and/more/than/sixteen"),
            "&lt;b&gt;&amp;<wbr>&quot;quoted&quot;&lt;&#x2F;<wbr>b&gt;:<wbr>and&#x2F;<wbr>more&#x2F;<wbr>than&#x2F;<wbr>sixteen"
        );
    }

    #[test]
    fn css_strings_hold_only_letters_digits_spaces_and_escapes() {
        let css = css_string("Zürich \"x\" </style> \\75 rl(y)\n");
        assert_eq!(
            css,
            "\"Z\\fc rich \\22 x\\22  \\3c \\2f style\\3e  \\5c 75 rl\\28 y\\29 \\a \""
        );
        let inner = &css[1..css.len() - 1];
        assert!(
            inner
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '\\')
        );
    }
}
