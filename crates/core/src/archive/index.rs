//! The archive's HTML index (`archive index`): one self-contained page an auditor opens from
//! the file system (no scripts, no external CSS, fonts or images), with per system a row per
//! period and revision linking to its report.html / report.pdf, its verdict, signers, verify
//! status and revision links, a trend chart of the last 12 periods, and the drafts still
//! waiting for sign-off. Everything shown comes from the listing (`listing::scan`); the page
//! holds no time of its own, so the same archive always gives the same bytes.
//!
//! Package contents are untrusted text (a system name is whatever the run's config said):
//! the template autoescapes every value, hidden characters are made visible first, and the
//! only markup not escaped is the chart, drawn by `svg_chart`, which escapes its own text.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use serde::Serialize;
use tera::{Context, Tera};

use super::listing::{ArchiveListing, ControlCounts, Revision};
use crate::controls::Status;
use crate::report::format::{LEGEND, visible};
use crate::report::render::chart::{Anchor, Figure, Paint, Shape, status_legend};
use crate::report::render::{error_chain, svg_chart};

/// The index template, embedded at build time (it is not overridable: the index is the
/// auditor's view of the archive, not a document of the report).
pub const TEMPLATE: (&str, &str) = (
    "archive-index.html",
    include_str!("../../../../templates/archive-index.html"),
);

/// How many periods the trend chart shows: a year of monthly reports.
pub const TREND_PERIODS: usize = 12;

/// The trend chart's width in mm (as the report's summary picture: an A4 page's content).
const CHART_WIDTH: f32 = 180.0;

/// Why the index cannot be drawn.
#[derive(Debug, thiserror::Error)]
#[error("archive index template: {0}")]
pub struct IndexError(String);

/// One revision's row in the index.
#[derive(Debug, Serialize)]
struct Row {
    period: String,
    revision: u32,
    report_id: String,
    verdict: String,
    /// CSS class of the verdict: `compliant`, `non_compliant`, `incomplete`, `unknown`.
    verdict_class: String,
    counts: String,
    signers: Vec<String>,
    /// The required meanings not yet signed, comma-separated; empty when signed off.
    awaiting: String,
    verify: &'static str,
    verify_detail: String,
    supersedes: String,
    superseded_by: String,
    superseded: bool,
    html_link: Option<String>,
    pdf_link: Option<String>,
}

#[derive(Debug, Serialize)]
struct SystemSection {
    name: String,
    dir: String,
    rows: Vec<Row>,
    drafts: Vec<Row>,
    /// The trend chart's `<svg>`, drawn and escaped by `svg_chart`.
    chart: String,
    chart_periods: usize,
}

#[derive(Debug, Serialize)]
struct IndexPage {
    systems: Vec<SystemSection>,
    notes: Vec<String>,
    revisions: usize,
    valid: usize,
    drafts: usize,
    /// What "signed off" means for this index: the required meanings.
    required: String,
    /// Whether the signing keys were checked against trusted keys or a signer registry.
    trusted: bool,
    colours: Colours,
}

/// The report's status colours, for the verdicts (the same red, green and amber).
#[derive(Debug, Serialize)]
struct Colours {
    pass: String,
    fail: String,
    gap: String,
}

/// The index of `listing` as HTML, its links relative to `links_from`, the directory the
/// index is written in (both it and the archive root resolved to absolute paths).
pub fn render(listing: &ArchiveListing, links_from: &Path) -> Result<String, IndexError> {
    let link_base = relative_path(links_from, &listing.root);
    let mut by_system: BTreeMap<&str, Vec<&Revision>> = BTreeMap::new();
    for revision in &listing.revisions {
        by_system
            .entry(&revision.system_dir)
            .or_default()
            .push(revision);
    }
    let systems = by_system
        .into_iter()
        .map(|(dir, revisions)| {
            let rows = revisions.iter().map(|r| row(r, &link_base)).collect();
            let drafts = revisions
                .iter()
                .filter(|r| r.awaits_sign_off())
                .map(|r| row(r, &link_base))
                .collect();
            let points = trend_points(&revisions);
            // The latest revision's name: a system renamed in its config shows its current name.
            let name = revisions
                .iter()
                .rev()
                .find_map(|r| r.report.as_ref().map(|f| f.system_name.as_str()))
                .unwrap_or(dir);
            let figure = trend_figure(&points, CHART_WIDTH);
            SystemSection {
                name: visible(name),
                dir: dir.to_string(),
                rows,
                drafts,
                chart: svg_chart::svg(&figure),
                chart_periods: points.len(),
            }
        })
        .collect();
    let page = IndexPage {
        systems,
        notes: listing
            .problems
            .iter()
            .chain(&listing.notes)
            .map(|n| visible(n))
            .collect(),
        revisions: listing.revisions.len(),
        valid: listing
            .revisions
            .iter()
            .filter(|r| r.verify.is_valid())
            .count(),
        drafts: listing
            .revisions
            .iter()
            .filter(|r| r.awaits_sign_off())
            .count(),
        required: listing
            .required_meanings
            .iter()
            .map(|m| visible(m))
            .collect::<Vec<_>>()
            .join(" and "),
        trusted: listing.keys_checked,
        colours: Colours {
            pass: Paint::Status(Status::Pass).hex(),
            fail: Paint::Status(Status::Fail).hex(),
            gap: Paint::Status(Status::EvidenceGap).hex(),
        },
    };
    let mut tera = Tera::default();
    tera.autoescape_on(vec![""]);
    tera.add_raw_template(TEMPLATE.0, TEMPLATE.1)
        .map_err(|e| IndexError(e.to_string()))?;
    let context = Context::from_serialize(&page).map_err(|e| IndexError(e.to_string()))?;
    tera.render(TEMPLATE.0, &context)
        .map_err(|e| IndexError(error_chain(&e)))
}

fn row(revision: &Revision, link_base: &str) -> Row {
    let link = |file: &str| {
        revision
            .has_file(file)
            .then(|| format!("{link_base}{}/{file}", revision.path))
    };
    let report = revision.report.as_ref();
    let (verdict, verdict_class) = match report {
        Some(r) => (r.verdict_text(), r.verdict.as_str().to_lowercase()),
        None => ("unreadable".to_string(), "unknown".to_string()),
    };
    Row {
        period: revision.period.clone(),
        revision: revision.revision,
        report_id: report.map(|r| visible(&r.report_id)).unwrap_or_default(),
        verdict,
        verdict_class,
        counts: report
            .map(|r| {
                LEGEND
                    .iter()
                    .filter(|s| r.totals.of(**s) > 0)
                    .map(|s| format!("{} {}", r.totals.of(*s), s.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        signers: revision.signers.iter().map(|s| s.label()).collect(),
        awaiting: revision.awaiting.join(", "),
        verify: revision.verify.label(),
        verify_detail: visible(&revision.verify.describe()),
        supersedes: revision
            .supersedes
            .as_ref()
            .map(|p| match p.revision {
                Some(n) => format!("r{n}"),
                None => visible(&p.report_id),
            })
            .unwrap_or_default(),
        superseded_by: revision
            .superseded_by
            .iter()
            .map(|n| format!("r{n}"))
            .collect::<Vec<_>>()
            .join(", "),
        superseded: revision.is_superseded(),
        html_link: link("report.html"),
        pdf_link: link("report.pdf"),
    }
}

/// The trend's points: the last `TREND_PERIODS` periods present, oldest first, each with the
/// counts per control of its latest revision that could be read.
fn trend_points<'a>(revisions: &[&'a Revision]) -> Vec<(&'a str, &'a [ControlCounts])> {
    let mut latest: BTreeMap<&str, &[ControlCounts]> = BTreeMap::new();
    for revision in revisions {
        // Revisions come sorted by period, then revision: the last readable one wins.
        if let Some(report) = &revision.report {
            latest.insert(&revision.period, &report.controls);
        }
    }
    let skip = latest.len().saturating_sub(TREND_PERIODS);
    latest.into_iter().skip(skip).collect()
}

/// The trend chart: a row per control (each reading of a two-reading control), a column per
/// period, each cell a bar of the period's results stacked by status in the legend's order,
/// its height the count against the row's largest total, the total above it; the columns are
/// the twelve slots of a year, oldest on the left. Colours are the
/// report's (`Paint::Status`), so a FAIL is the same red as in every report it links to.
pub fn trend_figure(points: &[(&str, &[ControlCounts])], width: f32) -> Figure {
    // Wide enough for the longest label, `apigw-cache-encryption · Security Hub (lenient)`.
    const LABEL_WIDTH: f32 = 62.0;
    const TOP: f32 = 7.0;
    const PITCH: f32 = 10.5;
    const BAR_HEIGHT: f32 = 7.0;
    const TITLE_SIZE: f32 = 8.0;
    const LABEL_SIZE: f32 = 6.5;
    const SMALL_SIZE: f32 = 5.5;
    let mut shapes = Vec::new();
    let text =
        |x: f32, baseline: f32, size: f32, anchor: Anchor, paint: Paint, t: String| Shape::Text {
            x,
            baseline,
            size,
            bold: false,
            anchor,
            paint,
            text: t,
        };
    let first = points.first().map_or("", |p| p.0);
    let last = points.last().map_or("", |p| p.0);
    shapes.push(Shape::Text {
        x: 0.0,
        baseline: 3.5,
        size: TITLE_SIZE,
        bold: true,
        anchor: Anchor::Start,
        paint: Paint::Text,
        text: format!(
            "Results per control, {} period{} (latest revision of each)",
            points.len(),
            if points.len() == 1 { "" } else { "s" }
        ),
    });
    // The controls, in the order the latest period lists them, then any only earlier ones.
    let mut labels: Vec<String> = Vec::new();
    for (_, controls) in points.iter().rev() {
        for control in controls.iter() {
            let label = control.label();
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
    }
    // Always twelve slots, filled from the left: a month sits at the same width in every
    // system's chart, and a young archive does not stretch three months across the page.
    let column_width = (width - LABEL_WIDTH) / TREND_PERIODS.max(points.len()) as f32;
    let bar_width = (column_width * 0.55).min(9.0);
    let mut y = TOP;
    let mut description = Vec::new();
    for label in &labels {
        let cells: Vec<Option<&ControlCounts>> = points
            .iter()
            .map(|(_, controls)| controls.iter().find(|c| c.label() == *label))
            .collect();
        let total = |c: &ControlCounts| LEGEND.iter().map(|s| c.counts.of(*s)).sum::<usize>();
        let row_max = cells.iter().flatten().map(|c| total(c)).max().unwrap_or(0);
        shapes.push(text(
            0.0,
            y + 2.0 + BAR_HEIGHT / 2.0 + 1.0,
            LABEL_SIZE,
            Anchor::Start,
            Paint::Text,
            label.clone(),
        ));
        let bottom = y + 2.5 + BAR_HEIGHT;
        let mut said = Vec::new();
        for (index, cell) in cells.iter().enumerate() {
            let centre = LABEL_WIDTH + column_width * (index as f32 + 0.5);
            let x = centre - bar_width / 2.0;
            shapes.push(Shape::Rect {
                x,
                y: bottom - BAR_HEIGHT,
                width: bar_width,
                height: BAR_HEIGHT,
                paint: Paint::BarTrack,
            });
            let Some(cell) = cell else {
                shapes.push(text(
                    centre,
                    bottom - BAR_HEIGHT / 2.0,
                    SMALL_SIZE,
                    Anchor::Middle,
                    Paint::MutedText,
                    "—".to_string(),
                ));
                said.push(format!("{} not evaluated", points[index].0));
                continue;
            };
            let mut top = bottom;
            for status in LEGEND {
                let n = cell.counts.of(status);
                if n == 0 || row_max == 0 {
                    continue;
                }
                let height = BAR_HEIGHT * n as f32 / row_max as f32;
                top -= height;
                shapes.push(Shape::Rect {
                    x,
                    y: top,
                    width: bar_width,
                    height,
                    paint: Paint::Status(status),
                });
            }
            let n = total(cell);
            shapes.push(text(
                centre,
                (top - 0.6).min(bottom - BAR_HEIGHT - 0.6).max(y + 1.6),
                SMALL_SIZE,
                Anchor::Middle,
                Paint::MutedText,
                n.to_string(),
            ));
            let parts: Vec<String> = LEGEND
                .iter()
                .filter(|s| cell.counts.of(**s) > 0)
                .map(|s| format!("{} {}", cell.counts.of(*s), s.as_str()))
                .collect();
            said.push(format!(
                "{} {}",
                points[index].0,
                if parts.is_empty() {
                    "no results".to_string()
                } else {
                    parts.join(" ")
                }
            ));
        }
        description.push(format!("{label}: {}", said.join(", ")));
        y += PITCH;
    }
    // The periods under the columns.
    for (index, (period, _)) in points.iter().enumerate() {
        shapes.push(text(
            LABEL_WIDTH + column_width * (index as f32 + 0.5),
            y + 1.5,
            SMALL_SIZE,
            Anchor::Middle,
            Paint::Text,
            period.to_string(),
        ));
    }
    // The legend, in the reports' order and colours.
    let legend = y + 7.0;
    status_legend(&mut shapes, LABEL_WIDTH, legend, &LEGEND);
    Figure {
        width,
        height: legend + 2.0,
        description: format!(
            "Results per control for the periods {first} to {last}, latest revision of each: {}",
            description.join("; ")
        ),
        shapes,
    }
}

/// The path from directory `from` to `to` as a relative URL prefix ending in `/` (empty when
/// they are the same), every segment percent-encoded, so a link works from `file://` whatever
/// characters the folders have.
fn relative_path(from: &Path, to: &Path) -> String {
    let parts = |p: &Path| -> Vec<String> {
        p.components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect()
    };
    let (from, to) = (parts(from), parts(to));
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut url = String::new();
    for _ in common..from.len() {
        url.push_str("../");
    }
    for segment in &to[common..] {
        url.push_str(&percent_encode(segment));
        url.push('/');
    }
    url
}

/// A path segment for a URL: unreserved characters kept, every other byte `%XX`.
fn percent_encode(segment: &str) -> String {
    let mut out = String::new();
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::StatusCounts;

    #[test]
    fn links_are_relative_from_the_index_to_the_archive_and_encoded() {
        assert_eq!(
            relative_path(Path::new("/a/arch"), Path::new("/a/arch")),
            ""
        );
        assert_eq!(
            relative_path(Path::new("/a/out"), Path::new("/a/my arch#1")),
            "../my%20arch%231/"
        );
        assert_eq!(
            relative_path(Path::new("/a/arch/sub/deeper"), Path::new("/a/arch")),
            "../../"
        );
    }

    #[test]
    fn the_trend_has_a_bar_per_control_and_period_in_the_reports_colours() {
        let counts = |fail: usize, pass: usize| ControlCounts {
            control_id: "kms-rotation".into(),
            view_label: String::new(),
            counts: StatusCounts {
                fail,
                pass,
                ..StatusCounts::default()
            },
        };
        let (a, b) = ([counts(2, 1)], [counts(0, 3)]);
        let figure = trend_figure(&[("2026-09", &a), ("2026-10", &b)], 180.0);
        let tracks = figure
            .shapes
            .iter()
            .filter(|s| {
                matches!(
                    s,
                    Shape::Rect {
                        paint: Paint::BarTrack,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(tracks, 2);
        let fails: Vec<f32> = figure
            .shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Rect {
                    paint: Paint::Status(Status::Fail),
                    height,
                    ..
                } if *height > 3.0 => Some(*height),
                _ => None,
            })
            .collect();
        assert_eq!(
            fails.len(),
            1,
            "only September has FAILs (besides the legend)"
        );
        assert!(
            figure
                .description
                .contains("kms-rotation: 2026-09 1 PASS 2 FAIL, 2026-10 3 PASS")
        );
    }
}
