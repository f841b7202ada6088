//! The report's one-page picture, as geometry: per-control status bars and a timeline of the
//! period (changes applied, weakening changes applied, failed calls, logging gaps), computed
//! once from the model as rectangles, lines and labels in millimetres. The PDF draws the
//! shapes with vector operations (`pdf_chart`), the HTML as an inline SVG (`svg_chart`); so
//! both show the same picture and neither decides what goes into it.
//!
//! Everything is derived from the model only (no clock, no randomness), and a busy month's
//! 100,000 changes become at most one tick per quarter millimetre of the time axis, so the
//! figure stays small whatever the register's size.

use std::collections::BTreeSet;

use crate::controls::{ChangeClass, Status, View};
use crate::evidence::Timestamp;
use crate::report::{ControlSummary, ReportModel};

/// A colour of the picture, named by what it means (each renderer maps it to the same RGB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    Status(Status),
    /// A change that took effect and weakens nothing.
    ChangeApplied,
    /// A weakening change that took effect.
    Weakening,
    /// A call that failed and changed nothing: grey, never the red of a weakening change.
    FailedCall,
    LoggingGap,
    Text,
    MutedText,
    /// Text on a coloured bar segment.
    OnColour,
    Axis,
    /// The background of a timeline lane.
    Track,
    /// The background of a status bar (what an empty bar shows).
    BarTrack,
}

impl Paint {
    /// The colour as 8-bit RGB, the same as the PDF's and the stylesheet's.
    pub fn rgb(self) -> (u8, u8, u8) {
        match self {
            Paint::Status(Status::Pass) => (0x1b, 0x5e, 0x20),
            Paint::Status(Status::Controlled) => (0x0f, 0x76, 0x6e),
            Paint::Status(Status::Fail) | Paint::Weakening => (0xb0, 0x00, 0x20),
            Paint::Status(Status::EvidenceGap) | Paint::LoggingGap => (0xb4, 0x53, 0x09),
            Paint::Status(Status::NotApplicable) => (0x8a, 0x91, 0x99),
            Paint::Status(Status::NoResources) => (0xc5, 0xca, 0xd0),
            Paint::ChangeApplied => (0x3b, 0x5b, 0x7a),
            Paint::FailedCall => (0x9a, 0xa3, 0xad),
            Paint::Text => (0x11, 0x11, 0x11),
            Paint::MutedText => (0x55, 0x55, 0x55),
            Paint::OnColour => (0xff, 0xff, 0xff),
            Paint::Axis => (0x9a, 0xa3, 0xad),
            Paint::Track | Paint::BarTrack => (0xee, 0xf1, 0xf5),
        }
    }

    /// `#rrggbb`.
    pub fn hex(self) -> String {
        let (r, g, b) = self.rgb();
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

/// Where a label's `x` is: its start, middle or end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// One shape; coordinates in mm from the figure's top left corner, `y` growing downwards.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Rect {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        paint: Paint,
    },
    Line {
        from: (f32, f32),
        to: (f32, f32),
        /// Stroke width in mm.
        width: f32,
        paint: Paint,
    },
    Text {
        x: f32,
        /// The text's baseline.
        baseline: f32,
        /// Font size in points.
        size: f32,
        bold: bool,
        anchor: Anchor,
        paint: Paint,
        text: String,
    },
}

/// A drawn picture: its size in mm, what it shows in words (for screen readers and the SVG
/// title), and its shapes in drawing order.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub width: f32,
    pub height: f32,
    pub description: String,
    pub shapes: Vec<Shape>,
}

/// The statuses in the order the bars stack them: what needs attention first.
const STACK: [Status; 6] = [
    Status::Fail,
    Status::EvidenceGap,
    Status::Controlled,
    Status::Pass,
    Status::NotApplicable,
    Status::NoResources,
];

const TITLE_SIZE: f32 = 8.0;
const LABEL_SIZE: f32 = 6.5;
const SMALL_SIZE: f32 = 5.5;
const PT_TO_MM: f32 = 0.352_778;
/// The resolution of the time axis: changes closer than this share one tick.
const TICK_STEP_MM: f32 = 0.25;

/// The timeline's lanes, top to bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    ChangesApplied,
    WeakeningApplied,
    FailedCalls,
    LoggingGaps,
}

impl Lane {
    const ALL: [Lane; 4] = [
        Lane::ChangesApplied,
        Lane::WeakeningApplied,
        Lane::FailedCalls,
        Lane::LoggingGaps,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Lane::ChangesApplied => "Other changes applied",
            Lane::WeakeningApplied => "Weakening changes applied",
            Lane::FailedCalls => "Failed calls (no change)",
            Lane::LoggingGaps => "Logging gaps",
        }
    }

    fn paint(self) -> Paint {
        match self {
            Lane::ChangesApplied => Paint::ChangeApplied,
            Lane::WeakeningApplied => Paint::Weakening,
            Lane::FailedCalls => Paint::FailedCall,
            Lane::LoggingGaps => Paint::LoggingGap,
        }
    }
}

/// The label of one summary row's bar: the control id, and the reading for a two-view control.
pub fn bar_label(summary: &ControlSummary) -> String {
    match summary.view {
        Some(View::SecurityHub) => format!("{} · lenient", summary.control_id),
        Some(View::AwsConfig) => format!("{} · strict", summary.control_id),
        None => summary.control_id.clone(),
    }
}

/// A row of status swatches, each with its name, from `x` along `baseline`: the legend of
/// the report's summary bars and of the archive index's trend chart.
pub(crate) fn status_legend(shapes: &mut Vec<Shape>, x: f32, baseline: f32, statuses: &[Status]) {
    let mut x = x;
    for &status in statuses {
        shapes.push(Shape::Rect {
            x,
            y: baseline - 2.0,
            width: 2.4,
            height: 2.4,
            paint: Paint::Status(status),
        });
        let name = status.as_str();
        shapes.push(text(
            x + 3.2,
            baseline,
            SMALL_SIZE,
            false,
            Anchor::Start,
            Paint::Text,
            name,
        ));
        x += 5.0 + name.len() as f32 * 1.25;
    }
}

fn text(
    x: f32,
    baseline: f32,
    size: f32,
    bold: bool,
    anchor: Anchor,
    paint: Paint,
    text: impl Into<String>,
) -> Shape {
    Shape::Text {
        x,
        baseline,
        size,
        bold,
        anchor,
        paint,
        text: text.into(),
    }
}

impl Figure {
    /// The summary page's picture, `width` mm wide: the status bars on the left, the
    /// timeline of the period on the right.
    pub fn summary(model: &ReportModel, width: f32) -> Figure {
        let mut shapes = Vec::new();
        let bars_width = width * 0.46;
        let timeline_x = width * 0.52;
        let bars_height = status_bars(model, bars_width, &mut shapes);
        let timeline_height = timeline(model, timeline_x, width - timeline_x, &mut shapes);
        Figure {
            width,
            height: bars_height.max(timeline_height),
            description: format!(
                "Results per control ({} bars) and a timeline of the period {}: {}",
                model.summary.len(),
                model.period_label,
                Lane::ALL
                    .iter()
                    .map(|lane| format!("{} {}", lane_count(model, *lane), lane.label()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            shapes,
        }
    }

    /// How many bars the figure has (one per row of the summary table).
    pub fn bars(&self) -> usize {
        self.shapes
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
            .count()
    }
}

/// One horizontal bar per summary row, its segments the share of each status, the count in
/// each segment wide enough to hold it; returns the height used.
fn status_bars(model: &ReportModel, width: f32, shapes: &mut Vec<Shape>) -> f32 {
    const LABEL_WIDTH: f32 = 46.0;
    const TOTAL_WIDTH: f32 = 9.0;
    const PITCH: f32 = 4.4;
    const BAR: f32 = 3.2;
    const TOP: f32 = 6.0;
    shapes.push(text(
        0.0,
        3.5,
        TITLE_SIZE,
        true,
        Anchor::Start,
        Paint::Text,
        "Results per control",
    ));
    shapes.push(text(
        width,
        3.5,
        SMALL_SIZE,
        false,
        Anchor::End,
        Paint::MutedText,
        "results",
    ));
    let track = width - LABEL_WIDTH - TOTAL_WIDTH;
    let mut y = TOP;
    for summary in &model.summary {
        let label_baseline = y + BAR / 2.0 + LABEL_SIZE * PT_TO_MM * 0.35;
        shapes.push(text(
            0.0,
            label_baseline,
            LABEL_SIZE,
            false,
            Anchor::Start,
            Paint::Text,
            bar_label(summary),
        ));
        shapes.push(Shape::Rect {
            x: LABEL_WIDTH,
            y,
            width: track,
            height: BAR,
            paint: Paint::BarTrack,
        });
        let total: usize = STACK.iter().map(|s| summary.counts.of(*s)).sum();
        if total == 0 {
            shapes.push(text(
                LABEL_WIDTH + 1.0,
                label_baseline,
                SMALL_SIZE,
                false,
                Anchor::Start,
                Paint::MutedText,
                "no results",
            ));
        }
        let mut x = LABEL_WIDTH;
        for status in STACK {
            let n = summary.counts.of(status);
            if n == 0 {
                continue;
            }
            let segment = track * n as f32 / total as f32;
            shapes.push(Shape::Rect {
                x,
                y,
                width: segment,
                height: BAR,
                paint: Paint::Status(status),
            });
            let label = n.to_string();
            // A digit of the small size is about 1.1 mm wide; a count that does not fit
            // stays readable in the summary table above.
            if segment >= 1.6 + 1.2 * label.len() as f32 {
                let on = if status == Status::NoResources {
                    Paint::Text
                } else {
                    Paint::OnColour
                };
                shapes.push(text(
                    x + segment / 2.0,
                    y + BAR / 2.0 + SMALL_SIZE * PT_TO_MM * 0.35,
                    SMALL_SIZE,
                    true,
                    Anchor::Middle,
                    on,
                    label,
                ));
            }
            x += segment;
        }
        shapes.push(text(
            width,
            label_baseline,
            LABEL_SIZE,
            false,
            Anchor::End,
            Paint::MutedText,
            total.to_string(),
        ));
        y += PITCH;
    }
    // The legend under the bars.
    let legend = y + 2.5;
    status_legend(shapes, LABEL_WIDTH, legend, &STACK);
    legend + 2.0
}

fn lane_count(model: &ReportModel, lane: Lane) -> usize {
    match lane {
        Lane::LoggingGaps => model.logging_gaps.len(),
        _ => model.changes.iter().filter(|c| lane_of(c) == lane).count(),
    }
}

/// The lane of a change: a failed call changed nothing whatever it asked for.
fn lane_of(change: &crate::controls::ChangeRow) -> Lane {
    if !change.took_effect() {
        Lane::FailedCalls
    } else if change.classification == ChangeClass::Weakening {
        Lane::WeakeningApplied
    } else {
        Lane::ChangesApplied
    }
}

/// The timeline at `x0`, `width` mm wide; returns the height used.
fn timeline(model: &ReportModel, x0: f32, width: f32, shapes: &mut Vec<Shape>) -> f32 {
    const LABEL_WIDTH: f32 = 40.0;
    const PITCH: f32 = 6.5;
    const TOP: f32 = 6.0;
    let period = model.period;
    let track_x = x0 + LABEL_WIDTH;
    let track = width - LABEL_WIDTH;
    let span = (period.end.0 - period.start.0).num_seconds().max(1) as f64;
    // Positions are computed in f64 seconds and rounded to the tick grid, so the same period
    // always gives the same coordinates.
    let at = |t: Timestamp| -> f32 {
        let seconds = (t.0 - period.start.0).num_seconds() as f64;
        let share = (seconds / span).clamp(0.0, 1.0);
        let steps = (share * f64::from(track / TICK_STEP_MM)).round() as f32;
        track_x + steps * TICK_STEP_MM
    };
    shapes.push(text(
        x0,
        3.5,
        TITLE_SIZE,
        true,
        Anchor::Start,
        Paint::Text,
        format!("The period {} at a glance (UTC)", model.period_label),
    ));
    let mut y = TOP;
    for lane in Lane::ALL {
        let (top, height) = (y, PITCH - 2.0);
        shapes.push(Shape::Rect {
            x: track_x,
            y: top,
            width: track,
            height,
            paint: Paint::Track,
        });
        shapes.push(text(
            x0,
            top + height / 2.0 + LABEL_SIZE * PT_TO_MM * 0.35,
            LABEL_SIZE,
            false,
            Anchor::Start,
            Paint::Text,
            format!("{} ({})", lane.label(), lane_count(model, lane)),
        ));
        match lane {
            Lane::LoggingGaps => {
                for gap in &model.logging_gaps {
                    let from = at(gap.started_at);
                    let to = at(gap.ended_at.unwrap_or(period.end));
                    shapes.push(Shape::Rect {
                        x: from,
                        y: top + 0.5,
                        width: (to - from).max(0.6),
                        height: height - 1.0,
                        paint: lane.paint(),
                    });
                }
            }
            _ => {
                let ticks: BTreeSet<u32> = model
                    .changes
                    .iter()
                    .filter(|c| lane_of(c) == lane)
                    .map(|c| ((at(c.event_time) - track_x) / TICK_STEP_MM).round() as u32)
                    .collect();
                for tick in ticks {
                    let x = track_x + tick as f32 * TICK_STEP_MM;
                    shapes.push(Shape::Line {
                        from: (x, top + 0.5),
                        to: (x, top + height - 0.5),
                        width: 0.35,
                        paint: lane.paint(),
                    });
                }
            }
        }
        y += PITCH;
    }
    // The time axis: a tick per label step, the date under it.
    let axis = y - 1.0;
    shapes.push(Shape::Line {
        from: (track_x, axis),
        to: (track_x + track, axis),
        width: 0.25,
        paint: Paint::Axis,
    });
    let days = span / 86_400.0;
    let step_days = [1, 2, 7, 14, 28, 61, 91, 182, 365]
        .into_iter()
        .find(|step| days / f64::from(*step) <= 6.0)
        .unwrap_or(730);
    let format = if days <= 92.0 { "%d %b" } else { "%b %Y" };
    let mut day = 0;
    while f64::from(day) <= days {
        let when = Timestamp(period.start.0 + chrono::Duration::days(i64::from(day)));
        let x = at(when);
        shapes.push(Shape::Line {
            from: (x, axis),
            to: (x, axis + 1.0),
            width: 0.25,
            paint: Paint::Axis,
        });
        shapes.push(text(
            x,
            axis + 3.5,
            SMALL_SIZE,
            false,
            Anchor::Middle,
            Paint::MutedText,
            when.0.format(format).to_string(),
        ));
        day += step_days;
    }
    axis + 5.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::demo_model as demo;

    fn texts(figure: &Figure) -> Vec<&str> {
        figure
            .shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn one_bar_per_summary_row_and_segments_fill_the_track() {
        let model = demo();
        let figure = Figure::summary(&model, 273.0);
        assert_eq!(figure.bars(), model.summary.len());
        let labels = texts(&figure);
        for summary in &model.summary {
            assert!(labels.contains(&bar_label(summary).as_str()));
        }
        // Each bar's segments add up to its track.
        let rects: Vec<(f32, f32, f32, Paint)> = figure
            .shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Rect {
                    y, width, paint, x, ..
                } if *x >= 46.0 && *x < 273.0 * 0.46 => Some((*x, *y, *width, *paint)),
                _ => None,
            })
            .collect();
        for (_, y, track, _) in rects.iter().filter(|r| r.3 == Paint::BarTrack) {
            let filled: f32 = rects
                .iter()
                .filter(|r| r.1 == *y && matches!(r.3, Paint::Status(_)))
                .map(|r| r.2)
                .sum();
            assert!(
                filled == 0.0 || (filled - track).abs() < 0.01,
                "{filled} {track}"
            );
        }
    }

    #[test]
    fn failed_calls_have_their_own_grey_lane_never_the_weakening_one() {
        let model = demo();
        let failed = model.changes.iter().filter(|c| !c.took_effect()).count();
        assert!(failed > 0, "the demo has failed calls");
        let figure = Figure::summary(&model, 273.0);
        let labels = texts(&figure);
        assert!(labels.contains(&format!("Failed calls (no change) ({failed})").as_str()));
        let weakening = model
            .changes
            .iter()
            .filter(|c| c.took_effect() && c.classification == ChangeClass::Weakening)
            .count();
        assert!(labels.contains(&format!("Weakening changes applied ({weakening})").as_str()));
        assert!(figure.shapes.iter().any(|s| matches!(
            s,
            Shape::Line {
                paint: Paint::FailedCall,
                ..
            }
        )));
        assert!(figure.shapes.iter().any(|s| matches!(
            s,
            Shape::Rect {
                paint: Paint::LoggingGap,
                ..
            }
        )));
    }

    #[test]
    fn ticks_stay_bounded_for_a_huge_register() {
        let mut model = demo();
        let template = model.changes[0].clone();
        let start = model.period.start.0;
        model.changes = (0..100_000)
            .map(|i| {
                let mut change = template.clone();
                change.event_time = Timestamp(start + chrono::Duration::seconds(i * 25));
                change
            })
            .collect();
        let figure = Figure::summary(&model, 273.0);
        let lines = figure
            .shapes
            .iter()
            .filter(|s| matches!(s, Shape::Line { .. }))
            .count();
        assert!(lines < 1000, "{lines} lines");
        assert_eq!(figure, Figure::summary(&model, 273.0), "deterministic");
    }
}
