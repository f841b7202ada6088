//! PDF renderer: the report as an inspector prints it. Cover, document control, summary, one
//! section per control with its per-method / per-key / per-trail tables, change register,
//! gaps and sign-off page, in an embedded DejaVu Sans so any European language renders.
//! Output is byte-reproducible: fixed font resource names, dates from the snapshot, and a
//! document id derived from the report id.

use std::collections::BTreeMap;

use printpdf::{Mm, ParsedFont, PdfDocument, PdfFont, PdfPage, PdfSaveOptions};

use super::pdf_layout::{
    AMBER, BLACK, Cell, Fonts, GREEN, Layout, MUTED, MeasuredFont, PAGE_HEIGHT, PAGE_WIDTH,
    PageFrame, RED,
};
use super::{RenderError, RenderOptions, RenderedFile};
use crate::controls::{ChangeClass, ChangeRow, Finding, Status, Verdict, catalog};
use crate::report::format::{date, opt_number, opt_yes_no, time, visible, yes_no};
use crate::report::{ReportModel, UNSIGNED_TEXT};

pub(super) const REGULAR_TTF: &[u8] = include_bytes!("../../../../../assets/fonts/DejaVuSans.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../../../../assets/fonts/DejaVuSans-Bold.ttf");

const TABLE_SIZE: f32 = 7.0;
const BODY_SIZE: f32 = 9.0;

fn load_fonts() -> Result<Fonts, RenderError> {
    let parse = |bytes: &[u8], name: &str| {
        ParsedFont::from_bytes(bytes, 0, &mut Vec::new()).ok_or_else(|| {
            RenderError::Pdf(format!("the embedded font {name} could not be parsed"))
        })
    };
    Ok(Fonts {
        regular: MeasuredFont::new("F1", parse(REGULAR_TTF, "DejaVuSans")?),
        bold: MeasuredFont::new("F2", parse(BOLD_TTF, "DejaVuSans-Bold")?),
    })
}

fn status_cell(status: Status) -> Cell {
    let colour = match status {
        Status::Pass => GREEN,
        Status::Fail => RED,
        Status::EvidenceGap => AMBER,
        Status::NotApplicable | Status::NoResources => MUTED,
    };
    Cell::coloured(status.as_str(), colour)
}

fn class_cell(change: &ChangeRow) -> Cell {
    let text = format!(
        "{}\n{}",
        change.classification.as_str(),
        visible(&change.classification_reason)
    );
    match change.classification {
        ChangeClass::Weakening => Cell {
            text,
            colour: Some(RED),
            bold: false,
        },
        ChangeClass::Strengthening => Cell {
            text,
            colour: Some(GREEN),
            bold: false,
        },
        ChangeClass::Neutral => Cell::plain(text),
    }
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
    cover(&mut layout, model);
    document_control(&mut layout, model);
    summary(&mut layout, model);
    for control in &model.controls {
        control_section(&mut layout, model, control.id);
    }
    change_register(&mut layout, model, options.pdf_max_changes);
    gaps(&mut layout, model);
    signoff_page(&mut layout, model);

    let frame = PageFrame {
        header_left: model.title(),
        header_right: format!("Report {}", model.report_id),
        footer_left: format!(
            "gxp-evidence {} · evidence SHA-256 {} · generated {}",
            model.tool_version,
            model.evidence_sha256,
            model.generated_at.display_utc()
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
    // Fixed resource names instead of printpdf's generated ones keep the bytes reproducible.
    for font in [&fonts.regular, &fonts.bold] {
        doc.resources
            .fonts
            .map
            .insert(font.id.clone(), PdfFont::new(font.parsed().clone()));
    }
    let created = printpdf::OffsetDateTime::from_unix_timestamp(model.generated_at.0.timestamp())
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
    lopdf_doc.compress();
    let mut bytes = Vec::new();
    lopdf_doc
        .save_to(&mut bytes)
        .map_err(|err| RenderError::Pdf(err.to_string()))?;
    Ok(bytes)
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
            "AWS API Gateway, KMS and CloudTrail · reporting period {} ({} – {}, end exclusive)",
            model.period_label,
            model.period.start.display_utc(),
            model.period.end.display_utc()
        ),
        11.0,
        false,
        BLACK,
    );
    layout.space(8.0);
    layout.banner(
        &format!("Verdict: {}", model.verdict.as_str()),
        18.0,
        verdict_colour(model.verdict),
    );
    layout.paragraph(&model.verdict_text, 11.0, false, BLACK);
    layout.space(6.0);
    let t = &model.totals;
    layout.paragraph(
        &format!(
            "{} results: {} PASS, {} FAIL, {} NOT_APPLICABLE, {} NO_RESOURCES, {} EVIDENCE_GAP. {} changes in the period, {} weakening changes applied, {} logging gap(s), {} evidence gap(s).",
            model.findings.len(), t.pass, t.fail, t.not_applicable, t.no_resources, t.evidence_gap,
            model.change_totals.total, model.change_totals.weakening_effective,
            model.logging_gaps.len(), model.evidence_gaps.len()
        ),
        10.0,
        false,
        BLACK,
    );
    layout.space(8.0);
    layout.table(
        &["", ""],
        &[1.0, 3.0],
        &[
            vec![Cell::plain("Report id"), Cell::plain(&model.report_id)],
            vec![
                Cell::plain("Generated"),
                Cell::plain(model.generated_at.display_utc()),
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
    let rows = vec![
        vec![Cell::plain("Report id"), Cell::plain(&model.report_id)],
        vec![Cell::plain("System"), v(&model.system_name)],
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
            Cell::plain("Evidence collected"),
            Cell::plain(format!(
                "{} by gxp-evidence {}",
                model.collected_at.display_utc(),
                visible(&model.collector_version)
            )),
        ],
        vec![
            Cell::plain("Collected as"),
            Cell::plain(collected_by.join("\n")),
        ],
        vec![
            Cell::plain("Evaluated and rendered by"),
            Cell::plain(format!("gxp-evidence {}", model.tool_version)),
        ],
        vec![
            Cell::plain("Evidence snapshot SHA-256"),
            Cell::plain(&model.evidence_sha256),
        ],
        vec![
            Cell::plain("Policy"),
            Cell::plain(format!(
                "KMS customer managed keys rotate at least every {} days",
                model.max_rotation_days
            )),
        ],
        vec![
            Cell::plain("Signature status"),
            Cell::plain(model.signature_status()),
        ],
        vec![
            Cell::plain("Reproducibility"),
            Cell::plain(
                "This report is a pure function of the evidence snapshot (evidence.json) with the SHA-256 above. \
                 Re-running gxp-evidence report on that file gives byte-identical PDF, HTML and CSV files.",
            ),
        ],
    ];
    layout.table(&["Item", "Value"], &[1.0, 3.5], &rows, BODY_SIZE);
    layout.heading("Result statuses", 2);
    layout.table(
        &["Status", "Meaning"],
        &[1.0, 5.0],
        &[
            vec![
                status_cell(Status::Pass),
                Cell::plain("The control is met for the resource."),
            ],
            vec![
                status_cell(Status::Fail),
                Cell::plain("The control is not met for the resource."),
            ],
            vec![
                status_cell(Status::NotApplicable),
                Cell::plain("The resource is outside the control's scope; the reason is given."),
            ],
            vec![
                status_cell(Status::NoResources),
                Cell::plain("The control was evaluated and nothing was in scope."),
            ],
            vec![
                status_cell(Status::EvidenceGap),
                Cell::plain(
                    "The evidence could not be collected, so the control could not be evaluated.",
                ),
            ],
        ],
        BODY_SIZE,
    );
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
            "Control", "Title", "Reading", "Annex 11", "PASS", "FAIL", "N/A", "NO RES.", "GAP",
            "Outcome",
        ],
        &[2.9, 3.7, 1.8, 3.4, 0.7, 0.7, 0.7, 0.8, 0.7, 2.3],
        &rows,
        8.0,
    );
    let c = &model.change_totals;
    layout.paragraph(
        &format!(
            "Change register: {} write events on API Gateway, KMS and CloudTrail; {} weakening ({} applied), {} strengthening, {} neutral; {} failed calls (listed, no state change). Logging gaps: {}. Evidence gaps: {}.",
            c.total, c.weakening, c.weakening_effective, c.strengthening, c.neutral, c.failed_calls,
            model.logging_gaps.len(), model.evidence_gaps.len()
        ),
        BODY_SIZE,
        false,
        BLACK,
    );
}

fn control_section(layout: &mut Layout, model: &ReportModel, control_id: &str) {
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
    if control.two_views {
        two_view_results(layout, model, control.id);
    } else {
        let rows: Vec<Vec<Cell>> = model
            .findings_of(control.id)
            .map(|f| {
                vec![
                    Cell::plain(&f.account_id),
                    Cell::plain(&f.region),
                    v(&f.resource),
                    status_cell(f.status),
                    v(&f.reason),
                ]
            })
            .collect();
        layout.table(
            &["Account", "Region", "Resource", "Status", "Reason"],
            &[1.6, 1.5, 3.2, 1.9, 6.0],
            &rows,
            TABLE_SIZE,
        );
    }
    match control.id {
        catalog::APIGW_CACHE_ENCRYPTION => methods_table(layout, model),
        catalog::APIGW_LOGGING => stages_table(layout, model),
        catalog::KMS_KEY_ROTATION => keys_table(layout, model),
        catalog::CLOUDTRAIL_MULTI_REGION => trails_table(layout, model),
        catalog::CLOUDTRAIL_CONTINUITY => logging_gaps_table(layout, model),
        _ => {}
    }
}

fn two_view_results(layout: &mut Layout, model: &ReportModel, control_id: &str) {
    let status = |f: Option<&Finding>| {
        f.map(|f| status_cell(f.status))
            .unwrap_or_else(|| Cell::plain("—"))
    };
    let reason = |f: Option<&Finding>| f.map(|f| v(&f.reason)).unwrap_or_default();
    let rows: Vec<Vec<Cell>> = model
        .view_pairs(control_id)
        .into_iter()
        .map(|pair| {
            vec![
                Cell::plain(pair.account_id),
                Cell::plain(pair.region),
                v(pair.resource),
                status(pair.security_hub),
                status(pair.aws_config),
                reason(pair.security_hub),
                reason(pair.aws_config),
            ]
        })
        .collect();
    layout.table(
        &[
            "Account",
            "Region",
            "Stage",
            "Security Hub (lenient)",
            "AWS Config (strict)",
            "Security Hub reason",
            "AWS Config reason",
        ],
        &[1.6, 1.5, 2.6, 1.5, 1.5, 4.0, 4.0],
        &rows,
        TABLE_SIZE,
    );
}

fn methods_table(layout: &mut Layout, model: &ReportModel) {
    layout.heading("Per-method cache settings", 2);
    let rows: Vec<Vec<Cell>> = model
        .methods
        .iter()
        .map(|m| {
            vec![
                Cell::plain(&m.account_id),
                Cell::plain(&m.region),
                v(&format!("{} ({})", m.api_name, m.api_id)),
                v(&m.stage),
                v(&format!("{} {}", m.http_method, m.resource_path)),
                v(&m.setting_source),
                Cell::plain(opt_yes_no(m.cache_cluster_enabled)),
                Cell::plain(opt_yes_no(m.caching_enabled)),
                Cell::plain(opt_yes_no(m.cache_data_encrypted)),
                status_cell(m.security_hub),
                status_cell(m.aws_config),
                v(&m.observation),
            ]
        })
        .collect();
    layout.table(
        &[
            "Account",
            "Region",
            "API",
            "Stage",
            "Method",
            "Setting from",
            "Cluster",
            "Caching",
            "Encrypted",
            "Security Hub",
            "AWS Config",
            "Observation",
        ],
        &[1.6, 1.5, 2.0, 0.8, 2.2, 2.2, 1.0, 1.0, 1.1, 1.2, 1.2, 2.4],
        &rows,
        TABLE_SIZE,
    );
}

fn stages_table(layout: &mut Layout, model: &ReportModel) {
    layout.heading("Stage context", 2);
    let rows: Vec<Vec<Cell>> = model
        .stages
        .iter()
        .map(|s| {
            vec![
                Cell::plain(&s.account_id),
                Cell::plain(&s.region),
                v(&format!("{} ({}) {}", s.api_name, s.api_id, s.stage)),
                v(&s.execution_logging),
                v(&s.access_logging),
                Cell::plain(yes_no(s.xray_tracing)),
                v(&s.waf_web_acl),
                v(&s.client_certificate),
                v(&s.open_methods.join(", ")),
                status_cell(s.logging_status),
            ]
        })
        .collect();
    layout.table(
        &[
            "Account",
            "Region",
            "Stage",
            "Execution logging (*/*)",
            "Access logging",
            "X-Ray",
            "WAF web ACL",
            "Client cert.",
            "Open methods (no auth, no API key)",
            "Logging",
        ],
        &[1.6, 1.5, 2.4, 1.2, 2.4, 0.7, 2.4, 1.1, 2.0, 1.2],
        &rows,
        TABLE_SIZE,
    );
}

fn keys_table(layout: &mut Layout, model: &ReportModel) {
    layout.heading("Keys", 2);
    let rows: Vec<Vec<Cell>> = model
        .keys
        .iter()
        .map(|k| {
            vec![
                Cell::plain(&k.account_id),
                Cell::plain(&k.region),
                v(&format!("{}\n{}", k.key_id, k.aliases.join(", "))),
                v(&format!("{} / {}", k.key_manager, k.key_spec)),
                v(&format!("{} / {}", k.origin, k.key_state)),
                Cell::plain(opt_yes_no(k.rotation_enabled)),
                Cell::plain(opt_number(k.rotation_period_days)),
                Cell::plain(date(k.next_rotation_date)),
                Cell::plain(time(k.last_rotation_date)),
                Cell::plain(format!(
                    "{} / {}",
                    k.automatic_rotations_in_period, k.on_demand_rotations_in_period
                )),
                status_cell(k.status),
                v(&k.reason),
            ]
        })
        .collect();
    layout.table(
        &[
            "Account",
            "Region",
            "Key / aliases",
            "Manager / spec",
            "Origin / state",
            "Rotation",
            "Period (days)",
            "Next rotation",
            "Last rotation",
            "Rotations in period (auto / on-demand)",
            "Status",
            "Reason",
        ],
        &[1.6, 1.5, 2.9, 2.0, 1.7, 1.1, 0.9, 1.3, 1.5, 1.3, 2.1, 2.8],
        &rows,
        TABLE_SIZE,
    );
}

fn trails_table(layout: &mut Layout, model: &ReportModel) {
    layout.heading("Trails", 2);
    let rows: Vec<Vec<Cell>> = model
        .trails
        .iter()
        .map(|t| {
            vec![
                Cell::plain(&t.account_id),
                v(&format!("{}\n{}", t.trail_name, t.trail_arn)),
                Cell::plain(&t.home_region),
                Cell::plain(opt_yes_no(t.multi_region)),
                Cell::plain(opt_yes_no(t.organization_trail)),
                Cell::plain(opt_yes_no(t.is_logging)),
                Cell::plain(opt_yes_no(t.log_file_validation)),
                v(if t.kms_key_id.is_empty() {
                    "none"
                } else {
                    &t.kms_key_id
                }),
                Cell::plain(&t.management_events),
                if t.kms_events_excluded {
                    Cell::coloured("yes", RED)
                } else {
                    Cell::plain("no")
                },
                Cell::plain(time(t.latest_delivery)),
            ]
        })
        .collect();
    layout.table(
        &[
            "Account",
            "Trail",
            "Home region",
            "Multi-region",
            "Organization",
            "Logging",
            "Validation",
            "KMS key",
            "Management events",
            "KMS events excluded",
            "Latest delivery",
        ],
        &[1.6, 4.0, 1.3, 1.0, 1.1, 0.9, 1.0, 3.4, 1.2, 1.1, 1.6],
        &rows,
        TABLE_SIZE,
    );
}

fn logging_gaps_table(layout: &mut Layout, model: &ReportModel) {
    layout.heading("Logging gaps", 2);
    if model.logging_gaps.is_empty() {
        layout.paragraph("No logging gaps in the period.", BODY_SIZE, false, BLACK);
        return;
    }
    let rows: Vec<Vec<Cell>> = model
        .logging_gaps
        .iter()
        .map(|g| {
            vec![
                Cell::plain(&g.account_id),
                Cell::plain(&g.region),
                v(&g.trail_name),
                Cell::plain(&g.cause),
                Cell::plain(g.started_at.display_utc()),
                v(&g.started_by),
                Cell::plain(
                    g.ended_at
                        .map(|t| t.display_utc())
                        .unwrap_or_else(|| "not resumed before the end of the period".into()),
                ),
                v(&g.ended_by),
                Cell::plain(g.duration_text()),
            ]
        })
        .collect();
    layout.table(
        &[
            "Account",
            "Region",
            "Trail",
            "Cause",
            "From",
            "Stopped by",
            "Until",
            "Resumed by",
            "Duration",
        ],
        &[1.6, 1.5, 1.6, 1.4, 1.6, 3.0, 1.6, 3.0, 1.2],
        &rows,
        TABLE_SIZE,
    );
}

/// User agents are long and rarely decisive; the PDF shortens them (changes.csv has them whole).
fn short_user_agent(agent: &str) -> String {
    const KEEP: usize = 60;
    if agent.chars().count() <= KEEP {
        visible(agent)
    } else {
        format!(
            "{}…",
            visible(&agent.chars().take(KEEP).collect::<String>())
        )
    }
}

fn change_rows<'a>(changes: impl Iterator<Item = &'a ChangeRow>) -> Vec<Vec<Cell>> {
    changes
        .map(|c| {
            let mut actor = visible(&c.actor);
            actor.push_str(&format!(" ({})", visible(&c.actor_type)));
            if !c.invoked_by.is_empty() && c.invoked_by != c.actor {
                actor.push_str(&format!("\nvia {}", visible(&c.invoked_by)));
            }
            vec![
                Cell::plain(c.event_time.display_utc()),
                Cell::plain(format!(
                    "{}\n{}",
                    visible(&c.account_id),
                    visible(&c.region)
                )),
                v(&format!(
                    "{}\n{}",
                    c.event_name,
                    c.event_source.trim_end_matches(".amazonaws.com")
                )),
                class_cell(c),
                if c.took_effect() {
                    Cell::plain("applied")
                } else {
                    Cell::coloured(format!("failed: {}", visible(&c.error_code)), AMBER)
                },
                Cell::plain(actor),
                Cell::plain(format!(
                    "{}\n{}",
                    visible(&c.source_ip),
                    short_user_agent(&c.user_agent)
                )),
                v(&c.resource),
                v(&c.request_summary),
            ]
        })
        .collect()
}

const CHANGE_HEADERS: [&str; 9] = [
    "Time (UTC)",
    "Account / region",
    "Event",
    "Class",
    "Outcome",
    "Actor",
    "Source IP / user agent",
    "Resource",
    "Request",
];
const CHANGE_WIDTHS: [f32; 9] = [1.3, 1.6, 1.9, 2.3, 1.3, 3.2, 2.3, 2.2, 3.4];
const CHANGE_SIZE: f32 = 6.5;

fn change_register(layout: &mut Layout, model: &ReportModel, max_changes: usize) {
    layout.new_page();
    layout.heading("Change register", 1);
    let c = &model.change_totals;
    layout.paragraph(
        &format!(
            "Every write event of the period on API Gateway, KMS and CloudTrail, by time (user agents shortened; changes.csv has every field in full). {} events: {} weakening ({} applied), {} strengthening, {} neutral; {} failed calls are listed but changed nothing. Weakening changes need a documented change record (Annex 11 §10).",
            c.total, c.weakening, c.weakening_effective, c.strengthening, c.neutral, c.failed_calls
        ),
        BODY_SIZE,
        false,
        BLACK,
    );
    let view = model.register_view(max_changes);
    if !view.summarised {
        layout.table(
            &CHANGE_HEADERS,
            &CHANGE_WIDTHS,
            &change_rows(view.listed.into_iter()),
            CHANGE_SIZE,
        );
    } else {
        layout.paragraph(
            &format!(
                "The register has {} changes, more than this PDF lists in full (limit {}). All {} weakening changes and failed calls are listed below; the other {} changes are summarised per event name. The full register is in changes.csv.",
                view.total,
                view.limit,
                view.listed.len(),
                view.total - view.listed.len()
            ),
            BODY_SIZE,
            true,
            AMBER,
        );
        layout.heading("Weakening changes and failed calls", 2);
        layout.table(
            &CHANGE_HEADERS,
            &CHANGE_WIDTHS,
            &change_rows(view.listed.iter().copied()),
            CHANGE_SIZE,
        );
        layout.heading("Other changes, summarised (full list in changes.csv)", 2);
        let rows: Vec<Vec<Cell>> = view
            .groups
            .iter()
            .map(|g| {
                vec![
                    v(&g.event_source),
                    v(&g.event_name),
                    Cell::plain(g.classification.as_str()),
                    Cell::plain(g.count.to_string()),
                    Cell::plain(g.first.display_utc()),
                    Cell::plain(g.last.display_utc()),
                ]
            })
            .collect();
        layout.table(
            &["Event source", "Event", "Class", "Count", "First", "Last"],
            &[2.0, 2.0, 1.4, 0.8, 1.6, 1.6],
            &rows,
            TABLE_SIZE,
        );
    }
    lookup_plan(layout, model);
}

/// What was searched, one row per account, region and kind of query. The per-event-name
/// KMS queries are summed here; results.json and the HTML list each query.
fn lookup_plan(layout: &mut Layout, model: &ReportModel) {
    if model.lookup_queries.is_empty() {
        return;
    }
    layout.heading("What was searched (LookupEvents queries)", 2);
    /// Queries, calls, events returned, events kept.
    #[derive(Default)]
    struct Totals(usize, u64, u64, u64);
    let mut groups: BTreeMap<(&str, &str, String), Totals> = BTreeMap::new();
    for q in &model.lookup_queries {
        let kind = match q.attribute.split_once('=') {
            Some(("EventName", _)) => "EventName = each KMS write operation".to_string(),
            _ => q.attribute.clone(),
        };
        let entry = groups.entry((&q.account_id, &q.region, kind)).or_default();
        entry.0 += 1;
        entry.1 += q.calls;
        entry.2 += q.events_returned;
        entry.3 += q.events_kept;
    }
    let rows: Vec<Vec<Cell>> = groups
        .into_iter()
        .map(
            |((account, region, kind), Totals(queries, calls, returned, kept))| {
                vec![
                    Cell::plain(account),
                    Cell::plain(region),
                    v(&kind),
                    Cell::plain(queries.to_string()),
                    Cell::plain(calls.to_string()),
                    Cell::plain(returned.to_string()),
                    Cell::plain(kept.to_string()),
                ]
            },
        )
        .collect();
    layout.table(
        &[
            "Account",
            "Region",
            "Lookup attribute",
            "Queries",
            "Calls",
            "Events returned",
            "Write events kept",
        ],
        &[1.3, 1.2, 3.0, 0.8, 0.8, 1.0, 1.0],
        &rows,
        TABLE_SIZE,
    );
}

fn gaps(layout: &mut Layout, model: &ReportModel) {
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
    let rows: Vec<Vec<Cell>> = model
        .evidence_gaps
        .iter()
        .map(|g| {
            vec![
                v(&g.account_id),
                v(g.region.as_deref().unwrap_or("all")),
                v(&g.service),
                v(&g.api),
                v(g.resource.as_deref().unwrap_or("")),
                Cell::coloured(visible(&g.error_code), AMBER),
                v(&g.message),
            ]
        })
        .collect();
    layout.table(
        &[
            "Account", "Region", "Service", "API", "Resource", "Error", "Message",
        ],
        &[1.6, 1.5, 1.1, 1.6, 2.0, 1.9, 5.0],
        &rows,
        TABLE_SIZE,
    );
}

fn signoff_page(layout: &mut Layout, model: &ReportModel) {
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
    let rows: Vec<Vec<Cell>> = model
        .signoffs
        .iter()
        .map(|s| {
            vec![
                Cell::plain(s.sequence.to_string()),
                v(&s.printed_name),
                v(&s.user_id),
                v(&s.role),
                Cell {
                    text: visible(&s.meaning),
                    colour: None,
                    bold: true,
                },
                Cell::plain(s.signed_at.display_utc()),
                v(&format!("{} {}", s.key_kind, s.key_fingerprint)),
            ]
        })
        .collect();
    layout.table(
        &[
            "#",
            "Printed name",
            "User id",
            "Role",
            "Meaning",
            "Signed (UTC)",
            "Key",
        ],
        &[0.4, 2.2, 1.4, 1.6, 1.2, 1.6, 4.0],
        &rows,
        BODY_SIZE,
    );
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
