//! PDF renderer: the report as an inspector prints it. Cover, document control, summary, one
//! section per control with its per-method / per-key / per-trail tables, change register,
//! gaps and sign-off page, in an embedded DejaVu Sans so any European language renders and
//! Droid Sans Fallback for what DejaVu lacks (Chinese, Japanese, Korean), both embedded as
//! subsets of the glyphs used. Output is byte-reproducible: fixed font resource names,
//! subsets named after their glyphs, dates from the snapshot, and a document id derived from
//! the report id.

use std::collections::{BTreeMap, BTreeSet};

use printpdf::{
    FontId, Mm, Op, PdfDocument, PdfFont, PdfFontHandle, PdfPage, PdfSaveOptions, TextItem,
};

use super::Format;
use super::chart::Figure;
use super::pdf_layout::{
    AMBER, BLACK, CONTENT_WIDTH, Cell, Fonts, GREEN, Layout, MUTED, MeasuredFont, PAGE_HEIGHT,
    PAGE_WIDTH, PageFrame, RED,
};
use super::{RenderError, RenderOptions, RenderedFile};
use crate::controls::{Status, Verdict, catalog};
use crate::report::format::{LEGEND, status_meaning, visible};
use crate::report::table::{Audience, Table, Tone};
use crate::report::{ReportModel, UNSIGNED_TEXT, accounts};

pub(super) const REGULAR_TTF: &[u8] = include_bytes!("../../../../../assets/fonts/DejaVuSans.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../../../../assets/fonts/DejaVuSans-Bold.ttf");
pub(super) const FALLBACK_TTF: &[u8] =
    include_bytes!("../../../../../assets/fonts/DroidSansFallbackFull.ttf");

const TABLE_SIZE: f32 = 7.0;
const BODY_SIZE: f32 = 9.0;

fn load_fonts() -> Result<Fonts, RenderError> {
    let parse = |id: &str, name: &'static str, bytes: &'static [u8]| {
        MeasuredFont::parse(id, name, bytes).ok_or_else(|| {
            RenderError::Pdf(format!("the embedded font {name} could not be parsed"))
        })
    };
    Ok(Fonts::new(
        parse("F1", "DejaVuSans", REGULAR_TTF)?,
        parse("F2", "DejaVuSans-Bold", BOLD_TTF)?,
        load_fallback_font,
    ))
}

/// The fallback font, parsed the first time a character needs it (4 MB of font data that
/// most reports never touch). A unit test proves it parses; were it ever not to, the
/// characters only it has print as .notdef boxes rather than the report failing.
pub(super) fn load_fallback_font() -> Option<MeasuredFont> {
    MeasuredFont::parse("F3", "DroidSansFallbackFull", FALLBACK_TTF)
}

fn status_cell(status: Status) -> Cell {
    let colour = match status {
        Status::Pass | Status::Controlled => GREEN,
        Status::Fail => RED,
        Status::EvidenceGap => AMBER,
        Status::NotApplicable | Status::NoResources => MUTED,
    };
    Cell::coloured(status.as_str(), colour)
}

fn v(text: &str) -> Cell {
    Cell::plain(visible(text))
}

fn verdict_colour(verdict: Verdict) -> (f32, f32, f32) {
    match verdict {
        Verdict::Compliant => GREEN,
        Verdict::NonCompliant => RED,
        Verdict::Incomplete => AMBER,
    }
}

pub fn render(model: &ReportModel, options: &RenderOptions) -> Result<RenderedFile, RenderError> {
    let fonts = load_fonts()?;
    let mut layout = Layout::new(&fonts);
    let tables = model.tables(Audience::Human {
        max_changes: options.pdf_max_changes,
    });
    cover(&mut layout, model);
    document_control(&mut layout, model);
    scope(&mut layout, model, &tables);
    methodology(&mut layout, model);
    summary(&mut layout, model);
    account_summaries(&mut layout, &tables);
    if let Some(diff) = &model.changes_since_previous {
        changes_since_last_period(&mut layout, diff);
    }
    for control in &model.controls {
        control_section(&mut layout, &tables, control.id);
    }
    change_register(&mut layout, model, &tables, options.pdf_max_changes);
    gaps(&mut layout, model, &tables);
    signoff_page(&mut layout, model, &tables);

    let frame = PageFrame {
        header_left: model.title(),
        header_right: format!("Report {}", model.report_id),
        footer_left: format!(
            "gxp-evidence {} · evidence SHA-256 {} · collected {} · rendered {}",
            model.tool_version,
            model.evidence_sha256,
            model.collected_at.0.format("%Y-%m-%d %H:%M UTC"),
            model.document.rendered_at.0.format("%Y-%m-%d %H:%M UTC")
        ),
        footer_signature: model.signature_status(),
    };
    let pages = layout.finish(&frame);
    let bytes = save(model, &fonts, pages)?;
    Ok(RenderedFile {
        name: "report.pdf".to_string(),
        bytes,
    })
}

fn save(
    model: &ReportModel,
    fonts: &Fonts,
    pages: Vec<Vec<printpdf::Op>>,
) -> Result<Vec<u8>, RenderError> {
    let mut doc = PdfDocument::new(&model.title());
    let used = used_glyphs(&pages, fonts);
    // Fixed resource names instead of printpdf's generated ones keep the bytes reproducible.
    for font in fonts.loaded() {
        let Some(glyphs) = used.get(&font.id) else {
            continue;
        };
        let subset = font.subset(glyphs).map_err(|err| {
            RenderError::Pdf(format!(
                "the embedded font {} could not be subset: {err}",
                font.id.0
            ))
        })?;
        doc.resources
            .fonts
            .map
            .insert(font.id.clone(), PdfFont::new(subset));
    }
    let created =
        printpdf::OffsetDateTime::from_unix_timestamp(model.document.rendered_at.0.timestamp())
            .map_err(|err| RenderError::Pdf(format!("report date out of range: {err}")))?;
    let info = &mut doc.metadata.info;
    info.creation_date = created;
    info.modification_date = created;
    info.metadata_date = created;
    info.author = "gxp-evidence".to_string();
    info.creator = format!("gxp-evidence {}", model.tool_version);
    info.producer = format!("gxp-evidence {} (printpdf)", model.tool_version);
    info.subject = format!(
        "Report {} · evidence SHA-256 {}",
        model.report_id, model.evidence_sha256
    );
    info.identifier = model.report_id.clone();
    doc.with_pages(
        pages
            .into_iter()
            .map(|ops| PdfPage::new(Mm(PAGE_WIDTH), Mm(PAGE_HEIGHT), ops))
            .collect(),
    );
    let mut warnings = Vec::new();
    let mut lopdf_doc = doc.to_lopdf_document(&PdfSaveOptions::default(), &mut warnings);
    drop(doc);
    // printpdf puts a counter-based random /ID in the trailer; derive it from the content
    // instead so the same snapshot always gives the same bytes.
    let id = lopdf::Object::String(
        model
            .evidence_sha256
            .as_bytes()
            .iter()
            .take(32)
            .copied()
            .collect(),
        lopdf::StringFormat::Hexadecimal,
    );
    lopdf_doc
        .trailer
        .set("ID", lopdf::Object::Array(vec![id.clone(), id]));
    compress_streams(&mut lopdf_doc);
    let mut bytes = Vec::new();
    lopdf_doc
        .save_to(&mut bytes)
        .map_err(|err| RenderError::Pdf(err.to_string()))?;
    Ok(bytes)
}

/// The glyphs each font draws on `pages`, by font resource id: what its subset must keep.
fn used_glyphs(pages: &[Vec<Op>], fonts: &Fonts) -> BTreeMap<FontId, BTreeSet<u16>> {
    let loaded: Vec<_> = fonts.loaded().collect();
    // A flag per glyph id, not a set: a long report shows tens of millions of characters.
    let mut seen: Vec<Vec<bool>> = vec![vec![false; usize::from(u16::MAX) + 1]; loaded.len()];
    for ops in pages {
        let mut current = None;
        for op in ops {
            match op {
                Op::SetFont {
                    font: PdfFontHandle::External(id),
                    ..
                } => current = loaded.iter().position(|font| font.id == *id),
                Op::ShowText { items } => {
                    let Some(index) = current else { continue };
                    for item in items {
                        if let TextItem::Text(text) = item {
                            for ch in text.chars() {
                                seen[index][usize::from(loaded[index].glyph_id(ch))] = true;
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    loaded
        .iter()
        .zip(seen)
        .filter(|(_, seen)| seen.contains(&true))
        .map(|(font, seen)| {
            let glyphs = (0..=u16::MAX)
                .filter(|glyph| seen[usize::from(*glyph)])
                .collect();
            (font.id.clone(), glyphs)
        })
        .collect()
}

/// Compresses every compressible stream with zlib's default level, spread over the
/// available cores. (lopdf's own `compress` uses the best level, which took most of the time
/// of a long report for a file about 1 % smaller.) A stream that would not shrink stays as
/// it is, as in lopdf.
fn compress_streams(doc: &mut lopdf::Document) {
    let mut streams: Vec<&mut lopdf::Stream> = doc
        .objects
        .values_mut()
        .filter_map(|object| match object {
            lopdf::Object::Stream(stream)
                if stream.allows_compression && stream.dict.get(b"Filter").is_err() =>
            {
                Some(stream)
            }
            _ => None,
        })
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = streams.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for chunk in streams.chunks_mut(per_thread) {
            scope.spawn(move || {
                for stream in chunk {
                    if let Some(compressed) =
                        deflate(&stream.content).filter(|c| c.len() + 19 < stream.content.len())
                    {
                        stream.dict.set("Filter", "FlateDecode");
                        stream.set_content(compressed);
                    }
                }
            });
        }
    });
}

/// zlib (RFC 1950) at the default level, as PDF's FlateDecode expects.
fn deflate(content: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(content).ok()?;
    encoder.finish().ok()
}

fn cover(layout: &mut Layout, model: &ReportModel) {
    layout.space(18.0);
    layout.paragraph(
        "EU GMP Annex 11 / 21 CFR Part 11 evidence report",
        12.0,
        false,
        MUTED,
    );
    layout.paragraph(&visible(&model.system_name), 24.0, true, BLACK);
    layout.paragraph(
        &format!(
            "AWS {} · reporting period {} ({} – {}, end exclusive)",
            crate::report::SERVICES_TEXT,
            model.period_label,
            model.period.start.display_utc(),
            model.period.end.display_utc()
        ),
        11.0,
        false,
        BLACK,
    );
    layout.space(8.0);
    let selection = (model.document.control_selection.as_ref())
        .map(|s| format!(" ({})", s.count_text()))
        .unwrap_or_default();
    layout.banner(
        &format!("Verdict: {}{selection}", model.verdict.as_str()),
        18.0,
        verdict_colour(model.verdict),
    );
    layout.paragraph(&model.verdict_text, 11.0, false, BLACK);
    layout.paragraph(&model.document.reading_text(), BODY_SIZE, false, BLACK);
    layout.space(6.0);
    let t = &model.totals;
    layout.paragraph(
        &format!(
            "{} results (one per control, resource and reading: {} are judged twice, in the lenient and the strict reading): {} PASS, {} CONTROLLED, {} FAIL, {} NOT_APPLICABLE, {} NO_RESOURCES, {} EVIDENCE_GAP. {} changes in the period, {} weakening changes applied ({} controlled, {} uncontrolled), {} logging gap(s), {} failed collection call(s).",
            model.findings.len(), crate::report::two_reading_controls(), t.pass, t.controlled, t.fail, t.not_applicable, t.no_resources, t.evidence_gap,
            model.change_totals.total, model.change_totals.weakening_effective,
            model.change_totals.weakening_controlled, model.change_totals.weakening_uncontrolled,
            model.logging_gaps.len(), model.evidence_gaps.len()
        ),
        10.0,
        false,
        BLACK,
    );
    // The per-account summary of a scope of several accounts (absent for one account).
    if !model.account_summaries.is_empty() {
        layout.paragraph(
            &accounts::overview(&model.account_summaries),
            10.0,
            false,
            BLACK,
        );
    }
    layout.space(8.0);
    layout.table(
        &["", ""],
        &[1.0, 3.0],
        &[
            vec![Cell::plain("Report id"), Cell::plain(&model.report_id)],
            vec![
                Cell::plain("Revision"),
                Cell::plain(model.document.revision_text()),
            ],
            vec![Cell::plain("System owner"), system_owner_cell(model)],
            vec![
                Cell::plain("Collected at"),
                Cell::plain(model.collected_at.display_utc()),
            ],
            vec![
                Cell::plain("Rendered at"),
                Cell::plain(model.document.rendered_at.display_utc()),
            ],
            vec![
                Cell::plain("Verdict reading"),
                Cell::plain(model.document.verdict_reading.as_str()),
            ],
            vec![
                Cell::plain("Evidence SHA-256"),
                Cell::plain(&model.evidence_sha256),
            ],
            vec![
                Cell::plain("Signature status"),
                if model.signoffs.is_empty() {
                    Cell::coloured(UNSIGNED_TEXT, RED)
                } else {
                    Cell::plain(model.signature_status())
                },
            ],
        ],
        10.0,
    );
}

fn document_control(layout: &mut Layout, model: &ReportModel) {
    layout.new_page();
    layout.heading("Document control", 1);
    let collected_by: Vec<String> = model
        .collected_by
        .iter()
        .map(|c| format!("{}: {}", c.account_id, visible(&c.caller_arn)))
        .collect();
    let doc = &model.document;
    let settings: Vec<String> = doc
        .settings
        .iter()
        .map(|s| format!("{}: {}", s.name, visible(&s.display())))
        .collect();
    let rows = vec![
        vec![Cell::plain("Report id"), Cell::plain(&model.report_id)],
        vec![Cell::plain("Revision"), Cell::plain(doc.revision_text())],
        vec![Cell::plain("System"), v(&model.system_name)],
        vec![Cell::plain("System owner"), system_owner_cell(model)],
        vec![
            Cell::plain("Reporting period"),
            Cell::plain(format!(
                "{} – {} (UTC, end exclusive)",
                model.period.start.display_utc(),
                model.period.end.display_utc()
            )),
        ],
        vec![
            Cell::plain("Accounts in scope"),
            v(&model.accounts.join(", ")),
        ],
        vec![
            Cell::plain("Regions in scope"),
            v(&model.regions.join(", ")),
        ],
        vec![
            Cell::plain("Collected at"),
            Cell::plain(format!(
                "{} by gxp-evidence {}",
                model.collected_at.display_utc(),
                visible(&model.collector_version)
            )),
        ],
        vec![
            Cell::plain("Rendered at"),
            Cell::plain(format!(
                "{} by gxp-evidence {}",
                doc.rendered_at.display_utc(),
                model.tool_version
            )),
        ],
        vec![
            Cell::plain("Collected as"),
            Cell::plain(collected_by.join("\n")),
        ],
        vec![
            Cell::plain("Evidence snapshot SHA-256"),
            Cell::plain(&model.evidence_sha256),
        ],
        vec![
            Cell::plain("Evidence attestation"),
            Cell::plain(model.attestation_status()),
        ],
        vec![
            Cell::plain("Settings used (source)"),
            Cell::plain(settings.join("\n")),
        ],
        vec![
            Cell::plain("Signature status"),
            Cell::plain(model.signature_status()),
        ],
        vec![
            Cell::plain("Reproducibility"),
            Cell::plain(
                "This report is a pure function of the evidence snapshot (evidence.json) with the SHA-256 above \
                 and of the report-time parameters sealed in manifest.json (system owner, revision, superseded \
                 report, verdict reading and the rendering time). gxp-evidence verify re-renders the package \
                 from them and finds byte-identical PDF, HTML, CSV and results.json files.",
            ),
        ],
    ];
    layout.table(&["Item", "Value"], &[1.0, 3.5], &rows, BODY_SIZE);
    layout.heading_with_table(
        "Result statuses",
        &["Status", "Meaning"],
        &[1.0, 5.0],
        &LEGEND.map(|status| vec![status_cell(status), Cell::plain(status_meaning(status))]),
        BODY_SIZE,
    );
}

fn system_owner_cell(model: &ReportModel) -> Cell {
    match &model.document.system_owner {
        Some(owner) => v(owner),
        None => Cell::coloured("not stated (report --system-owner)", AMBER),
    }
}

fn scope(layout: &mut Layout, model: &ReportModel, tables: &[Table]) {
    layout.new_page();
    layout.heading("Scope", 1);
    layout.paragraph(
        &format!(
            "Accounts: {}. Regions: {}. Period: {} – {} (UTC, end exclusive).",
            visible(&model.accounts.join(", ")),
            visible(&model.regions.join(", ")),
            model.period.start.display_utc(),
            model.period.end.display_utc()
        ),
        BODY_SIZE,
        false,
        BLACK,
    );
    layout.heading("Covered", 2);
    let covered: Vec<Vec<Cell>> = model
        .scope
        .covered
        .iter()
        .map(|c| {
            vec![
                Cell::plain(c.service),
                Cell::plain(c.resource_type),
                Cell::plain(c.count.to_string()),
            ]
        })
        .collect();
    layout.table(
        &["Service", "Resource type", "Count"],
        &[1.2, 4.0, 0.8],
        &covered,
        BODY_SIZE,
    );
    layout.heading("Not covered", 2);
    layout.paragraph(
        "The report says nothing about the following. Silence about them is not compliance.",
        BODY_SIZE,
        true,
        AMBER,
    );
    let not_covered: Vec<Vec<Cell>> = model
        .scope
        .not_covered
        .iter()
        .map(|n| vec![Cell::plain(&*n.what), Cell::plain(&*n.consequence)])
        .collect();
    layout.table(&["Not covered", "So"], &[2.5, 3.5], &not_covered, BODY_SIZE);
    if let Some(inventory) = find(tables, "inventory") {
        layout.heading(inventory.title, 2);
        if inventory.is_empty() {
            layout.paragraph(
                inventory.empty_text.unwrap_or_default(),
                BODY_SIZE,
                false,
                BLACK,
            );
        } else {
            draw(layout, inventory);
        }
    }
}

fn methodology(layout: &mut Layout, model: &ReportModel) {
    layout.new_page();
    layout.heading("Methodology", 1);
    let m = &model.methodology;
    layout.heading("API calls", 2);
    layout.paragraph(
        "Every call is read-only. Every list is paginated to its end; a failed call is recorded as an evidence gap.",
        BODY_SIZE,
        false,
        BLACK,
    );
    let calls: Vec<Vec<Cell>> = m
        .api_calls
        .iter()
        .map(|c| vec![Cell::plain(c.service), Cell::plain(c.calls)])
        .collect();
    layout.table(&["Service", "Calls"], &[1.2, 5.0], &calls, BODY_SIZE);
    layout.heading(m.change_events_heading, 2);
    layout.paragraph(&m.lookup_plan_text, BODY_SIZE, false, BLACK);
    layout.heading("Readings and verdict", 2);
    layout.paragraph(&m.reading_text, BODY_SIZE, false, BLACK);
    layout.heading("Period", 2);
    layout.paragraph(m.period_statement, BODY_SIZE, false, BLACK);
}

fn summary(layout: &mut Layout, model: &ReportModel) {
    layout.new_page();
    layout.heading("Summary", 1);
    layout.paragraph(
        &format!(
            "Verdict: {} — {}",
            model.verdict.as_str(),
            model.verdict_text
        ),
        10.0,
        true,
        verdict_colour(model.verdict),
    );
    super::pdf_chart::draw(layout, &Figure::summary(model, CONTENT_WIDTH));
    let rows: Vec<Vec<Cell>> = model
        .summary
        .iter()
        .map(|s| {
            vec![
                Cell::plain(&s.control_id),
                Cell::plain(&s.title),
                Cell::plain(&s.view_label),
                Cell::plain(&s.clauses),
                Cell::plain(s.counts.pass.to_string()),
                Cell::plain(s.counts.controlled.to_string()),
                Cell::plain(s.counts.fail.to_string()),
                Cell::plain(s.counts.not_applicable.to_string()),
                Cell::plain(s.counts.no_resources.to_string()),
                Cell::plain(s.counts.evidence_gap.to_string()),
                status_cell(s.outcome),
            ]
        })
        .collect();
    layout.table(
        &[
            "Control", "Title", "Reading", "Annex 11", "PASS", "CTRL", "FAIL", "N/A", "NO RES.",
            "GAP", "Outcome",
        ],
        &[2.9, 3.5, 1.8, 3.1, 0.8, 0.8, 0.7, 0.7, 0.8, 0.7, 2.2],
        &rows,
        8.0,
    );
    let c = &model.change_totals;
    layout.paragraph(
        &format!(
            "Change register: {} write events on {}; {} weakening ({} applied: {} controlled by a change record, {} uncontrolled), {} strengthening, {} neutral; {} failed calls (listed, no state change). Logging gaps: {}. Evidence gaps: {}.",
            c.total, crate::report::SERVICES_TEXT, c.weakening, c.weakening_effective, c.weakening_controlled, c.weakening_uncontrolled, c.strengthening, c.neutral, c.failed_calls,
            model.logging_gaps.len(), model.evidence_gaps.len()
        ),
        BODY_SIZE,
        false,
        BLACK,
    );
}

fn changes_since_last_period(layout: &mut Layout, diff: &crate::report::diff::PackageDiff) {
    let section = diff.section();
    layout.new_page();
    layout.heading("Changes since last period", 1);
    layout.paragraph(&section.intro, BODY_SIZE, false, BLACK);
    if section.status_changes.is_empty() {
        layout.paragraph("No finding changed status.", BODY_SIZE, false, BLACK);
        return;
    }
    let rows: Vec<Vec<Cell>> = section
        .status_changes
        .iter()
        .map(|c| {
            vec![
                Cell::plain(&c.finding_id),
                Cell::plain(&c.control_id),
                Cell::plain(&c.account_id),
                Cell::plain(&c.region),
                Cell::plain(&c.resource),
                Cell::plain(&c.view),
                status_cell(c.from),
                status_cell(c.to),
            ]
        })
        .collect();
    layout.table(
        &[
            "Finding", "Control", "Account", "Region", "Resource", "Reading", "Was", "Now",
        ],
        &[2.4, 2.8, 1.6, 1.5, 4.0, 1.5, 1.8, 1.8],
        &rows,
        7.0,
    );
}

/// The per-account summary, after the control summary, when the scope has several accounts.
fn account_summaries(layout: &mut Layout, tables: &[Table]) {
    let Some(table) = find(tables, "accounts") else {
        return;
    };
    layout.heading(&format!("{} ({} accounts)", table.title, table.len()), 2);
    layout.paragraph(accounts::ACCOUNTS_INTRO, BODY_SIZE, false, BLACK);
    draw(layout, table);
}

fn control_section(layout: &mut Layout, tables: &[Table], control_id: &str) {
    let Some(control) = catalog::find(control_id) else {
        return;
    };
    layout.new_page();
    layout.heading(&format!("{} — {}", control.id, control.title), 1);
    layout.paragraph(
        &format!("Annex 11: {}", control.clauses.join("; ")),
        BODY_SIZE,
        true,
        BLACK,
    );
    layout.paragraph(
        &format!("Cross-references: {}", control.cross_references.join("; ")),
        BODY_SIZE,
        false,
        BLACK,
    );
    layout.paragraph(control.rationale, BODY_SIZE, false, BLACK);
    layout.heading("Remediation", 3);
    layout.paragraph(control.remediation, 8.0, false, MUTED);
    layout.heading("Results", 2);
    for table in tables.iter().filter(|t| t.control == Some(control.id)) {
        if !table.title.is_empty() {
            layout.heading(table.title, 2);
        }
        match table.empty_text {
            Some(text) if table.is_empty() => layout.paragraph(text, BODY_SIZE, false, BLACK),
            _ => draw(layout, table),
        }
    }
}

/// Draws any table: its PDF columns, widths and font size, each cell in its tone.
fn draw(layout: &mut Layout, table: &Table) {
    let (headers, widths): (Vec<&str>, Vec<f32>) =
        table.columns(Format::Pdf).filter_map(|c| c.pdf).unzip();
    let rows: Vec<Vec<Cell>> = table
        .rows(Format::Pdf)
        .map(|row| {
            row.iter()
                .map(|cell| Cell {
                    text: cell.text_shown().into_owned(),
                    colour: match cell.tone {
                        Tone::Plain => None,
                        Tone::Good => Some(GREEN),
                        Tone::Bad => Some(RED),
                        Tone::Warn => Some(AMBER),
                        Tone::Muted => Some(MUTED),
                    },
                    bold: cell.bold,
                })
                .collect()
        })
        .collect();
    layout.table(&headers, &widths, &rows, table.pdf_size);
}

fn find<'t, 'a>(tables: &'t [Table<'a>], id: &str) -> Option<&'t Table<'a>> {
    tables.iter().find(|t| t.id == id)
}

fn change_register(layout: &mut Layout, model: &ReportModel, tables: &[Table], max_changes: usize) {
    layout.new_page();
    layout.heading("Change register", 1);
    let c = &model.change_totals;
    layout.paragraph(
        &format!(
            "Every write event of the period on {}, by time (user agents shortened; changes.csv has every field in full). {} events: {} weakening ({} applied), {} strengthening, {} neutral; {} failed calls are listed but changed nothing. Weakening changes need a documented change record (Annex 11 §10). {} later event(s), after the period and up to collection, were replayed to rebuild the period's settings (the period rule); they are not in this register.",
            c.total,
            crate::report::SERVICES_TEXT,
            c.weakening,
            c.weakening_effective,
            c.strengthening,
            c.neutral,
            c.failed_calls,
            c.replayed_after_period
        ),
        BODY_SIZE,
        false,
        BLACK,
    );
    layout.paragraph(&change_records_text(model), BODY_SIZE, false, BLACK);
    let listed = find(tables, "changes");
    let groups = find(tables, "change-groups");
    match (listed, groups) {
        (Some(listed), Some(groups)) => {
            layout.paragraph(
                &format!(
                    "The register has {} changes, more than this PDF lists in full (limit {}). All {} weakening changes and failed calls are listed below; the other {} changes are summarised per event name. The full register is in changes.csv.",
                    model.changes.len(),
                    max_changes,
                    listed.len(),
                    model.changes.len() - listed.len()
                ),
                BODY_SIZE,
                true,
                AMBER,
            );
            layout.heading("Weakening changes and failed calls", 2);
            draw(layout, listed);
            layout.heading(groups.title, 2);
            draw(layout, groups);
        }
        (Some(listed), None) => draw(layout, listed),
        _ => {}
    }
    if let Some(records) = find(tables, "change-records").filter(|t| !t.is_empty()) {
        layout.heading(records.title, 2);
        draw(layout, records);
    }
    // What was searched, one row per account, region and kind of query (the per-event-name
    // KMS queries summed; results.json and the HTML list each query).
    if let Some(plan) = find(tables, "lookup-summary").filter(|t| !t.is_empty()) {
        layout.heading(plan.title, 2);
        draw(layout, plan);
    }
}

/// How the register was reconciled with change records (Annex 11 §10), in one paragraph.
fn change_records_text(model: &ReportModel) -> String {
    let c = &model.change_totals;
    match &model.change_records_file {
        Some(file) => format!(
            "Reconciled with the change records file {}: {} applied weakening change(s) controlled by a record approved before them, {} uncontrolled (FAIL). Records that match no change are listed below as NOT_SEEN (planned but not seen).",
            file.describe(),
            c.weakening_controlled,
            c.weakening_uncontrolled
        ),
        None => "No change records were given (report --change-records FILE): every applied weakening change is a change-control FAIL.".to_string(),
    }
}

fn gaps(layout: &mut Layout, model: &ReportModel, tables: &[Table]) {
    layout.new_page();
    layout.heading("Evidence gaps", 1);
    if model.evidence_gaps.is_empty() {
        layout.paragraph(
            "Every call of the collection succeeded: no evidence is missing.",
            BODY_SIZE,
            false,
            BLACK,
        );
        return;
    }
    layout.paragraph(
        "These calls failed. The evidence they would have produced is missing, and the affected controls show EVIDENCE_GAP, so the verdict cannot be COMPLIANT.",
        BODY_SIZE,
        false,
        BLACK,
    );
    if let Some(table) = find(tables, "evidence-gaps") {
        draw(layout, table);
    }
}

fn signoff_page(layout: &mut Layout, model: &ReportModel, tables: &[Table]) {
    layout.new_page();
    layout.heading("Sign-off", 1);
    if model.signoffs.is_empty() {
        layout.banner(UNSIGNED_TEXT, 16.0, RED);
        layout.paragraph(
            "This report has not been electronically signed. It is a draft until the people responsible sign it, \
             each with their printed name, the date and time, and the meaning of their signature (Annex 11 §14, 21 CFR 11.50).",
            BODY_SIZE,
            false,
            BLACK,
        );
        return;
    }
    if let Some(table) = find(tables, "signoffs") {
        draw(layout, table);
    }
    for s in &model.signoffs {
        let previous = if s.previous_signoff_sha256.is_empty() {
            "the first sign-off".to_string()
        } else {
            format!("after sign-off SHA-256 {}", s.previous_signoff_sha256)
        };
        layout.paragraph(
            &format!(
                "Sign-off {} signs evidence SHA-256 {} and results SHA-256 {}, {}; its own SHA-256 is {}.",
                s.sequence, s.evidence_sha256, s.results_sha256, previous, s.signoff_sha256
            ),
            TABLE_SIZE,
            false,
            BLACK,
        );
    }
    layout.paragraph(
        "Each signature is checked offline with gxp-evidence verify, which also re-computes this report from the evidence.",
        TABLE_SIZE,
        false,
        BLACK,
    );
}
