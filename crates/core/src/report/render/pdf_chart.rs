//! Draws a [`Figure`] on a PDF page with vector operations (rectangles, lines, text in the
//! embedded font), at the layout's current position.

use super::chart::{Anchor, Figure, Paint, Shape};
use super::pdf_layout::{Colour, Layout};

const PT_TO_MM: f32 = 0.352_778;

fn colour(paint: Paint) -> Colour {
    let (r, g, b) = paint.rgb();
    (
        f32::from(r) / 255.0,
        f32::from(g) / 255.0,
        f32::from(b) / 255.0,
    )
}

/// Draws `figure` below what the page holds so far (on the next page if it does not fit).
pub fn draw(layout: &mut Layout, figure: &Figure) {
    let (left, top) = layout.reserve(figure.height + 2.0);
    for shape in &figure.shapes {
        match shape {
            Shape::Rect {
                x,
                y,
                width,
                height,
                paint,
            } => layout.fill_rect(left + x, top + y, *width, *height, colour(*paint)),
            Shape::Line {
                from,
                to,
                width,
                paint,
            } => layout.segment(
                (left + from.0, top + from.1),
                (left + to.0, top + to.1),
                colour(*paint),
                width / PT_TO_MM,
            ),
            Shape::Text {
                x,
                baseline,
                size,
                bold,
                anchor,
                paint,
                text,
            } => {
                let shown = crate::report::format::visible(text);
                let x = match anchor {
                    Anchor::Start => *x,
                    Anchor::Middle => x - layout.text_width(&shown, *size, *bold) / 2.0,
                    Anchor::End => x - layout.text_width(&shown, *size, *bold),
                };
                // `text_at` places a line by its top; its baseline is 0.9 em below.
                let text_top = baseline - size * 0.9 * PT_TO_MM;
                layout.text_at(
                    left + x,
                    top + text_top,
                    *size,
                    *bold,
                    colour(*paint),
                    &shown,
                );
            }
        }
    }
}
